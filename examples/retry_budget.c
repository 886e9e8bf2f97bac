/* retry_budget.c — retries that cannot become a retry storm, with libherd.
 *
 * A client calls a dependency that is down for the first 2 seconds. Each call retries
 * with full-jitter exponential backoff (herd/backoff.h), and every retry must first be
 * granted by a gRPC-A6 retry budget shared by all calls (herd/budget.h): once failures
 * drain it, calls fail fast instead of piling retries on the sick dependency, and one
 * success re-enables retrying. Time is simulated (libherd takes time as an argument),
 * so the example runs instantly and prints the same figures every time.
 *     cc -std=c11 retry_budget.c $(pkg-config --cflags --libs herd) -o retry_budget
 */
#include <herd/backoff.h>
#include <herd/budget.h>
#include <herd/clock.h>
#include <herd/rng.h>
#include <stdbool.h>
#include <stdio.h>

#define CALLS 200
#define OUTAGE_NS (2 * HERD_NS_PER_S)

/* The dependency: down until OUTAGE_NS, then fine. */
static bool dependency_ok(int64_t now_ns)
{
    return now_ns >= OUTAGE_NS;
}

int main(void)
{
    const struct herd_backoff_policy policy = {
        .kind = HERD_BACKOFF_FULL,
        .base_ns = 10 * HERD_NS_PER_MS,
        .cap_ns = HERD_NS_PER_S,
        .max_attempts = 5,
    };
    struct herd_budget_config cfg;
    struct herd_budget *budget;
    struct herd_rng rng;
    herd_rng_seed(&rng, 42);
    herd_budget_defaults(&cfg, HERD_BUDGET_GRPC);
    if (herd_budget_new(&cfg, 0, &budget) != 0)
        return 1;

    int attempts = 0, succeeded = 0, refused_by_budget = 0, gave_up = 0;
    for (int call = 0; call < CALLS; call++) {
        int64_t now = (int64_t)call * 20 * HERD_NS_PER_MS; /* one call every 20 ms */
        struct herd_backoff b;
        herd_backoff_init(&b, &policy, now);
        herd_budget_begin(budget, now);
        attempts++;
        bool ok = dependency_ok(now);
        herd_budget_record(budget, ok ? HERD_BUDGET_SUCCESS : HERD_BUDGET_FAILURE, now);
        while (!ok) {
            int64_t wait;
            if (herd_backoff_next(&b, &rng, now, HERD_BACKOFF_FAILED,
                                  HERD_BACKOFF_NO_RETRY_AFTER, &wait) != 0) {
                gave_up++;
                break;
            }
            struct herd_budget_ticket t;
            if (herd_budget_decide(budget, HERD_BUDGET_RETRY, now, &t) != HERD_BUDGET_GO) {
                refused_by_budget++; /* fail fast: the budget protects the dependency */
                break;
            }
            now += wait; /* a real client sleeps or arms a timer here */
            attempts++;
            ok = dependency_ok(now);
            herd_budget_release(budget, &t, ok ? HERD_BUDGET_SUCCESS : HERD_BUDGET_FAILURE, now);
        }
        succeeded += ok;
        herd_budget_end(budget, now);
    }
    herd_budget_free(budget);
    printf("%d calls, %d attempts (%.2f per call): %d succeeded, %d failed fast on the "
           "budget, %d gave up after 5 attempts\n",
           CALLS, attempts, (double)attempts / CALLS, succeeded, refused_by_budget, gave_up);
    /* Without the budget, each of the 100 calls in the outage would make 5 attempts. */
    return attempts < CALLS + CALLS / 2 ? 0 : 1;
}
