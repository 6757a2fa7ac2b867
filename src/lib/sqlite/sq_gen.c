/*
 * sqlite/sq_gen.c -- `strata diff` on SQLite: the schema model read from
 * sqlite_master and the pragmas, and the plan that turns one model into
 * another (docs/diff.md).
 *
 * SQLite keeps every definition as the SQL text that created it, so new
 * tables, indexes, triggers and views are created with the desired text as
 * it was written. A table whose change is only new columns at its end that
 * ALTER TABLE ADD COLUMN accepts gets those; any other change is the table
 * rebuild of the SQLite documentation (https://sqlite.org/lang_altertable.html,
 * "other kinds of table schema changes"): create the new table under a
 * temporary name, copy the rows of the columns both have, drop the old
 * table, rename the new one, create its indexes and triggers again; views
 * and triggers that read the table are dropped before and created after.
 * strata runs migrations with foreign_keys off (SQLite's default), so the
 * drop does not cascade; the up's verify section runs foreign_key_check.
 */
#include "gen.h"

#include <ctype.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---------------------------------------------------------------- reading */

/* 1 when s can be written without quotes: an identifier's characters, and
   none of SQLite's keywords (sqlite3_keyword_check knows them all, such as
   LIMIT or EXISTS, which a name may be when quoted). */
static int plain_ident(const char *s)
{
    if (!s[0] || !(isalpha((unsigned char)s[0]) || s[0] == '_'))
        return 0;
    for (const char *p = s; *p; p++)
        if (!(isalnum((unsigned char)*p) || *p == '_'))
            return 0;
    size_t n = strlen(s);
    return n > 64 || !sqlite3_keyword_check(s, (int)n);
}

static char *quote(const char *s)
{
    if (plain_ident(s))
        return xstrdup(s);
    buf b;
    buf_init(&b);
    buf_add_quoted_ident(&b, s);
    return buf_detach(&b);
}

static char *norm_text(const char *sql)
{
    sql_tok *t = NULL;
    size_t n = sql_tokenize(sql, &t);
    if (n == (size_t)-1)
        return NULL;
    buf b;
    buf_init(&b);
    sql_norm(t, n, &b);
    free(t);
    return b.data ? buf_detach(&b) : xstrdup("");
}

/* 1 when s points into one of the tokens t[0..n) (a string, a quoted name). */
static int in_token(const sql_tok *t, size_t n, const char *s)
{
    for (size_t i = 0; i < n; i++)
        if (s >= t[i].s && s < t[i].s + t[i].n)
            return 1;
    return 0;
}

/*
 * A copy of sql (the caller frees; NULL when out of memory) in which each
 * comment line the migration file parser would take for a section marker
 * ("-- strata:down" first on its line, outside any string) gets a third
 * '-': SQLite keeps the comments of a definition as written, and diff
 * writes definitions into a migration file. Comments are not compared.
 */
static char *unmark(const char *sql)
{
    sql_tok *t = NULL;
    size_t n = sql_tokenize(sql, &t);
    if (n == (size_t)-1)
        return xstrdup(sql);
    buf b;
    buf_init(&b);
    for (const char *p = sql; *p;) {
        size_t eol = strcspn(p, "\n"), w = 0, lead = strspn(p, " \t");
        buf_add(&b, p, lead);
        if (marker_word(p, eol, &w) && !in_token(t, n, p + lead))
            buf_adds(&b, "-");
        buf_add(&b, p + lead, eol - lead + (p[eol] == '\n'));
        p += eol + (p[eol] == '\n');
    }
    free(t);
    return b.data ? buf_detach(&b) : xstrdup("");
}

typedef struct rd {
    gen_model *m;
    drv *d;
    int oom;
} rd;

static int on_master(void *ud, int n, char **v)
{
    (void)n;
    rd *r = ud;
    /* v: type, name, tbl_name, sql */
    char *q = quote(v[1]), *sql = unmark(v[3] ? v[3] : "");
    if (!q || !sql) {
        free(q);
        free(sql);
        return r->oom = 1;
    }
    if (!strcmp(v[0], "table")) {
        gen_table *t = gen_model_add_table(r->m, v[1], q);
        if (!t || !(t->sql = xstrdup(sql)))
            r->oom = 1;
    } else if (!strcmp(v[0], "view")) {
        gen_obj *o = gen_model_add_obj(r->m, 'v', v[1], q);
        if (!o || !(o->def = xstrdup(sql)) || !(o->norm = norm_text(sql)))
            r->oom = 1;
    } else if (v[0][0] == 't' && !gen_find_table(r->m, v[2])) {
        /* a trigger on a view (INSTEAD OF): an object, owned by its view */
        gen_obj *o = gen_model_add_obj(r->m, 't', v[1], q);
        if (!o || !(o->def = xstrdup(sql)) || !(o->norm = norm_text(sql)) || !(o->owned = xstrdup(v[2])))
            r->oom = 1;
    } else {
        gen_table *t = gen_find_table(r->m, v[2]);
        gen_item *it = t ? gen_table_add_item(t, v[0][0] == 'i' ? 'i' : 't', v[1], q, sql) : NULL;
        if (t && (!it || !(it->norm = norm_text(sql))))
            r->oom = 1;
    }
    free(q);
    free(sql);
    return r->oom;
}

static int on_column(void *ud, int n, char **v)
{
    (void)n;
    gen_table *t = ud;
    gen_col *c = gen_table_add_col(t);
    if (!c)
        return 1;
    c->name = xstrdup(v[0]);
    c->q = quote(v[0]);
    c->type = xstrdup(v[1] ? v[1] : "");
    c->notnull = v[2] && v[2][0] == '1';
    c->dflt = v[3] ? xstrdup(v[3]) : NULL;
    c->hidden = v[4] ? atoi(v[4]) : 0;
    return !c->name || !c->q || !c->type;
}

/* The objects of the schema, tables first (so that indexes and triggers find
   theirs). The shadow tables of a virtual table (an FTS5 table's _data,
   _idx, ...) are left out: they come and go with it. pragma_table_list
   (SQLite 3.37) names them; before it, a table named after a virtual table
   and '_' is taken for one. */
static const char *const q_master[2] = {
    "SELECT type, name, tbl_name, sql FROM sqlite_master"
    " WHERE name NOT LIKE 'sqlite\\_%' ESCAPE '\\' AND sql IS NOT NULL"
    " AND tbl_name <> $1 AND type IN ('table', 'view', 'index', 'trigger')"
    " AND tbl_name NOT IN (SELECT name FROM pragma_table_list WHERE type = 'shadow')"
    " ORDER BY CASE type WHEN 'table' THEN 0 ELSE 1 END, name",
    "SELECT type, name, tbl_name, sql FROM sqlite_master m"
    " WHERE name NOT LIKE 'sqlite\\_%' ESCAPE '\\' AND sql IS NOT NULL"
    " AND tbl_name <> $1 AND type IN ('table', 'view', 'index', 'trigger')"
    " AND NOT EXISTS (SELECT 1 FROM sqlite_master v WHERE v.type = 'table'"
    " AND v.sql LIKE 'CREATE VIRTUAL TABLE %' AND m.sql NOT LIKE 'CREATE VIRTUAL TABLE %'"
    " AND substr(m.tbl_name, 1, length(v.name) + 1) = v.name || '_')"
    " ORDER BY CASE type WHEN 'table' THEN 0 ELSE 1 END, name"};

strata_code sq_gen_read(drv *d, const char *table, gen_model *m, strata_error *err)
{
    rd r = {m, d, 0};
    const char *params[1] = {table};
    strata_code rc = d->ops->query(d, q_master[0], 1, params, on_master, &r, err);
    if (rc && !r.oom && m->nt == 0 && m->no == 0) /* no pragma_table_list */
        rc = d->ops->query(d, q_master[1], 1, params, on_master, &r, err);
    if (r.oom)
        return err_set(err, STRATA_NOMEM, "out of memory");
    if (rc)
        return rc;
    for (size_t i = 0; i < m->nt; i++) {
        const char *tp[1] = {m->t[i].name};
        rc =
            d->ops->query(d, "SELECT name, type, \"notnull\", dflt_value, hidden FROM pragma_table_xinfo($1)",
                          1, tp, on_column, &m->t[i], err);
        if (rc)
            return rc;
    }
    return STRATA_OK;
}

/* ------------------------------------------------- the parts of CREATE TABLE */

typedef struct part {
    const char *s; /* the definition as written */
    size_t n;
    char *norm;
    int constraint; /* a table constraint, not a column */
    sql_tok *t;     /* its tokens (into the table's token array) */
    size_t nt;
} part;

typedef struct tdef {
    sql_tok *t;
    size_t nt;
    part *p;
    size_t np, capp;
    size_t open; /* index of the '(' of the body */
    char *tail;  /* what follows the body (WITHOUT ROWID, STRICT), normalized */
    int ok;
} tdef;

static void tdef_release(tdef *d)
{
    for (size_t i = 0; i < d->np; i++)
        free(d->p[i].norm);
    free(d->p);
    free(d->t);
    free(d->tail);
}

static int tdef_parse(const char *sql, tdef *d)
{
    memset(d, 0, sizeof(*d));
    d->nt = sql_tokenize(sql, &d->t);
    if (d->nt == (size_t)-1) {
        d->nt = 0;
        return -1;
    }
    size_t open = 0;
    while (open < d->nt && !tok_punct(&d->t[open], '('))
        open++;
    size_t close = tok_match_paren(d->t, d->nt, open);
    if (open >= d->nt || close >= d->nt)
        return 0; /* CREATE TABLE ... AS SELECT, or unparsable: always rebuilt */
    d->open = open;
    size_t start = open + 1;
    int depth = 0;
    for (size_t i = open + 1; i <= close; i++) {
        if (tok_punct(&d->t[i], '('))
            depth++;
        else if (tok_punct(&d->t[i], ')') && i != close)
            depth--;
        if (i == close || (depth == 0 && tok_punct(&d->t[i], ','))) {
            if (i > start) {
                if (ARR_GROW(d->p, d->capp, d->np + 1))
                    return -1;
                part *p = &d->p[d->np++];
                memset(p, 0, sizeof(*p));
                p->t = &d->t[start];
                p->nt = i - start;
                p->s = d->t[start].s;
                p->n = (size_t)(d->t[i - 1].s + d->t[i - 1].n - p->s);
                const sql_tok *f = &d->t[start];
                p->constraint = tok_is(f, "constraint") || tok_is(f, "primary") || tok_is(f, "unique") ||
                                tok_is(f, "check") || tok_is(f, "foreign");
                buf b;
                buf_init(&b);
                sql_norm(p->t, p->nt, &b);
                p->norm = b.data ? buf_detach(&b) : xstrdup("");
                if (!p->norm)
                    return -1;
            }
            start = i + 1;
        }
    }
    buf b;
    buf_init(&b);
    sql_norm(&d->t[close + 1], d->nt - close - 1, &b);
    d->tail = b.data ? buf_detach(&b) : xstrdup("");
    d->ok = 1;
    return d->tail ? 0 : -1;
}

/* Can ALTER TABLE ADD COLUMN add this column definition? */
static int addable(const part *p)
{
    for (size_t i = 0; i < p->nt; i++) {
        const sql_tok *t = &p->t[i];
        if (tok_is(t, "primary") || tok_is(t, "unique") || tok_is(t, "stored") || tok_is(t, "references"))
            return 0;
        if (tok_is(t, "default") && i + 1 < p->nt &&
            (tok_punct(&p->t[i + 1], '(') || tok_is(&p->t[i + 1], "current_time") ||
             tok_is(&p->t[i + 1], "current_date") || tok_is(&p->t[i + 1], "current_timestamp")))
            return 0;
    }
    int notnull = 0, dflt = 0;
    for (size_t i = 0; i + 1 < p->nt; i++) {
        if (tok_is(&p->t[i], "not") && tok_is(&p->t[i + 1], "null"))
            notnull = 1;
        if (tok_is(&p->t[i], "default") && !tok_is(&p->t[i + 1], "null"))
            dflt = 1;
    }
    return !notnull || dflt;
}

/* ---------------------------------------------------------------- planning */

typedef struct ctx {
    const gen_model *from, *to;
    const gen_opts *o;
    gen_plan *p;
    const char **rebuilt; /* tables rebuilt, dropped or renamed; views dropped */
    size_t nrebuilt, caprebuilt;
    buf fk_tables;  /* 'name', 'name': the tables rebuilt, lower case, as SQL strings */
    size_t fk_snap; /* up: 1 + the index of the foreign-key snapshot statement; 0: none yet */
} ctx;

static int name_eq(const char *a, const char *b)
{
    return !c_strcasecmp(a, b);
}

static const char *to_name(const ctx *c, const char *name)
{
    return gen_new_name(c->o, NULL, name);
}

/* 1 when the start's table `name` is not renamed but another one is renamed
   to its name (the down of --rename users:users_old beside a new users
   table): then it has no counterpart of its own, it is dropped. */
static int displaced(const ctx *c, const char *name)
{
    if (gen_rename_of(c->o, NULL, name))
        return 0;
    for (size_t r = 0; r < c->o->nrenames; r++)
        if (!c->o->renames[r].table && name_eq(c->o->renames[r].to, name) &&
            !name_eq(c->o->renames[r].from, name))
            return 1;
    return 0;
}

static const gen_table *from_table(const ctx *c, const char *name)
{
    for (size_t i = 0; i < c->from->nt; i++)
        if (name_eq(to_name(c, c->from->t[i].name), name) && !displaced(c, c->from->t[i].name))
            return &c->from->t[i];
    return NULL;
}

static const gen_table *to_table(const ctx *c, const char *from_name)
{
    if (displaced(c, from_name))
        return NULL;
    const char *n = to_name(c, from_name);
    for (size_t i = 0; i < c->to->nt; i++)
        if (name_eq(c->to->t[i].name, n))
            return &c->to->t[i];
    return NULL;
}

static const char *col_to_name(const ctx *c, const char *table, const char *name)
{
    return gen_new_name(c->o, table, name);
}

/* 1 when column `name` of the start's table is not renamed but another
   column of it is renamed to its name (--rename t.a:b while t has a b):
   then b's values have no column to go to, they are lost. */
static int col_displaced(const ctx *c, const char *table, const char *name)
{
    if (gen_rename_of(c->o, table, name))
        return 0;
    for (size_t r = 0; r < c->o->nrenames; r++) {
        const gen_rename *rn = &c->o->renames[r];
        if (rn->table && name_eq(rn->table, table) && name_eq(rn->to, name) && !name_eq(rn->from, name))
            return 1;
    }
    return 0;
}

static int rebuilt(const ctx *c, const char *name)
{
    for (size_t i = 0; i < c->nrebuilt; i++)
        if (name_eq(c->rebuilt[i], name))
            return 1;
    return 0;
}

static void mark_rebuilt(ctx *c, const char *name)
{
    if (rebuilt(c, name))
        return;
    if (ARR_GROW(c->rebuilt, c->caprebuilt, c->nrebuilt + 1)) {
        c->p->oom = 1;
        return;
    }
    c->rebuilt[c->nrebuilt++] = name;
}

static const gen_item *find_item_ci(const gen_model *m, char kind, const char *name, const gen_table **owner)
{
    for (size_t i = 0; i < m->nt; i++)
        for (size_t k = 0; k < m->t[i].nitems; k++)
            if (m->t[i].items[k].kind == kind && name_eq(m->t[i].items[k].name, name)) {
                if (owner)
                    *owner = &m->t[i];
                return &m->t[i].items[k];
            }
    return NULL;
}

/* 1: tsql is fsql with columns added at the end, each one that ALTER TABLE
   ADD COLUMN takes; 0: a rebuild is needed. */
static int only_added_columns(const char *fsql, const char *tsql)
{
    tdef f = {0}, t = {0};
    int ok = 0;
    if (tdef_parse(fsql, &f) == 0 && tdef_parse(tsql, &t) == 0 && f.ok && t.ok && !strcmp(f.tail, t.tail)) {
        /* f's columns, in order, then t's new columns; the constraints equal */
        size_t i = 0, j = 0, added = 0;
        ok = 1;
        for (; ok && i < f.np && !f.p[i].constraint; i++, j++)
            ok = j < t.np && !t.p[j].constraint && !strcmp(f.p[i].norm, t.p[j].norm);
        for (; ok && j < t.np && !t.p[j].constraint; j++, added++)
            ok = addable(&t.p[j]);
        for (; ok && i < f.np && j < t.np; i++, j++)
            ok = f.p[i].constraint && t.p[j].constraint && !strcmp(f.p[i].norm, t.p[j].norm);
        ok = ok && i == f.np && j == t.np && added > 0;
    }
    tdef_release(&f);
    tdef_release(&t);
    return ok;
}

/* The text of the new columns of tsql (those after the first nf columns). */
static void added_columns(ctx *c, const gen_table *tt, size_t nf)
{
    tdef t;
    if (tdef_parse(tt->sql, &t) == 0 && t.ok) {
        size_t k = 0;
        for (size_t j = 0; j < t.np && !t.p[j].constraint; j++, k++)
            if (k >= nf)
                gen_emit(c->p, GEN_PART_TX, "add column", NULL, "ALTER TABLE %s ADD COLUMN %.*s", tt->q,
                         (int)t.p[j].n, t.p[j].s);
    }
    tdef_release(&t);
}

static int table_same(const gen_table *f, const gen_table *t)
{
    tdef a = {0}, b = {0};
    int same = 0;
    if (tdef_parse(f->sql, &a) == 0 && tdef_parse(t->sql, &b) == 0 && a.ok && b.ok && a.np == b.np &&
        !strcmp(a.tail, b.tail)) {
        same = 1;
        for (size_t i = 0; same && i < a.np; i++)
            same = !strcmp(a.p[i].norm, b.p[i].norm);
    }
    tdef_release(&a);
    tdef_release(&b);
    return same;
}

/* The column affinity SQLite gives a declared type (section 3.1 of
   https://sqlite.org/datatype3.html): 'i' INTEGER, 't' TEXT, 'b' BLOB,
   'r' REAL, 'n' NUMERIC. */
static char affinity(const char *type)
{
    char up[256];
    size_t n = 0;
    for (; type[n] && n + 1 < sizeof(up); n++)
        up[n] = (char)c_toupper((unsigned char)type[n]);
    up[n] = 0;
    if (strstr(up, "INT"))
        return 'i';
    if (strstr(up, "CHAR") || strstr(up, "CLOB") || strstr(up, "TEXT"))
        return 't';
    if (strstr(up, "BLOB") || !up[0])
        return 'b';
    if (strstr(up, "REAL") || strstr(up, "FLOA") || strstr(up, "DOUB"))
        return 'r';
    return 'n';
}

/* The name under which both tables' rowid can be copied ("rowid", or
   "_rowid_" or "oid" when a column has that name), or NULL: a WITHOUT
   ROWID table on either side, or every name taken. The rebuild copies it
   first, so that a table without an INTEGER PRIMARY KEY keeps its rowids
   (an FTS index or the application may hold them); an alias column copied
   after it sets the rowid to its own value. */
static const char *rowid_name(const gen_table *ft, const gen_table *tt)
{
    static const char *const names[] = {"rowid", "_rowid_", "oid"};
    const gen_table *side[2] = {ft, tt};
    for (int k = 0; k < 2; k++) {
        tdef d;
        int rowid = tdef_parse(side[k]->sql, &d) == 0 && d.ok && !gen_mentions(d.tail, "rowid");
        tdef_release(&d);
        if (!rowid)
            return NULL;
    }
    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
        int taken = 0;
        for (int k = 0; k < 2; k++)
            for (size_t c = 0; c < side[k]->ncols; c++)
                taken |= name_eq(side[k]->cols[c].name, names[i]);
        if (!taken)
            return names[i];
    }
    return NULL;
}

/* Adds name (lower case, as SQLite's lower() folds: ASCII only) to the
   tables the verify section checks, unless it is other. */
static void fk_table_add(ctx *c, const char *name, const char *other)
{
    buf q;
    buf_init(&q);
    char *low = xstrdup(name);
    for (char *s = low; s && *s; s++)
        if (*s >= 'A' && *s <= 'Z')
            *s = (char)(*s - 'A' + 'a');
    buf_add_sqlstr(&q, low ? low : "");
    free(low);
    if (q.oom || !q.data) {
        c->p->oom = 1;
    } else if (strcmp(name, other ? other : "")) {
        buf_addf(&c->fk_tables, "%s%s", c->fk_tables.len ? ", " : "", q.data);
    }
    buf_release(&q);
}

/* The up's first rebuild statement is preceded by a snapshot of the
   dangling references out of and into the tables it rebuilds (SQLite does
   not enforce foreign keys unless asked, so old ones are common); its
   WHERE is filled in by fk_verify, once every rebuilt table is known. */
static void fk_snapshot(ctx *c)
{
    if (c->o->down || c->fk_snap)
        return;
    gen_emit(c->p, GEN_PART_TX, "foreign key snapshot", NULL, "DROP TABLE IF EXISTS temp.strata_fk_before");
    if (!c->p->oom)
        c->p->s[c->p->n - 1].lint_ignore =
            "drop-table -- a temporary table: the snapshot below, of an earlier "
            "migration on this connection";
    gen_emit(c->p, GEN_PART_TX, "foreign key snapshot", NULL, "-");
    c->fk_snap = c->p->oom ? 0 : c->p->n;
}

/* The up's verify section after table rebuilds: SQLite's documented last
   step, foreign_key_check, over the references out of and into the rebuilt
   tables -- one the migration left dangling fails it; one that dangled
   before it (in the snapshot) does not, nor does one elsewhere in the
   database. The down (its proof on a scratch database) counts them all. */
static void fk_verify(ctx *c)
{
    if (!c->fk_tables.len)
        return;
    buf v, w;
    buf_init(&v);
    buf_init(&w);
    buf_addf(&w, "lower(\"table\") IN (%s) OR lower(parent) IN (%s)", c->fk_tables.data, c->fk_tables.data);
    if (c->fk_snap && !w.oom) {
        gen_stmt *s = &c->p->s[c->fk_snap - 1];
        buf snap;
        buf_init(&snap);
        buf_addf(&snap,
                 "CREATE TEMP TABLE strata_fk_before AS SELECT lower(\"table\") AS t, \"rowid\" AS r, "
                 "lower(parent) AS p FROM pragma_foreign_key_check WHERE %s",
                 w.data);
        if (snap.oom || !snap.data) {
            c->p->oom = 1;
        } else {
            free(s->sql);
            s->sql = buf_detach(&snap);
        }
        buf_release(&snap);
        /* the comment is for whoever meets VERIFY_FAILED at deploy time */
        buf_addf(&v,
                 "-- a reference out of or into a rebuilt table that this migration left dangling fails "
                 "this check (those dangling before it are in temp.strata_fk_before); "
                 "PRAGMA foreign_key_check lists them\n"
                 "SELECT NOT EXISTS (SELECT lower(\"table\"), \"rowid\", lower(parent) FROM "
                 "pragma_foreign_key_check WHERE %s EXCEPT SELECT t, r, p FROM temp.strata_fk_before) "
                 "AND (SELECT count(*) FROM pragma_foreign_key_check WHERE %s) <= "
                 "(SELECT count(*) FROM temp.strata_fk_before)",
                 w.data, w.data);
    } else {
        buf_addf(&v, "SELECT count(*) = 0 FROM pragma_foreign_key_check WHERE %s", w.data ? w.data : "");
    }
    if (v.oom || w.oom || !v.data)
        c->p->oom = 1;
    free(c->p->verify);
    c->p->verify = v.data ? buf_detach(&v) : NULL;
    buf_release(&v);
    buf_release(&w);
}

/* The first step of the table rebuild of ft into tt: the new table under
   its temporary name (TT__strata_new), the rows copied into it, the
   AUTOINCREMENT counter carried. rebuild_finish does the rest. */
static void rebuild_copy(ctx *c, const gen_table *ft, const gen_table *tt)
{
    gen_plan *p = c->p;
    buf lost, cols, sel, tmp;
    buf_init(&lost);
    buf_init(&cols);
    buf_init(&sel);
    buf_init(&tmp);
    fk_snapshot(c);
    const char *rowid = rowid_name(ft, tt);
    if (rowid) {
        buf_adds(&cols, rowid);
        buf_adds(&sel, rowid);
    }
    for (size_t k = 0; k < ft->ncols; k++) {
        const gen_col *fc = &ft->cols[k];
        const char *nn = col_to_name(c, ft->name, fc->name);
        const gen_col *tc = NULL;
        if (!col_displaced(c, ft->name, fc->name))
            for (size_t j = 0; j < tt->ncols; j++)
                if (name_eq(tt->cols[j].name, nn))
                    tc = &tt->cols[j];
        int fgen = fc->hidden == 2 || fc->hidden == 3;
        /* a generated column that goes or stays generated holds no data of
           its own; one that becomes a plain column keeps the values it had */
        if (fgen && (!tc || tc->hidden))
            continue;
        if (!tc) {
            buf_addf(&lost, "%scolumn %s.%s", lost.len ? ", " : "", ft->name, fc->name);
            continue;
        }
        if (tc->hidden) {
            buf_addf(&lost, "%svalues of %s.%s replaced by its generated expression", lost.len ? ", " : "",
                     tt->name, tc->name);
            continue;
        }
        /* the same affinity stores every value as it was (INT -> INTEGER,
           TEXT -> VARCHAR(10): SQLite enforces no length); so do BLOB (no
           conversion at all), and NUMERIC from INTEGER (both keep integers
           and the reals they hold as they are). A real made text keeps 15
           digits (an INTEGER column holds reals too: 0.1 + 0.2), a text
           made a number loses its leading zeros, an integer made REAL its
           low bits past 2^53 */
        char fa = affinity(fc->type), ta = affinity(tc->type);
        if (fa != ta && ta != 'b' && !(fa == 'i' && ta == 'n'))
            buf_addf(&lost, "%svalues of %s.%s converted from %s to %s", lost.len ? ", " : "", tt->name,
                     tc->name, fc->type[0] ? fc->type : "(no type)", tc->type[0] ? tc->type : "(no type)");
        buf_addf(&cols, "%s%s", cols.len ? ", " : "", tc->q);
        /* made NOT NULL with a default: a row holding NULL takes the
           default (the copy would fail on it; the proof, on empty tables,
           cannot see it) */
        if (!fc->notnull && tc->notnull && tc->dflt && !fgen)
            buf_addf(&sel, "%scoalesce(%s, %s)", sel.len ? ", " : "", fc->q, tc->dflt);
        else
            buf_addf(&sel, "%s%s", sel.len ? ", " : "", fc->q);
    }
    /* CREATE TABLE <tmp> <everything from the body's '('> */
    tdef t;
    char tmpname[512];
    snprintf(tmpname, sizeof(tmpname), "%s__strata_new", tt->name);
    buf_add_quoted_ident(&tmp, tmpname);
    if (tdef_parse(tt->sql, &t) == 0 && t.ok) {
        gen_emit(p, GEN_PART_TX, "rebuild table", lost.len ? lost.data : NULL, "CREATE TABLE %s %s", tmp.data,
                 t.t[t.open].s);
    } else {
        gen_emit(p, GEN_PART_TX, "rebuild table", lost.len ? lost.data : NULL, "%s", tt->sql);
    }
    tdef_release(&t);
    if (cols.len)
        gen_emit(p, GEN_PART_TX, "rebuild table", NULL, "INSERT OR ABORT INTO %s (%s) SELECT %s FROM %s",
                 tmp.data, cols.data, sel.data, ft->q);
    if (gen_mentions(ft->sql, "AUTOINCREMENT") && gen_mentions(tt->sql, "AUTOINCREMENT")) {
        /* the old table's sqlite_sequence row goes with it: the new one
           carries its value (ids of deleted rows are never used again);
           the rename moves the row to the table's name */
        buf o, n;
        buf_init(&o);
        buf_init(&n);
        buf_add_sqlstr(&o, ft->name);
        buf_add_sqlstr(&n, tmpname);
        gen_emit(p, GEN_PART_TX, "rebuild table", NULL,
                 "INSERT INTO sqlite_sequence (name, seq) SELECT %s, 0 WHERE NOT EXISTS "
                 "(SELECT 1 FROM sqlite_sequence WHERE name = %s)",
                 n.data, n.data);
        gen_emit(
            p, GEN_PART_TX, "rebuild table", NULL,
            "UPDATE sqlite_sequence SET seq = (SELECT max(seq) FROM sqlite_sequence WHERE name IN (%s, %s)) "
            "WHERE name = %s",
            o.data, n.data, n.data);
        buf_release(&o);
        buf_release(&n);
    }
    fk_table_add(c, ft->name, NULL);
    fk_table_add(c, tt->name, ft->name);
    buf_release(&lost);
    buf_release(&cols);
    buf_release(&sel);
    buf_release(&tmp);
}

/* The object of kind in m named name (any case), or NULL. */
static const gen_obj *find_obj_ci(const gen_model *m, char kind, const char *name)
{
    for (size_t i = 0; i < m->no; i++)
        if (m->o[i].kind == kind && name_eq(m->o[i].name, name))
            return &m->o[i];
    return NULL;
}

/* 1 when the trigger's text mentions a table rebuilt, dropped or renamed,
   or a view dropped. */
static int reads_rebuilt(const ctx *c, const char *def)
{
    for (size_t r = 0; r < c->nrebuilt; r++)
        if (gen_mentions(def, c->rebuilt[r]))
            return 1;
    return 0;
}

/*
 * Triggers on views (INSTEAD OF) that go: removed, changed, or reading a
 * table that is rebuilt (ALTER TABLE RENAME checks every trigger), unless
 * their view is dropped (vdrop: indexed like from->o), which drops them.
 */
static void view_triggers_drop(ctx *c, const int *vdrop)
{
    for (size_t i = 0; i < c->from->no; i++) {
        const gen_obj *ft = &c->from->o[i];
        if (ft->kind != 't')
            continue;
        const gen_obj *v = find_obj_ci(c->from, 'v', ft->owned);
        if (v && vdrop[v - c->from->o])
            continue;
        const gen_obj *tt = find_obj_ci(c->to, 't', ft->name);
        if (tt && !strcmp(tt->norm, ft->norm) && !reads_rebuilt(c, ft->def))
            continue;
        gen_emit(c->p, GEN_PART_TX, "drop trigger", NULL, "DROP TRIGGER %s", ft->q);
    }
}

/*
 * Triggers on views that are created, after the views: new, changed,
 * reading a rebuilt table, or on a view created (made: indexed like
 * to->o, the views gen_views_create was asked for).
 */
static void view_triggers_create(ctx *c, const int *made)
{
    for (size_t i = 0; i < c->to->no; i++) {
        const gen_obj *tt = &c->to->o[i];
        if (tt->kind != 't')
            continue;
        const gen_obj *v = find_obj_ci(c->to, 'v', tt->owned);
        const gen_obj *ft = find_obj_ci(c->from, 't', tt->name);
        if (ft && !strcmp(tt->norm, ft->norm) && !reads_rebuilt(c, tt->def) && !(v && made[v - c->to->o]))
            continue;
        gen_emit(c->p, GEN_PART_TX, "create trigger", NULL, "%s", tt->def);
    }
}

/* A virtual table (CREATE VIRTUAL TABLE: FTS5, R*Tree, ...). */
static int is_virtual(const gen_table *t)
{
    return t->sql && !c_strncasecmp(t->sql, "CREATE VIRTUAL TABLE", 20);
}

/* A virtual table cannot be rebuilt (its module keeps the rows) nor altered:
   a change of one is refused by name, never planned. */
static strata_code refuse_virtual(strata_error *err, const char *name)
{
    err_set(err, STRATA_DIFF_UNSUPPORTED, "strata diff does not plan changes to virtual table %s", name);
    err_hint(err, "drop it and create it again in a migration written by hand (an FTS5 table with "
                  "external content is filled again by INSERT INTO t(t) VALUES ('rebuild'))");
    return STRATA_DIFF_UNSUPPORTED;
}

/* The last steps of a rebuild: step 0 drops the old table, step 1 renames
   the new one. Each step is done for every rebuilt table before the next,
   so that a table may take the name another one leaves (--rename a:b,b:a,
   or a new table named as a renamed one was). */
static void rebuild_finish(ctx *c, const gen_table *ft, const gen_table *tt, int step)
{
    if (step == 0) {
        gen_emit(c->p, GEN_PART_TX, "rebuild table", NULL, "DROP TABLE %s", ft->q);
        /* for the lint's PostgreSQL rules, which a file without dialect
           sections also gets (strata lint with no URL) */
        if (!c->p->oom)
            c->p->s[c->p->n - 1].lint_ignore =
                "drop-table -- table rebuild: the rows are in the new table, which takes this name";
        return;
    }
    char tmpname[512];
    snprintf(tmpname, sizeof(tmpname), "%s__strata_new", tt->name);
    buf tmp;
    buf_init(&tmp);
    buf_add_quoted_ident(&tmp, tmpname);
    gen_emit(c->p, GEN_PART_TX, "rebuild table", NULL, "ALTER TABLE %s RENAME TO %s",
             tmp.data ? tmp.data : "", tt->q);
    if (tmp.oom)
        c->p->oom = 1;
    buf_release(&tmp);
}

strata_code sq_gen_plan(const gen_model *from, const gen_model *to, const gen_opts *o, gen_plan *p,
                        strata_error *err)
{
    ctx c = {from, to, o, p, NULL, 0, 0, {0}, 0};

    /* which tables change: dropped, rebuilt, or given new columns */
    int *add_only = calloc(to->nt + 1, sizeof(int));
    if (!add_only)
        return err_set(err, STRATA_NOMEM, "out of memory");
    for (size_t i = 0; i < from->nt; i++)
        if (!to_table(&c, from->t[i].name))
            mark_rebuilt(&c, from->t[i].name);
    for (size_t i = 0; i < to->nt; i++) {
        const gen_table *tt = &to->t[i];
        const gen_table *ft = from_table(&c, tt->name);
        if (!ft)
            continue;
        int renamed_cols = 0;
        for (size_t r = 0; r < o->nrenames; r++)
            renamed_cols |= o->renames[r].table && name_eq(o->renames[r].table, ft->name);
        if ((is_virtual(ft) || is_virtual(tt)) &&
            (renamed_cols || strcmp(ft->name, tt->name) || !table_same(ft, tt))) {
            free(add_only);
            free(c.rebuilt);
            buf_release(&c.fk_tables);
            return refuse_virtual(err, tt->name);
        }
        if (!renamed_cols && strcmp(ft->name, tt->name) == 0 && table_same(ft, tt))
            continue;
        if (!renamed_cols && !strcmp(ft->name, tt->name) && only_added_columns(ft->sql, tt->sql)) {
            add_only[i] = 1;
            continue;
        }
        add_only[i] = 2; /* rebuild (a renamed table or column too) */
        mark_rebuilt(&c, ft->name);
        mark_rebuilt(&c, tt->name);
    }

    /* views and triggers that go: removed, changed, or reading a changed table */
    int *vdrop = calloc(from->no + 1, sizeof(int));
    if (!vdrop) {
        free(add_only);
        return err_set(err, STRATA_NOMEM, "out of memory");
    }
    for (size_t i = 0; i < from->no; i++) {
        const gen_obj *v = &from->o[i];
        const gen_obj *tv = NULL;
        if (v->kind != 'v')
            continue; /* triggers on views: view_triggers_drop */
        for (size_t k = 0; k < to->no; k++)
            if (to->o[k].kind == 'v' && name_eq(to->o[k].name, v->name))
                tv = &to->o[k];
        vdrop[i] = !tv || strcmp(tv->norm, v->norm);
        for (size_t k = 0; !vdrop[i] && k < c.nrebuilt; k++)
            vdrop[i] = gen_mentions(v->def, c.rebuilt[k]);
    }
    gen_views_spread(from, vdrop);
    for (size_t i = 0; i < from->no; i++)
        if (vdrop[i]) {
            gen_emit(p, GEN_PART_TX, "drop view", NULL, "DROP VIEW %s", from->o[i].q);
            /* a trigger that reads it goes too: ALTER TABLE RENAME checks
               every trigger, and fails on one reading a missing view */
            mark_rebuilt(&c, from->o[i].name);
        }
    view_triggers_drop(&c, vdrop);

    /* triggers and indexes that go (those of a rebuilt table go with it) */
    for (size_t i = 0; i < from->nt; i++) {
        const gen_table *ft = &from->t[i];
        for (size_t k = 0; k < ft->nitems; k++) {
            const gen_item *it = &ft->items[k];
            const gen_table *owner = NULL;
            const gen_item *ti = find_item_ci(to, it->kind, it->name, &owner);
            int mentions = 0;
            for (size_t r = 0; it->kind == 't' && r < c.nrebuilt; r++)
                mentions |= gen_mentions(it->def, c.rebuilt[r]);
            if (rebuilt(&c, ft->name) && !mentions)
                continue;
            if (ti && !strcmp(ti->norm, it->norm) && !mentions)
                continue;
            gen_emit(p, GEN_PART_TX, it->kind == 'i' ? "drop index" : "drop trigger", NULL, "DROP %s %s",
                     it->kind == 'i' ? "INDEX" : "TRIGGER", it->q);
        }
    }

    /* renames of tables and columns */
    for (size_t r = 0; r < o->nrenames; r++) {
        const gen_rename *rn = &o->renames[r];
        const gen_table *ft = gen_find_table(from, rn->table ? rn->table : rn->from);
        if (ft && (!rn->table || gen_find_col(ft, rn->from)))
            continue; /* a renamed table is rebuilt under its new name (below) */
        free(add_only);
        free(vdrop);
        free(c.rebuilt);
        buf_release(&c.fk_tables);
        if (rn->table)
            return err_set(err, STRATA_USAGE, "--rename %s.%s:%s: the start has no such column", rn->table,
                           rn->from, rn->to);
        return err_set(err, STRATA_USAGE, "--rename %s:%s: the start has no such table", rn->from, rn->to);
    }

    /* dropped tables */
    for (size_t i = 0; i < from->nt; i++)
        if (!to_table(&c, from->t[i].name)) {
            char what[600];
            snprintf(what, sizeof(what), "every row of %s", from->t[i].name);
            gen_emit(p, GEN_PART_TX, "drop table", what, "DROP TABLE %s", from->t[i].q);
        }

    /* changed tables: the rebuilds, each step for all of them (see
       rebuild_finish); new columns; then new tables, which may take the
       name of a table renamed */
    for (int step = -1; step < 2; step++)
        for (size_t i = 0; i < to->nt; i++) {
            const gen_table *tt = &to->t[i];
            const gen_table *ft = from_table(&c, tt->name);
            if (!ft || add_only[i] != 2)
                continue;
            if (step < 0)
                rebuild_copy(&c, ft, tt);
            else
                rebuild_finish(&c, ft, tt, step);
        }
    for (size_t i = 0; i < to->nt; i++) {
        const gen_table *ft = from_table(&c, to->t[i].name);
        if (ft && add_only[i] == 1)
            added_columns(&c, &to->t[i], ft->ncols);
    }
    for (size_t i = 0; i < to->nt; i++)
        if (!from_table(&c, to->t[i].name))
            gen_emit(p, GEN_PART_TX, "create table", NULL, "%s", to->t[i].sql);
    free(add_only);

    /* indexes and triggers that are new, changed, or of a rebuilt table */
    for (int kind = 0; kind < 2; kind++)
        for (size_t i = 0; i < to->nt; i++) {
            const gen_table *tt = &to->t[i];
            const gen_table *ft = from_table(&c, tt->name);
            for (size_t k = 0; k < tt->nitems; k++) {
                const gen_item *it = &tt->items[k];
                if ((it->kind == 'i') != (kind == 0))
                    continue;
                const gen_item *fi = find_item_ci(from, it->kind, it->name, NULL);
                int mentions = 0;
                for (size_t r = 0; it->kind == 't' && r < c.nrebuilt; r++)
                    mentions |= gen_mentions(it->def, c.rebuilt[r]);
                if (ft && !rebuilt(&c, tt->name) && fi && !strcmp(fi->norm, it->norm) && !mentions)
                    continue;
                gen_emit(p, GEN_PART_TX, it->kind == 'i' ? "create index" : "create trigger", NULL, "%s",
                         it->def);
            }
        }

    /* views, dependencies first */
    size_t n = to->no;
    int *need = calloc(n + 1, sizeof(int));
    if (!need) {
        free(vdrop);
        free(c.rebuilt);
        buf_release(&c.fk_tables);
        return err_set(err, STRATA_NOMEM, "out of memory");
    }
    for (size_t i = 0; i < n; i++) {
        const gen_obj *v = &to->o[i];
        const gen_obj *f = NULL;
        for (size_t k = 0; k < from->no; k++)
            if (from->o[k].kind == 'v' && name_eq(from->o[k].name, v->name))
                f = &from->o[k];
        need[i] = v->kind == 'v' && (!f || vdrop[f - from->o]);
    }
    int *made = calloc(n + 1, sizeof(int));
    if (made)
        memcpy(made, need, n * sizeof(int));
    gen_views_create(p, to, need, 0);
    if (made)
        view_triggers_create(&c, made);
    else
        p->oom = 1;
    free(made);
    free(need);
    free(vdrop);
    free(c.rebuilt);
    fk_verify(&c);
    buf_release(&c.fk_tables);
    if (p->oom)
        return err_set(err, STRATA_NOMEM, "out of memory");
    return STRATA_OK;
}
