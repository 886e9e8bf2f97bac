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
 *
 * Peer mode, for bench/bench_fleet_peer.sh (the same chain in SimPy, bench/peers/
 * simpy_models.py): bench_fleet_chain --peer N SECONDS [SEED] runs fm_chain at N
 * clients and SECONDS of arrivals (+ 2 s drain) on seeds SEED, SEED + 1, ... until at
 * least 3 runs and 1 s of wall time, and prints "key value" lines: events (engine
 * events dispatched, summed) over wall_s and cpu_s (herd_sim_fleet's wall and process
 * CPU time, setup included, summed), and per run the mean and standard deviation of the
 * figures the two sides must agree on (client attempts per call, share of calls that
 * succeed, cache hit ratio, db attempts per call, calls begun). A last, untimed run on SEED counts
 * the dispatched events by kind (the engine's trace hook): "kind NAME COUNT" lines.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
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

/* ---- peer mode (--peer): the SimPy-sized chain, the figures both sides must agree on --- */

enum { PF_EVENTS, PF_CALLS, PF_APC, PF_OK_SHARE, PF_HIT_RATIO, PF_DB_PER_CALL, PF_TIMEOUTS, PF_N };
static const char *const pf_name[PF_N] = {
    "events",         "calls",           "attempts_per_call",
    "ok_share",       "cache_hit_ratio", "db_attempts_per_call",
    "client_timeouts"};

struct kind_count {
    const char *name; /* the engine's kind name (static) */
    double n;
};

struct kind_counts {
    struct kind_count k[32];
    int nk;
};

static void count_kind(void *ctx, int64_t t_ns, const char *kind, uint64_t entity)
{
    (void)t_ns;
    (void)entity;
    struct kind_counts *kc = ctx;
    for (int i = 0; i < kc->nk; i++) {
        if (kc->k[i].name == kind || strcmp(kc->k[i].name, kind) == 0) {
            kc->k[i].n++;
            return;
        }
    }
    if (kc->nk < 32)
        kc->k[kc->nk++] = (struct kind_count){kind, 1};
}

/* One run of the chain at @p n clients, @p dur_ns of arrivals: its figures in @p f, its
 * CPU time in @p *cpu_s; @return its wall time. @p hooks may be NULL. */
static double peer_once(int64_t n, int64_t dur_ns, uint64_t seed,
                        const struct herd_sim_hooks *hooks, double f[PF_N], double *cpu_s)
{
    struct herd_fleet m;
    fm_chain(&m, n, THINK, dur_ns);
    struct herd_report r;
    char err[256];
    fm_report(&r, seed);
    double t0 = bench_now_s(), c0 = bench_cpu_s();
    int rc = herd_sim_fleet(&m, seed, hooks, &r, err, sizeof err);
    double wall = bench_now_s() - t0;
    *cpu_s = bench_cpu_s() - c0;
    if (rc < 0) {
        fprintf(stderr, "herd_sim_fleet: %s\n", err);
        exit(1);
    }
    const struct herd_fleet_comp_figures *cl = &r.fleet->comps[0], *ca = &r.fleet->comps[2],
                                         *db = &r.fleet->comps[3];
    double calls = (double)cl->calls;
    herd_report_get_extra(&r, "events_dispatched", &f[PF_EVENTS]);
    f[PF_CALLS] = calls;
    f[PF_APC] = (double)cl->attempts / calls;
    f[PF_OK_SHARE] = (double)cl->ok / calls;
    f[PF_HIT_RATIO] = (double)ca->hits / (double)(ca->hits + ca->misses);
    f[PF_DB_PER_CALL] = (double)db->attempts / calls;
    f[PF_TIMEOUTS] = (double)cl->timeouts;
    herd_report_fini(&r);
    return wall;
}

static int peer_main(int argc, char **argv)
{
    if (argc < 4) {
        fprintf(stderr, "usage: bench_fleet_chain --peer N SECONDS [SEED]\n");
        return 2;
    }
    int64_t n = atoll(argv[2]);
    double secs = atof(argv[3]);
    uint64_t seed = argc > 4 ? strtoull(argv[4], NULL, 10) : 1;
    if (n < 1 || n > 10000000 || secs <= 6 || secs > 1000) {
        fprintf(stderr, "bench_fleet_chain --peer: N in 1..10^7, SECONDS in (6, 1000] (the "
                        "crash is at 4 s for 2 s)\n");
        return 2;
    }
    int64_t dur = (int64_t)llround(secs * 1e9);
    double sum[PF_N] = {0}, sq[PF_N] = {0}, wall = 0, cpu = 0, events = 0;
    int runs = 0;
    while (runs < 3 || (wall < 1.0 && runs < 200)) {
        double f[PF_N], c;
        wall += peer_once(n, dur, seed + (uint64_t)runs, NULL, f, &c);
        cpu += c;
        events += f[PF_EVENTS];
        for (int k = 0; k < PF_N; k++) {
            sum[k] += f[k];
            sq[k] += f[k] * f[k];
        }
        runs++;
    }
    printf("model chain\nclients %lld\nseconds %g\nseed %llu\nruns %d\n", (long long)n, secs,
           (unsigned long long)seed, runs);
    printf("events_total %.0f\nwall_s %.6f\ncpu_s %.6f\nevents_per_s %.0f\nevents_per_cpu_s %.0f\n",
           events, wall, cpu, events / wall, events / cpu);
    for (int k = 0; k < PF_N; k++) {
        double mean = sum[k] / runs;
        double var = runs > 1 ? (sq[k] - runs * mean * mean) / (runs - 1) : 0;
        printf("%s %.6g\n%s_sd %.6g\n", pf_name[k], mean, pf_name[k], var > 0 ? sqrt(var) : 0);
    }
    struct kind_counts kc = {.nk = 0};
    struct herd_sim_hooks hooks = {.trace = count_kind, .trace_ctx = &kc};
    double f[PF_N], c;
    peer_once(n, dur, seed, &hooks, f, &c);
    for (int i = 0; i < kc.nk; i++)
        printf("kind %s %.0f\n", kc.k[i].name, kc.k[i].n);
    printf("kind_run_calls %.0f\n", f[PF_CALLS]);
    return 0;
}

int main(int argc, char **argv)
{
    if (argc > 1 && strcmp(argv[1], "--peer") == 0)
        return peer_main(argc, argv);
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
