#!/usr/bin/env bash
# bench_sweep_mpi.sh — wall time of herd sweeps run serially and with --mpi under
# `mpirun -np 2` (DESIGN §5: one simulation per core, parallelism across runs), and the
# speedup. Figures, not a test: nothing passes or fails.
#
# Two sweeps:
#   aws    backoff-occ --n 10:190:20 --mitigation all --runs 50: the AWS 2015 study's
#          table, 2,500 runs of 0.45 ms on average (per-run messages and the launch show)
#   large  backoff-occ --n 500:2500:500 --mitigation all --runs 8: 200 runs of 2 to 270 ms
# Each is timed end to end (mpirun's start and the ranks' MPI setup included), median of
# REPEATS (default 3); a sweep of two one-event runs under mpirun is shown as the launch
# cost (mpirun, MPI_Init and MPI_Finalize on every rank).
# The MPI table is compared with the serial one (byte-identical, or the bench says so).
#
# Usage: bench/bench_sweep_mpi.sh [build-dir]       (default: build)
# Needs a herd built with MPI and Debian's openmpi-bin; otherwise it says why and exits 0.
set -u
build=${1:-build}
herd=$build/herd
REPEATS=${REPEATS:-3}
NP=${NP:-2}

if [[ ! -x $herd ]]; then
    echo "no $herd: build first (meson setup $build && ninja -C $build)" >&2
    exit 1
fi
if ! command -v mpirun >/dev/null; then
    echo "skipped: mpirun not found (apt-get install openmpi-bin)"
    exit 0
fi
if [[ $("$herd" sweep condvar --n 1:1:1 --backend live --mpi 2>&1) == *"built without MPI"* ]]; then
    echo "skipped: $herd was built without MPI (install libopenmpi-dev, reconfigure)"
    exit 0
fi
# As root OpenMPI wants both variables (or --allow-run-as-root); see tests/cli/test_sweep_mpi.sh.
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
oversub=()
((NP > $(nproc))) && oversub=(--oversubscribe)

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

median() { sort -g | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }

# seconds <output file> <command...>: wall time of one run, stdout to the file.
seconds() {
    local out=$1 t0 t1
    shift
    t0=$(date +%s%N)
    timeout 600 "$@" >"$out" 2>"$tmp/err" || { echo "failed: $*" >&2; cat "$tmp/err" >&2; return 1; }
    t1=$(date +%s%N)
    awk -v ns=$((t1 - t0)) 'BEGIN { printf "%.3f\n", ns / 1e9 }'
}

launch=$(for ((i = 0; i < REPEATS; i++)); do
    seconds /dev/null mpirun "${oversub[@]}" -np "$NP" "$herd" sweep condvar --backend sim \
        --n 1:1:1 --events 1 -q --mpi
done | median)
echo "machine: $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg); launch under mpirun -np $NP: $launch s"
printf '%-6s %6s %10s %10s %8s  %s\n' sweep runs serial_s "mpi${NP}_s" speedup identical

bench() {
    local name=$1
    shift
    local s m i ts=() tm=() runs same
    for ((i = 0; i < REPEATS; i++)); do
        ts+=("$(seconds "$tmp/serial" "$herd" sweep "$@" -q)") || return
        tm+=("$(seconds "$tmp/mpi" mpirun "${oversub[@]}" -np "$NP" "$herd" sweep "$@" -q --mpi)") || return
    done
    s=$(printf '%s\n' "${ts[@]}" | median)
    m=$(printf '%s\n' "${tm[@]}" | median)
    cmp -s "$tmp/serial" "$tmp/mpi" && same=yes || same=NO
    runs=$("$herd" sweep "$@" --mpi 2>&1 >/dev/null | sed -n 's/^herd: sweep over MPI: \([0-9]*\) runs.*/\1/p')
    printf '%-6s %6s %10s %10s %7.2fx  %s\n' "$name" "$runs" "$s" "$m" \
        "$(awk -v s="$s" -v m="$m" 'BEGIN { print s / m }')" "$same"
}

bench aws backoff-occ --n 10:190:20 --mitigation all --runs 50
bench large backoff-occ --n 500:2500:500 --mitigation all --runs 8
