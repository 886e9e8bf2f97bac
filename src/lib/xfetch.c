/* xfetch.c — XFetch's early-refresh decision; see herd/xfetch.h.
 *
 * Cost: one herd_rng_uniform_pos() draw and one log() when the entry is valid and
 * XFetch is on; herd_xfetch_begin() adds one singleflight begin (and a release when
 * it joined) only after a "refresh" draw. No state, no allocation, no lock of its own.
 */
#include <herd/xfetch.h>

#include <assert.h>
#include <herd/error.h>
#include <math.h>

bool herd_xfetch_should_refresh(int64_t now_ns, int64_t expiry_ns, int64_t delta_ns, double beta,
                                struct herd_rng *rng)
{
    if (now_ns >= expiry_ns)
        return true;
    if (!(beta > 0.0) || delta_ns <= 0 || !rng)
        return false; /* no randomness (NULL rng): no early refresh */
    /* U in (0, 1] so ln(U) is finite and <= 0: the gap is >= 0 and pushes "now" later.
     * Comparing the gap with tau in doubles avoids overflowing int64 when U is tiny. */
    double gap = -(double)delta_ns * beta * log(herd_rng_uniform_pos(rng));
    return gap >= (double)(expiry_ns - now_ns);
}

double herd_xfetch_probability(int64_t tau_ns, int64_t delta_ns, double beta)
{
    if (tau_ns <= 0)
        return 1.0;
    if (!(beta > 0.0) || delta_ns <= 0)
        return 0.0;
    return exp(-(double)tau_ns / ((double)delta_ns * beta));
}

void herd_xfetch_key_store(struct herd_xfetch_key *k, int64_t started_ns, int64_t done_ns,
                           int64_t expiry_ns)
{
    if (!k)
        return;
    k->delta_ns = done_ns > started_ns ? done_ns - started_ns : 0;
    k->expiry_ns = expiry_ns;
}

bool herd_xfetch_key_should_refresh(const struct herd_xfetch_key *k, int64_t now_ns, double beta,
                                    struct herd_rng *rng)
{
    assert(k);
    return herd_xfetch_should_refresh(now_ns, k->expiry_ns, k->delta_ns, beta, rng);
}

int herd_xfetch_begin(struct herd_singleflight *sf, const void *key, size_t keylen,
                      int64_t now_ns, int64_t expiry_ns, int64_t delta_ns, double beta,
                      struct herd_rng *rng, struct herd_singleflight_ticket *t)
{
    assert(sf);
    if (!t)
        return -HERD_EINVAL;
    if (!herd_xfetch_should_refresh(now_ns, expiry_ns, delta_ns, beta, rng))
        return HERD_XFETCH_SERVE;
    int role = herd_singleflight_begin(sf, key, keylen, now_ns, t);
    if (role == HERD_SINGLEFLIGHT_LEADER)
        return HERD_XFETCH_LEAD;
    if (role == HERD_SINGLEFLIGHT_JOINED) {
        /* Someone is already refreshing: the value in hand is still valid, so do not
         * wait for theirs. */
        herd_singleflight_release(sf, t);
        return HERD_XFETCH_SERVE;
    }
    return role;
}
