/* test_buf.c -- the byte buffer, SQL quoting and the error list. */
#include "internal.h"
#include "unit.h"

#include <stdlib.h>
#include <string.h>

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
}
