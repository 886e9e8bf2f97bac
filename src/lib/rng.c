/* rng.c — xoshiro256** with splitmix64 seeding; see herd/rng.h.
 * Cost: a draw is four shifts, a rotate and a multiply (about 1 ns). */
#include <herd/rng.h>

#include <errno.h>
#include <math.h>
#include <sys/random.h>

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

uint64_t herd_rng_u64(struct herd_rng *rng)
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

double herd_rng_uniform(struct herd_rng *rng)
{
    return (double)(herd_rng_u64(rng) >> 11) * 0x1.0p-53;
}

double herd_rng_uniform_pos(struct herd_rng *rng)
{
    return (double)((herd_rng_u64(rng) >> 11) + 1) * 0x1.0p-53;
}

uint64_t herd_rng_below(struct herd_rng *rng, uint64_t bound)
{
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
    for (uint64_t i = 0; i < len; i++) {
        h ^= b[i];
        h *= UINT64_C(0x100000001b3);
    }
    return herd_hash64(h ^ len);
}
