/* test_scenario.c — the catalogue and the validation every front end relies on. */
#include <criterion/criterion.h>
#include <string.h>

#include "../../src/report/scenario.h"

Test(scenario, the_four_herds_with_their_default_mitigations)
{
    static const char *const want[][2] = {{"accept", "epoll-exclusive"},
                                          {"condvar", "signal"},
                                          {"cache", "singleflight"},
                                          {"cron", "jitter"}};
    for (size_t i = 0; i < 4; i++) {
        const struct herd_scenario *sc = herd_scenario_find(want[i][0]);
        cr_assert_not_null(sc, "%s", want[i][0]);
        cr_assert_str_eq(sc->default_mitigation, want[i][1]);
        cr_assert_geq(herd_scenario_mitigation_index(sc, sc->default_mitigation), 0);
        cr_assert_leq(herd_scenario_nparams(sc), HERD_MAX_PARAMS);
        cr_assert_leq(herd_scenario_nmitigations(sc), HERD_MAX_MITIGATIONS);
        for (int p = 0; sc->params[p].key; p++) {
            const struct herd_param_def *d = &sc->params[p];
            if (d->type != HERD_PARAM_ENUM)
                cr_assert(d->min <= d->def && d->def <= d->max, "%s.%s default in range",
                          sc->name, d->key);
        }
    }
    cr_assert_null(herd_scenario_find("bogus"));
    const struct herd_scenario *acc = herd_scenario_find("accept");
    cr_assert_geq(herd_scenario_mitigation_index(acc, "reuseport"), 0);
    cr_assert_geq(herd_scenario_mitigation_index(acc, "blocking-accept"), 0);
    const struct herd_scenario *cache = herd_scenario_find("cache");
    for (const char *const *m = (const char *const[]){"swr", "xfetch", "ttl-jitter", NULL}; *m;
         m++)
        cr_assert_geq(herd_scenario_mitigation_index(cache, *m), 0, "%s", *m);
}

Test(scenario, set_accepts_good_values)
{
    struct herd_run_spec s;
    char err[256];
    herd_spec_init(&s, herd_scenario_find("accept"));
    cr_assert_eq(herd_spec_set(&s, "workers=process", err, sizeof err), 0, "%s", err);
    cr_assert_str_eq(herd_spec_choice(&s, "workers"), "process");
    herd_spec_init(&s, herd_scenario_find("cache"));
    cr_assert_eq(herd_spec_set(&s, "beta=2.5", err, sizeof err), 0, "%s", err);
    cr_assert_float_eq(herd_spec_param(&s, "beta"), 2.5, 1e-12);
    cr_assert_eq(herd_spec_set(&s, "rows=5000", err, sizeof err), 0);
    cr_assert_float_eq(herd_spec_param(&s, "rows"), 5000, 0);
}

Test(scenario, set_rejects_bad_input_naming_the_key)
{
    struct herd_run_spec s;
    char err[256];
    herd_spec_init(&s, herd_scenario_find("cache"));
    double before = herd_spec_param(&s, "beta");
    cr_assert_eq(herd_spec_set(&s, "bogus=1", err, sizeof err), -1);
    cr_assert(strstr(err, "bogus") && strstr(err, "allowed"), "%s", err);
    cr_assert_eq(herd_spec_set(&s, "beta=abc", err, sizeof err), -1);
    cr_assert(strstr(err, "--set beta"), "%s", err);
    cr_assert_eq(herd_spec_set(&s, "beta=1e9", err, sizeof err), -1);
    cr_assert(strstr(err, "out of range"), "%s", err);
    cr_assert_eq(herd_spec_set(&s, "beta=nan", err, sizeof err), -1);
    cr_assert_eq(herd_spec_set(&s, "rows=1.5", err, sizeof err), -1);
    cr_assert_eq(herd_spec_set(&s, "rows", err, sizeof err), -1);
    cr_assert_float_eq(herd_spec_param(&s, "beta"), before, 0, "bad input changes nothing");
    herd_spec_init(&s, herd_scenario_find("accept"));
    cr_assert_eq(herd_spec_set(&s, "workers=fiber", err, sizeof err), -1);
    cr_assert(strstr(err, "thread") && strstr(err, "process"), "%s", err);
}

Test(scenario, parse_int_bounds)
{
    int64_t v = 0;
    char err[256];
    cr_assert_eq(herd_parse_int("-n", "1000", 1, HERD_N_MAX, &v, err, sizeof err), 0);
    cr_assert_eq(v, 1000);
    cr_assert_eq(herd_parse_int("-n", "0", 1, HERD_N_MAX, &v, err, sizeof err), -1);
    cr_assert(strstr(err, "-n") && strstr(err, "1 to 1000000"), "%s", err);
    cr_assert_eq(herd_parse_int("-n", "100000000", 1, HERD_N_MAX, &v, err, sizeof err), -1);
    cr_assert_eq(herd_parse_int("-n", "12x", 1, HERD_N_MAX, &v, err, sizeof err), -1);
    cr_assert_eq(herd_parse_int("-n", "", 1, HERD_N_MAX, &v, err, sizeof err), -1);
    cr_assert_eq(herd_parse_int("-n", "99999999999999999999", 1, HERD_N_MAX, &v, err,
                                sizeof err),
                 -1);
    cr_assert_eq(v, 1000, "the out-parameter is written only on success");
}

Test(scenario, strategy_names)
{
    struct herd_run_spec s;
    herd_spec_init(&s, herd_scenario_find("condvar"));
    cr_assert_str_eq(herd_spec_strategy(&s), "broadcast");
    cr_assert_str_eq(herd_spec_mitigation(&s), "none");
    s.mode = HERD_MODE_MITIGATED;
    s.mitigation = 0;
    cr_assert_str_eq(herd_spec_strategy(&s), "signal");
    cr_assert_str_eq(herd_spec_mitigation(&s), "signal");
    char err[128];
    cr_assert_eq(herd_spec_set(&s, "primitive=futex", err, sizeof err), 0);
    cr_assert_str_eq(herd_spec_strategy(&s), "futex-wake-one");
    s.mode = HERD_MODE_NAIVE;
    cr_assert_str_eq(herd_spec_strategy(&s), "futex-wake-all");
}
