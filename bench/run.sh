#!/usr/bin/env bash
# Run every benchmark program of the build and print its figures. Benchmarks are
# programs that print numbers, not timed tests: nothing here passes or fails.
set -u
build=${1:-build}
here=$(cd "$(dirname "$0")" && pwd)
echo "machine: $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg), kernel $(uname -r)"
for b in "$build"/bench_*; do
    [[ -f $b && -x $b ]] || continue
    echo
    echo "== $(basename "$b")"
    "$b"
done
if [[ -x $here/run-go-compare.sh ]]; then
    echo
    echo "== singleflight: herd vs golang.org/x/sync/singleflight"
    bash "$here/run-go-compare.sh" "$build"
fi
if [[ -x $here/bench_sim_peer.sh ]]; then
    echo
    echo "== simulator: herd vs SimPy 3 on the same models"
    bash "$here/bench_sim_peer.sh" "$build"
fi
if [[ -x $here/bench_fleet_peer.sh && -x $build/bench_fleet_chain ]]; then
    echo
    echo "== fleet simulator: herd vs SimPy 3 on the three-tier chain (issue 12)"
    bash "$here/bench_fleet_peer.sh" "$build"
fi
if [[ -x $here/probe_vs_herd.sh && -x $build/probe_condvar && -x $build/probe_accept && -x $build/herd ]]; then
    echo
    echo "== live herds: herd run vs the minimal probes (bench/probe_*.c), N = 1,000"
    bash "$here/probe_vs_herd.sh" "$build" --reps 3 || true
fi
if [[ -x $here/bench_sweep_mpi.sh ]]; then
    echo
    echo "== herd sweep: serial vs --mpi under mpirun -np 2"
    bash "$here/bench_sweep_mpi.sh" "$build"
fi
