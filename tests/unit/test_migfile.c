/* test_migfile.c -- parsing one migration file: sections, options, problems. */
#include "internal.h"
#include "unit.h"

#include <stdlib.h>
#include <string.h>

typedef struct parsed {
    migration m;
    strata_migset set;
    int ok;
} parsed;

static void parse(parsed *p, const char *text)
{
    memset(p, 0, sizeof(*p));
    p->m.path = (char *)"db/0007_x.sql";
    p->m.id = (char *)"0007_x";
    p->m.version = (char *)"0007";
    p->ok = mig_parse(&p->m, text, strlen(text), &p->set);
}

static void release(parsed *p)
{
    for (int i = 0; i < p->m.nsecs; i++)
        free(p->m.secs[i].sql);
    free(p->m.secs);
    free(p->m.header);
    for (size_t i = 0; i < p->set.nproblems; i++) {
        free((char *)p->set.problems[i].version);
        free((char *)p->set.problems[i].detail);
        free((char *)p->set.problems[i].file);
    }
    free(p->set.problems);
    memset(p, 0, sizeof(*p));
}

/* Parses text expecting exactly one PARSE_ERROR at line; detail must contain has. */
static void expect_error(const char *file, int line_of_check, const char *text, int line,
                         const char *has)
{
    parsed p;
    parse(&p, text);
    unit_check_int(file, line_of_check, p.ok, 0, "ok", "0");
    unit_check_int(file, line_of_check, (long long)p.set.nproblems, 1, "nproblems", "1");
    if (p.set.nproblems >= 1) {
        const strata_problem *pr = &p.set.problems[0];
        unit_check_int(file, line_of_check, pr->code, STRATA_PARSE_ERROR, "code", "PARSE_ERROR");
        unit_check_int(file, line_of_check, pr->line, line, "line", "expected line");
        unit_check_str(file, line_of_check, pr->file, "db/0007_x.sql", "file", "path");
        unit_check_str(file, line_of_check, pr->version, "0007", "version", "0007");
        unit_check_has(file, line_of_check, pr->detail, has, 1, "detail");
    }
    release(&p);
}
#define EXPECT_ERROR(text, line, has) expect_error(__FILE__, __LINE__, text, line, has)

/* Parses text expecting no problem at all. */
static void expect_ok(const char *file, int line_of_check, const char *text)
{
    parsed p;
    parse(&p, text);
    unit_check_int(file, line_of_check, p.ok, 1, "ok", "1");
    unit_check_int(file, line_of_check, (long long)p.set.nproblems, 0, "nproblems", "0");
    for (size_t i = 0; i < p.set.nproblems; i++)
        unit_check_str(file, line_of_check, p.set.problems[i].detail, "", "unexpected problem", "");
    release(&p);
}
#define EXPECT_OK(text) expect_ok(__FILE__, __LINE__, text)

static void sections(void)
{
    parsed p;
    parse(&p, "-- a header comment\n\n"
              "-- strata:up\nCREATE TABLE a (id int);\n\n"
              "-- strata:down\nDROP TABLE a;\n"
              "-- strata:verify\nSELECT count(*) = 0 FROM a;\n");
    CHECK_INT(p.ok, 1);
    CHECK_INT(p.set.nproblems, 0);
    CHECK_INT(p.m.nsecs, 3);
    if (p.m.nsecs == 3) {
        CHECK_INT(p.m.secs[0].kind, SEC_UP);
        CHECK_INT(p.m.secs[0].line, 4);
        CHECK_STR(p.m.secs[0].sql, "CREATE TABLE a (id int);\n\n");
        CHECK_INT(p.m.secs[0].notx, 0);
        CHECK_INT(p.m.secs[0].dialect, DIALECT_ANY);
        CHECK_INT(p.m.secs[1].kind, SEC_DOWN);
        CHECK_INT(p.m.secs[1].line, 7);
        CHECK_STR(p.m.secs[1].sql, "DROP TABLE a;\n");
        CHECK_INT(p.m.secs[2].kind, SEC_VERIFY);
        CHECK_INT(p.m.secs[2].line, 9);
        CHECK_STR(p.m.secs[2].sql, "SELECT count(*) = 0 FROM a;\n");
        CHECK(mig_section(&p.m, SEC_UP, DIALECT_POSTGRES) == &p.m.secs[0]);
        CHECK(mig_section(&p.m, SEC_UP, DIALECT_SQLITE) == &p.m.secs[0]);
        CHECK(mig_section(&p.m, SEC_UP, DIALECT_ANY) == &p.m.secs[0]);
        CHECK(mig_section(&p.m, SEC_DOWN, DIALECT_SQLITE) == &p.m.secs[1]);
        CHECK(mig_section(&p.m, SEC_VERIFY, DIALECT_POSTGRES) == &p.m.secs[2]);
    }
    release(&p);

    /* no final newline; marker spelling variants */
    parse(&p, "  --strata:up\nSELECT 1;\n\t-- strata:down\t\nSELECT 2;");
    CHECK_INT(p.ok, 1);
    CHECK_INT(p.m.nsecs, 2);
    if (p.m.nsecs == 2) {
        CHECK_STR(p.m.secs[0].sql, "SELECT 1;\n");
        CHECK_STR(p.m.secs[1].sql, "SELECT 2;");
        CHECK_INT(p.m.secs[1].line, 4);
    }
    release(&p);

    /* a marker on the last line opens an empty section */
    parse(&p, "-- strata:up\nSELECT 1;\n-- strata:down");
    CHECK_INT(p.ok, 1);
    CHECK_INT(p.m.nsecs, 2);
    if (p.m.nsecs == 2) {
        CHECK_STR(p.m.secs[1].sql, "");
        CHECK_INT(p.m.secs[1].line, 4);
    }
    release(&p);

    /* lint directives are comments, not sections */
    parse(&p, "-- strata:up\n-- strata:lint-ignore drop-column\nALTER TABLE a DROP COLUMN b;\n");
    CHECK_INT(p.ok, 1);
    CHECK_INT(p.m.nsecs, 1);
    release(&p);
}

static void options(void)
{
    parsed p;
    parse(&p, "-- strata:up no-transaction\n"
              "CREATE INDEX CONCURRENTLY i ON a (x);\n"
              "-- strata:up dialect=sqlite\n"
              "CREATE INDEX i ON a (x);\n"
              "-- strata:down dialect=postgres\n"
              "-- strata:down no-transaction\tdialect=sqlite\n"
              "DROP INDEX i;\n"
              "-- strata:verify dialect=postgres\n"
              "SELECT true;\n");
    CHECK_INT(p.ok, 1);
    CHECK_INT(p.set.nproblems, 0);
    CHECK_INT(p.m.nsecs, 5);
    if (p.m.nsecs == 5) {
        section *s = p.m.secs;
        CHECK_INT(s[0].notx, 1);
        CHECK_INT(s[0].dialect, DIALECT_ANY);
        CHECK_INT(s[0].line, 2);
        CHECK_INT(s[1].notx, 0);
        CHECK_INT(s[1].dialect, DIALECT_SQLITE);
        CHECK_STR(s[1].sql, "CREATE INDEX i ON a (x);\n");
        CHECK_INT(s[2].dialect, DIALECT_POSTGRES);
        CHECK(s[2].sql != NULL);
        CHECK_STR(s[2].sql, "");
        CHECK_INT(s[3].dialect, DIALECT_SQLITE);
        CHECK_INT(s[3].notx, 1);
        CHECK_INT(s[3].line, 7);
        CHECK_INT(s[4].kind, SEC_VERIFY);

        /* the engine's own section wins over the generic one */
        CHECK(mig_section(&p.m, SEC_UP, DIALECT_POSTGRES) == &s[0]);
        CHECK(mig_section(&p.m, SEC_UP, DIALECT_SQLITE) == &s[1]);
        CHECK(mig_section(&p.m, SEC_UP, DIALECT_ANY) == &s[0]);
        /* an empty dialect section is present (an explicit no-op) */
        const section *d = mig_section(&p.m, SEC_DOWN, DIALECT_POSTGRES);
        CHECK(d == &s[2]);
        CHECK(d && d->sql && d->sql[0] == 0);
        CHECK(mig_section(&p.m, SEC_DOWN, DIALECT_SQLITE) == &s[3]);
        /* no generic down section */
        CHECK(mig_section(&p.m, SEC_DOWN, DIALECT_ANY) == NULL);
        CHECK(mig_section(&p.m, SEC_VERIFY, DIALECT_SQLITE) == NULL);
        CHECK(mig_section(&p.m, SEC_VERIFY, DIALECT_POSTGRES) == &s[4]);
    }
    release(&p);

    /* the generic section comes after the dialect one: still the dialect one */
    parse(&p, "-- strata:up dialect=postgres\nSELECT 1;\n-- strata:up\nSELECT 2;\n");
    CHECK_INT(p.ok, 1);
    CHECK(mig_section(&p.m, SEC_UP, DIALECT_POSTGRES) == &p.m.secs[0]);
    CHECK(mig_section(&p.m, SEC_UP, DIALECT_SQLITE) == &p.m.secs[1]);
    release(&p);

    /* only a postgres up: nothing for sqlite */
    parse(&p, "-- strata:up dialect=postgres\nSELECT 1;\n");
    CHECK_INT(p.ok, 1);
    CHECK(mig_section(&p.m, SEC_UP, DIALECT_SQLITE) == NULL);
    CHECK(mig_section(&p.m, SEC_UP, DIALECT_POSTGRES) != NULL);
    release(&p);

    /* engine aliases and CRLF after options */
    parse(&p, "-- strata:up dialect=postgresql no-transaction\r\nSELECT 1;\r\n"
              "-- strata:down dialect=sqlite3\r\n");
    CHECK_INT(p.ok, 1);
    CHECK_INT(p.m.nsecs, 2);
    if (p.m.nsecs == 2) {
        CHECK_INT(p.m.secs[0].dialect, DIALECT_POSTGRES);
        CHECK_INT(p.m.secs[0].notx, 1);
        CHECK_INT(p.m.secs[1].dialect, DIALECT_SQLITE);
    }
    release(&p);
}

static void errors(void)
{
    EXPECT_ERROR("-- strata:up\nSELECT 1;\n-- strata:down fast\nSELECT 2;\n", 3,
                 "unknown marker option 'fast'");
    EXPECT_ERROR("-- strata:up\nSELECT 1;\n\n-- strata:downn\nSELECT 2;\n", 4,
                 "unknown marker 'strata:downn'");
    EXPECT_ERROR("-- strata:up\nSELECT 1;\n-- strata:down dialect=mysql\n", 3,
                 "unknown dialect 'mysql'");
    EXPECT_ERROR("-- strata:up\nSELECT 1;\n-- strata:down dialect=\n", 3,
                 "unknown marker option 'dialect='");
    /* two dialects: the last one won without a word */
    EXPECT_ERROR("-- strata:up\nSELECT 1;\n-- strata:down dialect=sqlite dialect=postgres\nSELECT 2;\n", 3,
                 "two dialects on one marker");
    /* a malformed first marker: its SQL then sits before the first marker */
    parsed p;
    parse(&p, "-- strata:up dialect=mysql\n\nSELECT 1;\n");
    CHECK_INT(p.ok, 0);
    CHECK_INT(p.set.nproblems, 2);
    if (p.set.nproblems == 2) {
        CHECK_INT(p.set.problems[0].line, 1);
        CHECK_HAS(p.set.problems[0].detail, "unknown dialect 'mysql' (expected postgres or sqlite)");
        CHECK_INT(p.set.problems[1].line, 3);
        CHECK_HAS(p.set.problems[1].detail, "SQL before the first");
    }
    release(&p);
    EXPECT_ERROR("-- strata:up\nSELECT 1;\n-- strata:verify no-transaction\nSELECT 1;\n", 3,
                 "verify section cannot be no-transaction");
    EXPECT_ERROR("-- strata:up\nSELECT 1;\n-- strata:up\nSELECT 2;\n", 3, "second 'up' section");
    EXPECT_ERROR("-- strata:up dialect=sqlite\nSELECT 1;\n-- strata:up dialect=sqlite3\n", 3,
                 "second 'up' section");

    /* SQL before the first marker: the line of that SQL */
    EXPECT_ERROR("-- header\n\nSELECT 1;\n-- strata:up\nSELECT 2;\n", 3,
                 "SQL before the first '-- strata:up' marker");
    EXPECT_ERROR("SELECT 1;\n", 1, "SQL before the first");
    /* comments of both kinds before the first marker are fine */
    EXPECT_OK("/*\n * license header; see LICENSE\n */\n-- note\n-- strata:up\nSELECT 1;\n");
    EXPECT_ERROR("/* a\n b */ -- c\n\n /* d */ SELECT 1; -- strata:up\n-- strata:up\n", 4,
                 "SQL before the first");

    /* missing up section */
    EXPECT_ERROR("-- strata:down\nDROP TABLE a;\n", 0, "no '-- strata:up' section in 'db/0007_x.sql'");
    EXPECT_ERROR("", 0, "no '-- strata:up' section");
    EXPECT_ERROR("-- just a comment\n", 0, "no '-- strata:up' section");
}

static void txn_statements(void)
{
    EXPECT_ERROR("-- strata:up\nCREATE TABLE a (id int);\n\nCOMMIT;\n", 4,
                 "'COMMIT' statement in a transactional up section (it would end");
    EXPECT_ERROR("-- strata:up\nSELECT 1;\n-- strata:down\n-- c\nBEGIN;\nDROP TABLE a;\nEND;\n", 5,
                 "'BEGIN' statement in a transactional down section");
    EXPECT_ERROR("-- strata:up\nSELECT 1;\n-- strata:verify\nSELECT 1; ROLLBACK;\n", 4,
                 "'ROLLBACK' statement in a transactional verify section");
    EXPECT_ERROR("-- strata:up dialect=sqlite\n\n\nSELECT 1;\n  end transaction;\n", 5, "'END'");
    EXPECT_ERROR("-- strata:up dialect=postgres\n/* x */ START TRANSACTION;\n", 2, "'START'");
    EXPECT_ERROR("-- strata:up\nDO $$ BEGIN END $$;\nABORT;\n", 3, "'ABORT'");
    /* the rest of a statement does not matter: BEGIN on its own line after SQL */
    EXPECT_ERROR("-- strata:up\nSELECT 1;\nSELECT 2; BEGIN\n;\n", 3, "'BEGIN'");

    /* fine in a no-transaction section */
    EXPECT_OK("-- strata:up no-transaction\nCOMMIT;\nVACUUM;\nBEGIN;\n"
              "-- strata:down no-transaction dialect=sqlite\nEND;\n");

    /* fine inside bodies, strings and comments */
    EXPECT_OK("-- strata:up\n"
              "DO $$\nBEGIN\n  PERFORM 1;\n  COMMIT;\nEND\n$$;\n"
              "CREATE FUNCTION touch() RETURNS trigger LANGUAGE plpgsql AS $fn$\n"
              "BEGIN\n  NEW.at := now();\n  RETURN NEW;\nEND;\n$fn$;\n"
              "CREATE FUNCTION f() RETURNS int LANGUAGE sql\nBEGIN ATOMIC\n  SELECT 1;\n  SELECT 2;\nEND;\n"
              "INSERT INTO t VALUES ('COMMIT;'), (E'x\\'; ROLLBACK;');\n"
              "-- COMMIT;\n/* BEGIN; */\n"
              "SAVEPOINT s;\nROLLBACK TO SAVEPOINT s;\nRELEASE SAVEPOINT s;\n"
              "-- strata:down\nDROP FUNCTION f;\n");
    EXPECT_OK("-- strata:up\n"
              "CREATE TRIGGER trg AFTER UPDATE ON t\nBEGIN\n"
              "  UPDATE t SET n = CASE WHEN new.n > 0 THEN 1 ELSE 0 END WHERE id = new.id;\n"
              "  INSERT INTO log VALUES (new.id);\nEND;\n"
              "-- strata:up dialect=sqlite\n"
              "CREATE TRIGGER trg AFTER UPDATE ON t\nBEGIN\n"
              "  UPDATE t SET n = CASE WHEN new.n > 0 THEN 1 ELSE 0 END WHERE id = new.id;\n"
              "  INSERT INTO log VALUES (new.id);\nEND;\n"
              "SELECT [end;], `begin;` FROM t;\n");
    /* a comment-only or empty section is a valid no-op */
    EXPECT_OK("-- strata:up\n-- nothing yet\n-- strata:down\n\n");
}

/* A marker line inside a string, a dollar quote or a block comment is SQL
   text, as psql and sqlite3 read it, not a marker. */
static void markers_in_sql(void)
{
    parsed p;
    parse(&p, "-- strata:up\n"
              "INSERT INTO tmpl VALUES ('\n-- strata:down\nDROP TABLE x;\n');\n"
              "CREATE FUNCTION f() RETURNS text LANGUAGE sql AS $fn$\nSELECT 'a'\n"
              "-- strata:verify\n$fn$;\n"
              "SELECT E'\\'\n-- strata:up dialect=sqlite\n';\n"
              "/* outer /* nested */\n-- strata:down\n*/\n"
              "SELECT \"\n-- strata:down\n\" FROM t;\n"
              "-- strata:down\nDROP FUNCTION f();\n");
    CHECK_INT(p.ok, 1);
    CHECK_INT(p.set.nproblems, 0);
    CHECK_INT(p.m.nsecs, 2);
    if (p.m.nsecs == 2) {
        CHECK_INT(p.m.secs[0].kind, SEC_UP);
        CHECK_HAS(p.m.secs[0].sql, "DROP TABLE x;\n');\n");
        CHECK_HAS(p.m.secs[0].sql, "-- strata:verify\n$fn$;\n");
        CHECK_HAS(p.m.secs[0].sql, "/* outer /* nested */\n-- strata:down\n*/\n");
        CHECK_INT(p.m.secs[1].kind, SEC_DOWN);
        CHECK_STR(p.m.secs[1].sql, "DROP FUNCTION f();\n");
        CHECK_INT(p.m.secs[1].line, 20);
    }
    release(&p);

    /* SQLite has no dollar quotes nor nested comments: these markers are markers */
    parse(&p, "-- strata:up dialect=sqlite\nSELECT $$;\n-- strata:down dialect=sqlite\n"
              "/* a /* b */\n-- strata:verify\nSELECT 1;\n");
    CHECK_INT(p.ok, 1);
    CHECK_INT(p.m.nsecs, 3);
    release(&p);
    /* a marker after a line comment holding a quote is a marker */
    parse(&p, "-- strata:up\nSELECT 1; -- don't\n-- strata:down\nSELECT 2; /* it's */\n");
    CHECK_INT(p.m.nsecs, 2);
    release(&p);
    /* the header before the first marker is lexed too */
    parse(&p, "/* example:\n-- strata:up\n*/\n-- strata:up\nSELECT 1;\n");
    CHECK_INT(p.ok, 1);
    CHECK_INT(p.m.nsecs, 1);
    release(&p);

    /* left open, a string or comment would swallow the markers after it */
    EXPECT_ERROR("-- strata:up dialect=sqlite\nCREATE TABLE a(x); /* forgot\n"
                 "-- strata:down dialect=sqlite\nDROP TABLE a;\n",
                 2, "/* comment opened here is never closed: line 3 is inside it, not a marker");
    EXPECT_ERROR("-- strata:up\n\nCREATE FUNCTION f() RETURNS int AS $fn$ SELECT 1 $f$ LANGUAGE sql;\n"
                 "-- strata:down\nDROP FUNCTION f();\n",
                 3, "dollar quote $fn$ opened here is never closed: line 4 is inside it");
    EXPECT_ERROR("-- strata:up\nINSERT INTO t VALUES ('it''s);\n-- strata:down\n", 2,
                 "string opened here is never closed: line 3");
    EXPECT_ERROR("-- strata:up\nSELECT E'a\\';\n-- strata:down\nSELECT 1;\n", 2, "E'' string opened here");
    /* with standard_conforming_strings off, \' stays inside the string */
    EXPECT_OK("-- strata:up\nSET standard_conforming_strings = off;\nINSERT INTO t VALUES ('it\\'s');\n"
              "-- strata:down\nSELECT 1;\n");
    /* left open with no marker after it: the database's own error */
    EXPECT_OK("-- strata:up\nSELECT 1;\n-- strata:down\nSELECT 'open;\n");
}

/* What psql or the sqlite3 shell would run themselves never reaches the
   database: a PARSE_ERROR at its line, in every kind of section. */
static void client_commands(void)
{
    EXPECT_ERROR("-- strata:up\nCREATE TABLE t (id int);\n\\connect other\nCREATE TABLE u (id int);\n", 3,
                 "psql meta-command '\\connect other' in the up section: strata sends SQL");
    EXPECT_ERROR("-- strata:up no-transaction\nSELECT 1;\n  \\i other.sql\n", 3, "'\\i other.sql'");
    EXPECT_ERROR("-- strata:up\nSELECT 1;\n-- strata:down\nSELECT 2 \\gset\n", 4, "'\\gset'");
    EXPECT_ERROR("-- strata:up dialect=sqlite\nCREATE TABLE t (x);\n.read other.sql\n", 3,
                 "sqlite3 shell command '.read other.sql' in the up section");
    EXPECT_ERROR("-- strata:up\nCREATE TABLE t (id int, v text);\nCOPY t (id, v) FROM stdin;\n1\tit's\n\\.\n", 3,
                 "'COPY ... FROM STDIN' in the up section: psql streams those rows");
    EXPECT_ERROR("-- strata:up\nSELECT 1;\n-- strata:verify\ncopy (SELECT 1) to\n  Stdout;\n", 4,
                 "'COPY ... TO STDOUT' in the verify section");
    /* backslashes in strings and comments, COPY with a file, .5 are SQL */
    EXPECT_OK("-- strata:up\nSELECT 'a\\', E'\\\\', $$\\x$$, .5; -- \\i x\n/* \\c */\n"
              "COPY t FROM '/srv/t.csv';\nCOPY (SELECT 'stdin' FROM stdin) TO '/tmp/x';\n"
              "-- strata:up dialect=sqlite\nSELECT [a\\b], `\\`;\n");
}

/* What a verify query's first column fails on: the same on both engines. */
static void verify_values(void)
{
    const char *no[] = {NULL, "0", "0.0", "0.00", "-0.0", "+0", ".0", "0.", "0e5", " 0E-3 ", "f", "F", "false", "FALSE"};
    for (size_t i = 0; i < sizeof(no) / sizeof(no[0]); i++)
        CHECK_INT(verify_false(no[i]), 1);
    const char *yes[] = {"1", "0.01", "1e-3", "t", "true", "0x", "0x0", "", "e0", "-", ".", "00a", "nan", "0 0"};
    for (size_t i = 0; i < sizeof(yes) / sizeof(yes[0]); i++)
        CHECK_INT(verify_false(yes[i]), 0);
}

void test_migfile(void)
{
    verify_values();
    client_commands();
    markers_in_sql();
    sections();
    options();
    errors();
    txn_statements();
}
