/*
 * sqlgen.c -- SQL text that strata runs, rendered for dry runs and `strata
 * sql`, and the version table's DDL; plus `strata new`.
 */
#include "sqlgen.h"
#include "vtable.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

void sqlgen_create_table(buf *b, int dialect, const char *table)
{
    vt_create(b, dialect, table);
}

struct emit_ctx {
    buf *b;
};

static int emit_stmt(void *ud, const sql_stmt *st)
{
    buf *b = ((struct emit_ctx *)ud)->b;
    size_t n = st->len;
    while (n && isspace((unsigned char)st->text[n - 1]))
        n--;
    buf_add(b, st->text, n);
    /* a trailing line comment would swallow the semicolon */
    const char *lastnl = NULL;
    for (size_t i = 0; i < n; i++)
        if (st->text[i] == '\n')
            lastnl = st->text + i;
    const char *tail = lastnl ? lastnl : st->text;
    size_t tl = (size_t)(st->text + n - tail);
    int comment = 0;
    for (size_t i = 0; i + 1 < tl; i++)
        if (tail[i] == '-' && tail[i + 1] == '-')
            comment = 1;
    buf_adds(b, comment ? "\n;\n" : ";\n");
    return 0;
}

void sqlgen_statements(buf *b, const char *sql, int dialect)
{
    struct emit_ctx c = {b};
    sql_split(sql, strlen(sql), dialect, emit_stmt, &c);
}

void sqlgen_step(buf *b, const migration *m, int dialect, const char *table, int down)
{
    const section *s = mig_section(m, down ? SEC_DOWN : SEC_UP, dialect);
    buf_addf(b, "-- %s (%s%s)\n", m->id, down ? "down" : "up", s && s->notx ? ", no-transaction" : "");
    if (!s || !s->notx)
        buf_adds(b, "BEGIN;\n");
    if (s)
        sqlgen_statements(b, s->sql, dialect);
    const section *v = down ? NULL : mig_section(m, SEC_VERIFY, dialect);
    if (v) {
        /* strata checks that each query returns true; run by hand, read them */
        int tx = !s || !s->notx;
        buf_adds(b, tx ? "SAVEPOINT strata_verify;\n" : "BEGIN; -- verify\n");
        sqlgen_statements(b, v->sql, dialect);
        buf_adds(b, tx ? "ROLLBACK TO SAVEPOINT strata_verify;\nRELEASE SAVEPOINT strata_verify;\n"
                       : "ROLLBACK;\n");
    }
    if (down) {
        const char *vals[1] = {m->version};
        vt_delete(b, table, vals);
        buf_adds(b, ";\n");
    } else {
        char up[65];
        sql_norm_checksum(s ? s->sql : "", up);
        const char *vals[VT_NVALS];
        vals[VT_VERSION] = m->version;
        vals[VT_NAME] = m->name;
        vals[VT_CHECKSUM] = m->checksum ? m->checksum : "";
        vals[VT_DURATION_MS] = "0";
        vals[VT_STATE] = "applied";
        vals[VT_ERROR] = NULL;
        vals[VT_UP_CHECKSUM] = up;
        vt_insert(b, dialect, table, vals);
        buf_adds(b, ";\n");
    }
    if (!s || !s->notx)
        buf_adds(b, "COMMIT;\n");
    buf_adds(b, "\n");
}

/* Index of the migration named by target; -1 for "base", count-1 for
   "head"/NULL (when def_head), -2 when not found. */
static long resolve(const strata_migset *set, const char *target, int def_head)
{
    if (!target)
        return def_head ? (long)set->count - 1 : -1;
    if (!strcmp(target, "base"))
        return -1;
    if (!strcmp(target, "head"))
        return (long)set->count - 1;
    const migration *m = migset_find(set, target);
    return m ? (long)(m - set->migs) : -2;
}

strata_code strata_sql_render(const strata_migset *set, const char *dialect_name,
                              const char *table, const char *from, const char *to, int down,
                              char **out, strata_error *err)
{
    *out = NULL;
    int dialect = dialect_of_engine(dialect_name ? dialect_name : "postgres");
    if (dialect <= 0)
        return err_set(err, STRATA_USAGE, "unknown dialect '%s' (expected postgres or sqlite)",
                       dialect_name);
    if (!table)
        table = "strata_migrations";
    strata_code rc = strata_migset_check(set, err);
    if (rc)
        return rc;
    long a = resolve(set, from, down), b = resolve(set, to, !down);
    if (a == -2 || b == -2) {
        err_set(err, STRATA_TARGET_NOT_FOUND, "no migration '%s' in '%s'", a == -2 ? from : to, set->dir);
        return STRATA_TARGET_NOT_FOUND;
    }
    buf o;
    buf_init(&o);
    sqlgen_create_table(&o, dialect, table);
    buf_adds(&o, ";\n\n");
    if (!down) {
        for (long i = a + 1; i <= b; i++) {
            const migration *m = &set->migs[i];
            if (!mig_section(m, SEC_UP, dialect)) {
                buf_release(&o);
                err_set(err, STRATA_PARSE_ERROR, "no up section for %s in '%s'", dialect_name, m->path);
                err_where(err, m->path, 1);
                return STRATA_PARSE_ERROR;
            }
            sqlgen_step(&o, m, dialect, table, 0);
        }
    } else {
        for (long i = a; i > b; i--) {
            const migration *m = &set->migs[i];
            if (!mig_section(m, SEC_DOWN, dialect)) {
                buf_release(&o);
                err_set(err, STRATA_IRREVERSIBLE, "migration %s has no down section", m->id);
                err_hint(err, "add a '-- strata:down' section (an empty one is a valid no-op)");
                err_where(err, m->path, 0);
                return STRATA_IRREVERSIBLE;
            }
            sqlgen_step(&o, m, dialect, table, 1);
        }
    }
    *out = buf_detach(&o);
    return *out ? STRATA_OK : err_set(err, STRATA_NOMEM, "out of memory");
}

/* Adds one to a digit string in place (it has room for one more digit). */
static void digits_inc(char *s)
{
    size_t n = strlen(s);
    for (size_t i = n; i-- > 0;) {
        if (s[i] < '9') {
            s[i]++;
            return;
        }
        s[i] = '0';
    }
    memmove(s + 1, s, n + 1);
    s[0] = '1';
}

static int mkdirs(const char *dir)
{
    char tmp[4096];
    snprintf(tmp, sizeof(tmp), "%s", dir);
    for (char *p = tmp + 1; *p; p++) {
        if (*p != '/')
            continue;
        *p = 0;
        if (mkdir(tmp, 0755) < 0 && errno != EEXIST)
            return -1;
        *p = '/';
    }
    return mkdir(tmp, 0755) < 0 && errno != EEXIST ? -1 : 0;
}

static const char template_text[] =
    "-- strata:up\n"
    "-- Write the change here; statements end with ';'.\n"
    "\n\n"
    "-- strata:down\n"
    "-- Undo the change here. An empty section is a no-op; delete the section\n"
    "-- to make the migration irreversible.\n"
    "\n";

strata_code strata_new_migration(const char *dir, const char *name, int use_timestamp,
                                 char **path_out, strata_error *err)
{
    *path_out = NULL;
    char slug[200];
    size_t n = 0;
    for (const char *p = name ? name : ""; *p && n < sizeof(slug) - 1; p++) {
        unsigned char c = (unsigned char)*p;
        if (isalnum(c))
            slug[n++] = (char)tolower(c);
        else if (n && slug[n - 1] != '_')
            slug[n++] = '_';
    }
    while (n && slug[n - 1] == '_')
        n--;
    slug[n] = 0;
    if (!n)
        return err_set(err, STRATA_USAGE, "migration name '%s' has no letters or digits", name ? name : "");
    if (mkdirs(dir) < 0)
        return err_set(err, STRATA_IO_ERROR, "cannot create directory '%s': %s", dir, strerror(errno));
    strata_migset *set = NULL;
    strata_code rc = strata_migset_load(dir, &set, err);
    if (rc)
        return rc;
    char ver[64] = "0";
    int ts = use_timestamp;
    for (size_t i = 0; i < set->count; i++) {
        const char *v = set->migs[i].version;
        if (strlen(v) >= 14)
            ts = 1;
        if (strlen(v) < sizeof(ver) - 2 && version_cmp(v, ver) > 0)
            snprintf(ver, sizeof(ver), "%s", v);
    }
    strata_migset_free(set);
    char next[64];
    if (ts) {
        time_t now = time(NULL);
        struct tm tm;
        gmtime_r(&now, &tm);
        strftime(next, sizeof(next), "%Y%m%d%H%M%S", &tm);
        if (version_cmp(next, ver) <= 0) {
            snprintf(next, sizeof(next), "%s", ver);
            digits_inc(next);
        }
    } else {
        size_t width = strlen(ver) > 4 ? strlen(ver) : 4;
        digits_inc(ver);
        size_t vl = strlen(ver), pad = width > vl ? width - vl : 0;
        memset(next, '0', pad);
        memcpy(next + pad, ver, vl + 1);
    }
    buf p;
    buf_init(&p);
    buf_addf(&p, "%s/%s_%s.sql", dir, next, slug);
    char *path = buf_detach(&p);
    if (!path)
        return err_set(err, STRATA_NOMEM, "out of memory");
    int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
    if (fd < 0) {
        rc = err_set(err, errno == EEXIST ? STRATA_FILE_EXISTS : STRATA_IO_ERROR,
                     "cannot create '%s': %s", path, strerror(errno));
        free(path);
        return rc;
    }
    ssize_t w = write(fd, template_text, sizeof(template_text) - 1);
    if (close(fd) < 0 || w != (ssize_t)sizeof(template_text) - 1) {
        rc = err_set(err, STRATA_IO_ERROR, "cannot write '%s': %s", path, strerror(errno));
        unlink(path);
        free(path);
        return rc;
    }
    *path_out = path;
    return STRATA_OK;
}
