/* error.c -- the stable error list and message formatting. */
#include "internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const struct {
    const char *name;
    int exit;
} codes[] = {
#define X(name, exit, msg) {#name, exit},
    STRATA_ERRORS(X)
#undef X
};

const char *strata_code_name(strata_code code)
{
    if ((unsigned)code >= STRATA_CODE_COUNT)
        return "INTERNAL";
    return codes[code].name;
}

int strata_code_exit(strata_code code)
{
    if ((unsigned)code >= STRATA_CODE_COUNT)
        return 1;
    return codes[code].exit;
}

void strata_error_clear(strata_error *err)
{
    if (err)
        memset(err, 0, sizeof(*err));
}

/* Keep messages on one line: a server message may contain newlines. */
static void one_line(char *s)
{
    char *w = s;
    for (const char *r = s; *r; r++) {
        char c = (*r == '\n' || *r == '\r' || *r == '\t') ? ' ' : *r;
        if (c == ' ' && w > s && w[-1] == ' ')
            continue; /* collapse runs of blanks */
        *w++ = c;
    }
    *w = 0;
}

/*
 * Copies the n bytes of src into dst (cap bytes, NUL included). When they
 * do not fit, the text is cut before its closing tag -- " [SQLSTATE 23505]",
 * " [CODE]", up to 40 bytes at the very end -- which is kept, the cut marked
 * "...": a long server message must not lose the SQLSTATE the header
 * promises is in the message.
 */
static void fit_keep_tag(char *dst, size_t cap, const char *src, size_t n)
{
    if (n < cap) {
        memmove(dst, src, n);
        dst[n] = 0;
        return;
    }
    size_t tag = 0;
    if (n > 2 && src[n - 1] == ']')
        for (size_t i = n - 1; i-- > 0 && n - i <= 40;)
            if (src[i] == ' ' && src[i + 1] == '[') {
                tag = n - i;
                break;
            }
    size_t head = cap - 1 - tag - (tag ? 3 : 0);
    while (head > 0 && ((unsigned char)src[head] & 0xC0) == 0x80)
        head--; /* not inside a UTF-8 character */
    memmove(dst, src, head);
    if (tag) {
        memcpy(dst + head, "...", 3);
        memmove(dst + head + 3, src + n - tag, tag);
        dst[head + 3 + tag] = 0;
    } else {
        dst[head] = 0;
    }
}

strata_code err_set(strata_error *err, strata_code code, const char *fmt, ...)
{
    va_list ap;
    if (!err)
        return code;
    strata_error_clear(err);
    err->code = code;
    char small[4 * sizeof(err->message)], *big = small;
    va_start(ap, fmt);
    int len = vsnprintf(small, sizeof(small), fmt, ap);
    va_end(ap);
    if (len >= (int)sizeof(small)) {
        /* a server message of any length keeps its tag */
        if ((big = malloc((size_t)len + 1)) != NULL) {
            va_start(ap, fmt);
            vsnprintf(big, (size_t)len + 1, fmt, ap);
            va_end(ap);
        } else {
            big = small;
            len = (int)sizeof(small) - 1;
        }
    }
    fit_keep_tag(err->message, sizeof(err->message), big, len < 0 ? 0 : (size_t)len);
    if (big != small)
        free(big);
    /* trim trailing blanks left by server messages */
    size_t n = strlen(err->message);
    while (n && (err->message[n - 1] == '\n' || err->message[n - 1] == ' '))
        err->message[--n] = 0;
    one_line(err->message);
    return code;
}

void err_prefix(strata_error *err, const char *fmt, ...)
{
    if (!err)
        return;
    char p[sizeof(err->message)];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(p, sizeof(p), fmt, ap);
    va_end(ap);
    size_t pl = n < 0 ? 0 : (size_t)n >= sizeof(p) ? sizeof(p) - 1 : (size_t)n;
    char both[2 * sizeof(err->message)];
    size_t ml = strlen(err->message);
    memcpy(both, p, pl);
    memcpy(both + pl, err->message, ml);
    fit_keep_tag(err->message, sizeof(err->message), both, pl + ml); /* the message's middle is cut */
    one_line(err->message);
}

void err_hint(strata_error *err, const char *fmt, ...)
{
    va_list ap;
    if (!err)
        return;
    va_start(ap, fmt);
    vsnprintf(err->hint, sizeof(err->hint), fmt, ap);
    va_end(ap);
    one_line(err->hint);
}

void err_hint_more(strata_error *err, const char *fmt, ...)
{
    va_list ap;
    if (!err)
        return;
    size_t n = strlen(err->hint);
    if (n && n + 2 < sizeof(err->hint)) {
        memcpy(err->hint + n, "; ", 3);
        n += 2;
    }
    va_start(ap, fmt);
    vsnprintf(err->hint + n, sizeof(err->hint) - n, fmt, ap);
    va_end(ap);
    one_line(err->hint);
}

void err_where(strata_error *err, const char *file, int line)
{
    if (!err)
        return;
    snprintf(err->file, sizeof(err->file), "%s", file ? file : "");
    err->line = line;
}

void err_set_code(strata_error *err, strata_code code)
{
    if (err)
        err->code = code;
}

strata_code api_null(strata_error *err, const char *fn, const char *args)
{
    err_set(err, STRATA_USAGE, "%s: %s must not be NULL", fn, args);
    return STRATA_USAGE;
}
