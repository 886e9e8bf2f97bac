/* bench_limiter.c — ns per adaptive-concurrency admission, 1 and 2 threads.
 *
 * One operation = herd_limiter_acquire() + herd_limiter_release(SUCCESS) of one request:
 * two round trips of the limiter's mutex plus the algorithm's update (AIMD: a counter;
 * Gradient2: a window sum, and every 10th sample of a 0.5 ms window the gradient with
 * its few doubles). The clock is a counter advanced 1 µs per operation, each request's
 * RTT is 200 µs (above the 100 µs floor, so every sample counts). "refused" is one
 * acquire against a full limiter (one lock round trip, nothing else). With 2 threads
 * both hammer the same limiter: its one mutex under contention (2 cores). ns/op = wall
 * time / operations per thread (1M each), median of 5 runs.
 * Not a test: it prints figures and exits 0.
 */
#include <herd/limiter.h>

#include <stdio.h>

#include "bench.h"

#define OPS 1000000
#define REPS 5

struct worker {
    struct herd_limiter *l;
    int refuse;
    long go;
};

static void *work(void *arg)
{
    struct worker *w = arg;
    long go = 0;
    for (long i = 0; i < OPS; i++) {
        int64_t now = i * 1000;
        struct herd_limiter_token t;
        if (herd_limiter_acquire(w->l, now, &t) == HERD_LIMITER_GO) {
            go++;
            herd_limiter_release(w->l, &t, HERD_LIMITER_SUCCESS, now + 200000);
        }
    }
    w->go = go;
    return NULL;
}

static double run(enum herd_limiter_algo algo, int refuse, int threads, double *go_pct)
{
    double ns[REPS];
    for (int rep = 0; rep < REPS; rep++) {
        struct herd_limiter l;
        struct herd_limiter_config c = {.algo = algo,
                                        .initial_limit = 100,
                                        .min_limit = 10,
                                        .max_limit = 1000,
                                        .window_ns = 500000};
        if (refuse)
            c = (struct herd_limiter_config){
                .algo = algo, .initial_limit = 1, .min_limit = 1, .max_limit = 1};
        bench_check(herd_limiter_init(&l, &c), "init failed");
        struct herd_limiter_token hold;
        if (refuse)
            herd_limiter_acquire(&l, 0, &hold); /* full: every acquire is refused */
        struct worker w[2];
        for (int i = 0; i < threads; i++)
            w[i] = (struct worker){.l = &l, .refuse = refuse};
        ns[rep] = bench_threads(threads, work, w, sizeof *w) * 1e9 / OPS;
        long go = 0;
        for (int i = 0; i < threads; i++)
            go += w[i].go;
        *go_pct = 100.0 * (double)go / ((double)OPS * threads);
        if (refuse)
            herd_limiter_release(&l, &hold, HERD_LIMITER_IGNORE, 0);
        herd_limiter_fini(&l);
    }
    return bench_median(ns, REPS);
}

int main(void)
{
    printf("adaptive concurrency limit (herd_limiter), median of %d x %d ops per thread\n", REPS,
           OPS);
    static const struct {
        enum herd_limiter_algo algo;
        int refuse;
        const char *name;
    } rows[] = {{HERD_LIMITER_AIMD, 0, "aimd acquire+release"},
                {HERD_LIMITER_GRADIENT2, 0, "gradient2 acq+rel"},
                {HERD_LIMITER_AIMD, 1, "acquire, refused"}};
    for (size_t k = 0; k < sizeof rows / sizeof *rows; k++) {
        double p1, p2;
        double one = run(rows[k].algo, rows[k].refuse, 1, &p1);
        double two = run(rows[k].algo, rows[k].refuse, 2, &p2);
        printf("  %-21s 1 thread %6.1f ns/op (%5.1f%% go)   2 threads %6.1f ns/op (%5.1f%% go)\n",
               rows[k].name, one, p1, two, p2);
    }
    return 0;
}
