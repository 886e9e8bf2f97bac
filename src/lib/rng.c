/* rng.c — xoshiro256** with splitmix64 seeding; see herd/rng.h.
 * Cost: a draw is four shifts, a rotate and a multiply (about 1 ns); the samplers below
 * use next() inline rather than the exported herd_rng_u64() so a ziggurat draw stays a
 * few ns. Thread safety: a struct herd_rng is one caller's; the tables are constant. */
#include <herd/rng.h>

#include <errno.h>
#include <math.h>
#include <sys/random.h>

#include "rng_zig_int.h"

static uint64_t splitmix64(uint64_t *x)
{
    uint64_t z = (*x += UINT64_C(0x9e3779b97f4a7c15));
    z = (z ^ (z >> 30)) * UINT64_C(0xbf58476d1ce4e5b9);
    z = (z ^ (z >> 27)) * UINT64_C(0x94d049bb133111eb);
    return z ^ (z >> 31);
}

static inline uint64_t rotl(uint64_t x, int k)
{
    return (x << k) | (x >> (64 - k));
}

void herd_rng_seed(struct herd_rng *rng, uint64_t seed)
{
    uint64_t x = seed;
    for (int i = 0; i < 4; i++)
        rng->s[i] = splitmix64(&x);
}

void herd_rng_stream(struct herd_rng *rng, uint64_t seed, uint64_t stream)
{
    /* Mixing the stream id through a different odd constant before seeding keeps
     * stream k of seed s unrelated to stream k+1 and to seed s+1. */
    herd_rng_seed(rng, herd_hash64(seed) ^ herd_hash64(stream * UINT64_C(0xd1b54a32d192ed03) + 1));
}

int herd_rng_seed_secure(struct herd_rng *rng)
{
    uint64_t seed;
    ssize_t got = getrandom(&seed, sizeof seed, 0);
    if (got != (ssize_t)sizeof seed)
        return got < 0 ? -errno : -EIO;
    herd_rng_seed(rng, seed);
    return 0;
}

static inline uint64_t next(struct herd_rng *rng)
{
    uint64_t *s = rng->s;
    uint64_t result = rotl(s[1] * 5, 7) * 9;
    uint64_t t = s[1] << 17;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = rotl(s[3], 45);
    return result;
}

uint64_t herd_rng_u64(struct herd_rng *rng)
{
    return next(rng);
}

double herd_rng_uniform(struct herd_rng *rng)
{
    return (double)(next(rng) >> 11) * 0x1.0p-53;
}

double herd_rng_uniform_pos(struct herd_rng *rng)
{
    return (double)((next(rng) >> 11) + 1) * 0x1.0p-53;
}

uint64_t herd_rng_below(struct herd_rng *rng, uint64_t bound)
{
    if (bound == 0)
        return 0; /* an empty interval: the contract's defined value (herd/error.h) */
    /* Lemire, "Fast random integer generation in an interval" (2019). */
    unsigned __int128 m = (unsigned __int128)herd_rng_u64(rng) * bound;
    uint64_t low = (uint64_t)m;
    if (low < bound) {
        uint64_t threshold = -bound % bound;
        while (low < threshold) {
            m = (unsigned __int128)herd_rng_u64(rng) * bound;
            low = (uint64_t)m;
        }
    }
    return (uint64_t)(m >> 64);
}

int64_t herd_rng_range(struct herd_rng *rng, int64_t lo, int64_t hi)
{
    if (lo > hi) {
        int64_t t = lo;
        lo = hi;
        hi = t;
    }
    uint64_t span = (uint64_t)hi - (uint64_t)lo;
    if (span == UINT64_MAX)
        return (int64_t)herd_rng_u64(rng);
    return (int64_t)((uint64_t)lo + herd_rng_below(rng, span + 1));
}

double herd_rng_exp(struct herd_rng *rng, double mean)
{
    return -mean * log(herd_rng_uniform_pos(rng));
}

double herd_rng_normal(struct herd_rng *rng, double mean, double sd)
{
    double u1 = herd_rng_uniform_pos(rng);
    double u2 = herd_rng_uniform(rng);
    return mean + sd * sqrt(-2.0 * log(u1)) * cos(2.0 * 3.14159265358979323846 * u2);
}

/* ---- ziggurat (Marsaglia and Tsang, 2000) -----------------------------------------
 * One u64 gives the layer i (its low 8 bits), for the normal the sign (bit 8), and a
 * uniform u in [0, 1) (its top 53 bits: disjoint from the others). x = u * x[i] is a
 * uniform point across layer i's box; when x < x[i+1] the point is under the density
 * whatever its height, which is the fast path. Otherwise, for i >= 1, the point lies in
 * the wedge between the two edges and is accepted when a uniform height in
 * [f(x[i]), f(x[i+1])] falls below f(x); for i = 0 it lies beyond r and the draw is
 * taken from the tail. A rejection starts over with a fresh u64. Every layer has the
 * same area, so choosing one uniformly and a point uniformly within it is a point
 * uniform under f: x has density proportional to f. */

double herd_rng_exp_fast(struct herd_rng *rng, double mean)
{
    double shift = 0; /* the tail of an exponential is r + another exponential */
    for (;;) {
        uint64_t b = next(rng);
        unsigned i = (unsigned)(b & (ZIG_N - 1));
        double x = (double)(b >> 11) * 0x1.0p-53 * zig_exp_x[i];
        if (x < zig_exp_x[i + 1])
            return mean * (shift + x);
        if (i == 0) {
            shift += ZIG_EXP_R;
            continue;
        }
        double y = zig_exp_f[i] + herd_rng_uniform(rng) * (zig_exp_f[i + 1] - zig_exp_f[i]);
        if (y < exp(-x))
            return mean * (shift + x);
    }
}

double herd_rng_normal_fast(struct herd_rng *rng, double mean, double sd)
{
    for (;;) {
        uint64_t b = next(rng);
        unsigned i = (unsigned)(b & (ZIG_N - 1));
        double sign = (b & ZIG_N) ? -1.0 : 1.0;
        double x = (double)(b >> 11) * 0x1.0p-53 * zig_normal_x[i];
        if (x < zig_normal_x[i + 1])
            return mean + sd * sign * x;
        if (i == 0) {
            /* The tail beyond r (Marsaglia, 1964): x = r + a with a ~ Exp(r), accepted
             * with probability exp(-a^2 / 2), i.e. when Exp(1) > a^2 / 2. */
            double a, e;
            do {
                a = -log(herd_rng_uniform_pos(rng)) / ZIG_NORMAL_R;
                e = -log(herd_rng_uniform_pos(rng));
            } while (e + e < a * a);
            return mean + sd * sign * (ZIG_NORMAL_R + a);
        }
        double y =
            zig_normal_f[i] + herd_rng_uniform(rng) * (zig_normal_f[i + 1] - zig_normal_f[i]);
        if (y < exp(-0.5 * x * x))
            return mean + sd * sign * x;
    }
}

uint64_t herd_hash64(uint64_t x)
{
    x ^= x >> 30;
    x *= UINT64_C(0xbf58476d1ce4e5b9);
    x ^= x >> 27;
    x *= UINT64_C(0x94d049bb133111eb);
    x ^= x >> 31;
    return x;
}

uint64_t herd_hash_bytes(const void *p, uint64_t len)
{
    const unsigned char *b = p;
    uint64_t h = UINT64_C(0xcbf29ce484222325);
    if (!p)
        len = 0; /* NULL: the empty key */
    for (uint64_t i = 0; i < len; i++) {
        h ^= b[i];
        h *= UINT64_C(0x100000001b3);
    }
    return herd_hash64(h ^ len);
}
