/* cli.h — what the herd subcommands share: exit codes, error printing, signals, output
 * files, and running jobs through the front ends' runner (src/front/runner.h) with the
 * command line's progress lines and exit codes. */
#ifndef HERD_CLI_H
#define HERD_CLI_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "../front/runner.h"
#include "../report/report.h"

#define HERD_EXIT_OK 0
#define HERD_EXIT_FAIL 1
#define HERD_EXIT_USAGE 2
#define HERD_EXIT_INTERRUPTED 130

/** Print "herd: <message>" on stderr as one line; returns HERD_EXIT_USAGE. */
int herd__usage_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/** Print "herd: <message>" on stderr; returns HERD_EXIT_FAIL. */
int herd__fail(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/** Install SIGINT/SIGTERM/SIGHUP handlers that make herd__cli_watch() say stop. */
void herd__cli_signals(void);

/** The watch of every run this command starts: stop once a signal arrived. */
const struct herd_watch *herd__cli_watch(void);

/* The ceilings of herd run and herd sweep (--max-memory, --max-events): a simulation
 * whose estimate exceeds the memory is refused before it starts, and one is stopped once
 * its resident memory nears it or its events pass theirs. Defaults: 2 GiB
 * (HERD_FRONT_MAX_MEMORY) and 10^10 simulated events per run (some minutes of CPU). */
#define HERD_CLI_MAX_EVENTS 10000000000ULL
#define HERD_CLI_MAX_EVENTS_MAX 1000000000000000LL
#define HERD_CLI_MAX_MEMORY_MIN (UINT64_C(64) << 20)
#define HERD_CLI_OPT_MAX_MEMORY 0x100 /* getopt_long values of the two flags */
#define HERD_CLI_OPT_MAX_EVENTS 0x101
#define HERD_CLI_OPT_CHECK 0x102
#define HERD_CLI_OPT_TRACE 0x103 /* herd run --trace */
#define HERD_CLI_BUDGET_OPTIONS                                                              \
    {"max-memory", required_argument, NULL, HERD_CLI_OPT_MAX_MEMORY},                        \
        {"max-events", required_argument, NULL, HERD_CLI_OPT_MAX_EVENTS}
#define HERD_CLI_BUDGET_HELP                                                                 \
    "      --max-memory SIZE   memory a simulation may take (default 2G; K, M, G, T;\n"      \
    "                          0: none): refused before it starts when its estimate is\n"   \
    "                          larger, stopped when its resident memory nears it\n"         \
    "      --max-events E      simulated events a run may take (default 10000000000,\n"    \
    "                          some minutes of CPU; 0: none): stopped past it\n"

/** Parse the value of --max-memory or --max-events (@p opt: its HERD_CLI_OPT_*) into
 *  @p *max_memory or @p *max_events. @return HERD_EXIT_OK, or a usage error printed. */
int herd__cli_parse_budget(int opt, const char *arg, uint64_t *max_memory,
                           uint64_t *max_events);

/** Set the ceilings of this command's runs in the watch and in @p o (may be NULL: the
 *  watch only); 0: none. */
void herd__cli_budget(struct herd_front_opts *o, uint64_t max_memory, uint64_t max_events);

/** True when text output may use UTF-8 (the locale's codeset is UTF-8). */
bool herd__cli_utf8(void);

/**
 * Options for the runner as every subcommand starts them: herd's version, this command
 * line (shell-quoted, for provenance), the signal watch, and the profile in @p prof:
 * herd calibrate's stored one when @p simulated (the jobs run on the simulator; @p path
 * then holds its path, "" when none is stored and the defaults stand in), the defaults
 * otherwise, so that a broken profile never stops a live-only command. Prints one line
 * and returns HERD_EXIT_FAIL for a stored profile that is broken.
 */
int herd__cli_front_opts(struct herd_front_opts *o, struct herd_profile *prof, char *path,
                         size_t pathlen, bool simulated);

/** True when one of the @p n jobs runs on the simulator. */
bool herd__cli_any_sim(const struct herd_job *jobs, size_t n);

/**
 * Check every job before anything starts (herd_front_check), then run them in order
 * with @p o, filling reports[i]. Progress lines go to stderr unless @p quiet. On failure
 * prints one line and returns an exit code; reports already filled stay valid and *done
 * says how many.
 */
int herd__cli_run_jobs(const struct herd_job *jobs, size_t n, struct herd_front_opts *o,
                       struct herd_report *reports, size_t *done, bool quiet);

/* Where --out writes (outfile.c says what happens to each kind of path). */
enum herd_out_kind {
    HERD_OUT_STDOUT,   /* no path, or "-" */
    HERD_OUT_REPLACE,  /* a regular file, replaced atomically with its mode */
    HERD_OUT_IN_PLACE, /* a FIFO, a device, /dev/..., a hard-linked file: written in place */
};

struct herd_cli_out {
    FILE *f;                 /* what the writers write to: stdout, or memory */
    enum herd_out_kind kind;
    const char *flag, *path; /* borrowed: for messages */
    char target[4096];       /* @p path with its symlinks followed */
    unsigned mode;           /* the file's permissions, kept (new: 0666 & ~umask) */
    char *buf;               /* the report so far (HERD_OUT_REPLACE, HERD_OUT_IN_PLACE) */
    size_t len;
};

/**
 * Judge @p path for @p flag before a run starts: stdout for NULL or "-"; an empty path, a
 * directory, a missing directory (none is created) or an unwritable place is refused
 * with one line naming @p flag (HERD_EXIT_USAGE). On HERD_EXIT_OK write to o->f, then
 * call herd__cli_out_commit once the run succeeded or herd__cli_out_abort.
 */
int herd__cli_out_open(struct herd_cli_out *o, const char *flag, const char *path);

/** Put what was written in place (outfile.c). @return 0 or -errno. */
int herd__cli_out_commit(struct herd_cli_out *o);

/** Drop what was written; nothing on disk changes. */
void herd__cli_out_abort(struct herd_cli_out *o);

/** Record argv for provenance (main does it once). */
void herd__cli_set_command(int argc, char **argv);

/* herd run's command line as typed (herd__cli_run_args): nothing checked beyond the
 * flags' own syntax; herd_request_resolve checks the rest. */
struct herd_cli_run_args {
    const char *backend, *mode, *mitigation, *format, *out;
    const char *trace; /* --trace FILE: per-request records of a simulated run */
    const char *n, *events, *seed; /* as typed: herd_request_resolve checks them */
    int64_t runs;
    uint64_t max_memory, max_events;
    bool quiet, wide;
    bool check; /* --check: judge a scenario file's claims too */
    const char *sets[64];
    int nsets;
};

/** herd run's usage text (herd run --help). */
extern const char herd__cli_run_usage[];

/**
 * Parse herd run's @p argv into @p o (preset by the caller with the defaults) and the
 * scenario argument (NULL when none). Prints --help or one usage line. @return 0, -1
 * after --help, or HERD_EXIT_USAGE.
 */
int herd__cli_run_args(int argc, char **argv, struct herd_cli_run_args *o,
                       const char **scenario);

int herd_cmd_list(int argc, char **argv);
int herd_cmd_run(int argc, char **argv);
int herd_cmd_demo(int argc, char **argv);
int herd_cmd_calibrate(int argc, char **argv);
int herd_cmd_sweep(int argc, char **argv);
int herd_cmd_serve(int argc, char **argv);
int herd_cmd_fidelity(int argc, char **argv);
int herd_cmd_validate(int argc, char **argv);
/** --seed's value @p arg (a whole number from 0) into @p seed; @return HERD_EXIT_OK, or
 *  HERD_EXIT_USAGE with one line naming --seed printed. */
int herd__cli_seed(const char *arg, uint64_t *seed);

int herd_cmd_check(int argc, char **argv);
int herd_cmd_lesson(int argc, char **argv);
int herd_cmd_picture(int argc, char **argv);
int herd_cmd_compare(int argc, char **argv);
int herd_cmd_detect(int argc, char **argv);

struct herd_fleet_file;

/**
 * The row that scenario argument @p arg names: NULL in @p *row for a catalogue name (or
 * none: herd_request_resolve says what is allowed), else a scenario file (a path, or the
 * name of a shipped one) loaded into @p *file (the caller frees it with
 * herd_fleet_file_free once its specs and reports are done) and its row. Prints one line
 * naming @p cmd and returns an exit code when the file is missing or wrong.
 */
int herd__cli_scenario(const char *cmd, const char *arg, const struct herd_scenario **row,
                       struct herd_fleet_file **file);

#endif
