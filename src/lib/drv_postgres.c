/*
 * drv_postgres.c -- the PostgreSQL backend (libpq).
 *
 * Locking: a session-level advisory lock keyed by the version table's name,
 * held for the whole run and released by the server if the process dies.
 */
#include "internal.h"

#include "pqload.h"
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct pg {
    drv base;
    PGconn *c;
    strata_event_fn on_event;
    void *ud;
} pg;

static void pg_notice(void *arg, const PGresult *res)
{
    pg *p = arg;
    if (!p->on_event)
        return;
    strata_event ev = {STRATA_EV_NOTICE, 0, pq.PQresultErrorMessage(res), 0};
    p->on_event(p->ud, &ev);
}

static void pg_close(drv *d)
{
    pg *p = (pg *)d;
    if (!p)
        return;
    pq.PQfinish(p->c);
    free(p);
}

static strata_code pg_open(drv **out, const db_url *u, const strata_config *cfg, strata_error *err)
{
    strata_code rc = pq_load(err);
    if (rc)
        return rc;
    pg *p = calloc(1, sizeof(*p));
    if (!p)
        return err_set(err, STRATA_NOMEM, "out of memory");
    p->base.ops = &drv_postgres_ops;
    p->on_event = cfg->on_event;
    p->ud = cfg->userdata;
    /* the URL's own settings override these defaults (they come later) */
    const char *keys[] = {"connect_timeout", "fallback_application_name", "dbname", NULL};
    const char *vals[] = {"10", "strata", u->conninfo, NULL};
    p->c = pq.PQconnectdbParams(keys, vals, 1);
    if (!p->c || pq.PQstatus(p->c) != CONNECTION_OK) {
        const char *m = p->c ? pq.PQerrorMessage(p->c) : "out of memory";
        char *red = strata_url_redact(u->conninfo);
        err_set(err, STRATA_CONNECT_FAILED, "cannot connect to %s: %s", red ? red : "PostgreSQL", m);
        if (err)
            url_scrub(err->message, sizeof(err->message), u->conninfo);
        free(red);
        if (strstr(m, "password authentication failed") || strstr(m, "no password supplied"))
            err_hint(err, "check the user name and password in the URL (PGPASSWORD and ~/.pgpass also apply)");
        else if (strstr(m, "Connection refused") || strstr(m, "could not translate host name") ||
                 strstr(m, "timeout expired") || strstr(m, "No such file or directory"))
            err_hint(err, "is PostgreSQL running and reachable at that host and port?");
        else if (strstr(m, "does not exist"))
            err_hint(err, "create it with 'strata create' (same URL), or fix the database name in the URL");
        pg_close(&p->base);
        return STRATA_CONNECT_FAILED;
    }
    pq.PQsetNoticeReceiver(p->c, pg_notice, p);
    if (cfg->readonly) {
        PGresult *r = pq.PQexec(p->c, "SET default_transaction_read_only = on");
        pq.PQclear(r);
    }
    *out = &p->base;
    return STRATA_OK;
}

/* Byte offset of the 1-based character position pos (UTF-8) in s. */
static size_t char_offset(const char *s, size_t len, long pos)
{
    size_t i = 0;
    long ch = 1;
    while (i < len && ch < pos) {
        i++;
        while (i < len && ((unsigned char)s[i] & 0xC0) == 0x80)
            i++;
        ch++;
    }
    return i;
}

static int count_lines(const char *s, size_t n)
{
    int l = 0;
    for (size_t i = 0; i < n; i++)
        if (s[i] == '\n')
            l++;
    return l;
}

/* Fills err from a failed result; line is the statement's first line. */
static strata_code pg_fail(PGresult *r, PGconn *c, strata_code code, const char *file, int line,
                           const char *stmt, size_t stmtlen, strata_error *err)
{
    const char *primary = r ? pq.PQresultErrorField(r, PG_DIAG_MESSAGE_PRIMARY) : NULL;
    const char *detail = r ? pq.PQresultErrorField(r, PG_DIAG_MESSAGE_DETAIL) : NULL;
    const char *hint = r ? pq.PQresultErrorField(r, PG_DIAG_MESSAGE_HINT) : NULL;
    const char *state = r ? pq.PQresultErrorField(r, PG_DIAG_SQLSTATE) : NULL;
    const char *pos = r ? pq.PQresultErrorField(r, PG_DIAG_STATEMENT_POSITION) : NULL;
    if (!primary)
        primary = pq.PQerrorMessage(c);
    if (stmt && pos)
        line += count_lines(stmt, char_offset(stmt, stmtlen, atol(pos)));
    char where[1100] = "";
    if (file)
        snprintf(where, sizeof(where), "%s:%d: ", file, line);
    if (state && !strcmp(state, "55P03"))
        code = STRATA_LOCK_TIMEOUT;
    err_set(err, code, "%s%s%s%s%s%s%s%s", where, primary, detail ? " (" : "", detail ? detail : "",
            detail ? ")" : "", state ? " [SQLSTATE " : "", state ? state : "", state ? "]" : "");
    if (!err)
        return code;
    if (state)
        snprintf(err->sqlstate, sizeof(err->sqlstate), "%s", state);
    if (hint)
        err_hint(err, "%s", hint);
    if (file)
        err_where(err, file, line);
    if (pq.PQstatus(c) == CONNECTION_BAD)
        err_hint(err, "the connection to the server was lost; the migration's transaction was rolled back");
    return code;
}

struct run_ctx {
    pg *p;
    const char *file;
    int line;
    int verify;
    strata_code rc;
    strata_error *err;
    buf sql;
};

static int is_false(const char *v)
{
    return !strcmp(v, "f") || !strcmp(v, "0") || !strcasecmp(v, "false") || !strcmp(v, "0.0");
}

static int run_stmt(void *ud, const sql_stmt *st)
{
    struct run_ctx *x = ud;
    x->sql.len = 0;
    buf_add(&x->sql, st->text, st->len);
    if (x->sql.oom) {
        x->rc = err_set(x->err, STRATA_NOMEM, "out of memory");
        return 1;
    }
    PGresult *r = pq.PQexec(x->p->c, x->sql.data);
    ExecStatusType s = pq.PQresultStatus(r);
    int line = x->line + st->line - 1;
    if (s != PGRES_COMMAND_OK && s != PGRES_TUPLES_OK && s != PGRES_EMPTY_QUERY) {
        x->rc = pg_fail(r, x->p->c, x->verify ? STRATA_VERIFY_FAILED : STRATA_MIGRATION_FAILED,
                        x->file, line, st->text, st->len, x->err);
        pq.PQclear(r);
        return 1;
    }
    if (x->verify && s == PGRES_TUPLES_OK &&
        (pq.PQntuples(r) == 0 || pq.PQgetisnull(r, 0, 0) || is_false(pq.PQgetvalue(r, 0, 0)))) {
        x->rc = err_set(x->err, STRATA_VERIFY_FAILED, "%s:%d: verify query returned %s", x->file,
                        line, pq.PQntuples(r) == 0 ? "no rows" : "false");
        err_where(x->err, x->file, line);
        pq.PQclear(r);
        return 1;
    }
    pq.PQclear(r);
    return 0;
}

static strata_code run_sql(pg *p, const char *sql, const char *file, int line, int verify,
                           strata_error *err)
{
    struct run_ctx x = {p, file, line, verify, STRATA_OK, err, {0}};
    buf_init(&x.sql);
    sql_split(sql, strlen(sql), DIALECT_POSTGRES, run_stmt, &x);
    buf_release(&x.sql);
    return x.rc;
}

static strata_code pg_exec_script(drv *d, const char *sql, const char *file, int line,
                                  strata_error *err)
{
    return run_sql((pg *)d, sql, file, line, 0, err);
}

static strata_code pg_verify(drv *d, const char *sql, const char *file, int line, strata_error *err)
{
    return run_sql((pg *)d, sql, file, line, 1, err);
}

static strata_code pg_query(drv *d, const char *sql, int nparams, const char *const *params,
                            row_fn fn, void *ud, strata_error *err)
{
    pg *p = (pg *)d;
    PGresult *r = nparams ? pq.PQexecParams(p->c, sql, nparams, NULL, params, NULL, NULL, 0)
                          : pq.PQexec(p->c, sql);
    ExecStatusType s = pq.PQresultStatus(r);
    if (s != PGRES_COMMAND_OK && s != PGRES_TUPLES_OK) {
        strata_code c = pg_fail(r, p->c, STRATA_DB_ERROR, NULL, 0, NULL, 0, err);
        pq.PQclear(r);
        return c;
    }
    if (fn && s == PGRES_TUPLES_OK) {
        int n = pq.PQnfields(r), rows = pq.PQntuples(r);
        char *vals[16];
        if (n > 16)
            n = 16;
        for (int i = 0; i < rows; i++) {
            for (int j = 0; j < n; j++)
                vals[j] = pq.PQgetisnull(r, i, j) ? NULL : pq.PQgetvalue(r, i, j);
            if (fn(ud, n, vals))
                break;
        }
    }
    pq.PQclear(r);
    return STRATA_OK;
}

static void lock_key(const char *key, char out[32])
{
    uint64_t h = 1469598103934665603ULL; /* FNV-1a */
    for (const char *k = "strata:"; *k; k++)
        h = (h ^ (unsigned char)*k) * 1099511628211ULL;
    for (; *key; key++)
        h = (h ^ (unsigned char)*key) * 1099511628211ULL;
    snprintf(out, 32, "%lld", (long long)(int64_t)h);
}

static int got_true(void *ud, int n, char **v)
{
    *(int *)ud = n > 0 && v[0] && !strcmp(v[0], "t");
    return 1;
}

static strata_code pg_lock(drv *d, const char *key, double timeout, strata_error *err)
{
    pg *p = (pg *)d;
    char k[32], sql[160];
    int got = 0;
    lock_key(key, k);
    const char *params[1] = {k};
    strata_code rc = pg_query(d, "SELECT pg_try_advisory_lock($1::bigint)", 1, params, got_true, &got, err);
    if (rc || got)
        return rc;
    if (p->on_event) {
        strata_event ev = {STRATA_EV_LOCK_WAIT, 0, "waiting for another strata process to finish", 0};
        p->on_event(p->ud, &ev);
    }
    if (timeout > 0) {
        double ms = timeout * 1000.0 + 0.5;
        snprintf(sql, sizeof(sql), "SET lock_timeout = %ld", ms > 2147483647.0 ? 2147483647L : (long)ms);
        if ((rc = pg_query(d, sql, 0, NULL, NULL, NULL, err)))
            return rc;
        rc = pg_query(d, "SELECT pg_advisory_lock($1::bigint)", 1, params, NULL, NULL, err);
        strata_error ignore;
        pg_query(d, "RESET lock_timeout", 0, NULL, NULL, NULL, &ignore);
        if (rc == STRATA_OK)
            return rc;
        if (rc != STRATA_LOCK_TIMEOUT)
            return rc;
    }
    err_set(err, STRATA_LOCK_TIMEOUT, "timed out after %gs waiting for the migration lock", timeout);
    err_hint(err, "another strata process is migrating this database; raise --lock-timeout to wait longer");
    return STRATA_LOCK_TIMEOUT;
}

static void pg_unlock(drv *d, const char *key)
{
    char k[32];
    strata_error ignore;
    lock_key(key, k);
    const char *params[1] = {k};
    pg_query(d, "SELECT pg_advisory_unlock($1::bigint)", 1, params, NULL, NULL, &ignore);
}

static strata_code pg_begin(drv *d, double timeout, strata_error *err)
{
    (void)timeout;
    return pg_query(d, "BEGIN", 0, NULL, NULL, NULL, err);
}

static strata_code pg_table_exists(drv *d, const char *table, int *exists, strata_error *err)
{
    buf b;
    buf_init(&b);
    buf_add_ident(&b, table);
    const char *params[1] = {b.data};
    *exists = 0;
    strata_code rc = pg_query(d, "SELECT to_regclass($1) IS NOT NULL", 1, params, got_true, exists, err);
    buf_release(&b);
    return rc;
}

const drv_ops drv_postgres_ops = {
    "postgres", DIALECT_POSTGRES, 1,       pg_open,  pg_close,        pg_exec_script,
    pg_verify,  pg_query,         pg_lock, pg_unlock, pg_begin, pg_table_exists,
    schema_dump_pg,
};
