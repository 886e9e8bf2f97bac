/* hist.c — see hist.h for the layout and its error bound. */
#include "hist.h"

#include <assert.h>
#include <string.h>

void herd_hist_init(struct herd_hist *h)
{
    memset(h, 0, sizeof *h);
    h->min = INT64_MAX;
    h->max = 0;
}

int herd_hist_index(int64_t v)
{
    if (v < HERD_HIST_LINEAR)
        return v < 0 ? 0 : (int)v;
    int msb = 63 - __builtin_clzll((uint64_t)v); /* >= 8 */
    int shift = msb - HERD_HIST_SUB_BITS;
    int sub = (int)((uint64_t)v >> shift) - (1 << HERD_HIST_SUB_BITS); /* 0..127 */
    return HERD_HIST_LINEAR + (msb - 8) * (1 << HERD_HIST_SUB_BITS) + sub;
}

int64_t herd_hist_bucket_lo(int idx)
{
    assert(idx >= 0 && idx < HERD_HIST_BUCKETS);
    if (idx < HERD_HIST_LINEAR)
        return idx;
    int k = idx - HERD_HIST_LINEAR;
    int msb = 8 + k / (1 << HERD_HIST_SUB_BITS);
    int sub = k % (1 << HERD_HIST_SUB_BITS) + (1 << HERD_HIST_SUB_BITS);
    return (int64_t)((uint64_t)sub << (msb - HERD_HIST_SUB_BITS));
}

int64_t herd_hist_bucket_hi(int idx)
{
    if (idx < HERD_HIST_LINEAR)
        return idx;
    int msb = 8 + (idx - HERD_HIST_LINEAR) / (1 << HERD_HIST_SUB_BITS);
    uint64_t width = UINT64_C(1) << (msb - HERD_HIST_SUB_BITS);
    return (int64_t)((uint64_t)herd_hist_bucket_lo(idx) + (width - 1));
}

void herd_hist_record_n(struct herd_hist *h, int64_t v, uint64_t n)
{
    if (n == 0)
        return;
    if (v < 0)
        v = 0;
    h->counts[herd_hist_index(v)] += n;
    h->count += n;
    h->sum += (double)v * (double)n;
    if (v < h->min)
        h->min = v;
    if (v > h->max)
        h->max = v;
}

void herd_hist_merge(struct herd_hist *dst, const struct herd_hist *src)
{
    if (src->count == 0)
        return;
    for (int i = 0; i < HERD_HIST_BUCKETS; i++)
        dst->counts[i] += src->counts[i];
    dst->count += src->count;
    dst->sum += src->sum;
    if (src->min < dst->min)
        dst->min = src->min;
    if (src->max > dst->max)
        dst->max = src->max;
}

int64_t herd_hist_quantile(const struct herd_hist *h, double q)
{
    if (h->count == 0)
        return 0;
    if (q <= 0)
        return h->min;
    if (q >= 1)
        return h->max;
    /* The rank of the q-quantile, 1-based: the smallest value with at least
     * ceil(q * count) values at or below it. */
    uint64_t rank = (uint64_t)(q * (double)h->count);
    if ((double)rank < q * (double)h->count)
        rank++;
    return herd_hist_at_rank(h, rank == 0 ? 1 : rank);
}

int64_t herd_hist_bucket_value(const struct herd_hist *h, int idx)
{
    int64_t lo = herd_hist_bucket_lo(idx), hi = herd_hist_bucket_hi(idx);
    int64_t mid = lo + (hi - lo) / 2;
    return mid < h->min ? h->min : mid > h->max ? h->max : mid;
}

int64_t herd_hist_at_rank(const struct herd_hist *h, uint64_t rank)
{
    if (h->count == 0)
        return 0;
    uint64_t seen = 0;
    for (int i = 0; i < HERD_HIST_BUCKETS; i++) {
        seen += h->counts[i];
        if (seen >= rank)
            return herd_hist_bucket_value(h, i);
    }
    return h->max;
}

double herd_hist_mean(const struct herd_hist *h)
{
    return h->count ? h->sum / (double)h->count : 0.0;
}
