/*
 * postgres/pg_driver.c -- the PostgreSQL backend (libpq).
 *
 * Connecting retries passing failures (cfg->connect_timeout). Locking: see
 * the comment above pg_lock.
 */
#include "gen.h"
#include "internal.h"

#include "ops.h"
#include "pqload.h"
#include <poll.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct pg {
    drv base;
    PGconn *c;
    PGconn *hb;      /* heartbeat connection of the lease; opened on first need */
    int hb_busy;     /* a renewal sent on hb awaits its answer */
    const db_url *t; /* the parsed URL, the handle's (password inside: never printed) */
    strata_event_fn on_event;
    void *ud;
    int readonly;        /* every query in a READ ONLY transaction of its own */
    int pooled;          /* a connection pooler stands between us and the server;
                          -1 until the first lock asks (read-only commands never do);
                          2: a pool in statement mode, where strata cannot run */
    int advisory;        /* times the session advisory lock is held (it nests) */
    int lease;           /* times the lease row is held (behind a pooler; nests) */
    char *lock_table;    /* quoted name of the lease table */
    char *schema;        /* quoted schema of the version table, once vt_locate resolved it */
    char owner[96];      /* this process's lease owner id */
    double lease_ms;     /* lease length */
    double next_renew;   /* clock_ms() when the heartbeat renews the lease */
    double reconnect_ms; /* reconnect_ms(--connect-timeout) */
    int gave_up;         /* the last pg_recover failed */
} pg;

static void notify(pg *p, strata_event_kind k, const char *text)
{
    if (!p->on_event)
        return;
    strata_event ev = {k, 0, text, 0};
    p->on_event(p->ud, &ev);
}

static void pg_notice(void *arg, const PGresult *res)
{
    /* without libpq's final newline, as every event's text */
    const char *m = pq.PQresultErrorMessage(res);
    size_t n = strlen(m);
    while (n && (m[n - 1] == '\n' || m[n - 1] == ' '))
        n--;
    char line[2048];
    snprintf(line, sizeof(line), "%.*s", (int)n, m);
    notify(arg, STRATA_EV_NOTICE, line);
}

static void pg_close(drv *d)
{
    pg *p = (pg *)d;
    if (!p)
        return;
    pg_finish(p->c);
    pg_finish(p->hb);
    free(p->lock_table);
    free(p->schema);
    free(p);
}

/*
 * Connects p->c (its notices to the caller's events), retrying failures
 * that pass (too many connections, the server starting up, connection
 * refused, a pooler's queue) with backoff of up to max_delay ms until
 * deadline. tell: each retry is announced as a warning, and giving up says
 * how long it tried (the first connect, under --connect-timeout); a waiter
 * reconnecting (pg_lock) retries quietly.
 */
static strata_code connect_until(pg *p, double deadline, double max_delay, int tell, strata_error *err)
{
    double start = clock_ms(), delay = 100;
    for (int attempt = 1;; attempt++) {
        int retry = 0;
        /* one attempt takes no longer than what is left of the whole wait
           (--connect-timeout 3 gives up after 3 s, not after the 10 s of
           an attempt), but the first has its full time */
        double now0 = clock_ms();
        strata_code rc = pg_connect_url(p->t, NULL, deadline > now0 ? deadline : 0, &p->c, &retry, err);
        if (rc == STRATA_OK) {
            if (attempt > 1)
                strata_error_clear(err);
            pq.PQsetNoticeReceiver(p->c, pg_notice, p);
            return STRATA_OK;
        }
        if (!retry)
            return rc;
        double now = clock_ms();
        if (now >= deadline) {
            if (tell && attempt > 1 && err)
                err_hint(err, "gave up after %.*f s and %d attempts (--connect-timeout)",
                         now - start < 9950 ? 1 : 0, (now - start) / 1000.0, attempt);
            return rc;
        }
        if (tell) {
            char msg[sizeof(err->message) + 80];
            snprintf(msg, sizeof(msg), "database not ready (attempt %d), retrying: %s", attempt,
                     err ? err->message : "");
            notify(p, STRATA_EV_WARNING, msg);
        }
        backoff_sleep(&delay, 2, max_delay, 1, now, deadline);
        if (intr_requested())
            return intr_error(err, "while waiting for the database");
    }
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
    p->readonly = cfg->readonly;
    p->t = u;
    p->reconnect_ms = reconnect_ms(cfg->connect_timeout);
    if ((rc = connect_until(p, clock_ms() + (cfg->connect_timeout > 0 ? cfg->connect_timeout * 1000.0 : 0),
                            2000, 1, err))) {
        pg_close(&p->base);
        return rc;
    }
    p->pooled = -1;
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
    const char *state = r ? pq.PQresultErrorField(r, PG_DIAG_SQLSTATE) : NULL;
    const char *pos = r ? pq.PQresultErrorField(r, PG_DIAG_STATEMENT_POSITION) : NULL;
    if (!primary)
        primary = pq.PQerrorMessage(c);
    if (stmt && pos)
        line += count_lines(stmt, char_offset(stmt, stmtlen, atol(pos)));
    char where[1100] = "";
    if (file)
        snprintf(where, sizeof(where), "%s:%d: ", file, line);
    strata_code asked = code;
    code = pg_error_set(err, code, c, r, where, 0);
    if (!err)
        return code;
    /* a pool with no server connection for a no-transaction section's next
       statement: the section may have partly run -- the migration's
       failure, with the runner's hint, not "the statement did not run" */
    if (file && code == STRATA_CONNECT_FAILED && !strcmp(primary, "query_wait_timeout")) {
        code = err->code = asked;
        err->hint[0] = 0;
    }
    /* outside a transaction (a no-transaction section) SET LOCAL does
       nothing: the section sets it for the session (strata resets it after) */
    const char *set = pq.PQtransactionStatus(c) == PQTRANS_IDLE ? "SET" : "SET LOCAL";
    if (err->hint[0]) {
        /* the server's own hint stands */
    } else if (state && !strcmp(state, "57014") && strstr(primary, "statement timeout"))
        err_hint(err,
                 "the server's statement_timeout stopped it (set for the role or database, or by the "
                 "migration?); raise it for this migration with %s statement_timeout = '...' in the section",
                 set);
    else if (state && !strcmp(state, "57014")) /* the same in another language, or a cancel */
        err_hint(err,
                 "the server cancelled it: its statement_timeout (set for the role or database?) or "
                 "another session's pg_cancel_backend; raise the timeout for this migration with %s "
                 "statement_timeout = '...' in the section",
                 set);
    else if (state && !strcmp(state, "55P03"))
        err_hint(err,
                 "the server's lock_timeout stopped it while it waited for a table lock held by "
                 "another session; raise it with %s lock_timeout = '...' in the section",
                 set);
    else if (state && !strcmp(state, "08P01") && !strcmp(primary, "query timeout"))
        err_hint(err,
                 "the connection pooler's query_timeout (PgBouncer) closed strata's connection while the "
                 "statement ran: the server may still be running it (pg_stat_activity), so wait for it "
                 "to end and look before you act; raise query_timeout for strata's pool, or migrate "
                 "over a direct connection");
    else if ((state && !strcmp(state, "25P03")) || strstr(primary, "idle-in-transaction"))
        err_hint(err, "the server's idle_in_transaction_session_timeout ended the session");
    else if (state && !strcmp(state, "25001") && file && strstr(primary, "before any query"))
        err_hint(err,
                 "SET TRANSACTION must be the first statement of the migration's transaction: put it "
                 "first in the section (with --single-transaction, only the first migration can set it)");
    else if (state && !strcmp(state, "25001") && file)
        err_hint(err, "this statement cannot run in a transaction (CREATE INDEX CONCURRENTLY, VACUUM, ALTER "
                      "TYPE ... ADD VALUE before PostgreSQL 12): put it in a section of its own marked "
                      "'-- strata:up no-transaction' (see docs/migrations.md)");
    if (file)
        err_where(err, file, line);
    if (pq.PQstatus(c) == CONNECTION_BAD && !err->hint[0]) {
        if (file)
            err_hint(err, HINT_CONNECTION_LOST "; the migration's transaction was rolled back");
        else
            err_hint(err, HINT_CONNECTION_LOST " (a restart, a pooler, pg_terminate_backend); what ran in a "
                                               "transaction was rolled back: run it again");
    }
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

static void lease_renew(pg *p);
static void hb_read(pg *p);

/*
 * PQexec that keeps the lease alive: while the statement runs (an index
 * build may take an hour), the lease is renewed from a second connection.
 * Without a lease it is PQexec.
 */
static PGresult *exec_alive(pg *p, const char *sql)
{
    if (!p->lease || !pq.PQsendQuery(p->c, sql))
        return pq.PQexec(p->c, sql);
    int sock = pq.PQsocket(p->c);
    while (pq.PQconsumeInput(p->c) && pq.PQisBusy(p->c)) {
        double wait = p->next_renew - clock_ms();
        if (wait <= 0) {
            lease_renew(p);
            continue;
        }
        struct pollfd pf[2] = {{sock, POLLIN, 0}, {p->hb && p->hb_busy ? pq.PQsocket(p->hb) : -1, POLLIN, 0}};
        poll(pf, 2, (int)wait + 1);
        if (pf[1].revents)
            hb_read(p);
    }
    PGresult *last = NULL, *r;
    while ((r = pq.PQgetResult(p->c))) {
        if (last && pq.PQresultStatus(last) == PGRES_FATAL_ERROR) {
            pq.PQclear(r); /* keep the first error */
            continue;
        }
        pq.PQclear(last);
        last = r;
    }
    return last;
}

static int run_stmt(void *ud, const sql_stmt *st)
{
    struct run_ctx *x = ud;
    if (intr_requested()) {
        char at[300];
        snprintf(at, sizeof(at), "before %s:%d", x->file ? x->file : "the statement", x->line + st->line - 1);
        x->rc = intr_error(x->err, at);
        return 1;
    }
    buf_reset(&x->sql);
    buf_add(&x->sql, st->text, st->len);
    if (x->sql.oom) {
        x->rc = err_set(x->err, STRATA_NOMEM, "out of memory");
        return 1;
    }
    PGresult *r = exec_alive(x->p, x->sql.data);
    ExecStatusType s = pq.PQresultStatus(r);
    int line = x->line + st->line - 1;
    if (s != PGRES_COMMAND_OK && s != PGRES_TUPLES_OK && s != PGRES_EMPTY_QUERY) {
        x->rc = pg_fail(r, x->p->c, x->verify ? STRATA_VERIFY_FAILED : STRATA_MIGRATION_FAILED, x->file, line,
                        st->text, st->len, x->err);
        pq.PQclear(r);
        return 1;
    }
    if (x->verify && s == PGRES_TUPLES_OK &&
        (pq.PQntuples(r) == 0 || pq.PQgetisnull(r, 0, 0) || verify_false(pq.PQgetvalue(r, 0, 0)))) {
        x->rc = err_set(x->err, STRATA_VERIFY_FAILED, "%s:%d: verify query returned %s", x->file, line,
                        pq.PQntuples(r) == 0 ? "no rows" : "false");
        err_where(x->err, x->file, line);
        pq.PQclear(r);
        return 1;
    }
    pq.PQclear(r);
    return 0;
}

static strata_code run_sql(pg *p, const char *sql, const char *file, int line, int verify, strata_error *err)
{
    struct run_ctx x = {p, file, line, verify, STRATA_OK, err, {0}};
    /* as psql: strings take backslash escapes while the session's
       standard_conforming_strings is off (the splitter follows SETs) */
    const char *scs = pq.PQparameterStatus(p->c, "standard_conforming_strings");
    int dialect = DIALECT_POSTGRES | (scs && !strcmp(scs, "off") ? SQL_NONSTD_STRINGS : 0);
    buf_init(&x.sql);
    sql_split(sql, strlen(sql), dialect, run_stmt, &x);
    buf_release(&x.sql);
    return x.rc;
}

static strata_code pg_exec_script(drv *d, const char *sql, const char *file, int line, strata_error *err)
{
    return run_sql((pg *)d, sql, file, line, 0, err);
}

static strata_code pg_verify(drv *d, const char *sql, const char *file, int line, strata_error *err)
{
    return run_sql((pg *)d, sql, file, line, 1, err);
}

/* One statement on c; the result (caller clears) or NULL with err set. */
static PGresult *exec1(PGconn *c, const char *sql, int nparams, const char *const *params, strata_error *err)
{
    PGresult *r = nparams ? pq.PQexecParams(c, sql, nparams, NULL, params, NULL, NULL, 0) : pq.PQexec(c, sql);
    ExecStatusType s = pq.PQresultStatus(r);
    if (s == PGRES_COMMAND_OK || s == PGRES_TUPLES_OK)
        return r;
    pg_fail(r, c, STRATA_DB_ERROR, NULL, 0, NULL, 0, err);
    pq.PQclear(r);
    return NULL;
}

/* strata's transactions run at READ COMMITTED whatever the role's or the
   database's default_transaction_isolation says: a repeatable-read step
   would fail on the lease row its own heartbeat renewed, and a read-only
   transaction under serializable + default_transaction_deferrable waits
   for every serializable writer (docs/operations.md) */
#define BEGIN_WRITE "BEGIN ISOLATION LEVEL READ COMMITTED"
#define BEGIN_READ BEGIN_WRITE ", READ ONLY"

static strata_code pg_query(drv *d, const char *sql, int nparams, const char *const *params, row_fn fn,
                            void *ud, strata_error *err)
{
    pg *p = (pg *)d;
    /* read-only commands: a READ ONLY transaction per query, never a
       session setting that would outlive us on a pooled connection */
    if (p->pooled == 2) /* a pool in statement mode closed the connection */
        return pg_statement_pool_error(err, NULL);
    int wrap = p->readonly && pq.PQtransactionStatus(p->c) == PQTRANS_IDLE;
    PGresult *r;
    if (wrap && !(r = exec1(p->c, BEGIN_READ, 0, NULL, err))) {
        if (err && err->code == STRATA_POOLER_UNSUPPORTED)
            p->pooled = 2; /* a caller going on after this failure meets it again */
        return err ? err->code : STRATA_DB_ERROR;
    }
    if (wrap)
        pq.PQclear(r);
    r = exec1(p->c, sql, nparams, params, err);
    if (!r) {
        if (wrap)
            pq.PQclear(pq.PQexec(p->c, "ROLLBACK"));
        return err ? err->code : STRATA_DB_ERROR;
    }
    if (fn && pq.PQresultStatus(r) == PGRES_TUPLES_OK) {
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
    if (wrap && !(r = exec1(p->c, "COMMIT", 0, NULL, err)))
        return err ? err->code : STRATA_DB_ERROR;
    if (wrap)
        pq.PQclear(r);
    return STRATA_OK;
}

static int got_true(void *ud, int n, char **v)
{
    *(int *)ud = n > 0 && v[0] && !strcmp(v[0], "t");
    return 1;
}

/* Whether the relation sqlname (SQL text: quoted, maybe schema-qualified)
   exists, as the search path resolves it. */
static strata_code regclass_exists(pg *p, const char *sqlname, int *exists, strata_error *err)
{
    const char *params[1] = {sqlname};
    *exists = 0;
    return pg_query(&p->base, "SELECT to_regclass($1) IS NOT NULL", 1, params, got_true, exists, err);
}

struct may_write {
    int standby, readonly, create;
    char schema[200];
    char replication_role[32];
};

static int got_may_write(void *ud, int n, char **v)
{
    struct may_write *w = ud;
    if (n == 5) {
        w->standby = v[0] && !strcmp(v[0], "t");
        w->readonly = v[1] && !strcmp(v[1], "on");
        w->create = !v[2] || strcmp(v[2], "f") != 0; /* NULL: not asked, or no such schema (vt_locate's) */
        snprintf(w->schema, sizeof(w->schema), "%s", v[3] ? v[3] : "");
        snprintf(w->replication_role, sizeof(w->replication_role), "%s", v[4] ? v[4] : "origin");
    }
    return 1;
}

/* A writing run meets, in this order: a standby or a read-only session (its
   first write fails with 25006), then the version table's creation, which
   needs CREATE on its schema (PostgreSQL 15 no longer grants that on
   public to every role). Privileges on an existing version table are left
   to the real run. */
static strata_code may_write(drv *d, const char *qtable, int create, int checked, strata_error *err)
{
    pg *p = (pg *)d;
    struct may_write w = {0};
    const char *params[2] = {qtable, create ? "t" : "f"};
    strata_code rc = pg_query(&p->base,
                              "SELECT pg_is_in_recovery(), current_setting('default_transaction_read_only'), "
                              "CASE WHEN $2::bool THEN (SELECT has_schema_privilege(oid, 'CREATE') FROM "
                              "pg_namespace WHERE nspname = (parse_ident($1))[1]) END, (parse_ident($1))[1], "
                              "current_setting('session_replication_role')",
                              2, params, got_may_write, &w, err);
    if (rc)
        return rc;
    if (w.standby || w.readonly) {
        err_set(err, STRATA_DB_ERROR, "cannot write to this database: %s",
                w.standby ? "the server is a standby (in recovery)"
                          : "default_transaction_read_only is on for this session");
        if (err)
            memcpy(err->sqlstate, "25006", 6);
        err_hint(err, "%s", PG_READONLY_HINT);
        return STRATA_DB_ERROR;
    }
    if (!w.create) {
        err_set(err, STRATA_DB_ERROR, "permission denied for schema %s [SQLSTATE 42501]", w.schema);
        if (err)
            memcpy(err->sqlstate, "42501", 6);
        return STRATA_DB_ERROR;
    }
    if (checked && strcmp(w.replication_role, "origin")) {
        err_set(
            err, STRATA_CONFIG_ERROR,
            "session_replication_role is '%s' for this session: foreign keys and triggers would not check "
            "what the migrations write",
            w.replication_role);
        err_hint(err,
                 "ALTER ROLE ... RESET session_replication_role (or ALTER DATABASE ...); a migration that "
                 "needs it sets it itself (SET LOCAL session_replication_role = replica); nothing was "
                 "changed");
        return STRATA_CONFIG_ERROR;
    }
    return STRATA_OK;
}
static strata_code pg_may_write(drv *d, const char *qtable, int create, strata_error *err)
{
    return may_write(d, qtable, create, 0, err);
}

/* Before a run's first step (and stamp): a session that may write, and one
   in which the database checks what the migrations write --
   session_replication_role 'replica' (left on a role or database, say
   after a replication set-up) turns off foreign keys and ordinary
   triggers, so a migration inserting an orphan row would pass here and
   fail everywhere else. Refused rather than set back: only a superuser
   may set it, and a session-level SET would stay on a pooled connection. */
static strata_code pg_writable(drv *d, strata_error *err)
{
    return may_write(d, NULL, 0, 1, err);
}

/* ------------------------------------------------------------------ lock */

/*
 * Waiting holds nothing open on the server: each attempt is one short
 * statement outside any transaction, and the wait between attempts happens
 * in this process (backoff with jitter), which also enforces the timeout. A
 * blocking pg_advisory_lock() would be a running statement, which a
 * concurrent CREATE INDEX CONCURRENTLY waits for (a deadlock with the
 * holder) and a role's statement_timeout kills.
 *
 * Directly on the server: a session-level advisory lock keyed by the
 * version table's name, released by the server when the session ends (a
 * killed process frees it at once).
 *
 * Behind a connection pooler a session is not ours (transaction pooling
 * hands each transaction to any server connection, and an advisory lock
 * would stay behind on one of them): the lock is a row in <table>_lock with
 * a lease, taken and renewed by single autocommit statements, renewed by a
 * heartbeat during long statements, checked inside every migration's
 * transaction (held()), and deleted at the end. A killed holder's lease
 * runs out after STRATA_LEASE_SECONDS (default 30).
 */

static void lock_key(const char *key, char out[32])
{
    uint64_t h = fnv1a(fnv1a(FNV1A_START, "strata:"), key);
    snprintf(out, 32, "%lld", (long long)(int64_t)h);
}

/*
 * The second key of the advisory lock: the version table as the server
 * names it (its schema and its name, unquoted), so that two spellings of
 * one table (--table public.strata_migrations beside the default
 * strata_migrations) exclude each other. The first key stays the --table
 * text as written, the one every build takes (older builds take it alone).
 * out[0] is 0 when the schema is not known yet (no vt_locate).
 */
static void canon_key(const pg *p, const char *key, char out[32])
{
    buf parts[2];
    buf_init(&parts[0]);
    buf_init(&parts[1]);
    int n = 0, quoted = 0;
    for (const char *t = key; *t && n < 2; t++) {
        if (*t == '"') {
            if (quoted && t[1] == '"')
                buf_add(&parts[n], t++, 1);
            else
                quoted = !quoted;
        } else if (*t == '.' && !quoted) {
            n++;
        } else {
            buf_add(&parts[n], t, 1);
        }
    }
    out[0] = 0;
    buf c;
    buf_init(&c);
    if (n == 1) {
        buf_addf(&c, "canon:%s\037%s", parts[0].data ? parts[0].data : "",
                 parts[1].data ? parts[1].data : "");
    } else if (n == 0 && p->schema) {
        /* quote_ident's form back to the name */
        const char *s = p->schema;
        size_t l = strlen(s);
        buf_adds(&c, "canon:");
        if (l >= 2 && s[0] == '"' && s[l - 1] == '"') {
            for (size_t i = 1; i + 1 < l; i++) {
                buf_add(&c, s + i, 1);
                i += s[i] == '"' && s[i + 1] == '"';
            }
        } else {
            buf_adds(&c, s);
        }
        buf_addf(&c, "\037%s", parts[0].data ? parts[0].data : "");
    }
    if (c.len && !c.oom)
        lock_key(c.data, out);
    buf_release(&c);
    buf_release(&parts[0]);
    buf_release(&parts[1]);
}

/* Both keys of table key's advisory lock (canon_key's out[0] 0: only the first). */
static void lock_keys(const pg *p, const char *key, char k[32], char ck[32])
{
    lock_key(key, k);
    canon_key(p, key, ck);
}

/* The lease table's name (p->lock_table) and this process's owner tag,
   once. */
static char *table_ident(const char *table);

static strata_code lease_name(pg *p, const char *key, strata_error *err)
{
    if (!p->lock_table) {
        /* <table>_lock beside the version table: its last part gains the
           suffix inside its quotes ("a.b".v gives "a.b"."v_lock") */
        char *id = table_ident(key);
        buf b;
        buf_init(&b);
        if (id && !strstr(id, "\".\"") && p->schema) {
            buf_adds(&b, p->schema);
            buf_adds(&b, ".");
        }
        if (id)
            buf_add(&b, id, strlen(id) - 1); /* without its closing quote */
        buf_adds(&b, "_lock\"");
        free(id);
        if (!id || !(p->lock_table = buf_detach(&b))) {
            buf_release(&b);
            return err_set(err, STRATA_NOMEM, "out of memory");
        }
        p->lease_ms = env_seconds("STRATA_LEASE_SECONDS", 30, 1e7) * 1000.0;
        if (p->lease_ms < 2000)
            p->lease_ms = 2000;
        char host[64] = "";
        gethostname(host, sizeof(host) - 1);
        unsigned r[2] = {(unsigned)getpid(), (unsigned)clock_ms()};
        if (getrandom(r, sizeof(r), 0) != (ssize_t)sizeof(r))
            r[0] ^= (unsigned)(uintptr_t)p; /* the pid and the clock still set processes apart */
        snprintf(p->owner, sizeof(p->owner), "%.60s:%d:%08x%08x", host, (int)getpid(), r[0], r[1]);
    }
    return STRATA_OK;
}

static strata_code lease_table(pg *p, const char *key, strata_error *err)
{
    strata_code rc = lease_name(p, key, err);
    if (rc)
        return rc;
    int exists;
    rc = regclass_exists(p, p->lock_table, &exists, err);
    if (rc || exists)
        return rc;
    buf b;
    buf_init(&b);
    buf_addf(&b,
             "CREATE TABLE IF NOT EXISTS %s (id integer PRIMARY KEY CHECK (id = 1), "
             "owner text NOT NULL, acquired_at timestamptz NOT NULL, expires_at timestamptz NOT NULL)",
             p->lock_table);
    PGresult *r = b.oom ? NULL : pq.PQexec(p->c, b.data);
    buf_release(&b);
    const char *state = r ? pq.PQresultErrorField(r, PG_DIAG_SQLSTATE) : NULL;
    /* two CREATE TABLE IF NOT EXISTS at the same moment: the loser fails on
       the catalog's unique index (23505), on the table (42P07) or on its row
       type (42710, "type ... already exists"); or a role's lock_timeout or
       statement_timeout stops it while it waits for the other's commit
       (55P03, 57014): that one made it (lease_try finds it, or fails on it
       with the server's own message) */
    if (pq.PQresultStatus(r) == PGRES_COMMAND_OK ||
        (state && (!strcmp(state, "23505") || !strcmp(state, "42P07") || !strcmp(state, "42710") ||
                   !strcmp(state, "55P03") || !strcmp(state, "57014")))) {
        pq.PQclear(r); /* made by us, or by another process at the same moment */
        return STRATA_OK;
    }
    rc = pg_fail(r, p->c, STRATA_DB_ERROR, NULL, 0, NULL, 0, err);
    pq.PQclear(r);
    if (err && strcmp(err->sqlstate, "25006")) /* a standby: the read-only hint stands */
        err_hint(err, "behind a connection pooler strata keeps its lock in a table; the role needs CREATE on "
                      "the schema");
    return rc;
}

/* Releases the advisory lock of key once: 1 when it was held, 0 when it
   was not; 1 too when the connection is gone (its session's end released
   it: no "no longer held" warning for a lost or cut connection). */
static int advisory_unlock(pg *p, const char *key)
{
    char k[32], ck[32];
    lock_keys(p, key, k, ck);
    strata_error ignore;
    if (ck[0]) {
        const char *cp[1] = {ck};
        int dummy = 0;
        pg_query(&p->base, "SELECT pg_advisory_unlock($1::bigint)", 1, cp, got_true, &dummy, &ignore);
    }
    const char *params[1] = {k};
    int released = 0;
    if (pg_query(&p->base, "SELECT pg_advisory_unlock($1::bigint)", 1, params, got_true, &released,
                 &ignore) &&
        pq.PQstatus(p->c) != CONNECTION_OK)
        return 1;
    return released;
}

/* Deletes this process's lease row: 1 when it was there, 0 when it was
   not, -1 when the delete failed. */
static int lease_drop(pg *p)
{
    strata_error ignore;
    buf b;
    buf_init(&b);
    buf_addf(&b, "DELETE FROM %s WHERE id = 1 AND owner = $1", p->lock_table);
    const char *params[1] = {p->owner};
    PGresult *r = b.oom ? NULL : exec1(p->c, b.data, 1, params, &ignore);
    int dropped = !r ? -1 : strcmp(pq.PQcmdTuples(r), "0") != 0;
    pq.PQclear(r);
    buf_release(&b);
    p->lease = 0;
    return dropped;
}

static strata_code lease_try(pg *p, int *got, strata_error *err)
{
    char ms[32];
    snprintf(ms, sizeof(ms), "%.0f milliseconds", p->lease_ms);
    const char *params[2] = {p->owner, ms};
    buf b;
    buf_init(&b);
    buf_addf(&b,
             "INSERT INTO %s AS l (id, owner, acquired_at, expires_at) VALUES (1, $1, now(), now() + "
             "$2::interval) "
             "ON CONFLICT (id) DO UPDATE SET owner = excluded.owner, acquired_at = excluded.acquired_at, "
             "expires_at = excluded.expires_at WHERE l.expires_at < now() OR l.owner = excluded.owner "
             "RETURNING true",
             p->lock_table);
    strata_code rc = b.oom ? err_set(err, STRATA_NOMEM, "out of memory")
                           : pg_query(&p->base, b.data, 2, params, got_true, got, err);
    buf_release(&b);
    if (!rc && *got) {
        p->lease++;
        p->next_renew = clock_ms() + p->lease_ms / 6;
    }
    return rc;
}

/* The statement that extends this process's lease by lease_ms, in b (the
   caller releases it), with its two parameters: the owner and ms, the
   caller's buffer that params points into. 0 rows updated: the lease was
   lost to another process. */
static void lease_extend_sql(const pg *p, buf *b, char ms[32], const char *params[2])
{
    snprintf(ms, 32, "%.0f milliseconds", p->lease_ms);
    params[0] = p->owner;
    params[1] = ms;
    buf_init(b);
    buf_addf(b, "UPDATE %s SET expires_at = now() + $2::interval WHERE id = 1 AND owner = $1", p->lock_table);
}

/* Reads what arrived on the heartbeat connection, without waiting. */
static void hb_read(pg *p)
{
    if (!p->hb || !p->hb_busy)
        return;
    if (!pq.PQconsumeInput(p->hb)) {
        pg_finish(p->hb); /* reconnected at the next renewal */
        p->hb = NULL;
        p->hb_busy = 0;
        return;
    }
    while (!pq.PQisBusy(p->hb)) {
        PGresult *r = pq.PQgetResult(p->hb);
        if (!r) {
            p->hb_busy = 0;
            return;
        }
        if (pq.PQresultStatus(r) == PGRES_COMMAND_OK && !strcmp(pq.PQcmdTuples(r), "0"))
            notify(p, STRATA_EV_WARNING, "warning: the migration lock's lease was lost to another process");
        pq.PQclear(r);
    }
}

/*
 * Renews the lease from the heartbeat connection (the main one is busy),
 * without waiting for the answer: behind a small pool the renewal may queue
 * for a server connection, and the statement it keeps alive must not wait
 * for it. exec_alive reads the answer when it comes; a renewal still
 * waiting when the next is due is not sent twice.
 */
static void lease_renew(pg *p)
{
    p->next_renew = clock_ms() + p->lease_ms / 6;
    if (intr_requested()) /* stopping: no new connection to wait on (the grace is 5 s) */
        return;
    hb_read(p);
    if (p->hb_busy)
        return;
    if (!p->hb || pq.PQstatus(p->hb) != CONNECTION_OK) {
        pg_finish(p->hb);
        p->hb = NULL;
        int retry;
        strata_error e;
        /* to the address the main connection uses: a silent one before it
           in the URL's list would take all of the time given here */
        double cap = clock_ms() + p->lease_ms / 6;
        if (pg_connect_beside(p->t, pq.PQstatus(p->c) == CONNECTION_OK ? p->c : NULL, cap, &p->hb, &e) &&
            (clock_ms() >= cap || pg_connect_url(p->t, NULL, cap, &p->hb, &retry, &e))) {
            notify(p, STRATA_EV_WARNING, "warning: cannot reach the server to renew the migration lock");
            return;
        }
    }
    char ms[32];
    const char *params[2];
    buf b;
    lease_extend_sql(p, &b, ms, params);
    p->hb_busy = !b.oom && pq.PQsendQueryParams(p->hb, b.data, 2, NULL, params, NULL, NULL, 0);
    buf_release(&b);
}

/* In the step's transaction, its last statement before COMMIT: the role's
   lock_timeout or statement_timeout may not stop it while a waiter's
   attempt holds the lease row for a moment (SET LOCAL: only COMMIT follows;
   one round trip). */
static strata_code lease_held(pg *p, strata_error *err)
{
    char ms[32];
    snprintf(ms, sizeof(ms), "%.0f milliseconds", p->lease_ms);
    buf b;
    buf_init(&b);
    buf_addf(
        &b,
        "SET LOCAL lock_timeout = 0; SET LOCAL statement_timeout = 0; UPDATE %s SET expires_at = now() + ",
        p->lock_table);
    buf_add_sqlstr(&b, ms);
    buf_adds(&b, "::interval WHERE id = 1 AND owner = ");
    buf_add_sqlstr(&b, p->owner);
    PGresult *r = b.oom ? NULL : exec1(p->c, b.data, 0, NULL, err);
    buf_release(&b);
    if (!r)
        return err && err->code ? err->code : STRATA_NOMEM;
    int ok = strcmp(pq.PQcmdTuples(r), "0") != 0;
    pq.PQclear(r);
    p->next_renew = clock_ms() + p->lease_ms / 6;
    if (ok)
        return STRATA_OK;
    p->lease = 0;
    err_set(err, STRATA_LOCK_LOST, "the migration lock's lease ran out and another process took it over");
    err_hint(err, "this step was rolled back; check 'strata status' and run 'strata up' again");
    return STRATA_LOCK_LOST;
}

static strata_code pg_held(drv *d, strata_error *err)
{
    pg *p = (pg *)d;
    return p->lease ? lease_held(p, err) : STRATA_OK;
}

/*
 * The two ways of holding the lock exclude each other: a process connected
 * directly (advisory lock) and one through a pooler (lease row) on the same
 * database -- a migration job beside replicas behind PgBouncer. Each takes
 * its own kind first and then looks for the other kind held; seeing it, it
 * lets its own go and waits. Whichever looks second sees the first.
 */
static strata_code lease_live(pg *p, const char *key, int *live, strata_error *err)
{
    *live = 0;
    int exists = 0;
    strata_code rc = lease_name(p, key, err);
    if (!rc)
        rc = regclass_exists(p, p->lock_table, &exists, err);
    if (rc || !exists)
        return rc;
    buf b;
    buf_init(&b);
    buf_addf(&b, "SELECT EXISTS (SELECT 1 FROM %s WHERE id = 1 AND expires_at > now())", p->lock_table);
    rc = b.oom ? err_set(err, STRATA_NOMEM, "out of memory")
               : pg_query(&p->base, b.data, 0, NULL, got_true, live, err);
    buf_release(&b);
    return rc;
}

static strata_code advisory_held(pg *p, const char *k, int *held, strata_error *err)
{
    /* a bigint advisory key: classid its high 32 bits, objid its low */
    uint64_t u = (uint64_t)(int64_t)strtoll(k, NULL, 10);
    char hi[16], lo[16];
    snprintf(hi, sizeof(hi), "%u", (unsigned)(u >> 32));
    snprintf(lo, sizeof(lo), "%u", (unsigned)(u & 0xffffffffu));
    const char *params[2] = {hi, lo};
    *held = 0;
    return pg_query(&p->base,
                    "SELECT EXISTS (SELECT 1 FROM pg_locks WHERE locktype = 'advisory' AND granted AND "
                    "objsubid = 1 AND database = (SELECT oid FROM pg_database WHERE datname = "
                    "current_database()) AND classid = $1::oid AND objid = $2::oid)",
                    2, params, got_true, held, err);
}

/* Either key of table key's advisory lock held by some session. */
static strata_code any_held(pg *p, const char *key, int *held, strata_error *err)
{
    char k[32], ck[32];
    lock_keys(p, key, k, ck);
    strata_code rc = advisory_held(p, k, held, err);
    return rc || *held || !ck[0] ? rc : advisory_held(p, ck, held, err);
}

/* One attempt at both keys of the advisory lock on p's session, at once:
   *got 1 with both held; neither is kept otherwise. */
static strata_code advisory_try(pg *p, const char *key, int *got, strata_error *err)
{
    char k[32], ck[32];
    lock_keys(p, key, k, ck);
    const char *params[2] = {k, ck};
    *got = 0;
    if (!ck[0])
        return pg_query(&p->base, "SELECT pg_try_advisory_lock($1::bigint)", 1, params, got_true, got, err);
    return pg_query(&p->base,
                    "SELECT CASE WHEN pg_try_advisory_lock($1::bigint) THEN CASE WHEN "
                    "pg_try_advisory_lock($2::bigint) THEN true ELSE NOT pg_advisory_unlock($1::bigint) END "
                    "ELSE false END",
                    2, params, got_true, got, err);
}

static strata_code pg_lock_busy(drv *d, const char *key, int *busy, strata_error *err)
{
    pg *p = (pg *)d;
    int standby = 0;
    strata_code rc = pg_query(d, "SELECT pg_is_in_recovery()", 0, NULL, got_true, &standby, err);
    if (!rc && standby) { /* the primary's locks are not seen here */
        *busy = -1;
        return STRATA_OK;
    }
    if (!rc)
        rc = any_held(p, key, busy, err);
    return rc || *busy ? rc : lease_live(p, key, busy, err);
}

strata_code pg_table_check(const char *table, int *dots, strata_error *err)
{
    /* a.b.c (dots outside double quotes): a database name PostgreSQL
       refuses ("cross-database references"), a usage error here */
    int quoted = 0, empty = 0;
    *dots = 0;
    size_t part = 0, bytes = 0,
           longest = 0; /* characters of the current part, quotes included; bytes of its name */
    for (const char *t = table; *t; t++) {
        bytes += quoted && t[0] == '"' && t[1] == '"'; /* "" inside quotes: one " of the name */
        quoted ^= *t == '"';
        if (!quoted && *t == '.') {
            (*dots)++;
            empty |= part == 0;
            part = 0;
            longest = bytes > longest ? bytes : longest;
            bytes = 0;
        } else {
            part++;
            bytes += *t != '"';
            /* "" alone as a part: an empty name */
            empty |= part == 2 && !quoted && t[0] == '"' && t[-1] == '"' && (t[1] == '.' || !t[1]);
        }
    }
    empty |= part == 0;
    if (quoted || empty) {
        err_set(err, STRATA_USAGE, "--table '%s': %s", table,
                quoted ? "a double quote is not closed" : "a part of the name is empty");
        err_hint(err, "name it TABLE or SCHEMA.TABLE; a part in double quotes may hold blanks or dots");
        return STRATA_USAGE;
    }
    /* PostgreSQL cuts a longer name to 63 bytes, and the lock table's
       <table>_lock (behind a pooler) must not be cut into the version
       table's own name */
    if (bytes > PG_TABLE_MAX || longest > 63)
        return pg_table_too_long(table, bytes > PG_TABLE_MAX, err);
    if (*dots > 1) {
        err_set(err, STRATA_USAGE, "--table '%s': name it TABLE or SCHEMA.TABLE", table);
        err_hint(err,
                 "the version table is in the database of the URL; quote a name holding a dot: '\"a.b\"'");
        return STRATA_USAGE;
    }
    return STRATA_OK;
}

strata_code pg_table_too_long(const char *table, int table_part, strata_error *err)
{
    err_set(err, STRATA_USAGE, "--table '%s': the %s is longer than %d bytes", table,
            table_part ? "table's name" : "schema's name", table_part ? PG_TABLE_MAX : 63);
    err_hint(err, "PostgreSQL cuts names at 63 bytes, and strata's lock table beside it adds \"_lock\": "
                  "choose a shorter name");
    return STRATA_USAGE;
}

static strata_code pg_vt_locate(drv *d, const char *table, char **qname, int *exists, strata_error *err);

strata_code pg_migration_try_lock(PGconn *c, const char *table, int *got, strata_error *err)
{
    /* pg_lock's direct attempt, on the caller's session */
    pg w = {.base.ops = &drv_postgres_ops, .c = c};
    *got = 0;
    int live = 0;
    char *qname = NULL;
    /* where the version table is (its schema: the lock's second key) */
    strata_code rc = pg_vt_locate(&w.base, table, &qname, NULL, err);
    free(qname);
    if (!rc)
        rc = advisory_try(&w, table, got, err);
    if (!rc && *got) { /* a holder behind a pooler: its lease still running */
        rc = lease_live(&w, table, &live, err);
        if (rc || live) {
            advisory_unlock(&w, table);
            *got = 0;
        }
    }
    free(w.lock_table);
    free(w.schema);
    return rc;
}

static strata_code pg_lock(drv *d, const char *key, double timeout, strata_error *err)
{
    pg *p = (pg *)d;
    /* session state cannot be trusted to last behind a pooler: ask once,
       here, where it matters, not at every connect */
    if (p->pooled < 0) {
        p->pooled = pg_is_pooled(p->c);
        /* before the lease row: nothing to leave behind */
        if (p->pooled && pg_statement_pooled(p->c))
            p->pooled = 2;
    }
    if (p->pooled == 2)
        return pg_statement_pool_error(err, NULL);
    strata_code rc = p->pooled ? lease_table(p, key, err) : STRATA_OK;
    double deadline = clock_ms() + (timeout > 0 ? timeout * 1000.0 : 0), delay = 50;
    int waited = 0;
    while (rc == STRATA_OK) {
        int got = 0;
        rc = p->pooled ? lease_try(p, &got, err) : advisory_try(p, key, &got, err);
        /* the connection was lost while this process held nothing: the
           pooler dropped it while it queued for a server connection
           (query_wait_timeout, a restart), or the server ended it (a role's
           idle_session_timeout while the waiter slept): a waiter goes on
           waiting on a new one */
        int lost = rc && pq.PQstatus(p->c) != CONNECTION_OK && !p->advisory && !p->lease;
        if (lost && clock_ms() < deadline)
            rc = STRATA_OK;
        /* the holder keeps the lease row locked until its step commits: a
           role's lock_timeout or statement_timeout may stop the attempt
           waiting for that row -- the lock is taken, wait on */
        if (rc && p->pooled && err &&
            (!strcmp(err->sqlstate, "55P03") || !strcmp(err->sqlstate, "57014") ||
             !strcmp(err->sqlstate, "40001") || !strcmp(err->sqlstate, "40P01")))
            rc = STRATA_OK;
        if (rc == STRATA_OK)
            strata_error_clear(err);
        if (rc)
            return rc;
        if (got && !p->pooled && !p->advisory) {
            /* a holder through a pooler? then let go, and wait */
            int live = 0;
            if ((rc = lease_live(p, key, &live, err)))
                return rc;
            if (live) {
                advisory_unlock(p, key);
                got = 0;
            }
        } else if (got && p->pooled && p->lease == 1) {
            /* a holder connected directly? then give the lease back, and wait */
            int held = 0;
            if ((rc = any_held(p, key, &held, err)))
                return rc;
            if (held) {
                lease_drop(p);
                got = 0;
            }
        }
        if (got) {
            p->advisory += !p->pooled;
            return STRATA_OK;
        }
        double now = clock_ms();
        if (now >= deadline)
            break;
        if (!lost && !waited++) /* a lost connection is no other process */
            notify(p, STRATA_EV_LOCK_WAIT, "waiting for another strata process to finish");
        /* behind a session pooler a waiter's connection holds a server
           connection that the holder's heartbeat may need (a pool of two
           or three): waiters let go of theirs between attempts */
        if (p->pooled || lost) {
            pg_finish(p->c);
            p->c = NULL;
        }
        backoff_sleep(&delay, 1.5, 1000, 1, now, deadline);
        if (intr_requested())
            return intr_error(err, "while waiting for the migration lock");
        /* a new connection until the lock's deadline, or for 10 s when
           that is nearer (the last attempt needs one too) */
        if (!p->c)
            rc =
                connect_until(p, deadline < clock_ms() + 10000 ? clock_ms() + 10000 : deadline, 1000, 0, err);
    }
    if (rc)
        return rc;
    err_set(err, STRATA_LOCK_TIMEOUT, "timed out after %gs waiting for the migration lock", timeout);
    err_hint(err, "another strata process is migrating this database; raise --lock-timeout to wait longer");
    return STRATA_LOCK_TIMEOUT;
}

static void pg_unlock(drv *d, const char *key)
{
    pg *p = (pg *)d;
    int released = 1;
    /* nested (reset runs up under its own lock): the outer hold stays */
    if (p->lease > 1) {
        p->lease--;
        return;
    }
    if (p->advisory > 1) {
        released = advisory_unlock(p, key);
        p->advisory--;
        if (!released)
            notify(p, STRATA_EV_WARNING,
                   "warning: the migration lock was no longer held when strata released it");
        return;
    }
    int unreachable = 0;
    if (p->lease) {
        /* the connection was lost (a pooler's query_timeout, KILL or
           restart): the lease row is still this process's, and waiters
           would sit out its time -- a new connection deletes it */
        if (!p->c || pq.PQstatus(p->c) != CONNECTION_OK) {
            /* not after a signal (stop now), nor when a reconnect just
               gave up (the failure's record tried for as long) */
            strata_error e;
            pg_finish(p->c);
            p->c = NULL;
            unreachable = intr_requested() || p->gave_up ||
                          connect_until(p, clock_ms() + p->reconnect_ms, 1000, 0, &e) != STRATA_OK;
        }
        released = unreachable ? 0 : lease_drop(p);
        if (released < 0)
            unreachable = 1;
        p->lease = 0;
    } else if (p->advisory) {
        released = advisory_unlock(p, key);
        p->advisory = 0;
    } else {
        return;
    }
    pg_finish(p->hb);
    p->hb = NULL;
    p->hb_busy = 0;
    if (unreachable) {
        char msg[300];
        snprintf(msg, sizeof(msg),
                 "warning: the migration lock could not be released (the connection was lost): its row "
                 "in %s stays until it expires, at most %.0f s from now",
                 p->lock_table ? p->lock_table : "the lease table", p->lease_ms / 1000.0);
        notify(p, STRATA_EV_WARNING, msg);
    } else if (!released)
        notify(p, STRATA_EV_WARNING,
               "warning: the migration lock was no longer held when strata released it");
}

int pg_pin_begin(drv *d, int flags, strata_error *err)
{
    pg *p = (pg *)d;
    if (p->pooled == 2) {
        pg_statement_pool_error(err, NULL);
        return -1;
    }
    if (pq.PQtransactionStatus(p->c) != PQTRANS_IDLE)
        return 0;
    char sql[400];
    snprintf(sql, sizeof(sql), "%s; " PG_PIN_SETTINGS "%s",
             (flags & PG_PIN_WRITE) && !p->readonly ? BEGIN_WRITE : BEGIN_READ,
             flags & PG_PIN_STRINGS ? "; SET LOCAL standard_conforming_strings = on" : "");
    PGresult *r = exec1(p->c, sql, 0, NULL, err);
    if (!r) {
        if (pq.PQtransactionStatus(p->c) != PQTRANS_IDLE)
            pq.PQclear(pq.PQexec(p->c, "ROLLBACK"));
        return -1;
    }
    pq.PQclear(r);
    return 1;
}

void pg_pin_end(drv *d, int began)
{
    pg *p = (pg *)d;
    if (began == 1)
        pq.PQclear(pq.PQexec(p->c, "ROLLBACK"));
}

static strata_code pg_begin(drv *d, double timeout, strata_error *err)
{
    (void)timeout;
    return pg_query(d, BEGIN_WRITE, 0, NULL, NULL, NULL, err);
}

static int pg_recover(drv *d)
{
    pg *p = (pg *)d;
    if (pq.PQstatus(p->c) == CONNECTION_OK)
        return 0;
    if (!p->c)
        return -1;
    if (intr_requested()) { /* told to stop: no new connection (PQreset would wait on the server) */
        p->gave_up = 1;
        return -1;
    }
    /* a new connection as pg_open made it, within the reconnect window:
       PQreset, blocking, would wait without end on a server that takes the
       connection and never answers when nothing sets a connect_timeout,
       deaf to a signal */
    p->advisory = 0; /* the session that held it is gone; a lease row stays ours */
    pg_finish(p->c);
    p->c = NULL;
    strata_error e;
    p->gave_up = connect_until(p, clock_ms() + p->reconnect_ms, 1000, 0, &e) != STRATA_OK;
    return p->gave_up ? -1 : 1;
}

static void pg_session_reset(drv *d)
{
    pg *p = (pg *)d;
    /* RESET ALL leaves the role (SET ROLE) and the transaction's own
       settings; inside a --single-transaction run it is part of it. It
       also resets client_encoding -- to the server connection's own value
       behind a pooler, not the UTF8 strata connected with: set again */
    pq.PQclear(pq.PQexec(p->c, "RESET ALL; SET client_encoding = 'UTF8'"));
}

static int pg_in_tx(drv *d)
{
    PGTransactionStatusType t = pq.PQtransactionStatus(((pg *)d)->c);
    return t == PQTRANS_INTRANS || t == PQTRANS_INERROR;
}

static int add_line(void *ud, int n, char **v)
{
    if (n > 0 && v[0]) {
        buf_adds(ud, v[0]);
        buf_adds(ud, "\n");
    }
    return 0;
}

static strata_code pg_invalid_indexes(drv *d, buf *out, strata_error *err)
{
    return pg_query(d,
                    "SELECT quote_ident(n.nspname) || '.' || quote_ident(c.relname) FROM pg_index i "
                    "JOIN pg_class c ON c.oid = i.indexrelid JOIN pg_namespace n ON n.oid = c.relnamespace "
                    "WHERE NOT i.indisvalid AND n.nspname = ANY (current_schemas(false)) ORDER BY 1",
                    0, NULL, add_line, out, err);
}

static strata_code pg_table_exists(drv *d, const char *table, int *exists, strata_error *err)
{
    char *name = ident_dup(table);
    strata_code rc =
        name ? regclass_exists((pg *)d, name, exists, err) : err_set(err, STRATA_NOMEM, "out of memory");
    free(name);
    return rc;
}

/*
 * --table as SQL: each part (split at dots outside double quotes) taken
 * literally, case and all; a part in double quotes may hold dots, and ""
 * for a quote. Malloc'd, NULL on OOM.
 */
static char *table_ident(const char *table)
{
    buf b;
    buf_init(&b);
    buf_add(&b, "\"", 1);
    int quoted = 0;
    for (const char *t = table; *t; t++) {
        if (*t == '"') {
            if (quoted && t[1] == '"') {
                buf_adds(&b, "\"\"");
                t++;
            } else {
                quoted = !quoted;
            }
        } else if (*t == '.' && !quoted) {
            buf_adds(&b, "\".\"");
        } else {
            buf_add(&b, t, 1);
        }
    }
    buf_add(&b, "\"", 1);
    return buf_detach(&b);
}

/*
 * A --table SCHEMA.TABLE whose table is missing: its schema must exist, or
 * a misspelt (or differently cased) schema would read as a database where
 * nothing was applied -- status "pending", up replaying the history.
 */
static strata_code schema_exists(pg *p, const char *table, const char *qname, strata_error *err)
{
    int quoted = 0;
    const char *dot = NULL;
    for (const char *t = qname; *t && !dot; t++) {
        quoted ^= *t == '"';
        if (!quoted && *t == '.')
            dot = t;
    }
    if (!dot)
        return STRATA_OK;
    char *schema = xstrndup(qname, (size_t)(dot - qname));
    if (!schema)
        return err_set(err, STRATA_NOMEM, "out of memory");
    int there = 0;
    const char *params[1] = {schema};
    strata_code rc =
        pg_query(&p->base, "SELECT to_regnamespace($1) IS NOT NULL", 1, params, got_true, &there, err);
    if (!rc && !there) {
        rc = err_set(err, STRATA_CONFIG_ERROR, "--table %s: the schema %s does not exist", table, schema);
        err_hint(err, "create it first (CREATE SCHEMA ...), or fix the name: strata takes each part of "
                      "--table literally, case and all (as \\dn and \\dt show them; PUBLIC is not public)");
    }
    free(schema);
    return rc;
}

/*
 * drv_ops.vt_locate: the version table's schema is looked up under the
 * search_path the session started with (its reset value: the server's,
 * database's, role's or URL's setting), not under one a migration SET or a
 * pooled server connection kept: where the table stands, else the schema a
 * CREATE TABLE would use. One round trip: the SET LOCAL lasts only for the
 * read-only transaction around the lookup.
 */
static strata_code pg_vt_locate(drv *d, const char *table, char **qname, int *exists, strata_error *err)
{
    pg *p = (pg *)d;
    int dots = 0;
    strata_code rc0 = pg_table_check(table, &dots, err);
    if (rc0)
        return rc0;
    /* --table schema.table: qualified already (the lease table too) */
    if (!*qname && dots && !(*qname = table_ident(table)))
        return err_set(err, STRATA_NOMEM, "out of memory");
    if (*qname) {
        if (!exists)
            return STRATA_OK;
        strata_code rc = regclass_exists(p, *qname, exists, err);
        return rc || *exists ? rc : schema_exists(p, table, *qname, err);
    }
    char *id = table_ident(table);
    if (!id)
        return err_set(err, STRATA_NOMEM, "out of memory");
    buf b;
    buf_init(&b);
    int tx = pq.PQtransactionStatus(p->c) == PQTRANS_IDLE;
    if (tx)
        buf_adds(&b, BEGIN_READ "; SELECT set_config('search_path', reset_val, true) FROM pg_settings "
                                "WHERE name = 'search_path'; ");
    buf_adds(&b, "SELECT (SELECT quote_ident(nspname) FROM pg_namespace WHERE oid = coalesce((SELECT "
                 "relnamespace FROM pg_class WHERE oid = to_regclass(");
    buf_add_sqlstr(&b, id);
    buf_adds(&b, ")), (SELECT oid FROM pg_namespace WHERE nspname = current_schema()))), to_regclass(");
    buf_add_sqlstr(&b, id);
    buf_adds(&b, ") IS NOT NULL, current_setting('search_path')");
    if (tx)
        buf_adds(&b, "; COMMIT");
    PGresult *r, *keep = NULL, *fail = NULL;
    if (!b.oom && pq.PQsendQuery(p->c, b.data)) {
        while ((r = pq.PQgetResult(p->c))) {
            ExecStatusType st = pq.PQresultStatus(r);
            if (st == PGRES_FATAL_ERROR && !fail) {
                fail = r;
            } else if (st == PGRES_TUPLES_OK && pq.PQnfields(r) == 3 && pq.PQntuples(r) == 1) {
                pq.PQclear(keep);
                keep = r;
            } else {
                pq.PQclear(r);
            }
        }
    }
    strata_code rc = STRATA_OK;
    if (b.oom) {
        rc = err_set(err, STRATA_NOMEM, "out of memory");
    } else if (fail || !keep) {
        rc = pg_fail(fail, p->c, STRATA_DB_ERROR, NULL, 0, NULL, 0, err);
        if (tx && pq.PQtransactionStatus(p->c) != PQTRANS_IDLE)
            pq.PQclear(pq.PQexec(p->c, "ROLLBACK"));
    } else if (pq.PQgetisnull(keep, 0, 0)) {
        rc = err_set(err, STRATA_DB_ERROR,
                     "no schema to keep the version table %s in: the search_path (%s) "
                     "names no schema that exists",
                     id, pq.PQgetvalue(keep, 0, 2));
        err_hint(err, "set one for the role (ALTER ROLE ... SET search_path = public) or in the URL "
                      "(?options=-csearch_path%%3Dpublic)");
    } else {
        free(p->schema);
        p->schema = xstrdup(pq.PQgetvalue(keep, 0, 0));
        buf_release(&b);
        buf_init(&b);
        buf_adds(&b, p->schema ? p->schema : "");
        buf_adds(&b, ".");
        buf_adds(&b, id);
        if (!p->schema || !(*qname = buf_detach(&b)))
            rc = err_set(err, STRATA_NOMEM, "out of memory");
        else if (exists)
            *exists = !strcmp(pq.PQgetvalue(keep, 0, 1), "t");
    }
    pq.PQclear(fail);
    pq.PQclear(keep);
    buf_release(&b);
    free(id);
    return rc;
}

const drv_ops drv_postgres_ops = {
    .engine = "postgres",
    .dialect = DIALECT_POSTGRES,
    .session_lock = 1,
    .open = pg_open,
    .close = pg_close,
    .exec_script = pg_exec_script,
    .verify = pg_verify,
    .query = pg_query,
    .lock = pg_lock,
    .lock_busy = pg_lock_busy,
    .unlock = pg_unlock,
    .begin = pg_begin,
    .table_exists = pg_table_exists,
    .vt_locate = pg_vt_locate,
    .schema_dump = schema_dump_pg,
    .held = pg_held,
    .recover = pg_recover,
    .session_reset = pg_session_reset,
    .in_tx = pg_in_tx,
    .invalid_indexes = pg_invalid_indexes,
    .reset_list = pg_reset_list,
    .reset_made = pg_reset_made,
    .reset_drop = pg_reset_drop,
    .db_create_or_drop = pg_db_create_or_drop,
    .wait = pg_wait,
    .check_local = pg_check_local,
    .backup = pg_backup,
    .restore = pg_restore,
    .scratch_create = pg_scratch_create,
    .scratch_drop = pg_scratch_drop,
    .gen_read = pg_gen_read,
    .gen_plan = pg_gen_plan,
    .gen_canon = pg_gen_canon,
    .may_write = pg_may_write,
    .writable = pg_writable,
};
