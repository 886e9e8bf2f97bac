/* cmd_calibrate.c — `herd calibrate`: measure this machine with the live code and write
 * the profile the simulator reads (DESIGN §5: calibration passes through a file). */
#include "cli.h"

#include "../live/live.h"

#include <errno.h>
#include <getopt.h>
#include <herd/error.h>
#include <string.h>
#include <sys/stat.h>

static const char calibrate_usage[] =
    "usage: herd calibrate [--out FILE] [--quiet]\n"
    "\n"
    "Measure this machine's herd costs with real runs (about 10 s): the CPU of a wasted\n"
    "epoll wake and of a wasted condvar wake, a context switch, a mutex hand-off, an\n"
    "accept, what each woken waiter adds to an accept, and one origin query. Writes the\n"
    "profile the simulator uses (--backend sim) and prints it.\n"
    "\n"
    "  -o, --out FILE   where to write (default: $HERD_PROFILE, else\n"
    "                   $XDG_CONFIG_HOME/herd/profile.json or ~/.config/herd/profile.json)\n"
    "  -q, --quiet      no progress lines on stderr\n"
    "  -h, --help       this help\n";

/* mkdir -p of the directory part of @p path. */
static int make_parent(const char *path)
{
    char dir[4096];
    snprintf(dir, sizeof dir, "%s", path);
    char *slash = strrchr(dir, '/');
    if (!slash || slash == dir)
        return 0;
    *slash = '\0';
    for (char *p = dir + 1; *p; p++) {
        if (*p == '/') {
            *p = '\0';
            if (mkdir(dir, 0755) < 0 && errno != EEXIST)
                return -errno;
            *p = '/';
        }
    }
    return mkdir(dir, 0755) < 0 && errno != EEXIST ? -errno : 0;
}

/* One profile figure: nanoseconds for *_ns, a plain number (a log-sd) otherwise. */
static void print_figure(const char *name, double v, const char *doc)
{
    size_t len = strlen(name);
    if (len > 3 && strcmp(name + len - 3, "_ns") == 0)
        printf("  %-32s %12.0f ns  %s\n", name, v, doc);
    else
        printf("  %-32s %12.3f     %s\n", name, v, doc);
}

int herd_cmd_calibrate(int argc, char **argv)
{
    static const struct option opts[] = {
        {"out", required_argument, NULL, 'o'},
        {"quiet", no_argument, NULL, 'q'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    char path[4096], err[512];
    const char *out = NULL;
    bool quiet = false;
    int c;
    optind = 1;
    opterr = 0;
    while ((c = getopt_long(argc, argv, ":o:qh", opts, NULL)) != -1) {
        switch (c) {
        case 'o':
            out = optarg;
            break;
        case 'q':
            quiet = true;
            break;
        case 'h':
            fputs(calibrate_usage, stdout);
            return HERD_EXIT_OK;
        case ':':
            return herd__usage_error("%s: needs a value (see herd calibrate --help)",
                                     argv[optind - 1]);
        default:
            return herd__usage_error("calibrate: unknown option '%s' (see herd calibrate "
                                     "--help)",
                                     argv[optind - 1]);
        }
    }
    if (optind < argc)
        return herd__usage_error("calibrate: unexpected argument '%s'", argv[optind]);
    /* The default place is herd's own (XDG): its directory is made on first use. A path
     * the user gave is taken as it is (outfile.c), no directory created. */
    int rc;
    if (out) {
        snprintf(path, sizeof path, "%s", out);
    } else {
        herd_profile_default_path(path, sizeof path);
        if ((rc = make_parent(path)) < 0)
            return herd__fail("calibrate: cannot create the directory of '%s': %s", path,
                              strerror(-rc));
    }
    struct herd_cli_out f;
    if ((rc = herd__cli_out_open(&f, "--out", path)) != HERD_EXIT_OK)
        return rc;

    struct herd_profile p;
    herd__cli_signals();
    rc = herd_live_calibrate(&p, quiet, herd__cli_watch(), err, sizeof err);
    if (rc < 0) {
        herd__cli_out_abort(&f);
        if (rc == -HERD_EINTR) {
            fprintf(stderr, "herd: calibrate interrupted; nothing written\n");
            return HERD_EXIT_INTERRUPTED;
        }
        return herd__fail("calibrate: %s", err);
    }
    if (herd_profile_write(f.f, &p) < 0) {
        herd__cli_out_abort(&f);
        return herd__fail("calibrate: cannot write the profile");
    }
    if ((rc = herd__cli_out_commit(&f)) < 0)
        return herd__fail("--out: cannot write '%s': %s", path, strerror(-rc));
    printf("profile of this machine (%d cores, %s), written to %s\n", p.cores, p.kernel, path);
#define HERD__PROF_PRINT(name, dflt, doc) print_figure(#name, p.name, doc);
    HERD_PROFILE_FIGURES(HERD__PROF_PRINT)
#undef HERD__PROF_PRINT
    return HERD_EXIT_OK;
}
