/* model_condvar.c — the condition-variable herd, simulated: N threads wait for one
 * queued item per event, on P cores.
 *
 * It mirrors src/live/condvar.c (read its header: the figures mean the same here).
 *
 * Mechanics of one event (all costs from the profile, see costs_of()):
 *   enqueue   the producer queues the item (latency starts) and, `post` ns later, makes
 *             its wake call on its own core: pthread_cond_broadcast / FUTEX_WAKE(all)
 *             takes every waiter, pthread_cond_signal / FUTEX_WAKE(1) the one at the
 *             head of the wait queue (the longest asleep: glibc and the futex queue are
 *             FIFO, so signal goes round the threads).
 *   wake      the wake call costs condvar_herd_per_waiter_ns per waiter it takes, and
 *             none of them runs before it is over: FUTEX_WAKE marks every waiter under
 *             the hash-bucket lock, then wakes them (wake_q). Then all are runnable and
 *             the producer's core is free.
 *   run       an idle core picks a runnable waiter after ctx_switch_ns (waking an idle
 *             CPU); a core whose waiter just went back to sleep picks the next at once.
 *             The pick is uniformly random among the runnable (the scheduler stream):
 *             after a broadcast the winner is whoever runs first.
 *   acquire   half a burst in, the waiter returns from the wait holding the mutex
 *             (pthread: one mutex acquisition) or tries one CAS on the item (futex):
 *             origin_load. The first finds the item and takes it (useful; latency ends);
 *             the others find nothing (wasted).
 *   sleep     half a burst later it is back in the wait (the mutex released inside it)
 *             and asleep: one voluntary switch (kernel_switches). It frees its core.
 * The resource is the CPU. The mutex is held only for the instructions between the
 * return from the wait and the unlock inside the next wait: live on 2 cores at
 * N = 1,000, kernel_switches equals wakes to 0.1 %, i.e. a woken waiter practically never
 * sleeps on the mutex, and the drain (enqueue to the last waiter asleep) is
 * N × condvar_wake_ns / cores, what a CPU-bound herd takes. So the model serialises the
 * acquisitions in time (each is one origin_load) without a hold time, and charges each
 * woken waiter condvar_wake_ns of CPU. (mutex_handoff_ns — a hand-off to a thread that
 * must first be woken — would make the drain N × mutex_handoff_ns, 2-3× what is measured.)
 * The futex primitive uses the same costs: live, its drain is the same within noise.
 *
 * Events are serial, as live: the next item is queued 1 ms (the live producer's
 * quiescence poll) after every woken waiter is asleep again.
 *
 * Figures (per event): wakes = waiters that returned from the wait, useful = items
 * dequeued, origin_load = mutex acquisitions / CAS attempts, peak = waiters the event
 * woke, latency = enqueue to dequeued (one value per event). extras: kernel_switches
 * (+ per-event median), drain_us_median, futex_woken (+ median, futex only), cpu_ns,
 * cores. Timeline: arrivals (enqueues) and wakes (returns from the wait).
 *
 * Cost: per waiter 16 bytes (last-woken event, items, run queue, wait queue) and 8 more
 * for a moment at the end (the spread); per event 24 bytes (drain, switches, woken).
 * Events: one wake call per item and two per woken waiter (acquire, sleep), plus a kick
 * per idle core: a broadcast at N = 10^6 is ~2·10^6 events (~15 M events/s here, 25 MB
 * at N = 10^6).
 * Thread safety: none; one run owns everything it touches.
 */
#include "model_condvar.h"

#include <herd/error.h>
#include <herd/rng.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "model_timeline.h"
#include "wake_costs.h"
#include "sim_int.h"

#define STREAM_SCHED ((uint64_t)1 << 32)
#define STREAM_SPEED ((uint64_t)2 << 32) /* herd_wake_costs_draw per event */
#define SETTLE_GAP_NS 1000000 /* live: quiescence is two /proc reads 1 ms apart */

struct cv {
    struct herd_sim sim;
    struct herd_report *r;
    int err; /* the first failure inside the simulation (a negated errno) */
    bool wake_all, futex;
    int32_t n;
    int64_t events;
    int cores;
    struct herd_wake_costs c;    /* this event's: base as herd_wake_costs_draw() varies it */
    struct herd_wake_costs base; /* from the profile (costs_of) */
    struct herd_wake_var var;
    struct herd_rng sched;

    /* per waiter (touched in wake order where possible: the run queue's random pick
     * makes every other access a cache miss at N = 10^6) */
    uint32_t *epoch;  /* last event (1-based) that woke it; 0: never */
    uint32_t *useful; /* items it dequeued */
    int32_t *rq;      /* runnable (unordered: the pick is random) */
    int32_t rq_len;
    int32_t *wq; /* wait queue, FIFO ring of asleep waiters */
    int32_t wq_head, wq_len;

    int busy, kicked;
    int64_t awake;     /* runnable or running */
    bool item;         /* an item is queued */
    int64_t item_ts;   /* its enqueue time */
    int64_t next_item; /* items queued so far */
    bool event_open;
    uint32_t epoch_now;
    uint64_t ev_wakes, ev_useful, ev_origin, ev_switches;
    uint32_t tile_useful[HERD_REPORT_WAITERS]; /* the first threads' items before the event */
    int64_t last_sleep;

    double *ev_drain, *ev_switch, *ev_woken; /* per event, for medians */
    uint64_t switches, futex_woken;
    double cpu_ns;
    struct herd_tl tl; /* series: arrivals, wakes */
};

static void ev_enqueue(struct herd_sim *sim, void *ctx, uint64_t arg);
static void ev_wake(struct herd_sim *sim, void *ctx, uint64_t arg);
static void ev_kick(struct herd_sim *sim, void *ctx, uint64_t arg);
static void ev_acquire(struct herd_sim *sim, void *ctx, uint64_t arg);
static void ev_sleep(struct herd_sim *sim, void *ctx, uint64_t arg);

/* Costs from the profile.
 *   per_waiter = condvar_herd_per_waiter_ns: (broadcast p50 - signal p50) / N, live,
 *                at N = 200 and 2,000 (_high_ns), taken at N in log N.
 *   burst      = condvar_wake_ns - per_waiter: condvar_wake_ns is the process CPU per
 *                wasted wake (broadcast - signal), the wake call's share included; the
 *                rest is the waiter's own. Floored at a fifth of condvar_wake_ns.
 *   dispatch   = ctx_switch_ns: a thread woken on an idle CPU.
 *   lead       = the post, condvar_ns - (per_waiter + dispatch + burst / 2): condvar_ns
 *                is signal's p50, which here is post + one wake + dispatch + half a burst;
 *                taken at this N with condvar_idle_ns (herd_profile_one_wake).
 * Each item varies them (herd_wake_costs_draw, wake_costs.h) by condvar_spread and
 * condvar_loop_spread.
 */
static struct herd_wake_costs costs_of(const struct herd_profile *p, int64_t n)
{
    struct herd_wake_costs c;
    double pw = herd_profile_per_waiter(p->condvar_herd_per_waiter_ns,
                                        p->condvar_herd_per_waiter_high_ns, n);
    double ww = p->condvar_wake_ns > 0 ? p->condvar_wake_ns : 0;
    double burst = ww - pw;
    if (burst < ww / 5)
        burst = ww / 5;
    c.per_waiter = llround(pw);
    c.half = llround(burst / 2);
    c.dispatch = p->ctx_switch_ns > 0 ? llround(p->ctx_switch_ns) : 0;
    double one = herd_profile_one_wake(p->condvar_ns, p->condvar_idle_ns, n);
    c.lead = llround(one) - c.per_waiter - c.dispatch - c.half;
    if (c.lead < 0)
        c.lead = 0;
    return c;
}

/* ---- cores --------------------------------------------------------------------- */

static void step(struct cv *v, int64_t dt, herd_sim_event_fn fn, uint64_t arg)
{
    v->cpu_ns += (double)dt;
    herd_sim_after(&v->sim, dt, fn, v, arg, NULL);
}

static void run_on_core(struct cv *v, int32_t w)
{
    v->ev_wakes++; /* it returns from the wait now */
    herd_tl_add(&v->tl, 1, v->sim.now_ns, 1);
    herd_sim_request(&v->sim, v->sim.now_ns, (uint64_t)w, 0, HERD_REQ_OK); /* --trace */
    step(v, v->c.half, ev_acquire, (uint64_t)w);
}

static int32_t pick(struct cv *v)
{
    uint32_t j = (uint32_t)herd_rng_below(&v->sched, (uint64_t)v->rq_len);
    int32_t w = v->rq[j];
    v->rq[j] = v->rq[--v->rq_len];
    return w;
}

/* A core's occupant leaves: it takes the next runnable waiter at once unless every
 * runnable one is spoken for by an idle core that is waking up for it. */
static void core_free(struct cv *v)
{
    if (v->rq_len > v->kicked && v->busy <= v->cores)
        run_on_core(v, pick(v));
    else
        v->busy--;
}

static void ev_kick(struct herd_sim *sim, void *ctx, uint64_t arg)
{
    struct cv *v = ctx;
    (void)sim;
    (void)arg;
    v->kicked--;
    if (v->rq_len > 0 && v->busy < v->cores) {
        v->busy++;
        run_on_core(v, pick(v));
    }
}

/* ---- the producer --------------------------------------------------------------- */

static void ev_enqueue(struct herd_sim *sim, void *ctx, uint64_t arg)
{
    struct cv *v = ctx;
    int64_t now = sim->now_ns;
    v->c = herd_wake_costs_draw(&v->base, &v->var);
    v->item = true;
    v->item_ts = now;
    v->next_item = (int64_t)arg + 1;
    v->event_open = true;
    herd_tl_add(&v->tl, 0, now, 1);
    /* The wake call: it takes its waiters off the wait queue now and holds the
     * producer's core until it has woken them all. */
    int64_t k = v->wake_all ? v->wq_len : v->wq_len > 0 ? 1 : 0;
    v->busy++;
    v->cpu_ns += (double)(k * v->c.per_waiter);
    herd_sim_after(sim, v->c.lead + k * v->c.per_waiter, ev_wake, v, (uint64_t)k, NULL);
}

static void ev_wake(struct herd_sim *sim, void *ctx, uint64_t arg)
{
    struct cv *v = ctx;
    int64_t k = (int64_t)arg;
    (void)sim;
    for (int64_t i = 0; i < k; i++) {
        int32_t w = v->wq[v->wq_head];
        v->wq_head = v->wq_head + 1 == v->n ? 0 : v->wq_head + 1;
        v->wq_len--;
        v->epoch[w] = v->epoch_now;
        v->rq[v->rq_len++] = w;
        v->awake++;
    }
    v->ev_woken[v->next_item - 1] = (double)k;
    v->futex_woken += (uint64_t)k;
    /* The producer goes back to user space and its core idles; idle cores wake up
     * for the runnable waiters. */
    v->busy--;
    while (v->busy + v->kicked < v->cores && v->kicked < v->rq_len) {
        v->kicked++;
        herd_sim_after(&v->sim, v->c.dispatch, ev_kick, v, 0, NULL);
    }
}

/* ---- a woken waiter ----------------------------------------------------------- */

/* Each thread's reaction, as live counts it: took the item (useful), returned from the
 * wait and found nothing (wasted), did not return (idle). Every woken thread returns once
 * per event here, so ev_wakes is also the distinct threads woken (peak). */
static void close_event(struct cv *v)
{
    int64_t e = v->next_item - 1;
    struct herd_report *r = v->r;
    struct herd_event ev = {.useful = v->ev_useful,
                            .wasted = v->ev_wakes - v->ev_useful,
                            .idle = (uint64_t)v->n - v->ev_wakes,
                            .origin_load = v->ev_origin,
                            .peak = v->ev_wakes};
    for (size_t w = 0; w < r->nwaiters; w++) {
        uint32_t got = v->useful[w] - v->tile_useful[w];
        v->tile_useful[w] = v->useful[w];
        herd_report_waiter(r, w,
                           got                              ? HERD_OUT_USEFUL
                           : v->epoch[w] == v->epoch_now ? HERD_OUT_WASTED
                                                            : HERD_OUT_IDLE);
    }
    int rc = herd_report_add_event(r, &ev);
    if (rc < 0) { /* out of memory: the run fails rather than lose an event */
        v->err = rc;
        herd_sim_stop(&v->sim);
        return;
    }
    v->ev_drain[e] = (double)(v->last_sleep - v->item_ts) / 1000.0;
    v->ev_switch[e] = (double)v->ev_switches;
    v->ev_wakes = v->ev_useful = v->ev_origin = v->ev_switches = 0;
    v->event_open = false;
    v->epoch_now++;
    if (v->next_item < v->events)
        herd_sim_after(&v->sim, SETTLE_GAP_NS, ev_enqueue, v, (uint64_t)v->next_item, NULL);
}

static void ev_acquire(struct herd_sim *sim, void *ctx, uint64_t arg)
{
    struct cv *v = ctx;
    int32_t w = (int32_t)arg;
    v->ev_origin++; /* the mutex re-acquired on return, or one CAS on the item */
    if (v->item) {
        v->item = false;
        v->useful[w]++;
        v->ev_useful++;
        herd_hist_record(&v->r->latency, sim->now_ns - v->item_ts);
    }
    step(v, v->c.half, ev_sleep, arg);
}

static void ev_sleep(struct herd_sim *sim, void *ctx, uint64_t arg)
{
    struct cv *v = ctx;
    int32_t w = (int32_t)arg;
    if (v->item) { /* the predicate is checked under the mutex before waiting */
        step(v, v->c.half, ev_acquire, arg);
        return;
    }
    int64_t tail = (int64_t)v->wq_head + v->wq_len;
    v->wq[tail >= v->n ? tail - v->n : tail] = w;
    v->wq_len++;
    v->awake--;
    v->ev_switches++;
    v->switches++;
    v->last_sleep = sim->now_ns;
    core_free(v);
    if (v->event_open && v->awake == 0 && !v->item)
        close_event(v);
}

/* ---- setup and report ----------------------------------------------------------- */

static void release(struct cv *v)
{
    free(v->epoch);
    free(v->useful);
    free(v->rq);
    free(v->wq);
    free(v->ev_drain);
    free(v->ev_switch);
    free(v->ev_woken);
    herd_tl_fini(&v->tl);
    herd_sim_fini(&v->sim);
}

static int alloc_all(struct cv *v)
{
    size_t n = (size_t)v->n, e = (size_t)v->events;
    v->epoch = calloc(n, sizeof *v->epoch);
    v->useful = calloc(n, sizeof *v->useful);
    v->rq = malloc(n * sizeof *v->rq);
    v->wq = malloc(n * sizeof *v->wq);
    v->ev_drain = calloc(e, sizeof *v->ev_drain);
    v->ev_switch = calloc(e, sizeof *v->ev_switch);
    v->ev_woken = calloc(e, sizeof *v->ev_woken);
    if (!v->epoch || !v->useful || !v->rq || !v->wq || !v->ev_drain || !v->ev_switch ||
        !v->ev_woken)
        return -HERD_ENOMEM;
    for (size_t i = 0; i < n; i++)
        v->wq[i] = (int32_t)i; /* all asleep, thread 0 the longest */
    v->wq_len = v->n;
    herd_tl_init(&v->tl, 10000);
    herd_tl_series(&v->tl, "arrivals", HERD_TL_SUM);
    herd_tl_series(&v->tl, "wakes", HERD_TL_SUM);
    return 0;
}

static int fill_report(struct cv *v)
{
    struct herd_report *r = v->r;
    uint64_t *per = malloc((size_t)v->n * sizeof *per);
    if (!per)
        return -HERD_ENOMEM;
    for (int32_t i = 0; i < v->n; i++)
        per[i] = v->useful[i];
    herd_report_spread(r, per, (size_t)v->n);
    free(per);

    size_t ne = (size_t)(v->next_item);
    herd_report_extra(r, "kernel_switches", (double)v->switches);
    herd_report_extra(r, "kernel_switches_median", herd_median(v->ev_switch, ne));
    if (v->futex) {
        herd_report_extra(r, "futex_woken", (double)v->futex_woken);
        herd_report_extra(r, "futex_woken_median", herd_median(v->ev_woken, ne));
    }
    herd_report_extra(r, "drain_us_median", herd_median(v->ev_drain, ne));
    herd_report_extra(r, "cpu_ns", v->cpu_ns);
    herd_report_extra(r, "cores", (double)v->cores);

    int rc = herd_tl_emit(&v->tl, r, v->sim.now_ns, 10000, 1000, NULL);
    if (rc < 0)
        return rc;
    r->sim_time_ns = v->sim.now_ns;
    return 0;
}

static void name_kinds(struct herd_sim *sim)
{
    herd_sim_name(sim, ev_enqueue, "enqueue");
    herd_sim_name(sim, ev_wake, "wake");
    herd_sim_name(sim, ev_kick, "kick");
    herd_sim_name(sim, ev_acquire, "acquire");
    herd_sim_name(sim, ev_sleep, "sleep");
}

int herd__sim_condvar_run_hooked(const struct herd_run_spec *spec, const struct herd_profile *prof,
                                 struct herd_report *r, const struct herd_sim_hooks *hooks,
                                 char *err, size_t errlen)
{
    struct cv *v = calloc(1, sizeof *v);
    int rc;
    if (!v) {
        snprintf(err, errlen, "condvar: out of memory");
        return -HERD_ENOMEM;
    }
    v->r = r;
    const struct herd_condvar_config *cfg = &spec->cfg.condvar;
    switch (cfg->strategy) {
    case HERD_CONDVAR_BROADCAST:
        v->wake_all = true;
        break;
    case HERD_CONDVAR_SIGNAL:
        v->wake_all = false;
        break;
    }
    v->futex = cfg->primitive == HERD_CONDVAR_FUTEX;
    v->n = (int32_t)spec->n;
    v->events = spec->events;
    int cores = cfg->cores;
    v->cores = cores > 0 ? cores : prof->cores > 0 ? prof->cores : 1;
    v->base = costs_of(prof, spec->n);
    v->c = v->base;
    v->epoch_now = 1;

    rc = herd_sim_init(&v->sim, spec->seed);
    if (rc < 0) {
        free(v);
        snprintf(err, errlen, "condvar: %s", herd_strerror(rc));
        return rc;
    }
    if ((rc = alloc_all(v)) < 0) {
        snprintf(err, errlen, "condvar: out of memory for %d threads", v->n);
        goto out;
    }
    herd_sim_rng(&v->sim, STREAM_SCHED, &v->sched);
    herd_wake_var_init(&v->var, &v->sim, STREAM_SPEED, prof->condvar_spread,
                       prof->condvar_loop_spread);
    name_kinds(&v->sim);
    herd_sim_set_hooks(&v->sim, hooks);

    herd_sim_at(&v->sim, 0, ev_enqueue, v, 0, NULL);
    rc = herd_sim_run_until(&v->sim, HERD_SIM_FOREVER);
    if (rc >= 0 && v->err)
        rc = v->err;
    if (rc < 0) {
        snprintf(err, errlen, "condvar: simulation: %s", herd_strerror(rc));
        goto out;
    }
    if ((rc = fill_report(v)) < 0)
        snprintf(err, errlen, "condvar: out of memory");
out:
    release(v);
    free(v);
    return rc;
}

static int run(const struct herd_run_spec *spec, const struct herd_profile *prof,
               const struct herd_sim_hooks *hooks, struct herd_report *r, char *err,
               size_t errlen)
{
    return herd__sim_condvar_run_hooked(spec, prof, r, hooks, err, errlen);
}

const struct herd_sim_model herd__sim_condvar = {run};
