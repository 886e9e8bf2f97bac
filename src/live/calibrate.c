/* calibrate.c — measure this machine's herd costs with the live code (herd calibrate).
 *
 * Each figure of struct herd_profile comes from a real run here:
 *  - wasted_wake_ns: process CPU (user + system, getrusage) of the naive accept herd
 *    minus that of epoll-exclusive with the same N and events, divided by the extra
 *    wasted wakes the kernel counted. Setup (thread spawn, /proc reads) is the same in
 *    both and cancels out.
 *  - condvar_wake_ns: the same difference for condvar broadcast vs signal.
 *  - ctx_switch_ns: two threads bounce a byte over a pair of pipes; a round trip is two
 *    switches (each side blocks and is woken once).
 *  - mutex_handoff_ns: two threads take turns through a mutex and condition variable.
 *  - accept_ns: epoll-exclusive's p50 latency (connect start to accepted descriptor).
 *  - accept_herd_per_waiter_ns: (naive p50 - exclusive p50) / N: what each woken epoll
 *    waiter adds to the accept (see accept.c on why the accept waits for the herd).
 *  - condvar_ns: signal's p50 latency (enqueue to dequeued) with the same N.
 *  - condvar_herd_per_waiter_ns: (broadcast p50 - signal p50) / N: what each waiter a
 *    broadcast wakes adds before the item is taken (the FUTEX_WAKE loop over N waiters
 *    and the run queue it fills).
 *  - origin_query_ns: the cache herd's uncontended SQLite query (query_ms_alone).
 *  - accept_idle_ns, condvar_idle_ns: epoll-exclusive's and signal's p50 again at
 *    N = 2,000, minus the figure at N = 200: what ten times the idle threads add to a
 *    one-wake latency, which grows with log N here (herd_profile_one_wake). 0 when the
 *    machine cannot run 2,000 threads or the difference is not positive.
 *  - accept_herd_per_waiter_high_ns, condvar_herd_per_waiter_high_ns: the same two
 *    per-waiter figures from the naive and mitigated herds at N = 2,000; the models take
 *    the per-waiter cost at N in log N between the two (herd_profile_per_waiter).
 *  - accept_spread, condvar_spread: how much a one-wake latency (epoll-exclusive's,
 *    signal's, at N = 200) varies from one event to the next on this machine, as a
 *    log-sd from its p90 / p50 (spread_of()): the sim scales each event's one-wake costs
 *    by a log-normal factor of that spread (herd_sim_speed), so its p99 carries the
 *    machine's variation too.
 *  - accept_loop_spread, condvar_loop_spread: the same for the naive herds at N = 2,000,
 *    whose latency is nearly all wake loop: the sim's factor on the per-waiter cost.
 *    A spread not measured (N = 2,000 does not fit, or p90 <= p50) keeps its default.
 * Cost: about 5-10 s of wall time. Thread safety: one calibration at a time.
 */
#include "live_int.h"

#include <errno.h>
#include <math.h>
#include <herd/error.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <sys/utsname.h>
#include <time.h>
#include <unistd.h>

struct measured {
    int64_t cpu_ns;
    uint64_t wasted;
    int64_t p50_ns, p90_ns;
    double query_ms_alone;
};

/* A spec for scenario @p id with @p strategy (its enum: HERD_ACCEPT_EPOLL ..., which is
 * the strategy's index in the scenario's table) at N = @p n, the other settings default. */
static void spec_of(struct herd_run_spec *spec, enum herd_scenario_id id, int strategy, int64_t n)
{
    herd_spec_init(spec, herd_scenarios[id]);
    spec->n = n;
    herd_spec_use_index(spec, strategy);
}

/* One live run of scenario @p id with @p strategy at N = @p n, watched by @p watch. */
static int measure(enum herd_scenario_id id, int strategy, int64_t n, int64_t events,
                   struct measured *m, bool quiet, const struct herd_watch *watch, char *err,
                   size_t errlen)
{
    struct herd_run_spec spec;
    struct herd_report r;
    spec_of(&spec, id, strategy, n);
    spec.events = events;
    if (!quiet)
        fprintf(stderr, "herd: calibrate: %s %s, n=%lld ...\n", spec.sc->name,
                herd_spec_strategy(&spec), (long long)n);
    int64_t c0 = herd__own_cpu_ns();
    int rc = herd__live_run_watched(&spec, watch, &r, err, errlen);
    if (rc < 0)
        return rc;
    m->cpu_ns = herd__own_cpu_ns() - c0;
    m->wasted = r.wasted;
    m->p50_ns = herd_hist_quantile(&r.latency, 0.5);
    m->p90_ns = herd_hist_quantile(&r.latency, 0.9);
    m->query_ms_alone = 0;
    herd_report_get_extra(&r, "query_ms_alone", &m->query_ms_alone);
    herd_report_fini(&r);
    return 0;
}

/* ---- ping-pong micro-measurements ---------------------------------------------------- */

#define BOUNCES 20000

struct pong {
    int in, out; /* pipe ends */
    pthread_mutex_t mu;
    pthread_cond_t cv;
    int turn;
};

static void *pipe_echo(void *arg)
{
    struct pong *p = arg;
    char c;
    for (int i = 0; i < BOUNCES; i++) {
        if (read(p->in, &c, 1) != 1 || write(p->out, &c, 1) != 1)
            break;
    }
    return NULL;
}

static int64_t pipe_switch_ns(void)
{
    int a[2], b[2];
    if (pipe(a) < 0)
        return -1;
    if (pipe(b) < 0) {
        close(a[0]);
        close(a[1]);
        return -1;
    }
    struct pong p = {.in = a[0], .out = b[1]};
    pthread_t th;
    int64_t t0 = 0, dt = -1;
    if (herd__thread_spawn(&th, pipe_echo, &p, 0) == 0) {
        char c = 'x';
        t0 = herd__now_ns();
        int i;
        for (i = 0; i < BOUNCES; i++)
            if (write(a[1], &c, 1) != 1 || read(b[0], &c, 1) != 1)
                break;
        dt = herd__now_ns() - t0;
        if (i < BOUNCES) {
            close(a[1]); /* unblocks the echo thread */
            a[1] = -1;
            dt = -1;
        }
        pthread_join(th, NULL);
    }
    close(a[0]);
    if (a[1] >= 0)
        close(a[1]);
    close(b[0]);
    close(b[1]);
    return dt < 0 ? -1 : dt / (2 * BOUNCES);
}

static void *mutex_echo(void *arg)
{
    struct pong *p = arg;
    pthread_mutex_lock(&p->mu);
    for (int i = 0; i < BOUNCES; i++) {
        while (p->turn != 1)
            pthread_cond_wait(&p->cv, &p->mu);
        p->turn = 0;
        pthread_cond_signal(&p->cv);
    }
    pthread_mutex_unlock(&p->mu);
    return NULL;
}

static int64_t mutex_handoff_ns(void)
{
    struct pong p = {.turn = 0};
    pthread_t th;
    pthread_mutex_init(&p.mu, NULL);
    pthread_cond_init(&p.cv, NULL);
    int64_t dt = -1;
    if (herd__thread_spawn(&th, mutex_echo, &p, 0) == 0) {
        int64_t t0 = herd__now_ns();
        pthread_mutex_lock(&p.mu);
        for (int i = 0; i < BOUNCES; i++) {
            p.turn = 1;
            pthread_cond_signal(&p.cv);
            while (p.turn != 0)
                pthread_cond_wait(&p.cv, &p.mu);
        }
        pthread_mutex_unlock(&p.mu);
        dt = (herd__now_ns() - t0) / (2 * BOUNCES);
        pthread_join(th, NULL);
    }
    pthread_cond_destroy(&p.cv);
    pthread_mutex_destroy(&p.mu);
    return dt;
}

/* Can this machine run scenario @p id with @p strategy at N = @p n (threads, descriptors,
 * pid_max)? */
static bool fits(enum herd_scenario_id id, int strategy, int64_t n)
{
    struct herd_run_spec spec;
    char why[256];
    spec_of(&spec, id, strategy, n);
    return herd_live_backend.check(&spec, why, sizeof why) == 0;
}

/* The log-sd of a herd's latency from one event to the next, from its p90 / p50 (a
 * log-normal's p90 is exp(1.2816 sigma) times its median): the p90 of 60-80 events is
 * steadier than their p99, which is nearly their maximum. Capped at 1.5 (p90 = 6.8 x p50). */
static double spread_of(const struct measured *m)
{
    if (m->p50_ns <= 0 || m->p90_ns <= m->p50_ns)
        return 0;
    double s = log((double)m->p90_ns / (double)m->p50_ns) / 1.2816;
    return s < 1.5 ? s : 1.5;
}

static double per_wasted(const struct measured *naive, const struct measured *mit)
{
    double extra = (double)naive->wasted - (double)mit->wasted;
    double cpu = (double)(naive->cpu_ns - mit->cpu_ns);
    return extra > 0 && cpu > 0 ? cpu / extra : 0.0;
}

int herd_live_calibrate(struct herd_profile *p, bool quiet, const struct herd_watch *watch,
                        char *err, size_t errlen)
{
    struct measured an, ax, cn, cs, q, ax2 = {0}, cs2 = {0}, an2 = {0}, cn2 = {0};
    const int64_t n = HERD_PROFILE_N, n2 = HERD_PROFILE_N_HIGH;
    int rc;

    const enum herd_scenario_id acc = HERD_SC_ACCEPT, cvar = HERD_SC_CONDVAR;
    const int epoll = HERD_ACCEPT_EPOLL, excl = HERD_ACCEPT_EPOLL_EXCLUSIVE;
    const int bcast = HERD_CONDVAR_BROADCAST, sig = HERD_CONDVAR_SIGNAL;

    herd_profile_defaults(p);
    if ((rc = measure(acc, epoll, n, 60, &an, quiet, watch, err, errlen)) < 0 ||
        (rc = measure(acc, excl, n, 60, &ax, quiet, watch, err, errlen)) < 0 ||
        (rc = measure(cvar, bcast, n, 80, &cn, quiet, watch, err, errlen)) < 0 ||
        (rc = measure(cvar, sig, n, 80, &cs, quiet, watch, err, errlen)) < 0 ||
        (rc = measure(HERD_SC_CACHE, HERD_CACHE_SINGLEFLIGHT, 4, 1, &q, quiet, watch, err,
                      errlen)) < 0)
        return rc;
    /* Both strategies of a pair need the same threads and descriptors: one check. */
    if (fits(acc, excl, n2) &&
        ((rc = measure(acc, excl, n2, 60, &ax2, quiet, watch, err, errlen)) < 0 ||
         (rc = measure(acc, epoll, n2, 40, &an2, quiet, watch, err, errlen)) < 0))
        return rc;
    if (fits(cvar, sig, n2) &&
        ((rc = measure(cvar, sig, n2, 60, &cs2, quiet, watch, err, errlen)) < 0 ||
         (rc = measure(cvar, bcast, n2, 40, &cn2, quiet, watch, err, errlen)) < 0))
        return rc;

    double v;
    if ((v = per_wasted(&an, &ax)) > 0)
        p->wasted_wake_ns = v;
    if ((v = per_wasted(&cn, &cs)) > 0)
        p->condvar_wake_ns = v;
    int64_t sw = pipe_switch_ns(), mh = mutex_handoff_ns();
    if (sw > 0)
        p->ctx_switch_ns = (double)sw;
    if (mh > 0)
        p->mutex_handoff_ns = (double)mh;
    if (ax.p50_ns > 0)
        p->accept_ns = (double)ax.p50_ns;
    if (an.p50_ns > ax.p50_ns)
        p->accept_herd_per_waiter_ns = (double)(an.p50_ns - ax.p50_ns) / (double)n;
    if (cs.p50_ns > 0)
        p->condvar_ns = (double)cs.p50_ns;
    if (cn.p50_ns > cs.p50_ns)
        p->condvar_herd_per_waiter_ns = (double)(cn.p50_ns - cs.p50_ns) / (double)n;
    if (q.query_ms_alone > 0)
        p->origin_query_ns = q.query_ms_alone * 1e6;
    if (ax2.p50_ns > ax.p50_ns && ax.p50_ns > 0)
        p->accept_idle_ns = (double)(ax2.p50_ns - ax.p50_ns);
    if (cs2.p50_ns > cs.p50_ns && cs.p50_ns > 0)
        p->condvar_idle_ns = (double)(cs2.p50_ns - cs.p50_ns);
    if (an2.p50_ns > ax2.p50_ns && ax2.p50_ns > 0)
        p->accept_herd_per_waiter_high_ns = (double)(an2.p50_ns - ax2.p50_ns) / (double)n2;
    if (cn2.p50_ns > cs2.p50_ns && cs2.p50_ns > 0)
        p->condvar_herd_per_waiter_high_ns = (double)(cn2.p50_ns - cs2.p50_ns) / (double)n2;
    /* spread_of() is 0 when not measured (the N = 2,000 runs did not fit) or p90 <= p50:
     * the profile's default stays then. */
    if ((v = spread_of(&ax)) > 0)
        p->accept_spread = v;
    if ((v = spread_of(&cs)) > 0)
        p->condvar_spread = v;
    if ((v = spread_of(&an2)) > 0)
        p->accept_loop_spread = v;
    if ((v = spread_of(&cn2)) > 0)
        p->condvar_loop_spread = v;

    struct utsname u;
    p->cores = (int)sysconf(_SC_NPROCESSORS_ONLN);
    if (uname(&u) == 0)
        snprintf(p->kernel, sizeof p->kernel, "%.20s %.40s", u.sysname, u.release);
    p->measured_at = (int64_t)time(NULL);
    return herd_watch_stop(watch, 0, 0) ? -HERD_EINTR : 0;
}
