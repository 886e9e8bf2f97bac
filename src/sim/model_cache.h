/* model_cache.h — the cache-stampede herd's simulation model, for its tests.
 *
 * herd__sim_cache (sim_int.h) is the front door's entry; this header adds the same run
 * with a trace hook, so a test can diff a fixed-seed run against a golden trace.
 * Thread safety: runs share nothing.
 */
#ifndef HERD_SIM_MODEL_CACHE_H
#define HERD_SIM_MODEL_CACHE_H

#include <stddef.h>

#include "engine.h"
#include "sim_int.h"

/**
 * Simulate @p spec (scenario "cache") into @p r (initialised by the caller, backend
 * "sim"). When @p hooks has a trace it is called (borrowed) for
 * every dispatched engine event AND for every request the model serves inside a
 * batch (kinds "req.hit", "req.stale", "req.miss", ...; entity = requester index),
 * in simulated-time order (engine events carry their argument: for cache.* events the
 * requester's slot, its rank by phase in the event; req.* lines the requester index).
 * @return 0 or a negative code with one line in @p err.
 */
int herd__sim_cache_run_hooked(const struct herd_run_spec *spec, const struct herd_profile *prof,
                               struct herd_report *r, const struct herd_sim_hooks *hooks,
                               char *err, size_t errlen);

#endif
