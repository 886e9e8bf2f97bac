/* queue.c — exact hierarchical timing wheel; see queue.h for the design and its cost.
 *
 * Invariants (checked by tests/sim/test_queue.c against a reference sort):
 *   1. every stored entry e has e.time >= cur and sits at level lvl(e.time ^ cur),
 *      slot digit(e.time, level), where lvl(x) is the index of x's highest non-zero
 *      base-256 digit (0 for x == 0);
 *   2. every slot array is strictly increasing in sequence number;
 *   3. level_mask and bits mirror exactly which slots hold entries in [head, len).
 * Thread safety: none (one run, one thread).
 */
#include "queue.h"

#include <assert.h>
#include <stdlib.h>
#include <string.h>

#include <herd/error.h>

#define SLOT_MASK (HERD_QUEUE_SLOTS - 1)
#define WORDS (HERD_QUEUE_SLOTS / 64)
_Static_assert(HERD_QUEUE_SLOTS == 256, "the bitmaps are four words");
#define KEEP_SMALL 256u /* entries (8 KiB): an empty slot always keeps an array this small */

static inline unsigned level_of(uint64_t x)
{
    return x ? (unsigned)(63 - __builtin_clzll(x)) / HERD_QUEUE_SLOT_BITS : 0;
}

static inline unsigned slot_index(int64_t t, int64_t cur)
{
    unsigned lv = level_of((uint64_t)t ^ (uint64_t)cur);
    return lv * HERD_QUEUE_SLOTS +
           (unsigned)(((uint64_t)t >> (lv * HERD_QUEUE_SLOT_BITS)) & SLOT_MASK);
}

static inline void mark(struct herd_queue *q, unsigned idx)
{
    unsigned lv = idx / HERD_QUEUE_SLOTS, s = idx & SLOT_MASK;
    q->bits[lv][s / 64] |= UINT64_C(1) << (s % 64);
    q->level_mask |= 1u << lv;
}

static inline void unmark(struct herd_queue *q, unsigned idx)
{
    unsigned lv = idx / HERD_QUEUE_SLOTS, s = idx & SLOT_MASK;
    uint64_t *w = q->bits[lv];
    w[s / 64] &= ~(UINT64_C(1) << (s % 64));
    /* Branch-free: whether the level just emptied is data, and mispredicts cost. */
    q->level_mask &= ~((uint32_t)!(w[0] | w[1] | w[2] | w[3]) << lv);
}

/* First non-empty slot of level @p lv (which must have one). */
static inline unsigned first_slot(const struct herd_queue *q, unsigned lv)
{
    const uint64_t *w = q->bits[lv];
    for (unsigned i = 0; i < WORDS; i++)
        if (w[i])
            return i * 64 + (unsigned)__builtin_ctzll(w[i]);
    assert(!"level mask and bitmap disagree");
    return 0;
}

/* Make room for one more entry. Doubling keeps appends O(1) amortised. */
static int grow(struct herd_queue_slot *sl)
{
    uint32_t cap = sl->cap ? sl->cap * 2 : 16;
    if (cap <= sl->cap) /* 2^32 entries in one slot */
        return -HERD_ENOMEM;
    void *v = realloc(sl->v, (size_t)cap * sizeof *sl->v);
    if (!v)
        return -HERD_ENOMEM;
    sl->v = v;
    sl->cap = cap;
    return 0;
}

/* The slot became empty: forget its contents. Keeping its array saves the allocator
 * work of refilling it, but every slot once filled by a herd or a busy stretch of time
 * would then hold its peak size forever (256 such arrays per level). So an empty slot
 * keeps a small array always, and a larger one only while all kept arrays together
 * stay under a quarter of the entries stored: memory stays O(pending events). */
static void emptied(struct herd_queue *q, unsigned idx)
{
    struct herd_queue_slot *sl = &q->slots[idx];
    sl->head = sl->len = 0;
    if (sl->cap <= KEEP_SMALL || q->idle + sl->cap <= (q->live + q->dead) / 4) {
        q->idle += sl->cap;
    } else {
        free(sl->v);
        sl->v = NULL;
        sl->cap = 0;
    }
    unmark(q, idx);
}

int herd_queue_init(struct herd_queue *q)
{
    memset(q, 0, sizeof *q);
    q->next_seq = 1;
    q->slots = calloc((size_t)HERD_QUEUE_LEVELS * HERD_QUEUE_SLOTS, sizeof *q->slots);
    return q->slots ? 0 : -HERD_ENOMEM;
}

void herd_queue_fini(struct herd_queue *q)
{
    if (q->slots)
        for (unsigned i = 0; i < HERD_QUEUE_LEVELS * HERD_QUEUE_SLOTS; i++)
            free(q->slots[i].v);
    free(q->slots);
    memset(q, 0, sizeof *q);
}

int herd_queue_push(struct herd_queue *q, int64_t time_ns, uint16_t tag, void *ctx, uint64_t arg,
                    struct herd_queue_handle *handle)
{
    assert(time_ns >= q->cur && "an event must not be scheduled in the past");
    assert(tag != 0);
    assert(q->next_seq <= HERD_QUEUE_SEQ_MAX);
    if (q->err)
        return q->err;
    unsigned idx = slot_index(time_ns, q->cur);
    struct herd_queue_slot *sl = &q->slots[idx];
    if (sl->len == 0)
        q->idle -= sl->cap; /* a kept array is in use again */
    if (sl->len == sl->cap && grow(sl) < 0)
        return -HERD_ENOMEM;
    uint64_t seq = q->next_seq++;
    struct herd_queue_entry *e = &sl->v[sl->len++];
    e->time_ns = time_ns;
    e->key = seq << 16 | tag;
    e->ctx = ctx;
    e->arg = arg;
    mark(q, idx);
    q->live++;
    if (handle) {
        handle->time_ns = time_ns;
        handle->seq = seq;
    }
    return 0;
}

/* Re-file the events of slot @p idx (level >= 1), whose start the cursor has just
 * moved to, into the lower levels. Lower levels are empty, so destinations receive
 * increasing subsequences and invariant 2 holds. Dead entries are dropped here. */
static int cascade(struct herd_queue *q, unsigned idx)
{
    struct herd_queue_slot *src = &q->slots[idx];
    const int64_t cur = q->cur;
    for (uint32_t i = src->head; i < src->len; i++) {
        const struct herd_queue_entry *e = &src->v[i];
        if (!(e->key & 0xffff)) {
            q->dead--;
            continue;
        }
        unsigned d = slot_index(e->time_ns, cur);
        assert(d < idx / HERD_QUEUE_SLOTS * HERD_QUEUE_SLOTS);
        struct herd_queue_slot *dst = &q->slots[d];
        if (dst->len == 0)
            q->idle -= dst->cap;
        if (dst->len == dst->cap && grow(dst) < 0)
            return q->err = -HERD_ENOMEM;
        dst->v[dst->len++] = *e;
        mark(q, d);
    }
    emptied(q, idx);
    return 0;
}

int herd_queue_pop(struct herd_queue *q, int64_t limit_ns, struct herd_queue_entry *out)
{
    if (q->err)
        return q->err;
    if (!q->live) /* only dead entries: cascading to them would move cur past now */
        return -HERD_ENOENT;
    for (;;) {
        if (q->level_mask & 1) {
            unsigned idx = first_slot(q, 0);
            struct herd_queue_slot *sl = &q->slots[idx];
            struct herd_queue_entry *e = &sl->v[sl->head];
            if (!(e->key & 0xffff)) { /* cancelled: drop it, whatever the limit */
                q->dead--;
                if (++sl->head == sl->len)
                    emptied(q, idx);
                continue;
            }
            if (e->time_ns > limit_ns)
                return -HERD_ENOENT;
            *out = *e;
            q->cur = e->time_ns;
            q->live--;
            if (++sl->head == sl->len)
                emptied(q, idx);
            return 0;
        }
        assert(q->level_mask);
        unsigned lv = (unsigned)__builtin_ctz(q->level_mask);
        unsigned s = first_slot(q, lv);
        unsigned idx = lv * HERD_QUEUE_SLOTS + s;
        struct herd_queue_slot *sl = &q->slots[idx];
        if (sl->len - sl->head == 1) {
            /* A lone entry in the first slot of the lowest level is the minimum: take it
             * without a cascade. Moving cur to its time keeps invariant 1 for everyone
             * else (they differ from it at this level or above, as from the old cur). */
            struct herd_queue_entry *e = &sl->v[sl->head];
            if (!(e->key & 0xffff)) {
                q->dead--;
                emptied(q, idx);
                continue;
            }
            if (e->time_ns > limit_ns)
                return -HERD_ENOENT;
            *out = *e;
            q->cur = e->time_ns;
            q->live--;
            emptied(q, idx);
            return 0;
        }
        /* The slot's start: cur's digits above lv, digit lv = s, zeros below. */
        unsigned shift = lv * HERD_QUEUE_SLOT_BITS, above_shift = shift + HERD_QUEUE_SLOT_BITS;
        uint64_t above = 0;
        if (lv + 1 < HERD_QUEUE_LEVELS)
            above = ((uint64_t)q->cur >> above_shift) << above_shift;
        int64_t start = (int64_t)(above | (uint64_t)s << shift);
        if (start > limit_ns)
            return -HERD_ENOENT;
        q->cur = start;
        int rc = cascade(q, idx);
        if (rc < 0)
            return rc;
    }
}

int herd_queue_cancel(struct herd_queue *q, const struct herd_queue_handle *handle)
{
    if (q->err)
        return q->err;
    if (handle->seq == 0 || handle->time_ns < q->cur)
        return -HERD_ENOENT;
    struct herd_queue_slot *sl = &q->slots[slot_index(handle->time_ns, q->cur)];
    uint32_t lo = sl->head, hi = sl->len; /* binary search on seq (invariant 2) */
    while (lo < hi) {
        uint32_t mid = lo + (hi - lo) / 2;
        uint64_t seq = sl->v[mid].key >> 16;
        if (seq < handle->seq)
            lo = mid + 1;
        else
            hi = mid;
    }
    if (lo == sl->len)
        return -HERD_ENOENT;
    struct herd_queue_entry *e = &sl->v[lo];
    if (e->key >> 16 != handle->seq || !(e->key & 0xffff))
        return -HERD_ENOENT;
    assert(e->time_ns == handle->time_ns);
    e->key &= ~UINT64_C(0xffff);
    q->live--;
    q->dead++;
    return 0;
}

int herd_queue_peek(const struct herd_queue *q, int64_t *time_ns)
{
    if (q->err)
        return q->err;
    if (!q->live)
        return -HERD_ENOENT;
    for (unsigned lv = 0; lv < HERD_QUEUE_LEVELS; lv++) {
        if (!(q->level_mask & (1u << lv)))
            continue;
        /* Slots of one level are ordered by time range, and every level is later
         * than all the levels below it, so the first live entry found wins. */
        for (unsigned s = 0; s < HERD_QUEUE_SLOTS; s++) {
            if (!(q->bits[lv][s / 64] & (UINT64_C(1) << (s % 64))))
                continue;
            const struct herd_queue_slot *sl = &q->slots[lv * HERD_QUEUE_SLOTS + s];
            bool found = false;
            int64_t best = 0;
            for (uint32_t i = sl->head; i < sl->len; i++) {
                const struct herd_queue_entry *e = &sl->v[i];
                if ((e->key & 0xffff) && (!found || e->time_ns < best)) {
                    best = e->time_ns;
                    found = true;
                    if (lv == 0)
                        break; /* one nanosecond per level-0 slot */
                }
            }
            if (found) {
                *time_ns = best;
                return 0;
            }
        }
    }
    assert(!"live count and slots disagree");
    return -HERD_ENOENT;
}
