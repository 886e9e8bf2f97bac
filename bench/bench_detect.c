/* bench_detect.c — herd detect on herd's own traces: detection rate (herd traces called a
 * herd, and with a right synchronizer) and false-positive rate (organic traces called a
 * herd), per scenario and in all.
 *
 * Herd traces: the naive run of every herd scenario — the four classic ones on the
 * simulator and every scenario file in scenarios/ and scenarios/field-guide/ — over seeds
 * 1..k (k from the run's cost, so that the set holds >= 200 traces and the slow files
 * still run a few seeds). Organic traces: tests/detect/organic-{poisson,diurnal,retries}
 * .yaml (independent Poisson clients; a ten-fold daily rate curve; 3 % errors with
 * full-jitter retries) over seeds 1..70 each (210). Each trace is the simulator's request
 * records at the herd's resource (what herd run --trace writes), read in process.
 * Scenarios whose naive trace has no synchronized arrivals at the resource are listed
 * apart (see docs/detect.md): brooker-retry (failures at random, retried at once: steady
 * amplification), hedging-outage (hedges double a steady rate) and brooker-collapse (a
 * 2x load step; at most seeds it recovers). Not a test: it prints figures and exits 0.
 */
#include <stdio.h>
#include <stdlib.h>

#include "../tests/detect/traces.h"
#include "bench.h"

static const struct trace_case herds[] = {
    {"accept", 200, 30, {NULL}, SYNC(BROADCAST), 1},
    {"condvar", 200, 30, {NULL}, SYNC(BROADCAST), 1},
    {"cache", 100, 5, {NULL}, SYNC(TTL), 1},
    {"cron", 500, 3, {NULL}, SYNC(CRON), 1},
    {"scenarios/brooker-collapse-ramp.yaml", 0, 0, {NULL}, SYNC(RETRY), 1},
    {"scenarios/cascade-3tier.yaml", 0, 0, {NULL}, SYNC(RETRY), 10},
    {"scenarios/lb-restart-tls.yaml", 0, 0, {NULL}, SYNC(RESTART), 20},
    {"scenarios/leader-election.yaml", 0, 0, {NULL}, SYNC(LEADER), 6},
    {"scenarios/lock-herd.yaml", 0, 0, {NULL}, SYNC(CRON) | SYNC(BROADCAST), 3},
    {"scenarios/retry-storm-outage.yaml", 0, 0, {NULL}, SYNC(RETRY), 22},
    {"scenarios/field-guide/accidental-sync.yaml", 0, 0, {NULL}, SYNC(CRON), 1},
    {"scenarios/field-guide/bathtub.yaml", 0, 0, {NULL}, SYNC(RESTART), 1},
    {"scenarios/field-guide/cache-stampede.yaml", 0, 0, {NULL}, SYNC(TTL), 7},
    {"scenarios/field-guide/cascade-abc.yaml", 0, 0, {NULL}, SYNC(TTL) | SYNC(RETRY), 23},
    {"scenarios/field-guide/hot-keys.yaml", 0, 0, {NULL}, SYNC(TTL), 1},
    {"scenarios/field-guide/lb-restart.yaml", 0, 0, {NULL}, SYNC(RESTART), 12},
    {"scenarios/field-guide/leader-failover.yaml", 0, 0, {NULL}, SYNC(LEADER), 4},
    {"scenarios/field-guide/lock-storm.yaml", 0, 0, {NULL}, SYNC(RETRY), 1},
    {"scenarios/field-guide/retry-after-500s.yaml", 0, 0, {NULL}, SYNC(RETRY), 2},
    {"scenarios/field-guide/token-refresh.yaml", 0, 0, {NULL}, SYNC(CRON) | SYNC(RESTART), 2},
    {"scenarios/field-guide/coalescing.yaml", 0, 0, {NULL}, SYNC(TTL), 1},
    {"scenarios/field-guide/checkout.yaml", 0, 0, {NULL}, SYNC(TTL), 1},
    {"scenarios/field-guide/feature-flags.yaml",
     0,
     0,
     {NULL},
     SYNC(TTL) | SYNC(BROADCAST) | SYNC(RESTART),
     2},
};

static const struct trace_case apart[] = {
    {"scenarios/brooker-retry.yaml", 0, 0, {NULL}, SYNC(RETRY), 1},
    {"scenarios/brooker-collapse.yaml", 0, 0, {NULL}, SYNC(RETRY), 1},
    {"scenarios/field-guide/hedging-outage.yaml", 0, 0, {NULL}, SYNC(RETRY), 3},
};

static const struct trace_case organic[] = {
    {"tests/detect/organic-poisson.yaml", 0, 0, {NULL}, 0, 1},
    {"tests/detect/organic-diurnal.yaml", 0, 0, {NULL}, 0, 1},
    {"tests/detect/organic-retries.yaml", 0, 0, {NULL}, 0, 1},
};

struct tally {
    int runs, herd, right;
    int by_sync[HERD_DETECT_SYNC_COUNT];
};

static void run_case(const struct trace_case *c, int seeds, struct tally *t)
{
    memset(t, 0, sizeof *t);
    for (int s = 1; s <= seeds; s++) {
        struct herd_detect_input in;
        struct herd_detect_result res;
        char err[512];
        herd_detect_input_init(&in);
        if (trace_run(c, HERD_SOURCE_ROOT, (uint64_t)s, &in, err, sizeof err) < 0 ||
            herd_detect_run(&in, &res) < 0) {
            fprintf(stderr, "bench_detect: %s seed %d: %s\n", c->name, s, err);
            herd_detect_input_fini(&in);
            continue;
        }
        t->runs++;
        t->herd += res.herd;
        t->right += res.herd && (c->expect & (1u << res.sync));
        t->by_sync[res.sync]++;
        herd_detect_input_fini(&in);
    }
}

static void print_row(const struct trace_case *c, const struct tally *t, double secs)
{
    char called[256] = "";
    size_t off = 0;
    for (int k = 0; k < HERD_DETECT_SYNC_COUNT; k++)
        if (t->by_sync[k])
            off += (size_t)snprintf(called + off, sizeof called - off, "%s%s %d", off ? ", " : "",
                                    herd_detect_sync_name(k), t->by_sync[k]);
    const char *base = strrchr(c->name, '/');
    printf("  %-22s %4d %5d %6d  %5.1fs  %s\n", base ? base + 1 : c->name, t->runs, t->herd,
           t->right, secs, called);
}

int main(int argc, char **argv)
{
    /* argv[1]: a budget in CPU-seconds per herd scenario (default 40). */
    double budget = argc > 1 ? atof(argv[1]) : 40;
    int total = 0, herd = 0, right = 0;
    printf("# herd detect on herd's own traces (naive runs; seeds 1..k per scenario)\n");
    printf("  %-22s %4s %5s %6s  %6s  %s\n", "herd scenario", "runs", "herd", "right", "time",
           "called");
    for (size_t i = 0; i < sizeof herds / sizeof herds[0]; i++) {
        int seeds = (int)(budget / herds[i].cost);
        seeds = seeds < 3 ? 3 : seeds > 16 ? 16 : seeds;
        struct tally t;
        double t0 = bench_cpu_s();
        run_case(&herds[i], seeds, &t);
        print_row(&herds[i], &t, bench_cpu_s() - t0);
        total += t.runs;
        herd += t.herd;
        right += t.right;
    }
    printf("herd traces: %d; flagged herd %d (%.1f %%); with a right synchronizer %d (%.1f %%)\n",
           total, herd, 100.0 * herd / total, right, 100.0 * right / total);
    printf("\n  apart (no synchronized arrivals at the resource in the naive trace):\n");
    for (size_t i = 0; i < sizeof apart / sizeof apart[0]; i++) {
        struct tally t;
        double t0 = bench_cpu_s();
        run_case(&apart[i], 5, &t);
        print_row(&apart[i], &t, bench_cpu_s() - t0);
    }
    int otot = 0, oherd = 0;
    printf("\n  %-22s %4s %5s\n", "organic", "runs", "herd");
    for (size_t i = 0; i < sizeof organic / sizeof organic[0]; i++) {
        struct tally t;
        double t0 = bench_cpu_s();
        run_case(&organic[i], 70, &t);
        print_row(&organic[i], &t, bench_cpu_s() - t0);
        otot += t.runs;
        oherd += t.herd;
    }
    printf("organic traces: %d; flagged herd %d (false-positive rate %.2f %%)\n", otot, oherd,
           100.0 * oherd / otot);
    return 0;
}
