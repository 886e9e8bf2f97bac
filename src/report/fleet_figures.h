/* fleet_figures.h — a fleet run's per-component figures, topology, faults and recovery.
 *
 * What it is for. A run of a scenario file (scenario/fleet.h, sim/fleet.h) reports the
 * DESIGN §1 figures for its herd resource like every run, plus this section: per
 * component (client fleet, service, cache) what it received and what became of it, its
 * retry amplification (attempts / unique calls), and its timelines on one shared bucket;
 * the topology (calls between components, for the page to draw); the faults; and the
 * recovery after the last fault (time to recover, verdict recovered / stuck / no fault).
 * The report owns one (struct herd_report.fleet, freed by herd_report_fini); an aggregate
 * of runs keeps the first run's, as it keeps the first run's timeline.
 *
 * The report layer sits below scenario/: this header does not know struct herd_fleet;
 * the simulator copies what the page needs (names, kinds as strings, indices).
 * Writers: JSON (an object), CSV (a documented section), text (a compact table);
 * docs/glossary.md ("Fleet figures") says what each figure means.
 * Cost: about 0.3 MB per component at the largest timeline. Thread safety: none.
 */
#ifndef HERD_REPORT_FLEET_FIGURES_H
#define HERD_REPORT_FLEET_FIGURES_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#define HERD_FLEET_FIG_COMPS 16
#define HERD_FLEET_FIG_EDGES 64
#define HERD_FLEET_FIG_FAULTS 16

/* A component's timeline series: X(ID, name, sums). sums: a count per bucket; else a
 * level (the most within the bucket). latency is the mean of the attempts answered in
 * the bucket (clients: of the calls that ended in it), ns; 0 when none. */
#define HERD_FLEET_SERIES(X)                                                                \
    X(ARRIVALS, "arrivals", true)                                                           \
    X(GOODPUT, "goodput", true)                                                             \
    X(ERRORS, "errors", true)                                                               \
    X(RETRIES, "retries", true)                                                             \
    X(QUEUE, "queue", false)                                                                \
    X(CONCURRENCY, "concurrency", false)                                                    \
    X(LATENCY, "latency_ns", false)                                                         \
    X(HANDSHAKES, "handshakes", true)                                                       \
    X(CONNECTIONS, "connections", false)                                                    \
    X(REQUESTS, "coord_requests", true)                                                     \
    X(WATCH, "watch_events", true)                                                          \
    X(MISSES, "misses", true)

enum herd_fleet_series {
#define HERD__FLEET_SERIES_ENUM(id, name, sums) HERD_FLEET_S_##id,
    HERD_FLEET_SERIES(HERD__FLEET_SERIES_ENUM)
#undef HERD__FLEET_SERIES_ENUM
        HERD_FLEET_NSERIES
};

struct herd_fleet_comp_figures {
    char name[32];
    const char *kind; /* static: "clients", "service", "cache" */
    /* Received (a client fleet: made). */
    uint64_t calls;    /* unique logical calls received (clients: begun) */
    uint64_t attempts; /* attempts received (clients: sent), retries and hedges included */
    uint64_t retries;  /* attempts after a call's first */
    double amplification; /* attempts / calls; 0 when no call */
    /* What the component answered (clients: how its calls ended). */
    uint64_t ok, errors, rejected, shed, dropped;
    uint64_t cancelled; /* abandoned work skipped (cancel_abandoned) */
    uint64_t timeouts;  /* attempts to this component its callers timed out on (clients:
                           its own attempts that timed out) */
    uint64_t wasted;    /* attempts whose work was done for a caller who had given up */
    int64_t wasted_ns;  /* worker time spent on them */
    int64_t peak_queue, peak_concurrency;
    int64_t max_gap_ns; /* clients: the longest time one client went between successful
                           calls (from the start; a periodic client that never
                           succeeded: the whole arrivals): a periodic refresh's worst gap */
    int64_t p50_ns, p99_ns; /* attempts answered, arrival → answer (clients: end to end) */
    uint64_t hits, misses, stale, coalesced; /* caches */
    uint64_t too_old; /* caches: copies served older than max_age (hits and stale serves) */
    /* Load balancers: handshakes let through (of them resumed) and refused by
     * handshake_rate, clients' reconnect attempts, connections closed by a drop, the
     * most open at once and the most handshakes in one bucket (per second). */
    uint64_t handshakes, resumed, handshakes_refused, reconnects, conns_dropped;
    int64_t conns_peak;
    double handshakes_peak_per_s;
    /* Services: worker time in all, and of it on handshakes (an lb's backend). */
    int64_t busy_ns, handshake_ns;
    /* Coordination services: requests served (lock tries, releases, leader requests, and
     * an election's vote requests), watch events delivered, waiters woken (a watch event
     * or a poll) and of them those that did not get the lock, locks granted and the
     * acquisition latency (arrival → grant), elections won, rounds and split votes, the
     * last and the longest time from a leader's death to a new leader (-1: none), and
     * the time spent without a leader. */
    uint64_t coord_requests, watch_events, wakeups, wasted_wakeups, lock_grants;
    int64_t lock_p50_ns, lock_p99_ns;
    uint64_t elections, election_rounds, split_votes;
    int64_t leader_ns, leader_max_ns, no_leader_ns;
    int64_t *series[HERD_FLEET_NSERIES];     /* owned, nbuckets each */
};

struct herd_fleet_edge_figures {
    int from, to; /* component indices */
    int64_t timeout_ns;
    int max_attempts;
};

struct herd_fleet_fault_figures {
    const char *kind; /* static: "errors", "latency", ... */
    int target, peer; /* peer -1 unless a partition */
    int64_t at_ns, for_ns;
};

struct herd_fleet_claim_verdict;

struct herd_fleet_figures {
    char name[32]; /* the scenario's */
    int herd;      /* the herd's resource (component index) */
    int ncomps;
    struct herd_fleet_comp_figures comps[HERD_FLEET_FIG_COMPS];
    int64_t bucket_ns;
    size_t nbuckets;
    int nedges;
    struct herd_fleet_edge_figures edges[HERD_FLEET_FIG_EDGES];
    int nfaults;
    struct herd_fleet_fault_figures faults[HERD_FLEET_FIG_FAULTS];
    /* Recovery: client fleets' goodput (successful calls per second). */
    double recover_share;
    double goodput_before;  /* over the buckets before the first fault starts */
    double goodput_after;   /* from the last fault's end to the end of arrivals */
    int64_t recover_ns;     /* last fault's end → recovered; -1 when not (stuck, no fault) */
    const char *verdict;    /* static: "recovered", "stuck", "no fault" */
    /* The file's claims, judged (herd run --check); 0 when not checked. */
    int nclaims;
    struct herd_fleet_claim_verdict *claims; /* owned, nclaims entries */
};

/** A zeroed figures object, or NULL without memory. Free with herd_fleet_figures_free. */
struct herd_fleet_figures *herd_fleet_figures_new(void);

/** Allocate @p nbuckets of @p bucket_ns for every series of the first @p ncomps
 *  components (zeroed). @return 0 or -HERD_ENOMEM. */
int herd_fleet_figures_size(struct herd_fleet_figures *f, int ncomps, int64_t bucket_ns,
                            size_t nbuckets);

void herd_fleet_figures_free(struct herd_fleet_figures *f);

/** A deep copy of @p f, or NULL without memory. */
struct herd_fleet_figures *herd_fleet_figures_dup(const struct herd_fleet_figures *f);

/** The series' names ("arrivals", ...), HERD_FLEET_NSERIES of them. */
const char *herd_fleet_series_name(int s);

/** @p f as a JSON object (json_t *, as void *), or NULL without memory. */
void *herd_fleet_figures_json(const struct herd_fleet_figures *f);

/** The CSV section: a "fleet" table then a "fleet_timeline" table (see write_csv.c).
 *  @p run labels the rows. @return 0 or a negated errno. */
int herd_fleet_figures_csv(FILE *out, const struct herd_fleet_figures *f, const char *run);

/** The text table (within @p width columns) and the recovery line. */
void herd_fleet_figures_text(FILE *out, const struct herd_fleet_figures *f, bool utf8, int width);

/* ---- claims (a scenario file's `claim` block, docs/scenario-file.md) ----------------
 * A claim reads figures of a run by path: a top-level figure of DESIGN §1 ("peak",
 * "origin_load", "latency.p99", "recovery.recover" ...) or a component's
 * ("components.db.amplification"). Times read in seconds, rates per second; a verdict
 * ("recovery.verdict") reads as a word. */

#define HERD_FLEET_MAX_CLAIMS 16

/** Is @p path a figure of the vocabulary? A component's figures are named
 *  "components.NAME.FIGURE"; NAME is not checked here. */
bool herd_fleet_figure_known(const char *path);

/** The figure names: @p component false for the top level, true for a component's;
 *  NULL-terminated, static. */
const char *const *herd_fleet_figure_names(bool component);

/** Is figure @p path a time (read in seconds; a claim's value is then a duration)? */
bool herd_fleet_figure_is_time(const char *path);

/** Is figure @p path a word (recovery.verdict)? */
bool herd_fleet_figure_is_word(const char *path);

struct herd_report;

/**
 * Figure @p path of run @p r: a number into @p *value, or a word into @p *word (static).
 * @return 0, or -ENOENT when the run has no such figure (no such component, not a fleet
 * run).
 */
int herd_fleet_figure(const struct herd_report *r, const char *path, double *value,
                      const char **word);

/* A claim judged on runs: what the JSON's fleet.claims and the text report print. */
struct herd_fleet_claim_verdict {
    char says[200];  /* the section's answer, as the file says it */
    char check[200]; /* the check as written */
    double measured; /* the figure (or the ratio) measured; NAN when not measured */
    char word[16];   /* a word figure's value, else "" */
    bool pass;
};

/** The verdicts as a JSON array (json_t *, as void *), or NULL without memory. */
void *herd_fleet_claims_json(const struct herd_fleet_claim_verdict *v, int n);

/** One line per verdict ("PASS  measured  check  — says"). */
void herd_fleet_claims_text(FILE *out, const struct herd_fleet_claim_verdict *v, int n);

#endif
