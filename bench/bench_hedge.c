/* bench_hedge.c — ns per hedging-gate decision and per latency record.
 *
 *  - decide: herd_hedge_decide() past the delay, granted by an Envoy budget (shared
 *    with retries) and released at once: the gate's atomics + the budget's mutex twice;
 *  - too early: the refusal path that never touches the budget (atomics only);
 *  - record: herd_hedge_record() of a latency (the gate's mutex + a bucket increment,
 *    a ~300-bucket scan every 32 samples).
 * 1 thread and 2 threads on one gate. ns/op = wall time / operations per thread (1M),
 * median of 5 runs. Not a test: it prints figures and exits 0.
 */
#include <herd/budget.h>
#include <herd/hedge.h>

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#define OPS 1000000
#define REPS 5

enum op { DECIDE, TOO_EARLY, RECORD };

struct worker {
    struct herd_hedge *h;
    pthread_barrier_t *start;
    enum op op;
};

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static void *work(void *arg)
{
    struct worker *w = arg;
    pthread_barrier_wait(w->start);
    for (long i = 0; i < OPS; i++) {
        struct herd_budget_ticket t;
        switch (w->op) {
        case DECIDE:
            if (herd_hedge_decide(w->h, true, 0, 0, INT64_C(1) << 40, &t) == HERD_HEDGE_GO)
                herd_hedge_done(w->h, &t, HERD_BUDGET_CANCELED, 0);
            break;
        case TOO_EARLY:
            herd_hedge_decide(w->h, true, 0, 0, 1, &t);
            break;
        case RECORD:
            herd_hedge_record(w->h, 1000000 + (i & 1023) * 1000);
            break;
        }
    }
    return NULL;
}

static double run(enum op op, int threads)
{
    double ns[REPS];
    for (int rep = 0; rep < REPS; rep++) {
        struct herd_budget_config bc;
        struct herd_budget *b;
        struct herd_hedge_config hc;
        struct herd_hedge *h;
        herd_budget_defaults(&bc, HERD_BUDGET_ENVOY);
        herd_hedge_defaults(&hc);
        if (herd_budget_new(&bc, 0, &b) != 0) {
            fprintf(stderr, "bench_hedge: cannot make the budget\n");
            exit(1);
        }
        hc.budget = b;
        if (herd_hedge_new(&hc, &h) != 0) {
            fprintf(stderr, "bench_hedge: cannot make the gate\n");
            exit(1);
        }
        pthread_barrier_t start;
        pthread_t th[2];
        struct worker w[2];
        pthread_barrier_init(&start, NULL, (unsigned)threads + 1);
        for (int i = 0; i < threads; i++) {
            w[i] = (struct worker){h, &start, op};
            if (pthread_create(&th[i], NULL, work, &w[i]) != 0) {
                fprintf(stderr, "bench_hedge: cannot start a thread\n");
                exit(1);
            }
        }
        pthread_barrier_wait(&start);
        double t0 = now_s();
        for (int i = 0; i < threads; i++)
            pthread_join(th[i], NULL);
        ns[rep] = (now_s() - t0) * 1e9 / OPS;
        pthread_barrier_destroy(&start);
        herd_hedge_free(h);
        herd_budget_free(b);
    }
    qsort(ns, REPS, sizeof ns[0], cmp_double);
    return ns[REPS / 2];
}

int main(void)
{
    static const char *names[] = {"decide+done", "too early", "record"};
    printf("hedging gate, median of %d runs, %d ops per thread\n", REPS, OPS);
    for (int op = DECIDE; op <= RECORD; op++)
        printf("  %-12s 1 thread %6.1f ns/op   2 threads %6.1f ns/op\n", names[op],
               run((enum op)op, 1), run((enum op)op, 2));
    return 0;
}
