/* metrics.c — counters behind GET /metrics (Prometheus text exposition format 0.0.4).
 *
 * Label sets follow the web contract: runs and latency by {scenario, backend, mode};
 * wakes by {scenario, mode, outcome}, origin load by {scenario, mode} (both backends
 * summed, as the contract names them). Every runnable label set is printed from the
 * start, at 0, so a rate() over a fresh server has a baseline. The latency histogram is
 * the waiters' latency from the trigger (DESIGN §1) in seconds — simulated seconds for
 * sim runs — with each report histogram bucket counted at its midpoint, the value
 * herd's own percentiles report.
 */
#include "metrics.h"

#include <herd/error.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const double le_ns[HERD_METRICS_LAT_BUCKETS] = {
    1e3, 2.5e3, 5e3,   1e4, 2.5e4, 5e4,   1e5, 2.5e5, 5e5,   1e6, 2.5e6,
    5e6, 1e7,   2.5e7, 5e7, 1e8,   2.5e8, 5e8, 1e9,   2.5e9, 5e9, 1e10,
};

static const char *const backend_names[2] = {"live", "sim"};
static const char *const mode_names[2] = {"naive", "mitigated"};

int herd__metrics_init(struct herd_metrics *m)
{
    memset(m, 0, sizeof *m);
    while (herd_scenarios[m->nscenarios])
        m->nscenarios++;
    m->cells = calloc(m->nscenarios * 4, sizeof *m->cells);
    if (!m->cells)
        return -HERD_ENOMEM;
    pthread_mutex_init(&m->mu, NULL);
    return 0;
}

void herd__metrics_fini(struct herd_metrics *m)
{
    if (!m->cells)
        return;
    pthread_mutex_destroy(&m->mu);
    free(m->cells);
    m->cells = NULL;
}

static struct herd_metrics_cell *cell(struct herd_metrics *m, size_t sc, int backend, int mode)
{
    return &m->cells[(sc * 2 + (size_t)backend) * 2 + (size_t)mode];
}

static int bucket_of(double ns)
{
    int b = 0;
    while (b < HERD_METRICS_LAT_BUCKETS && ns > le_ns[b])
        b++;
    return b;
}

void herd__metrics_run(struct herd_metrics *m, const struct herd_report *r)
{
    const struct herd_scenario *found = herd_scenario_find(r->run.scenario);
    if (!found || (size_t)found->id >= m->nscenarios)
        return;
    size_t sc = (size_t)found->id;
    /* Fold the report's 7,424 buckets into ours outside the lock. */
    uint64_t lat[HERD_METRICS_LAT_BUCKETS + 1] = {0};
    const struct herd_hist *h = &r->latency;
    for (int i = 0; h->count && i < HERD_HIST_BUCKETS; i++) {
        if (!h->counts[i])
            continue;
        double mid = ((double)herd_hist_bucket_lo(i) + (double)herd_hist_bucket_hi(i)) / 2;
        lat[bucket_of(mid)] += h->counts[i];
    }
    pthread_mutex_lock(&m->mu);
    struct herd_metrics_cell *c =
        cell(m, sc, strcmp(r->backend, "live") == 0 ? 0 : 1, r->run.naive ? 0 : 1);
    c->runs++;
    c->outcome[HERD_OUT_USEFUL] += r->useful;
    c->outcome[HERD_OUT_SERVED] += r->served;
    c->outcome[HERD_OUT_WASTED] += r->wasted;
    c->outcome[HERD_OUT_FAILED] += r->failed;
    c->outcome[HERD_OUT_IDLE] += r->idle;
    c->origin_load += r->origin_load;
    for (int b = 0; b <= HERD_METRICS_LAT_BUCKETS; b++)
        c->lat[b] += lat[b];
    c->lat_count += h->count;
    c->lat_sum_ns += h->sum;
    pthread_mutex_unlock(&m->mu);
}

void herd__metrics_http(struct herd_metrics *m, unsigned code)
{
    if (code >= 600)
        return;
    pthread_mutex_lock(&m->mu);
    m->http[code]++;
    pthread_mutex_unlock(&m->mu);
}

static bool runnable(const struct herd_scenario *sc, int backend)
{
    return sc->backends & (backend == 0 ? HERD_BACKEND_LIVE : HERD_BACKEND_SIM);
}

static void render(struct herd_metrics *m, FILE *f)
{
    fputs("# HELP herd_runs_total Runs finished, by scenario, backend and mode.\n"
          "# TYPE herd_runs_total counter\n",
          f);
    for (size_t s = 0; s < m->nscenarios; s++)
        for (int b = 0; b < 2; b++)
            for (int md = 0; md < 2 && runnable(herd_scenarios[s], b); md++)
                fprintf(f, "herd_runs_total{scenario=\"%s\",backend=\"%s\",mode=\"%s\"} %llu\n",
                        herd_scenarios[s]->name, backend_names[b], mode_names[md],
                        (unsigned long long)cell(m, s, b, md)->runs);

    fputs("# HELP herd_reactions_total Waiters' reactions to the trigger by outcome class "
          "(docs/glossary.md: useful, served, wasted, failed; idle counts waiter-events "
          "without one); live and sim summed.\n"
          "# TYPE herd_reactions_total counter\n",
          f);
    for (size_t s = 0; s < m->nscenarios; s++)
        for (int md = 0; md < 2; md++)
            for (int o = 0; o < HERD_OUT_COUNT; o++) {
                uint64_t v = cell(m, s, 0, md)->outcome[o] + cell(m, s, 1, md)->outcome[o];
                fprintf(f,
                        "herd_reactions_total{scenario=\"%s\",mode=\"%s\",outcome=\"%s\"} "
                        "%llu\n",
                        herd_scenarios[s]->name, mode_names[md],
                        herd_outcome_name((enum herd_outcome)o), (unsigned long long)v);
            }

    fputs("# HELP herd_origin_load_total Operations that reached the contended resource; "
          "live and sim summed.\n"
          "# TYPE herd_origin_load_total counter\n",
          f);
    for (size_t s = 0; s < m->nscenarios; s++)
        for (int md = 0; md < 2; md++)
            fprintf(f, "herd_origin_load_total{scenario=\"%s\",mode=\"%s\"} %llu\n",
                    herd_scenarios[s]->name, mode_names[md],
                    (unsigned long long)(cell(m, s, 0, md)->origin_load +
                                         cell(m, s, 1, md)->origin_load));

    fputs("# HELP herd_run_latency_seconds Waiters' latency from the trigger (simulated "
          "seconds on sim).\n"
          "# TYPE herd_run_latency_seconds histogram\n",
          f);
    for (size_t s = 0; s < m->nscenarios; s++)
        for (int b = 0; b < 2; b++)
            for (int md = 0; md < 2 && runnable(herd_scenarios[s], b); md++) {
                const struct herd_metrics_cell *c = cell(m, s, b, md);
                char labels[128];
                snprintf(labels, sizeof labels, "scenario=\"%s\",backend=\"%s\",mode=\"%s\"",
                         herd_scenarios[s]->name, backend_names[b], mode_names[md]);
                uint64_t cum = 0;
                for (int k = 0; k < HERD_METRICS_LAT_BUCKETS; k++) {
                    cum += c->lat[k];
                    fprintf(f, "herd_run_latency_seconds_bucket{%s,le=\"%g\"} %llu\n", labels,
                            le_ns[k] / 1e9, (unsigned long long)cum);
                }
                fprintf(f, "herd_run_latency_seconds_bucket{%s,le=\"+Inf\"} %llu\n", labels,
                        (unsigned long long)c->lat_count);
                fprintf(f, "herd_run_latency_seconds_sum{%s} %.9g\n", labels, c->lat_sum_ns / 1e9);
                fprintf(f, "herd_run_latency_seconds_count{%s} %llu\n", labels,
                        (unsigned long long)c->lat_count);
            }

    fputs("# HELP herd_http_requests_total HTTP responses sent, by status code.\n"
          "# TYPE herd_http_requests_total counter\n",
          f);
    for (unsigned code = 100; code < 600; code++)
        if (m->http[code])
            fprintf(f, "herd_http_requests_total{code=\"%u\"} %llu\n", code,
                    (unsigned long long)m->http[code]);
}

char *herd__metrics_render(struct herd_metrics *m, size_t *len)
{
    char *text = NULL;
    FILE *f = open_memstream(&text, len);
    if (!f)
        return NULL;
    pthread_mutex_lock(&m->mu);
    render(m, f);
    pthread_mutex_unlock(&m->mu);
    if (fclose(f) != 0) {
        free(text);
        return NULL;
    }
    return text;
}
