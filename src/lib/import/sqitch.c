/*
 * sqitch.c -- a sqitch project: sqitch.plan (pragmas, changes, tags) and
 * deploy/<change>.sql, revert/<change>.sql, verify/<change>.sql. Changes
 * have no versions: strata numbers them in plan order. The header's version
 * is the change's name, "name@tag" for an earlier instance of a reworked
 * change, whose scripts are deploy/<name>@<tag>.sql as sqitch names them.
 *
 * sqitch runs scripts as they are (they usually hold their own BEGIN and
 * COMMIT): a deploy or revert script with its own transaction becomes a
 * no-transaction section. A verify script becomes the verify section, which
 * strata runs in a savepoint it always rolls back: a BEGIN, ROLLBACK or
 * COMMIT alone on its line (sqitch's template) is turned into a comment.
 * strata's verify fails on an error, like sqitch's, and also on a query
 * that returns no row or false: each query is wrapped (wrap_queries) so that
 * only an error fails it, as in sqitch ("SELECT ... WHERE FALSE" passes).
 */
#include "import/import.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

typedef struct change {
    char *name;
    char **tags; /* "@tag" */
    size_t ntags, captags;
    int line;
} change;

static void changes_free(change *c, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        free(c[i].name);
        for (size_t k = 0; k < c[i].ntags; k++)
            free(c[i].tags[k]);
        free(c[i].tags);
    }
    free(c);
}

/* The value of "%project=NAME" when line (len n) is that pragma, malloc'd. */
static char *project_pragma(const char *l, size_t n)
{
    size_t i = 1;
    while (i < n && isspace((unsigned char)l[i]))
        i++;
    if (n - i < 7 || strncmp(l + i, "project", 7))
        return NULL;
    i += 7;
    while (i < n && isspace((unsigned char)l[i]))
        i++;
    if (i >= n || l[i] != '=')
        return NULL;
    i++;
    while (i < n && isspace((unsigned char)l[i]))
        i++;
    size_t e = n;
    while (e > i && isspace((unsigned char)l[e - 1]))
        e--;
    return e > i ? xstrndup(l + i, e - i) : NULL;
}

static strata_code read_plan(const char *src, change **out, size_t *nout, char **project, strata_error *err)
{
    char *text = NULL;
    size_t len = 0, n = 0, cap = 0;
    change *v = NULL;
    if (!import_file_exists(src, "sqitch.plan"))
        return err_set(err, STRATA_DIR_NOT_FOUND, "no sqitch.plan in '%s'", src);
    strata_code rc = import_read(src, "sqitch.plan", &text, &len, err);
    size_t pos = 0, eol;
    int line = 0;
    while (!rc && pos < len) {
        size_t next = import_line(text, len, pos, &eol);
        line++;
        size_t i = pos;
        while (i < eol && isspace((unsigned char)text[i]))
            i++;
        size_t s = i;
        pos = next;
        if (text[i] == '%' && !*project)
            *project = project_pragma(text + i, eol - i);
        if (i == eol || text[i] == '#' || text[i] == '%')
            continue;
        if (text[i] == '-') {
            rc = import_refuse(err,
                               "'%s/sqitch.plan', line %d: a change marked for revert ('-') is not supported",
                               src, line);
            break;
        }
        if (text[i] == '+')
            s = ++i;
        while (i < eol && !isspace((unsigned char)text[i]) && text[i] != '[')
            i++;
        char *word = xstrndup(text + s, i - s);
        if (!word) {
            rc = err_set(err, STRATA_NOMEM, "out of memory");
            break;
        }
        if (word[0] == '@') {
            if (!n) {
                free(word);
                rc = err_set(err, STRATA_PARSE_ERROR, "'%s/sqitch.plan', line %d: a tag before any change",
                             src, line);
                break;
            }
            change *c = &v[n - 1];
            if (ARR_GROW(c->tags, c->captags, c->ntags + 1)) {
                free(word);
                rc = err_set(err, STRATA_NOMEM, "out of memory");
                break;
            }
            c->tags[c->ntags++] = word;
            continue;
        }
        if (!*word || strstr(word, "..") || word[0] == '/') {
            free(word);
            rc = err_set(err, STRATA_PARSE_ERROR, "'%s/sqitch.plan', line %d: cannot read this change line",
                         src, line);
            break;
        }
        if (ARR_GROW(v, cap, n + 1)) {
            free(word);
            rc = err_set(err, STRATA_NOMEM, "out of memory");
            break;
        }
        memset(&v[n], 0, sizeof(v[n]));
        v[n].name = word;
        v[n].line = line;
        n++;
    }
    free(text);
    if (rc) {
        changes_free(v, n);
        return rc;
    }
    *out = v;
    *nout = n;
    return STRATA_OK;
}

/* The script name of change i in dir ("deploy"): name.sql, or for an earlier
   instance of a reworked change name@tag.sql with the tag sqitch picks (the
   first of the rework tags whose deploy script exists). *suffix gets "@tag"
   or "". */
static strata_code script_of(const char *src, const change *v, size_t n, size_t i, char *suffix, size_t cap,
                             strata_error *err)
{
    suffix[0] = 0;
    size_t j = i + 1;
    while (j < n && strcmp(v[j].name, v[i].name))
        j++;
    if (j >= n)
        return STRATA_OK; /* the newest instance */
    const char *first = NULL;
    for (size_t k = j; k-- > i;) {
        for (size_t t = 0; t < v[k].ntags; t++) {
            if (k == i)
                continue;
            char path[4096];
            snprintf(path, sizeof(path), "deploy/%s%s.sql", v[i].name, v[k].tags[t]);
            if (!first)
                first = v[k].tags[t];
            if (import_file_exists(src, path)) {
                snprintf(suffix, cap, "%s", v[k].tags[t]);
                return STRATA_OK;
            }
        }
    }
    for (size_t t = 0; t < v[i].ntags; t++) {
        char path[4096];
        snprintf(path, sizeof(path), "deploy/%s%s.sql", v[i].name, v[i].tags[t]);
        if (!first)
            first = v[i].tags[t];
        if (import_file_exists(src, path)) {
            snprintf(suffix, cap, "%s", v[i].tags[t]);
            return STRATA_OK;
        }
    }
    if (!first)
        return err_set(err, STRATA_PARSE_ERROR,
                       "'%s/sqitch.plan', line %d: change '%s' is reworked without a tag between", src,
                       v[i].line, v[i].name);
    snprintf(suffix, cap, "%s", first);
    return STRATA_OK;
}

static int is_txn_line(const char *l, size_t n)
{
    static const char *const words[] = {
        "BEGIN;", "COMMIT;",     "ROLLBACK;",    "BEGIN TRANSACTION;", "START TRANSACTION;",
        "END;",   "BEGIN WORK;", "COMMIT WORK;", "ROLLBACK WORK;"};
    while (n && isspace((unsigned char)l[n - 1]))
        n--;
    while (n && isspace((unsigned char)*l))
        l++, n--;
    for (size_t k = 0; k < sizeof(words) / sizeof(words[0]); k++)
        if (strlen(words[k]) == n && !strncasecmp(l, words[k], n))
            return 1;
    return 0;
}

/* The verify script with its own transaction lines turned into comments. */
static char *verify_text(const char *text)
{
    buf b;
    buf_init(&b);
    size_t len = strlen(text), pos = 0, eol;
    while (pos < len) {
        size_t next = import_line(text, len, pos, &eol);
        if (is_txn_line(text + pos, eol - pos)) {
            buf_adds(&b, "-- ");
            buf_add(&b, text + pos, eol - pos);
            buf_adds(&b, " -- import: strata rolls verify back itself");
            if (next <= len)
                buf_adds(&b, "\n");
        } else {
            buf_add(&b, text + pos, (next <= len ? next : eol) - pos);
        }
        pos = next;
    }
    return buf_detach(&b);
}

/* sqitch's verify passes unless a statement fails; strata's also fails a
   query that returns no row or a false first value. Each query of the
   script (SELECT, WITH, VALUES) is therefore wrapped so that it returns one
   true row -- and still runs whole, so that its errors (a missing table or
   column, a division by zero) fail the verify as in sqitch. (MATERIALIZED:
   PostgreSQL 12, SQLite 3.35.) */
typedef struct wrapctx {
    const char *src;
    size_t done;
    buf *out;
} wrapctx;

static int wrap_query(void *ud, const sql_stmt *st)
{
    wrapctx *w = ud;
    if (strcmp(st->first, "SELECT") && strcmp(st->first, "WITH") && strcmp(st->first, "VALUES"))
        return 0;
    size_t at = (size_t)(st->text - w->src);
    buf_add(w->out, w->src + w->done, at - w->done);
    /* a MATERIALIZED CTE: PostgreSQL leaves out the unused columns of a
       subquery in FROM, and with them the errors of their expressions */
    buf_adds(w->out, "WITH strata_verify AS MATERIALIZED (");
    buf_add(w->out, st->text, st->len);
    buf_adds(w->out, "\n) SELECT count(*) >= 0 FROM strata_verify");
    w->done = at + st->len;
    return 0;
}

static char *wrap_queries(const char *text)
{
    buf b;
    buf_init(&b);
    buf_adds(&b, "-- import: each query below is wrapped to pass unless it fails, as a sqitch verify does\n");
    wrapctx w = {text, 0, &b};
    size_t len = strlen(text);
    sql_split(text, len, DIALECT_POSTGRES, wrap_query, &w);
    buf_add(&b, text + w.done, len - w.done);
    return buf_detach(&b);
}

static strata_code check_conf(const char *src, strata_error *err)
{
    if (!import_file_exists(src, "sqitch.conf"))
        return STRATA_OK;
    char *text = NULL;
    strata_code rc = import_read(src, "sqitch.conf", &text, NULL, err);
    static const char *const keys[] = {"top_dir",    "plan_file",    "deploy_dir", "revert_dir",
                                       "verify_dir", "reworked_dir", "extension"};
    for (size_t k = 0; !rc && k < sizeof(keys) / sizeof(keys[0]); k++)
        if (strstr(text, keys[k]))
            rc = import_refuse(err,
                               "'%s/sqitch.conf' sets %s: only sqitch's default layout (sqitch.plan, "
                               "deploy/, revert/, verify/ with .sql scripts) is supported",
                               src, keys[k]);
    free(text);
    return rc;
}

strata_code import_sqitch(const char *src, const strata_import_opts *o, import_set *out, strata_error *err)
{
    (void)o;
    change *v = NULL;
    size_t n = 0;
    char *project = NULL;
    strata_code rc = check_conf(src, err);
    if (!rc)
        rc = read_plan(src, &v, &n, &project, err);
    for (size_t i = 0; !rc && i < n; i++) {
        char suffix[256], version[1024], dep[4096], rev[4096], ver[4096];
        if ((rc = script_of(src, v, n, i, suffix, sizeof(suffix), err)))
            break;
        snprintf(version, sizeof(version), "%s%s", v[i].name, suffix);
        snprintf(dep, sizeof(dep), "deploy/%s.sql", version);
        snprintf(rev, sizeof(rev), "revert/%s.sql", version);
        snprintf(ver, sizeof(ver), "verify/%s.sql", version);
        import_mig m = {0};
        char *up = NULL, *down = NULL, *check = NULL, *vt = NULL;
        buf files;
        buf_init(&files);
        buf_adds(&files, dep);
        if (!import_file_exists(src, dep)) {
            rc = err_set(err, STRATA_IO_ERROR, "sqitch change '%s' has no deploy script '%s/%s'", version,
                         src, dep);
            goto next;
        }
        if ((rc = import_read(src, dep, &up, NULL, err)))
            goto next;
        if (import_file_exists(src, rev)) {
            if ((rc = import_read(src, rev, &down, NULL, err)))
                goto next;
            buf_addf(&files, ",%s", rev);
        }
        if (import_file_exists(src, ver)) {
            if ((rc = import_read(src, ver, &check, NULL, err)))
                goto next;
            buf_addf(&files, ",%s", ver);
            char *commented = verify_text(check);
            vt = commented ? wrap_queries(commented) : NULL;
            free(commented);
            if (!vt) {
                rc = err_set(err, STRATA_NOMEM, "out of memory");
                goto next;
            }
        }
        m.version = version;
        m.name = v[i].name;
        m.file = files.data;
        m.up = up;
        m.up_notx = import_has_txn_control(up);
        m.down = down;
        m.has_down = down != NULL;
        m.down_notx = import_has_txn_control(down);
        m.verify = vt;
        m.project = project;
        if (files.oom || (rc = import_add(out, &m)))
            rc = err_set(err, STRATA_NOMEM, "out of memory");
    next:
        buf_release(&files);
        free(up);
        free(down);
        free(check);
        free(vt);
    }
    changes_free(v, n);
    free(project);
    return rc;
}
