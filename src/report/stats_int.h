/* stats_int.h — stats.c's helper that tests reach directly.
 *
 * The bootstrap reads each replicate's quantile off a count per sorted sample instead of
 * sorting the replicate; this is that reader, exposed so tests can check it against a sort
 * on multisets of every shape. Pure; cost O(position of the quantile from the nearer end).
 */
#ifndef HERD_REPORT_STATS_INT_H
#define HERD_REPORT_STATS_INT_H

#include <stddef.h>
#include <stdint.h>

/**
 * The type-7 q-quantile of the multiset holding @p val[i] @p cnt[i] times, i < @p n, with
 * @p val ascending and @p m = the sum of the counts, m >= 1.
 */
double herd__stats_count_quantile(const uint32_t *cnt, const double *val, size_t n, uint64_t m,
                                  double q);

#endif
