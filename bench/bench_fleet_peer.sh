#!/usr/bin/env bash
# bench_fleet_peer.sh — issue 12's three-tier chain on herd's fleet simulator and in SimPy 3,
# side by side: events/s each, the ratio, and the figures both must agree on.
#
# The model: client fleet (closed, think 10 s, 1 s timeout, 4 attempts, full jitter) → api
# (256 workers) → cache (10^4 Zipf keys, TTL 5 s, singleflight) → db (16 workers), the db
# crashing at t = 4 s for 2 s (tests/sim/fleet_models.h fm_chain; its SimPy form is chain()
# in bench/peers/simpy_models.py, whose header says how they map and where they differ).
# Size: N = 10,000 clients (SIMPY_N), 20 s of arrivals + 2 s of drain, so that SimPy takes
# about a second a run; bench_fleet_chain itself runs N = 10^5.
#
# Events: MODEL events, the ones herd's engine dispatches for the model (its
# events_dispatched), counted in SimPy at the same logical points under herd's kind names
# (both sides print them by kind: "events by kind per call" below). SimPy's own scheduled
# events (process starts, resource requests, every attempt's timeout) are shown in
# parentheses. Time: this process's CPU time (per core, as bench_fleet_chain reports, and
# steadier than wall time on a shared machine): herd's is herd_sim_fleet's, setup
# included, over as many seeds as fill 1 s of wall time (bench_fleet_chain --peer);
# SimPy's is env.run()'s alone. Both sides run one after the other, never at once.
# Agreement: per run, client attempts per call, the share of calls that succeed, the
# cache's hit ratio and db attempts per call; herd's mean over its runs against SimPy's
# over REPEATS seeds, z = difference / (herd's per-run sd x sqrt(1/herd runs + 1/REPEATS));
# |z| < 3 on every figure: "agree".
#
# Usage: bench/bench_fleet_peer.sh [build-dir]        (default: build)
# Needs Debian's python3-simpy3 (apt-get install python3-simpy3), run with /usr/bin/python3.
# Without SimPy it prints herd's figures and says why the SimPy side was skipped; exit 0.
set -u
here=$(cd "$(dirname "$0")" && pwd)
build=${1:-build}
bench=$build/bench_fleet_chain
py=/usr/bin/python3
peer=$here/peers/simpy_models.py
REPEATS=${REPEATS:-3}
N=${SIMPY_N:-10000}
SECS=${SIMPY_SECONDS:-20}

if [[ ! -x $bench ]]; then
    echo "no $bench: build first (meson setup $build && ninja -C $build bench_fleet_chain)" >&2
    exit 1
fi

skip=""
if [[ ! -x $py ]]; then
    skip="no $py (apt-get install python3)"
elif ! $py -c 'import simpy' 2>/dev/null; then
    skip="SimPy is not installed for $py (apt-get install python3-simpy3)"
fi

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

median() { sort -g | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
val() { awk -v k="$1" '$1 == k { print $2; exit }' "$2"; }   # val KEY FILE
human() { awk -v v="$1" 'BEGIN { if (v >= 1e6) printf "%.2f M", v / 1e6; else printf "%.0f k", v / 1e3 }'; }

echo "machine: $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg); median of $REPEATS runs each"
echo "model: chain, N = $N clients, $SECS s of arrivals + 2 s drain, db crash at 4 s for 2 s"
[[ -z $skip ]] && echo "SimPy $($py -c 'import simpy; print(simpy.__version__)') on Python $($py -c 'import platform; print(platform.python_version())')"

# herd: REPEATS invocations (each many seeds), the median rate; figures from the first.
for ((i = 0; i < REPEATS; i++)); do
    "$bench" --peer "$N" "$SECS" 1 >"$tmp/herd.$i" || { echo "bench_fleet_chain --peer failed" >&2; exit 1; }
    val events_per_cpu_s "$tmp/herd.$i"
done | median >"$tmp/herd.rate"
h=$(cat "$tmp/herd.rate")
hf=$tmp/herd.0

# SimPy: seeds 1..REPEATS, the median rate; figures averaged over the seeds.
s="" si=""
if [[ -z $skip ]]; then
    for ((i = 1; i <= REPEATS; i++)); do
        "$py" "$peer" chain "$N" "$SECS" "$i" >"$tmp/simpy.$i" || { skip="simpy_models.py chain failed"; break; }
    done
fi
if [[ -z $skip ]]; then
    s=$(for ((i = 1; i <= REPEATS; i++)); do val model_events_per_cpu_s "$tmp/simpy.$i"; done | median)
    si=$(for ((i = 1; i <= REPEATS; i++)); do val simpy_events_per_cpu_s "$tmp/simpy.$i"; done | median)
fi

echo "events per CPU second (one core):"
printf '  %-30s %14s %14s %16s %9s\n' "" "herd events/s" "SimPy events/s" "(SimPy internal)" herd/SimPy
if [[ -n $s ]]; then
    printf '  %-30s %14s %14s %16s %9s\n' "chain N=$N" "$(human "$h")" "$(human "$s")" "($(human "$si"))" \
        "$(awk -v h="$h" -v s="$s" 'BEGIN { printf "%.0fx", h / s }')"
else
    printf '  %-30s %14s %14s %16s %9s\n' "chain N=$N" "$(human "$h")" - - -
fi
echo "  herd: $(val runs "$hf") seeds per invocation, $(val events "$hf") events a run"

if [[ -n $skip ]]; then
    echo "SKIP SimPy side: $skip"
    echo "herd's figures (mean over $(val runs "$hf") seeds, sd per run):"
    for k in attempts_per_call ok_share cache_hit_ratio db_attempts_per_call; do
        printf '  %-22s %.4f (sd %.4f)\n' "$k" "$(val $k "$hf")" "$(val ${k}_sd "$hf")"
    done
    exit 0
fi

echo "agreement (herd: mean of $(val runs "$hf") seeds; SimPy: mean of $REPEATS seeds):"
printf '  %-22s %10s %10s %10s %7s\n' figure herd SimPy "sd/run" z
agree=1
for k in attempts_per_call ok_share cache_hit_ratio db_attempts_per_call; do
    hm=$(val $k "$hf") hsd=$(val ${k}_sd "$hf") hr=$(val runs "$hf")
    sm=$(for ((i = 1; i <= REPEATS; i++)); do val $k "$tmp/simpy.$i"; done |
        awk '{ s += $1 } END { printf "%.6f", s / NR }')
    z=$(awk -v a="$hm" -v b="$sm" -v sd="$hsd" -v n="$hr" -v r="$REPEATS" \
        'BEGIN { se = sd * sqrt(1 / n + 1 / r); printf "%.1f", (se > 0 ? (b - a) / se : 0) }')
    awk -v z="$z" 'BEGIN { exit !(z < 3 && z > -3) }' || agree=0
    printf '  %-22s %10.4f %10.4f %10.4f %7s\n' "$k" "$hm" "$sm" "$hsd" "$z"
done
((agree)) && echo "  agree: |z| < 3 on every figure" || echo "  DISAGREE: some |z| >= 3"

echo "model events by kind per call (herd: seed 1; SimPy: seeds 1..$REPEATS):"
printf '  %-20s %8s %8s\n' kind herd SimPy
hc=$(val kind_run_calls "$hf")
sc=$(for ((i = 1; i <= REPEATS; i++)); do val calls "$tmp/simpy.$i"; done | awk '{ s += $1 } END { print s }')
for k in clients.fire fleet.arrive service.work_done cache.hit fleet.reply fleet.retry fleet.timeout fleet.fault; do
    hk=$(awk -v k="$k" '$1 == "kind" && $2 == k { print $3 }' "$hf")
    sk=$(cat "$tmp"/simpy.* | awk -v k="$k" '$1 == "kind" && $2 == k { s += $3 } END { print s + 0 }')
    printf '  %-20s %8.4f %8.4f\n' "$k" "$(awk -v a="${hk:-0}" -v c="$hc" 'BEGIN { print a / c }')" \
        "$(awk -v a="$sk" -v c="$sc" 'BEGIN { print a / c }')"
done
printf '  %-20s %8.4f %8.4f\n' "all" "$(awk -v c="$hc" '$1 == "kind" { e += $3 } END { print e / c }' "$hf")" \
    "$(cat "$tmp"/simpy.* | awk '$1 == "model_events" { e += $2 } $1 == "calls" { c += $2 } END { print e / c }')"
echo "  (herd's fleet.timeout includes its lazy per-edge timer's re-arms, ~1 per timeout span per edge)"
exit 0
