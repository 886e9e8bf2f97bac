/* hop.h — a network hop: how long one message takes from one simulated entity to another.
 *
 * What it is for. Models put a hop between a client and a service (a request going
 * out, a reply coming back), so the time a message spends on the wire is a drawn
 * quantity, not a constant buried in the model. Four distributions:
 *   - CONSTANT     exactly mean_ns (no draw: loopback, or a calibrated fixed cost);
 *   - NORMAL       |Normal(mean_ns, sd_ns)|: the AWS backoff study's 10 ms ± 2 ms hop;
 *                  folded at 0 rather than clipped, so no mass piles up at 0;
 *   - EXPONENTIAL  mean mean_ns: memoryless, the textbook network;
 *   - LOGNORMAL    mean mean_ns, sd of log(time) = sigma: the long right tail real
 *                  networks have (a few slow packets, retransmits).
 * A hop holds no state of its own beyond its parameters: the caller passes the rng
 * (the sending entity's stream), so a hop shared by a million clients costs nothing
 * per client and a client's draws do not depend on anyone else's.
 *
 * Cost: one ziggurat draw (herd_rng_normal_fast / herd_rng_exp_fast, ~6-7 ns; LOGNORMAL
 * adds an exp) and, for herd_hop_send(), one engine event.
 * Thread safety: a struct herd_hop is read-only after init; share it freely.
 */
#ifndef HERD_SIM_HOP_H
#define HERD_SIM_HOP_H

#include <stdint.h>

#include <herd/rng.h>

#include "engine.h"

enum herd_hop_dist {
    HERD_HOP_CONSTANT = 0, /* mean_ns exactly */
    HERD_HOP_NORMAL,       /* |Normal(mean_ns, spread)|, spread = sd in ns */
    HERD_HOP_EXPONENTIAL,  /* Exp(mean mean_ns); spread ignored */
    HERD_HOP_LOGNORMAL,    /* mean mean_ns, spread = sd of log(time) */
};

struct herd_hop {
    enum herd_hop_dist dist;
    int64_t mean_ns; /* >= 0 */
    double spread;   /* NORMAL: sd in ns; LOGNORMAL: sigma (dimensionless); >= 0 */
};

/**
 * Set up @p h. @return 0, or -HERD_EINVAL when @p dist is unknown, @p mean_ns < 0 or
 * @p spread < 0 or not a number.
 */
int herd_hop_init(struct herd_hop *h, enum herd_hop_dist dist, int64_t mean_ns, double spread);

/** One hop's latency in ns (>= 0), drawn from @p rng (borrowed; unused and may be NULL
 *  for CONSTANT). */
int64_t herd_hop_draw(const struct herd_hop *h, struct herd_rng *rng);

/**
 * Deliver a message over @p h: schedule fn(sim, ctx, arg) one hop from now.
 * @p ctx is borrowed and must outlive the event. @return herd_sim_after()'s result.
 */
int herd_hop_send(struct herd_sim *sim, const struct herd_hop *h, struct herd_rng *rng,
                  herd_sim_event_fn fn, void *ctx, uint64_t arg);

/** "constant", "normal", "exponential", "lognormal"; "?" otherwise. */
const char *herd_hop_dist_name(enum herd_hop_dist dist);

#endif
