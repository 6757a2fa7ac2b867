/*
 * scratch.c -- throwaway databases for `strata test` (and checks).
 *
 * SQLite: a new temporary file (the base URL's file is never opened).
 * PostgreSQL: CREATE DATABASE strata_scratch_<pid>_<n> on the server the
 * base URL names, through a connection to that URL's database; the named
 * database itself is only connected to, never changed.
 */
#include "pqload.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

/* url with its database name (the URL path) replaced by dbname. */
static char *url_with_dbname(const char *url, const char *dbname)
{
    const char *p = strstr(url, "://");
    if (!p)
        return NULL;
    const char *auth = p + 3;
    const char *path = auth + strcspn(auth, "/?#");
    const char *rest = path;
    if (*path == '/')
        rest = path + strcspn(path, "?#");
    buf b;
    buf_init(&b);
    buf_add(&b, url, (size_t)(path - url));
    buf_adds(&b, "/");
    buf_adds(&b, dbname);
    buf_adds(&b, rest);
    return buf_detach(&b);
}

/* The database name in a scratch URL made by url_with_dbname. */
static char *dbname_of(const char *url)
{
    const char *p = strstr(url, "://");
    if (!p)
        return NULL;
    const char *path = p + 3 + strcspn(p + 3, "/?#");
    if (*path != '/')
        return NULL;
    return xstrndup(path + 1, strcspn(path + 1, "?#"));
}

static strata_code admin_exec(const char *base_url, const char *sql, strata_error *err)
{
    strata *db = NULL;
    strata_config cfg = {NULL, 10, 0, NULL, NULL};
    strata_code rc = strata_open(base_url, &cfg, &db, err);
    if (!rc)
        rc = db->ops->query(db->d, sql, 0, NULL, NULL, NULL, err);
    strata_close(db);
    return rc;
}

strata_code strata_scratch_create(const char *base_url, char **out, strata_error *err)
{
    static unsigned counter;
    *out = NULL;
    const char *engine = base_url ? strata_url_engine(base_url) : "sqlite";
    if (!engine) {
        db_url u;
        return url_parse(base_url, &u, err); /* the URL_INVALID error */
    }
    if (!strcmp(engine, "sqlite")) {
        const char *tmp = getenv("TMPDIR");
        char path[4096];
        snprintf(path, sizeof(path), "%s/strata-scratch-XXXXXX", tmp && *tmp ? tmp : "/tmp");
        int fd = mkstemp(path);
        if (fd < 0)
            return err_set(err, STRATA_IO_ERROR, "cannot create a scratch database in '%s': %s",
                           tmp && *tmp ? tmp : "/tmp", strerror(errno));
        close(fd);
        buf b;
        buf_init(&b);
        buf_adds(&b, "sqlite:///");
        buf_adds(&b, path);
        *out = buf_detach(&b);
        return *out ? STRATA_OK : err_set(err, STRATA_NOMEM, "out of memory");
    }
    char name[64], sql[160];
    snprintf(name, sizeof(name), "strata_scratch_%ld_%u_%ld", (long)getpid(), counter++,
             (long)(time(NULL) % 100000));
    snprintf(sql, sizeof(sql), "CREATE DATABASE \"%s\"", name);
    strata_code rc = admin_exec(base_url, sql, err);
    if (rc) {
        if (rc != STRATA_CONNECT_FAILED)
            err_hint(err, "a scratch database needs a user allowed to create databases (CREATEDB)");
        return rc;
    }
    *out = url_with_dbname(base_url, name);
    return *out ? STRATA_OK : err_set(err, STRATA_NOMEM, "out of memory");
}

strata_code strata_scratch_drop(const char *base_url, const char *scratch_url, strata_error *err)
{
    if (!scratch_url)
        return STRATA_OK;
    const char *engine = strata_url_engine(scratch_url);
    if (engine && !strcmp(engine, "sqlite")) {
        db_url u;
        strata_code rc = url_parse(scratch_url, &u, err);
        if (rc)
            return rc;
        char j[4200];
        snprintf(j, sizeof(j), "%s-journal", u.path);
        unlink(j);
        snprintf(j, sizeof(j), "%s-wal", u.path);
        unlink(j);
        snprintf(j, sizeof(j), "%s-shm", u.path);
        unlink(j);
        rc = unlink(u.path) < 0 && errno != ENOENT
                 ? err_set(err, STRATA_IO_ERROR, "cannot remove '%s': %s", u.path, strerror(errno))
                 : STRATA_OK;
        url_release(&u);
        return rc;
    }
    char *name = dbname_of(scratch_url);
    if (!name || strncmp(name, "strata_scratch_", 15) != 0) {
        free(name);
        return err_set(err, STRATA_INTERNAL, "refusing to drop a database strata did not create");
    }
    char sql[200];
    snprintf(sql, sizeof(sql), "DROP DATABASE IF EXISTS \"%s\" WITH (FORCE)", name);
    free(name);
    return admin_exec(base_url, sql, err);
}
