/* model_test.h — what the simulation-model tests share (tests/sim/test_model_*.c).
 *
 * Building a spec (model_spec, set); running it on the sim (run_sim; run_hooked for a
 * model's traced entry point); the
 * determinism check (check_deterministic); a golden trace's capture and comparison
 * with tests/sim/golden/ (golden_open, golden_check; HERD_UPDATE_GOLDEN=1 rewrites the
 * file); reading a report (an extra, a p99, a timeline series, JSON).
 * Header-only, for tests: static inline functions, each asserting through Criterion,
 * so a failure stops the test that called it. A model's own numbers, trace format and
 * summary lines stay in its test file.
 */
#ifndef HERD_TESTS_SIM_MODEL_TEST_H
#define HERD_TESTS_SIM_MODEL_TEST_H

#include <criterion/criterion.h>
#include <criterion/logging.h>
#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../src/scenario/profile.h"
#include "../../src/report/report.h"
#include "../../src/sim/engine.h"
#include "../../src/sim/sim.h"

/* ---- specs -------------------------------------------------------------------------- */

static inline void set(struct herd_run_spec *spec, const char *kv)
{
    char err[256];
    cr_assert_eq(herd_spec_set(spec, kv, err, sizeof err), 0, "%s: %s", kv, err);
}

/* @p spec = scenario @p scenario's defaults with @p seed, mitigated by @p mitigation
 * (NULL: the naive run), then every "KEY=VALUE" of @p sets (NULL-terminated; may be
 * NULL). The caller sets n and events after, where the defaults will not do. */
static inline void model_spec(struct herd_run_spec *spec, const char *scenario,
                              const char *mitigation, uint64_t seed, const char *const *sets)
{
    const struct herd_scenario *sc = herd_scenario_find(scenario);
    cr_assert_not_null(sc, "no scenario %s", scenario);
    herd_spec_init(spec, sc);
    spec->seed = seed;
    if (mitigation)
        cr_assert_eq(herd_spec_use(spec, mitigation), 0, "%s has no mitigation %s", scenario,
                     mitigation);
    for (; sets && *sets; sets++)
        set(spec, *sets);
}

/* ---- runs --------------------------------------------------------------------------- */

/* How a test runs a spec on the sim: run_sim, or its own wrapper that checks more. */
typedef void (*model_run_fn)(const struct herd_run_spec *spec, const struct herd_profile *prof,
                             struct herd_report *r);

/* A model's traced entry point, herd__sim_<model>_run_hooked (src/sim/model_*.h). */
typedef int (*model_hooked_fn)(const struct herd_run_spec *spec, const struct herd_profile *prof,
                               struct herd_report *r, const struct herd_sim_hooks *hooks, char *err,
                               size_t errlen);

/* @p prof, or the built-in defaults in @p dflt when @p prof is NULL. */
static inline const struct herd_profile *prof_or_defaults(const struct herd_profile *prof,
                                                          struct herd_profile *dflt)
{
    if (prof)
        return prof;
    herd_profile_defaults(dflt);
    return dflt;
}

/* Simulate @p spec with the costs of @p prof (NULL: the built-in defaults) into @p r;
 * the caller finis @p r. */
static inline void run_sim(const struct herd_run_spec *spec, const struct herd_profile *prof,
                           struct herd_report *r)
{
    struct herd_profile dflt;
    char err[256] = "";
    int rc = herd_sim_run(spec, prof_or_defaults(prof, &dflt), NULL, r, err, sizeof err);
    cr_assert_eq(rc, 0, "sim run %s N=%lld: %s", herd_spec_strategy(spec), (long long)spec->n, err);
}

/* run_sim through the model's traced entry point @p run: every dispatched event goes to
 * @p trace with @p ctx (borrowed). @p r is initialised here; the caller finis it. */
static inline void run_hooked(model_hooked_fn run, const struct herd_run_spec *spec,
                              const struct herd_profile *prof, herd_sim_trace_fn trace, void *ctx,
                              struct herd_report *r)
{
    struct herd_profile dflt;
    char err[256] = "";
    cr_assert_eq(herd_spec_report_init(r, spec, "sim"), 0);
    int rc = run(spec, prof_or_defaults(prof, &dflt), r, &(struct herd_sim_hooks){trace, ctx, NULL},
                 err, sizeof err);
    cr_assert_eq(rc, 0, "%s", err);
}


/* ---- reading a report --------------------------------------------------------------- */

static inline double extra(const struct herd_report *r, const char *name)
{
    double v = -1;
    cr_assert(herd_report_get_extra(r, name, &v), "extra %s missing", name);
    return v;
}

static inline double p99(const struct herd_report *r)
{
    return (double)herd_hist_quantile(&r->latency, 0.99);
}

/* The timeline series @p name (r->timeline.len values), which must exist. */
static inline const int64_t *series(const struct herd_report *r, const char *name)
{
    for (int s = 0; s < r->timeline.nseries; s++)
        if (strcmp(r->timeline.series[s].name, name) == 0)
            return r->timeline.series[s].v;
    cr_assert_fail("no series %s", name);
    return NULL;
}

static inline int64_t series_sum(const struct herd_report *r, const char *name)
{
    const int64_t *v = series(r, name);
    int64_t t = 0;
    for (size_t i = 0; i < r->timeline.len; i++)
        t += v[i];
    return t;
}

/* The report as compact JSON with sorted keys; the caller frees it. */
static inline char *to_json(const struct herd_report *r)
{
    json_t *j = herd_report_to_json(r);
    cr_assert_not_null(j);
    char *s = json_dumps(j, JSON_SORT_KEYS | JSON_COMPACT);
    json_decref(j);
    cr_assert_not_null(s);
    return s;
}

/* Two runs of @p spec give byte-identical JSON and, when @p seed_matters, a run with the
 * next seed does not (the draws are really used). @p run runs each (NULL: run_sim);
 * @p what names the case in a failure. */
static inline void check_deterministic(const struct herd_run_spec *spec,
                                       const struct herd_profile *prof, bool seed_matters,
                                       const char *what, model_run_fn run)
{
    if (!run)
        run = run_sim;
    struct herd_report a, b;
    run(spec, prof, &a);
    run(spec, prof, &b);
    char *ja = to_json(&a), *jb = to_json(&b);
    cr_assert_str_eq(ja, jb, "%s: two runs differ", what);
    if (seed_matters) {
        struct herd_run_spec next = *spec;
        struct herd_report c;
        next.seed++;
        run(&next, prof, &c);
        char *jc = to_json(&c);
        cr_assert_str_neq(ja, jc, "%s: the seed changes nothing", what);
        free(jc);
        herd_report_fini(&c);
    }
    free(ja);
    free(jb);
    herd_report_fini(&a);
    herd_report_fini(&b);
}

/* ---- golden traces ------------------------------------------------------------------ */

struct golden {
    FILE *f;    /* the trace is printed here: a memory stream over text */
    char *text; /* valid after fclose(f) */
    size_t len;
};

/* Begin capturing a trace; print it to the returned stream, then call golden_check. */
static inline FILE *golden_open(struct golden *g)
{
    g->text = NULL;
    g->len = 0;
    g->f = open_memstream(&g->text, &g->len);
    cr_assert_not_null(g->f);
    return g->f;
}

/* tests/sim/golden/@p name into @p buf: next to this header (__FILE__ is the path meson
 * compiled with, relative to the build directory, where meson test runs us), or from
 * the source root when run from there. */
static inline void golden_path(const char *name, char *buf, size_t len)
{
    const char *f = __FILE__, *slash = strrchr(f, '/');
    snprintf(buf, len, "%.*s/golden/%s", slash ? (int)(slash - f) : 1, slash ? f : ".", name);
    FILE *probe = fopen(buf, "r");
    if (probe) {
        fclose(probe);
        return;
    }
    char alt[512];
    snprintf(alt, sizeof alt, "tests/sim/golden/%s", name);
    if ((probe = fopen(alt, "r"))) {
        fclose(probe);
        snprintf(buf, len, "%s", alt);
    }
}

/* End the capture @p g and assert it equals tests/sim/golden/@p name byte for byte;
 * HERD_UPDATE_GOLDEN=1 rewrites the file first. On a difference the failure names the
 * first line that differs and prints the trace, which is also left in ./@p name.actual
 * (the test's working directory) to diff. */
static inline void golden_check(struct golden *g, const char *name)
{
    cr_assert_eq(fclose(g->f), 0);
    g->f = NULL;
    char path[512];
    golden_path(name, path, sizeof path);
    const char *upd = getenv("HERD_UPDATE_GOLDEN");
    if (upd && strcmp(upd, "1") == 0) {
        FILE *f = fopen(path, "w");
        cr_assert_not_null(f, "cannot write %s", path);
        fwrite(g->text, 1, g->len, f);
        fclose(f);
        cr_log_warn("rewrote %s (%zu bytes)", path, g->len);
    }
    FILE *f = fopen(path, "r");
    cr_assert_not_null(f, "no golden trace %s (run with HERD_UPDATE_GOLDEN=1 to write it)", path);
    char *want = calloc(1, g->len + 2);
    cr_assert_not_null(want);
    size_t got = fread(want, 1, g->len + 1, f);
    fclose(f);
    size_t line = 1, i = 0;
    while (i < got && i < g->len && want[i] == g->text[i])
        line += want[i++] == '\n';
    bool same = got == g->len && i == g->len;
    free(want);
    if (!same) {
        char actual[256];
        snprintf(actual, sizeof actual, "%s.actual", name);
        FILE *o = fopen(actual, "w");
        if (o) {
            fwrite(g->text, 1, g->len, o);
            fclose(o);
        }
    }
    cr_assert(same,
              "trace differs from %s at line %zu; diff it with ./%s.actual (in the test's "
              "working directory) or the output below, and if the change is intended rerun "
              "with HERD_UPDATE_GOLDEN=1 (then review git diff %s)\n%s",
              path, line, name, path, g->text);
    free(g->text);
    g->text = NULL;
}

#endif
