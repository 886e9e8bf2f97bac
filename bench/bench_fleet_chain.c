/* bench_fleet_chain.c — the fleet simulator (src/sim/fleet*.c) on issue 12's three-tier
 * chain: a client fleet → a service with a cache → a database, under a fault.
 *
 * The model (tests/sim/fleet_models.h, fm_chain): N closed clients thinking 10 s on
 * average (N/10 calls/s), each call with a 1 s timeout, 4 attempts and full-jitter
 * backoff (base 100 ms, cap 10 s), Exp(1 ms) network each way; the api (256 workers,
 * Exp(2 ms)) calls the cache (10^4 Zipf(1) keys, TTL 5 s ± 20 %, singleflight, warm),
 * whose misses go to the db (16 workers, Exp(2 ms), queue 1,000, 2 s warm-up from 30 %)
 * with a 200 ms timeout and one retry; the db crashes at t = 4 s for 2 s. 20 s of
 * arrivals + 2 s of drain.
 *
 * Printed:
 *   events/s  engine events dispatched / CPU seconds of the whole run (setup included:
 *             N rng streams, N first think times), at N = 10^5, median of 3; one core;
 *   doubling  CPU time at 2N / CPU time at N for N = 50k → 100k → 200k → 400k (the work
 *             doubles with N: N/10 calls/s), and the events at each;
 *   bytes     peak RSS of a child process that ran N = 10^6 (getrusage via wait4), per
 *             client — everything: engine, clients, pools, cache, timelines.
 * Targets (issue 12): ≥ 5 M events/s per core, ≤ 512 B per client at 10^6, ≤ 2.2× per
 * doubling. Usage: bench_fleet_chain [reps] (default 3). Not a test: prints and exits 0.
 */
#include <stdio.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include "../tests/sim/fleet_models.h"
#include "bench.h"

#define THINK (10 * SEC)
#define DURATION (20 * SEC)

struct one {
    double cpu_s, events, calls;
    const char *verdict;
};

static struct one run_once(int64_t n, uint64_t seed)
{
    struct herd_fleet m;
    fm_chain(&m, n, THINK, DURATION);
    struct herd_report r;
    double t0 = bench_cpu_s();
    if (fm_run(&m, seed, &r) < 0)
        exit(1);
    struct one o = {.cpu_s = bench_cpu_s() - t0};
    herd_report_get_extra(&r, "events_dispatched", &o.events);
    herd_report_get_extra(&r, "client_calls", &o.calls);
    o.verdict = r.fleet->verdict;
    herd_report_fini(&r);
    return o;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static struct one median_run(int64_t n, int reps)
{
    double t[16];
    struct one o = {0};
    for (int i = 0; i < reps; i++) {
        o = run_once(n, 1);
        t[i] = o.cpu_s;
    }
    qsort(t, (size_t)reps, sizeof t[0], cmp_double);
    o.cpu_s = t[reps / 2];
    return o;
}

/* Peak RSS in bytes of a child that runs N = @p n once. */
static double child_rss(int64_t n)
{
    pid_t pid = fork();
    if (pid < 0)
        return -1;
    if (pid == 0) {
        run_once(n, 1);
        _exit(0);
    }
    int st;
    struct rusage ru;
    if (wait4(pid, &st, 0, &ru) != pid || !WIFEXITED(st) || WEXITSTATUS(st) != 0)
        return -1;
    return (double)ru.ru_maxrss * 1024.0;
}

int main(int argc, char **argv)
{
    int reps = argc > 1 ? atoi(argv[1]) : 3;
    if (reps < 1 || reps > 15)
        reps = 3;
    printf("bench_fleet_chain: clients -> api -> cache -> db, db crash at 4 s for 2 s, "
           "full-jitter backoff; %d reps (median)\n",
           reps);
    struct one o = median_run(100000, reps);
    printf("N = 100,000: %.3g events, %.3g calls, %.3f CPU s, %.2f M events/s per core "
           "(target >= 5), verdict %s\n",
           o.events, o.calls, o.cpu_s, o.events / o.cpu_s / 1e6, o.verdict);
    double prev = 0;
    printf("cost per doubling of N (target <= 2.2x):\n");
    for (int64_t n = 50000; n <= 400000; n *= 2) {
        struct one d = median_run(n, reps);
        printf("  N = %7lld: %.3g events, %.3f CPU s, %.2f M events/s", (long long)n, d.events,
               d.cpu_s, d.events / d.cpu_s / 1e6);
        if (prev > 0)
            printf(", %.2fx the previous N", d.cpu_s / prev);
        putchar('\n');
        prev = d.cpu_s;
    }
    double rss = child_rss(1000000);
    if (rss > 0)
        printf("N = 1,000,000: peak RSS %.1f MB, %.0f bytes per client (target <= 512)\n",
               rss / 1e6, rss / 1e6);
    else
        printf("N = 1,000,000: the child run failed\n");
    return 0;
}
