/* write_csv.c — one header row, one row per run. Params are one column each,
 * prefixed "param_", in the scenario's order; runs of different scenarios in one
 * file each get their own header (a blank line between). The outcome columns are the
 * five classes of docs/glossary.md, totals then per event. */
#include "report.h"

#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <string.h>

static void header(FILE *f, const struct herd_report *r)
{
    fputs("scenario,backend,mode,mitigation,strategy,n,events,seed", f);
    for (int i = 0; i < r->run.nparams; i++)
        fprintf(f, ",param_%s", r->run.params[i].key);
    fputs(",wakes,useful,served,wasted,failed,idle,origin_load,peak,"
          "wakes_per_event,useful_per_event,served_per_event,wasted_per_event,"
          "failed_per_event,origin_load_per_event,"
          "wakes_per_event_median,origin_load_per_event_median,"
          "latency_count,latency_mean_ns,latency_p50_ns,latency_p90_ns,latency_p99_ns,"
          "latency_p999_ns,latency_max_ns,workers_used,max_share,max_min_ratio,sim_time_ns,"
          "runs\n",
          f);
}

static void row(FILE *f, const struct herd_report *r)
{
    const struct herd_run_info *s = &r->run;
    const struct herd_hist *h = &r->latency;

    fprintf(f, "%s,%s,%s,%s,%s,%" PRId64 ",%" PRId64 ",%" PRIu64, s->scenario, r->backend,
            s->naive ? "naive" : "mitigated", s->mitigation, s->strategy, s->n, s->events,
            s->seed);
    for (int i = 0; i < s->nparams; i++)
        fprintf(f, ",%s", s->params[i].text);
    struct herd_figures g;
    herd_report_figures(r, &g);
    fprintf(f, ",%.10g,%.10g,%.10g,%.10g,%.10g,%.10g,%.10g,%.10g", g.wakes, g.useful, g.served,
            g.wasted, g.failed, g.idle, g.origin_load, g.peak);
    fprintf(f, ",%.4f,%.4f,%.4f,%.4f,%.4f,%.4f", g.pe_wakes, g.pe_useful, g.pe_served,
            g.pe_wasted, g.pe_failed, g.pe_origin_load);
    const int med[] = {HERD_EV_CI_WAKES, HERD_EV_CI_ORIGIN};
    for (size_t i = 0; i < sizeof med / sizeof med[0]; i++) {
        double m = herd_report_ev_median(r, med[i]);
        if (isfinite(m))
            fprintf(f, ",%.4f", m);
        else
            fputc(',', f); /* no figure (out of memory): an empty field, never "nan" */
    }
    fprintf(f, ",%" PRIu64 ",%.1f,%.10g,%.10g,%.10g,%.10g,%.10g", h->count, g.lat_mean,
            g.lat_p50, g.lat_p90, g.lat_p99, g.lat_p999, g.lat_max);
    if (r->spread.present)
        fprintf(f, ",%" PRId64 ",%.4f,%.4f", r->spread.workers_used, r->spread.max_share,
                r->spread.max_min_ratio);
    else
        fputs(",,,", f);
    if (r->sim_time_ns >= 0)
        fprintf(f, ",%" PRId64, r->sim_time_ns);
    else
        fputc(',', f);
    fprintf(f, ",%d\n", r->runs);
}

int herd_write_csv(FILE *f, struct herd_report *const *runs, size_t nruns)
{
    for (size_t i = 0; i < nruns; i++) {
        if (i == 0 || strcmp(runs[i]->run.scenario, runs[i - 1]->run.scenario) != 0) {
            if (i)
                fputc('\n', f);
            header(f, runs[i]);
        }
        row(f, runs[i]);
    }
    /* Fleet runs: their per-component section after every run's row (fleet_figures.c). */
    for (size_t i = 0; i < nruns; i++) {
        if (!runs[i]->fleet)
            continue;
        char label[32];
        snprintf(label, sizeof label, "%zu", i + 1);
        fputc('\n', f);
        if (herd_fleet_figures_csv(f, runs[i]->fleet, label) < 0)
            return -EIO;
    }
    return ferror(f) ? -EIO : 0;
}
