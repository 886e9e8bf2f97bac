/* herd/throttle.h — client-side adaptive throttling (Google SRE book, chapter 21).
 *
 * The "protect" family of herd fixes. When a backend is overloaded and rejects work,
 * its clients keep sending, and rejecting still costs it. Each client therefore keeps,
 * over the last two minutes,
 *     requests: requests the application asked to send (including the ones this
 *               throttle then rejected locally),
 *     accepts:  requests the backend accepted,
 * and rejects a new request locally with probability
 *
 *     p = max(0, (requests − K · accepts) / (requests + 1)).
 *
 * While the backend accepts at least 1/K of what is asked, p is 0 and nothing changes.
 * Beyond that, a client keeps sending about K times what the backend accepts: enough
 * to notice at once when it recovers, little enough that rejecting the excess is cheap.
 * K = 2 is the book's default; smaller K (1.1) throttles harder, larger K lets more
 * through.
 *
 * Counting locally rejected requests in `requests` is the book's definition ("the
 * number of requests attempted by the application layer"), and it is what this module
 * does. It is what bounds the load: with demand D per window and a backend that
 * accepts C, p settles at (D − K·C)/(D + 1), so the client sends about K·C + 1 per
 * window however large D grows. Counting only the requests sent would instead settle
 * where s·(s + 1) = D·(K·C + 1), i.e. near √(D·K·C): the load on a struggling backend
 * would keep growing with demand. The price is that after the backend recovers, p decays
 * only as old counts leave the window (up to two minutes); meanwhile the K·accepts term
 * lets through enough to learn of the recovery and the accepts it earns lower p.
 *
 * Each allow() computes p from the counts BEFORE it, then counts itself as a request
 * (GO or not). Call record() once for each request that went out: accepted = the
 * backend did the work (any answer other than an overload/quota rejection). The window
 * is kept in buckets rolled forward by now_ns: a count leaves it between
 * window − window/B and window after it was made.
 *
 * The feedback assumes rejections come from overload, so that sending less lets the
 * backend accept a larger share. A backend that refuses a FIXED share of requests
 * whatever the load (a bad quota, a bug) and accepts less than 1/K of them drives p
 * towards 1: the client then sends almost nothing until the window forgets. Classify
 * only overload and quota refusals as not accepted.
 *
 * Time and randomness are arguments. A now_ns earlier than one already seen counts as
 * the latest one seen. allow() draws one uniform from the caller's rng only when p > 0.
 * Cost: one mutex and O(1) work per call (rolling touches each elapsed bucket once); an
 * allow+record pair is about 20–26 ns uncontended and 40–90 ns with two threads on one
 * throttle on a 2-core VM (bench_throttle). Allocation only in herd_throttle_new().
 * Thread-safe: one throttle is meant to be shared by all the threads talking to one
 * backend; each thread passes its own rng.
 */
#ifndef HERD_THROTTLE_H
#define HERD_THROTTLE_H

#include <stdbool.h>
#include <stdint.h>

#include <herd/alloc.h>
#include <herd/rng.h>

#define HERD_THROTTLE_K_DEFAULT 2.0
#define HERD_THROTTLE_WINDOW_DEFAULT_NS INT64_C(120000000000) /* the book's 2 minutes */
#define HERD_THROTTLE_BUCKETS_DEFAULT 24                      /* 5 s each */
#define HERD_THROTTLE_MAX_BUCKETS 65536

struct herd_throttle;

struct herd_throttle_config {
    double k;                           /* >= 1; 0: 2.0 */
    int64_t window_ns;                  /* >= buckets; 0: 2 min */
    uint32_t buckets;                   /* 1 .. HERD_THROTTLE_MAX_BUCKETS; 0: 24 */
    const struct herd_allocator *alloc; /* borrowed, must outlive the throttle; NULL: libc */
};

enum herd_throttle_verdict {
    HERD_THROTTLE_GO = 0,               /* send it, then record() the answer */
    HERD_THROTTLE_REJECT_THROTTLED = 1, /* rejected locally: the backend is rejecting a lot */
};

struct herd_throttle_stats {
    uint64_t allowed;          /* GO verdicts */
    uint64_t throttled;        /* local rejects: the one reject reason */
    uint64_t accepted;         /* record(accepted = true) */
    uint64_t backend_rejected; /* record(accepted = false) */
    uint64_t window_requests;  /* counts in the window as of the stats call */
    uint64_t window_accepts;
    double probability; /* p for the next allow() */
};

/**
 * Create a throttle with empty counts. @p cfg may be NULL for the defaults.
 * @return 0 with it in @p *out; -HERD_EINVAL (k < 1 or NaN, window_ns < buckets, too many buckets);
 *         -HERD_ENOMEM; or a negated errno when the mutex could not be made.
 */
int herd_throttle_new(const struct herd_throttle_config *cfg, struct herd_throttle **out);

/** Free @p t (NULL is fine); no thread may be inside a call. */
void herd_throttle_free(struct herd_throttle *t);

/**
 * Should a request asked for at @p now_ns be sent? Counts it as a request either way.
 * @p rng is the caller's (not shared between threads).
 * @return HERD_THROTTLE_GO or HERD_THROTTLE_REJECT_THROTTLED (also, counting nothing, for
 *         a NULL @p rng: herd/error.h).
 */
enum herd_throttle_verdict herd_throttle_allow(struct herd_throttle *t, int64_t now_ns,
                                               struct herd_rng *rng);

/** The backend answered a sent request at @p now_ns: @p accepted unless it refused it
 *  for overload or quota. */
void herd_throttle_record(struct herd_throttle *t, int64_t now_ns, bool accepted);

/** Copy the counters into @p out, with the window rolled to @p now_ns. */
void herd_throttle_stats(struct herd_throttle *t, int64_t now_ns, struct herd_throttle_stats *out);

/** The book's formula: max(0, (@p requests − @p k · @p accepts) / (@p requests + 1)). */
double herd_throttle_probability(double requests, double accepts, double k);

/** "go", "throttled"; "?" otherwise. */
const char *herd_throttle_verdict_name(enum herd_throttle_verdict v);

#endif
