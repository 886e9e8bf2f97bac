/* fleet_check.c — a scenario file's claims, judged on the simulator (herd check, herd run
 * --check, tests/sim/test_field_guide.c).
 *
 * Each strategy a claim names is run once (naive, a mitigation, a+b: one run per distinct
 * name, the same seed for all), its report kept until every claim is judged; a ratio
 * claim reads its two runs. Cost: one fleet run per distinct strategy, each the size of
 * the file's own run. Thread safety: none shared; runs are independent.
 */
#include "fleet.h"

#include <herd/error.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../report/fleet_figures.h"
#include "../scenario/file.h"

#define MAX_RUNS (2 * HERD_FLEET_MAX_CLAIMS)

struct run {
    char strategy[96];
    struct herd_report r;
};

int herd_sim_fleet_run_named(const struct herd_fleet_file *f, const char *name, uint64_t seed,
                             struct herd_report *r, char *err, size_t errlen)
{
    const struct herd_fleet_file *v;
    int s;
    if (herd_fleet_file_strategy(f, "claim", name, &v, &s, err, errlen) < 0)
        return -HERD_EINVAL;
    struct herd_fleet *m = malloc(sizeof *m);
    if (!m)
        return snprintf(err, errlen, "out of memory"), -HERD_ENOMEM;
    if (herd_fleet_file_model(v, s, m, err, errlen) < 0) {
        free(m);
        return -HERD_EINVAL;
    }
    struct herd_run_info info;
    memset(&info, 0, sizeof info);
    info.scenario = herd_fleet_file_fleet(v)->name; /* the file's: it outlives @p r */
    info.strategy = name;
    info.mitigation = strcmp(name, "naive") == 0 ? "none" : name;
    info.naive = strcmp(name, "naive") == 0;
    info.n = 1;
    info.events = 1;
    info.seed = seed;
    if (herd_report_init(r, &info, "sim") < 0) {
        free(m);
        return snprintf(err, errlen, "out of memory"), -HERD_ENOMEM;
    }
    int rc = herd_sim_fleet(m, seed, NULL, r, err, errlen);
    free(m);
    if (rc < 0)
        herd_report_fini(r);
    return rc < 0 ? rc : 0;
}

/* The run of @p name in @p runs, made when missing. @return its index, or -1. */
static int run_of(const struct herd_fleet_file *f, const char *name, uint64_t seed,
                  struct run *runs, int *nruns, char *err, size_t errlen)
{
    for (int i = 0; i < *nruns; i++)
        if (strcmp(runs[i].strategy, name) == 0)
            return i;
    if (*nruns >= MAX_RUNS)
        return snprintf(err, errlen, "too many strategies"), -1;
    struct run *r = &runs[*nruns];
    snprintf(r->strategy, sizeof r->strategy, "%s", name);
    if (herd_sim_fleet_run_named(f, r->strategy, seed, &r->r, err, errlen) < 0)
        return -1;
    return (*nruns)++;
}

int herd_sim_fleet_check(const struct herd_fleet_file *f, uint64_t seed,
                         struct herd_fleet_claim_verdict *out, char *err, size_t errlen)
{
    struct run *runs = calloc(MAX_RUNS, sizeof *runs);
    if (!runs)
        return snprintf(err, errlen, "out of memory"), -HERD_ENOMEM;
    int nruns = 0, failed = 0, n = herd_fleet_file_nclaims(f);
    for (int i = 0; i < n && failed >= 0; i++) {
        const struct herd_fleet_claim *c = herd_fleet_file_claim(f, i);
        struct herd_fleet_claim_verdict *v = &out[i];
        memset(v, 0, sizeof *v);
        snprintf(v->says, sizeof v->says, "%s", c->says);
        snprintf(v->check, sizeof v->check, "%s", c->check);
        double x[2] = {NAN, NAN};
        const char *word = NULL;
        for (int k = 0; k < (c->strategy[1][0] ? 2 : 1); k++) {
            int ri = run_of(f, c->strategy[k], seed, runs, &nruns, err, errlen);
            if (ri < 0) {
                failed = -HERD_EINVAL;
                break;
            }
            if (herd_fleet_figure(&runs[ri].r, c->figure[k], &x[k], &word) < 0)
                x[k] = NAN;
        }
        if (failed < 0)
            break;
        v->measured = c->strategy[1][0] ? x[0] / x[1] : x[0];
        if (word)
            snprintf(v->word, sizeof v->word, "%s", word);
        v->pass = herd_fleet_claim_holds(c, v->measured, word);
        failed += !v->pass;
    }
    for (int i = 0; i < nruns; i++)
        herd_report_fini(&runs[i].r);
    free(runs);
    return failed;
}
