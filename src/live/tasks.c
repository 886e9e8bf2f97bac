/* tasks.c — counting context switches from the kernel, and small helpers (threads, time,
 * growable sample arrays).
 *
 * Most wake-ups of a naive epoll herd never reach user space (DESIGN §4), so the
 * herds count each waiter's voluntary context switches from
 * /proc/<pid>/task/<tid>/status. Each task's file stays open and is re-read with
 * pread, which costs a few microseconds per task: a read of 1,000 waiters takes a
 * few milliseconds (11 ms on the shared 2-vCPU VM), which is why herds read once per
 * event, after it settled. That sweep is kernel work the measured herd can feel even
 * after it ended (see herd__tasks_cool), so settling first waits on a cheap count:
 * getrusage(RUSAGE_SELF) sums the switches of every thread of this process in one call.
 */
#include "live_int.h"

#include <errno.h>
#include <fcntl.h>
#include <herd/error.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

void herd__tasks_init(struct herd_tasks *ts)
{
    memset(ts, 0, sizeof *ts);
}

int herd__tasks_add(struct herd_tasks *ts, pid_t pid, pid_t tid)
{
    char path[64];
    if (ts->n == ts->cap) {
        size_t cap = ts->cap ? ts->cap * 2 : 64;
        struct herd_task *t = realloc(ts->t, cap * sizeof *t);
        if (!t)
            return -HERD_ENOMEM;
        ts->t = t;
        ts->cap = cap;
    }
    snprintf(path, sizeof path, "/proc/%d/task/%d/status", (int)pid, (int)tid);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return -errno;
    ts->t[ts->n++] = (struct herd_task){.pid = pid, .tid = tid, .fd = fd};
    return 0;
}

static uint64_t field(const char *buf, const char *key)
{
    const char *p = strstr(buf, key);
    if (!p)
        return 0;
    return strtoull(p + strlen(key), NULL, 10);
}

static int read_one(const struct herd_task *t, struct herd_task_sample *s)
{
    char buf[4096];
    ssize_t got = pread(t->fd, buf, sizeof buf - 1, 0);
    if (got <= 0)
        return got < 0 ? -errno : -ESRCH;
    buf[got] = '\0';
    const char *st = strstr(buf, "State:");
    s->state = '?';
    if (st) {
        st += 6;
        while (*st == ' ' || *st == '\t')
            st++;
        s->state = *st;
    }
    /* "nonvoluntary_ctxt_switches" contains "voluntary_ctxt_switches": match the
     * line start of the voluntary one. */
    s->vol = field(buf, "\nvoluntary_ctxt_switches:");
    s->invol = field(buf, "nonvoluntary_ctxt_switches:");
    return 0;
}

int herd__tasks_read(struct herd_tasks *ts, struct herd_task_sample *out, uint64_t *vol,
                     uint64_t *invol, size_t *running)
{
    uint64_t v = 0, iv = 0;
    size_t run = 0;
    for (size_t i = 0; i < ts->n; i++) {
        struct herd_task_sample s;
        int rc = read_one(&ts->t[i], &s);
        if (rc < 0)
            return rc;
        v += s.vol;
        iv += s.invol;
        if (s.state != 'S' && s.state != 'D' && s.state != 'I')
            run++;
        if (out)
            out[i] = s;
    }
    if (vol)
        *vol = v;
    if (invol)
        *invol = iv;
    if (running)
        *running = run;
    return 0;
}

void herd__tasks_fini(struct herd_tasks *ts)
{
    for (size_t i = 0; i < ts->n; i++)
        close(ts->t[i].fd);
    free(ts->t);
    memset(ts, 0, sizeof *ts);
}

/* Context switches (voluntary and involuntary) of every thread of this process but the
 * caller: the kernel sums its threads for RUSAGE_SELF, so this costs two system calls,
 * not a /proc sweep. Threads outside the task set count too, which can only delay. */
static uint64_t others_switches(void)
{
    struct rusage all, me;
    getrusage(RUSAGE_SELF, &all);
    getrusage(RUSAGE_THREAD, &me);
    return (uint64_t)(all.ru_nvcsw + all.ru_nivcsw) - (uint64_t)(me.ru_nvcsw + me.ru_nivcsw);
}

static bool own_threads(const struct herd_tasks *ts)
{
    pid_t me = getpid();
    for (size_t i = 0; i < ts->n; i++)
        if (ts->t[i].pid != me)
            return false;
    return ts->n > 0;
}

/* Sleep @p poll_ns at a time until others_switches() stayed put over two polls, the
 * deadline, a stop, or QUIET_MAX_POLLS (busy threads outside the task set: the sweeps
 * decide then). */
#define QUIET_MAX_POLLS 16
static void wait_quiet(int64_t poll_ns, int64_t deadline)
{
    uint64_t prev = others_switches();
    for (int polls = 0, still = 0; still < 2 && polls < QUIET_MAX_POLLS; polls++) {
        if (herd__live_poll() || herd__now_ns() >= deadline)
            return;
        herd__sleep_ns(poll_ns);
        uint64_t cur = others_switches();
        still = cur == prev ? still + 1 : 0;
        prev = cur;
    }
}

int herd__tasks_quiesce(struct herd_tasks *ts, int64_t poll_ns, int64_t max_ns,
                        struct herd_task_sample *out, uint64_t *vol, uint64_t *invol)
{
    int64_t deadline = herd__now_ns() + max_ns;
    bool own = own_threads(ts);
    uint64_t prev = UINT64_MAX, cur = 0, icur = 0;
    size_t running = 0;
    for (;;) {
        uint64_t u0 = 0, u1 = 1;
        if (own) {
            wait_quiet(poll_ns, deadline);
            u0 = others_switches();
        }
        int rc = herd__tasks_read(ts, out, &cur, &icur, &running);
        if (rc < 0)
            return rc;
        if (own)
            u1 = others_switches();
        /* Settled: every task asleep, and either no thread of this process switched
         * while the sweep read them (one sweep) or two sweeps poll_ns apart agree. */
        int st = running == 0 && (u0 == u1 || cur == prev) ? 0 : 1;
        if (st && herd__live_poll())
            st = -HERD_EINTR;
        else if (st && herd__now_ns() >= deadline)
            st = -HERD_ETIMEDOUT;
        if (st <= 0) {
            *vol = cur;
            if (invol)
                *invol = icur;
            return st;
        }
        prev = running == 0 ? cur : UINT64_MAX;
        if (!own)
            herd__sleep_ns(poll_ns);
    }
}

void herd__tasks_cool(int64_t ns)
{
    for (int64_t slept = 0; slept < ns && !herd__live_stopping(); slept += HERD_NAP_NS)
        herd__sleep_ns(HERD_NAP_NS);
}

int herd__i64s_push(struct herd_i64s *a, int64_t x, size_t max)
{
    if (a->n == a->cap) {
        if (a->cap >= max) {
            a->dropped++;
            return 0;
        }
        size_t cap = a->cap ? a->cap * 2 : 1024;
        if (cap > max)
            cap = max;
        int64_t *p = realloc(a->v, cap * sizeof *p);
        if (!p)
            return -HERD_ENOMEM;
        a->v = p;
        a->cap = cap;
    }
    a->v[a->n++] = x;
    return 0;
}

pid_t herd__gettid(void)
{
    return (pid_t)syscall(SYS_gettid);
}

int herd__thread_spawn(pthread_t *th, void *(*fn)(void *), void *arg, size_t stack)
{
    pthread_attr_t attr;
    sigset_t block, old;
    int rc;

    pthread_attr_init(&attr);
    pthread_attr_setstacksize(&attr, stack ? stack : 128 * 1024);
    sigemptyset(&block);
    sigaddset(&block, SIGINT);
    sigaddset(&block, SIGTERM);
    sigaddset(&block, SIGHUP);
    sigaddset(&block, SIGPIPE);
    pthread_sigmask(SIG_BLOCK, &block, &old);
    rc = pthread_create(th, &attr, fn, arg);
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    pthread_attr_destroy(&attr);
    return -rc;
}

int64_t herd__now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

void herd__sleep_ns(int64_t ns)
{
    struct timespec ts = {.tv_sec = ns / 1000000000, .tv_nsec = ns % 1000000000};
    while (nanosleep(&ts, &ts) < 0 && errno == EINTR && !herd__live_stopping())
        ;
}
