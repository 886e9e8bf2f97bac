/* main.c — `herd <command>`: dispatch, --help, --version, and the helpers every
 * subcommand shares (errors, signals, output files, running specs). */
#include "cli.h"


#include <errno.h>
#include <inttypes.h>
#include <herd/error.h>
#include <langinfo.h>
#include <locale.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
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
    "  fidelity   live vs simulated, side by side with intervals and a verdict per row\n"
    "  validate   check scenario files (YAML) and say where each error is\n"
    "  check      judge scenario files' claims on the simulator (PASS/FAIL per claim)\n"
    "  lesson     the field guide (seed 000) question by question, settled by runs\n"
    "  picture    the field guide's five pictures as SVG, drawn from runs\n"
    "  compare    seed 000's technique table, every cell measured\n"
    "  detect     is this spike a herd? its bursts, alignment, period and synchronizer\n"
    "  serve      the interactive page and its API on http://127.0.0.1:8080/\n"
    "  help       show help for a command (herd help run)\n"
    "\n"
    "Exit status: 0 success, 1 runtime failure, 2 usage error, 130 interrupted.\n"
    "See 'herd <command> --help' for the options of each command.\n";

/* Set by the signal handler, read by every run's watch (a lock-free C11 atomic is
 * async-signal-safe and race-free). */
static atomic_int interrupted;

static void on_signal(int sig)
{
    (void)sig;
    atomic_store(&interrupted, 1);
}

/* The ceilings of this command's runs (herd__cli_budget) and which one stopped a run.
 * One command runs one job at a time on this thread. */
enum stop_why { STOP_NONE, STOP_EVENTS, STOP_MEMORY };
static struct {
    uint64_t max_events; /* simulated events per run; 0: none */
    uint64_t max_rss;    /* bytes of resident memory; 0: none */
    bool sim;            /* the job running is a simulation (the events ceiling is its) */
    enum stop_why why;
    uint64_t events;     /* at the stop */
    uint64_t rss;
} budget = {.max_events = HERD_CLI_MAX_EVENTS, .max_rss = HERD_FRONT_MAX_MEMORY};

/* This process's peak resident memory, in bytes (one getrusage: ~1 us, polled every
 * HERD_SIM_WATCH_EVERY units of a simulation's work, some ms apart). */
static uint64_t peak_rss(void)
{
    struct rusage ru;
    return getrusage(RUSAGE_SELF, &ru) == 0 ? (uint64_t)ru.ru_maxrss * 1024 : 0;
}

static bool watch_poll(void *ctx, int64_t progress_ns, uint64_t events)
{
    (void)ctx;
    (void)progress_ns;
    if (budget.sim && budget.max_events && events > budget.max_events) {
        budget.why = STOP_EVENTS;
        budget.events = events;
        return true;
    }
    /* The estimate checked up front bounds what a run allocates; this catches what it
     * cannot see (a near-critical queue's backlog): stop at 7/8 of the ceiling, which
     * leaves the poll interval's growth (a few MB) and the report's writing room. */
    if (budget.sim && budget.max_rss) {
        uint64_t rss = peak_rss();
        if (rss > budget.max_rss / 8 * 7) {
            budget.why = STOP_MEMORY;
            budget.rss = rss;
            return true;
        }
    }
    return atomic_load_explicit(&interrupted, memory_order_relaxed) != 0;
}

const struct herd_watch *herd__cli_watch(void)
{
    static const struct herd_watch watch = {watch_poll, NULL};
    return &watch;
}

void herd__cli_budget(struct herd_front_opts *o, uint64_t max_memory, uint64_t max_events)
{
    budget.max_events = max_events;
    budget.max_rss = max_memory;
    if (!o)
        return;
    o->max_memory = max_memory ? max_memory : UINT64_MAX;
    o->memory_flag = "--max-memory";
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

/* This command line, shell-quoted, for every report's provenance. */
static struct herd_provenance command_line;

void herd__cli_set_command(int argc, char **argv)
{
    herd_provenance_set_argv(&command_line, argc, argv);
}

bool herd__cli_any_sim(const struct herd_job *jobs, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (jobs[i].backend->bit == HERD_BACKEND_SIM)
            return true;
    return false;
}

int herd__cli_front_opts(struct herd_front_opts *o, struct herd_profile *prof, char *path,
                         size_t pathlen, bool simulated)
{
    char err[512];
    memset(o, 0, sizeof *o);
    o->version = HERD_VERSION;
    o->command = command_line.command;
    o->watch = herd__cli_watch();
    herd_profile_defaults(prof);
    if (pathlen)
        path[0] = '\0';
    if (simulated && herd_front_load_profile(prof, path, pathlen, err, sizeof err) < 0)
        return herd__fail("profile: %s (run herd calibrate to write a new one)", err);
    o->profile = prof;
    o->profile_path = path[0] ? path : NULL;
    return HERD_EXIT_OK;
}

struct progress {
    bool quiet;
};

static void progress(void *ctx, const struct herd_job *job, int run, int runs)
{
    const struct progress *p = ctx;
    const struct herd_run_spec *s = &job->spec;
    if (p->quiet)
        return;
    char of[32] = "";
    if (runs > 1)
        snprintf(of, sizeof of, " (run %d of %d)", run, runs);
    fprintf(stderr, "herd: running %s %s (%s) on %s, n=%lld, %lld event%s, seed %llu%s ...\n",
            s->sc->name, herd_spec_mode_name(s), herd_spec_strategy(s), job->backend->name,
            (long long)s->n, (long long)s->events, s->events == 1 ? "" : "s",
            (unsigned long long)s->seed, of);
}

int herd__cli_run_jobs(const struct herd_job *jobs, size_t n, struct herd_front_opts *o,
                       struct herd_report *reports, size_t *done, bool quiet)
{
    static const struct progress loud = {false}, silent = {true};
    char err[512];
    *done = 0;
    if (herd_front_check(jobs, n, err, sizeof err) < 0)
        return herd__usage_error("%s", err);
    for (size_t i = 0; i < n; i++) {
        const struct herd_run_spec *s = &jobs[i].spec;
        if (herd_front_fits(&jobs[i], 1, o, err, sizeof err) < 0)
            return herd__usage_error("%s %s: %s", s->sc->name, herd_spec_strategy(s), err);
    }
    o->progress = progress;
    o->progress_ctx = (void *)(quiet ? &silent : &loud);
    for (size_t i = 0; i < n; i++) {
        const struct herd_run_spec *s = &jobs[i].spec;
        budget.sim = jobs[i].backend->bit == HERD_BACKEND_SIM;
        budget.why = STOP_NONE;
        int rc = herd_front_run(&jobs[i], o, &reports[i], err, sizeof err);
        if (rc == -HERD_EINTR && budget.why == STOP_EVENTS)
            return herd__fail("%s %s: stopped past --max-events %" PRIu64 " (simulated events "
                              "per run) at %" PRIu64 " events; raise it (0: no ceiling) or "
                              "lower -n, --events or the parameters",
                              s->sc->name, herd_spec_strategy(s), budget.max_events,
                              budget.events);
        if (rc == -HERD_EINTR && budget.why == STOP_MEMORY)
            return herd__fail("%s %s: stopped near --max-memory %.3g GB: resident memory "
                              "reached %.3g GB; raise it (0: no ceiling) or lower -n or the "
                              "parameters",
                              s->sc->name, herd_spec_strategy(s), (double)budget.max_rss / 1e9,
                              (double)budget.rss / 1e9);
        if (rc == -HERD_EINTR) {
            fprintf(stderr, "herd: %s\n", err);
            return HERD_EXIT_INTERRUPTED;
        }
        if (rc < 0) {
            /* A combination of settings the backend cannot run (a burst beyond the listen
             * backlog, a simulation too large to finish) is the user's to change: a usage
             * error, still one line. */
            if (rc == -HERD_EINVAL || rc == -HERD_ELIMIT)
                return herd__usage_error("%s %s: %s", s->sc->name, herd_spec_strategy(s), err);
            return herd__fail("%s %s: %s", s->sc->name, herd_spec_strategy(s), err);
        }
        if (!quiet && jobs[i].backend->bit == HERD_BACKEND_SIM) {
            /* Both totals over the same runs (the intervals' statistics are in neither). */
            const struct herd_report *r = &reports[i];
            char over[32] = "";
            if (r->runs > 1)
                snprintf(over, sizeof over, " (%d runs)", r->runs);
            fprintf(stderr, "herd: simulated %.3f s in %.3f s of wall time%s\n",
                    (double)r->sim_time_ns / 1e9, (double)r->provenance.wall_ns / 1e9, over);
        }
        *done = i + 1;
    }
    return HERD_EXIT_OK;
}

int main(int argc, char **argv)
{
    setlocale(LC_CTYPE, "");
    herd__cli_set_command(argc, argv);
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
        if (strcmp(argv[2], "fidelity") == 0)
            return herd_cmd_fidelity(2, hargv);
        if (strcmp(argv[2], "validate") == 0)
            return herd_cmd_validate(2, hargv);
        if (strcmp(argv[2], "check") == 0)
            return herd_cmd_check(2, hargv);
        if (strcmp(argv[2], "lesson") == 0)
            return herd_cmd_lesson(2, hargv);
        if (strcmp(argv[2], "picture") == 0)
            return herd_cmd_picture(2, hargv);
        if (strcmp(argv[2], "compare") == 0)
            return herd_cmd_compare(2, hargv);
        if (strcmp(argv[2], "detect") == 0)
            return herd_cmd_detect(2, hargv);
        return herd__usage_error("help: unknown command '%s'; commands: list, run, sweep, demo, "
                                 "calibrate, serve, fidelity, validate, check, lesson, picture",
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
    if (strcmp(cmd, "fidelity") == 0)
        return herd_cmd_fidelity(argc - 1, argv + 1);
    if (strcmp(cmd, "validate") == 0)
        return herd_cmd_validate(argc - 1, argv + 1);
    if (strcmp(cmd, "check") == 0)
        return herd_cmd_check(argc - 1, argv + 1);
    if (strcmp(cmd, "lesson") == 0)
        return herd_cmd_lesson(argc - 1, argv + 1);
    if (strcmp(cmd, "picture") == 0)
        return herd_cmd_picture(argc - 1, argv + 1);
    if (strcmp(cmd, "compare") == 0)
        return herd_cmd_compare(argc - 1, argv + 1);
    if (strcmp(cmd, "detect") == 0)
        return herd_cmd_detect(argc - 1, argv + 1);
    return herd__usage_error("'%s' is not a herd command; commands: list, run, sweep, demo, "
                             "calibrate, serve, fidelity, validate, check, lesson, picture (see "
                             "herd --help)",
                             cmd);
}
