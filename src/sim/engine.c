/* engine.c — simulated clock, dispatch loop and kind table; see engine.h.
 *
 * Invariants: now_ns only grows and never exceeds the queue's earliest event; a kind's
 * tag is its index in kinds[] (1-based: tag 0 marks a cancelled queue entry);
 * kind_hash holds every registered fn exactly once.
 * Cost: see engine.h. Thread safety: none.
 */
#include "engine.h"

#include <assert.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <herd/error.h>

#define HASH_BITS 11
#define HASH_SIZE (1 << HASH_BITS) /* 2 * HERD_SIM_KINDS_MAX: at most half full */

_Static_assert(HERD_SIM_KINDS_MAX < 65536, "a kind is a 16-bit queue tag");
_Static_assert(HASH_SIZE >= 2 * HERD_SIM_KINDS_MAX, "the kind hash is at most half full");

/* Fibonacci hashing of the pointer: one multiply, the top bits. Kinds are numbered by
 * first use, not by hash, so the hash only decides where a lookup probes: it changes
 * no run's output. Models alternate between a few fns (read, reply, write ...), which
 * defeats the one-entry cache, so this sits on the path of most schedules; the
 * splitmix finaliser it replaces (with the probe) was ~5 % of an event in the queue
 * preset. */
static inline size_t fn_slot(herd_sim_event_fn fn)
{
    uint64_t x = 0;
    memcpy(&x, &fn, sizeof fn < sizeof x ? sizeof fn : sizeof x);
    return (size_t)((x * UINT64_C(0x9e3779b97f4a7c15)) >> (64 - HASH_BITS));
}

/* The kind of @p fn, registering it if new. 0 when the table is full. */
static inline uint16_t kind_of(struct herd_sim *sim, herd_sim_event_fn fn)
{
    size_t i = fn_slot(fn);
    for (;; i = (i + 1) & (HASH_SIZE - 1)) {
        uint16_t k = sim->kind_hash[i];
        if (k == 0)
            break;
        if (sim->kinds[k].fn == fn)
            return k;
    }
    if (sim->nkinds >= HERD_SIM_KINDS_MAX)
        return 0;
    uint16_t k = ++sim->nkinds;
    sim->kinds[k].fn = fn;
    snprintf(sim->kinds[k].name, sizeof sim->kinds[k].name, "k%u", (unsigned)k);
    sim->kind_hash[i] = k;
    return k;
}

int herd_sim_init(struct herd_sim *sim, uint64_t seed)
{
    memset(sim, 0, sizeof *sim);
    sim->seed = seed;
    sim->kinds = calloc(HERD_SIM_KINDS_MAX + 1, sizeof *sim->kinds);
    sim->kind_hash = calloc(HASH_SIZE, sizeof *sim->kind_hash);
    if (!sim->kinds || !sim->kind_hash || herd_queue_init(&sim->queue) < 0) {
        herd_sim_fini(sim);
        return -HERD_ENOMEM;
    }
    return 0;
}

void herd_sim_fini(struct herd_sim *sim)
{
    herd_queue_fini(&sim->queue);
    free(sim->kinds);
    free(sim->kind_hash);
    memset(sim, 0, sizeof *sim);
}

int herd_sim_at(struct herd_sim *sim, int64_t t_ns, herd_sim_event_fn fn, void *ctx, uint64_t arg,
                struct herd_sim_timer *timer)
{
    assert(fn);
    assert(t_ns >= sim->now_ns && "an event must not be scheduled in the past");
    if (sim->err)
        return sim->err;
    size_t c = fn_slot(fn) & (HERD_SIM_KCACHE - 1);
    uint16_t kind = sim->kcache_kind[c];
    if (sim->kcache_fn[c] != fn) {
        kind = kind_of(sim, fn);
        if (!kind)
            return sim->err = -HERD_ELIMIT;
        sim->kcache_fn[c] = fn;
        sim->kcache_kind[c] = kind;
    }
    int rc = herd_queue_push(&sim->queue, t_ns, kind, ctx, arg, timer ? &timer->h : NULL);
    if (rc < 0)
        sim->err = rc;
    return rc;
}

int herd_sim_after(struct herd_sim *sim, int64_t delay_ns, herd_sim_event_fn fn, void *ctx,
                   uint64_t arg, struct herd_sim_timer *timer)
{
    assert(delay_ns >= 0);
    int64_t t =
        delay_ns > HERD_SIM_FOREVER - sim->now_ns ? HERD_SIM_FOREVER : sim->now_ns + delay_ns;
    return herd_sim_at(sim, t, fn, ctx, arg, timer);
}

int herd_sim_cancel(struct herd_sim *sim, struct herd_sim_timer *timer)
{
    int rc = herd_queue_cancel(&sim->queue, &timer->h);
    if (rc == 0)
        memset(timer, 0, sizeof *timer);
    return rc;
}

static inline void dispatch(struct herd_sim *sim, const struct herd_queue_entry *e)
{
    if (sim->prefetching) { /* two events ahead: one event's work is not always enough */
        const struct herd_queue_entry *h[2];
        herd_queue_hint(&sim->queue, h);
        for (int j = 0; j < 2 && h[j]; j++) {
            herd_sim_prefetch_fn pf = sim->kinds[h[j]->key & 0xffff].prefetch;
            if (pf)
                pf(h[j]->ctx, h[j]->arg);
        }
    }
    const struct herd_sim_kind *k = &sim->kinds[e->key & 0xffff];
    sim->now_ns = e->time_ns;
    sim->events++;
    if (sim->trace)
        sim->trace(sim->trace_ctx, e->time_ns, k->name, e->arg);
    k->fn(sim, e->ctx, e->arg);
}

int herd_sim_run_until(struct herd_sim *sim, int64_t until_ns)
{
    struct herd_queue_entry e;
    sim->stopped = false;
    while (!sim->err) {
        if (sim->watch && --sim->poll_in <= 0 && herd__sim_poll(sim))
            return sim->err;
        int rc = herd_queue_pop(&sim->queue, until_ns, &e);
        if (rc == -HERD_ENOENT) {
            if (until_ns != HERD_SIM_FOREVER && until_ns > sim->now_ns)
                sim->now_ns = until_ns;
            return 0;
        }
        if (rc < 0)
            return sim->err = rc;
        dispatch(sim, &e);
        if (sim->stopped)
            break;
    }
    return sim->err;
}

bool herd__sim_poll(struct herd_sim *sim)
{
    sim->poll_in = HERD_SIM_WATCH_EVERY;
    if (!sim->err && sim->watch->poll(sim->watch->ctx, sim->now_ns, sim->events)) {
        sim->err = -HERD_EINTR;
        sim->stopped = true;
    }
    return sim->err != 0;
}

int herd_sim_step(struct herd_sim *sim)
{
    struct herd_queue_entry e;
    if (sim->err)
        return sim->err;
    int rc = herd_queue_pop(&sim->queue, HERD_SIM_FOREVER, &e);
    if (rc == -HERD_ENOENT)
        return rc;
    if (rc < 0)
        return sim->err = rc;
    dispatch(sim, &e);
    return sim->err;
}

void herd_sim_stop(struct herd_sim *sim)
{
    sim->stopped = true;
}

int herd_sim_name(struct herd_sim *sim, herd_sim_event_fn fn, const char *name)
{
    assert(fn && name);
    uint16_t k = kind_of(sim, fn);
    if (!k)
        return -HERD_ELIMIT;
    snprintf(sim->kinds[k].name, sizeof sim->kinds[k].name, "%s", name);
    return 0;
}

int herd_sim_prefetch(struct herd_sim *sim, herd_sim_event_fn fn, herd_sim_prefetch_fn pf)
{
    assert(fn);
    uint16_t k = kind_of(sim, fn);
    if (!k)
        return -HERD_ELIMIT;
    sim->kinds[k].prefetch = pf;
    if (pf)
        sim->prefetching = true;
    return 0;
}

void herd_sim_set_trace(struct herd_sim *sim, herd_sim_trace_fn fn, void *ctx)
{
    sim->trace = fn;
    sim->trace_ctx = ctx;
}

void herd_sim_set_hooks(struct herd_sim *sim, const struct herd_sim_hooks *hooks)
{
    sim->trace = hooks ? hooks->trace : NULL;
    sim->trace_ctx = hooks ? hooks->trace_ctx : NULL;
    sim->watch = hooks ? hooks->watch : NULL;
    sim->requests = hooks ? hooks->requests : NULL;
    sim->poll_in = HERD_SIM_WATCH_EVERY;
}

void herd_sim_rng(const struct herd_sim *sim, uint64_t stream, struct herd_rng *rng)
{
    herd_rng_stream(rng, sim->seed, stream);
}

int herd_sim_next_time(const struct herd_sim *sim, int64_t *t_ns)
{
    return herd_queue_peek(&sim->queue, t_ns);
}
