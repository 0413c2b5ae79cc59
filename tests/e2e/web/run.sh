#!/usr/bin/env bash
# Installs what the browser tests need (Debian's Chromium, the npm packages of package-lock.json)
# and runs them against the real local stack. Usage: tests/e2e/web/run.sh [client|device|lighthouse|kinerja|all]
#   client      the staff and citizen flows, axe, 360 px, Cognito sign-in    (client.test.mjs)
#   device      a cheap phone: photos, offline drafts, the installable app   (device.test.mjs)
#   lighthouse  Lighthouse 12 scores and the form's transfer size           (lighthouse.test.mjs)
#   kinerja     the monthly scoreboard, objections, decisions, finalisation (kinerja.test.mjs)
#   all         the four (default)
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

# One local stack for every suite, on free ports with its own state dir, so it never collides with
# a developer's `make run` (8000/8080, .local/). API_BASE or LAPOR_API_PORT set: use that stack.
stack_pid=""
own_stack() {
  if [ -n "${API_BASE:-}" ] || [ -n "${LAPOR_API_PORT:-}" ]; then
    return
  fi
  read -r LAPOR_MOTO_PORT LAPOR_API_PORT LAPOR_SP4N_PORT LAPOR_WEB_PORT LAPOR_WHATSAPP_PORT < <(python3 -c '
import socket
socks = [socket.socket() for _ in range(5)]
for s in socks:
    s.bind(("127.0.0.1", 0))
print(*[s.getsockname()[1] for s in socks])')
  export LAPOR_MOTO_PORT LAPOR_API_PORT LAPOR_SP4N_PORT LAPOR_WEB_PORT LAPOR_WHATSAPP_PORT
  root="$(cd ../../.. && pwd)"
  LAPOR_STATE_DIR="${LAPOR_STATE_DIR:-$root/test-artifacts/web/stack-state}"
  rm -rf "$LAPOR_STATE_DIR"
  mkdir -p "$LAPOR_STATE_DIR" "$root/test-artifacts/web"
  export LAPOR_STATE_DIR
  # Every browser is one client (127.0.0.1): the per-client limits stay on but out of the way, as in
  # tests/e2e/support.py; tests/e2e/test_abuse_stack.py proves them.
  for scope in REPORTS ATTACHMENTS LOOKUPS STATS RECOVERY RECOVERY_SENDS SMS; do
    export "RATE_LIMIT_$scope=100000/600"
  done
  py="$root/.venv/bin/python"
  [ -x "$py" ] || py=python3
  echo "local stack: API :$LAPOR_API_PORT, web :$LAPOR_WEB_PORT, state $LAPOR_STATE_DIR" >&2
  (cd "$root" && exec setsid "$py" -m chalicelib.local.stack run) >"$root/test-artifacts/web/local-stack.log" 2>&1 &
  stack_pid=$!
  trap 'kill -TERM -- "-$stack_pid" 2>/dev/null; wait "$stack_pid" 2>/dev/null' EXIT
  if ! python3 - "$LAPOR_API_PORT" "$LAPOR_WEB_PORT" <<'PY'
import sys, time, urllib.request
api, web = sys.argv[1:3]
end = time.time() + 240
for url in (f"http://127.0.0.1:{api}/health", f"http://127.0.0.1:{web}/index.html"):
    while True:
        try:
            urllib.request.urlopen(url, timeout=2).close()
            break
        except Exception:
            if time.time() > end:
                sys.exit(f"the local stack did not answer {url}")
            time.sleep(0.5)
PY
  then
    tail -30 "$root/test-artifacts/web/local-stack.log" >&2
    exit 1
  fi
}

status=0
suites=()
case "$what" in
  client|device|lighthouse|kinerja) suites=("$what") ;;
  all) suites=(client device lighthouse kinerja) ;;
  *) echo "usage: $0 [client|device|lighthouse|kinerja|all]" >&2; exit 2 ;;
esac
own_stack
# The suites wait for the stack (START_STACK=1 would start one of their own if none answered).
for suite in "${suites[@]}"; do
  node --test "$suite.test.mjs" || status=$?
done
exit "$status"
