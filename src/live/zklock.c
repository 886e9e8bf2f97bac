/* zklock.c — the ZooKeeper lock herd, live, on a real ZooKeeper (seed 000; issue 16).
 *
 * herd starts a private ZooKeeper for the run (svc.h; or uses the user's, --set url=,
 * touching only nodes under /herd-lock). N worker threads each open their own session
 * (libzookeeper-mt) and queue for one lock, held at first by the run's own session.
 * One event is one release: the holder deletes its node (the trigger) and the lock passes
 * to one waiter, which then holds it until the next event's release. Waiters:
 *   notify-all   the herd recipe: the lock is one ephemeral node /herd-lock/lock; a waiter
 *                that finds it taken sets a watch on it (exists) and sleeps; its deletion
 *                fires every watch, and every woken waiter tries to create it again: one
 *                wins, the others find it taken and watch it again.
 *   predecessor  ZooKeeper's recipe: each waiter creates a sequential ephemeral node under
 *                /herd-lock/q and watches only the node just below its own; a deletion
 *                fires one watch, and that waiter (after checking with getChildren that it
 *                is now the lowest) holds the lock.
 *
 * What the report means here (one event = one release):
 *   outcomes    per waiter per release: useful (it took the lock), wasted (it was woken by
 *               the release and did not get the lock: its create found the node taken),
 *               idle (its watch did not fire, or it is the releaser, or it held the lock
 *               already). wakes = watch events delivered to waiters.
 *   origin_load requests ZooKeeper received during the event (its own mntr counter
 *               zk_packets_received; herd's mntr reads are not ZooKeeper requests);
 *   peak        most requests in flight at ZooKeeper at once (sent, reply not yet back);
 *   latency     from the release (just before the holder's delete) to the moment the next
 *               holder knows it holds the lock;
 *   extras      zk_notifications_per_release (the server's packets sent minus received: the
 *               watch notifications it pushed, as ZooKeeper counts them), watch events per
 *               release as the clients saw them, the server's start-up in seconds.
 *
 * Cost: n worker threads plus libzookeeper-mt's two per session (3n threads), n sessions
 * (one TCP connection each to 127.0.0.1), one JVM. An event lasts until the lock has a new
 * holder and every woken waiter is asleep again. Interrupts: every wait is sliced; sessions
 * are closed (their ephemeral nodes go with them), the server stopped, its directory
 * removed.
 */
#include "live_int.h"
#include "svc.h"

#include <errno.h>
#include <herd/clock.h>
#include <herd/error.h>
#include <inttypes.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void needs(const struct herd_run_spec *spec, struct herd_live_needs *need)
{
    need->threads = 3 * spec->n + 3;
    need->processes = 1; /* the JVM */
    need->fds = spec->n + 32;
}

static int validate_n(const struct herd_run_spec *spec, char *err, size_t errlen)
{
    if (spec->events > spec->n) {
        snprintf(err, errlen,
                 "--events: at most -n (%" PRId64 "): each release hands the lock "
                 "to a waiter that has not held it yet",
                 spec->n);
        return -HERD_EINVAL;
    }
    return 0;
}

#ifndef HERD_HAVE_ZOOKEEPER

static int check(const struct herd_run_spec *spec, char *err, size_t errlen)
{
    (void)spec;
    snprintf(err, errlen,
             "zk-lock: this herd was built without libzookeeper-mt (install "
             "libzookeeper-mt-dev: scripts/install-deps.sh, then rebuild)");
    return -HERD_EINVAL;
}

static int run(const struct herd_run_spec *spec, struct herd_report *r, char *err, size_t errlen)
{
    (void)r;
    return check(spec, err, errlen);
}

#else

#include <zookeeper/zookeeper.h>

#define ROOT "/herd-lock"
#define LOCK ROOT "/lock"
#define QDIR ROOT "/q"
#define SLICE_NS (50 * HERD_NS_PER_MS)

static int check(const struct herd_run_spec *spec, char *err, size_t errlen)
{
    int rc = validate_n(spec, err, errlen);
    if (rc < 0 || spec->cfg.zklock.external)
        return rc;
    return herd__svc_installed(HERD_SVC_ZOOKEEPER, err, errlen) ? 0 : -HERD_EINVAL;
}

struct zrun;

struct worker {
    struct zrun *Z;
    int id;
    bool started;
    pthread_t th;
    zhandle_t *zh;
    char node[128]; /* predecessor: its sequential node's full path */
    bool done;      /* held the lock (and released it) */

    /* watch events: posted by the session's completion thread, taken by the worker */
    pthread_mutex_t mu;
    pthread_cond_t cv;
    int pending;
    bool release; /* main: you hold the lock, release it now */

    /* this event's figures, under Z->mu */
    int64_t ev_woken, ev_attempts;
};

struct zrun {
    const struct herd_zklock_config *cfg;
    int64_t n;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    int64_t armed;     /* waiters asleep with a watch set (or queued behind a watched node) */
    int64_t holder;    /* worker holding the lock; -1: the run's own session */
    int64_t acquired;  /* acquisitions so far */
    int64_t t_release; /* the current event's trigger */
    int64_t lat_ns;    /* its hand-off latency */
    bool quit;
    _Atomic int64_t inflight, peak;
    _Atomic int64_t last_activity; /* last request or watch event: settling needs quiet */
    struct worker *w;
};

/* A release has settled when the server holds a watch again for every waiter still queued
 * (it drops a watch when it fires it, and the waiter sets it again only after its event
 * arrived), no request is in flight and nothing moved for this long. */
#define QUIET_NS (5 * HERD_NS_PER_MS)

/* ---- ZooKeeper calls, counted in flight ------------------------------------------------ */

static void enter(struct zrun *Z)
{
    atomic_store(&Z->last_activity, herd__now_ns());
    int64_t now = atomic_fetch_add(&Z->inflight, 1) + 1, p = atomic_load(&Z->peak);
    while (now > p && !atomic_compare_exchange_weak(&Z->peak, &p, now))
        ;
}

static void leave(struct zrun *Z)
{
    atomic_store(&Z->last_activity, herd__now_ns());
    atomic_fetch_sub(&Z->inflight, 1);
}

static void watcher(zhandle_t *zh, int type, int state, const char *path, void *ctx)
{
    (void)zh, (void)state, (void)path;
    struct worker *k = ctx;
    if (!k || type == ZOO_SESSION_EVENT)
        return;
    atomic_store(&k->Z->last_activity, herd__now_ns());
    pthread_mutex_lock(&k->mu);
    k->pending++;
    pthread_cond_signal(&k->cv);
    pthread_mutex_unlock(&k->mu);
}

/* Wait for a watch event (or a release order when @p holder). @return false on quit. */
static bool wait_event(struct worker *k, bool holder)
{
    struct zrun *Z = k->Z;
    pthread_mutex_lock(&k->mu);
    for (;;) {
        if (holder ? k->release : k->pending > 0)
            break;
        if (Z->quit || herd__live_stopping()) {
            pthread_mutex_unlock(&k->mu);
            return false;
        }
        struct timespec ts = herd_clock_timespec(herd_clock_realtime_ns() + SLICE_NS);
        pthread_cond_timedwait(&k->cv, &k->mu, &ts);
    }
    if (holder)
        k->release = false;
    else
        k->pending--;
    pthread_mutex_unlock(&k->mu);
    return true;
}

static void set_armed(struct zrun *Z, int64_t d)
{
    pthread_mutex_lock(&Z->mu);
    Z->armed += d;
    pthread_cond_broadcast(&Z->cv);
    pthread_mutex_unlock(&Z->mu);
}

static void got_lock(struct worker *k)
{
    struct zrun *Z = k->Z;
    int64_t now = herd__now_ns();
    pthread_mutex_lock(&Z->mu);
    Z->holder = k->id;
    Z->acquired++;
    Z->lat_ns = now - Z->t_release;
    pthread_cond_broadcast(&Z->cv);
    pthread_mutex_unlock(&Z->mu);
}

/* Hold until main orders the release, then release: the next event's trigger. */
static void hold_then_release(struct worker *k, const char *path)
{
    struct zrun *Z = k->Z;
    if (!wait_event(k, true))
        return;
    if (Z->cfg->hold_ns)
        herd__sleep_ns(Z->cfg->hold_ns);
    pthread_mutex_lock(&Z->mu);
    Z->t_release = herd__now_ns();
    pthread_mutex_unlock(&Z->mu);
    enter(Z);
    zoo_delete(k->zh, path, -1);
    leave(Z);
    k->done = true;
}

static void count(struct worker *k, int woken, int attempts)
{
    pthread_mutex_lock(&k->Z->mu);
    k->ev_woken += woken;
    k->ev_attempts += attempts;
    pthread_mutex_unlock(&k->Z->mu);
}

/* notify-all: create the lock node; taken: watch it, sleep, try again when woken. */
static void notify_all(struct worker *k)
{
    struct zrun *Z = k->Z;
    bool woken = false;
    for (;;) {
        enter(Z);
        int rc = zoo_create(k->zh, LOCK, NULL, -1, &ZOO_OPEN_ACL_UNSAFE, ZOO_EPHEMERAL, NULL, 0);
        leave(Z);
        if (woken)
            count(k, 0, 1);
        if (rc == ZOK) {
            got_lock(k);
            hold_then_release(k, LOCK);
            return;
        }
        if (rc != ZNODEEXISTS)
            return;
        struct Stat st;
        enter(Z);
        rc = zoo_wexists(k->zh, LOCK, watcher, k, &st);
        leave(Z);
        if (rc == ZNONODE)
            continue; /* released meanwhile: try at once (its creation watch stays set) */
        if (rc != ZOK)
            return;
        set_armed(Z, 1);
        bool ok = wait_event(k, false);
        set_armed(Z, -1);
        if (!ok)
            return;
        count(k, 1, 0);
        woken = true;
    }
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* predecessor: a sequential node; the lowest holds, the others watch the one below. */
static void predecessor(struct worker *k)
{
    struct zrun *Z = k->Z;
    char created[128];
    enter(Z);
    int rc = zoo_create(k->zh, QDIR "/n-", NULL, -1, &ZOO_OPEN_ACL_UNSAFE,
                        ZOO_EPHEMERAL | ZOO_SEQUENCE, created, sizeof created);
    leave(Z);
    if (rc != ZOK)
        return;
    snprintf(k->node, sizeof k->node, "%s", created);
    const char *mine = strrchr(created, '/') + 1;
    bool woken = false;
    for (;;) {
        struct String_vector kids = {0};
        enter(Z);
        rc = zoo_get_children(k->zh, QDIR, 0, &kids);
        leave(Z);
        if (woken)
            count(k, 0, 1);
        if (rc != ZOK)
            return;
        qsort(kids.data, (size_t)kids.count, sizeof *kids.data, cmp_str);
        const char *below = NULL;
        for (int i = 0; i < kids.count && strcmp(kids.data[i], mine) < 0; i++)
            below = kids.data[i];
        char watch[160];
        if (below)
            snprintf(watch, sizeof watch, QDIR "/%s", below);
        deallocate_String_vector(&kids);
        if (!below) {
            got_lock(k);
            hold_then_release(k, k->node);
            return;
        }
        struct Stat st;
        enter(Z);
        rc = zoo_wexists(k->zh, watch, watcher, k, &st);
        leave(Z);
        if (rc == ZNONODE)
            continue; /* gone meanwhile: look again */
        if (rc != ZOK)
            return;
        set_armed(Z, 1);
        bool ok = wait_event(k, false);
        set_armed(Z, -1);
        if (!ok)
            return;
        count(k, 1, 0);
        woken = true;
    }
}

static void *worker_main(void *arg)
{
    struct worker *k = arg;
    switch (k->Z->cfg->strategy) {
    case HERD_ZKLOCK_NOTIFY_ALL:
        notify_all(k);
        break;
    case HERD_ZKLOCK_PREDECESSOR:
        predecessor(k);
        break;
    }
    return NULL;
}

/* ---- the run ---------------------------------------------------------------------------- */

/* A session to @p hosts, connected, or NULL with one line in @p err. */
static zhandle_t *open_session(const char *hosts, int64_t session_ns, void *ctx, char *err,
                               size_t errlen)
{
    zhandle_t *zh =
        zookeeper_init(hosts, watcher, (int)(session_ns / HERD_NS_PER_MS), NULL, ctx, 0);
    if (!zh) {
        snprintf(err, errlen, "zk-lock: zookeeper_init %s: %s", hosts, strerror(errno));
        return NULL;
    }
    for (int64_t until = herd__now_ns() + 30 * HERD_NS_PER_S;
         zoo_state(zh) != ZOO_CONNECTED_STATE;) {
        if (herd__now_ns() >= until || herd__live_poll()) {
            snprintf(err, errlen, "zk-lock: no session with ZooKeeper at %s within 30 s", hosts);
            zookeeper_close(zh);
            return NULL;
        }
        herd__sleep_ns(HERD_NS_PER_MS);
    }
    return zh;
}

/* Wait until @p pred holds (under Z->mu), polling the watch. @return 0, -HERD_EINTR or
 * -HERD_ETIMEDOUT past @p until. */
static int wait_for(struct zrun *Z, bool (*pred)(const struct zrun *, int64_t), int64_t arg,
                    int64_t until)
{
    pthread_mutex_lock(&Z->mu);
    while (!pred(Z, arg)) {
        pthread_mutex_unlock(&Z->mu);
        if (herd__live_poll())
            return -HERD_EINTR;
        if (herd__now_ns() >= until)
            return -HERD_ETIMEDOUT;
        pthread_mutex_lock(&Z->mu);
        struct timespec ts = herd_clock_timespec(herd_clock_realtime_ns() + 5 * HERD_NS_PER_MS);
        pthread_cond_timedwait(&Z->cv, &Z->mu, &ts);
    }
    pthread_mutex_unlock(&Z->mu);
    return 0;
}

static bool armed_at_least(const struct zrun *Z, int64_t want)
{
    return Z->armed >= want;
}

/* The client side of settled: at least @p want waiters asleep on a watch, nothing in
 * flight, nothing moved for QUIET_NS. */
static bool settled(const struct zrun *Z, int64_t want)
{
    return Z->armed >= want && atomic_load(&((struct zrun *)Z)->inflight) == 0 &&
           herd__now_ns() - atomic_load(&((struct zrun *)Z)->last_activity) >= QUIET_NS;
}

/* The server's side: the watches it holds (mntr zk_watch_count); -1 when it cannot say. */
static int64_t zk_watches(const struct herd_svc *s)
{
    char buf[8192];
    if (herd__svc_zk_4lw(s, "mntr", buf, sizeof buf) < 0)
        return -1;
    const char *w = strstr(buf, "zk_watch_count");
    return w ? strtoll(w + strlen("zk_watch_count"), NULL, 10) : -1;
}

/* Both sides settled after the release that hands the lock to its (e+1)-th holder. */
static int settle(struct zrun *Z, const struct herd_svc *s, int64_t e, int64_t until)
{
    int64_t want = Z->n - e - 1;
    for (;;) {
        int rc = wait_for(Z, settled, want, until);
        if (rc < 0)
            return rc;
        int64_t w = zk_watches(s);
        if (w < 0 || w >= want)
            return 0;
        herd__sleep_ns(2 * HERD_NS_PER_MS);
    }
}

static bool acquired_at_least(const struct zrun *Z, int64_t want)
{
    return Z->acquired >= want;
}

/* mntr's packets received and sent (4lw over its own connection: not a ZooKeeper request). */
static int zk_packets(const struct herd_svc *s, uint64_t *rcvd, uint64_t *sent)
{
    char buf[8192];
    if (herd__svc_zk_4lw(s, "mntr", buf, sizeof buf) < 0)
        return -HERD_EINVAL;
    const char *r = strstr(buf, "zk_packets_received"), *t = strstr(buf, "zk_packets_sent");
    if (!r || !t)
        return -HERD_EINVAL;
    *rcvd = strtoull(r + strlen("zk_packets_received"), NULL, 10);
    *sent = strtoull(t + strlen("zk_packets_sent"), NULL, 10);
    return 0;
}

static int run(const struct herd_run_spec *spec, struct herd_report *r, char *err, size_t errlen)
{
    const struct herd_zklock_config *cfg = &spec->cfg.zklock;
    struct zrun Z = {.cfg = cfg, .n = spec->n, .holder = -1};
    struct herd_svc svc = {0};
    zhandle_t *own = NULL;
    char hosts[360], own_node[128] = "";
    int64_t spawned = 0, nev = 0;
    double notif_sum = 0, woken_sum = 0;
    int rc = 0;

    zoo_set_debug_level(ZOO_LOG_LEVEL_ERROR);
    FILE *devnull = fopen("/dev/null", "we");
    if (devnull)
        zoo_set_log_stream(devnull);
    pthread_mutex_init(&Z.mu, NULL);
    pthread_cond_init(&Z.cv, NULL);
    Z.w = calloc((size_t)Z.n, sizeof *Z.w);
    if (!Z.w) {
        snprintf(err, errlen, "zk-lock: out of memory for %" PRId64 " workers", Z.n);
        rc = -HERD_ENOMEM;
        goto out;
    }
    struct herd_svc_opts so = {.max_clients = (int)Z.n + 8};
    rc = cfg->external
             ? herd__svc_attach(HERD_SVC_ZOOKEEPER, spec->text[0], "--set url", &svc, err, errlen)
             : herd__svc_start(HERD_SVC_ZOOKEEPER, &so, &svc, err, errlen);
    if (rc < 0)
        goto out;
    snprintf(hosts, sizeof hosts, "%s:%d", svc.host, svc.port);
    if (!(own = open_session(hosts, cfg->session_ns, NULL, err, errlen))) {
        rc = -HERD_EINVAL;
        goto out;
    }
    /* A clean tree, then the run's own session holds the lock first. */
    zoo_create(own, ROOT, NULL, -1, &ZOO_OPEN_ACL_UNSAFE, 0, NULL, 0);
    zoo_create(own, QDIR, NULL, -1, &ZOO_OPEN_ACL_UNSAFE, 0, NULL, 0);
    rc = cfg->strategy == HERD_ZKLOCK_NOTIFY_ALL
             ? zoo_create(own, LOCK, NULL, -1, &ZOO_OPEN_ACL_UNSAFE, ZOO_EPHEMERAL, own_node,
                          sizeof own_node)
             : zoo_create(own, QDIR "/n-", NULL, -1, &ZOO_OPEN_ACL_UNSAFE,
                          ZOO_EPHEMERAL | ZOO_SEQUENCE, own_node, sizeof own_node);
    if (rc != ZOK) {
        snprintf(err, errlen,
                 "zk-lock: cannot create the lock under " ROOT ": %s (a run left it? "
                 "delete " ROOT ")",
                 zerror(rc));
        rc = -HERD_EINVAL;
        goto out;
    }
    rc = 0;
    for (int64_t i = 0; i < Z.n; i++) {
        struct worker *k = &Z.w[i];
        k->Z = &Z;
        k->id = (int)i;
        pthread_mutex_init(&k->mu, NULL);
        pthread_cond_init(&k->cv, NULL);
        if (!(k->zh = open_session(hosts, cfg->session_ns, NULL, err, errlen))) {
            rc = herd__live_stopping() ? -HERD_EINTR : -HERD_EINVAL;
            goto out;
        }
        if ((rc = herd__thread_spawn(&k->th, worker_main, k, 0)) < 0) {
            snprintf(err, errlen, "zk-lock: cannot start worker %" PRId64 ": %s", i,
                     herd_strerror(rc));
            goto out;
        }
        k->started = true;
        spawned++;
    }
    /* Every waiter asleep on its watch before the first release. */
    if ((rc = wait_for(&Z, armed_at_least, Z.n, herd__now_ns() + 60 * HERD_NS_PER_S)) < 0) {
        if (rc == -HERD_ETIMEDOUT)
            snprintf(err, errlen, "zk-lock: the waiters did not all set their watch in 60 s");
        goto out;
    }

    for (int64_t e = 0; e < spec->events; e++) {
        if (herd__live_progress((uint64_t)e)) {
            rc = -HERD_EINTR;
            goto out;
        }
        uint64_t r0, s0, r1, s1;
        if (zk_packets(&svc, &r0, &s0) < 0) {
            snprintf(err, errlen, "zk-lock: mntr failed (4lw commands not allowed?)");
            rc = -HERD_EINVAL;
            goto out;
        }
        for (int64_t i = 0; i < Z.n; i++)
            Z.w[i].ev_woken = Z.w[i].ev_attempts = 0;
        atomic_store(&Z.peak, 0);
        int64_t prev = Z.holder; /* the releaser (-1: the run's own session) */
        if (prev < 0) {
            Z.t_release = herd__now_ns();
            zoo_delete(own, own_node, -1);
        } else {
            struct worker *h = &Z.w[prev];
            pthread_mutex_lock(&h->mu);
            h->release = true;
            pthread_cond_signal(&h->cv);
            pthread_mutex_unlock(&h->mu);
        }
        /* Settled: a new holder, and every other waiter asleep on a watch again. */
        int64_t until = herd__now_ns() + cfg->deadline_ns;
        if ((rc = wait_for(&Z, acquired_at_least, e + 1, until)) < 0 ||
            (rc = settle(&Z, &svc, e, until)) < 0) {
            if (rc == -HERD_ETIMEDOUT)
                snprintf(err, errlen, "zk-lock: release %" PRId64 " did not settle in time", e);
            goto out;
        }
        if (zk_packets(&svc, &r1, &s1) < 0) {
            rc = -HERD_EINVAL;
            snprintf(err, errlen, "zk-lock: mntr failed");
            goto out;
        }
        struct herd_event ev = {.origin_load = r1 - r0, .peak = (uint64_t)atomic_load(&Z.peak)};
        pthread_mutex_lock(&Z.mu);
        int64_t holder = Z.holder;
        herd_hist_record(&r->latency, Z.lat_ns);
        for (int64_t i = 0; i < Z.n; i++) {
            struct worker *k = &Z.w[i];
            if (i == holder) {
                ev.useful++;
                herd_report_waiter(r, (size_t)i, HERD_OUT_USEFUL);
            } else if (k->ev_woken > 0) {
                ev.wasted += (uint64_t)k->ev_woken;
                for (int64_t j = 0; j < k->ev_woken; j++)
                    herd_report_waiter(r, (size_t)i, HERD_OUT_WASTED);
            } else {
                /* Not woken: still queued, the releaser itself, or done with the lock. */
                ev.idle++;
                herd_report_waiter(r, (size_t)i, HERD_OUT_IDLE);
            }
            woken_sum += (double)k->ev_woken;
        }
        pthread_mutex_unlock(&Z.mu);
        /* Notifications the server pushed: packets sent beyond the replies to requests. */
        notif_sum += (double)((s1 - s0) - (r1 - r0));
        if ((rc = herd_report_add_event(r, &ev)) < 0) {
            snprintf(err, errlen, "zk-lock: out of memory");
            goto out;
        }
        nev++;
    }

out:
    pthread_mutex_lock(&Z.mu);
    Z.quit = true;
    pthread_cond_broadcast(&Z.cv);
    pthread_mutex_unlock(&Z.mu);
    for (int64_t i = 0; i < spawned; i++) {
        pthread_mutex_lock(&Z.w[i].mu);
        pthread_cond_signal(&Z.w[i].cv);
        pthread_mutex_unlock(&Z.w[i].mu);
    }
    for (int64_t i = 0; i < spawned; i++)
        pthread_join(Z.w[i].th, NULL);
    if (herd__live_stopping() && rc == 0)
        rc = -HERD_EINTR;
    if (rc == 0) {
        herd_report_extra(r, "service_startup_s", (double)svc.startup_ns / 1e9);
        herd_report_extra(r, "zk_notifications_per_release", nev ? notif_sum / (double)nev : 0);
        herd_report_extra(r, "watch_events_per_release", nev ? woken_sum / (double)nev : 0);
        if (svc.external)
            herd_report_extra(r, "external_service", 1);
    }
    for (int64_t i = 0; Z.w && i < Z.n; i++) {
        if (Z.w[i].zh)
            zookeeper_close(Z.w[i].zh);
        if (Z.w[i].Z) {
            pthread_cond_destroy(&Z.w[i].cv);
            pthread_mutex_destroy(&Z.w[i].mu);
        }
    }
    if (own) {
        /* The user's server keeps nothing of the run: its sessions' nodes went with them. */
        zoo_delete(own, QDIR, -1);
        zoo_delete(own, ROOT, -1);
        zookeeper_close(own);
    }
    herd__svc_stop(&svc);
    pthread_cond_destroy(&Z.cv);
    pthread_mutex_destroy(&Z.mu);
    free(Z.w);
    if (devnull) {
        zoo_set_log_stream(stderr);
        fclose(devnull);
    }
    return rc;
}

#endif /* HERD_HAVE_ZOOKEEPER */

const struct herd_live_scenario herd__live_zklock = {needs, run, check};
