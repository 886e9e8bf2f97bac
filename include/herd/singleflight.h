/* herd/singleflight.h — one computation per key at a time; everyone else shares it.
 *
 * When many callers miss the same key at once, the first becomes the LEADER and
 * computes the value; the others JOIN its flight and receive its result (or its
 * error) when the leader completes. A flight lives only while it runs: once complete
 * it leaves the table, and the next begin for that key starts a new flight (caching
 * the result is the caller's job, e.g. herd/swr.h). Go's x/sync/singleflight, with
 * a non-blocking half added so an event loop or a simulator can drive it.
 *
 * Two ways to join:
 *  - non-blocking: herd_singleflight_begin() says LEADER or JOINED (with a ticket)
 *    without waiting; the leader calls herd_singleflight_complete(); a joiner checks
 *    herd_singleflight_poll() whenever it likes, then herd_singleflight_release().
 *  - blocking: herd_singleflight_wait() (or herd_singleflight_join(), which is begin
 *    plus wait) sleeps on a condition variable until the flight completes or an
 *    absolute deadline on CLOCK_MONOTONIC passes. This is the ONE place in libherd
 *    that waits: the caller chooses the deadline, the library never reads the clock
 *    for anything else and never starts a thread.
 *
 * Guarantees:
 *  - At most one flight per key in the table at any moment (forget() and a stalled
 *    leader's takeover are the only ways a second leader appears, both deliberate).
 *  - A leader that fails completes with its error, and every joiner receives that
 *    error: a joiner never hangs on a completed flight. A leader that never calls
 *    complete is the caller's bug; stall_ns lets a later caller take it over (the
 *    first completion then serves everyone), and deadlines bound every wait.
 *
 * Value ownership: complete() COPIES the leader's bytes once into the flight (the
 * leader keeps its own buffer). Every joiner borrows that one copy: the pointer in
 * struct herd_singleflight_result stays valid until that joiner releases its ticket;
 * the copy is reused for a later flight only after the last ticket is released (so it
 * is reference-counted by the tickets). Copy what you keep.
 *
 * Cost: begin, complete, poll and release each take the table's one mutex for a hash
 * lookup (tens of ns uncontended). Flight slots, keys and condition variables are
 * allocated at herd_singleflight_new(); complete() allocates only when a value is
 * longer than any earlier value of that slot. Thread-safe: any thread may call any
 * function; a ticket belongs to the caller that got it.
 */
#ifndef HERD_SINGLEFLIGHT_H
#define HERD_SINGLEFLIGHT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/** Pass as deadline_ns to wait without a deadline. */
#define HERD_SINGLEFLIGHT_NO_DEADLINE INT64_C(-1)

struct herd_singleflight;

struct herd_singleflight_config {
    size_t max_flights;   /* flights running at once; 0: 1024. Beyond it begin is -HERD_EBUSY */
    size_t max_key_len;   /* longest key in bytes; 0: 256 */
    uint32_t max_waiters; /* joiners per flight; more are shed (-HERD_ESHED); 0: unlimited */
    int64_t stall_ns;     /* a flight led this long may be taken over by a new leader; 0: never */
};

enum herd_singleflight_role {
    HERD_SINGLEFLIGHT_LEADER = 0, /* you compute, then complete() */
    HERD_SINGLEFLIGHT_JOINED = 1, /* someone computes; poll()/wait(), then release() */
};

/** Caller-owned handle on one flight; its fields are private. */
struct herd_singleflight_ticket {
    uint32_t slot;
    uint32_t gen;
    bool leader;
};

struct herd_singleflight_result {
    int error;       /* 0, or the error the leader completed with */
    const void *val; /* borrowed until the ticket is released; NULL when len is 0 */
    size_t len;
};

struct herd_singleflight_stats {
    uint64_t flights;   /* flights started (leaders that did not take over) */
    uint64_t joins;     /* begin() calls that joined a running flight */
    uint64_t shared;    /* joiners released after their flight succeeded (shared results) */
    uint64_t errors;    /* flights completed with an error */
    uint64_t failed;    /* joiners released after their flight failed (got the error) */
    uint64_t canceled;  /* joiners released before their flight completed */
    uint64_t timeouts;  /* waits that returned -HERD_ETIMEDOUT */
    uint64_t shed;      /* begin() refused: the flight had max_waiters joiners */
    uint64_t full;      /* begin() refused: max_flights were running */
    uint64_t takeovers; /* stalled flights taken over by a second leader */
};

/**
 * Create a table. @p cfg may be NULL for the defaults.
 * @return 0 with the table in @p *out, -HERD_ENOMEM, or a negated errno when a mutex
 *         or condition variable could not be made.
 */
int herd_singleflight_new(const struct herd_singleflight_config *cfg,
                          struct herd_singleflight **out);

/** Free @p sf; no ticket may be outstanding and no thread inside a call. NULL is fine. */
void herd_singleflight_free(struct herd_singleflight *sf);

/**
 * Start or join the flight for @p key (@p keylen bytes, copied) at @p now_ns (used
 * only to age flights for stall takeover). Never blocks beyond the table's mutex.
 * @return HERD_SINGLEFLIGHT_LEADER or HERD_SINGLEFLIGHT_JOINED with @p *t filled, or
 *         -HERD_EINVAL (key longer than max_key_len), -HERD_ESHED (waiter cap),
 *         -HERD_EBUSY (max_flights running: do the work uncoalesced, or retry).
 */
int herd_singleflight_begin(struct herd_singleflight *sf, const void *key, size_t keylen,
                            int64_t now_ns, struct herd_singleflight_ticket *t);

/**
 * Publish the leader's outcome to every joiner and wake the blocked ones: @p len bytes
 * at @p val (copied; may be NULL when len is 0) when @p error is 0, else @p error
 * (a negative code) and no value. Consumes the leader ticket @p t. The flight leaves
 * the table. When a taken-over flight was already completed, this is a no-op.
 * @return 0, or -HERD_ENOMEM when the copy failed (joiners then get -HERD_ENOMEM).
 */
int herd_singleflight_complete(struct herd_singleflight *sf, struct herd_singleflight_ticket *t,
                               const void *val, size_t len, int error);

/** Non-blocking: has @p t's flight completed? If so, fill @p res (borrowed) and return true. */
bool herd_singleflight_poll(struct herd_singleflight *sf, const struct herd_singleflight_ticket *t,
                            struct herd_singleflight_result *res);

/**
 * BLOCKS until @p t's flight completes or CLOCK_MONOTONIC reaches @p deadline_ns
 * (absolute, or HERD_SINGLEFLIGHT_NO_DEADLINE). @return 0 with @p *res filled
 * (check res->error), or -HERD_ETIMEDOUT: the ticket is still held; wait again or
 * release it.
 */
int herd_singleflight_wait(struct herd_singleflight *sf, const struct herd_singleflight_ticket *t,
                           int64_t deadline_ns, struct herd_singleflight_result *res);

/**
 * The blocking join: begin(), and if JOINED, wait() until @p deadline_ns.
 * @return LEADER (compute and complete; @p res untouched), JOINED with @p *res
 *         filled (release @p t after reading it), -HERD_ETIMEDOUT (already released),
 *         or begin()'s errors.
 */
int herd_singleflight_join(struct herd_singleflight *sf, const void *key, size_t keylen,
                           int64_t now_ns, int64_t deadline_ns, struct herd_singleflight_ticket *t,
                           struct herd_singleflight_result *res);

/**
 * A joiner is done with @p t: after reading its result, or to cancel (time out,
 * give up) before the flight completes. The result's pointer dies here. Leader
 * tickets are consumed by complete() instead.
 */
void herd_singleflight_release(struct herd_singleflight *sf, struct herd_singleflight_ticket *t);

/**
 * Joiners of @p t's flight that have not released yet. A leader whose own caller
 * has gone may stop its work when this is 0, and must still complete() (for example
 * with -HERD_ECANCELED) so the slot is freed.
 */
uint32_t herd_singleflight_waiting(struct herd_singleflight *sf,
                                   const struct herd_singleflight_ticket *t);

/**
 * Remove @p key's running flight from the table, so the next begin() starts a new
 * one; the running flight still completes to its own joiners.
 * @return 0 or -HERD_ENOENT when no flight for @p key is in the table.
 */
int herd_singleflight_forget(struct herd_singleflight *sf, const void *key, size_t keylen);

/** Copy the counters into @p out. */
void herd_singleflight_stats(struct herd_singleflight *sf, struct herd_singleflight_stats *out);

#endif
