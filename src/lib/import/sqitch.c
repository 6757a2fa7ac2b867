/*
 * sqitch.c -- a sqitch project: sqitch.plan (pragmas, changes, tags) and
 * deploy/<change>.sql, revert/<change>.sql, verify/<change>.sql. Changes
 * have no versions: strata numbers them in plan order. The header's version
 * is the change's name, "name@tag" for an earlier instance of a reworked
 * change, whose scripts are deploy/<name>@<tag>.sql as sqitch names them.
 *
 * Where they are comes from sqitch.conf's [core] (read_conf). sqitch runs
 * scripts through psql as they are (they usually hold their own BEGIN and
 * COMMIT): a deploy or revert script with its own transaction, or with a
 * statement no transaction may hold, becomes a no-transaction section; a
 * psql variable, which psql replaces, is refused. A verify script becomes
 * the verify section, which strata runs in a savepoint it always rolls
 * back: a BEGIN, ROLLBACK or COMMIT alone on its line (sqitch's template)
 * is turned into a comment. strata's verify fails on an error, like
 * sqitch's, and also on a query that returns no row or false: each query
 * is wrapped (wrap_queries) so that only an error fails it, as in sqitch
 * ("SELECT ... WHERE FALSE" passes).
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

/* Where the project keeps its files, from sqitch.conf's [core] (sqitch's
   defaults otherwise), as paths relative to the project directory; and the
   names of the psql variables its scripts may use (:name, :'name'). */
typedef struct layout {
    char plan[1024];
    char deploy[1024], revert[1024], verify[1024];
    char ext[64];
    char **vars;
    size_t nvars, capvars;
} layout;

static void layout_release(layout *l)
{
    for (size_t i = 0; i < l->nvars; i++)
        free(l->vars[i]);
    free(l->vars);
}

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

static strata_code read_plan(const char *src, const char *plan, change **out, size_t *nout, char **project,
                             strata_error *err)
{
    char *text = NULL;
    size_t len = 0, n = 0, cap = 0;
    change *v = NULL;
    if (!import_file_exists(src, plan))
        return strcmp(plan, "sqitch.plan")
                   ? err_set(err, STRATA_DIR_NOT_FOUND, "no sqitch plan '%s/%s'", src, plan)
                   : err_set(err, STRATA_DIR_NOT_FOUND, "no sqitch.plan in '%s'", src);
    strata_code rc = import_read(src, plan, &text, &len, err);
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
            rc = import_refuse(err, "'%s/%s', line %d: a change marked for revert ('-') is not supported",
                               src, plan, line);
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
                rc = err_set(err, STRATA_PARSE_ERROR, "'%s/%s', line %d: a tag before any change", src, plan,
                             line);
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
            rc = err_set(err, STRATA_PARSE_ERROR, "'%s/%s', line %d: cannot read this change line", src, plan,
                         line);
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
        /* dependencies, "[a !b proj:c]" after the name: the plan's order
           satisfies those of this project; one on another project's change
           is a promise strata's one history cannot keep */
        while (i < eol && (text[i] == ' ' || text[i] == '\t'))
            i++;
        if (i < eol && text[i] == '[') {
            size_t e = i + 1;
            while (e < eol && text[e] != ']')
                e++;
            for (size_t a = i + 1; a < e && !rc;) {
                while (a < e && isspace((unsigned char)text[a]))
                    a++;
                size_t b = a;
                while (b < e && !isspace((unsigned char)text[b]))
                    b++;
                if (memchr(text + a, ':', b - a))
                    rc =
                        import_refuse(err,
                                      "'%s/%s', line %d: change '%s' depends on '%.*s', a change of another "
                                      "sqitch project: one strata history cannot order two projects' changes",
                                      src, plan, line, word, (int)(b - a), text + a);
                a = b;
            }
        }
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
/* later[i]: the index of change i's next instance in the plan (a rework),
   n when there is none -- one pass from the end, through a table of
   names (malloc'd; NULL: out of memory). */
static size_t *later_instances(const change *v, size_t n)
{
    size_t ns = 16;
    while (ns < 2 * n)
        ns *= 2;
    size_t *later = calloc(n + 1, sizeof(*later)), *slot = calloc(ns, sizeof(*slot)); /* index + 1 */
    if (!later || !slot) {
        free(later);
        free(slot);
        return NULL;
    }
    for (size_t i = n; i-- > 0;) {
        size_t h = (size_t)fnv1a(FNV1A_START, v[i].name) & (ns - 1);
        while (slot[h] && strcmp(v[slot[h] - 1].name, v[i].name))
            h = (h + 1) & (ns - 1);
        later[i] = slot[h] ? slot[h] - 1 : n;
        slot[h] = i + 1;
    }
    free(slot);
    return later;
}

static strata_code script_of(const char *src, const layout *lay, const change *v, size_t n, size_t i,
                             size_t j, char *suffix, size_t cap, strata_error *err)
{
    suffix[0] = 0;
    if (j >= n)
        return STRATA_OK; /* the newest instance */
    const char *first = NULL;
    for (size_t k = j; k-- > i;) {
        for (size_t t = 0; t < v[k].ntags; t++) {
            if (k == i)
                continue;
            char path[4096];
            snprintf(path, sizeof(path), "%s/%s%s.%s", lay->deploy, v[i].name, v[k].tags[t], lay->ext);
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
        snprintf(path, sizeof(path), "%s/%s%s.%s", lay->deploy, v[i].name, v[i].tags[t], lay->ext);
        if (!first)
            first = v[i].tags[t];
        if (import_file_exists(src, path)) {
            snprintf(suffix, cap, "%s", v[i].tags[t]);
            return STRATA_OK;
        }
    }
    if (!first)
        return err_set(err, STRATA_PARSE_ERROR,
                       "'%s/%s', line %d: change '%s' is reworked without a tag between", src, lay->plan,
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
        if (strlen(words[k]) == n && !c_strncasecmp(l, words[k], n))
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
   script (SELECT, WITH, VALUES, TABLE; not SELECT ... INTO) is therefore
   wrapped so that it returns one
   true row -- and still runs whole, so that its errors (a missing table or
   column, a division by zero) fail the verify as in sqitch. (MATERIALIZED:
   PostgreSQL 12, SQLite 3.35.) */
typedef struct wrapctx {
    const char *src;
    size_t done;
    buf *out;
} wrapctx;

/* 1 for SELECT ... INTO t (the select list, then INTO at the top level;
   after a WITH's queries too): it makes a table and returns no row, and a
   CTE cannot hold it. So is WITH ... INSERT INTO, a write. */
static int select_into(const sql_stmt *st)
{
    size_t pos = 0;
    int line = 1, depth = 0;
    sql_token t;
    while (sql_token_next(st->text, st->len, &pos, &line, DIALECT_POSTGRES, 0, &t) != SQLTOK_END) {
        if (t.kind == SQLTOK_PUNCT && (t.text[0] == '(' || t.text[0] == ')'))
            depth += t.text[0] == '(' ? 1 : -1;
        else if (t.kind == SQLTOK_WORD && !depth && sql_word_is(t.text, t.len, "FROM"))
            return 0;
        else if (t.kind == SQLTOK_WORD && !depth && sql_word_is(t.text, t.len, "INTO"))
            return 1;
    }
    return 0;
}

static int wrap_query(void *ud, const sql_stmt *st)
{
    wrapctx *w = ud;
    if (strcmp(st->first, "SELECT") && strcmp(st->first, "WITH") && strcmp(st->first, "VALUES") &&
        strcmp(st->first, "TABLE"))
        return 0;
    if ((!strcmp(st->first, "SELECT") || !strcmp(st->first, "WITH")) && select_into(st))
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

/* ------------------------------------------------------------ sqitch.conf */

/* The value of a git-config "key = value" line, from p (after the '=') to
   e: blanks around it, double quotes, backslash escapes and a trailing
   '#' or ';' comment taken off. */
static void conf_value(const char *p, const char *e, char *val, size_t cap)
{
    size_t n = 0;
    int quoted = 0;
    while (p < e && isspace((unsigned char)*p))
        p++;
    for (; p < e && n + 1 < cap; p++) {
        if (*p == '"') {
            quoted = !quoted;
        } else if (*p == '\\' && p + 1 < e) {
            p++;
            val[n++] = *p == 'n' ? '\n' : *p == 't' ? '\t' : *p;
        } else if (!quoted && (*p == '#' || *p == ';')) {
            break;
        } else {
            val[n++] = *p;
        }
    }
    while (n && isspace((unsigned char)val[n - 1]))
        n--;
    val[n] = 0;
}

/* a under top ("." leaves it as it is) */
static void join_path(char *out, size_t cap, const char *top, const char *a)
{
    if (!strcmp(top, ".") || !*top)
        snprintf(out, cap, "%s", a);
    else
        snprintf(out, cap, "%.*s/%s", (int)(strlen(top) - (top[strlen(top) - 1] == '/')), top, a);
}

enum { L_TOP, L_PLAN, L_DEPLOY, L_REVERT, L_VERIFY, L_EXT, L_REWORKED, NLAYOUT };
static const char *const layout_keys[NLAYOUT] = {"top_dir",    "plan_file", "deploy_dir",  "revert_dir",
                                                 "verify_dir", "extension", "reworked_dir"};

/*
 * sqitch.conf (git-config syntax; absent: sqitch's defaults): [core]'s
 * top_dir, plan_file, deploy_dir, revert_dir, verify_dir and extension say
 * where the files are, each relative to the project directory as sqitch
 * reads them there. An [engine "X"] or [target "X"] section that moves them
 * elsewhere, or a reworked_dir apart from top_dir, is refused by name:
 * strata imports one layout. The keys of every "variables" section
 * ([deploy "variables"], [core "variables"], [engine "pg.variables"] ...)
 * are psql variables a script may use.
 */
static strata_code read_conf(const char *src, layout *lay, strata_error *err)
{
    char core[NLAYOUT][1024], other[NLAYOUT][1024], where[NLAYOUT][400];
    memset(core, 0, sizeof(core));
    memset(other, 0, sizeof(other));
    char *text = NULL;
    size_t len = 0;
    strata_code rc = STRATA_OK;
    if (import_file_exists(src, "sqitch.conf") && (rc = import_read(src, "sqitch.conf", &text, &len, err)))
        return rc;
    char sec[64] = "", sub[256] = "";
    size_t pos = 0, eol;
    int line = 0;
    while (!rc && text && pos < len) {
        size_t next = import_line(text, len, pos, &eol);
        const char *p = text + pos, *e = text + eol;
        pos = next;
        line++;
        while (p < e && isspace((unsigned char)*p))
            p++;
        if (p == e || *p == '#' || *p == ';')
            continue;
        if (*p == '[') { /* [section] or [section "sub"] (or [section.sub]) */
            const char *q = ++p;
            while (q < e && *q != ']' && *q != '"' && !isspace((unsigned char)*q))
                q++;
            size_t sn = (size_t)(q - p) < sizeof(sec) ? (size_t)(q - p) : sizeof(sec) - 1;
            for (size_t i = 0; i < sn; i++)
                sec[i] = (char)c_tolower((unsigned char)p[i]);
            sec[sn] = 0;
            sub[0] = 0;
            char *dot = strchr(sec, '.');
            if (dot) {
                snprintf(sub, sizeof(sub), "%s", dot + 1);
                *dot = 0;
            }
            while (q < e && isspace((unsigned char)*q))
                q++;
            if (q < e && *q == '"') {
                const char *z = ++q;
                while (z < e && *z != '"')
                    z++;
                snprintf(sub, sizeof(sub), "%.*s", (int)(z - q), q);
            }
            continue;
        }
        const char *k = p;
        while (p < e && (isalnum((unsigned char)*p) || *p == '-' || *p == '_'))
            p++;
        char key[128];
        snprintf(key, sizeof(key), "%.*s", (int)(p - k), k);
        while (p < e && isspace((unsigned char)*p))
            p++;
        char val[1024] = "true"; /* a key alone is a boolean */
        if (p < e && *p == '=')
            conf_value(p + 1, e, val, sizeof(val));
        size_t sl = strlen(sub);
        if (!strcmp(sub, "variables") || (sl > 10 && !strcmp(sub + sl - 10, ".variables"))) {
            if (*key && !ARR_GROW(lay->vars, lay->capvars, lay->nvars + 1))
                if ((lay->vars[lay->nvars] = xstrdup(key)))
                    lay->nvars++;
            continue;
        }
        for (int i = 0; i < NLAYOUT; i++) {
            if (c_strcasecmp(key, layout_keys[i]))
                continue;
            if (!strcmp(sec, "core") && !sub[0]) {
                snprintf(core[i], sizeof(core[i]), "%s", val);
            } else if ((!strcmp(sec, "engine") || !strcmp(sec, "target")) && sub[0]) {
                snprintf(other[i], sizeof(other[i]), "%s", val);
                snprintf(where[i], sizeof(where[i]), "[%s \"%s\"], line %d", sec, sub, line);
            }
            if (val[0] == '/')
                rc = import_refuse(
                    err,
                    "'%s/sqitch.conf', line %d: %s is the absolute path '%s': give it relative to "
                    "the project directory, as sqitch reads it there",
                    src, line, layout_keys[i], val);
        }
    }
    free(text);
    if (rc)
        return rc;
    /* the effective layout: sqitch's defaults under top_dir */
    const char *top = core[L_TOP][0] ? core[L_TOP] : ".";
    char def[NLAYOUT][1024];
    snprintf(def[L_TOP], sizeof(def[L_TOP]), "%s", top);
    join_path(def[L_PLAN], sizeof(def[L_PLAN]), top, "sqitch.plan");
    join_path(def[L_DEPLOY], sizeof(def[L_DEPLOY]), top, "deploy");
    join_path(def[L_REVERT], sizeof(def[L_REVERT]), top, "revert");
    join_path(def[L_VERIFY], sizeof(def[L_VERIFY]), top, "verify");
    snprintf(def[L_EXT], sizeof(def[L_EXT]), "sql");
    snprintf(def[L_REWORKED], sizeof(def[L_REWORKED]), "%s", top);
    for (int i = 0; i < NLAYOUT; i++)
        if (core[i][0])
            snprintf(def[i], sizeof(def[i]), "%.1000s", core[i]);
    for (int i = 0; i < NLAYOUT; i++)
        if (other[i][0] && strcmp(other[i], def[i]))
            return import_refuse(err,
                                 "'%s/sqitch.conf' sets %s = %s in %s: strata imports the one layout of "
                                 "[core] (%s = %s)",
                                 src, layout_keys[i], other[i], where[i], layout_keys[i], def[i]);
    if (strcmp(def[L_REWORKED], top))
        return import_refuse(
            err,
            "'%s/sqitch.conf' sets reworked_dir = %s: reworked changes' scripts kept apart from "
            "top_dir are not supported",
            src, def[L_REWORKED]);
    snprintf(lay->plan, sizeof(lay->plan), "%s", def[L_PLAN]);
    snprintf(lay->deploy, sizeof(lay->deploy), "%s", def[L_DEPLOY]);
    snprintf(lay->revert, sizeof(lay->revert), "%s", def[L_REVERT]);
    snprintf(lay->verify, sizeof(lay->verify), "%s", def[L_VERIFY]);
    snprintf(lay->ext, sizeof(lay->ext), "%.60s", def[L_EXT]);
    return STRATA_OK;
}

/* 1 when name (n bytes) is a psql variable sqitch sets: its own "registry",
   or one of sqitch.conf's variables. */
static int known_var(const layout *lay, const char *name, size_t n)
{
    if (n == 8 && !strncmp(name, "registry", 8))
        return 1;
    for (size_t i = 0; i < lay->nvars; i++)
        if (strlen(lay->vars[i]) == n && !c_strncasecmp(lay->vars[i], name, n))
            return 1;
    return 0;
}

/*
 * The first psql variable of a script that sqitch runs with psql, which
 * replaces it before the server sees the statement: :'name' and :"name"
 * (psql's syntax, never the server's), and :name for a variable sqitch sets.
 * Strings, quoted names, dollar quotes and comments are skipped as psql
 * skips them; "::" is a cast. Its line, 0 when there is none; the reference
 * in what.
 */
static int psql_var(const char *sql, const layout *lay, char *what, size_t cap)
{
    size_t len = strlen(sql), pos = 0;
    int line = 1;
    sql_token t, u;
    while (sql_token_next(sql, len, &pos, &line, DIALECT_POSTGRES, 0, &t) != SQLTOK_END) {
        if (t.kind != SQLTOK_PUNCT || t.len != 1 || t.text[0] != ':')
            continue;
        size_t at = pos;
        int l2 = line;
        if (sql_token_next(sql, len, &at, &l2, DIALECT_POSTGRES, 0, &u) == SQLTOK_END || u.text != t.text + 1)
            continue;
        if ((u.kind == SQLTOK_STRING && u.text[0] == '\'') || u.kind == SQLTOK_QUOTED ||
            (u.kind == SQLTOK_WORD && known_var(lay, u.text, u.len))) {
            snprintf(what, cap, ":%.*s", (int)(u.len > 60 ? 60 : u.len), u.text);
            return t.line;
        }
    }
    return 0;
}

/* A script that names a psql variable cannot run without psql: refused. */
static strata_code check_vars(const char *src, const char *file, const char *sql, const layout *lay,
                              strata_error *err)
{
    char what[80];
    int line = sql ? psql_var(sql, lay, what, sizeof(what)) : 0;
    if (!line)
        return STRATA_OK;
    return import_refuse(err,
                         "'%s/%s', line %d: psql variable %s: sqitch has psql replace it when it runs the "
                         "script, strata sends the SQL as written",
                         src, file, line, what);
}

strata_code import_sqitch(const char *src, const strata_import_opts *o, import_set *out, strata_error *err)
{
    (void)o;
    change *v = NULL;
    size_t n = 0;
    char *project = NULL;
    layout lay;
    memset(&lay, 0, sizeof(lay));
    strata_code rc = read_conf(src, &lay, err);
    if (!rc)
        rc = read_plan(src, lay.plan, &v, &n, &project, err);
    size_t *later = rc ? NULL : later_instances(v, n);
    if (!rc && !later)
        rc = err_set(err, STRATA_NOMEM, "out of memory");
    for (size_t i = 0; !rc && i < n; i++) {
        char suffix[256], version[1024], dep[4096], rev[4096], ver[4096];
        if ((rc = script_of(src, &lay, v, n, i, later[i], suffix, sizeof(suffix), err)))
            break;
        snprintf(version, sizeof(version), "%s%s", v[i].name, suffix);
        snprintf(dep, sizeof(dep), "%s/%s.%s", lay.deploy, version, lay.ext);
        snprintf(rev, sizeof(rev), "%s/%s.%s", lay.revert, version, lay.ext);
        snprintf(ver, sizeof(ver), "%s/%s.%s", lay.verify, version, lay.ext);
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
        if ((rc = import_read(src, dep, &up, NULL, err)) || (rc = check_vars(src, dep, up, &lay, err)))
            goto next;
        if (import_file_exists(src, rev)) {
            if ((rc = import_read(src, rev, &down, NULL, err)) ||
                (rc = check_vars(src, rev, down, &lay, err)))
                goto next;
            buf_addf(&files, ",%s", rev);
        }
        if (import_file_exists(src, ver)) {
            if ((rc = import_read(src, ver, &check, NULL, err)) ||
                (rc = check_vars(src, ver, check, &lay, err)))
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
        /* psql runs a script statement by statement (autocommit) unless
           it opens its own transaction: one with its own, or with a
           statement no transaction may hold (CREATE INDEX CONCURRENTLY),
           runs outside strata's */
        m.up_notx = import_runs_outside_tx(up);
        m.down = down;
        m.has_down = down != NULL;
        m.down_notx = down && import_runs_outside_tx(down);
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
    free(later);
    changes_free(v, n);
    free(project);
    layout_release(&lay);
    return rc;
}
