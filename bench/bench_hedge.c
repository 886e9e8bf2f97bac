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

#include <stdio.h>

#include "bench.h"

#define OPS 1000000
#define REPS 5

enum op { DECIDE, TOO_EARLY, RECORD };

struct worker {
    struct herd_hedge *h;
    enum op op;
};

static void *work(void *arg)
{
    struct worker *w = arg;
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
        bench_check(herd_budget_new(&bc, 0, &b), "bench_hedge: cannot make the budget");
        hc.budget = b;
        bench_check(herd_hedge_new(&hc, &h), "bench_hedge: cannot make the gate");
        struct worker w[2];
        for (int i = 0; i < threads; i++)
            w[i] = (struct worker){h, op};
        ns[rep] = bench_threads(threads, work, w, sizeof *w) * 1e9 / OPS;
        herd_hedge_free(h);
        herd_budget_free(b);
    }
    return bench_median(ns, REPS);
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
