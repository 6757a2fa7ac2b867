/*
 * copy_after.c -- strata copy, the move as one schedule: each table's load
 * (copy_load.c), then as soon as its rows have committed its primary key,
 * unique constraints, indexes and CHECKs (parallel tasks on the worker
 * pool, while other tables still load), its sequences, and the foreign keys
 * (added NOT VALID, then validated) once both their tables are ready; then
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

/* A unique constraint over exactly these columns (in any order) is on t
   already -- under whatever name an earlier run gave it (users_email_key1
   beside an older table's users_email_key, which may be gone by now). */
static int unique_on(PGconn *c, ctable *t, char **cols, int n)
{
    char oid[16];
    snprintf(oid, sizeof(oid), "%u", t->oid);
    buf q;
    buf_init(&q);
    /* the same columns in any order: (a, b) and (b, a) allow the same rows */
    buf_adds(&q,
             "SELECT 1 FROM pg_constraint WHERE conrelid = $1::oid AND contype = 'u' AND "
             "(SELECT array_agg(k ORDER BY k) FROM unnest(conkey) k) = (SELECT array_agg(k ORDER BY k) FROM "
             "unnest(ARRAY[");
    for (int i = 0; i < n; i++) {
        int k = cols[i] ? table_col(t, cols[i]) : -1;
        if (k < 0) {
            buf_release(&q);
            return 0;
        }
        buf_adds(&q, i ? ", " : "");
        buf_adds(&q, "(SELECT attnum FROM pg_attribute WHERE attrelid = $1::oid AND attname = ");
        buf_add_sqlstr(&q, t->cols[k].dst);
        buf_adds(&q, ")");
    }
    buf_adds(&q, "]::int2[]) k)");
    const char *p[1] = {oid};
    PGresult *res = q.oom ? NULL : pq.PQexecParams(c, q.data, 1, NULL, p, NULL, NULL, 0);
    int has = pq.PQresultStatus(res) == PGRES_TUPLES_OK && pq.PQntuples(res) > 0;
    pq.PQclear(res);
    buf_release(&q);
    return has;
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
            !c_strncasecmp(p, "ON", 2) &&
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
            if (l > 4 && !c_strcasecmp(seg + l - 4, " ASC")) {
                seg[l - 4] = 0;
            } else if (l > 5 && !c_strcasecmp(seg + l - 5, " DESC")) {
                seg[l - 5] = 0;
                dir = " DESC";
            } else {
                char *co = NULL;
                for (char *p = seg; (p = c_strcasestr(p, "COLLATE")) != NULL; p++)
                    co = p;
                if (co && (co == seg || co[-1] == ' ')) {
                    const char *cn = co + 7;
                    while (*cn == ' ')
                        cn++;
                    if (!c_strcasecmp(cn, "NOCASE") || !c_strcasecmp(cn, "\"NOCASE\"")) {
                        nocase = 1;
                    } else if (c_strcasecmp(cn, "BINARY") != 0) {
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
    if (!c_strncasecmp(wh, "WHERE", 5)) {
        buf tr;
        buf_init(&tr);
        size_t wl = strlen(wh + 5);
        while (wl && (wh[5 + wl - 1] == ';' || wh[5 + wl - 1] == ' ' || wh[5 + wl - 1] == '\n'))
            wl--;
        /* SQLite's "WHERE active" on a 0/1 integer flag: PostgreSQL wants a
           boolean there (the unique index was lost) */
        if (expr_translate_pred(wh + 5, wl, &r->s, t, r->o->keep_case, &tr, why, whysz)) {
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
 * The move as small tasks on one pool, so that the indexes of one big table
 * build on several connections at once, and while other tables still load:
 *
 *   AT_LOAD    a table's rows (copy_load.c), in one transaction
 *   AT_PKEY,   after its load: a primary key or unique constraint is a
 *   AT_UNIQUE, unique index built under a SHARE lock (concurrent builds on
 *   AT_INDEX   one table do not block each other), attached later with
 *              ADD CONSTRAINT ... USING INDEX; indexes as translated
 *   AT_FINISH  after the table's indexes: keys attached and CHECKs added
 *              (exclusive locks, so last), then its sequences
 *   AT_FK      after both tables' AT_FINISH: the foreign key added NOT
 *              VALID (one at a time: its locks span two tables), then
 *              validated in a transaction of its own
 *
 * Each task is its own transaction; a table's keys start as soon as its rows
 * have committed, whatever the other tables do. Among ready tasks the
 * largest table's go first, and a table's load before its keys.
 */
enum { AT_LOAD, AT_PKEY, AT_UNIQUE, AT_INDEX, AT_FINISH, AT_FK };

typedef struct atask {
    int t;    /* table */
    int kind; /* AT_* */
    int item; /* index or foreign key number */
    char *name;
    char *sql; /* AT_FK: the ADD CONSTRAINT ... NOT VALID, NULL when it exists */
    int *pre;  /* tasks that must be done first */
    int npre;
    size_t cappre;
} atask;

typedef struct tasklist {
    atask *v;
    int n;
    size_t cap;
    int *load, *finish; /* per table: its AT_LOAD and AT_FINISH task, -1 */
} tasklist;

static int atask_ready(pool *p, int i)
{
    atask *k = (atask *)p->tasks + i;
    for (int j = 0; j < k->npre; j++)
        if (p->state[k->pre[j]] != 2)
            return 0;
    return 1;
}

/* Loads first, the largest first: a small table's load is quick, and the
   foreign keys of larger tables may wait for its keys. Then the work left
   on the table's chain, in the table's rows: its keys and indexes (the
   primary key last: its rows come sorted, it builds fastest), its CHECKs,
   its foreign keys. */
static long long atask_weight(pool *p, int i)
{
    static const int chain[] = {0, 7, 8, 8, 4, 2}; /* by AT_* */
    atask *k = (atask *)p->tasks + i;
    long long rows = p->r->s.t[k->t].total + 1;
    return k->kind == AT_LOAD ? (1LL << 60) + rows : rows * chain[k->kind];
}

static ctable *atask_table(pool *p, int i)
{
    return &p->r->s.t[((atask *)p->tasks + i)->t];
}

static int atask_stage(pool *p, int i)
{
    return ((atask *)p->tasks + i)->kind != AT_LOAD;
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

/* ------------------------------------------------ names strata makes up */

typedef struct names {
    char **v;
    size_t n, cap;
    int oom;
} names;

static int name_taken(const names *s, const char *x)
{
    for (size_t i = 0; i < s->n; i++)
        if (!strcmp(s->v[i], x))
            return 1;
    return 0;
}

/* Adds x (taken over: freed on failure). */
static void name_take(names *s, char *x)
{
    if (!x || ARR_GROW(s->v, s->cap, s->n + 1)) {
        free(x);
        s->oom = 1;
        return;
    }
    s->v[s->n++] = x;
}

static void names_release(names *s)
{
    for (size_t i = 0; i < s->n; i++)
        free(s->v[i]);
    free(s->v);
}

/* base_label, else base_label1, base_label2, ... -- the first one free,
   taken; a copy of it (malloc'd) or NULL. */
static char *name_choose(names *s, const char *base, const char *label)
{
    char *x = pg_name(base, label);
    char alt[80];
    for (int k = 1; x && name_taken(s, x); k++) {
        free(x);
        snprintf(alt, sizeof(alt), "%.60s%d", label, k);
        x = pg_name(base, alt);
    }
    char *copy = x ? xstrdup(x) : NULL;
    name_take(s, x);
    return copy;
}

/* How to name a relation of pg_class.relkind kind in a message, and in
   the ALTER that renames it. */
static void relkind_words(char kind, const char **noun, const char **alter)
{
    static const struct {
        char kind;
        const char *noun, *alter;
    } words[] = {{'i', "an index", "INDEX"},           {'I', "an index", "INDEX"},
                 {'S', "a sequence", "SEQUENCE"},      {'v', "a view", "VIEW"},
                 {'m', "a view", "MATERIALIZED VIEW"}, {'c', "a relation", "TYPE"},
                 {'f', "a relation", "FOREIGN TABLE"}};
    *noun = "a relation";
    *alter = "TABLE";
    for (size_t i = 0; i < sizeof(words) / sizeof(words[0]); i++)
        if (words[i].kind == kind) {
            *noun = words[i].noun;
            *alter = words[i].alter;
        }
}

/* One of the copied tables, by its target name. */
static int copied_table(const run *r, const char *name)
{
    for (int i = 0; i < r->s.n; i++)
        if (!strcmp(r->s.t[i].dst, name))
            return 1;
    return 0;
}

/*
 * Takes into s the names of the target schema's relations that belong to
 * none of the copied tables: another table and its indexes and sequences, a
 * view or sequence of its own. A copied table's own indexes and sequences
 * (a rerun's) are not taken, so the same names come out again. The first
 * source index (CREATE INDEX, a name the user chose) whose name is taken
 * that way is CONFIG_ERROR, before anything is created.
 */
static strata_code foreign_names(run *r, names *s, strata_error *err)
{
    PGresult *res = copy_query(
        r->ctl,
        "SELECT c.relname, c.relkind, coalesce(it.relname, dt.relname) FROM pg_class c "
        "LEFT JOIN pg_index i ON i.indexrelid = c.oid LEFT JOIN pg_class it ON it.oid = i.indrelid "
        "LEFT JOIN pg_depend d ON c.relkind = 'S' AND d.classid = 'pg_class'::regclass AND d.objid = c.oid "
        "AND d.refclassid = 'pg_class'::regclass AND d.deptype IN ('a', 'i') "
        "LEFT JOIN pg_class dt ON dt.oid = d.refobjid "
        "WHERE c.relnamespace = (SELECT oid FROM pg_namespace WHERE nspname = current_schema())",
        0, NULL, "cannot list the target's relations", err);
    if (!res)
        return err->code;
    for (int i = 0; i < pq.PQntuples(res) && !s->oom; i++) {
        const char *name = pq.PQgetvalue(res, i, 0), *owner = pq.PQgetvalue(res, i, 2);
        int owned = !pq.PQgetisnull(res, i, 2);
        if (owned ? copied_table(r, owner) : copied_table(r, name))
            continue;
        int view = 0;
        for (int v = 0; v < r->s.nviews && !view; v++) {
            char *vn = copy_name(r->s.views[2 * v], r->o->keep_case);
            view = vn && !strcmp(vn, name);
            free(vn);
        }
        if (view && !owned)
            continue; /* a view of the source, made by an earlier run */
        name_take(s, xstrdup(name));
    }
    strata_code rc = s->oom ? err_set(err, STRATA_NOMEM, "out of memory") : STRATA_OK;
    for (int i = 0; i < r->s.n && !rc; i++) {
        ctable *t = &r->s.t[i];
        for (int k = 0; k < t->nidx && !rc; k++) {
            char *nm = t->idx[k].origin == 'c' ? copy_name(t->idx[k].name, r->o->keep_case) : NULL;
            for (int j = 0; nm && j < pq.PQntuples(res); j++) {
                if (strcmp(pq.PQgetvalue(res, j, 0), nm) || !name_taken(s, nm))
                    continue;
                char kind = pq.PQgetvalue(res, j, 1)[0];
                const char *owner = pq.PQgetvalue(res, j, 2), *noun, *alter;
                relkind_words(kind, &noun, &alter);
                err_set(
                    err, STRATA_CONFIG_ERROR,
                    "index \"%s\" of table \"%s\" cannot be created: the target already has %s \"%s\"%s%s%s",
                    nm, t->dst, noun, nm, owner[0] ? " (of table \"" : "", owner, owner[0] ? "\")" : "");
                err_hint(err,
                         "rename or drop it in the target (ALTER %s ... RENAME TO ...), or leave table "
                         "\"%s\" out with --exclude",
                         alter, t->dst);
                rc = STRATA_CONFIG_ERROR;
                break;
            }
            free(nm);
        }
    }
    pq.PQclear(res);
    return rc;
}

/*
 * Names the primary keys (t_pkey), unique constraints (t_col_key) and
 * identity sequences (t_col_seq) as PostgreSQL would. They share one
 * namespace with tables, views and the user's own indexes, and the user's
 * names win: a made-up name already in use -- a table "users_pkey" or
 * "users_id_seq", a SQLite index named "users_email_key" -- gets a number,
 * as PostgreSQL's ChooseRelationName does (users_pkey1). Left to the server,
 * a sequence made with its table took the name of a table created after it
 * (that creation failed) or of an index built later (CREATE INDEX IF NOT
 * EXISTS then skipped it). So do the names of the target's relations that
 * are not the copied tables' (foreign_names). The same source and target
 * give the same names, so a rerun finds what an earlier run built.
 */
strata_code copy_names(run *r, strata_error *err)
{
    names s = {0};
    strata_code frc = r->data_only ? STRATA_OK : foreign_names(r, &s, err);
    if (frc) {
        names_release(&s);
        return frc;
    }
    for (int i = 0; i < r->s.n; i++) {
        ctable *t = &r->s.t[i];
        name_take(&s, xstrdup(t->dst));
        for (int k = 0; k < t->nidx; k++)
            if (t->idx[k].origin == 'c')
                name_take(&s, copy_name(t->idx[k].name, r->o->keep_case));
    }
    for (int i = 0; i < r->s.nviews; i++)
        name_take(&s, copy_name(r->s.views[2 * i], r->o->keep_case));
    for (int i = 0; i < r->s.n && !s.oom; i++) {
        ctable *t = &r->s.t[i];
        int npk = 0;
        for (int j = 0; j < t->ncols; j++)
            npk |= t->cols[j].pk;
        free(t->pkname);
        t->pkname = npk ? name_choose(&s, t->dst, "pkey") : NULL;
        s.oom |= npk && !t->pkname;
        for (int k = 0; k < t->nidx; k++) {
            cidx *x = &t->idx[k];
            free(x->cname);
            x->cname = NULL;
            int expr = 0;
            for (int j = 0; j < x->ncols; j++)
                expr |= x->cols[j] == NULL;
            if (x->origin != 'u' || expr)
                continue; /* over an expression: an index, not a constraint */
            buf nm;
            buf_init(&nm);
            buf_add(&nm, "", 0);
            join_names(&nm, t, x->cols, x->ncols);
            buf_adds(&nm, "_key");
            x->cname = nm.oom ? NULL : name_choose(&s, t->dst, nm.data);
            s.oom |= !x->cname;
            buf_release(&nm);
        }
    }
    for (int i = 0; i < r->s.n && !s.oom; i++) {
        ctable *t = &r->s.t[i];
        for (int j = 0; j < t->ncols; j++) {
            ccol *c = &t->cols[j];
            free(c->seqname);
            c->seqname = NULL;
            if (!c->identity)
                continue;
            char *base = pg_name(t->dst, c->dst);
            c->seqname = base ? name_choose(&s, base, "seq") : NULL;
            s.oom |= !c->seqname;
            free(base);
        }
    }
    strata_code rc = s.oom ? err_set(err, STRATA_NOMEM, "out of memory") : STRATA_OK;
    names_release(&s);
    return rc;
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
    char *pk = t->pkname ? xstrdup(t->pkname) : NULL; /* copy_names: set when it has one */
    if (pk && t->pk_null && !pk_exists(c, t->oid)) {
        /* --schema-only: the rows that come later would break it */
        copy_warn(r,
                  "primary key of \"%s\" not created (a unique index stays): the source holds NULL in its "
                  "column \"%s\"",
                  t->dst, t->pk_null);
    } else if (pk && !pk_exists(c, t->oid) && relation_exists(c, pk)) {
        buf_adds(&b, "ALTER TABLE ");
        qname(&b, t->dst);
        buf_adds(&b, " ADD CONSTRAINT ");
        qname(&b, pk);
        buf_adds(&b, " PRIMARY KEY USING INDEX ");
        qname(&b, pk);
        if (copy_try_sql(r, c, b.data ? b.data : "", why, sizeof(why)) == -1)
            copy_warn(r, "primary key of \"%s\" not created (a unique index stays): %s", t->dst, why);
    }
    free(pk);
    for (int k = 0; k < t->nidx; k++) {
        cidx *x = &t->idx[k];
        if (x->origin != 'u')
            continue;
        char *cname = x->cname ? xstrdup(x->cname) : NULL;
        if (cname && !constraint_exists(c, t->oid, cname) && relation_exists(c, cname)) {
            buf_reset(&b);
            buf_adds(&b, "ALTER TABLE ");
            qname(&b, t->dst);
            buf_adds(&b, " ADD CONSTRAINT ");
            qname(&b, cname);
            buf_adds(&b, " UNIQUE USING INDEX ");
            qname(&b, cname);
            int tried = copy_try_sql(r, c, b.data ? b.data : "", why, sizeof(why));
            if (tried == -1)
                copy_warn(r, "unique constraint %s on \"%s\" not created (a unique index stays): %s", cname,
                          t->dst, why);
            else if (!tried && x->nocase)
                copy_warn(r,
                          "unique constraint %s on \"%s\" compares case-sensitively in PostgreSQL "
                          "(COLLATE NOCASE in SQLite)",
                          cname, t->dst);
            else if (!tried && x->rtrim)
                copy_warn(r,
                          "unique constraint %s on \"%s\" counts trailing spaces in PostgreSQL "
                          "(COLLATE RTRIM in SQLite: 'a' and 'a ' were the same key)",
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
            ok = x->cols[j] && !c_strcasecmp(x->cols[j], f->from[j]);
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
            hit = t->cols[c].pk == j + 1 && !c_strcasecmp(t->cols[c].src, f->from[j]);
        if (!hit)
            return 0;
    }
    return 1;
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
            !c_strncasecmp(p, "AS", 2) && (p[2] == ' ' || p[2] == '\n' || p[2] == '\t' || p[2] == '(')) {
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
        rc = copy_try_sql(r, r->ctl, b.data ? b.data : "", why, whysz) == -1; /* -2: the run failed */
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

/* BEGIN and the task's session settings. */
static strata_code task_begin(run *r, PGconn *c, const char *what, strata_error *err)
{
    strata_code rc = copy_exec(c, "BEGIN", what, err);
    if (!rc)
        rc = copy_tune(r, c, what, err);
    if (rc)
        copy_rollback(c);
    return rc;
}

/*
 * Identities and sequences of t continue after the largest copied value
 * (and after SQLite's AUTOINCREMENT counter). That is every sequence a
 * column of t draws from: its identity or serial (pg_get_serial_sequence),
 * and any sequence its default names with nextval(), owned or not (a
 * document number, a sequence several tables share). Each is only ever
 * raised, never lowered (a rerun after the application drew ids); one that
 * other columns also draw from, or that belongs to something else, under a
 * lock per sequence, since the other tables' tasks set it too, in any order.
 */
static strata_code table_sequences(run *r, PGconn *c, ctable *t, strata_error *err)
{
    buf tn;
    buf_init(&tn);
    qname(&tn, t->dst);
    const char *p[1] = {tn.data};
    PGresult *seqs = copy_query(
        c,
        "SELECT a.attname, s.oid::regclass::text, "
        "NOT EXISTS (SELECT 1 FROM pg_depend o WHERE o.classid = 'pg_class'::regclass AND o.objid = s.oid "
        "  AND o.refclassid = 'pg_class'::regclass AND o.refobjid = a.attrelid AND o.refobjsubid = a.attnum "
        "  AND o.deptype IN ('a', 'i')) "
        "OR EXISTS (SELECT 1 FROM pg_depend u JOIN pg_attrdef ud ON ud.oid = u.objid "
        "  WHERE u.classid = 'pg_attrdef'::regclass AND u.refclassid = 'pg_class'::regclass "
        "  AND u.refobjid = s.oid AND (ud.adrelid, ud.adnum) <> (a.attrelid, a.attnum)) "
        "FROM pg_attribute a CROSS JOIN LATERAL ("
        "  SELECT pg_get_serial_sequence($1, a.attname)::regclass::oid AS seq "
        "  UNION SELECT d.refobjid FROM pg_attrdef ad JOIN pg_depend d "
        "    ON d.classid = 'pg_attrdef'::regclass AND d.objid = ad.oid AND d.refclassid = "
        "'pg_class'::regclass "
        "    WHERE ad.adrelid = a.attrelid AND ad.adnum = a.attnum) q "
        "JOIN pg_class s ON s.oid = q.seq AND s.relkind = 'S' "
        "WHERE a.attrelid = $1::regclass AND a.attnum > 0 AND NOT a.attisdropped ORDER BY a.attnum, 2",
        1, p, "cannot look up a sequence", err);
    buf_release(&tn);
    if (!seqs)
        return err->code;
    strata_code rc = STRATA_OK;
    for (int i = 0; i < pq.PQntuples(seqs) && !rc; i++) {
        const char *col = pq.PQgetvalue(seqs, i, 0), *seq = pq.PQgetvalue(seqs, i, 1);
        int shared = pq.PQgetvalue(seqs, i, 2)[0] == 't';
        ccol *cc = NULL;
        for (int k = 0; k < t->ncols && !cc; k++)
            if (!strcmp(t->cols[k].dst, col))
                cc = &t->cols[k];
        long long hint = cc && cc->identity && t->has_seq ? t->seq : 0;
        const char *p1[1] = {seq};
        PGresult *lock = !shared ? NULL
                                 : copy_query(c,
                                              "SELECT pg_advisory_xact_lock(hashtext('strata:sequence'), "
                                              "$1::regclass::oid::int4)",
                                              1, p1, "cannot lock a sequence", err);
        if (shared && !lock) {
            rc = err->code;
            break;
        }
        pq.PQclear(lock);
        buf b;
        buf_init(&b);
        char hs[32];
        snprintf(hs, sizeof(hs), "%lld", hint);
        /* raised to the largest value, never lowered: after a copy the
           application may have drawn ids that it deleted since, and a
           rerun must not hand them out again; a sequence nobody drew from
           hands out its last_value next (its start, or a RESTART WITH) --
           read from the sequence itself, whose name seq holds as SQL (a
           regclass's text). A descending sequence is left alone. Past the
           sequence's maximum (a target's MAXVALUE below the copied ids)
           setval fails: DB_ERROR naming the step, the table not marked
           done, and a rerun after the fix finishes it. */
        buf_adds(&b, "SELECT CASE WHEN m >= 1 AND q.inc > 0 AND m > q.cur THEN setval($1, m, true) END, "
                     "q.inc > 0 AND m >= q.mx FROM (SELECT greatest(coalesce(max(");
        qname(&b, col);
        buf_adds(&b, ")::bigint, 0), $2::bigint) AS m FROM ");
        qname(&b, t->dst);
        buf_adds(&b, ") s, (SELECT CASE WHEN is_called THEN last_value ELSE last_value - inc END AS cur, "
                     "inc, mx FROM ");
        buf_adds(&b, seq);
        buf_adds(
            &b, ", (SELECT seqincrement AS inc, seqmax AS mx FROM pg_sequence WHERE seqrelid = $1::regclass) "
                "i) q");
        const char *p2[2] = {seq, hs};
        PGresult *res = b.oom ? NULL : copy_query(c, b.data, 2, p2, "cannot set a sequence", err);
        if (!res)
            rc = b.oom ? err_set(err, STRATA_NOMEM, "out of memory") : err->code;
        else if (pq.PQntuples(res) == 1 && pq.PQgetvalue(res, 0, 1)[0] == 't')
            copy_warn(
                r,
                "table \"%s\", column \"%s\": the largest value reaches its sequence's maximum, so a new "
                "row without a value fails (SQLite picks a free rowid at random there); renumber, or "
                "give new rows their id",
                t->dst, col);
        pq.PQclear(res);
        buf_release(&b);
    }
    pq.PQclear(seqs);
    return rc;
}

char *check_name(run *r, const ctable *t, int n)
{
    const ccheck *ck = &t->checks[n];
    char suffix[64];
    snprintf(suffix, sizeof(suffix), "check%d", n + 1);
    return ck->name ? copy_name(ck->name, r->o->keep_case) : pg_name(t->dst, suffix);
}

int check_sql(run *r, const ctable *t, int n, buf *b, char **cname, char *why, size_t whysz)
{
    const ccheck *ck = &t->checks[n];
    *cname = check_name(r, t, n);
    buf_init(b);
    if (!*cname) {
        snprintf(why, whysz, "out of memory");
        return -1;
    }
    buf tr;
    buf_init(&tr);
    int bad = expr_translate(ck->expr, strlen(ck->expr), &r->s, t, -1, r->o->keep_case, &tr, why, whysz);
    if (!bad) {
        buf_adds(b, "ALTER TABLE ");
        qname(b, t->dst);
        buf_adds(b, " ADD CONSTRAINT ");
        qname(b, *cname);
        buf_adds(b, " CHECK (");
        cbuf_add(b, tr.data ? tr.data : "", tr.len);
        buf_adds(b, ")");
        if (b->oom) {
            snprintf(why, whysz, "out of memory");
            bad = 1;
        }
    }
    buf_release(&tr);
    return bad ? -1 : 0;
}

/* A table's last task: its keys attached, its CHECKs added (those the
   schema phase could not add to the empty table, or a load dropped), what
   does not carry over named, its sequences set. */
static void finish_table(run *r, PGconn *c, ctable *t)
{
    char why[600];
    attach_keys(r, c, t);
    for (int n = 0; n < t->nchecks; n++) {
        buf b;
        char *cname;
        int ok = !check_sql(r, t, n, &b, &cname, why, sizeof(why));
        if (cname && constraint_exists(c, t->oid, cname)) {
            buf_release(&b);
            free(cname);
            continue;
        }
        if (ok)
            ok = copy_try_sql(r, c, b.data ? b.data : "", why, sizeof(why)) != -1; /* -2: stopped */
        if (!ok)
            copy_warn(r, "CHECK constraint %s on \"%s\" not carried over: CHECK (%s): %s",
                      cname ? cname : "?", t->dst, t->checks[n].expr, why);
        buf_release(&b);
        free(cname);
    }
    for (int j = 0; j < t->ncols; j++) {
        if (t->cols[j].nocase)
            copy_warn(r,
                      "column \"%s\".\"%s\" has COLLATE NOCASE in SQLite; PostgreSQL compares it "
                      "case-sensitively (consider citext)",
                      t->dst, t->cols[j].dst);
        if (t->cols[j].rtrim)
            copy_warn(r,
                      "column \"%s\".\"%s\" has COLLATE RTRIM in SQLite; PostgreSQL counts trailing spaces "
                      "when it compares it ('a' = 'a ' is false)",
                      t->dst, t->cols[j].dst);
        if (t->cols[j].generated)
            copy_warn(r,
                      "generated column \"%s\".\"%s\" is a plain column in PostgreSQL holding the "
                      "copied values",
                      t->dst, t->cols[j].dst);
    }
}

/* A foreign key: added NOT VALID (unless an earlier run did), then
   validated. */
static strata_code fk_task(run *r, PGconn *c, atask *k, ctable *t, const char *what, strata_error *err)
{
    char why[600];
    strata_code rc;
    if (k->sql) {
        /* catalog only, but SHARE ROW EXCLUSIVE on both tables: one at a
           time, or two keys between the same tables could deadlock */
        pthread_mutex_lock(&r->fkmu);
        rc = copy_exec(c, "BEGIN", what, err);
        int bad = rc ? 0 : copy_try_sql(r, c, k->sql, why, sizeof(why));
        if (!rc)
            rc = copy_exec(c, "COMMIT", what, err);
        pthread_mutex_unlock(&r->fkmu);
        if (rc) {
            copy_rollback(c);
            return rc;
        }
        if (bad == -1)
            copy_warn(r, "foreign key %s of \"%s\" not created: %s", k->name, t->dst, why);
        if (bad)
            return STRATA_OK; /* -2: the run's error stops the copy */
    }
    if ((rc = task_begin(r, c, what, err)))
        return rc;
    /* with an index on the referencing columns, both sides are read in key
       order from their indexes (index-only: COPY FREEZE set the visibility
       map) and merged -- three times faster than hashing the parent for
       1,000,000 rows */
    if (fk_indexed(t, &t->fks[k->item]) &&
        (rc = copy_exec(c, "SET LOCAL enable_hashjoin = off", what, err))) {
        copy_rollback(c);
        return rc;
    }
    buf b;
    buf_init(&b);
    buf_adds(&b, "ALTER TABLE ");
    qname(&b, t->dst);
    buf_adds(&b, " VALIDATE CONSTRAINT ");
    qname(&b, k->name);
    if (copy_try_sql(r, c, b.data ? b.data : "", why, sizeof(why)) == -1)
        copy_warn(r,
                  "foreign key %s of \"%s\" is NOT VALID: existing rows violate it (%s); "
                  "new rows are checked",
                  k->name, t->dst, why);
    buf_release(&b);
    if ((rc = copy_exec(c, "COMMIT", what, err)))
        copy_rollback(c);
    return rc;
}

static strata_code atask_fn(worker *w, pool *p, int i, strata_error *err)
{
    run *r = w->r;
    PGconn *c = w->pg;
    atask *k = (atask *)p->tasks + i;
    ctable *t = &r->s.t[k->t];
    char why[600], what[300];
    strata_code rc;
    if (k->kind == AT_LOAD) {
        if ((rc = load_task(w, t, err)))
            return rc;
        pthread_mutex_lock(&r->mu);
        r->load_end = copy_now();
        if (--r->loads_left == 0)
            copy_source_done(r);
        pthread_mutex_unlock(&r->mu);
        return STRATA_OK;
    }
    snprintf(what, sizeof(what), "cannot add the %s of \"%s\"",
             k->kind == AT_FK                       ? "foreign keys"
             : k->kind == AT_FINISH && r->data_only ? "sequences"
                                                    : "keys and indexes",
             t->dst);
    if (k->kind == AT_FK)
        return fk_task(r, c, k, t, what, err);
    if ((rc = task_begin(r, c, what, err)))
        return rc;
    buf b;
    buf_init(&b);
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
        if (copy_try_sql(r, c, b.data ? b.data : "", why, sizeof(why)) == -1)
            copy_warn(r, "primary key of \"%s\" not created: %s", t->dst, why);
    } else if (k->kind == AT_UNIQUE && !constraint_exists(c, t->oid, k->name) &&
               !unique_on(c, t, t->idx[k->item].cols, t->idx[k->item].ncols)) {
        cidx *x = &t->idx[k->item];
        buf_adds(&b, "CREATE UNIQUE INDEX IF NOT EXISTS ");
        qname(&b, k->name);
        buf_adds(&b, " ON ");
        qname(&b, t->dst);
        buf_add(&b, " ", 1);
        col_list(&b, t, x->cols, x->ncols);
        if (copy_try_sql(r, c, b.data ? b.data : "", why, sizeof(why)) == -1)
            copy_warn(r, "unique constraint %s on \"%s\" not created: %s", k->name, t->dst, why);
    } else if (k->kind == AT_INDEX) {
        cidx *x = &t->idx[k->item];
        if (index_sql(r, t, x, &b, why, sizeof(why)) ||
            copy_try_sql(r, c, b.data ? b.data : "", why, sizeof(why)) == -1)
            copy_warn(r, "index \"%s\" on \"%s\" not created: %s", x->name, t->dst, why);
    } else if (k->kind == AT_FINISH) {
        if (!r->data_only && !t->version_table)
            finish_table(r, c, t);
        if (!r->schema_only)
            rc = table_sequences(r, c, t, err);
    }
    buf_release(&b);
    if (!rc)
        rc = copy_exec(c, "COMMIT", what, err);
    if (rc)
        copy_rollback(c);
    return rc;
}

/* Adds a task (taking name and sql) depending on task pre (-1: none);
   its number, or -1 when out of memory. */
static int task_add(tasklist *L, int t, int kind, int item, char *name, char *sql, int pre)
{
    if (ARR_GROW(L->v, L->cap, (size_t)L->n + 1)) {
        free(name);
        free(sql);
        return -1;
    }
    L->v[L->n] = (atask){t, kind, item, name, sql, NULL, 0, 0};
    if (pre >= 0) {
        if (ARR_GROW(L->v[L->n].pre, L->v[L->n].cappre, 1)) {
            free(name);
            free(sql);
            return -1;
        }
        L->v[L->n].pre[L->v[L->n].npre++] = pre;
    }
    return L->n++;
}

static int task_pre(tasklist *L, int i, int pre)
{
    atask *k = &L->v[i];
    if (pre < 0)
        return 0;
    for (int j = 0; j < k->npre; j++)
        if (k->pre[j] == pre)
            return 0;
    if (ARR_GROW(k->pre, k->cappre, (size_t)k->npre + 1))
        return -1;
    k->pre[k->npre++] = pre;
    return 0;
}

static void tasks_free(tasklist *L)
{
    for (int i = 0; i < L->n; i++) {
        free(L->v[i].name);
        free(L->v[i].sql);
        free(L->v[i].pre);
    }
    free(L->v);
    free(L->load);
    free(L->finish);
}

/* The loads, parents first when the target has foreign keys between them
   (data-only, or tables an earlier run gave keys). */
static int add_loads(run *r, tasklist *L, const int *load)
{
    r->loads_left = 0;
    for (int i = 0; i < r->s.n; i++) {
        if (load[i] && (L->load[i] = task_add(L, i, AT_LOAD, 0, NULL, NULL, -1)) < 0)
            return -1;
        r->loads_left += load[i] != 0;
    }
    for (int i = 0; i < r->s.n; i++) {
        ctable *t = &r->s.t[i];
        for (int k = 0; L->load[i] >= 0 && k < t->ndeps; k++)
            if (t->deps[k] != i && task_pre(L, L->load[i], L->load[t->deps[k]]))
                return -1;
    }
    return 0;
}

/* A table's keys and indexes after its load, then its last task. */
static int add_keys(run *r, tasklist *L, int i)
{
    ctable *t = &r->s.t[i];
    int first = L->n, pre = L->load[i];
    if (!r->data_only && !t->version_table) {
        if (t->pkname && task_add(L, i, AT_PKEY, 0, xstrdup(t->pkname), NULL, pre) < 0)
            return -1;
        for (int k = 0; k < t->nidx; k++) {
            cidx *x = &t->idx[k];
            if (x->origin == 'u') {
                char *cname = x->cname ? xstrdup(x->cname) : NULL;
                if (cname && task_add(L, i, AT_UNIQUE, k, cname, NULL, pre) < 0)
                    return -1;
            } else if (x->origin == 'c' && x->sql && task_add(L, i, AT_INDEX, k, NULL, NULL, pre) < 0) {
                return -1;
            }
        }
    } else if (r->schema_only) {
        return 0; /* the version table: nothing to do */
    }
    if ((L->finish[i] = task_add(L, i, AT_FINISH, 0, NULL, NULL, pre)) < 0)
        return -1;
    for (int j = first; j < L->finish[i]; j++)
        if (task_pre(L, L->finish[i], j))
            return -1;
    return 0;
}

/* The foreign keys of the created tables, each after both its tables'
   last task. */
static int add_fks(run *r, tasklist *L)
{
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
            if (cst == 1) { /* there and valid */
                free(cname);
                continue;
            }
            if (cst == 0) {
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
                if (f->on_delete && c_strcasecmp(f->on_delete, "NO ACTION"))
                    buf_addf(&b, " ON DELETE %s", f->on_delete);
                if (f->on_update && c_strcasecmp(f->on_update, "NO ACTION"))
                    buf_addf(&b, " ON UPDATE %s", f->on_update);
                if (f->deferrable)
                    buf_adds(&b, f->deferrable == 2 ? " DEFERRABLE INITIALLY DEFERRED" : " DEFERRABLE");
                buf_adds(&b, " NOT VALID");
                if (b.oom) {
                    free(cname);
                    buf_release(&b);
                    return -1;
                }
            }
            /* cst == 2: added by a run that was stopped before validating
               it, only to validate (no sql) */
            char *sql = b.len ? buf_detach(&b) : NULL;
            buf_release(&b);
            int n = task_add(L, i, AT_FK, k, cname, sql, L->finish[i]);
            if (n < 0 || task_pre(L, n, L->finish[pi]))
                return -1;
        }
    }
    return 0;
}

strata_code copy_move(run *r, const int *load, strata_error *err)
{
    tasklist L;
    memset(&L, 0, sizeof(L));
    int n = r->s.n ? r->s.n : 1;
    L.load = malloc((size_t)n * sizeof(int));
    L.finish = malloc((size_t)n * sizeof(int));
    int oom = !L.load || !L.finish;
    for (int i = 0; !oom && i < r->s.n; i++)
        L.load[i] = L.finish[i] = -1;
    /* the loads first: when foreign keys make a cycle, the pool runs the
       first waiting task */
    oom = oom || add_loads(r, &L, load);
    for (int i = 0; !oom && i < r->s.n; i++)
        oom = add_keys(r, &L, i) != 0;
    oom = oom || (!r->data_only && add_fks(r, &L));
    strata_code rc = STRATA_OK;
    if (!r->loads_left)
        copy_source_done(r); /* nothing to read */
    int *state = oom ? NULL : calloc((size_t)L.n + 1, sizeof(int));
    if (!state) {
        rc = err_set(err, STRATA_NOMEM, "out of memory");
    } else {
        pool p = {r,           L.n,    state,         atask_ready, atask_weight, atask_table, atask_fn,
                  atask_stage, "load", "constraints", {0, 0},      {0, 0},       NULL,        L.v};
        rc = pool_run(&p, err);
    }
    free(state);
    tasks_free(&L);
    if (!rc && !r->data_only)
        views_and_triggers(r);
    if (!rc) /* a view's statement may have failed for a reason not its own */
        rc = run_error(r, err);
    return rc;
}
