/* svc.h — servers herd starts for a run and stops afterwards: a private redis-server and
 * a private PostgreSQL, each in its own temporary directory, reachable only over a Unix
 * socket in that directory (no TCP port, so nothing else on the machine can reach or
 * collide with them), or the user's own instance named by a URL.
 *
 * Life cycle: herd__svc_start() makes herd-svc-PID.START-XXXXXX under $TMPDIR (else
 * /tmp), starts the server as a child in its own process group (so a terminal's Ctrl-C
 * reaches herd, which then stops the server in order) with PR_SET_PDEATHSIG = SIGKILL (so
 * a herd killed with SIGKILL takes it along), and waits until it answers. The start-up
 * (initdb included) is timed into startup_ns, apart from every latency figure.
 * herd__svc_stop() shuts the server down (redis: SIGTERM; PostgreSQL: SIGINT, its fast
 * shutdown), waits for it, kills its process group if it lingers, removes PostgreSQL's
 * System V segment if it was left, and removes the directory. A directory left by a herd
 * killed with SIGKILL is removed by the next start (its owner, PID and start time, is
 * gone), with the segment its postmaster.pid names.
 *
 * PostgreSQL refuses to run as root: as a packager does, herd then runs initdb and
 * postgres as the `postgres` system user (Debian's postgresql-common creates it) with the
 * data directory owned by it; as any other user it runs them as that user.
 *
 * Cost: redis-server starts in ~10 ms, PostgreSQL (initdb + start) in 1-3 s.
 * Thread safety: start and stop on the run's controlling thread; the struct is read-only
 * in between. A start polls the run's watch (herd__live_poll) while it waits, and gives
 * up with -HERD_EINTR, everything undone, when the run is stopping.
 */
#ifndef HERD_LIVE_SVC_H
#define HERD_LIVE_SVC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

enum herd_svc_kind {
    HERD_SVC_REDIS,
    HERD_SVC_POSTGRES,
    HERD_SVC_ZOOKEEPER, /* a standalone server on 127.0.0.1 (a free port: ZooKeeper has no
                           Unix socket), the JVM from Debian's zookeeper package */
};

struct herd_svc_opts {
    int max_clients; /* connections the run will hold at once (a floor: the server's
                        limit is set above it) */
};

struct herd_svc {
    enum herd_svc_kind kind;
    bool external;      /* the user's instance (herd__svc_attach): never started or stopped */
    pid_t pid;          /* the server's main process (leader of its group); 0: none */
    char dir[256];      /* the private directory; "" for an external one */
    char host[320];     /* redis: the socket's path or a host name; postgres: the socket's
                           directory or a host name */
    int port;           /* TCP port of an external instance; postgres: also the socket's
                           number; 0 for redis over a socket */
    char conninfo[640]; /* postgres: a libpq connection string; redis: "" */
    int db;             /* redis: the database number of the URL */
    int64_t startup_ns; /* from the start to the first answer (initdb included) */
};

/** The kind's name in messages: "redis-server", "PostgreSQL". */
const char *herd__svc_name(enum herd_svc_kind kind);

/** Is the kind's server installed here? @return true, or false with one line saying what to
 *  install in @p why. */
bool herd__svc_installed(enum herd_svc_kind kind, char *why, size_t whylen);

/** Start a private server of @p kind into @p s. @return 0, -HERD_EINTR, or another
 *  negative code with one line in @p err; on failure nothing is left and @p s is zeroed. */
int herd__svc_start(enum herd_svc_kind kind, const struct herd_svc_opts *opts, struct herd_svc *s,
                    char *err, size_t errlen);

/** Use the user's instance named by @p url instead (redis://[:pass@]host[:port][/db],
 *  redis+unix:///path/to/socket, postgresql://... or any libpq connection string).
 *  Nothing is started. @return 0 or -HERD_EINVAL with one line naming @p flag. */
int herd__svc_attach(enum herd_svc_kind kind, const char *url, const char *flag, struct herd_svc *s,
                     char *err, size_t errlen);

/** Stop and remove what herd__svc_start made (an external or zeroed @p s: nothing). */
void herd__svc_stop(struct herd_svc *s);

/** ZooKeeper's four-letter command @p cmd ("mntr", "ruok") over its own TCP connection:
 *  the reply in @p out. @return 0 or < 0. */
int herd__svc_zk_4lw(const struct herd_svc *s, const char *cmd, char *out, size_t outlen);

struct redisContext;
/** A hiredis connection to redis @p s (its database selected), every reply waited for at
 *  most @p io_timeout_ns; a full Unix-socket backlog is retried for 5 s. Only in a build
 *  with hiredis (HERD_HAVE_HIREDIS). @return it, or NULL with one line in @p err. */
struct redisContext *herd__svc_redis_connect(const struct herd_svc *s, int64_t io_timeout_ns,
                                             char *err, size_t errlen);

#endif
