/* herd/backoff.h — how long to wait before the next attempt, or whether to give up.
 *
 * A policy turns "attempt n failed at now" into "wait d ns" or "give up". It never
 * sleeps: the caller owns the clock and the waiting, so one policy serves a server, a
 * live experiment and the simulator alike.
 *
 * The jittered kinds follow Brooker, "Exponential Backoff And Jitter" (AWS Architecture
 * Blog, 2015), with two guarantees the article's formulas do not give on their own:
 *   - never sooner than the base: full jitter's U(0, e) is drawn over [base, e] instead
 *     (the article's draw conditioned on >= base), equal jitter's lower end is raised to
 *     base when e/2 < base, decorrelated jitter already starts at base;
 *   - no lock step on the first retry: the envelope after n failures is
 *     e(n) = min(cap, base * 2^n), so the first retry (n = 1) is spread over
 *     [base, 2 base] rather than pinned at base. Only the deliberately naive kinds
 *     (NONE, CONSTANT, EXPONENTIAL) retry in lock step; they exist to show the herd.
 * To reproduce the study itself, set the policy's formula to HERD_BACKOFF_FORMULA_AWS2015:
 * the article's formulas verbatim, with expo(n) = min(cap, base * 2^n) and n = failures
 * so far (from 1): EXPONENTIAL waits expo(n), FULL U[0, expo(n)] (possibly below the
 * base), EQUAL expo(n)/2 + U[0, expo(n)/2], DECORRELATED min(cap, U[base, 3 * sleep])
 * (the draw clamped to the cap, so sleeps pile up at the cap, where the default draws
 * U[base, min(cap, 3 * sleep)]). NONE and CONSTANT are the same under both.
 * A server's Retry-After is honoured (never retry sooner than it says), may exceed the
 * cap, and is clamped to the deadline. Throttling errors (HTTP 429/503 "slow down") can
 * use their own, larger base (the AWS SDKs use 100 ms and 500 ms).
 *
 * Deadlines: one counted from the start of the call (herd_backoff_init's now_ns) and
 * one counted from the first failure; either may be 0 (none). A drawn wait that would
 * end past the deadline gives up at once rather than being clamped to it: clamping would
 * pile every late client's retry onto the same instant, and the caller learns now that
 * no retry fits instead of after a useless wait.
 *
 * A backoff never consults a retry budget and a budget never switches backoff off
 * (herd/budget.h): ask the budget whether to retry, then wait what this says.
 *
 * Cost: at most one rng draw and a few integer operations (~10 ns); no allocation.
 * Thread safety: a policy is read-only after setup and may be shared by any number of
 * threads; a struct herd_backoff is one call's state and must not be shared.
 */
#ifndef HERD_BACKOFF_H
#define HERD_BACKOFF_H

#include <stdint.h>

#include <herd/rng.h>

/** Pass as retry_after_ns when the server sent no Retry-After. */
#define HERD_BACKOFF_NO_RETRY_AFTER INT64_C(-1)

enum herd_backoff_kind {
    HERD_BACKOFF_NONE = 0,     /* retry at once (0 ns): the naive herd; base/cap ignored */
    HERD_BACKOFF_CONSTANT,     /* base every time: lock step at a fixed period */
    HERD_BACKOFF_EXPONENTIAL,  /* min(cap, base * 2^(n-1)) exactly: lock step, spread out */
    HERD_BACKOFF_FULL,         /* U[base, e(n)]: least total work (AWS 2015) */
    HERD_BACKOFF_EQUAL,        /* U[max(base, e(n)/2), e(n)]: never much below e(n)/2 */
    HERD_BACKOFF_DECORRELATED, /* min(cap, U[base, 3 * previous wait]), previous = base at first */
};

/** Why herd_backoff_next() gave up (struct herd_backoff.stop). */
enum herd_backoff_stop {
    HERD_BACKOFF_GOING = 0,     /* not given up */
    HERD_BACKOFF_STOP_ATTEMPTS, /* max_attempts attempts were made */
    HERD_BACKOFF_STOP_DEADLINE, /* the deadline passed, or the next wait would end past it */
};

/** What the failed attempt said about itself. */
enum herd_backoff_signal {
    HERD_BACKOFF_FAILED = 0,    /* an ordinary retryable failure: use base_ns */
    HERD_BACKOFF_THROTTLED = 1, /* the server throttled us: use throttle_base_ns */
};

/** Which formulas EXPONENTIAL and the jittered kinds follow (see the file comment). */
enum herd_backoff_formula {
    HERD_BACKOFF_FORMULA_HERD = 0, /* the default: never below base, first retry spread */
    HERD_BACKOFF_FORMULA_AWS2015,  /* Brooker 2015 verbatim (reproducing the study) */
};

/** Read-only after setup; shareable between threads. Zero-initialise, then set. */
struct herd_backoff_policy {
    enum herd_backoff_kind kind;
    int64_t base_ns;             /* no wait is shorter (except kind NONE); >= 0 */
    int64_t cap_ns;              /* no drawn wait is longer; 0: no cap; else >= both bases */
    int64_t throttle_base_ns;    /* base after a THROTTLED failure; 0: base_ns */
    int max_attempts;            /* attempts in all, the first included; 0: unlimited */
    int64_t deadline_ns;         /* give up past start + this; 0: none */
    int64_t failure_deadline_ns; /* give up past first failure + this; 0: none */
    /* 0 (HERD): the guarded formulas; AWS2015: the article's, verbatim */
    enum herd_backoff_formula formula;
};

/** One call's retry state: caller-owned, not shared. Fields are read-only to callers. */
struct herd_backoff {
    const struct herd_backoff_policy *policy; /* borrowed; must outlive this */
    int attempts;                             /* failures reported so far (= attempts made) */
    enum herd_backoff_stop stop;              /* set when next() gives up */
    int64_t start_ns;                         /* when the first attempt began */
    int64_t first_failure_ns; /* when the first failure was reported; valid if attempts > 0 */
    int64_t prev_wait_ns;     /* last drawn wait (decorrelated jitter's memory) */
};

/**
 * Begin a retry sequence whose first attempt starts at @p now_ns. @p policy is
 * borrowed and must outlive @p b. A zeroed policy is valid (kind NONE: retry at once).
 * @return 0, or -HERD_EINVAL (nothing written) for a NULL @p b or @p policy (a backoff
 *         has no default policy) or inconsistent fields: base < 0, cap neither 0 nor
 *         >= base and >= throttle base, max_attempts or a deadline < 0, an unknown kind
 *         or formula (herd/error.h's contract).
 */
int herd_backoff_init(struct herd_backoff *b, const struct herd_backoff_policy *policy,
                      int64_t now_ns);

/**
 * An attempt failed at @p now_ns: how long to wait before the next one?
 * @p sig says whether the server throttled us (then throttle_base_ns is the base);
 * @p retry_after_ns is the server's Retry-After in ns from @p now_ns, or
 * HERD_BACKOFF_NO_RETRY_AFTER. Draws at most once from @p rng (borrowed, one thread).
 * A Retry-After wins over a shorter draw (jittered kinds add U[0, base] so a fleet told
 * the same Retry-After does not return in lock step), may exceed the cap, and is
 * clamped to end at the deadline.
 * @return 0 with the wait in @p *wait_ns; or -HERD_EGIVEUP (b->stop says why, and
 *         @p *wait_ns is not written) when max_attempts attempts were made, the deadline
 *         has passed, the drawn wait would end past it, or a Retry-After is to be
 *         clamped but less than the base is left. Once given up, it stays given up.
 *         -HERD_EINVAL for a NULL @p rng or @p wait_ns, an unknown @p sig, or a negative
 *         @p retry_after_ns other than HERD_BACKOFF_NO_RETRY_AFTER.
 */
int herd_backoff_next(struct herd_backoff *b, struct herd_rng *rng, int64_t now_ns,
                      enum herd_backoff_signal sig, int64_t retry_after_ns, int64_t *wait_ns);

/**
 * The absolute time past which @p b gives up (the earlier of its two deadlines), or
 * INT64_MAX when it has none (yet: the failure deadline starts at the first failure).
 * Callers may bound each attempt's own timeout by it.
 */
int64_t herd_backoff_deadline(const struct herd_backoff *b);

/** A short static name for @p kind ("full", "decorrelated" ...). Never NULL. */
const char *herd_backoff_kind_name(enum herd_backoff_kind kind);

#endif
