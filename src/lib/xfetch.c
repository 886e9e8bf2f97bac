/* xfetch.c — XFetch's early-refresh decision; see herd/xfetch.h.
 *
 * Cost: one herd_rng_uniform_pos() draw and one log() when the entry is valid and
 * XFetch is on; nothing else. No state, no allocation, no lock.
 */
#include <herd/xfetch.h>

#include <math.h>

bool herd_xfetch_should_refresh(int64_t now_ns, int64_t expiry_ns, int64_t delta_ns, double beta,
                                struct herd_rng *rng)
{
    if (now_ns >= expiry_ns)
        return true;
    if (!(beta > 0.0) || delta_ns <= 0)
        return false;
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
