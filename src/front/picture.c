/* picture.c — the field guide's five pictures, drawn from runs (picture.h). */
#include "picture.h"

#include <herd/error.h>
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../report/fleet_figures.h"
#include "../report/report.h"
#include "../report/svg.h"
#include "../scenario/file.h"
#include "../sim/fleet.h"

#ifndef HERD_VERSION
#define HERD_VERSION "0.0.0"
#endif

#define MAX_RUNS 4

struct prun {
    char strategy[64];
    struct herd_report r;
    bool ok;
};

/* One picture being drawn: its file (a version with the picture's bucket), its runs, the
 * document and the metadata. */
struct ctx {
    const char *picture, *file; /* "stampede", "cache-stampede" */
    const char *const *sets;    /* the picture's overrides ("path=value"), NULL-terminated */
    uint64_t seed;
    struct herd_fleet_file *loaded;
    const struct herd_fleet_file *ver;
    struct prun runs[MAX_RUNS];
    int nruns;
    struct herd_svg svg;
    json_t *meta, *meta_runs;
    char *err;
    size_t errlen;
};

static int ctx_open(struct ctx *c, const char *picture, const char *file, const char *const *sets,
                    uint64_t seed, char *err, size_t errlen)
{
    memset(c, 0, sizeof *c);
    c->picture = picture, c->file = file, c->sets = sets;
    c->seed = seed, c->err = err, c->errlen = errlen;
    char name[96], path[4096];
    snprintf(name, sizeof name, "field-guide/%s", file);
    if (herd_fleet_find(name, path, sizeof path) < 0)
        return snprintf(err, errlen, "picture %s: the field guide's %s.yaml is not found", picture,
                        file),
               -1;
    if (herd_fleet_file_load(path, &c->loaded, err, errlen) < 0)
        return -1;
    c->ver = c->loaded;
    for (int i = 0; sets && sets[i]; i++) {
        char path[128];
        const char *eq = strchr(sets[i], '=');
        snprintf(path, sizeof path, "%.*s", (int)(eq - sets[i]), sets[i]);
        if (herd_fleet_file_set(c->ver, "picture", path, eq + 1, &c->ver, err, errlen) < 0)
            return -1;
    }
    c->meta = json_pack("{s:s, s:s, s:I, s:s, s:s}", "picture", picture, "file", name, "seed",
                        (json_int_t)seed, "herd_version", HERD_VERSION, "produced_by",
                        "herd picture (src/front/picture.c): simulator runs of the file");
    c->meta_runs = json_array();
    if (!c->meta || !c->meta_runs)
        return snprintf(err, errlen, "out of memory"), -1;
    json_object_set(c->meta, "runs", c->meta_runs);
    return 0;
}

static void ctx_close(struct ctx *c)
{
    for (int i = 0; i < c->nruns; i++)
        if (c->runs[i].ok)
            herd_report_fini(&c->runs[i].r);
    herd_fleet_file_free(c->loaded);
    json_decref(c->meta_runs);
    json_decref(c->meta);
    free(c->svg.buf);
}

/* Run @p strategy of the picture's file (once per strategy and @p extra), on the version
 * with the picture's override and then @p extra's ("path=value" each, NULL-terminated;
 * NULL: none). @return the run, or NULL with c->err. */
static struct prun *run_with(struct ctx *c, const char *strategy, const char *const *extra)
{
    char key[64];
    snprintf(key, sizeof key, "%s%s", strategy, extra ? "/set" : "");
    for (int i = 0; i < c->nruns; i++)
        if (strcmp(c->runs[i].strategy, key) == 0)
            return &c->runs[i];
    if (c->nruns >= MAX_RUNS)
        return snprintf(c->err, c->errlen, "picture %s: too many runs", c->picture), NULL;
    char set[512] = "";
    size_t o = 0;
    for (int i = 0; c->sets && c->sets[i] && o < sizeof set; i++)
        o += (size_t)snprintf(set + o, sizeof set - o, " --set %s", c->sets[i]);
    const struct herd_fleet_file *v = c->ver;
    for (int i = 0; extra && extra[i]; i++) {
        char path[128];
        const char *eq = strchr(extra[i], '=');
        snprintf(path, sizeof path, "%.*s", (int)(eq - extra[i]), extra[i]);
        if (herd_fleet_file_set(v, "picture", path, eq + 1, &v, c->err, c->errlen) < 0)
            return NULL;
        if (o < sizeof set)
            o += (size_t)snprintf(set + o, sizeof set - o, " --set %s", extra[i]);
    }
    struct prun *p = &c->runs[c->nruns];
    snprintf(p->strategy, sizeof p->strategy, "%s", key);
    if (herd_sim_fleet_run_named(v, strategy, c->seed, &p->r, c->err, c->errlen) < 0)
        return NULL;
    if (!p->r.fleet) {
        herd_report_fini(&p->r);
        return snprintf(c->err, c->errlen, "picture %s: no fleet figures", c->picture), NULL;
    }
    p->ok = true;
    c->nruns++;
    char cmd[1024];
    if (strcmp(strategy, "naive") == 0)
        snprintf(cmd, sizeof cmd,
                 "herd run field-guide/%s --mode naive%s --seed %llu --format json", c->file, set,
                 (unsigned long long)c->seed);
    else
        snprintf(cmd, sizeof cmd,
                 "herd run field-guide/%s --mode mitigated --mitigation %s%s --seed %llu "
                 "--format json",
                 c->file, strategy, set, (unsigned long long)c->seed);
    json_array_append_new(c->meta_runs,
                          json_pack("{s:s, s:s, s:[]}", "strategy", key, "command", cmd, "series"));
    return p;
}

static struct prun *run(struct ctx *c, const char *strategy)
{
    return run_with(c, strategy, NULL);
}

static const struct herd_fleet_figures *figs(const struct prun *p)
{
    return p->r.fleet;
}

static int comp_index(const struct herd_fleet_figures *f, const char *name)
{
    for (int i = 0; i < f->ncomps; i++)
        if (strcmp(f->comps[i].name, name) == 0)
            return i;
    return -1;
}

static int series_index(const char *name)
{
    for (int s = 0; s < HERD_FLEET_NSERIES; s++)
        if (strcmp(herd_fleet_series_name(s), name) == 0)
            return s;
    return -1;
}

static double bucket_s(const struct prun *p)
{
    return (double)figs(p)->bucket_ns / 1e9;
}

/* Fill @p out with series @p series of component @p comp of run @p p, recorded in the
 * metadata over the window [@p from, @p to) seconds. @return 0, or -1 with c->err. */
static int line(struct ctx *c, struct prun *p, const char *comp, const char *series,
                const char *label, int style, double scale, double from, double to,
                struct herd_svg_series *out)
{
    const struct herd_fleet_figures *f = figs(p);
    int ci = comp_index(f, comp), si = series_index(series);
    if (ci < 0 || si < 0 || !f->comps[ci].series[si])
        return snprintf(c->err, c->errlen, "picture %s: run %s has no %s.%s", c->picture,
                        p->strategy, comp, series),
               -1;
    double b = bucket_s(p);
    size_t n = f->nbuckets;
    if (!(to > from))
        from = 0, to = (double)n * b;
    size_t b0 = (size_t)fmax(0, floor(from / b)), b1 = (size_t)fmin((double)n, ceil(to / b));
    char name[80];
    snprintf(name, sizeof name, "%s.%s", comp, series);
    *out = (struct herd_svg_series){.label = label,
                                    .run = p->strategy,
                                    .name = "",
                                    .v = f->comps[ci].series[si],
                                    .n = n,
                                    .scale = scale,
                                    .style = style};
    /* The name must outlive the chart: the metadata keeps it, and out points at its copy. */
    json_t *values = json_array();
    for (size_t k = b0; k < b1; k++)
        json_array_append_new(values, json_integer(f->comps[ci].series[si][k]));
    size_t i;
    json_t *r;
    json_array_foreach(c->meta_runs, i, r)
    {
        if (strcmp(json_string_value(json_object_get(r, "strategy")), p->strategy) != 0)
            continue;
        json_t *s = json_pack("{s:s, s:s, s:s, s:s, s:I, s:f, s:o}", "name", name, "component",
                              comp, "series", series, "label", label, "from_bucket", (json_int_t)b0,
                              "bucket_s", b, "values", values);
        json_array_append_new(json_object_get(r, "series"), s);
        out->name = json_string_value(json_object_get(s, "name"));
        return 0;
    }
    json_decref(values);
    return 0;
}

static void metadata(struct ctx *c)
{
    char *js = json_dumps(c->meta, JSON_COMPACT | JSON_REAL_PRECISION(9));
    herd_svg_printf(&c->svg, "<metadata id=\"herd-runs\"><![CDATA[%s]]></metadata>\n",
                    js ? js : "{}");
    free(js);
}

static double figure(const struct prun *p, const char *path)
{
    double v = NAN;
    const char *w;
    herd_fleet_figure(&p->r, path, &v, &w);
    return v;
}

static double fault_at(const struct prun *p, int i)
{
    const struct herd_fleet_figures *f = figs(p);
    return i < f->nfaults ? (double)f->faults[i].at_ns / 1e9 : NAN;
}

/* ---- the pictures ------------------------------------------------------------------ */

static int draw_stampede(struct ctx *c)
{
    static const char *const uniform[] = {"components.api.call.timeout=100ms",
                                          "components.api.call.retry.attempts=3",
                                          "components.api.call.retry.backoff=none", NULL};
    struct prun *n = run(c, "naive"), *u = n ? run_with(c, "naive", uniform) : NULL;
    if (!u)
        return -1;
    double b = bucket_s(n), flush = fault_at(n, 0);
    double w0 = flush - 0.2, w1 = flush + 1.0, e0 = flush + 60 - 0.2, e1 = flush + 61.0;
    herd_svg_begin(&c->svg, 900, 860, "Cache stampede timeline (herd picture stampede)",
                   "Redis in front of Postgres, 20 keys with a 60 s TTL, 4,000 requests/s: the "
                   "flush refills every key at once, and 60 s later they expire together. "
                   "Drawn from simulator runs of scenarios/field-guide/cache-stampede.yaml.");
    herd_svg_text(&c->svg, 450, 24, "middle", 17, true,
                  "Cache stampede: the miss is the door opening (field-guide/cache-stampede)");
    struct herd_svg_series s[4];
    struct herd_svg_mark m1[] = {{flush, "Redis flushed: every key misses"}};
    if (line(c, n, "api", "arrivals", "requests", 0, 1 / b, w0, w1, &s[0]) < 0 ||
        line(c, n, "redis", "misses", "cache misses", 1, 1 / b, w0, w1, &s[1]) < 0 ||
        line(c, n, "postgres", "arrivals", "database load (queries)", 2, 1 / b, w0, w1, &s[2]) <
            0 ||
        line(c, n, "postgres", "goodput", "repopulation (fills answered)", 3, 1 / b, w0, w1,
             &s[3]) < 0)
        return -1;
    herd_svg_chart(&c->svg,
                   &(struct herd_svg_chart){
                       .x = 10,
                       .y = 40,
                       .w = 880,
                       .h = 260,
                       .title = "1. The herd: every request misses until its key is refilled",
                       .yunit = "per second",
                       .bucket_s = b,
                       .from_s = w0,
                       .to_s = w1,
                       .series = s,
                       .nseries = 4,
                       .marks = m1,
                       .nmarks = 1});
    struct herd_svg_mark m2[] = {{flush + 60, "t = 60 s after the fill: the TTL boundary"}};
    if (line(c, n, "api", "arrivals", "requests", 0, 1 / b, e0, e1, &s[0]) < 0 ||
        line(c, n, "redis", "misses", "cache misses", 1, 1 / b, e0, e1, &s[1]) < 0 ||
        line(c, n, "postgres", "arrivals", "database load (queries)", 2, 1 / b, e0, e1, &s[2]) <
            0 ||
        line(c, n, "postgres", "goodput", "repopulation (fills answered)", 3, 1 / b, e0, e1,
             &s[3]) < 0)
        return -1;
    herd_svg_chart(&c->svg,
                   &(struct herd_svg_chart){
                       .x = 10,
                       .y = 310,
                       .w = 880,
                       .h = 260,
                       .title = "2. Sixty seconds later the keys expire together (TTL alignment)",
                       .yunit = "per second",
                       .bucket_s = b,
                       .from_s = e0,
                       .to_s = e1,
                       .series = s,
                       .nseries = 4,
                       .marks = m2,
                       .nmarks = 1});
    struct herd_svg_series r[3];
    if (line(c, u, "api", "retries", "retries (uniform 100 ms timeout, no jitter)", 1, 1 / b, w0,
             w1, &r[0]) < 0 ||
        line(c, u, "postgres", "arrivals", "database load (queries)", 2, 1 / b, w0, w1, &r[1]) <
            0 ||
        line(c, u, "api", "arrivals", "requests and retries", 0, 1 / b, w0, w1, &r[2]) < 0)
        return -1;
    herd_svg_chart(&c->svg,
                   &(struct herd_svg_chart){
                       .x = 10,
                       .y = 580,
                       .w = 880,
                       .h = 260,
                       .title = "3. With a uniform timeout the retries align into a second wave",
                       .yunit = "per second",
                       .bucket_s = b,
                       .from_s = w0,
                       .to_s = w1,
                       .series = r,
                       .nseries = 3,
                       .marks = m1,
                       .nmarks = 1});
    herd_svg_text(&c->svg, 890, 852, "end", 10, false,
                  "seed %llu; naive: %.0f queries in all, %.0f with uniform timeouts",
                  (unsigned long long)c->seed, figure(n, "components.postgres.calls"),
                  figure(u, "components.postgres.attempts"));
    return 0;
}

static int draw_retry_wave(struct ctx *c)
{
    struct prun *n = run(c, "naive"), *j = n ? run(c, "jitter") : NULL;
    if (!j)
        return -1;
    double b = bucket_s(n), crash = fault_at(n, 0), w0 = crash - 2, w1 = crash + 22;
    const struct herd_fleet_figures *f = figs(n);
    double end = crash + (f->nfaults ? (double)f->faults[0].for_ns / 1e9 : 0);
    herd_svg_begin(
        &c->svg, 900, 600, "Retry alignment wave (herd picture retry-wave)",
        "A service returns errors for 2 s; clients retry every 2 s in lock-step onto a "
        "service warming up from a quarter of its capacity. Full jitter turns the spikes "
        "into a band. Simulator runs of scenarios/field-guide/retry-after-500s.yaml.");
    herd_svg_text(
        &c->svg, 450, 24, "middle", 17, true,
        "Retry alignment wave: synchronized retries vs jitter (field-guide/retry-after-500s)");
    struct herd_svg_series s[2];
    struct herd_svg_mark m[] = {{crash, "500s for 2 s"}, {end, "back, warming up (¼ capacity)"}};
    if (line(c, n, "api", "arrivals", "fixed 2 s retry interval (no jitter)", 1, 1 / b, w0, w1,
             &s[0]) < 0 ||
        line(c, j, "api", "arrivals", "exponential backoff, full jitter", 0, 1 / b, w0, w1, &s[1]) <
            0)
        return -1;
    herd_svg_chart(&c->svg,
                   &(struct herd_svg_chart){
                       .x = 10,
                       .y = 40,
                       .w = 880,
                       .h = 300,
                       .title = "Requests reaching the service: spikes every 2 s vs a band",
                       .yunit = "requests per second",
                       .bucket_s = b,
                       .from_s = w0,
                       .to_s = w1,
                       .series = s,
                       .nseries = 2,
                       .marks = m,
                       .nmarks = 2});
    struct herd_svg_series e[2];
    if (line(c, n, "clients", "errors", "calls failed, no jitter", 1, 1 / b, w0, w1, &e[0]) < 0 ||
        line(c, j, "clients", "errors", "calls failed, full jitter", 0, 1 / b, w0, w1, &e[1]) < 0)
        return -1;
    herd_svg_chart(&c->svg,
                   &(struct herd_svg_chart){
                       .x = 10,
                       .y = 350,
                       .w = 880,
                       .h = 230,
                       .title = "Calls that ran out of attempts: bad retries fail together",
                       .yunit = "calls per second",
                       .bucket_s = b,
                       .from_s = w0,
                       .to_s = w1,
                       .series = e,
                       .nseries = 2,
                       .marks = m,
                       .nmarks = 2});
    herd_svg_text(&c->svg, 890, 594, "end", 10, false,
                  "seed %llu; peak %.0f/s without jitter, %.0f/s with; failed calls %.0f vs %.0f",
                  (unsigned long long)c->seed, figure(n, "components.api.peak_rate"),
                  figure(j, "components.api.peak_rate"), figure(n, "components.clients.errors"),
                  figure(j, "components.clients.errors"));
    return 0;
}

static int draw_leader(struct ctx *c)
{
    struct prun *n = run(c, "naive"), *r = n ? run(c, "randomized") : NULL;
    if (!r)
        return -1;
    double b = bucket_s(n), death = fault_at(n, 0), w0 = death - 2, w1 = death + 12;
    double lead = figure(r, "components.etcd.leader_max");
    char ann[128];
    snprintf(ann, sizeof ann, "randomized timeouts: new leader %.2f s after the death", lead);
    struct herd_svg_mark m[] = {{death, "the leader dies"}, {death + lead, ann}};
    herd_svg_begin(&c->svg, 900, 1000, "Layered herd of a leader failure (herd picture leader)",
                   "The leader of a 5-member coordination service dies; with equal election "
                   "timeouts every member campaigns at once and the vote splits; watchers and "
                   "clients pile on. Randomized election timeouts elect a leader in one round. "
                   "Simulator runs of scenarios/field-guide/leader-failover.yaml.");
    herd_svg_text(&c->svg, 450, 24, "middle", 17, true,
                  "Leader failure: herds stacked layer on layer (field-guide/leader-failover)");
    static const struct {
        const char *comp, *series, *title, *unit;
    } layers[] = {
        {"etcd", "coord_requests", "1. Coordination service: campaigns, votes and requests",
         "requests per second"},
        {"etcd", "watch_events", "2. Watch notifications: every watcher told at once",
         "events per second"},
        {"jobs", "retries", "3. Clients: retries while there is no leader", "retries per second"},
        {"jobs", "goodput", "4. Downstream: calls served (goodput)", "calls per second"},
    };
    for (int i = 0; i < 4; i++) {
        struct herd_svg_series s[2];
        if (line(c, n, layers[i].comp, layers[i].series, "equal election timeouts", 1, 1 / b, w0,
                 w1, &s[0]) < 0 ||
            line(c, r, layers[i].comp, layers[i].series, "randomized election timeouts", 0, 1 / b,
                 w0, w1, &s[1]) < 0)
            return -1;
        herd_svg_chart(&c->svg, &(struct herd_svg_chart){.x = 10,
                                                         .y = 40 + 235.0 * i,
                                                         .w = 880,
                                                         .h = 230,
                                                         .title = layers[i].title,
                                                         .yunit = layers[i].unit,
                                                         .bucket_s = b,
                                                         .from_s = w0,
                                                         .to_s = w1,
                                                         .series = s,
                                                         .nseries = 2,
                                                         .marks = m,
                                                         .nmarks = 2});
    }
    herd_svg_text(&c->svg, 890, 994, "end", 10, false,
                  "seed %llu; equal timeouts: %.0f split votes, verdict %s; randomized: %.0f",
                  (unsigned long long)c->seed, figure(n, "components.etcd.split_votes"),
                  figs(n)->verdict ? figs(n)->verdict : "-",
                  figure(r, "components.etcd.split_votes"));
    return 0;
}

static int draw_cascade(struct ctx *c)
{
    struct prun *n = run(c, "naive"), *g = n ? run(c, "budget") : NULL;
    if (!g)
        return -1;
    herd_svg_begin(&c->svg, 900, 760, "Cascade with retry amplification (herd picture cascade)",
                   "Users call A calls B calls C (a database); B has a cache whose flush starts a "
                   "small stampede; every layer retries. Load is multiplied per hop; a retry "
                   "budget at each layer (or a breaker) cuts the loop. Simulator runs of "
                   "scenarios/field-guide/cascade-abc.yaml.");
    herd_svg_text(&c->svg, 450, 24, "middle", 17, true,
                  "Cascade: retries multiply the load per hop (field-guide/cascade-abc)");
    static const char *const chain[] = {"users", "a", "b", "c"};
    static const char *const names[] = {"users", "A", "B", "C (database)"};
    const struct prun *rows[2] = {n, g};
    static const char *const row_title[] = {
        "without budgets (3 attempts at every layer)",
        "with a retry budget at every caller (libherd's AWS token bucket)"};
    for (int row = 0; row < 2; row++) {
        double y = 60 + row * 190;
        herd_svg_text(&c->svg, 20, y, "start", 14, true, "%s", row_title[row]);
        for (int i = 0; i < 4; i++) {
            char path[96], sub[96];
            snprintf(path, sizeof path, "components.%s.attempts", chain[i]);
            double att = figure(rows[row], path);
            snprintf(path, sizeof path, "components.%s.amplification", chain[i]);
            double amp = figure(rows[row], path);
            if (i == 0)
                snprintf(sub, sizeof sub, "%.0f calls",
                         figure(rows[row], "components.users.calls"));
            else
                snprintf(sub, sizeof sub, "%.0f attempts (×%.2f)", att, amp);
            herd_svg_box(&c->svg, 20 + i * 225, y + 20, 180, 64, names[i], sub, row ? 0 : 1);
            if (i > 0) {
                char lab[64], prev[96];
                snprintf(prev, sizeof prev, "components.%s.attempts", chain[i - 1]);
                snprintf(lab, sizeof lab, "load ×%.2f", att / figure(rows[row], prev));
                herd_svg_arrow(&c->svg, 20 + (i - 1) * 225 + 180, y + 52, 20 + i * 225, y + 52, lab,
                               row ? 0 : 1);
            }
        }
        if (row == 1)
            herd_svg_text(&c->svg, 450, y + 120, "middle", 12, false,
                          "a retry budget at every hop cuts the loop (%.2f attempts at C per user "
                          "call); a breaker cuts it by failing fast",
                          figure(rows[row], "components.c.attempts") /
                              figure(rows[row], "components.users.calls"));
        else
            herd_svg_text(&c->svg, 450, y + 120, "middle", 12, false,
                          "B's cache flush: C slows, B times out and retries, A sees errors and "
                          "retries: one user call became %.1f attempts at C",
                          figure(rows[row], "components.c.attempts") /
                              figure(rows[row], "components.users.calls"));
    }
    double b = bucket_s(n);
    struct herd_svg_series s[2];
    if (line(c, n, "c", "arrivals", "attempts at C, no budgets", 1, 1 / b, 0, 0, &s[0]) < 0 ||
        line(c, g, "c", "arrivals", "attempts at C, retry budgets", 0, 1 / b, 0, 0, &s[1]) < 0)
        return -1;
    const struct herd_fleet_figures *f = figs(n);
    struct herd_svg_mark m[] = {{fault_at(n, 0), "B's cache flushed"}};
    herd_svg_chart(&c->svg, &(struct herd_svg_chart){.x = 10,
                                                     .y = 430,
                                                     .w = 880,
                                                     .h = 300,
                                                     .title = "Load at the database over time",
                                                     .yunit = "attempts per second",
                                                     .bucket_s = b,
                                                     .series = s,
                                                     .nseries = 2,
                                                     .marks = m,
                                                     .nmarks = f->nfaults ? 1 : 0});
    herd_svg_text(&c->svg, 890, 752, "end", 10, false,
                  "seed %llu; attempts at C: %.0f without budgets, %.0f with",
                  (unsigned long long)c->seed, figure(n, "components.c.attempts"),
                  figure(g, "components.c.attempts"));
    return 0;
}

/* The arrivals' period in @p v[b0, b1): the lag (buckets) of the highest autocorrelation
 * after it first falls under 0.2 (past the spike's own width), at most @p maxlag; 0 when
 * none. Its correlation into @p *r. */
static int period_of(const int64_t *v, size_t b0, size_t b1, int maxlag, double *r)
{
    size_t n = b1 - b0;
    double mean = 0, var = 0;
    for (size_t k = b0; k < b1; k++)
        mean += (double)v[k];
    mean /= (double)(n ? n : 1);
    for (size_t k = b0; k < b1; k++)
        var += ((double)v[k] - mean) * ((double)v[k] - mean);
    int best = 0;
    bool fell = false;
    *r = 0;
    for (int lag = 1; lag <= maxlag && (size_t)lag < n; lag++) {
        double s = 0;
        for (size_t k = b0; k + (size_t)lag < b1; k++)
            s += ((double)v[k] - mean) * ((double)v[k + (size_t)lag] - mean);
        double rr = var > 0 ? s / var : 0;
        if (!fell) {
            fell = rr < 0.2;
            continue;
        }
        if (rr > *r)
            *r = rr, best = lag;
    }
    return best;
}

static int draw_dashboard(struct ctx *c)
{
    struct prun *n = run(c, "naive"), *j = n ? run(c, "jitter") : NULL;
    if (!j)
        return -1;
    const struct herd_fleet_figures *f = figs(n);
    double b = bucket_s(n);
    int svc = comp_index(f, "svc");
    if (svc < 0)
        return snprintf(c->err, c->errlen, "picture dashboard: no svc"), -1;
    /* What an on-call engineer reads off the panels, computed from the series: the peak
     * over the median bucket, the burst edge (the largest rise within one bucket, and how
     * many buckets the climb from 10 % to 90 % of the peak takes), and the period. */
    const int64_t *arr = f->comps[svc].series[HERD_FLEET_S_ARRIVALS];
    size_t nb = f->nbuckets, pk = 0;
    double peak = 0, sum = 0, jump = 0;
    for (size_t k = 0; k < nb; k++) {
        sum += (double)arr[k];
        if ((double)arr[k] > peak)
            peak = (double)arr[k], pk = k;
        if (k && (double)(arr[k] - arr[k - 1]) > jump)
            jump = (double)(arr[k] - arr[k - 1]);
    }
    double mean = sum / (double)(nb ? nb : 1);
    size_t rise = pk;
    while (rise > 0 && (double)arr[rise - 1] > 0.1 * peak)
        rise--;
    double r;
    int lag = period_of(arr, 0, nb, (int)(150 / b), &r);
    double period = lag * b;
    herd_svg_begin(&c->svg, 900, 900, "Herd-detection dashboard (herd picture dashboard)",
                   "The detection dashboard of seed 000 filled from one run: the request rate "
                   "and its burst edges, errors and retries, saturation, latency, and the "
                   "synchronizer found in the arrivals' period. Simulator runs of "
                   "scenarios/field-guide/accidental-sync.yaml (1,000 hosts, one cron timer).");
    herd_svg_text(
        &c->svg, 450, 24, "middle", 17, true,
        "Is it a herd? A detection dashboard filled from a run (field-guide/accidental-sync)");
    herd_svg_text(
        &c->svg, 20, 48, "start", 12, false,
        "peak %.0f/s = %.0f× the mean · edge: +%.0f/s within one %.1f s bucket, 10 %%→peak in "
        "%zu bucket%s · period %.1f s (autocorrelation %.2f)",
        peak / b, mean > 0 ? peak / mean : 0, jump / b, b, pk - rise + 1,
        pk - rise + 1 == 1 ? "" : "s", period, r);
    herd_svg_text(&c->svg, 20, 64, "start", 12, true, "likely synchronizer: %s",
                  lag == 0                       ? "none found (no period)"
                  : fabs(period - 60) < b + 1e-9 ? "a wall-clock boundary (every minute: cron)"
                                                 : "a fixed interval (retry timeout, TTL)");
    struct herd_svg_series s[2];
    if (line(c, n, "svc", "arrivals", "requests (one timer on every host)", 1, 1 / b, 0, 0, &s[0]) <
            0 ||
        line(c, j, "svc", "arrivals", "the same work, timers randomized", 0, 1 / b, 0, 0, &s[1]) <
            0)
        return -1;
    herd_svg_chart(&c->svg,
                   &(struct herd_svg_chart){
                       .x = 10,
                       .y = 72,
                       .w = 880,
                       .h = 200,
                       .title = "Request rate: sharp, short, rectangular spikes at a period",
                       .yunit = "requests per second",
                       .bucket_s = b,
                       .series = s,
                       .nseries = 2});
    if (line(c, n, "crons", "errors", "jobs failed", 1, 1 / b, 0, 0, &s[0]) < 0 ||
        line(c, n, "crons", "retries", "retries sent", 3, 1 / b, 0, 0, &s[1]) < 0)
        return -1;
    herd_svg_chart(
        &c->svg, &(struct herd_svg_chart){.x = 10,
                                          .y = 277,
                                          .w = 880,
                                          .h = 200,
                                          .title = "Errors and retries, correlated with the spikes",
                                          .yunit = "per second",
                                          .bucket_s = b,
                                          .series = s,
                                          .nseries = 2});
    if (line(c, n, "svc", "queue", "queued requests", 2, 1, 0, 0, &s[0]) < 0 ||
        line(c, n, "svc", "concurrency", "busy workers", 4, 1, 0, 0, &s[1]) < 0)
        return -1;
    herd_svg_chart(&c->svg,
                   &(struct herd_svg_chart){
                       .x = 10,
                       .y = 482,
                       .w = 880,
                       .h = 200,
                       .title = "Dependency saturation: queue and workers in use (max per bucket)",
                       .yunit = "requests",
                       .bucket_s = b,
                       .series = s,
                       .nseries = 2});
    if (line(c, n, "crons", "latency_ns", "mean job latency", 5, 1e-6, 0, 0, &s[0]) < 0)
        return -1;
    herd_svg_chart(
        &c->svg, &(struct herd_svg_chart){.x = 10,
                                          .y = 687,
                                          .w = 880,
                                          .h = 195,
                                          .title = "Latency of the jobs that ended in each bucket",
                                          .yunit = "ms",
                                          .bucket_s = b,
                                          .series = s,
                                          .nseries = 1});
    json_object_set_new(c->meta, "detected",
                        json_pack("{s:f, s:f, s:f, s:i, s:f, s:f}", "peak_per_s", peak / b,
                                  "peak_over_mean", mean > 0 ? peak / mean : 0, "edge_per_s",
                                  jump / b, "edge_buckets", (int)(pk - rise + 1), "period_s",
                                  period, "autocorrelation", r));
    return 0;
}

static const char *const stampede_sets[] = {"duration=70s", "bucket=25ms", NULL};

static const struct picture {
    const char *name, *file;
    const char *const *sets;
    const char *help;
    int (*draw)(struct ctx *c);
} pictures[] = {
    {"stampede", "cache-stampede", stampede_sets,
     "the cache-stampede timeline: requests, misses, database load, repopulation; retries "
     "aligning under a uniform timeout",
     draw_stampede},
    {"retry-wave", "retry-after-500s", NULL,
     "synchronized retries as periodic spikes; jitter turns them into a band", draw_retry_wave},
    {"leader", "leader-failover", NULL,
     "the layered herd of a leader failure: elections, watches, retries, downstream load",
     draw_leader},
    {"cascade", "cascade-abc", NULL,
     "the call chain A → B → C with the load multiplied per hop, and where budgets cut it",
     draw_cascade},
    {"dashboard", "accidental-sync", NULL,
     "a herd-detection dashboard filled from a run (edge, correlation, period, saturation)",
     draw_dashboard},
};
#define NPICTURES (sizeof pictures / sizeof pictures[0])

const char *const *herd_picture_names(void)
{
    static const char *const names[] = {"stampede", "retry-wave", "leader",
                                        "cascade",  "dashboard",  NULL};
    return names;
}

const char *herd_picture_help(const char *name)
{
    for (size_t i = 0; name && i < NPICTURES; i++)
        if (strcmp(pictures[i].name, name) == 0)
            return pictures[i].help;
    return NULL;
}

char *herd_picture_svg(const char *name, uint64_t seed, size_t *len, char *err, size_t errlen)
{
    const struct picture *p = NULL;
    for (size_t i = 0; name && i < NPICTURES; i++)
        if (strcmp(pictures[i].name, name) == 0)
            p = &pictures[i];
    if (!p) {
        snprintf(err, errlen,
                 "no picture '%s'; allowed: stampede, retry-wave, leader, cascade, "
                 "dashboard",
                 name ? name : "");
        return NULL;
    }
    struct ctx c;
    char *doc = NULL;
    if (ctx_open(&c, p->name, p->file, p->sets, seed, err, errlen) == 0 && p->draw(&c) == 0) {
        metadata(&c);
        doc = herd_svg_end(&c.svg, len);
        if (!doc)
            snprintf(err, errlen, "out of memory");
    }
    ctx_close(&c);
    return doc;
}
