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

typedef struct reset_impl {
    strata_code (*list)(drv *d, const char *table, strata_objects *o, strata_error *err);
    strata_code (*drop)(drv *d, const char *schema, const char *table, double timeout,
                        strata_error *err);
} reset_impl;

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

/* row_fn: appends (kind, name) to a strata_objects; stops on OOM. */
static int add_object(void *ud, int n, char **v)
{
    strata_objects *o = ud;
    if (n < 2 || !v[0] || !v[1])
        return 0;
    strata_object *items = realloc(o->items, (o->count + 1) * sizeof(*items));
    if (!items)
        return 1;
    o->items = items;
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

/* row_fn: the first value of the first row, malloc'd, into *(char **)ud. */
static int first_value(void *ud, int n, char **v)
{
    char **out = ud;
    free(*out);
    *out = n > 0 && v[0] ? xstrdup(v[0]) : NULL;
    return 1;
}

/* row_fn: every first value, appended to a buf separated by NULs. */
static int collect(void *ud, int n, char **v)
{
    buf *b = ud;
    if (n > 0 && v[0])
        buf_add(b, v[0], strlen(v[0]) + 1);
    return b->oom;
}

/* ------------------------------------------------------------ PostgreSQL */

static const char pg_list_sql[] =
    "WITH s AS (SELECT oid FROM pg_namespace WHERE nspname = $1), "
    "objs AS ("
    /* relations; sequences of serial and identity columns go with their
       tables, members of an extension with the extension */
    " SELECT 'pg_class'::regclass AS cls, c.oid, CASE WHEN c.relkind = 'c' THEN 2 ELSE 1 END AS ord,"
    " NULL::text AS kind"
    " FROM pg_class c, s WHERE c.relnamespace = s.oid AND c.relkind IN ('r','p','f','v','m','S','c')"
    " AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.classid = 'pg_class'::regclass"
    "  AND d.objid = c.oid AND d.deptype IN ('e','a','i'))"
    " UNION ALL"
    " SELECT 'pg_type'::regclass, t.oid, 2,"
    " CASE t.typtype WHEN 'd' THEN 'domain' WHEN 'e' THEN 'enum type' ELSE 'range type' END"
    " FROM pg_type t, s WHERE t.typnamespace = s.oid"
    " AND t.typtype IN ('e','d','r') AND NOT EXISTS (SELECT 1 FROM pg_depend d"
    "  WHERE d.classid = 'pg_type'::regclass AND d.objid = t.oid AND d.deptype = 'e')"
    " UNION ALL"
    " SELECT 'pg_proc'::regclass, p.oid, 3, NULL FROM pg_proc p, s WHERE p.pronamespace = s.oid"
    " AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.classid = 'pg_proc'::regclass"
    "  AND d.objid = p.oid AND d.deptype = 'e')"
    " UNION ALL"
    " SELECT 'pg_extension'::regclass, e.oid, 4, NULL FROM pg_extension e, s WHERE e.extnamespace = s.oid"
    " UNION ALL"
    /* views of other schemas built on this one go too (CASCADE) */
    " SELECT DISTINCT 'pg_class'::regclass, v.oid, 5, NULL FROM pg_depend d"
    " JOIN pg_rewrite w ON w.oid = d.objid JOIN pg_class v ON v.oid = w.ev_class"
    " JOIN pg_class r ON r.oid = d.refobjid, s"
    " WHERE d.classid = 'pg_rewrite'::regclass AND d.refclassid = 'pg_class'::regclass"
    " AND r.relnamespace = s.oid AND v.relnamespace <> s.oid"
    ") "
    "SELECT coalesce(objs.kind, i.type), i.identity FROM objs,"
    " LATERAL pg_identify_object(objs.cls, objs.oid, 0) i "
    "ORDER BY objs.ord, 1, i.identity";

/* What re-creates the schema as it was: owner, privileges (in their
   original order, so the ACL reads the same), comment, default privileges. */
static const char pg_recreate_sql[] =
    "WITH n AS (SELECT oid, nspname, nspowner, nspacl FROM pg_namespace WHERE nspname = $1) "
    "SELECT sql FROM ("
    " SELECT 1 AS o, 0::bigint AS k, 0::oid AS r, format('CREATE SCHEMA %I AUTHORIZATION %I',"
    "  n.nspname, pg_get_userbyid(n.nspowner)) AS sql FROM n"
    " UNION ALL"
    " SELECT 2, 0, 0, format('REVOKE ALL ON SCHEMA %I FROM %I', n.nspname, pg_get_userbyid(n.nspowner))"
    " FROM n WHERE n.nspacl IS NOT NULL"
    " UNION ALL"
    " SELECT 3, a.k, 0, format('GRANT %s ON SCHEMA %I TO %s%s', a.privilege_type, n.nspname,"
    "  CASE WHEN a.grantee = 0 THEN 'PUBLIC' ELSE quote_ident(pg_get_userbyid(a.grantee)) END,"
    "  CASE WHEN a.is_grantable THEN ' WITH GRANT OPTION' ELSE '' END)"
    " FROM n, aclexplode(n.nspacl) WITH ORDINALITY a(grantor, grantee, privilege_type, is_grantable, k)"
    " UNION ALL"
    " SELECT 4, 0, 0, format('COMMENT ON SCHEMA %I IS %L', n.nspname, d.description) FROM n"
    " JOIN pg_description d ON d.objoid = n.oid AND d.classoid = 'pg_namespace'::regclass"
    " UNION ALL"
    " SELECT 5, a.k, da.oid, format('ALTER DEFAULT PRIVILEGES FOR ROLE %I IN SCHEMA %I GRANT %s ON %s TO %s%s',"
    "  pg_get_userbyid(da.defaclrole), n.nspname, a.privilege_type,"
    "  CASE da.defaclobjtype WHEN 'r' THEN 'TABLES' WHEN 'S' THEN 'SEQUENCES' WHEN 'f' THEN 'FUNCTIONS'"
    "  WHEN 'T' THEN 'TYPES' ELSE 'SCHEMAS' END,"
    "  CASE WHEN a.grantee = 0 THEN 'PUBLIC' ELSE quote_ident(pg_get_userbyid(a.grantee)) END,"
    "  CASE WHEN a.is_grantable THEN ' WITH GRANT OPTION' ELSE '' END)"
    " FROM n JOIN pg_default_acl da ON da.defaclnamespace = n.oid,"
    " aclexplode(da.defaclacl) WITH ORDINALITY a(grantor, grantee, privilege_type, is_grantable, k)"
    ") x ORDER BY o, r, k";

static strata_code pg_schema(drv *d, char **schema, strata_error *err)
{
    *schema = NULL;
    strata_code rc = d->ops->query(d, "SELECT current_schema()", 0, NULL, first_value, schema, err);
    if (rc || *schema)
        return rc;
    err_set(err, STRATA_CONFIG_ERROR, "no schema of the search_path exists");
    err_hint(err, "create the schema, or fix search_path (SHOW search_path)");
    return STRATA_CONFIG_ERROR;
}

/* The version table, when --table puts it in another schema: reset drops it
   too, or up would find every migration applied. */
static const char pg_table_elsewhere_sql[] =
    "SELECT 'table', format('%I.%I', n.nspname, c.relname) FROM pg_class c"
    " JOIN pg_namespace n ON n.oid = c.relnamespace WHERE c.oid = to_regclass($1) AND n.nspname <> $2";

static strata_code pg_list(drv *d, const char *table, strata_objects *o, strata_error *err)
{
    strata_code rc = pg_schema(d, &o->schema, err);
    if (rc)
        return rc;
    const char *p[1] = {o->schema};
    if ((rc = d->ops->query(d, pg_list_sql, 1, p, add_object, o, err)))
        return rc;
    buf b;
    buf_init(&b);
    buf_add_ident(&b, table);
    const char *p2[2] = {b.data ? b.data : "", o->schema};
    rc = d->ops->query(d, pg_table_elsewhere_sql, 2, p2, add_object, o, err);
    buf_release(&b);
    return rc;
}

static strata_code pg_reset_drop(drv *d, const char *schema, const char *table, double timeout,
                                 strata_error *err)
{
    (void)timeout;
    buf stmts, b;
    buf_init(&stmts);
    buf_init(&b);
    const char *p[1] = {schema};
    strata_error e2;
    strata_code rc = d->ops->query(d, "BEGIN", 0, NULL, NULL, NULL, err);
    if (rc)
        return rc;
    if ((rc = d->ops->query(d, pg_recreate_sql, 1, p, collect, &stmts, err)))
        goto fail;
    buf_adds(&b, "DROP SCHEMA ");
    buf_add_quoted_ident(&b, schema);
    buf_adds(&b, " CASCADE");
    if (stmts.oom || b.oom) {
        rc = err_set(err, STRATA_NOMEM, "out of memory");
        goto fail;
    }
    if ((rc = d->ops->query(d, b.data, 0, NULL, NULL, NULL, err)))
        goto fail;
    for (size_t off = 0; off < stmts.len; off += strlen(stmts.data + off) + 1)
        if ((rc = d->ops->query(d, stmts.data + off, 0, NULL, NULL, NULL, err)))
            goto fail;
    b.len = 0;
    buf_adds(&b, "DROP TABLE IF EXISTS ");
    buf_add_ident(&b, table);
    if (b.oom) {
        rc = err_set(err, STRATA_NOMEM, "out of memory");
        goto fail;
    }
    if ((rc = d->ops->query(d, b.data, 0, NULL, NULL, NULL, err)))
        goto fail;
    rc = d->ops->query(d, "COMMIT", 0, NULL, NULL, NULL, err);
    if (rc)
        goto fail;
    buf_release(&stmts);
    buf_release(&b);
    return STRATA_OK;
fail:
    d->ops->query(d, "ROLLBACK", 0, NULL, NULL, NULL, &e2);
    if (err && !strcmp(err->sqlstate, "42501"))
        err_hint(err, "resetting drops and re-creates schema '%s': the user must own it (or be a member "
                      "of its owner role)", schema);
    buf_release(&stmts);
    buf_release(&b);
    return rc;
}

/* ---------------------------------------------------------------- SQLite */

static strata_code sq_list(drv *d, const char *table, strata_objects *o, strata_error *err)
{
    (void)table; /* every table goes */
    o->schema = xstrdup("main");
    if (!o->schema)
        return err_set(err, STRATA_NOMEM, "out of memory");
    return d->ops->query(d,
                         "SELECT type, name FROM sqlite_master WHERE name NOT LIKE 'sqlite\\_%' ESCAPE '\\' "
                         "ORDER BY CASE type WHEN 'table' THEN 1 WHEN 'view' THEN 2 WHEN 'index' THEN 3 "
                         "ELSE 4 END, name",
                         0, NULL, add_object, o, err);
}

/* Drops the objects that one query selects, by name. */
static strata_code sq_drop_each(drv *d, const char *kind, const char *select, strata_error *err)
{
    buf names, b;
    buf_init(&names);
    buf_init(&b);
    strata_code rc = d->ops->query(d, select, 0, NULL, collect, &names, err);
    for (size_t off = 0; !rc && off < names.len; off += strlen(names.data + off) + 1) {
        b.len = 0;
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

static strata_code sq_reset_drop(drv *d, const char *schema, const char *table, double timeout,
                                 strata_error *err)
{
    (void)schema, (void)table;
    char *fk = NULL;
    strata_error e2;
    strata_code rc = d->ops->query(d, "PRAGMA foreign_keys", 0, NULL, first_value, &fk, err);
    /* foreign_keys cannot change inside a transaction: before BEGIN */
    if (rc || (rc = d->ops->query(d, "PRAGMA foreign_keys = OFF", 0, NULL, NULL, NULL, err)) ||
        (rc = d->ops->begin(d, timeout, err))) {
        free(fk);
        return rc;
    }
    /* virtual tables before tables: their shadow tables go with them */
    if (!(rc = sq_drop_each(d, "TRIGGER", "SELECT name FROM sqlite_master WHERE type = 'trigger'", err)) &&
        !(rc = sq_drop_each(d, "VIEW", "SELECT name FROM sqlite_master WHERE type = 'view'", err)) &&
        !(rc = sq_drop_each(d, "TABLE",
                            "SELECT name FROM sqlite_master WHERE type = 'table' "
                            "AND sql LIKE 'CREATE VIRTUAL TABLE%'", err)) &&
        !(rc = sq_drop_each(d, "TABLE",
                            "SELECT name FROM sqlite_master WHERE type = 'table' "
                            "AND name NOT LIKE 'sqlite\\_%' ESCAPE '\\'", err)))
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

/* ------------------------------------------------------------------ API */

static const reset_impl *impl_of(drv *d)
{
    static const reset_impl pg = {pg_list, pg_reset_drop}, sq = {sq_list, sq_reset_drop};
    return d->ops->dialect == DIALECT_POSTGRES ? &pg : &sq;
}

strata_code strata_reset_list(strata *db, strata_objects **out, strata_error *err)
{
    *out = NULL;
    strata_objects *o = calloc(1, sizeof(*o));
    if (!o)
        return err_set(err, STRATA_NOMEM, "out of memory");
    drv *d = db_driver(db);
    strata_code rc = impl_of(d)->list(d, db_table(db), o, err);
    if (rc) {
        strata_objects_free(o);
        return rc;
    }
    *out = o;
    return STRATA_OK;
}

strata_code strata_reset(strata *db, const strata_migset *set, int flags, strata_result **out,
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
    if (!(flags & STRATA_ALLOW_REMOTE) && (rc = strata_url_check_local(engine_url(db), err)))
        return rc;
    drv *d = db_driver(db);
    const reset_impl *impl = impl_of(d);
    char *schema = NULL;
    if (d->ops->dialect == DIALECT_POSTGRES && (rc = pg_schema(d, &schema, err)))
        return rc;
    /* the migration lock spans drop and up: nobody migrates in between (the
       PostgreSQL advisory lock is re-entrant, strata_up takes it again) */
    if ((rc = d->ops->lock(d, db_table(db), engine_lock_timeout(db), err))) {
        free(schema);
        return rc;
    }
    buf msg;
    buf_init(&msg);
    buf_addf(&msg, "dropping every object of %s", schema ? schema : "the database");
    if (msg.data)
        engine_event(db, STRATA_EV_NOTICE, msg.data);
    buf_release(&msg);
    rc = impl->drop(d, schema, db_table(db), engine_lock_timeout(db), err);
    if (!rc)
        rc = strata_up(db, set, NULL, out, err);
    d->ops->unlock(d, db_table(db));
    free(schema);
    return rc;
}
