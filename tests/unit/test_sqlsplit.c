/* test_sqlsplit.c -- the statement splitter and transaction-control detection. */
#include "internal.h"
#include "unit.h"

#include <stdio.h>
#include <string.h>

#define MAXST 16

typedef struct coll {
    int n;
    char text[MAXST][512];
    int line[MAXST];
    char first[MAXST][16];
    char second[MAXST][16];
    int txn[MAXST];
    int stop_at; /* return 7 from the callback at this statement (1-based), 0 = never */
} coll;

static int collect(void *ud, const sql_stmt *st)
{
    coll *c = ud;
    if (c->n < MAXST) {
        snprintf(c->text[c->n], sizeof(c->text[0]), "%.*s", (int)st->len, st->text);
        c->line[c->n] = st->line;
        memcpy(c->first[c->n], st->first, 16);
        memcpy(c->second[c->n], st->second, 16);
        c->txn[c->n] = sql_is_txn_control(st);
    }
    c->n++;
    return c->stop_at && c->n == c->stop_at ? 7 : 0;
}

static int split(const char *sql, int dialect, coll *c)
{
    memset(c, 0, sizeof(*c));
    return sql_split(sql, strlen(sql), dialect, collect, c);
}

/* Transaction control? of the only statement of sql (-1 if not one statement). */
static int txn(const char *sql)
{
    coll c;
    split(sql, DIALECT_POSTGRES, &c);
    return c.n == 1 ? c.txn[0] : -1;
}

static void plain(void)
{
    static const int dialects[] = {DIALECT_POSTGRES, DIALECT_SQLITE};
    for (int d = 0; d < 2; d++) {
        coll c;
        CHECK_INT(split("CREATE TABLE a (id int);\nINSERT INTO a VALUES (1);\n\n  SELECT 1;\n",
                        dialects[d], &c),
                  0);
        CHECK_INT(c.n, 3);
        CHECK_STR(c.text[0], "CREATE TABLE a (id int)");
        CHECK_STR(c.text[1], "INSERT INTO a VALUES (1)");
        CHECK_STR(c.text[2], "SELECT 1");
        CHECK_INT(c.line[0], 1);
        CHECK_INT(c.line[1], 2);
        CHECK_INT(c.line[2], 4);
        CHECK_STR(c.first[0], "CREATE");
        CHECK_STR(c.second[0], "TABLE");
        CHECK_STR(c.first[1], "INSERT");
        CHECK_STR(c.second[1], "INTO");
        CHECK_STR(c.first[2], "SELECT");
        CHECK_STR(c.second[2], "");
    }

    coll c;
    /* several statements on a line, keywords upper-cased, long words cut */
    split("select 1; insert into t values (2) ;VeryLongIdentifierName x", DIALECT_POSTGRES, &c);
    CHECK_INT(c.n, 3);
    CHECK_STR(c.text[0], "select 1");
    CHECK_STR(c.text[1], "insert into t values (2) ");
    CHECK_STR(c.text[2], "VeryLongIdentifierName x");
    CHECK_STR(c.first[1], "INSERT");
    CHECK_STR(c.second[1], "INTO");
    CHECK_STR(c.first[2], "VERYLONGIDENTIF");
    CHECK_STR(c.second[2], "X");
    CHECK_INT(c.line[0], 1);
    CHECK_INT(c.line[2], 1);

    /* the last statement needs no semicolon; its text runs to the end */
    split("SELECT 1;\nSELECT 2\n", DIALECT_SQLITE, &c);
    CHECK_INT(c.n, 2);
    CHECK_STR(c.text[1], "SELECT 2\n");
    CHECK_INT(c.line[1], 2);

    /* empty and comment-only input */
    CHECK_INT(split("", DIALECT_POSTGRES, &c), 0);
    CHECK_INT(c.n, 0);
    split("   \n\t\n", DIALECT_POSTGRES, &c);
    CHECK_INT(c.n, 0);
    split("-- only a comment; really\n/* and ; this */\n", DIALECT_POSTGRES, &c);
    CHECK_INT(c.n, 0);
    split("-- only a comment; really\n/* and ; this */\n", DIALECT_SQLITE, &c);
    CHECK_INT(c.n, 0);
    split(";;\n ; -- x;\n;", DIALECT_SQLITE, &c);
    CHECK_INT(c.n, 0);

    /* leading comments are not part of the statement; line is the first token's */
    split("-- lead\n/* block\n comment */ SELECT 1; -- trailing;\n", DIALECT_POSTGRES, &c);
    CHECK_INT(c.n, 1);
    CHECK_STR(c.text[0], "SELECT 1");
    CHECK_INT(c.line[0], 3);

    /* a length shorter than the string is honoured */
    memset(&c, 0, sizeof(c));
    CHECK_INT(sql_split("SELECT 1; SELECT 2;", 8, DIALECT_POSTGRES, collect, &c), 0);
    CHECK_INT(c.n, 1);
    CHECK_STR(c.text[0], "SELECT 1");

    /* a non-zero callback result stops the split and is returned */
    memset(&c, 0, sizeof(c));
    c.stop_at = 2;
    CHECK_INT(sql_split("SELECT 1; SELECT 2; SELECT 3;", 29, DIALECT_POSTGRES, collect, &c), 7);
    CHECK_INT(c.n, 2);
}

static void quotes_and_comments(void)
{
    coll c;
    static const int dialects[] = {DIALECT_POSTGRES, DIALECT_SQLITE};
    for (int d = 0; d < 2; d++) {
        split("INSERT INTO t VALUES ('a;b', 'it''s; here');\nSELECT \"odd;name\"\"x;\" FROM t;\n"
              "SELECT 1 -- comment; not the end\n, 2;\n"
              "SELECT /* ; */ 3;",
              dialects[d], &c);
        CHECK_INT(c.n, 4);
        CHECK_STR(c.text[0], "INSERT INTO t VALUES ('a;b', 'it''s; here')");
        CHECK_STR(c.text[1], "SELECT \"odd;name\"\"x;\" FROM t");
        CHECK_STR(c.text[2], "SELECT 1 -- comment; not the end\n, 2");
        CHECK_STR(c.text[3], "SELECT /* ; */ 3");
        CHECK_INT(c.line[0], 1);
        CHECK_INT(c.line[1], 2);
        CHECK_INT(c.line[2], 3);
        CHECK_INT(c.line[3], 5);
    }

    /* lines are counted inside strings, comments and dollar quotes */
    split("SELECT 'a\nb';\n/* x\ny */\nSELECT $$\n$$;\nSELECT \"q\nr\"; SELECT 4;",
          DIALECT_POSTGRES, &c);
    CHECK_INT(c.n, 4);
    CHECK_INT(c.line[0], 1);
    CHECK_INT(c.line[1], 5);
    CHECK_INT(c.line[2], 7);
    CHECK_INT(c.line[3], 8);

    /* nested block comments in postgres, not in sqlite */
    split("/* a /* nested ; */ still; */ SELECT 1; SELECT 2;", DIALECT_POSTGRES, &c);
    CHECK_INT(c.n, 2);
    CHECK_STR(c.text[0], "SELECT 1");
    CHECK_STR(c.text[1], "SELECT 2");
    split("/* a /* nested ; */ still; */ SELECT 1; SELECT 2;", DIALECT_SQLITE, &c);
    CHECK_INT(c.n, 3);
    CHECK_STR(c.text[0], "still");
    CHECK_STR(c.text[1], "*/ SELECT 1");
    CHECK_STR(c.text[2], "SELECT 2");

    /* E'' strings: backslash escapes the quote (postgres only) */
    split("SELECT E'it\\'s; fine', e'\\\\';\nSELECT 2;", DIALECT_POSTGRES, &c);
    CHECK_INT(c.n, 2);
    CHECK_STR(c.text[0], "SELECT E'it\\'s; fine', e'\\\\'");
    CHECK_STR(c.text[1], "SELECT 2");
    CHECK_INT(c.line[1], 2);
    /* a standard string ends at the quote after a backslash */
    split("SELECT 'a\\'; SELECT 2;", DIALECT_POSTGRES, &c);
    CHECK_INT(c.n, 2);
    CHECK_STR(c.text[0], "SELECT 'a\\'");

    /* sqlite identifier quotes */
    split("SELECT `a;b`, [c;d] FROM t; SELECT 2", DIALECT_SQLITE, &c);
    CHECK_INT(c.n, 2);
    CHECK_STR(c.text[0], "SELECT `a;b`, [c;d] FROM t");
    CHECK_STR(c.text[1], "SELECT 2");

    /* an unterminated string or comment runs to the end */
    split("SELECT 1; SELECT 'open; SELECT 3;", DIALECT_POSTGRES, &c);
    CHECK_INT(c.n, 2);
    CHECK_STR(c.text[1], "SELECT 'open; SELECT 3;");
    split("SELECT 1; /* open; SELECT 3;", DIALECT_POSTGRES, &c);
    CHECK_INT(c.n, 1);
}

static void dollar_quotes(void)
{
    coll c;
    split("CREATE FUNCTION f() RETURNS int AS $$ SELECT 1; $x $1 $ $$ LANGUAGE sql;\n"
          "SELECT $tag$ a; $$ ; $5 $t$ b $tag$;\n"
          "SELECT $1, a$b, $2 FROM t;\n"
          "SELECT $_x1$;$_x1$;",
          DIALECT_POSTGRES, &c);
    CHECK_INT(c.n, 4);
    CHECK_STR(c.text[0], "CREATE FUNCTION f() RETURNS int AS $$ SELECT 1; $x $1 $ $$ LANGUAGE sql");
    CHECK_STR(c.text[1], "SELECT $tag$ a; $$ ; $5 $t$ b $tag$");
    CHECK_STR(c.text[2], "SELECT $1, a$b, $2 FROM t");
    CHECK_STR(c.text[3], "SELECT $_x1$;$_x1$");
    CHECK_INT(c.line[1], 2);
    CHECK_INT(c.line[2], 3);
    CHECK_INT(c.line[3], 4);

    /* sqlite has no dollar quotes: $x is a parameter */
    split("SELECT $$; SELECT $a;", DIALECT_SQLITE, &c);
    CHECK_INT(c.n, 2);
    CHECK_STR(c.text[0], "SELECT $$");

    /* DO block */
    split("DO $$\nBEGIN\n  PERFORM 1;\n  COMMIT;\nEND\n$$;\nSELECT 1;", DIALECT_POSTGRES, &c);
    CHECK_INT(c.n, 2);
    CHECK_STR(c.text[0], "DO $$\nBEGIN\n  PERFORM 1;\n  COMMIT;\nEND\n$$");
    CHECK_STR(c.first[0], "DO");
    CHECK_STR(c.second[0], "");
    CHECK_INT(c.txn[0], 0);
    CHECK_INT(c.line[1], 7);

    /* plpgsql function with a dollar-quoted body */
    split("CREATE OR REPLACE FUNCTION touch() RETURNS trigger LANGUAGE plpgsql AS $fn$\n"
          "BEGIN\n  NEW.updated_at := now();\n  RETURN NEW;\nEND;\n$fn$;\n"
          "CREATE TRIGGER t BEFORE UPDATE ON x FOR EACH ROW EXECUTE FUNCTION touch();\n",
          DIALECT_POSTGRES, &c);
    CHECK_INT(c.n, 2);
    CHECK_STR(c.first[0], "CREATE");
    CHECK_STR(c.second[0], "OR");
    CHECK_INT(c.line[1], 7);
    CHECK_STR(c.text[1], "CREATE TRIGGER t BEFORE UPDATE ON x FOR EACH ROW EXECUTE FUNCTION touch()");
    split("CREATE FUNCTION g() RETURNS void LANGUAGE plpgsql AS $$ BEGIN END; $$; SELECT 1;",
          DIALECT_POSTGRES, &c);
    CHECK_INT(c.n, 2);
    CHECK_STR(c.text[0], "CREATE FUNCTION g() RETURNS void LANGUAGE plpgsql AS $$ BEGIN END; $$");
}

static void block_bodies(void)
{
    coll c;
    /* PostgreSQL SQL-standard function body */
    split("CREATE FUNCTION f() RETURNS int LANGUAGE sql\nBEGIN ATOMIC\n  SELECT 1;\n  SELECT 2;\nEND;\n"
          "SELECT f();",
          DIALECT_POSTGRES, &c);
    CHECK_INT(c.n, 2);
    CHECK_STR(c.text[0],
              "CREATE FUNCTION f() RETURNS int LANGUAGE sql\nBEGIN ATOMIC\n  SELECT 1;\n  SELECT 2;\nEND");
    CHECK_STR(c.text[1], "SELECT f()");
    CHECK_INT(c.line[1], 6);
    CHECK_INT(c.txn[0], 0);
    split("CREATE PROCEDURE p(x int) LANGUAGE sql BEGIN ATOMIC SELECT CASE WHEN x > 0 THEN 1 "
          "ELSE 2 END; INSERT INTO t VALUES (x); END; SELECT 3;",
          DIALECT_POSTGRES, &c);
    CHECK_INT(c.n, 2);
    CHECK_STR(c.text[1], "SELECT 3");

    /* SQLite trigger with a CASE ... END inside the body */
    static const int dialects[] = {DIALECT_SQLITE, DIALECT_POSTGRES};
    for (int d = 0; d < 2; d++) {
        split("CREATE TRIGGER trg AFTER UPDATE ON t\nBEGIN\n"
              "  UPDATE t SET n = CASE WHEN new.n > 0 THEN 1 ELSE 0 END WHERE id = new.id;\n"
              "  INSERT INTO log VALUES (new.id, 'end;');\nEND;\nINSERT INTO t VALUES (1);\n",
              dialects[d], &c);
        CHECK_INT(c.n, 2);
        CHECK_STR(c.text[0], "CREATE TRIGGER trg AFTER UPDATE ON t\nBEGIN\n"
                             "  UPDATE t SET n = CASE WHEN new.n > 0 THEN 1 ELSE 0 END WHERE id = new.id;\n"
                             "  INSERT INTO log VALUES (new.id, 'end;');\nEND");
        CHECK_STR(c.text[1], "INSERT INTO t VALUES (1)");
        CHECK_INT(c.line[1], 6);
    }
    /* a CASE in the WHEN clause, before the body */
    split("CREATE TEMP TRIGGER IF NOT EXISTS trg BEFORE INSERT ON t "
          "WHEN (CASE WHEN new.a THEN 1 END) BEGIN SELECT RAISE(ABORT, 'no'); END; SELECT 2;",
          DIALECT_SQLITE, &c);
    CHECK_INT(c.n, 2);
    CHECK_STR(c.text[1], "SELECT 2");

    /* CASE ... END outside a body does not confuse the splitter */
    split("SELECT CASE WHEN 1 THEN 'a' END; SELECT 2;", DIALECT_SQLITE, &c);
    CHECK_INT(c.n, 2);
    split("CREATE TABLE audit (id int, event text); BEGIN; END;", DIALECT_SQLITE, &c);
    CHECK_INT(c.n, 3);
    CHECK_INT(c.txn[1], 1);
    CHECK_INT(c.txn[2], 1);

    /* semicolons inside parentheses: a multi-action rule */
    split("CREATE RULE r AS ON INSERT TO t DO ALSO (INSERT INTO a VALUES (1); "
          "INSERT INTO b VALUES (2));\nSELECT 1;",
          DIALECT_POSTGRES, &c);
    CHECK_INT(c.n, 2);
    CHECK_STR(c.text[0], "CREATE RULE r AS ON INSERT TO t DO ALSO (INSERT INTO a VALUES (1); "
                         "INSERT INTO b VALUES (2))");
    CHECK_INT(c.line[1], 2);

    /* as psql: BEGIN, CASE and END count only outside parentheses, and only
       in CREATE [OR REPLACE] FUNCTION / PROCEDURE / [TEMP] TRIGGER; a
       parameter or column named begin opens no body */
    split("CREATE FUNCTION f(begin int) RETURNS int LANGUAGE sql AS $$ SELECT 1 $$;\n"
          "CREATE INDEX CONCURRENTLY i ON t (id);\nCOMMIT;",
          DIALECT_POSTGRES, &c);
    CHECK_INT(c.n, 3);
    CHECK_STR(c.text[0], "CREATE FUNCTION f(begin int) RETURNS int LANGUAGE sql AS $$ SELECT 1 $$");
    CHECK_INT(c.line[1], 2);
    CHECK_INT(c.txn[2], 1);
    for (int d = 0; d < 2; d++) {
        split("CREATE TABLE t(trigger TEXT, begin INT);\nCREATE TABLE u(x);\nBEGIN;\nCOMMIT;\n", dialects[d],
              &c);
        CHECK_INT(c.n, 4);
        CHECK_STR(c.text[0], "CREATE TABLE t(trigger TEXT, begin INT)");
        CHECK_INT(c.txn[2], 1);
        CHECK_INT(c.line[3], 4);
    }
    split("CREATE TABLE function (id int);\nCREATE TABLE x AS SELECT 1 AS begin;\nSELECT 2;", DIALECT_POSTGRES,
          &c);
    CHECK_INT(c.n, 3);
    CHECK_STR(c.text[2], "SELECT 2");
    /* CASE ... END in parentheses inside a body */
    split("CREATE TRIGGER trg AFTER INSERT ON t BEGIN\n"
          "  INSERT INTO log VALUES (new.id, CASE new.n WHEN 1 THEN 'one' END);\n"
          "  UPDATE t SET n = (CASE WHEN n > 0 THEN 1 END);\nEND;\nSELECT 3;",
          DIALECT_SQLITE, &c);
    CHECK_INT(c.n, 2);
    CHECK_STR(c.text[1], "SELECT 3");
    CHECK_INT(c.line[1], 5);
}

/* standard_conforming_strings off: '...' takes backslash escapes, as psql
   lexes it while the server reports the setting off */
static void nonstd_strings(void)
{
    coll c;
    split("SELECT 'a\\'; SET standard_conforming_strings = off; SELECT 'it\\'s; here';\n"
          "SET LOCAL standard_conforming_strings TO 'on'; SELECT 'b\\';\n"
          "set session standard_conforming_strings to false; SELECT 'c\\';'; RESET ALL; SELECT 'd\\';",
          DIALECT_POSTGRES, &c);
    CHECK_INT(c.n, 9);
    CHECK_STR(c.text[0], "SELECT 'a\\'");
    CHECK_STR(c.text[2], "SELECT 'it\\'s; here'");
    CHECK_INT(c.txn[2], 0);
    CHECK_STR(c.text[4], "SELECT 'b\\'");
    CHECK_STR(c.text[6], "SELECT 'c\\';'");
    CHECK_STR(c.text[8], "SELECT 'd\\'");
    /* off from the start (the server's setting), back with RESET */
    memset(&c, 0, sizeof(c));
    const char *sql = "SELECT 'x\\';'; RESET standard_conforming_strings; SET standard_conforming_strings = on;"
                      " SELECT 'y\\';";
    sql_split(sql, strlen(sql), DIALECT_POSTGRES | SQL_NONSTD_STRINGS, collect, &c);
    CHECK_INT(c.n, 4);
    CHECK_STR(c.text[0], "SELECT 'x\\';'");
    CHECK_STR(c.text[3], "SELECT 'y\\'");
    /* SQLite strings never take backslash escapes */
    split("SET standard_conforming_strings = off; SELECT 'a\\'; SELECT 2;", DIALECT_SQLITE, &c);
    CHECK_INT(c.n, 3);
}

static void txn_control(void)
{
    CHECK_INT(txn("BEGIN"), 1);
    CHECK_INT(txn("begin transaction"), 1);
    CHECK_INT(txn("BEGIN IMMEDIATE;"), 1);
    CHECK_INT(txn("COMMIT;"), 1);
    CHECK_INT(txn("commit work"), 1);
    CHECK_INT(txn("END;"), 1);
    CHECK_INT(txn("END TRANSACTION"), 1);
    CHECK_INT(txn("ROLLBACK;"), 1);
    CHECK_INT(txn("ROLLBACK TRANSACTION;"), 1);
    CHECK_INT(txn("START TRANSACTION ISOLATION LEVEL SERIALIZABLE;"), 1);
    CHECK_INT(txn("ABORT;"), 1);
    CHECK_INT(txn("  -- c\n  Commit ;"), 1);

    CHECK_INT(txn("ROLLBACK TO SAVEPOINT x;"), 0);
    CHECK_INT(txn("ROLLBACK TO x;"), 0);
    CHECK_INT(txn("ROLLBACK TRANSACTION TO SAVEPOINT x;"), 0);
    CHECK_INT(txn("ROLLBACK WORK TO x;"), 0);
    CHECK_INT(txn("rollback /* c */ transaction -- c\n to savepoint x;"), 0);
    CHECK_INT(txn("SAVEPOINT x;"), 0);
    CHECK_INT(txn("RELEASE SAVEPOINT x;"), 0);
    CHECK_INT(txn("START something;"), 0);
    CHECK_INT(txn("SELECT 'COMMIT';"), 0);
    CHECK_INT(txn("CREATE TABLE begin_log (id int);"), 0);
    CHECK_INT(txn("ENDS;"), 0);
    CHECK_INT(txn("BEGINNING;"), 0);
}

static void ident(const char *in, const char *want)
{
    buf b;
    buf_init(&b);
    sql_ident_append(&b, in, strlen(in));
    CHECK_STR(b.data ? b.data : "", want);
    buf_release(&b);
}

static void idents(void)
{
    ident("Billing", "billing");
    ident("\"Billing\"", "Billing");
    ident("\"a\"\"b\"", "a\"b");
    ident("\"My App\"", "My App");
    ident("ÜBER", "Über"); /* ASCII letters only, as PostgreSQL folds in UTF-8 */
}

void test_sqlsplit(void)
{
    idents();
    plain();
    quotes_and_comments();
    dollar_quotes();
    block_bodies();
    nonstd_strings();
    txn_control();
}
