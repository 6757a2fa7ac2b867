/* output.c -- error output (human and JSON), JSON strings, colors. */
#include "cli.h"

#include <stdarg.h>
#include <string.h>

void json_str(FILE *f, const char *s)
{
    if (!s) {
        fputs("null", f);
        return;
    }
    fputc('"', f);
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        switch (*p) {
        case '"': fputs("\\\"", f); break;
        case '\\': fputs("\\\\", f); break;
        case '\n': fputs("\\n", f); break;
        case '\r': fputs("\\r", f); break;
        case '\t': fputs("\\t", f); break;
        default:
            if (*p < 0x20)
                fprintf(f, "\\u%04x", *p);
            else
                fputc(*p, f);
        }
    }
    fputc('"', f);
}

const char *color(const cli *c, const char *code)
{
    return c->color ? code : "";
}

int out_error(const cli *c, const strata_error *err)
{
    if (c->json) {
        fputs("{\"detail\": ", stderr);
        json_str(stderr, err->message);
        fputs(", \"code\": ", stderr);
        json_str(stderr, strata_code_name(err->code));
        if (err->hint[0]) {
            fputs(", \"hint\": ", stderr);
            json_str(stderr, err->hint);
        }
        if (err->file[0]) {
            fputs(", \"file\": ", stderr);
            json_str(stderr, err->file);
            if (err->line)
                fprintf(stderr, ", \"line\": %d", err->line);
        }
        if (err->sqlstate[0]) {
            fputs(", \"sqlstate\": ", stderr);
            json_str(stderr, err->sqlstate);
        }
        fputs("}\n", stderr);
    } else {
        fprintf(stderr, "strata: %serror%s: %s [%s]\n", color(c, "\033[1;31m"), color(c, "\033[0m"),
                err->message, strata_code_name(err->code));
        if (err->hint[0])
            fprintf(stderr, "hint: %s\n", err->hint);
    }
    return strata_code_exit(err->code);
}

void out_warning(const cli *c, const strata_problem *w)
{
    if (c->quiet)
        return;
    if (c->json) {
        fputs("{\"warning\": ", stderr);
        json_str(stderr, w->detail);
        if (w->file && w->file[0]) {
            fputs(", \"file\": ", stderr);
            json_str(stderr, w->file);
            if (w->line)
                fprintf(stderr, ", \"line\": %d", w->line);
        }
        fputs("}\n", stderr);
    } else {
        fprintf(stderr, "strata: %swarning%s: %s\n", color(c, "\033[33m"), color(c, "\033[0m"), w->detail);
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
    snprintf(err.hint, sizeof(err.hint), "see 'strata --help'");
    return out_error(c, &err);
}
