/* cells.c — the figures of herd demo's and herd fidelity's tables: a value in three
 * figures with its unit, a value with its 95 % interval, and padding that counts display
 * columns rather than bytes (µ and ∞ are two and three bytes wide in UTF-8). */
#include "cli.h"

#include <math.h>
#include <string.h>

void herd__cli_fmt_value(double v, bool time, bool utf8, char *buf, size_t len)
{
    if (!isfinite(v))
        snprintf(buf, len, "%s%s", v < 0 ? "-" : "", utf8 ? "\xe2\x88\x9e" : "inf");
    else if (!time)
        snprintf(buf, len, v >= 100 || v == floor(v) ? "%.0f" : "%.1f", v);
    else if (v < 1e6)
        snprintf(buf, len, "%.0f%s", v / 1e3, utf8 ? "\xc2\xb5s" : "us");
    else if (v < 1e9) /* three figures: 1.23ms, 12.3ms, 123ms */
        snprintf(buf, len, "%.*fms", v < 1e7 ? 2 : v < 1e8 ? 1 : 0, v / 1e6);
    else
        snprintf(buf, len, "%.2fs", v / 1e9);
}

void herd__cli_fmt_ci(const struct herd_stats_interval *ci, bool time, bool utf8, char *buf,
                      size_t len)
{
    char p[24], lo[24], hi[24];
    herd__cli_fmt_value(ci->point, time, utf8, p, sizeof p);
    if (isinf(ci->lo) && isinf(ci->hi)) {
        snprintf(buf, len, "%s%s (unbounded)", p, ci->enough_samples ? "" : "*");
        return;
    }
    herd__cli_fmt_value(ci->lo, time, utf8, lo, sizeof lo);
    herd__cli_fmt_value(ci->hi, time, utf8, hi, sizeof hi);
    snprintf(buf, len, "%s%s %s%s, %s%s", p, ci->enough_samples ? "" : "*",
             isfinite(ci->lo) ? "[" : "(", lo, hi, isfinite(ci->hi) ? "]" : ")");
}

void herd__cli_put_cell(const char *s, int width)
{
    int w = 0;
    for (const char *q = s; *q; q++)
        w += ((unsigned char)*q & 0xc0) != 0x80; /* continuation bytes take no column */
    fputs(s, stdout);
    for (; w < width; w++)
        putchar(' ');
}
