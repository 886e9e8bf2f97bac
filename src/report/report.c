/* report.c — filling a report; see report.h. */
#include "report.h"

#include <herd/error.h>
#include <herd/rng.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

int herd_report_init(struct herd_report *r, const struct herd_run_spec *spec, const char *backend)
{
    memset(r, 0, sizeof *r);
    r->spec = *spec;
    r->backend = backend;
    r->sim_time_ns = -1;
    r->runs = 1;
    herd_hist_init(&r->latency);
    r->nwaiters = spec->n < HERD_REPORT_WAITERS ? (size_t)spec->n : HERD_REPORT_WAITERS;
    return 0;
}

void herd_report_fini(struct herd_report *r)
{
    free(r->ev_wakes);
    free(r->ev_useful);
    free(r->ev_wasted);
    free(r->ev_origin);
    for (int i = 0; i < r->timeline.nseries; i++)
        free(r->timeline.series[i].v);
    memset(r, 0, sizeof *r);
}

static int grow(double **v, size_t cap)
{
    double *p = realloc(*v, cap * sizeof *p);
    if (!p)
        return -HERD_ENOMEM;
    *v = p;
    return 0;
}

int herd_report_add_event(struct herd_report *r, uint64_t wakes, uint64_t useful,
                          uint64_t origin_load, uint64_t peak)
{
    if (r->nevents == r->cap_events) {
        size_t cap = r->cap_events ? r->cap_events * 2 : 64;
        if (grow(&r->ev_wakes, cap) || grow(&r->ev_useful, cap) || grow(&r->ev_wasted, cap) ||
            grow(&r->ev_origin, cap))
            return -HERD_ENOMEM;
        r->cap_events = cap;
    }
    uint64_t wasted = wakes > useful ? wakes - useful : 0;
    r->ev_wakes[r->nevents] = (double)wakes;
    r->ev_useful[r->nevents] = (double)useful;
    r->ev_wasted[r->nevents] = (double)wasted;
    r->ev_origin[r->nevents] = (double)origin_load;
    r->nevents++;
    r->wakes += wakes;
    r->useful += useful;
    r->wasted += wasted;
    r->origin_load += origin_load;
    if (peak > r->peak)
        r->peak = peak;
    return 0;
}

void herd_report_extra(struct herd_report *r, const char *name, double value)
{
    for (int i = 0; i < r->nextras; i++) {
        if (strcmp(r->extras[i].name, name) == 0) {
            r->extras[i].value = value;
            return;
        }
    }
    if (r->nextras == HERD_REPORT_MAX_EXTRAS)
        return;
    struct herd_extra *e = &r->extras[r->nextras++];
    snprintf(e->name, sizeof e->name, "%s", name);
    e->value = value;
}

bool herd_report_get_extra(const struct herd_report *r, const char *name, double *out)
{
    for (int i = 0; i < r->nextras; i++) {
        if (strcmp(r->extras[i].name, name) == 0) {
            *out = r->extras[i].value;
            return true;
        }
    }
    return false;
}

int herd_report_timeline(struct herd_report *r, int64_t bucket_ns, size_t len)
{
    for (int i = 0; i < r->timeline.nseries; i++)
        free(r->timeline.series[i].v);
    memset(&r->timeline, 0, sizeof r->timeline);
    if (len > HERD_TIMELINE_MAX_BUCKETS)
        len = HERD_TIMELINE_MAX_BUCKETS;
    if (len == 0)
        len = 1;
    r->timeline.bucket_ns = bucket_ns > 0 ? bucket_ns : 1;
    r->timeline.len = len;
    return 0;
}

int64_t *herd_report_series(struct herd_report *r, const char *name)
{
    struct herd_timeline *tl = &r->timeline;
    if (tl->len == 0)
        return NULL;
    for (int i = 0; i < tl->nseries; i++)
        if (strcmp(tl->series[i].name, name) == 0)
            return tl->series[i].v;
    if (tl->nseries == HERD_TIMELINE_MAX_SERIES)
        return NULL;
    int64_t *v = calloc(tl->len, sizeof *v);
    if (!v)
        return NULL;
    struct herd_series *s = &tl->series[tl->nseries++];
    snprintf(s->name, sizeof s->name, "%s", name);
    s->v = v;
    return v;
}

int64_t herd_timeline_pick_bucket(int64_t span_ns, int64_t min_bucket_ns, size_t max_buckets)
{
    static const int64_t steps[] = {1, 2, 5};
    if (max_buckets == 0)
        max_buckets = 1;
    for (int64_t decade = 1; decade <= INT64_C(1000000000000); decade *= 10) {
        for (int i = 0; i < 3; i++) {
            int64_t b = steps[i] * decade;
            if (b >= min_bucket_ns && (span_ns + b - 1) / b <= (int64_t)max_buckets)
                return b;
        }
    }
    return INT64_C(1000000000000);
}

void herd_report_spread(struct herd_report *r, const uint64_t *per_worker, size_t nworkers)
{
    uint64_t total = 0, max = 0, min = UINT64_MAX;
    int64_t used = 0;
    for (size_t i = 0; i < nworkers; i++) {
        uint64_t c = per_worker[i];
        total += c;
        if (c > 0) {
            used++;
            if (c > max)
                max = c;
            if (c < min)
                min = c;
        }
    }
    r->spread.present = true;
    r->spread.workers = (int64_t)nworkers;
    r->spread.workers_used = used;
    r->spread.max_share = total ? (double)max / (double)total : 0.0;
    r->spread.max_min_ratio = used ? (double)max / (double)min : 0.0;
}

const char *herd_outcome_name(enum herd_outcome o)
{
    static const char *const names[] = {"idle",  "woken",  "useful",   "wasted",
                                        "stale", "failed", "timed-out"};
    return (unsigned)o < sizeof names / sizeof names[0] ? names[o] : "idle";
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

double herd_median(const double *v, size_t n)
{
    if (n == 0)
        return 0;
    double *c = malloc(n * sizeof *c);
    if (!c)
        return v[0];
    memcpy(c, v, n * sizeof *c);
    qsort(c, n, sizeof *c, cmp_double);
    double m = n % 2 ? c[n / 2] : (c[n / 2 - 1] + c[n / 2]) / 2;
    free(c);
    return m;
}

void herd_report_figures(const struct herd_report *r, struct herd_figures *f)
{
    double ev = r->nevents ? (double)r->nevents : 1.0;
    const struct herd_hist *h = &r->latency;
    f->wakes = (double)r->wakes;
    f->useful = (double)r->useful;
    f->wasted = (double)r->wasted;
    f->origin_load = (double)r->origin_load;
    f->peak = (double)r->peak;
    f->pe_wakes = f->wakes / ev;
    f->pe_useful = f->useful / ev;
    f->pe_wasted = f->wasted / ev;
    f->pe_origin_load = f->origin_load / ev;
    f->lat_mean = herd_hist_mean(h);
    f->lat_p50 = (double)herd_hist_quantile(h, 0.50);
    f->lat_p90 = (double)herd_hist_quantile(h, 0.90);
    f->lat_p99 = (double)herd_hist_quantile(h, 0.99);
    f->lat_p999 = (double)herd_hist_quantile(h, 0.999);
    f->lat_max = (double)(h->count ? h->max : 0);
    f->elapsed_ns = (double)r->elapsed_ns;
    f->sim_time_ns = (double)r->sim_time_ns;
}

void herd_figures_add(struct herd_figures_acc *acc, const struct herd_figures *f)
{
#define HERD__ACC(name)                                                                            \
    acc->sum.name += f->name;                                                                      \
    acc->sq.name += f->name * f->name;
    HERD_FIGURES(HERD__ACC)
#undef HERD__ACC
    acc->n++;
}

void herd_figures_result(const struct herd_figures_acc *acc, struct herd_figures *mean,
                         struct herd_figures *stddev)
{
    double n = (double)acc->n;
#define HERD__MEAN(name)                                                                           \
    mean->name = acc->n ? acc->sum.name / n : 0.0;                                                 \
    if (stddev)                                                                                    \
        stddev->name =                                                                             \
            acc->n > 1                                                                             \
                ? sqrt(fmax(0.0, (acc->sq.name - acc->sum.name * acc->sum.name / n) / (n - 1)))    \
                : 0.0;
    HERD_FIGURES(HERD__MEAN)
#undef HERD__MEAN
}

void herd_report_aggregate(struct herd_report *r, const struct herd_report *const *others,
                           size_t nothers)
{
    struct herd_figures_acc acc = {0};
    struct herd_figures f;
    for (size_t i = 0; i < nothers + 1; i++) {
        herd_report_figures(i == 0 ? r : others[i - 1], &f);
        herd_figures_add(&acc, &f);
    }
    r->runs = (int)acc.n;
    herd_figures_result(&acc, &r->mean, &r->stddev);
}

uint64_t herd_run_seed(uint64_t seed, int i)
{
    return i == 0 ? seed : herd_hash64(seed ^ herd_hash64((uint64_t)i));
}
