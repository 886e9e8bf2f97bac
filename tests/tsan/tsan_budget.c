/* tsan_budget.c — retry budgets (and a hedge gate on one) hammered from 4 threads,
 * under ThreadSanitizer.
 *
 * A plain program printing TAP (Criterion's runner crashes under TSan). Checks:
 *   1. AWS: 4 threads race for a full quota with retries that never succeed: exactly
 *      500/5 = 100 are granted, never 101 (check-and-take is one locked step).
 *   2. AWS and gRPC with random outcomes: every balance any thread observes is in range
 *      ([0, 500] tokens, [0, 10 000] thousandths) and nothing is left in flight.
 *   3. Finagle on a frozen clock: 4 threads deposit 1000 requests each while racing for
 *      retries; grants + what is left == reserve 100 + 20 % x 4000 = 900 exactly.
 *   4. Envoy with 40 active requests (cap 8) and a hedge gate sharing the budget: the
 *      number of retries and hedges the threads hold at once never exceeds 8, nor does
 *      the budget's own high-water mark.
 *   5. The counters add up with what the threads saw (grants and rejects).
 */
#include <herd/budget.h>
#include <herd/clock.h>
#include <herd/hedge.h>
#include <herd/rng.h>

#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdio.h>

#define THREADS 4
#define ROUNDS 20000

static struct herd_budget *B;
static struct herd_hedge *H;
static pthread_barrier_t bar;
static atomic_long granted, rejected, bad, held, max_held;
static int64_t lo_ok, hi_ok;

static void reset(void)
{
    atomic_store(&granted, 0);
    atomic_store(&rejected, 0);
    atomic_store(&bad, 0);
    atomic_store(&held, 0);
    atomic_store(&max_held, 0);
}

static void *race_quota(void *arg)
{
    (void)arg;
    pthread_barrier_wait(&bar);
    for (int i = 0; i < 1000; i++) {
        struct herd_budget_ticket t;
        if (herd_budget_decide(B, HERD_BUDGET_RETRY, 0, &t) == HERD_BUDGET_GO) {
            atomic_fetch_add(&granted, 1);
            herd_budget_release(B, &t, HERD_BUDGET_FAILURE, 0);
        } else {
            atomic_fetch_add(&rejected, 1);
        }
    }
    return NULL;
}

static enum herd_budget_outcome pick(struct herd_rng *rng)
{
    return (enum herd_budget_outcome)herd_rng_below(rng, 4);
}

static void *random_traffic(void *arg)
{
    struct herd_rng rng;
    herd_rng_stream(&rng, 11, (uint64_t)(uintptr_t)arg);
    pthread_barrier_wait(&bar);
    for (int i = 0; i < ROUNDS; i++) {
        int64_t now = i * HERD_NS_PER_MS;
        herd_budget_begin(B, now);
        herd_budget_record(B, pick(&rng), now);
        struct herd_budget_ticket t;
        enum herd_budget_kind kind = (enum herd_budget_kind)herd_rng_below(&rng, 3);
        if (herd_budget_decide(B, kind, now, &t) == HERD_BUDGET_GO) {
            atomic_fetch_add(&granted, 1);
            herd_budget_release(B, &t, pick(&rng), now);
        } else {
            atomic_fetch_add(&rejected, 1);
        }
        herd_budget_end(B, now);
        if (i % 64 == 0) {
            struct herd_budget_stats st;
            herd_budget_stats(B, now, &st);
            if (st.balance < lo_ok || st.balance > hi_ok)
                atomic_fetch_add(&bad, 1);
        }
    }
    return NULL;
}

static void *finagle_race(void *arg)
{
    (void)arg;
    pthread_barrier_wait(&bar);
    for (int i = 0; i < 1000; i++) {
        herd_budget_begin(B, 0);
        for (int k = 0; k < 2; k++) {
            struct herd_budget_ticket t;
            if (herd_budget_decide(B, HERD_BUDGET_RETRY, 0, &t) == HERD_BUDGET_GO) {
                atomic_fetch_add(&granted, 1);
                herd_budget_release(B, &t, HERD_BUDGET_FAILURE, 0);
            } else {
                atomic_fetch_add(&rejected, 1);
            }
        }
        herd_budget_end(B, 0);
    }
    return NULL;
}

static void note_held(long n)
{
    long m = atomic_load(&max_held);
    while (n > m && !atomic_compare_exchange_weak(&max_held, &m, n))
        ;
}

static void *envoy_hold(void *arg)
{
    struct herd_rng rng;
    herd_rng_stream(&rng, 12, (uint64_t)(uintptr_t)arg);
    for (int i = 0; i < 10; i++)
        herd_budget_begin(B, 0);
    pthread_barrier_wait(&bar); /* active is 40 from here on: cap 8 */
    for (int i = 0; i < ROUNDS; i++) {
        struct herd_budget_ticket t;
        bool hedge = herd_rng_below(&rng, 2) == 0;
        int r = hedge ? herd_hedge_decide(H, true, 0, 0, 1, &t)
                      : herd_budget_decide(B, HERD_BUDGET_RETRY, 0, &t);
        if (r != 0) {
            atomic_fetch_add(&rejected, 1);
            continue;
        }
        atomic_fetch_add(&granted, 1);
        note_held(atomic_fetch_add(&held, 1) + 1);
        /* The retry "waits in backoff", then runs: it holds its place meanwhile. */
        for (int k = (int)herd_rng_below(&rng, 3); k > 0; k--)
            sched_yield();
        herd_hedge_record(H, (int64_t)herd_rng_below(&rng, 1000000));
        atomic_fetch_sub(&held, 1);
        if (hedge)
            herd_hedge_done(H, &t, HERD_BUDGET_SUCCESS, 0);
        else
            herd_budget_release(B, &t, HERD_BUDGET_SUCCESS, 0);
    }
    pthread_barrier_wait(&bar);
    for (int i = 0; i < 10; i++)
        herd_budget_end(B, 0);
    return NULL;
}

static int run(void *(*fn)(void *))
{
    pthread_t th[THREADS];
    pthread_barrier_init(&bar, NULL, THREADS);
    for (uintptr_t i = 0; i < THREADS; i++)
        if (pthread_create(&th[i], NULL, fn, (void *)i) != 0)
            return -1;
    for (int i = 0; i < THREADS; i++)
        pthread_join(th[i], NULL);
    pthread_barrier_destroy(&bar);
    return 0;
}

static struct herd_budget *make(enum herd_budget_model m)
{
    struct herd_budget_config cfg;
    herd_budget_defaults(&cfg, m);
    struct herd_budget *b = NULL;
    if (herd_budget_new(&cfg, 0, &b) != 0)
        return NULL;
    return b;
}

static int failures;

static void tap(int n, bool ok, const char *what)
{
    printf("%sok %d - %s\n", ok ? "" : "not ", n, what);
    if (!ok)
        failures++;
}

static bool counters_match(long want_granted, long want_rejected)
{
    struct herd_budget_stats st;
    herd_budget_stats(B, 0, &st);
    uint64_t rej = 0;
    for (int i = 1; i < HERD_BUDGET_NREASONS; i++)
        rej += st.rejected[i];
    return (long)(st.retries + st.hedges) == want_granted && (long)rej == want_rejected;
}

int main(void)
{
    bool sums = true;
    printf("1..5\n");

    reset();
    B = make(HERD_BUDGET_AWS);
    if (!B || run(race_quota) != 0)
        return 2;
    long g = atomic_load(&granted);
    tap(1, g == 100, "aws: exactly 100 retries of cost 5 from 500 tokens, 4 threads racing");
    if (g != 100)
        printf("# granted %ld\n", g);
    sums &= counters_match(g, atomic_load(&rejected));
    herd_budget_free(B);

    bool ok2 = true;
    const enum herd_budget_model rm[] = {HERD_BUDGET_AWS, HERD_BUDGET_GRPC};
    for (int k = 0; k < 2; k++) {
        reset();
        B = make(rm[k]);
        lo_ok = 0;
        hi_ok = rm[k] == HERD_BUDGET_AWS ? 500 : 10000;
        if (!B || run(random_traffic) != 0)
            return 2;
        struct herd_budget_stats st;
        herd_budget_stats(B, 0, &st);
        if (atomic_load(&bad) != 0 || st.in_flight != 0 || st.active != 0 || st.balance < lo_ok ||
            st.balance > hi_ok) {
            printf("# %s: %ld bad balances, in flight %u, active %u\n",
                   herd_budget_model_name(rm[k]), atomic_load(&bad), st.in_flight, st.active);
            ok2 = false;
        }
        sums &= counters_match(atomic_load(&granted), atomic_load(&rejected));
        herd_budget_free(B);
    }
    tap(2, ok2, "aws, grpc: balance always in range, nothing left in flight");

    reset();
    B = make(HERD_BUDGET_FINAGLE);
    if (!B || run(finagle_race) != 0)
        return 2;
    struct herd_budget_stats st;
    herd_budget_stats(B, 0, &st);
    g = atomic_load(&granted);
    tap(3, g + st.balance == 900, "finagle: grants + leftover == 100 + 20 % of 4000");
    if (g + st.balance != 900)
        printf("# granted %ld left %lld\n", g, (long long)st.balance);
    sums &= counters_match(g, atomic_load(&rejected));
    herd_budget_free(B);

    reset();
    B = make(HERD_BUDGET_ENVOY);
    struct herd_hedge_config hc;
    herd_hedge_defaults(&hc);
    hc.delay_ns = 0;
    hc.min_delay_ns = 0;
    hc.percentile = 0;
    hc.budget = B;
    if (!B || herd_hedge_new(&hc, &H) != 0 || run(envoy_hold) != 0)
        return 2;
    herd_budget_stats(B, 0, &st);
    long mh = atomic_load(&max_held);
    bool ok4 = mh <= 8 && st.max_in_flight <= 8 && st.in_flight == 0 && st.active == 0 && mh > 1;
    tap(4, ok4, "envoy + hedge: never more than max(20 % of 40, 3) = 8 in flight");
    if (!ok4)
        printf("# held at most %ld, budget max %u\n", mh, st.max_in_flight);
    struct herd_hedge_stats hs;
    herd_hedge_stats(H, &hs);
    /* Every refusal is counted once: by the budget for retries, by the gate (reason
     * BUDGET) and the budget (rejected_hedges) for hedges. */
    uint64_t brej = 0;
    for (int i = 1; i < HERD_BUDGET_NREASONS; i++)
        brej += st.rejected[i];
    sums &= (long)(st.retries + st.hedges) == atomic_load(&granted);
    sums &= (long)brej == atomic_load(&rejected);
    sums &= hs.rejected[HERD_HEDGE_BUDGET] == st.rejected_hedges && hs.hedged == st.hedges;
    herd_hedge_free(H);
    herd_budget_free(B);

    tap(5, sums, "counters add up with what the threads saw");
    return failures ? 1 : 0;
}
