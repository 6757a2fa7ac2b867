/*
 * sqlite/reset.c -- the SQLite side of strata reset (the driver's
 * reset_list and reset_drop ops): triggers, views, virtual tables and tables
 * dropped with foreign keys off, in one transaction.
 */
#include "internal.h"

#include <stdlib.h>
#include <string.h>

strata_code sq_reset_list(drv *d, const char *table, strata_objects *o, strata_error *err)
{
    (void)table; /* every table goes */
    o->schema = xstrdup("main");
    if (!o->schema)
        return err_set(err, STRATA_NOMEM, "out of memory");
    return d->ops->query(d,
                         "SELECT type, name FROM sqlite_master WHERE name NOT LIKE 'sqlite\\_%' ESCAPE '\\' "
                         "ORDER BY CASE type WHEN 'table' THEN 1 WHEN 'view' THEN 2 WHEN 'index' THEN 3 "
                         "ELSE 4 END, name",
                         0, NULL, row_add_object, o, err);
}

/* Drops the objects that one query selects, by name. */
static strata_code sq_drop_each(drv *d, const char *kind, const char *select, strata_error *err)
{
    buf names, b;
    buf_init(&names);
    buf_init(&b);
    strata_code rc = d->ops->query(d, select, 0, NULL, row_collect, &names, err);
    for (size_t off = 0; !rc && off < names.len; off += strlen(names.data + off) + 1) {
        buf_reset(&b);
        buf_addf(&b, "DROP %s IF EXISTS main.", kind);
        buf_add_quoted_ident(&b, names.data + off);
        rc = b.oom ? err_set(err, STRATA_NOMEM, "out of memory")
                   : d->ops->query(d, b.data, 0, NULL, NULL, NULL, err);
    }
    if (!rc && names.oom)
        rc = err_set(err, STRATA_NOMEM, "out of memory");
    buf_release(&names);
    buf_release(&b);
    return rc;
}

strata_code sq_reset_drop(drv *d, const char *table, double timeout, const strata_objects *expect,
                          int recreate, strata_error *err)
{
    (void)recreate; /* no schemas */
    char *fk = NULL;
    strata_error e2;
    strata_code rc = d->ops->query(d, "PRAGMA foreign_keys", 0, NULL, row_first_value, &fk, err);
    /* foreign_keys cannot change inside a transaction: before BEGIN */
    if (rc || (rc = d->ops->query(d, "PRAGMA foreign_keys = OFF", 0, NULL, NULL, NULL, err)) ||
        (rc = d->ops->begin(d, timeout, err))) {
        free(fk);
        return rc;
    }
    /* under the write lock nobody else changes the schema: what is checked
       is what is dropped. Virtual tables before tables: their shadow tables
       go with them */
    if (!(rc = reset_check_same(d, table, expect, err)) &&
        !(rc = sq_drop_each(d, "TRIGGER", "SELECT name FROM sqlite_master WHERE type = 'trigger'", err)) &&
        !(rc = sq_drop_each(d, "VIEW", "SELECT name FROM sqlite_master WHERE type = 'view'", err)) &&
        !(rc = sq_drop_each(d, "TABLE",
                            "SELECT name FROM sqlite_master WHERE type = 'table' "
                            "AND sql LIKE 'CREATE VIRTUAL TABLE%'",
                            err)) &&
        !(rc = sq_drop_each(d, "TABLE",
                            "SELECT name FROM sqlite_master WHERE type = 'table' "
                            "AND name NOT LIKE 'sqlite\\_%' ESCAPE '\\'",
                            err)))
        rc = d->ops->query(d, "COMMIT", 0, NULL, NULL, NULL, err);
    if (rc)
        d->ops->query(d, "ROLLBACK", 0, NULL, NULL, NULL, &e2);
    buf b;
    buf_init(&b);
    buf_addf(&b, "PRAGMA foreign_keys = %s", fk && !strcmp(fk, "1") ? "ON" : "OFF");
    if (b.data)
        d->ops->query(d, b.data, 0, NULL, NULL, NULL, &e2);
    buf_release(&b);
    free(fk);
    return rc;
}
