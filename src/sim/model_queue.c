/* model_queue.c — the `queue` preset: open Poisson traffic into c workers (sim only).
 *
 * The organic-traffic baseline a herd is compared to, and the model the queueing
 * closed forms check end to end (tests/sim/test_model_queue.c). Requests arrive as a
 * Poisson process of rate `rate` from t = 0 for `duration_s` (no arrival at or after
 * it), each into one service (service.h) with `servers` workers, a FIFO queue of
 * `queue_cap` places (0: unbounded; a full queue rejects: a fast error) and service
 * times `service` = exp | det | lognormal with mean `service_us` (log-normal with a
 * log-sd of 1.0: p99 about 10x the median). After the last arrival the run goes on
 * until the backlog has drained, so every accepted request is served (or shed): the
 * bathtub of seed 000 is a duration_s = 1 burst into a smaller capacity.
 * naive ("fifo") serves everyone in arrival order however long they waited;
 * mitigation `shed` drops, when a worker picks it, a request that waited longer than
 * shed_ms (service.h's shed_wait_ns; shed_ms = 0 sheds any request that waited at all
 * — 1 ns). The preset's costs are its parameters: the calibration profile is not used.
 * -n is not used either (a request is a waiter here, and their number follows from
 * rate and duration_s); any N is accepted and only echoed in the report.
 *
 * What the report means here (every arriving request is a waiter and one reaction):
 *   useful       served within the client's timeout (timeout_ms; 0: never gives up);
 *   wasted       served after its client gave up: the work was thrown away;
 *   failed       rejected (queue full) or shed;
 *   wakes        requests that arrived (useful + wasted + failed);
 *   origin_load  requests that reached a worker (useful + wasted: the run drains, so
 *                every request that starts service completes);
 *   peak         most requests in the system at once (in service + queued);
 *   latency      time in system of each served request, arrival → service done;
 *   events       --events E splits the arrival period into E equal windows; each is an
 *                event holding the requests that arrived in it (its peak: the most in
 *                the system during the window, the last window including the drain);
 *   timeline     from t = 0 to the last completion: "arrivals" per bucket, "inflight"
 *                (requests in service) and "queue" (waiting) as the most within the
 *                bucket, "errors" (rejected + shed) when there were any;
 *   waiters      the first 240 requests, classed as above;
 *   extras       utilisation (worker busy time / (servers × sim_time)), mean_wait_ns
 *                (queueing delay of the requests served), p_wait (share of arrivals
 *                that found every worker busy and queued: Erlang C), rejected, shed,
 *                drain_ns (last arrival → last completion), events_dispatched (engine
 *                events, for events/s), sim_time_ns is the last completion.
 * Levels come from the requests in the system x: with FIFO workers that never idle
 * while someone queues, in service = min(x, c) and waiting = x − min(x, c) at every
 * instant between events, so the model tracks x alone.
 *
 * Cost: two engine events per served request (arrival, completion), O(1) each; memory
 * 48 bytes per request held by the service (so an overloaded long run grows with its
 * backlog), 24 bytes per event window, a few MB of timeline at most. A run is refused
 * beyond 10^9 expected arrivals (minutes of CPU at 10^7 events/s), and bytes() sizes the
 * backlog up front (112 bytes a held request, with the arrays' doubling) so that the
 * front ends refuse, with the figure, a run beyond their memory ceiling (--max-memory).
 * Thread safety: none; a run owns everything it touches.
 */
#include "model_queue.h"

#include <herd/error.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "model_timeline.h"
#include "service.h"

/* RNG streams (component << 32 | index). */
#define STREAM_SERVICE (UINT64_C(1) << 32)
#define STREAM_ARRIVALS (UINT64_C(2) << 32)

#define MAX_ARRIVALS 1e9
#define LOGNORMAL_SIGMA 1.0
#define WIN_BITS 17 /* a request's tag: arrival index << WIN_BITS | window (E <= 100,000) */
#define WIN_MASK ((UINT64_C(1) << WIN_BITS) - 1)

struct qrun {
    struct herd_sim *sim;
    struct herd_service *svc;
    struct herd_report *r;
    struct herd_rng rng; /* arrival gaps */
    double gap_ns;       /* mean gap, 1 / rate */
    int64_t end_ns;      /* no arrival at or after this */
    int64_t servers;
    int err; /* first failure (no memory); the run stops */

    uint64_t arrivals, rejected;
    int64_t last_arrival_ns;
    int64_t in_system; /* accepted and neither served nor shed */

    int64_t nev, win_ns, cur_win; /* event windows over the arrival period */
    uint64_t *ev_arr, *ev_served, *ev_wasted, *ev_failed;
    int64_t timeout_ns; /* a client gives up after this long in the system; 0: never */
    int64_t *ev_peak;

    struct herd_tl tl;
    int s_arr, s_inf, s_err;
};

static int64_t window_of(const struct qrun *q, int64_t t)
{
    if (q->nev == 1)
        return 0;
    int64_t k = t / q->win_ns;
    return k < q->nev ? k : q->nev - 1;
}

/* The requests in the system change by @p delta now. */
static void change(struct qrun *q, int64_t now, int64_t delta)
{
    int64_t k = window_of(q, now);
    while (q->cur_win < k) { /* windows entered since: they start at the old level */
        q->cur_win++;
        if (q->ev_peak[q->cur_win] < q->in_system)
            q->ev_peak[q->cur_win] = q->in_system;
    }
    int64_t x = q->in_system += delta;
    if (q->ev_peak[k] < x)
        q->ev_peak[k] = x;
    herd_tl_level(&q->tl, q->s_inf, now, x); /* split into inflight and queue at the end */
}

/* The timeline's "inflight" holds the most requests in the system per bucket, x; as
 * min(x, c) and x − min(x, c) both grow with x, their maxima per bucket are min(X, c)
 * and max(X − c, 0) of that maximum X: one level tracked instead of two. */
static int split_levels(struct qrun *q)
{
    if (q->r->timeline.len == 0) /* nothing arrived */
        return 0;
    int64_t *inf = herd_report_series(q->r, "inflight");
    int64_t *que = herd_report_series(q->r, "queue");
    if (!inf || !que)
        return -HERD_ENOMEM;
    for (size_t k = 0; k < q->r->timeline.len; k++) {
        int64_t x = inf[k];
        inf[k] = x < q->servers ? x : q->servers;
        que[k] = x - inf[k];
    }
    return 0;
}

static void on_done(struct herd_sim *sim, void *ctx, uint64_t tag, int status, int64_t sojourn_ns)
{
    struct qrun *q = ctx;
    int64_t now = herd_sim_now(sim);
    uint64_t idx = tag >> WIN_BITS, k = tag & WIN_MASK;
    if (status == 0) {
        bool gone = q->timeout_ns > 0 && sojourn_ns > q->timeout_ns;
        q->ev_served[k] += !gone;
        q->ev_wasted[k] += gone;
        herd_report_waiter(q->r, idx, gone ? HERD_OUT_WASTED : HERD_OUT_USEFUL);
    } else { /* shed */
        q->ev_failed[k]++;
        herd_report_waiter(q->r, idx, HERD_OUT_FAILED);
        herd_tl_add(&q->tl, q->s_err, now, 1);
    }
    change(q, now, -1);
}

/* arg: the request's index (for traces) */
static void on_arrive(struct herd_sim *sim, void *ctx, uint64_t arg)
{
    (void)arg;
    struct qrun *q = ctx;
    int64_t now = herd_sim_now(sim);
    uint64_t idx = q->arrivals++;
    int64_t k = window_of(q, now);
    q->ev_arr[k]++;
    q->last_arrival_ns = now;
    herd_tl_add(&q->tl, q->s_arr, now, 1);
    int rc = herd_service_submit(q->svc, on_done, q, idx << WIN_BITS | (uint64_t)k, NULL);
    if (rc == -HERD_EREJECT) {
        q->rejected++;
        q->ev_failed[k]++;
        herd_report_waiter(q->r, idx, HERD_OUT_FAILED);
        herd_tl_add(&q->tl, q->s_err, now, 1);
    } else if (rc < 0) {
        q->err = rc;
        herd_sim_stop(sim);
        return;
    } else {
        change(q, now, +1);
    }
    double gap = herd_rng_exp_fast(&q->rng, q->gap_ns);
    if ((double)now + gap < (double)q->end_ns)
        herd_sim_at(sim, now + herd_sim_round_ns(gap), on_arrive, q, q->arrivals, NULL);
}

static int config(const struct herd_run_spec *spec, struct herd_service_config *cfg,
                  double *rate_per_s, int64_t *end_ns, char *err, size_t errlen)
{
    const struct herd_queue_config *qc = &spec->cfg.queue;
    *rate_per_s = qc->rate;
    double duration_s = qc->duration_ns / 1e9;
    if (*rate_per_s * duration_s > MAX_ARRIVALS) {
        snprintf(err, errlen,
                 "rate x duration_s = %.3g arrivals, more than the %.0g a run may take "
                 "(minutes of CPU); lower rate or duration_s",
                 *rate_per_s * duration_s, MAX_ARRIVALS);
        return -HERD_ELIMIT;
    }
    *end_ns = llround(qc->duration_ns);
    memset(cfg, 0, sizeof *cfg);
    cfg->workers = qc->servers;
    cfg->queue_cap = qc->queue_cap > 0 ? qc->queue_cap : -1;
    cfg->overflow = HERD_SERVICE_REJECT;
    switch (qc->service) {
    case HERD_QUEUE_EXP:
        cfg->dist = HERD_SERVICE_EXPONENTIAL;
        break;
    case HERD_QUEUE_DET:
        cfg->dist = HERD_SERVICE_DETERMINISTIC;
        break;
    case HERD_QUEUE_LOGNORMAL:
        cfg->dist = HERD_SERVICE_LOGNORMAL;
        break;
    }
    cfg->lognormal_sigma = LOGNORMAL_SIGMA;
    cfg->service_ns = llround(qc->service_ns);
    switch (qc->strategy) {
    case HERD_QUEUE_FIFO:
        break;
    case HERD_QUEUE_SHED:
        cfg->shed_wait_ns = qc->shed_ns > 0 ? qc->shed_ns : 1;
        break;
    }
    cfg->stream = STREAM_SERVICE;
    return 0;
}

int herd__sim_queue_run_hooked(const struct herd_run_spec *spec, const struct herd_profile *prof,
                               struct herd_report *r, const struct herd_sim_hooks *hooks,
                               char *err, size_t errlen)
{
    (void)prof; /* the preset's costs are its parameters */
    if (errlen)
        err[0] = '\0';
    struct herd_service_config cfg;
    double rate;
    int64_t end_ns;
    int rc = config(spec, &cfg, &rate, &end_ns, err, errlen);
    if (rc < 0)
        return rc;

    struct herd_sim sim;
    struct herd_service svc;
    struct qrun q = {.sim = &sim,
                     .svc = &svc,
                     .r = r,
                     .end_ns = end_ns,
                     .servers = cfg.workers,
                     .timeout_ns = spec->cfg.queue.timeout_ns,
                     .gap_ns = 1e9 / rate};
    bool sim_up = false, svc_up = false;
    q.nev = spec->events > 0 ? spec->events : 1;
    q.win_ns = (end_ns + q.nev - 1) / q.nev;
    if (q.win_ns < 1)
        q.win_ns = 1;
    q.ev_arr = calloc((size_t)q.nev, sizeof *q.ev_arr);
    q.ev_served = calloc((size_t)q.nev, sizeof *q.ev_served);
    q.ev_wasted = calloc((size_t)q.nev, sizeof *q.ev_wasted);
    q.ev_failed = calloc((size_t)q.nev, sizeof *q.ev_failed);
    q.ev_peak = calloc((size_t)q.nev, sizeof *q.ev_peak);
    herd_tl_init(&q.tl, end_ns / 10000);
    q.s_arr = herd_tl_series(&q.tl, "arrivals", HERD_TL_SUM);
    q.s_inf = herd_tl_series(&q.tl, "inflight", HERD_TL_LEVEL);
    q.s_err = herd_tl_series(&q.tl, "errors", HERD_TL_SUM);
    rc = -HERD_ENOMEM;
    if (!q.ev_arr || !q.ev_served || !q.ev_wasted || !q.ev_failed || !q.ev_peak)
        goto fail;
    if ((rc = herd_sim_init(&sim, spec->seed)) < 0)
        goto fail;
    sim_up = true;
    cfg.latency = &r->latency;
    if ((rc = herd_service_init(&svc, &sim, &cfg)) < 0)
        goto fail;
    svc_up = true;
    herd_sim_set_hooks(&sim, hooks);
    herd_sim_name(&sim, on_arrive, "queue.arrive");
    herd_sim_rng(&sim, STREAM_ARRIVALS, &q.rng);

    double first = herd_rng_exp_fast(&q.rng, q.gap_ns);
    if (first < (double)end_ns)
        herd_sim_at(&sim, llround(first), on_arrive, &q, 0, NULL);
    rc = herd_sim_run_until(&sim, HERD_SIM_FOREVER);
    if (rc == 0)
        rc = q.err;
    if (rc < 0)
        goto fail;

    int64_t t_end = herd_sim_now(&sim);
    change(&q, t_end, 0); /* carry the level into the remaining windows */
    while (q.cur_win < q.nev - 1)
        q.ev_peak[++q.cur_win] = q.in_system;
    for (int64_t k = 0; k < q.nev; k++) {
        struct herd_event ev = {.useful = q.ev_served[k],
                                .wasted = q.ev_wasted[k],
                                .failed = q.ev_failed[k],
                                .origin_load = q.ev_served[k] + q.ev_wasted[k],
                                .peak = (uint64_t)q.ev_peak[k]};
        if ((rc = herd_report_add_event(r, &ev)) < 0)
            goto fail;
    }
    r->sim_time_ns = t_end;
    r->nwaiters = q.arrivals < HERD_REPORT_WAITERS ? (size_t)q.arrivals : HERD_REPORT_WAITERS;
    r->population = (int64_t)q.arrivals; /* the waiters are the requests */
    if ((rc = herd_tl_emit(&q.tl, r, t_end, 1000, 1000, "errors")) < 0 ||
        (rc = split_levels(&q)) < 0)
        goto fail;

    const struct herd_service_stats *st = herd_service_stats(&svc);
    double started = (double)st->served; /* every request that started service ended */
    herd_report_extra(r, "utilisation",
                      t_end > 0 ? (double)st->busy_ns / ((double)cfg.workers * (double)t_end) : 0);
    herd_report_extra(r, "mean_wait_ns", started > 0 ? st->wait_ns_sum / started : 0);
    herd_report_extra(r, "p_wait", q.arrivals ? (double)st->waited / (double)q.arrivals : 0);
    herd_report_extra(r, "rejected", (double)q.rejected);
    herd_report_extra(r, "shed", (double)st->shed);
    herd_report_extra(r, "timeout_ms", (double)q.timeout_ns / 1e6);
    herd_report_extra(r, "drain_ns", q.arrivals ? (double)(t_end - q.last_arrival_ns) : 0);
    herd_report_extra(r, "events_dispatched", (double)herd_sim_events(&sim));
    rc = 0;
fail:
    if (rc < 0 && errlen && !err[0])
        snprintf(err, errlen, "queue simulation: %s", herd_strerror(rc));
    if (svc_up)
        herd_service_fini(&svc);
    if (sim_up)
        herd_sim_fini(&sim);
    herd_tl_fini(&q.tl);
    free(q.ev_arr);
    free(q.ev_served);
    free(q.ev_wasted);
    free(q.ev_failed);
    free(q.ev_peak);
    return rc;
}

static int run(const struct herd_run_spec *spec, const struct herd_profile *prof,
               const struct herd_sim_hooks *hooks, struct herd_report *r, char *err,
               size_t errlen)
{
    return herd__sim_queue_run_hooked(spec, prof, r, hooks, err, errlen);
}

/* What one request held by the service costs at its peak: its record and its ring slot
 * (service.c), both grown by doubling, so old and new arrays side by side at the switch. */
#define HELD_BYTES 112

/* The backlog bounds the memory: an overloaded queue holds what arrives beyond what the
 * workers serve, (rate - servers / service) x duration_s, up to queue_cap; with margin for
 * the arrivals' noise (6 sd of a Poisson count) and the workers' own requests. */
static int64_t bytes(const struct herd_run_spec *spec, char *why, size_t whylen)
{
    const struct herd_queue_config *qc = &spec->cfg.queue;
    double duration_s = qc->duration_ns / 1e9;
    double arrivals = qc->rate * duration_s;
    double served_per_s = qc->servers / (qc->service_ns / 1e9);
    double held = (qc->rate - served_per_s) * duration_s;
    held = (held > 0 ? held : 0) + 6 * sqrt(arrivals) + qc->servers + 64;
    if (held > arrivals + qc->servers)
        held = arrivals + qc->servers;
    bool capped = qc->queue_cap > 0 && held > (double)qc->queue_cap + qc->servers;
    if (capped)
        held = (double)qc->queue_cap + qc->servers;
    snprintf(why, whylen,
             "its queue would hold ~%.3g requests (%.3g/s arriving, %.3g/s served, for %g s%s)",
             held, qc->rate, served_per_s, duration_s,
             capped ? ", queue_cap" : "; queue_cap bounds it");
    double windows = spec->events > 0 ? (double)spec->events : 1;
    return (int64_t)(held * HELD_BYTES + windows * 5 * sizeof(uint64_t));
}

const struct herd_sim_model herd__sim_queue = {.run = run, .bytes = bytes};
