/* test_writers.c — the report and its writers: JSON has every key, CSV one header and one
 * row per run, text has the ratio column and a shared-scale timeline. */
#include <criterion/criterion.h>
#include <jansson.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "../../src/report/report.h"
#include "../../src/scenario/scenario.h"

static struct herd_report *make(bool naive, uint64_t wakes)
{
    struct herd_run_spec spec;
    struct herd_report *r = malloc(sizeof *r);
    cr_assert_not_null(r);
    herd_spec_init(&spec, herd_scenario_find("accept"));
    if (!naive)
        herd_spec_use_index(&spec, 1);
    spec.n = 300;
    spec.events = 3;
    cr_assert_eq(herd_spec_report_init(r, &spec, "live"), 0);
    for (int e = 0; e < 3; e++) {
        struct herd_event ev = {.useful = 1,
                                .wasted = wakes - 1,
                                .idle = 300 - wakes,
                                .origin_load = wakes,
                                .peak = wakes};
        cr_assert_eq(herd_report_add_event(r, &ev), 0);
    }
    for (int i = 0; i < 100; i++)
        herd_hist_record(&r->latency, 1000 * (i + 1));
    uint64_t per[4] = {3, 0, 0, 0};
    herd_report_spread(r, per, 4);
    cr_assert_eq(herd_report_timeline(r, 1000000, 10), 0);
    int64_t *a = herd_report_series(r, "arrivals");
    cr_assert_not_null(a);
    a[2] = (int64_t)wakes;
    herd_report_waiter(r, 0, HERD_OUT_USEFUL);
    herd_report_waiter(r, 1, HERD_OUT_WASTED);
    herd_report_extra(r, "eagain", 5);
    return r;
}

static void drop(struct herd_report *r)
{
    herd_report_fini(r);
    free(r);
}

/* The JSON herd_write_json writes for @p runs, parsed. */
static json_t *json_of(struct herd_report *const *runs, size_t n)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    cr_assert_not_null(f);
    cr_assert_eq(herd_write_json(f, runs, n), 0);
    fclose(f);
    json_error_t jerr;
    json_t *root = json_loads(buf, 0, &jerr);
    cr_assert_not_null(root, "%s", jerr.text);
    free(buf);
    return root;
}

Test(report, totals_are_sums_and_wasted_is_derived)
{
    struct herd_report *r = make(true, 300);
    cr_assert_eq(r->wakes, 900);
    cr_assert_eq(r->useful, 3);
    cr_assert_eq(r->wasted, 897);
    cr_assert_eq(r->peak, 300);
    cr_assert_float_eq(herd_median(r->ev.wakes, r->nevents), 300, 0);
    cr_assert_eq(r->idle, 0);
    cr_assert_eq(r->useful + r->served + r->wasted + r->failed, r->wakes, "wakes are reactions");
    cr_assert_eq(r->spread.workers_used, 1);
    cr_assert_float_eq(r->spread.max_share, 1.0, 1e-12);
    double v;
    cr_assert(herd_report_get_extra(r, "eagain", &v) && v == 5);
    herd_report_extra(r, "eagain", 6);
    cr_assert(herd_report_get_extra(r, "eagain", &v) && v == 6);
    cr_assert_eq(r->nextras, 1);
    drop(r);
}

Test(report, pick_bucket)
{
    cr_assert_eq(herd_timeline_pick_bucket(1000000000, 1000000, 1000), 1000000);
    cr_assert_eq(herd_timeline_pick_bucket(10000000000, 1000000, 1000), 10000000);
    cr_assert_eq(herd_timeline_pick_bucket(10000000001, 1000000, 1000), 20000000);
    cr_assert_eq(herd_timeline_pick_bucket(10, 1000, 1000), 1000);
}

Test(writers, json_has_every_key)
{
    struct herd_report *runs[2] = {make(true, 300), make(false, 1)};
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    cr_assert_eq(herd_write_json(f, runs, 2), 0);
    fclose(f);
    json_error_t jerr;
    json_t *root = json_loads(buf, 0, &jerr);
    cr_assert_not_null(root, "%s", jerr.text);
    json_t *arr = json_object_get(root, "runs");
    cr_assert_eq(json_array_size(arr), 2);
    static const char *const keys[] = {
        "scenario", "backend",   "mode",    "mitigation", "n",          "population",
        "events",   "seed",      "params",  "wakes",      "useful",     "served",
        "wasted",   "failed",    "idle",    "origin_load", "peak",      "latency_ns",
        "per_event", "spread",   "timeline", "outcomes",  "waiters",    "waiter_counts"};
    for (size_t i = 0; i < 2; i++) {
        json_t *run = json_array_get(arr, i);
        for (size_t k = 0; k < sizeof keys / sizeof keys[0]; k++)
            cr_assert_not_null(json_object_get(run, keys[k]), "run %zu lacks %s", i, keys[k]);
        json_t *lat = json_object_get(run, "latency_ns");
        for (const char *const *k =
                 (const char *const[]){"count", "mean", "p50", "p90", "p99", "p999", "max", NULL};
             *k; k++)
            cr_assert_not_null(json_object_get(lat, *k), "latency lacks %s", *k);
        json_t *pe = json_object_get(run, "per_event");
        for (const char *const *k =
                 (const char *const[]){"wakes", "useful", "served", "wasted", "failed",
                                       "origin_load", NULL};
             *k; k++)
            cr_assert_not_null(json_object_get(pe, *k), "per_event lacks %s", *k);
        json_t *sp = json_object_get(run, "spread");
        for (const char *const *k =
                 (const char *const[]){"workers_used", "max_share", "max_min_ratio", NULL};
             *k; k++)
            cr_assert_not_null(json_object_get(sp, *k), "spread lacks %s", *k);
        json_t *tl = json_object_get(run, "timeline");
        cr_assert_eq(json_integer_value(json_object_get(tl, "bucket_ns")), 1000000);
        cr_assert_eq(json_array_size(json_object_get(tl, "arrivals")), 10);
        cr_assert_eq(json_array_size(json_object_get(run, "waiters")), 240);
        cr_assert_str_eq(json_string_value(json_array_get(json_object_get(run, "waiters"), 0)),
                         "useful");
        cr_assert_str_eq(json_string_value(json_object_get(json_object_get(run, "params"),
                                                           "workers")),
                         "thread");
    }
    cr_assert_str_eq(json_string_value(json_object_get(json_array_get(arr, 0), "mode")), "naive");
    cr_assert_str_eq(json_string_value(json_object_get(json_array_get(arr, 1), "mitigation")),
                     "epoll-exclusive");
    cr_assert_eq(json_integer_value(json_object_get(json_array_get(arr, 0), "wasted")), 897);
    json_decref(root);
    free(buf);
    drop(runs[0]);
    drop(runs[1]);
}

Test(writers, csv_header_and_rows)
{
    struct herd_report *runs[2] = {make(true, 300), make(false, 1)};
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    cr_assert_eq(herd_write_csv(f, runs, 2), 0);
    fclose(f);
    int lines = 0;
    for (char *p = buf; *p; p++)
        lines += *p == '\n';
    cr_assert_eq(lines, 3);
    cr_assert(strncmp(buf, "scenario,backend,mode,mitigation", 32) == 0, "%s", buf);
    /* every row has as many fields as the header */
    char *save = NULL, *line = strtok_r(buf, "\n", &save);
    int fields0 = 0;
    for (char *p = line; *p; p++)
        fields0 += *p == ',';
    while ((line = strtok_r(NULL, "\n", &save))) {
        int fields = 0;
        for (char *p = line; *p; p++)
            fields += *p == ',';
        cr_assert_eq(fields, fields0, "%s", line);
    }
    free(buf);
    drop(runs[0]);
    drop(runs[1]);
}

Test(writers, text_side_by_side_with_ratio)
{
    struct herd_report *runs[2] = {make(true, 300), make(false, 1)};
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    cr_assert_eq(herd_report_intervals(runs[0]), 0);
    cr_assert_eq(herd_report_intervals(runs[1]), 0);
    cr_assert_eq(herd_write_text(f, runs, 2, NULL), 0);
    fclose(f);
    /* p99 of 100 samples cannot be bounded above: marked, not printed as confident; the
     * two runs' latencies are the same: no difference, never a ratio like 1.00x. */
    const char *p99 = strstr(buf, "99.000%");
    cr_assert(p99, "%s", buf);
    const char *eol = strchr(p99, '\n');
    cr_assert(memchr(p99, '*', (size_t)(eol - p99)), "p99 of 100 samples unmarked: %.*s",
              (int)(eol - p99), p99);
    cr_assert(strstr(p99, "no difference measured") &&
                  strstr(p99, "no difference measured") < strchr(eol + 1, '\n'),
              "%s", p99);
    cr_assert(strstr(buf, "epoll-exclusive"), "%s", buf);
    cr_assert(strstr(buf, "ratio"), "%s", buf);
    cr_assert(strstr(buf, "300x"), "wakes per event ratio 300/1: %s", buf);
    cr_assert(strstr(buf, "99.000%"), "%s", buf);
    cr_assert(strstr(buf, "Timeline: arrivals"), "%s", buf);
    cr_assert(strstr(buf, "#x"), "first waiters drawn: %s", buf);
    free(buf);
    drop(runs[0]);
    drop(runs[1]);
}

Test(report, merge_pools_runs_and_keeps_their_means)
{
    struct herd_report *a = make(true, 300), *b = make(true, 100);
    cr_assert_eq(herd_report_merge(a, b), 0);
    cr_assert_eq(a->runs, 2);
    cr_assert_eq(a->wakes, 900 + 300, "counts pool");
    cr_assert_eq(a->nevents, 6);
    cr_assert_eq(a->ev.run[0], 0);
    cr_assert_eq(a->ev.run[5], 1);
    cr_assert_eq(a->latency.count, 200);
    cr_assert_eq(a->nrun_hist, 2);
    cr_assert_eq(a->waiters[0].n[HERD_OUT_USEFUL], 2, "tiles add up");
    cr_assert_float_eq(a->mean.wakes, (900 + 300) / 2.0, 1e-9);
    cr_assert_float_eq(a->mean.pe_wakes, 200, 1e-9);
    /* sample sd of {900, 300} = 424.26 */
    cr_assert_float_eq(a->stddev.wakes, 424.2640687, 1e-6);
    cr_assert_float_eq(a->stddev.useful, 0, 1e-12);
    cr_assert_neq(herd_run_seed(1, 1), herd_run_seed(1, 2));
    cr_assert_eq(herd_run_seed(7, 0), 7);
    cr_assert_eq(herd_report_intervals(a), 0);
    cr_assert(a->ci.present);
    /* the per-event wakes are 300, 300, 300, 100, 100, 100: the median's interval spans
     * both runs' values */
    cr_assert_leq(a->ci.ev[HERD_EV_CI_WAKES].lo, 100);
    cr_assert_geq(a->ci.ev[HERD_EV_CI_WAKES].hi, 300);

    json_t *root = json_of(&a, 1);
    json_t *run = json_array_get(json_object_get(root, "runs"), 0);
    cr_assert_eq(json_integer_value(json_object_get(run, "runs")), 2);
    cr_assert_eq(json_integer_value(json_object_get(run, "wakes")), 1200);
    json_t *over = json_object_get(run, "over_runs");
    cr_assert_not_null(over);
    for (const char *const *k = (const char *const[]){"mean", "stddev", NULL}; *k; k++)
        for (const char *const *x = (const char *const[]){"wakes", "useful", "wasted",
                                                          "origin_load", "peak", "latency_ns",
                                                          NULL};
             *x; x++)
            cr_assert_not_null(json_object_get(json_object_get(over, *k), *x), "%s lacks %s",
                               *k, *x);
    json_t *iv = json_object_get(run, "intervals");
    cr_assert_not_null(json_object_get(json_object_get(iv, "latency_ns"), "p99"));
    json_decref(root);
    drop(a);
    drop(b);
}

/* Every run is shown, however many (it used to stop at 8), and the default text fits 100
 * columns; --wide puts them all in one row. */
Test(writers, text_shows_every_run_within_100_columns)
{
    struct herd_report *runs[10];
    static const char *const names[] = {"epoll", "epoll-exclusive", "reuseport",
                                        "blocking-accept"};
    for (int i = 0; i < 10; i++) {
        runs[i] = make(i % 4 == 0, i % 4 == 0 ? 300 : 1);
        if (i % 4) {
            struct herd_run_spec spec;
            herd_spec_init(&spec, herd_scenario_find("accept"));
            herd_spec_use_index(&spec, i % 4);
            runs[i]->run.strategy = herd_spec_strategy(&spec);
        }
        runs[i]->backend = i < 5 ? "live" : "sim";
    }
    for (int wide = 0; wide < 2; wide++) {
        char *buf = NULL;
        size_t len = 0;
        FILE *f = open_memstream(&buf, &len);
        cr_assert_eq(herd_write_text(f, runs, 10, &(struct herd_text_opts){.wide = wide}), 0);
        fclose(f);
        for (int k = 0; k < 4; k++)
            cr_assert(strstr(buf, names[k]), "%s missing", names[k]);
        /* the waiter rows name every run: count them */
        int rows = 0;
        for (const char *p = strstr(buf, "Waiters"); p && (p = strstr(p, "of the first")); p++)
            rows++;
        cr_assert_eq(rows, 10, "one waiter row per run, got %d", rows);
        size_t longest = 0, cur = 0;
        for (const char *p = buf; *p; p++) {
            if (*p == '\n') {
                if (cur > longest)
                    longest = cur;
                cur = 0;
            } else {
                cur++;
            }
        }
        if (!wide)
            cr_assert_leq(longest, 100, "a line of %zu columns:\n%s", longest, buf);
        else
            cr_assert_gt(longest, 100, "wide puts 10 runs side by side");
        free(buf);
    }
    for (int i = 0; i < 10; i++)
        drop(runs[i]);
}

/* More runs than one table holds (HERD_TEXT_MAX_RUNS): the timeline has a row for every
 * one of them (its columns used to be a static array of 32 runs: 40 wrote past it). */
Test(writers, text_timeline_of_40_runs)
{
    enum { N = 40 };
    struct herd_report *runs[N];
    for (int i = 0; i < N; i++)
        runs[i] = make(i % 2 == 0, i % 2 == 0 ? 300 : 1);
    for (int wide = 0; wide < 2; wide++) {
        char *buf = NULL;
        size_t len = 0;
        FILE *f = open_memstream(&buf, &len);
        cr_assert_eq(herd_write_text(f, runs, N, &(struct herd_text_opts){.wide = wide}), 0);
        fclose(f);
        const char *tl = strstr(buf, "Timeline: arrivals");
        cr_assert(tl, "%s", buf);
        int rows = 0;
        for (const char *p = tl; (p = strstr(p, "|\n")); p++)
            rows++;
        cr_assert_eq(rows, N, "one timeline row per run, got %d", rows);
        free(buf);
    }
    for (int i = 0; i < N; i++)
        drop(runs[i]);
}

/* A run of @p events events of @p wakes wakes each, one latency sample per event. */
static struct herd_report *make_events(int events, uint64_t wakes)
{
    struct herd_run_spec spec;
    struct herd_report *r = malloc(sizeof *r);
    cr_assert_not_null(r);
    herd_spec_init(&spec, herd_scenario_find("accept"));
    spec.n = 1000;
    spec.events = events;
    cr_assert_eq(herd_spec_report_init(r, &spec, "live"), 0);
    for (int e = 0; e < events; e++) {
        struct herd_event ev = {.useful = 1, .wasted = wakes - 1, .origin_load = 1, .peak = 1};
        cr_assert_eq(herd_report_add_event(r, &ev), 0);
        herd_hist_record(&r->latency, (int64_t)(1000 * wakes));
    }
    return r;
}

/* Every run takes part in the run-to-run bootstrap, not only the first 32: 32 runs of one
 * event of 100 wakes, then 8 of 100 events of 1,000. The median is 1,000, and no resample
 * of all 40 runs comes near 100 (it used to see the first 32 alone: an interval down to 100). */
Test(intervals, every_run_in_the_bootstrap)
{
    struct herd_report *all = make_events(1, 100);
    for (int k = 1; k < 40; k++) {
        struct herd_report *r = k < 32 ? make_events(1, 100) : make_events(100, 1000);
        cr_assert_eq(herd_report_merge(all, r), 0);
        drop(r);
    }
    cr_assert_eq(all->runs, 40);
    cr_assert_eq(herd_report_intervals(all), 0);
    const struct herd_stats_interval *w = &all->ci.ev[HERD_EV_CI_WAKES];
    cr_assert_float_eq(w->point, 1000, 0);
    cr_assert_gt(w->lo, 100, "runs 33 to 40 left out: [%g, %g]", w->lo, w->hi);
    drop(all);
}

/* The latency percentiles of an aggregate: deterministic (seeded from the run's seed),
 * each interval around its point, and the bounds rising with the percentile (the four are
 * read off the same bootstrap replicates, from each run's points built in one walk). */
Test(intervals, latency_percentiles_of_runs)
{
    struct herd_report *all = make_events(400, 10), *r;
    for (int k = 1; k < 3; k++) {
        r = make_events(400, 10 + 5 * (uint64_t)k);
        for (int i = 0; i < 400; i++)
            herd_hist_record(&r->latency, 1000 * (i % 97));
        cr_assert_eq(herd_report_merge(all, r), 0);
        drop(r);
    }
    cr_assert_eq(herd_report_intervals(all), 0);
    struct herd_report_ci first = all->ci;
    cr_assert_eq(herd_report_intervals(all), 0);
    for (int i = 0; i < HERD_LAT_CI; i++) {
        const struct herd_stats_interval *c = &all->ci.lat[i];
        cr_assert(c->lo == first.lat[i].lo && c->hi == first.lat[i].hi, "deterministic");
        cr_assert_eq(c->point, (double)herd_hist_quantile(&all->latency, herd_report_lat_q[i]));
        cr_assert(c->lo <= c->point && c->point <= c->hi, "p%g: [%g, %g] around %g",
                  herd_report_lat_q[i] * 100, c->lo, c->hi, c->point);
        if (i > 0)
            cr_assert(c->lo >= all->ci.lat[i - 1].lo && c->hi >= all->ci.lat[i - 1].hi);
    }
    cr_assert_lt(all->ci.lat[HERD_LAT_CI_P50].lo, all->ci.lat[HERD_LAT_CI_P50].point,
                 "three runs that differ: a run-to-run interval");
    drop(all);
}

/* A merged simulation's simulated time is the total over its runs, as its wall time is
 * (it kept run 0's), and every output says the same figure: the text row, the JSON's
 * sim_time_ns and provenance.sim_ns (derived from it). */
Test(report, merged_sim_time_is_the_total)
{
    struct herd_report *a = make(true, 300), *b = make(true, 100);
    a->backend = b->backend = "sim";
    a->sim_time_ns = 2000000;
    b->sim_time_ns = 3000000;
    herd_provenance_init(&a->provenance, "0.1.0", "herd run accept --backend sim");
    herd_provenance_set_end(&a->provenance, 5000000, -1);
    a->has_provenance = true;
    cr_assert_eq(herd_report_merge(a, b), 0);
    cr_assert_eq(a->sim_time_ns, 5000000);
    cr_assert_float_eq(a->mean.sim_time_ns, 2500000, 1e-6, "the mean is per run");

    json_t *root = json_of(&a, 1);
    json_t *run = json_array_get(json_object_get(root, "runs"), 0);
    cr_assert_eq(json_integer_value(json_object_get(run, "sim_time_ns")), 5000000);
    cr_assert_eq(json_integer_value(json_object_get(json_object_get(run, "provenance"), "sim_ns")),
                 5000000);
    json_decref(root);

    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    struct herd_report *runs[1] = {a};
    cr_assert_eq(herd_write_text(f, runs, 1, NULL), 0);
    fclose(f);
    const char *row = strstr(buf, "simulated time (all runs)");
    cr_assert(row, "%s", buf);
    const char *five = strstr(row, "5.00ms");
    cr_assert(five && five < strchr(row, '\n'), "%s", buf);
    cr_assert(strstr(buf, "of wall time (2 runs)"), "%s", buf);
    free(buf);
    drop(a);
    drop(b);
}

/* A busy window, as herd_machine_end leaves it (others kept the CPUs half busy). */
static struct herd_machine busy_window(bool advisory)
{
    struct herd_machine m;
    herd_machine_init(&m);
    m.advisory = advisory;
    m.others_cpu = 0.5;
    m.cpus = 2;
    m.windows = 1;
    m.wall_ns = 1000000;
    herd_machine_verdict(&m);
    return m;
}

/* The machine module's rule for a simulated run: its window is recorded, never judged (the
 * runner used to clear trusted, warnings and mask by hand after the fact). */
Test(machine, an_advisory_window_judges_nothing)
{
    struct herd_machine live = busy_window(false), sim = busy_window(true);
    cr_assert_not(live.trusted);
    cr_assert_eq(live.nwarnings, 1);
    cr_assert(sim.trusted, "%s", herd_machine_reason(&sim));
    cr_assert_eq(sim.nwarnings, 0);
    cr_assert_float_eq(sim.others_cpu, 0.5, 0, "the figures stay, for the record");
    herd_machine_warn(&sim, "the load generator fell behind");
    cr_assert(sim.trusted && sim.nwarnings == 0 && sim.ndropped == 0);
    char line[256];
    herd_machine_format(&sim, line, sizeof line);
    cr_assert(strstr(line, "not judged"), "%s", line);
    json_t *o = herd_machine_to_json(&sim);
    cr_assert(json_is_true(json_object_get(o, "advisory")));
    cr_assert(json_is_true(json_object_get(o, "trusted")));
    json_decref(o);

    /* Merged as the runner merges: into a report's empty machine (even one a backend
     * warned on), then run after run. Every window advisory: the aggregate too. */
    struct herd_machine agg;
    herd_machine_init(&agg);
    herd_machine_warn(&agg, "a backend's word");
    cr_assert_not(agg.trusted);
    herd_machine_merge(&agg, &sim);
    cr_assert(agg.advisory && agg.trusted && agg.nwarnings == 0);
    struct herd_machine more = busy_window(true);
    herd_machine_merge(&agg, &more);
    cr_assert(agg.advisory && agg.trusted && agg.nwarnings == 0);
    cr_assert_eq(agg.windows, 2);
    cr_assert_eq(agg.wall_ns, 2000000);

    /* A window that is not advisory makes the aggregate judged again. */
    herd_machine_merge(&agg, &live);
    cr_assert_not(agg.advisory);
    cr_assert_not(agg.trusted);
    cr_assert_eq(agg.nwarnings, 1);
    cr_assert(strstr(herd_machine_reason(&agg), "worst of 3 runs"), "%s",
              herd_machine_reason(&agg));

    /* trusted follows the warnings: a repeated reason, or one past the table, too. */
    struct herd_machine m;
    herd_machine_init(&m);
    for (int i = 0; i < HERD_MACHINE_NWARN + 2; i++) {
        herd_machine_warn(&m, "reason %d", i);
        herd_machine_warn(&m, "reason %d", i);
        cr_assert_not(m.trusted);
    }
    cr_assert_eq(m.nwarnings, HERD_MACHINE_NWARN);
    cr_assert_geq(m.ndropped, 2, "a dropped reason is not kept, so not recognised again");
}

/* herd_median is herd_stats_quantile's median of a copy (one definition of a median); out of
 * memory it says so (NAN), never a wrong figure (it returned the first value). */
Test(report, median_is_the_stats_median)
{
    const double v[] = {5, 1, 4, 2, 3, 9};
    double c[6];
    memcpy(c, v, sizeof v);
    cr_assert_eq(herd_median(v, 6), herd_stats_quantile(c, 6, 0.5));
    cr_assert_eq(herd_median(v, 5), 3);
    cr_assert_eq(herd_median(v, 6), 3.5);
    cr_assert_eq(v[0], 5, "the series is not sorted in place");
    cr_assert_eq(herd_median(v, 0), 0);
    /* A petabyte copy: malloc refuses it before reading a value. */
    cr_assert(isnan(herd_median(v, (size_t)1 << 47)));
}

/* With intervals computed, every writer's per-event median is the interval's point: no
 * second copy and sort of the series (a different point here shows which one was read). */
Test(writers, medians_come_from_the_intervals)
{
    struct herd_report *r = make(true, 300);
    cr_assert_eq(herd_report_ev_median(r, HERD_EV_CI_WAKES), 300);
    cr_assert_eq(herd_report_intervals(r), 0);
    cr_assert_eq(r->ci.ev[HERD_EV_CI_WAKES].point, 300);
    r->ci.ev[HERD_EV_CI_WAKES].point = 299.5;
    r->ci.ev[HERD_EV_CI_ORIGIN].point = 298.5;
    json_t *root = json_of(&r, 1);
    json_t *med = json_object_get(json_array_get(json_object_get(root, "runs"), 0),
                                  "per_event_median");
    cr_assert_float_eq(json_real_value(json_object_get(med, "wakes")), 299.5, 0);
    cr_assert_float_eq(json_real_value(json_object_get(med, "wasted")), 299, 0);
    json_decref(root);
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    cr_assert_eq(herd_write_csv(f, &r, 1), 0);
    fclose(f);
    cr_assert(strstr(buf, ",299.5000,298.5000,"), "%s", buf);
    free(buf);
    drop(r);
}

/* Intervals computed before a merge describe fewer runs: the merge drops them, and the
 * writers print the pooled figures, not the stale interval. */
Test(report, merge_drops_stale_intervals)
{
    struct herd_report *a = make(true, 300), *b = make(true, 100);
    cr_assert_eq(herd_report_intervals(a), 0);
    cr_assert(a->ci.present);
    cr_assert_eq(herd_report_ev_median(a, HERD_EV_CI_WAKES), 300);
    cr_assert_eq(herd_report_merge(a, b), 0);
    cr_assert_not(a->ci.present);
    cr_assert_eq(herd_report_ev_median(a, HERD_EV_CI_WAKES), 200, "300 x 3 and 100 x 3");
    cr_assert_eq(herd_report_intervals(a), 0);
    cr_assert(a->ci.present);
    cr_assert_leq(a->ci.ev[HERD_EV_CI_WAKES].lo, 100);
    drop(a);
    drop(b);
}

/* The text writer's figures, the one set of rules herd run, herd demo and herd fidelity
 * print by (cells.c had its own: the same interval read differently in each). */
Test(writers, text_value_interval_and_cell)
{
    char b[64];
    herd_text_value(b, sizeof b, 25620000, true, false);
    cr_assert_str_eq(b, "25.62ms");
    herd_text_value(b, sizeof b, 152580, true, true);
    cr_assert_str_eq(b, "152.58\xc2\xb5s");
    herd_text_value(b, sizeof b, 812, true, false);
    cr_assert_str_eq(b, "812ns");
    herd_text_value(b, sizeof b, 1234567, false, false);
    cr_assert_str_eq(b, "1,234,567");
    herd_text_value(b, sizeof b, 12.345, false, false);
    cr_assert_str_eq(b, "12.35");
    herd_text_value(b, sizeof b, -INFINITY, true, true);
    cr_assert_str_eq(b, "-\xe2\x88\x9e");
    herd_text_value(b, sizeof b, NAN, true, false);
    cr_assert_str_eq(b, "-", "no figure");

    struct herd_stats_interval ci = {.point = 25620000, .lo = 25100000, .hi = 26800000,
                                     .n = 300, .enough_samples = true};
    herd_text_interval(b, sizeof b, &ci, true, false, HERD_TEXT_CI_POINT);
    cr_assert_str_eq(b, "25.62ms");
    herd_text_interval(b, sizeof b, &ci, true, false, HERD_TEXT_CI_BOUNDS);
    cr_assert_str_eq(b, "[25.10, 26.80]ms");
    herd_text_interval(b, sizeof b, &ci, true, false, HERD_TEXT_CI_BOTH);
    cr_assert_str_eq(b, "25.62ms [25.10, 26.80]ms");
    ci = (struct herd_stats_interval){.point = 990000, .lo = 950000, .hi = INFINITY, .n = 100};
    herd_text_interval(b, sizeof b, &ci, true, true, HERD_TEXT_CI_BOTH);
    cr_assert_str_eq(b, "990.00\xc2\xb5s* [950.00\xc2\xb5s, \xe2\x88\x9e)");
    ci = (struct herd_stats_interval){.point = 20, .lo = -INFINITY, .hi = INFINITY, .n = 3};
    herd_text_interval(b, sizeof b, &ci, false, false, HERD_TEXT_CI_BOTH);
    cr_assert_str_eq(b, "20* (unbounded)");
    ci = (struct herd_stats_interval){.point = 1500, .lo = 900, .hi = 2000000,
                                      .n = 1000, .enough_samples = true};
    herd_text_interval(b, sizeof b, &ci, true, false, HERD_TEXT_CI_BOUNDS);
    cr_assert_str_eq(b, "[900ns, 2.00ms]", "units differ: each bound keeps its own");

    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    cr_assert_eq(herd_text_cell(f, "\xc2\xb5s", 4, true), 4, "two display columns, padded");
    cr_assert_eq(herd_text_cell(f, "abc", 2, false), 3, "never cut");
    cr_assert_eq(herd_text_cell(f, "x", 3, false), 3);
    fclose(f);
    cr_assert_str_eq(buf, "\xc2\xb5s  abc  x");
    free(buf);
}

/* The report's interval JSON, exported for every front end (herd fidelity had a copy
 * without "n"); a number that is not finite is null, never a failed json_pack. */
Test(writers, interval_json_for_every_front_end)
{
    struct herd_stats_interval ci = {.point = 5, .lo = 4, .hi = INFINITY, .n = 12};
    json_t *o = herd_report_interval_json(&ci);
    cr_assert_float_eq(json_real_value(json_object_get(o, "point")), 5, 0);
    cr_assert_float_eq(json_real_value(json_object_get(o, "lo")), 4, 0);
    cr_assert(json_is_null(json_object_get(o, "hi")));
    cr_assert_eq(json_integer_value(json_object_get(o, "n")), 12);
    cr_assert(json_is_false(json_object_get(o, "enough_samples")));
    json_decref(o);
    json_t *v = herd_report_json_number(INFINITY);
    cr_assert(json_is_null(v));
    json_decref(v);
    v = herd_report_json_number(NAN);
    cr_assert(json_is_null(v));
    json_decref(v);
    v = herd_report_json_number(0.5);
    cr_assert_float_eq(json_real_value(v), 0.5, 0);
    json_decref(v);
}

/* --backend both puts the live run first: the simulated time row is there whenever a run
 * is simulated, "-" under the live one (it used to look at the first run only). */
Test(writers, text_simulated_time_when_any_run_is_simulated)
{
    struct herd_report *runs[2] = {make(true, 300), make(true, 300)};
    runs[1]->backend = "sim";
    runs[1]->sim_time_ns = 42000000;
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    cr_assert_eq(herd_write_text(f, runs, 2, NULL), 0);
    fclose(f);
    const char *row = strstr(buf, "simulated time");
    cr_assert(row, "%s", buf);
    char line[256];
    snprintf(line, sizeof line, "%.*s", (int)(strchr(row, '\n') - row), row);
    cr_assert(strstr(line, " - ") && strstr(line, "42.00ms"), "%s", line);
    free(buf);
    drop(runs[0]);
    drop(runs[1]);
}

/* The heading and its warnings wrap at the width asked for, as the tables fit it. */
Test(writers, text_heading_wraps_at_the_width)
{
    struct herd_report *r = make(true, 300);
    r->has_machine = true;
    herd_machine_warn(&r->machine, "other processes used 86 %% of the 2 CPUs during the run, "
                                   "which is far above the limit of 20 %% that this report "
                                   "holds a live figure to before it trusts it");
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    cr_assert_eq(herd_write_text(f, &r, 1, &(struct herd_text_opts){.width = 60}), 0);
    fclose(f);
    cr_assert(strstr(buf, "WARNING"), "%s", buf);
    /* The heading is everything before the first table's blank line. */
    const char *end = strstr(buf, "\n\n");
    size_t cur = 0;
    for (const char *p = buf; p < end; p++) {
        cur = *p == '\n' ? 0 : cur + 1;
        cr_assert_leq(cur, 60, "a heading line past 60 columns:\n%.*s", (int)(end - buf), buf);
    }
    free(buf);
    drop(r);
}

/* Whether a coarser column adds a series up or takes its peak is the series' own (set when
 * it is made), not a list of names inside the drawing loop: 640 buckets into 64 columns. */
Test(writers, text_timeline_sums_counts_and_peaks_levels)
{
    struct herd_report *r = make(true, 300);
    cr_assert_eq(herd_report_timeline(r, 1000000, 640), 0);
    int64_t *arr = herd_report_series(r, "arrivals"), *inf = herd_report_series(r, "inflight");
    cr_assert(arr && inf);
    cr_assert(r->timeline.series[0].sums, "arrivals count per bucket");
    cr_assert_not(r->timeline.series[1].sums, "in flight is a level");
    for (int b = 0; b < 640; b++) {
        arr[b] = 1;
        inf[b] = 3;
    }
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    cr_assert_eq(herd_write_text(f, &r, 1, NULL), 0);
    fclose(f);
    cr_assert(strstr(buf, "Timeline: arrivals per 10.00ms column (one scale for all rows, "
                          "top = 10)"),
              "%s", buf);
    cr_assert(strstr(buf, "Timeline: inflight per 10.00ms column (one scale for all rows, "
                          "top = 3)"),
              "%s", buf);
    free(buf);
    drop(r);
}
