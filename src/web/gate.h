/* gate.h — herd serve's front door: accepts connections before libmicrohttpd sees them.
 *
 * libmicrohttpd's own accept loop gives every connection a thread at once and an idle
 * timeout that each byte resets, so 70 clients that each send one header line every few
 * seconds hold every thread for ever (slowloris); and it answers a malformed request line
 * or Content-Length with HTML, sometimes with its headers twice. So the gate owns the
 * listening socket and holds each new connection, on one thread of its own with poll(),
 * until its request line and headers are all in the socket's receive queue (read with
 * MSG_PEEK, so they stay there for libmicrohttpd):
 *   - the headers must arrive within a deadline from the connection's accept (408 after);
 *   - one address holds at most per_ip_max connections, waiting and served together (429);
 *   - the request line, the header lines, Content-Length (decimal digits only, one value)
 *     and Transfer-Encoding (chunked only, never with Content-Length) are checked (400,
 *     431 past header_max bytes; a Content-Length too large is the server's 413);
 * and only then hands the connection over (pass), when fewer than served_max are being
 * served; else it waits for a turn (a slot frees in microseconds for most requests), and
 * at its deadline gets 503. Every refusal is one JSON answer
 * {"error":"<one line>"} with Connection: close. The server must answer every request it
 * is passed with Connection: close, so that each request on a connection passes the gate.
 *
 * The gate also keeps what each client address holds (waiting and served connections,
 * simulations running), for the server's per-client limits.
 *
 * Cost: one thread; a waiting connection is looked at again at most every 25 ms (so a
 * client that sends a byte at a time costs a bounded number of peeks of at most
 * header_max bytes), and the per-address table is a linear scan of at most
 * pending_max + served_max entries under one mutex.
 * Thread safety: start and stop from one thread; the herd__gate_client_* calls and
 * herd__gate_sim_* from any thread.
 */
#ifndef HERD_WEB_GATE_H
#define HERD_WEB_GATE_H

#include <netinet/in.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct herd_gate;

/** Hand a connection whose headers passed over to the server. @p fd is consumed, also on
 *  failure. @return 0, or a negative code when it could not be taken (then closed). */
typedef int herd_gate_pass_fn(void *ctx, int fd, const struct sockaddr_in *peer);

struct herd_gate_config {
    int listen_fd;              /* consumed: the gate closes it when it stops */
    unsigned per_ip_max;        /* connections at once from one address */
    unsigned pending_max;       /* connections still sending their headers, all addresses */
    unsigned served_max;        /* connections handed over and not yet closed, all addresses */
    int64_t header_deadline_ns; /* from accept to the end of the headers */
    size_t header_max;          /* bytes of request line and headers, at most 16 KiB */
    herd_gate_pass_fn *pass;
    void *ctx; /* borrowed, for pass */
};

/** Start the gate's thread. @return 0 with the gate in @p *out, or a negated errno (the
 *  listening socket then closed). */
int herd__gate_start(const struct herd_gate_config *cfg, struct herd_gate **out);

/** Stop accepting: close the listening socket and every connection still waiting, join
 *  the thread. Connections already handed over are the server's, and the per-address
 *  calls below still work (the server's connections end after this). */
void herd__gate_close(struct herd_gate *g);

/** Free @p g, closed, once nothing calls it any more. */
void herd__gate_free(struct herd_gate *g);

/** A connection from @p ip (network order) that the gate handed over has closed: the
 *  gate counts it as served from its hand-over (pass returned 0) until this call. */
void herd__gate_client_closed(struct herd_gate *g, uint32_t ip);

/** Take one of @p max simulation turns of client @p ip. @return true when taken. */
bool herd__gate_sim_take(struct herd_gate *g, uint32_t ip, unsigned max);
/** Give back a turn herd__gate_sim_take gave. */
void herd__gate_sim_give(struct herd_gate *g, uint32_t ip);

/**
 * Check one request head (request line and headers, @p len bytes ending with the blank
 * line) as the gate does. @return 0, or the status to answer (400, 413, 505) with one
 * line in @p err. Exposed for the tests and the fuzz target.
 */
unsigned herd__gate_check_head(const char *head, size_t len, char *err, size_t errlen);

#endif
