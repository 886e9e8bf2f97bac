/* test_file.c — scenario files (src/scenario/file.h): every shipped file validates and
 * decodes to the values written in it; --set makes versions; mitigations and their
 * combinations apply in order; each malformed file of tests/scenario-files/bad/ is refused
 * with its file:line:column and a message naming the field; the field reference in
 * docs/scenario-file.md is the schema's own; files resolve through requests like presets. */
#include <criterion/criterion.h>
#include <errno.h>
#include <herd/error.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../src/report/report.h"
#include "../../src/scenario/file.h"
#include "../../src/scenario/request.h"

#ifndef HERD_SOURCE_ROOT
#define HERD_SOURCE_ROOT "."
#endif

#define MS INT64_C(1000000)
#define S INT64_C(1000000000)

static struct herd_fleet_file *load(const char *rel)
{
    char path[4096], err[1024] = "";
    struct herd_fleet_file *f = NULL;
    snprintf(path, sizeof path, "%s/%s", HERD_SOURCE_ROOT, rel);
    int rc = herd_fleet_file_load(path, &f, err, sizeof err);
    cr_assert_eq(rc, 0, "%s: %s", rel, err);
    return f;
}

static int comp(const struct herd_fleet *m, const char *name)
{
    for (int i = 0; i < m->ncomps; i++)
        if (strcmp(m->comps[i].name, name) == 0)
            return i;
    cr_assert_fail("no component %s", name);
    return -1;
}

static int strategy(const struct herd_fleet_file *f, const char *name)
{
    const struct herd_scenario *sc = herd_fleet_file_scenario(f);
    int i = herd_scenario_strategy_index(sc, name);
    cr_assert_geq(i, 0, "%s has no strategy %s", sc->name, name);
    return i;
}

static void model_of(const struct herd_fleet_file *f, const char *strat, struct herd_fleet *m)
{
    char err[512];
    cr_assert_eq(herd_fleet_file_model(f, strategy(f, strat), m, err, sizeof err), 0, "%s", err);
}

/* ---- the shipped files ---------------------------------------------------------------- */

Test(file, every_shipped_file_validates_and_runs_on_the_simulator_only)
{
    char paths[64][4096], err[1024];
    setenv("HERD_SCENARIOS", HERD_SOURCE_ROOT "/scenarios", 1);
    size_t n = herd_fleet_shipped(paths, 64);
    cr_assert_geq(n, 4, "the four of issue 12 at least");
    for (size_t i = 0; i < n; i++) {
        struct herd_fleet_file *f;
        cr_assert_eq(herd_fleet_file_load(paths[i], &f, err, sizeof err), 0, "%s", err);
        const struct herd_scenario *sc = herd_fleet_file_scenario(f);
        const char *base = strrchr(paths[i], '/') + 1;
        cr_assert_eq(strncmp(base, sc->name, strlen(sc->name)), 0, "%s is named %s", base,
                     sc->name);
        cr_assert_eq(strcmp(base + strlen(sc->name), ".yaml"), 0, "%s: file name = name", base);
        cr_assert_eq(sc->backends, HERD_BACKEND_SIM);
        cr_assert_geq(herd_scenario_nstrategies(sc), 2, "%s: naive and mitigated", sc->name);
        cr_assert_eq(herd_fleet_file_of(sc), f);
        cr_assert_str_neq(sc->summary, "a scenario file", "%s has a summary", sc->name);
        herd_fleet_file_free(f);
    }
    for (const char *const *name = (const char *const[]){"cascade-3tier", "retry-storm-outage",
                                                         "brooker-collapse", "brooker-retry",
                                                         "lb-restart-tls", "leader-election",
                                                         NULL};
         *name; name++) {
        char path[4096];
        cr_assert_eq(herd_fleet_find(*name, path, sizeof path), 0, "%s is shipped", *name);
    }
    cr_assert_eq(herd_fleet_find("nope", paths[0], 4096), -ENOENT);
    cr_assert_eq(herd_fleet_find("../etc/passwd", paths[0], 4096), -ENOENT);
    unsetenv("HERD_SCENARIOS");
}

Test(file, cascade_decodes_to_the_values_written)
{
    struct herd_fleet_file *f = load("scenarios/cascade-3tier.yaml");
    const struct herd_fleet *m = herd_fleet_file_fleet(f);
    cr_assert_str_eq(m->name, "cascade-3tier");
    cr_assert_eq(m->ncomps, 4);
    cr_assert_eq(m->duration_ns, 60 * S);
    cr_assert_eq(m->drain_ns, 20 * S);
    cr_assert_eq(m->bucket_ns, 500 * MS);
    cr_assert_eq(m->herd, comp(m, "db"));
    cr_assert_float_eq(m->recover_share, 0.9, 1e-12);
    const struct herd_fleet_clients *u = &m->comps[comp(m, "users")].u.clients;
    cr_assert_eq(m->comps[comp(m, "users")].kind, HERD_FLEET_CLIENTS);
    cr_assert_eq(u->n, 100000);
    cr_assert_eq(u->arrival, HERD_FLEET_OPEN);
    cr_assert_eq(u->ncurve, 1);
    cr_assert_float_eq(u->curve[0].rate_per_s, 2000, 1e-9);
    cr_assert_eq(u->call.to, comp(m, "web"));
    cr_assert_eq(u->call.timeout_ns, 2 * S);
    cr_assert_eq(u->call.net_ns, 1 * MS);
    cr_assert_eq(u->call.retry.max_attempts, 3);
    cr_assert_eq(u->call.retry.backoff, HERD_FLEET_BACKOFF_NONE);
    cr_assert(u->call.retry.retry_on_timeout, "the default");
    const struct herd_fleet_service *web = &m->comps[comp(m, "web")].u.service;
    cr_assert_eq(web->workers, 2000);
    cr_assert_eq(web->queue_cap, 4000);
    cr_assert_eq(web->service_ns, 1 * MS);
    cr_assert_eq(web->ncalls, 1);
    cr_assert_eq(web->calls[0].to, comp(m, "api"));
    cr_assert_eq(web->calls[0].timeout_ns, 600 * MS);
    cr_assert_eq(web->calls[0].net_ns, 500000);
    const struct herd_fleet_service *db = &m->comps[comp(m, "db")].u.service;
    cr_assert_eq(db->workers, 16);
    cr_assert_eq(db->service_ns, 4 * MS);
    cr_assert_eq(db->dist, HERD_FLEET_DIST_LOGNORMAL);
    cr_assert_float_eq(db->sigma, 0.5, 1e-12);
    cr_assert_eq(db->ncalls, 0);
    cr_assert_eq(db->discipline, HERD_FLEET_FIFO, "the default");
    cr_assert_float_eq(db->warm_start, 1, 1e-12, "the default");
    cr_assert_eq(m->nfaults, 1);
    cr_assert_eq(m->faults[0].kind, HERD_FLEET_FAULT_LATENCY);
    cr_assert_eq(m->faults[0].target, comp(m, "db"));
    cr_assert_eq(m->faults[0].peer, -1);
    cr_assert_eq(m->faults[0].at_ns, 20 * S);
    cr_assert_eq(m->faults[0].for_ns, 5 * S);
    cr_assert_float_eq(m->faults[0].factor, 4, 1e-12);
    const struct herd_scenario *sc = herd_fleet_file_scenario(f);
    cr_assert_eq(sc->n_default, 100000, "N is the clients");
    cr_assert_str_eq(sc->strategies[sc->default_mitigation].name, "budget", "the first");
    herd_fleet_file_free(f);
}

Test(file, brooker_collapse_is_brookers_model)
{
    struct herd_fleet_file *f = load("scenarios/brooker-collapse.yaml");
    const struct herd_fleet *m = herd_fleet_file_fleet(f);
    const struct herd_fleet_clients *c = &m->comps[comp(m, "clients")].u.clients;
    const struct herd_fleet_service *sv = &m->comps[comp(m, "server")].u.service;
    cr_assert_eq(m->duration_ns, 80 * S);
    cr_assert_eq(m->drain_ns, 0);
    static const int64_t t[] = {0, 20, 20, 25, 25};
    static const double r[] = {40, 40, 80, 80, 40};
    cr_assert_eq(c->ncurve, 5);
    for (int i = 0; i < 5; i++) {
        cr_assert_eq(c->curve[i].t_ns, t[i] * S);
        cr_assert_float_eq(c->curve[i].rate_per_s, r[i], 1e-12);
    }
    cr_assert_eq(c->call.timeout_ns, 3 * S);
    cr_assert_eq(c->call.net_ns, 100 * MS);
    cr_assert_eq(c->call.net_dist, HERD_FLEET_DIST_EXPONENTIAL);
    cr_assert_eq(c->call.retry.max_attempts, 3);
    cr_assert(sv->unlimited);
    cr_assert_not(sv->cancel_abandoned, "the server is not told of timeouts");
    cr_assert_eq(sv->service_ns, 1 * S);
    cr_assert_eq(sv->dist, HERD_FLEET_DIST_CONSTANT);
    cr_assert_float_eq(sv->per_concurrent, 0.01, 1e-12);
    struct herd_fleet b;
    model_of(f, "backoff", &b);
    const struct herd_fleet_retry *rb = &b.comps[comp(&b, "clients")].u.clients.call.retry;
    cr_assert_eq(rb->backoff, HERD_FLEET_BACKOFF_BROOKER);
    cr_assert_eq(rb->base_ns, 10 * S);
    cr_assert_eq(c->call.retry.backoff, HERD_FLEET_BACKOFF_NONE, "naive untouched");
    herd_fleet_file_free(f);

    f = load("scenarios/brooker-collapse-ramp.yaml");
    m = herd_fleet_file_fleet(f);
    c = &m->comps[comp(m, "clients")].u.clients;
    cr_assert_eq(c->ncurve, 3, "80 - 1.6 |t - 25|: 40 at 0, 80 at 25, 0 at 75");
    cr_assert_float_eq(c->curve[1].rate_per_s, 80, 1e-12);
    cr_assert_eq(c->curve[2].t_ns, 75 * S);
    herd_fleet_file_free(f);
}

Test(file, brooker_retry_is_brookers_model)
{
    struct herd_fleet_file *f = load("scenarios/brooker-retry.yaml");
    const struct herd_fleet *m = herd_fleet_file_fleet(f);
    const struct herd_fleet_clients *c = &m->comps[comp(m, "clients")].u.clients;
    cr_assert_eq(c->n, 100);
    cr_assert_eq(c->arrival, HERD_FLEET_PERIODIC);
    cr_assert_eq(c->period_ns, 100 * MS, "10 calls a second");
    cr_assert_eq(c->call.retry.max_attempts, 4, "three retries");
    cr_assert_eq(m->faults[0].kind, HERD_FLEET_FAULT_ERRORS);
    cr_assert_float_eq(m->faults[0].p, 0.3, 1e-12);
    cr_assert_geq(m->faults[0].at_ns + m->faults[0].for_ns, m->duration_ns, "the whole run");
    struct herd_fleet x;
    model_of(f, "bucket", &x);
    const struct herd_fleet_retry *r = &x.comps[comp(&x, "clients")].u.clients.call.retry;
    cr_assert_eq(r->budget, HERD_FLEET_BUDGET_PER_CLIENT);
    cr_assert_eq(r->budget_tokens, 5);
    cr_assert_float_eq(r->budget_refill, 0.1, 1e-12);
    model_of(f, "breaker", &x);
    r = &x.comps[comp(&x, "clients")].u.clients.call.retry;
    cr_assert_eq(r->breaker, HERD_FLEET_BREAKER_PER_CLIENT);
    cr_assert_float_eq(r->breaker_ratio, 0.1, 1e-12);
    model_of(f, "no-retry", &x);
    cr_assert_eq(x.comps[comp(&x, "clients")].u.clients.call.retry.max_attempts, 1);
    herd_fleet_file_free(f);
}

Test(file, retry_storm_restarts_cold)
{
    struct herd_fleet_file *f = load("scenarios/retry-storm-outage.yaml");
    const struct herd_fleet *m = herd_fleet_file_fleet(f);
    const struct herd_fleet_service *api = &m->comps[comp(m, "api")].u.service;
    cr_assert_eq(m->faults[0].kind, HERD_FLEET_FAULT_CRASH);
    cr_assert_eq(m->faults[0].for_ns, 2 * S, "a 2 s outage");
    cr_assert_eq(api->warmup_ns, 10 * S);
    cr_assert_float_eq(api->warm_start, 0.25, 1e-12);
    const struct herd_fleet_retry *r = &m->comps[comp(m, "clients")].u.clients.call.retry;
    cr_assert_eq(r->backoff, HERD_FLEET_BACKOFF_EXPONENTIAL, "lock step, no jitter");
    herd_fleet_file_free(f);
}

/* ---- mitigations -------------------------------------------------------------------- */

Test(file, a_declared_combination_applies_its_uses_in_order)
{
    struct herd_fleet_file *f = load("scenarios/cascade-3tier.yaml");
    struct herd_fleet m;
    model_of(f, "combined", &m);
    for (const char *const *who = (const char *const[]){"users", "web", "api", NULL}; *who;
         who++) {
        const struct herd_fleet_component *k = &m.comps[comp(&m, *who)];
        const struct herd_fleet_retry *r = k->kind == HERD_FLEET_CLIENTS
                                               ? &k->u.clients.call.retry
                                               : &k->u.service.calls[0].retry;
        cr_assert_eq(r->backoff, HERD_FLEET_BACKOFF_FULL, "%s", *who);
        cr_assert_eq(r->base_ns, 50 * MS, "%s", *who);
        cr_assert_eq(r->cap_ns, 1 * S, "%s", *who);
        cr_assert_eq(r->budget, HERD_FLEET_BUDGET_AWS, "%s", *who);
        cr_assert_eq(r->breaker, HERD_FLEET_BREAKER_SHARED, "%s", *who);
        cr_assert_eq(r->breaker_open_ns, 2 * S, "%s", *who);
    }
    herd_fleet_file_free(f);
}

static const char two_mits[] = "name: two\n"
                               "duration: 10s\n"
                               "herd: db\n"
                               "components:\n"
                               "  users:\n"
                               "    kind: clients\n"
                               "    clients: 10\n"
                               "    rate: 5\n"
                               "    call: {to: db, timeout: 1s}\n"
                               "  db:\n"
                               "    kind: service\n"
                               "    workers: 4\n"
                               "    service_time: 1ms\n"
                               "mitigations:\n"
                               "  more:\n"
                               "    help: more workers\n"
                               "    set: {components.db.workers: 8}\n"
                               "  most:\n"
                               "    set: {components.db.workers: 16, components.db.queue: 5}\n"
                               "  jitter:\n"
                               "    family: spread-time\n"
                               "    set: {components.users.call.retry.backoff: full}\n";

static struct herd_fleet_file *parse(const char *text)
{
    struct herd_fleet_file *f = NULL;
    char err[1024] = "";
    cr_assert_eq(herd_fleet_file_parse("t.yaml", text, strlen(text), &f, err, sizeof err), 0,
                 "%s", err);
    return f;
}

Test(file, command_line_combinations_keep_their_order)
{
    struct herd_fleet_file *f = parse(two_mits);
    const struct herd_fleet_file *v;
    struct herd_fleet m;
    char err[512];
    int s;
    cr_assert_eq(herd_fleet_file_strategy(f, "-M", "more+most", &v, &s, err, sizeof err), 0,
                 "%s", err);
    const struct herd_scenario *sc = herd_fleet_file_scenario(v);
    cr_assert_str_eq(sc->strategies[s].name, "more+most");
    cr_assert_eq(herd_scenario_nstrategies(sc), 5, "naive, 3 declared, the combination");
    cr_assert_eq(herd_fleet_file_model(v, s, &m, err, sizeof err), 0, "%s", err);
    cr_assert_eq(m.comps[1].u.service.workers, 16, "most applied last");
    cr_assert_eq(m.comps[1].u.service.queue_cap, 5);
    cr_assert_eq(herd_fleet_file_strategy(f, "-M", "most+more", &v, &s, err, sizeof err), 0);
    cr_assert_eq(herd_fleet_file_model(v, s, &m, err, sizeof err), 0, "%s", err);
    cr_assert_eq(m.comps[1].u.service.workers, 8, "more applied last");
    cr_assert_eq(m.comps[1].u.service.queue_cap, 5, "most's queue stays");
    cr_assert_eq(herd_fleet_file_strategy(f, "-M", "more+jitter", &v, &s, err, sizeof err), 0);
    cr_assert_eq(herd_fleet_file_model(v, s, &m, err, sizeof err), 0, "%s", err);
    cr_assert_eq(m.comps[0].u.clients.call.retry.backoff, HERD_FLEET_BACKOFF_FULL);
    cr_assert_eq(m.comps[1].u.service.workers, 8);
    /* The loaded file and its naive model are untouched. */
    cr_assert_eq(herd_fleet_file_fleet(f)->comps[1].u.service.workers, 4);
    cr_assert_eq(herd_scenario_nstrategies(herd_fleet_file_scenario(f)), 4);
    /* A declared name resolves to the file itself. */
    cr_assert_eq(herd_fleet_file_strategy(f, "-M", "most", &v, &s, err, sizeof err), 0);
    cr_assert_eq(v, f);
    cr_assert_eq(s, 2);

    cr_assert_lt(herd_fleet_file_strategy(f, "--mitigation", "more+mots", &v, &s, err,
                                          sizeof err), 0);
    cr_assert_str_eq(err, "--mitigation: 'mots' is not a mitigation of two (did you mean "
                          "'most'?); allowed: more, most, jitter, or several joined by +");
    cr_assert_lt(herd_fleet_file_strategy(f, "--mitigation", "more+more", &v, &s, err,
                                          sizeof err), 0);
    cr_assert_str_eq(err, "--mitigation: 'more' is named twice; allowed: each mitigation once");
    cr_assert_lt(herd_fleet_file_strategy(f, "--mitigation", "more+", &v, &s, err, sizeof err), 0);
    cr_assert(strstr(err, "not a mitigation of two"), "%s", err);
    herd_fleet_file_free(f);
}

/* ---- --set ------------------------------------------------------------------------ */

Test(file, set_makes_a_validated_version)
{
    struct herd_fleet_file *f = parse(two_mits);
    const struct herd_fleet_file *v, *w;
    char err[512];
    cr_assert_eq(herd_fleet_file_set(f, "--set components.db.workers", "components.db.workers",
                                     "40", &v, err, sizeof err),
                 0, "%s", err);
    cr_assert_eq(herd_fleet_file_fleet(v)->comps[1].u.service.workers, 40);
    cr_assert_eq(herd_fleet_file_fleet(f)->comps[1].u.service.workers, 4, "f is immutable");
    cr_assert_neq(herd_fleet_file_hash(v), herd_fleet_file_hash(f));
    cr_assert_eq(herd_fleet_file_content_hash(v), herd_fleet_file_content_hash(f));
    /* A field the file leaves to its default, a list item, a whole list in flow style. */
    cr_assert_eq(herd_fleet_file_set(v, "--set", "components.users.call.retry.attempts", "3", &w,
                                     err, sizeof err),
                 0, "%s", err);
    cr_assert_eq(herd_fleet_file_fleet(w)->comps[0].u.clients.call.retry.max_attempts, 3);
    cr_assert_eq(herd_fleet_file_fleet(w)->comps[1].u.service.workers, 40, "v's value stays");
    cr_assert_eq(herd_fleet_file_set(w, "--set", "components.users.rate",
                                     "[{at: 0s, per_s: 40}, {at: 2s, per_s: 80}]", &w, err,
                                     sizeof err),
                 0, "%s", err);
    cr_assert_eq(herd_fleet_file_fleet(w)->comps[0].u.clients.ncurve, 2);
    cr_assert_eq(herd_fleet_file_set(w, "--set", "components.users.rate.1.per_s", "90", &w, err,
                                     sizeof err),
                 0, "%s", err);
    cr_assert_float_eq(herd_fleet_file_fleet(w)->comps[0].u.clients.curve[1].rate_per_s, 90, 0);
    const char *paths[8], *values[8];
    cr_assert_eq(herd_fleet_file_overrides(w, paths, values, 8), 4);
    cr_assert_str_eq(paths[0], "components.db.workers");
    cr_assert_str_eq(values[0], "40");
    cr_assert_str_eq(paths[3], "components.users.rate.1.per_s");
    /* A mitigation applies on top of the version. */
    struct herd_fleet m;
    cr_assert_eq(herd_fleet_file_model(w, 1, &m, err, sizeof err), 0, "%s", err);
    cr_assert_eq(m.comps[1].u.service.workers, 8, "more's value wins");
    cr_assert_eq(m.comps[0].u.clients.call.retry.max_attempts, 3, "the --set stays");
    herd_fleet_file_free(f);
}

Test(file, set_refusals_name_the_flag)
{
    struct herd_fleet_file *f = parse(two_mits);
    const struct herd_fleet_file *v;
    char err[512];
    static const struct {
        const char *path, *value, *want;
    } cases[] = {
        {"components.db.workers", "0",
         "--set components.db.workers: 0 is out of range; allowed: 1 to 1000000 workers"},
        {"components.db.workers", "many",
         "--set components.db.workers: expected a whole number, got 'many'; allowed: 1 to "
         "1000000"},
        {"components.db.wokers", "8",
         "--set components.db.wokers: unknown field 'wokers' in a service (did you mean "
         "'workers'?)"},
        {"components.dbb.workers", "8",
         "--set components.dbb.workers: unknown component 'dbb' (did you mean 'db'?); allowed: "
         "users, db"},
        {"components.users.call.timeout", "-2s",
         "--set components.users.call.timeout: -2s is a negative time"},
        {"components.users.call.to", "nowhere",
         "--set components.users.call.to: unknown component 'nowhere'; allowed: users, db"},
        {"components.db.calls", "[{to: db}]",
         "--set components.db.calls: components.db.calls.0.to: 'db' calls itself"},
        {"components.db.workers.x", "1",
         "--set components.db.workers.x: 'workers' is a value, not a map or a list"},
        {"faults.0.at", "1s", "--set faults.0.at: '0': the list faults is empty"},
        {"mitigations.more.help", "x", "--set mitigations.more.help: mitigations are the file's"},
        {"components.users.rate.3", "1",
         "--set components.users.rate.3: 'rate' is not a list here"},
        {"components.db.workers", "[1", "--set components.db.workers: YAML syntax"},
        {"components..workers", "1", "--set components..workers: expected the path of a field"},
        {"duration", "", "--set duration: expected a time"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char flag[300];
        snprintf(flag, sizeof flag, "--set %s", cases[i].path);
        cr_assert_eq(herd_fleet_file_set(f, flag, cases[i].path, cases[i].value, &v, err,
                                         sizeof err),
                     -HERD_EINVAL, "%s=%s accepted", cases[i].path, cases[i].value);
        cr_assert(strstr(err, cases[i].want), "%s=%s: got '%s', wanted '%s'", cases[i].path,
                  cases[i].value, err, cases[i].want);
    }
    herd_fleet_file_free(f);
}

/* The lb file: persistent connections, reconnects at once, a full handshake ten times a
 * resumed one; its mitigations change what they say. */
Test(file, lb_restart_decodes_to_the_values_written)
{
    struct herd_fleet_file *f = load("scenarios/lb-restart-tls.yaml");
    struct herd_fleet m;
    model_of(f, "naive", &m);
    int cl = comp(&m, "clients"), lb = comp(&m, "lb"), api = comp(&m, "api");
    cr_assert_eq(m.comps[lb].kind, HERD_FLEET_LB);
    cr_assert_eq(m.comps[lb].u.lb.call.to, api);
    cr_assert_eq(m.comps[lb].u.lb.handshake_ns, 2 * MS);
    cr_assert_eq(m.comps[lb].u.lb.resume_ns, 200000);
    cr_assert(!m.comps[lb].u.lb.resumption);
    cr_assert(m.comps[cl].u.clients.conn.persistent);
    cr_assert_eq(m.comps[cl].u.clients.conn.reconnect, HERD_FLEET_BACKOFF_NONE);
    cr_assert_eq(m.faults[0].kind, HERD_FLEET_FAULT_DROP);
    model_of(f, "combined", &m);
    cr_assert_eq(m.comps[cl].u.clients.conn.reconnect, HERD_FLEET_BACKOFF_FULL);
    cr_assert(m.comps[lb].u.lb.resumption);
    model_of(f, "limit", &m);
    cr_assert_eq(m.comps[cl].u.clients.conn.reconnect, HERD_FLEET_BACKOFF_FULL);
    cr_assert_eq(m.comps[lb].u.lb.handshake_rate_per_s, 10000);
    herd_fleet_file_free(f);
}

/* The election file: equal timers naive, Raft's spread mitigated; the lock file's ways. */
Test(file, coord_files_decode_to_the_values_written)
{
    struct herd_fleet_file *f = load("scenarios/leader-election.yaml");
    struct herd_fleet m;
    model_of(f, "naive", &m);
    int e = comp(&m, "etcd"), j = comp(&m, "jobs");
    cr_assert_eq(m.comps[e].kind, HERD_FLEET_COORD);
    cr_assert_eq(m.comps[e].u.coord.candidates, 5);
    cr_assert_eq(m.comps[e].u.coord.election_jitter_ns, 0);
    cr_assert_eq(m.comps[j].u.clients.call.op, HERD_FLEET_OP_LEADER);
    cr_assert_eq(m.faults[0].kind, HERD_FLEET_FAULT_LEADER_DEATH);
    model_of(f, "randomized", &m);
    cr_assert_eq(m.comps[e].u.coord.election_jitter_ns, 150 * MS);
    herd_fleet_file_free(f);
    f = load("scenarios/lock-herd.yaml");
    model_of(f, "naive", &m);
    int zk = comp(&m, "zk"), w = comp(&m, "workers");
    cr_assert_eq(m.comps[zk].u.coord.lock, HERD_FLEET_LOCK_NOTIFY_ALL);
    cr_assert_eq(m.comps[w].u.clients.call.op, HERD_FLEET_OP_LOCK);
    cr_assert_eq(m.comps[w].u.clients.call.hold_ns, MS);
    model_of(f, "queue", &m);
    cr_assert_eq(m.comps[zk].u.coord.lock, HERD_FLEET_LOCK_NOTIFY_ONE);
    model_of(f, "poll", &m);
    cr_assert_eq(m.comps[zk].u.coord.lock, HERD_FLEET_LOCK_POLL);
    herd_fleet_file_free(f);
}

/* ---- malformed files ------------------------------------------------------------------ */

/* Each file of tests/scenario-files/bad/, the place its error is reported and the words
 * that name the field and what is wrong. */
static const struct {
    const char *file, *want;
} bad[] = {
    {"wrong-type-int", "7:14: components.users.clients: expected a whole number, got 'ten'; "
                       "allowed: 1 to 1000000"},
    {"wrong-type-map", "9:11: components.users.call: expected a map (call), got 'db'"},
    {"wrong-type-list", "14:12: components.db.calls: expected a list of call, got a map"},
    {"unknown-field", "12:5: components.db.wokers: unknown field in a service (did you mean "
                      "'workers'?); allowed: kind, workers,"},
    {"unknown-top-field", "2:1: duraton: unknown field in a scenario (did you mean 'duration'?)"},
    {"missing-duration", "1:1: missing required field 'duration'"},
    {"missing-call-to", "9:11: components.users.call: missing required field 'to'"},
    {"empty-call", "9:10: components.users.call: missing required field 'to'"},
    {"missing-kind", "11:5: components.db: missing required field 'kind'; allowed: clients, "
                     "service, cache"},
    {"duplicate-key", "13:5: components.db.workers: duplicate key 'workers' (first at line 12)"},
    {"unknown-ref", "9:16: components.users.call.to: unknown component 'dbb' (did you mean "
                    "'db'?); allowed: users, db"},
    {"unknown-herd", "3:7: herd: unknown component 'cache'; allowed: users, db"},
    {"cycle", "18:18: components.api.calls.0.to: the calls make a cycle: db → api → db"},
    {"self-call", "14:18: components.db.calls.0.to: 'db' calls itself"},
    {"call-to-clients", "14:18: components.db.calls.0.to: 'users' is a client fleet, which takes "
                        "no calls"},
    {"negative-time", "9:29: components.users.call.timeout: -1s is a negative time; allowed: 0 s "
                      "to 86400 s"},
    {"bad-time-unit", "9:29: components.users.call.timeout: expected a time"},
    {"out-of-range", "12:14: components.db.workers: 0 is out of range; allowed: 1 to 1000000"},
    {"zero-duration", "2:11: duration: 0s is out of range; allowed: more than 0 s, at most 86400 "
                      "s"},
    {"bad-enum", "14:17: components.db.discipline: 'lifoo' is not allowed (did you mean "
                 "'lifo'?); allowed: fifo, lifo, drop-oldest"},
    {"bad-bool", "14:16: components.db.unlimited: expected true or false, got 'yes'"},
    {"unknown-kind", "11:11: components.db.kind: 'database' is not allowed; allowed: clients, "
                     "service, cache"},
    {"bad-component-name", "10:3: components.1db: not a component name"},
    {"bad-name", "1:7: name: not a scenario name"},
    {"too-many-components", "5:3: components: 17 components; allowed: at most 16"},
    {"too-many-calls", "15:7: components.db.calls: 5 items; allowed: at most 4"},
    {"too-many-faults", "15:3: faults: 17 items; allowed: at most 16"},
    {"too-many-rate-points", "9:7: components.users.rate: 17 points; allowed: 1 to 16"},
    {"too-many-mitigations", "15:3: mitigations: 8 mitigations; allowed: at most 7"},
    {"syntax", "9:9: components.users.rate.1: YAML syntax: did not find expected ','"},
    {"syntax-indent", "13:11: components: YAML syntax: mapping values are not allowed"},
    {"alias", "8:11: components.users.rate: anchors (&r) are not supported"},
    {"anchor", "8:11: components.users.rate: anchors (&r) are not supported"},
    {"tag", "12:14: components.db.workers: tags (tag:yaml.org,2002:int) are not supported"},
    {"two-documents", "14:1: a second document (---); allowed: one scenario per file"},
    {"too-deep", ": nested deeper than 24 levels"},
    {"not-a-map", "1:1: expected a map with name, duration, herd and components, got a list"},
    {"empty", "1:1: expected a map with name, duration, herd and components, got nothing"},
    {"key-not-text", "12:5: components.db: a key must be text, not a list"},
    {"herd-is-clients", "3:7: herd: 'users' is a client fleet; allowed: a service, a cache, an lb "
                        "or a coord"},
    {"coord-call-without-op", "9:11: components.workers.call: a call to 'zk' (a coord) needs op; "
                              "allowed: lock, leader"},
    {"op-on-service", "9:24: components.users.call.op: 'db' is a service, not a coord"},
    {"bad-op", "9:24: components.workers.call.op: 'elect' is not allowed; allowed: none, lock, "
               "leader"},
    {"connection-not-lb", "10:17: components.users.connection: the call goes to 'db' (a "
                          "service); allowed: connection only when it goes to an lb"},
    {"reconnect-cap-below-base", "10:50: components.users.connection.cap: 1 s is below base "
                                 "(5 s)"},
    {"lb-backend-not-service", "12:16: components.lb.call.to: 'cache' is a cache; allowed: a "
                               "service"},
    {"negative-handshake", "12:16: components.lb.handshake: -2ms is a negative time"},
    {"bad-lock-kind", "12:11: components.zk.lock: 'notify-some' is not allowed (did you mean "
                      "'notify-one'?); allowed: notify-all, notify-one, poll"},
    {"op-time-zero", "12:14: components.zk.op_time: 0s is out of range; allowed: more than 0 s"},
    {"drop-not-lb", "15:26: faults.0.target: a fault of kind drop cannot hit 'db' (a service); "
                    "allowed: an lb"},
    {"leader-op-no-candidates", "9:24: components.jobs.call.op: 'zk' elects no leader "
                                "(candidates: 0); allowed: op leader only on a call to a coord "
                                "with candidates"},
    {"leader-death-no-candidates", "14:34: faults.0.target: a fault of kind leader_death cannot "
                                   "hit 'zk' (a coord); allowed: a coord with candidates"},
    {"no-clients", "5:3: components: no client fleet"},
    {"open-without-rate", "6:5: components.users: arrival open needs a rate"},
    {"periodic-without-period", "6:5: components.users: arrival periodic needs a period"},
    {"rate-times-decrease", "10:14: components.users.rate.1.at: the points' times go back"},
    {"cap-below-base", "9:84: components.users.call.retry.cap: 0.1 s is below base (1 s)"},
    {"token-bucket-no-rate", "14:16: components.db: admission token-bucket needs admit_rate"},
    {"bucket-too-small", "3:9: bucket: 0.001 s makes 10000 buckets of the run's 10 s; allowed: at "
                         "most 4000"},
    {"fault-past-end", "15:35: faults.0.at: 20 s is not before the run's end"},
    {"fault-needs-p", "15:5: faults.0: a fault of kind errors needs p"},
    {"fault-flush-service", "15:27: faults.0.target: a fault of kind flush cannot hit 'db' (a "
                            "service); allowed: a cache"},
    {"fault-partition-no-peer", "15:5: faults.0: a partition needs peer"},
    {"fault-p-out-of-range", "15:52: faults.0.p: 1.5 is out of range; allowed: 0 to 1"},
    {"fault-no-duration", "15:5: faults.0: a fault of kind crash needs for (more than 0 s)"},
    {"mitigation-unknown-use", "16:11: mitigations.both.use.0: not a mitigation of this file"},
    {"mitigation-use-cycle", "18:10: mitigations.b.use: the uses make a cycle: a → b → a"},
    {"mitigation-bad-path", "17:7: mitigations.more.set.components.db.wokers: unknown field "
                            "'wokers' in a service (did you mean 'workers'?)"},
    {"mitigation-unknown-component", "17:7: mitigations.more.set.components.dbx.workers: unknown "
                                     "component 'dbx' (did you mean 'db'?)"},
    {"mitigation-bad-value", "18:30: components.db.workers: -3 is out of range; allowed: 1 to "
                             "1000000 workers (with mitigation more)"},
    {"mitigation-unknown-field", "16:5: mitigations.more.hlep: unknown field in a mitigation (did "
                                 "you mean 'help'?)"},
    {"mitigation-empty", "16:5: mitigations.more: a mitigation needs set"},
    {"mitigation-reserved-name", "15:3: mitigations.all: not a mitigation name"},
    {"mitigation-breaks-graph", "components.api.calls.0.to: the calls make a cycle: db → api → "
                                "db; allowed: calls that only go downstream (with mitigation "
                                "loop)"},
    {"claim-bad-op", "19:46: claim.0.check: '<>' is not an operator; allowed: <, <=, >, >=, ==, "
                     "within"},
    {"claim-unknown-strategy", "19:12: claim.0.check: 'jiter' is not a strategy of this file; "
                               "allowed: naive, more, or mitigations joined by +"},
    {"claim-unknown-figure", "19:18: claim.0.check: 'components.db.amplificaton' is not a figure "
                             "(did you mean 'amplification'?)"},
    {"claim-unknown-component", "19:29: claim.0.check: 'dbx' is not a component of this file"},
    {"claim-within-no-tolerance", "19:46: claim.0.check: within needs a tolerance"},
    {"claim-without-says", "18:5: claim.0.says: missing"},
    {"claim-bad-verdict", "19:38: claim.0.check: 'healed' is not a verdict; allowed: recovered, "
                          "stuck, no-fault"},
};

Test(file, every_malformed_file_is_refused_where_it_is_wrong)
{
    size_t n = sizeof bad / sizeof bad[0];
    cr_assert_geq(n, 30);
    for (size_t i = 0; i < n; i++) {
        char path[4096], err[2048] = "", want[4800];
        struct herd_fleet_file *f = NULL;
        snprintf(path, sizeof path, "%s/tests/scenario-files/bad/%s.yaml", HERD_SOURCE_ROOT,
                 bad[i].file);
        int rc = herd_fleet_file_load(path, &f, err, sizeof err);
        cr_expect_eq(rc, -HERD_EINVAL, "%s: accepted", bad[i].file);
        herd_fleet_file_free(f);
        snprintf(want, sizeof want, "%s%s", path, bad[i].want[0] == ':' ? "" : ":");
        cr_expect_eq(strncmp(err, want, strlen(want)), 0, "%s: '%s' does not start with '%s'",
                     bad[i].file, err, want);
        cr_expect(strstr(err, bad[i].want), "%s: '%s' lacks '%s'", bad[i].file, err,
                  bad[i].want);
        cr_expect_null(strchr(err, '\n'), "%s: one line", bad[i].file);
    }
}

/* Every file in bad/ is in the table (a new one cannot go untested). */
Test(file, the_table_covers_the_directory)
{
    char cmd[4200];
    snprintf(cmd, sizeof cmd, "ls %s/tests/scenario-files/bad", HERD_SOURCE_ROOT);
    FILE *p = popen(cmd, "r");
    cr_assert_not_null(p);
    char line[256];
    size_t files = 0;
    while (fgets(line, sizeof line, p)) {
        line[strcspn(line, "\n")] = '\0';
        size_t l = strlen(line);
        if (l < 5 || strcmp(line + l - 5, ".yaml") != 0)
            continue;
        line[l - 5] = '\0';
        bool found = false;
        for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
            found |= strcmp(bad[i].file, line) == 0;
        cr_expect(found, "%s.yaml is not in the table", line);
        files++;
    }
    pclose(p);
    cr_assert_eq(files, sizeof bad / sizeof bad[0]);
}

Test(file, limits_that_need_no_file)
{
    char err[512];
    struct herd_fleet_file *f = NULL;
    size_t big = (1 << 20) + 1;
    char *text = malloc(big);
    cr_assert_not_null(text);
    memset(text, '#', big);
    cr_assert_eq(herd_fleet_file_parse("big.yaml", text, big, &f, err, sizeof err), -HERD_EINVAL);
    cr_assert_str_eq(err, "big.yaml: 1048577 bytes; allowed: at most 1048576 (1 MiB)");
    free(text);
    /* A billion laughs is refused at its first anchor. */
    const char *laughs = "a: &a [x, x]\nb: &b [*a, *a]\n";
    cr_assert_eq(herd_fleet_file_parse("l.yaml", laughs, strlen(laughs), &f, err, sizeof err),
                 -HERD_EINVAL);
    cr_assert(strstr(err, "l.yaml:1:4: a: anchors (&a) are not supported"), "%s", err);
    const char nul[] = "name: \"a\\0b\"\n";
    cr_assert_eq(herd_fleet_file_parse("n.yaml", nul, sizeof nul - 1, &f, err, sizeof err),
                 -HERD_EINVAL);
    cr_assert(strstr(err, "a NUL byte"), "%s", err);
    cr_assert_eq(herd_fleet_file_load("/nonexistent/x.yaml", &f, err, sizeof err), -HERD_EINVAL);
    cr_assert_str_eq(err, "/nonexistent/x.yaml: cannot read: No such file or directory");
}

/* ---- the doc ---------------------------------------------------------------------- */

/* docs/scenario-file.md's reference is the schema's own, word for word, between its
 * markers: a field added to the schema and not to the doc fails here. */
Test(file, the_doc_is_the_schema)
{
    char path[4096], *doc = NULL, *ref = NULL;
    size_t doclen = 0, reflen = 0;
    snprintf(path, sizeof path, "%s/docs/scenario-file.md", HERD_SOURCE_ROOT);
    FILE *f = fopen(path, "r");
    cr_assert_not_null(f, "%s", path);
    FILE *d = open_memstream(&doc, &doclen);
    char buf[4096];
    size_t n;
    while ((n = fread(buf, 1, sizeof buf, f)) > 0)
        fwrite(buf, 1, n, d);
    fclose(f);
    fclose(d);
    FILE *r = open_memstream(&ref, &reflen);
    cr_assert_eq(herd_fleet_schema_markdown(r), 0);
    fclose(r);
    const char *begin = strstr(doc, "<!-- schema:begin -->\n");
    const char *end = strstr(doc, "<!-- schema:end -->");
    cr_assert(begin && end && end > begin, "the markers are in the doc");
    begin += strlen("<!-- schema:begin -->\n");
    cr_assert_eq((size_t)(end - begin), reflen,
                 "the reference differs from the schema: regenerate it with herd validate "
                 "--schema");
    cr_assert_eq(memcmp(begin, ref, reflen), 0,
                 "the reference differs from the schema: regenerate it with herd validate "
                 "--schema");
    /* Every shipped file is one of the doc's examples. */
    char paths[64][4096];
    setenv("HERD_SCENARIOS", HERD_SOURCE_ROOT "/scenarios", 1);
    size_t k = herd_fleet_shipped(paths, 64);
    for (size_t i = 0; i < k; i++) {
        const char *base = strrchr(paths[i], '/') + 1;
        cr_expect(strstr(doc, base), "the doc does not name %s", base);
    }
    unsetenv("HERD_SCENARIOS");
    free(doc);
    free(ref);
}

/* ---- through requests -------------------------------------------------------------- */

Test(file, a_file_resolves_like_a_preset)
{
    struct herd_fleet_file *f = parse(two_mits);
    const struct herd_scenario *row = herd_fleet_file_scenario(f);
    struct herd_request_plan plan;
    char err[512];
    const char *sets[] = {"components.db.workers=12"};
    struct herd_request req = {.scenario = "two", .row = row, .mitigation = "more+jitter",
                               .sets = sets, .nsets = 1};
    cr_assert_eq(herd_request_resolve(&req, &herd_request_spelling_run, &plan, err, sizeof err),
                 0, "%s", err);
    cr_assert_eq(plan.backends, HERD_BACKEND_SIM, "the simulator: files have no live backend");
    cr_assert_eq(plan.nspecs, 2);
    cr_assert_eq(plan.specs[0].strategy, 0);
    cr_assert_str_eq(herd_spec_mitigation(&plan.specs[1]), "more+jitter");
    cr_assert_eq(plan.specs[0].sc, plan.specs[1].sc, "one version for both");
    const struct herd_fleet_config *c = &plan.specs[1].cfg.fleet;
    cr_assert_eq(c->file, herd_fleet_file_of(plan.specs[1].sc));
    cr_assert_eq(c->strategy, plan.specs[1].strategy);
    cr_assert_eq(herd_fleet_file_fleet(plan.specs[0].cfg.fleet.file)->comps[1].u.service.workers,
                 12);
    struct herd_fleet m;
    cr_assert_eq(herd_fleet_file_model(c->file, c->strategy, &m, err, sizeof err), 0);
    cr_assert_eq(m.comps[1].u.service.workers, 8);
    cr_assert_eq(m.comps[0].u.clients.call.retry.backoff, HERD_FLEET_BACKOFF_FULL);

    /* The report names the file, its hash and the --set. */
    struct herd_run_info info;
    herd_spec_describe(&plan.specs[0], &info);
    cr_assert_str_eq(info.scenario, "two");
    cr_assert_eq(info.nparams, 3);
    cr_assert_str_eq(info.params[0].key, "file");
    cr_assert_str_eq(info.params[0].text, "t.yaml");
    cr_assert_str_eq(info.params[1].key, "file_hash");
    cr_assert_eq(strlen(info.params[1].text), 16);
    cr_assert_str_eq(info.params[2].key, "components.db.workers");
    cr_assert_str_eq(info.params[2].text, "12");

    /* Sizes are the file's; bad settings name the flag. */
    req = (struct herd_request){.scenario = "two", .row = row, .n = "5"};
    cr_assert_lt(herd_request_resolve(&req, &herd_request_spelling_run, &plan, err, sizeof err),
                 0);
    cr_assert_str_eq(err, "-n: scenario two sets its own sizes in its file; allowed: --set "
                          "components.NAME.clients=N");
    const char *bad_set[] = {"components.db.workers=0"};
    req = (struct herd_request){.scenario = "two", .row = row, .sets = bad_set, .nsets = 1};
    cr_assert_lt(herd_request_resolve(&req, &herd_request_spelling_run, &plan, err, sizeof err),
                 0);
    cr_assert_str_eq(err, "--set components.db.workers: 0 is out of range; allowed: 1 to 1000000 "
                          "workers");
    struct herd_setting api_set = {.key = "components.db.workers", .number = 7};
    req = (struct herd_request){.scenario = "two", .row = row, .settings = &api_set,
                                .nsettings = 1, .mode = "naive"};
    cr_assert_eq(herd_request_resolve(&req, &herd_request_spelling_api, &plan, err, sizeof err),
                 0, "%s", err);
    cr_assert_eq(herd_fleet_file_fleet(plan.specs[0].cfg.fleet.file)->comps[1].u.service.workers,
                 7, "an API number, set as text");
    req = (struct herd_request){.scenario = "two", .row = row, .mitigation = "all"};
    cr_assert_eq(herd_request_resolve(&req, &herd_request_spelling_run, &plan, err, sizeof err),
                 0, "%s", err);
    cr_assert_eq(plan.nspecs, 4, "naive + 3");
    herd_fleet_file_free(f);
}

Test(file, the_catalogue_row_names_no_file)
{
    const struct herd_scenario *sc = herd_scenario_find("fleet");
    cr_assert_not_null(sc);
    cr_assert_null(herd_fleet_file_of(sc));
    struct herd_run_spec s;
    herd_spec_init(&s, sc);
    cr_assert_null(s.cfg.fleet.file);
}

/* ---- claims ------------------------------------------------------------------------ */

/* A claim block decodes into its parts: strategies (a+b too), figures, operator, a time
 * read in seconds, a share tolerance, a ratio, a verdict word; the judgement follows. */
Test(file, claims_decode_and_judge)
{
    const char *text =
        "name: c\nduration: 10s\nherd: db\n"
        "components:\n"
        "  users: {kind: clients, clients: 10, rate: 5, call: {to: db, timeout: 1s}}\n"
        "  db: {kind: service, workers: 4, service_time: 1ms}\n"
        "mitigations:\n"
        "  more: {set: {components.db.workers: 8}}\n"
        "  less: {set: {components.db.service_time: 500us}}\n"
        "claim:\n"
        "  - {says: drains, check: naive.components.db.backlog within 10s 5%}\n"
        "  - {says: falls, check: \"naive.peak / more+less.peak >= 100\"}\n"
        "  - {says: heals, check: more.recovery.verdict == recovered}\n"
        "  - {says: fast, check: less.latency.p99 < 250ms}\n";
    struct herd_fleet_file *f = parse(text);
    cr_assert_eq(herd_fleet_file_nclaims(f), 4);
    const struct herd_fleet_claim *c = herd_fleet_file_claim(f, 0);
    cr_expect_str_eq(c->says, "drains");
    cr_expect_str_eq(c->strategy[0], "naive");
    cr_expect_str_eq(c->figure[0], "components.db.backlog");
    cr_expect_str_eq(c->strategy[1], "");
    cr_expect_eq(c->op, HERD_CLAIM_WITHIN);
    cr_expect_float_eq(c->value, 10.0, 1e-9);
    cr_expect(c->tol_share);
    cr_expect_float_eq(c->tol, 0.05, 1e-9);
    cr_expect(herd_fleet_claim_holds(c, 10.4, NULL));
    cr_expect(!herd_fleet_claim_holds(c, 10.6, NULL));
    cr_expect(!herd_fleet_claim_holds(c, NAN, NULL), "an unmeasured value fails");
    c = herd_fleet_file_claim(f, 1);
    cr_expect_str_eq(c->strategy[1], "more+less");
    cr_expect_str_eq(c->figure[1], "peak");
    cr_expect_eq(c->op, HERD_CLAIM_GE);
    cr_expect(herd_fleet_claim_holds(c, 100, NULL) && !herd_fleet_claim_holds(c, 99.9, NULL));
    c = herd_fleet_file_claim(f, 2);
    cr_expect_str_eq(c->word, "recovered");
    cr_expect(herd_fleet_claim_holds(c, 0, "recovered") && !herd_fleet_claim_holds(c, 0, "stuck"));
    c = herd_fleet_file_claim(f, 3);
    cr_expect_float_eq(c->value, 0.25, 1e-12);
    cr_expect_eq(c->op, HERD_CLAIM_LT);
    /* A version (--set) shares its loaded file's claims. */
    const struct herd_fleet_file *v;
    char err[512];
    cr_assert_eq(herd_fleet_file_set(f, "--set", "components.db.workers", "2", &v, err, sizeof err),
                 0, "%s", err);
    cr_expect_eq(herd_fleet_file_nclaims(v), 4);
    herd_fleet_file_free(f);
}
