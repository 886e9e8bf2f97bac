/* outfile.c — where --out writes, as users expect from `curl -o` and `sort -o`.
 *
 * The path is judged before the run starts (herd__cli_out_open): an empty path, a
 * directory, a missing directory (none is created) or a place herd cannot write is a
 * usage error naming the flag, so a long run is never lost to a typo. The report is then
 * written into memory and put in place only once the run succeeded (herd__cli_out_commit):
 *
 *   - a regular file (new, or one with a single link) is replaced atomically: the report
 *     goes to an unnamed O_TMPFILE in the target's directory with the target's mode,
 *     is linked as .NAME.herd-tmp.PID and renamed over NAME. Where the filesystem has no
 *     O_TMPFILE the named file is created directly; a run killed in that instant leaves
 *     it, and the next run into that directory removes those of dead pids;
 *   - a regular file with several hard links is written in place (truncated and
 *     rewritten, as `sort -o` does), after the run succeeded: atomic replacement would
 *     cut its links and silently fork the file;
 *   - a FIFO, a character device, a socket and anything under /dev/ or /proc/ (such as
 *     /dev/stdout, whose target may be the shell's own redirection) is opened and written
 *     in place, also only at the end: a FIFO's reader is not kept waiting through the run;
 *   - a symlink is followed (its target is what is replaced; a dangling one is created).
 *
 * Nothing exists on disk during the run, so an interrupted or killed run leaves nothing
 * behind. Cost: the report in memory (kilobytes to a few MB). Linux's O_TMPFILE and
 * linkat through /proc/self/fd are what need _GNU_SOURCE here.
 * Thread safety: none; one output per command.
 */
#define _GNU_SOURCE
#include "cli.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define TMP_MARK ".herd-tmp."

/* Whether @p path names a place the system provides rather than a user's file. */
static bool system_path(const char *path)
{
    return strncmp(path, "/dev/", 5) == 0 || strncmp(path, "/proc/", 6) == 0;
}

/* Follow the symlinks of @p path (at most 40, as the kernel) into @p out: the file a write
 * would reach, which need not exist. @return 0 or -errno. */
static int follow(const char *path, char *out, size_t outlen)
{
    char cur[PATH_MAX], link[PATH_MAX];
    if (snprintf(cur, sizeof cur, "%s", path) >= (int)sizeof cur)
        return -ENAMETOOLONG;
    for (int hops = 0; hops < 40; hops++) {
        struct stat st;
        if (lstat(cur, &st) < 0 || !S_ISLNK(st.st_mode)) {
            if (snprintf(out, outlen, "%s", cur) >= (int)outlen)
                return -ENAMETOOLONG;
            return 0;
        }
        ssize_t n = readlink(cur, link, sizeof link - 1);
        if (n < 0)
            return -errno;
        link[n] = '\0';
        if (link[0] == '/') {
            memcpy(cur, link, (size_t)n + 1);
        } else {
            char *slash = strrchr(cur, '/');
            size_t keep = slash ? (size_t)(slash - cur) + 1 : 0;
            if (keep + (size_t)n >= sizeof cur)
                return -ENAMETOOLONG;
            memcpy(cur + keep, link, (size_t)n + 1);
        }
    }
    return -ELOOP;
}

/* Split @p target into its directory (in @p dir; "." when it has none) and its name. */
static const char *split(const char *target, char *dir, size_t dirlen)
{
    const char *slash = strrchr(target, '/');
    if (!slash) {
        snprintf(dir, dirlen, ".");
        return target;
    }
    size_t k = slash == target ? 1 : (size_t)(slash - target);
    snprintf(dir, dirlen, "%.*s", (int)k, target);
    return slash + 1;
}

/* Remove .NAME.herd-tmp.PID files of dead pids in @p dfd (left by a run killed while it
 * wrote, on a filesystem without O_TMPFILE). Best effort: a failure only leaves them. */
static void clean_stale(int dfd, const char *name)
{
    int fd = openat(dfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    DIR *d = fd >= 0 ? fdopendir(fd) : NULL;
    if (!d) {
        if (fd >= 0)
            close(fd);
        return;
    }
    size_t nlen = strlen(name);
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        const char *s = e->d_name;
        if (s[0] != '.' || strncmp(s + 1, name, nlen) != 0 ||
            strncmp(s + 1 + nlen, TMP_MARK, sizeof TMP_MARK - 1) != 0)
            continue;
        const char *digits = s + 1 + nlen + sizeof TMP_MARK - 1;
        char *end;
        long pid = strtol(digits, &end, 10);
        if (digits[0] < '0' || digits[0] > '9' || *end || pid <= 0 || pid == (long)getpid())
            continue;
        if (kill((pid_t)pid, 0) < 0 && errno == ESRCH)
            unlinkat(dfd, s, 0);
    }
    closedir(d);
}

int herd__cli_out_open(struct herd_cli_out *o, const char *flag, const char *path)
{
    memset(o, 0, sizeof *o);
    o->flag = flag;
    o->path = path;
    if (!path || strcmp(path, "-") == 0) {
        o->kind = HERD_OUT_STDOUT;
        o->f = stdout;
        return HERD_EXIT_OK;
    }
    if (!*path)
        return herd__usage_error("%s: an empty path; give a file name, or - for stdout", flag);
    int rc = follow(path, o->target, sizeof o->target);
    if (rc < 0)
        return herd__usage_error("%s: cannot write '%s': %s", flag, path, strerror(-rc));
    struct stat st;
    if (stat(o->target, &st) == 0) {
        if (S_ISDIR(st.st_mode))
            return herd__usage_error("%s: '%s' is a directory; give a file name in it", flag,
                                     path);
        if (access(o->target, W_OK) < 0)
            return herd__usage_error("%s: cannot write '%s': %s", flag, path, strerror(errno));
        o->mode = st.st_mode & 07777;
        o->kind = !S_ISREG(st.st_mode) || system_path(o->target) ? HERD_OUT_IN_PLACE
                  : st.st_nlink > 1                               ? HERD_OUT_IN_PLACE
                                                                  : HERD_OUT_REPLACE;
    } else if (errno == ENOENT) {
        char dir[PATH_MAX];
        const char *name = split(o->target, dir, sizeof dir);
        if (!*name)
            return herd__usage_error("%s: '%s' is a directory; give a file name in it", flag,
                                     path);
        struct stat ds;
        if (stat(dir, &ds) < 0)
            return herd__usage_error("%s: cannot write '%s': no directory '%s' (herd creates "
                                     "none)",
                                     flag, path, dir);
        if (!S_ISDIR(ds.st_mode))
            return herd__usage_error("%s: cannot write '%s': '%s' is not a directory", flag,
                                     path, dir);
        if (access(dir, W_OK | X_OK) < 0)
            return herd__usage_error("%s: cannot write '%s': %s", flag, path, strerror(errno));
        mode_t um = umask(0);
        umask(um);
        o->mode = 0666 & ~um;
        o->kind = system_path(o->target) ? HERD_OUT_IN_PLACE : HERD_OUT_REPLACE;
    } else {
        return herd__usage_error("%s: cannot write '%s': %s", flag, path, strerror(errno));
    }
    o->f = open_memstream(&o->buf, &o->len);
    if (!o->f)
        return herd__fail("%s: %s", flag, strerror(errno));
    return HERD_EXIT_OK;
}

/* Write @p len bytes of @p buf to @p fd. @return 0 or -errno. */
static int write_all(int fd, const char *buf, size_t len)
{
    while (len) {
        ssize_t n = write(fd, buf, len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            return -errno;
        buf += n;
        len -= (size_t)n;
    }
    return 0;
}

/* The report into @p o->target atomically: an unnamed file linked under a temporary name,
 * then renamed over the target. @return 0 or -errno. */
static int replace(struct herd_cli_out *o)
{
    char dir[PATH_MAX], tmp[NAME_MAX + 1], proc[64];
    const char *name = split(o->target, dir, sizeof dir);
    if (snprintf(tmp, sizeof tmp, ".%s" TMP_MARK "%ld", name, (long)getpid()) >= (int)sizeof tmp)
        return -ENAMETOOLONG;
    int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dfd < 0)
        return -errno;
    clean_stale(dfd, name);
    int rc = 0;
    bool named = false;
    int fd = openat(dfd, ".", O_TMPFILE | O_WRONLY | O_CLOEXEC, o->mode);
    if (fd < 0) { /* no O_TMPFILE here: a named one, removed below or by the next run */
        unlinkat(dfd, tmp, 0);
        fd = openat(dfd, tmp, O_CREAT | O_EXCL | O_WRONLY | O_CLOEXEC, o->mode);
        named = true;
        if (fd < 0) {
            rc = -errno;
            goto out_dir;
        }
    }
    if ((rc = write_all(fd, o->buf, o->len)) < 0)
        goto out_file;
    /* The target's own mode, whatever the umask; its owner when herd may set it. */
    if (fchmod(fd, o->mode) < 0 || fsync(fd) < 0) {
        rc = -errno;
        goto out_file;
    }
    if (!named) {
        snprintf(proc, sizeof proc, "/proc/self/fd/%d", fd);
        unlinkat(dfd, tmp, 0);
        if (linkat(AT_FDCWD, proc, dfd, tmp, AT_SYMLINK_FOLLOW) < 0) {
            rc = -errno;
            goto out_file;
        }
        named = true;
    }
    if (renameat(dfd, tmp, dfd, name) < 0)
        rc = -errno;
    else
        named = false;
out_file:
    close(fd);
    if (named)
        unlinkat(dfd, tmp, 0);
out_dir:
    close(dfd);
    return rc;
}

/* The report into the existing @p o->target, truncated first (a FIFO, a device, a
 * hard-linked file). @return 0 or -errno. */
static int in_place(struct herd_cli_out *o)
{
    int fd = open(o->target, O_WRONLY | O_CREAT | O_CLOEXEC, o->mode);
    if (fd < 0)
        return -errno;
    struct stat st;
    if (fstat(fd, &st) == 0 && S_ISREG(st.st_mode) && ftruncate(fd, 0) < 0) {
        int e = -errno;
        close(fd);
        return e;
    }
    int rc = write_all(fd, o->buf, o->len);
    if (close(fd) < 0 && rc == 0 && errno != EINTR)
        rc = -errno;
    return rc;
}

int herd__cli_out_commit(struct herd_cli_out *o)
{
    if (o->kind == HERD_OUT_STDOUT)
        return fflush(stdout) == 0 ? 0 : -errno;
    int rc = fclose(o->f) == 0 ? 0 : -errno;
    o->f = NULL;
    if (rc == 0)
        rc = o->kind == HERD_OUT_REPLACE ? replace(o) : in_place(o);
    free(o->buf);
    o->buf = NULL;
    return rc;
}

void herd__cli_out_abort(struct herd_cli_out *o)
{
    if (o->kind == HERD_OUT_STDOUT || !o->f)
        return;
    fclose(o->f);
    o->f = NULL;
    free(o->buf);
    o->buf = NULL;
}
