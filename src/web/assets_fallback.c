/* assets_fallback.c — the asset table when the page was not built into this binary.
 *
 * meson.build compiles this instead of the generated assets.c when scripts/embed-assets.py
 * or the page's files (web/, web/node_modules after `npm ci`) are missing, so herd serve
 * always links and its API works; "/" says honestly what is missing, and where the glossary
 * (served at /glossary.md with the page) is to be read instead. Read-only data.
 */
#include "assets.h"

#include <string.h>

static const char index_html[] =
    "<!doctype html>\n"
    "<html lang=\"en\"><head><meta charset=\"utf-8\"><title>herd</title></head>\n"
    "<body>\n"
    "<h1>herd serve</h1>\n"
    "<p>The interactive page is not built into this binary (its files, web/ and\n"
    "web/node_modules after <code>npm ci</code>, were missing when herd was built).\n"
    "The API works:</p>\n"
    "<ul>\n"
    "<li><a href=\"/api/scenarios\">/api/scenarios</a> &mdash; the scenarios, their\n"
    "parameters and mitigations</li>\n"
    "<li>POST /api/run &mdash; run one, e.g. "
    "<code>{\"scenario\":\"accept\",\"n\":1000}</code></li>\n"
    "<li><a href=\"/metrics\">/metrics</a> &mdash; Prometheus counters</li>\n"
    "</ul>\n"
    "<p>What every figure means (useful, served, wasted, failed, idle; wakes, origin load,\n"
    "intervals, the machine): <code>docs/glossary.md</code> in herd's source; a binary built\n"
    "with the page serves it at /glossary.md.</p>\n"
    "</body></html>\n";

const struct herd_asset herd_web_assets[] = {
    {"/", "text/html; charset=utf-8", (const unsigned char *)index_html, sizeof index_html - 1},
    {"/index.html", "text/html; charset=utf-8", (const unsigned char *)index_html,
     sizeof index_html - 1},
    {NULL, NULL, NULL, 0},
};

const struct herd_asset *herd_web_asset(const char *path)
{
    if (path == NULL)
        return NULL;
    size_t len = strcspn(path, "?#");
    for (const struct herd_asset *a = herd_web_assets; a->path != NULL; a++)
        if (strlen(a->path) == len && memcmp(a->path, path, len) == 0)
            return a;
    return NULL;
}
