#!/usr/bin/env bash
# `make deploy STAGE=dev|prod`: upload build/ (from `make package`) and create or update the stack
# lapor-kbb-$STAGE. For an operator with AWS credentials and the aws CLI v2.
#
#   DEPLOY_BUCKET   S3 bucket for the code artifacts (required; versioned, in the stack's region)
#   AWS_REGION      default ap-southeast-3 (Jakarta)
#   ALARM_EMAIL     operators' address for alarms (optional; confirm the email AWS sends)
#   DRY_RUN=1       print the commands instead of running them
set -euo pipefail
cd "$(dirname "$0")/.."

STAGE="${STAGE:-dev}"
REGION="${AWS_REGION:-ap-southeast-3}"
STACK="lapor-kbb-${STAGE}"
: "${DEPLOY_BUCKET:?set DEPLOY_BUCKET to the S3 bucket that holds deployment artifacts}"
BUILD="${BUILD_DIR:-build}"
[ -f "$BUILD/sam.json" ] && [ -f "$BUILD/deployment.zip" ] || { echo "run make package STAGE=$STAGE first" >&2; exit 2; }
grep -q "\"Default\": \"${STAGE}\"" "$BUILD/sam.json" || { echo "$BUILD/ was packaged for another stage: make package STAGE=$STAGE" >&2; exit 2; }

run() { if [ "${DRY_RUN:-}" = 1 ]; then printf '%q ' "$@"; echo; else "$@"; fi; }

PREFIX="lapor-kbb/${STAGE}/$(git rev-parse --short HEAD 2>/dev/null || date +%Y%m%d%H%M%S)"
run aws cloudformation package --region "$REGION" \
    --template-file "$BUILD/sam.json" --s3-bucket "$DEPLOY_BUCKET" --s3-prefix "$PREFIX" \
    --output-template-file "$BUILD/packaged.yaml"
run aws cloudformation deploy --region "$REGION" \
    --template-file "$BUILD/packaged.yaml" --stack-name "$STACK" \
    --capabilities CAPABILITY_IAM CAPABILITY_AUTO_EXPAND \
    --parameter-overrides "Stage=${STAGE}" ${ALARM_EMAIL:+"AlarmEmail=${ALARM_EMAIL}"} \
    --tags "app=lapor-kbb" "stage=${STAGE}" \
    --no-fail-on-empty-changeset
# The SNS SMS spend limit (account and region) has no CloudFormation resource: set it here from
# infra/stages.yaml (the template's SmsMonthlySpendUsd default). Past it SNS sends no SMS at all;
# the alarm lapor-kbb-<stage>-sms-spend fires at 80%. Raising it above USD 1 needs an AWS quota case.
SMS_LIMIT="$(python3 -c 'import json, sys; print(int(float(json.load(open(sys.argv[1]))["Parameters"]["SmsMonthlySpendUsd"]["Default"])))' "$BUILD/sam.json")"
run aws sns set-sms-attributes --region "$REGION" \
    --attributes "MonthlySpendLimit=${SMS_LIMIT},DefaultSMSType=Transactional"
run aws cloudformation describe-stacks --region "$REGION" --stack-name "$STACK" \
    --query "Stacks[0].Outputs" --output table
# The web client (web/) to its bucket behind CloudFront, config.js from the outputs (SKIP_WEB=1: not).
[ "${SKIP_WEB:-}" = 1 ] || STAGE="$STAGE" AWS_REGION="$REGION" infra/deploy_web.sh
