/* backoff.c — backoff waits with jitter, attempts and deadlines; see herd/backoff.h.
 *
 * Invariants of every wait returned (n = failures so far, B = the base in use, C = cap
 * or INT64_MAX, D = time left to the deadline):
 *   - kind NONE: 0, unless the server sent a Retry-After;
 *   - otherwise B <= wait, and wait <= C unless a Retry-After above C was honoured;
 *     except that under HERD_BACKOFF_FORMULA_AWS2015 FULL and EQUAL may wait less
 *     than B (0 <= wait), as the article's formulas do;
 *   - wait <= D (a drawn wait that does not fit gives up; a Retry-After is clamped to D,
 *     and gives up when D < B);
 *   - attempts never exceed max_attempts.
 * All arithmetic saturates: base * 2^n and 3 * previous never overflow int64.
 * Cost: one herd_rng_range() draw for the jittered kinds, integer arithmetic otherwise.
 * Pure apart from the caller's state and rng: no lock, no allocation.
 */
#include <herd/backoff.h>
#include <herd/error.h>

#include <assert.h>
#include <stdbool.h>

static int64_t sat_add(int64_t a, int64_t b)
{
    /* Both operands are >= 0 wherever this is used. */
    return a > INT64_MAX - b ? INT64_MAX : a + b;
}

/* min(cap, base * 2^shift) without overflow. */
static int64_t expo(int64_t base, int shift, int64_t cap)
{
    if (base == 0)
        return 0;
    if (shift >= 62 || base > (cap >> shift))
        return cap;
    return base << shift;
}

static int64_t effective_cap(const struct herd_backoff_policy *p)
{
    return p->cap_ns > 0 ? p->cap_ns : INT64_MAX;
}

/* A policy's fields are consistent (herd_backoff_init's documented ranges). */
static bool policy_ok(const struct herd_backoff_policy *p)
{
    return p->kind >= HERD_BACKOFF_NONE && p->kind <= HERD_BACKOFF_DECORRELATED &&
           p->base_ns >= 0 && p->throttle_base_ns >= 0 &&
           (p->cap_ns == 0 || (p->cap_ns >= p->base_ns && p->cap_ns >= p->throttle_base_ns)) &&
           p->max_attempts >= 0 && p->deadline_ns >= 0 && p->failure_deadline_ns >= 0 &&
           (p->formula == HERD_BACKOFF_FORMULA_HERD || p->formula == HERD_BACKOFF_FORMULA_AWS2015);
}

int herd_backoff_init(struct herd_backoff *b, const struct herd_backoff_policy *policy,
                      int64_t now_ns)
{
    if (!b || !policy || !policy_ok(policy))
        return -HERD_EINVAL;
    b->policy = policy;
    b->attempts = 0;
    b->stop = HERD_BACKOFF_GOING;
    b->start_ns = now_ns;
    b->first_failure_ns = now_ns;
    b->prev_wait_ns = 0;
    return 0;
}

int64_t herd_backoff_deadline(const struct herd_backoff *b)
{
    const struct herd_backoff_policy *p = b->policy;
    int64_t d = INT64_MAX;
    if (p->deadline_ns > 0)
        d = sat_add(b->start_ns, p->deadline_ns);
    if (p->failure_deadline_ns > 0 && b->attempts > 0) {
        int64_t f = sat_add(b->first_failure_ns, p->failure_deadline_ns);
        d = f < d ? f : d;
    }
    return d;
}

/* Brooker 2015's formulas verbatim, expo(n) = min(cap, base * 2^n), n >= 1 (the
 * simulator's backoff-occ preset reproduces the study with these). */
static int64_t draw_aws2015(struct herd_backoff *b, struct herd_rng *rng, int64_t base, int n,
                            int64_t cap)
{
    const struct herd_backoff_policy *p = b->policy;
    int64_t e = expo(base, n, cap);
    switch (p->kind) {
    case HERD_BACKOFF_NONE:
        return 0;
    case HERD_BACKOFF_CONSTANT:
        return base;
    case HERD_BACKOFF_EXPONENTIAL:
        return e;
    case HERD_BACKOFF_FULL:
        return herd_rng_range(rng, 0, e);
    case HERD_BACKOFF_EQUAL:
        return herd_rng_range(rng, e / 2, e);
    case HERD_BACKOFF_DECORRELATED: {
        int64_t prev = b->prev_wait_ns > base ? b->prev_wait_ns : base;
        int64_t hi = prev > INT64_MAX / 3 ? INT64_MAX : prev * 3;
        int64_t w = herd_rng_range(rng, base, hi);
        return w < cap ? w : cap;
    }
    }
    assert(!"unknown backoff kind");
    return base;
}

/* The policy's own wait after the n-th failure (n >= 1), before Retry-After and the
 * deadline are considered. */
static int64_t draw(struct herd_backoff *b, struct herd_rng *rng, int64_t base, int n)
{
    const struct herd_backoff_policy *p = b->policy;
    int64_t cap = effective_cap(p);
    int64_t e, lo;
    if (p->formula == HERD_BACKOFF_FORMULA_AWS2015)
        return draw_aws2015(b, rng, base, n, cap);
    switch (p->kind) {
    case HERD_BACKOFF_NONE:
        return 0;
    case HERD_BACKOFF_CONSTANT:
        return base;
    case HERD_BACKOFF_EXPONENTIAL:
        return expo(base, n - 1, cap);
    case HERD_BACKOFF_FULL:
        /* The envelope doubles from 2 base, so even the first retry has [base, 2 base] to
         * spread over; a cap equal to the base leaves nothing to spread (the caller asked
         * for a constant). */
        e = expo(base, n, cap);
        return herd_rng_range(rng, base, e);
    case HERD_BACKOFF_EQUAL:
        e = expo(base, n, cap);
        lo = e / 2 > base ? e / 2 : base;
        return herd_rng_range(rng, lo, e);
    case HERD_BACKOFF_DECORRELATED: {
        /* The previous wait may have used the other base (a throttle, then an error):
         * never let it pull the upper end below the current base. */
        int64_t prev = b->prev_wait_ns > base ? b->prev_wait_ns : base;
        int64_t hi = prev > INT64_MAX / 3 ? INT64_MAX : prev * 3;
        hi = hi < cap ? hi : cap;
        return herd_rng_range(rng, base, hi);
    }
    }
    assert(!"unknown backoff kind");
    return base;
}

int herd_backoff_next(struct herd_backoff *b, struct herd_rng *rng, int64_t now_ns,
                      enum herd_backoff_signal sig, int64_t retry_after_ns, int64_t *wait_ns)
{
    assert(b && b->policy);
    if (!rng || !wait_ns || (sig != HERD_BACKOFF_FAILED && sig != HERD_BACKOFF_THROTTLED) ||
        (retry_after_ns < 0 && retry_after_ns != HERD_BACKOFF_NO_RETRY_AFTER))
        return -HERD_EINVAL;
    const struct herd_backoff_policy *p = b->policy;
    if (b->stop != HERD_BACKOFF_GOING)
        return -HERD_EGIVEUP;

    if (b->attempts == 0)
        b->first_failure_ns = now_ns;
    if (b->attempts < INT32_MAX)
        b->attempts++;
    if (p->max_attempts > 0 && b->attempts >= p->max_attempts) {
        b->stop = HERD_BACKOFF_STOP_ATTEMPTS;
        return -HERD_EGIVEUP;
    }
    int64_t deadline = herd_backoff_deadline(b);
    if (now_ns >= deadline) {
        b->stop = HERD_BACKOFF_STOP_DEADLINE;
        return -HERD_EGIVEUP;
    }
    int64_t left = deadline == INT64_MAX ? INT64_MAX : deadline - now_ns;

    int64_t base = p->base_ns;
    if (sig == HERD_BACKOFF_THROTTLED && p->throttle_base_ns > 0)
        base = p->throttle_base_ns;
    if (p->kind == HERD_BACKOFF_NONE)
        base = 0;
    bool jittered = p->kind >= HERD_BACKOFF_FULL;

    int64_t w = draw(b, rng, base, b->attempts);
    /* Decorrelated jitter remembers its own draws, not the server's Retry-After. */
    b->prev_wait_ns = w;
    bool clamp = false;
    if (retry_after_ns != HERD_BACKOFF_NO_RETRY_AFTER) {
        /* Everyone the server turned away at once got the same Retry-After; the spread of
         * one base keeps them from coming back at one instant. */
        int64_t ra = retry_after_ns;
        if (jittered && base > 0)
            ra = sat_add(ra, herd_rng_range(rng, 0, base));
        if (ra >= w) {
            w = ra;
            clamp = true;
        }
    }
    if (w > left) {
        if (!clamp || left < base) {
            b->stop = HERD_BACKOFF_STOP_DEADLINE;
            return -HERD_EGIVEUP;
        }
        w = left;
    }
    *wait_ns = w;
    return 0;
}

const char *herd_backoff_kind_name(enum herd_backoff_kind kind)
{
    switch (kind) {
    case HERD_BACKOFF_NONE:
        return "none";
    case HERD_BACKOFF_CONSTANT:
        return "constant";
    case HERD_BACKOFF_EXPONENTIAL:
        return "exponential";
    case HERD_BACKOFF_FULL:
        return "full";
    case HERD_BACKOFF_EQUAL:
        return "equal";
    case HERD_BACKOFF_DECORRELATED:
        return "decorrelated";
    }
    return "unknown";
}
