/* svg.h — a small SVG writer for herd's pictures (herd picture, the page).
 *
 * What it is for: time-series panels drawn from runs (one polyline per series, shared
 * x axis in seconds, y axis in the series' unit with round ticks), boxes, arrows and
 * labels, into one self-contained SVG document in memory. Colours are the Okabe–Ito
 * palette (safe for the common colour-vision deficiencies: Okabe & Ito, "Color Universal
 * Design", 2002) and each series also has its own dash pattern, so a picture reads in
 * print and in greyscale. Every polyline carries data-* attributes naming its run and
 * series; callers put the runs' values in <metadata> (herd_svg_raw) so a test can check
 * the picture against the run that made it.
 *
 * Errors: out of memory latches (herd_svg_end returns NULL). Thread safety: none; one
 * writer per document.
 */
#ifndef HERD_REPORT_SVG_H
#define HERD_REPORT_SVG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct herd_svg {
    char *buf;
    size_t len, cap;
    bool oom;
};

/* One series of a chart: per-bucket values; drawn as value × scale (e.g. 1 / bucket_s for
 * a rate per second). */
struct herd_svg_series {
    const char *label; /* the legend's */
    const char *run;   /* data-run: the strategy that made it */
    const char *name;  /* data-series: "postgres.arrivals" */
    const int64_t *v;
    size_t n;
    double scale;
    int style; /* colour and dash: 0.. (cycles after 6) */
};

struct herd_svg_mark {
    double x_s; /* where, in seconds */
    const char *label;
};

struct herd_svg_chart {
    double x, y, w, h; /* the panel's box, in px */
    const char *title, *yunit;
    double bucket_s;     /* seconds per bucket */
    double from_s, to_s; /* the window shown (to_s <= from_s: all of it) */
    const struct herd_svg_series *series;
    int nseries;
    const struct herd_svg_mark *marks;
    int nmarks;
};

/** Start a @p w × @p h document titled @p title (the <title>) described by @p desc. */
void herd_svg_begin(struct herd_svg *s, int w, int h, const char *title, const char *desc);

/** Append formatted text as is (markup; the caller escapes what is text). */
void herd_svg_printf(struct herd_svg *s, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/** Append @p text XML-escaped. */
void herd_svg_escape(struct herd_svg *s, const char *text);

/** A text label at (@p x, @p y): @p anchor "start" | "middle" | "end", @p size px,
 *  @p bold; the formatted text is escaped. */
void herd_svg_text(struct herd_svg *s, double x, double y, const char *anchor, int size, bool bold,
                   const char *fmt, ...) __attribute__((format(printf, 7, 8)));

/** A time-series panel: frame, axes with units, ticks, series, legend, marks. */
void herd_svg_chart(struct herd_svg *s, const struct herd_svg_chart *c);

/** A box with a centred two-line label (@p sub may be NULL). */
void herd_svg_box(struct herd_svg *s, double x, double y, double w, double h, const char *label,
                  const char *sub, int style);

/** An arrow from (@p x1, @p y1) to (@p x2, @p y2), labelled at its middle (NULL: none). */
void herd_svg_arrow(struct herd_svg *s, double x1, double y1, double x2, double y2,
                    const char *label, int style);

/** The colour of style @p i ("#0072B2" ...). */
const char *herd_svg_colour(int i);

/** Finish: @return the document (NUL-terminated, @p *len bytes; the caller frees), or NULL
 *  when memory ran out (everything freed). */
char *herd_svg_end(struct herd_svg *s, size_t *len);

#endif
