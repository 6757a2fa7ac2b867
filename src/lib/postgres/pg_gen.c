/*
 * postgres/pg_gen.c -- `strata diff` on PostgreSQL: the schema model read
 * from the catalog, and the plan that turns one model into another
 * (docs/diff.md).
 *
 * Scope: the first schema of the search path (current_schema()), as the
 * schema text shows it unqualified: extensions, enum types, sequences,
 * tables (columns, constraints, indexes, triggers, row level security and
 * its policies, comments, UNLOGGED), views and functions. What it cannot
 * express (q_unsupported: rules, domains, storage parameters, ...) is
 * refused by name when it differs; other schemas are not planned, the
 * proof shows what is left.
 *
 * The plan's order: enum values added (a no-transaction part); then, in
 * one transaction: extensions, views that must go, foreign keys and other
 * constraints and indexes that change, dropped tables and sequences, new
 * types and sequences, new tables, column changes, constraints, indexes on
 * new tables, foreign keys, views, comments, dropped types and extensions;
 * last, indexes on existing tables built CONCURRENTLY (no-transaction).
 */
#include "gen.h"
#include "ops.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---------------------------------------------------------------- reading */

#define OWN_TABLE                                                                              \
    " n.nspname = current_schema() AND c.relname::text NOT IN ($1::text, $1::text || '_lock')" \
    " AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.classid = 'pg_class'::regclass"        \
    " AND d.objid = c.oid AND d.deptype = 'e')"

/* expr with its first "kw<current schema>." made "kw": the server's deparsers
   qualify some names always, the migration is written for the schema of the
   search path whatever it is called (docs/diff.md) */
#define UNQUALIFY(expr, kw)                                                                          \
    "CASE WHEN strpos(" expr ", '" kw "' || quote_ident(current_schema()) || '.') > 0"               \
    " THEN overlay(" expr " PLACING '" kw "' FROM strpos(" expr ", '" kw "'"                         \
    " || quote_ident(current_schema()) || '.') FOR length('" kw "' || quote_ident(current_schema())" \
    " || '.')) ELSE " expr " END"

static const char q_columns[] =
    "SELECT c.relname, quote_ident(c.relname), a.attname, quote_ident(a.attname),"
    " format_type(a.atttypid, a.atttypmod), a.attnotnull::int::text,"
    " CASE WHEN a.attgenerated = '' THEN pg_get_expr(ad.adbin, ad.adrelid) END,"
    " CASE WHEN a.attgenerated <> '' THEN pg_get_expr(ad.adbin, ad.adrelid) END, a.attidentity::text,"
    " CASE WHEN a.attcollation <> t.typcollation THEN quote_ident(co.collname) END,"
    " col_description(c.oid, a.attnum), obj_description(c.oid, 'pg_class'),"
    " (c.relpersistence = 'u')::int::text, (c.relrowsecurity::int + 2 * c.relforcerowsecurity::int)::text"
    " FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace"
    " LEFT JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped"
    " LEFT JOIN pg_type t ON t.oid = a.atttypid"
    " LEFT JOIN pg_collation co ON co.oid = a.attcollation"
    " LEFT JOIN pg_attrdef ad ON ad.adrelid = c.oid AND ad.adnum = a.attnum"
    " WHERE c.relkind IN ('r', 'p') AND" OWN_TABLE " ORDER BY c.relname, a.attnum";

static const char q_constraints[] =
    "SELECT c.relname, co.conname, quote_ident(co.conname), co.contype::text, pg_get_constraintdef(co.oid)"
    " FROM pg_constraint co JOIN pg_class c ON c.oid = co.conrelid"
    " JOIN pg_namespace n ON n.oid = c.relnamespace"
    " WHERE co.contype IN ('p', 'u', 'c', 'f', 'x') AND c.relkind IN ('r', 'p') AND" OWN_TABLE
    " ORDER BY 1, 2";

static const char q_indexes[] = "SELECT c.relname, i.relname, quote_ident(i.relname), " UNQUALIFY(
    "pg_get_indexdef(i.oid)",
    " ON ") " FROM pg_index x JOIN pg_class i ON i.oid = x.indexrelid JOIN pg_class c ON c.oid = x.indrelid"
            " JOIN pg_namespace n ON n.oid = c.relnamespace"
            " WHERE c.relkind IN ('r', 'p') AND" OWN_TABLE
            " AND NOT EXISTS (SELECT 1 FROM pg_constraint k WHERE k.conindid = i.oid AND k.conrelid = c.oid"
            "                 AND k.contype IN ('p', 'u', 'x'))"
            " ORDER BY 1, 2";

/* a policy as the CREATE POLICY that makes it */
static const char q_policies[] =
    "SELECT c.relname, p.polname, quote_ident(p.polname),"
    " 'CREATE POLICY ' || quote_ident(p.polname) || ' ON ' || quote_ident(c.relname)"
    " || CASE WHEN p.polpermissive THEN '' ELSE ' AS RESTRICTIVE' END"
    " || ' FOR ' || CASE p.polcmd WHEN 'r' THEN 'SELECT' WHEN 'a' THEN 'INSERT' WHEN 'w' THEN 'UPDATE'"
    "      WHEN 'd' THEN 'DELETE' ELSE 'ALL' END"
    " || ' TO ' || array_to_string(ARRAY(SELECT CASE WHEN ro = 0 THEN 'PUBLIC'"
    "      ELSE quote_ident(pg_get_userbyid(ro)) END FROM unnest(p.polroles) ro ORDER BY 1), ', ')"
    " || coalesce(' USING (' || pg_get_expr(p.polqual, p.polrelid) || ')', '')"
    " || coalesce(' WITH CHECK (' || pg_get_expr(p.polwithcheck, p.polrelid) || ')', '')"
    " FROM pg_policy p JOIN pg_class c ON c.oid = p.polrelid JOIN pg_namespace n ON n.oid = c.relnamespace"
    " WHERE c.relkind IN ('r', 'p') AND" OWN_TABLE " ORDER BY 1, 2";

static const char q_views[] = "SELECT c.relname, quote_ident(c.relname), pg_get_viewdef(c.oid)"
                              " FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace"
                              " WHERE c.relkind = 'v' AND" OWN_TABLE " ORDER BY 1";

/* def: CREATE TRIGGER, and the ALTER TABLE that sets a firing mode other
   than the default (disabled, replica, always): a change of mode is a
   trigger dropped and created again */
static const char q_triggers[] = "SELECT c.relname, t.tgname, quote_ident(t.tgname), " UNQUALIFY(
    "pg_get_triggerdef(t.oid)",
    " ON ") " || CASE WHEN t.tgenabled = 'O' THEN '' ELSE"
            " E';\\nALTER TABLE ' || quote_ident(c.relname) || CASE t.tgenabled WHEN 'D' THEN ' DISABLE'"
            " WHEN 'R' THEN ' ENABLE REPLICA' ELSE ' ENABLE ALWAYS' END || ' TRIGGER ' || "
            "quote_ident(t.tgname) END"
            " FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid JOIN "
            "pg_namespace n ON n.oid = c.relnamespace"
            " WHERE NOT t.tgisinternal AND c.relkind IN ('r', 'p') AND" OWN_TABLE " ORDER BY 1, 2";

/* name: the identity (name and argument types, without argument names:
   a function whose arguments are renamed is the same one); q: what DROP
   FUNCTION takes; then what CREATE OR REPLACE cannot change (the kind,
   argument names and defaults, the result type), kept as norm */
static const char q_functions[] =
    "SELECT quote_ident(p.proname) || '(' || oidvectortypes(p.proargtypes) || ')',"
    " CASE p.prokind WHEN 'p' THEN 'PROCEDURE ' ELSE 'FUNCTION ' END"
    "  || quote_ident(p.proname) || '(' || pg_get_function_identity_arguments(p.oid) || ')',"
    " " UNQUALIFY(
        UNQUALIFY("pg_get_functiondef(p.oid)", "FUNCTION "),
        "PROCEDURE ") ", p.prokind::text || ' ' || pg_get_function_arguments(p.oid) || ' '"
                      " || coalesce(pg_get_function_result(p.oid), '')"
                      " FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace"
                      " WHERE n.nspname = current_schema() AND p.prokind IN ('f', 'p') AND $1::text IS NOT "
                      "NULL"
                      " AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.classid = 'pg_proc'::regclass"
                      " AND d.objid = p.oid AND d.deptype = 'e')"
                      " ORDER BY 1";

static const char q_enums[] =
    "SELECT t.typname, quote_ident(t.typname),"
    " string_agg(quote_literal(e.enumlabel), chr(1) ORDER BY e.enumsortorder)"
    " FROM pg_type t JOIN pg_namespace n ON n.oid = t.typnamespace JOIN pg_enum e ON e.enumtypid = t.oid"
    " WHERE n.nspname = current_schema() AND $1::text IS NOT NULL"
    " AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.classid = 'pg_type'::regclass"
    " AND d.objid = t.oid AND d.deptype = 'e')"
    " GROUP BY 1, 2 ORDER BY 1";

static const char q_extensions[] = "SELECT extname, quote_ident(extname) FROM pg_extension"
                                   " WHERE $1::text IS NOT NULL ORDER BY 1";

static const char q_sequences[] =
    "SELECT c.relname, quote_ident(c.relname),"
    " 'AS ' || format_type(s.seqtypid, NULL) || ' INCREMENT BY ' || s.seqincrement || ' MINVALUE '"
    " || s.seqmin || ' MAXVALUE ' || s.seqmax || ' START WITH ' || s.seqstart || ' CACHE ' || s.seqcache"
    " || CASE WHEN s.seqcycle THEN ' CYCLE' ELSE ' NO CYCLE' END,"
    " (SELECT quote_ident(tc.relname) || '.' || quote_ident(a.attname) FROM pg_depend d"
    "  JOIN pg_class tc ON tc.oid = d.refobjid"
    "  JOIN pg_attribute a ON a.attrelid = d.refobjid AND a.attnum = d.refobjsubid"
    "  WHERE d.classid = 'pg_class'::regclass AND d.objid = c.oid AND d.deptype = 'a'"
    "  AND d.refclassid = 'pg_class'::regclass LIMIT 1)"
    " FROM pg_class c JOIN pg_sequence s ON s.seqrelid = c.oid JOIN pg_namespace n ON n.oid = c.relnamespace"
    " WHERE c.relkind = 'S' AND" OWN_TABLE
    " AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.classid = 'pg_class'::regclass"
    " AND d.objid = c.oid AND d.deptype = 'i')"
    " ORDER BY 1";

/*
 * What the plan cannot express: (what, key) per object -- what names it for
 * a message, key is its content (definition, options, comment text, grants
 * but the owner's own). diff refuses (DIFF_UNSUPPORTED) when these differ
 * between the start and the desired schema, rather than leave them out of a
 * migration that would then be proven without them; equal ones need no step.
 */
#define IN_SCHEMA_C                                                                     \
    " JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = current_schema()" \
    " AND c.relname::text NOT IN ($1::text, $1::text || '_lock')"
#define NOT_EXTENSION(cls, id)                                                                           \
    " AND NOT EXISTS (SELECT 1 FROM pg_depend x WHERE x.classid = '" cls "'::regclass AND x.objid = " id \
    " AND x.deptype = 'e')"
/* More of q_unsupported: objects the schema text shows but the plan does
   not write (domains, policies, ...), and settings the schema text does not
   show (storage parameters, identity options, ...), without which a desired
   schema holding them would be "no difference", or a table created without
   them proven equal. Each row only when it is not PostgreSQL's default. */
#define IDENTITY_DEFAULT                                                                                   \
    "s.seqincrement = 1 AND s.seqmin = 1 AND s.seqstart = 1 AND s.seqcache = 1 AND NOT s.seqcycle"         \
    " AND s.seqmax = CASE s.seqtypid WHEN 'int2'::regtype THEN 32767 WHEN 'int4'::regtype THEN 2147483647" \
    " ELSE 9223372036854775807 END"
#define UNSUPPORTED_MORE(comp)                                                                               \
    " UNION ALL SELECT 'storage parameters of table ' || quote_ident(c.relname),"                            \
    "  array_to_string(c.reloptions, ', ')"                                                                  \
    " FROM pg_class c" IN_SCHEMA_C " AND c.relkind IN ('r', 'p') AND c.reloptions IS NOT NULL"               \
    " UNION ALL SELECT 'storage parameters of index ' || quote_ident(c.relname),"                            \
    "  array_to_string(c.reloptions, ', ')"                                                                  \
    " FROM pg_class c" IN_SCHEMA_C " AND c.relkind IN ('i', 'I') AND c.reloptions IS NOT NULL"               \
    "  AND EXISTS (SELECT 1 FROM pg_constraint k WHERE k.conindid = c.oid AND k.contype IN ('p', 'u', 'x'))" \
    " UNION ALL SELECT 'statistics ' || quote_ident(st.stxname) || ' on ' || quote_ident(c.relname),"        \
    "  pg_get_statisticsobjdef(st.oid)"                                                                      \
    " FROM pg_statistic_ext st JOIN pg_class c ON c.oid = st.stxrelid" IN_SCHEMA_C                           \
    " UNION ALL SELECT 'text search configuration ' || quote_ident(t.cfgname), t.cfgparser::text"            \
    " FROM pg_ts_config t JOIN pg_namespace n ON n.oid = t.cfgnamespace WHERE n.nspname = "                  \
    "current_schema()" NOT_EXTENSION(                                                                        \
        "pg_ts_config",                                                                                      \
        "t.oid") " UNION ALL SELECT 'text search dictionary ' || quote_ident(t.dictname), "                  \
                 "t.dicttemplate::text"                                                                      \
                 " FROM pg_ts_dict t JOIN pg_namespace n ON n.oid = t.dictnamespace WHERE n.nspname = "      \
                 "current_schema()" NOT_EXTENSION(                                                           \
                     "pg_ts_dict",                                                                           \
                     "t.oid") " UNION ALL SELECT 'cast (' || format_type(k.castsource, NULL) || ' as ' || "  \
                              "format_type(k.casttarget, "                                                   \
                              "NULL) || ')', k.castfunc::text FROM pg_cast k WHERE k.oid >= 16384"           \
                              " AND NOT EXISTS (SELECT 1 FROM pg_depend x WHERE x.classid = "                \
                              "'pg_cast'::regclass AND x.objid = k.oid"                                      \
                              " AND x.deptype IN ('e', 'i'))"                                                \
                              " UNION ALL SELECT 'replica identity of table ' || quote_ident(c.relname), "   \
                              "c.relreplident::text"                                                         \
                              " FROM pg_class c" IN_SCHEMA_C                                                 \
                              " AND c.relkind IN ('r', 'p') AND c.relreplident <> 'd'"                       \
                              " UNION ALL SELECT 'clustered index ' || quote_ident(i.relname) || ' on ' || " \
                              "quote_ident(c.relname), ''"                                                   \
                              " FROM pg_index x JOIN pg_class i ON i.oid = x.indexrelid JOIN pg_class c ON " \
                              "c.oid = "                                                                     \
                              "x.indrelid" IN_SCHEMA_C " AND x.indisclustered"                               \
                              " UNION ALL SELECT 'materialized view ' || quote_ident(c.relname),"            \
                              "  pg_get_viewdef(c.oid) || coalesce((SELECT "                                 \
                              "string_agg(pg_get_indexdef(x.indexrelid), '; ' ORDER BY 1)"                   \
                              "  FROM pg_index x WHERE x.indrelid = c.oid), '')"                             \
                              " FROM pg_class c" IN_SCHEMA_C " AND c.relkind = 'm'"                          \
                              " UNION ALL SELECT CASE a.attidentity WHEN '' THEN '' ELSE 'identity options " \
                              "of ' END"                                                                     \
                              "  || CASE WHEN a.attidentity <> '' THEN '' WHEN a.attstorage <> "             \
                              "t.typstorage THEN 'storage of '"                                              \
                              "  WHEN " comp                                                                 \
                              " <> '' THEN 'compression of ' ELSE 'statistics target of ' END"               \
                              "  || quote_ident(c.relname) || '.' || quote_ident(a.attname),"                \
                              "  concat_ws(' ', a.attidentity, a.attstorage, " comp ", a.attstattarget,"     \
                              "  (SELECT concat_ws(' ', s.seqstart, s.seqincrement, s.seqmin, s.seqmax, "    \
                              "s.seqcache, s.seqcycle)"                                                      \
                              "   FROM pg_sequence s WHERE s.seqrelid = "                                    \
                              "pg_get_serial_sequence(quote_ident(c.relname),"                               \
                              "   a.attname)::regclass AND a.attidentity <> '' AND NOT (" IDENTITY_DEFAULT   \
                              ")))"                                                                          \
                              " FROM pg_class c JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 " \
                              "AND NOT a.attisdropped"                                                       \
                              " JOIN pg_type t ON t.oid = a.atttypid" IN_SCHEMA_C                            \
                              " AND c.relkind IN ('r', 'p')"                                                 \
                              "  AND (a.attstorage <> t.typstorage OR " comp                                 \
                              " <> '' OR a.attstattarget >= 0"                                               \
                              "  OR EXISTS (SELECT 1 FROM pg_sequence s WHERE a.attidentity <> ''"           \
                              "   AND s.seqrelid = pg_get_serial_sequence(quote_ident(c.relname), "          \
                              "a.attname)::regclass"                                                         \
                              "   AND NOT (" IDENTITY_DEFAULT ")))"                                          \
                              " UNION ALL SELECT CASE t.typtype WHEN 'd' THEN 'domain ' WHEN 'c' THEN "      \
                              "'composite type '"                                                            \
                              "  ELSE 'range type ' END || quote_ident(t.typname),"                          \
                              "  concat_ws(' ', format_type(t.typbasetype, t.typtypmod), t.typnotnull, "     \
                              "t.typdefault,"                                                                \
                              "  (SELECT string_agg(k.conname || ' ' || pg_get_constraintdef(k.oid), ', ' "  \
                              "ORDER BY 1)"                                                                  \
                              "   FROM pg_constraint k WHERE k.contypid = t.oid),"                           \
                              "  (SELECT string_agg(a.attname || ' ' || format_type(a.atttypid, "            \
                              "a.atttypmod), ', ' ORDER BY a.attnum)"                                        \
                              "   FROM pg_attribute a WHERE a.attrelid = t.typrelid AND a.attnum > 0 AND "   \
                              "NOT a.attisdropped),"                                                         \
                              "  (SELECT format_type(r.rngsubtype, NULL) FROM pg_range r WHERE r.rngtypid "  \
                              "= t.oid))"                                                                    \
                              " FROM pg_type t JOIN pg_namespace n ON n.oid = t.typnamespace WHERE "         \
                              "n.nspname = current_schema()"                                                 \
                              "  AND (t.typtype IN ('d', 'r') OR (t.typtype = 'c' AND (SELECT relkind FROM " \
                              "pg_class WHERE oid ="                                                         \
                              "  t.typrelid) = 'c'))" NOT_EXTENSION(                                         \
                                  "pg_type", "t.oid") " UNION ALL SELECT 'comment on ' || CASE WHEN "        \
                                                      "d.classoid = 'pg_type'::regclass"                     \
                                                      "  THEN 'type ' || format_type(d.objoid, NULL) ELSE "  \
                                                      "'function ' || "                                      \
                                                      "d.objoid::regprocedure::text END,"                    \
                                                      "  d.description"                                      \
                                                      " FROM pg_description d WHERE (d.classoid = "          \
                                                      "'pg_type'::regclass AND EXISTS "                      \
                                                      "(SELECT 1 FROM pg_type t"                             \
                                                      "  JOIN pg_namespace n ON n.oid = t.typnamespace "     \
                                                      "WHERE t.oid = d.objoid AND "                          \
                                                      "n.nspname = current_schema()))"                       \
                                                      "  OR (d.classoid = 'pg_proc'::regclass AND EXISTS "   \
                                                      "(SELECT 1 FROM pg_proc p"                             \
                                                      "  JOIN pg_namespace n ON n.oid = p.pronamespace "     \
                                                      "WHERE p.oid = d.objoid AND "                          \
                                                      "n.nspname = current_schema()))"
/* Tables and views of the other schemas, by their columns, constraints,
   indexes and definitions: the plan covers the first schema of the search
   path only, and a difference there must never read as none. */
#define UNSUPPORTED_OTHER_SCHEMAS                                                                           \
    " UNION ALL SELECT 'table ' || quote_ident(n.nspname) || '.' || quote_ident(c.relname) || ' (another "  \
    "schema)',"                                                                                             \
    "  c.relkind::text || ' ' || coalesce((SELECT string_agg(a.attname || ' ' || format_type(a.atttypid, "  \
    "a.atttypmod)"                                                                                          \
    "  || CASE WHEN a.attnotnull THEN ' not null' ELSE '' END, ', ' ORDER BY a.attnum) FROM pg_attribute a" \
    "  WHERE a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped), '')"                              \
    "  || coalesce(' ' || (SELECT string_agg(pg_get_constraintdef(k.oid), '; ' ORDER BY 1)"                 \
    "  FROM pg_constraint k WHERE k.conrelid = c.oid), '')"                                                 \
    "  || coalesce(' ' || (SELECT string_agg(pg_get_indexdef(x.indexrelid), '; ' ORDER BY 1)"               \
    "  FROM pg_index x WHERE x.indrelid = c.oid), '')"                                                      \
    "  || CASE WHEN c.relkind IN ('v', 'm') THEN ' ' || pg_get_viewdef(c.oid) ELSE '' END"                  \
    " FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname <> current_schema()"    \
    "  AND n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname NOT LIKE 'pg\\_toast%'"      \
    "  AND n.nspname NOT LIKE 'pg\\_temp\\_%' AND c.relkind IN ('r', 'p', 'v', 'm', 'f')"                   \
    "  AND c.relname::text NOT IN ($1::text, $1::text || '_lock')" NOT_EXTENSION("pg_class", "c.oid")
#define Q_UNSUPPORTED(comp, icu)                                                                             \
    "SELECT what, key FROM ("                                                                                \
    " SELECT 'rule ' || quote_ident(r.rulename) || ' on ' || quote_ident(c.relname) AS what,"                \
    "  pg_get_ruledef(r.oid) AS key"                                                                         \
    " FROM pg_rewrite r JOIN pg_class c ON c.oid = r.ev_class" IN_SCHEMA_C " AND r.rulename <> '_RETURN'"    \
    " UNION ALL SELECT 'partitioned table ' || quote_ident(c.relname), pg_get_partkeydef(c.oid)"             \
    " FROM pg_class c" IN_SCHEMA_C " AND c.relkind = 'p'"                                                    \
    " UNION ALL SELECT 'partition ' || quote_ident(c.relname), pg_get_expr(c.relpartbound, c.oid)"           \
    " FROM pg_class c" IN_SCHEMA_C " AND c.relispartition"                                                   \
    " UNION ALL SELECT 'table ' || quote_ident(c.relname) || ' inheriting from ' || "                        \
    "i.inhparent::regclass::text, ''"                                                                        \
    " FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid" IN_SCHEMA_C " AND NOT c.relispartition"      \
    " UNION ALL SELECT 'view ' || quote_ident(c.relname) || ' WITH (' || array_to_string(c.reloptions, ', "  \
    "') "                                                                                                    \
    "|| ')',"                                                                                                \
    "  ''"                                                                                                   \
    " FROM pg_class c" IN_SCHEMA_C " AND c.relkind = 'v' AND c.reloptions IS NOT NULL"                       \
    " UNION ALL SELECT 'comment on ' || CASE c.relkind WHEN 'v' THEN 'view ' WHEN 'm' THEN 'materialized "   \
    "view '"                                                                                                 \
    "  WHEN 'i' THEN 'index ' WHEN 'I' THEN 'index ' WHEN 'S' THEN 'sequence ' ELSE 'relation ' END"         \
    "  || quote_ident(c.relname) || CASE WHEN d.objsubid > 0 THEN ' (a column)' ELSE '' END, d.description"  \
    " FROM pg_description d JOIN pg_class c ON d.classoid = 'pg_class'::regclass AND d.objoid = "            \
    "c.oid" IN_SCHEMA_C " AND c.relkind NOT IN ('r', 'p')"                                                   \
    " UNION ALL SELECT 'comment on constraint ' || quote_ident(co.conname) || ' on ' || "                    \
    "quote_ident(c.relname),"                                                                                \
    "  d.description"                                                                                        \
    " FROM pg_description d JOIN pg_constraint co ON d.classoid = 'pg_constraint'::regclass AND d.objoid = " \
    "co.oid"                                                                                                 \
    " JOIN pg_class c ON c.oid = co.conrelid" IN_SCHEMA_C                                                    \
    " UNION ALL SELECT 'privileges (GRANT) on ' || quote_ident(c.relname),"                                  \
    "  (SELECT string_agg(CASE WHEN a.grantee = 0 THEN 'PUBLIC' ELSE pg_get_userbyid(a.grantee) END"         \
    "   || ':' || a.privilege_type, ',' ORDER BY 1) FROM aclexplode(c.relacl) a WHERE a.grantee <> "         \
    "c.relowner)"                                                                                            \
    " FROM pg_class c" IN_SCHEMA_C                                                                           \
    " AND c.relacl IS NOT NULL AND c.relkind IN ('r', 'p', 'v', 'm', 'S', 'f')"                              \
    "  AND EXISTS (SELECT 1 FROM aclexplode(c.relacl) a WHERE a.grantee <> c.relowner)"                      \
    " UNION ALL SELECT 'operator ' || o.oprname || '(' || format_type(o.oprleft, NULL) || ', '"              \
    "  || format_type(o.oprright, NULL) || ')', o.oprcode::text"                                             \
    " FROM pg_operator o JOIN pg_namespace n ON n.oid = o.oprnamespace WHERE n.nspname = "                   \
    "current_schema()" NOT_EXTENSION(                                                                        \
        "pg_operator",                                                                                       \
        "o.oid") " UNION ALL SELECT 'collation ' || quote_ident(co.collname),"                               \
                 "  concat_ws(' ', co.collprovider, co.collcollate, co.collctype, " icu ")"                  \
                 " FROM pg_collation co JOIN pg_namespace n ON n.oid = co.collnamespace WHERE n.nspname = "  \
                 "current_schema()" NOT_EXTENSION("pg_collation", "co.oid") UNSUPPORTED_MORE(comp)           \
                     UNSUPPORTED_OTHER_SCHEMAS ") x ORDER BY 1, 2"
/* by server version: pg_attribute.attcompression is PostgreSQL 14's,
   pg_collation.colliculocale 15's (colllocale from 17 on) */
static const char q_unsupported_pg17[] = Q_UNSUPPORTED("a.attcompression::text", "co.colllocale");
static const char q_unsupported_pg15[] = Q_UNSUPPORTED("a.attcompression::text", "co.colliculocale");
static const char q_unsupported_pg14[] = Q_UNSUPPORTED("a.attcompression::text", "NULL");
static const char q_unsupported_pg12[] = Q_UNSUPPORTED("''::text", "NULL");

/* One row of q_unsupported into the model: "what\037key". */
static int on_unsupported(void *ud, int n, char **v)
{
    gen_model *m = ud;
    (void)n;
    buf b;
    buf_init(&b);
    buf_addf(&b, "%s\037%s", v[0] ? v[0] : "?", v[1] ? v[1] : "");
    if (b.oom || ARR_GROW(m->unsup, m->capunsup, m->nunsup + 1)) {
        buf_release(&b);
        m->oom = 1;
        return -1;
    }
    m->unsup[m->nunsup++] = buf_detach(&b);
    return 0;
}

typedef struct rd {
    gen_model *m;
    int oom;
} rd;

static char *dup_or_null(const char *s)
{
    return s ? xstrdup(s) : NULL;
}

static int on_column(void *ud, int n, char **v)
{
    rd *r = ud;
    (void)n;
    gen_table *t = gen_find_table(r->m, v[0]);
    if (!t) {
        if (!(t = gen_model_add_table(r->m, v[0], v[1])))
            return r->oom = 1;
        t->comment = dup_or_null(v[11]);
        t->unlogged = v[12] && v[12][0] == '1';
        t->rls = v[13] ? atoi(v[13]) : 0;
    }
    if (!v[2])
        return 0; /* a table without columns */
    gen_col *c = gen_table_add_col(t);
    if (!c)
        return r->oom = 1;
    c->name = xstrdup(v[2]);
    c->q = xstrdup(v[3]);
    c->type = xstrdup(v[4]);
    c->notnull = v[5] && v[5][0] == '1';
    c->dflt = dup_or_null(v[6]);
    c->gen = dup_or_null(v[7]);
    c->identity = v[8] && v[8][0] ? v[8][0] : 0;
    c->collate = dup_or_null(v[9]);
    c->comment = dup_or_null(v[10]);
    return 0;
}

static int on_item(rd *r, char kind, char **v, int at)
{
    gen_table *t = gen_find_table(r->m, v[0]);
    if (!t)
        return 0;
    if (!gen_table_add_item(t, kind, v[at], v[at + 1], v[at + 2]))
        return r->oom = 1;
    return 0;
}

static int on_constraint(void *ud, int n, char **v)
{
    (void)n;
    /* v: table, name, quoted, contype, def */
    rd *r = ud;
    gen_table *t = gen_find_table(r->m, v[0]);
    if (!t)
        return 0;
    if (!gen_table_add_item(t, v[3][0], v[1], v[2], v[4]))
        return r->oom = 1;
    return 0;
}

static int on_index(void *ud, int n, char **v)
{
    (void)n;
    return on_item(ud, 'i', v, 1);
}

static int on_obj(rd *r, char kind, char **v, const char *def)
{
    gen_obj *o = gen_model_add_obj(r->m, kind, v[0], v[1]);
    if (!o || (def && !(o->def = xstrdup(def))))
        return r->oom = 1;
    o->norm = o->def;
    return 0;
}

static int on_trigger(void *ud, int n, char **v)
{
    (void)n;
    return on_item(ud, 't', v, 1);
}

static int on_policy(void *ud, int n, char **v)
{
    (void)n;
    return on_item(ud, 'l', v, 1);
}

static int on_function(void *ud, int n, char **v)
{
    (void)n;
    rd *r = ud;
    if (on_obj(ud, 'f', v, v[2]))
        return 1;
    gen_obj *o = &r->m->o[r->m->no - 1];
    if (!(o->norm = xstrdup(v[3])))
        return r->oom = 1;
    return 0;
}

static int on_view(void *ud, int n, char **v)
{
    (void)n;
    /* pg_get_viewdef ends with ';': a query, to follow CREATE VIEW ... AS */
    size_t l = strlen(v[2]);
    while (l && (v[2][l - 1] == ';' || v[2][l - 1] == ' ' || v[2][l - 1] == '\n'))
        l--;
    char *def = xstrndup(v[2], l);
    int rc = def ? on_obj(ud, 'v', v, def) : (((rd *)ud)->oom = 1);
    free(def);
    return rc;
}

static int on_extension(void *ud, int n, char **v)
{
    (void)n;
    return on_obj(ud, 'x', v, NULL);
}

static int on_sequence(void *ud, int n, char **v)
{
    (void)n;
    rd *r = ud;
    if (on_obj(r, 's', v, v[2]))
        return 1;
    gen_obj *o = &r->m->o[r->m->no - 1];
    o->owned = dup_or_null(v[3]);
    return 0;
}

static int on_enum(void *ud, int n, char **v)
{
    (void)n;
    rd *r = ud;
    if (on_obj(r, 'e', v, NULL))
        return 1;
    gen_obj *o = &r->m->o[r->m->no - 1];
    size_t cnt = 1;
    for (const char *p = v[2]; *p; p++)
        cnt += *p == '\1';
    if (!(o->vals = calloc(cnt, sizeof(char *))))
        return r->oom = 1;
    const char *p = v[2];
    while (o->nvals < cnt) {
        const char *e = strchr(p, '\1');
        size_t len = e ? (size_t)(e - p) : strlen(p);
        if (!(o->vals[o->nvals++] = xstrndup(p, len)))
            return r->oom = 1;
        p += len + (e ? 1 : 0);
    }
    return 0;
}

/* server_version_num into *(int *)ud */
static int on_version(void *ud, int n, char **v)
{
    *(int *)ud = n > 0 && v[0] ? atoi(v[0]) : 0;
    return 0;
}

strata_code pg_gen_read(drv *d, const char *table, gen_model *m, strata_error *err)
{
    static const struct {
        const char *sql;
        row_fn fn;
    } steps[] = {
        {q_extensions, on_extension},
        {q_enums, on_enum},
        {q_sequences, on_sequence},
        {q_columns, on_column},
        {q_constraints, on_constraint},
        {q_indexes, on_index},
        {q_views, on_view},
        {q_triggers, on_trigger},
        {q_policies, on_policy},
        {q_functions, on_function},
    };
    rd r = {m, 0};
    const char *params[1] = {table};
    int version = 0;
    int pin = pg_pin_begin(d, 0, err);
    if (pin < 0)
        return err ? err->code : STRATA_DB_ERROR;
    strata_code urc =
        d->ops->query(d, "SELECT current_setting('server_version_num') WHERE $1::text IS NOT NULL", 1, params,
                      on_version, &version, err);
    if (!urc)
        urc = d->ops->query(d,
                            version >= 170000   ? q_unsupported_pg17
                            : version >= 150000 ? q_unsupported_pg15
                            : version >= 140000 ? q_unsupported_pg14
                                                : q_unsupported_pg12,
                            1, params, on_unsupported, m, err);
    if (!urc && m->oom)
        urc = err_set(err, STRATA_NOMEM, "out of memory");
    for (size_t i = 0; !urc && i < sizeof(steps) / sizeof(steps[0]); i++) {
        urc = d->ops->query(d, steps[i].sql, 1, params, steps[i].fn, &r, err);
        if (r.oom)
            urc = err_set(err, STRATA_NOMEM, "out of memory");
    }
    pg_pin_end(d, pin);
    return urc;
}

/* The printed definition of the temporary table's constraint into *(char **)ud */
static int on_def(void *ud, int n, char **v)
{
    char **out = ud;
    free(*out);
    *out = n > 0 && v[0] ? xstrdup(v[0]) : NULL;
    return 0;
}

/*
 * PostgreSQL prints some CHECK expressions in a form that prints otherwise
 * once it runs again: an IN list on a varchar column, written
 * ((ARRAY['a'::character varying, ...])::text[]), comes back as
 * ARRAY[('a'::character varying)::text, ...], which then holds. The def is
 * run on a temporary copy of table's columns (LIKE) in a transaction rolled
 * back, until it prints the same; a def with no cast in it is taken as it
 * is. Errors are not the caller's: *out stays NULL (a read-only session).
 */
strata_code pg_gen_canon(drv *d, const char *table, const char *def, char **out, strata_error *err)
{
    (void)err;
    *out = NULL;
    if (!strstr(def, "::"))
        return STRATA_OK;
    strata_error ignore;
    buf q;
    buf_init(&q);
    buf_addf(&q, "CREATE TEMP TABLE strata_canon (LIKE %s)", table);
    char *cur = xstrdup(def), *got = NULL;
    int ok = cur && !q.oom && pg_pin_begin(d, PG_PIN_WRITE, &ignore) == 1;
    int began = ok;
    if (ok)
        ok = !d->ops->query(d, q.data, 0, NULL, NULL, NULL, &ignore);
    for (int round = 0; ok && round < 4; round++) {
        buf_reset(&q);
        buf_addf(&q, "ALTER TABLE strata_canon ADD CONSTRAINT strata_canon %s", cur);
        ok = !q.oom && !d->ops->query(d, q.data, 0, NULL, NULL, NULL, &ignore) &&
             !d->ops->query(
                 d,
                 "SELECT pg_get_constraintdef(oid) FROM pg_constraint WHERE conname = 'strata_canon' "
                 "AND conrelid = 'strata_canon'::regclass",
                 0, NULL, on_def, &got, &ignore) &&
             got &&
             !d->ops->query(d, "ALTER TABLE strata_canon DROP CONSTRAINT strata_canon", 0, NULL, NULL, NULL,
                            &ignore);
        if (!ok)
            break;
        int same = !strcmp(got, cur);
        free(cur);
        cur = got;
        got = NULL;
        if (same)
            break;
    }
    if (began)
        d->ops->query(d, "ROLLBACK", 0, NULL, NULL, NULL, &ignore);
    buf_release(&q);
    free(got);
    if (ok && strcmp(cur, def))
        *out = cur;
    else
        free(cur);
    return STRATA_OK;
}

/* --------------------------------------------------------------- planning */

typedef struct ctx {
    const gen_model *from, *to;
    const gen_opts *o;
    gen_plan *p;
    const char **touched; /* tables whose columns change (views on them are rebuilt) */
    size_t ntouched, captouched;
    const gen_item **ren_from, **ren_to; /* constraints and indexes renamed, not rebuilt */
    size_t nren, capren, capren2;
} ctx;

static int ident_byte(char ch)
{
    return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') || ch == '_' ||
           ch == '"' || (unsigned char)ch >= 0x80;
}

static int streq(const char *a, const char *b)
{
    if (!a || !b)
        return a == b;
    return !strcmp(a, b);
}

/* What col_to_name and to_name give a displaced column or table: nothing
   has this name. */
static const char displaced_name[] = "\001strata: displaced";

/* 1 when table name of the start is not renamed and a table rename
   (--rename A:NAME) takes its name (the down of "users renamed to
   users_old beside a new users"): it is dropped before the renames
   (destructive). */
static int table_displaced(const ctx *c, const char *name)
{
    if (!c->o->nrenames || !gen_find_table(c->from, name) || gen_rename_of(c->o, NULL, name))
        return 0;
    for (size_t r = 0; r < c->o->nrenames; r++) {
        const gen_rename *rn = &c->o->renames[r];
        if (!rn->table && !strcmp(rn->to, name) && strcmp(rn->from, name))
            return 1;
    }
    return 0;
}

static const char *to_name(const ctx *c, const char *name)
{
    if (table_displaced(c, name))
        return displaced_name;
    return gen_new_name(c->o, NULL, name);
}

/* 1 when column name of table (the start's) is not renamed and a column
   rename (--rename T.A:NAME) takes its name: it is dropped before the
   renames (destructive). */
static int col_displaced(const ctx *c, const char *table, const char *name)
{
    if (!c->o->nrenames) /* only a rename displaces a column */
        return 0;
    const gen_table *ft = gen_find_table(c->from, table);
    if (!ft || !gen_find_col(ft, name) || gen_rename_of(c->o, table, name))
        return 0;
    for (size_t r = 0; r < c->o->nrenames; r++) {
        const gen_rename *rn = &c->o->renames[r];
        if (rn->table && !strcmp(rn->table, table) && !strcmp(rn->to, name) && strcmp(rn->from, name))
            return 1;
    }
    return 0;
}

static const char *col_to_name(const ctx *c, const char *table, const char *name)
{
    if (col_displaced(c, table, name))
        return displaced_name;
    return gen_new_name(c->o, table, name);
}

/* The table of `from` that becomes `to`'s table name, or NULL. */
static const gen_table *from_table(const ctx *c, const char *name)
{
    if (!c->o->nrenames) /* every table keeps its name: one look-up, not a rename per table */
        return gen_find_table(c->from, name);
    for (size_t i = 0; i < c->from->nt; i++)
        if (!strcmp(to_name(c, c->from->t[i].name), name))
            return &c->from->t[i];
    return NULL;
}

/* The column of ft (a table of `from`) that becomes column `name` of its
   table in `to`: a column rename names the start's table (--rename T.OLD:NEW),
   also when the table is renamed too. */
static const gen_col *from_col(const ctx *c, const gen_table *ft, const char *name)
{
    if (!c->o->nrenames)
        return gen_find_col(ft, name);
    for (size_t i = 0; i < ft->ncols; i++)
        if (!strcmp(col_to_name(c, ft->name, ft->cols[i].name), name))
            return &ft->cols[i];
    return NULL;
}

static void col_def(buf *b, const gen_col *col)
{
    buf_addf(b, "%s %s", col->q, col->type);
    if (col->collate)
        buf_addf(b, " COLLATE %s", col->collate);
    if (col->identity)
        buf_addf(b, " GENERATED %s AS IDENTITY", col->identity == 'a' ? "ALWAYS" : "BY DEFAULT");
    if (col->gen)
        buf_addf(b, " GENERATED ALWAYS AS (%s) STORED", col->gen);
    else if (col->dflt)
        buf_addf(b, " DEFAULT %s", col->dflt);
    if (col->notnull && !col->identity)
        buf_adds(b, " NOT NULL");
}

static void touch(ctx *c, const char *table)
{
    for (size_t i = 0; i < c->ntouched; i++)
        if (!strcmp(c->touched[i], table))
            return;
    if (ARR_GROW(c->touched, c->captouched, c->ntouched + 1)) {
        c->p->oom = 1;
        return;
    }
    c->touched[c->ntouched++] = table;
}

/* Type changes PostgreSQL makes without rewriting the table (binary
   coercible: a longer or no length limit). */
static int no_rewrite(const char *a, const char *b)
{
    long n1, n2;
    if (sscanf(a, "character varying(%ld)", &n1) == 1) {
        if (!strcmp(b, "text") || !strcmp(b, "character varying"))
            return 1;
        if (sscanf(b, "character varying(%ld)", &n2) == 1)
            return n2 >= n1;
    }
    if (!strcmp(a, "character varying") && !strcmp(b, "text"))
        return 1;
    /* numeric(p,s) to more precision at the same scale, or to numeric */
    int p1, s1, p2, s2;
    if (sscanf(a, "numeric(%d,%d)", &p1, &s1) == 2 && sscanf(b, "numeric(%d,%d)", &p2, &s2) == 2)
        return s2 == s1 && p2 >= p1;
    return !strncmp(a, "numeric(", 8) && !strcmp(b, "numeric");
}

/* 1 for a type with a length that an explicit cast cuts values to without
   a word (varchar(n), char(n), bit(n), varbit(n)): a change to it goes
   without USING, so that PostgreSQL's assignment cast (which every type
   has to a string type) refuses a value too long instead. */
static int cut_by_cast(const char *t)
{
    static const char *const cut[] = {"character varying(", "character(", "bit(", "bit varying("};
    for (size_t i = 0; i < sizeof(cut) / sizeof(cut[0]); i++)
        if (!strncmp(t, cut[i], strlen(cut[i])))
            return 1;
    return 0;
}

/* Before a text column becomes character varying(n) or character(n): a
   statement that stops the migration when a value would lose trailing
   blanks -- cut past n by the assignment (which cuts only blanks, without
   a word), or, into character(n), blanks that no longer count (its values
   are read back without them). Nothing for other types: character(m)
   never kept them, and a number or a date has none. */
static void blank_guard(gen_plan *p, const gen_col *fc, const gen_col *tc, const gen_table *tt)
{
    int n = 0, bpchar = sscanf(tc->type, "character(%d)", &n) == 1;
    if (!bpchar && sscanf(tc->type, "character varying(%d)", &n) != 1)
        return;
    if (strcmp(fc->type, "text") && strncmp(fc->type, "character varying", 17))
        return;
    buf w;
    buf_init(&w);
    /* the column by its name at this step (a rename came first) */
    buf_addf(&w, "char_length(%s) > %d", tc->q, n);
    if (bpchar)
        buf_addf(&w, " OR %s LIKE '%% '", tc->q);
    char msg[600];
    snprintf(msg, sizeof(msg), "strata: values of %s.%s do not fit %s as they are (%s); change them first",
             tt->name, tc->name, tc->type,
             bpchar ? "longer, or ending in blanks, which it drops" : "longer: trailing blanks would be cut");
    buf esc, lit; /* RAISE reads % as a placeholder */
    buf_init(&esc);
    buf_init(&lit);
    for (const char *m = msg; *m; m++)
        buf_add(&esc, *m == '%' ? "%%" : m, *m == '%' ? 2 : 1);
    buf_add_sqlstr(&lit, esc.data ? esc.data : "");
    buf_release(&esc);
    buf body;
    buf_init(&body);
    buf_addf(&body, "BEGIN IF EXISTS (SELECT FROM %s WHERE %s) THEN RAISE EXCEPTION %s; END IF; END", tt->q,
             w.data ? w.data : "", lit.data ? lit.data : "");
    /* a dollar-quote tag that the body (a name in it) does not hold */
    char tag[32] = "$strata$";
    for (int k = 1; body.data && strstr(body.data, tag) && k < 1000; k++)
        snprintf(tag, sizeof(tag), "$strata%d$", k);
    if (w.oom || lit.oom || body.oom)
        p->oom = 1;
    else
        gen_emit(p, GEN_PART_TX, "check values", NULL, "DO %s %s %s", tag, body.data, tag);
    buf_release(&w);
    buf_release(&lit);
    buf_release(&body);
}

/* The fractional-second digits of a timestamp type, with zone (1) or
   without (0) in *tz; -1 when t is not a timestamp. */
static int ts_digits(const char *t, int *tz)
{
    int d = 6;
    if (strncmp(t, "timestamp", 9))
        return -1;
    const char *r = t + 9;
    if (*r == '(') {
        d = atoi(r + 1);
        r = strchr(r, ')');
        if (!r)
            return -1;
        r++;
    }
    if (!strcmp(r, " with time zone"))
        *tz = 1;
    else if (!strcmp(r, " without time zone"))
        *tz = 0;
    else
        return -1;
    return d;
}

/* 1 when a to b adds or drops the time zone of a timestamp (no fewer
   fractional digits): done at UTC, whatever the session's TimeZone, so
   that the values are the same on every database (the proof's scratch one
   included) and the down gives back the up's start. */
static int zone_change(const char *a, const char *b)
{
    int ta = 0, tb = 0, da = ts_digits(a, &ta), db = ts_digits(b, &tb);
    return da >= 0 && db >= da && ta != tb;
}

/* Widening type changes that keep every value (some rewrite the table). */
static int widening(const char *a, const char *b)
{
    static const char *chain[][2] = {
        {"smallint", "integer"},      {"smallint", "bigint"}, {"integer", "bigint"},
        {"smallint", "numeric"},      {"integer", "numeric"}, {"bigint", "numeric"},
        {"real", "double precision"}, {"character", "text"},
    };
    for (size_t i = 0; i < sizeof(chain) / sizeof(chain[0]); i++)
        if (!strcmp(a, chain[i][0]) && !strcmp(b, chain[i][1]))
            return 1;
    /* to text: types whose text form is the whole value, whatever the
       session's settings (it casts back to the same value). Not floats
       (extra_float_digits), dates, times and intervals (DateStyle, TimeZone,
       IntervalStyle), character(n) (its trailing blanks), bit strings (no
       cast back in the down) */
    if (!strcmp(b, "text") || !strcmp(b, "character varying")) {
        static const char *whole[] = {"smallint", "integer", "bigint", "numeric", "boolean", "uuid",
                                      "json",     "jsonb",   "inet",   "cidr",    "macaddr"};
        for (size_t i = 0; i < sizeof(whole) / sizeof(whole[0]); i++)
            if (!strcmp(a, whole[i]))
                return 1;
        static const char *prefix[] = {"numeric(", "character varying"};
        for (size_t i = 0; i < sizeof(prefix) / sizeof(prefix[0]); i++)
            if (!strncmp(a, prefix[i], strlen(prefix[i])))
                return 1;
    }
    /* numeric(p,s): no fewer digits before the point, no fewer after */
    int p1, s1, p2, s2;
    if (sscanf(a, "numeric(%d,%d)", &p1, &s1) == 2 && sscanf(b, "numeric(%d,%d)", &p2, &s2) == 2)
        return s2 >= s1 && p2 - s2 >= p1 - s1;
    return no_rewrite(a, b);
}

/* 1 when a's labels appear in b in the same order (b only adds). */
/* The same values in the same order. */
static int enum_same(const gen_obj *a, const gen_obj *b)
{
    int same = a->nvals == b->nvals;
    for (size_t k = 0; same && k < a->nvals; k++)
        same = !strcmp(a->vals[k], b->vals[k]);
    return same;
}

static int enum_adds_only(const gen_obj *a, const gen_obj *b)
{
    size_t j = 0;
    for (size_t i = 0; i < b->nvals && j < a->nvals; i++)
        if (!strcmp(a->vals[j], b->vals[i]))
            j++;
    return j == a->nvals;
}

static int has_val(const gen_obj *e, const char *v)
{
    for (size_t i = 0; i < e->nvals; i++)
        if (!strcmp(e->vals[i], v))
            return 1;
    return 0;
}

/* How col uses enum e: "" of the type, "[]" an array of it (format_type
   prints "e[]" whatever the dimensions), NULL not at all. */
static const char *enum_use(const gen_col *col, const gen_obj *e)
{
    const char *names[2] = {e->name, e->q};
    for (int i = 0; i < 2; i++) {
        size_t l = strlen(names[i]);
        if (!strncmp(col->type, names[i], l) && (!col->type[l] || !strcmp(col->type + l, "[]")))
            return col->type + l;
    }
    return NULL;
}

static int col_uses_type(const gen_col *col, const gen_obj *e)
{
    return enum_use(col, e) != NULL;
}

/* Column col of ft moved to the rebuilt enum e (f the old type) through
   text. In an up (destructive, --allow-destructive) the values e lacks
   become NULL, or are left out of an array (arr "[]"): a cast of them
   would fail the migration on the rows holding them. In a down (strict:
   the undoing of values added, which nobody was asked about) the cast
   does fail there, and the down rolls back: rows that use a value the
   down takes away are not changed behind the user's back. */
static void enum_cast(gen_plan *p, const gen_table *ft, const gen_col *col, const gen_obj *e, const char *arr,
                      const gen_obj *f, const gen_col *tc, int strict)
{
    /* a NOT NULL column cannot take NULL: its values that go take the
       desired column's default when that is one of the new values (else
       the up fails on a row holding one, rolled back whole) */
    const char *to = "NULL";
    for (size_t k = 0; col->notnull && tc && tc->dflt && k < e->nvals; k++) {
        size_t l = strlen(e->vals[k]);
        if (!strncmp(tc->dflt, e->vals[k], l) && (!tc->dflt[l] || !strncmp(tc->dflt + l, "::", 2)))
            to = e->vals[k];
    }
    buf gone, u;
    buf_init(&gone);
    buf_init(&u);
    size_t n = 0;
    for (size_t k = 0; k < f->nvals; k++)
        if (!has_val(e, f->vals[k]))
            buf_addf(&gone, "%s%s", n++ ? ", " : "", f->vals[k]);
    if (!n || strict) {
        buf_addf(&u, "%s::text%s::%s%s", col->q, arr, e->q, arr);
    } else if (*arr) {
        for (size_t k = 0; k < n; k++)
            buf_adds(&u, "array_remove(");
        buf_addf(&u, "%s::text[]", col->q);
        for (size_t k = 0; k < f->nvals; k++)
            if (!has_val(e, f->vals[k]))
                buf_addf(&u, ", %s)", f->vals[k]);
        buf_addf(&u, "::%s[]", e->q);
    } else {
        buf_addf(&u, "CASE WHEN %s::text IN (%s) THEN %s ELSE %s::text END::%s", col->q, gone.data, to,
                 col->q, e->q);
    }
    gen_emit(p, GEN_PART_TX, "rebuild type", NULL, "ALTER TABLE %s ALTER COLUMN %s TYPE %s%s USING %s", ft->q,
             col->q, e->q, arr, u.data ? u.data : "");
    buf_release(&gone);
    buf_release(&u);
}

/* Enums: new ones, values added, or rebuilt when values go or move. */
static void plan_enums(ctx *c)
{
    gen_plan *p = c->p;
    for (size_t i = 0; i < c->to->no; i++) {
        const gen_obj *e = &c->to->o[i];
        if (e->kind != 'e')
            continue;
        const gen_obj *f = gen_find_obj(c->from, 'e', e->name);
        if (!f) {
            buf b;
            buf_init(&b);
            for (size_t k = 0; k < e->nvals; k++)
                buf_addf(&b, "%s%s", k ? ", " : "", e->vals[k]);
            gen_emit(p, GEN_PART_TX, "create type", NULL, "CREATE TYPE %s AS ENUM (%s)", e->q,
                     b.data ? b.data : "");
            buf_release(&b);
            continue;
        }
        if (enum_same(f, e))
            continue;
        if (enum_adds_only(f, e) && !(c->o->down && c->o->enum_rebuild)) {
            for (size_t k = 0; k < e->nvals; k++) {
                if (has_val(f, e->vals[k]))
                    continue;
                int part = GEN_PART_PRE; /* in a down too: its section is then no-transaction */
                if (k > 0)
                    gen_emit(p, part, "add enum value", NULL, "ALTER TYPE %s ADD VALUE %s AFTER %s", e->q,
                             e->vals[k], e->vals[k - 1]);
                else
                    gen_emit(p, part, "add enum value", NULL, "ALTER TYPE %s ADD VALUE %s BEFORE %s", e->q,
                             e->vals[k], e->vals[k + 1]);
            }
            continue;
        }
        /* rebuild: rename, create, move the columns over, drop the old type */
        buf lost;
        buf_init(&lost);
        for (size_t k = 0; k < f->nvals; k++)
            if (!has_val(e, f->vals[k]))
                buf_addf(&lost, "%s%s", lost.len ? ", " : "", f->vals[k]);
        char *loses = NULL;
        if (lost.len && !c->o->down) {
            buf lb;
            buf_init(&lb);
            buf_addf(&lb,
                     "the values %s of enum %s (NULL, or the column's new default when it is NOT NULL, or "
                     "left out of arrays)",
                     lost.data, e->name);
            loses = buf_detach(&lb);
        }
        buf vals;
        buf_init(&vals);
        for (size_t k = 0; k < e->nvals; k++)
            buf_addf(&vals, "%s%s", k ? ", " : "", e->vals[k]);
        gen_emit(p, GEN_PART_TX, "rebuild type", loses, "ALTER TYPE %s RENAME TO \"%s__strata_old\"", e->q,
                 e->name);
        gen_emit(p, GEN_PART_TX, "rebuild type", NULL, "CREATE TYPE %s AS ENUM (%s)", e->q, vals.data);
        for (size_t t = 0; t < c->from->nt; t++) {
            const gen_table *ft = &c->from->t[t];
            const char *tn = to_name(c, ft->name);
            const gen_table *tt = gen_find_table(c->to, tn);
            if (!tt)
                continue;
            for (size_t k = 0; k < ft->ncols; k++) {
                const gen_col *col = &ft->cols[k];
                if (!col_uses_type(col, f))
                    continue;
                const gen_col *tc = gen_find_col(tt, col_to_name(c, ft->name, col->name));
                if (!tc || !col_uses_type(tc, e))
                    continue;
                touch(c, tt->name);
                if (col->dflt)
                    gen_emit(p, GEN_PART_TX, "rebuild type", NULL,
                             "ALTER TABLE %s ALTER COLUMN %s DROP DEFAULT", ft->q, col->q);
                enum_cast(p, ft, col, e, enum_use(col, f), f, tc, c->o->down);
                if (col->dflt && tc->dflt && streq(col->dflt, tc->dflt))
                    gen_emit(p, GEN_PART_TX, "rebuild type", NULL,
                             "ALTER TABLE %s ALTER COLUMN %s SET DEFAULT %s", ft->q, col->q, tc->dflt);
            }
        }
        gen_emit(p, GEN_PART_TX, "rebuild type", NULL, "DROP TYPE \"%s__strata_old\"", e->name);
        free(loses);
        buf_release(&vals);
        buf_release(&lost);
    }
}

static int is_fk(const gen_item *it)
{
    return it->kind == 'f';
}

/* Indexes, triggers, policies and constraints have names of their own kind. */
static int item_class(char kind)
{
    return kind == 'i' ? 1 : kind == 't' ? 2 : kind == 'l' ? 3 : 0;
}

/* Whether an item is made by a statement of its own after the table
   (CREATE INDEX / TRIGGER / POLICY, or a foreign key): not in CREATE TABLE. */
static int item_apart(const gen_item *it)
{
    return it->kind == 'i' || it->kind == 'f' || it->kind == 't' || it->kind == 'l';
}

/* A policy that reads a table whose columns change (its own, or one of
   its subqueries'): dropped before and created again after, as views are. */
static int policy_rebuilt(const ctx *c, const gen_item *it)
{
    for (size_t k = 0; it->kind == 'l' && k < c->ntouched; k++)
        if (gen_mentions(it->def, c->touched[k]))
            return 1;
    return 0;
}

/* The item of t of it's class and name, or NULL. */
static const gen_item *to_item(const gen_table *t, const gen_item *it)
{
    if (!t)
        return NULL;
    for (size_t i = 0; i < t->nitems; i++)
        if (item_class(t->items[i].kind) == item_class(it->kind) && !strcmp(t->items[i].name, it->name))
            return &t->items[i];
    return NULL;
}

/* name as quote_ident prints it (keywords aside): plain when lower case. */
static void add_ident(buf *b, const char *name)
{
    int plain = name[0] && !(name[0] >= '0' && name[0] <= '9');
    for (const char *p = name; plain && *p; p++)
        plain = (*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') || *p == '_';
    if (plain)
        buf_adds(b, name);
    else
        buf_add_quoted_ident(b, name);
}

/* def (of table `table` of `from`) with the names --rename changes made
   new: the table's columns, and every renamed table (whole identifiers,
   as the server prints them). Malloc'd; NULL when out of memory. */
static char *def_renamed(const ctx *c, const char *table, const char *def)
{
    buf b;
    buf_init(&b);
    buf_adds(&b, def);
    for (size_t i = 0; b.data && i < c->o->nrenames; i++) {
        const gen_rename *r = &c->o->renames[i];
        if (r->table && strcmp(r->table, table))
            continue;
        buf from, to, out;
        buf_init(&from);
        buf_init(&to);
        buf_init(&out);
        add_ident(&from, r->from);
        add_ident(&to, r->to);
        const char *p = b.data;
        size_t n = from.len;
        while (*p) {
            int at =
                n && !strncmp(p, from.data, n) && (p == b.data || !ident_byte(p[-1])) && !ident_byte(p[n]);
            if (at) {
                buf_adds(&out, to.data);
                p += n;
            } else {
                buf_add(&out, p, 1);
                p++;
            }
        }
        buf_release(&b);
        b = out;
        if (!b.data)
            buf_adds(&b, "");
        buf_release(&from);
        buf_release(&to);
    }
    return b.oom ? (buf_release(&b), NULL) : buf_detach(&b);
}

/* f (of from's table `table`) and t define the same thing once renames are
   applied; an index's own name and table are left out of the comparison. */
static int same_def(const ctx *c, const char *table, const gen_item *f, const gen_item *t)
{
    if (f->kind != t->kind)
        return 0;
    char *fd = def_renamed(c, table, f->def);
    if (!fd)
        return 0;
    int same;
    if (f->kind == 'i') {
        const char *a = strstr(fd, " USING "), *b = strstr(t->def, " USING ");
        same = a && b && !strcmp(a, b) &&
               !strncmp(fd, "CREATE UNIQUE", 13) == !strncmp(t->def, "CREATE UNIQUE", 13);
    } else {
        same = !strcmp(fd, t->def);
    }
    free(fd);
    return same;
}

static int renamed_from(const ctx *c, const gen_item *f)
{
    for (size_t i = 0; i < c->nren; i++)
        if (c->ren_from[i] == f)
            return 1;
    return 0;
}

static const gen_item *renamed_to(const ctx *c, const gen_item *t)
{
    for (size_t i = 0; i < c->nren; i++)
        if (c->ren_to[i] == t)
            return c->ren_from[i];
    return NULL;
}

/* 1 when generated column fc (of ft, kept as tc of tt, generated on both
   sides) is dropped and added again: its expression or type changes, or the
   type of a column it reads does (PostgreSQL alters neither under it). It
   holds no data of its own. */
static int gen_rebuilt(const ctx *c, const gen_table *ft, const gen_table *tt, const gen_col *fc,
                       const gen_col *tc)
{
    if (!fc->gen || !tc || !tc->gen)
        return 0;
    if (strcmp(fc->gen, tc->gen) || strcmp(fc->type, tc->type) || !streq(fc->collate, tc->collate))
        return 1;
    for (size_t k = 0; k < ft->ncols; k++) {
        const gen_col *o = &ft->cols[k];
        const gen_col *n = gen_find_col(tt, col_to_name(c, ft->name, o->name));
        if (o != fc && n && strcmp(o->type, n->type) && gen_mentions(fc->gen, o->name))
            return 1;
    }
    return 0;
}

/* 1 when `it` (of table ft of `from`) reads a column that is dropped and
   added again (a generated column rebuilt, or one made generated or plain):
   DROP COLUMN takes it along, so it is built again after; or, a trigger,
   a column whose type changes (PostgreSQL does not alter it under one). */
static int on_rebuilt_col(const ctx *c, const gen_table *ft, const gen_item *it)
{
    /* an enum type rebuilt (plan_enums) under an index predicate or a
       CHECK that names it ('shipped'::st): the old type is renamed, so the
       expression would compare the new type with the old one */
    for (size_t i = 0; i < c->from->no; i++) {
        const gen_obj *f = &c->from->o[i], *e;
        if (f->kind == 'e' && (e = gen_find_obj(c->to, 'e', f->name)) && !enum_same(f, e) &&
            !enum_adds_only(f, e) && gen_mentions(it->def, f->name))
            return 1;
    }
    const gen_table *tt = gen_find_table(c->to, to_name(c, ft->name));
    for (size_t k = 0; tt && k < ft->ncols; k++) {
        const gen_col *fc = &ft->cols[k];
        const gen_col *tc = gen_find_col(tt, col_to_name(c, ft->name, fc->name));
        if (!tc || !gen_mentions(it->def, fc->name))
            continue;
        if (gen_rebuilt(c, ft, tt, fc, tc) || !streq(fc->gen, tc->gen))
            return 1;
        if (it->kind == 't' && (strcmp(fc->type, tc->type) || !streq(fc->collate, tc->collate)))
            return 1;
    }
    return 0;
}

/* 1 when item it of ft (the start's) mentions a displaced column: it is
   dropped before that column, ahead of the renames. */
static int on_displaced_col(const ctx *c, const gen_table *ft, const gen_item *it)
{
    for (size_t k = 0; k < ft->ncols; k++)
        if (col_displaced(c, ft->name, ft->cols[k].name) && gen_mentions(it->def, ft->cols[k].name))
            return 1;
    return 0;
}

/* Drops item it of the table quoted tq. */
static void drop_item(gen_plan *p, const char *tq, const gen_item *it)
{
    if (it->kind == 'i')
        gen_emit(p, GEN_PART_TX, "drop index", NULL, "DROP INDEX %s", it->q);
    else if (it->kind == 't')
        gen_emit(p, GEN_PART_TX, "drop trigger", NULL, "DROP TRIGGER %s ON %s", it->q, tq);
    else if (it->kind == 'l')
        gen_emit(p, GEN_PART_TX, "drop policy", NULL, "DROP POLICY %s ON %s", it->q, tq);
    else
        gen_emit(p, GEN_PART_TX, "drop constraint", NULL, "ALTER TABLE %s DROP CONSTRAINT %s", tq, it->q);
}

/* A constraint, index or trigger of `to` that is new or changed compared to ft. */
static int item_new(const ctx *c, const gen_table *ft, const gen_item *it)
{
    if (!ft)
        return 1;
    if (renamed_to(c, it))
        return 0;
    const gen_item *f = to_item(ft, it);
    return !f || !same_def(c, ft->name, f, it) || on_rebuilt_col(c, ft, f) || on_displaced_col(c, ft, f);
}

/* The table of m that foreign key `it` (of m) references, or NULL. */
static const gen_table *fk_target(const gen_model *m, const gen_item *it)
{
    const char *r = strstr(it->def, " REFERENCES ");
    if (!r)
        return NULL;
    r += 12;
    for (size_t i = 0; i < m->nt; i++) {
        size_t l = strlen(m->t[i].q);
        if (!strncmp(r, m->t[i].q, l) && r[l] == '(')
            return &m->t[i];
    }
    return NULL;
}

static int name_cmp(const void *a, const void *b)
{
    return strcmp(a, b);
}

/* The column list in the parentheses at p ("(y, x)"), its names sorted and
   joined by ',' into out: a key's columns as a set. 0 when p holds no such
   list (an expression: nested parentheses), or it does not fit. */
static int col_set(const char *p, char *out, size_t cap)
{
    if (!p || *p != '(')
        return 0;
    const char *end = strchr(p, ')');
    if (!end || memchr(p + 1, '(', (size_t)(end - p - 1)))
        return 0;
    char names[32][128];
    size_t n = 0;
    for (const char *q = p + 1; q < end && n < 32;) {
        while (q < end && *q == ' ')
            q++;
        const char *e = q;
        while (e < end && *e != ',')
            e++;
        size_t l = (size_t)(e - q);
        while (l && q[l - 1] == ' ')
            l--;
        if (!l || l >= sizeof(names[0]))
            return 0;
        snprintf(names[n++], sizeof(names[0]), "%.*s", (int)l, q);
        q = e < end ? e + 1 : end;
    }
    qsort(names, n, sizeof(names[0]), name_cmp);
    size_t k = 0;
    out[0] = 0;
    for (size_t i = 0; i < n; i++) {
        int w = snprintf(out + k, cap - k, "%s%s", i ? "," : "", names[i]);
        if (w < 0 || (size_t)w >= cap - k)
            return 0;
        k += (size_t)w;
    }
    return n > 0;
}

/* 1 when a key of table ft of `from` that foreign key fk (of any table) may
   use goes or changes: a primary key, unique constraint or unique index
   (not partial) on the columns fk references, as a set -- PostgreSQL ties
   a foreign key to such an index, and no other. */
static int keys_change(const ctx *c, const gen_table *ft, const gen_item *fk)
{
    const gen_table *tt = gen_find_table(c->to, to_name(c, ft->name));
    char want[4096], have[4096];
    const char *r = strstr(fk->def, " REFERENCES ");
    int known = r && col_set(strchr(r, '('), want, sizeof(want));
    for (size_t k = 0; k < ft->nitems; k++) {
        const gen_item *it = &ft->items[k];
        int key =
            it->kind == 'p' || it->kind == 'u' || (it->kind == 'i' && !strncmp(it->def, "CREATE UNIQUE", 13));
        if (!key || renamed_from(c, it))
            continue;
        if (known) {
            /* another key than the one it uses: not in its way (a key
               whose columns cannot be read is taken to be it) */
            const char *cols = it->kind == 'i' ? strstr(it->def, " USING ") : it->def;
            cols = cols ? strchr(cols, '(') : NULL;
            if (it->kind == 'i' && strstr(it->def, " WHERE "))
                continue; /* partial: no foreign key uses it */
            if (col_set(cols, have, sizeof(have)) && strcmp(have, want))
                continue;
        }
        const gen_item *ti = to_item(tt, it);
        if (!ti || !same_def(c, ft->name, it, ti))
            return 1;
    }
    return 0;
}

/* A foreign key of `from` kept as it is written that must still be dropped
   and added again: it depends on the index of a key of the table it
   references, and that key goes or changes (PostgreSQL refuses to drop it
   under the foreign key). */
static int fk_rebuilt(const ctx *c, const gen_item *it)
{
    const gen_table *rt = it->kind == 'f' ? fk_target(c->from, it) : NULL;
    return rt && keys_change(c, rt, it);
}

/* The table and column of `from` that sequence s is owned by (s->owned is
   "table.column", both quoted), or 0. */
static int seq_owner(const ctx *c, const gen_obj *s, const gen_table **ft, const gen_col **fc)
{
    if (!s->owned)
        return 0;
    for (size_t t = 0; t < c->from->nt; t++) {
        const gen_table *x = &c->from->t[t];
        size_t l = strlen(x->q);
        if (strncmp(s->owned, x->q, l) || s->owned[l] != '.')
            continue;
        for (size_t k = 0; k < x->ncols; k++)
            if (!strcmp(s->owned + l + 1, x->cols[k].q)) {
                *ft = x;
                *fc = &x->cols[k];
                return 1;
            }
    }
    return 0;
}

/* 1 when sequence x is owned by column tc of table tt. */
static int seq_owned_by(const gen_obj *x, const gen_table *tt, const gen_col *tc)
{
    size_t l = strlen(tt->q);
    return x->owned && !strncmp(x->owned, tt->q, l) && x->owned[l] == '.' && !strcmp(x->owned + l + 1, tc->q);
}

/* 1 when sequence s of `from` is owned by a displaced table: it goes with
   that table's DROP TABLE, and its name is free. */
static int seq_displaced(const ctx *c, const gen_obj *s)
{
    const gen_table *ft;
    const gen_col *fc;
    return s && s->kind == 's' && seq_owner(c, s, &ft, &fc) && table_displaced(c, ft->name);
}

/* The sequence of `to` that sequence s of `from` becomes under another name:
   the other is not in `from` (or goes with a displaced table), both are
   owned by the same column (a serial column of a renamed table or column),
   and s's name in `to`, if any, is another column's sequence (users
   renamed to users_old beside a new users: users_id_seq goes with
   users_old, the new table's is a new one). */
static const gen_obj *seq_renamed_to(const ctx *c, const gen_obj *s)
{
    const gen_table *ft;
    const gen_col *fc;
    if (s->kind != 's' || !seq_owner(c, s, &ft, &fc))
        return NULL;
    const gen_table *tt = gen_find_table(c->to, to_name(c, ft->name));
    const gen_col *tc = tt ? gen_find_col(tt, col_to_name(c, ft->name, fc->name)) : NULL;
    if (!tc)
        return NULL;
    const gen_obj *same = gen_find_obj(c->to, 's', s->name);
    if (same && (!same->owned || seq_owned_by(same, tt, tc)))
        return NULL;
    for (size_t i = 0; i < c->to->no; i++) {
        const gen_obj *x = &c->to->o[i];
        const gen_obj *taken = x->kind == 's' ? gen_find_obj(c->from, 's', x->name) : NULL;
        if (x->kind == 's' && seq_owned_by(x, tt, tc) && (!taken || seq_displaced(c, taken)))
            return x;
    }
    return NULL;
}

/* Whether a column default of `from` (fd) is the default of `to` (td): the
   same text, or nextval() of a sequence the plan renames -- the default
   holds the sequence's oid, so the rename alone carries it over. */
static int dflt_same(const ctx *c, const char *fd, const char *td)
{
    if (streq(fd, td))
        return 1;
    if (!fd || !td || strncmp(fd, "nextval(", 8) || strncmp(td, "nextval(", 8))
        return 0;
    int same = 0;
    for (size_t i = 0; !same && i < c->from->no; i++) {
        const gen_obj *r = seq_renamed_to(c, &c->from->o[i]);
        if (!r)
            continue;
        buf a, b;
        buf_init(&a);
        buf_init(&b);
        buf_adds(&a, "nextval(");
        buf_add_sqlstr(&a, c->from->o[i].q);
        buf_adds(&a, "::regclass)");
        buf_adds(&b, "nextval(");
        buf_add_sqlstr(&b, r->q);
        buf_adds(&b, "::regclass)");
        same = a.data && b.data && !strcmp(fd, a.data) && !strcmp(td, b.data);
        buf_release(&a);
        buf_release(&b);
    }
    return same;
}

/* The sequence of `from` that becomes s of `to` (by name or by a rename). */
static const gen_obj *seq_from(const ctx *c, const gen_obj *s)
{
    const gen_obj *f = gen_find_obj(c->from, 's', s->name);
    if (f && (seq_renamed_to(c, f) || seq_displaced(c, f)))
        f = NULL; /* renamed away, or gone with its table: s is a new one of the same name */
    for (size_t i = 0; !f && i < c->from->no; i++)
        if (c->from->o[i].kind == 's' && seq_renamed_to(c, &c->from->o[i]) == s)
            f = &c->from->o[i];
    return f;
}

/* 1 when column fc loses its identity in tc (a generated column's change
   drops and adds the column instead) */
static int identity_dropped(const gen_col *fc, const gen_col *tc)
{
    return fc->identity && !tc->identity && streq(fc->gen, tc->gen);
}

/*
 * A column whose sequence is replaced (a serial's by an identity, or back)
 * keeps the old sequence's position: the last value it gave, or none, is
 * kept in a transaction-local setting named after the column (keep_position)
 * before the old sequence goes, and the new one starts past both it and the
 * rows' values (position_expr). Rows deleted from the end keep their keys
 * used, as they were.
 */
static void position_name(char *out, size_t n, const ctx *c, const gen_table *tt, const gen_col *tc)
{
    snprintf(out, n, "strata.position_%zu_%zu", (size_t)(tt - c->to->t), (size_t)(tc - tt->cols));
}

/* seq: an SQL expression giving the old sequence's regclass */
static void keep_position(ctx *c, const gen_table *tt, const gen_col *tc, const char *seq)
{
    char name[64];
    position_name(name, sizeof(name), c, tt, tc);
    gen_emit(c->p, GEN_PART_TX, "keep sequence position", NULL,
             "SELECT set_config('%s', coalesce(pg_sequence_last_value(%s)::text, ''), true)", name, seq);
}

/* agg(col), or with the kept position: greatest (least) of both */
static void position_expr(buf *b, const char *name, int down, const char *col)
{
    if (name)
        buf_addf(b, "%s(%s(%s), nullif(current_setting('%s', true), '')::bigint)",
                 down ? "least" : "greatest", down ? "min" : "max", col, name);
    else
        buf_addf(b, "%s(%s)", down ? "min" : "max", col);
}

/* setval of new sequence s past the values col takes in from (a table, or
   a subquery), and past the position kept in setting pos (or NULL); a
   descending sequence goes on below the smallest value. */
static void seq_setval(ctx *c, const gen_obj *s, const char *from, const char *col, const char *pos)
{
    const char *inc = strstr(s->def, "INCREMENT BY ");
    int down = inc && strtoll(inc + 13, NULL, 10) < 0;
    const char *bound = strstr(s->def, down ? "MAXVALUE " : "MINVALUE ");
    long long lim = bound ? strtoll(bound + 9, NULL, 10) : down ? -1 : 1;
    buf lit, e;
    buf_init(&lit);
    buf_init(&e);
    buf_add_sqlstr(&lit, s->q);
    position_expr(&e, pos, down, col);
    gen_emit(c->p, GEN_PART_TX, "set sequence start", NULL, "SELECT setval(%s, %s) FROM %s HAVING %s %s %lld",
             lit.data ? lit.data : "", e.data ? e.data : "", from, e.data ? e.data : "",
             down ? "<=" : ">=", lim);
    buf_release(&lit);
    buf_release(&e);
}

/* A new sequence that columns of tables which already have rows draw from:
   one owned by its column (a serial given back by a down), or a standalone
   one that their defaults name (nextval('s'::regclass)): it starts past
   their values, so the next row does not take a key already used -- past
   all of them at once when several columns draw from it. */
static void seq_past_rows(ctx *c, const gen_obj *s)
{
    const char *inc = strstr(s->def, "INCREMENT BY ");
    const char *agg = inc && strtoll(inc + 13, NULL, 10) < 0 ? "min" : "max";
    buf nv, from;
    buf_init(&nv);
    buf_init(&from);
    buf_adds(&nv, "nextval(");
    buf_add_sqlstr(&nv, s->q);
    buf_adds(&nv, "::regclass)");
    const gen_table *one = NULL;
    const char *onecol = NULL;
    int n = 0;
    for (size_t t = 0; t < c->to->nt; t++) {
        const gen_table *tt = &c->to->t[t];
        if (!from_table(c, tt->name))
            continue;
        if (s->owned) {
            size_t l = strlen(tt->q);
            if (!strncmp(s->owned, tt->q, l) && s->owned[l] == '.') {
                one = tt, onecol = s->owned + l + 1, n = 1;
                break;
            }
            continue;
        }
        for (size_t k = 0; nv.data && k < tt->ncols; k++)
            if (tt->cols[k].dflt && strstr(tt->cols[k].dflt, nv.data)) {
                one = tt, onecol = tt->cols[k].q;
                buf_addf(&from, "%sSELECT %s(%s) AS v FROM %s", n++ ? " UNION ALL " : "(", agg, onecol,
                         tt->q);
            }
    }
    if (n == 1) {
        /* a serial given back to a column whose identity went: past the
           identity's position too (kept before DROP IDENTITY) */
        char pos[64];
        const gen_table *ft = from_table(c, one->name);
        const gen_col *tc = NULL, *fc = NULL;
        for (size_t k = 0; k < one->ncols && !tc; k++)
            if (!strcmp(one->cols[k].q, onecol))
                tc = &one->cols[k];
        if (tc && ft)
            fc = from_col(c, ft, tc->name);
        int kept = fc && identity_dropped(fc, tc);
        if (kept)
            position_name(pos, sizeof(pos), c, one, tc);
        seq_setval(c, s, one->q, onecol, kept ? pos : NULL);
    } else if (n > 1 && from.data) {
        buf_adds(&from, ") AS drawn");
        seq_setval(c, s, from.data, "v", NULL);
    }
    buf_release(&nv);
    buf_release(&from);
}

/* The function name of a function's identity ("name(types)"), unquoted,
   into out; 0 when it does not fit. */
static int func_name(const char *ident, char *out, size_t n)
{
    size_t o = 0;
    const char *s = ident;
    if (*s == '"') {
        for (s++; *s && !(*s == '"' && s[1] != '"'); s++) {
            if (*s == '"')
                s++; /* "" inside quotes */
            if (o + 1 >= n)
                return 0;
            out[o++] = *s;
        }
    } else {
        for (; *s && *s != '('; s++) {
            if (o + 1 >= n)
                return 0;
            out[o++] = *s;
        }
    }
    out[o] = 0;
    return o > 0;
}

/* The start's function that f of the desired schema replaces by DROP and
   CREATE (its result type, argument names or defaults change: CREATE OR
   REPLACE cannot change them), or NULL. */
static const gen_obj *recreated_function(const ctx *c, const gen_obj *f)
{
    const gen_obj *was = f->kind == 'f' ? gen_find_obj(c->from, 'f', f->name) : NULL;
    return was && strcmp(was->norm, f->norm) ? was : NULL;
}

/* 1 when view v reads a function that is dropped and created again (the
   drop fails while a view reads it). */
static int reads_recreated_function(const ctx *c, const gen_obj *v)
{
    for (size_t i = 0; i < c->to->no; i++) {
        const gen_obj *was = recreated_function(c, &c->to->o[i]);
        char name[256];
        if (was && func_name(was->name, name, sizeof(name)) && gen_mentions(v->def, name))
            return 1;
    }
    return 0;
}

/* Views to drop first: removed, changed, reading a table or view that
   changes, or reading a function that is dropped and created again. */
static int *views_to_rebuild(ctx *c)
{
    int *mark = calloc(c->from->no + 1, sizeof(int));
    if (!mark) {
        c->p->oom = 1;
        return NULL;
    }
    for (size_t i = 0; i < c->from->no; i++) {
        const gen_obj *v = &c->from->o[i];
        if (v->kind != 'v')
            continue;
        const gen_obj *t = gen_find_obj(c->to, 'v', v->name);
        if (!t || strcmp(t->norm, v->norm))
            mark[i] = 1;
        for (size_t k = 0; !mark[i] && k < c->ntouched; k++)
            mark[i] = gen_mentions(v->def, c->touched[k]);
        if (!mark[i])
            mark[i] = reads_recreated_function(c, v);
    }
    gen_views_spread(c->from, mark);
    return mark;
}

/* Creates the views of `to` that are new or were dropped, dependencies first. */
static void create_views(ctx *c, const int *dropped)
{
    size_t n = c->to->no;
    int *need = calloc(n + 1, sizeof(int));
    if (!need) {
        c->p->oom = 1;
        return;
    }
    for (size_t i = 0; i < n; i++) {
        const gen_obj *v = &c->to->o[i];
        if (v->kind != 'v')
            continue;
        const gen_obj *f = gen_find_obj(c->from, 'v', v->name);
        need[i] = !f || (dropped && dropped[f - c->from->o]);
    }
    gen_views_create(c->p, c->to, need, 1);
    free(need);
}

static void plan_columns(ctx *c, const gen_table *ft, const gen_table *tt)
{
    gen_plan *p = c->p;
    /* generated columns first: they depend on the others */
    for (size_t k = 0; k < 2 * ft->ncols; k++) {
        const gen_col *fc = &ft->cols[k % ft->ncols];
        if ((k < ft->ncols) != (fc->gen != NULL))
            continue;
        const char *nn = col_to_name(c, ft->name, fc->name);
        if (nn == displaced_name)
            continue; /* dropped before the renames */
        const gen_col *ntc = gen_find_col(tt, nn);
        /* rebuilt, or made plain: gone before the columns it reads change */
        if (gen_rebuilt(c, ft, tt, fc, ntc) || (fc->gen && ntc && !ntc->gen)) {
            gen_emit(p, GEN_PART_TX, "drop column", NULL, "ALTER TABLE %s DROP COLUMN %s", tt->q, fc->q);
            touch(c, tt->name);
        } else if (!gen_find_col(tt, nn)) {
            char what[512];
            snprintf(what, sizeof(what), "the values of column %s.%s", tt->name, fc->name);
            gen_emit(p, GEN_PART_TX, "drop column", what, "ALTER TABLE %s DROP COLUMN %s", tt->q, fc->q);
            touch(c, tt->name);
        }
    }
    for (size_t k = 0; k < tt->ncols; k++) {
        const gen_col *tc = &tt->cols[k];
        const gen_col *fc = from_col(c, ft, tc->name);
        if (!fc) {
            buf b;
            buf_init(&b);
            col_def(&b, tc);
            gen_emit(p, GEN_PART_TX, "add column", NULL, "ALTER TABLE %s ADD COLUMN %s", tt->q, b.data);
            buf_release(&b);
            touch(c, tt->name);
            continue;
        }
        if (gen_rebuilt(c, ft, tt, fc, tc))
            continue; /* dropped above, added after the columns it reads */
        if (!streq(fc->gen, tc->gen)) {
            /* a column made plain (dropped above) or generated (added
               after the columns it reads, below): drop and add */
            if (fc->gen) {
                buf b;
                buf_init(&b);
                col_def(&b, tc);
                gen_emit(p, GEN_PART_TX, "add column", NULL, "ALTER TABLE %s ADD COLUMN %s", tt->q, b.data);
                buf_release(&b);
            } else {
                char what[512];
                snprintf(what, sizeof(what), "the values of column %s.%s", tt->name, tc->name);
                gen_emit(p, GEN_PART_TX, "drop column", what, "ALTER TABLE %s DROP COLUMN %s", tt->q, tc->q);
            }
            touch(c, tt->name);
            continue;
        }
        int type_changed = strcmp(fc->type, tc->type) || !streq(fc->collate, tc->collate);
        int enum_rebuilt = 0;
        const gen_obj *fe = gen_find_obj(c->from, 'e', fc->type);
        const gen_obj *te = gen_find_obj(c->to, 'e', tc->type);
        if (fe && te && !strcmp(fc->type, tc->type))
            enum_rebuilt = 1; /* handled by plan_enums */
        if (type_changed && !enum_rebuilt) {
            if (fc->dflt)
                gen_emit(p, GEN_PART_TX, "alter column", NULL, "ALTER TABLE %s ALTER COLUMN %s DROP DEFAULT",
                         tt->q, tc->q);
            char what[512];
            snprintf(what, sizeof(what), "values of %s.%s that do not fit %s", tt->name, tc->name, tc->type);
            /* a collation keeps every value: only the type can lose some */
            int safe = !strcmp(fc->type, tc->type) || widening(fc->type, tc->type);
            buf use;
            buf_init(&use);
            if (zone_change(fc->type, tc->type)) {
                /* timestamp <-> timestamptz at UTC: not in the session's
                   TimeZone, which differs between databases */
                buf_addf(&use, " USING %s AT TIME ZONE 'UTC'", tc->q);
                safe = 1;
            } else if (cut_by_cast(tc->type) && !te) {
                /* no USING: PostgreSQL's assignment stops at a longer
                   value -- but cuts one whose excess is blanks, and
                   character(n) drops every value's trailing blanks: the
                   guard stops the migration on those instead */
                blank_guard(p, fc, tc, tt);
                safe = 1;
            } else {
                buf_addf(&use, " USING %s%s%s", tc->q, te && !fe ? "::text::" : "::", tc->type);
            }
            if (use.oom)
                p->oom = 1;
            gen_emit(p, GEN_PART_TX, "alter column type", safe ? NULL : what,
                     "ALTER TABLE %s ALTER COLUMN %s TYPE %s%s%s%s", tt->q, tc->q, tc->type,
                     tc->collate ? " COLLATE " : "", tc->collate ? tc->collate : "",
                     use.data ? use.data : "");
            buf_release(&use);
            if (!p->oom && !tc->collate && !fc->collate && no_rewrite(fc->type, tc->type))
                p->s[p->n - 1].lint_ignore = "alter-column-type -- a longer limit: no table rewrite";
            if (tc->dflt)
                gen_emit(p, GEN_PART_TX, "alter column", NULL,
                         "ALTER TABLE %s ALTER COLUMN %s SET DEFAULT %s", tt->q, tc->q, tc->dflt);
            touch(c, tt->name);
        } else if (!dflt_same(c, fc->dflt, tc->dflt)) {
            if (tc->dflt)
                gen_emit(p, GEN_PART_TX, "alter column", NULL,
                         "ALTER TABLE %s ALTER COLUMN %s SET DEFAULT %s", tt->q, tc->q, tc->dflt);
            else
                gen_emit(p, GEN_PART_TX, "alter column", NULL, "ALTER TABLE %s ALTER COLUMN %s DROP DEFAULT",
                         tt->q, tc->q);
        }
        int carried = 0; /* its position kept (keep_position) */
        /* a serial's sequence that goes, now that no default uses it (before an
           identity is added: pg_get_serial_sequence would find it) */
        for (size_t i = 0; i < c->from->no; i++) {
            const gen_obj *s = &c->from->o[i];
            const gen_table *ot;
            const gen_col *oc;
            if (s->kind == 's' && seq_owner(c, s, &ot, &oc) && ot == ft && oc == fc &&
                !gen_find_obj(c->to, 's', s->name) && !seq_renamed_to(c, s)) {
                if (tc->identity && !fc->identity) { /* the identity taking over goes on from it */
                    buf rc;
                    buf_init(&rc);
                    buf_add_sqlstr(&rc, s->q);
                    buf_adds(&rc, "::regclass");
                    keep_position(c, tt, tc, rc.data ? rc.data : "NULL");
                    buf_release(&rc);
                    carried = 1;
                }
                gen_emit(p, GEN_PART_TX, "drop sequence", NULL, "DROP SEQUENCE %s", s->q);
            }
        }
        if (fc->identity != tc->identity) {
            if (!tc->identity) {
                /* dropped before the new sequences */
            } else if (!fc->identity) {
                /* PostgreSQL adds an identity only to a NOT NULL column */
                if (!fc->notnull)
                    gen_emit(p, GEN_PART_TX, "alter column", NULL,
                             "ALTER TABLE %s ALTER COLUMN %s SET NOT NULL", tt->q, tc->q);
                /* the identity's sequence starts at 1: past the rows' values */
                gen_emit(p, GEN_PART_TX, "alter column", NULL,
                         "ALTER TABLE %s ALTER COLUMN %s ADD GENERATED %s AS IDENTITY", tt->q, tc->q,
                         tc->identity == 'a' ? "ALWAYS" : "BY DEFAULT");
                buf lit;
                buf_init(&lit);
                buf_add_sqlstr(&lit, tt->q);
                buf_adds(&lit, ", ");
                buf_add_sqlstr(&lit, tc->q);
                char pos[64];
                buf e;
                buf_init(&e);
                if (carried)
                    position_name(pos, sizeof(pos), c, tt, tc);
                position_expr(&e, carried ? pos : NULL, 0, tc->q);
                gen_emit(p, GEN_PART_TX, "set identity start", NULL,
                         "SELECT setval(pg_get_serial_sequence(%s), %s) FROM %s HAVING %s >= 1",
                         lit.data ? lit.data : "", e.data ? e.data : "", tt->q, e.data ? e.data : "");
                buf_release(&lit);
                buf_release(&e);
            } else
                gen_emit(p, GEN_PART_TX, "alter column", NULL,
                         "ALTER TABLE %s ALTER COLUMN %s SET GENERATED %s", tt->q, tc->q,
                         tc->identity == 'a' ? "ALWAYS" : "BY DEFAULT");
        }
        if (fc->notnull != tc->notnull && !(tc->identity && !fc->identity && tc->notnull)) {
            /* made NOT NULL with a default: the rows holding NULL take
               the default first (SET NOT NULL would fail on them; the
               proof, on empty tables, cannot see it) */
            if (tc->notnull && tc->dflt && !tc->gen && !tc->identity)
                gen_emit(p, GEN_PART_TX, "fill nulls", NULL, "UPDATE %s SET %s = DEFAULT WHERE %s IS NULL",
                         tt->q, tc->q, tc->q);
            if (tc->notnull)
                gen_emit(p, GEN_PART_TX, "alter column", NULL, "ALTER TABLE %s ALTER COLUMN %s SET NOT NULL",
                         tt->q, tc->q);
            else
                gen_emit(p, GEN_PART_TX, "alter column", NULL, "ALTER TABLE %s ALTER COLUMN %s DROP NOT NULL",
                         tt->q, tc->q);
        }
    }
    for (size_t k = 0; k < tt->ncols; k++) {
        const gen_col *tc = &tt->cols[k];
        const gen_col *fc = from_col(c, ft, tc->name);
        if (fc && (gen_rebuilt(c, ft, tt, fc, tc) || (!fc->gen && tc->gen))) {
            buf b;
            buf_init(&b);
            col_def(&b, tc);
            gen_emit(p, GEN_PART_TX, "add column", NULL, "ALTER TABLE %s ADD COLUMN %s", tt->q, b.data);
            buf_release(&b);
        }
    }
}

/*
 * UNLOGGED and row level security of every table: set after CREATE TABLE
 * for a new one (UNLOGGED in it), changed on a kept one. SET LOGGED /
 * UNLOGGED rewrites the table, rows kept.
 */
static void plan_table_options(ctx *c)
{
    for (size_t i = 0; i < c->to->nt; i++) {
        const gen_table *tt = &c->to->t[i];
        const gen_table *ft = from_table(c, tt->name);
        if (ft && ft->unlogged != tt->unlogged)
            gen_emit(c->p, GEN_PART_TX, "alter table", NULL, "ALTER TABLE %s SET %s", tt->q,
                     tt->unlogged ? "UNLOGGED" : "LOGGED");
        int was = ft ? ft->rls : 0;
        if ((was & 1) != (tt->rls & 1))
            gen_emit(c->p, GEN_PART_TX, "alter table", NULL, "ALTER TABLE %s %s ROW LEVEL SECURITY", tt->q,
                     tt->rls & 1 ? "ENABLE" : "DISABLE");
        if ((was & 2) != (tt->rls & 2))
            gen_emit(c->p, GEN_PART_TX, "alter table", NULL, "ALTER TABLE %s %sFORCE ROW LEVEL SECURITY",
                     tt->q, tt->rls & 2 ? "" : "NO ");
    }
}

static void comment(gen_plan *p, const char *what, const char *b)
{
    buf s;
    buf_init(&s);
    if (b)
        buf_add_sqlstr(&s, b);
    else
        buf_adds(&s, "NULL");
    gen_emit(p, GEN_PART_TX, "comment", NULL, "COMMENT ON %s IS %s", what, s.data);
    buf_release(&s);
}

static void plan_comments(ctx *c)
{
    for (size_t i = 0; i < c->to->nt; i++) {
        const gen_table *tt = &c->to->t[i];
        const gen_table *ft = from_table(c, tt->name);
        char what[600];
        if (!streq(ft ? ft->comment : NULL, tt->comment)) {
            snprintf(what, sizeof(what), "TABLE %s", tt->q);
            comment(c->p, what, tt->comment);
        }
        for (size_t k = 0; k < tt->ncols; k++) {
            const gen_col *tc = &tt->cols[k];
            const gen_col *fc = ft ? from_col(c, ft, tc->name) : NULL;
            /* a column dropped and added again lost its comment */
            int readded = fc && (gen_rebuilt(c, ft, tt, fc, tc) || !streq(fc->gen, tc->gen));
            if (!streq(fc && !readded ? fc->comment : NULL, tc->comment)) {
                snprintf(what, sizeof(what), "COLUMN %s.%s", tt->q, tc->q);
                comment(c->p, what, tc->comment);
            }
        }
    }
}

/* A unique constraint added to a table that has rows, in the plain form an
   index can carry, "UNIQUE [NULLS NOT DISTINCT] (cols)" (*cols points at
   the list): its index is built CONCURRENTLY in the no-transaction part and
   then attached (ADD CONSTRAINT ... UNIQUE USING INDEX), as lint asks, not
   built under the table's lock in the transaction. */
static int unique_late(const ctx *c, const gen_item *it, const char **cols, int *nnd)
{
    if (it->kind != 'u' || c->o->down || c->o->no_concurrently || strncmp(it->def, "UNIQUE ", 7))
        return 0;
    const char *d = it->def + 7;
    *nnd = !strncmp(d, "NULLS NOT DISTINCT ", 19);
    if (*nnd)
        d += 19;
    const char *e = strchr(d, ')');
    if (*d != '(' || !e || e[1]) /* INCLUDE, WITH, DEFERRABLE ...: as it is, in the transaction */
        return 0;
    *cols = d;
    return 1;
}

/* A CHECK or FOREIGN KEY on a table that has rows: added NOT VALID in the
   transaction (a short lock), validated in the no-transaction part after it
   (VALIDATE takes a lock that lets writes go on). */
static void add_constraint(ctx *c, const gen_table *tt, const gen_item *it, const char *kind, int existing)
{
    const char *cols;
    int nnd;
    if (existing && unique_late(c, it, &cols, &nnd)) {
        gen_emit(c->p, GEN_PART_POST, "create index", NULL, "CREATE UNIQUE INDEX CONCURRENTLY %s ON %s %s%s",
                 it->q, tt->q, cols, nnd ? " NULLS NOT DISTINCT" : "");
        gen_emit(c->p, GEN_PART_POST, kind, NULL, "ALTER TABLE %s ADD CONSTRAINT %s UNIQUE USING INDEX %s",
                 tt->q, it->q, it->q);
        return;
    }
    size_t l = strlen(it->def);
    int not_valid = l >= 9 && !strcmp(it->def + l - 9, "NOT VALID");
    /* --no-concurrently: nothing else goes in a no-transaction file, so no
       VALIDATE there either: the constraint is added (and checked) in the
       transaction */
    if (existing && !c->o->down && !c->o->no_concurrently && !not_valid &&
        (it->kind == 'c' || it->kind == 'f')) {
        gen_emit(c->p, GEN_PART_TX, kind, NULL, "ALTER TABLE %s ADD CONSTRAINT %s %s NOT VALID", tt->q, it->q,
                 it->def);
        gen_emit(c->p, GEN_PART_POST, "validate constraint", NULL, "ALTER TABLE %s VALIDATE CONSTRAINT %s",
                 tt->q, it->q);
        return;
    }
    gen_emit(c->p, GEN_PART_TX, kind, NULL, "ALTER TABLE %s ADD CONSTRAINT %s %s", tt->q, it->q, it->def);
}

/* 1 when foreign key `it` (of `to`) references a table that gets a unique
   index built CONCURRENTLY in the no-transaction part: the index its key
   may need does not exist before then. */
static int fk_waits_for_index(const ctx *c, const gen_item *it)
{
    const gen_table *rt = fk_target(c->to, it);
    const gen_table *rf = rt ? from_table(c, rt->name) : NULL;
    if (!rf || c->o->down || c->o->no_concurrently)
        return 0;
    for (size_t k = 0; k < rt->nitems; k++) {
        const gen_item *ix = &rt->items[k];
        const char *cols;
        int nnd;
        if (((ix->kind == 'i' && !strncmp(ix->def, "CREATE UNIQUE", 13)) ||
             unique_late(c, ix, &cols, &nnd)) &&
            item_new(c, rf, ix))
            return 1;
    }
    return 0;
}

/* A foreign key on an existing table whose key is built CONCURRENTLY: added
   NOT VALID and validated in the no-transaction part, after the index. */
static void add_fk_late(ctx *c, const gen_table *tt, const gen_item *it)
{
    size_t l = strlen(it->def);
    int not_valid = l >= 9 && !strcmp(it->def + l - 9, "NOT VALID");
    gen_emit(c->p, GEN_PART_POST, "add foreign key", NULL, "ALTER TABLE %s ADD CONSTRAINT %s %s%s", tt->q,
             it->q, it->def, not_valid ? "" : " NOT VALID");
    if (!not_valid)
        gen_emit(c->p, GEN_PART_POST, "validate constraint", NULL, "ALTER TABLE %s VALIDATE CONSTRAINT %s",
                 tt->q, it->q);
}

/* "CREATE [UNIQUE] INDEX name ON ..." with CONCURRENTLY after INDEX. */
static void create_index(ctx *c, const gen_item *it, int concurrently)
{
    const char *at = strstr(it->def, "INDEX ");
    if (concurrently && at)
        gen_emit(c->p, GEN_PART_POST, "create index", NULL, "%.*sINDEX CONCURRENTLY %s", (int)(at - it->def),
                 it->def, at + 6);
    else
        gen_emit(c->p, GEN_PART_TX, "create index", NULL, "%s", it->def);
}

/* Dropped tables, in one statement. */
static void drop_tables(ctx *c)
{
    buf b, lost;
    buf_init(&b);
    buf_init(&lost);
    for (size_t i = 0; i < c->from->nt; i++)
        if (!gen_find_table(c->to, to_name(c, c->from->t[i].name)) &&
            !table_displaced(c, c->from->t[i].name)) {
            buf_addf(&b, "%s%s", b.len ? ", " : "", c->from->t[i].q);
            buf_addf(&lost, "%s%s", lost.len ? ", " : "", c->from->t[i].name);
        }
    if (b.len) {
        char what[1024];
        snprintf(what, sizeof(what), "every row of %s", lost.data);
        gen_emit(c->p, GEN_PART_TX, "drop table", what, "DROP TABLE %s", b.data);
    }
    buf_release(&b);
    buf_release(&lost);
}

strata_code pg_gen_plan(const gen_model *from, const gen_model *to, const gen_opts *o, gen_plan *p,
                        strata_error *err)
{
    ctx c = {from, to, o, p, NULL, 0, 0, NULL, NULL, 0, 0, 0};

    /* renames first: every later step speaks of the new names */
    for (size_t i = 0; i < o->nrenames; i++) {
        const gen_rename *r = &o->renames[i];
        buf a, b, t;
        buf_init(&a);
        buf_init(&b);
        buf_init(&t);
        buf_add_quoted_ident(&a, r->from);
        buf_add_quoted_ident(&b, r->to);
        if (r->table) {
            const gen_table *ft = gen_find_table(from, r->table);
            buf_add_quoted_ident(&t, to_name(&c, r->table));
            if (!ft || !gen_find_col(ft, r->from)) {
                buf_release(&a);
                buf_release(&b);
                buf_release(&t);
                return err_set(err, STRATA_USAGE, "--rename %s.%s:%s: the start has no such column", r->table,
                               r->from, r->to);
            }
            if (col_displaced(&c, r->table, r->to)) {
                /* what mentions it first (DROP COLUMN would take it along
                   unseen), then the column */
                for (size_t k = 0; k < ft->nitems; k++)
                    if (gen_mentions(ft->items[k].def, r->to))
                        drop_item(p, t.data, &ft->items[k]);
                char what[512];
                snprintf(what, sizeof(what), "the values of column %s.%s (--rename %s.%s:%s takes its name)",
                         r->table, r->to, r->table, r->from, r->to);
                gen_emit(p, GEN_PART_TX, "drop column", what, "ALTER TABLE %s DROP COLUMN %s", t.data,
                         b.data);
            }
            gen_emit(p, GEN_PART_TX, "rename column", NULL, "ALTER TABLE %s RENAME COLUMN %s TO %s", t.data,
                     a.data, b.data);
            touch(&c, to_name(&c, r->table));
        } else {
            if (!gen_find_table(from, r->from)) {
                buf_release(&a);
                buf_release(&b);
                buf_release(&t);
                return err_set(err, STRATA_USAGE, "--rename %s:%s: the start has no such table", r->from,
                               r->to);
            }
            if (table_displaced(&c, r->to)) {
                char what[512];
                snprintf(what, sizeof(what), "every row of %s (--rename %s:%s takes its name)", r->to,
                         r->from, r->to);
                gen_emit(p, GEN_PART_TX, "drop table", what, "DROP TABLE %s", b.data);
            }
            gen_emit(p, GEN_PART_TX, "rename table", NULL, "ALTER TABLE %s RENAME TO %s", a.data, b.data);
            touch(&c, r->to);
        }
        buf_release(&a);
        buf_release(&b);
        buf_release(&t);
    }

    /* constraints and indexes of a renamed table (or of renamed columns)
       whose name follows the table's: renamed, not dropped and built again */
    for (size_t i = 0; i < from->nt; i++) {
        const gen_table *ft = &from->t[i];
        const gen_table *tt = gen_find_table(to, to_name(&c, ft->name));
        int renamed = tt && strcmp(ft->name, tt->name);
        for (size_t r = 0; tt && !renamed && r < o->nrenames; r++)
            renamed = o->renames[r].table && !strcmp(o->renames[r].table, ft->name);
        for (size_t k = 0; renamed && k < ft->nitems; k++) {
            const gen_item *it = &ft->items[k];
            if (it->kind == 't' || it->kind == 'l' || to_item(tt, it))
                continue;
            for (size_t j = 0; j < tt->nitems; j++) {
                const gen_item *ti = &tt->items[j];
                if (item_class(ti->kind) != item_class(it->kind) || to_item(ft, ti) || renamed_to(&c, ti) ||
                    !same_def(&c, ft->name, it, ti))
                    continue;
                if (ARR_GROW(c.ren_from, c.capren, c.nren + 1) || ARR_GROW(c.ren_to, c.capren2, c.nren + 1)) {
                    p->oom = 1;
                    break;
                }
                c.ren_from[c.nren] = it;
                c.ren_to[c.nren++] = ti;
                if (it->kind == 'i')
                    gen_emit(p, GEN_PART_TX, "rename index", NULL, "ALTER INDEX %s RENAME TO %s", it->q,
                             ti->q);
                else
                    gen_emit(p, GEN_PART_TX, "rename constraint", NULL,
                             "ALTER TABLE %s RENAME CONSTRAINT %s TO %s", tt->q, it->q, ti->q);
                break;
            }
        }
    }

    /* sequences owned by a renamed column keep their rows: renamed too */
    for (size_t i = 0; i < from->no; i++) {
        const gen_obj *ts = seq_renamed_to(&c, &from->o[i]);
        if (ts)
            gen_emit(p, GEN_PART_TX, "rename sequence", NULL, "ALTER SEQUENCE %s RENAME TO %s", from->o[i].q,
                     ts->q);
    }

    /* extensions */
    for (size_t i = 0; i < to->no; i++)
        if (to->o[i].kind == 'x' && !gen_find_obj(from, 'x', to->o[i].name))
            gen_emit(p, GEN_PART_TX, "create extension", NULL, "CREATE EXTENSION IF NOT EXISTS %s",
                     to->o[i].q);

    /* tables whose columns change: their views are rebuilt */
    for (size_t i = 0; i < to->nt; i++) {
        const gen_table *tt = &to->t[i];
        const gen_table *ft = from_table(&c, tt->name);
        if (!ft)
            continue;
        int differs = ft->ncols != tt->ncols;
        for (size_t k = 0; !differs && k < tt->ncols; k++) {
            const gen_col *fc = &ft->cols[k], *tc = &tt->cols[k];
            differs = strcmp(col_to_name(&c, ft->name, fc->name), tc->name) || strcmp(fc->type, tc->type) ||
                      !streq(fc->gen, tc->gen) || !streq(fc->collate, tc->collate);
        }
        if (differs)
            touch(&c, tt->name);
    }
    for (size_t i = 0; i < from->nt; i++)
        if (!gen_find_table(to, to_name(&c, from->t[i].name)))
            touch(&c, from->t[i].name);
    for (size_t i = 0; i < from->no; i++) { /* columns of a rebuilt enum */
        const gen_obj *fe = &from->o[i], *te;
        if (fe->kind != 'e' || !(te = gen_find_obj(to, 'e', fe->name)) || enum_adds_only(fe, te))
            continue;
        for (size_t t = 0; t < from->nt; t++)
            for (size_t k = 0; k < from->t[t].ncols; k++)
                if (col_uses_type(&from->t[t].cols[k], fe))
                    touch(&c, to_name(&c, from->t[t].name));
    }

    /* views that go (one statement: they may depend on each other) */
    int *vdrop = views_to_rebuild(&c);
    if (vdrop) {
        buf b;
        buf_init(&b);
        for (size_t i = 0; i < from->no; i++)
            if (vdrop[i])
                buf_addf(&b, "%s%s", b.len ? ", " : "", from->o[i].q);
        if (b.len)
            gen_emit(p, GEN_PART_TX, "drop view", NULL, "DROP VIEW %s", b.data);
        buf_release(&b);
    }

    /* constraints and indexes that go or change: foreign keys first, then
       the dropped tables (their foreign keys may use a unique constraint
       that goes), then the rest */
    for (int pass = 0; pass < 2; pass++) {
        if (pass == 1)
            drop_tables(&c);
        for (size_t i = 0; i < from->nt; i++) {
            const gen_table *ft = &from->t[i];
            const gen_table *tt = gen_find_table(to, to_name(&c, ft->name));
            if (!tt)
                continue;
            for (size_t k = 0; k < ft->nitems; k++) {
                const gen_item *it = &ft->items[k];
                if ((pass == 0) != is_fk(it))
                    continue;
                const gen_item *ti = to_item(tt, it);
                if (renamed_from(&c, it) || on_displaced_col(&c, ft, it) ||
                    (ti && same_def(&c, ft->name, it, ti) && !policy_rebuilt(&c, it) && !fk_rebuilt(&c, it) &&
                     !on_rebuilt_col(&c, ft, it)))
                    continue;
                drop_item(p, tt->q, it);
            }
        }
    }
    /* foreign keys of dropped tables that point at kept ones are dropped with them */

    plan_enums(&c);

    /* functions, new or changed (CREATE OR REPLACE), before the tables that may use them */
    for (size_t i = 0; i < to->no; i++) {
        const gen_obj *f = &to->o[i], *was;
        if (f->kind != 'f' || ((was = gen_find_obj(from, 'f', f->name)) && !strcmp(was->def, f->def)))
            continue;
        /* CREATE OR REPLACE cannot change the result type, argument names
           or defaults: dropped first (the views that read it were dropped
           above and are created again below; anything else that depends
           on it fails the drop, and the proof shows it) */
        if ((was = recreated_function(&c, f)))
            gen_emit(p, GEN_PART_TX, "drop function", NULL, "DROP %s", was->q);
        gen_emit(p, GEN_PART_TX, "create function", NULL, "%s", f->def);
    }

    /* identities that go, before new sequences (a serial's may take the
       identity sequence's name) and defaults (not allowed beside one) */
    for (size_t i = 0; i < to->nt; i++) {
        const gen_table *tt = &to->t[i];
        const gen_table *ft = from_table(&c, tt->name);
        for (size_t k = 0; ft && k < tt->ncols; k++) {
            const gen_col *fc = from_col(&c, ft, tt->cols[k].name);
            if (fc && identity_dropped(fc, &tt->cols[k])) {
                /* a serial taking over goes on from its position (seq_past_rows) */
                buf rc;
                buf_init(&rc);
                buf_adds(&rc, "pg_get_serial_sequence(");
                buf_add_sqlstr(&rc, tt->q);
                buf_adds(&rc, ", ");
                buf_add_sqlstr(&rc, tt->cols[k].q);
                buf_adds(&rc, ")::regclass");
                keep_position(&c, tt, &tt->cols[k], rc.data ? rc.data : "NULL");
                buf_release(&rc);
                gen_emit(p, GEN_PART_TX, "alter column", NULL, "ALTER TABLE %s ALTER COLUMN %s DROP IDENTITY",
                         tt->q, tt->cols[k].q);
            }
        }
    }

    /* new sequences, then new tables */
    for (size_t i = 0; i < to->no; i++)
        if (to->o[i].kind == 's' && !seq_from(&c, &to->o[i]))
            gen_emit(p, GEN_PART_TX, "create sequence", NULL, "CREATE SEQUENCE %s %s", to->o[i].q,
                     to->o[i].def);
    for (size_t i = 0; i < to->nt; i++) {
        const gen_table *tt = &to->t[i];
        if (from_table(&c, tt->name))
            continue;
        buf b;
        buf_init(&b);
        buf_addf(&b, "CREATE %sTABLE %s (", tt->unlogged ? "UNLOGGED " : "", tt->q);
        for (size_t k = 0; k < tt->ncols; k++) {
            buf_adds(&b, k ? ",\n    " : "\n    ");
            col_def(&b, &tt->cols[k]);
        }
        for (size_t k = 0; k < tt->nitems; k++) {
            const gen_item *it = &tt->items[k];
            if (item_apart(it))
                continue;
            buf_addf(&b, "%sCONSTRAINT %s %s", tt->ncols || k ? ",\n    " : "\n    ", it->q, it->def);
        }
        buf_adds(&b, "\n)");
        gen_emit(p, GEN_PART_TX, "create table", NULL, "%s", b.data ? b.data : "");
        buf_release(&b);
    }

    /* columns of kept tables */
    for (size_t i = 0; i < to->nt; i++) {
        const gen_table *tt = &to->t[i];
        const gen_table *ft = from_table(&c, tt->name);
        if (ft)
            plan_columns(&c, ft, tt);
    }
    plan_table_options(&c);

    /* sequences that change */
    for (size_t i = 0; i < to->no; i++) {
        const gen_obj *s = &to->o[i];
        if (s->kind != 's')
            continue;
        const gen_obj *f = seq_from(&c, s);
        if (f && strcmp(f->def, s->def))
            gen_emit(p, GEN_PART_TX, "alter sequence", NULL, "ALTER SEQUENCE %s %s", s->q, s->def);
        if (!(f && seq_renamed_to(&c, f) == s) && !streq(f ? f->owned : NULL, s->owned))
            gen_emit(p, GEN_PART_TX, "alter sequence", NULL, "ALTER SEQUENCE %s OWNED BY %s", s->q,
                     s->owned ? s->owned : "NONE");
        if (!f)
            seq_past_rows(&c, s);
    }
    /* dropped sequences, once no default uses them (owned ones go with their
       column or table, or are dropped with the column's default) */
    for (size_t i = 0; i < from->no; i++) {
        const gen_obj *s = &from->o[i];
        const gen_table *ot;
        const gen_col *oc;
        if (s->kind == 's' && !gen_find_obj(to, 's', s->name) && !seq_owner(&c, s, &ot, &oc) &&
            !seq_renamed_to(&c, s)) {
            /* a standalone sequence holds state of its own: where its
               numbering is (a down makes it again past the values drawn) */
            char what[600];
            snprintf(what, sizeof(what), "the position of sequence %s", s->name);
            gen_emit(p, GEN_PART_TX, "drop sequence", what, "DROP SEQUENCE %s", s->q);
        }
    }

    /* constraints of kept tables, indexes, then every new foreign key */
    for (size_t i = 0; i < to->nt; i++) {
        const gen_table *tt = &to->t[i];
        const gen_table *ft = from_table(&c, tt->name);
        if (!ft)
            continue;
        for (size_t k = 0; k < tt->nitems; k++) {
            const gen_item *it = &tt->items[k];
            if (!item_apart(it) && item_new(&c, ft, it))
                add_constraint(&c, tt, it, "add constraint", 1);
        }
    }
    for (size_t i = 0; i < to->nt; i++) {
        const gen_table *tt = &to->t[i];
        const gen_table *ft = from_table(&c, tt->name);
        for (size_t k = 0; k < tt->nitems; k++) {
            const gen_item *it = &tt->items[k];
            if (it->kind == 'i' && item_new(&c, ft, it))
                create_index(&c, it, ft && !o->down && !o->no_concurrently);
        }
    }
    for (size_t i = 0; i < to->nt; i++) {
        const gen_table *tt = &to->t[i];
        const gen_table *ft = from_table(&c, tt->name);
        for (size_t k = 0; k < tt->nitems; k++) {
            const gen_item *it = &tt->items[k];
            const gen_item *was = ft && !renamed_to(&c, it) ? to_item(ft, it) : NULL;
            if (it->kind != 'f' || !(item_new(&c, ft, it) || (was && fk_rebuilt(&c, was))))
                continue;
            if (ft && fk_waits_for_index(&c, it))
                add_fk_late(&c, tt, it);
            else
                add_constraint(&c, tt, it, "add foreign key", ft != NULL);
        }
    }

    create_views(&c, vdrop);
    free(vdrop);
    for (size_t i = 0; i < to->nt; i++) {
        const gen_table *tt = &to->t[i];
        const gen_table *ft = from_table(&c, tt->name);
        for (size_t k = 0; k < tt->nitems; k++) {
            const gen_item *it = &tt->items[k];
            if (it->kind == 't' && item_new(&c, ft, it))
                gen_emit(p, GEN_PART_TX, "create trigger", NULL, "%s", it->def);
            else if (it->kind == 'l' && (item_new(&c, ft, it) || (ft && policy_rebuilt(&c, it))))
                gen_emit(p, GEN_PART_TX, "create policy", NULL, "%s", it->def);
        }
    }
    plan_comments(&c);
    for (size_t i = 0; i < from->no; i++)
        if (from->o[i].kind == 'f' && !gen_find_obj(to, 'f', from->o[i].name))
            gen_emit(p, GEN_PART_TX, "drop function", NULL, "DROP %s", from->o[i].q);

    /* types and extensions that go, last */
    for (size_t i = 0; i < from->no; i++)
        if (from->o[i].kind == 'e' && !gen_find_obj(to, 'e', from->o[i].name))
            gen_emit(p, GEN_PART_TX, "drop type", NULL, "DROP TYPE %s", from->o[i].q);
    for (size_t i = 0; i < from->no; i++)
        if (from->o[i].kind == 'x' && !gen_find_obj(to, 'x', from->o[i].name))
            gen_emit(p, GEN_PART_TX, "drop extension", NULL, "DROP EXTENSION %s", from->o[i].q);

    free(c.touched);
    free(c.ren_from);
    free(c.ren_to);
    if (p->oom)
        return err_set(err, STRATA_NOMEM, "out of memory");
    return STRATA_OK;
}
