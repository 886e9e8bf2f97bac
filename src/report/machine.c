/* machine.c — the machine's figures around live runs: warnings, verdict, merge, text and
 * JSON (machine.h). The sampling is src/live/machine.c. */
#include "machine.h"

#include <jansson.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

/* Add @p text (one line) unless already present; @p verdict marks the sampler's own
 * reasons, which verdict() re-derives from the figures. An advisory window judges nothing:
 * it takes no reason. Trusted is what the warnings say, never set on its own. */
static void add_warning(struct herd_machine *m, const char *text, bool verdict)
{
    char line[HERD_MACHINE_WARN_LEN];
    if (m->advisory)
        return;
    snprintf(line, sizeof line, "%s", text);
    for (char *p = line; *p; p++)
        if (*p == '\n' || *p == '\r')
            *p = ' ';
    bool seen = false;
    for (int i = 0; i < m->nwarnings; i++)
        seen |= strcmp(m->warnings[i], line) == 0;
    if (!seen && m->nwarnings == HERD_MACHINE_NWARN) {
        m->ndropped++;
    } else if (!seen) {
        if (verdict)
            m->verdict_mask |= 1u << m->nwarnings;
        memcpy(m->warnings[m->nwarnings++], line, sizeof line);
    }
    m->trusted = m->nwarnings == 0;
}

void herd_machine_warn(struct herd_machine *m, const char *fmt, ...)
{
    char line[HERD_MACHINE_WARN_LEN];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    add_warning(m, line, false);
}

/* The sampler's own reasons from the figures, first, then everyone else's as they were:
 * merged windows then carry one "other processes used" line for the worst run, not one
 * per run with a different percentage each. */
void herd_machine_verdict(struct herd_machine *m)
{
    char keep[HERD_MACHINE_NWARN][HERD_MACHINE_WARN_LEN], line[HERD_MACHINE_WARN_LEN];
    char when[48];
    int nkeep = 0;

    for (int i = 0; i < m->nwarnings; i++)
        if (!(m->verdict_mask & (1u << i)))
            memcpy(keep[nkeep++], m->warnings[i], sizeof line);
    m->nwarnings = 0;
    m->verdict_mask = 0;
    if (m->advisory) { /* recorded, not judged: every reason goes, the callers' too */
        m->ndropped = 0;
        m->trusted = true;
        return;
    }
    if (m->windows > 1)
        snprintf(when, sizeof when, "in the worst of %d runs", m->windows);
    else
        snprintf(when, sizeof when, "during the run");
    if (m->others_cpu > HERD_MACHINE_OTHERS_MAX) {
        snprintf(line, sizeof line,
                 "other processes used %.0f %% of the %d CPUs %s (limit %.0f %%)",
                 m->others_cpu * 100, m->cpus, when, HERD_MACHINE_OTHERS_MAX * 100);
        add_warning(m, line, true);
    }
    if (m->steal > HERD_MACHINE_STEAL_MAX) {
        snprintf(line, sizeof line,
                 "the hypervisor stole %.0f %% of the %d CPUs' time %s "
                 "(limit %.0f %%)",
                 m->steal * 100, m->cpus, when, HERD_MACHINE_STEAL_MAX * 100);
        add_warning(m, line, true);
    }
    for (int i = 0; i < nkeep; i++)
        add_warning(m, keep[i], false);
    m->trusted = m->nwarnings == 0;
}

void herd_machine_init(struct herd_machine *m)
{
    memset(m, 0, sizeof *m);
    m->load1_start = m->load1_end = -1;
    m->runnable_start = m->runnable_end = -1;
    m->trusted = true;
}

static double max2(double a, double b)
{
    return a > b ? a : b;
}

void herd_machine_merge(struct herd_machine *into, const struct herd_machine *w)
{
    if (w->windows == 0 && w->nwarnings == 0 && w->trusted)
        return; /* nothing measured, nothing said */
    if (into->windows == 0) {
        /* Keep what the caller may already have said on the empty target (unless the
         * window is advisory: then nothing is held against the run). */
        struct herd_machine said = *into;
        *into = *w;
        for (int i = 0; i < said.nwarnings; i++)
            add_warning(into, said.warnings[i], false);
        into->ndropped += said.ndropped;
        herd_machine_verdict(into);
        return;
    }
    into->others_cpu = max2(into->others_cpu, w->others_cpu);
    into->own_cpu = max2(into->own_cpu, w->own_cpu);
    into->steal = max2(into->steal, w->steal);
    into->iowait = max2(into->iowait, w->iowait);
    if (into->load1_start < 0)
        into->load1_start = w->load1_start;
    if (into->runnable_start < 0)
        into->runnable_start = w->runnable_start;
    if (w->load1_end >= 0)
        into->load1_end = w->load1_end;
    if (w->runnable_end >= 0)
        into->runnable_end = w->runnable_end;
    into->invol += w->invol;
    into->vol += w->vol;
    into->cpus = into->cpus > w->cpus ? into->cpus : w->cpus;
    into->wall_ns += w->wall_ns;
    into->ticks += w->ticks;
    into->windows += w->windows;
    into->advisory = into->advisory && w->advisory;
    for (int i = 0; i < w->nwarnings; i++)
        if (!(w->verdict_mask & (1u << i)))
            add_warning(into, w->warnings[i], false);
    into->ndropped += w->ndropped;
    herd_machine_verdict(into);
}

const char *herd_machine_reason(const struct herd_machine *m)
{
    return m->nwarnings > 0 ? m->warnings[0] : "";
}

int herd_machine_format(const struct herd_machine *m, char *buf, size_t len)
{
    char runs[32] = "";
    if (m->windows > 1)
        snprintf(runs, sizeof runs, " (%d runs)", m->windows);
    return snprintf(
        buf, len,
        "others %.0f %% of %d CPUs, steal %.1f %%, iowait %.1f %%, load %.2f -> "
        "%.2f, herd preempted %llu times in %.2f s%s: %s%s",
        m->others_cpu * 100, m->cpus, m->steal * 100, m->iowait * 100, m->load1_start, m->load1_end,
        (unsigned long long)m->invol, (double)m->wall_ns / 1e9, runs,
        m->advisory  ? "recorded, not judged (simulated)"
        : m->trusted ? "trusted"
                     : "untrusted: ",
        m->trusted ? "" : herd_machine_reason(m));
}

void *herd_machine_to_json(const struct herd_machine *m)
{
    json_t *o = json_object(), *w = json_array();
    for (int i = 0; i < m->nwarnings; i++)
        json_array_append_new(w, json_string(m->warnings[i]));
    json_object_set_new(o, "trusted", json_boolean(m->trusted));
    json_object_set_new(o, "advisory", json_boolean(m->advisory));
    json_object_set_new(o, "warnings", w);
    json_object_set_new(o, "others_cpu", json_real(m->others_cpu));
    json_object_set_new(o, "own_cpu", json_real(m->own_cpu));
    json_object_set_new(o, "steal", json_real(m->steal));
    json_object_set_new(o, "iowait", json_real(m->iowait));
    json_object_set_new(o, "load1_start", json_real(m->load1_start));
    json_object_set_new(o, "load1_end", json_real(m->load1_end));
    json_object_set_new(o, "runnable_start", json_integer(m->runnable_start));
    json_object_set_new(o, "runnable_end", json_integer(m->runnable_end));
    json_object_set_new(o, "involuntary_switches", json_integer((json_int_t)m->invol));
    json_object_set_new(o, "voluntary_switches", json_integer((json_int_t)m->vol));
    json_object_set_new(o, "cpus", json_integer(m->cpus));
    json_object_set_new(o, "wall_ns", json_integer(m->wall_ns));
    json_object_set_new(o, "ticks", json_integer((json_int_t)m->ticks));
    json_object_set_new(o, "runs", json_integer(m->windows));
    return o;
}
