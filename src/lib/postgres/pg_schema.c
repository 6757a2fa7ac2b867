/*
 * postgres/pg_schema.c -- the schema dump of a PostgreSQL database (docs/schema.md).
 *
 * One catalog query renders every line and sorts them on the server with
 * the "C" collation: by section (extensions, types, sequences, tables, views,
 * materialized views, routines, collations, text search configurations and
 * dictionaries, operators, casts), object name, part (header, columns or
 * values, constraints, indexes, triggers, policies) and name within the part.
 * Definitions come from the server's own deparsers (pg_get_constraintdef,
 * pg_get_indexdef, pg_get_viewdef, pg_get_functiondef, format_type), so
 * they do not depend on how the SQL that created them was written.
 *
 * Scope: the schemas of current_schemas(false) except pg_catalog,
 * information_schema and pg_*; objects of the first one print unqualified.
 * Other user schemas are named on a line of their own, without contents.
 * Objects that belong to an extension are represented by the extension.
 * The version table and its lease table (<table>_lock, made only behind a
 * connection pooler) are strata's own and left out, in the first schema or
 * wherever the search path finds the version table.
 * Needs PostgreSQL 12 or newer (attgenerated).
 */
#include "ops.h"

#include <stdlib.h>
#include <string.h>

static const char dump_sql[] =
    "WITH sch AS ("
    "  SELECT n.oid, n.nspname, s.ord FROM unnest(current_schemas(false)) WITH ORDINALITY AS s(name, ord)"
    "  JOIN pg_namespace n ON n.nspname = s.name"
    "  WHERE n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname NOT LIKE 'pg\\_%'),"
    " nm AS ("
    "  SELECT oid, nspname, ord = (SELECT min(ord) FROM sch) AS first,"
    "         CASE WHEN ord = (SELECT min(ord) FROM sch) THEN '' ELSE quote_ident(nspname) || '.' END AS pfx"
    "  FROM sch),"
    " rel AS ("
    "  SELECT c.oid, c.relkind, nm.pfx || quote_ident(c.relname) AS name, c.relpersistence,"
    "         c.relispartition, c.relpartbound, c.relrowsecurity, c.relforcerowsecurity,"
    "         c.relreplident, c.reloptions, c.reloftype"
    "  FROM pg_class c JOIN nm ON nm.oid = c.relnamespace"
    "  WHERE c.relkind IN ('r', 'p', 'v', 'm', 'S', 'f')"
    "    AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.classid = 'pg_class'::regclass"
    "                    AND d.objid = c.oid AND (d.deptype = 'e' OR (d.deptype = 'i'"
    /* a partitioned table depends internally on itself (its partition
       key): that is no sign of an object that is part of another */
    "                    AND NOT (d.refclassid = 'pg_class'::regclass AND d.refobjid = c.oid))))"
    "    AND NOT (c.relname::text IN ($2::text, $2::text || '_lock') AND"
    /* unqualified: where the search path finds it, which is not the first
       schema when that one was made after the version table (a migration's
       CREATE SCHEMA app with search_path app, public) */
    "             CASE WHEN $1::text = '' THEN nm.first OR c.relnamespace = (SELECT relnamespace FROM "
    "pg_class"
    "               WHERE oid = to_regclass(quote_ident($2::text))) ELSE nm.nspname::text = $1::text END)),"
    " typ AS ("
    "  SELECT t.oid, t.typtype, t.typrelid, t.typbasetype, t.typtypmod, t.typnotnull, t.typdefault,"
    "         nm.pfx || quote_ident(t.typname) AS name"
    "  FROM pg_type t JOIN nm ON nm.oid = t.typnamespace"
    "  WHERE t.typtype IN ('e', 'd', 'c', 'r')"
    "    AND (t.typtype <> 'c' OR (SELECT relkind FROM pg_class WHERE oid = t.typrelid) = 'c')"
    "    AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.classid = 'pg_type'::regclass"
    "                    AND d.objid = t.oid AND d.deptype = 'e')),"
    " fn AS ("
    "  SELECT p.oid, p.prokind,"
    "         nm.pfx || quote_ident(p.proname) || '(' || pg_get_function_identity_arguments(p.oid) || ')' AS "
    "name"
    "  FROM pg_proc p JOIN nm ON nm.oid = p.pronamespace"
    /* not an extension's, nor made with another object (a range type's
       constructor functions) */
    "  WHERE NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.classid = 'pg_proc'::regclass"
    "                    AND d.objid = p.oid AND d.deptype IN ('e', 'i')))"
    "SELECT sec, obj, cat, ord, line, blk FROM ("
    /* other schemas: named, so that a leftover one shows, but not listed */
    "  SELECT 0 AS sec, quote_ident(n.nspname) AS obj, 0 AS cat, ''::text AS ord,"
    "         'schema ' || quote_ident(n.nspname) || ' (not on the search path)' AS line, 0 AS blk"
    "  FROM pg_namespace n"
    "  WHERE n.nspname NOT IN ('information_schema') AND n.nspname NOT LIKE 'pg\\_%'"
    "    AND n.oid NOT IN (SELECT oid FROM sch)"
    /* extensions */
    "  UNION ALL SELECT 1, quote_ident(e.extname), 0, '',"
    "         'extension ' || quote_ident(e.extname), 0"
    "  FROM pg_extension e JOIN nm ON nm.oid = e.extnamespace"
    /* types */
    "  UNION ALL SELECT 2, t.name, 0, '',"
    "         CASE t.typtype WHEN 'e' THEN 'enum ' WHEN 'd' THEN 'domain ' WHEN 'c' THEN 'type ' ELSE 'range "
    "' END"
    "         || t.name || CASE t.typtype"
    "           WHEN 'd' THEN ' ' || format_type(t.typbasetype, t.typtypmod)"
    "           WHEN 'c' THEN ' (composite)'"
    "           WHEN 'r' THEN coalesce(' of ' || (SELECT format_type(r.rngsubtype, NULL) FROM pg_range r"
    "                                             WHERE r.rngtypid = t.oid), '')"
    "           ELSE '' END, 0"
    "  FROM typ t"
    "  UNION ALL SELECT 2, t.name, 1,"
    "         lpad((row_number() OVER (PARTITION BY e.enumtypid ORDER BY e.enumsortorder))::text, 10, '0'),"
    "         '  value ' || quote_literal(e.enumlabel), 0"
    "  FROM pg_enum e JOIN typ t ON t.oid = e.enumtypid"
    "  UNION ALL SELECT 2, t.name, 1, '1', '  not null', 0 FROM typ t WHERE t.typtype = 'd' AND t.typnotnull"
    "  UNION ALL SELECT 2, t.name, 1, '2', '  default ' || t.typdefault, 0"
    "  FROM typ t WHERE t.typtype = 'd' AND t.typdefault IS NOT NULL"
    "  UNION ALL SELECT 2, t.name, 2, k.conname::text,"
    "         '  constraint ' || quote_ident(k.conname) || ' ' || pg_get_constraintdef(k.oid), 0"
    "  FROM pg_constraint k JOIN typ t ON t.oid = k.contypid"
    "  UNION ALL SELECT 2, t.name, 1, lpad(a.attnum::text, 10, '0'),"
    "         '  column ' || quote_ident(a.attname) || ' ' || format_type(a.atttypid, a.atttypmod), 0"
    "  FROM typ t JOIN pg_attribute a ON a.attrelid = t.typrelid"
    "  WHERE t.typtype = 'c' AND a.attnum > 0 AND NOT a.attisdropped"
    /* sequences (identity sequences belong to their column) */
    "  UNION ALL SELECT 3, r.name, 0, '', 'sequence ' || r.name, 0 FROM rel r WHERE r.relkind = 'S'"
    "  UNION ALL SELECT 3, r.name, 1, '1',"
    "         '  as ' || format_type(s.seqtypid, NULL) || ' start ' || s.seqstart || ' increment '"
    "         || s.seqincrement || ' minvalue ' || s.seqmin || ' maxvalue ' || s.seqmax || ' cache '"
    "         || s.seqcache || CASE WHEN s.seqcycle THEN ' cycle' ELSE '' END, 0"
    "  FROM rel r JOIN pg_sequence s ON s.seqrelid = r.oid"
    "  UNION ALL SELECT 3, r.name, 1, '2', '  owned by ' || o.name || '.' || quote_ident(a.attname), 0"
    "  FROM rel r JOIN pg_depend d ON d.classid = 'pg_class'::regclass AND d.objid = r.oid"
    "       AND d.deptype = 'a' AND d.refclassid = 'pg_class'::regclass"
    "  JOIN rel o ON o.oid = d.refobjid"
    "  JOIN pg_attribute a ON a.attrelid = d.refobjid AND a.attnum = d.refobjsubid"
    "  WHERE r.relkind = 'S'"
    /* tables, views, materialized views: headers */
    "  UNION ALL SELECT CASE r.relkind WHEN 'v' THEN 5 WHEN 'm' THEN 6 ELSE 4 END, r.name, 0, '',"
    "         CASE r.relkind WHEN 'v' THEN 'view ' WHEN 'm' THEN 'materialized view '"
    "           WHEN 'f' THEN 'foreign table '"
    "           ELSE CASE WHEN r.relpersistence = 'u' THEN 'unlogged table ' ELSE 'table ' END END"
    "         || r.name"
    "         || CASE WHEN r.reloftype <> 0 THEN ' of ' || format_type(r.reloftype, NULL) ELSE '' END"
    "         || CASE WHEN r.relkind = 'p' THEN ' partitioned by ' || pg_get_partkeydef(r.oid) ELSE '' END"
    "         || CASE WHEN r.relispartition THEN coalesce(' partition of ' || (SELECT p.name FROM "
    "pg_inherits i"
    "              JOIN rel p ON p.oid = i.inhparent WHERE i.inhrelid = r.oid) || ' '"
    "              || pg_get_expr(r.relpartbound, r.oid), '')"
    "           ELSE coalesce(' inherits ' || (SELECT string_agg(i.inhparent::regclass::text, ', '"
    "              ORDER BY i.inhseqno) FROM pg_inherits i WHERE i.inhrelid = r.oid), '') END"
    /* a view's options (check_option, security_barrier, security_invoker);
       a table's storage parameters are left out */
    "         || CASE WHEN r.relkind = 'v' THEN coalesce(' with (' || (SELECT string_agg(o, ', ' ORDER BY o"
    "              COLLATE \"C\") FROM unnest(r.reloptions) o) || ')', '') ELSE '' END, 0"
    "  FROM rel r WHERE r.relkind <> 'S'"
    /* columns */
    "  UNION ALL SELECT 4, r.name, 1, lpad(a.attnum::text, 10, '0'),"
    "         '  column ' || quote_ident(a.attname) || ' ' || format_type(a.atttypid, a.atttypmod)"
    "         || CASE WHEN a.attcollation <> 0 AND a.attcollation <> ty.typcollation"
    "              THEN coalesce(' collate ' || (SELECT quote_ident(co.collname) FROM pg_collation co"
    "                                            WHERE co.oid = a.attcollation), '') ELSE '' END"
    "         || CASE WHEN a.attnotnull THEN ' not null' ELSE '' END"
    "         || CASE a.attidentity WHEN 'a' THEN ' generated always as identity'"
    "              WHEN 'd' THEN ' generated by default as identity' ELSE '' END"
    /* an identity's sequence options, when not the defaults */
    "         || coalesce((SELECT ' (start ' || s.seqstart || ' increment ' || s.seqincrement || ' minvalue '"
    "              || s.seqmin || ' maxvalue ' || s.seqmax || ' cache ' || s.seqcache"
    "              || CASE WHEN s.seqcycle THEN ' cycle' ELSE '' END || ')'"
    "            FROM pg_depend d JOIN pg_sequence s ON s.seqrelid = d.objid"
    "            WHERE a.attidentity <> '' AND d.classid = 'pg_class'::regclass"
    "              AND d.refclassid = 'pg_class'::regclass AND d.refobjid = a.attrelid"
    "              AND d.refobjsubid = a.attnum AND d.deptype = 'i'"
    "              AND ((s.seqstart, s.seqincrement, s.seqmin, s.seqcache, s.seqcycle) IS DISTINCT FROM"
    "                  (1, 1, 1, 1, false)"
    "                OR s.seqmax <> CASE s.seqtypid WHEN 'int2'::regtype THEN 32767"
    "                  WHEN 'int4'::regtype THEN 2147483647 ELSE 9223372036854775807 END)), '')"
    "         || CASE WHEN a.attgenerated = 's' THEN ' generated always as ('"
    "                   || pg_get_expr(ad.adbin, ad.adrelid) || ') stored'"
    "              WHEN ad.adbin IS NOT NULL THEN ' default ' || pg_get_expr(ad.adbin, ad.adrelid)"
    "              ELSE '' END, 0"
    "  FROM rel r JOIN pg_attribute a ON a.attrelid = r.oid AND a.attnum > 0 AND NOT a.attisdropped"
    "  JOIN pg_type ty ON ty.oid = a.atttypid"
    "  LEFT JOIN pg_attrdef ad ON ad.adrelid = a.attrelid AND ad.adnum = a.attnum"
    "  WHERE r.relkind IN ('r', 'p', 'f')"
    "  UNION ALL SELECT 4, r.name, 1, '~r', '  replica identity ' || CASE r.relreplident"
    "           WHEN 'n' THEN 'nothing' WHEN 'f' THEN 'full' ELSE 'using index ' || coalesce((SELECT"
    "           quote_ident(ic.relname) FROM pg_index i JOIN pg_class ic ON ic.oid = i.indexrelid"
    "           WHERE i.indrelid = r.oid AND i.indisreplident), '?') END, 0"
    "  FROM rel r WHERE r.relkind IN ('r', 'p') AND r.relreplident NOT IN ('d')"
    /* a view's column defaults (ALTER VIEW ... SET DEFAULT) */
    "  UNION ALL SELECT 5, r.name, 2, lpad(a.attnum::text, 10, '0'),"
    "         '  column ' || quote_ident(a.attname) || ' default ' || pg_get_expr(ad.adbin, ad.adrelid), 0"
    "  FROM rel r JOIN pg_attribute a ON a.attrelid = r.oid AND a.attnum > 0 AND NOT a.attisdropped"
    "  JOIN pg_attrdef ad ON ad.adrelid = a.attrelid AND ad.adnum = a.attnum"
    "  WHERE r.relkind = 'v'"
    "  UNION ALL SELECT 4, r.name, 1, '~', '  row level security'"
    "         || CASE WHEN r.relforcerowsecurity THEN ' forced' ELSE '' END, 0"
    "  FROM rel r WHERE r.relrowsecurity"
    /* constraints (not-null ones are on the column line) */
    "  UNION ALL SELECT 4, r.name, 2, k.conname::text,"
    "         '  constraint ' || quote_ident(k.conname) || ' ' || pg_get_constraintdef(k.oid), 0"
    "  FROM pg_constraint k JOIN rel r ON r.oid = k.conrelid WHERE k.contype <> 'n'"
    /* indexes, except those that back a constraint */
    "  UNION ALL SELECT CASE r.relkind WHEN 'm' THEN 6 ELSE 4 END, r.name, 3, ic.relname::text,"
    "         '  index ' || quote_ident(ic.relname) || CASE WHEN i.indisunique THEN ' unique' ELSE '' END"
    "         || ' ' || coalesce(substring(g.def FROM ' USING (.*)$'), g.def)"
    "         || CASE WHEN NOT i.indisvalid THEN ' (invalid)' ELSE '' END, 0"
    "  FROM pg_index i JOIN rel r ON r.oid = i.indrelid JOIN pg_class ic ON ic.oid = i.indexrelid"
    "  CROSS JOIN LATERAL (SELECT pg_get_indexdef(i.indexrelid) AS def) g"
    "  WHERE NOT EXISTS (SELECT 1 FROM pg_constraint k WHERE k.conindid = i.indexrelid"
    "                    AND k.conrelid = i.indrelid AND k.contype IN ('p', 'u', 'x'))"
    /* triggers */
    "  UNION ALL SELECT CASE r.relkind WHEN 'v' THEN 5 WHEN 'm' THEN 6 ELSE 4 END, r.name, 4, t.tgname::text,"
    "         '  trigger ' || quote_ident(t.tgname) || ' ' || CASE"
    "           WHEN left(g.def, length(g.p1)) = g.p1 THEN substr(g.def, length(g.p1) + 1)"
    "           WHEN left(g.def, length(g.p2)) = g.p2 THEN 'constraint ' || substr(g.def, length(g.p2) + 1)"
    "           ELSE g.def END"
    "         || CASE t.tgenabled WHEN 'D' THEN ' (disabled)' WHEN 'R' THEN ' (enabled replica)'"
    "            WHEN 'A' THEN ' (enabled always)' ELSE '' END, 0"
    "  FROM pg_trigger t JOIN rel r ON r.oid = t.tgrelid"
    "  CROSS JOIN LATERAL (SELECT pg_get_triggerdef(t.oid) AS def,"
    "         'CREATE TRIGGER ' || quote_ident(t.tgname) || ' ' AS p1,"
    "         'CREATE CONSTRAINT TRIGGER ' || quote_ident(t.tgname) || ' ' AS p2) g"
    "  WHERE NOT t.tgisinternal"
    /* row security policies */
    "  UNION ALL SELECT 4, r.name, 5, p.polname::text,"
    "         '  policy ' || quote_ident(p.polname)"
    "         || CASE WHEN p.polpermissive THEN '' ELSE ' restrictive' END"
    "         || ' for ' || CASE p.polcmd WHEN 'r' THEN 'select' WHEN 'a' THEN 'insert'"
    "              WHEN 'w' THEN 'update' WHEN 'd' THEN 'delete' ELSE 'all' END"
    "         || ' to ' || array_to_string(ARRAY(SELECT CASE WHEN ro = 0 THEN 'public'"
    "              ELSE quote_ident(pg_get_userbyid(ro)) END FROM unnest(p.polroles) ro ORDER BY 1), ', ')"
    "         || coalesce(' using (' || pg_get_expr(p.polqual, p.polrelid) || ')', '')"
    "         || coalesce(' with check (' || pg_get_expr(p.polwithcheck, p.polrelid) || ')', ''), 0"
    "  FROM pg_policy p JOIN rel r ON r.oid = p.polrelid"
    /* view definitions */
    "  UNION ALL SELECT CASE r.relkind WHEN 'v' THEN 5 ELSE 6 END, r.name, 1, '',"
    "         pg_get_viewdef(r.oid, true), 1"
    "  FROM rel r WHERE r.relkind IN ('v', 'm')"
    /* functions, procedures, aggregates */
    "  UNION ALL SELECT 7, f.name, 0, '',"
    "         CASE f.prokind WHEN 'p' THEN 'procedure ' WHEN 'a' THEN 'aggregate ' ELSE 'function ' END"
    "         || f.name || CASE WHEN f.prokind IN ('f', 'w')"
    "           THEN coalesce(' returns ' || pg_get_function_result(f.oid), '') ELSE '' END, 0"
    "  FROM fn f"
    "  UNION ALL SELECT 7, f.name, 1, '', pg_get_functiondef(f.oid), 1 FROM fn f WHERE f.prokind <> 'a'"
    /* extended statistics, with their table: the name (its schema's
       prefix as for the tables), then the server's definition past CREATE
       STATISTICS and the name as the server wrote it (quoted, maybe
       qualified) */
    "  UNION ALL SELECT 4, r.name, 6, st.stxname::text, '  statistics '"
    "         || coalesce(sn.pfx, quote_ident(n.nspname) || '.') || quote_ident(st.stxname)"
    "         || substr(g.def, length(CASE WHEN left(g.def, length(g.qualified)) = g.qualified"
    "              THEN g.qualified ELSE g.bare END) + 1), 0"
    "  FROM pg_statistic_ext st JOIN rel r ON r.oid = st.stxrelid"
    "  JOIN pg_namespace n ON n.oid = st.stxnamespace LEFT JOIN nm sn ON sn.oid = st.stxnamespace"
    "  CROSS JOIN LATERAL (SELECT pg_get_statisticsobjdef(st.oid) AS def,"
    "         'CREATE STATISTICS ' || quote_ident(n.nspname) || '.' || quote_ident(st.stxname) AS qualified,"
    "         'CREATE STATISTICS ' || quote_ident(st.stxname) AS bare) g"
    /* collations (the locale column is named by version: read by name) */
    "  UNION ALL SELECT 8, nm.pfx || quote_ident(co.collname), 0, '',"
    "         'collation ' || nm.pfx || quote_ident(co.collname) || ' (provider '"
    "         || CASE co.collprovider WHEN 'i' THEN 'icu' WHEN 'c' THEN 'libc' ELSE 'default' END"
    "         || coalesce(', locale ' || coalesce(to_jsonb(co) ->> 'colllocale', to_jsonb(co) ->> "
    "'colliculocale',"
    "              co.collcollate), '')"
    "         || CASE WHEN co.collprovider = 'c' AND co.collctype IS DISTINCT FROM co.collcollate"
    "              THEN ', ctype ' || co.collctype ELSE '' END"
    "         || CASE WHEN NOT co.collisdeterministic THEN ', nondeterministic' ELSE '' END || ')', 0"
    "  FROM pg_collation co JOIN nm ON nm.oid = co.collnamespace"
    "  WHERE NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.classid = 'pg_collation'::regclass"
    "                    AND d.objid = co.oid AND d.deptype = 'e')"
    /* text search configurations and their mappings, dictionaries */
    "  UNION ALL SELECT 9, nm.pfx || quote_ident(c.cfgname), 0, '',"
    "         'text search configuration ' || nm.pfx || quote_ident(c.cfgname) || ' (parser '"
    "         || (SELECT quote_ident(tp.prsname) FROM pg_ts_parser tp WHERE tp.oid = c.cfgparser) || ')', 0"
    "  FROM pg_ts_config c JOIN nm ON nm.oid = c.cfgnamespace"
    "  WHERE NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.classid = 'pg_ts_config'::regclass"
    "                    AND d.objid = c.oid AND d.deptype = 'e')"
    "  UNION ALL SELECT 9, nm.pfx || quote_ident(c.cfgname), 1, lpad(m.maptokentype::text, 10, '0'),"
    "         '  mapping ' || coalesce((SELECT t.alias FROM ts_token_type(c.cfgparser) t"
    "                                   WHERE t.tokid = m.maptokentype), m.maptokentype::text)"
    "         || ' with ' || string_agg(m.mapdict::regdictionary::text, ', ' ORDER BY m.mapseqno), 0"
    "  FROM pg_ts_config c JOIN nm ON nm.oid = c.cfgnamespace JOIN pg_ts_config_map m ON m.mapcfg = c.oid"
    "  WHERE NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.classid = 'pg_ts_config'::regclass"
    "                    AND d.objid = c.oid AND d.deptype = 'e')"
    "  GROUP BY nm.pfx, c.cfgname, c.cfgparser, m.maptokentype"
    "  UNION ALL SELECT 10, nm.pfx || quote_ident(t.dictname), 0, '',"
    "         'text search dictionary ' || nm.pfx || quote_ident(t.dictname) || ' (template '"
    "         || (SELECT quote_ident(tt.tmplname) FROM pg_ts_template tt WHERE tt.oid = t.dicttemplate) || "
    "coalesce(', ' || t.dictinitoption, '') || ')', 0"
    "  FROM pg_ts_dict t JOIN nm ON nm.oid = t.dictnamespace"
    "  WHERE NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.classid = 'pg_ts_dict'::regclass"
    "                    AND d.objid = t.oid AND d.deptype = 'e')"
    /* operators; casts (of the database, not of a schema) that a user made */
    "  UNION ALL SELECT 11, g.sig, 0, '', 'operator ' || g.sig || ' returns '"
    "         || format_type(o.oprresult, NULL) || ' function ' || o.oprcode::regprocedure::text, 0"
    "  FROM pg_operator o JOIN nm ON nm.oid = o.oprnamespace"
    "  CROSS JOIN LATERAL (SELECT nm.pfx || o.oprname || '('"
    "         || coalesce(format_type(o.oprleft, NULL), 'none') || ', '"
    "         || coalesce(format_type(o.oprright, NULL), 'none') || ')' AS sig) g"
    "  WHERE NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.classid = 'pg_operator'::regclass"
    "                    AND d.objid = o.oid AND d.deptype = 'e')"
    "  UNION ALL SELECT 12, g.pair, 0, '', 'cast (' || g.pair || ') '"
    "         || CASE c.castmethod WHEN 'f' THEN 'with function ' || c.castfunc::regprocedure::text"
    "              WHEN 'i' THEN 'with inout' ELSE 'without function' END"
    "         || CASE c.castcontext WHEN 'a' THEN ' as assignment' WHEN 'i' THEN ' as implicit'"
    "              ELSE '' END, 0"
    "  FROM pg_cast c"
    "  CROSS JOIN LATERAL (SELECT format_type(c.castsource, NULL) || ' as '"
    "         || format_type(c.casttarget, NULL) AS pair) g"
    "  WHERE c.oid >= 16384"
    "    AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.classid = 'pg_cast'::regclass"
    "                    AND d.objid = c.oid AND d.deptype IN ('e', 'i'))"
    ") x ORDER BY sec, obj COLLATE \"C\", cat, ord COLLATE \"C\", line COLLATE \"C\"";

typedef struct dump_ctx {
    buf *out;
    char *last; /* "section/object" of the previous row */
    int rows;
} dump_ctx;

/* Appends s without trailing blanks. */
static void add_rtrim(buf *out, const char *s, size_t n)
{
    while (n && (s[n - 1] == ' ' || s[n - 1] == '\t' || s[n - 1] == '\r'))
        n--;
    buf_add(out, s, n);
}

static int dump_row(void *ud, int ncols, char **v)
{
    dump_ctx *x = ud;
    if (ncols < 6 || !v[0] || !v[1] || !v[4])
        return 0; /* a NULL line: nothing to print */
    buf key;
    buf_init(&key);
    buf_adds(&key, v[0]);
    buf_adds(&key, "/");
    buf_adds(&key, v[1]);
    if (x->rows > 0 && (!x->last || !key.data || strcmp(x->last, key.data) != 0))
        buf_adds(x->out, "\n"); /* a blank line between objects */
    free(x->last);
    x->last = buf_detach(&key);
    x->rows++;
    const char *s = v[4];
    if (v[5] && !strcmp(v[5], "1")) { /* a definition block: one "  | " line each */
        size_t n = strlen(s);
        while (n && (s[n - 1] == '\n' || s[n - 1] == ' '))
            n--;
        const char *end = s + n;
        while (s < end) {
            const char *nl = memchr(s, '\n', (size_t)(end - s));
            size_t len = nl ? (size_t)(nl - s) : (size_t)(end - s);
            buf_adds(x->out, "  |");
            if (len)
                buf_adds(x->out, " ");
            add_rtrim(x->out, s, len);
            buf_adds(x->out, "\n");
            s += len + (nl ? 1 : 0);
        }
        return 0;
    }
    for (; *s; s++) { /* one line per row, whatever the expression holds */
        if (*s == '\n')
            buf_adds(x->out, "\\n");
        else if (*s != '\r')
            buf_add(x->out, s, 1);
    }
    buf_adds(x->out, "\n");
    return 0;
}

strata_code schema_dump_pg(drv *d, const char *table, buf *out, strata_error *err)
{
    dump_ctx x = {out, NULL, 0};
    const char *dot = strrchr(table, '.');
    char *schema = dot ? xstrndup(table, (size_t)(dot - table)) : xstrdup("");
    if (!schema)
        return err_set(err, STRATA_NOMEM, "out of memory");
    const char *params[2] = {schema, dot ? dot + 1 : table};
    int pin = pg_pin_begin(d, PG_PIN_STRINGS, err);
    strata_code rc = pin < 0 ? (err ? err->code : STRATA_DB_ERROR)
                             : d->ops->query(d, dump_sql, 2, params, dump_row, &x, err);
    pg_pin_end(d, pin);
    free(x.last);
    free(schema);
    if (rc && err && !strcmp(err->sqlstate, "22021") && !err->hint[0])
        /* a SQL_ASCII database stores any bytes; strata reads its
           definitions as UTF-8 (the form every output is in) */
        err_hint(err, "a definition in the database (a default, a view, a function, a comment...) holds "
                      "bytes that are not UTF-8 -- a SQL_ASCII database takes any: find it with pg_dump "
                      "--schema-only and rewrite it in UTF-8");
    if (!rc && out->oom)
        rc = err_set(err, STRATA_NOMEM, "out of memory");
    return rc;
}
