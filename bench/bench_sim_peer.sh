#!/usr/bin/env bash
# bench_sim_peer.sh — herd's simulator against SimPy 3 on the same models, with the ratio.
#
# Two of herd's sim presets, each also written the idiomatic SimPy way in
# bench/peers/simpy_models.py (its header says how each maps onto the preset):
#   queue        M/M/1 at rho = 0.7 (rate 1,400/s, exponential service of 500 us)
#   backoff-occ  Brooker's OCC race, full jitter, N = 1,000 clients, rounds back to back
# Each side reports MODEL events per second: the events the model needs whichever engine
# runs it (queue: an arrival and a completion per request; backoff-occ: four messages per
# attempt), which for herd is exactly its engine's events_dispatched. SimPy's own
# scheduled-event count (timeouts, process starts, resource requests) is shown too.
# herd's time is the simulation's own wall time as `herd run` reports it on stderr; SimPy's
# is env.run() alone. herd runs ~50x more simulated work than SimPy so both take about a
# second; events/s is a rate, and both models are stationary (the queue) or repeated
# identical rounds (backoff-occ), so the sizes do not favour either side. Median of
# REPEATS runs each. Issue 4's goal: herd >= 100x SimPy.
#
# Usage: bench/bench_sim_peer.sh [build-dir]       (default: build)
# Needs Debian's python3-simpy3 (apt-get install python3-simpy3), run with /usr/bin/python3.
# Without SimPy it prints herd's figures and says why the SimPy side was skipped; exit 0.
set -u
here=$(cd "$(dirname "$0")" && pwd)
build=${1:-build}
herd=$build/herd
py=/usr/bin/python3
peer=$here/peers/simpy_models.py
REPEATS=${REPEATS:-3}

if [[ ! -x $herd ]]; then
    echo "no $herd: build first (meson setup $build && ninja -C $build)" >&2
    exit 1
fi

skip=""
if [[ ! -x $py ]]; then
    skip="no $py (apt-get install python3)"
elif ! $py -c 'import simpy' 2>/dev/null; then
    skip="SimPy is not installed for $py (apt-get install python3-simpy3)"
fi

median() { sort -g | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }

# herd_once <herd run args...> -> "events wall_s" of one run (one mode)
herd_once() {
    local out err
    err=$(mktemp)
    out=$("$herd" run "$@" --backend sim --format json 2>"$err" | "$py" -c '
import json, sys
runs = json.load(sys.stdin)["runs"]
print(int(runs[-1]["extra"]["events_dispatched"]))') || { cat "$err" >&2; rm -f "$err"; return 1; }
    local wall
    wall=$(grep -o 'in [0-9.]* s of wall time' "$err" | tail -1 | awk '{ print $2 }')
    rm -f "$err"
    echo "$out $wall"
}

herd_rate() {
    local i r ev wall
    for ((i = 0; i < REPEATS; i++)); do
        r=$(herd_once "$@") || return 1
        read -r ev wall <<<"$r"
        awk -v e="$ev" -v w="$wall" 'BEGIN { if (w > 0) printf "%.0f\n", e / w }'
    done | median
}

# simpy_rate <model args...> -> "model_events_per_s simpy_events_per_s" (medians)
simpy_rate() {
    local i
    for ((i = 0; i < REPEATS; i++)); do
        "$py" "$peer" "$@" | awk '$1 == "model_events_per_s" { m = $2 } $1 == "simpy_events_per_s" { s = $2 } END { print m, s }'
    done >"$tmpf"
    echo "$(awk '{ print $1 }' "$tmpf" | median) $(awk '{ print $2 }' "$tmpf" | median)"
}

tmpf=$(mktemp)
trap 'rm -f "$tmpf"' EXIT

human() { awk -v v="$1" 'BEGIN { if (v >= 1e6) printf "%.2f M", v / 1e6; else printf "%.0f k", v / 1e3 }'; }

echo "machine: $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg); median of $REPEATS runs"
[[ -z $skip ]] && echo "SimPy $($py -c 'import simpy; print(simpy.__version__)') on Python $($py -c 'import platform; print(platform.python_version())')"
printf '  %-34s %14s %14s %16s %9s\n' model "herd events/s" "SimPy events/s" "(SimPy internal)" herd/SimPy

met=1
row() { # row <label> <herd rate> <simpy "model internal">
    local label=$1 h=$2 s=$3 sm si ratio
    read -r sm si <<<"$s"
    if [[ -n $sm ]]; then
        ratio=$(awk -v h="$h" -v s="$sm" 'BEGIN { printf "%.0fx", h / s }')
        awk -v h="$h" -v s="$sm" 'BEGIN { exit !(h >= 100 * s) }' || met=0
        printf '  %-34s %14s %14s %16s %9s\n' "$label" "$(human "$h")" "$(human "$sm")" "($(human "$si"))" "$ratio"
    else
        printf '  %-34s %14s %14s %16s %9s\n' "$label" "$(human "$h")" - - -
    fi
}

# queue, M/M/1: herd 7,000,000 requests, SimPy 140,000
h=$(herd_rate queue --mode naive --set rate=1400 --set servers=1 --set service=exp \
    --set service_us=500 --set duration_s=5000) || exit 1
s=""
[[ -z $skip ]] && s=$(simpy_rate mm1 1400 500 100)
row "queue M/M/1 rho=0.7" "$h" "$s"

# backoff-occ, full jitter, N = 1,000: herd 100 rounds, SimPy 5
h=$(herd_rate backoff-occ --mode mitigated --mitigation full-jitter -n 1000 --events 100) || exit 1
s=""
[[ -z $skip ]] && s=$(simpy_rate occ 1000 5)
row "backoff-occ full-jitter N=1000" "$h" "$s"

if [[ -n $skip ]]; then
    echo "SKIP SimPy side: $skip"
elif ((met)); then
    echo "goal (herd >= 100x SimPy): met"
else
    echo "goal (herd >= 100x SimPy): NOT met (see the ratios)"
fi
exit 0
