/* singleflight.c — one computation per key; see herd/singleflight.h.
 *
 * Layout: a fixed pool of flight slots (key buffer, value buffer, condition variable
 * each), a power-of-two bucket array of chains through the slots, and a free list,
 * all behind one mutex. A slot is in the table from begin() until complete(),
 * forget() or cancellation, and is reusable once it is out of the table AND every
 * ticket on it is gone (refs == 0), so a joiner's borrowed result pointer outlives
 * the flight. Each slot has its own condition variable so completing one flight wakes
 * only its own joiners, not every blocked caller of the table.
 *
 * Invariants (under mu): refs == leaders + joiners; waiting <= joiners and
 * wanting <= leaders (callers that have not left); in_table implies !done and
 * !cancelled; a key appears at most once among in-table slots; gen changes each time
 * a slot is reused, so a stale ticket trips an assertion instead of reading another
 * flight; epoch counts takeovers, so a superseded leader is known by its ticket.
 *
 * Lock-free read of a result: a ticket pins its slot (refs > 0: no reuse, and a
 * published result is never rewritten), so once `done` is seen with acquire order,
 * error/val/len may be read without mu. wait() and poll() on a completed flight take
 * no lock; this is what makes the common "join, result ready, read it" cheap.
 *
 * Cost: every other call is one lock/unlock of mu around O(1) work (a hash lookup
 * over a chain that the 2x bucket count keeps short). Memory: max_flights x (slot + key +
 * value buffer) plus 2 x max_flights bucket indices, all allocated in new().
 */
#include <herd/error.h>
#include <herd/rng.h>
#include <herd/singleflight.h>

#include "alloc_int.h"

#include <assert.h>
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <string.h>
#include <time.h>

#define NIL (-1)

struct flight {
    uint64_t hash;
    uint32_t gen;   /* bumped on reuse */
    uint32_t epoch; /* bumped at each takeover: the newest leader's ticket carries it */
    int32_t next;   /* bucket chain while in the table, free list while free */
    bool in_table;  /* findable by key */
    atomic_bool done; /* a result was published: error/val/len are final. Written under
                       * mu (release); read under mu or, by a ticket holder, without */
    bool cancelled; /* every caller left before completion: the work is not wanted */
    bool in_use;    /* not on the free list */
    int error;
    uint32_t leaders, joiners, refs; /* tickets held */
    uint32_t wanting, waiting;       /* leaders / joiners whose caller has not left */
    int64_t started_ns; /* of the newest leader, for stall takeover */
    size_t keylen;
    unsigned char *key; /* max_key_len bytes inside sf->keys */
    void *val;          /* owned (grow mode) or inside sf->vals (fixed mode) */
    size_t len, cap;
    pthread_cond_t cv;
};

struct herd_singleflight {
    pthread_mutex_t mu;
    struct herd_singleflight_config cfg;
    const struct herd_allocator *alloc;
    struct flight *f;
    size_t nflights; /* slots whose condition variable is initialised */
    int32_t *buckets;
    size_t mask;
    int32_t free_head;
    unsigned char *keys;
    unsigned char *vals; /* max_flights x max_value_len, or NULL in grow mode */
    struct herd_singleflight_stats st;
};

/* Under mu (which orders it): has a result been published? */
static bool is_done(const struct flight *fl)
{
    return atomic_load_explicit(&fl->done, memory_order_relaxed);
}

void herd_singleflight_free(struct herd_singleflight *sf)
{
    if (!sf)
        return;
    const struct herd_allocator *a = sf->alloc;
    for (size_t i = 0; i < sf->nflights; i++) {
        if (!sf->vals)
            herd__free(a, sf->f[i].val);
        pthread_cond_destroy(&sf->f[i].cv);
    }
    pthread_mutex_destroy(&sf->mu);
    herd__free(a, sf->f);
    herd__free(a, sf->buckets);
    herd__free(a, sf->keys);
    herd__free(a, sf->vals);
    herd__free(a, sf);
}

static bool mul_ok(size_t a, size_t b)
{
    return b == 0 || a <= SIZE_MAX / b;
}

int herd_singleflight_new(const struct herd_singleflight_config *cfg,
                          struct herd_singleflight **out)
{
    struct herd_singleflight_config c = {0};
    pthread_condattr_t ca;
    int rc;
    size_t nb = 1;

    if (!out)
        return -HERD_EINVAL;
    if (cfg)
        c = *cfg;
    if (c.max_flights == 0)
        c.max_flights = 1024;
    if (c.max_key_len == 0)
        c.max_key_len = 256;
    if (c.max_flights > INT32_MAX / 4 || c.stall_ns < 0 || !mul_ok(c.max_flights, c.max_key_len) ||
        !mul_ok(c.max_flights, c.max_value_len))
        return -HERD_EINVAL;
    struct herd_singleflight *sf = herd__calloc(c.alloc, 1, sizeof *sf);
    if (!sf)
        return -HERD_ENOMEM;
    sf->cfg = c;
    sf->alloc = c.alloc;
    while (nb < 2 * c.max_flights)
        nb <<= 1;
    rc = -HERD_ENOMEM;
    if (!(sf->f = herd__calloc(c.alloc, c.max_flights, sizeof *sf->f)))
        goto fail_mem;
    if (!(sf->buckets = herd__calloc(c.alloc, nb, sizeof *sf->buckets)))
        goto fail_mem;
    if (!(sf->keys = herd__alloc(c.alloc, c.max_flights * c.max_key_len)))
        goto fail_mem;
    if (c.max_value_len && !(sf->vals = herd__alloc(c.alloc, c.max_flights * c.max_value_len)))
        goto fail_mem;
    sf->mask = nb - 1;
    for (size_t i = 0; i < nb; i++)
        sf->buckets[i] = NIL;
    if ((rc = -pthread_mutex_init(&sf->mu, NULL)) != 0)
        goto fail_mem;
    if ((rc = -pthread_condattr_init(&ca)) != 0)
        goto fail_mutex;
    /* Deadlines are on CLOCK_MONOTONIC, like every now_ns a live caller passes. */
    if ((rc = -pthread_condattr_setclock(&ca, CLOCK_MONOTONIC)) != 0)
        goto fail_attr;
    for (size_t i = 0; i < c.max_flights; i++) {
        struct flight *fl = &sf->f[i];
        if ((rc = -pthread_cond_init(&fl->cv, &ca)) != 0)
            goto fail_attr;
        sf->nflights = i + 1;
        fl->key = sf->keys + i * c.max_key_len;
        if (sf->vals) {
            fl->val = sf->vals + i * c.max_value_len;
            fl->cap = c.max_value_len;
        }
        fl->next = i + 1 < c.max_flights ? (int32_t)(i + 1) : NIL;
    }
    sf->free_head = 0;
    pthread_condattr_destroy(&ca);
    *out = sf;
    return 0;

fail_attr:
    pthread_condattr_destroy(&ca);
fail_mutex:
    for (size_t i = 0; i < sf->nflights; i++)
        pthread_cond_destroy(&sf->f[i].cv);
    sf->nflights = 0;
    pthread_mutex_destroy(&sf->mu);
fail_mem:
    herd__free(c.alloc, sf->f);
    herd__free(c.alloc, sf->buckets);
    herd__free(c.alloc, sf->keys);
    herd__free(c.alloc, sf->vals);
    herd__free(c.alloc, sf);
    return rc;
}

static int32_t lookup(struct herd_singleflight *sf, uint64_t h, const void *key, size_t keylen)
{
    for (int32_t i = sf->buckets[h & sf->mask]; i != NIL; i = sf->f[i].next) {
        struct flight *fl = &sf->f[i];
        if (fl->hash == h && fl->keylen == keylen && (!keylen || memcmp(fl->key, key, keylen) == 0))
            return i;
    }
    return NIL;
}

static void unlink_flight(struct herd_singleflight *sf, int32_t idx)
{
    struct flight *fl = &sf->f[idx];
    int32_t *p = &sf->buckets[fl->hash & sf->mask];
    while (*p != idx) {
        assert(*p != NIL);
        p = &sf->f[*p].next;
    }
    *p = fl->next;
    fl->in_table = false;
}

/* Return the slot to the free list once nobody can see it any more. */
static void maybe_free(struct herd_singleflight *sf, int32_t idx)
{
    struct flight *fl = &sf->f[idx];
    if (fl->in_table || fl->refs != 0)
        return;
    fl->in_use = false;
    fl->next = sf->free_head;
    sf->free_head = idx;
}

/* A caller of an unfinished flight left: if it was the last, cancel the work. The
 * flight leaves the table so newcomers start afresh instead of joining doomed work. */
static void maybe_cancel(struct herd_singleflight *sf, int32_t idx)
{
    struct flight *fl = &sf->f[idx];
    if (is_done(fl) || fl->cancelled || fl->wanting + fl->waiting != 0)
        return;
    fl->cancelled = true;
    sf->st.cancelled_flights++;
    if (fl->in_table)
        unlink_flight(sf, idx);
}

static struct flight *ticket_flight(struct herd_singleflight *sf,
                                    const struct herd_singleflight_ticket *t)
{
    assert(t->slot < sf->nflights);
    struct flight *fl = &sf->f[t->slot];
    assert(fl->in_use && fl->gen == t->gen && fl->refs > 0);
    return fl;
}

int herd_singleflight_begin(struct herd_singleflight *sf, const void *key, size_t keylen,
                            int64_t now_ns, struct herd_singleflight_ticket *t)
{
    uint64_t h;
    int32_t idx;
    int rc;

    assert(sf);
    if (!t || (!key && keylen) || keylen > sf->cfg.max_key_len)
        return -HERD_EINVAL;
    h = herd_hash_bytes(key, keylen);
    pthread_mutex_lock(&sf->mu);
    idx = lookup(sf, h, key, keylen);
    if (idx != NIL) {
        struct flight *fl = &sf->f[idx];
        if (sf->cfg.stall_ns > 0 && now_ns - fl->started_ns >= sf->cfg.stall_ns) {
            /* The leader is overdue: this caller leads the same flight from now on, so
             * the joiners already waiting get its result (or the old leader's, if that
             * succeeds first). */
            fl->epoch++;
            fl->leaders++;
            fl->wanting++;
            fl->refs++;
            fl->started_ns = now_ns;
            sf->st.takeovers++;
            *t = (struct herd_singleflight_ticket){(uint32_t)idx, fl->gen, fl->epoch, true, false};
            pthread_cond_broadcast(&fl->cv); /* blocked waiters re-arm on the new age */
            rc = HERD_SINGLEFLIGHT_LEADER;
        } else if (sf->cfg.max_waiters && fl->joiners >= sf->cfg.max_waiters) {
            sf->st.shed++;
            rc = -HERD_ESHED;
        } else {
            fl->joiners++;
            fl->waiting++;
            fl->refs++;
            sf->st.joins++;
            *t = (struct herd_singleflight_ticket){(uint32_t)idx, fl->gen, 0, false, false};
            rc = HERD_SINGLEFLIGHT_JOINED;
        }
        pthread_mutex_unlock(&sf->mu);
        return rc;
    }
    if (sf->free_head == NIL) {
        sf->st.full++;
        pthread_mutex_unlock(&sf->mu);
        return -HERD_EBUSY;
    }
    idx = sf->free_head;
    struct flight *fl = &sf->f[idx];
    sf->free_head = fl->next;
    fl->gen++;
    fl->epoch = 0;
    fl->hash = h;
    fl->keylen = keylen;
    if (keylen)
        memcpy(fl->key, key, keylen);
    fl->in_use = true;
    fl->in_table = true;
    atomic_store_explicit(&fl->done, false, memory_order_relaxed);
    fl->cancelled = false;
    fl->error = 0;
    fl->len = 0;
    fl->leaders = 1;
    fl->wanting = 1;
    fl->joiners = 0;
    fl->waiting = 0;
    fl->refs = 1;
    fl->started_ns = now_ns;
    fl->next = sf->buckets[h & sf->mask];
    sf->buckets[h & sf->mask] = idx;
    sf->st.flights++;
    *t = (struct herd_singleflight_ticket){(uint32_t)idx, fl->gen, 0, true, false};
    pthread_mutex_unlock(&sf->mu);
    return HERD_SINGLEFLIGHT_LEADER;
}

/* Store the leader's value in the slot. @return 0 or the error the flight gets instead. */
static int store_value(struct herd_singleflight *sf, struct flight *fl, const void *val,
                       size_t len)
{
    if (len > fl->cap) {
        if (sf->vals)
            return -HERD_EINVAL; /* fixed buffers: never allocate after new() */
        /* Grow mode: a value longer than any before in this slot, rare after warm-up.
         * Inside the lock because the copy must become visible atomically. */
        void *p = herd__realloc(sf->alloc, fl->val, len);
        if (!p)
            return -HERD_ENOMEM;
        fl->val = p;
        fl->cap = len;
    }
    if (len)
        memcpy(fl->val, val, len);
    fl->len = len;
    return 0;
}

static int finish(struct herd_singleflight *sf, struct herd_singleflight_ticket *t,
                  const void *val, size_t len, int error, bool abandoned)
{
    int rc = 0;
    assert(sf && t && t->leader);
    if (error > 0 || (!val && len && error == 0))
        return -HERD_EINVAL;
    pthread_mutex_lock(&sf->mu);
    struct flight *fl = ticket_flight(sf, t);
    bool superseded = t->epoch != fl->epoch;
    if (is_done(fl) || (superseded && error != 0)) {
        /* Too late, or a superseded leader's failure while its replacement works. */
        sf->st.late++;
    } else {
        if (error == 0)
            error = rc = store_value(sf, fl, val, len);
        if (error != 0) {
            fl->len = 0;
            sf->st.errors++;
            if (abandoned)
                sf->st.abandoned++;
        }
        fl->error = error;
        /* Release: a lock-free reader that sees done also sees error/val/len. */
        atomic_store_explicit(&fl->done, true, memory_order_release);
        if (fl->in_table)
            unlink_flight(sf, (int32_t)t->slot);
        pthread_cond_broadcast(&fl->cv);
    }
    if (!t->gone)
        fl->wanting--;
    fl->leaders--;
    fl->refs--;
    maybe_free(sf, (int32_t)t->slot);
    pthread_mutex_unlock(&sf->mu);
    return rc;
}

int herd_singleflight_complete(struct herd_singleflight *sf, struct herd_singleflight_ticket *t,
                               const void *val, size_t len, int error)
{
    return finish(sf, t, val, len, error, false);
}

void herd_singleflight_abandon(struct herd_singleflight *sf, struct herd_singleflight_ticket *t)
{
    finish(sf, t, NULL, 0, -HERD_ELEADER, true);
}

static void fill_result(const struct flight *fl, struct herd_singleflight_result *res)
{
    res->error = fl->error;
    res->val = fl->len ? fl->val : NULL;
    res->len = fl->len;
}

/* A ticket holder's lock-free look at its flight: true (and @p res filled) when the
 * result is published. See the file comment for why no lock is needed. */
static bool done_fast(struct herd_singleflight *sf, const struct herd_singleflight_ticket *t,
                      struct herd_singleflight_result *res)
{
    assert(t->slot < sf->nflights);
    const struct flight *fl = &sf->f[t->slot];
    if (!atomic_load_explicit(&fl->done, memory_order_acquire))
        return false;
    assert(fl->gen == t->gen); /* pinned by the ticket: nobody rewrites gen meanwhile */
    fill_result(fl, res);
    return true;
}

bool herd_singleflight_poll(struct herd_singleflight *sf, const struct herd_singleflight_ticket *t,
                            struct herd_singleflight_result *res)
{
    assert(sf && t);
    if (!res)
        return false;
    return done_fast(sf, t, res);
}

/* The instant a blocked waiter stops waiting for this flight's newest leader. */
static int64_t stall_point(const struct herd_singleflight *sf, const struct flight *fl)
{
    if (sf->cfg.stall_ns <= 0 || fl->started_ns > INT64_MAX - sf->cfg.stall_ns)
        return INT64_MAX;
    return fl->started_ns + sf->cfg.stall_ns;
}

int herd_singleflight_wait(struct herd_singleflight *sf, const struct herd_singleflight_ticket *t,
                           int64_t deadline_ns, struct herd_singleflight_result *res)
{
    int rc = 0;
    assert(sf && t && !t->leader);
    if (!res)
        return -HERD_EINVAL;
    if (done_fast(sf, t, res))
        return 0;
    pthread_mutex_lock(&sf->mu);
    struct flight *fl = ticket_flight(sf, t);
    if (!is_done(fl) && !t->gone)
        sf->st.waits++;
    while (!is_done(fl)) {
        if (t->gone) {
            rc = -HERD_ECANCELED;
            break;
        }
        int64_t stall = stall_point(sf, fl);
        int64_t until = deadline_ns >= 0 && deadline_ns < stall ? deadline_ns : stall;
        int e;
        if (until == INT64_MAX) {
            e = pthread_cond_wait(&fl->cv, &sf->mu);
        } else {
            struct timespec ts = {.tv_sec = (time_t)(until / 1000000000),
                                  .tv_nsec = (long)(until % 1000000000)};
            if (until < 0)
                ts = (struct timespec){0, 0};
            e = pthread_cond_timedwait(&fl->cv, &sf->mu, &ts);
        }
        if (e != ETIMEDOUT || is_done(fl) || t->gone)
            continue;
        if (stall_point(sf, fl) != stall)
            continue; /* a new leader took over meanwhile: wait for it */
        if (stall == until) {
            sf->st.stalls++;
            rc = -HERD_ELEADER;
        } else {
            sf->st.timeouts++;
            rc = -HERD_ETIMEDOUT;
        }
        break;
    }
    if (rc == 0)
        fill_result(fl, res);
    pthread_mutex_unlock(&sf->mu);
    return rc;
}

int herd_singleflight_join(struct herd_singleflight *sf, const void *key, size_t keylen,
                           int64_t now_ns, int64_t deadline_ns, struct herd_singleflight_ticket *t,
                           struct herd_singleflight_result *res)
{
    if (!t || !res)
        return -HERD_EINVAL;
    for (;;) {
        int role = herd_singleflight_begin(sf, key, keylen, now_ns, t);
        if (role != HERD_SINGLEFLIGHT_JOINED)
            return role;
        int rc = herd_singleflight_wait(sf, t, deadline_ns, res);
        if (rc == 0)
            return HERD_SINGLEFLIGHT_JOINED;
        if (rc == -HERD_ELEADER) {
            /* The leader stalled: its start + stall_ns has passed on CLOCK_MONOTONIC, so
             * that instant is a "now" at which begin() lets us take over. */
            pthread_mutex_lock(&sf->mu);
            int64_t at = stall_point(sf, ticket_flight(sf, t));
            pthread_mutex_unlock(&sf->mu);
            herd_singleflight_release(sf, t);
            if (at > now_ns)
                now_ns = at;
            continue;
        }
        herd_singleflight_release(sf, t);
        return rc;
    }
}

void herd_singleflight_release(struct herd_singleflight *sf, struct herd_singleflight_ticket *t)
{
    assert(sf && t && !t->leader);
    pthread_mutex_lock(&sf->mu);
    struct flight *fl = ticket_flight(sf, t);
    if (!is_done(fl))
        sf->st.canceled += !t->gone; /* cancel() counted the others already */
    else if (fl->error == 0)
        sf->st.shared++;
    else
        sf->st.failed++;
    if (!t->gone) {
        fl->waiting--;
        maybe_cancel(sf, (int32_t)t->slot);
    }
    fl->joiners--;
    fl->refs--;
    maybe_free(sf, (int32_t)t->slot);
    pthread_mutex_unlock(&sf->mu);
}

void herd_singleflight_cancel(struct herd_singleflight *sf, struct herd_singleflight_ticket *t)
{
    assert(sf && t);
    pthread_mutex_lock(&sf->mu);
    struct flight *fl = ticket_flight(sf, t);
    if (!t->gone) {
        t->gone = true;
        if (t->leader) {
            fl->wanting--;
        } else {
            fl->waiting--;
            if (!is_done(fl))
                sf->st.canceled++;
            pthread_cond_broadcast(&fl->cv); /* the owner may be blocked in wait() */
        }
        maybe_cancel(sf, (int32_t)t->slot);
    }
    pthread_mutex_unlock(&sf->mu);
}

bool herd_singleflight_cancelled(struct herd_singleflight *sf,
                                 const struct herd_singleflight_ticket *t)
{
    assert(sf && t);
    pthread_mutex_lock(&sf->mu);
    struct flight *fl = ticket_flight(sf, t);
    bool c = fl->cancelled || is_done(fl);
    pthread_mutex_unlock(&sf->mu);
    return c;
}

uint32_t herd_singleflight_waiting(struct herd_singleflight *sf,
                                   const struct herd_singleflight_ticket *t)
{
    assert(sf && t);
    pthread_mutex_lock(&sf->mu);
    uint32_t n = ticket_flight(sf, t)->waiting;
    pthread_mutex_unlock(&sf->mu);
    return n;
}

int herd_singleflight_forget(struct herd_singleflight *sf, const void *key, size_t keylen)
{
    assert(sf);
    if (!key && keylen)
        return -HERD_EINVAL;
    if (keylen > sf->cfg.max_key_len)
        return -HERD_ENOENT;
    uint64_t h = herd_hash_bytes(key, keylen);
    pthread_mutex_lock(&sf->mu);
    int32_t idx = lookup(sf, h, key, keylen);
    if (idx != NIL) {
        unlink_flight(sf, idx);
        maybe_free(sf, idx);
    }
    pthread_mutex_unlock(&sf->mu);
    return idx == NIL ? -HERD_ENOENT : 0;
}

void herd_singleflight_stats(struct herd_singleflight *sf, struct herd_singleflight_stats *out)
{
    assert(sf);
    if (!out)
        return;
    pthread_mutex_lock(&sf->mu);
    *out = sf->st;
    pthread_mutex_unlock(&sf->mu);
}
