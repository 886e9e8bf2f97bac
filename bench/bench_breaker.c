/* bench_breaker.c — ns per circuit-breaker decision, 1 thread and 2 threads contending.
 *
 * Workloads, each on one shared breaker with the default config (time window of 10 s in
 * 10 buckets, so the window rolls as the fake clock moves):
 *  - allow+record: herd_breaker_allow() then herd_breaker_record(SUCCESS) on a healthy,
 *    closed breaker — the price every call pays (two mutex round trips);
 *  - reject:       herd_breaker_allow() on an isolated breaker — the fail-fast path.
 * The clock is fake: worker w passes now = i * 1 µs (so ~1 s of time passes per 10^6
 * ops and buckets roll). ns/op = wall time / operations per worker (10^6 per worker),
 * median of 5 runs; with 2 threads that is the time each caller spends per operation
 * while the other hammers the same mutex. Not a test: it prints figures and exits 0.
 */
#include <herd/breaker.h>

#include <stdio.h>

#include "bench.h"

#define OPS 1000000
#define REPS 5

struct worker {
    struct herd_breaker *b;
    int id;
    bool reject;
    long unexpected;
};

static void *work(void *arg)
{
    struct worker *w = arg;
    struct herd_rng rng;
    herd_rng_stream(&rng, 7, (uint64_t)w->id);
    for (long i = 0; i < OPS; i++) {
        int64_t now = (int64_t)i * 1000;
        struct herd_breaker_permit p;
        enum herd_breaker_verdict v = herd_breaker_allow(w->b, now, &rng, &p);
        if (w->reject) {
            w->unexpected += v != HERD_BREAKER_REJECT_ISOLATED;
            continue;
        }
        if (v != HERD_BREAKER_GO) {
            w->unexpected++;
            continue;
        }
        herd_breaker_record(w->b, &p, HERD_BREAKER_SUCCESS, 1000, now);
    }
    return NULL;
}

static double run(int threads, bool reject)
{
    if (threads < 1 || threads > BENCH_MAX_THREADS) /* bench_threads asserts it too */
        threads = 1;
    double ns[REPS];
    for (int rep = 0; rep < REPS; rep++) {
        struct herd_breaker *b;
        bench_check(herd_breaker_new(NULL, &b), "bench_breaker: cannot make the breaker");
        if (reject)
            herd_breaker_isolate(b, 0);
        struct worker w[BENCH_MAX_THREADS];
        for (int i = 0; i < threads; i++)
            w[i] = (struct worker){b, i, reject, 0};
        ns[rep] = bench_threads(threads, work, w, sizeof *w) * 1e9 / OPS;
        for (int i = 0; i < threads; i++)
            if (w[i].unexpected)
                fprintf(stderr, "bench_breaker: %ld unexpected verdicts\n", w[i].unexpected);
        herd_breaker_free(b);
    }
    return bench_median(ns, REPS);
}

int main(void)
{
    printf("# breaker: one shared breaker, default config; median of %d x %d ops per worker\n",
           REPS, OPS);
    for (int threads = 1; threads <= 2; threads++) {
        printf("breaker_allow_record_%dt %.1f ns/op\n", threads, run(threads, false));
        printf("breaker_reject_%dt %.1f ns/op\n", threads, run(threads, true));
    }
    return 0;
}
