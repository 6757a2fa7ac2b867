/*
 * drv_sqlite.c -- the SQLite backend.
 *
 * Locking: SQLite's own write lock. Each migration runs in BEGIN IMMEDIATE,
 * which waits up to the lock timeout (busy timeout) for other writers.
 */
#include "internal.h"

#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

typedef struct sq {
    drv base;
    sqlite3 *db;
    char *path;
    double timeout;
    int created; /* this connection created the file */
    int discard; /* remove the file and its journals on close */
} sq;

static void sq_close(drv *d)
{
    sq *s = (sq *)d;
    if (!s)
        return;
    sqlite3_close_v2(s->db);
    if (s->discard && s->path) {
        static const char *const sfx[] = {"-journal", "-wal", "-shm"};
        for (size_t i = 0; i < 3; i++) {
            char *side = malloc(strlen(s->path) + 9);
            if (side) {
                sprintf(side, "%s%s", s->path, sfx[i]);
                unlink(side);
                free(side);
            }
        }
    }
    free(s->path);
    free(s);
}

/* Counts with one integer result; -1 on any error. */
static long count_of(sqlite3 *db, const char *sql, const char *param)
{
    sqlite3_stmt *st = NULL;
    long n = -1;
    if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) == SQLITE_OK &&
        (!param || sqlite3_bind_text(st, 1, param, -1, SQLITE_STATIC) == SQLITE_OK) &&
        sqlite3_step(st) == SQLITE_ROW)
        n = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    return n;
}

static void sq_discard_if_new(drv *d, const char *table)
{
    sq *s = (sq *)d;
    if (!s || !s->created)
        return;
    /* under the write lock, without waiting for it: another process that
       opened the same new file and is writing keeps it */
    sqlite3_busy_timeout(s->db, 0);
    if (sqlite3_exec(s->db, "BEGIN IMMEDIATE", NULL, NULL, NULL) != SQLITE_OK)
        return;
    long others = count_of(s->db, "SELECT count(*) FROM sqlite_master WHERE tbl_name <> ?1", table);
    long tables = count_of(s->db, "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = ?1",
                           table);
    long rows = 0;
    if (tables > 0) {
        buf b;
        buf_init(&b);
        buf_adds(&b, "SELECT count(*) FROM ");
        buf_add_ident(&b, table);
        rows = b.oom ? -1 : count_of(s->db, b.data, NULL);
        buf_release(&b);
    }
    if (others == 0 && tables >= 0 && rows == 0 && unlink(s->path) == 0)
        s->discard = 1;
    sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
    double ms = s->timeout * 1000.0;
    sqlite3_busy_timeout(s->db, ms > 2147483647.0 ? 2147483647 : (int)ms);
}

static strata_code sq_open(drv **out, const db_url *u, const strata_config *cfg, strata_error *err)
{
    sq *s = calloc(1, sizeof(*s));
    if (!s)
        return err_set(err, STRATA_NOMEM, "out of memory");
    s->base.ops = &drv_sqlite_ops;
    s->path = xstrdup(u->path);
    s->timeout = cfg->lock_timeout;
    const char *path = u->path;
    int flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE;
    int created = !cfg->readonly && strcmp(path, ":memory:") != 0 && access(path, F_OK) != 0;
    if (cfg->readonly) {
        /* read-write without create, so that a hot journal left by a killed
           writer can be rolled back; query_only below stops any write */
        flags = access(path, W_OK) == 0 ? SQLITE_OPEN_READWRITE : SQLITE_OPEN_READONLY;
        /* a missing file reads as an empty database; never create it */
        if (strcmp(path, ":memory:") != 0 && access(path, F_OK) != 0)
            path = ":memory:";
    }
    int rc = sqlite3_open_v2(path, &s->db, flags | SQLITE_OPEN_NOMUTEX, NULL);
    double ms = cfg->lock_timeout * 1000.0;
    if (rc == SQLITE_OK) {
        /* the busy timeout first: another writer may hold the lock right now */
        sqlite3_busy_timeout(s->db, ms > 2147483647.0 ? 2147483647 : (int)ms);
        rc = sqlite3_exec(s->db, "SELECT count(*) FROM sqlite_master", NULL, NULL, NULL);
        if (rc == SQLITE_OK && cfg->readonly)
            rc = sqlite3_exec(s->db, "PRAGMA query_only = ON", NULL, NULL, NULL);
    }
    if (rc != SQLITE_OK) {
        err_set(err, STRATA_CONNECT_FAILED, "cannot open SQLite database '%s': %s", u->path,
                s->db ? sqlite3_errmsg(s->db) : sqlite3_errstr(rc));
        if (rc == SQLITE_CANTOPEN)
            err_hint(err, "check that the directory exists and is writable");
        else if (rc == SQLITE_NOTADB)
            err_hint(err, "the file exists but is not a SQLite database; check the URL");
        sq_close(&s->base);
        return STRATA_CONNECT_FAILED;
    }
    s->created = created && access(path, F_OK) == 0;
    *out = &s->base;
    return STRATA_OK;
}

static int count_lines(const char *s, size_t n)
{
    int l = 0;
    for (size_t i = 0; i < n && s[i]; i++)
        if (s[i] == '\n')
            l++;
    return l;
}

/* Offset of the first token of the statement beginning at s. */
static size_t first_token(const char *s)
{
    size_t i = 0;
    for (;;) {
        while (s[i] == ' ' || s[i] == '\t' || s[i] == '\n' || s[i] == '\r' || s[i] == '\f')
            i++;
        if (s[i] == '-' && s[i + 1] == '-') {
            while (s[i] && s[i] != '\n')
                i++;
        } else if (s[i] == '/' && s[i + 1] == '*') {
            const char *e = strstr(s + i + 2, "*/");
            i = e ? (size_t)(e - s) + 2 : strlen(s);
        } else {
            return i;
        }
    }
}

static strata_code sq_fail(sq *s, strata_code code, const char *sql, const char *stmt_start,
                           const char *file, int line, strata_error *err)
{
    int off = sqlite3_error_offset(s->db);
    size_t at = off >= 0 ? (size_t)off : first_token(stmt_start);
    int l = line + count_lines(sql, (size_t)(stmt_start - sql)) + count_lines(stmt_start, at);
    int ext = sqlite3_extended_errcode(s->db);
    if (file)
        err_set(err, code, "%s:%d: %s", file, l, sqlite3_errmsg(s->db));
    else
        err_set(err, code, "%s", sqlite3_errmsg(s->db));
    err_where(err, file, file ? l : 0);
    if ((ext & 0xff) == SQLITE_BUSY) {
        err_set_code(err, STRATA_LOCK_TIMEOUT);
        err_hint(err, "another process holds the database's write lock; raise --lock-timeout to wait longer");
        return STRATA_LOCK_TIMEOUT;
    }
    if ((ext & 0xff) == SQLITE_READONLY)
        err_hint(err, "the database file (or its directory, for the journal) is not writable by this user");
    else if ((ext & 0xff) == SQLITE_FULL)
        err_hint(err, "the disk or the file size limit is full; nothing of this migration was kept");
    return code;
}

/* Runs every statement of sql; with verify set, checks their first values. */
static strata_code run_sql(sq *s, const char *sql, const char *file, int line, int verify,
                           strata_error *err)
{
    const char *p = sql;
    while (*p) {
        sqlite3_stmt *st = NULL;
        const char *tail = NULL;
        int rc = sqlite3_prepare_v2(s->db, p, -1, &st, &tail);
        if (rc != SQLITE_OK)
            return sq_fail(s, verify ? STRATA_VERIFY_FAILED : STRATA_MIGRATION_FAILED, sql, p,
                           file, line, err);
        if (!st) { /* only blanks or comments left */
            p = tail;
            continue;
        }
        rc = sqlite3_step(st);
        if (verify && sqlite3_column_count(st) > 0) {
            int ok = 0;
            if (rc == SQLITE_ROW) {
                int t = sqlite3_column_type(st, 0);
                const char *v = (const char *)sqlite3_column_text(st, 0);
                ok = t != SQLITE_NULL && v && strcmp(v, "0") && strcasecmp(v, "false") &&
                     strcasecmp(v, "f") && strcmp(v, "0.0");
            }
            if (rc == SQLITE_ROW || rc == SQLITE_DONE) {
                if (!ok) {
                    size_t at = first_token(p);
                    int l = line + count_lines(sql, (size_t)(p - sql)) + count_lines(p, at);
                    err_set(err, STRATA_VERIFY_FAILED, "%s:%d: verify query returned %s", file, l,
                            rc == SQLITE_DONE ? "no rows" : "false");
                    err_where(err, file, l);
                    sqlite3_finalize(st);
                    return STRATA_VERIFY_FAILED;
                }
                while (rc == SQLITE_ROW)
                    rc = sqlite3_step(st);
            }
        }
        while (rc == SQLITE_ROW)
            rc = sqlite3_step(st);
        if (rc != SQLITE_DONE) {
            strata_code c = sq_fail(s, verify ? STRATA_VERIFY_FAILED : STRATA_MIGRATION_FAILED,
                                    sql, p, file, line, err);
            sqlite3_finalize(st);
            return c;
        }
        sqlite3_finalize(st);
        p = tail;
    }
    return STRATA_OK;
}

static strata_code sq_exec_script(drv *d, const char *sql, const char *file, int line,
                                  strata_error *err)
{
    return run_sql((sq *)d, sql, file, line, 0, err);
}

static strata_code sq_verify(drv *d, const char *sql, const char *file, int line, strata_error *err)
{
    return run_sql((sq *)d, sql, file, line, 1, err);
}

static strata_code sq_query(drv *d, const char *sql, int nparams, const char *const *params,
                            row_fn fn, void *ud, strata_error *err)
{
    sq *s = (sq *)d;
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(s->db, sql, -1, &st, NULL) != SQLITE_OK)
        return sq_fail(s, STRATA_DB_ERROR, sql, sql, NULL, 0, err);
    for (int i = 0; i < nparams; i++)
        sqlite3_bind_text(st, i + 1, params[i], -1, SQLITE_STATIC);
    int rc, n = sqlite3_column_count(st);
    char *vals[16];
    if (n > 16)
        n = 16;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        if (!fn)
            continue;
        for (int i = 0; i < n; i++)
            vals[i] = (char *)sqlite3_column_text(st, i);
        if (fn(ud, n, vals))
            break;
    }
    if (rc != SQLITE_ROW && rc != SQLITE_DONE) {
        strata_code c = sq_fail(s, STRATA_DB_ERROR, sql, sql, NULL, 0, err);
        sqlite3_finalize(st);
        return c;
    }
    sqlite3_finalize(st);
    return STRATA_OK;
}

static strata_code sq_lock(drv *d, const char *key, double timeout, strata_error *err)
{
    (void)d, (void)key, (void)timeout, (void)err;
    return STRATA_OK;
}

static void sq_unlock(drv *d, const char *key)
{
    (void)d, (void)key;
}

static strata_code sq_begin(drv *d, double timeout, strata_error *err)
{
    sq *s = (sq *)d;
    int rc = sqlite3_exec(s->db, "BEGIN IMMEDIATE", NULL, NULL, NULL);
    if (rc == SQLITE_OK)
        return STRATA_OK;
    if ((rc & 0xff) == SQLITE_BUSY || (rc & 0xff) == SQLITE_LOCKED) {
        err_set(err, STRATA_LOCK_TIMEOUT,
                "timed out after %gs waiting for the write lock on '%s'", timeout, s->path);
        err_hint(err, "another process is writing to the database; raise --lock-timeout to wait longer");
        return STRATA_LOCK_TIMEOUT;
    }
    return sq_fail(s, STRATA_DB_ERROR, "", "", NULL, 0, err);
}

static int one_row(void *ud, int n, char **v)
{
    (void)n, (void)v;
    *(int *)ud = 1;
    return 1;
}

static strata_code sq_table_exists(drv *d, const char *table, int *exists, strata_error *err)
{
    const char *p[1] = {table};
    *exists = 0;
    return sq_query(d, "SELECT 1 FROM sqlite_master WHERE type='table' AND name=$1", 1, p, one_row,
                    exists, err);
}

const drv_ops drv_sqlite_ops = {
    .engine = "sqlite",
    .dialect = DIALECT_SQLITE,
    .session_lock = 0,
    .open = sq_open,
    .close = sq_close,
    .exec_script = sq_exec_script,
    .verify = sq_verify,
    .query = sq_query,
    .lock = sq_lock,
    .unlock = sq_unlock,
    .begin = sq_begin,
    .table_exists = sq_table_exists,
    .schema_dump = schema_dump_sqlite,
    .discard_if_new = sq_discard_if_new,
    .reset_list = sq_reset_list,
    .reset_drop = sq_reset_drop,
};
