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
}
