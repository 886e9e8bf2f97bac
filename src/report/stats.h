/* stats.h — confidence intervals for the figures a live herd reports.
 *
 * A live herd runs on a noisy, shared 2-core machine, so every figure it prints carries
 * an interval, says when it rests on too few samples, and two figures are called
 * different only when their intervals do not overlap. This module computes those:
 *
 *   - quantiles of a sample (Hyndman and Fan's type 7, the default of R and numpy);
 *   - the distribution-free interval for a quantile from two order statistics, whose
 *     coverage is a binomial sum (exact for any continuous distribution, conservative for
 *     a discrete one);
 *   - a cluster bootstrap for samples grouped by run (runs differ from one another more
 *     than the events of one run do, and only resampling whole runs sees that);
 *   - the verdict on two intervals, their ratio, and its text for a report.
 *
 * Invariants: no function returns NaN. An interval that could not be bounded on a side
 * has -INFINITY or +INFINITY there (never the sample's min or max dressed as a bound), and
 * then .enough_samples is false; an empty sample gives point 0 with both sides open.
 * Input values must be finite (asserted). Pure computation: no I/O, no globals, no clock;
 * the bootstrap draws from the caller's struct herd_rng, so a seed fixes its result.
 * Cost: a quantile sorts (n log n); an order-statistic interval adds O(sqrt(n) log n)
 * for its binomial tails; the bootstrap is O(B * total samples), about 2 ns a sample a
 * replicate (0.2 s for 10 runs x 10,000 samples x 1,000 replicates; measured in stats.c).
 * Thread safety: everything is reentrant (lgamma_r, not lgamma); a struct herd_rng is one
 * caller's.
 */
#ifndef HERD_REPORT_STATS_H
#define HERD_REPORT_STATS_H

#include <herd/alloc.h>
#include <herd/rng.h>

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define HERD_STATS_CONF 0.95       /* the confidence level every report uses */
#define HERD_STATS_REPLICATES 1000 /* bootstrap replicates when none are given */

/* A point estimate with its confidence interval. */
struct herd_stats_interval {
    double point;        /* the estimate from the whole sample; 0 when n == 0 */
    double lo, hi;       /* lo <= point <= hi; -INFINITY / +INFINITY: open on that side */
    double conf;         /* the coverage asked for (e.g. 0.95) */
    double coverage;     /* the coverage achieved: the exact binomial probability for an
                          * order-statistic interval (>= conf, or 1 - the open side's
                          * miss), conf itself for a bootstrap */
    size_t n;            /* samples the estimate rests on (all groups for a bootstrap) */
    bool enough_samples; /* both sides bounded at conf: false says "too few samples"
                          * (p99 needs n >= 299 at 95 %; below it p99 is near the max) */
};

/* Ranks (1-based) of the order statistics X(lo) <= X(hi) bounding a quantile. */
struct herd_stats_ranks {
    size_t lo;       /* 0: open below (no rank is low enough at this n) */
    size_t hi;       /* n + 1: open above */
    double coverage; /* P(X(lo) <= xi_q <= X(hi)) for a continuous distribution */
};

/* The statistic a bootstrap computes on each replicate (the median is a quantile 0.5). */
enum herd_stats_stat {
    HERD_STATS_QUANTILE, /* the type-7 quantile .q of the pooled replicate */
    HERD_STATS_MEAN,     /* the mean of the pooled replicate */
};

/* One group of samples (one run of a live herd), borrowed for the call. */
struct herd_stats_group {
    const double *x; /* n finite values, any order; not modified */
    size_t n;        /* 0: the group is left out (it has nothing to resample) */
};

/* What a cluster bootstrap computes, and with what. */
struct herd_stats_bootstrap {
    enum herd_stats_stat stat;
    double q;                           /* for HERD_STATS_QUANTILE, in [0, 1] */
    double conf;                        /* 0: HERD_STATS_CONF */
    unsigned replicates;                /* B; 0: HERD_STATS_REPLICATES */
    const struct herd_allocator *alloc; /* NULL: the C library's realloc/free */
};

/* The verdict on two figures A and B from their intervals. */
enum herd_stats_verdict {
    HERD_STATS_SAME,    /* the intervals overlap (or touch): no difference measured */
    HERD_STATS_SMALLER, /* A.hi < B.lo: A is smaller */
    HERD_STATS_LARGER,  /* A.lo > B.hi: A is larger */
};

struct herd_stats_comparison {
    enum herd_stats_verdict verdict;
    double ratio, lo, hi; /* A / B and its conservative interval [A.lo/B.hi, A.hi/B.lo],
                           * for non-negative figures: in [0, +INFINITY], never NaN */
};

/* How herd_stats_format_comparison() writes the multiplication sign and infinity. */
enum herd_stats_charset {
    HERD_STATS_ASCII, /* "12.3x (8.10-19.0)", "inf" */
    HERD_STATS_UTF8,  /* "12.3× (8.10-19.0)", "∞" */
};

/** Sort @p x (n finite values, asserted) ascending, in place. */
void herd_stats_sort(double *x, size_t n);

/**
 * The q-quantile of @p sorted (ascending) by linear interpolation between order statistics,
 * Hyndman and Fan's type 7 (R's and numpy's default): h = (n - 1) q, then x[floor(h)] plus
 * the fraction of h times the step to the next. q = 0 is the min, q = 1 the max. 0 when n == 0.
 */
double herd_stats_quantile_sorted(const double *sorted, size_t n, double q);

/** herd_stats_quantile_sorted() of @p x, which it sorts in place first. */
double herd_stats_quantile(double *x, size_t n, double q);

/** The mean of @p x (finite values); 0 when n == 0. */
double herd_stats_mean(const double *x, size_t n);

/**
 * P(B <= k) for B ~ Binomial(n, p), p in [0, 1]. Summed exactly from the tail nearer k, each
 * term from the next by the pmf's ratio, the first from lgamma_r in log space: no normal
 * approximation at any n, O(sqrt(n p (1 - p))) terms, relative error about 1e-9 at n = 10^6.
 */
double herd_stats_binom_cdf(uint64_t n, double p, uint64_t k);

/** P(B >= k) for B ~ Binomial(n, p), computed as herd_stats_binom_cdf() is. */
double herd_stats_binom_sf(uint64_t n, double p, uint64_t k);

/**
 * The order-statistic ranks of a distribution-free interval for the q-quantile (q in [0, 1])
 * at @p conf (in (0, 1)) from @p n samples: the standard binomial interval (Hahn and Meeker,
 * "Statistical Intervals", 1991, ch. 5; Conover, "Practical Nonparametric Statistics", 3rd
 * ed., §3.2). Each side may miss with probability at most (1 - conf) / 2; when the extreme
 * rank on one side misses more than that, that side takes the extreme rank and the other
 * side gets what is left. When not even [X(1), X(n)] reaches conf, the side nearer the
 * quantile's tail is left open (above for q >= 0.5) and the other gets all of 1 - conf.
 */
struct herd_stats_ranks herd_stats_quantile_ranks(size_t n, double q, double conf);

/**
 * The fewest samples whose order statistics bound the q-quantile on both sides at @p conf
 * (herd_stats_quantile_ranks() gives both ranks from there on): 299 for a p99 at 95 %, 59
 * for a p95, 6 for a median. 0 for q = 0 or 1, whose side beyond the sample is always
 * open. Cost: O(log of the answer) calls of herd_stats_quantile_ranks().
 */
size_t herd_stats_min_samples(double q, double conf);

/**
 * The q-quantile of @p sorted (ascending) with its distribution-free interval at @p conf:
 * the point by type 7, the bounds by herd_stats_quantile_ranks(), widened if needed to
 * contain the point (type 7 may interpolate past a one-sided bound: q = 0.001, n = 10 gives
 * (-inf, X(1)] and a point just above X(1)). At q = 0 or 1 the side beyond the sample is
 * always open. .enough_samples: both ranks exist.
 */
struct herd_stats_interval herd_stats_quantile_ci_sorted(const double *sorted, size_t n, double q,
                                                         double conf);

/** herd_stats_quantile_ci_sorted() of @p x, which it sorts in place first. */
struct herd_stats_interval herd_stats_quantile_ci(double *x, size_t n, double q, double conf);

/** The median of per-event or per-run values with its interval; sorts @p x in place. */
struct herd_stats_interval herd_stats_median_ci(double *x, size_t n, double conf);

/**
 * A cluster (two-stage) bootstrap interval for a statistic of samples grouped by run. Each
 * of the B replicates draws as many groups as there are, with replacement, then from each
 * drawn group as many samples as it has, with replacement, and computes the statistic of
 * the pooled draws; the interval is the replicates' (1 - conf)/2 and (1 + conf)/2 type-7
 * quantiles (percentile method), widened if needed to contain the point, which is the
 * statistic of all samples pooled. One group makes it the plain bootstrap. What it covers
 * depends on how much the runs differ (tests/unit/test_stats.c, 95 % asked): when the runs
 * agree, resampling within a run counts the within-run noise a second time and the interval
 * is up to sqrt(2) too wide (99 % covered, 5 runs); when the runs differ, G runs show only
 * (G - 1) / G of their spread and a t-sized tail is cut to a normal one (85 % covered with 5
 * runs, 92 % with 10). With 3-5 runs that differ, then, a 95 % interval is nearer an 85 %
 * one; comparing two figures by the overlap of their intervals, stricter than 95 %, makes up
 * part of that.
 * .enough_samples is false when the pooled count is too small for
 * herd_stats_quantile_ranks() to bound the quantile on both sides (a resample never
 * exceeds the sample's max), with fewer than 2 samples for the mean, or when B leaves no
 * replicate beyond a percentile.
 * @p groups is borrowed for the call; @p rng is advanced. Memory: 32 bytes a sample at
 * peak and 8 a replicate, through cfg->alloc, freed before returning.
 * @return 0 with @p *out written (no samples at all: point 0, both sides open), or
 *         -HERD_ENOMEM (then @p *out is not written).
 */
int herd_stats_bootstrap_ci(const struct herd_stats_bootstrap *cfg,
                            const struct herd_stats_group *groups, size_t ngroups,
                            struct herd_rng *rng, struct herd_stats_interval *out);

/**
 * herd_stats_bootstrap_ci() of the @p nq quantiles @p q[0 .. nq - 1] (each in [0, 1]) from
 * the same replicates: each replicate draws once and every quantile is read off its draws,
 * so four percentiles cost one bootstrap's draws and one sort of the samples, not four.
 * cfg->stat must be HERD_STATS_QUANTILE; cfg->q is not read. @p out[k] is the interval of
 * q[k], as herd_stats_bootstrap_ci() would give it alone; with nq = 1 it is that call
 * exactly (the same draws from @p rng, the same bounds). Memory: as that call's, but 8
 * bytes a replicate per quantile.
 * @return 0 with @p out[0 .. nq - 1] written, or -HERD_ENOMEM (nothing written).
 */
int herd_stats_bootstrap_quantiles(const struct herd_stats_bootstrap *cfg, const double *q,
                                   size_t nq, const struct herd_stats_group *groups,
                                   size_t ngroups, struct herd_rng *rng,
                                   struct herd_stats_interval *out);

/**
 * The verdict on figures A and B (e.g. naive and mitigated p99) and the interval of A / B.
 * Overlapping or touching intervals, or an empty one (n == 0), give HERD_STATS_SAME. Two
 * 95 % intervals that do not overlap differ at well beyond 95 %: the test is conservative.
 * It reads only the bounds (an open side is unbounded), not .enough_samples: a report still
 * says "too few samples" beside a flagged figure.
 * The ratio treats the figures as non-negative: a negative or open lower bound counts as 0,
 * a division by a zero bound gives +INFINITY (0 / 0 in the point gives 1), never NaN.
 */
struct herd_stats_comparison herd_stats_compare(const struct herd_stats_interval *a,
                                                const struct herd_stats_interval *b);

/**
 * Write @p c as report text into @p buf (@p len bytes, NUL-terminated): "no difference
 * measured", or the ratio A / B and its interval with 3 significant figures,
 * "12.3x (8.10-19.0)", "0.0812x (0.0500-0.120)", "4.00x (2.50-inf)".
 * @return the length written (without the NUL), or -HERD_ELIMIT when it did not fit
 *         (@p buf then holds as much as fitted, terminated, if len > 0).
 */
int herd_stats_format_comparison(char *buf, size_t len, const struct herd_stats_comparison *c,
                                 enum herd_stats_charset cs);

/**
 * The ratio of @p c as herd_stats_format_comparison() writes it, whatever the verdict (for
 * a reader who judges the ratio itself, as herd fidelity judges sim/live against [1/2, 2]):
 * "1.28x (1.24-1.29)", or with @p interval false the ratio alone, "1.28x". @return as
 * herd_stats_format_comparison().
 */
int herd_stats_format_ratio(char *buf, size_t len, const struct herd_stats_comparison *c,
                            bool interval, enum herd_stats_charset cs);

#endif
