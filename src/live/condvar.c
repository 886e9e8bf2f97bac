/* condvar.c — the condition-variable herd, live: N threads wait for one queued item.
 *
 * The caller's thread is the producer. Each event it queues one item stamped with
 * its enqueue time and wakes the waiters:
 *   primitive=pthread  naive "broadcast": pthread_cond_broadcast; mitigation "signal":
 *                      pthread_cond_signal. The queue is guarded by one mutex.
 *   primitive=futex    naive "futex-wake-all": FUTEX_WAKE of INT_MAX on a raw futex word;
 *                      mitigation "futex-wake-one": FUTEX_WAKE of 1. The item is a state
 *                      word taken with a compare-and-swap, so exactly one waiter wins.
 * (The catalogue names the strategies "broadcast" and "signal" for both primitives.)
 * What this machine does (glibc 2.36, Linux 6.x): signal and FUTEX_WAKE of 1 both hand
 * items out in FIFO order, the longest sleeper first, so successive items go round the
 * waiters (spread max/min 1.0); after a broadcast the winner is whoever runs first, and
 * the same few threads win again and again.
 *
 * What is counted, and what it means:
 *   wakes        returns from the wait (pthread_cond_wait returning; futex_wait returning
 *                0). A FUTEX_WAIT that fails with EAGAIN (the word moved before the thread
 *                slept) is not a wake and is counted apart as eagain.
 *   useful       items dequeued. wasted = wakes - useful: woke, found nothing, re-waited.
 *   origin_load  operations of the woken waiters on the contended resource: mutex
 *                acquisitions (every return from pthread_cond_wait holds the mutex) or
 *                CAS attempts on the item word (every woken futex waiter tries one).
 *   peak         waiters woken by the event: all of them are made runnable by the one
 *                wake call, so this is how many arrive at the resource at once. (Sampling
 *                /proc for "runnable at once" takes milliseconds per sweep of 1,000
 *                tasks, far slower than the herd; the kernel's own count for futex is
 *                reported as futex_woken.)
 *   latency      enqueue (the producer's clock read just before queueing) to the moment
 *                the winning waiter holds the item; one value per event.
 *   extras       kernel_switches: voluntary context switches of all waiters from the
 *                settled state before the event to the settled state after it (includes
 *                sleeps on the mutex, so it is >= wakes under contention), with its
 *                per-event median; involuntary_switches over the events; spurious
 *                (returns from the wait while no event was open, EINTR included); eagain;
 *                futex_woken (FUTEX_WAKE's return values); drain_us_median (enqueue until
 *                the last woken waiter is back in the wait); settle_timeouts.
 *
 * Invariant between events: every waiter is inside the wait (its in_wait flag is set)
 * and asleep in the kernel (herd__tasks_quiesce: all tasks sleeping, switch counts
 * still for 2 ms). So each event starts with all N waiting, and the counters the
 * producer reads after settling belong to that event alone.
 *
 * Timing must not disturb the herd (bench/probe_condvar.c is the reference: two
 * timestamps, nothing else). Between the trigger and the winner's stamp the producer
 * only sleeps, in 1 ms naps, and reads one word (taken) between them; the N waiters'
 * counters are summed only once the winner has its stamp (the drain), every /proc read
 * happens after the herd settled, and the watch is polled only outside that window. The next
 * trigger follows one wake of a private partner thread (warm_up) and 3 ms in 1 ms naps
 * (herd__tasks_cool says why). Read right before the trigger, the 11 ms sweep made
 * signal's p50 60-80 us where the probe measures 10-15.
 *
 * Cost: N threads with 128 KiB stacks and one open /proc status file each, plus the
 * warm-up's partner thread. Settling
 * reads N status files about once per event (~11 ms at N = 1,000 on the 2-vCPU VM) and
 * then waits 3 ms, which is what bounds the event rate, not the herd itself.
 *
 * Thread safety: one run at a time. Each waiter writes only its own cache-line-aligned
 * struct waiter (relaxed/release atomics); the producer reads them after settling. The
 * only words all waiters touch are the ones under test: the mutex and condvar, or the
 * futex word and the item word; besides them each event's winner bumps `taken` once,
 * after its stamp.
 */
#include "live_int.h"

#include <errno.h>
#include <herd/error.h>
#include <limits.h>
#include <linux/futex.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

/* How often the producer polls the waiters' flags while an event drains (after the winner
 * took the item): short enough not to add to the measured drain much, long enough to leave
 * the 2 cores to the herd. */
#define POLL_NS (50 * 1000)
/* The quiesce poll: two reads this far apart must agree. */
#define QUIESCE_POLL_NS (1000 * 1000)
/* The first settle waits for N threads to start: allow for slow spawning. */
#define FIRST_SETTLE_MIN_NS (INT64_C(5) * 1000000000)
/* Wake timestamps kept for the timeline (8 bytes each); beyond this they are counted as
 * timeline_dropped rather than allocated. */
#define WAKE_LOG_MAX (1u << 22)

enum primitive { PRIM_PTHREAD, PRIM_FUTEX };

struct herd_condvar;

/* One waiter's state; written by its thread, read by the producer. Aligned so that
 * counting does not add false sharing to the contention being measured. */
struct waiter {
    struct herd_condvar *cv; /* borrowed; outlives the thread */
    pthread_t th;
    bool spawned;
    _Atomic pid_t tid;
    atomic_int in_wait;      /* 1 while inside the wait call (set before, cleared after) */
    _Atomic uint64_t wakes;  /* returns from the wait (futex: rc 0) */
    _Atomic uint64_t useful; /* items dequeued */
    _Atomic uint64_t origin; /* mutex acquisitions on return / CAS attempts */
    _Atomic uint64_t spurious;
    _Atomic uint64_t eagain;
    _Atomic int64_t wake_ns;    /* last return from the wait */
    _Atomic int64_t rewait_ns;  /* last entry into the wait after a wake */
    _Atomic int64_t latency_ns; /* last item: enqueue -> dequeued */
} __attribute__((aligned(64)));

struct herd_condvar {
    enum primitive prim;
    bool wake_all;
    size_t n;
    struct waiter *w; /* n entries, owned */

    /* primitive=pthread: a queue of items (only its length and the head's stamp are
     * needed, as the producer queues one item per settled event). */
    pthread_mutex_t mu;
    pthread_cond_t cond;
    int64_t queued;  /* guarded by mu */
    int64_t head_ts; /* guarded by mu */

    /* primitive=futex */
    _Atomic uint32_t fword;  /* the futex word: bumped on every post */
    _Atomic uint32_t item;   /* 1: an item is there; taken by CAS 1 -> 0 */
    _Atomic int64_t item_ts; /* its enqueue stamp, written before item is published */

    atomic_int closing;    /* teardown: waiters leave their loop */
    atomic_int event_open; /* between enqueue and the end of settling */

    /* Items taken, bumped once by each winner after its latency stamp: the one word the
     * producer reads while the herd runs. Its own cache line, so those reads do not pull
     * the contended words' line (mutex, item, futex word) away from the waiters. */
    _Alignas(64) _Atomic uint64_t taken;
};

static long futex(_Atomic uint32_t *uaddr, int op, uint32_t val)
{
    return syscall(SYS_futex, (uint32_t *)uaddr, op, val, NULL, NULL, 0);
}

/* Bookkeeping after a return from the wait; the caller then tries to take the item. */
static void note_return(struct waiter *w, bool woke)
{
    struct herd_condvar *cv = w->cv;
    atomic_store_explicit(&w->in_wait, 0, memory_order_relaxed);
    /* The teardown's wake is not part of any event: it would mark every waiter as
     * woken. (pthread: closing is set under the mutex this return holds, so the check
     * is exact; futex: closing is stored before the wake.) */
    if (!woke || atomic_load(&cv->closing))
        return;
    atomic_store_explicit(&w->wake_ns, herd__now_ns(), memory_order_relaxed);
    atomic_fetch_add_explicit(&w->wakes, 1, memory_order_relaxed);
    if (!atomic_load_explicit(&cv->event_open, memory_order_relaxed))
        atomic_fetch_add_explicit(&w->spurious, 1, memory_order_relaxed);
}

/* Counters first, then the flag with release: a producer that sees in_wait == 1 with
 * acquire also sees this thread's counters for the event. */
static void note_wait(struct waiter *w, bool after_wake)
{
    if (after_wake)
        atomic_store_explicit(&w->rewait_ns, herd__now_ns(), memory_order_relaxed);
    atomic_store_explicit(&w->in_wait, 1, memory_order_release);
}

static void *pthread_waiter(void *arg)
{
    struct waiter *w = arg;
    struct herd_condvar *cv = w->cv;
    bool woke = false;

    atomic_store(&w->tid, herd__gettid());
    pthread_mutex_lock(&cv->mu);
    for (;;) {
        while (cv->queued == 0 && !atomic_load(&cv->closing)) {
            note_wait(w, woke);
            pthread_cond_wait(&cv->cond, &cv->mu);
            woke = true;
            note_return(w, true);
            /* The return holds the mutex: one acquisition at the contended resource. */
            atomic_fetch_add_explicit(&w->origin, 1, memory_order_relaxed);
        }
        if (atomic_load(&cv->closing))
            break;
        cv->queued--;
        atomic_store_explicit(&w->latency_ns, herd__now_ns() - cv->head_ts, memory_order_relaxed);
        atomic_fetch_add_explicit(&w->useful, 1, memory_order_relaxed);
        atomic_fetch_add_explicit(&cv->taken, 1, memory_order_release);
    }
    atomic_store_explicit(&w->in_wait, 0, memory_order_relaxed);
    pthread_mutex_unlock(&cv->mu);
    return NULL;
}

/* One CAS on the item word; the winner stamps the latency. */
static bool futex_take(struct waiter *w)
{
    struct herd_condvar *cv = w->cv;
    uint32_t expect = 1;
    atomic_fetch_add_explicit(&w->origin, 1, memory_order_relaxed);
    if (!atomic_compare_exchange_strong_explicit(&cv->item, &expect, 0, memory_order_acq_rel,
                                                 memory_order_relaxed))
        return false;
    int64_t ts = atomic_load_explicit(&cv->item_ts, memory_order_relaxed);
    atomic_store_explicit(&w->latency_ns, herd__now_ns() - ts, memory_order_relaxed);
    atomic_fetch_add_explicit(&w->useful, 1, memory_order_relaxed);
    atomic_fetch_add_explicit(&cv->taken, 1, memory_order_release);
    return true;
}

static void *futex_waiter(void *arg)
{
    struct waiter *w = arg;
    struct herd_condvar *cv = w->cv;
    bool woke = false;

    atomic_store(&w->tid, herd__gettid());
    for (;;) {
        /* Read the word before checking closing and the item: a post or a close after
         * this read changes the word, so FUTEX_WAIT returns EAGAIN instead of sleeping
         * through it. */
        uint32_t seen = atomic_load(&cv->fword);
        if (atomic_load(&cv->closing))
            break;
        /* Test before CAS: an item posted while this thread was awake (never the case
         * once settled, but correct in general). */
        if (atomic_load_explicit(&cv->item, memory_order_relaxed) && futex_take(w))
            continue;
        note_wait(w, woke);
        long rc = futex(&cv->fword, FUTEX_WAIT_PRIVATE, seen);
        int e = errno;
        note_return(w, rc == 0);
        woke = rc == 0;
        if (atomic_load(&cv->closing))
            break;
        if (rc == 0) {
            futex_take(w); /* a wake that loses the CAS is wasted: wakes - useful */
        } else if (e == EAGAIN) {
            atomic_fetch_add_explicit(&w->eagain, 1, memory_order_relaxed);
        } else {
            atomic_fetch_add_explicit(&w->spurious, 1, memory_order_relaxed); /* EINTR */
        }
    }
    atomic_store_explicit(&w->in_wait, 0, memory_order_relaxed);
    return NULL;
}

/* The producer's side of one event. @return FUTEX_WAKE's count (futex) or 0. */
static long post(struct herd_condvar *cv, int64_t t0)
{
    if (cv->prim == PRIM_PTHREAD) {
        pthread_mutex_lock(&cv->mu);
        cv->queued++;
        cv->head_ts = t0;
        pthread_mutex_unlock(&cv->mu);
        /* Wake after unlocking, so the woken contend with each other, not with the
         * producer still holding the mutex. */
        if (cv->wake_all)
            pthread_cond_broadcast(&cv->cond);
        else
            pthread_cond_signal(&cv->cond);
        return 0;
    }
    atomic_store_explicit(&cv->item_ts, t0, memory_order_relaxed);
    atomic_store_explicit(&cv->item, 1, memory_order_release);
    atomic_fetch_add(&cv->fword, 1);
    long woken = futex(&cv->fword, FUTEX_WAKE_PRIVATE, cv->wake_all ? INT_MAX : 1);
    return woken < 0 ? 0 : woken;
}

/* Closing flag + wake everyone; safe to call more than once. */
static void close_all(struct herd_condvar *cv)
{
    if (cv->prim == PRIM_PTHREAD) {
        pthread_mutex_lock(&cv->mu);
        atomic_store(&cv->closing, 1);
        pthread_mutex_unlock(&cv->mu);
        pthread_cond_broadcast(&cv->cond);
    } else {
        atomic_store(&cv->closing, 1);
        atomic_fetch_add(&cv->fword, 1);
        futex(&cv->fword, FUTEX_WAKE_PRIVATE, INT_MAX);
    }
}

/* The warm-up partner: a thread of the producer's own, asleep on a private condvar no
 * waiter uses (see warm_up). Not in the task set nor in needs(): if it cannot start, the
 * warm-up is skipped. */
struct warm {
    pthread_t th;
    pthread_mutex_t mu;
    pthread_cond_t cond;
    bool pending, closing; /* guarded by mu */
    bool made;             /* thread running, mu and cond initialised */
};

static void *warm_partner(void *arg)
{
    struct warm *wp = arg;
    pthread_mutex_lock(&wp->mu);
    while (!wp->closing) {
        if (wp->pending)
            wp->pending = false;
        else
            pthread_cond_wait(&wp->cond, &wp->mu);
    }
    pthread_mutex_unlock(&wp->mu);
    return NULL;
}

/* Wake the partner once, before the quiet period that precedes the trigger. The /proc
 * read after the last event evicts the wake path (futex, scheduler, the return from
 * pthread_cond_wait) from this CPU's caches, and signal's p50 was 3-5 us (~40%) above
 * bench/probe_condvar.c's, whose trigger follows the previous wake and a few ms of
 * quiet; this does the same wake on objects no waiter sees. */
static void warm_up(struct warm *wp)
{
    if (!wp->made) {
        if (pthread_mutex_init(&wp->mu, NULL) != 0)
            return;
        if (pthread_cond_init(&wp->cond, NULL) != 0 ||
            herd__thread_spawn(&wp->th, warm_partner, wp, 0) < 0) {
            pthread_cond_destroy(&wp->cond);
            pthread_mutex_destroy(&wp->mu);
            return;
        }
        wp->made = true;
    }
    pthread_mutex_lock(&wp->mu);
    wp->pending = true;
    pthread_mutex_unlock(&wp->mu);
    pthread_cond_signal(&wp->cond);
}

static void warm_stop(struct warm *wp)
{
    if (!wp->made)
        return;
    pthread_mutex_lock(&wp->mu);
    wp->closing = true;
    pthread_mutex_unlock(&wp->mu);
    pthread_cond_signal(&wp->cond);
    pthread_join(wp->th, NULL);
    pthread_cond_destroy(&wp->cond);
    pthread_mutex_destroy(&wp->mu);
    wp->made = false;
}

/* Sums over the waiters, read by the producer. */
struct totals {
    uint64_t wakes, useful, origin, spurious, eagain;
};

static void sum_totals(const struct herd_condvar *cv, struct totals *t)
{
    memset(t, 0, sizeof *t);
    for (size_t i = 0; i < cv->n; i++) {
        const struct waiter *w = &cv->w[i];
        t->wakes += atomic_load_explicit(&w->wakes, memory_order_relaxed);
        t->useful += atomic_load_explicit(&w->useful, memory_order_relaxed);
        t->origin += atomic_load_explicit(&w->origin, memory_order_relaxed);
        t->spurious += atomic_load_explicit(&w->spurious, memory_order_relaxed);
        t->eagain += atomic_load_explicit(&w->eagain, memory_order_relaxed);
    }
}

static size_t count_in_wait(const struct herd_condvar *cv)
{
    size_t k = 0;
    for (size_t i = 0; i < cv->n; i++)
        k += atomic_load_explicit(&cv->w[i].in_wait, memory_order_acquire) != 0;
    return k;
}

/* Poll until @p done(cv, arg) or the deadline, in a wait that times nothing (the start, a
 * drain). @return 0, -HERD_ETIMEDOUT, -HERD_EINTR. */
static int poll_until(struct herd_condvar *cv, bool (*done)(struct herd_condvar *, uint64_t),
                      uint64_t arg, int64_t deadline)
{
    for (;;) {
        if (done(cv, arg))
            return 0;
        if (herd__live_poll())
            return -HERD_EINTR;
        if (herd__now_ns() >= deadline)
            return -HERD_ETIMEDOUT;
        herd__sleep_ns(POLL_NS);
    }
}

static bool all_waiting(struct herd_condvar *cv, uint64_t unused)
{
    (void)unused;
    return count_in_wait(cv) == cv->n;
}

/* Wait for an event's winner: nap, then read the one word it bumps, until @p want items
 * were taken or the deadline. Nothing else runs here: the kernel often queues the winner
 * on this CPU, where it runs only once the producer sleeps, so any work (a scan of the
 * waiters' counters, a 50 us poll whose timer preempts it, a poll of the watch) is timed
 * as latency. @return 0, -HERD_ETIMEDOUT, -HERD_EINTR. */
static int await_winner(struct herd_condvar *cv, uint64_t want, int64_t deadline)
{
    for (;;) {
        herd__sleep_ns(HERD_NAP_NS);
        if (atomic_load_explicit(&cv->taken, memory_order_acquire) >= want)
            return 0;
        if (herd__live_stopping())
            return -HERD_EINTR;
        if (herd__now_ns() >= deadline)
            return -HERD_ETIMEDOUT;
    }
}

static bool wakes_reached(struct herd_condvar *cv, uint64_t want)
{
    struct totals t;
    sum_totals(cv, &t);
    return t.wakes >= want;
}

/* Settle after an event (or before the first): every waiter back inside the wait by its
 * flag, then asleep by the kernel's account. @p vol gets the waiters' voluntary switch
 * sum. @return 0, -HERD_ETIMEDOUT (figures may spill into the next event; counted),
 * -HERD_EINTR or a /proc read error. */
static int settle(struct herd_condvar *cv, struct herd_tasks *ts, int64_t deadline, uint64_t *vol)
{
    int rc = poll_until(cv, all_waiting, 0, deadline);
    if (rc < 0 && rc != -HERD_ETIMEDOUT)
        return rc;
    int64_t left = deadline - herd__now_ns();
    int qrc = herd__tasks_quiesce(ts, QUIESCE_POLL_NS, left > 0 ? left : 0, NULL, vol, NULL);
    if (qrc < 0)
        return qrc;
    if (rc < 0 || count_in_wait(cv) != cv->n)
        return -HERD_ETIMEDOUT;
    return 0;
}

/* Arrivals: the events' enqueue stamps (@p nev of them); wakes: every logged return. */
static void fill_timeline(struct herd_report *r, const int64_t *arrivals, size_t nev,
                          const struct herd_i64s *wakes, int64_t t_start, int64_t t_end)
{
    int64_t span = t_end - t_start + 1;
    int64_t bucket = herd_timeline_pick_bucket(span, 10 * 1000, 1000);
    size_t len = (size_t)(span / bucket) + 1;
    if (herd_report_timeline(r, bucket, len) < 0)
        return;
    int64_t *arr = herd_report_series(r, "arrivals");
    int64_t *wk = herd_report_series(r, "wakes");
    len = r->timeline.len;
    for (size_t i = 0; arr && i < nev; i++) {
        int64_t b = (arrivals[i] - t_start) / bucket;
        if (b >= 0 && (size_t)b < len)
            arr[b]++;
    }
    for (size_t i = 0; wk && i < wakes->n; i++) {
        int64_t b = (wakes->v[i] - t_start) / bucket;
        if (b >= 0 && (size_t)b < len)
            wk[b]++;
    }
}

static void needs(const struct herd_run_spec *spec, struct herd_live_needs *need)
{
    need->threads = spec->n + 1; /* + the warm-up partner */
    need->processes = 0;
    /* One /proc status file per waiter, plus a margin for the process's own. */
    need->fds = spec->n + 16;
}

/* Everything one run owns, so that one teardown frees it on every path. */
struct run {
    struct herd_condvar cv;
    struct herd_tasks ts; /* the waiters' /proc status files */
    bool sync_made;       /* mutex and condvar initialised */
    size_t spawned;       /* waiters started (and to be joined) */
    size_t events;
    int64_t settle_ns;
    uint64_t *seen_wakes, *seen_useful;      /* per waiter, after the previous event */
    double *ev_switch, *ev_drain, *ev_woken; /* per event */
    int64_t *ev_t0;                          /* per event: the enqueue stamp */
    size_t ndrain, nev;
    struct herd_i64s wake_log;
    struct totals before; /* waiter totals at the start of the event */
    uint64_t vol_before;  /* waiters' voluntary switches, settled */
    uint64_t invol_start, invol_end;
    uint64_t settle_timeouts, futex_woken;
    int64_t t_start, t_end; /* first enqueue, end of the last settle */
    struct warm warm;
};

static int setup(struct run *ru, char *err, size_t errlen)
{
    struct herd_condvar *cv = &ru->cv;
    size_t nev = ru->events ? ru->events : 1;
    int rc;

    cv->w = aligned_alloc(64, cv->n * sizeof *cv->w);
    ru->ev_switch = calloc(nev, sizeof *ru->ev_switch);
    ru->ev_drain = calloc(nev, sizeof *ru->ev_drain);
    ru->ev_woken = calloc(nev, sizeof *ru->ev_woken);
    ru->ev_t0 = calloc(nev, sizeof *ru->ev_t0);
    ru->seen_wakes = calloc(cv->n, sizeof *ru->seen_wakes);
    ru->seen_useful = calloc(cv->n, sizeof *ru->seen_useful);
    if (!cv->w || !ru->ev_switch || !ru->ev_drain || !ru->ev_woken || !ru->ev_t0 ||
        !ru->seen_wakes || !ru->seen_useful) {
        snprintf(err, errlen, "condvar: out of memory for %zu waiters", cv->n);
        return -HERD_ENOMEM;
    }
    memset(cv->w, 0, cv->n * sizeof *cv->w);
    if (cv->prim == PRIM_PTHREAD) {
        if ((rc = -pthread_mutex_init(&cv->mu, NULL)) < 0) {
            snprintf(err, errlen, "condvar: pthread_mutex_init: %s", strerror(-rc));
            return rc;
        }
        if ((rc = -pthread_cond_init(&cv->cond, NULL)) < 0) {
            pthread_mutex_destroy(&cv->mu);
            snprintf(err, errlen, "condvar: pthread_cond_init: %s", strerror(-rc));
            return rc;
        }
        ru->sync_made = true;
    }
    return 0;
}

/* Start the N waiters and wait until all are asleep inside the wait. */
static int start(struct run *ru, char *err, size_t errlen)
{
    struct herd_condvar *cv = &ru->cv;
    void *(*body)(void *) = cv->prim == PRIM_PTHREAD ? pthread_waiter : futex_waiter;
    int rc;

    for (; ru->spawned < cv->n; ru->spawned++) {
        struct waiter *w = &cv->w[ru->spawned];
        if (herd__live_poll())
            return -HERD_EINTR;
        w->cv = cv;
        rc = herd__thread_spawn(&w->th, body, w, 0);
        if (rc < 0) {
            snprintf(err, errlen, "condvar: could not start waiter %zu of %zu: %s", ru->spawned + 1,
                     cv->n, strerror(-rc));
            return rc;
        }
    }
    int64_t first = ru->settle_ns > FIRST_SETTLE_MIN_NS ? ru->settle_ns : FIRST_SETTLE_MIN_NS;
    rc = poll_until(cv, all_waiting, 0, herd__now_ns() + first);
    if (rc == -HERD_ETIMEDOUT)
        snprintf(err, errlen, "condvar: only %zu of %zu waiters reached the wait in %lld ms",
                 count_in_wait(cv), cv->n, (long long)(first / 1000000));
    if (rc < 0)
        return rc;
    for (size_t i = 0; i < cv->n; i++) {
        rc = herd__tasks_add(&ru->ts, getpid(), atomic_load(&cv->w[i].tid));
        if (rc < 0) {
            snprintf(err, errlen, "condvar: cannot open /proc status of waiter %zu: %s", i,
                     strerror(-rc));
            return rc;
        }
    }
    rc = settle(cv, &ru->ts, herd__now_ns() + first, &ru->vol_before);
    if (rc == -HERD_ETIMEDOUT) {
        ru->settle_timeouts++;
        rc = 0;
    }
    if (rc == 0)
        rc = herd__tasks_read(&ru->ts, NULL, NULL, &ru->invol_start, NULL);
    if (rc < 0 && rc != -HERD_EINTR)
        snprintf(err, errlen, "condvar: reading /proc task status: %s", herd_strerror(rc));
    sum_totals(cv, &ru->before);
    for (size_t i = 0; i < cv->n; i++) {
        ru->seen_wakes[i] = atomic_load_explicit(&cv->w[i].wakes, memory_order_relaxed);
        ru->seen_useful[i] = atomic_load_explicit(&cv->w[i].useful, memory_order_relaxed);
    }
    return rc;
}

/* Per waiter after an event settled: its reactions (useful: took the item; wasted: a
 * return from the wait that found nothing; idle: did not return) into @p ev and its
 * tile, who got the item (latency), who woke (timeline), how long the herd took to drain
 * (last woken waiter back in the wait). The counters are read here, after the settle,
 * and kept for the next event: nothing is read between the trigger and the winner. */
static int collect(struct run *ru, struct herd_report *r, int64_t t0, struct herd_event *ev)
{
    struct herd_condvar *cv = &ru->cv;
    int64_t last_rewait = 0;
    for (size_t i = 0; i < cv->n; i++) {
        struct waiter *w = &cv->w[i];
        uint64_t useful = atomic_load_explicit(&w->useful, memory_order_relaxed);
        uint64_t wakes = atomic_load_explicit(&w->wakes, memory_order_relaxed);
        uint64_t got = useful - ru->seen_useful[i], k = wakes - ru->seen_wakes[i];
        ru->seen_useful[i] = useful;
        ru->seen_wakes[i] = wakes;
        if (got)
            herd_hist_record(&r->latency,
                             atomic_load_explicit(&w->latency_ns, memory_order_relaxed));
        uint64_t lost = k > got ? k - got : 0;
        ev->useful += got;
        ev->wasted += lost;
        ev->idle += !got && !lost;
        ev->peak += k > 0;
        for (uint64_t j = 0; j < got; j++)
            herd_report_waiter(r, i, HERD_OUT_USEFUL);
        for (uint64_t j = 0; j < lost; j++)
            herd_report_waiter(r, i, HERD_OUT_WASTED);
        if (!got && !lost)
            herd_report_waiter(r, i, HERD_OUT_IDLE);
        if (k == 0)
            continue;
        /* A waiter keeps only its last wake time: a second wake in one event (spurious)
         * is logged at the same instant. */
        int64_t wt = atomic_load_explicit(&w->wake_ns, memory_order_relaxed);
        for (uint64_t j = 0; j < k; j++)
            if (herd__i64s_push(&ru->wake_log, wt, WAKE_LOG_MAX) < 0)
                return -HERD_ENOMEM;
        int64_t rw = atomic_load_explicit(&w->rewait_ns, memory_order_relaxed);
        if (rw > last_rewait)
            last_rewait = rw;
    }
    if (last_rewait > t0)
        ru->ev_drain[ru->ndrain++] = (double)(last_rewait - t0) / 1000.0;
    return 0;
}

/* One event: enqueue, wake, wait for the item to be taken and the herd to settle. */
static int one_event(struct run *ru, size_t e, struct herd_report *r, char *err, size_t errlen)
{
    struct herd_condvar *cv = &ru->cv;
    struct totals after;
    uint64_t vol_after = 0;
    int rc;

    /* Between the last /proc read and the trigger: see warm_up and herd__tasks_cool. */
    warm_up(&ru->warm);
    herd__tasks_cool(HERD_COOL_NS);
    atomic_store(&cv->event_open, 1);
    int64_t t0 = herd__now_ns();
    long woken = post(cv, t0);
    int64_t deadline = t0 + ru->settle_ns;

    /* The item must be taken: if it is not within settle_ms the run is broken, not
     * merely noisy. One item per event, so the e-th event's winner makes taken e + 1. */
    rc = await_winner(cv, (uint64_t)e + 1, deadline);
    if (rc == -HERD_ETIMEDOUT)
        snprintf(err, errlen,
                 "condvar: event %zu: the item was not dequeued within "
                 "settle_ms=%lld",
                 e + 1, (long long)(ru->settle_ns / 1000000));
    if (rc < 0)
        return rc;
    ru->ev_t0[e] = t0;
    ru->nev = e + 1;
    /* The winner has its stamp: from here on the producer may scan the N waiters (the
     * drain). futex: the kernel said how many it woke, and each of them returns 0 from
     * FUTEX_WAIT: an exact count to wait for before asking /proc. */
    if (woken > 0) {
        rc = poll_until(cv, wakes_reached, ru->before.wakes + (uint64_t)woken, deadline);
        if (rc == -HERD_EINTR)
            return rc;
    }
    rc = settle(cv, &ru->ts, deadline, &vol_after);
    if (rc == -HERD_ETIMEDOUT) {
        ru->settle_timeouts++;
        rc = 0;
    }
    if (rc < 0) {
        if (rc != -HERD_EINTR)
            snprintf(err, errlen, "condvar: reading /proc task status: %s", herd_strerror(rc));
        return rc;
    }
    atomic_store(&cv->event_open, 0);
    ru->t_end = herd__now_ns();

    sum_totals(cv, &after);
    /* peak: every waiter woken by the one wake call is runnable at once. */
    struct herd_event ev = {.origin_load = after.origin - ru->before.origin};
    if (collect(ru, r, t0, &ev) < 0 || herd_report_add_event(r, &ev) < 0)
        goto nomem;
    ru->ev_switch[e] = (double)(vol_after - ru->vol_before);
    ru->ev_woken[e] = (double)woken;
    ru->futex_woken += (uint64_t)woken;
    ru->vol_before = vol_after;
    ru->before = after;
    return 0;
nomem:
    snprintf(err, errlen, "condvar: out of memory");
    return -HERD_ENOMEM;
}

/* Closing flag + wake all, join every waiter started. Idempotent. */
static void stop(struct run *ru)
{
    close_all(&ru->cv);
    for (size_t i = 0; i < ru->spawned; i++)
        pthread_join(ru->cv.w[i].th, NULL);
    ru->spawned = 0;
    warm_stop(&ru->warm);
}

/* After stop(): the waiters' own figures are final. */
static int fill_report(struct run *ru, struct herd_report *r)
{
    struct herd_condvar *cv = &ru->cv;
    struct totals all;
    double switches = 0;
    uint64_t *per_useful = calloc(cv->n, sizeof *per_useful);
    if (!per_useful)
        return -HERD_ENOMEM;
    for (size_t i = 0; i < cv->n; i++)
        per_useful[i] = atomic_load(&cv->w[i].useful);
    herd_report_spread(r, per_useful, cv->n);
    free(per_useful);
    fill_timeline(r, ru->ev_t0, ru->nev, &ru->wake_log, ru->t_start, ru->t_end);

    sum_totals(cv, &all);
    for (size_t e = 0; e < ru->events; e++)
        switches += ru->ev_switch[e];
    herd_report_extra(r, "kernel_switches", switches);
    herd_report_extra(r, "kernel_switches_median", herd_median(ru->ev_switch, ru->events));
    herd_report_extra(r, "involuntary_switches", (double)(ru->invol_end - ru->invol_start));
    herd_report_extra(r, "spurious", (double)all.spurious);
    if (cv->prim == PRIM_FUTEX) {
        herd_report_extra(r, "eagain", (double)all.eagain);
        herd_report_extra(r, "futex_woken", (double)ru->futex_woken);
        herd_report_extra(r, "futex_woken_median", herd_median(ru->ev_woken, ru->events));
    }
    herd_report_extra(r, "drain_us_median", herd_median(ru->ev_drain, ru->ndrain));
    herd_report_extra(r, "settle_timeouts", (double)ru->settle_timeouts);
    if (ru->wake_log.dropped)
        herd_report_extra(r, "timeline_dropped", (double)ru->wake_log.dropped);
    return 0;
}

static int run(const struct herd_run_spec *spec, struct herd_report *r, char *err, size_t errlen)
{
    struct run ru = {0};
    int rc;

    const struct herd_condvar_config *cfg = &spec->cfg.condvar;
    switch (cfg->primitive) {
    case HERD_CONDVAR_PTHREAD:
        ru.cv.prim = PRIM_PTHREAD;
        break;
    case HERD_CONDVAR_FUTEX:
        ru.cv.prim = PRIM_FUTEX;
        break;
    }
    switch (cfg->strategy) {
    case HERD_CONDVAR_BROADCAST:
        ru.cv.wake_all = true;
        break;
    case HERD_CONDVAR_SIGNAL:
        ru.cv.wake_all = false;
        break;
    }
    ru.cv.n = (size_t)spec->n;
    ru.events = (size_t)spec->events;
    ru.settle_ns = cfg->settle_ns;
    herd__tasks_init(&ru.ts);

    if ((rc = setup(&ru, err, errlen)) < 0)
        goto out;
    if ((rc = start(&ru, err, errlen)) < 0)
        goto out_stop;
    ru.t_start = ru.t_end = herd__now_ns();
    for (size_t e = 0; e < ru.events; e++) {
        /* Between events: the previous one settled, the next one's warm-up and quiet
         * period have not begun (one_event). */
        if (herd__live_progress(e)) {
            rc = -HERD_EINTR;
            goto out_stop;
        }
        if ((rc = one_event(&ru, e, r, err, errlen)) < 0)
            goto out_stop;
    }
    if ((rc = herd__tasks_read(&ru.ts, NULL, NULL, &ru.invol_end, NULL)) < 0) {
        snprintf(err, errlen, "condvar: reading /proc task status: %s", herd_strerror(rc));
        goto out_stop;
    }
    stop(&ru);
    if ((rc = fill_report(&ru, r)) < 0)
        snprintf(err, errlen, "condvar: out of memory");

out_stop:
    stop(&ru);
out:
    herd__tasks_fini(&ru.ts);
    if (ru.sync_made) {
        pthread_cond_destroy(&ru.cv.cond);
        pthread_mutex_destroy(&ru.cv.mu);
    }
    free(ru.seen_wakes);
    free(ru.seen_useful);
    free(ru.ev_woken);
    free(ru.ev_drain);
    free(ru.ev_switch);
    free(ru.ev_t0);
    free(ru.wake_log.v);
    free(ru.cv.w);
    return rc;
}

const struct herd_live_scenario herd__live_condvar = {needs, run};
