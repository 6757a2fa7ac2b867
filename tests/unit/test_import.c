/* test_import.c -- the readers of strata import, on small directories */
#include "import/import.h"
#include "unit.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

static strata_code read_with(import_reader r, const char *dir, const strata_import_opts *o, import_set *s,
                             strata_error *err)
{
    strata_import_opts none = {0};
    memset(s, 0, sizeof(*s));
    strata_error_clear(err);
    return r(dir, o ? o : &none, s, err);
}

static void sub(const char *dir, const char *name)
{
    char *p = path_join(dir, name);
    mkdir(p, 0777);
    free(p);
}

static void test_dbmate(void)
{
    char *d = tmpdir_new();
    write_file(d, "10_b.sql", "-- migrate:up\nselect 10;\n-- migrate:down\n");
    write_file(d, "9_a.sql", "-- head\n-- migrate:up transaction:false\nselect 9;\n\n-- migrate:down   transaction:false\nselect -9;\n");
    write_file(d, "notes.txt", "ignored");
    import_set s;
    strata_error err;
    CHECK_INT(read_with(import_dbmate, d, NULL, &s, &err), STRATA_OK);
    CHECK_INT(s.n, 2);
    if (s.n == 2) {
        CHECK_STR(s.v[0].version, "10"); /* dbmate orders by file name */
        CHECK_STR(s.v[1].version, "9");
        CHECK_STR(s.v[1].name, "a");
        CHECK_STR(s.v[1].up, "-- head\nselect 9;\n\n");
        CHECK_STR(s.v[1].down, "select -9;\n");
        CHECK_INT(s.v[1].up_notx, 1);
        CHECK_INT(s.v[1].down_notx, 1);
        CHECK_INT(s.v[0].up_notx, 0);
        CHECK_STR(s.v[0].down, "");
        CHECK_INT(s.v[0].has_down, 1);
    }
    import_set_release(&s);
    /* the order disagrees with strata's numeric one: renumbered */
    char *out = path_join(d, "out");
    strata_import_report *r = NULL;
    CHECK_INT(strata_import("dbmate", d, out, NULL, &r, &err), STRATA_OK);
    if (r) {
        CHECK_INT(r->count, 2);
        CHECK_INT(r->renumbered, 2);
        CHECK_STR(r->files[0], "0001_b.sql");
        CHECK_STR(r->files[1], "0002_a.sql");
    }
    strata_import_report_free(r);
    char *p = path_join(out, "0002_a.sql");
    char *t = read_text(p);
    CHECK_STR(t, "-- import: tool=dbmate version=9 file=9_a.sql\n-- strata:up no-transaction\n-- head\nselect 9;\n\n"
                 "-- strata:down no-transaction\nselect -9;\n");
    free(t);
    free(p);
    /* a second import into the same directory needs force */
    CHECK_INT(strata_import("dbmate", d, out, NULL, NULL, &err), STRATA_FILE_EXISTS);
    strata_import_opts force = {NULL, 1, 0};
    CHECK_INT(strata_import("dbmate", d, out, &force, NULL, &err), STRATA_OK);
    free(out);

    write_file(d, "11_c.sql", "-- migrate:up\nselect 1;\n-- migrate:down\n-- migrate:up\nselect 2;\n-- migrate:down\n");
    CHECK_INT(read_with(import_dbmate, d, NULL, &s, &err), STRATA_IMPORT_UNSUPPORTED);
    CHECK_HAS(err.message, "11_c.sql");
    import_set_release(&s);
    write_file(d, "11_c.sql", "-- migrate:up\nselect 1;\n");
    CHECK_INT(read_with(import_dbmate, d, NULL, &s, &err), STRATA_PARSE_ERROR);
    CHECK_HAS(err.message, "no '-- migrate:down'");
    import_set_release(&s);
    write_file(d, "11_c.sql", "create table x (a int);\n-- migrate:up\n-- migrate:down\n");
    CHECK_INT(read_with(import_dbmate, d, NULL, &s, &err), STRATA_PARSE_ERROR);
    import_set_release(&s);
    tmpdir_free(d);
}

static void test_goose(void)
{
    char *d = tmpdir_new();
    write_file(d, "20240101000000_late.sql", "-- +goose Up\nselect 2;\n");
    write_file(d, "00001_first.sql",
               "-- +goose NO TRANSACTION\n-- +goose UP\n-- +goose StatementBegin\nselect 1;\n-- +goose StatementEnd\n"
               "-- +goose Down\nselect -1;\n");
    write_file(d, "main.go", "package main\n");
    import_set s;
    strata_error err;
    CHECK_INT(read_with(import_goose, d, NULL, &s, &err), STRATA_OK);
    CHECK_INT(s.n, 2);
    if (s.n == 2) {
        CHECK_STR(s.v[0].version, "00001");
        CHECK_STR(s.v[0].up, "-- +goose NO TRANSACTION\n-- +goose StatementBegin\nselect 1;\n-- +goose StatementEnd\n");
        CHECK_STR(s.v[0].down, "select -1;\n");
        CHECK_INT(s.v[0].up_notx, 1);
        CHECK_INT(s.v[0].down_notx, 1);
        CHECK_INT(s.v[1].has_down, 1); /* goose's down of a file without Down runs nothing */
        CHECK_STR(s.v[1].down, "");
    }
    import_set_release(&s);

    write_file(d, "00002_env.sql", "-- +goose Up\n-- +goose ENVSUB ON\nselect '${IMPORT_T_NAME}', '${IMPORT_T_UNSET:-dflt}', $$x$$, $IMPORT_T_NAME, \\$y;\n-- +goose ENVSUB OFF\nselect '${KEEP}';\n");
    CHECK_INT(read_with(import_goose, d, NULL, &s, &err), STRATA_IMPORT_UNSUPPORTED);
    CHECK_HAS(err.message, "00002_env.sql', line 2: ENVSUB");
    import_set_release(&s);
    setenv("IMPORT_T_NAME", "alice", 1);
    unsetenv("IMPORT_T_UNSET");
    strata_import_opts env = {NULL, 0, 1};
    CHECK_INT(read_with(import_goose, d, &env, &s, &err), STRATA_OK);
    if (s.n == 3)
        CHECK_STR(s.v[1].up, "-- +goose ENVSUB ON\nselect 'alice', 'dflt', $x$, alice, $y;\n-- +goose ENVSUB OFF\nselect '${KEEP}';\n");
    import_set_release(&s);
    write_file(d, "00002_env.sql", "-- +goose Up\n-- +goose ENVSUB ON\nselect '${IMPORT_T_UNSET}';\n");
    CHECK_INT(read_with(import_goose, d, &env, &s, &err), STRATA_IMPORT_UNSUPPORTED);
    CHECK_HAS(err.message, "IMPORT_T_UNSET is not set");
    import_set_release(&s);
    write_file(d, "00002_env.sql", "-- +goose Up\n-- +goose Sideways\n");
    CHECK_INT(read_with(import_goose, d, NULL, &s, &err), STRATA_PARSE_ERROR);
    CHECK_HAS(err.message, "unknown goose annotation");
    import_set_release(&s);
    write_file(d, "00002_env.sql", "-- +goose Up\nselect 1;\n");
    write_file(d, "00003_go.go", "package migrations\n");
    CHECK_INT(read_with(import_goose, d, NULL, &s, &err), STRATA_IMPORT_UNSUPPORTED);
    CHECK_HAS(err.message, "00003_go.go' is a goose Go migration");
    import_set_release(&s);
    tmpdir_free(d);
}

static void test_golang_migrate(void)
{
    char *d = tmpdir_new();
    write_file(d, "1_a.up.sql", "create table a (x int);\n");
    write_file(d, "1_a.down.sql", "drop table a;\n");
    write_file(d, "10_c.up.sql", "BEGIN;\ncreate table c (x int);\nCOMMIT;\n");
    write_file(d, "2_b.up.sql", "create table b (x int);\n");
    import_set s;
    strata_error err;
    CHECK_INT(read_with(import_golang_migrate, d, NULL, &s, &err), STRATA_OK);
    CHECK_INT(s.n, 3);
    if (s.n == 3) {
        CHECK_STR(s.v[0].file, "1_a.up.sql,1_a.down.sql");
        CHECK_INT(s.v[0].has_down, 1);
        CHECK_STR(s.v[1].version, "2");
        CHECK_INT(s.v[1].has_down, 0); /* up-only: irreversible */
        CHECK_STR(s.v[2].version, "10");
        CHECK_INT(s.v[2].up_notx, 1); /* its own BEGIN/COMMIT */
        CHECK_INT(s.v[0].up_notx, 0);
    }
    import_set_release(&s);
    write_file(d, "3_d.down.sql", "select 1;\n");
    CHECK_INT(read_with(import_golang_migrate, d, NULL, &s, &err), STRATA_IMPORT_UNSUPPORTED);
    CHECK_HAS(err.message, "no up file for version 3");
    import_set_release(&s);
    write_file(d, "3_d.up.json", "{}");
    CHECK_INT(read_with(import_golang_migrate, d, NULL, &s, &err), STRATA_IMPORT_UNSUPPORTED);
    CHECK_HAS(err.message, "'.json', not SQL");
    import_set_release(&s);
    tmpdir_free(d);
}

static void test_flyway(void)
{
    char *d = tmpdir_new();
    sub(d, "more");
    write_file(d, "V2__two.sql", "select 2;\n");
    write_file(d, "V1.10__one_ten.sql", "select 110;\n");
    write_file(d, "more/V1_1__one_one.sql", "select 11;\n");
    write_file(d, "V1__one.sql", "select 1;\n");
    write_file(d, "U1.10__one_ten.sql", "select -110;\n");
    write_file(d, "V2__two.sql.conf", "executeInTransaction=false\n");
    import_set s;
    strata_error err;
    CHECK_INT(read_with(import_flyway, d, NULL, &s, &err), STRATA_OK);
    CHECK_INT(s.n, 4);
    if (s.n == 4) {
        CHECK_STR(s.v[0].version, "1");
        CHECK_STR(s.v[1].version, "1.1");
        CHECK_STR(s.v[1].file, "more/V1_1__one_one.sql");
        CHECK_STR(s.v[2].version, "1.10");
        CHECK_STR(s.v[2].down, "select -110;\n");
        CHECK_STR(s.v[2].file, "V1.10__one_ten.sql,U1.10__one_ten.sql");
        CHECK_STR(s.v[3].version, "2");
        CHECK_INT(s.v[3].up_notx, 1);
        CHECK_INT(s.v[0].has_down, 0);
    }
    import_set_release(&s);
    /* a baseline: the fresh database's history starts from it */
    write_file(d, "B1.1__base.sql", "select 'base';\n");
    CHECK_INT(read_with(import_flyway, d, NULL, &s, &err), STRATA_OK);
    CHECK_INT(s.n, 3);
    if (s.n == 3) {
        CHECK_STR(s.v[0].version, "1.1");
        CHECK_STR(s.v[0].file, "B1.1__base.sql");
        CHECK_HAS(s.v[0].up, "stands for V1__one.sql, more/V1_1__one_one.sql\nselect 'base';\n");
        CHECK_STR(s.v[1].version, "1.10");
    }
    import_set_release(&s);
    /* an undo at the baseline's own version takes back that version alone,
       not all that the baseline stands for: named, not the baseline's down */
    write_file(d, "U1.1__one_one.sql", "drop table one_one;\n");
    CHECK_INT(read_with(import_flyway, d, NULL, &s, &err), STRATA_OK);
    if (s.n >= 1) {
        CHECK_INT(s.v[0].has_down, 0);
        CHECK_HAS(s.v[0].up, "U1.1__one_one.sql");
    }
    import_set_release(&s);
    char *u11 = path_join(d, "U1.1__one_one.sql");
    remove(u11);
    free(u11);
    write_file(d, "V1.0__dup.sql", "select 1;\n");
    CHECK_INT(read_with(import_flyway, d, NULL, &s, &err), STRATA_DUPLICATE_VERSION);
    import_set_release(&s);
    char *p = path_join(d, "V1.0__dup.sql");
    remove(p);
    free(p);
    write_file(d, "R__views.sql", "create view v as select 1;\n");
    CHECK_INT(read_with(import_flyway, d, NULL, &s, &err), STRATA_IMPORT_UNSUPPORTED);
    CHECK_HAS(err.message, "R__views.sql' is a Flyway repeatable migration");
    import_set_release(&s);
    p = path_join(d, "R__views.sql");
    remove(p);
    free(p);
    write_file(d, "V3__ph.sql", "create table t (x int);\ngrant select on t to ${reader};\n");
    CHECK_INT(read_with(import_flyway, d, NULL, &s, &err), STRATA_IMPORT_UNSUPPORTED);
    CHECK_HAS(err.message, "V3__ph.sql', line 2: Flyway placeholder '${reader}'");
    import_set_release(&s);
    /* an unclosed "${" (or one closed on another line, or "${}") is no
       placeholder: Flyway runs it as written; a later real one still is */
    write_file(d, "V3__ph.sql", "select '${not closed';\nselect '${x\n}', '${}';\n");
    CHECK_INT(read_with(import_flyway, d, NULL, &s, &err), STRATA_OK);
    import_set_release(&s);
    write_file(d, "V3__ph.sql", "select '${open';\nselect '${schema}.t';\n");
    CHECK_INT(read_with(import_flyway, d, NULL, &s, &err), STRATA_IMPORT_UNSUPPORTED);
    CHECK_HAS(err.message, "V3__ph.sql', line 2: Flyway placeholder '${schema}'");
    import_set_release(&s);
    write_file(d, "V3__ph.sql", "select 3;\n");
    write_file(d, "V4__Java.java", "class V4__Java {}\n");
    CHECK_INT(read_with(import_flyway, d, NULL, &s, &err), STRATA_IMPORT_UNSUPPORTED);
    CHECK_HAS(err.message, "Java migration");
    import_set_release(&s);
    tmpdir_free(d);
}

static void test_sqitch(void)
{
    char *d = tmpdir_new();
    sub(d, "deploy");
    sub(d, "revert");
    sub(d, "verify");
    write_file(d, "sqitch.plan", "%syntax-version=1.0.0\n%project=t\n\n"
                                 "a 2024-01-01T00:00:00Z A <a@x> # first\n"
                                 "b [a] 2024-01-01T00:00:00Z A <a@x>\n@v1 2024-01-01T00:00:00Z A <a@x>\n"
                                 "b [b@v1] 2024-01-02T00:00:00Z A <a@x> # reworked\n");
    write_file(d, "deploy/a.sql", "BEGIN;\ncreate table a (x int);\nCOMMIT;\n");
    write_file(d, "revert/a.sql", "drop table a;\n");
    write_file(d, "verify/a.sql", "BEGIN;\nselect x from a limit 10;\n  rollback;  \n");
    write_file(d, "deploy/b@v1.sql", "create view b as select 1;\n");
    write_file(d, "deploy/b.sql", "create view b as select 2;\n");
    import_set s;
    strata_error err;
    CHECK_INT(read_with(import_sqitch, d, NULL, &s, &err), STRATA_OK);
    CHECK_INT(s.n, 3);
    if (s.n == 3) {
        CHECK_STR(s.v[0].version, "a");
        CHECK_INT(s.v[0].up_notx, 1);
        CHECK_INT(s.v[0].down_notx, 0);
        CHECK_STR(s.v[0].verify,
                  "-- import: each query below is wrapped to pass unless it fails, as a sqitch verify does\n"
                  "-- BEGIN; -- import: strata rolls verify back itself\n"
                  "WITH strata_verify AS MATERIALIZED (select x from a limit 10\n) SELECT count(*) >= 0 FROM "
                  "strata_verify;\n"
                  "--   rollback;   -- import: strata rolls verify back itself\n");
        CHECK_STR(s.v[0].file, "deploy/a.sql,revert/a.sql,verify/a.sql");
        CHECK_STR(s.v[1].version, "b@v1");
        CHECK_STR(s.v[1].up, "create view b as select 1;\n");
        CHECK_INT(s.v[1].has_down, 0);
        CHECK_STR(s.v[2].version, "b");
        CHECK_STR(s.v[2].up, "create view b as select 2;\n");
    }
    import_set_release(&s);
    /* sqitch's idioms for a query that returns no row pass, as in sqitch:
       every query is wrapped, and still runs whole */
    static const char *const none[] = {"SELECT x\n  FROM a\n WHERE   FALSE;\n", "SELECT x FROM a WHERE 0;\n",
                                       "SELECT x FROM a LIMIT 0;\n", "WITH q AS (SELECT x FROM a) SELECT * FROM q\n",
                                       "VALUES (1);\n"};
    for (size_t k = 0; k < sizeof(none) / sizeof(none[0]); k++) {
        write_file(d, "verify/a.sql", none[k]);
        import_set ok = {0};
        CHECK_INT(read_with(import_sqitch, d, NULL, &ok, &err), STRATA_OK);
        if (ok.n >= 1)
            CHECK_HAS(ok.v[0].verify, "WITH strata_verify AS MATERIALIZED (");
        import_set_release(&ok);
    }
    /* what is not a query is left as written */
    write_file(d, "verify/a.sql", "DO $$ BEGIN PERFORM 1; END $$;\n");
    import_set okdo = {0};
    CHECK_INT(read_with(import_sqitch, d, NULL, &okdo, &err), STRATA_OK);
    if (okdo.n >= 1)
        CHECK(strstr(okdo.v[0].verify, "count(*)") == NULL);
    import_set_release(&okdo);
    import_set_release(&s);
    /* the sqitch.conf that `sqitch init` writes: the layout keys commented
       out; a value that merely holds a key's name is no setting */
    write_file(d, "sqitch.conf",
               "[core]\n\tengine = pg\n\t# plan_file = sqitch.plan\n\t# top_dir = .\n"
               "[engine \"pg\"]\n\t# target = db:pg:\n\tclient = /opt/pg-extension/bin/psql ; extension\n");
    CHECK_INT(read_with(import_sqitch, d, NULL, &s, &err), STRATA_OK);
    CHECK_INT(s.n, 3);
    import_set_release(&s);
    /* [core]'s layout is followed: top_dir, a deploy_dir of its own, an extension */
    write_file(d, "sqitch.conf", "[core]\n\ttop_dir = \"db\"  # moved\n\tdeploy_dir = up\n\textension = psql\n");
    sub(d, "db");
    sub(d, "up");
    sub(d, "db/revert");
    write_file(d, "db/sqitch.plan", "%project=t\n\nc 2024-01-01T00:00:00Z A <a@x>\n");
    write_file(d, "up/c.psql", "create table c (x int);\ncreate index concurrently c_x on c (x);\n");
    write_file(d, "db/revert/c.psql", "drop table c;\n");
    CHECK_INT(read_with(import_sqitch, d, NULL, &s, &err), STRATA_OK);
    CHECK_INT(s.n, 1);
    if (s.n == 1) {
        CHECK_STR(s.v[0].file, "up/c.psql,db/revert/c.psql");
        CHECK_INT(s.v[0].up_notx, 1); /* psql ran it outside a transaction: CONCURRENTLY works */
        CHECK_INT(s.v[0].down_notx, 0);
    }
    import_set_release(&s);
    /* a layout of one engine or target only, an absolute path: refused */
    write_file(d, "sqitch.conf", "[engine \"pg\"]\n\ttop_dir = other\n");
    CHECK_INT(read_with(import_sqitch, d, NULL, &s, &err), STRATA_IMPORT_UNSUPPORTED);
    CHECK_HAS(err.message, "[engine \"pg\"]");
    import_set_release(&s);
    write_file(d, "sqitch.conf", "[core]\n\tdeploy_dir = /srv/deploy\n");
    CHECK_INT(read_with(import_sqitch, d, NULL, &s, &err), STRATA_IMPORT_UNSUPPORTED);
    CHECK_HAS(err.message, "absolute path");
    import_set_release(&s);
    /* psql variables: psql replaces them, strata would send them as written */
    write_file(d, "sqitch.conf", "[core]\n\ttop_dir = db\n\tdeploy_dir = up\n\textension = psql\n"
                                 "[deploy \"variables\"]\n\towner = app\n");
    static const char *const vars[] = {"alter table c owner to :\"owner\";\n", "comment on table c is :'registry';\n",
                                       "alter table c owner to :owner;\n", "select :registry;\n"};
    for (size_t k = 0; k < sizeof(vars) / sizeof(vars[0]); k++) {
        write_file(d, "up/c.psql", vars[k]);
        CHECK_INT(read_with(import_sqitch, d, NULL, &s, &err), STRATA_IMPORT_UNSUPPORTED);
        CHECK_HAS(err.message, "psql variable :");
        import_set_release(&s);
    }
    /* not variables: a cast, a slice bound, ':' in strings and comments */
    write_file(d, "up/c.psql", "select '1'::int, (array[1,2])[1:other], ':''registry''' -- :'x'\n;\n");
    CHECK_INT(read_with(import_sqitch, d, NULL, &s, &err), STRATA_OK);
    import_set_release(&s);
    /* a dependency on another project's change */
    write_file(d, "db/sqitch.plan", "%project=t\n\nc [billing:accounts] 2024-01-01T00:00:00Z A <a@x>\n");
    CHECK_INT(read_with(import_sqitch, d, NULL, &s, &err), STRATA_IMPORT_UNSUPPORTED);
    CHECK_HAS(err.message, "'billing:accounts'");
    import_set_release(&s);
    tmpdir_free(d);
}

static void test_pop(void)
{
    char *d = tmpdir_new();
    write_file(d, "2_b.up.sql", "select 2;\n");
    write_file(d, "2_b.postgres.up.sql", "select 'pg';\n");
    write_file(d, "2_b.sqlite3.down.sql", "select 'lite down';\n");
    write_file(d, "2_b.mysql.up.sql", "select 'my';\n");
    write_file(d, "1_a.up.sql", "select 1;\n");
    import_set s;
    strata_error err;
    CHECK_INT(read_with(import_pop, d, NULL, &s, &err), STRATA_OK);
    CHECK_INT(s.n, 4);
    if (s.n == 4) {
        CHECK_STR(s.v[0].version, "1");
        CHECK_STR(s.v[1].dialect, NULL);
        CHECK_HAS(s.v[1].up, "not imported (for other databases): 2_b.mysql.up.sql");
        CHECK_STR(s.v[2].dialect, "postgres");
        CHECK_STR(s.v[2].up, "select 'pg';\n");
        CHECK_STR(s.v[3].dialect, "sqlite");
        CHECK_INT(s.v[3].has_down, 1);
    }
    import_set_release(&s);
    /* only a sqlite3 down, no up for sqlite: refused */
    write_file(d, "3_c.mysql.up.sql", "select 'my';\n");
    CHECK_INT(read_with(import_pop, d, NULL, &s, &err), STRATA_IMPORT_UNSUPPORTED);
    CHECK_HAS(err.message, "3_c.mysql.up.sql' is for mysql");
    import_set_release(&s);
    char *p = path_join(d, "3_c.mysql.up.sql");
    remove(p);
    free(p);
    write_file(d, "3_c.up.fizz", "create_table(\"c\") {}\n");
    CHECK_INT(read_with(import_pop, d, NULL, &s, &err), STRATA_IMPORT_UNSUPPORTED);
    CHECK_HAS(err.message, "fizz migration");
    import_set_release(&s);
    tmpdir_free(d);
}

static void test_import_api(void)
{
    strata_error err;
    char *d = tmpdir_new();
    CHECK_INT(strata_import("liquibase", d, d, NULL, NULL, &err), STRATA_USAGE);
    CHECK_HAS(err.message, "unknown import format 'liquibase'");
    CHECK_HAS(err.hint, "dbmate, goose");
    CHECK_INT(strata_import("goose", d, d, NULL, NULL, &err), STRATA_USAGE); /* into itself */
    char *out = path_join(d, "out");
    CHECK_INT(strata_import("goose", d, out, NULL, NULL, &err), STRATA_IMPORT_UNSUPPORTED); /* none found */
    strata_import_opts bad = {"oracle", 0, 0};
    CHECK_INT(strata_import("goose", d, out, &bad, NULL, &err), STRATA_USAGE);
    /* one dialect: sections for that engine only; a marker-looking line is refused */
    write_file(d, "1_a.sql", "-- +goose Up\ncreate table a (x int);\n");
    strata_import_opts pg = {"postgres", 0, 0};
    CHECK_INT(strata_import("goose", d, out, &pg, NULL, &err), STRATA_OK);
    char *p = path_join(out, "1_a.sql");
    char *t = read_text(p);
    CHECK_HAS(t, "-- strata:up dialect=postgres\n");
    free(t);
    free(p);
    write_file(d, "2_b.sql", "-- +goose Up\n-- strata:down\n");
    strata_import_opts force = {NULL, 1, 0};
    CHECK_INT(strata_import("goose", d, out, &force, NULL, &err), STRATA_IMPORT_UNSUPPORTED);
    CHECK_HAS(err.message, "reads as a strata marker");
    /* a file strata's validate refuses: reported, files kept */
    write_file(d, "2_b.sql", "-- +goose Up\nselect 1;\nCOMMIT;\n");
    strata_import_report *r = NULL;
    CHECK_INT(strata_import("goose", d, out, &force, &r, &err), STRATA_PARSE_ERROR);
    CHECK(r != NULL && r->count == 2);
    strata_import_report_free(r);
    free(out);
    tmpdir_free(d);

    char *tool, *version, *file;
    const char *h = "-- import: tool=flyway version=1.1 file=sub%20dir/V1_1__a%25b.sql,U1.1__x.sql\n";
    CHECK_INT(import_header_parse(h, strlen(h), &tool, &version, &file), 0);
    CHECK_STR(tool, "flyway");
    CHECK_STR(version, "1.1");
    CHECK_STR(file, "sub dir/V1_1__a%b.sql,U1.1__x.sql");
    free(tool);
    free(version);
    free(file);
    CHECK_INT(import_header_parse("-- strata:up", 12, &tool, &version, &file), -1);
    /* optional KEY=VALUE words after file= (sqitch project=, alembic depends=) */
    h = "-- import: tool=sqitch version=users@v1.0 file=deploy/users@v1.0.sql project=flipr";
    CHECK_INT(import_header_parse(h, strlen(h), &tool, &version, &file), 0);
    CHECK_STR(version, "users@v1.0");
    CHECK_STR(file, "deploy/users@v1.0.sql");
    free(tool);
    free(version);
    free(file);
    h = "-- import: tool=sqitch version=users file=deploy/users.sql stray";
    CHECK_INT(import_header_parse(h, strlen(h), &tool, &version, &file), -1);
}

void test_import(void)
{
    test_dbmate();
    test_goose();
    test_golang_migrate();
    test_flyway();
    test_sqitch();
    test_pop();
    test_import_api();
}
