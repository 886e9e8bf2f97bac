#!/usr/bin/env bash
# run-go-compare.sh — herd's singleflight against Go's golang.org/x/sync/singleflight on
# the same hot-key join workload (bench/bench_singleflight.c and
# bench/go/singleflight_bench.go describe it), 1 and 2 threads, with the ratio.
# Issue 3's goal: herd at least 2x faster.
#
# Usage: bench/run-go-compare.sh [build-dir]     (default: build)
# Needs, for the Go side, Debian's packages only (no network, no modules):
#   apt-get install golang-go golang-golang-x-sync-dev
# Go is built in GOPATH mode against /usr/share/gocode (GO111MODULE=off, GOPROXY=off).
# Without Go it prints the herd figures and says why the Go side was skipped; exit 0.
set -u
here=$(cd "$(dirname "$0")" && pwd)
build=${1:-build}
gopath=/usr/share/gocode
herd_bin=$build/bench_singleflight

if [[ ! -x $herd_bin ]]; then
    if [[ -d $build ]] && command -v ninja >/dev/null; then
        ninja -C "$build" bench_singleflight >/dev/null || { echo "cannot build $herd_bin" >&2; exit 1; }
    else
        echo "no $herd_bin: configure first (meson setup $build)" >&2
        exit 1
    fi
fi

herd_out=$("$herd_bin") || { echo "bench_singleflight failed" >&2; exit 1; }

skip=""
if ! command -v go >/dev/null 2>&1; then
    skip="Go is not installed (apt-get install golang-go golang-golang-x-sync-dev)"
elif [[ ! -d $gopath/src/golang.org/x/sync/singleflight ]]; then
    skip="golang.org/x/sync is not in $gopath (apt-get install golang-golang-x-sync-dev)"
fi

go_out=""
if [[ -z $skip ]]; then
    tmp=$(mktemp -d /tmp/herd-go-compare.XXXXXX)
    trap 'rm -rf "$tmp"' EXIT
    if ! GO111MODULE=off GOPATH=$gopath GOPROXY=off GOFLAGS= GOCACHE=$tmp/cache \
        go build -o "$tmp/sfbench" "$here/go/singleflight_bench.go" 2>"$tmp/err"; then
        skip="the Go benchmark did not build: $(head -3 "$tmp/err" | tr '\n' ' ')"
    else
        go_out=$("$tmp/sfbench") || skip="the Go benchmark failed"
    fi
fi

figure() { # figure <output> <name> -> ns/op or empty
    awk -v n="$2" '$1 == n { print $2 }' <<<"$1"
}

echo "hot-key singleflight join (rounds of 64 callers on one key; ns per operation per worker)"
[[ -n $go_out ]] && grep '^# go' <<<"$go_out" | sed 's/^# /  /'
printf '  %-8s %10s %10s %8s\n' threads "herd ns/op" "Go ns/op" "Go/herd"
met=1
for t in 1 2; do
    h=$(figure "$herd_out" "singleflight_join_${t}t")
    g=$(figure "$go_out" "go_singleflight_join_${t}t")
    if [[ -n $g && -n $h ]]; then
        r=$(awk -v g="$g" -v h="$h" 'BEGIN { printf "%.1fx", g / h }')
        awk -v g="$g" -v h="$h" 'BEGIN { exit !(g >= 2 * h) }' || met=0
    else
        g="-"; r="-"
    fi
    printf '  %-8s %10s %10s %8s\n' "$t" "$h" "$g" "$r"
done
if [[ -n $skip ]]; then
    echo "SKIP Go side: $skip"
elif ((met)); then
    echo "goal (herd >= 2x faster than Go): met"
else
    echo "goal (herd >= 2x faster than Go): NOT met on this run (a loaded machine blurs it; rerun)"
fi
exit 0
