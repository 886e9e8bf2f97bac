/* fleet_int.h — the fleet simulator's private state, shared by its modules (sim/fleet*.c).
 *
 * What it is for. herd_sim_fleet (fleet.h) runs a struct herd_fleet on the engine. The
 * work is split by component kind, each a small module with its own state and figures:
 *   fleet_call.c     the request path every caller shares: a logical CALL (one per
 *                    client request, per outgoing call of a service request, per cache
 *                    fill) made of ATTEMPTS (first, retries, a hedge), with per-attempt
 *                    timeouts, backoff, budgets, breakers, throttles and hedging;
 *   fleet_clients.c  client fleets: when calls begin (open, closed, periodic, triggered);
 *   fleet_service.c  services: workers, queue, discipline, service times, admission,
 *                    outgoing calls made while a worker is held;
 *   fleet_cache.c    caches: TTL, soft TTL, singleflight, XFetch, L1 copies, LRU;
 *   fleet_lb.c       load balancers: clients' connections, handshakes, drops, reconnects;
 *   fleet_coord.c    coordination services: locks, leader election;
 *   fleet_faults.c   the fault timeline;
 *   fleet.c          setup, the memory refusal, the run, the report and the recovery.
 *
 * Records. Calls and attempts live in two growable pools (flat arrays + free lists) and
 * are named by handles (generation << 32 | index): an event that outlives its record
 * (a reply after a crash, a timeout after the answer) finds a newer generation and does
 * nothing. An attempt is freed when BOTH its caller is done with it (answered, timed
 * out, cancelled) and its callee is (answered, dropped): the callee decides "wasted"
 * from the caller's state, and the caller's timeout from the callee's silence.
 *
 * Timeouts. Every attempt on an edge (a call spec: from → to) has the same timeout, so
 * deadlines come in send order: each edge keeps them in a FIFO ring and ONE lazily armed
 * engine timer; an answered attempt leaves a stale ring entry that is skipped when it
 * reaches the head (its generation moved on or its caller state is no longer pending),
 * so the timer costs about one event per timeout span per edge plus one per timeout
 * that really fires, and a reply never cancels anything.
 *
 * Thread safety: none; one run owns all of this.
 */
#ifndef HERD_SIM_FLEET_INT_H
#define HERD_SIM_FLEET_INT_H

#include <stdbool.h>
#include <stdint.h>

#include <herd/backoff.h>
#include <herd/breaker.h>
#include <herd/budget.h>
#include <herd/limiter.h>
#include <herd/ratelimit.h>
#include <herd/rng.h>
#include <herd/throttle.h>

#include "../report/fleet_figures.h"
#include "../report/hist.h"
#include "../report/report.h"
#include "../scenario/fleet.h"
#include "engine.h"

#define FS_NONE UINT32_MAX
#define FS_MAX_EDGES (HERD_FLEET_MAX_COMPONENTS * HERD_FLEET_MAX_CALLS)

/* RNG streams: (component + 1) << 40 | sub << 32 | entity (engine.h's advice). */
#define FS_STREAM(comp, sub, i)                                                             \
    ((((uint64_t)(comp) + 1) << 40) | ((uint64_t)(sub) << 32) | (uint64_t)(uint32_t)(i))
enum { FS_SUB_COMP = 0, FS_SUB_CLIENT = 1, FS_SUB_SKEW = 2, FS_SUB_ARRIVAL = 3, FS_SUB_EDGE = 4,
       FS_SUB_FAULT = 16 };

/* What an attempt came to, as its callee answered it. */
enum fs_status {
    FS_OK = 0,
    FS_ERROR,   /* failed (a fault's error, a failed downstream call) */
    FS_REJECT,  /* refused: full queue, admission, a crashed component */
    FS_SHED,    /* waited longer than shed_wait_ns, or the limiter's limit */
    FS_DROPPED, /* a full DROP_OLDEST queue pushed it out: fails fast */
};

/* How a callee answered: with work of its own, without (a hit, a coalesced join), or
 * neither (a rejection). Decides the herd resource's outcome class. */
enum fs_how { FS_HOW_NONE = 0, FS_HOW_WORK, FS_HOW_SERVED };

/* An attempt's state at its caller and at its callee. */
enum { FS_CALLER_PENDING = 0, FS_CALLER_ANSWERED, FS_CALLER_GONE };
enum { FS_CALLEE_NET = 0, FS_CALLEE_QUEUED, FS_CALLEE_BUSY, FS_CALLEE_WAIT, FS_CALLEE_DONE };

/* Who owns a call (and hears its end). LB: an lb forwarding an attempt (owner: that
 * attempt); CONN: a client reopening its connection (owner: the client). */
enum { FS_OWN_CLIENT = 0, FS_OWN_SREQ, FS_OWN_FILL, FS_OWN_REFRESH, FS_OWN_LB, FS_OWN_CONN };

/* What an attempt through an lb carries besides its request (fs_att.hs). */
enum { FS_HS_FULL = 1, FS_HS_RESUMED = 2, FS_HS_ONLY = 4 /* a reconnect: no request */ };

/* Per-component timeline series (fleet_figures.h's order). */
enum { FS_TL_ARRIVALS, FS_TL_GOODPUT, FS_TL_ERRORS, FS_TL_RETRIES, FS_TL_QUEUE, FS_TL_CONC,
       FS_TL_LAT_SUM, FS_TL_LAT_N, FS_TL_HS, FS_TL_CONNS, FS_TL_REQS, FS_TL_WATCH,
       FS_TL_MISSES, FS_TL_N };

struct fs_call {
    int64_t start_ns; /* the scheduled start: latency is measured from here */
    uint64_t key;
    uint32_t owner;     /* client index, or the owning attempt's index (SREQ, FILL) */
    uint32_t owner_gen; /* the owning attempt's generation */
    uint32_t client;    /* the originating client (a cache's host = client mod hosts) */
    uint32_t gen;       /* generation (bumped at free); the free list's link when free */
    uint16_t edge;
    uint8_t owner_kind;
    uint8_t attempts; /* sent so far */
    uint8_t live;     /* attempts in flight */
    uint8_t arrived;  /* an attempt reached the callee: counted once in its calls */
    uint8_t timed_out; /* the last failure was a timeout */
    uint8_t has_ticket;
    double brooker_b; /* BROOKER backoff's b */
    struct herd_backoff bo;
    struct herd_budget_ticket ticket;
    uint32_t att[2]; /* live attempts (indices), FS_NONE */
};

struct fs_att {
    int64_t sent_ns, arrive_ns, start_ns;
    uint64_t key;
    uint32_t call, call_gen; /* the call it belongs to */
    uint32_t gen;
    uint32_t next;   /* queue / singleflight waiters / free list */
    uint32_t client; /* originating client */
    uint32_t epoch;  /* the callee's life (a crash starts a new one) */
    uint32_t sub, sub_gen; /* a service request's current outgoing call */
    uint16_t edge;
    uint8_t caller, callee;
    uint8_t index; /* 0: the call's first attempt; > 0: retry or hedge */
    uint8_t step;  /* service: outgoing calls made */
    uint8_t limited; /* holds a limiter token */
    uint8_t lead;    /* cache: leads its key's fill */
    uint8_t status;  /* enum fs_status, once answered */
    uint8_t how;     /* enum fs_how, once answered */
    uint8_t hs;      /* FS_HS_*: the handshake it carries (through an lb); coord: its state */
    struct herd_breaker_permit permit;
    struct herd_limiter_token ltok;
};

/* A pending timeout on an edge. */
struct fs_tmo {
    int64_t deadline;
    uint64_t att; /* handle */
};

struct fs_edge {
    const struct herd_fleet_call *spec; /* borrowed from the model */
    int from, to, idx;
    struct herd_rng rng; /* network draws, both ways */
    struct herd_backoff_policy pol;
    struct herd_budget *budget;
    struct herd_breaker *breaker;
    struct herd_throttle *throttle;
    struct fs_tmo *tmo; /* ring, cap a power of 2 */
    size_t tmo_cap, tmo_head, tmo_len;
    bool tmo_armed;
    bool to_lb;                       /* clients → lb: attempts carry the connection's state */
    bool from_lb;                     /* lb → backend: its caller is the client's attempt */
    int64_t hs_full_ns, hs_resume_ns; /* lb → backend: what a handshake costs there */
};

/* A client of a fleet: 64 bytes. */
struct fs_client {
    struct herd_rng rng; /* think times, jitter, keys, backoff jitter */
    int64_t skew;        /* own clock − true clock (PERIODIC, TRIGGERED) */
    uint8_t busy;        /* a call in flight (CLOSED, PERIODIC, TRIGGERED) */
    uint8_t conn;        /* FS_CONN_*: its connection to an lb */
    uint8_t tries;       /* failed reopenings since its connection dropped */
    uint8_t session;     /* it connected before: a handshake may resume */
    uint32_t calls, fails; /* PER_CLIENT breaker */
    float tokens;          /* PER_CLIENT budget */
    int64_t last_ok;       /* its last successful call's end (0: none yet): max_gap */
};

enum { FS_CONN_CLOSED = 0, FS_CONN_OPEN, FS_CONN_OPENING };

/* A cache entry (one key of one copy). */
struct fs_entry {
    int64_t expires, soft_at;
    int64_t delta; /* last fill's duration (XFetch) */
    int64_t filled; /* when the copy was stored (max_age) */
    uint32_t epoch;   /* valid when equal to the cache's epoch */
    uint32_t waiters; /* singleflight: head of the attempts waiting (index + 1), 0: none */
    uint8_t filling, refreshing;
    uint64_t key;         /* LRU: the key held */
    uint32_t prev, next;  /* LRU list */
};

struct fs_comp;

struct fs_cache_copy {
    struct fs_entry *e; /* keyspace entries (capacity 0) or capacity slots (LRU) */
    uint32_t *hash;     /* LRU: open addressing key → slot + 1 */
    size_t hcap, used;
    uint32_t head, tail; /* LRU: most / least recently used */
};

struct fs_comp {
    const struct herd_fleet_component *spec; /* borrowed */
    int idx;
    struct herd_rng rng;
    struct herd_fleet_comp_figures *fig; /* the report's, filled as the run goes */
    struct herd_hist hist;               /* latency of answered attempts (clients: e2e) */
    int64_t *tl[FS_TL_N];                /* nbuckets each */
    int64_t level_q, level_c, level_n;   /* queue depth, concurrency, connections open */
    size_t lvl_idx[3];                   /* the bucket each level was last written to */
    /* faults */
    double err_p, lat_factor, cap_loss;
    bool down;
    uint32_t epoch;
    int64_t restart_ns; /* last restart (warm-up from here); INT64_MIN: never */
    /* clients */
    struct fs_client *cl;
    int edge; /* clients, cache: the one outgoing edge */
    double lambda_max;
    struct herd_rng arr_rng;
    /* service */
    int64_t busy;
    uint64_t *q; /* ring of attempt handles */
    size_t q_cap, q_head, q_len;
    struct herd_ratelimit *rl;
    struct herd_limiter *lim;
    int edges[HERD_FLEET_MAX_CALLS];
    /* cache */
    int64_t keys; /* keyspace */
    uint32_t cache_epoch;
    struct fs_cache_copy *copies;
    int ncopies;
    /* lb */
    struct herd_ratelimit *hs_rl; /* handshake_rate */
    /* coord */
    struct fs_coord *co;
};

struct fsim {
    const struct herd_fleet *m;
    struct herd_sim *sim;
    struct herd_report *r;
    struct herd_fleet_figures *fig;
    int err;
    int64_t horizon, bucket_ns;
    size_t nb;
    struct fs_comp comps[HERD_FLEET_MAX_COMPONENTS];
    struct fs_edge edges[FS_MAX_EDGES];
    int nedges;
    /* pools */
    struct fs_call *calls;
    uint32_t ncalls, capcalls, free_calls;
    struct fs_att *atts;
    uint32_t natts, capatts, free_atts;
    uint32_t max_records; /* refuse beyond this many calls or attempts at once */
    /* partitions in force: pairs (a, b), counted */
    int npart;
    int part_a[HERD_FLEET_MAX_FAULTS], part_b[HERD_FLEET_MAX_FAULTS];
    /* the herd resource's DESIGN §1 figures */
    uint64_t h_useful, h_served, h_wasted, h_failed, h_origin;
    int64_t h_peak;
    uint64_t h_seen; /* attempts classed so far: the waiters' tiles */
    /* client fleets' goodput per bucket (recovery) */
    int64_t *goodput;
    uint64_t key_unused;
};

static inline uint64_t fs_handle(uint32_t idx, uint32_t gen)
{
    return (uint64_t)gen << 32 | idx;
}

/* fleet.c */
void fs_fail(struct fsim *fs, int rc);
size_t fs_bucket(const struct fsim *fs, int64_t t);
void fs_tl_add(struct fsim *fs, struct fs_comp *c, int series, int64_t v);
void fs_level(struct fsim *fs, struct fs_comp *c, int series, int64_t v);
int64_t fs_draw(struct herd_rng *rng, enum herd_fleet_dist d, int64_t mean, double sigma);
/** Make room for one more in the ring @p *buf of @p *cap (a power of 2) entries of
 *  @p size bytes holding @p len from @p *head: doubles it, oldest first at 0.
 *  @return 0, or -HERD_ENOMEM (the run fails: fs_fail). */
int fs_ring_room(struct fsim *fs, void **buf, size_t *cap, size_t *head, size_t len, size_t size);

/* fleet_call.c */
int fs_calls_init(struct fsim *fs);
void fs_calls_fini(struct fsim *fs);
/** Begin a call on @p edge owned by (@p kind, @p owner, @p owner_gen) at @p start_ns
 *  (<= now) for @p key and client @p client; its first attempt is sent now. */
void fs_call_begin(struct fsim *fs, int edge, int kind, uint32_t owner, uint32_t owner_gen,
                   uint32_t client, uint64_t key, int64_t start_ns);
/** The callee answers attempt @p ai with @p status now (the reply travels back). */
void fs_answer(struct fsim *fs, uint32_t ai, int status, int how);
/** The callee drops attempt @p ai without an answer (its caller will time out): a crash
 *  (counted dropped) or, with @p cancelled, abandoned work it skipped (cancel_abandoned). */
void fs_drop(struct fsim *fs, uint32_t ai, bool cancelled);
/** The attempt of handle @p h, or NULL when it is gone. */
struct fs_att *fs_att_get(struct fsim *fs, uint64_t h);
/** The attempt of handle @p h with its callee in @p *callee, or NULL when it is gone
 *  (an event that outlived it). */
struct fs_att *fs_att_callee(struct fsim *fs, uint64_t h, struct fs_comp **callee);
/** Has the caller of attempt @p a given up on it: its own caller, or the client whose
 *  attempt an lb forwarded as @p a (work done for it is wasted)? */
bool fs_abandoned(struct fsim *fs, const struct fs_att *a);
/** Free attempt @p ai if both sides are done with it. */
void fs_att_maybe_free(struct fsim *fs, uint32_t ai);
/** Count the arrival of attempt @p a at component @p c (calls, attempts, retries). */
void fs_count_arrival(struct fsim *fs, struct fs_comp *c, struct fs_att *a);
/** Answer attempt @p ai at once if component @p c is down (REJECT) or an ERRORS fault
 *  fails it (ERROR). @return true when it did. */
bool fs_refused(struct fsim *fs, struct fs_comp *c, uint32_t ai);
/** Whether a partition is in force between components @p a and @p b. */
bool fs_partitioned(const struct fsim *fs, int a, int b);

/* fleet_clients.c */
int fs_clients_init(struct fsim *fs, struct fs_comp *c);
void fs_clients_fini(struct fs_comp *c);
void fs_clients_start(struct fsim *fs, struct fs_comp *c);
void fs_client_call_done(struct fsim *fs, struct fs_call *call, bool ok, int64_t now);
/** PER_CLIENT budget/breaker state of a call's client (NULL unless a fleet's). */
struct fs_client *fs_client_of(struct fsim *fs, const struct fs_call *call);
size_t fs_client_bytes(const struct herd_fleet_clients *c);

/* fleet_service.c */
int fs_service_init(struct fsim *fs, struct fs_comp *c);
void fs_service_fini(struct fs_comp *c);
void fs_service_arrive(struct fsim *fs, struct fs_comp *c, uint32_t ai);
void fs_service_call_done(struct fsim *fs, struct fs_call *call, bool ok);
void fs_service_pump(struct fsim *fs, struct fs_comp *c);
void fs_service_crash(struct fsim *fs, struct fs_comp *c);

/* fleet_cache.c */
int fs_cache_init(struct fsim *fs, struct fs_comp *c);
void fs_cache_fini(struct fs_comp *c);
void fs_cache_arrive(struct fsim *fs, struct fs_comp *c, uint32_t ai);
void fs_cache_call_done(struct fsim *fs, struct fs_call *call, bool ok);
void fs_cache_flush(struct fsim *fs, struct fs_comp *c);
void fs_cache_crash(struct fsim *fs, struct fs_comp *c);
size_t fs_cache_bytes(const struct herd_fleet *m, int comp);

/* fleet_lb.c */
int fs_lb_init(struct fsim *fs, struct fs_comp *c);
void fs_lb_fini(struct fs_comp *c);
void fs_lb_arrive(struct fsim *fs, struct fs_comp *c, uint32_t ai);
void fs_lb_call_done(struct fsim *fs, struct fs_call *call, bool ok);
/** The FS_HS_* flags of an attempt of @p call about to go out on its edge. */
uint8_t fs_lb_attempt_hs(struct fsim *fs, const struct fs_call *call);
/** A client's connection call (owner CONN) ended. */
void fs_lb_conn_done(struct fsim *fs, struct fs_call *call, bool ok);
/** A client call through an lb ended: its connection is open when it succeeded. */
void fs_lb_client_done(struct fsim *fs, struct fs_comp *clients, uint32_t i, bool ok);
/** Open every persistent client connection through lb @p c (at the start). */
void fs_lb_start(struct fsim *fs, struct fs_comp *c);
/** The DROP fault: close every connection through lb @p c (over its drain window). */
void fs_lb_drop(struct fsim *fs, struct fs_comp *c);

/* fleet_coord.c */
int fs_coord_init(struct fsim *fs, struct fs_comp *c);
void fs_coord_fini(struct fs_comp *c);
void fs_coord_arrive(struct fsim *fs, struct fs_comp *c, uint32_t ai);
/** The LEADER_DEATH fault's start (@p end false) or end (the member comes back). */
void fs_coord_leader_death(struct fsim *fs, struct fs_comp *c, bool end);
/** Figures that are known only at the end (lock latency quantiles, time without leader). */
void fs_coord_finish(struct fsim *fs, struct fs_comp *c);

/* fleet_faults.c */
void fs_faults_start(struct fsim *fs);
/** The capacity share of @p c now: warm-up after a restart and capacity faults. */
double fs_capacity_share(const struct fsim *fs, const struct fs_comp *c);

#endif
