/* machine.c — sampling the machine around a live run (see machine.h).
 *
 * Two samples, each a handful of system calls; everything else is arithmetic on their
 * difference. Files are read with one read() into a stack buffer: the "cpu" line is
 * the first of /proc/stat, so 1 KiB is always enough however many CPUs and interrupts
 * follow, and /proc/loadavg is one short line.
 */
#include "machine.h"

#include "live_int.h"

#include <assert.h>
#include <errno.h>
#include <fcntl.h>
#include <herd/error.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

/* Read up to @p len - 1 bytes of @p path into @p buf, NUL-terminated.
 * @return the byte count or a negated errno. */
static ssize_t read_head(const char *path, char *buf, size_t len)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return -errno;
    ssize_t got;
    do
        got = read(fd, buf, len - 1);
    while (got < 0 && errno == EINTR);
    int err = errno;
    close(fd);
    if (got < 0)
        return -err;
    buf[got] = '\0';
    return got;
}

static int read_stat(struct herd_machine_sample *s)
{
    char buf[1024];
    ssize_t got = read_head("/proc/stat", buf, sizeof buf);
    if (got < 0)
        return (int)got;
    /* cpu user nice system idle iowait irq softirq steal guest guest_nice; guest time is
     * already inside user and nice, so it is not added again. */
    unsigned long long v[8] = {0};
    if (strncmp(buf, "cpu ", 4) != 0 ||
        sscanf(buf + 4, "%llu %llu %llu %llu %llu %llu %llu %llu", &v[0], &v[1], &v[2], &v[3],
               &v[4], &v[5], &v[6], &v[7]) < 8)
        return -EPROTO;
    s->total = 0;
    for (int i = 0; i < 8; i++)
        s->total += v[i];
    s->idle = v[3];
    s->iowait = v[4];
    s->steal = v[7];
    s->stat_ok = true;
    return 0;
}

int herd__read_loadavg(double *load1, long *runnable, long *tasks)
{
    char buf[128];
    ssize_t got = read_head("/proc/loadavg", buf, sizeof buf);
    if (got < 0)
        return (int)got;
    return sscanf(buf, "%lf %*f %*f %ld/%ld", load1, runnable, tasks) == 3 ? 0 : -EPROTO;
}

static void read_loadavg(struct herd_machine_sample *s)
{
    double l1;
    long run, tasks;
    s->load1 = -1;
    s->runnable = -1;
    if (herd__read_loadavg(&l1, &run, &tasks) == 0) {
        s->load1 = l1;
        s->runnable = (int)run;
    }
}

static int64_t tv_ns(struct timeval tv)
{
    return (int64_t)tv.tv_sec * 1000000000 + (int64_t)tv.tv_usec * 1000;
}

/* User + system CPU of this process and its reaped children. */
static int64_t own_ns(const struct rusage *self, const struct rusage *kids)
{
    return tv_ns(self->ru_utime) + tv_ns(self->ru_stime) + tv_ns(kids->ru_utime) +
           tv_ns(kids->ru_stime);
}

int64_t herd__own_cpu_ns(void)
{
    struct rusage self, kids;
    getrusage(RUSAGE_SELF, &self);
    getrusage(RUSAGE_CHILDREN, &kids);
    return own_ns(&self, &kids);
}

static int sample(struct herd_machine_sample *s)
{
    struct rusage self, kids;
    struct timespec ts;

    memset(s, 0, sizeof *s);
    int rc = read_stat(s);
    read_loadavg(s);
    /* Neither call can fail with these arguments. */
    getrusage(RUSAGE_SELF, &self);
    getrusage(RUSAGE_CHILDREN, &kids);
    s->own_ns = own_ns(&self, &kids);
    s->vol = (uint64_t)self.ru_nvcsw + (uint64_t)kids.ru_nvcsw;
    s->invol = (uint64_t)self.ru_nivcsw + (uint64_t)kids.ru_nivcsw;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    s->mono_ns = (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
    return rc;
}

int herd_machine_begin(struct herd_machine *m)
{
    herd_machine_init(m);
    int rc = sample(&m->start);
    if (rc < 0)
        herd_machine_warn(m, "could not read /proc/stat (%s): the machine's noise is unknown",
                          herd_strerror(rc));
    m->load1_start = m->start.load1;
    m->runnable_start = m->start.runnable;
    return rc;
}

static double share(double part, double whole)
{
    double s = whole > 0 ? part / whole : 0;
    return s < 0 ? 0 : s > 1 ? 1 : s;
}

int herd_machine_end(struct herd_machine *m)
{
    struct herd_machine_sample end;
    const struct herd_machine_sample *a = &m->start;
    assert(a->mono_ns != 0 && "herd_machine_end without herd_machine_begin");
    int rc = sample(&end);
    long cpus = sysconf(_SC_NPROCESSORS_ONLN);

    m->cpus = cpus > 0 ? (int)cpus : 1;
    m->windows = 1;
    m->wall_ns = end.mono_ns - a->mono_ns;
    m->load1_end = end.load1;
    m->runnable_end = end.runnable;
    m->vol = end.vol - a->vol;
    m->invol = end.invol - a->invol;
    if (rc < 0) {
        herd_machine_warn(m, "could not read /proc/stat (%s): the machine's noise is unknown",
                          herd_strerror(rc));
        return rc;
    }
    if (!a->stat_ok)
        return 0; /* begin said why already; no figures to judge */

    long hz = sysconf(_SC_CLK_TCK);
    double tick_ns = 1e9 / (double)(hz > 0 ? hz : 100);
    uint64_t ticks = end.total - a->total;
    double total_ns = (double)ticks * tick_ns;
    double busy_ns = (double)((end.total - end.idle - end.iowait - end.steal) -
                              (a->total - a->idle - a->iowait - a->steal)) *
                     tick_ns;
    double own_ns = (double)(end.own_ns - a->own_ns);

    m->ticks = ticks;
    m->own_cpu = share(own_ns, total_ns);
    m->others_cpu = share(busy_ns - own_ns, total_ns);
    m->steal = share((double)(end.steal - a->steal) * tick_ns, total_ns);
    m->iowait = share((double)(end.iowait - a->iowait) * tick_ns, total_ns);

    herd_machine_verdict(m);
    return 0;
}

