/* report.h — the one report every run produces, whatever its scenario or backend.
 *
 * DESIGN §1: wakes, useful, wasted, origin load, peak, latency (a log-linear
 * histogram), a timeline of fixed-width buckets, the outcome of the first 240
 * waiters, and what was run. Backends fill a report through the functions below;
 * writers (text, JSON, CSV) read it. Totals are the sums of the per-event figures
 * a backend adds with herd_report_add_event(), so per-event medians come for free.
 * A report owns its heap arrays: herd_report_init() then herd_report_fini().
 * Not thread-safe: one thread fills it (merge per-thread histograms first).
 */
#ifndef HERD_REPORT_REPORT_H
#define HERD_REPORT_REPORT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "hist.h"
#include "scenario.h"

#define HERD_REPORT_WAITERS 240
#define HERD_TIMELINE_MAX_SERIES 8
#define HERD_TIMELINE_MAX_BUCKETS 4000
#define HERD_REPORT_MAX_EXTRAS 24

enum herd_outcome {
    HERD_OUT_IDLE,     /* never woke */
    HERD_OUT_WOKEN,    /* woke, did not do the work, but was served (a shared result) */
    HERD_OUT_USEFUL,   /* did needed work */
    HERD_OUT_WASTED,   /* woke, lost the race, went back to sleep */
    HERD_OUT_STALE,    /* served a stale value */
    HERD_OUT_FAILED,   /* got an error */
    HERD_OUT_TIMEDOUT, /* gave up waiting */
};

struct herd_series {
    char name[24];
    int64_t *v; /* timeline.len values */
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

/*
 * The headline figures of a report as doubles: what --runs R averages (each figure the
 * mean over the runs) and what its spread is given as (the sample standard deviation).
 * One X-macro so the JSON keys, the means and the deviations cannot drift apart.
 */
#define HERD_FIGURES(X)                                                                     \
    X(wakes) X(useful) X(wasted) X(origin_load) X(peak) X(pe_wakes) X(pe_useful)            \
    X(pe_wasted) X(pe_origin_load) X(lat_mean) X(lat_p50) X(lat_p90) X(lat_p99) X(lat_p999)  \
    X(lat_max) X(elapsed_ns) X(sim_time_ns)

struct herd_figures {
#define HERD__FIG_FIELD(name) double name;
    HERD_FIGURES(HERD__FIG_FIELD)
#undef HERD__FIG_FIELD
};

struct herd_report {
    struct herd_run_spec spec; /* what was run (copied) */
    const char *backend;       /* "live" or "sim" (static string) */

    /* Totals, kept equal to the sums over events. */
    uint64_t wakes, useful, wasted, origin_load;
    uint64_t peak; /* max over events of the concurrent load at the resource */

    /* Per-event figures (events entries each), for medians. */
    size_t nevents, cap_events;
    double *ev_wakes, *ev_useful, *ev_wasted, *ev_origin;

    struct herd_hist latency;
    struct herd_spread spread;
    struct herd_timeline timeline;
    int nextras;
    struct herd_extra extras[HERD_REPORT_MAX_EXTRAS];

    size_t nwaiters; /* min(n, 240) */
    unsigned char waiters[HERD_REPORT_WAITERS];

    int64_t elapsed_ns;  /* wall time of the run */
    int64_t sim_time_ns; /* sim backend only; -1 otherwise */

    /* --runs R (R > 1): the figures are means over R runs with derived seeds and
     * `stddev` their spread; everything else (timeline, waiters, histogram, spread,
     * extras) is the first run's. runs = 1 for a single run. */
    int runs;
    struct herd_figures mean, stddev;
};

/** Initialise @p r for @p spec (copied). @return 0 or -HERD_ENOMEM. */
int herd_report_init(struct herd_report *r, const struct herd_run_spec *spec,
                     const char *backend);
void herd_report_fini(struct herd_report *r);

/**
 * Add one event's figures; totals grow accordingly, wasted = wakes - useful
 * (clamped at 0). @return 0 or -HERD_ENOMEM.
 */
int herd_report_add_event(struct herd_report *r, uint64_t wakes, uint64_t useful,
                          uint64_t origin_load, uint64_t peak);

/** The headline figures of one run. */
void herd_report_figures(const struct herd_report *r, struct herd_figures *out);

/**
 * Turn @p r (run 1) into the aggregate of itself and @p others (runs 2..R of the same
 * spec with derived seeds): r->runs = R, r->mean and r->stddev filled. @p others are
 * only read.
 */
void herd_report_aggregate(struct herd_report *r, const struct herd_report *const *others,
                           size_t nothers);

/* Sums of runs' figures, for means and standard deviations (zero-initialise it). Adding
 * the same figures in the same order gives the same digits, however they were gathered:
 * herd_report_aggregate and herd sweep --mpi both take their means through it. */
struct herd_figures_acc {
    struct herd_figures sum, sq;
    size_t n;
};

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

/** Set waiter @p i's outcome (ignored when i >= 240). */
static inline void herd_report_waiter(struct herd_report *r, size_t i, enum herd_outcome o)
{
    if (i < HERD_REPORT_WAITERS)
        r->waiters[i] = (unsigned char)o;
}

const char *herd_outcome_name(enum herd_outcome o);

/** Median of the per-event figures in @p v (n values); 0 when n = 0. */
double herd_median(const double *v, size_t n);

/* Writers: all write to @p f and return 0 or a negated errno. */
enum herd_format { HERD_FORMAT_TEXT, HERD_FORMAT_JSON, HERD_FORMAT_CSV };
int herd_write_text(FILE *f, struct herd_report *const *runs, size_t nruns, bool utf8);
int herd_write_json(FILE *f, struct herd_report *const *runs, size_t nruns);
int herd_write_csv(FILE *f, struct herd_report *const *runs, size_t nruns);

/** One report as a jansson object (json_t *, returned as void * to keep jansson private). */
void *herd_report_to_json(const struct herd_report *r);

/** The whole scenario catalogue as a jansson object (for `herd list --format json`
 *  and the web API): the same table the CLI validates against. */
void *herd_catalogue_to_json(void);
int herd_write_catalogue_json(FILE *f);

#endif
