/*
 * copy.c -- strata copy: a SQLite database into PostgreSQL (SPEC section 7,
 * docs/copy.md).
 *
 * The run, in phases:
 *   1. schema   read the SQLite schema, take the copy lock on the target,
 *               create the tables (default mode) or match the existing ones
 *               (data-only); record created tables in strata_copy_state
 *   2. check    for tables a previous run finished: recompute the source
 *               checksum and read the target's back; equal -> skip the table
 *   3. clear    empty the tables to (re)load that foreign keys point at
 *   4. load     tables in parallel (parents before children when the target
 *               has foreign keys), each in ONE transaction: TRUNCATE, binary
 *               COPY, read-back verification, its strata_copy_state row,
 *               COMMIT. A kill at any moment rolls the table back whole.
 *   5. after    primary keys, unique constraints, indexes, CHECKs, then
 *               foreign keys, sequences, views; what cannot be translated is
 *               reported by name
 * The library never prints: progress goes through opts->progress, and what
 * was not carried over is in the report's warnings.
 */
#include "copy_internal.h"
#include "ops.h"

#include "pqload.h"
#include "sqlgen.h"
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define STATE_TABLE "strata_copy_state"
#define FLUSH_AT (256 * 1024)

typedef struct run {
    const strata_copy_opts *o;
    db_url su, du;
    pg_target pt; /* the target, taken apart once for every connection */
    cschema s;
    cwarn w;
    PGconn *ctl;
    sqlite3 *sdb;
    const char *vtable;
    int data_only, schema_only;
    int jobs;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    int stop;
    strata_error err;
    strata_code rc;
    double t0, last_progress;
    const char *phase;
    long long rows_total, rows_done;
    int tables_total, tables_done;
    int left; /* items of the running pool not finished yet */
    char *version;
    double load_s, after_s;
} run;

typedef struct worker {
    run *r;
    PGconn *pg;
    sqlite3 *db;
    cconv cv;
    buf out;
    __int128 sum;
    long long rows;
} worker;

static double now_s(void)
{
    return clock_ms() / 1000.0;
}

/* --------------------------------------------------------- PostgreSQL */

static strata_code pg_error(strata_error *err, strata_code code, PGconn *c, PGresult *res, const char *what)
{
    char prefix[512];
    snprintf(prefix, sizeof(prefix), "%s: ", what);
    return pg_error_set(err, code, c, res, prefix, 1);
}

/* Runs a command; DB_ERROR with what on failure. */
static strata_code pgx(PGconn *c, const char *sql, const char *what, strata_error *err)
{
    PGresult *res = pq.PQexec(c, sql);
    ExecStatusType st = pq.PQresultStatus(res);
    strata_code rc = STRATA_OK;
    if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK)
        rc = pg_error(err, STRATA_DB_ERROR, c, res, what);
    pq.PQclear(res);
    return rc;
}

/* A query with text parameters; the result (caller clears) or NULL. */
static PGresult *pgq(PGconn *c, const char *sql, int n, const char *const *params, const char *what,
                     strata_error *err)
{
    PGresult *res = pq.PQexecParams(c, sql, n, NULL, params, NULL, NULL, 0);
    ExecStatusType st = pq.PQresultStatus(res);
    if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK) {
        pg_error(err, STRATA_DB_ERROR, c, res, what);
        pq.PQclear(res);
        return NULL;
    }
    return res;
}

static void rollback(PGconn *c)
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

static strata_code tune(run *r, PGconn *c, const char *what, strata_error *err)
{
    pthread_mutex_lock(&r->mu);
    int alone = r->left <= 1;
    pthread_mutex_unlock(&r->mu);
    return pgx(c,
               alone ? TUNE_MEMORY
                     : TUNE_MEMORY ", set_config('max_parallel_maintenance_workers', '0', true), "
                                   "set_config('max_parallel_workers_per_gather', '0', true)",
               what, err);
}

/* Runs sql inside a savepoint; on failure rolls back to it and puts the
   server's message into why. 0 ok, -1 failed (transaction still usable). */
static int try_sql(PGconn *c, const char *sql, char *why, size_t whysz)
{
    PGresult *res = pq.PQexec(c, "SAVEPOINT strata_try");
    pq.PQclear(res);
    res = pq.PQexec(c, sql);
    ExecStatusType st = pq.PQresultStatus(res);
    int ok = st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK;
    if (!ok) {
        const char *m = pq.PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY);
        snprintf(why, whysz, "%s", m ? m : pq.PQerrorMessage(c));
    }
    pq.PQclear(res);
    res = pq.PQexec(c, ok ? "RELEASE SAVEPOINT strata_try" : "ROLLBACK TO SAVEPOINT strata_try");
    pq.PQclear(res);
    return ok ? 0 : -1;
}

/* The library never prints: server notices are dropped (libpq's default
   receiver would write them to stderr). */
static void quiet_notice(void *arg, const PGresult *res)
{
    (void)arg, (void)res;
}

static strata_code pg_connect(run *r, PGconn **out, strata_error *err)
{
    /* the one connect of strata (postgres/pg_conn.c): its error formatting,
       password scrubbing and hints */
    PGconn *c = NULL;
    *out = NULL;
    strata_code rc = pg_target_connect(&r->pt, NULL, 0, &c, NULL, err);
    if (rc)
        return rc;
    pq.PQsetNoticeReceiver(c, quiet_notice, NULL);
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
        pq.PQfinish(c);
        return STRATA_POOLER_UNSUPPORTED;
    }
    /* fixed output forms: the checksum expressions rely on them */
    rc = pgx(c,
             "SET client_encoding = 'UTF8'; SET DateStyle = 'ISO, YMD'; "
             "SET TimeZone = 'UTC'; SET IntervalStyle = 'postgres'; "
             "SET extra_float_digits = 3; SET statement_timeout = 0; "
             "SET client_min_messages = warning",
             "cannot set up the session", err);
    if (rc) {
        pq.PQfinish(c);
        return rc;
    }
    *out = c;
    return STRATA_OK;
}

/* ------------------------------------------------------------ progress */

/* Under r->mu. */
static void progress(run *r, const ctable *t, int force)
{
    if (!r->o->progress)
        return;
    double now = now_s();
    if (!force && now - r->last_progress < 0.1)
        return;
    r->last_progress = now;
    strata_copy_progress p = {r->phase,         t ? t->dst : NULL, t ? t->rows_done : 0,
                              t ? t->total : 0, r->rows_done,      r->rows_total,
                              r->tables_done,   r->tables_total,   now - r->t0};
    r->o->progress(r->o->userdata, &p);
}

static void warn(run *r, const char *fmt, ...) ATTR_PRINTF(2, 3);
static void warn(run *r, const char *fmt, ...)
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

/* ------------------------------------------------------------ helpers */

static ccol *srccol(ctable *t, int i)
{
    return t->scols ? &t->scols[i] : &t->cols[i];
}

static void qname(buf *b, const char *name)
{
    buf_add_qident(b, name);
}

static void sum_text(__int128 v, char out[48])
{
    char tmp[48];
    int neg = v < 0, n = 0;
    unsigned __int128 u = neg ? (unsigned __int128)(-(v + 1)) + 1 : (unsigned __int128)v;
    do {
        tmp[n++] = (char)('0' + (int)(u % 10));
        u /= 10;
    } while (u);
    int k = 0;
    if (neg)
        out[k++] = '-';
    while (n)
        out[k++] = tmp[--n];
    out[k] = 0;
}

/*
 * The target-side checksum query of t: the row count and the sum of the
 * rows' hashes, each the XOR of its column hashes (see conv_hash in
 * copy_internal.h); scan() computes the same from the source.
 */
static void checksum_sql(ctable *t, buf *b)
{
    buf_adds(b, "SELECT count(*), coalesce(sum(");
    int k = 0;
    for (int i = 0; i < t->ncols; i++) {
        ccol *c = &t->cols[i];
        if (c->srcidx < 0)
            continue;
        buf q;
        buf_init(&q);
        qname(&q, c->dst);
        if (k)
            buf_adds(b, " # ");
        if (!c->notnull)
            buf_adds(b, "coalesce(");
        hash_sql(b, &c->t, q.data ? q.data : "\"\"", (uint64_t)k + 1);
        if (!c->notnull)
            buf_addf(b, ", %llu)", (unsigned long long)null_mark(k));
        buf_release(&q);
        k++;
    }
    if (!k)
        buf_adds(b, "0::int8");
    buf_adds(b, "), 0)::text FROM ");
    qname(b, t->dst);
}

/* Reads the target's count and checksum of t. */
static strata_code target_sum(PGconn *c, ctable *t, long long *rows, char sum[48], strata_error *err)
{
    buf b;
    buf_init(&b);
    checksum_sql(t, &b);
    if (b.oom) {
        buf_release(&b);
        return err_set(err, STRATA_NOMEM, "out of memory");
    }
    char what[300];
    snprintf(what, sizeof(what), "cannot read back table \"%s\"", t->dst);
    PGresult *res = pgq(c, b.data, 0, NULL, what, err);
    buf_release(&b);
    if (!res)
        return err->code;
    *rows = atoll(pq.PQgetvalue(res, 0, 0));
    snprintf(sum, 48, "%s", pq.PQgetvalue(res, 0, 1));
    pq.PQclear(res);
    return STRATA_OK;
}

/*
 * The checksum needs the server to hash as strata does (PostgreSQL's hash
 * functions depend on the server's byte order): asked once, before anything
 * changes. A server that differs stops the copy, unless --no-verify.
 */
static strata_code hash_probe(run *r, strata_error *err)
{
    if (r->o->no_verify)
        return STRATA_OK;
    PGresult *res = pgq(r->ctl, "SELECT hashtextextended('strata copy', 7), hashint8extended(-2, 3)", 0, NULL,
                        "cannot read the server's hash functions", err);
    if (!res)
        return err->code;
    cconv cv;
    cconv_init(&cv);
    cv.hk = HK_I64;
    cv.hv = (uint64_t)(int64_t)-2;
    char want[2][24];
    snprintf(want[0], sizeof(want[0]), "%lld", (long long)(int64_t)pg_hash64("strata copy", 11, 7));
    snprintf(want[1], sizeof(want[1]), "%lld", (long long)(int64_t)conv_hash(&cv, 3));
    cconv_release(&cv);
    int same = !strcmp(pq.PQgetvalue(res, 0, 0), want[0]) && !strcmp(pq.PQgetvalue(res, 0, 1), want[1]);
    pq.PQclear(res);
    if (same)
        return STRATA_OK;
    err_set(err, STRATA_CONFIG_ERROR,
            "the server's hash functions differ from strata's (a big-endian server?): "
            "the copy could not be verified");
    err_hint(err, "run with --no-verify to copy without the read-back comparison; nothing was changed");
    return STRATA_CONFIG_ERROR;
}

/* ----------------------------------------------------- reading the source */

enum { SCAN_CHECK = 0, SCAN_LOAD_BINARY = 1, SCAN_LOAD_TEXT = 2, SCAN_WIDEN = 3 };

static strata_code flush_out(worker *w, ctable *t, strata_error *err)
{
    if (!w->out.len)
        return STRATA_OK;
    if (pq.PQputCopyData(w->pg, w->out.data, (int)w->out.len) != 1)
        return err_set(err, STRATA_DB_ERROR, "COPY into \"%s\" failed: %s", t->dst, pq.PQerrorMessage(w->pg));
    t->bytes += (long long)w->out.len;
    buf_reset(&w->out);
    if (w->out.cap > 4 * 1024 * 1024)
        buf_release(&w->out); /* a huge row passed: give the memory back */
    return STRATA_OK;
}

static void put_be32(buf *b, uint32_t v)
{
    unsigned char x[4] = {(unsigned char)(v >> 24), (unsigned char)(v >> 16), (unsigned char)(v >> 8),
                          (unsigned char)v};
    cbuf_add(b, (char *)x, 4);
}

static void text_escape(buf *b, const char *s, size_t n)
{
    size_t st = 0;
    for (size_t i = 0; i < n; i++) {
        const char *rep = NULL;
        switch (s[i]) {
        case '\\':
            rep = "\\\\";
            break;
        case '\n':
            rep = "\\n";
            break;
        case '\r':
            rep = "\\r";
            break;
        case '\t':
            rep = "\\t";
            break;
        default:
            continue;
        }
        cbuf_add(b, s + st, i - st);
        cbuf_add(b, rep, 2);
        st = i + 1;
    }
    cbuf_add(b, s + st, n - st);
}

/*
 * Reads every row of t from SQLite, converts each copied column, hashes the
 * column hashes (w->sum, w->rows) and, for the load modes, writes COPY data.
 * SCAN_CHECK returns STRATA_BAD_VALUE quietly on a bad value (the table is
 * then reloaded, which reports it); SCAN_WIDEN marks columns to widen.
 */
static strata_code scan(worker *w, ctable *t, int mode, strata_error *err)
{
    run *r = w->r;
    buf q;
    strata_code rc = STRATA_OK;
    sqlite3_stmt *st = NULL;
    int ncopy = 0;
    buf_init(&q);
    buf_adds(&q, "SELECT ");
    buf_adds(&q, t->rowid[0] ? t->rowid : "NULL");
    for (int i = 0; i < t->ncols; i++) {
        if (t->cols[i].srcidx < 0)
            continue;
        buf_adds(&q, ", ");
        qname(&q, srccol(t, t->cols[i].srcidx)->src);
        ncopy++;
    }
    buf_adds(&q, " FROM ");
    qname(&q, t->src);
    if (q.oom || sqlite3_prepare_v2(w->db, q.data, -1, &st, NULL) != SQLITE_OK) {
        rc = err_set(err, STRATA_DB_ERROR, "cannot read SQLite table \"%s\": %s", t->src,
                     sqlite3_errmsg(w->db));
        buf_release(&q);
        return rc;
    }
    buf_release(&q);
    w->sum = 0;
    w->rows = 0;
    int text = mode == SCAN_LOAD_TEXT;
    long long since = 0;
    int step;
    while ((step = sqlite3_step(st)) == SQLITE_ROW) {
        if (mode != SCAN_CHECK && mode != SCAN_WIDEN) {
            if (mode == SCAN_LOAD_BINARY) {
                unsigned char h[2] = {(unsigned char)(ncopy >> 8), (unsigned char)ncopy};
                cbuf_add(&w->out, (char *)h, 2);
            }
        }
        uint64_t rh = 0;
        int col = 0;
        for (int i = 0; i < t->ncols; i++) {
            ccol *c = &t->cols[i];
            if (c->srcidx < 0)
                continue;
            sqlite3_value *v = sqlite3_column_value(st, col + 1);
            int isnull = 0;
            int cr = conv_value(&w->cv, &c->t, v, text ? CV_WANT_TEXT : 0, &isnull);
            if (cr && mode == SCAN_WIDEN) {
                if (cr == CV_BAD_BYTES)
                    c->widen = 2;
                else if (!c->widen)
                    c->widen = 1;
                col++;
                continue;
            }
            if (cr && mode == SCAN_CHECK) {
                rc = STRATA_BAD_VALUE;
                goto out;
            }
            if (cr && r->o->on_bad_value == STRATA_BAD_VALUE_NULL && !c->notnull) {
                if (c->nnull < 5) {
                    buf shown;
                    buf_init(&shown);
                    conv_show(&shown, v);
                    warn(r, "table \"%s\", %s %lld, column \"%s\": %s written as NULL (%s)", t->dst,
                         t->rowid[0] ? "rowid" : "row",
                         t->rowid[0] ? (long long)sqlite3_column_int64(st, 0) : w->rows + 1, c->dst,
                         shown.data ? shown.data : "?", w->cv.why);
                    buf_release(&shown);
                }
                c->nnull++;
                isnull = 1;
                cr = 0;
            }
            if (cr) {
                buf shown;
                buf_init(&shown);
                conv_show(&shown, v);
                err_set(err, STRATA_BAD_VALUE, "table \"%s\", %s %lld, column \"%s\" (%s): %s: %s", t->src,
                        t->rowid[0] ? "rowid" : "row",
                        t->rowid[0] ? (long long)sqlite3_column_int64(st, 0) : w->rows + 1, c->dst, c->pgtype,
                        shown.data ? shown.data : "?", w->cv.why);
                if (r->o->on_bad_value == STRATA_BAD_VALUE_NULL)
                    err_hint(err, "the column is NOT NULL, so --on-bad-value=null cannot apply; fix the "
                                  "row in the source or use --on-bad-value=text; the table was not changed");
                else
                    err_hint(err, "fix the row in the source, or choose --on-bad-value=null (write NULL) "
                                  "or --on-bad-value=text (make the column text); the table was not changed");
                buf_release(&shown);
                rc = STRATA_BAD_VALUE;
                goto out;
            }
            if (mode == SCAN_WIDEN) {
                col++;
                continue;
            }
            rh ^= isnull ? null_mark(col) : conv_hash(&w->cv, (uint64_t)col + 1);
            if (mode == SCAN_LOAD_BINARY) {
                if (isnull) {
                    put_be32(&w->out, 0xFFFFFFFFu);
                } else {
                    put_be32(&w->out, (uint32_t)w->cv.bin.len);
                    cbuf_add(&w->out, w->cv.bin.data ? w->cv.bin.data : "", w->cv.bin.len);
                }
            } else if (mode == SCAN_LOAD_TEXT) {
                if (col)
                    cbuf_add(&w->out, "\t", 1);
                if (isnull)
                    buf_adds(&w->out, "\\N");
                else
                    text_escape(&w->out, w->cv.text.data ? w->cv.text.data : "", w->cv.text.len);
            }
            col++;
        }
        if (mode == SCAN_LOAD_TEXT)
            cbuf_add(&w->out, "\n", 1);
        if (mode != SCAN_WIDEN)
            w->sum += (int64_t)rh;
        w->rows++;
        if (w->out.oom) {
            rc = err_set(err, STRATA_NOMEM, "out of memory");
            goto out;
        }
        if (w->out.len >= FLUSH_AT && (rc = flush_out(w, t, err)))
            goto out;
        if (++since >= 4096) {
            pthread_mutex_lock(&r->mu);
            if (mode == SCAN_LOAD_BINARY || mode == SCAN_LOAD_TEXT) {
                t->rows_done += since;
                r->rows_done += since;
                progress(r, t, 0);
            }
            int stop = r->stop;
            pthread_mutex_unlock(&r->mu);
            since = 0;
            if (stop) {
                rc = err_set(err, STRATA_INTERNAL, "stopped");
                goto out;
            }
        }
    }
    if (step != SQLITE_DONE)
        rc = err_set(err, STRATA_DB_ERROR, "cannot read SQLite table \"%s\": %s", t->src,
                     sqlite3_errmsg(w->db));
    if (since && (mode == SCAN_LOAD_BINARY || mode == SCAN_LOAD_TEXT)) {
        pthread_mutex_lock(&r->mu);
        t->rows_done += since;
        r->rows_done += since;
        pthread_mutex_unlock(&r->mu);
    }
out:
    sqlite3_finalize(st);
    return rc;
}

/* ------------------------------------------------------------- workers */

static strata_code worker_open(worker *w, strata_error *err)
{
    run *r = w->r;
    cconv_init(&w->cv);
    buf_init(&w->out);
    if (sqlite3_open_v2(r->su.path, &w->db, SQLITE_OPEN_READONLY | SQLITE_OPEN_NOMUTEX, NULL) != SQLITE_OK)
        return err_set(err, STRATA_CONNECT_FAILED, "cannot open SQLite database '%s': %s", r->su.path,
                       w->db ? sqlite3_errmsg(w->db) : "out of memory");
    sqlite3_busy_timeout(w->db, 60000);
    return pg_connect(r, &w->pg, err);
}

static void worker_close(worker *w)
{
    if (w->pg)
        pq.PQfinish(w->pg);
    sqlite3_close_v2(w->db);
    cconv_release(&w->cv);
    buf_release(&w->out);
}

typedef strata_code (*task_fn)(worker *w, ctable *t, strata_error *err);

/*
 * A pool of worker threads (each with its own SQLite and PostgreSQL
 * connection) running n items: tables, or the tasks of the after-data phase.
 * An item runs when ready() says so; among ready items the heaviest first.
 */
typedef struct pool {
    run *r;
    int n;
    int *state; /* per item: 0 waiting, 1 running, 2 done */
    int (*ready)(struct pool *p, int i);
    long long (*weight)(struct pool *p, int i);
    ctable *(*table)(struct pool *p, int i);
    strata_code (*fn)(worker *w, struct pool *p, int i, strata_error *err);
    /* table pools */
    task_fn tfn;
    int use_deps;
    int *want;
    /* task pools */
    void *tasks;
} pool;

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
    if (rc && !r->stop) {
        r->stop = 1;
        r->err = err;
        r->rc = rc;
        pthread_cond_broadcast(&r->cv);
    }
    while (!r->stop) {
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
        p->state[pick] = 1;
        progress(r, t, 1);
        pthread_mutex_unlock(&r->mu);
        strata_error_clear(&err);
        rc = p->fn(&w, p, pick, &err);
        pthread_mutex_lock(&r->mu);
        p->state[pick] = 2;
        r->tables_done++;
        r->left--;
        progress(r, t, 1);
        if (rc && !r->stop) {
            r->stop = 1;
            r->err = err;
            r->rc = rc;
        }
        pthread_cond_broadcast(&r->cv);
    }
    pthread_mutex_unlock(&r->mu);
    worker_close(&w);
    return NULL;
}

static strata_code pool_run(pool *p, const char *phase, strata_error *err)
{
    run *r = p->r;
    int n = 0;
    for (int i = 0; i < p->n; i++)
        n += p->state[i] == 0;
    if (!n)
        return STRATA_OK;
    int jobs = r->jobs < n ? r->jobs : n;
    pthread_t *th = calloc((size_t)jobs, sizeof(*th));
    if (!th)
        return err_set(err, STRATA_NOMEM, "out of memory");
    pthread_mutex_lock(&r->mu);
    r->phase = phase;
    r->tables_done = 0;
    r->tables_total = n;
    r->left = n;
    r->stop = 0;
    r->rc = STRATA_OK;
    progress(r, NULL, 1);
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
    if (!started)
        return err_set(err, STRATA_INTERNAL, "cannot start a thread");
    if (r->rc) {
        if (err)
            *err = r->err;
        return r->rc;
    }
    return STRATA_OK;
}

/* tables as pool items */
static int table_ready(pool *p, int i)
{
    ctable *t = &p->r->s.t[i];
    if (!p->use_deps)
        return 1;
    for (int k = 0; k < t->ndeps; k++) {
        int d = t->deps[k];
        if (d != i && p->want[d] && p->state[d] != 2)
            return 0;
    }
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

static strata_code run_pool(run *r, const char *phase, task_fn fn, int use_deps, int *want, strata_error *err)
{
    int *state = calloc((size_t)r->s.n + 1, sizeof(int));
    if (!state)
        return err_set(err, STRATA_NOMEM, "out of memory");
    for (int i = 0; i < r->s.n; i++)
        state[i] = want[i] ? 0 : 2;
    pool p = {r, r->s.n, state, table_ready, table_weight, table_of, table_fn, fn, use_deps, want, NULL};
    strata_code rc = pool_run(&p, phase, err);
    free(state);
    return rc;
}

/* -------------------------------------------------------- check (rerun) */

static strata_code check_task(worker *w, ctable *t, strata_error *err)
{
    strata_code rc = scan(w, t, SCAN_CHECK, err);
    if (rc == STRATA_BAD_VALUE) {
        t->redo = 1;
        return STRATA_OK;
    }
    if (rc)
        return rc;
    char sum[48], tsum[48];
    sum_text(w->sum, sum);
    if (w->rows != t->rec_rows || strcmp(sum, t->rec_sum) != 0) {
        t->redo = 1; /* the source changed since the earlier copy */
        return STRATA_OK;
    }
    long long trows;
    if ((rc = target_sum(w->pg, t, &trows, tsum, err)))
        return rc;
    if (trows != w->rows || strcmp(tsum, sum) != 0) {
        t->redo = 1; /* the target was changed since */
        return STRATA_OK;
    }
    t->unchanged = 1;
    t->verified = 1;
    t->src_rows = w->rows;
    return STRATA_OK;
}

/* -------------------------------------------------------------- loading */

static strata_code load_task(worker *w, ctable *t, strata_error *err)
{
    run *r = w->r;
    PGconn *c = w->pg;
    double t0 = now_s();
    buf b;
    strata_code rc;
    char what[300];
    int freeze = !t->referenced;
    buf_init(&b);
    snprintf(what, sizeof(what), "cannot load table \"%s\"", t->dst);
    if ((rc = pgx(c, "BEGIN", what, err)))
        goto out;
    if (freeze) {
        buf_adds(&b, "TRUNCATE ");
        qname(&b, t->dst);
        if ((rc = pgx(c, b.data, what, err)))
            goto fail;
    }
    buf_reset(&b);
    buf_adds(&b, "COPY ");
    qname(&b, t->dst);
    buf_adds(&b, " (");
    int k = 0;
    for (int i = 0; i < t->ncols; i++) {
        if (t->cols[i].srcidx < 0)
            continue;
        if (k++)
            buf_adds(&b, ", ");
        qname(&b, t->cols[i].dst);
    }
    buf_addf(&b, ") FROM STDIN WITH (FORMAT %s%s)", t->text_copy ? "text" : "binary",
             freeze ? ", FREEZE" : "");
    PGresult *res = pq.PQexec(c, b.data);
    if (pq.PQresultStatus(res) != PGRES_COPY_IN) {
        rc = pg_error(err, STRATA_DB_ERROR, c, res, what);
        pq.PQclear(res);
        goto fail;
    }
    pq.PQclear(res);
    buf_reset(&w->out);
    if (!t->text_copy) {
        cbuf_add(&w->out, "PGCOPY\n\377\r\n\0", 11);
        put_be32(&w->out, 0);
        put_be32(&w->out, 0);
    }
    for (int i = 0; i < t->ncols; i++)
        t->cols[i].nnull = 0;
    t->rows_done = 0;
    rc = scan(w, t, t->text_copy ? SCAN_LOAD_TEXT : SCAN_LOAD_BINARY, err);
    if (!rc && !t->text_copy)
        cbuf_add(&w->out, "\377\377", 2);
    if (!rc)
        rc = flush_out(w, t, err);
    if (pq.PQputCopyEnd(c, rc ? "strata copy stopped" : NULL) != 1 && !rc)
        rc = err_set(err, STRATA_DB_ERROR, "%s: %s", what, pq.PQerrorMessage(c));
    buf_reset(&w->out);
    while ((res = pq.PQgetResult(c)) != NULL) {
        if (!rc && pq.PQresultStatus(res) != PGRES_COMMAND_OK)
            rc = pg_error(err, STRATA_DB_ERROR, c, res, what);
        else if (!rc && atoll(pq.PQcmdTuples(res)) != w->rows)
            rc = err_set(err, STRATA_COPY_MISMATCH, "table \"%s\": COPY stored %s rows, %lld were sent",
                         t->dst, pq.PQcmdTuples(res), w->rows);
        pq.PQclear(res);
    }
    if (rc)
        goto fail;
    char sum[48];
    sum_text(w->sum, sum);
    t->src_rows = w->rows;
    free(t->src_sum);
    t->src_sum = xstrdup(sum);
    if (!r->o->no_verify) {
        /* read back with a plain SELECT: a path independent of COPY */
        long long trows;
        char tsum[48];
        if ((rc = tune(r, c, what, err)) || (rc = target_sum(c, t, &trows, tsum, err)))
            goto fail;
        if (trows != w->rows || strcmp(tsum, sum) != 0) {
            rc = err_set(err, STRATA_COPY_MISMATCH,
                         "table \"%s\": the target does not match the source after loading "
                         "(rows %lld vs %lld, checksum %s vs %s)",
                         t->dst, trows, w->rows, tsum, sum);
            err_hint(err, "the table was rolled back; rerun the copy, and report this if it persists");
            goto fail;
        }
        t->verified = 1;
    }
    char rows[32];
    snprintf(rows, sizeof(rows), "%lld", w->rows);
    const char *params[3] = {t->dst, rows, sum};
    res = pgq(c,
              "INSERT INTO " STATE_TABLE " (kind, name, source_rows, checksum, loaded_at) "
              "VALUES ('table', $1, $2, $3, now()) ON CONFLICT (kind, name) DO UPDATE SET "
              "source_rows = EXCLUDED.source_rows, checksum = EXCLUDED.checksum, "
              "loaded_at = EXCLUDED.loaded_at",
              3, params, what, err);
    if (!res) {
        rc = err->code;
        goto fail;
    }
    pq.PQclear(res);
    if ((rc = pgx(c, "COMMIT", what, err)))
        goto out;
    for (int i = 0; i < t->ncols; i++)
        if (t->cols[i].nnull)
            warn(r, "table \"%s\", column \"%s\": %lld value%s that did not fit written as NULL", t->dst,
                 t->cols[i].dst, t->cols[i].nnull, t->cols[i].nnull == 1 ? "" : "s");
    t->seconds = now_s() - t0;
    goto out;
fail:
    rollback(c);
    t->verified = 0;
out:
    buf_release(&b);
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
        t->kind = K_OTHER; /* time(p) rounds: let PostgreSQL say if it fits */
    return t->kind;
}

/* Replaces t's columns with the target table's, matched to the source
   columns by name. */
static strata_code match_target(run *r, ctable *t, strata_error *err)
{
    char oid[16];
    snprintf(oid, sizeof(oid), "%u", t->oid);
    const char *params[1] = {oid};
    PGresult *res = pgq(r->ctl,
                        "SELECT a.attname, format_type(a.atttypid, a.atttypmod), "
                        "CASE WHEN ty.typtype = 'd' THEN '' ELSE ty.typname END, a.atttypmod, "
                        "a.attnotnull, a.attgenerated <> '' "
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
                                      : !strcasecmp(t->cols[k].src, c->dst);
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
    }
    pq.PQclear(res);
    strata_code rc = STRATA_OK;
    for (int k = 0; used && k < t->ncols; k++) {
        if (used[k])
            continue;
        int target_generated = 0;
        for (int i = 0; i < n; i++)
            target_generated |= cols[i].generated && !strcasecmp(cols[i].dst, t->cols[k].src);
        if (t->cols[k].generated) {
            /* derived values: PostgreSQL computes its own, or there is nothing to hold them */
            if (!target_generated)
                warn(r,
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
        err_hint(err, "bring the target schema up to date (strata up), or leave the table out with "
                      "--exclude; strata copy never drops a column's data silently");
        break;
    }
    free(used);
    t->scols = t->cols;
    t->nscols = t->ncols;
    t->cols = cols;
    t->ncols = n;
    /* keep what the source knew about the columns that matter after the load */
    for (int i = 0; i < n; i++) {
        if (cols[i].srcidx < 0)
            continue;
        ccol *sc = &t->scols[cols[i].srcidx];
        cols[i].identity = sc->identity;
        cols[i].pk = sc->pk;
        cols[i].nocase = sc->nocase;
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
    PGresult *res = pgq(r->ctl, "SELECT coalesce(to_regclass($1)::oid, 0)", 1, params,
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
    PGresult *res = pgq(r->ctl,
                        "SELECT conrelid::oid, confrelid::oid, conrelid::regclass::text "
                        "FROM pg_constraint WHERE contype = 'f'",
                        0, NULL, "cannot read the target's foreign keys", err);
    if (!res)
        return err->code;
    for (int i = 0; i < r->s.n; i++) {
        free(r->s.t[i].deps);
        r->s.t[i].deps = NULL;
        r->s.t[i].ndeps = 0;
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
        int *nd = realloc(c->deps, (size_t)(c->ndeps + 1) * sizeof(int));
        if (nd) {
            c->deps = nd;
            c->deps[c->ndeps++] = parent;
        }
    }
    pq.PQclear(res);
    return STRATA_OK;
}

/* ------------------------------------------------ schema (default mode) */

static strata_code widen_columns(run *r, ctable *t, strata_error *err)
{
    worker w;
    memset(&w, 0, sizeof(w));
    w.r = r;
    cconv_init(&w.cv);
    buf_init(&w.out);
    w.db = r->sdb;
    strata_code rc = scan(&w, t, SCAN_WIDEN, err);
    cconv_release(&w.cv);
    buf_release(&w.out);
    for (int i = 0; !rc && i < t->ncols; i++) {
        ccol *c = &t->cols[i];
        if (!c->widen)
            continue;
        ctype nt = {c->widen == 2 ? K_BYTEA : K_TEXT, -1, -1, -1};
        cwarn_add(&r->w,
                  "table \"%s\", column \"%s\": declared %s, created as %s because some values "
                  "do not fit %s (--on-bad-value=text)",
                  t->dst, c->dst, c->decl[0] ? c->decl : "(none)", c->widen == 2 ? "bytea" : "text",
                  c->pgtype);
        c->t = nt;
        free(c->pgtype);
        c->pgtype = xstrdup(c->widen == 2 ? "bytea" : "text");
        c->identity = 0;
    }
    return rc;
}

/* A literal default (number, string, NULL, TRUE/FALSE, blob), possibly
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
    if (n == 4 && !strncasecmp(s, "NULL", 4)) {
        *is_null = 1;
        return 0;
    }
    if (n == 4 && !strncasecmp(s, "TRUE", 4)) {
        snprintf(out, outsz, "1");
        return 0;
    }
    if (n == 5 && !strncasecmp(s, "FALSE", 5)) {
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
    size_t i = 0;
    if (i < n && (s[i] == '-' || s[i] == '+'))
        i++;
    if (i == n)
        return -1;
    for (size_t k = i; k < n; k++)
        if (!strchr("0123456789.eE+-", s[k]))
            return -1;
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
            ok = !conv_literal(cv, &c->t, lit, is_string, is_null, &e);
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
            ok = !try_sql(r->ctl, sql.data ? sql.data : "", why, sizeof(why));
        }
        if (!ok)
            cwarn_add(&r->w, "default of \"%s\".\"%s\" not carried over: DEFAULT %s (%s)", t->dst, c->dst,
                      c->dflt, why);
        buf_release(&e);
        buf_release(&sql);
    }
}

static strata_code read_state(run *r, strata_error *err)
{
    strata_code rc =
        pgx(r->ctl,
            "CREATE TABLE IF NOT EXISTS " STATE_TABLE " (kind text NOT NULL, name text NOT NULL, "
            "source_rows bigint, checksum text, loaded_at timestamptz, "
            "PRIMARY KEY (kind, name))",
            "cannot create the bookkeeping table " STATE_TABLE, err);
    if (rc)
        return rc;
    PGresult *res =
        pgq(r->ctl, "SELECT name, source_rows, checksum FROM " STATE_TABLE " WHERE kind = 'table'", 0, NULL,
            "cannot read " STATE_TABLE, err);
    if (!res)
        return err->code;
    for (int i = 0; i < pq.PQntuples(res); i++) {
        const char *name = pq.PQgetvalue(res, i, 0);
        for (int k = 0; k < r->s.n; k++) {
            ctable *t = &r->s.t[k];
            if (strcmp(t->dst, name) != 0)
                continue;
            t->rec_exists = 1;
            if (!pq.PQgetisnull(res, i, 2)) {
                t->rec_sum = xstrdup(pq.PQgetvalue(res, i, 2));
                t->rec_rows = atoll(pq.PQgetvalue(res, i, 1));
            }
        }
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
    /* create what is missing, in one transaction */
    if ((rc = pgx(r->ctl, "BEGIN", "cannot create the tables", err)))
        goto out;
    for (int i = 0; i < r->s.n; i++) {
        ctable *t = &r->s.t[i];
        if (t->oid)
            continue;
        buf b;
        buf_init(&b);
        if (t->version_table)
            sqlgen_create_table(&b, DIALECT_POSTGRES, t->dst);
        else
            ddl_create_table(t, &b);
        char what[300];
        snprintf(what, sizeof(what), "cannot create table \"%s\"", t->dst);
        rc = b.oom ? err_set(err, STRATA_NOMEM, "out of memory") : pgx(r->ctl, b.data, what, err);
        buf_release(&b);
        if (rc)
            goto fail;
        if (!t->version_table)
            set_defaults(r, t, &cv);
        const char *params[1] = {t->dst};
        PGresult *res = pgq(r->ctl,
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
    if ((rc = pgx(r->ctl, "COMMIT", "cannot create the tables", err)))
        goto out;
    for (int i = 0; i < r->s.n; i++) {
        ctable *t = &r->s.t[i];
        if ((r->data_only || t->from_target) && (rc = match_target(r, t, err)))
            goto out;
        if (r->data_only)
            t->from_target = 1;
    }
    goto out;
fail:
    rollback(r->ctl);
out:
    cconv_release(&cv);
    return rc;
}

/* ------------------------------------------------------------ after data */

/* 0: no such constraint; 1: it exists and is validated; 2: exists, NOT VALID. */
static int constraint_state(PGconn *c, unsigned oid, const char *name)
{
    char o[16];
    snprintf(o, sizeof(o), "%u", oid);
    const char *p[2] = {o, name};
    PGresult *res = pq.PQexecParams(c,
                                    "SELECT convalidated FROM pg_constraint WHERE conrelid = $1::oid "
                                    "AND conname = $2",
                                    2, NULL, p, NULL, NULL, 0);
    int st = 0;
    if (pq.PQresultStatus(res) == PGRES_TUPLES_OK && pq.PQntuples(res) > 0)
        st = pq.PQgetvalue(res, 0, 0)[0] == 't' ? 1 : 2;
    pq.PQclear(res);
    return st;
}

static int constraint_exists(PGconn *c, unsigned oid, const char *name)
{
    return constraint_state(c, oid, name) != 0;
}

static void col_list(buf *b, ctable *t, char **cols, int n)
{
    buf_adds(b, "(");
    for (int i = 0; i < n; i++) {
        if (i)
            buf_adds(b, ", ");
        int k = cols[i] ? table_col(t, cols[i]) : -1;
        char *m = k < 0 ? copy_name(cols[i] ? cols[i] : "", 0) : NULL;
        qname(b, k >= 0 ? t->cols[k].dst : m ? m : "");
        free(m);
    }
    buf_adds(b, ")");
}

static void join_names(buf *b, ctable *t, char **cols, int n)
{
    for (int i = 0; i < n; i++) {
        int k = cols[i] ? table_col(t, cols[i]) : -1;
        buf_addf(b, "%s%s", i ? "_" : "", k >= 0 ? t->cols[k].dst : "expr");
    }
}

/* CREATE INDEX from SQLite's text, items and WHERE translated. */
static int index_sql(run *r, ctable *t, cidx *x, buf *out, char *why, size_t whysz)
{
    const char *s = x->sql;
    /* find "(" after ON <table>: the first top-level '(' after the word ON */
    const char *on = NULL;
    for (const char *p = s; *p; p++) {
        if ((p == s || p[-1] == ' ' || p[-1] == '\n' || p[-1] == '\t' || p[-1] == '"' || p[-1] == ']') &&
            !strncasecmp(p, "ON", 2) &&
            (p[2] == ' ' || p[2] == '\n' || p[2] == '\t' || p[2] == '"' || p[2] == '[' || p[2] == '`')) {
            on = p;
            break;
        }
    }
    const char *lp = on ? strchr(on, '(') : NULL;
    if (!lp) {
        snprintf(why, whysz, "cannot parse the index definition");
        return -1;
    }
    int depth = 0;
    const char *rp = NULL;
    char q = 0;
    for (const char *p = lp; *p; p++) {
        if (q) {
            if (*p == q)
                q = 0;
            continue;
        }
        if (*p == '\'' || *p == '"' || *p == '`')
            q = *p;
        else if (*p == '[')
            q = ']';
        else if (*p == '(')
            depth++;
        else if (*p == ')' && --depth == 0) {
            rp = p;
            break;
        }
    }
    if (!rp) {
        snprintf(why, whysz, "cannot parse the index definition");
        return -1;
    }
    char *name = copy_name(x->name, r->o->keep_case);
    buf_addf(out, "CREATE %sINDEX IF NOT EXISTS ", x->unique ? "UNIQUE " : "");
    qname(out, name ? name : "");
    free(name);
    buf_adds(out, " ON ");
    qname(out, t->dst);
    buf_adds(out, " (");
    /* items: split at top-level commas */
    const char *a = lp + 1;
    int item = 0;
    while (a < rp) {
        const char *e = a;
        int d = 0;
        q = 0;
        for (; e < rp; e++) {
            if (q) {
                if (*e == q)
                    q = 0;
                continue;
            }
            if (*e == '\'' || *e == '"' || *e == '`')
                q = *e;
            else if (*e == '[')
                q = ']';
            else if (*e == '(')
                d++;
            else if (*e == ')')
                d--;
            else if (*e == ',' && d == 0)
                break;
        }
        /* trailing COLLATE x / ASC / DESC */
        char seg[4096];
        size_t sl = (size_t)(e - a);
        if (sl >= sizeof(seg)) {
            snprintf(why, whysz, "index expression too long");
            return -1;
        }
        memcpy(seg, a, sl);
        seg[sl] = 0;
        const char *dir = "";
        int nocase = 0;
        for (;;) {
            size_t l = strlen(seg);
            while (l && (seg[l - 1] == ' ' || seg[l - 1] == '\n' || seg[l - 1] == '\t'))
                seg[--l] = 0;
            if (l > 4 && !strcasecmp(seg + l - 4, " ASC")) {
                seg[l - 4] = 0;
            } else if (l > 5 && !strcasecmp(seg + l - 5, " DESC")) {
                seg[l - 5] = 0;
                dir = " DESC";
            } else {
                char *co = NULL;
                for (char *p = seg; (p = strcasestr(p, "COLLATE")) != NULL; p++)
                    co = p;
                if (co && (co == seg || co[-1] == ' ')) {
                    const char *cn = co + 7;
                    while (*cn == ' ')
                        cn++;
                    if (!strcasecmp(cn, "NOCASE") || !strcasecmp(cn, "\"NOCASE\"")) {
                        nocase = 1;
                    } else if (strcasecmp(cn, "BINARY") != 0) {
                        snprintf(why, whysz, "collation %s has no PostgreSQL equivalent", cn);
                        return -1;
                    }
                    *co = 0;
                    continue;
                }
                break;
            }
        }
        if (item++)
            buf_adds(out, ", ");
        buf tr;
        buf_init(&tr);
        if (expr_translate(seg, strlen(seg), &r->s, t, -1, r->o->keep_case, &tr, why, whysz)) {
            buf_release(&tr);
            return -1;
        }
        if (nocase)
            buf_addf(out, "lower(%s)", tr.data ? tr.data : "");
        else if (tr.len && tr.data[0] == '"' && tr.data[tr.len - 1] == '"')
            cbuf_add(out, tr.data, tr.len);
        else
            buf_addf(out, "(%s)", tr.data ? tr.data : "");
        buf_adds(out, dir);
        buf_release(&tr);
        a = e < rp ? e + 1 : rp;
    }
    buf_adds(out, ")");
    const char *wh = rp + 1;
    while (*wh == ' ' || *wh == '\n' || *wh == '\t')
        wh++;
    if (!strncasecmp(wh, "WHERE", 5)) {
        buf tr;
        buf_init(&tr);
        size_t wl = strlen(wh + 5);
        while (wl && (wh[5 + wl - 1] == ';' || wh[5 + wl - 1] == ' ' || wh[5 + wl - 1] == '\n'))
            wl--;
        if (expr_translate(wh + 5, wl, &r->s, t, -1, r->o->keep_case, &tr, why, whysz)) {
            buf_release(&tr);
            return -1;
        }
        buf_adds(out, " WHERE ");
        cbuf_add(out, tr.data ? tr.data : "", tr.len);
        buf_release(&tr);
    }
    return 0;
}

/*
 * The after-data phase as small tasks, so that the indexes of one big table
 * build on several connections at once: a primary key or unique constraint
 * is a unique index built under a SHARE lock (concurrent builds on one table
 * do not block each other) then attached with ADD CONSTRAINT ... USING INDEX;
 * a table's CHECKs run after its indexes (they take an exclusive lock).
 */
enum { AT_PKEY, AT_UNIQUE, AT_INDEX, AT_CHECKS, AT_VALIDATE };

typedef struct atask {
    int t;    /* table */
    int kind; /* AT_* */
    int item; /* index or foreign key number */
    char *name;
} atask;

static int atask_ready(pool *p, int i)
{
    atask *k = (atask *)p->tasks + i;
    if (k->kind != AT_CHECKS)
        return 1;
    for (int j = 0; j < p->n; j++) {
        atask *o = (atask *)p->tasks + j;
        if (j != i && o->t == k->t && o->kind != AT_VALIDATE && p->state[j] != 2)
            return 0;
    }
    return 1;
}

static long long atask_weight(pool *p, int i)
{
    atask *k = (atask *)p->tasks + i;
    return p->r->s.t[k->t].total * (k->kind == AT_CHECKS ? 1 : 4);
}

static ctable *atask_table(pool *p, int i)
{
    return &p->r->s.t[((atask *)p->tasks + i)->t];
}

static int pk_exists(PGconn *c, unsigned oid)
{
    char o[16];
    snprintf(o, sizeof(o), "%u", oid);
    const char *p[1] = {o};
    PGresult *res =
        pq.PQexecParams(c, "SELECT 1 FROM pg_constraint WHERE conrelid = $1::oid AND contype = 'p'", 1, NULL,
                        p, NULL, NULL, 0);
    int has = pq.PQresultStatus(res) == PGRES_TUPLES_OK && pq.PQntuples(res) > 0;
    pq.PQclear(res);
    return has;
}

/* The name of the unique constraint for SQLite index x, or NULL when it is
   over an expression (then it is an index, not a constraint). Malloc'd. */
static char *unique_name(ctable *t, cidx *x)
{
    for (int j = 0; j < x->ncols; j++)
        if (x->cols[j] == NULL)
            return NULL;
    buf nm;
    buf_init(&nm);
    buf_add(&nm, "", 0);
    join_names(&nm, t, x->cols, x->ncols);
    buf_adds(&nm, "_key");
    char *cname = pg_name(t->dst, nm.data ? nm.data : "key");
    buf_release(&nm);
    return cname;
}

/* Relation exists in the current schema (an index name here). */
static int relation_exists(PGconn *c, const char *name)
{
    buf q;
    buf_init(&q);
    buf_add_qident(&q, name);
    const char *p[1] = {q.data};
    PGresult *res = pq.PQexecParams(c, "SELECT to_regclass($1) IS NOT NULL", 1, NULL, p, NULL, NULL, 0);
    int yes = pq.PQresultStatus(res) == PGRES_TUPLES_OK && pq.PQgetvalue(res, 0, 0)[0] == 't';
    pq.PQclear(res);
    buf_release(&q);
    return yes;
}

/* Makes the unique indexes built by the key tasks the table's primary key
   and unique constraints (catalog only: quick, but an exclusive lock, so it
   runs once the table's index builds are done). */
static void attach_keys(run *r, PGconn *c, ctable *t)
{
    char why[600];
    buf b;
    buf_init(&b);
    int npk = 0;
    for (int j = 0; j < t->ncols; j++)
        npk |= t->cols[j].pk;
    char *pk = npk ? pg_name(t->dst, "pkey") : NULL;
    if (pk && !pk_exists(c, t->oid) && relation_exists(c, pk)) {
        buf_adds(&b, "ALTER TABLE ");
        qname(&b, t->dst);
        buf_adds(&b, " ADD CONSTRAINT ");
        qname(&b, pk);
        buf_adds(&b, " PRIMARY KEY USING INDEX ");
        qname(&b, pk);
        if (try_sql(c, b.data ? b.data : "", why, sizeof(why)))
            warn(r, "primary key of \"%s\" not created (a unique index stays): %s", t->dst, why);
    }
    free(pk);
    for (int k = 0; k < t->nidx; k++) {
        cidx *x = &t->idx[k];
        if (x->origin != 'u')
            continue;
        char *cname = unique_name(t, x);
        if (cname && !constraint_exists(c, t->oid, cname) && relation_exists(c, cname)) {
            buf_reset(&b);
            buf_adds(&b, "ALTER TABLE ");
            qname(&b, t->dst);
            buf_adds(&b, " ADD CONSTRAINT ");
            qname(&b, cname);
            buf_adds(&b, " UNIQUE USING INDEX ");
            qname(&b, cname);
            if (try_sql(c, b.data ? b.data : "", why, sizeof(why)))
                warn(r, "unique constraint %s on \"%s\" not created (a unique index stays): %s", cname,
                     t->dst, why);
            else if (x->nocase)
                warn(r,
                     "unique constraint %s on \"%s\" compares case-sensitively in PostgreSQL "
                     "(COLLATE NOCASE in SQLite)",
                     cname, t->dst);
        }
        free(cname);
    }
    buf_release(&b);
}

/* 1 when an index of t (its primary key included) starts with the columns
   of foreign key f, in order, and is neither partial nor on expressions. */
static int fk_indexed(ctable *t, cfk *f)
{
    for (int i = 0; i < t->nidx; i++) {
        cidx *x = &t->idx[i];
        int ok = !x->partial && x->ncols >= f->n;
        for (int j = 0; ok && j < f->n; j++)
            ok = x->cols[j] && !strcasecmp(x->cols[j], f->from[j]);
        if (ok)
            return 1;
    }
    int npk = 0;
    for (int j = 0; j < t->ncols; j++)
        npk += t->cols[j].pk > 0;
    if (npk < f->n)
        return 0;
    for (int j = 0; j < f->n; j++) {
        int hit = 0;
        for (int c = 0; c < t->ncols && !hit; c++)
            hit = t->cols[c].pk == j + 1 && !strcasecmp(t->cols[c].src, f->from[j]);
        if (!hit)
            return 0;
    }
    return 1;
}

static strata_code atask_fn(worker *w, pool *p, int i, strata_error *err)
{
    run *r = w->r;
    PGconn *c = w->pg;
    atask *k = (atask *)p->tasks + i;
    ctable *t = &r->s.t[k->t];
    char why[600], what[300];
    buf b;
    buf_init(&b);
    snprintf(what, sizeof(what), "cannot add the keys and indexes of \"%s\"", t->dst);
    strata_code rc = pgx(c, "BEGIN", what, err);
    if (!rc)
        rc = tune(r, c, what, err);
    if (rc) {
        rollback(c);
        return rc;
    }
    if (k->kind == AT_PKEY && !pk_exists(c, t->oid)) {
        /* the index only: attaching it as the key takes an exclusive lock,
           done by the table's last task (attach_keys) */
        int npk = 0;
        for (int j = 0; j < t->ncols; j++)
            npk = t->cols[j].pk > npk ? t->cols[j].pk : npk;
        buf_adds(&b, "CREATE UNIQUE INDEX IF NOT EXISTS ");
        qname(&b, k->name);
        buf_adds(&b, " ON ");
        qname(&b, t->dst);
        buf_adds(&b, " (");
        for (int n = 1; n <= npk; n++)
            for (int j = 0; j < t->ncols; j++)
                if (t->cols[j].pk == n) {
                    if (n > 1)
                        buf_adds(&b, ", ");
                    qname(&b, t->cols[j].dst);
                }
        buf_adds(&b, ")");
        if (try_sql(c, b.data ? b.data : "", why, sizeof(why)))
            warn(r, "primary key of \"%s\" not created: %s", t->dst, why);
    } else if (k->kind == AT_UNIQUE && !constraint_exists(c, t->oid, k->name)) {
        cidx *x = &t->idx[k->item];
        buf_adds(&b, "CREATE UNIQUE INDEX IF NOT EXISTS ");
        qname(&b, k->name);
        buf_adds(&b, " ON ");
        qname(&b, t->dst);
        buf_add(&b, " ", 1);
        col_list(&b, t, x->cols, x->ncols);
        if (try_sql(c, b.data ? b.data : "", why, sizeof(why)))
            warn(r, "unique constraint %s on \"%s\" not created: %s", k->name, t->dst, why);
    } else if (k->kind == AT_INDEX) {
        cidx *x = &t->idx[k->item];
        if (index_sql(r, t, x, &b, why, sizeof(why)) || try_sql(c, b.data ? b.data : "", why, sizeof(why)))
            warn(r, "index \"%s\" on \"%s\" not created: %s", x->name, t->dst, why);
    } else if (k->kind == AT_CHECKS) {
        attach_keys(r, c, t);
        for (int n = 0; n < t->nchecks; n++) {
            ccheck *ck = &t->checks[n];
            char suffix[64];
            snprintf(suffix, sizeof(suffix), "check%d", n + 1);
            char *cname = ck->name ? copy_name(ck->name, r->o->keep_case) : pg_name(t->dst, suffix);
            if (!cname || constraint_exists(c, t->oid, cname)) {
                free(cname);
                continue;
            }
            buf tr;
            buf_init(&tr);
            buf_reset(&b);
            int ok = !expr_translate(ck->expr, strlen(ck->expr), &r->s, t, -1, r->o->keep_case, &tr, why,
                                     sizeof(why));
            if (ok) {
                buf_adds(&b, "ALTER TABLE ");
                qname(&b, t->dst);
                buf_adds(&b, " ADD CONSTRAINT ");
                qname(&b, cname);
                buf_adds(&b, " CHECK (");
                cbuf_add(&b, tr.data ? tr.data : "", tr.len);
                buf_adds(&b, ")");
                ok = !try_sql(c, b.data ? b.data : "", why, sizeof(why));
            }
            if (!ok)
                warn(r, "CHECK constraint %s on \"%s\" not carried over: CHECK (%s): %s", cname, t->dst,
                     ck->expr, why);
            buf_release(&tr);
            free(cname);
        }
        for (int j = 0; j < t->ncols; j++) {
            if (t->cols[j].nocase)
                warn(r,
                     "column \"%s\".\"%s\" has COLLATE NOCASE in SQLite; PostgreSQL compares it "
                     "case-sensitively (consider citext)",
                     t->dst, t->cols[j].dst);
            if (t->cols[j].generated)
                warn(r,
                     "generated column \"%s\".\"%s\" is a plain column in PostgreSQL holding the "
                     "copied values",
                     t->dst, t->cols[j].dst);
        }
    } else if (k->kind == AT_VALIDATE) {
        /* with an index on the referencing columns, both sides are read in
           key order from their indexes (index-only: COPY FREEZE set the
           visibility map) and merged -- three times faster than hashing
           the parent for 1,000,000 rows */
        if (fk_indexed(t, &t->fks[k->item]) && (rc = pgx(c, "SET LOCAL enable_hashjoin = off", what, err))) {
            rollback(c);
            return rc;
        }
        buf_adds(&b, "ALTER TABLE ");
        qname(&b, t->dst);
        buf_adds(&b, " VALIDATE CONSTRAINT ");
        qname(&b, k->name);
        if (try_sql(c, b.data ? b.data : "", why, sizeof(why)))
            warn(r,
                 "foreign key %s of \"%s\" is NOT VALID: existing rows violate it (%s); "
                 "new rows are checked",
                 k->name, t->dst, why);
    }
    rc = pgx(c, "COMMIT", what, err);
    buf_release(&b);
    return rc;
}

static int atask_add(atask **v, int *n, int *cap, int t, int kind, int item, char *name)
{
    if (*n == *cap) {
        int nc = *cap ? *cap * 2 : 32;
        atask *nv = realloc(*v, (size_t)nc * sizeof(atask));
        if (!nv) {
            free(name);
            return -1;
        }
        *v = nv;
        *cap = nc;
    }
    (*v)[(*n)++] = (atask){t, kind, item, name};
    return 0;
}

static strata_code run_tasks(run *r, const char *phase, atask *v, int n, strata_error *err)
{
    int *state = calloc((size_t)n + 1, sizeof(int));
    if (!state)
        return err_set(err, STRATA_NOMEM, "out of memory");
    pool p = {r, n, state, atask_ready, atask_weight, atask_table, atask_fn, NULL, 0, NULL, v};
    strata_code rc = pool_run(&p, phase, err);
    free(state);
    return rc;
}

static void atasks_free(atask *v, int n)
{
    for (int i = 0; i < n; i++)
        free(v[i].name);
    free(v);
}

/* Keys, unique constraints, indexes and CHECKs of every created table. */
static strata_code constraints(run *r, strata_error *err)
{
    atask *v = NULL;
    int n = 0, cap = 0;
    strata_code rc = STRATA_OK;
    for (int i = 0; i < r->s.n && !rc; i++) {
        ctable *t = &r->s.t[i];
        if (t->version_table)
            continue;
        int npk = 0;
        for (int j = 0; j < t->ncols; j++)
            npk |= t->cols[j].pk;
        if (npk && atask_add(&v, &n, &cap, i, AT_PKEY, 0, pg_name(t->dst, "pkey")))
            rc = err_set(err, STRATA_NOMEM, "out of memory");
        for (int k = 0; k < t->nidx && !rc; k++) {
            cidx *x = &t->idx[k];
            if (x->origin == 'u') {
                char *cname = unique_name(t, x);
                if (cname && atask_add(&v, &n, &cap, i, AT_UNIQUE, k, cname))
                    rc = err_set(err, STRATA_NOMEM, "out of memory");
            } else if (x->origin == 'c' && x->sql) {
                if (atask_add(&v, &n, &cap, i, AT_INDEX, k, NULL))
                    rc = err_set(err, STRATA_NOMEM, "out of memory");
            }
        }
        if (!rc && atask_add(&v, &n, &cap, i, AT_CHECKS, 0, NULL))
            rc = err_set(err, STRATA_NOMEM, "out of memory");
    }
    if (!rc)
        rc = run_tasks(r, "constraints", v, n, err);
    atasks_free(v, n);
    return rc;
}

/* Foreign keys: added NOT VALID in one transaction (catalog only), then
   validated in parallel (each holds only a SHARE UPDATE EXCLUSIVE lock on
   its table). */
static strata_code foreign_keys(run *r, strata_error *err)
{
    char why[600];
    atask *v = NULL;
    int n = 0, cap = 0;
    strata_code rc = pgx(r->ctl, "BEGIN", "cannot add foreign keys", err);
    if (rc)
        return rc;
    for (int i = 0; i < r->s.n; i++) {
        ctable *t = &r->s.t[i];
        if (t->version_table)
            continue;
        for (int k = 0; k < t->nfks; k++) {
            cfk *f = &t->fks[k];
            int pi = schema_find(&r->s, f->parent);
            if (pi < 0) {
                warn(r, "foreign key of \"%s\" to \"%s\" not created: that table is not copied", t->dst,
                     f->parent);
                continue;
            }
            ctable *p = &r->s.t[pi];
            buf nm, b;
            buf_init(&nm);
            buf_init(&b);
            join_names(&nm, t, f->from, f->n);
            buf_adds(&nm, "_fkey");
            char *cname = pg_name(t->dst, nm.data ? nm.data : "fkey");
            buf_release(&nm);
            int cst = cname ? constraint_state(r->ctl, t->oid, cname) : 1;
            if (cst == 2) {
                /* added by a run that was stopped before validating it */
                if (atask_add(&v, &n, &cap, i, AT_VALIDATE, k, cname)) {
                    atasks_free(v, n);
                    rollback(r->ctl);
                    return err_set(err, STRATA_NOMEM, "out of memory");
                }
                cname = NULL;
            } else if (cname && cst == 0) {
                buf_adds(&b, "ALTER TABLE ");
                qname(&b, t->dst);
                buf_adds(&b, " ADD CONSTRAINT ");
                qname(&b, cname);
                buf_adds(&b, " FOREIGN KEY ");
                col_list(&b, t, f->from, f->n);
                buf_adds(&b, " REFERENCES ");
                qname(&b, p->dst);
                int all = 1;
                for (int j = 0; j < f->n; j++)
                    all &= f->to[j] != NULL && f->to[j][0] != 0;
                if (all) {
                    cbuf_add(&b, " ", 1);
                    col_list(&b, p, f->to, f->n);
                }
                if (f->on_delete && strcasecmp(f->on_delete, "NO ACTION"))
                    buf_addf(&b, " ON DELETE %s", f->on_delete);
                if (f->on_update && strcasecmp(f->on_update, "NO ACTION"))
                    buf_addf(&b, " ON UPDATE %s", f->on_update);
                buf_adds(&b, " NOT VALID");
                if (try_sql(r->ctl, b.data ? b.data : "", why, sizeof(why))) {
                    warn(r, "foreign key %s of \"%s\" not created: %s", cname, t->dst, why);
                } else if (atask_add(&v, &n, &cap, i, AT_VALIDATE, k, cname)) {
                    buf_release(&b);
                    atasks_free(v, n);
                    rollback(r->ctl);
                    return err_set(err, STRATA_NOMEM, "out of memory");
                } else {
                    cname = NULL;
                }
            }
            free(cname);
            buf_release(&b);
        }
    }
    rc = pgx(r->ctl, "COMMIT", "cannot add foreign keys", err);
    if (!rc)
        rc = run_tasks(r, "foreign keys", v, n, err);
    atasks_free(v, n);
    return rc;
}

/* Identities and sequences continue after the largest copied value (and
   after SQLite's AUTOINCREMENT counter). */
static strata_code sequences(run *r, strata_error *err)
{
    for (int i = 0; i < r->s.n; i++) {
        ctable *t = &r->s.t[i];
        for (int k = 0; k < t->ncols; k++) {
            ccol *c = &t->cols[k];
            buf tn;
            buf_init(&tn);
            qname(&tn, t->dst);
            const char *p[2] = {tn.data, c->dst};
            PGresult *res =
                pgq(r->ctl, "SELECT pg_get_serial_sequence($1, $2)", 2, p, "cannot look up a sequence", err);
            buf_release(&tn);
            if (!res)
                return err->code;
            char *seq = pq.PQgetisnull(res, 0, 0) ? NULL : xstrdup(pq.PQgetvalue(res, 0, 0));
            pq.PQclear(res);
            if (!seq)
                continue;
            long long hint = c->identity && t->has_seq ? t->seq : 0;
            buf b;
            buf_init(&b);
            char hs[32];
            snprintf(hs, sizeof(hs), "%lld", hint);
            buf_adds(&b, "SELECT CASE WHEN m >= 1 THEN setval($1, m, true) ELSE setval($1, 1, false) END "
                         "FROM (SELECT greatest(coalesce(max(");
            qname(&b, c->dst);
            buf_adds(&b, ")::bigint, 0), $2::bigint) AS m FROM ");
            qname(&b, t->dst);
            buf_adds(&b, ") s");
            const char *p2[2] = {seq, hs};
            res = pgq(r->ctl, b.data ? b.data : "", 2, p2, "cannot set a sequence", err);
            buf_release(&b);
            free(seq);
            if (!res)
                return err->code;
            pq.PQclear(res);
        }
    }
    return STRATA_OK;
}

/* Creates view i (translated); 0 done or already there, 1 PostgreSQL
   refused it (why; it may read a view not created yet), -1 untranslatable. */
static int create_view(run *r, int i, char *why, size_t whysz)
{
    const char *sql = r->s.views[2 * i + 1];
    /* CREATE [TEMP] VIEW [IF NOT EXISTS] name [(cols)] AS select */
    const char *as = NULL;
    for (const char *p = sql; *p; p++)
        if (p > sql && (p[-1] == ' ' || p[-1] == '\n' || p[-1] == '"' || p[-1] == ']' || p[-1] == ')') &&
            !strncasecmp(p, "AS", 2) && (p[2] == ' ' || p[2] == '\n' || p[2] == '\t' || p[2] == '(')) {
            as = p + 2;
            break;
        }
    if (!as) {
        snprintf(why, whysz, "cannot parse the view definition");
        return -1;
    }
    /* the column names "name (a, b) AS": the parentheses just before AS */
    const char *cl = NULL, *cr = as - 2;
    while (cr > sql && (cr[-1] == ' ' || cr[-1] == '\n' || cr[-1] == '\t'))
        cr--;
    if (cr > sql && cr[-1] == ')') {
        int depth = 0;
        for (const char *p = cr - 1; p >= sql; p--) {
            depth += *p == ')' ? 1 : *p == '(' ? -1 : 0;
            if (depth == 0) {
                cl = p;
                break;
            }
        }
    }
    char *vn = copy_name(r->s.views[2 * i], r->o->keep_case);
    buf b, tr, cols;
    buf_init(&b);
    buf_init(&tr);
    buf_init(&cols);
    int rc = -1;
    if (cl && expr_translate(cl + 1, (size_t)(cr - 1 - (cl + 1)), &r->s, NULL, -1, r->o->keep_case, &cols,
                             why, whysz))
        goto out;
    if (expr_translate(as, strlen(as), &r->s, NULL, -1, r->o->keep_case, &tr, why, whysz))
        goto out;
    buf_adds(&b, "CREATE VIEW ");
    qname(&b, vn ? vn : "");
    if (cl)
        buf_addf(&b, " (%s)", cols.data ? cols.data : "");
    buf_adds(&b, " AS ");
    cbuf_add(&b, tr.data ? tr.data : "", tr.len);
    buf qn;
    buf_init(&qn);
    qname(&qn, vn ? vn : "");
    const char *p[1] = {qn.data};
    PGresult *res = pq.PQexecParams(r->ctl, "SELECT to_regclass($1) IS NOT NULL", 1, NULL, p, NULL, NULL, 0);
    int exists = pq.PQresultStatus(res) == PGRES_TUPLES_OK && pq.PQgetvalue(res, 0, 0)[0] == 't';
    pq.PQclear(res);
    buf_release(&qn);
    rc = 0;
    if (!exists) {
        res = pq.PQexec(r->ctl, "BEGIN");
        pq.PQclear(res);
        rc = try_sql(r->ctl, b.data ? b.data : "", why, whysz) ? 1 : 0;
        res = pq.PQexec(r->ctl, "COMMIT");
        pq.PQclear(res);
    }
out:
    buf_release(&b);
    buf_release(&tr);
    buf_release(&cols);
    free(vn);
    return rc;
}

static void views_and_triggers(run *r)
{
    char why[600];
    /* a view may read another one: retry those PostgreSQL refused while
       a pass creates something */
    int n = r->s.nviews, *pending = calloc((size_t)(n ? n : 1), sizeof(int)), progress = 1;
    for (int i = 0; i < n; i++) {
        int rc = create_view(r, i, why, sizeof(why));
        if (rc < 0)
            warn(r, "view \"%s\" not created: %s", r->s.views[2 * i], why);
        else if (rc > 0 && pending)
            pending[i] = 1;
        else if (rc > 0)
            warn(r, "view \"%s\" not created: %s", r->s.views[2 * i], why);
    }
    while (pending && progress) {
        progress = 0;
        for (int i = 0; i < n; i++)
            if (pending[i] && create_view(r, i, why, sizeof(why)) == 0)
                pending[i] = 0, progress = 1;
    }
    for (int i = 0; pending && i < n; i++)
        if (pending[i] && create_view(r, i, why, sizeof(why)) != 0)
            warn(r, "view \"%s\" not created: %s", r->s.views[2 * i], why);
    free(pending);
    for (int i = 0; i < r->s.ntriggers; i++)
        warn(r,
             "trigger \"%s\" not carried over: SQLite trigger bodies are not translated; "
             "rewrite it as a PL/pgSQL trigger",
             r->s.triggers[i]);
}

/* ------------------------------------------------------------- the run */

static int name_listed(const char *name, const char *const *list, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (list[i] && !strcasecmp(list[i], name))
            return 1;
    return 0;
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
    int k = 0;
    for (int i = 0; i < r->s.n; i++) {
        ctable *t = &r->s.t[i];
        int keep = (!o->ntables || name_listed(t->src, o->tables, o->ntables) || t->version_table) &&
                   !name_listed(t->src, o->exclude, o->nexclude) && strcmp(t->src, STATE_TABLE) != 0;
        if (keep) {
            if (k != i)
                r->s.t[k] = *t;
            k++;
            continue;
        }
        table_release(t);
    }
    r->s.n = k;
    /* names that PostgreSQL would cut */
    for (int i = 0; i < r->s.n; i++) {
        ctable *t = &r->s.t[i];
        if (strlen(t->dst) > 63)
            return err_set(err, STRATA_CONFIG_ERROR, "table name \"%s\" is longer than PostgreSQL's 63 bytes",
                           t->src);
        for (int c = 0; c < t->ncols; c++)
            if (strlen(t->cols[c].dst) > 63)
                return err_set(err, STRATA_CONFIG_ERROR,
                               "column name \"%s\".\"%s\" is longer than PostgreSQL's 63 bytes", t->src,
                               t->cols[c].src);
    }
    return STRATA_OK;
}

static strata_code count_rows(run *r, strata_error *err)
{
    for (int i = 0; i < r->s.n; i++) {
        ctable *t = &r->s.t[i];
        buf q;
        buf_init(&q);
        buf_adds(&q, "SELECT count(*) FROM ");
        qname(&q, t->src);
        sqlite3_stmt *st = NULL;
        if (q.oom || sqlite3_prepare_v2(r->sdb, q.data, -1, &st, NULL) != SQLITE_OK ||
            sqlite3_step(st) != SQLITE_ROW) {
            strata_code rc = err_set(err, STRATA_DB_ERROR, "cannot count the rows of \"%s\": %s", t->src,
                                     sqlite3_errmsg(r->sdb));
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

static strata_code take_lock(run *r, strata_error *err)
{
    double timeout = r->o->lock_timeout < 0 ? 60 : r->o->lock_timeout;
    double t0 = now_s();
    for (;;) {
        PGresult *res = pgq(r->ctl, "SELECT pg_try_advisory_lock(hashtext('strata:copy'))", 0, NULL,
                            "cannot take the copy lock", err);
        if (!res)
            return err->code;
        int got = pq.PQgetvalue(res, 0, 0)[0] == 't';
        pq.PQclear(res);
        if (got)
            return STRATA_OK;
        if (now_s() - t0 >= timeout) {
            err_set(err, STRATA_LOCK_TIMEOUT,
                    "timed out after %gs waiting for another strata copy "
                    "into the same database",
                    timeout);
            err_hint(err, "wait for it to finish, or raise --lock-timeout");
            return STRATA_LOCK_TIMEOUT;
        }
        usleep(100000);
    }
}

/* Clears the tables to reload that are referenced by foreign keys (others
   are truncated in their own load transaction): the set is closed under
   "referenced by", then truncated in one statement. */
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
    buf b;
    buf_init(&b);
    for (int i = 0; i < r->s.n; i++) {
        ctable *t = &r->s.t[i];
        if (!load[i] || (!t->referenced && !t->ndeps))
            continue;
        if (ext[i]) {
            rc = err_set(err, STRATA_CONFIG_ERROR,
                         "table \"%s\" is referenced by a foreign key of a table that is not copied", t->dst);
            err_hint(err, "include the referencing table in the copy, or drop that foreign key");
            buf_release(&b);
            goto out;
        }
        buf_adds(&b, b.len ? ", " : "TRUNCATE ");
        qname(&b, t->dst);
    }
    if (b.len) {
        buf_adds(&b, "; UPDATE " STATE_TABLE " SET checksum = NULL WHERE kind = 'table' AND name IN (");
        int first = 1;
        for (int i = 0; i < r->s.n; i++)
            if (load[i] && (r->s.t[i].referenced || r->s.t[i].ndeps)) {
                if (!first)
                    buf_adds(&b, ", ");
                buf_add_sqlstr(&b, r->s.t[i].dst);
                first = 0;
            }
        buf_adds(&b, ")");
        buf q;
        buf_init(&q);
        buf_adds(&q, "BEGIN; ");
        cbuf_add(&q, b.data, b.len);
        buf_adds(&q, "; COMMIT");
        rc = q.oom ? err_set(err, STRATA_NOMEM, "out of memory")
                   : pgx(r->ctl, q.data, "cannot empty the tables to reload", err);
        if (rc)
            rollback(r->ctl);
        buf_release(&q);
    }
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
    rep->seconds = now_s() - r->t0;
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
    r.t0 = now_s();
    pthread_mutex_init(&r.mu, NULL);
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
    r.data_only = r.o->mode == STRATA_COPY_DATA_ONLY;
    r.schema_only = r.o->mode == STRATA_COPY_SCHEMA_ONLY;
    if (r.data_only && r.o->on_bad_value == STRATA_BAD_VALUE_TEXT) {
        rc = err_set(err, STRATA_USAGE,
                     "--on-bad-value=text changes column types; it cannot be used with --data-only");
        goto done;
    }
    r.vtable = r.o->table && *r.o->table ? r.o->table : "strata_migrations";
    long cores = sysconf(_SC_NPROCESSORS_ONLN);
    r.jobs = r.o->jobs > 0 ? r.o->jobs : cores > 0 ? (int)cores : 2;
    if (r.jobs > 64)
        r.jobs = 64;
    if ((rc = url_parse(src_url, &r.su, err)) || (rc = url_parse(dst_url, &r.du, err)))
        goto done;
    if (!strcmp(r.su.path, ":memory:")) {
        rc = err_set(err, STRATA_USAGE, "copy needs a SQLite file, not an in-memory database");
        goto done;
    }
    if (access(r.su.path, R_OK) != 0 ||
        sqlite3_open_v2(r.su.path, &r.sdb, SQLITE_OPEN_READONLY | SQLITE_OPEN_NOMUTEX, NULL) != SQLITE_OK ||
        sqlite3_exec(r.sdb, "SELECT count(*) FROM sqlite_master", NULL, NULL, NULL) != SQLITE_OK) {
        rc = err_set(err, STRATA_CONNECT_FAILED, "cannot open SQLite database '%s': %s", r.su.path,
                     r.sdb ? sqlite3_errmsg(r.sdb) : "no such file");
        goto done;
    }
    sqlite3_busy_timeout(r.sdb, 60000);
    if ((rc = pq_load(err)) || (rc = pg_target_init(&r.pt, dst_url, err)) ||
        (rc = pg_connect(&r, &r.ctl, err)))
        goto done;
    r.phase = "schema";
    if ((rc = hash_probe(&r, err)) || (rc = take_lock(&r, err)))
        goto done;
    if ((rc = schema_read(r.sdb, r.o->keep_case, r.vtable, &r.s, &r.w, err)) ||
        (rc = select_tables(&r, err)) || (rc = count_rows(&r, err)) || (rc = read_state(&r, err)) ||
        (rc = schema_phase(&r, err)))
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
        if ((rc = run_pool(&r, "check", check_task, 0, want, err)))
            goto done;
        for (int i = 0; i < r.s.n; i++)
            want[i] = !r.s.t[i].unchanged && !r.s.t[i].skip_data;
        if ((rc = clear_phase(&r, want, err)))
            goto done;
        r.rows_total = 0;
        for (int i = 0; i < r.s.n; i++)
            if (want[i])
                r.rows_total += r.s.t[i].total;
        double tl = now_s();
        rc = run_pool(&r, "load", load_task, 1, want, err);
        r.load_s = now_s() - tl;
        if (rc)
            goto done;
    }
    double ta = now_s();
    if (!r.data_only) {
        if ((rc = constraints(&r, err)) || (rc = foreign_keys(&r, err)))
            goto done;
        views_and_triggers(&r);
    }
    if (!r.schema_only && (rc = sequences(&r, err)))
        goto done;
    r.after_s = now_s() - ta;
    pthread_mutex_lock(&r.mu);
    r.phase = "done";
    progress(&r, NULL, 1);
    pthread_mutex_unlock(&r.mu);
done:
    if (out && (rep = calloc(1, sizeof(*rep))) != NULL) {
        report_fill(&r, rep);
        *out = rep;
    }
    free(want);
    if (r.ctl)
        pq.PQfinish(r.ctl); /* ends the session: releases the advisory lock */
    sqlite3_close_v2(r.sdb);
    schema_release(&r.s);
    for (size_t i = 0; i < r.w.n; i++)
        free(r.w.v[i]);
    free(r.w.v);
    free(r.version);
    url_release(&r.su);
    url_release(&r.du);
    if (r.pt.url)
        pg_target_release(&r.pt);
    pthread_mutex_destroy(&r.mu);
    pthread_cond_destroy(&r.cv);
    return rc;
}
