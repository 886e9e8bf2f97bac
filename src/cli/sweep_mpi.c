/* sweep_mpi.c — herd sweep's work items over MPI (the interface is sweep_mpi.h).
 *
 * The protocol, on MPI_COMM_WORLD; rank 0 hands out work and computes too:
 *   setup  rank 0 loads the machine profile and broadcasts it with the sweep's shape and
 *          a checksum of its specs. Every rank simulates with rank 0's profile, so a
 *          figure does not depend on which machine ran it; a rank whose command line
 *          made a different sweep is refused by all (one line, exit 2).
 *   work   a worker sends TAG_RESULT (its first carries no item) and gets TAG_WORK
 *          messages: item indices, up to DEPTH outstanding so that it need not wait for
 *          rank 0 between items (one at a time near the end); then one END. Rank 0
 *          answers between its own items and from inside its own simulations (the sim
 *          watch poll, every 2^18 events). Items go out largest N first, so the long
 *          runs start early and the short ones fill the tail.
 *   error  the first failure on any rank is printed once, by rank 0, which stops handing
 *          out items and sends TAG_STOP to every worker with items outstanding: its watch
 *          poll ends the run in progress (EINTR) and its queued items come back cancelled
 *          without running. END says whether a STOP was sent, so none is left unreceived.
 *   end    rank 0 broadcasts the exit code; every rank finalises MPI and returns it.
 * MPI_Abort only where the ranks cannot agree: a message that breaks the protocol.
 *
 * Determinism: an item is a pure function of its spec, seed and the profile; rank 0 keeps
 * each item's figures and takes the means per job in run order, the sums
 * herd_report_aggregate() makes, so the table is byte-identical to the serial sweep's.
 * Messages are structs sent as MPI_BYTE: the ranks run the same herd binary on one
 * architecture (mpirun of one executable on a homogeneous cluster).
 * Cost: one ~600-byte message each way per run and 136 bytes per item on rank 0 (a
 * 10-point, 5-strategy, 50-run sweep: 340 KB). Runs of microseconds (N = 10 on
 * backoff-occ) are bound by message latency; runs of milliseconds and more are not.
 * Only rank 0 writes to stderr (herd__sweep_mpi_quiet_ranks silences the others).
 * Signals keep their default action here: mpirun stops the job on Ctrl-C.
 */
#include "sweep_mpi.h"

#include <fcntl.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

void herd__sweep_mpi_quiet_ranks(void)
{
    const char *rank = getenv("OMPI_COMM_WORLD_RANK");
    if (!rank)
        rank = getenv("PMI_RANK");
    if (!rank || atoi(rank) <= 0)
        return;
    int fd = open("/dev/null", O_WRONLY | O_CLOEXEC);
    if (fd >= 0) {
        dup2(fd, STDERR_FILENO);
        close(fd);
    }
}

void herd__sweep_mpi_linger(void)
{
    const char *rank = getenv("OMPI_COMM_WORLD_RANK");
    if (!rank)
        rank = getenv("PMI_RANK");
    if (!rank || atoi(rank) <= 0)
        return;
    struct timespec ts = {0, 500 * 1000 * 1000}; /* rank 0 prints in microseconds */
    while (nanosleep(&ts, &ts) < 0)
        ;
}

#ifdef HERD_HAVE_MPI

#include "../scenario/file.h"
#include "../sim/sim.h"

#include <herd/clock.h>
#include <herd/error.h>
#include <malloc.h>
#include <mpi.h>
#include <stdint.h>
#include <string.h>

#define COMM MPI_COMM_WORLD
#define DEPTH 2 /* most items a worker holds: the one it runs and the next */

enum { TAG_RESULT = 1, TAG_WORK, TAG_STOP };

/* TAG_WORK payloads below 0: no more items (and whether a TAG_STOP was sent). */
#define WORK_END (-1)
#define WORK_END_STOPPED (-2)

/* result.status: done, cancelled after a stop, or a failure's exit code (1, 2). */
#define ST_OK 0
#define ST_CANCELLED (-1)

struct result {
    int64_t item;      /* -1: a worker's first message, asking for work */
    int32_t status;    /* ST_OK, ST_CANCELLED or HERD_EXIT_FAIL / HERD_EXIT_USAGE */
    int32_t stop_seen; /* this rank has received its TAG_STOP */
    int64_t wall_ns;   /* the run's wall time, for progress lines */
    int64_t sim_ns;    /* its simulated span */
    struct herd_figures fig;
    char err[400]; /* a failure's line, without "herd: " */
};

struct setup {
    int32_t rc; /* an exit code: nonzero ends the sweep before any run */
    int32_t runs;
    uint64_t nitems;
    uint64_t checksum;
    struct herd_profile prof;
};

/* One rank's state. The fields under "rank 0" are used there only. */
struct sweep {
    const struct herd_job *jobs; /* borrowed */
    size_t nitems;
    int runs, rank, size;
    bool quiet;
    struct herd_profile prof; /* rank 0's */
    bool stop_seen;           /* a worker got its TAG_STOP */

    /* rank 0 */
    size_t next;               /* items handed out (to anyone, rank 0 included) */
    size_t finished;           /* items with figures */
    int active;                /* workers not yet sent END */
    int *outstanding;          /* per rank: items handed out, not yet reported */
    bool *stop_sent;           /* per rank */
    bool stopping;             /* a failure: hand out nothing more */
    int rc;                    /* the first failure's exit code */
    struct herd_figures *figs; /* per item */
    int64_t t0;
};

/* FNV-1a over what makes each job: ranks that parsed different command lines differ. */
static uint64_t jobs_checksum(const struct herd_job *jobs, size_t njobs, int runs)
{
    uint64_t h = UINT64_C(1469598103934665603);
#define MIX(p, len)                                                                         \
    for (size_t b_ = 0; b_ < (len); b_++)                                                   \
        h = (h ^ ((const unsigned char *)(p))[b_]) * UINT64_C(1099511628211);
    MIX(&runs, sizeof runs);
    for (size_t i = 0; i < njobs; i++) {
        const struct herd_run_spec *s = &jobs[i].spec;
        MIX(s->sc->name, strlen(s->sc->name));
        MIX(&s->strategy, sizeof s->strategy);
        MIX(&s->n, sizeof s->n);
        MIX(&s->events, sizeof s->events);
        MIX(&s->seed, sizeof s->seed);
        MIX(s->params, sizeof s->params);
        /* A scenario file's settings are its text and --sets, not params. */
        const struct herd_fleet_file *f = herd_fleet_file_of(s->sc);
        uint64_t fh = f ? herd_fleet_file_hash(f) : 0;
        MIX(&fh, sizeof fh);
    }
#undef MIX
    return h;
}

/* Run item @p item (job item / runs, run item % runs) and describe it in @p res. */
static void run_item(const struct sweep *sw, int64_t item, const struct herd_watch *watch,
                     struct result *res)
{
    const struct herd_job *job = &sw->jobs[item / sw->runs];
    struct herd_run_spec s = job->spec;
    s.seed = herd_run_seed(job->spec.seed, (int)(item % sw->runs));
    struct herd_report r;
    char err[256];
    memset(&r, 0, sizeof r); /* herd_sim_run may fail before initialising it */
    memset(res, 0, sizeof *res);
    res->item = item;
    int64_t t0 = herd_clock_monotonic_ns();
    int rc = herd_sim_run(&s, &sw->prof, watch, &r, err, sizeof err);
    res->wall_ns = herd_clock_monotonic_ns() - t0;
    if (rc == 0) {
        herd_report_figures(&r, &res->fig);
        res->sim_ns = r.sim_time_ns;
        res->status = ST_OK;
    } else if (rc == -HERD_EINTR) {
        res->status = ST_CANCELLED; /* only our watch stops a run: a failure elsewhere */
    } else {
        /* As the serial sweep (herd__cli_run_jobs) words and grades it. */
        res->status = rc == -HERD_EINVAL || rc == -HERD_ELIMIT ? HERD_EXIT_USAGE : HERD_EXIT_FAIL;
        snprintf(res->err, sizeof res->err, "%s %s: %s", s.sc->name, herd_spec_strategy(&s),
                 err);
    }
    herd_report_fini(&r);
}

static void protocol_error(const char *what, int64_t value)
{
    fprintf(stderr, "herd: --mpi: internal protocol error: %s (%lld); aborting the job\n", what,
            (long long)value);
    MPI_Abort(COMM, HERD_EXIT_FAIL);
}

/* ---- rank 0 --------------------------------------------------------------------------- */

static void master_record(struct sweep *sw, const struct result *res, int from)
{
    if (res->item < 0 || (size_t)res->item >= sw->nitems)
        protocol_error("result for an item out of range", res->item);
    sw->figs[res->item] = res->fig;
    sw->finished++;
    if (sw->quiet)
        return;
    const struct herd_run_spec *s = &sw->jobs[res->item / sw->runs].spec;
    fprintf(stderr,
            "herd: [%zu/%zu] %s %s n=%lld run %d on rank %d: simulated %.3f s in %.3f s of wall "
            "time\n",
            sw->finished, sw->nitems, s->sc->name, herd_spec_strategy(s), (long long)s->n,
            (int)(res->item % sw->runs) + 1, from, (double)res->sim_ns / 1e9,
            (double)res->wall_ns / 1e9);
}

static void master_fail(struct sweep *sw, int code, const char *line)
{
    if (sw->stopping)
        return; /* the first failure is the one reported; the rest follow from the stop */
    sw->stopping = true;
    sw->rc = code;
    fprintf(stderr, "herd: %s\n", line);
    char none = 0;
    for (int w = 1; w < sw->size; w++)
        if (sw->outstanding[w] > 0) {
            MPI_Send(&none, 0, MPI_BYTE, w, TAG_STOP, COMM);
            sw->stop_sent[w] = true;
        }
}

/* Items a worker may hold: the one it runs and the next while plenty remain, so it never
 * waits for rank 0 (which answers between its own items and every 2^18 events of them);
 * one near the end, where a second would wait behind a long run on a busy rank while
 * another rank idles. */
static int master_depth(const struct sweep *sw)
{
    return sw->nitems - sw->next > (size_t)sw->size * DEPTH ? DEPTH : 1;
}

/* The next item to hand out: the last first, i.e. the largest N first. */
static int64_t master_take(struct sweep *sw)
{
    return (int64_t)(sw->nitems - 1 - sw->next++);
}

/* A worker's message: record its result, then top its items up, or end it. */
static void master_handle(struct sweep *sw, const struct result *res, int from)
{
    if (res->item >= 0) {
        if (sw->outstanding[from] <= 0)
            protocol_error("a result nobody asked for", res->item);
        sw->outstanding[from]--;
        if (res->status == ST_OK)
            master_record(sw, res, from);
        else if (res->status != ST_CANCELLED)
            master_fail(sw, res->status, res->err);
    }
    while (!sw->stopping && sw->next < sw->nitems && sw->outstanding[from] < master_depth(sw)) {
        int64_t item = master_take(sw);
        MPI_Send(&item, 1, MPI_INT64_T, from, TAG_WORK, COMM);
        sw->outstanding[from]++;
    }
    if (sw->outstanding[from] == 0) {
        int64_t end = sw->stop_sent[from] ? WORK_END_STOPPED : WORK_END;
        MPI_Send(&end, 1, MPI_INT64_T, from, TAG_WORK, COMM);
        sw->active--;
    }
}

/* Answer every worker message that has arrived; never blocks. */
static void master_serve(struct sweep *sw)
{
    for (;;) {
        int flag;
        MPI_Status st;
        MPI_Iprobe(MPI_ANY_SOURCE, TAG_RESULT, COMM, &flag, &st);
        if (!flag)
            return;
        struct result res;
        MPI_Recv(&res, (int)sizeof res, MPI_BYTE, st.MPI_SOURCE, TAG_RESULT, COMM,
                 MPI_STATUS_IGNORE);
        master_handle(sw, &res, st.MPI_SOURCE);
    }
}

/* Rank 0's own runs serve the workers every HERD_SIM_WATCH_EVERY events, and stop when
 * another rank failed. */
static bool master_poll(void *ctx, int64_t sim_ns, uint64_t events)
{
    struct sweep *sw = ctx;
    (void)sim_ns;
    (void)events;
    master_serve(sw);
    return sw->stopping;
}

static void master_loop(struct sweep *sw)
{
    const struct herd_watch watch = {master_poll, sw};
    while (sw->active > 0 || (!sw->stopping && sw->next < sw->nitems)) {
        master_serve(sw);
        if (!sw->stopping && sw->next < sw->nitems) {
            struct result res;
            run_item(sw, master_take(sw), &watch, &res);
            if (res.status == ST_OK)
                master_record(sw, &res, 0);
            else if (res.status != ST_CANCELLED)
                master_fail(sw, res.status, res.err);
        } else if (sw->active > 0) {
            struct result res;
            MPI_Status st;
            MPI_Recv(&res, (int)sizeof res, MPI_BYTE, MPI_ANY_SOURCE, TAG_RESULT, COMM, &st);
            master_handle(sw, &res, st.MPI_SOURCE);
        }
    }
}

/* ---- workers --------------------------------------------------------------------------- */

static void worker_check_stop(struct sweep *sw)
{
    int flag;
    if (sw->stop_seen)
        return;
    MPI_Iprobe(0, TAG_STOP, COMM, &flag, MPI_STATUS_IGNORE);
    if (flag) {
        char none;
        MPI_Recv(&none, 0, MPI_BYTE, 0, TAG_STOP, COMM, MPI_STATUS_IGNORE);
        sw->stop_seen = true;
    }
}

static bool worker_poll(void *ctx, int64_t sim_ns, uint64_t events)
{
    struct sweep *sw = ctx;
    (void)sim_ns;
    (void)events;
    worker_check_stop(sw);
    return sw->stop_seen;
}

/* Queue item @p v handed out by rank 0. */
static void worker_push(struct sweep *sw, int64_t *queue, int head, int *len, int64_t v)
{
    if (v < 0 || (size_t)v >= sw->nitems || *len == DEPTH)
        protocol_error("an item out of range or beyond the queue", v);
    queue[(head + (*len)++) % DEPTH] = v;
}

static void worker_loop(struct sweep *sw)
{
    const struct herd_watch watch = {worker_poll, sw};
    int64_t queue[DEPTH], v;
    int head = 0, len = 0, flag;
    struct result res;
    memset(&res, 0, sizeof res);
    res.item = -1;
    MPI_Send(&res, (int)sizeof res, MPI_BYTE, 0, TAG_RESULT, COMM);
    for (;;) {
        if (len == 0) {
            /* Rank 0 sends END only once this rank has reported all it was given, so END
             * comes here, to an empty queue, and never among items. */
            MPI_Recv(&v, 1, MPI_INT64_T, 0, TAG_WORK, COMM, MPI_STATUS_IGNORE);
            if (v == WORK_END || v == WORK_END_STOPPED) {
                if (v == WORK_END_STOPPED && !sw->stop_seen) {
                    char none;
                    MPI_Recv(&none, 0, MPI_BYTE, 0, TAG_STOP, COMM, MPI_STATUS_IGNORE);
                }
                return;
            }
            worker_push(sw, queue, head, &len, v);
        }
        /* The next item may be here already (rank 0 tops up to DEPTH on every report). */
        while (MPI_Iprobe(0, TAG_WORK, COMM, &flag, MPI_STATUS_IGNORE), flag) {
            MPI_Recv(&v, 1, MPI_INT64_T, 0, TAG_WORK, COMM, MPI_STATUS_IGNORE);
            worker_push(sw, queue, head, &len, v);
        }
        int64_t item = queue[head];
        head = (head + 1) % DEPTH;
        len--;
        worker_check_stop(sw);
        if (sw->stop_seen) {
            memset(&res, 0, sizeof res); /* after a stop, queued items come back unrun */
            res.item = item;
            res.status = ST_CANCELLED;
        } else {
            run_item(sw, item, &watch, &res);
        }
        res.stop_seen = sw->stop_seen;
        MPI_Send(&res, (int)sizeof res, MPI_BYTE, 0, TAG_RESULT, COMM);
    }
}

/* ---- the sweep ------------------------------------------------------------------------- */

/* The means herd_report_aggregate() takes, from figures instead of reports: the same sums
 * in the same (run) order, so the printed digits are the serial sweep's. */
static void figures_mean(const struct herd_figures *f, int n, struct herd_figures *out)
{
    struct herd_figures_acc acc = {0};
    for (int i = 0; i < n; i++)
        herd_figures_add(&acc, &f[i]);
    herd_figures_result(&acc, out, NULL);
}

/* Rank 0: the profile, the per-item figures and the per-rank tables; rc in @p su. */
static void master_setup(struct sweep *sw, struct setup *su)
{
    struct herd_front_opts fo;
    char path[4096];
    su->rc = herd__cli_front_opts(&fo, &su->prof, path, sizeof path,
                                  herd__cli_any_sim(sw->jobs, sw->nitems)); /* says why */
    if (su->rc != HERD_EXIT_OK)
        return;
    sw->figs = calloc(sw->nitems, sizeof *sw->figs);
    sw->outstanding = calloc((size_t)sw->size, sizeof *sw->outstanding);
    sw->stop_sent = calloc((size_t)sw->size, sizeof *sw->stop_sent);
    if (!sw->figs || !sw->outstanding || !sw->stop_sent)
        su->rc = herd__fail("--mpi: out of memory for %zu runs' figures", sw->nitems);
}

bool herd__sweep_mpi_available(void)
{
    return true;
}

int herd__sweep_mpi_run(const struct herd_job *jobs, size_t njobs, int runs, bool quiet,
                        struct herd_figures *figs, bool *root)
{
    struct sweep sw;
    struct setup su;
    memset(&sw, 0, sizeof sw);
    memset(&su, 0, sizeof su);
    sw.jobs = jobs;
    sw.nitems = njobs * (size_t)runs;
    sw.runs = runs;
    sw.quiet = quiet;
    *root = false;
    char err[512];
    if (herd_front_check(jobs, njobs, err, sizeof err) < 0) /* as herd__cli_run_jobs */
        return herd__usage_error("%s", err);

    MPI_Init(NULL, NULL);
#ifdef M_TRIM_THRESHOLD
    /* glibc sets its trim threshold from the largest block freed so far; after MPI_Init's
     * own frees it sits below a run's memory, so every run gives its heap back to the
     * kernel and faults it in again: on the AWS sweep 3,600 brk calls instead of 31, and
     * runs of a millisecond 50% slower. Pin both thresholds where glibc's adaptation
     * would end (32 MB, trim at twice it): memory kept per rank, never a figure changed. */
    mallopt(M_MMAP_THRESHOLD, 32 << 20);
    mallopt(M_TRIM_THRESHOLD, 64 << 20);
#endif
    MPI_Comm_rank(COMM, &sw.rank);
    MPI_Comm_size(COMM, &sw.size);
    *root = sw.rank == 0;
    if (sw.rank == 0) {
        master_setup(&sw, &su);
        su.runs = runs;
        su.nitems = sw.nitems;
        su.checksum = jobs_checksum(jobs, njobs, runs);
    }
    MPI_Bcast(&su, (int)sizeof su, MPI_BYTE, 0, COMM);
    int mismatch = su.rc == HERD_EXIT_OK && (su.runs != runs || su.nitems != sw.nitems ||
                                             su.checksum != jobs_checksum(jobs, njobs, runs));
    int any_mismatch = 0;
    MPI_Allreduce(&mismatch, &any_mismatch, 1, MPI_INT, MPI_MAX, COMM);
    int rc = su.rc;
    if (rc == HERD_EXIT_OK && any_mismatch) {
        rc = HERD_EXIT_USAGE;
        if (sw.rank == 0)
            herd__usage_error("--mpi: the ranks were given different sweeps; run one command "
                              "line under mpirun (mpirun -np K herd sweep ... --mpi)");
    }
    if (rc == HERD_EXIT_OK) {
        sw.prof = su.prof;
        if (sw.rank == 0) {
            sw.active = sw.size - 1;
            sw.t0 = herd_clock_monotonic_ns();
            if (!quiet)
                fprintf(stderr, "herd: sweep over MPI: %zu runs on %d rank%s\n", sw.nitems,
                        sw.size, sw.size == 1 ? "" : "s");
            master_loop(&sw);
            rc = sw.rc;
            if (rc == HERD_EXIT_OK && !quiet)
                fprintf(stderr, "herd: %zu runs on %d rank%s in %.3f s of wall time\n",
                        sw.nitems, sw.size, sw.size == 1 ? "" : "s",
                        (double)(herd_clock_monotonic_ns() - sw.t0) / 1e9);
        } else {
            worker_loop(&sw);
        }
        MPI_Bcast(&rc, 1, MPI_INT, 0, COMM);
    }
    if (rc == HERD_EXIT_OK && sw.rank == 0)
        for (size_t j = 0; j < njobs; j++) {
            if (runs == 1)
                figs[j] = sw.figs[j];
            else
                figures_mean(&sw.figs[j * (size_t)runs], runs, &figs[j]);
        }
    free(sw.figs);
    free(sw.outstanding);
    free(sw.stop_sent);
    MPI_Finalize();
    return rc;
}

#else /* !HERD_HAVE_MPI */

bool herd__sweep_mpi_available(void)
{
    return false;
}

int herd__sweep_mpi_run(const struct herd_job *jobs, size_t njobs, int runs, bool quiet,
                        struct herd_figures *figs, bool *root)
{
    (void)jobs;
    (void)njobs;
    (void)runs;
    (void)quiet;
    (void)figs;
    *root = true;
    return herd__fail("--mpi: this herd was built without MPI"); /* cmd_sweep says it first */
}

#endif
