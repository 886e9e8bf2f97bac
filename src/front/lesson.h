/* lesson.h — a field-guide lesson (scenario/lessons.h), run: the evidence that settles
 * its question, measured now.
 *
 * herd lesson and the page's field-guide view (POST /api/lesson) both call
 * herd_lesson_run, which judges the claims the lesson cites on the simulator (each named
 * file's claims, herd_sim_fleet_check), runs each choice that names a strategy and the
 * reader's own combination of them (the decision games, measured pick by pick), and the
 * naive run against the lesson's `versus` strategy for the chart. Everything it returns
 * comes from these runs: figures by their names in the outcome vocabulary (DESIGN §1,
 * docs/glossary.md) and the herd resource's timeline.
 *
 * Cost: one fleet run per distinct strategy of each file (the shipped files take 0.1–2 s
 * each on this machine). Thread safety: reentrant; runs are independent.
 */
#ifndef HERD_FRONT_LESSON_H
#define HERD_FRONT_LESSON_H

#include <stddef.h>
#include <stdint.h>

#include "../scenario/lessons.h"

/* The figures of each measured pick, in the picks table's order: names of the vocabulary
 * (herd_fleet_figure); "herd.X" is figure X of the herd's resource (the file's `herd`). */
#define HERD_LESSON_FIGURES(X)                                                                     \
    X("origin_load", "origin load")                                                                \
    X("peak", "peak")                                                                              \
    X("wasted", "wasted")                                                                          \
    X("failed", "failed")                                                                          \
    X("herd.peak_queue", "peak queue")                                                       \
    X("latency.p99", "p99 (s)")

/** The lesson's content without runs (question, choices, answer, evidence files), as a
 *  JSON object (json_t *, as void *), or NULL without memory. */
void *herd_lesson_json(const struct herd_lesson *l);

/**
 * Run @p l's evidence with @p seed; @p pick is the reader's canonical answer
 * (herd_lesson_answer) or NULL. @return a JSON object (json_t *, as void *): the lesson,
 * "pick", "correct" (null without a pick), "evidence" (per file: its claims judged),
 * "picks" (figures per measured choice), "chart" (the herd resource's arrivals per bucket,
 * naive vs versus), "claims_failed"; or NULL with one line in @p err (a file missing or
 * refused, a run failed, out of memory).
 */
void *herd_lesson_run(const struct herd_lesson *l, const char *pick, uint64_t seed, char *err,
                      size_t errlen);

#endif
