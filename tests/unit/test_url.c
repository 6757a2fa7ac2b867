/* test_url.c -- URL engines, parsing, redaction and resolution order. */
#include "internal.h"
#include "unit.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static void engines(void)
{
    CHECK_STR(strata_url_engine("postgres://u@h/db"), "postgres");
    CHECK_STR(strata_url_engine("postgresql://u@h/db"), "postgres");
    CHECK_STR(strata_url_engine("postgresql+asyncpg://u@h/db"), "postgres");
    CHECK_STR(strata_url_engine("postgresql+psycopg2://u@h/db"), "postgres");
    CHECK_STR(strata_url_engine("postgresql+psycopg://u@h/db"), "postgres");
    CHECK_STR(strata_url_engine("PostgreSQL://h/db"), "postgres");
    CHECK_STR(strata_url_engine("sqlite:///x"), "sqlite");
    CHECK_STR(strata_url_engine("sqlite+aiosqlite:///./dev.sqlite3"), "sqlite");
    CHECK_STR(strata_url_engine("sqlite+pysqlite:///x.db"), "sqlite");
    CHECK_STR(strata_url_engine("sqlite3:x"), "sqlite");
    CHECK_STR(strata_url_engine("sqlite::memory:"), "sqlite");
    CHECK_STR(strata_url_engine("mysql://u@h/db"), NULL);
    CHECK_STR(strata_url_engine("postgresqlx://h/db"), NULL);
    CHECK_STR(strata_url_engine("sqlite"), NULL);
    CHECK_STR(strata_url_engine("/tmp/x.db"), NULL);
    CHECK_STR(strata_url_engine(":memory:"), NULL);
    CHECK_STR(strata_url_engine(""), NULL);
    CHECK_STR(strata_url_engine(NULL), NULL);
}

static void sqlite_path(const char *file, int line, const char *url, const char *want)
{
    db_url u;
    strata_error e;
    strata_code rc = url_parse(url, &u, &e);
    unit_check_int(file, line, rc, STRATA_OK, url, "STRATA_OK");
    unit_check_int(file, line, u.engine, DIALECT_SQLITE, "engine", "DIALECT_SQLITE");
    unit_check_str(file, line, u.path, want, url, want);
    unit_check_str(file, line, u.conninfo, NULL, "conninfo", "NULL");
    url_release(&u);
}
#define SQLITE_PATH(url, want) sqlite_path(__FILE__, __LINE__, url, want)

static void parsing(void)
{
    SQLITE_PATH("sqlite:///rel/path.db", "rel/path.db");
    SQLITE_PATH("sqlite:////abs/path.db", "/abs/path.db");
    SQLITE_PATH("sqlite:path.db", "path.db");
    SQLITE_PATH("sqlite3:path.db", "path.db");
    SQLITE_PATH("sqlite3:/abs/path.db", "/abs/path.db");
    SQLITE_PATH("sqlite::memory:", ":memory:");
    SQLITE_PATH("sqlite:///:memory:", ":memory:");
    SQLITE_PATH("sqlite:///:memory:?mode=rw", ":memory:");
    SQLITE_PATH("sqlite+aiosqlite:///./dev.sqlite3", "./dev.sqlite3");
    SQLITE_PATH("sqlite:///x.db?mode=rw", "x.db");
    SQLITE_PATH("sqlite:////abs/x.db?mode=rwc", "/abs/x.db");
    /* whitespace around a URL is not part of it */
    SQLITE_PATH("sqlite:///ws.db ", "ws.db");
    SQLITE_PATH(" \tsqlite:///ws.db\r\n", "ws.db");

    db_url u;
    strata_error e;
    /* ?mode=ro is honoured, other parameters are refused by name */
    CHECK_INT(url_parse("sqlite:///x.db?mode=ro", &u, &e), STRATA_OK);
    CHECK_STR(u.path, "x.db");
    CHECK_INT(u.readonly, 1);
    url_release(&u);
    CHECK_INT(url_parse("sqlite:///x.db", &u, &e), STRATA_OK);
    CHECK_INT(u.readonly, 0);
    url_release(&u);
    CHECK_INT(url_parse("sqlite:///x.db?mode=ro&cache=shared", &u, &e), STRATA_URL_INVALID);
    CHECK(strstr(e.message, "'cache'") != NULL && !strstr(e.message, "shared")); /* named, value not echoed */
    CHECK_INT(url_parse("sqlite:///x.db?a://u:pw123456@h", &u, &e), STRATA_URL_INVALID);
    CHECK(!strstr(e.message, "pw123456"));
    CHECK_INT(url_parse("sqlite:////abs/x.db?timeout=5", &u, &e), STRATA_URL_INVALID);
    /* an application's Python driver parameters are left out */
    CHECK_INT(url_parse("sqlite+aiosqlite:///x.db?check_same_thread=False&uri=true&mode=ro", &u, &e), STRATA_OK);
    CHECK_STR(u.path, "x.db");
    CHECK_INT(u.readonly, 1);
    url_release(&u);
    /* and a PostgreSQL driver's or ORM's: asyncpg's ssl=MODE is sslmode */
    CHECK_INT(url_parse("postgresql+asyncpg://u:p@h/db?ssl=require&prepared_statement_cache_size=0&application_name=x",
                        &u, &e),
              STRATA_OK);
    CHECK_STR(u.conninfo, "postgresql://u:p@h/db?sslmode=require&application_name=x");
    CHECK_STR(url_pg_opt(&u, "sslmode"), "require");
    url_release(&u);
    CHECK_INT(url_parse("postgresql://u:p?ssl=require@h/db?pgbouncer=true&connection_limit=1", &u, &e), STRATA_OK);
    CHECK_STR(u.conninfo, "postgresql://u:p?ssl=require@h/db");
    CHECK_STR(u.password, "p?ssl=require");
    url_release(&u);
    CHECK_INT(url_parse("postgresql://h/db?ssl=true", &u, &e), STRATA_OK);
    CHECK_STR(u.conninfo, "postgresql://h/db?ssl=true"); /* libpq's own */
    url_release(&u);
    CHECK_INT(url_parse("postgresql://h/db?ssl=require&sslmode=require", &u, &e), STRATA_OK);
    CHECK_STR(u.conninfo, "postgresql://h/db?sslmode=require");
    url_release(&u);
    CHECK_INT(url_parse("postgresql://u:s3cretpw@h/db?ssl=disable&sslmode=require", &u, &e), STRATA_URL_INVALID);
    CHECK(!strstr(e.message, "s3cretpw"));
    CHECK_INT(url_parse("postgresql://u:s3cretpw@h/db?schema=public", &u, &e), STRATA_URL_INVALID);
    CHECK(!strstr(e.message, "s3cretpw") && strstr(e.hint, "search_path"));
    CHECK_INT(url_parse("sqlite:///x.db?mode=memory", &u, &e), STRATA_URL_INVALID);
    CHECK_INT(url_parse("postgresql://h/db ", &u, &e), STRATA_OK);
    CHECK_STR(u.conninfo, "postgresql://h/db");
    url_release(&u);
    CHECK_STR(strata_url_engine(" sqlite:///x"), "sqlite");
    CHECK_INT(url_parse("postgresql+asyncpg://u:p@h:5432/db", &u, &e), STRATA_OK);
    CHECK_INT(u.engine, DIALECT_POSTGRES);
    CHECK_STR(u.conninfo, "postgresql://u:p@h:5432/db");
    CHECK_STR(u.path, NULL);
    url_release(&u);
    /* one parse holds all an engine needs: its ops, the URL as given, and
       for PostgreSQL libpq's options (the password decoded) */
    CHECK_INT(url_parse(" postgres://u:p%40ss@h/app?connect_timeout=3", &u, &e), STRATA_OK);
    CHECK(u.ops == &drv_postgres_ops);
    CHECK_STR(u.url, " postgres://u:p%40ss@h/app?connect_timeout=3");
    CHECK_STR(u.password, "p@ss");
    CHECK_STR(u.dbname, "app");
    CHECK_STR(url_pg_opt(&u, "connect_timeout"), "3");
    CHECK_STR(url_pg_opt(&u, "service"), NULL);
    url_release(&u);
    CHECK_INT(url_parse("postgresql://h", &u, &e), STRATA_OK);
    CHECK_STR(u.dbname, NULL);
    CHECK_STR(u.password, NULL);
    url_release(&u);
    CHECK_INT(url_parse("sqlite:///x.db", &u, &e), STRATA_OK);
    CHECK(u.ops == &drv_sqlite_ops);
    CHECK_STR(u.url, "sqlite:///x.db");
    CHECK_STR(url_pg_opt(&u, "dbname"), NULL);
    url_release(&u);
    CHECK_INT(url_parse("postgres://h/db?sslmode=disable&application_name=x", &u, &e), STRATA_OK);
    CHECK_STR(u.conninfo, "postgresql://h/db?sslmode=disable&application_name=x");
    url_release(&u);
    CHECK_INT(url_parse("postgresql+psycopg2://u:p@h1:5432,h2:5433/db", &u, &e), STRATA_OK);
    CHECK_STR(u.conninfo, "postgresql://u:p@h1:5432,h2:5433/db");
    url_release(&u);
    url_release(&u); /* twice is harmless */

    /* unparsable PostgreSQL URLs: the password is never in the message */
    static const char *const bad[] = {
        "postgresql://u:s3cretpw@[::1/db",
        "postgresql+asyncpg://u:s3cretpw@h/db?nosuchparam=1",
        "postgresql://u:s3cret%zzpw@h/db",
        "postgres://u:s3cretpw@h/db?password=s3cret%zzpw",
        "postgresql://u:s3cretpw@h/db?sslmode",
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        memset(&e, 0, sizeof(e));
        CHECK_INT(url_parse(bad[i], &u, &e), STRATA_URL_INVALID);
        CHECK_INT(e.code, STRATA_URL_INVALID);
        CHECK_HAS(e.message, "invalid PostgreSQL URL");
        CHECK_LACKS(e.message, "s3cret");
        CHECK_LACKS(e.hint, "s3cret");
        CHECK(strchr(e.message, '\n') == NULL);
        CHECK(u.conninfo == NULL && u.path == NULL);
    }
    /* the reason survives when it does not quote the password */
    CHECK_INT(url_parse("postgresql://u:s3cretpw@h/db?nosuchparam=1", &u, &e), STRATA_URL_INVALID);
    CHECK_HAS(e.message, "nosuchparam");
    CHECK_HAS(e.message, "postgresql://u:****@h/db?nosuchparam=1");
    CHECK_INT(url_parse("postgresql://u:s3cretpw@[::1/db", &u, &e), STRATA_URL_INVALID);
    CHECK_HAS(e.message, "IPv6");

    /* a password libpq reads with '?' or '#' in it is accepted as libpq reads it */
    CHECK_INT(url_parse("postgresql://leak:pa?ssLEAK@127.0.0.1:5432/app", &u, &e), STRATA_OK);
    CHECK_STR(u.conninfo, "postgresql://leak:pa?ssLEAK@127.0.0.1:5432/app");
    url_release(&u);
    CHECK_INT(url_parse("postgresql+asyncpg://u:pa#ss@h/db", &u, &e), STRATA_OK);
    url_release(&u);
    CHECK_INT(url_parse("postgresql://u:p%40ss%2Fw%3F%23@h/db", &u, &e), STRATA_OK);
    url_release(&u);
    CHECK_INT(url_parse("postgresql://h/db?application_name=a%40b", &u, &e), STRATA_OK);
    url_release(&u);

    /* an '@' libpq would not read as the end of the user-info: refused,
       without any of the password */
    static const struct {
        const char *url, *secret;
    } ambiguous[] = {
        {"postgresql://app:Tr0ub/4dor@host/app", "Tr0ub"},
        {"postgresql://app:Tr0ub/4dor@host/app", "4dor"},
        {"postgresql://u:p@ssLEAKw0rd@host/app", "ssLEAK"},
        {"postgres://u:s3cr@et/x@host:5432/app", "s3cr"},
        {"postgresql://u:12/34secret@host/app", "34secret"},
        {"postgresql://u:a/b?c=dsecret@host/db", "dsecret"},
        {"postgresql://u:ab?c/dsecret@host/db", "dsecret"},
        {"postgresql://me@azure:s3cretpw@host/db", "s3cret"},
        {"postgresql+psycopg://u:s3cret@pw@h1,h2/db", "s3cret"},
        {"postgresql://h/db?user=me@azure", "user=me"},
    };
    for (size_t i = 0; i < sizeof(ambiguous) / sizeof(ambiguous[0]); i++) {
        memset(&e, 0, sizeof(e));
        CHECK_INT(url_parse(ambiguous[i].url, &u, &e), STRATA_URL_INVALID);
        CHECK_HAS(e.message, "invalid PostgreSQL URL '");
        CHECK_HAS(e.message, "ambiguous '@'");
        CHECK_LACKS(e.message, ambiguous[i].secret);
        CHECK_LACKS(e.hint, ambiguous[i].secret);
        CHECK_HAS(e.hint, "%40");
        CHECK_HAS(e.hint, "%2F");
        CHECK(u.conninfo == NULL && u.path == NULL);
    }
    CHECK_INT(url_parse("postgresql://app:Tr0ub/4dor@host/app", &u, &e), STRATA_URL_INVALID);
    CHECK_HAS(e.message, "'postgresql://app:****@host/app'");

    /* a port that is not a number from 1 to 65535: URL_INVALID, not a
       connection failure */
    static const char *const ports[] = {
        "postgresql://u@host:abc/db",     "postgresql://u:pw@host:0/db",     "postgresql://h:65536/db",
        "postgresql://h:54x32/db",        "postgresql://h/db?port=x1",       "postgresql://h1:5432,h2:x/db",
        "postgresql://h:-1/db",           "postgresql://h:99999999999999999999/db",
    };
    for (size_t i = 0; i < sizeof(ports) / sizeof(ports[0]); i++) {
        memset(&e, 0, sizeof(e));
        CHECK_INT(url_parse(ports[i], &u, &e), STRATA_URL_INVALID);
        CHECK_HAS(e.message, "is not a number from 1 to 65535");
        CHECK(u.conninfo == NULL);
    }
    CHECK_INT(url_parse("postgresql://u:pw@host:abc/db", &u, &e), STRATA_URL_INVALID);
    CHECK_STR(e.message, "invalid PostgreSQL URL 'postgresql://u:****@host:abc/db': port 'abc' is not a "
                         "number from 1 to 65535");
    static const char *const good_ports[] = {
        "postgresql://h:1/db", "postgresql://h:65535/db", "postgresql://h1,h2:5433/db",
        "postgresql://h1:5432,h2/db", "postgresql://h:/db", "postgresql://h/db?port=5432",
    };
    for (size_t i = 0; i < sizeof(good_ports) / sizeof(good_ports[0]); i++) {
        CHECK_INT(url_parse(good_ports[i], &u, &e), STRATA_OK);
        url_release(&u);
    }

    CHECK_INT(url_parse("mysql://u:s3cretpw@h/db", &u, &e), STRATA_URL_INVALID);
    CHECK_LACKS(e.message, "s3cret");
    CHECK_HAS(e.message, "unsupported database URL 'mysql://u:****@h/db'");
    CHECK_HAS(e.message, "scheme 'mysql'");
    CHECK(e.hint[0] != 0);
    /* strings redaction cannot take apart are not echoed when they may hold a password */
    CHECK_INT(url_parse("postgres:u:s3cretpw@h/db", &u, &e), STRATA_URL_INVALID);
    CHECK_STR(e.message, "invalid PostgreSQL URL: expected '//' after 'postgres:'");
    CHECK_INT(url_parse("postgresql+asyncpg:/u:s3cretpw@h/db", &u, &e), STRATA_URL_INVALID);
    CHECK_STR(e.message, "invalid PostgreSQL URL: expected '//' after 'postgresql+asyncpg:'");
    CHECK_INT(url_parse("host=h user=u password=s3cretpw dbname=x", &u, &e), STRATA_URL_INVALID);
    CHECK_STR(e.message, "unsupported database URL");
    CHECK_INT(url_parse("mysql:u:s3cretpw@h", &u, &e), STRATA_URL_INVALID);
    CHECK_STR(e.message, "unsupported database URL (scheme 'mysql')");
    CHECK_INT(url_parse("just-a-path.db", &u, &e), STRATA_URL_INVALID);
    CHECK_STR(e.message, "unsupported database URL 'just-a-path.db'");
    CHECK_LACKS(e.message, "scheme");
    CHECK_INT(url_parse("", &u, &e), STRATA_URL_INVALID);
    CHECK_HAS(e.message, "empty");
    CHECK_INT(url_parse(NULL, &u, &e), STRATA_URL_INVALID);

    /* a SQLite URL that names no file is not a temporary database */
    static const char *const nofile[] = {"sqlite:", "sqlite://", "sqlite:///", "sqlite3:",
                                         "sqlite+aiosqlite:///", "sqlite:///?mode=ro", "SQLite://"};
    for (size_t i = 0; i < sizeof(nofile) / sizeof(nofile[0]); i++) {
        memset(&e, 0, sizeof(e));
        u.path = (char *)1;
        CHECK_INT(url_parse(nofile[i], &u, &e), STRATA_URL_INVALID);
        CHECK_HAS(e.message, "names no database file");
        CHECK_HAS(e.hint, "sqlite::memory:");
        CHECK(u.path == NULL);
    }
    CHECK_INT(url_parse("sqlite:///", &u, &e), STRATA_URL_INVALID);
    CHECK_STR(e.message, "SQLite URL 'sqlite:///' names no database file");
}

static void redact_is(const char *file, int line, const char *url, const char *want)
{
    char *r = strata_url_redact(url);
    unit_check_str(file, line, r, want, url, want);
    free(r);
}
#define REDACT(url, want) redact_is(__FILE__, __LINE__, url, want)

static void redaction(void)
{
    REDACT("postgresql://u:p@h/db", "postgresql://u:****@h/db");
    /* not URLs at all: what may be a password still goes (-v prints them) */
    REDACT("postgresql:/u:secretP@localhost/db", "postgresql:/u:****@localhost/db");
    REDACT("postgres//u:secretR@h/db", "postgres//u:****@h/db");
    REDACT("host=localhost user=sp password=secretK dbname=x", "host=localhost user=sp password=**** dbname=x");
    REDACT("host=x password = 'se cr\\'et' dbname=y", "host=x password = **** dbname=y");
    REDACT("u:pw@host", "u:****@host");
    REDACT("postgresql+asyncpg://app:hunter2@db.example.com:5432/app?sslmode=require",
           "postgresql+asyncpg://app:****@db.example.com:5432/app?sslmode=require");
    REDACT("postgres://u:p%40ss@h/db", "postgres://u:****@h/db");
    REDACT("postgres://u:p@ss@h/db", "postgres://u:****@h/db");
    REDACT("postgres://u:@h/db", "postgres://u:****@h/db");
    REDACT("postgresql://h/db?sslmode=require&password=hunter2",
           "postgresql://h/db?sslmode=require&password=****");
    REDACT("postgresql://h/db?password=hunter2&sslmode=require",
           "postgresql://h/db?password=****&sslmode=require");
    REDACT("postgresql://u:x@h/db?PASSWORD=y", "postgresql://u:****@h/db?PASSWORD=****");
    /* libpq's reading: the user-info runs to the first '@' before any '/',
       so an unencoded '?' or '#' stays in the password */
    REDACT("postgresql://leak:pa?ssLEAK@127.0.0.1:5432/app", "postgresql://leak:****@127.0.0.1:5432/app");
    REDACT("postgresql://u:pa#ss@h/db", "postgresql://u:****@h/db");
    REDACT("postgresql://u:a?b#c@h/db?sslmode=require", "postgresql://u:****@h/db?sslmode=require");
    REDACT("postgresql://u:a,b:c@h1,h2/db", "postgresql://u:****@h1,h2/db");
    REDACT("postgresql://u:p%2F%40%3F@h/db", "postgresql://u:****@h/db");
    /* ambiguous (refused by url_parse): everything up to the last '@' */
    REDACT("postgresql://app:Tr0ub/4dor@host/app", "postgresql://app:****@host/app");
    REDACT("postgresql://u:p@ssLEAKw0rd@host/app", "postgresql://u:****@host/app");
    REDACT("postgresql://u:a/b?c=d@host/db", "postgresql://u:****@host/db");
    REDACT("postgresql://u:a?b/c@d@host:5432/db", "postgresql://u:****@host:5432/db");
    REDACT("postgresql://me@azure:pw@host/db", "postgresql://****@host/db");
    REDACT("postgresql://host/db?password=s@cret", "postgresql://****");
    REDACT("mysql://u:p/w@h/db", "mysql://u:****@h/db");
    /* password query parameters: the name percent-decoded, the value to '&' */
    REDACT("postgresql://h/db?pass%77ord=x", "postgresql://h/db?pass%77ord=****");
    REDACT("postgresql://h/db?password=a?b#c&x=1", "postgresql://h/db?password=****&x=1");
    REDACT("postgresql://h/db?password=a&password=b", "postgresql://h/db?password=****&password=****");
    REDACT("postgresql://h?password=x@b", "postgresql://h?password=****");
    /* nothing to hide: unchanged */
    REDACT("postgresql://u@h/db", "postgresql://u@h/db");
    REDACT("postgresql://h:5432/db", "postgresql://h:5432/db");
    REDACT("postgresql://h/db?sslmode=require", "postgresql://h/db?sslmode=require");
    REDACT("postgresql://h/db?passwords=x", "postgresql://h/db?passwords=x");
    REDACT("postgresql:///db", "postgresql:///db");
    REDACT("sqlite:///x.db", "sqlite:///x.db");
    REDACT("sqlite:////tmp/a@b:c.db", "sqlite:////tmp/a@b:c.db");
    REDACT("sqlite::memory:", "sqlite::memory:");
    REDACT("", "");
    CHECK(strata_url_redact(NULL) == NULL);
}

static void scrub(void)
{
    char m[1024];
    strcpy(m, "cannot connect to postgresql://u:pw1234@h/db: pw1234 rejected");
    url_scrub(m, sizeof(m), "postgresql://u:pw1234@h/db");
    CHECK_STR(m, "cannot connect to postgresql://u:****@h/db: **** rejected");
    /* password query parameters too */
    strcpy(m, "bad token \"q%zzsecret\" and pw1234");
    url_scrub(m, sizeof(m), "postgresql://u:pw1234@h/db?sslmode=require&password=q%zzsecret#x");
    CHECK_STR(m, "bad token \"****\" and ****");
    strcpy(m, "value \"qsecret\"");
    url_scrub(m, sizeof(m), "postgresql://h/db?PassWord=qsecret");
    CHECK_STR(m, "value \"****\"");
    /* a password at the very end of a URL with blanks after it (a line of
       an env file): it ends where libpq's ends, before them */
    strcpy(m, "password \"q1secret\" rejected");
    url_scrub(m, sizeof(m), "postgresql://h/db?password=q1secret\v\r\n");
    CHECK_STR(m, "password \"****\" rejected");
    /* a password that looks like the mask, or is part of it, ends */
    strcpy(m, "u:**** and ****");
    url_scrub(m, sizeof(m), "postgresql://u:****@h/db");
    CHECK_STR(m, "u:**** and ****");
    strcpy(m, "a * b");
    url_scrub(m, sizeof(m), "postgresql://u:*@h/db");
    CHECK_STR(m, "a **** b");
    /* no room to grow: the message is cut at the password */
    char small[16] = "xxxxxxxxxxxx ab";
    url_scrub(small, sizeof(small), "postgres://u:ab@h/db");
    CHECK_STR(small, "xxxxxxxxxxxx **");
    /* the stock "postgres:postgres": the scheme keeps its name (it read
       "****ql://"); the user and database named like the password are
       masked with it */
    strcpy(m, "cannot connect to postgresql://postgres:postgres@localhost:1/postgres: user \"postgres\"");
    url_scrub(m, sizeof(m), "postgresql://postgres:postgres@localhost:1/postgres");
    CHECK_STR(m, "cannot connect to postgresql://****:****@localhost:1/****: user \"****\"");
    /* a short password is masked where it stands alone, not inside words */
    strcpy(m, "database \"a\" failed for postgresql://u:a@h/data: a");
    url_scrub(m, sizeof(m), "postgresql://u:a@h/data");
    CHECK_STR(m, "database \"****\" failed for postgresql://u:****@h/data: ****");
    strcpy(m, "password abc123 rejected; xabc123 and abc123x kept");
    url_scrub(m, sizeof(m), "postgresql://u:abc123@h/db");
    CHECK_STR(m, "password **** rejected; xabc123 and abc123x kept");
    /* a long one everywhere */
    strcpy(m, "xlongsecret1y");
    url_scrub(m, sizeof(m), "postgresql://u:longsecret1@h/db");
    CHECK_STR(m, "x****y");
    /* libpq's password, as written and percent-decoded */
    strcpy(m, "a pa?ssLEAK b");
    url_scrub(m, sizeof(m), "postgresql://leak:pa?ssLEAK@127.0.0.1:5432/app");
    CHECK_STR(m, "a **** b");
    strcpy(m, "raw p%40ss%2Fw0rd decoded p@ss/w0rd");
    url_scrub(m, sizeof(m), "postgresql://u:p%40ss%2Fw0rd@h/db");
    CHECK_STR(m, "raw **** decoded ****");
    strcpy(m, "value \"zz9secret\" and \"zz9\"");
    url_scrub(m, sizeof(m), "postgresql://h/db?pass%77ord=zz9%73ecret&x=1");
    CHECK_STR(m, "value \"****\" and \"zz9\"");
    /* an ambiguous user-info: the whole of it, and each piece libpq may
       have read as host, port or database name */
    strcpy(m, "could not translate host name \"ssLEAKw0rd@host\" to address");
    url_scrub(m, sizeof(m), "postgresql://u:p@ssLEAKw0rd@host/app");
    CHECK_LACKS(m, "ssLEAK");
    strcpy(m, "invalid integer value \"Tr0ub\" for connection option \"port\"; database \"4dor@host/app\"");
    url_scrub(m, sizeof(m), "postgresql://app:Tr0ub/4dor@host/app");
    CHECK_LACKS(m, "Tr0ub");
    CHECK_LACKS(m, "4dor");
    strcpy(m, "p@ssLEAKw0rd");
    url_scrub(m, sizeof(m), "postgresql://u:p@ssLEAKw0rd@host/app");
    CHECK_STR(m, "****");
    /* nothing to scrub */
    strcpy(m, "u:secret plain");
    url_scrub(m, sizeof(m), "postgresql://u@h/db");
    url_scrub(m, sizeof(m), "sqlite:///x.db");
    url_scrub(m, sizeof(m), NULL);
    CHECK_STR(m, "u:secret plain");

    /* url_parse with such a password does not hang and does not leak */
    db_url u;
    strata_error e;
    CHECK_INT(url_parse("postgresql://u:****@[::1/db", &u, &e), STRATA_URL_INVALID);
    CHECK_HAS(e.message, "invalid PostgreSQL URL 'postgresql://u:****@[::1/db'");
}

/* ---- resolution order; runs in a temporary working directory */

static void env_set(const char *name, const char *value)
{
    if (value)
        setenv(name, value, 1);
    else
        unsetenv(name);
}

static void resolves(const char *file, int line, const strata_url_opts *o, const char *want,
                     strata_url_source want_src)
{
    char *url = NULL;
    strata_url_source src = (strata_url_source)-1;
    strata_error e;
    strata_code rc = strata_url_resolve(o, &url, &src, &e);
    unit_check_int(file, line, rc, STRATA_OK, "strata_url_resolve", "STRATA_OK");
    if (rc)
        unit_check_str(file, line, e.message, "", "message", "");
    unit_check_str(file, line, url, want, "url", want);
    unit_check_int(file, line, src, want_src, "source", "expected source");
    free(url);
}
#define RESOLVES(o, want, src) resolves(__FILE__, __LINE__, o, want, src)

/* resolution fails with code and exactly message; e (in the caller) keeps the error */
#define RESOLVE_FAILS(o, want_code, want_message)                                                   \
    do {                                                                                 \
        url = (char *)1;                                                                 \
        memset(&e, 0, sizeof(e));                                                        \
        CHECK_INT(strata_url_resolve(o, &url, &src, &e), want_code);                          \
        CHECK(url == NULL);                                                              \
        CHECK_INT(e.code, want_code);                                                    \
        CHECK_STR(e.message, want_message);                                              \
        CHECK(e.hint[0] != 0);                                                           \
    } while (0)

static void resolution(void)
{
    static const char *const vars[] = {"DATABASE_URL", "MY_URL", "STRATA_REQUIRE_URL"};
    char *saved[3];
    for (int i = 0; i < 3; i++) {
        saved[i] = xstrdup(getenv(vars[i]));
        unsetenv(vars[i]);
    }
    char cwd[4096];
    CHECK(getcwd(cwd, sizeof(cwd)) != NULL);
    char *d = tmpdir_new();
    CHECK_INT(chdir(d), 0);

    strata_url_opts o = {0};
    strata_error e;
    char *url = NULL;
    strata_url_source src;

    /* nothing anywhere: the embedded default */
    RESOLVES(&o, "sqlite:///./dev.sqlite3", STRATA_URL_FROM_DEFAULT);
    RESOLVES(NULL, STRATA_DEFAULT_URL, STRATA_URL_FROM_DEFAULT);
    CHECK_INT(strata_url_resolve(NULL, &url, NULL, NULL), STRATA_OK);
    CHECK_STR(url, STRATA_DEFAULT_URL);
    free(url);

    /* .env, then .env.local beats it */
    write_file(d, ".env", "DATABASE_URL=sqlite:///from-env-file.db\n");
    RESOLVES(&o, "sqlite:///from-env-file.db", STRATA_URL_FROM_ENV_FILE);
    write_file(d, ".env.local", "OTHER=1\n");
    RESOLVES(&o, "sqlite:///from-env-file.db", STRATA_URL_FROM_ENV_FILE);
    write_file(d, ".env.local", "DATABASE_URL=sqlite:///from-env-local.db\n");
    RESOLVES(&o, "sqlite:///from-env-local.db", STRATA_URL_FROM_ENV_FILE);

    /* the environment beats the files, even when it is empty: then it is an error */
    env_set("DATABASE_URL", "");
    RESOLVE_FAILS(&o, STRATA_URL_INVALID, "DATABASE_URL is set but empty");
    env_set("DATABASE_URL", "postgres://env/db");
    RESOLVES(&o, "postgres://env/db", STRATA_URL_FROM_ENV);

    /* the flag beats everything */
    o.url = "sqlite:///flag.db";
    RESOLVES(&o, "sqlite:///flag.db", STRATA_URL_FROM_FLAG);
    o.url = NULL;

    /* --url "" is an error, not the default */
    o.url = "";
    RESOLVE_FAILS(&o, STRATA_URL_INVALID, "the database URL given with --url is empty");

    /* --url-env NAME: only that variable, in the environment and in the files;
       set nowhere or empty is an error, not the default */
    o.url = NULL;
    o.url_env = "MY_URL";
    RESOLVE_FAILS(&o, STRATA_DATABASE_URL_REQUIRED, "MY_URL is not set");
    CHECK_STR(e.hint, "export MY_URL or drop --url-env");
    env_set("MY_URL", "");
    RESOLVE_FAILS(&o, STRATA_URL_INVALID, "MY_URL is set but empty");
    env_set("MY_URL", NULL);
    write_file(d, ".env", "MY_URL=\n");
    RESOLVE_FAILS(&o, STRATA_URL_INVALID, "MY_URL is empty in '.env'");
    write_file(d, ".env.local", "MY_URL=''\n");
    RESOLVE_FAILS(&o, STRATA_URL_INVALID, "MY_URL is empty in '.env.local'");
    write_file(d, ".env.local", "DATABASE_URL=sqlite:///from-env-local.db\n");
    write_file(d, ".env", "export MY_URL=sqlite:///my-from-file.db\nDATABASE_URL=sqlite:///no.db\n");
    RESOLVES(&o, "sqlite:///my-from-file.db", STRATA_URL_FROM_ENV_FILE);
    env_set("MY_URL", "postgres://my/db");
    RESOLVES(&o, "postgres://my/db", STRATA_URL_FROM_ENV);
    env_set("MY_URL", NULL);
    o.url_env = "";
    RESOLVE_FAILS(&o, STRATA_USAGE, "--url-env names no variable");
    o.url_env = NULL;
    RESOLVES(&o, "postgres://env/db", STRATA_URL_FROM_ENV);
    env_set("DATABASE_URL", NULL);

    /* an explicit env file replaces .env and .env.local */
    write_file(d, "custom.env", "# settings\nDATABASE_URL = \"sqlite:///custom.db\" # quoted\n");
    o.env_file = "custom.env";
    RESOLVES(&o, "sqlite:///custom.db", STRATA_URL_FROM_ENV_FILE);
    write_file(d, "empty.env", "# nothing\n");
    o.env_file = "empty.env";
    RESOLVE_FAILS(&o, STRATA_DATABASE_URL_REQUIRED,
                  "DATABASE_URL is set neither in the environment nor in 'empty.env'");
    write_file(d, "blank.env", "DATABASE_URL=\n");
    o.env_file = "blank.env";
    RESOLVE_FAILS(&o, STRATA_URL_INVALID, "DATABASE_URL is empty in 'blank.env'");
    /* a syntax error in the file is reported, with its line */
    write_file(d, "broken.env", "A=1\nDATABASE_URL=\"sqlite:///x.db\nB=2\n");
    o.env_file = "broken.env";
    RESOLVE_FAILS(&o, STRATA_CONFIG_ERROR, "broken.env:2: unterminated double-quoted value");
    CHECK_INT(e.line, 2);
    o.env_file = NULL;
    remove(".env.local");
    write_file(d, ".env", "\xef\xbb\xbf" "DATABASE_URL=sqlite:///bom.db\n");
    RESOLVES(&o, "sqlite:///bom.db", STRATA_URL_FROM_ENV_FILE);
    write_file(d, ".env", "DATABASE_URL='sqlite:///x.db\n");
    RESOLVE_FAILS(&o, STRATA_CONFIG_ERROR, ".env:1: unterminated single-quoted value");
    remove(".env");
    o.env_file = "missing.env";
    url = (char *)1;
    CHECK_INT(strata_url_resolve(&o, &url, &src, &e), STRATA_CONFIG_ERROR);
    CHECK(url == NULL);
    CHECK_HAS(e.message, "missing.env");
    /* the real environment still wins over an explicit file */
    env_set("DATABASE_URL", "postgres://env/db");
    RESOLVES(&o, "postgres://env/db", STRATA_URL_FROM_ENV);
    env_set("DATABASE_URL", NULL);
    o.env_file = NULL;

    /* strict mode */
    remove(".env");
    remove(".env.local");
    o.require_url = 1;
    url = (char *)1;
    CHECK_INT(strata_url_resolve(&o, &url, &src, &e), STRATA_DATABASE_URL_REQUIRED);
    CHECK(url == NULL);
    CHECK_INT(e.code, STRATA_DATABASE_URL_REQUIRED);
    CHECK_STR(e.message, "DATABASE_URL is required");
    CHECK(e.hint[0] != 0);
    o.url_env = "MY_URL";
    CHECK_INT(strata_url_resolve(&o, &url, &src, &e), STRATA_DATABASE_URL_REQUIRED);
    CHECK_STR(e.message, "MY_URL is not set");
    o.url_env = NULL;
    o.url = "sqlite:///flag.db";
    RESOLVES(&o, "sqlite:///flag.db", STRATA_URL_FROM_FLAG);
    o.url = NULL;
    o.require_url = 0;
    env_set("STRATA_REQUIRE_URL", "1");
    CHECK_INT(strata_url_resolve(&o, &url, &src, &e), STRATA_DATABASE_URL_REQUIRED);
    CHECK_STR(e.message, "DATABASE_URL is required");
    env_set("DATABASE_URL", "postgres://env/db");
    RESOLVES(&o, "postgres://env/db", STRATA_URL_FROM_ENV);
    env_set("DATABASE_URL", NULL);
    write_file(d, ".env", "DATABASE_URL=sqlite:///strict-file.db\n");
    RESOLVES(&o, "sqlite:///strict-file.db", STRATA_URL_FROM_ENV_FILE);
    remove(".env");
    env_set("STRATA_REQUIRE_URL", "0");
    RESOLVES(&o, "sqlite:///./dev.sqlite3", STRATA_URL_FROM_DEFAULT);

    CHECK_INT(chdir(cwd), 0);
    tmpdir_free(d);
    for (int i = 0; i < 3; i++) {
        env_set(vars[i], saved[i]);
        free(saved[i]);
    }
}

void test_url(void)
{
    engines();
    parsing();
    redaction();
    scrub();
    resolution();
}
