/* intervals.c — a report's figures with their 95 % intervals (report.h).
 *
 * Two sources of uncertainty, and the interval covers both (the union of two intervals,
 * conservative by design: stats.h measured a cluster bootstrap of 3-5 differing runs at
 * about 85 % coverage when asked for 95 %, and an order-statistic interval ignores the
 * run-to-run spread altogether):
 *   - sampling: a distribution-free order-statistic interval over all samples pooled
 *     (per-event figures: every event of every run; latency: the pooled histogram, read at
 *     the ranks herd_stats_quantile_ranks gives, to its bucket resolution of 0.8 %);
 *   - run to run, for an aggregate of R >= 2 runs: a cluster bootstrap over the runs (each
 *     run's events; each run's histogram, as up to LAT_POINTS of its quantiles).
 * A percentile with too few samples to be bounded above (p99 of fewer than 299 samples,
 * the max of what was seen) is flagged enough_samples = false and its interval is open
 * on that side: a writer says so instead of printing a confident figure.
 * Deterministic: the bootstrap's rng is seeded from the run's seed.
 * Cost: per figure a sort of the per-event values (events of all runs), a histogram scan,
 * and with R >= 2 a bootstrap of B = 1000 replicates: one per per-event median, and one over
 * R x LAT_POINTS points for the four latency percentiles together (each replicate's draws
 * read four times; about 2 ns a point a replicate: 30 ms for 3 runs).
 */
#include "report.h"

#include <herd/error.h>
#include <herd/rng.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "stats.h"

/* Points a run's latency histogram becomes for the bootstrap: its quantiles at
 * (i + 0.5) / m, so a run of millions of requests costs no more than one of thousands. */
#define LAT_POINTS 4000

const double herd_report_lat_q[HERD_LAT_CI] = {0.50, 0.90, 0.99, 0.999};

static void widen(struct herd_stats_interval *a, const struct herd_stats_interval *b)
{
    if (b->lo < a->lo)
        a->lo = b->lo;
    if (b->hi > a->hi)
        a->hi = b->hi;
}

/* The median of one per-event series: order statistics over every event pooled, widened
 * by a cluster bootstrap over the runs when there are several (every run: the groups are
 * views into the series, which the bootstrap only reads). */
static int event_ci(const struct herd_report *r, const double *v, struct herd_rng *rng,
                    struct herd_stats_interval *out)
{
    size_t n = r->nevents;
    double *x = malloc((n ? n : 1) * sizeof *x);
    if (!x)
        return -HERD_ENOMEM;
    memcpy(x, v, n * sizeof *x);
    *out = herd_stats_median_ci(x, n, HERD_STATS_CONF); /* sorts x */
    free(x);
    if (r->runs < 2 || n == 0)
        return 0;
    /* The events are stored run after run: one group per stretch of one run. */
    size_t ng = 1;
    for (size_t i = 1; i < n; i++)
        ng += r->ev.run[i] != r->ev.run[i - 1];
    struct herd_stats_group *g = malloc(ng * sizeof *g);
    if (!g)
        return -HERD_ENOMEM;
    for (size_t i = 0, k = 0; i < n; k++) {
        size_t j = i;
        while (j < n && r->ev.run[j] == r->ev.run[i])
            j++;
        g[k] = (struct herd_stats_group){v + i, j - i};
        i = j;
    }
    struct herd_stats_bootstrap cfg = {.stat = HERD_STATS_QUANTILE, .q = 0.5};
    struct herd_stats_interval b;
    int rc = herd_stats_bootstrap_ci(&cfg, g, ng, rng, &b);
    if (rc == 0)
        widen(out, &b);
    free(g);
    return rc;
}

/* Quantile @p q of @p h with its order-statistic interval (ranks from stats.c, values from
 * the histogram). The point is herd_hist_quantile's, every writer's figure. */
static struct herd_stats_interval hist_ci(const struct herd_hist *h, double q)
{
    struct herd_stats_interval ci = {.conf = HERD_STATS_CONF, .n = (size_t)h->count};
    struct herd_stats_ranks rk = herd_stats_quantile_ranks((size_t)h->count, q, HERD_STATS_CONF);
    ci.point = (double)herd_hist_quantile(h, q);
    ci.coverage = rk.coverage;
    ci.lo = rk.lo == 0 ? -INFINITY : (double)herd_hist_at_rank(h, rk.lo);
    ci.hi = rk.hi > (size_t)h->count ? INFINITY : (double)herd_hist_at_rank(h, rk.hi);
    ci.enough_samples = h->count > 0 && rk.lo > 0 && rk.hi <= (size_t)h->count;
    if (ci.lo > ci.point)
        ci.lo = ci.point;
    if (ci.hi < ci.point)
        ci.hi = ci.point;
    return ci;
}

/* Run @p h as LAT_POINTS (or fewer: its count) of its own quantiles into @p x, ascending:
 * the ranks only grow, so one walk over the buckets reads them all. */
static size_t hist_points(const struct herd_hist *h, double *x)
{
    size_t m = h->count < LAT_POINTS ? (size_t)h->count : LAT_POINTS;
    uint64_t seen = 0;
    int b = -1;
    for (size_t i = 0; i < m; i++) {
        /* rank <= count: the walk stops inside the histogram */
        uint64_t rank = (uint64_t)(((double)i + 0.5) / (double)m * (double)h->count) + 1;
        while (seen < rank)
            seen += h->counts[++b];
        x[i] = (double)herd_hist_bucket_value(h, b);
    }
    return m;
}

/* Every percentile of herd_report_lat_q: the order-statistic interval of the pooled
 * histogram, widened by one cluster bootstrap over the runs' points that reads all four
 * percentiles off each replicate. */
static int latency_ci(const struct herd_report *r, struct herd_rng *rng,
                      struct herd_stats_interval out[HERD_LAT_CI])
{
    for (int i = 0; i < HERD_LAT_CI; i++)
        out[i] = hist_ci(&r->latency, herd_report_lat_q[i]);
    if (r->nrun_hist < 2)
        return 0;
    double *x = malloc((size_t)r->nrun_hist * LAT_POINTS * sizeof *x);
    if (!x)
        return -HERD_ENOMEM;
    struct herd_stats_group g[HERD_REPORT_MAX_RUN_HISTS];
    for (int k = 0; k < r->nrun_hist; k++) {
        double *p = x + (size_t)k * LAT_POINTS;
        g[k] = (struct herd_stats_group){p, hist_points(&r->run_hist[k], p)};
    }
    struct herd_stats_bootstrap cfg = {.stat = HERD_STATS_QUANTILE};
    struct herd_stats_interval b[HERD_LAT_CI];
    int rc = herd_stats_bootstrap_quantiles(&cfg, herd_report_lat_q, HERD_LAT_CI, g,
                                            (size_t)r->nrun_hist, rng, b);
    if (rc == 0)
        for (int i = 0; i < HERD_LAT_CI; i++)
            widen(&out[i], &b[i]);
    free(x);
    return rc;
}

int herd_report_intervals(struct herd_report *r)
{
    struct herd_report_ci *ci = &r->ci;
    struct herd_rng rng;
    int rc;
    herd_rng_stream(&rng, r->run.seed, UINT64_C(0x696e74657276616c)); /* "interval" */
    memset(ci, 0, sizeof *ci);
    for (int i = 0; i < HERD_EV_CI; i++)
        if ((rc = event_ci(r, herd_report_ev_series(r, i), &rng, &ci->ev[i])) < 0)
            return rc;
    if ((rc = latency_ci(r, &rng, ci->lat)) < 0)
        return rc;
    ci->present = true;
    return 0;
}
