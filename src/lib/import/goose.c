/*
 * goose.c -- goose's SQL files: <version>_<name>.sql (version an integer,
 * files ordered by its value), with "-- +goose Up", "-- +goose Down",
 * "-- +goose StatementBegin/StatementEnd", "-- +goose NO TRANSACTION" and
 * "-- +goose ENVSUB ON/OFF" annotations (case-insensitive, as goose reads
 * them). Go migrations (<version>_<name>.go) are refused by name.
 *
 * The Up and Down annotation lines become strata markers; every other line
 * is kept as it is (the remaining annotations are SQL comments, and
 * strata's own statement splitter needs no StatementBegin/End). goose runs
 * nothing for the down of a file without a Down annotation: that becomes an
 * empty (no-op) down section.
 */
#include "import/import.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

enum { A_NONE, A_UP, A_DOWN, A_BEGIN, A_END, A_NOTX, A_ENV_ON, A_ENV_OFF, A_BAD };

/* goose: a line whose trimmed text starts with "--" and that contains
   "+goose" is an annotation; "--" and the first "+goose" removed, what is
   left (trimmed) names it, in any case. */
static int annotation(const char *l, size_t n)
{
    size_t i = 0;
    while (i < n && isspace((unsigned char)l[i]))
        i++;
    if (n - i < 2 || l[i] != '-' || l[i + 1] != '-' || !memmem(l, n, "+goose", 6))
        return A_NONE;
    if (i > 0)
        return A_BAD; /* goose refuses an annotation with leading blanks */
    char cmd[64];
    size_t c = 0;
    int seen = 0;
    for (size_t k = 0; k < n;) {
        if (k + 1 < n && l[k] == '-' && l[k + 1] == '-') {
            k += 2;
            continue;
        }
        if (!seen && n - k >= 6 && !strncmp(l + k, "+goose", 6)) {
            seen = 1;
            k += 6;
            continue;
        }
        if (c + 1 >= sizeof(cmd))
            return A_BAD;
        cmd[c++] = l[k++];
    }
    cmd[c] = 0;
    char *s = cmd;
    while (isspace((unsigned char)*s))
        s++;
    size_t e = strlen(s);
    while (e && isspace((unsigned char)s[e - 1]))
        s[--e] = 0;
    static const struct {
        const char *w;
        int a;
    } known[] = {{"Up", A_UP},
                 {"Down", A_DOWN},
                 {"StatementBegin", A_BEGIN},
                 {"StatementEnd", A_END},
                 {"NO TRANSACTION", A_NOTX},
                 {"ENVSUB ON", A_ENV_ON},
                 {"ENVSUB OFF", A_ENV_OFF}};
    for (size_t k = 0; k < sizeof(known) / sizeof(known[0]); k++)
        if (!c_strcasecmp(s, known[k].w))
            return known[k].a;
    return A_BAD;
}

/* Appends line l (n bytes) expanded as goose's ENVSUB does (the
   interpolate package): ${VAR}, $VAR, ${VAR:-default}, ${VAR-default};
   "$$" and "\$" are a '$', "$(" and "\\" stay as they are. An unset variable
   without a default (goose would write nothing) and the other ${...} forms
   are refused rather than guessed. */
static strata_code expand(buf *b, const char *l, size_t n, const char *where, int line, strata_error *err)
{
    for (size_t i = 0; i < n; i++) {
        if (l[i] == '\\' && i + 1 < n && (l[i + 1] == '\\' || l[i + 1] == '$')) {
            buf_add(b, l + i + (l[i + 1] == '$'), l[i + 1] == '$' ? 1 : 2);
            i++;
            continue;
        }
        if (l[i] != '$' || i + 1 >= n) {
            buf_add(b, l + i, 1);
            continue;
        }
        if (l[i + 1] == '$' || l[i + 1] == '(') {
            buf_add(b, l + i, l[i + 1] == '$' ? 1 : 2);
            i++;
            continue;
        }
        if (l[i + 1] != '{' && !isalpha((unsigned char)l[i + 1]))
            return import_refuse(err,
                                 "goose file '%s', line %d: '$%c' in an ENVSUB section (goose fails on it)",
                                 where, line, l[i + 1]);
        int braced = l[i + 1] == '{';
        size_t s = i + 1 + braced, e = s;
        while (e < n && (isalnum((unsigned char)l[e]) || l[e] == '_'))
            e++;
        char name[256];
        if (e == s || e - s >= sizeof(name))
            return import_refuse(err, "goose file '%s', line %d: cannot expand '%.*s'", where, line,
                                 (int)(e - i + 1 < n - i ? e - i + 1 : n - i), l + i);
        memcpy(name, l + s, e - s);
        name[e - s] = 0;
        const char *val = getenv(name), *def = NULL;
        size_t deflen = 0, end = e;
        if (braced) {
            if (e < n && l[e] == '}') {
                end = e + 1;
            } else if (e < n && (l[e] == '-' || (l[e] == ':' && e + 1 < n && l[e + 1] == '-'))) {
                int colon = l[e] == ':';
                size_t ds = e + 1 + colon, de = ds;
                while (de < n && l[de] != '}')
                    de++;
                if (de >= n)
                    return import_refuse(err, "goose file '%s', line %d: unterminated '${%s'", where, line,
                                         name);
                def = l + ds;
                deflen = de - ds;
                if (colon && val && !*val)
                    val = NULL;
                end = de + 1;
            } else {
                return import_refuse(err,
                                     "goose file '%s', line %d: the ENVSUB form '${%s%c...' is not supported",
                                     where, line, name, e < n ? l[e] : ' ');
            }
        }
        if (val)
            buf_adds(b, val);
        else if (def)
            buf_add(b, def, deflen);
        else
            return import_refuse(err, "goose file '%s', line %d: environment variable %s is not set", where,
                                 line, name);
        i = end - 1;
    }
    return STRATA_OK;
}

static strata_code parse(const char *src, const char *f, const char *text, size_t len,
                         const strata_import_opts *o, import_mig *m, strata_error *err)
{
    buf part[2]; /* up (with what stands before the Up annotation), down */
    buf_init(&part[0]);
    buf_init(&part[1]);
    int cur = -1, notx = 0, env = 0, line = 0, has_down = 0,
        block = 0; /* block: line of an open StatementBegin */
    strata_code rc = STRATA_OK;
    char where[4096];
    snprintf(where, sizeof(where), "%s/%s", src, f);
    size_t pos = 0, eol;
    while (!rc && pos < len) {
        size_t next = import_line(text, len, pos, &eol);
        size_t l = next <= len ? next - pos : eol - pos; /* with its newline */
        line++;
        int a = annotation(text + pos, eol - pos);
        buf *b = &part[cur == 1 ? 1 : 0];
        /* goose refuses a StatementBegin left open (at Up, Down or the end)
           and a StatementEnd or a second StatementBegin out of turn */
        if (block && (a == A_UP || a == A_DOWN || a == A_BEGIN)) {
            rc = err_set(err, STRATA_PARSE_ERROR,
                         "goose file '%s', line %d: the '-- +goose StatementBegin' of line %d has no "
                         "'-- +goose StatementEnd'",
                         where, line, block);
            break;
        }
        if (a == A_END && !block) {
            rc = err_set(err, STRATA_PARSE_ERROR,
                         "goose file '%s', line %d: '-- +goose StatementEnd' without a StatementBegin", where,
                         line);
            break;
        }
        block = a == A_BEGIN ? line : a == A_END ? 0 : block;
        switch (a) {
        case A_UP:
            if (cur != -1)
                rc = err_set(err, STRATA_PARSE_ERROR, "goose file '%s', line %d: a second '-- +goose Up'",
                             where, line);
            cur = 0;
            break;
        case A_DOWN:
            if (cur != 0)
                rc = err_set(err, STRATA_PARSE_ERROR, "goose file '%s', line %d: '-- +goose Down' %s", where,
                             line, cur == -1 ? "before '-- +goose Up'" : "twice");
            cur = 1;
            has_down = 1;
            break;
        case A_BAD:
            rc = err_set(err, STRATA_PARSE_ERROR, "goose file '%s', line %d: unknown goose annotation '%.*s'",
                         where, line, (int)(eol - pos), text + pos);
            break;
        case A_ENV_ON:
            if (!o->expand_env)
                rc = import_refuse(err,
                                   "goose file '%s', line %d: ENVSUB substitutes environment variables when "
                                   "goose runs; strata runs the SQL as written (import with --expand-env to "
                                   "substitute them now)",
                                   where, line);
            env = 1;
            buf_add(b, text + pos, l);
            break;
        case A_ENV_OFF:
            env = 0;
            buf_add(b, text + pos, l);
            break;
        case A_NOTX:
            notx = 1;
            /* fall through */
        default:
            if (cur == -1) {
                size_t i = pos;
                while (i < eol && isspace((unsigned char)text[i]))
                    i++;
                if (i < eol && !(eol - i >= 2 && text[i] == '-' && text[i + 1] == '-')) {
                    rc = err_set(err, STRATA_PARSE_ERROR,
                                 "goose file '%s', line %d: a statement before '-- +goose Up'", where, line);
                    break;
                }
            }
            if (env && a == A_NONE) {
                rc = expand(b, text + pos, eol - pos, where, line, err);
                if (next <= len)
                    buf_adds(b, "\n");
            } else {
                buf_add(b, text + pos, l);
            }
        }
        pos = next;
    }
    if (!rc && cur == -1)
        rc = err_set(err, STRATA_PARSE_ERROR, "goose file '%s' has no '-- +goose Up' annotation", where);
    if (!rc && block)
        rc = err_set(
            err, STRATA_PARSE_ERROR,
            "goose file '%s': the '-- +goose StatementBegin' of line %d has no '-- +goose StatementEnd'",
            where, block);
    if (!rc) {
        m->up = buf_detach(&part[0]);
        m->down = buf_detach(&part[1]);
        m->up_notx = m->down_notx = notx;
        m->has_down = 1; /* without a Down annotation goose's down runs nothing */
        (void)has_down;
        if (!m->up || !m->down)
            rc = err_set(err, STRATA_NOMEM, "out of memory");
    }
    buf_release(&part[0]);
    buf_release(&part[1]);
    return rc;
}

static int by_version(const import_mig *a, const import_mig *b)
{
    return version_cmp(a->version, b->version);
}

strata_code import_goose(const char *src, const strata_import_opts *o, import_set *out, strata_error *err)
{
    char **names = NULL;
    size_t n = 0;
    strata_code rc = import_list(src, 0, &names, &n, err);
    for (size_t i = 0; !rc && i < n; i++) {
        const char *f = names[i];
        size_t l = strlen(f), d = 0;
        while (isdigit((unsigned char)f[d]))
            d++;
        int go = l > 3 && !strcmp(f + l - 3, ".go");
        if (go) {
            if (d && f[d] == '_' && !(l > 8 && !strcmp(f + l - 8, "_test.go")))
                rc = import_refuse(err,
                                   "'%s/%s' is a goose Go migration: strata runs SQL only "
                                   "(write its effect as SQL in a .sql file first)",
                                   src, f);
            continue;
        }
        if (l < 4 || strcmp(f + l - 4, ".sql"))
            continue; /* goose reads .sql and .go files only */
        if (!d || f[d] != '_') {
            rc = import_refuse(err, "'%s/%s' is not a goose migration (expected <version>_<name>.sql)", src,
                               f);
            break;
        }
        if (d > 19 || (d == 19 && strncmp(f, "9223372036854775807", 19) > 0)) {
            rc = err_set(err, STRATA_PARSE_ERROR, "goose file '%s/%s': the version does not fit in 64 bits",
                         src, f);
            break;
        }
        if (strspn(f, "0") >= d) {
            /* goose's own rule (NumericComponent): version 0 is its table's
               initial row, not a migration */
            rc = err_set(err, STRATA_PARSE_ERROR,
                         "goose file '%s/%s': version 0; goose migration versions are greater than zero", src,
                         f);
            err_hint(err, "goose itself refuses this file: renumber it (1 or above) before importing");
            break;
        }
        char *text = NULL;
        size_t len = 0;
        if ((rc = import_read(src, f, &text, &len, err)))
            break;
        import_mig m = {0};
        char *version = xstrndup(f, d), *name = xstrndup(f + d + 1, l - d - 1 - 4);
        m.version = version;
        m.name = name;
        m.file = (char *)f;
        rc = parse(src, f, text, len, o, &m, err);
        if (!rc && (rc = import_add(out, &m)))
            err_set(err, rc, "out of memory");
        free(version);
        free(name);
        free(m.up);
        free(m.down);
        free(text);
    }
    import_names_free(names);
    if (!rc && import_sort(out, by_version))
        rc = err_set(err, STRATA_NOMEM, "out of memory");
    for (size_t i = 1; !rc && i < out->n; i++)
        if (!version_cmp(out->v[i - 1].version, out->v[i].version))
            rc = err_set(err, STRATA_DUPLICATE_VERSION, "goose files '%s' and '%s' share version %s",
                         out->v[i - 1].file, out->v[i].file, out->v[i].version);
    return rc;
}
