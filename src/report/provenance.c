/* provenance.c — what produced a report (see provenance.h).
 *
 * Every string goes through copy_utf8() on its way in, which is what keeps the
 * invariants of the header: bounded, NUL-terminated, cut at a character boundary, valid
 * UTF-8. The report layer may read files (src/lib may not): /proc/cpuinfo is read here.
 */
#include "provenance.h"

#include <assert.h>
#include <errno.h>
#include <fcntl.h>
#include <herd/error.h>
#include <stdio.h>
#include <string.h>
#include <sys/utsname.h>
#include <time.h>
#include <unistd.h>

/* Length of the valid UTF-8 sequence at @p s (1-4), or 0 when @p s starts an invalid
 * one (RFC 3629: no overlongs, no surrogates, nothing above U+10FFFF). Never reads past
 * a NUL: a NUL is no continuation byte. */
static size_t utf8_len(const unsigned char *s)
{
    unsigned char c = s[0];
    unsigned char lo = 0x80, hi = 0xBF;
    size_t n;
    if (c < 0x80)
        return 1;
    if (c >= 0xC2 && c <= 0xDF)
        n = 2;
    else if (c >= 0xE0 && c <= 0xEF)
        n = 3;
    else if (c >= 0xF0 && c <= 0xF4)
        n = 4;
    else
        return 0;
    if (c == 0xE0)
        lo = 0xA0;
    else if (c == 0xED)
        hi = 0x9F;
    else if (c == 0xF0)
        lo = 0x90;
    else if (c == 0xF4)
        hi = 0x8F;
    if (s[1] < lo || s[1] > hi)
        return 0;
    for (size_t i = 2; i < n; i++)
        if (s[i] < 0x80 || s[i] > 0xBF)
            return 0;
    return n;
}

/* Copy @p src into @p dst (@p cap bytes), an invalid byte becoming '?', stopping at the
 * last whole character that fits. @return true when all of @p src fitted. */
static bool copy_utf8(char *dst, size_t cap, const char *src)
{
    const unsigned char *s = (const unsigned char *)src;
    size_t o = 0;
    while (*s) {
        size_t n = utf8_len(s);
        size_t w = n ? n : 1;
        if (o + w > cap - 1) {
            dst[o] = '\0';
            return false;
        }
        if (n)
            memcpy(dst + o, s, n);
        else
            dst[o] = '?';
        o += w;
        s += w;
    }
    dst[o] = '\0';
    return true;
}

/* Whether @p text ends in the mark (with or without its leading space: set_argv drops the
 * space when not even the first argument fitted). */
static bool ends_in_mark(const char *text)
{
    const char *m = HERD_PROV_TRUNC_MARK + 1;
    size_t n = strlen(text), k = strlen(m);
    return n >= k && strcmp(text + n - k, m) == 0;
}

void herd_provenance_set_command(struct herd_provenance *p, const char *text)
{
    const size_t mark = sizeof HERD_PROV_TRUNC_MARK - 1;
    if (!text)
        text = "";
    p->command_truncated = !copy_utf8(p->command, sizeof p->command, text);
    if (p->command_truncated) {
        copy_utf8(p->command, sizeof p->command - mark, text);
        strcat(p->command, HERD_PROV_TRUNC_MARK);
    } else if (ends_in_mark(text)) {
        /* Cut already by whoever built it (the CLI's herd_provenance_set_argv, whose text
         * the runner hands on): it still is, or the flag would deny what the text says. */
        p->command_truncated = true;
    }
}

/* Characters a POSIX shell takes literally in a word, anywhere in it. */
static bool shell_safe(unsigned char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
           strchr("@%+=:,./-_", c) != NULL;
}

/* Bytes @p arg takes on the command line; *quote says whether it needs single quotes.
 * An '=' in the first word would make it an assignment, so argv[0] quotes it. */
static size_t quoted_len(const char *arg, bool first, bool *quote)
{
    size_t len = 0, squotes = 0;
    *quote = arg[0] == '\0';
    for (const unsigned char *s = (const unsigned char *)arg; *s; s++, len++) {
        if (!shell_safe(*s) || (first && *s == '='))
            *quote = true;
        if (*s == '\'')
            squotes++;
    }
    /* 'it'\''s': each ' becomes four bytes, plus the two around. */
    return *quote ? len + 3 * squotes + 2 : len;
}

static size_t put_quoted(char *dst, const char *arg, bool quote)
{
    size_t o = 0;
    if (!quote) {
        size_t n = strlen(arg);
        memcpy(dst, arg, n);
        return n;
    }
    dst[o++] = '\'';
    for (const char *s = arg; *s; s++) {
        if (*s == '\'') {
            memcpy(dst + o, "'\\''", 4);
            o += 4;
        } else {
            dst[o++] = *s;
        }
    }
    dst[o++] = '\'';
    return o;
}

void herd_provenance_set_argv(struct herd_provenance *p, int argc, char *const argv[])
{
    const size_t cap = sizeof p->command - 1, mark = sizeof HERD_PROV_TRUNC_MARK - 1;
    size_t total = 0, o = 0;
    bool quote;
    int i, keep;

    assert(argc >= 0 && (argc == 0 || argv));
    for (i = 0; i < argc; i++)
        total += (i > 0) + quoted_len(argv[i], i == 0, &quote);
    p->command_truncated = total > cap;
    /* All of it when it fits; else the whole arguments that leave room for the mark. */
    size_t room = p->command_truncated ? cap - mark : cap;
    for (keep = 0; keep < argc; keep++) {
        size_t need = (keep > 0) + quoted_len(argv[keep], keep == 0, &quote);
        if (o + need > room)
            break;
        if (keep > 0)
            p->command[o++] = ' ';
        o += put_quoted(p->command + o, argv[keep], quote);
    }
    p->command[o] = '\0';
    if (p->command_truncated)
        strcat(p->command, keep > 0 ? HERD_PROV_TRUNC_MARK : HERD_PROV_TRUNC_MARK + 1);
    /* Invalid UTF-8 from argv becomes '?' byte for byte, in place: the length holds. */
    for (unsigned char *s = (unsigned char *)p->command; *s;) {
        size_t n = utf8_len(s);
        if (n == 0)
            *s++ = '?';
        else
            s += n;
    }
}

/* The value of the first line of @p text whose key is @p key ("model name\t: AMD ..."),
 * trimmed, into @p out. @return true when found. */
static bool cpuinfo_value(const char *text, const char *key, char *out, size_t cap)
{
    size_t klen = strlen(key);
    for (const char *line = text, *next; line && *line; line = next) {
        next = strchr(line, '\n');
        if (next)
            next++;
        if (strncmp(line, key, klen) != 0)
            continue;
        const char *s = line + klen;
        while (*s == ' ' || *s == '\t')
            s++;
        if (*s != ':')
            continue;
        s++;
        while (*s == ' ' || *s == '\t')
            s++;
        const char *e = strchr(s, '\n');
        size_t n = e ? (size_t)(e - s) : strlen(s);
        while (n > 0 && (s[n - 1] == ' ' || s[n - 1] == '\t' || s[n - 1] == '\r'))
            n--;
        if (n == 0)
            continue;
        char tmp[HERD_PROV_CPU_MAX * 2];
        if (n >= sizeof tmp)
            n = sizeof tmp - 1;
        memcpy(tmp, s, n);
        tmp[n] = '\0';
        copy_utf8(out, cap, tmp);
        return true;
    }
    return false;
}

static void read_cpu_model(char *out, size_t cap)
{
    /* The first processor's block comes first; 8 KiB holds it even with x86's long
     * flags and bugs lines. The file is generated as it is read: loop until full. */
    static const char *const keys[] = {"model name", "Processor", "cpu model", "cpu"};
    char buf[8192];
    size_t got = 0;
    int fd = open("/proc/cpuinfo", O_RDONLY | O_CLOEXEC);
    snprintf(out, cap, "unknown");
    if (fd < 0)
        return;
    while (got < sizeof buf - 1) {
        ssize_t n = read(fd, buf + got, sizeof buf - 1 - got);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            break;
        got += (size_t)n;
    }
    close(fd);
    buf[got] = '\0';
    for (size_t k = 0; k < sizeof keys / sizeof keys[0]; k++)
        if (cpuinfo_value(buf, keys[k], out, cap))
            return;
}

int herd_provenance_format_time(int64_t unix_ns, char buf[HERD_PROV_TIME_MAX])
{
    int64_t sec = unix_ns / 1000000000, rem = unix_ns % 1000000000;
    if (rem < 0) { /* floor, so that a time before 1970 still reads forwards */
        rem += 1000000000;
        sec--;
    }
    time_t t = (time_t)sec;
    struct tm tm;
    if (!gmtime_r(&t, &tm) || tm.tm_year + 1900 < 0 || tm.tm_year + 1900 > 9999) {
        snprintf(buf, HERD_PROV_TIME_MAX, "invalid");
        return -HERD_EINVAL;
    }
    /* gmtime_r keeps every field in range; the modulos only show the compiler so. */
    snprintf(buf, HERD_PROV_TIME_MAX, "%04u-%02u-%02uT%02u:%02u:%02u.%03uZ",
             (unsigned)(tm.tm_year + 1900) % 10000u, (unsigned)(tm.tm_mon + 1) % 100u,
             (unsigned)tm.tm_mday % 100u, (unsigned)tm.tm_hour % 100u, (unsigned)tm.tm_min % 100u,
             (unsigned)tm.tm_sec % 100u, (unsigned)(rem / 1000000) % 1000u);
    return 0;
}

void herd_provenance_init(struct herd_provenance *p, const char *version, const char *command)
{
    struct utsname u;
    struct timespec ts;
    char kernel[sizeof u.sysname * 4 + 4];

    memset(p, 0, sizeof *p);
    p->schema = HERD_REPORT_SCHEMA;
    copy_utf8(p->version, sizeof p->version, version ? version : "unknown");
    herd_provenance_set_command(p, command);
    if (uname(&u) == 0) {
        snprintf(kernel, sizeof kernel, "%s %s %s %s", u.sysname, u.release, u.version, u.machine);
        copy_utf8(p->kernel, sizeof p->kernel, kernel);
    } else {
        snprintf(p->kernel, sizeof p->kernel, "unknown");
    }
    read_cpu_model(p->cpu_model, sizeof p->cpu_model);
    long cpus = sysconf(_SC_NPROCESSORS_ONLN);
    p->cpus = cpus > 0 ? (int)cpus : 0;
    p->profile_measured_at = -1;
    clock_gettime(CLOCK_REALTIME, &ts);
    p->start_unix_ns = (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
    herd_provenance_format_time(p->start_unix_ns, p->start);
    p->wall_ns = -1;
    p->sim_ns = -1;
}

void herd_provenance_set_profile(struct herd_provenance *p, const char *path, int64_t measured_at)
{
    copy_utf8(p->profile_path, sizeof p->profile_path, path ? path : "");
    p->profile_measured_at = measured_at > 0 ? measured_at : -1;
}

void herd_provenance_set_end(struct herd_provenance *p, int64_t wall_ns, int64_t sim_ns)
{
    p->wall_ns = wall_ns;
    p->sim_ns = sim_ns < 0 ? -1 : sim_ns;
}

static json_t *int_or_null(int64_t v)
{
    return v < 0 ? json_null() : json_integer((json_int_t)v);
}

json_t *herd_provenance_to_json(const struct herd_provenance *p)
{
    json_t *o = json_object(), *prof;
    char when[HERD_PROV_TIME_MAX];

    if (!o)
        return NULL;
    if (p->profile_path[0] == '\0') {
        prof = json_null();
    } else {
        prof = json_object();
        json_object_set_new(prof, "path", json_string(p->profile_path));
        /* Past year 2262 the nanoseconds overflow: a profile from then is garbage. */
        bool ok = p->profile_measured_at > 0 && p->profile_measured_at < INT64_MAX / 1000000000 &&
                  herd_provenance_format_time(p->profile_measured_at * 1000000000, when) == 0;
        json_object_set_new(prof, "measured_at", ok ? json_string(when) : json_null());
    }
    json_object_set_new(o, "schema", json_integer(p->schema));
    json_object_set_new(o, "herd_version", json_string(p->version));
    json_object_set_new(o, "command", json_string(p->command));
    json_object_set_new(o, "command_truncated", json_boolean(p->command_truncated));
    json_object_set_new(o, "kernel", json_string(p->kernel));
    json_object_set_new(o, "cpu_model", json_string(p->cpu_model));
    json_object_set_new(o, "cpus", json_integer(p->cpus));
    json_object_set_new(o, "profile", prof);
    json_object_set_new(o, "start", json_string(p->start));
    json_object_set_new(o, "start_unix_ns", json_integer((json_int_t)p->start_unix_ns));
    json_object_set_new(o, "wall_ns", int_or_null(p->wall_ns));
    json_object_set_new(o, "sim_ns", int_or_null(p->sim_ns));
    return o;
}
