/* test_svc.c — the servers herd starts itself (src/live/svc.c): each starts, answers, has its
 * start-up timed, and once stopped leaves no process, socket, directory or shared memory.
 * Skipped with the reason when the server is not installed. */
#include <criterion/criterion.h>
#include <dirent.h>
#include <errno.h>
#include <herd/error.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "../../src/live/live_int.h"
#include "../../src/live/svc.h"
#include "live_test.h"

static int count_lines(const char *path)
{
    FILE *f = fopen(path, "re");
    int n = 0, c;
    if (!f)
        return 0;
    while ((c = fgetc(f)) != EOF)
        n += c == '\n';
    fclose(f);
    return n;
}

static void check_gone(const struct herd_svc *was, pid_t pid, int shm0, int sysv0)
{
    struct stat st;
    cr_assert_eq(stat(was->dir, &st), -1, "%s left", was->dir);
    cr_assert_eq(kill(pid, 0), -1, "the server's process is still there");
    cr_assert_eq(kill(-pid, 0), -1, "a process of the server's group is still there");
    cr_assert_eq(live_test_count_dir("/dev/shm"), shm0, "POSIX shared memory left");
    cr_assert_eq(count_lines("/proc/sysvipc/shm"), sysv0, "a System V segment left");
    errno = 0;
    cr_assert_eq(waitpid(-1, NULL, WNOHANG), -1, "a child left");
}

Test(svc, redis_starts_answers_and_leaves_nothing, .timeout = 60)
{
    char why[256], err[512];
    if (!herd__svc_installed(HERD_SVC_REDIS, why, sizeof why))
        cr_skip_test("%s", why);
    int shm0 = live_test_count_dir("/dev/shm"), sysv0 = count_lines("/proc/sysvipc/shm");
    struct herd_svc s, was;
    struct herd_svc_opts o = {.max_clients = 16};
    int rc = herd__svc_start(HERD_SVC_REDIS, &o, &s, err, sizeof err);
    cr_assert_eq(rc, 0, "%s", err);
    cr_assert_gt(s.pid, 0);
    cr_assert_gt(s.startup_ns, 0);
    cr_assert_eq(access(s.host, F_OK), 0, "the socket %s", s.host);
    was = s;
    pid_t pid = s.pid;
    herd__svc_stop(&s);
    check_gone(&was, pid, shm0, sysv0);
}

Test(svc, postgres_starts_as_a_packager_would_and_leaves_nothing, .timeout = 120)
{
    char why[256], err[512], pidfile[600];
    if (!herd__svc_installed(HERD_SVC_POSTGRES, why, sizeof why))
        cr_skip_test("%s", why);
    int shm0 = live_test_count_dir("/dev/shm"), sysv0 = count_lines("/proc/sysvipc/shm");
    struct herd_svc s, was;
    struct herd_svc_opts o = {.max_clients = 8};
    int rc = herd__svc_start(HERD_SVC_POSTGRES, &o, &s, err, sizeof err);
    cr_assert_eq(rc, 0, "%s", err);
    cr_assert_gt(s.startup_ns, 0);
    snprintf(pidfile, sizeof pidfile, "%s/data/postmaster.pid", s.host);
    struct stat st;
    cr_assert_eq(stat(pidfile, &st), 0, "%s", pidfile);
    cr_assert_neq(st.st_uid, 0, "the data directory is not root's (PostgreSQL refuses root)");
    was = s;
    pid_t pid = s.pid;
    herd__svc_stop(&s);
    check_gone(&was, pid, shm0, sysv0);
}

Test(svc, attach_parses_urls_and_refuses_bad_ones)
{
    struct herd_svc s;
    char err[256];
    cr_assert_eq(herd__svc_attach(HERD_SVC_REDIS, "redis://127.0.0.1:6380/2", "--set url", &s, err,
                                  sizeof err),
                 0, "%s", err);
    cr_assert_str_eq(s.host, "127.0.0.1");
    cr_assert_eq(s.port, 6380);
    cr_assert_eq(s.db, 2);
    cr_assert(s.external);
    herd__svc_stop(&s); /* never stops the user's instance */
    cr_assert_eq(herd__svc_attach(HERD_SVC_REDIS, "redis+unix:///run/redis.sock", "--set url", &s,
                                  err, sizeof err),
                 0, "%s", err);
    cr_assert_str_eq(s.host, "/run/redis.sock");
    cr_assert_eq(herd__svc_attach(HERD_SVC_REDIS, "http://x", "--set url", &s, err, sizeof err),
                 -HERD_EINVAL);
    cr_assert(strstr(err, "--set url"), "%s", err);
    cr_assert_eq(
        herd__svc_attach(HERD_SVC_REDIS, "redis://h:99999", "--set url", &s, err, sizeof err),
        -HERD_EINVAL);
}
