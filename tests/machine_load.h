/* machine_load.h — how busy OTHER processes kept the CPUs during a measurement.
 *
 * The project's machine is shared: a live latency measured while someone else's build
 * saturates both cores measures their time slices, not the herd. Tests sample this
 * before and after a live run and, when others used more than a fifth of the CPUs,
 * report a latency shortfall instead of failing on it (on a quiet machine it fails).
 * Counts are /proc/stat jiffies; our own process's (and reaped children's) CPU is
 * subtracted. Header-only, for tests.
 */
#ifndef HERD_TESTS_MACHINE_LOAD_H
#define HERD_TESTS_MACHINE_LOAD_H

#include <stdio.h>
#include <string.h>

struct cpu_sample {
    unsigned long long total, idle, self;
};

static inline struct cpu_sample cpu_sample(void)
{
    struct cpu_sample c = {0, 0, 0};
    unsigned long long v[10] = {0};
    char buf[1024];
    FILE *f = fopen("/proc/stat", "r");
    if (f) {
        if (fscanf(f, "cpu %llu %llu %llu %llu %llu %llu %llu %llu %llu %llu", &v[0], &v[1], &v[2],
                   &v[3], &v[4], &v[5], &v[6], &v[7], &v[8], &v[9]) >= 8) {
            for (int i = 0; i < 8; i++) /* guest time is already in user */
                c.total += v[i];
            c.idle = v[3] + v[4];
        }
        fclose(f);
    }
    f = fopen("/proc/self/stat", "r");
    if (f) {
        size_t got = fread(buf, 1, sizeof buf - 1, f);
        buf[got] = '\0';
        const char *p = strrchr(buf, ')');
        unsigned long long ut = 0, st = 0, cut = 0, cst = 0;
        if (p && sscanf(p + 1, " %*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %llu %llu %llu %llu",
                        &ut, &st, &cut, &cst) == 4)
            c.self = ut + st + cut + cst;
        fclose(f);
    }
    return c;
}

/** Share of the CPUs that other processes used between samples @p a and @p b. */
static inline double others_busy(struct cpu_sample a, struct cpu_sample b)
{
    double total = (double)(b.total - a.total);
    double busy = total - (double)(b.idle - a.idle) - (double)(b.self - a.self);
    return total > 0 ? (busy > 0 ? busy / total : 0) : 0;
}

#endif
