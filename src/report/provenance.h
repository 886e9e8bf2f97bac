/* provenance.h — what produced a report, so that a reader can tell runs apart and rerun.
 *
 * DESIGN §1: every report carries its provenance: schema version, herd's version, the
 * command or API request, kernel, CPU, calibration profile, start time, and wall time
 * apart from simulated time. herd_provenance_init() reads what it can find itself
 * (uname, /proc/cpuinfo, online CPUs, CLOCK_REALTIME); the caller adds the profile and,
 * at the end, the times.
 *
 * Invariants: every string is NUL-terminated, valid UTF-8 (an invalid byte from the
 * caller or the system becomes '?', so the JSON writer never refuses it) and within its
 * array; nothing is allocated, so the struct can be copied, kept in a report and freed
 * with it. A string longer than its array is cut at a character boundary; only the
 * command says so in the text (its marker is HERD_PROV_TRUNC_MARK), since it is the
 * one a reader would paste into a shell.
 * Cost: init reads /proc/cpuinfo's first 8 KiB and calls uname and clock_gettime: tens
 * of microseconds, once per report. Not for a timed path.
 * Thread safety: a struct is one caller's; no global state (gmtime_r, not gmtime).
 */
#ifndef HERD_REPORT_PROVENANCE_H
#define HERD_REPORT_PROVENANCE_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* The report's schema: bump when a key changes meaning or goes away (adding one is
 * compatible). 1 was the report before it carried provenance and machine noise. */
#define HERD_REPORT_SCHEMA 2

#define HERD_PROV_VERSION_MAX 64   /* bytes, NUL included */
#define HERD_PROV_COMMAND_MAX 2048 /* a command line or API request longer is cut */
#define HERD_PROV_KERNEL_MAX 256   /* sysname release version machine */
#define HERD_PROV_CPU_MAX 128      /* /proc/cpuinfo model name */
#define HERD_PROV_PATH_MAX 512     /* profile path */
#define HERD_PROV_TIME_MAX 32      /* "2026-11-23T09:41:07.123Z" and its NUL */

/* Ends a command that did not fit; a shell given the cut text would not rerun it. */
#define HERD_PROV_TRUNC_MARK " ... [truncated]"

struct herd_provenance {
    int schema;                            /* HERD_REPORT_SCHEMA */
    char version[HERD_PROV_VERSION_MAX];   /* herd's version, from the caller */
    char command[HERD_PROV_COMMAND_MAX];   /* shell-quoted argv, or an API request's text */
    bool command_truncated;                /* command was cut and ends in the marker */
    char kernel[HERD_PROV_KERNEL_MAX];     /* uname: "Linux 6.1.0-18 #1 SMP ... x86_64" */
    char cpu_model[HERD_PROV_CPU_MAX];     /* first "model name" of /proc/cpuinfo, or the
                                              first of "Processor", "cpu model", "cpu";
                                              "unknown" when none */
    int cpus;                              /* online CPUs at init */
    char profile_path[HERD_PROV_PATH_MAX]; /* calibration profile read; "" built-in figures */
    int64_t profile_measured_at;           /* the profile's own time, Unix s; -1 unknown */
    int64_t start_unix_ns;                 /* CLOCK_REALTIME at init, ns since the epoch */
    char start[HERD_PROV_TIME_MAX];        /* the same, ISO 8601 UTC with milliseconds */
    int64_t wall_ns;                       /* wall time of the runs (all repeats, not the
                                              statistics after them), ns; -1 not set */
    int64_t sim_ns;                        /* simulated time, ns; -1 none (a live run, or a
                                              report's provenance: the report's JSON writes
                                              its own sim_time_ns here) */
};

/**
 * Fill @p p from this machine and the clock: schema, kernel, CPU model, online CPUs,
 * start time. @p version (borrowed; NULL: "unknown") is herd's version (the CLI passes
 * HERD_VERSION); @p command (borrowed; NULL: "") is the command line already joined, or
 * the request text of an API call; see herd_provenance_set_argv for argv. No profile,
 * no times yet. Files that cannot be read leave "unknown", never an error.
 */
void herd_provenance_init(struct herd_provenance *p, const char *version, const char *command);

/** Replace the command with @p text (borrowed), cut at HERD_PROV_COMMAND_MAX and marked.
 *  A text that already ends in the marker (a command cut by herd_provenance_set_argv and
 *  passed on as text) keeps command_truncated set. */
void herd_provenance_set_command(struct herd_provenance *p, const char *text);

/**
 * Replace the command with @p argv[0 .. @p argc - 1] joined by spaces, each argument
 * quoted for a POSIX shell when it needs it ('it'\''s', '' for an empty one), so that
 * pasting the command into sh reproduces argv. When it does not fit, whole arguments
 * are kept and the marker follows them.
 */
void herd_provenance_set_argv(struct herd_provenance *p, int argc, char *const argv[]);

/** The calibration profile used: @p path (borrowed; NULL or "": the built-in figures)
 *  and the time the profile says it was measured, Unix seconds (<= 0: unknown). */
void herd_provenance_set_profile(struct herd_provenance *p, const char *path, int64_t measured_at);

/** At the end: the run's wall time @p wall_ns and its simulated time @p sim_ns (-1 for
 *  a live run, which has none). */
void herd_provenance_set_end(struct herd_provenance *p, int64_t wall_ns, int64_t sim_ns);

/**
 * Write @p unix_ns as ISO 8601 UTC with milliseconds ("2026-11-23T09:41:07.123Z",
 * truncated, not rounded, to the millisecond) into @p buf (HERD_PROV_TIME_MAX bytes).
 * @return 0, or -HERD_EINVAL when the year does not fit in four digits.
 */
int herd_provenance_format_time(int64_t unix_ns, char buf[HERD_PROV_TIME_MAX]);

/**
 * @p p as a new JSON object (the caller owns the reference; NULL only when out of
 * memory), with the keys, in this order:
 *   schema (int), herd_version, command (strings), command_truncated (bool), kernel,
 *   cpu_model (strings), cpus (int), profile (null for the built-in figures, else
 *   {path, measured_at: ISO 8601 string or null}), start (ISO 8601 string),
 *   start_unix_ns (int), wall_ns (int or null until set), sim_ns (int or null).
 */
json_t *herd_provenance_to_json(const struct herd_provenance *p);

#endif
