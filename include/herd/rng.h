/* herd/rng.h — seeded, splittable pseudo-random numbers.
 *
 * libherd never calls rand() or reads a clock: every random decision takes a
 * struct herd_rng the caller owns. The generator is xoshiro256** (Blackman and
 * Vigna, 2018) seeded through splitmix64, which is fast (about 1 ns a draw), has
 * 256 bits of state, and passes BigCrush. herd_rng_stream() derives independent
 * streams from one run seed and a stream id, so a simulator can give each entity
 * its own stream and adding one entity does not reshuffle the draws of the others.
 *
 * Seed new instances that are not meant to be reproducible with
 * herd_rng_seed_secure() (getrandom), never from wall-clock seconds: a fleet
 * started in the same second would otherwise share its "random" jitter.
 *
 * Thread safety: a struct herd_rng is one caller's state; do not share it.
 */
#ifndef HERD_RNG_H
#define HERD_RNG_H

#include <stdint.h>

struct herd_rng {
    uint64_t s[4];
};

/** Seed @p rng deterministically from @p seed (any value, 0 included). */
void herd_rng_seed(struct herd_rng *rng, uint64_t seed);

/** Seed @p rng as stream @p stream of run seed @p seed: streams are independent. */
void herd_rng_stream(struct herd_rng *rng, uint64_t seed, uint64_t stream);

/** Seed @p rng from the kernel's secure source. @return 0 or a negated errno. */
int herd_rng_seed_secure(struct herd_rng *rng);

/** The next 64 random bits. */
uint64_t herd_rng_u64(struct herd_rng *rng);

/** Uniform in [0, 1), 53 bits of precision. */
double herd_rng_uniform(struct herd_rng *rng);

/** Uniform in (0, 1]: safe to take the logarithm of. */
double herd_rng_uniform_pos(struct herd_rng *rng);

/** Uniform integer in [0, bound). Unbiased (Lemire's method). @p bound 0: 0. */
uint64_t herd_rng_below(struct herd_rng *rng, uint64_t bound);

/** Uniform int64 in [lo, hi] (lo > hi: in [hi, lo]). */
int64_t herd_rng_range(struct herd_rng *rng, int64_t lo, int64_t hi);

/** Exponentially distributed with the given mean. */
double herd_rng_exp(struct herd_rng *rng, double mean);

/** Normal(mean, sd) by the Box-Muller transform (no cached second draw: stateless). */
double herd_rng_normal(struct herd_rng *rng, double mean, double sd);

/**
 * Exponentially distributed with the given mean, by the ziggurat method (Marsaglia and
 * Tsang, 2000; 256 layers, tables in src/lib/rng_zig_int.h). Same distribution as
 * herd_rng_exp() but not the same draws: 97.8 % of calls cost one u64 and a multiply,
 * the rest a second u64 and an exp() (or, beyond 7.7 means, 1 call in 2,200, another
 * round). Measured here: 5.7 ns a call against 10.6 ns for herd_rng_exp(). It consumes a variable
 * number of u64s (one, nearly always), so a stream's later draws depend on it: deterministic for a
 * given seed, on every platform (the tables are exact hex constants). Resolution: 53 bits per layer
 * (a layer's width / 2^53), not the 2^-53 of a log.
 */
double herd_rng_exp_fast(struct herd_rng *rng, double mean);

/**
 * Normal(mean, sd) by the ziggurat method (as herd_rng_exp_fast: 98.5 % of calls one
 * u64 and a multiply; the tail beyond 3.65 sd by Marsaglia's two-logarithm method).
 * Measured here: 7.3 ns a call against 34 ns for Box-Muller's log, sqrt and cos. Same distribution
 * as herd_rng_normal(), different draws; deterministic for a given seed.
 */
double herd_rng_normal_fast(struct herd_rng *rng, double mean, double sd);

/** 64-bit mix of @p x (splitmix64's finaliser): a stable hash for ids and splay. */
uint64_t herd_hash64(uint64_t x);

/** Stable 64-bit hash of @p len bytes at @p p (FNV-1a folded through herd_hash64). */
uint64_t herd_hash_bytes(const void *p, uint64_t len);

#endif
