/*
 * sqlite/sq_dbops.c -- the SQLite database as a whole: the file. create,
 * drop (the file and its -journal, -wal, -shm) and wait (open it once).
 */
#include "ops.h"
#include "sq_internal.h"

#include <errno.h>
#include <fcntl.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* 1: a SQLite database (or an empty file); 0: something else; -1: missing. */
static int sqlite_file_kind(const char *path, strata_error *err)
{
    char head[16];
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        if (errno == ENOENT)
            return -1;
        err_set(err, STRATA_IO_ERROR, "cannot read '%s': %s", path, strerror(errno));
        return -2;
    }
    ssize_t n = read(fd, head, sizeof(head));
    close(fd);
    if (n == 0)
        return 1;
    return n == (ssize_t)sizeof(head) && !memcmp(head, "SQLite format 3", 16);
}
static strata_code sqlite_create(const char *path, int *existed, strata_error *err)
{
    if (!strcmp(path, ":memory:")) {
        *existed = 1;
        return STRATA_OK;
    }
    int kind = sqlite_file_kind(path, err);
    if (kind == -2)
        return STRATA_IO_ERROR;
    if (kind == 0) {
        err_set(err, STRATA_FILE_EXISTS, "'%s' exists and is not a SQLite database", path);
        err_hint(err, "check the path in the URL");
        return STRATA_FILE_EXISTS;
    }
    if (kind == 1) {
        *existed = 1;
        return STRATA_OK;
    }
    /* O_EXCL: of two processes creating it at once, one creates it */
    int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
    if (fd < 0) {
        if (errno == EEXIST) {
            *existed = 1;
            return STRATA_OK;
        }
        err_set(err, STRATA_IO_ERROR, "cannot create '%s': %s", path, strerror(errno));
        if (errno == ENOENT)
            err_hint(err, "create the directory first");
        return STRATA_IO_ERROR;
    }
    close(fd);
    /* write the header, so that the file is a database, not just empty */
    sqlite3 *db = NULL;
    int rc = sqlite3_open_v2(path, &db, SQLITE_OPEN_READWRITE, NULL);
    if (rc == SQLITE_OK)
        rc = sqlite3_exec(db, "PRAGMA user_version = 0", NULL, NULL, NULL);
    if (rc != SQLITE_OK) {
        err_set(err, STRATA_IO_ERROR, "cannot create SQLite database '%s': %s", path,
                db ? sqlite3_errmsg(db) : sqlite3_errstr(rc));
        sqlite3_close(db);
        unlink(path);
        return STRATA_IO_ERROR;
    }
    sqlite3_close(db);
    return STRATA_OK;
}
static strata_code sqlite_drop(const char *path, int *missing, strata_error *err)
{
    if (!strcmp(path, ":memory:")) {
        *missing = 1;
        return STRATA_OK;
    }
    /* unlink would remove the link and leave the database: refuse */
    struct stat ls;
    if (lstat(path, &ls) == 0 && S_ISLNK(ls.st_mode)) {
        char to[4096];
        ssize_t n = readlink(path, to, sizeof(to) - 1);
        to[n > 0 ? n : 0] = 0;
        err_set(err, STRATA_CONFIG_ERROR, "refusing to drop '%s': it is a symbolic link to '%s'", path, to);
        err_hint(err, "name the database file itself in the URL (or remove the link with rm)");
        return STRATA_CONFIG_ERROR;
    }
    int kind = sqlite_file_kind(path, err);
    if (kind == -2)
        return STRATA_IO_ERROR;
    if (kind == 0) {
        err_set(err, STRATA_CONFIG_ERROR, "refusing to remove '%s': it is not a SQLite database", path);
        err_hint(err, "check the path in the URL");
        return STRATA_CONFIG_ERROR;
    }
    if (kind == -1)
        *missing = 1;
    return sqlite_remove_files(path, err);
}
strata_code sqlite_remove_files(const char *path, strata_error *err)
{
    /* the main file goes first: a hot journal must not disappear while its
       database stays; a stale -wal must not outlive its database either */
    static const char *const suffix[] = {"", "-journal", "-wal", "-shm"};
    for (size_t i = 0; i < sizeof(suffix) / sizeof(suffix[0]); i++) {
        char p[4200];
        snprintf(p, sizeof(p), "%s%s", path, suffix[i]);
        if (unlink(p) != 0 && errno != ENOENT)
            return err_set(err, STRATA_IO_ERROR, "cannot remove '%s': %s", p, strerror(errno));
    }
    return STRATA_OK;
}
strata_code sq_db_create_or_drop(const db_url *u, const strata_create_opts *o, int drop, int flags, int *flag,
                                 char **name, strata_error *err)
{
    (void)o, (void)flags;
    if (u->readonly) {
        err_set(err, STRATA_USAGE, "the URL opens the database read-only (?mode=ro): cannot %s it",
                drop ? "drop" : "create");
        err_hint(err, "use a URL without ?mode=ro");
        return STRATA_USAGE;
    }
    if (!strcmp(u->path, ":memory:")) {
        /* it lives as long as a connection: nothing to create or drop */
        err_set(err, STRATA_USAGE, "an in-memory database (%s) cannot be %s",
                u->url ? u->url : ":memory:", drop ? "dropped" : "created");
        err_hint(err, "name a file: sqlite:///app.db");
        return STRATA_USAGE;
    }
    strata_code rc = sq_regular(u->path, err);
    if (!rc)
        rc = drop ? sqlite_drop(u->path, flag, err) : sqlite_create(u->path, flag, err);
    if (!rc && name && !(*name = xstrdup(u->path)))
        rc = err_set(err, STRATA_NOMEM, "out of memory");
    return rc;
}

/* A file has nothing to wait for: it opens or it does not. */
strata_code sq_wait(const db_url *u, double timeout, const strata_config *cfg, int *attempts,
                    strata_error *err)
{
    (void)cfg;
    strata_config c = {.lock_timeout = timeout, .readonly = 1};
    strata *db = NULL;
    *attempts = 1;
    /* a missing file is ready when up can create it: not in a directory
       that is not there, nor with ?mode=rw (it said ready, and up failed) */
    if (strcmp(u->path, ":memory:") && access(u->path, F_OK) != 0 && errno == ENOENT) {
        if (u->nocreate)
            return sq_err_nocreate(err, u->path);
        char *d = sq_dir_of(u->path);
        struct stat st;
        strata_code rc = STRATA_OK;
        if (d && (stat(d, &st) != 0 || !S_ISDIR(st.st_mode))) {
            err_set(err, STRATA_CONNECT_FAILED,
                    "SQLite database '%s' does not exist, and its directory '%s' does not either", u->path,
                    d);
            char abs_hint[sizeof(err->hint)];
            if (sqlite_abs_hint(u->path, abs_hint, sizeof(abs_hint)))
                err_hint(err, "%s", abs_hint);
            else
                err_hint(err, "create the directory, or fix the path in the URL");
            rc = STRATA_CONNECT_FAILED;
        }
        free(d);
        if (rc)
            return rc;
    }
    strata_code rc = strata_open(u->url, &c, &db, err);
    strata_close(db);
    return rc;
}

/* A file is always local. */
strata_code sq_check_local(const db_url *u, strata_error *err)
{
    (void)u, (void)err;
    return STRATA_OK;
}

/* A scratch database: a new temporary file TMPDIR/<name>XXXXXX (mkstemp). */
strata_code sq_scratch_create(const db_url *server, const char *name, char **url, char **path,
                              char **admin_url, strata_error *err)
{
    (void)server;
    *admin_url = NULL;
    const char *dir = getenv("TMPDIR");
    buf b;
    buf_init(&b);
    buf_addf(&b, "%s/%sXXXXXX", dir && *dir ? dir : "/tmp", name);
    *path = buf_detach(&b);
    int fd = *path ? mkstemp(*path) : -1;
    if (fd < 0) {
        err_set(err, *path ? STRATA_IO_ERROR : STRATA_NOMEM,
                "cannot create a scratch SQLite file in '%s': %s", dir && *dir ? dir : "/tmp",
                strerror(errno));
        err_hint(err, "set TMPDIR to a writable directory");
        free(*path);
        *path = NULL;
        return err ? err->code : STRATA_IO_ERROR;
    }
    close(fd);
    buf_init(&b);
    buf_addf(&b, "sqlite:///%s", *path);
    *url = buf_detach(&b);
    if (!*url) {
        unlink(*path);
        free(*path);
        *path = NULL;
        return err_set(err, STRATA_NOMEM, "out of memory");
    }
    return STRATA_OK;
}

strata_code sq_scratch_drop(const char *path, const char *admin_url, strata_error *err)
{
    (void)admin_url;
    return sqlite_remove_files(path, err);
}
