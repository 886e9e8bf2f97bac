/* queue.h — the simulator's event queue: an exact hierarchical timing wheel.
 *
 * What it is for. The engine (engine.h) keeps every pending event here: millions of
 * timers (a fleet asleep in backoff), most of them cancelled before they fire
 * (timeouts), and herds of events scheduled for the very same nanosecond.
 *
 * Order. Events come out in increasing (time, sequence number) order, where the
 * sequence number is the order of push: simultaneous events come out first-in,
 * first-out, so a run is a pure function of its inputs. The order is exact — no time
 * is ever rounded to a slot width.
 *
 * Design. Time is a non-negative int64 of nanoseconds, read as 8 base-256 digits.
 * Level k (0..7) has 256 slots; slot s of level k holds the events whose time agrees
 * with the wheel's cursor `cur` in every digit above k and has digit k = s, i.e. the
 * highest digit where time and cur differ is k (level 0 also takes time == cur).
 * So a level-0 slot holds events of one single nanosecond, and the 8 levels cover the
 * whole int64 range: nothing is ever "beyond the span", there is no overflow list.
 * A slot is an array (not a linked list), appended to at its end.
 *   - push: one XOR, one count-leading-zeros, one append. O(1).
 *   - pop: the lowest non-empty level is found from an 8-bit mask and its first
 *     non-empty slot from a 256-bit bitmap. At level 0 the slot's head is the answer.
 *     Otherwise that slot becomes current: cur moves to the slot's start and its
 *     events are re-filed one level (or more) lower — a "cascade". An event is moved
 *     at most 7 times in its life, in practice ⌈log256(delay)⌉ − 1 times (twice for
 *     a 1 ms timer), each move a sequential 32-byte copy; a slot holding a single
 *     event is not cascaded, its event is simply the minimum. O(1) amortised.
 *   - FIFO is exact without sorting: every slot's array is in increasing sequence
 *     order. A push has the largest sequence number yet, so appending keeps it; a
 *     cascade only happens when every lower level is empty and copies in array
 *     order, so each destination receives an increasing subsequence. Hence a level-0
 *     slot (one nanosecond) holds its events in push order.
 *   - cancel: the same invariant makes it cheap without any per-event side table. A
 *     handle is (time, sequence); from time and cur the event's current level and
 *     slot follow, and a binary search on the sequence finds it. It is marked dead in
 *     place (tag 0) and skipped when its slot is popped or cascaded (dead events are
 *     dropped, not copied). O(log slot size), no memory per event beyond the entry.
 *   - memory: 32 bytes per pending event plus array slack (doubling: ≤ 2×), plus
 *     2,048 slot headers (48 KiB) and the arrays kept by empty slots for reuse: any
 *     of ≤ 256 entries, larger ones only up to a quarter of the entries stored (see
 *     emptied() in queue.c). Measured: 51–55 bytes per pending event at 10^5–10^7.
 *
 * Why this structure. bench/bench_hold.c on this machine (2-core AMD EPYC, gcc 12 -O2,
 * exponential increments of mean 1 ms, CPU ns per hold = pop + push, median of 5, over
 * three runs on a machine shared with other builds, so ±15 %):
 *     pending              10^3     10^5     10^6     10^7
 *     this wheel          24-29    39-47    42-57    54-80   (16-18 M holds/s at 10^6-7)
 *     binary heap         53-61  119-137  362-438  735-784
 * The figures for the others at 10^6: 4-ary heap ~270, calendar queue ~470.
 * A heap pays about log2(n) cache misses per operation, so it degrades with n; the
 * wheel touches a bitmap word, a slot header and the tail of one array, plus a
 * sequential copy per cascade, so it stays nearly flat. Through the engine (dispatch
 * + reschedule) the same hold runs at 12-16 M events/s at 10^6-10^7. Herds of equal
 * times cost nothing extra (increments rounded to 10 µs: 37-42 ns at 10^6), where a
 * calendar queue fed rounded times degrades by two orders of magnitude.
 *
 * Thread safety: none; one queue belongs to one simulation run on one thread.
 */
#ifndef HERD_SIM_QUEUE_H
#define HERD_SIM_QUEUE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define HERD_QUEUE_LEVELS 8
#define HERD_QUEUE_SLOT_BITS 8
#define HERD_QUEUE_SLOTS (1 << HERD_QUEUE_SLOT_BITS)
#define HERD_QUEUE_SEQ_MAX ((UINT64_C(1) << 48) - 1) /* sequence numbers are 48-bit */

/* One pending event, 32 bytes. key = seq << 16 | tag; tag 0 marks a cancelled entry,
 * so callers use tags 1..65535 (the engine's event kind). ctx and arg are opaque. */
struct herd_queue_entry {
    int64_t time_ns;
    uint64_t key;
    void *ctx;
    uint64_t arg;
};

/* What a push returns to cancel the event later. seq 0 is never issued, so a zeroed
 * handle means "no event". */
struct herd_queue_handle {
    int64_t time_ns;
    uint64_t seq;
};

struct herd_queue_slot {
    struct herd_queue_entry *v; /* owned; NULL until first used */
    uint32_t head;              /* entries before head were popped */
    uint32_t len;
    uint32_t cap;
};

struct herd_queue {
    int64_t cur;         /* no pending event is earlier; the wheel's origin */
    uint64_t next_seq;   /* the sequence number of the next push */
    size_t live;         /* pending, not cancelled */
    size_t dead;         /* cancelled, still stored */
    size_t idle;         /* capacity (entries) of the arrays kept by empty slots */
    int err;             /* sticky: after a failed cascade only _fini is valid */
    uint32_t level_mask; /* bit k: level k has a non-empty slot */
    uint64_t bits[HERD_QUEUE_LEVELS][HERD_QUEUE_SLOTS / 64]; /* non-empty slots */
    struct herd_queue_slot *slots; /* owned; LEVELS * SLOTS, level-major */
};

/** Initialise @p q empty with its cursor at 0. @return 0 or -HERD_ENOMEM. */
int herd_queue_init(struct herd_queue *q);

/** Free everything @p q owns. Pending events are discarded. */
void herd_queue_fini(struct herd_queue *q);

/**
 * Add an event at @p time_ns (asserted >= herd_queue_cursor(q)) with @p tag (1..65535),
 * @p ctx (borrowed, opaque) and @p arg. @p handle may be NULL.
 * @return 0, -HERD_ENOMEM (the queue is unchanged), or the sticky error.
 */
int herd_queue_push(struct herd_queue *q, int64_t time_ns, uint16_t tag, void *ctx, uint64_t arg,
                    struct herd_queue_handle *handle);

/**
 * Remove the earliest event by (time, seq) if its time is <= @p limit_ns and copy it
 * to @p out. The cursor never moves past @p limit_ns, so pushes at any time >= the
 * time of the last event popped (or >= limit_ns after a miss) stay valid.
 * @return 0, -HERD_ENOENT when no event is due by @p limit_ns, or -HERD_ENOMEM when
 *         a cascade could not allocate (sticky: the queue is then unusable).
 */
int herd_queue_pop(struct herd_queue *q, int64_t limit_ns, struct herd_queue_entry *out);

/**
 * Cancel the event of @p handle. @return 0, or -HERD_ENOENT when it already came out
 * of the queue or was cancelled before (a zeroed handle included).
 */
int herd_queue_cancel(struct herd_queue *q, const struct herd_queue_handle *handle);

/**
 * Time of the earliest pending event in @p *time_ns. Changes nothing (the cursor
 * stays). Cost: O(size of the first occupied slot) — for reports, not the hot path.
 * @return 0 or -HERD_ENOENT when the queue is empty.
 */
int herd_queue_peek(const struct herd_queue *q, int64_t *time_ns);

/**
 * Up to two entries likely to come out of the queue next, in @p h[0] and @p h[1]
 * (NULL when there is none): the head of the first occupied slot of the lowest
 * occupied level, and the entry after it in that slot or else the head of the level's
 * next occupied slot. At level 0 the first is exactly the next event (or a cancelled
 * entry); above, they are events of the next slots, which all come before any later
 * slot's. For prefetching only (engine.h): they may be cancelled or overtaken by a
 * push. Cost: a mask test and two scans of at most four bitmap words.
 */
static inline void herd_queue_hint(const struct herd_queue *q,
                                   const struct herd_queue_entry *h[2])
{
    h[0] = h[1] = NULL;
    if (!q->level_mask)
        return;
    unsigned lv = (unsigned)__builtin_ctz(q->level_mask);
    const uint64_t *w = q->bits[lv];
    const struct herd_queue_slot *slots = &q->slots[lv * HERD_QUEUE_SLOTS];
    int found = 0;
    for (unsigned i = 0; i < HERD_QUEUE_SLOTS / 64 && found < 2; i++) {
        for (uint64_t m = w[i]; m && found < 2; m &= m - 1) {
            const struct herd_queue_slot *sl = &slots[i * 64 + (unsigned)__builtin_ctzll(m)];
            h[found++] = &sl->v[sl->head];
            if (found == 1 && sl->len - sl->head > 1)
                h[found++] = &sl->v[sl->head + 1];
        }
    }
}

/** Pending (not cancelled) events. */
static inline size_t herd_queue_size(const struct herd_queue *q)
{
    return q->live;
}

/** The cursor: no pending event is earlier, and pushes must not be earlier. */
static inline int64_t herd_queue_cursor(const struct herd_queue *q)
{
    return q->cur;
}

#endif
