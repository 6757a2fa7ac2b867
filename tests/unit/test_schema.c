/* test_schema.c -- SQL normalization, the line diff, schema comparison. */
#include "internal.h"
#include "unit.h"

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static char *norm(const char *sql)
{
    sql_tok *t = NULL;
    size_t n = sql_tokenize(sql, &t);
    buf b;
    buf_init(&b);
    sql_norm(t, n, &b);
    free(t);
    return b.data ? buf_detach(&b) : xstrdup("");
}

#define CHECK_NORM(sql, want)                                                                      \
    do {                                                                                           \
        char *got_ = norm(sql);                                                                    \
        CHECK_STR(got_, want);                                                                     \
        free(got_);                                                                                \
    } while (0)

static void test_norm(void)
{
    CHECK_NORM("", "");
    CHECK_NORM("CHECK(total>=0)", "check (total >= 0)");
    CHECK_NORM("check  ( total >= 0 )", "check (total >= 0)");
    CHECK_NORM("CHECK (mood IN ('sad','ok', 'Happy'))", "check (mood in ('sad', 'ok', 'Happy'))");
    CHECK_NORM("lower( Email )", "lower(email)");
    CHECK_NORM("strftime('%Y-%m-%dT%H:%M:%fZ', 'now')", "strftime('%Y-%m-%dT%H:%M:%fZ', 'now')");
    CHECK_NORM("a /* comment */ -- another\n = 1", "a = 1");
    CHECK_NORM("\"Orders\".\"id\"", "orders.id");
    CHECK_NORM("[my col] || `x`", "\"my col\" || x");
    CHECK_NORM("\"a\"\"b\"", "\"a\"\"b\"");
    CHECK_NORM("'it''s' ", "'it''s'");
    CHECK_NORM("x'0A0b'", "x'0A0b'");
    CHECK_NORM("1.5e+3+2", "1.5e+3 + 2");
    CHECK_NORM("BEGIN UPDATE t SET a=1 WHERE id=NEW.id; END",
               "begin update t set a = 1 where id = new.id; end");
    CHECK_NORM("a<>b AND c!=d OR e->>'k'", "a <> b and c != d or e ->> 'k'");
    CHECK_NORM("'unterminated", "'unterminated");

    sql_tok *t = NULL;
    size_t n = sql_tokenize("create table t (a int check (a > (1)))", &t);
    CHECK_INT(n, 15);
    CHECK(tok_is(&t[0], "CREATE"));
    CHECK(tok_punct(&t[3], '('));
    CHECK_INT(tok_match_paren(t, n, 3), 14);
    CHECK_INT(tok_match_paren(t, n - 1, 3), n - 1);
    free(t);
}

/* Applies a unified diff to a; NULL when a hunk does not fit. */
static char *apply(const char *a, const char *diff)
{
    static const char *al[16384];
    static size_t an[16384];
    size_t na = 0;
    for (const char *p = a; *p && na < 16384;) {
        const char *nl = strchr(p, '\n');
        al[na] = p;
        an[na] = nl ? (size_t)(nl - p) : strlen(p);
        p += an[na++] + (nl ? 1 : 0);
    }
    buf out;
    buf_init(&out);
    size_t ai = 0;
    const char *p = diff;
    int ok = 1;
    for (int skip = 0; skip < 2 && *p; skip++) /* the --- and +++ lines */
        p = strchr(p, '\n') ? strchr(p, '\n') + 1 : p + strlen(p);
    while (*p && ok) {
        const char *nl = strchr(p, '\n');
        size_t len = nl ? (size_t)(nl - p) : strlen(p);
        if (!strncmp(p, "@@ -", 4)) {
            size_t start = strtoul(p + 4, NULL, 10), cnt = strtoul(strchr(p, ',') + 1, NULL, 10);
            size_t at = cnt ? start - 1 : start;
            while (ai < at && ai < na) {
                buf_add(&out, al[ai], an[ai]);
                buf_adds(&out, "\n");
                ai++;
            }
        } else if (p[0] == ' ' || p[0] == '-') {
            ok = ai < na && an[ai] == len - 1 && !memcmp(al[ai], p + 1, len - 1);
            if (p[0] == ' ') {
                buf_add(&out, p + 1, len - 1);
                buf_adds(&out, "\n");
            }
            ai++;
        } else if (p[0] == '+') {
            buf_add(&out, p + 1, len - 1);
            buf_adds(&out, "\n");
        }
        p += len + (nl ? 1 : 0);
    }
    while (ai < na) {
        buf_add(&out, al[ai], an[ai]);
        buf_adds(&out, "\n");
        ai++;
    }
    if (!ok) {
        buf_release(&out);
        return NULL;
    }
    return out.data ? buf_detach(&out) : xstrdup("");
}

static void test_diff(void)
{
    buf d;
    buf_init(&d);
    CHECK_INT(text_diff("a\nb\n", "a\nb\n", "x", "y", 3, &d), 0);
    CHECK(d.len == 0);
    CHECK_INT(text_diff("", "", "x", "y", 3, &d), 0);

    CHECK_INT(text_diff("table t\n  column a int\n\ntable u\n  column b int\n",
                        "table t\n  column a int\n  index t_a (a)\n\ntable u\n  column b int\n", "exp",
                        "act", 3, &d),
              1);
    CHECK_STR(d.data, "--- exp\n+++ act\n@@ -1,5 +1,6 @@ table t\n table t\n   column a int\n"
                      "+  index t_a (a)\n \n table u\n   column b int\n");
    buf_release(&d);

    /* removals come before additions in a change */
    text_diff("x\nold1\nold2\ny\n", "x\nnew1\ny\n", "a", "b", 0, &d);
    CHECK_STR(d.data, "--- a\n+++ b\n@@ -2,2 +2,1 @@ x\n-old1\n-old2\n+new1\n");
    buf_release(&d);

    /* from and to nothing */
    text_diff("", "a\nb\n", "a", "b", 3, &d);
    CHECK_STR(d.data, "--- a\n+++ b\n@@ -0,0 +1,2 @@\n+a\n+b\n");
    buf_release(&d);
    text_diff("a\nb", "", "a", "b", 3, &d);
    CHECK_STR(d.data, "--- a\n+++ b\n@@ -1,2 +0,0 @@\n-a\n-b\n");
    buf_release(&d);

    /* two far apart changes make two hunks */
    buf a, b;
    buf_init(&a);
    buf_init(&b);
    for (int i = 0; i < 40; i++) {
        buf_addf(&a, "line %d\n", i);
        buf_addf(&b, "line %d\n", i == 5 ? 500 : i == 30 ? 3000 : i);
    }
    text_diff(a.data, b.data, "a", "b", 3, &d);
    CHECK_HAS(d.data, "@@ -3,7 +3,7 @@ line 4\n");
    CHECK_HAS(d.data, "@@ -28,7 +28,7 @@ line 29\n");
    char *back = apply(a.data, d.data);
    CHECK_STR(back, b.data);
    free(back);
    buf_release(&d);
    buf_release(&a);
    buf_release(&b);

    /* random edits: applying the diff to a always gives b */
    unsigned seed = 12345;
    for (int round = 0; round < 300; round++) {
        buf_init(&a);
        buf_init(&b);
        int na = (int)((seed = seed * 1103515245u + 12345u) >> 16) % 40;
        for (int i = 0; i < na; i++) {
            unsigned r = (seed = seed * 1103515245u + 12345u) >> 16;
            buf_addf(&a, "l%u\n", r % 7);
            if (r % 5 == 0)
                continue; /* dropped */
            buf_addf(&b, "l%u\n", r % 3 == 0 ? r % 11 : r % 7);
            if (r % 4 == 0)
                buf_addf(&b, "new%u\n", r % 9);
        }
        const char *as = a.data ? a.data : "", *bs = b.data ? b.data : "";
        size_t changed = text_diff(as, bs, "a", "b", (int)(round % 4), &d);
        back = apply(as, d.data ? d.data : "");
        CHECK_STR(back, bs);
        CHECK(changed == 0 ? strcmp(as, bs) == 0 : strcmp(as, bs) != 0);
        free(back);
        buf_release(&d);
        buf_release(&a);
        buf_release(&b);
    }

    /* beyond the edit-distance limit the middle is replaced as a whole */
    buf_init(&a);
    buf_init(&b);
    for (int i = 0; i < 5000; i++) {
        buf_addf(&a, "a%d\n", i);
        buf_addf(&b, "b%d\n", i);
    }
    CHECK_INT(text_diff(a.data, b.data, "a", "b", 3, &d), 10000);
    back = apply(a.data, d.data);
    CHECK_STR(back, b.data);
    free(back);
    buf_release(&d);
    buf_release(&a);
    buf_release(&b);

    char *out = NULL;
    CHECK_INT(strata_text_diff("a\n", "a\n", NULL, NULL, &out, NULL), STRATA_OK);
    CHECK(out == NULL);
    CHECK_INT(strata_text_diff("a\n", "b\n", "file", "database", &out, NULL), STRATA_OK);
    CHECK_STR(out, "--- file\n+++ database\n@@ -1,1 +1,1 @@\n-a\n+b\n");
    free(out);
}

static void test_compare(void)
{
    schema_delta d;
    const char *base = "table orders\n  column id int\n  column note text\n  index ix_a btree (a)\n"
                       "  constraint c1 CHECK (a > 0)\n\nview v\n  | SELECT 1\n";
    CHECK(schema_compare(base, base, 0, &d));
    schema_delta_release(&d);
    CHECK(schema_compare("", "", 0, &d));
    schema_delta_release(&d);
    /* a sequence's options changed: changed, not one line left and one removed */
    CHECK(!schema_compare("sequence s\n  as bigint start 1 increment 1 minvalue 1 maxvalue 9 cache 1\n",
                          "sequence s\n  as bigint start 1 increment 5 minvalue 1 maxvalue 9 cache 1\n", 0, &d));
    CHECK_STR(d.changed.data ? d.changed.data : "", "options of sequence s");
    CHECK(!d.extra.len && !d.missing.len);
    schema_delta_release(&d);

    CHECK(!schema_compare("table t\n  column id int\n",
                          "table t\n  column id int\n  column total int\n  index t_idx btree (id)\n\n"
                          "table extra\n  column x int\n",
                          0, &d));
    CHECK_STR(d.extra.data, "column t.total, index t_idx, table extra");
    CHECK(d.missing.data == NULL);
    CHECK(d.changed.data == NULL);
    schema_delta_release(&d);

    CHECK(!schema_compare(base,
                          "table orders\n  column id bigint\n  index ix_a btree (a)\n"
                          "  constraint c1 CHECK (a > 1)\n\nview v\n  | SELECT 2\n",
                          0, &d));
    CHECK_STR(d.missing.data, "column orders.note");
    CHECK_STR(d.changed.data, "column orders.id, constraint c1 on orders, definition of view v");
    CHECK(d.extra.data == NULL);
    schema_delta_release(&d);

    CHECK(!schema_compare("table t\n  unique (a)\n", "table t\n  unique (a, b)\n", 0, &d));
    CHECK_STR(d.extra.data, "table t: unique (a, b)");
    CHECK_STR(d.missing.data, "table t: unique (a)");
    schema_delta_release(&d);

    /* enum values PostgreSQL cannot drop: tolerated only when asked */
    const char *e1 = "enum mood\n  value 'sad'\n  value 'ok'\n";
    const char *e2 = "enum mood\n  value 'sad'\n  value 'meh'\n  value 'ok'\n";
    CHECK(!schema_compare(e1, e2, 0, &d));
    CHECK_STR(d.extra.data, "value 'meh' of enum mood");
    schema_delta_release(&d);
    CHECK(schema_compare(e1, e2, 1, &d));
    CHECK_STR(d.kept.data, "value 'meh' of enum mood");
    schema_delta_release(&d);
    CHECK(!schema_compare(e2, e1, 1, &d)); /* a value missing is never fine */
    CHECK_STR(d.missing.data, "value 'meh' of enum mood");
    schema_delta_release(&d);
    CHECK(!schema_compare("enum mood\n  value 'a'\n  value 'b'\n", "enum mood\n  value 'b'\n  value 'a'\n", 1, &d));
    CHECK_STR(d.changed.data, "order in enum mood");
    schema_delta_release(&d);
    CHECK(!schema_compare("table t\n  column a int\n  column b int\n", "table t\n  column b int\n  column a int\n", 0, &d));
    CHECK_STR(d.changed.data, "order in table t");
    schema_delta_release(&d);
    /* tolerated on request (PostgreSQL's down adds a column back last);
       never for an enum's values, nor for a column that differs */
    CHECK(schema_compare("table t\n  column a int\n  column b int\n", "table t\n  column b int\n  column a int\n",
                         SCHEMA_TOLERATE_COLUMN_ORDER, &d));
    CHECK_STR(d.moved.data, "t");
    schema_delta_release(&d);
    CHECK(!schema_compare("enum mood\n  value 'a'\n  value 'b'\n", "enum mood\n  value 'b'\n  value 'a'\n",
                          SCHEMA_TOLERATE_COLUMN_ORDER | SCHEMA_TOLERATE_ENUM_VALUES, &d));
    schema_delta_release(&d);
    CHECK(!schema_compare("table t\n  column a int\n  column b int\n", "table t\n  column b text\n  column a int\n",
                          SCHEMA_TOLERATE_COLUMN_ORDER, &d));
    CHECK_STR(d.changed.data, "column t.b");
    schema_delta_release(&d);
    CHECK(!schema_compare("table t\n\ntable u\n", "table t\ntable u\n", 0, &d));
    CHECK_STR(d.changed.data, "the layout of the schema text");
    schema_delta_release(&d);

    /* long lists are cut */
    buf big;
    buf_init(&big);
    for (int i = 0; i < 12; i++)
        buf_addf(&big, "table t%02d\n\n", i);
    CHECK(!schema_compare("", big.data, 0, &d));
    CHECK_HAS(d.extra.data, "table t07 and 4 more");
    CHECK_LACKS(d.extra.data, "t08");
    schema_delta_release(&d);
    buf_release(&big);
}

static int count_scratch(const char *dir)
{
    int n = 0;
    DIR *d = opendir(dir);
    struct dirent *e;
    while (d && (e = readdir(d)) != NULL)
        n += !strncmp(e->d_name, "strata_check_", 13);
    if (d)
        closedir(d);
    return n;
}

/* strata_check end to end on SQLite scratch files, through the library. */
static void test_check_lib(void)
{
    char *tmp = tmpdir_new(), *mig = tmpdir_new();
    char *old_tmp = getenv("TMPDIR") ? xstrdup(getenv("TMPDIR")) : NULL;
    setenv("TMPDIR", tmp, 1);
    write_file(mig, "0001_t.sql", "-- strata:up\nCREATE TABLE t (id integer PRIMARY KEY, a text);\n"
                                  "-- strata:down\nDROP TABLE t;\n");
    write_file(mig, "0002_ix.sql", "-- strata:up\nCREATE INDEX t_a ON t (a);\n-- strata:down\nDROP INDEX t_a;\n");
    strata_migset *set = NULL;
    strata_check_report *r = NULL;
    strata_error err;
    CHECK_INT(strata_migset_load(mig, &set, &err), STRATA_OK);
    CHECK_INT(strata_check(NULL, set, NULL, &r, &err), STRATA_OK);
    CHECK(r && r->ok);
    CHECK_STR(r ? r->engine : NULL, "sqlite");
    CHECK_INT(r ? r->count : 0, 2);
    CHECK_INT(r ? (int)r->migrations[1].state : -1, STRATA_CHECK_PASS);
    CHECK_INT(r ? (int)r->base.state : -1, STRATA_CHECK_PASS);
    CHECK_INT(count_scratch(tmp), 0);
    strata_check_report_free(r);
    strata_migset_free(set);

    /* the down of 0002 forgets the index */
    write_file(mig, "0002_ix.sql", "-- strata:up\nCREATE INDEX t_a ON t (a);\n-- strata:down\n");
    CHECK_INT(strata_migset_load(mig, &set, &err), STRATA_OK);
    CHECK_INT(strata_check("sqlite:///ignored.db", set, NULL, &r, &err), STRATA_OK);
    CHECK(r && !r->ok);
    if (r) {
        CHECK_INT(r->migrations[1].state, STRATA_CHECK_FAIL);
        CHECK_STR(r->migrations[1].step, "down");
        CHECK_STR(r->migrations[1].message, "down left: index t_a");
        CHECK_HAS(r->migrations[1].diff, "\n+  index t_a (a)\n");
        CHECK_INT(r->migrations[0].state, STRATA_CHECK_SKIPPED);
        CHECK_INT(r->base.state, STRATA_CHECK_SKIPPED);
        CHECK_STR(strata_check_state_name(r->migrations[0].state), "skipped");
    }
    CHECK_INT(count_scratch(tmp), 0);
    CHECK(access("ignored.db", F_OK) != 0);
    strata_check_report_free(r);

    /* a database that is not empty is refused */
    strata_scratch *s = NULL;
    strata *db = NULL;
    CHECK_INT(strata_scratch_create(NULL, &s, &err), STRATA_OK);
    CHECK_INT(count_scratch(tmp), 1);
    CHECK_INT(strata_open(strata_scratch_url(s), NULL, &db, &err), STRATA_OK);
    CHECK_INT(strata_up(db, set, NULL, NULL, &err), STRATA_OK);
    strata_close(db);
    r = NULL;
    CHECK_INT(strata_check_run(strata_scratch_url(s), set, NULL, &r, &err), STRATA_CONFIG_ERROR);
    CHECK(r == NULL);
    CHECK_HAS(err.message, "not empty");
    CHECK_INT(strata_scratch_drop(s, &err), STRATA_OK);
    CHECK_INT(strata_scratch_drop(s, &err), STRATA_OK); /* twice is fine */
    CHECK_INT(count_scratch(tmp), 0);
    strata_scratch_free(s);
    strata_migset_free(set);

    if (old_tmp)
        setenv("TMPDIR", old_tmp, 1);
    else
        unsetenv("TMPDIR");
    free(old_tmp);
    tmpdir_free(tmp);
    tmpdir_free(mig);
}

void test_schema(void)
{
    test_norm();
    test_diff();
    test_compare();
    test_check_lib();
}
