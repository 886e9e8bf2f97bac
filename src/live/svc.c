/* svc.c — private redis-server and PostgreSQL instances for a run (svc.h says the life
 * cycle). Every wait here is sliced (≤ 10 ms) and polls the run's watch, so a stop asked
 * during a slow initdb is seen within moments and undone.
 */
#include "svc.h"

#include "live_int.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <glob.h>
#include <grp.h>
#include <herd/error.h>
#include <inttypes.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/shm.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#define MS (1000 * 1000LL)
#define START_TIMEOUT_NS (30 * 1000 * MS) /* initdb on a loaded 2-vCPU machine: ~3 s */
#define STOP_TIMEOUT_NS (10 * 1000 * MS)
#define PG_SOCKET_PORT 5432 /* only names the socket file: no TCP listener */
#define ZK_JAR                                                                                     \
    "/usr/share/java/zookeeper.jar" /* Debian's zookeeper; its manifest names the                  \
                                       jars it needs */

const char *herd__svc_name(enum herd_svc_kind kind)
{
    switch (kind) {
    case HERD_SVC_REDIS:
        return "redis-server";
    case HERD_SVC_POSTGRES:
        return "PostgreSQL";
    case HERD_SVC_ZOOKEEPER:
        return "ZooKeeper";
    }
    return "?";
}

/* ---- where the programs are ----------------------------------------------------------- */

static bool find_in_path(const char *prog, char *out, size_t len)
{
    const char *path = getenv("PATH");
    char dirs[4096];
    snprintf(dirs, sizeof dirs, "%s:/usr/sbin:/usr/bin:/usr/local/bin",
             path ? path : "/usr/local/bin:/usr/bin");
    for (char *save = NULL, *d = strtok_r(dirs, ":", &save); d; d = strtok_r(NULL, ":", &save)) {
        snprintf(out, len, "%s/%s", d, prog);
        if (access(out, X_OK) == 0)
            return true;
    }
    return false;
}

/* Debian keeps each PostgreSQL major version in /usr/lib/postgresql/<v>/bin (not on PATH):
 * the newest one that has initdb and postgres. */
static bool pg_bindir(char *out, size_t len)
{
    glob_t g;
    bool found = false;
    if (glob("/usr/lib/postgresql/*/bin/initdb", 0, NULL, &g) != 0)
        return false;
    long best = -1;
    for (size_t i = 0; i < g.gl_pathc; i++) {
        long v = strtol(g.gl_pathv[i] + strlen("/usr/lib/postgresql/"), NULL, 10);
        char pg[512];
        snprintf(pg, sizeof pg, "%.*s/postgres", (int)(strrchr(g.gl_pathv[i], '/') - g.gl_pathv[i]),
                 g.gl_pathv[i]);
        if (v > best && access(pg, X_OK) == 0) {
            best = v;
            snprintf(out, len, "%.*s", (int)(strrchr(g.gl_pathv[i], '/') - g.gl_pathv[i]),
                     g.gl_pathv[i]);
            found = true;
        }
    }
    globfree(&g);
    return found;
}

bool herd__svc_installed(enum herd_svc_kind kind, char *why, size_t whylen)
{
    char path[512];
    switch (kind) {
    case HERD_SVC_REDIS:
        if (find_in_path("redis-server", path, sizeof path))
            return true;
        snprintf(why, whylen,
                 "redis-server is not installed (scripts/install-deps.sh installs it: Debian's "
                 "redis-server), or point at your own with --set url=redis://HOST:PORT");
        return false;
    case HERD_SVC_POSTGRES:
        if (pg_bindir(path, sizeof path))
            return true;
        snprintf(why, whylen,
                 "PostgreSQL is not installed (no /usr/lib/postgresql/*/bin/initdb; "
                 "scripts/install-deps.sh installs Debian's postgresql), or point at your own "
                 "with --set url=postgresql://...");
        return false;
    case HERD_SVC_ZOOKEEPER:
        if (access(ZK_JAR, R_OK) == 0 && find_in_path("java", path, sizeof path))
            return true;
        snprintf(why, whylen,
                 "ZooKeeper is not installed (no " ZK_JAR " or no java; scripts/install-deps.sh "
                 "installs Debian's zookeeper), or point at your own with --set url=HOST:PORT");
        return false;
    }
    return false;
}

/* ---- the private directory ---------------------------------------------------------- */

/* When process @p pid started, in clock ticks after boot (/proc/PID/stat, field 22): with
 * the pid it names one process for ever. 0: no such process. */
static unsigned long long proc_start(long pid)
{
    char path[64], buf[1024];
    snprintf(path, sizeof path, "/proc/%ld/stat", pid);
    FILE *f = fopen(path, "re");
    if (!f)
        return 0;
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    buf[n] = '\0';
    char *p = strrchr(buf, ')');
    if (!p)
        return 0;
    for (int field = 2; *p && field < 22; p++)
        field += *p == ' ';
    return strtoull(p, NULL, 10);
}

static int rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st;
    (void)ftw;
    if (flag == FTW_DP)
        rmdir(path);
    else
        unlink(path);
    return 0;
}

/* Remove @p dir and everything in it, never following a link. */
static void rm_tree(const char *dir)
{
    nftw(dir, rm_one, 16, FTW_DEPTH | FTW_PHYS | FTW_MOUNT);
}

/* A postmaster.pid left by a postgres that did not shut down names its System V segment
 * (line 7: key and id): remove it once nothing is attached, so a killed run leaves no
 * shared memory. */
static void drop_pg_segment(const char *dir)
{
    char path[512], line[128];
    snprintf(path, sizeof path, "%s/pg/data/postmaster.pid", dir);
    FILE *f = fopen(path, "re");
    if (!f)
        return;
    long key = 0, id = -1;
    for (int i = 1; fgets(line, sizeof line, f); i++) {
        if (i == 7) {
            if (sscanf(line, "%ld %ld", &key, &id) != 2)
                id = -1;
            break;
        }
    }
    fclose(f);
    struct shmid_ds ds;
    if (id >= 0 && shmctl((int)id, IPC_STAT, &ds) == 0 && ds.shm_nattch == 0)
        shmctl((int)id, IPC_RMID, NULL);
}

static const char *base_dir(void)
{
    const char *base = getenv("TMPDIR");
    if (!base || base[0] != '/' || strlen(base) > 100)
        base = "/tmp";
    return base;
}

/* Remove the herd-svc-PID.START-XXXXXX directories in @p base whose herd is gone (killed
 * before it could stop its servers: those died with it, PR_SET_PDEATHSIG): this user's own
 * directories only, never through a link. */
static void reap_stale(const char *base)
{
    if (proc_start((long)getpid()) == 0)
        return; /* no /proc: every owner would look dead */
    DIR *d = opendir(base);
    if (!d)
        return;
    struct dirent *e;
    while ((e = readdir(d))) {
        long pid;
        unsigned long long start;
        int end = 0;
        if (sscanf(e->d_name, "herd-svc-%ld.%llu-%*6[A-Za-z0-9]%n", &pid, &start, &end) != 2 ||
            end == 0 || e->d_name[end] != '\0' || pid <= 0 || proc_start(pid) == start)
            continue;
        char dir[512];
        struct stat st;
        snprintf(dir, sizeof dir, "%s/%s", base, e->d_name);
        if (lstat(dir, &st) == 0 && S_ISDIR(st.st_mode) && st.st_uid == geteuid()) {
            drop_pg_segment(dir);
            rm_tree(dir);
        }
    }
    closedir(d);
}

/* @p other_user: the server runs as another user (PostgreSQL under root), who must be able
 * to pass through the base directory: a private $TMPDIR (mode 0700, mktemp -d's) does not
 * let it, and herd does not change its mode; /tmp (sticky, world-searchable) is used then. */
static int make_dir(struct herd_svc *s, bool other_user, char *err, size_t errlen)
{
    const char *base = base_dir();
    struct stat st;
    reap_stale(base);
    if (other_user && (stat(base, &st) < 0 || !(st.st_mode & S_IXOTH))) {
        base = "/tmp";
        reap_stale(base);
    }
    snprintf(s->dir, sizeof s->dir, "%s/herd-svc-%ld.%llu-XXXXXX", base, (long)getpid(),
             proc_start((long)getpid()));
    if (!mkdtemp(s->dir)) {
        int rc = -errno;
        snprintf(err, errlen, "%s: mkdtemp in %s: %s", herd__svc_name(s->kind), base,
                 strerror(errno));
        s->dir[0] = '\0';
        return rc;
    }
    return 0;
}

/* The last line of @p dir/@p log that says something, for an error message. */
static void log_tail(const char *dir, const char *log, char *out, size_t len)
{
    char path[512], line[512];
    snprintf(path, sizeof path, "%s/%s", dir, log);
    out[0] = '\0';
    FILE *f = fopen(path, "re");
    if (!f)
        return;
    while (fgets(line, sizeof line, f)) {
        line[strcspn(line, "\n")] = '\0';
        if (line[0] && snprintf(out, len, "%s", line) >= (int)len)
            out[len - 1] = '\0'; /* cut: a message line, not data */
    }
    fclose(f);
}

/* ---- processes ------------------------------------------------------------------------ */

struct as_user {
    bool set;
    uid_t uid;
    gid_t gid;
};

/* Fork and exec @p argv[0] in @p cwd as @p user, stdout and stderr to @p logfd, in its own
 * process group, with default signal dispositions and an empty mask (herd's threads run
 * with SIGINT and SIGTERM blocked: a server inheriting that could not be shut down), dying
 * with herd. Only async-signal-safe calls between fork and exec. */
static int spawn(char *const argv[], const char *cwd, const struct as_user *user, int logfd,
                 pid_t *out)
{
    pid_t parent = getpid();
    pid_t pid = fork();
    if (pid < 0)
        return -errno;
    if (pid == 0) {
        sigset_t none;
        sigemptyset(&none);
        sigprocmask(SIG_SETMASK, &none, NULL);
        signal(SIGPIPE, SIG_DFL);
        signal(SIGINT, SIG_DFL);
        signal(SIGTERM, SIG_DFL);
        setpgid(0, 0);
        if (user->set && (setgroups(0, NULL) < 0 || setgid(user->gid) < 0 || setuid(user->uid) < 0))
            _exit(126);
        /* After the credentials change, which clears it. */
        prctl(PR_SET_PDEATHSIG, SIGKILL);
        if (getppid() != parent)
            _exit(125);
        if (chdir(cwd) < 0)
            _exit(126);
        int null = open("/dev/null", O_RDONLY);
        if (null >= 0)
            dup2(null, 0);
        dup2(logfd, 1);
        dup2(logfd, 2);
        for (int fd = 3; fd < 1024; fd++)
            close(fd);
        execv(argv[0], argv);
        _exit(127);
    }
    setpgid(pid, pid); /* both sides, so no signal to the group races the child's own */
    *out = pid;
    return 0;
}

/* Wait for child @p pid to exit, up to @p max_ns, polling the run's watch when @p watched.
 * @return its wait status, -HERD_ETIMEDOUT (still running), -HERD_EINTR. */
static int wait_exit(pid_t pid, int64_t max_ns, bool watched)
{
    int64_t deadline = herd__now_ns() + max_ns;
    for (;;) {
        int st;
        pid_t r = waitpid(pid, &st, WNOHANG);
        if (r == pid)
            return st & 0xffff;
        if (r < 0 && errno != EINTR)
            return -HERD_EINVAL;
        if (watched && herd__live_poll())
            return -HERD_EINTR;
        if (herd__now_ns() >= deadline)
            return -HERD_ETIMEDOUT;
        herd__sleep_ns(2 * MS);
    }
}

/* Stop process group @p pid: @p sig to its leader, up to STOP_TIMEOUT_NS for it to exit,
 * then SIGKILL to the whole group (a postgres backend or an initdb child left behind),
 * and reap the leader. */
static void stop_group(pid_t pid, int sig)
{
    if (pid <= 0)
        return;
    kill(pid, sig);
    int64_t deadline = herd__now_ns() + STOP_TIMEOUT_NS;
    siginfo_t si;
    for (;;) {
        memset(&si, 0, sizeof si);
        /* WNOWAIT: the leader stays a zombie, so its pid (the group's id) is not reused
         * before the group is swept. */
        if (waitid(P_PID, (id_t)pid, &si, WEXITED | WNOHANG | WNOWAIT) < 0 || si.si_pid == pid)
            break;
        if (herd__now_ns() >= deadline) {
            kill(-pid, SIGKILL);
            deadline = INT64_MAX;
        }
        herd__sleep_ns(2 * MS);
    }
    kill(-pid, SIGKILL);
    while (waitpid(pid, NULL, 0) < 0 && errno == EINTR)
        ;
}

static int open_log(const char *dir, const char *name, char *err, size_t errlen)
{
    char path[512];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0)
        snprintf(err, errlen, "open %s: %s", path, strerror(errno));
    return fd < 0 ? -errno : fd;
}

/* ---- redis-server ---------------------------------------------------------------------- */

/* One PING over the socket at @p path: true when it answered +PONG. */
static bool redis_ping(const char *path)
{
    struct sockaddr_un a = {.sun_family = AF_UNIX};
    if (snprintf(a.sun_path, sizeof a.sun_path, "%s", path) >= (int)sizeof a.sun_path)
        return false;
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    bool ok = false;
    if (fd < 0)
        return false;
    struct timeval tv = {.tv_sec = 1};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    if (connect(fd, (struct sockaddr *)&a, sizeof a) == 0 && write(fd, "PING\r\n", 6) == 6) {
        char buf[16] = {0};
        ssize_t n = read(fd, buf, sizeof buf - 1);
        ok = n >= 5 && strncmp(buf, "+PONG", 5) == 0;
    }
    close(fd);
    return ok;
}

static int redis_start(const struct herd_svc_opts *opts, struct herd_svc *s, char *err,
                       size_t errlen)
{
    char prog[512], sock[300], maxc[32], backlog[32], tail[256];
    struct as_user self = {0};
    if (!find_in_path("redis-server", prog, sizeof prog)) {
        herd__svc_installed(HERD_SVC_REDIS, err, errlen);
        return -HERD_ENOENT;
    }
    snprintf(sock, sizeof sock, "%s/redis.sock", s->dir);
    snprintf(s->host, sizeof s->host, "%s", sock);
    snprintf(maxc, sizeof maxc, "%d",
             opts && opts->max_clients > 0 ? opts->max_clients + 64 : 10000);
    /* The listen backlog (the Unix socket's too): N connections made in a burst must not
     * find it full while the server is busy (the kernel caps it at somaxconn). */
    snprintf(backlog, sizeof backlog, "%d", herd__somaxconn());
    /* No TCP (port 0), no persistence: a scratch instance that only this run can reach. */
    /* clang-format off */
    char *argv[] = {prog, "--port", "0", "--unixsocket", sock, "--unixsocketperm", "700",
                    "--dir", s->dir, "--save", "", "--appendonly", "no", "--daemonize", "no",
                    "--maxclients", maxc, "--tcp-backlog", backlog, "--databases", "1",
                    "--loglevel", "warning", NULL};
    /* clang-format on */
    int logfd = open_log(s->dir, "redis.log", err, errlen);
    if (logfd < 0)
        return logfd;
    int rc = spawn(argv, s->dir, &self, logfd, &s->pid);
    close(logfd);
    if (rc < 0) {
        snprintf(err, errlen, "redis-server: fork: %s", strerror(-rc));
        return rc;
    }
    int64_t deadline = herd__now_ns() + START_TIMEOUT_NS;
    while (!redis_ping(sock)) {
        int st;
        if (waitpid(s->pid, &st, WNOHANG) == s->pid) {
            s->pid = 0;
            log_tail(s->dir, "redis.log", tail, sizeof tail);
            snprintf(err, errlen, "redis-server exited at start-up (status %d): %s", st, tail);
            return -HERD_EINVAL;
        }
        if (herd__live_poll())
            return -HERD_EINTR;
        if (herd__now_ns() >= deadline) {
            snprintf(err, errlen, "redis-server did not answer within %lld s",
                     START_TIMEOUT_NS / (1000 * MS));
            return -HERD_ETIMEDOUT;
        }
        herd__sleep_ns(MS);
    }
    return 0;
}

/* ---- PostgreSQL ---------------------------------------------------------------------- */

/* Whom initdb and postgres run as: root is refused by PostgreSQL, so the `postgres` system
 * user then (Debian's postgresql-common makes it), as a packaged cluster runs. */
static int pg_user(struct as_user *u, char *err, size_t errlen)
{
    if (geteuid() != 0) {
        *u = (struct as_user){0};
        return 0;
    }
    struct passwd *pw = getpwnam("postgres");
    if (!pw) {
        snprintf(err, errlen,
                 "PostgreSQL refuses to run as root and there is no `postgres` user to run it "
                 "as (Debian's postgresql-common creates it; or run herd as another user)");
        return -HERD_EINVAL;
    }
    *u = (struct as_user){.set = true, .uid = pw->pw_uid, .gid = pw->pw_gid};
    return 0;
}

/* postmaster.pid's 8th line is the server's state; "ready" once it accepts connections. */
static bool pg_ready(const char *data)
{
    char path[512], line[128];
    snprintf(path, sizeof path, "%s/postmaster.pid", data);
    FILE *f = fopen(path, "re");
    bool ready = false;
    if (!f)
        return false;
    for (int i = 1; fgets(line, sizeof line, f); i++)
        if (i == 8)
            ready = strncmp(line, "ready", 5) == 0;
    fclose(f);
    return ready;
}

static int pg_start(const struct herd_svc_opts *opts, struct herd_svc *s, char *err, size_t errlen)
{
    char bin[400], initdb[512], postgres[512], pgdir[300], data[320], tail[256], lib[512];
    struct as_user u;
    int rc, logfd;
    if (!pg_bindir(bin, sizeof bin)) {
        herd__svc_installed(HERD_SVC_POSTGRES, err, errlen);
        return -HERD_ENOENT;
    }
    if ((rc = pg_user(&u, err, errlen)) < 0)
        return rc;
    snprintf(initdb, sizeof initdb, "%s/initdb", bin);
    snprintf(postgres, sizeof postgres, "%s/postgres", bin);
    snprintf(pgdir, sizeof pgdir, "%s/pg", s->dir);
    snprintf(data, sizeof data, "%s/data", pgdir);
    /* The run's directory stays ours (0711: the server's user may pass through it); pg/
     * inside it is the server's own, 0700, as PostgreSQL insists for its data. */
    if (mkdir(pgdir, 0700) < 0 || chmod(s->dir, 0711) < 0 ||
        (u.set && chown(pgdir, u.uid, u.gid) < 0)) {
        rc = -errno;
        snprintf(err, errlen, "PostgreSQL: prepare %s: %s", pgdir, strerror(errno));
        return rc;
    }
    if ((logfd = open_log(s->dir, "postgres.log", err, errlen)) < 0)
        return logfd;

    char *init_argv[] = {initdb,  "-D", data,   "-U",         "herd",      "-A",
                         "trust", "-E", "UTF8", "--locale=C", "--no-sync", "--no-instructions",
                         NULL};
    pid_t ipid;
    if ((rc = spawn(init_argv, pgdir, &u, logfd, &ipid)) < 0) {
        close(logfd);
        snprintf(err, errlen, "PostgreSQL: fork initdb: %s", strerror(-rc));
        return rc;
    }
    int st = wait_exit(ipid, START_TIMEOUT_NS, true);
    if (st < 0) {
        close(logfd);
        stop_group(ipid, SIGKILL);
        if (st == -HERD_EINTR)
            return st;
        snprintf(err, errlen, "PostgreSQL: initdb did not finish within %lld s",
                 START_TIMEOUT_NS / (1000 * MS));
        return st;
    }
    if (!WIFEXITED(st) || WEXITSTATUS(st) != 0) {
        close(logfd);
        log_tail(s->dir, "postgres.log", tail, sizeof tail);
        snprintf(err, errlen, "PostgreSQL: initdb failed (status %d): %s", st, tail);
        return -HERD_EINVAL;
    }

    char maxc[48], sockdir[360], preload[64] = "shared_preload_libraries=";
    snprintf(maxc, sizeof maxc, "max_connections=%d",
             opts && opts->max_clients > 0 ? opts->max_clients + 10 : 100);
    snprintf(sockdir, sizeof sockdir, "unix_socket_directories=%s", pgdir);
    /* pg_stat_statements counts every statement the server ran, at the server: the
     * origin's load is read from it (it ships with Debian's postgresql-NN). */
    snprintf(lib, sizeof lib, "%s/../lib/pg_stat_statements.so", bin);
    if (access(lib, R_OK) == 0)
        snprintf(preload, sizeof preload, "shared_preload_libraries=pg_stat_statements");
    /* A scratch cluster: no durability (fsync off), no TCP, shared memory that dies with
     * the directory (dynamic segments as files in it, not in /dev/shm). */
    char *pg_argv[] = {postgres,
                       "-D",
                       data,
                       "-c",
                       "listen_addresses=",
                       "-c",
                       sockdir,
                       "-c",
                       "port=5432",
                       "-c",
                       maxc,
                       "-c",
                       "fsync=off",
                       "-c",
                       "synchronous_commit=off",
                       "-c",
                       "full_page_writes=off",
                       "-c",
                       "dynamic_shared_memory_type=mmap",
                       "-c",
                       "shared_buffers=64MB",
                       "-c",
                       "autovacuum=off",
                       "-c",
                       "jit=off",
                       "-c",
                       "huge_pages=off",
                       "-c",
                       "max_wal_senders=0",
                       "-c",
                       "wal_level=minimal",
                       "-c",
                       preload,
                       "-c",
                       "pg_stat_statements.track=all",
                       NULL};
    if (strcmp(preload, "shared_preload_libraries=") == 0)
        pg_argv[sizeof pg_argv / sizeof pg_argv[0] - 5] = NULL; /* no such settings then */
    rc = spawn(pg_argv, pgdir, &u, logfd, &s->pid);
    close(logfd);
    if (rc < 0) {
        snprintf(err, errlen, "PostgreSQL: fork postgres: %s", strerror(-rc));
        return rc;
    }
    int64_t deadline = herd__now_ns() + START_TIMEOUT_NS;
    while (!pg_ready(data)) {
        if (waitpid(s->pid, &st, WNOHANG) == s->pid) {
            kill(-s->pid, SIGKILL);
            s->pid = 0;
            log_tail(s->dir, "postgres.log", tail, sizeof tail);
            snprintf(err, errlen, "postgres exited at start-up (status %d): %s", st, tail);
            return -HERD_EINVAL;
        }
        if (herd__live_poll())
            return -HERD_EINTR;
        if (herd__now_ns() >= deadline) {
            snprintf(err, errlen, "postgres was not ready within %lld s",
                     START_TIMEOUT_NS / (1000 * MS));
            return -HERD_ETIMEDOUT;
        }
        herd__sleep_ns(2 * MS);
    }
    snprintf(s->host, sizeof s->host, "%s", pgdir);
    s->port = PG_SOCKET_PORT;
    snprintf(s->conninfo, sizeof s->conninfo, "host=%s port=%d user=herd dbname=postgres", pgdir,
             PG_SOCKET_PORT);
    return 0;
}

/* ---- ZooKeeper ---------------------------------------------------------------------------- */

#include <arpa/inet.h>
#include <netinet/in.h>

/* A TCP port free on 127.0.0.1 now (the kernel's pick). ZooKeeper cannot listen on a Unix
 * socket; another process may take the port before the server binds it: the start then
 * fails and says so. */
static int free_port(void)
{
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t len = sizeof a;
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0), port = -1;
    if (fd < 0)
        return -1;
    if (bind(fd, (struct sockaddr *)&a, sizeof a) == 0 &&
        getsockname(fd, (struct sockaddr *)&a, &len) == 0)
        port = ntohs(a.sin_port);
    close(fd);
    return port;
}

int herd__svc_zk_4lw(const struct herd_svc *s, const char *cmd, char *out, size_t outlen)
{
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)s->port)};
    if (inet_pton(AF_INET, strcmp(s->host, "localhost") == 0 ? "127.0.0.1" : s->host,
                  &a.sin_addr) != 1)
        return -HERD_EINVAL;
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return -errno;
    struct timeval tv = {.tv_sec = 2};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    size_t n = 0;
    int rc = -HERD_EINVAL;
    if (connect(fd, (struct sockaddr *)&a, sizeof a) == 0 &&
        write(fd, cmd, strlen(cmd)) == (ssize_t)strlen(cmd)) {
        ssize_t k;
        while (n + 1 < outlen && (k = read(fd, out + n, outlen - 1 - n)) > 0)
            n += (size_t)k;
        rc = n > 0 ? 0 : -HERD_EINVAL;
    }
    out[n] = '\0';
    close(fd);
    return rc;
}

static int write_file(const char *dir, const char *name, const char *text, char *err, size_t errlen)
{
    char path[512];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "we");
    if (!f || fputs(text, f) < 0 || fclose(f) != 0) {
        snprintf(err, errlen, "ZooKeeper: write %s: %s", path, strerror(errno));
        if (f)
            fclose(f);
        return -HERD_EINVAL;
    }
    return 0;
}

static int zk_start(const struct herd_svc_opts *opts, struct herd_svc *s, char *err, size_t errlen)
{
    char java[512], cfg[1024], cfgpath[320], cp[400], tail[256], buf[4096];
    struct as_user self = {0};
    (void)opts;
    if (!herd__svc_installed(HERD_SVC_ZOOKEEPER, err, errlen) ||
        !find_in_path("java", java, sizeof java))
        return -HERD_ENOENT;
    int port = free_port();
    if (port <= 0) {
        snprintf(err, errlen, "ZooKeeper: no free port on 127.0.0.1");
        return -HERD_EINVAL;
    }
    /* Standalone, loopback only, no admin HTTP server, no connection cap per client address
     * (N sessions come from 127.0.0.1), mntr allowed (the herd's counts are read from it). */
    snprintf(cfg, sizeof cfg,
             "tickTime=2000\ndataDir=%s/data\nclientPort=%d\nclientPortAddress=127.0.0.1\n"
             "maxClientCnxns=0\nadmin.enableServer=false\n"
             "4lw.commands.whitelist=mntr,ruok,srvr\nmaxSessionTimeout=120000\n"
             "globalOutstandingLimit=100000\nsnapCount=1000000\nforceSync=no\n",
             s->dir, port);
    static const char log4j[] = "log4j.rootLogger=WARN, CONSOLE\n"
                                "log4j.appender.CONSOLE=org.apache.log4j.ConsoleAppender\n"
                                "log4j.appender.CONSOLE.layout=org.apache.log4j.PatternLayout\n"
                                "log4j.appender.CONSOLE.layout.ConversionPattern=%d %p %c: %m%n\n";
    int rc;
    if ((rc = write_file(s->dir, "zoo.cfg", cfg, err, errlen)) < 0 ||
        (rc = write_file(s->dir, "log4j.properties", log4j, err, errlen)) < 0)
        return rc;
    snprintf(cfgpath, sizeof cfgpath, "%s/zoo.cfg", s->dir);
    snprintf(cp, sizeof cp, "%s:" ZK_JAR, s->dir);
    /* No hsperfdata file in /tmp (-UsePerfData): a JVM killed with herd leaves nothing. */
    char *argv[] = {java,
                    "-Xmx512m",
                    "-XX:+UseSerialGC",
                    "-XX:-UsePerfData",
                    "-XX:TieredStopAtLevel=1",
                    "-Dzookeeper.jmx.log4j.disable=true",
                    "-Djava.net.preferIPv4Stack=true",
                    "-cp",
                    cp,
                    "org.apache.zookeeper.server.ZooKeeperServerMain",
                    cfgpath,
                    NULL};
    int logfd = open_log(s->dir, "zookeeper.log", err, errlen);
    if (logfd < 0)
        return logfd;
    rc = spawn(argv, s->dir, &self, logfd, &s->pid);
    close(logfd);
    if (rc < 0) {
        snprintf(err, errlen, "ZooKeeper: fork: %s", strerror(-rc));
        return rc;
    }
    snprintf(s->host, sizeof s->host, "127.0.0.1");
    s->port = port;
    int64_t deadline = herd__now_ns() + START_TIMEOUT_NS;
    while (herd__svc_zk_4lw(s, "ruok", buf, sizeof buf) < 0 || strcmp(buf, "imok") != 0) {
        int st;
        if (waitpid(s->pid, &st, WNOHANG) == s->pid) {
            s->pid = 0;
            log_tail(s->dir, "zookeeper.log", tail, sizeof tail);
            snprintf(err, errlen, "ZooKeeper exited at start-up (status %d): %s", st, tail);
            return -HERD_EINVAL;
        }
        if (herd__live_poll())
            return -HERD_EINTR;
        if (herd__now_ns() >= deadline) {
            snprintf(err, errlen, "ZooKeeper did not answer on 127.0.0.1:%d within %lld s", port,
                     START_TIMEOUT_NS / (1000 * MS));
            return -HERD_ETIMEDOUT;
        }
        herd__sleep_ns(10 * MS);
    }
    return 0;
}

/* ---- the interface ---------------------------------------------------------------------- */

int herd__svc_start(enum herd_svc_kind kind, const struct herd_svc_opts *opts, struct herd_svc *s,
                    char *err, size_t errlen)
{
    memset(s, 0, sizeof *s);
    s->kind = kind;
    int64_t t0 = herd__now_ns();
    int rc = make_dir(s, kind == HERD_SVC_POSTGRES && geteuid() == 0, err, errlen);
    if (rc < 0)
        return rc;
    switch (kind) {
    case HERD_SVC_REDIS:
        rc = redis_start(opts, s, err, errlen);
        break;
    case HERD_SVC_POSTGRES:
        rc = pg_start(opts, s, err, errlen);
        break;
    case HERD_SVC_ZOOKEEPER:
        rc = zk_start(opts, s, err, errlen);
        break;
    }
    if (rc < 0) {
        if (rc == -HERD_EINTR)
            snprintf(err, errlen, "interrupted while starting %s", herd__svc_name(kind));
        herd__svc_stop(s);
        memset(s, 0, sizeof *s);
        return rc;
    }
    s->startup_ns = herd__now_ns() - t0;
    return 0;
}

void herd__svc_stop(struct herd_svc *s)
{
    if (s->external)
        return;
    /* redis-server and the JVM exit on SIGTERM (nothing to save); SIGINT is PostgreSQL's
     * fast shutdown: it ends its backends and removes its shared memory. */
    stop_group(s->pid, s->kind == HERD_SVC_POSTGRES ? SIGINT : SIGTERM);
    s->pid = 0;
    if (s->dir[0]) {
        drop_pg_segment(s->dir);
        rm_tree(s->dir);
        s->dir[0] = '\0';
    }
}

int herd__svc_attach(enum herd_svc_kind kind, const char *url, const char *flag, struct herd_svc *s,
                     char *err, size_t errlen)
{
    memset(s, 0, sizeof *s);
    s->kind = kind;
    s->external = true;
    switch (kind) {
    case HERD_SVC_REDIS: {
        const char *p;
        if (strncmp(url, "redis+unix://", 13) == 0 || strncmp(url, "unix://", 7) == 0) {
            p = strstr(url, "://") + 3;
            if (p[0] != '/' || strlen(p) >= sizeof((struct sockaddr_un *)0)->sun_path) {
                snprintf(err, errlen, "%s: expected redis+unix:///path/to/socket, got '%s'", flag,
                         url);
                return -HERD_EINVAL;
            }
            snprintf(s->host, sizeof s->host, "%s", p);
            return 0;
        }
        if (strncmp(url, "redis://", 8) != 0) {
            snprintf(err, errlen,
                     "%s: expected redis://HOST[:PORT][/DB] or redis+unix:///path, got '%s'", flag,
                     url);
            return -HERD_EINVAL;
        }
        p = url + 8;
        if (strchr(p, '@')) {
            snprintf(err, errlen,
                     "%s: passwords in the URL are not supported; use an "
                     "instance without AUTH, or a Unix socket",
                     flag);
            return -HERD_EINVAL;
        }
        size_t hl = strcspn(p, ":/");
        if (hl == 0 || hl >= sizeof s->host) {
            snprintf(err, errlen, "%s: no host in '%s'", flag, url);
            return -HERD_EINVAL;
        }
        snprintf(s->host, sizeof s->host, "%.*s", (int)hl, p);
        p += hl;
        s->port = 6379;
        if (*p == ':') {
            char *end;
            long port = strtol(p + 1, &end, 10);
            if (port <= 0 || port > 65535 || end == p + 1) {
                snprintf(err, errlen, "%s: bad port in '%s'", flag, url);
                return -HERD_EINVAL;
            }
            s->port = (int)port;
            p = end;
        }
        if (*p == '/' && p[1]) {
            char *end;
            long db = strtol(p + 1, &end, 10);
            if (db < 0 || db > 1000000 || *end) {
                snprintf(err, errlen, "%s: bad database number in '%s'", flag, url);
                return -HERD_EINVAL;
            }
            s->db = (int)db;
        }
        return 0;
    }
    case HERD_SVC_ZOOKEEPER: {
        const char *colon = strrchr(url, ':');
        char *end;
        long port = colon ? strtol(colon + 1, &end, 10) : 0;
        if (!colon || colon == url || port <= 0 || port > 65535 || *end ||
            (size_t)(colon - url) >= sizeof s->host || strchr(url, ',')) {
            snprintf(err, errlen, "%s: expected HOST:PORT (one ZooKeeper server), got '%s'", flag,
                     url);
            return -HERD_EINVAL;
        }
        snprintf(s->host, sizeof s->host, "%.*s", (int)(colon - url), url);
        s->port = (int)port;
        return 0;
    }
    case HERD_SVC_POSTGRES:
        if (strlen(url) >= sizeof s->conninfo) {
            snprintf(err, errlen, "%s: the connection string is too long", flag);
            return -HERD_EINVAL;
        }
        snprintf(s->conninfo, sizeof s->conninfo, "%s", url);
        return 0;
    }
    return -HERD_EINVAL;
}

/* ---- a client connection ------------------------------------------------------------- */

#ifdef HERD_HAVE_HIREDIS
#include <hiredis/hiredis.h>

struct redisContext *herd__svc_redis_connect(const struct herd_svc *s, int64_t io_timeout_ns,
                                             char *err, size_t errlen)
{
    struct timeval tv = {.tv_sec = 5};
    redisContext *c = NULL;
    /* A Unix socket whose backlog is full refuses at once (EAGAIN) instead of queueing
     * the connect: try again for up to 5 s while the server catches up. */
    for (int64_t until = herd__now_ns() + 5000 * MS;;) {
        c = s->port ? redisConnectWithTimeout(s->host, s->port, tv)
                    : redisConnectUnixWithTimeout(s->host, tv);
        if (!c || !c->err || c->err != REDIS_ERR_IO || errno != EAGAIN || herd__now_ns() >= until ||
            herd__live_stopping())
            break;
        redisFree(c);
        herd__sleep_ns(MS);
    }
    if (!c || c->err) {
        snprintf(err, errlen, "cannot connect to redis at %s%s%.0d: %s", s->host,
                 s->port ? ":" : "", s->port, c ? c->errstr : "out of memory");
        redisFree(c);
        return NULL;
    }
    struct timeval io = {.tv_sec = io_timeout_ns / (1000 * MS),
                         .tv_usec = (io_timeout_ns % (1000 * MS)) / 1000};
    redisSetTimeout(c, io);
    if (s->db) {
        redisReply *rep = redisCommand(c, "SELECT %d", s->db);
        bool ok = rep && rep->type == REDIS_REPLY_STATUS;
        freeReplyObject(rep);
        if (!ok) {
            snprintf(err, errlen, "redis: SELECT %d failed", s->db);
            redisFree(c);
            return NULL;
        }
    }
    return c;
}
#endif
