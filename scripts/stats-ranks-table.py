#!/usr/bin/env python3
"""The expected rows of tests/unit/test_stats.c's rank table, in exact rational arithmetic.

herd_stats_quantile_ranks() (src/report/stats.h) computed again with Python's fractions, so
the C code's binomial tails in double precision meet an answer with no rounding at all:
B ~ Binomial(n, q); the lower bound X(l) misses with P(B <= l - 1), the upper X(u) with
P(B >= u). Two-sided when [X(1), X(n)] covers at conf: equal tails of (1 - conf) / 2, except
that a side whose extreme rank misses more takes that rank and leaves the rest to the other.
Otherwise the side towards the quantile's tail (above for q >= 0.5) is open and the other
takes all of 1 - conf. Run: python3 scripts/stats-ranks-table.py > rows.txt
"""
from fractions import Fraction
from math import comb


def ranks(n, q, conf):
    alpha = 1 - conf
    cum, s = [], Fraction(0)
    for j in range(n + 1):
        s += comb(n, j) * q**j * (1 - q) ** (n - j)
        cum.append(s)

    def cdf(k):  # P(B <= k)
        return Fraction(0) if k < 0 else cum[min(k, n)]

    def sf(k):  # P(B >= k)
        return 1 - cdf(k - 1)

    def lower(budget):  # the largest l with cdf(l - 1) <= budget, 0 if none
        return max([l for l in range(1, n + 1) if cdf(l - 1) <= budget], default=0)

    def upper(budget):  # the smallest u with sf(u) <= budget, n + 1 if none
        return min([u for u in range(1, n + 1) if sf(u) <= budget], default=n + 1)

    lo, hi = 0, n + 1
    miss_min, miss_max = cdf(0), sf(n)
    if n >= 2 and miss_min + miss_max <= alpha:
        lo_b = hi_b = alpha / 2
        if miss_max > alpha / 2:
            hi_b, lo_b = miss_max, alpha - miss_max
        elif miss_min > alpha / 2:
            lo_b, hi_b = miss_min, alpha - miss_min
        lo, hi = lower(lo_b), upper(hi_b)
    elif q >= Fraction(1, 2):
        lo = lower(alpha)
    else:
        hi = upper(alpha)
    cov = 1 - (cdf(lo - 1) if lo else 0) - (sf(hi) if hi <= n else 0)
    return lo, hi, cov


NS = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 15, 20, 30, 50, 100, 200, 298, 299, 400]
CASES = [("0.95", q) for q in ("0.5", "0.9", "0.99", "0.1", "0.75")]
CASES += [("0.9", "0.5"), ("0.9", "0.99"), ("0.99", "0.5"), ("0.99", "0.99")]
for conf, q in CASES:
    for n in NS:
        lo, hi, cov = ranks(n, Fraction(q), Fraction(conf))
        print("    {%d, %s, %s, %d, %d, %.12f}," % (n, q, conf, lo, hi, cov))
