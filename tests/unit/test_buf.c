/* test_buf.c -- the byte buffer, growable arrays, lines, SQL quoting and the error list. */
#include "internal.h"
#include "unit.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

void test_buf(void)
{
    buf b;
    buf_init(&b);
    char *s = buf_detach(&b);
    CHECK_STR(s, "");
    free(s);

    buf_adds(&b, "a");
    buf_add(&b, "bcd", 2);
    buf_addf(&b, "-%d-%s", 42, "x");
    CHECK_STR(b.data, "abc-42-x");
    CHECK_INT(b.len, 8);
    char big[1000];
    memset(big, 'z', sizeof(big) - 1);
    big[sizeof(big) - 1] = 0;
    buf_addf(&b, "[%s]", big);
    CHECK_INT(b.len, 8 + 1001);
    CHECK_INT(strlen(b.data), b.len);
    CHECK(b.data[8] == '[' && b.data[9] == 'z' && b.data[1008] == ']');
    s = buf_detach(&b);
    CHECK(s != NULL);
    CHECK(b.data == NULL && b.len == 0);
    free(s);

    buf_add_sqlstr(&b, "it's");
    buf_adds(&b, " ");
    buf_add_sqlstr(&b, "");
    buf_adds(&b, " ");
    buf_add_ident(&b, "app.schema_\"v\"");
    buf_adds(&b, " ");
    buf_add_ident(&b, "strata_migrations");
    CHECK_STR(b.data, "'it''s' '' \"app\".\"schema_\"\"v\"\"\" \"strata_migrations\"");
    buf_release(&b);
    CHECK(b.data == NULL);

    CHECK(xstrdup(NULL) == NULL);
    s = xstrndup("abcdef", 3);
    CHECK_STR(s, "abc");
    free(s);

    /* the error list */
    CHECK_STR(strata_code_name(STRATA_OK), "OK");
    CHECK_STR(strata_code_name(STRATA_LOCK_TIMEOUT), "LOCK_TIMEOUT");
    CHECK_STR(strata_code_name(STRATA_DATABASE_URL_REQUIRED), "DATABASE_URL_REQUIRED");
    CHECK_STR(strata_code_name((strata_code)999), "INTERNAL");
    CHECK_INT(strata_code_exit(STRATA_OK), 0);
    CHECK_INT(strata_code_exit(STRATA_PARSE_ERROR), 2);
    CHECK_INT(strata_code_exit(STRATA_MIGRATION_FAILED), 1);
    CHECK_INT(strata_code_exit(STRATA_CONNECT_FAILED), 4);
    strata_error e;
    CHECK_INT(err_set(&e, STRATA_DB_ERROR, "line one\nline two\n "), STRATA_DB_ERROR);
    CHECK_STR(e.message, "line one line two");
    err_hint(&e, "try %s", "this");
    err_where(&e, "f.sql", 3);
    CHECK_STR(e.hint, "try this");
    CHECK_STR(e.file, "f.sql");
    CHECK_INT(e.line, 3);
    strata_error_clear(&e);
    CHECK_INT(e.code, STRATA_OK);
    CHECK_STR(e.message, "");
    CHECK_INT(err_set(NULL, STRATA_USAGE, "x"), STRATA_USAGE);
    /* a long message keeps its closing SQLSTATE tag, through a prefix too */
    char lng[3000];
    memset(lng, 'x', sizeof(lng) - 1);
    lng[sizeof(lng) - 1] = 0;
    err_set(&e, STRATA_DB_ERROR, "%s [SQLSTATE P0001]", lng);
    CHECK_INT((int)strlen(e.message), (int)sizeof(e.message) - 1);
    CHECK(strstr(e.message, "xxx... [SQLSTATE P0001]") != NULL);
    err_set(&e, STRATA_DB_ERROR, "%.1000s [SQLSTATE 23505]", lng);
    err_prefix(&e, "0002_x.sql:4: ");
    CHECK(strncmp(e.message, "0002_x.sql:4: xxx", 17) == 0);
    CHECK(strstr(e.message, "xxx... [SQLSTATE 23505]") != NULL);
    err_set(&e, STRATA_DB_ERROR, "%s", lng); /* no tag: the end is cut */
    CHECK(e.message[sizeof(e.message) - 2] == 'x');
    /* longer than any buffer of err_set's own, and cut between characters */
    char huge[9000];
    for (size_t i = 0; i + 3 < sizeof(huge); i += 3)
        memcpy(huge + i, "\xe2\x82\xac", 3); /* the euro sign */
    huge[(sizeof(huge) - 1) / 3 * 3] = 0;
    err_set(&e, STRATA_DB_ERROR, "%s [SQLSTATE P0001]", huge);
    CHECK(strstr(e.message, "\xe2\x82\xac... [SQLSTATE P0001]") != NULL);
    CHECK(strlen(e.message) % 3 == strlen("... [SQLSTATE P0001]") % 3);
}

/* arr_grow / ARR_GROW: doubling from 8, contents kept, a no-op when there
   is room, and -1 with the array untouched when the size would overflow. */
void test_arr(void)
{
    long long *v = NULL;
    size_t n = 0, cap = 0;
    int ok = 1;
    for (long long i = 0; i < 1000; i++) {
        if (!(ok = ARR_GROW(v, cap, n + 1) == 0))
            break;
        v[n++] = i * 3;
        if (i == 0)
            CHECK_INT(cap, 8);
        if (i == 8)
            CHECK_INT(cap, 16);
    }
    CHECK(ok);
    CHECK_INT(cap, 1024);
    int same = 1;
    for (size_t i = 0; i < n; i++)
        same &= v[i] == (long long)i * 3;
    CHECK(same);

    /* room already: nothing moves */
    long long *before = v;
    CHECK_INT(ARR_GROW(v, cap, 1024), 0);
    CHECK(v == before);
    CHECK_INT(cap, 1024);

    /* a jump: doubles until it holds need */
    CHECK_INT(ARR_GROW(v, cap, 5000), 0);
    CHECK_INT(cap, 8192);
    CHECK(v[999] == 2997);

    /* overflow: -1, array and capacity unchanged */
    before = v;
    CHECK_INT(ARR_GROW(v, cap, SIZE_MAX / 4), -1);
    CHECK(v == before);
    CHECK_INT(cap, 8192);
    CHECK_INT(arr_grow(&v, &cap, SIZE_MAX, 1), -1);
    CHECK(v == before && cap == 8192);
    free(v);

    /* an array of pointers, as most callers have */
    char **names = NULL;
    size_t nn = 0, ncap = 0;
    CHECK_INT(ARR_GROW(names, ncap, nn + 1), 0);
    names[nn++] = "a";
    CHECK_INT(ncap, 8);
    CHECK_STR(names[0], "a");
    free(names);
}

/* line_next / line_cut: every line, empty ones too, a last one without
   '\n', none for an empty or NULL text. */
void test_lines(void)
{
    const char *p = "a\n\nbc\nd", *l;
    size_t n = 99;
    buf got;
    buf_init(&got);
    while ((l = line_next(&p, &n)) != NULL)
        buf_addf(&got, "[%.*s]", (int)n, l);
    CHECK_STR(got.data, "[a][][bc][d]");
    CHECK(*p == 0);
    p = "x\n";
    CHECK((l = line_next(&p, &n)) != NULL && n == 1 && *l == 'x');
    CHECK(line_next(&p, &n) == NULL);
    p = "";
    CHECK(line_next(&p, &n) == NULL);
    p = NULL;
    CHECK(line_next(&p, &n) == NULL);

    char text[] = "s.i1\ns.i2\n";
    buf_reset(&got);
    for (char *q = text, *line; (line = line_cut(&q)) != NULL;)
        buf_addf(&got, "<%s>", line);
    CHECK_STR(got.data, "<s.i1><s.i2>");
    buf_release(&got);

    /* mkdir_p: parents made, an existing directory is fine, and the first
       path that cannot be made is named */
    char *d = tmpdir_new();
    char *deep = path_join(d, "a/b/c/");
    struct stat st;
    CHECK_INT(mkdir_p(deep, 0700, NULL, 0), 0);
    CHECK(stat(deep, &st) == 0 && S_ISDIR(st.st_mode) && (st.st_mode & 0777) == 0700);
    CHECK_INT(mkdir_p(deep, 0700, NULL, 0), 0);
    char *file = path_join(d, "f");
    write_file(d, "f", "x");
    char *under = path_join(file, "g/h"), *first = path_join(file, "g");
    char failed[4096] = "";
    CHECK_INT(mkdir_p(under, 0755, failed, sizeof(failed)), -1);
    CHECK_STR(failed, first); /* the first path that could not be made */
    free(first);
    CHECK_INT(mkdir_p("", 0755, NULL, 0), -1);
    free(under);
    free(file);
    free(deep);
    tmpdir_free(d);
}
