/* bench_backoff.c — ns per backoff decision, for each kind.
 *
 * One operation = herd_backoff_next() on a call's state: attempt count, deadline
 * check, one rng draw for the jittered kinds. Each call runs 8 failures (then a fresh
 * herd_backoff_init, counted in the time), with a 60 s deadline so that check is live.
 * Single thread only: a policy is read-only and each call's state is private, so
 * there is nothing to contend on. ns/op = wall time / 2M operations, median of 5 runs.
 * Not a test: it prints figures and exits 0.
 */
#include <herd/backoff.h>
#include <herd/clock.h>

#include <stdio.h>

#include "bench.h"

#define OPS 2000000
#define REPS 5

static volatile int64_t sink;

static double run(enum herd_backoff_kind kind, int64_t retry_after)
{
    struct herd_backoff_policy p = {.kind = kind,
                                    .base_ns = 100 * HERD_NS_PER_MS,
                                    .cap_ns = 20 * HERD_NS_PER_S,
                                    .throttle_base_ns = 500 * HERD_NS_PER_MS,
                                    .deadline_ns = 600 * HERD_NS_PER_S};
    double ns[REPS];
    struct herd_rng rng;
    herd_rng_seed(&rng, 1);
    for (int rep = 0; rep < REPS; rep++) {
        struct herd_backoff b;
        int64_t now = 0, acc = 0;
        double t0 = bench_now_s();
        for (long i = 0; i < OPS; i++) {
            if ((i & 7) == 0) {
                now = 0;
                herd_backoff_init(&b, &p, now);
            }
            int64_t w = 0;
            herd_backoff_next(&b, &rng, now, HERD_BACKOFF_FAILED, retry_after, &w);
            acc += w;
            now += w;
        }
        ns[rep] = (bench_now_s() - t0) * 1e9 / OPS;
        sink = acc;
    }
    return bench_median(ns, REPS);
}

int main(void)
{
    printf("backoff decision (herd_backoff_next), 1 thread, median of %d x %d ops\n", REPS, OPS);
    for (int k = HERD_BACKOFF_NONE; k <= HERD_BACKOFF_DECORRELATED; k++)
        printf("  %-13s %6.1f ns/op\n", herd_backoff_kind_name((enum herd_backoff_kind)k),
               run((enum herd_backoff_kind)k, HERD_BACKOFF_NO_RETRY_AFTER));
    printf("  %-13s %6.1f ns/op\n", "full+retry-after", run(HERD_BACKOFF_FULL, 3 * HERD_NS_PER_S));
    return 0;
}
