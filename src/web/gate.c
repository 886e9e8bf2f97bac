/* gate.c — herd serve's front door (gate.h): accept, hold until the headers are in, check
 * them, hand over; and what each client address holds.
 *
 * One thread runs poll() over the listening socket, a wake-up pipe and the connections
 * still sending their headers. A connection whose headers are incomplete is left out of
 * poll() for COOL_NS (its bytes stay queued in the kernel), so a byte-at-a-time client
 * costs at most deadline / COOL_NS peeks. The listening socket is left out while
 * pending_max connections wait: new ones then wait in the kernel's backlog.
 */
#include "gate.h"

#include "api.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <herd/clock.h>
#include <herd/error.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

/* The peer shut its sending side (Linux's; <poll.h> names it only under _GNU_SOURCE). */
#if !defined(POLLRDHUP) && defined(__linux__)
#define POLLRDHUP 0x2000
#elif !defined(POLLRDHUP)
#define POLLRDHUP 0
#endif

#define COOL_NS (25 * HERD_NS_PER_MS)
#define HEAD_CAP (16 * 1024)
#define HEADERS_MAX 100 /* header lines in one request */

/* What one client address holds; all zero: a free entry. */
struct client {
    uint32_t ip;
    unsigned pending, served, sims;
};

struct pend {
    int fd;
    struct sockaddr_in peer;
    int64_t deadline_ns;
    int64_t cool_until_ns; /* 0: in poll() */
    bool ready;            /* its head passed; it waits for a served slot (out of poll()) */
};

struct herd_gate {
    struct herd_gate_config cfg;
    pthread_t thread;
    int wake[2]; /* close, and a served slot freed while some wait for one, write wake[1] */
    bool closed;
    _Atomic bool closing;
    struct pend *pend;
    size_t npend;
    char head[HEAD_CAP + 1]; /* the gate thread's peek buffer */

    pthread_mutex_t mu; /* guards the fields below */
    struct client *clients;
    size_t nclients; /* pending_max + served_max */
    unsigned served; /* handed over and not yet closed, all addresses */
    unsigned nready; /* waiting connections whose head passed (pend[].ready) */
};

/* ---- the per-address table ---------------------------------------------------------- */

/* The entry of @p ip, made when @p make. mu held. */
static struct client *client_of(struct herd_gate *g, uint32_t ip, bool make)
{
    struct client *free_slot = NULL;
    for (size_t i = 0; i < g->nclients; i++) {
        struct client *c = &g->clients[i];
        bool used = c->pending || c->served || c->sims;
        if (used && c->ip == ip)
            return c;
        if (!used && !free_slot)
            free_slot = c;
    }
    if (make && free_slot)
        *free_slot = (struct client){.ip = ip};
    return make ? free_slot : NULL;
}

void herd__gate_client_closed(struct herd_gate *g, uint32_t ip)
{
    pthread_mutex_lock(&g->mu);
    struct client *c = client_of(g, ip, false);
    if (c && c->served)
        c->served--;
    if (g->served)
        g->served--;
    /* Under mu: the gate closes the pipe under mu, after setting nready to 0. A full
     * pipe (EAGAIN) means a wake-up is waiting already. */
    if (g->nready > 0) {
        ssize_t w = write(g->wake[1], "s", 1);
        (void)w;
    }
    pthread_mutex_unlock(&g->mu);
}

bool herd__gate_sim_take(struct herd_gate *g, uint32_t ip, unsigned max)
{
    pthread_mutex_lock(&g->mu);
    struct client *c = client_of(g, ip, true);
    bool ok = c && c->sims < max;
    if (ok)
        c->sims++;
    pthread_mutex_unlock(&g->mu);
    return ok;
}

void herd__gate_sim_give(struct herd_gate *g, uint32_t ip)
{
    pthread_mutex_lock(&g->mu);
    struct client *c = client_of(g, ip, false);
    if (c && c->sims)
        c->sims--;
    pthread_mutex_unlock(&g->mu);
}

/* ---- checking a request head -------------------------------------------------------- */

/* RFC 9110 token characters (methods and header names). */
static bool tchar(unsigned char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
           (c && strchr("!#$%&'*+-.^_`|~", c));
}

/* @p v, @p n bytes, for an error message: printable ASCII, cut at 32. */
static void shown(char *out, size_t outlen, const char *v, size_t n)
{
    size_t j = 0;
    for (size_t i = 0; i < n && i < 32 && j + 1 < outlen; i++)
        out[j++] = v[i] >= 0x20 && v[i] < 0x7f ? v[i] : '?';
    out[j] = '\0';
}

static unsigned refuse(char *err, size_t errlen, unsigned code, const char *fmt, const char *a)
{
    snprintf(err, errlen, fmt, a);
    return code;
}

/* One header line @p p (@p n bytes, no line end): remembers Content-Length and
 * Transfer-Encoding. @return 0 or a status with @p err. */
static unsigned check_header(const char *p, size_t n, int64_t *clen, bool *chunked, char *err,
                             size_t errlen)
{
    char what[40];
    size_t name = 0;
    while (name < n && tchar((unsigned char)p[name]))
        name++;
    if (name == 0 || name == n || p[name] != ':') {
        shown(what, sizeof what, p, n);
        return refuse(err, errlen, 400, "malformed header line '%s'", what);
    }
    const char *v = p + name + 1, *end = p + n;
    while (v < end && (*v == ' ' || *v == '\t'))
        v++;
    while (end > v && (end[-1] == ' ' || end[-1] == '\t'))
        end--;
    for (const char *q = v; q < end; q++)
        if (((unsigned char)*q < 0x20 && *q != '\t') || *q == 0x7f) {
            shown(what, sizeof what, p, name);
            return refuse(err, errlen, 400, "header %s: a control character in its value", what);
        }
    size_t vn = (size_t)(end - v);
    shown(what, sizeof what, v, vn);
    if (name == 14 && strncasecmp(p, "Content-Length", 14) == 0) {
        /* Digits only: no sign, no space, no hex; 18 digits always fit in int64. */
        bool digits = vn > 0 && vn <= 18;
        int64_t x = 0;
        for (size_t i = 0; digits && i < vn; i++) {
            digits = v[i] >= '0' && v[i] <= '9';
            x = x * 10 + (v[i] - '0');
        }
        if (!digits)
            return refuse(err, errlen, 400,
                          "Content-Length: expected a decimal byte count, got '%s'", what);
        if (*clen >= 0 && *clen != x)
            return refuse(err, errlen, 400, "Content-Length: two different values ('%s')", what);
        *clen = x; /* too large for the server is its to refuse (413) */
    } else if (name == 17 && strncasecmp(p, "Transfer-Encoding", 17) == 0) {
        if (vn != 7 || strncasecmp(v, "chunked", 7) != 0)
            return refuse(err, errlen, 400,
                          "Transfer-Encoding: only 'chunked' is understood, got '%s'", what);
        *chunked = true;
    }
    return 0;
}

unsigned herd__gate_check_head(const char *head, size_t len, char *err, size_t errlen)
{
    char what[40];
    const char *p = head, *end = head + len;
    const char *nl = memchr(p, '\n', len);
    if (!nl)
        return refuse(err, errlen, 400, "no request line%s", "");
    size_t n = (size_t)(nl - p) - (nl > p && nl[-1] == '\r');
    shown(what, sizeof what, p, n);
    /* METHOD SP /path SP HTTP/1.x */
    size_t m = 0;
    while (m < n && tchar((unsigned char)p[m]))
        m++;
    const char *sp2 = m < n ? memchr(p + m + 1, ' ', n - m - 1) : NULL;
    if (m == 0 || m > 16 || m == n || p[m] != ' ' || !sp2 || p[m + 1] != '/')
        return refuse(err, errlen, 400,
                      "malformed request line '%s'; expected METHOD /path HTTP/1.1", what);
    for (const char *q = p + m + 1; q < sp2; q++)
        if ((unsigned char)*q <= 0x20 || (unsigned char)*q >= 0x7f)
            return refuse(err, errlen, 400,
                          "malformed request line '%s': a space or a control character in the "
                          "path",
                          what);
    size_t vlen = n - (size_t)(sp2 + 1 - p);
    if (vlen != 8 || (strncmp(sp2 + 1, "HTTP/1.1", 8) != 0 && strncmp(sp2 + 1, "HTTP/1.0", 8) != 0))
        return refuse(err, errlen, vlen >= 5 && strncmp(sp2 + 1, "HTTP/", 5) == 0 ? 505 : 400,
                      "request line '%s': the version must be HTTP/1.0 or HTTP/1.1", what);
    int64_t clen = -1;
    bool chunked = false;
    int lines = 0;
    for (p = nl + 1; p < end; p = nl + 1) {
        nl = memchr(p, '\n', (size_t)(end - p));
        if (!nl)
            break;
        n = (size_t)(nl - p) - (nl > p && nl[-1] == '\r');
        if (n == 0)
            break; /* the blank line */
        if (*p == ' ' || *p == '\t')
            return refuse(err, errlen, 400, "a folded header line (obsolete, refused)%s", "");
        if (++lines > HEADERS_MAX)
            return refuse(err, errlen, 431, "more than 100 header lines%s", "");
        unsigned code = check_header(p, n, &clen, &chunked, err, errlen);
        if (code)
            return code;
    }
    if (chunked && clen >= 0)
        return refuse(err, errlen, 400,
                      "both Content-Length and Transfer-Encoding: send one of them%s", "");
    return 0;
}

/* Where the head of @p buf (@p n bytes) ends: just past its blank line; 0 when it has not
 * come yet. A bare LF is taken for CRLF, as HTTP allows. */
static size_t head_end(const char *buf, size_t n)
{
    for (size_t i = 0; i + 1 < n; i++) {
        if (buf[i] != '\n')
            continue;
        if (buf[i + 1] == '\n')
            return i + 2;
        if (buf[i + 1] == '\r' && i + 2 < n && buf[i + 2] == '\n')
            return i + 3;
    }
    return 0;
}

/* ---- answering and closing ---------------------------------------------------------- */

static const char *reason(unsigned code)
{
    switch (code) {
    case 400:
        return "Bad Request";
    case 408:
        return "Request Timeout";
    case 413:
        return "Content Too Large";
    case 429:
        return "Too Many Requests";
    case 431:
        return "Request Header Fields Too Large";
    case 503:
        return "Service Unavailable";
    case 505:
        return "HTTP Version Not Supported";
    default:
        return "Error";
    }
}

/* Answer {"error":msg} with @p code and close @p fd. The answer is small: one
 * non-blocking send fits the socket's buffer. Whatever the client sent is read first
 * (up to a few KiB), so that the close sends FIN rather than a reset that could
 * discard the answer before the client reads it. */
static void answer_close(int fd, unsigned code, const char *msg)
{
    char *json = herd__api_error_json(msg), out[1024];
    const char *body = json ? json : "{\"error\":\"out of memory\"}";
    int n = snprintf(out, sizeof out,
                     "HTTP/1.1 %u %s\r\nContent-Type: application/json\r\n"
                     "Content-Length: %zu\r\nConnection: close\r\nCache-Control: no-store\r\n"
                     "X-Content-Type-Options: nosniff\r\n%s\r\n%s",
                     code, reason(code), strlen(body),
                     code == 429 || code == 503 ? "Retry-After: 1\r\n" : "", body);
    free(json);
    char sink[4096];
    for (int i = 0; i < 8 && recv(fd, sink, sizeof sink, MSG_DONTWAIT) > 0; i++)
        ;
    if (n > 0)
        (void)send(fd, out, (size_t)n < sizeof out ? (size_t)n : sizeof out - 1,
                   MSG_DONTWAIT | MSG_NOSIGNAL);
    shutdown(fd, SHUT_WR);
    close(fd);
}

/* Forget waiting connection @p i (its fd closed or handed over). */
static void drop(struct herd_gate *g, size_t i)
{
    pthread_mutex_lock(&g->mu);
    struct client *c = client_of(g, g->pend[i].peer.sin_addr.s_addr, false);
    if (c && c->pending)
        c->pending--;
    pthread_mutex_unlock(&g->mu);
    g->pend[i] = g->pend[--g->npend];
}

/* Close waiting connection @p i and forget its count, the list left as it is. */
static void drop_close(struct herd_gate *g, size_t i)
{
    close(g->pend[i].fd);
    pthread_mutex_lock(&g->mu);
    struct client *c = client_of(g, g->pend[i].peer.sin_addr.s_addr, false);
    if (c && c->pending)
        c->pending--;
    pthread_mutex_unlock(&g->mu);
}

/* ---- the gate's thread -------------------------------------------------------------- */

static void accept_some(struct herd_gate *g, int64_t now)
{
    while (g->npend < g->cfg.pending_max) {
        struct sockaddr_in peer;
        socklen_t plen = sizeof peer;
        int fd = accept(g->cfg.listen_fd, (struct sockaddr *)&peer, &plen);
        if (fd < 0)
            return; /* EAGAIN, or a connection reset before accept: nothing to do */
        fcntl(fd, F_SETFD, FD_CLOEXEC);
        fcntl(fd, F_SETFL, O_NONBLOCK);
        char msg[160], addr[INET_ADDRSTRLEN] = "?";
        inet_ntop(AF_INET, &peer.sin_addr, addr, sizeof addr);
        pthread_mutex_lock(&g->mu);
        struct client *c = client_of(g, peer.sin_addr.s_addr, true);
        bool over = !c || c->pending + c->served >= g->cfg.per_ip_max;
        if (!over)
            c->pending++;
        pthread_mutex_unlock(&g->mu);
        if (over) {
            snprintf(msg, sizeof msg,
                     "too many connections from %s: at most %u at once per address", addr,
                     g->cfg.per_ip_max);
            answer_close(fd, 429, msg);
            continue;
        }
        g->pend[g->npend++] =
            (struct pend){.fd = fd, .peer = peer, .deadline_ns = now + g->cfg.header_deadline_ns};
    }
}

/* Look at waiting connection @p i: hand it over, refuse it, or let it cool. @return true
 * when it is gone from the list (then @p i holds the next one). */
static bool hand_over(struct herd_gate *g, size_t i);

static bool examine(struct herd_gate *g, size_t i, int64_t now, bool eof)
{
    struct pend *p = &g->pend[i];
    size_t cap = g->cfg.header_max + 1;
    ssize_t n = recv(p->fd, g->head, cap, MSG_PEEK | MSG_DONTWAIT);
    if (n < 0 && (errno == EAGAIN || errno == EINTR)) {
        p->cool_until_ns = now + COOL_NS;
        return false;
    }
    if (n <= 0) { /* the client left, or reset */
        close(p->fd);
        drop(g, i);
        return true;
    }
    size_t end = head_end(g->head, (size_t)n);
    char err[200];
    if (!end) {
        if (eof) { /* no more will come */
            answer_close(p->fd, 400, "the request ended before its headers did");
            drop(g, i);
            return true;
        }
        if ((size_t)n >= cap) {
            char msg[96];
            snprintf(msg, sizeof msg, "request line and headers over %zu bytes", g->cfg.header_max);
            answer_close(p->fd, 431, msg);
            drop(g, i);
            return true;
        }
        p->cool_until_ns = now + COOL_NS;
        return false;
    }
    unsigned code = herd__gate_check_head(g->head, end, err, sizeof err);
    if (code) {
        answer_close(p->fd, code, err);
        drop(g, i);
        return true;
    }
    pthread_mutex_lock(&g->mu);
    g->nready++;
    pthread_mutex_unlock(&g->mu);
    p->ready = true;
    p->cool_until_ns = INT64_MAX; /* out of poll(): its bytes wait for libmicrohttpd */
    return hand_over(g, i);
}

/* Hand waiting connection @p i (ready) over if a served slot is free; else it waits for
 * one (a GET /api/scenarios frees its slot in microseconds) until its deadline. Counted
 * as served from here, in this thread, so that a burst cannot hand over more than
 * served_max before the server hears of the first (and libmicrohttpd's own connection
 * limit, whose refusal path can hang it, is never reached). @return true when handed
 * over (then @p i holds the next one). */
static bool hand_over(struct herd_gate *g, size_t i)
{
    struct pend *p = &g->pend[i];
    pthread_mutex_lock(&g->mu);
    struct client *c = client_of(g, p->peer.sin_addr.s_addr, false);
    bool room = c && g->served < g->cfg.served_max;
    if (room) {
        c->pending--;
        c->served++;
        g->served++;
        g->nready--;
    }
    pthread_mutex_unlock(&g->mu);
    if (!room)
        return false;
    int fd = p->fd;
    struct sockaddr_in peer = p->peer;
    g->pend[i] = g->pend[--g->npend]; /* its count moved to served above */
    if (g->cfg.pass(g->cfg.ctx, fd, &peer) < 0)
        herd__gate_client_closed(g, peer.sin_addr.s_addr); /* never served */
    return true;
}

static void *gate_main(void *arg)
{
    struct herd_gate *g = arg;
    size_t cap = g->cfg.pending_max + 2;
    struct pollfd *fds = calloc(cap, sizeof *fds);
    size_t *which = calloc(cap, sizeof *which);
    if (!fds || !which)
        goto out;
    for (;;) {
        int64_t now = herd_clock_monotonic_ns(), due = now + HERD_NS_PER_S;
        size_t nfds = 0;
        fds[nfds++] = (struct pollfd){.fd = g->wake[0], .events = POLLIN};
        fds[nfds++] = (struct pollfd){.fd = g->npend < g->cfg.pending_max ? g->cfg.listen_fd : -1,
                                      .events = POLLIN};
        for (size_t i = 0; i < g->npend; i++) {
            struct pend *p = &g->pend[i];
            if (p->deadline_ns < due)
                due = p->deadline_ns;
            if (p->cool_until_ns > now) {
                if (p->cool_until_ns < due)
                    due = p->cool_until_ns;
                continue;
            }
            which[nfds] = i;
            fds[nfds++] = (struct pollfd){.fd = p->fd, .events = POLLIN | POLLRDHUP};
        }
        int64_t wait_ms = (due - now + HERD_NS_PER_MS - 1) / HERD_NS_PER_MS;
        int rc = poll(fds, nfds, wait_ms < 0 ? 0 : (int)wait_ms);
        if (rc < 0 && errno != EINTR)
            break;
        if (fds[0].revents) {
            char drain[64];
            while (read(g->wake[0], drain, sizeof drain) > 0)
                ;
            if (atomic_load(&g->closing))
                break;
        }
        now = herd_clock_monotonic_ns();
        /* Ready connections first, from the last so that drop()'s swap with the last entry
         * never moves one not yet looked at into an index already passed. */
        for (size_t k = nfds; k-- > 2;)
            if (fds[k].revents)
                examine(g, which[k], now, fds[k].revents & (POLLRDHUP | POLLHUP));
        for (size_t i = 0; i < g->npend;) {
            struct pend *p = &g->pend[i];
            if (now >= p->deadline_ns) {
                char msg[128];
                if (p->ready) {
                    snprintf(msg, sizeof msg, "the server is busy with %u connections; try again",
                             g->cfg.served_max);
                    pthread_mutex_lock(&g->mu);
                    g->nready--;
                    pthread_mutex_unlock(&g->mu);
                    answer_close(p->fd, 503, msg);
                } else {
                    snprintf(msg, sizeof msg,
                             "the request line and headers did not arrive within %lld ms",
                             (long long)(g->cfg.header_deadline_ns / HERD_NS_PER_MS));
                    answer_close(p->fd, 408, msg);
                }
                drop(g, i);
                continue;
            }
            if (p->cool_until_ns && p->cool_until_ns <= now)
                p->cool_until_ns = 0;
            i++;
        }
        /* Those waiting for a served slot, while there are slots. */
        for (size_t i = 0; i < g->npend;) {
            if (!g->pend[i].ready) {
                i++;
                continue;
            }
            if (!hand_over(g, i))
                break;
        }
        if (fds[1].revents)
            accept_some(g, now);
    }
out:
    free(fds);
    free(which);
    return NULL;
}

int herd__gate_start(const struct herd_gate_config *cfg, struct herd_gate **out)
{
    int rc;
    struct herd_gate *g = calloc(1, sizeof *g);
    if (!g) {
        close(cfg->listen_fd);
        return -HERD_ENOMEM;
    }
    g->cfg = *cfg;
    if (g->cfg.header_max > HEAD_CAP)
        g->cfg.header_max = HEAD_CAP;
    g->nclients = cfg->pending_max + cfg->served_max;
    g->pend = calloc(cfg->pending_max ? cfg->pending_max : 1, sizeof *g->pend);
    g->clients = calloc(g->nclients ? g->nclients : 1, sizeof *g->clients);
    if (!g->pend || !g->clients) {
        rc = -HERD_ENOMEM;
        goto fail;
    }
    if (pipe(g->wake) != 0) {
        rc = -errno;
        goto fail;
    }
    for (int k = 0; k < 2; k++) {
        fcntl(g->wake[k], F_SETFD, FD_CLOEXEC);
        fcntl(g->wake[k], F_SETFL, O_NONBLOCK);
    }
    fcntl(cfg->listen_fd, F_SETFL, O_NONBLOCK);
    pthread_mutex_init(&g->mu, NULL);
    int e = pthread_create(&g->thread, NULL, gate_main, g);
    if (e) {
        rc = -e;
        pthread_mutex_destroy(&g->mu);
        close(g->wake[0]);
        close(g->wake[1]);
        goto fail;
    }
    *out = g;
    return 0;
fail:
    close(cfg->listen_fd);
    free(g->pend);
    free(g->clients);
    free(g);
    return rc;
}

void herd__gate_close(struct herd_gate *g)
{
    if (g->closed)
        return;
    g->closed = true;
    atomic_store(&g->closing, true);
    if (write(g->wake[1], "x", 1) != 1 && errno != EAGAIN)
        pthread_cancel(g->thread); /* cannot happen: an empty pipe takes one byte */
    pthread_join(g->thread, NULL);
    for (size_t i = 0; i < g->npend; i++)
        drop_close(g, i);
    g->npend = 0;
    close(g->cfg.listen_fd);
    pthread_mutex_lock(&g->mu);
    g->nready = 0; /* no more wake-ups: the server's connections may still close */
    close(g->wake[0]);
    close(g->wake[1]);
    pthread_mutex_unlock(&g->mu);
}

void herd__gate_free(struct herd_gate *g)
{
    herd__gate_close(g);
    pthread_mutex_destroy(&g->mu);
    free(g->pend);
    free(g->clients);
    free(g);
}
