/* model_timeline.h — a timeline for a simulated run whose length is not known in advance.
 *
 * What it is for. A model fills the report's timeline (report.h) with fixed-width
 * buckets, at most 1,000 of them, over the whole run — but a queue's drain or a retry
 * storm's completion time is only known at the end. So a model records into fine
 * buckets here as events happen and herd_tl_emit() re-bins them into the report's
 * buckets at the end.
 *
 * Series kinds. SUM series count things per bucket (arrivals, retries). LEVEL series
 * follow a level that holds between changes (in flight, queue depth) and report its
 * maximum within each bucket; a level is carried through buckets with no change, so a
 * long quiet stretch at depth 7 reads 7, not 0.
 *
 * Invariants: the fine width is a power of ten (ns), so every width the report may
 * pick (1/2/5 x 10^k, herd_timeline_pick_bucket) at or above it is a whole multiple of
 * it; times recorded never decrease (a simulation's clock), so a level can be carried
 * forward. When the fine array would pass HERD_TL_FINE_MAX buckets it is coarsened
 * ten-fold (sums add, levels take the maximum), which keeps its memory bounded
 * (≤ 8 · HERD_TL_FINE_MAX bytes per series) for any span.
 * Cost: O(1) amortised per record; carrying a level costs one store per bucket
 * crossed. Errors (no memory) are sticky in err and reported by herd_tl_emit().
 * Thread safety: none; one per run.
 */
#ifndef HERD_SIM_MODEL_TIMELINE_H
#define HERD_SIM_MODEL_TIMELINE_H

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <herd/error.h>

#include "../report/report.h"

#define HERD_TL_SERIES 6
#define HERD_TL_FINE_MAX (1u << 17)

enum herd_tl_kind { HERD_TL_SUM, HERD_TL_LEVEL };

struct herd_tl_series {
    const char *name; /* static string, the report's series name */
    enum herd_tl_kind kind;
    int64_t *v;       /* owned, cap values */
    int64_t level;    /* LEVEL: the current level */
    size_t level_idx; /* LEVEL: the bucket the current level was last written to */
};

struct herd_tl {
    int64_t width;          /* fine bucket width, a power of ten ns */
    size_t len;             /* buckets touched: highest index + 1 */
    size_t cap;             /* buckets allocated per series */
    int64_t hit_lo, hit_hi; /* the last bucket looked up: [hit_lo, hit_hi) ns ... */
    size_t hit_idx;         /* ... is index hit_idx (a division saved per record) */
    int nseries;
    int err; /* sticky: 0 or -HERD_ENOMEM */
    struct herd_tl_series s[HERD_TL_SERIES];
};

/** Start with a fine width of the largest power of ten <= @p width_hint_ns (>= 1 ns). */
static inline void herd_tl_init(struct herd_tl *t, int64_t width_hint_ns)
{
    memset(t, 0, sizeof *t);
    t->width = 1;
    while (t->width <= width_hint_ns / 10)
        t->width *= 10;
}

static inline void herd_tl_fini(struct herd_tl *t)
{
    for (int i = 0; i < t->nseries; i++)
        free(t->s[i].v);
    memset(t, 0, sizeof *t);
}

/** Add a series (before recording anything); @return its index (asserted room). */
static inline int herd_tl_series(struct herd_tl *t, const char *name, enum herd_tl_kind kind)
{
    int i = t->nseries < HERD_TL_SERIES ? t->nseries++ : HERD_TL_SERIES - 1;
    t->s[i] = (struct herd_tl_series){.name = name, .kind = kind};
    return i;
}

static inline int64_t herd__tl_combine(enum herd_tl_kind k, int64_t a, int64_t b)
{
    return k == HERD_TL_SUM ? a + b : (a > b ? a : b);
}

/* Ten fine buckets become one. */
static inline void herd__tl_coarsen(struct herd_tl *t)
{
    size_t nlen = (t->len + 9) / 10;
    for (int i = 0; i < t->nseries; i++) {
        struct herd_tl_series *s = &t->s[i];
        for (size_t k = 0; k < nlen; k++) {
            int64_t acc = 0;
            for (size_t j = 10 * k; j < 10 * k + 10 && j < t->len; j++)
                acc = herd__tl_combine(s->kind, acc, s->v[j]);
            s->v[k] = acc;
        }
        if (t->cap)
            memset(s->v + nlen, 0, (t->cap - nlen) * sizeof *s->v);
        s->level_idx /= 10;
    }
    t->len = nlen;
    t->width *= 10;
    t->hit_lo = t->hit_hi = 0;
}

/* The fine index of time @p t_ns, growing or coarsening the arrays to hold it;
 * SIZE_MAX after an allocation failure. */
static inline size_t herd__tl_index(struct herd_tl *t, int64_t t_ns)
{
    if (t_ns < t->hit_hi && t_ns >= t->hit_lo)
        return t->hit_idx;
    if (t->err)
        return SIZE_MAX;
    if (t_ns < 0)
        t_ns = 0;
    while ((uint64_t)(t_ns / t->width) >= HERD_TL_FINE_MAX)
        herd__tl_coarsen(t);
    size_t idx = (size_t)(t_ns / t->width);
    if (idx >= t->cap) {
        size_t cap = t->cap ? t->cap : 1024;
        while (cap <= idx)
            cap *= 2;
        if (cap > HERD_TL_FINE_MAX)
            cap = HERD_TL_FINE_MAX;
        for (int i = 0; i < t->nseries; i++) {
            int64_t *p = realloc(t->s[i].v, cap * sizeof *p);
            if (!p) {
                t->err = -HERD_ENOMEM;
                return SIZE_MAX;
            }
            memset(p + t->cap, 0, (cap - t->cap) * sizeof *p);
            t->s[i].v = p;
        }
        t->cap = cap;
    }
    if (idx >= t->len)
        t->len = idx + 1;
    t->hit_idx = idx;
    t->hit_lo = (int64_t)idx * t->width;
    t->hit_hi = t->hit_lo + t->width;
    return idx;
}

/** SUM series @p i: add @p delta at time @p t_ns. */
static inline void herd_tl_add(struct herd_tl *t, int i, int64_t t_ns, int64_t delta)
{
    size_t idx = herd__tl_index(t, t_ns);
    if (idx != SIZE_MAX)
        t->s[i].v[idx] += delta;
}

/** LEVEL series @p i: the level becomes @p value at time @p t_ns (times never decrease). */
static inline void herd_tl_level(struct herd_tl *t, int i, int64_t t_ns, int64_t value)
{
    size_t idx = herd__tl_index(t, t_ns);
    if (idx == SIZE_MAX)
        return;
    struct herd_tl_series *s = &t->s[i];
    int64_t *v = s->v, level = s->level;
    /* The old level held until now; v[level_idx] already has it. */
    for (size_t k = s->level_idx + 1; k <= idx; k++)
        v[k] = v[k] > level ? v[k] : level;
    v[idx] = v[idx] > value ? v[idx] : value;
    s->level = value;
    s->level_idx = idx;
}

/**
 * Write every series into @p r's timeline over [0, @p end_ns]: at most @p max_buckets
 * buckets of a 1/2/5 x 10^k width no finer than @p min_bucket_ns (and the fine
 * width); LEVEL series carried to the end; series named in @p skip_if_zero are left
 * out when they are all zero. @return 0 or a negative code (no memory).
 */
static inline int herd_tl_emit(struct herd_tl *t, struct herd_report *r, int64_t end_ns,
                               int64_t min_bucket_ns, size_t max_buckets, const char *skip_if_zero)
{
    for (int i = 0; i < t->nseries; i++)
        if (t->s[i].kind == HERD_TL_LEVEL)
            herd_tl_level(t, i, end_ns, t->s[i].level);
    if (t->err)
        return t->err;
    if (t->len == 0)
        return 0;
    int64_t span = end_ns + 1;
    int64_t minb = min_bucket_ns > t->width ? min_bucket_ns : t->width;
    int64_t bucket = herd_timeline_pick_bucket(span, minb, max_buckets);
    if (bucket % t->width != 0) /* cannot happen for 1/2/5 x 10^k >= a power of ten */
        bucket = t->width * ((bucket + t->width - 1) / t->width);
    size_t factor = (size_t)(bucket / t->width);
    size_t len = (size_t)((span + bucket - 1) / bucket);
    int rc = herd_report_timeline(r, bucket, len);
    if (rc < 0)
        return rc;
    len = r->timeline.len;
    for (int i = 0; i < t->nseries; i++) {
        struct herd_tl_series *s = &t->s[i];
        if (skip_if_zero && strcmp(skip_if_zero, s->name) == 0) {
            int64_t any = 0;
            for (size_t k = 0; k < t->len && !any; k++)
                any = s->v[k];
            if (!any)
                continue;
        }
        int64_t *out = herd_report_series(r, s->name);
        if (!out)
            return -HERD_ENOMEM;
        for (size_t k = 0; k < len; k++) {
            int64_t acc = 0;
            for (size_t j = k * factor; j < (k + 1) * factor && j < t->len; j++)
                acc = herd__tl_combine(s->kind, acc, s->v[j]);
            out[k] = acc;
        }
    }
    return 0;
}

#endif
