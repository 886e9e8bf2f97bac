/* cli.h — what the herd subcommands share: exit codes, error printing, running a
 * list of specs on a backend with interruption handled. */
#ifndef HERD_CLI_H
#define HERD_CLI_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "../report/report.h"

#define HERD_EXIT_OK 0
#define HERD_EXIT_FAIL 1
#define HERD_EXIT_USAGE 2
#define HERD_EXIT_INTERRUPTED 130

/** Print "herd: <message>" on stderr as one line; returns HERD_EXIT_USAGE. */
int herd__usage_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/** Print "herd: <message>" on stderr; returns HERD_EXIT_FAIL. */
int herd__fail(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/** Install SIGINT/SIGTERM/SIGHUP handlers that ask a live run to stop. */
void herd__cli_signals(void);

/** True when text output may use UTF-8 (the locale's codeset is UTF-8). */
bool herd__cli_utf8(void);

/**
 * Check every spec against the machine before anything starts, then run them in
 * order, filling reports[i] (each initialised by the backend). With @p runs > 1 each
 * spec runs that many times with derived seeds and reports[i] is the aggregate. On failure prints
 * one line and returns an exit code; reports already filled stay valid and
 * *done says how many.
 */
/** One run to make: a spec on the live or the simulated backend. */
struct herd_cli_job {
    struct herd_run_spec spec;
    bool sim;
};

int herd__cli_run_all(const struct herd_cli_job *jobs, size_t n, int runs,
                      struct herd_report *reports, size_t *done, bool quiet);

#define HERD_RUNS_MAX 1000

/**
 * The simulator's machine costs as herd run uses them: herd calibrate's profile when
 * there is one, else the defaults. On a broken profile prints one line and returns
 * HERD_EXIT_FAIL.
 */
struct herd_profile;
int herd__cli_load_profile(struct herd_profile *p);

/**
 * Open @p path for writing through a temporary file beside it (renamed into place by
 * herd__cli_commit_out, removed by herd__cli_abort_out), or stdout when NULL/"-".
 */
FILE *herd__cli_open_out(const char *path, char *tmp, size_t tmplen);
int herd__cli_commit_out(FILE *f, const char *path, const char *tmp);
void herd__cli_abort_out(FILE *f, const char *path, const char *tmp);

int herd_cmd_list(int argc, char **argv);
int herd_cmd_run(int argc, char **argv);
int herd_cmd_demo(int argc, char **argv);
int herd_cmd_calibrate(int argc, char **argv);
int herd_cmd_sweep(int argc, char **argv);
int herd_cmd_serve(int argc, char **argv);

#endif
