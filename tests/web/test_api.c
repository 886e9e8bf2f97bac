/* test_api.c — herd serve's API over real sockets on 127.0.0.1.
 *
 * Each test starts the server in-process on port 0 and talks to it with a plain socket
 * client (HTTP/1.1, Connection: close, every read bounded by a timeout). What it proves:
 * the catalogue is `herd list`'s plus live_max_n and sim_model; a sim run through the API
 * is the same report as the CLI's writer gives for the same spec (and deterministic);
 * malformed or hostile requests get a 4xx with a reason and the server keeps answering;
 * live runs take turns (409 + Retry-After) while simulations still run; /metrics counts;
 * the SSE stream ends with a report; stopping interrupts a live run and leaves no
 * descriptor or thread behind.
 */
#include <criterion/criterion.h>

#include <arpa/inet.h>
#include <errno.h>
#include <herd/error.h>
#include <jansson.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "../../src/scenario/file.h"
#include "../../src/sim/sim.h"
#include "../../src/web/api.h"
#include "../../src/web/server.h"
#include "../live/live_test.h"

/* ---- a small HTTP client ------------------------------------------------------------ */

struct resp {
    int status;
    char *head; /* status line and headers */
    char *body; /* NUL-terminated, dechunked */
    size_t len;
};

static void resp_free(struct resp *r)
{
    free(r->head);
    free(r->body);
    memset(r, 0, sizeof *r);
}

/* Connect from @p src (another loopback address is another client: 127.0.0.0/8 is all
 * this machine's; NULL: the kernel's choice, 127.0.0.1). */
static int dial_from(unsigned port, const char *src)
{
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    struct timeval tv = {.tv_sec = 25};
    inet_pton(AF_INET, "127.0.0.1", &sa.sin_addr);
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return -1;
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
    if (src) {
        struct sockaddr_in me = {.sin_family = AF_INET};
        inet_pton(AF_INET, src, &me.sin_addr);
        if (bind(fd, (struct sockaddr *)&me, sizeof me) != 0) {
            close(fd);
            return -1;
        }
    }
    if (connect(fd, (struct sockaddr *)&sa, sizeof sa) != 0) {
        close(fd);
        return -1;
    }
    return fd;
}

static int dial(unsigned port)
{
    return dial_from(port, NULL);
}

static void send_all(int fd, const void *p, size_t n)
{
    const char *c = p;
    while (n) {
        ssize_t w = send(fd, c, n, MSG_NOSIGNAL);
        if (w <= 0)
            return; /* the server may close early (413): the reply is still readable */
        c += w;
        n -= (size_t)w;
    }
}

/* Read to EOF (the server closes: Connection: close). @return bytes, malloc'd. */
static char *read_all(int fd, size_t *len)
{
    size_t cap = 8192, n = 0;
    char *buf = malloc(cap);
    for (;;) {
        if (n + 4096 > cap)
            buf = realloc(buf, cap *= 2);
        ssize_t r = recv(fd, buf + n, cap - n - 1, 0);
        if (r <= 0)
            break;
        n += (size_t)r;
    }
    buf[n] = '\0';
    *len = n;
    return buf;
}

static const char *header(const struct resp *r, const char *name)
{
    static __thread char val[256];
    size_t nl = strlen(name);
    for (const char *p = strstr(r->head, "\r\n"); p && p[2]; p = strstr(p + 2, "\r\n")) {
        if (strncasecmp(p + 2, name, nl) == 0 && p[2 + nl] == ':') {
            const char *v = p + 3 + nl;
            while (*v == ' ')
                v++;
            size_t l = strcspn(v, "\r");
            snprintf(val, sizeof val, "%.*s", (int)l, v);
            return val;
        }
    }
    return NULL;
}

/* Parse @p raw (consumed) into @p out; the body is dechunked when it was chunked. */
static void parse(char *raw, size_t n, struct resp *out)
{
    memset(out, 0, sizeof *out);
    char *sep = strstr(raw, "\r\n\r\n");
    if (!sep) {
        out->status = -1;
        out->head = raw;
        out->body = strdup("");
        return;
    }
    *sep = '\0';
    out->head = strdup(raw);
    sscanf(raw, "HTTP/1.%*d %d", &out->status);
    char *b = sep + 4;
    size_t blen = n - (size_t)(b - raw);
    const char *te = header(out, "Transfer-Encoding");
    if (te && strstr(te, "chunked")) {
        char *dst = malloc(blen + 1), *p = b;
        size_t dn = 0;
        for (;;) {
            char *end;
            unsigned long sz = strtoul(p, &end, 16);
            if (end == p || sz == 0)
                break;
            p = strstr(end, "\r\n");
            if (!p || (size_t)(p + 2 - b) + sz > blen)
                break;
            memcpy(dst + dn, p + 2, sz);
            dn += sz;
            p += 2 + sz + 2;
        }
        dst[dn] = '\0';
        out->body = dst;
        out->len = dn;
    } else {
        out->body = malloc(blen + 1);
        memcpy(out->body, b, blen);
        out->body[blen] = '\0';
        out->len = blen;
    }
    free(raw);
}

/* Send @p raw bytes as they are (then end the sending side when @p eof: a client who
 * half-closes is taken as gone once its request is in, so only for requests that start
 * no run); the reply in @p out (status -1 when none). */
static void raw_request_eof(unsigned port, const void *raw, size_t rawlen, bool eof,
                            struct resp *out)
{
    int fd = dial(port);
    cr_assert_geq(fd, 0, "connect to 127.0.0.1:%u: %s", port, strerror(errno));
    send_all(fd, raw, rawlen);
    if (eof)
        shutdown(fd, SHUT_WR);
    size_t n;
    char *buf = read_all(fd, &n);
    close(fd);
    parse(buf, n, out);
}

static void raw_request(unsigned port, const void *raw, size_t rawlen, struct resp *out)
{
    raw_request_eof(port, raw, rawlen, false, out);
}

static void request_h(unsigned port, const char *method, const char *path, const char *extra,
                      const char *body, size_t blen, struct resp *out)
{
    char head[1024];
    int hn = snprintf(head, sizeof head,
                      "%s %s HTTP/1.1\r\nHost: 127.0.0.1:%u\r\nConnection: close\r\n%s", method,
                      path, port, extra ? extra : "");
    if (body)
        hn += snprintf(head + hn, sizeof head - (size_t)hn,
                       "Content-Type: application/json\r\nContent-Length: %zu\r\n", blen);
    hn += snprintf(head + hn, sizeof head - (size_t)hn, "\r\n");
    char *raw = malloc((size_t)hn + blen);
    memcpy(raw, head, (size_t)hn);
    if (body)
        memcpy(raw + hn, body, blen);
    raw_request(port, raw, (size_t)hn + blen, out);
    free(raw);
}

static void request(unsigned port, const char *method, const char *path, const char *body,
                    struct resp *out)
{
    request_h(port, method, path, NULL, body, body ? strlen(body) : 0, out);
}

/* A refusal (@p status, or any 4xx when 0) whose body is {"error":"<a reason>"}. */
static void assert_refused(const struct resp *r, int status, const char *what)
{
    if (status)
        cr_assert_eq(r->status, status, "%s: status %d, wanted %d; body %s", what, r->status,
                     status, r->body);
    else
        cr_assert(r->status >= 400 && r->status < 500, "%s: status %d; body %s", what, r->status,
                  r->body);
    json_t *j = json_loads(r->body, 0, NULL);
    cr_assert_not_null(j, "%s: error body is not JSON: %s", what, r->body);
    const char *msg = json_string_value(json_object_get(j, "error"));
    cr_assert(msg && strlen(msg) > 5, "%s: no reason in %s", what, r->body);
    json_decref(j);
}

/* ---- the server under test ---------------------------------------------------------- */

static struct herd_server *srv;
static unsigned port;

static void start(void)
{
    struct herd_profile prof;
    char err[256];
    herd_profile_defaults(&prof);
    struct herd_server_config cfg = {.host = "127.0.0.1", .port = 0, .profile = &prof};
    cr_assert_eq(herd_server_start(&cfg, &srv, err, sizeof err), 0, "%s", err);
    port = herd_server_port(srv);
    cr_assert_gt(port, 0);
}

static void stop(void)
{
    if (srv)
        herd_server_stop(srv);
    srv = NULL;
}

static void alive(void)
{
    struct resp r;
    request(port, "GET", "/api/scenarios", NULL, &r);
    cr_assert_eq(r.status, 200, "the server stopped answering: %d", r.status);
    resp_free(&r);
}

TestSuite(web, .init = start, .fini = stop, .timeout = 30);

Test(web, scenarios_are_the_catalogue_plus_machine_figures)
{
    struct resp r;
    request(port, "GET", "/api/scenarios", NULL, &r);
    cr_assert_eq(r.status, 200);
    cr_assert_str_eq(header(&r, "Content-Type"), "application/json");
    /* herd list's table: the catalogue, then the shipped scenario files. */
    static char paths[32][4096];
    struct herd_fleet_file *files[32];
    const struct herd_scenario *rows[32];
    size_t nfiles = herd_fleet_shipped(paths, 32);
    char err[1024];
    cr_assert_geq(nfiles, 4, "the shipped scenario files are not found");
    for (size_t i = 0; i < nfiles; i++) {
        cr_assert_eq(herd_fleet_file_load(paths[i], &files[i], err, sizeof err), 0, "%s", err);
        rows[i] = herd_fleet_file_scenario(files[i]);
    }
    json_t *got = json_loads(r.body, 0, NULL), *want = herd_catalogue_to_json_rows(rows, nfiles);
    cr_assert_not_null(got);
    json_t *gs = json_object_get(got, "scenarios"), *ws = json_object_get(want, "scenarios");
    /* the four herds, queue, backoff-occ, fleet, lock, zk-lock; then the files */
    cr_assert_eq(json_array_size(gs), 9 + nfiles);
    cr_assert_eq(json_array_size(gs), json_array_size(ws));
    for (size_t i = 0; i < json_array_size(gs); i++) {
        json_t *g = json_array_get(gs, i);
        json_t *w = json_array_get(ws, i);
        const char *name = json_string_value(json_object_get(w, "name"));
        if (i >= 9) {
            /* A shipped file: the simulator's, with its drawing (the model's own counts). */
            const struct herd_fleet *m = herd_fleet_file_fleet(files[i - 9]);
            json_t *topo = json_object_get(g, "topology");
            cr_assert(json_is_true(json_object_get(g, "sim_model")), "%s: sim_model", name);
            cr_assert_eq(json_integer_value(json_object_get(g, "live_max_n")), 0, "%s", name);
            cr_assert_eq(json_array_size(json_object_get(topo, "components")), (size_t)m->ncomps,
                         "%s: components", name);
            cr_assert_eq(json_array_size(json_object_get(topo, "faults")), (size_t)m->nfaults,
                         "%s: faults", name);
            cr_assert_gt(json_array_size(json_object_get(topo, "calls")), 0, "%s: calls", name);
            /* A call to a coordination service says what it asks for; an lb and a coord
             * carry what their drawing shows. */
            for (size_t k = 0; k < json_array_size(json_object_get(topo, "calls")); k++) {
                json_t *call = json_array_get(json_object_get(topo, "calls"), k);
                int to = (int)json_integer_value(json_object_get(call, "to"));
                bool coord = m->comps[to].kind == HERD_FLEET_COORD;
                cr_assert_eq(json_object_get(call, "op") != NULL, coord, "%s: call %zu's op", name,
                             k);
            }
            for (int k = 0; k < m->ncomps; k++) {
                json_t *c = json_array_get(json_object_get(topo, "components"), (size_t)k);
                if (m->comps[k].kind == HERD_FLEET_LB)
                    cr_assert(json_is_integer(json_object_get(c, "handshake_ns")), "%s", name);
                if (m->comps[k].kind == HERD_FLEET_COORD)
                    cr_assert(json_is_string(json_object_get(c, "lock")), "%s", name);
            }
            if (strcmp(name, "lock-herd") == 0) {
                json_t *call = json_array_get(json_object_get(topo, "calls"), 0);
                cr_assert_str_eq(json_string_value(json_object_get(call, "op")), "lock");
                cr_assert_eq(json_integer_value(json_object_get(call, "hold_ns")), 1000000);
            }
            json_t *rest = json_deep_copy(g);
            json_object_del(rest, "live_max_n");
            json_object_del(rest, "sim_model");
            json_object_del(rest, "topology");
            cr_assert(json_equal(rest, w), "%s differs from herd list --format json", name);
            json_decref(rest);
            continue;
        }
        const struct herd_scenario *sc = herd_scenario_find(name);
        json_t *max_n = json_object_get(g, "live_max_n"), *sim = json_object_get(g, "sim_model");
        cr_assert(json_is_integer(max_n), "%s: live_max_n", name);
        cr_assert(json_is_boolean(sim), "%s: sim_model", name);
        cr_assert_eq(json_is_true(sim), (sc->backends & HERD_BACKEND_SIM) != 0, "%s: sim_model",
                     name);
        if ((sc->backends & HERD_BACKEND_LIVE) && live_test_supports(name))
            cr_assert_gt(json_integer_value(max_n), 0, "%s: live_max_n", name);
        else
            cr_assert_eq(json_integer_value(max_n), 0, "%s: live_max_n", name);
        /* Everything else is herd list's own table. */
        json_t *rest = json_deep_copy(g);
        json_object_del(rest, "live_max_n");
        json_object_del(rest, "sim_model");
        cr_assert(json_equal(rest, w), "%s differs from herd list --format json", name);
        json_decref(rest);
    }
    /* What "runs" may be and is by default, for the page (not herd list's). */
    json_t *runs = json_object_get(got, "runs");
    cr_assert(json_is_object(runs), "no runs object: %s", r.body);
    const struct {
        const char *key;
        long long want;
    } figures[] = {{"max", HERD_RUNS_MAX},
                   {"stream_max", HERD_API_STREAM_RUNS_MAX},
                   {"live_default", HERD_LIVE_RUNS_DEFAULT},
                   {"sim_default", 1},
                   {"sim_auto_max", HERD_SIM_AUTO_RUNS_MAX},
                   {"sim_auto_samples", HERD_SIM_AUTO_SAMPLES}};
    for (size_t i = 0; i < sizeof figures / sizeof figures[0]; i++) {
        json_t *v = json_object_get(runs, figures[i].key);
        cr_assert(json_is_integer(v), "runs.%s: %s", figures[i].key, r.body);
        cr_assert_eq(json_integer_value(v), figures[i].want, "runs.%s", figures[i].key);
    }
    cr_assert_eq(json_object_size(runs), sizeof figures / sizeof figures[0], "%s", r.body);
    cr_assert(!json_object_get(want, "runs"), "herd list has runs of its own now");
    cr_assert_eq(json_object_size(got), json_object_size(want) + 1, "%s", r.body);
    json_decref(got);
    json_decref(want);
    for (size_t i = 0; i < nfiles; i++)
        herd_fleet_file_free(files[i]);
    resp_free(&r);
}

/* What varies between two runs of one spec: when and where it ran, how busy the machine
 * was. Removed from each run of a parsed {"runs": [...]} before comparing. */
static json_t *without_provenance(json_t *j)
{
    size_t i;
    json_t *run;
    json_array_foreach(json_object_get(j, "runs"), i, run)
    {
        json_object_del(run, "provenance");
        json_object_del(run, "machine");
    }
    return j;
}

/* The CLI's runner and writer (herd run --format json) for @p spec on the simulator,
 * parsed. */
static json_t *cli_report(const struct herd_run_spec *spec)
{
    struct herd_profile prof;
    struct herd_report rep;
    char err[256], *text = NULL;
    size_t len;
    herd_profile_defaults(&prof);
    struct herd_job job = {*spec, herd_front_backend(HERD_BACKEND_SIM)};
    struct herd_front_opts o = {.profile = &prof};
    cr_assert_eq(herd_front_run(&job, &o, &rep, err, sizeof err), 0, "%s", err);
    FILE *f = open_memstream(&text, &len);
    struct herd_report *ptr = &rep;
    cr_assert_eq(herd_write_json(f, &ptr, 1), 0);
    fclose(f);
    herd_report_fini(&rep);
    json_t *j = json_loads(text, 0, NULL);
    free(text);
    cr_assert_not_null(j);
    return j;
}

Test(web, sim_run_is_the_cli_report_and_deterministic)
{
    const char *body = "{\"scenario\":\"accept\",\"backend\":\"sim\",\"mode\":\"naive\","
                       "\"n\":1000}";
    struct resp a, b;
    request(port, "POST", "/api/run", body, &a);
    cr_assert_eq(a.status, 200, "%s", a.body);
    request(port, "POST", "/api/run", body, &b);
    cr_assert_eq(b.status, 200);
    json_t *ja = without_provenance(json_loads(a.body, 0, NULL));
    json_t *jb = without_provenance(json_loads(b.body, 0, NULL));
    cr_assert(json_equal(ja, jb), "two runs of one spec differ beyond their provenance");
    json_t *full = json_loads(a.body, 0, NULL);
    json_t *run0 = json_array_get(json_object_get(full, "runs"), 0);
    cr_assert_not_null(json_object_get(run0, "provenance"), "every report says what made it");
    cr_assert_not_null(json_object_get(run0, "machine"), "and how busy the machine was");
    json_decref(full);
    json_decref(ja);
    json_decref(jb);

    struct herd_run_spec spec;
    herd_spec_init(&spec, herd_scenario_find("accept"));
    spec.n = 1000;
    json_t *want = without_provenance(cli_report(&spec));
    json_t *got = without_provenance(json_loads(a.body, 0, NULL));
    cr_assert_not_null(got);
    json_t *g = json_array_get(json_object_get(got, "runs"), 0);
    json_t *w = json_array_get(json_object_get(want, "runs"), 0);
    cr_assert_eq(json_array_size(json_object_get(got, "runs")), 1);
    const char *keys[] = {"wakes", "useful", "wasted", "origin_load", "peak", NULL};
    for (int i = 0; keys[i]; i++)
        cr_assert(json_equal(json_object_get(g, keys[i]), json_object_get(w, keys[i])),
                  "%s differs", keys[i]);
    cr_assert_gt(json_integer_value(json_object_get(g, "wasted")), 0);
    cr_assert(json_equal(g, w), "the API's report differs from herd run --format json");
    json_decref(got);
    json_decref(want);
    resp_free(&a);
    resp_free(&b);

    /* Mitigated with params as the page sends them (numbers and strings), and "both". */
    request(port, "POST", "/api/run",
            "{\"scenario\":\"cache\",\"mode\":\"both\",\"mitigation\":\"singleflight\","
            "\"n\":200,\"events\":3,\"seed\":\"7\",\"params\":{}}",
            &a);
    cr_assert_eq(a.status, 200, "%s", a.body);
    got = json_loads(a.body, 0, NULL);
    json_t *runs = json_object_get(got, "runs");
    cr_assert_eq(json_array_size(runs), 2);
    cr_assert_str_eq(json_string_value(json_object_get(json_array_get(runs, 1), "mitigation")),
                     "singleflight");
    cr_assert_eq(json_integer_value(json_object_get(json_array_get(runs, 0), "seed")), 7);
    json_decref(got);
    resp_free(&a);
}

/* A valid request longer than 512 bytes (every number padded with zeros, as a client may
 * send it) is the report's provenance command whole: only provenance may cut it, and then
 * says so. */
Test(web, a_long_request_is_kept_whole_in_the_provenance)
{
    char zeros[59], body[1024];
    memset(zeros, '0', sizeof zeros - 1);
    zeros[sizeof zeros - 1] = '\0'; /* each value 63 characters: the API takes up to 64 */
    struct resp r;
    int len = snprintf(body, sizeof body,
                       "{\"scenario\":\"cache\",\"backend\":\"sim\",\"mode\":\"naive\","
                       "\"mitigation\":\"singleflight\",\"n\":\"%s00100\",\"events\":\"%s00002\","
                       "\"seed\":\"%s00007\",\"runs\":\"%s00001\",\"params\":{\"rows\":\"%s01000\","
                       "\"ttl_ms\":\"%s00060\"}}",
                       zeros, zeros, zeros, zeros, zeros, zeros);
    cr_assert(len > 512 && len < HERD_PROV_COMMAND_MAX, "%d bytes", len);
    request(port, "POST", "/api/run", body, &r);
    cr_assert_eq(r.status, 200, "%s", r.body);
    json_t *got = json_loads(r.body, 0, NULL);
    cr_assert_not_null(got);
    json_t *prov = json_object_get(json_array_get(json_object_get(got, "runs"), 0), "provenance");
    cr_assert_str_eq(json_string_value(json_object_get(prov, "command")), body);
    cr_assert(json_is_false(json_object_get(prov, "command_truncated")));
    json_decref(got);
    resp_free(&r);
}

static const struct {
    const char *body, *what;
} bad_bodies[] = {
    {"{", "truncated JSON"},
    {"", "empty body"},
    {"[]", "an array"},
    {"null", "null"},
    {"42", "a number"},
    {"{}", "no scenario"},
    {"{\"scenario\":\"nope\"}", "unknown scenario"},
    {"{\"scenario\":7}", "scenario not a string"},
    {"{\"scenario\":\"accept\",\"n\":0}", "n = 0"},
    {"{\"scenario\":\"accept\",\"n\":1000001}", "n over the maximum"},
    {"{\"scenario\":\"accept\",\"n\":-5}", "negative n"},
    {"{\"scenario\":\"accept\",\"n\":1.5}", "fractional n"},
    {"{\"scenario\":\"accept\",\"n\":\"many\"}", "n not a number"},
    {"{\"scenario\":\"accept\",\"n\":true}", "n a boolean"},
    {"{\"scenario\":\"accept\",\"n\":[1]}", "n an array"},
    {"{\"scenario\":\"accept\",\"n\":1e300}", "n huge"},
    {"{\"scenario\":\"accept\",\"events\":0}", "events = 0"},
    {"{\"scenario\":\"accept\",\"seed\":-1}", "negative seed"},
    {"{\"scenario\":\"accept\",\"mode\":\"sideways\"}", "unknown mode"},
    {"{\"scenario\":\"accept\",\"mode\":\"mitigated\",\"mitigation\":\"nope\"}",
     "unknown mitigation"},
    {"{\"scenario\":\"accept\",\"mode\":\"naive\",\"mitigation\":\"nope\"}",
     "unknown mitigation on a naive run"},
    {"{\"scenario\":\"accept\",\"mode\":\"mitigated\",\"mitigation\":\"none\"}",
     "the naive strategy as the mitigation"},
    {"{\"scenario\":\"accept\",\"mode\":\"both\",\"mitigation\":\"all\"}",
     "all mitigations (the CLI's)"},
    {"{\"scenario\":\"accept\",\"backend\":\"both\"}", "both backends (the CLI's)"},
    {"{\"scenario\":\"accept\",\"backend\":\"gpu\"}", "unknown backend"},
    {"{\"scenario\":\"queue\",\"backend\":\"live\"}", "a sim-only scenario on live"},
    {"{\"scenario\":\"accept\",\"backend\":\"live\",\"n\":1000000}", "live N over the machine"},
    {"{\"scenario\":\"accept\",\"params\":{\"nope\":1}}", "unknown param"},
    {"{\"scenario\":\"accept\",\"params\":{\"workers\":\"fish\"}}", "bad enum value"},
    {"{\"scenario\":\"accept\",\"params\":{\"settle_ms\":1e300}}", "param out of range"},
    {"{\"scenario\":\"accept\",\"params\":{\"settle_ms\":{}}}", "param an object"},
    {"{\"scenario\":\"accept\",\"params\":{\"a=b\":1}}", "param key with ="},
    {"{\"scenario\":\"accept\",\"params\":[1]}", "params an array"},
    {"{\"scenario\":\"accept\",\"extra\":1}", "unknown field"},
    {"{\"scenario\":\"accept\",\"scenario\":\"cache\"}", "duplicate key"},
    {"{\"scenario\":\"acc\\u0000ept\"}", "NUL in a string"},
    {"{\"scenario\":\"\xff\xfe\"}", "not UTF-8"},
};

Test(web, malformed_requests_get_a_reason_and_the_server_survives)
{
    struct resp r;
    for (size_t i = 0; i < sizeof bad_bodies / sizeof bad_bodies[0]; i++) {
        request(port, "POST", "/api/run", bad_bodies[i].body, &r);
        assert_refused(&r, 400, bad_bodies[i].what);
        resp_free(&r);
    }
    request(port, "POST", "/api/run", "{\"scenario\":\"nope\"}", &r);
    cr_assert(strstr(r.body, "accept"), "the reason lists the scenarios: %s", r.body);
    resp_free(&r);

    /* Bodies over 64 KiB: declared (refused before reading) and chunked (counted). */
    size_t big = HERD_SERVER_BODY_MAX + 100;
    char *junk = malloc(big);
    memset(junk, ' ', big);
    junk[0] = '{';
    request_h(port, "POST", "/api/run", NULL, junk, big, &r);
    assert_refused(&r, 413, "declared huge body");
    resp_free(&r);
    request_h(port, "POST", "/api/run", "Content-Length: 99999999999\r\n", NULL, 0, &r);
    assert_refused(&r, 413, "absurd Content-Length");
    resp_free(&r);
    {
        char head[256];
        int hn = snprintf(head, sizeof head,
                          "POST /api/run HTTP/1.1\r\nHost: 127.0.0.1:%u\r\nConnection: close\r\n"
                          "Transfer-Encoding: chunked\r\n\r\n",
                          port);
        size_t cap = (size_t)hn + big + 64 * 16;
        char *raw = malloc(cap);
        size_t n = (size_t)hn;
        memcpy(raw, head, n);
        for (size_t off = 0; off < big; off += 8192) {
            size_t c = big - off < 8192 ? big - off : 8192;
            n += (size_t)sprintf(raw + n, "%zx\r\n", c);
            memcpy(raw + n, junk + off, c);
            n += c;
            memcpy(raw + n, "\r\n", 2);
            n += 2;
        }
        memcpy(raw + n, "0\r\n\r\n", 5);
        n += 5;
        raw_request(port, raw, n, &r);
        assert_refused(&r, 413, "chunked huge body");
        resp_free(&r);
        free(raw);
    }
    free(junk);

    /* Methods, paths, Host and Origin. */
    request(port, "GET", "/api/run", NULL, &r);
    assert_refused(&r, 405, "GET /api/run");
    cr_assert_str_eq(header(&r, "Allow"), "POST");
    resp_free(&r);
    request(port, "DELETE", "/api/scenarios", NULL, &r);
    assert_refused(&r, 405, "DELETE /api/scenarios");
    resp_free(&r);
    request(port, "GET", "/no/such/page", NULL, &r);
    assert_refused(&r, 404, "unknown page");
    resp_free(&r);
    request(port, "GET", "/api/nope", NULL, &r);
    assert_refused(&r, 404, "unknown API");
    resp_free(&r);
    request(port, "GET", "/", NULL, &r);
    cr_assert_eq(r.status, 200);
    cr_assert(strstr(header(&r, "Content-Type"), "text/html"));
    cr_assert(strstr(r.body, "<html"));
    resp_free(&r);
    {
        char raw[256];
        int n = snprintf(raw, sizeof raw,
                         "GET /api/scenarios HTTP/1.1\r\nHost: evil.example:%u\r\n"
                         "Connection: close\r\n\r\n",
                         port);
        raw_request(port, raw, (size_t)n, &r);
        assert_refused(&r, 403, "a rebound Host name");
        resp_free(&r);
    }
    request_h(port, "POST", "/api/run", "Origin: http://evil.example\r\n",
              "{\"scenario\":\"accept\"}", 21, &r);
    assert_refused(&r, 403, "a cross-site POST");
    resp_free(&r);

    /* The stream validates the same way, from the same body. */
    request(port, "POST", "/api/run/stream", "{\"scenario\":\"accept\",\"n\":0}", &r);
    assert_refused(&r, 400, "stream n = 0");
    resp_free(&r);
    request(port, "POST", "/api/run/stream", "{\"scenario\":\"accept\",\"params\":{\"nope\":1}}",
            &r);
    assert_refused(&r, 400, "stream unknown param");
    resp_free(&r);
    request(port, "POST", "/api/run/stream", "{\"scenario\":\"\xff\"}", &r);
    assert_refused(&r, 400, "stream not UTF-8");
    resp_free(&r);
    request(port, "POST", "/api/run/stream", "", &r);
    assert_refused(&r, 400, "stream without a body");
    resp_free(&r);

    /* Random bytes instead of HTTP: one JSON 4xx (the gate's), and the server stays up. */
    srand(5);
    for (int k = 0; k < 20; k++) {
        unsigned char noise[512];
        size_t n = 1 + (size_t)rand() % sizeof noise;
        for (size_t i = 0; i < n; i++)
            noise[i] = (unsigned char)rand();
        raw_request_eof(port, noise, n, true, &r);
        assert_refused(&r, 400, "noise");
        resp_free(&r);
    }
    /* A valid small body with bytes flipped: 200 or a 4xx with a reason, never a 5xx. */
    const char *good = "{\"scenario\":\"accept\",\"backend\":\"sim\",\"mode\":\"naive\","
                       "\"n\":10,\"events\":2,\"seed\":1,\"params\":{\"settle_ms\":5}}";
    size_t glen = strlen(good);
    for (int k = 0; k < 150; k++) {
        char body[256];
        memcpy(body, good, glen + 1);
        for (int f = 1 + rand() % 3; f > 0; f--)
            body[(size_t)rand() % glen] = (char)(32 + rand() % 95);
        request_h(port, "POST", "/api/run", NULL, body, glen, &r);
        if (r.status != 200)
            assert_refused(&r, 0, body);
        resp_free(&r);
    }
    alive();
}

/* The reasons are herd run's (herd_request_resolve), with the API's field names. */
Test(web, refusals_name_the_field_as_the_api_spells_it)
{
    static const struct {
        const char *body, *error;
    } cases[] = {
        /* ... and the shipped files' names, which grow: ", " ends a prefix. */
        {"{\"scenario\":\"nope\"}",
         "scenario: unknown scenario 'nope'; allowed: accept, condvar, cache, cron, queue, "
         "backoff-occ, fleet, lock, zk-lock, "},
        {"{\"scenario\":\"accept\",\"mode\":\"sideways\"}",
         "mode: 'sideways' is not allowed; allowed: naive, mitigated, both"},
        {"{\"scenario\":\"accept\",\"backend\":\"both\"}",
         "backend: 'both' is not allowed; allowed: live, sim"},
        {"{\"scenario\":\"accept\",\"n\":0}", "n: 0 is out of range; allowed: 1 to 1000000"},
        {"{\"scenario\":\"accept\",\"seed\":-1}",
         "seed: expected a whole number from 0 to 18446744073709551615, got '-1'"},
        {"{\"scenario\":\"accept\",\"mode\":\"mitigated\",\"mitigation\":\"nope\"}",
         "mitigation: 'nope' is not a mitigation of accept; allowed: epoll-exclusive, reuseport, "
         "blocking-accept"},
        /* A service URL would aim a run at any host: the command line's only. */
        {"{\"scenario\":\"lock\",\"backend\":\"live\",\"n\":10,\"params\":{\"url\":\"redis://10.0.0.1:6379\"}}",
         "params: a service URL is taken from the command line only (herd run --set url=...), "
         "never from the API"},
        {"{\"scenario\":\"cache\",\"backend\":\"live\",\"n\":10,\"params\":{\"pg_url\":\"postgresql://x/y\"}}",
         "params: a service URL is taken from the command line only (herd run --set url=...), "
         "never from the API"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        struct resp r;
        request(port, "POST", "/api/run", cases[i].body, &r);
        assert_refused(&r, 400, cases[i].body);
        json_t *j = json_loads(r.body, 0, NULL);
        const char *got = json_string_value(json_object_get(j, "error")), *want = cases[i].error;
        size_t n = strlen(want);
        if (n > 2 && strcmp(want + n - 2, ", ") == 0)
            cr_assert(strncmp(got, want, n) == 0, "got '%s', wanted '%s...'", got, want);
        else
            cr_assert_str_eq(got, want);
        json_decref(j);
        resp_free(&r);
    }
}

/* ---- what a GET may start: nothing ------------------------------------------------- */

/* Any page can make a browser send a GET (an <img>, a no-cors fetch: no Origin header), so
 * no GET starts a run: the stream is a POST (with as many runs as POST /api/run), HEAD and
 * GET are 405, and a request a browser says came from another site starts no run. */
Test(web, no_get_starts_a_run_and_no_other_site_does)
{
    struct resp r;
    char body[160];
    const char *cheap = "{\"scenario\":\"accept\",\"backend\":\"sim\",\"n\":10,\"events\":1}";

    static const char *const methods[] = {"GET", "HEAD"};
    for (size_t i = 0; i < 2; i++) {
        request(port, methods[i], "/api/run/stream?scenario=accept&backend=sim&n=10&events=1", NULL,
                &r);
        cr_assert_eq(r.status, 405, "%s on the stream: %d", methods[i], r.status);
        cr_assert_str_eq(header(&r, "Allow"), "POST");
        resp_free(&r);
    }
    snprintf(body, sizeof body,
             "{\"scenario\":\"accept\",\"backend\":\"sim\",\"n\":10,\"events\":1,\"runs\":%d}", 11);
    request(port, "POST", "/api/run/stream", body, &r);
    cr_assert_eq(r.status, 200, "the stream takes as many runs as POST: %s", r.body);
    cr_assert_str_eq(header(&r, "Content-Type"), "text/event-stream");
    cr_assert(strstr(r.body, "event: report"), "%s", r.body);
    cr_assert(strstr(r.body, "\"runs\":11"), "%s", r.body);
    resp_free(&r);

    static const char *const elsewhere[] = {"cross-site", "same-site"};
    for (size_t i = 0; i < 2; i++) {
        char extra[64];
        snprintf(extra, sizeof extra, "Sec-Fetch-Site: %s\r\n", elsewhere[i]);
        request_h(port, "POST", "/api/run/stream", extra, cheap, strlen(cheap), &r);
        assert_refused(&r, 403, elsewhere[i]);
        resp_free(&r);
        request_h(port, "POST", "/api/run", extra, cheap, strlen(cheap), &r);
        assert_refused(&r, 403, elsewhere[i]);
        resp_free(&r);
        request_h(port, "GET", "/api/scenarios", extra, NULL, 0, &r);
        cr_assert_eq(r.status, 200, "%s: the catalogue starts nothing", elsewhere[i]);
        resp_free(&r);
    }
    static const char *const here[] = {"Sec-Fetch-Site: same-origin\r\n",
                                       "Sec-Fetch-Site: none\r\n"};
    for (size_t i = 0; i < 2; i++) {
        request_h(port, "POST", "/api/run/stream", here[i], cheap, strlen(cheap), &r);
        cr_assert_eq(r.status, 200, "%s: %s", here[i], r.body);
        resp_free(&r);
    }
    alive();
}

/* ---- live runs take turns ----------------------------------------------------------- */

struct long_run {
    unsigned port;
    const char *body;
    struct resp r;
};

/* Post the long run, taking turns like a client should: on 409 wait and post again. */
static void *post_long(void *arg)
{
    struct long_run *lr = arg;
    for (int k = 0; k < 500; k++) {
        request(lr->port, "POST", "/api/run", lr->body, &lr->r);
        if (lr->r.status != 409)
            break;
        resp_free(&lr->r);
        struct timespec ts = {0, 5000000L};
        nanosleep(&ts, NULL);
    }
    return NULL;
}

static void skip_without_live(const char *scenario, int64_t n)
{
    struct herd_run_spec s;
    char err[256];
    herd_spec_init(&s, herd_scenario_find(scenario));
    s.n = n;
    if (!live_test_supports(scenario) || live_test_check(&s, err, sizeof err) < 0)
        cr_skip_test("no live %s herd of %lld here: %s", scenario, (long long)n, err);
}

static void sleep_ms(int ms)
{
    struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

/* Post short live runs until one is refused with 409 (the long one holds the turn). */
static bool wait_for_409(unsigned p, struct resp *out)
{
    for (int k = 0; k < 400; k++) {
        request(p, "POST", "/api/run",
                "{\"scenario\":\"condvar\",\"backend\":\"live\",\"n\":2,\"events\":1}", out);
        if (out->status == 409)
            return true;
        cr_assert_eq(out->status, 200, "short live run: %d %s", out->status, out->body);
        resp_free(out);
        sleep_ms(30); /* room for the long run to take its turn */
    }
    return false;
}

/* A live stream with "runs" left out counts the live default's repeats, from "started" on. */
Test(web, live_stream_counts_the_default_repeats)
{
    skip_without_live("condvar", 20);
    struct resp r;
    char want[128];
    request(port, "POST", "/api/run/stream",
            "{\"scenario\":\"condvar\",\"backend\":\"live\",\"n\":20,\"events\":5}", &r);
    cr_assert_eq(r.status, 200, "%s", r.body);
    snprintf(want, sizeof want, "{\"phase\":\"started\",\"done\":0,\"of\":%d,\"runs\":%d}",
             5 * HERD_LIVE_RUNS_DEFAULT, HERD_LIVE_RUNS_DEFAULT);
    cr_assert(strstr(r.body, want), "no %s in %s", want, r.body);
    snprintf(want, sizeof want, "{\"phase\":\"done\",\"done\":%d,\"of\":%d,\"runs\":%d}",
             5 * HERD_LIVE_RUNS_DEFAULT, 5 * HERD_LIVE_RUNS_DEFAULT, HERD_LIVE_RUNS_DEFAULT);
    cr_assert(strstr(r.body, want), "no %s in %s", want, r.body);
    resp_free(&r);
}

Test(web, live_runs_take_turns_simulations_do_not)
{
    skip_without_live("condvar", 200);
    struct long_run lr = {
        .port = port,
        .body = "{\"scenario\":\"condvar\",\"backend\":\"live\",\"n\":200,\"events\":300}"};
    pthread_t t;
    struct resp r;
    pthread_create(&t, NULL, post_long, &lr);
    cr_assert(wait_for_409(port, &r), "no 409 while a long live run was going");
    assert_refused(&r, 409, "second live run");
    const char *ra = header(&r, "Retry-After");
    cr_assert_not_null(ra, "409 without Retry-After");
    cr_assert(atoi(ra) >= 1 && atoi(ra) <= 60, "Retry-After: %s", ra);
    resp_free(&r);
    /* A simulation is not held up by the live run. */
    request(port, "POST", "/api/run", "{\"scenario\":\"accept\",\"n\":100,\"events\":2}", &r);
    cr_assert_eq(r.status, 200, "%s", r.body);
    resp_free(&r);
    pthread_join(t, NULL);
    cr_assert_eq(lr.r.status, 200, "the long live run: %s", lr.r.body);
    cr_assert(strstr(lr.r.body, "\"backend\":\"live\""));
    resp_free(&lr.r);
    alive();
}

Test(web, metrics_count_runs_wakes_latency_and_responses)
{
    struct resp r, m;
    request(port, "POST", "/api/run",
            "{\"scenario\":\"accept\",\"mode\":\"naive\",\"n\":500,\"events\":4}", &r);
    cr_assert_eq(r.status, 200);
    json_t *j = json_loads(r.body, 0, NULL);
    json_t *run = json_array_get(json_object_get(j, "runs"), 0);
    long long wasted = json_integer_value(json_object_get(run, "wasted"));
    long long useful = json_integer_value(json_object_get(run, "useful"));
    long long origin = json_integer_value(json_object_get(run, "origin_load"));
    long long lat =
        json_integer_value(json_object_get(json_object_get(run, "latency_ns"), "count"));
    json_decref(j);
    resp_free(&r);
    request(port, "POST", "/api/run", "{\"scenario\":\"nope\"}", &r);
    resp_free(&r);

    request(port, "GET", "/metrics", NULL, &m);
    cr_assert_eq(m.status, 200);
    cr_assert(strstr(header(&m, "Content-Type"), "text/plain"));
    char line[256];
    const char *lines[] = {
        "herd_runs_total{scenario=\"accept\",backend=\"sim\",mode=\"naive\"} 1\n",
        "herd_runs_total{scenario=\"accept\",backend=\"sim\",mode=\"mitigated\"} 0\n",
        "# TYPE herd_run_latency_seconds histogram\n",
        "herd_http_requests_total{code=\"400\"} 1\n",
    };
    for (size_t i = 0; i < sizeof lines / sizeof lines[0]; i++)
        cr_assert(strstr(m.body, lines[i]), "no '%s' in /metrics", lines[i]);
    snprintf(line, sizeof line,
             "herd_reactions_total{scenario=\"accept\",mode=\"naive\",outcome=\"wasted\"} %lld\n",
             wasted);
    cr_assert(strstr(m.body, line), "no '%s'", line);
    snprintf(line, sizeof line,
             "herd_reactions_total{scenario=\"accept\",mode=\"naive\",outcome=\"useful\"} %lld\n",
             useful);
    cr_assert(strstr(m.body, line), "no '%s'", line);
    snprintf(line, sizeof line, "herd_origin_load_total{scenario=\"accept\",mode=\"naive\"} %lld\n",
             origin);
    cr_assert(strstr(m.body, line), "no '%s'", line);
    snprintf(line, sizeof line,
             "herd_run_latency_seconds_bucket{scenario=\"accept\",backend=\"sim\",mode=\"naive\","
             "le=\"+Inf\"} %lld\n",
             lat);
    cr_assert(strstr(m.body, line), "no '%s'", line);
    snprintf(line, sizeof line,
             "herd_run_latency_seconds_count{scenario=\"accept\",backend=\"sim\",mode=\"naive\"} "
             "%lld\n",
             lat);
    cr_assert(strstr(m.body, line), "no '%s'", line);
    cr_assert(strstr(m.body, "herd_http_requests_total{code=\"200\"} "));
    resp_free(&m);
}

Test(web, stream_sends_progress_then_the_report)
{
    struct resp r;
    request(port, "POST", "/api/run/stream",
            "{\"scenario\":\"accept\",\"backend\":\"sim\",\"mode\":\"mitigated\","
            "\"mitigation\":\"epoll-exclusive\",\"n\":100,\"events\":5,\"seed\":3,"
            "\"params\":{\"workers\":\"thread\"}}",
            &r);
    cr_assert_eq(r.status, 200, "%s", r.body);
    cr_assert_str_eq(header(&r, "Content-Type"), "text/event-stream");
    const char *prog = strstr(r.body, "event: progress\ndata: {\"phase\":\"started\"");
    const char *rep = strstr(r.body, "event: report\ndata: ");
    cr_assert(prog && rep && prog < rep, "%s", r.body);
    char *data = strdup(rep + strlen("event: report\ndata: "));
    data[strcspn(data, "\n")] = '\0';
    json_t *j = json_loads(data, 0, NULL);
    cr_assert_not_null(j, "report data is not JSON");
    json_t *run = json_array_get(json_object_get(j, "runs"), 0);
    cr_assert_eq(json_integer_value(json_object_get(run, "n")), 100);
    cr_assert_eq(json_integer_value(json_object_get(run, "seed")), 3);
    cr_assert_str_eq(json_string_value(json_object_get(run, "mitigation")), "epoll-exclusive");
    json_decref(j);
    free(data);
    resp_free(&r);
}

/* ---- the stream as a browser reads it: event by event -------------------------------- */

/* An open POST /api/run/stream, read incrementally: the HTTP/1.1 chunks are undone into
 * body, whose events are taken one at a time from bpos. */
struct sse {
    int fd;
    int status;
    char *raw; /* bytes received, not yet dechunked */
    size_t rlen, rcap;
    bool in_body; /* headers parsed */
    char *body;   /* dechunked text, NUL-terminated */
    size_t blen, bcap, bpos;
    bool ended; /* the terminating chunk or EOF */
};

static void grow(char **p, size_t *cap, size_t need)
{
    if (need <= *cap)
        return;
    while (*cap < need)
        *cap = *cap ? *cap * 2 : 8192;
    *p = realloc(*p, *cap);
    cr_assert_not_null(*p);
}

/* Open the stream of run @p body (JSON) from address @p src (NULL: 127.0.0.1). */
static void sse_open_from(struct sse *st, unsigned p, const char *src, const char *body)
{
    char head[1024];
    memset(st, 0, sizeof *st);
    st->fd = dial_from(p, src);
    cr_assert_geq(st->fd, 0, "connect: %s", strerror(errno));
    int n = snprintf(head, sizeof head,
                     "POST /api/run/stream HTTP/1.1\r\nHost: 127.0.0.1:%u\r\n"
                     "Accept: text/event-stream\r\nContent-Type: application/json\r\n"
                     "Content-Length: %zu\r\n\r\n%s",
                     p, strlen(body), body);
    send_all(st->fd, head, (size_t)n);
    grow(&st->body, &st->bcap, 1);
    st->body[0] = '\0';
}

static void sse_open(struct sse *st, unsigned p, const char *body)
{
    sse_open_from(st, p, NULL, body);
}

static void sse_close(struct sse *st)
{
    if (st->fd >= 0)
        close(st->fd);
    free(st->raw);
    free(st->body);
    memset(st, 0, sizeof *st);
    st->fd = -1;
}

/* memmem without _GNU_SOURCE. */
static char *find(char *hay, size_t n, const char *needle)
{
    size_t k = strlen(needle);
    for (size_t i = 0; i + k <= n; i++)
        if (memcmp(hay + i, needle, k) == 0)
            return hay + i;
    return NULL;
}

/* Move what raw holds of the headers and whole chunks into body. */
static void sse_dechunk(struct sse *st)
{
    size_t pos = 0;
    if (!st->in_body) {
        char *sep = find(st->raw, st->rlen, "\r\n\r\n");
        if (!sep)
            return;
        sscanf(st->raw, "HTTP/1.%*d %d", &st->status);
        st->in_body = true;
        pos = (size_t)(sep + 4 - st->raw);
    }
    while (!st->ended) {
        char *crlf = find(st->raw + pos, st->rlen - pos, "\r\n");
        if (!crlf)
            break;
        unsigned long size = strtoul(st->raw + pos, NULL, 16);
        size_t data = (size_t)(crlf + 2 - st->raw);
        if (size == 0) {
            st->ended = true;
            pos = st->rlen;
            break;
        }
        if (data + size + 2 > st->rlen)
            break;
        grow(&st->body, &st->bcap, st->blen + size + 1);
        memcpy(st->body + st->blen, st->raw + data, size);
        st->blen += size;
        st->body[st->blen] = '\0';
        pos = data + size + 2;
    }
    memmove(st->raw, st->raw + pos, st->rlen - pos);
    st->rlen -= pos;
}

/*
 * The next event (comments skipped): its name into @p name and its data, malloc'd, into
 * *data. @return false at the end of the stream (or after the 25 s receive timeout).
 */
static bool sse_next(struct sse *st, char *name, size_t namelen, char **data)
{
    for (;;) {
        char *end = strstr(st->body + st->bpos, "\n\n");
        while (end) {
            char *ev = st->body + st->bpos;
            size_t evlen = (size_t)(end - ev);
            st->bpos += evlen + 2;
            if (ev[0] == ':') { /* a comment (keep-alive) */
                end = strstr(st->body + st->bpos, "\n\n");
                continue;
            }
            char *nl = memchr(ev, '\n', evlen);
            cr_assert(nl && strncmp(ev, "event: ", 7) == 0 && strncmp(nl + 1, "data: ", 6) == 0,
                      "not an event: %.*s", (int)evlen, ev);
            snprintf(name, namelen, "%.*s", (int)(nl - ev - 7), ev + 7);
            *data = strndup(nl + 7, (size_t)(end - nl - 7));
            return true;
        }
        if (st->ended)
            return false;
        grow(&st->raw, &st->rcap, st->rlen + 65536);
        ssize_t r = recv(st->fd, st->raw + st->rlen, st->rcap - st->rlen, 0);
        if (r <= 0)
            return false;
        st->rlen += (size_t)r;
        sse_dechunk(st);
    }
}

static int64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* How long until this process has @p tasks threads again (-1: not within @p max_ms). */
static int64_t wait_tasks(int tasks, int64_t max_ms)
{
    int64_t t0 = now_ms();
    while (live_test_count_dir("/proc/self/task") != tasks) {
        if (now_ms() - t0 > max_ms)
            return -1;
        struct timespec ts = {0, 5 * 1000000L};
        nanosleep(&ts, NULL);
    }
    return now_ms() - t0;
}

static json_t *integer_field_of(json_t *o, const char *key)
{
    json_t *v = json_object_get(o, key);
    cr_assert(json_is_integer(v), "no integer %s", key);
    return v;
}

/* Read @p st until a "running" progress event with simulated events in it. */
static void until_simulating(struct sse *st)
{
    char name[32], *data;
    for (;;) {
        cr_assert(sse_next(st, name, sizeof name, &data), "the stream ended before progress");
        cr_assert_str_neq(name, "error", "%s", data);
        json_t *j = json_loads(data, 0, NULL);
        cr_assert_not_null(j, "%s", data);
        bool going = strcmp(json_string_value(json_object_get(j, "phase")), "running") == 0 &&
                     json_integer_value(json_object_get(j, "events")) > 0;
        json_decref(j);
        free(data);
        if (going)
            return;
    }
}

/* A million requesters at one expiring key: some seconds of simulation (about 1 s per
 * 300000 here, more in a sanitizer build), so progress has time to show. */
#define LONG_SIM                                                                                   \
    "{\"scenario\":\"cache\",\"backend\":\"sim\",\"mode\":\"naive\",\"n\":1000000,\"events\":20}"

Test(web, stream_shows_progress_while_a_simulation_runs)
{
    struct sse st;
    char name[32], *data;
    int running = 0, simulating = 0;
    int64_t prev_events = -1, prev_sim = -1, t0 = now_ms();
    bool done = false, report = false;
    /* Long enough for a few progress events (the first at about 100 ms), short enough to
     * read to its end. */
    sse_open(&st, port,
             "{\"scenario\":\"cache\",\"backend\":\"sim\",\"mode\":\"naive\",\"n\":300000,"
             "\"events\":5,\"seed\":2}");
    while (sse_next(&st, name, sizeof name, &data)) {
        if (strcmp(name, "report") == 0) {
            cr_assert(done, "the report before the done event");
            json_t *j = json_loads(data, 0, NULL);
            cr_assert_not_null(j, "report data is not JSON");
            json_t *run = json_array_get(json_object_get(j, "runs"), 0);
            cr_assert_eq(json_integer_value(json_object_get(run, "n")), 300000);
            json_decref(j);
            report = true;
            free(data);
            continue;
        }
        cr_assert_str_eq(name, "progress", "%s: %s", name, data);
        json_t *j = json_loads(data, 0, NULL);
        cr_assert_not_null(j, "%s", data);
        const char *phase = json_string_value(json_object_get(j, "phase"));
        cr_assert_not_null(phase, "%s", data);
        /* What the page reads: done of "of" (5 events, one run). */
        cr_assert_eq(json_integer_value(integer_field_of(j, "of")), 5, "%s", data);
        cr_assert_eq(json_integer_value(integer_field_of(j, "runs")), 1, "%s", data);
        if (strcmp(phase, "started") == 0) {
            cr_assert_eq(running + done, 0, "started after other progress");
            cr_assert_eq(json_integer_value(integer_field_of(j, "done")), 0);
        } else if (strcmp(phase, "running") == 0) {
            cr_assert(!done, "running after done");
            cr_assert_eq(json_integer_value(integer_field_of(j, "run")), 1, "%s", data);
            cr_assert_eq(json_integer_value(integer_field_of(j, "done")), 0, "%s", data);
            cr_assert_str_eq(json_string_value(json_object_get(j, "backend")), "sim");
            cr_assert_str_eq(json_string_value(json_object_get(j, "mode")), "naive");
            cr_assert_str_eq(json_string_value(json_object_get(j, "strategy")), "every-miss");
            int64_t ev = json_integer_value(integer_field_of(j, "events"));
            int64_t ns = json_integer_value(integer_field_of(j, "sim_ns"));
            cr_assert(ev >= prev_events && ns >= prev_sim, "progress went back: %s", data);
            prev_events = ev;
            prev_sim = ns;
            simulating += ev > 0;
            running++;
        } else {
            cr_assert_str_eq(phase, "done", "%s", data);
            cr_assert_eq(json_integer_value(integer_field_of(j, "done")), 5);
            done = true;
        }
        json_decref(j);
        free(data);
    }
    int64_t took = now_ms() - t0;
    cr_assert(st.ended, "the stream did not end with its last chunk");
    cr_assert(report, "no report");
    cr_assert_geq(simulating, 1, "no progress from inside the simulation in %lld ms",
                  (long long)took);
    /* At most one every 100 ms (plus the run's start). */
    cr_assert_leq(running, 2 + took / 100, "%d progress events in %lld ms", running,
                  (long long)took);
    sse_close(&st);
    alive();
}

/* Every repeat of every spec is counted: "run" I of "runs" R over both modes, "repeat" k of
 * "repeats" K within one, "done" the trigger events of the runs finished of "of", all R. */
Test(web, stream_counts_every_repeat_of_every_mode)
{
    struct sse st;
    char name[32], *data;
    int64_t last_run = 0, most = 0;
    bool done = false, report = false;
    /* 2 trigger events a run, 2 runs a mode: about 0.4 s a naive run here. */
    sse_open(&st, port,
             "{\"scenario\":\"cache\",\"backend\":\"sim\",\"mode\":\"both\","
             "\"mitigation\":\"singleflight\",\"n\":300000,\"events\":2,\"seed\":2,\"runs\":2}");
    while (sse_next(&st, name, sizeof name, &data)) {
        json_t *j = json_loads(data, 0, NULL);
        cr_assert_not_null(j, "%s", data);
        if (strcmp(name, "report") == 0) {
            cr_assert(done, "the report before the done event");
            json_t *runs = json_object_get(j, "runs");
            cr_assert_eq(json_array_size(runs), 2);
            for (size_t i = 0; i < 2; i++)
                cr_assert_eq(json_integer_value(json_object_get(json_array_get(runs, i), "runs")),
                             2);
            report = true;
            json_decref(j);
            free(data);
            continue;
        }
        cr_assert_str_eq(name, "progress", "%s: %s", name, data);
        const char *phase = json_string_value(json_object_get(j, "phase"));
        cr_assert_not_null(phase, "%s", data);
        cr_assert_eq(json_integer_value(integer_field_of(j, "of")), 8, "%s", data);
        cr_assert_eq(json_integer_value(integer_field_of(j, "runs")), 4, "%s", data);
        if (strcmp(phase, "running") == 0) {
            int64_t run = json_integer_value(integer_field_of(j, "run"));
            int64_t rep = json_integer_value(integer_field_of(j, "repeat"));
            bool naive = strcmp(json_string_value(json_object_get(j, "mode")), "naive") == 0;
            cr_assert(!done, "running after done");
            cr_assert_eq(json_integer_value(integer_field_of(j, "repeats")), 2, "%s", data);
            cr_assert(rep >= 1 && rep <= 2, "%s", data);
            cr_assert_eq(run, naive ? rep : 2 + rep, "%s", data);
            cr_assert_geq(run, last_run, "progress went back: %s", data);
            /* The runs before it are done; its own 2 events too once the run has ended
             * and the next has not yet begun (a spec's end is published on its own). */
            int64_t d = json_integer_value(integer_field_of(j, "done"));
            cr_assert(d == 2 * (run - 1) || d == 2 * run, "%s", data);
            last_run = run;
            most = run > most ? run : most;
        } else if (strcmp(phase, "done") == 0) {
            cr_assert_eq(json_integer_value(integer_field_of(j, "done")), 8, "%s", data);
            done = true;
        } else {
            cr_assert_str_eq(phase, "started", "%s", data);
            cr_assert_eq(last_run + done, 0, "started after other progress");
        }
        json_decref(j);
        free(data);
    }
    cr_assert(st.ended && report, "the stream did not end with the report");
    cr_assert_geq(most, 2, "no progress from the second run (a naive run takes ~0.4 s)");
    sse_close(&st);
}

Test(web, a_client_that_leaves_stops_its_simulation)
{
    int tasks0 = live_test_count_dir("/proc/self/task");
    struct sse st;
    sse_open(&st, port, LONG_SIM);
    until_simulating(&st);
    cr_assert_gt(live_test_count_dir("/proc/self/task"), tasks0, "no thread runs the stream");
    sse_close(&st); /* mid-run: the simulation has seconds to go */
    /* The connection's thread and the worker end once the next write fails and the
     * simulator's next poll sees it: a fraction of a second, not the run's seconds. */
    int64_t took = wait_tasks(tasks0, 3000);
    cr_assert(took >= 0 && took < 1500, "the run went on after the client left (%lld ms)",
              (long long)took);
    /* Its simulation slot came back: as many simulations as the server allows start at
     * once (each holds its slot for a second or so; one client each, as one client may
     * run only HERD_SERVER_SIMS_PER_IP), and leaving stops them all. */
    struct sse more[HERD_SERVER_SIMS_MAX];
    for (int i = 0; i < HERD_SERVER_SIMS_MAX; i++) {
        char name[32], *data = NULL, src[32];
        snprintf(src, sizeof src, "127.0.0.%d", 10 + i);
        sse_open_from(&more[i], port, src,
                      "{\"scenario\":\"cache\",\"mode\":\"naive\",\"n\":100000,\"events\":20}");
        bool got = sse_next(&more[i], name, sizeof name, &data);
        cr_assert_eq(more[i].status, 200, "stream %d of %d refused", i + 1, HERD_SERVER_SIMS_MAX);
        cr_assert(got && strcmp(name, "progress") == 0, "stream %d: %s", i, data);
        free(data);
    }
    for (int i = 0; i < HERD_SERVER_SIMS_MAX; i++)
        sse_close(&more[i]);
    took = wait_tasks(tasks0, 5000);
    cr_assert(took >= 0, "streams whose clients left still run");
    alive();
    struct resp r;
    request(port, "POST", "/api/run", "{\"scenario\":\"accept\",\"n\":100,\"events\":2}", &r);
    cr_assert_eq(r.status, 200, "%s", r.body);
    resp_free(&r);
}

/* ---- hostile requests: answered once, in JSON, before libmicrohttpd ----------------- */

/* One status line, JSON, status @p status: what a raw @p raw gets. */
static void assert_one_json_answer(const char *raw, int status, const char *what)
{
    struct resp r;
    raw_request(port, raw, strlen(raw), &r);
    assert_refused(&r, status, what);
    cr_assert_str_eq(header(&r, "Content-Type"), "application/json", "%s", what);
    cr_assert(!strstr(r.body, "HTTP/1.1 4") && !strstr(r.body, "HTTP/1.0 4") &&
                  !strstr(r.body, "<html"),
              "%s: a second answer in the body: %s", what, r.body);
    cr_assert_null(strstr(r.head + 1, "HTTP/1."), "%s: two status lines: %s", what, r.head);
    resp_free(&r);
}

Test(web, bad_content_length_and_garbage_get_one_json_400)
{
    static const char *const lengths[] = {"abc", "-1",    "12345678901234567890",
                                          "+5",  " 0x10", "5, 6"};
    char raw[512];
    for (size_t i = 0; i < sizeof lengths / sizeof lengths[0]; i++) {
        snprintf(raw, sizeof raw,
                 "POST /api/run HTTP/1.1\r\nHost: 127.0.0.1:%u\r\nContent-Length: %s\r\n\r\n{}",
                 port, lengths[i]);
        assert_one_json_answer(raw, 400, lengths[i]);
    }
    snprintf(raw, sizeof raw,
             "POST /api/run HTTP/1.1\r\nHost: 127.0.0.1:%u\r\nContent-Length: 2\r\n"
             "Transfer-Encoding: chunked\r\n\r\n{}",
             port);
    assert_one_json_answer(raw, 400, "Content-Length and chunked");
    assert_one_json_answer("GARBAGE\r\n\r\n", 400, "GARBAGE");
    assert_one_json_answer("GET\r\n\r\n", 400, "a method alone");
    assert_one_json_answer("GET / HTTP/9.9\r\n\r\n", 505, "HTTP/9.9");
    assert_one_json_answer("GET /a b HTTP/1.1\r\n\r\n", 400, "a space in the path");
    snprintf(raw, sizeof raw, "GET / HTTP/1.1\r\nHost: 127.0.0.1:%u\r\n folded\r\n\r\n", port);
    assert_one_json_answer(raw, 400, "a folded header");
    /* Past 8 KiB of headers. */
    size_t big = 9000;
    char *huge = malloc(big + 64);
    int n = snprintf(huge, 64, "GET / HTTP/1.1\r\nX-Big: ");
    memset(huge + n, 'a', big);
    strcpy(huge + n + big, "\r\n\r\n");
    assert_one_json_answer(huge, 431, "9000 bytes of headers");
    free(huge);
    alive();
}

Test(web, host_and_origin_are_exactly_this_server)
{
    char raw[512], host[64];
    static const char *const hosts[] = {"127.0.0.1: +%u",  "127.0.0.1:+%u",  "127.0.0.1:0%u",
                                        "127.0.0.1:%u ",   "127.0.0.1:%u:1", "127.0.0.1.evil:%u",
                                        "evil.example:%u", "localhost.:%u",  "127.0.0.1"};
    for (size_t i = 0; i < sizeof hosts / sizeof hosts[0]; i++) {
        snprintf(host, sizeof host, hosts[i], port);
        snprintf(raw, sizeof raw, "GET /api/scenarios HTTP/1.1\r\nHost: %s\r\n\r\n", host);
        struct resp r;
        raw_request(port, raw, strlen(raw), &r);
        assert_refused(&r, 403, host);
        resp_free(&r);
    }
    static const char *const names[] = {"127.0.0.1", "localhost", "LOCALHOST", "[::1]"};
    for (size_t i = 0; i < 4; i++) {
        snprintf(raw, sizeof raw, "GET /api/scenarios HTTP/1.1\r\nHost: %s:%u\r\n\r\n", names[i],
                 port);
        struct resp r;
        raw_request(port, raw, strlen(raw), &r);
        cr_assert_eq(r.status, 200, "%s: %s", names[i], r.body);
        resp_free(&r);
    }
    /* Origin: exactly http://HOST; a sandboxed frame's "null", https, another port: no. */
    char origin[96];
    static const char *const origins[] = {"null", "https://127.0.0.1:%u", "http://127.0.0.1:1%u",
                                          "file://", "http://127.0.0.1:%u.evil.example"};
    const char *body = "{\"scenario\":\"accept\",\"n\":10,\"events\":1}";
    for (size_t i = 0; i < sizeof origins / sizeof origins[0]; i++) {
        char extra[160];
        snprintf(origin, sizeof origin, origins[i], port);
        snprintf(extra, sizeof extra, "Origin: %s\r\n", origin);
        struct resp r;
        request_h(port, "POST", "/api/run", extra, body, strlen(body), &r);
        assert_refused(&r, 403, origin);
        resp_free(&r);
    }
    char extra[96];
    snprintf(extra, sizeof extra, "Origin: http://127.0.0.1:%u\r\n", port);
    struct resp r;
    request_h(port, "POST", "/api/run", extra, body, strlen(body), &r);
    cr_assert_eq(r.status, 200, "this server's own page: %s", r.body);
    resp_free(&r);
}

/* A server of its own with @p cfg (127.0.0.1 and port 0 unless set). */
static struct herd_server *start_with(struct herd_server_config cfg, unsigned *p)
{
    struct herd_server *s;
    char err[256];
    if (!cfg.host)
        cfg.host = "127.0.0.1";
    cr_assert_eq(herd_server_start(&cfg, &s, err, sizeof err), 0, "%s", err);
    *p = herd_server_port(s);
    return s;
}

/* Off loopback a token is required (refused before anything is bound); with one, every
 * request carries it, and the Host check holds as on loopback (this test stays on
 * 127.0.0.1: tests/web/test_serve.sh serves 0.0.0.0 inside a network namespace). */
Test(web, a_token_is_required_off_loopback_and_every_request_carries_it)
{
    struct herd_server *s;
    char err[256], raw[512];
    struct herd_server_config cfg = {.host = "0.0.0.0"};
    cr_assert_eq(herd_server_start(&cfg, &s, err, sizeof err), -HERD_EINVAL);
    cr_assert(strstr(err, "token"), "%s", err);
    cfg.host = "192.0.2.1"; /* TEST-NET-1: refused before any bind is tried */
    cr_assert_eq(herd_server_start(&cfg, &s, err, sizeof err), -HERD_EINVAL);
    cfg = (struct herd_server_config){.token = "a token"};
    cr_assert_eq(herd_server_start(&cfg, &s, err, sizeof err), -HERD_EINVAL);
    cr_assert(strstr(err, "token must be"), "%s", err);
    unsigned p;
    static const char *const allow[] = {"herd.example", NULL};
    s = start_with((struct herd_server_config){.token = "s3cret-T0ken", .allow_hosts = allow}, &p);
    static const struct {
        const char *host, *auth;
        int status;
    } cases[] = {
        {"127.0.0.1:%u", "", 401},
        {"127.0.0.1:%u", "Authorization: token wrong\r\n", 401},
        {"127.0.0.1:%u", "Authorization: token s3cret-T0ken\r\n", 200},
        {"127.0.0.1:%u", "Authorization: Bearer s3cret-T0ken\r\n", 200},
        {"127.0.0.1:%u", "Cookie: herd_token=s3cret-T0ken\r\n", 200},
        {"evil.example:%u", "Authorization: token s3cret-T0ken\r\n", 403}, /* rebinding */
        {"herd.example:%u", "Authorization: token s3cret-T0ken\r\n", 200},
        {"herd.example", "Authorization: token s3cret-T0ken\r\n", 200}, /* behind a proxy */
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char host[64];
        snprintf(host, sizeof host, cases[i].host, p);
        snprintf(raw, sizeof raw, "GET /api/scenarios HTTP/1.1\r\nHost: %s\r\n%s\r\n", host,
                 cases[i].auth);
        struct resp r;
        raw_request(p, raw, strlen(raw), &r);
        if (cases[i].status == 200)
            cr_assert_eq(r.status, 200, "%s %s: %s", host, cases[i].auth, r.body);
        else
            assert_refused(&r, cases[i].status, cases[i].auth);
        resp_free(&r);
    }
    /* The URL's token gives the page its cookie, HttpOnly and SameSite=Strict. */
    snprintf(raw, sizeof raw, "GET /?token=s3cret-T0ken HTTP/1.1\r\nHost: localhost:%u\r\n\r\n", p);
    struct resp r;
    raw_request(p, raw, strlen(raw), &r);
    cr_assert_eq(r.status, 200, "%s", r.body);
    const char *cookie = header(&r, "Set-Cookie");
    cr_assert(cookie && strstr(cookie, "herd_token=s3cret-T0ken") && strstr(cookie, "HttpOnly") &&
                  strstr(cookie, "SameSite=Strict"),
              "%s", cookie ? cookie : "no cookie");
    resp_free(&r);
    herd_server_stop(s);
}

/* Slowloris: 80 connections from 5 addresses, each sending a header line every 500 ms and
 * never the blank line, plus 10 more from one of them. The extra 10 get 429 at once
 * (HERD_SERVER_PER_IP_MAX per address), every slow one 408 at the deadline (3 s here,
 * though each keeps sending), and a normal client is served all along; so is a body that
 * trickles in, cut at its own deadline. */
Test(web, slow_clients_do_not_lock_out_a_normal_one, .timeout = 40)
{
    enum { SLOW = 80, EXTRA = 10 };
    unsigned p;
    struct herd_server *s = start_with(
        (struct herd_server_config){.header_deadline_ms = 3000, .body_deadline_ms = 2000}, &p);
    int slow[SLOW];
    char line[160], src[32];
    int64_t t0 = now_ms();
    for (int i = 0; i < SLOW; i++) {
        snprintf(src, sizeof src, "127.0.0.%d", 2 + i / HERD_SERVER_PER_IP_MAX);
        slow[i] = dial_from(p, src);
        cr_assert_geq(slow[i], 0, "slow client %d: %s", i, strerror(errno));
        int n =
            snprintf(line, sizeof line, "GET /api/scenarios HTTP/1.1\r\nHost: 127.0.0.1:%u\r\n", p);
        send_all(slow[i], line, (size_t)n);
    }
    for (int i = 0; i < EXTRA; i++) {
        struct resp r;
        int fd = dial_from(p, "127.0.0.2");
        cr_assert_geq(fd, 0);
        size_t n;
        char *buf = read_all(fd, &n);
        close(fd);
        parse(buf, n, &r);
        assert_refused(&r, 429, "one connection too many from 127.0.0.2");
        resp_free(&r);
    }
    /* A body of 100 bytes, a byte at each round of the loop below (~200 ms apart). */
    int trickle = dial_from(p, "127.0.0.9");
    cr_assert_geq(trickle, 0);
    int n =
        snprintf(line, sizeof line,
                 "POST /api/run HTTP/1.1\r\nHost: 127.0.0.1:%u\r\nContent-Length: 100\r\n\r\n{", p);
    send_all(trickle, line, (size_t)n);
    int served = 0;
    int64_t trickle_closed = -1;
    for (int64_t last = 0; now_ms() - t0 < 4500;) {
        int64_t t = now_ms() - t0;
        if (t - last >= 500 && t < 2500) { /* each byte of it resets MHD's idle timeout */
            last = t;
            for (int i = 0; i < SLOW; i++)
                send_all(slow[i], "X-Slow: 1\r\n", 11);
        }
        if (trickle_closed < 0) {
            char c;
            if (recv(trickle, &c, 1, MSG_DONTWAIT) == 0 || send(trickle, " ", 1, MSG_NOSIGNAL) < 0)
                trickle_closed = t;
        }
        struct resp r;
        request(p, "GET", "/api/scenarios", NULL, &r);
        cr_assert_eq(r.status, 200, "a normal client at %lld ms: %d %s", (long long)t, r.status,
                     r.body);
        resp_free(&r);
        served++;
        sleep_ms(200);
    }
    if (trickle_closed < 0) { /* a last look, on a machine too busy to look often */
        char c;
        if (recv(trickle, &c, 1, MSG_DONTWAIT) == 0 || send(trickle, " ", 1, MSG_NOSIGNAL) < 0)
            trickle_closed = now_ms() - t0;
    }
    cr_assert_geq(served, 3);
    cr_assert(trickle_closed >= 0,
              "a body trickling in (a byte every ~200 ms) was not cut at its 2 s deadline");
    close(trickle);
    int timed_out = 0;
    for (int i = 0; i < SLOW; i++) {
        size_t len;
        char *buf = read_all(slow[i], &len);
        close(slow[i]);
        struct resp r;
        parse(buf, len, &r);
        timed_out += r.status == 408 && strstr(r.body, "within 3000 ms") != NULL;
        resp_free(&r);
    }
    cr_assert_eq(timed_out, SLOW, "only %d of %d slow clients got 408", timed_out, SLOW);
    herd_server_stop(s);
}

/* A burst of 300 clients at once, more than the server serves at a time (a thread each):
 * the ones beyond wait at the gate for a turn and every one is answered 200; the server
 * still answers afterwards (libmicrohttpd 0.9.75 hung for good once its own connection
 * limit refused one). */
Test(web, a_burst_of_clients_is_served_in_turn, .timeout = 60)
{
    enum { BURST = 300 }; /* and as many sockets of the server: within 1024 descriptors */
    static int fd[BURST];
    char req[128], src[32];
    int n = snprintf(req, sizeof req, "GET /api/scenarios HTTP/1.1\r\nHost: 127.0.0.1:%u\r\n\r\n",
                     port);
    for (int i = 0; i < BURST; i++) {
        snprintf(src, sizeof src, "127.0.%d.%d", 4 + i / 200, 1 + i % 200);
        fd[i] = dial_from(port, src);
        cr_assert_geq(fd[i], 0, "client %d: %s", i, strerror(errno));
    }
    for (int i = 0; i < BURST; i++)
        send_all(fd[i], req, (size_t)n);
    int served = 0;
    for (int i = 0; i < BURST; i++) {
        size_t len;
        char *buf = read_all(fd[i], &len);
        close(fd[i]);
        served += strncmp(buf, "HTTP/1.1 200", 12) == 0;
        free(buf);
    }
    cr_assert_eq(served, BURST, "%d of %d clients served", served, BURST);
    alive();
}

/* A POST whose client leaves stops its simulation (the client's end of file), as the
 * stream's does. */
Test(web, a_post_whose_client_leaves_stops_its_simulation)
{
    int tasks0 = live_test_count_dir("/proc/self/task");
    int fd = dial(port);
    char head[256];
    int n = snprintf(head, sizeof head,
                     "POST /api/run HTTP/1.1\r\nHost: 127.0.0.1:%u\r\nContent-Length: %zu\r\n\r\n",
                     port, strlen(LONG_SIM));
    send_all(fd, head, (size_t)n);
    send_all(fd, LONG_SIM, strlen(LONG_SIM));
    sleep_ms(500); /* simulating: the run has seconds to go */
    cr_assert_gt(live_test_count_dir("/proc/self/task"), tasks0, "no thread runs the POST");
    close(fd);
    int64_t took = wait_tasks(tasks0, 5000);
    cr_assert(took >= 0 && took < 1500, "the run went on after the client left (%lld ms)",
              (long long)took);
    alive();
}

/* One client cannot hold every simulation slot: its third at once gets 429 with a reason,
 * while another client's runs. */
Test(web, one_client_cannot_take_every_simulation_slot)
{
    int tasks0 = live_test_count_dir("/proc/self/task");
    struct sse mine[HERD_SERVER_SIMS_PER_IP];
    for (int i = 0; i < HERD_SERVER_SIMS_PER_IP; i++) {
        sse_open(&mine[i], port, LONG_SIM);
        until_simulating(&mine[i]);
    }
    struct resp r;
    const char *cheap = "{\"scenario\":\"accept\",\"n\":10,\"events\":1}";
    request(port, "POST", "/api/run", cheap, &r);
    assert_refused(&r, 429, "a third simulation of one client");
    cr_assert(strstr(r.body, "client"), "%s", r.body);
    cr_assert_not_null(header(&r, "Retry-After"));
    resp_free(&r);
    int fd = dial_from(port, "127.0.0.3");
    char head[256];
    int n =
        snprintf(head, sizeof head,
                 "POST /api/run HTTP/1.1\r\nHost: 127.0.0.1:%u\r\nContent-Length: %zu\r\n\r\n%s",
                 port, strlen(cheap), cheap);
    send_all(fd, head, (size_t)n);
    size_t len;
    char *buf = read_all(fd, &len);
    close(fd);
    parse(buf, len, &r);
    cr_assert_eq(r.status, 200, "another client: %s", r.body);
    resp_free(&r);
    for (int i = 0; i < HERD_SERVER_SIMS_PER_IP; i++)
        sse_close(&mine[i]);
    cr_assert_geq(wait_tasks(tasks0, 5000), 0, "streams whose clients left still run");
}

/* The run ceilings stop a request's simulations: 422 with the figure and the flag. */
Test(web, run_ceilings_stop_a_simulation_with_the_reason)
{
    unsigned p;
    struct resp r;
    struct herd_server *s = start_with((struct herd_server_config){.max_events = 300000}, &p);
    int64_t t0 = now_ms();
    request(p, "POST", "/api/run", LONG_SIM, &r);
    assert_refused(&r, 422, "past the event ceiling");
    cr_assert(strstr(r.body, "300000 simulator events") && strstr(r.body, "--max-events"), "%s",
              r.body);
    resp_free(&r);
    herd_server_stop(s);
    s = start_with((struct herd_server_config){.max_cpu_s = 0.3}, &p);
    request(p, "POST", "/api/run/stream", LONG_SIM, &r);
    cr_assert_eq(r.status, 200, "%s", r.body);
    cr_assert(strstr(r.body, "event: error") && strstr(r.body, "CPU seconds") &&
                  strstr(r.body, "--max-cpu"),
              "%s", r.body);
    resp_free(&r);
    cr_assert_lt(now_ms() - t0, 10000, "the ceilings did not stop the runs early");
    herd_server_stop(s);
}

/* ---- stopping ----------------------------------------------------------------------- */

/* ---- scenario files: by name, as text, validated ------------------------------------- */

/* The text of shipped file @p name (malloc'd). */
static char *shipped_text(const char *name)
{
    char path[4096];
    cr_assert_eq(herd_fleet_find(name, path, sizeof path), 0, "%s is not shipped", name);
    FILE *f = fopen(path, "rb");
    cr_assert_not_null(f, "%s", path);
    char *text = calloc(1, HERD_API_FILE_MAX + 1);
    size_t n = fread(text, 1, HERD_API_FILE_MAX, f);
    fclose(f);
    text[n] = '\0';
    return text;
}

/* {"file": TEXT, ...rest} as a request body (malloc'd); @p rest is JSON fields or "". */
static char *file_body(const char *text, const char *rest)
{
    json_t *o = json_loads(rest[0] ? rest : "{}", 0, NULL);
    cr_assert_not_null(o, "%s", rest);
    json_object_set_new(o, "file", json_string(text));
    char *body = json_dumps(o, JSON_COMPACT);
    json_decref(o);
    return body;
}

static json_t *runs_of_answer(const struct resp *r, size_t want)
{
    cr_assert_eq(r->status, 200, "status %d: %s", r->status, r->body);
    json_t *j = json_loads(r->body, 0, NULL);
    cr_assert_not_null(j);
    cr_assert_eq(json_array_size(json_object_get(j, "runs")), want, "%s", r->body);
    return j;
}

static const char *verdict(json_t *run)
{
    return json_string_value(
        json_object_get(json_object_get(json_object_get(run, "fleet"), "recovery"), "verdict"));
}

/* A shipped file by its name, naive and two mitigations at once (a+b) side by side, a
 * field overridden through params: the cascade stays stuck naive and recovers with a
 * retry budget (the CLI's verdicts, test_cli). */
Test(web, a_shipped_file_runs_by_name_with_mitigations_at_once)
{
    struct resp r;
    request(port, "POST", "/api/run",
            "{\"scenario\":\"cascade-3tier\",\"mode\":\"both\",\"mitigation\":\"jitter+budget\","
            "\"params\":{\"components.users.rate\":1500}}",
            &r);
    json_t *j = runs_of_answer(&r, 2);
    json_t *naive = json_array_get(json_object_get(j, "runs"), 0);
    json_t *mit = json_array_get(json_object_get(j, "runs"), 1);
    cr_assert_str_eq(json_string_value(json_object_get(naive, "scenario")), "cascade-3tier");
    cr_assert_str_eq(json_string_value(json_object_get(mit, "strategy")), "jitter+budget");
    cr_assert_str_eq(verdict(naive), "stuck");
    cr_assert_str_eq(verdict(mit), "recovered");
    cr_assert_str_eq(json_string_value(json_object_get(json_object_get(naive, "params"),
                                                       "components.users.rate")),
                     "1500");
    json_t *comps = json_object_get(json_object_get(naive, "fleet"), "components");
    cr_assert_eq(json_array_size(comps), 4);
    cr_assert(json_is_array(json_object_get(json_object_get(json_array_get(comps, 3), "timeline"),
                                            "goodput")),
              "no per-component timeline");
    json_decref(j);
    resp_free(&r);

    /* A name is never a path, and a file's sizes are its own. */
    request(port, "POST", "/api/run", "{\"scenario\":\"../scenarios/cascade-3tier\"}", &r);
    assert_refused(&r, 400, "a path as the scenario");
    cr_assert(strstr(r.body, "cascade-3tier"), "the reason lists the files: %s", r.body);
    resp_free(&r);
    request(port, "POST", "/api/run", "{\"scenario\":\"cascade-3tier\",\"n\":5}", &r);
    assert_refused(&r, 400, "n of a file");
    resp_free(&r);
    request(port, "POST", "/api/run",
            "{\"scenario\":\"cascade-3tier\",\"params\":{\"components.db.workers\":0}}", &r);
    assert_refused(&r, 400, "a field out of range");
    cr_assert(strstr(r.body, "components.db.workers"), "%s", r.body);
    resp_free(&r);
    request(
        port, "POST", "/api/run",
        "{\"scenario\":\"cascade-3tier\",\"mode\":\"mitigated\",\"mitigation\":\"nope+budget\"}",
        &r);
    assert_refused(&r, 400, "an unknown mitigation in a+b");
    resp_free(&r);
}

/* A file's text runs as its shipped twin does: the same fleet figures (only its name in
 * the provenance differs), by POST and over the stream. */
Test(web, a_file_as_text_is_the_same_run_as_by_name)
{
    struct resp byname, bytext;
    char *text = shipped_text("retry-storm-outage");
    char *body = file_body(text, "{\"mode\":\"mitigated\",\"seed\":7}");
    request(port, "POST", "/api/run",
            "{\"scenario\":\"retry-storm-outage\",\"mode\":\"mitigated\",\"seed\":7}", &byname);
    request(port, "POST", "/api/run", body, &bytext);
    json_t *a = runs_of_answer(&byname, 1), *b = runs_of_answer(&bytext, 1);
    json_t *fa = json_object_get(json_array_get(json_object_get(a, "runs"), 0), "fleet");
    json_t *fb = json_object_get(json_array_get(json_object_get(b, "runs"), 0), "fleet");
    cr_assert(json_equal(fa, fb), "the pasted file ran differently from the shipped one");
    json_decref(a);
    json_decref(b);
    resp_free(&byname);
    resp_free(&bytext);

    request(port, "POST", "/api/run/stream", body, &bytext);
    cr_assert_eq(bytext.status, 200, "%s", bytext.body);
    cr_assert(strstr(bytext.body, "event: report\ndata: {\"runs\":[{\"scenario\":"
                                  "\"retry-storm-outage\""),
              "no report in the stream: %.300s", bytext.body);
    resp_free(&bytext);
    free(body);
    free(text);
}

/* A malformed file is the reader's refusal, with where: a 400 whose reason is
 * "file:LINE:COL: path: what" and whose line and column are fields of their own. */
Test(web, a_malformed_file_is_refused_with_its_line_and_column)
{
    static const struct {
        const char *text;
        long line, col;
        const char *path; /* NULL: none (a YAML syntax error) */
    } cases[] = {
        {"name: x\nduration: 10s\ncomponents:\n  a:\n    kind: service\n    workers: -3\n", 6, 14,
         "components.a.workers"},
        {"name: x\n  bad: [\n", 2, 6, NULL},
        {"name: x\nduration: 10s\ncomponents:\n  c:\n    kind: clients\n    clients: 10\n"
         "    call: {to: nowhere}\n",
         7, 0, NULL},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        struct resp r;
        char *body = file_body(cases[i].text, "");
        request(port, "POST", "/api/run", body, &r);
        assert_refused(&r, 400, cases[i].text);
        json_t *j = json_loads(r.body, 0, NULL);
        const char *msg = json_string_value(json_object_get(j, "error"));
        char where[32];
        snprintf(where, sizeof where, "file:%ld:", cases[i].line);
        cr_assert(strncmp(msg, where, strlen(where)) == 0, "%s", msg);
        cr_assert_eq(json_integer_value(json_object_get(j, "line")), cases[i].line, "%s", r.body);
        if (cases[i].col)
            cr_assert_eq(json_integer_value(json_object_get(j, "column")), cases[i].col, "%s",
                         r.body);
        if (cases[i].path)
            cr_assert_str_eq(json_string_value(json_object_get(j, "path")), cases[i].path);
        json_decref(j);
        resp_free(&r);
        free(body);
    }
    struct resp r;
    request(port, "POST", "/api/run", "{\"file\":42}", &r);
    assert_refused(&r, 400, "file not text");
    resp_free(&r);
    request(port, "POST", "/api/run", "{\"file\":\"name: x\",\"scenario\":\"accept\"}", &r);
    assert_refused(&r, 400, "file and scenario");
    resp_free(&r);
    /* Over the cap: 413 with the figure, the file not read. */
    char *big = malloc(HERD_API_FILE_MAX + 2);
    memset(big, '#', HERD_API_FILE_MAX + 1);
    big[HERD_API_FILE_MAX + 1] = '\0';
    char *body = file_body(big, "");
    request(port, "POST", "/api/run", body, &r);
    assert_refused(&r, 413, "a file over the cap");
    cr_assert(strstr(r.body, "65536"), "%s", r.body);
    resp_free(&r);
    request_h(port, "POST", "/api/validate", "Content-Type: text/yaml\r\n", big, strlen(big), &r);
    assert_refused(&r, 413, "a file over the cap to validate");
    resp_free(&r);
    free(body);
    free(big);
    alive();
}

/* POST /api/validate: the editor's check. The text as the body or as {"file": TEXT}; the
 * row and the drawing when it reads, else where it does not. Nothing is run. */
Test(web, validate_says_ok_with_the_shape_or_where_it_is_wrong)
{
    struct resp r;
    char *text = shipped_text("cascade-3tier");
    char *body = file_body(text, "");
    const char *raw[] = {text, body};
    for (int k = 0; k < 2; k++) {
        request_h(port, "POST", "/api/validate",
                  k ? "Content-Type: application/json\r\n" : "Content-Type: text/yaml\r\n", raw[k],
                  strlen(raw[k]), &r);
        cr_assert_eq(r.status, 200, "%s", r.body);
        json_t *j = json_loads(r.body, 0, NULL);
        cr_assert(json_is_true(json_object_get(j, "ok")), "%s", r.body);
        cr_assert_str_eq(json_string_value(json_object_get(j, "name")), "cascade-3tier");
        json_t *topo = json_object_get(j, "topology");
        cr_assert_eq(json_array_size(json_object_get(topo, "components")), 4);
        cr_assert_eq(json_array_size(json_object_get(topo, "calls")), 3);
        cr_assert_eq(json_array_size(json_object_get(topo, "faults")), 1);
        json_t *call = json_array_get(json_object_get(topo, "calls"), 2);
        cr_assert_str_eq(json_string_value(json_object_get(call, "to_name")), "db");
        cr_assert_eq(json_integer_value(json_object_get(call, "timeout_ns")), 150000000);
        cr_assert_eq(json_integer_value(json_object_get(call, "max_attempts")), 3);
        cr_assert_geq(json_array_size(json_object_get(j, "mitigations")), 2);
        json_decref(j);
        resp_free(&r);
    }
    const char *bad = "name: x\nduration: 10s\ncomponents:\n  a:\n    kind: servce\n";
    request_h(port, "POST", "/api/validate", "Content-Type: text/yaml\r\n", bad, strlen(bad), &r);
    assert_refused(&r, 400, "a bad kind");
    json_t *j = json_loads(r.body, 0, NULL);
    cr_assert_eq(json_integer_value(json_object_get(j, "line")), 5, "%s", r.body);
    json_decref(j);
    resp_free(&r);
    request(port, "POST", "/api/validate", "{\"nope\":1}", &r);
    assert_refused(&r, 400, "JSON without file");
    resp_free(&r);
    request(port, "GET", "/api/validate", NULL, &r);
    assert_refused(&r, 405, "GET /api/validate");
    resp_free(&r);
    request_h(port, "POST", "/api/validate", "Sec-Fetch-Site: cross-site\r\n", text, strlen(text),
              &r);
    assert_refused(&r, 403, "validate from another site");
    resp_free(&r);
    free(body);
    free(text);
}

Test(web_stop, stop_interrupts_a_live_run_and_leaves_nothing_behind, .timeout = 30)
{
    int fds0 = live_test_count_dir("/proc/self/fd"),
        tasks0 = live_test_count_dir("/proc/self/task");
    start();
    /* An idle keep-alive connection and a finished request must not hold the stop up. */
    int idle = dial(port);
    cr_assert_geq(idle, 0);
    alive();

    bool live = true;
    struct herd_run_spec s;
    char err[256];
    herd_spec_init(&s, herd_scenario_find("condvar"));
    s.n = 200;
    if (!live_test_supports("condvar") || live_test_check(&s, err, sizeof err) < 0)
        live = false; /* still check the descriptors and threads */
    struct long_run lr = {
        .port = port,
        .body = "{\"scenario\":\"condvar\",\"backend\":\"live\",\"n\":200,\"events\":100000}"};
    pthread_t t;
    if (live) {
        pthread_create(&t, NULL, post_long, &lr);
        struct resp r;
        cr_assert(wait_for_409(port, &r), "the long live run did not start");
        resp_free(&r);
    }
    int64_t t0 = now_ms();
    stop();
    int64_t took = now_ms() - t0;
    cr_assert_lt(took, 5000, "stopping took %lld ms", (long long)took);
    if (live) {
        pthread_join(t, NULL);
        /* Interrupted, cleaned up, and answered before the connection closed. */
        assert_refused(&lr.r, 503, "interrupted live run");
        cr_assert(strstr(lr.r.body, "interrupted"), "%s", lr.r.body);
        resp_free(&lr.r);
    }
    close(idle);
    cr_assert_eq(live_test_count_dir("/proc/self/fd"), fds0, "descriptors left open");
    for (int k = 0; k < 100 && live_test_count_dir("/proc/self/task") != tasks0; k++)
        sleep_ms(10);
    cr_assert_eq(live_test_count_dir("/proc/self/task"), tasks0, "threads left running");
    /* The port is closed. */
    int fd = dial(port);
    cr_assert_lt(fd, 0, "still listening after stop");
}

/* A POST waiting for its long simulation; the answer in r. */
static void *post_sim(void *arg)
{
    struct long_run *lr = arg;
    request(lr->port, "POST", "/api/run", lr->body, &lr->r);
    return NULL;
}

Test(web_stop, stop_stops_long_simulations_promptly, .timeout = 30)
{
    int fds0 = live_test_count_dir("/proc/self/fd"),
        tasks0 = live_test_count_dir("/proc/self/task");
    start();
    /* Two simulations of seconds each: one posted, one streamed. */
    struct long_run lr = {
        .port = port,
        .body = "{\"scenario\":\"cache\",\"mode\":\"naive\",\"n\":1000000,\"events\":20}"};
    pthread_t t;
    pthread_create(&t, NULL, post_sim, &lr);
    struct sse st;
    sse_open(&st, port, LONG_SIM);
    until_simulating(&st); /* the POST began first: both are simulating now */

    int64_t t0 = now_ms();
    stop();
    int64_t took = now_ms() - t0;
    /* The simulator's poll sees the stop within HERD_SIM_WATCH_EVERY events. */
    cr_assert_lt(took, 1500, "stopping took %lld ms", (long long)took);
    pthread_join(t, NULL);
    assert_refused(&lr.r, 503, "the interrupted POST");
    cr_assert(strstr(lr.r.body, "interrupted"), "%s", lr.r.body);
    resp_free(&lr.r);
    /* The stream ends with an error event that says so. */
    char name[32], *data = NULL;
    bool got = false;
    while (sse_next(&st, name, sizeof name, &data)) {
        got = strcmp(name, "error") == 0;
        if (got)
            break;
        free(data);
        data = NULL;
    }
    cr_assert(got, "the stream did not end with an error event");
    cr_assert(strstr(data, "interrupted"), "%s", data);
    free(data);
    sse_close(&st);
    cr_assert_eq(live_test_count_dir("/proc/self/fd"), fds0, "descriptors left open");
    cr_assert_geq(wait_tasks(tasks0, 1000), 0, "threads left running");
}

Test(web_stop, a_busy_port_is_one_clear_line, .timeout = 10)
{
    struct herd_server *a, *b;
    char err[256];
    struct herd_server_config cfg = {.host = "127.0.0.1"};
    cr_assert_eq(herd_server_start(&cfg, &a, err, sizeof err), 0, "%s", err);
    cfg.port = herd_server_port(a);
    cr_assert_eq(herd_server_start(&cfg, &b, err, sizeof err), -EADDRINUSE);
    cr_assert(strstr(err, "in use"), "%s", err);
    cfg.host = "not-an-address";
    cr_assert_lt(herd_server_start(&cfg, &b, err, sizeof err), 0);
    cr_assert(strstr(err, "IPv4"), "%s", err);
    herd_server_stop(a);
}
