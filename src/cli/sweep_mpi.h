/* sweep_mpi.h — `herd sweep --mpi`: a sweep's simulations spread over MPI ranks.
 *
 * DESIGN §5: work beyond one core goes over MPI, one simulation per core at a time. A
 * sweep is jobs (N, strategy) times --runs seeds; each (job, run) is a work item, a pure
 * function of its spec and seed. Rank 0 hands items out one at a time to whichever rank
 * asks (and runs items itself in between), collects each item's figures and returns, per
 * job, exactly the figures the serial sweep prints (the runs' means, summed in run order),
 * so the table is byte-identical whatever the number of ranks.
 *
 * Built against MPI only when meson finds it (HERD_HAVE_MPI); otherwise a stub says so.
 * Thread safety: call from the main thread, once per process (MPI is initialised and
 * finalised inside).
 */
#ifndef HERD_CLI_SWEEP_MPI_H
#define HERD_CLI_SWEEP_MPI_H

#include <stdbool.h>
#include <stddef.h>

#include "cli.h"

/** Was this herd built with MPI? */
bool herd__sweep_mpi_available(void);

/**
 * Under an MPI launcher, send stderr to /dev/null on every rank but 0, before anything is
 * checked: the ranks parse the same command line, so each finds the same usage error and
 * it is printed once; a run's failure on any rank reaches rank 0 as a message. The rank
 * comes from the launcher's environment (OMPI_COMM_WORLD_RANK, or PMI_RANK); without
 * one this does nothing.
 */
void herd__sweep_mpi_quiet_ranks(void);

/**
 * A rank silenced by herd__sweep_mpi_quiet_ranks that refuses the sweep before MPI starts
 * (every rank finds the same error) waits a moment before it exits: mpirun aborts the job
 * when the first rank exits non-zero, and rank 0 must have printed the reason by then.
 * Does nothing on rank 0 or outside mpirun.
 */
void herd__sweep_mpi_linger(void);

/**
 * Run @p njobs sim jobs, @p runs times each with derived seeds (herd_run_seed), across
 * the ranks of MPI_COMM_WORLD; every rank calls this with the same jobs (mpirun gives all
 * the same command line). On rank 0, @p *root is set and @p figs[i] (njobs entries) gets
 * job i's figures as herd sweep prints them: the single run's, or the means over the runs.
 * Progress lines (unless @p quiet) and error lines come from rank 0 only.
 * @return an exit code (HERD_EXIT_*), the same on every rank; on failure @p figs is not
 *         complete and must not be printed.
 */
int herd__sweep_mpi_run(const struct herd_job *jobs, size_t njobs, int runs, bool quiet,
                        struct herd_figures *figs, bool *root);

#endif
