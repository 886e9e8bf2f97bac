/* write_csv.c — one header row, one row per run. Params are one column each,
 * prefixed "param_", in the scenario's order; runs of different scenarios in one
 * file each get their own header (a blank line between). */
#include "report.h"

#include <errno.h>
#include <inttypes.h>

static void header(FILE *f, const struct herd_report *r)
{
    fputs("scenario,backend,mode,mitigation,strategy,n,events,seed", f);
    for (int i = 0; r->spec.sc->params[i].key; i++)
        fprintf(f, ",param_%s", r->spec.sc->params[i].key);
    fputs(",wakes,useful,wasted,origin_load,peak,"
          "wakes_per_event,useful_per_event,wasted_per_event,origin_load_per_event,"
          "wakes_per_event_median,origin_load_per_event_median,"
          "latency_count,latency_mean_ns,latency_p50_ns,latency_p90_ns,latency_p99_ns,"
          "latency_p999_ns,latency_max_ns,workers_used,max_share,max_min_ratio,elapsed_ns\n",
          f);
}

static void row(FILE *f, const struct herd_report *r)
{
    const struct herd_run_spec *s = &r->spec;
    const struct herd_hist *h = &r->latency;
    double ev = r->nevents ? (double)r->nevents : 1.0;
    char buf[64];

    fprintf(f, "%s,%s,%s,%s,%s,%" PRId64 ",%" PRId64 ",%" PRIu64, s->sc->name, r->backend,
            s->mode == HERD_MODE_NAIVE ? "naive" : "mitigated", herd_spec_mitigation(s),
            herd_spec_strategy(s), s->n, s->events, s->seed);
    for (int i = 0; s->sc->params[i].key; i++) {
        herd_spec_format_param(s, i, buf, sizeof buf);
        fprintf(f, ",%s", buf);
    }
    fprintf(f, ",%" PRIu64 ",%" PRIu64 ",%" PRIu64 ",%" PRIu64 ",%" PRIu64, r->wakes, r->useful,
            r->wasted, r->origin_load, r->peak);
    fprintf(f, ",%.4f,%.4f,%.4f,%.4f,%.4f,%.4f", (double)r->wakes / ev, (double)r->useful / ev,
            (double)r->wasted / ev, (double)r->origin_load / ev,
            herd_median(r->ev_wakes, r->nevents), herd_median(r->ev_origin, r->nevents));
    fprintf(f, ",%" PRIu64 ",%.1f,%" PRId64 ",%" PRId64 ",%" PRId64 ",%" PRId64 ",%" PRId64,
            h->count, herd_hist_mean(h), herd_hist_quantile(h, 0.5), herd_hist_quantile(h, 0.9),
            herd_hist_quantile(h, 0.99), herd_hist_quantile(h, 0.999), h->count ? h->max : 0);
    if (r->spread.present)
        fprintf(f, ",%" PRId64 ",%.4f,%.4f", r->spread.workers_used, r->spread.max_share,
                r->spread.max_min_ratio);
    else
        fputs(",,,", f);
    fprintf(f, ",%" PRId64 "\n", r->elapsed_ns);
}

int herd_write_csv(FILE *f, struct herd_report *const *runs, size_t nruns)
{
    for (size_t i = 0; i < nruns; i++) {
        if (i == 0 || runs[i]->spec.sc != runs[i - 1]->spec.sc) {
            if (i)
                fputc('\n', f);
            header(f, runs[i]);
        }
        row(f, runs[i]);
    }
    return ferror(f) ? -EIO : 0;
}
