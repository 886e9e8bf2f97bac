/* compare.h — seed 000's technique table, measured (herd compare).
 *
 * Each of the table's eight techniques is run naive and with the technique on the scenario
 * file that tests it (scenarios/, scenarios/field-guide/), one seed, on the simulator; each
 * of the four columns is filled with the figure that answers it and a verdict derived from
 * that figure, beside the seed's own Yes/No:
 *
 *   breaks synchronization?  the herd resource's peak arrival rate, naive → technique
 *   reduces duplicate work?  the herd resource's attempts (a coordination service: its
 *                            requests), naive → technique
 *   adds latency?            the clients' p99 (end to end), naive → technique
 *   risks correctness?       copies served stale or older than the data's bound (caches),
 *                            with the technique
 *
 * A verdict is "yes" when the figure moves by the technique's margin (2× for the peak,
 * 1.5× for the work, 1.2× for the p99), "no" otherwise; where it disagrees with the seed
 * the cell says so. --constraint no-stale keeps the rows whose measured correctness risk
 * is none and names the first move among them (the seed's question).
 *
 * Cost: 16 fleet runs, about 10 s of CPU here. Thread safety: reentrant.
 */
#ifndef HERD_FRONT_COMPARE_H
#define HERD_FRONT_COMPARE_H

#include <stddef.h>
#include <stdint.h>

/**
 * Run the table with @p seed. @p constraint is NULL or "no-stale". @return a JSON object
 * (json_t *, as void *): "columns", "rows" (per technique: its scenario file, the two
 * strategies, the herd run commands, per column the naive and technique figures, the
 * measured verdict, the seed's and whether they agree), and with a constraint "answer";
 * or NULL with one line in @p err.
 */
void *herd_compare_run(uint64_t seed, const char *constraint, char *err, size_t errlen);

#endif
