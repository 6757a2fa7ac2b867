/*
 * copy_load.c -- strata copy, the data: reading a table's rows from SQLite,
 * converting and hashing every value (copy_value.c), streaming them into
 * PostgreSQL with binary or text COPY in one transaction per table, and the
 * read-back checksum that verifies a load or lets a rerun skip a table that
 * still holds (check_task).
 */
#include "copy_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define FLUSH_AT (256 * 1024)

static ccol *srccol(ctable *t, int i)
{
    return t->scols ? &t->scols[i] : &t->cols[i];
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

/* The hash of copied column c, the k-th, as the checksum takes it: a
   column that cannot hold NULL (NOT NULL, or the rowid alias, which the
   target holds as an identity column) needs no coalesce -- the same sum,
   without a call per row. */
static void col_hash_sql(buf *b, const ccol *c, int k)
{
    buf q;
    buf_init(&q);
    qname(&q, c->dst);
    int nullable = !c->notnull && !c->identity;
    if (nullable)
        buf_adds(b, "coalesce(");
    hash_sql(b, &c->t, q.data ? q.data : "\"\"", (uint64_t)k + 1);
    if (nullable)
        buf_addf(b, ", %llu)", (unsigned long long)null_mark(k));
    buf_release(&q);
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
        if (k)
            buf_adds(b, " # ");
        col_hash_sql(b, c, k);
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
    PGresult *res = copy_query(c, b.data, 0, NULL, what, err);
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
strata_code hash_probe(run *r, strata_error *err)
{
    if (r->o->no_verify)
        return STRATA_OK;
    /* -1234.56 as numeric(12,2), hashed by the SQL the checksum uses */
    static const ctype num = {K_NUMERIC, -1, 12, 2, 0}, f8 = {K_FLOAT8, -1, -1, -1, 0};
    buf q;
    buf_init(&q);
    buf_adds(&q, "SELECT hashtextextended('strata copy', 7), hashint8extended(-2, 3), ");
    hash_sql(&q, &num, "'-1234.56'::numeric(12,2)", 5);
    buf_adds(&q, ", ");
    hash_sql(&q, &f8, "'-1.5'::float8", 9);
    PGresult *res =
        q.oom ? NULL : copy_query(r->ctl, q.data, 0, NULL, "cannot read the server's hash functions", err);
    buf_release(&q);
    if (!res)
        return q.oom ? err_set(err, STRATA_NOMEM, "out of memory") : err->code;
    cconv cv;
    cconv_init(&cv);
    char want[4][24];
    snprintf(want[0], sizeof(want[0]), "%lld", (long long)(int64_t)pg_hash64("strata copy", 11, 7));
    cv.hk = HK_I64;
    cv.hv = (uint64_t)(int64_t)-2;
    snprintf(want[1], sizeof(want[1]), "%lld", (long long)(int64_t)conv_hash(&cv, 3));
    /* ndigits 2, weight 0, negative, dscale 2: 1234 5600 */
    static const char bin[] = {0, 2, 0, 0, 0x40, 0, 0, 2, 0x04, (char)0xD2, 0x15, (char)0xE0};
    cbuf_add(&cv.bin, bin, sizeof(bin));
    cv.hk = HK_NUM;
    snprintf(want[2], sizeof(want[2]), "%lld", (long long)(int64_t)conv_hash(&cv, 5));
    double d = -1.5;
    memcpy(&cv.hv, &d, sizeof(d));
    cv.hk = HK_F8;
    snprintf(want[3], sizeof(want[3]), "%lld", (long long)(int64_t)conv_hash(&cv, 9));
    cconv_release(&cv);
    int same = 1;
    for (int i = 0; i < 4; i++)
        same &= !strcmp(pq.PQgetvalue(res, 0, i), want[i]);
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

enum { SCAN_CHECK = 0, SCAN_LOAD_BINARY = 1, SCAN_LOAD_TEXT = 2, SCAN_WIDEN = 3, SCAN_VALIDATE = 4 };

static strata_code flush_out(worker *w, ctable *t, strata_error *err)
{
    if (!w->out.len)
        return STRATA_OK;
    if (pq.PQputCopyData(w->pg, w->out.data, (int)w->out.len) != 1) {
        char what[300];
        snprintf(what, sizeof(what), "COPY into \"%s\" failed", t->dst);
        /* the one formatter: a connection strata closed after its stop's
           grace is INTERRUPTED, as everywhere */
        return copy_pg_error(err, STRATA_DB_ERROR, w->pg, NULL, what);
    }
    t->bytes += (long long)w->out.len;
    buf_reset(&w->out);
    if (w->out.cap > 4 * 1024 * 1024)
        buf_release(&w->out); /* a huge row passed: give the memory back */
    return STRATA_OK;
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

/* How messages name the row st is on: its rowid; in a WITHOUT ROWID table
   its primary key ("key (a, b) = (1, 'x')"); else its position n. */
static void row_name(buf *o, const ctable *t, sqlite3_stmt *st, long long n)
{
    if (t->rowid[0]) {
        buf_addf(o, "rowid %lld", (long long)sqlite3_column_int64(st, 0));
        return;
    }
    int npk = 0;
    for (int i = 0; i < t->ncols; i++)
        if (t->cols[i].srcidx >= 0 && t->cols[i].pk > npk)
            npk = t->cols[i].pk;
    if (!npk) {
        buf_addf(o, "row %lld", n);
        return;
    }
    buf vals;
    buf_init(&vals);
    buf_adds(o, "key (");
    for (int k = 1; k <= npk; k++) {
        int sel = 1; /* the SELECT's column: the rowid (or NULL) first */
        for (int i = 0; i < t->ncols; i++) {
            if (t->cols[i].srcidx < 0)
                continue;
            if (t->cols[i].pk == k) {
                buf_adds(o, k > 1 ? ", " : "");
                buf_adds(o, t->cols[i].dst);
                buf_adds(&vals, k > 1 ? ", " : "");
                sqlite3_value *v = sqlite3_column_value(st, sel);
                if (sqlite3_value_type(v) == SQLITE_INTEGER)
                    buf_addf(&vals, "%lld", (long long)sqlite3_value_int64(v));
                else if (sqlite3_value_type(v) == SQLITE_FLOAT) {
                    char num[40];
                    c_fmt_double(num, sizeof(num), 17, sqlite3_value_double(v));
                    buf_adds(&vals, num);
                } else
                    conv_show(&vals, v); /* text quoted as SQL, a blob as x'..' */
            }
            sel++;
        }
    }
    buf_adds(o, ") = (");
    cbuf_add(o, vals.data ? vals.data : "", vals.len);
    buf_adds(o, ")");
    buf_release(&vals);
}

/*
 * Reads every row of t from SQLite, converts each copied column, hashes the
 * column hashes (w->sum, w->rows) and, for the load modes, writes COPY data.
 * SCAN_CHECK returns STRATA_BAD_VALUE quietly on a bad value (the table is
 * then reloaded, which reports it); SCAN_WIDEN marks columns to widen;
 * SCAN_VALIDATE reports the first bad value as a load would, writing nothing.
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
    /* the common values skip conv_value's buffers (not when widening: that
       asks which values do not fit, and text COPY wants their text) */
    int fast = mode == SCAN_LOAD_BINARY || mode == SCAN_CHECK || mode == SCAN_VALIDATE;
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
            uint64_t fh;
            if (fast &&
                conv_fast(&c->t, v, (uint64_t)col + 1, mode == SCAN_LOAD_BINARY ? &w->out : NULL, &fh)) {
                rh ^= fh;
                if (w->colsum)
                    w->colsum[col] += (int64_t)fh;
                col++;
                continue;
            }
            int isnull = 0;
            int cr = conv_value(&w->cv, &c->t, v, text ? CV_WANT_TEXT : 0, &isnull);
            if (cr && mode == SCAN_WIDEN) {
                /* bytea when text cannot hold it (a blob, invalid UTF-8,
                   NUL) or the column is bytea already (a number in it):
                   blobs as they are, numbers as their text */
                if (cr == CV_BAD_BYTES || sqlite3_value_type(v) == SQLITE_BLOB || c->t.kind == K_BYTEA)
                    c->widen = 2;
                else if (!c->widen)
                    c->widen = 1;
                col++;
                continue;
            }
            if (!cr && isnull && c->notnull && mode != SCAN_WIDEN) {
                /* a NULL for a NOT NULL column (--data-only into a stricter
                   table): named here, by rowid, not as the server's COPY
                   error; no policy turns it into a value */
                if (mode != SCAN_CHECK) {
                    buf rn;
                    buf_init(&rn);
                    row_name(&rn, t, st, w->rows + 1);
                    err_set(err, STRATA_BAD_VALUE, "table \"%s\", %s, column \"%s\" (%s NOT NULL): NULL",
                            t->src, rn.data ? rn.data : "?", c->dst, c->pgtype);
                    buf_release(&rn);
                    err_hint(err,
                             "give the row a value in the source, or allow NULL in the target column; the "
                             "table was not changed");
                }
                rc = STRATA_BAD_VALUE;
                goto out;
            }
            int to_null = cr && r->o->on_bad_value == STRATA_BAD_VALUE_NULL && !c->notnull;
            if (cr && mode == SCAN_CHECK && !to_null) {
                rc = STRATA_BAD_VALUE;
                goto out;
            }
            if (to_null && (mode == SCAN_CHECK || mode == SCAN_VALIDATE)) {
                /* the checksum a load under the same policy recorded:
                   an unchanged table is skipped, not reloaded and re-warned */
                isnull = 1;
                cr = 0;
            } else if (to_null) {
                if (c->nnull < 5) {
                    buf shown, rn;
                    buf_init(&shown);
                    buf_init(&rn);
                    conv_show(&shown, v);
                    row_name(&rn, t, st, w->rows + 1);
                    copy_warn(r, "table \"%s\", %s, column \"%s\": %s written as NULL (%s)", t->dst,
                              rn.data ? rn.data : "?", c->dst, shown.data ? shown.data : "?", w->cv.why);
                    buf_release(&shown);
                    buf_release(&rn);
                }
                c->nnull++;
                isnull = 1;
                cr = 0;
            }
            if (cr) {
                buf shown, rn;
                buf_init(&shown);
                buf_init(&rn);
                conv_show(&shown, v);
                row_name(&rn, t, st, w->rows + 1);
                err_set(err, STRATA_BAD_VALUE, "table \"%s\", %s, column \"%s\" (%s): %s: %s", t->src,
                        rn.data ? rn.data : "?", c->dst, c->pgtype, shown.data ? shown.data : "?", w->cv.why);
                buf_release(&rn);
                /* --on-bad-value=text widens columns it creates: not with --data-only */
                if (r->o->on_bad_value == STRATA_BAD_VALUE_NULL)
                    err_hint(err,
                             "the column is NOT NULL, so --on-bad-value=null cannot apply; fix the "
                             "row in the source%s; the table was not changed",
                             r->data_only ? "" : " or use --on-bad-value=text");
                else if (r->data_only)
                    err_hint(err, "fix the row in the source, widen the target column, or choose "
                                  "--on-bad-value=null (write NULL); the table was not changed");
                else if (t->from_target)
                    /* --on-bad-value=text widens the tables it creates, and
                       an earlier run created this one */
                    err_hint(
                        err,
                        "fix the row in the source, or choose --on-bad-value=null (write NULL); "
                        "--on-bad-value=text makes columns text only in tables it creates, and an earlier "
                        "run created \"%s\": drop it in the target first; the table was not changed",
                        t->dst);
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
            uint64_t ch = isnull ? null_mark(col) : conv_hash(&w->cv, (uint64_t)col + 1);
            rh ^= ch;
            if (w->colsum)
                w->colsum[col] += (int64_t)ch;
            if (mode == SCAN_LOAD_BINARY) {
                if (isnull) {
                    put32(&w->out, 0xFFFFFFFFu);
                } else {
                    put32(&w->out, (uint32_t)w->cv.bin.len);
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
                copy_progress(r, t, 0);
            }
            int stop = r->stop;
            pthread_mutex_unlock(&r->mu);
            since = 0;
            if (!stop && intr_requested()) {
                rc = copy_stopped(err);
                goto out;
            }
            if (stop) {
                rc = err_set(err, STRATA_INTERNAL, "stopped");
                goto out;
            }
        }
    }
    if (step != SQLITE_DONE) {
        rc = err_set(err, STRATA_DB_ERROR, "cannot read SQLite table \"%s\": %s", t->src,
                     sqlite3_errmsg(w->db));
        if ((step & 0xff) == SQLITE_CORRUPT || (step & 0xff) == SQLITE_NOTADB)
            err_hint(err, "the SQLite file is damaged (sqlite3 FILE 'PRAGMA integrity_check' lists where); "
                          "sqlite3's .recover writes what can still be read into a new file");
        else if ((step & 0xff) == SQLITE_IOERR)
            err_hint(err,
                     "the source file could not be read from disk; check the disk and run the copy again");
    }
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

/* After a checksum mismatch with equal row counts: the first copied column
   whose hashes sum differently on the two sides, or NULL. The source's
   sums come from a second read of t (w->colsum), on this failure path
   only. */
static const ccol *mismatch_column(worker *w, ctable *t)
{
    int n = 0;
    for (int i = 0; i < t->ncols; i++)
        n += t->cols[i].srcidx >= 0;
    if (!n || !(w->colsum = calloc((size_t)n, sizeof(*w->colsum))))
        return NULL;
    strata_error e;
    strata_error_clear(&e);
    const ccol *found = NULL;
    buf b;
    buf_init(&b);
    buf_adds(&b, "SELECT ");
    for (int i = 0, k = 0; i < t->ncols; i++) {
        if (t->cols[i].srcidx < 0)
            continue;
        buf_adds(&b, k ? ", coalesce(sum(" : "coalesce(sum(");
        col_hash_sql(&b, &t->cols[i], k++);
        buf_adds(&b, "), 0)::text");
    }
    buf_adds(&b, " FROM ");
    qname(&b, t->dst);
    PGresult *res = !b.oom && scan(w, t, SCAN_CHECK, &e) == STRATA_OK ? pq.PQexec(w->pg, b.data) : NULL;
    buf_release(&b);
    if (res && pq.PQresultStatus(res) == PGRES_TUPLES_OK && pq.PQntuples(res) == 1) {
        for (int i = 0, k = 0; i < t->ncols && !found; i++) {
            if (t->cols[i].srcidx < 0)
                continue;
            char mine[48];
            sum_text(w->colsum[k], mine);
            if (strcmp(mine, pq.PQgetvalue(res, 0, k++)) != 0)
                found = &t->cols[i];
        }
    }
    pq.PQclear(res);
    free(w->colsum);
    w->colsum = NULL;
    return found;
}

/* -------------------------------------------------------- check (rerun) */

strata_code check_task(worker *w, ctable *t, strata_error *err)
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
    long long trows;
    if ((rc = target_sum(w->pg, t, &trows, tsum, err)))
        return rc;
    int same = trows == w->rows && !strcmp(tsum, sum);
    int src_moved = w->rows != t->rec_rows || strcmp(sum, t->rec_sum) != 0; /* from the record */
    if (!same && src_moved) {
        /* the source changed since the earlier copy: it wins (a live
           move's catch-up) -- provided the target is still as that copy
           left it. Both changed (the application writing to PostgreSQL
           after the switch while the source changed too; or a record an
           older build hashed otherwise): a new load would undo the
           target's writes -- refused below, as a target change, unless
           --overwrite */
        t->target_changed = trows != t->rec_rows || strcmp(tsum, t->rec_sum) != 0;
        t->redo = 1;
        return STRATA_OK;
    }
    if (!same) {
        /* the source as the earlier copy loaded (and verified) it, the
           target not: someone wrote to the target since -- the
           application, after the switch -- which a new load would undo */
        t->target_changed = 1;
        t->redo = 1;
        return STRATA_OK;
    }
    t->unchanged = 1;
    t->verified = 1;
    t->src_rows = w->rows;
    if (src_moved) {
        t->rec_stale = 1;
        memcpy(t->now_sum, sum, sizeof(t->now_sum));
    }
    return STRATA_OK;
}

/* -------------------------------------------------------------- loading */

/* 1 when name is one of t's CHECKs, as the schema phase named it. */
static int own_check(run *r, const ctable *t, const char *name)
{
    int found = 0;
    for (int n = 0; n < t->nchecks && !found; n++) {
        char *cname = check_name(r, t, n);
        found = cname && !strcmp(cname, name);
        free(cname);
    }
    return found;
}

/* load_task's one attempt. A row that breaks one of the CHECKs the schema
   phase gave the table (a translation that reads the row otherwise than
   SQLite did): its name in broke, for load_task to drop it and retry. */
static strata_code load_once(worker *w, ctable *t, char *broke, size_t brokesz, strata_error *err)
{
    run *r = w->r;
    PGconn *c = w->pg;
    double t0 = copy_now();
    buf b;
    strata_code rc;
    char what[300];
    /* TRUNCATE in the load's own transaction lets COPY write the rows frozen
       and all-visible: the index builds, the read-back and the foreign-key
       checks that follow then never set a hint bit or look up a commit. A
       table that a foreign key of the target references (one left by an
       earlier run; clear_phase emptied it) cannot be truncated alone. */
    int freeze = !t->referenced;
    buf_init(&b);
    snprintf(what, sizeof(what), "cannot load table \"%s\"", t->dst);
    if ((rc = copy_exec(c, "BEGIN", what, err)))
        goto out;
    if (freeze) {
        buf_adds(&b, "TRUNCATE ");
        qname(&b, t->dst);
        if ((rc = copy_exec(c, b.data, what, err)))
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
        rc = copy_pg_error(err, STRATA_DB_ERROR, c, res, what);
        if (!strcmp(err->sqlstate, "0A000")) { /* COPY FROM under row-level security, in any language */
            err->hint[0] = 0;
            err_hint(err, COPY_RLS_HINT);
        }
        pq.PQclear(res);
        goto fail;
    }
    pq.PQclear(res);
    buf_reset(&w->out);
    if (!t->text_copy) {
        cbuf_add(&w->out, "PGCOPY\n\377\r\n\0", 11);
        put32(&w->out, 0);
        put32(&w->out, 0);
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
        if (!rc && pq.PQresultStatus(res) != PGRES_COMMAND_OK) {
            const char *st = pq.PQresultErrorField(res, PG_DIAG_SQLSTATE);
            const char *cn = pq.PQresultErrorField(res, PG_DIAG_CONSTRAINT_NAME);
            if (st && !strcmp(st, "23514") && cn && !r->data_only && own_check(r, t, cn))
                snprintf(broke, brokesz, "%s", cn);
            /* a domain's CHECK (23514 with the domain's name as the data
               type): the column's type refused the value */
            const char *dt = pq.PQresultErrorField(res, PG_DIAG_DATATYPE_NAME);
            int domain_check = st && !strcmp(st, "23514") && dt && *dt;
            rc = copy_pg_error(err, STRATA_DB_ERROR, c, res, what);
            if ((!strncmp(err->sqlstate, "22", 2) && strcmp(err->sqlstate, "22P03")) || /* 22P03: strata's */
                domain_check) {
                /* a data exception: PostgreSQL's own input function refused
                   a value (an enum label, a domain, a type strata passes
                   as text), which no rerun changes */
                err->code = rc = STRATA_BAD_VALUE;
                if (!err->hint[0])
                    err_hint(err,
                             "the target column's type refused the value (the COPY line counts the rows "
                             "in rowid or primary-key order); fix it in the SQLite file, or the column in "
                             "PostgreSQL; the table was rolled back");
            }
            if (!strcmp(err->sqlstate, "23503") && !err->hint[0])
                /* --data-only into the target's own foreign keys */
                err_hint(err,
                         "SQLite does not enforce foreign keys unless asked: list the rows that point at "
                         "nothing with PRAGMA foreign_key_check on the source, then fix or delete them");
        } else if (!rc && atoll(pq.PQcmdTuples(res)) != w->rows)
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
        if ((rc = copy_tune(r, c, what, err)) || (rc = target_sum(c, t, &trows, tsum, err)))
            goto fail;
        if (trows != w->rows || strcmp(tsum, sum) != 0) {
            const ccol *cc = trows == w->rows ? mismatch_column(w, t) : NULL;
            if (cc)
                rc = err_set(
                    err, STRATA_COPY_MISMATCH,
                    "table \"%s\", column \"%s\" (%s): the target does not hold the values the source "
                    "sent (checksum %s vs %s)",
                    t->dst, cc->dst, cc->pgtype ? cc->pgtype : "?", tsum, sum);
            else
                rc = err_set(err, STRATA_COPY_MISMATCH,
                             "table \"%s\": the target does not match the source after loading "
                             "(rows %lld vs %lld, checksum %s vs %s)",
                             t->dst, trows, w->rows, tsum, sum);
            if (cc && cc->t.kind == K_OTHER)
                err_hint(err,
                         "strata passes %s values as the source's text, and PostgreSQL reads them into "
                         "its own form, which differs from the text sent: write the values in that form in "
                         "the source, or copy with --no-verify if the conversion is what you want; the table "
                         "was rolled back",
                         cc->pgtype ? cc->pgtype : "text-passed");
            else
                err_hint(err, "the table was rolled back; rerun the copy, and report this if it persists");
            goto fail;
        }
        t->verified = 1;
    }
    char rows[32];
    snprintf(rows, sizeof(rows), "%lld", w->rows);
    const char *params[3] = {t->dst, rows, sum};
    res = copy_query(c,
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
    if ((rc = copy_exec(c, "COMMIT", what, err)))
        goto out;
    for (int i = 0; i < t->ncols; i++)
        if (t->cols[i].nnull)
            copy_warn(r, "table \"%s\", column \"%s\": %lld value%s that did not fit written as NULL", t->dst,
                      t->cols[i].dst, t->cols[i].nnull, t->cols[i].nnull == 1 ? "" : "s");
    t->seconds = copy_now() - t0;
    goto out;
fail:
    copy_rollback(c);
    t->verified = 0;
out:
    buf_release(&b);
    return rc;
}

strata_code load_task(worker *w, ctable *t, strata_error *err)
{
    for (;;) {
        char broke[128] = "";
        strata_code rc = load_once(w, t, broke, sizeof(broke), err);
        if (!rc || !broke[0])
            return rc;
        /* each round drops another of the table's CHECKs: it ends */
        buf b;
        buf_init(&b);
        buf_adds(&b, "ALTER TABLE ");
        qname(&b, t->dst);
        buf_adds(&b, " DROP CONSTRAINT ");
        qname(&b, broke);
        char what[300];
        snprintf(what, sizeof(what), "cannot load table \"%s\"", t->dst);
        rc = b.oom ? err_set(err, STRATA_NOMEM, "out of memory") : copy_exec(w->pg, b.data, what, err);
        buf_release(&b);
        if (rc)
            return rc;
        strata_error_clear(err);
        pthread_mutex_lock(&w->r->mu);
        w->r->rows_done -= t->rows_done; /* the progress counts them again */
        t->rows_done = 0;
        pthread_mutex_unlock(&w->r->mu);
    }
}

/* A scan of t on the run's own source connection, outside the pool. */
static strata_code scan_alone(run *r, ctable *t, int mode, strata_error *err)
{
    worker w;
    memset(&w, 0, sizeof(w));
    w.r = r;
    cconv_init(&w.cv);
    buf_init(&w.out);
    w.db = r->sdb;
    strata_code rc = scan(&w, t, mode, err);
    cconv_release(&w.cv);
    buf_release(&w.out);
    return rc;
}

strata_code validate_table(run *r, ctable *t, strata_error *err)
{
    return scan_alone(r, t, SCAN_VALIDATE, err);
}

/* --------------------------------------------- widening (--on-bad-value=text) */

strata_code widen_columns(run *r, ctable *t, strata_error *err)
{
    strata_code rc = scan_alone(r, t, SCAN_WIDEN, err);
    for (int i = 0; !rc && i < t->ncols; i++) {
        ccol *c = &t->cols[i];
        if (!c->widen)
            continue;
        ctype nt = {c->widen == 2 ? K_BYTEA : K_TEXT, -1, -1, -1, c->widen == 2};
        if (c->widen == 2)
            cwarn_add(&r->w,
                      "table \"%s\", column \"%s\": declared %s, created as bytea because some values "
                      "do not fit %s; its numbers are stored as the bytes of their text "
                      "(--on-bad-value=text)",
                      t->dst, c->dst, c->decl[0] ? c->decl : "(none)", c->pgtype);
        else
            cwarn_add(&r->w,
                      "table \"%s\", column \"%s\": declared %s, created as text because some values "
                      "do not fit %s (--on-bad-value=text)",
                      t->dst, c->dst, c->decl[0] ? c->decl : "(none)", c->pgtype);
        c->t = nt;
        free(c->pgtype);
        c->pgtype = xstrdup(c->widen == 2 ? "bytea" : "text");
        c->identity = 0;
    }
    return rc;
}
