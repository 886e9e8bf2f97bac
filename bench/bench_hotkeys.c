/* bench_hotkeys.c — herd/hotkeys.h on the acceptance workload: Zipf(1.1) streams of 10^7
 * keys over a universe of 10^6, each key a 21-byte id ("acct:<8 hex>:<rank>").
 *
 * For each table size it prints the state's bytes, the ns per key of herd_hotkeys_add()
 * (SipHash-2-4 of the key plus Space-Saving's update; the stream is drawn beforehand, so
 * the Zipf sampler is not timed; median of 3 passes over the same stream; the key is read
 * from a 24 MB array of ids at a random rank, so a cache miss per key is part of the
 * figure, as it would be in a server) and the top-10
 * and top-100 recall against exact counts, with the largest relative error of a true
 * top-10 key's estimate. Recall is |reported top-k ∩ true top-k| / k, averaged over the
 * streams (seeds 1..STREAMS). A last line splits the default table's cost: the key's
 * SipHash alone (same access pattern) and herd_hotkeys_add_fp() alone on fingerprints
 * computed beforehand (read sequentially). Not a test: it prints figures and exits 0.
 */
#include <herd/hotkeys.h>
#include <herd/rng.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../tests/zipf.h"
#include "bench.h"

#define UNIVERSE 1000000
#define ITEMS 10000000
#define STREAMS 3
#define REPS 3

static const uint32_t sizes[] = {256, 1024, 1700};

static size_t key_of(uint64_t r, char *buf, size_t len)
{
    return (size_t)snprintf(buf, len, "acct:%08llx:%06llu",
                            (unsigned long long)(herd_hash64(r) & 0xffffffffu),
                            (unsigned long long)r);
}

/* The @p k ranks with the largest exact counts, best first, in @p best. */
static void exact_top(const uint32_t *truth, int k, uint32_t *best)
{
    memset(best, 0, (size_t)k * sizeof *best);
    for (uint32_t r = 1; r <= UNIVERSE; r++) {
        if (best[k - 1] && truth[r] <= truth[best[k - 1]])
            continue;
        int at = k - 1;
        while (at > 0 && (!best[at - 1] || truth[r] > truth[best[at - 1]])) {
            best[at] = best[at - 1];
            at--;
        }
        best[at] = r;
    }
}

static double recall(struct herd_hotkeys *h, const uint32_t *best, int k, char (*keys)[24],
                     const uint8_t *lens)
{
    struct herd_hotkey top[100];
    size_t n;
    bench_check(herd_hotkeys_top(h, (size_t)k, top, &n), "bench_hotkeys: top failed");
    int hit = 0;
    for (int i = 0; i < k; i++) {
        uint64_t fp = herd_hotkeys_fingerprint(h, keys[best[i]], lens[best[i]]);
        for (size_t j = 0; j < n; j++)
            hit += top[j].fp == fp;
    }
    return hit / (double)k;
}

int main(void)
{
    /* The keys, formatted once: the timed loop hashes bytes, it does not snprintf. */
    char(*keys)[24] = malloc((size_t)(UNIVERSE + 1) * sizeof *keys);
    uint8_t *lens = malloc(UNIVERSE + 1);
    uint32_t *stream = malloc((size_t)ITEMS * sizeof *stream);
    uint32_t *truth = malloc((size_t)(UNIVERSE + 1) * sizeof *truth);
    if (!keys || !lens || !stream || !truth)
        bench_check(1, "bench_hotkeys: out of memory");
    for (uint32_t r = 1; r <= UNIVERSE; r++)
        lens[r] = (uint8_t)key_of(r, keys[r], sizeof keys[r]);

    printf("# hotkeys: Space-Saving over SipHash-2-4, Zipf(1.1), %d keys per stream over %d, "
           "%d streams; ns/key median of %d passes\n",
           ITEMS, UNIVERSE, STREAMS, REPS);
    printf("%-9s %9s %9s %11s %12s %14s\n", "counters", "bytes", "ns/key", "top10_recall",
           "top100_recall", "top10_max_err%");
    double ns[sizeof sizes / sizeof sizes[0]][STREAMS * REPS];
    double r10[sizeof sizes / sizeof sizes[0]] = {0}, r100[sizeof sizes / sizeof sizes[0]] = {0};
    double err10[sizeof sizes / sizeof sizes[0]] = {0};
    for (int s = 0; s < STREAMS; s++) {
        struct zipf z;
        zipf_init(&z, UNIVERSE, 1.1);
        struct herd_rng rng;
        herd_rng_seed(&rng, (uint64_t)s + 1);
        memset(truth, 0, (size_t)(UNIVERSE + 1) * sizeof *truth);
        for (int i = 0; i < ITEMS; i++) {
            stream[i] = (uint32_t)zipf_draw(&z, &rng);
            truth[stream[i]]++;
        }
        uint32_t best[100];
        exact_top(truth, 100, best);
        for (size_t c = 0; c < sizeof sizes / sizeof sizes[0]; c++) {
            struct herd_hotkeys_secret secret;
            bench_check(herd_hotkeys_secret_random(&secret), "bench_hotkeys: getrandom failed");
            struct herd_hotkeys_config cfg = {.counters = sizes[c], .secret = &secret};
            struct herd_hotkeys *h;
            bench_check(herd_hotkeys_new(&cfg, &h), "bench_hotkeys: cannot make the table");
            for (int rep = 0; rep < REPS; rep++) {
                herd_hotkeys_clear(h);
                double t0 = bench_now_s();
                for (int i = 0; i < ITEMS; i++)
                    herd_hotkeys_add(h, keys[stream[i]], lens[stream[i]], 1);
                ns[c][s * REPS + rep] = (bench_now_s() - t0) * 1e9 / ITEMS;
            }
            r10[c] += recall(h, best, 10, keys, lens) / STREAMS;
            r100[c] += recall(h, best, 100, keys, lens) / STREAMS;
            for (int i = 0; i < 10; i++) {
                struct herd_hotkey e;
                uint64_t fp = herd_hotkeys_fingerprint(h, keys[best[i]], lens[best[i]]);
                if (herd_hotkeys_estimate(h, fp, &e)) {
                    double rel = ((double)e.count - truth[best[i]]) / truth[best[i]] * 100;
                    if (rel > err10[c])
                        err10[c] = rel;
                }
            }
            herd_hotkeys_free(h);
        }
    }
    /* The split on the last stream, default table. */
    uint64_t *fps = malloc((size_t)ITEMS * sizeof *fps);
    struct herd_hotkeys *h;
    bench_check(!fps || herd_hotkeys_new(NULL, &h), "bench_hotkeys: cannot make the table");
    double t_hash[REPS], t_fp[REPS];
    uint64_t sink = 0;
    for (int rep = 0; rep < REPS; rep++) {
        double t0 = bench_now_s();
        for (int i = 0; i < ITEMS; i++)
            fps[i] = herd_hotkeys_fingerprint(h, keys[stream[i]], lens[stream[i]]);
        t_hash[rep] = (bench_now_s() - t0) * 1e9 / ITEMS;
        herd_hotkeys_clear(h);
        t0 = bench_now_s();
        for (int i = 0; i < ITEMS; i++)
            herd_hotkeys_add_fp(h, fps[i], 1);
        t_fp[rep] = (bench_now_s() - t0) * 1e9 / ITEMS;
        sink += herd_hotkeys_total(h);
    }
    herd_hotkeys_free(h);
    free(fps);
    for (size_t c = 0; c < sizeof sizes / sizeof sizes[0]; c++)
        printf("%-9u %9zu %9.1f %11.3f %12.3f %14.3f\n", sizes[c], herd_hotkeys_bytes(sizes[c]),
               bench_median(ns[c], STREAMS * REPS), r10[c], r100[c], err10[c]);
    printf("split, %u counters: siphash %.1f ns/key (with the key's cache miss), add_fp %.1f "
           "ns/key (%llu items)\n",
           HERD_HOTKEYS_COUNTERS_DEFAULT, bench_median(t_hash, REPS), bench_median(t_fp, REPS),
           (unsigned long long)(sink / REPS));
    free(keys);
    free(lens);
    free(stream);
    free(truth);
    return 0;
}
