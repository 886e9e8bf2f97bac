/* herd/jitter.h — spread a fleet's timers in time so they stop firing together.
 *
 * Three tools for the "cron at xx:00:00" family of herds:
 *   - herd_jitter_pct():    value ± pct %, uniform (TTLs, refresh intervals);
 *   - herd_jitter_window(): a fresh uniform delay in [0, window) at each firing
 *                           (the shell's `sleep $((RANDOM % 60))`);
 *   - herd_jitter_splay():  a STABLE offset in [0, window) from a hash of the caller's
 *                           id, the same at every firing and on every restart, as
 *                           systemd's RandomizedDelaySec= with FixedRandomDelay=yes
 *                           (which hashes the machine id and the timer's name).
 * A uniform draw forgets between firings, so one host may run twice in a row close
 * together; a splay keeps each host at its own phase, and a fleet of distinct ids still
 * covers the window evenly, because the hash spreads them as a uniform draw would.
 *
 * Nothing here reads a clock or sleeps: the caller passes randomness (a seeded
 * struct herd_rng, herd/rng.h) and does the waiting. Cost: one or two rng draws or one
 * hash of the id (a few ns plus ~1 ns per id byte); no allocation.
 * Thread safety: all functions are pure except for advancing the caller's rng, which
 * must not be shared between threads.
 */
#ifndef HERD_JITTER_H
#define HERD_JITTER_H

#include <stddef.h>
#include <stdint.h>

#include <herd/rng.h>

/**
 * @p value spread uniformly over [value − d, value + d], d = |value|·pct/100 rounded
 * down; both ends saturate at the int64 range. @p pct is clamped to [0, 100] (NaN: 0);
 * pct 0 returns @p value and still takes one draw, so a stream stays aligned whatever
 * the setting. A NULL @p rng returns @p value (no randomness, no jitter).
 */
int64_t herd_jitter_pct(int64_t value, double pct, struct herd_rng *rng);

/**
 * A fresh uniform delay in [0, @p window_ns). A window below 2 (negative included) or
 * a NULL @p rng returns 0 without drawing.
 */
int64_t herd_jitter_window(int64_t window_ns, struct herd_rng *rng);

/**
 * A stable offset in [0, @p window_ns) for the caller named by the @p len bytes at
 * @p id (a host name, a machine id plus a job name ...). The same id, window and
 * @p salt always give the same offset, on any machine and in any process; a different
 * @p salt (e.g. a per-fleet or per-job secret) re-deals every offset, so two jobs of one
 * host do not share a phase. A window <= 0 returns 0; a NULL @p id is the empty id.
 * The offset is the hash scaled by multiply-high, so it is unbiased to within
 * window/2^64.
 */
int64_t herd_jitter_splay(const void *id, size_t len, int64_t window_ns, uint64_t salt);

/**
 * When a periodic job with phase @p offset_ns in a period of @p period_ns fires next:
 * the smallest t = k·period + offset (k any integer) with t > @p now_ns; the offset is
 * taken modulo the period; a period <= 0 never fires (INT64_MAX). Times are whatever
 * clock the caller uses (CLOCK_REALTIME nanoseconds for a wall-clock schedule).
 */
int64_t herd_jitter_next_fire(int64_t now_ns, int64_t period_ns, int64_t offset_ns);

#endif
