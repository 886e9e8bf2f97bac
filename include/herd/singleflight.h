/* herd/singleflight.h — one computation per key at a time; everyone else shares it.
 *
 * When many callers miss the same key at once, the first becomes the LEADER and
 * computes the value; the others JOIN its flight and receive its result (or its
 * error) when the leader completes. A flight lives only while it runs: once complete
 * it leaves the table, and the next begin for that key starts a new flight (caching
 * the result is the caller's job, e.g. herd/swr.h). Go's x/sync/singleflight, with
 * a non-blocking half added so an event loop or a simulator can drive it, and with
 * the gaps of its issue tracker closed (per-waiter timeout and cancel, cancellation
 * of the work only when every caller has gone, stalled leaders, waiter caps).
 *
 * Two ways to join:
 *  - non-blocking: herd_singleflight_begin() says LEADER or JOINED (with a ticket)
 *    without waiting; the leader calls herd_singleflight_complete(); a joiner checks
 *    herd_singleflight_poll() whenever it likes, then herd_singleflight_release().
 *    Its timeout is the caller's own timer: release() before completion is a cancel.
 *  - blocking: herd_singleflight_wait() (or herd_singleflight_join(), which is begin
 *    plus wait) sleeps on a condition variable until the flight completes, an
 *    absolute deadline on CLOCK_MONOTONIC passes, another thread cancels the ticket
 *    (herd_singleflight_cancel()), or the leader is found stalled. This is the ONE
 *    place in libherd that waits: the caller chooses the deadline, the library never
 *    reads the clock for anything else and never starts a thread.
 *
 * Guarantees:
 *  - At most one flight per key in the table at any moment. forget(), a cancelled
 *    flight and a stalled leader's takeover are the only ways a second computation of
 *    a key can start while a first still runs, all three deliberate.
 *  - A leader that fails completes with its error and every joiner receives that
 *    error; a leader that gives up without a value calls herd_singleflight_abandon()
 *    and every joiner receives -HERD_ELEADER. A joiner never hangs on a flight whose
 *    leader has finished, either way.
 *  - A leader that crashes (its thread died, or it forgot its ticket) is caught by
 *    stall_ns: a flight whose leader started stall_ns ago may be TAKEN OVER by the
 *    next begin(), which returns LEADER for the same flight (its joiners stay on it)
 *    and restarts the flight's age; blocked waiters give up on a stalled leader by
 *    themselves with -HERD_ELEADER (join() then takes over or joins the new leader).
 *    After a takeover the flight completes with the FIRST SUCCESS of any of its
 *    leaders, or with the error of its newest leader; a superseded leader's error and
 *    any result that arrives after completion are discarded (counted in `late`).
 *  - The work is cancelled only when the LAST caller leaves: every joiner cancelled or
 *    released early AND the leader's own caller gone (herd_singleflight_cancel() on
 *    the leader ticket). Then herd_singleflight_cancelled() turns true for the leader,
 *    and the flight leaves the table so a newcomer starts a fresh one instead of
 *    joining doomed work. The leader must still complete() or abandon().
 *
 * Value ownership: complete() COPIES the leader's bytes once into the flight (the
 * leader keeps its own buffer). Every joiner borrows that one copy: the pointer in
 * struct herd_singleflight_result stays valid until that joiner releases its ticket;
 * the copy is reused for a later flight only after the last ticket is released (so it
 * is reference-counted by the tickets). Copy what you keep.
 *
 * Cost: begin, complete, release and cancel each take the table's one mutex for a hash
 * lookup or a slot access; poll() and wait() on a completed flight take no lock (an
 * acquire load), so a join whose result is ready costs two lock round trips
 * (bench/bench_singleflight.c: about 30 ns per hot-key join on one thread, against
 * about 110 ns for Go's x/sync/singleflight on the same workload). Flight slots, keys,
 * condition variables and, with max_value_len, value buffers are allocated at
 * herd_singleflight_new() through the config's allocator. Without max_value_len,
 * complete() allocates when a value is longer than any earlier value of its slot (the
 * only allocation after new). Thread-safe: any thread may call any function; a ticket
 * belongs to the caller that got it (cancel() is the one call another thread may make
 * on it).
 */
#ifndef HERD_SINGLEFLIGHT_H
#define HERD_SINGLEFLIGHT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <herd/alloc.h>

/** Pass as deadline_ns to wait without a deadline. */
#define HERD_SINGLEFLIGHT_NO_DEADLINE INT64_C(-1)

struct herd_singleflight;

struct herd_singleflight_config {
    size_t max_flights;   /* flights running at once; 0: 1024. Beyond it begin is -HERD_EBUSY */
    size_t max_key_len;   /* longest key in bytes; 0: 256 */
    size_t max_value_len; /* >0: value buffers made at new(), complete() never allocates and
                           * a longer value fails with -HERD_EINVAL; 0: grow on demand */
    uint32_t max_waiters; /* joiners per flight; more are shed (-HERD_ESHED); 0: unlimited */
    int64_t stall_ns;     /* a flight led this long may be taken over by a new leader; 0: never */
    const struct herd_allocator *alloc; /* NULL: libc; borrowed, must outlive the table */
};

enum herd_singleflight_role {
    HERD_SINGLEFLIGHT_LEADER = 0, /* you compute, then complete() */
    HERD_SINGLEFLIGHT_JOINED = 1, /* someone computes; poll()/wait(), then release() */
};

/** Caller-owned handle on one flight; its fields are private. */
struct herd_singleflight_ticket {
    uint32_t slot;
    uint32_t gen;   /* the slot's reuse count when the ticket was issued */
    uint32_t epoch; /* leaders: the flight's takeover count when this one took the lead */
    bool leader;
    bool gone; /* cancel() ran on this ticket (written under the table's mutex) */
};

struct herd_singleflight_result {
    int error;       /* 0, or the error the flight completed with */
    const void *val; /* borrowed until the ticket is released; NULL when len is 0 */
    size_t len;
};

struct herd_singleflight_stats {
    uint64_t flights;   /* flights started (leaders that did not take over) */
    uint64_t joins;     /* begin() calls that joined a running flight */
    uint64_t waits;     /* wait() calls that had to block (the flight was not done) */
    uint64_t shared;    /* joiners released after their flight succeeded (shared results) */
    uint64_t errors;    /* flights completed with an error (abandoned ones included) */
    uint64_t failed;    /* joiners released after their flight failed (got the error) */
    uint64_t abandoned; /* flights whose leader abandoned them (joiners got -HERD_ELEADER) */
    uint64_t canceled;  /* joiners that left before their flight completed */
    uint64_t cancelled_flights; /* flights whose last caller left: the work was cancelled */
    uint64_t timeouts;  /* waits that returned -HERD_ETIMEDOUT */
    uint64_t stalls;    /* waits that gave up on a stalled leader (-HERD_ELEADER) */
    uint64_t shed;      /* begin() refused: the flight had max_waiters joiners */
    uint64_t full;      /* begin() refused: max_flights were running */
    uint64_t takeovers; /* stalled flights taken over by another leader */
    uint64_t late;      /* leader results discarded: after completion, or superseded errors */
};

/**
 * Create a table. @p cfg may be NULL for the defaults; it is copied.
 * @return 0 with the table in @p *out, -HERD_ENOMEM, -HERD_EINVAL (sizes out of
 *         range), or a negated errno when a mutex or condition variable could not be made.
 */
int herd_singleflight_new(const struct herd_singleflight_config *cfg,
                          struct herd_singleflight **out);

/** Free @p sf; no ticket may be outstanding and no thread inside a call. NULL is fine. */
void herd_singleflight_free(struct herd_singleflight *sf);

/**
 * Start or join the flight for @p key (@p keylen bytes, copied) at @p now_ns (used
 * only to age flights for stall takeover; on CLOCK_MONOTONIC if anyone blocks in
 * wait() with stall_ns set). Never blocks beyond the table's mutex.
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
 * the table. A result arriving after the flight completed, or a superseded leader's
 * error, is discarded (see the takeover rule above).
 * @return 0, or the error the joiners got instead of the value: -HERD_EINVAL (longer
 *         than max_value_len) or -HERD_ENOMEM (the copy could not be allocated).
 */
int herd_singleflight_complete(struct herd_singleflight *sf, struct herd_singleflight_ticket *t,
                               const void *val, size_t len, int error);

/**
 * The leader gives up without a result (an exception path, a cleanup handler, a
 * shutdown): every joiner gets -HERD_ELEADER. Same as complete() with that error,
 * counted in `abandoned`. Consumes @p t.
 */
void herd_singleflight_abandon(struct herd_singleflight *sf, struct herd_singleflight_ticket *t);

/** Non-blocking: has @p t's flight completed? If so, fill @p res (borrowed) and return true. */
bool herd_singleflight_poll(struct herd_singleflight *sf, const struct herd_singleflight_ticket *t,
                            struct herd_singleflight_result *res);

/**
 * BLOCKS until @p t's flight completes or CLOCK_MONOTONIC reaches @p deadline_ns
 * (absolute, or HERD_SINGLEFLIGHT_NO_DEADLINE). With stall_ns set it also stops at
 * the leader's start + stall_ns if no leader has taken over by then.
 * @return 0 with @p *res filled (check res->error), or with the ticket still held
 *         (wait again, or release it): -HERD_ETIMEDOUT, -HERD_ECANCELED (cancel() ran
 *         on @p t), -HERD_ELEADER (the leader stalled: release, then begin() again to
 *         take over).
 */
int herd_singleflight_wait(struct herd_singleflight *sf, const struct herd_singleflight_ticket *t,
                           int64_t deadline_ns, struct herd_singleflight_result *res);

/**
 * The blocking join: begin(), and if JOINED, wait() until @p deadline_ns; a stalled
 * leader is taken over (then this returns LEADER) or the new leader is waited for.
 * @return LEADER (compute and complete; @p res untouched), JOINED with @p *res
 *         filled (release @p t after reading it), -HERD_ETIMEDOUT or -HERD_ECANCELED
 *         (the ticket is already released), or begin()'s errors.
 */
int herd_singleflight_join(struct herd_singleflight *sf, const void *key, size_t keylen,
                           int64_t now_ns, int64_t deadline_ns, struct herd_singleflight_ticket *t,
                           struct herd_singleflight_result *res);

/**
 * A joiner is done with @p t: after reading its result, or to leave (time out,
 * give up) before the flight completes. The result's pointer dies here. Leader
 * tickets are consumed by complete() or abandon() instead.
 */
void herd_singleflight_release(struct herd_singleflight *sf, struct herd_singleflight_ticket *t);

/**
 * The caller behind @p t has gone. May be called from any thread, at most once per
 * ticket (later calls are no-ops). A joiner blocked in wait() on @p t returns
 * -HERD_ECANCELED; its owner still releases the ticket. On a leader ticket it says
 * the leader's own caller no longer wants the value: the leader keeps computing for
 * its joiners, and must still complete() or abandon(). When no caller of the flight
 * is left, the flight is cancelled (see herd_singleflight_cancelled()).
 */
void herd_singleflight_cancel(struct herd_singleflight *sf, struct herd_singleflight_ticket *t);

/**
 * For a leader to poll during long work: true when nobody wants the result any more
 * (every joiner and the leader's own caller have left) or when the flight has already
 * completed (another leader took over and finished). Stop, then complete() or abandon().
 */
bool herd_singleflight_cancelled(struct herd_singleflight *sf,
                                 const struct herd_singleflight_ticket *t);

/** Joiners of @p t's flight that still want its result (not released, not cancelled). */
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
