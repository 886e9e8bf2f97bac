/* singleflight.c — one computation per key; see herd/singleflight.h.
 *
 * Layout: a fixed pool of flight slots (key buffer, value buffer, condition variable
 * each), a power-of-two bucket array of chains through the slots, and a free list,
 * all behind one mutex. A slot is in the table from begin() until complete() or
 * forget(), and is reusable once it is out of the table AND every ticket on it is
 * gone (refs == 0), so a joiner's borrowed result pointer outlives the flight.
 * Each slot has its own condition variable so completing one flight wakes only its
 * own joiners, not every blocked caller of the table.
 *
 * Invariants (under mu): refs == leaders + joiners; in_table implies !done; a key
 * appears at most once among in-table slots; gen changes each time a slot is reused,
 * so a stale ticket trips an assertion instead of reading another flight.
 */
#include <herd/error.h>
#include <herd/rng.h>
#include <herd/singleflight.h>

#include <assert.h>
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define NIL (-1)

struct flight {
    uint64_t hash;
    uint32_t gen;  /* bumped on reuse */
    int32_t next;  /* bucket chain while in the table, free list while free */
    bool in_table; /* findable by key */
    bool done;     /* complete() ran: error/val/len are final */
    bool in_use;   /* not on the free list */
    int error;
    uint32_t leaders, joiners, refs;
    int64_t started_ns; /* of the current leader, for stall takeover */
    size_t keylen;
    unsigned char *key; /* max_key_len bytes inside sf->keys */
    void *val;          /* owned; grows, never shrinks */
    size_t len, cap;
    pthread_cond_t cv;
};

struct herd_singleflight {
    pthread_mutex_t mu;
    struct herd_singleflight_config cfg;
    struct flight *f;
    size_t nflights;
    int32_t *buckets;
    size_t mask;
    int32_t free_head;
    unsigned char *keys;
    struct herd_singleflight_stats st;
};

static void fill_defaults(struct herd_singleflight_config *c)
{
    if (c->max_flights == 0)
        c->max_flights = 1024;
    if (c->max_key_len == 0)
        c->max_key_len = 256;
}

void herd_singleflight_free(struct herd_singleflight *sf)
{
    if (!sf)
        return;
    for (size_t i = 0; i < sf->nflights; i++) {
        free(sf->f[i].val);
        pthread_cond_destroy(&sf->f[i].cv);
    }
    pthread_mutex_destroy(&sf->mu);
    free(sf->f);
    free(sf->buckets);
    free(sf->keys);
    free(sf);
}

int herd_singleflight_new(const struct herd_singleflight_config *cfg,
                          struct herd_singleflight **out)
{
    struct herd_singleflight *sf = calloc(1, sizeof *sf);
    pthread_condattr_t ca;
    int rc = -HERD_ENOMEM;
    size_t nb = 1;

    if (!sf)
        return -HERD_ENOMEM;
    if (cfg)
        sf->cfg = *cfg;
    fill_defaults(&sf->cfg);
    if (sf->cfg.max_flights > INT32_MAX / 4) {
        free(sf);
        return -HERD_EINVAL;
    }
    while (nb < 2 * sf->cfg.max_flights)
        nb <<= 1;
    sf->f = calloc(sf->cfg.max_flights, sizeof *sf->f);
    sf->buckets = malloc(nb * sizeof *sf->buckets);
    sf->keys = malloc(sf->cfg.max_flights * sf->cfg.max_key_len);
    if (!sf->f || !sf->buckets || !sf->keys)
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
    for (size_t i = 0; i < sf->cfg.max_flights; i++) {
        if ((rc = -pthread_cond_init(&sf->f[i].cv, &ca)) != 0)
            goto fail_attr;
        sf->nflights = i + 1;
        sf->f[i].key = sf->keys + i * sf->cfg.max_key_len;
        sf->f[i].next = i + 1 < sf->cfg.max_flights ? (int32_t)(i + 1) : NIL;
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
    free(sf->f);
    free(sf->buckets);
    free(sf->keys);
    free(sf);
    return rc;
}

static int32_t lookup(struct herd_singleflight *sf, uint64_t h, const void *key, size_t keylen)
{
    for (int32_t i = sf->buckets[h & sf->mask]; i != NIL; i = sf->f[i].next) {
        struct flight *fl = &sf->f[i];
        if (fl->hash == h && fl->keylen == keylen && memcmp(fl->key, key, keylen) == 0)
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

    if (keylen > sf->cfg.max_key_len)
        return -HERD_EINVAL;
    h = herd_hash_bytes(key, keylen);
    pthread_mutex_lock(&sf->mu);
    idx = lookup(sf, h, key, keylen);
    if (idx != NIL) {
        struct flight *fl = &sf->f[idx];
        if (sf->cfg.stall_ns > 0 && now_ns - fl->started_ns >= sf->cfg.stall_ns) {
            /* The leader is overdue: a second leader computes too; the first
             * completion serves every joiner, the later one is ignored. */
            fl->leaders++;
            fl->refs++;
            fl->started_ns = now_ns;
            sf->st.takeovers++;
            *t = (struct herd_singleflight_ticket){(uint32_t)idx, fl->gen, true};
            rc = HERD_SINGLEFLIGHT_LEADER;
        } else if (sf->cfg.max_waiters && fl->joiners >= sf->cfg.max_waiters) {
            sf->st.shed++;
            rc = -HERD_ESHED;
        } else {
            fl->joiners++;
            fl->refs++;
            sf->st.joins++;
            *t = (struct herd_singleflight_ticket){(uint32_t)idx, fl->gen, false};
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
    fl->hash = h;
    fl->keylen = keylen;
    if (keylen)
        memcpy(fl->key, key, keylen);
    fl->in_use = true;
    fl->in_table = true;
    fl->done = false;
    fl->error = 0;
    fl->len = 0;
    fl->leaders = 1;
    fl->joiners = 0;
    fl->refs = 1;
    fl->started_ns = now_ns;
    fl->next = sf->buckets[h & sf->mask];
    sf->buckets[h & sf->mask] = idx;
    sf->st.flights++;
    *t = (struct herd_singleflight_ticket){(uint32_t)idx, fl->gen, true};
    pthread_mutex_unlock(&sf->mu);
    return HERD_SINGLEFLIGHT_LEADER;
}

int herd_singleflight_complete(struct herd_singleflight *sf, struct herd_singleflight_ticket *t,
                               const void *val, size_t len, int error)
{
    int rc = 0;
    assert(t->leader);
    assert(error <= 0);
    pthread_mutex_lock(&sf->mu);
    struct flight *fl = ticket_flight(sf, t);
    if (!fl->done) {
        if (error == 0 && len > fl->cap) {
            /* Outside the lock would be nicer, but a value longer than any before
             * is rare after warm-up and the copy must be visible atomically. */
            void *p = realloc(fl->val, len);
            if (p) {
                fl->val = p;
                fl->cap = len;
            } else {
                error = rc = -HERD_ENOMEM;
            }
        }
        if (error == 0) {
            if (len)
                memcpy(fl->val, val, len);
            fl->len = len;
        } else {
            fl->len = 0;
            sf->st.errors++;
        }
        fl->error = error;
        fl->done = true;
        if (fl->in_table)
            unlink_flight(sf, (int32_t)t->slot);
        pthread_cond_broadcast(&fl->cv);
    }
    fl->leaders--;
    fl->refs--;
    maybe_free(sf, (int32_t)t->slot);
    pthread_mutex_unlock(&sf->mu);
    return rc;
}

static void fill_result(const struct flight *fl, struct herd_singleflight_result *res)
{
    res->error = fl->error;
    res->val = fl->len ? fl->val : NULL;
    res->len = fl->len;
}

bool herd_singleflight_poll(struct herd_singleflight *sf, const struct herd_singleflight_ticket *t,
                            struct herd_singleflight_result *res)
{
    bool done;
    pthread_mutex_lock(&sf->mu);
    struct flight *fl = ticket_flight(sf, t);
    done = fl->done;
    if (done)
        fill_result(fl, res);
    pthread_mutex_unlock(&sf->mu);
    return done;
}

int herd_singleflight_wait(struct herd_singleflight *sf, const struct herd_singleflight_ticket *t,
                           int64_t deadline_ns, struct herd_singleflight_result *res)
{
    int rc = 0;
    struct timespec ts = {0};
    if (deadline_ns >= 0) {
        ts.tv_sec = (time_t)(deadline_ns / 1000000000);
        ts.tv_nsec = (long)(deadline_ns % 1000000000);
    }
    pthread_mutex_lock(&sf->mu);
    struct flight *fl = ticket_flight(sf, t);
    while (!fl->done) {
        int e = deadline_ns >= 0 ? pthread_cond_timedwait(&fl->cv, &sf->mu, &ts)
                                 : pthread_cond_wait(&fl->cv, &sf->mu);
        if (e == ETIMEDOUT && !fl->done) {
            sf->st.timeouts++;
            rc = -HERD_ETIMEDOUT;
            break;
        }
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
    int role = herd_singleflight_begin(sf, key, keylen, now_ns, t);
    if (role != HERD_SINGLEFLIGHT_JOINED)
        return role;
    int rc = herd_singleflight_wait(sf, t, deadline_ns, res);
    if (rc < 0) {
        herd_singleflight_release(sf, t);
        return rc;
    }
    return HERD_SINGLEFLIGHT_JOINED;
}

void herd_singleflight_release(struct herd_singleflight *sf, struct herd_singleflight_ticket *t)
{
    assert(!t->leader);
    pthread_mutex_lock(&sf->mu);
    struct flight *fl = ticket_flight(sf, t);
    if (!fl->done)
        sf->st.canceled++;
    else if (fl->error == 0)
        sf->st.shared++;
    else
        sf->st.failed++;
    fl->joiners--;
    fl->refs--;
    maybe_free(sf, (int32_t)t->slot);
    pthread_mutex_unlock(&sf->mu);
}

uint32_t herd_singleflight_waiting(struct herd_singleflight *sf,
                                   const struct herd_singleflight_ticket *t)
{
    pthread_mutex_lock(&sf->mu);
    uint32_t n = ticket_flight(sf, t)->joiners;
    pthread_mutex_unlock(&sf->mu);
    return n;
}

int herd_singleflight_forget(struct herd_singleflight *sf, const void *key, size_t keylen)
{
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
    pthread_mutex_lock(&sf->mu);
    *out = sf->st;
    pthread_mutex_unlock(&sf->mu);
}
