/* hist.h — log-linear latency histogram (HdrHistogram's layout, written for herd).
 *
 * Values are non-negative int64 (nanoseconds). Values below 256 have a bucket each;
 * above, every power-of-two range [2^k, 2^(k+1)) is cut into 128 equal sub-buckets,
 * so a bucket is at most 1/128 of its lowest value wide: any reported quantile is
 * within 0.79 % of a recorded value (the midpoint is reported, so 0.4 % typically).
 * Fixed size (7,424 counters, 58 KiB), no allocation after init, mergeable by adding
 * counts. Not thread-safe: give each thread its own and merge.
 */
#ifndef HERD_REPORT_HIST_H
#define HERD_REPORT_HIST_H

#include <stdbool.h>
#include <stdint.h>

#define HERD_HIST_SUB_BITS 7
#define HERD_HIST_LINEAR 256 /* 2 << SUB_BITS values recorded exactly */
#define HERD_HIST_BUCKETS (HERD_HIST_LINEAR + (63 - 8 + 1) * (1 << HERD_HIST_SUB_BITS))

struct herd_hist {
    uint64_t count;
    int64_t min, max;
    double sum;                        /* for the mean; exact to 2^53 ns */
    uint64_t counts[HERD_HIST_BUCKETS];
};

void herd_hist_init(struct herd_hist *h);

/** Record @p v (clamped at 0) @p n times. */
void herd_hist_record_n(struct herd_hist *h, int64_t v, uint64_t n);

static inline void herd_hist_record(struct herd_hist *h, int64_t v)
{
    herd_hist_record_n(h, v, 1);
}

/** Add every count of @p src into @p dst. */
void herd_hist_merge(struct herd_hist *dst, const struct herd_hist *src);

/** Value at quantile @p q in [0, 1] (0: min, 1: max); 0 when empty. */
int64_t herd_hist_quantile(const struct herd_hist *h, double q);

/** The @p rank-th smallest recorded value (1-based), as its bucket's midpoint clamped to
 *  [min, max] (what herd_hist_quantile reports); 0 when empty. */
int64_t herd_hist_at_rank(const struct herd_hist *h, uint64_t rank);

/** The value bucket @p idx stands for: its midpoint clamped to [min, max], what
 *  herd_hist_at_rank reports (for a caller walking the buckets once for many ranks). */
int64_t herd_hist_bucket_value(const struct herd_hist *h, int idx);

/** Mean of the recorded values; 0 when empty. */
double herd_hist_mean(const struct herd_hist *h);

/* Bucket arithmetic, exposed for tests and for writers of bucketed formats. */
int herd_hist_index(int64_t v);
int64_t herd_hist_bucket_lo(int idx);
int64_t herd_hist_bucket_hi(int idx); /* inclusive */

#endif
