/* test_sqlgen.c -- `strata new` and the SQL rendering of `strata sql`. */
#include "internal.h"
#include "sqlgen.h"
#include "unit.h"

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Path of a new migration's file relative to dir ("" on failure). */
static void new_mig(const char *file, int line, const char *dir, const char *name, int ts,
                    char *rel, size_t relsz)
{
    char *path = (char *)1;
    strata_error e;
    strata_code rc = strata_new_migration(dir, name, ts, &path, &e);
    unit_check_int(file, line, rc, STRATA_OK, "strata_new_migration", "STRATA_OK");
    rel[0] = 0;
    if (rc == STRATA_OK && path) {
        size_t dl = strlen(dir);
        unit_check(file, line, !strncmp(path, dir, dl) && path[dl] == '/', "path starts with dir/");
        snprintf(rel, relsz, "%s", path + dl + 1);
        free(path);
    }
}
#define NEW_MIG(dir, name, ts, rel) new_mig(__FILE__, __LINE__, dir, name, ts, rel, sizeof(rel))

static int all_digits_n(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (s[i] < '0' || s[i] > '9')
            return 0;
    return 1;
}

static void new_migration(void)
{
    char *d = tmpdir_new();
    char *dir = path_join(d, "db/migrations"); /* created with its parent */
    char rel[256];

    NEW_MIG(dir, "Add Users Table!", 0, rel);
    CHECK_STR(rel, "0001_add_users_table.sql");
    char *p = path_join(dir, rel);
    char *text = read_text(p);
    CHECK(text && !strncmp(text, "-- strata:up\n", 13));
    CHECK_HAS(text, "\n-- strata:down\n");
    free(text);
    free(p);
    NEW_MIG(dir, "  second -- one  ", 0, rel);
    CHECK_STR(rel, "0002_second_one.sql");
    NEW_MIG(dir, "CamelCase2Go", 0, rel);
    CHECK_STR(rel, "0003_camelcase2go.sql");

    /* the template loads cleanly: comment-only sections are no-ops */
    strata_migset *set = NULL;
    strata_error e;
    CHECK_INT(strata_migset_load(dir, &set, &e), STRATA_OK);
    CHECK_INT(strata_migset_count(set), 3);
    CHECK_INT(strata_migset_problem_count(set), 0);
    strata_migset_free(set);

    /* names without letters or digits are refused, nothing is written */
    char *path = (char *)1;
    CHECK_INT(strata_new_migration(dir, "", 0, &path, &e), STRATA_USAGE);
    CHECK(path == NULL);
    CHECK_INT(strata_new_migration(dir, "!!! ---", 0, &path, &e), STRATA_USAGE);
    CHECK_INT(strata_new_migration(dir, NULL, 0, &path, &e), STRATA_USAGE);
    CHECK_INT(e.code, STRATA_USAGE);
    CHECK_INT(strata_migset_load(dir, &set, &e), STRATA_OK);
    CHECK_INT(strata_migset_count(set), 3);
    strata_migset_free(set);

    /* numbering follows the highest version and keeps its width */
    write_file(dir, "0009_gap.sql", "-- strata:up\n");
    NEW_MIG(dir, "after gap", 0, rel);
    CHECK_STR(rel, "0010_after_gap.sql");
    write_file(dir, "9999_last.sql", "-- strata:up\n");
    NEW_MIG(dir, "wide", 0, rel);
    CHECK_STR(rel, "10000_wide.sql");

    /* timestamps on request */
    char *d2 = path_join(d, "ts");
    NEW_MIG(d2, "first", 1, rel);
    CHECK_INT(strlen(rel), 14 + strlen("_first.sql"));
    CHECK(all_digits_n(rel, 14) && !strcmp(rel + 14, "_first.sql"));
    CHECK(!strncmp(rel, "20", 2));
    /* a directory that already uses timestamps keeps using them */
    char *d3 = path_join(d, "ts2");
    NEW_MIG(d3, "seed", 0, rel); /* creates the directory */
    CHECK_STR(rel, "0001_seed.sql");
    write_file(d3, "20240101000000_old.sql", "-- strata:up\n");
    NEW_MIG(d3, "next", 0, rel);
    CHECK_INT(strlen(rel), 14 + strlen("_next.sql"));
    CHECK(all_digits_n(rel, 14) && !strcmp(rel + 14, "_next.sql"));
    char v[15];
    memcpy(v, rel, 14);
    v[14] = 0;
    CHECK_INT(version_cmp(v, "20240101000000"), 1);
    /* a timestamp in the future: the next version is one real second later */
    write_file(d3, "29991231235959_future.sql", "-- strata:up\n");
    NEW_MIG(d3, "later", 0, rel);
    CHECK_STR(rel, "30000101000000_later.sql");

    free(d3);
    free(d2);
    free(dir);
    tmpdir_free(d);
}

static const char M1[] = "-- strata:up\nCREATE TABLE a (id int);\n-- strata:down\nDROP TABLE a;\n";
static const char M2[] = "-- strata:up no-transaction\nCREATE INDEX CONCURRENTLY ia ON a (id);\n"
                         "-- strata:up dialect=sqlite\nCREATE INDEX ia ON a (id);\n"
                         "-- strata:down\nDROP INDEX ia;\n";
static const char M3[] = "-- strata:up\nINSERT INTO a VALUES (1); -- seed\nINSERT INTO a VALUES (2)\n";

static const char PG_TABLE[] =
    "-- strata sql: run with psql -v ON_ERROR_STOP=1 -f FILE (stop at the first error)\n"
    "SET client_encoding = 'UTF8';\n"
    "CREATE TABLE IF NOT EXISTS \"strata_migrations\" (version text PRIMARY KEY, name text NOT "
    "NULL DEFAULT '', checksum text NOT NULL DEFAULT '', applied_at timestamptz NOT NULL DEFAULT "
    "now(), duration_ms bigint NOT NULL DEFAULT 0, state text NOT NULL DEFAULT 'applied', error "
    "text, up_checksum text, note text);\n\n";

static void render(void)
{
    char *d = tmpdir_new();
    write_file(d, "0001_create.sql", M1);
    write_file(d, "0002_index.sql", M2);
    write_file(d, "0003_seed.sql", M3);
    strata_migset *set = NULL;
    strata_error e;
    CHECK_INT(strata_migset_load(d, &set, &e), STRATA_OK);
    CHECK_INT(strata_migset_count(set), 3);
    if (strata_migset_count(set) != 3) {
        strata_migset_free(set);
        tmpdir_free(d);
        return;
    }
    const char *sum1 = strata_migset_get(set, 0)->checksum;
    const char *sum2 = strata_migset_get(set, 1)->checksum;
    const char *sum3 = strata_migset_get(set, 2)->checksum;
    char want[8192];
    char *out = NULL;
    /* the up checksum: the up section in canonical form, so comments and
       blank space do not count */
    char up1[65], up2[65], up3[65], again[65];
    sql_norm_checksum("CREATE TABLE a (id int);\n", up1);
    sql_norm_checksum("CREATE INDEX CONCURRENTLY ia ON a (id);\n", up2);
    sql_norm_checksum("INSERT INTO a VALUES (1); -- seed\nINSERT INTO a VALUES (2)\n", up3);
    sql_norm_checksum("insert  into a values (1);\n/* c */ INSERT INTO a VALUES (2)", again);
    CHECK_STR(again, up3);
    sql_norm_checksum("INSERT INTO a VALUES (1); INSERT INTO a VALUES (3)", again);
    CHECK(strcmp(again, up3) != 0);
    /* what the database sees differently always counts: quoted names in
       another case, dollar-quoted bodies (blanks and "comments" inside
       them too), escape strings, SQLite's double-quoted strings; needless
       quotes around a lower-case name do not */
    static const char *const differ[][2] = {
        {"CREATE TABLE \"A\" (x int)", "CREATE TABLE \"a\" (x int)"},
        {"INSERT INTO a VALUES ($$Hello$$)", "INSERT INTO a VALUES ($$hello$$)"},
        {"INSERT INTO a VALUES ($$a -- b$$)", "INSERT INTO a VALUES ($$a -- c$$)"},
        {"INSERT INTO a VALUES ($q$A  B$q$)", "INSERT INTO a VALUES ($q$A B$q$)"},
        {"INSERT INTO a VALUES (E'a\\'' || 'B')", "INSERT INTO a VALUES (E'a\\'' || 'b')"},
        {"INSERT INTO a VALUES(\"Hello\")", "INSERT INTO a VALUES(\"hello\")"},
        {"SELECT [Users] FROM t", "SELECT [users] FROM t"},
    };
    for (size_t i = 0; i < sizeof(differ) / sizeof(differ[0]); i++) {
        char a[65], b[65];
        sql_norm_checksum(differ[i][0], a);
        sql_norm_checksum(differ[i][1], b);
        CHECK(strcmp(a, b) != 0);
    }
    static const char *const same[][2] = {
        {"CREATE TABLE \"users\" (x int)", "create table users (X INT)"},
        {"CREATE FUNCTION f() RETURNS int AS $$ SELECT 1 $$ LANGUAGE sql; -- x",
         "CREATE  FUNCTION f() RETURNS int AS $$ SELECT 1 $$ LANGUAGE sql;"},
        {"SELECT $1, a$b FROM t", "select $1,  A$B from T"},
    };
    for (size_t i = 0; i < sizeof(same) / sizeof(same[0]); i++) {
        char a[65], b[65];
        sql_norm_checksum(same[i][0], a);
        sql_norm_checksum(same[i][1], b);
        CHECK_STR(a, b);
    }

    /* base to head on postgres, exactly */
    CHECK_INT(strata_sql_render(set, "postgres", NULL, NULL, NULL, 0, &out, &e), STRATA_OK);
    snprintf(want, sizeof(want),
             "%s"
             "-- 0001_create (up)\nBEGIN;\nCREATE TABLE a (id int);\n"
             "INSERT INTO \"strata_migrations\" (version, name, checksum, applied_at, duration_ms, "
             "state, up_checksum) VALUES ('0001', 'create', '%s', now(), 0, 'applied', '%s');\nCOMMIT;\nRESET ALL;\nSET client_encoding = 'UTF8';\n\n"
             "-- 0002_index (up, no-transaction)\n"
             "INSERT INTO \"strata_migrations\" (version, name, checksum, applied_at, duration_ms, "
             "state, error, up_checksum) VALUES ('0002', 'index', '%s', now(), 0, 'failed', "
             "'interrupted before completion', '%s');\n"
             "CREATE INDEX CONCURRENTLY ia ON a (id);\nRESET ALL;\nSET client_encoding = 'UTF8';\nBEGIN;\n"
             "DELETE FROM \"strata_migrations\" WHERE version = '0002';\n"
             "INSERT INTO \"strata_migrations\" (version, name, checksum, applied_at, duration_ms, "
             "state, up_checksum) VALUES ('0002', 'index', '%s', now(), 0, 'applied', '%s');\nCOMMIT;\nRESET ALL;\nSET client_encoding = 'UTF8';\n\n"
             "-- 0003_seed (up)\nBEGIN;\nINSERT INTO a VALUES (1);\nINSERT INTO a VALUES (2);\n"
             "INSERT INTO \"strata_migrations\" (version, name, checksum, applied_at, duration_ms, "
             "state, up_checksum) VALUES ('0003', 'seed', '%s', now(), 0, 'applied', '%s');\nCOMMIT;\nRESET ALL;\nSET client_encoding = 'UTF8';\n\n",
             PG_TABLE, sum1, up1, sum2, up2, sum2, up2, sum3, up3);
    CHECK_STR(out, want);
    free(out);
    /* the same with explicit "base" and "head" */
    CHECK_INT(strata_sql_render(set, NULL, NULL, "base", "head", 0, &out, &e), STRATA_OK);
    CHECK_STR(out, want);
    free(out);

    /* a range: from is exclusive, to inclusive; by id or numeric version */
    CHECK_INT(strata_sql_render(set, "postgres", "app.migs", "1", "0002_index", 0, &out, &e),
              STRATA_OK);
    CHECK_HAS(out, "CREATE TABLE IF NOT EXISTS \"app\".\"migs\" (");
    CHECK_LACKS(out, "0001_create (up)");
    /* it stops unless the database is at --from */
    CHECK_HAS(out, "-- this script starts after 0001_create\nDO 'BEGIN PERFORM 1 FROM \"app\".\"migs\" "
                   "WHERE version = ''0001'' AND state = ''applied'' FOR UPDATE; IF NOT FOUND");
    CHECK_HAS(out, "''strata: migration 0001_create is not applied (this script starts after it)''");
    /* no-transaction: recorded failed first (no DELETE: a second run fails on
       the primary key), the index outside any transaction, then applied */
    CHECK_HAS(out, "-- 0002_index (up, no-transaction)\nINSERT INTO \"app\".\"migs\" (");
    CHECK_HAS(out, "'failed', 'interrupted before completion', '");
    CHECK_HAS(out, "');\nCREATE INDEX CONCURRENTLY ia ON a (id);\nRESET ALL;\nSET client_encoding = 'UTF8';\nBEGIN;\n"
                   "DELETE FROM \"app\".\"migs\" WHERE version = '0002';\nINSERT INTO \"app\".\"migs\" (");
    CHECK_LACKS(out, "0003_seed");
    free(out);

    /* sqlite: the dialect=sqlite section, in a transaction; sqlite's clock */
    CHECK_INT(strata_sql_render(set, "sqlite", NULL, "0001", "0002", 0, &out, &e), STRATA_OK);
    CHECK_HAS(out, "applied_at text NOT NULL");
    CHECK_HAS(out, "-- 0002_index (up)\nPRAGMA foreign_keys = OFF;\nBEGIN;\nCREATE INDEX ia ON a (id);\nINSERT INTO");
    CHECK_HAS(out, "strftime('%Y-%m-%dT%H:%M:%SZ', 'now'), 0, 'applied', '");
    CHECK_LACKS(out, "CONCURRENTLY");
    CHECK_LACKS(out, "now(),");
    free(out);

    /* down from 0002 to base: newest first, each step stops unless its
       migration is on record, applied or failed as strata down takes it
       (the row locked), version rows deleted */
    const char *expect2 =
        "DO 'BEGIN PERFORM 1 FROM \"strata_migrations\" WHERE version = ''0002'' AND state IN "
        "(''applied'', ''failed'') FOR UPDATE; IF NOT FOUND THEN RAISE EXCEPTION USING MESSAGE = ''strata: "
        "migration 0002_index is not applied (this script reverts it)'', HINT = ''check strata "
        "status; render the script again with the right --from''; END IF; END';\n";
    const char *expect1 =
        "DO 'BEGIN PERFORM 1 FROM \"strata_migrations\" WHERE version = ''0001'' AND state IN "
        "(''applied'', ''failed'') FOR UPDATE; IF NOT FOUND THEN RAISE EXCEPTION USING MESSAGE = ''strata: "
        "migration 0001_create is not applied (this script reverts it)'', HINT = ''check strata "
        "status; render the script again with the right --from''; END IF; END';\n";
    /* ... after checking that nothing above 0002 is on record */
    const char *expect3 =
        "-- this script reverts what is below 0003_seed\n"
        "DO 'BEGIN PERFORM 1 FROM \"strata_migrations\" WHERE version = ''0003''; IF FOUND THEN RAISE "
        "EXCEPTION USING MESSAGE = ''strata: migration 0003_seed is on record (this script reverts the "
        "migrations below it)'', HINT = ''check strata status; render the script again with the right "
        "--from''; END IF; END';\n\n";
    CHECK_INT(strata_sql_render(set, "postgres", NULL, "0002", "base", 1, &out, &e), STRATA_OK);
    snprintf(want, sizeof(want),
             "%s%s"
             "-- 0002_index (down)\nBEGIN;\n%s"
             "DROP INDEX ia;\n"
             "DELETE FROM \"strata_migrations\" WHERE version = '0002';\nCOMMIT;\nRESET ALL;\nSET client_encoding = 'UTF8';\n\n"
             "-- 0001_create (down)\nBEGIN;\n%s"
             "DROP TABLE a;\n"
             "DELETE FROM \"strata_migrations\" WHERE version = '0001';\nCOMMIT;\nRESET ALL;\nSET client_encoding = 'UTF8';\n\n",
             PG_TABLE, expect3, expect2, expect1);
    CHECK_STR(out, want);
    free(out);
    CHECK_INT(strata_sql_render(set, "postgres", NULL, "0002", NULL, 1, &out, &e), STRATA_OK);
    CHECK_STR(out, want);
    free(out);
    CHECK_INT(strata_sql_render(set, "postgres", NULL, "0002", "0001", 1, &out, &e), STRATA_OK);
    CHECK_HAS(out, "-- 0002_index (down)");
    CHECK_LACKS(out, "-- 0001_create (down)");
    free(out);

    /* an irreversible migration in the down range */
    out = (char *)1;
    CHECK_INT(strata_sql_render(set, "postgres", NULL, NULL, "0001", 1, &out, &e),
              STRATA_IRREVERSIBLE);
    CHECK(out == NULL);
    CHECK_INT(e.code, STRATA_IRREVERSIBLE);
    CHECK_HAS(e.message, "0003_seed");
    CHECK_HAS(e.file, "0003_seed.sql");
    CHECK(e.hint[0] != 0);

    /* unknown targets and dialects */
    CHECK_INT(strata_sql_render(set, "postgres", NULL, NULL, "0099", 0, &out, &e),
              STRATA_TARGET_NOT_FOUND);
    CHECK(out == NULL);
    CHECK_HAS(e.message, "'0099'");
    CHECK_INT(strata_sql_render(set, "postgres", NULL, "nope", NULL, 0, &out, &e),
              STRATA_TARGET_NOT_FOUND);
    CHECK_HAS(e.message, "'nope'");
    CHECK_INT(strata_sql_render(set, "mysql", NULL, NULL, NULL, 0, &out, &e), STRATA_USAGE);
    CHECK_HAS(e.message, "mysql");
    CHECK(out == NULL);
    strata_migset_free(set);

    /* no up section for the engine */
    write_file(d, "0004_pg_only.sql", "-- strata:up dialect=postgres\nSELECT 1;\n-- strata:down\n");
    CHECK_INT(strata_migset_load(d, &set, &e), STRATA_OK);
    CHECK_INT(strata_sql_render(set, "sqlite", NULL, "0003", NULL, 0, &out, &e), STRATA_PARSE_ERROR);
    CHECK_HAS(e.message, "no up section for sqlite");
    CHECK_INT(strata_sql_render(set, "postgres", NULL, "0003", NULL, 0, &out, &e), STRATA_OK);
    CHECK_HAS(out, "-- 0004_pg_only (up)\nBEGIN;\nSELECT 1;\nINSERT");
    free(out);
    /* down with an empty generic down section: only the bookkeeping */
    CHECK_INT(strata_sql_render(set, "sqlite", NULL, NULL, "0003", 1, &out, &e), STRATA_OK);
    CHECK_HAS(out, "-- strata sql: run with sqlite3 DB < FILE; .bail on stops it at the first error\n"
                   ".bail on\nCREATE TABLE IF NOT EXISTS");
    CHECK_HAS(out, "-- 0004_pg_only (down)\nPRAGMA foreign_keys = OFF;\nBEGIN;\nCREATE TEMP TABLE IF NOT EXISTS "
                   "strata_expect (");
    CHECK_HAS(out, "CHECK (ok = 1));\nINSERT INTO strata_expect SELECT 'strata: migration 0004_pg_only is not "
                   "applied (this script reverts it)', count(*) FROM \"strata_migrations\" WHERE version = "
                   "'0004' AND state IN ('applied', 'failed');\nDELETE FROM");
    free(out);
    strata_migset_free(set);

    /* a broken set is refused with its first problem */
    write_file(d, "4_dup.sql", M1);
    CHECK_INT(strata_migset_load(d, &set, &e), STRATA_OK);
    CHECK_INT(strata_sql_render(set, "postgres", NULL, NULL, NULL, 0, &out, &e),
              STRATA_DUPLICATE_VERSION);
    CHECK(out == NULL);
    strata_migset_free(set);
    tmpdir_free(d);

    /* an empty directory renders only the version table */
    d = tmpdir_new();
    CHECK_INT(strata_migset_load(d, &set, &e), STRATA_OK);
    CHECK_INT(strata_sql_render(set, "postgres", NULL, NULL, NULL, 0, &out, &e), STRATA_OK);
    CHECK_STR(out, PG_TABLE);
    free(out);
    strata_migset_free(set);
    tmpdir_free(d);
}

static void statements(void)
{
    buf b;
    buf_init(&b);
    /* a trailing line comment must not swallow the semicolon */
    sqlgen_statements(&b, "SELECT 1 -- note\n;\n  SELECT 2 ;\n-- only a comment\n", DIALECT_POSTGRES);
    CHECK_STR(b.data, "SELECT 1 -- note\n;\nSELECT 2;\n");
    buf_release(&b);
    sqlgen_statements(&b, "DO $$ BEGIN PERFORM 1; END $$;\nSELECT '--';", DIALECT_POSTGRES);
    CHECK_HAS(b.data, "DO $$ BEGIN PERFORM 1; END $$;\n");
    buf_release(&b);
    sqlgen_statements(&b, "-- nothing\n", DIALECT_SQLITE);
    CHECK(b.data == NULL || b.data[0] == 0);
    buf_release(&b);
}

/* strata_write_migration: the text whole, under the next name, and no
   temporary file left in the directory */
static void write_migration(void)
{
    char *d = tmpdir_new();
    char *path = NULL;
    strata_error e;
    const char *text = "-- strata:up\nCREATE TABLE t (id integer);\n-- strata:down\nDROP TABLE t;\n";
    CHECK_INT(strata_write_migration(d, "from diff", 0, text, &path, &e), STRATA_OK);
    CHECK(path && strstr(path, "/0001_from_diff.sql"));
    char *got = path ? read_text(path) : NULL;
    CHECK_STR(got ? got : "", text);
    free(got);
    free(path);
    path = NULL;
    CHECK_INT(strata_write_migration(d, "again", 0, "-- strata:up\n", &path, &e), STRATA_OK);
    CHECK(path && strstr(path, "/0002_again.sql"));
    free(path);
    /* made from the directory as it held 0001: 0002 came in since */
    path = NULL;
    CHECK_INT(strata_write_migration_after(d, "stale", 0, "-- strata:up\n", "0001", &path, &e), STRATA_DIR_CHANGED);
    CHECK(path == NULL);
    CHECK(strstr(e.message, "its newest version is now 0002, not 0001") != NULL);
    CHECK_INT(strata_write_migration_after(d, "stale", 0, "-- strata:up\n", "", &path, &e), STRATA_DIR_CHANGED);
    CHECK(strstr(e.message, "not none") != NULL);
    CHECK_INT(strata_write_migration_after(d, "fresh", 0, "-- strata:up\n", "0002", &path, &e), STRATA_OK);
    CHECK(path && strstr(path, "/0003_fresh.sql"));
    free(path);
    path = NULL;
    char *d2 = tmpdir_new();
    CHECK_INT(strata_write_migration_after(d2, "first", 0, "-- strata:up\n", "", &path, &e), STRATA_OK);
    CHECK(path && strstr(path, "/0001_first.sql"));
    free(path);
    tmpdir_free(d2);
    DIR *dh = opendir(d);
    int files = 0, temps = 0;
    for (struct dirent *de; dh && (de = readdir(dh));) {
        if (de->d_name[0] != '.')
            files++;
        else if (strcmp(de->d_name, ".") && strcmp(de->d_name, ".."))
            temps++;
    }
    if (dh)
        closedir(dh);
    CHECK_INT(files, 3);
    CHECK_INT(temps, 0);
    tmpdir_free(d);
}

/* Which verify queries a SQLite script checks itself (1): a SELECT of one
   column (commas inside parentheses and CTEs do not count); other queries
   are printed for reading, after a comment (0); statements that return no
   rows run as they are (-1) */
static void verify_queries(void)
{
    static const struct {
        const char *q;
        int checked;
    } cases[] = {
        {"SELECT count(*) = 1 FROM t", 1},
        {"select coalesce(a, b) from t where x in (1, 2)", 1},
        {"WITH w (a, b) AS (SELECT 1, 2) SELECT a FROM w", 1},
        {"SELECT (SELECT 1, 2 LIMIT 1)", 1},
        {"SELECT 'a,b'", 1},
        {"SELECT \"a,b\" FROM t", 1},
        {"SELECT a, b FROM t", 0},
        {"SELECT * FROM t", 0},
        {"SELECT t.* FROM t", 0},
        {"VALUES (1)", 0},
        {"PRAGMA foreign_key_check", 0},
        {"INSERT INTO t VALUES (1, 2) RETURNING a", 0},
        {"CREATE TEMP TABLE x (a int)", -1},
        {"CREATE TEMP TABLE x AS SELECT a FROM t", -1},
        {"WITH w AS (SELECT 1) INSERT INTO t SELECT * FROM w", -1},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        char *d = tmpdir_new();
        char text[512];
        snprintf(text, sizeof(text), "-- strata:up\nCREATE TABLE t (a int, b int);\n-- strata:verify\n%s\n",
                 cases[i].q);
        write_file(d, "0001_v.sql", text);
        strata_migset *set = NULL;
        strata_error e;
        char *out = NULL;
        CHECK_INT(strata_migset_load(d, &set, &e), STRATA_OK);
        CHECK_INT(strata_sql_render(set, "sqlite", NULL, NULL, NULL, 0, &out, &e), STRATA_OK);
        int checked = out && strstr(out, "INSERT INTO strata_verify SELECT");
        int noted = out && strstr(out, "verify query not checked by this script");
        if (cases[i].checked > 0)
            CHECK(checked && !noted);
        else if (!cases[i].checked)
            CHECK(!checked && noted);
        else
            CHECK(!checked && !noted);
        if (!out || (cases[i].checked > 0) != !!checked || (!cases[i].checked) != !!noted)
            fprintf(stderr, "  verify query: %s\n", cases[i].q);
        free(out);
        strata_migset_free(set);
        tmpdir_free(d);
    }
}

void test_sqlgen(void)
{
    verify_queries();
    new_migration();
    write_migration();
    render();
    statements();
}
