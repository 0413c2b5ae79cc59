#!/usr/bin/env bash
# Publishes web/ (the static web client) to the stack's private WebBucket behind
# CloudFront (infra/operations.yaml), with a config.js written from the stack's outputs: the API
# URL is configuration, not code. Run by infra/deploy.sh after the stack is deployed; on its own:
#
#   STAGE=dev infra/deploy_web.sh
#
#   AWS_REGION       default ap-southeast-3
#   API_URL, WEB_BUCKET, WEB_DISTRIBUTION_ID, COGNITO_CLIENT_ID, COGNITO_DOMAIN   override the
#                    stack's outputs (COGNITO_DOMAIN: the hosted sign-in UI; the app client's
#                    callback and sign-out URL is the web URL, both set in infra/operations.yaml)
#   DRY_RUN=1        write build/web and print the upload commands instead of running them
set -euo pipefail
cd "$(dirname "$0")/.."

STAGE="${STAGE:-dev}"
REGION="${AWS_REGION:-ap-southeast-3}"
STACK="lapor-kbb-${STAGE}"
run() { if [ "${DRY_RUN:-}" = 1 ]; then printf '%q ' "$@"; echo; else "$@"; fi; }

outputs='[]'
if [ "${DRY_RUN:-}" = 1 ]; then
  outputs='[{"OutputKey": "EndpointURL", "OutputValue": "https://<api-id>.execute-api.'"$REGION"'.amazonaws.com/api/"},
            {"OutputKey": "WebBucketName", "OutputValue": "<WebBucketName>"},
            {"OutputKey": "WebUrl", "OutputValue": "https://<distribution>.cloudfront.net"},
            {"OutputKey": "CognitoClientId", "OutputValue": "<CognitoClientId>"},
            {"OutputKey": "CognitoDomain", "OutputValue": "https://lapor-kbb-'"$STAGE"'-<account>.auth.'"$REGION"'.amazoncognito.com"}]'
else
  outputs="$(aws cloudformation describe-stacks --region "$REGION" --stack-name "$STACK" \
             --query 'Stacks[0].Outputs' --output json)"
fi
out() { OUTPUTS="$outputs" python3 -c 'import json, os, sys
print(next((o["OutputValue"] for o in json.loads(os.environ["OUTPUTS"] or "[]") if o["OutputKey"] == sys.argv[1]), ""))' "$1"; }

API_URL="${API_URL:-$(out EndpointURL)}"
WEB_BUCKET="${WEB_BUCKET:-$(out WebBucketName)}"
WEB_DISTRIBUTION_ID="${WEB_DISTRIBUTION_ID:-$(out WebDistributionId)}"
COGNITO_CLIENT_ID="${COGNITO_CLIENT_ID:-$(out CognitoClientId)}"
COGNITO_DOMAIN="${COGNITO_DOMAIN:-$(out CognitoDomain)}"
WEB_URL="$(out WebUrl)"
: "${API_URL:?no EndpointURL output: set API_URL}"
: "${WEB_BUCKET:?no WebBucketName output: set WEB_BUCKET}"
if [ -z "${COGNITO_DOMAIN:-}" ]; then
  echo "warning: no CognitoDomain output and COGNITO_DOMAIN not set: staff sign-in will not work" >&2
fi

rm -rf build/web
mkdir -p build
cp -R web build/web
rm -f build/web/config.local.js build/web/README.md
API_URL="$API_URL" COGNITO_DOMAIN="${COGNITO_DOMAIN:-}" COGNITO_CLIENT_ID="$COGNITO_CLIENT_ID" WEB_URL="$WEB_URL" \
python3 - build/web/config.js <<'PY'
import json, os, sys
cfg = {"apiBase": os.environ["API_URL"].rstrip("/"),
       "auth": {"mode": "cognito", "domain": os.environ["COGNITO_DOMAIN"].rstrip("/"),
                "clientId": os.environ["COGNITO_CLIENT_ID"], "flow": "pkce",
                "scopes": "openid email profile", "tokenUse": "id"}}
if os.environ.get("WEB_URL"):  # exactly the app client's registered callback URL
    cfg["auth"]["redirectUri"] = os.environ["WEB_URL"].rstrip("/") + "/"
with open(sys.argv[1], "w") as f:  # no localConfig: the deployed site never asks for config.local.js
    f.write("// Written by infra/deploy_web.sh from the stack's outputs.\n")
    f.write(f"window.LAPOR_KBB_CONFIG = {json.dumps(cfg, indent=2)};\n")
PY

run aws s3 sync build/web "s3://${WEB_BUCKET}/" --region "$REGION" --delete --exclude config.js \
    --exclude manifest.webmanifest --cache-control "public, max-age=300"
# The manifest's type by name: the CLI's guess depends on its Python version.
run aws s3 cp build/web/manifest.webmanifest "s3://${WEB_BUCKET}/manifest.webmanifest" --region "$REGION" \
    --content-type "application/manifest+json" --cache-control "public, max-age=300"
run aws s3 cp build/web/config.js "s3://${WEB_BUCKET}/config.js" --region "$REGION" \
    --content-type "text/javascript; charset=utf-8" --cache-control "no-store"
if [ -n "$WEB_DISTRIBUTION_ID" ]; then
  run aws cloudfront create-invalidation --distribution-id "$WEB_DISTRIBUTION_ID" --paths "/*"
fi
echo "web client: ${WEB_URL:-https://<the WebUrl output>}/  (API ${API_URL}, which admits it through WEB_URL)"
