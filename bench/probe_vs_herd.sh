#!/usr/bin/env bash
# probe_vs_herd.sh — herd's live condvar and accept herds beside the minimal probes
# (bench/probe_condvar.c, bench/probe_accept.c: two timestamps, nothing read in between)
# at the same N and events, in one run, alternating which goes first, repeated.
#
# Prints for signal/broadcast and epoll-exclusive/epoll the median over repetitions of
# each side's p50 and p99, each side's naive/mitigated p50 ratio, and a verdict against
# the issue's acceptance bounds:
#   herd's mitigated p50 (signal, epoll-exclusive) <= 1.5 x the probe's, and
#   herd's naive/mitigated p50 ratio within 2x of the probe's (either way).
# Beside each repetition: the share of the 2 CPUs busy (and stolen by the hypervisor)
# in the second before it, from /proc/stat, i.e. how noisy the shared machine was.
# (loadavg is no use here: a naive herd puts 1,000 runnable threads into it.)
#
# Usage: bench/probe_vs_herd.sh [build-dir] [-n N] [--events E] [--reps R]
#        defaults: build, -n 1000, --events 200, --reps 5. Builds nothing; needs jq.
# Exit: 0 when every bound holds, 1 when one does not, 2 on a usage or run error.
set -u
build=build
n=1000
events=200
reps=5
while [[ $# -gt 0 ]]; do
    case $1 in
    -n) n=$2; shift 2 ;;
    -e | --events) events=$2; shift 2 ;;
    -r | --reps) reps=$2; shift 2 ;;
    -h | --help) sed -n '2,18p' "$0"; exit 0 ;;
    -*) echo "probe_vs_herd: unknown option $1" >&2; exit 2 ;;
    *) build=$1; shift ;;
    esac
done
for p in herd probe_condvar probe_accept; do
    [[ -x $build/$p ]] || { echo "probe_vs_herd: no $build/$p (ninja -C $build $p)" >&2; exit 2; }
done
command -v jq >/dev/null || { echo "probe_vs_herd: needs jq" >&2; exit 2; }

# busy% steal% of all CPUs over the next second
noise() {
    local a b
    read -r _ a < <(head -1 /proc/stat)
    sleep 1
    read -r _ b < <(head -1 /proc/stat)
    awk -v a="$a" -v b="$b" 'BEGIN {
        split(a, x, " "); split(b, y, " "); t = 0
        for (i = 1; i <= 8; i++) { d[i] = y[i] - x[i]; t += d[i] }
        if (t <= 0) t = 1
        printf "%.0f %.0f", 100 * (t - d[4] - d[5]) / t, 100 * d[8] / t }'
}

# One side of one scenario: prints "naive_p50 naive_p99 mitig_p50 mitig_p99" in ns.
probe_side() {
    local out
    out=$("$build/probe_$1" -n "$n" --events "$events" --json) || return 1
    grep '^{' <<<"$out" | jq -r '"\(.naive.p50_ns) \(.naive.p99_ns) \(.mitigated.p50_ns) \(.mitigated.p99_ns)"'
}
herd_side() {
    local out
    out=$("$build/herd" run "$1" -n "$n" --events "$events" --runs 1 --mode both --format json -q) || return 1
    jq -r '[.runs[] | {mode, p50: .latency_ns.p50, p99: .latency_ns.p99}] |
           (map(select(.mode == "naive"))[0]) as $a | (map(select(.mode != "naive"))[0]) as $b |
           "\($a.p50) \($a.p99) \($b.p50) \($b.p99)"' <<<"$out"
}

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
echo "probe vs herd: n=$n events=$events reps=$reps, $(nproc) CPUs, kernel $(uname -r)"
echo "rep  busy% steal%  (the second before the rep; then the p50s in us: probe | herd)"
for ((r = 1; r <= reps; r++)); do
    read -r busy steal < <(noise)
    line="$(printf '%3d %6s %6s ' "$r" "$busy" "$steal")"
    for sc in condvar accept; do
        if ((r % 2)); then order="probe herd"; else order="herd probe"; fi
        for side in $order; do
            res=$("${side}_side" "$sc") || { echo "probe_vs_herd: $side $sc failed" >&2; exit 2; }
            echo "$res" >>"$tmp/$side.$sc"
        done
        last='{printf "%.0f/%.0f", $1 / 1e3, $3 / 1e3}'
        line+=" $(tail -1 "$tmp/probe.$sc" | awk "$last") | $(tail -1 "$tmp/herd.$sc" | awk "$last") ;"
    done
    echo "$line   (condvar broadcast/signal ; accept epoll/exclusive)"
done

# Median of column $2 of file $1.
med() { awk -v c="$2" '{print $c}' "$1" | sort -g | awk '{v[NR] = $1} END {print v[int((NR + 1) / 2)]}'; }

fail=0
printf '\n%-10s %-16s %12s %12s %12s %12s\n' scenario strategy probe_p50_us herd_p50_us probe_p99_us herd_p99_us
for sc in condvar accept; do
    if [[ $sc == condvar ]]; then names=(broadcast signal); else names=(epoll epoll-exclusive); fi
    for k in 0 1; do
        c50=$((k * 2 + 1)); c99=$((k * 2 + 2))
        printf '%-10s %-16s %12.1f %12.1f %12.1f %12.1f\n' "$sc" "${names[$k]}" \
            "$(med "$tmp/probe.$sc" $c50 | awk '{print $1/1e3}')" \
            "$(med "$tmp/herd.$sc" $c50 | awk '{print $1/1e3}')" \
            "$(med "$tmp/probe.$sc" $c99 | awk '{print $1/1e3}')" \
            "$(med "$tmp/herd.$sc" $c99 | awk '{print $1/1e3}')"
    done
done
echo
for sc in condvar accept; do
    if [[ $sc == condvar ]]; then m=signal; else m=epoll-exclusive; fi
    pm=$(med "$tmp/probe.$sc" 3); hm=$(med "$tmp/herd.$sc" 3)
    pr=$(awk -v a="$(med "$tmp/probe.$sc" 1)" -v b="$pm" 'BEGIN {printf "%.2f", a / b}')
    hr=$(awk -v a="$(med "$tmp/herd.$sc" 1)" -v b="$hm" 'BEGIN {printf "%.2f", a / b}')
    v1=$(awk -v h="$hm" -v p="$pm" 'BEGIN {print (h <= 1.5 * p) ? "ok" : "FAIL"}')
    v2=$(awk -v h="$hr" -v p="$pr" 'BEGIN {print (h <= 2 * p && h >= p / 2) ? "ok" : "FAIL"}')
    printf '%-8s %-16s herd/probe p50 %.2fx (bound 1.5x): %-4s  naive/mitigated p50: probe %sx, herd %sx (bound 2x apart): %s\n' \
        "$sc" "$m" "$(awk -v h="$hm" -v p="$pm" 'BEGIN {print h / p}')" "$v1" "$pr" "$hr" "$v2"
    [[ $v1 == ok && $v2 == ok ]] || fail=1
done
if ((fail)); then echo "verdict: FAIL"; else echo "verdict: ok"; fi
exit $fail
