/* fleet.h — the typed model of a scenario file: components wired by calls, faults on a
 * timeline, named mitigations (DESIGN §8).
 *
 * A scenario file (YAML, src/scenario/file.c) decodes into one struct herd_fleet; the
 * simulator (src/sim/fleet*.c) runs one. Neither side sees the other's syntax: the file
 * reader never schedules an event, the simulator never sees a key or a line number.
 * Every field here has a unit in its name (_ns, _per_s, a bare count or ratio) and is
 * validated by the reader against the schema (file_schema.c: type, unit, default,
 * range), so the simulator may assert rather than check.
 *
 * The model is a plain value with fixed-size arrays (no pointers): copy it freely; the
 * simulator builds its own state from it. Components are referred to by their index in
 * comps[] (the file names them; the reader resolves names to indices and refuses a cycle
 * in the call graph, so calls always go from a component to one that is not upstream of
 * it).
 *
 * What a run of a fleet reports (DESIGN §1, docs/glossary.md): one trigger event per run;
 * the waiters are the attempts that reach the herd's resource (`herd`, a component);
 * useful = attempts it served whose answer a caller used, served = answered without the
 * work (a cache hit, a coalesced join), wasted = work done for an attempt its caller had
 * given up on (timed out, or the loser of a hedge), failed = errors, rejections, sheds
 * and timeouts; origin load = attempts that reached the resource; latency = the end-to-end
 * latency of the client fleets' requests. Plus per component: figures and timelines.
 */
#ifndef HERD_SCENARIO_FLEET_H
#define HERD_SCENARIO_FLEET_H

#include <stdbool.h>
#include <stdint.h>

#define HERD_FLEET_MAX_COMPONENTS 16
#define HERD_FLEET_MAX_CALLS 4       /* outgoing calls of one service */
#define HERD_FLEET_MAX_FAULTS 16
#define HERD_FLEET_MAX_CURVE 16      /* points of an open fleet's rate curve */
#define HERD_FLEET_MAX_MITIGATIONS 7 /* + naive = HERD_MAX_STRATEGIES */
#define HERD_FLEET_NAME 32
#define HERD_FLEET_CLIENTS_MAX 1000000
#define HERD_FLEET_HORIZON_MAX_NS (INT64_C(86400) * 1000000000) /* a day of simulated time */

/* The kinds of component. X(ID, name, help) */
#define HERD_FLEET_KINDS(X)                                                                 \
    X(CLIENTS, "clients", "a fleet of N clients that make calls")                           \
    X(SERVICE, "service", "workers behind a queue; may call other components")              \
    X(CACHE, "cache", "a keyed cache in front of an origin component")                      \
    X(LB, "lb", "a load balancer: clients' connections, TLS handshakes on its backend")      \
    X(COORD, "coord", "a coordination service: locks, leases, leader election")

enum herd_fleet_kind {
#define HERD__FLEET_KIND_ENUM(id, name, help) HERD_FLEET_##id,
    HERD_FLEET_KINDS(HERD__FLEET_KIND_ENUM)
#undef HERD__FLEET_KIND_ENUM
        HERD_FLEET_NKINDS
};

/* How a client fleet's calls begin. */
enum herd_fleet_arrival {
    HERD_FLEET_OPEN,      /* Poisson arrivals at a rate that follows rate_curve; each
                             arrival is a new logical call (a new client in Brooker's
                             simulations), whatever the calls already open */
    HERD_FLEET_CLOSED,    /* each client: think Exp(think_ns), call, wait for the end,
                             think again (one call in flight per client) */
    HERD_FLEET_PERIODIC,  /* each client every period_ns on its own clock (phase, skew) */
    HERD_FLEET_TRIGGERED, /* each client once, at trigger_ns on its own clock (+ skew,
                             + a jitter window): a cron boundary, a config push */
};

enum herd_fleet_dist {
    HERD_FLEET_DIST_CONSTANT,    /* exactly the mean */
    HERD_FLEET_DIST_EXPONENTIAL, /* mean */
    HERD_FLEET_DIST_LOGNORMAL,   /* mean, sigma = sd of log */
    HERD_FLEET_DIST_UNIFORM,     /* U[0, 2 mean] */
};

/* libherd's backoff kinds (herd/backoff.h), in its order. */
enum herd_fleet_backoff {
    HERD_FLEET_BACKOFF_NONE,         /* retry at once */
    HERD_FLEET_BACKOFF_CONSTANT,     /* base every time */
    HERD_FLEET_BACKOFF_EXPONENTIAL,  /* base·2^(n−1), capped, no jitter */
    HERD_FLEET_BACKOFF_FULL,         /* full jitter */
    HERD_FLEET_BACKOFF_EQUAL,        /* equal jitter */
    HERD_FLEET_BACKOFF_DECORRELATED, /* decorrelated jitter */
    HERD_FLEET_BACKOFF_BROOKER,      /* Brooker's collapse simulation: U(0,1)·b, b doubling
                                        before each retry from base */
};

/* Who may retry. */
enum herd_fleet_budget {
    HERD_FLEET_BUDGET_NONE,
    HERD_FLEET_BUDGET_AWS,      /* libherd AWS token bucket, shared by the caller */
    HERD_FLEET_BUDGET_FINAGLE,  /* libherd Finagle ratio budget, shared */
    HERD_FLEET_BUDGET_GRPC,     /* libherd gRPC retry throttling, shared */
    HERD_FLEET_BUDGET_PER_CLIENT, /* Brooker's retry_sim: each client a bucket of `tokens`,
                                     starting full, + `refill` per call; a retry needs more
                                     than 1 token and costs 1 */
};

/* What protects a call from a failing callee. */
enum herd_fleet_breaker {
    HERD_FLEET_BREAKER_NONE,
    HERD_FLEET_BREAKER_SHARED,     /* libherd circuit breaker, one per caller component */
    HERD_FLEET_BREAKER_PER_CLIENT, /* Brooker's retry_sim: a client retries only while its
                                      failures / calls <= ratio */
};

struct herd_fleet_retry {
    int max_attempts; /* attempts in all, the first included; 1: never retry */
    enum herd_fleet_backoff backoff;
    int64_t base_ns, cap_ns; /* cap 0: none */
    bool retry_on_timeout;   /* retry an attempt that timed out (not only errors) */
    enum herd_fleet_budget budget;
    double budget_ratio;     /* FINAGLE: retries per request; GRPC: token ratio */
    int budget_tokens;       /* AWS, GRPC, PER_CLIENT: bucket size */
    double budget_refill;    /* PER_CLIENT: tokens added per call */
    enum herd_fleet_breaker breaker;
    double breaker_ratio;    /* SHARED: failure rate that trips; PER_CLIENT: the ratio */
    int64_t breaker_open_ns; /* SHARED: first open interval */
    int64_t hedge_ns;        /* > 0: send a second attempt if none answered after this */
};

/* What a call to a coordination service asks for (none: any other callee). */
enum herd_fleet_op {
    HERD_FLEET_OP_NONE,
    HERD_FLEET_OP_LOCK,   /* acquire the lock of the call's key, hold it hold_ns, release;
                             answered at the release */
    HERD_FLEET_OP_LEADER, /* a request only the leader serves: fails at once while the
                             service has no leader */
};

/* One call from a component to another: how it travels and how the caller treats it. */
struct herd_fleet_call {
    int to;                 /* component index */
    enum herd_fleet_op op;  /* a coord's callers: what they ask */
    int64_t hold_ns;        /* OP_LOCK: how long the caller holds the lock */
    int64_t timeout_ns;     /* per attempt, from its send; 0: none */
    int64_t net_ns;         /* one-way network latency, mean */
    enum herd_fleet_dist net_dist;
    double net_sigma;       /* LOGNORMAL */
    struct herd_fleet_retry retry;
};

struct herd_fleet_curve_point {
    int64_t t_ns;     /* from the run's start */
    double rate_per_s;
};

/* A client fleet's connections to a load balancer (its call's `to` is an lb). */
struct herd_fleet_conn {
    bool persistent; /* keep one connection per client (open at the start); else each
                        attempt opens a new one and pays a handshake */
    enum herd_fleet_backoff reconnect; /* the wait before reopening a dropped connection,
                                          and between failed reopenings (NONE: at once) */
    int64_t base_ns, cap_ns;
};

struct herd_fleet_clients {
    int64_t n; /* 1 .. HERD_FLEET_CLIENTS_MAX */
    enum herd_fleet_arrival arrival;
    int ncurve;  /* OPEN: rate piecewise linear between points, constant after the last */
    struct herd_fleet_curve_point curve[HERD_FLEET_MAX_CURVE];
    int64_t think_ns;      /* CLOSED: mean think time */
    int64_t period_ns;     /* PERIODIC */
    int64_t phase_ns;      /* PERIODIC: first boundary */
    int64_t trigger_ns;    /* TRIGGERED */
    int64_t skew_sd_ns;    /* PERIODIC, TRIGGERED: clock skew sd */
    int64_t jitter_ns;     /* PERIODIC, TRIGGERED: a fresh U[0, jitter) per firing */
    int64_t keys;          /* keyspace each call draws a key from; 0: no keys */
    double zipf_s;         /* key popularity Zipf exponent; 0: uniform */
    struct herd_fleet_call call;
    struct herd_fleet_conn conn; /* when call.to is an lb */
};

enum herd_fleet_discipline {
    HERD_FLEET_FIFO,
    HERD_FLEET_LIFO,        /* newest first: the old ones are the ones timing out */
    HERD_FLEET_DROP_OLDEST, /* full queue: the oldest queued request fails, the new one
                               queues */
};

enum herd_fleet_admission {
    HERD_FLEET_ADMIT_ALL,
    HERD_FLEET_ADMIT_TOKEN_BUCKET, /* libherd ratelimit: rate_per_s, burst */
    HERD_FLEET_ADMIT_LIMITER,      /* libherd adaptive concurrency limiter (AIMD) */
    HERD_FLEET_ADMIT_THROTTLE,     /* libherd client-side adaptive throttle (k) at callers */
};

struct herd_fleet_service {
    int workers;       /* >= 1; ignored when unlimited */
    bool unlimited;    /* every arrival is served at once (Brooker's server) */
    int64_t queue_cap; /* < 0: unbounded */
    enum herd_fleet_discipline discipline;
    enum herd_fleet_dist dist;
    int64_t service_ns; /* mean service time of a request alone */
    double sigma;       /* LOGNORMAL */
    double usl_sigma, usl_kappa; /* USL slowdown with concurrency */
    double per_concurrent;       /* Brooker: + this × (concurrency at start) × service_ns */
    int64_t shed_wait_ns;        /* > 0: shed a request that waited longer */
    bool cancel_abandoned;       /* skip work whose caller gave up (told of timeouts) */
    int64_t warmup_ns;           /* after a restart, capacity ramps from warm_start to 1 */
    double warm_start;           /* capacity share right after a restart, (0, 1] */
    enum herd_fleet_admission admission;
    double admit_rate_per_s;     /* TOKEN_BUCKET */
    int64_t admit_burst;         /* TOKEN_BUCKET */
    int admit_limit_max;         /* LIMITER: max_limit; initial = min(20, max) */
    double admit_k;              /* THROTTLE */
    int ncalls;                  /* made in order, a worker held meanwhile */
    struct herd_fleet_call calls[HERD_FLEET_MAX_CALLS];
};

struct herd_fleet_cache {
    int origin;             /* component index the misses go to (through `call`) */
    int hosts;              /* 1: one shared cache (L2); > 1: a copy per host (L1), a
                               caller's host = its index mod hosts */
    int64_t capacity;       /* keys kept per copy; 0: every key */
    int64_t ttl_ns;
    double ttl_jitter;      /* each fill's TTL is ttl·(1 − U[0, jitter)) */
    int64_t soft_ttl_ns;    /* > 0: after this a hit is served stale and refreshed in the
                               background (stale-while-revalidate) */
    int64_t max_age_ns;     /* > 0: how old a served copy may be (the data's correctness
                               bound); a hit or stale serve older counts as too_old */
    bool singleflight;      /* one fill per key at a time; the others wait for it */
    double xfetch_beta;     /* > 0: XFetch early refresh */
    int64_t hit_ns;         /* time to answer a hit */
    bool warm;              /* start filled (every key fresh, expiries spread) */
    struct herd_fleet_call call; /* to origin */
};

/* A load balancer: forwards each attempt to its backend over `call`. TLS ends at the
 * backend: an attempt on a connection not yet open carries the handshake, a CPU cost on
 * the backend's worker before the request (a reconnect after a drop carries only it). */
struct herd_fleet_lb {
    int64_t handshake_ns;        /* full handshake, worker time on the backend */
    int64_t resume_ns;           /* resumed session (a client that connected before) */
    bool resumption;             /* session resumption (tickets) on */
    int64_t drain_ns;            /* a drop closes its connections spread over this; 0: at once */
    double handshake_rate_per_s; /* > 0: handshakes admitted per second (libherd ratelimit);
                                    beyond it a connection is refused */
    int64_t handshake_burst;
    struct herd_fleet_call call; /* to the backend */
};

enum herd_fleet_lock {
    HERD_FLEET_LOCK_NOTIFY_ALL, /* every waiter watches the lock; a release wakes them all
                                   and they all try again (one wins) */
    HERD_FLEET_LOCK_NOTIFY_ONE, /* a queue: each waiter watches its predecessor; a release
                                   wakes the next one only */
    HERD_FLEET_LOCK_POLL,       /* waiters try again every poll_ns × U[1 − j, 1 + j] */
};

/* A coordination service (ZooKeeper, etcd): workers serve its requests (op_ns each,
 * FIFO); locks; and `candidates` members that elect a leader with randomized timeouts. */
struct herd_fleet_coord {
    int workers;
    int64_t op_ns;      /* one request's service time */
    double slowdown;    /* positive feedback: a request's time is op_ns × (1 + slowdown ×
                           queued / 1,000), the queue when it starts (GC, session
                           bookkeeping: a lock service slower as its backlog grows) */
    enum herd_fleet_lock lock;
    int64_t locks;      /* lock shards: a call's lock is its key mod locks */
    int64_t poll_ns;    /* POLL: period */
    double poll_jitter; /* POLL: j */
    int candidates;     /* members standing for leader; 0: no election */
    int64_t lease_ns;   /* a dead leader is noticed when its lease (session) expires */
    int64_t election_timeout_ns; /* each member's timer: timeout + U[0, jitter) */
    int64_t election_jitter_ns;
    int64_t vote_ns;    /* a campaign's vote requests, there and back */
};

struct herd_fleet_component {
    char name[HERD_FLEET_NAME];
    enum herd_fleet_kind kind;
    union {
        struct herd_fleet_clients clients;
        struct herd_fleet_service service;
        struct herd_fleet_cache cache;
        struct herd_fleet_lb lb;
        struct herd_fleet_coord coord;
    } u;
};

/* Faults. X(ID, name, help) */
#define HERD_FLEET_FAULTS(X)                                                                \
    X(ERRORS, "errors", "each arrival fails at once with probability p")                    \
    X(LATENCY, "latency", "service times × factor")                                         \
    X(CAPACITY, "capacity", "lose a share of the workers (p)")                              \
    X(CRASH, "crash", "down for the duration (arrivals refused), then a cold restart")      \
    X(FLUSH, "flush", "a cache loses every key at the fault's start")                       \
    X(PARTITION, "partition", "calls between two components are lost for the duration")   \
    X(DROP, "drop", "a load balancer restarts: every client connection is closed")          \
    X(LEADER_DEATH, "leader_death", "the coordination service's leader dies (for: down)")

enum herd_fleet_fault_kind {
#define HERD__FLEET_FAULT_ENUM(id, name, help) HERD_FLEET_FAULT_##id,
    HERD_FLEET_FAULTS(HERD__FLEET_FAULT_ENUM)
#undef HERD__FLEET_FAULT_ENUM
        HERD_FLEET_NFAULT_KINDS
};

struct herd_fleet_fault {
    enum herd_fleet_fault_kind kind;
    int target;      /* component index */
    int peer;        /* PARTITION: the other side; else -1 */
    int64_t at_ns, for_ns;
    double p;        /* ERRORS: probability; CAPACITY: share of workers lost */
    double factor;   /* LATENCY: multiplier */
};

struct herd_fleet {
    char name[HERD_FLEET_NAME];
    int64_t duration_ns; /* arrivals stop after this ... */
    int64_t drain_ns;    /* ... and the run ends this much later */
    int64_t bucket_ns;   /* timelines' bucket */
    int herd;            /* the herd's resource: a component index */
    int ncomps;
    struct herd_fleet_component comps[HERD_FLEET_MAX_COMPONENTS];
    int nfaults;
    struct herd_fleet_fault faults[HERD_FLEET_MAX_FAULTS];
    /* Recovery: after the last fault ends, goodput at the client fleets must come back to
     * recover_share of its level before the first fault, and stay there, within the
     * horizon; else the verdict is "stuck" (metastable). */
    double recover_share;
};

#endif
