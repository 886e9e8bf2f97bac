/* zipf.h — Zipf(s) ranks over {1..n} for the hot-key test and benchmark, in O(1) per draw
 * with no table: rejection-inversion (W. Hörmann and G. Derflinger, "Rejection-inversion
 * to generate variates from monotone discrete distributions", ACM TOMACS 6(3), 1996).
 * The hat is the integral of x^-s; a draw inverts it at a uniform point and accepts the
 * rounded rank when it lies under the hat's step (about 1.1 tries per draw at s = 1.1).
 * Header-only for tests/ and bench/; a draw costs a pow() or two and a log().
 */
#ifndef HERD_TESTS_ZIPF_H
#define HERD_TESTS_ZIPF_H

#include <herd/rng.h>
#include <math.h>
#include <stdint.h>

struct zipf {
    double s, n;
    double h_x1, h_n, thr; /* H(1.5) - 1, H(n + 0.5), the squeeze threshold */
};

/* H(x) = (x^(1-s) - 1) / (1 - s), the integral of t^-s from 1 to x (log x at s = 1). */
static inline double zipf_H(const struct zipf *z, double x)
{
    double q = 1.0 - z->s;
    return fabs(q) < 1e-12 ? log(x) : (pow(x, q) - 1.0) / q;
}

static inline double zipf_Hinv(const struct zipf *z, double y)
{
    double q = 1.0 - z->s;
    return fabs(q) < 1e-12 ? exp(y) : pow(1.0 + q * y, 1.0 / q);
}

static inline void zipf_init(struct zipf *z, uint64_t n, double s)
{
    z->s = s;
    z->n = (double)n;
    z->h_x1 = zipf_H(z, 1.5) - 1.0;
    z->h_n = zipf_H(z, z->n + 0.5);
    z->thr = 2.0 - zipf_Hinv(z, zipf_H(z, 2.5) - pow(2.0, -s));
}

/* A rank in [1, n]; rank r has probability r^-s / sum_i i^-s. */
static inline uint64_t zipf_draw(const struct zipf *z, struct herd_rng *rng)
{
    for (;;) {
        double u = z->h_n + herd_rng_uniform(rng) * (z->h_x1 - z->h_n);
        double x = zipf_Hinv(z, u);
        double k = floor(x + 0.5);
        if (k < 1)
            k = 1;
        if (k > z->n)
            k = z->n;
        if (k - x <= z->thr || u >= zipf_H(z, k + 0.5) - pow(k, -z->s))
            return (uint64_t)k;
    }
}

#endif
