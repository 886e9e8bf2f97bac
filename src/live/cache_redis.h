/* cache_redis.h — the cache herd's cache kept in a real Redis (seed 000: "Redis as a cache
 * in front of Postgres") instead of libherd's in-process swr cache, with the same
 * answers, so that src/live/cache.c runs every strategy on either:
 *   HIT            the value is fresh;
 *   STALE_REFRESH  past its soft TTL, within the stale window, and this caller won the
 *                  key's refresh marker (SET herd:cache:K:refresh NX PX): it refreshes;
 *   STALE          past its soft TTL, someone else refreshes;
 *   MISS           Redis has no value (its own PX expiry removed it).
 * A value is one string herd:cache:K holding the origin's value, when it was set, its soft
 * expiry and its delta (XFetch's cost of the recompute), set with PX = the soft TTL (plus
 * the stale window under swr), so the expiry the herd reacts to is Redis's own. Times are
 * herd's CLOCK_MONOTONIC: one process writes and reads them.
 * Each requester thread holds its own connection; the store's commands are counted by the
 * server (INFO commandstats).
 * Thread safety: a connection belongs to one thread; the store is read-only once open.
 */
#ifndef HERD_LIVE_CACHE_REDIS_H
#define HERD_LIVE_CACHE_REDIS_H

#include <herd/rng.h>
#include <herd/swr.h>
#include <stddef.h>
#include <stdint.h>

#include "origin.h"
#include "svc.h"

struct herd_rcache_config {
    int64_t ttl_ns;   /* soft TTL */
    int64_t stale_ns; /* the stale window past it (0: none, a value vanishes at the TTL) */
    int jitter_pct;   /* set() with an rng draws the TTL in ttl * (1 +- jitter_pct / 100) */
    const char *url;  /* the user's Redis (borrowed; NULL or "": a private one) */
    int max_conns;    /* connections the run holds at once */
};

struct herd_rcache;
struct herd_rcache_conn;

/** Start (or attach to) Redis and clear herd:cache:*. @return 0 or < 0 with one line. */
int herd__rcache_open(const struct herd_rcache_config *cfg, struct herd_rcache **out, char *err,
                      size_t errlen);
/** A connection for the calling thread. @return 0 or < 0 with one line in @p err. */
int herd__rcache_connect(struct herd_rcache *rc, struct herd_rcache_conn **out, char *err,
                         size_t errlen);
void herd__rcache_disconnect(struct herd_rcache_conn *c);

/** Look key @p k up at @p now_ns. @return an enum herd_swr_state (value and @p info filled
 *  but for MISS), or -HERD_EINVAL when Redis failed. */
int herd__rcache_get(struct herd_rcache_conn *c, int k, int64_t now_ns, struct herd_origin_value *v,
                     struct herd_swr_info *info);
/** Store @p v for key @p k at @p now_ns, computed in @p delta_ns; @p rng not NULL: jitter
 *  the TTL. @p *fresh_until_ns (may be NULL) gets its soft expiry. @return 0 or < 0. */
int herd__rcache_set(struct herd_rcache_conn *c, int k, const struct herd_origin_value *v,
                     int64_t now_ns, int64_t delta_ns, struct herd_rng *rng,
                     int64_t *fresh_until_ns);
/** Try to take key @p k's refresh lock (SET herd:cache:K:lock TOKEN NX PX @p lease_ns),
 *  the "distributed lock per key" seed 004 warns about. @return 1 taken, 0 held by
 *  another, < 0 Redis failed. */
int herd__rcache_lock(struct herd_rcache_conn *c, int k, uint64_t token, int64_t lease_ns);
/** Release it if it is still ours (the compare-and-delete script). */
void herd__rcache_unlock(struct herd_rcache_conn *c, int k, uint64_t token);

/** A refresh that failed hands the key's refresh on (drops its marker). */
void herd__rcache_refresh_failed(struct herd_rcache_conn *c, int k);

/** Commands the server executed so far (INFO commandstats, INFO excluded), read over
 *  @p c; UINT64_MAX when it cannot say. */
uint64_t herd__rcache_commands(struct herd_rcache_conn *c);
/** The server's start-up (0 for the user's). */
double herd__rcache_startup_s(const struct herd_rcache *rc);

/** Stop the private server (or clear herd:cache:* on the user's). NULL is fine. */
void herd__rcache_close(struct herd_rcache *rc);

#endif
