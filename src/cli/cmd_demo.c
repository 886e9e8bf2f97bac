/* cmd_demo.c — `herd demo`: herd's main job. The four herds of seed 004, each naive and
 * with its default mitigation, measured for real on this machine, repeated (3 runs each
 * by default), each figure with its 95 % interval and the ratio "no difference measured"
 * where the intervals overlap, the machine's noise said per row. */
#include "cli.h"

#include <getopt.h>
#include <herd/error.h>
#include <math.h>
#include <string.h>

static const char demo_usage[] =
    "usage: herd demo [-n N] [--runs R] [--format text|json] [--quiet]\n"
    "\n"
    "Run the four herds (accept, condvar, cache, cron) for real on this machine, naive\n"
    "and with each scenario's default mitigation, R times each, and print per herd the\n"
    "wakes, wasted work and origin load per event and the p99 latency, each with its 95 %\n"
    "interval, and naive/mitigated ratios (\"no difference measured\" where the intervals\n"
    "overlap).\n"
    "\n"
    "  -n N             waiters per herd (default: 200 each; cache 100)\n"
    "  -r, --runs R     runs per strategy, 1 to 1000 (default 3)\n"
    "  -f, --format F   text (default) or json (every report, as herd run writes it)\n"
    "  -q, --quiet      no progress lines on stderr\n"
    "  -h, --help       this help\n";

struct demo_row {
    const char *scenario;
    int64_t n, events;
    const char *set; /* a setting that makes the herd the one the scenario is about */
};

/* The cache row's query is ~20 ms (rows = 200000), ten request periods long: every
 * requester reaches the expired key before the first refill returns, so the naive herd is
 * the whole fleet, as it is for a fleet of hosts. With the default ~5 ms query on 2 cores,
 * the requesters cannot all run while SQLite holds the CPUs and the herd limits itself
 * (docs/scenarios/cache.md). */
static const struct demo_row rows[] = {
    {"accept", 200, 100, NULL},
    {"condvar", 200, 100, NULL},
    {"cache", 100, 3, "rows=200000"},
    {"cron", 200, 2, NULL}, /* 2 x 3 runs: 6 events, the fewest that bound a median */
};
#define NROWS (sizeof rows / sizeof rows[0])

/* Columns: the longest label, two cells of an interval each ("25.62ms [25.10, 26.80]ms",
 * as herd run writes it), the ratio ("no difference measured" is the longest): 100 in all,
 * a space before each column so that a full cell never touches the next, and a cell
 * longer than its column taken back from the next one's padding. */
#define LABEL_W 21
#define CELL_W 26

static void row(const char *label, const char *a, const char *b, const char *ratio)
{
    fputs("  ", stdout);
    herd_text_cell(stdout, label, LABEL_W, true);
    fputc(' ', stdout);
    int over = herd_text_cell(stdout, a, CELL_W, true) - CELL_W;
    fputc(' ', stdout);
    herd_text_cell(stdout, b, CELL_W - over, true);
    printf(" %s\n", ratio);
}

static void line(const char *label, const struct herd_stats_interval *a,
                 const struct herd_stats_interval *b, bool time, bool utf8)
{
    char ca[96], cb[96], ratio[48];
    struct herd_stats_comparison c = herd_stats_compare(a, b);
    herd_text_interval(ca, sizeof ca, a, time, utf8, HERD_TEXT_CI_BOTH);
    herd_text_interval(cb, sizeof cb, b, time, utf8, HERD_TEXT_CI_BOTH);
    if (herd_stats_format_comparison(ratio, sizeof ratio, &c,
                                     utf8 ? HERD_STATS_UTF8 : HERD_STATS_ASCII) < 0)
        snprintf(ratio, sizeof ratio, "?");
    row(label, ca, cb, ratio);
}

static void print_table(struct herd_report *rep, bool utf8)
{
    printf("\nThe four herds on this machine, naive vs mitigated (live; per-event medians and "
           "the p99,\neach with its 95 %% interval; * = too few samples to bound it)\n");
    for (size_t i = 0; i < NROWS; i++) {
        struct herd_report *nv = &rep[2 * i], *mt = &rep[2 * i + 1];
        printf("\n%s, N = %lld: %s vs %s (%d run%s of %lld event%s each)\n", nv->run.scenario,
               (long long)nv->run.n, nv->run.strategy, mt->run.strategy, nv->runs,
               nv->runs == 1 ? "" : "s", (long long)nv->run.events,
               nv->run.events == 1 ? "" : "s");
        row("", "naive", "mitigated", "naive / mitigated");
        line("wakes per event", &nv->ci.ev[HERD_EV_CI_WAKES], &mt->ci.ev[HERD_EV_CI_WAKES], false,
             utf8);
        line("wasted per event", &nv->ci.ev[HERD_EV_CI_WASTED], &mt->ci.ev[HERD_EV_CI_WASTED],
             false, utf8);
        line("origin load per event", &nv->ci.ev[HERD_EV_CI_ORIGIN],
             &mt->ci.ev[HERD_EV_CI_ORIGIN], false, utf8);
        line("p99 latency", &nv->ci.lat[HERD_LAT_CI_P99], &mt->ci.lat[HERD_LAT_CI_P99], true,
             utf8);
        for (int k = 0; k < 2; k++) {
            const struct herd_report *r = k ? mt : nv;
            char head[64];
            snprintf(head, sizeof head, "  WARNING (%s): ", r->run.strategy);
            for (int w = 0; w < r->machine.nwarnings; w++)
                herd_text_wrap(stdout, head, r->machine.warnings[w], 4, 100);
        }
        /* The herd the scenario is about: N reactions per event. A short one is noted only
         * when no warning above already says why (the cache's "the herd limited itself",
         * a machine others kept busy). */
        double herd = nv->ci.ev[HERD_EV_CI_WAKES].point;
        if (herd < 0.9 * (double)nv->run.n && nv->machine.nwarnings == 0) {
            char note[256];
            snprintf(note, sizeof note,
                     "the naive herd was %.0f of N = %lld per event (below 90 %%): the kernel "
                     "did not wake them all, or this machine could not run them all",
                     herd, (long long)nv->run.n);
            herd_text_wrap(stdout, "  note: ", note, 4, 100);
        }
    }
    printf("\nwakes: reactions to the trigger (kernel context switches for accept); wasted: "
           "reactions whose\nwork was redundant or thrown away; origin load: operations at the "
           "contended resource.\ndocs/glossary.md defines them; herd run SCENARIO shows the "
           "full report.\n");
}

int herd_cmd_demo(int argc, char **argv)
{
    static const struct option opts[] = {
        {"format", required_argument, NULL, 'f'},
        {"runs", required_argument, NULL, 'r'},
        {"quiet", no_argument, NULL, 'q'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    const char *format = "text";
    bool quiet = false;
    int64_t n = 0, runs = HERD_LIVE_RUNS_DEFAULT;
    char err[256];
    int c;
    optind = 1;
    opterr = 0;
    while ((c = getopt_long(argc, argv, ":f:n:r:qh", opts, NULL)) != -1) {
        switch (c) {
        case 'f':
            format = optarg;
            break;
        case 'n':
            if (herd_parse_int("-n", optarg, 1, HERD_N_MAX, &n, err, sizeof err) < 0)
                return herd__usage_error("%s", err);
            break;
        case 'r':
            if (herd_parse_int("--runs", optarg, 1, HERD_RUNS_MAX, &runs, err, sizeof err) < 0)
                return herd__usage_error("%s", err);
            break;
        case 'q':
            quiet = true;
            break;
        case 'h':
            fputs(demo_usage, stdout);
            return HERD_EXIT_OK;
        case ':':
            return herd__usage_error("%s: needs a value (see herd demo --help)",
                                     argv[optind - 1]);
        default:
            return herd__usage_error("demo: unknown option '%s' (see herd demo --help)",
                                     argv[optind - 1]);
        }
    }
    if (optind < argc)
        return herd__usage_error("demo: unexpected argument '%s'", argv[optind]);
    bool json = strcmp(format, "json") == 0;
    if (!json && strcmp(format, "text") != 0)
        return herd__usage_error("--format: '%s' is not allowed for demo; allowed: text, json",
                                 format);

    static struct herd_job jobs[2 * NROWS];
    for (size_t i = 0; i < NROWS; i++) {
        const struct herd_scenario *sc = herd_scenario_find(rows[i].scenario);
        struct herd_run_spec *nv = &jobs[2 * i].spec, *mt = &jobs[2 * i + 1].spec;
        herd_spec_init(nv, sc);
        nv->n = n ? n : rows[i].n;
        nv->events = rows[i].events;
        if (rows[i].set && herd_spec_set(nv, rows[i].set, err, sizeof err) < 0)
            return herd__fail("demo: %s", err); /* a bug in the table above */
        *mt = *nv;
        herd_spec_use_index(mt, sc->default_mitigation);
        jobs[2 * i].backend = jobs[2 * i + 1].backend = herd_front_backend(HERD_BACKEND_LIVE);
    }
    static struct herd_report reports[2 * NROWS];
    struct herd_report *ptrs[2 * NROWS];
    struct herd_front_opts fo;
    struct herd_profile prof;
    char prof_path[4096];
    size_t done = 0;
    int rc = herd__cli_front_opts(&fo, &prof, prof_path, sizeof prof_path, false);
    if (rc != HERD_EXIT_OK)
        return rc;
    fo.runs = (int)runs;
    herd__cli_signals();
    rc = herd__cli_run_jobs(jobs, 2 * NROWS, &fo, reports, &done, quiet);
    if (rc == HERD_EXIT_OK) {
        if (json) {
            for (size_t i = 0; i < done; i++)
                ptrs[i] = &reports[i];
            if (herd_write_json(stdout, ptrs, done) < 0)
                rc = herd__fail("writing the report failed");
        } else {
            print_table(reports, herd__cli_utf8());
        }
    }
    for (size_t i = 0; i < done; i++)
        herd_report_fini(&reports[i]);
    return rc;
}
