/* fleet_figures.c — a fleet run's per-component section and its writers (fleet_figures.h).
 *
 * The CSV section (after the report rows, one blank line between):
 *   fleet,run,component,kind,calls,attempts,retries,amplification,ok,errors,rejected,shed,
 *     dropped,cancelled,timeouts,wasted,wasted_ns,peak_queue,peak_concurrency,p50_ns,
 *     p99_ns,hits,misses,stale,coalesced,handshakes,resumed,handshakes_refused,
 *     reconnects,conns_dropped,conns_peak,handshakes_peak_per_s,busy_ns,handshake_ns,
 *     coord_requests,watch_events,wakeups,wasted_wakeups,lock_grants,lock_p50_ns,
 *     lock_p99_ns,elections,election_rounds,split_votes,leader_ns,leader_max_ns,
 *     no_leader_ns                                    one row per component;
 *   fleet_recovery,run,verdict,recover_ns,goodput_before_per_s,goodput_after_per_s,share
 *   fleet_timeline,run,component,series,bucket_ns,v0,v1,...   one row per series.
 * Each table starts with its header row; the first column names the table, so a reader
 * can split the file on it.
 * Cost: linear in components × buckets. Thread safety: none.
 */
#include "fleet_figures.h"

#include <errno.h>
#include <herd/error.h>
#include <inttypes.h>
#include <jansson.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "report.h"

const char *herd_fleet_series_name(int s)
{
    switch (s) {
#define HERD__FLEET_SERIES_NAME(id, name, sums)                                             \
    case HERD_FLEET_S_##id:                                                                 \
        return name;
        HERD_FLEET_SERIES(HERD__FLEET_SERIES_NAME)
#undef HERD__FLEET_SERIES_NAME
    }
    return "?";
}

struct herd_fleet_figures *herd_fleet_figures_new(void)
{
    struct herd_fleet_figures *f = calloc(1, sizeof *f);
    if (f) {
        f->herd = -1;
        f->recover_ns = -1;
        f->verdict = "no fault";
    }
    return f;
}

int herd_fleet_figures_size(struct herd_fleet_figures *f, int ncomps, int64_t bucket_ns,
                            size_t nbuckets)
{
    f->bucket_ns = bucket_ns;
    f->nbuckets = nbuckets;
    for (int i = 0; i < ncomps && i < HERD_FLEET_FIG_COMPS; i++) {
        for (int s = 0; s < HERD_FLEET_NSERIES; s++) {
            free(f->comps[i].series[s]);
            f->comps[i].series[s] = calloc(nbuckets ? nbuckets : 1, sizeof(int64_t));
            if (!f->comps[i].series[s])
                return -HERD_ENOMEM;
        }
    }
    return 0;
}

void herd_fleet_figures_free(struct herd_fleet_figures *f)
{
    if (!f)
        return;
    for (int i = 0; i < HERD_FLEET_FIG_COMPS; i++)
        for (int s = 0; s < HERD_FLEET_NSERIES; s++)
            free(f->comps[i].series[s]);
    free(f->claims);
    free(f);
}

struct herd_fleet_figures *herd_fleet_figures_dup(const struct herd_fleet_figures *f)
{
    struct herd_fleet_figures *d = malloc(sizeof *d);
    if (!d)
        return NULL;
    *d = *f;
    for (int i = 0; i < HERD_FLEET_FIG_COMPS; i++)
        for (int s = 0; s < HERD_FLEET_NSERIES; s++)
            d->comps[i].series[s] = NULL;
    d->claims = NULL;
    d->nclaims = 0;
    if (f->nclaims > 0) {
        d->claims = malloc((size_t)f->nclaims * sizeof *d->claims);
        if (!d->claims) {
            herd_fleet_figures_free(d);
            return NULL;
        }
        memcpy(d->claims, f->claims, (size_t)f->nclaims * sizeof *d->claims);
        d->nclaims = f->nclaims;
    }
    for (int i = 0; i < f->ncomps; i++) {
        for (int s = 0; s < HERD_FLEET_NSERIES; s++) {
            if (!f->comps[i].series[s])
                continue;
            d->comps[i].series[s] = malloc((f->nbuckets ? f->nbuckets : 1) * sizeof(int64_t));
            if (!d->comps[i].series[s]) {
                herd_fleet_figures_free(d);
                return NULL;
            }
            memcpy(d->comps[i].series[s], f->comps[i].series[s], f->nbuckets * sizeof(int64_t));
        }
    }
    return d;
}

static const char *comp_name(const struct herd_fleet_figures *f, int i)
{
    return i >= 0 && i < f->ncomps ? f->comps[i].name : "";
}

/* ---- JSON ---------------------------------------------------------------------------------- */

static json_t *comp_json(const struct herd_fleet_figures *f, const struct herd_fleet_comp_figures *c)
{
    json_t *o = json_object();
    json_object_set_new(o, "name", json_string(c->name));
    json_object_set_new(o, "kind", json_string(c->kind ? c->kind : "?"));
#define U(field) json_object_set_new(o, #field, json_integer((json_int_t)c->field))
    U(calls);
    U(attempts);
    U(retries);
    json_object_set_new(o, "amplification", json_real(c->amplification));
    U(ok);
    U(errors);
    U(rejected);
    U(shed);
    U(dropped);
    U(cancelled);
    U(timeouts);
    U(wasted);
    U(wasted_ns);
    U(peak_queue);
    U(peak_concurrency);
    U(p50_ns);
    U(p99_ns);
    U(hits);
    U(misses);
    U(stale);
    U(too_old);
    U(max_gap_ns);
    U(coalesced);
    U(handshakes);
    U(resumed);
    U(handshakes_refused);
    U(reconnects);
    U(conns_dropped);
    U(conns_peak);
    json_object_set_new(o, "handshakes_peak_per_s", json_real(c->handshakes_peak_per_s));
    U(busy_ns);
    U(handshake_ns);
    U(coord_requests);
    U(watch_events);
    U(wakeups);
    U(wasted_wakeups);
    U(lock_grants);
    U(lock_p50_ns);
    U(lock_p99_ns);
    U(elections);
    U(election_rounds);
    U(split_votes);
    U(leader_ns);
    U(leader_max_ns);
    U(no_leader_ns);
#undef U
    json_t *tl = json_object();
    for (int s = 0; s < HERD_FLEET_NSERIES; s++) {
        json_t *a = json_array();
        for (size_t k = 0; k < f->nbuckets && c->series[s]; k++)
            json_array_append_new(a, json_integer(c->series[s][k]));
        json_object_set_new(tl, herd_fleet_series_name(s), a);
    }
    json_object_set_new(o, "timeline", tl);
    return o;
}

void *herd_fleet_figures_json(const struct herd_fleet_figures *f)
{
    json_t *o = json_object();
    if (!o)
        return NULL;
    json_object_set_new(o, "name", json_string(f->name));
    json_object_set_new(o, "herd", json_integer(f->herd));
    json_object_set_new(o, "herd_name", json_string(comp_name(f, f->herd)));
    json_object_set_new(o, "bucket_ns", json_integer(f->bucket_ns));
    json_object_set_new(o, "nbuckets", json_integer((json_int_t)f->nbuckets));
    json_t *comps = json_array();
    for (int i = 0; i < f->ncomps; i++)
        json_array_append_new(comps, comp_json(f, &f->comps[i]));
    json_object_set_new(o, "components", comps);
    json_t *edges = json_array();
    for (int i = 0; i < f->nedges; i++) {
        const struct herd_fleet_edge_figures *e = &f->edges[i];
        json_array_append_new(
            edges, json_pack("{s:i, s:i, s:s, s:s, s:I, s:i}", "from", e->from, "to", e->to,
                             "from_name", comp_name(f, e->from), "to_name", comp_name(f, e->to),
                             "timeout_ns", (json_int_t)e->timeout_ns, "max_attempts",
                             e->max_attempts));
    }
    json_object_set_new(o, "edges", edges);
    json_t *faults = json_array();
    for (int i = 0; i < f->nfaults; i++) {
        const struct herd_fleet_fault_figures *x = &f->faults[i];
        json_t *j = json_pack("{s:s, s:i, s:s, s:I, s:I}", "kind", x->kind ? x->kind : "?",
                              "target", x->target, "target_name", comp_name(f, x->target),
                              "at_ns", (json_int_t)x->at_ns, "for_ns", (json_int_t)x->for_ns);
        json_object_set_new(j, "peer", x->peer >= 0 ? json_integer(x->peer) : json_null());
        json_array_append_new(faults, j);
    }
    json_object_set_new(o, "faults", faults);
    json_t *rec = json_object();
    json_object_set_new(rec, "verdict", json_string(f->verdict ? f->verdict : "no fault"));
    json_object_set_new(rec, "recover_ns",
                        f->recover_ns >= 0 ? json_integer(f->recover_ns) : json_null());
    json_object_set_new(rec, "share", json_real(f->recover_share));
    json_object_set_new(rec, "goodput_before_per_s", json_real(f->goodput_before));
    json_object_set_new(rec, "goodput_after_per_s", json_real(f->goodput_after));
    json_object_set_new(o, "recovery", rec);
    if (f->nclaims > 0) {
        json_t *cl = herd_fleet_claims_json(f->claims, f->nclaims);
        if (cl)
            json_object_set_new(o, "claims", cl);
    }
    return o;
}

/* ---- CSV ----------------------------------------------------------------------------------- */

int herd_fleet_figures_csv(FILE *out, const struct herd_fleet_figures *f, const char *run)
{
    fputs("fleet,run,component,kind,calls,attempts,retries,amplification,ok,errors,rejected,"
          "shed,dropped,cancelled,timeouts,wasted,wasted_ns,peak_queue,peak_concurrency,p50_ns,"
          "p99_ns,hits,misses,stale,coalesced,handshakes,resumed,handshakes_refused,reconnects,"
          "conns_dropped,conns_peak,handshakes_peak_per_s,busy_ns,handshake_ns,coord_requests,"
          "watch_events,wakeups,wasted_wakeups,lock_grants,lock_p50_ns,lock_p99_ns,elections,"
          "election_rounds,split_votes,leader_ns,leader_max_ns,no_leader_ns\n",
          out);
    for (int i = 0; i < f->ncomps; i++) {
        const struct herd_fleet_comp_figures *c = &f->comps[i];
        fprintf(out,
                "fleet,%s,%s,%s,%" PRIu64 ",%" PRIu64 ",%" PRIu64 ",%.4f,%" PRIu64 ",%" PRIu64
                ",%" PRIu64 ",%" PRIu64 ",%" PRIu64 ",%" PRIu64 ",%" PRIu64 ",%" PRIu64
                ",%" PRId64 ",%" PRId64 ",%" PRId64 ",%" PRId64 ",%" PRId64 ",%" PRIu64
                ",%" PRIu64 ",%" PRIu64 ",%" PRIu64,
                run, c->name, c->kind ? c->kind : "?", c->calls, c->attempts, c->retries,
                c->amplification, c->ok, c->errors, c->rejected, c->shed, c->dropped,
                c->cancelled, c->timeouts, c->wasted, c->wasted_ns, c->peak_queue,
                c->peak_concurrency, c->p50_ns, c->p99_ns, c->hits, c->misses, c->stale,
                c->coalesced);
        fprintf(out,
                ",%" PRIu64 ",%" PRIu64 ",%" PRIu64 ",%" PRIu64 ",%" PRIu64 ",%" PRId64
                ",%.1f,%" PRId64 ",%" PRId64 ",%" PRIu64 ",%" PRIu64 ",%" PRIu64 ",%" PRIu64
                ",%" PRIu64 ",%" PRId64 ",%" PRId64 ",%" PRIu64 ",%" PRIu64 ",%" PRIu64
                ",%" PRId64 ",%" PRId64 ",%" PRId64 "\n",
                c->handshakes, c->resumed, c->handshakes_refused, c->reconnects,
                c->conns_dropped, c->conns_peak, c->handshakes_peak_per_s, c->busy_ns,
                c->handshake_ns, c->coord_requests, c->watch_events, c->wakeups,
                c->wasted_wakeups, c->lock_grants, c->lock_p50_ns, c->lock_p99_ns, c->elections,
                c->election_rounds, c->split_votes, c->leader_ns, c->leader_max_ns,
                c->no_leader_ns);
    }
    fputs("fleet_recovery,run,verdict,recover_ns,goodput_before_per_s,goodput_after_per_s,share\n",
          out);
    fprintf(out, "fleet_recovery,%s,%s,", run, f->verdict ? f->verdict : "no fault");
    if (f->recover_ns >= 0)
        fprintf(out, "%" PRId64, f->recover_ns);
    fprintf(out, ",%.4f,%.4f,%.4f\n", f->goodput_before, f->goodput_after, f->recover_share);
    fputs("fleet_timeline,run,component,series,bucket_ns,values...\n", out);
    for (int i = 0; i < f->ncomps; i++) {
        for (int s = 0; s < HERD_FLEET_NSERIES; s++) {
            fprintf(out, "fleet_timeline,%s,%s,%s,%" PRId64, run, f->comps[i].name,
                    herd_fleet_series_name(s), f->bucket_ns);
            for (size_t k = 0; k < f->nbuckets && f->comps[i].series[s]; k++)
                fprintf(out, ",%" PRId64, f->comps[i].series[s][k]);
            fputc('\n', out);
        }
    }
    return ferror(out) ? -EIO : 0;
}

/* ---- text ---------------------------------------------------------------------------------- */

/* The figures of an lb, an lb's backend and a coord: one or two lines each. */
static void kind_lines(FILE *out, const struct herd_fleet_comp_figures *c, bool utf8)
{
    char a[24], b[24], d[24], e[24], g[24], h[24], k[24];
#define V(buf, x) herd_text_value(buf, sizeof buf, (double)(x), false, utf8)
    if (c->kind && strcmp(c->kind, "lb") == 0) {
        V(a, c->handshakes);
        V(b, c->handshakes_peak_per_s);
        V(d, c->resumed);
        V(e, c->handshakes_refused);
        V(g, c->reconnects);
        V(h, c->conns_dropped);
        V(k, c->conns_peak);
        fprintf(out,
                "  %s: handshakes %s (%s resumed, %s refused), peak %s/s; reconnects %s; "
                "connections dropped %s, most open %s\n",
                c->name, a, d, e, b, g, h, k);
    }
    if (c->handshake_ns > 0 && c->busy_ns > 0)
        fprintf(out, "  %s: handshakes took %.1f %% of its worker time\n", c->name,
                100.0 * (double)c->handshake_ns / (double)c->busy_ns);
    if (!c->kind || strcmp(c->kind, "coord") != 0)
        return;
    V(a, c->coord_requests);
    fprintf(out, "  %s: requests %s", c->name, a);
    if (c->watch_events || c->wakeups) {
        V(b, c->watch_events);
        V(d, c->wakeups);
        V(e, c->wasted_wakeups);
        fprintf(out, "; watch events %s; wake-ups %s (%s wasted)", b, d, e);
    }
    if (c->lock_grants) {
        V(g, c->lock_grants);
        herd_text_value(b, sizeof b, (double)c->lock_p50_ns, true, utf8);
        herd_text_value(d, sizeof d, (double)c->lock_p99_ns, true, utf8);
        fprintf(out, "; locks granted %s, wait p50 %s p99 %s", g, b, d);
    }
#undef V
    fputc('\n', out);
    if (c->election_rounds || c->elections || c->no_leader_ns) {
        char lead[24] = "never", max[24] = "-", none[24];
        if (c->leader_ns >= 0)
            herd_text_value(lead, sizeof lead, (double)c->leader_ns, true, utf8);
        if (c->leader_max_ns >= 0)
            herd_text_value(max, sizeof max, (double)c->leader_max_ns, true, utf8);
        herd_text_value(none, sizeof none, (double)c->no_leader_ns, true, utf8);
        fprintf(out,
                "  %s: elections %" PRIu64 " in %" PRIu64 " rounds (%" PRIu64 " split votes); "
                "time to a new leader %s (longest %s); without a leader %s\n",
                c->name, c->elections, c->election_rounds, c->split_votes, lead, max, none);
    }
}

void herd_fleet_figures_text(FILE *out, const struct herd_fleet_figures *f, bool utf8, int width)
{
    (void)width; /* the table is 98 columns wide: it fits the default 100 */
    fprintf(out, "\nComponents (%s: the herd's resource is %s)\n", f->name, comp_name(f, f->herd));
    fprintf(out, "%-12s %-7s %8s %8s %6s %8s %8s %8s %8s %9s %6s\n", "name", "kind", "calls",
            "attempts", "ampl.", "ok", "errors", "timeouts", "wasted", "p99", "peakQ");
    for (int i = 0; i < f->ncomps; i++) {
        const struct herd_fleet_comp_figures *c = &f->comps[i];
        char calls[24], att[24], ok[24], errs[24], tmo[24], wasted[24], p99[24], pq[24];
        herd_text_value(calls, sizeof calls, (double)c->calls, false, utf8);
        herd_text_value(att, sizeof att, (double)c->attempts, false, utf8);
        herd_text_value(ok, sizeof ok, (double)c->ok, false, utf8);
        herd_text_value(errs, sizeof errs,
                        (double)(c->errors + c->rejected + c->shed + c->dropped), false, utf8);
        herd_text_value(tmo, sizeof tmo, (double)c->timeouts, false, utf8);
        herd_text_value(wasted, sizeof wasted, (double)c->wasted, false, utf8);
        herd_text_value(p99, sizeof p99, (double)c->p99_ns, true, utf8);
        herd_text_value(pq, sizeof pq, (double)c->peak_queue, false, utf8);
        fprintf(out, "%-12.12s %-7s %8s %8s %6.2f %8s %8s %8s %8s ", c->name, c->kind ? c->kind : "?",
                calls, att, c->amplification, ok, errs, tmo, wasted);
        herd_text_cell(out, p99, 9, false);
        fprintf(out, " %6s\n", pq);
    }
    for (int i = 0; i < f->ncomps; i++)
        kind_lines(out, &f->comps[i], utf8);
    char rec[32] = "-";
    if (f->recover_ns >= 0)
        herd_text_value(rec, sizeof rec, (double)f->recover_ns, true, utf8);
    if (f->verdict && strcmp(f->verdict, "no fault") == 0)
        fprintf(out, "Recovery: no fault\n");
    else
        fprintf(out,
                "Recovery: %s (time to recover %s; goodput %.1f/s before the first fault, "
                "%.1f/s after the last; threshold %.0f %%)\n",
                f->verdict ? f->verdict : "?", rec, f->goodput_before, f->goodput_after,
                100 * f->recover_share);
    if (f->nclaims > 0) {
        fprintf(out, "Claims\n");
        herd_fleet_claims_text(out, f->claims, f->nclaims);
    }
}

/* ---- claims: figures by path --------------------------------------------------------------- */

/* The vocabulary. Top level: DESIGN §1's counters for the herd's resource, the clients'
 * latency quantiles, the recovery. A component: its row of the report, plus ok_share
 * (ok / calls), peak_rate (the most arrivals in one bucket, per second), backlog (the
 * longest stretch of buckets with requests waiting in its queue, s) and surge (its busiest
 * bucket over its calm mean before the first fault). Kept in step with
 * docs/scenario-file.md's Claims section. */
static const char *const top_names[] = {
    "wakes", "useful", "served", "wasted", "failed", "origin_load", "peak", "latency.p50",
    "latency.p99", "latency.p999", "latency.max", "recovery.verdict", "recovery.recover",
    "recovery.goodput_before", "recovery.goodput_after", NULL};
static const char *const comp_names[] = {
    "calls", "attempts", "retries", "amplification", "ok", "ok_share", "errors", "rejected",
    "shed", "dropped", "cancelled", "timeouts", "wasted", "wasted_time", "peak_queue",
    "peak_concurrency", "p50", "p99", "hits", "misses", "stale", "too_old", "coalesced", "handshakes",
    "resumed", "handshakes_refused", "reconnects", "conns_dropped", "conns_peak",
    "handshakes_peak", "busy", "handshake_time", "coord_requests", "watch_events", "wakeups",
    "wasted_wakeups", "lock_grants", "lock_p50", "lock_p99", "elections", "election_rounds",
    "split_votes", "leader", "leader_max", "no_leader", "peak_rate", "backlog",
    "surge", "max_gap", NULL};
static const char *const time_names[] = {
    "latency.p50", "latency.p99", "latency.p999", "latency.max", "recovery.recover",
    "wasted_time", "p50", "p99", "busy", "handshake_time", "lock_p50", "lock_p99", "leader",
    "leader_max", "no_leader", "backlog", "max_gap", NULL};

static bool in(const char *const *names, const char *w)
{
    for (; *names; names++)
        if (strcmp(*names, w) == 0)
            return true;
    return false;
}

/* "components.NAME.FIG" → FIG (NAME into @p name), or NULL when @p path is not one. */
static const char *comp_figure(const char *path, char *name, size_t len)
{
    if (strncmp(path, "components.", 11) != 0)
        return NULL;
    const char *n = path + 11, *dot = strchr(n, '.');
    if (!dot || dot == n || (size_t)(dot - n) >= len)
        return NULL;
    memcpy(name, n, (size_t)(dot - n));
    name[dot - n] = '\0';
    return dot + 1;
}

const char *const *herd_fleet_figure_names(bool component)
{
    return component ? comp_names : top_names;
}

bool herd_fleet_figure_known(const char *path)
{
    char name[64];
    const char *fig = comp_figure(path, name, sizeof name);
    return fig ? in(comp_names, fig) : in(top_names, path);
}

bool herd_fleet_figure_is_time(const char *path)
{
    char name[64];
    const char *fig = comp_figure(path, name, sizeof name);
    return in(time_names, fig ? fig : path);
}

bool herd_fleet_figure_is_word(const char *path)
{
    return strcmp(path, "recovery.verdict") == 0;
}

/* The longest stretch of buckets whose queue level is above 0, ns. */
static int64_t backlog_ns(const struct herd_fleet_figures *f, const struct herd_fleet_comp_figures *c)
{
    const int64_t *q = c->series[HERD_FLEET_S_QUEUE];
    size_t best = 0, run = 0;
    for (size_t b = 0; q && b < f->nbuckets; b++) {
        run = q[b] > 0 ? run + 1 : 0;
        best = run > best ? run : best;
    }
    return (int64_t)best * f->bucket_ns;
}

static double peak_rate(const struct herd_fleet_figures *f, const struct herd_fleet_comp_figures *c)
{
    const int64_t *a = c->series[HERD_FLEET_S_ARRIVALS];
    int64_t best = 0;
    for (size_t b = 0; a && b < f->nbuckets; b++)
        best = a[b] > best ? a[b] : best;
    return f->bucket_ns > 0 ? (double)best / ((double)f->bucket_ns / 1e9) : 0;
}

/* The most arrivals (attempts received) in one bucket over the mean per bucket before
 * the first fault starts: how many times its calm load the herd brought (1: none). NAN
 * without a fault or without arrivals before it. */
static double surge(const struct herd_fleet_figures *f, const struct herd_fleet_comp_figures *c)
{
    const int64_t *a = c->series[HERD_FLEET_S_ARRIVALS];
    if (!a || f->nfaults == 0 || f->bucket_ns <= 0)
        return NAN;
    int64_t first = f->faults[0].at_ns;
    for (int i = 1; i < f->nfaults; i++)
        first = f->faults[i].at_ns < first ? f->faults[i].at_ns : first;
    size_t calm = (size_t)(first / f->bucket_ns);
    int64_t sum = 0, most = 0;
    for (size_t b = 0; b < f->nbuckets; b++) {
        if (b < calm)
            sum += a[b];
        most = a[b] > most ? a[b] : most;
    }
    if (calm == 0 || calm > f->nbuckets || sum == 0)
        return NAN;
    return (double)most / ((double)sum / (double)calm);
}

static int comp_value(const struct herd_fleet_figures *f, const struct herd_fleet_comp_figures *c,
                      const char *fig, double *v)
{
    const double S = 1e9;
#define F(nm, expr)                                                                         \
    if (strcmp(fig, nm) == 0) {                                                             \
        *v = (double)(expr);                                                                \
        return 0;                                                                           \
    }
    F("calls", c->calls) F("attempts", c->attempts) F("retries", c->retries)
    F("amplification", c->amplification) F("ok", c->ok)
    F("ok_share", c->calls ? (double)c->ok / (double)c->calls : 0) F("errors", c->errors)
    F("rejected", c->rejected) F("shed", c->shed) F("dropped", c->dropped)
    F("cancelled", c->cancelled) F("timeouts", c->timeouts) F("wasted", c->wasted)
    F("wasted_time", c->wasted_ns / S) F("peak_queue", c->peak_queue)
    F("peak_concurrency", c->peak_concurrency) F("p50", c->p50_ns / S) F("p99", c->p99_ns / S)
    F("hits", c->hits) F("misses", c->misses) F("stale", c->stale) F("too_old", c->too_old) F("coalesced", c->coalesced)
    F("handshakes", c->handshakes) F("resumed", c->resumed)
    F("handshakes_refused", c->handshakes_refused) F("reconnects", c->reconnects)
    F("conns_dropped", c->conns_dropped) F("conns_peak", c->conns_peak)
    F("handshakes_peak", c->handshakes_peak_per_s) F("busy", c->busy_ns / S)
    F("handshake_time", c->handshake_ns / S) F("coord_requests", c->coord_requests)
    F("watch_events", c->watch_events) F("wakeups", c->wakeups)
    F("wasted_wakeups", c->wasted_wakeups) F("lock_grants", c->lock_grants)
    F("lock_p50", c->lock_p50_ns / S) F("lock_p99", c->lock_p99_ns / S)
    F("elections", c->elections) F("election_rounds", c->election_rounds)
    F("split_votes", c->split_votes) F("leader", c->leader_ns / S)
    F("leader_max", c->leader_max_ns / S) F("no_leader", c->no_leader_ns / S)
    F("peak_rate", peak_rate(f, c)) F("backlog", backlog_ns(f, c) / S)
    F("surge", surge(f, c)) F("max_gap", c->max_gap_ns / S)
#undef F
    return -ENOENT;
}

int herd_fleet_figure(const struct herd_report *r, const char *path, double *value,
                      const char **word)
{
    const struct herd_fleet_figures *f = r->fleet;
    char name[64];
    const char *fig = comp_figure(path, name, sizeof name);
    *word = NULL;
    if (fig) {
        for (int i = 0; f && i < f->ncomps; i++)
            if (strcmp(f->comps[i].name, name) == 0)
                return comp_value(f, &f->comps[i], fig, value);
        return -ENOENT;
    }
    const double S = 1e9;
#define F(nm, expr)                                                                         \
    if (strcmp(path, nm) == 0) {                                                            \
        *value = (double)(expr);                                                            \
        return 0;                                                                           \
    }
    F("wakes", r->wakes) F("useful", r->useful) F("served", r->served) F("wasted", r->wasted)
    F("failed", r->failed) F("origin_load", r->origin_load) F("peak", r->peak)
    F("latency.p50", herd_hist_quantile(&r->latency, 0.50) / S)
    F("latency.p99", herd_hist_quantile(&r->latency, 0.99) / S)
    F("latency.p999", herd_hist_quantile(&r->latency, 0.999) / S)
    F("latency.max", herd_hist_quantile(&r->latency, 1.0) / S)
#undef F
    if (!f)
        return -ENOENT;
    if (strcmp(path, "recovery.verdict") == 0) {
        *word = f->verdict ? f->verdict : "no fault";
        *value = 0;
        return 0;
    }
    if (strcmp(path, "recovery.recover") == 0) {
        *value = f->recover_ns >= 0 ? (double)f->recover_ns / S : NAN;
        return 0;
    }
    if (strcmp(path, "recovery.goodput_before") == 0) {
        *value = f->goodput_before;
        return 0;
    }
    if (strcmp(path, "recovery.goodput_after") == 0) {
        *value = f->goodput_after;
        return 0;
    }
    return -ENOENT;
}

void *herd_fleet_claims_json(const struct herd_fleet_claim_verdict *v, int n)
{
    json_t *a = json_array();
    for (int i = 0; a && i < n; i++) {
        json_t *o = json_object();
        json_object_set_new(o, "says", json_string(v[i].says));
        json_object_set_new(o, "check", json_string(v[i].check));
        if (v[i].word[0])
            json_object_set_new(o, "measured", json_string(v[i].word));
        else
            json_object_set_new(o, "measured",
                                isfinite(v[i].measured) ? json_real(v[i].measured) : json_null());
        json_object_set_new(o, "verdict", json_string(v[i].pass ? "PASS" : "FAIL"));
        json_array_append_new(a, o);
    }
    return a;
}

void herd_fleet_claims_text(FILE *out, const struct herd_fleet_claim_verdict *v, int n)
{
    for (int i = 0; i < n; i++) {
        char m[32];
        if (v[i].word[0])
            snprintf(m, sizeof m, "%s", v[i].word);
        else if (isfinite(v[i].measured))
            snprintf(m, sizeof m, "%.4g", v[i].measured);
        else
            snprintf(m, sizeof m, "-");
        fprintf(out, "  %s  %-10s  %s\n        %s\n", v[i].pass ? "PASS" : "FAIL", m, v[i].check,
                v[i].says);
    }
}
