/* model_accept.c — the accept herd, simulated: N workers asleep on one listening socket,
 * a driver that connects E times, and P cores the woken workers share.
 *
 * It mirrors src/live/accept.c (read its header: the figures mean the same here).
 *
 * Mechanics, per connection c (all costs from the profile, see costs_of()):
 *   connect   the driver starts connect() (arrival, latency starts). It holds one core
 *             until its connect() returns: the handshake and the wake loop run in its
 *             context (softirq), as live.
 *   enqueue   handshake done after `handshake` ns: c enters the accept queue (the shared
 *             listener's, or with reuseport the queue of the worker the connection
 *             hashes to: a uniform draw from the hash stream). The kernel's wake loop
 *             starts, still in the driver's context, and wakes waiters one by one, each
 *             wake costing accept_herd_per_waiter_ns:
 *               epoll            every waiter asleep, in wait-queue order (add_wait_queue
 *                                puts each epoll at the head: worker N-1 first);
 *               epoll-exclusive  one: the most recently idle (LIFO stack), as this kernel
 *                                hands connections to the last worker back in epoll_wait;
 *               blocking-accept  one: the longest asleep (FIFO: exclusive waiters are
 *                                queued at the tail), i.e. round-robin;
 *               reuseport        the hashed worker, if asleep.
 *             A waiter already awake is not woken again (no wake, no cost). The loop
 *             holds the new connection's lock: an accept of c cannot complete before the
 *             loop is over (the accepting worker spins on its core until then), and the
 *             driver's connect() returns at the loop's end (extra connect_p50_ns).
 *   run       a woken waiter is runnable. An idle core picks a runnable waiter after
 *             ctx_switch_ns (waking an idle CPU); a core that just finished a waiter
 *             picks the next at once. The pick is uniformly random among the runnable
 *             (the scheduler stream): the woken sleepers are placed alike, and which one
 *             the scheduler runs first is not something the model can know better.
 *   check     half a wake's CPU burst later the waiter looks at its socket. Empty: it
 *             sleeps again after the other half, inside epoll_wait or accept, without
 *             returning to user space (the wasted wake). Not empty: epoll_wait returns
 *             to user space (user_returns) and accept4 follows half a burst later.
 *   accept    an accept() call (origin_load). It dequeues the head connection, or
 *             finds the queue empty: EAGAIN (epoll; it goes back to epoll_wait). The
 *             accept completes when c's wake loop is over; the worker then holds the
 *             descriptor (latency ends), closes it and goes back to its wait: half a
 *             burst, then the same check (level-triggered: a burst keeps it busy).
 *   sleep     before sleeping the waiter looks once more (it is on the wait queue then:
 *             no lost wake-up); then it frees its core.
 * So which woken waiters reach user space is decided by the simulation: those that
 * check while a connection is still queued. In a serial event that is the winner and the
 * few that ran before it dequeued (their accept returns EAGAIN); in a burst, many.
 *
 * pattern=serial: one connection per event; the next starts 1 ms (the live driver's
 * quiescence poll) after every woken waiter is asleep again. pattern=burst: connection
 * c+1 starts when c's connect() returns, and the whole burst is one event (as live) —
 * but when waiters it woke are runnable the driver yields and connects again only when
 * none is (the woken waiters preempt it: see loop_end). So the herd spaces the burst out
 * and nearly every connection wakes the whole herd again. Measured live on a quiet
 * 2-core machine (E = 50, 5 runs): N = 100: 82-102 wakes per connection (sim 100);
 * N = 1,000: 622-895 (sim 1,000: live, the driver's CPU drains its own run queue first
 * while the other still holds woken waiters, which the model's one run queue does not
 * have). Under load from other processes the live herd drains slower and serves several
 * connections (~35 wakes per connection at N = 100 measured so).
 *
 * Figures (per event, as live): per worker, useful = its accepts, wasted = woken
 * without accepting, idle = not woken; kernel_switches = waiters made runnable (each
 * sleeps again once: the voluntary switch the live counts), origin_load = accept calls,
 * peak = distinct waiters the event woke, latency = connect start to accept complete
 * (per connection). extras: user_returns, eagain, cpu_ns (every core-ns the herd burned:
 * the waiters' bursts and spins and the wake loops), connect_p50_ns / connect_max_ns,
 * cores. Timeline: arrivals (connect starts) and wakes (when made runnable).
 *
 * Cost: per waiter 9 bytes (state, last-woken event, accepts) + 4 (run queue) + 4
 * (idle stack/FIFO, exclusive and blocking) or 8 (reuseport socket queue), and 8 more
 * for a moment at the end (the spread); per connection 8 (+4 with reuseport). Events:
 * one per wake, two or three per woken waiter's burst, a few per connection: a naive
 * event at N = 10^6 is ~3·10^6 events (~16 M events/s here, 22 MB at N = 10^6).
 * Thread safety: none; one run owns everything it touches.
 */
#include "model_accept.h"

#include <herd/error.h>
#include <herd/rng.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "model_timeline.h"
#include "wake_costs.h"
#include "sim_int.h"


enum wstate { W_ASLEEP, W_RUNNABLE, W_RUNNING };

#define NONE (-1)
#define STREAM_SCHED ((uint64_t)1 << 32)
#define STREAM_HASH ((uint64_t)2 << 32)
#define STREAM_SPEED ((uint64_t)3 << 32) /* herd_wake_costs_draw per event */
#define SETTLE_GAP_NS 1000000 /* live: quiescence is two /proc reads 1 ms apart */

struct acc {
    struct herd_sim sim;
    struct herd_report *r;
    int err; /* the first failure inside the simulation (a negated errno) */
    enum herd_accept_strategy strat;
    bool burst;
    int32_t n;
    int64_t events; /* connections */
    int cores;
    struct herd_wake_costs c;    /* this event's: base as herd_wake_costs_draw() varies it */
    struct herd_wake_costs base; /* from the profile (costs_of) */
    struct herd_wake_var var;
    struct herd_rng sched, hash;

    /* per waiter */
    uint8_t *state;
    uint32_t *epoch;    /* last event (1-based) that woke it; 0: never woken */
    uint32_t *accepted; /* connections it accepted */
    int32_t *rq;        /* runnable waiters (unordered: the pick is random) */
    int32_t rq_len;
    int32_t *idle; /* exclusive: stack of asleep waiters; blocking: FIFO ring */
    int32_t idle_head, idle_len;
    int32_t *sq_head, *sq_tail; /* reuseport: each worker's accept queue */

    /* per connection */
    int64_t *conn_start;
    int32_t *conn_next;           /* reuseport: next in its socket's queue */
    int64_t accq_head, accq_tail; /* shared listener: queued connections [head, tail) */
    int64_t queued;               /* connections queued, not yet dequeued */
    int64_t next_conn, done_conns;

    /* cores: busy counts the driver while it holds one; kicked are idle cores about
     * to pick a runnable waiter */
    int busy, kicked;
    bool driver_core;
    bool driver_waiting; /* burst: the driver yielded to the waiters it woke */
    int64_t awake; /* waiters runnable or running */

    /* the wake loop in progress (one at a time: the driver connects serially) */
    bool loop_active;
    int64_t loop_conn;
    int32_t scan;    /* epoll: next waiter index to look at, descending */
    int32_t spinner; /* waiter that dequeued loop_conn and waits for the loop */
    int64_t spin_since;

    /* the event in progress */
    bool event_open;
    uint32_t epoch_now;
    uint64_t ev_wakes, ev_useful, ev_calls, ev_peak;
    uint64_t ev_acc_workers; /* distinct workers that accepted in the event */
    uint64_t ev_acc_woken;   /* ... of which the event had woken */
    uint32_t *acc_epoch;     /* per worker: the last event it accepted in */
    uint32_t tile_acc[HERD_REPORT_WAITERS]; /* the first workers' accepts before the event */

    uint64_t user_returns, eagain, kernel_switches;
    double cpu_ns;
    struct herd_hist *connect_hist;
    struct herd_tl tl; /* series: arrivals, wakes */
};

static void ev_connect(struct herd_sim *sim, void *ctx, uint64_t arg);
static void ev_enqueue(struct herd_sim *sim, void *ctx, uint64_t arg);
static void ev_wake(struct herd_sim *sim, void *ctx, uint64_t arg);
static void ev_kick(struct herd_sim *sim, void *ctx, uint64_t arg);
static void ev_check(struct herd_sim *sim, void *ctx, uint64_t arg);
static void ev_accept(struct herd_sim *sim, void *ctx, uint64_t arg);
static void ev_done(struct herd_sim *sim, void *ctx, uint64_t arg);
static void ev_sleep(struct herd_sim *sim, void *ctx, uint64_t arg);

/* Costs from the profile.
 *   per_waiter = accept_herd_per_waiter_ns: measured live as (naive p50 - exclusive
 *                p50) / N, i.e. what each woken waiter adds to the accept; at N = 200
 *                and 2,000 (_high_ns), taken at N in log N (herd_profile_per_waiter).
 *   burst      = wasted_wake_ns - 2 x per_waiter: wasted_wake_ns is the CPU per wasted
 *                wake (naive - exclusive process CPU / extra wakes). On the 2 cores it
 *                was measured on, that includes the loop (per_waiter per waiter, in the
 *                connecting context) and the winner spinning on the other core for as
 *                long as the loop runs (per_waiter per waiter again); the rest is the
 *                waiter's own switch in, re-check and sleep. Floored at a fifth of
 *                wasted_wake_ns so an odd profile cannot make a herd free.
 *   dispatch   = ctx_switch_ns: a thread woken on an idle CPU (pipe ping-pong / 2).
 *   lead       = the handshake, accept_ns - (per_waiter + dispatch + burst): accept_ns
 *                is exclusive's p50, which here is exactly handshake + one wake + dispatch +
 *                one burst; so a one-wake accept reproduces the calibrated figure. It is
 *                taken at this N with the profile's accept_idle_ns (a one-wake accept
 *                among 1,000 idle workers costs ~2x one among 100 here: see
 *                herd_profile_one_wake).
 * Each connection varies them (herd_wake_costs_draw, wake_costs.h) by accept_spread
 * and accept_loop_spread.
 */
static struct herd_wake_costs costs_of(const struct herd_profile *p, int64_t n)
{
    struct herd_wake_costs c;
    double pw = herd_profile_per_waiter(p->accept_herd_per_waiter_ns,
                                        p->accept_herd_per_waiter_high_ns, n);
    double ww = p->wasted_wake_ns > 0 ? p->wasted_wake_ns : 0;
    double burst = ww - 2 * pw;
    if (burst < ww / 5)
        burst = ww / 5;
    c.per_waiter = llround(pw);
    c.half = llround(burst / 2);
    c.dispatch = p->ctx_switch_ns > 0 ? llround(p->ctx_switch_ns) : 0;
    double one = herd_profile_one_wake(p->accept_ns, p->accept_idle_ns, n);
    c.lead = llround(one) - c.per_waiter - c.dispatch - 2 * c.half;
    if (c.lead < 0)
        c.lead = 0;
    return c;
}

/* ---- cores --------------------------------------------------------------------- */

static void step(struct acc *a, int64_t dt, herd_sim_event_fn fn, uint64_t arg)
{
    a->cpu_ns += (double)dt;
    herd_sim_after(&a->sim, dt, fn, a, arg, NULL);
}

static void run_on_core(struct acc *a, int32_t w)
{
    a->state[w] = W_RUNNING;
    step(a, a->c.half, ev_check, (uint64_t)w);
}

static int32_t pick(struct acc *a)
{
    uint32_t j = (uint32_t)herd_rng_below(&a->sched, (uint64_t)a->rq_len);
    int32_t w = a->rq[j];
    a->rq[j] = a->rq[--a->rq_len];
    return w;
}

/* A core's current occupant (a waiter going to sleep, or the driver) leaves it. It
 * takes the next runnable waiter at once, unless every runnable one is already spoken
 * for by an idle core that is waking up for it. */
static void core_free(struct acc *a)
{
    if (a->rq_len > a->kicked && a->busy <= a->cores) {
        run_on_core(a, pick(a));
    } else if (a->driver_waiting) { /* every waiter woken before it yielded has run */
        a->driver_waiting = false;
        a->driver_core = true;
        herd_sim_after(&a->sim, 0, ev_connect, a, (uint64_t)a->next_conn, NULL);
    } else {
        a->busy--;
    }
}

static void make_runnable(struct acc *a, int32_t w)
{
    a->state[w] = W_RUNNABLE;
    a->rq[a->rq_len++] = w;
    a->awake++;
    if (a->busy + a->kicked < a->cores) {
        a->kicked++;
        herd_sim_after(&a->sim, a->c.dispatch, ev_kick, a, 0, NULL);
    }
}

static void ev_kick(struct herd_sim *sim, void *ctx, uint64_t arg)
{
    struct acc *a = ctx;
    (void)sim;
    (void)arg;
    a->kicked--;
    if (a->rq_len > 0 && a->busy < a->cores) {
        a->busy++;
        run_on_core(a, pick(a));
    }
}

/* ---- the event's bookkeeping ---------------------------------------------------- */

/* Each worker's reaction, as live counts it: accepted (useful, one per connection),
 * woken without accepting (wasted), neither (idle). */
static void close_event(struct acc *a)
{
    struct herd_report *r = a->r;
    struct herd_event ev = {
        .useful = a->ev_useful,
        .wasted = a->ev_peak - a->ev_acc_woken,
        .idle = (uint64_t)a->n - a->ev_peak - (a->ev_acc_workers - a->ev_acc_woken),
        .origin_load = a->ev_calls,
        .peak = a->ev_peak,
    };
    for (size_t w = 0; w < r->nwaiters; w++) {
        uint32_t got = a->accepted[w] - a->tile_acc[w];
        a->tile_acc[w] = a->accepted[w];
        for (uint32_t k = 0; k < got; k++)
            herd_report_waiter(r, w, HERD_OUT_USEFUL);
        if (!got)
            herd_report_waiter(r, w,
                               a->epoch[w] == a->epoch_now ? HERD_OUT_WASTED : HERD_OUT_IDLE);
    }
    int rc = herd_report_add_event(r, &ev);
    if (rc < 0) { /* out of memory: the run fails rather than lose an event */
        a->err = rc;
        herd_sim_stop(&a->sim);
        return;
    }
    a->kernel_switches += a->ev_wakes;
    a->ev_wakes = a->ev_useful = a->ev_calls = a->ev_peak = 0;
    a->ev_acc_workers = a->ev_acc_woken = 0;
    a->event_open = false;
    a->epoch_now++;
    if (a->next_conn < a->events)
        herd_sim_after(&a->sim, SETTLE_GAP_NS, ev_connect, a, (uint64_t)a->next_conn, NULL);
}

/* The event is over when every connection started was accepted, no loop runs and
 * every woken waiter is asleep again (serial: one connection; burst: all of them). */
static void maybe_settled(struct acc *a)
{
    if (!a->event_open || a->loop_active || a->awake > 0 || a->queued > 0 ||
        a->done_conns != a->next_conn)
        return;
    if (a->burst && a->next_conn < a->events)
        return;
    close_event(a);
}

/* ---- the driver and the kernel's wake loop -------------------------------------- */

static void ev_connect(struct herd_sim *sim, void *ctx, uint64_t arg)
{
    struct acc *a = ctx;
    int64_t c = (int64_t)arg;
    a->c = herd_wake_costs_draw(&a->base, &a->var);
    a->conn_start[c] = sim->now_ns;
    herd_tl_add(&a->tl, 0, sim->now_ns, 1);
    a->next_conn = c + 1;
    a->event_open = true;
    if (!a->driver_core) {
        a->driver_core = true;
        a->busy++;
    }
    herd_sim_after(sim, a->c.lead, ev_enqueue, a, arg, NULL);
}

/* Epoll: the next waiter asleep in wait-queue order (descending index), or NONE. */
static int32_t next_asleep(struct acc *a)
{
    while (a->scan >= 0 && a->state[a->scan] != W_ASLEEP)
        a->scan--;
    return a->scan >= 0 ? a->scan-- : NONE;
}

static void loop_end(struct acc *a)
{
    int64_t now = a->sim.now_ns;
    int64_t c = a->loop_conn;
    a->loop_active = false;
    herd_hist_record(a->connect_hist, now - a->conn_start[c]);
    if (a->spinner != NONE) {
        int32_t w = a->spinner;
        a->spinner = NONE;
        a->cpu_ns += (double)(now - a->spin_since);
        herd_sim_after(&a->sim, 0, ev_done, a, (uint64_t)c << 32 | (uint32_t)w, NULL);
    }
    if (a->burst && a->next_conn < a->events && a->rq_len > a->kicked) {
        /* Waiters it woke are runnable: the scheduler (EEVDF) runs them first — each
         * woken waiter is eligible with an earlier deadline than the driver, which has
         * just run the whole wake loop — and the driver connects again only when they
         * have had their turn. So the herd itself spaces a burst out, and every
         * connection finds the herd asleep and wakes all of it again. */
        a->driver_core = false;
        a->driver_waiting = true;
        core_free(a);
    } else if (a->burst && a->next_conn < a->events) {
        herd_sim_after(&a->sim, 0, ev_connect, a, (uint64_t)a->next_conn, NULL);
    } else {
        a->driver_core = false;
        core_free(a);
    }
    maybe_settled(a);
}

static void ev_enqueue(struct herd_sim *sim, void *ctx, uint64_t arg)
{
    struct acc *a = ctx;
    int64_t c = (int64_t)arg;
    int32_t x = NONE;

    a->queued++;
    a->loop_active = true;
    a->loop_conn = c;
    a->spinner = NONE;
    switch (a->strat) {
    case HERD_ACCEPT_EPOLL:
        a->accq_tail = c + 1;
        a->scan = a->n - 1;
        x = next_asleep(a);
        break;
    case HERD_ACCEPT_EPOLL_EXCLUSIVE:
        a->accq_tail = c + 1;
        if (a->idle_len > 0)
            x = a->idle[--a->idle_len];
        break;
    case HERD_ACCEPT_BLOCKING_ACCEPT:
        a->accq_tail = c + 1;
        if (a->idle_len > 0) {
            x = a->idle[a->idle_head];
            a->idle_head = a->idle_head + 1 == a->n ? 0 : a->idle_head + 1;
            a->idle_len--;
        }
        break;
    case HERD_ACCEPT_REUSEPORT: {
        int32_t k = (int32_t)herd_rng_below(&a->hash, (uint64_t)a->n);
        a->conn_next[c] = NONE;
        if (a->sq_tail[k] == NONE)
            a->sq_head[k] = (int32_t)c;
        else
            a->conn_next[a->sq_tail[k]] = (int32_t)c;
        a->sq_tail[k] = (int32_t)c;
        if (a->state[k] == W_ASLEEP)
            x = k;
        break;
    }
    }
    if (x != NONE)
        step(a, a->c.per_waiter, ev_wake, (uint64_t)x);
    else
        loop_end(a);
    (void)sim;
}

static void ev_wake(struct herd_sim *sim, void *ctx, uint64_t arg)
{
    struct acc *a = ctx;
    int32_t w = (int32_t)arg;
    a->ev_wakes++;
    if (a->epoch[w] != a->epoch_now) {
        a->epoch[w] = a->epoch_now;
        a->ev_peak++;
    }
    herd_tl_add(&a->tl, 1, sim->now_ns, 1);
    herd_sim_request(sim, sim->now_ns, (uint64_t)w, 0, HERD_REQ_OK); /* --trace: a wake */
    make_runnable(a, w);
    int32_t x = a->strat == HERD_ACCEPT_EPOLL ? next_asleep(a) : NONE;
    if (x != NONE)
        step(a, a->c.per_waiter, ev_wake, (uint64_t)x);
    else
        loop_end(a);
}

/* ---- a woken waiter on its core ------------------------------------------------- */

static bool ready(const struct acc *a, int32_t w)
{
    if (a->strat == HERD_ACCEPT_REUSEPORT)
        return a->sq_head[w] != NONE;
    return a->accq_head < a->accq_tail;
}

static void ev_check(struct herd_sim *sim, void *ctx, uint64_t arg)
{
    struct acc *a = ctx;
    int32_t w = (int32_t)arg;
    (void)sim;
    if (ready(a, w)) {
        if (a->strat != HERD_ACCEPT_BLOCKING_ACCEPT)
            a->user_returns++; /* epoll_wait returns; accept4 next */
        step(a, a->c.half, ev_accept, arg);
    } else {
        step(a, a->c.half, ev_sleep, arg);
    }
}

static void ev_accept(struct herd_sim *sim, void *ctx, uint64_t arg)
{
    struct acc *a = ctx;
    int32_t w = (int32_t)arg;
    int64_t c = NONE;

    if (a->strat == HERD_ACCEPT_REUSEPORT) {
        if (a->sq_head[w] != NONE) {
            c = a->sq_head[w];
            a->sq_head[w] = a->conn_next[c];
            if (a->sq_head[w] == NONE)
                a->sq_tail[w] = NONE;
        }
    } else if (a->accq_head < a->accq_tail) {
        c = a->accq_head++;
    }
    if (c == NONE) {
        if (a->strat == HERD_ACCEPT_BLOCKING_ACCEPT) {
            /* inside accept(): the queue emptied under it; it sleeps again */
            ev_sleep(sim, ctx, arg);
            return;
        }
        a->ev_calls++;
        a->eagain++;
        step(a, a->c.half, ev_check, arg); /* back into epoll_wait */
        return;
    }
    a->ev_calls++;
    a->queued--;
    if (a->loop_active && a->loop_conn == c) {
        a->spinner = w; /* lock_sock: the wake loop still holds the connection */
        a->spin_since = sim->now_ns;
    } else {
        herd_sim_after(sim, 0, ev_done, a, (uint64_t)c << 32 | (uint32_t)w, NULL);
    }
}

static void ev_done(struct herd_sim *sim, void *ctx, uint64_t arg)
{
    struct acc *a = ctx;
    int32_t w = (int32_t)(arg & 0xffffffffu);
    int64_t c = (int64_t)(arg >> 32);
    a->accepted[w]++;
    a->ev_useful++;
    if (a->acc_epoch[w] != a->epoch_now) {
        a->acc_epoch[w] = a->epoch_now;
        a->ev_acc_workers++;
        a->ev_acc_woken += a->epoch[w] == a->epoch_now;
    }
    a->done_conns++;
    herd_hist_record(&a->r->latency, sim->now_ns - a->conn_start[c]);
    if (a->strat == HERD_ACCEPT_BLOCKING_ACCEPT)
        a->user_returns++;                     /* accept() returned */
    step(a, a->c.half, ev_check, (uint64_t)w); /* close, back to the wait */
}

static void ev_sleep(struct herd_sim *sim, void *ctx, uint64_t arg)
{
    struct acc *a = ctx;
    int32_t w = (int32_t)arg;
    (void)sim;
    if (ready(a, w)) { /* it is on the wait queue now: a last look, no lost wake-up */
        if (a->strat != HERD_ACCEPT_BLOCKING_ACCEPT)
            a->user_returns++;
        step(a, a->c.half, ev_accept, arg);
        return;
    }
    a->state[w] = W_ASLEEP;
    a->awake--;
    if (a->strat == HERD_ACCEPT_EPOLL_EXCLUSIVE) {
        a->idle[a->idle_len++] = w;
    } else if (a->strat == HERD_ACCEPT_BLOCKING_ACCEPT) {
        int64_t tail = (int64_t)a->idle_head + a->idle_len;
        a->idle[tail >= a->n ? tail - a->n : tail] = w;
        a->idle_len++;
    }
    core_free(a);
    maybe_settled(a);
}

/* ---- setup and report ----------------------------------------------------------- */

static void release(struct acc *a)
{
    free(a->state);
    free(a->epoch);
    free(a->accepted);
    free(a->acc_epoch);
    free(a->rq);
    free(a->idle);
    free(a->sq_head);
    free(a->sq_tail);
    free(a->conn_start);
    free(a->conn_next);
    free(a->connect_hist);
    herd_tl_fini(&a->tl);
    herd_sim_fini(&a->sim);
}

static int alloc_all(struct acc *a)
{
    size_t n = (size_t)a->n, e = (size_t)a->events;
    a->state = calloc(n, 1);
    a->epoch = calloc(n, sizeof *a->epoch);
    a->accepted = calloc(n, sizeof *a->accepted);
    a->acc_epoch = calloc(n, sizeof *a->acc_epoch);
    a->rq = malloc(n * sizeof *a->rq);
    a->conn_start = malloc(e * sizeof *a->conn_start);
    a->connect_hist = malloc(sizeof *a->connect_hist);
    if (!a->state || !a->epoch || !a->accepted || !a->acc_epoch || !a->rq || !a->conn_start || !a->connect_hist)
        return -HERD_ENOMEM;
    herd_hist_init(a->connect_hist);
    if (a->strat == HERD_ACCEPT_EPOLL_EXCLUSIVE || a->strat == HERD_ACCEPT_BLOCKING_ACCEPT) {
        a->idle = malloc(n * sizeof *a->idle);
        if (!a->idle)
            return -HERD_ENOMEM;
        /* Workers start asleep. Exclusive: worker 0 on top of the stack (the last to
         * enter epoll_wait); blocking: worker 0 at the head of the FIFO. */
        for (size_t i = 0; i < n; i++)
            a->idle[i] = a->strat == HERD_ACCEPT_EPOLL_EXCLUSIVE ? (int32_t)(n - 1 - i) : (int32_t)i;
        a->idle_head = 0;
        a->idle_len = a->n;
    }
    if (a->strat == HERD_ACCEPT_REUSEPORT) {
        a->sq_head = malloc(n * sizeof *a->sq_head);
        a->sq_tail = malloc(n * sizeof *a->sq_tail);
        a->conn_next = malloc(e * sizeof *a->conn_next);
        if (!a->sq_head || !a->sq_tail || !a->conn_next)
            return -HERD_ENOMEM;
        memset(a->sq_head, 0xff, n * sizeof *a->sq_head); /* NONE */
        memset(a->sq_tail, 0xff, n * sizeof *a->sq_tail);
    }
    herd_tl_init(&a->tl, 1000);
    herd_tl_series(&a->tl, "arrivals", HERD_TL_SUM);
    herd_tl_series(&a->tl, "wakes", HERD_TL_SUM);
    return 0;
}

static int fill_report(struct acc *a)
{
    struct herd_report *r = a->r;
    uint64_t *per = malloc((size_t)a->n * sizeof *per);
    if (!per)
        return -HERD_ENOMEM;
    for (int32_t i = 0; i < a->n; i++)
        per[i] = a->accepted[i];
    herd_report_spread(r, per, (size_t)a->n);
    free(per);

    herd_report_extra(r, "kernel_switches", (double)a->kernel_switches);
    herd_report_extra(r, "user_returns", (double)a->user_returns);
    herd_report_extra(r, "eagain", (double)a->eagain);
    herd_report_extra(r, "cpu_ns", a->cpu_ns);
    herd_report_extra(r, "connect_p50_ns", (double)herd_hist_quantile(a->connect_hist, 0.5));
    herd_report_extra(r, "connect_max_ns", (double)a->connect_hist->max);
    herd_report_extra(r, "cores", (double)a->cores);

    int rc = herd_tl_emit(&a->tl, r, a->sim.now_ns, 1000, 1000, NULL);
    if (rc < 0)
        return rc;
    r->sim_time_ns = a->sim.now_ns;
    return 0;
}

static void name_kinds(struct herd_sim *sim)
{
    herd_sim_name(sim, ev_connect, "connect");
    herd_sim_name(sim, ev_enqueue, "enqueue");
    herd_sim_name(sim, ev_wake, "wake");
    herd_sim_name(sim, ev_kick, "kick");
    herd_sim_name(sim, ev_check, "check");
    herd_sim_name(sim, ev_accept, "accept");
    herd_sim_name(sim, ev_done, "done");
    herd_sim_name(sim, ev_sleep, "sleep");
}

int herd__sim_accept_run_hooked(const struct herd_run_spec *spec, const struct herd_profile *prof,
                                struct herd_report *r, const struct herd_sim_hooks *hooks,
                                char *err, size_t errlen)
{
    struct acc *a = calloc(1, sizeof *a);
    int rc;
    if (!a) {
        snprintf(err, errlen, "accept: out of memory");
        return -HERD_ENOMEM;
    }
    a->r = r;
    const struct herd_accept_config *cfg = &spec->cfg.accept;
    a->strat = cfg->strategy;
    a->burst = cfg->pattern == HERD_ACCEPT_BURST;
    a->n = (int32_t)spec->n;
    a->events = spec->events;
    int cores = cfg->cores;
    a->cores = cores > 0 ? cores : prof->cores > 0 ? prof->cores : 1;
    a->base = costs_of(prof, spec->n);
    a->c = a->base;
    a->spinner = NONE;
    a->epoch_now = 1;

    rc = herd_sim_init(&a->sim, spec->seed);
    if (rc < 0) {
        free(a);
        snprintf(err, errlen, "accept: %s", herd_strerror(rc));
        return rc;
    }
    if ((rc = alloc_all(a)) < 0) {
        snprintf(err, errlen, "accept: out of memory for %d workers", a->n);
        goto out;
    }
    herd_sim_rng(&a->sim, STREAM_SCHED, &a->sched);
    herd_wake_var_init(&a->var, &a->sim, STREAM_SPEED, prof->accept_spread,
                       prof->accept_loop_spread);
    herd_sim_rng(&a->sim, STREAM_HASH, &a->hash);
    name_kinds(&a->sim);
    herd_sim_set_hooks(&a->sim, hooks);

    herd_sim_at(&a->sim, 0, ev_connect, a, 0, NULL);
    rc = herd_sim_run_until(&a->sim, HERD_SIM_FOREVER);
    if (rc >= 0 && a->err)
        rc = a->err;
    if (rc < 0) {
        snprintf(err, errlen, "accept: simulation: %s", herd_strerror(rc));
        goto out;
    }
    if ((rc = fill_report(a)) < 0)
        snprintf(err, errlen, "accept: out of memory");
out:
    release(a);
    free(a);
    return rc;
}

static int run(const struct herd_run_spec *spec, const struct herd_profile *prof,
               const struct herd_sim_hooks *hooks, struct herd_report *r, char *err,
               size_t errlen)
{
    return herd__sim_accept_run_hooked(spec, prof, r, hooks, err, errlen);
}

const struct herd_sim_model herd__sim_accept = {run};
