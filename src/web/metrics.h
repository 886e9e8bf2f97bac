/* metrics.h — the counters GET /metrics serves, in the Prometheus text format.
 *
 * Runs by scenario/backend/mode, wakes by scenario/mode/outcome, origin load, the waiters'
 * latency as a Prometheus histogram (merged from each run's own histogram), and HTTP
 * responses by status code. Cost: one fixed table per server (scenarios × 2 backends ×
 * 2 modes cells), no allocation per run. Thread safety: every function takes the
 * struct's mutex; any thread may record while another renders.
 */
#ifndef HERD_WEB_METRICS_H
#define HERD_WEB_METRICS_H

#include <pthread.h>
#include <stddef.h>
#include <stdint.h>

#include "../report/report.h"
#include "../scenario/scenario.h"

/* Upper bounds (le) of the latency buckets, in ns: 1 µs to 10 s, 1-2.5-5 steps. */
#define HERD_METRICS_LAT_BUCKETS 22

struct herd_metrics_cell {
    uint64_t runs, origin_load;
    uint64_t outcome[HERD_OUT_COUNT]; /* reactions by outcome class (idle: waiter-events) */
    uint64_t lat[HERD_METRICS_LAT_BUCKETS + 1]; /* per bucket (not cumulative); last: +Inf */
    uint64_t lat_count;
    double lat_sum_ns;
};

struct herd_metrics {
    pthread_mutex_t mu;
    size_t nscenarios;
    struct herd_metrics_cell *cells; /* [scenario][backend: live, sim][mode] */
    uint64_t http[600];              /* responses by status code (100..599) */
};

/** @return 0 or -HERD_ENOMEM. */
int herd__metrics_init(struct herd_metrics *m);
void herd__metrics_fini(struct herd_metrics *m);

/** Count one finished run (its totals and its latency histogram). */
void herd__metrics_run(struct herd_metrics *m, const struct herd_report *r);

/** Count one HTTP response with status @p code. */
void herd__metrics_http(struct herd_metrics *m, unsigned code);

/** The whole exposition as malloc'd text (*len bytes), or NULL when out of memory. */
char *herd__metrics_render(struct herd_metrics *m, size_t *len);

#endif
