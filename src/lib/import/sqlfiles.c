/*
 * import/sqlfiles.c -- the readers of the tools whose history is a directory
 * of SQL files named by a number: dbmate, goose, golang-migrate. Each file's
 * SQL is carried byte for byte into the strata sections; the tool's own
 * markers become strata markers; what strata cannot express is refused by
 * name (IMPORT_UNSUPPORTED), never dropped.
 *
 *   dbmate          <version>_<name>.sql with "-- migrate:up [transaction:false]"
 *                   and "-- migrate:down [transaction:false]"
 *   goose           <version>_<name>.sql with "-- +goose Up", "-- +goose Down",
 *                   "-- +goose StatementBegin/End" (dropped: strata's splitter
 *                   handles $$ bodies), "-- +goose NO TRANSACTION", "-- +goose
 *                   ENVSUB ON/OFF" (refused unless expand_env); <version>_*.go
 *                   refused by name
 *   golang-migrate  <version>_<title>.up.sql and .down.sql (an up-only file
 *                   has no down: irreversible)
 * Order: numeric version order, as each tool applies them.
 */
#include "import.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

typedef struct entry {
    char *file, *version, *name;
} entry;

static int entry_cmp(const void *a, const void *b)
{
    const entry *x = a, *y = b;
    int c = version_cmp(x->version, y->version);
    return c ? c : strcmp(x->file, y->file);
}

static void entries_free(entry *v, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        free(v[i].file);
        free(v[i].version);
        free(v[i].name);
    }
    free(v);
}

/* The files of dir whose name is <digits>_<rest> and ends with suffix (or
   any file when suffix is NULL), sorted by version; name = rest without the
   suffix. */
static strata_code list_dir(const char *dir, const char *suffix, entry **out, size_t *n, strata_error *err)
{
    DIR *d = opendir(dir);
    *out = NULL;
    *n = 0;
    if (!d) {
        err_set(err, STRATA_DIR_NOT_FOUND, "cannot open '%s': %s", dir, strerror(errno));
        return STRATA_DIR_NOT_FOUND;
    }
    size_t cap = 0;
    struct dirent *de;
    strata_code rc = STRATA_OK;
    while (!rc && (de = readdir(d))) {
        const char *f = de->d_name;
        size_t digits = strspn(f, "0123456789"), len = strlen(f);
        size_t sl = suffix ? strlen(suffix) : 0;
        if (!digits || f[digits] != '_' || (suffix && (len < sl || strcmp(f + len - sl, suffix) != 0)))
            continue;
        if (*n == cap) {
            cap = cap ? cap * 2 : 64;
            entry *v = realloc(*out, cap * sizeof(*v));
            if (!v) {
                rc = err_set(err, STRATA_NOMEM, "out of memory");
                break;
            }
            *out = v;
        }
        entry *e = &(*out)[(*n)++];
        e->file = xstrdup(f);
        e->version = xstrndup(f, digits);
        e->name = xstrndup(f + digits + 1, len - digits - 1 - sl);
        if (!e->file || !e->version || !e->name)
            rc = err_set(err, STRATA_NOMEM, "out of memory");
    }
    closedir(d);
    if (!rc && *n)
        qsort(*out, *n, sizeof(entry), entry_cmp);
    return rc;
}

static strata_code read_sql(const char *dir, const char *file, char **text, strata_error *err)
{
    char path[4096];
    size_t len;
    const char *kind = NULL;
    snprintf(path, sizeof(path), "%s/%s", dir, file);
    int r = read_regular_file(AT_FDCWD, path, text, &len, &kind);
    if (r == READ_OK)
        return STRATA_OK;
    err_set(err, STRATA_IO_ERROR, "cannot read '%s': %s", path,
            r == READ_NOT_REGULAR ? kind
            : r == READ_TOO_LARGE ? "too large"
                                  : strerror(errno));
    return STRATA_IO_ERROR;
}

/* The line at p (up to, not including, its newline). */
static size_t line_len(const char *p)
{
    return strcspn(p, "\n");
}

/* 1 when the line (n bytes) starts with prefix, after blanks. */
static int line_is(const char *l, size_t n, const char *prefix)
{
    while (n && (*l == ' ' || *l == '\t')) {
        l++;
        n--;
    }
    size_t k = strlen(prefix);
    return n >= k && !strncmp(l, prefix, k);
}

static int line_has(const char *l, size_t n, const char *word)
{
    size_t k = strlen(word);
    for (size_t i = 0; i + k <= n; i++)
        if (!strncmp(l + i, word, k))
            return 1;
    return 0;
}

static strata_code unsupported(strata_error *err, const char *what, const char *file)
{
    err_set(err, STRATA_IMPORT_UNSUPPORTED, "%s: %s", file, what);
    return STRATA_IMPORT_UNSUPPORTED;
}

/* ------------------------------------------------------------------ dbmate */

static strata_code dbmate_file(const char *file, const char *text, import_mig *m, strata_error *err)
{
    buf up, down;
    buf_init(&up);
    buf_init(&down);
    buf *cur = NULL;
    int seen_up = 0;
    for (const char *p = text; *p;) {
        size_t n = line_len(p);
        if (line_is(p, n, "-- migrate:up")) {
            cur = &up;
            seen_up = 1;
            m->up_notx = line_has(p, n, "transaction:false");
        } else if (line_is(p, n, "-- migrate:down")) {
            cur = &down;
            m->has_down = 1;
            m->down_notx = line_has(p, n, "transaction:false");
        } else if (cur) {
            buf_add(cur, p, n);
            buf_adds(cur, "\n");
        }
        p += n + (p[n] == '\n');
    }
    strata_code rc = STRATA_OK;
    if (!seen_up)
        rc = unsupported(err, "no '-- migrate:up' marker", file);
    else if (up.oom || down.oom)
        rc = err_set(err, STRATA_NOMEM, "out of memory");
    m->up = buf_detach(&up);
    m->down = m->has_down ? buf_detach(&down) : NULL;
    buf_release(&up);
    buf_release(&down);
    return rc;
}

/* ------------------------------------------------------------------- goose */

static strata_code goose_file(const char *file, const char *text, const strata_import_opts *o, import_mig *m,
                              strata_error *err)
{
    buf up, down;
    buf_init(&up);
    buf_init(&down);
    buf *cur = NULL;
    int seen_up = 0, notx = 0;
    strata_code rc = STRATA_OK;
    for (const char *p = text; *p && !rc;) {
        size_t n = line_len(p);
        if (line_is(p, n, "-- +goose")) {
            if (line_has(p, n, "+goose Up"))
                cur = &up, seen_up = 1;
            else if (line_has(p, n, "+goose Down"))
                cur = &down, m->has_down = 1;
            else if (line_has(p, n, "NO TRANSACTION"))
                notx = 1;
            else if (line_has(p, n, "ENVSUB") && !o->expand_env && line_has(p, n, "ON"))
                rc = unsupported(err,
                                 "-- +goose ENVSUB ON substitutes environment variables into the SQL; "
                                 "strata carries SQL as written (pass --expand-env to substitute now)",
                                 file);
            /* StatementBegin/End: strata's splitter keeps $$ bodies whole */
        } else if (cur) {
            buf_add(cur, p, n);
            buf_adds(cur, "\n");
        }
        p += n + (p[n] == '\n');
    }
    if (!rc && !seen_up)
        rc = unsupported(err, "no '-- +goose Up' marker", file);
    if (!rc && (up.oom || down.oom))
        rc = err_set(err, STRATA_NOMEM, "out of memory");
    m->up_notx = m->down_notx = notx;
    m->up = buf_detach(&up);
    m->down = m->has_down ? buf_detach(&down) : NULL;
    buf_release(&up);
    buf_release(&down);
    return rc;
}

/* Expands ${VAR} and $VAR from the environment (goose ENVSUB). */
static char *envsub(const char *s)
{
    buf b;
    buf_init(&b);
    while (*s) {
        if (*s == '$' && (s[1] == '{' || isalpha((unsigned char)s[1]) || s[1] == '_')) {
            int brace = s[1] == '{';
            const char *n = s + 1 + brace;
            size_t k = 0;
            while (isalnum((unsigned char)n[k]) || n[k] == '_')
                k++;
            if (k && (!brace || n[k] == '}')) {
                char name[256];
                snprintf(name, sizeof(name), "%.*s", (int)k, n);
                const char *v = getenv(name);
                buf_adds(&b, v ? v : "");
                s = n + k + brace;
                continue;
            }
        }
        buf_add(&b, s, 1);
        s++;
    }
    return buf_detach(&b);
}

/* ----------------------------------------------------------------- readers */

static strata_code read_numbered(const char *tool, const char *src, const strata_import_opts *o,
                                 import_set *out, strata_error *err)
{
    entry *v = NULL;
    size_t n = 0;
    strata_code rc = list_dir(src, NULL, &v, &n, err);
    for (size_t i = 0; !rc && i < n; i++) {
        const char *f = v[i].file;
        size_t len = strlen(f);
        if (!strcmp(tool, "goose") && len > 3 && !strcmp(f + len - 3, ".go")) {
            rc = unsupported(err, "a Go migration: strata runs SQL only (rewrite it as a .sql migration)", f);
            break;
        }
        if (len < 4 || strcmp(f + len - 4, ".sql") != 0)
            continue;
        char *text = NULL;
        if ((rc = read_sql(src, f, &text, err)))
            break;
        if (!strcmp(tool, "goose") && o->expand_env) {
            char *t = envsub(text);
            free(text);
            text = t;
        }
        import_mig m = {0};
        m.version = v[i].version;
        char *name = xstrndup(v[i].name, strlen(v[i].name) - 4);
        m.name = name;
        m.file = (char *)f;
        rc = !text                     ? err_set(err, STRATA_NOMEM, "out of memory")
             : !strcmp(tool, "dbmate") ? dbmate_file(f, text, &m, err)
                                       : goose_file(f, text, o, &m, err);
        if (!rc)
            rc = import_add(out, &m);
        free(m.up);
        free(m.down);
        free(name);
        free(text);
    }
    for (size_t i = 1; !rc && i < out->n; i++)
        if (!version_cmp(out->v[i - 1].version, out->v[i].version))
            rc = unsupported(err, "two migrations share this version", out->v[i].file);
    entries_free(v, n);
    return rc;
}

strata_code import_dbmate(const char *src, const strata_import_opts *o, import_set *out, strata_error *err)
{
    return read_numbered("dbmate", src, o, out, err);
}

strata_code import_goose(const char *src, const strata_import_opts *o, import_set *out, strata_error *err)
{
    return read_numbered("goose", src, o, out, err);
}

strata_code import_golang_migrate(const char *src, const strata_import_opts *o, import_set *out,
                                  strata_error *err)
{
    (void)o;
    entry *ups = NULL, *downs = NULL;
    size_t nu = 0, nd = 0;
    strata_code rc = list_dir(src, ".up.sql", &ups, &nu, err);
    if (!rc)
        rc = list_dir(src, ".down.sql", &downs, &nd, err);
    for (size_t i = 0; !rc && i < nd; i++) {
        size_t j = 0;
        while (j < nu && version_cmp(ups[j].version, downs[i].version))
            j++;
        if (j == nu)
            rc = unsupported(err, "a down file without its up file", downs[i].file);
    }
    for (size_t i = 0; !rc && i < nu; i++) {
        if (i && !version_cmp(ups[i - 1].version, ups[i].version)) {
            rc = unsupported(err, "two migrations share this version", ups[i].file);
            break;
        }
        char *up = NULL, *down = NULL, files[1024];
        const entry *d = NULL;
        for (size_t j = 0; j < nd; j++)
            if (!version_cmp(downs[j].version, ups[i].version))
                d = &downs[j];
        if ((rc = read_sql(src, ups[i].file, &up, err)) || (d && (rc = read_sql(src, d->file, &down, err)))) {
            free(up);
            break;
        }
        snprintf(files, sizeof(files), "%s%s%s", ups[i].file, d ? "," : "", d ? d->file : "");
        import_mig m = {0};
        m.version = ups[i].version;
        m.name = ups[i].name;
        m.file = files;
        m.up = up;
        m.down = down;
        m.has_down = d != NULL;
        rc = import_add(out, &m);
        free(up);
        free(down);
    }
    entries_free(ups, nu);
    entries_free(downs, nd);
    return rc;
}
