/* cmd_sweep.c — `herd sweep SCENARIO --n FROM:TO:STEP`: one table of a scenario's
 * figures across N, naive and every chosen mitigation, each point the mean over --runs
 * derived seeds. It is how the AWS backoff study's table is printed
 * (herd sweep backoff-occ --n 10:190:20 --mitigation all --runs 20). With --mpi, under
 * mpirun, the runs are spread over the MPI ranks (sweep_mpi.c) and rank 0 prints the
 * same table, byte for byte. */
#include "cli.h"
#include "sweep_mpi.h"

#include "../scenario/file.h"
#include "../scenario/request.h"

#include <getopt.h>
#include <herd/error.h>
#include <stdlib.h>
#include <string.h>

static const char sweep_usage[] =
    "usage: herd sweep SCENARIO --n FROM:TO:STEP [options]\n"
    "       herd sweep SCENARIO --vary KEY=V1,V2,... [options]\n"
    "\n"
    "Run SCENARIO at every N from FROM to TO in steps of STEP (or at every value of one\n"
    "setting), naive and mitigated, and print one table: per point, the chosen figures of\n"
    "each strategy (means over --runs). SCENARIO may be a scenario file (FILE.yaml or a\n"
    "shipped NAME), whose any field can be varied by its path.\n"
    "\n"
    "  --n FROM:TO:STEP        the values of N (at most 1000 of them)\n"
    "      --vary KEY=V1,...   the values of a setting instead: a parameter of a preset\n"
    "                          (--vary ttl_ms=50,100,200) or a file's field by its path\n"
    "                          (--vary components.api.workers=10,20,40); at most 1000\n"
    "  -b, --backend NAME      live or sim (default: sim where the scenario has a model)\n"
    "  -M, --mitigation NAME   a mitigation, or 'all' (default: all)\n"
    "  -e, --events E          events per run\n"
    "  -r, --runs R            runs per point with derived seeds, 1 to 1000 (default 1)\n"
    "  -s, --seed S            seed (default 1)\n"
    "  -S, --set KEY=VALUE     a scenario parameter (repeatable)\n"
    "      --metrics LIST      figures to print, comma-separated, from: wakes, useful,\n"
    "                          wasted, origin_load, peak, p50, p99, max, sim_time\n"
    "                          (default: origin_load,sim_time on sim; wakes,p99 on live)\n"
    "  -f, --format FMT        text (default) or csv\n"
    "  -q, --quiet             no progress lines on stderr\n"
    HERD_CLI_BUDGET_HELP
    "      --mpi               spread the runs over MPI ranks (sim only): run as\n"
    "                          mpirun -np K herd sweep SCENARIO ... --mpi; each (N, strategy,\n"
    "                          run) is one work item, rank 0 prints the same table\n"
    "  -h, --help              this help\n";

struct metric {
    const char *name, *title;
    bool time;
};

static const struct metric metrics[] = {
    {"wakes", "wakes", false},        {"useful", "useful", false},
    {"wasted", "wasted", false},      {"origin_load", "work", false},
    {"peak", "peak", false},          {"p50", "p50", true},
    {"p99", "p99", true},             {"max", "max", true},
    {"sim_time", "completion", true},
};
#define NMETRICS (sizeof metrics / sizeof metrics[0])

/* What a point prints: one run's figures, or the means over --runs (the same sums, in the
 * same order, as sweep_mpi.c's: the tables agree to the digit). */
static void point_figures(const struct herd_report *r, struct herd_figures *f)
{
    if (r->runs > 1)
        *f = r->mean;
    else
        herd_report_figures(r, f);
}

static double metric_value(const struct herd_figures *f, size_t m)
{
    switch (m) {
    case 0: return f->wakes;
    case 1: return f->useful;
    case 2: return f->wasted;
    case 3: return f->origin_load;
    case 4: return f->peak;
    case 5: return f->lat_p50;
    case 6: return f->lat_p99;
    case 7: return f->lat_max;
    default: return f->sim_time_ns;
    }
}

static int parse_metrics(const char *list, size_t *out, size_t *n)
{
    char buf[256];
    snprintf(buf, sizeof buf, "%s", list);
    *n = 0;
    for (char *save = NULL, *tok = strtok_r(buf, ",", &save); tok;
         tok = strtok_r(NULL, ",", &save)) {
        size_t m = 0;
        while (m < NMETRICS && strcmp(metrics[m].name, tok) != 0)
            m++;
        if (m == NMETRICS || *n == 8)
            return herd__usage_error("--metrics: '%s' is not allowed; allowed: wakes, useful, "
                                     "wasted, origin_load, peak, p50, p99, max, sim_time "
                                     "(at most 8)",
                                     tok);
        out[(*n)++] = m;
    }
    return *n ? 0 : herd__usage_error("--metrics: empty list");
}

static int parse_range(const char *text, int64_t *from, int64_t *to, int64_t *step)
{
    char err[256], a[32], b[32], c[32];
    if (sscanf(text, "%31[^:]:%31[^:]:%31s", a, b, c) != 3)
        return herd__usage_error("--n: expected FROM:TO:STEP, got '%s'", text);
    if (herd_parse_int("--n FROM", a, 1, HERD_N_MAX, from, err, sizeof err) < 0 ||
        herd_parse_int("--n TO", b, *from, HERD_N_MAX, to, err, sizeof err) < 0 ||
        herd_parse_int("--n STEP", c, 1, HERD_N_MAX, step, err, sizeof err) < 0)
        return herd__usage_error("%s", err);
    if ((*to - *from) / *step + 1 > 1000)
        return herd__usage_error("--n: %s makes more than 1000 points", text);
    return 0;
}

#define POINTS_MAX 1000

/* --vary KEY=V1,V2,...: the key and each value, split at commas outside [] and {} (a value
 * may be a YAML list). @p buf keeps the texts. */
static int parse_vary(const char *text, char *buf, size_t len, const char **key,
                      const char **vals, size_t *nvals)
{
    const char *eq = strchr(text, '=');
    if (!eq || eq == text || !eq[1])
        return herd__usage_error("--vary: expected KEY=V1,V2,..., got '%s'", text);
    if (strlen(text) >= len)
        return herd__usage_error("--vary: longer than %zu characters", len - 1);
    snprintf(buf, len, "%s", text);
    buf[eq - text] = '\0';
    *key = buf;
    *nvals = 0;
    int depth = 0;
    char *start = buf + (eq - text) + 1;
    for (char *p = start;; p++) {
        if (*p == '[' || *p == '{')
            depth++;
        else if ((*p == ']' || *p == '}') && depth > 0)
            depth--;
        if ((*p == ',' && depth == 0) || !*p) {
            bool end = !*p;
            *p = '\0';
            if (!*start)
                return herd__usage_error("--vary %s: an empty value in '%s'", *key, eq + 1);
            if (*nvals == POINTS_MAX)
                return herd__usage_error("--vary %s: more than %d values", *key, POINTS_MAX);
            vals[(*nvals)++] = start;
            start = p + 1;
            if (end)
                break;
        }
    }
    return 0;
}

/* The request of point @p value of --vary @p key: @p base's, with KEY=VALUE after its
 * --sets (into @p sets, which it points at). */
static int resolve_point(const struct herd_request *base, const char *key, const char *value,
                         const char **sets, char *kv, size_t kvlen,
                         struct herd_request_plan *plan, char *err, size_t errlen)
{
    struct herd_request req = *base;
    memcpy(sets, base->sets, base->nsets * sizeof *sets);
    snprintf(kv, kvlen, "%s=%s", key, value);
    sets[base->nsets] = kv;
    req.sets = sets;
    req.nsets = base->nsets + 1;
    return herd_request_resolve(&req, &herd_request_spelling_sweep, plan, err, errlen);
}

static int sweep_scenario(int argc, char **argv, bool *mpi_started, const char *name,
                          const struct herd_scenario *row);

static int sweep(int argc, char **argv, bool *mpi_started)
{
    /* The scenario first (a file is loaded, and freed when the sweep is done). */
    const char *name = NULL;
    for (int i = 1; i < argc; i++) {
        if (argv[i][0] != '-') {
            name = argv[i];
            break;
        }
        if (strcmp(argv[i], "--") == 0) {
            name = i + 1 < argc ? argv[i + 1] : NULL;
            break;
        }
        /* Options that take a value as the next word. */
        static const char *const valued[] = {"--n", "--backend", "-b", "--mitigation", "-M",
                                             "--events", "-e", "--runs", "-r", "--seed", "-s",
                                             "--set", "-S", "--metrics", "--format", "-f",
                                             "--vary", NULL};
        for (const char *const *v = valued; *v; v++)
            if (strcmp(argv[i], *v) == 0)
                i++;
    }
    const struct herd_scenario *row = NULL;
    struct herd_fleet_file *file = NULL;
    bool help = false;
    for (int i = 1; i < argc; i++)
        help |= strcmp(argv[i], "-h") == 0 || strcmp(argv[i], "--help") == 0;
    int rc;
    if (!help && (rc = herd__cli_scenario("sweep", name, &row, &file)) != HERD_EXIT_OK)
        return rc;
    rc = sweep_scenario(argc, argv, mpi_started, name, row);
    herd_fleet_file_free(file);
    return rc;
}

static int sweep_scenario(int argc, char **argv, bool *mpi_started, const char *name,
                          const struct herd_scenario *row)
{
    static const struct option opts[] = {
        {"n", required_argument, NULL, 'N'},        {"backend", required_argument, NULL, 'b'},
        {"mitigation", required_argument, NULL, 'M'}, {"events", required_argument, NULL, 'e'},
        {"runs", required_argument, NULL, 'r'},     {"seed", required_argument, NULL, 's'},
        {"set", required_argument, NULL, 'S'},      {"metrics", required_argument, NULL, 'm'},
        {"format", required_argument, NULL, 'f'},   {"quiet", no_argument, NULL, 'q'},
        {"mpi", no_argument, NULL, 'P'},            {"help", no_argument, NULL, 'h'},
        {"vary", required_argument, NULL, 'V'},
        HERD_CLI_BUDGET_OPTIONS,
        {NULL, 0, NULL, 0},
    };
    const char *range = NULL, *backend = NULL, *mname = "all", *mlist = NULL, *format = "text";
    const char *events = NULL, *seed = NULL, *sets[65], *vary = NULL;
    int nsets = 0, c, rc;
    int64_t runs = 1, from = 0, to = 0, step = 1;
    bool quiet = false, mpi = false;
    uint64_t max_memory = HERD_FRONT_MAX_MEMORY, max_events = HERD_CLI_MAX_EVENTS;
    char err[512];
    optind = 1;
    opterr = 0;
    while ((c = getopt_long(argc, argv, ":b:M:e:r:s:S:f:qh", opts, NULL)) != -1) {
        switch (c) {
        case 'N': range = optarg; break;
        case 'b': backend = optarg; break;
        case 'M': mname = optarg; break;
        case 'm': mlist = optarg; break;
        case 'f': format = optarg; break;
        case 'q': quiet = true; break;
        case 'P': mpi = true; break;
        case 'V': vary = optarg; break;
        case 'e': events = optarg; break;
        case 's': seed = optarg; break;
        case 'r':
            if (herd_parse_int("--runs", optarg, 1, HERD_RUNS_MAX, &runs, err, sizeof err))
                return herd__usage_error("%s", err);
            break;
        case 'S':
            if (nsets == 64)
                return herd__usage_error("--set: at most 64 settings");
            sets[nsets++] = optarg;
            break;
        case 'h': fputs(sweep_usage, stdout); return HERD_EXIT_OK;
        case HERD_CLI_OPT_MAX_MEMORY:
        case HERD_CLI_OPT_MAX_EVENTS:
            if ((rc = herd__cli_parse_budget(c, optarg, &max_memory, &max_events)) != 0)
                return rc;
            break;
        case ':':
            return herd__usage_error("%s: needs a value (see herd sweep --help)", argv[optind - 1]);
        default:
            return herd__usage_error("sweep: unknown option '%s' (see herd sweep --help)",
                                     argv[optind - 1]);
        }
    }
    if (optind + 1 < argc)
        return herd__usage_error("sweep: unexpected argument '%s' (one scenario per sweep)",
                                 argv[optind + 1]);
    herd__cli_budget(NULL, max_memory, max_events); /* the watch of every run, MPI's too */
    if (mpi)
        herd__sweep_mpi_quiet_ranks(); /* every rank finds the same errors: say them once */
    else if (getenv("OMPI_COMM_WORLD_SIZE") && !quiet)
        fprintf(stderr, "herd: sweep: started by mpirun without --mpi: every rank runs the "
                        "whole sweep (add --mpi to spread the runs)\n");
    if (mpi && !herd__sweep_mpi_available())
        return herd__usage_error("--mpi: this herd was built without MPI; install "
                                 "libopenmpi-dev (scripts/install-deps.sh) and rebuild");
    /* Naive and the chosen mitigations at every point: herd run's validation with
     * --mode both and N left to --n. */
    (void)name;
    struct herd_request req = {.scenario = optind < argc ? argv[optind] : NULL,
                               .row = row,
                               .backend = backend,
                               .mode = "both",
                               .mitigation = mname,
                               .events = events,
                               .seed = seed,
                               .sets = sets,
                               .nsets = (size_t)nsets};
    struct herd_request_plan plan;
    if (herd_request_resolve(&req, &herd_request_spelling_sweep, &plan, err, sizeof err) < 0)
        return herd__usage_error("%s", err);
    const struct herd_scenario *sc = plan.sc;
    bool sim = plan.backends == HERD_BACKEND_SIM;
    if (mpi && !sim)
        return herd__usage_error("--mpi: only --backend sim runs over MPI; live runs stay on "
                                 "this machine, one at a time");
    static char vary_buf[8192];
    static const char *vals[POINTS_MAX];
    const char *vkey = NULL;
    size_t nvals = 0;
    if (range && vary)
        return herd__usage_error("sweep: --n and --vary are two axes; allowed: one of them");
    if (vary) {
        if ((rc = parse_vary(vary, vary_buf, sizeof vary_buf, &vkey, vals, &nvals)) != 0)
            return rc;
    } else if (!range) {
        return herd__usage_error("sweep: --n FROM:TO:STEP or --vary KEY=V1,V2,... is required");
    } else if (sc->fixed_size) {
        return herd__usage_error("--n: scenario %s sets its own sizes in its file; allowed: "
                                 "--vary components.NAME.clients=N1,N2,...",
                                 sc->name);
    } else if ((rc = parse_range(range, &from, &to, &step)) != 0) {
        return rc;
    }
    bool csv = strcmp(format, "csv") == 0;
    if (!csv && strcmp(format, "text") != 0)
        return herd__usage_error("--format: '%s' is not allowed for sweep; allowed: text, csv",
                                 format);
    size_t mets[8], nmets;
    if ((rc = parse_metrics(mlist ? mlist : sim ? "origin_load,sim_time" : "wakes,p99", mets,
                            &nmets)) != 0)
        return rc;
    int nstrat = (int)plan.nspecs;

    size_t npoints = vary ? nvals : (size_t)((to - from) / step + 1);
    size_t njobs = npoints * (size_t)nstrat;
    struct herd_job *jobs = calloc(njobs, sizeof *jobs);
    struct herd_report *reports = mpi ? NULL : calloc(njobs, sizeof *reports);
    struct herd_figures *figs = calloc(njobs, sizeof *figs);
    size_t done = 0;
    struct herd_front_opts fo;
    struct herd_profile prof;
    char prof_path[4096];
    if (!jobs || (!mpi && !reports) || !figs) {
        free(jobs);
        free(reports);
        free(figs);
        return herd__fail("out of memory");
    }
    for (size_t p = 0; p < npoints; p++) {
        struct herd_request_plan point;
        if (vary) {
            char kv[8192 + 64];
            const char *psets[65];
            rc = resolve_point(&req, vkey, vals[p], psets, kv, sizeof kv, &point, err,
                               sizeof err);
            if (rc < 0) {
                free(jobs);
                free(reports);
                free(figs);
                return herd__usage_error("--vary %s: %s", vkey, err);
            }
        }
        for (int k = 0; k < nstrat; k++) {
            struct herd_job *j = &jobs[p * (size_t)nstrat + (size_t)k];
            j->spec = vary ? point.specs[k] : plan.specs[k];
            if (!vary)
                j->spec.n = from + (int64_t)p * step;
            j->backend = herd_front_backend(sim ? HERD_BACKEND_SIM : HERD_BACKEND_LIVE);
        }
    }
    bool root = true; /* this process prints the table: always, but on MPI rank 0 only */
    if (mpi) {
        *mpi_started = true;
        rc = herd__sweep_mpi_run(jobs, njobs, (int)runs, quiet, figs, &root);
    } else {
        herd__cli_signals();
        rc = herd__cli_front_opts(&fo, &prof, prof_path, sizeof prof_path, sim);
        fo.runs = (int)runs;
        fo.no_intervals = true; /* a sweep prints means; intervals are herd run's */
        herd__cli_budget(&fo, max_memory, max_events);
        if (rc == HERD_EXIT_OK)
            rc = herd__cli_run_jobs(jobs, njobs, &fo, reports, &done, quiet);
        for (size_t i = 0; rc == HERD_EXIT_OK && i < njobs; i++)
            point_figures(&reports[i], &figs[i]);
    }
    if (rc == HERD_EXIT_OK && root) {
        /* Header: N, then one column per strategy and metric. */
        if (!csv)
            printf("%s on %s, means over %lld run%s per point\n", sc->name, sim ? "sim" : "live",
                   (long long)runs, runs == 1 ? "" : "s");
        if (vary)
            printf(csv ? "%s" : "%16.16s", vkey);
        else
            printf(csv ? "n" : "%8s", "N");
        for (int k = 0; k < nstrat; k++)
            for (size_t m = 0; m < nmets; m++) {
                char col[96];
                snprintf(col, sizeof col, "%s %s", herd_spec_strategy(&jobs[k].spec),
                         metrics[mets[m]].title);
                if (csv)
                    printf(",%s", col);
                else
                    printf(" %24.24s", col);
            }
        putchar('\n');
        for (size_t p = 0; p < npoints; p++) {
            if (vary)
                printf(csv ? "%s" : "%16.16s", vals[p]);
            else
                printf(csv ? "%lld" : "%8lld", (long long)(from + (int64_t)p * step));
            for (int k = 0; k < nstrat; k++)
                for (size_t m = 0; m < nmets; m++) {
                    double v = metric_value(&figs[p * (size_t)nstrat + (size_t)k], mets[m]);
                    if (metrics[mets[m]].time)
                        v /= 1e6; /* ms */
                    printf(csv ? ",%.6g" : metrics[mets[m]].time ? " %24.3f" : " %24.1f", v);
                }
            putchar('\n');
        }
        if (!csv)
            printf("(times in ms)\n");
    }
    for (size_t i = 0; i < done; i++)
        herd_report_fini(&reports[i]);
    free(reports);
    free(figs);
    free(jobs);
    return rc;
}

int herd_cmd_sweep(int argc, char **argv)
{
    bool started = false;
    int rc = sweep(argc, argv, &started);
    if (rc != HERD_EXIT_OK && !started)
        herd__sweep_mpi_linger();
    return rc;
}
