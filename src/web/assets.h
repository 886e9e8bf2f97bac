/* assets.h — the page's files, built into the binary (herd serve needs nothing beside it).
 *
 * src/web/assets.c is GENERATED at build time by scripts/embed-assets.py from the files
 * of web/ (and the uPlot bundle from web/node_modules) and docs/glossary.md, which the page
 * links to at /glossary.md: one table, looked up by path (meson.build's web_page list).
 * Thread safety: read-only data.
 */
#ifndef HERD_WEB_ASSETS_H
#define HERD_WEB_ASSETS_H

#include <stddef.h>

struct herd_asset {
    const char *path; /* "/", "/app.js", "/uPlot.min.css", "/glossary.md" ... ("/" is index.html) */
    const char *mime; /* "text/html; charset=utf-8" ... */
    const unsigned char *data;
    size_t len;
};

/** The asset served at @p path, or NULL. */
const struct herd_asset *herd_web_asset(const char *path);

/** Every asset, NULL-path-terminated (for tests and listings). */
extern const struct herd_asset herd_web_assets[];

#endif
