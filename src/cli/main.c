/* main.c — `herd <command>`: dispatch, --help, --version, and the helpers every
 * subcommand shares (errors, signals, output files, running specs). */
#include "cli.h"

#include "../live/live.h"
#include "../sim/sim.h"

#include <herd/clock.h>

#include <errno.h>
#include <herd/error.h>
#include <langinfo.h>
#include <locale.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#ifndef HERD_VERSION
#define HERD_VERSION "0.0.0"
#endif

static const char usage[] =
    "usage: herd [--version] [--help] <command> [<args>]\n"
    "\n"
    "herd is a thundering-herd laboratory: it runs the classic herds for real on this\n"
    "kernel, naive and mitigated, and reports wakes, useful work, wasted wakes, origin\n"
    "load, peak and latency percentiles.\n"
    "\n"
    "commands:\n"
    "  list       scenarios, their parameters (default, unit, range) and mitigations\n"
    "  run        run one scenario, naive and/or mitigated, and print the report\n"
    "  demo       the four herds, naive vs mitigated, as one side-by-side table\n"
    "  sweep      one table of a scenario's figures across N, naive and mitigated\n"
    "  calibrate  measure this machine's herd costs for the simulator\n"
    "  serve      the interactive page and its API on http://127.0.0.1:8080/\n"
    "  help       show help for a command (herd help run)\n"
    "\n"
    "Exit status: 0 success, 1 runtime failure, 2 usage error, 130 interrupted.\n"
    "See 'herd <command> --help' for the options of each command.\n";

static int vreport(int code, const char *fmt, va_list ap)
{
    fputs("herd: ", stderr);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    return code;
}

int herd__usage_error(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int rc = vreport(HERD_EXIT_USAGE, fmt, ap);
    va_end(ap);
    return rc;
}

int herd__fail(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int rc = vreport(HERD_EXIT_FAIL, fmt, ap);
    va_end(ap);
    return rc;
}

/* Set by the signal handler for a simulation in progress to see (a live run has its
 * own flag in src/live): a lock-free C11 atomic is async-signal-safe and race-free. */
static atomic_int sim_interrupted;

static void on_signal(int sig)
{
    (void)sig;
    atomic_store(&sim_interrupted, 1);
    herd_live_interrupt();
}

/* The simulator's watch poll (engine.h): stop at the next poll after a signal. */
static bool sim_poll(void *ctx, int64_t sim_ns, uint64_t events)
{
    (void)ctx;
    (void)sim_ns;
    (void)events;
    return atomic_load_explicit(&sim_interrupted, memory_order_relaxed) != 0;
}

void herd__cli_signals(void)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    sa.sa_flags = 0; /* no SA_RESTART: blocking calls on the main thread return EINTR */
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGHUP, &sa, NULL);
    signal(SIGPIPE, SIG_IGN);
}

bool herd__cli_utf8(void)
{
    const char *cs = nl_langinfo(CODESET);
    return cs && strcmp(cs, "UTF-8") == 0;
}

/* The machine costs the simulator uses: herd calibrate's profile when there is one. */
static int load_profile(struct herd_profile *p)
{
    char path[4096], err[512];
    herd_profile_default_path(path, sizeof path);
    int rc = herd_profile_read(path, p, err, sizeof err);
    if (rc == -ENOENT || rc == 0)
        return HERD_EXIT_OK;
    return herd__fail("profile: %s (run herd calibrate to write a new one)", err);
}

int herd__cli_load_profile(struct herd_profile *p)
{
    herd_profile_defaults(p);
    return load_profile(p);
}

static int run_one(const struct herd_cli_job *job, const struct herd_run_spec *s,
                   const struct herd_profile *prof, struct herd_report *r, bool quiet)
{
    char err[512];
    int rc;
    if (!quiet)
        fprintf(stderr, "herd: running %s %s (%s) on %s, n=%lld, %lld event%s, seed %llu ...\n",
                s->sc->name, s->mode == HERD_MODE_NAIVE ? "naive" : "mitigated",
                herd_spec_strategy(s), job->sim ? "sim" : "live", (long long)s->n,
                (long long)s->events, s->events == 1 ? "" : "s", (unsigned long long)s->seed);
    if (job->sim) {
        /* A sim report is a pure function of spec and seed (byte-identical JSON), so its
         * elapsed_ns is the simulated span; the wall time goes to stderr only. */
        int64_t t0 = herd_clock_monotonic_ns();
        static const struct herd_sim_watch watch = {sim_poll, NULL};
        rc = herd_sim_run_watched(s, prof, &watch, r, err, sizeof err);
        if (rc == 0 && !quiet)
            fprintf(stderr, "herd: simulated %.3f s in %.3f s of wall time\n",
                    (double)r->sim_time_ns / 1e9,
                    (double)(herd_clock_monotonic_ns() - t0) / 1e9);
    } else {
        rc = herd_live_run(s, r, err, sizeof err);
    }
    if (rc == -HERD_EINTR) {
        herd_report_fini(r);
        fprintf(stderr, "herd: %s\n", err);
        return HERD_EXIT_INTERRUPTED;
    }
    if (rc < 0) {
        herd_report_fini(r);
        /* A combination of settings the backend cannot run (cap below base, a burst
         * beyond the listen backlog, a simulation too large to finish) is the user's
         * to change: a usage error, still one line. */
        if (rc == -HERD_EINVAL || rc == -HERD_ELIMIT)
            return herd__usage_error("%s %s: %s", s->sc->name, herd_spec_strategy(s), err);
        return herd__fail("%s %s: %s", s->sc->name, herd_spec_strategy(s), err);
    }
    return HERD_EXIT_OK;
}

/* Runs 2..R of @p job, aggregated into @p first. */
static int run_more(const struct herd_cli_job *job, int runs, const struct herd_profile *prof,
                    struct herd_report *first, bool quiet)
{
    struct herd_report *more = calloc((size_t)runs - 1, sizeof *more);
    const struct herd_report **ptrs = calloc((size_t)runs - 1, sizeof *ptrs);
    int rc = HERD_EXIT_OK, done = 0;
    if (!more || !ptrs) {
        rc = herd__fail("out of memory for %d runs", runs);
        goto out;
    }
    for (int k = 1; k < runs && rc == HERD_EXIT_OK; k++) {
        struct herd_run_spec s = job->spec;
        s.seed = herd_run_seed(job->spec.seed, k);
        rc = run_one(job, &s, prof, &more[k - 1], quiet);
        if (rc == HERD_EXIT_OK)
            ptrs[done++] = &more[k - 1];
    }
    if (rc == HERD_EXIT_OK)
        herd_report_aggregate(first, ptrs, (size_t)done);
out:
    for (int k = 0; k < done; k++)
        herd_report_fini(&more[k]);
    free(more);
    free(ptrs);
    return rc;
}

int herd__cli_run_all(const struct herd_cli_job *jobs, size_t n, int runs,
                      struct herd_report *reports, size_t *done, bool quiet)
{
    struct herd_profile prof;
    char err[512];
    int rc;
    *done = 0;
    herd_profile_defaults(&prof);
    for (size_t i = 0; i < n; i++) {
        const struct herd_run_spec *s = &jobs[i].spec;
        if (jobs[i].sim && !herd_sim_supports(s->sc->name))
            return herd__usage_error("--backend sim: scenario '%s' has no simulation model yet; "
                                     "allowed: live",
                                     s->sc->name);
        if (!jobs[i].sim && herd_live_check(s, err, sizeof err) < 0)
            return herd__usage_error("%s", err);
        if (jobs[i].sim && i == 0 && (rc = load_profile(&prof)) != HERD_EXIT_OK)
            return rc;
    }
    herd_live_clear_interrupt();
    for (size_t i = 0; i < n; i++) {
        rc = run_one(&jobs[i], &jobs[i].spec, &prof, &reports[i], quiet);
        if (rc != HERD_EXIT_OK)
            return rc;
        if (runs > 1 && (rc = run_more(&jobs[i], runs, &prof, &reports[i], quiet)) != 0) {
            herd_report_fini(&reports[i]);
            return rc;
        }
        *done = i + 1;
    }
    return HERD_EXIT_OK;
}

FILE *herd__cli_open_out(const char *path, char *tmp, size_t tmplen)
{
    if (!path || strcmp(path, "-") == 0) {
        tmp[0] = '\0';
        return stdout;
    }
    snprintf(tmp, tmplen, "%s.tmp.%ld", path, (long)getpid());
    return fopen(tmp, "we");
}

int herd__cli_commit_out(FILE *f, const char *path, const char *tmp)
{
    if (f == stdout)
        return fflush(stdout) == 0 ? 0 : -errno;
    if (fclose(f) != 0) {
        int e = -errno;
        unlink(tmp);
        return e;
    }
    if (rename(tmp, path) != 0) {
        int e = -errno;
        unlink(tmp);
        return e;
    }
    return 0;
}

void herd__cli_abort_out(FILE *f, const char *path, const char *tmp)
{
    (void)path;
    if (f && f != stdout) {
        fclose(f);
        unlink(tmp);
    }
}

int main(int argc, char **argv)
{
    setlocale(LC_CTYPE, "");
    if (argc < 2) {
        fputs(usage, stderr);
        return HERD_EXIT_USAGE;
    }
    const char *cmd = argv[1];
    if (strcmp(cmd, "--version") == 0 || strcmp(cmd, "version") == 0) {
        printf("herd %s\n", HERD_VERSION);
        return HERD_EXIT_OK;
    }
    if (strcmp(cmd, "--help") == 0 || strcmp(cmd, "-h") == 0) {
        fputs(usage, stdout);
        return HERD_EXIT_OK;
    }
    if (strcmp(cmd, "help") == 0) {
        if (argc < 3) {
            fputs(usage, stdout);
            return HERD_EXIT_OK;
        }
        char *hargv[] = {argv[2], "--help", NULL};
        if (strcmp(argv[2], "list") == 0)
            return herd_cmd_list(2, hargv);
        if (strcmp(argv[2], "run") == 0)
            return herd_cmd_run(2, hargv);
        if (strcmp(argv[2], "demo") == 0)
            return herd_cmd_demo(2, hargv);
        if (strcmp(argv[2], "calibrate") == 0)
            return herd_cmd_calibrate(2, hargv);
        if (strcmp(argv[2], "sweep") == 0)
            return herd_cmd_sweep(2, hargv);
        if (strcmp(argv[2], "serve") == 0)
            return herd_cmd_serve(2, hargv);
        return herd__usage_error("help: unknown command '%s'; commands: list, run, sweep, demo, calibrate, serve",
                                 argv[2]);
    }
    if (strcmp(cmd, "list") == 0)
        return herd_cmd_list(argc - 1, argv + 1);
    if (strcmp(cmd, "run") == 0)
        return herd_cmd_run(argc - 1, argv + 1);
    if (strcmp(cmd, "demo") == 0)
        return herd_cmd_demo(argc - 1, argv + 1);
    if (strcmp(cmd, "calibrate") == 0)
        return herd_cmd_calibrate(argc - 1, argv + 1);
    if (strcmp(cmd, "sweep") == 0)
        return herd_cmd_sweep(argc - 1, argv + 1);
    if (strcmp(cmd, "serve") == 0)
        return herd_cmd_serve(argc - 1, argv + 1);
    return herd__usage_error("'%s' is not a herd command; commands: list, run, sweep, demo, calibrate, serve (see "
                             "herd --help)",
                             cmd);
}
