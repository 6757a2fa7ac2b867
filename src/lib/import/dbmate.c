/*
 * dbmate.c -- dbmate's files: <version><anything>.sql (version = the leading
 * digits, files ordered by name as dbmate orders them), each with one
 * "-- migrate:up [transaction:false]" block and one "-- migrate:down" block.
 * Versions are strings, as in dbmate's table: "001" and "1" are two
 * versions, two files of one version are refused (DUPLICATE_VERSION) before
 * anything is written. A UTF-8 byte order mark at the start of a file is
 * skipped, as strata's own loader skips it.
 */
#include "import/import.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* A "-- migrate:WORD" directive line ("--", blanks, "migrate:WORD", then the
   end of the line or a blank): returns 1 and sets *notx from its
   transaction:false option. */
static int directive(const char *l, size_t n, const char *word, int *notx)
{
    size_t i = 0, wl = strlen(word);
    if (n < 2 || l[0] != '-' || l[1] != '-')
        return 0;
    for (i = 2; i < n && isspace((unsigned char)l[i]); i++)
        ;
    if (n - i < 8 + wl || strncmp(l + i, "migrate:", 8) || strncmp(l + i + 8, word, wl))
        return 0;
    i += 8 + wl;
    if (i < n && !isspace((unsigned char)l[i]))
        return 0;
    *notx = 0;
    while (i < n) {
        while (i < n && isspace((unsigned char)l[i]))
            i++;
        size_t s = i;
        while (i < n && !isspace((unsigned char)l[i]))
            i++;
        if (i - s == 17 && !strncmp(l + s, "transaction:false", 17))
            *notx = 1;
    }
    return 1;
}

/* A line that reads "-- migrate:up" or "-- migrate:down" but for ASCII
   case ("-- Migrate:Up"): no directive to dbmate, which refuses the file. */
static int directive_in_other_case(const char *l, size_t n)
{
    size_t i = 2;
    if (n < 2 || l[0] != '-' || l[1] != '-')
        return 0;
    while (i < n && isspace((unsigned char)l[i]))
        i++;
    if (n - i < 10 || c_strncasecmp(l + i, "migrate:", 8))
        return 0;
    i += 8;
    size_t w = n - i >= 4 && !c_strncasecmp(l + i, "down", 4) ? 4 : !c_strncasecmp(l + i, "up", 2) ? 2 : 0;
    return w && (i + w == n || isspace((unsigned char)l[i + w]));
}

/* rc, with a hint naming line odd (when not 0): a marker in another case. */
static strata_code odd_hint(strata_code rc, int odd, strata_error *err)
{
    if (odd)
        err_hint(err,
                 "line %d is a marker in another case, which dbmate reads as a comment: its markers are "
                 "lower case ('-- migrate:up', '-- migrate:down')",
                 odd);
    return rc;
}

static int blank_or_comment(const char *l, size_t n)
{
    size_t i = 0;
    while (i < n && isspace((unsigned char)l[i]))
        i++;
    return i == n || (n - i >= 2 && l[i] == '-' && l[i + 1] == '-');
}

static strata_code parse(const char *src, const char *fname, const char *text, size_t len, import_mig *m,
                         strata_error *err)
{
    size_t pos = 0, eol, up_at = 0, up_end = 0, down_at = 0, down_end = 0;
    int ups = 0, downs = 0, notx, up_notx = 0, down_notx = 0, line = 0, stray = 0, odd = 0;
    while (pos <= len) {
        size_t next = import_line(text, len, pos, &eol);
        line++;
        if (directive(text + pos, eol - pos, "up", &notx)) {
            if (++ups == 1) {
                up_at = pos;
                up_end = next < len ? next : len;
                up_notx = notx;
            }
        } else if (directive(text + pos, eol - pos, "down", &notx)) {
            if (++downs == 1) {
                down_at = pos;
                down_end = next < len ? next : len;
                down_notx = notx;
            }
            if (!ups)
                return odd_hint(
                    err_set(err, STRATA_PARSE_ERROR,
                            "dbmate file '%s/%s', line %d: '-- migrate:down' before '-- migrate:up'", src,
                            fname, line),
                    odd, err);
        } else if (!odd && directive_in_other_case(text + pos, eol - pos)) {
            odd = line; /* a comment to dbmate: named if the file fails for want of a marker */
        } else if (!ups && !stray && !blank_or_comment(text + pos, eol - pos)) {
            stray = line;
        }
        pos = next;
    }
    if (!ups)
        return odd_hint(
            err_set(err, STRATA_PARSE_ERROR, "dbmate file '%s/%s' has no '-- migrate:up' block", src, fname),
            odd, err);
    if (!downs && odd)
        return odd_hint(err_set(err, STRATA_PARSE_ERROR, "dbmate file '%s/%s' has no '-- migrate:down' block",
                                src, fname),
                        odd, err);
    if (stray)
        return err_set(err, STRATA_PARSE_ERROR,
                       "dbmate file '%s/%s', line %d: a statement before '-- migrate:up'", src, fname, stray);
    if (!downs)
        return err_set(err, STRATA_PARSE_ERROR, "dbmate file '%s/%s' has no '-- migrate:down' block", src,
                       fname);
    if (ups > 1 || downs > 1)
        return import_refuse(err,
                             "dbmate file '%s/%s' has %d up/down block pairs: strata has one up and one down "
                             "per file (split it into one file per pair)",
                             src, fname, ups > downs ? ups : downs);
    /* the comments above the up directive stay, at the top of the up section */
    buf up;
    buf_init(&up);
    buf_add(&up, text, up_at);
    buf_add(&up, text + up_end, down_at > up_end ? down_at - up_end : 0);
    m->up = buf_detach(&up);
    m->down = xstrndup(text + down_end, len - down_end);
    m->up_notx = up_notx;
    m->down_notx = down_notx;
    m->has_down = 1;
    return m->up && m->down ? STRATA_OK : err_set(err, STRATA_NOMEM, "out of memory");
}

/* A dbmate file name's version: its leading digits (len 0: not one). */
typedef struct dver {
    const char *name;
    size_t len, index;
} dver;

static int dver_cmp(const void *a, const void *b)
{
    const dver *x = a, *y = b;
    size_t n = x->len < y->len ? x->len : y->len;
    int c = memcmp(x->name, y->name, n);
    if (!c)
        c = x->len < y->len ? -1 : x->len > y->len;
    return c ? c : x->index < y->index ? -1 : x->index > y->index;
}

/* Two .sql files of one version, refused before any file is read: the pair
   whose later file comes first in dbmate's order (one sort, not a search
   per file: a history of tens of thousands of files). */
static strata_code dup_versions(char **names, size_t n, strata_error *err)
{
    dver *v = calloc(n + 1, sizeof(*v));
    size_t nv = 0;
    if (!v)
        return err_set(err, STRATA_NOMEM, "out of memory");
    for (size_t i = 0; i < n; i++) {
        size_t l = strlen(names[i]), d = 0;
        while (isdigit((unsigned char)names[i][d]))
            d++;
        if (l >= 4 && !strcmp(names[i] + l - 4, ".sql") && d)
            v[nv++] = (dver){names[i], d, i};
    }
    qsort(v, nv, sizeof(*v), dver_cmp);
    const dver *first = NULL, *second = NULL;
    for (size_t i = 1; i < nv; i++)
        if (v[i].len == v[i - 1].len && !memcmp(v[i].name, v[i - 1].name, v[i].len) &&
            (i < 2 || v[i - 2].len != v[i].len || memcmp(v[i - 2].name, v[i].name, v[i].len)) &&
            (!second || v[i].index < second->index)) {
            first = &v[i - 1];
            second = &v[i];
        }
    strata_code rc = STRATA_OK;
    if (second) {
        rc = err_set(err, STRATA_DUPLICATE_VERSION, "dbmate files '%s' and '%s' share version %.*s",
                     first->name, second->name, (int)first->len, first->name);
        err_hint(err, "dbmate records one row per version: give one of them another version");
    }
    free(v);
    return rc;
}

strata_code import_dbmate(const char *src, const strata_import_opts *o, import_set *out, strata_error *err)
{
    (void)o;
    char **names = NULL;
    size_t n = 0;
    strata_code rc = import_list(src, 0, &names, &n, err);
    if (!rc)
        rc = dup_versions(names, n, err);
    for (size_t i = 0; !rc && i < n; i++) {
        const char *f = names[i];
        size_t l = strlen(f);
        if (l < 4 || strcmp(f + l - 4, ".sql"))
            continue; /* dbmate reads only .sql files */
        size_t d = 0;
        while (isdigit((unsigned char)f[d]))
            d++;
        if (!d) {
            rc = import_refuse(err, "'%s/%s' is not a dbmate migration (no version at the start of its name)",
                               src, f);
            break;
        }
        char *text = NULL;
        size_t len = 0;
        if ((rc = import_read(src, f, &text, &len, err)))
            break;
        import_mig m = {0};
        char *version = xstrndup(f, d);
        const char *rest = f + d;
        while (*rest == '_' || *rest == '-')
            rest++;
        char *name = xstrndup(rest, (size_t)(f + l - 4 - rest));
        m.version = version;
        m.name = name;
        m.file = (char *)f;
        rc = parse(src, f, text, len, &m, err);
        if (!rc)
            rc = import_add(out, &m);
        if (rc == STRATA_NOMEM && !err->code)
            err_set(err, rc, "out of memory");
        free(version);
        free(name);
        free(m.up);
        free(m.down);
        free(text);
    }
    import_names_free(names);
    return rc;
}
