/* cmd_sweep.c — `herd sweep SCENARIO --n FROM:TO:STEP`: one table of a scenario's
 * figures across N, naive and every chosen mitigation, each point the mean over --runs
 * derived seeds. It is how the AWS backoff study's table is printed
 * (herd sweep backoff-occ --n 10:190:20 --mitigation all --runs 20). With --mpi, under
 * mpirun, the runs are spread over the MPI ranks (sweep_mpi.c) and rank 0 prints the
 * same table, byte for byte. */
#include "cli.h"
#include "sweep_mpi.h"

#include "../scenario/request.h"

#include <getopt.h>
#include <herd/error.h>
#include <stdlib.h>
#include <string.h>

static const char sweep_usage[] =
    "usage: herd sweep SCENARIO --n FROM:TO:STEP [options]\n"
    "\n"
    "Run SCENARIO at every N from FROM to TO in steps of STEP, naive and mitigated, and\n"
    "print one table: per N, the chosen figures of each strategy (means over --runs).\n"
    "\n"
    "  --n FROM:TO:STEP        the values of N (at most 1000 of them)\n"
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

static int sweep(int argc, char **argv, bool *mpi_started)
{
    static const struct option opts[] = {
        {"n", required_argument, NULL, 'N'},        {"backend", required_argument, NULL, 'b'},
        {"mitigation", required_argument, NULL, 'M'}, {"events", required_argument, NULL, 'e'},
        {"runs", required_argument, NULL, 'r'},     {"seed", required_argument, NULL, 's'},
        {"set", required_argument, NULL, 'S'},      {"metrics", required_argument, NULL, 'm'},
        {"format", required_argument, NULL, 'f'},   {"quiet", no_argument, NULL, 'q'},
        {"mpi", no_argument, NULL, 'P'},            {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    const char *range = NULL, *backend = NULL, *mname = "all", *mlist = NULL, *format = "text";
    const char *events = NULL, *seed = NULL, *sets[64];
    int nsets = 0, c, rc;
    int64_t runs = 1, from = 0, to = 0, step = 1;
    bool quiet = false, mpi = false;
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
    struct herd_request req = {.scenario = optind < argc ? argv[optind] : NULL,
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
    if (!range)
        return herd__usage_error("sweep: --n FROM:TO:STEP is required");
    if ((rc = parse_range(range, &from, &to, &step)) != 0)
        return rc;
    bool csv = strcmp(format, "csv") == 0;
    if (!csv && strcmp(format, "text") != 0)
        return herd__usage_error("--format: '%s' is not allowed for sweep; allowed: text, csv",
                                 format);
    size_t mets[8], nmets;
    if ((rc = parse_metrics(mlist ? mlist : sim ? "origin_load,sim_time" : "wakes,p99", mets,
                            &nmets)) != 0)
        return rc;
    int nstrat = (int)plan.nspecs;

    size_t npoints = (size_t)((to - from) / step + 1), njobs = npoints * (size_t)nstrat;
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
        for (int k = 0; k < nstrat; k++) {
            struct herd_job *j = &jobs[p * (size_t)nstrat + (size_t)k];
            j->spec = plan.specs[k];
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
