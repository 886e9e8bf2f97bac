/* probe_condvar.c — the condition-variable herd with nothing but two timestamps.
 *
 * N threads wait in pthread_cond_wait on one mutex + condvar guarding a queue of items.
 * Per event the producer (the main thread) stamps CLOCK_MONOTONIC, queues one item with
 * that stamp under the mutex and, after unlocking, wakes the waiters: naive with
 * pthread_cond_broadcast, mitigated with pthread_cond_signal. The waiter that holds the
 * item (mutex held, item there) stamps again; latency = the difference. Nothing else
 * runs between the two stamps: the producer goes straight to sleep and the waiters only
 * keep a count, under the mutex they hold anyway, of how many of them are in the wait.
 * Between events the herd settles by probe.h's rule (1 ms sleeps, getrusage switch sums
 * quiet for 2 ms) plus "all N back in the wait and the item taken", tested after the
 * quiet period under the mutex, when nobody else wants it.
 *
 * This is the reference `herd run condvar` (primitive=pthread) is compared with in
 * bench/probe_vs_herd.sh: same trigger stamp, same winner stamp, same wake call after
 * unlocking; herd adds its own counting, which must stay outside this window.
 *
 * Usage: probe_condvar [-n N] [--events E] [--mode naive|mitigated|both] [--json]
 * Cost: N threads with 64 KiB stacks; ~3 ms of settling per event (N = 1,000, 200
 * events, both modes: about 3 s).
 */
#define _GNU_SOURCE
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "probe.h"

struct herd {
    pthread_mutex_t mu;
    pthread_cond_t cond;
    int n;           /* waiters */
    int queued;      /* items in the queue; guarded by mu */
    int64_t head_ts; /* the queued item's enqueue stamp; guarded by mu */
    int in_wait;     /* waiters inside pthread_cond_wait; guarded by mu */
    int taken;       /* items dequeued; guarded by mu */
    bool closing;    /* guarded by mu */
    int64_t *lat;    /* lat[taken - 1]: enqueue -> held; written by the winner under mu */
};

static void *waiter(void *arg)
{
    struct herd *h = arg;
    pthread_mutex_lock(&h->mu);
    for (;;) {
        while (h->queued == 0 && !h->closing) {
            h->in_wait++;
            pthread_cond_wait(&h->cond, &h->mu);
            h->in_wait--;
        }
        if (h->closing)
            break;
        int64_t now = probe_now_ns();
        h->queued--;
        h->lat[h->taken++] = now - h->head_ts;
    }
    pthread_mutex_unlock(&h->mu);
    return NULL;
}

struct want {
    struct herd *h;
    int taken;
};

static bool settled(void *arg)
{
    struct want *w = arg;
    pthread_mutex_lock(&w->h->mu);
    bool ok = w->h->in_wait == w->h->n && w->h->taken == w->taken;
    pthread_mutex_unlock(&w->h->mu);
    return ok;
}

static void run_mode(const struct probe_opts *o, bool broadcast, struct probe_result *r)
{
    struct herd h = {.n = o->n};
    pthread_t *th = calloc((size_t)o->n, sizeof *th);
    h.lat = calloc((size_t)o->events, sizeof *h.lat);
    if (!th || !h.lat) {
        fprintf(stderr, "probe_condvar: out of memory\n");
        exit(1);
    }
    pthread_mutex_init(&h.mu, NULL);
    pthread_cond_init(&h.cond, NULL);
    pthread_attr_t attr;
    pthread_attr_init(&attr);
    pthread_attr_setstacksize(&attr, 64 * 1024);
    for (int i = 0; i < o->n; i++) {
        if (pthread_create(&th[i], &attr, waiter, &h) != 0) {
            fprintf(stderr, "probe_condvar: cannot start waiter %d of %d\n", i + 1, o->n);
            exit(1);
        }
    }
    pthread_attr_destroy(&attr);

    struct want w = {.h = &h, .taken = 0};
    r->settle_timeouts += probe_settle(settled, &w) < 0;
    for (int e = 0; e < o->events; e++) {
        int64_t t0 = probe_now_ns();
        pthread_mutex_lock(&h.mu);
        h.queued++;
        h.head_ts = t0;
        pthread_mutex_unlock(&h.mu);
        if (broadcast)
            pthread_cond_broadcast(&h.cond);
        else
            pthread_cond_signal(&h.cond);
        w.taken = e + 1;
        r->settle_timeouts += probe_settle(settled, &w) < 0;
    }

    pthread_mutex_lock(&h.mu);
    h.closing = true;
    int taken = h.taken;
    pthread_mutex_unlock(&h.mu);
    pthread_cond_broadcast(&h.cond);
    for (int i = 0; i < o->n; i++)
        pthread_join(th[i], NULL);
    r->strategy = broadcast ? "broadcast" : "signal";
    probe_summarise(h.lat, (size_t)taken, r);
    pthread_cond_destroy(&h.cond);
    pthread_mutex_destroy(&h.mu);
    free(h.lat);
    free(th);
}

int main(int argc, char **argv)
{
    struct probe_opts o;
    struct probe_result naive = {0}, mitigated = {0};
    probe_parse(argc, argv, &o, "broadcast", "signal");
    if (o.modes & PROBE_NAIVE)
        run_mode(&o, true, &naive);
    if (o.modes & PROBE_MITIGATED)
        run_mode(&o, false, &mitigated);
    probe_print("condvar", &o, &naive, &mitigated);
    return 0;
}
