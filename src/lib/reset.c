/*
 * reset.c -- strata reset: drop every object of the target schema, then
 * apply the migrations again.
 *
 * PostgreSQL: the target schema is current_schema(), the first existing
 * schema of the search path. It is dropped with CASCADE, which is complete
 * by construction (every kind of object, extensions installed in it, views
 * elsewhere that depend on it), and created again in the same transaction
 * with what belonged to the schema itself: owner, privileges, comment and
 * default privileges. PostgreSQL 15's public schema comes back as
 * pg_database_owner's with {pg_database_owner=UC,=U}.
 *
 * SQLite: drops triggers, views, virtual tables and tables (indexes go with
 * their tables; sqlite_sequence and sqlite_stat* lose their rows with them)
 * with foreign keys off, in one transaction. The file, its page size and
 * journal mode stay. No VACUUM: it would wait for every reader of the file,
 * and up reuses the free pages anyway.
 */
#include "ops.h"

#include <stdlib.h>
#include <string.h>

void strata_objects_free(strata_objects *o)
{
    if (!o)
        return;
    for (size_t i = 0; i < o->count; i++) {
        free(o->items[i].kind);
        free(o->items[i].name);
    }
    free(o->items);
    free(o->schema);
    free(o);
}

/* strata_reset_list's list, with the capacity of its items (ARR_GROW)
   behind the public struct, which stays first. */
typedef struct object_list {
    strata_objects pub;
    size_t cap;
} object_list;

int row_add_object(void *ud, int n, char **v)
{
    strata_objects *o = ud;
    if (n < 2 || !v[0] || !v[1])
        return 0;
    if (ARR_GROW(o->items, ((object_list *)o)->cap, o->count + 1))
        return 1;
    strata_object *items = o->items;
    items[o->count].kind = xstrdup(v[0]);
    items[o->count].name = xstrdup(v[1]);
    if (!items[o->count].kind || !items[o->count].name) {
        free(items[o->count].kind);
        free(items[o->count].name);
        return 1;
    }
    o->count++;
    return 0;
}

int row_first_value(void *ud, int n, char **v)
{
    char **out = ud;
    free(*out);
    *out = n > 0 && v[0] ? xstrdup(v[0]) : NULL;
    return 1;
}

int row_collect(void *ud, int n, char **v)
{
    buf *b = ud;
    if (n > 0 && v[0])
        buf_add(b, v[0], strlen(v[0]) + 1);
    return b->oom;
}

/* A new list of d's objects now, or NULL with err set. */
static strata_objects *list_now(drv *d, const char *table, strata_error *err)
{
    strata_objects *o = calloc(1, sizeof(object_list));
    if (!o) {
        err_set(err, STRATA_NOMEM, "out of memory");
        return NULL;
    }
    if (d->ops->reset_list(d, table, o, err)) {
        strata_objects_free(o);
        return NULL;
    }
    return o;
}

static int same_object(const strata_object *a, const strata_object *b)
{
    return !strcmp(a->kind, b->kind) && !strcmp(a->name, b->name);
}

static const strata_object *missing_from(const strata_objects *a, const strata_objects *b)
{
    for (size_t i = 0; i < a->count; i++) {
        size_t k = 0;
        while (k < b->count && !same_object(&a->items[i], &b->items[k]))
            k++;
        if (k == b->count)
            return &a->items[i];
    }
    return NULL;
}

strata_code reset_check_same(drv *d, const char *table, const strata_objects *expect, strata_error *err)
{
    if (!expect)
        return STRATA_OK;
    strata_objects *now = list_now(d, table, err);
    if (!now)
        return err->code;
    const strata_object *added = missing_from(now, expect), *gone = added ? NULL : missing_from(expect, now);
    strata_code rc = STRATA_OK;
    if (added || gone || now->count != expect->count) {
        const strata_object *x = added ? added : gone;
        if (x)
            err_set(err, STRATA_RESET_CHANGED,
                    "the database changed since reset listed what it would drop: %s %s %s", x->kind, x->name,
                    added ? "was created since" : "is gone");
        else
            err_set(err, STRATA_RESET_CHANGED,
                    "the database changed since reset listed what it would drop (%zu objects, now %zu)",
                    expect->count, now->count);
        err_hint(err, "nothing was changed; run reset again to see what it drops now");
        rc = STRATA_RESET_CHANGED;
    }
    strata_objects_free(now);
    return rc;
}

static strata_objects *objects_copy(const strata_objects *o)
{
    object_list *c = calloc(1, sizeof(*c));
    if (!c)
        return NULL;
    c->pub.schema = o->schema ? xstrdup(o->schema) : NULL;
    for (size_t i = 0; i < o->count; i++) {
        char *v[2] = {o->items[i].kind, o->items[i].name};
        if (row_add_object(&c->pub, 2, v)) {
            strata_objects_free(&c->pub);
            return NULL;
        }
    }
    return &c->pub;
}

/* ------------------------------------------------------------------ API */

strata_code strata_reset_list(strata *db, strata_objects **out, strata_error *err)
{
    if (!db || !out)
        return api_null(err, __func__, "db and out");
    *out = NULL;
    drv *d = db_driver(db);
    strata_objects *o = list_now(d, db_table(db), err);
    if (!o)
        return err->code ? err->code : STRATA_NOMEM;
    /* what strata_reset will drop, and nothing else */
    strata_objects *seen = objects_copy(o);
    if (!seen) {
        strata_objects_free(o);
        return err_set(err, STRATA_NOMEM, "out of memory");
    }
    strata_objects_free(db->reset_seen);
    db->reset_seen = seen;
    *out = o;
    return STRATA_OK;
}

typedef struct made_list {
    made_schema *v;
    size_t n, cap;
    const char *by;
    int oom;
    /* schemas a DROP SCHEMA of the migrations removes first: each a flag
       ('c' CASCADE, 'p' without: only an empty one goes), then the name,
       NUL-ended */
    buf dropped;
} made_list;

/* 'c', 'p' (see made_list.dropped), or 0 when no DROP SCHEMA came first. */
static char was_dropped(const made_list *l, const char *name)
{
    char how = 0;
    for (size_t off = 0; l->dropped.data && off < l->dropped.len; off += strlen(l->dropped.data + off) + 1)
        if (!strcmp(l->dropped.data + off + 1, name) && how != 'c')
            how = l->dropped.data[off];
    return how;
}

/* DROP SCHEMA [IF EXISTS] a, b [CASCADE]: the up removes these itself */
static void dropped_stmt(made_list *l, const sql_stmt *st)
{
    size_t pos = 0;
    int line = 1, k = 0, cascade = 0;
    sql_token t;
    buf names; /* NUL-ended */
    buf_init(&names);
    while (sql_token_next(st->text, st->len, &pos, &line, DIALECT_POSTGRES, 0, &t) != SQLTOK_END) {
        if (k++ < 2 || t.kind == SQLTOK_PUNCT)
            continue; /* DROP SCHEMA, commas */
        if (t.kind == SQLTOK_WORD &&
            (sql_word_is(t.text, t.len, "IF") || sql_word_is(t.text, t.len, "EXISTS") ||
             sql_word_is(t.text, t.len, "CASCADE") || sql_word_is(t.text, t.len, "RESTRICT"))) {
            cascade |= sql_word_is(t.text, t.len, "CASCADE");
            continue;
        }
        if (t.kind != SQLTOK_WORD && t.kind != SQLTOK_QUOTED)
            break;
        sql_ident_append(&names, t.text, t.len);
        buf_add(&names, "", 1);
    }
    for (size_t off = 0; names.data && off < names.len; off += strlen(names.data + off) + 1) {
        buf_add(&l->dropped, cascade ? "c" : "p", 1);
        buf_adds(&l->dropped, names.data + off);
        buf_add(&l->dropped, "", 1);
    }
    l->oom |= names.oom;
    buf_release(&names);
}

/* CREATE SCHEMA [IF NOT EXISTS] name, or CREATE SCHEMA AUTHORIZATION role
   (named after the role): the schema's name, as PostgreSQL folds it. */
static int made_stmt(void *ud, const sql_stmt *st)
{
    made_list *l = ud;
    if (!strcmp(st->first, "DROP") && !strcmp(st->second, "SCHEMA")) {
        dropped_stmt(l, st);
        return 0;
    }
    if (strcmp(st->first, "CREATE") || strcmp(st->second, "SCHEMA"))
        return 0;
    size_t pos = 0;
    int line = 1, k = 0, ifne = 0;
    sql_token t;
    while (sql_token_next(st->text, st->len, &pos, &line, DIALECT_POSTGRES, 0, &t) != SQLTOK_END) {
        if (k++ < 2)
            continue; /* CREATE SCHEMA */
        if (t.kind == SQLTOK_WORD &&
            (sql_word_is(t.text, t.len, "IF") || sql_word_is(t.text, t.len, "NOT") ||
             sql_word_is(t.text, t.len, "EXISTS") || sql_word_is(t.text, t.len, "AUTHORIZATION"))) {
            ifne |= sql_word_is(t.text, t.len, "EXISTS");
            continue;
        }
        if (t.kind != SQLTOK_WORD && t.kind != SQLTOK_QUOTED)
            return 0;
        buf name;
        buf_init(&name);
        sql_ident_append(&name, t.text, t.len);
        char how = name.data ? was_dropped(l, name.data) : 0;
        if (how == 'c') {
            buf_release(&name); /* the up drops it, whatever it holds, before it makes it */
            return 0;
        }
        if (name.oom || !name.data || ARR_GROW(l->v, l->cap, l->n + 1)) {
            buf_release(&name);
            l->oom = 1;
            return 1;
        }
        l->v[l->n++] = (made_schema){buf_detach(&name), l->by, ifne, how == 'p'};
        return 0;
    }
    return 0;
}

/* The schemas the up sections of set make on the engine of dialect; the
   caller frees each name and v. */
static made_list schemas_made(const strata_migset *set, int dialect)
{
    made_list l = {0};
    for (size_t i = 0; i < set->count && !l.oom; i++) {
        const migration *m = &set->migs[i];
        const section *s = mig_section(m, SEC_UP, dialect);
        l.by = m->id;
        if (s && s->sql)
            sql_split(s->sql, strlen(s->sql), dialect, made_stmt, &l);
    }
    return l;
}

static strata_code reset_run(strata *db, const strata_migset *set, int flags, strata_result **out,
                             strata_error *err)
{
    strata_error local;
    if (!err)
        err = &local;
    if (out)
        *out = NULL;
    /* nothing is dropped unless the migrations can be applied again */
    strata_code rc = strata_migset_check(set, err);
    if (rc)
        return rc;
    if (!(flags & STRATA_ALLOW_REMOTE) && (rc = engine_url(db)->ops->check_local(engine_url(db), err)))
        return rc;
    drv *d = db_driver(db);
    /* the migration lock spans drop and up: nobody migrates in between (the
       lock nests: strata_up takes it again); taken before anything is
       listed, so that a run that was going on has finished */
    if ((rc = engine_lock(db, err)))
        return rc;
    /* a no-transaction section another process runs (SQLite): dropping
       under it and applying it again would run it twice at once; and a
       session the up half would refuse (a standby, session_replication_role
       replica) is refused before anything is dropped */
    if ((rc = engine_wait_sections(db, err)) || (rc = engine_writable(db, err))) {
        d->ops->unlock(d, db_table(db));
        return rc;
    }
    /* a schema a migration makes, left standing beside the one dropped,
       would stop the up half way: refused before anything is dropped */
    int target_made = 0; /* a migration makes the schema dropped: not made again here */
    if (d->ops->reset_made) {
        made_list made = schemas_made(set, d->ops->dialect);
        rc = made.oom || made.dropped.oom
                 ? err_set(err, STRATA_NOMEM, "out of memory")
                 : d->ops->reset_made(d, db_table(db), made.v, made.n, &target_made, err);
        for (size_t i = 0; i < made.n; i++)
            free(made.v[i].name);
        free(made.v);
        buf_release(&made.dropped);
        if (rc) {
            d->ops->unlock(d, db_table(db));
            return rc;
        }
    }
    const strata_objects *seen = db->reset_seen;
    buf msg;
    buf_init(&msg);
    buf_addf(&msg, "dropping every object of %s", seen && seen->schema ? seen->schema : "the database");
    if (msg.data)
        engine_event(db, STRATA_EV_NOTICE, msg.data);
    buf_release(&msg);
    char seen_schema[200] = "";
    if (seen && seen->schema)
        snprintf(seen_schema, sizeof(seen_schema), "schema %s", seen->schema);
    rc = d->ops->reset_drop(d, db_table(db), engine_lock_timeout(db), seen, !target_made, err);
    if (!rc) {
        strata_objects_free(db->reset_seen); /* dropped: a next reset lists again */
        db->reset_seen = NULL;
        strata_result *res = NULL;
        rc = strata_up(db, set, NULL, &res, err);
        if (rc)
            err_hint_more(err,
                          "the database was reset: every object of %s was dropped, then %zu migration%s "
                          "applied before this failure; fix it and run reset (or up) again",
                          seen_schema[0] ? seen_schema : "the database", res ? res->count : 0,
                          res && res->count == 1 ? " was" : "s were");
        if (out)
            *out = res;
        else
            strata_result_free(res);
    }
    d->ops->unlock(d, db_table(db));
    return rc;
}

strata_code strata_reset(strata *db, const strata_migset *set, int flags, strata_result **out,
                         strata_error *err)
{
    if (!db || !set)
        return api_null(err, __func__, "db and set");
    return engine_discard_new(db, reset_run(db, set, flags, out, err));
}
