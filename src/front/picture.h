/* picture.h — the field guide's five pictures (seed 000's [IMAGE] notes), drawn as SVG
 * from runs of its scenario files (scenarios/field-guide/), never by hand.
 *
 *   stampede    the cache-stampede timeline: requests, misses, database load and
 *               repopulation at the flush and at the TTL boundary, and a second panel of
 *               retries aligning under uniform timeouts (cache-stampede)
 *   retry-wave  synchronized retries as periodic spikes, jitter turning them into a band
 *               (retry-after-500s)
 *   leader      the layered herd of a leader failure: elections, watch notifications,
 *               reconnects/retries and downstream goodput, naive vs randomized election
 *               timeouts, annotated where they help (leader-failover)
 *   cascade     the call chain with the load multiplied per hop, without and with retry
 *               budgets, and where a budget or breaker cuts the loop (cascade-abc)
 *   dashboard   a herd-detection dashboard filled from a run: request rate and its burst
 *               edge, errors and retries, saturation, latency, the periodicity found in
 *               the arrivals (retry-after-500s)
 *
 * Each SVG carries, in <metadata>, a JSON document with the runs that made it: per run its
 * strategy, the herd run command that reproduces it, and every series drawn (component,
 * series, first bucket, values); tests/cli/test_picture.sh checks the picture against
 * those runs. Thread safety: reentrant.
 */
#ifndef HERD_FRONT_PICTURE_H
#define HERD_FRONT_PICTURE_H

#include <stddef.h>
#include <stdint.h>

/** The pictures' names, NULL-terminated. */
const char *const *herd_picture_names(void);

/** One line on picture @p name, or NULL when there is no such picture. */
const char *herd_picture_help(const char *name);

/**
 * Draw picture @p name from runs with @p seed. @return the SVG document (the caller
 * frees; @p *len bytes), or NULL with one line in @p err (no such picture, a scenario
 * file missing or refused, a run failed, out of memory).
 */
char *herd_picture_svg(const char *name, uint64_t seed, size_t *len, char *err, size_t errlen);

#endif
