#!/usr/bin/env bash
# test_sweep_mpi.sh HERD — herd sweep --mpi under mpirun: the table (text and CSV) is
# byte-identical to the serial sweep's on 1, 2 and 3 ranks; progress comes from rank 0
# only; live is refused; a failure on any rank ends the whole job with one line and its
# exit code, never a hang (every mpirun is bounded by timeout 120). Prints TAP; skips
# with a reason when this herd was built without MPI or mpirun is missing.
set -u
herd=$1
. "$(dirname "${BASH_SOURCE[0]}")/tap.sh"

# A build without MPI refuses --mpi before looking at anything else; one with MPI gets as
# far as refusing live (neither starts MPI).
probe=$("$herd" sweep condvar --n 1:1:1 --backend live --mpi 2>&1)
if [[ $probe == *"built without MPI"* ]]; then
    echo "1..0 # SKIP this herd was built without MPI (meson found no OpenMPI; install libopenmpi-dev)"
    exit 0
fi
if ! command -v mpirun >/dev/null; then
    echo "1..0 # SKIP mpirun not found (install openmpi-bin)"
    exit 0
fi

# How mpirun runs here (Debian 12's OpenMPI 4.1.4, as root, a 2-core VM, no hostfile):
# - OpenMPI refuses to run as root unless told twice: these two variables (the same as
#   mpirun --allow-run-as-root, but they also cover a singleton run without mpirun).
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
# - --oversubscribe (below, for -np 3): more ranks than this machine's 2 slots (cores)
#   is refused without it (and, oversubscribed, OpenMPI makes waiting ranks yield).
# - Nothing else is needed here: all ranks are local, so mpirun forks them itself (ssh
#   is never used: no plm/rsh setting) and the shared-memory transport (btl vader) works. In
#   a container without ptrace rights, vader's single-copy transfers (CMA) can fail;
#   herd's messages are far below the size that uses them, and this guard costs nothing:
export OMPI_MCA_btl_vader_single_copy_mechanism=none
# - Keep mpirun's own help text per message (its aggregation has been seen to garble
#   an MPI_Abort banner into an ORTE_ERROR_LOG line on this machine).
export OMPI_MCA_orte_base_help_aggregate=0

# Under ASan (make test's second pass): OpenMPI keeps what MPI_Init, MPI_Finalize and the
# threads they start allocate to the end of the process, partly in components it has
# unloaded by then (frames LSan cannot name). Those leaks are suppressed by the frames
# below them, which full unwinding provides; a leak in herd's own code still counts.
printf 'leak:%s\n' PMPI_Init ompi_mpi_init PMPI_Finalize ompi_mpi_finalize orte_init \
    libopen-pal.so libopen-rte.so libmpi.so libpmix.so libevent libhwloc.so >"$tmp/lsan.supp"
export LSAN_OPTIONS=${LSAN_OPTIONS:+$LSAN_OPTIONS:}suppressions=$tmp/lsan.supp:print_suppressions=0
export ASAN_OPTIONS=${ASAN_OPTIONS:+$ASAN_OPTIONS:}fast_unwind_on_malloc=0

mpi() { timeout 120 mpirun "$@"; }

# same "description" serial-args... -- mpirun-args...: the serial sweep and the sweep
# under mpirun with --mpi print the same bytes on stdout.
same() {
    local what=$1
    shift
    local serial=() launch=()
    while [[ $1 != -- ]]; do serial+=("$1"); shift; done
    shift
    launch=("$@")
    "$herd" "${serial[@]}" -q >"$tmp/serial" 2>"$tmp/serial.err"
    local rs=$?
    "${launch[@]}" "$herd" "${serial[@]}" -q --mpi >"$tmp/mpi" 2>"$tmp/mpi.err"
    local rm=$?
    if [[ $rs -eq 0 && $rm -eq 0 && -s $tmp/serial ]] && cmp -s "$tmp/serial" "$tmp/mpi"; then
        ok "$what: byte-identical to the serial sweep ($(wc -l <"$tmp/serial") lines)"
    else
        nok "$what" "serial rc=$rs, mpi rc=$rm" "$(diff "$tmp/serial" "$tmp/mpi" | head -5)" \
            "$(head -5 "$tmp/mpi.err")"
    fi
}

occ=(sweep backoff-occ --n 10:90:20 --mitigation all --runs 4)
same "singleton (no mpirun)" "${occ[@]}" -- env
same "mpirun -np 2" "${occ[@]}" -- mpi -np 2
same "mpirun -np 3 --oversubscribe" "${occ[@]}" -- mpi -np 3 --oversubscribe
same "mpirun -np 2, csv" "${occ[@]}" --format csv -- mpi -np 2
same "mpirun -np 3, csv" "${occ[@]}" --format csv -- mpi -np 3 --oversubscribe
# A scenario file swept over one of its fields: every rank loads the file and makes the
# same versions (the checksum covers their hashes).
file=(sweep brooker-retry --vary faults.0.p=0,0.25,0.5 --mitigation all --runs 2)
same "mpirun -np 2, a scenario file --vary" "${file[@]}" -- mpi -np 2
# One run per point (no means) on another model, and more ranks than work items.
same "cron, one run per point, csv" sweep cron --n 1000:5000:2000 --seed 7 --format csv \
    -- mpi -np 2
same "3 ranks, 2 items" sweep condvar --backend sim --n 50:50:1 -- mpi -np 3 --oversubscribe

# Progress: one line per run, from rank 0 alone (4 x 5 strategies x 5 points = 100).
mpi -np 3 --oversubscribe "$herd" "${occ[@]}" --mpi >/dev/null 2>"$tmp/err"
rc=$?
lines=$(grep -c '^herd: \[[0-9]*/100\]' "$tmp/err")
starts=$(grep -c '^herd: sweep over MPI: 100 runs on 3 ranks$' "$tmp/err")
if [[ $rc -eq 0 && $lines -eq 100 && $starts -eq 1 ]]; then
    ok "progress on stderr: one line per run, from rank 0 only"
else
    nok "progress lines" "rc=$rc runs=$lines starts=$starts" "$(head -3 "$tmp/err")"
fi
mpi -np 2 "$herd" "${occ[@]}" --mpi -q >/dev/null 2>"$tmp/err"
[[ $? -eq 0 && ! -s $tmp/err ]] && ok "-q: nothing on stderr from any rank" ||
    nok "-q stderr" "$(head -3 "$tmp/err")"

# Live stays on one machine.
out=$("$herd" sweep condvar --n 10:30:10 --backend live --mpi 2>&1 >/dev/null)
rc=$?
if [[ $rc -eq 2 && $(printf '%s\n' "$out" | wc -l) -eq 1 && $out == *"--mpi: only --backend sim"* ]]; then
    ok "--mpi --backend live: exit 2, one line"
else
    nok "--mpi --backend live" "rc=$rc out=$out"
fi
out=$(mpi -np 2 "$herd" sweep condvar --n 10:30:10 --backend live --mpi 2>&1 >/dev/null)
rc=$?
[[ $rc -eq 2 && $out == *"--mpi: only --backend sim"* ]] &&
    ok "--mpi --backend live under mpirun: exit 2" || nok "live under mpirun" "rc=$rc" "$out"

# fails "description" rc needle min_s max_s mpirun-args... -- herd-args...: the job ends
# with exit rc within max_s seconds, the line holding needle printed exactly once.
fails() {
    local what=$1 want=$2 needle=$3 max=$4
    shift 4
    local launch=()
    while [[ $1 != -- ]]; do launch+=("$1"); shift; done
    shift
    local t0 t1 rc count
    t0=$(date +%s%N)
    mpi "${launch[@]}" "$herd" "$@" --mpi >"$tmp/out" 2>"$tmp/err"
    rc=$?
    t1=$(date +%s%N)
    count=$(grep -cF -- "$needle" "$tmp/err")
    local ms=$(((t1 - t0) / 1000000))
    if [[ $rc -eq $want && $count -eq 1 && ! -s $tmp/out && $ms -lt $((max * 1000)) ]]; then
        ok "$what: exit $want in $ms ms, one line, no table"
    else
        nok "$what" "rc=$rc (124: timed out) lines=$count ms=$ms" "$(head -5 "$tmp/err")"
    fi
}

# A setting refused while parsing: before MPI starts, on every rank.
fails "a bad --set under mpirun" 2 "--set bogus" 60 -np 2 -- \
    sweep backoff-occ --n 10:50:20 --set bogus=1
# A setting every run refuses (cap below base): found on whichever rank runs first;
# rank 0 prints it once and every rank exits 2.
fails "a run refused on the ranks" 2 "cap_ms (1) must be at least base_ms (100)" 60 \
    -np 3 --oversubscribe -- sweep backoff-occ --n 10:190:20 --runs 5 --set cap_ms=1 \
    --set base_ms=100 -q
# One run fails (no backoff at N = 100,000 would take too long) while another rank is in
# a run of about a minute (full jitter at the same N): the stop ends that run too.
fails "a failure stops a long run on another rank" 2 "N = 100000 clients on one row" 30 \
    -np 2 -- sweep backoff-occ --n 100000:100000:1 --mitigation full-jitter -q
sleep 0.3
left=$(pgrep -f -- "$herd sweep backoff-occ" | wc -l)
[[ $left -eq 0 ]] && ok "no rank left running" || nok "ranks left running: $left"

echo "1..$n"
exit $((fails > 0))
