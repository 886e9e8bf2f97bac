/* service.c — c workers behind a bounded FIFO; see service.h for the model.
 *
 * Invariants: busy <= workers; a record is FREE (on the free list), QUEUED (its index
 * in the ring exactly once) or BUSY (exactly one completion event pending, arg = its
 * index); the ring is FIFO in arrival order; a request starts at submit only if a
 * worker is free and nobody is queued, so a callback that submits re-entrantly can
 * never overtake a queued request.
 * Callbacks run after the service's own state is consistent and hold no pointer into
 * the record array (a callback may submit, which may grow it).
 * Cost: O(1) per request. Thread safety: none.
 */
#include "service.h"

#include <assert.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <herd/error.h>

enum { FREE, QUEUED, BUSY };

struct herd_service_req {
    herd_service_done_fn done;
    void *ctx;
    uint64_t tag; /* FREE: index of the next free record */
    int64_t arrive_ns;
    int64_t work_ns; /* service time it was given */
    uint32_t gen;    /* bumped on free, so stale ids are recognised */
    uint8_t state;
    uint8_t abandoned;
};

#define NONE UINT32_MAX

static uint64_t make_id(uint32_t gen, uint32_t idx)
{
    return (uint64_t)gen << 32 | idx;
}

static int new_record(struct herd_service *svc, uint32_t *idx)
{
    if (svc->free_head == NONE) {
        if (svc->nreqs == svc->capreqs) {
            uint32_t cap = svc->capreqs ? svc->capreqs * 2 : 64;
            if (cap <= svc->capreqs)
                return -HERD_ENOMEM;
            void *p = realloc(svc->reqs, (size_t)cap * sizeof *svc->reqs);
            if (!p)
                return -HERD_ENOMEM;
            svc->reqs = p;
            svc->capreqs = cap;
        }
        svc->reqs[svc->nreqs].gen = 1;
        svc->reqs[svc->nreqs].state = FREE;
        svc->reqs[svc->nreqs].tag = NONE;
        svc->free_head = svc->nreqs++;
    }
    *idx = svc->free_head;
    svc->free_head = (uint32_t)svc->reqs[*idx].tag;
    return 0;
}

static void free_record(struct herd_service *svc, uint32_t idx)
{
    struct herd_service_req *r = &svc->reqs[idx];
    r->state = FREE;
    r->gen = r->gen + 1 ? r->gen + 1 : 1; /* never 0, so no live id is ever 0 */
    r->tag = svc->free_head;
    svc->free_head = idx;
}

static int ring_push(struct herd_service *svc, uint32_t idx)
{
    if (svc->ring_len == svc->ring_cap) {
        uint32_t cap = svc->ring_cap ? svc->ring_cap * 2 : 64;
        if (cap <= svc->ring_cap)
            return -HERD_ENOMEM;
        uint32_t *p = malloc((size_t)cap * sizeof *p);
        if (!p)
            return -HERD_ENOMEM;
        for (uint32_t i = 0; i < svc->ring_len; i++) /* unwrap into the new ring */
            p[i] = svc->ring[(svc->ring_head + i) & (svc->ring_cap - 1)];
        free(svc->ring);
        svc->ring = p;
        svc->ring_cap = cap;
        svc->ring_head = 0;
    }
    svc->ring[(svc->ring_head + svc->ring_len++) & (svc->ring_cap - 1)] = idx;
    return 0;
}

static uint32_t ring_pop(struct herd_service *svc)
{
    uint32_t idx = svc->ring[svc->ring_head];
    svc->ring_head = (svc->ring_head + 1) & (svc->ring_cap - 1);
    svc->ring_len--;
    return idx;
}

static double draw_service(struct herd_service *svc)
{
    const struct herd_service_config *c = &svc->cfg;
    double mean = (double)c->service_ns;
    switch (c->dist) {
    case HERD_SERVICE_EXPONENTIAL:
        return herd_rng_exp_fast(&svc->rng, mean);
    case HERD_SERVICE_LOGNORMAL: {
        if (mean <= 0)
            return 0;
        double s = c->lognormal_sigma;
        return exp(herd_rng_normal_fast(&svc->rng, log(mean) - s * s / 2, s));
    }
    case HERD_SERVICE_DETERMINISTIC:
    default:
        return mean;
    }
}

static void on_complete(struct herd_sim *sim, void *ctx, uint64_t arg);

static void start(struct herd_service *svc, uint32_t idx)
{
    const struct herd_service_config *c = &svc->cfg;
    struct herd_service_req *r = &svc->reqs[idx];
    int64_t now = herd_sim_now(svc->sim);
    svc->busy++;
    if (svc->busy > svc->st.peak_busy)
        svc->st.peak_busy = svc->busy;
    double h = (double)svc->busy + (double)svc->ring_len;
    double n = c->usl_on_held ? h : (double)svc->busy;
    if (c->usl_on_held && c->usl_held_cap > 0 && n > (double)c->usl_held_cap)
        n = (double)c->usl_held_cap;
    double slow =
        (1 + c->linear * (h - 1)) * (1 + c->usl_sigma * (n - 1) + c->usl_kappa * n * (n - 1));
    double d = draw_service(svc) * slow;
    int64_t dur = d < (double)(INT64_MAX / 4) ? herd_sim_round_ns(d) : INT64_MAX / 4;
    r->state = BUSY;
    r->work_ns = dur;
    svc->st.busy_ns += dur;
    svc->st.wait_ns_sum += (double)(now - r->arrive_ns);
    herd_sim_after(svc->sim, dur, on_complete, svc, idx, NULL); /* errors are sticky */
}

/* Fill free workers from the queue, shedding and skipping on the way. */
static void pull(struct herd_service *svc)
{
    const struct herd_service_config *c = &svc->cfg;
    while (svc->busy < c->workers && svc->ring_len) {
        uint32_t idx = ring_pop(svc);
        struct herd_service_req *r = &svc->reqs[idx];
        if (r->abandoned && c->skip_abandoned) {
            svc->st.skipped++;
            free_record(svc, idx);
            continue;
        }
        if (c->shed_wait_ns > 0 && herd_sim_now(svc->sim) - r->arrive_ns > c->shed_wait_ns) {
            svc->st.shed++;
            herd_service_done_fn done = r->abandoned ? NULL : r->done;
            void *ctx = r->ctx;
            uint64_t tag = r->tag;
            int64_t waited = herd_sim_now(svc->sim) - r->arrive_ns;
            free_record(svc, idx);
            if (done)
                done(svc->sim, ctx, tag, -HERD_ESHED, waited);
            continue;
        }
        start(svc, idx);
    }
}

static void on_complete(struct herd_sim *sim, void *ctx, uint64_t arg)
{
    struct herd_service *svc = ctx;
    uint32_t idx = (uint32_t)arg;
    struct herd_service_req *r = &svc->reqs[idx];
    assert(r->state == BUSY);
    int64_t latency = herd_sim_now(sim) - r->arrive_ns;
    svc->busy--;
    svc->st.served++;
    svc->st.sojourn_ns_sum += (double)latency;
    if (svc->cfg.latency)
        herd_hist_record(svc->cfg.latency, latency);
    herd_service_done_fn done = NULL;
    void *dctx = r->ctx;
    uint64_t tag = r->tag;
    if (r->abandoned) {
        svc->st.wasted++;
        svc->st.wasted_ns += r->work_ns;
    } else {
        done = r->done;
    }
    free_record(svc, idx);
    /* The requester hears first; a submit it makes now queues behind anyone waiting
     * (submit starts a request only when nobody is queued), then the worker pulls. */
    if (done)
        done(sim, dctx, tag, 0, latency);
    pull(svc);
}

static void prefetch_complete(void *ctx, uint64_t arg)
{
    const struct herd_service *svc = ctx;
    const struct herd_service_req *r = &svc->reqs[(uint32_t)arg];
    if (svc->cfg.prefetch && !r->abandoned && r->done) /* one kind for all services */
        svc->cfg.prefetch(r->ctx, r->tag);
}

int herd_service_init(struct herd_service *svc, struct herd_sim *sim,
                      const struct herd_service_config *cfg)
{
    memset(svc, 0, sizeof *svc);
    if (cfg->workers < 1 || cfg->service_ns < 0 || !(cfg->linear >= 0) || !(cfg->usl_sigma >= 0) ||
        !(cfg->usl_kappa >= 0) || !(cfg->lognormal_sigma >= 0) ||
        cfg->dist > HERD_SERVICE_LOGNORMAL || cfg->overflow > HERD_SERVICE_DROP)
        return -HERD_EINVAL;
    svc->sim = sim;
    svc->cfg = *cfg;
    svc->free_head = NONE;
    herd_sim_rng(sim, cfg->stream, &svc->rng);
    herd_sim_name(sim, on_complete, "service.complete");
    if (cfg->prefetch)
        herd_sim_prefetch(sim, on_complete, prefetch_complete);
    return 0;
}

void herd_service_fini(struct herd_service *svc)
{
    free(svc->reqs);
    free(svc->ring);
    memset(svc, 0, sizeof *svc);
}

int herd_service_submit(struct herd_service *svc, herd_service_done_fn done, void *ctx,
                        uint64_t tag, uint64_t *id)
{
    const struct herd_service_config *c = &svc->cfg;
    svc->st.arrivals++;
    bool can_start = svc->busy < c->workers && svc->ring_len == 0;
    if (!can_start && c->queue_cap >= 0 && (int64_t)svc->ring_len >= c->queue_cap) {
        if (c->overflow == HERD_SERVICE_REJECT) {
            svc->st.rejected++;
            return -HERD_EREJECT;
        }
        svc->st.dropped++;
        if (id)
            *id = 0;
        return 0;
    }
    uint32_t idx;
    int rc = new_record(svc, &idx);
    if (rc < 0)
        return rc;
    struct herd_service_req *r = &svc->reqs[idx];
    r->done = done;
    r->ctx = ctx;
    r->tag = tag;
    r->arrive_ns = herd_sim_now(svc->sim);
    r->work_ns = 0;
    r->abandoned = 0;
    uint64_t my_id = make_id(r->gen, idx);
    if (can_start) {
        start(svc, idx);
    } else {
        r->state = QUEUED;
        rc = ring_push(svc, idx);
        if (rc < 0) {
            free_record(svc, idx);
            return rc;
        }
        svc->st.waited++;
        if ((int64_t)svc->ring_len > svc->st.peak_queue)
            svc->st.peak_queue = svc->ring_len;
    }
    if (id)
        *id = my_id;
    return svc->sim->err;
}

int herd_service_abandon(struct herd_service *svc, uint64_t id)
{
    uint32_t idx = (uint32_t)id, gen = (uint32_t)(id >> 32);
    if (gen == 0 || idx >= svc->nreqs)
        return -HERD_ENOENT;
    struct herd_service_req *r = &svc->reqs[idx];
    if (r->gen != gen || r->state == FREE || r->abandoned)
        return -HERD_ENOENT;
    r->abandoned = 1;
    return 0;
}
