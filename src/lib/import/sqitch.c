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
 * that returns no row or false: the sqitch idioms "SELECT ... WHERE FALSE"
 * (or 1 = 0, or 0) and "... LIMIT 0" would always fail and are refused by
 * name.
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

/* 1 when the text holds a query that returns no row by construction:
   "WHERE FALSE", "WHERE 1 = 0", "WHERE 0" (any case, any blanks), or
   "LIMIT 0". */
static int where_false(const char *t, int *line)
{
    int ln = 1;
    for (const char *p = t; *p; p++) {
        if (*p == '\n')
            ln++;
        if (p > t && (isalnum((unsigned char)p[-1]) || p[-1] == '_'))
            continue;
        if (!strncasecmp(p, "limit", 5) && isspace((unsigned char)p[5])) {
            const char *q = p + 5;
            while (isspace((unsigned char)*q))
                q++;
            if (*q == '0' && !isalnum((unsigned char)q[1]) && q[1] != '_' && q[1] != '.') {
                *line = ln;
                return 1;
            }
            continue;
        }
        if (strncasecmp(p, "where", 5))
            continue;
        const char *q = p + 5;
        if (!isspace((unsigned char)*q))
            continue;
        while (isspace((unsigned char)*q))
            q++;
        char w[16];
        size_t k = 0;
        while (*q && k + 1 < sizeof(w) &&
               (isalnum((unsigned char)*q) || *q == '=' || isspace((unsigned char)*q)) && *q != '\n') {
            if (!isspace((unsigned char)*q))
                w[k++] = (char)tolower((unsigned char)*q);
            q++;
        }
        w[k] = 0;
        /* "0" alone (then the end of the statement) or before a keyword but OR */
        int zero = w[0] == '0' && ((!w[1] && (!*q || strchr(";)\n", *q))) ||
                                   (isalpha((unsigned char)w[1]) && strncmp(w + 1, "or", 2)));
        if (!strncmp(w, "false", 5) || !strncmp(w, "1=0", 3) || !strncmp(w, "0=1", 3) || zero) {
            *line = ln;
            return 1;
        }
    }
    return 0;
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
            if (!(vt = verify_text(check))) {
                rc = err_set(err, STRATA_NOMEM, "out of memory");
                goto next;
            }
            int line;
            if (where_false(vt, &line)) {
                rc = import_refuse(
                    err,
                    "sqitch verify script '%s/%s', line %d: a query that returns no row passes in "
                    "sqitch but fails a strata verify section",
                    src, ver, line);
                err_hint(err, "make it return true or raise an error, e.g. "
                              "SELECT count(*) >= 0 FROM (SELECT id, name FROM t) s;");
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
