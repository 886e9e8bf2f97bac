/* backend.h — the one interface every backend exports and every front end calls.
 *
 * DESIGN §2: src/live and src/sim each export one struct herd_backend (herd_live_backend,
 * herd_sim_backend). The CLI, herd sweep (also over MPI), herd demo, herd fidelity and
 * herd serve reach them only through it (src/front/runner.c), so "can backend B run
 * scenario S" and "does this run fit the machine" are each decided in one place:
 * supports() reads the scenario list's columns (list.h), check() the backend's own
 * limits.
 *
 * A run is stopped through its watch, never through a global flag: the front end's
 * watch says "stop" (a signal arrived, the HTTP client left, the server is stopping,
 * a budget ran out) and the run tears down everything it started and returns
 * -HERD_EINTR.
 *
 * Thread safety: the structs are read-only; see each backend for how many runs may go
 * at once (live: one per process; sim: any).
 */
#ifndef HERD_SCENARIO_BACKEND_H
#define HERD_SCENARIO_BACKEND_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "profile.h"
#include "scenario.h"

struct herd_report;

/* How a front end watches a run: progress, and the way to stop it. */
struct herd_watch {
    /** Polled by the run at safe points, never inside a timed window: the simulator about
     *  every HERD_SIM_WATCH_EVERY units of work, with its simulated time and events; a
     *  live run from its controlling thread only, between events and in the waits that
     *  time nothing (at most every 10 ms there, at least every ~100 ms), with its elapsed
     *  wall time and events done; a stop asked during a timed wait is seen when the wait
     *  ends (at most the scenario's settle_ms). Return true to stop the run. Must be cheap
     *  and must not block for long. */
    bool (*poll)(void *ctx, int64_t progress_ns, uint64_t events);
    void *ctx; /* borrowed */
};

/** Poll @p w (NULL: never stops). */
static inline bool herd_watch_stop(const struct herd_watch *w, int64_t progress_ns,
                                   uint64_t events)
{
    return w && w->poll(w->ctx, progress_ns, events);
}

/* Per-request records of a simulated run (herd run --trace, herd detect's validation):
 * each request that reached the herd's resource, at the time it arrived there, with the
 * client that sent it (an index in the run's fleet or population), the key it asked for
 * (1-based: key k is written "key-<k-1>"; 0 when the scenario has no keys) and how it
 * ended. Called in simulated-time order of the requests' ends, not of their arrivals: a
 * reader sorts. The sink sees every run of the job; it changes nothing in any report. */
enum herd_req_status {
    HERD_REQ_OK,       /* answered */
    HERD_REQ_ERROR,    /* answered with an error */
    HERD_REQ_TIMEOUT,  /* its caller gave up waiting */
    HERD_REQ_REJECTED, /* refused, shed or dropped by the resource */
    HERD_REQ_HIT,      /* a cache served it */
    HERD_REQ_MISS,     /* a cache missed and went to the origin */
    HERD_REQ_NSTATUS
};
typedef void (*herd_request_fn)(void *ctx, int64_t t_ns, uint64_t client, uint64_t key,
                                enum herd_req_status status);
struct herd_request_sink {
    herd_request_fn fn;
    void *ctx; /* borrowed */
};

/** The word a trace writes for @p s ("ok", "error", "timeout", "rejected", "hit", "miss"). */
static inline const char *herd_req_status_name(enum herd_req_status s)
{
    static const char *const names[HERD_REQ_NSTATUS] = {"ok",       "error", "timeout",
                                                        "rejected", "hit",   "miss"};
    return (unsigned)s < HERD_REQ_NSTATUS ? names[s] : "?";
}

/* What a run gets besides its spec. */
struct herd_run_env {
    const struct herd_profile *profile; /* the simulator's machine costs (borrowed; NULL:
                                           the built-in defaults) */
    const struct herd_watch *watch;     /* borrowed, may be NULL */
    const struct herd_request_sink *requests; /* per-request records (simulator only;
                                                 borrowed, may be NULL) */
};

struct herd_backend {
    const char *name;           /* "live" or "sim": the report's backend field */
    enum herd_backend_mask bit; /* which column of list.h it is */
    /**
     * Check that @p spec can run here now (the live backend: threads, processes,
     * descriptors, pid_max, memory; the simulator: its memory and time budgets), before
     * anything starts. @return 0, or -HERD_ELIMIT / -HERD_EINVAL with one line in @p err.
     */
    int (*check)(const struct herd_run_spec *spec, char *err, size_t errlen);
    /**
     * Run @p spec and fill @p r (initialised here: the caller calls herd_report_fini on
     * success; on failure @p r is already finalised). @return 0, -HERD_EINTR when the
     * watch stopped it (everything it started is cleaned up), or another negative code
     * with one line in @p err.
     */
    int (*run)(const struct herd_run_spec *spec, const struct herd_run_env *env,
               struct herd_report *r, char *err, size_t errlen);
};

/** Does @p b run scenarios like @p sc (the list's column)? The one place this is decided. */
static inline bool herd_backend_supports(const struct herd_backend *b,
                                         const struct herd_scenario *sc)
{
    return (sc->backends & (unsigned)b->bit) != 0;
}

#endif
