/* tsan_singleflight.c — singleflight hammered from 4 threads, under ThreadSanitizer.
 *
 * A plain program printing TAP (Criterion's runner crashes under TSan). Phase 1: four
 * threads join three hot keys through the blocking join() (and, one round in five,
 * through begin + poll, leaving early now and then: the cancel path). A leader
 * succeeds, fails with an error, or abandons its flight, chosen at random. Checks:
 *   1. at most one leader per key is inside its work at any moment;
 *   2. every joiner that got a value got one a leader of that key published;
 *      every joiner that got an error got one a leader completed with;
 *   3. no wait hit its 10 s deadline (no hang);
 *   4. the counters add up with what the threads saw.
 * Phase 2: a leader that "crashes" (holds its ticket without completing) while three
 * threads join without any deadline: they must come back through the stall takeover:
 *   5. each of them got the value of the leader that took over; nobody hung; every
 *      leader taken over (the zombie, and a taker stalled in its turn) completed late.
 * Phase 3: three threads block in wait(); the main thread cancels two of their tickets:
 *   6. those two return -HERD_ECANCELED, the third gets the value, and the flight's work
 *      was not cancelled (one caller still wanted it).
 */
#include <herd/clock.h>
#include <herd/error.h>
#include <herd/rng.h>
#include <herd/singleflight.h>

#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>

#define THREADS 4
#define KEYS 3
#define ROUNDS 2000
#define MAXSERIAL (THREADS * ROUNDS + 1)

struct shared {
    struct herd_singleflight *sf;
    atomic_int running[KEYS];
    atomic_int max_running;
    atomic_long serial[KEYS];
    atomic_char published[KEYS][MAXSERIAL]; /* 1: that serial was completed with a value */
    atomic_long leaders, ok, failed, bad, timeouts, early_leaves;
};

static struct shared S;

static void *hammer(void *arg)
{
    struct herd_rng rng;
    herd_rng_stream(&rng, 77, (uint64_t)(uintptr_t)arg);
    for (int i = 0; i < ROUNDS; i++) {
        int k = (int)herd_rng_below(&rng, KEYS);
        char key[8];
        snprintf(key, sizeof key, "hot%d", k);
        struct herd_singleflight_ticket t;
        struct herd_singleflight_result res;
        int role;
        bool nonblocking = herd_rng_below(&rng, 5) == 0;
        if (nonblocking) {
            role = herd_singleflight_begin(S.sf, key, strlen(key), 0, &t);
        } else {
            int64_t deadline = herd_clock_monotonic_ns() + 10 * HERD_NS_PER_S;
            role = herd_singleflight_join(S.sf, key, strlen(key), 0, deadline, &t, &res);
        }
        if (role == HERD_SINGLEFLIGHT_LEADER) {
            int now = atomic_fetch_add(&S.running[k], 1) + 1;
            int mx = atomic_load(&S.max_running);
            while (now > mx && !atomic_compare_exchange_weak(&S.max_running, &mx, now))
                ;
            for (int s = 0; s < 10; s++)
                sched_yield(); /* let the others pile onto the flight */
            long serial = atomic_fetch_add(&S.serial[k], 1) + 1;
            atomic_fetch_sub(&S.running[k], 1);
            atomic_fetch_add(&S.leaders, 1);
            uint64_t pick = herd_rng_below(&rng, 10);
            if (pick < 8) {
                long v[2] = {k, serial};
                atomic_store(&S.published[k][serial], 1); /* before anyone can see it */
                herd_singleflight_complete(S.sf, &t, v, sizeof v, 0);
            } else if (pick == 8) {
                herd_singleflight_complete(S.sf, &t, NULL, 0, -HERD_EREJECT);
            } else {
                herd_singleflight_abandon(S.sf, &t);
            }
            continue;
        }
        if (role == -HERD_ETIMEDOUT) {
            atomic_fetch_add(&S.timeouts, 1);
            continue;
        }
        if (role != HERD_SINGLEFLIGHT_JOINED) {
            atomic_fetch_add(&S.bad, 1);
            continue;
        }
        if (nonblocking) {
            bool done = false;
            for (int s = 0; s < 50 && !(done = herd_singleflight_poll(S.sf, &t, &res)); s++)
                sched_yield();
            if (!done) {
                herd_singleflight_release(S.sf, &t); /* gave up: leaves early */
                atomic_fetch_add(&S.early_leaves, 1);
                continue;
            }
        }
        if (res.error == 0) {
            const long *v = res.val;
            if (res.len != 2 * sizeof(long) || v[0] != k || v[1] < 1 || v[1] >= MAXSERIAL ||
                !atomic_load(&S.published[k][v[1]]))
                atomic_fetch_add(&S.bad, 1);
            else
                atomic_fetch_add(&S.ok, 1);
        } else if (res.error == -HERD_EREJECT || res.error == -HERD_ELEADER) {
            if (res.val != NULL || res.len != 0)
                atomic_fetch_add(&S.bad, 1);
            atomic_fetch_add(&S.failed, 1);
        } else {
            atomic_fetch_add(&S.bad, 1);
        }
        herd_singleflight_release(S.sf, &t);
    }
    return NULL;
}

/* ---- phase 2: a crashed leader ---------------------------------------------------- */

struct p2 {
    struct herd_singleflight *sf;
    atomic_int leaders, got_new, other;
};

static void *stall_joiner(void *arg)
{
    struct p2 *p = arg;
    struct herd_singleflight_ticket t;
    struct herd_singleflight_result res;
    int role = herd_singleflight_join(p->sf, "k", 1, herd_clock_monotonic_ns(),
                                      HERD_SINGLEFLIGHT_NO_DEADLINE, &t, &res);
    if (role == HERD_SINGLEFLIGHT_LEADER) {
        atomic_fetch_add(&p->leaders, 1);
        herd_singleflight_complete(p->sf, &t, "new", 4, 0);
        atomic_fetch_add(&p->got_new, 1);
    } else if (role == HERD_SINGLEFLIGHT_JOINED) {
        if (res.error == 0 && res.len == 4 && memcmp(res.val, "new", 4) == 0)
            atomic_fetch_add(&p->got_new, 1);
        else
            atomic_fetch_add(&p->other, 1);
        herd_singleflight_release(p->sf, &t);
    } else {
        atomic_fetch_add(&p->other, 1);
    }
    return NULL;
}

/* ---- phase 3: cancel from another thread ------------------------------------------ */

struct p3 {
    struct herd_singleflight *sf;
    struct herd_singleflight_ticket t[3];
    atomic_int ready[3];
    int rc[3];
    char got[3][4];
};

static struct p3 P3;

static void *cancel_waiter(void *arg)
{
    int i = (int)(uintptr_t)arg;
    struct herd_singleflight_result res;
    if (herd_singleflight_begin(P3.sf, "c", 1, 0, &P3.t[i]) != HERD_SINGLEFLIGHT_JOINED) {
        P3.rc[i] = 1;
        atomic_store(&P3.ready[i], 1);
        return NULL;
    }
    atomic_store(&P3.ready[i], 1); /* publishes the ticket to the canceller */
    P3.rc[i] = herd_singleflight_wait(P3.sf, &P3.t[i], HERD_SINGLEFLIGHT_NO_DEADLINE, &res);
    if (P3.rc[i] == 0 && res.len == 4)
        memcpy(P3.got[i], res.val, 4);
    herd_singleflight_release(P3.sf, &P3.t[i]);
    return NULL;
}

static int n_test;
static int failures;

static void check(bool ok, const char *what)
{
    printf("%sok %d - %s\n", ok ? "" : "not ", ++n_test, what);
    if (!ok)
        failures++;
}

int main(void)
{
    struct herd_singleflight_config cfg = {.max_flights = 16, .max_value_len = 2 * sizeof(long)};
    pthread_t th[THREADS];
    printf("1..6\n");
    if (herd_singleflight_new(&cfg, &S.sf) != 0) {
        printf("Bail out! cannot make the table\n");
        return 1;
    }
    for (int i = 0; i < THREADS; i++)
        pthread_create(&th[i], NULL, hammer, (void *)(uintptr_t)(i + 1));
    for (int i = 0; i < THREADS; i++)
        pthread_join(th[i], NULL);
    struct herd_singleflight_stats st;
    herd_singleflight_stats(S.sf, &st);
    printf("# leaders %ld, joiners ok %ld, failed %ld, early leaves %ld, joins %llu\n",
           atomic_load(&S.leaders), atomic_load(&S.ok), atomic_load(&S.failed),
           atomic_load(&S.early_leaves), (unsigned long long)st.joins);
    check(atomic_load(&S.max_running) == 1, "at most one leader per key at any moment");
    check(atomic_load(&S.bad) == 0, "every joiner got a published value or a leader's error");
    check(atomic_load(&S.timeouts) == 0 && st.timeouts == 0, "no wait hung to its deadline");
    /* A joiner that gave up after its last poll may release a ticket whose flight
     * completed in between: the table then counts a shared (or failed) result, not a
     * cancel. So the released tickets add up; each class only one way. */
    uint64_t ok = (uint64_t)atomic_load(&S.ok), failed = (uint64_t)atomic_load(&S.failed);
    uint64_t early = (uint64_t)atomic_load(&S.early_leaves);
    check(st.flights == (uint64_t)atomic_load(&S.leaders) &&
              st.shared + st.failed + st.canceled == ok + failed + early &&
              st.shared >= ok && st.failed >= failed && st.canceled <= early &&
              st.joins == ok + failed + early && st.cancelled_flights == 0,
          "counters match what the threads saw");
    herd_singleflight_free(S.sf);

    struct herd_singleflight_config c2 = {.stall_ns = 30 * HERD_NS_PER_MS};
    struct p2 p = {0};
    struct herd_singleflight_ticket dead;
    herd_singleflight_new(&c2, &p.sf);
    herd_singleflight_begin(p.sf, "k", 1, herd_clock_monotonic_ns(), &dead);
    for (int i = 0; i < 3; i++)
        pthread_create(&th[i], NULL, stall_joiner, &p);
    for (int i = 0; i < 3; i++)
        pthread_join(th[i], NULL);
    herd_singleflight_complete(p.sf, &dead, "zombie", 7, 0); /* late: discarded */
    herd_singleflight_stats(p.sf, &st);
    printf("# phase 2: takeovers %llu, stalls %llu, late %llu\n",
           (unsigned long long)st.takeovers, (unsigned long long)st.stalls,
           (unsigned long long)st.late);
    /* Each takeover makes the leader it replaced late: the zombie, and, when the taker
     * itself was descheduled past stall_ns before completing (once in a CI run under
     * TSan: takeovers 2, late 2), that taker too. */
    check(atomic_load(&p.got_new) == 3 && atomic_load(&p.other) == 0 &&
              atomic_load(&p.leaders) >= 1 && st.takeovers >= 1 && st.late == st.takeovers,
          "a crashed leader is taken over; every waiter gets the new value");
    herd_singleflight_free(p.sf);

    struct herd_singleflight_ticket lead;
    herd_singleflight_new(NULL, &P3.sf);
    herd_singleflight_begin(P3.sf, "c", 1, 0, &lead);
    for (int i = 0; i < 3; i++)
        pthread_create(&th[i], NULL, cancel_waiter, (void *)(uintptr_t)i);
    for (int i = 0; i < 3; i++)
        while (!atomic_load(&P3.ready[i]))
            sched_yield();
    herd_singleflight_cancel(P3.sf, &P3.t[0]);
    herd_singleflight_cancel(P3.sf, &P3.t[1]);
    pthread_join(th[0], NULL);
    pthread_join(th[1], NULL);
    bool alive = !herd_singleflight_cancelled(P3.sf, &lead);
    herd_singleflight_complete(P3.sf, &lead, "val", 4, 0);
    pthread_join(th[2], NULL);
    check(P3.rc[0] == -HERD_ECANCELED && P3.rc[1] == -HERD_ECANCELED && P3.rc[2] == 0 &&
              memcmp(P3.got[2], "val", 4) == 0 && alive,
          "cancel from another thread wakes only its waiter; the work goes on for the rest");
    herd_singleflight_free(P3.sf);
    return failures ? 1 : 0;
}
