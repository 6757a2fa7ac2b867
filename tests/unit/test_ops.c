/* test_ops.c -- the locality rule of reset and restore (no server needed). */
#include "internal.h"
#include "unit.h"

#include <stdlib.h>
#include <string.h>

static void local(const char *file, int line, const char *url, strata_code want)
{
    strata_error e;
    strata_error_clear(&e);
    strata_code rc = strata_url_check_local(url, &e);
    unit_check_int(file, line, rc, want, url, strata_code_name(want));
    if (rc == STRATA_NOT_LOCAL) {
        unit_check_has(file, line, e.message, "is not a local database", 1, url);
        unit_check_has(file, line, e.message, "secret", 0, url);
        unit_check_has(file, line, e.hint, "--force", 1, url);
    }
}
#define LOCAL(url) local(__FILE__, __LINE__, url, STRATA_OK)
#define REMOTE(url) local(__FILE__, __LINE__, url, STRATA_NOT_LOCAL)

/* Sets the PG* variables the rule reads (NULL: unset). */
static void with_env(const char *host, const char *hostaddr, const char *service)
{
    const char *names[] = {"PGHOST", "PGHOSTADDR", "PGSERVICE"};
    const char *vals[] = {host, hostaddr, service};
    for (int i = 0; i < 3; i++) {
        if (vals[i])
            setenv(names[i], vals[i], 1);
        else
            unsetenv(names[i]);
    }
}

void test_ops(void)
{
    const char *keep[3] = {getenv("PGHOST"), getenv("PGHOSTADDR"), getenv("PGSERVICE")};
    char *saved[3];
    for (int i = 0; i < 3; i++)
        saved[i] = keep[i] ? strdup(keep[i]) : NULL;
    with_env(NULL, NULL, NULL);

    LOCAL("sqlite:///x.db");
    LOCAL("sqlite:////abs/x.db");
    LOCAL("sqlite::memory:");
    LOCAL("sqlite+aiosqlite:///./dev.sqlite3");

    LOCAL("postgresql://u:secret@localhost/db");
    LOCAL("postgresql://u:secret@LocalHost:5432/db");
    LOCAL("postgresql://u:secret@127.0.0.1/db");
    LOCAL("postgresql://u:secret@127.1.2.3:5433/db");
    LOCAL("postgresql://u:secret@[::1]:5432/db");
    LOCAL("postgresql://u:secret@[::ffff:127.0.0.1]/db");
    LOCAL("postgresql+asyncpg://u:secret@localhost/db");
    LOCAL("postgresql:///db");                                 /* default Unix socket */
    LOCAL("postgresql://u:secret@/db?host=/var/run/postgresql"); /* a socket directory */
    LOCAL("postgresql://u:secret@%2Ftmp/db");
    LOCAL("postgresql://u:secret@localhost,127.0.0.2/db");
    /* hostaddr is where libpq connects */
    LOCAL("postgresql://u:secret@db.example.com/db?hostaddr=127.0.0.1");

    REMOTE("postgresql://u:secret@db.example.com/db");
    REMOTE("postgresql://u:secret@10.255.255.1/db");
    REMOTE("postgresql://u:secret@128.0.0.1/db");
    REMOTE("postgresql://u:secret@192.168.1.10:5432/db");
    REMOTE("postgresql://u:secret@[2001:db8::1]/db");
    REMOTE("postgresql://u:secret@[::2]/db");
    REMOTE("postgresql://u:secret@localhost.example.com/db");
    REMOTE("postgresql://u:secret@127.0.0.1.nip.io/db");
    REMOTE("postgresql://u:secret@localhost,db.example.com/db");
    REMOTE("postgresql://u:secret@localhost/db?hostaddr=10.1.2.3");
    REMOTE("postgresql://u:secret@localhost/db?service=prod");

    strata_error e;
    CHECK_INT(strata_url_check_local("mysql://u:secret@localhost/db", &e), STRATA_URL_INVALID);
    CHECK_INT(strata_url_check_local("postgresql://u:secret@db.example.com/db", NULL), STRATA_NOT_LOCAL);
    strata_url_check_local("postgresql://u:secret@db.example.com/db", &e);
    CHECK_HAS(e.message, "'db.example.com'");
    CHECK_HAS(e.message, "u:****@");

    /* the environment applies when the URL names no host */
    with_env("db.example.com", NULL, NULL);
    REMOTE("postgresql:///db");
    LOCAL("postgresql://u:secret@localhost/db");
    with_env("/var/run/postgresql", NULL, NULL);
    LOCAL("postgresql:///db");
    with_env(NULL, "10.0.0.7", NULL);
    REMOTE("postgresql:///db");
    REMOTE("postgresql://u:secret@localhost/db");
    LOCAL("postgresql://u:secret@localhost/db?hostaddr=127.0.0.1");
    with_env(NULL, NULL, "prod");
    REMOTE("postgresql://u:secret@localhost/db");

    for (int i = 0; i < 3; i++) {
        const char *names[] = {"PGHOST", "PGHOSTADDR", "PGSERVICE"};
        if (saved[i])
            setenv(names[i], saved[i], 1);
        else
            unsetenv(names[i]);
        free(saved[i]);
    }
}
