# tap.sh — what the command-line test scripts share (sourced, not run): the TAP counters,
# ok/nok, and a scratch directory removed on exit. `ok "what"`; `nok "what" [detail...]`
# (each detail becomes a "# " line). The script prints "1..$n" and exits $fails itself.
n=0
fails=0
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

ok() { n=$((n + 1)); echo "ok $n - $1"; }
nok() { n=$((n + 1)); fails=$((fails + 1)); echo "not ok $n - $1"; shift; for l in "$@"; do echo "# $l"; done; }
