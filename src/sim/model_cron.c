/* model_cron.c — the cron herd, simulated: N clients with the same crontab line call one
 * backend (mirrors src/live/cron.c; the report's figures mean the same things).
 *
 * Mechanics (one event = one boundary, events run one after another like live's):
 *   - clients: the client fleet (client.h), TRIGGERED at the boundary. Each client's
 *     clock is off by a fixed Normal(0, skew_ms) (sim-only param), so the naive spike
 *     has the width of a fleet's clock error. naive fires at the boundary; jitter adds
 *     herd_jitter_window(window) from the client's own stream (stream i of the seed, the
 *     stream live's client i uses, so both backends draw the same offsets); splay adds
 *     herd_jitter_splay("cron-client-<i>", window, seed), live's exact call. Timeouts are
 *     the fleet's (timeout_ms from the scheduled firing; the timer is cancelled by the
 *     reply); no retries, as in live.
 *   - request hop, client -> backend: constant prof->accept_ns (connect() start to the
 *     accepted descriptor, measured alone on this machine: the time a request needs to
 *     reach the backend's queue).
 *   - the backend: a service (service.h) of backend_workers workers and an unbounded
 *     FIFO, deterministic service time
 *         S = work_us + 2 · accept_ns + 4 · ctx_switch_ns
 *     i.e. the request's work plus the CPU the rest of its round trip costs the same
 *     cores (everything runs on this machine: loopback, 2 cores shared by the client
 *     threads and the backend): the connection's set-up (connect start to accepted
 *     descriptor, the measured accept_ns) and its tear-down (reply write, both closes:
 *     taken to cost what the set-up does), and four thread switches (the client woken by
 *     its timer, the acceptor, the worker, the client woken by the reply). The client's
 *     share is charged to the backend's service because in a herd it competes for the
 *     same cores at the same time; what matters for the herd is the total CPU per request.
 *     Those workers share prof->cores cores: when more requests are in service than
 *     there are cores, each progresses slower. That is the service's USL contention
 *     σ = (w/c − 1)/(w − 1) for w workers on c < w cores: a request alone runs at full
 *     speed, a full pool at c/w of it (so a saturated backend serves c requests per S,
 *     the CPU's limit), linear in between (over-states the slowdown of a half-full pool
 *     by at most (w−c)/(2(w−1)); the herd is a full pool).
 *     What this leaves out, measured: live at N = 1,000 a request costs 400-650 µs of
 *     CPU (p99 200-330 ms), more than S explains (~310 µs with this machine's profile):
 *     waking 1,000 cold threads costs far more than a hot ping-pong switch. A profile
 *     figure for one loopback request round trip would close that gap.
 *   - reply hop, backend -> client: constant 0 (its cost is in S: the client's wake).
 *   - outcomes, per client per boundary: useful = answered before its timeout (queued
 *     or not: a queue is the herd's latency, not waste); wasted = gave up on a request
 *     the backend still worked on (here, every timed-out one). origin_load = requests that reached the backend. peak = most requests
 *     in flight at the backend at once, queued ones included. Latency: scheduled firing
 *     (boundary + offset on the client's clock) to the reply, or to the give-up for a
 *     timed-out client (a lower bound, as live). The backend serves timed-out requests
 *     anyway (it does not know): extra `late_replies` counts that wasted work.
 *   - timeline: event-relative from the boundary (arrivals summed over events, inflight
 *     and queue the maximum level within each bucket over events), kept at 1 ms (10 ms,
 *     100 ms ... when a run spans more than 100,000 buckets), then merged into at most
 *     1,000 buckets spanning at least the window.
 *   - spread: the backend's workers are numbered; a request that finds workers free
 *     takes the one idle longest, one that queued takes the worker that frees up when its
 *     turn comes (the service pulls FIFO), as a thread pool on a condvar does.
 *
 * Memory per client: the fleet's record (16 bytes, 48 with jitter's rng; the worker
 * number and the queued flag live in its user16), 8 bytes of the trigger's sorted order,
 * 16 in the timeout ring and 4 in the backend queue mirror while it waits, and its
 * request record in the service (48 bytes + 4 in the service's ring); its events are
 * few at a time (the firing is a cursor, the arrival is one hop away). Measured max RSS
 * at N = 10^6: ~105-140 MB. Cost: 4 dispatched events per client per boundary (firing,
 * arrival, service completion, reply) plus one per timeout that fires.
 * Deterministic: a pure function of (spec, seed, profile). Thread safety: none needed,
 * a run owns everything it touches.
 */
#include "model_cron.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <herd/clock.h>
#include <herd/error.h>
#include <herd/jitter.h>

#include "client.h"
#include "hop.h"
#include "service.h"
#include "sim_int.h"

#define FINE_CAP 100000      /* fine timeline buckets kept before merging by 10 */
#define WORKER_QUEUED 0x8000 /* in a client's user16: its request had to wait */

struct cron {
    struct herd_sim sim;
    struct herd_client_fleet fleet;
    struct herd_service backend;
    struct herd_hop hop_req, hop_rep;
    struct herd_report *r;
    int workers;
    int64_t window_ns;

    /* FIFO of clients queued at the backend (mirrors the service's ring, whose pull
     * order is FIFO), to know which worker each one gets. */
    uint32_t *q;
    size_t q_cap, q_head, q_len;
    /* Idle workers, longest idle first. */
    uint16_t *idle;
    int nidle, idle_head;
    uint64_t *per_worker; /* requests served per worker */

    /* This event. */
    int64_t boundary;
    uint64_t ev_out[HERD_OUT_COUNT], ev_arrivals, ev_peak;
    uint8_t tile_seen[HERD_REPORT_WAITERS]; /* the first clients that reacted this event */
    int64_t first_arrival, last_arrival;
    int64_t inflight, queued; /* the backend's levels now */
    size_t cur;               /* fine bucket the levels were last applied to */

    /* Whole run. */
    uint64_t served, queued_served, timeouts, errors, late;
    double span_sum_ns;
    int64_t queue_peak;

    /* Fine timeline. */
    int64_t fine_ns; /* width of a fine bucket */
    size_t fine_len;
    int64_t *arr, *inf, *que; /* FINE_CAP each */
};

/* ---- timeline ------------------------------------------------------------------------ */

/* Merge every 10 fine buckets into one (arrivals add, levels take the max). */
static void coarsen(struct cron *c)
{
    size_t n = (c->fine_len + 9) / 10;
    for (size_t j = 0; j < n; j++) {
        int64_t a = 0, in = 0, qu = 0;
        for (size_t k = j * 10; k < j * 10 + 10 && k < c->fine_len; k++) {
            a += c->arr[k];
            in = c->inf[k] > in ? c->inf[k] : in;
            qu = c->que[k] > qu ? c->que[k] : qu;
        }
        c->arr[j] = a;
        c->inf[j] = in;
        c->que[j] = qu;
    }
    memset(c->arr + n, 0, (FINE_CAP - n) * sizeof *c->arr);
    memset(c->inf + n, 0, (FINE_CAP - n) * sizeof *c->inf);
    memset(c->que + n, 0, (FINE_CAP - n) * sizeof *c->que);
    c->fine_len = n;
    c->cur /= 10;
    c->fine_ns *= 10;
}

/* The backend's levels are about to change now (by d_in, d_q; arrival or not). */
static void level_change(struct cron *c, int d_in, int d_q, bool arrival)
{
    int64_t rel = herd_sim_now(&c->sim) - c->boundary;
    if (rel < 0)
        rel = 0;
    size_t b;
    while ((b = (size_t)(rel / c->fine_ns)) >= FINE_CAP)
        coarsen(c);
    if (b + 1 > c->fine_len)
        c->fine_len = b + 1;
    /* Buckets crossed without a change hold the level they were left at. */
    for (; c->cur < b; c->cur++) {
        if (c->inflight > c->inf[c->cur + 1])
            c->inf[c->cur + 1] = c->inflight;
        if (c->queued > c->que[c->cur + 1])
            c->que[c->cur + 1] = c->queued;
    }
    c->inflight += d_in;
    c->queued += d_q;
    c->arr[b] += arrival;
    if (c->inflight > c->inf[b])
        c->inf[b] = c->inflight;
    if (c->queued > c->que[b])
        c->que[b] = c->queued;
}

static int build_timeline(struct cron *c)
{
    int64_t span = (int64_t)c->fine_len * c->fine_ns;
    if (span < c->window_ns)
        span = c->window_ns;
    int64_t bucket = herd_timeline_pick_bucket(span + 1, c->fine_ns, 1000);
    size_t len = (size_t)(span / bucket) + 1;
    int rc = herd_report_timeline(c->r, bucket, len);
    if (rc < 0)
        return rc;
    len = c->r->timeline.len;
    int64_t *arr = herd_report_series(c->r, "arrivals");
    int64_t *inf = herd_report_series(c->r, "inflight");
    int64_t *que = herd_report_series(c->r, "queue");
    if (!arr || !inf || !que)
        return -HERD_ENOMEM;
    int64_t per = bucket / c->fine_ns;
    for (size_t k = 0; k < c->fine_len; k++) {
        size_t j = (size_t)((int64_t)k / per);
        if (j >= len)
            j = len - 1;
        arr[j] += c->arr[k];
        inf[j] = c->inf[k] > inf[j] ? c->inf[k] : inf[j];
        que[j] = c->que[k] > que[j] ? c->que[k] : que[j];
    }
    return 0;
}

/* ---- the backend --------------------------------------------------------------------- */

static void on_reply(struct herd_sim *sim, void *ctx, uint64_t tag)
{
    struct cron *c = ctx;
    (void)sim;
    herd_client_reply(&c->fleet, tag, 0);
}

static void on_served(struct herd_sim *sim, void *ctx, uint64_t tag, int status,
                      int64_t sojourn_ns)
{
    struct cron *c = ctx;
    uint32_t k = herd_client_of(tag);
    uint16_t w = *herd_client_user16(&c->fleet, k) & ~WORKER_QUEUED;
    (void)status; /* no shedding here: always 0 */
    (void)sojourn_ns; /* the client's latency is the fleet's (herd_client_reply) */
    c->per_worker[w]++;
    if (c->q_len) { /* the service pulls the head of its FIFO onto this worker next */
        uint32_t h = c->q[c->q_head];
        c->q_head = (c->q_head + 1) % c->q_cap;
        c->q_len--;
        *herd_client_user16(&c->fleet, h) = (uint16_t)(w | WORKER_QUEUED);
        level_change(c, -1, -1, false);
    } else {
        c->idle[(c->idle_head + c->nidle++) % c->workers] = w;
        level_change(c, -1, 0, false);
    }
    herd_client_prefetch(&c->fleet, tag);
    herd_hop_send(sim, &c->hop_rep, NULL, on_reply, c, tag);
}

/* A request reaches the backend's queue (the acceptor holds the connection). */
static void on_arrive(struct herd_sim *sim, void *ctx, uint64_t tag)
{
    struct cron *c = ctx;
    uint32_t k = herd_client_of(tag);
    int64_t now = herd_sim_now(sim);
    bool free_worker = c->nidle > 0;
    c->ev_arrivals++;
    if (c->ev_arrivals == 1)
        c->first_arrival = now;
    c->last_arrival = now;
    herd_sim_request(sim, now, k, 0, HERD_REQ_OK); /* --trace: the backend's log */
    if (free_worker) {
        *herd_client_user16(&c->fleet, k) = c->idle[c->idle_head];
        c->idle_head = (c->idle_head + 1) % c->workers;
        c->nidle--;
        level_change(c, 1, 0, true);
    } else {
        if (c->q_len == c->q_cap) {
            size_t cap = c->q_cap * 2;
            uint32_t *p = malloc(cap * sizeof *p);
            if (!p) {
                sim->err = -HERD_ENOMEM; /* sticky: the run stops with it */
                return;
            }
            for (size_t j = 0; j < c->q_len; j++)
                p[j] = c->q[(c->q_head + j) % c->q_cap];
            free(c->q);
            c->q = p;
            c->q_cap = cap;
            c->q_head = 0;
        }
        c->q[(c->q_head + c->q_len++) % c->q_cap] = k;
        /* Its worker is known when its turn comes. */
        *herd_client_user16(&c->fleet, k) = WORKER_QUEUED;
        level_change(c, 1, 1, true);
    }
    if ((uint64_t)c->inflight > c->ev_peak)
        c->ev_peak = (uint64_t)c->inflight;
    if (c->queued > c->queue_peak)
        c->queue_peak = c->queued;
    herd_service_submit(&c->backend, on_served, c, tag, NULL); /* errors are sticky */
}

/* ---- the clients --------------------------------------------------------------------- */

static void on_send(struct herd_sim *sim, void *ctx, uint32_t client, uint64_t tag)
{
    struct cron *c = ctx;
    (void)client;
    herd_hop_send(sim, &c->hop_req, NULL, on_arrive, c, tag);
}

static void on_done(struct herd_sim *sim, void *ctx, uint32_t client, enum herd_client_outcome out,
                    int64_t latency_ns)
{
    struct cron *c = ctx;
    enum herd_outcome o = HERD_OUT_FAILED; /* every case sets it; the compiler cannot tell */
    (void)sim;
    herd_hist_record(&c->r->latency, latency_ns);
    switch (out) {
    case HERD_CLIENT_OK: {
        /* Answered in time, queued or not: the job got done (a queue is latency). */
        bool queued = *herd_client_user16(&c->fleet, client) & WORKER_QUEUED;
        c->served++;
        c->queued_served += queued;
        o = HERD_OUT_USEFUL;
        break;
    }
    case HERD_CLIENT_TIMEDOUT:
        /* The simulated backend neither drops nor cancels a request: one whose client
         * gave up is still worked on, and that work is thrown away (wasted). Live tells
         * this apart from a request never worked on (failed) by its backend's records. */
        c->timeouts++;
        o = HERD_OUT_WASTED;
        break;
    case HERD_CLIENT_FAILED:   /* an error reply: the model's backend sends none today */
    case HERD_CLIENT_REJECTED: /* a breaker's refusal: cron's fleet has no breaker */
        c->errors++;
        o = HERD_OUT_FAILED;
        break;
    }
    c->ev_out[o]++;
    if (client < HERD_REPORT_WAITERS) {
        herd_report_waiter(c->r, client, o);
        c->tile_seen[client] = 1;
    }
}

/* ---- the run ------------------------------------------------------------------------- */

int herd__sim_cron_run_hooked(const struct herd_run_spec *spec, const struct herd_profile *prof,
                              struct herd_report *r, const struct herd_sim_hooks *hooks,
                              char *err, size_t errlen)
{
    struct cron *c = calloc(1, sizeof *c);
    if (!c) {
        snprintf(err, errlen, "cron: out of memory");
        return -HERD_ENOMEM;
    }
    const struct herd_cron_config *cfg = &spec->cfg.cron;
    enum herd_client_offset offset = HERD_CLIENT_OFFSET_NONE;
    switch (cfg->strategy) {
    case HERD_CRON_AT_BOUNDARY:
        offset = HERD_CLIENT_OFFSET_NONE;
        break;
    case HERD_CRON_JITTER:
        offset = HERD_CLIENT_OFFSET_JITTER;
        break;
    case HERD_CRON_SPLAY:
        offset = HERD_CLIENT_OFFSET_SPLAY;
        break;
    }
    bool naive = offset == HERD_CLIENT_OFFSET_NONE;
    int64_t n = spec->n;
    int64_t period_ns = cfg->period_ns;
    int64_t work_ns = cfg->work_ns;
    int cores = prof->cores >= 1 ? prof->cores : 1;
    int rc;
    bool sim_up = false, fleet_up = false, backend_up = false;

    c->r = r;
    c->workers = cfg->backend_workers;
    c->window_ns = cfg->window_ns;
    c->fine_ns = HERD_NS_PER_MS;
    c->q_cap = 1024;
    c->q = malloc(c->q_cap * sizeof *c->q);
    c->idle = malloc((size_t)c->workers * sizeof *c->idle);
    c->per_worker = calloc((size_t)c->workers, sizeof *c->per_worker);
    c->arr = calloc(FINE_CAP, sizeof *c->arr);
    c->inf = calloc(FINE_CAP, sizeof *c->inf);
    c->que = calloc(FINE_CAP, sizeof *c->que);
    if (!c->q || !c->idle || !c->per_worker || !c->arr || !c->inf || !c->que) {
        rc = -HERD_ENOMEM;
        goto fail;
    }
    for (int w = 0; w < c->workers; w++)
        c->idle[w] = (uint16_t)w;
    c->nidle = c->workers;

    rc = herd_sim_init(&c->sim, spec->seed);
    if (rc < 0)
        goto fail;
    sim_up = true;
    herd_sim_set_hooks(&c->sim, hooks);
    herd_sim_name(&c->sim, on_arrive, "cron.arrive");
    herd_sim_name(&c->sim, on_reply, "cron.reply");

    herd_hop_init(&c->hop_req, HERD_HOP_CONSTANT, (int64_t)prof->accept_ns, 0);
    herd_hop_init(&c->hop_rep, HERD_HOP_CONSTANT, 0, 0);

    double sigma = c->workers > cores ? ((double)c->workers / cores - 1) / (c->workers - 1) : 0;
    struct herd_service_config scfg = {
        .workers = c->workers,
        .queue_cap = -1,
        .dist = HERD_SERVICE_DETERMINISTIC,
        .service_ns = work_ns + (int64_t)(2 * prof->accept_ns + 4 * prof->ctx_switch_ns),
        .usl_sigma = sigma,
        .stream = (uint64_t)3 << 32, /* components 0-2 are the fleet's */
    };
    rc = herd_service_init(&c->backend, &c->sim, &scfg);
    if (rc < 0)
        goto fail;
    backend_up = true;

    struct herd_client_config fcfg = {
        .arrival = HERD_CLIENT_TRIGGERED,
        .n = (uint32_t)n,
        .component = 0, /* client i draws from stream i: live's client i does too */
        .skew_sd_ns = cfg->skew_sd_ns,
        .offset = offset,
        .window_ns = c->window_ns,
        .splay_prefix = "cron-client-",
        .splay_salt = spec->seed, /* live: the run seed plays systemd's machine secret */
        .timeout_ns = cfg->timeout_ns,
        .backoff = {.kind = HERD_BACKOFF_NONE, .max_attempts = 1},
        .send = on_send,
        .done = on_done,
        .ctx = c,
    };
    rc = herd_client_init(&c->fleet, &c->sim, &fcfg);
    if (rc < 0)
        goto fail;
    fleet_up = true;

    uint64_t fired_before = 0;
    for (int64_t e = 0; e < spec->events; e++) {
        /* The next boundary far enough ahead that no client's skewed clock has passed it. */
        int64_t now = herd_sim_now(&c->sim);
        c->boundary = herd_jitter_next_fire(now + herd_client_skew_bound(&c->fleet), period_ns, 0);
        memset(c->ev_out, 0, sizeof c->ev_out);
        memset(c->tile_seen, 0, sizeof c->tile_seen);
        c->ev_arrivals = c->ev_peak = 0;
        c->cur = 0;
        c->inflight = c->queued = 0;
        rc = herd_client_trigger(&c->fleet, c->boundary);
        if (rc == 0)
            rc = herd_sim_run_until(&c->sim, HERD_SIM_FOREVER);
        if (rc < 0)
            goto fail;
        uint64_t fired = herd_client_stats(&c->fleet)->fired;
        struct herd_event ev = {.useful = c->ev_out[HERD_OUT_USEFUL],
                                .wasted = c->ev_out[HERD_OUT_WASTED],
                                .failed = c->ev_out[HERD_OUT_FAILED],
                                .idle = (uint64_t)n - (fired - fired_before),
                                .origin_load = c->ev_arrivals,
                                .peak = c->ev_peak};
        for (size_t i = 0; i < r->nwaiters; i++)
            if (!c->tile_seen[i])
                herd_report_waiter(r, i, HERD_OUT_IDLE);
        rc = herd_report_add_event(r, &ev);
        if (rc < 0)
            goto fail;
        fired_before = fired;
        c->span_sum_ns += (double)(c->last_arrival - c->first_arrival);
    }

    rc = build_timeline(c);
    if (rc < 0)
        goto fail;
    herd_report_spread(r, c->per_worker, (size_t)c->workers);
    const struct herd_client_stats *fs = herd_client_stats(&c->fleet);
    const struct herd_service_stats *ss = herd_service_stats(&c->backend);
    herd_report_extra(r, "queue_peak", (double)c->queue_peak);
    herd_report_extra(r, "served", (double)c->served);
    herd_report_extra(r, "served_after_queueing", (double)c->queued_served);
    herd_report_extra(r, "timeouts", (double)c->timeouts);
    herd_report_extra(r, "errors", (double)c->errors);
    herd_report_extra(r, "late_replies", (double)fs->late);
    herd_report_extra(r, "backend_service_us",
                      ss->served ? (double)ss->busy_ns / (double)ss->served / 1e3 : 0);
    herd_report_extra(r, "backend_busy_ms", (double)ss->busy_ns / 1e6);
    herd_report_extra(r, "spread_window_ms", naive ? 0.0 : (double)c->window_ns / 1e6);
    herd_report_extra(r, "arrival_span_ms",
                      spec->events ? c->span_sum_ns / (double)spec->events / 1e6 : 0.0);
    herd_report_extra(r, "skew_ms", cfg->skew_sd_ns / 1e6);
    herd_report_extra(r, "sim_events", (double)herd_sim_events(&c->sim));
    herd_report_extra(r, "sim_bytes_per_client", (double)herd_client_bytes(&c->fleet));
    r->sim_time_ns = herd_sim_now(&c->sim);
    rc = 0;
    goto out;

fail:
    if (rc == -HERD_ENOMEM)
        snprintf(err, errlen, "cron: out of memory for %" PRId64 " clients", n);
    else
        snprintf(err, errlen, "cron: %s", herd_strerror(rc));
out:
    if (fleet_up)
        herd_client_fini(&c->fleet);
    if (backend_up)
        herd_service_fini(&c->backend);
    if (sim_up)
        herd_sim_fini(&c->sim);
    free(c->q);
    free(c->idle);
    free(c->per_worker);
    free(c->arr);
    free(c->inf);
    free(c->que);
    free(c);
    return rc;
}

static int run(const struct herd_run_spec *spec, const struct herd_profile *prof,
               const struct herd_sim_hooks *hooks, struct herd_report *r, char *err,
               size_t errlen)
{
    return herd__sim_cron_run_hooked(spec, prof, r, hooks, err, errlen);
}

const struct herd_sim_model herd__sim_cron = {run};
