/* swr.c — stale-while-revalidate cache; see herd/swr.h.
 *
 * Layout: a fixed pool of entries (key buffer, value buffer), a power-of-two bucket
 * array of chains, and an intrusive doubly linked LRU list (most recent at head),
 * all behind one mutex. Free entries sit on a free list threaded through `next`.
 *
 * Invariants (under mu): an entry is either free or in exactly one bucket chain and
 * in the LRU list; set_ns <= fresh_until <= stale_until; `refreshing` is true only
 * between a STALE_REFRESH answer and the next set()/refresh_failed() (or timeout).
 *
 * Cost: every call is one lock/unlock of mu around O(1) work (a chain lookup kept
 * short by 2x buckets, an LRU relink, one memcpy of the value). Memory: max_entries x
 * (entry + key + value buffer) plus 2 x max_entries bucket indices, made in new().
 */
#include <herd/error.h>
#include <herd/jitter.h>
#include <herd/swr.h>

#include "alloc_int.h"

#include <assert.h>
#include <pthread.h>
#include <string.h>

#define NIL (-1)

struct entry {
    uint64_t hash;
    int32_t next; /* bucket chain, or free list */
    int32_t lru_prev, lru_next;
    bool in_use;
    bool refreshing; /* a reader holds the refresh turn */
    bool failed;     /* the last refresh failed: stale_if_error applies */
    int64_t refresh_started_ns;
    int64_t next_refresh_ns; /* backoff after a failure: no refresh turn before */
    int64_t backoff_ns;      /* the next backoff to use */
    int64_t set_ns, fresh_until_ns, stale_until_ns, delta_ns;
    size_t keylen;
    unsigned char *key;
    void *val;
    size_t len, cap;
};

struct herd_swr {
    pthread_mutex_t mu;
    struct herd_swr_config cfg;
    const struct herd_allocator *alloc;
    struct entry *e;
    size_t nentries;
    int32_t *buckets;
    size_t mask;
    int32_t free_head, lru_head, lru_tail;
    unsigned char *keys;
    unsigned char *vals; /* max_entries x max_value_len, or NULL in grow mode */
    struct herd_swr_stats st;
};

void herd_swr_free(struct herd_swr *c)
{
    if (!c)
        return;
    const struct herd_allocator *a = c->alloc;
    if (!c->vals)
        for (size_t i = 0; i < c->nentries; i++)
            herd__free(a, c->e[i].val);
    pthread_mutex_destroy(&c->mu);
    herd__free(a, c->e);
    herd__free(a, c->buckets);
    herd__free(a, c->keys);
    herd__free(a, c->vals);
    herd__free(a, c);
}

static bool mul_ok(size_t a, size_t b)
{
    return b == 0 || a <= SIZE_MAX / b;
}

int herd_swr_new(const struct herd_swr_config *cfg, struct herd_swr **out)
{
    struct herd_swr_config k = {0};
    size_t nb = 1;
    int rc;

    if (!out)
        return -HERD_EINVAL;
    if (cfg)
        k = *cfg;
    if (k.max_entries == 0)
        k.max_entries = 1024;
    if (k.max_key_len == 0)
        k.max_key_len = 256;
    if (k.retry_base_ns <= 0)
        k.retry_base_ns = 100 * INT64_C(1000000);
    if (k.retry_cap_ns <= 0)
        k.retry_cap_ns = 30 * INT64_C(1000000000);
    if (k.retry_cap_ns < k.retry_base_ns)
        k.retry_cap_ns = k.retry_base_ns;
    if (k.max_entries > INT32_MAX / 4 || k.ttl_ns < 0 || k.stale_ns < 0 ||
        k.stale_if_error_ns < 0 || k.refresh_timeout_ns < 0 || k.jitter_pct < 0 ||
        k.jitter_pct > 100 || !mul_ok(k.max_entries, k.max_key_len) ||
        !mul_ok(k.max_entries, k.max_value_len))
        return -HERD_EINVAL;
    struct herd_swr *c = herd__calloc(k.alloc, 1, sizeof *c);
    if (!c)
        return -HERD_ENOMEM;
    c->cfg = k;
    c->alloc = k.alloc;
    while (nb < 2 * k.max_entries)
        nb <<= 1;
    rc = -HERD_ENOMEM;
    if (!(c->e = herd__calloc(k.alloc, k.max_entries, sizeof *c->e)))
        goto fail;
    if (!(c->buckets = herd__calloc(k.alloc, nb, sizeof *c->buckets)))
        goto fail;
    if (!(c->keys = herd__alloc(k.alloc, k.max_entries * k.max_key_len)))
        goto fail;
    if (k.max_value_len && !(c->vals = herd__alloc(k.alloc, k.max_entries * k.max_value_len)))
        goto fail;
    if ((rc = -pthread_mutex_init(&c->mu, NULL)) != 0)
        goto fail;
    c->nentries = k.max_entries;
    c->mask = nb - 1;
    for (size_t i = 0; i < nb; i++)
        c->buckets[i] = NIL;
    for (size_t i = 0; i < c->nentries; i++) {
        struct entry *e = &c->e[i];
        e->key = c->keys + i * k.max_key_len;
        if (c->vals) {
            e->val = c->vals + i * k.max_value_len;
            e->cap = k.max_value_len;
        }
        e->next = i + 1 < c->nentries ? (int32_t)(i + 1) : NIL;
    }
    c->free_head = 0;
    c->lru_head = c->lru_tail = NIL;
    *out = c;
    return 0;
fail:
    herd__free(k.alloc, c->e);
    herd__free(k.alloc, c->buckets);
    herd__free(k.alloc, c->keys);
    herd__free(k.alloc, c->vals);
    herd__free(k.alloc, c);
    return rc;
}

static int32_t lookup(struct herd_swr *c, uint64_t h, const void *key, size_t keylen)
{
    for (int32_t i = c->buckets[h & c->mask]; i != NIL; i = c->e[i].next) {
        struct entry *e = &c->e[i];
        if (e->hash == h && e->keylen == keylen && (!keylen || memcmp(e->key, key, keylen) == 0))
            return i;
    }
    return NIL;
}

static void lru_unlink(struct herd_swr *c, int32_t i)
{
    struct entry *e = &c->e[i];
    if (e->lru_prev != NIL)
        c->e[e->lru_prev].lru_next = e->lru_next;
    else
        c->lru_head = e->lru_next;
    if (e->lru_next != NIL)
        c->e[e->lru_next].lru_prev = e->lru_prev;
    else
        c->lru_tail = e->lru_prev;
}

static void lru_push_head(struct herd_swr *c, int32_t i)
{
    struct entry *e = &c->e[i];
    e->lru_prev = NIL;
    e->lru_next = c->lru_head;
    if (c->lru_head != NIL)
        c->e[c->lru_head].lru_prev = i;
    c->lru_head = i;
    if (c->lru_tail == NIL)
        c->lru_tail = i;
}

static void touch(struct herd_swr *c, int32_t i)
{
    if (c->lru_head == i)
        return;
    lru_unlink(c, i);
    lru_push_head(c, i);
}

/* Take entry i out of its chain and the LRU list and put it on the free list. */
static void remove_entry(struct herd_swr *c, int32_t i)
{
    struct entry *e = &c->e[i];
    int32_t *p = &c->buckets[e->hash & c->mask];
    while (*p != i) {
        assert(*p != NIL);
        p = &c->e[*p].next;
    }
    *p = e->next;
    lru_unlink(c, i);
    e->in_use = false;
    e->next = c->free_head;
    c->free_head = i;
    c->st.entries--;
}

/* Until when @p e may be served stale at all. */
static int64_t servable_until(const struct herd_swr *c, const struct entry *e)
{
    int64_t until = e->stale_until_ns;
    if (e->failed && c->cfg.stale_if_error_ns > 0 &&
        e->fresh_until_ns + c->cfg.stale_if_error_ns > until)
        until = e->fresh_until_ns + c->cfg.stale_if_error_ns;
    return until;
}

int herd_swr_get(struct herd_swr *c, const void *key, size_t keylen, int64_t now_ns, void *buf,
                 size_t cap, struct herd_swr_info *info)
{
    int state;
    if (keylen > c->cfg.max_key_len || (!key && keylen) || (!buf && cap))
        return -HERD_EINVAL;
    uint64_t h = herd_hash_bytes(key, keylen);
    pthread_mutex_lock(&c->mu);
    int32_t i = lookup(c, h, key, keylen);
    if (i == NIL) {
        c->st.misses++;
        pthread_mutex_unlock(&c->mu);
        return HERD_SWR_MISS;
    }
    struct entry *e = &c->e[i];
    if (now_ns < e->fresh_until_ns) {
        state = HERD_SWR_HIT;
        c->st.hits++;
    } else if (now_ns >= servable_until(c, e)) {
        /* Past the hard TTL: nothing servable, whoever is refreshing. */
        state = HERD_SWR_MISS;
        c->st.misses++;
        c->st.expired++;
    } else {
        bool timed_out = e->refreshing && c->cfg.refresh_timeout_ns > 0 &&
                         now_ns - e->refresh_started_ns >= c->cfg.refresh_timeout_ns;
        if ((!e->refreshing || timed_out) && now_ns >= e->next_refresh_ns) {
            if (timed_out)
                c->st.refresh_takeovers++;
            e->refreshing = true;
            e->refresh_started_ns = now_ns;
            state = HERD_SWR_STALE_REFRESH;
            c->st.stale_refresh++;
        } else {
            state = HERD_SWR_STALE;
            c->st.stale++;
        }
    }
    if (info)
        *info = (struct herd_swr_info){e->len, e->set_ns, e->fresh_until_ns, servable_until(c, e),
                                       e->delta_ns};
    if (state != HERD_SWR_MISS && cap) {
        size_t n = e->len < cap ? e->len : cap;
        if (n)
            memcpy(buf, e->val, n);
    }
    touch(c, i);
    pthread_mutex_unlock(&c->mu);
    return state;
}

/* The soft TTL to use: jittered when the caller passed an rng (herd/jitter.h's
 * +- percent, the same function the rest of herd uses), never negative. */
static int64_t draw_ttl(struct herd_swr *c, int64_t ttl, struct herd_rng *rng)
{
    if (!rng)
        return ttl;
    if (c->cfg.jitter)
        ttl = c->cfg.jitter(c->cfg.jitter_arg, ttl, rng);
    else if (c->cfg.jitter_pct > 0)
        ttl = herd_jitter_pct(ttl, (double)c->cfg.jitter_pct, rng);
    return ttl < 0 ? 0 : ttl;
}

int herd_swr_set(struct herd_swr *c, const void *key, size_t keylen, const void *val, size_t len,
                 int64_t now_ns, const struct herd_swr_ttl *ttl, int64_t delta_ns,
                 struct herd_rng *rng)
{
    assert(c);
    if ((!key && keylen) || (!val && len) || keylen > c->cfg.max_key_len ||
        (c->vals && len > c->cfg.max_value_len))
        return -HERD_EINVAL;
    uint64_t h = herd_hash_bytes(key, keylen);
    int64_t soft = ttl ? ttl->ttl_ns : c->cfg.ttl_ns;
    int64_t stale = ttl ? ttl->stale_ns : c->cfg.stale_ns;
    pthread_mutex_lock(&c->mu);
    soft = draw_ttl(c, soft < 0 ? 0 : soft, rng);
    int32_t i = lookup(c, h, key, keylen);
    struct entry *e;
    bool fresh = i == NIL;
    if (fresh) {
        if (c->free_head == NIL) {
            /* Bounded: the least recently used entry makes room. */
            assert(c->lru_tail != NIL);
            remove_entry(c, c->lru_tail);
            c->st.evictions++;
        }
        i = c->free_head;
        e = &c->e[i];
        c->free_head = e->next;
        e->in_use = true;
        e->hash = h;
        e->keylen = keylen;
        if (keylen)
            memcpy(e->key, key, keylen);
        e->next = c->buckets[h & c->mask];
        c->buckets[h & c->mask] = i;
        lru_push_head(c, i);
        e->len = 0;
        c->st.entries++;
    } else {
        e = &c->e[i];
        touch(c, i);
    }
    if (len > e->cap) {
        /* Grow mode only (fixed buffers were checked above). */
        void *p = herd__realloc(c->alloc, e->val, len);
        if (!p) {
            /* Leave an old value in place; drop an entry that never had one so the
             * next reader misses rather than reading nothing as a value. */
            if (fresh)
                remove_entry(c, i);
            pthread_mutex_unlock(&c->mu);
            return -HERD_ENOMEM;
        }
        e->val = p;
        e->cap = len;
    }
    if (len)
        memcpy(e->val, val, len);
    e->len = len;
    e->set_ns = now_ns;
    e->fresh_until_ns = now_ns + soft;
    e->stale_until_ns = e->fresh_until_ns + (stale > 0 ? stale : 0);
    e->delta_ns = delta_ns;
    e->refreshing = false;
    e->failed = false;
    e->next_refresh_ns = 0;
    e->backoff_ns = 0;
    c->st.sets++;
    pthread_mutex_unlock(&c->mu);
    return 0;
}

int herd_swr_refresh_failed(struct herd_swr *c, const void *key, size_t keylen, int64_t now_ns)
{
    if (!key && keylen)
        return -HERD_EINVAL;
    if (keylen > c->cfg.max_key_len)
        return -HERD_ENOENT;
    uint64_t h = herd_hash_bytes(key, keylen);
    pthread_mutex_lock(&c->mu);
    int32_t i = lookup(c, h, key, keylen);
    if (i != NIL) {
        struct entry *e = &c->e[i];
        int64_t b = e->backoff_ns > 0 ? e->backoff_ns : c->cfg.retry_base_ns;
        e->refreshing = false;
        e->failed = true;
        e->next_refresh_ns = now_ns + b;
        /* Doubling backoff, capped: never gives up, never hammers a sick origin. */
        e->backoff_ns = b > c->cfg.retry_cap_ns / 2 ? c->cfg.retry_cap_ns : 2 * b;
        c->st.refresh_failures++;
    }
    pthread_mutex_unlock(&c->mu);
    return i == NIL ? -HERD_ENOENT : 0;
}

int herd_swr_mark_expired(struct herd_swr *c, const void *key, size_t keylen, int64_t now_ns)
{
    if (!key && keylen)
        return -HERD_EINVAL;
    if (keylen > c->cfg.max_key_len)
        return -HERD_ENOENT;
    uint64_t h = herd_hash_bytes(key, keylen);
    pthread_mutex_lock(&c->mu);
    int32_t i = lookup(c, h, key, keylen);
    if (i != NIL) {
        struct entry *e = &c->e[i];
        if (e->fresh_until_ns > now_ns)
            e->fresh_until_ns = now_ns;
        if (e->stale_until_ns < e->fresh_until_ns)
            e->stale_until_ns = e->fresh_until_ns;
    }
    pthread_mutex_unlock(&c->mu);
    return i == NIL ? -HERD_ENOENT : 0;
}

int herd_swr_delete(struct herd_swr *c, const void *key, size_t keylen)
{
    if (!key && keylen)
        return -HERD_EINVAL;
    if (keylen > c->cfg.max_key_len)
        return -HERD_ENOENT;
    uint64_t h = herd_hash_bytes(key, keylen);
    pthread_mutex_lock(&c->mu);
    int32_t i = lookup(c, h, key, keylen);
    if (i != NIL)
        remove_entry(c, i);
    pthread_mutex_unlock(&c->mu);
    return i == NIL ? -HERD_ENOENT : 0;
}

void herd_swr_stats(struct herd_swr *c, struct herd_swr_stats *out)
{
    if (!out)
        return;
    pthread_mutex_lock(&c->mu);
    *out = c->st;
    pthread_mutex_unlock(&c->mu);
}
