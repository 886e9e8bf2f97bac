#!/usr/bin/env bash
# Run the whole suite: every meson test of the normal build, then of a build with
# AddressSanitizer + UndefinedBehaviorSanitizer when a second build dir is given.
# Ends with one plain line "N passed, N failed" counting every test case (each TAP
# line of each Criterion or shell test), which CI reads.
set -uo pipefail
build=${1:-build}
asan=${2:-}
status=0

run_suite() { # dir label
    local dir=$1 label=$2
    echo "== $label: meson test -C $dir" >&2
    meson test -C "$dir" --print-errorlogs --num-processes 1 >&2 || status=1
    python3 scripts/count-tests.py "$dir/meson-logs/testlog.json" "$label" >>"$tally"
}

tally=$(mktemp)
trap 'rm -f "$tally"' EXIT

run_suite "$build" "normal"

if [[ -n "$asan" ]]; then
    if [[ ! -f "$asan/build.ninja" ]]; then
        meson setup "$asan" -Db_sanitize=address,undefined -Db_lundef=false \
            --buildtype=debug >/dev/null || status=1
    fi
    meson setup --reconfigure "$asan" >/dev/null && ninja -C "$asan" >&2 || status=1
    # Criterion forks each test; leak checks stay on, halt on the first UB report; an
    # allocation too large returns NULL as glibc's does, so the OOM paths are tested too.
    export ASAN_OPTIONS=detect_leaks=1:abort_on_error=0:halt_on_error=1:allocator_may_return_null=1
    export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
    run_suite "$asan" "asan+ubsan"
fi

python3 - "$tally" <<'PY'
import sys
p = f = 0
for line in open(sys.argv[1]):
    label, a, b = line.split()
    p += int(a); f += int(b)
    print(f"{label}: {a} passed, {b} failed", file=sys.stderr)
print(f"{p} passed, {f} failed")
sys.exit(0)
PY
fails=$(awk '{s+=$3} END {print s+0}' "$tally")
[[ $fails -eq 0 && $status -eq 0 ]]
