/* model_test.h — helpers the simulation-model tests share (tests/sim/test_model_*.c):
 * setting a param, reading an extra, a p99, a timeline series' sum, a qsort comparator.
 * Header-only, for tests; every helper asserts through Criterion. */
#ifndef HERD_TESTS_SIM_MODEL_TEST_H
#define HERD_TESTS_SIM_MODEL_TEST_H

#include <criterion/criterion.h>
#include <stdint.h>
#include <string.h>

#include "../../src/report/report.h"

static inline void set(struct herd_run_spec *spec, const char *kv)
{
    char err[256];
    cr_assert_eq(herd_spec_set(spec, kv, err, sizeof err), 0, "%s", err);
}

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

static inline int64_t series_sum(const struct herd_report *r, const char *name)
{
    for (int s = 0; s < r->timeline.nseries; s++)
        if (strcmp(r->timeline.series[s].name, name) == 0) {
            int64_t t = 0;
            for (size_t i = 0; i < r->timeline.len; i++)
                t += r->timeline.series[s].v[i];
            return t;
        }
    cr_assert_fail("no series %s", name);
    return -1;
}

static inline int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

#endif
