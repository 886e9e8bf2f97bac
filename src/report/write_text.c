/* write_text.c — the human report: runs side by side with a ratio column when two
 * runs are compared (as hyperfine does), per-event figures beside totals, latency
 * percentiles listed as wrk2 prints them, who got the work, the first waiters and
 * a timeline drawn on one shared scale for every run (a peak of 1,000 and a peak of
 * 1 must not look alike). Plain text, no colour: safe for pipes and NO_COLOR. */
#include "report.h"

#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <string.h>

#define LABEL_W 26
#define COL_W 20

struct out {
    FILE *f;
    bool utf8;
    struct herd_report *const *runs;
    size_t n;
    struct herd_figures fig[8]; /* each run's figures: its own, or the means of --runs */
};

static void fmt_count(double v, char *buf, size_t len)
{
    if (v != v) {
        snprintf(buf, len, "-");
        return;
    }
    if (fabs(v - round(v)) > 1e-9 || fabs(v) >= 1e15) {
        snprintf(buf, len, fabs(v) >= 100 ? "%.1f" : "%.2f", v);
        return;
    }
    char tmp[32];
    snprintf(tmp, sizeof tmp, "%.0f", fabs(v));
    size_t l = strlen(tmp), o = 0;
    if (v < 0 && o + 1 < len)
        buf[o++] = '-';
    for (size_t i = 0; i < l && o + 2 < len; i++) {
        if (i && (l - i) % 3 == 0)
            buf[o++] = ',';
        buf[o++] = tmp[i];
    }
    buf[o] = '\0';
}

static void fmt_ns(const struct out *o, double ns, char *buf, size_t len)
{
    const char *us = o->utf8 ? "\xc2\xb5s" : "us";
    if (ns < 1e3)
        snprintf(buf, len, "%.0fns", ns);
    else if (ns < 1e6)
        snprintf(buf, len, "%.2f%s", ns / 1e3, us);
    else if (ns < 1e9)
        snprintf(buf, len, "%.2fms", ns / 1e6);
    else
        snprintf(buf, len, "%.2fs", ns / 1e9);
}

static void fmt_ratio(const struct out *o, double a, double b, char *buf, size_t len)
{
    const char *x = o->utf8 ? "\xc3\x97" : "x";
    if (a == 0 && b == 0)
        snprintf(buf, len, "=");
    else if (b == 0)
        snprintf(buf, len, "%s", o->utf8 ? "\xe2\x88\x9e" : "inf");
    else if (a / b >= 100)
        snprintf(buf, len, "%.0f%s", a / b, x);
    else
        snprintf(buf, len, "%.2f%s", a / b, x);
}

/* Pad to @p w display columns: UTF-8 continuation bytes take no column. */
static void cell(FILE *f, const char *s, int w, bool left)
{
    int cols = 0;
    for (const char *p = s; *p; p++)
        if (((unsigned char)*p & 0xc0) != 0x80)
            cols++;
    if (!left)
        for (int i = cols; i < w; i++)
            fputc(' ', f);
    fputs(s, f);
    if (left)
        for (int i = cols; i < w; i++)
            fputc(' ', f);
}

static void row_cells(const struct out *o, const char *label, char cells[][48], bool ratio,
                      const char *ratio_text)
{
    fputs("  ", o->f);
    cell(o->f, label, LABEL_W, true);
    for (size_t i = 0; i < o->n; i++)
        cell(o->f, cells[i], COL_W, false);
    if (ratio)
        cell(o->f, ratio_text, 14, false);
    fputc('\n', o->f);
}

typedef double (*fig_fn)(const struct herd_report *r, const struct herd_figures *f);

/* One figure: @p get reads it from run i. The ratio is first run / second run. */
static void row_fig(const struct out *o, const char *label, fig_fn get, bool time)
{
    char cells[8][48], ratio[32] = "";
    for (size_t i = 0; i < o->n && i < 8; i++) {
        double v = get(o->runs[i], &o->fig[i]);
        if (time)
            fmt_ns(o, v, cells[i], sizeof cells[i]);
        else
            fmt_count(v, cells[i], sizeof cells[i]);
    }
    if (o->n == 2)
        fmt_ratio(o, get(o->runs[0], &o->fig[0]), get(o->runs[1], &o->fig[1]), ratio,
                  sizeof ratio);
    row_cells(o, label, cells, o->n == 2, ratio);
}

#define FIG(name, expr)                                                                     \
    static double name(const struct herd_report *r, const struct herd_figures *f)           \
    {                                                                                       \
        (void)r;                                                                            \
        (void)f;                                                                            \
        return (expr);                                                                      \
    }
FIG(g_wakes, f->wakes)
FIG(g_wakes_ev, f->pe_wakes)
FIG(g_wakes_med, herd_median(r->ev_wakes, r->nevents))
FIG(g_useful, f->useful)
FIG(g_useful_ev, f->pe_useful)
FIG(g_wasted, f->wasted)
FIG(g_wasted_ev, f->pe_wasted)
FIG(g_wasted_med, herd_median(r->ev_wasted, r->nevents))
FIG(g_origin, f->origin_load)
FIG(g_origin_ev, f->pe_origin_load)
FIG(g_origin_med, herd_median(r->ev_origin, r->nevents))
FIG(g_peak, f->peak)
FIG(g_p50, f->lat_p50)
FIG(g_p75, (double)herd_hist_quantile(&r->latency, 0.75))
FIG(g_p90, f->lat_p90)
FIG(g_p99, f->lat_p99)
FIG(g_p999, f->lat_p999)
FIG(g_max, f->lat_max)
FIG(g_mean, f->lat_mean)
FIG(g_count, (double)r->latency.count)
FIG(g_elapsed, f->elapsed_ns)
FIG(g_simtime, f->sim_time_ns)
#undef FIG

static void section(const struct out *o, const char *title)
{
    fprintf(o->f, "\n%s\n", title);
}

static void header_row(const struct out *o)
{
    char cells[8][48];
    for (size_t i = 0; i < o->n && i < 8; i++) {
        const struct herd_report *r = o->runs[i];
        snprintf(cells[i], sizeof cells[i], "%s", herd_spec_strategy(&r->spec));
    }
    row_cells(o, "", cells, o->n == 2, o->n == 2 ? "ratio" : "");
    /* Side by side on two backends (herd run --backend both), each column says which. */
    bool mixed = false;
    for (size_t i = 1; i < o->n; i++)
        mixed |= strcmp(o->runs[i]->backend, o->runs[0]->backend) != 0;
    for (size_t i = 0; i < o->n && i < 8; i++) {
        const char *mode = o->runs[i]->spec.mode == HERD_MODE_NAIVE ? "naive" : "mitigated";
        if (mixed)
            snprintf(cells[i], sizeof cells[i], "(%s, %s)", o->runs[i]->backend, mode);
        else
            snprintf(cells[i], sizeof cells[i], "(%s)", mode);
    }
    char what[32] = "";
    if (o->n == 2 && o->runs[0]->spec.mode != o->runs[1]->spec.mode)
        snprintf(what, sizeof what, "%s/%s",
                 o->runs[0]->spec.mode == HERD_MODE_NAIVE ? "naive" : "mitig.",
                 o->runs[1]->spec.mode == HERD_MODE_NAIVE ? "naive" : "mitig.");
    else if (o->n == 2 && mixed)
        snprintf(what, sizeof what, "%s/%s", o->runs[0]->backend, o->runs[1]->backend);
    row_cells(o, "", cells, o->n == 2, what);
}

static void spread_rows(const struct out *o)
{
    bool any = false;
    for (size_t i = 0; i < o->n; i++)
        any |= o->runs[i]->spread.present;
    if (!any)
        return;
    char cells[8][48];
    section(o, "Spread (who got the work)");
    for (size_t i = 0; i < o->n && i < 8; i++) {
        const struct herd_spread *s = &o->runs[i]->spread;
        snprintf(cells[i], sizeof cells[i], s->present ? "%" PRId64 " of %" PRId64 : "-",
                 s->workers_used, s->workers);
    }
    row_cells(o, "workers used", cells, false, "");
    for (size_t i = 0; i < o->n && i < 8; i++)
        snprintf(cells[i], sizeof cells[i], "%.1f%%", 100.0 * o->runs[i]->spread.max_share);
    row_cells(o, "busiest worker's share", cells, false, "");
    for (size_t i = 0; i < o->n && i < 8; i++)
        snprintf(cells[i], sizeof cells[i], "%.2f", o->runs[i]->spread.max_min_ratio);
    row_cells(o, "max/min (workers used)", cells, false, "");
}

static void extra_rows(const struct out *o)
{
    /* The union of extras, in first-seen order. */
    const char *names[HERD_REPORT_MAX_EXTRAS * 2];
    int nn = 0;
    for (size_t i = 0; i < o->n; i++) {
        for (int e = 0; e < o->runs[i]->nextras; e++) {
            const char *name = o->runs[i]->extras[e].name;
            int k = 0;
            while (k < nn && strcmp(names[k], name) != 0)
                k++;
            if (k == nn && nn < (int)(sizeof names / sizeof names[0]))
                names[nn++] = name;
        }
    }
    if (nn == 0)
        return;
    section(o, "Details");
    for (int k = 0; k < nn; k++) {
        char cells[8][48];
        for (size_t i = 0; i < o->n && i < 8; i++) {
            double v;
            if (herd_report_get_extra(o->runs[i], names[k], &v))
                fmt_count(v, cells[i], sizeof cells[i]);
            else
                snprintf(cells[i], sizeof cells[i], "-");
        }
        row_cells(o, names[k], cells, false, "");
    }
}

static char outcome_symbol(unsigned char o)
{
    static const char sym[] = ".o#xs!t"; /* idle woken useful wasted stale failed timed-out */
    return o < sizeof sym - 1 ? sym[o] : '?';
}

static void waiter_rows(const struct out *o)
{
    section(o, "Waiters (first 60 drawn; # useful, x wasted, o woken and served, s stale, "
               "! failed, t timed out, . idle)");
    for (size_t i = 0; i < o->n; i++) {
        const struct herd_report *r = o->runs[i];
        size_t counts[8] = {0};
        char line[64];
        size_t shown = r->nwaiters < 60 ? r->nwaiters : 60;
        for (size_t w = 0; w < r->nwaiters; w++)
            counts[r->waiters[w] & 7]++;
        for (size_t w = 0; w < shown; w++)
            line[w] = outcome_symbol(r->waiters[w]);
        line[shown] = '\0';
        fprintf(o->f, "  %-16.16s %s\n", herd_spec_strategy(&r->spec), line);
        fprintf(o->f, "  %-16s of the first %zu: %zu useful, %zu wasted, %zu woken, %zu stale, "
                      "%zu failed, %zu timed out, %zu idle\n",
                "", r->nwaiters, counts[HERD_OUT_USEFUL], counts[HERD_OUT_WASTED],
                counts[HERD_OUT_WOKEN], counts[HERD_OUT_STALE], counts[HERD_OUT_FAILED],
                counts[HERD_OUT_TIMEDOUT], counts[HERD_OUT_IDLE]);
    }
}

#define SPARK_W 64

static void timeline_rows(const struct out *o)
{
    static const char *const blocks_utf8[] = {" ", "\xe2\x96\x81", "\xe2\x96\x82",
                                              "\xe2\x96\x83", "\xe2\x96\x84", "\xe2\x96\x85",
                                              "\xe2\x96\x86", "\xe2\x96\x87", "\xe2\x96\x88"};
    static const char blocks_ascii[] = " .:-=+*#@";
    const struct herd_report *first = o->runs[0];
    for (int s = 0; s < first->timeline.nseries; s++) {
        const char *name = first->timeline.series[s].name;
        /* One scale for every run: the largest bucket of any run, and one bucket width
         * per column chosen from the longest timeline. */
        int64_t peak = 0;
        int64_t span = 0;
        for (size_t i = 0; i < o->n; i++) {
            const struct herd_timeline *tl = &o->runs[i]->timeline;
            int64_t sp = tl->bucket_ns * (int64_t)tl->len;
            if (sp > span)
                span = sp;
        }
        if (span <= 0)
            continue;
        int64_t col_ns = (span + SPARK_W - 1) / SPARK_W;
        int64_t cols[8][SPARK_W];
        memset(cols, 0, sizeof cols);
        for (size_t i = 0; i < o->n && i < 8; i++) {
            const struct herd_timeline *tl = &o->runs[i]->timeline;
            const int64_t *v = NULL;
            for (int k = 0; k < tl->nseries; k++)
                if (strcmp(tl->series[k].name, name) == 0)
                    v = tl->series[k].v;
            if (!v)
                continue;
            for (size_t b = 0; b < tl->len; b++) {
                size_t c = (size_t)((int64_t)b * tl->bucket_ns / col_ns);
                if (c >= SPARK_W)
                    c = SPARK_W - 1;
                /* arrivals add up within a column; levels take the max */
                bool additive = strcmp(name, "arrivals") == 0 || strcmp(name, "wakes") == 0 ||
                                strcmp(name, "errors") == 0 || strcmp(name, "retries") == 0 ||
                                strcmp(name, "stale") == 0;
                if (additive)
                    cols[i][c] += v[b];
                else if (v[b] > cols[i][c])
                    cols[i][c] = v[b];
            }
            for (int c = 0; c < SPARK_W; c++)
                if (cols[i][c] > peak)
                    peak = cols[i][c];
        }
        char dur[32], pk[32];
        fmt_ns(o, (double)col_ns, dur, sizeof dur);
        fmt_count((double)peak, pk, sizeof pk);
        fprintf(o->f, "\nTimeline: %s per %s column (one scale for all rows, top = %s)\n", name,
                dur, pk);
        for (size_t i = 0; i < o->n && i < 8; i++) {
            fprintf(o->f, "  %-16.16s |", herd_spec_strategy(&o->runs[i]->spec));
            for (int c = 0; c < SPARK_W; c++) {
                int lvl = 0;
                if (cols[i][c] > 0 && peak > 0) {
                    lvl = (int)ceil(8.0 * (double)cols[i][c] / (double)peak);
                    lvl = lvl < 1 ? 1 : lvl > 8 ? 8 : lvl;
                }
                if (o->utf8)
                    fputs(blocks_utf8[lvl], o->f);
                else
                    fputc(blocks_ascii[lvl], o->f);
            }
            fputs("|\n", o->f);
        }
    }
}

int herd_write_text(FILE *f, struct herd_report *const *runs, size_t nruns, bool utf8)
{
    if (nruns == 0)
        return 0;
    struct out o = {.f = f, .utf8 = utf8, .runs = runs, .n = nruns > 8 ? 8 : nruns};
    for (size_t i = 0; i < o.n; i++) {
        if (runs[i]->runs > 1)
            o.fig[i] = runs[i]->mean;
        else
            herd_report_figures(runs[i], &o.fig[i]);
    }
    const struct herd_report *r0 = runs[0];
    const struct herd_run_spec *s = &r0->spec;
    const char *dot = utf8 ? " \xc2\xb7 " : " | ";
    char buf[64];

    char backends[32];
    snprintf(backends, sizeof backends, "%s", r0->backend);
    for (size_t i = 1; i < o.n; i++)
        if (!strstr(backends, runs[i]->backend)) /* "live" and "sim": no name holds another */
            snprintf(backends + strlen(backends), sizeof backends - strlen(backends), " + %s",
                     runs[i]->backend);
    fprintf(f, "%s%s%s%sn=%" PRId64 "%sevents=%" PRId64 "%sseed=%" PRIu64 "\n", s->sc->name, dot,
            backends, dot, s->n, dot, s->events, dot, s->seed);
    fputs("  params:", f);
    for (int i = 0; s->sc->params[i].key; i++) {
        herd_spec_format_param(s, i, buf, sizeof buf);
        fprintf(f, " %s=%s", s->sc->params[i].key, buf);
    }
    fputc('\n', f);
    fprintf(f, "  %s: %s; %s contend for %s\n", s->sc->trigger, s->sc->naive, s->sc->waiters,
            s->sc->resource);
    if (r0->runs > 1)
        fprintf(f, "  figures are means over %d runs with derived seeds (medians and the "
                   "details are the first run's)\n",
                r0->runs);

    fputc('\n', f);
    header_row(&o);
    row_fig(&o, "wakes", g_wakes, false);
    row_fig(&o, "  per event (mean)", g_wakes_ev, false);
    row_fig(&o, "  per event (median)", g_wakes_med, false);
    row_fig(&o, "useful", g_useful, false);
    row_fig(&o, "  per event", g_useful_ev, false);
    row_fig(&o, "wasted", g_wasted, false);
    row_fig(&o, "  per event (mean)", g_wasted_ev, false);
    row_fig(&o, "  per event (median)", g_wasted_med, false);
    row_fig(&o, "origin load", g_origin, false);
    row_fig(&o, "  per event (mean)", g_origin_ev, false);
    row_fig(&o, "  per event (median)", g_origin_med, false);
    row_fig(&o, "peak", g_peak, false);

    section(&o, "Latency distribution (from the trigger)");
    row_fig(&o, "   50.000%", g_p50, true);
    row_fig(&o, "   75.000%", g_p75, true);
    row_fig(&o, "   90.000%", g_p90, true);
    row_fig(&o, "   99.000%", g_p99, true);
    row_fig(&o, "   99.900%", g_p999, true);
    row_fig(&o, "  100.000% (max)", g_max, true);
    row_fig(&o, "  mean", g_mean, true);
    row_fig(&o, "  samples", g_count, false);

    spread_rows(&o);
    extra_rows(&o);
    waiter_rows(&o);
    timeline_rows(&o);
    fputc('\n', f);
    row_fig(&o, "elapsed (wall)", g_elapsed, true);
    if (r0->sim_time_ns >= 0)
        row_fig(&o, "simulated time", g_simtime, true);
    return ferror(f) ? -EIO : 0;
}
