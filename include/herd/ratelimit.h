/* herd/ratelimit.h — a true token bucket, reservations, and a per-key table of buckets.
 *
 * Protects a service from a herd by admitting at most `rate` tokens per `per_ns` with
 * bursts of at most `burst` tokens. It is a token bucket, not a fixed window: tokens
 * accrue continuously, so no interval of any length [s, e] ever admits more than
 *     burst + rate · (e − s) / per_ns
 * tokens, and there is no "double burst" at a window edge (a fixed-window counter lets
 * 2 × limit through across the boundary).
 *
 * Exact arithmetic: the bucket counts in UNITS of 1/per_ns token (nanotokens for a
 * per-second rate) and each nanosecond adds exactly `rate` units, so accrual is integer
 * arithmetic with no rounding and no drift however often or rarely it is called.
 * A refused take tells the exact wait: after retry_after_ns the n tokens are there, and
 * one nanosecond earlier they are not (if nobody else takes meanwhile).
 *
 * Reservations (golang.org/x/time/rate's ReserveN/CancelAt semantics): reserve n tokens
 * now for use after a wait; the bucket goes into debt and later callers wait behind the
 * reservation. Cancelling before the reservation's time returns its tokens, minus those
 * already promised to reservations made after it (they were granted times that counted
 * on this debt); cancelling the most recent reservation therefore restores the bucket
 * exactly as it was. Cancelling after the reservation's time returns nothing: the tokens
 * are consumed.
 *
 * The per-key table (struct herd_ratelimit_table) holds one bucket per key (bytes, e.g.
 * a client address or a user id), with a fixed capacity allocated at init. A key idle
 * for idle_ns is dropped; idle_ns is never shorter than the time to refill an empty
 * bucket, so a dropped key had a FULL bucket, exactly what a new key starts with:
 * dropping idle keys is lossless (it never grants a client more than it would have had).
 *
 * Time is an input (now_ns on any monotonic clock); nothing sleeps. Times should not go
 * backwards; if one does, the bucket treats it as the latest time it has seen, so a
 * stale clock reading never grants tokens early.
 *
 * Thread safety and cost: every call takes the bucket's (or the table's) one pthread
 * mutex: about 20 ns uncontended for a take, more under contention (bench/bench_ratelimit.c
 * measures 1 and 2 threads). A keyed take adds a hash of the key and a chain lookup.
 * No call allocates except herd_ratelimit_table_new().
 */
#ifndef HERD_RATELIMIT_H
#define HERD_RATELIMIT_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <herd/alloc.h>

/** Largest burst × per_ns (in units) a bucket accepts: 2^61, e.g. 2.3e9 tokens per second. */
#define HERD_RATELIMIT_MAX_UNITS (INT64_C(1) << 61)

/** retry_after_ns of a request that can never succeed (n > burst). */
#define HERD_RATELIMIT_NEVER INT64_MAX

/** A decision. GO is 0; every reject is positive and has its own counter. */
enum herd_ratelimit_decision {
    HERD_RATELIMIT_GO = 0,      /* take: tokens taken; reserve: reservation made */
    HERD_RATELIMIT_RATE = 1,    /* not enough tokens now: retry after retry_after_ns */
    HERD_RATELIMIT_TOO_BIG = 2, /* n > burst: can never be granted (retry_after NEVER) */
    HERD_RATELIMIT_FULL = 3,    /* table: every slot holds a key still active; retry later */
};

struct herd_ratelimit_config {
    uint64_t rate;  /* tokens added per per_ns; >= 1 */
    int64_t per_ns; /* the rate's period; 0: one second */
    uint64_t burst; /* bucket size in tokens, >= 1; also the largest n ever granted */
};

struct herd_ratelimit_stats {
    uint64_t granted;    /* takes and reservations that returned GO */
    uint64_t tokens;     /* tokens granted by those (reservations counted when made) */
    uint64_t rate;       /* rejected: HERD_RATELIMIT_RATE */
    uint64_t too_big;    /* rejected: HERD_RATELIMIT_TOO_BIG */
    uint64_t canceled;   /* reservations cancelled */
    uint64_t restored;   /* units (1/per_ns token) given back by cancels */
    uint64_t full;       /* table: rejected HERD_RATELIMIT_FULL */
    uint64_t keys_added; /* table: keys inserted */
    uint64_t keys_idle;  /* table: idle keys dropped */
};

/** One bucket. Caller-owned (init/fini); every field is private. */
struct herd_ratelimit {
    pthread_mutex_t mu;
    uint64_t rate;  /* units added per ns */
    int64_t per_ns; /* units per token */
    uint64_t burst;
    int64_t cap;       /* burst · per_ns units */
    int64_t level;     /* units; negative: owed to reservations */
    int64_t last_ns;   /* the latest time seen; level is as of then */
    uint64_t reserved; /* running total of reserved units: orders reservations */
    struct herd_ratelimit_stats st;
};

/** A reservation: caller-owned, filled by herd_ratelimit_reserve(). */
struct herd_ratelimit_reservation {
    int64_t act_ns;  /* when the tokens may be used (== now when no wait) */
    int64_t wait_ns; /* act_ns − now at reserve time */
    uint64_t n;      /* tokens reserved */
    uint64_t units;  /* private: units charged (n·per_ns plus the sub-ns rounding of act_ns) */
    uint64_t mark;   /* private: the running total just after this reservation */
    bool active;     /* private: not cancelled yet */
};

/**
 * Make a full bucket at @p now_ns. A rate has no default: @p cfg is required.
 * @return 0, -HERD_EINVAL (NULL @p rl or @p cfg, rate or burst 0, per_ns < 0, burst·per_ns above
 *         HERD_RATELIMIT_MAX_UNITS, rate above it), or a negated errno from the mutex.
 */
int herd_ratelimit_init(struct herd_ratelimit *rl, const struct herd_ratelimit_config *cfg,
                        int64_t now_ns);

/** Release @p rl's mutex. No thread may be inside a call. */
void herd_ratelimit_fini(struct herd_ratelimit *rl);

/**
 * Take @p n tokens (1 <= n) at @p now_ns if they are all there, else none.
 * @return HERD_RATELIMIT_GO, HERD_RATELIMIT_RATE or HERD_RATELIMIT_TOO_BIG. @p retry_after_ns
 *         (may be NULL) is always written: 0 on GO; on RATE the exact wait until n tokens
 *         are available; HERD_RATELIMIT_NEVER on TOO_BIG. -HERD_EINVAL for n = 0
 *         (nothing written).
 */
int herd_ratelimit_take(struct herd_ratelimit *rl, uint64_t n, int64_t now_ns,
                        int64_t *retry_after_ns);

/**
 * Reserve @p n tokens at @p now_ns for use at res->act_ns, if the wait is at most
 * @p max_wait_ns (0: only if available now; INT64_MAX: any wait). The tokens leave the
 * bucket at once (it may go into debt); use them at act_ns or cancel. When @p now_ns is
 * older than a time the bucket has already seen (another thread's clock reading), the
 * wait is counted from that later time, and res->wait_ns = act_ns − now_ns includes
 * the difference.
 * @return HERD_RATELIMIT_GO with @p *res filled; HERD_RATELIMIT_RATE when the wait
 *         would exceed max_wait_ns (nothing reserved; @p *retry_after_ns says when it
 *         would fit); HERD_RATELIMIT_TOO_BIG; -HERD_EINVAL for a NULL @p res, n = 0 or
 *         a negative @p max_wait_ns. @p retry_after_ns may be NULL.
 */
int herd_ratelimit_reserve(struct herd_ratelimit *rl, uint64_t n, int64_t now_ns,
                           int64_t max_wait_ns, struct herd_ratelimit_reservation *res,
                           int64_t *retry_after_ns);

/**
 * The holder of @p res will not use it. Before res->act_ns, give back its tokens minus
 * those already promised to later reservations (all of them when it is the latest);
 * from act_ns on, nothing (they are consumed). A second cancel (or a NULL @p res) does
 * nothing.
 * @return the units (1/per_ns token) given back.
 */
int64_t herd_ratelimit_cancel(struct herd_ratelimit *rl, struct herd_ratelimit_reservation *res,
                              int64_t now_ns);

/** The level at @p now_ns in units of 1/per_ns token: negative while in debt. Changes nothing. */
int64_t herd_ratelimit_level(struct herd_ratelimit *rl, int64_t now_ns);

/** Whole tokens available at @p now_ns (0 while in debt). Changes nothing. */
uint64_t herd_ratelimit_tokens(struct herd_ratelimit *rl, int64_t now_ns);

/** Copy the counters into @p out. */
void herd_ratelimit_stats(struct herd_ratelimit *rl, struct herd_ratelimit_stats *out);

/* ---- per-key table ------------------------------------------------------------------ */

struct herd_ratelimit_table;

struct herd_ratelimit_table_config {
    struct herd_ratelimit_config bucket; /* every key's bucket */
    size_t max_keys;                     /* keys held at once; 0: 1024 */
    size_t max_key_len;                  /* longest key in bytes; 0: 64 */
    int64_t idle_ns;                     /* drop keys idle this long; 0 or less than the
                                            refill time of an empty bucket: that time */
    const struct herd_allocator *alloc;  /* NULL: the C library */
};

/**
 * Create a table; all memory is allocated here, none later.
 * @return 0 with the table in @p *out, -HERD_EINVAL (NULL @p cfg or @p out: a rate has
 *         no default; a bucket as herd_ratelimit_init refuses), -HERD_ENOMEM, or a negated
 *         errno.
 */
int herd_ratelimit_table_new(const struct herd_ratelimit_table_config *cfg,
                             struct herd_ratelimit_table **out);

/** Free @p t (NULL is fine). No thread may be inside a call. */
void herd_ratelimit_table_free(struct herd_ratelimit_table *t);

/**
 * Take @p n tokens from @p key's bucket (@p keylen bytes; a new key starts full) at
 * @p now_ns. Drops idle keys as it goes (at most a few per call, oldest first).
 * @return HERD_RATELIMIT_GO, _RATE, _TOO_BIG, _FULL (no slot: every key is still within
 *         idle_ns; retry_after says when the oldest frees), or -HERD_EINVAL when keylen
 *         exceeds max_key_len, n = 0, or @p key is NULL with a keylen. @p retry_after_ns
 *         (may be NULL) as for herd_ratelimit_take().
 */
int herd_ratelimit_table_take(struct herd_ratelimit_table *t, const void *key, size_t keylen,
                              uint64_t n, int64_t now_ns, int64_t *retry_after_ns);

/** Whole tokens @p key has at @p now_ns (burst for an unknown key; a NULL key is the empty
 *  key). Changes nothing. */
uint64_t herd_ratelimit_table_tokens(struct herd_ratelimit_table *t, const void *key, size_t keylen,
                                     int64_t now_ns);

/** Drop every key idle at @p now_ns. @return how many were dropped. */
size_t herd_ratelimit_table_expire(struct herd_ratelimit_table *t, int64_t now_ns);

/** Keys held now. */
size_t herd_ratelimit_table_count(struct herd_ratelimit_table *t);

/** The idle time in force (the configured one, raised to the refill time). */
int64_t herd_ratelimit_table_idle_ns(struct herd_ratelimit_table *t);

/** Copy the table's counters into @p out. */
void herd_ratelimit_table_stats(struct herd_ratelimit_table *t, struct herd_ratelimit_stats *out);

#endif
