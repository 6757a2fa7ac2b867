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

/* ------------------------------------------------------------------ API */

strata_code strata_reset_list(strata *db, strata_objects **out, strata_error *err)
{
    if (!db || !out)
        return api_null(err, __func__, "db and out");
    *out = NULL;
    strata_objects *o = calloc(1, sizeof(object_list));
    if (!o)
        return err_set(err, STRATA_NOMEM, "out of memory");
    drv *d = db_driver(db);
    strata_code rc = d->ops->reset_list(d, db_table(db), o, err);
    if (rc) {
        strata_objects_free(o);
        return rc;
    }
    *out = o;
    return STRATA_OK;
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
    strata_objects *what = NULL;
    if ((rc = strata_reset_list(db, &what, err)))
        return rc;
    /* the migration lock spans drop and up: nobody migrates in between (the
       lock nests: strata_up takes it again) */
    if ((rc = engine_lock(db, err))) {
        strata_objects_free(what);
        return rc;
    }
    buf msg;
    buf_init(&msg);
    buf_addf(&msg, "dropping every object of %s", what->schema ? what->schema : "the database");
    if (msg.data)
        engine_event(db, STRATA_EV_NOTICE, msg.data);
    buf_release(&msg);
    strata_objects_free(what);
    rc = d->ops->reset_drop(d, db_table(db), engine_lock_timeout(db), err);
    if (!rc)
        rc = strata_up(db, set, NULL, out, err);
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
