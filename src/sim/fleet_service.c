/* fleet_service.c — services of the fleet simulator: workers behind a queue that may call
 * other components.
 *
 * Model (scenario/fleet.h, struct herd_fleet_service). An attempt arriving at a service:
 *   1. is refused at once (REJECT) while the service is down (a CRASH fault), or fails at
 *      once with probability p during an ERRORS fault;
 *   2. passes admission: TOKEN_BUCKET (libherd ratelimit, admit_rate_per_s, admit_burst)
 *      rejects beyond the rate; LIMITER (libherd AIMD limiter, max admit_limit_max)
 *      sheds beyond its current limit; THROTTLE is applied by the callers (fleet_call.c);
 *   3. starts at once on a free worker (always when unlimited), else queues: a full queue
 *      (queue_cap; < 0 unbounded, 0 none) rejects it, or with DROP_OLDEST pushes its
 *      oldest request out (that one fails: DROPPED) and queues. Workers take the oldest
 *      (FIFO, DROP_OLDEST) or the newest (LIFO) request;
 *   4. when a worker takes it: skipped if its caller gave up and cancel_abandoned (the
 *      server checks the connection); shed if it waited longer than shed_wait_ns;
 *   5. is worked on (after a TLS handshake when it came through an lb on a connection
 *      not yet open: fleet_lb.c; a reopening carries only the handshake) for service_ns
 *      drawn from `dist`, times the USL factor
 *      1 + σ(n−1) + κn(n−1) and Brooker's 1 + per_concurrent·n (n: requests in service,
 *      this one included, as simple_collapse_sim counts it), times a LATENCY fault's
 *      factor, divided by the capacity share (warm-up after a restart; for an unlimited
 *      service also a CAPACITY fault). A CAPACITY fault on workers removes round(p·w);
 *   6. then makes its outgoing calls in order, the worker held meanwhile (each call its
 *      own timeout and retry policy, fleet_call.c); the first that fails ends the request
 *      with ERROR; with cancel_abandoned a request whose caller gave up makes no more;
 *   7. answers OK. Work finished for a caller who had gone (timed out, or a hedge's
 *      loser) is wasted: counted with the worker time it held.
 * A CRASH loses everything the service holds (queued and in service: their callers time
 * out; counted dropped) and, at its end, restarts cold: warm-up from warm_start.
 *
 * Cost: O(1) per request (a ring slot, one or two draws, one engine event for the work).
 * Thread safety: none.
 */
#include <herd/error.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "fleet_int.h"

static void ev_work_done(struct herd_sim *sim, void *ctx, uint64_t h);

static int limiter_init(struct fs_comp *c)
{
    const struct herd_fleet_service *s = &c->spec->u.service;
    struct herd_limiter_config lc = {.algo = HERD_LIMITER_AIMD};
    uint32_t max = s->admit_limit_max > 0 ? (uint32_t)s->admit_limit_max : 200;
    lc.max_limit = max;
    lc.min_limit = 1;
    lc.initial_limit = max < 20 ? max : 20;
    c->lim = malloc(sizeof *c->lim);
    if (!c->lim)
        return -HERD_ENOMEM;
    int rc = herd_limiter_init(c->lim, &lc);
    if (rc < 0) {
        free(c->lim);
        c->lim = NULL;
    }
    return rc;
}

int fs_service_init(struct fsim *fs, struct fs_comp *c)
{
    const struct herd_fleet_service *s = &c->spec->u.service;
    herd_sim_name(fs->sim, ev_work_done, "service.work_done");
    int rc = 0;
    switch (s->admission) {
    case HERD_FLEET_ADMIT_ALL:
    case HERD_FLEET_ADMIT_THROTTLE:
        break;
    case HERD_FLEET_ADMIT_TOKEN_BUCKET: {
        /* a request takes 1000 tokens: a fractional rate stays exact to 0.001/s */
        struct herd_ratelimit_config rc_ = {
            .rate = (uint64_t)llround(s->admit_rate_per_s * 1000),
            .per_ns = INT64_C(1000000000),
            .burst = 1000 * (s->admit_burst > 0 ? (uint64_t)s->admit_burst : 1)};
        if (rc_.rate == 0)
            rc_.rate = 1;
        c->rl = malloc(sizeof *c->rl);
        if (!c->rl)
            return -HERD_ENOMEM;
        rc = herd_ratelimit_init(c->rl, &rc_, 0);
        if (rc < 0) {
            free(c->rl);
            c->rl = NULL;
        }
        break;
    }
    case HERD_FLEET_ADMIT_LIMITER:
        rc = limiter_init(c);
        break;
    }
    return rc;
}

void fs_service_fini(struct fs_comp *c)
{
    if (c->rl) {
        herd_ratelimit_fini(c->rl);
        free(c->rl);
    }
    if (c->lim) {
        herd_limiter_fini(c->lim);
        free(c->lim);
    }
    free(c->q);
    c->rl = NULL;
    c->lim = NULL;
    c->q = NULL;
}

/* Workers that may be busy now. */
static int64_t workers_now(const struct fs_comp *c)
{
    const struct herd_fleet_service *s = &c->spec->u.service;
    if (s->unlimited)
        return INT64_MAX;
    if (c->cap_loss <= 0)
        return s->workers;
    return s->workers - (int64_t)llround((double)s->workers * c->cap_loss);
}

static void q_push(struct fsim *fs, struct fs_comp *c, uint64_t h)
{
    if (fs_ring_room(fs, (void **)&c->q, &c->q_cap, &c->q_head, c->q_len, sizeof *c->q) < 0)
        return;
    c->q[(c->q_head + c->q_len++) & (c->q_cap - 1)] = h;
    fs_level(fs, c, FS_TL_QUEUE, (int64_t)c->q_len);
}

static uint64_t q_pop(struct fsim *fs, struct fs_comp *c, bool newest)
{
    uint64_t h;
    if (newest) {
        h = c->q[(c->q_head + c->q_len - 1) & (c->q_cap - 1)];
    } else {
        h = c->q[c->q_head];
        c->q_head = (c->q_head + 1) & (c->q_cap - 1);
    }
    c->q_len--;
    fs_level(fs, c, FS_TL_QUEUE, (int64_t)c->q_len);
    return h;
}

static void limiter_release(struct fsim *fs, struct fs_comp *c, struct fs_att *a, int status)
{
    if (!a->limited || !c->lim)
        return;
    a->limited = 0;
    /* every overload loss is a drop to the limiter: shed, refused by a full queue, or
     * pushed out of a full DROP_OLDEST queue (it is how that queue refuses) */
    bool loss = status == FS_SHED || status == FS_REJECT || status == FS_DROPPED;
    enum herd_limiter_outcome o = status == FS_OK ? HERD_LIMITER_SUCCESS
                                  : loss          ? HERD_LIMITER_DROPPED
                                                  : HERD_LIMITER_IGNORE;
    herd_limiter_release(c->lim, &a->ltok, o, herd_sim_now(fs->sim));
}

/* The request of attempt @p ai is over with @p status after holding a worker. */
static void finish(struct fsim *fs, struct fs_comp *c, uint32_t ai, int status)
{
    struct fs_att *a = &fs->atts[ai];
    int64_t now = herd_sim_now(fs->sim);
    c->busy--;
    fs_level(fs, c, FS_TL_CONC, c->busy);
    if (fs_abandoned(fs, a)) {
        c->fig->wasted++;
        c->fig->wasted_ns += now - a->start_ns;
    }
    limiter_release(fs, c, a, status);
    fs_answer(fs, ai, status, FS_HOW_WORK);
    fs_service_pump(fs, c);
}

/* Drop attempt @p ai (in service or waiting on a call) that a crash took down, without
 * touching the new life's counters. */
static void lost(struct fsim *fs, uint32_t ai)
{
    struct fs_att *a = &fs->atts[ai];
    a->limited = 0; /* the limiter was renewed at the crash */
    fs_drop(fs, ai, false);
}

static void next_call(struct fsim *fs, struct fs_comp *c, uint32_t ai)
{
    struct fs_att *a = &fs->atts[ai];
    const struct herd_fleet_service *s = &c->spec->u.service;
    if (a->step >= s->ncalls) {
        finish(fs, c, ai, FS_OK);
        return;
    }
    if (s->cancel_abandoned && fs_abandoned(fs, a)) {
        finish(fs, c, ai, FS_ERROR); /* its caller is gone: stop here (no answer is heard) */
        return;
    }
    a->callee = FS_CALLEE_WAIT;
    int edge = c->edges[a->step];
    fs_call_begin(fs, edge, FS_OWN_SREQ, ai, a->gen, a->client, a->key, herd_sim_now(fs->sim));
}

static void ev_work_done(struct herd_sim *sim, void *ctx, uint64_t h)
{
    (void)sim;
    struct fsim *fs = ctx;
    struct fs_comp *c;
    struct fs_att *a = fs_att_callee(fs, h, &c);
    if (!a)
        return;
    uint32_t ai = (uint32_t)h;
    if (a->epoch != c->epoch) {
        lost(fs, ai);
        return;
    }
    if (a->hs & FS_HS_ONLY) { /* a reopened connection: no request, no calls */
        finish(fs, c, ai, FS_OK);
        return;
    }
    next_call(fs, c, ai);
}

void fs_service_call_done(struct fsim *fs, struct fs_call *call, bool ok)
{
    uint32_t ai = call->owner;
    if (ai >= fs->natts || fs->atts[ai].gen != call->owner_gen)
        return;
    struct fs_att *a = &fs->atts[ai];
    struct fs_comp *c = &fs->comps[fs->edges[a->edge].to];
    if (a->callee != FS_CALLEE_WAIT)
        return;
    if (a->epoch != c->epoch) {
        lost(fs, ai);
        return;
    }
    a->callee = FS_CALLEE_BUSY;
    if (!ok) {
        finish(fs, c, ai, FS_ERROR);
        return;
    }
    a->step++;
    next_call(fs, c, ai);
}

/* A worker takes attempt @p ai now. */
static void start(struct fsim *fs, struct fs_comp *c, uint32_t ai)
{
    struct fs_att *a = &fs->atts[ai];
    const struct herd_fleet_service *s = &c->spec->u.service;
    int64_t now = herd_sim_now(fs->sim);
    if (s->cancel_abandoned && fs_abandoned(fs, a)) {
        limiter_release(fs, c, a, FS_ERROR);
        fs_drop(fs, ai, true);
        return;
    }
    if (s->shed_wait_ns > 0 && now - a->arrive_ns > s->shed_wait_ns) {
        limiter_release(fs, c, a, FS_SHED);
        fs_answer(fs, ai, FS_SHED, FS_HOW_NONE);
        return;
    }
    int64_t n = ++c->busy;
    fs_level(fs, c, FS_TL_CONC, n);
    double t =
        (a->hs & FS_HS_ONLY) ? 0 : (double)fs_draw(&c->rng, s->dist, s->service_ns, s->sigma);
    double hs = 0;
    if (a->hs) { /* the TLS handshake first, on this worker */
        const struct fs_edge *ed = &fs->edges[a->edge];
        hs = (double)((a->hs & FS_HS_RESUMED) ? ed->hs_resume_ns : ed->hs_full_ns);
    }
    double plain = t;
    t += hs;
    double dn = (double)n;
    t *= 1 + s->usl_sigma * (dn - 1) + s->usl_kappa * dn * (dn - 1);
    t *= 1 + s->per_concurrent * dn;
    t *= c->lat_factor;
    double share = fs_capacity_share(fs, c);
    if (s->unlimited && c->cap_loss > 0)
        share *= 1 - c->cap_loss;
    if (share > 0 && share < 1)
        t /= share;
    a->start_ns = now;
    a->callee = FS_CALLEE_BUSY;
    int64_t tn = herd_sim_round_ns(t);
    c->fig->busy_ns += tn;
    if (hs > 0)
        c->fig->handshake_ns += herd_sim_round_ns(t * hs / (hs + plain));
    herd_sim_after(fs->sim, tn, ev_work_done, fs, fs_handle(ai, a->gen), NULL);
}

void fs_service_pump(struct fsim *fs, struct fs_comp *c)
{
    const struct herd_fleet_service *s = &c->spec->u.service;
    while (c->q_len > 0 && c->busy < workers_now(c) && !c->down) {
        uint64_t h = q_pop(fs, c, s->discipline == HERD_FLEET_LIFO);
        struct fs_att *a = fs_att_get(fs, h);
        if (!a || a->callee != FS_CALLEE_QUEUED)
            continue;
        start(fs, c, (uint32_t)h);
    }
}

void fs_service_arrive(struct fsim *fs, struct fs_comp *c, uint32_t ai)
{
    struct fs_att *a = &fs->atts[ai];
    const struct herd_fleet_service *s = &c->spec->u.service;
    int64_t now = herd_sim_now(fs->sim);
    if (fs_refused(fs, c, ai))
        return;
    if (c->rl) {
        int64_t ra;
        if (herd_ratelimit_take(c->rl, 1000, now, &ra) != HERD_RATELIMIT_GO) {
            fs_answer(fs, ai, FS_REJECT, FS_HOW_NONE);
            return;
        }
    }
    if (c->lim) {
        if (herd_limiter_acquire(c->lim, now, &a->ltok) != HERD_LIMITER_GO) {
            fs_answer(fs, ai, FS_SHED, FS_HOW_NONE);
            return;
        }
        a->limited = 1;
    }
    if (c->busy < workers_now(c) && c->q_len == 0) {
        start(fs, c, ai);
        return;
    }
    if (s->queue_cap >= 0 && (int64_t)c->q_len >= s->queue_cap) {
        if (s->discipline != HERD_FLEET_DROP_OLDEST || s->queue_cap == 0) {
            limiter_release(fs, c, a, FS_REJECT);
            fs_answer(fs, ai, FS_REJECT, FS_HOW_NONE);
            return;
        }
        uint64_t oh = q_pop(fs, c, false);
        struct fs_att *o = fs_att_get(fs, oh);
        if (o && o->callee == FS_CALLEE_QUEUED) {
            limiter_release(fs, c, o, FS_DROPPED);
            fs_answer(fs, (uint32_t)oh, FS_DROPPED, FS_HOW_NONE);
        }
        a = &fs->atts[ai];
    }
    a->callee = FS_CALLEE_QUEUED;
    q_push(fs, c, fs_handle(ai, a->gen));
}

void fs_service_crash(struct fsim *fs, struct fs_comp *c)
{
    c->epoch++;
    c->busy = 0;
    fs_level(fs, c, FS_TL_CONC, 0);
    while (c->q_len > 0) {
        uint64_t h = q_pop(fs, c, false);
        struct fs_att *a = fs_att_get(fs, h);
        if (a && a->callee == FS_CALLEE_QUEUED)
            lost(fs, (uint32_t)h);
    }
    if (c->lim) { /* the tokens of what was lost are never released: a new limiter */
        herd_limiter_fini(c->lim);
        free(c->lim);
        c->lim = NULL;
        if (limiter_init(c) < 0)
            fs_fail(fs, -HERD_ENOMEM);
    }
}
