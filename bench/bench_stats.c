/* bench_stats.c — seconds for a cluster bootstrap interval of the size a live herd gives.
 *
 * One operation = herd_stats_bootstrap_ci() on 10 groups of 10,000 log-normal samples
 * (the shape of a latency run), 1,000 replicates, for the p99, the median and the mean;
 * then herd_stats_quantile_ci() on 10^6 samples (a sort and two binomial searches).
 * Wall and CPU time, median of 5 runs: on the shared 2-core VM the CPU time is the figure
 * to quote, the wall time shows the neighbours. Not a test: it prints figures and exits 0.
 */
#include <herd/rng.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include "../src/report/stats.h"
#include "bench.h"

#define GROUPS 10
#define PER_GROUP 10000
#define REPS 5

static volatile double sink;

static void run(const char *name, enum herd_stats_stat stat, double q,
                const struct herd_stats_group *groups)
{
    struct herd_stats_bootstrap cfg = {.stat = stat, .q = q};
    double wall[REPS], cpu[REPS];
    struct herd_stats_interval iv = {0};
    for (int rep = 0; rep < REPS; rep++) {
        struct herd_rng rng;
        herd_rng_seed(&rng, 7);
        double w0 = bench_now_s(), c0 = bench_cpu_s();
        bench_check(herd_stats_bootstrap_ci(&cfg, groups, GROUPS, &rng, &iv), "bootstrap");
        wall[rep] = bench_now_s() - w0;
        cpu[rep] = bench_cpu_s() - c0;
        sink = iv.lo;
    }
    printf("  %-6s %7.3f s wall %7.3f s cpu   %.4g (%.4g-%.4g)\n", name, bench_median(wall, REPS),
           bench_median(cpu, REPS), iv.point, iv.lo, iv.hi);
}

int main(void)
{
    struct herd_rng rng;
    herd_rng_seed(&rng, 1);
    static double x[GROUPS * PER_GROUP];
    struct herd_stats_group groups[GROUPS];
    for (int g = 0; g < GROUPS; g++) {
        double scale = exp(herd_rng_normal(&rng, 0, 0.1)); /* runs differ a little */
        for (int i = 0; i < PER_GROUP; i++)
            x[g * PER_GROUP + i] = scale * exp(herd_rng_normal(&rng, 0, 0.5));
        groups[g] = (struct herd_stats_group){.x = x + g * PER_GROUP, .n = PER_GROUP};
    }
    printf("cluster bootstrap, %d groups x %d samples x %d replicates, median of %d\n", GROUPS,
           PER_GROUP, HERD_STATS_REPLICATES, REPS);
    run("p99", HERD_STATS_QUANTILE, 0.99, groups);
    run("median", HERD_STATS_QUANTILE, 0.5, groups);
    run("mean", HERD_STATS_MEAN, 0, groups);

    size_t n = 1000000;
    double *big = malloc(n * sizeof *big), wall[REPS], cpu[REPS];
    bench_check(big ? 0 : -1, "malloc");
    struct herd_stats_interval iv = {0};
    for (int rep = 0; rep < REPS; rep++) {
        for (size_t i = 0; i < n; i++)
            big[i] = herd_rng_exp(&rng, 1.0);
        double w0 = bench_now_s(), c0 = bench_cpu_s();
        iv = herd_stats_quantile_ci(big, n, 0.99, HERD_STATS_CONF);
        wall[rep] = bench_now_s() - w0;
        cpu[rep] = bench_cpu_s() - c0;
    }
    printf("order-statistic p99 of %zu samples (sort included): %.3f s wall %.3f s cpu, "
           "%.4g (%.4g-%.4g)\n",
           n, bench_median(wall, REPS), bench_median(cpu, REPS), iv.point, iv.lo, iv.hi);
    free(big);
    return 0;
}
