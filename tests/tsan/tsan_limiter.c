/* tsan_limiter.c — the adaptive concurrency limiter hammered by 4 threads under
 * ThreadSanitizer (a plain program printing TAP: Criterion's runner crashes under TSan).
 *
 * Invariants: in flight never exceeds the limit — a shared counter that each thread
 * raises after an admission and lowers before the release (so it is never above the
 * limiter's own count) never exceeds max_limit, nor does any token's in-flight count at
 * its admission (taken under the limiter's mutex); the limit stays in [min, max]; every
 * admission is released exactly once
 * and the counters add up. Both algorithms; losses come when more than 6 are in flight,
 * so the limit has to move. */
#include <herd/limiter.h>

#include <inttypes.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>

#define THREADS 4
#define OPS 100000
#define MAXL 8
#define MINL 2

static int failures, testno;
static struct herd_limiter lim;
static _Atomic int64_t fake_now;
static _Atomic int ext_inflight, ext_max;
static _Atomic int bad_limit, bad_token;

static void ok(int cond, const char *what)
{
    testno++;
    printf("%s %d - %s\n", cond ? "ok" : "not ok", testno, what);
    if (!cond)
        failures++;
}

static void *worker(void *arg)
{
    unsigned seed = 7 + (unsigned)(uintptr_t)arg;
    struct herd_limiter_token held[3];
    int nheld = 0;
    for (int i = 0; i < OPS; i++) {
        int64_t now = atomic_fetch_add(&fake_now, 1000) + 1000;
        seed = seed * 1103515245u + 12345u;
        if (nheld < 3 && (seed >> 16) % 2 == 0) {
            if (herd_limiter_acquire(&lim, now, &held[nheld]) == HERD_LIMITER_GO) {
                int e = atomic_fetch_add(&ext_inflight, 1) + 1;
                int m = atomic_load(&ext_max);
                while (e > m && !atomic_compare_exchange_weak(&ext_max, &m, e)) {
                }
                if (held[nheld].inflight > MAXL)
                    atomic_fetch_add(&bad_token, 1);
                nheld++;
            }
        } else if (nheld > 0) {
            struct herd_limiter_token *t = &held[--nheld];
            int e = atomic_fetch_sub(&ext_inflight, 1);
            unsigned r = (seed >> 8) % 100;
            enum herd_limiter_outcome o = HERD_LIMITER_SUCCESS;
            if (e > 6 && r < 30)
                o = HERD_LIMITER_DROPPED;
            else if (r < 3)
                o = HERD_LIMITER_TIMEOUT;
            else if (r < 6)
                o = HERD_LIMITER_IGNORE;
            /* RTTs of 1–2 ms, some cache hits of 20 µs */
            int64_t done = t->start_ns + (r < 10 ? 20000 : 1000000 + (int64_t)r * 10000);
            herd_limiter_release(&lim, t, o, done > now ? done : now);
        }
        uint32_t l = herd_limiter_limit(&lim);
        if (l < MINL || l > MAXL)
            atomic_fetch_add(&bad_limit, 1);
    }
    while (nheld > 0) {
        atomic_fetch_sub(&ext_inflight, 1);
        herd_limiter_release(&lim, &held[--nheld], HERD_LIMITER_IGNORE, atomic_load(&fake_now));
    }
    return NULL;
}

static void run_algo(enum herd_limiter_algo algo, const char *name)
{
    struct herd_limiter_config c = {.algo = algo,
                                    .initial_limit = 4,
                                    .min_limit = MINL,
                                    .max_limit = MAXL,
                                    .window_ns = 1000000,
                                    .window_min_samples = 10};
    char msg[200];
    herd_limiter_init(&lim, &c);
    atomic_store(&ext_inflight, 0);
    atomic_store(&ext_max, 0);
    atomic_store(&bad_limit, 0);
    atomic_store(&bad_token, 0);
    pthread_t th[THREADS];
    for (uintptr_t i = 0; i < THREADS; i++)
        pthread_create(&th[i], NULL, worker, (void *)i);
    for (int i = 0; i < THREADS; i++)
        pthread_join(th[i], NULL);
    snprintf(msg, sizeof msg, "%s: in flight never above the limit (max seen %d, max_limit %d)",
             name, atomic_load(&ext_max), MAXL);
    ok(atomic_load(&ext_max) <= MAXL && atomic_load(&bad_token) == 0, msg);
    snprintf(msg, sizeof msg, "%s: the limit stayed within [%d, %d]", name, MINL, MAXL);
    ok(atomic_load(&bad_limit) == 0, msg);
    struct herd_limiter_stats st;
    herd_limiter_stats(&lim, &st);
    uint64_t released = st.successes + st.fast + st.dropped + st.timeouts + st.ignored;
    snprintf(msg, sizeof msg,
             "%s: all released (acquired %" PRIu64 " = released %" PRIu64 ", in flight %u), "
             "%" PRIu64 " rejected, %" PRIu64 " cuts",
             name, st.acquired, released, herd_limiter_inflight(&lim), st.rejected, st.cuts);
    ok(st.acquired == released && herd_limiter_inflight(&lim) == 0 && st.rejected > 0 &&
           st.cuts > 0,
       msg);
    herd_limiter_fini(&lim);
}

int main(void)
{
    printf("1..6\n");
    run_algo(HERD_LIMITER_AIMD, "aimd");
    run_algo(HERD_LIMITER_GRADIENT2, "gradient2");
    printf("# %d failed\n", failures);
    return failures ? 1 : 0;
}
