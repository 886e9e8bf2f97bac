/* live.c — the live backend's front door: dispatch to the herds, the run's watch, and the
 * up-front check of the machine's limits (DESIGN §4). */
#include "live_int.h"

#include <errno.h>
#include <stdatomic.h>
#include <herd/error.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/sysinfo.h>
#include <unistd.h>

/* Each herd, from the list's LIVE column (scenario/list.h). */
static const struct herd_live_scenario *const live_table[HERD_SCENARIO_COUNT] = {
#define HERD__LIVE_ENTRY(name, NAME, live, sim)                                              \
    HERD__IF_##live([HERD_SC_##NAME] = &herd__live_##name, )
    HERD_SCENARIO_LIST(HERD__LIVE_ENTRY)
#undef HERD__LIVE_ENTRY
};

/*
 * The run in progress: one per process (run() refuses a second). Its watch is polled only
 * by the run's controlling thread (the one inside run()), at safe points: once between
 * events (herd__live_progress) and, at most every WATCH_EVERY_NS, in the waits that time
 * nothing (herd__live_poll: setup, drain, teardown). A "stop" is latched in an atomic that
 * every thread of the run reads (herd__live_stopping): a front end's poll may take a lock
 * and wake one of its threads (herd serve's does), which must not happen between a
 * trigger and the timestamp that ends its latency.
 */
static atomic_int busy;
static atomic_int stop_latched;
static const struct herd_watch *_Atomic run_watch;
static _Atomic int64_t run_t0, last_poll;
static _Atomic uint64_t run_events;

/* Often enough that a 100 ms wait slice still sees a stop within about 100 ms; rarely
 * enough that the front end's poll is no load next to a draining herd on 2 CPUs. */
#define WATCH_EVERY_NS (10 * 1000 * 1000)

bool herd__live_stopping(void)
{
    return atomic_load_explicit(&stop_latched, memory_order_relaxed) != 0;
}

/* Ask the watch now, with the events reported done, and latch its "stop". */
static bool poll_watch(int64_t now)
{
    const struct herd_watch *w = atomic_load_explicit(&run_watch, memory_order_acquire);
    atomic_store_explicit(&last_poll, now, memory_order_relaxed);
    if (w && herd_watch_stop(w, now - atomic_load_explicit(&run_t0, memory_order_relaxed),
                             atomic_load_explicit(&run_events, memory_order_relaxed)))
        atomic_store(&stop_latched, 1);
    return herd__live_stopping();
}

bool herd__live_progress(uint64_t events)
{
    atomic_store_explicit(&run_events, events, memory_order_relaxed);
    return poll_watch(herd__now_ns());
}

bool herd__live_poll(void)
{
    int64_t now = herd__now_ns();
    if (now - atomic_load_explicit(&last_poll, memory_order_relaxed) < WATCH_EVERY_NS)
        return herd__live_stopping();
    return poll_watch(now);
}

/* Take the process's live turn for a run watched by @p w. @return false when another
 * live run holds it. */
static bool begin_run(const struct herd_watch *w)
{
    int expect = 0;
    if (!atomic_compare_exchange_strong(&busy, &expect, 1))
        return false;
    atomic_store(&stop_latched, 0);
    atomic_store(&run_t0, herd__now_ns());
    atomic_store(&last_poll, 0);
    atomic_store(&run_events, 0);
    atomic_store_explicit(&run_watch, w, memory_order_release);
    return true;
}

static void end_run(void)
{
    atomic_store_explicit(&run_watch, NULL, memory_order_release);
    atomic_store(&busy, 0);
}

long herd__read_long(const char *path, long dflt)
{
    FILE *f = fopen(path, "re");
    long v;
    if (!f)
        return dflt;
    if (fscanf(f, "%ld", &v) != 1)
        v = dflt;
    fclose(f);
    return v;
}

/* Tasks that exist on the whole machine now (0 when unknown). */
static long machine_tasks(void)
{
    double load1;
    long running, total;
    return herd__read_loadavg(&load1, &running, &total) == 0 ? total : 0;
}

/* Stack of a waiter thread (herd__thread_spawn's default) plus the kernel's own. */
#define THREAD_COST_BYTES (128 * 1024 + 16 * 1024)
/* Headroom left for the rest of the machine: other users share pid_max. */
#define PID_HEADROOM 512

int herd__live_check_needs(const struct herd_live_needs *need, const char *what, char *err,
                           size_t errlen)
{
    struct rlimit rl;
    int64_t tasks = need->threads + need->processes;

    if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && need->fds > 0) {
        rlim_t want = (rlim_t)need->fds + 64;
        if (rl.rlim_cur < want && rl.rlim_max >= want) {
            rl.rlim_cur = want;
            setrlimit(RLIMIT_NOFILE, &rl);
        }
        if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < want) {
            snprintf(err, errlen,
                     "%s needs about %" PRId64 " open descriptors but RLIMIT_NOFILE allows %lu "
                     "(raise it with ulimit -n, or lower -n)",
                     what, need->fds + 64, (unsigned long)rl.rlim_cur);
            return -HERD_ELIMIT;
        }
    }
    long pid_max = herd__read_long("/proc/sys/kernel/pid_max", 32768);
    long threads_max = herd__read_long("/proc/sys/kernel/threads-max", 1L << 20);
    long existing = machine_tasks();
    long room = pid_max - existing - PID_HEADROOM;
    if (threads_max - existing - PID_HEADROOM < room)
        room = threads_max - existing - PID_HEADROOM;
    if (tasks > room) {
        snprintf(err, errlen,
                 "%s needs %" PRId64 " new tasks but this machine has room for %ld "
                 "(pid_max %ld, threads-max %ld, %ld tasks already running, %d kept spare)",
                 what, tasks, room < 0 ? 0 : room, pid_max, threads_max, existing,
                 PID_HEADROOM);
        return -HERD_ELIMIT;
    }
    if (getrlimit(RLIMIT_NPROC, &rl) == 0 && rl.rlim_cur != RLIM_INFINITY && geteuid() != 0 &&
        (rlim_t)(tasks + existing) > rl.rlim_cur) {
        snprintf(err, errlen, "%s needs %" PRId64 " new tasks but RLIMIT_NPROC is %lu", what,
                 tasks, (unsigned long)rl.rlim_cur);
        return -HERD_ELIMIT;
    }
    struct sysinfo si;
    if (sysinfo(&si) == 0) {
        double avail = (double)si.freeram * si.mem_unit + (double)si.bufferram * si.mem_unit;
        double want = (double)tasks * THREAD_COST_BYTES;
        if (want > avail * 0.5) {
            snprintf(err, errlen,
                     "%s needs about %.0f MiB for %" PRId64 " task stacks but only %.0f MiB "
                     "is free",
                     what, want / 1048576.0, tasks, avail / 1048576.0);
            return -HERD_ELIMIT;
        }
    }
    return 0;
}

static int check(const struct herd_run_spec *spec, char *err, size_t errlen)
{
    const struct herd_live_scenario *ls = live_table[spec->sc->id];
    struct herd_live_needs need = {0};
    char what[96];
    if (!ls || !herd_backend_supports(&herd_live_backend, spec->sc)) {
        snprintf(err, errlen, "scenario %s runs only on the simulator; allowed: sim",
                 spec->sc->name);
        return -HERD_EINVAL;
    }
    if (ls->check && ls->check(spec, err, errlen) < 0)
        return -HERD_EINVAL;
    ls->needs(spec, &need);
    snprintf(what, sizeof what, "-n %" PRId64 " (%s, live)", spec->n, spec->sc->name);
    return herd__live_check_needs(&need, what, err, errlen);
}

long herd_live_max_n(const struct herd_run_spec *spec)
{
    /* Bisect on N with the scenario's own needs: limits are monotone in N. */
    struct herd_run_spec s = *spec;
    char err[256];
    long lo = 0, hi = HERD_N_MAX;
    while (lo < hi) {
        long mid = lo + (hi - lo + 1) / 2;
        s.n = mid;
        if (check(&s, err, sizeof err) == 0)
            lo = mid;
        else
            hi = mid - 1;
    }
    return lo;
}

int herd__live_run_watched(const struct herd_run_spec *spec, const struct herd_watch *watch,
                           struct herd_report *r, char *err, size_t errlen)
{
    int rc = check(spec, err, errlen);
    if (rc < 0)
        return rc;
    if (!begin_run(watch)) {
        snprintf(err, errlen, "another live run is in progress in this process");
        return -HERD_EBUSY;
    }
    rc = herd_spec_report_init(r, spec, "live");
    if (rc < 0) {
        snprintf(err, errlen, "%s", herd_strerror(rc));
        end_run();
        return rc;
    }
    rc = live_table[spec->sc->id]->run(spec, r, err, errlen);
    if (rc == 0 && herd__live_stopping())
        rc = -HERD_EINTR;
    if (rc == -HERD_EINTR)
        snprintf(err, errlen, "interrupted; everything the run started was cleaned up");
    if (rc < 0)
        herd_report_fini(r);
    end_run();
    return rc;
}

static int run(const struct herd_run_spec *spec, const struct herd_run_env *env,
               struct herd_report *r, char *err, size_t errlen)
{
    return herd__live_run_watched(spec, env ? env->watch : NULL, r, err, errlen);
}

const struct herd_backend herd_live_backend = {
    .name = "live",
    .bit = HERD_BACKEND_LIVE,
    .check = check,
    .run = run,
};
