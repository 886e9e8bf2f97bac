/* server.h — herd serve's HTTP server: the page, its JSON API, an SSE stream and /metrics.
 *
 * A libmicrohttpd daemon with a thread per connection, so a run (seconds for a big
 * simulation or a live herd) blocks only its own request; simulations run concurrently
 * (a few at a time, at most sims_per_ip of them for one client address: 429 past it), live
 * runs one at a time in the process (a second gets 409 with Retry-After). Endpoints (the
 * contract in notes/web.md):
 *   GET  /api/scenarios    the catalogue of `herd list --format json` + live_max_n, sim_model
 *                          per scenario, and "runs" (its limits and defaults, api.h)
 *                          (the shipped scenario files' rows with their "topology")
 *   POST /api/run          {"scenario":..,"backend":..,...} → {"runs":[REPORT]}; a
 *                          scenario file by name ("scenario") or as text ("file", 413
 *                          past HERD_API_FILE_MAX, 400 with its line and column)
 *   POST /api/validate     a scenario file's text (or {"file": TEXT}) → its row and
 *                          topology, or 400 {"error","line","column","path"}; runs nothing
 *   POST /api/run/stream   the same body →
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
 *     (": keep-alive") when there is nothing new.
 *   GET  /metrics          Prometheus text
 *   GET  /, /app.js ...    the page, embedded in the binary (assets.h)
 * No GET starts a run (GET /api/run/stream is 405): any page can make a browser send a GET.
 *
 * A run stops when its client leaves (the stream: a write fails; POST /api/run: the
 * connection's end of file, so a client that half-closes after its request is taken as
 * gone), when the server stops, and at the run ceilings: max_events simulator events or
 * max_cpu_ns of the running thread's CPU time per request (422 with the figure).
 *
 * Cross-site safety, in the manner of Jupyter's server: the Host header must name this
 * server (127.0.0.1, localhost or [::1], the bound address, this machine's addresses and
 * name when bound to 0.0.0.0, or an allowed name) with its port, on every bind (a page
 * that rebinds its own name to this machine sends its own name: 403); an Origin must be
 * exactly http://HOST of the request (Origin: null, other schemes, other hosts: 403); a
 * run starts only from this server's own page or a client that is not a browser
 * (Sec-Fetch-Site). With a token (required off loopback), every request carries it: in the
 * URL (?token=T, which also sets an HttpOnly SameSite=Strict cookie for the page's own
 * requests), the cookie, or "Authorization: token T"; without it: 401.
 *
 * Starvation: connections pass the gate (gate.h) before libmicrohttpd sees them (headers
 * within header_deadline_ms of connecting, per_ip_max connections per address, the head
 * checked: one JSON 400 for a malformed one), and a body must arrive within
 * body_deadline_ms of the headers. Every answer closes its connection, so each request
 * passes the gate.
 * Thread safety: start and stop from one thread; requests are served on the daemon's
 * threads. Stopping interrupts the runs in progress (live and simulated) and waits for
 * every request to end.
 */
#ifndef HERD_WEB_SERVER_H
#define HERD_WEB_SERVER_H

#include <stdbool.h>
#include <stddef.h>

#include "../scenario/profile.h"

/* The largest request body accepted; a larger one gets 413. Room for a scenario file of
 * HERD_API_FILE_MAX bytes (api.h) in a JSON string, its newlines and quotes escaped. */
#define HERD_SERVER_BODY_MAX (128 * 1024)

/* Simulations running at once; one more gets 503 with Retry-After (2 cores here). */
#define HERD_SERVER_SIMS_MAX 4

/* The defaults of the config's limits (0 there means these). */
#define HERD_SERVER_SIMS_PER_IP 2            /* simulations of one client address */
#define HERD_SERVER_PER_IP_MAX 16            /* connections of one client address */
#define HERD_SERVER_HEADER_DEADLINE_MS 10000 /* connect to the end of the headers */
#define HERD_SERVER_BODY_DEADLINE_MS 10000   /* the end of the headers to the body's */
#define HERD_SERVER_MAX_EVENTS 1000000000ULL /* simulator events per request */
#define HERD_SERVER_MAX_CPU_S 120            /* CPU seconds per request */
/* The longest token accepted (herd serve makes 32 hex digits). */
#define HERD_SERVER_TOKEN_MAX 128

struct herd_server;

struct herd_server_config {
    const char *host;                   /* IPv4 address to bind; NULL: 127.0.0.1 */
    unsigned port;                      /* 0: any free port (herd_server_port says which) */
    const struct herd_profile *profile; /* the simulator's machine costs (copied); NULL:
                                           herd_profile_defaults() */
    const char *profile_path;           /* where they came from, for provenance (copied);
                                           NULL: the built-in figures */
    bool log;                           /* one line per request on stderr */
    const char *token;                  /* required of every request (copied); NULL or "":
                                           none, refused off loopback (herd serve makes one) */
    const char *const *allow_hosts;     /* more Host names this server answers to (NULL-ended,
                                           copied; a name alone takes any port) */
    unsigned sims_per_ip;               /* 0: HERD_SERVER_SIMS_PER_IP */
    unsigned per_ip_max;                /* 0: HERD_SERVER_PER_IP_MAX */
    unsigned header_deadline_ms;        /* 0: HERD_SERVER_HEADER_DEADLINE_MS */
    unsigned body_deadline_ms;          /* 0: HERD_SERVER_BODY_DEADLINE_MS */
    unsigned long long max_events;      /* simulator events per request; 0: the default */
    double max_cpu_s;                   /* CPU seconds per request; 0: the default */
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
