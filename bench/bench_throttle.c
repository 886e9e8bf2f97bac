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

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#define OPS 1000000
#define REPS 5

struct worker {
    struct herd_throttle *t;
    pthread_barrier_t *start;
    int id;
    bool overloaded;
    long throttled;
};

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static void *work(void *arg)
{
    struct worker *w = arg;
    struct herd_rng rng;
    herd_rng_stream(&rng, 11, (uint64_t)w->id);
    double capacity = 0; /* requests the backend could accept right now */
    pthread_barrier_wait(w->start);
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

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static double run(int threads, bool overloaded, double *throttled_frac)
{
    double ns[REPS];
    long throttled = 0;
    for (int rep = 0; rep < REPS; rep++) {
        struct herd_throttle *t;
        if (herd_throttle_new(NULL, &t) != 0) {
            fprintf(stderr, "bench_throttle: cannot make the throttle\n");
            exit(1);
        }
        pthread_barrier_t start;
        pthread_t th[2];
        struct worker w[2];
        pthread_barrier_init(&start, NULL, (unsigned)threads + 1);
        for (int i = 0; i < threads; i++) {
            w[i] = (struct worker){t, &start, i, overloaded, 0};
            pthread_create(&th[i], NULL, work, &w[i]);
        }
        pthread_barrier_wait(&start);
        double t0 = now_s();
        for (int i = 0; i < threads; i++)
            pthread_join(th[i], NULL);
        double t1 = now_s();
        for (int i = 0; i < threads; i++)
            throttled += w[i].throttled;
        pthread_barrier_destroy(&start);
        herd_throttle_free(t);
        ns[rep] = (t1 - t0) * 1e9 / OPS;
    }
    *throttled_frac = (double)throttled / ((double)OPS * threads * REPS);
    qsort(ns, REPS, sizeof ns[0], cmp_double);
    return ns[REPS / 2];
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
