/*
 * copy_after.c -- strata copy, after the data: primary keys, unique
 * constraints, indexes and CHECKs (as parallel tasks on the worker pool),
 * foreign keys (added NOT VALID, then validated in parallel), sequences,
 * views, and the warnings for what is not carried over (triggers).
 */
#include "copy_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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
    buf_add_quoted_ident(&q, name);
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
        if (copy_try_sql(c, b.data ? b.data : "", why, sizeof(why)))
            copy_warn(r, "primary key of \"%s\" not created (a unique index stays): %s", t->dst, why);
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
            if (copy_try_sql(c, b.data ? b.data : "", why, sizeof(why)))
                copy_warn(r, "unique constraint %s on \"%s\" not created (a unique index stays): %s", cname,
                          t->dst, why);
            else if (x->nocase)
                copy_warn(r,
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
    strata_code rc = copy_exec(c, "BEGIN", what, err);
    if (!rc)
        rc = copy_tune(r, c, what, err);
    if (rc) {
        copy_rollback(c);
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
        if (copy_try_sql(c, b.data ? b.data : "", why, sizeof(why)))
            copy_warn(r, "primary key of \"%s\" not created: %s", t->dst, why);
    } else if (k->kind == AT_UNIQUE && !constraint_exists(c, t->oid, k->name)) {
        cidx *x = &t->idx[k->item];
        buf_adds(&b, "CREATE UNIQUE INDEX IF NOT EXISTS ");
        qname(&b, k->name);
        buf_adds(&b, " ON ");
        qname(&b, t->dst);
        buf_add(&b, " ", 1);
        col_list(&b, t, x->cols, x->ncols);
        if (copy_try_sql(c, b.data ? b.data : "", why, sizeof(why)))
            copy_warn(r, "unique constraint %s on \"%s\" not created: %s", k->name, t->dst, why);
    } else if (k->kind == AT_INDEX) {
        cidx *x = &t->idx[k->item];
        if (index_sql(r, t, x, &b, why, sizeof(why)) ||
            copy_try_sql(c, b.data ? b.data : "", why, sizeof(why)))
            copy_warn(r, "index \"%s\" on \"%s\" not created: %s", x->name, t->dst, why);
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
                ok = !copy_try_sql(c, b.data ? b.data : "", why, sizeof(why));
            }
            if (!ok)
                copy_warn(r, "CHECK constraint %s on \"%s\" not carried over: CHECK (%s): %s", cname, t->dst,
                          ck->expr, why);
            buf_release(&tr);
            free(cname);
        }
        for (int j = 0; j < t->ncols; j++) {
            if (t->cols[j].nocase)
                copy_warn(r,
                          "column \"%s\".\"%s\" has COLLATE NOCASE in SQLite; PostgreSQL compares it "
                          "case-sensitively (consider citext)",
                          t->dst, t->cols[j].dst);
            if (t->cols[j].generated)
                copy_warn(r,
                          "generated column \"%s\".\"%s\" is a plain column in PostgreSQL holding the "
                          "copied values",
                          t->dst, t->cols[j].dst);
        }
    } else if (k->kind == AT_VALIDATE) {
        /* with an index on the referencing columns, both sides are read in
           key order from their indexes (index-only: COPY FREEZE set the
           visibility map) and merged -- three times faster than hashing
           the parent for 1,000,000 rows */
        if (fk_indexed(t, &t->fks[k->item]) &&
            (rc = copy_exec(c, "SET LOCAL enable_hashjoin = off", what, err))) {
            copy_rollback(c);
            return rc;
        }
        buf_adds(&b, "ALTER TABLE ");
        qname(&b, t->dst);
        buf_adds(&b, " VALIDATE CONSTRAINT ");
        qname(&b, k->name);
        if (copy_try_sql(c, b.data ? b.data : "", why, sizeof(why)))
            copy_warn(r,
                      "foreign key %s of \"%s\" is NOT VALID: existing rows violate it (%s); "
                      "new rows are checked",
                      k->name, t->dst, why);
    }
    rc = copy_exec(c, "COMMIT", what, err);
    buf_release(&b);
    return rc;
}

static int atask_add(atask **v, int *n, size_t *cap, int t, int kind, int item, char *name)
{
    if (ARR_GROW(*v, *cap, (size_t)*n + 1)) {
        free(name);
        return -1;
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
    int n = 0;
    size_t cap = 0;
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
    int n = 0;
    size_t cap = 0;
    strata_code rc = copy_exec(r->ctl, "BEGIN", "cannot add foreign keys", err);
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
                copy_warn(r, "foreign key of \"%s\" to \"%s\" not created: that table is not copied", t->dst,
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
                    copy_rollback(r->ctl);
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
                if (copy_try_sql(r->ctl, b.data ? b.data : "", why, sizeof(why))) {
                    copy_warn(r, "foreign key %s of \"%s\" not created: %s", cname, t->dst, why);
                } else if (atask_add(&v, &n, &cap, i, AT_VALIDATE, k, cname)) {
                    buf_release(&b);
                    atasks_free(v, n);
                    copy_rollback(r->ctl);
                    return err_set(err, STRATA_NOMEM, "out of memory");
                } else {
                    cname = NULL;
                }
            }
            free(cname);
            buf_release(&b);
        }
    }
    rc = copy_exec(r->ctl, "COMMIT", "cannot add foreign keys", err);
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
            PGresult *res = copy_query(r->ctl, "SELECT pg_get_serial_sequence($1, $2)", 2, p,
                                       "cannot look up a sequence", err);
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
            res = copy_query(r->ctl, b.data ? b.data : "", 2, p2, "cannot set a sequence", err);
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
        rc = copy_try_sql(r->ctl, b.data ? b.data : "", why, whysz) ? 1 : 0;
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
            copy_warn(r, "view \"%s\" not created: %s", r->s.views[2 * i], why);
        else if (rc > 0 && pending)
            pending[i] = 1;
        else if (rc > 0)
            copy_warn(r, "view \"%s\" not created: %s", r->s.views[2 * i], why);
    }
    while (pending && progress) {
        progress = 0;
        for (int i = 0; i < n; i++)
            if (pending[i] && create_view(r, i, why, sizeof(why)) == 0)
                pending[i] = 0, progress = 1;
    }
    for (int i = 0; pending && i < n; i++)
        if (pending[i] && create_view(r, i, why, sizeof(why)) != 0)
            copy_warn(r, "view \"%s\" not created: %s", r->s.views[2 * i], why);
    free(pending);
    for (int i = 0; i < r->s.ntriggers; i++)
        copy_warn(r,
                  "trigger \"%s\" not carried over: SQLite trigger bodies are not translated; "
                  "rewrite it as a PL/pgSQL trigger",
                  r->s.triggers[i]);
}

strata_code copy_after_data(run *r, strata_error *err)
{
    strata_code rc;
    if (!r->data_only) {
        if ((rc = constraints(r, err)) || (rc = foreign_keys(r, err)))
            return rc;
        views_and_triggers(r);
    }
    if (!r->schema_only && (rc = sequences(r, err)))
        return rc;
    return STRATA_OK;
}
