/* herd/swr.h — a stale-while-revalidate cache: one refresh per key, the rest served.
 *
 * Each entry has a soft TTL (fresh until) and a hard TTL (servable stale until, a
 * stale window after the soft one). A get() tells the caller what to do:
 *
 *   HIT            fresh: use the value.
 *   STALE_REFRESH  past the soft TTL: use the stale value, and YOU refresh it (then
 *                  herd_swr_set(), or herd_swr_refresh_failed()). Exactly one caller
 *                  per key gets this until the refresh ends or times out.
 *   STALE          past the soft TTL, someone else is refreshing (or a failed refresh
 *                  is backing off): use the stale value.
 *   MISS           absent, or past the hard TTL: nothing servable; fetch (coalesce
 *                  fetches with herd/singleflight.h) and set.
 *
 * A refresh never stretches service past the hard TTL: a slow refresher does not
 * make a value servable longer; once the hard TTL passes, readers MISS. The one
 * exception is opt-in: stale_if_error (RFC 5861) keeps serving after a FAILED
 * refresh. Failed refreshes back off (doubling from retry_base to retry_cap) but never
 * stop: after the backoff the next reader gets STALE_REFRESH again.
 *
 * TTLs are per entry (set() takes an override) and may be jittered: pass an rng to
 * set() and the soft TTL is drawn in ttl * (1 +- jitter_pct/100), or from the
 * caller's own jitter hook, so keys filled together do not expire together.
 * Each entry also stores delta_ns, how long its last computation took, for XFetch
 * (herd/xfetch.h), and returns it from get().
 *
 * Values are bytes COPIED in by set() and copied out by get() (into the caller's
 * buffer), so nothing borrowed outlives the lock. Size is bounded: at max_entries a
 * set() of a new key evicts the least recently used entry.
 *
 * Combining: a MISS is best fetched through herd/singleflight.h (one fetch per key);
 * a HIT may be refreshed early with herd/xfetch.h, using info.delta_ns and
 * info.fresh_until_ns (docs/mitigations/xfetch.md shows the three together).
 *
 * Cost: one mutex per call, a hash lookup, an LRU relink and a memcpy of the value
 * (bench/bench_swr.c measures a hit, 1 and 2 threads). Entries, keys and, with
 * max_value_len, value buffers are allocated at herd_swr_new() through the config's
 * allocator; without max_value_len, set() allocates when a value is longer than any
 * the slot held before (the only allocation after new). Thread-safe: any thread, any
 * call. Time is the caller's now_ns; randomness is the caller's rng.
 */
#ifndef HERD_SWR_H
#define HERD_SWR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <herd/alloc.h>
#include <herd/rng.h>

struct herd_swr;

/**
 * Jitter hook: return the soft TTL to use instead of @p ttl_ns, drawing from @p rng
 * (the caller's, passed through set()). Called under the cache's lock: keep it cheap.
 */
typedef int64_t (*herd_swr_jitter_fn)(void *arg, int64_t ttl_ns, struct herd_rng *rng);

struct herd_swr_config {
    size_t max_entries;         /* 0: 1024; a new key beyond it evicts the LRU entry */
    size_t max_key_len;         /* 0: 256 */
    size_t max_value_len;       /* >0: value buffers made at new(), set() never allocates and
                                 * a longer value is -HERD_EINVAL; 0: grow on demand */
    int64_t ttl_ns;             /* default soft TTL (fresh for); 0: every value is stale */
    int64_t stale_ns;           /* default stale window after the soft TTL; 0: no SWR */
    int64_t stale_if_error_ns;  /* after a failed refresh: servable until soft + this */
    int64_t refresh_timeout_ns; /* a refresher silent this long loses its turn; 0: never */
    int64_t retry_base_ns;      /* first backoff after a failed refresh; 0: 100 ms */
    int64_t retry_cap_ns;       /* longest backoff; 0: 30 s */
    int jitter_pct;             /* built-in TTL jitter in percent (herd_jitter_pct), used when
                                 * set() gets an rng; 0..100 */
    herd_swr_jitter_fn jitter;  /* replaces the built-in jitter when not NULL */
    void *jitter_arg;           /* passed to jitter; borrowed, must outlive the cache */
    const struct herd_allocator *alloc; /* NULL: libc; borrowed, must outlive the cache */
};

enum herd_swr_state {
    HERD_SWR_HIT = 0,
    HERD_SWR_STALE_REFRESH = 1,
    HERD_SWR_STALE = 2,
    HERD_SWR_MISS = 3,
};

/** Per-entry TTL override for set(). */
struct herd_swr_ttl {
    int64_t ttl_ns;   /* soft TTL */
    int64_t stale_ns; /* stale window after it */
};

/** What get() knows about the entry (filled for every state but an absent key). */
struct herd_swr_info {
    size_t len;             /* the value's full length (get() copied min(len, cap)) */
    int64_t set_ns;         /* when it was set */
    int64_t fresh_until_ns; /* soft expiry */
    int64_t stale_until_ns; /* hard expiry */
    int64_t delta_ns;       /* cost of its last computation, as given to set() */
};

struct herd_swr_stats {
    uint64_t hits, stale, stale_refresh, misses; /* get() results */
    uint64_t expired;           /* of the misses: present but past the hard TTL */
    uint64_t sets, evictions;
    uint64_t refresh_failures;  /* refresh_failed() calls */
    uint64_t refresh_takeovers; /* refreshes handed on after refresh_timeout_ns */
    uint64_t entries;           /* live entries now */
};

/**
 * Create a cache; @p cfg (NULL: the defaults) is copied.
 * @return 0 with it in @p *out, -HERD_ENOMEM, -HERD_EINVAL (a negative TTL, jitter_pct
 *         outside 0..100, sizes out of range), or a negated errno from the mutex.
 */
int herd_swr_new(const struct herd_swr_config *cfg, struct herd_swr **out);

/** Free @p c (NULL is fine); no thread may be inside a call. */
void herd_swr_free(struct herd_swr *c);

/**
 * Look @p key up at @p now_ns. Copies up to @p cap bytes of the value into @p buf
 * (may be NULL when cap is 0) for every state but MISS; fills @p info (may be NULL).
 * @return an enum herd_swr_state, or -HERD_EINVAL for a key longer than max_key_len.
 */
int herd_swr_get(struct herd_swr *c, const void *key, size_t keylen, int64_t now_ns, void *buf,
                 size_t cap, struct herd_swr_info *info);

/**
 * Store @p len bytes at @p val (copied) for @p key, computed in @p delta_ns, at
 * @p now_ns. @p ttl overrides the default TTLs (NULL: the config's). When @p rng is
 * not NULL the soft TTL is jittered. Ends any refresh in progress and its backoff.
 * A new key at max_entries evicts the least recently used entry.
 * @return 0, -HERD_ENOMEM, or -HERD_EINVAL (key too long, value over max_value_len);
 *         on an error an existing value is left as it was.
 */
int herd_swr_set(struct herd_swr *c, const void *key, size_t keylen, const void *val, size_t len,
                 int64_t now_ns, const struct herd_swr_ttl *ttl, int64_t delta_ns,
                 struct herd_rng *rng);

/**
 * The refresher that got STALE_REFRESH failed at @p now_ns: the stale value stays
 * (stale_if_error may extend it), and the next refresh is allowed after a backoff
 * doubling from retry_base_ns to retry_cap_ns (reset by the next set()). Also for a
 * fetch after a MISS past the hard TTL that failed: the entry is still kept, so within
 * soft TTL + stale_if_error_ns the next get() serves the old value (RFC 5861).
 * @return 0 or -HERD_ENOENT (the key is absent: evicted or deleted).
 */
int herd_swr_refresh_failed(struct herd_swr *c, const void *key, size_t keylen, int64_t now_ns);

/**
 * Make @p key stale now but keep it servable until its hard TTL: the next reader
 * refreshes it while the others are served (the soft delete of HTTP caches).
 * @return 0 or -HERD_ENOENT.
 */
int herd_swr_mark_expired(struct herd_swr *c, const void *key, size_t keylen, int64_t now_ns);

/** Remove @p key: the next reader MISSes. @return 0 or -HERD_ENOENT. */
int herd_swr_delete(struct herd_swr *c, const void *key, size_t keylen);

/** Copy the counters into @p out. */
void herd_swr_stats(struct herd_swr *c, struct herd_swr_stats *out);

#endif
