/* wake_costs.h — what one event of a wake-up herd costs, and how it varies (the accept
 * and condvar models).
 *
 * Both models run the same path per event: a lead (accept: the handshake until the
 * connection is queued; condvar: enqueue until the wake call), a wake loop that costs
 * per_waiter for each waiter it wakes, a dispatch when an idle core picks a woken waiter,
 * and each woken waiter's CPU burst in two halves. Each model derives its base costs from
 * the profile (its costs_of()).
 *
 * Variation. Live, these costs differ from one event to the next on the same machine: the
 * one-wake path (lead, dispatch, bursts) by the one-wake latency's spread, the wake loop,
 * a CPU-bound pass over N waiters, by its own, smaller one. `herd calibrate` measures
 * both as log-sds (profile.h: *_spread, *_loop_spread) and herd_wake_costs_draw() gives
 * each event its base costs scaled by two log-normal factors of median 1
 * (herd_sim_speed), drawn from a stream of their own so no other draw moves. With both
 * spreads 0 every event costs the base exactly.
 * Thread safety: none; one run owns its state.
 */
#ifndef HERD_SIM_WAKE_COSTS_H
#define HERD_SIM_WAKE_COSTS_H

#include <stdint.h>

#include "engine.h"

/* One event's costs in ns. */
struct herd_wake_costs {
    int64_t per_waiter; /* the wake loop, per waiter it wakes */
    int64_t half;       /* half of a woken waiter's CPU burst */
    int64_t dispatch;   /* an idle core starts running a woken waiter */
    int64_t lead;       /* the event's start to its wake loop, no herd */
};

/* How this machine varies them from one event to the next. */
struct herd_wake_var {
    struct herd_rng rng;
    double spread;      /* log-sd of the one-wake path */
    double loop_spread; /* log-sd of the wake loop's cost per waiter */
};

/** Seed @p v from stream @p stream of @p sim's run with the profile's two log-sds. */
static inline void herd_wake_var_init(struct herd_wake_var *v, const struct herd_sim *sim,
                                      uint64_t stream, double spread, double loop_spread)
{
    herd_sim_rng(sim, stream, &v->rng);
    v->spread = spread;
    v->loop_spread = loop_spread;
}

/** The costs of the next event: @p base with its one-wake path and its loop scaled. */
static inline struct herd_wake_costs herd_wake_costs_draw(const struct herd_wake_costs *base,
                                                          struct herd_wake_var *v)
{
    double x = herd_sim_speed(&v->rng, v->spread);
    double y = herd_sim_speed(&v->rng, v->loop_spread);
    struct herd_wake_costs c;
    c.half = herd_sim_round_ns((double)base->half * x);
    c.dispatch = herd_sim_round_ns((double)base->dispatch * x);
    c.lead = herd_sim_round_ns((double)base->lead * x);
    c.per_waiter = herd_sim_round_ns((double)base->per_waiter * y);
    return c;
}

#endif
