/* bench_swr.c — ns per swr cache hit, 1 thread and 2 threads contending.
 *
 * The workload: a cache of 1024 entries holding 256 keys "key0".."key255" with 64-byte
 * values, all fresh. One operation = herd_swr_get() of a key, copying its 64-byte value
 * into the caller's buffer (the hit path: hash, lookup, LRU touch, copy, one mutex).
 *  - hot:    every operation reads the same key (2 threads: the worst contention);
 *  - spread: worker w reads key (i * 7 + w) mod 256 (2 threads: still one mutex).
 * ns/op = wall time / operations per worker (2M per worker), median of 5 runs.
 * Not a test: it prints figures and exits 0.
 */
#include <herd/swr.h>

#include <stdio.h>
#include <string.h>

#include "bench.h"

#define OPS 2000000
#define REPS 5
#define KEYS 256

struct worker {
    struct herd_swr *c;
    int id;
    bool hot;
    long misses;
};

static char keys[KEYS][8];
static size_t klen[KEYS];

static void *work(void *arg)
{
    struct worker *w = arg;
    char buf[64];
    for (long i = 0; i < OPS; i++) {
        int k = w->hot ? 0 : (int)((i * 7 + w->id) % KEYS);
        if (herd_swr_get(w->c, keys[k], klen[k], 1000, buf, sizeof buf, NULL) != HERD_SWR_HIT)
            w->misses++;
    }
    return NULL;
}

static double run(int threads, bool hot)
{
    if (threads < 1 || threads > BENCH_MAX_THREADS) /* bench_threads asserts it too */
        threads = 1;
    double ns[REPS];
    for (int rep = 0; rep < REPS; rep++) {
        struct herd_swr_config cfg = {.max_entries = 1024, .max_key_len = 8, .max_value_len = 64,
                                      .ttl_ns = INT64_C(1) << 40};
        struct herd_swr *c;
        char val[64];
        struct worker w[BENCH_MAX_THREADS];
        memset(val, 'v', sizeof val);
        bench_check(herd_swr_new(&cfg, &c), "bench_swr: cannot make the cache");
        for (int k = 0; k < KEYS; k++)
            herd_swr_set(c, keys[k], klen[k], val, sizeof val, 0, NULL, 1000, NULL);
        for (int i = 0; i < threads; i++)
            w[i] = (struct worker){c, i, hot, 0};
        ns[rep] = bench_threads(threads, work, w, sizeof *w) * 1e9 / OPS;
        for (int i = 0; i < threads; i++)
            if (w[i].misses)
                fprintf(stderr, "bench_swr: %ld unexpected misses\n", w[i].misses);
        herd_swr_free(c);
    }
    return bench_median(ns, REPS);
}

int main(void)
{
    for (int k = 0; k < KEYS; k++)
        klen[k] = (size_t)snprintf(keys[k], sizeof keys[k], "key%d", k);
    printf("# swr hit: herd_swr_get of a fresh key, 64-byte value copied out; median of %d x "
           "%d ops per worker\n",
           REPS, OPS);
    for (int threads = 1; threads <= 2; threads++) {
        printf("swr_hit_hot_%dt %.1f ns/op\n", threads, run(threads, true));
        printf("swr_hit_spread_%dt %.1f ns/op\n", threads, run(threads, false));
    }
    return 0;
}
