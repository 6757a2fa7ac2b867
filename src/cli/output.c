/* output.c -- error output (human and JSON), JSON strings, colors. */
#include "cli.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

/* The length (2..4) of the well-formed UTF-8 sequence at p, or 0 when the
   byte at p does not start one: no overlong forms, no surrogates, nothing
   above U+10FFFF (RFC 3629). *cp is its code point. */
static int utf8_seq(const unsigned char *p, unsigned *cp)
{
    unsigned c = p[0], min;
    int n;
    if (c >= 0xc2 && c <= 0xdf)
        n = 2, c &= 0x1f, min = 0x80;
    else if (c >= 0xe0 && c <= 0xef)
        n = 3, c &= 0x0f, min = 0x800;
    else if (c >= 0xf0 && c <= 0xf4)
        n = 4, c &= 0x07, min = 0x10000;
    else
        return 0;
    for (int i = 1; i < n; i++) {
        if ((p[i] & 0xc0) != 0x80) /* also stops at the NUL */
            return 0;
        c = (c << 6) | (p[i] & 0x3f);
    }
    if (c < min || c > 0x10ffff || (c >= 0xd800 && c <= 0xdfff))
        return 0;
    *cp = c;
    return n;
}

/*
 * The one writer of JSON strings: the output is always valid UTF-8 JSON,
 * whatever the bytes (file names, server messages). Control characters
 * (U+0000..U+001F, U+007F) are escaped (\n, \t, \u001b...); a byte that is
 * not part of well-formed UTF-8 becomes U+FFFD (written \ufffd).
 */
void json_str(FILE *f, const char *s)
{
    if (!s) {
        fputs("null", f);
        return;
    }
    fputc('"', f);
    for (const unsigned char *p = (const unsigned char *)s; *p;) {
        unsigned cp;
        int n;
        if (*p >= 0x80) {
            if ((n = utf8_seq(p, &cp)) > 0) {
                fwrite(p, 1, (size_t)n, f);
                p += n;
            } else {
                fputs("\\ufffd", f);
                p++;
            }
            continue;
        }
        switch (*p) {
        case '"':
            fputs("\\\"", f);
            break;
        case '\\':
            fputs("\\\\", f);
            break;
        case '\n':
            fputs("\\n", f);
            break;
        case '\r':
            fputs("\\r", f);
            break;
        case '\t':
            fputs("\\t", f);
            break;
        default:
            if (*p < 0x20 || *p == 0x7f)
                fprintf(f, "\\u%04x", *p);
            else
                fputc(*p, f);
        }
        p++;
    }
    fputc('"', f);
}

/*
 * s made safe for a terminal: control characters (C0, DEL and the C1
 * range U+0080..U+009F) and bytes that are not well-formed UTF-8 are
 * written \xNN; all else as it is. Returns s itself when nothing needs escaping, else
 * one of a few rotating buffers (valid until 8 more calls); "" for NULL.
 */
const char *term_str(const char *s)
{
    static char *ring[8];
    static unsigned next;
    if (!s)
        return "";
    size_t bad = 0;
    for (const unsigned char *p = (const unsigned char *)s; *p;) {
        unsigned cp = 0;
        int n = *p >= 0x80 ? utf8_seq(p, &cp) : 1;
        if (*p < 0x20 || *p == 0x7f || n == 0 || (cp >= 0x80 && cp <= 0x9f))
            bad++;
        p += n ? n : 1;
    }
    if (!bad)
        return s;
    char *out = malloc(strlen(s) * 4 + 1), *w = out;
    if (!out)
        return "(unprintable)";
    for (const unsigned char *p = (const unsigned char *)s; *p;) {
        unsigned cp = 0;
        int n = *p >= 0x80 ? utf8_seq(p, &cp) : 1;
        if (*p < 0x20 || *p == 0x7f || n == 0 || (cp >= 0x80 && cp <= 0x9f)) {
            int k = n ? n : 1; /* a C1 character: each of its bytes */
            for (int i = 0; i < k; i++)
                w += sprintf(w, "\\x%02x", p[i]);
            p += k;
        } else {
            memcpy(w, p, (size_t)n);
            w += n;
            p += n;
        }
    }
    *w = 0;
    free(ring[next % 8]);
    ring[next++ % 8] = out;
    return out;
}

const char *color(const cli *c, const char *code)
{
    return c->color ? code : "";
}

int out_error(const cli *c, const strata_error *err)
{
    return out_error_with(c, err, NULL, NULL);
}

int out_error_with(const cli *c, const strata_error *err, const char *key, const char *val)
{
    if (c->json) {
        jw w;
        jw_init(&w, stderr);
        jw_obj(&w);
        jw_kstr(&w, "detail", err->message);
        jw_kstr(&w, "code", strata_code_name(err->code));
        if (err->hint[0])
            jw_kstr(&w, "hint", err->hint);
        if (err->file[0]) {
            jw_kstr(&w, "file", err->file);
            if (err->line)
                jw_kint(&w, "line", err->line);
        }
        if (err->sqlstate[0])
            jw_kstr(&w, "sqlstate", err->sqlstate);
        if (key && val)
            jw_kstr(&w, key, val);
        jw_obj_end(&w);
        jw_end(&w);
    } else {
        fprintf(stderr, "strata: %serror%s: %s [%s]\n", color(c, "\033[1;31m"), color(c, "\033[0m"),
                term_str(err->message), strata_code_name(err->code));
        if (err->hint[0])
            fprintf(stderr, "hint: %s\n", term_str(err->hint));
    }
    return strata_code_exit(err->code);
}

void out_warning(const cli *c, const strata_problem *w)
{
    if (c->quiet)
        return;
    if (c->json) {
        jw j;
        jw_init(&j, stderr);
        jw_obj(&j);
        jw_kstr(&j, "warning", w->detail);
        if (w->file && w->file[0]) {
            jw_kstr(&j, "file", w->file);
            if (w->line)
                jw_kint(&j, "line", w->line);
        }
        jw_obj_end(&j);
        jw_end(&j);
    } else {
        fprintf(stderr, "strata: %swarning%s: ", color(c, "\033[33m"), color(c, "\033[0m"));
        if (w->file && w->file[0] && w->line > 0)
            fprintf(stderr, "%s:%d: ", term_str(w->file), w->line);
        fprintf(stderr, "%s\n", term_str(w->detail));
    }
}

int out_usage_error(const cli *c, const char *fmt, ...)
{
    strata_error err;
    va_list ap;
    memset(&err, 0, sizeof(err));
    err.code = STRATA_USAGE;
    va_start(ap, fmt);
    vsnprintf(err.message, sizeof(err.message), fmt, ap);
    va_end(ap);
    if (c->usage_hint)
        snprintf(err.hint, sizeof(err.hint), "%s", c->usage_hint);
    else
        snprintf(err.hint, sizeof(err.hint), "see 'strata %s%s--help'", c->cmd_name ? c->cmd_name : "",
                 c->cmd_name ? " " : "");
    return out_error(c, &err);
}
