/* traces.h — herd detect's validation set: traces the simulator writes of every herd
 * scenario and of organic traffic, in process (the records herd run --trace writes, handed
 * straight to a struct herd_detect_input), and the synchronizers each scenario's naive run
 * may rightly be called. Shared by tests/detect/test_detect.c (small traces, a bound) and
 * bench/bench_detect.c (>= 200 traces of each kind, the figures).
 *
 * Where a scenario stacks two synchronizers the set holds both (cascade-abc: a cache
 * stampede whose misses time out and retry; lock-herd: workers that start at one cron
 * boundary and are then woken together; token-refresh: a fleet deployed at once at a
 * round time whose refresh period is one hour, which in the trace is an hourly boundary;
 * feature-flags: config pushes modelled as every instance's 20 s timer sharing one phase,
 * a refresh period or a notify-all, then an lb restart).
 * Header-only, for tests and benchmarks.
 */
#ifndef HERD_TESTS_DETECT_TRACES_H
#define HERD_TESTS_DETECT_TRACES_H

#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "../../src/detect/detect.h"
#include "../../src/report/report.h"
#include "../../src/scenario/file.h"
#include "../../src/scenario/scenario.h"
#include "../../src/sim/sim.h"

#define SYNC(x) (1u << HERD_DETECT_SYNC_##x)

struct trace_case {
    const char *name;    /* a catalogue scenario, or a file under the source root */
    int64_t n, events;   /* 0: the scenario's defaults */
    const char *sets[6]; /* --set KEY=VALUE, NULL-terminated */
    unsigned expect;     /* SYNC(...) bits; 0: organic */
    int cost;            /* rough seconds per run (bench: fewer seeds for the slow ones) */
};

/* The mapping of a simulated request's status to what detect reads. */
static inline enum herd_detect_status trace_status(enum herd_req_status s)
{
    switch (s) {
    case HERD_REQ_OK:
        return HERD_DETECT_OK;
    case HERD_REQ_ERROR:
        return HERD_DETECT_ERROR;
    case HERD_REQ_TIMEOUT:
        return HERD_DETECT_TIMEOUT;
    case HERD_REQ_REJECTED:
        return HERD_DETECT_REJECTED;
    case HERD_REQ_HIT:
        return HERD_DETECT_HIT;
    case HERD_REQ_MISS:
        return HERD_DETECT_MISS;
    case HERD_REQ_NSTATUS:
        break;
    }
    return HERD_DETECT_OK;
}

struct trace_sink {
    struct herd_detect_input *in;
    int rc;
};

static inline void trace_record(void *ctx, int64_t t_ns, uint64_t client, uint64_t key,
                                enum herd_req_status status)
{
    struct trace_sink *s = ctx;
    char k[32];
    int klen = key ? snprintf(k, sizeof k, "key-%llu", (unsigned long long)(key - 1)) : 0;
    if (s->rc == 0)
        s->rc = herd_detect_add(s->in, t_ns, (int64_t)client, key ? k : NULL, (size_t)klen,
                                trace_status(status));
}

/*
 * Simulate case @p c's naive run with @p seed and read its requests into @p in (initialised
 * by the caller) with the window [0, the run's simulated end], as herd run --trace and
 * herd detect do. @p root: the source tree (for files). @return 0, or a negative code with
 * one line in @p err.
 */
static inline int trace_run(const struct trace_case *c, const char *root, uint64_t seed,
                            struct herd_detect_input *in, char *err, size_t errlen)
{
    struct herd_fleet_file *file = NULL;
    const struct herd_scenario *sc = herd_scenario_find(c->name);
    int rc;
    if (!sc) {
        char path[4096];
        snprintf(path, sizeof path, "%s/%s", root, c->name);
        if ((rc = herd_fleet_file_load(path, &file, err, errlen)) < 0)
            return rc;
        sc = herd_fleet_file_scenario(file);
    }
    struct herd_run_spec spec;
    herd_spec_init(&spec, sc);
    spec.seed = seed;
    if (c->n > 0)
        spec.n = c->n;
    if (c->events > 0)
        spec.events = c->events;
    for (int i = 0; i < 6 && c->sets[i]; i++)
        if ((rc = herd_spec_set(&spec, c->sets[i], err, errlen)) < 0)
            goto out;
    struct trace_sink sink = {in, 0};
    struct herd_request_sink rs = {trace_record, &sink};
    struct herd_sim_hooks hooks = {.requests = &rs};
    struct herd_report r;
    if ((rc = herd_sim_run_hooks(&spec, NULL, &hooks, &r, err, errlen)) < 0)
        goto out;
    in->has_window = true;
    in->win_lo = 0;
    in->win_hi = r.sim_time_ns > 0 ? r.sim_time_ns : 1;
    herd_report_fini(&r);
    rc = sink.rc;
    if (rc < 0)
        snprintf(err, errlen, "recording the trace: out of memory");
out:
    herd_fleet_file_free(file);
    return rc;
}

#endif
