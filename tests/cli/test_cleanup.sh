#!/usr/bin/env bash
# test_cleanup.sh HERD — SIGINT in the middle of a live run: the run stops within a
# few seconds, exits 130, and leaves no process, thread or temporary file behind.
# SIGKILL, which no handler sees: the worker processes die with herd (PR_SET_PDEATHSIG),
# and the next run removes the temporary directory the killed one left.
# Prints TAP.
set -u
herd=$1
. "$(dirname "${BASH_SOURCE[0]}")/tap.sh"

# Runs get a private TMPDIR (the cache origin makes its database there), so other
# processes on a shared machine cannot change the count.
HERD_TMP=$(mktemp -d)
# Searchable by others, so that a PostgreSQL run as the postgres user (herd as root) puts
# its directory here too (else herd falls back to /tmp for it).
chmod 0711 "$HERD_TMP"
export TMPDIR=$HERD_TMP
tmp_count() { find "$HERD_TMP" -mindepth 1 -maxdepth 1 2>/dev/null | wc -l; }
# Processes working in the runs' TMPDIR: the servers herd starts (redis-server, postgres)
# run there, in their herd-svc-* directory.
svc_count() {
    local p k=0
    for p in /proc/[0-9]*; do
        [[ $(readlink "$p/cwd" 2>/dev/null) == "$HERD_TMP"/* ]] && ((k++))
    done
    echo "$k"
}
skip() { n=$((n + 1)); echo "ok $n - $1 # SKIP $2"; }
have_redis=0
command -v redis-server >/dev/null && have_redis=1

# interrupt "description" delay_s args...
interrupt() {
    local what=$1 delay=$2
    shift 2
    local before after pid rc t0 t1 left
    before=$(tmp_count)
    "$herd" "$@" -q >/dev/null 2>"$BATS_TMP/err" &
    pid=$!
    sleep "$delay"
    t0=$(date +%s%N)
    kill -INT "$pid"
    # The whole process group would get SIGINT from a terminal: children must not
    # die before the parent has reaped them, nor outlive it.
    wait "$pid"
    rc=$?
    t1=$(date +%s%N)
    sleep 0.3
    left=$(($(pgrep -f -- "$herd $1 $2" | wc -l) + $(svc_count)))
    after=$(tmp_count)
    if [[ $rc -eq 130 && $left -eq 0 && $after -le $before && $(((t1 - t0) / 1000000)) -lt 5000 ]]; then
        ok "$what: exit 130 in $(((t1 - t0) / 1000000)) ms, nothing left"
    else
        nok "$what" "rc=$rc processes-left=$left tmp-before=$before tmp-after=$after ms=$(((t1 - t0) / 1000000))" "$(cat "$BATS_TMP/err")"
    fi
}

# kill9 "description" args...: SIGKILL once the run has started its worker processes
# (accept, workers=process) or made its temporary directory (cache); then nothing of it
# may run, and one more short run must leave $TMPDIR as it was before both.
kill9() {
    local what=$1 pid kids=0 made=0 left after i
    shift
    local before
    before=$(tmp_count)
    "$herd" "$@" -q >/dev/null 2>"$BATS_TMP/err" &
    pid=$!
    for ((i = 0; i < 100; i++)); do
        kids=$(pgrep -P "$pid" | wc -l)
        made=$(($(tmp_count) - before))
        ((kids > 1 || made > 0)) && break
        sleep 0.05
    done
    sleep 0.3 # mid-run
    kill -KILL "$pid"
    wait "$pid" 2>/dev/null
    # PR_SET_PDEATHSIG sends each worker SIGKILL as herd dies: gone within moments.
    for ((i = 0; i < 50; i++)); do
        left=$(($(pgrep -f -- "$herd $1 $2" | wc -l) + $(svc_count)))
        ((left == 0)) && break
        sleep 0.1
    done
    if [[ $2 == lock || $2 == zk-lock || $* == *store=redis* ]]; then # the next start of a server removes the killed one's directory
        "$herd" run lock -n 2 --events 1 --runs 1 -q >/dev/null 2>>"$BATS_TMP/err"
    else
        "$herd" run cache -n 2 --events 1 --set rows=1000 -q >/dev/null 2>>"$BATS_TMP/err"
    fi
    after=$(tmp_count)
    if ((left == 0 && after <= before && (kids > 1 || made > 0))); then
        ok "$what: SIGKILL; workers seen $kids, gone; temporary directories $made, removed by the next run"
    else
        nok "$what" "workers-seen=$kids processes-left=$left tmp-made=$made tmp-before=$before tmp-after=$after" "$(cat "$BATS_TMP/err")"
    fi
}

BATS_TMP=$(mktemp -d -p /tmp)
trap 'rm -rf "$tmp" "$BATS_TMP" "$HERD_TMP"' EXIT

interrupt "accept threads" 1.5 run accept -n 300 --events 100000
interrupt "accept processes" 1.5 run accept -n 100 --events 100000 --set workers=process
interrupt "condvar" 1.0 run condvar -n 300 --events 100000
interrupt "cache" 2.0 run cache -n 50 --events 1000 --set rows=20000
interrupt "cron" 1.0 run cron -n 100 --events 100 --set period_ms=1000
kill9 "accept processes" run accept -n 100 --events 100000 --set workers=process
kill9 "cache" run cache -n 50 --events 1000 --set rows=20000
if ((have_redis)); then
    interrupt "lock on a private redis-server" 1.5 run lock -n 100 --events 1000 --set hold_us=5000
    kill9 "lock on a private redis-server" run lock -n 100 --events 1000 --set hold_us=5000
else
    skip "lock on a private redis-server" "redis-server is not installed"
fi
if ((have_redis)) && compgen -G "/usr/lib/postgresql/*/bin/initdb" >/dev/null; then
    interrupt "cache on a private PostgreSQL and Redis" 3.0 run cache -n 50 --events 1000 \
        --set origin=postgres --set store=redis --set period_us=5000
    kill9 "cache on a private PostgreSQL and Redis" run cache -n 50 --events 1000 \
        --set origin=postgres --set store=redis --set period_us=5000
else
    skip "cache on a private PostgreSQL and Redis" "redis-server or PostgreSQL is not installed"
fi
if ((have_redis)) && [[ -r /usr/share/java/zookeeper.jar ]] && command -v java >/dev/null; then
    interrupt "zk-lock on a private ZooKeeper" 4.0 run zk-lock -n 50 --events 50 --set hold_us=200000
    kill9 "zk-lock on a private ZooKeeper" run zk-lock -n 50 --events 50 --set hold_us=200000
else
    skip "zk-lock on a private ZooKeeper" "ZooKeeper (or redis-server) is not installed"
fi

echo "1..$n"
exit $((fails > 0))
