/* write_text.c — the human report: runs side by side with a ratio column when two
 * runs are compared (as hyperfine does), per-event figures beside totals, latency
 * percentiles listed as wrk2 prints them, who got the work, the first waiters and
 * a timeline drawn on one shared scale for every run (a peak of 1,000 and a peak of
 * 1 must not look alike). Plain text, no colour: safe for pipes and NO_COLOR.
 *
 * Width: the tables fit opts->width columns (100 by default): with more runs than fit,
 * the runs are printed in blocks of as many columns as fit, one after the other, every
 * run in one of them; opts->wide puts them all side by side however wide. Nothing is
 * ever dropped. */
#include "report.h"

#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#define LABEL_W 26
#define COL_W 18
#define RATIO_W 24
#define WIDTH_DEFAULT 100

struct out {
    FILE *f;
    bool utf8;
    struct herd_report *const *runs; /* the runs of this block */
    size_t n;
    struct herd_figures *fig; /* each run's figures */
};

/* A count: thousands separated ("1,234"), a fraction with two decimals below 100 ("12.35")
 * and one above ("123.4"). */
static void fmt_count(double v, char *buf, size_t len)
{
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

/* Nanoseconds with two decimals in the largest unit below the value, as wrk2 prints them. */
static void fmt_ns(double ns, bool utf8, char *buf, size_t len)
{
    const char *us = utf8 ? "\xc2\xb5s" : "us";
    if (ns < 1e3)
        snprintf(buf, len, "%.0fns", ns);
    else if (ns < 1e6)
        snprintf(buf, len, "%.2f%s", ns / 1e3, us);
    else if (ns < 1e9)
        snprintf(buf, len, "%.2fms", ns / 1e6);
    else
        snprintf(buf, len, "%.2fs", ns / 1e9);
}

void herd_text_value(char *buf, size_t len, double v, bool time, bool utf8)
{
    if (isnan(v))
        snprintf(buf, len, "-");
    else if (isinf(v))
        snprintf(buf, len, "%s%s", v < 0 ? "-" : "", utf8 ? "\xe2\x88\x9e" : "inf");
    else if (time)
        fmt_ns(v, utf8, buf, len);
    else
        fmt_count(v, buf, len);
}

/* The unit a formatted time ends in ("ms" of "25.62ms"): its trailing non-digits. */
static size_t unit_at(const char *s)
{
    size_t n = strlen(s);
    while (n && !(s[n - 1] >= '0' && s[n - 1] <= '9'))
        n--;
    return n;
}

void herd_text_interval(char *buf, size_t len, const struct herd_stats_interval *ci, bool time,
                        bool utf8, enum herd_text_ci_part part)
{
    char point[40] = "", bounds[80] = "";
    if (part != HERD_TEXT_CI_BOUNDS) {
        herd_text_value(point, sizeof point - 1, ci->point, time, utf8);
        if (!ci->enough_samples)
            strcat(point, "*");
    }
    if (part != HERD_TEXT_CI_POINT && isinf(ci->lo) && isinf(ci->hi)) {
        snprintf(bounds, sizeof bounds, "(unbounded)");
    } else if (part != HERD_TEXT_CI_POINT) {
        char lo[32], hi[32], unit[8] = "";
        herd_text_value(lo, sizeof lo, ci->lo, time, utf8);
        herd_text_value(hi, sizeof hi, ci->hi, time, utf8);
        /* "[25.62, 26.80]ms": one unit after the bracket when both bounds share it */
        if (time && isfinite(ci->lo) && isfinite(ci->hi)) {
            size_t ul = unit_at(lo), uh = unit_at(hi);
            if (strcmp(lo + ul, hi + uh) == 0 && strlen(hi + uh) < sizeof unit) {
                memcpy(unit, hi + uh, strlen(hi + uh) + 1);
                lo[ul] = '\0';
                hi[uh] = '\0';
            }
        }
        snprintf(bounds, sizeof bounds, "%s%s, %s%s%s", isfinite(ci->lo) ? "[" : "(", lo, hi,
                 isfinite(ci->hi) ? "]" : ")", unit);
    }
    snprintf(buf, len, "%s%s%s", point, point[0] && bounds[0] ? " " : "", bounds);
}

int herd_text_cell(FILE *f, const char *s, int width, bool left)
{
    int cols = 0;
    for (const char *p = s; *p; p++)
        cols += ((unsigned char)*p & 0xc0) != 0x80; /* continuation bytes take no column */
    if (!left)
        for (int i = cols; i < width; i++)
            fputc(' ', f);
    fputs(s, f);
    if (left)
        for (int i = cols; i < width; i++)
            fputc(' ', f);
    return cols > width ? cols : width;
}

static void fmt_ratio(const struct out *o, double a, double b, char *buf, size_t len)
{
    const char *x = o->utf8 ? "\xc3\x97" : "x";
    if (isnan(a) || isnan(b))
        snprintf(buf, len, "-"); /* a figure one side does not have */
    else if (a == 0 && b == 0)
        snprintf(buf, len, "=");
    else if (b == 0)
        snprintf(buf, len, "%s", o->utf8 ? "\xe2\x88\x9e" : "inf");
    else if (a / b >= 100)
        snprintf(buf, len, "%.0f%s", a / b, x);
    else
        snprintf(buf, len, "%.2f%s", a / b, x);
}

static void row_cells(const struct out *o, const char *label, char (*cells)[48], bool ratio,
                      const char *ratio_text)
{
    fputs("  ", o->f);
    herd_text_cell(o->f, label, LABEL_W, true);
    for (size_t i = 0; i < o->n; i++) {
        fputc(' ', o->f); /* a column's cells never touch, however full */
        herd_text_cell(o->f, cells[i], COL_W - 1, false);
    }
    if (ratio) {
        fputc(' ', o->f);
        herd_text_cell(o->f, ratio_text, RATIO_W - 1, false);
    }
    fputc('\n', o->f);
}

typedef double (*fig_fn)(const struct herd_report *r, const struct herd_figures *f);

/* One figure: @p get reads it from run i. The ratio is first run / second run. */
static void row_fig(const struct out *o, const char *label, fig_fn get, bool time)
{
    char cells[HERD_TEXT_MAX_RUNS][48], ratio[32] = "";
    for (size_t i = 0; i < o->n; i++)
        herd_text_value(cells[i], sizeof cells[i], get(o->runs[i], &o->fig[i]), time, o->utf8);
    if (o->n == 2)
        fmt_ratio(o, get(o->runs[0], &o->fig[0]), get(o->runs[1], &o->fig[1]), ratio,
                  sizeof ratio);
    row_cells(o, label, cells, o->n == 2, ratio);
}

/*
 * A figure with its 95 % interval: the point in the row (with "*" when there are too
 * few samples to bound it: the footnote says so), the interval on a line under it, and
 * for two runs the ratio with its interval, or "no difference measured" when the two
 * intervals overlap. Without intervals (a report that has none) it is row_fig.
 */
static void row_ci(const struct out *o, const char *label, fig_fn get, bool time, int which,
                   bool latency)
{
    bool all = true;
    for (size_t i = 0; i < o->n; i++)
        all &= o->runs[i]->ci.present;
    if (!all) {
        row_fig(o, label, get, time);
        return;
    }
    char cells[HERD_TEXT_MAX_RUNS][48], under[HERD_TEXT_MAX_RUNS][48], ratio[48] = "";
    for (size_t i = 0; i < o->n; i++) {
        const struct herd_stats_interval *ci =
            latency ? &o->runs[i]->ci.lat[which] : &o->runs[i]->ci.ev[which];
        herd_text_interval(cells[i], sizeof cells[i], ci, time, o->utf8, HERD_TEXT_CI_POINT);
        herd_text_interval(under[i], sizeof under[i], ci, time, o->utf8, HERD_TEXT_CI_BOUNDS);
    }
    if (o->n == 2) {
        const struct herd_report_ci *a = &o->runs[0]->ci, *b = &o->runs[1]->ci;
        struct herd_stats_comparison c =
            latency ? herd_stats_compare(&a->lat[which], &b->lat[which])
                    : herd_stats_compare(&a->ev[which], &b->ev[which]);
        if (herd_stats_format_comparison(ratio, sizeof ratio, &c,
                                         o->utf8 ? HERD_STATS_UTF8 : HERD_STATS_ASCII) < 0)
            snprintf(ratio, sizeof ratio, "?");
    }
    row_cells(o, label, cells, o->n == 2, ratio);
    row_cells(o, "", under, o->n == 2, "");
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
FIG(g_wakes_med, herd_report_ev_median(r, HERD_EV_CI_WAKES))
FIG(g_useful, f->useful)
FIG(g_useful_ev, f->pe_useful)
FIG(g_wasted, f->wasted)
FIG(g_wasted_ev, f->pe_wasted)
FIG(g_wasted_med, herd_report_ev_median(r, HERD_EV_CI_WASTED))
FIG(g_origin, f->origin_load)
FIG(g_origin_ev, f->pe_origin_load)
FIG(g_origin_med, herd_report_ev_median(r, HERD_EV_CI_ORIGIN))
FIG(g_served, f->served)
FIG(g_served_ev, f->pe_served)
FIG(g_failed, f->failed)
FIG(g_idle, f->idle)
FIG(g_peak, f->peak)
FIG(g_p50, f->lat_p50)
FIG(g_p75, (double)herd_hist_quantile(&r->latency, 0.75))
FIG(g_p90, f->lat_p90)
FIG(g_p99, f->lat_p99)
FIG(g_p999, f->lat_p999)
FIG(g_max, f->lat_max)
FIG(g_mean, f->lat_mean)
FIG(g_count, (double)r->latency.count)
FIG(g_simtime, r->sim_time_ns >= 0 ? f->sim_time_ns : NAN) /* a live run has none: "-" */
#undef FIG

static void section(const struct out *o, const char *title)
{
    fprintf(o->f, "\n%s\n", title);
}

static void header_row(const struct out *o)
{
    char cells[HERD_TEXT_MAX_RUNS][48];
    for (size_t i = 0; i < o->n; i++) {
        const struct herd_report *r = o->runs[i];
        snprintf(cells[i], sizeof cells[i], "%s", r->run.strategy);
    }
    row_cells(o, "", cells, o->n == 2, o->n == 2 ? "ratio" : "");
    /* Side by side on two backends (herd run --backend both), each column says which. */
    bool mixed = false;
    for (size_t i = 1; i < o->n; i++)
        mixed |= strcmp(o->runs[i]->backend, o->runs[0]->backend) != 0;
    for (size_t i = 0; i < o->n; i++) {
        const char *mode = o->runs[i]->run.naive ? "naive" : "mitigated";
        if (mixed)
            snprintf(cells[i], sizeof cells[i], "(%s, %s)", o->runs[i]->backend, mode);
        else
            snprintf(cells[i], sizeof cells[i], "(%s)", mode);
    }
    char what[32] = "";
    if (o->n == 2 && o->runs[0]->run.naive != o->runs[1]->run.naive)
        snprintf(what, sizeof what, "%s/%s", o->runs[0]->run.naive ? "naive" : "mitig.",
                 o->runs[1]->run.naive ? "naive" : "mitig.");
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
    char cells[HERD_TEXT_MAX_RUNS][48];
    section(o, "Spread (who got the work)");
    for (size_t i = 0; i < o->n; i++) {
        const struct herd_spread *s = &o->runs[i]->spread;
        snprintf(cells[i], sizeof cells[i], s->present ? "%" PRId64 " of %" PRId64 : "-",
                 s->workers_used, s->workers);
    }
    row_cells(o, "workers used", cells, false, "");
    for (size_t i = 0; i < o->n; i++)
        snprintf(cells[i], sizeof cells[i], "%.1f%%", 100.0 * o->runs[i]->spread.max_share);
    row_cells(o, "busiest worker's share", cells, false, "");
    for (size_t i = 0; i < o->n; i++)
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
        char cells[HERD_TEXT_MAX_RUNS][48];
        for (size_t i = 0; i < o->n; i++) {
            double v;
            if (herd_report_get_extra(o->runs[i], names[k], &v))
                herd_text_value(cells[i], sizeof cells[i], v, false, o->utf8);
            else
                snprintf(cells[i], sizeof cells[i], "-");
        }
        row_cells(o, names[k], cells, false, "");
    }
}

static char outcome_symbol(enum herd_outcome o)
{
    static const char sym[HERD_OUT_COUNT] = {
        [HERD_OUT_IDLE] = '.', [HERD_OUT_USEFUL] = '#', [HERD_OUT_SERVED] = 'o',
        [HERD_OUT_WASTED] = 'x', [HERD_OUT_FAILED] = '!'};
    return sym[o];
}

static void waiter_rows(const struct out *o)
{
    section(o, "Waiters (first 60 drawn; # useful, o served, x wasted, ! failed, . idle)");
    for (size_t i = 0; i < o->n; i++) {
        const struct herd_report *r = o->runs[i];
        size_t counts[HERD_OUT_COUNT] = {0};
        char line[64];
        size_t shown = r->nwaiters < 60 ? r->nwaiters : 60;
        for (size_t w = 0; w < r->nwaiters; w++)
            counts[herd_waiter_class(&r->waiters[w])]++;
        for (size_t w = 0; w < shown; w++)
            line[w] = outcome_symbol(herd_waiter_class(&r->waiters[w]));
        line[shown] = '\0';
        fprintf(o->f, "  %-16.16s %s\n", r->run.strategy, line);
        fprintf(o->f, "  %-16s of the first %zu: %zu useful, %zu served, %zu wasted, %zu failed, "
                      "%zu idle\n",
                "", r->nwaiters, counts[HERD_OUT_USEFUL], counts[HERD_OUT_SERVED],
                counts[HERD_OUT_WASTED], counts[HERD_OUT_FAILED], counts[HERD_OUT_IDLE]);
    }
}

#define SPARK_W 64

/* One row per run, every run of the report (not one block's): the columns are sized per
 * call, so any number of runs fits and two writers may run at once. @return 0 or -ENOMEM. */
static int timeline_rows(const struct out *o)
{
    static const char *const blocks_utf8[] = {" ", "\xe2\x96\x81", "\xe2\x96\x82",
                                              "\xe2\x96\x83", "\xe2\x96\x84", "\xe2\x96\x85",
                                              "\xe2\x96\x86", "\xe2\x96\x87", "\xe2\x96\x88"};
    static const char blocks_ascii[] = " .:-=+*#@";
    const struct herd_report *first = o->runs[0];
    int64_t(*cols)[SPARK_W] = calloc(o->n, sizeof *cols);
    if (!cols)
        return -ENOMEM;
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
        memset(cols, 0, o->n * sizeof *cols);
        for (size_t i = 0; i < o->n; i++) {
            const struct herd_timeline *tl = &o->runs[i]->timeline;
            const struct herd_series *sr = NULL;
            for (int k = 0; k < tl->nseries; k++)
                if (strcmp(tl->series[k].name, name) == 0)
                    sr = &tl->series[k];
            if (!sr)
                continue;
            const int64_t *v = sr->v;
            for (size_t b = 0; b < tl->len; b++) {
                size_t c = (size_t)((int64_t)b * tl->bucket_ns / col_ns);
                if (c >= SPARK_W)
                    c = SPARK_W - 1;
                /* counts add up within a column; levels take the max */
                if (sr->sums)
                    cols[i][c] += v[b];
                else if (v[b] > cols[i][c])
                    cols[i][c] = v[b];
            }
            for (int c = 0; c < SPARK_W; c++)
                if (cols[i][c] > peak)
                    peak = cols[i][c];
        }
        char dur[32], pk[32];
        herd_text_value(dur, sizeof dur, (double)col_ns, true, o->utf8);
        herd_text_value(pk, sizeof pk, (double)peak, false, o->utf8);
        fprintf(o->f, "\nTimeline: %s per %s column (one scale for all rows, top = %s)\n", name,
                dur, pk);
        for (size_t i = 0; i < o->n; i++) {
            fprintf(o->f, "  %-16.16s |", o->runs[i]->run.strategy);
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
    free(cols);
    return 0;
}

void herd_text_wrap(FILE *f, const char *first, const char *text, int indent, int width)
{
    int col = fprintf(f, "%s", first);
    const char *p = text;
    while (*p) {
        const char *e = p;
        int w = 0;
        while (*e && *e != ' ') {
            w += ((unsigned char)*e & 0xc0) != 0x80;
            e++;
        }
        if (col > indent && col + 1 + w > width) {
            fprintf(f, "\n%*s", indent, "");
            col = indent;
        } else if (p != text) {
            fputc(' ', f);
            col++;
        }
        fwrite(p, 1, (size_t)(e - p), f);
        col += w;
        p = *e ? e + 1 : e;
    }
    fputc('\n', f);
}

/* The runs' backends, "live" or "live + sim". */
static void backends_of(struct herd_report *const *runs, size_t n, char *buf, size_t len)
{
    snprintf(buf, len, "%s", runs[0]->backend);
    for (size_t i = 1; i < n; i++)
        if (!strstr(buf, runs[i]->backend)) /* "live" and "sim": no name holds another */
            snprintf(buf + strlen(buf), len - strlen(buf), " + %s", runs[i]->backend);
}

/* The heading: what ran, with which settings, how often, on how noisy a machine; wrapped
 * at @p width, as the tables are. */
static void heading(FILE *f, struct herd_report *const *runs, size_t n, bool utf8, int width)
{
    const struct herd_report *r0 = runs[0];
    const struct herd_run_info *s = &r0->run;
    const char *dot = utf8 ? " \xc2\xb7 " : " | ";
    char backends[32];
    backends_of(runs, n, backends, sizeof backends);
    fprintf(f, "%s%s%s%sn=%" PRId64 "%sevents=%" PRId64 "%sseed=%" PRIu64, s->scenario, dot,
            backends, dot, s->n, dot, s->events, dot, s->seed);
    if (r0->runs > 1)
        fprintf(f, "%s%d runs", dot, r0->runs);
    fputc('\n', f);
    /* params, wrapped at the width like any other line */
    int col = fprintf(f, "  params:");
    for (int i = 0; i < s->nparams; i++) {
        int w = (int)(strlen(s->params[i].key) + strlen(s->params[i].text)) + 2;
        if (col + w > width) {
            fputs("\n         ", f);
            col = 9;
        }
        col += fprintf(f, " %s=%s", s->params[i].key, s->params[i].text);
    }
    fputc('\n', f);
    char what[512];
    snprintf(what, sizeof what, "%s: %s; %s contend for %s", s->trigger, s->naive_name,
             s->waiters, s->resource);
    herd_text_wrap(f, "  ", what, 4, width);
    if (r0->runs > 1)
        fprintf(f, "  counts are pooled over the %d runs (derived seeds); timeline, spread and "
                   "details are the first run's\n",
                r0->runs);
    for (size_t i = 0; i < n; i++) {
        const struct herd_report *r = runs[i];
        if (!r->has_machine || r->machine.trusted)
            continue;
        for (int w = 0; w < r->machine.nwarnings; w++) {
            char head[96];
            snprintf(head, sizeof head, "  WARNING (%s, %s): ", r->run.strategy, r->backend);
            herd_text_wrap(f, head, r->machine.warnings[w], 4, width);
        }
    }
}

/* The tables of one block of runs. */
static void block(const struct out *o)
{
    fputc('\n', o->f);
    header_row(o);
    /* Per-event rows only when some run had more than one event: with one event a run
     * (a fleet, the queue preset) they repeat the totals, and their medians have no
     * interval to give. */
    bool per_event = false;
    for (size_t i = 0; i < o->n; i++)
        per_event |= o->runs[i]->nevents > (size_t)o->runs[i]->runs;
    row_fig(o, "wakes", g_wakes, false);
    if (per_event) {
        row_fig(o, "  per event (mean)", g_wakes_ev, false);
        row_ci(o, "  per event (median)", g_wakes_med, false, HERD_EV_CI_WAKES, false);
    }
    row_fig(o, "useful", g_useful, false);
    if (per_event)
        row_fig(o, "  per event", g_useful_ev, false);
    row_fig(o, "served", g_served, false);
    if (per_event)
        row_fig(o, "  per event (mean)", g_served_ev, false);
    row_fig(o, "wasted", g_wasted, false);
    if (per_event) {
        row_fig(o, "  per event (mean)", g_wasted_ev, false);
        row_ci(o, "  per event (median)", g_wasted_med, false, HERD_EV_CI_WASTED, false);
    }
    row_fig(o, "failed", g_failed, false);
    row_fig(o, "idle", g_idle, false);
    row_fig(o, "origin load", g_origin, false);
    if (per_event) {
        row_fig(o, "  per event (mean)", g_origin_ev, false);
        row_ci(o, "  per event (median)", g_origin_med, false, HERD_EV_CI_ORIGIN, false);
    }
    row_fig(o, "peak", g_peak, false);

    section(o, "Latency distribution (from the trigger; [95 % interval], * too few samples "
               "to bound it)");
    row_ci(o, "   50.000%", g_p50, true, HERD_LAT_CI_P50, true);
    row_fig(o, "   75.000%", g_p75, true);
    row_ci(o, "   90.000%", g_p90, true, HERD_LAT_CI_P90, true);
    row_ci(o, "   99.000%", g_p99, true, HERD_LAT_CI_P99, true);
    row_ci(o, "   99.900%", g_p999, true, HERD_LAT_CI_P999, true);
    row_fig(o, "  100.000% (max)", g_max, true);
    row_fig(o, "  mean", g_mean, true);
    row_fig(o, "  samples", g_count, false);

    spread_rows(o);
    extra_rows(o);
    /* Whenever a run of the block is simulated (with --backend both the live run comes
     * first). An aggregate's is the total over its runs, as its wall time is. */
    bool sim = false, pooled = false;
    for (size_t i = 0; i < o->n; i++) {
        sim |= o->runs[i]->sim_time_ns >= 0;
        pooled |= o->runs[i]->runs > 1 && o->runs[i]->sim_time_ns >= 0;
    }
    if (sim) {
        fputc('\n', o->f);
        row_fig(o, pooled ? "simulated time (all runs)" : "simulated time", g_simtime, true);
    }
}

/* Wall times from provenance, one line per run: never in the tables, so that the
 * simulator's tables stay a pure function of spec and seed. */
static void wall_lines(const struct out *o)
{
    bool any = false;
    for (size_t i = 0; i < o->n; i++)
        any |= o->runs[i]->has_provenance;
    if (!any)
        return;
    fputc('\n', o->f);
    for (size_t i = 0; i < o->n; i++) {
        const struct herd_report *r = o->runs[i];
        char w[32], over[32] = "";
        if (!r->has_provenance)
            continue;
        herd_text_value(w, sizeof w, (double)r->provenance.wall_ns, true, o->utf8);
        if (r->runs > 1)
            snprintf(over, sizeof over, " (%d runs)", r->runs);
        fprintf(o->f, "  %-16.16s %s: %s of wall time%s, started %s\n", r->run.strategy,
                r->backend, w, over, r->provenance.start);
    }
}

int herd_write_text(FILE *f, struct herd_report *const *runs, size_t nruns,
                    const struct herd_text_opts *opts)
{
    if (nruns == 0)
        return 0;
    bool utf8 = opts && opts->utf8;
    int width = opts && opts->width > 0 ? opts->width : WIDTH_DEFAULT;
    size_t per = nruns;
    if (!(opts && opts->wide) && nruns > 2) {
        int room = (width - 2 - LABEL_W) / COL_W;
        per = room < 1 ? 1 : (size_t)room;
    }
    if (per > HERD_TEXT_MAX_RUNS)
        per = HERD_TEXT_MAX_RUNS;
    struct herd_figures *fig = calloc(nruns, sizeof *fig);
    if (!fig)
        return -ENOMEM;
    for (size_t i = 0; i < nruns; i++)
        herd_report_figures(runs[i], &fig[i]);

    heading(f, runs, nruns, utf8, width);
    for (size_t b = 0; b < nruns; b += per) {
        struct out o = {.f = f,
                        .utf8 = utf8,
                        .runs = runs + b,
                        .n = nruns - b < per ? nruns - b : per,
                        .fig = fig + b};
        if (nruns > per)
            fprintf(f, "\nruns %zu-%zu of %zu\n", b + 1, b + o.n, nruns);
        block(&o);
    }
    /* Waiters and timelines are one row per run: every run in one list. */
    struct out all = {.f = f, .utf8 = utf8, .runs = runs, .n = nruns, .fig = fig};
    waiter_rows(&all);
    int rc = timeline_rows(&all);
    for (size_t i = 0; i < nruns; i++) /* fleet runs: the per-component table */
        if (runs[i]->fleet)
            herd_fleet_figures_text(f, runs[i]->fleet, utf8, width);
    wall_lines(&all);
    free(fig);
    if (rc < 0)
        return rc;
    return ferror(f) ? -EIO : 0;
}
