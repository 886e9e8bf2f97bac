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
 * delta is MEASURED per key: time each recomputation and store its duration beside
 * the value. herd/swr.h does it for its entries (set() takes delta_ns, get() returns
 * it in info.delta_ns); a cache of your own can embed struct herd_xfetch_key and call
 * herd_xfetch_key_store() after each recomputation.
 *
 * Early refreshes go through singleflight: of the readers who draw "refresh" at about
 * the same moment only one should do the work. herd_xfetch_begin() is the two steps
 * in one: the XFetch draw, then a NON-BLOCKING herd_singleflight_begin() on the key.
 * Only the caller that draws "refresh" AND leads the key's flight refreshes; everyone
 * else (no draw, or another refresh already in flight) serves the still-valid value
 * at once: an early refresh never makes a reader wait. The live cache herd
 * (src/live/cache.c, strategy xfetch) works exactly this way, with swr as the cache
 * and the same flight table coalescing its misses.
 *
 * Cost: one uniform draw and one log, about 10 ns; herd_xfetch_begin() adds one
 * singleflight begin (one mutex) only when the draw says refresh. No allocation.
 * Thread safety: pure apart from the caller's rng (one per thread); a struct
 * herd_xfetch_key is guarded by whatever guards the value it describes.
 */
#ifndef HERD_XFETCH_H
#define HERD_XFETCH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <herd/rng.h>
#include <herd/singleflight.h>

/** The paper's recommended default: beta = 1. */
#define HERD_XFETCH_BETA_DEFAULT 1.0

/** herd_xfetch_begin(): you lead the early refresh; recompute, then complete the ticket. */
#define HERD_XFETCH_LEAD 1
/** herd_xfetch_begin(): serve the cached value; no refresh for you. */
#define HERD_XFETCH_SERVE 0

/** What XFetch knows about one cached key; caller-owned, zero it to start. */
struct herd_xfetch_key {
    int64_t delta_ns;  /* duration of the last recomputation; 0: unknown (no early refresh) */
    int64_t expiry_ns; /* when the current value expires */
};

/**
 * Should the reader at @p now_ns recompute the value that expires at @p expiry_ns
 * and took @p delta_ns to compute last time? Draws one uniform from @p rng
 * (borrowed, not shared between threads) unless the answer is decided without it.
 * @return true at or past the expiry; false when @p beta <= 0, @p delta_ns <= 0 or
 *         @p rng is NULL and the entry is still valid; otherwise true with probability
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

/**
 * Record a recomputation of @p k's value that started at @p started_ns and finished
 * at @p done_ns with a value valid until @p expiry_ns: delta = done - started (the
 * paper's delta: the last recomputation's duration; a negative span is stored as 0).
 * NULL @p k: nothing.
 */
void herd_xfetch_key_store(struct herd_xfetch_key *k, int64_t started_ns, int64_t done_ns,
                           int64_t expiry_ns);

/** herd_xfetch_should_refresh() with @p k's expiry and measured delta. */
bool herd_xfetch_key_should_refresh(const struct herd_xfetch_key *k, int64_t now_ns, double beta,
                                    struct herd_rng *rng);

/**
 * XFetch through singleflight, for a reader holding a value that expires at
 * @p expiry_ns (computed in @p delta_ns): draw as herd_xfetch_should_refresh(), and on
 * "refresh" try to lead @p key's flight in @p sf without blocking.
 * @return HERD_XFETCH_LEAD with @p *t a leader ticket: serve your value, recompute,
 *         store it, then herd_singleflight_complete(sf, t, ...) (or abandon);
 *         HERD_XFETCH_SERVE: serve your value (no draw, or a refresh already in flight:
 *         the joiner ticket was released here); or a negative code from
 *         herd_singleflight_begin() (table full, shed): the refresh is skipped, serve;
 *         -HERD_EINVAL for a NULL @p t.
 */
int herd_xfetch_begin(struct herd_singleflight *sf, const void *key, size_t keylen,
                      int64_t now_ns, int64_t expiry_ns, int64_t delta_ns, double beta,
                      struct herd_rng *rng, struct herd_singleflight_ticket *t);

#endif
