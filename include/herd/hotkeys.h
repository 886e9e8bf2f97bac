/* herd/hotkeys.h — the hottest keys of a stream, in bounded memory, without raw keys.
 *
 * A hot key concentrates a herd's fan-in (seed 000: "herd risk is proportional to fan-in"),
 * so an operator wants the top keys of live traffic — and must not log the user ids and
 * session tokens those keys are. This module answers "which keys are the k hottest, and
 * how hot" with a fixed amount of memory and without ever holding a key:
 *
 *  - every key is turned into a 64-bit FINGERPRINT by SipHash-2-4 (Aumasson and
 *    Bernstein, "SipHash: a fast short-input PRF", INDOCRYPT 2012) keyed with a 128-bit
 *    secret. The secret is drawn from getrandom(2) when the table is made (or given by
 *    the caller, for tests or to compare fingerprints across tables and processes); it
 *    never leaves the process unless the caller prints it. Without the secret a
 *    fingerprint cannot be tested against a guessed key, and nobody outside can craft
 *    keys that collide in the table. The structure holds only fingerprints, counters and
 *    the secret; a caller holding a candidate key can ask for its figures
 *    (herd_hotkeys_fingerprint(), then herd_hotkeys_estimate()).
 *  - the counting is Space-Saving (Metwally, Agrawal and El Abbadi, "Efficient
 *    computation of frequent and top-k elements in data streams", ICDT 2005): m counters;
 *    a monitored key's counter goes up by the item's weight; an unmonitored key takes
 *    over the SMALLEST counter c_min, inherits its count plus its weight, and records
 *    error = c_min (how much of its count may belong to the keys it displaced).
 *
 * Error bounds (N = total weight added since the last clear, m = counters, c_min = the
 * smallest counter once all m are in use, 0 before; Metwally et al., Lemmas 3.3–3.5):
 *  - a monitored key's count overestimates its true weight f by at most its error:
 *    f ≤ count ≤ f + error, and error ≤ c_min ≤ N/m;
 *  - a key that is not monitored has f ≤ c_min ≤ N/m, so every key with f > N/m is
 *    monitored (no heavy hitter is ever missed);
 *  - a reported key with count − error ≥ the (k+1)-th largest count is certainly among
 *    the true top k (herd_hotkey.certain);
 *  - fingerprints: two distinct keys share one with probability 2^-64 per pair (among
 *    10^6 distinct keys, about 3·10^-8 for the whole set); a shared fingerprint merges
 *    their counts, never loses them.
 * On skewed streams the bounds are far from tight: measured here on Zipf(1.1) streams of
 * 10^7 keys over 10^6, the default 1,024 counters (36 KiB of state) give a top-10 recall
 * of 1.0 (bench/bench_hotkeys.c prints recall, ns per key and the state's size;
 * tests/unit/test_hotkeys.c holds recall ≥ 0.95 on streams of 10^6).
 *
 * Cost: one SipHash of the key and, for the table, one open-addressing lookup plus a
 * sift in a min-heap of m counters: O(log m) worst case (a cold key taking over c_min),
 * O(1) for a hot key already monitored. Measured by bench/bench_hotkeys.c on the Zipf
 * workload above (21-byte keys, 1,024 counters): about 100 ns per key end to end with the
 * key read from a 24 MB array (its cache miss included), of which the table's update
 * (herd_hotkeys_add_fp) is about 40 ns. All memory is one block allocated at
 * herd_hotkeys_new() through the config's allocator: herd_hotkeys_bytes(m) bytes
 * (m = 1,024: 36 KiB; m = 1,700: 62.6 KiB). Nothing allocates afterwards.
 * Thread safety: a table is one caller's; guard it, or keep one per thread. Pure apart
 * from the table and, in herd_hotkeys_new() / herd_hotkeys_secret_random(), getrandom.
 */
#ifndef HERD_HOTKEYS_H
#define HERD_HOTKEYS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <herd/alloc.h>

/** Counters of a table made with counters = 0: 36 KiB of state. */
#define HERD_HOTKEYS_COUNTERS_DEFAULT 1024u
/** The most counters a table may have (herd_hotkeys_bytes(): about 40 MiB). */
#define HERD_HOTKEYS_COUNTERS_MAX (1u << 20)

/** SipHash-2-4's 128-bit key: the secret that makes fingerprints unguessable. */
struct herd_hotkeys_secret {
    uint8_t k[16];
};

struct herd_hotkeys_config {
    uint32_t counters; /* m, in [1, HERD_HOTKEYS_COUNTERS_MAX]; 0: the default (1,024) */
    const struct herd_hotkeys_secret *secret; /* NULL: 16 bytes from getrandom(2) at new();
                                               * else copied (tests, shared fingerprints) */
    const struct herd_allocator *alloc;       /* NULL: libc; borrowed, must outlive the table */
};

/** One monitored key, by fingerprint only. */
struct herd_hotkey {
    uint64_t fp;    /* the key's SipHash-2-4 under the table's secret */
    uint64_t count; /* estimated weight: true ≤ count ≤ true + error */
    uint64_t error; /* the largest possible overestimate (0: count is exact) */
    bool certain;   /* from herd_hotkeys_top(): count − error ≥ the next count, so
                     * certainly among the true top k */
};

struct herd_hotkeys;

/**
 * SipHash-2-4 of the @p len bytes at @p msg under @p secret (the paper's reference
 * function: 2 compression rounds, 4 finalization rounds, little-endian words). A NULL
 * @p msg is the empty message; a NULL @p secret is the all-zero key.
 */
uint64_t herd_siphash24(const struct herd_hotkeys_secret *secret, const void *msg, size_t len);

/** Fill @p out with 16 bytes from getrandom(2). @return 0, -HERD_EINVAL (NULL), or a
 *  negated errno. */
int herd_hotkeys_secret_random(struct herd_hotkeys_secret *out);

/** Bytes of state a table of @p counters counters takes (0: the default; out of range: 0). */
size_t herd_hotkeys_bytes(uint32_t counters);

/**
 * Make a table. @p cfg may be NULL for the defaults (1,024 counters, a random secret).
 * @return 0 with the table in @p *out, -HERD_EINVAL (NULL @p out, counters out of range),
 *         -HERD_ENOMEM, or a negated errno when getrandom failed.
 */
int herd_hotkeys_new(const struct herd_hotkeys_config *cfg, struct herd_hotkeys **out);

/** Free @p h (its memory is wiped first: no fingerprint or secret lingers). NULL is fine. */
void herd_hotkeys_free(struct herd_hotkeys *h);

/** Forget every key and the total, keep the secret (a new window of the same stream). */
void herd_hotkeys_clear(struct herd_hotkeys *h);

/** The fingerprint @p h gives the @p len bytes at @p key (NULL: the empty key). */
uint64_t herd_hotkeys_fingerprint(const struct herd_hotkeys *h, const void *key, size_t len);

/**
 * Count one occurrence of weight @p weight of the @p len bytes at @p key (NULL: the
 * empty key). The key is hashed and forgotten. Weight 0 does nothing; a total beyond
 * 2^64 − 1 saturates.
 */
void herd_hotkeys_add(struct herd_hotkeys *h, const void *key, size_t len, uint64_t weight);

/** herd_hotkeys_add() for a fingerprint the caller computed with this table's secret. */
void herd_hotkeys_add_fp(struct herd_hotkeys *h, uint64_t fp, uint64_t weight);

/**
 * Is fingerprint @p fp monitored? If so and @p out is not NULL, fill @p *out (certain:
 * false). An unmonitored key's true weight is at most herd_hotkeys_min_count().
 */
bool herd_hotkeys_estimate(const struct herd_hotkeys *h, uint64_t fp, struct herd_hotkey *out);

/**
 * The up to @p k monitored keys with the largest counts, largest first (ties: smaller
 * fingerprint first), in @p out (room for @p k), their number in @p *n.
 * @return 0, or -HERD_EINVAL when @p n is NULL or @p out is NULL with k > 0.
 */
int herd_hotkeys_top(const struct herd_hotkeys *h, size_t k, struct herd_hotkey *out, size_t *n);

/** Total weight added since the table was made or cleared (N of the bounds). */
uint64_t herd_hotkeys_total(const struct herd_hotkeys *h);

/** Keys monitored now (at most the table's counters). */
size_t herd_hotkeys_size(const struct herd_hotkeys *h);

/** c_min: the smallest counter once every counter is in use, else 0. Bounds every
 *  error and every unmonitored key's weight; at most total / counters. */
uint64_t herd_hotkeys_min_count(const struct herd_hotkeys *h);

#endif
