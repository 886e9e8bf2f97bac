/* cmd_run.c — `herd run SCENARIO`: validate every flag against the catalogue (the same
 * herd_request_resolve as the web API, with the CLI's flag names in its messages), check
 * the machine before anything starts, run naive and/or mitigated with the same
 * settings and seed, write the report. */
#include "cli.h"

#include "../scenario/file.h"
#include "../scenario/request.h"

#include <errno.h>
#include <getopt.h>
#include <herd/error.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

static const char run_usage[] =
    "usage: herd run SCENARIO [options]\n"
    "\n"
    "Run a herd and print its report: wakes, useful, wasted, origin load, peak, latency\n"
    "percentiles, who got the work, the first waiters and a timeline. SCENARIO is one of\n"
    "accept, condvar, cache, cron, or a simulated preset: queue, backoff-occ (herd list\n"
    "shows their parameters, mitigations and backends), or a scenario file: FILE.yaml or\n"
    "the name of one shipped with herd (docs/scenario-file.md; herd list shows them).\n"
    "\n"
    "  -b, --backend NAME      live (real threads, sockets and databases on this kernel),\n"
    "                          sim (the discrete-event simulator, N up to 1000000) or\n"
    "                          both (live and sim side by side with the same settings)\n"
    "  -m, --mode MODE         naive, mitigated or both (default both: side by side)\n"
    "  -M, --mitigation NAME   the mitigation to run (default: the scenario's own), or\n"
    "                          'all' for naive plus every mitigation; a file's several\n"
    "                          at once: a+b (applied in that order)\n"
    "  -n N                    waiters, 1 to 1000000 (the live backend checks what this\n"
    "                          machine allows before it starts anything)\n"
    "  -e, --events E          events (connections, items, expiries, boundaries),\n"
    "                          1 to 100000\n"
    "  -s, --seed S            seed of every random choice (default 1)\n"
    "  -r, --runs R            runs with derived seeds, pooled into one report with\n"
    "                          intervals, 1 to 1000 (default: 3 live, 1 sim)\n"
    "  -S, --set KEY=VALUE     set a scenario parameter (repeatable); for a file, any\n"
    "                          field by its path: --set components.api.workers=40\n"
    "  -f, --format FMT        text (default), json or csv\n"
    "  -w, --wide              text: every run side by side, however wide (default:\n"
    "                          fit 100 columns, in blocks of runs)\n"
    "  -o, --out FILE          write the report to FILE instead of stdout, once the run\n"
    "                          succeeded (atomically, mode kept; FIFOs, devices and\n"
    "                          hard-linked files in place; no directory is created)\n"
    "  -q, --quiet             no progress lines on stderr\n"
    HERD_CLI_BUDGET_HELP
    "  -h, --help              this help\n"
    "\n"
    "examples:\n"
    "  herd run accept -n 1000\n"
    "  herd run condvar -n 1000 --set primitive=futex\n"
    "  herd run cache -n 200 --mitigation all\n"
    "  herd run cron -n 500 --mitigation splay --format json --out cron.json\n"
    "  herd run cascade-3tier --mitigation jitter+budget\n"
    "  herd run my-fleet.yaml --set faults.0.for=10s\n";

struct run_opts {
    const char *backend, *mode, *mitigation, *format, *out;
    const char *n, *events, *seed; /* as typed: herd_request_resolve checks them */
    int64_t runs;
    uint64_t max_memory, max_events;
    bool quiet, wide;
    const char *sets[64];
    int nsets;
};

static int parse(int argc, char **argv, struct run_opts *o, const char **scenario)
{
    static const struct option opts[] = {
        {"backend", required_argument, NULL, 'b'},
        {"mode", required_argument, NULL, 'm'},
        {"mitigation", required_argument, NULL, 'M'},
        {"events", required_argument, NULL, 'e'},
        {"seed", required_argument, NULL, 's'},
        {"runs", required_argument, NULL, 'r'},
        {"set", required_argument, NULL, 'S'},
        {"format", required_argument, NULL, 'f'},
        {"out", required_argument, NULL, 'o'},
        {"quiet", no_argument, NULL, 'q'},
        {"wide", no_argument, NULL, 'w'},
        {"help", no_argument, NULL, 'h'},
        HERD_CLI_BUDGET_OPTIONS,
        {NULL, 0, NULL, 0},
    };
    char err[256];
    int c;
    optind = 1;
    opterr = 0;
    while ((c = getopt_long(argc, argv, ":b:m:M:n:e:s:r:S:f:o:qwh", opts, NULL)) != -1) {
        switch (c) {
        case 'b':
            o->backend = optarg;
            break;
        case 'm':
            o->mode = optarg;
            break;
        case 'M':
            o->mitigation = optarg;
            break;
        case 'n':
            o->n = optarg;
            break;
        case 'e':
            o->events = optarg;
            break;
        case 's':
            o->seed = optarg;
            break;
        case 'r':
            if (herd_parse_int("--runs", optarg, 1, HERD_RUNS_MAX, &o->runs, err, sizeof err) <
                0)
                return herd__usage_error("%s", err);
            break;
        case 'S':
            if (o->nsets == (int)(sizeof o->sets / sizeof o->sets[0]))
                return herd__usage_error("--set: at most 64 settings");
            o->sets[o->nsets++] = optarg;
            break;
        case 'f':
            o->format = optarg;
            break;
        case 'o':
            o->out = optarg;
            break;
        case 'q':
            o->quiet = true;
            break;
        case 'w':
            o->wide = true;
            break;
        case 'h':
            fputs(run_usage, stdout);
            return -1;
        case HERD_CLI_OPT_MAX_MEMORY:
        case HERD_CLI_OPT_MAX_EVENTS: {
            int rc = herd__cli_parse_budget(c, optarg, &o->max_memory, &o->max_events);
            if (rc != HERD_EXIT_OK)
                return rc;
            break;
        }
        case ':':
            return herd__usage_error("%s: needs a value (see herd run --help)",
                                     argv[optind - 1]);
        default:
            return herd__usage_error("run: unknown option '%s' (see herd run --help)",
                                     argv[optind - 1]);
        }
    }
    if (optind + 1 < argc)
        return herd__usage_error("run: unexpected argument '%s' (one scenario per run)",
                                 argv[optind + 1]);
    *scenario = optind < argc ? argv[optind] : NULL; /* none: herd_request_resolve says so */
    return 0;
}

static int run(const struct run_opts *opts, const char *name, const struct herd_scenario *row,
               char *err, size_t errlen);

int herd_cmd_run(int argc, char **argv)
{
    struct run_opts o = {.format = "text",
                         .runs = 0,
                         .max_memory = HERD_FRONT_MAX_MEMORY,
                         .max_events = HERD_CLI_MAX_EVENTS};
    const char *name = NULL;
    char err[512];
    int rc = parse(argc, argv, &o, &name);
    if (rc != 0)
        return rc < 0 ? HERD_EXIT_OK : rc;

    const struct herd_scenario *row;
    struct herd_fleet_file *file;
    if ((rc = herd__cli_scenario("run", name, &row, &file)) != HERD_EXIT_OK)
        return rc;
    rc = run(&o, name, row, err, sizeof err);
    herd_fleet_file_free(file);
    return rc;
}

/* herd run once the scenario is known (@p row: a file's, or NULL for a catalogue name). */
static int run(const struct run_opts *opts, const char *name, const struct herd_scenario *row,
               char *err, size_t errlen)
{
    struct run_opts o = *opts;
    int rc;
    struct herd_request req = {.scenario = name,
                               .row = row,
                               .backend = o.backend,
                               .mode = o.mode,
                               .mitigation = o.mitigation,
                               .n = o.n,
                               .events = o.events,
                               .seed = o.seed,
                               .sets = o.sets,
                               .nsets = (size_t)o.nsets};
    struct herd_request_plan plan;
    if (herd_request_resolve(&req, &herd_request_spelling_run, &plan, err, errlen) < 0)
        return herd__usage_error("%s", err);
    enum herd_format fmt;
    if (strcmp(o.format, "text") == 0)
        fmt = HERD_FORMAT_TEXT;
    else if (strcmp(o.format, "json") == 0)
        fmt = HERD_FORMAT_JSON;
    else if (strcmp(o.format, "csv") == 0)
        fmt = HERD_FORMAT_CSV;
    else
        return herd__usage_error("--format: '%s' is not allowed; allowed: text, json, csv",
                                 o.format);

    /* Judge the output first: a bad --out path must fail before a long run. */
    struct herd_cli_out out;
    if ((rc = herd__cli_out_open(&out, "--out", o.out)) != HERD_EXIT_OK)
        return rc;

    /* Each spec on the chosen backend(s): with both, live then sim for each mode. */
    struct herd_job jobs[HERD_JOBS_MAX];
    size_t njobs = herd_front_jobs(&plan, jobs);
    struct herd_report *reports = calloc(njobs, sizeof *reports);
    struct herd_report *ptrs[HERD_JOBS_MAX];
    struct herd_front_opts fo;
    struct herd_profile prof;
    char prof_path[4096];
    if (!reports) {
        herd__cli_out_abort(&out);
        return herd__fail("out of memory");
    }
    if ((rc = herd__cli_front_opts(&fo, &prof, prof_path, sizeof prof_path,
                                   herd__cli_any_sim(jobs, njobs))) != HERD_EXIT_OK) {
        herd__cli_out_abort(&out);
        free(reports);
        return rc;
    }
    fo.runs = (int)o.runs;
    herd__cli_budget(&fo, o.max_memory, o.max_events);
    size_t done = 0;
    herd__cli_signals();
    rc = herd__cli_run_jobs(jobs, njobs, &fo, reports, &done, o.quiet);
    if (rc == HERD_EXIT_OK) {
        for (size_t i = 0; i < done; i++)
            ptrs[i] = &reports[i];
        int w = fmt == HERD_FORMAT_JSON  ? herd_write_json(out.f, ptrs, done)
                : fmt == HERD_FORMAT_CSV ? herd_write_csv(out.f, ptrs, done)
                                         : herd_write_text(out.f, ptrs, done,
                                                           &(struct herd_text_opts){
                                                               .utf8 = herd__cli_utf8(),
                                                               .wide = o.wide});
        if (w < 0) {
            herd__cli_out_abort(&out);
            rc = herd__fail("writing the report: %s", herd_strerror(w));
        } else if ((w = herd__cli_out_commit(&out)) < 0) {
            rc = herd__fail("--out: cannot write '%s': %s", o.out ? o.out : "-", strerror(-w));
        }
    } else {
        herd__cli_out_abort(&out);
    }
    for (size_t i = 0; i < done; i++)
        herd_report_fini(&reports[i]);
    free(reports);
    return rc;
}
