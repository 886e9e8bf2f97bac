/* stats.c — quantiles, order-statistic and cluster-bootstrap intervals, comparisons; see
 * stats.h for what each promises.
 *
 * Binomial tails are summed in double precision from the first term (taken from lgamma_r in
 * log space, so it neither overflows nor loses the tail to 0 early) outward, each term from
 * the previous by the pmf's ratio, until a term no longer changes the sum. Summing the tail
 * on the far side of the mean, and taking the complement otherwise, keeps every sum one of
 * decreasing terms: about 9 standard deviations of them, 900 at n = 10^6 and p = 0.99, 4,500
 * at p = 0.5. No normal approximation is needed at any n, so there is no switch to place.
 *
 * The bootstrap sorts the pooled samples once and gives every sample its rank; a replicate
 * then counts how often it drew each rank and reads its quantile off the counts from the
 * nearer end, so no replicate sorts. Its cost is the draws: one 32-bit half of a
 * herd_rng_u64() per sample (Lemire's multiply-shift, rejection kept, so unbiased) and one
 * count increment. Measured with bench/bench_stats.c (-O2, debugoptimized, on this project's
 * shared 2-core VM, CPU time, median of 5): 10 groups x 10,000 samples x 1,000 replicates
 * take 0.21-0.23 s for the p99 or the median and 0.17 s for the mean, about 2 ns a sample a
 * replicate; a replicate's count array (4 bytes a sample, 400 KB here) is cleared each time.
 */
#include "stats.h"

#include <herd/error.h>

#include <assert.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../lib/alloc_int.h" /* libherd's allocator helpers (header-only) */
#include "stats_int.h"

/* ---- sorting and quantiles --------------------------------------------------------- */

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

void herd_stats_sort(double *x, size_t n)
{
    for (size_t i = 0; i < n; i++)
        assert(isfinite(x[i]));
    if (n > 1)
        qsort(x, n, sizeof *x, cmp_double);
}

/* a + f (b - a) for a <= b and f in [0, 1), kept within [a, b] against rounding. */
static double interpolate(double a, double b, double f)
{
    if (f == 0 || a == b)
        return a;
    double v = a + f * (b - a);
    return v < a ? a : v > b ? b : v;
}

/* Type 7's split of rank h = (n - 1) q into its floor and fraction. */
static void type7_rank(size_t n, double q, size_t *k, double *f)
{
    double h = (double)(n - 1) * q;
    *k = (size_t)h;
    *f = h - (double)*k;
    if (*k >= n - 1) { /* q = 1, or rounding at the top */
        *k = n - 1;
        *f = 0;
    }
}

double herd_stats_quantile_sorted(const double *sorted, size_t n, double q)
{
    assert(q >= 0 && q <= 1);
    if (n == 0)
        return 0;
    size_t k;
    double f;
    type7_rank(n, q, &k, &f);
    return f == 0 ? sorted[k] : interpolate(sorted[k], sorted[k + 1], f);
}

double herd_stats_quantile(double *x, size_t n, double q)
{
    herd_stats_sort(x, n);
    return herd_stats_quantile_sorted(x, n, q);
}

double herd_stats_mean(const double *x, size_t n)
{
    if (n == 0)
        return 0;
    double s = 0;
    for (size_t i = 0; i < n; i++) {
        assert(isfinite(x[i]));
        s += x[i];
    }
    return s / (double)n;
}

/* ---- binomial tails -------------------------------------------------------------------- */

/* A term this small against the sum no longer changes a double. */
#define TAIL_EPS 0x1p-60

static double log_pmf(uint64_t n, double p, uint64_t k)
{
    int sign; /* lgamma_r: lgamma writes the global signgam */
    double c = lgamma_r((double)n + 1, &sign) - lgamma_r((double)k + 1, &sign) -
               lgamma_r((double)(n - k) + 1, &sign);
    return c + (double)k * log(p) + (double)(n - k) * log1p(-p);
}

/* P(B <= k) for k <= n p, 0 < p < 1: terms fall going down from k. */
static double lower_tail(uint64_t n, double p, uint64_t k)
{
    double t = exp(log_pmf(n, p, k)), s = t, r = (1 - p) / p;
    for (uint64_t j = k; j > 0 && t > s * TAIL_EPS; j--) {
        t *= (double)j / (double)(n - j + 1) * r; /* pmf(j - 1) from pmf(j) */
        s += t;
    }
    return s;
}

/* P(B >= m) for m >= n p, 0 < p < 1: terms fall going up from m. */
static double upper_tail(uint64_t n, double p, uint64_t m)
{
    double t = exp(log_pmf(n, p, m)), s = t, r = p / (1 - p);
    for (uint64_t j = m; j < n && t > s * TAIL_EPS; j++) {
        t *= (double)(n - j) / (double)(j + 1) * r; /* pmf(j + 1) from pmf(j) */
        s += t;
    }
    return s;
}

static double unit(double x)
{
    return x < 0 ? 0 : x > 1 ? 1 : x;
}

double herd_stats_binom_cdf(uint64_t n, double p, uint64_t k)
{
    assert(p >= 0 && p <= 1);
    if (k >= n || p == 0)
        return 1;
    if (p == 1)
        return 0;
    if ((double)k <= (double)n * p)
        return unit(lower_tail(n, p, k));
    return unit(1 - upper_tail(n, p, k + 1));
}

double herd_stats_binom_sf(uint64_t n, double p, uint64_t k)
{
    assert(p >= 0 && p <= 1);
    if (k == 0 || p == 1)
        return k <= n ? 1 : 0;
    if (k > n || p == 0)
        return 0;
    if ((double)k >= (double)n * p)
        return unit(upper_tail(n, p, k));
    return unit(1 - lower_tail(n, p, k - 1));
}

/* ---- order-statistic intervals ---------------------------------------------------------
 * With B = #{X_i <= xi_q} ~ Binomial(n, q), X(l) > xi_q exactly when B <= l - 1, and
 * X(u) < xi_q exactly when B >= u (for a continuous distribution; for a discrete one ties
 * only make the interval cover more). So the lower bound X(l) misses with probability
 * cdf(l - 1), the upper X(u) with sf(u), and [X(l), X(u)] covers with 1 minus both
 * (Hahn and Meeker, "Statistical Intervals", 1991, ch. 5; Conover, "Practical Nonparametric
 * Statistics", 3rd ed., 1999, §3.2). */

/* Misses are compared with a budget 1e-9 larger than asked: a miss equal to its budget in
 * exact arithmetic (q = 0.99, conf = 0.99, n = 1: (1 - q)^n = 1 - conf) fits, as it should,
 * whichever way the last bit of each side rounds. It lets the coverage fall short of conf by
 * at most 1e-9 (1 - conf), the size of the tails' own rounding error at n = 10^6. */
#define BUDGET_SLACK (1 + 1e-9)

/* The largest l in [1, n] whose miss cdf(l - 1) is at most @p budget; 0 when none is. */
static size_t lower_rank(size_t n, double q, double budget)
{
    budget *= BUDGET_SLACK;
    size_t ok = 0, bad = n + 1; /* cdf(l - 1) rises with l: l = ok fits, l = bad does not */
    while (bad - ok > 1) {
        size_t mid = ok + (bad - ok) / 2;
        if (herd_stats_binom_cdf(n, q, mid - 1) <= budget)
            ok = mid;
        else
            bad = mid;
    }
    return ok;
}

/* The smallest u in [1, n] whose miss sf(u) is at most @p budget; n + 1 when none is. */
static size_t upper_rank(size_t n, double q, double budget)
{
    budget *= BUDGET_SLACK;
    size_t bad = 0, ok = n + 1; /* sf(u) falls as u rises */
    while (ok - bad > 1) {
        size_t mid = bad + (ok - bad) / 2;
        if (herd_stats_binom_sf(n, q, mid) <= budget)
            ok = mid;
        else
            bad = mid;
    }
    return ok;
}

struct herd_stats_ranks herd_stats_quantile_ranks(size_t n, double q, double conf)
{
    assert(q >= 0 && q <= 1);
    assert(conf > 0 && conf < 1);
    struct herd_stats_ranks r = {.lo = 0, .hi = n + 1, .coverage = 1};
    if (n == 0)
        return r;
    double alpha = 1 - conf, half = alpha / 2;
    double miss_min = herd_stats_binom_cdf(n, q, 0); /* X(1) above xi_q: (1 - q)^n */
    double miss_max = herd_stats_binom_sf(n, q, n);  /* X(n) below xi_q: q^n */
    if (n >= 2 && miss_min + miss_max <= alpha * BUDGET_SLACK) {
        /* Two-sided: equal tails when both extremes can afford half; otherwise the side
         * that cannot takes its extreme rank and leaves the rest to the other. */
        double lo_budget = half, hi_budget = half;
        if (miss_max > half) {
            hi_budget = miss_max;
            lo_budget = alpha - miss_max;
        } else if (miss_min > half) {
            lo_budget = miss_min;
            hi_budget = alpha - miss_min;
        }
        r.lo = lower_rank(n, q, lo_budget);
        r.hi = upper_rank(n, q, hi_budget);
        /* The extremes fit the budgets by the test above; rounding in alpha - miss must
         * not open a side that test closed. */
        if (r.lo == 0)
            r.lo = 1;
        if (r.hi > n)
            r.hi = n;
    } else if (q >= 0.5) {
        r.lo = lower_rank(n, q, alpha); /* open above: the lower bound takes all of alpha */
    } else {
        r.hi = upper_rank(n, q, alpha);
    }
    double miss_lo = r.lo ? herd_stats_binom_cdf(n, q, r.lo - 1) : 0;
    double miss_hi = r.hi <= n ? herd_stats_binom_sf(n, q, r.hi) : 0;
    r.coverage = unit(1 - miss_lo - miss_hi);
    return r;
}

/* Both sides of the q-quantile bounded by n samples. */
static bool bounded(size_t n, double q, double conf)
{
    struct herd_stats_ranks r = herd_stats_quantile_ranks(n, q, conf);
    return r.lo >= 1 && r.hi <= n;
}

size_t herd_stats_min_samples(double q, double conf)
{
    assert(q >= 0 && q <= 1);
    assert(conf > 0 && conf < 1);
    if (q <= 0 || q >= 1)
        return 0; /* the side beyond the sample stays open at any n */
    /* Bounded from some n on: both extremes' misses, (1 - q)^n and q^n, only fall as n
     * grows. Double until bounded, then halve the gap. */
    size_t hi = 2;
    while (!bounded(hi, q, conf)) {
        if (hi > SIZE_MAX / 4)
            return 0;
        hi *= 2;
    }
    size_t lo = hi / 2; /* not bounded (or 1, which never is) */
    while (hi - lo > 1) {
        size_t mid = lo + (hi - lo) / 2;
        if (bounded(mid, q, conf))
            hi = mid;
        else
            lo = mid;
    }
    return hi;
}

static struct herd_stats_interval empty_interval(double conf)
{
    return (struct herd_stats_interval){
        .point = 0, .lo = -INFINITY, .hi = INFINITY, .conf = conf, .coverage = 1, .n = 0};
}

struct herd_stats_interval herd_stats_quantile_ci_sorted(const double *sorted, size_t n, double q,
                                                         double conf)
{
    if (n == 0)
        return empty_interval(conf);
    struct herd_stats_ranks r = herd_stats_quantile_ranks(n, q, conf);
    struct herd_stats_interval iv = {
        .point = herd_stats_quantile_sorted(sorted, n, q),
        .lo = r.lo ? sorted[r.lo - 1] : -INFINITY,
        .hi = r.hi <= n ? sorted[r.hi - 1] : INFINITY,
        .conf = conf,
        .coverage = r.coverage,
        .n = n,
        .enough_samples = r.lo >= 1 && r.hi <= n,
    };
    iv.lo = fmin(iv.lo, iv.point);
    iv.hi = fmax(iv.hi, iv.point);
    return iv;
}

struct herd_stats_interval herd_stats_quantile_ci(double *x, size_t n, double q, double conf)
{
    herd_stats_sort(x, n);
    return herd_stats_quantile_ci_sorted(x, n, q, conf);
}

struct herd_stats_interval herd_stats_median_ci(double *x, size_t n, double conf)
{
    return herd_stats_quantile_ci(x, n, 0.5, conf);
}

/* ---- cluster bootstrap ----------------------------------------------------------------- */

/* 32-bit uniform draws, two from each herd_rng_u64(). */
struct draws {
    struct herd_rng *rng;
    uint64_t bits;
    int left;
};

/* Uniform in [0, bound), 0 < bound < 2^32: Lemire's multiply-shift with its rejection step,
 * so unbiased (as herd_rng_below(), at half the generator calls). */
static inline uint32_t below32(struct draws *d, uint32_t bound)
{
    for (;;) {
        if (d->left == 0) {
            d->bits = herd_rng_u64(d->rng);
            d->left = 2;
        }
        uint64_t m = (uint64_t)(uint32_t)d->bits * bound;
        d->bits >>= 32;
        d->left--;
        uint32_t low = (uint32_t)m;
        if (low >= bound || low >= (uint32_t)-bound % bound)
            return (uint32_t)(m >> 32);
    }
}

struct ranked {
    double v;
    uint32_t src; /* position in the groups laid end to end */
};

static int cmp_ranked(const void *a, const void *b)
{
    const struct ranked *x = a, *y = b;
    if (x->v != y->v)
        return (x->v > y->v) - (x->v < y->v);
    return (x->src > y->src) - (x->src < y->src); /* ties in a fixed order */
}

/* Scans from the end nearer the quantile: a p99 looks at 1 % of the counts. */
double herd__stats_count_quantile(const uint32_t *cnt, const double *val, size_t n, uint64_t m,
                                  double q)
{
    assert(m >= 1 && n >= 1);
    size_t k;
    double f;
    type7_rank((size_t)m, q, &k, &f);
    double a, b;
    if (q <= 0.5) {
        uint64_t below = 0; /* values before position i */
        size_t i = 0;
        while (below + cnt[i] <= k)
            below += cnt[i++];
        a = val[i];
        if (f == 0)
            return a;
        if (below + cnt[i] <= k + 1)
            while (cnt[++i] == 0)
                ;
        b = val[i];
    } else {
        /* From the top: rank k + 1 is the (m - 2 - k)-th from the top (0-based), rank k
         * the one after it. With f == 0 only rank k is needed. */
        uint64_t want = f == 0 ? m - 1 - k : m - 2 - k, above = 0;
        size_t i = n - 1;
        while (above + cnt[i] <= want)
            above += cnt[i--];
        b = val[i];
        if (f == 0)
            return b;
        if (above + cnt[i] <= want + 1)
            while (cnt[--i] == 0)
                ;
        a = val[i];
    }
    return interpolate(a, b, f);
}

/* The cluster bootstrap of cfg->stat, or of the @p nq quantiles @p qs read off the same
 * replicates (one draw of each replicate, its counts read once per quantile): what
 * herd_stats_bootstrap_ci (nq = 1) and herd_stats_bootstrap_quantiles share. */
static int bootstrap(const struct herd_stats_bootstrap *cfg, const double *qs, size_t nq,
                     const struct herd_stats_group *groups, size_t ngroups, struct herd_rng *rng,
                     struct herd_stats_interval *out)
{
    assert(cfg && rng && out && (groups || ngroups == 0) && nq >= 1);
    assert(cfg->stat == HERD_STATS_QUANTILE || cfg->stat == HERD_STATS_MEAN);
    bool quantile = cfg->stat == HERD_STATS_QUANTILE;
    for (size_t k = 0; quantile && k < nq; k++)
        assert(qs[k] >= 0 && qs[k] <= 1);
    const struct herd_allocator *al = cfg->alloc;
    double conf = cfg->conf > 0 ? cfg->conf : HERD_STATS_CONF;
    size_t nrep = cfg->replicates ? cfg->replicates : HERD_STATS_REPLICATES;
    assert(conf < 1);

    size_t total = 0, g = 0; /* samples, and groups that have any */
    for (size_t i = 0; i < ngroups; i++) {
        assert(groups[i].x || groups[i].n == 0);
        total += groups[i].n;
        g += groups[i].n > 0;
    }
    if (total == 0) {
        for (size_t k = 0; k < nq; k++)
            out[k] = empty_interval(conf);
        return 0;
    }
    assert(total < UINT32_MAX); /* ranks and within-group draws are 32-bit */

    /* The quantile ranks every sample in the pooled order; the mean needs no order and
     * reads val in the groups' own. */
    int rc = -HERD_ENOMEM;
    struct ranked *pairs = quantile ? herd__calloc(al, total, sizeof *pairs) : NULL;
    uint32_t *rank = quantile ? herd__calloc(al, total, sizeof *rank) : NULL; /* in val */
    uint32_t *cnt = quantile ? herd__calloc(al, total, sizeof *cnt) : NULL;   /* zeroed */
    double *val = herd__calloc(al, total, sizeof *val);
    uint32_t *off = herd__calloc(al, 2 * g, sizeof *off); /* each group's first sample, size */
    double *rep = herd__calloc(al, nrep * nq, sizeof *rep); /* quantile k's at rep + k nrep */
    if ((quantile && (!pairs || !rank || !cnt)) || !val || !off || !rep)
        goto done;

    size_t at = 0, gi = 0;
    for (size_t i = 0; i < ngroups; i++) {
        if (groups[i].n == 0)
            continue;
        off[2 * gi] = (uint32_t)at;
        off[2 * gi + 1] = (uint32_t)groups[i].n;
        gi++;
        for (size_t j = 0; j < groups[i].n; j++, at++) {
            assert(isfinite(groups[i].x[j]));
            val[at] = groups[i].x[j];
            if (quantile)
                pairs[at] = (struct ranked){.v = val[at], .src = (uint32_t)at};
        }
    }
    if (quantile) {
        qsort(pairs, total, sizeof *pairs, cmp_ranked);
        for (size_t i = 0; i < total; i++) {
            val[i] = pairs[i].v;
            rank[pairs[i].src] = (uint32_t)i;
        }
        herd__free(al, pairs);
        pairs = NULL;
    }

    struct draws d = {.rng = rng};
    for (size_t b = 0; b < nrep; b++) {
        uint64_t m = 0;
        double sum = 0;
        for (size_t i = 0; i < g; i++) {
            uint32_t pick = below32(&d, (uint32_t)g);
            uint32_t first = off[2 * pick], n = off[2 * pick + 1];
            if (quantile) {
                const uint32_t *r = rank + first;
                for (uint32_t j = 0; j < n; j++)
                    cnt[r[below32(&d, n)]]++;
            } else {
                const double *v = val + first; /* two sums halve the chain of adds */
                double s0 = 0, s1 = 0;
                uint32_t j = 0;
                for (; j + 1 < n; j += 2) {
                    s0 += v[below32(&d, n)];
                    s1 += v[below32(&d, n)];
                }
                if (j < n)
                    s0 += v[below32(&d, n)];
                sum += s0 + s1;
            }
            m += n;
        }
        if (quantile) {
            for (size_t k = 0; k < nq; k++)
                rep[k * nrep + b] = herd__stats_count_quantile(cnt, val, total, m, qs[k]);
            memset(cnt, 0, total * sizeof *cnt);
        } else {
            rep[b] = sum / (double)m;
        }
    }

    double alpha = 1 - conf;
    for (size_t k = 0; k < nq; k++) {
        double *rk = rep + k * nrep;
        double point = quantile ? herd_stats_quantile_sorted(val, total, qs[k])
                                : herd_stats_mean(val, total);
        qsort(rk, nrep, sizeof *rk, cmp_double);
        bool enough;
        if (quantile) {
            struct herd_stats_ranks r = herd_stats_quantile_ranks(total, qs[k], conf);
            enough = r.lo >= 1 && r.hi <= total;
        } else {
            enough = total >= 2;
        }
        /* At least one replicate strictly beyond each percentile's rank. */
        enough = enough && (double)(nrep - 1) * alpha / 2 >= 1;
        out[k] = (struct herd_stats_interval){
            .point = point,
            .lo = fmin(herd_stats_quantile_sorted(rk, nrep, alpha / 2), point),
            .hi = fmax(herd_stats_quantile_sorted(rk, nrep, 1 - alpha / 2), point),
            .conf = conf,
            .coverage = conf,
            .n = total,
            .enough_samples = enough,
        };
    }
    rc = 0;
done:
    herd__free(al, rep);
    herd__free(al, cnt);
    herd__free(al, off);
    herd__free(al, rank);
    herd__free(al, val);
    herd__free(al, pairs);
    return rc;
}

int herd_stats_bootstrap_ci(const struct herd_stats_bootstrap *cfg,
                            const struct herd_stats_group *groups, size_t ngroups,
                            struct herd_rng *rng, struct herd_stats_interval *out)
{
    assert(cfg);
    return bootstrap(cfg, &cfg->q, 1, groups, ngroups, rng, out);
}

int herd_stats_bootstrap_quantiles(const struct herd_stats_bootstrap *cfg, const double *q,
                                   size_t nq, const struct herd_stats_group *groups,
                                   size_t ngroups, struct herd_rng *rng,
                                   struct herd_stats_interval *out)
{
    assert(cfg && cfg->stat == HERD_STATS_QUANTILE && q);
    if (nq == 0)
        return 0;
    return bootstrap(cfg, q, nq, groups, ngroups, rng, out);
}

/* ---- comparison and its text ----------------------------------------------------------- */

static double nonneg(double x)
{
    return x > 0 ? x : 0; /* also -INFINITY -> 0 */
}

/* A lower bound of x / y from a lower bound x and an upper bound y, both >= 0. */
static double ratio_lo(double x, double y)
{
    if (x == 0 || isinf(y))
        return 0;
    return y == 0 ? INFINITY : x / y;
}

/* An upper bound of x / y from an upper bound x and a lower bound y, both >= 0. */
static double ratio_hi(double x, double y)
{
    if (y == 0 || isinf(x))
        return INFINITY;
    return isinf(y) ? 0 : x / y;
}

struct herd_stats_comparison herd_stats_compare(const struct herd_stats_interval *a,
                                                const struct herd_stats_interval *b)
{
    struct herd_stats_comparison c = {.verdict = HERD_STATS_SAME};
    if (a->n > 0 && b->n > 0) {
        if (a->hi < b->lo)
            c.verdict = HERD_STATS_SMALLER;
        else if (a->lo > b->hi)
            c.verdict = HERD_STATS_LARGER;
    }
    double pa = nonneg(a->point), pb = nonneg(b->point);
    c.lo = ratio_lo(nonneg(a->lo), nonneg(b->hi));
    c.hi = ratio_hi(nonneg(a->hi), nonneg(b->lo));
    c.ratio = pb > 0 ? pa / pb : pa > 0 ? INFINITY : 1;
    c.ratio = fmax(c.lo, fmin(c.ratio, c.hi)); /* rounding, and 0 / 0 := 1 */
    return c;
}

/* @p v >= 0 with 3 significant figures, fixed notation from 0.001 to 999,999. */
static void format_number(char *buf, size_t len, double v, enum herd_stats_charset cs)
{
    if (isinf(v)) {
        snprintf(buf, len, "%s", cs == HERD_STATS_UTF8 ? "\xe2\x88\x9e" : "inf");
        return;
    }
    if (v == 0) {
        snprintf(buf, len, "0");
        return;
    }
    /* %.2e rounds to 3 figures first, so 9.996 gets the exponent of 10.0, not of 9.99. */
    char e[32];
    snprintf(e, sizeof e, "%.2e", v);
    int exp10 = atoi(strchr(e, 'e') + 1);
    if (exp10 < -3 || exp10 > 5)
        snprintf(buf, len, "%s", e);
    else
        snprintf(buf, len, "%.*f", exp10 >= 2 ? 0 : 2 - exp10, v);
}

int herd_stats_format_ratio(char *buf, size_t len, const struct herd_stats_comparison *c,
                            bool interval, enum herd_stats_charset cs)
{
    char r[32], lo[32], hi[32];
    const char *times = cs == HERD_STATS_UTF8 ? "\xc3\x97" : "x";
    int w;
    format_number(r, sizeof r, c->ratio, cs);
    format_number(lo, sizeof lo, c->lo, cs);
    format_number(hi, sizeof hi, c->hi, cs);
    if (!interval)
        w = snprintf(buf, len, "%s%s", r, times);
    /* Something against a certain nothing: the interval (inf-inf) or (0-0) says less than
     * the two sides do. */
    else if (isinf(c->lo))
        w = snprintf(buf, len, "%s%s (>0 vs 0)", r, times);
    else if (c->hi == 0)
        w = snprintf(buf, len, "0%s (0 vs >0)", times);
    else
        w = snprintf(buf, len, "%s%s (%s-%s)", r, times, lo, hi);
    if (w < 0 || (size_t)w >= len)
        return -HERD_ELIMIT;
    return w;
}

int herd_stats_format_comparison(char *buf, size_t len, const struct herd_stats_comparison *c,
                                 enum herd_stats_charset cs)
{
    if (c->verdict != HERD_STATS_SAME)
        return herd_stats_format_ratio(buf, len, c, true, cs);
    int w = snprintf(buf, len, "no difference measured");
    if (w < 0 || (size_t)w >= len)
        return -HERD_ELIMIT;
    return w;
}
