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
    SQLITE_PATH("sqlite://", ":memory:");
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
    CHECK(strstr(e.message, "'cache=shared'") != NULL);
    CHECK_INT(url_parse("sqlite:////abs/x.db?timeout=5", &u, &e), STRATA_URL_INVALID);
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

    /* the environment beats the files, an empty variable does not count */
    env_set("DATABASE_URL", "");
    RESOLVES(&o, "sqlite:///from-env-local.db", STRATA_URL_FROM_ENV_FILE);
    env_set("DATABASE_URL", "postgres://env/db");
    RESOLVES(&o, "postgres://env/db", STRATA_URL_FROM_ENV);

    /* the flag beats everything */
    o.url = "sqlite:///flag.db";
    RESOLVES(&o, "sqlite:///flag.db", STRATA_URL_FROM_FLAG);
    o.url = NULL;

    /* --url-env NAME: only that variable, in the environment and in the files */
    o.url_env = "MY_URL";
    RESOLVES(&o, "sqlite:///./dev.sqlite3", STRATA_URL_FROM_DEFAULT);
    write_file(d, ".env", "export MY_URL=sqlite:///my-from-file.db\nDATABASE_URL=sqlite:///no.db\n");
    RESOLVES(&o, "sqlite:///my-from-file.db", STRATA_URL_FROM_ENV_FILE);
    env_set("MY_URL", "postgres://my/db");
    RESOLVES(&o, "postgres://my/db", STRATA_URL_FROM_ENV);
    env_set("MY_URL", NULL);
    o.url_env = "";
    RESOLVES(&o, "postgres://env/db", STRATA_URL_FROM_ENV);
    o.url_env = NULL;
    env_set("DATABASE_URL", NULL);

    /* an explicit env file replaces .env and .env.local */
    write_file(d, "custom.env", "# settings\nDATABASE_URL = \"sqlite:///custom.db\" # quoted\n");
    o.env_file = "custom.env";
    RESOLVES(&o, "sqlite:///custom.db", STRATA_URL_FROM_ENV_FILE);
    write_file(d, "empty.env", "# nothing\n");
    o.env_file = "empty.env";
    RESOLVES(&o, "sqlite:///./dev.sqlite3", STRATA_URL_FROM_DEFAULT);
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
    CHECK_STR(e.message, "MY_URL is required");
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
