/* live.c — the live backend's front door: dispatch to the four herds, the stop
 * flag, and the up-front check of the machine's limits (DESIGN §4). */
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

static const struct herd_live_scenario *const live_table[] = {
    &herd__live_accept, &herd__live_condvar, &herd__live_cache, &herd__live_cron, NULL,
};

/* Written by a signal handler or by another thread (herd serve stopping), read by every
 * waiting loop of a run: a lock-free C11 atomic is both async-signal-safe and race-free,
 * where a volatile sig_atomic_t is only the former. */
static atomic_int stop_requested;

void herd_live_interrupt(void)
{
    atomic_store(&stop_requested, 1);
}

void herd_live_clear_interrupt(void)
{
    atomic_store(&stop_requested, 0);
}

bool herd__live_stopping(void)
{
    return atomic_load_explicit(&stop_requested, memory_order_relaxed) != 0;
}

static const struct herd_live_scenario *find(const char *name)
{
    for (int i = 0; live_table[i]; i++)
        if (strcmp(live_table[i]->name, name) == 0)
            return live_table[i];
    return NULL;
}

bool herd_live_supports(const char *scenario)
{
    return find(scenario) != NULL;
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

/* Tasks that exist on the whole machine now: the 4th field of /proc/loadavg is
 * "running/total". */
static long machine_tasks(void)
{
    FILE *f = fopen("/proc/loadavg", "re");
    long running = 0, total = 0;
    double a, b, c;
    if (!f)
        return 0;
    if (fscanf(f, "%lf %lf %lf %ld/%ld", &a, &b, &c, &running, &total) != 5)
        total = 0;
    fclose(f);
    return total;
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

static void describe(const struct herd_run_spec *spec, char *buf, size_t len)
{
    snprintf(buf, len, "-n %" PRId64 " (%s, live)", spec->n, spec->sc->name);
}

int herd_live_check(const struct herd_run_spec *spec, char *err, size_t errlen)
{
    const struct herd_live_scenario *ls = find(spec->sc->name);
    struct herd_live_needs need = {0};
    char what[96];
    if (!ls) {
        snprintf(err, errlen, "scenario '%s' has no live backend", spec->sc->name);
        return -HERD_EINVAL;
    }
    ls->needs(spec, &need);
    describe(spec, what, sizeof what);
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
        if (herd_live_check(&s, err, sizeof err) == 0)
            lo = mid;
        else
            hi = mid - 1;
    }
    return lo;
}

int herd_live_run(const struct herd_run_spec *spec, struct herd_report *r, char *err,
                  size_t errlen)
{
    const struct herd_live_scenario *ls = find(spec->sc->name);
    int rc;
    if (!ls) {
        snprintf(err, errlen, "scenario '%s' has no live backend", spec->sc->name);
        return -HERD_EINVAL;
    }
    rc = herd_live_check(spec, err, errlen);
    if (rc < 0)
        return rc;
    rc = herd_report_init(r, spec, "live");
    if (rc < 0) {
        snprintf(err, errlen, "%s", herd_strerror(rc));
        return rc;
    }
    int64_t t0 = herd__now_ns();
    rc = ls->run(spec, r, err, errlen);
    r->elapsed_ns = herd__now_ns() - t0;
    if (rc == 0 && herd__live_stopping())
        rc = -HERD_EINTR;
    if (rc == -HERD_EINTR)
        snprintf(err, errlen, "interrupted; everything the run started was cleaned up");
    return rc;
}
