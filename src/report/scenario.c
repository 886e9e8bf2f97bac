/* scenario.c — the catalogue of scenarios (DESIGN §3) and run-spec validation.
 * Every range here is what `herd list` prints and what the CLI and the web API
 * enforce; change a range here and every front end follows. */
#include "scenario.h"

#include <assert.h>
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- accept ------------------------------------------------------------------- */

static const struct herd_mitigation_def accept_mitigations[] = {
    {"epoll-exclusive", "wake fewer",
     "each worker's epoll adds the socket with EPOLLEXCLUSIVE (Linux 4.5): one wake per "
     "connection"},
    {"reuseport", "spread in space",
     "a listening socket per worker with SO_REUSEPORT: the kernel hashes each connection "
     "to one socket"},
    {"blocking-accept", "wake fewer",
     "workers sleep in accept() itself, which wakes exclusively (since Linux 2.6)"},
    {NULL, NULL, NULL},
};

static const struct herd_param_def accept_params[] = {
    {"workers", HERD_PARAM_ENUM, 0, 0, 0, "", {"thread", "process", NULL},
     "waiters are threads of one process or forked processes"},
    {"pattern", HERD_PARAM_ENUM, 0, 0, 0, "", {"serial", "burst", NULL},
     "serial: one connection at a time, each settled before the next; burst: all at once"},
    {"settle_ms", HERD_PARAM_INT, 500, 1, 10000, "ms", {NULL},
     "longest wait for the woken waiters to go back to sleep after an event"},
    {"cores", HERD_PARAM_INT, 0, 0, 4096, "cores", {NULL},
     "sim: CPUs the workers share (0: the calibrated profile's)"},
    {NULL, 0, 0, 0, 0, NULL, {NULL}, NULL},
};

static const struct herd_scenario accept_scenario = {
    .name = "accept",
    .backends = HERD_BACKEND_LIVE | HERD_BACKEND_SIM,
    .summary = "N workers wait on one listening socket; a connection arrives",
    .trigger = "a connection arrives on 127.0.0.1",
    .waiters = "N workers (threads or processes), each in epoll_wait or accept",
    .resource = "the listening socket and the CPUs",
    .naive = "epoll",
    .naive_help = "each worker's own epoll watches the shared socket, level-triggered, "
                  "without EPOLLEXCLUSIVE: every connection wakes every worker",
    .n_default = 1000,
    .events_default = 50,
    .waiter_noun = "worker",
    .mitigations = accept_mitigations,
    .default_mitigation = "epoll-exclusive",
    .params = accept_params,
};

/* ---- condvar ------------------------------------------------------------------ */

static const struct herd_mitigation_def condvar_mitigations[] = {
    {"signal", "wake fewer",
     "pthread_cond_signal (or FUTEX_WAKE of 1 with primitive=futex): one item, one wake"},
    {NULL, NULL, NULL},
};

static const struct herd_param_def condvar_params[] = {
    {"primitive", HERD_PARAM_ENUM, 0, 0, 0, "", {"pthread", "futex", NULL},
     "pthread_cond_t guarding a queue, or a raw futex word (FUTEX_WAKE all vs 1)"},
    {"settle_ms", HERD_PARAM_INT, 500, 1, 10000, "ms", {NULL},
     "longest wait for the woken waiters to go back to sleep after an event"},
    {"cores", HERD_PARAM_INT, 0, 0, 4096, "cores", {NULL},
     "sim: CPUs the threads share (0: the calibrated profile's)"},
    {NULL, 0, 0, 0, 0, NULL, {NULL}, NULL},
};

static const char *condvar_strategy(const struct herd_run_spec *spec)
{
    if (strcmp(herd_spec_choice(spec, "primitive"), "futex") != 0)
        return NULL;
    return spec->mode == HERD_MODE_NAIVE ? "futex-wake-all" : "futex-wake-one";
}

static const struct herd_scenario condvar_scenario = {
    .name = "condvar",
    .backends = HERD_BACKEND_LIVE | HERD_BACKEND_SIM,
    .summary = "N threads wait on a condition variable; one item is queued",
    .trigger = "the producer queues one item",
    .waiters = "N threads in pthread_cond_wait (or FUTEX_WAIT)",
    .resource = "the mutex guarding the queue",
    .naive = "broadcast",
    .naive_help = "pthread_cond_broadcast (futex-wake-all with primitive=futex): every "
                  "waiter wakes and races for the mutex",
    .n_default = 1000,
    .events_default = 100,
    .waiter_noun = "thread",
    .mitigations = condvar_mitigations,
    .default_mitigation = "signal",
    .params = condvar_params,
    .strategy = condvar_strategy,
};

/* ---- cache -------------------------------------------------------------------- */

static const struct herd_mitigation_def cache_mitigations[] = {
    {"singleflight", "coalesce",
     "the first miss queries the origin; the others wait for it and share its result"},
    {"swr", "spread in time",
     "stale-while-revalidate: serve the expired value while one refresh runs"},
    {"xfetch", "spread in time",
     "probabilistic early refresh (Vattani et al., 2015): refresh before expiry with "
     "probability exp(-ttl_left / (delta * beta)), through singleflight"},
    {"ttl-jitter", "spread in time",
     "each key's TTL is drawn from ttl * (1 +- jitter_pct): keys filled together expire "
     "apart"},
    {NULL, NULL, NULL},
};

static const struct herd_param_def cache_params[] = {
    {"origin", HERD_PARAM_ENUM, 0, 0, 0, "", {"sqlite", NULL},
     "the origin database: an embedded SQLite file in WAL mode, one connection per "
     "requester"},
    {"rows", HERD_PARAM_INT, 50000, 1000, 5000000, "rows", {NULL},
     "rows in the origin's table; the hot query aggregates over all of them"},
    {"ttl_ms", HERD_PARAM_INT, 200, 10, 60000, "ms", {NULL},
     "time to live of a cached value"},
    {"period_us", HERD_PARAM_INT, 2000, 50, 1000000, "us", {NULL},
     "each requester asks for its key once per period"},
    {"lead_ms", HERD_PARAM_INT, 50, 0, 10000, "ms", {NULL},
     "requests run this long before the expiry (XFetch refreshes early in it)"},
    {"keys", HERD_PARAM_INT, 1, 1, 1000, "keys", {NULL},
     "hot keys filled at the same moment; requester i asks for key i mod keys"},
    {"beta", HERD_PARAM_DOUBLE, 1.0, 0.0, 100.0, "", {NULL},
     "XFetch's beta: > 1 favours earlier refreshes, 0 disables them"},
    {"jitter_pct", HERD_PARAM_INT, 20, 0, 100, "%", {NULL},
     "ttl-jitter: TTLs drawn uniformly in ttl * (1 +- jitter_pct/100)"},
    {"stale_ms", HERD_PARAM_INT, 5000, 0, 600000, "ms", {NULL},
     "swr: how long past its TTL a value may still be served while it refreshes"},
    {"origin_workers", HERD_PARAM_INT, 0, 0, 100000, "workers", {NULL},
     "sim: queries the origin runs at once (0: the calibrated profile's cores)"},
    {"usl_sigma", HERD_PARAM_DOUBLE, 0, 0, 1, "", {NULL},
     "sim: the origin's contention (Universal Scalability Law sigma) over the queries it "
     "holds"},
    {"usl_kappa", HERD_PARAM_DOUBLE, 0.000005, 0, 1, "", {NULL},
     "sim: the origin's coherency cost (USL kappa) over the queries it holds: negligible "
     "at N = 100, it makes p99 grow faster than N past a few hundred"},
    {NULL, 0, 0, 0, 0, NULL, {NULL}, NULL},
};

static const struct herd_scenario cache_scenario = {
    .name = "cache",
    .backends = HERD_BACKEND_LIVE | HERD_BACKEND_SIM,
    .summary = "N requesters ask for one hot key at the moment its cache entry expires",
    .trigger = "the hot key's TTL runs out",
    .waiters = "N requester threads, each with its own database connection",
    .resource = "the origin database (a real SQLite aggregate query)",
    .naive = "every-miss",
    .naive_help = "every requester that misses queries the origin itself",
    .n_default = 200,
    .events_default = 5,
    .waiter_noun = "requester",
    .mitigations = cache_mitigations,
    .default_mitigation = "singleflight",
    .params = cache_params,
};

/* ---- cron --------------------------------------------------------------------- */

static const struct herd_mitigation_def cron_mitigations[] = {
    {"jitter", "spread in time",
     "each client sleeps a uniform random delay in [0, window) after the boundary "
     "(sleep $((RANDOM % 60)))"},
    {"splay", "spread in time",
     "each client waits a stable offset in [0, window) from a hash of its id, as "
     "systemd's RandomizedDelaySec with FixedRandomDelay=yes"},
    {NULL, NULL, NULL},
};

static const struct herd_param_def cron_params[] = {
    {"window_ms", HERD_PARAM_INT, 500, 1, 600000, "ms", {NULL},
     "jitter or splay window (time compressed: 500 ms stands for a minute)"},
    {"period_ms", HERD_PARAM_INT, 1000, 100, 3600000, "ms", {NULL},
     "the schedule: clients fire at wall-clock multiples of this period"},
    {"backend_workers", HERD_PARAM_INT, 4, 1, 256, "workers", {NULL},
     "the backend's fixed pool of workers"},
    {"work_us", HERD_PARAM_INT, 200, 1, 1000000, "us", {NULL},
     "real CPU work the backend does per request"},
    {"timeout_ms", HERD_PARAM_INT, 10000, 1, 600000, "ms", {NULL},
     "a client gives up on its request after this long"},
    {"skew_ms", HERD_PARAM_DOUBLE, 1.0, 0, 60000, "ms", {NULL},
     "sim: standard deviation of the clients' clock skew (NTP-synced hosts: ~1 ms)"},
    {NULL, 0, 0, 0, 0, NULL, {NULL}, NULL},
};

static const struct herd_scenario cron_scenario = {
    .name = "cron",
    .backends = HERD_BACKEND_LIVE | HERD_BACKEND_SIM,
    .summary = "N clients with the same crontab line call one backend at the boundary",
    .trigger = "the wall clock reaches the schedule's boundary",
    .waiters = "N client threads sleeping until the boundary (CLOCK_REALTIME)",
    .resource = "the backend's worker pool and queue",
    .naive = "at-boundary",
    .naive_help = "every client fires at the boundary itself",
    .n_default = 500,
    .events_default = 1,
    .waiter_noun = "client",
    .mitigations = cron_mitigations,
    .default_mitigation = "jitter",
    .params = cron_params,
};

/* ---- queue (sim only): the organic-traffic baseline ----------------------------- */

static const struct herd_mitigation_def queue_mitigations[] = {
    {"shed", "protect",
     "load shedding: a request that waited longer than shed_ms is dropped before service"},
    {NULL, NULL, NULL},
};

static const struct herd_param_def queue_params[] = {
    {"rate", HERD_PARAM_DOUBLE, 1600, 0.001, 1e9, "req/s", {NULL},
     "open Poisson arrival rate (lambda)"},
    {"servers", HERD_PARAM_INT, 1, 1, 100000, "workers", {NULL}, "workers serving the queue (c)"},
    {"service", HERD_PARAM_ENUM, 0, 0, 0, "", {"exp", "det", "lognormal", NULL},
     "service-time distribution: exponential (M/M/c), deterministic (M/D/c), log-normal"},
    {"service_us", HERD_PARAM_DOUBLE, 500, 0.001, 1e9, "us", {NULL},
     "mean service time (1/mu)"},
    {"duration_s", HERD_PARAM_DOUBLE, 10, 0.001, 1e6, "s", {NULL}, "simulated time of arrivals"},
    {"queue_cap", HERD_PARAM_INT, 0, 0, 100000000, "requests", {NULL},
     "queue capacity (0: unbounded)"},
    {"shed_ms", HERD_PARAM_DOUBLE, 100, 0, 1e9, "ms", {NULL}, "shed: the longest wait allowed"},
    {NULL, 0, 0, 0, 0, NULL, {NULL}, NULL},
};

static const struct herd_scenario queue_scenario = {
    .name = "queue",
    .backends = HERD_BACKEND_SIM,
    .summary = "open Poisson traffic into c workers: the organic baseline a herd is compared to",
    .trigger = "requests arrive at random (Poisson) times",
    .waiters = "requests queued for c workers",
    .resource = "the workers",
    .naive = "fifo",
    .naive_help = "an unbounded (or queue_cap) first-in first-out queue",
    .n_default = 1,
    .events_default = 1,
    .waiter_noun = "request",
    .mitigations = queue_mitigations,
    .default_mitigation = "shed",
    .params = queue_params,
};

/* ---- backoff-occ (sim only): Brooker's 2015 study --------------------------------- */

static const struct herd_mitigation_def occ_mitigations[] = {
    {"exponential", "spread in time", "wait expo(n) = min(cap, base * 2^n): lock step, spread out"},
    {"full-jitter", "spread in time", "wait U(0, expo(n)): least total work (AWS 2015)"},
    {"equal-jitter", "spread in time", "wait expo(n)/2 + U(0, expo(n)/2)"},
    {"decorrelated-jitter", "spread in time",
     "per client: sleep = min(cap, U(base, 3 * sleep)), starting at base"},
    {NULL, NULL, NULL},
};

static const struct herd_param_def occ_params[] = {
    {"hop_ms", HERD_PARAM_DOUBLE, 10, 0, 60000, "ms", {NULL}, "mean network hop (Normal)"},
    {"hop_sd_ms", HERD_PARAM_DOUBLE, 2, 0, 60000, "ms", {NULL},
     "hop standard deviation; a hop takes |Normal(hop_ms, hop_sd_ms)|"},
    {"base_ms", HERD_PARAM_DOUBLE, 5, 0, 60000, "ms", {NULL}, "backoff base"},
    {"cap_ms", HERD_PARAM_DOUBLE, 2000, 0, 3600000, "ms", {NULL}, "backoff cap"},
    {NULL, 0, 0, 0, 0, NULL, {NULL}, NULL},
};

static const struct herd_scenario occ_scenario = {
    .name = "backoff-occ",
    .backends = HERD_BACKEND_SIM,
    .summary = "N clients race to update one row under optimistic concurrency (AWS 2015 study)",
    .trigger = "every client starts at t = 0",
    .waiters = "N clients reading a version, then writing conditionally",
    .resource = "the row (every conditional write received is work)",
    .naive = "no-backoff",
    .naive_help = "a failed client re-reads at once (after one hop)",
    .n_default = 100,
    .events_default = 1,
    .waiter_noun = "client",
    .mitigations = occ_mitigations,
    .default_mitigation = "full-jitter",
    .params = occ_params,
};

const struct herd_scenario *const herd_scenarios[] = {
    &accept_scenario, &condvar_scenario, &cache_scenario, &cron_scenario,
    &queue_scenario,  &occ_scenario,     NULL,
};

/* ---- lookups ------------------------------------------------------------------ */

const struct herd_scenario *herd_scenario_find(const char *name)
{
    for (int i = 0; herd_scenarios[i]; i++)
        if (strcmp(herd_scenarios[i]->name, name) == 0)
            return herd_scenarios[i];
    return NULL;
}

int herd_scenario_nparams(const struct herd_scenario *sc)
{
    int n = 0;
    while (sc->params[n].key)
        n++;
    return n;
}

int herd_scenario_nmitigations(const struct herd_scenario *sc)
{
    int n = 0;
    while (sc->mitigations[n].name)
        n++;
    return n;
}

int herd_scenario_param_index(const struct herd_scenario *sc, const char *key)
{
    for (int i = 0; sc->params[i].key; i++)
        if (strcmp(sc->params[i].key, key) == 0)
            return i;
    return -1;
}

int herd_scenario_mitigation_index(const struct herd_scenario *sc, const char *name)
{
    for (int i = 0; sc->mitigations[i].name; i++)
        if (strcmp(sc->mitigations[i].name, name) == 0)
            return i;
    return -1;
}

void herd_spec_init(struct herd_run_spec *spec, const struct herd_scenario *sc)
{
    memset(spec, 0, sizeof *spec);
    spec->sc = sc;
    spec->mode = HERD_MODE_NAIVE;
    spec->mitigation = -1;
    spec->n = sc->n_default;
    spec->events = sc->events_default;
    spec->seed = 1;
    for (int i = 0; sc->params[i].key; i++)
        spec->params[i] = sc->params[i].def;
}

static void join_choices(const struct herd_param_def *p, char *buf, size_t len)
{
    size_t off = 0;
    buf[0] = '\0';
    for (int i = 0; p->choices[i] && off < len; i++)
        off += (size_t)snprintf(buf + off, len - off, "%s%s", i ? ", " : "", p->choices[i]);
}

int herd_parse_int(const char *flag, const char *text, int64_t min, int64_t max, int64_t *out,
                   char *err, size_t errlen)
{
    char *end;
    errno = 0;
    long long v = strtoll(text, &end, 10);
    if (errno || end == text || *end != '\0') {
        snprintf(err, errlen, "%s: expected a whole number from %" PRId64 " to %" PRId64
                 ", got '%s'", flag, min, max, text);
        return -1;
    }
    if (v < min || v > max) {
        snprintf(err, errlen, "%s: %lld is out of range; allowed: %" PRId64 " to %" PRId64,
                 flag, v, min, max);
        return -1;
    }
    *out = v;
    return 0;
}

int herd_spec_set(struct herd_run_spec *spec, const char *kv, char *err, size_t errlen)
{
    const struct herd_scenario *sc = spec->sc;
    const char *eq = strchr(kv, '=');
    char key[64], flag[96], allowed[256];
    size_t klen = eq ? (size_t)(eq - kv) : strlen(kv);

    if (klen >= sizeof key)
        klen = sizeof key - 1;
    memcpy(key, kv, klen);
    key[klen] = '\0';
    int i = herd_scenario_param_index(sc, key);
    if (i < 0) {
        size_t off = 0;
        allowed[0] = '\0';
        for (int j = 0; sc->params[j].key && off < sizeof allowed; j++)
            off += (size_t)snprintf(allowed + off, sizeof allowed - off, "%s%s", j ? ", " : "",
                                    sc->params[j].key);
        snprintf(err, errlen, "--set %s: unknown key for scenario %s; allowed: %s", key,
                 sc->name, allowed);
        return -1;
    }
    const struct herd_param_def *p = &sc->params[i];
    snprintf(flag, sizeof flag, "--set %s", key);
    if (!eq) {
        snprintf(err, errlen, "%s: expected KEY=VALUE", flag);
        return -1;
    }
    const char *val = eq + 1;
    if (p->type == HERD_PARAM_ENUM) {
        for (int c = 0; p->choices[c]; c++) {
            if (strcmp(p->choices[c], val) == 0) {
                spec->params[i] = c;
                return 0;
            }
        }
        join_choices(p, allowed, sizeof allowed);
        snprintf(err, errlen, "%s: '%s' is not allowed; allowed: %s", flag, val, allowed);
        return -1;
    }
    if (p->type == HERD_PARAM_INT) {
        int64_t v;
        if (herd_parse_int(flag, val, (int64_t)p->min, (int64_t)p->max, &v, err, errlen) < 0)
            return -1;
        spec->params[i] = (double)v;
        return 0;
    }
    char *end;
    errno = 0;
    double d = strtod(val, &end);
    if (errno || end == val || *end != '\0' || !isfinite(d)) {
        snprintf(err, errlen, "%s: expected a number from %g to %g, got '%s'", flag, p->min,
                 p->max, val);
        return -1;
    }
    if (d < p->min || d > p->max) {
        snprintf(err, errlen, "%s: %g is out of range; allowed: %g to %g", flag, d, p->min,
                 p->max);
        return -1;
    }
    spec->params[i] = d;
    return 0;
}

double herd_spec_param(const struct herd_run_spec *spec, const char *key)
{
    int i = herd_scenario_param_index(spec->sc, key);
    assert(i >= 0);
    return spec->params[i];
}

const char *herd_spec_choice(const struct herd_run_spec *spec, const char *key)
{
    int i = herd_scenario_param_index(spec->sc, key);
    assert(i >= 0 && spec->sc->params[i].type == HERD_PARAM_ENUM);
    return spec->sc->params[i].choices[(int)spec->params[i]];
}

const char *herd_spec_strategy(const struct herd_run_spec *spec)
{
    const char *special = spec->sc->strategy ? spec->sc->strategy(spec) : NULL;
    if (special)
        return special;
    if (spec->mode == HERD_MODE_NAIVE || spec->mitigation < 0)
        return spec->sc->naive;
    return spec->sc->mitigations[spec->mitigation].name;
}

const char *herd_spec_mitigation(const struct herd_run_spec *spec)
{
    if (spec->mode == HERD_MODE_NAIVE || spec->mitigation < 0)
        return "none";
    return spec->sc->mitigations[spec->mitigation].name;
}

void herd_spec_format_param(const struct herd_run_spec *spec, int i, char *buf, size_t len)
{
    const struct herd_param_def *p = &spec->sc->params[i];
    if (p->type == HERD_PARAM_ENUM)
        snprintf(buf, len, "%s", p->choices[(int)spec->params[i]]);
    else if (p->type == HERD_PARAM_INT)
        snprintf(buf, len, "%.0f", spec->params[i]);
    else
        snprintf(buf, len, "%g", spec->params[i]);
}

void herd_scenario_names(char *buf, size_t len)
{
    size_t off = 0;
    buf[0] = '\0';
    for (int i = 0; herd_scenarios[i] && off < len; i++)
        off += (size_t)snprintf(buf + off, len - off, "%s%s", i ? ", " : "",
                                herd_scenarios[i]->name);
}

void herd_mitigation_names(const struct herd_scenario *sc, char *buf, size_t len)
{
    size_t off = 0;
    buf[0] = '\0';
    for (int i = 0; sc->mitigations[i].name && off < len; i++)
        off += (size_t)snprintf(buf + off, len - off, "%s%s", i ? ", " : "",
                                sc->mitigations[i].name);
}
