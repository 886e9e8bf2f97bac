/* runner.h — how every front end runs what a request resolved into.
 *
 * herd run, herd demo, herd sweep, herd fidelity and herd serve all turn a request into
 * jobs (a spec on a backend), check every job before anything starts, and run each one
 * the same way: R repeats with derived seeds pooled into one report (live: 3 by default,
 * so that every live figure has runs to put an interval on), the machine sampled around
 * every run (others' CPU share, steal, load, herd's own preemptions) and folded into the
 * report's verdict, provenance filled, wall time kept apart from simulated time, and the
 * report's intervals computed last. Nothing here knows a scenario: it reaches backends
 * only through struct herd_backend (scenario/backend.h).
 *
 * Thread safety: reentrant; live runs are one at a time per process (the live backend
 * refuses a second), simulations may run side by side.
 */
#ifndef HERD_FRONT_RUNNER_H
#define HERD_FRONT_RUNNER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "../report/report.h"
#include "../scenario/backend.h"
#include "../scenario/request.h"

/* Live runs repeat this often unless told otherwise: three runs give a run-to-run
 * interval, and with a scenario's default events enough samples that a p50 is not one
 * event's luck. */
#define HERD_LIVE_RUNS_DEFAULT 3
#define HERD_RUNS_MAX 1000

/* A simulation repeats (derived seeds, so still a pure function of its spec) until its
 * latency has the samples that bound its p99 (HERD_SIM_AUTO_Q) from above at the reports'
 * confidence (HERD_STATS_CONF), at most SIM_AUTO_RUNS_MAX runs, and only while the extra
 * runs stay small: n x events of them at most SIM_AUTO_WORK_MAX (accept at N = 1,000
 * repeats; at N = 1,000,000 it does not, and its p99 says it has too few samples).
 * The runner asks herd_stats_min_samples(HERD_SIM_AUTO_Q, HERD_STATS_CONF) for them;
 * HERD_SIM_AUTO_SAMPLES is the same figure as a constant, for the API's JSON
 * (tests/unit/test_stats.c checks that the two agree). */
#define HERD_SIM_AUTO_Q 0.99
#define HERD_SIM_AUTO_SAMPLES 299
#define HERD_SIM_AUTO_RUNS_MAX 10
#define HERD_SIM_AUTO_WORK_MAX 2e7

/* The memory a simulation may take unless the front end says otherwise (herd run
 * --max-memory, the server's own): its estimate from the parameters (herd_sim_bytes) is
 * held against it before the run starts. The fleet simulator also refuses > 2 GiB itself. */
#define HERD_FRONT_MAX_MEMORY (UINT64_C(2) << 30)

/* The most jobs a plan expands into: every strategy on both backends. */
#define HERD_JOBS_MAX (2 * HERD_REQUEST_MAX_SPECS)

/** One run to make: a spec on a backend. */
struct herd_job {
    struct herd_run_spec spec;
    const struct herd_backend *backend; /* static */
};

/** The backend of column @p bit (HERD_BACKEND_LIVE or HERD_BACKEND_SIM). */
const struct herd_backend *herd_front_backend(enum herd_backend_mask bit);

/** @p plan's specs as jobs, each on every backend the plan names (live before sim), into
 *  @p jobs (HERD_JOBS_MAX entries). @return how many. */
size_t herd_front_jobs(const struct herd_request_plan *plan, struct herd_job *jobs);

/**
 * Every job's backend check, before anything starts: the one place "can backend B run
 * scenario S" and "does it fit this machine" are decided for every front end.
 * @return 0, or the first refusal (-HERD_EINVAL / -HERD_ELIMIT) with one line in @p err.
 */
int herd_front_check(const struct herd_job *jobs, size_t n, char *err, size_t errlen);

struct herd_front_opts;

/**
 * Every simulated job's memory estimate (herd_sim_bytes) against @p o's ceiling, before
 * anything starts. @return 0, or -HERD_ELIMIT with one line naming the figure in @p err.
 */
int herd_front_fits(const struct herd_job *jobs, size_t n, const struct herd_front_opts *o,
                    char *err, size_t errlen);

/** How to run a job. Zero-initialise, then set what applies. */
struct herd_front_opts {
    int runs; /* repeats with derived seeds, 1 to HERD_RUNS_MAX; 0: the default
                 (HERD_LIVE_RUNS_DEFAULT on live; on the simulator 1, or more when one
                 run gives too few latency samples for a p99: HERD_SIM_AUTO_*) */
    const struct herd_profile *profile; /* the simulator's costs (NULL: built-in) */
    const char *profile_path;           /* for provenance: where they came from (NULL:
                                           the built-in figures) */
    const struct herd_watch *watch;     /* progress and stop (NULL: never stopped) */
    const struct herd_request_sink *requests; /* per-request records of simulated runs
                                                 (herd run --trace; NULL: none) */
    const char *version;                /* herd's version, for provenance */
    const char *command;                /* the command line or request text, ditto */
    bool no_intervals;                  /* skip the intervals (a sweep's thousands of
                                           points print means only) */
    uint64_t max_memory;                /* bytes a simulation may take, by its estimate;
                                           0: HERD_FRONT_MAX_MEMORY */
    const char *memory_flag;            /* how the refusal names the ceiling (NULL: "the
                                           memory ceiling") */
    /** Called before each run (1-based @p run of @p runs); may be NULL. */
    void (*progress)(void *ctx, const struct herd_job *job, int run, int runs);
    void *progress_ctx;
};

/** The runs @p o asks for @p job before the first has run (the simulator's default may
 *  grow after it: HERD_SIM_AUTO_*). */
int herd_front_runs(const struct herd_job *job, const struct herd_front_opts *o);

/**
 * Run @p job as @p o says into @p r (initialised here; the caller calls herd_report_fini
 * on success; on failure nothing is left to free). @return 0, -HERD_EINTR when the watch
 * stopped it, or another negative code with one line in @p err.
 */
int herd_front_run(const struct herd_job *job, const struct herd_front_opts *o,
                   struct herd_report *r, char *err, size_t errlen);

/**
 * The simulator's machine costs: herd calibrate's profile at herd_profile_default_path()
 * when there is one (its path into @p path, @p pathlen bytes), else the built-in figures
 * (@p path ""). @return 0, or a negative code with one line in @p err for a profile that
 * exists but cannot be read.
 */
int herd_front_load_profile(struct herd_profile *p, char *path, size_t pathlen, char *err,
                            size_t errlen);

#endif
