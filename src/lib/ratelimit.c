/* ratelimit.c — token bucket, reservations, per-key table; see herd/ratelimit.h.
 *
 * State of a bucket: `level` units (1 token = per_ns units; each ns adds `rate` units)
 * as of `last_ns`. Invariants (under the mutex): −DEBT_MAX <= level <= cap; last_ns
 * never decreases; the level at a later time t is min(cap, level + rate·(t − last_ns)),
 * computed in 64-bit integers without overflow because cap <= 2^61, DEBT_MAX = 2^62 and
 * the product is only formed when it is below cap − level < 2^63.
 *
 * Reservations are ordered by `reserved`, a running total of reserved units (it wraps
 * harmlessly: only differences are used). A reservation's mark is the total just after
 * it, so reserved − mark is exactly the units reserved after it; that is what a cancel
 * must not give back (golang.org/x/time/rate estimates the same quantity from times;
 * the running total makes it exact in units).
 *
 * Table: a fixed pool of entries, a power-of-two array of hash chains, a free list and
 * an LRU list (most recent at the head), all behind one mutex. The LRU tail is the key
 * idle longest, so idle keys are dropped from the tail in O(1) each.
 * Cost: a take is a lock, a few multiplications and a division; a keyed take adds a
 * hash of the key, a chain walk and four index writes for the LRU.
 */
#include <herd/error.h>
#include <herd/ratelimit.h>
#include <herd/rng.h>

#include "alloc_int.h"

#include <assert.h>
#include <errno.h>
#include <string.h>

#define DEBT_MAX (INT64_C(1) << 62)
#define NIL (-1)
#define EXPIRE_PER_CALL 2

static int64_t sat_add(int64_t a, int64_t b)
{
    if (b > 0 && a > INT64_MAX - b)
        return INT64_MAX;
    return a + b;
}

static int64_t ceil_div(uint64_t a, uint64_t b)
{
    return (int64_t)(a / b + (a % b != 0));
}

/* The level at @p now given @p level as of @p last (now >= last), capped. */
static int64_t level_at(const struct herd_ratelimit *b, int64_t level, int64_t last, int64_t now)
{
    if (now <= last || level >= b->cap)
        return level;
    uint64_t need = (uint64_t)(b->cap - level);
    uint64_t dt = (uint64_t)now - (uint64_t)last;
    if (dt >= (uint64_t)ceil_div(need, b->rate))
        return b->cap;
    return level + (int64_t)(dt * b->rate);
}

/* Bring (*level, *last) to max(now, *last); return that effective time. */
static int64_t advance(const struct herd_ratelimit *b, int64_t *level, int64_t *last, int64_t now)
{
    int64_t eff = now > *last ? now : *last;
    *level = level_at(b, *level, *last, eff);
    *last = eff;
    return eff;
}

/* Time from @p now until the level reaches @p want, given @p level at @p eff >= now. */
static int64_t wait_for(const struct herd_ratelimit *b, int64_t level, int64_t want, int64_t eff,
                        int64_t now)
{
    int64_t w = level >= want ? 0 : ceil_div((uint64_t)(want - level), b->rate);
    return sat_add(eff - now, w);
}

/* The take decision on one bucket's state; the caller holds the mutex. */
static int take_locked(struct herd_ratelimit *b, int64_t *level, int64_t *last, uint64_t n,
                       int64_t now, int64_t *retry)
{
    int64_t eff = advance(b, level, last, now);
    int64_t need = (int64_t)n * b->per_ns;
    if (*level >= need) {
        *level -= need;
        b->st.granted++;
        b->st.tokens += n;
        *retry = 0;
        return HERD_RATELIMIT_GO;
    }
    b->st.rate++;
    *retry = wait_for(b, *level, need, eff, now);
    return HERD_RATELIMIT_RATE;
}

static int check_config(const struct herd_ratelimit_config *cfg, struct herd_ratelimit *b)
{
    int64_t per = cfg->per_ns == 0 ? INT64_C(1000000000) : cfg->per_ns;
    if (cfg->rate == 0 || cfg->burst == 0 || per < 0)
        return -HERD_EINVAL;
    if (cfg->rate > (uint64_t)HERD_RATELIMIT_MAX_UNITS ||
        cfg->burst > (uint64_t)(HERD_RATELIMIT_MAX_UNITS / per))
        return -HERD_EINVAL;
    b->rate = cfg->rate;
    b->per_ns = per;
    b->burst = cfg->burst;
    b->cap = (int64_t)cfg->burst * per;
    return 0;
}

int herd_ratelimit_init(struct herd_ratelimit *rl, const struct herd_ratelimit_config *cfg,
                        int64_t now_ns)
{
    if (!rl || !cfg)
        return -HERD_EINVAL; /* a rate has no default */
    struct herd_ratelimit b;
    memset(&b, 0, sizeof b);
    int rc = check_config(cfg, &b);
    if (rc)
        return rc;
    b.level = b.cap;
    b.last_ns = now_ns;
    *rl = b;
    if ((rc = pthread_mutex_init(&rl->mu, NULL)) != 0)
        return -rc;
    return 0;
}

void herd_ratelimit_fini(struct herd_ratelimit *rl)
{
    if (rl)
        pthread_mutex_destroy(&rl->mu);
}

int herd_ratelimit_take(struct herd_ratelimit *rl, uint64_t n, int64_t now_ns,
                        int64_t *retry_after_ns)
{
    assert(rl);
    if (n < 1)
        return -HERD_EINVAL;
    int64_t retry;
    int d;
    pthread_mutex_lock(&rl->mu);
    if (n > rl->burst) {
        rl->st.too_big++;
        retry = HERD_RATELIMIT_NEVER;
        d = HERD_RATELIMIT_TOO_BIG;
    } else {
        d = take_locked(rl, &rl->level, &rl->last_ns, n, now_ns, &retry);
    }
    pthread_mutex_unlock(&rl->mu);
    if (retry_after_ns)
        *retry_after_ns = retry;
    return d;
}

int herd_ratelimit_reserve(struct herd_ratelimit *rl, uint64_t n, int64_t now_ns,
                           int64_t max_wait_ns, struct herd_ratelimit_reservation *res,
                           int64_t *retry_after_ns)
{
    assert(rl);
    if (!res || n < 1 || max_wait_ns < 0)
        return -HERD_EINVAL;
    int64_t retry = 0;
    int d = HERD_RATELIMIT_GO;
    pthread_mutex_lock(&rl->mu);
    if (n > rl->burst) {
        rl->st.too_big++;
        retry = HERD_RATELIMIT_NEVER;
        d = HERD_RATELIMIT_TOO_BIG;
        goto out;
    }
    int64_t eff = advance(rl, &rl->level, &rl->last_ns, now_ns);
    int64_t need = (int64_t)n * rl->per_ns;
    int64_t after = rl->level - need; /* >= −DEBT_MAX − 2^61: no overflow */
    int64_t charge = need;
    if (after < 0) {
        /* act_ns is rounded up to a whole ns; charge the accrual of that fraction of a ns
         * too, so the level at act_ns is exactly 0 and nobody else can use it at the
         * same instant as this reservation (found by the envelope property test).
         * w·rate < 2^62 + 2^61 + rate <= 2^63 − 1: no overflow. */
        int64_t w = ceil_div((uint64_t)-after, rl->rate);
        charge = need + (after + w * (int64_t)rl->rate); /* slack in [0, rate) */
        after = -w * (int64_t)rl->rate;
    }
    /* The wait counts from the latest time the bucket has seen (eff): a caller whose
     * clock reading is a little stale is not refused tokens that are there. */
    int64_t w = wait_for(rl, after, 0, eff, eff);
    int64_t wait = sat_add(eff - now_ns, w);
    if (w > max_wait_ns || after < -DEBT_MAX) {
        retry = w > max_wait_ns ? w - max_wait_ns : 0;
        if (after < -DEBT_MAX) { /* the debt cap: wait until it is repaid enough */
            int64_t wd = wait_for(rl, after, -DEBT_MAX, eff, eff);
            retry = wd > retry ? wd : retry;
        }
        rl->st.rate++;
        d = HERD_RATELIMIT_RATE;
        goto out;
    }
    rl->level = after;
    rl->reserved += (uint64_t)charge;
    rl->st.granted++;
    rl->st.tokens += n;
    res->act_ns = sat_add(now_ns, wait);
    res->wait_ns = wait;
    res->n = n;
    res->units = (uint64_t)charge;
    res->mark = rl->reserved;
    res->active = true;
out:
    pthread_mutex_unlock(&rl->mu);
    if (retry_after_ns)
        *retry_after_ns = retry;
    return d;
}

int64_t herd_ratelimit_cancel(struct herd_ratelimit *rl, struct herd_ratelimit_reservation *res,
                              int64_t now_ns)
{
    assert(rl);
    int64_t given = 0;
    if (!res)
        return 0;
    pthread_mutex_lock(&rl->mu);
    if (!res->active)
        goto out;
    res->active = false;
    rl->st.canceled++;
    int64_t eff = advance(rl, &rl->level, &rl->last_ns, now_ns);
    /* Its time has come: the tokens are consumed. */
    if (res->act_ns < eff)
        goto out;
    uint64_t later = rl->reserved - res->mark; /* reserved after it, still promised */
    uint64_t restore;
    if (later == 0) {
        /* The latest: undo it entirely, rounding charge included; the bucket is then
         * exactly as if it had never been made, and the one before is latest again. */
        restore = res->units;
        rl->reserved -= res->units;
    } else {
        /* Later reservations were given act times that count on this debt. Giving back
         * more than n·per − later (x/time/rate's rule), or any of this one's rounding
         * charge, would let them and new callers together exceed the envelope. */
        uint64_t units = res->n * (uint64_t)rl->per_ns;
        restore = later < units ? units - later : 0;
    }
    int64_t before = rl->level;
    int64_t lvl = rl->level + (int64_t)restore;
    rl->level = lvl > rl->cap ? rl->cap : lvl;
    given = rl->level - before;
    rl->st.restored += (uint64_t)given;
out:
    pthread_mutex_unlock(&rl->mu);
    return given;
}

int64_t herd_ratelimit_level(struct herd_ratelimit *rl, int64_t now_ns)
{
    assert(rl);
    pthread_mutex_lock(&rl->mu);
    int64_t eff = now_ns > rl->last_ns ? now_ns : rl->last_ns;
    int64_t l = level_at(rl, rl->level, rl->last_ns, eff);
    pthread_mutex_unlock(&rl->mu);
    return l;
}

uint64_t herd_ratelimit_tokens(struct herd_ratelimit *rl, int64_t now_ns)
{
    int64_t l = herd_ratelimit_level(rl, now_ns);
    return l <= 0 ? 0 : (uint64_t)(l / rl->per_ns);
}

void herd_ratelimit_stats(struct herd_ratelimit *rl, struct herd_ratelimit_stats *out)
{
    assert(rl);
    if (!out)
        return;
    pthread_mutex_lock(&rl->mu);
    *out = rl->st;
    pthread_mutex_unlock(&rl->mu);
}

/* ---- per-key table ------------------------------------------------------------------ */

struct entry {
    uint64_t hash;
    int32_t next;         /* hash chain while in use, free list while free */
    int32_t older, newer; /* LRU neighbours (NIL at the ends) */
    uint32_t keylen;
    int64_t level, last_ns; /* the key's bucket */
    int64_t used_ns;        /* latest take on this key */
};

struct herd_ratelimit_table {
    struct herd_ratelimit b; /* parameters, the mutex and the counters (level unused) */
    const struct herd_allocator *alloc;
    size_t max_keys, max_key_len, count;
    int64_t idle_ns;
    struct entry *e;
    int32_t *heads;
    size_t mask;
    int32_t free_head;
    int32_t newest, oldest; /* LRU ends */
    unsigned char *keys;
};

static unsigned char *key_of(struct herd_ratelimit_table *t, int32_t i)
{
    return t->keys + (size_t)i * t->max_key_len;
}

static void lru_unlink(struct herd_ratelimit_table *t, int32_t i)
{
    struct entry *e = &t->e[i];
    if (e->older != NIL)
        t->e[e->older].newer = e->newer;
    else
        t->oldest = e->newer;
    if (e->newer != NIL)
        t->e[e->newer].older = e->older;
    else
        t->newest = e->older;
    e->older = e->newer = NIL;
}

static void lru_push_newest(struct herd_ratelimit_table *t, int32_t i)
{
    struct entry *e = &t->e[i];
    e->older = t->newest;
    e->newer = NIL;
    if (t->newest != NIL)
        t->e[t->newest].newer = i;
    else
        t->oldest = i;
    t->newest = i;
}

static int32_t find(struct herd_ratelimit_table *t, uint64_t h, const void *key, size_t len)
{
    for (int32_t i = t->heads[h & t->mask]; i != NIL; i = t->e[i].next) {
        if (t->e[i].hash == h && t->e[i].keylen == len &&
            (!len || memcmp(key_of(t, i), key, len) == 0))
            return i;
    }
    return NIL;
}

static void remove_entry(struct herd_ratelimit_table *t, int32_t i)
{
    int32_t *pp = &t->heads[t->e[i].hash & t->mask];
    while (*pp != i)
        pp = &t->e[*pp].next;
    *pp = t->e[i].next;
    lru_unlink(t, i);
    t->e[i].next = t->free_head;
    t->free_head = i;
    t->count--;
}

/* Idle: untouched for idle_ns, and (always so, since idle_ns >= the refill time and a
 * table bucket never owes) full, so forgetting it loses nothing. */
static bool is_idle(struct herd_ratelimit_table *t, int32_t i, int64_t now)
{
    struct entry *e = &t->e[i];
    if (now <= e->used_ns || (uint64_t)now - (uint64_t)e->used_ns < (uint64_t)t->idle_ns)
        return false;
    return level_at(&t->b, e->level, e->last_ns, now) == t->b.cap;
}

static size_t expire_locked(struct herd_ratelimit_table *t, int64_t now, size_t max)
{
    size_t k = 0;
    while (k < max && t->oldest != NIL && is_idle(t, t->oldest, now)) {
        remove_entry(t, t->oldest);
        t->b.st.keys_idle++;
        k++;
    }
    return k;
}

void herd_ratelimit_table_free(struct herd_ratelimit_table *t)
{
    if (!t)
        return;
    const struct herd_allocator *a = t->alloc;
    pthread_mutex_destroy(&t->b.mu);
    herd__free(a, t->e);
    herd__free(a, t->heads);
    herd__free(a, t->keys);
    herd__free(a, t);
}

int herd_ratelimit_table_new(const struct herd_ratelimit_table_config *cfg,
                             struct herd_ratelimit_table **out)
{
    if (!cfg || !out)
        return -HERD_EINVAL; /* a rate has no default */
    struct herd_ratelimit proto;
    memset(&proto, 0, sizeof proto);
    int rc = check_config(&cfg->bucket, &proto);
    size_t max_keys = cfg->max_keys ? cfg->max_keys : 1024;
    size_t max_key_len = cfg->max_key_len ? cfg->max_key_len : 64;
    if (rc)
        return rc;
    if (max_keys > (size_t)INT32_MAX / 4 || max_key_len > UINT32_MAX || cfg->idle_ns < 0)
        return -HERD_EINVAL;
    size_t nb = 1;
    while (nb < 2 * max_keys)
        nb <<= 1;

    struct herd_ratelimit_table *t = herd__calloc(cfg->alloc, 1, sizeof *t);
    if (!t)
        return -HERD_ENOMEM;
    t->alloc = cfg->alloc;
    t->b = proto;
    t->max_keys = max_keys;
    t->max_key_len = max_key_len;
    /* An empty bucket refills in ceil(cap / rate) ns: never drop a key sooner. */
    int64_t refill = ceil_div((uint64_t)proto.cap, proto.rate);
    t->idle_ns = cfg->idle_ns > refill ? cfg->idle_ns : refill;
    rc = -HERD_ENOMEM;
    if (!(t->e = herd__calloc(cfg->alloc, max_keys, sizeof *t->e)))
        goto fail;
    if (!(t->heads = herd__calloc(cfg->alloc, nb, sizeof *t->heads)))
        goto fail;
    if (!(t->keys = herd__calloc(cfg->alloc, max_keys, max_key_len)))
        goto fail;
    if ((rc = -pthread_mutex_init(&t->b.mu, NULL)) != 0)
        goto fail;
    t->mask = nb - 1;
    for (size_t i = 0; i < nb; i++)
        t->heads[i] = NIL;
    for (size_t i = 0; i < max_keys; i++)
        t->e[i].next = i + 1 < max_keys ? (int32_t)(i + 1) : NIL;
    t->free_head = 0;
    t->newest = t->oldest = NIL;
    *out = t;
    return 0;

fail:
    herd__free(cfg->alloc, t->e);
    herd__free(cfg->alloc, t->heads);
    herd__free(cfg->alloc, t->keys);
    herd__free(cfg->alloc, t);
    return rc;
}

int herd_ratelimit_table_take(struct herd_ratelimit_table *t, const void *key, size_t keylen,
                              uint64_t n, int64_t now_ns, int64_t *retry_after_ns)
{
    assert(t);
    if ((!key && keylen) || n < 1 || keylen > t->max_key_len)
        return -HERD_EINVAL;
    uint64_t h = herd_hash_bytes(key, keylen);
    int64_t retry = 0;
    int d;
    pthread_mutex_lock(&t->b.mu);
    if (n > t->b.burst) {
        t->b.st.too_big++;
        retry = HERD_RATELIMIT_NEVER;
        d = HERD_RATELIMIT_TOO_BIG;
        goto out;
    }
    expire_locked(t, now_ns, EXPIRE_PER_CALL);
    int32_t i = find(t, h, key, keylen);
    if (i == NIL) {
        if (t->free_head == NIL) {
            /* Every key is still active: dropping one would hand it a fresh burst. */
            int64_t free_at = sat_add(t->e[t->oldest].used_ns, t->idle_ns);
            retry = free_at > now_ns ? free_at - now_ns : 1;
            t->b.st.full++;
            d = HERD_RATELIMIT_FULL;
            goto out;
        }
        i = t->free_head;
        struct entry *e = &t->e[i];
        t->free_head = e->next;
        e->hash = h;
        e->keylen = (uint32_t)keylen;
        if (keylen)
            memcpy(key_of(t, i), key, keylen);
        e->level = t->b.cap;
        e->last_ns = now_ns;
        e->used_ns = now_ns;
        e->next = t->heads[h & t->mask];
        t->heads[h & t->mask] = i;
        lru_push_newest(t, i);
        t->count++;
        t->b.st.keys_added++;
    } else if (t->newest != i) {
        lru_unlink(t, i);
        lru_push_newest(t, i);
    }
    struct entry *e = &t->e[i];
    if (now_ns > e->used_ns)
        e->used_ns = now_ns;
    d = take_locked(&t->b, &e->level, &e->last_ns, n, now_ns, &retry);
out:
    pthread_mutex_unlock(&t->b.mu);
    if (retry_after_ns)
        *retry_after_ns = retry;
    return d;
}

uint64_t herd_ratelimit_table_tokens(struct herd_ratelimit_table *t, const void *key, size_t keylen,
                                     int64_t now_ns)
{
    assert(t);
    if (!key)
        keylen = 0; /* the empty key */
    if (keylen > t->max_key_len)
        return t->b.burst;
    uint64_t h = herd_hash_bytes(key, keylen);
    int64_t l = t->b.cap;
    pthread_mutex_lock(&t->b.mu);
    int32_t i = find(t, h, key, keylen);
    if (i != NIL) {
        struct entry *e = &t->e[i];
        l = level_at(&t->b, e->level, e->last_ns, now_ns > e->last_ns ? now_ns : e->last_ns);
    }
    pthread_mutex_unlock(&t->b.mu);
    return l <= 0 ? 0 : (uint64_t)(l / t->b.per_ns);
}

size_t herd_ratelimit_table_expire(struct herd_ratelimit_table *t, int64_t now_ns)
{
    assert(t);
    pthread_mutex_lock(&t->b.mu);
    size_t k = expire_locked(t, now_ns, SIZE_MAX);
    pthread_mutex_unlock(&t->b.mu);
    return k;
}

size_t herd_ratelimit_table_count(struct herd_ratelimit_table *t)
{
    assert(t);
    pthread_mutex_lock(&t->b.mu);
    size_t c = t->count;
    pthread_mutex_unlock(&t->b.mu);
    return c;
}

int64_t herd_ratelimit_table_idle_ns(struct herd_ratelimit_table *t)
{
    assert(t);
    return t->idle_ns;
}

void herd_ratelimit_table_stats(struct herd_ratelimit_table *t, struct herd_ratelimit_stats *out)
{
    assert(t);
    if (!out)
        return;
    pthread_mutex_lock(&t->b.mu);
    *out = t->b.st;
    pthread_mutex_unlock(&t->b.mu);
}
