/* compare.c — seed 000's technique table, measured (compare.h). */
#include "compare.h"

#include <herd/error.h>
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../report/fleet_figures.h"
#include "../report/report.h"
#include "../scenario/file.h"
#include "../sim/fleet.h"

/* One row of the seed's table: the technique, the file and strategy that test it, the
 * herd resource and the clients whose p99 counts, and the seed's four answers. */
struct row {
    const char *technique, *file, *strategy, *herd, *clients, *use;
    const char *seed[4]; /* breaks sync, reduces work, adds latency, risks correctness */
};

static const struct row rows[] = {
    {"Jitter (TTL/retry)",
     "field-guide/accidental-sync",
     "jitter",
     "svc",
     "crons",
     "retries, refreshes, cache expiry",
     {"Yes", "No", "No", "No"}},
    {"Exponential backoff + jitter",
     "field-guide/retry-after-500s",
     "jitter",
     "api",
     "clients",
     "downstream errors/timeouts",
     {"Yes", "No", "Yes (under failure)", "No"}},
    {"Request coalescing (singleflight)",
     "field-guide/coalescing",
     "coalesce",
     "db",
     "app",
     "cache miss recomputation",
     {"Indirectly", "Yes", "Yes (waiters)", "No"}},
    {"Serve stale (soft TTL)",
     "field-guide/coalescing",
     "swr",
     "db",
     "app",
     "read-heavy caches",
     {"Yes", "Yes (if refresh is coalesced)", "No", "Yes (stale data)"}},
    {"Rate limiting",
     "field-guide/lb-restart",
     "limit",
     "api",
     "clients",
     "protect dependencies",
     {"No", "No", "Yes (rejections)", "No"}},
    {"Circuit breaker",
     "retry-storm-outage",
     "breaker",
     "api",
     "clients",
     "stop hammering failing deps",
     {"No", "No", "Yes (fast-fail)", "No"}},
    {"Queueing / load shedding",
     "retry-storm-outage",
     "shed",
     "api",
     "clients",
     "ingress protection",
     {"Yes (shapes bursts)", "No", "Yes", "No"}},
    {"Sharding/partitioning",
     "field-guide/lock-storm",
     "sharded",
     "zk",
     "workers",
     "locks, hot keys",
     {"Yes (reduces domain)", "No", "No", "No"}},
};
#define NROWS (sizeof rows / sizeof rows[0])

static const char *const columns[] = {"breaks synchronization?", "reduces duplicate work?",
                                      "adds latency?", "risks correctness?"};

static double fig(const struct herd_report *r, const char *comp, const char *name)
{
    char path[128];
    double v = NAN;
    const char *w;
    snprintf(path, sizeof path, "components.%s.%s", comp, name);
    herd_fleet_figure(r, path, &v, &w);
    return v;
}

/* Copies served stale and older than their bound, over every cache of run @p r. */
static void staleness(const struct herd_report *r, double *stale, double *too_old)
{
    *stale = *too_old = 0;
    const struct herd_fleet_figures *f = r->fleet;
    for (int i = 0; f && i < f->ncomps; i++)
        if (f->comps[i].kind && strcmp(f->comps[i].kind, "cache") == 0) {
            *stale += (double)f->comps[i].stale;
            *too_old += (double)f->comps[i].too_old;
        }
}

static bool seed_yes(const char *s)
{
    return strncmp(s, "Yes", 3) == 0 || strncmp(s, "Indirectly", 10) == 0;
}

/* One cell: the figure naive → technique, the verdict and the seed's. */
static json_t *cell(const char *figure, double naive, double tech, bool yes, const char *seed,
                    const char *text)
{
    bool agrees = yes == seed_yes(seed);
    json_t *c = json_pack("{s:s, s:s, s:s, s:b, s:s}", "figure", figure, "verdict",
                          yes ? "yes" : "no", "seed", seed, "agrees", agrees, "text", text);
    json_object_set_new(c, "naive", isfinite(naive) ? json_real(naive) : json_null());
    json_object_set_new(c, "technique", isfinite(tech) ? json_real(tech) : json_null());
    return c;
}

static void fmt(char *buf, size_t len, double v, bool time)
{
    if (!isfinite(v))
        snprintf(buf, len, "-");
    else if (time)
        snprintf(buf, len, v >= 1 ? "%.2f s" : "%.1f ms", v >= 1 ? v : v * 1e3);
    else if (v >= 1e6)
        snprintf(buf, len, "%.2f M", v / 1e6);
    else if (v >= 1e4)
        snprintf(buf, len, "%.0f k", v / 1e3);
    else
        snprintf(buf, len, "%.0f", v);
}

static json_t *measure(const struct row *w, uint64_t seed, char *err, size_t errlen)
{
    char path[4096];
    struct herd_fleet_file *f;
    if (herd_fleet_find(w->file, path, sizeof path) < 0) {
        snprintf(err, errlen, "compare: %s.yaml is not found", w->file);
        return NULL;
    }
    if (herd_fleet_file_load(path, &f, err, errlen) < 0)
        return NULL;
    struct herd_report r[2];
    const char *names[2] = {"naive", w->strategy};
    int ok = 0;
    for (; ok < 2; ok++)
        if (herd_sim_fleet_run_named(f, names[ok], seed, &r[ok], err, errlen) < 0)
            break;
    json_t *o = NULL;
    if (ok == 2) {
        const char *work = strcmp(w->herd, "zk") == 0 ? "coord_requests" : "attempts";
        double peak[2], att[2], p99[2], stale[2], old[2];
        for (int k = 0; k < 2; k++) {
            peak[k] = fig(&r[k], w->herd, "peak_rate");
            att[k] = fig(&r[k], w->herd, work);
            p99[k] = fig(&r[k], w->clients, "p99");
            staleness(&r[k], &stale[k], &old[k]);
        }
        char a[32], b[32], text[160];
        json_t *cells = json_array();
        fmt(a, sizeof a, peak[0], false), fmt(b, sizeof b, peak[1], false);
        snprintf(text, sizeof text, "peak %s/s → %s/s (%.1f×)", a, b, peak[0] / peak[1]);
        json_array_append_new(cells, cell("components.herd.peak_rate", peak[0], peak[1],
                                          peak[0] >= 2 * peak[1], w->seed[0], text));
        fmt(a, sizeof a, att[0], false), fmt(b, sizeof b, att[1], false);
        snprintf(text, sizeof text, "%s %s → %s (%.1f×)", work, a, b, att[0] / att[1]);
        json_array_append_new(cells,
                              cell(work, att[0], att[1], att[0] >= 1.5 * att[1], w->seed[1], text));
        fmt(a, sizeof a, p99[0], true), fmt(b, sizeof b, p99[1], true);
        snprintf(text, sizeof text, "p99 %s → %s", a, b);
        json_array_append_new(
            cells, cell("clients.p99", p99[0], p99[1], p99[1] > 1.2 * p99[0], w->seed[2], text));
        snprintf(text, sizeof text, "%.0f stale serves, %.0f past their bound", stale[1], old[1]);
        json_array_append_new(cells, cell("caches.stale", stale[0], stale[1] + old[1],
                                          stale[1] + old[1] > 0, w->seed[3], text));
        char cmd[2][256];
        snprintf(cmd[0], sizeof cmd[0], "herd run %s --mode naive --seed %llu --format json",
                 w->file, (unsigned long long)seed);
        snprintf(cmd[1], sizeof cmd[1],
                 "herd run %s --mode mitigated --mitigation %s --seed %llu --format json", w->file,
                 w->strategy, (unsigned long long)seed);
        o = json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:[s,s], s:o}", "technique", w->technique,
                      "use", w->use, "file", w->file, "strategy", w->strategy, "herd", w->herd,
                      "clients", w->clients, "commands", cmd[0], cmd[1], "cells", cells);
    }
    for (int k = 0; k < ok; k++)
        herd_report_fini(&r[k]);
    herd_fleet_file_free(f);
    return o;
}

void *herd_compare_run(uint64_t seed, const char *constraint, char *err, size_t errlen)
{
    if (constraint && strcmp(constraint, "no-stale") != 0) {
        snprintf(err, errlen, "--constraint: '%s' is not allowed; allowed: no-stale", constraint);
        return NULL;
    }
    json_t *o = json_object(), *rs = json_array(), *cols = json_array();
    for (size_t i = 0; i < sizeof columns / sizeof columns[0]; i++)
        json_array_append_new(cols, json_string(columns[i]));
    json_object_set_new(o, "columns", cols);
    json_object_set_new(o, "seed", json_integer((json_int_t)seed));
    for (size_t i = 0; i < NROWS; i++) {
        json_t *r = measure(&rows[i], seed, err, errlen);
        if (!r) {
            json_decref(rs);
            json_decref(o);
            return NULL;
        }
        json_array_append_new(rs, r);
    }
    json_object_set_new(o, "rows", rs);
    if (constraint) {
        /* The seed's question: no stale data, extra latency on a miss allowed. The rows
         * whose measured risk is none; of them, the one that cuts the most duplicate work,
         * and the one that cuts the peak most. */
        json_t *allowed = json_array();
        const json_t *work = NULL, *sync = NULL;
        double best_w = 0, best_s = 0;
        size_t i;
        json_t *r;
        json_array_foreach(rs, i, r)
        {
            json_t *cells = json_object_get(r, "cells");
            if (strcmp(json_string_value(json_object_get(json_array_get(cells, 3), "verdict")),
                       "yes") == 0)
                continue;
            json_array_append_new(allowed,
                                  json_string(json_string_value(json_object_get(r, "technique"))));
            for (int c = 0; c < 2; c++) {
                json_t *x = json_array_get(cells, (size_t)c);
                double n = json_number_value(json_object_get(x, "naive")),
                       t = json_number_value(json_object_get(x, "technique"));
                double gain = t > 0 ? n / t : 0;
                if (c == 1 && gain > best_w)
                    best_w = gain, work = r;
                if (c == 0 && gain > best_s)
                    best_s = gain, sync = r;
            }
        }
        json_t *ans = json_pack("{s:s, s:o}", "constraint", constraint, "allowed", allowed);
        if (work)
            json_object_set_new(ans, "cuts_duplicate_work",
                                json_pack("{s:s, s:f}", "technique",
                                          json_string_value(json_object_get(work, "technique")),
                                          "factor", best_w));
        if (sync)
            json_object_set_new(ans, "breaks_synchronization",
                                json_pack("{s:s, s:f}", "technique",
                                          json_string_value(json_object_get(sync, "technique")),
                                          "factor", best_s));
        json_object_set_new(o, "answer", ans);
    }
    return o;
}
