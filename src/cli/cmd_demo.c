/* cmd_demo.c — `herd demo`: herd's main job for now. The four herds of seed 004,
 * each naive and with its default mitigation, at a modest N, measured for real,
 * as one side-by-side table (or every report as JSON). */
#include "cli.h"

#include <getopt.h>
#include <herd/error.h>
#include <math.h>
#include <string.h>

static const char demo_usage[] =
    "usage: herd demo [-n N] [--format text|json] [--quiet]\n"
    "\n"
    "Run the four herds (accept, condvar, cache, cron) for real on this machine, naive\n"
    "and with each scenario's default mitigation, and print one side-by-side table.\n"
    "\n"
    "  -n N             waiters per herd (default: 200 each; cache 100)\n"
    "  -f, --format F   text (default) or json (every report, as herd run writes it)\n"
    "  -q, --quiet      no progress lines on stderr\n"
    "  -h, --help       this help\n";

struct demo_row {
    const char *scenario;
    int64_t n, events;
};

static const struct demo_row rows[] = {
    {"accept", 200, 20},
    {"condvar", 200, 50},
    {"cache", 100, 3},
    {"cron", 200, 1},
};
#define NROWS (sizeof rows / sizeof rows[0])

static void fmt_lat(double ns, bool utf8, char *buf, size_t len)
{
    if (ns < 1e6)
        snprintf(buf, len, "%.0f%s", ns / 1e3, utf8 ? "\xc2\xb5s" : "us");
    else if (ns < 1e9)
        snprintf(buf, len, "%.1fms", ns / 1e6);
    else
        snprintf(buf, len, "%.2fs", ns / 1e9);
}

static void fmt_x(double a, double b, bool utf8, char *buf, size_t len)
{
    if (b <= 0)
        snprintf(buf, len, a > 0 ? "%s" : "=", utf8 ? "\xe2\x88\x9e" : "inf");
    else
        snprintf(buf, len, a / b >= 100 ? "%.0f%s" : "%.1f%s", a / b, utf8 ? "\xc3\x97" : "x");
}

static void print_table(struct herd_report *rep, bool utf8)
{
    char a[32], b[32], x[32];
    printf("\nThe four herds on this machine, naive vs mitigated (live backend; medians per "
           "event)\n\n");
    printf("%-8s %5s %-16s %17s %17s %17s %13s %25s\n", "scenario", "N", "mitigation",
           "wakes/event", "wasted/event", "origin/event", "peak", "p99 latency");
    printf("%-8s %5s %-16s %8s %8s %8s %8s %8s %8s %6s %6s %8s %8s %7s\n", "", "", "", "naive",
           "mitig.", "naive", "mitig.", "naive", "mitig.", "naive", "mitig.", "naive", "mitig.",
           "ratio");
    for (size_t i = 0; i < NROWS; i++) {
        struct herd_report *nv = &rep[2 * i], *mt = &rep[2 * i + 1];
        printf("%-8s %5lld %-16s", nv->spec.sc->name, (long long)nv->spec.n,
               herd_spec_strategy(&mt->spec));
        printf(" %8.1f %8.1f", herd_median(nv->ev_wakes, nv->nevents),
               herd_median(mt->ev_wakes, mt->nevents));
        printf(" %8.1f %8.1f", herd_median(nv->ev_wasted, nv->nevents),
               herd_median(mt->ev_wasted, mt->nevents));
        printf(" %8.1f %8.1f", herd_median(nv->ev_origin, nv->nevents),
               herd_median(mt->ev_origin, mt->nevents));
        printf(" %6llu %6llu", (unsigned long long)nv->peak, (unsigned long long)mt->peak);
        double pa = (double)herd_hist_quantile(&nv->latency, 0.99);
        double pb = (double)herd_hist_quantile(&mt->latency, 0.99);
        fmt_lat(pa, utf8, a, sizeof a);
        fmt_lat(pb, utf8, b, sizeof b);
        fmt_x(pa, pb, utf8, x, sizeof x);
        printf(" %8s %8s %7s\n", a, b, x);
    }
    printf("\nwakes: waiters the event woke (kernel context switches for accept); wasted: wakes\n"
           "that did no needed work; origin: operations reaching the contended resource;\n"
           "peak: most load at the resource at once. herd run SCENARIO shows the full "
           "report.\n");
}

int herd_cmd_demo(int argc, char **argv)
{
    static const struct option opts[] = {
        {"format", required_argument, NULL, 'f'},
        {"quiet", no_argument, NULL, 'q'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    const char *format = "text";
    bool quiet = false;
    int64_t n = 0;
    char err[256];
    int c;
    optind = 1;
    opterr = 0;
    while ((c = getopt_long(argc, argv, ":f:n:qh", opts, NULL)) != -1) {
        switch (c) {
        case 'f':
            format = optarg;
            break;
        case 'n':
            if (herd_parse_int("-n", optarg, 1, HERD_N_MAX, &n, err, sizeof err) < 0)
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

    struct herd_run_spec specs[2 * NROWS];
    for (size_t i = 0; i < NROWS; i++) {
        const struct herd_scenario *sc = herd_scenario_find(rows[i].scenario);
        struct herd_run_spec *nv = &specs[2 * i], *mt = &specs[2 * i + 1];
        herd_spec_init(nv, sc);
        nv->n = n ? n : rows[i].n;
        nv->events = rows[i].events;
        *mt = *nv;
        mt->mode = HERD_MODE_MITIGATED;
        mt->mitigation = herd_scenario_mitigation_index(sc, sc->default_mitigation);
    }
    static struct herd_cli_job jobs[2 * NROWS];
    for (size_t i = 0; i < 2 * NROWS; i++)
        jobs[i] = (struct herd_cli_job){.spec = specs[i], .sim = false};
    static struct herd_report reports[2 * NROWS];
    struct herd_report *ptrs[2 * NROWS];
    size_t done = 0;
    herd__cli_signals();
    int rc = herd__cli_run_all(jobs, 2 * NROWS, 1, reports, &done, quiet);
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
