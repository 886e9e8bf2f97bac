/* api.h — what the web API means, without the HTTP: a request becomes validated run specs,
 * runs become the report JSON, the catalogue becomes the page's menu.
 *
 * The validation is the CLI's own (herd_request_resolve, then herd_front_check), so the
 * page can send nothing `herd run` would refuse, and the
 * messages are the CLI's one-liners with the API's field names. Every function here is reentrant:
 * state lives in the caller's structs (the catalogue and the specs are plain values).
 */
#ifndef HERD_WEB_API_H
#define HERD_WEB_API_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#include "../front/runner.h"
#include "../report/provenance.h"
#include "../report/report.h"
#include "../scenario/file.h"
#include "../scenario/profile.h"

/* naive and mitigated side by side ("mode":"both") is the most one request runs. */
#define HERD_API_MAX_RUNS 2

/* The most "runs" POST /api/run/stream takes: as many as POST /api/run, now that no GET
 * starts a run (it was 10 while any page could make a browser send the stream's GET).
 * Still in the catalogue as "stream_max" for pages that read it. */
#define HERD_API_STREAM_RUNS_MAX HERD_RUNS_MAX

/* The longest scenario file accepted as text ("file" of a run, the body of POST
 * /api/validate): the CLI's files are a few KiB; a longer one gets 413. */
#define HERD_API_FILE_MAX (64 * 1024)

/** A validated POST /api/run (or stream) request: what to run, on which backend. */
struct herd_api_run {
    bool live; /* the live backend (serialized); else the simulator */
    /* A scenario file the request named (a shipped one) or carried ("file"): the specs
     * point into it, so it lives as long as they do; owned, freed by herd__api_run_fini.
     * A struct herd_api_run is moved, never copied, once it holds one. NULL: none. */
    struct herd_fleet_file *file;
    int runs; /* "runs": repeats pooled per spec; 0: the runner's default */
    size_t nspecs;
    struct herd_job jobs[HERD_API_MAX_RUNS];
    /* The request as received (compact JSON), for provenance: one byte more than
     * provenance keeps, so that a longer request is cut (and marked) there, not here. */
    char request[HERD_PROV_COMMAND_MAX + 1];
};

/**
 * Turn @p req (borrowed; the body of POST /api/run or POST /api/run/stream) into @p out. Numbers
 * may come as JSON numbers or as strings. Unknown fields, wrong types and out-of-range values are
 * refused. "scenario" names a catalogue row or a shipped scenario file (scenarios/NAME.yaml,
 * never a path); "file" carries a scenario file's text instead (at most HERD_API_FILE_MAX
 * bytes), read by the CLI's reader; for either, "params" are field paths (--set) and
 * "mitigation" may join several with '+'.
 * @return 0 (free @p out with herd__api_run_fini), -HERD_ELIMIT when "file" is over
 *         HERD_API_FILE_MAX (a 413), or -HERD_EINVAL (a 400; a file's refusal is
 *         "file:LINE:COL: path: what", herd__api_error_json shows where); each with the
 *         one-line reason in @p err (@p out not written, nothing to free).
 */
int herd__api_parse_run(const json_t *req, struct herd_api_run *out, char *err, size_t errlen);

/** Free what @p run owns (its scenario file); @p run may be zeroed or fini'd already. */
void herd__api_run_fini(struct herd_api_run *run);

/**
 * POST /api/validate: read @p len bytes of scenario file @p text as herd validate does.
 * @return malloc'd JSON (NULL: out of memory) with the status in @p *status: 200
 * {"ok":true,"name","summary","mitigations":[{name,family,help}],"topology":TOPOLOGY},
 * 413 over HERD_API_FILE_MAX, or 400 {"error":"file:LINE:COL: path: what","line","column",
 * "path"} (herd__api_error_json's). Parses and frees; starts nothing.
 */
char *herd__api_validate(const char *text, size_t len, unsigned *status);

/** The repeats job @p i of @p run makes as known before it starts (the runner's
 *  herd_front_runs: "runs", or the backend's default; the simulator may add some after its
 *  first run, HERD_SIM_AUTO_*). */
int herd__api_runs(const struct herd_api_run *run, size_t i);

/** Told before each repeat of job @p i: repeat @p rep (1-based) of @p reps, the repeats
 *  known then (they grow once at most: the simulator's, after its first). */
typedef void herd_api_progress_fn(void *ctx, size_t i, int rep, int reps);

/**
 * Run job @p i of @p run (the simulator with the costs of @p prof, @p prof_path its file
 * or NULL) into @p r, which the caller finalises on success. The run reports its progress
 * to @p watch (borrowed, may be NULL), whose poll may stop it, and each repeat's start to
 * @p progress (may be NULL) with @p ctx; a live run must be the only one in the process
 * (the caller serializes). @return 0, -HERD_EINTR when stopped, or another negative
 * HERD_E* code, each with one line in @p err (nothing left to free).
 */
int herd__api_run_one(const struct herd_api_run *run, size_t i, const struct herd_profile *prof,
                      const char *prof_path, const struct herd_watch *watch,
                      herd_api_progress_fn *progress, void *ctx, struct herd_report *r, char *err,
                      size_t errlen);

/** HTTP status for a failed run's code: 400 the user's to change, 503 interrupted, 500. */
unsigned herd__api_run_status(int rc);

/**
 * {"runs":[REPORT...]}, each REPORT herd_report_to_json() of `herd run --format json`,
 * compact on one line (an SSE data line can carry it). @return malloc'd text or NULL.
 */
char *herd__api_reports_json(struct herd_report *const *runs, size_t nruns);

/**
 * The catalogue of `herd list --format json` (the shipped scenario files' rows included, each
 * with "topology": {"components":[{name,kind}],"calls":[{from,to,from_name,to_name,
 * timeout_ns,max_attempts}],"faults":[{kind,target,target_name,peer,at_ns,for_ns}],
 * "duration_ns","drain_ns","herd"}, the run report's shapes) plus "live_max_n" (0 without a live
 * backend) and "sim_model" per scenario, and what "runs" may be: {"runs":{"max":HERD_RUNS_MAX,
 * "stream_max":HERD_API_STREAM_RUNS_MAX,"live_default":HERD_LIVE_RUNS_DEFAULT,
 * "sim_default":1,"sim_auto_max":HERD_SIM_AUTO_RUNS_MAX,"sim_auto_samples":
 * HERD_SIM_AUTO_SAMPLES}} (the simulator's default of 1 grows to at most sim_auto_max when
 * one run gives fewer than sim_auto_samples latency samples). Costs a bisection of the live
 * backend's check per live scenario (reads /proc limits): compute once. @return malloc'd
 * text or NULL.
 */
char *herd__api_catalogue(void);

/** {"error":"<msg>"} as malloc'd text, or NULL when out of memory; a scenario file's
 *  refusal ("file:LINE:COL: path: what") adds "line", "column" and "path" (the editor
 *  marks the line). */
char *herd__api_error_json(const char *msg);

#endif
