/* report.c — filling a report; see report.h. */
#include "report.h"

#include <herd/error.h>
#include <herd/rng.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

int herd_report_init(struct herd_report *r, const struct herd_run_info *info, const char *backend)
{
    memset(r, 0, sizeof *r);
    r->run = *info;
    r->backend = backend;
    r->sim_time_ns = -1;
    r->runs = 1;
    herd_hist_init(&r->latency);
    herd_machine_init(&r->machine);
    r->population = info->n;
    r->nwaiters = info->n < HERD_REPORT_WAITERS ? (size_t)info->n : HERD_REPORT_WAITERS;
    return 0;
}

void herd_report_fini(struct herd_report *r)
{
#define HERD__EV_FREE(name) free(r->ev.name);
    HERD_EVENT_SERIES(HERD__EV_FREE)
#undef HERD__EV_FREE
    free(r->ev.run);
    free(r->run_hist);
    for (int i = 0; i < r->timeline.nseries; i++)
        free(r->timeline.series[i].v);
    herd_fleet_figures_free(r->fleet);
    memset(r, 0, sizeof *r);
}

static int grow(void **v, size_t cap, size_t size)
{
    void *p = realloc(*v, cap * size);
    if (!p)
        return -HERD_ENOMEM;
    *v = p;
    return 0;
}

static int reserve_events(struct herd_report *r, size_t want)
{
    if (want <= r->cap_events)
        return 0;
    size_t cap = r->cap_events ? r->cap_events : 64;
    while (cap < want)
        cap *= 2;
#define HERD__EV_GROW(name)                                                                 \
    if (grow((void **)&r->ev.name, cap, sizeof *r->ev.name) < 0)                              \
        return -HERD_ENOMEM;
    HERD_EVENT_SERIES(HERD__EV_GROW)
#undef HERD__EV_GROW
    if (grow((void **)&r->ev.run, cap, sizeof *r->ev.run) < 0)
        return -HERD_ENOMEM;
    r->cap_events = cap;
    return 0;
}

int herd_report_add_event(struct herd_report *r, const struct herd_event *e)
{
    if (reserve_events(r, r->nevents + 1) < 0)
        return -HERD_ENOMEM;
    uint64_t wakes = e->useful + e->served + e->wasted + e->failed;
    size_t i = r->nevents++;
    r->ev.wakes[i] = (double)wakes;
    r->ev.useful[i] = (double)e->useful;
    r->ev.served[i] = (double)e->served;
    r->ev.wasted[i] = (double)e->wasted;
    r->ev.failed[i] = (double)e->failed;
    r->ev.idle[i] = (double)e->idle;
    r->ev.origin[i] = (double)e->origin_load;
    r->ev.peak[i] = (double)e->peak;
    r->ev.run[i] = 0;
    r->wakes += wakes;
    r->useful += e->useful;
    r->served += e->served;
    r->wasted += e->wasted;
    r->failed += e->failed;
    r->idle += e->idle;
    r->origin_load += e->origin_load;
    if (e->peak > r->peak)
        r->peak = e->peak;
    return 0;
}

enum herd_outcome herd_waiter_class(const struct herd_waiter *w)
{
    static const enum herd_outcome order[] = {HERD_OUT_USEFUL, HERD_OUT_WASTED, HERD_OUT_FAILED,
                                              HERD_OUT_SERVED};
    for (size_t i = 0; i < sizeof order / sizeof order[0]; i++)
        if (w->n[order[i]])
            return order[i];
    return HERD_OUT_IDLE;
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

/* The series that count events per bucket; every other one is a level sampled per bucket.
 * The one list, read once when a series is made. */
static bool counts_per_bucket(const char *name)
{
    static const char *const counts[] = {"arrivals", "wakes", "errors", "retries", "stale"};
    for (size_t i = 0; i < sizeof counts / sizeof counts[0]; i++)
        if (strcmp(name, counts[i]) == 0)
            return true;
    return false;
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
    s->sums = counts_per_bucket(name);
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
    switch (o) {
#define HERD__OUTCOME_NAME(ID, name, doc)                                                   \
    case HERD_OUT_##ID:                                                                     \
        return #name;
        HERD_OUTCOMES(HERD__OUTCOME_NAME)
#undef HERD__OUTCOME_NAME
    case HERD_OUT_COUNT:
        break;
    }
    return "idle";
}

const char *herd_outcome_doc(enum herd_outcome o)
{
    switch (o) {
#define HERD__OUTCOME_DOC(ID, name, doc)                                                    \
    case HERD_OUT_##ID:                                                                     \
        return doc;
        HERD_OUTCOMES(HERD__OUTCOME_DOC)
#undef HERD__OUTCOME_DOC
    case HERD_OUT_COUNT:
        break;
    }
    return "";
}

double herd_median(const double *v, size_t n)
{
    if (n == 0)
        return 0;
    double *c = malloc(n * sizeof *c);
    if (!c)
        return NAN; /* no figure rather than a wrong one */
    memcpy(c, v, n * sizeof *c);
    double m = herd_stats_quantile(c, n, 0.5);
    free(c);
    return m;
}

const double *herd_report_ev_series(const struct herd_report *r, int which)
{
    switch (which) {
    case HERD_EV_CI_WAKES:
        return r->ev.wakes;
    case HERD_EV_CI_USEFUL:
        return r->ev.useful;
    case HERD_EV_CI_SERVED:
        return r->ev.served;
    case HERD_EV_CI_WASTED:
        return r->ev.wasted;
    case HERD_EV_CI_FAILED:
        return r->ev.failed;
    default:
        return r->ev.origin;
    }
}

double herd_report_ev_median(const struct herd_report *r, int which)
{
    if (r->ci.present) /* the same type-7 median, already computed */
        return r->ci.ev[which].point;
    return herd_median(herd_report_ev_series(r, which), r->nevents);
}

void herd_report_figures(const struct herd_report *r, struct herd_figures *f)
{
    double ev = r->nevents ? (double)r->nevents : 1.0;
    const struct herd_hist *h = &r->latency;
    f->wakes = (double)r->wakes;
    f->useful = (double)r->useful;
    f->served = (double)r->served;
    f->wasted = (double)r->wasted;
    f->failed = (double)r->failed;
    f->idle = (double)r->idle;
    f->origin_load = (double)r->origin_load;
    f->peak = (double)r->peak;
    f->pe_wakes = f->wakes / ev;
    f->pe_useful = f->useful / ev;
    f->pe_served = f->served / ev;
    f->pe_wasted = f->wasted / ev;
    f->pe_failed = f->failed / ev;
    f->pe_origin_load = f->origin_load / ev;
    f->lat_mean = herd_hist_mean(h);
    f->lat_p50 = (double)herd_hist_quantile(h, 0.50);
    f->lat_p90 = (double)herd_hist_quantile(h, 0.90);
    f->lat_p99 = (double)herd_hist_quantile(h, 0.99);
    f->lat_p999 = (double)herd_hist_quantile(h, 0.999);
    f->lat_max = (double)(h->count ? h->max : 0);
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

/* Keep run @p h's own histogram (the first HERD_REPORT_MAX_RUN_HISTS runs). */
static int keep_run_hist(struct herd_report *r, const struct herd_hist *h)
{
    if (r->nrun_hist == HERD_REPORT_MAX_RUN_HISTS)
        return 0;
    if (!r->run_hist) {
        r->run_hist = malloc(HERD_REPORT_MAX_RUN_HISTS * sizeof *r->run_hist);
        if (!r->run_hist)
            return -HERD_ENOMEM;
    }
    r->run_hist[r->nrun_hist++] = *h;
    return 0;
}

int herd_report_merge(struct herd_report *r, const struct herd_report *o)
{
    struct herd_figures f;
    if (r->acc.n == 0) { /* r becomes run 0 of the aggregate */
        herd_report_figures(r, &f);
        herd_figures_add(&r->acc, &f);
        if (keep_run_hist(r, &r->latency) < 0)
            return -HERD_ENOMEM;
    }
    if (reserve_events(r, r->nevents + o->nevents) < 0 || keep_run_hist(r, &o->latency) < 0)
        return -HERD_ENOMEM;
    herd_report_figures(o, &f);
    herd_figures_add(&r->acc, &f);
    int32_t run = (int32_t)r->acc.n - 1;
    for (size_t i = 0; i < o->nevents; i++) {
        size_t k = r->nevents++;
#define HERD__EV_COPY(name) r->ev.name[k] = o->ev.name[i];
        HERD_EVENT_SERIES(HERD__EV_COPY)
#undef HERD__EV_COPY
        r->ev.run[k] = run;
    }
    r->wakes += o->wakes;
    r->useful += o->useful;
    r->served += o->served;
    r->wasted += o->wasted;
    r->failed += o->failed;
    r->idle += o->idle;
    r->origin_load += o->origin_load;
    if (o->peak > r->peak)
        r->peak = o->peak;
    herd_hist_merge(&r->latency, &o->latency);
    if (!r->fleet && o->fleet && !(r->fleet = herd_fleet_figures_dup(o->fleet)))
        return -HERD_ENOMEM; /* the first run's, as the timeline */
    /* Simulated time is the total over the runs, as the wall time around them is: a
     * merged report that kept run 0's span beside the wall time of all R runs made the
     * simulator look R times slower than it is. */
    if (r->sim_time_ns >= 0 && o->sim_time_ns >= 0)
        r->sim_time_ns += o->sim_time_ns;
    herd_machine_merge(&r->machine, &o->machine);
    r->has_machine |= o->has_machine;
    /* Tile i is waiter i of every run: where runs have different populations (the
     * queue's requests), the tiles cover the largest. */
    if (o->nwaiters > r->nwaiters)
        r->nwaiters = o->nwaiters;
    if (o->population > r->population)
        r->population = o->population;
    for (size_t w = 0; w < o->nwaiters; w++)
        for (int c = 0; c < HERD_OUT_COUNT; c++)
            r->waiters[w].n[c] += o->waiters[w].n[c];
    r->runs = (int)r->acc.n;
    herd_figures_result(&r->acc, &r->mean, &r->stddev);
    /* Intervals computed before this run was pooled describe fewer runs: gone until
     * herd_report_intervals is called again. */
    r->ci.present = false;
    return 0;
}

uint64_t herd_run_seed(uint64_t seed, int i)
{
    return i == 0 ? seed : herd_hash64(seed ^ herd_hash64((uint64_t)i));
}
