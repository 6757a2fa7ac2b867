/*
 * sqlite/sq_backup.c -- backup and restore of SQLite with the online backup
 * API in both directions: one step over all pages under one read lock gives
 * a consistent snapshot while other processes write (they wait, or in WAL
 * mode carry on). A backup to restore is checked first (header, opens
 * read-only, quick_check) so that a bad file changes nothing.
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

/* ---------------------------------------------------------------- SQLite */

static strata_code sq_err(strata_error *err, strata_code code, const char *what, const char *path,
                          sqlite3 *db, int rc)
{
    return err_set(err, code, "%s '%s': %s", what, path, db ? sqlite3_errmsg(db) : sqlite3_errstr(rc));
}

/* Opens an existing SQLite file for reading, as the driver's read-only
   commands do (sqlite_open_read: hot journals, WAL files in directories this
   user cannot write), after checking that it is one. */
/*
 * Reading a database in WAL mode read-only makes -wal and -shm files beside
 * it that only a writer removes. wal_side_note records which were there
 * before; wal_side_clean removes the empty -wal (and its -shm) that the read
 * left, never one that was there before or holds frames.
 */
typedef struct wal_side {
    char path[2][4200]; /* -wal, -shm */
    int had[2];
} wal_side;

static void wal_side_note(wal_side *w, const char *db)
{
    for (int i = 0; i < 2; i++) {
        snprintf(w->path[i], sizeof(w->path[i]), "%s%s", db, i ? "-shm" : "-wal");
        w->had[i] = access(w->path[i], F_OK) == 0;
    }
}

static void wal_side_clean(const wal_side *w)
{
    struct stat st;
    if (!w->had[0] && stat(w->path[0], &st) == 0 && st.st_size == 0) {
        unlink(w->path[0]);
        if (!w->had[1])
            unlink(w->path[1]);
    }
}

/* Opens the database to back up, read-only; a file that is not there is a
   database that cannot be opened (as for any command that only reads),
   never created. */
static strata_code sq_open_existing(const char *path, double timeout, sqlite3 **db, strata_error *err)
{
    char magic[16];
    strata_code reg = sq_regular(path, err);
    if (reg)
        return reg;
    if (access(path, F_OK) != 0 && errno == ENOENT) {
        err_set(err, STRATA_CONNECT_FAILED, "SQLite database '%s' does not exist", path);
        err_hint(err, "check the URL; 'strata up' creates the database");
        return STRATA_CONNECT_FAILED;
    }
    strata_code c = backup_read_magic(path, magic, err);
    if (c)
        return c;
    if (memcmp(magic, "SQLite format 3", 16) != 0 && magic[0]) {
        err_set(err, STRATA_USAGE, "'%s' is not a SQLite database", path);
        err_hint(err, !memcmp(magic, "PGDMP", 5)
                          ? "it is a PostgreSQL archive: restore it with a postgresql:// URL"
                          : "check the file name");
        return STRATA_USAGE;
    }
    return sqlite_open_read(path, 1, timeout, db, err);
}

/*
 * Copies every page of src into dst, waiting out locks; a signal (strata_interrupt)
 * stops it with nothing changed. pages: -1 copies all in one step, under
 * one read lock of src; otherwise in steps of that many pages, so that a
 * signal is seen between them -- a backup holds a read transaction of src
 * across them (one snapshot), and a restore's write transaction on the
 * destination spans every step (sqlite3_backup_finish before the end rolls
 * it back).
 */
static strata_code sq_copy(sqlite3 *dst, sqlite3 *src, int pages, double timeout, const char *what,
                           const char *path, strata_error *err)
{
    sqlite3_backup *bk = sqlite3_backup_init(dst, "main", src, "main");
    if (!bk)
        return sq_err(err, STRATA_DB_ERROR, what, path, dst, SQLITE_ERROR);
    double deadline = clock_ms() + timeout * 1000.0;
    int rc, stopped = 0;
    for (;;) {
        if ((stopped = intr_requested()))
            break;
        rc = sqlite3_backup_step(bk, pages);
        if (rc == SQLITE_OK) /* more pages to go */
            continue;
        if ((rc != SQLITE_BUSY && rc != SQLITE_LOCKED) || clock_ms() >= deadline)
            break;
        sleep_ms(20);
    }
    sqlite3_backup_finish(bk); /* before the end: the destination is rolled back */
    if (stopped)
        return intr_error(err, "before anything was changed");
    if (rc == SQLITE_DONE)
        return STRATA_OK;
    if (rc == SQLITE_BUSY || rc == SQLITE_LOCKED) {
        err_set(err, STRATA_LOCK_TIMEOUT, "%s '%s': timed out after %gs waiting for a lock", what, path,
                timeout);
        err_hint(err, "another process holds the database; raise --lock-timeout to wait longer");
        return STRATA_LOCK_TIMEOUT;
    }
    /* the file system's refusal (a full disk, a file size limit): its words */
    int sys = sqlite3_system_errno(dst);
    if ((rc & 0xff) == SQLITE_FULL || ((rc & 0xff) == SQLITE_IOERR && (sys == EFBIG || sys == ENOSPC))) {
        err_set(err, STRATA_IO_ERROR, "%s '%s': %s", what, path, sys ? strerror(sys) : sqlite3_errstr(rc));
        err_hint(err, "nothing was changed; make room (or raise the file size limit) and run it again");
        return STRATA_IO_ERROR;
    }
    err_set(err, STRATA_DB_ERROR, "%s '%s': %s", what, path, sqlite3_errstr(rc));
    if (rc == SQLITE_READONLY && access(path, W_OK) != 0)
        err_hint(err, "the database file is not writable by this user (%s); nothing was changed",
                 strerror(errno));
    else if (rc == SQLITE_READONLY)
        err_hint(err, "the database is in WAL mode with another page size than the backup; "
                      "switch it to journal_mode=DELETE first, or drop it and restore into a new file");
    return STRATA_DB_ERROR;
}

static strata_code sq_backup_file(const char *src_path, const char *path, double timeout, char **path_out,
                                  strata_error *err)
{
    sqlite3 *src = NULL, *dst = NULL;
    char *target = NULL, *tmp = NULL;
    if (!strcmp(src_path, ":memory:")) {
        err_set(err, STRATA_USAGE, "an in-memory database has nothing to back up");
        return STRATA_USAGE;
    }
    strata_code rc = sq_open_existing(src_path, timeout, &src, err);
    if (rc)
        return rc;
    if (path) {
        target = xstrdup(path);
    } else {
        const char *base = strrchr(src_path, '/');
        base = base ? base + 1 : src_path;
        const char *dot = strrchr(base, '.');
        char *stem = xstrndup(base, dot && dot != base ? (size_t)(dot - base) : strlen(base));
        target = stem ? backup_default_name(stem, ".sqlite3") : NULL;
        free(stem);
    }
    if (!target) {
        rc = err_set(err, STRATA_NOMEM, "out of memory");
        goto out;
    }
    if ((rc = backup_refuse_existing(target, err)))
        goto out;
    int fd = backup_temp_next_to(target, &tmp, err);
    if (fd < 0) {
        rc = err->code;
        goto out;
    }
    /* SQLite takes POSIX locks on the file: no other descriptor of ours may
       be closed while it is open, so close this one first */
    close(fd);
    int orc = sqlite3_open_v2(tmp, &dst, SQLITE_OPEN_READWRITE, NULL);
    if (orc != SQLITE_OK) {
        rc = sq_err(err, STRATA_IO_ERROR, "cannot write", tmp, dst, orc);
        goto out;
    }
    /* one snapshot in steps, so that a signal is seen between them: a read
       transaction of src held from the first page to the last (writers
       wait for it, as for one step; in WAL mode they go on beside it). If
       it cannot be had now, one step, which waits for the lock itself. */
    int snap = sqlite3_exec(src, "BEGIN; SELECT count(*) FROM sqlite_schema", NULL, NULL, NULL) == SQLITE_OK;
    rc = sq_copy(dst, src, snap ? 4096 : -1, timeout, "cannot back up", src_path, err);
    if (snap)
        sqlite3_exec(src, "COMMIT", NULL, NULL, NULL);
    if (rc)
        goto out;
    if (sqlite3_close(dst) != SQLITE_OK) {
        rc = err_set(err, STRATA_IO_ERROR, "cannot finish '%s'", tmp);
        dst = NULL;
        goto out;
    }
    dst = NULL;
    if ((rc = backup_publish(tmp, target, err)))
        goto out;
    free(tmp);
    tmp = NULL;
    if (path_out) {
        *path_out = target;
        target = NULL;
    }
out:
    sqlite3_close(dst);
    sqlite3_close(src);
    if (tmp) { /* and the journal a failed write left beside it */
        unlink(tmp);
        buf j;
        buf_init(&j);
        buf_addf(&j, "%s-journal", tmp);
        if (j.data)
            unlink(j.data);
        buf_release(&j);
        free(tmp);
    }
    free(target);
    return rc;
}

/* what strata_interrupt calls for a connection of this file (interrupt.c) */
static void stop_db(void *h)
{
    sqlite3_interrupt(h);
}

static int first_row(void *ud, int n, char **v, char **names)
{
    (void)names;
    char **out = ud;
    if (!*out && n > 0)
        *out = xstrdup(v[0] ? v[0] : "");
    return 0;
}

/* Opens a backup to restore from, read-only, after checking that it is a
   whole SQLite database: the 16-byte header (an empty or short file would
   restore as an empty database) and PRAGMA quick_check. */
static strata_code sq_open_backup(const char *path, double timeout, sqlite3 **db, strata_error *err)
{
    char magic[16];
    struct stat st;
    strata_code c = backup_read_magic(path, magic, err);
    if (c)
        return c;
    if (memcmp(magic, "SQLite format 3", 16) != 0) {
        int empty = stat(path, &st) == 0 && st.st_size == 0;
        err_set(err, STRATA_USAGE, "'%s' is not a SQLite database%s", path, empty ? " (it is empty)" : "");
        err_hint(err, !memcmp(magic, "PGDMP", 5)
                          ? "it is a PostgreSQL archive: restore it with a postgresql:// URL"
                          : "check the file name; nothing was changed");
        return STRATA_USAGE;
    }
    /* as the read-only commands open a file: a backup of a WAL database is
       one too, read from a directory this user may not write (a read-only
       backup volume) with immutable=1 when it has no -wal content */
    strata_error oe;
    strata_code oc = STRATA_DB_ERROR;
    /* a backup of a WAL database keeps WAL in its header: opened as such it
       would leave a -shm and a -wal file beside the backup. With neither
       there (no connection has it open, nothing is left in a -wal), every
       page is in the file: read it as a file nobody writes (immutable=1) */
    char *shm = NULL;
    if (asprintf(&shm, "%s-shm", path) > 0 && access(shm, F_OK) != 0 && sq_wal_size(path) <= 0) {
        char *uri = sq_file_uri(path, "immutable=1");
        if (uri &&
            sq_open_read_probe(db, uri, SQLITE_OPEN_READONLY | SQLITE_OPEN_URI, timeout) == SQLITE_OK &&
            sqlite3_exec(*db, "PRAGMA query_only = ON", NULL, NULL, NULL) == SQLITE_OK)
            oc = STRATA_OK;
        else if (*db) {
            sqlite3_close(*db);
            *db = NULL;
        }
        free(uri);
    }
    free(shm);
    if (oc)
        oc = sqlite_open_read(path, 0, timeout, db, &oe);
    if (oc == STRATA_LOCK_TIMEOUT || oc == STRATA_INTERRUPTED) {
        if (err)
            *err = oe;
        return oc;
    }
    if (oc) {
        const char *why = strstr(oe.message, "': ");
        err_set(err, STRATA_USAGE, "'%s' is not a usable SQLite backup: %s", path,
                why ? why + 3 : oe.message);
        err_hint(err, "%s", oe.hint[0] ? oe.hint : "the backup is damaged or cut short; nothing was changed");
        return STRATA_USAGE;
    }
    /* (the busy timeout is set by either open) */
    char *check = NULL;
    intr_track(*db, *db, stop_db, NULL, -1); /* a large file's check takes seconds */
    int rc = intr_requested() ? SQLITE_INTERRUPT
                              : sqlite3_exec(*db, "PRAGMA quick_check(1)", first_row, &check, NULL);
    intr_untrack(*db);
    if (rc == SQLITE_INTERRUPT || intr_requested()) {
        free(check);
        sqlite3_close(*db);
        *db = NULL;
        return intr_error(err, "before anything was changed");
    }
    if (rc != SQLITE_OK || !check || strcmp(check, "ok") != 0) {
        if (rc != SQLITE_OK)
            err_set(err, STRATA_USAGE, "'%s' is not a usable SQLite backup: %s", path,
                    *db ? sqlite3_errmsg(*db) : sqlite3_errstr(rc));
        else
            err_set(err, STRATA_USAGE, "'%s' is not a usable SQLite backup: quick_check says: %s", path,
                    check ? check : "nothing");
        err_hint(err, "the backup is damaged or cut short; nothing was changed");
        free(check);
        sqlite3_close(*db);
        *db = NULL;
        return STRATA_USAGE;
    }
    free(check);
    return STRATA_OK;
}

static strata_code sq_restore_file(const char *dst_path, const char *path, double timeout, strata_error *err)
{
    sqlite3 *src = NULL, *dst = NULL;
    if (!strcmp(dst_path, ":memory:")) {
        err_set(err, STRATA_USAGE, "restoring into an in-memory database would be lost at once");
        return STRATA_USAGE;
    }
    strata_code rc = sq_regular(dst_path, err);
    if (rc)
        return rc;
    /* the backup's own file (or a link to it): its read lock would stop
       the restore's writes until --lock-timeout, then blame another process */
    struct stat a, b;
    if (stat(path, &a) == 0 && stat(dst_path, &b) == 0 && a.st_dev == b.st_dev && a.st_ino == b.st_ino) {
        err_set(err, STRATA_USAGE, "cannot restore '%s' into itself: the backup is the database", path);
        err_hint(err, "name a backup file made with 'strata backup'; nothing was changed");
        return STRATA_USAGE;
    }
    wal_side side;
    wal_side_note(&side, path);
    rc = sq_open_backup(path, timeout, &src, err);
    if (rc)
        return rc;
    int r = sqlite3_open_v2(dst_path, &dst, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, NULL);
    if (r != SQLITE_OK) {
        rc = sq_err(err, STRATA_CONNECT_FAILED, "cannot open SQLite database", dst_path, dst, r);
        goto out;
    }
    sq_busy_timeout(dst, timeout * 1000.0);
    rc = sq_copy(dst, src, 4096, timeout, "cannot restore into", dst_path, err);
out:
    sqlite3_close(dst);
    sqlite3_close(src);
    wal_side_clean(&side);
    return rc;
}

strata_code sq_backup(const db_url *u, const char *path, const strata_config *cfg, char **path_out,
                      strata_error *err)
{
    return sq_backup_file(u->path, path, lock_timeout_norm(cfg ? cfg->lock_timeout : 0), path_out, err);
}

strata_code sq_restore(const db_url *u, const char *path, int flags, const strata_config *cfg,
                       strata_error *err)
{
    (void)flags;
    strata_code rc;
    if (u->readonly) {
        err_set(err, STRATA_USAGE, "the URL opens the database read-only (?mode=ro): cannot restore into it");
        err_hint(err, "use a URL without ?mode=ro");
        rc = STRATA_USAGE;
    } else if (u->nocreate && access(u->path, F_OK) != 0) {
        rc = sq_err_nocreate(err, u->path);
    } else {
        rc = sq_restore_file(u->path, path, lock_timeout_norm(cfg ? cfg->lock_timeout : 0), err);
    }
    return rc;
}
