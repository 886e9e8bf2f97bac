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

#include <stdio.h>

#include "bench.h"

#define OPS 1000000
#define REPS 5

struct worker {
    struct herd_budget *b;
    long granted, calls;
};

static void *work(void *arg)
{
    struct worker *w = arg;
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
        bench_check(herd_budget_new(&cfg, 0, &b), "bench_budget: cannot make the budget");
        struct worker w[2];
        for (int i = 0; i < threads; i++)
            w[i] = (struct worker){b, 0, 0};
        double wall = bench_threads(threads, work, w, sizeof *w);
        long granted = 0, calls = 0;
        for (int i = 0; i < threads; i++) {
            granted += w[i].granted;
            calls += w[i].calls;
        }
        ns[rep] = wall * 1e9 / OPS;
        per_call[rep] = wall * 1e9 * threads / (double)calls;
        *grant_pct = 100.0 * (double)granted / ((double)OPS * threads);
        herd_budget_free(b);
    }
    *ns_per_call = bench_median(per_call, REPS);
    return bench_median(ns, REPS);
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
