/* cmd_run.c — `herd run SCENARIO`: validate every flag against the catalogue, check
 * the machine before anything starts, run naive and/or mitigated with the same
 * settings and seed, write the report. */
#include "cli.h"

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
    "shows their parameters, mitigations and backends).\n"
    "\n"
    "  -b, --backend NAME      live (real threads, sockets and databases on this kernel),\n"
    "                          sim (the discrete-event simulator, N up to 1000000) or\n"
    "                          both (live and sim side by side with the same settings)\n"
    "  -m, --mode MODE         naive, mitigated or both (default both: side by side)\n"
    "  -M, --mitigation NAME   the mitigation to run (default: the scenario's own), or\n"
    "                          'all' for naive plus every mitigation\n"
    "  -n N                    waiters, 1 to 1000000 (the live backend checks what this\n"
    "                          machine allows before it starts anything)\n"
    "  -e, --events E          events (connections, items, expiries, boundaries),\n"
    "                          1 to 100000\n"
    "  -s, --seed S            seed of every random choice (default 1)\n"
    "  -r, --runs R            repeat with R derived seeds, 1 to 1000: every figure\n"
    "                          becomes the mean, with its standard deviation\n"
    "  -S, --set KEY=VALUE     set a scenario parameter (repeatable)\n"
    "  -f, --format FMT        text (default), json or csv\n"
    "  -o, --out FILE          write the report to FILE instead of stdout\n"
    "  -q, --quiet             no progress lines on stderr\n"
    "  -h, --help              this help\n"
    "\n"
    "examples:\n"
    "  herd run accept -n 1000\n"
    "  herd run condvar -n 1000 --set primitive=futex\n"
    "  herd run cache -n 200 --mitigation all\n"
    "  herd run cron -n 500 --mitigation splay --format json --out cron.json\n";

struct run_opts {
    const char *backend, *mode, *mitigation, *format, *out;
    int64_t n, events, runs;
    uint64_t seed;
    bool n_set, events_set, quiet;
    const char *sets[64];
    int nsets;
};

static int parse_seed(const char *text, uint64_t *out)
{
    char *end;
    errno = 0;
    if (*text == '-')
        return -1;
    unsigned long long v = strtoull(text, &end, 10);
    if (errno || end == text || *end)
        return -1;
    *out = v;
    return 0;
}

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
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    char err[256];
    int c;
    optind = 1;
    opterr = 0;
    while ((c = getopt_long(argc, argv, ":b:m:M:n:e:s:r:S:f:o:qh", opts, NULL)) != -1) {
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
            if (herd_parse_int("-n", optarg, 1, HERD_N_MAX, &o->n, err, sizeof err) < 0)
                return herd__usage_error("%s", err);
            o->n_set = true;
            break;
        case 'e':
            if (herd_parse_int("--events", optarg, 1, HERD_EVENTS_MAX, &o->events, err,
                               sizeof err) < 0)
                return herd__usage_error("%s", err);
            o->events_set = true;
            break;
        case 's':
            if (parse_seed(optarg, &o->seed) < 0)
                return herd__usage_error("--seed: expected a whole number from 0 to "
                                         "18446744073709551615, got '%s'",
                                         optarg);
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
        case 'h':
            fputs(run_usage, stdout);
            return -1;
        case ':':
            return herd__usage_error("%s: needs a value (see herd run --help)",
                                     argv[optind - 1]);
        default:
            return herd__usage_error("run: unknown option '%s' (see herd run --help)",
                                     argv[optind - 1]);
        }
    }
    if (optind >= argc) {
        char names[256];
        herd_scenario_names(names, sizeof names);
        return herd__usage_error("run: which scenario? allowed: %s", names);
    }
    if (optind + 1 < argc)
        return herd__usage_error("run: unexpected argument '%s' (one scenario per run)",
                                 argv[optind + 1]);
    *scenario = argv[optind];
    return 0;
}

int herd_cmd_run(int argc, char **argv)
{
    struct run_opts o = {.mode = "both", .format = "text", .seed = 1, .runs = 1};
    const char *name = NULL;
    char err[512], names[256];
    int rc = parse(argc, argv, &o, &name);
    if (rc != 0)
        return rc < 0 ? HERD_EXIT_OK : rc;

    const struct herd_scenario *sc = herd_scenario_find(name);
    if (!sc) {
        herd_scenario_names(names, sizeof names);
        return herd__usage_error("run: unknown scenario '%s'; allowed: %s", name, names);
    }
    if (!o.backend) /* the scenario's first backend: live where it can run for real */
        o.backend = (sc->backends & HERD_BACKEND_LIVE) ? "live" : "sim";
    if (!herd__cli_backend_ok(o.backend))
        return herd__usage_error("--backend: '%s' is not allowed; allowed: live, sim, both",
                                 o.backend);
    if (strcmp(o.backend, "sim") != 0 && !(sc->backends & HERD_BACKEND_LIVE))
        return herd__usage_error("--backend: scenario %s runs only on the simulator; allowed: "
                                 "sim",
                                 sc->name);
    if (strcmp(o.backend, "live") != 0 && !(sc->backends & HERD_BACKEND_SIM))
        return herd__usage_error("--backend: scenario %s runs only live; allowed: live",
                                 sc->name);
    bool naive = strcmp(o.mode, "naive") == 0, mitigated = strcmp(o.mode, "mitigated") == 0;
    bool both = strcmp(o.mode, "both") == 0;
    if (!naive && !mitigated && !both)
        return herd__usage_error("--mode: '%s' is not allowed; allowed: naive, mitigated, both",
                                 o.mode);
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

    struct herd_run_spec base;
    herd_spec_init(&base, sc);
    if (o.n_set)
        base.n = o.n;
    if (o.events_set)
        base.events = o.events;
    base.seed = o.seed;
    for (int i = 0; i < o.nsets; i++)
        if (herd_spec_set(&base, o.sets[i], err, sizeof err) < 0)
            return herd__usage_error("%s", err);

    /* Which mitigations: the named one, all of them, or the scenario's default. */
    int mits[HERD_MAX_MITIGATIONS], nmits = 0;
    const char *mname = o.mitigation ? o.mitigation : sc->default_mitigation;
    herd_mitigation_names(sc, names, sizeof names);
    if (strcmp(mname, "all") == 0) {
        for (int i = 0; sc->mitigations[i].name; i++)
            mits[nmits++] = i;
    } else if (strcmp(mname, "none") == 0 || strcmp(mname, sc->naive) == 0) {
        if (!naive)
            return herd__usage_error("--mitigation: '%s' is the naive strategy; use --mode "
                                     "naive, or one of: %s, all",
                                     mname, names);
    } else {
        int m = herd_scenario_mitigation_index(sc, mname);
        if (m < 0)
            return herd__usage_error("--mitigation: '%s' is not a mitigation of %s; allowed: "
                                     "%s, all",
                                     mname, sc->name, names);
        mits[nmits++] = m;
    }

    struct herd_run_spec specs[1 + HERD_MAX_MITIGATIONS];
    size_t nspecs = 0;
    if (naive || both) {
        specs[nspecs] = base;
        specs[nspecs].mode = HERD_MODE_NAIVE;
        specs[nspecs++].mitigation = -1;
    }
    if (mitigated || both) {
        for (int i = 0; i < nmits; i++) {
            specs[nspecs] = base;
            specs[nspecs].mode = HERD_MODE_MITIGATED;
            specs[nspecs++].mitigation = mits[i];
        }
    }

    /* Open the output first: a bad --out path must fail before a long run. */
    char tmp[4096];
    FILE *out = herd__cli_open_out(o.out, tmp, sizeof tmp);
    if (!out)
        return herd__usage_error("--out: cannot write '%s': %s", o.out, strerror(errno));

    /* Each spec on the chosen backend(s): with both, live then sim for each mode. */
    struct herd_cli_job jobs[2 * (1 + HERD_MAX_MITIGATIONS)];
    size_t njobs = 0;
    bool live = strcmp(o.backend, "sim") != 0, sim = strcmp(o.backend, "live") != 0;
    for (size_t i = 0; i < nspecs; i++) {
        if (live)
            jobs[njobs++] = (struct herd_cli_job){.spec = specs[i], .sim = false};
        if (sim)
            jobs[njobs++] = (struct herd_cli_job){.spec = specs[i], .sim = true};
    }
    struct herd_report *reports = calloc(njobs, sizeof *reports);
    struct herd_report *ptrs[2 * (1 + HERD_MAX_MITIGATIONS)];
    if (!reports) {
        herd__cli_abort_out(out, o.out, tmp);
        return herd__fail("out of memory");
    }
    size_t done = 0;
    herd__cli_signals();
    rc = herd__cli_run_all(jobs, njobs, (int)o.runs, reports, &done, o.quiet);
    if (rc == HERD_EXIT_OK) {
        for (size_t i = 0; i < done; i++)
            ptrs[i] = &reports[i];
        int w = fmt == HERD_FORMAT_JSON  ? herd_write_json(out, ptrs, done)
                : fmt == HERD_FORMAT_CSV ? herd_write_csv(out, ptrs, done)
                                         : herd_write_text(out, ptrs, done,
                                                           herd__cli_utf8());
        if (w == 0)
            w = herd__cli_commit_out(out, o.out, tmp);
        else
            herd__cli_abort_out(out, o.out, tmp);
        if (w < 0)
            rc = herd__fail("writing the report: %s", herd_strerror(w));
    } else {
        herd__cli_abort_out(out, o.out, tmp);
    }
    for (size_t i = 0; i < done; i++)
        herd_report_fini(&reports[i]);
    free(reports);
    return rc;
}
