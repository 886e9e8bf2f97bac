/* bench_throttle.c — ns per adaptive-throttling decision, 1 thread and 2 threads
 * contending on one shared throttle (default K = 2, 2-minute window in 24 buckets).
 *
 * Workloads:
 *  - allow+record (healthy): herd_throttle_allow() then herd_throttle_record(accepted);
 *    p stays 0, so no random draw — the price every request pays;
 *  - allow+record (overloaded): the backend can accept one request per 4 µs of demand
 *    (a quarter of it), so the client settles near K/4 = half sent, p ≈ 0.5, and
 *    allow() draws; locally rejected requests are not recorded.
 * The clock is fake: now = i * 1 µs. ns/op = wall time / operations per worker (10^6 per
 * worker), median of 5 runs. Not a test: it prints figures and exits 0.
 */
#include <herd/throttle.h>

#include <stdio.h>

#include "bench.h"

#define OPS 1000000
#define REPS 5

struct worker {
    struct herd_throttle *t;
    int id;
    bool overloaded;
    long throttled;
};

static void *work(void *arg)
{
    struct worker *w = arg;
    struct herd_rng rng;
    herd_rng_stream(&rng, 11, (uint64_t)w->id);
    double capacity = 0; /* requests the backend could accept right now */
    for (long i = 0; i < OPS; i++) {
        int64_t now = (int64_t)i * 1000;
        capacity = capacity < 4 ? capacity + 0.25 : capacity;
        if (herd_throttle_allow(w->t, now, &rng) != HERD_THROTTLE_GO) {
            w->throttled++;
            continue;
        }
        bool ok = !w->overloaded || capacity >= 1;
        if (w->overloaded && ok)
            capacity -= 1;
        herd_throttle_record(w->t, now, ok);
    }
    return NULL;
}

static double run(int threads, bool overloaded, double *throttled_frac)
{
    if (threads < 1 || threads > BENCH_MAX_THREADS) /* bench_threads asserts it too */
        threads = 1;
    double ns[REPS];
    long throttled = 0;
    for (int rep = 0; rep < REPS; rep++) {
        struct herd_throttle *t;
        bench_check(herd_throttle_new(NULL, &t), "bench_throttle: cannot make the throttle");
        struct worker w[BENCH_MAX_THREADS];
        for (int i = 0; i < threads; i++)
            w[i] = (struct worker){t, i, overloaded, 0};
        ns[rep] = bench_threads(threads, work, w, sizeof *w) * 1e9 / OPS;
        for (int i = 0; i < threads; i++)
            throttled += w[i].throttled;
        herd_throttle_free(t);
    }
    *throttled_frac = (double)throttled / ((double)OPS * threads * REPS);
    return bench_median(ns, REPS);
}

int main(void)
{
    printf("# throttle: one shared throttle, K = 2, 2-min window; median of %d x %d ops per "
           "worker\n",
           REPS, OPS);
    for (int threads = 1; threads <= 2; threads++) {
        double f;
        double ns = run(threads, false, &f);
        printf("throttle_allow_record_healthy_%dt %.1f ns/op (throttled %.1f %%)\n", threads, ns,
               100 * f);
        ns = run(threads, true, &f);
        printf("throttle_allow_record_overloaded_%dt %.1f ns/op (throttled %.1f %%)\n", threads, ns,
               100 * f);
    }
    return 0;
}
