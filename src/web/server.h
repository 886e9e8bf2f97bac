/* server.h — herd serve's HTTP server: the page, its JSON API, an SSE stream and /metrics.
 *
 * A libmicrohttpd daemon with a thread per connection, so a run (seconds for a big
 * simulation or a live herd) blocks only its own request; simulations run concurrently
 * (a few at a time), live runs one at a time in the process (a second gets 409 with
 * Retry-After). Endpoints (the contract in notes/web.md):
 *   GET  /api/scenarios    the catalogue of `herd list --format json` + live_max_n, sim_model
 *                          per scenario, and "runs" (its limits and defaults, api.h)
 *   POST /api/run          {"scenario":..,"backend":..,...} → {"runs":[REPORT]}
 *   GET  /api/run/stream   the same as query parameters (params as p.KEY; "runs" at most
 *                          HERD_API_STREAM_RUNS_MAX; not HEAD) →
 *                          text/event-stream, the run going on a thread of its own:
 *     event: progress  {"phase":"started","done":0,"of":E,"runs":R}
 *     event: progress  {"phase":"running","done":D,"of":E,"run":I,"runs":R,"repeat":k,
 *                       "repeats":K,"backend":"sim"|"live","mode":"naive"|"mitigated",
 *                       "strategy":S,"events":X,"sim_ns":T}   at most every 100 ms while
 *                       run I (1-based) of R goes, repeat k of K of its spec (mode): R
 *                       counts every repeat of every spec, D the trigger events of the
 *                       runs finished, E of all R. The simulator's default repeats may
 *                       grow after its first run (HERD_SIM_AUTO_*): then K, R and E grow
 *                       (never shrink). X and T are the simulator's engine events and
 *                       simulated ns so far in run I (0 on live, which reports when a run
 *                       begins and ends)
 *     event: progress  {"phase":"done","done":E,"of":E,"runs":R}
 *     event: report    {"runs":[REPORT...]}, as POST /api/run answers
 *     or, instead of done and report, event: error {"error":"<one line>"}; comments
 *     (": keep-alive") when there is nothing new. A client who leaves stops the run.
 *   GET  /metrics          Prometheus text
 *   A request from a browser on another site's page (Origin, or Sec-Fetch-Site other than
 *   same-origin or none) starts no run: 403.
 *   GET  /, /app.js ...    the page, embedded in the binary (assets.h)
 * Thread safety: start and stop from one thread; requests are served on the daemon's
 * threads. Stopping interrupts the runs in progress (live and simulated) and waits for
 * every request to end.
 */
#ifndef HERD_WEB_SERVER_H
#define HERD_WEB_SERVER_H

#include <stdbool.h>
#include <stddef.h>

#include "../scenario/profile.h"

/* The largest request body accepted; a larger one gets 413. */
#define HERD_SERVER_BODY_MAX (64 * 1024)

/* Simulations running at once; one more gets 503 with Retry-After (2 cores here). */
#define HERD_SERVER_SIMS_MAX 4

struct herd_server;

struct herd_server_config {
    const char *host;                   /* IPv4 address to bind; NULL: 127.0.0.1 */
    unsigned port;                      /* 0: any free port (herd_server_port says which) */
    const struct herd_profile *profile; /* the simulator's machine costs (copied); NULL:
                                           herd_profile_defaults() */
    const char *profile_path;           /* where they came from, for provenance (copied);
                                           NULL: the built-in figures */
    bool log;                           /* one line per request on stderr */
};

/**
 * Bind, listen and start serving. @return 0 with the server in @p *out, or a negative
 * code (the negated errno when the address cannot be bound) with one line in @p err.
 */
int herd_server_start(const struct herd_server_config *cfg, struct herd_server **out, char *err,
                      size_t errlen);

/** The port the server listens on (the one chosen when the config said 0). */
unsigned herd_server_port(const struct herd_server *s);

/**
 * Stop accepting, interrupt the runs in progress (a live run cleans up; each such request
 * gets 503, each stream an error event), wait for every request to finish, close every
 * socket and thread, free @p s.
 */
void herd_server_stop(struct herd_server *s);

#endif
