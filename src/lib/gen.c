/*
 * gen.c -- `strata diff` (docs/diff.md): the start and desired schemas,
 * the engine's plan between them, and the proof on a scratch database
 * before anything is returned.
 *
 * The proof: the start is built on a scratch database (the migration
 * directory replayed, or the start database's schema re-created from its
 * own model and checked equal). The up's parts run there one after the
 * other; after the last the schema text must equal the desired one
 * exactly. The downs are planned from the schemas seen between the parts
 * (each part's down gives back the state before it), run newest first, and
 * must give back the start exactly. Anything else is DIFF_NOT_PROVEN with
 * the remaining difference, and nothing is returned to write.
 */
#include "gen.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* ------------------------------------------------------------------ model */

void gen_model_release(gen_model *m)
{
    for (size_t i = 0; i < m->nt; i++) {
        gen_table *t = &m->t[i];
        for (size_t k = 0; k < t->ncols; k++) {
            gen_col *c = &t->cols[k];
            free(c->name), free(c->q), free(c->type), free(c->dflt), free(c->gen), free(c->collate);
            free(c->comment);
        }
        for (size_t k = 0; k < t->nitems; k++) {
            gen_item *it = &t->items[k];
            if (it->norm != it->def)
                free(it->norm);
            free(it->name), free(it->q), free(it->def);
        }
        free(t->cols), free(t->items), free(t->name), free(t->q), free(t->sql), free(t->comment);
    }
    for (size_t i = 0; i < m->no; i++) {
        gen_obj *o = &m->o[i];
        if (o->norm != o->def)
            free(o->norm);
        for (size_t k = 0; k < o->nvals; k++)
            free(o->vals[k]);
        free(o->vals), free(o->name), free(o->q), free(o->def), free(o->owned);
    }
    for (size_t i = 0; i < m->nunsup; i++)
        free(m->unsup[i]);
    free(m->t), free(m->o), free(m->unsup);
    memset(m, 0, sizeof(*m));
}

gen_table *gen_model_add_table(gen_model *m, const char *name, const char *q)
{
    if (ARR_GROW(m->t, m->capt, m->nt + 1))
        return NULL;
    gen_table *t = &m->t[m->nt];
    memset(t, 0, sizeof(*t));
    if (!(t->name = xstrdup(name)) || !(t->q = xstrdup(q))) {
        free(t->name);
        free(t->q);
        return NULL;
    }
    m->nt++;
    return t;
}

gen_col *gen_table_add_col(gen_table *t)
{
    if (ARR_GROW(t->cols, t->capcols, t->ncols + 1))
        return NULL;
    memset(&t->cols[t->ncols], 0, sizeof(gen_col));
    return &t->cols[t->ncols++];
}

gen_item *gen_table_add_item(gen_table *t, char kind, const char *name, const char *q, const char *def)
{
    if (ARR_GROW(t->items, t->capitems, t->nitems + 1))
        return NULL;
    gen_item *it = &t->items[t->nitems];
    memset(it, 0, sizeof(*it));
    it->kind = kind;
    if (!(it->name = xstrdup(name)) || !(it->q = xstrdup(q)) || !(it->def = xstrdup(def ? def : ""))) {
        free(it->name), free(it->q), free(it->def);
        return NULL;
    }
    it->norm = it->def;
    t->nitems++;
    return it;
}

gen_obj *gen_model_add_obj(gen_model *m, char kind, const char *name, const char *q)
{
    if (ARR_GROW(m->o, m->capo, m->no + 1))
        return NULL;
    gen_obj *o = &m->o[m->no];
    memset(o, 0, sizeof(*o));
    o->kind = kind;
    if (!(o->name = xstrdup(name)) || !(o->q = xstrdup(q))) {
        free(o->name), free(o->q);
        return NULL;
    }
    m->no++;
    return o;
}

gen_table *gen_find_table(const gen_model *m, const char *name)
{
    for (size_t i = 0; i < m->nt; i++)
        if (!strcmp(m->t[i].name, name))
            return &m->t[i];
    return NULL;
}

gen_obj *gen_find_obj(const gen_model *m, char kind, const char *name)
{
    for (size_t i = 0; i < m->no; i++)
        if (m->o[i].kind == kind && (!strcmp(m->o[i].name, name) || !strcmp(m->o[i].q, name)))
            return &m->o[i];
    return NULL;
}

const gen_col *gen_find_col(const gen_table *t, const char *name)
{
    for (size_t i = 0; i < t->ncols; i++)
        if (!strcmp(t->cols[i].name, name))
            return &t->cols[i];
    return NULL;
}

/* ------------------------------------------------------------------- plan */

void gen_plan_release(gen_plan *p)
{
    for (size_t i = 0; i < p->n; i++) {
        free(p->s[i].sql);
        free(p->s[i].loses);
    }
    free(p->s);
    buf_release(&p->notes);
    free(p->verify);
    memset(p, 0, sizeof(*p));
}

void gen_emit(gen_plan *p, int part, const char *kind, const char *loses, const char *fmt, ...)
{
    if (p->oom)
        return;
    if (ARR_GROW(p->s, p->cap, p->n + 1)) {
        p->oom = 1;
        return;
    }
    va_list ap;
    va_start(ap, fmt);
    int len = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    char *sql = len >= 0 ? malloc((size_t)len + 1) : NULL;
    if (!sql) {
        p->oom = 1;
        return;
    }
    va_start(ap, fmt);
    vsnprintf(sql, (size_t)len + 1, fmt, ap);
    va_end(ap);
    gen_stmt *s = &p->s[p->n++];
    s->part = part;
    s->kind = kind;
    s->sql = sql;
    s->loses = loses ? xstrdup(loses) : NULL;
    s->lint_ignore = NULL;
}

static void ATTR_PRINTF(2, 3) gen_note(gen_plan *p, const char *fmt, ...)
{
    char line[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(line, sizeof(line), fmt, ap);
    va_end(ap);
    buf_adds(&p->notes, line);
    buf_adds(&p->notes, "\n");
}

static int ident_char(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
           (unsigned char)c >= 0x80;
}

int gen_mentions(const char *text, const char *name)
{
    size_t n = strlen(name);
    if (!text || !n)
        return 0;
    for (const char *p = text; *p; p++) {
        if (c_strncasecmp(p, name, n))
            continue;
        if (p > text && ident_char(p[-1]))
            continue;
        if (ident_char(p[n]))
            continue;
        return 1;
    }
    return 0;
}

const gen_rename *gen_rename_of(const gen_opts *o, const char *table, const char *from)
{
    for (size_t i = 0; i < o->nrenames; i++) {
        const gen_rename *r = &o->renames[i];
        if ((r->table == NULL) != (table == NULL))
            continue;
        if (table && strcmp(r->table, table))
            continue;
        if (!strcmp(r->from, from))
            return r;
    }
    return NULL;
}

const char *gen_new_name(const gen_opts *o, const char *table, const char *name)
{
    const gen_rename *r = gen_rename_of(o, table, name);
    return r ? r->to : name;
}

void gen_views_spread(const gen_model *m, int *mark)
{
    for (int changed = 1; changed;) {
        changed = 0;
        for (size_t i = 0; i < m->no; i++)
            for (size_t k = 0; m->o[i].kind == 'v' && !mark[i] && k < m->no; k++)
                if (mark[k] && gen_mentions(m->o[i].def, m->o[k].name))
                    mark[i] = changed = 1;
    }
}

static void emit_view(gen_plan *p, const gen_obj *v, int as_query)
{
    if (as_query)
        gen_emit(p, GEN_PART_TX, "create view", NULL, "CREATE VIEW %s AS\n%s", v->q, v->def);
    else
        gen_emit(p, GEN_PART_TX, "create view", NULL, "%s", v->def);
}

void gen_views_create(gen_plan *p, const gen_model *m, int *need, int as_query)
{
    for (int progress = 1; progress;) {
        progress = 0;
        for (size_t i = 0; i < m->no; i++) {
            int ready = need[i];
            for (size_t k = 0; ready && k < m->no; k++)
                if (k != i && need[k] && gen_mentions(m->o[i].def, m->o[k].name))
                    ready = 0;
            if (ready) {
                emit_view(p, &m->o[i], as_query);
                need[i] = 0;
                progress = 1;
            }
        }
    }
    for (size_t i = 0; i < m->no; i++)
        if (need[i]) {
            emit_view(p, &m->o[i], as_query);
            need[i] = 0;
        }
}

/* name as a --rename argument takes it: in double quotes when it holds
   '.', ':', ',' or a quote (each quote doubled). */
static const char *rename_arg(const char *name, char out[200])
{
    if (!strpbrk(name, ".:,\""))
        return name;
    size_t n = 0;
    out[n++] = '"';
    for (const char *c = name; *c && n < 196; c++) {
        if (*c == '"')
            out[n++] = '"';
        out[n++] = *c;
    }
    out[n++] = '"';
    out[n] = 0;
    return out;
}

/* A dropped table and a new one with the same columns; a dropped column
   and a new one of the same type in one table: probably renames. */
static void note_renames(gen_plan *p, const gen_model *from, const gen_model *to, const gen_opts *o)
{
    for (size_t i = 0; i < from->nt; i++) {
        const gen_table *ft = &from->t[i];
        const gen_rename *r = gen_rename_of(o, NULL, ft->name);
        const gen_table *tt = gen_find_table(to, r ? r->to : ft->name);
        if (!tt) {
            for (size_t k = 0; k < to->nt; k++) {
                const gen_table *nt = &to->t[k];
                int fresh = !gen_find_table(from, nt->name);
                for (size_t x = 0; fresh && x < o->nrenames; x++)
                    fresh = o->renames[x].table || strcmp(o->renames[x].to, nt->name);
                if (!fresh || nt->ncols != ft->ncols)
                    continue;
                int same = 1;
                for (size_t c = 0; same && c < nt->ncols; c++)
                    same = !strcmp(nt->cols[c].name, ft->cols[c].name) &&
                           !c_strcasecmp(nt->cols[c].type, ft->cols[c].type);
                char a1[200], a2[200];
                if (same)
                    gen_note(p,
                             "table %s is dropped and %s of the same shape is created: if it is a rename, "
                             "pass --rename %s:%s",
                             ft->name, nt->name, rename_arg(ft->name, a1), rename_arg(nt->name, a2));
            }
            continue;
        }
        for (size_t c = 0; c < ft->ncols; c++) {
            const gen_col *fc = &ft->cols[c];
            if (gen_rename_of(o, ft->name, fc->name) || gen_find_col(tt, fc->name))
                continue;
            for (size_t k = 0; k < tt->ncols; k++) {
                const gen_col *tc = &tt->cols[k];
                int fresh = !gen_find_col(ft, tc->name);
                for (size_t x = 0; fresh && x < o->nrenames; x++)
                    fresh = !o->renames[x].table || strcmp(o->renames[x].to, tc->name);
                char a1[200], a2[200], a3[200];
                if (fresh && !c_strcasecmp(tc->type, fc->type))
                    gen_note(p,
                             "column %s.%s is dropped and %s of the same type is added: if it is a rename, "
                             "pass --rename %s.%s:%s",
                             ft->name, fc->name, tc->name, rename_arg(ft->name, a1), rename_arg(fc->name, a2),
                             rename_arg(tc->name, a3));
            }
        }
    }
}

static void renames_free(gen_rename *r, size_t n);

/* One name of a --rename at *p: a run up to '.', ':' or ',' -- or a name in
   double quotes ("" for a quote inside), which may hold those. malloc'd;
   NULL when empty, unclosed or out of memory (*oom set for the last). */
static char *rename_name(const char **p, int *oom)
{
    const char *s = *p;
    buf b;
    buf_init(&b);
    if (*s == '"') {
        for (s++;; s++) {
            if (!*s) {
                buf_release(&b);
                return NULL;
            }
            if (*s == '"' && s[1] != '"')
                break;
            s += *s == '"';
            buf_add(&b, s, 1);
        }
        s++;
    } else {
        while (*s && *s != '.' && *s != ':' && *s != ',')
            buf_add(&b, s++, 1);
    }
    *p = s;
    if (b.oom)
        *oom = 1;
    if (b.oom || !b.len) {
        buf_release(&b);
        return NULL;
    }
    return b.data;
}

/* "t.old:new,old:new"; a name in double quotes may hold '.', ':' or ','
   ('"my.table"."a:b":c') */
static strata_code parse_renames(const char *spec, gen_rename **out, size_t *n, strata_error *err)
{
    *out = NULL;
    *n = 0;
    if (!spec || !*spec)
        return STRATA_OK;
    size_t cap = 1;
    for (const char *p = spec; *p; p++)
        cap += *p == ',';
    gen_rename *r = calloc(cap, sizeof(*r));
    if (!r)
        return err_set(err, STRATA_NOMEM, "out of memory");
    const char *p = spec;
    while (*p) {
        const char *start = p;
        int oom = 0;
        char *a = rename_name(&p, &oom), *b = NULL, *c = NULL;
        int dotted = a && *p == '.';
        if (dotted) {
            p++;
            b = rename_name(&p, &oom);
        }
        if (a && (!dotted || b) && *p == ':') {
            p++;
            c = rename_name(&p, &oom);
        }
        int ok = c && (*p == ',' || !*p);
        if (!ok) {
            free(a), free(b), free(c);
            renames_free(r, *n);
            *n = 0;
            if (oom)
                return err_set(err, STRATA_NOMEM, "out of memory");
            const char *e = strchr(start, ',');
            int len = e ? (int)(e - start) : (int)strlen(start);
            err_set(err, STRATA_USAGE, "--rename '%.*s': expected TABLE.OLD:NEW or OLD:NEW", len, start);
            err_hint(err, "a name holding '.', ':' or ',' goes in double quotes: '\"my.table\".old:new'");
            return STRATA_USAGE;
        }
        gen_rename *x = &r[(*n)++];
        if (b) {
            x->table = a;
            x->from = b;
        } else {
            x->from = a;
        }
        x->to = c;
        p += *p == ',';
    }
    /* one rename per name, each to another name: a second one for the same
       name was ignored, and a rename to itself planned nothing it said */
    for (size_t i = 0; i < *n; i++) {
        const gen_rename *a = &r[i];
        const char *what = NULL;
        if (a->from && a->to && !strcmp(a->from, a->to))
            what = "renames it to itself";
        for (size_t j = 0; !what && j < i; j++) {
            const gen_rename *b = &r[j];
            if (!a->table != !b->table || (a->table && b->table && strcmp(a->table, b->table)))
                continue;
            if (a->from && b->from && !strcmp(a->from, b->from))
                what = "renames it twice";
            else if (a->to && b->to && !strcmp(a->to, b->to))
                what = "gives its new name to two of them";
        }
        if (what) {
            strata_code rc = err_set(err, STRATA_USAGE, "--rename %s%s%s:%s %s", a->table ? a->table : "",
                                     a->table ? "." : "", a->from ? a->from : "", a->to ? a->to : "", what);
            err_hint(err, "give each table or column one --rename OLD:NEW, to a name of its own");
            renames_free(r, *n);
            *n = 0;
            return rc;
        }
    }
    *out = r;
    return STRATA_OK;
}

static void renames_free(gen_rename *r, size_t n)
{
    if (!r)
        return;
    for (size_t i = 0; i < n; i++)
        free(r[i].table), free(r[i].from), free(r[i].to);
    free(r);
}

/* SQLite names are case-insensitive: a --rename written in another case
   than the schema's (users.name for "Users"."Name") takes the schema's
   spelling, from the start for the old name and from the desired schema for
   the new one. An exact spelling is kept. */
static void fold_name(char **name, const char *hit)
{
    char *c = hit && strcmp(hit, *name) ? xstrdup(hit) : NULL;
    if (c) {
        free(*name);
        *name = c;
    }
}

static void fold_table(char **name, const gen_model *m)
{
    const char *hit = NULL;
    for (size_t i = 0; i < m->nt && !(hit && !strcmp(hit, *name)); i++)
        if (!c_strcasecmp(m->t[i].name, *name))
            hit = m->t[i].name;
    fold_name(name, hit);
}

static void fold_col(char **name, const gen_table *t)
{
    const char *hit = NULL;
    for (size_t i = 0; t && i < t->ncols && !(hit && !strcmp(hit, *name)); i++)
        if (!c_strcasecmp(t->cols[i].name, *name))
            hit = t->cols[i].name;
    fold_name(name, hit);
}

static void renames_fold(gen_rename *r, size_t n, const gen_model *from, const gen_model *to)
{
    for (size_t i = 0; i < n; i++) {
        if (!r[i].table) {
            fold_table(&r[i].from, from);
            fold_table(&r[i].to, to);
            continue;
        }
        fold_table(&r[i].table, from);
        fold_col(&r[i].from, gen_find_table(from, r[i].table));
        const char *nt = r[i].table;
        for (size_t k = 0; k < n; k++)
            if (!r[k].table && !c_strcasecmp(r[k].from, r[i].table))
                nt = r[k].to;
        fold_col(&r[i].to, gen_find_table(to, nt));
    }
}

static int rename_listed(const gen_rename *r, size_t n, const char *table, const char *from)
{
    for (size_t i = 0; i < n; i++)
        if (!strcmp(r[i].from, from) && (table ? r[i].table && !strcmp(r[i].table, table) : !r[i].table))
            return 1;
    return 0;
}

static int rename_add(gen_rename **r, size_t *n, const char *table, const char *from, const char *to)
{
    gen_rename *g = realloc(*r, (*n + 1) * sizeof(*g));
    if (!g)
        return -1;
    *r = g;
    g[*n].table = table ? xstrdup(table) : NULL;
    g[*n].from = xstrdup(from);
    g[*n].to = xstrdup(to);
    (*n)++;
    return 0;
}

/* SQLite: a table or column whose name changes only in case is the same
   one (SQLite's names ignore ASCII case), renamed, never a drop and an add
   (which lost the column's values, or could not be planned at all). */
static int case_renames(gen_rename **r, size_t *n, const gen_model *from, const gen_model *to)
{
    for (size_t i = 0; i < from->nt; i++) {
        const gen_table *ft = &from->t[i];
        const gen_table *tt = gen_find_table(to, ft->name);
        for (size_t k = 0; !tt && k < to->nt; k++)
            if (!c_strcasecmp(to->t[k].name, ft->name) && !gen_find_table(from, to->t[k].name) &&
                !rename_listed(*r, *n, NULL, ft->name)) {
                tt = &to->t[k];
                if (rename_add(r, n, NULL, ft->name, tt->name))
                    return -1;
            }
        for (size_t x = 0; !tt && x < *n; x++)
            if (!(*r)[x].table && !strcmp((*r)[x].from, ft->name))
                tt = gen_find_table(to, (*r)[x].to);
        for (size_t c = 0; tt && c < ft->ncols; c++) {
            const gen_col *fc = &ft->cols[c];
            if (gen_find_col(tt, fc->name) || rename_listed(*r, *n, ft->name, fc->name))
                continue;
            for (size_t k = 0; k < tt->ncols; k++)
                if (!c_strcasecmp(tt->cols[k].name, fc->name) && !gen_find_col(ft, tt->cols[k].name)) {
                    if (rename_add(r, n, ft->name, fc->name, tt->cols[k].name))
                        return -1;
                    break;
                }
        }
    }
    return 0;
}

/* The renames of the way back: new names to old ones. */
static gen_rename *renames_reverse(const gen_rename *r, size_t n)
{
    gen_rename *b = calloc(n + 1, sizeof(*b));
    if (!b)
        return NULL;
    for (size_t i = 0; i < n; i++) {
        const char *table = r[i].table;
        if (table) { /* the column's table has its new name by then */
            for (size_t k = 0; k < n; k++)
                if (!r[k].table && !strcmp(r[k].from, table))
                    table = r[k].to;
        }
        b[i].table = table ? xstrdup(table) : NULL;
        b[i].from = xstrdup(r[i].to);
        b[i].to = xstrdup(r[i].from);
    }
    return b;
}

/* ------------------------------------------------------------------ input */

typedef struct meta_ctx {
    const char *sql;
    char *copy;
    const char *label;
    buf *notes;
} meta_ctx;

/* Blanks the psql meta-command lines (a backslash first) in front of a
   statement: pg_dump writes \restrict and \unrestrict, which no server takes. */
static int blank_meta(void *ud, const sql_stmt *st)
{
    meta_ctx *x = ud;
    size_t at = (size_t)(st->text - x->sql), end = at + st->len;
    int line = st->line;
    while (at < end && x->copy[at] == '\\') {
        size_t n = strcspn(x->copy + at, "\n");
        buf_addf(x->notes, "%s:%d: psql meta-command '%.*s' skipped\n", x->label, line,
                 (int)(n > 40 ? 40 : n), x->copy + at);
        memset(x->copy + at, ' ', n);
        at += n;
        for (;;) { /* blanks and -- comments up to the next line that counts */
            if (at < end && strchr(" \t\r\n", x->copy[at]))
                line += x->copy[at++] == '\n';
            else if (at + 1 < end && x->copy[at] == '-' && x->copy[at + 1] == '-')
                at += strcspn(x->copy + at, "\n");
            else
                break;
        }
    }
    return 0;
}

/* Blanks a CREATE TABLE of SQLite's own tables (sqlite_sequence,
   sqlite_stat1, ...), which the sqlite3 shell's .schema prints and SQLite
   refuses to create: SQLite makes them itself when they are needed. */
static int blank_sqlite_internal(void *ud, const sql_stmt *st)
{
    meta_ctx *x = ud;
    if (strcmp(st->first, "CREATE") || strcmp(st->second, "TABLE") || st->text[0] == '\\')
        return 0;
    char *text = xstrndup(st->text, st->len);
    sql_tok *t = NULL;
    size_t n = text ? sql_tokenize(text, &t) : (size_t)-1;
    size_t k = 2;
    if (n != (size_t)-1 && k + 2 < n && tok_is(&t[k], "if") && tok_is(&t[k + 1], "not") &&
        tok_is(&t[k + 2], "exists"))
        k += 3;
    if (n != (size_t)-1 && k + 2 < n && tok_punct(&t[k + 1], '.'))
        k += 2;
    if (n != (size_t)-1 && k < n) {
        const char *name = t[k].s + (t[k].kind == TOK_WORD ? 0 : 1);
        if (!c_strncasecmp(name, "sqlite_", 7)) {
            size_t at = (size_t)(st->text - x->sql);
            buf_addf(x->notes, "%s:%d: CREATE TABLE %.*s skipped: SQLite makes its own tables\n", x->label,
                     st->line, (int)(t[k].n > 40 ? 40 : t[k].n), t[k].s);
            for (size_t i = at; i < at + st->len; i++)
                if (x->copy[i] != '\n')
                    x->copy[i] = ' ';
        }
    }
    free(t);
    free(text);
    return 0;
}

/* The desired DDL without psql meta-command lines, nor (SQLite) a CREATE
   TABLE of SQLite's own tables (a copy, the caller frees; NULL when out of
   memory); notes name each one skipped. */
static char *desired_sql(const char *sql, const char *label, int dialect, buf *notes)
{
    meta_ctx x = {sql, xstrdup(sql), label, notes};
    if (x.copy)
        sql_split(sql, strlen(sql), dialect, blank_meta, &x);
    if (x.copy && dialect == DIALECT_SQLITE)
        sql_split(sql, strlen(sql), dialect, blank_sqlite_internal, &x);
    return x.copy;
}

/* ------------------------------------------------------------------ proof */

typedef struct side {
    strata *db;
    strata_scratch *scratch;
} side;

static void side_close(side *s)
{
    if (s->db)
        strata_close(s->db);
    if (s->scratch) {
        strata_scratch_drop(s->scratch, NULL);
        strata_scratch_free(s->scratch);
    }
    memset(s, 0, sizeof(*s));
}

static strata_code side_scratch(const strata_diff_opts *o, side *s, strata_error *err)
{
    strata_code rc = strata_scratch_create(o->server_url, &s->scratch, err);
    if (rc)
        return rc;
    strata_config cfg = {.table = o->table, .lock_timeout = -1};
    return strata_open(strata_scratch_url(s->scratch), &cfg, &s->db, err);
}

/* A database to read a schema from (--from-url, --to-url). A SQLite file
   that does not exist is an error here, as with ?mode=ro (CONNECT_FAILED,
   like a PostgreSQL database that does not exist): read as an empty
   database it would plan dropping everything. */
static strata_code side_url(const strata_diff_opts *o, const char *url, const char *opt, side *s,
                            strata_error *err)
{
    db_url u;
    strata_code rc = url_parse(url, &u, err);
    if (rc)
        return rc;
    int missing = u.engine == DIALECT_SQLITE && strcmp(u.path, ":memory:") && access(u.path, F_OK) != 0;
    if (missing) {
        err_set(err, STRATA_CONNECT_FAILED, "%s: SQLite database '%s' does not exist", opt, u.path);
        err_hint(err, "check the path; diff reads this database and never creates it");
    }
    url_release(&u);
    if (missing)
        return STRATA_CONNECT_FAILED;
    strata_config cfg = {.table = o->table, .lock_timeout = -1, .readonly = 1};
    return strata_open(url, &cfg, &s->db, err);
}

/*
 * --from-url with the directory: a database strata migrates that is behind
 * the directory (a migration pending) would give a diff that does again
 * what the pending migration does -- a file whose up then fails on what
 * the other created. Refused, like Alembic's "Target database is not up to
 * date". A database strata has recorded nothing on (another tool's, before
 * adopt) is read as it is.
 */
static strata_code from_url_at_head(const strata_diff_opts *o, strata *db, strata_error *err)
{
    if (!o->set)
        return STRATA_OK;
    strata_status *st = NULL;
    strata_code rc = strata_status_get(db, o->set, &st, err);
    if (rc)
        return rc;
    const char *pending = NULL;
    int applied = 0;
    for (size_t i = 0; i < st->count; i++) {
        if (st->entries[i].state == STRATA_STATE_APPLIED || st->entries[i].state == STRATA_STATE_MODIFIED)
            applied = 1;
        else if (st->entries[i].state == STRATA_STATE_PENDING && !pending)
            pending = st->entries[i].version;
    }
    if (applied && pending) {
        rc = err_set(err, STRATA_CONFIG_ERROR,
                     "--from-url is at %s, behind the migration directory (%s is pending): the diff would "
                     "repeat what the pending migrations do",
                     st->current, pending);
        err_hint(err, "apply them first (strata up on that database), or diff from the directory itself "
                      "(without --from-url)");
    }
    strata_status_free(st);
    return rc;
}

/* One "comment on ..." line for what the schema text leaves out (docs/
   schema.md: no comments) but diff plans: a comment-only change is a
   difference, and the proof checks it. Newlines shown as \n. */
static void comment_line(buf *b, const char *what, const char *name, const char *col, const char *text)
{
    buf_addf(b, "comment on %s %s%s%s: ", what, name, col ? "." : "", col ? col : "");
    for (const char *p = text; *p; p++)
        buf_adds(b, *p == '\n' ? "\\n" : (char[2]){*p, 0});
    buf_adds(b, "\n");
}

/* Appends the comment lines of m to *dump (the schema text of m's
   database), reallocated when there are any. */
static strata_code add_comments(const gen_model *m, char **dump, strata_error *err)
{
    buf b;
    buf_init(&b);
    buf_adds(&b, *dump);
    size_t base = b.len;
    for (size_t i = 0; i < m->nt; i++) {
        const gen_table *t = &m->t[i];
        if (t->comment)
            comment_line(&b, "table", t->name, NULL, t->comment);
        for (size_t k = 0; k < t->ncols; k++)
            if (t->cols[k].comment)
                comment_line(&b, "column", t->name, t->cols[k].name, t->cols[k].comment);
    }
    if (b.oom) {
        buf_release(&b);
        return err_set(err, STRATA_NOMEM, "out of memory");
    }
    if (b.len > base) {
        free(*dump);
        *dump = buf_detach(&b);
    }
    buf_release(&b);
    return STRATA_OK;
}

/* The first was in *s replaced by now (*s reallocated); unchanged when
   was is not there or memory runs out. */
static void replace_once(char **s, const char *was, const char *now)
{
    char *at = strstr(*s, was);
    if (!at)
        return;
    buf nd;
    buf_init(&nd);
    buf_add(&nd, *s, (size_t)(at - *s));
    buf_adds(&nd, now);
    buf_adds(&nd, at + strlen(was));
    if (nd.oom) {
        buf_release(&nd);
        return;
    }
    free(*s);
    *s = buf_detach(&nd);
}

/*
 * Each CHECK constraint of m in the form that holds when it is created from
 * its own text (the engine's gen_canon, asked on db, which has m's tables),
 * in the model and in the dump alike: the plan re-creates constraints from
 * that text, and what it creates must compare equal to what it was read
 * from, in every state the proof compares.
 */
static strata_code canon_state(strata *db, gen_model *m, char **dump, strata_error *err)
{
    drv *d = db_driver(db);
    if (!d->ops->gen_canon)
        return STRATA_OK;
    for (size_t i = 0; i < m->nt; i++) {
        gen_table *t = &m->t[i];
        for (size_t k = 0; k < t->nitems; k++) {
            gen_item *it = &t->items[k];
            char *c = NULL;
            if (it->kind != 'c' || !it->def || d->ops->gen_canon(d, t->q, it->def, &c, err) || !c)
                continue;
            if (dump && *dump) { /* its line: "  constraint NAME DEF" */
                buf was, now;
                buf_init(&was);
                buf_init(&now);
                buf_addf(&was, "  constraint %s %s\n", it->q, it->def);
                buf_addf(&now, "  constraint %s %s\n", it->q, c);
                if (was.data && now.data)
                    replace_once(dump, was.data, now.data);
                buf_release(&was);
                buf_release(&now);
            }
            if (it->norm == it->def)
                it->norm = c;
            free(it->def);
            it->def = c;
        }
    }
    return STRATA_OK;
}

static strata_code read_state(strata *db, gen_model *m, char **dump, strata_error *err)
{
    drv *d = db_driver(db);
    memset(m, 0, sizeof(*m));
    if (!d->ops->gen_read)
        return err_set(err, STRATA_USAGE, "diff is not supported on %s", d->ops->engine);
    strata_code rc = d->ops->gen_read(d, db_table(db), m, err);
    if (!rc && dump)
        rc = strata_schema_dump(db, dump, err);
    if (!rc)
        rc = canon_state(db, m, dump, err);
    if (rc || !dump)
        return rc;
    return add_comments(m, dump, err);
}

/* The schema text of db with its comment lines, as read_state gives it:
   what the proof compares. */
static strata_code dump_state(strata *db, char **dump, strata_error *err)
{
    gen_model m;
    *dump = NULL;
    strata_code rc = read_state(db, &m, dump, err);
    gen_model_release(&m);
    return rc;
}

static int has_str(char *const *v, size_t n, const char *s)
{
    for (size_t i = 0; i < n; i++)
        if (!strcmp(v[i], s))
            return 1;
    return 0;
}

/* Adds the objects of a that b lacks (or holds otherwise) to the list. */
static void unsup_only(const gen_model *a, const gen_model *b, buf *list, size_t *n)
{
    for (size_t i = 0; i < a->nunsup; i++) {
        if (has_str(b->unsup, b->nunsup, a->unsup[i]))
            continue;
        const char *what = a->unsup[i];
        size_t wl = strcspn(what, "\037");
        /* one mention per object, whichever side it differs on */
        if (*n < 4 && !(list->data && memmem(list->data, list->len, what, wl)))
            buf_addf(list, "%s%.*s", list->len ? ", " : "", (int)wl, what);
        (*n)++;
    }
}

/*
 * DIFF_UNSUPPORTED when an object the plan cannot express (a rule, a
 * partitioned table, grants, ...) is not the same on both sides: a migration
 * without it would be proven wrong. The same object with the same content on
 * both sides needs no step and is fine.
 */
static strata_code unsupported_differ(const gen_model *from, const gen_model *to, strata_error *err)
{
    buf list;
    buf_init(&list);
    size_t n = 0;
    unsup_only(from, to, &list, &n);
    unsup_only(to, from, &list, &n);
    strata_code rc = STRATA_OK;
    if (n) {
        rc = err_set(err, STRATA_DIFF_UNSUPPORTED, "strata diff does not plan changes to %s%s",
                     list.data ? list.data : "?", n > 4 ? ", and more" : "");
        err_hint(err, "they differ between the start and the desired schema; write that part of the "
                      "migration by hand (docs/diff.md, \"What it covers\")");
    }
    buf_release(&list);
    return list.oom ? err_set(err, STRATA_NOMEM, "out of memory") : rc;
}

/*
 * DIFF_UNSUPPORTED when a table of the start gains a column that is NOT
 * NULL with no default (nor an identity or a generated expression): its
 * ADD COLUMN (or the SQLite rebuild's INSERT ... SELECT) fails as soon as
 * the table holds a row, which the proof, on an empty scratch database,
 * cannot see. Renamed tables and columns are matched by their new names.
 */
static strata_code not_null_added(const gen_model *from, const gen_model *to, const gen_opts *go,
                                  strata_error *err)
{
    for (size_t i = 0; i < from->nt; i++) {
        const gen_table *ft = &from->t[i];
        const gen_table *tt = gen_find_table(to, gen_new_name(go, NULL, ft->name));
        for (size_t k = 0; tt && k < tt->ncols; k++) {
            const gen_col *tc = &tt->cols[k];
            if (!tc->notnull || tc->dflt || tc->gen || tc->identity || tc->hidden)
                continue;
            int kept = 0;
            for (size_t j = 0; !kept && j < ft->ncols; j++)
                kept = !strcmp(gen_new_name(go, ft->name, ft->cols[j].name), tc->name);
            if (kept)
                continue;
            err_set(err, STRATA_DIFF_UNSUPPORTED,
                    "column %s.%s is added NOT NULL without a default: the migration would fail on a table "
                    "that holds rows",
                    tt->name, tc->name);
            err_hint(err, "give it a DEFAULT in the desired schema, or add it without NOT NULL, fill it, and "
                          "make it NOT NULL in a later migration");
            return STRATA_DIFF_UNSUPPORTED;
        }
    }
    return STRATA_OK;
}

/* Runs a part: in one transaction, or (no-transaction) statement by statement.
   Each statement is run with its line in the part's text (part_sql), so an
   error names it; *failed is the index of the statement that failed, or -1. */
static strata_code run_part_at(strata *db, const gen_plan *p, int part, int notx, const char *what,
                               int *failed, int *linep, strata_error *err)
{
    drv *d = db_driver(db);
    strata_code rc = STRATA_OK;
    int line = *linep;
    *failed = -1;
    if (!notx && (rc = d->ops->begin(d, 10, err)))
        return rc;
    for (size_t i = 0; !rc && i < p->n; i++) {
        if (p->s[i].part != part)
            continue;
        if ((rc = d->ops->exec_script(d, p->s[i].sql, what, line, err)))
            *failed = (int)i;
        for (const char *c = p->s[i].sql; *c; c++)
            line += *c == '\n';
        line += 2; /* its last line, then a blank one */
    }
    *linep = line;
    if (!rc && part == GEN_PART_TX && p->verify)
        rc = d->ops->verify(d, p->verify, what, 0, err);
    if (!notx) {
        if (rc)
            d->ops->query(d, "ROLLBACK", 0, NULL, NULL, NULL, NULL);
        else
            rc = d->ops->query(d, "COMMIT", 0, NULL, NULL, NULL, err);
    }
    return rc;
}

static strata_code run_part(strata *db, const gen_plan *p, int part, int notx, const char *what, int *failed,
                            strata_error *err)
{
    int line = 1;
    return run_part_at(db, p, part, notx, what, failed, &line, err);
}

/* A generated statement that fails on the scratch database: the proof
   fails (DIFF_NOT_PROVEN), the error keeps the server's message, SQLSTATE
   and line; r->remaining shows the statement. */
static strata_code proof_failed(strata_diff_result *r, const gen_plan *p, int failed, strata_code rc,
                                strata_error *err)
{
    if (rc == STRATA_NOMEM || rc == STRATA_CONNECT_FAILED || failed < 0)
        return rc;
    buf b;
    buf_init(&b);
    buf_addf(&b, "the statement that failed (%s:%d):\n%s;\n", err->file[0] ? err->file : "generated",
             err->line, p->s[failed].sql);
    free(r->remaining);
    r->remaining = b.oom ? NULL : buf_detach(&b);
    buf_release(&b);
    err->code = STRATA_DIFF_NOT_PROVEN;
    if (!err->hint[0])
        err_hint(err,
                 "this is a limit of strata diff: write this part of the migration by hand (docs/diff.md)");
    return STRATA_DIFF_NOT_PROVEN;
}

/* The text of parts a then b (a section); part_sql: of one part. */
static char *part_sql2(const gen_plan *p, int a, int b2)
{
    buf b;
    buf_init(&b);
    for (int k = 0; k < 2; k++)
        for (size_t i = 0; i < p->n; i++)
            if (p->s[i].part == (k ? b2 : a))
                buf_addf(&b, "%s%s;%s%s\n", b.len ? "\n" : "", p->s[i].sql,
                         p->s[i].lint_ignore ? " -- strata:lint-ignore " : "",
                         p->s[i].lint_ignore ? p->s[i].lint_ignore : "");
    return b.data ? buf_detach(&b) : xstrdup("");
}

static char *part_sql(const gen_plan *p, int part)
{
    buf b;
    buf_init(&b);
    for (size_t i = 0; i < p->n; i++)
        if (p->s[i].part == part)
            buf_addf(&b, "%s%s;%s%s\n", b.len ? "\n" : "", p->s[i].sql,
                     p->s[i].lint_ignore ? " -- strata:lint-ignore " : "",
                     p->s[i].lint_ignore ? p->s[i].lint_ignore : "");
    return b.data ? buf_detach(&b) : xstrdup("");
}

static strata_code plan(strata *db, const gen_model *from, const gen_model *to, const gen_opts *go,
                        gen_plan *p, strata_error *err)
{
    drv *d = db_driver(db);
    memset(p, 0, sizeof(*p));
    buf_init(&p->notes);
    return d->ops->gen_plan(from, to, go, p, err);
}

/* ------------------------------------------------------- column order */

/*
 * PostgreSQL puts an added column after the table's last one, and no
 * statement moves a column: on PostgreSQL the proof compares the schema
 * texts with each table's column lines in name order, and a table whose
 * columns differ in order only gets a note (docs/diff.md, Column order).
 */
typedef struct dtext {
    const char *s;
    size_t n;
} dtext;

static int dtext_cmp(const void *a, const void *b)
{
    const dtext *x = a, *y = b;
    size_t n = x->n < y->n ? x->n : y->n;
    int c = memcmp(x->s, y->s, n);
    return c ? c : (x->n > y->n) - (x->n < y->n);
}

static int is_col_line(const char *s, size_t n)
{
    return n > 9 && !strncmp(s, "  column ", 9);
}

/* The column lines of the block headed `header` (a "table NAME" line,
   n bytes) in dump, in their order: *out (caller frees), their count. */
static size_t table_cols(const char *dump, const char *header, size_t hn, dtext **out)
{
    *out = NULL;
    const char *p = dump;
    while (*p) {
        size_t n = strcspn(p, "\n");
        if (n == hn && !memcmp(p, header, n))
            break;
        p += n + (p[n] ? 1 : 0);
    }
    if (!*p)
        return 0;
    p += hn + (p[hn] ? 1 : 0);
    size_t k = 0, cap = 0;
    for (;;) {
        size_t n = strcspn(p, "\n");
        if (!is_col_line(p, n))
            break;
        if (ARR_GROW(*out, cap, k + 1))
            break;
        (*out)[k].s = p;
        (*out)[k++].n = n;
        p += n + (p[n] ? 1 : 0);
    }
    return k;
}

/* dump with each table's column lines sorted (caller frees), or NULL. */
static char *cols_sorted(const char *dump)
{
    buf b;
    buf_init(&b);
    const char *p = dump;
    int in_table = 0;
    while (*p) {
        size_t n = strcspn(p, "\n");
        if (in_table && is_col_line(p, n)) {
            dtext *run = NULL;
            size_t k = 0, cap = 0;
            while (is_col_line(p, n) && !ARR_GROW(run, cap, k + 1)) {
                run[k].s = p;
                run[k++].n = n;
                p += n + (p[n] ? 1 : 0);
                n = strcspn(p, "\n");
            }
            if (run)
                qsort(run, k, sizeof(*run), dtext_cmp);
            for (size_t i = 0; i < k; i++)
                buf_addf(&b, "%.*s\n", (int)run[i].n, run[i].s);
            free(run);
            if (!k) { /* out of memory */
                b.oom = 1;
                break;
            }
            continue;
        }
        if (n && p[0] != ' ')
            in_table = n > 6 && !strncmp(p, "table ", 6);
        buf_addf(&b, "%.*s%s", (int)n, p, p[n] ? "\n" : "");
        p += n + (p[n] ? 1 : 0);
    }
    if (b.oom) {
        buf_release(&b);
        return NULL;
    }
    return b.data ? buf_detach(&b) : xstrdup("");
}

/* The column name of a "  column NAME ..." line, into out. */
static void col_name(const dtext *l, buf *out)
{
    const char *s = l->s + 9, *e = l->s + l->n;
    const char *q = s;
    if (*q == '"') {
        for (q++; q < e; q++)
            if (*q == '"' && !(q + 1 < e && q[1] == '"'))
                break;
            else if (*q == '"')
                q++;
        q += q < e;
    } else {
        while (q < e && *q != ' ')
            q++;
    }
    buf_addf(out, "%.*s", (int)(q - s), s);
}

static void col_names(const dtext *c, size_t n, buf *out)
{
    for (size_t i = 0; i < n; i++) {
        if (i)
            buf_adds(out, ", ");
        col_name(&c[i], out);
    }
}

/*
 * 1 when the schema texts want and got are equal; on PostgreSQL also when
 * tables' columns differ in order only: then a note per such table, on
 * notes, says so (what: "after the up"; wanted: "the desired schema").
 */
static int dumps_equal(const strata_diff_result *r, const char *want, const char *got, const char *what,
                       const char *wanted, buf *notes)
{
    if (!strcmp(want, got))
        return 1;
    if (strcmp(r->engine, "postgres"))
        return 0;
    char *a = cols_sorted(want), *b = cols_sorted(got);
    int same = a && b && !strcmp(a, b);
    free(a);
    free(b);
    if (!same)
        return 0;
    for (const char *p = got; *p;) {
        size_t n = strcspn(p, "\n");
        if (n > 6 && !strncmp(p, "table ", 6)) {
            dtext *x = NULL, *y = NULL;
            size_t nx = table_cols(want, p, n, &x), ny = table_cols(got, p, n, &y);
            int differ = nx != ny;
            for (size_t i = 0; !differ && i < nx; i++)
                differ = dtext_cmp(&x[i], &y[i]) != 0;
            if (differ) {
                buf_addf(notes, "%.*s: %s, its columns are in the order ", (int)n, p, what);
                col_names(y, ny, notes);
                buf_addf(notes, ", where %s has ", wanted);
                col_names(x, nx, notes);
                buf_adds(notes, " (PostgreSQL adds a column after the last one and cannot move one; "
                                "INSERT without a column list and SELECT * see the table's order)\n");
            }
            free(x);
            free(y);
        }
        p += n + (p[n] ? 1 : 0);
    }
    return 1;
}

/* the start database's schema changed while diff read it */
static void start_changed_hint(strata_error *err)
{
    err_hint(err,
             "nothing was written; a migration or another session changed its schema meanwhile: run diff "
             "again once it is quiet");
}

/*
 * The start database's model and schema text (read_state), read while its
 * schema holds still: its schema text before and after equal to the one
 * read with the model (a migration committing between two of the reads
 * made the model and the text disagree, and the rebuild then failed as a
 * "limit of diff"). A few tries, then an error that says so.
 */
static strata_code read_start(strata *db, gen_model *m, char **dump, strata_error *err)
{
    strata_code rc = STRATA_OK;
    for (int attempt = 0; attempt < 4; attempt++) {
        char *before = NULL, *after = NULL;
        *dump = NULL;
        memset(m, 0, sizeof(*m));
        if (!(rc = dump_state(db, &before, err)) && !(rc = read_state(db, m, dump, err)))
            rc = dump_state(db, &after, err);
        int still = !rc && !strcmp(before, *dump) && !strcmp(after, *dump);
        free(before);
        free(after);
        if (still)
            return STRATA_OK;
        gen_model_release(m);
        free(*dump);
        *dump = NULL;
        /* an object gone between two catalog reads: dropped meanwhile */
        if (rc && !(err && (!strcmp(err->sqlstate, "XX000") || !strcmp(err->sqlstate, "42P01") ||
                            !strcmp(err->sqlstate, "42704"))))
            return rc;
        if (intr_requested())
            return intr_error(err, "while reading the start database");
        sleep_ms(50 << attempt);
    }
    if (!rc)
        rc = err_set(err, STRATA_DIFF_NOT_PROVEN,
                     "the start database (--from-url) changed while strata diff "
                     "read it");
    start_changed_hint(err);
    return rc;
}

static strata_code not_proven(strata_diff_result *r, const char *expected, const char *actual, const char *le,
                              const char *la, const char *what, strata_error *err)
{
    buf d;
    buf_init(&d);
    text_diff(expected, actual, le, la, 3, &d);
    r->remaining = d.data ? buf_detach(&d) : NULL;
    buf_release(&d);
    err_set(err, STRATA_DIFF_NOT_PROVEN, "%s", what);
    err_hint(err, "this is a limit of strata diff: write this part of the migration by hand (docs/diff.md)");
    return STRATA_DIFF_NOT_PROVEN;
}

void strata_diff_result_free(strata_diff_result *r)
{
    if (!r)
        return;
    for (size_t i = 0; i < r->nfiles; i++)
        free(r->files[i].up), free(r->files[i].down), free(r->files[i].verify), free(r->files[i].suffix);
    for (size_t i = 0; i < r->nstmts; i++)
        free(r->stmts[i].kind), free(r->stmts[i].sql), free(r->stmts[i].loses);
    free(r->files), free(r->stmts), free(r->notes), free(r->difference), free(r->remaining);
    free(r);
}

static strata_code result_stmts(strata_diff_result *r, const gen_plan *p, const int *file_of_part)
{
    r->stmts = calloc(p->n + 1, sizeof(*r->stmts));
    if (!r->stmts)
        return STRATA_NOMEM;
    for (size_t i = 0; i < p->n; i++) {
        strata_diff_stmt *s = &r->stmts[r->nstmts++];
        s->kind = xstrdup(p->s[i].kind);
        s->sql = xstrdup(p->s[i].sql);
        s->loses = p->s[i].loses ? xstrdup(p->s[i].loses) : NULL;
        s->file = file_of_part ? file_of_part[p->s[i].part] : 0;
        if (!s->kind || !s->sql)
            return STRATA_NOMEM;
    }
    if (p->notes.len && !(r->notes = xstrdup(p->notes.data)))
        return STRATA_NOMEM;
    return STRATA_OK;
}

strata_code strata_diff(const strata_diff_opts *o, strata_diff_result **out, strata_error *err)
{
    if (!out)
        return api_null(err, __func__, "out");
    *out = NULL;
    if (!o || (!o->to_sql == !o->to_url) || (!o->set && !o->from_url))
        return err_set(err, STRATA_USAGE,
                       "diff needs a start (a directory or --from-url) and one desired schema");
    strata_diff_result *r = calloc(1, sizeof(*r));
    if (!r)
        return err_set(err, STRATA_NOMEM, "out of memory");
    side work = {0}, want = {0}, start = {0};
    gen_model m_from = {0}, m_to = {0}, empty = {0};
    gen_model mid[GEN_NPARTS + 1];
    char *d_from = NULL, *d_to = NULL, *dumps[GEN_NPARTS + 1] = {0};
    gen_plan up = {0}, back = {0};
    gen_rename *ren = NULL, *rev = NULL;
    size_t nren = 0;
    int failed = -1;
    buf innotes; /* notes on the input, before the plan's */
    buf_init(&innotes);
    memset(mid, 0, sizeof(mid));
    buf_init(&up.notes);
    buf_init(&back.notes);
    strata_code rc = parse_renames(o->renames, &ren, &nren, err);
    if (rc)
        goto done;

    /* the start, on the scratch database `work` */
    if ((rc = side_scratch(o, &work, err)))
        goto done;
    r->engine = strata_engine(work.db);
    if (o->from_url) {
        if ((rc = side_url(o, o->from_url, "--from-url", &start, err)) ||
            (rc = from_url_at_head(o, start.db, err)))
            goto done;
        if ((rc = read_start(start.db, &m_from, &d_from, err)))
            goto done;
        if (strcmp(strata_engine(start.db), r->engine)) {
            rc = err_set(err, STRATA_USAGE, "--from-url is a %s database; the diff is for %s",
                         strata_engine(start.db), r->engine);
            goto done;
        }
        side_close(&start);
        gen_opts go = {0};
        gen_plan build = {0};
        if (!(rc = plan(work.db, &empty, &m_from, &go, &build, err)))
            rc = run_part(work.db, &build, GEN_PART_TX, 0, "the start schema", &failed, err);
        gen_plan_release(&build);
        if (rc)
            goto done;
        char *got = NULL;
        /* the start database's own session may not run the check
           (read-only): its constraints in the form that holds, asked here */
        if ((rc = canon_state(work.db, &m_from, &d_from, err)) || (rc = dump_state(work.db, &got, err)))
            goto done;
        if (strcmp(got, d_from)) {
            rc = not_proven(r, d_from, got, "the start database", "rebuilt on a scratch database",
                            "the start schema could not be rebuilt on a scratch database", err);
            free(got);
            goto done;
        }
        free(got);
    } else {
        if ((rc = strata_up(work.db, o->set, NULL, NULL, err)) ||
            (rc = read_state(work.db, &m_from, &d_from, err)))
            goto done;
    }

    /* the desired schema */
    if (o->to_url) {
        if ((rc = side_url(o, o->to_url, "--to-url", &want, err)))
            goto done;
        if (strcmp(strata_engine(want.db), r->engine)) {
            rc = err_set(err, STRATA_USAGE, "--to-url is a %s database; the diff is for %s",
                         strata_engine(want.db), r->engine);
            goto done;
        }
    } else {
        if ((rc = side_scratch(o, &want, err)))
            goto done;
        drv *d = db_driver(want.db);
        const char *label = o->to_label ? o->to_label : "desired schema";
        char *sql = desired_sql(o->to_sql, label,
                                !strcmp(r->engine, "postgres") ? DIALECT_POSTGRES : DIALECT_SQLITE, &innotes);
        if (!sql) {
            rc = err_set(err, STRATA_NOMEM, "out of memory");
            goto done;
        }
        rc = d->ops->exec_script(d, sql, label, 1, err);
        free(sql);
        if (rc && rc != STRATA_NOMEM && rc != STRATA_CONNECT_FAILED && rc != STRATA_INTERRUPTED) {
            /* the input is wrong, not a migration: FILE:LINE in the message */
            err->code = rc = STRATA_DIFF_INPUT_INVALID;
            if (!err->hint[0])
                err_hint(err, "the desired schema must run on an empty database as it is written");
        }
        if (rc)
            goto done;
        /* read on a session of its own: what the file set (pg_dump empties
           search_path with set_config) does not hide the schema */
        strata_close(want.db);
        want.db = NULL;
        strata_config cfg = {.table = o->table, .lock_timeout = -1};
        if ((rc = strata_open(strata_scratch_url(want.scratch), &cfg, &want.db, err)))
            goto done;
    }
    if ((rc = read_state(want.db, &m_to, &d_to, err)))
        goto done;
    side_close(&want);
    if ((rc = unsupported_differ(&m_from, &m_to, err)))
        goto done;

    if (dumps_equal(r, d_to, d_from, "in the start", "the desired schema", &innotes))
        goto done; /* no difference: no files */
    {
        buf d;
        buf_init(&d);
        text_diff(d_from, d_to, "start", "desired", 3, &d);
        r->difference = d.data ? buf_detach(&d) : NULL;
        buf_release(&d);
    }

    if (!strcmp(r->engine, "sqlite")) {
        renames_fold(ren, nren, &m_from, &m_to);
        if (case_renames(&ren, &nren, &m_from, &m_to)) {
            rc = err_set(err, STRATA_NOMEM, "out of memory");
            goto done;
        }
    }

    /* the up */
    gen_opts go = {.down = 0, .no_concurrently = o->no_concurrently, .renames = ren, .nrenames = nren};
    if ((rc = plan(work.db, &m_from, &m_to, &go, &up, err)))
        goto done;
    note_renames(&up, &m_from, &m_to, &go);
    int file_of_part[GEN_NPARTS], parts[GEN_NPARTS], nparts = 0;
    for (int k = 0; k < GEN_NPARTS; k++) {
        file_of_part[k] = -1;
        for (size_t i = 0; i < up.n; i++)
            if (up.s[i].part == k) {
                file_of_part[k] = nparts;
                parts[nparts++] = k;
                break;
            }
    }
    if ((rc = result_stmts(r, &up, file_of_part))) {
        err_set(err, rc, "out of memory");
        goto done;
    }
    if (!o->allow_destructive) {
        buf what;
        buf_init(&what);
        size_t n = 0;
        for (size_t i = 0; i < up.n; i++)
            if (up.s[i].loses) {
                buf_addf(&what, "%s%s (loses %s)", n ? "; " : "", up.s[i].kind, up.s[i].loses);
                n++;
            }
        if (n) {
            err_set(err, STRATA_DIFF_DESTRUCTIVE, "%zu destructive step%s: %s", n, n == 1 ? "" : "s",
                    what.data);
            if (up.notes.len) {
                /* each note a line (a rename suspected of a table, of a
                   column...): the first, and how many more are printed */
                int more = -1;
                for (const char *l = up.notes.data; l && *l; l = strchr(l, '\n'), l = l ? l + 1 : NULL)
                    more++;
                char tail[48] = "";
                if (more > 0)
                    snprintf(tail, sizeof(tail), " (and %d more in the notes above)", more);
                err_hint(err, "%.*s%s", (int)strcspn(up.notes.data, "\n"), up.notes.data, tail);
            } else if (strstr(what.data ? what.data : "", " of enum "))
                err_hint(err, "a value renamed rather than removed keeps its rows with ALTER TYPE ... RENAME "
                              "VALUE 'old' TO 'new' (write it by hand); else pass --allow-destructive when "
                              "losing that data is intended");
            else
                err_hint(err, "pass --allow-destructive when losing that data is intended");
            buf_release(&what);
            rc = STRATA_DIFF_DESTRUCTIVE;
            goto done;
        }
        buf_release(&what);
    }
    if ((rc = not_null_added(&m_from, &m_to, &go, err)))
        goto done;
    if (nparts == 0) {
        rc = not_proven(r, d_to, d_from, "desired", "start",
                        "strata diff found no statement for this difference", err);
        goto done;
    }

    /* the proof: every part up, recording the schema between them */
    mid[0] = m_from;
    memset(&m_from, 0, sizeof(m_from));
    dumps[0] = d_from;
    d_from = NULL;
    for (int k = 0; k < nparts; k++) {
        if ((rc = run_part(work.db, &up, parts[k], parts[k] != GEN_PART_TX, "generated up", &failed, err))) {
            rc = proof_failed(r, &up, failed, rc, err);
            goto done;
        }
        if ((rc = read_state(work.db, &mid[k + 1], &dumps[k + 1], err)))
            goto done;
    }
    if (!dumps_equal(r, d_to, dumps[nparts], "after the up", "the desired schema", &innotes)) {
        rc = not_proven(r, d_to, dumps[nparts], "desired", "after the generated up",
                        "the generated up does not give the desired schema", err);
        goto done;
    }

    /* the downs, newest first, each back to the state before its part */
    if (!(r->files = calloc((size_t)nparts, sizeof(*r->files)))) {
        rc = err_set(err, STRATA_NOMEM, "out of memory");
        goto done;
    }
    r->nfiles = (size_t)nparts;
    if (nren && !(rev = renames_reverse(ren, nren))) {
        rc = err_set(err, STRATA_NOMEM, "out of memory");
        goto done;
    }
    for (int k = nparts - 1; k >= 0; k--) {
        /* renames run in the transactional part */
        gen_opts bo = {.down = 1,
                       .no_concurrently = 1,
                       .enum_rebuild = 1,
                       .renames = parts[k] == GEN_PART_TX ? rev : NULL,
                       .nrenames = parts[k] == GEN_PART_TX ? nren : 0};
        int down_notx = 0;
        for (int attempt = 0;; attempt++) {
            gen_plan_release(&back);
            if ((rc = plan(work.db, &mid[k + 1], &mid[k], &bo, &back, err)))
                goto done;
            /* enum values added back: first by rebuilding the type, in the
               down's one transaction (the values usable at once by the
               defaults, indexes and views made again after them). When
               that cannot be done (a function takes the type), with
               ALTER TYPE ... ADD VALUE, which makes the down a
               no-transaction section: those first, then the rest, one by
               one */
            down_notx = 0;
            for (size_t i = 0; i < back.n; i++)
                down_notx |= back.s[i].part == GEN_PART_PRE;
            if (down_notx)
                for (size_t i = 0; i < back.n; i++)
                    back.s[i].part = back.s[i].part == GEN_PART_PRE ? GEN_PART_PRE : GEN_PART_TX;
            int dline = 1; /* the section holds the PRE statements, then the others */
            if (!(rc =
                      run_part_at(work.db, &back, GEN_PART_PRE, 1, "generated down", &failed, &dline, err)) &&
                !(rc = run_part_at(work.db, &back, GEN_PART_TX, down_notx, "generated down", &failed, &dline,
                                   err)))
                break;
            if (attempt == 0 && !down_notx && rc != STRATA_NOMEM) {
                /* transactional: rolled back; again the other way, if
                   there is one */
                gen_plan alt = {0};
                gen_opts ao = bo;
                ao.enum_rebuild = 0;
                int other = 0;
                strata_error ae;
                strata_error_clear(&ae);
                if (!plan(work.db, &mid[k + 1], &mid[k], &ao, &alt, &ae))
                    for (size_t i = 0; i < alt.n; i++)
                        other |= alt.s[i].part == GEN_PART_PRE;
                gen_plan_release(&alt);
                if (other) {
                    strata_error_clear(err);
                    bo.enum_rebuild = 0;
                    continue;
                }
            }
            rc = proof_failed(r, &back, failed, rc, err);
            goto done;
        }
        char *got = NULL;
        if ((rc = dump_state(work.db, &got, err)))
            goto done;
        if (!dumps_equal(r, dumps[k], got, "after the down", "the start", &innotes)) {
            rc = not_proven(r, dumps[k], got, "before the up", "after the generated down",
                            "the generated down does not give back the start", err);
            free(got);
            goto done;
        }
        free(got);
        strata_diff_file *f = &r->files[k];
        f->no_transaction = parts[k] != GEN_PART_TX;
        f->suffix = xstrdup(parts[k] == GEN_PART_PRE    ? "_enum_values"
                            : parts[k] == GEN_PART_POST ? "_indexes"
                                                        : "");
        f->up = part_sql(&up, parts[k]);
        f->down_no_transaction = down_notx;
        f->down = part_sql2(&back, GEN_PART_PRE, GEN_PART_TX);
        if (parts[k] == GEN_PART_TX && up.verify) {
            buf v;
            buf_init(&v);
            buf_addf(&v, "%s;\n", up.verify);
            if (!(f->verify = v.data ? buf_detach(&v) : NULL)) {
                rc = err_set(err, STRATA_NOMEM, "out of memory");
                goto done;
            }
        }
        if (!f->suffix || !f->up || !f->down) {
            rc = err_set(err, STRATA_NOMEM, "out of memory");
            goto done;
        }
    }

done:
    if (innotes.len) {
        buf_adds(&innotes, r->notes ? r->notes : "");
        free(r->notes);
        r->notes = innotes.oom ? NULL : buf_detach(&innotes);
    }
    buf_release(&innotes);
    side_close(&start);
    side_close(&want);
    side_close(&work);
    gen_model_release(&m_from);
    gen_model_release(&m_to);
    for (int k = 0; k <= GEN_NPARTS; k++) {
        gen_model_release(&mid[k]);
        free(dumps[k]);
    }
    free(d_from);
    free(d_to);
    gen_plan_release(&up);
    gen_plan_release(&back);
    renames_free(ren, nren);
    renames_free(rev, nren);
    if (rc && rc != STRATA_DIFF_NOT_PROVEN && rc != STRATA_DIFF_DESTRUCTIVE) {
        strata_diff_result_free(r);
        return rc;
    }
    if (rc) {
        for (size_t i = 0; i < r->nfiles; i++)
            free(r->files[i].up), free(r->files[i].down), free(r->files[i].suffix);
        free(r->files);
        r->files = NULL;
        r->nfiles = 0;
    }
    *out = r;
    return rc;
}
