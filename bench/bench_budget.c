/* bench_budget.c — ns per retry-budget call, each model, 1 and 2 threads.
 *
 * One operation = the whole bookkeeping of one request that asks for one retry:
 * begin + record(first attempt) + decide(RETRY) + release(SUCCESS) when granted + end,
 * i.e. 4 or 5 calls, each one round trip of the budget's mutex. Every outcome is a
 * success so the budgets stay healthy and the grant path is measured (AWS and gRPC stay
 * full, Envoy has room, Finagle grants its 20 % plus the reserve); a refusal costs the
 * same lock without the release. The clock advances 1 us per operation so Finagle's
 * bucket ring turns. With 2 threads both hammer the same budget: the cost of its one
 * mutex under contention (2 cores). ns/op = wall time / operations per thread (1M
 * each), median of 5 runs; ns/call divides by the calls actually made.
 * Not a test: it prints figures and exits 0.
 */
#include <herd/budget.h>

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#define OPS 1000000
#define REPS 5

struct worker {
    struct herd_budget *b;
    pthread_barrier_t *start;
    long granted, calls;
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
        int64_t now = i * 1000;
        struct herd_budget_ticket t;
        herd_budget_begin(w->b, now);
        herd_budget_record(w->b, HERD_BUDGET_SUCCESS, now);
        if (herd_budget_decide(w->b, HERD_BUDGET_RETRY, now, &t) == HERD_BUDGET_GO) {
            w->granted++;
            herd_budget_release(w->b, &t, HERD_BUDGET_SUCCESS, now);
        }
        herd_budget_end(w->b, now);
    }
    w->calls = 4 * OPS + w->granted;
    return NULL;
}

static double run(enum herd_budget_model model, int threads, double *grant_pct, double *ns_per_call)
{
    double ns[REPS], per_call[REPS];
    for (int rep = 0; rep < REPS; rep++) {
        struct herd_budget_config cfg;
        struct herd_budget *b;
        herd_budget_defaults(&cfg, model);
        if (herd_budget_new(&cfg, 0, &b) != 0) {
            fprintf(stderr, "bench_budget: cannot make the budget\n");
            exit(1);
        }
        pthread_barrier_t start;
        pthread_t th[2];
        struct worker w[2];
        pthread_barrier_init(&start, NULL, (unsigned)threads + 1);
        for (int i = 0; i < threads; i++) {
            w[i] = (struct worker){b, &start, 0, 0};
            if (pthread_create(&th[i], NULL, work, &w[i]) != 0) {
                fprintf(stderr, "bench_budget: cannot start a thread\n");
                exit(1);
            }
        }
        pthread_barrier_wait(&start);
        double t0 = now_s();
        long granted = 0, calls = 0;
        for (int i = 0; i < threads; i++) {
            pthread_join(th[i], NULL);
            granted += w[i].granted;
            calls += w[i].calls;
        }
        double wall = now_s() - t0;
        ns[rep] = wall * 1e9 / OPS;
        per_call[rep] = wall * 1e9 * threads / (double)calls;
        *grant_pct = 100.0 * (double)granted / ((double)OPS * threads);
        pthread_barrier_destroy(&start);
        herd_budget_free(b);
    }
    qsort(ns, REPS, sizeof ns[0], cmp_double);
    qsort(per_call, REPS, sizeof per_call[0], cmp_double);
    *ns_per_call = per_call[REPS / 2];
    return ns[REPS / 2];
}

int main(void)
{
    printf("retry budget: begin + record + decide [+ release] + end per op, median of %d runs,\n"
           "%d ops per thread\n",
           REPS, OPS);
    for (int m = HERD_BUDGET_AWS; m <= HERD_BUDGET_ENVOY; m++) {
        double g1, g2, c1, c2;
        double one = run((enum herd_budget_model)m, 1, &g1, &c1);
        double two = run((enum herd_budget_model)m, 2, &g2, &c2);
        printf("  %-8s 1 thread %6.1f ns/op (%5.1f ns/call)   2 threads %6.1f ns/op "
               "(%5.1f ns/call)   granted %.0f %% / %.0f %%\n",
               herd_budget_model_name((enum herd_budget_model)m), one, c1, two, c2, g1, g2);
    }
    return 0;
}
