/* cmd_picture.c — `herd picture [NAME] [--out FILE]`: the field guide's five pictures as
 * SVG, drawn from simulator runs of its scenario files (front/picture.h). Without a name,
 * lists them. The SVG goes to stdout or, with --out, to a file the way curl -o writes. */
#include "cli.h"

#include "../front/picture.h"

#include <getopt.h>
#include <stdlib.h>
#include <string.h>

static const char picture_usage[] =
    "usage: herd picture [NAME [--seed N] [--out FILE.svg]]\n"
    "\n"
    "The field guide's pictures (seed 000), drawn as SVG from runs of its scenario files on\n"
    "the simulator (nothing is drawn by hand). Each SVG carries the runs that made it in its\n"
    "<metadata> (the herd run command of each, and every series drawn). Without NAME, lists\n"
    "them.\n"
    "\n"
    "  --seed N        the runs' seed (default 1)\n"
    "  --out FILE      write there instead of stdout (as curl -o)\n"
    "\n"
    "examples:\n"
    "  herd picture\n"
    "  herd picture stampede --out stampede.svg\n"
    "  herd picture cascade --seed 7 > cascade.svg\n";

int herd_cmd_picture(int argc, char **argv)
{
    static const struct option opts[] = {
        {"seed", required_argument, NULL, 's'},
        {"out", required_argument, NULL, 'o'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    uint64_t seed = 1;
    const char *outpath = NULL;
    optind = 1;
    for (int c; (c = getopt_long(argc, argv, "h", opts, NULL)) != -1;) {
        switch (c) {
        case 's':
            if (herd__cli_seed(optarg, &seed) != HERD_EXIT_OK)
                return HERD_EXIT_USAGE;
            break;
        case 'o':
            outpath = optarg;
            break;
        case 'h':
            fputs(picture_usage, stdout);
            return HERD_EXIT_OK;
        default:
            return HERD_EXIT_USAGE;
        }
    }
    const char *const *names = herd_picture_names();
    if (optind >= argc) {
        printf("the field guide's pictures (herd picture NAME [--out FILE.svg]):\n");
        for (int i = 0; names[i]; i++)
            printf("  %-11s %s\n", names[i], herd_picture_help(names[i]));
        return HERD_EXIT_OK;
    }
    if (argc - optind > 1)
        return herd__usage_error("picture: one NAME at a time ('%s' is extra)", argv[optind + 1]);
    const char *name = argv[optind];
    if (!herd_picture_help(name))
        return herd__usage_error("picture: unknown picture '%s'; allowed: stampede, retry-wave, "
                                 "leader, cascade, dashboard",
                                 name);
    struct herd_cli_out out;
    int rc = herd__cli_out_open(&out, "--out", outpath);
    if (rc != HERD_EXIT_OK)
        return rc;
    char err[1024];
    size_t len;
    char *svg = herd_picture_svg(name, seed, &len, err, sizeof err);
    if (!svg) {
        herd__cli_out_abort(&out);
        return herd__fail("picture %s: %s", name, err);
    }
    fwrite(svg, 1, len, out.f);
    free(svg);
    int w = herd__cli_out_commit(&out);
    if (w < 0)
        return herd__fail("--out: cannot write '%s': %s", outpath, strerror(-w));
    return HERD_EXIT_OK;
}
