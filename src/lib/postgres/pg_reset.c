/*
 * postgres/reset.c -- the PostgreSQL side of strata reset (the driver's
 * reset_list and reset_drop ops): the target schema is current_schema(),
 * dropped with CASCADE and created again in the same transaction with what
 * belonged to it (owner, privileges, comment, default privileges).
 */
#include "ops.h"

#include <stdlib.h>
#include <string.h>

static const char pg_list_sql[] =
    "WITH s AS (SELECT oid FROM pg_namespace WHERE nspname = $1), "
    "objs AS ("
    /* relations, partitioned tables and their partitions included;
       sequences of serial and identity columns go with their tables,
       members of an extension with the extension */
    " SELECT 'pg_class'::regclass AS cls, c.oid, CASE WHEN c.relkind = 'c' THEN 2 ELSE 1 END AS ord,"
    " NULL::text AS kind"
    " FROM pg_class c, s WHERE c.relnamespace = s.oid AND c.relkind IN ('r','p','f','v','m','S','c')"
    " AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.classid = 'pg_class'::regclass"
    "  AND d.objid = c.oid AND (d.deptype = 'e' OR (c.relkind = 'S' AND d.deptype IN ('a','i'))))"
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
    " SELECT 5, a.k, da.oid, format('ALTER DEFAULT PRIVILEGES FOR ROLE %I IN SCHEMA %I GRANT %s ON %s TO "
    "%s%s',"
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
    strata_code rc = d->ops->query(d, "SELECT current_schema()", 0, NULL, row_first_value, schema, err);
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

strata_code pg_reset_list(drv *d, const char *table, strata_objects *o, strata_error *err)
{
    strata_code rc = pg_schema(d, &o->schema, err);
    if (rc)
        return rc;
    const char *p[1] = {o->schema};
    if ((rc = d->ops->query(d, pg_list_sql, 1, p, row_add_object, o, err)))
        return rc;
    buf b;
    buf_init(&b);
    buf_add_ident(&b, table);
    const char *p2[2] = {b.data ? b.data : "", o->schema};
    rc = d->ops->query(d, pg_table_elsewhere_sql, 2, p2, row_add_object, o, err);
    buf_release(&b);
    return rc;
}

/* holds objects, and whether it is the schema reset drops */
static int got_schema_state(void *ud, int n, char **v)
{
    int *st = ud;
    st[0] = n == 2 && v[0] && !strcmp(v[0], "t");
    st[1] = n == 2 && v[1] && !strcmp(v[1], "t");
    return 1;
}

strata_code pg_reset_made(drv *d, const char *table, const made_schema *made, size_t n, int *target_made,
                          strata_error *err)
{
    *target_made = 0;
    /* the version table as the search path finds it (SQL text) */
    char *qt = NULL;
    int exists = 0;
    strata_code vrc = d->ops->vt_locate(d, table, &qt, &exists, err);
    if (vrc)
        return vrc;
    for (size_t i = 0; i < n; i++) {
        const char *p[2] = {made[i].name, qt ? qt : ""};
        int st[2] = {-1, 0}; /* holds objects (-1: no such schema), is the target */
        strata_code rc = d->ops->query(
            d,
            /* holds objects: relations but for the version table and its
               lease table (reset drops them), indexes and owned sequences
               (they go with their tables); types; routines */
            "SELECT EXISTS (SELECT FROM pg_class c WHERE c.relnamespace = n.oid"
            " AND c.oid IS DISTINCT FROM to_regclass($2)"
            " AND NOT EXISTS (SELECT FROM pg_class v WHERE v.oid = to_regclass($2)"
            "  AND v.relnamespace = c.relnamespace AND v.relname || '_lock' = c.relname)"
            " AND c.relkind NOT IN ('i', 'I')"
            " AND NOT (c.relkind = 'S' AND EXISTS (SELECT FROM pg_depend d WHERE d.classid = "
            "'pg_class'::regclass"
            "  AND d.objid = c.oid AND d.deptype IN ('a', 'i'))))"
            " OR EXISTS (SELECT FROM pg_type WHERE typnamespace = n.oid AND typtype <> 'c' AND typelem = 0)"
            " OR EXISTS (SELECT FROM pg_proc WHERE pronamespace = n.oid), n.nspname = current_schema()"
            " FROM pg_namespace n WHERE n.nspname = $1",
            2, p, got_schema_state, st, err);
        if (rc) {
            free(qt);
            return rc;
        }
        if (st[1]) { /* the schema reset drops: made again by the migration */
            *target_made |= !made[i].if_not_exists;
            continue;
        }
        if (st[0] < 0 || ((made[i].if_not_exists || made[i].dropped_first) && !st[0]))
            continue;
        err_set(err, STRATA_CONFIG_ERROR,
                "migration %s makes schema \"%s\", which exists%s beside the schema reset drops: up would "
                "fail on it after the drop",
                made[i].by, made[i].name, st[0] ? " and holds objects" : "");
        err_hint(err, "nothing was changed; drop it first (DROP SCHEMA \"%s\" CASCADE), then reset again",
                 made[i].name);
        free(qt);
        return STRATA_CONFIG_ERROR;
    }
    free(qt);
    return STRATA_OK;
}

strata_code pg_reset_drop(drv *d, const char *table, double timeout, const strata_objects *expect,
                          int recreate, strata_error *err)
{
    char *schema = NULL;
    strata_code rc0 = pg_schema(d, &schema, err);
    if (rc0)
        return rc0;
    buf stmts, b;
    buf_init(&stmts);
    buf_init(&b);
    const char *p[1] = {schema};
    strata_error e2;
    int recreating = 0;
    strata_code rc = d->ops->query(d, "BEGIN", 0, NULL, NULL, NULL, err);
    if (rc) {
        free(schema);
        return rc;
    }
    /* a table lock held by another session stops the drop after the lock
       timeout (the DROP's exclusive lock request would block every new
       query on that table while it waits); 0 would mean for ever */
    char lt[64];
    snprintf(lt, sizeof(lt), "SET LOCAL lock_timeout = '%.0fms'", timeout > 0 ? timeout * 1000.0 + 0.5 : 1.0);
    if ((rc = d->ops->query(d, lt, 0, NULL, NULL, NULL, err)) ||
        (rc = reset_check_same(d, table, expect, err)) ||
        (rc = d->ops->query(d, pg_recreate_sql, 1, p, row_collect, &stmts, err)))
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
    recreating = 1; /* a 42501 from here on: CREATE SCHEMA, which needs CREATE on the database */
    for (size_t off = 0; recreate && off < stmts.len; off += strlen(stmts.data + off) + 1)
        if ((rc = d->ops->query(d, stmts.data + off, 0, NULL, NULL, NULL, err)))
            goto fail;
    buf_reset(&b);
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
    free(schema);
    return STRATA_OK;
fail:
    d->ops->query(d, "ROLLBACK", 0, NULL, NULL, NULL, &e2);
    if (err && !strcmp(err->sqlstate, "55P03")) {
        err_set(err, STRATA_LOCK_TIMEOUT,
                "reset stopped after waiting %gs for a table lock another session holds in schema '%s'",
                timeout, schema);
        err_hint(err, "nothing was changed; stop what uses the tables, or raise --lock-timeout");
    } else if (err && !strcmp(err->sqlstate, "42501") && (recreating || strstr(err->message, "for database")))
        err_hint(err,
                 "resetting re-creates schema '%s', which needs CREATE on the database: GRANT CREATE ON "
                 "DATABASE ... TO the user (or run reset as the database's owner)",
                 schema);
    else if (err && !strcmp(err->sqlstate, "42501"))
        err_hint(err,
                 "resetting drops and re-creates schema '%s': the user must own it (or be a member "
                 "of its owner role)",
                 schema);
    buf_release(&stmts);
    buf_release(&b);
    free(schema);
    return rc;
}
