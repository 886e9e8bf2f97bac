/* write_json.c — the report as JSON: {"runs": [ ... ]}, one object per run, with
 * every key of issue 2 / DESIGN §1 and nothing computed outside the report. */
#include "report.h"

#include <errno.h>
#include <jansson.h>

static json_t *figures(double wakes, double useful, double wasted, double origin)
{
    return json_pack("{s:f, s:f, s:f, s:f}", "wakes", wakes, "useful", useful, "wasted", wasted,
                     "origin_load", origin);
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

static json_t *params_json(const struct herd_run_spec *spec)
{
    json_t *o = json_object();
    for (int i = 0; spec->sc->params[i].key; i++) {
        const struct herd_param_def *p = &spec->sc->params[i];
        json_t *v;
        if (p->type == HERD_PARAM_ENUM)
            v = json_string(p->choices[(int)spec->params[i]]);
        else if (p->type == HERD_PARAM_INT)
            v = json_integer((json_int_t)spec->params[i]);
        else
            v = json_real(spec->params[i]);
        json_object_set_new(o, p->key, v);
    }
    return o;
}

void *herd_report_to_json(const struct herd_report *r)
{
    const struct herd_run_spec *spec = &r->spec;
    json_t *o = json_object();

    json_object_set_new(o, "scenario", json_string(spec->sc->name));
    json_object_set_new(o, "backend", json_string(r->backend));
    json_object_set_new(o, "mode", json_string(spec->mode == HERD_MODE_NAIVE ? "naive"
                                                                             : "mitigated"));
    json_object_set_new(o, "mitigation", json_string(herd_spec_mitigation(spec)));
    json_object_set_new(o, "strategy", json_string(herd_spec_strategy(spec)));
    json_object_set_new(o, "n", json_integer(spec->n));
    json_object_set_new(o, "events", json_integer(spec->events));
    json_object_set_new(o, "seed", json_integer((json_int_t)spec->seed));
    json_object_set_new(o, "params", params_json(spec));
    /* With --runs R every figure is the mean over the runs (a real); else the run's own
     * count (an integer). */
    struct herd_figures f;
    bool agg = r->runs > 1;
    if (agg)
        f = r->mean;
    else
        herd_report_figures(r, &f);
    json_object_set_new(o, "wakes", number(f.wakes, agg));
    json_object_set_new(o, "useful", number(f.useful, agg));
    json_object_set_new(o, "wasted", number(f.wasted, agg));
    json_object_set_new(o, "origin_load", number(f.origin_load, agg));
    json_object_set_new(o, "peak", number(f.peak, agg));
    json_object_set_new(o, "latency_ns", latency_json(&f, r->latency.count, agg));
    json_object_set_new(o, "per_event",
                        figures(f.pe_wakes, f.pe_useful, f.pe_wasted, f.pe_origin_load));
    json_object_set_new(o, "per_event_median",
                        figures(herd_median(r->ev_wakes, r->nevents),
                                herd_median(r->ev_useful, r->nevents),
                                herd_median(r->ev_wasted, r->nevents),
                                herd_median(r->ev_origin, r->nevents)));
    json_object_set_new(o, "events_measured", json_integer((json_int_t)r->nevents));
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

    json_t *w = json_array();
    for (size_t i = 0; i < r->nwaiters; i++)
        json_array_append_new(w, json_string(herd_outcome_name(r->waiters[i])));
    json_object_set_new(o, "waiters", w);

    json_t *x = json_object();
    for (int i = 0; i < r->nextras; i++)
        json_object_set_new(x, r->extras[i].name, json_real(r->extras[i].value));
    json_object_set_new(o, "extra", x);

    json_object_set_new(o, "elapsed_ns", number(f.elapsed_ns, agg));
    if (r->sim_time_ns >= 0)
        json_object_set_new(o, "sim_time_ns", number(f.sim_time_ns, agg));
    json_object_set_new(o, "runs", json_integer(r->runs));
    if (agg) {
        const struct herd_figures *d = &r->stddev;
        json_t *sd = json_pack("{s:f, s:f, s:f, s:f, s:f}", "wakes", d->wakes, "useful",
                               d->useful, "wasted", d->wasted, "origin_load", d->origin_load,
                               "peak", d->peak);
        json_object_set_new(sd, "latency_ns", latency_json(d, 0, true));
        json_object_set_new(sd, "per_event", figures(d->pe_wakes, d->pe_useful, d->pe_wasted,
                                                     d->pe_origin_load));
        json_object_set_new(sd, "elapsed_ns", json_real(d->elapsed_ns));
        if (r->sim_time_ns >= 0)
            json_object_set_new(sd, "sim_time_ns", json_real(d->sim_time_ns));
        json_object_set_new(o, "stddev", sd);
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

void *herd_catalogue_to_json(void)
{
    json_t *arr = json_array();
    for (int i = 0; herd_scenarios[i]; i++) {
        const struct herd_scenario *sc = herd_scenarios[i];
        json_t *ps = json_array(), *ms = json_array();
        for (int p = 0; sc->params[p].key; p++) {
            const struct herd_param_def *d = &sc->params[p];
            json_t *o = json_pack("{s:s, s:s, s:s, s:s}", "key", d->key, "type",
                                  d->type == HERD_PARAM_ENUM  ? "enum"
                                  : d->type == HERD_PARAM_INT ? "int"
                                                              : "number",
                                  "unit", d->unit, "help", d->help);
            if (d->type == HERD_PARAM_ENUM) {
                json_t *c = json_array();
                for (int k = 0; d->choices[k]; k++)
                    json_array_append_new(c, json_string(d->choices[k]));
                json_object_set_new(o, "choices", c);
                json_object_set_new(o, "default", json_string(d->choices[(int)d->def]));
            } else {
                json_object_set_new(o, "default", json_real(d->def));
                json_object_set_new(o, "min", json_real(d->min));
                json_object_set_new(o, "max", json_real(d->max));
            }
            json_array_append_new(ps, o);
        }
        for (int m = 0; sc->mitigations[m].name; m++)
            json_array_append_new(ms, json_pack("{s:s, s:s, s:s}", "name",
                                                sc->mitigations[m].name, "family",
                                                sc->mitigations[m].family, "help",
                                                sc->mitigations[m].help));
        json_t *bk = json_array();
        if (sc->backends & HERD_BACKEND_LIVE)
            json_array_append_new(bk, json_string("live"));
        if (sc->backends & HERD_BACKEND_SIM)
            json_array_append_new(bk, json_string("sim"));
        json_array_append_new(
            arr, json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:I, s:I, s:I, s:s, s:o, s:s, "
                           "s:o, s:o}",
                           "name", sc->name, "summary", sc->summary, "trigger", sc->trigger,
                           "waiters", sc->waiters, "resource", sc->resource, "naive", sc->naive,
                           "naive_help", sc->naive_help, "n_default", (json_int_t)sc->n_default,
                           "n_max", (json_int_t)HERD_N_MAX, "events_default",
                           (json_int_t)sc->events_default, "default_mitigation",
                           sc->default_mitigation, "mitigations", ms, "waiter_noun",
                           sc->waiter_noun, "params", ps, "backends", bk));
    }
    json_t *root = json_object();
    json_object_set_new(root, "scenarios", arr);
    return root;
}

int herd_write_catalogue_json(FILE *f)
{
    json_t *root = herd_catalogue_to_json();
    int rc = json_dumpf(root, f, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
    json_decref(root);
    return rc < 0 || fputc('\n', f) == EOF ? -EIO : 0;
}
