/* test_copy.c -- strata copy's value rules, JSON normalizer, hash, names. */
#include "copy_internal.h"
#include "unit.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static sqlite3 *db;

/* Converts the value of the SQLite expression expr (e.g. "'12.5'",
   "x'00ff'") to type t into c (initialized by the caller) with flags;
   returns the CV_ code, -1 when expr does not evaluate. */
static int convert(const ctype *t, const char *expr, int flags, cconv *c, int *isnull)
{
    char sql[600];
    sqlite3_stmt *st = NULL;
    snprintf(sql, sizeof(sql), "SELECT %s", expr);
    int rc = -1;
    *isnull = 0;
    if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) == SQLITE_OK && sqlite3_step(st) == SQLITE_ROW)
        rc = conv_value(c, t, sqlite3_column_value(st, 0), flags, isnull);
    sqlite3_finalize(st);
    return rc;
}

/* The CV_ code of expr converted to t; *canon (static) the canonical text
   or the reason. */
static int conv(const ctype *t, const char *expr, const char **canon)
{
    static char out[512];
    cconv c;
    cconv_init(&c);
    int isnull, rc = convert(t, expr, CV_WANT_TEXT | CV_WANT_CANON, &c, &isnull);
    snprintf(out, sizeof(out), "%s", rc < 0 ? "" : rc ? c.why : isnull ? "NULL" : c.canon.data ? c.canon.data : "");
    cconv_release(&c);
    *canon = out;
    return rc;
}

/* The checksum hash (conv_hash) of expr converted to t, with seed. */
static int64_t hashof(const ctype *t, const char *expr, uint64_t seed)
{
    cconv c;
    cconv_init(&c);
    int isnull;
    int64_t h = convert(t, expr, 0, &c, &isnull) == CV_OK && !isnull ? (int64_t)conv_hash(&c, seed) : 0;
    cconv_release(&c);
    return h;
}

/* The binary COPY payload of expr converted to t, in hex. */
static const char *binhex(const ctype *t, const char *expr)
{
    static char out[256];
    cconv c;
    cconv_init(&c);
    int isnull;
    snprintf(out, sizeof(out), "(bad)");
    if (convert(t, expr, 0, &c, &isnull) == CV_OK && !isnull) {
        size_t k = 0;
        for (size_t i = 0; i < c.bin.len && k + 3 < sizeof(out); i++)
            k += (size_t)snprintf(out + k, sizeof(out) - k, "%s%02x", i && i % 2 == 0 ? " " : "",
                                  (unsigned char)c.bin.data[i]);
    }
    cconv_release(&c);
    return out;
}

/* conv_fast of expr to t against conv_value: 1 when it took the value and
   wrote the same length-prefixed field with the same hash, 0 when it
   declined (conv_value's way then), -1 when the two disagree. */
static int fast_same(const ctype *t, const char *expr)
{
    char sql[600];
    sqlite3_stmt *st = NULL;
    snprintf(sql, sizeof(sql), "SELECT %s", expr);
    if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK || sqlite3_step(st) != SQLITE_ROW) {
        sqlite3_finalize(st);
        return -1;
    }
    sqlite3_value *v = sqlite3_column_value(st, 0);
    buf out;
    buf_init(&out);
    uint64_t h = 0, h0 = 0;
    int r = conv_fast(t, v, 5, &out, &h), took = r;
    if (r && (conv_fast(t, v, 5, NULL, &h0) != 1 || h0 != h))
        r = -1; /* the same without the output */
    if (r == 1) {
        cconv c;
        cconv_init(&c);
        int isnull;
        if (conv_value(&c, t, v, 0, &isnull) != CV_OK || isnull || conv_hash(&c, 5) != h || out.len != 4 + c.bin.len ||
            (unsigned char)out.data[0] != (c.bin.len >> 24 & 255) || (unsigned char)out.data[3] != (c.bin.len & 255) ||
            memcmp(out.data + 4, c.bin.data ? c.bin.data : "", c.bin.len))
            r = -1;
        cconv_release(&c);
    } else if (!took && out.len) {
        r = -1; /* declined, yet wrote */
    }
    buf_release(&out);
    sqlite3_finalize(st);
    return r;
}

static const char *ok(const ctype *t, const char *expr)
{
    const char *c;
    return conv(t, expr, &c) == CV_OK ? c : "(bad)";
}

static int bad(const ctype *t, const char *expr)
{
    const char *c;
    return conv(t, expr, &c) != CV_OK;
}

static const char *json(const char *in)
{
    static char out[512];
    char why[200];
    buf b;
    buf_init(&b);
    if (json_normalize(in, strlen(in), &b, why, sizeof(why)))
        snprintf(out, sizeof(out), "(bad)");
    else
        snprintf(out, sizeof(out), "%s", b.data ? b.data : "");
    buf_release(&b);
    return out;
}


/* The PostgreSQL form of SQLite expression e in the context of table tname
   of schema s (NULL: no table, as for a view); "(untranslated: why)" when
   there is none. Static. */
static const char *xl(const cschema *s, const char *tname, const char *e)
{
    static char out[2048];
    char why[300];
    buf b;
    buf_init(&b);
    int ti = s && tname ? schema_find(s, tname) : -1;
    if (expr_translate(e, strlen(e), s, ti >= 0 ? &s->t[ti] : NULL, -1, 0, &b, why, sizeof(why)))
        snprintf(out, sizeof(out), "(untranslated: %s)", why);
    else
        snprintf(out, sizeof(out), "%s", b.data ? b.data : "");
    buf_release(&b);
    return out;
}

/* Translator: keywords before '(' are syntax, not functions; the functions
   and date arithmetic SQLite CHECKs and views use. */
static void test_translate(void)
{
    sqlite3 *x;
    CHECK(sqlite3_open(":memory:", &x) == SQLITE_OK);
    CHECK(sqlite3_exec(x, "CREATE TABLE t (id INTEGER PRIMARY KEY, Status TEXT, rating INTEGER, "
                          "price REAL, amt NUMERIC, active BOOLEAN, born DATE, at DATETIME, "
                          "tz TIMESTAMPTZ, d TEXT, \"date\" TEXT, code CHAR(3), img BLOB);"
                          "CREATE TABLE u (id INTEGER PRIMARY KEY, name TEXT, tid INTEGER);",
                       NULL, NULL, NULL) == SQLITE_OK);
    cschema s;
    cwarn w = {0};
    strata_error err = {0};
    CHECK_INT(schema_read(x, 0, NULL, &s, &w, &err), STRATA_OK);
    /* keywords before '(' */
    CHECK_STR(xl(&s, "t", "status in ('a','b')"), "\"status\" IN ('a', 'b')");
    CHECK_STR(xl(&s, "t", "status NOT IN ('a')"), "\"status\" NOT IN ('a')");
    CHECK_STR(xl(&s, "t", "rating BETWEEN 1 AND 5"), "\"rating\" BETWEEN 1 AND 5");
    CHECK_STR(xl(&s, "t", "rating between(1) and (5)"), "\"rating\" BETWEEN (1) AND (5)");
    CHECK_STR(xl(&s, "t", "NOT(rating > 5) AND(price > 0) OR(amt IS NOT(1))"),
              "NOT (\"rating\" > 5) AND (\"price\" > 0) OR (\"amt\" IS DISTINCT FROM (1))");
    CHECK_STR(xl(&s, "t", "CASE WHEN(rating > 3) THEN 'hi' ELSE(NULL) END IS NOT NULL"),
              "CASE WHEN (\"rating\" > 3) THEN 'hi' ELSE (NULL) END IS NOT NULL");
    CHECK_STR(xl(&s, "t", "((rating >= 1) and ((rating <= 5)))"),
              "((\"rating\" >= 1) AND ((\"rating\" <= 5)))");
    CHECK_STR(xl(&s, NULL, "SELECT * FROM (SELECT id FROM t) WHERE(id > 1)"),
              "SELECT * FROM (SELECT \"id\" FROM \"t\") AS \"subquery1\" WHERE (\"id\" > 1)");
    CHECK_STR(xl(&s, NULL, "SELECT x.id FROM (SELECT id FROM t) x"),
              "SELECT \"x\".\"id\" FROM (SELECT \"id\" FROM \"t\") \"x\"");
    CHECK_STR(xl(&s, NULL, "SELECT name FROM u WHERE tid IN(SELECT id FROM t) AND EXISTS(SELECT 1 FROM t)"),
              "SELECT \"name\" FROM \"u\" WHERE \"tid\" IN (SELECT \"id\" FROM \"t\") AND EXISTS (SELECT 1 FROM \"t\")");
    CHECK_STR(xl(&s, NULL, "WITH c(n) AS (SELECT 1) SELECT n FROM c"),
              "WITH \"c\" (\"n\") AS (SELECT 1) SELECT \"n\" FROM \"c\"");
    /* CAST maps the type like a declared type; an integer cast of a real truncates */
    CHECK_STR(xl(&s, "t", "CAST(rating AS TEXT) <> ''"), "CAST(\"rating\" AS text) <> ''");
    CHECK_STR(xl(&s, "t", "cast(price as integer) > 0"), "CAST(trunc(\"price\") AS bigint) > 0");
    CHECK_STR(xl(&s, "t", "CAST(status AS VARCHAR(10))"), "CAST(\"status\" AS varchar(10))");
    /* functions */
    CHECK_STR(xl(&s, "t", "coalesce(status, ifnull(d, 'x')) || '-' || upper(substr(status, 1, 2))"),
              "coalesce(\"status\", coalesce(\"d\", 'x')) || '-' || upper(substr(\"status\", 1, 2))");
    CHECK_STR(xl(&s, "t", "length(code) = 3 AND length(rating) < 3 AND lower(status) = status"),
              "length(\"code\") = 3 AND length((\"rating\")::text) < 3 AND lower(\"status\") = \"status\"");
    CHECK_STR(xl(&s, "t", "typeof(rating) = 'integer' AND typeof(price) IN ('real', 'null')"),
              "(CASE WHEN \"rating\" IS NULL THEN 'null' ELSE 'integer' END) = 'integer' AND "
              "(CASE WHEN \"price\" IS NULL THEN 'null' ELSE 'real' END) IN ('real', 'null')");
    CHECK_STR(xl(&s, "t", "typeof(rating + 1) = 'integer'"),
              "(untranslated: SQLite function typeof() of an expression is not translated)");
    CHECK_STR(xl(&s, "t", "iif(rating > 3, 'good', 'bad') <> ''"),
              "(CASE WHEN \"rating\" > 3 THEN 'good' ELSE 'bad' END) <> ''");
    CHECK_STR(xl(&s, "t", "round(price, 2) = price"), "round((\"price\")::numeric, 2) = \"price\"");
    CHECK_STR(xl(&s, NULL, "SELECT avg(rating), total(price), group_concat(DISTINCT status) FROM t"),
              "SELECT avg((\"rating\")::double precision), coalesce(sum((\"price\")::double precision), 0), "
              "string_agg(DISTINCT (\"status\")::text, ',') FROM \"t\"");
    CHECK_STR(xl(&s, NULL, "SELECT group_concat(name, '; ') FROM u"),
              "SELECT string_agg((\"name\")::text, '; ') FROM \"u\"");
    /* SQLite's scalar max/min is NULL when an argument is (greatest skips NULLs) */
    CHECK_STR(xl(&s, NULL, "SELECT count(*), max(id, 3), row_number() OVER (ORDER BY id) FROM t"),
              "SELECT count(*), (CASE WHEN (\"id\") IS NULL OR (3) IS NULL THEN NULL ELSE greatest(\"id\", 3) END), "
              "row_number() OVER (ORDER BY \"id\" NULLS FIRST) FROM \"t\"");
    /* substr: plain whole numbers as they are; a start that may be negative
       counts from the end, a length that may be negative takes what is
       before the start */
    CHECK_STR(xl(&s, "t", "substr(status, 2, 3) <> ''"), "substr(\"status\", 2, 3) <> ''");
    CHECK_STR(xl(&s, "t", "substr(status, -1) <> ''"),
              "substr(\"status\", (CASE WHEN (- 1) < 0 THEN length(\"status\") + (- 1) + 1 ELSE (- 1) END)::int) <> ''");
    CHECK_STR(xl(&s, "t", "substring(status, 1, rating) <> ''"),
              "(CASE WHEN (\"rating\") >= 0 THEN substr(\"status\", 1, (\"rating\")::int) ELSE substr(\"status\", 1 + "
              "(\"rating\")::int, -(\"rating\")::int) END) <> ''");
    /* round: away from zero as SQLite (a double's round goes to even) */
    CHECK_STR(xl(&s, "t", "round(price) > 0"), "round((\"price\")::numeric) > 0");
    /* length of a real: SQLite's text of it is not PostgreSQL's */
    CHECK_STR(xl(&s, "t", "length(price) > 0"),
              "(untranslated: SQLite function length() of the real or numeric column \"price\" is not translated "
              "(SQLite measures the number's text, which PostgreSQL writes differently))");
    CHECK_STR(xl(&s, "t", "printf('%d', rating) <> ''"), "(untranslated: SQLite function printf() is not translated)");
    CHECK_STR(xl(&s, "t", "json_extract(d, '$.a') = 1"), "(untranslated: SQLite function json_extract() is not translated)");
    /* LIKE: no escape character in SQLite; GLOB becomes an anchored regular expression */
    CHECK_STR(xl(&s, "t", "status LIKE 'a%'"), "\"status\" ILIKE 'a%'");
    CHECK_STR(xl(&s, "t", "status NOT LIKE 'a\\b%'"), "\"status\" NOT ILIKE 'a\\b%' ESCAPE ''");
    CHECK_STR(xl(&s, "t", "code GLOB '[A-Z][A-Z]?' AND status NOT GLOB '*.x'"),
              "\"code\" ~ '^[A-Z][A-Z].$' AND \"status\" !~ '^.*\\.x$'");
    CHECK_STR(xl(&s, "t", "code GLOB status"), "(untranslated: GLOB with a pattern that is not a string literal is not translated)");
    /* booleans compared with 0 and 1 */
    CHECK_STR(xl(&s, "t", "active IN (0, 1) AND active = 1"), "\"active\" IN (FALSE, TRUE) AND \"active\" = TRUE");
    CHECK_STR(xl(&s, "t", "CASE active WHEN 1 THEN rating > 0 WHEN 0 THEN rating = 0 END"),
              "CASE \"active\" WHEN TRUE THEN \"rating\" > 0 WHEN FALSE THEN \"rating\" = 0 END");
    CHECK_STR(xl(&s, "t", "CASE rating WHEN 1 THEN 1 END = 1"), "CASE \"rating\" WHEN 1 THEN 1 END = 1");
    /* dates: the form of what they are compared with */
    CHECK_STR(xl(&s, "t", "born <= date('now')"), "\"born\" <= ((now() AT TIME ZONE 'UTC'))::date");
    CHECK_STR(xl(&s, "t", "born <= date('now', '-18 years')"),
              "\"born\" <= (((now() AT TIME ZONE 'UTC') + interval '-18 year'))::date");
    CHECK_STR(xl(&s, "t", "d < date('now', 'start of month', '+1 month')"),
              "\"d\" < to_char((date_trunc('month', (now() AT TIME ZONE 'UTC')) + interval '1 month'), 'YYYY-MM-DD')");
    CHECK_STR(xl(&s, "t", "at > CURRENT_TIMESTAMP"), "\"at\" > (now() AT TIME ZONE 'UTC')");
    CHECK_STR(xl(&s, "t", "d > CURRENT_DATE"), "\"d\" > to_char(now() AT TIME ZONE 'UTC', 'YYYY-MM-DD')");
    CHECK_STR(xl(&s, "t", "datetime(at, '+1 day') > at"), "((\"at\")::timestamp + interval '1 day') > \"at\"");
    CHECK_STR(xl(&s, NULL, "SELECT strftime('%Y-%m', at) AS month FROM t"),
              "SELECT to_char((\"at\")::timestamp, 'YYYY-MM') AS \"month\" FROM \"t\"");
    CHECK_STR(xl(&s, NULL, "SELECT strftime('%s', tz) FROM t"),
              "SELECT (floor(extract(epoch FROM (\"tz\" AT TIME ZONE 'UTC')))::bigint) FROM \"t\"");
    CHECK_STR(xl(&s, "t", "date(rating) IS NOT NULL"), "(untranslated: date() of a number (a Julian day) is not translated)");
    CHECK_STR(xl(&s, "t", "date(d, 'localtime') IS NOT NULL"), "(untranslated: date() modifier 'localtime' is not translated)");
    CHECK_STR(xl(&s, "t", "date(rating, 'unixepoch') = '2024-01-01'"),
              "to_char((to_timestamp(\"rating\") AT TIME ZONE 'UTC'), 'YYYY-MM-DD') = '2024-01-01'");
    CHECK_STR(xl(&s, "t", "julianday(at) - julianday(born) < 30"),
              "((extract(epoch FROM (\"at\")::timestamp) / 86400.0 + 2440587.5)::double precision) - "
              "((extract(epoch FROM (\"born\")::timestamp) / 86400.0 + 2440587.5)::double precision) < 30");
    /* IS / IS NOT with 0 or 1 after a boolean column */
    CHECK_STR(xl(&s, "t", "active IS NOT 1"), "\"active\" IS DISTINCT FROM TRUE");
    CHECK_STR(xl(&s, "t", "active IS 0"), "\"active\" IS NOT DISTINCT FROM FALSE");
    /* x / 0 and x % 0 are NULL in SQLite, an error in PostgreSQL: the
       divisor goes through NULLIF, a nonzero literal as it is */
    CHECK_STR(xl(&s, "t", "rating / 2 > 1"), "\"rating\" / 2 > 1");
    CHECK_STR(xl(&s, "t", "rating / t.rating + 1 > 1"), "\"rating\" / NULLIF(\"t\".\"rating\", 0) + 1 > 1");
    CHECK_STR(xl(&s, "t", "rating % (rating - 1) = 0"), "\"rating\" % NULLIF((\"rating\" - 1), 0) = 0");
    CHECK_STR(xl(&s, "t", "rating / abs(-rating) < 0"), "\"rating\" / NULLIF(abs(- \"rating\"), 0) < 0");
    CHECK_STR(xl(&s, "t", "rating / 0 IS NULL"), "\"rating\" / NULLIF(0, 0) IS NULL");
    /* SQLite sorts NULL first (ascending), PostgreSQL last; LIMIT -1 is none */
    CHECK_STR(xl(&s, NULL, "SELECT Status FROM t ORDER BY rating, price DESC, amt NULLS LAST LIMIT 2"),
              "SELECT \"status\" FROM \"t\" ORDER BY \"rating\" NULLS FIRST, \"price\" DESC NULLS LAST, \"amt\" NULLS LAST "
              "LIMIT 2");
    CHECK_STR(xl(&s, NULL, "SELECT Status FROM t LIMIT -1 OFFSET 1"), "SELECT \"status\" FROM \"t\" LIMIT ALL OFFSET 1");
    /* what SQLite computes otherwise is refused, by name */
    CHECK_STR(xl(&s, "t", "CAST(price AS TEXT) <> '1'"),
              "(untranslated: CAST of the real column \"price\" to text is not translated (SQLite writes 3.0 where "
              "PostgreSQL writes 3))");
    CHECK_STR(xl(&s, "t", "status || price <> ''"),
              "(untranslated: || of a real column is not translated (SQLite writes 3.0 where PostgreSQL writes 3))");
    CHECK_STR(xl(&s, "t", "amt / 100 = 0"),
              "(untranslated: division of a NUMERIC column is not translated (SQLite divides the whole numbers it "
              "holds as integers: 50 / 100 is 0, in PostgreSQL 0.5))");
    CHECK_STR(xl(&s, "t", "amt / 100.0 < 1"), "\"amt\" / 100.0 < 1");
    CHECK_STR(xl(&s, "t", "rating / 2 > 1 AND CAST(rating AS TEXT) <> ''"),
              "\"rating\" / 2 > 1 AND CAST(\"rating\" AS text) <> ''");
    /* a number standing alone beside AND, OR, NOT is true when not 0 */
    CHECK_STR(xl(&s, "t", "rating AND price > 0"), "(\"rating\" <> 0) AND \"price\" > 0");
    CHECK_STR(xl(&s, "t", "price > 0 OR NOT rating"), "\"price\" > 0 OR NOT (\"rating\" <> 0)");
    CHECK_STR(xl(&s, "t", "active AND rating"), "\"active\" AND (\"rating\" <> 0)");
    CHECK_STR(xl(&s, "t", "price BETWEEN 0 AND rating AND rating"),
              "\"price\" BETWEEN 0 AND \"rating\" AND (\"rating\" <> 0)");
    CHECK_STR(xl(&s, "t", "price BETWEEN rating AND 9"), "\"price\" BETWEEN \"rating\" AND 9");
    CHECK_STR(xl(&s, "t", "rating = 1 AND price IS NOT rating"),
              "\"rating\" = 1 AND \"price\" IS DISTINCT FROM \"rating\"");
    CHECK_STR(xl(&s, "t", "NOT rating = 1 AND status <> ''"), "NOT \"rating\" = 1 AND \"status\" <> ''");
    CHECK_STR(xl(&s, "t", "status AND rating > 0"), "\"status\" AND \"rating\" > 0");
    CHECK_STR(xl(&s, "t", "rating + 1"), "\"rating\" + 1");
    CHECK_STR(xl(&s, NULL, "SELECT id FROM t WHERE rating ORDER BY id"),
              "SELECT \"id\" FROM \"t\" WHERE (\"rating\" <> 0) ORDER BY \"id\" NULLS FIRST");
    CHECK_STR(xl(&s, NULL, "SELECT rating FROM t GROUP BY rating HAVING rating"),
              "SELECT \"rating\" FROM \"t\" GROUP BY \"rating\" HAVING (\"rating\" <> 0)");
    CHECK_STR(xl(&s, NULL, "SELECT rating FROM t WHERE rating > 0"), "SELECT \"rating\" FROM \"t\" WHERE \"rating\" > 0");
    /* a whole predicate (a partial index's WHERE): the flag alone too */
    {
        const char *pe[][2] = {{"rating", "(\"rating\" <> 0)"},
                               {"NOT rating", "NOT (\"rating\" <> 0)"},
                               {"rating > 0", "\"rating\" > 0"},
                               {"active", "\"active\""}};
        for (size_t k = 0; k < sizeof(pe) / sizeof(pe[0]); k++) {
            buf pb;
            char pwhy[300];
            buf_init(&pb);
            CHECK_INT(expr_translate_pred(pe[k][0], strlen(pe[k][0]), &s, &s.t[schema_find(&s, "t")], 0, &pb, pwhy,
                                          sizeof(pwhy)),
                      0);
            CHECK_STR(pb.data ? pb.data : "", pe[k][1]);
            buf_release(&pb);
        }
    }
    CHECK_STR(xl(&s, "t", "rating"), "\"rating\"");
    /* a column named like a keyword */
    CHECK_STR(xl(&s, "t", "date <> ''"), "\"date\" <> ''");
    /* nesting: deep enough for any real schema, bounded for a hostile one */
    {
        static char deep[8000];
        size_t k = 0;
        for (int j = 0; j < 150; j++)
            k += (size_t)snprintf(deep + k, sizeof(deep) - k, "abs(");
        k += (size_t)snprintf(deep + k, sizeof(deep) - k, "rating");
        for (int j = 0; j < 150; j++)
            deep[k++] = ')';
        deep[k] = 0;
        CHECK_HAS(xl(&s, "t", deep), "abs(abs(");
        k = 0;
        for (int j = 0; j < 1000; j++)
            k += (size_t)snprintf(deep + k, sizeof(deep) - k, j % 2 ? "(" : "f(");
        deep[k++] = '1';
        for (int j = 0; j < 1000; j++)
            deep[k++] = ')';
        deep[k] = 0;
        CHECK_STR(xl(&s, "t", deep), "(untranslated: expression nested too deeply)");
    }
    /* unbalanced */
    CHECK_STR(xl(&s, "t", "(rating > 1"), "(untranslated: unbalanced parentheses)");
    CHECK_STR(xl(&s, "t", "rating > 1)"), "(untranslated: unbalanced parentheses)");
    schema_release(&s);
    for (size_t k = 0; k < w.n; k++)
        free(w.v[k]);
    free(w.v);
    sqlite3_close(x);
}

void test_copy(void)
{
    test_translate();
    CHECK(sqlite3_open(":memory:", &db) == SQLITE_OK);
    ctype i8 = {K_INT8, -1, -1, -1, 0}, i2 = {K_INT2, -1, -1, -1, 0}, f8 = {K_FLOAT8, -1, -1, -1, 0};
    ctype f4 = {K_FLOAT4, -1, -1, -1, 0}, n122 = {K_NUMERIC, -1, 12, 2, 0}, n = {K_NUMERIC, -1, -1, -1, 0};
    ctype tx = {K_TEXT, -1, -1, -1, 0}, vc3 = {K_VARCHAR, 3, -1, -1, 0}, ch3 = {K_BPCHAR, 3, -1, -1, 0};
    ctype bo = {K_BOOL, -1, -1, -1, 0}, da = {K_DATE, -1, -1, -1, 0}, ts = {K_TIMESTAMP, -1, -1, -1, 0};
    ctype tz = {K_TIMESTAMPTZ, -1, -1, -1, 0}, jb = {K_JSONB, -1, -1, -1, 0}, uu = {K_UUID, -1, -1, -1, 0};
    ctype by = {K_BYTEA, -1, -1, -1, 0}, ti = {K_TIME, -1, -1, -1, 0};

    /* integers */
    CHECK_STR(ok(&i8, "9223372036854775807"), "9223372036854775807");
    CHECK_STR(ok(&i8, "-9223372036854775808"), "-9223372036854775808");
    CHECK_STR(ok(&i8, "3.0"), "3");
    CHECK_STR(ok(&i8, "' 42 '"), "42");
    CHECK(bad(&i8, "3.5"));
    /* each says why: a fraction, or a whole number past bigint */
    const char *why8;
    conv(&i8, "3.5", &why8);
    CHECK_HAS(why8, "a real number that is not an integer");
    conv(&i8, "1e20", &why8);
    CHECK_HAS(why8, "a real number out of range for bigint");
    conv(&i8, "9e999", &why8);
    CHECK_HAS(why8, "out of range for bigint");
    CHECK(bad(&i8, "'five'"));
    CHECK(bad(&i8, "x'01'"));
    CHECK(bad(&i2, "40000"));
    /* doubles: canonical is the 8 bytes */
    CHECK_STR(ok(&f8, "5e-324"), "0000000000000001");
    CHECK_STR(ok(&f8, "1.79e308"), "7fefdcf158adbb99");
    CHECK_STR(ok(&f8, "0.1"), "3fb999999999999a");
    CHECK_STR(ok(&f8, "9007199254740992"), "4340000000000000");
    CHECK(bad(&f8, "9007199254740993"));
    CHECK(bad(&f4, "0.1"));
    CHECK_STR(ok(&f4, "0.5"), "3f000000");
    /* numeric */
    CHECK_STR(ok(&n122, "12.5"), "12.50");
    CHECK_STR(ok(&n122, "12.34"), "12.34");
    CHECK_STR(ok(&n122, "'-0.01'"), "-0.01");
    CHECK_STR(ok(&n122, "0"), "0.00");
    CHECK(bad(&n122, "12.345"));
    CHECK(bad(&n122, "12345678901.5"));
    CHECK_STR(ok(&n122, "1234567890.5"), "1234567890.50");
    CHECK_STR(ok(&n, "'1.50e3'"), "1500");
    CHECK_STR(ok(&n, "'123456789012345678901234567890.000000000000000000001'"),
              "123456789012345678901234567890.000000000000000000001");
    CHECK_STR(ok(&n, "0.1"), "0.1");
    CHECK(bad(&n, "'abc'"));
    /* numeric(p,s) straight from integers and exact reals: ndigits, weight,
       sign, dscale, then base-10000 groups aligned on the point */
    ctype n105 = {K_NUMERIC, -1, 10, 5, 0};
    CHECK_STR(binhex(&n122, "12.5"), "0002 0000 0000 0002 000c 1388");
    CHECK_STR(binhex(&n122, "-0.05"), "0001 ffff 4000 0002 01f4");
    CHECK_STR(binhex(&n122, "1234567890"), "0004 0002 0000 0002 000c 0d80 1ed2 0000");
    CHECK_STR(binhex(&n122, "0"), "0000 0000 0000 0002");
    CHECK_STR(binhex(&n122, "-0.0"), "0000 0000 0000 0002");
    CHECK_STR(binhex(&n105, "0.00001"), "0002 ffff 0000 0005 0000 03e8");
    CHECK_STR(ok(&n105, "0.00001"), "0.00001");
    CHECK_STR(ok(&n105, "-12345"), "-12345.00000");
    CHECK_STR(ok(&n105, "-0.5"), "-0.50000");
    CHECK(bad(&n122, "12345678901"));
    CHECK(bad(&n105, "123456"));
    /* text */
    CHECK_STR(ok(&tx, "'a\tb'"), "a\tb");
    CHECK_STR(ok(&tx, "12"), "12");
    CHECK_STR(ok(&tx, "0.1"), "0.1");
    CHECK(bad(&tx, "CAST(x'61ff' AS TEXT)"));
    CHECK(bad(&tx, "CAST(x'610062' AS TEXT)"));
    CHECK(bad(&tx, "CAST(x'eda080' AS TEXT)")); /* a surrogate */
    CHECK(bad(&tx, "x'61'"));
    CHECK_STR(ok(&vc3, "'abc'"), "abc");
    CHECK_STR(ok(&vc3, "'héé'"), "héé");
    CHECK(bad(&vc3, "'abcd'"));
    CHECK_STR(ok(&ch3, "'ab   '"), "ab");
    ctype mapped;
    map_decl_type("CHAR(3)", &mapped, NULL);
    CHECK_INT(mapped.kind, K_VARCHAR); /* SQLite never pads: a CHAR(n) column is varchar(n) */
    CHECK(bad(&mapped, "'ab   '")); /* 5 characters: kept, so they do not fit */
    CHECK_STR(ok(&mapped, "'ab '"), "ab ");
    /* bytea */
    CHECK_STR(ok(&by, "x'00ff00'"), "00ff00");
    CHECK_STR(ok(&by, "'A'"), "41");
    CHECK(bad(&by, "1"));
    /* booleans */
    CHECK_STR(ok(&bo, "1"), "true");
    CHECK_STR(ok(&bo, "'F'"), "false");
    CHECK_STR(ok(&bo, "'true'"), "true");
    CHECK_STR(ok(&bo, "'off'"), "false");
    CHECK(bad(&bo, "2"));
    CHECK(bad(&bo, "'maybe'"));
    /* dates and times */
    CHECK_STR(ok(&ts, "'2024-01-02 03:04:05'"), "2024-01-02 03:04:05");
    CHECK_STR(ok(&ts, "'2024-01-02T03:04:05.120Z'"), "2024-01-02 03:04:05.12");
    CHECK_STR(ok(&ts, "'2024-01-02T05:04:05+02:00'"), "2024-01-02 03:04:05");
    CHECK_STR(ok(&ts, "'2024-01-02 03:04'"), "2024-01-02 03:04:00");
    CHECK_STR(ok(&ts, "1704164645"), "2024-01-02 03:04:05");
    CHECK_STR(ok(&ts, "1704164645123"), "2024-01-02 03:04:05.123");
    CHECK_STR(ok(&ts, "2460311.627835648"), "2024-01-02 03:04:05");
    /* numbers are times only where their size makes them plausible */
    CHECK_STR(ok(&ts, "-864000000"), "1942-08-16 00:00:00");
    CHECK_STR(ok(&ts, "100000000"), "1973-03-03 09:46:40");
    CHECK_STR(ok(&ts, "9999999999"), "2286-11-20 17:46:39");
    CHECK_STR(ok(&ts, "'1704164645'"), "2024-01-02 03:04:05");
    CHECK_STR(ok(&ts, "1704164645.25"), "2024-01-02 03:04:05.25");
    CHECK_STR(ok(&ts, "100000000000"), "1973-03-03 09:46:40");
    CHECK_STR(ok(&ts, "1704164645123456"), "2024-01-02 03:04:05.123456");
    CHECK_STR(ok(&ts, "2460311"), "2024-01-01 12:00:00"); /* a whole Julian day (NUMERIC affinity) */
    CHECK(bad(&ts, "2024"));
    CHECK(bad(&ts, "'2024'"));
    CHECK(bad(&ts, "2024.5"));
    CHECK(bad(&ts, "0"));
    CHECK(bad(&ts, "-86400"));
    CHECK(bad(&ts, "20240102"));
    CHECK(bad(&ts, "99999999"));
    CHECK(bad(&ts, "10000000000"));
    CHECK(bad(&ts, "99999999999"));
    CHECK(bad(&ts, "10000000000000"));
    CHECK(bad(&ts, "10000000000000000"));
    CHECK(bad(&ts, "-9223372036854775808"));
    CHECK(bad(&da, "2024"));
    CHECK(bad(&tz, "1e300"));
    {
        const char *why;
        conv(&ts, "2024", &why);
        CHECK_HAS(why, "not a plausible time");
        CHECK_HAS(why, "10^8 <= |n| < 10^10");
    }
    CHECK_STR(ok(&tz, "'2024-01-02'"), "2024-01-02 00:00:00+00");
    CHECK(bad(&ts, "'2024-02-30'"));
    CHECK(bad(&ts, "'2023-02-29'"));
    CHECK(bad(&ts, "'yesterday'"));
    CHECK(bad(&ts, "'2024-01-02 25:00'"));
    CHECK(bad(&ts, "'2024-01-02 03:04:05.1234567'"));
    CHECK_STR(ok(&ts, "'2024-01-02 03:04:05.1234560'"), "2024-01-02 03:04:05.123456");
    CHECK_STR(ok(&da, "'2024-02-29'"), "2024-02-29");
    CHECK_STR(ok(&da, "1709164800"), "2024-02-29");
    CHECK_STR(ok(&da, "2460369.5"), "2024-02-29");
    CHECK(bad(&da, "'2024-02-29 10:00'"));
    CHECK_STR(ok(&ti, "'10:30'"), "10:30:00");
    CHECK_STR(ok(&ti, "'23:59:59.5'"), "23:59:59.5");
    CHECK(bad(&ti, "'24:00'"));
    /* uuid */
    CHECK_STR(ok(&uu, "'A0EEBC99-9C0B-4EF8-BB6D-6BB9BD380A11'"), "a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11");
    CHECK_STR(ok(&uu, "'{a0eebc999c0b4ef8bb6d6bb9bd380a11}'"), "a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11");
    CHECK_STR(ok(&uu, "x'a0eebc999c0b4ef8bb6d6bb9bd380a11'"), "a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11");
    CHECK(bad(&uu, "'a0eebc99-9c0b'"));
    /* jsonb */
    CHECK_STR(ok(&jb, "'{\"b\":1,\"a\":[1,2.50,{\"z\":null}]}'"), "{\"a\": [1, 2.50, {\"z\": null}], \"b\": 1}");
    CHECK_STR(ok(&jb, "5"), "5");
    CHECK(bad(&jb, "'{'"));
    CHECK_STR(json("{\"aa\":1,\"b\":2,\"aa\":3}"), "{\"b\": 2, \"aa\": 3}");
    CHECK_STR(json(" [ 1e2 , -0 , 0.10, 1E-2, -1.5e+1 ] "), "[100, 0, 0.10, 0.01, -15]");
    CHECK_STR(json("\"\\u00e9\\n\\u0001\\\"\""), "\"é\\n\\u0001\\\"\"");
    CHECK_STR(json("\"\\ud83d\\ude00\""), "\"😀\"");
    CHECK_STR(json("\"\\u0000\""), "(bad)");
    CHECK_STR(json("\"\\ud83d\""), "(bad)");
    CHECK_STR(json("01"), "(bad)");
    CHECK_STR(json("[1,]"), "(bad)");
    CHECK_STR(json("true false"), "(bad)");
    CHECK_STR(json("{}"), "{}");
    /* the hash PostgreSQL computes with hashtextextended(text, 0) */
    CHECK_INT((int64_t)pg_hash64("", 0, 0), -6939563903564495251LL);
    CHECK_INT((int64_t)pg_hash64("abc", 3, 0), -6747756470228489321LL);
    CHECK_INT((int64_t)pg_hash64("hello world!", 12, 0), -2866487628948787489LL);
    CHECK_INT((int64_t)pg_hash64("0123456789abcdefghij", 20, 0), -8382056185395640245LL);
    CHECK_INT((int64_t)pg_hash64("é,1:x", strlen("é,1:x"), 0), -2086586763640414310LL);
    /* with a seed, and the per-type hashes, as PostgreSQL 15 computes them:
       hashtextextended('abc', 7), hashint8extended(-5, 3), ... */
    CHECK_INT((int64_t)pg_hash64("abc", 3, 7), 1967049030278966041LL);
    CHECK_INT((int64_t)pg_hash64("hello world!", 12, 123456789012ull), -3240737874912711311LL);
    /* a bytea's hash is that of its hex text, computed without writing the
       text out: equal to pg_hash64 of the text for every tail length */
    {
        ctype byh = {K_BYTEA, -1, -1, -1, 0};
        for (int len = 0; len <= 25; len++) {
            char expr[80], hex[60];
            for (int i = 0; i < len; i++)
                snprintf(hex + 2 * i, 3, "%02x", (i * 37 + 11) & 255);
            hex[2 * len] = 0;
            snprintf(expr, sizeof(expr), "x'%s'", hex);
            CHECK_INT(hashof(&byh, expr, 5), (int64_t)pg_hash64(hex, 2 * (size_t)len, 5));
        }
    }
    /* conv_fast, the load's shortcut, writes what conv_value writes and
       hashes as conv_hash does, or declines the value: every kind it takes,
       at the edges of each */
    {
        ctype n52 = {K_NUMERIC, -1, 5, 2, 0}, n188 = {K_NUMERIC, -1, 18, 8, 0}, n200 = {K_NUMERIC, -1, 20, 0, 0};
        ctype vc4 = {K_VARCHAR, 4, -1, -1, 0};
        const char *taken[][2] = {
            {"i8", "0"}, {"i8", "-1"}, {"i8", "9223372036854775807"}, {"i8", "-9223372036854775808"},
            {"i8", "4294967296"}, {"f8", "1.5"}, {"f8", "-0.0"}, {"f8", "0.0"}, {"f8", "1e308"},
            {"f8", "9e999"}, {"f8", "-2.5e-300"}, {"n122", "12.34"}, {"n122", "-12.34"}, {"n122", "0"},
            {"n122", "0.0"}, {"n122", "-0.0"}, {"n122", "9999999999.99"}, {"n122", "-7"}, {"n122", "0.01"},
            {"n122", "10000"}, {"n122", "123456.7"}, {"n52", "999.99"}, {"n188", "0.12345678"}, {"n188", "12345"},
            {"n188", "0.00000001"}, {"n200", "1234567890123456789"}, {"n200", "-4611686018427387904"},
            {"tx", "''"}, {"tx", "'abc'"}, {"tx", "'h\xc3\xa9llo wörld, a longer text than forty-eight bytes'"},
            {"vc4", "'abcd'"}, {"vc4", "'äöüß'"}, {"bo", "0"}, {"bo", "1"}};
        const char *declined[][2] = {
            {"i8", "NULL"},     {"i8", "'42'"},          {"i8", "3.0"},           {"f8", "NULL"},
            {"f8", "3"},        {"f8", "'1.5'"},         {"n122", "NULL"},        {"n122", "12.345"}, {"n122", "0.125"}, {"n122", "-0.125"},
            {"n122", "'12.34'"}, {"n122", "10000000000"}, {"n122", "1e300"},       {"n52", "1000"},
            {"n", "1.5"},       {"tx", "NULL"},          {"tx", "x'00'"},         {"tx", "x'ff'"},
            {"tx", "5"},        {"tx", "CAST(x'6100' AS TEXT)"}, {"tx", "CAST(x'ff' AS TEXT)"}, {"vc4", "'abcde'"},
            {"vc3", "'abcd'"},  {"ch3", "'ab'"},         {"bo", "2"}, {"bo", "'t'"}, {"bo", "1.0"},             {"ts", "'2024-01-01'"}};
        const ctype *types[] = {&i8, &f8, &n122, &n52, &n188, &n200, &tx, &vc4, &vc3, &ch3, &bo, &ts, &n};
        const char *names[] = {"i8", "f8", "n122", "n52", "n188", "n200", "tx", "vc4", "vc3", "ch3", "bo", "ts", "n"};
        for (size_t k = 0; k < sizeof(taken) / sizeof(taken[0]) + sizeof(declined) / sizeof(declined[0]); k++) {
            int want = k < sizeof(taken) / sizeof(taken[0]);
            const char **tv = want ? taken[k] : declined[k - sizeof(taken) / sizeof(taken[0])];
            const ctype *t = NULL;
            for (size_t j = 0; j < sizeof(names) / sizeof(names[0]); j++)
                if (!strcmp(names[j], tv[0]))
                    t = types[j];
            int got = fast_same(t, tv[1]);
            if (got != want)
                printf("  conv_fast %s %s: %d, want %d\n", tv[0], tv[1], got, want);
            CHECK(got == want);
        }
    }
    ctype i4h = {K_INT4, -1, -1, -1, 0};
    ctype tsh = {K_TIMESTAMP, -1, -1, -1, 0}, tmh = {K_TIME, -1, -1, -1, 0}, uuh = {K_UUID, -1, -1, -1, 0};
    ctype txh = {K_TEXT, -1, -1, -1, 0}, boh = {K_BOOL, -1, -1, -1, 0};
    CHECK_INT(hashof(&i8, "-5", 3), 4566310048417840633LL);
    CHECK_INT(hashof(&i8, "9223372036854775807", 1), 3044001184559810835LL);
    CHECK_INT(hashof(&i8, "-9223372036854775808", 2), -4818131594678029970LL);
    CHECK_INT(hashof(&i4h, "1", 2), 7177384568905846752LL);
    CHECK_INT(hashof(&boh, "'true'", 2), 7177384568905846752LL); /* hashint4extended(true::int4, 2) */
    CHECK_INT(hashof(&i2, "-3", 4), -5412822868968083836LL);
    CHECK_INT(hashof(&tsh, "'2024-01-01 12:00:00.5'", 9), 8442833603293735794LL);
    CHECK_INT(hashof(&tmh, "'13:14:15.25'", 5), -5934000684123951259LL);
    CHECK_INT(hashof(&uuh, "'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11'", 6), -5685161156393764093LL);
    CHECK_INT(hashof(&txh, "'abc'", 7), 1967049030278966041LL);
    /* reals: hashfloat8extended / hashfloat4extended as PostgreSQL 15
       computes them (a float4 hashed as its double; either zero hashes to the
       seed, and hash_sql adds 1 for -0) */
    ctype f8h = {K_FLOAT8, -1, -1, -1, 0}, f4h = {K_FLOAT4, -1, -1, -1, 0};
    CHECK_INT(hashof(&f8h, "-1.5", 9), 8935103061760243331LL);
    CHECK_INT(hashof(&f4h, "-1.5", 9), 8935103061760243331LL);
    CHECK_INT(hashof(&f8h, "1e300", 11), -5148126753285288062LL);
    CHECK_INT(hashof(&f4h, "0.375", 3), -6828822554401520286LL);
    CHECK_INT(hashof(&f8h, "0.0", 9), 9LL);
    CHECK_INT(hashof(&f8h, "-0.0", 9), 8LL);
    CHECK_INT(hashof(&f8h, "'-3'", 9), hashof(&f8h, "-3.0", 9));
    /* numeric(p,s): hash_numeric_extended(x, CASE WHEN x < 0 THEN 5 + 2^62
       ELSE 5 END) as PostgreSQL 15 computes it, through the fixed-point path (integers,
       exact reals) and the general one (text, long values) */
    ctype n12 = {K_NUMERIC, -1, 12, 2, 0}, n30 = {K_NUMERIC, -1, 30, 4, 0};
    ctype n8 = {K_NUMERIC, -1, 8, 0, 0}, n5 = {K_NUMERIC, -1, 5, 3, 0};
    CHECK_INT(hashof(&n12, "-1234.56", 5), -1514649836055286354LL);
    CHECK_INT(hashof(&n12, "'-1234.56'", 5), -1514649836055286354LL);
    CHECK_INT(hashof(&n12, "0", 5), 4LL); /* zero: the seed - 1 */
    CHECK_INT(hashof(&n12, "'0.000'", 5), 4LL);
    CHECK_INT(hashof(&n12, "10000", 5), 7699580310696997968LL); /* zero groups left out */
    CHECK_INT(hashof(&n12, "'10000.00'", 5), 7699580310696997968LL);
    CHECK_INT(hashof(&n12, "0.05", 5), -4585190805292361091LL);
    CHECK_INT(hashof(&n12, "-0.01", 5), 6971311755227666400LL);
    CHECK_INT(hashof(&n12, "'-0.00'", 5), 4LL); /* zero has no sign on the server */
    CHECK_INT(hashof(&n12, "12.5", 5), 4901463869591849755LL);
    CHECK_INT(hashof(&n30, "'12345678901234567890.1234'", 5), 8445746379865925263LL);
    CHECK_INT(hashof(&n8, "-99999999", 5), -3137677056924032385LL);
    CHECK_INT(hashof(&n5, "7", 5), 7505677345030090389LL);
    /* shortest doubles */
    char d[32];
    fmt_double(0.1, d);
    CHECK_STR(d, "0.1");
    fmt_double(1e-300, d);
    CHECK_STR(d, "1e-300");
    /* names and types */
    char *nm = copy_name("Order Items", 0);
    CHECK_STR(nm, "order items");
    free(nm);
    nm = copy_name("ÜberCase", 0);
    CHECK_STR(nm, "Übercase");
    free(nm);
    nm = pg_name("a_very_long_table_name_that_goes_on_and_on_and_on_forever", "some_column_fkey");
    CHECK(nm && strlen(nm) <= 63);
    free(nm);
    ctype t;
    char *pt = NULL;
    map_decl_type("DECIMAL(10, 2)", &t, &pt);
    CHECK_STR(pt, "numeric(10,2)");
    free(pt);
    map_decl_type("NUMERIC(5)", &t, &pt);
    CHECK_STR(pt, "numeric(5,0)");
    free(pt);
    /* a scale above the precision or below 0 (PostgreSQL 15 only): plain
       numeric, not numeric(p,0), which would refuse 0.00012 */
    map_decl_type("NUMERIC(2,5)", &t, &pt);
    CHECK_STR(pt, "numeric");
    free(pt);
    map_decl_type("DECIMAL(5,-1)", &t, &pt);
    CHECK_STR(pt, "numeric");
    free(pt);
    map_decl_type("varchar(255)", &t, &pt);
    CHECK_STR(pt, "varchar(255)");
    free(pt);
    map_decl_type("REAL", &t, &pt);
    CHECK_STR(pt, "double precision");
    free(pt);
    map_decl_type("unsigned big int", &t, &pt);
    CHECK_STR(pt, "bigint");
    free(pt);
    map_decl_type("DATETIME", &t, &pt);
    CHECK_STR(pt, "timestamp");
    free(pt);
    /* the words after a precision count: with time zone stays with it */
    map_decl_type("timestamp(3) with time zone", &t, &pt);
    CHECK_STR(pt, "timestamptz");
    free(pt);
    map_decl_type("TIMESTAMP(6) WITHOUT TIME ZONE", &t, &pt);
    CHECK_STR(pt, "timestamp");
    free(pt);
    map_decl_type("CHAR(8)", &t, &pt);
    CHECK_STR(pt, "varchar(8)");
    free(pt);
    map_decl_type("nchar(2)", &t, &pt);
    CHECK_STR(pt, "varchar(2)");
    free(pt);
    map_decl_type("CHARACTER(512)", &t, &pt);
    CHECK_STR(pt, "varchar(512)");
    free(pt);
    map_decl_type("money", &t, &pt);
    CHECK_STR(pt, "numeric");
    free(pt);
    /* expressions */
    char why[200];
    buf b;
    buf_init(&b);
    CHECK_INT(expr_translate("ifnull(a, 0) == 1 AND b LIKE 'x%'", 33, NULL, NULL, -1, 0, &b, why, sizeof(why)), 0);
    CHECK_STR(b.data, "coalesce(\"a\", 0) = 1 AND \"b\" ILIKE 'x%'");
    b.len = 0;
    CHECK_INT(expr_translate("CURRENT_TIMESTAMP", 17, NULL, NULL, K_TIMESTAMP, 0, &b, why, sizeof(why)), 0);
    CHECK_STR(b.data, "(now() AT TIME ZONE 'UTC')");
    b.len = 0;
    /* defaults: the expression for the column's type */
    const char *fz = "strftime('%Y-%m-%dT%H:%M:%fZ', 'now')";
    CHECK_INT(expr_translate(fz, strlen(fz), NULL, NULL, K_TIMESTAMP, 0, &b, why, sizeof(why)), 0);
    CHECK_STR(b.data, "(now() AT TIME ZONE 'UTC')");
    b.len = 0;
    CHECK_INT(expr_translate(fz, strlen(fz), NULL, NULL, K_TEXT, 0, &b, why, sizeof(why)), 0);
    CHECK_STR(b.data, "to_char((now() AT TIME ZONE 'UTC'), 'YYYY-MM-DD\"T\"HH24:MI:SS.MS\"Z\"')");
    b.len = 0;
    CHECK_INT(expr_translate("date('now', '+7 days')", 22, NULL, NULL, K_DATE, 0, &b, why, sizeof(why)), 0);
    CHECK_STR(b.data, "(((now() AT TIME ZONE 'UTC') + interval '7 day'))::date");
    b.len = 0;
    CHECK_INT(expr_translate("date('now')", 11, NULL, NULL, K_DATE, 0, &b, why, sizeof(why)), 0);
    CHECK_STR(b.data, "((now() AT TIME ZONE 'UTC')::date)");
    b.len = 0;
    CHECK_INT(expr_translate("json_extract(x, '$.a')", 22, NULL, NULL, -1, 0, &b, why, sizeof(why)), -1);
    CHECK_HAS(why, "json_extract");
    buf_release(&b);
    sqlite3_close(db);
}
