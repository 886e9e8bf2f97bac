#!/usr/bin/env bash
# run-e2e.sh — start `herd serve` on a free port, drive its page in Chromium, stop it; prints TAP.
#
#   tests/web/run-e2e.sh [HERD]        (HERD defaults to build/herd)
#
# The browser is Debian's /usr/bin/chromium (override with CHROMIUM=...), driven by
# playwright-core from web/node_modules (`npm ci` in web/); nothing is downloaded. Without
# chromium, node or web/node_modules the whole test is skipped with the reason (TAP 1..0 # SKIP).
# The server must print its URL (http://127.0.0.1:PORT/) within 15 s and stop cleanly
# (exit 0) within 5 s of SIGTERM; that last check is one more TAP line.
set -u

here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
herd=${1:-$root/build/herd}
chromium=${CHROMIUM:-/usr/bin/chromium}

skip() { echo "1..0 # SKIP $*"; exit 0; }
[[ -x $herd ]] || { echo "Bail out! no herd binary at $herd"; exit 1; }
[[ -x $chromium ]] || skip "no $chromium (apt-get install chromium)"
command -v node >/dev/null || skip "no node (apt-get install nodejs)"
[[ -d $root/web/node_modules/playwright-core ]] || skip "no web/node_modules (cd web && npm ci)"

tmp=$(mktemp -d "${TMPDIR:-/tmp}/herd-e2e.XXXXXX")
pid=
cleanup() {
    if [[ -n $pid ]] && kill -0 "$pid" 2>/dev/null; then
        kill -KILL "$pid" 2>/dev/null
        wait "$pid" 2>/dev/null
    fi
    rm -rf "$tmp"
}
trap cleanup EXIT

args=(serve --listen 127.0.0.1:0)
# Never let the server open a browser of its own during a test, if it can.
if timeout 5 "$herd" serve --help 2>&1 | grep -q -- '--no-browser'; then
    args+=(--no-browser)
fi
"$herd" "${args[@]}" >"$tmp/out" 2>"$tmp/err" &
pid=$!

url=
for _ in $(seq 150); do
    url=$(grep -hoE 'http://127\.0\.0\.1:[0-9]+/?' "$tmp/out" "$tmp/err" 2>/dev/null | head -n1)
    [[ -n $url ]] && break
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.1
done
if [[ -z $url ]]; then
    echo "Bail out! herd serve printed no URL within 15 s"
    sed 's/^/# serve: /' "$tmp/out" "$tmp/err"
    exit 1
fi
node "$here/e2e.mjs" "$url" >"$tmp/tap" 2>"$tmp/node-err"
rc=$?
# Print the e2e's TAP without its plan; ours comes last, after the shutdown check.
grep -vE '^1\.\.[0-9]+$' "$tmp/tap"
echo "# herd serve at $url"
sed 's/^/# node: /' "$tmp/node-err"
n=$(grep -cE '^(not )?ok [0-9]+' "$tmp/tap")

kill -TERM "$pid" 2>/dev/null
status=
for _ in $(seq 50); do
    if ! kill -0 "$pid" 2>/dev/null; then
        wait "$pid"
        status=$?
        pid=
        break
    fi
    sleep 0.1
done
n=$((n + 1))
if [[ $status == 0 ]]; then
    echo "ok $n - herd serve stops cleanly on SIGTERM"
else
    echo "not ok $n - herd serve stops cleanly on SIGTERM"
    echo "  # exit status: ${status:-still running after 5 s}"
    sed 's/^/  # serve: /' "$tmp/err" | tail -n 20
    rc=1
fi
echo "1..$n"
exit "$rc"
