/*
 * json.c -- the JSON writer of --json output. One shape everywhere:
 * {"key": value, "key": [1, 2]} -- ", " between members and elements,
 * ": " after a key, no newline inside a value. Strings go through json_str
 * (output.c: control characters escaped, invalid UTF-8 as U+FFFD).
 */
#include "cli.h"

#include <string.h>

/* Before a value (or a key): the comma when its object or array holds one
   already; nothing right after a key. */
static void sep(jw *w)
{
    if (w->after_key) {
        w->after_key = 0;
        return;
    }
    if (w->depth > 0 && w->depth <= JW_MAX_DEPTH) {
        unsigned long bit = 1ul << (w->depth - 1);
        if (w->filled & bit)
            fputs(", ", w->f);
        w->filled |= bit;
    }
}

void jw_init(jw *w, FILE *f)
{
    w->f = f;
    w->depth = 0;
    w->filled = 0;
    w->after_key = 0;
}

static void open_(jw *w, char c)
{
    sep(w);
    fputc(c, w->f);
    w->depth++;
    if (w->depth <= JW_MAX_DEPTH)
        w->filled &= ~(1ul << (w->depth - 1));
}

static void close_(jw *w, char c)
{
    fputc(c, w->f);
    if (w->depth > 0)
        w->depth--;
    if (w->depth == 0)
        w->filled = 0;
}

void jw_obj(jw *w)
{
    open_(w, '{');
}
void jw_obj_end(jw *w)
{
    close_(w, '}');
}
void jw_arr(jw *w)
{
    open_(w, '[');
}
void jw_arr_end(jw *w)
{
    close_(w, ']');
}

void jw_key(jw *w, const char *key)
{
    sep(w);
    json_str(w->f, key);
    fputs(": ", w->f);
    w->after_key = 1;
}

void jw_str(jw *w, const char *s)
{
    sep(w);
    json_str(w->f, s);
}

void jw_int(jw *w, long long v)
{
    sep(w);
    fprintf(w->f, "%lld", v);
}

void jw_fixed(jw *w, double v, int decimals)
{
    sep(w);
    fprintf(w->f, "%.*f", decimals, v);
}

void jw_bool(jw *w, int b)
{
    sep(w);
    fputs(b ? "true" : "false", w->f);
}

void jw_null(jw *w)
{
    sep(w);
    fputs("null", w->f);
}

void jw_kstr(jw *w, const char *key, const char *s)
{
    jw_key(w, key);
    jw_str(w, s);
}
void jw_kint(jw *w, const char *key, long long v)
{
    jw_key(w, key);
    jw_int(w, v);
}
void jw_kbool(jw *w, const char *key, int b)
{
    jw_key(w, key);
    jw_bool(w, b);
}

void jw_lines(jw *w, const char *lines)
{
    jw_arr(w);
    while (lines && *lines) {
        const char *nl = strchr(lines, '\n');
        size_t n = nl ? (size_t)(nl - lines) : strlen(lines);
        char one[1024];
        snprintf(one, sizeof(one), "%.*s", (int)n, lines);
        jw_str(w, one);
        lines += n + (nl != NULL);
    }
    jw_arr_end(w);
}

void jw_end(jw *w)
{
    fputc('\n', w->f);
    jw_init(w, w->f);
}
