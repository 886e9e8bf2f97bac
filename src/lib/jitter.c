/* jitter.c — ± percent, uniform window, stable splay; see herd/jitter.h.
 * Invariants: every result lies in the documented range for every input the asserts
 * allow, int64 extremes included (the arithmetic saturates instead of overflowing).
 * Cost: one rng draw (Lemire's bounded draw) or one FNV-1a pass over the id plus two
 * 64-bit mixes. Pure apart from the caller's rng. */
#include <herd/jitter.h>

#include <assert.h>
#include <math.h>

/* High 64 bits of a 64×64-bit product, in portable C (no __int128): the splay scales
 * a 64-bit hash h to [0, w) as floor(h·w / 2^64), which unlike h % w has no visible
 * modulo bias even for windows near 2^63. */
static uint64_t mul_hi64(uint64_t a, uint64_t b)
{
    uint64_t a_lo = a & 0xffffffffu, a_hi = a >> 32;
    uint64_t b_lo = b & 0xffffffffu, b_hi = b >> 32;
    uint64_t lo_lo = a_lo * b_lo;
    uint64_t hi_lo = a_hi * b_lo;
    uint64_t lo_hi = a_lo * b_hi;
    uint64_t hi_hi = a_hi * b_hi;
    uint64_t cross = (lo_lo >> 32) + (hi_lo & 0xffffffffu) + lo_hi;
    return hi_hi + (hi_lo >> 32) + (cross >> 32);
}

static int64_t sat_add(int64_t a, int64_t b)
{
    if (b > 0 && a > INT64_MAX - b)
        return INT64_MAX;
    if (b < 0 && a < INT64_MIN - b)
        return INT64_MIN;
    return a + b;
}

int64_t herd_jitter_pct(int64_t value, double pct, struct herd_rng *rng)
{
    /* No randomness: no jitter. A pct out of range is clamped (NaN: 0). */
    if (!rng)
        return value;
    pct = pct > 100.0 ? 100.0 : pct >= 0.0 ? pct : 0.0;
    double dd = floor(fabs((double)value) * pct / 100.0);
    /* (double)INT64_MAX rounds up to 2^63, so compare with >= before converting. */
    int64_t d = dd >= 9223372036854775807.0 ? INT64_MAX : (int64_t)dd;
    int64_t lo = sat_add(value, -d);
    int64_t hi = sat_add(value, d);
    return herd_rng_range(rng, lo, hi);
}

int64_t herd_jitter_window(int64_t window_ns, struct herd_rng *rng)
{
    if (!rng || window_ns <= 1)
        return 0;
    return (int64_t)herd_rng_below(rng, (uint64_t)window_ns);
}

int64_t herd_jitter_splay(const void *id, size_t len, int64_t window_ns, uint64_t salt)
{
    if (!id)
        len = 0; /* the empty id */
    if (window_ns <= 0)
        return 0;
    /* The salt goes through its own mix (with a constant so salt 0 is not the identity)
     * before it meets the id's hash, then the pair is mixed again: ids that differ in
     * one byte, or salts that differ by one, land on unrelated offsets. */
    uint64_t h =
        herd_hash64(herd_hash_bytes(id, len) ^ herd_hash64(salt + UINT64_C(0x9e3779b97f4a7c15)));
    return (int64_t)mul_hi64(h, (uint64_t)window_ns);
}

int64_t herd_jitter_next_fire(int64_t now_ns, int64_t period_ns, int64_t offset_ns)
{
    if (period_ns <= 0)
        return INT64_MAX; /* no period: never */
    offset_ns %= period_ns;
    if (offset_ns < 0)
        offset_ns += period_ns;
    int64_t x = now_ns - offset_ns;
    int64_t k = x / period_ns;
    if (x % period_ns != 0 && x < 0)
        k--; /* floor division for times before the epoch */
    int64_t t = k * period_ns + offset_ns;
    if (t <= now_ns)
        t += period_ns;
    return t;
}
