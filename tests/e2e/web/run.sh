#!/usr/bin/env bash
# Installs what the browser tests need (Debian's Chromium, the npm packages of package-lock.json)
# and runs them. Usage: tests/e2e/web/run.sh [mock|stack|all]   (default: all)
#   mock   web/ against mock_api.py (no backend needed)
#   stack  web/ against the local stack; starts it when none answers (START_STACK=1 is implied)
# Screenshots, axe reports and logs go to test-artifacts/web/.
set -euo pipefail
cd "$(dirname "$0")"
what="${1:-all}"

if [ ! -x "${CHROMIUM_PATH:-/usr/bin/chromium}" ]; then
  if [ "$(id -u)" = 0 ]; then
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium fonts-liberation fonts-dejavu-core >/dev/null
  else
    echo "Chromium missing: sudo apt-get install -y chromium fonts-dejavu-core" >&2
    exit 1
  fi
fi
command -v node >/dev/null || { echo "Node.js missing: apt-get install -y nodejs npm" >&2; exit 1; }
if [ ! -d node_modules/playwright-core ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  npm ci --no-audit --no-fund --loglevel=error
fi

status=0
case "$what" in
  mock) node --test mock.test.mjs || status=$? ;;
  stack) START_STACK=1 REQUIRE_STACK=1 node --test stack.test.mjs || status=$? ;;
  all)
    node --test mock.test.mjs || status=$?
    START_STACK=1 REQUIRE_STACK=1 node --test stack.test.mjs || status=$?
    ;;
  *) echo "usage: $0 [mock|stack|all]" >&2; exit 2 ;;
esac
exit "$status"
