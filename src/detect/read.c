/* read.c — herd detect's inputs: CSV, JSON lines, a Prometheus query_range document.
 *
 * The file is read whole, then parsed by the format its first character and first line
 * say: '{' is JSON (one document with "data" is Prometheus's; otherwise one object per
 * line), anything else CSV. Keys and clients are fingerprinted as they are read (the
 * hotkeys table's SipHash-2-4 and per-process secret) and the text is dropped: nothing
 * here keeps a key or a client id. Every refusal names the file, the line and the field.
 * Cost: one pass; ~40 bytes a record (plus the whole file while it is parsed).
 */
#include "detect.h"

#include <ctype.h>
#include <errno.h>
#include <herd/error.h>
#include <jansson.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

void herd_detect_input_init(struct herd_detect_input *in)
{
    memset(in, 0, sizeof *in);
}

void herd_detect_input_fini(struct herd_detect_input *in)
{
    if (!in)
        return;
    free(in->rec);
    free(in->weights);
    free(in->cl_fp);
    free(in->cl_idx);
    herd_hotkeys_free(in->hot);
    memset(in, 0, sizeof *in);
}

static int ensure_hot(struct herd_detect_input *in)
{
    if (in->hot)
        return 0;
    return herd_hotkeys_new(NULL, &in->hot);
}

/* The dense index of client fingerprint @p fp (added when new). */
static int client_index(struct herd_detect_input *in, uint64_t fp, uint32_t *out)
{
    if (in->clients * 2 >= in->cl_cap) {
        size_t ncap = in->cl_cap ? in->cl_cap * 2 : 1024;
        uint64_t *nfp = calloc(ncap, sizeof *nfp);
        uint32_t *nidx = malloc(ncap * sizeof *nidx);
        if (!nfp || !nidx) {
            free(nfp);
            free(nidx);
            return -HERD_ENOMEM;
        }
        for (size_t i = 0; i < ncap; i++)
            nidx[i] = UINT32_MAX;
        for (size_t i = 0; i < in->cl_cap; i++) {
            if (in->cl_idx[i] == UINT32_MAX)
                continue;
            size_t s = in->cl_fp[i] & (ncap - 1);
            while (nidx[s] != UINT32_MAX)
                s = (s + 1) & (ncap - 1);
            nfp[s] = in->cl_fp[i];
            nidx[s] = in->cl_idx[i];
        }
        free(in->cl_fp);
        free(in->cl_idx);
        in->cl_fp = nfp;
        in->cl_idx = nidx;
        in->cl_cap = ncap;
    }
    size_t s = fp & (in->cl_cap - 1);
    while (in->cl_idx[s] != UINT32_MAX) {
        if (in->cl_fp[s] == fp) {
            *out = in->cl_idx[s];
            return 0;
        }
        s = (s + 1) & (in->cl_cap - 1);
    }
    in->cl_fp[s] = fp;
    in->cl_idx[s] = in->clients;
    *out = in->clients++;
    return 0;
}

static int push(struct herd_detect_input *in, const struct herd_detect_record *r)
{
    if (in->n == in->cap) {
        size_t ncap = in->cap ? in->cap * 2 : 4096;
        struct herd_detect_record *p = realloc(in->rec, ncap * sizeof *p);
        if (!p)
            return -HERD_ENOMEM;
        in->rec = p;
        in->cap = ncap;
    }
    in->rec[in->n++] = *r;
    return 0;
}

/* Add a record whose client and key are the given bytes (NULL: none). */
static int add_bytes(struct herd_detect_input *in, int64_t t_ns, const char *client, size_t clen,
                     const char *key, size_t klen, enum herd_detect_status st)
{
    struct herd_detect_record r = {.t_ns = t_ns, .client = UINT32_MAX, .status = (uint8_t)st};
    int rc = ensure_hot(in);
    if (rc < 0)
        return rc;
    if (client && clen) {
        /* A client's fingerprint lives in its own domain: a client named like a key must
         * not share the key's fingerprint in a report. */
        uint64_t fp = herd_hotkeys_fingerprint(in->hot, client, clen) ^ UINT64_C(0x636c69656e74);
        if ((rc = client_index(in, fp, &r.client)) < 0)
            return rc;
        in->has_clients = true;
    }
    if (key && klen) {
        r.has_key = 1;
        r.key_fp = herd_hotkeys_fingerprint(in->hot, key, klen);
        herd_hotkeys_add_fp(in->hot, r.key_fp, 1);
        in->has_keys = true;
    }
    return push(in, &r);
}

int herd_detect_add(struct herd_detect_input *in, int64_t t_ns, int64_t client, const void *key,
                    size_t keylen, enum herd_detect_status status)
{
    char cbuf[24];
    int clen = client >= 0 ? snprintf(cbuf, sizeof cbuf, "%lld", (long long)client) : 0;
    if (status != HERD_DETECT_OK)
        in->has_status = true;
    return add_bytes(in, t_ns, client >= 0 ? cbuf : NULL, (size_t)clen, key, key ? keylen : 0,
                     status);
}

/* ---- fields ------------------------------------------------------------------------ */

/* Times are held to +-4·10^9 s (the year 2096 either side of the epoch or of a trace's own
 * zero), so that any two differ by less than INT64_MAX nanoseconds. */
#define TIME_MAX_S 4000000000LL

/* Decimal seconds ("12", "1733562000.125") into ns. */
static bool parse_seconds(const char *s, int64_t *out)
{
    const char *p = s;
    bool neg = *p == '-';
    if (neg || *p == '+')
        p++;
    if (!isdigit((unsigned char)*p))
        return false;
    int64_t sec = 0, ns = 0;
    while (isdigit((unsigned char)*p)) {
        sec = sec * 10 + (*p++ - '0');
        if (sec > TIME_MAX_S)
            return false;
    }
    if (*p == '.') {
        p++;
        int digits = 0;
        while (isdigit((unsigned char)*p)) {
            if (digits < 9) {
                ns = ns * 10 + (*p - '0');
                digits++;
            }
            p++;
        }
        while (digits++ < 9)
            ns *= 10;
    }
    if (*p == 'e' || *p == 'E') { /* 1.7e9: through a double (µs precision at epoch scale) */
        char *end;
        double d = strtod(s, &end);
        if (*end || !isfinite(d) || fabs(d) > (double)TIME_MAX_S)
            return false;
        *out = (int64_t)llround(d * 1e9);
        return true;
    }
    if (*p)
        return false;
    *out = (sec * 1000000000 + ns) * (neg ? -1 : 1);
    return true;
}

/* ISO 8601: 2026-12-07T09:00:00[.frac][Z|+hh:mm|-hh:mm] (a space for the T too). */
static bool parse_iso(const char *s, int64_t *out)
{
    int y, mo, d, h, mi, se, n = 0;
    if (sscanf(s, "%4d-%2d-%2d%*1[T ]%2d:%2d:%2d%n", &y, &mo, &d, &h, &mi, &se, &n) != 6 || n == 0)
        return false;
    const char *p = s + n;
    int64_t ns = 0;
    if (*p == '.' || *p == ',') {
        p++;
        int digits = 0;
        if (!isdigit((unsigned char)*p))
            return false;
        while (isdigit((unsigned char)*p)) {
            if (digits < 9) {
                ns = ns * 10 + (*p - '0');
                digits++;
            }
            p++;
        }
        while (digits++ < 9)
            ns *= 10;
    }
    int64_t off = 0;
    if (*p == 'Z' || *p == 'z') {
        p++;
    } else if (*p == '+' || *p == '-') {
        int oh, om;
        if (sscanf(p + 1, "%2d:%2d", &oh, &om) != 2)
            return false;
        off = (int64_t)(oh * 3600 + om * 60) * (*p == '-' ? -1 : 1);
        p += 6;
    }
    if (*p || mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || se > 60)
        return false;
    struct tm tm = {.tm_year = y - 1900,
                    .tm_mon = mo - 1,
                    .tm_mday = d,
                    .tm_hour = h,
                    .tm_min = mi,
                    .tm_sec = se};
    time_t t = timegm(&tm);
    if (t == (time_t)-1 || (int64_t)t - off > TIME_MAX_S || (int64_t)t - off < -TIME_MAX_S)
        return false;
    *out = ((int64_t)t - off) * 1000000000 + ns;
    return true;
}

static bool parse_time(const char *s, int64_t *out)
{
    return parse_seconds(s, out) || parse_iso(s, out);
}

static bool parse_status(const char *s, enum herd_detect_status *out)
{
    static const struct {
        const char *word;
        enum herd_detect_status st;
    } words[] = {
        {"ok", HERD_DETECT_OK},
        {"success", HERD_DETECT_OK},
        {"served", HERD_DETECT_OK},
        {"hit", HERD_DETECT_HIT},
        {"stale", HERD_DETECT_HIT},
        {"miss", HERD_DETECT_MISS},
        {"error", HERD_DETECT_ERROR},
        {"fail", HERD_DETECT_ERROR},
        {"failed", HERD_DETECT_ERROR},
        {"timeout", HERD_DETECT_TIMEOUT},
        {"timedout", HERD_DETECT_TIMEOUT},
        {"rejected", HERD_DETECT_REJECTED},
        {"shed", HERD_DETECT_REJECTED},
        {"dropped", HERD_DETECT_REJECTED},
        {"refused", HERD_DETECT_REJECTED},
    };
    if (!*s) {
        *out = HERD_DETECT_OK;
        return true;
    }
    for (size_t i = 0; i < sizeof words / sizeof words[0]; i++)
        if (strcasecmp(s, words[i].word) == 0) {
            *out = words[i].st;
            return true;
        }
    char *end;
    long code = strtol(s, &end, 10);
    if (*end || code < 100 || code > 599)
        return false;
    *out = code < 400                   ? HERD_DETECT_OK
           : code == 408 || code == 504 ? HERD_DETECT_TIMEOUT
           : code == 429 || code == 503 ? HERD_DETECT_REJECTED
                                        : HERD_DETECT_ERROR;
    return true;
}

#define STATUS_WORDS "ok, hit, miss, error, timeout, rejected (or shed, dropped), or an HTTP code"

static int refuse(char *err, size_t errlen, const char *name, size_t line, const char *field,
                  const char *what, const char *got)
{
    snprintf(err, errlen, "%s:%zu: field '%s': %s, got '%.40s'", name, line, field, what, got);
    return -HERD_EINVAL;
}

/* "# window_s LO HI": the observation window (herd run --trace writes it). */
static void window_comment(struct herd_detect_input *in, const char *line)
{
    char lo[64], hi[64];
    int64_t a, b;
    if (sscanf(line, "# window_s %63s %63s", lo, hi) == 2 && parse_seconds(lo, &a) &&
        parse_seconds(hi, &b) && b > a) {
        in->has_window = true;
        in->win_lo = a;
        in->win_hi = b;
    }
}

/* ---- CSV --------------------------------------------------------------------------- */

enum col { COL_TIME, COL_CLIENT, COL_KEY, COL_STATUS, COL_OTHER };

static enum col column_of(const char *name)
{
    static const struct {
        const char *name;
        enum col c;
    } names[] = {
        {"time", COL_TIME},        {"time_s", COL_TIME},
        {"timestamp", COL_TIME},   {"ts", COL_TIME},
        {"t", COL_TIME},           {"client", COL_CLIENT},
        {"client_id", COL_CLIENT}, {"clientid", COL_CLIENT},
        {"host", COL_CLIENT},      {"instance", COL_CLIENT},
        {"source", COL_CLIENT},    {"key", COL_KEY},
        {"cache_key", COL_KEY},    {"status", COL_STATUS},
        {"code", COL_STATUS},      {"status_code", COL_STATUS},
        {"outcome", COL_STATUS},
    };
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
        if (strcasecmp(name, names[i].name) == 0)
            return names[i].c;
    return COL_OTHER;
}

/* Split @p line in place at commas into at most @p max fields (quotes stripped, spaces
 * trimmed). @return the number of fields. */
static int split(char *line, char **f, int max)
{
    int n = 0;
    char *p = line;
    for (;;) {
        while (*p == ' ' || *p == '\t')
            p++;
        char *start = p, *end;
        if (*p == '"') {
            start = ++p;
            while (*p && *p != '"')
                p++;
            end = p;
            if (*p == '"')
                p++;
            while (*p && *p != ',')
                p++;
        } else {
            while (*p && *p != ',')
                p++;
            end = p;
            while (end > start && (end[-1] == ' ' || end[-1] == '\t' || end[-1] == '\r'))
                end--;
        }
        char sep = *p;
        *end = '\0';
        if (n < max)
            f[n++] = start;
        if (sep != ',')
            return n;
        p++;
    }
}

static int read_csv(char *buf, const char *name, struct herd_detect_input *in, char *err,
                    size_t errlen)
{
    int cols[4] = {0, 1, 2, 3}; /* field index of time, client, key, status; -1 absent */
    bool header_seen = false;
    size_t line = 0;
    char *next = buf;
    while (next && *next) {
        char *l = next, *nl = strchr(l, '\n');
        if (nl)
            *nl = '\0';
        next = nl ? nl + 1 : NULL;
        line++;
        size_t len = strlen(l);
        while (len && (l[len - 1] == '\r' || l[len - 1] == ' '))
            l[--len] = '\0';
        const char *s = l;
        while (*s == ' ' || *s == '\t')
            s++;
        if (!*s)
            continue;
        if (*s == '#') {
            window_comment(in, s);
            continue;
        }
        char *f[16];
        int nf = split(l, f, 16);
        if (!header_seen) {
            header_seen = true;
            int64_t t;
            if (!parse_time(f[0], &t)) {
                cols[0] = cols[1] = cols[2] = cols[3] = -1;
                for (int i = 0; i < nf; i++) {
                    enum col c = column_of(f[i]);
                    if (c != COL_OTHER && cols[c] < 0)
                        cols[c] = i;
                }
                if (cols[COL_TIME] < 0) {
                    snprintf(err, errlen,
                             "%s:%zu: no time column: the header names none of time, time_s, "
                             "timestamp, ts (got '%.60s')",
                             name, line, f[0]);
                    return -HERD_EINVAL;
                }
                continue;
            }
        }
        const char *v[4];
        for (int c = 0; c < 4; c++)
            v[c] = cols[c] >= 0 && cols[c] < nf ? f[cols[c]] : "";
        int64_t t;
        if (!*v[COL_TIME])
            return refuse(err, errlen, name, line, "time", "missing", "");
        if (!parse_time(v[COL_TIME], &t))
            return refuse(err, errlen, name, line, "time",
                          "expected seconds (12.5, 1733562000.125) or an ISO 8601 time",
                          v[COL_TIME]);
        enum herd_detect_status st;
        if (!parse_status(v[COL_STATUS], &st))
            return refuse(err, errlen, name, line, "status", "expected " STATUS_WORDS,
                          v[COL_STATUS]);
        if (*v[COL_STATUS])
            in->has_status = true;
        int rc = add_bytes(in, t, v[COL_CLIENT], strlen(v[COL_CLIENT]), v[COL_KEY],
                           strlen(v[COL_KEY]), st);
        if (rc < 0) {
            snprintf(err, errlen, "%s: %s", name, herd_strerror(rc));
            return rc;
        }
    }
    return 0;
}

/* ---- JSON ---------------------------------------------------------------------------- */

/* A JSON value as text for a client or key: strings as they are, numbers printed. */
static const char *json_text(json_t *v, char *buf, size_t len)
{
    if (!v || json_is_null(v))
        return "";
    if (json_is_string(v))
        return json_string_value(v);
    if (json_is_integer(v)) {
        snprintf(buf, len, "%lld", (long long)json_integer_value(v));
        return buf;
    }
    if (json_is_real(v)) {
        snprintf(buf, len, "%.17g", json_real_value(v));
        return buf;
    }
    return NULL;
}

static int json_record(json_t *o, const char *name, size_t line, struct herd_detect_input *in,
                       char *err, size_t errlen)
{
    if (!json_is_object(o))
        return refuse(err, errlen, name, line, "(line)", "expected a JSON object", "");
    json_t *tv = json_object_get(o, "time");
    if (!tv)
        tv = json_object_get(o, "timestamp");
    if (!tv)
        tv = json_object_get(o, "ts");
    int64_t t;
    char buf[64];
    if (!tv)
        return refuse(err, errlen, name, line, "time", "missing", "");
    if (json_is_number(tv)) {
        double d = json_number_value(tv);
        if (!isfinite(d) || fabs(d) > (double)TIME_MAX_S)
            return refuse(err, errlen, name, line, "time", "out of range", "");
        t = (int64_t)llround(d * 1e9);
    } else if (!json_is_string(tv) || !parse_time(json_string_value(tv), &t)) {
        return refuse(err, errlen, name, line, "time", "expected seconds or an ISO 8601 time",
                      json_is_string(tv) ? json_string_value(tv) : "(not a string)");
    }
    char cb[64], kb[64];
    const char *client = json_text(json_object_get(o, "client"), cb, sizeof cb);
    const char *key = json_text(json_object_get(o, "key"), kb, sizeof kb);
    if (!client)
        return refuse(err, errlen, name, line, "client", "expected a string or a number",
                      "(object)");
    if (!key)
        return refuse(err, errlen, name, line, "key", "expected a string or a number", "(object)");
    json_t *sv = json_object_get(o, "status");
    const char *status = json_text(sv, buf, sizeof buf);
    enum herd_detect_status st;
    if (!status || !parse_status(status, &st))
        return refuse(err, errlen, name, line, "status", "expected " STATUS_WORDS,
                      status ? status : "(object)");
    if (*status)
        in->has_status = true;
    int rc = add_bytes(in, t, client, strlen(client), key, strlen(key), st);
    if (rc < 0)
        snprintf(err, errlen, "%s: %s", name, herd_strerror(rc));
    return rc;
}

static int read_jsonl(char *buf, const char *name, struct herd_detect_input *in, char *err,
                      size_t errlen)
{
    size_t line = 0;
    char *p = buf;
    while (*p) {
        char *nl = strchr(p, '\n');
        if (nl)
            *nl = '\0';
        line++;
        const char *s = p;
        while (isspace((unsigned char)*s))
            s++;
        if (*s == '#') {
            window_comment(in, s);
        } else if (*s) {
            json_error_t je;
            json_t *o = json_loads(s, 0, &je);
            if (!o) {
                snprintf(err, errlen, "%s:%zu: not JSON: %s (column %d)", name, line, je.text,
                         je.column);
                return -HERD_EINVAL;
            }
            int rc = json_record(o, name, line, in, err, errlen);
            json_decref(o);
            if (rc < 0)
                return rc;
        }
        if (!nl)
            break;
        p = nl + 1;
    }
    return 0;
}

struct sample {
    int64_t t_ns;
    double v;
};

static int cmp_sample(const void *a, const void *b)
{
    const struct sample *x = a, *y = b;
    return (x->t_ns > y->t_ns) - (x->t_ns < y->t_ns);
}

/* A Prometheus query_range answer: every series' samples summed per timestamp. A series
 * whose name ends in _total, or whose values never fall, is a counter (its increase per
 * step is the count); otherwise a per-second rate (times the step). */
static int read_prometheus(json_t *doc, const char *name, struct herd_detect_input *in, char *err,
                           size_t errlen)
{
    json_t *result = json_object_get(json_object_get(doc, "data"), "result");
    if (!json_is_array(result)) {
        snprintf(err, errlen,
                 "%s: field 'data.result': expected the array of a query_range "
                 "answer",
                 name);
        return -HERD_EINVAL;
    }
    struct sample *all = NULL;
    size_t n = 0, cap = 0;
    for (size_t i = 0; i < json_array_size(result); i++) {
        json_t *series = json_array_get(result, i);
        json_t *values = json_object_get(series, "values");
        if (!json_is_array(values)) {
            free(all);
            snprintf(err, errlen,
                     "%s: field 'data.result[%zu].values': expected an array of "
                     "[time, \"value\"] (a range query's matrix)",
                     name, i);
            return -HERD_EINVAL;
        }
        const char *mname =
            json_string_value(json_object_get(json_object_get(series, "metric"), "__name__"));
        bool counter =
            mname && strlen(mname) > 6 && strcmp(mname + strlen(mname) - 6, "_total") == 0;
        size_t first = n;
        for (size_t j = 0; j < json_array_size(values); j++) {
            json_t *pt = json_array_get(values, j);
            json_t *tv = json_array_get(pt, 0), *vv = json_array_get(pt, 1);
            const char *vs = json_string_value(vv);
            char *end = NULL;
            double v = vs ? strtod(vs, &end) : NAN;
            if (!json_is_number(tv) || fabs(json_number_value(tv)) > (double)TIME_MAX_S || !vs ||
                *end || !(v >= 0 || isnan(v))) {
                free(all);
                snprintf(err, errlen,
                         "%s: field 'data.result[%zu].values[%zu]': expected "
                         "[seconds, \"value >= 0\"]",
                         name, i, j);
                return -HERD_EINVAL;
            }
            if (isnan(v))
                continue;
            if (n == cap) {
                cap = cap ? cap * 2 : 1024;
                struct sample *p = realloc(all, cap * sizeof *p);
                if (!p) {
                    free(all);
                    return -HERD_ENOMEM;
                }
                all = p;
            }
            all[n++] = (struct sample){(int64_t)llround(json_number_value(tv) * 1e9), v};
        }
        bool rising = true;
        for (size_t j = first + 1; j < n; j++)
            rising &= all[j].v >= all[j - 1].v;
        if ((counter || (rising && n - first > 2))) { /* a counter: increases per step */
            double prev = n > first ? all[first].v : 0;
            for (size_t j = first; j < n; j++) {
                double v = all[j].v;
                all[j].v = j == first ? 0 : (v >= prev ? v - prev : v); /* a reset: from 0 */
                prev = v;
            }
            for (size_t j = first; j < n; j++)
                all[j].v = -1 - all[j].v; /* mark as a count (negative), see below */
        }
    }
    if (n == 0) {
        free(all);
        snprintf(err, errlen, "%s: no samples in data.result", name);
        return -HERD_EINVAL;
    }
    qsort(all, n, sizeof *all, cmp_sample);
    int64_t step = 0;
    for (size_t j = 1; j < n; j++)
        if (all[j].t_ns > all[j - 1].t_ns && (step == 0 || all[j].t_ns - all[j - 1].t_ns < step))
            step = all[j].t_ns - all[j - 1].t_ns;
    if (step == 0)
        step = 1000000000;
    in->series = true;
    in->step_ns = step;
    size_t m = 0;
    for (size_t j = 0; j < n; j++) {
        double count = all[j].v < 0 ? -1 - all[j].v : all[j].v * (double)step / 1e9;
        if (m > 0 && in->rec[m - 1].t_ns == all[j].t_ns) {
            in->weights[m - 1] += (uint64_t)llround(count);
            continue;
        }
        struct herd_detect_record r = {.t_ns = all[j].t_ns, .client = UINT32_MAX};
        int rc = push(in, &r);
        uint64_t *w = rc == 0 ? realloc(in->weights, in->cap * sizeof *w) : NULL;
        if (!w) {
            free(all);
            return -HERD_ENOMEM;
        }
        in->weights = w;
        in->weights[m] = (uint64_t)llround(count);
        m++;
    }
    free(all);
    return 0;
}

int herd_detect_read(FILE *f, const char *name, struct herd_detect_input *in, char *err,
                     size_t errlen)
{
    size_t cap = 1 << 16, len = 0;
    char *buf = malloc(cap);
    if (!buf)
        return -HERD_ENOMEM;
    for (;;) {
        if (cap - len < 2) {
            char *p = realloc(buf, cap * 2);
            if (!p) {
                free(buf);
                return -HERD_ENOMEM;
            }
            buf = p;
            cap *= 2;
        }
        size_t got = fread(buf + len, 1, cap - len - 1, f);
        len += got;
        if (got == 0)
            break;
    }
    if (ferror(f)) {
        free(buf);
        snprintf(err, errlen, "%s: cannot read: %s", name, strerror(errno));
        return -HERD_EINVAL;
    }
    buf[len] = '\0';
    if (memchr(buf, '\0', len)) {
        free(buf);
        snprintf(err, errlen, "%s: a NUL byte: not a text file", name);
        return -HERD_EINVAL;
    }
    const char *s = buf;
    while (isspace((unsigned char)*s))
        s++;
    int rc;
    if (*s == '{') {
        json_error_t je;
        json_t *doc = json_loads(s, 0, &je);
        if (doc && json_object_get(doc, "data")) {
            rc = read_prometheus(doc, name, in, err, errlen);
            json_decref(doc);
        } else {
            json_decref(doc);
            rc = read_jsonl(buf, name, in, err, errlen);
        }
    } else {
        rc = read_csv(buf, name, in, err, errlen);
    }
    free(buf);
    if (rc == 0 && in->n == 0) {
        snprintf(err, errlen, "%s: no records", name);
        rc = -HERD_EINVAL;
    }
    return rc;
}
