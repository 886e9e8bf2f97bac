/* cmd_run.c — `herd run SCENARIO`: validate every flag against the catalogue (the same
 * herd_request_resolve as the web API, with the CLI's flag names in its messages), check
 * the machine before anything starts, run naive and/or mitigated with the same
 * settings and seed, write the report. */
#include "cli.h"

#include "../report/fleet_figures.h"
#include "../scenario/file.h"
#include "../scenario/request.h"
#include "../sim/fleet.h"

#include <errno.h>
#include <getopt.h>
#include <herd/error.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

static int run(const struct herd_cli_run_args *opts, const char *name, const struct herd_scenario *row,
               char *err, size_t errlen);

/* --trace: every request record of the run, one CSV line each, in the order the simulator
 * hands them over (their ends); herd detect sorts by time. */
struct trace_out {
    FILE *f;
    uint64_t records;
};

static void trace_request(void *ctx, int64_t t_ns, uint64_t client, uint64_t key,
                          enum herd_req_status status)
{
    struct trace_out *t = ctx;
    int64_t s = t_ns / 1000000000, ns = t_ns % 1000000000;
    if (ns < 0) {
        s--;
        ns += 1000000000;
    }
    fprintf(t->f, "%" PRId64 ".%09" PRId64 ",%" PRIu64 ",", s, ns, client);
    if (key)
        fprintf(t->f, "key-%" PRIu64, key - 1);
    fprintf(t->f, ",%s\n", herd_req_status_name(status));
    t->records++;
}

int herd_cmd_run(int argc, char **argv)
{
    struct herd_cli_run_args o = {.format = "text",
                         .runs = 0,
                         .max_memory = HERD_FRONT_MAX_MEMORY,
                         .max_events = HERD_CLI_MAX_EVENTS};
    const char *name = NULL;
    char err[512];
    int rc = herd__cli_run_args(argc, argv, &o, &name);
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

/* --check: judge the file's claims (herd_sim_fleet_check, the run's seed; with --set, on
 * that version) and put the verdicts in the first fleet report, which every writer prints. */
static int judge_claims(const struct herd_scenario *row, const struct herd_request_plan *plan,
                        struct herd_report *reports, size_t done, bool *failed)
{
    const struct herd_fleet_file *f = row ? herd_fleet_file_of(row) : NULL;
    if (!f || plan->nspecs == 0)
        return HERD_EXIT_OK;
    const struct herd_fleet_file *v = plan->specs[0].cfg.fleet.file;
    int n = herd_fleet_file_nclaims(v ? v : f);
    struct herd_report *r = NULL;
    for (size_t i = 0; i < done && !r; i++)
        r = reports[i].fleet ? &reports[i] : NULL;
    if (n == 0 || !r)
        return HERD_EXIT_OK;
    char err[512];
    struct herd_fleet_claim_verdict *verdicts = calloc((size_t)n, sizeof *verdicts);
    if (!verdicts)
        return herd__fail("out of memory");
    int k = herd_sim_fleet_check(v ? v : f, plan->specs[0].seed, verdicts, err, sizeof err);
    if (k < 0) {
        free(verdicts);
        return herd__fail("--check: %s", err);
    }
    free(r->fleet->claims);
    r->fleet->claims = verdicts;
    r->fleet->nclaims = n;
    *failed = k > 0;
    return HERD_EXIT_OK;
}

/* herd run once the scenario is known (@p row: a file's, or NULL for a catalogue name). */
static int run(const struct herd_cli_run_args *opts, const char *name, const struct herd_scenario *row,
               char *err, size_t errlen)
{
    struct herd_cli_run_args o = *opts;
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
    if (o.check && !(row && herd_fleet_file_of(row)))
        return herd__usage_error("--check: '%s' has no claims; allowed: a scenario file (herd "
                                 "list shows them)",
                                 name);
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
    /* --trace holds one simulated run: the trace of a pooled or side-by-side report would
     * mix runs that never shared a clock. */
    if (o.trace) {
        if (njobs != 1 || jobs[0].backend->bit != HERD_BACKEND_SIM) {
            herd__cli_out_abort(&out);
            return herd__usage_error("--trace: needs one simulated run (--backend sim, --mode "
                                     "naive or mitigated, one mitigation); this asks for %zu",
                                     njobs);
        }
        if (o.runs > 1) {
            herd__cli_out_abort(&out);
            return herd__usage_error("--trace: needs one run; --runs is %" PRId64, o.runs);
        }
        o.runs = 1;
    }
    struct herd_cli_out tout = {0};
    struct trace_out tctx = {0};
    struct herd_request_sink sink = {trace_request, &tctx};
    if (o.trace) {
        if ((rc = herd__cli_out_open(&tout, "--trace", o.trace)) != HERD_EXIT_OK) {
            herd__cli_out_abort(&out);
            return rc;
        }
        tctx.f = tout.f;
        fputs("time_s,client,key,status\n", tout.f);
    }
    struct herd_report *reports = calloc(njobs, sizeof *reports);
    struct herd_report *ptrs[HERD_JOBS_MAX];
    struct herd_front_opts fo;
    struct herd_profile prof;
    char prof_path[4096];
    if (!reports) {
        herd__cli_out_abort(&out);
        if (o.trace)
            herd__cli_out_abort(&tout);
        return herd__fail("out of memory");
    }
    if ((rc = herd__cli_front_opts(&fo, &prof, prof_path, sizeof prof_path,
                                   herd__cli_any_sim(jobs, njobs))) != HERD_EXIT_OK) {
        herd__cli_out_abort(&out);
        if (o.trace)
            herd__cli_out_abort(&tout);
        free(reports);
        return rc;
    }
    fo.runs = (int)o.runs;
    if (o.trace)
        fo.requests = &sink;
    herd__cli_budget(&fo, o.max_memory, o.max_events);
    size_t done = 0;
    herd__cli_signals();
    rc = herd__cli_run_jobs(jobs, njobs, &fo, reports, &done, o.quiet);
    bool claim_failed = false;
    if (rc == HERD_EXIT_OK && o.check)
        rc = judge_claims(row, &plan, reports, done, &claim_failed);
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
        if (o.trace && rc == HERD_EXIT_OK) {
            /* The window herd detect analyses: the run's simulated time, from its zero. */
            int64_t end = done ? reports[0].sim_time_ns : 0;
            fprintf(tout.f, "# window_s 0 %" PRId64 ".%09" PRId64 "\n", end / 1000000000,
                    end % 1000000000);
            if ((w = herd__cli_out_commit(&tout)) < 0)
                rc = herd__fail("--trace: cannot write '%s': %s", o.trace, strerror(-w));
            else if (!o.quiet)
                fprintf(stderr, "herd: --trace: %" PRIu64 " requests written to %s\n",
                        tctx.records, o.trace);
        } else if (o.trace) {
            herd__cli_out_abort(&tout);
        }
    } else {
        herd__cli_out_abort(&out);
        if (o.trace)
            herd__cli_out_abort(&tout);
    }
    for (size_t i = 0; i < done; i++)
        herd_report_fini(&reports[i]);
    free(reports);
    return rc == HERD_EXIT_OK && claim_failed ? HERD_EXIT_FAIL : rc;
}
