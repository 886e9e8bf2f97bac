/* file_schema.c — the scenario file's schema: one table per part (the top level, each kind
 * of component, a call, a retry policy, a rate point, a fault, a mitigation), and the
 * decoder that turns a tree (file_int.h) into a struct herd_fleet through them.
 *
 * The tables are the one source of truth: the decoder validates against them (type,
 * unit, default, range or choices, required), `--set` and mitigations reach fields only
 * through them, and docs/scenario-file.md's field reference is printed from them
 * (herd__schema_markdown; tests/unit/test_file.c fails when the doc differs). A field
 * added to struct herd_fleet is one row here.
 *
 * Every refusal is one line: "origin:line:col: path.to.field: what is wrong; allowed:
 * what is". The decoder stops at the first.
 * Cost: one pass over the tree, a few string compares per key. No allocation.
 */
#include "file_int.h"

#include "../report/report.h"

#include <assert.h>
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- choices, in their enums' order ------------------------------------------------ */

const char *const herd__fleet_kind_names[] = {
#define KIND_NAME(id, name, help) name,
    HERD_FLEET_KINDS(KIND_NAME)
#undef KIND_NAME
        NULL,
};
const char *const herd__fleet_fault_names[] = {
#define FAULT_NAME(id, name, help) name,
    HERD_FLEET_FAULTS(FAULT_NAME)
#undef FAULT_NAME
        NULL,
};
static const char *const arrivals[] = {"open", "closed", "periodic", "triggered", NULL};
static const char *const dists[] = {"constant", "exponential", "lognormal", "uniform", NULL};
static const char *const backoffs[] = {"none", "constant",     "exponential", "full",
                                       "equal", "decorrelated", "brooker",     NULL};
static const char *const budgets[] = {"none", "aws", "finagle", "grpc", "per-client", NULL};
static const char *const breakers[] = {"none", "shared", "per-client", NULL};
static const char *const disciplines[] = {"fifo", "lifo", "drop-oldest", NULL};
static const char *const admissions[] = {"all", "token-bucket", "limiter", "throttle", NULL};
static const char *const ops[] = {"none", "lock", "leader", NULL};
static const char *const locks[] = {"notify-all", "notify-one", "poll", NULL};

/* A mitigation's family (scenario.h's HERD_FAMILIES after naive, in its order). */
const char *const herd__family_names[] = {"protect",     "wake-fewer",   "coalesce",
                                          "spread-time", "spread-space", NULL};

#define NCHOICES(a) (sizeof(a) / sizeof((a)[0]) - 1)
_Static_assert(NCHOICES(herd__fleet_kind_names) == HERD_FLEET_NKINDS, "kinds");
_Static_assert(NCHOICES(herd__fleet_fault_names) == HERD_FLEET_NFAULT_KINDS, "faults");
_Static_assert(NCHOICES(arrivals) == HERD_FLEET_TRIGGERED + 1, "arrivals");
_Static_assert(NCHOICES(dists) == HERD_FLEET_DIST_UNIFORM + 1, "dists");
_Static_assert(NCHOICES(backoffs) == HERD_FLEET_BACKOFF_BROOKER + 1, "backoffs");
_Static_assert(NCHOICES(budgets) == HERD_FLEET_BUDGET_PER_CLIENT + 1, "budgets");
_Static_assert(NCHOICES(breakers) == HERD_FLEET_BREAKER_PER_CLIENT + 1, "breakers");
_Static_assert(NCHOICES(disciplines) == HERD_FLEET_DROP_OLDEST + 1, "disciplines");
_Static_assert(NCHOICES(admissions) == HERD_FLEET_ADMIT_THROTTLE + 1, "admissions");
_Static_assert(NCHOICES(ops) == HERD_FLEET_OP_LEADER + 1, "ops");
_Static_assert(NCHOICES(locks) == HERD_FLEET_LOCK_POLL + 1, "locks");

/* ---- the tables -------------------------------------------------------------------- */

#define DAY_S 86400.0
#define MSIZE(T, m) sizeof(((T *)0)->m)
#define INT(k, T, m, d, lo, hi, u, h)                                                       \
    .key = k, .type = HERD__F_INT, .off = offsetof(T, m), .width = (int)MSIZE(T, m), .def = d, \
    .min = lo, .max = hi, .unit = u, .help = h
#define DBL(k, T, m, d, lo, hi, u, h)                                                       \
    .key = k, .type = HERD__F_DOUBLE, .off = offsetof(T, m), .width = (int)MSIZE(T, m),     \
    .def = d, .min = lo, .max = hi, .unit = u, .help = h
#define DUR(k, T, m, d, lo, hi, h)                                                          \
    .key = k, .type = HERD__F_DURATION, .off = offsetof(T, m), .width = (int)MSIZE(T, m),   \
    .def = d, .min = lo, .max = hi, .unit = "s", .help = h
#define BOOL(k, T, m, d, h)                                                                 \
    .key = k, .type = HERD__F_BOOL, .off = offsetof(T, m), .width = (int)MSIZE(T, m),       \
    .def = d, .max = 1, .unit = "", .help = h
#define ENUM(k, T, m, d, c, h)                                                              \
    .key = k, .type = HERD__F_ENUM, .off = offsetof(T, m), .width = (int)MSIZE(T, m),       \
    .def = d, .choices = c, .unit = "", .help = h
#define REF(k, T, m, h)                                                                     \
    .key = k, .type = HERD__F_REF, .off = offsetof(T, m), .width = (int)MSIZE(T, m),        \
    .def = -1, .unit = "", .help = h
#define MAP(k, T, m, t, h)                                                                  \
    .key = k, .type = HERD__F_MAP, .off = offsetof(T, m), .sub = &t, .unit = "", .help = h
#define LIST(k, T, m, n, t, mx, h)                                                          \
    .key = k, .type = HERD__F_LIST, .off = offsetof(T, m), .count_off = offsetof(T, n),     \
    .sub = &t, .max_items = mx, .unit = "", .help = h

typedef struct herd_fleet_retry R;
typedef struct herd_fleet_call C;
typedef struct herd_fleet_component K;
typedef struct herd_fleet_fault F;
typedef struct herd_fleet_curve_point P;
typedef struct herd_fleet_conn N;
typedef struct herd_fleet T;

static const struct herd__field retry_fields[] = {
    {INT("attempts", R, max_attempts, 1, 1, 100, "attempts",
         "attempts in all, the first included; 1 never retries")},
    {ENUM("backoff", R, backoff, HERD_FLEET_BACKOFF_NONE, backoffs,
          "the wait before a retry: none (at once), constant (base), exponential (base·2^(n−1) "
          "up to cap), full, equal or decorrelated jitter (libherd), brooker (U(0,1)·b, b "
          "from base, doubling before each retry)")},
    {DUR("base", R, base_ns, 0.1, 0, DAY_S, "the backoff's first or constant wait")},
    {DUR("cap", R, cap_ns, 0, 0, DAY_S, "no wait is longer; 0: no cap")},
    {BOOL("on_timeout", R, retry_on_timeout, 1,
          "retry an attempt that timed out, not only one that failed")},
    {ENUM("budget", R, budget, HERD_FLEET_BUDGET_NONE, budgets,
          "who may retry: none (everyone), aws (libherd token bucket shared by the caller), "
          "finagle (ratio budget), grpc (retry throttling), per-client (Brooker's bucket per "
          "client)")},
    {DBL("budget_ratio", R, budget_ratio, 0.1, 0, 100, "ratio",
         "finagle: retries per request; grpc: the token ratio")},
    {INT("budget_tokens", R, budget_tokens, 10, 1, 1000000, "tokens",
         "aws, grpc, per-client: the bucket's size")},
    {DBL("budget_refill", R, budget_refill, 0.1, 0, 100, "tokens",
         "per-client: tokens added per call")},
    {ENUM("breaker", R, breaker, HERD_FLEET_BREAKER_NONE, breakers,
          "what stops calls to a failing callee: none, shared (libherd circuit breaker, one "
          "per caller), per-client (retry only while failures / calls <= breaker_ratio)")},
    {DBL("breaker_ratio", R, breaker_ratio, 0.5, 0, 1, "ratio",
         "shared: the failure rate that trips it; per-client: the ratio"),
     .excl_min = true},
    {DUR("breaker_open", R, breaker_open_ns, 5, 0, DAY_S,
         "shared: how long it stays open the first time")},
    {DUR("hedge", R, hedge_ns, 0, 0, DAY_S,
         "send a second attempt when none answered after this; 0: never")},
    {NULL},
};
static const struct herd__table retry_table = {
    "retry", "How a caller retries a call (under `call.retry`).", sizeof(R), retry_fields};

static const struct herd__field call_fields[] = {
    {REF("to", C, to, "the component called: a service, a cache, an lb or a coord"),
     .required = true},
    {ENUM("op", C, op, HERD_FLEET_OP_NONE, ops,
          "a coord's callers (needed there, refused elsewhere): lock (acquire the lock of the "
          "call's key, hold it, release; answered at the release), leader (a request only "
          "the leader serves; fails at once while there is none)")},
    {DUR("hold", C, hold_ns, 0.01, 0, DAY_S, "lock: how long the caller holds the lock")},
    {DUR("timeout", C, timeout_ns, 0, 0, DAY_S,
         "per attempt, from its send; the caller gives up after it; 0: never")},
    {DUR("net", C, net_ns, 0, 0, DAY_S, "one-way network latency, mean")},
    {ENUM("net_dist", C, net_dist, HERD_FLEET_DIST_CONSTANT, dists,
          "the network latency's distribution (uniform: U[0, 2·mean])")},
    {DBL("net_sigma", C, net_sigma, 0.5, 0, 5, "", "lognormal: the sd of the log")},
    {MAP("retry", C, retry, retry_table, "the retry policy (below)")},
    {NULL},
};
static const struct herd__table call_table = {
    "call", "One call from a component to another (`call:` of clients and caches, each item "
    "of a service's `calls:`).", sizeof(C), call_fields};

static const struct herd__field point_fields[] = {
    {DUR("at", P, t_ns, 0, 0, DAY_S, "from the run's start"), .required = true},
    {DBL("per_s", P, rate_per_s, 0, 0, 1e9, "req/s", "the arrival rate at that time"),
     .required = true},
    {NULL},
};
static const struct herd__table point_table = {
    "rate point", "A point of an open fleet's rate curve (an item of `rate:`): the rate is "
    "linear between points (two points at one time make a step) and constant after the "
    "last.", sizeof(P), point_fields};

static const struct herd__field conn_fields[] = {
    {BOOL("persistent", N, persistent, 1,
          "keep one connection per client, open at the start; false: each attempt opens a new "
          "one (and pays a handshake)")},
    {ENUM("reconnect", N, reconnect, HERD_FLEET_BACKOFF_NONE, backoffs,
          "the wait before reopening a dropped connection and between failed reopenings: none "
          "(at once), or a backoff kind as in retry")},
    {DUR("base", N, base_ns, 1, 0, DAY_S, "the reconnect backoff's first or constant wait")},
    {DUR("cap", N, cap_ns, 0, 0, DAY_S, "no reconnect wait is longer; 0: no cap")},
    {NULL},
};
static const struct herd__table conn_table = {
    "connection", "A client fleet's connections to a load balancer (`connection:` of clients "
    "whose call goes to an lb).", sizeof(N), conn_fields};

#define KIND(k)                                                                             \
    {ENUM("kind", K, kind, k, herd__fleet_kind_names, "which table applies: this one"),       \
     .required = true}

static const struct herd__field clients_fields[] = {
    KIND(HERD_FLEET_CLIENTS),
    {INT("clients", K, u.clients.n, 1, 1, HERD_FLEET_CLIENTS_MAX, "clients",
         "how many clients"),
     .required = true},
    {ENUM("arrival", K, u.clients.arrival, HERD_FLEET_OPEN, arrivals,
          "open (Poisson at `rate`, each arrival a new call), closed (each client thinks, "
          "calls, waits for the answer), periodic (every `period` on its own clock), "
          "triggered (once, at `trigger_at`)")},
    {.key = "rate", .type = HERD__F_CURVE, .off = offsetof(K, u.clients.curve),
     .count_off = offsetof(K, u.clients.ncurve), .sub = &point_table,
     .max_items = HERD_FLEET_MAX_CURVE, .min = 0, .max = 1e9, .unit = "req/s",
     .help = "open: a number (constant rate) or a list of {at, per_s} points"},
    {DUR("think", K, u.clients.think_ns, 0, 0, DAY_S, "closed: mean think time (exponential)")},
    {DUR("period", K, u.clients.period_ns, 0, 0, DAY_S,
         "periodic: the period (needed, more than 0 s)")},
    {DUR("phase", K, u.clients.phase_ns, 0, 0, DAY_S, "periodic: the first boundary")},
    {DUR("trigger_at", K, u.clients.trigger_ns, 0, 0, DAY_S, "triggered: when")},
    {DUR("skew", K, u.clients.skew_sd_ns, 0, 0, DAY_S,
         "periodic, triggered: the sd of each client's clock skew")},
    {DUR("jitter", K, u.clients.jitter_ns, 0, 0, DAY_S,
         "periodic, triggered: a fresh U[0, jitter) per firing")},
    {INT("keys", K, u.clients.keys, 0, 0, 1e9, "keys",
         "the keyspace each call draws a key from; 0: no keys")},
    {DBL("zipf", K, u.clients.zipf_s, 0, 0, 10, "", "key popularity's Zipf exponent; 0: uniform")},
    {MAP("call", K, u.clients.call, call_table, "the call each client makes"), .required = true},
    {MAP("connection", K, u.clients.conn, conn_table,
         "when the call goes to an lb: persistent connections and reconnects (below)")},
    {NULL},
};

static const struct herd__field service_fields[] = {
    KIND(HERD_FLEET_SERVICE),
    {INT("workers", K, u.service.workers, 1, 1, 1000000, "workers",
         "requests served at once (ignored when unlimited)")},
    {BOOL("unlimited", K, u.service.unlimited, 0,
          "serve every arrival at once (Brooker's server: no queue)")},
    {INT("queue", K, u.service.queue_cap, -1, -1, 1e9, "requests",
         "queue capacity; -1: unbounded; a full queue refuses (or drops, drop-oldest)")},
    {ENUM("discipline", K, u.service.discipline, HERD_FLEET_FIFO, disciplines,
          "fifo, lifo (newest first), drop-oldest (a full queue fails its oldest)")},
    {DUR("service_time", K, u.service.service_ns, 0, 0, DAY_S,
         "mean time to serve a request alone"),
     .required = true, .excl_min = true},
    {ENUM("dist", K, u.service.dist, HERD_FLEET_DIST_EXPONENTIAL, dists,
          "service-time distribution (uniform: U[0, 2·mean])")},
    {DBL("sigma", K, u.service.sigma, 0.5, 0, 5, "", "lognormal: the sd of the log")},
    {DBL("usl_sigma", K, u.service.usl_sigma, 0, 0, 1, "",
         "USL contention: service time × (1 + σ(c−1) + κc(c−1)) at concurrency c")},
    {DBL("usl_kappa", K, u.service.usl_kappa, 0, 0, 1, "", "USL coherence (κ above)")},
    {DBL("per_concurrent", K, u.service.per_concurrent, 0, 0, 1000, "",
         "Brooker: + this × (concurrency at the start) × service_time")},
    {DUR("shed_wait", K, u.service.shed_wait_ns, 0, 0, DAY_S,
         "shed a request that waited longer; 0: never")},
    {BOOL("cancel_abandoned", K, u.service.cancel_abandoned, 0,
          "skip work whose caller gave up (else it is done, as wasted work)")},
    {DUR("warmup", K, u.service.warmup_ns, 0, 0, DAY_S,
         "after a restart, capacity ramps from warm_start to full over this")},
    {DBL("warm_start", K, u.service.warm_start, 1, 0, 1, "share",
         "capacity share right after a restart"),
     .excl_min = true},
    {ENUM("admission", K, u.service.admission, HERD_FLEET_ADMIT_ALL, admissions,
          "all, token-bucket (admit_rate, admit_burst), limiter (adaptive concurrency "
          "limit up to admit_limit), throttle (client-side adaptive throttle, admit_k)")},
    {DBL("admit_rate", K, u.service.admit_rate_per_s, 0, 0, 1e9, "req/s",
         "token-bucket: the rate")},
    {INT("admit_burst", K, u.service.admit_burst, 1, 1, 1e9, "requests",
         "token-bucket: the burst")},
    {INT("admit_limit", K, u.service.admit_limit_max, 100, 1, 1000000, "requests",
         "limiter: the largest limit")},
    {DBL("admit_k", K, u.service.admit_k, 2, 1, 100, "", "throttle: k (accepts × k)")},
    {LIST("calls", K, u.service.calls, u.service.ncalls, call_table, HERD_FLEET_MAX_CALLS,
          "calls made for each request, in order, a worker held meanwhile")},
    {NULL},
};

static const struct herd__field cache_fields[] = {
    KIND(HERD_FLEET_CACHE),
    {INT("hosts", K, u.cache.hosts, 1, 1, 1000000, "hosts",
         "1: one shared cache (L2); more: a copy per host (L1)")},
    {INT("capacity", K, u.cache.capacity, 0, 0, 1e12, "keys", "keys kept per copy; 0: all")},
    {DUR("ttl", K, u.cache.ttl_ns, 0, 0, DAY_S, "how long a fill stays fresh"),
     .required = true, .excl_min = true},
    {DBL("ttl_jitter", K, u.cache.ttl_jitter, 0, 0, 1, "share",
         "each fill's TTL is ttl·(1 − U[0, ttl_jitter))")},
    {DUR("soft_ttl", K, u.cache.soft_ttl_ns, 0, 0, DAY_S,
         "after this a hit is served stale and refreshed in the background; 0: never")},
    {DUR("max_age", K, u.cache.max_age_ns, 0, 0, DAY_S,
         "how old a served copy may be (correctness); older serves count as too_old; 0: "
         "no bound")},
    {BOOL("singleflight", K, u.cache.singleflight, 0, "one fill per key at a time")},
    {DBL("xfetch_beta", K, u.cache.xfetch_beta, 0, 0, 100, "", "XFetch early refresh; 0: off")},
    {DUR("hit_time", K, u.cache.hit_ns, 0.0001, 0, DAY_S, "time to answer a hit")},
    {BOOL("warm", K, u.cache.warm, 1, "start filled, expiries spread")},
    {MAP("call", K, u.cache.call, call_table, "the call a miss makes to the origin (its `to`)"),
     .required = true},
    {NULL},
};

static const struct herd__field lb_fields[] = {
    KIND(HERD_FLEET_LB),
    {DUR("handshake", K, u.lb.handshake_ns, 0.002, 0, DAY_S,
         "a full TLS handshake: worker time on the backend, before the request")},
    {DUR("resume", K, u.lb.resume_ns, 0.0002, 0, DAY_S,
         "a resumed session's handshake (a client that connected before), with resumption")},
    {BOOL("resumption", K, u.lb.resumption, 0, "session resumption (tickets) on")},
    {DUR("drain", K, u.lb.drain_ns, 0, 0, DAY_S,
         "a drop closes the connections spread over this window; 0: all at once")},
    {DBL("handshake_rate", K, u.lb.handshake_rate_per_s, 0, 0, 1e9, "handshakes/s",
         "handshakes let through per second (libherd ratelimit); beyond it a connection is "
         "refused; 0: no limit")},
    {INT("handshake_burst", K, u.lb.handshake_burst, 1, 1, 1e9, "handshakes",
         "handshake_rate: the burst")},
    {MAP("call", K, u.lb.call, call_table, "the call forwarded to the backend (a service)"),
     .required = true},
    {NULL},
};

static const struct herd__field coord_fields[] = {
    KIND(HERD_FLEET_COORD),
    {INT("workers", K, u.coord.workers, 1, 1, 1000000, "workers", "requests served at once")},
    {DUR("op_time", K, u.coord.op_ns, 0.0002, 0, DAY_S,
         "time to serve one request (a lock try, a release, a leader request)"),
     .excl_min = true},
    {DBL("slowdown", K, u.coord.slowdown, 0, 0, 1000, "share per 1,000 queued",
         "each request takes op_time × (1 + slowdown × queued / 1,000): slower as the "
         "backlog grows (positive feedback); 0: constant")},
    {ENUM("lock", K, u.coord.lock, HERD_FLEET_LOCK_NOTIFY_ALL, locks,
          "notify-all (every waiter watches the lock; a release wakes all, all try again), "
          "notify-one (a queue: each watches its predecessor; a release wakes one), poll "
          "(waiters try again every poll)")},
    {INT("locks", K, u.coord.locks, 1, 1, 1000000, "locks",
         "lock shards: a call's lock is its key mod locks")},
    {DUR("poll", K, u.coord.poll_ns, 0.1, 0, DAY_S, "poll: the period"), .excl_min = true},
    {DBL("poll_jitter", K, u.coord.poll_jitter, 0.5, 0, 1, "share",
         "poll: each wait is poll × U[1 − j, 1 + j]; 0: in lock step")},
    {INT("candidates", K, u.coord.candidates, 0, 0, 1000, "members",
         "members standing for leader (the first leads at the start); 0: no election")},
    {DUR("lease", K, u.coord.lease_ns, 0, 0, DAY_S,
         "a dead leader is noticed when its lease (session) expires, this long after")},
    {DUR("election_timeout", K, u.coord.election_timeout_ns, 0.15, 0, DAY_S,
         "each member's election timer: election_timeout + U[0, election_jitter)"),
     .excl_min = true},
    {DUR("election_jitter", K, u.coord.election_jitter_ns, 0, 0, DAY_S,
         "the timers' random spread; 0: equal timeouts (every round a split vote)")},
    {DUR("vote_time", K, u.coord.vote_ns, 0.01, 0, DAY_S,
         "a campaign's vote requests there and back: another timer firing within it splits "
         "the vote")},
    {NULL},
};

const struct herd__table herd__schema_kinds[HERD_FLEET_NKINDS] = {
    [HERD_FLEET_CLIENTS] = {"clients", "A fleet of clients (`kind: clients`).", sizeof(K),
                            clients_fields},
    [HERD_FLEET_SERVICE] = {"service",
                            "Workers behind a queue, maybe calling others (`kind: service`).",
                            sizeof(K), service_fields},
    [HERD_FLEET_CACHE] = {"cache", "A keyed cache in front of an origin (`kind: cache`).",
                          sizeof(K), cache_fields},
    [HERD_FLEET_LB] = {"lb",
                       "A load balancer holding clients' connections; TLS ends at its backend "
                       "(`kind: lb`).",
                       sizeof(K), lb_fields},
    [HERD_FLEET_COORD] = {"coord",
                          "A coordination service: locks, leases, leader election (`kind: "
                          "coord`).",
                          sizeof(K), coord_fields},
};

static const struct herd__field fault_fields[] = {
    {ENUM("kind", F, kind, 0, herd__fleet_fault_names,
          "errors (each arrival fails with probability p), latency (service times × factor), "
          "capacity (lose a share p of the workers), crash (down, then a cold restart), "
          "flush (a cache loses every key), partition (calls between target and peer lost), "
          "drop (an lb restarts: every connection closed), leader_death (a coord's leader "
          "dies; for: how long it stays down, 0: for good)"),
     .required = true},
    {REF("target", F, target, "the component hit"), .required = true},
    {REF("peer", F, peer, "partition: the other side")},
    {DUR("at", F, at_ns, 0, 0, DAY_S, "when it starts, from the run's start"), .required = true},
    {DUR("for", F, for_ns, 0, 0, DAY_S, "how long it lasts (flush, drop: 0)")},
    {DBL("p", F, p, 1, 0, 1, "share", "errors: the probability; capacity: the share lost")},
    {DBL("factor", F, factor, 1, 0, 1e6, "×", "latency: the multiplier"), .excl_min = true},
    {NULL},
};
static const struct herd__table fault_table = {"fault", "A fault on the timeline (an item of "
                                                        "`faults:`).",
                                               sizeof(F), fault_fields};

static const struct herd__field mitigation_fields[] = {
    {.key = "help", .type = HERD__F_TEXT, .unit = "", .help = "one line: what it changes"},
    {.key = "family", .type = HERD__F_ENUM, .def = 0, .choices = herd__family_names,
     .unit = "", .help = "what it does about the herd (herd list shows it)"},
    {.key = "use", .type = HERD__F_NAMES, .unit = "",
     .help = "other mitigations applied first, in order"},
    {.key = "set", .type = HERD__F_SETMAP, .unit = "",
     .help = "overrides, PATH: VALUE, the paths `--set` takes (applied after `use`)"},
    {NULL},
};
const struct herd__table herd__schema_mitigation = {
    "mitigation", "A named set of overrides (an entry of `mitigations:`); run with "
    "`--mitigation NAME`, or several at once with `--mitigation a+b`.", 0, mitigation_fields};

/* The components map's entries: one of the kinds' tables, chosen by `kind`. */
static const struct herd__table component_table = {"component", "", sizeof(K), NULL};

static const struct herd__field top_fields[] = {
    {.key = "name", .type = HERD__F_TEXT, .required = true, .unit = "",
     .help = "the scenario's name (herd run NAME): lower case, digits and -"},
    {.key = "summary", .type = HERD__F_TEXT, .unit = "", .help = "one line for herd list"},
    {DUR("duration", T, duration_ns, 0, 0, DAY_S, "arrivals stop after this"),
     .required = true, .excl_min = true},
    {DUR("drain", T, drain_ns, 0, 0, DAY_S, "the run ends this much after duration")},
    {DUR("bucket", T, bucket_ns, 0, 0, DAY_S,
         "the timelines' bucket; 0: chosen from the run's length")},
    {REF("herd", T, herd, "the herd's resource: the service or cache whose load the report's "
                          "figures count"),
     .required = true},
    {DBL("recover_share", T, recover_share, 0.9, 0, 1, "share",
         "after the last fault, the clients' goodput must come back to this share of its "
         "level before the first fault, else the verdict is stuck"),
     .excl_min = true},
    {.key = "components", .type = HERD__F_NAMEMAP, .required = true, .sub = &component_table,
     .max_items = HERD_FLEET_MAX_COMPONENTS, .unit = "",
     .help = "the parts, by name: each a map with a `kind` (tables below)"},
    {LIST("faults", T, faults, nfaults, fault_table, HERD_FLEET_MAX_FAULTS,
          "faults on the timeline")},
    {.key = "mitigations", .type = HERD__F_NAMEMAP, .sub = &herd__schema_mitigation,
     .max_items = HERD_FLEET_MAX_MITIGATIONS, .unit = "",
     .help = "named overrides; the first is the default mitigation"},
    {.key = "claim", .type = HERD__F_CLAIMS, .max_items = 16, .unit = "",
     .help = "what the scenario shows, checked by `herd check`: a list of {says, check} "
             "(see Claims below)"},
    {NULL},
};
const struct herd__table herd__schema_top = {
    "scenario", "The file is one map with these keys (its top level).", sizeof(T), top_fields};

const struct herd__field *herd__schema_field(const struct herd__table *t, const char *key)
{
    for (const struct herd__field *f = t->fields; f && f->key; f++)
        if (strcmp(f->key, key) == 0)
            return f;
    return NULL;
}

/* The index of @p text in @p choices, or -1. */
static int choice_index(const char *const *choices, const char *text)
{
    for (int i = 0; choices[i]; i++)
        if (strcmp(choices[i], text) == 0)
            return i;
    return -1;
}

const struct herd__table *herd__schema_kind(const struct herd__node *comp)
{
    const struct herd__node *k = herd__map_get(comp, "kind");
    int i = k && k->type == HERD__SCALAR ? choice_index(herd__fleet_kind_names, k->text) : -1;
    return i < 0 ? NULL : &herd__schema_kinds[i];
}

/* ---- messages ------------------------------------------------------------------------ */

void herd__where(const struct herd__node *n, const char *path, char *buf, size_t len)
{
    if (n->line > 0) {
        snprintf(buf, len, "%s:%d:%d: %s%s", n->origin, n->line, n->col, path, *path ? ": " : "");
        return;
    }
    /* A flag's node: "--set a.b: " when the flag names the path already. */
    const char *flag_path = strchr(n->origin, ' ');
    bool same = flag_path && strcmp(flag_path + 1, path) == 0;
    snprintf(buf, len, "%s: %s%s", n->origin, same ? "" : path, same || !*path ? "" : ": ");
}

/* Edits between @p a and @p b, a swap of neighbours counting as one (optimal string
 * alignment): "mots" is one edit from "most". */
static size_t edit_distance(const char *a, const char *b)
{
    size_t la = strlen(a), lb = strlen(b);
    if (la > 40 || lb > 40)
        return 99;
    size_t d[41][41];
    for (size_t i = 0; i <= la; i++)
        d[i][0] = i;
    for (size_t j = 0; j <= lb; j++)
        d[0][j] = j;
    for (size_t i = 1; i <= la; i++) {
        for (size_t j = 1; j <= lb; j++) {
            size_t best = d[i - 1][j - 1] + (a[i - 1] != b[j - 1]);
            if (d[i - 1][j] + 1 < best)
                best = d[i - 1][j] + 1;
            if (d[i][j - 1] + 1 < best)
                best = d[i][j - 1] + 1;
            if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] &&
                d[i - 2][j - 2] + 1 < best)
                best = d[i - 2][j - 2] + 1;
            d[i][j] = best;
        }
    }
    return d[la][lb];
}

const char *herd__closest(const char *word, const char *const *cands)
{
    const char *best = NULL;
    size_t bestd = (size_t)-1, wl = strlen(word);
    for (int i = 0; cands[i]; i++) {
        size_t d = edit_distance(word, cands[i]);
        if (d < bestd) {
            bestd = d;
            best = cands[i];
        }
    }
    size_t limit = wl < 6 ? 2 : wl / 3 + 1;
    return best && bestd <= limit ? best : NULL;
}

const char *herd__did_you_mean(const char *word, const char *const *cands, char *buf,
                               size_t len)
{
    const char *near = herd__closest(word, cands);
    if (near)
        snprintf(buf, len, " (did you mean '%s'?)", near);
    else
        buf[0] = '\0';
    return buf;
}

int herd__vrefuse(const struct herd__node *n, const char *path, char *err, size_t errlen,
                  const char *fmt, va_list ap)
{
    char where[512];
    herd__where(n, path, where, sizeof where);
    size_t off = (size_t)snprintf(err, errlen, "%s", where);
    if (off < errlen)
        vsnprintf(err + off, errlen - off, fmt, ap);
    return -1;
}

/* ---- decoding ---------------------------------------------------------------------- */

/* One decode's state. */
struct dctx {
    char *err;
    size_t errlen;
    int ncomps;
    const char *names[HERD_FLEET_MAX_COMPONENTS + 1]; /* component names, NULL-terminated */
    const struct herd__node *comp_nodes[HERD_FLEET_MAX_COMPONENTS];
    /* Each call's `to` node, for the cycle's message: [component][call] (a client's or a
     * cache's call is call 0). */
    const struct herd__node *to_nodes[HERD_FLEET_MAX_COMPONENTS][HERD_FLEET_MAX_CALLS];
};

static int fail(struct dctx *c, const struct herd__node *n, const char *path, const char *fmt,
                ...) __attribute__((format(printf, 4, 5)));

static int fail(struct dctx *c, const struct herd__node *n, const char *path, const char *fmt,
                ...)
{
    va_list ap;
    va_start(ap, fmt);
    herd__vrefuse(n, path, c->err, c->errlen, fmt, ap);
    va_end(ap);
    return -1;
}

/* What a node is, for "got ...": its text (cut), or "a list", "a map", "nothing". */
static const char *describe(const struct herd__node *n, char *buf, size_t len)
{
    switch (n->type) {
    case HERD__NULL:
        return "nothing";
    case HERD__SEQ:
        return "a list";
    case HERD__MAP:
        return "a map";
    case HERD__SCALAR:
        break;
    }
    size_t l = strlen(n->text);
    if (l > 40)
        snprintf(buf, len, "'%.37s...'", n->text);
    else
        snprintf(buf, len, "'%s'", n->text);
    return buf;
}

/* Append ".seg" (or "seg" at the start) to @p path; return the old length to cut back to. */
static size_t push(char *path, size_t cap, const char *seg)
{
    size_t l = strlen(path);
    snprintf(path + l, cap - l, "%s%s", l ? "." : "", seg);
    return l;
}

static size_t push_index(char *path, size_t cap, size_t i)
{
    char seg[24];
    snprintf(seg, sizeof seg, "%zu", i);
    return push(path, cap, seg);
}

#define PATH_MAX_LEN 256

static void join_choices(const char *const *choices, char *buf, size_t len)
{
    size_t off = 0;
    buf[0] = '\0';
    for (int i = 0; choices[i] && off < len; i++)
        off += (size_t)snprintf(buf + off, len - off, "%s%s", i ? ", " : "", choices[i]);
}

/* "1 to 100000", "more than 0 s, at most 86400 s" ... for messages and the doc. */
static void range_text(const struct herd__field *f, char *buf, size_t len)
{
    const char *u = f->type == HERD__F_DURATION ? " s" : "";
    if (f->type == HERD__F_INT)
        snprintf(buf, len, "%.0f to %.0f", f->min, f->max);
    else if (f->excl_min)
        snprintf(buf, len, "more than %g%s, at most %g%s", f->min, u, f->max, u);
    else
        snprintf(buf, len, "%g%s to %g%s", f->min, u, f->max, u);
}

/* Parse a whole-text number (digits may be grouped with '_', as YAML 1.1 allows). */
static bool parse_double(const char *text, double *out)
{
    char buf[64];
    size_t j = 0;
    for (size_t i = 0; text[i]; i++) {
        if (text[i] == '_' && i > 0 && text[i + 1] >= '0' && text[i + 1] <= '9')
            continue;
        if (j + 1 >= sizeof buf)
            return false;
        buf[j++] = text[i];
    }
    buf[j] = '\0';
    if (!j || buf[0] == ' ' || buf[0] == '\t')
        return false;
    char *end;
    errno = 0;
    double d = strtod(buf, &end);
    /* strtod takes "inf", "nan" and hex: a schema number is none of those. */
    for (size_t i = 0; i < j; i++)
        if (!strchr("0123456789+-.eE", buf[i]))
            return false;
    if (errno == ERANGE || end == buf || *end || !isfinite(d))
        return false;
    *out = d;
    return true;
}

/* A duration's text: a number then an optional unit (ns, us, ms, s, m, h). @return 0, -1
 * when it is not a time, -2 when it is negative. */
static int parse_duration(const char *text, double *seconds)
{
    static const struct {
        const char *suffix;
        double s;
    } units[] = {{"ns", 1e-9}, {"us", 1e-6}, {"µs", 1e-6}, {"ms", 1e-3},
                 {"s", 1},     {"m", 60},    {"min", 60}, {"h", 3600}};
    char num[64];
    size_t l = strlen(text), k = l;
    while (k > 0 && !((text[k - 1] >= '0' && text[k - 1] <= '9') || text[k - 1] == '.'))
        k--;
    if (k == 0 || k >= sizeof num)
        return -1;
    memcpy(num, text, k);
    num[k] = '\0';
    const char *suffix = text + k;
    double mult = 1;
    if (*suffix) {
        size_t u = 0, nu = sizeof units / sizeof units[0];
        while (u < nu && strcmp(units[u].suffix, suffix) != 0)
            u++;
        if (u == nu)
            return -1;
        mult = units[u].s;
    }
    double d;
    if (!parse_double(num, &d))
        return -1;
    if (d < 0)
        return -2;
    *seconds = d * mult;
    return 0;
}

int herd__parse_duration(const char *text, double *seconds)
{
    return parse_duration(text, seconds);
}

static void store_int(void *p, int width, int64_t v)
{
    if (width == 8) {
        memcpy(p, &v, 8);
    } else if (width == 4) {
        int32_t w = (int32_t)v;
        memcpy(p, &w, 4);
    } else {
        assert(width == 1);
        int8_t w = (int8_t)v;
        memcpy(p, &w, 1);
    }
}

static bool in_range(const struct herd__field *f, double v)
{
    return (f->excl_min ? v > f->min : v >= f->min) && v <= f->max;
}

static void apply_defaults(const struct herd__table *t, void *base);

/* Defaults of every field of @p t into @p base. */
static void apply_defaults(const struct herd__table *t, void *base)
{
    for (const struct herd__field *f = t->fields; f && f->key; f++) {
        char *p = (char *)base + f->off;
        switch (f->type) {
        case HERD__F_INT:
        case HERD__F_ENUM:
        case HERD__F_REF:
            store_int(p, f->width, (int64_t)f->def);
            break;
        case HERD__F_DOUBLE:
            memcpy(p, &f->def, sizeof(double));
            break;
        case HERD__F_DURATION:
            store_int(p, 8, (int64_t)llround(f->def * 1e9));
            break;
        case HERD__F_BOOL:
            *(bool *)p = f->def != 0;
            break;
        case HERD__F_MAP:
            apply_defaults(f->sub, p);
            break;
        case HERD__F_LIST:
        case HERD__F_CURVE:
            store_int((char *)base + f->count_off, 4, 0);
            break;
        case HERD__F_TEXT:
        case HERD__F_NAMEMAP:
        case HERD__F_SETMAP:
        case HERD__F_NAMES:
        case HERD__F_CLAIMS:
            break;
        }
    }
}

static int decode_table(struct dctx *c, const struct herd__table *t, const struct herd__node *map,
                        void *base, char *path);

static int decode_scalar(struct dctx *c, const struct herd__field *f, const struct herd__node *n,
                         char *p, const char *path)
{
    char got[64], allowed[256];
    if (n->type != HERD__SCALAR) {
        const char *what = f->type == HERD__F_BOOL       ? "true or false"
                           : f->type == HERD__F_REF      ? "a component's name"
                           : f->type == HERD__F_DURATION ? "a time (250ms, 2s ...)"
                           : f->type == HERD__F_INT      ? "a whole number"
                                                         : "a number";
        if (f->type == HERD__F_ENUM) {
            join_choices(f->choices, allowed, sizeof allowed);
            return fail(c, n, path, "expected one of %s, got %s", allowed,
                        describe(n, got, sizeof got));
        }
        return fail(c, n, path, "expected %s, got %s", what, describe(n, got, sizeof got));
    }
    const char *s = n->text;
    double d;
    switch (f->type) {
    case HERD__F_INT:
        range_text(f, allowed, sizeof allowed);
        if (!parse_double(s, &d) || d != floor(d))
            return fail(c, n, path, "expected a whole number, got %s; allowed: %s",
                        describe(n, got, sizeof got), allowed);
        if (!in_range(f, d))
            return fail(c, n, path, "%s is out of range; allowed: %s%s%s", s, allowed,
                        *f->unit ? " " : "", f->unit);
        store_int(p, f->width, (int64_t)d);
        return 0;
    case HERD__F_DOUBLE:
        range_text(f, allowed, sizeof allowed);
        if (!parse_double(s, &d))
            return fail(c, n, path, "expected a number, got %s; allowed: %s",
                        describe(n, got, sizeof got), allowed);
        if (!in_range(f, d))
            return fail(c, n, path, "%s is out of range; allowed: %s", s, allowed);
        memcpy(p, &d, sizeof d);
        return 0;
    case HERD__F_DURATION: {
        range_text(f, allowed, sizeof allowed);
        int rc = parse_duration(s, &d);
        if (rc == -2)
            return fail(c, n, path, "%s is a negative time; allowed: %s", s, allowed);
        if (rc < 0)
            return fail(c, n, path,
                        "expected a time (a number with ns, us, ms, s, m or h; a bare number "
                        "is seconds), got %s; allowed: %s",
                        describe(n, got, sizeof got), allowed);
        if (!in_range(f, d))
            return fail(c, n, path, "%s is out of range; allowed: %s", s, allowed);
        store_int(p, 8, (int64_t)llround(d * 1e9));
        return 0;
    }
    case HERD__F_BOOL:
        if (strcmp(s, "true") == 0 || strcmp(s, "false") == 0) {
            *(bool *)p = s[0] == 't';
            return 0;
        }
        return fail(c, n, path, "expected true or false, got %s; allowed: true, false",
                    describe(n, got, sizeof got));
    case HERD__F_ENUM:
    case HERD__F_REF: {
        bool ref = f->type == HERD__F_REF;
        const char *const *names = ref ? c->names : f->choices;
        char near[80];
        int i = choice_index(names, s);
        if (i >= 0) {
            store_int(p, f->width, i);
            return 0;
        }
        join_choices(names, allowed, sizeof allowed);
        return fail(c, n, path, "%s%s%s%s; allowed: %s", ref ? "unknown component " : "",
                    describe(n, got, sizeof got), ref ? "" : " is not allowed",
                    herd__did_you_mean(s, names, near, sizeof near), allowed);
    }
    default:
        break;
    }
    assert(0 && "not a scalar field");
    return -1;
}

/* A rate: a number (one point at 0) or a list of {at, per_s}, times not decreasing. */
static int decode_curve(struct dctx *c, const struct herd__field *f, const struct herd__node *n,
                        void *base, char *path)
{
    struct herd_fleet_curve_point *pts = (void *)((char *)base + f->off);
    char got[64];
    int count = 0;
    if (n->type == HERD__SCALAR) {
        double d;
        if (!parse_double(n->text, &d) || d < f->min || d > f->max)
            return fail(c, n, path,
                        "expected a rate (req/s) or a list of {at, per_s} points, got %s; "
                        "allowed: 0 to 1e+09 req/s",
                        describe(n, got, sizeof got));
        pts[0] = (struct herd_fleet_curve_point){0, d};
        count = 1;
    } else if (n->type == HERD__SEQ) {
        if (n->n == 0 || n->n > (size_t)f->max_items)
            return fail(c, n, path, "%zu points; allowed: 1 to %d", n->n, f->max_items);
        for (size_t i = 0; i < n->n; i++) {
            size_t cut = push_index(path, PATH_MAX_LEN, i);
            apply_defaults(f->sub, &pts[i]);
            if (decode_table(c, f->sub, n->items[i], &pts[i], path) < 0)
                return -1;
            if (i > 0 && pts[i].t_ns < pts[i - 1].t_ns) {
                push(path, PATH_MAX_LEN, "at");
                return fail(c, herd__map_get(n->items[i], "at"), path,
                            "the points' times go back (%.9g s after %.9g s); allowed: times "
                            "that do not decrease",
                            (double)pts[i].t_ns / 1e9, (double)pts[i - 1].t_ns / 1e9);
            }
            path[cut] = '\0';
        }
        count = (int)n->n;
    } else {
        return fail(c, n, path, "expected a rate (req/s) or a list of {at, per_s} points, got %s",
                    describe(n, got, sizeof got));
    }
    store_int((char *)base + f->count_off, 4, count);
    return 0;
}

static int decode_field(struct dctx *c, const struct herd__field *f, const struct herd__node *n,
                        void *base, char *path)
{
    char *p = (char *)base + f->off;
    char got[64];
    switch (f->type) {
    case HERD__F_MAP:
        if (n->type == HERD__NULL) {
            /* "retry:" with nothing: an empty map (its defaults, and its required fields
             * still required). */
            struct herd__node empty = *n;
            empty.type = HERD__MAP;
            return decode_table(c, f->sub, &empty, p, path);
        }
        return decode_table(c, f->sub, n, p, path);
    case HERD__F_LIST: {
        if (n->type == HERD__NULL) {
            store_int((char *)base + f->count_off, 4, 0);
            return 0;
        }
        if (n->type != HERD__SEQ)
            return fail(c, n, path, "expected a list of %s, got %s", f->sub->name,
                        describe(n, got, sizeof got));
        if (n->n > (size_t)f->max_items)
            return fail(c, n, path, "%zu items; allowed: at most %d", n->n, f->max_items);
        for (size_t i = 0; i < n->n; i++) {
            void *elem = p + i * f->sub->size;
            size_t cut = push_index(path, PATH_MAX_LEN, i);
            apply_defaults(f->sub, elem);
            if (decode_table(c, f->sub, n->items[i], elem, path) < 0)
                return -1;
            path[cut] = '\0';
        }
        store_int((char *)base + f->count_off, 4, (int64_t)n->n);
        return 0;
    }
    case HERD__F_CURVE:
        return decode_curve(c, f, n, base, path);
    case HERD__F_TEXT:
    case HERD__F_NAMEMAP:
    case HERD__F_SETMAP:
    case HERD__F_NAMES:
    case HERD__F_CLAIMS:
        return 0; /* the file's own keys: file.c reads them */
    default:
        return decode_scalar(c, f, n, p, path);
    }
}

/* The table's keys, for a suggestion. */
static void table_keys(const struct herd__table *t, const char **keys, size_t cap)
{
    size_t k = 0;
    for (const struct herd__field *f = t->fields; f && f->key && k + 1 < cap; f++)
        keys[k++] = f->key;
    keys[k] = NULL;
}

static int decode_table(struct dctx *c, const struct herd__table *t, const struct herd__node *map,
                        void *base, char *path)
{
    char got[64], allowed[512];
    const char *keys[48];
    if (map->type != HERD__MAP)
        return fail(c, map, path, "expected a map (%s), got %s", t->name,
                    describe(map, got, sizeof got));
    table_keys(t, keys, sizeof keys / sizeof keys[0]);
    for (size_t i = 0; i < map->n; i++) {
        const char *key = map->keys[i]->text;
        if (herd__schema_field(t, key))
            continue;
        char near[80];
        size_t cut = push(path, PATH_MAX_LEN, key);
        join_choices(keys, allowed, sizeof allowed);
        int rc = fail(c, map->keys[i], path, "unknown field in a %s%s; allowed: %s", t->name,
                      herd__did_you_mean(key, keys, near, sizeof near), allowed);
        path[cut] = '\0';
        return rc;
    }
    for (const struct herd__field *f = t->fields; f->key; f++) {
        const struct herd__node *v = herd__map_get(map, f->key);
        if (!v) {
            if (f->required)
                return fail(c, map, path, "missing required field '%s' (%s)", f->key, f->help);
            continue;
        }
        size_t cut = push(path, PATH_MAX_LEN, f->key);
        if (decode_field(c, f, v, base, path) < 0)
            return -1;
        path[cut] = '\0';
    }
    return 0;
}

/* ---- cross-field rules --------------------------------------------------------------- */

static bool is_callee(const struct herd_fleet *m, int i)
{
    return m->comps[i].kind != HERD_FLEET_CLIENTS;
}

/* The node of key @p key under @p map, or @p map itself when the key is absent. */
static const struct herd__node *at_key(const struct herd__node *map, const char *key)
{
    const struct herd__node *n = herd__map_get(map, key);
    return n ? n : map;
}

static int check_retry(struct dctx *c, const struct herd_fleet_retry *r,
                       const struct herd__node *call, char *path)
{
    const struct herd__node *rn = herd__map_get(call, "retry");
    if (!rn)
        return 0;
    size_t cut = push(path, PATH_MAX_LEN, "retry");
    int rc = 0;
    if (r->cap_ns > 0 && r->cap_ns < r->base_ns) {
        push(path, PATH_MAX_LEN, "cap");
        rc = fail(c, at_key(rn, "cap"), path,
                  "%.9g s is below base (%.9g s); allowed: 0 (no cap) or at least base",
                  (double)r->cap_ns / 1e9, (double)r->base_ns / 1e9);
    }
    path[cut] = '\0';
    return rc;
}

/* A call's rules: it goes to a service or a cache, not to its caller. */
static int check_call(struct dctx *c, const struct herd_fleet *m, int from,
                      const struct herd_fleet_call *call, const struct herd__node *cn, char *path)
{
    const struct herd__node *to = at_key(cn, "to");
    if (call->to == from) {
        push(path, PATH_MAX_LEN, "to");
        return fail(c, to, path, "'%s' calls itself; allowed: another component",
                    m->comps[from].name);
    }
    if (!is_callee(m, call->to)) {
        push(path, PATH_MAX_LEN, "to");
        return fail(c, to, path, "'%s' is a client fleet, which takes no calls; allowed: a "
                                 "service or a cache",
                    m->comps[call->to].name);
    }
    bool coord = m->comps[call->to].kind == HERD_FLEET_COORD;
    if (coord && call->op == HERD_FLEET_OP_NONE)
        return fail(c, cn, path, "a call to '%s' (a coord) needs op; allowed: lock, leader",
                    m->comps[call->to].name);
    if (coord && call->op == HERD_FLEET_OP_LEADER && m->comps[call->to].u.coord.candidates == 0) {
        push(path, PATH_MAX_LEN, "op");
        return fail(c, at_key(cn, "op"), path,
                    "'%s' elects no leader (candidates: 0); allowed: op leader only on a call to "
                    "a coord with candidates",
                    m->comps[call->to].name);
    }
    if (!coord && call->op != HERD_FLEET_OP_NONE) {
        push(path, PATH_MAX_LEN, "op");
        return fail(c, at_key(cn, "op"), path,
                    "'%s' is a %s, not a coord; allowed: op only on a call to a coord",
                    m->comps[call->to].name, herd__fleet_kind_names[m->comps[call->to].kind]);
    }
    return check_retry(c, &call->retry, cn, path);
}

static int check_component(struct dctx *c, struct herd_fleet *m, int i, char *path)
{
    struct herd_fleet_component *k = &m->comps[i];
    const struct herd__node *n = c->comp_nodes[i];
    size_t cut;
    switch (k->kind) {
    case HERD_FLEET_CLIENTS: {
        struct herd_fleet_clients *cl = &k->u.clients;
        if (cl->arrival == HERD_FLEET_OPEN && cl->ncurve == 0)
            return fail(c, n, path, "arrival open needs a rate (req/s, or {at, per_s} points)");
        if (cl->arrival == HERD_FLEET_PERIODIC && cl->period_ns == 0)
            return fail(c, n, path, "arrival periodic needs a period (more than 0 s)");
        c->to_nodes[i][0] = herd__map_get(herd__map_get(n, "call"), "to");
        cut = push(path, PATH_MAX_LEN, "call");
        if (check_call(c, m, i, &cl->call, herd__map_get(n, "call"), path) < 0)
            return -1;
        path[cut] = '\0';
        const struct herd__node *cn = herd__map_get(n, "connection");
        if (cn && m->comps[cl->call.to].kind != HERD_FLEET_LB) {
            push(path, PATH_MAX_LEN, "connection");
            return fail(c, cn, path,
                        "the call goes to '%s' (a %s); allowed: connection only when it goes "
                        "to an lb",
                        m->comps[cl->call.to].name,
                        herd__fleet_kind_names[m->comps[cl->call.to].kind]);
        }
        if (cn && cl->conn.cap_ns > 0 && cl->conn.cap_ns < cl->conn.base_ns) {
            push(path, PATH_MAX_LEN, "connection.cap");
            return fail(c, at_key(cn, "cap"), path,
                        "%.9g s is below base (%.9g s); allowed: 0 (no cap) or at least base",
                        (double)cl->conn.cap_ns / 1e9, (double)cl->conn.base_ns / 1e9);
        }
        return 0;
    }
    case HERD_FLEET_SERVICE: {
        const struct herd_fleet_service *s = &k->u.service;
        const struct herd__node *calls = herd__map_get(n, "calls");
        if (s->admission == HERD_FLEET_ADMIT_TOKEN_BUCKET && s->admit_rate_per_s <= 0)
            return fail(c, at_key(n, "admission"), path,
                        "admission token-bucket needs admit_rate (more than 0 req/s)");
        for (int j = 0; j < s->ncalls; j++) {
            c->to_nodes[i][j] = herd__map_get(calls->items[j], "to");
            cut = push(path, PATH_MAX_LEN, "calls");
            push_index(path, PATH_MAX_LEN, (size_t)j);
            if (check_call(c, m, i, &s->calls[j], calls->items[j], path) < 0)
                return -1;
            path[cut] = '\0';
        }
        return 0;
    }
    case HERD_FLEET_CACHE: {
        struct herd_fleet_cache *ca = &k->u.cache;
        ca->origin = ca->call.to;
        c->to_nodes[i][0] = herd__map_get(herd__map_get(n, "call"), "to");
        cut = push(path, PATH_MAX_LEN, "call");
        if (check_call(c, m, i, &ca->call, herd__map_get(n, "call"), path) < 0)
            return -1;
        path[cut] = '\0';
        return 0;
    }
    case HERD_FLEET_LB: {
        struct herd_fleet_lb *lb = &k->u.lb;
        c->to_nodes[i][0] = herd__map_get(herd__map_get(n, "call"), "to");
        cut = push(path, PATH_MAX_LEN, "call");
        if (check_call(c, m, i, &lb->call, herd__map_get(n, "call"), path) < 0)
            return -1;
        if (m->comps[lb->call.to].kind != HERD_FLEET_SERVICE) {
            push(path, PATH_MAX_LEN, "to");
            return fail(c, c->to_nodes[i][0], path,
                        "'%s' is a %s; allowed: a service (its workers do the handshakes)",
                        m->comps[lb->call.to].name,
                        herd__fleet_kind_names[m->comps[lb->call.to].kind]);
        }
        path[cut] = '\0';
        return 0;
    }
    case HERD_FLEET_COORD:
    case HERD_FLEET_NKINDS:
        break;
    }
    return 0;
}

/* The callees of component @p i. */
static int callees(const struct herd_fleet *m, int i, int *out)
{
    const struct herd_fleet_component *k = &m->comps[i];
    switch (k->kind) {
    case HERD_FLEET_CLIENTS:
        out[0] = k->u.clients.call.to;
        return 1;
    case HERD_FLEET_CACHE:
        out[0] = k->u.cache.call.to;
        return 1;
    case HERD_FLEET_LB:
        out[0] = k->u.lb.call.to;
        return 1;
    case HERD_FLEET_COORD:
        return 0;
    case HERD_FLEET_SERVICE:
        for (int j = 0; j < k->u.service.ncalls; j++)
            out[j] = k->u.service.calls[j].to;
        return k->u.service.ncalls;
    case HERD_FLEET_NKINDS:
        break;
    }
    return 0;
}

/* Depth-first from @p i; on a call back into the path, say the cycle ("a → b → a"). */
static int find_cycle(struct dctx *c, const struct herd_fleet *m, int i, int *state, int *stack,
                      int depth)
{
    int to[HERD_FLEET_MAX_CALLS];
    state[i] = 1;
    stack[depth] = i;
    int nto = callees(m, i, to);
    for (int j = 0; j < nto; j++) {
        if (state[to[j]] == 1) {
            char cycle[512], path[PATH_MAX_LEN] = "components";
            size_t off = 0;
            int k = depth;
            while (stack[k] != to[j])
                k--;
            for (; k <= depth; k++)
                off += (size_t)snprintf(cycle + off, sizeof cycle - off, "%s → ",
                                        m->comps[stack[k]].name);
            snprintf(cycle + off, sizeof cycle - off, "%s", m->comps[to[j]].name);
            push(path, sizeof path, m->comps[i].name);
            if (m->comps[i].kind == HERD_FLEET_SERVICE) {
                push(path, sizeof path, "calls");
                push_index(path, sizeof path, (size_t)j);
            } else {
                push(path, sizeof path, "call");
            }
            push(path, sizeof path, "to");
            return fail(c, c->to_nodes[i][j], path,
                        "the calls make a cycle: %s; allowed: calls that only go downstream",
                        cycle);
        }
        if (state[to[j]] == 0 && find_cycle(c, m, to[j], state, stack, depth + 1) < 0)
            return -1;
    }
    state[i] = 2;
    return 0;
}

static int check_fault(struct dctx *c, const struct herd_fleet *m, int i,
                       const struct herd__node *fn, char *path)
{
    const struct herd_fleet_fault *f = &m->faults[i];
    const struct herd_fleet_component *t = &m->comps[f->target];
    int64_t end = m->duration_ns + m->drain_ns;
    const char *kind = herd__fleet_fault_names[f->kind];
    if (f->at_ns >= end) {
        push(path, PATH_MAX_LEN, "at");
        return fail(c, at_key(fn, "at"), path,
                    "%.9g s is not before the run's end; allowed: 0 s to below duration + "
                    "drain (%.9g s)",
                    (double)f->at_ns / 1e9, (double)end / 1e9);
    }
    switch (f->kind) {
    case HERD_FLEET_FAULT_ERRORS:
    case HERD_FLEET_FAULT_CAPACITY:
        if (!herd__map_get(fn, "p"))
            return fail(c, fn, path, "a fault of kind %s needs p (%s)", kind,
                        f->kind == HERD_FLEET_FAULT_ERRORS ? "the probability an arrival fails"
                                                           : "the share of workers lost");
        break;
    case HERD_FLEET_FAULT_LATENCY:
        if (!herd__map_get(fn, "factor"))
            return fail(c, fn, path, "a latency fault needs factor (service times × factor)");
        break;
    case HERD_FLEET_FAULT_PARTITION:
        if (f->peer < 0)
            return fail(c, fn, path, "a partition needs peer (the other side)");
        if (f->peer == f->target) {
            push(path, PATH_MAX_LEN, "peer");
            return fail(c, at_key(fn, "peer"), path,
                        "'%s' is the target too; allowed: another component", t->name);
        }
        break;
    case HERD_FLEET_FAULT_CRASH:
    case HERD_FLEET_FAULT_FLUSH:
    case HERD_FLEET_FAULT_DROP:
    case HERD_FLEET_FAULT_LEADER_DEATH:
    case HERD_FLEET_NFAULT_KINDS:
        break;
    }
    if (f->kind != HERD_FLEET_FAULT_PARTITION && herd__map_get(fn, "peer")) {
        push(path, PATH_MAX_LEN, "peer");
        return fail(c, herd__map_get(fn, "peer"), path,
                    "only a partition has a peer; allowed: no peer for a fault of kind %s", kind);
    }
    bool ok = true;
    const char *want = "";
    switch (f->kind) {
    case HERD_FLEET_FAULT_FLUSH:
        ok = t->kind == HERD_FLEET_CACHE;
        want = "a cache";
        break;
    case HERD_FLEET_FAULT_CAPACITY:
        ok = t->kind == HERD_FLEET_SERVICE;
        want = "a service";
        break;
    case HERD_FLEET_FAULT_ERRORS:
    case HERD_FLEET_FAULT_LATENCY:
    case HERD_FLEET_FAULT_CRASH:
        ok = t->kind != HERD_FLEET_CLIENTS;
        want = "a service, a cache, an lb or a coord";
        break;
    case HERD_FLEET_FAULT_DROP:
        ok = t->kind == HERD_FLEET_LB;
        want = "an lb";
        break;
    case HERD_FLEET_FAULT_LEADER_DEATH:
        ok = t->kind == HERD_FLEET_COORD && t->u.coord.candidates > 0;
        want = "a coord with candidates";
        break;
    case HERD_FLEET_FAULT_PARTITION:
    case HERD_FLEET_NFAULT_KINDS:
        break;
    }
    if (!ok) {
        push(path, PATH_MAX_LEN, "target");
        return fail(c, at_key(fn, "target"), path,
                    "a fault of kind %s cannot hit '%s' (a %s); allowed: %s",
                    kind, t->name, herd__fleet_kind_names[t->kind], want);
    }
    if (f->kind != HERD_FLEET_FAULT_FLUSH && f->kind != HERD_FLEET_FAULT_DROP &&
        f->kind != HERD_FLEET_FAULT_LEADER_DEATH && f->for_ns == 0)
        return fail(c, at_key(fn, "for"), path, "a fault of kind %s needs for (more than 0 s)",
                    kind);
    return 0;
}

/* A name as the file may spell one: a letter, then letters, digits, '-' or '_'. */
static bool good_name(const char *s)
{
    if (!((s[0] >= 'a' && s[0] <= 'z') || (s[0] >= 'A' && s[0] <= 'Z')))
        return false;
    for (const char *p = s; *p; p++)
        if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
              *p == '-' || *p == '_'))
            return false;
    return strlen(s) < HERD_FLEET_NAME;
}

static int decode_components(struct dctx *c, const struct herd__node *comps, struct herd_fleet *m,
                             char *path)
{
    char got[64];
    if (comps->type != HERD__MAP || comps->n == 0)
        return fail(c, comps, path, "expected a map of components by name, got %s; allowed: 1 "
                                    "to %d components",
                    describe(comps, got, sizeof got), HERD_FLEET_MAX_COMPONENTS);
    if (comps->n > HERD_FLEET_MAX_COMPONENTS)
        return fail(c, comps, path, "%zu components; allowed: at most %d", comps->n,
                    HERD_FLEET_MAX_COMPONENTS);
    c->ncomps = (int)comps->n;
    for (size_t i = 0; i < comps->n; i++) {
        const char *name = comps->keys[i]->text;
        if (!good_name(name)) {
            size_t cut = push(path, PATH_MAX_LEN, name);
            int rc = fail(c, comps->keys[i], path,
                          "not a component name; allowed: a letter, then letters, digits, - "
                          "or _ (at most %d characters)",
                          HERD_FLEET_NAME - 1);
            path[cut] = '\0';
            return rc;
        }
        c->names[i] = name;
        c->comp_nodes[i] = comps->items[i];
        snprintf(m->comps[i].name, sizeof m->comps[i].name, "%s", name);
    }
    c->names[comps->n] = NULL;
    m->ncomps = c->ncomps;
    for (int i = 0; i < c->ncomps; i++) {
        const struct herd__node *n = comps->items[i];
        size_t cut = push(path, PATH_MAX_LEN, c->names[i]);
        if (n->type != HERD__MAP)
            return fail(c, n, path, "expected a map with a kind (clients, service, cache, lb "
                                    "or coord), got %s",
                        describe(n, got, sizeof got));
        const struct herd__node *kn = herd__map_get(n, "kind");
        if (!kn)
            return fail(c, n, path, "missing required field 'kind'; allowed: clients, service, "
                                    "cache, lb, coord");
        const struct herd__table *t = herd__schema_kind(n);
        if (!t) {
            static const struct herd__field kind_field = {
                ENUM("kind", K, kind, 0, herd__fleet_kind_names, "")};
            push(path, PATH_MAX_LEN, "kind");
            return decode_scalar(c, &kind_field, kn, (char *)&m->comps[i].kind, path);
        }
        apply_defaults(t, &m->comps[i]);
        if (decode_table(c, t, n, &m->comps[i], path) < 0)
            return -1;
        path[cut] = '\0';
    }
    return 0;
}

int herd__schema_decode(const struct herd__node *root, struct herd_fleet *out, char *err,
                        size_t errlen)
{
    struct dctx c = {.err = err, .errlen = errlen};
    char path[PATH_MAX_LEN] = "", got[64];
    struct herd_fleet *m = out;
    memset(m, 0, sizeof *m);
    if (root->type != HERD__MAP)
        return fail(&c, root, "",
                    "expected a map with name, duration, herd and components, got %s",
                    describe(root, got, sizeof got));
    apply_defaults(&herd__schema_top, m);
    /* The components first: every reference elsewhere resolves against their names. */
    const struct herd__node *comps = herd__map_get(root, "components");
    if (!comps)
        return fail(&c, root, "", "missing required field 'components' (%s)",
                    herd__schema_field(&herd__schema_top, "components")->help);
    push(path, sizeof path, "components");
    if (decode_components(&c, comps, m, path) < 0)
        return -1;
    path[0] = '\0';
    if (decode_table(&c, &herd__schema_top, root, m, path) < 0)
        return -1;
    const struct herd__node *name = herd__map_get(root, "name");
    if (name->type != HERD__SCALAR || !good_name(name->text))
        return fail(&c, name, "name",
                    "not a scenario name; allowed: a letter, then letters, digits, - or _ (at "
                    "most %d characters)",
                    HERD_FLEET_NAME - 1);
    snprintf(m->name, sizeof m->name, "%s", name->text);

    /* Run-wide rules. */
    int64_t horizon = m->duration_ns + m->drain_ns;
    if (horizon > HERD_FLEET_HORIZON_MAX_NS)
        return fail(&c, at_key(root, "drain"), "drain",
                    "duration + drain is %.9g s; allowed: at most %.9g s", (double)horizon / 1e9,
                    (double)HERD_FLEET_HORIZON_MAX_NS / 1e9);
    if (m->bucket_ns > 0 && horizon / m->bucket_ns > HERD_TIMELINE_MAX_BUCKETS)
        return fail(&c, at_key(root, "bucket"), "bucket",
                    "%.9g s makes %" PRId64 " buckets of the run's %.9g s; allowed: at most %d "
                    "(a bucket of at least %.9g s, or 0 to choose)",
                    (double)m->bucket_ns / 1e9, horizon / m->bucket_ns, (double)horizon / 1e9,
                    HERD_TIMELINE_MAX_BUCKETS,
                    (double)horizon / HERD_TIMELINE_MAX_BUCKETS / 1e9);
    if (!is_callee(m, m->herd))
        return fail(&c, at_key(root, "herd"), "herd",
                    "'%s' is a client fleet; allowed: a service, a cache, an lb or a coord (the "
                    "resource the herd contends for)",
                    m->comps[m->herd].name);
    bool clients = false;
    for (int i = 0; i < m->ncomps; i++)
        clients |= m->comps[i].kind == HERD_FLEET_CLIENTS;
    if (!clients)
        return fail(&c, comps, "components",
                    "no client fleet; allowed: at least one component of kind clients");
    for (int i = 0; i < m->ncomps; i++) {
        snprintf(path, sizeof path, "components.%s", m->comps[i].name);
        if (check_component(&c, m, i, path) < 0)
            return -1;
    }
    int state[HERD_FLEET_MAX_COMPONENTS] = {0}, stack[HERD_FLEET_MAX_COMPONENTS + 1];
    for (int i = 0; i < m->ncomps; i++)
        if (state[i] == 0 && find_cycle(&c, m, i, state, stack, 0) < 0)
            return -1;
    const struct herd__node *faults = herd__map_get(root, "faults");
    for (int i = 0; i < m->nfaults; i++) {
        snprintf(path, sizeof path, "faults.%d", i);
        if (check_fault(&c, m, i, faults->items[i], path) < 0)
            return -1;
    }
    return 0;
}

/* ---- the field reference ------------------------------------------------------------ */

static const char *type_name(const struct herd__field *f)
{
    switch (f->type) {
    case HERD__F_INT:
        return "whole number";
    case HERD__F_DOUBLE:
        return "number";
    case HERD__F_DURATION:
        return "time";
    case HERD__F_BOOL:
        return "true/false";
    case HERD__F_ENUM:
        return "choice";
    case HERD__F_REF:
        return "component";
    case HERD__F_MAP:
        return "map";
    case HERD__F_LIST:
        return "list";
    case HERD__F_CURVE:
        return "rate";
    case HERD__F_TEXT:
        return "text";
    case HERD__F_NAMEMAP:
        return "map of names";
    case HERD__F_SETMAP:
        return "map of paths";
    case HERD__F_NAMES:
        return "list of names";
    case HERD__F_CLAIMS:
        return "list of claims";
    }
    return "?";
}

static void field_row(FILE *f, const struct herd__field *d)
{
    char def[64] = "", allowed[256] = "";
    switch (d->type) {
    case HERD__F_INT:
    case HERD__F_DOUBLE:
    case HERD__F_DURATION:
        snprintf(def, sizeof def, d->type == HERD__F_INT ? "%.0f" : "%g", d->def);
        range_text(d, allowed, sizeof allowed);
        break;
    case HERD__F_BOOL:
        snprintf(def, sizeof def, "%s", d->def ? "true" : "false");
        break;
    case HERD__F_ENUM:
        snprintf(def, sizeof def, "%s", d->choices[(int)d->def]);
        join_choices(d->choices, allowed, sizeof allowed);
        break;
    case HERD__F_REF:
        snprintf(allowed, sizeof allowed, "a component's name");
        break;
    case HERD__F_LIST:
    case HERD__F_NAMEMAP:
        snprintf(allowed, sizeof allowed, "at most %d", d->max_items);
        break;
    case HERD__F_CURVE:
        snprintf(allowed, sizeof allowed, "0 to %g; at most %d points", d->max, d->max_items);
        break;
    default:
        break;
    }
    fprintf(f, "| `%s` | %s | %s | %s | %s | %s |\n", d->key, type_name(d), d->unit,
            d->required ? "required" : def, allowed, d->help);
}

static void table_md(FILE *f, const struct herd__table *t)
{
    fprintf(f, "### %s\n\n%s\n\n", t->name, t->help);
    fprintf(f, "| key | type | unit | default | allowed | meaning |\n");
    fprintf(f, "|---|---|---|---|---|---|\n");
    for (const struct herd__field *d = t->fields; d->key; d++)
        field_row(f, d);
    fputc('\n', f);
}

int herd__schema_markdown(FILE *f)
{
    table_md(f, &herd__schema_top);
    for (int k = 0; k < HERD_FLEET_NKINDS; k++)
        table_md(f, &herd__schema_kinds[k]);
    table_md(f, &call_table);
    table_md(f, &retry_table);
    table_md(f, &conn_table);
    table_md(f, &point_table);
    table_md(f, &fault_table);
    table_md(f, &herd__schema_mitigation);
    return ferror(f) ? -EIO : 0;
}
