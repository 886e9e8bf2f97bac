/* hop.c — network hop latencies; see hop.h. Pure functions of (parameters, rng). */
#include "hop.h"

#include <assert.h>
#include <math.h>

#include <herd/error.h>

int herd_hop_init(struct herd_hop *h, enum herd_hop_dist dist, int64_t mean_ns, double spread)
{
    if ((unsigned)dist > HERD_HOP_LOGNORMAL || mean_ns < 0 || !(spread >= 0))
        return -HERD_EINVAL;
    h->dist = dist;
    h->mean_ns = mean_ns;
    h->spread = spread;
    return 0;
}

/* A draw as an int64 of ns, rounded, saturated far below INT64_MAX so now + hop cannot
 * overflow in the engine. */
static int64_t to_ns(double d)
{
    if (!(d > 0))
        return 0;
    return d < (double)(INT64_MAX / 4) ? herd_sim_round_ns(d) : INT64_MAX / 4;
}

int64_t herd_hop_draw(const struct herd_hop *h, struct herd_rng *rng)
{
    double m = (double)h->mean_ns;
    switch (h->dist) {
    case HERD_HOP_CONSTANT:
        return h->mean_ns;
    case HERD_HOP_NORMAL:
        assert(rng);
        return to_ns(fabs(herd_rng_normal_fast(rng, m, h->spread)));
    case HERD_HOP_EXPONENTIAL:
        assert(rng);
        return to_ns(herd_rng_exp_fast(rng, m));
    case HERD_HOP_LOGNORMAL: {
        assert(rng);
        if (h->mean_ns == 0)
            return 0;
        /* mu chosen so that the mean (not the median) is mean_ns. */
        double s = h->spread;
        return to_ns(exp(herd_rng_normal_fast(rng, log(m) - s * s / 2, s)));
    }
    }
    return h->mean_ns;
}

int herd_hop_send(struct herd_sim *sim, const struct herd_hop *h, struct herd_rng *rng,
                  herd_sim_event_fn fn, void *ctx, uint64_t arg)
{
    return herd_sim_after(sim, herd_hop_draw(h, rng), fn, ctx, arg, NULL);
}

const char *herd_hop_dist_name(enum herd_hop_dist dist)
{
    switch (dist) {
    case HERD_HOP_CONSTANT:
        return "constant";
    case HERD_HOP_NORMAL:
        return "normal";
    case HERD_HOP_EXPONENTIAL:
        return "exponential";
    case HERD_HOP_LOGNORMAL:
        return "lognormal";
    }
    return "?";
}
