/* report.h — the one report every run produces, whatever its scenario or backend.
 *
 * DESIGN §1: every reaction of a waiter to a trigger ends in one of five outcome classes
 * (useful, served, wasted, failed; idle when it did not react), the same in every
 * scenario and backend; wakes, useful, wasted, origin load and peak are defined from them
 * in docs/glossary.md. Plus latency (a log-linear histogram), a timeline of fixed-width
 * buckets, the tiles of the first 240 waiters, and what was run. Backends fill a report
 * through the functions below; writers (text, JSON, CSV) read it. Totals are the sums of
 * the per-event figures a backend adds with herd_report_add_event(), so per-event medians
 * come for free; a backend that records every reaction in its tile too
 * (herd_report_waiter) makes the tiles of a run with N <= 240 sum to the counters, which
 * the tests check for every scenario, strategy and backend.
 * This layer knows nothing of scenarios: what was run arrives as plain values
 * (struct herd_run_info, filled by src/scenario).
 * A report owns its heap arrays: herd_report_init() then herd_report_fini().
 * Not thread-safe: one thread fills it (merge per-thread histograms first).
 */
#ifndef HERD_REPORT_REPORT_H
#define HERD_REPORT_REPORT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "fleet_figures.h"
#include "hist.h"
#include "machine.h"
#include "provenance.h"
#include "stats.h"

#define HERD_REPORT_WAITERS 240
#define HERD_REPORT_MAX_PARAMS 16
#define HERD_TIMELINE_MAX_SERIES 8
#define HERD_TIMELINE_MAX_BUCKETS 4000
#define HERD_REPORT_MAX_EXTRAS 24
/* Runs whose own latency histograms an aggregate keeps for run-to-run intervals (58 KiB
 * each); beyond it, the intervals come from the pooled samples alone. */
#define HERD_REPORT_MAX_RUN_HISTS 32

/*
 * The outcome of one reaction to a trigger: the same five classes in every scenario,
 * backend, counter, grid, JSON, CSV and metric (docs/glossary.md says, scenario by
 * scenario, which reaction falls in which). Idle is 0 so a zeroed tile is idle.
 */
#define HERD_OUTCOMES(X)                                                                    \
    X(IDLE, idle, "not woken by the event")                                                 \
    X(USEFUL, useful, "did the needed work")                                                \
    X(SERVED, served, "got what it needed without doing the work (coalesced, stale, hit)") \
    X(WASTED, wasted, "woke or acted, and its work was redundant or thrown away")           \
    X(FAILED, failed, "error, timeout, shed or rejected")

enum herd_outcome {
#define HERD__OUTCOME_ENUM(ID, name, doc) HERD_OUT_##ID,
    HERD_OUTCOMES(HERD__OUTCOME_ENUM)
#undef HERD__OUTCOME_ENUM
        HERD_OUT_COUNT
};

/* What was run, as plain values: the scenario layer describes a run spec into it
 * (herd_spec_describe, src/scenario), so the report and its writers depend on nothing
 * above them. Static strings point into the catalogue. */
struct herd_run_param {
    const char *key;  /* static */
    char text[32];    /* as herd list and --set spell it: "500", "0.25", "process" */
    double number;    /* its value (an enum: the choice's index) */
    bool is_int, is_text;
};

struct herd_run_info {
    const char *scenario;   /* static: the catalogue's name */
    const char *strategy;   /* static: what the run does ("epoll", "futex-wake-all" ...) */
    const char *mitigation; /* static: "none" for a naive run, else the mitigation */
    bool naive;
    int64_t n, events;
    uint64_t seed;
    int nparams;
    struct herd_run_param params[HERD_REPORT_MAX_PARAMS];
    /* For the text header: the scenario's own words (static). */
    const char *trigger, *waiters, *resource, *naive_name, *waiter_noun;
};

struct herd_series {
    char name[24];
    int64_t *v; /* timeline.len values */
    bool sums;  /* a count per bucket (arrivals, wakes ...): a coarser bucket adds them up;
                   else a level (in flight, queued): a coarser bucket takes its peak. Set
                   from the name when the series is made (herd_report_series) */
};

struct herd_timeline {
    int64_t bucket_ns;
    size_t len;
    int nseries;
    struct herd_series series[HERD_TIMELINE_MAX_SERIES];
};

/** A named scenario-specific figure (EAGAINs, stale serves, kernel switches ...). */
struct herd_extra {
    char name[32];
    double value;
};

struct herd_spread {
    bool present;        /* the scenario has workers */
    int64_t workers;     /* workers that could take work */
    int64_t workers_used;
    double max_share;     /* the busiest worker's share of the useful work */
    double max_min_ratio; /* busiest / least busy, among the workers used */
};

/* One of the first 240 waiters: how many of its reactions fell in each class over the
 * run (idle: events in which it did not react). Summed over every waiter of a run with
 * N <= 240 these are the report's counters exactly. */
struct herd_waiter {
    uint32_t n[HERD_OUT_COUNT];
};

/* One event's figures, as a backend hands them over (herd_report_add_event). */
struct herd_event {
    uint64_t useful, served, wasted, failed; /* reactions by class */
    uint64_t idle;                           /* waiters that did not react */
    uint64_t origin_load; /* operations that reached the contended resource */
    uint64_t peak;        /* largest concurrent load at the resource during the event */
};

/* The per-event series a report keeps (for medians and intervals): X(name). */
#define HERD_EVENT_SERIES(X)                                                                \
    X(wakes) X(useful) X(served) X(wasted) X(failed) X(idle) X(origin) X(peak)

struct herd_event_series {
#define HERD__EV_FIELD(name) double *name;
    HERD_EVENT_SERIES(HERD__EV_FIELD)
#undef HERD__EV_FIELD
    int32_t *run; /* which run (0-based) each event belongs to */
};

/*
 * The headline figures of a report as doubles: what --runs R averages (each figure the
 * mean over the runs) and what its spread is given as (the sample standard deviation).
 * One X-macro so the JSON keys, the means and the deviations cannot drift apart.
 */
#define HERD_FIGURES(X)                                                                     \
    X(wakes) X(useful) X(served) X(wasted) X(failed) X(idle) X(origin_load) X(peak)         \
    X(pe_wakes) X(pe_useful) X(pe_served) X(pe_wasted) X(pe_failed) X(pe_origin_load)        \
    X(lat_mean) X(lat_p50) X(lat_p90) X(lat_p99) X(lat_p999) X(lat_max) X(sim_time_ns)

struct herd_figures {
#define HERD__FIG_FIELD(name) double name;
    HERD_FIGURES(HERD__FIG_FIELD)
#undef HERD__FIG_FIELD
};

/* Sums of runs' figures, for means and standard deviations (zero-initialise it). Adding
 * the same figures in the same order gives the same digits, however they were gathered:
 * herd_report_merge and herd sweep --mpi both take their means through it. */
struct herd_figures_acc {
    struct herd_figures sum, sq;
    size_t n;
};

/* A report's intervals (herd_report_intervals, 95 %): the per-event medians of wakes,
 * useful, served, wasted, failed and origin load (HERD_EV_CI_*), and the latency
 * percentiles of herd_report_lat_q (p50, p90, p99, p99.9). */
enum { HERD_EV_CI_WAKES, HERD_EV_CI_USEFUL, HERD_EV_CI_SERVED, HERD_EV_CI_WASTED,
       HERD_EV_CI_FAILED, HERD_EV_CI_ORIGIN, HERD_EV_CI };
enum { HERD_LAT_CI_P50, HERD_LAT_CI_P90, HERD_LAT_CI_P99, HERD_LAT_CI_P999, HERD_LAT_CI };
extern const double herd_report_lat_q[HERD_LAT_CI];

struct herd_report_ci {
    bool present;
    struct herd_stats_interval ev[HERD_EV_CI];
    struct herd_stats_interval lat[HERD_LAT_CI];
};

struct herd_report {
    struct herd_run_info run; /* what was run */
    const char *backend;      /* "live" or "sim" (static string) */

    /* Totals over every event (and every run of an aggregate): reactions by outcome
     * class, wakes = useful + served + wasted + failed, idle waiter-events, and the
     * operations that reached the resource. */
    uint64_t wakes, useful, served, wasted, failed, idle, origin_load;
    uint64_t peak; /* max over events of the concurrent load at the resource */

    /* Per-event figures (nevents entries each), for medians and intervals. */
    size_t nevents, cap_events;
    struct herd_event_series ev;

    struct herd_hist latency; /* pooled over the runs of an aggregate */
    struct herd_spread spread;
    struct herd_timeline timeline;
    int nextras;
    struct herd_extra extras[HERD_REPORT_MAX_EXTRAS];

    int64_t population; /* the run's waiters: n, or the requests when they are the waiters
                           (the queue preset) */
    size_t nwaiters;    /* min(population, 240) */
    struct herd_waiter waiters[HERD_REPORT_WAITERS];

    int64_t sim_time_ns; /* sim backend only: the simulated span of the run, summed over the
                            runs of an aggregate (the mean per run is mean.sim_time_ns); -1
                            otherwise. The one simulated time: the JSON's provenance.sim_ns
                            is written from it (provenance.sim_ns itself stays -1) */

    /* An aggregate of R runs (herd_report_merge): counters, events, histogram and
     * waiters are pooled over the runs; timeline, spread and extras are the first run's;
     * sim_time_ns is the total; mean and stddev are the headline figures over the runs
     * (mean.sim_time_ns the span per run); run_hist the runs' own
     * histograms (the first HERD_REPORT_MAX_RUN_HISTS), for run-to-run intervals.
     * runs = 1 for a single run. */
    int runs;
    struct herd_figures mean, stddev;
    struct herd_figures_acc acc; /* the per-run sums behind mean and stddev */
    int nrun_hist;
    struct herd_hist *run_hist; /* owned, nrun_hist entries (NULL for a single run) */

    /* Filled by the front end around the backend's run (src/front/runner.c), never by a
     * backend: what produced the report and how noisy the machine was meanwhile. A
     * report without them (a backend's own, in tests) is still complete; only these
     * two vary between two runs of the same spec and seed on the simulator. */
    bool has_provenance, has_machine;
    struct herd_provenance provenance;
    struct herd_machine machine;

    struct herd_report_ci ci; /* herd_report_intervals(); ci.present says whether */

    /* A fleet run's per-component section (fleet_figures.h), owned; NULL for every other
     * scenario. An aggregate keeps the first run's, as it keeps the first run's timeline. */
    struct herd_fleet_figures *fleet;
};

/** Initialise @p r for the run @p info (copied). @return 0 or -HERD_ENOMEM. */
int herd_report_init(struct herd_report *r, const struct herd_run_info *info,
                     const char *backend);
void herd_report_fini(struct herd_report *r);

/**
 * Add one event's figures; the totals grow by them (wakes = useful + served + wasted +
 * failed). @return 0 or -HERD_ENOMEM.
 */
int herd_report_add_event(struct herd_report *r, const struct herd_event *ev);

/** Record one reaction (or, with HERD_OUT_IDLE, one event without one) of waiter @p i in
 *  its tile; ignored when i >= 240. The counters come from herd_report_add_event. */
static inline void herd_report_waiter(struct herd_report *r, size_t i, enum herd_outcome o)
{
    if (i < HERD_REPORT_WAITERS)
        r->waiters[i].n[o]++;
}

/** The class a tile shows: useful if the waiter ever did the work, else wasted, failed,
 *  served, idle, in that order (its counts say the rest). */
enum herd_outcome herd_waiter_class(const struct herd_waiter *w);

/** The headline figures of one run. */
void herd_report_figures(const struct herd_report *r, struct herd_figures *out);

/**
 * Pool run @p other (another run of the same spec, with a derived seed) into @p r:
 * counters, events (tagged with their run), latency histogram, simulated time and waiter
 * tiles add up; mean and stddev cover every run so far; intervals computed before are
 * dropped (ci.present = false). On the first call @p r itself becomes run 0.
 * @p other is only read. @return 0 or -HERD_ENOMEM.
 */
int herd_report_merge(struct herd_report *r, const struct herd_report *other);

/**
 * Compute @p r's intervals into r->ci (deterministic: seeded from the run's seed); see
 * intervals.c for how. Call once the report is complete (after every merge).
 * @return 0 or -HERD_ENOMEM.
 */
int herd_report_intervals(struct herd_report *r);

/** Add one run's figures @p f to @p acc. */
void herd_figures_add(struct herd_figures_acc *acc, const struct herd_figures *f);

/** The mean (and, if @p stddev is not NULL, the sample standard deviation) of @p acc. */
void herd_figures_result(const struct herd_figures_acc *acc, struct herd_figures *mean,
                         struct herd_figures *stddev);

/** Seed of run @p i (0-based) of a --runs sequence starting at @p seed: run 0 keeps it. */
uint64_t herd_run_seed(uint64_t seed, int i);

/** Set a named extra figure (overwrites one of the same name). */
void herd_report_extra(struct herd_report *r, const char *name, double value);

/** Look up an extra; @return true and *out when present. */
bool herd_report_get_extra(const struct herd_report *r, const char *name, double *out);

/**
 * Size the timeline: @p len buckets of @p bucket_ns (len is clamped to
 * HERD_TIMELINE_MAX_BUCKETS). Drops any existing series. @return 0 or -HERD_ENOMEM.
 */
int herd_report_timeline(struct herd_report *r, int64_t bucket_ns, size_t len);

/**
 * The zeroed series @p name (created on first use), timeline.len values, or NULL
 * when the timeline is unsized, the series table is full, or memory ran out.
 */
int64_t *herd_report_series(struct herd_report *r, const char *name);

/**
 * Choose a bucket width for a run of @p span_ns so that it fits in at most
 * @p max_buckets buckets, rounded to 1/2/5 × 10^k ns, at least @p min_bucket_ns.
 */
int64_t herd_timeline_pick_bucket(int64_t span_ns, int64_t min_bucket_ns, size_t max_buckets);

/** Set the spread from per-worker useful counts. */
void herd_report_spread(struct herd_report *r, const uint64_t *per_worker, size_t nworkers);

/** "useful", "served" ...: the class's name in every output. */
const char *herd_outcome_name(enum herd_outcome o);

/** One line saying what the class means (the glossary's short form). */
const char *herd_outcome_doc(enum herd_outcome o);

/** Median of the per-event figures in @p v (n finite values): herd_stats_quantile's type 7
 *  at 0.5 of a copy; 0 when n = 0, NAN when the copy cannot be allocated (writers print an
 *  absent figure, never a wrong one). */
double herd_median(const double *v, size_t n);

/** The per-event series of HERD_EV_CI_* @p which (r->ev.wakes ... r->ev.origin). */
const double *herd_report_ev_series(const struct herd_report *r, int which);

/** The per-event median of series @p which (HERD_EV_CI_*): the interval's point when
 *  r->ci is present (no second copy and sort), else herd_median of the series. */
double herd_report_ev_median(const struct herd_report *r, int which);

/* Writers: all write to @p f and return 0 or a negated errno. */
enum herd_format { HERD_FORMAT_TEXT, HERD_FORMAT_JSON, HERD_FORMAT_CSV };
/* The text writer's choices. */
struct herd_text_opts {
    bool utf8;  /* µ, ×, block characters */
    bool wide;  /* every run side by side, however wide */
    int width;  /* columns to fit (0: 100) */
};
/* Runs one text table holds side by side at the most (--wide included); more are shown
 * in blocks. */
#define HERD_TEXT_MAX_RUNS 32
int herd_write_text(FILE *f, struct herd_report *const *runs, size_t nruns,
                    const struct herd_text_opts *opts);
int herd_write_json(FILE *f, struct herd_report *const *runs, size_t nruns);

/** Print @p first, then @p text wrapped at spaces to @p width display columns (UTF-8
 * aware), continuation lines indented by @p indent; ends the line. The text writer's
 * WARNING lines, and herd demo's and herd fidelity's. */
void herd_text_wrap(FILE *f, const char *first, const char *text, int indent, int width);

/* The text writer's figures, exported so that every table herd prints (herd run's report,
 * herd demo's, herd fidelity's) writes a value and an interval by the same rules. */

/** @p v into @p buf as the text report prints it: nanoseconds when @p time, two decimals
 *  in the largest unit below it ("812ns", "25.62ms"; "µs" when @p utf8, else "us"), else a
 *  count ("1,234", "12.35"); an infinity as "∞" / "inf" (signed), NaN (no figure) as "-". */
void herd_text_value(char *buf, size_t len, double v, bool time, bool utf8);

/* Which part of an interval herd_text_interval writes. */
enum herd_text_ci_part {
    HERD_TEXT_CI_POINT,  /* "25.62ms", with "*" when too few samples bound it */
    HERD_TEXT_CI_BOUNDS, /* "[25.10, 26.80]ms"; "(" / ")" on an open side, "(unbounded)" */
    HERD_TEXT_CI_BOTH,   /* "25.62ms [25.10, 26.80]ms": the two, one space apart */
};

/** @p part of @p ci into @p buf, its values as herd_text_value writes them; the bounds
 *  carry one unit after the bracket when both share it. */
void herd_text_interval(char *buf, size_t len, const struct herd_stats_interval *ci, bool time,
                        bool utf8, enum herd_text_ci_part part);

/** Print @p s padded with spaces to @p width display columns (UTF-8 aware: "µ" and "∞"
 *  are one), after it when @p left, before it otherwise; a longer @p s is never cut.
 *  @return the columns printed (a caller can let the next cell make up for a long one). */
int herd_text_cell(FILE *f, const char *s, int width, bool left);
int herd_write_csv(FILE *f, struct herd_report *const *runs, size_t nruns);

/** One report as a jansson object (json_t *, returned as void * to keep jansson private). */
void *herd_report_to_json(const struct herd_report *r);

/** @p ci as the report's JSON writes an interval (json_t *, as void *): {point, lo, hi, n,
 *  enough_samples}, an open side null. Every front end's interval JSON. */
void *herd_report_interval_json(const struct herd_stats_interval *ci);

/** @p v as a JSON number (json_t *, as void *), or null when it is not finite (an open side,
 *  an infinite ratio): json_real refuses those, and a json_pack given one fails whole. */
void *herd_report_json_number(double v);

#endif
