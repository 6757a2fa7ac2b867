/*
 * copy.c -- strata copy: a SQLite database into PostgreSQL (SPEC section 7,
 * docs/copy.md). This file is the run: options, the PostgreSQL session and
 * its helpers, the worker pool, the target schema, bookkeeping and resume
 * (strata_copy_state), the report.
 *
 * The run, in phases:
 *   1. schema   read the SQLite schema, take the copy lock on the target,
 *               create the tables (default mode) or match the existing ones
 *               (data-only); record created tables in strata_copy_state
 *   2. check    for tables a previous run finished: recompute the source
 *               checksum and read the target's back; equal -> skip the table
 *               (copy_load.c)
 *   3. clear    empty the tables to (re)load that foreign keys point at
 *   4. move     one schedule on the worker pool (copy_after.c): tables
 *               load in parallel (parents before children when the target
 *               has foreign keys), each in ONE transaction: TRUNCATE, binary
 *               COPY, read-back verification, its strata_copy_state row,
 *               COMMIT -- a kill at any moment rolls the table back whole
 *               (copy_load.c). As soon as a table's rows have committed, its
 *               primary key, unique constraints and indexes build (while
 *               other tables still load), then its CHECKs and sequences; a
 *               foreign key is added and validated once both its tables are
 *               ready. The largest table's work first.
 *   5. views    what cannot be translated is reported by name
 * The library never prints: progress goes through opts->progress, and what
 * was not carried over is in the report's warnings.
 */
#include "copy_internal.h"

#include "sqlgen.h"
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

double copy_now(void)
{
    return clock_ms() / 1000.0;
}

/* --------------------------------------------------------- PostgreSQL */

strata_code copy_pg_error(strata_error *err, strata_code code, PGconn *c, PGresult *res, const char *what)
{
    char prefix[512];
    snprintf(prefix, sizeof(prefix), "%s: ", what);
    code = pg_error_set(err, code, c, res, prefix, 1);
    if (code == STRATA_INTERRUPTED)
        err_hint(err, COPY_RERUN_HINT);
    else if (err && strstr(err->message, "not supported with row-level security")) {
        /* the server's hint ("Use INSERT statements instead") is not a way
           strata can take (the load's COPY also checks its SQLSTATE, for a
           server speaking another language) */
        err->hint[0] = 0;
        err_hint(err, COPY_RLS_HINT);
    }
    return code;
}

strata_code copy_stopped(strata_error *err)
{
    intr_error(err, NULL);
    err_hint(err, COPY_RERUN_HINT);
    return STRATA_INTERRUPTED;
}

/* Runs a command; DB_ERROR with what on failure. */
strata_code copy_exec(PGconn *c, const char *sql, const char *what, strata_error *err)
{
    PGresult *res = pq.PQexec(c, sql);
    ExecStatusType st = pq.PQresultStatus(res);
    strata_code rc = STRATA_OK;
    if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK)
        rc = copy_pg_error(err, STRATA_DB_ERROR, c, res, what);
    pq.PQclear(res);
    return rc;
}

/* A query with text parameters; the result (caller clears) or NULL. */
PGresult *copy_query(PGconn *c, const char *sql, int n, const char *const *params, const char *what,
                     strata_error *err)
{
    PGresult *res = pq.PQexecParams(c, sql, n, NULL, params, NULL, NULL, 0);
    ExecStatusType st = pq.PQresultStatus(res);
    if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK) {
        copy_pg_error(err, STRATA_DB_ERROR, c, res, what);
        pq.PQclear(res);
        return NULL;
    }
    return res;
}

void copy_rollback(PGconn *c)
{
    PGresult *res = pq.PQexec(c, "ROLLBACK");
    pq.PQclear(res);
}

/*
 * Session settings for a task, in the current transaction: more memory for
 * sorts and hashes (never less than the server's own setting), and, while
 * other tables or tasks still run on strata's other connections, no
 * parallel workers -- the connections already keep the server's cores
 * busy, and parallel plans then only add overhead (measured: two index
 * builds side by side take 30% longer with them). The last task alone
 * keeps the server's parallelism.
 */
#define TUNE_MEMORY                                                                        \
    "SELECT CASE WHEN pg_size_bytes(current_setting('maintenance_work_mem')) < 268435456 " \
    "THEN set_config('maintenance_work_mem', '256MB', true) END, "                         \
    "CASE WHEN pg_size_bytes(current_setting('work_mem')) < 67108864 "                     \
    "THEN set_config('work_mem', '64MB', true) END"

/* Under r->mu: 1 when the calling item is the only one running and no
   other is ready to start. */
static int pool_alone(run *r)
{
    pool *p = r->cur;
    int running = 0;
    for (int i = 0; p && i < p->n; i++) {
        if (p->state[i] == 1)
            running++;
        else if (p->state[i] == 0 && p->ready(p, i))
            return 0;
    }
    return running <= 1;
}

strata_code copy_tune(run *r, PGconn *c, const char *what, strata_error *err)
{
    pthread_mutex_lock(&r->mu);
    int alone = pool_alone(r);
    pthread_mutex_unlock(&r->mu);
    return copy_exec(c,
                     alone ? TUNE_MEMORY
                           : TUNE_MEMORY ", set_config('max_parallel_maintenance_workers', '0', true), "
                                         "set_config('max_parallel_workers_per_gather', '0', true)",
                     what, err);
}

/* Records the run's first error and stops the pool. Under r->mu. */
static void run_fail(run *r, strata_code rc, const strata_error *e)
{
    if (!r->stop) {
        r->stop = 1;
        r->err = *e;
        r->rc = rc;
    }
    pthread_cond_broadcast(&r->cv);
}

strata_code run_error(const run *r, strata_error *err)
{
    if (r->rc && err)
        *err = r->err;
    return r->rc;
}

/* Whether a failure with this SQLSTATE is the statement's own (a definition
   the server refuses, rows that violate it) rather than the session's or
   the server's: the connection (08), resources such as the disk or memory
   (53), a cancel, timeout or shutdown (57), the system (58, XX), a
   deadlock or serialization failure (40), a lock not available (55P03),
   an idle-transaction timeout (25P03). No SQLSTATE: the connection. */
static int statement_failure(const char *st)
{
    static const char *const cls[] = {"08", "53", "57", "58", "XX", "40"};
    if (!st || strlen(st) != 5)
        return 0;
    for (size_t i = 0; i < sizeof(cls) / sizeof(cls[0]); i++)
        if (!strncmp(st, cls[i], 2))
            return 0;
    return strcmp(st, "55P03") != 0 && strcmp(st, "25P03") != 0;
}

int copy_try_sql(run *r, PGconn *c, const char *sql, char *why, size_t whysz)
{
    PGresult *res = pq.PQexec(c, "SAVEPOINT strata_try");
    pq.PQclear(res);
    res = pq.PQexec(c, sql);
    ExecStatusType st = pq.PQresultStatus(res);
    int ok = st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK, out = 0;
    if (!ok) {
        const char *m = pq.PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY);
        /* the server's detail names the rows: the duplicated key, the key
           that points at nothing */
        const char *d = pq.PQresultErrorField(res, PG_DIAG_MESSAGE_DETAIL);
        snprintf(why, whysz, "%s%s%.300s%s", m ? m : pq.PQerrorMessage(c), d ? " (" : "", d ? d : "",
                 d ? (strlen(d) > 300 ? "...)" : ")") : "");
        out = -1;
        if (!statement_failure(pq.PQresultErrorField(res, PG_DIAG_SQLSTATE))) {
            /* not the statement's fault: the copy stops, a rerun finishes it */
            char prefix[120];
            snprintf(prefix, sizeof(prefix), "%.90s%s: ", sql, strlen(sql) > 90 ? "..." : "");
            strata_error e;
            strata_error_clear(&e);
            pg_error_set(&e, STRATA_DB_ERROR, c, res, prefix, 0);
            if (!e.hint[0] || e.code == STRATA_INTERRUPTED)
                err_hint(&e, COPY_RERUN_HINT);
            pthread_mutex_lock(&r->mu);
            run_fail(r, e.code, &e);
            pthread_mutex_unlock(&r->mu);
            out = -2;
        }
    }
    pq.PQclear(res);
    res = pq.PQexec(c, ok ? "RELEASE SAVEPOINT strata_try" : "ROLLBACK TO SAVEPOINT strata_try");
    pq.PQclear(res);
    return out;
}

static strata_code replication_role(PGconn *c, strata_error *err)
{
    PGresult *res = pq.PQexec(c, "SELECT current_setting('session_replication_role')");
    int origin = pq.PQresultStatus(res) != PGRES_TUPLES_OK || pq.PQntuples(res) != 1 ||
                 !strcmp(pq.PQgetvalue(res, 0, 0), "origin");
    char was[32];
    snprintf(was, sizeof(was), "%s", origin ? "origin" : pq.PQgetvalue(res, 0, 0));
    pq.PQclear(res);
    if (origin)
        return STRATA_OK;
    res = pq.PQexec(c, "SET session_replication_role = origin");
    int ok = pq.PQresultStatus(res) == PGRES_COMMAND_OK;
    pq.PQclear(res);
    if (ok)
        return STRATA_OK;
    err_set(
        err, STRATA_CONFIG_ERROR,
        "session_replication_role is '%s' for this session, and this role may not set it back: foreign keys "
        "and triggers would not check the copied rows",
        was);
    err_hint(err, "ALTER ROLE ... RESET session_replication_role (or ALTER DATABASE), or copy as a role that "
                  "may set it; nothing was changed");
    return STRATA_CONFIG_ERROR;
}

static strata_code pg_connect(run *r, PGconn **out, strata_error *err)
{
    /* the one connect of strata (postgres/pg_conn.c): its error formatting,
       password scrubbing and hints */
    PGconn *c = NULL;
    *out = NULL;
    strata_code rc = pg_connect_url(&r->du, NULL, 0, &c, NULL, err);
    if (rc)
        return rc;
    if (pg_is_pooled(c)) {
        /* the copy's session settings, its lock and its snapshot-spanning
           steps need one server session from start to end */
        char *red = strata_url_redact(r->du.conninfo);
        err_set(err, STRATA_POOLER_UNSUPPORTED,
                "%s goes through a connection pooler; strata copy needs a "
                "direct connection",
                red ? red : "the target");
        err_hint(err, "point the target URL at PostgreSQL itself (its own host and port), not at PgBouncer");
        free(red);
        pg_finish(c);
        return STRATA_POOLER_UNSUPPORTED;
    }
    /* SQLite text is UTF-8, and the checksum hashes the bytes the server
       keeps: a database in another encoding would hold other bytes (and
       not every character) -- refused before anything changes. SQL_ASCII
       keeps the bytes it is given */
    const char *enc = pq.PQparameterStatus(c, "server_encoding");
    if (enc && strcmp(enc, "UTF8") && strcmp(enc, "SQL_ASCII")) {
        err_set(err, STRATA_CONFIG_ERROR,
                "the target database's encoding is %s; strata copy needs a UTF8 database", enc);
        err_hint(err,
                 "SQLite text is UTF-8: create the target with 'createdb -E UTF8 -T template0 NAME' (or "
                 "CREATE DATABASE NAME ENCODING 'UTF8' TEMPLATE template0) and copy into it; nothing was "
                 "changed");
        pg_finish(c);
        return STRATA_CONFIG_ERROR;
    }
    /* a role's or database's timeouts must not cut the copy's own long
       statements, or its waits on its own locks (two validations of one
       table's foreign keys). statement_timeout goes first, alone: it still
       applies to the SET itself, and a timeout shorter than a SET on a
       busy server (1 ms) cancels it now and then -- a cancelled SET
       changes nothing, so it is sent again */
    PGresult *res;
    for (int tries = 1;; tries++) {
        res = pq.PQexec(c, "SET statement_timeout = 0");
        const char *state = pq.PQresultErrorField(res, PG_DIAG_SQLSTATE);
        if (pq.PQresultStatus(res) == PGRES_COMMAND_OK || !state || strcmp(state, "57014") || tries == 20)
            break;
        pq.PQclear(res);
    }
    rc = pq.PQresultStatus(res) == PGRES_COMMAND_OK
             ? STRATA_OK
             : copy_pg_error(err, STRATA_DB_ERROR, c, res, "cannot set up the session");
    pq.PQclear(res);
    /* fixed output forms: the checksum expressions rely on them */
    if (!rc)
        rc = copy_exec(c,
                       "SET client_encoding = 'UTF8'; SET DateStyle = 'ISO, YMD'; "
                       "SET TimeZone = 'UTC'; SET IntervalStyle = 'postgres'; "
                       "SET extra_float_digits = 3; SET client_min_messages = warning; "
                       "SET standard_conforming_strings = on; SET bytea_output = 'hex'; "
                       "SET default_transaction_isolation = 'read committed'; "
                       "SET lock_timeout = 0; SET idle_in_transaction_session_timeout = 0",
                       "cannot set up the session", err);
    /* session_replication_role = replica (set for the role or database)
       turns off the foreign keys' and triggers' checks of every row: put
       back where the role may, else refused before anything changes */
    if (!rc)
        rc = replication_role(c, err);
    /* a role's idle_session_timeout (PostgreSQL 14) would end a session
       that waits its turn: the copy's own while the workers load, a
       worker's while the schema is read */
    if (!rc && pq.PQserverVersion(c) >= 140000)
        rc = copy_exec(c, "SET idle_session_timeout = 0", "cannot set up the session", err);
    if (rc) {
        pg_finish(c);
        return rc;
    }
    *out = c;
    return STRATA_OK;
}

/* ------------------------------------------------------------ progress */

/* Under r->mu. */
void copy_progress(run *r, const ctable *t, int force)
{
    if (!r->o->progress)
        return;
    double now = copy_now();
    if (!force && now - r->last_progress < 0.1)
        return;
    r->last_progress = now;
    strata_copy_progress p = {r->phase,         t ? t->dst : NULL, t ? t->rows_done : 0,
                              t ? t->total : 0, r->rows_done,      r->rows_total,
                              r->tables_done,   r->tables_total,   now - r->t0};
    r->o->progress(r->o->userdata, &p);
}

void copy_warn(run *r, const char *fmt, ...)
{
    char msg[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    pthread_mutex_lock(&r->mu);
    cwarn_add(&r->w, "%s", msg);
    pthread_mutex_unlock(&r->mu);
}

/* ------------------------------------------------------------- workers */

/* Opens a read-only connection to the source (as the SQLite engine's
   read-only commands open a file: hot journals, read-only directories),
   waiting --lock-timeout for a writer's lock. */
static strata_code source_open(run *r, sqlite3 **db, strata_error *err)
{
    return sqlite_open_read(r->su.path, !r->su.readonly, lock_timeout_norm(r->o->lock_timeout), db, err);
}

static strata_code begin_read(sqlite3 *db, strata_error *err)
{
    /* BEGIN alone takes no snapshot; the first read does */
    if (sqlite3_exec(db, "BEGIN; SELECT count(*) FROM sqlite_master", NULL, NULL, NULL) != SQLITE_OK) {
        int busy = (sqlite3_extended_errcode(db) & 0xff) == SQLITE_BUSY;
        err_set(err, STRATA_CONNECT_FAILED, "cannot read the SQLite database: %s", sqlite3_errmsg(db));
        if (busy)
            err_hint(err, "another process holds the file locked (a long write, or an EXCLUSIVE lock); "
                          "let it finish, or raise --lock-timeout to wait longer");
        return err->code;
    }
    return STRATA_OK;
}

static long long data_version(sqlite3 *db)
{
    sqlite3_stmt *st = NULL;
    long long v = -1;
    if (sqlite3_prepare_v2(db, "PRAGMA data_version", -1, &st, NULL) == SQLITE_OK &&
        sqlite3_step(st) == SQLITE_ROW)
        v = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    return v;
}

/*
 * One snapshot of the source for the whole copy, so that the tables copied
 * are the source at one moment even while an application writes to it (in
 * WAL mode; in rollback-journal mode the read locks keep writers out while
 * the rows are read, as any reader's do). sdb and the readers (one per job)
 * each start a read transaction; a separate connection's data_version,
 * read before and after, shows whether any commit fell in between: then
 * all ended and tried again. The transactions stay open until the last
 * table's rows are read (copy_source_done; a WAL cannot be checkpointed
 * past them meanwhile).
 */
static strata_code open_snapshot(run *r, strata_error *err)
{
    strata_code rc;
    sqlite3 *probe = NULL;
    r->readers = calloc((size_t)r->jobs, sizeof(*r->readers));
    r->busy = calloc((size_t)r->jobs, 1);
    if (!r->readers || !r->busy)
        return err_set(err, STRATA_NOMEM, "out of memory");
    for (; r->nreaders < r->jobs; r->nreaders++)
        if ((rc = source_open(r, &r->readers[r->nreaders], err)))
            return rc;
    if ((rc = source_open(r, &probe, err)))
        return rc;
    enum { TRIES = 200 };
    int tries = 0;
    for (; tries < TRIES; tries++) {
        long long v0 = data_version(probe);
        rc = begin_read(r->sdb, err);
        for (int i = 0; !rc && i < r->nreaders; i++)
            rc = begin_read(r->readers[i], err);
        if (rc || data_version(probe) == v0)
            break;
        copy_source_done(r);                        /* ends them all; again */
        usleep((useconds_t)(1000 + rand() % 4000)); /* let the writer's burst pass */
    }
    sqlite3_close_v2(probe);
    if (!rc && tries == TRIES) {
        rc = err_set(err, STRATA_CONNECT_FAILED,
                     "the SQLite database changed during each of %d attempts to take one snapshot of it",
                     TRIES);
        err_hint(err, "stop the application's writes while copying");
    }
    return rc;
}

void copy_source_done(run *r)
{
    for (int i = 0; i < r->nreaders; i++)
        if (!sqlite3_get_autocommit(r->readers[i]))
            sqlite3_exec(r->readers[i], "COMMIT", NULL, NULL, NULL);
    if (r->sdb && !sqlite3_get_autocommit(r->sdb))
        sqlite3_exec(r->sdb, "COMMIT", NULL, NULL, NULL);
}

static void close_snapshot(run *r)
{
    for (int i = 0; i < r->nreaders; i++)
        sqlite3_close_v2(r->readers[i]); /* ends its read transaction */
    free(r->readers);
    free(r->busy);
    r->readers = NULL;
    r->busy = NULL;
    r->nreaders = 0;
}

/* Opens target sessions for the workers while the main thread goes on with
   the schema (a session costs a server process and the password exchange:
   here they overlap the schema's reading, not the loads). Up to
   PRECONNECT_MAX of these threads run at once, each opening sessions until
   r->pre_want are open or being opened. A failure stops that thread
   quietly: a worker then connects itself and reports it. */
static void *preconnect_thread(void *arg)
{
    run *r = arg;
    for (;;) {
        pthread_mutex_lock(&r->mu);
        int go = r->pre_taken < r->pre_want && !r->pre_limited;
        r->pre_taken += go;
        pthread_mutex_unlock(&r->mu);
        if (!go || intr_requested())
            return NULL;
        strata_error e;
        strata_error_clear(&e);
        PGconn *c = NULL;
        int rc = pg_connect(r, &c, &e);
        pthread_mutex_lock(&r->mu);
        if (!rc)
            r->spare[r->nspare++] = c;
        else if (pg_conn_full(e.message, e.sqlstate))
            r->pre_limited = 1;
        r->pre_tried++;
        pthread_cond_broadcast(&r->cv);
        pthread_mutex_unlock(&r->mu);
        if (rc)
            return NULL;
    }
}

static void preconnect(run *r, int n)
{
    if (n > r->jobs)
        n = r->jobs;
    if (n < 1 || !(r->spare = calloc((size_t)r->jobs, sizeof(*r->spare))))
        return;
    r->pre_want = n;
    r->pre_taken = r->pre_tried = 0;
    for (r->npre = 0; r->npre < n && r->npre < PRECONNECT_MAX; r->npre++)
        if (pthread_create(&r->pre[r->npre], NULL, preconnect_thread, r) != 0)
            break;
}

/* Waits for the preconnect threads (main thread only). */
static void preconnect_join(run *r)
{
    for (int i = 0; i < r->npre; i++)
        pthread_join(r->pre[i], NULL);
    r->npre = 0;
}

/* Waits until a preconnected session is ready, or every attempt is over
   (main thread only): the schema phase needs to know that a job will have
   a session, not all of them. Returns 1 when a connection limit refused
   them all (the threads are then joined, and r->spare is the caller's). */
static int preconnect_first(run *r)
{
    pthread_mutex_lock(&r->mu);
    while (r->npre && !r->nspare && r->pre_tried < r->pre_want && !r->pre_limited)
        pthread_cond_wait(&r->cv, &r->mu);
    int limited = r->pre_limited;
    pthread_mutex_unlock(&r->mu);
    if (!limited)
        return 0;
    preconnect_join(r); /* the others' attempts too: how many fit */
    return !r->nspare;
}

/* Whether a job will have a target session: a preconnected one, or one
   more try when a connection limit refused them all (one may have become
   free meanwhile). Asked before the schema phase commits. */
static strata_code session_check(run *r, strata_error *err)
{
    if (!preconnect_first(r))
        return STRATA_OK;
    PGconn *c = NULL;
    strata_code rc = pg_connect(r, &c, err);
    if (rc) {
        err_hint_more(err, "nothing was changed");
        return rc;
    }
    r->spare[r->nspare++] = c;
    return STRATA_OK;
}

static strata_code worker_open(worker *w, strata_error *err)
{
    run *r = w->r;
    cconv_init(&w->cv);
    buf_init(&w->out);
    pthread_mutex_lock(&r->mu);
    for (int i = 0; !w->db && i < r->nreaders; i++)
        if (!r->busy[i]) {
            r->busy[i] = 1;
            w->db = r->readers[i];
            w->reader = i;
        }
    if (w->db && r->nspare)
        w->pg = r->spare[--r->nspare];
    pthread_mutex_unlock(&r->mu);
    if (!w->db)
        return err_set(err, STRATA_INTERNAL, "no free source connection");
    return w->pg ? STRATA_OK : pg_connect(r, &w->pg, err);
}

static void worker_close(worker *w)
{
    run *r = w->r;
    if (w->pg) {
        /* an idle, healthy session waits for the next pool's worker */
        int keep = 0;
        pthread_mutex_lock(&r->mu);
        if (!r->stop && r->spare && r->nspare < r->jobs && pq.PQstatus(w->pg) == CONNECTION_OK &&
            pq.PQtransactionStatus(w->pg) == PQTRANS_IDLE) {
            r->spare[r->nspare++] = w->pg;
            keep = 1;
        }
        pthread_mutex_unlock(&r->mu);
        if (!keep)
            pg_finish(w->pg);
    }
    if (w->db) {
        pthread_mutex_lock(&r->mu);
        r->busy[w->reader] = 0;
        pthread_mutex_unlock(&r->mu);
    }
    cconv_release(&w->cv);
    buf_release(&w->out);
}

static void *pool_thread(void *arg)
{
    pool *p = arg;
    run *r = p->r;
    worker w;
    memset(&w, 0, sizeof(w));
    w.r = r;
    strata_error err;
    strata_error_clear(&err);
    strata_code rc = worker_open(&w, &err);
    pthread_mutex_lock(&r->mu);
    if (rc)
        run_fail(r, rc, &err);
    while (!r->stop) {
        if (intr_requested()) {
            run_fail(r, copy_stopped(&err), &err);
            break;
        }
        int pick = -1, waiting = 0, running = 0;
        long long best = 0;
        for (int i = 0; i < p->n; i++) {
            if (p->state[i] == 1)
                running++;
            if (p->state[i] != 0)
                continue;
            waiting++;
            long long wt = p->weight(p, i);
            if (p->ready(p, i) && (pick < 0 || wt > best)) {
                pick = i;
                best = wt;
            }
        }
        if (!waiting)
            break;
        if (pick < 0 && !running) {
            /* a cycle (of foreign keys): run one anyway */
            for (int i = 0; i < p->n && pick < 0; i++)
                if (p->state[i] == 0)
                    pick = i;
        }
        if (pick < 0) {
            pthread_cond_wait(&r->cv, &r->mu);
            continue;
        }
        ctable *t = p->table(p, pick);
        int stage = p->stage ? p->stage(p, pick) : 0;
        p->state[pick] = 1;
        copy_progress(r, t, 1);
        pthread_mutex_unlock(&r->mu);
        strata_error_clear(&err);
        rc = p->fn(&w, p, pick, &err);
        pthread_mutex_lock(&r->mu);
        p->state[pick] = 2;
        p->done[stage]++;
        if (stage == 0 && p->done[0] == p->total[0] && p->total[1]) {
            /* the second stage's items were running already: the report
               now counts them */
            r->phase = p->phase2;
            r->tables_done = p->done[1];
            r->tables_total = p->total[1];
        } else if (r->phase == (stage ? p->phase2 : p->phase)) {
            r->tables_done++;
        }
        copy_progress(r, t, 1);
        if (rc)
            run_fail(r, rc, &err);
        else
            pthread_cond_broadcast(&r->cv);
    }
    pthread_mutex_unlock(&r->mu);
    worker_close(&w);
    return NULL;
}

strata_code pool_run(pool *p, strata_error *err)
{
    run *r = p->r;
    int n = 0;
    p->total[0] = p->total[1] = p->done[0] = p->done[1] = 0;
    for (int i = 0; i < p->n; i++)
        if (p->state[i] == 0) {
            n++;
            p->total[p->stage ? p->stage(p, i) : 0]++;
        }
    if (!n)
        return STRATA_OK;
    preconnect_join(r);
    if (r->pre_limited && r->nspare > 0 && r->nspare < r->jobs) {
        /* a role's or database's connection limit: fewer jobs, not a failure */
        copy_warn(r,
                  "the target's connection limit allows %d session%s besides strata's own: copying with "
                  "%d job%s instead of %d",
                  r->nspare, r->nspare == 1 ? "" : "s", r->nspare, r->nspare == 1 ? "" : "s", r->jobs);
        r->jobs = r->nspare;
    }
    r->pre_limited = 0;
    int jobs = r->jobs < n ? r->jobs : n;
    pthread_t *th = calloc((size_t)jobs, sizeof(*th));
    if (!th)
        return err_set(err, STRATA_NOMEM, "out of memory");
    pthread_mutex_lock(&r->mu);
    int first = p->total[0] ? 0 : 1;
    r->phase = first ? p->phase2 : p->phase;
    r->tables_done = 0;
    r->tables_total = p->total[first];
    r->cur = p;
    r->stop = 0;
    r->rc = STRATA_OK;
    copy_progress(r, NULL, 1);
    pthread_mutex_unlock(&r->mu);
    int started = 0;
    for (int i = 0; i < jobs; i++) {
        if (pthread_create(&th[i], NULL, pool_thread, p) != 0)
            break;
        started++;
    }
    for (int i = 0; i < started; i++)
        pthread_join(th[i], NULL);
    free(th);
    r->cur = NULL;
    if (!started)
        return err_set(err, STRATA_INTERNAL, "cannot start a thread");
    return run_error(r, err);
}

/* tables as pool items (the check phase) */
static int table_ready(pool *p, int i)
{
    (void)p, (void)i;
    return 1;
}

static long long table_weight(pool *p, int i)
{
    return p->r->s.t[i].total;
}

static ctable *table_of(pool *p, int i)
{
    return &p->r->s.t[i];
}

static strata_code table_fn(worker *w, pool *p, int i, strata_error *err)
{
    return p->tfn(w, &p->r->s.t[i], err);
}

static strata_code run_pool(run *r, const char *phase, task_fn fn, int *want, strata_error *err)
{
    int *state = calloc((size_t)r->s.n + 1, sizeof(int));
    if (!state)
        return err_set(err, STRATA_NOMEM, "out of memory");
    for (int i = 0; i < r->s.n; i++)
        state[i] = want[i] ? 0 : 2;
    pool p = {r,    r->s.n, state, table_ready, table_weight, table_of, table_fn,
              NULL, phase,  NULL,  {0, 0},      {0, 0},       fn,       NULL};
    strata_code rc = pool_run(&p, err);
    free(state);
    return rc;
}

/* ------------------------------------------------------- target schema */

static int pg_kind(const char *typname, int typmod, ctype *t)
{
    static const struct {
        const char *name;
        int kind;
    } m[] = {{"int2", K_INT2},
             {"int4", K_INT4},
             {"int8", K_INT8},
             {"float4", K_FLOAT4},
             {"float8", K_FLOAT8},
             {"numeric", K_NUMERIC},
             {"text", K_TEXT},
             {"varchar", K_VARCHAR},
             {"bpchar", K_BPCHAR},
             {"bytea", K_BYTEA},
             {"bool", K_BOOL},
             {"date", K_DATE},
             {"time", K_TIME},
             {"timestamp", K_TIMESTAMP},
             {"timestamptz", K_TIMESTAMPTZ},
             {"json", K_JSON},
             {"jsonb", K_JSONB},
             {"uuid", K_UUID},
             {NULL, 0}};
    t->kind = K_OTHER;
    t->len = t->prec = t->scale = -1;
    for (int i = 0; m[i].name; i++)
        if (!strcmp(m[i].name, typname))
            t->kind = m[i].kind;
    if ((t->kind == K_VARCHAR || t->kind == K_BPCHAR) && typmod >= 4)
        t->len = typmod - 4;
    if (t->kind == K_NUMERIC && typmod >= 4) {
        t->prec = ((typmod - 4) >> 16) & 0xffff;
        t->scale = (typmod - 4) & 0xffff;
    }
    if ((t->kind == K_TIME || t->kind == K_TIMESTAMP || t->kind == K_TIMESTAMPTZ) && typmod >= 0 &&
        typmod < 6)
        t->prec = typmod; /* time(p) rounds: a value with more digits is refused (copy_value.c) */
    return t->kind;
}

/* Replaces t's columns with the target table's, matched to the source
   columns by name. */
static strata_code match_target(run *r, ctable *t, strata_error *err)
{
    char oid[16];
    snprintf(oid, sizeof(oid), "%u", t->oid);
    const char *params[1] = {oid};
    PGresult *res = copy_query(r->ctl,
                               "SELECT a.attname, format_type(a.atttypid, a.atttypmod), "
                               "CASE WHEN ty.typtype = 'd' THEN '' ELSE ty.typname END, a.atttypmod, "
                               "a.attnotnull, a.attgenerated <> '', a.atthasdef OR a.attidentity <> '' "
                               "FROM pg_attribute a JOIN pg_type ty ON ty.oid = a.atttypid "
                               "WHERE a.attrelid = $1::oid AND a.attnum > 0 AND NOT a.attisdropped "
                               "ORDER BY a.attnum",
                               1, params, "cannot read the target's columns", err);
    if (!res)
        return err->code;
    int n = pq.PQntuples(res);
    ccol *cols = calloc((size_t)(n ? n : 1), sizeof(ccol));
    if (!cols) {
        pq.PQclear(res);
        return err_set(err, STRATA_NOMEM, "out of memory");
    }
    int *used = calloc((size_t)(t->ncols ? t->ncols : 1), sizeof(int));
    int dflt_missing = 0; /* 1 + the first NOT NULL target column with no value to take */
    for (int i = 0; i < n; i++) {
        ccol *c = &cols[i];
        c->dst = xstrdup(pq.PQgetvalue(res, i, 0));
        c->src = xstrdup(c->dst);
        c->pgtype = xstrdup(pq.PQgetvalue(res, i, 1));
        c->decl = xstrdup("");
        pg_kind(pq.PQgetvalue(res, i, 2), atoi(pq.PQgetvalue(res, i, 3)), &c->t);
        c->notnull = pq.PQgetvalue(res, i, 4)[0] == 't';
        int generated = pq.PQgetvalue(res, i, 5)[0] == 't';
        c->srcidx = -1;
        if (generated) {
            c->generated = 1; /* computed by PostgreSQL: never loaded */
            continue;
        }
        /* exact name, then the names rule, then any case */
        for (int pass = 0; pass < 3 && c->srcidx < 0; pass++) {
            for (int k = 0; k < t->ncols && c->srcidx < 0; k++) {
                if (used && used[k])
                    continue;
                char *m = pass == 1 ? copy_name(t->cols[k].src, r->o->keep_case) : NULL;
                int hit = pass == 0   ? !strcmp(t->cols[k].src, c->dst)
                          : pass == 1 ? (m && !strcmp(m, c->dst))
                                      : !c_strcasecmp(t->cols[k].src, c->dst);
                free(m);
                if (hit) {
                    c->srcidx = k;
                    if (used)
                        used[k] = 1;
                }
            }
        }
        if (c->srcidx >= 0 && c->t.kind == K_OTHER)
            t->text_copy = 1;
        if (c->srcidx < 0 && c->notnull && pq.PQgetvalue(res, i, 6)[0] != 't' && !dflt_missing)
            dflt_missing = i + 1;
        else if (c->srcidx < 0 && !r->data_only)
            /* a table an earlier copy created: the source lost a column */
            copy_warn(r,
                      "column \"%s\" of target table \"%s\" has no column in SQLite table \"%s\" (gone "
                      "since an earlier copy?): its rows get its default",
                      c->dst, t->dst, t->src);
    }
    strata_code rc = STRATA_OK;
    if (dflt_missing) {
        /* every row would fail the COPY: said before anything changes */
        rc = err_set(err, STRATA_CONFIG_ERROR,
                     "column \"%s\" of target table \"%s\" is NOT NULL with no default, and SQLite table "
                     "\"%s\" has no column for it",
                     pq.PQgetvalue(res, dflt_missing - 1, 0), t->dst, t->src);
        err_hint(err, "give the target column a default or allow NULL in it, or add the column to the SQLite "
                      "table; nothing was changed");
    }
    pq.PQclear(res);
    for (int k = 0; !rc && used && k < t->ncols; k++) {
        if (used[k])
            continue;
        int target_generated = 0;
        for (int i = 0; i < n; i++)
            target_generated |= cols[i].generated && !c_strcasecmp(cols[i].dst, t->cols[k].src);
        if (t->cols[k].generated) {
            /* derived values: PostgreSQL computes its own, or there is nothing to hold them */
            if (!target_generated)
                copy_warn(r,
                          "generated column \"%s\" of SQLite table \"%s\" is not copied: target table \"%s\" "
                          "has no such column (its values are computed from the others)",
                          t->cols[k].src, t->src, t->dst);
            continue;
        }
        if (target_generated) {
            rc = err_set(err, STRATA_CONFIG_ERROR,
                         "column \"%s\" of SQLite table \"%s\" holds data, but in target table \"%s\" it is "
                         "a generated column, which cannot be loaded",
                         t->cols[k].src, t->src, t->dst);
            err_hint(err, "make it a plain column in the target, or leave the table out with --exclude");
            break;
        }
        rc = err_set(err, STRATA_CONFIG_ERROR,
                     "column \"%s\" of SQLite table \"%s\" has no column in target table \"%s\"",
                     t->cols[k].src, t->src, t->dst);
        if (r->data_only)
            err_hint(err, "bring the target schema up to date (strata up), or leave the table out with "
                          "--exclude; strata copy never drops a column's data silently");
        else
            err_hint(err, "the SQLite table has gained a column since an earlier copy created the target "
                          "table: add the column to it, or drop it so that the copy creates it again, or "
                          "leave the table out with --exclude; strata copy never drops a column's data "
                          "silently");
        break;
    }
    free(used);
    t->scols = t->cols;
    t->nscols = t->ncols;
    t->cols = cols;
    t->capcols = (size_t)(n ? n : 1);
    t->ncols = n;
    /* keep what the source knew about the columns that matter after the load */
    for (int i = 0; i < n; i++) {
        if (cols[i].srcidx < 0)
            continue;
        ccol *sc = &t->scols[cols[i].srcidx];
        cols[i].identity = sc->identity;
        cols[i].pk = sc->pk;
        cols[i].nocase = sc->nocase;
        cols[i].rtrim = sc->rtrim;
        cols[i].generated = sc->generated;
        free(cols[i].src);
        cols[i].src = xstrdup(sc->src);
    }
    return rc;
}

static strata_code lookup_oid(run *r, ctable *t, strata_error *err)
{
    buf b;
    buf_init(&b);
    qname(&b, t->dst);
    const char *params[1] = {b.data};
    PGresult *res = copy_query(r->ctl, "SELECT coalesce(to_regclass($1)::oid, 0)", 1, params,
                               "cannot look up a target table", err);
    buf_release(&b);
    if (!res)
        return err->code;
    t->oid = (unsigned)strtoul(pq.PQgetvalue(res, 0, 0), NULL, 10);
    pq.PQclear(res);
    return STRATA_OK;
}

static int find_oid(run *r, unsigned oid)
{
    for (int i = 0; i < r->s.n; i++)
        if (r->s.t[i].oid == oid)
            return i;
    return -1;
}

/* Foreign keys of the target among (and into) the copied tables. */
static strata_code read_target_fks(run *r, int *external, strata_error *err)
{
    PGresult *res = copy_query(r->ctl,
                               "SELECT conrelid::oid, confrelid::oid, conrelid::regclass::text "
                               "FROM pg_constraint WHERE contype = 'f'",
                               0, NULL, "cannot read the target's foreign keys", err);
    if (!res)
        return err->code;
    for (int i = 0; i < r->s.n; i++) {
        free(r->s.t[i].deps);
        r->s.t[i].deps = NULL;
        r->s.t[i].ndeps = 0;
        r->s.t[i].capdeps = 0;
        r->s.t[i].referenced = 0;
        external[i] = 0;
    }
    for (int i = 0; i < pq.PQntuples(res); i++) {
        int child = find_oid(r, (unsigned)strtoul(pq.PQgetvalue(res, i, 0), NULL, 10));
        int parent = find_oid(r, (unsigned)strtoul(pq.PQgetvalue(res, i, 1), NULL, 10));
        if (parent < 0)
            continue;
        r->s.t[parent].referenced = 1;
        if (child < 0) {
            external[parent] = 1;
            continue;
        }
        if (child == parent)
            continue;
        ctable *c = &r->s.t[child];
        if (!ARR_GROW(c->deps, c->capdeps, (size_t)c->ndeps + 1))
            c->deps[c->ndeps++] = parent;
    }
    pq.PQclear(res);
    return STRATA_OK;
}

/* ------------------------------------------------ schema (default mode) */

/* A literal default (number, string, NULL, TRUE/FALSE, blob X'..'), possibly
   signed or in parentheses: the SQLite text of the literal, else NULL. */
static int literal_default(const char *d, char *out, size_t outsz, int *is_string, int *is_null)
{
    const char *s = d;
    size_t n = strlen(s);
    while (n >= 2 && s[0] == '(' && s[n - 1] == ')') {
        s++;
        n -= 2;
    }
    while (n && (*s == ' '))
        s++, n--;
    while (n && s[n - 1] == ' ')
        n--;
    *is_string = *is_null = 0;
    if (n == 4 && !c_strncasecmp(s, "NULL", 4)) {
        *is_null = 1;
        return 0;
    }
    if (n == 4 && !c_strncasecmp(s, "TRUE", 4)) {
        snprintf(out, outsz, "1");
        return 0;
    }
    if (n == 5 && !c_strncasecmp(s, "FALSE", 5)) {
        snprintf(out, outsz, "0");
        return 0;
    }
    if (n >= 2 && s[0] == '\'' && s[n - 1] == '\'') {
        /* one string literal with '' escapes only */
        size_t k = 0;
        for (size_t i = 1; i + 1 < n; i++) {
            if (s[i] == '\'') {
                if (s[i + 1] != '\'' || i + 2 >= n)
                    return -1;
                i++;
            }
            if (k + 1 >= outsz)
                return -1;
            out[k++] = s[i];
        }
        out[k] = 0;
        *is_string = 1;
        return 0;
    }
    if (n >= 3 && (s[0] == 'x' || s[0] == 'X') && s[1] == '\'' && s[n - 1] == '\'') {
        /* a blob: converted as a value of the column's type is (a blob
           fits bytea, not text), as its rows are */
        for (size_t k = 2; k + 1 < n; k++)
            if (!isxdigit((unsigned char)s[k]))
                return -1;
    } else { /* a number */
        size_t i = 0;
        if (i < n && (s[i] == '-' || s[i] == '+'))
            i++;
        if (i == n)
            return -1;
        for (size_t k = i; k < n; k++)
            if (!strchr("0123456789.eE+-", s[k]))
                return -1;
    }
    if (n >= outsz)
        return -1;
    memcpy(out, s, n);
    out[n] = 0;
    return 0;
}

static void set_defaults(run *r, ctable *t, cconv *cv)
{
    char why[300];
    for (int i = 0; i < t->ncols; i++) {
        ccol *c = &t->cols[i];
        if (!c->dflt || c->identity)
            continue;
        buf e, sql;
        buf_init(&e);
        buf_init(&sql);
        char lit[512];
        int is_string, is_null;
        int ok;
        if (!literal_default(c->dflt, lit, sizeof(lit), &is_string, &is_null)) {
            ok = !conv_literal(cv, &c->t, c->decl, lit, is_string, is_null, &e);
            if (!ok)
                snprintf(why, sizeof(why), "%s", cv->why[0] ? cv->why : "not a valid literal");
        } else {
            ok = !expr_translate(c->dflt, strlen(c->dflt), &r->s, t, c->t.kind, r->o->keep_case, &e, why,
                                 sizeof(why));
        }
        if (ok) {
            buf_adds(&sql, "ALTER TABLE ");
            qname(&sql, t->dst);
            buf_adds(&sql, " ALTER COLUMN ");
            qname(&sql, c->dst);
            buf_adds(&sql, " SET DEFAULT ");
            cbuf_add(&sql, e.data ? e.data : "", e.len);
            /* -2: the copy stopped, with its own error; no warning */
            ok = copy_try_sql(r, r->ctl, sql.data ? sql.data : "", why, sizeof(why)) != -1;
        }
        if (!ok)
            cwarn_add(&r->w, "default of \"%s\".\"%s\" not carried over: DEFAULT %s (%s)", t->dst, c->dst,
                      c->dflt, why);
        buf_release(&e);
        buf_release(&sql);
    }
}

#define STATE_TABLE_DDL                                                                    \
    "CREATE TABLE IF NOT EXISTS " STATE_TABLE " (kind text NOT NULL, name text NOT NULL, " \
    "source_rows bigint, checksum text, loaded_at timestamptz, PRIMARY KEY (kind, name))"

/* The bookkeeping of earlier runs, when there is any (the table is made in
   the schema phase's transaction: a run refused before it commits leaves
   the target as it was). */
static strata_code read_state(run *r, strata_error *err)
{
    PGresult *res = copy_query(r->ctl, "SELECT to_regclass('" STATE_TABLE "') IS NOT NULL", 0, NULL,
                               "cannot read " STATE_TABLE, err);
    if (!res)
        return err->code;
    int exists = !strcmp(pq.PQgetvalue(res, 0, 0), "t");
    pq.PQclear(res);
    r->state_new = !exists;
    if (!exists)
        return STRATA_OK;
    res = copy_query(r->ctl, "SELECT name, source_rows, checksum FROM " STATE_TABLE " WHERE kind = 'table'",
                     0, NULL, "cannot read " STATE_TABLE, err);
    if (!res)
        return err->code;
    for (int i = 0; i < pq.PQntuples(res); i++) {
        const char *name = pq.PQgetvalue(res, i, 0);
        int found = 0;
        for (int k = 0; k < r->s.n; k++) {
            ctable *t = &r->s.t[k];
            if (strcmp(t->dst, name) != 0)
                continue;
            found = 1;
            t->rec_exists = 1;
            if (!pq.PQgetisnull(res, i, 2)) {
                t->rec_sum = xstrdup(pq.PQgetvalue(res, i, 2));
                t->rec_rows = atoll(pq.PQgetvalue(res, i, 1));
            }
        }
        /* an earlier run named the tables the other way (with or without
           --keep-case): this one would copy each again beside them */
        for (int k = 0; !found && k < r->s.n; k++) {
            char *other = copy_name(r->s.t[k].src, !r->o->keep_case);
            int same = other && !strcmp(other, name);
            free(other);
            if (!same)
                continue;
            err_set(err, STRATA_CONFIG_ERROR,
                    "an earlier run copied table \"%s\" as \"%s\"%s; this run would copy it again beside it, "
                    "as \"%s\"",
                    r->s.t[k].src, name, r->o->keep_case ? " (without --keep-case)" : " (with --keep-case)",
                    r->s.t[k].dst);
            err_hint(err, "run it %s --keep-case, as the earlier run did, or drop the tables it made first",
                     r->o->keep_case ? "without" : "with");
            pq.PQclear(res);
            return STRATA_CONFIG_ERROR;
        }
        /* an earlier run copied it, and the source no longer has it (with
           --tables or --exclude, it may only be left out of this run) */
        if (!found && !r->o->ntables && !r->o->nexclude)
            copy_warn(r,
                      "table \"%s\" was copied by an earlier run, and the source no longer has it: it is "
                      "left as it was (drop it in the target if it should go)",
                      name);
    }
    pq.PQclear(res);
    return STRATA_OK;
}

/* Applied (version, checksum) pairs of the version table, sorted, one per
   line; from SQLite (db) or PostgreSQL (c). */
static char *applied_list(run *r, sqlite3 *db, PGconn *c, const char *table, char **newest)
{
    buf q, out;
    buf_init(&q);
    buf_init(&out);
    buf_adds(&q, "SELECT version, checksum FROM ");
    qname(&q, table);
    buf_adds(&q, " WHERE state = 'applied' ORDER BY length(version), version");
    if (newest)
        *newest = NULL;
    if (db) {
        sqlite3_stmt *st = NULL;
        if (q.data && sqlite3_prepare_v2(db, q.data, -1, &st, NULL) == SQLITE_OK) {
            while (sqlite3_step(st) == SQLITE_ROW) {
                const char *v = (const char *)sqlite3_column_text(st, 0);
                const char *ck = (const char *)sqlite3_column_text(st, 1);
                const char *vv = v ? v : "";
                while (*vv == '0' && vv[1])
                    vv++;
                buf_addf(&out, "%s %s\n", vv, ck ? ck : "");
                if (newest) {
                    free(*newest);
                    *newest = xstrdup(v);
                }
            }
        }
        sqlite3_finalize(st);
    } else {
        PGresult *res = pq.PQexec(c, q.data ? q.data : "");
        if (pq.PQresultStatus(res) == PGRES_TUPLES_OK)
            for (int i = 0; i < pq.PQntuples(res); i++) {
                const char *vv = pq.PQgetvalue(res, i, 0);
                while (*vv == '0' && vv[1])
                    vv++;
                buf_addf(&out, "%s %s\n", vv, pq.PQgetvalue(res, i, 1));
            }
        pq.PQclear(res);
    }
    buf_release(&q);
    (void)r;
    return buf_detach(&out);
}

static strata_code schema_phase(run *r, strata_error *err)
{
    strata_code rc;
    cconv cv;
    cconv_init(&cv);
    for (int i = 0; i < r->s.n; i++) {
        if ((rc = lookup_oid(r, &r->s.t[i], err)))
            goto out;
        /* a table an earlier run created: its columns are what they are */
        if (r->s.t[i].oid)
            r->s.t[i].from_target = 1;
    }
    /* the version table: PostgreSQL's own definition; data-only: only when
       the target is not already at the same version */
    for (int i = 0; i < r->s.n; i++) {
        ctable *t = &r->s.t[i];
        if (!t->version_table)
            continue;
        t->from_target = 1;
        if (!t->oid)
            continue;
        if (r->data_only || !t->rec_exists) {
            char *a = applied_list(r, r->sdb, NULL, t->src, &r->version);
            char *b = applied_list(r, NULL, r->ctl, t->dst, NULL);
            if (a && b && !strcmp(a, b)) {
                t->skip_data = 1;
            } else if (b && b[0]) {
                err_set(err, STRATA_CONFIG_ERROR,
                        "the target's version table \"%s\" differs from the source's (source at %s)", t->dst,
                        r->version ? r->version : "base");
                err_hint(err, "bring the target to the source's version first (strata up TARGET), "
                              "or drop the target's version table");
                free(a);
                free(b);
                rc = STRATA_CONFIG_ERROR;
                goto out;
            }
            free(a);
            free(b);
        }
    }
    if (r->data_only) {
        buf missing;
        buf_init(&missing);
        for (int i = 0; i < r->s.n; i++) {
            ctable *t = &r->s.t[i];
            if (!t->oid && !t->version_table)
                buf_addf(&missing, "%s\"%s\"", missing.len ? ", " : "", t->dst);
        }
        if (missing.len) {
            err_set(err, STRATA_CONFIG_ERROR, "--data-only: the target has no table %s", missing.data);
            err_hint(err, "create the schema first (strata up on the target), or leave the tables out "
                          "with --exclude");
            buf_release(&missing);
            rc = STRATA_CONFIG_ERROR;
            goto out;
        }
        buf_release(&missing);
    } else {
        for (int i = 0; i < r->s.n; i++) {
            ctable *t = &r->s.t[i];
            if (t->oid && !t->rec_exists && !t->version_table) {
                err_set(err, STRATA_CONFIG_ERROR,
                        "table \"%s\" already exists in the target and was not created by strata copy",
                        t->dst);
                err_hint(err, "drop it first, or load into the existing tables with --data-only");
                rc = STRATA_CONFIG_ERROR;
                goto out;
            }
        }
        if (r->o->on_bad_value == STRATA_BAD_VALUE_TEXT)
            for (int i = 0; i < r->s.n; i++)
                if (!r->s.t[i].oid && !r->s.t[i].version_table && (rc = widen_columns(r, &r->s.t[i], err)))
                    goto out;
    }
    if ((rc = copy_names(r, err)))
        goto out;
    /* --schema-only: a primary key on empty tables is always made, and the
       rows copied later could not come in; a normal copy finds them and
       keeps a unique index instead, and so does this one */
    for (int i = 0; r->schema_only && i < r->s.n; i++) {
        ctable *t = &r->s.t[i];
        for (int k = 0; !t->version_table && !t->pk_null && k < t->ncols; k++) {
            const ccol *c = &t->cols[k];
            if (!c->pk || c->identity || c->srcidx < 0)
                continue;
            buf q;
            buf_init(&q);
            buf_adds(&q, "SELECT 1 FROM ");
            buf_add_quoted_ident(&q, t->src);
            buf_adds(&q, " WHERE ");
            buf_add_quoted_ident(&q, c->src);
            buf_adds(&q, " IS NULL LIMIT 1");
            sqlite3_stmt *st = NULL;
            if (q.data && sqlite3_prepare_v2(r->sdb, q.data, -1, &st, NULL) == SQLITE_OK &&
                sqlite3_step(st) == SQLITE_ROW)
                t->pk_null = xstrdup(c->dst);
            sqlite3_finalize(st);
            buf_release(&q);
        }
    }
    /* create what is missing, in one transaction */
    if ((rc = copy_exec(r->ctl, "BEGIN", "cannot create the tables", err)))
        goto out;
    if ((rc = copy_exec(r->ctl, STATE_TABLE_DDL, "cannot create the bookkeeping table " STATE_TABLE, err))) {
        if (err && !strcmp(err->sqlstate, "42501") && !err->hint[0])
            err_hint(err,
                     "the copy creates its tables in the target's first schema on the search path: the role "
                     "needs CREATE on it (PostgreSQL 15 no longer grants CREATE on public to every role: "
                     "GRANT CREATE ON SCHEMA public TO ...); nothing was changed");
        goto fail;
    }
    for (int i = 0; i < r->s.n; i++) {
        ctable *t = &r->s.t[i];
        if (t->oid)
            continue;
        buf b;
        buf_init(&b);
        if (t->version_table) {
            char *qtable = ident_dup(t->dst);
            sqlgen_create_table(&b, DIALECT_POSTGRES, qtable ? qtable : "");
            b.oom |= !qtable;
            free(qtable);
        } else
            ddl_create_table(t, &b);
        char what[300];
        snprintf(what, sizeof(what), "cannot create table \"%s\"", t->dst);
        rc = b.oom ? err_set(err, STRATA_NOMEM, "out of memory") : copy_exec(r->ctl, b.data, what, err);
        buf_release(&b);
        if (rc)
            goto fail;
        if (!t->version_table)
            set_defaults(r, t, &cv);
        for (int n = 0; n < t->nchecks && !t->version_table; n++) {
            buf cb;
            char *cname, why[600];
            int k = check_sql(r, t, n, &cb, &cname, why, sizeof(why))
                        ? -1
                        : copy_try_sql(r, r->ctl, cb.data, why, sizeof(why));
            buf_release(&cb);
            free(cname);
            if (k == -2) { /* not the CHECK's fault: the connection, a timeout */
                rc = run_error(r, err);
                goto fail;
            }
            /* -1: finish_table tries again after the rows, and warns */
        }
        const char *params[1] = {t->dst};
        PGresult *res = copy_query(r->ctl,
                                   "INSERT INTO " STATE_TABLE " (kind, name) VALUES ('table', $1) "
                                   "ON CONFLICT (kind, name) DO UPDATE SET checksum = NULL",
                                   1, params, what, err);
        if (!res) {
            rc = err->code;
            goto fail;
        }
        pq.PQclear(res);
        free(t->rec_sum);
        t->rec_sum = NULL;
        t->rec_exists = 1;
        if ((rc = lookup_oid(r, t, err)))
            goto fail;
    }
    /* the existing tables matched before the new ones commit: a mismatch
       leaves the target as it was */
    for (int i = 0; i < r->s.n; i++) {
        ctable *t = &r->s.t[i];
        if ((r->data_only || t->from_target) && (rc = match_target(r, t, err)))
            goto fail;
        if (r->data_only)
            t->from_target = 1;
    }
    /* a connection limit that leaves no session for a job: said before the
       target changes (it created the tables, then failed) */
    if ((rc = session_check(r, err)))
        goto fail;
    rc = copy_exec(r->ctl, "COMMIT", "cannot create the tables", err);
    goto out;
fail:
    copy_rollback(r->ctl);
out:
    cconv_release(&cv);
    return rc;
}

/* ------------------------------------------------------------- the run */

static int name_listed(const char *name, const char *const *list, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (list[i] && !c_strcasecmp(list[i], name))
            return 1;
    return 0;
}

static int col_named(const ctable *t, const char *name)
{
    for (int c = 0; c < t->ncols; c++)
        if (!strcmp(t->cols[c].src, name))
            return 1;
    return 0;
}

/* CONFIG_ERROR when the target name of a source object would be cut by
   PostgreSQL (63 bytes); 0 otherwise. */
static int too_long(run *r, const char *what, const char *table, const char *name, strata_error *err)
{
    char *dst = copy_name(name, r->o->keep_case);
    int bad = dst && strlen(dst) > 63;
    free(dst);
    if (!bad)
        return 0;
    if (table)
        err_set(err, STRATA_CONFIG_ERROR, "%s name \"%s\" (on \"%s\") is longer than PostgreSQL's 63 bytes",
                what, name, table);
    else
        err_set(err, STRATA_CONFIG_ERROR, "%s name \"%s\" is longer than PostgreSQL's 63 bytes", what, name);
    err_hint(err, "PostgreSQL would cut it (two names could become one); rename it in the SQLite file first; "
                  "nothing was changed");
    return 1;
}

/* 1, with err set, when name is not UTF-8 (PostgreSQL refuses it half-way
   through the schema, as an unnamed "invalid byte sequence"): named, its
   other bytes as \xNN. */
static int bad_utf8(const char *what, const char *table, const char *name, strata_error *err)
{
    size_t at;
    if (!name || utf8_check((const unsigned char *)name, strlen(name), &at) >= 0)
        return 0;
    buf shown;
    buf_init(&shown);
    for (const unsigned char *p = (const unsigned char *)name; *p; p++)
        if (*p < 0x20 || *p >= 0x80)
            buf_addf(&shown, "\\x%02x", *p);
        else
            buf_add(&shown, (const char *)p, 1);
    if (table)
        err_set(err, STRATA_CONFIG_ERROR, "%s name \"%s\" (on \"%s\") is not valid UTF-8", what,
                shown.data ? shown.data : "?", table);
    else
        err_set(err, STRATA_CONFIG_ERROR, "%s name \"%s\" is not valid UTF-8", what,
                shown.data ? shown.data : "?");
    err_hint(err, "PostgreSQL names are text in the database's encoding: rename it in the SQLite file first "
                  "(ALTER TABLE ... RENAME); nothing was changed");
    buf_release(&shown);
    return 1;
}

/* the table is copied: named by --tables (or none given; strata's version
   table always), not by --exclude */
static int table_kept(const strata_copy_opts *o, const ctable *t)
{
    return (!o->ntables || name_listed(t->src, o->tables, o->ntables) || t->version_table) &&
           !name_listed(t->src, o->exclude, o->nexclude);
}

static strata_code select_tables(run *r, strata_error *err)
{
    const strata_copy_opts *o = r->o;
    for (size_t i = 0; i < o->ntables; i++)
        if (schema_find(&r->s, o->tables[i]) < 0)
            return err_set(err, STRATA_USAGE, "--tables: the source has no table '%s'", o->tables[i]);
    for (size_t i = 0; i < o->nexclude; i++)
        if (schema_find(&r->s, o->exclude[i]) < 0)
            return err_set(err, STRATA_USAGE, "--exclude: the source has no table '%s'", o->exclude[i]);
    /* checked first, moved after: a refusal half-way through the moves
       would leave two slots holding one table (freed twice) */
    for (int i = 0; i < r->s.n; i++) {
        ctable *t = &r->s.t[i];
        if (!table_kept(o, t))
            continue;
        if (!strcmp(t->dst, STATE_TABLE)) {
            /* the user's table would meet copy's bookkeeping in the target:
               refused by name, never skipped */
            err_set(err, STRATA_CONFIG_ERROR,
                    "the source table \"%s\" would be copied to \"" STATE_TABLE
                    "\", the table in which strata copy keeps its progress in the target",
                    t->src);
            err_hint(err, "rename it in the source, or leave it out with --exclude \"%s\"", t->src);
            return err->code;
        }
        if (t->version_table && !(col_named(t, "version") && col_named(t, "checksum"))) {
            /* copied as strata's bookkeeping it would fail half-way: said now */
            err_set(err, STRATA_CONFIG_ERROR,
                    "the source table \"%s\" has the name of strata's version table but not its columns "
                    "(version, checksum)",
                    t->src);
            err_hint(err, "rename it in the source, or leave it out with --exclude \"%s\"", t->src);
            return err->code;
        }
    }
    int k = 0;
    for (int i = 0; i < r->s.n; i++) {
        ctable *t = &r->s.t[i];
        if (!table_kept(o, t)) {
            table_release(t);
            continue;
        }
        if (k != i)
            r->s.t[k] = *t;
        k++;
    }
    r->s.n = k;
    /* names that PostgreSQL would refuse or cut */
    for (int i = 0; i < r->s.n; i++) {
        ctable *t = &r->s.t[i];
        if (bad_utf8("table", NULL, t->src, err))
            return err->code;
        if (strlen(t->dst) > 63)
            return err_set(err, STRATA_CONFIG_ERROR, "table name \"%s\" is longer than PostgreSQL's 63 bytes",
                           t->src);
        for (int c = 0; c < t->ncols; c++) {
            static const char *const sys[] = {"tableoid", "xmin", "cmin", "xmax", "cmax", "ctid", NULL};
            const char *d = t->cols[c].dst;
            if (bad_utf8("column", t->src, t->cols[c].src, err))
                return err->code;
            if (strlen(d) > 63)
                return err_set(err, STRATA_CONFIG_ERROR,
                               "column name \"%s\".\"%s\" is longer than PostgreSQL's 63 bytes", t->src,
                               t->cols[c].src);
            int taken = !*d;
            for (int y = 0; !taken && sys[y]; y++)
                taken = !strcmp(d, sys[y]);
            if (taken) {
                /* CREATE TABLE would fail half-way through the schema */
                if (*d)
                    err_set(err, STRATA_CONFIG_ERROR,
                            "column \"%s\".\"%s\" has the name of a PostgreSQL system column (%s)", t->src,
                            t->cols[c].src, d);
                else
                    err_set(err, STRATA_CONFIG_ERROR,
                            "column \"%s\".\"%s\" has an empty name, which PostgreSQL does not allow", t->src,
                            t->cols[c].src);
                err_hint(err, "rename the column in the source (ALTER TABLE ... RENAME COLUMN), or leave the "
                              "table out with --exclude");
                return err->code;
            }
        }
        /* cut, two indexes could become one (CREATE INDEX IF NOT EXISTS
           skipped the second), a constraint fail as "already exists" */
        for (int x = 0; x < t->nidx; x++)
            if (bad_utf8("index", t->src, t->idx[x].name, err) ||
                (t->idx[x].origin == 'c' && too_long(r, "index", t->src, t->idx[x].name, err)))
                return err->code;
        for (int x = 0; x < t->nchecks; x++)
            if (bad_utf8("CHECK constraint", t->src, t->checks[x].name, err) ||
                (t->checks[x].name && too_long(r, "CHECK constraint", t->src, t->checks[x].name, err)))
                return err->code;
        for (int x = 0; x < t->nfks; x++)
            if (bad_utf8("foreign key", t->src, t->fks[x].name, err) ||
                (t->fks[x].name && too_long(r, "foreign key", t->src, t->fks[x].name, err)))
                return err->code;
    }
    for (int i = 0; i < r->s.nviews; i++)
        if (bad_utf8("view", NULL, r->s.views[2 * i], err) ||
            too_long(r, "view", NULL, r->s.views[2 * i], err))
            return err->code;
    return STRATA_OK;
}

/* The row count of every table (the pools' weights, the progress totals),
   read on db in the snapshot. */
static strata_code count_rows(run *r, sqlite3 *db, strata_error *err)
{
    for (int i = 0; i < r->s.n && !intr_requested(); i++) {
        ctable *t = &r->s.t[i];
        buf q;
        buf_init(&q);
        buf_adds(&q, "SELECT count(*) FROM ");
        qname(&q, t->src);
        sqlite3_stmt *st = NULL;
        if (q.oom || sqlite3_prepare_v2(db, q.data, -1, &st, NULL) != SQLITE_OK ||
            sqlite3_step(st) != SQLITE_ROW) {
            strata_code rc = err_set(err, STRATA_DB_ERROR, "cannot count the rows of \"%s\": %s", t->src,
                                     sqlite3_errmsg(db));
            sqlite3_finalize(st);
            buf_release(&q);
            return rc;
        }
        t->total = sqlite3_column_int64(st, 0);
        sqlite3_finalize(st);
        buf_release(&q);
    }
    return STRATA_OK;
}

/* The counting runs beside the schema phase, on the first reader (unused
   until the pools start): a large table's count reads megabytes. Nothing
   reads a table's total before count_join. */
static void *count_thread(void *arg)
{
    run *r = arg;
    r->count_rc = count_rows(r, r->readers[0], &r->count_err);
    return NULL;
}

static void count_start(run *r)
{
    r->counting = pthread_create(&r->counter, NULL, count_thread, r) == 0;
    if (!r->counting)
        r->count_rc = count_rows(r, r->readers[0], &r->count_err);
}

/* Waits for the count; its error, if any, into err. */
static strata_code count_join(run *r, strata_error *err)
{
    if (r->counting) {
        pthread_join(r->counter, NULL);
        r->counting = 0;
    }
    if (r->count_rc && err && !err->code)
        *err = r->count_err;
    return r->count_rc;
}

/* The copy lock (one copy into a database at a time), then the migration
   lock of the version table it writes (an up on the target waits for the
   copy, and the copy for a running up), both held by the control session
   until it ends. */
static strata_code take_lock(run *r, strata_error *err)
{
    double timeout = lock_timeout_norm(r->o->lock_timeout);
    double t0 = copy_now();
    int copy_lock = 0, mig_lock = 0;
    for (;;) {
        if (!copy_lock) {
            PGresult *res = copy_query(r->ctl, "SELECT pg_try_advisory_lock(hashtext('strata:copy'))", 0,
                                       NULL, "cannot take the copy lock", err);
            if (!res)
                return err->code;
            copy_lock = pq.PQgetvalue(res, 0, 0)[0] == 't';
            pq.PQclear(res);
        }
        strata_code rc = copy_lock ? pg_migration_try_lock(r->ctl, r->vtable, &mig_lock, err) : STRATA_OK;
        if (rc)
            return rc;
        if (mig_lock)
            return STRATA_OK;
        if (copy_now() - t0 >= timeout) {
            err_set(err, STRATA_LOCK_TIMEOUT, "timed out after %gs waiting for %s", timeout,
                    copy_lock
                        ? "the migration lock: a strata command (up, down, ...) is migrating that database"
                        : "another strata copy into the same database");
            err_hint(err, "wait for it to finish, or raise --lock-timeout");
            return STRATA_LOCK_TIMEOUT;
        }
        if (intr_requested())
            return intr_error(err, "while waiting for a lock");
        usleep(100000);
    }
}

/*
 * Default mode: the foreign keys of the target that touch a table to
 * (re)load, as "ALTER TABLE child DROP CONSTRAINT name; " statements on b.
 * An earlier run (or --schema-only) added them; the rows about to load may
 * break them (dangling references SQLite let in, a cycle) where the first
 * run, loading into tables without keys, got through and left the key NOT
 * VALID. The after-data phase adds them again, as on a first run.
 */
static strata_code drop_fks_sql(run *r, const int *load, buf *b, strata_error *err)
{
    PGresult *res = copy_query(r->ctl,
                               "SELECT conrelid::oid, confrelid::oid, conname FROM pg_constraint "
                               "WHERE contype = 'f' ORDER BY conrelid, conname",
                               0, NULL, "cannot read the target's foreign keys", err);
    if (!res)
        return err->code;
    for (int i = 0; i < pq.PQntuples(res); i++) {
        int child = find_oid(r, (unsigned)strtoul(pq.PQgetvalue(res, i, 0), NULL, 10));
        int parent = find_oid(r, (unsigned)strtoul(pq.PQgetvalue(res, i, 1), NULL, 10));
        if (child < 0 || !(load[child] || (parent >= 0 && load[parent])))
            continue;
        buf_adds(b, "ALTER TABLE ");
        qname(b, r->s.t[child].dst);
        buf_adds(b, " DROP CONSTRAINT ");
        buf_add_quoted_ident(b, pq.PQgetvalue(res, i, 2));
        buf_adds(b, "; ");
    }
    pq.PQclear(res);
    return b->oom ? err_set(err, STRATA_NOMEM, "out of memory") : STRATA_OK;
}

/* A list "a, b, c, ..." (names quoted as qname does) for a hint, whose
   room is small: whole names up to about 160 bytes, then how many more
   ("a, b and 10 more tables"). */
static void short_list(char *out, size_t cap, const char *list)
{
    size_t n = 0, used = 0, total = 1, len = strlen(list);
    for (size_t i = 0; i + 1 < len; i++)
        total += list[i] == ',' && list[i + 1] == ' ';
    const char *p = list;
    out[0] = 0;
    while (*p) {
        const char *e = strstr(p, ", ");
        size_t l = e ? (size_t)(e - p) : strlen(p);
        if (n && used + l + 2 > 160)
            break;
        if (used + l + 3 >= cap)
            break;
        if (n)
            memcpy(out + used, ", ", 2), used += 2;
        memcpy(out + used, p, l);
        used += l;
        out[used] = 0;
        n++;
        p = e ? e + 2 : p + l;
    }
    if (n < total)
        snprintf(out + used, cap - used, " and %zu more table%s", total - n, total - n == 1 ? "" : "s");
}

/* Tables whose rows changed in the target since the earlier copy loaded
   them: refused (TARGET_CHANGED) before any table's rows change, unless
   --overwrite. After the switch the application writes there, and a copy
   run again would put the source's rows back over its writes. */
static strata_code target_changed(run *r, strata_error *err)
{
    int n = 0;
    const ctable *first = NULL;
    for (int i = 0; i < r->s.n; i++)
        if (r->s.t[i].target_changed && !n++)
            first = &r->s.t[i];
    if (!n || r->o->overwrite)
        return STRATA_OK;
    err_set(err, STRATA_TARGET_CHANGED,
            "table \"%s\"%s changed in the target since strata copied it: copying again would replace "
            "those rows with the source's",
            first->dst, n > 1 ? " and others" : "");
    char more[48] = "";
    if (n > 1)
        snprintf(more, sizeof(more), "%d tables changed; ", n);
    err_hint(err,
             "%sif the application writes to PostgreSQL now, the move is done: do not copy again. To discard "
             "those changes and copy the source again, pass --overwrite; no rows were changed",
             more);
    return STRATA_TARGET_CHANGED;
}

/* Tables whose two sides agree but not with the record: the record now
   says what both hold (a later rerun would otherwise take a source change
   for a change on both sides, or a target write that happens to restore
   the old record for none). */
static strata_code record_agreed(run *r, strata_error *err)
{
    for (int i = 0; i < r->s.n; i++) {
        ctable *t = &r->s.t[i];
        if (!t->rec_stale)
            continue;
        char rows[32];
        snprintf(rows, sizeof(rows), "%lld", t->src_rows);
        const char *params[3] = {t->dst, rows, t->now_sum};
        PGresult *res = copy_query(r->ctl,
                                   "UPDATE " STATE_TABLE " SET source_rows = $2, checksum = $3 "
                                   "WHERE kind = 'table' AND name = $1",
                                   3, params, "cannot update " STATE_TABLE, err);
        if (!res)
            return err->code;
        pq.PQclear(res);
    }
    return STRATA_OK;
}

/* CONFIG_ERROR: t, about to be emptied, is referenced by a foreign key of
   a table that is not copied -- named, with the key, as the target says. */
static strata_code external_fk_error(run *r, const ctable *t, strata_error *err)
{
    char oid[16], from[400] = "a table that is not copied";
    snprintf(oid, sizeof(oid), "%u", t->oid);
    const char *p[1] = {oid};
    PGresult *res =
        pq.PQexecParams(r->ctl,
                        "SELECT conrelid::oid, conrelid::regclass::text, conname FROM pg_constraint "
                        "WHERE contype = 'f' AND confrelid = $1::oid ORDER BY 2, 3",
                        1, NULL, p, NULL, NULL, 0);
    for (int i = 0; pq.PQresultStatus(res) == PGRES_TUPLES_OK && i < pq.PQntuples(res); i++)
        if (find_oid(r, (unsigned)strtoul(pq.PQgetvalue(res, i, 0), NULL, 10)) < 0) {
            snprintf(from, sizeof(from), "table %s, which is not copied (foreign key \"%s\")",
                     pq.PQgetvalue(res, i, 1), pq.PQgetvalue(res, i, 2));
            break;
        }
    pq.PQclear(res);
    err_set(err, STRATA_CONFIG_ERROR, "table \"%s\" is referenced by a foreign key of %s", t->dst, from);
    err_hint(err, "include the referencing table in the copy, or drop that foreign key");
    return STRATA_CONFIG_ERROR;
}

/* Depth-first from table i along the target's foreign keys among the
   tables to load: 1 when it comes back to a table on the path (a cycle,
   whose tables path[from..] then are), 0 when not. */
static int fk_cycle_from(run *r, const int *load, int i, char *state, int *path, int *depth, int *from)
{
    state[i] = 1; /* on the path */
    path[(*depth)++] = i;
    ctable *t = &r->s.t[i];
    for (int k = 0; k < t->ndeps; k++) {
        int p = t->deps[k];
        if (!load[p] || state[p] == 2)
            continue;
        if (state[p] == 1) {
            for (*from = *depth - 1; *from > 0 && path[*from] != p; --*from)
                ;
            return 1;
        }
        if (fk_cycle_from(r, load, p, state, path, depth, from))
            return 1;
    }
    state[i] = 2;
    --*depth;
    return 0;
}

/* --data-only keeps the target's foreign keys and loads each table in a
   transaction of its own, parents first: tables whose keys form a cycle
   (teams.owner_id -> users, users.team_id -> teams) have no such order --
   the first load fails on a key, after the linked tables were emptied. So
   refused before anything changes, naming the cycle. */
static strata_code fk_cycle_error(run *r, const int *load, strata_error *err)
{
    char *state = calloc((size_t)r->s.n + 1, 1);
    int *path = calloc((size_t)r->s.n + 1, sizeof(int)), depth = 0, from = 0, found = 0;
    if (!state || !path) {
        free(state);
        free(path);
        return err_set(err, STRATA_NOMEM, "out of memory");
    }
    for (int i = 0; i < r->s.n && !found; i++)
        if (load[i] && !state[i])
            found = fk_cycle_from(r, load, i, state, path, &depth, &from);
    strata_code rc = STRATA_OK;
    if (found) {
        buf b;
        buf_init(&b);
        for (int k = from; k < depth; k++)
            buf_addf(&b, "\"%s\" -> ", r->s.t[path[k]].dst);
        buf_addf(&b, "\"%s\"", r->s.t[path[from]].dst);
        rc = err_set(err, STRATA_CONFIG_ERROR,
                     "--data-only: the target's foreign keys link tables in a cycle (%s): they cannot be "
                     "loaded one after the other",
                     b.data ? b.data : "?");
        err_hint(err,
                 "no table was changed; copy into an empty database without --data-only (strata adds the "
                 "keys after the rows), or drop one of those foreign keys, copy, and add it again");
        buf_release(&b);
    }
    free(state);
    free(path);
    return rc;
}

/* Clears the tables to reload that are referenced by foreign keys (others
   are truncated in their own load transaction): the set is closed under
   "referenced by", then truncated in one statement -- in default mode after
   dropping the foreign keys that touch them (drop_fks_sql). */
static strata_code clear_phase(run *r, int *load, strata_error *err)
{
    int *ext = calloc((size_t)r->s.n + 1, sizeof(int));
    if (!ext)
        return err_set(err, STRATA_NOMEM, "out of memory");
    strata_code rc = read_target_fks(r, ext, err);
    if (rc)
        goto out;
    for (int changed = 1; changed;) {
        changed = 0;
        for (int i = 0; i < r->s.n; i++) {
            if (load[i])
                continue;
            ctable *t = &r->s.t[i];
            for (int k = 0; k < t->ndeps; k++)
                if (load[t->deps[k]] && !r->s.t[i].skip_data) {
                    load[i] = 1; /* its rows point at rows about to go */
                    t->redo = 1;
                    t->unchanged = 0;
                    t->verified = 0;
                    changed = 1;
                    break;
                }
        }
    }
    if (r->data_only && (rc = fk_cycle_error(r, load, err)))
        goto out;
    buf b;
    buf_init(&b);
    for (int i = 0; i < r->s.n; i++) {
        ctable *t = &r->s.t[i];
        if (!load[i] || (!t->referenced && !t->ndeps))
            continue;
        if (ext[i]) {
            rc = external_fk_error(r, t, err);
            buf_release(&b);
            goto out;
        }
        buf_adds(&b, b.len ? ", " : "TRUNCATE ");
        qname(&b, t->dst);
    }
    buf drops;
    buf_init(&drops);
    if (b.len && !r->data_only && (rc = drop_fks_sql(r, load, &drops, err))) {
        buf_release(&b);
        goto out;
    }
    /* default mode: without the keys that link them, each table is emptied
       in its own load transaction, so a load that fails rolls back its
       table alone, earlier rows kept. --data-only keeps the target's keys:
       the linked tables are emptied together, so every value is checked
       first -- a bad one stops the copy before anything changes */
    int together = b.len && !drops.len;
    for (int i = 0; together && !rc && i < r->s.n; i++)
        if (load[i] && (r->s.t[i].referenced || r->s.t[i].ndeps))
            rc = validate_table(r, &r->s.t[i], err);
    if (b.len && !rc) {
        buf q;
        buf_init(&q);
        buf_adds(&q, "BEGIN; ");
        if (drops.len)
            cbuf_add(&q, drops.data, drops.len);
        if (together) {
            cbuf_add(&q, b.data, b.len);
            buf_adds(&q, "; ");
        }
        buf_adds(&q, "UPDATE " STATE_TABLE " SET checksum = NULL WHERE kind = 'table' AND name IN (");
        int first = 1;
        for (int i = 0; i < r->s.n; i++)
            if (load[i] && (r->s.t[i].referenced || r->s.t[i].ndeps)) {
                if (!first)
                    buf_adds(&q, ", ");
                buf_add_sqlstr(&q, r->s.t[i].dst);
                first = 0;
            }
        buf_adds(&q, "); COMMIT");
        rc = q.oom ? err_set(err, STRATA_NOMEM, "out of memory")
                   : copy_exec(r->ctl, q.data, "cannot empty the tables to reload", err);
        if (rc)
            copy_rollback(r->ctl);
        buf_release(&q);
        if (!rc && together) /* named in the hint of a load that fails */
            short_list(r->cleared, sizeof(r->cleared), b.data + strlen("TRUNCATE "));
        /* without those keys the loads need no order and may freeze */
        if (!rc && drops.len)
            rc = read_target_fks(r, ext, err);
    }
    buf_release(&drops);
    buf_release(&b);
out:
    free(ext);
    return rc;
}

static void report_fill(run *r, strata_copy_report *rep)
{
    if (!rep)
        return;
    rep->tables = calloc((size_t)r->s.n + 1, sizeof(strata_copy_table));
    if (rep->tables) {
        for (int i = 0; i < r->s.n; i++) {
            ctable *t = &r->s.t[i];
            strata_copy_table *x = &rep->tables[rep->count++];
            x->name = xstrdup(t->dst);
            x->source = xstrdup(t->src);
            x->rows = t->skip_data ? t->total : t->src_rows;
            x->bytes = t->bytes;
            x->seconds = t->seconds;
            x->verified = t->verified;
            x->skipped = t->unchanged || t->skip_data;
            rep->rows += x->rows;
        }
    }
    rep->warnings = r->w.v;
    rep->nwarnings = r->w.n;
    r->w.v = NULL;
    r->w.n = r->w.cap = 0;
    rep->version = r->version;
    r->version = NULL;
    rep->seconds = copy_now() - r->t0;
    rep->load_seconds = r->load_s;
    rep->after_seconds = r->after_s;
}

void strata_copy_report_free(strata_copy_report *rep)
{
    if (!rep)
        return;
    for (size_t i = 0; i < rep->count; i++) {
        free(rep->tables[i].name);
        free(rep->tables[i].source);
    }
    free(rep->tables);
    for (size_t i = 0; i < rep->nwarnings; i++)
        free(rep->warnings[i]);
    free(rep->warnings);
    free(rep->version);
    free(rep);
}

strata_code strata_copy(const char *src_url, const char *dst_url, const strata_copy_opts *o,
                        strata_copy_report **out, strata_error *err)
{
    static const strata_copy_opts defaults = {0};
    run r;
    strata_code rc;
    int *want = NULL;
    strata_copy_report *rep = NULL;
    memset(&r, 0, sizeof(r));
    r.o = o ? o : &defaults;
    r.t0 = copy_now();
    pthread_mutex_init(&r.mu, NULL);
    pthread_mutex_init(&r.fkmu, NULL);
    pthread_cond_init(&r.cv, NULL);
    if (out)
        *out = NULL;
    const char *se = strata_url_engine(src_url), *de = strata_url_engine(dst_url);
    if (!se || strcmp(se, "sqlite") != 0) {
        rc = err_set(err, STRATA_USAGE, "copy reads a SQLite database: the source must be a sqlite:// URL");
        goto done;
    }
    if (!de || strcmp(de, "postgres") != 0) {
        rc = err_set(err, STRATA_USAGE, "copy writes to PostgreSQL: the target must be a postgresql:// URL");
        goto done;
    }
    if (r.o->mode < STRATA_COPY_ALL || r.o->mode > STRATA_COPY_DATA_ONLY ||
        r.o->on_bad_value < STRATA_BAD_VALUE_FAIL || r.o->on_bad_value > STRATA_BAD_VALUE_TEXT) {
        rc = err_set(err, STRATA_USAGE, "invalid copy options");
        goto done;
    }
    /* a count needs its list, and each name must be there */
    for (int l = 0; l < 2; l++) {
        const char *const *v = l ? r.o->exclude : r.o->tables;
        size_t n = l ? r.o->nexclude : r.o->ntables;
        int bad = n && !v;
        for (size_t i = 0; !bad && i < n; i++)
            bad = !v[i];
        if (bad) {
            rc = err_set(err, STRATA_USAGE, "invalid copy options: %s is NULL or holds NULL (n%s = %zu)",
                         l ? "exclude" : "tables", l ? "exclude" : "tables", n);
            goto done;
        }
    }
    r.data_only = r.o->mode == STRATA_COPY_DATA_ONLY;
    r.schema_only = r.o->mode == STRATA_COPY_SCHEMA_ONLY;
    if (r.data_only && r.o->on_bad_value == STRATA_BAD_VALUE_TEXT) {
        rc = err_set(err, STRATA_USAGE,
                     "--on-bad-value=text changes column types; it cannot be used with --data-only");
        goto done;
    }
    r.vtable = r.o->table && *r.o->table ? r.o->table : STRATA_DEFAULT_TABLE;
    long cores = sysconf(_SC_NPROCESSORS_ONLN);
    r.jobs = r.o->jobs > 0 ? r.o->jobs : cores > 0 ? (int)cores : 2;
    if (r.jobs > 64)
        r.jobs = 64;
    if ((rc = url_parse(src_url, &r.su, err)) || (rc = url_parse(dst_url, &r.du, err)))
        goto done;
    if (r.su.engine != DIALECT_SQLITE || r.du.engine != DIALECT_POSTGRES) {
        rc = err_set(err, STRATA_USAGE, "copy reads a SQLite database into PostgreSQL");
        goto done;
    }
    if (!strcmp(r.su.path, ":memory:")) {
        rc = err_set(err, STRATA_USAGE, "copy needs a SQLite file, not an in-memory database");
        goto done;
    }
    /* the version table's name as every other command takes it on
       PostgreSQL (a copied history under a longer name could not be used) */
    int vdots = 0;
    if ((rc = pg_table_check(r.vtable, &vdots, err)))
        goto done;
    if (vdots || strchr(r.vtable, '"')) {
        rc = err_set(err, STRATA_USAGE,
                     "--table '%s': copy takes the version table's plain name (no schema, no quotes)",
                     r.vtable);
        err_hint(err,
                 "the version table is created beside the copied tables, in the target's default schema, "
                 "under the name --table gives it, case and all");
        goto done;
    }
    if (access(r.su.path, R_OK) != 0) {
        int e = errno;
        rc = err_set(err, STRATA_CONNECT_FAILED, "cannot open SQLite database '%s': %s", r.su.path,
                     e == ENOENT ? "no such file" : strerror(e));
        char abs_hint[sizeof(err->hint)];
        if (e == ENOENT && sqlite_abs_hint(r.su.path, abs_hint, sizeof(abs_hint)))
            err_hint(err, "%s", abs_hint);
        goto done;
    }
    /* a file that is not a database fails here, not in the schema phase */
    if ((rc = source_open(&r, &r.sdb, err)))
        goto done;
    if ((rc = pq_load(err)) || (rc = pg_connect(&r, &r.ctl, err)))
        goto done;
    r.phase = "schema";
    if ((rc = hash_probe(&r, err)) || (rc = take_lock(&r, err)) || (rc = open_snapshot(&r, err)))
        goto done;
    if ((rc = schema_read(r.sdb, r.o->keep_case, r.vtable, &r.s, &r.w, err)) || (rc = select_tables(&r, err)))
        goto done;
    preconnect(&r, r.schema_only ? 0 : r.s.n);
    count_start(&r);
    if ((rc = read_state(&r, err)) || (rc = schema_phase(&r, err)))
        goto done;
    if ((rc = run_error(&r, err))) /* a statement of the schema phase failed for a reason not its own */
        goto done;
    preconnect_join(&r);
    if ((rc = count_join(&r, err)))
        goto done;
    if (!r.version)
        for (int i = 0; i < r.s.n; i++)
            if (r.s.t[i].version_table) {
                char *a = applied_list(&r, r.sdb, NULL, r.s.t[i].src, &r.version);
                free(a);
            }
    want = calloc((size_t)r.s.n + 1, sizeof(int));
    if (!want) {
        rc = err_set(err, STRATA_NOMEM, "out of memory");
        goto done;
    }
    if (!r.schema_only) {
        /* which earlier loads still hold */
        for (int i = 0; i < r.s.n; i++)
            want[i] = r.s.t[i].rec_sum != NULL && !r.s.t[i].skip_data;
        if ((rc = run_pool(&r, "check", check_task, want, err)) || (rc = target_changed(&r, err)) ||
            (rc = record_agreed(&r, err)))
            goto done;
        for (int i = 0; i < r.s.n; i++)
            want[i] = !r.s.t[i].unchanged && !r.s.t[i].skip_data;
        if ((rc = clear_phase(&r, want, err))) {
            /* refused before any table was emptied (a key cycle, a table
               outside the copy referencing one, a value that does not
               fit): a first data-only run, whose schema phase made nothing
               but the bookkeeping table, leaves no trace */
            if (r.data_only && r.state_new && !r.cleared[0]) {
                PGresult *d = pq.PQexec(r.ctl, "DROP TABLE IF EXISTS " STATE_TABLE);
                pq.PQclear(d);
            }
            goto done;
        }
        r.rows_total = 0;
        for (int i = 0; i < r.s.n; i++)
            if (want[i])
                r.rows_total += r.s.t[i].total;
    }
    r.load_t0 = r.load_end = copy_now();
    rc = copy_move(&r, want, err);
    if (rc && r.cleared[0]) {
        /* the cleared tables' values were checked before they were
           emptied: what failed is the server refusing a row, or another
           table, whose own hint stands */
        err_hint_more(err,
                      "%s were emptied together before loading (--data-only: foreign keys link them); "
                      "a rerun after the fix loads them",
                      r.cleared);
    }
    r.load_s = r.load_end - r.load_t0;
    r.after_s = copy_now() - r.load_end;
    if (rc)
        goto done;
    pthread_mutex_lock(&r.mu);
    r.phase = "done";
    copy_progress(&r, NULL, 1);
    pthread_mutex_unlock(&r.mu);
done:
    preconnect_join(&r);
    count_join(&r, NULL); /* before the report reads the totals */
    if (out && (rep = calloc(1, sizeof(*rep))) != NULL) {
        report_fill(&r, rep);
        *out = rep;
    }
    free(want);
    for (int i = 0; i < r.nspare; i++)
        pg_finish(r.spare[i]);
    free(r.spare);
    if (r.ctl)
        pg_finish(r.ctl); /* ends the session: releases the advisory lock */
    close_snapshot(&r);
    sqlite3_close_v2(r.sdb);
    schema_release(&r.s);
    for (size_t i = 0; i < r.w.n; i++)
        free(r.w.v[i]);
    free(r.w.v);
    free(r.version);
    url_release(&r.su);
    url_release(&r.du);
    pthread_mutex_destroy(&r.mu);
    pthread_mutex_destroy(&r.fkmu);
    pthread_cond_destroy(&r.cv);
    return rc;
}
