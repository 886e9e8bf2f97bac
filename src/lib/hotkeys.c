/* hotkeys.c — Space-Saving over SipHash-2-4 fingerprints; see herd/hotkeys.h.
 *
 * Layout: one block holds the header, the m counters as a binary MIN-HEAP on count
 * (heap[0] is c_min, the counter an unmonitored key takes over), and an open-addressing
 * index from fingerprint to heap position (linear probing, at least twice as many slots
 * as counters, so probes stay short; deletion by backward shift, so no tombstones pile
 * up). slot_of[p] is the index slot that points at heap position p, so a heap swap fixes
 * the index in O(1). The index hashes the fingerprint's low bits: the fingerprint is
 * already a keyed PRF output, so nobody without the secret can aim keys at one slot.
 * Invariants: index[slot_of[p]] == p + 1 for every p < used; every non-empty index slot
 * is reachable from its home by probing without crossing an empty slot; the heap
 * property heap[parent].count <= heap[child].count.
 * Cost: see the header. The raw key lives only in the caller's buffer and in
 * herd_siphash24()'s registers: it is never copied into the table.
 */
#include <herd/error.h>
#include <herd/hotkeys.h>

#include <errno.h>
#include <string.h>
#include <sys/random.h>

#include "alloc_int.h"

struct counter {
    uint64_t fp;
    uint64_t count; /* estimated weight, saturating */
    uint64_t error; /* c_min when this key took the counter over */
};

struct herd_hotkeys {
    struct herd_hotkeys_secret secret;
    const struct herd_allocator *alloc; /* borrowed */
    uint32_t m;                         /* counters */
    uint32_t used;                      /* counters in use (<= m) */
    uint32_t mask;                      /* index slots - 1 (a power of two minus one) */
    uint64_t total;                     /* N, saturating */
    size_t bytes;                       /* the whole block, for the wipe at free */
    struct counter *heap;               /* m, a min-heap on count */
    uint32_t *slot_of;                  /* m: the index slot of heap position p */
    uint32_t *index;                    /* mask + 1: heap position + 1, 0 = empty */
};

/* ---- SipHash-2-4 ----------------------------------------------------------------------
 * From the paper's specification (Aumasson and Bernstein 2012, §2): the 128-bit key is
 * k0 || k1 (little-endian words); the state v0..v3 starts as the key XOR "somepseudorandomly
 * generatedbytes"; each 8-byte little-endian message word m is absorbed as v3 ^= m, c = 2
 * SipRounds, v0 ^= m; the last word carries the leftover bytes and, in its top byte, the
 * length mod 256; finalization is v2 ^= 0xff, d = 4 SipRounds, and the output is
 * v0 ^ v1 ^ v2 ^ v3. tests/unit/test_hotkeys.c checks the paper's Appendix A vector. */

static inline uint64_t rotl(uint64_t x, int b)
{
    return (x << b) | (x >> (64 - b));
}

static inline uint64_t load_le64(const uint8_t *p)
{
    uint64_t v = 0;
    for (int i = 7; i >= 0; i--)
        v = (v << 8) | p[i];
    return v;
}

#define SIPROUND                                                                                   \
    do {                                                                                           \
        v0 += v1;                                                                                  \
        v1 = rotl(v1, 13);                                                                         \
        v1 ^= v0;                                                                                  \
        v0 = rotl(v0, 32);                                                                         \
        v2 += v3;                                                                                  \
        v3 = rotl(v3, 16);                                                                         \
        v3 ^= v2;                                                                                  \
        v0 += v3;                                                                                  \
        v3 = rotl(v3, 21);                                                                         \
        v3 ^= v0;                                                                                  \
        v2 += v1;                                                                                  \
        v1 = rotl(v1, 17);                                                                         \
        v1 ^= v2;                                                                                  \
        v2 = rotl(v2, 32);                                                                         \
    } while (0)

uint64_t herd_siphash24(const struct herd_hotkeys_secret *secret, const void *msg, size_t len)
{
    static const uint8_t zero_key[16];
    const uint8_t *k = secret ? secret->k : zero_key;
    const uint8_t *in = msg;
    if (!in)
        len = 0;
    uint64_t k0 = load_le64(k), k1 = load_le64(k + 8);
    uint64_t v0 = k0 ^ UINT64_C(0x736f6d6570736575);
    uint64_t v1 = k1 ^ UINT64_C(0x646f72616e646f6d);
    uint64_t v2 = k0 ^ UINT64_C(0x6c7967656e657261);
    uint64_t v3 = k1 ^ UINT64_C(0x7465646279746573);
    size_t whole = len - len % 8;
    for (size_t i = 0; i < whole; i += 8) {
        uint64_t m = load_le64(in + i);
        v3 ^= m;
        SIPROUND;
        SIPROUND;
        v0 ^= m;
    }
    uint64_t last = (uint64_t)(len & 0xff) << 56;
    for (size_t i = 0; i < len % 8; i++)
        last |= (uint64_t)in[whole + i] << (8 * i);
    v3 ^= last;
    SIPROUND;
    SIPROUND;
    v0 ^= last;
    v2 ^= 0xff;
    SIPROUND;
    SIPROUND;
    SIPROUND;
    SIPROUND;
    return v0 ^ v1 ^ v2 ^ v3;
}

int herd_hotkeys_secret_random(struct herd_hotkeys_secret *out)
{
    if (!out)
        return -HERD_EINVAL;
    uint8_t buf[sizeof out->k];
    size_t got = 0;
    while (got < sizeof buf) {
        ssize_t n = getrandom(buf + got, sizeof buf - got, 0);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            return -errno;
        }
        got += (size_t)n;
    }
    memcpy(out->k, buf, sizeof buf);
    explicit_bzero(buf, sizeof buf);
    return 0;
}

/* ---- the table ----------------------------------------------------------------------- */

static uint32_t index_slots(uint32_t m)
{
    uint32_t s = 2;
    while (s < 2 * m)
        s *= 2;
    return s;
}

size_t herd_hotkeys_bytes(uint32_t counters)
{
    if (counters == 0)
        counters = HERD_HOTKEYS_COUNTERS_DEFAULT;
    if (counters > HERD_HOTKEYS_COUNTERS_MAX)
        return 0;
    return sizeof(struct herd_hotkeys) + (size_t)counters * sizeof(struct counter) +
           (size_t)counters * sizeof(uint32_t) + (size_t)index_slots(counters) * sizeof(uint32_t);
}

int herd_hotkeys_new(const struct herd_hotkeys_config *cfg, struct herd_hotkeys **out)
{
    struct herd_hotkeys_config c = {0};
    if (!out)
        return -HERD_EINVAL;
    if (cfg)
        c = *cfg;
    if (c.counters == 0)
        c.counters = HERD_HOTKEYS_COUNTERS_DEFAULT;
    if (c.counters > HERD_HOTKEYS_COUNTERS_MAX)
        return -HERD_EINVAL;
    struct herd_hotkeys_secret secret;
    if (c.secret) {
        secret = *c.secret;
    } else {
        int rc = herd_hotkeys_secret_random(&secret);
        if (rc < 0)
            return rc;
    }
    size_t bytes = herd_hotkeys_bytes(c.counters);
    struct herd_hotkeys *h = herd__calloc(c.alloc, 1, bytes);
    if (!h) {
        explicit_bzero(&secret, sizeof secret);
        return -HERD_ENOMEM;
    }
    h->secret = secret;
    explicit_bzero(&secret, sizeof secret);
    h->alloc = c.alloc;
    h->m = c.counters;
    h->mask = index_slots(c.counters) - 1;
    h->bytes = bytes;
    h->heap = (struct counter *)(h + 1);
    h->slot_of = (uint32_t *)(h->heap + h->m);
    h->index = h->slot_of + h->m;
    *out = h;
    return 0;
}

void herd_hotkeys_free(struct herd_hotkeys *h)
{
    if (!h)
        return;
    const struct herd_allocator *a = h->alloc;
    explicit_bzero(h, h->bytes);
    herd__free(a, h);
}

void herd_hotkeys_clear(struct herd_hotkeys *h)
{
    if (!h)
        return;
    memset(h->heap, 0, (size_t)h->m * sizeof *h->heap);
    memset(h->slot_of, 0, (size_t)h->m * sizeof *h->slot_of);
    memset(h->index, 0, ((size_t)h->mask + 1) * sizeof *h->index);
    h->used = 0;
    h->total = 0;
}

uint64_t herd_hotkeys_fingerprint(const struct herd_hotkeys *h, const void *key, size_t len)
{
    return herd_siphash24(h ? &h->secret : NULL, key, len);
}

static inline uint64_t sat_add(uint64_t a, uint64_t b)
{
    return a > UINT64_MAX - b ? UINT64_MAX : a + b;
}

/* Heap position of @p fp, or -1. */
static int64_t find(const struct herd_hotkeys *h, uint64_t fp)
{
    for (uint32_t s = (uint32_t)fp & h->mask;; s = (s + 1) & h->mask) {
        uint32_t p = h->index[s];
        if (p == 0)
            return -1;
        if (h->heap[p - 1].fp == fp)
            return (int64_t)p - 1;
    }
}

/* Point a free index slot for @p fp at heap position @p p. */
static void index_put(struct herd_hotkeys *h, uint64_t fp, uint32_t p)
{
    uint32_t s = (uint32_t)fp & h->mask;
    while (h->index[s] != 0)
        s = (s + 1) & h->mask;
    h->index[s] = p + 1;
    h->slot_of[p] = s;
}

/* Empty index slot @p s, then pull later entries of its probe run back so that every entry
 * stays reachable from its home slot (Knuth's Algorithm R, TAOCP 6.4). */
static void index_del(struct herd_hotkeys *h, uint32_t s)
{
    h->index[s] = 0;
    for (uint32_t j = (s + 1) & h->mask; h->index[j] != 0; j = (j + 1) & h->mask) {
        uint32_t p = h->index[j] - 1;
        uint32_t home = (uint32_t)h->heap[p].fp & h->mask;
        /* The entry at j may move to the hole s if s lies on its probe path home..j. */
        if (((j - home) & h->mask) >= ((j - s) & h->mask)) {
            h->index[s] = p + 1;
            h->slot_of[p] = s;
            h->index[j] = 0;
            s = j;
        }
    }
}

static void swap(struct herd_hotkeys *h, uint32_t a, uint32_t b)
{
    struct counter c = h->heap[a];
    h->heap[a] = h->heap[b];
    h->heap[b] = c;
    uint32_t s = h->slot_of[a];
    h->slot_of[a] = h->slot_of[b];
    h->slot_of[b] = s;
    h->index[h->slot_of[a]] = a + 1;
    h->index[h->slot_of[b]] = b + 1;
}

static void sift_down(struct herd_hotkeys *h, uint32_t p)
{
    for (;;) {
        uint32_t c = 2 * p + 1;
        if (c >= h->used)
            return;
        if (c + 1 < h->used && h->heap[c + 1].count < h->heap[c].count)
            c++;
        if (h->heap[c].count >= h->heap[p].count)
            return;
        swap(h, p, c);
        p = c;
    }
}

static void sift_up(struct herd_hotkeys *h, uint32_t p)
{
    while (p > 0) {
        uint32_t parent = (p - 1) / 2;
        if (h->heap[parent].count <= h->heap[p].count)
            return;
        swap(h, p, parent);
        p = parent;
    }
}

void herd_hotkeys_add_fp(struct herd_hotkeys *h, uint64_t fp, uint64_t weight)
{
    if (!h || weight == 0)
        return;
    h->total = sat_add(h->total, weight);
    int64_t at = find(h, fp);
    if (at >= 0) {
        struct counter *c = &h->heap[at];
        c->count = sat_add(c->count, weight);
        sift_down(h, (uint32_t)at);
        return;
    }
    if (h->used < h->m) {
        uint32_t p = h->used++;
        h->heap[p] = (struct counter){fp, weight, 0};
        index_put(h, fp, p);
        sift_up(h, p);
        return;
    }
    /* Space-Saving's replacement: the new key takes over the smallest counter. */
    uint64_t cmin = h->heap[0].count;
    index_del(h, h->slot_of[0]);
    h->heap[0] = (struct counter){fp, sat_add(cmin, weight), cmin};
    index_put(h, fp, 0);
    sift_down(h, 0);
}

void herd_hotkeys_add(struct herd_hotkeys *h, const void *key, size_t len, uint64_t weight)
{
    if (!h || weight == 0)
        return;
    herd_hotkeys_add_fp(h, herd_siphash24(&h->secret, key, len), weight);
}

bool herd_hotkeys_estimate(const struct herd_hotkeys *h, uint64_t fp, struct herd_hotkey *out)
{
    if (!h)
        return false;
    int64_t at = find(h, fp);
    if (at < 0)
        return false;
    if (out) {
        const struct counter *c = &h->heap[at];
        *out = (struct herd_hotkey){c->fp, c->count, c->error, false};
    }
    return true;
}

/* Does @p a rank above @p b (larger count; on a tie, smaller fingerprint)? */
static inline bool above(const struct counter *a, const struct counter *b)
{
    return a->count > b->count || (a->count == b->count && a->fp < b->fp);
}

static inline bool key_above(const struct herd_hotkey *a, const struct herd_hotkey *b)
{
    return a->count > b->count || (a->count == b->count && a->fp < b->fp);
}

int herd_hotkeys_top(const struct herd_hotkeys *h, size_t k, struct herd_hotkey *out, size_t *n)
{
    if (!h || !n || (k > 0 && !out))
        return -HERD_EINVAL;
    /* out[0..got) is kept sorted, best first: insertion into k slots, O(m·k) worst case
     * but O(m) in practice since most counters fall below out[k-1] at once. k is small. */
    size_t got = 0;
    for (uint32_t i = 0; i < h->used && k > 0; i++) {
        const struct counter *c = &h->heap[i];
        struct herd_hotkey e = {c->fp, c->count, c->error, false};
        if (got == k && !key_above(&e, &out[k - 1]))
            continue;
        size_t at = got < k ? got++ : k - 1;
        while (at > 0 && key_above(&e, &out[at - 1])) {
            out[at] = out[at - 1];
            at--;
        }
        out[at] = e;
    }
    /* The (k+1)-th count: the best counter not reported, or c_min (an unmonitored key
     * weighs at most that). */
    uint64_t next = herd_hotkeys_min_count(h);
    if (got > 0) {
        struct counter last = {out[got - 1].fp, out[got - 1].count, 0};
        for (uint32_t i = 0; i < h->used; i++)
            if (above(&last, &h->heap[i]) && h->heap[i].count > next)
                next = h->heap[i].count;
    }
    for (size_t i = 0; i < got; i++)
        out[i].certain = out[i].count - out[i].error >= next;
    *n = got;
    return 0;
}

uint64_t herd_hotkeys_total(const struct herd_hotkeys *h)
{
    return h ? h->total : 0;
}

size_t herd_hotkeys_size(const struct herd_hotkeys *h)
{
    return h ? h->used : 0;
}

uint64_t herd_hotkeys_min_count(const struct herd_hotkeys *h)
{
    if (!h || h->used < h->m)
        return 0;
    return h->heap[0].count;
}
