/* lock.c — the distributed-lock retry storm's catalogue row, parameters and decoder
 * (lock.h). Seed 000: 5,000 workers coordinate through a lock in Redis; they all retry
 * with the same timeout, the lock service slows, timeouts and retries feed each other. */
#include "scenario.h"

#include "scenario_int.h"

static const struct herd_strategy_def strategies[] = {
    HERD_LOCK_STRATEGIES(HERD_STRATEGY_DEF){NULL, 0, NULL},
};

enum {
    P_SERVICE,
    P_HOLD_US,
    P_RETRY_MS,
    P_CAP_MS,
    P_LEASE_MS,
    P_DEADLINE_MS,
    P_URL,
};

static const struct herd_param_def params[] = {
    [P_SERVICE] = {"service",
                   HERD_PARAM_ENUM,
                   0,
                   0,
                   0,
                   "",
                   {"redis", NULL},
                   "the lock service: a private redis-server herd starts for the run (on a "
                   "Unix socket in a temporary directory) and stops afterwards"},
    [P_HOLD_US] = {"hold_us",
                   HERD_PARAM_INT,
                   1000,
                   0,
                   1000000,
                   "us",
                   {NULL},
                   "the holder's work with the lock held"},
    [P_RETRY_MS] = {"retry_ms",
                    HERD_PARAM_INT,
                    10,
                    1,
                    10000,
                    "ms",
                    {NULL},
                    "same-timeout: the retry interval after a failed SET NX; backoff: the "
                    "shortest wait"},
    [P_CAP_MS] =
        {"cap_ms", HERD_PARAM_INT, 500, 1, 60000, "ms", {NULL}, "backoff: the longest wait"},
    [P_LEASE_MS] = {"lease_ms",
                    HERD_PARAM_INT,
                    5000,
                    10,
                    600000,
                    "ms",
                    {NULL},
                    "the lock's lease (SET PX): it expires on its own past this"},
    [P_DEADLINE_MS] = {"deadline_ms",
                       HERD_PARAM_INT,
                       60000,
                       10,
                       3600000,
                       "ms",
                       {NULL},
                       "a worker gives up (failed) this long after the trigger"},
    [P_URL] = {"url",
               HERD_PARAM_TEXT,
               0,
               0,
               0,
               "",
               {NULL},
               "your own Redis instead of herd's private one: redis://HOST[:PORT][/DB] or "
               "redis+unix:///PATH (no password). herd writes only the keys herd:lock and "
               "herd:lock:queue (SET, DEL, RPUSH) and reads INFO; the server's counts then "
               "include its other clients"},
    {NULL, 0, 0, 0, 0, NULL, {NULL}, NULL},
};

static void decode(const double *p, int strategy, union herd_scenario_config *out)
{
    out->lock = (struct herd_lock_config){
        .strategy = (enum herd_lock_strategy)strategy,
        .service = (enum herd_lock_service)p[P_SERVICE],
        .hold_ns = herd__us_ns(p[P_HOLD_US]),
        .retry_ns = herd__ms_ns(p[P_RETRY_MS]),
        .cap_ns = herd__ms_ns(p[P_CAP_MS]),
        .lease_ns = herd__ms_ns(p[P_LEASE_MS]),
        .deadline_ns = herd__ms_ns(p[P_DEADLINE_MS]),
        .external = p[P_URL] != 0,
    };
}

static int validate(const struct herd_run_spec *spec, char *err, size_t errlen)
{
    const struct herd_lock_config *c = &spec->cfg.lock;
    if (c->cap_ns < c->retry_ns) {
        snprintf(err, errlen, "--set cap_ms: must be at least retry_ms");
        return -1;
    }
    return 0;
}

HERD__TABLES_FIT(params, strategies);

const struct herd_scenario herd_scenario_lock = {
    .id = HERD_SC_LOCK,
    .name = "lock",
    .backends = HERD_BACKENDS_LOCK,
    .summary = "N workers need the same Redis lock at once and retry until they get it",
    .trigger = "N workers need the lock at the same moment",
    .waiters = "N worker threads, each with its own connection to Redis",
    .resource = "the lock service (a real redis-server)",
    .n_default = 200,
    .events_default = 5,
    .waiter_noun = "worker",
    .strategies = strategies,
    .default_mitigation = HERD_LOCK_QUEUE,
    .params = params,
    .decode = decode,
    .validate = validate,
};
