#!/usr/bin/env bash
# Installs what the browser tests need (Debian's Chromium, the npm packages of package-lock.json)
# and runs them. Usage: tests/e2e/web/run.sh [mock|stack|lighthouse|all]   (default: all)
#   mock   web/ against mock_api.py (no backend needed): the flows, then the phone/offline suite
#   lighthouse  Lighthouse 12 scores and the form's transfer size (also part of all)
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
if ! command -v node >/dev/null || ! command -v npm >/dev/null; then
  if [ "$(id -u)" = 0 ]; then
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq nodejs npm >/dev/null
  else
    echo "Node.js missing: sudo apt-get install -y nodejs npm" >&2
    exit 1
  fi
fi
if [ ! -d node_modules/playwright-core ] || [ ! -d node_modules/lighthouse ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  npm ci --no-audit --no-fund --loglevel=error
fi
# web/vendor/ (Leaflet) is committed; it must be the pinned npm package's files.
node vendor.mjs --check

# The stack suite starts a stack of its own on free ports with its own state dir, so it never
# collides with a developer's `make run` (8000/8080, .local/). API_BASE or LAPOR_API_PORT set:
# use that stack instead (started if it does not answer).
own_stack() {
  if [ -z "${API_BASE:-}" ] && [ -z "${LAPOR_API_PORT:-}" ]; then
    read -r LAPOR_MOTO_PORT LAPOR_API_PORT LAPOR_SP4N_PORT LAPOR_WEB_PORT < <(python3 -c '
import socket
socks = [socket.socket() for _ in range(4)]
for s in socks:
    s.bind(("127.0.0.1", 0))
print(*[s.getsockname()[1] for s in socks])')
    export LAPOR_MOTO_PORT LAPOR_API_PORT LAPOR_SP4N_PORT LAPOR_WEB_PORT
    LAPOR_STATE_DIR="${LAPOR_STATE_DIR:-$(cd ../../.. && pwd)/test-artifacts/web/stack-state}"
    rm -rf "$LAPOR_STATE_DIR"
    mkdir -p "$LAPOR_STATE_DIR"
    export LAPOR_STATE_DIR
    echo "stack suite: API :$LAPOR_API_PORT, web :$LAPOR_WEB_PORT, state $LAPOR_STATE_DIR" >&2
  fi
}

status=0
case "$what" in
  mock)
    node --test mock.test.mjs || status=$?
    node --test device.test.mjs || status=$?
    ;;
  lighthouse) node --test lighthouse.test.mjs || status=$? ;;
  stack) own_stack; START_STACK=1 REQUIRE_STACK=1 node --test stack.test.mjs || status=$? ;;
  all)
    node --test mock.test.mjs || status=$?
    node --test device.test.mjs || status=$?
    node --test lighthouse.test.mjs || status=$?
    own_stack
    START_STACK=1 REQUIRE_STACK=1 node --test stack.test.mjs || status=$?
    ;;
  *) echo "usage: $0 [mock|stack|lighthouse|all]" >&2; exit 2 ;;
esac
exit "$status"
