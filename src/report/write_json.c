/* write_json.c — the report as JSON: {"runs": [ ... ]}, one object per run, with
 * every key of issue 2 / DESIGN §1 and nothing computed outside the report. */
#include "report.h"

#include <errno.h>
#include <jansson.h>
#include <math.h>

/* A number as JSON: a value that is not finite (an open side of an interval, an infinite
 * ratio, a median that could not be computed) is null, where json_real would fail. */
static json_t *real_or_null(double v)
{
    return isfinite(v) ? json_real(v) : json_null();
}

void *herd_report_json_number(double v)
{
    return real_or_null(v);
}

/* The per-event figures (means or medians) of the outcome classes and origin load, in the
 * order of HERD_EV_CI_*. */
static json_t *figures(const double *v)
{
    static const char *const keys[HERD_EV_CI] = {"wakes",  "useful", "served",
                                                 "wasted", "failed", "origin_load"};
    json_t *o = json_object();
    for (int i = 0; i < HERD_EV_CI; i++)
        json_object_set_new(o, keys[i], real_or_null(v[i]));
    return o;
}

static json_t *number(double v, bool real)
{
    return real ? json_real(v) : json_integer((json_int_t)v);
}

/* The latency object; @p count is the sample count (omitted for a deviation). */
static json_t *latency_json(const struct herd_figures *f, uint64_t count, bool real)
{
    json_t *o = json_object();
    if (count || !real)
        json_object_set_new(o, "count", json_integer((json_int_t)count));
    json_object_set_new(o, "mean", json_real(f->lat_mean));
    json_object_set_new(o, "p50", number(f->lat_p50, real));
    json_object_set_new(o, "p90", number(f->lat_p90, real));
    json_object_set_new(o, "p99", number(f->lat_p99, real));
    json_object_set_new(o, "p999", number(f->lat_p999, real));
    json_object_set_new(o, "max", number(f->lat_max, real));
    return o;
}

static json_t *params_json(const struct herd_run_info *run)
{
    json_t *o = json_object();
    for (int i = 0; i < run->nparams; i++) {
        const struct herd_run_param *p = &run->params[i];
        json_t *v = p->is_text  ? json_string(p->text)
                    : p->is_int ? json_integer((json_int_t)p->number)
                                : json_real(p->number);
        json_object_set_new(o, p->key, v);
    }
    return o;
}

void *herd_report_interval_json(const struct herd_stats_interval *ci)
{
    json_t *o = json_object();
    json_object_set_new(o, "point", real_or_null(ci->point));
    json_object_set_new(o, "lo", real_or_null(ci->lo));
    json_object_set_new(o, "hi", real_or_null(ci->hi));
    json_object_set_new(o, "n", json_integer((json_int_t)ci->n));
    json_object_set_new(o, "enough_samples", json_boolean(ci->enough_samples));
    return o;
}

static json_t *intervals_json(const struct herd_report_ci *ci)
{
    static const char *const ev[HERD_EV_CI] = {"wakes",  "useful", "served",
                                               "wasted", "failed", "origin_load"};
    static const char *const lat[HERD_LAT_CI] = {"p50", "p90", "p99", "p999"};
    json_t *o = json_object(), *e = json_object(), *l = json_object();
    for (int i = 0; i < HERD_EV_CI; i++)
        json_object_set_new(e, ev[i], herd_report_interval_json(&ci->ev[i]));
    for (int i = 0; i < HERD_LAT_CI; i++)
        json_object_set_new(l, lat[i], herd_report_interval_json(&ci->lat[i]));
    json_object_set_new(o, "conf", json_real(HERD_STATS_CONF));
    json_object_set_new(o, "per_event_median", e);
    json_object_set_new(o, "latency_ns", l);
    return o;
}

void *herd_report_to_json(const struct herd_report *r)
{
    const struct herd_run_info *run = &r->run;
    json_t *o = json_object();

    json_object_set_new(o, "scenario", json_string(run->scenario));
    json_object_set_new(o, "backend", json_string(r->backend));
    json_object_set_new(o, "mode", json_string(run->naive ? "naive" : "mitigated"));
    json_object_set_new(o, "mitigation", json_string(run->mitigation));
    json_object_set_new(o, "strategy", json_string(run->strategy));
    json_object_set_new(o, "n", json_integer(run->n));
    json_object_set_new(o, "population", json_integer(r->population));
    json_object_set_new(o, "events", json_integer(run->events));
    json_object_set_new(o, "seed", json_integer((json_int_t)run->seed));
    json_object_set_new(o, "params", params_json(run));
    /* Totals are counts (pooled over the runs of an aggregate); per-run means and
     * deviations are under "over_runs". */
    json_object_set_new(o, "wakes", json_integer((json_int_t)r->wakes));
    json_object_set_new(o, "useful", json_integer((json_int_t)r->useful));
    json_object_set_new(o, "served", json_integer((json_int_t)r->served));
    json_object_set_new(o, "wasted", json_integer((json_int_t)r->wasted));
    json_object_set_new(o, "failed", json_integer((json_int_t)r->failed));
    json_object_set_new(o, "idle", json_integer((json_int_t)r->idle));
    json_object_set_new(o, "origin_load", json_integer((json_int_t)r->origin_load));
    json_object_set_new(o, "peak", json_integer((json_int_t)r->peak));
    struct herd_figures f;
    herd_report_figures(r, &f);
    json_object_set_new(o, "latency_ns", latency_json(&f, r->latency.count, false));
    double ev = r->nevents ? (double)r->nevents : 1.0;
    json_object_set_new(o, "per_event",
                        figures((const double[]){f.wakes / ev, f.useful / ev, f.served / ev,
                                                 f.wasted / ev, f.failed / ev,
                                                 f.origin_load / ev}));
    double med[HERD_EV_CI];
    for (int i = 0; i < HERD_EV_CI; i++)
        med[i] = herd_report_ev_median(r, i);
    json_object_set_new(o, "per_event_median", figures(med));
    json_object_set_new(o, "events_measured", json_integer((json_int_t)r->nevents));
    if (r->ci.present)
        json_object_set_new(o, "intervals", intervals_json(&r->ci));
    if (r->spread.present)
        json_object_set_new(o, "spread",
                            json_pack("{s:I, s:I, s:f, s:f}", "workers",
                                      (json_int_t)r->spread.workers, "workers_used",
                                      (json_int_t)r->spread.workers_used, "max_share",
                                      r->spread.max_share, "max_min_ratio",
                                      r->spread.max_min_ratio));
    else
        json_object_set_new(o, "spread", json_null());

    json_t *tl = json_object();
    json_object_set_new(tl, "bucket_ns", json_integer(r->timeline.bucket_ns));
    json_object_set_new(tl, "len", json_integer((json_int_t)r->timeline.len));
    for (int s = 0; s < r->timeline.nseries; s++) {
        json_t *a = json_array();
        for (size_t i = 0; i < r->timeline.len; i++)
            json_array_append_new(a, json_integer(r->timeline.series[s].v[i]));
        json_object_set_new(tl, r->timeline.series[s].name, a);
    }
    json_object_set_new(o, "timeline", tl);
    if (r->fleet) {
        json_t *fl = herd_fleet_figures_json(r->fleet);
        if (fl)
            json_object_set_new(o, "fleet", fl);
    }

    /* Each tile's class, and its counts by class in the order of "outcomes". */
    json_t *w = json_array(), *wc = json_array(), *names = json_array();
    for (int c = 0; c < HERD_OUT_COUNT; c++)
        json_array_append_new(names, json_string(herd_outcome_name((enum herd_outcome)c)));
    for (size_t i = 0; i < r->nwaiters; i++) {
        json_array_append_new(w, json_string(herd_outcome_name(herd_waiter_class(&r->waiters[i]))));
        json_t *cnt = json_array();
        for (int c = 0; c < HERD_OUT_COUNT; c++)
            json_array_append_new(cnt, json_integer(r->waiters[i].n[c]));
        json_array_append_new(wc, cnt);
    }
    json_object_set_new(o, "outcomes", names);
    json_object_set_new(o, "waiters", w);
    json_object_set_new(o, "waiter_counts", wc);

    json_t *x = json_object();
    for (int i = 0; i < r->nextras; i++)
        json_object_set_new(x, r->extras[i].name, json_real(r->extras[i].value));
    json_object_set_new(o, "extra", x);

    if (r->sim_time_ns >= 0)
        json_object_set_new(o, "sim_time_ns", json_integer(r->sim_time_ns));
    json_object_set_new(o, "runs", json_integer(r->runs));
    if (r->has_machine)
        json_object_set_new(o, "machine", herd_machine_to_json(&r->machine));
    if (r->has_provenance) {
        /* The simulated time is the report's own figure: provenance says it again, derived,
         * so that the two can never disagree. */
        json_t *p = herd_provenance_to_json(&r->provenance);
        if (p)
            json_object_set_new(p, "sim_ns", r->sim_time_ns >= 0 ? json_integer(r->sim_time_ns)
                                                                 : json_null());
        json_object_set_new(o, "provenance", p);
    }
    if (r->runs > 1) {
        json_t *over = json_object();
        const struct herd_figures *m = &r->mean, *d = &r->stddev;
        json_t *mean = json_pack("{s:f, s:f, s:f, s:f, s:f, s:f, s:f}", "wakes", m->wakes,
                                 "useful", m->useful, "served", m->served, "wasted", m->wasted,
                                 "failed", m->failed, "origin_load", m->origin_load, "peak",
                                 m->peak);
        json_object_set_new(mean, "latency_ns", latency_json(m, 0, true));
        json_t *sd = json_pack("{s:f, s:f, s:f, s:f, s:f, s:f, s:f}", "wakes", d->wakes,
                               "useful", d->useful, "served", d->served, "wasted", d->wasted,
                               "failed", d->failed, "origin_load", d->origin_load, "peak",
                               d->peak);
        json_object_set_new(sd, "latency_ns", latency_json(d, 0, true));
        json_object_set_new(over, "mean", mean);
        json_object_set_new(over, "stddev", sd);
        json_object_set_new(o, "over_runs", over);
    }
    return o;
}

int herd_write_json(FILE *f, struct herd_report *const *runs, size_t nruns)
{
    json_t *root = json_object(), *arr = json_array();
    for (size_t i = 0; i < nruns; i++)
        json_array_append_new(arr, herd_report_to_json(runs[i]));
    json_object_set_new(root, "runs", arr);
    int rc = json_dumpf(root, f, JSON_INDENT(2) | JSON_PRESERVE_ORDER | JSON_REAL_PRECISION(10));
    json_decref(root);
    if (rc < 0 || fputc('\n', f) == EOF)
        return -EIO;
    return 0;
}

