/* svg.c — a small SVG writer for herd's pictures (svg.h). */
#include "svg.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Okabe–Ito: blue, vermillion, bluish green, orange, reddish purple, sky blue. */
static const char *const colours[] = {"#0072B2", "#D55E00", "#009E73",
                                      "#E69F00", "#CC79A7", "#56B4E9"};
static const char *const dashes[] = {"", "7 3", "2 2", "9 3 2 3", "4 4", "1 3"};
#define NSTYLES 6

const char *herd_svg_colour(int i)
{
    return colours[((i % NSTYLES) + NSTYLES) % NSTYLES];
}

static void vput(struct herd_svg *s, const char *fmt, va_list ap)
{
    if (s->oom)
        return;
    va_list ap2;
    va_copy(ap2, ap);
    int n = vsnprintf(s->buf ? s->buf + s->len : NULL, s->buf ? s->cap - s->len : 0, fmt, ap);
    if (n < 0) {
        va_end(ap2);
        return;
    }
    if (!s->buf || s->len + (size_t)n + 1 > s->cap) {
        size_t cap = s->cap ? s->cap : 4096;
        while (cap < s->len + (size_t)n + 1)
            cap *= 2;
        char *b = realloc(s->buf, cap);
        if (!b) {
            s->oom = true;
            va_end(ap2);
            return;
        }
        s->buf = b;
        s->cap = cap;
        vsnprintf(s->buf + s->len, s->cap - s->len, fmt, ap2);
    }
    va_end(ap2);
    s->len += (size_t)n;
}

void herd_svg_printf(struct herd_svg *s, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vput(s, fmt, ap);
    va_end(ap);
}

void herd_svg_escape(struct herd_svg *s, const char *text)
{
    for (const char *p = text ? text : ""; *p; p++) {
        switch (*p) {
        case '<':
            herd_svg_printf(s, "&lt;");
            break;
        case '>':
            herd_svg_printf(s, "&gt;");
            break;
        case '&':
            herd_svg_printf(s, "&amp;");
            break;
        case '"':
            herd_svg_printf(s, "&quot;");
            break;
        default:
            herd_svg_printf(s, "%c", *p);
        }
    }
}

void herd_svg_begin(struct herd_svg *s, int w, int h, const char *title, const char *desc)
{
    memset(s, 0, sizeof *s);
    herd_svg_printf(s,
                    "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
                    "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" height=\"%d\" "
                    "viewBox=\"0 0 %d %d\" font-family=\"DejaVu Sans, Helvetica, Arial, "
                    "sans-serif\" role=\"img\">\n<title>",
                    w, h, w, h);
    herd_svg_escape(s, title);
    herd_svg_printf(s, "</title>\n<desc>");
    herd_svg_escape(s, desc);
    herd_svg_printf(s, "</desc>\n<rect width=\"%d\" height=\"%d\" fill=\"#ffffff\"/>\n", w, h);
}

void herd_svg_text(struct herd_svg *s, double x, double y, const char *anchor, int size, bool bold,
                   const char *fmt, ...)
{
    char buf[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    herd_svg_printf(s,
                    "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"%s\" font-size=\"%d\"%s "
                    "fill=\"#222222\">",
                    x, y, anchor, size, bold ? " font-weight=\"bold\"" : "");
    herd_svg_escape(s, buf);
    herd_svg_printf(s, "</text>\n");
}

/* A round step for about @p want ticks up to @p max: 1, 2 or 5 × 10^k. */
static double nice_step(double max, int want)
{
    if (!(max > 0))
        return 1;
    double raw = max / want, p = pow(10, floor(log10(raw))), m = raw / p;
    return (m <= 1 ? 1 : m <= 2 ? 2 : m <= 5 ? 5 : 10) * p;
}

static void tick_label(char *buf, size_t len, double v)
{
    double a = fabs(v);
    if (a >= 1e6)
        snprintf(buf, len, "%gM", v / 1e6);
    else if (a >= 1e4)
        snprintf(buf, len, "%gk", v / 1e3);
    else
        snprintf(buf, len, "%g", v);
}

void herd_svg_chart(struct herd_svg *s, const struct herd_svg_chart *c)
{
    const double left = 64, right = 12, top = 28, bottom = 40;
    double px = c->x + left, py = c->y + top, pw = c->w - left - right, ph = c->h - top - bottom;
    size_t n = 0;
    for (int i = 0; i < c->nseries; i++)
        n = c->series[i].n > n ? c->series[i].n : n;
    double from = c->from_s, to = c->to_s;
    if (!(to > from)) {
        from = 0;
        to = (double)n * c->bucket_s;
    }
    if (!(to > from))
        to = from + 1;
    size_t b0 = (size_t)fmax(0, floor(from / c->bucket_s));
    size_t b1 = (size_t)fmin((double)n, ceil(to / c->bucket_s));
    double ymax = 0;
    for (int i = 0; i < c->nseries; i++)
        for (size_t k = b0; k < b1 && k < c->series[i].n; k++)
            ymax = fmax(ymax, (double)c->series[i].v[k] * c->series[i].scale);
    double ystep = nice_step(ymax, 4), ytop = ystep * ceil(ymax / ystep);
    if (!(ytop > 0))
        ytop = ystep;
    double xstep = nice_step(to - from, 6);

    herd_svg_printf(s, "<g class=\"chart\">\n");
    herd_svg_text(s, c->x + 8, c->y + 17, "start", 14, true, "%s", c->title);
    herd_svg_printf(s,
                    "<rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\" fill=\"none\" "
                    "stroke=\"#888888\" stroke-width=\"1\"/>\n",
                    px, py, pw, ph);
    char lab[32];
    for (double v = 0; v <= ytop * 1.0001; v += ystep) {
        double y = py + ph - v / ytop * ph;
        herd_svg_printf(
            s, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"#e5e5e5\"/>\n", px,
            y, px + pw, y);
        tick_label(lab, sizeof lab, v);
        herd_svg_text(s, px - 5, y + 4, "end", 11, false, "%s", lab);
    }
    for (double t = ceil(from / xstep) * xstep; t <= to + 1e-9; t += xstep) {
        double x = px + (t - from) / (to - from) * pw;
        herd_svg_printf(
            s, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"#888888\"/>\n", x,
            py + ph, x, py + ph + 4);
        herd_svg_text(s, x, py + ph + 16, "middle", 11, false, "%g", t);
    }
    herd_svg_text(s, px + pw / 2, py + ph + 32, "middle", 12, false, "time (s)");
    herd_svg_printf(s,
                    "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\" font-size=\"12\" "
                    "fill=\"#222222\" transform=\"rotate(-90 %.1f %.1f)\">",
                    c->x + 14, py + ph / 2, c->x + 14, py + ph / 2);
    herd_svg_escape(s, c->yunit);
    herd_svg_printf(s, "</text>\n");

    for (int m = 0; m < c->nmarks; m++) {
        double t = c->marks[m].x_s;
        if (t < from || t > to)
            continue;
        double x = px + (t - from) / (to - from) * pw;
        herd_svg_printf(s,
                        "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"#444444\" "
                        "stroke-dasharray=\"3 3\"/>\n",
                        x, py, x, py + ph);
        herd_svg_text(s, x + 3, py + 12 + 13 * m, "start", 11, false, "%s", c->marks[m].label);
    }

    for (int i = 0; i < c->nseries; i++) {
        const struct herd_svg_series *se = &c->series[i];
        herd_svg_printf(s, "<polyline class=\"series\" data-run=\"");
        herd_svg_escape(s, se->run);
        herd_svg_printf(s, "\" data-series=\"");
        herd_svg_escape(s, se->name);
        herd_svg_printf(s,
                        "\" data-from-bucket=\"%zu\" fill=\"none\" stroke=\"%s\" "
                        "stroke-width=\"1.8\"%s%s%s points=\"",
                        b0, herd_svg_colour(se->style),
                        dashes[se->style % NSTYLES][0] ? " stroke-dasharray=\"" : "",
                        dashes[se->style % NSTYLES], dashes[se->style % NSTYLES][0] ? "\"" : "");
        for (size_t k = b0; k < b1 && k < se->n; k++) {
            double t = ((double)k + 0.5) * c->bucket_s;
            double x = px + (t - from) / (to - from) * pw;
            double y = py + ph - (double)se->v[k] * se->scale / ytop * ph;
            herd_svg_printf(s, "%s%.1f,%.1f", k > b0 ? " " : "", x, y);
        }
        herd_svg_printf(s, "\"/>\n");
    }
    /* The legend, top right inside the panel. */
    double ly = py + 14, widest = 0;
    for (int i = 0; i < c->nseries; i++)
        widest = fmax(widest, 6.2 * (double)strlen(c->series[i].label ? c->series[i].label : ""));
    for (int i = 0; i < c->nseries; i++, ly += 15) {
        const struct herd_svg_series *se = &c->series[i];
        double lx = px + pw - widest - 40;
        herd_svg_printf(s,
                        "<rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"15\" fill=\"#ffffff\" "
                        "fill-opacity=\"0.85\"/>\n",
                        lx - 4, ly - 12, widest + 40);
        herd_svg_printf(s,
                        "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"%s\" "
                        "stroke-width=\"2.5\"%s%s%s/>\n",
                        lx, ly - 4, lx + 24, ly - 4, herd_svg_colour(se->style),
                        dashes[se->style % NSTYLES][0] ? " stroke-dasharray=\"" : "",
                        dashes[se->style % NSTYLES], dashes[se->style % NSTYLES][0] ? "\"" : "");
        herd_svg_text(s, lx + 30, ly, "start", 11, false, "%s", se->label);
    }
    herd_svg_printf(s, "</g>\n");
}

void herd_svg_box(struct herd_svg *s, double x, double y, double w, double h, const char *label,
                  const char *sub, int style)
{
    herd_svg_printf(s,
                    "<rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\" rx=\"6\" "
                    "fill=\"#ffffff\" stroke=\"%s\" stroke-width=\"2\"/>\n",
                    x, y, w, h, herd_svg_colour(style));
    herd_svg_text(s, x + w / 2, y + (sub ? h / 2 - 2 : h / 2 + 5), "middle", 14, true, "%s", label);
    if (sub)
        herd_svg_text(s, x + w / 2, y + h / 2 + 15, "middle", 11, false, "%s", sub);
}

void herd_svg_arrow(struct herd_svg *s, double x1, double y1, double x2, double y2,
                    const char *label, int style)
{
    double dx = x2 - x1, dy = y2 - y1, len = sqrt(dx * dx + dy * dy);
    if (len <= 0)
        return;
    double ux = dx / len, uy = dy / len;
    herd_svg_printf(s,
                    "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"%s\" "
                    "stroke-width=\"2\"/>\n",
                    x1, y1, x2 - ux * 8, y2 - uy * 8, herd_svg_colour(style));
    herd_svg_printf(s, "<polygon points=\"%.1f,%.1f %.1f,%.1f %.1f,%.1f\" fill=\"%s\"/>\n", x2, y2,
                    x2 - ux * 10 - uy * 5, y2 - uy * 10 + ux * 5, x2 - ux * 10 + uy * 5,
                    y2 - uy * 10 - ux * 5, herd_svg_colour(style));
    if (label)
        herd_svg_text(s, (x1 + x2) / 2, (y1 + y2) / 2 - 6, "middle", 11, false, "%s", label);
}

char *herd_svg_end(struct herd_svg *s, size_t *len)
{
    herd_svg_printf(s, "</svg>\n");
    if (s->oom) {
        free(s->buf);
        memset(s, 0, sizeof *s);
        return NULL;
    }
    char *b = s->buf;
    if (len)
        *len = s->len;
    memset(s, 0, sizeof *s);
    return b;
}
