/* test_lint.c -- the tokenizer and every lint rule, firing and not firing. */
#include "internal.h"
#include "unit.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ------------------------------------------------------------ tokenizer */

/* "KIND:text KIND:text ..." for the tokens of sql (W word, Q quoted,
   S string, N number, P param, . punct, C comment). */
static void tokens(const char *sql, int dialect, int comments, char *out, size_t outsz)
{
    static const char kinds[] = "?WQSNP.C";
    size_t pos = 0, k = 0, len = strlen(sql);
    int line = 1;
    sql_token t;
    out[0] = 0;
    while (sql_token_next(sql, len, &pos, &line, dialect, comments, &t) != SQLTOK_END)
        k += (size_t)snprintf(out + k, outsz - k, "%s%c:%.*s", k ? " " : "", kinds[t.kind], (int)t.len,
                              t.text);
}

static void tokenizer(void)
{
    char out[1024];
    tokens("ALTER TABLE \"My T\" ADD x int DEFAULT 'a''b';", DIALECT_POSTGRES, 0, out, sizeof(out));
    CHECK_STR(out, "W:ALTER W:TABLE Q:\"My T\" W:ADD W:x W:int W:DEFAULT S:'a''b' .:;");
    tokens("SELECT $$ DROP TABLE t; $$, $f$ x $$ y $f$, E'it\\'s DROP', $1::int -- DROP\n/* DROP /* x */ */ 1.5e-3",
           DIALECT_POSTGRES, 0, out, sizeof(out));
    CHECK_STR(out, "W:SELECT S:$$ DROP TABLE t; $$ .:, S:$f$ x $$ y $f$ .:, S:E'it\\'s DROP' .:, P:$1 .::: W:int N:1.5e-3");
    tokens("a -- c1\n/* c2 */ b", DIALECT_POSTGRES, 1, out, sizeof(out));
    CHECK_STR(out, "W:a C:-- c1 C:/* c2 */ W:b");
    /* SQLite: `x`, [x] are identifiers, $x a parameter, no nested comments */
    tokens("[a b] `c` $v :n ?1 @p /* /* */ d", DIALECT_SQLITE, 0, out, sizeof(out));
    CHECK_STR(out, "Q:[a b] Q:`c` P:$v P::n P:?1 P:@p W:d");
    /* lines */
    size_t pos = 0;
    int line = 1;
    sql_token t;
    const char *s = "a\n'x\ny'\n\n$$\n$$ b";
    CHECK_INT(sql_token_next(s, strlen(s), &pos, &line, DIALECT_POSTGRES, 0, &t), SQLTOK_WORD);
    CHECK_INT(t.line, 1);
    CHECK_INT(sql_token_next(s, strlen(s), &pos, &line, DIALECT_POSTGRES, 0, &t), SQLTOK_STRING);
    CHECK_INT(t.line, 2);
    CHECK_INT(sql_token_next(s, strlen(s), &pos, &line, DIALECT_POSTGRES, 0, &t), SQLTOK_STRING);
    CHECK_INT(t.line, 5);
    CHECK_INT(sql_token_next(s, strlen(s), &pos, &line, DIALECT_POSTGRES, 0, &t), SQLTOK_WORD);
    CHECK_INT(t.line, 6);
    CHECK_INT(sql_token_next(s, strlen(s), &pos, &line, DIALECT_POSTGRES, 0, &t), SQLTOK_END);
    /* unterminated things end at the end */
    tokens("'abc", DIALECT_POSTGRES, 0, out, sizeof(out));
    CHECK_STR(out, "S:'abc");
    tokens("$$ abc", DIALECT_POSTGRES, 0, out, sizeof(out));
    CHECK_STR(out, "S:$$ abc");
    tokens("/* abc", DIALECT_POSTGRES, 1, out, sizeof(out));
    CHECK_STR(out, "C:/* abc");
}

/* ------------------------------------------------------------ helpers */

/* Lints the files (name, text pairs, NULL-terminated) with dialect;
   returns "VERSION:rule@line ..." in report order (malloc'd), or
   "ERROR CODE". *rep_out, when given, receives the report. */
static char *lint_files(const char *dialect, const char *const *files, strata_lint_report **rep_out)
{
    char *dir = tmpdir_new();
    for (size_t i = 0; files[i]; i += 2)
        write_file(dir, files[i], files[i + 1]);
    strata_migset *set = NULL;
    strata_lint_report *rep = NULL;
    strata_error err;
    char *out = malloc(8192);
    size_t k = 0;
    out[0] = 0;
    if (strata_migset_load(dir, &set, &err) != STRATA_OK ||
        strata_lint(set, dialect, &rep, &err) != STRATA_OK) {
        snprintf(out, 8192, "ERROR %s", strata_code_name(err.code));
    } else {
        for (size_t i = 0; i < rep->count; i++)
            k += (size_t)snprintf(out + k, 8192 - k, "%s%s:%s@%d", k ? " " : "", rep->findings[i].version,
                                  rep->findings[i].rule, rep->findings[i].line);
    }
    if (rep_out)
        *rep_out = rep;
    else
        strata_lint_report_free(rep);
    strata_migset_free(set);
    tmpdir_free(dir);
    return out;
}

/* One file 0001_m.sql; the result without the "0001:" prefixes. */
static char *lint1(const char *dialect, const char *text)
{
    const char *files[] = {"0001_m.sql", text, NULL};
    char *s = lint_files(dialect, files, NULL);
    char *w = s;
    for (char *r = s; *r;) {
        if (!strncmp(r, "0001:", 5))
            r += 5;
        else
            *w++ = *r++;
    }
    *w = 0;
    return s;
}

static void expect1(const char *file, int line, const char *dialect, const char *text, const char *want)
{
    char *got = lint1(dialect, text);
    unit_check_str(file, line, got, want, "lint", want);
    free(got);
}
/* EXPECT_PG(up section SQL, findings) etc.: the SQL is the body of an up
   section that starts on line 2, followed by an empty down section. */
#define UP(sql) "-- strata:up\n" sql "\n-- strata:down\n"
#define EXPECT(dialect, text, want) expect1(__FILE__, __LINE__, dialect, text, want)
#define EXPECT_PG(sql, want) EXPECT("postgres", UP(sql), want)
#define EXPECT_SQLITE(sql, want) EXPECT("sqlite", UP(sql), want)
#define NOTX(sql) "-- strata:up no-transaction\n" sql "\n-- strata:down\n"

/* ------------------------------------------------------------ PostgreSQL */

static void index_rules(void)
{
    EXPECT_PG("CREATE INDEX ix ON orders (a);", "index-not-concurrent@2");
    EXPECT_PG("create unique index if not exists ix on public.orders using btree (a);",
              "index-not-concurrent@2");
    EXPECT_PG("CREATE INDEX ON orders (a);", "index-not-concurrent@2");
    /* a table created earlier in the same section is new and empty */
    EXPECT_PG("CREATE TABLE orders (id int);\nCREATE INDEX ix ON orders (id);", "");
    EXPECT_PG("CREATE TABLE public.orders (id int);\nCREATE INDEX ON \"orders\" (id);", "");
    EXPECT_PG("CREATE UNLOGGED TABLE IF NOT EXISTS t (id int);\nCREATE INDEX i ON t (id);", "");
    EXPECT_PG("CREATE TABLE t_new (id int);\nALTER TABLE t_new RENAME TO t;\nCREATE INDEX i ON t (id);", "");
    EXPECT_PG("CREATE MATERIALIZED VIEW mv AS SELECT 1 AS a;\nCREATE INDEX i ON mv (a);", "");
    /* ... but not one created after the index, nor another one */
    EXPECT_PG("CREATE INDEX ix ON orders (id);\nCREATE TABLE orders2 (id int);", "index-not-concurrent@2");
    /* CONCURRENTLY in a no-transaction section is the safe form */
    EXPECT("postgres", NOTX("CREATE INDEX CONCURRENTLY IF NOT EXISTS ix ON orders (a);"), "");
    /* ON ONLY a partitioned parent builds nothing */
    EXPECT_PG("CREATE INDEX ix ON ONLY measurements (a);", "");
    /* down sections get only the rules about failing statements */
    EXPECT("postgres", "-- strata:up\nDROP INDEX ix;\n-- strata:down\nCREATE INDEX ix ON orders (a);\n", "");
    /* not a SQLite rule */
    EXPECT_SQLITE("CREATE INDEX ix ON orders (a);", "");

    /* tables created by earlier migrations exist; IF NOT EXISTS then creates nothing */
    const char *files[] = {
        "0001_a.sql", "-- strata:up\nCREATE TABLE users (id int);\n-- strata:down\nDROP TABLE users;\n",
        "0002_b.sql", "-- strata:up\nCREATE INDEX i ON users (id);\n-- strata:down\nDROP INDEX i;\n",
        "0003_c.sql",
        "-- strata:up\nCREATE TABLE IF NOT EXISTS users (id int);\nCREATE INDEX j ON users (id);\n"
        "CREATE TABLE IF NOT EXISTS fresh (id int);\nCREATE INDEX k ON fresh (id);\n"
        "-- strata:down\n",
        NULL};
    char *got = lint_files("postgres", files, NULL);
    CHECK_STR(got, "0002:index-not-concurrent@2 0003:index-not-concurrent@3");
    free(got);
    /* ON ONLY: nothing on a table made with PARTITION BY; the whole index
       on one made without (a tester's; it passed) */
    const char *only[] = {
        "0001_a.sql",
        "-- strata:up\nCREATE TABLE plain (id int);\nCREATE TABLE m (id int) PARTITION BY RANGE (id);\n"
        "-- strata:down\n",
        "0002_b.sql", "-- strata:up\nCREATE INDEX i ON ONLY plain (id);\nCREATE INDEX j ON ONLY m (id);\n"
        "-- strata:down\n",
        NULL};
    got = lint_files("postgres", only, NULL);
    CHECK_STR(got, "0002:index-not-concurrent@2");
    free(got);
}

static void transaction_rules(void)
{
    EXPECT_PG("CREATE INDEX CONCURRENTLY ix ON orders (a);", "concurrently-in-transaction@2");
    /* it fails even on a new table */
    EXPECT_PG("CREATE TABLE t (a int);\nCREATE INDEX CONCURRENTLY ix ON t (a);", "concurrently-in-transaction@3");
    EXPECT_PG("REINDEX TABLE CONCURRENTLY orders;", "concurrently-in-transaction@2");
    EXPECT_PG("REINDEX (VERBOSE) INDEX CONCURRENTLY ix;", "concurrently-in-transaction@2");
    EXPECT_PG("REINDEX (CONCURRENTLY, VERBOSE) TABLE orders;", "concurrently-in-transaction@2");
    EXPECT_PG("REINDEX (CONCURRENTLY false) TABLE orders;", "");
    EXPECT_PG("REINDEX TABLE orders;", "");
    EXPECT_PG("ALTER TABLE m DETACH PARTITION m1 CONCURRENTLY;", "concurrently-in-transaction@2");
    /* down sections fail too */
    EXPECT("postgres", "-- strata:up\nSELECT 1;\n-- strata:down\n\nDROP INDEX CONCURRENTLY IF EXISTS ix;\n",
           "concurrently-in-transaction@5");
    EXPECT("postgres",
           "-- strata:up\nSELECT 1;\n-- strata:down no-transaction\nDROP INDEX CONCURRENTLY IF EXISTS ix;\n", "");
    EXPECT("postgres", NOTX("REINDEX INDEX CONCURRENTLY ix;\nVACUUM ANALYZE t;\nCLUSTER;"), "");

    EXPECT_PG("VACUUM;", "cannot-run-in-transaction@2");
    EXPECT_PG("VACUUM (ANALYZE) orders;", "cannot-run-in-transaction@2");
    EXPECT_SQLITE("VACUUM;", "cannot-run-in-transaction@2");
    /* a generic section is checked for both engines but reported once */
    EXPECT(NULL, UP("VACUUM;"), "cannot-run-in-transaction@2");
    EXPECT_PG("CLUSTER;", "cannot-run-in-transaction@2");
    EXPECT_PG("CLUSTER VERBOSE;", "cannot-run-in-transaction@2");
    EXPECT_PG("CLUSTER orders USING ix;", "");
    EXPECT_PG("REINDEX SCHEMA public;", "cannot-run-in-transaction@2");
    EXPECT_PG("REINDEX DATABASE app;", "cannot-run-in-transaction@2");
    EXPECT_PG("CREATE DATABASE other;", "cannot-run-in-transaction@2");
    EXPECT_PG("DROP TABLESPACE ts;", "cannot-run-in-transaction@2");
    EXPECT_PG("ALTER SYSTEM SET work_mem = '64MB';", "cannot-run-in-transaction@2");
    EXPECT_SQLITE("REINDEX;", "");

    EXPECT_PG("ALTER TYPE status ADD VALUE 'refunded';", "add-enum-value-in-transaction@2");
    EXPECT_PG("ALTER TYPE public.status ADD VALUE IF NOT EXISTS 'x' AFTER 'y';", "add-enum-value-in-transaction@2");
    EXPECT("postgres", NOTX("ALTER TYPE status ADD VALUE IF NOT EXISTS 'refunded';"), "");
    EXPECT_PG("ALTER TYPE status RENAME VALUE 'a' TO 'b';", "");
}

static void add_column_rules(void)
{
    EXPECT_PG("ALTER TABLE orders ADD COLUMN note text NOT NULL;", "not-null-without-default@2");
    EXPECT_PG("ALTER TABLE orders ADD note text NOT NULL DEFAULT NULL;", "not-null-without-default@2");
    EXPECT_PG("ALTER TABLE orders ADD COLUMN note text NOT NULL DEFAULT '';", "");
    EXPECT_PG("ALTER TABLE orders ADD COLUMN n int DEFAULT 0 NOT NULL;", "");
    /* an inline CHECK or REFERENCES is validated at once: a scan of every row */
    EXPECT_PG("ALTER TABLE orders ADD COLUMN n int CHECK (n IS NOT NULL);", "check-without-not-valid@2");
    EXPECT_PG("ALTER TABLE orders ADD COLUMN uid bigint REFERENCES users (id);", "foreign-key-without-not-valid@2");
    EXPECT_PG("ALTER TABLE orders ADD COLUMN uid bigint CONSTRAINT fk REFERENCES users ON DELETE CASCADE;",
              "foreign-key-without-not-valid@2");
    EXPECT_PG("CREATE TABLE orders (id int);\nALTER TABLE orders ADD COLUMN uid bigint REFERENCES users (id);", "");
    EXPECT_PG("ALTER TABLE orders ADD COLUMN n int;", "");
    EXPECT_PG("CREATE TABLE orders (id int);\nALTER TABLE orders ADD COLUMN note text NOT NULL;", "");

    /* volatile defaults rewrite; stable ones (now(), CURRENT_TIMESTAMP) do not since PG 11 */
    EXPECT_PG("ALTER TABLE orders ADD COLUMN r float8 DEFAULT random();", "volatile-default@2");
    EXPECT_PG("ALTER TABLE orders ADD COLUMN u uuid NOT NULL DEFAULT gen_random_uuid();", "volatile-default@2");
    EXPECT_PG("ALTER TABLE orders ADD COLUMN t timestamptz DEFAULT clock_timestamp();", "volatile-default@2");
    EXPECT_PG("ALTER TABLE orders ADD COLUMN n bigint DEFAULT nextval('s');", "volatile-default@2");
    EXPECT_PG("ALTER TABLE orders ADD COLUMN t text DEFAULT 'x' || (random())::text;", "volatile-default@2");
    EXPECT_PG("ALTER TABLE orders ADD COLUMN t timestamptz NOT NULL DEFAULT now();", "");
    EXPECT_PG("ALTER TABLE orders ADD COLUMN t timestamptz DEFAULT CURRENT_TIMESTAMP;", "");
    EXPECT_PG("ALTER TABLE orders ADD COLUMN t text DEFAULT 'random()';", "");
    EXPECT_PG("ALTER TABLE orders ADD COLUMN id bigserial;", "volatile-default@2");
    EXPECT_PG("ALTER TABLE orders ADD COLUMN id int NOT NULL GENERATED ALWAYS AS IDENTITY;", "volatile-default@2");
    EXPECT_PG("ALTER TABLE orders ADD COLUMN d int GENERATED ALWAYS AS (a * 2) STORED;", "volatile-default@2");
    EXPECT_PG("CREATE TABLE orders (id int);\nALTER TABLE orders ADD COLUMN u uuid DEFAULT gen_random_uuid();", "");

    EXPECT_PG("ALTER TABLE orders ADD COLUMN code text UNIQUE;", "unique-without-using-index@2");
    EXPECT_PG("ALTER TABLE orders ADD COLUMN \"unique\" text;", "");
    EXPECT_PG("ALTER TABLE orders ADD PRIMARY KEY (id);", "unique-without-using-index@2");
    EXPECT_PG("ALTER TABLE orders ADD CONSTRAINT u UNIQUE (code);", "unique-without-using-index@2");
    /* EXCLUDE builds its index under the same lock, with no USING INDEX way
       round it (lint was silent) */
    EXPECT_PG("ALTER TABLE bookings ADD CONSTRAINT no_overlap EXCLUDE USING gist (room WITH =, during WITH &&);",
              "exclude-constraint@2");
    EXPECT_PG("CREATE TABLE b (room int, during tstzrange);\n"
              "ALTER TABLE b ADD CONSTRAINT x EXCLUDE USING gist (room WITH =);",
              "");
    EXPECT_PG("ALTER TABLE orders ADD CONSTRAINT orders_pkey PRIMARY KEY USING INDEX orders_id_ix;", "");
    EXPECT_PG("CREATE TABLE o (id int);\nALTER TABLE o ADD PRIMARY KEY (id);", "");

    /* several actions: each one is checked */
    EXPECT_PG("ALTER TABLE orders\n  ADD COLUMN a int NOT NULL,\n  ADD COLUMN b float8 DEFAULT random();",
              "not-null-without-default@2 volatile-default@2");
}

static void alter_column_rules(void)
{
    EXPECT_PG("ALTER TABLE orders ALTER COLUMN total TYPE numeric(14,2);", "alter-column-type@2");
    EXPECT_PG("ALTER TABLE orders ALTER total SET DATA TYPE bigint USING total::bigint;", "alter-column-type@2");
    EXPECT_PG("ALTER TABLE orders ALTER COLUMN total SET DEFAULT 0;", "");
    EXPECT_PG("ALTER TABLE orders ALTER COLUMN total DROP NOT NULL;", "");
    EXPECT_PG("CREATE TABLE orders (total int);\nALTER TABLE orders ALTER COLUMN total TYPE bigint;", "");

    EXPECT_PG("ALTER TABLE orders ALTER COLUMN total SET NOT NULL;", "set-not-null@2");
    EXPECT_PG("CREATE TABLE orders (total int);\nALTER TABLE orders ALTER COLUMN total SET NOT NULL;", "");

    /* the safe recipe: CHECK NOT VALID, VALIDATE later, then SET NOT NULL */
    const char *files[] = {
        "0001_a.sql",
        "-- strata:up\nALTER TABLE orders ADD CONSTRAINT total_nn CHECK (total IS NOT NULL) NOT VALID;\n"
        "-- strata:down\n",
        "0002_b.sql", "-- strata:up\nALTER TABLE orders VALIDATE CONSTRAINT total_nn;\n-- strata:down\n",
        "0003_c.sql",
        "-- strata:up\nALTER TABLE orders ALTER COLUMN total SET NOT NULL;\n"
        "ALTER TABLE orders DROP CONSTRAINT total_nn;\n-- strata:down\n",
        "0004_d.sql", "-- strata:up\nALTER TABLE orders ALTER COLUMN other SET NOT NULL;\n-- strata:down\n",
        NULL};
    char *got = lint_files("postgres", files, NULL);
    CHECK_STR(got, "0004:set-not-null@2");
    free(got);
    /* all of it in one transaction holds the ADD's lock through the scan */
    EXPECT_PG("ALTER TABLE orders ADD CONSTRAINT total_nn CHECK (total IS NOT NULL) NOT VALID;\n"
              "ALTER TABLE orders VALIDATE CONSTRAINT total_nn;\n"
              "ALTER TABLE orders ALTER COLUMN total SET NOT NULL;",
              "validate-in-same-transaction@3 set-not-null@4");
    /* in a no-transaction section each statement commits on its own */
    EXPECT("postgres",
           NOTX("ALTER TABLE orders ADD CONSTRAINT total_nn CHECK (total IS NOT NULL) NOT VALID;\n"
                "ALTER TABLE orders VALIDATE CONSTRAINT total_nn;\n"
                "ALTER TABLE orders ALTER COLUMN total SET NOT NULL;"),
           "");
    /* a check validated by a later migration than the SET NOT NULL does not count */
    const char *files2[] = {
        "0001_a.sql",
        "-- strata:up\nALTER TABLE orders ADD CONSTRAINT c CHECK (total IS NOT NULL) NOT VALID;\n"
        "ALTER TABLE orders ALTER COLUMN total SET NOT NULL;\n-- strata:down\n",
        "0002_b.sql", "-- strata:up\nALTER TABLE orders VALIDATE CONSTRAINT c;\n-- strata:down\n", NULL};
    got = lint_files("postgres", files2, NULL);
    CHECK_STR(got, "0001:set-not-null@3");
    free(got);
}

static void constraint_rules(void)
{
    EXPECT_PG("ALTER TABLE orders ADD CONSTRAINT fk FOREIGN KEY (user_id) REFERENCES users (id);",
              "foreign-key-without-not-valid@2");
    EXPECT_PG("ALTER TABLE orders ADD FOREIGN KEY (user_id) REFERENCES users;", "foreign-key-without-not-valid@2");
    EXPECT_PG("ALTER TABLE orders ADD CONSTRAINT fk FOREIGN KEY (user_id) REFERENCES users (id)\n"
              "  ON DELETE CASCADE NOT VALID;",
              "");
    EXPECT_PG("CREATE TABLE orders (id int, user_id int);\n"
              "ALTER TABLE orders ADD FOREIGN KEY (user_id) REFERENCES users;",
              "");
    EXPECT_PG("ALTER TABLE orders ADD CONSTRAINT pos CHECK (total >= 0);", "check-without-not-valid@2");
    EXPECT_PG("ALTER TABLE orders ADD CHECK (total >= 0) NOT VALID;", "");
    EXPECT_PG("ALTER TABLE orders VALIDATE CONSTRAINT pos;", "");
    EXPECT_PG("ALTER TABLE orders DROP CONSTRAINT pos;", "");
    /* validating in a later migration is the safe form */
    const char *files[] = {
        "0001_a.sql",
        "-- strata:up\nALTER TABLE o ADD CONSTRAINT fk FOREIGN KEY (u) REFERENCES users NOT VALID;\n"
        "-- strata:down\n",
        "0002_b.sql", "-- strata:up\nALTER TABLE o VALIDATE CONSTRAINT fk;\n-- strata:down\n", NULL};
    char *got = lint_files("postgres", files, NULL);
    CHECK_STR(got, "");
    free(got);
    EXPECT_PG("ALTER TABLE o ADD CONSTRAINT fk FOREIGN KEY (u) REFERENCES users NOT VALID;\n"
              "ALTER TABLE o VALIDATE CONSTRAINT fk;",
              "validate-in-same-transaction@3");
}

static void breaking_rules(void)
{
    EXPECT_PG("DROP TABLE legacy;", "drop-table@2");
    EXPECT_PG("DROP TABLE IF EXISTS a, public.b CASCADE;", "drop-table@2 drop-table@2");
    EXPECT_PG("CREATE TABLE tmp (id int);\nDROP TABLE tmp;", "");
    EXPECT("postgres", "-- strata:up\nCREATE TABLE t (id int);\n-- strata:down\nDROP TABLE t;\n", "");
    EXPECT_PG("ALTER TABLE orders DROP COLUMN note;", "drop-column@2");
    EXPECT_PG("ALTER TABLE orders DROP note, DROP COLUMN IF EXISTS other;", "drop-column@2 drop-column@2");
    EXPECT("postgres", "-- strata:up\nALTER TABLE o ADD COLUMN n int;\n-- strata:down\nALTER TABLE o DROP COLUMN n;\n",
           "");
    EXPECT_PG("ALTER TABLE orders RENAME TO purchases;", "rename-table@2");
    EXPECT_PG("ALTER TABLE IF EXISTS orders RENAME COLUMN note TO notes;", "rename-column@2");
    EXPECT_PG("ALTER TABLE orders RENAME note TO notes;", "rename-column@2");
    EXPECT_PG("ALTER TABLE orders RENAME CONSTRAINT a TO b;", "");
    EXPECT_PG("CREATE TABLE o (n int);\nALTER TABLE o RENAME n TO m;\nALTER TABLE o RENAME TO p;\n"
              "ALTER TABLE p DROP COLUMN m;\nDROP TABLE p;",
              "");
    /* the rolling-deploy rules are PostgreSQL rules: a SQLite table rebuild is fine */
    EXPECT("sqlite",
           "-- strata:up dialect=sqlite\nCREATE TABLE t_new (id int);\nINSERT INTO t_new SELECT id FROM t;\n"
           "DROP TABLE t;\nALTER TABLE t_new RENAME TO t;\n-- strata:down dialect=sqlite\n",
           "");
}

static void missing_down(void)
{
    EXPECT(NULL, "-- a comment\n\n-- strata:up\nCREATE TABLE t (id int);\n", "missing-down@3");
    EXPECT(NULL, "-- strata:up\nCREATE TABLE t (id int);\n-- strata:down\n", "");
    EXPECT(NULL,
           "-- strata:up\nSELECT 1;\n-- strata:up dialect=sqlite\nSELECT 2;\n-- strata:down dialect=postgres\n",
           "missing-down@3");
    EXPECT("postgres",
           "-- strata:up\nSELECT 1;\n-- strata:up dialect=sqlite\nSELECT 2;\n-- strata:down dialect=postgres\n",
           "");
    EXPECT(NULL, "-- strata:lint-ignore missing-down -- data fix, nothing to undo\n-- strata:up\nSELECT 1;\n", "");

    strata_lint_report *rep = NULL;
    const char *files[] = {"0001_m.sql",
                           "-- strata:up\nSELECT 1;\n-- strata:up dialect=sqlite\nSELECT 2;\n"
                           "-- strata:down dialect=postgres\n",
                           NULL};
    free(lint_files(NULL, files, &rep));
    CHECK(rep && rep->count == 1);
    if (rep && rep->count == 1)
        CHECK_STR(rep->findings[0].message, "'0001_m' has no down section for sqlite: it cannot be reverted there");
    strata_lint_report_free(rep);
}

/* ------------------------------------------------------------ SQLite */

static void sqlite_rules(void)
{
    EXPECT_SQLITE("ALTER TABLE t ALTER COLUMN a TYPE text;", "sqlite-alter-column@2");
    EXPECT_SQLITE("ALTER TABLE t ALTER a SET NOT NULL;", "sqlite-alter-column@2");
    EXPECT_SQLITE("ALTER TABLE t ALTER COLUMN a DROP DEFAULT;", "sqlite-alter-column@2");
    /* it fails whether or not the table is new */
    EXPECT_SQLITE("CREATE TABLE t (a int);\nALTER TABLE t ALTER COLUMN a SET DEFAULT 1;", "sqlite-alter-column@3");

    EXPECT_SQLITE("ALTER TABLE t ADD CONSTRAINT c CHECK (a > 0);", "sqlite-alter-constraint@2");
    EXPECT_SQLITE("ALTER TABLE t ADD PRIMARY KEY (a);", "sqlite-alter-constraint@2");
    EXPECT_SQLITE("ALTER TABLE t ADD FOREIGN KEY (a) REFERENCES u (id);", "sqlite-alter-constraint@2");
    EXPECT_SQLITE("ALTER TABLE t DROP CONSTRAINT c;", "sqlite-alter-constraint@2");
    EXPECT_SQLITE("ALTER TABLE t RENAME CONSTRAINT c TO d;", "sqlite-alter-constraint@2");
    EXPECT_SQLITE("ALTER TABLE t VALIDATE CONSTRAINT c;", "sqlite-alter-constraint@2");

    EXPECT_SQLITE("ALTER TABLE t ADD COLUMN c int UNIQUE;", "sqlite-add-column@2");
    /* the short form of a generated column: GENERATED ALWAYS is optional */
    EXPECT_SQLITE("ALTER TABLE t ADD COLUMN d int AS (a * 2) STORED;", "sqlite-add-column@2");
    EXPECT_SQLITE("ALTER TABLE t ADD COLUMN d int AS (a * 2);", "");
    EXPECT_SQLITE("ALTER TABLE t ADD COLUMN d int CHECK (CAST(d AS int) > 0);", "");
    EXPECT_SQLITE("ALTER TABLE t ADD COLUMN c int PRIMARY KEY;", "sqlite-add-column@2");
    EXPECT_SQLITE("ALTER TABLE t ADD COLUMN c int GENERATED ALWAYS AS (a + 1) STORED;", "sqlite-add-column@2");
    EXPECT_SQLITE("ALTER TABLE t ADD COLUMN c int AS (a + 1);", "");
    EXPECT_SQLITE("ALTER TABLE t ADD COLUMN c int GENERATED ALWAYS AS (a + 1) VIRTUAL;", "");
    EXPECT_SQLITE("ALTER TABLE t ADD COLUMN c int GENERATED ALWAYS AS (a + 1);", "");
    EXPECT_SQLITE("ALTER TABLE t ADD COLUMN c int DEFAULT (random());", "sqlite-add-column@2");
    EXPECT_SQLITE("ALTER TABLE t ADD COLUMN c int NOT NULL;", "sqlite-add-column@2");
    EXPECT_SQLITE("ALTER TABLE t ADD COLUMN c int NOT NULL DEFAULT NULL;", "sqlite-add-column@2");
    EXPECT_SQLITE("ALTER TABLE t ADD COLUMN c int NOT NULL DEFAULT 0;", "");
    EXPECT_SQLITE("ALTER TABLE t ADD COLUMN c text DEFAULT CURRENT_TIMESTAMP;", "sqlite-add-column@2");
    EXPECT_SQLITE("ALTER TABLE t ADD COLUMN c int DEFAULT (1 + 1);", "sqlite-add-column@2");
    EXPECT_SQLITE("ALTER TABLE t ADD COLUMN c int DEFAULT -1 CHECK (c < 0);", "");
    EXPECT_SQLITE("ALTER TABLE t ADD COLUMN c int DEFAULT (0);\nALTER TABLE t ADD COLUMN d text DEFAULT (('x'));\n"
                  "ALTER TABLE t ADD COLUMN e int DEFAULT (-1) NOT NULL;\nALTER TABLE t ADD COLUMN f blob DEFAULT X'00';\n"
                  "ALTER TABLE t ADD COLUMN g int NOT NULL DEFAULT TRUE;\nALTER TABLE t ADD COLUMN h text DEFAULT abc;",
                  "");
    EXPECT_SQLITE("ALTER TABLE t ADD COLUMN c text DEFAULT (CURRENT_TIMESTAMP);", "sqlite-add-column@2");
    EXPECT_SQLITE("ALTER TABLE t ADD COLUMN c int DEFAULT (abs(-1)) NOT NULL;", "sqlite-add-column@2");
    EXPECT_SQLITE("ALTER TABLE t ADD c text COLLATE NOCASE;", "");
    /* an empty table (created in the same section) takes NOT NULL and non-constant defaults */
    EXPECT_SQLITE("CREATE TABLE t (a int);\nALTER TABLE t ADD COLUMN c int NOT NULL;\n"
                  "ALTER TABLE t ADD COLUMN d text DEFAULT CURRENT_TIMESTAMP;",
                  "");
    EXPECT_SQLITE("CREATE TABLE t (a int);\nALTER TABLE t ADD COLUMN c int UNIQUE;", "sqlite-add-column@3");

    EXPECT_SQLITE("ALTER TABLE t ADD COLUMN a int, ADD COLUMN b int;", "sqlite-alter-syntax@2");
    EXPECT_SQLITE("ALTER TABLE IF EXISTS t ADD COLUMN a int;", "sqlite-alter-syntax@2");
    EXPECT_SQLITE("ALTER TABLE ONLY t ADD COLUMN a int;", "sqlite-alter-syntax@2");
    EXPECT_SQLITE("ALTER TABLE t ADD COLUMN IF NOT EXISTS a int;", "sqlite-alter-syntax@2");
    EXPECT_SQLITE("ALTER TABLE t DROP COLUMN IF EXISTS a;", "sqlite-alter-syntax@2");
    EXPECT_SQLITE("ALTER TABLE t DROP COLUMN a CASCADE;", "sqlite-alter-syntax@2");
    EXPECT_SQLITE("ALTER TABLE t SET SCHEMA other;", "sqlite-alter-syntax@2");
    EXPECT_SQLITE("ALTER TABLE t OWNER TO app;", "sqlite-alter-syntax@2");
    /* what SQLite supports */
    EXPECT_SQLITE("ALTER TABLE t RENAME TO u;\nALTER TABLE u RENAME COLUMN a TO b;\nALTER TABLE u RENAME b TO c;\n"
                  "ALTER TABLE u ADD COLUMN d int REFERENCES v (id);\nALTER TABLE u ADD e text;\n"
                  "ALTER TABLE u DROP COLUMN d;\nALTER TABLE u DROP e;",
                  "");
    /* down sections fail too */
    EXPECT("sqlite", "-- strata:up\nSELECT 1;\n-- strata:down\nALTER TABLE t ALTER COLUMN a TYPE int;\n",
           "sqlite-alter-column@4");

    EXPECT_SQLITE("PRAGMA foreign_keys = OFF;", "sqlite-pragma-in-transaction@2");
    EXPECT_SQLITE("PRAGMA main.journal_mode=WAL;", "sqlite-pragma-in-transaction@2");
    EXPECT_SQLITE("PRAGMA foreign_keys;\nPRAGMA foreign_key_check;\nPRAGMA user_version = 3;", "");
    EXPECT("sqlite", NOTX("PRAGMA foreign_keys = OFF;"), "");
    EXPECT_PG("PRAGMA foreign_keys = OFF;", "");
}

/* ------------------------------------------------------------ sections, dialects */

static void dialects(void)
{
    /* a dialect=postgres section is not checked with the SQLite rules, and back */
    EXPECT(NULL,
           "-- strata:up dialect=postgres\nALTER TABLE t ALTER COLUMN a TYPE bigint;\n"
           "-- strata:up dialect=sqlite\nCREATE INDEX i ON t (a);\n-- strata:down\n",
           "alter-column-type@2");
    /* a generic section overridden for one engine runs only on the other */
    EXPECT(NULL,
           "-- strata:up\nALTER TABLE t ALTER COLUMN a TYPE bigint;\n"
           "-- strata:up dialect=sqlite\nSELECT 1;\n-- strata:down\n",
           "alter-column-type@2");
    /* a generic section: both engines' rules, each reported once */
    EXPECT(NULL, UP("ALTER TABLE t ALTER COLUMN a TYPE bigint;"), "alter-column-type@2 sqlite-alter-column@2");
    EXPECT("postgres", UP("ALTER TABLE t ALTER COLUMN a TYPE bigint;"), "alter-column-type@2");
    EXPECT("sqlite", UP("ALTER TABLE t ALTER COLUMN a TYPE bigint;"), "sqlite-alter-column@2");
    EXPECT("pg", UP("ALTER TABLE t ALTER COLUMN a TYPE bigint;"), "alter-column-type@2");
    EXPECT("mysql", UP("SELECT 1;"), "ERROR USAGE");
    /* verify sections are not checked */
    EXPECT(NULL, "-- strata:up\nSELECT 1;\n-- strata:verify\nVACUUM;\n-- strata:down\n", "");
}

/* ------------------------------------------------------------ strings, comments, bodies */

static void not_code(void)
{
    EXPECT(NULL, UP("INSERT INTO notes VALUES ('DROP TABLE users; ALTER TABLE t DROP COLUMN c');"), "");
    EXPECT(NULL, UP("-- DROP TABLE users;\n/* ALTER TABLE t DROP COLUMN c;\n VACUUM; */\nSELECT 1;"), "");
    /* a generic section is read as the parser reads it: nested comments,
       $$ bodies, for both engines */
    EXPECT(NULL, UP("/* ALTER TABLE t DROP COLUMN c; /* nested */ VACUUM; */\nSELECT 1;"), "");
    EXPECT(NULL, UP("DO $$ BEGIN ALTER TABLE t ALTER COLUMN a TYPE int; VACUUM; END $$;"), "");
    /* a SQLite section as SQLite reads it: comments do not nest, so this VACUUM is code */
    EXPECT("sqlite",
           "-- strata:up dialect=sqlite\n/* ALTER TABLE t DROP COLUMN c; /* nested */ VACUUM; */\nSELECT 1;\n"
           "-- strata:down dialect=sqlite\n",
           "cannot-run-in-transaction@2");
    EXPECT("sqlite",
           "-- strata:up dialect=sqlite\nCREATE TABLE [my table] (a int);\nALTER TABLE `my table` ADD COLUMN b int UNIQUE;\n"
           "-- strata:down dialect=sqlite\n",
           "sqlite-add-column@3");
    EXPECT("postgres",
           UP("DO $$\nBEGIN\n  ALTER TABLE t DROP COLUMN c;\n  EXECUTE 'CREATE INDEX i ON t (a)';\nEND\n$$;"), "");
    EXPECT("postgres",
           UP("CREATE FUNCTION f() RETURNS void LANGUAGE sql AS $body$\n  DROP TABLE t;\n  VACUUM;\n$body$;"), "");
    EXPECT("postgres", UP("SELECT E'it\\'s; DROP TABLE t; --', 1;"), "");
    EXPECT("postgres", UP("COMMENT ON TABLE t IS 'ALTER TABLE t RENAME TO u';"), "");
    EXPECT("sqlite",
           UP("CREATE TABLE t (a int);\nCREATE TRIGGER tr AFTER INSERT ON t BEGIN\n"
              "  UPDATE t SET a = 1 WHERE a = 'ALTER TABLE t ALTER COLUMN a';\nEND;"),
           "");
    /* a quoted identifier is not a keyword */
    EXPECT("postgres", UP("ALTER TABLE t ADD COLUMN \"not\" int, ADD \"check\" int;"), "");
    /* a keyword in a later statement is found after a string with a semicolon */
    EXPECT("postgres", UP("SELECT ';';\nDROP TABLE t;"), "drop-table@3");
}

/* ------------------------------------------------------------ lint-ignore */

static void ignores(void)
{
    /* the next statement only */
    EXPECT_PG("-- strata:lint-ignore drop-table -- replaced by orders_v2 in 0041\nDROP TABLE orders;\n"
              "DROP TABLE carts;",
              "drop-table@4");
    /* a list; other rules still fire */
    EXPECT_PG("-- strata:lint-ignore not-null-without-default, volatile-default\n"
              "ALTER TABLE t ADD COLUMN a int NOT NULL, ADD COLUMN b float8 DEFAULT random(),\n"
              "  ALTER COLUMN c TYPE text;",
              "alter-column-type@3");
    EXPECT_PG("-- strata:lint-ignore drop-column,rename-column\nALTER TABLE t DROP COLUMN a;", "");
    /* comments between the directive and the statement are fine */
    EXPECT_PG("-- strata:lint-ignore index-not-concurrent\n-- orders has 40 rows\n\nCREATE INDEX i ON orders (a);", "");
    /* a directive inside a statement applies to it */
    EXPECT_PG("CREATE INDEX i\n  -- strata:lint-ignore index-not-concurrent\n  ON orders (a);\n"
              "CREATE INDEX j ON orders (b);",
              "index-not-concurrent@5");
    /* another rule's name does not silence */
    EXPECT_PG("-- strata:lint-ignore drop-column\nDROP TABLE t;", "drop-table@3");
    /* at the end of the statement's last line it applies to that statement */
    EXPECT_PG("DROP TABLE a; -- strata:lint-ignore drop-table\nDROP TABLE b;", "drop-table@3");
    EXPECT_PG("DROP TABLE a\n  CASCADE; -- strata:lint-ignore drop-table\nDROP TABLE b;", "drop-table@4");
    EXPECT_PG("DROP TABLE a; DROP TABLE b; -- strata:lint-ignore drop-table", "drop-table@2");
    EXPECT_PG("DROP TABLE a; DROP TABLE b; -- strata:lint-ignore drop-table\nDROP TABLE c;",
              "drop-table@2 drop-table@3");
    /* after the last statement it silences nothing */
    EXPECT_PG("DROP TABLE t;\n-- strata:lint-ignore drop-table", "drop-table@2");
    /* in the file header it applies to every section of the file */
    EXPECT(NULL,
           "-- strata:lint-ignore drop-table, sqlite-alter-column -- the app stopped using it in 2.4\n"
           "-- strata:up\nDROP TABLE a;\nDROP TABLE b;\nALTER TABLE c ALTER COLUMN d SET DEFAULT 1;\n"
           "-- strata:down\n",
           "");
    /* a header directive does not leak into the next file */
    const char *files[] = {
        "0001_a.sql", "-- strata:lint-ignore drop-table\n-- strata:up\nDROP TABLE a;\n-- strata:down\n",
        "0002_b.sql", "-- strata:up\nDROP TABLE b;\n-- strata:down\n", NULL};
    char *got = lint_files("postgres", files, NULL);
    CHECK_STR(got, "0002:drop-table@2");
    free(got);
    /* a directive-looking line inside a string is not a directive */
    EXPECT_PG("INSERT INTO t VALUES ('\n-- strata:lint-ignore drop-table\n');\nDROP TABLE t;", "drop-table@5");
    /* unknown names and empty lists are reported */
    EXPECT_PG("-- strata:lint-ignore drop-tables\nDROP TABLE t;", "bad-lint-ignore@2 drop-table@3");
    EXPECT_PG("-- strata:lint-ignore\nSELECT 1;", "bad-lint-ignore@2");
    EXPECT_PG("-- strata:lint-ignore -- why\nSELECT 1;", "bad-lint-ignore@2");
    EXPECT(NULL, "-- strata:lint-ignore nope\n-- strata:up\nSELECT 1;\n-- strata:down\n", "bad-lint-ignore@1");
    /* not a directive: a different word */
    EXPECT_PG("-- see strata:lint-ignore drop-table\nDROP TABLE t;", "drop-table@3");
    EXPECT_PG("--strata:lint-ignore drop-table\nDROP TABLE t;", "");
}

/* ------------------------------------------------------------ the report */

static void report(void)
{
    strata_lint_report *rep = NULL;
    const char *files[] = {
        "0002_b.sql", "-- strata:up\nSELECT 1;\n\nALTER TABLE t RENAME TO u;\n-- strata:down\n",
        "0001_a.sql", "-- strata:up\nALTER TYPE e ADD VALUE 'x';\nDROP TABLE t;\n", NULL};
    char *got = lint_files("postgres", files, &rep);
    CHECK_STR(got, "0001:missing-down@1 0001:add-enum-value-in-transaction@2 0001:drop-table@3 0002:rename-table@4");
    free(got);
    CHECK(rep != NULL);
    if (rep) {
        CHECK_INT(rep->count, 4);
        CHECK_INT(rep->errors, 2);
        CHECK_INT(rep->warnings, 2);
        const strata_lint_finding *f = &rep->findings[2];
        CHECK_STR(f->rule, "drop-table");
        CHECK_INT(f->severity, STRATA_LINT_ERROR);
        CHECK_HAS(f->file, "/0001_a.sql");
        CHECK_INT(f->line, 3);
        CHECK_STR(f->version, "0001");
        CHECK_STR(f->message, "DROP TABLE 't' breaks the application version that still uses it");
        CHECK_STR(f->hint, strata_lint_rule_find("drop-table")->hint);
        CHECK_INT(rep->findings[0].severity, STRATA_LINT_WARNING);
        CHECK_STR(rep->findings[3].message,
                  "renaming table 't' to 'u' breaks the application version that still uses the old name");
    }
    strata_lint_report_free(rep);
    strata_lint_report_free(NULL);

    /* a clean set, an empty set, a broken file (skipped) */
    const char *clean[] = {"0001_a.sql", "-- strata:up\nCREATE TABLE t (id int);\n-- strata:down\nDROP TABLE t;\n",
                           "0002_b.sql", "CREATE TABLE oops (id int);\n-- strata:up\nDROP TABLE t;\n", NULL};
    got = lint_files(NULL, clean, &rep);
    CHECK_STR(got, "");
    CHECK(rep && rep->count == 0 && rep->errors == 0 && rep->warnings == 0);
    free(got);
    strata_lint_report_free(rep);
    const char *none[] = {NULL};
    got = lint_files(NULL, none, NULL);
    CHECK_STR(got, "");
    free(got);
    strata_lint_report *r2 = NULL;
    /* the set is required, as everywhere (it linted as empty: a caller's
       bug passed as clean) */
    CHECK_INT(strata_lint(NULL, NULL, &r2, NULL), STRATA_USAGE);
    CHECK(r2 == NULL);
}

static void catalogue(void)
{
    size_t n = strata_lint_rule_count();
    CHECK_INT(n, 24);
    for (size_t i = 0; i < n; i++) {
        const strata_lint_rule *r = strata_lint_rule_get(i);
        CHECK(r && r->id[0] && r->summary[0] && r->hint[0] && r->dialects[0]);
        CHECK(r->severity == STRATA_LINT_ERROR || r->severity == STRATA_LINT_WARNING);
        CHECK(strata_lint_rule_find(r->id) == r);
        for (const char *p = r->id; *p; p++)
            CHECK((*p >= 'a' && *p <= 'z') || *p == '-');
    }
    CHECK(strata_lint_rule_get(n) == NULL);
    CHECK(strata_lint_rule_find("no-such-rule") == NULL);
    CHECK(strata_lint_rule_find(NULL) == NULL);
    CHECK_INT(strata_lint_rule_find("missing-down")->severity, STRATA_LINT_WARNING);
    CHECK_INT(strata_lint_rule_find("index-not-concurrent")->severity, STRATA_LINT_ERROR);
    CHECK_STR(strata_lint_severity_name(STRATA_LINT_ERROR), "error");
    CHECK_STR(strata_lint_severity_name(STRATA_LINT_WARNING), "warning");
    /* docs/lint.md documents every rule (run from the source tree) */
    char *doc = read_text("docs/lint.md");
    if (doc) {
        for (size_t i = 0; i < n; i++) {
            char head[96];
            snprintf(head, sizeof(head), "### `%s`", strata_lint_rule_get(i)->id);
            CHECK_HAS(doc, head);
        }
        free(doc);
    }
}

void test_lint(void)
{
    tokenizer();
    index_rules();
    transaction_rules();
    add_column_rules();
    alter_column_rules();
    constraint_rules();
    breaking_rules();
    missing_down();
    sqlite_rules();
    dialects();
    not_code();
    ignores();
    report();
    catalogue();
}
