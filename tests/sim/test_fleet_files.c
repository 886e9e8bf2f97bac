/* test_fleet_files.c — the fleet simulator's closed forms, run through scenario files.
 *
 * tests/sim/test_fleet.c checks the same closed forms on models built in C; here they go
 * the way a user's go: a YAML file in tests/scenario-files/validation/, read by the file
 * reader (src/scenario/file.c) into the typed model, run by herd_sim_fleet. So a
 * mistake in the reader's units or defaults (a service time read as ms for µs, a
 * default retry count) fails a closed form, not only a decoding test.
 *   - M/M/1 and M/M/4 mean time in system against 1/(μ − λ) and Erlang C;
 *   - seed 000's bathtub: 20,000 requests in 1 s onto 2,000 req/s drain in ~10 s;
 *   - retries with independent failures: success 1 − f^(k+1), load (1 − f^(k+1))/(1 − f);
 *   - a golden trace of a small cascade (tests/sim/golden/cascade-small.trace;
 *     HERD_UPDATE_GOLDEN=1 rewrites it), and the same file and seed giving byte-identical
 *     JSON.
 */
#include <criterion/criterion.h>
#include <criterion/logging.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../src/scenario/file.h"
#include "../../src/sim/fleet.h"
#include "fleet_models.h"
#include "closed_forms.h"
#include "model_test.h"

static struct herd_fleet_file *load(const char *name)
{
    char path[4096], err[1024] = "";
    struct herd_fleet_file *f = NULL;
    snprintf(path, sizeof path, "%s/tests/scenario-files/validation/%s", HERD_SOURCE_ROOT, name);
    int rc = herd_fleet_file_load(path, &f, err, sizeof err);
    cr_assert_eq(rc, 0, "%s: %s", name, err);
    return f;
}

/* The file's naive model run with @p seed into @p r (initialised here), hooks optional. */
static void run_file(const struct herd_fleet_file *f, uint64_t seed,
                     const struct herd_sim_hooks *hooks, struct herd_report *r)
{
    char err[256] = "";
    fm_report(r, seed);
    int rc = herd_sim_fleet(herd_fleet_file_fleet(f), seed, hooks, r, err, sizeof err);
    cr_assert_eq(rc, 0, "herd_sim_fleet: %s", err);
}

static const struct herd_fleet_comp_figures *comp(const struct herd_report *r, const char *name)
{
    for (int i = 0; i < r->fleet->ncomps; i++)
        if (strcmp(r->fleet->comps[i].name, name) == 0)
            return &r->fleet->comps[i];
    cr_assert_fail("no component %s", name);
    return NULL;
}

/* Mean time in system over 4 seeds, and its standard error. */
static void mean_sojourn(const char *file, double *mean, double *se)
{
    enum { RUNS = 4 };
    struct herd_fleet_file *f = load(file);
    double v[RUNS], m = 0, ss = 0;
    for (int i = 0; i < RUNS; i++) {
        struct herd_report r;
        run_file(f, herd_run_seed(11, i), NULL, &r);
        v[i] = herd_hist_mean(&r.latency);
        m += v[i];
        herd_report_fini(&r);
    }
    herd_fleet_file_free(f);
    m /= RUNS;
    for (int i = 0; i < RUNS; i++)
        ss += (v[i] - m) * (v[i] - m);
    *mean = m;
    *se = sqrt(ss / (RUNS - 1) / RUNS);
}

/* mm1.yaml: W = 1/(μ − λ) = 1 ms. 4 × 200,000 customers: the runs' standard error is
 * ~0.4 % (test_fleet.c measured the same model), so 2.5 % is over five of them. */
Test(fleet_files, mm1_mean_sojourn)
{
    double mean, se;
    mean_sojourn("mm1.yaml", &mean, &se);
    double want = 1e9 / (2000.0 - 1000.0);
    cr_log_info("mm1.yaml: %.4g ns (closed form %.4g), se %.2g %%", mean, want,
                100 * se / mean);
    cr_assert(fabs(mean / want - 1) < 0.025, "M/M/1 sojourn %.4g ns, want %.4g", mean, want);
}

/* mm4.yaml: W = C(4, 3)/(4μ − λ) + 1/μ, same budget of customers and the same bound. */
Test(fleet_files, mm4_mean_sojourn)
{
    double mean, se;
    mean_sojourn("mm4.yaml", &mean, &se);
    double lambda = 3000, mu = 1000;
    double want = 1e9 * (erlang_c(4, lambda / mu) / (4 * mu - lambda) + 1 / mu);
    cr_log_info("mm4.yaml: %.4g ns (closed form %.4g), se %.2g %%", mean, want,
                100 * se / mean);
    cr_assert(fabs(mean / want - 1) < 0.025, "M/M/4 sojourn %.4g ns, want %.4g", mean, want);
}

/* bathtub.yaml: the backlog of 20,000 requests at 2,000/s drains at ~10 s and the last
 * request waited ~9 s. Deterministic service: the spread is Poisson's ±1 % in the
 * count, ±0.1 s. */
Test(fleet_files, bathtub_drains_in_ten_seconds)
{
    struct herd_fleet_file *f = load("bathtub.yaml");
    struct herd_report r;
    run_file(f, 3, NULL, &r);
    const struct herd_fleet_comp_figures *db = comp(&r, "db");
    size_t last = 0;
    for (size_t k = 0; k < r.fleet->nbuckets; k++)
        if (db->series[HERD_FLEET_S_GOODPUT][k])
            last = k;
    double drained_s = (double)(last + 1) * (double)r.fleet->bucket_ns / 1e9;
    double max_wait_s = (double)r.latency.max / 1e9;
    cr_log_info("bathtub.yaml: %" PRIu64 " requests, drained at %.2f s, longest wait %.2f s",
                db->calls, drained_s, max_wait_s);
    cr_assert(drained_s > 9.5 && drained_s < 10.6, "drained at %.2f s", drained_s);
    cr_assert(max_wait_s > 8.5 && max_wait_s < 9.6, "longest wait %.2f s", max_wait_s);
    cr_assert_eq(db->ok, db->calls, "nothing lost: the queue is unbounded");
    herd_report_fini(&r);
    herd_fleet_file_free(f);
}

/* retries.yaml: f = 0.5, k = 3. 40,000 calls: the success rate's binomial standard
 * error is 0.12 %, the load's about 0.3 %; the bound is the 2 %. */
Test(fleet_files, retries_with_independent_failures)
{
    struct herd_fleet_file *f = load("retries.yaml");
    struct herd_report r;
    run_file(f, 5, NULL, &r);
    const struct herd_fleet_comp_figures *cl = comp(&r, "clients");
    double success = (double)cl->ok / (double)cl->calls;
    double load = (double)cl->attempts / (double)cl->calls;
    double want_s = 1 - pow(0.5, 4), want_l = (1 - pow(0.5, 4)) / (1 - 0.5);
    cr_log_info("retries.yaml: %" PRIu64 " calls, success %.4f (%.4f), load %.4f (%.4f)",
                cl->calls, success, want_s, load, want_l);
    cr_assert_gt(cl->calls, 35000);
    cr_assert(fabs(success / want_s - 1) < 0.02, "success %.4f, want %.4f", success, want_s);
    cr_assert(fabs(load / want_l - 1) < 0.02, "load %.4f, want %.4f", load, want_l);
    herd_report_fini(&r);
    herd_fleet_file_free(f);
}

/* ---- golden trace and determinism ----------------------------------------------------- */

static void trace_line(void *ctx, int64_t t_ns, const char *kind, uint64_t entity)
{
    fprintf(ctx, "%12lld %-16s %llu\n", (long long)t_ns, kind, (unsigned long long)entity);
}

Test(fleet_files, cascade_golden_trace)
{
    struct herd_fleet_file *f = load("cascade-small.yaml");
    struct golden g;
    FILE *out = golden_open(&g);
    fprintf(out, "# tests/scenario-files/validation/cascade-small.yaml, naive, seed 77.\n"
                 "# Columns: simulated ns, event kind, its argument (the entity).\n");
    struct herd_sim_hooks hooks = {.trace = trace_line, .trace_ctx = out};
    struct herd_report r;
    run_file(f, 77, &hooks, &r);
    for (int i = 0; i < r.fleet->ncomps; i++) {
        const struct herd_fleet_comp_figures *c = &r.fleet->comps[i];
        fprintf(out,
                "# %s: calls %" PRIu64 " attempts %" PRIu64 " ok %" PRIu64 " errors %" PRIu64
                " timeouts %" PRIu64 " wasted %" PRIu64 "\n",
                c->name, c->calls, c->attempts, c->ok, c->errors, c->timeouts, c->wasted);
    }
    fprintf(out, "# verdict %s\n", r.fleet->verdict);
    /* The cascade the file is for: the db's slowdown reached every tier. */
    cr_assert_gt(comp(&r, "db")->amplification, 1.0);
    cr_assert_gt(comp(&r, "api")->amplification, 1.0);
    cr_assert_gt(comp(&r, "db")->wasted, 0);
    herd_report_fini(&r);
    golden_check(&g, "cascade-small.trace");
    herd_fleet_file_free(f);
}

Test(fleet_files, same_file_same_seed_same_json)
{
    struct herd_fleet_file *f = load("cascade-small.yaml");
    char *json[2];
    for (int i = 0; i < 2; i++) {
        struct herd_report r;
        run_file(f, 1234, NULL, &r);
        json[i] = fm_json(&r);
        cr_assert_not_null(json[i]);
        herd_report_fini(&r);
    }
    cr_assert_str_eq(json[0], json[1]);
    free(json[0]);
    free(json[1]);
    herd_fleet_file_free(f);
}
