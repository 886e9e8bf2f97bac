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
          "latency_p999_ns,latency_max_ns,workers_used,max_share,max_min_ratio,elapsed_ns,runs\n",
          f);
}

static void row(FILE *f, const struct herd_report *r)
{
    const struct herd_run_spec *s = &r->spec;
    const struct herd_hist *h = &r->latency;
    char buf[64];

    fprintf(f, "%s,%s,%s,%s,%s,%" PRId64 ",%" PRId64 ",%" PRIu64, s->sc->name, r->backend,
            s->mode == HERD_MODE_NAIVE ? "naive" : "mitigated", herd_spec_mitigation(s),
            herd_spec_strategy(s), s->n, s->events, s->seed);
    for (int i = 0; s->sc->params[i].key; i++) {
        herd_spec_format_param(s, i, buf, sizeof buf);
        fprintf(f, ",%s", buf);
    }
    /* With --runs R the figures are means over the runs (herd_report_aggregate). */
    struct herd_figures g;
    if (r->runs > 1)
        g = r->mean;
    else
        herd_report_figures(r, &g);
    fprintf(f, ",%.10g,%.10g,%.10g,%.10g,%.10g", g.wakes, g.useful, g.wasted, g.origin_load,
            g.peak);
    fprintf(f, ",%.4f,%.4f,%.4f,%.4f,%.4f,%.4f", g.pe_wakes, g.pe_useful, g.pe_wasted,
            g.pe_origin_load, herd_median(r->ev_wakes, r->nevents),
            herd_median(r->ev_origin, r->nevents));
    fprintf(f, ",%" PRIu64 ",%.1f,%.10g,%.10g,%.10g,%.10g,%.10g", h->count, g.lat_mean,
            g.lat_p50, g.lat_p90, g.lat_p99, g.lat_p999, g.lat_max);
    if (r->spread.present)
        fprintf(f, ",%" PRId64 ",%.4f,%.4f", r->spread.workers_used, r->spread.max_share,
                r->spread.max_min_ratio);
    else
        fputs(",,,", f);
    fprintf(f, ",%.10g,%d\n", g.elapsed_ns, r->runs);
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
