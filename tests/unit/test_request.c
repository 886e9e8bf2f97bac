/* test_request.c — herd_request_resolve: the one validation of herd run, herd sweep and
 * the web API. Every refusal is checked word for word in both spellings (the CLI's flags,
 * the API's field names), then the defaults, the modes, "both" and "all", and settings. */
#include <criterion/criterion.h>
#include <herd/error.h>
#include <stdio.h>
#include <string.h>

#include "../../src/scenario/request.h"

/* The spellings herd run and the web API use (request.c). */
static const struct herd_request_spelling *const cli = &herd_request_spelling_run;
static const struct herd_request_spelling *const api = &herd_request_spelling_api;

static const char scenarios[] = "accept, condvar, cache, cron, queue, backoff-occ, fleet, lock, "
                                "zk-lock";
static const char accept_mits[] = "epoll-exclusive, reuseport, blocking-accept";

/* Resolve @p req, expecting a refusal with exactly @p want; the plan stays untouched. */
static void refused(const struct herd_request *req, const struct herd_request_spelling *sp,
                    const char *want)
{
    struct herd_request_plan plan;
    char err[512] = "";
    memset(&plan, 0x5a, sizeof plan);
    cr_assert_eq(herd_request_resolve(req, sp, &plan, err, sizeof err), -HERD_EINVAL,
                 "accepted; wanted: %s", want);
    cr_assert_str_eq(err, want);
    cr_assert_eq(((const unsigned char *)&plan)[0], 0x5a, "the plan was written on failure");
}

static void resolved(const struct herd_request *req, const struct herd_request_spelling *sp,
                     struct herd_request_plan *plan)
{
    char err[512] = "";
    cr_assert_eq(herd_request_resolve(req, sp, plan, err, sizeof err), 0, "%s", err);
}

Test(request, scenario_refusals_name_the_field)
{
    char want[256];
    refused(&(struct herd_request){0}, cli,
            "run: which scenario? allowed: accept, condvar, "
            "cache, cron, queue, backoff-occ, fleet, lock, zk-lock");
    snprintf(want, sizeof want, "scenario: which scenario? allowed: %s", scenarios);
    refused(&(struct herd_request){0}, api, want);
    snprintf(want, sizeof want, "run: unknown scenario 'stampede'; allowed: %s", scenarios);
    refused(&(struct herd_request){.scenario = "stampede"}, cli, want);
    snprintf(want, sizeof want, "scenario: unknown scenario 'stampede'; allowed: %s", scenarios);
    refused(&(struct herd_request){.scenario = "stampede"}, api, want);
}

Test(request, backend_refusals)
{
    refused(&(struct herd_request){.scenario = "accept", .backend = "quantum"}, cli,
            "--backend: 'quantum' is not allowed; allowed: live, sim, both");
    refused(&(struct herd_request){.scenario = "accept", .backend = "quantum"}, api,
            "backend: 'quantum' is not allowed; allowed: live, sim");
    /* "both" is the CLI's: the API does not offer it. */
    refused(&(struct herd_request){.scenario = "accept", .backend = "both"}, api,
            "backend: 'both' is not allowed; allowed: live, sim");
    refused(&(struct herd_request){.scenario = "queue", .backend = "live"}, cli,
            "--backend: scenario queue runs only on the simulator; allowed: sim");
    refused(&(struct herd_request){.scenario = "queue", .backend = "both"}, cli,
            "--backend: scenario queue runs only on the simulator; allowed: sim");
    refused(&(struct herd_request){.scenario = "backoff-occ", .backend = "live"}, api,
            "backend: scenario backoff-occ runs only on the simulator; allowed: sim");
}

Test(request, mode_refusals)
{
    refused(&(struct herd_request){.scenario = "condvar", .mode = "sideways"}, cli,
            "--mode: 'sideways' is not allowed; allowed: naive, mitigated, both");
    refused(&(struct herd_request){.scenario = "condvar", .mode = "sideways"}, api,
            "mode: 'sideways' is not allowed; allowed: naive, mitigated, both");
}

Test(request, number_refusals)
{
    refused(&(struct herd_request){.scenario = "accept", .n = "0"}, cli,
            "-n: 0 is out of range; allowed: 1 to 1000000");
    refused(&(struct herd_request){.scenario = "accept", .n = "1000001"}, api,
            "n: 1000001 is out of range; allowed: 1 to 1000000");
    refused(&(struct herd_request){.scenario = "accept", .n = "lots"}, cli,
            "-n: expected a whole number from 1 to 1000000, got 'lots'");
    refused(&(struct herd_request){.scenario = "accept", .n = "1.5"}, api,
            "n: expected a whole number from 1 to 1000000, got '1.5'");
    refused(&(struct herd_request){.scenario = "condvar", .events = "0"}, cli,
            "--events: 0 is out of range; allowed: 1 to 100000");
    refused(&(struct herd_request){.scenario = "condvar", .events = "x"}, api,
            "events: expected a whole number from 1 to 100000, got 'x'");
    const char *bad_seeds[] = {"-1", "+1", " 1", "", "1x", "18446744073709551616", NULL};
    for (int i = 0; bad_seeds[i]; i++) {
        char want[160];
        snprintf(want, sizeof want,
                 "--seed: expected a whole number from 0 to 18446744073709551615, got '%s'",
                 bad_seeds[i]);
        refused(&(struct herd_request){.scenario = "condvar", .seed = bad_seeds[i]}, cli, want);
        snprintf(want, sizeof want,
                 "seed: expected a whole number from 0 to 18446744073709551615, got '%s'",
                 bad_seeds[i]);
        refused(&(struct herd_request){.scenario = "condvar", .seed = bad_seeds[i]}, api, want);
    }
}

Test(request, setting_refusals_are_the_catalogue_s)
{
    const char *bogus[] = {"bogus=1"}, *beta[] = {"beta=fast"}, *ttl[] = {"ttl_ms=0"},
               *workers[] = {"workers=fibers"}, *bare[] = {"rows"};
    refused(&(struct herd_request){.scenario = "cache", .sets = bogus, .nsets = 1}, cli,
            "--set bogus: unknown key for scenario cache; allowed: origin, rows, ttl_ms, "
            "period_us, lead_ms, keys, beta, jitter_pct, stale_ms, origin_workers, usl_sigma, "
            "usl_kappa, pg_url, store, redis_url, coalesce");
    refused(&(struct herd_request){.scenario = "cache", .sets = beta, .nsets = 1}, api,
            "--set beta: expected a number from 0 to 100, got 'fast'");
    refused(&(struct herd_request){.scenario = "cache", .sets = ttl, .nsets = 1}, cli,
            "--set ttl_ms: 0 is out of range; allowed: 10 to 60000");
    refused(&(struct herd_request){.scenario = "accept", .sets = workers, .nsets = 1}, cli,
            "--set workers: 'fibers' is not allowed; allowed: thread, process");
    refused(&(struct herd_request){.scenario = "cache", .sets = bare, .nsets = 1}, cli,
            "--set rows: expected KEY=VALUE");
}

Test(request, mitigation_refusals)
{
    char want[256];
    snprintf(want, sizeof want,
             "--mitigation: 'nope' is not a mitigation of accept; allowed: %s, all", accept_mits);
    refused(&(struct herd_request){.scenario = "accept", .mitigation = "nope"}, cli, want);
    /* A named mitigation is checked even for a naive run: a typo is not silently dropped. */
    refused(&(struct herd_request){.scenario = "accept", .mode = "naive", .mitigation = "nope"},
            cli, want);
    snprintf(want, sizeof want, "mitigation: 'nope' is not a mitigation of accept; allowed: %s",
             accept_mits);
    refused(&(struct herd_request){.scenario = "accept", .mode = "mitigated", .mitigation = "nope"},
            api, want);
    /* "all" is the CLI's. */
    snprintf(want, sizeof want, "mitigation: 'all' is not a mitigation of accept; allowed: %s",
             accept_mits);
    refused(&(struct herd_request){.scenario = "accept", .mode = "mitigated", .mitigation = "all"},
            api, want);
    /* The naive strategy, by name or as "none", is not a mitigation to run. */
    snprintf(want, sizeof want,
             "--mitigation: 'epoll' is the naive strategy; use --mode naive, or one of: %s, all",
             accept_mits);
    refused(&(struct herd_request){.scenario = "accept", .mitigation = "epoll"}, cli, want);
    snprintf(want, sizeof want,
             "mitigation: 'none' is the naive strategy; use mode naive, or one of: %s",
             accept_mits);
    refused(&(struct herd_request){.scenario = "accept", .mode = "mitigated", .mitigation = "none"},
            api, want);
}

Test(request, the_first_wrong_field_is_the_one_named)
{
    /* scenario, backend, mode, n, events, seed, settings, mitigation */
    const char *sets[] = {"bogus=1"};
    struct herd_request r = {.scenario = "accept",
                             .backend = "gpu",
                             .mode = "x",
                             .n = "0",
                             .events = "0",
                             .seed = "-1",
                             .sets = sets,
                             .nsets = 1,
                             .mitigation = "nope"};
    char err[512];
    struct herd_request_plan plan;
    const char *order[] = {
        "backend:", "mode:", "n:", "events:", "seed:", "--set bogus:", "mitigation:"};
    for (size_t i = 0; i < sizeof order / sizeof order[0]; i++) {
        cr_assert_eq(herd_request_resolve(&r, api, &plan, err, sizeof err), -HERD_EINVAL);
        cr_assert_eq(strncmp(err, order[i], strlen(order[i])), 0, "step %zu: %s", i, err);
        switch (i) { /* fix that field, see the next one named */
        case 0:
            r.backend = "sim";
            break;
        case 1:
            r.mode = "both";
            break;
        case 2:
            r.n = "10";
            break;
        case 3:
            r.events = "2";
            break;
        case 4:
            r.seed = "3";
            break;
        case 5:
            r.nsets = 0;
            break;
        default:
            break;
        }
    }
    r.mitigation = "reuseport";
    resolved(&r, api, &plan);
}

Test(request, defaults)
{
    struct herd_request_plan p;
    const struct herd_scenario *sc = herd_scenario_find("condvar");
    resolved(&(struct herd_request){.scenario = "condvar"}, cli, &p);
    cr_assert_eq(p.sc, sc);
    cr_assert_eq(p.backends, HERD_BACKEND_LIVE, "the CLI prefers live where there is one");
    cr_assert_eq(p.nspecs, 2, "mode both by default: naive and the default mitigation");
    cr_assert_eq(p.specs[0].strategy, 0);
    cr_assert_eq(p.specs[0].cfg.condvar.strategy, HERD_CONDVAR_BROADCAST);
    cr_assert_eq(p.specs[1].strategy, herd_scenario_strategy_index(sc, "signal"));
    cr_assert_eq(p.specs[1].cfg.condvar.strategy, HERD_CONDVAR_SIGNAL, "decoded");
    for (size_t i = 0; i < p.nspecs; i++) {
        cr_assert_eq(p.specs[i].sc, sc);
        cr_assert_eq(p.specs[i].n, sc->n_default);
        cr_assert_eq(p.specs[i].events, sc->events_default);
        cr_assert_eq(p.specs[i].seed, 1);
        for (int k = 0; sc->params[k].key; k++)
            cr_assert_eq(p.specs[i].params[k], sc->params[k].def, "%s", sc->params[k].key);
    }
    resolved(&(struct herd_request){.scenario = "condvar"}, api, &p);
    cr_assert_eq(p.backends, HERD_BACKEND_SIM, "the API prefers the simulator");
    /* Where the preferred backend is missing, the scenario's own. */
    resolved(&(struct herd_request){.scenario = "queue"}, cli, &p);
    cr_assert_eq(p.backends, HERD_BACKEND_SIM);
}

Test(request, modes_and_the_cli_extras)
{
    struct herd_request_plan p;
    const struct herd_scenario *sc = herd_scenario_find("accept");
    int reuse = herd_scenario_strategy_index(sc, "reuseport");

    resolved(&(struct herd_request){.scenario = "accept", .mode = "naive"}, api, &p);
    cr_assert_eq(p.nspecs, 1);
    cr_assert(herd_spec_naive(&p.specs[0]));
    resolved(&(struct herd_request){.scenario = "accept", .mode = "naive", .mitigation = "none"},
             cli, &p);
    cr_assert_eq(p.nspecs, 1);
    resolved(&(struct herd_request){.scenario = "accept", .mode = "naive", .mitigation = "epoll"},
             cli, &p);
    cr_assert_eq(p.nspecs, 1);

    resolved(&(struct herd_request){.scenario = "accept",
                                    .mode = "mitigated",
                                    .mitigation = "reuseport"},
             api, &p);
    cr_assert_eq(p.nspecs, 1);
    cr_assert_eq(p.specs[0].strategy, reuse);
    cr_assert_eq(p.specs[0].cfg.accept.strategy, HERD_ACCEPT_REUSEPORT);

    resolved(
        &(struct herd_request){.scenario = "accept", .mode = "both", .mitigation = "reuseport"},
        api, &p);
    cr_assert_eq(p.nspecs, 2);
    cr_assert(herd_spec_naive(&p.specs[0]));
    cr_assert_eq(p.specs[1].strategy, reuse);

    resolved(&(struct herd_request){.scenario = "accept", .mitigation = "all"}, cli, &p);
    cr_assert_eq(p.nspecs, (size_t)herd_scenario_nstrategies(sc));
    cr_assert(herd_spec_naive(&p.specs[0]));
    for (size_t i = 1; i < p.nspecs; i++)
        cr_assert_eq(p.specs[i].strategy, (int)i);
    resolved(&(struct herd_request){.scenario = "accept", .mode = "naive", .mitigation = "all"},
             cli, &p);
    cr_assert_eq(p.nspecs, 1, "all with naive: the naive run only");

    resolved(&(struct herd_request){.scenario = "cron", .backend = "both"}, cli, &p);
    cr_assert_eq(p.backends, HERD_BACKEND_LIVE | HERD_BACKEND_SIM);
}

Test(request, numbers_and_settings_apply_to_every_spec)
{
    const char *sets[] = {"ttl_ms=500", "origin=sqlite", "beta=2.5", "ttl_ms=750"};
    struct herd_request_plan p;
    resolved(&(struct herd_request){.scenario = "cache",
                                    .n = "1000",
                                    .events = "7",
                                    .seed = "18446744073709551615",
                                    .sets = sets,
                                    .nsets = 4},
             api, &p);
    cr_assert_eq(p.nspecs, 2);
    for (size_t i = 0; i < p.nspecs; i++) {
        cr_assert_eq(p.specs[i].n, 1000);
        cr_assert_eq(p.specs[i].events, 7);
        cr_assert_eq(p.specs[i].seed, UINT64_MAX);
        cr_assert_eq(p.specs[i].cfg.cache.ttl_ns, 750000000, "the last one wins");
        cr_assert_eq(p.specs[i].cfg.cache.origin, HERD_CACHE_SQLITE);
        cr_assert_float_eq(p.specs[i].cfg.cache.beta, 2.5, 1e-12);
    }
    const char *enum_set[] = {"workers=process"};
    resolved(
        &(struct herd_request){.scenario = "accept", .seed = "0", .sets = enum_set, .nsets = 1},
        cli, &p);
    cr_assert_eq(p.specs[0].seed, 0);
    cr_assert_eq(p.specs[0].cfg.accept.workers, HERD_ACCEPT_PROCESSES);
    cr_assert_eq(p.specs[1].cfg.accept.workers, HERD_ACCEPT_PROCESSES);
}
