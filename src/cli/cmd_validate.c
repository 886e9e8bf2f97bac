/* cmd_validate.c — `herd validate FILE.yaml...`: read each scenario file through the same
 * reader `herd run` uses and say "ok" with its shape, or its first error with
 * file:line:column; and the resolver every subcommand uses to turn a scenario argument
 * (a catalogue name, a path, the name of a shipped file) into a row. */
#include "cli.h"

#include "../scenario/file.h"

#include <errno.h>
#include <getopt.h>
#include <herd/error.h>
#include <string.h>

static const char validate_usage[] =
    "usage: herd validate FILE.yaml|NAME... [--schema]\n"
    "\n"
    "Check scenario files (docs/scenario-file.md) without running them: every field's type,\n"
    "unit and range, the component names and references, the call graph (no cycles), the\n"
    "faults and the mitigations (each applied and checked). Prints one line per file:\n"
    "\"FILE: ok (N components, M faults, K mitigations)\", or the first error as\n"
    "FILE:LINE:COLUMN: path.to.field: what is wrong; allowed: ... (exit 2).\n"
    "NAME is a file shipped with herd (herd list shows them).\n"
    "\n"
    "  --schema     print the field reference (markdown) instead, from the schema itself\n"
    "  -h, --help   this help\n";

/* A shipped file's name, or a path: the file's path into @p path. */
static int locate(const char *arg, char *path, size_t len)
{
    if (herd_fleet_is_path(arg)) {
        snprintf(path, len, "%s", arg);
        return 0;
    }
    return herd_fleet_find(arg, path, len);
}

static void shipped_names(char *buf, size_t len)
{
    static char paths[64][4096];
    size_t n = herd_fleet_shipped(paths, 64), off = 0;
    buf[0] = '\0';
    for (size_t i = 0; i < n && i < 64 && off < len; i++) {
        const char *base = strrchr(paths[i], '/');
        base = base ? base + 1 : paths[i];
        off += (size_t)snprintf(buf + off, len - off, "%s%.*s", i ? ", " : "",
                                (int)(strlen(base) - 5), base);
    }
}

int herd__cli_scenario(const char *cmd, const char *arg, const struct herd_scenario **row,
                       struct herd_fleet_file **file)
{
    char path[4096], err[1024];
    *row = NULL;
    *file = NULL;
    if (!arg || herd_scenario_find(arg))
        return HERD_EXIT_OK; /* herd_request_resolve names it or says which are allowed */
    if (locate(arg, path, sizeof path) < 0) {
        char names[256], files[1024];
        herd_scenario_names(names, sizeof names);
        shipped_names(files, sizeof files);
        return herd__usage_error("%s: unknown scenario '%s'; allowed: %s, a scenario file "
                                 "(FILE.yaml) or a shipped one: %s",
                                 cmd, arg, names, files);
    }
    int rc = herd_fleet_file_load(path, file, err, sizeof err);
    if (rc == -HERD_EINVAL)
        return herd__usage_error("%s", err);
    if (rc < 0)
        return herd__fail("%s", err);
    *row = herd_fleet_file_scenario(*file);
    return HERD_EXIT_OK;
}

int herd_cmd_validate(int argc, char **argv)
{
    static const struct option opts[] = {
        {"schema", no_argument, NULL, 'S'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    int c;
    optind = 1;
    opterr = 0;
    while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        switch (c) {
        case 'S':
            return herd_fleet_schema_markdown(stdout) == 0 ? HERD_EXIT_OK : HERD_EXIT_FAIL;
        case 'h':
            fputs(validate_usage, stdout);
            return HERD_EXIT_OK;
        default:
            return herd__usage_error("validate: unknown option '%s' (see herd validate --help)",
                                     argv[optind - 1]);
        }
    }
    if (optind == argc)
        return herd__usage_error("validate: which files? allowed: FILE.yaml or the name of a "
                                 "shipped file (herd list)");
    int rc = HERD_EXIT_OK;
    for (int i = optind; i < argc; i++) {
        char path[4096], err[1024];
        struct herd_fleet_file *f;
        if (locate(argv[i], path, sizeof path) < 0) {
            rc = herd__usage_error("%s: no such file or shipped scenario", argv[i]);
            continue;
        }
        int lr = herd_fleet_file_load(path, &f, err, sizeof err);
        if (lr < 0) {
            int e = lr == -HERD_EINVAL ? herd__usage_error("%s", err) : herd__fail("%s", err);
            if (rc == HERD_EXIT_OK || e == HERD_EXIT_USAGE)
                rc = e;
            continue;
        }
        const struct herd_fleet *m = herd_fleet_file_fleet(f);
        int k = herd_fleet_file_nmitigations(f);
        printf("%s: ok (%d component%s, %d fault%s, %d mitigation%s)\n", path, m->ncomps,
               m->ncomps == 1 ? "" : "s", m->nfaults, m->nfaults == 1 ? "" : "s", k,
               k == 1 ? "" : "s");
        herd_fleet_file_free(f);
    }
    if (fflush(stdout) != 0)
        return herd__fail("writing: %s", strerror(errno));
    return rc;
}
