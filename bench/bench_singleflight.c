/* bench_singleflight.c — ns per join on a hot key whose result is being computed.
 *
 * The workload (bench/go/singleflight_bench.go runs the very same one on Go's
 * golang.org/x/sync/singleflight, and bench/run-go-compare.sh prints both):
 *  - T workers (1, then 2 contending on 2 cores), one shared table, ONE key "hot-key".
 *  - A worker runs rounds of M = 64 operations. One operation = one caller asking for
 *    the hot key through the non-blocking begin: the caller that finds no flight leads
 *    it, every other caller JOINS the running flight (its result is still being
 *    computed). A lone worker thus does 1 lead + 63 joins per round; two workers also
 *    join each other's flights.
 *  - After its M begins, the worker completes the flight it leads, if any, with an
 *    8-byte value, then collects every joined ticket's result (herd_singleflight_wait:
 *    at once when the flight is done, else until the other worker completes it) and
 *    releases the ticket. So one operation costs begin + (complete | wait + release):
 *    every call a real joiner makes, amortised over the flight.
 *  - ns/op = wall time / operations per worker: what one operation costs one worker
 *    (equal to the 1-worker figure if two workers scaled perfectly).
 * Each figure is the median of 5 runs of 20000 rounds (1.28 M operations per worker).
 *
 * Output: one line per figure, "singleflight_join_<T>t <ns> ns/op", parsed by
 * run-go-compare.sh. Not a test: it prints figures and exits 0.
 */
#include <herd/error.h>
#include <herd/singleflight.h>

#include <stdio.h>

#include "bench.h"

#define M 64
#define ROUNDS 20000
#define REPS 5

static const char KEY[] = "hot-key";

struct worker {
    struct herd_singleflight *sf;
    long bad;
};

static void *work(void *arg)
{
    struct worker *w = arg;
    struct herd_singleflight_ticket t[M], lead;
    struct herd_singleflight_result res;
    uint64_t value = 42;
    for (int r = 0; r < ROUNDS; r++) {
        int nj = 0;
        bool leading = false;
        for (int i = 0; i < M; i++) {
            int role = herd_singleflight_begin(w->sf, KEY, sizeof KEY - 1, 0, &t[nj]);
            if (role == HERD_SINGLEFLIGHT_JOINED) {
                nj++;
            } else if (role == HERD_SINGLEFLIGHT_LEADER && !leading) {
                lead = t[nj];
                leading = true;
            } else {
                w->bad++; /* cannot happen: a worker's flight is in the table until it ends */
            }
        }
        if (leading)
            herd_singleflight_complete(w->sf, &lead, &value, sizeof value, 0);
        for (int i = 0; i < nj; i++) {
            if (herd_singleflight_wait(w->sf, &t[i], HERD_SINGLEFLIGHT_NO_DEADLINE, &res) != 0 ||
                res.len != sizeof value)
                w->bad++;
            herd_singleflight_release(w->sf, &t[i]);
        }
    }
    return NULL;
}

/* ns/op for @p threads workers, median of REPS runs. */
static double run(int threads)
{
    double ns[REPS];
    for (int rep = 0; rep < REPS; rep++) {
        struct herd_singleflight_config cfg = {.max_flights = 64, .max_value_len = 8};
        struct herd_singleflight *sf;
        struct worker w[2];
        bench_check(herd_singleflight_new(&cfg, &sf), "bench_singleflight: cannot make the table");
        for (int i = 0; i < threads; i++)
            w[i] = (struct worker){sf, 0};
        ns[rep] = bench_threads(threads, work, w, sizeof *w) * 1e9 / ((double)ROUNDS * M);
        for (int i = 0; i < threads; i++)
            if (w[i].bad)
                fprintf(stderr, "bench_singleflight: %ld unexpected results\n", w[i].bad);
        herd_singleflight_free(sf);
    }
    return bench_median(ns, REPS);
}

int main(void)
{
    printf("# hot-key join: rounds of %d begins on one key (1 lead, the rest join a flight\n"
           "# still being computed), then complete / wait + release; median of %d x %d rounds\n",
           M, REPS, ROUNDS);
    for (int threads = 1; threads <= 2; threads++)
        printf("singleflight_join_%dt %.1f ns/op\n", threads, run(threads));
    return 0;
}
