/* herd/xfetch.h — probabilistic early recomputation of a cached value (XFetch).
 *
 * Vattani, Chierichetti and Lowenstein, "Optimal Probabilistic Cache Stampede
 * Prevention", VLDB 2015: every reader of a still-valid entry recomputes it early
 * when
 *
 *     now - delta * beta * ln(U) >= expiry,     U uniform in (0, 1],
 *
 * where delta is how long the last recomputation took. Since -ln(U) >= 0 the left
 * side only ever moves later than now, so a reader refreshes early, never late. At
 * time-to-expiry tau = expiry - now >= 0 a single reader refreshes with probability
 * exp(-tau / (delta * beta)): negligible far from the expiry, certain at it. With many
 * readers the first early refresh lands about delta * beta * ln(readers per delta)
 * before the expiry, so the hotter the key, the earlier (and the more surely) one
 * reader refreshes before everyone misses together. beta > 1 favours earlier
 * refreshes; beta = 0 turns early refresh off (refresh exactly at the expiry).
 *
 * The decision is all this module makes: the caller stores delta per key (measure
 * each recomputation; herd/swr.h keeps it beside the entry) and runs the refresh,
 * ideally through herd/singleflight.h's non-blocking begin so that of the readers who
 * draw "refresh" at once only one does the work.
 *
 * Cost: one uniform draw and one log, about 10 ns. Pure: thread-safe as long as each
 * thread passes its own struct herd_rng.
 */
#ifndef HERD_XFETCH_H
#define HERD_XFETCH_H

#include <stdbool.h>
#include <stdint.h>

#include <herd/rng.h>

/** The paper's recommended default: beta = 1. */
#define HERD_XFETCH_BETA_DEFAULT 1.0

/**
 * Should the reader at @p now_ns recompute the value that expires at @p expiry_ns
 * and took @p delta_ns to compute last time? Draws one uniform from @p rng
 * (borrowed, not shared between threads) unless the answer is decided without it.
 * @return true at or past the expiry; false when @p beta <= 0 or @p delta_ns <= 0
 *         and the entry is still valid; otherwise true with probability
 *         exp(-(expiry_ns - now_ns) / (delta_ns * beta)).
 */
bool herd_xfetch_should_refresh(int64_t now_ns, int64_t expiry_ns, int64_t delta_ns, double beta,
                                struct herd_rng *rng);

/**
 * The analytic probability that one reader refreshes early at time-to-expiry
 * @p tau_ns: exp(-tau / (delta * beta)), 1 when tau <= 0, 0 when beta or delta is 0
 * and tau > 0. For tests, documentation and simulators that want the rate.
 */
double herd_xfetch_probability(int64_t tau_ns, int64_t delta_ns, double beta);

#endif
