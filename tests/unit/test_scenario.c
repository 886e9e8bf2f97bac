/* test_scenario.c — the catalogue and the validation every front end relies on. */
#include <criterion/criterion.h>
#include <string.h>

#include "../../src/scenario/scenario.h"

Test(scenario, the_four_herds_with_their_default_mitigations)
{
    static const char *const want[][2] = {{"accept", "epoll-exclusive"},
                                          {"condvar", "signal"},
                                          {"cache", "singleflight"},
                                          {"cron", "jitter"}};
    for (size_t i = 0; i < 4; i++) {
        const struct herd_scenario *sc = herd_scenario_find(want[i][0]);
        cr_assert_not_null(sc, "%s", want[i][0]);
        cr_assert_str_eq(sc->strategies[sc->default_mitigation].name, want[i][1]);
        cr_assert_eq(herd_scenario_strategy_index(sc, want[i][1]), sc->default_mitigation);
        cr_assert_eq(sc->backends, HERD_BACKEND_LIVE | HERD_BACKEND_SIM, "%s", sc->name);
    }
    cr_assert_null(herd_scenario_find("bogus"));
    const struct herd_scenario *acc = herd_scenario_find("accept");
    cr_assert_geq(herd_scenario_strategy_index(acc, "reuseport"), 1);
    cr_assert_geq(herd_scenario_strategy_index(acc, "blocking-accept"), 1);
    cr_assert_eq(herd_scenario_strategy_index(acc, "epoll"), 0, "the naive strategy is row 0");
    const struct herd_scenario *cache = herd_scenario_find("cache");
    for (const char *const *m = (const char *const[]){"swr", "xfetch", "ttl-jitter", NULL}; *m;
         m++)
        cr_assert_geq(herd_scenario_strategy_index(cache, *m), 1, "%s", *m);
}

/* The one list (list.h) makes the table, the ids and the columns: they agree everywhere. */
Test(scenario, the_list_is_the_catalogue)
{
    int n = 0;
    for (; herd_scenarios[n]; n++) {
        const struct herd_scenario *sc = herd_scenarios[n];
        cr_assert_eq((int)sc->id, n, "%s sits at its id", sc->name);
        cr_assert_neq(sc->backends, 0u, "%s runs somewhere", sc->name);
        cr_assert_leq(herd_scenario_nparams(sc), HERD_MAX_PARAMS);
        cr_assert_leq(herd_scenario_nstrategies(sc), HERD_MAX_STRATEGIES);
        cr_assert_geq(herd_scenario_nstrategies(sc), 2, "%s has a mitigation", sc->name);
        cr_assert_eq(sc->strategies[0].family, HERD_FAMILY_NAIVE, "%s row 0", sc->name);
        for (int k = 1; sc->strategies[k].name; k++)
            cr_assert_neq(sc->strategies[k].family, HERD_FAMILY_NAIVE, "%s %s", sc->name,
                          sc->strategies[k].name);
        cr_assert(sc->default_mitigation >= 1 &&
                  sc->default_mitigation < herd_scenario_nstrategies(sc));
        for (int p = 0; sc->params[p].key; p++) {
            const struct herd_param_def *d = &sc->params[p];
            if (d->type != HERD_PARAM_ENUM)
                cr_assert(d->min <= d->def && d->def <= d->max, "%s.%s default in range",
                          sc->name, d->key);
        }
        cr_assert_not_null(sc->decode);
    }
    cr_assert_eq(n, HERD_SCENARIO_COUNT);
    cr_assert_eq(herd_scenario_find("queue")->backends, HERD_BACKEND_SIM);
    cr_assert_eq(herd_scenario_find("backoff-occ")->backends, HERD_BACKEND_SIM);
}

/* Settings arrive decoded: backends read typed fields, never a parameter name. */
Test(scenario, settings_are_decoded_once)
{
    struct herd_run_spec s;
    char err[256];
    herd_spec_init(&s, herd_scenario_find("cache"));
    cr_assert_eq(s.cfg.cache.strategy, HERD_CACHE_EVERY_MISS);
    cr_assert_eq(s.cfg.cache.ttl_ns, 200 * 1000000LL, "the default, decoded at init");
    cr_assert_eq(herd_spec_set(&s, "ttl_ms=750", err, sizeof err), 0, "%s", err);
    cr_assert_eq(s.cfg.cache.ttl_ns, 750 * 1000000LL);
    cr_assert_eq(herd_spec_set(&s, "period_us=125", err, sizeof err), 0, "%s", err);
    cr_assert_eq(s.cfg.cache.period_ns, 125000);
    cr_assert_eq(herd_spec_use(&s, "xfetch"), 0);
    cr_assert_eq(s.cfg.cache.strategy, HERD_CACHE_XFETCH);
    cr_assert_eq(s.cfg.cache.ttl_ns, 750 * 1000000LL, "a strategy keeps the settings");
    cr_assert_eq(herd_spec_use(&s, "none"), 0);
    cr_assert_eq(s.cfg.cache.strategy, HERD_CACHE_EVERY_MISS);
    cr_assert_eq(herd_spec_use(&s, "no-such"), -1);

    herd_spec_init(&s, herd_scenario_find("accept"));
    cr_assert_eq(herd_spec_set_text(&s, "params.workers", "workers", "process", err, sizeof err),
                 0);
    cr_assert_eq(s.cfg.accept.workers, HERD_ACCEPT_PROCESSES);
    cr_assert_eq(herd_spec_set_number(&s, "params.settle_ms", "settle_ms", 25, err, sizeof err),
                 0);
    cr_assert_eq(s.cfg.accept.settle_ns, 25000000);
    /* A JSON number is checked as a number: not whole, out of range, or for an enum. */
    cr_assert_eq(herd_spec_set_number(&s, "params.settle_ms", "settle_ms", 2.5, err, sizeof err),
                 -1);
    cr_assert(strstr(err, "params.settle_ms") && strstr(err, "whole"), "%s", err);
    cr_assert_eq(herd_spec_set_number(&s, "params.settle_ms", "settle_ms", 1e300, err, sizeof err),
                 -1);
    cr_assert(strstr(err, "out of range"), "%s", err);
    cr_assert_eq(herd_spec_set_number(&s, "params.workers", "workers", 1, err, sizeof err), -1);
    cr_assert(strstr(err, "thread") && strstr(err, "process"), "%s", err);
    cr_assert_eq(s.cfg.accept.settle_ns, 25000000, "bad input changes nothing");
}

Test(scenario, set_accepts_good_values)
{
    struct herd_run_spec s;
    char err[256];
    herd_spec_init(&s, herd_scenario_find("accept"));
    cr_assert_eq(herd_spec_set(&s, "workers=process", err, sizeof err), 0, "%s", err);
    cr_assert_eq(s.cfg.accept.workers, HERD_ACCEPT_PROCESSES);
    herd_spec_init(&s, herd_scenario_find("cache"));
    cr_assert_eq(herd_spec_set(&s, "beta=2.5", err, sizeof err), 0, "%s", err);
    cr_assert_float_eq(s.cfg.cache.beta, 2.5, 1e-12);
    cr_assert_eq(herd_spec_set(&s, "rows=5000", err, sizeof err), 0);
    cr_assert_eq(s.cfg.cache.rows, 5000);
}

Test(scenario, set_rejects_bad_input_naming_the_key)
{
    struct herd_run_spec s;
    char err[256];
    herd_spec_init(&s, herd_scenario_find("cache"));
    double before = s.cfg.cache.beta;
    cr_assert_eq(herd_spec_set(&s, "bogus=1", err, sizeof err), -1);
    cr_assert(strstr(err, "bogus") && strstr(err, "allowed"), "%s", err);
    cr_assert_eq(herd_spec_set(&s, "beta=abc", err, sizeof err), -1);
    cr_assert(strstr(err, "--set beta"), "%s", err);
    cr_assert_eq(herd_spec_set(&s, "beta=1e9", err, sizeof err), -1);
    cr_assert(strstr(err, "out of range"), "%s", err);
    cr_assert_eq(herd_spec_set(&s, "beta=nan", err, sizeof err), -1);
    cr_assert_eq(herd_spec_set(&s, "rows=1.5", err, sizeof err), -1);
    cr_assert_eq(herd_spec_set(&s, "rows", err, sizeof err), -1);
    cr_assert_float_eq(s.cfg.cache.beta, before, 0, "bad input changes nothing");
    herd_spec_init(&s, herd_scenario_find("accept"));
    cr_assert_eq(herd_spec_set(&s, "workers=fiber", err, sizeof err), -1);
    cr_assert(strstr(err, "thread") && strstr(err, "process"), "%s", err);
}

/* Settings each in range that cannot run together are refused by the catalogue. */
Test(scenario, cross_field_validation)
{
    struct herd_run_spec s;
    char err[256];
    herd_spec_init(&s, herd_scenario_find("backoff-occ"));
    cr_assert_eq(herd_spec_validate(&s, err, sizeof err), 0);
    cr_assert_eq(herd_spec_set(&s, "cap_ms=1", err, sizeof err), 0);
    cr_assert_eq(herd_spec_validate(&s, err, sizeof err), -1);
    cr_assert(strstr(err, "cap_ms") && strstr(err, "base_ms"), "%s", err);
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
    herd_spec_use_index(&s, 1);
    cr_assert_str_eq(herd_spec_strategy(&s), "signal");
    cr_assert_str_eq(herd_spec_mitigation(&s), "signal");
    char err[128];
    cr_assert_eq(herd_spec_set(&s, "primitive=futex", err, sizeof err), 0);
    cr_assert_str_eq(herd_spec_strategy(&s), "futex-wake-one");
    herd_spec_use_index(&s, 0);
    cr_assert_str_eq(herd_spec_strategy(&s), "futex-wake-all");
}

/* Numbers as typed (issue 13): what strtod/strtoll also take is refused. */
Test(scenario, numbers_are_plain_decimals)
{
    const char *ints[] = {"0", "5", "-5", "007", "1000000"};
    const char *reals[] = {"1", "-1.5", ".5", "5.", "1e9", "2.5E-3", "1e+3"};
    const char *bad[] = {"", " 5", "5 ", "+5", "0x10", "inf", "nan", "-", ".", "1e", "1e+",
                         "5\n", "1,5", "--5", "e5"};
    for (size_t i = 0; i < sizeof ints / sizeof *ints; i++)
        cr_expect(herd_number_syntax(ints[i], false) && herd_number_syntax(ints[i], true),
                  "'%s'", ints[i]);
    for (size_t i = 0; i < sizeof reals / sizeof *reals; i++)
        cr_expect(herd_number_syntax(reals[i], true), "'%s'", reals[i]);
    cr_expect(!herd_number_syntax("1.5", false) && !herd_number_syntax("1e3", false));
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++)
        cr_expect(!herd_number_syntax(bad[i], true) && !herd_number_syntax(bad[i], false),
                  "'%s'", bad[i]);
    int64_t v;
    char err[200];
    cr_expect_eq(herd_parse_int("-n", " 5", 1, 10, &v, err, sizeof err), -1);
    cr_expect(strstr(err, "-n: expected a whole number from 1 to 10, got ' 5'"), "%s", err);
}
