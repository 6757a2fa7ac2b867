/*
 * sqlite/sq_driver.c -- the SQLite backend.
 *
 * Locking: SQLite's own write lock. Each migration runs in BEGIN IMMEDIATE,
 * which waits up to the lock timeout (busy timeout) for other writers. In a
 * rollback-journal mode a run keeps the lock from its first commit to its
 * end (locking_mode=EXCLUSIVE, see sq_lock).
 */
#include "gen.h"
#include "internal.h"
#include "sq_internal.h"

#include <ctype.h>
#include <dlfcn.h>
#include <pthread.h>
#include <sqlite3.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

typedef struct sq {
    drv base;
    sqlite3 *db;
    char *path;
    double timeout;
    int created;   /* this connection created the file */
    int discard;   /* remove the file and its journals on close */
    int url_ro;    /* the URL says ?mode=ro */
    int sync0;     /* the connection's synchronous level as opened; -1 unread */
    int synced;    /* the level set for the current journal mode; -1 none */
    int want_excl; /* in a run (sq_lock): lock exclusively at a later BEGIN */
    int run_tx;    /* transactions begun in the current run */
    int excl;      /* locking_mode=EXCLUSIVE set for the current run */
} sq;

/* what strata_interrupt calls (interrupt.c): the running statement stops */
static void sq_stop(void *h)
{
    sqlite3_interrupt(h);
}

static void sq_close(drv *d)
{
    sq *s = (sq *)d;
    if (!s)
        return;
    intr_untrack(s);
    sqlite3_close_v2(s->db);
    if (s->discard && s->path) {
        static const char *const sfx[] = {"-journal", "-wal", "-shm"};
        for (size_t i = 0; i < 3; i++) {
            char *side = malloc(strlen(s->path) + 9);
            if (side) {
                sprintf(side, "%s%s", s->path, sfx[i]);
                unlink(side);
                free(side);
            }
        }
    }
    free(s->path);
    free(s);
}

/* Counts with one integer result; -1 on any error. */
static long count_of(sqlite3 *db, const char *sql, const char *param)
{
    sqlite3_stmt *st = NULL;
    long n = -1;
    if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) == SQLITE_OK &&
        (!param || sqlite3_bind_text(st, 1, param, -1, SQLITE_STATIC) == SQLITE_OK) &&
        sqlite3_step(st) == SQLITE_ROW)
        n = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    return n;
}

static void sq_discard_if_new(drv *d, const char *table)
{
    sq *s = (sq *)d;
    if (!s || !s->created)
        return;
    /* under the write lock, without waiting for it: another process that
       opened the same new file and is writing keeps it */
    sq_busy_timeout(s->db, 0);
    if (sqlite3_exec(s->db, "BEGIN IMMEDIATE", NULL, NULL, NULL) != SQLITE_OK)
        return;
    long others = count_of(s->db, "SELECT count(*) FROM sqlite_master WHERE tbl_name <> ?1", table);
    long tables =
        count_of(s->db, "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = ?1", table);
    long rows = 0;
    if (tables > 0) {
        buf b;
        buf_init(&b);
        buf_adds(&b, "SELECT count(*) FROM ");
        buf_add_ident(&b, table);
        rows = b.oom ? -1 : count_of(s->db, b.data, NULL);
        buf_release(&b);
    }
    if (others == 0 && tables >= 0 && rows == 0 && unlink(s->path) == 0)
        s->discard = 1;
    sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
    sq_busy_timeout(s->db, s->timeout * 1000.0);
}

/* The start of the current wait of this thread: a thread waits for one
   lock at a time, and SQLite calls with count 0 when a wait begins. */
static _Thread_local double busy_since;

static int busy_wait(void *arg, int count)
{
    double limit = (double)(intptr_t)arg, now = clock_ms();
    if (count == 0)
        busy_since = now;
    if (intr_requested() || now - busy_since >= limit)
        return 0;
    /* SQLite's own steps: short first, then 25 ms at most */
    double step = count < 3 ? 1 + count * 4 : count < 8 ? 10 : 25;
    sleep_ms(step < limit - (now - busy_since) ? step : limit - (now - busy_since));
    return 1;
}

void sq_busy_timeout(sqlite3 *db, double ms)
{
    if (ms <= 0)
        sqlite3_busy_handler(db, NULL, NULL);
    else
        sqlite3_busy_handler(db, busy_wait, (void *)(intptr_t)(ms > 2147483647.0 ? 2147483647.0 : ms));
}

/* "file:" URI of path with param, for sqlite3_open_v2 with SQLITE_OPEN_URI */
char *sq_file_uri(const char *path, const char *param)
{
    buf b;
    buf_init(&b);
    buf_adds(&b, "file:");
    for (const unsigned char *p = (const unsigned char *)path; *p; p++) {
        if (*p == '%' || *p == '?' || *p == '#' || *p < 0x21 || *p >= 0x7f)
            buf_addf(&b, "%%%02X", *p);
        else
            buf_add(&b, (const char *)p, 1);
    }
    buf_addf(&b, "?%s", param);
    return buf_detach(&b);
}

strata_code sq_err_wal_pending(strata_error *err, const char *path)
{
    err_set(err, STRATA_CONNECT_FAILED,
            "cannot read SQLite database '%s': it is in WAL mode, its directory is not "
            "writable by this user and its -wal file holds changes not yet in the database file",
            path);
    err_hint(err, "open it once as a user who can write the directory (that folds the -wal "
                  "file in), or make the directory writable");
    return STRATA_CONNECT_FAILED;
}

strata_code sq_regular(const char *path, strata_error *err)
{
    struct stat st;
    if (!strcmp(path, ":memory:") || stat(path, &st) != 0 || S_ISREG(st.st_mode))
        return STRATA_OK;
    err_set(err, STRATA_FILE_NOT_REGULAR, "'%s' is %s, not a SQLite database file", path,
            file_kind(st.st_mode));
    err_hint(err, "check the path in the URL; nothing was changed");
    return STRATA_FILE_NOT_REGULAR;
}

long long sq_wal_size(const char *path)
{
    char p[4200];
    struct stat st;
    snprintf(p, sizeof(p), "%s-wal", path);
    return stat(p, &st) == 0 ? (long long)st.st_size : -1;
}

char *sq_dir_of(const char *path)
{
    const char *slash = strrchr(path, '/');
    return !slash ? xstrdup(".") : slash == path ? xstrdup("/") : xstrndup(path, (size_t)(slash - path));
}

/* Whether this user may create files (-wal, -shm, -journal) next to path. */
int sq_dir_writable(const char *path)
{
    char *d = sq_dir_of(path);
    int ok = !d || access(d, W_OK) == 0;
    free(d);
    return ok;
}

strata_code sq_err_nocreate(strata_error *err, const char *path)
{
    err_set(err, STRATA_CONNECT_FAILED, "SQLite database '%s' does not exist", path);
    err_hint(err, "the URL says ?mode=rw, which never creates the file (SQLite's meaning; ?mode=rwc or no "
                  "mode creates it); check the path");
    return STRATA_CONNECT_FAILED;
}

static void commit_sync_level(sq *s);

/* CONNECT_FAILED for a failed open of path (rc an extended code; wal the
   size of its -wal file when the fallback looked, else -1); LOCK_TIMEOUT
   when another process's lock outlasted the busy timeout (an EXCLUSIVE
   lock keeps even readers out of a rollback-journal database). */
static strata_code open_failed(strata_error *err, const char *path, sqlite3 *db, int rc, int ro,
                               long long wal)
{
    if (wal > 0)
        return sq_err_wal_pending(err, path);
    if ((rc & 0xff) == SQLITE_BUSY || (rc & 0xff) == SQLITE_LOCKED) {
        if (intr_requested())
            return intr_error(err, "while waiting for another process's lock on the SQLite database");
        err_set(err, STRATA_LOCK_TIMEOUT,
                "timed out waiting to read SQLite database '%s': another process holds it locked", path);
        err_hint(err,
                 "a long write, or an EXCLUSIVE lock (BEGIN EXCLUSIVE, PRAGMA locking_mode=EXCLUSIVE); let "
                 "it finish, or raise --lock-timeout to wait longer");
        return STRATA_LOCK_TIMEOUT;
    }
    err_set(err, STRATA_CONNECT_FAILED, "cannot open SQLite database '%s': %s", path,
            db ? sqlite3_errmsg(db) : sqlite3_errstr(rc));
    char abs_hint[sizeof(err->hint)];
    int sys = db ? sqlite3_system_errno(db) : 0;
    if ((rc & 0xff) == SQLITE_CANTOPEN && (sys == EMFILE || sys == ENFILE))
        err_hint(err, "%s: the process may open no more files (ulimit -n)", strerror(sys));
    else if ((rc & 0xff) == SQLITE_CANTOPEN && sqlite_abs_hint(path, abs_hint, sizeof(abs_hint)))
        err_hint(err, "%s", abs_hint);
    else if ((rc & 0xff) == SQLITE_CANTOPEN)
        err_hint(err, ro ? "check that the file exists and is readable by this user"
                         : "check that the directory exists and is writable");
    else if ((rc & 0xff) == SQLITE_NOTADB)
        err_hint(err, "the file exists but is not a SQLite database; check the URL");
    else if (rc == SQLITE_READONLY_DIRECTORY || (rc == SQLITE_READONLY && !ro))
        err_hint(err, "the database file (or its directory, for the journal) is not writable by this user");
    else if (rc == SQLITE_READONLY_ROLLBACK)
        err_hint(err, "a writer was interrupted and its journal must be rolled back; run a "
                      "command as a user who can write the database (or drop ?mode=ro)");
    return STRATA_CONNECT_FAILED;
}

int sq_open_read_probe(sqlite3 **db, const char *name, int flags, double timeout_s)
{
    if (*db) {
        sqlite3_close_v2(*db);
        *db = NULL;
    }
    int rc = sqlite3_open_v2(name, db, flags | SQLITE_OPEN_NOMUTEX, NULL);
    if (rc != SQLITE_OK)
        return *db ? sqlite3_extended_errcode(*db) : rc;
    sqlite3_extended_result_codes(*db, 1);
    double ms = timeout_s * 1000.0;
    /* the busy timeout first: another writer may hold the lock right now */
    sq_busy_timeout(*db, ms);
    return sqlite3_exec(*db, "SELECT count(*) FROM sqlite_master", NULL, NULL, NULL);
}

strata_code sqlite_open_read(const char *path, int may_write, double timeout_s, sqlite3 **db,
                             strata_error *err)
{
    *db = NULL;
    strata_code reg = sq_regular(path, err);
    if (reg)
        return reg;
    int rc = sq_open_read_probe(db, path, SQLITE_OPEN_READONLY, timeout_s);
    long long wal = -1;
    if (rc == SQLITE_READONLY_ROLLBACK && may_write && access(path, W_OK) == 0) {
        rc = sq_open_read_probe(db, path, SQLITE_OPEN_READWRITE, timeout_s);
    } else if ((rc == SQLITE_READONLY_DIRECTORY || (rc & 0xff) == SQLITE_CANTOPEN) &&
               access(path, R_OK) == 0 && !sq_dir_writable(path) && (wal = sq_wal_size(path)) <= 0) {
        char *uri = sq_file_uri(path, "immutable=1");
        rc = uri ? sq_open_read_probe(db, uri, SQLITE_OPEN_READONLY | SQLITE_OPEN_URI, timeout_s)
                 : SQLITE_NOMEM;
        free(uri);
    }
    if (rc == SQLITE_OK)
        rc = sqlite3_exec(*db, "PRAGMA query_only = ON", NULL, NULL, NULL);
    if (rc != SQLITE_OK) {
        strata_code code = open_failed(err, path, *db, rc, 1, wal);
        sqlite3_close_v2(*db);
        *db = NULL;
        return code;
    }
    return STRATA_OK;
}

/*
 * Read-only opens (status, current, history, validate, schema, dry runs, and
 * any command on a ?mode=ro URL) use SQLITE_OPEN_READONLY and never create
 * the file (sqlite_open_read, also copy's source). Two fallbacks:
 *  - a hot journal left by a killed writer cannot be rolled back read-only
 *    (SQLITE_READONLY_ROLLBACK): when the file is writable and the URL does
 *    not say mode=ro, it is opened read-write (never created) so that SQLite
 *    rolls the journal back, with query_only on;
 *  - a WAL database needs its -shm and -wal files; when they cannot be
 *    created because the directory is not writable by this user, the file is
 *    opened with immutable=1 -- but only when there is no -wal file or it is
 *    empty: then every committed change is in the main file and no writer
 *    has a transaction under way. A -wal file with content would be skipped
 *    by immutable=1 (stale data), so that case is an error.
 */
static strata_code sq_open(drv **out, const db_url *u, const strata_config *cfg, strata_error *err)
{
    sq *s = calloc(1, sizeof(*s));
    if (!s)
        return err_set(err, STRATA_NOMEM, "out of memory");
    s->base.ops = &drv_sqlite_ops;
    s->path = xstrdup(u->path);
    s->timeout = cfg->lock_timeout;
    s->url_ro = u->readonly;
    s->sync0 = s->synced = -1;
    const char *path = u->path;
    int ro = cfg->readonly || u->readonly, memory = !strcmp(path, ":memory:");
    int flags = ro ? SQLITE_OPEN_READONLY : SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE;
    int created = !ro && !memory && access(path, F_OK) != 0;
    if (u->nocreate && !memory && access(path, F_OK) != 0) {
        sq_close(&s->base);
        return sq_err_nocreate(err, u->path);
    }
    if (ro && !memory && access(path, F_OK) != 0) {
        if (u->readonly) {
            err_set(err, STRATA_CONNECT_FAILED, "SQLite database '%s' does not exist", u->path);
            err_hint(err, "the URL says ?mode=ro, which never creates the file; check the path");
            sq_close(&s->base);
            return STRATA_CONNECT_FAILED;
        }
        /* a missing file reads as an empty database; never create it */
        path = ":memory:";
        memory = 1;
    }
    strata_code reg;
    if (ro && !memory) {
        if ((reg = sqlite_open_read(path, !u->readonly, cfg->lock_timeout, &s->db, err))) {
            sq_close(&s->base);
            return reg;
        }
    } else if ((reg = sq_regular(path, err))) {
        sq_close(&s->base);
        return reg;
    } else {
        int rc = sq_open_read_probe(&s->db, path, flags, cfg->lock_timeout);
        if (rc == SQLITE_OK && ro)
            rc = sqlite3_exec(s->db, "PRAGMA query_only = ON", NULL, NULL, NULL);
        if (rc != SQLITE_OK) {
            strata_code code = open_failed(err, u->path, s->db, rc, ro, -1);
            sq_close(&s->base);
            return code;
        }
    }
    s->created = created && access(path, F_OK) == 0;
    if (!ro)
        commit_sync_level(s); /* also for the version table's creation, before any BEGIN */
    intr_track(s, s->db, sq_stop, NULL, -1);
    *out = &s->base;
    return STRATA_OK;
}

static int count_lines(const char *s, size_t n)
{
    int l = 0;
    for (size_t i = 0; i < n && s[i]; i++)
        if (s[i] == '\n')
            l++;
    return l;
}

/* Offset of the first token of the statement beginning at s. */
static size_t first_token(const char *s)
{
    size_t i = 0;
    for (;;) {
        while (s[i] == ' ' || s[i] == '\t' || s[i] == '\n' || s[i] == '\r' || s[i] == '\f')
            i++;
        if (s[i] == '-' && s[i + 1] == '-') {
            while (s[i] && s[i] != '\n')
                i++;
        } else if (s[i] == '/' && s[i + 1] == '*') {
            const char *e = strstr(s + i + 2, "*/");
            i = e ? (size_t)(e - s) + 2 : strlen(s);
        } else {
            return i;
        }
    }
}

/* The file line of the statement at p of sql, a section starting at line:
   its first token's, past blanks and comments. */
static int stmt_line(const char *sql, const char *p, int line)
{
    return line + count_lines(sql, (size_t)(p - sql)) + count_lines(p, first_token(p));
}

/* 1, with the error said, when the file strata has open is no longer the
   one at its path: a concurrent run that created it failed and removed it
   when it held nothing (sq_discard_if_new); SQLite then refuses every
   write with "attempt to write a readonly database" or an I/O error. */
static int file_moved(sq *s, strata_error *err)
{
    int moved = 0;
    if (!s->path || sqlite3_file_control(s->db, "main", SQLITE_FCNTL_HAS_MOVED, &moved) != SQLITE_OK ||
        !moved)
        return 0;
    if (s->discard) {
        /* this handle's own first run failed and removed the file it had
           created (the database is as before: no file) */
        err_set(err, STRATA_DB_ERROR,
                "the database file '%s' was removed by this handle's failed first run (a new file that "
                "failed is not left behind)",
                s->path);
        err_hint(err, "nothing was written; open the database again (strata_open) to run on a new file");
        return 1;
    }
    err_set(err, STRATA_DB_ERROR,
            "the database file '%s' was removed while strata had it open (by 'strata drop', or by another "
            "run that created it, failed and removed it)",
            s->path);
    err_hint(err, "nothing was written; run the command again");
    return 1;
}

/* 1 when the statement at st is the copy of a table rebuild strata diff
   writes (INSERT OR ABORT INTO "t__strata_new" ...): a CHECK it breaks is named by
   SQLite without the table. */
static int rebuild_copy(const char *st)
{
    char head[256];
    snprintf(head, sizeof(head), "%.*s", (int)sizeof(head) - 1, st + first_token(st));
    return !c_strncasecmp(head, "INSERT ", 7) && strstr(head, "__strata_new") != NULL;
}

static strata_code sq_fail(sq *s, strata_code code, const char *sql, const char *stmt_start, const char *file,
                           int line, strata_error *err)
{
    int off = sqlite3_error_offset(s->db);
    size_t at = off >= 0 ? (size_t)off : first_token(stmt_start);
    int l = line + count_lines(sql, (size_t)(stmt_start - sql)) + count_lines(stmt_start, at);
    int ext = sqlite3_extended_errcode(s->db);
    if (((ext & 0xff) == SQLITE_READONLY || (ext & 0xff) == SQLITE_IOERR) && file_moved(s, err))
        return STRATA_DB_ERROR; /* the race sq_lock's check can lose */
    if (file)
        err_set(err, code, "%s:%d: %s", file, l, sqlite3_errmsg(s->db));
    else
        err_set(err, code, "%s", sqlite3_errmsg(s->db));
    err_where(err, file, file ? l : 0);
    if ((ext & 0xff) == SQLITE_BUSY) {
        err_set_code(err, STRATA_LOCK_TIMEOUT);
        err_hint(err, "another connection holds a lock on the database: a write, or (journal_mode other than "
                      "WAL) a read transaction that a commit must wait out; nothing of this migration was "
                      "kept; raise --lock-timeout to wait longer");
        return STRATA_LOCK_TIMEOUT;
    }
    if ((ext & 0xff) == SQLITE_READONLY)
        err_hint(err,
                 s->url_ro
                     ? "the URL opens the database read-only (?mode=ro); use a URL without it to write"
                     : "the database file (or its directory, for the journal) is not writable by this user");
    else if ((ext & 0xff) == SQLITE_FULL)
        err_hint(err, "the disk or the file size limit is full; nothing of this migration was kept");
    else if (ext == SQLITE_IOERR_WRITE || ext == SQLITE_IOERR_FSYNC || ext == SQLITE_IOERR_TRUNCATE)
        err_hint(err, "writing the database file failed (a full disk, the file size limit, a failing disk); "
                      "nothing of this migration was kept");
    else if (strstr(sqlite3_errmsg(s->db), "within a transaction"))
        /* VACUUM, and PRAGMAs such as journal_mode = WAL */
        err_hint(err, "this statement cannot run inside a transaction: put it in a section of its own, "
                      "'-- strata:up no-transaction'");
    else if ((ext & 0xff) == SQLITE_CONSTRAINT &&
             (strstr(sqlite3_errmsg(s->db), "__strata_new") || rebuild_copy(stmt_start)))
        /* the table rebuild strata diff writes (docs/diff.md) */
        err_hint(err,
                 "this table rebuild copies the table's rows into its new definition, and a row "
                 "breaks it (NOT NULL, UNIQUE, CHECK; or a primary key holding NULL, which SQLite "
                 "allows but for INTEGER PRIMARY KEY, where it takes a new id that may be taken): fix or "
                 "delete those rows first, in an earlier migration");
    return code;
}

/* q past blanks and comments */
static const char *skip_blank(const char *q)
{
    return q + first_token(q);
}

/* A name token at q, quotes ("x", [x], `x`) taken off, into out. */
static const char *pragma_word(const char *q, char *out, size_t n)
{
    char close = *q == '"' ? '"' : *q == '[' ? ']' : *q == '`' ? '`' : 0;
    size_t k = 0;
    if (close)
        q++;
    while (*q && (close ? *q != close : (isalnum((unsigned char)*q) || *q == '_'))) {
        if (k + 1 < n)
            out[k++] = *q;
        q++;
    }
    if (close && *q)
        q++;
    out[k] = 0;
    return q;
}

/*
 * The checking PRAGMAs, read as what they mean rather than as a verify's
 * first value: foreign_key_check reports violations as rows (none: all is
 * well -- a verify would read that as "no rows", a failure, and pass on a
 * violation's table name); integrity_check and quick_check say "ok". 1 for
 * foreign_key_check, 2 for the others, 0 for any other statement.
 */
static int check_pragma(sqlite3_stmt *st)
{
    const char *q = sqlite3_sql(st);
    if (!q)
        return 0;
    q = skip_blank(q);
    if (c_strncasecmp(q, "PRAGMA", 6) || isalnum((unsigned char)q[6]) || q[6] == '_')
        return 0;
    /* "PRAGMA main . foreign_key_check(t)": the name after any schema */
    char name[64];
    q = skip_blank(pragma_word(skip_blank(q + 6), name, sizeof(name)));
    if (*q == '.')
        pragma_word(skip_blank(q + 1), name, sizeof(name));
    if (!c_strcasecmp(name, "foreign_key_check"))
        return 1;
    if (!c_strcasecmp(name, "integrity_check") || !c_strcasecmp(name, "quick_check"))
        return 2;
    return 0;
}

/* Runs every statement of sql; with verify set, checks their first values. */
static strata_code run_sql(sq *s, const char *sql, const char *file, int line, int verify, strata_error *err)
{
    const char *p = sql;
    while (*p) {
        sqlite3_stmt *st = NULL;
        const char *tail = NULL;
        int rc = sqlite3_prepare_v2(s->db, p, -1, &st, &tail);
        if (rc != SQLITE_OK)
            return sq_fail(s, verify ? STRATA_VERIFY_FAILED : STRATA_MIGRATION_FAILED, sql, p, file, line,
                           err);
        if (!st) { /* only blanks or comments left */
            p = tail;
            continue;
        }
        if (intr_requested()) {
            /* asked to stop: before the next statement -- never after the
               last, so that a section that ran to its end is whole */
            sqlite3_finalize(st);
            char at[300];
            snprintf(at, sizeof(at), "before %s:%d", file ? file : "the statement", stmt_line(sql, p, line));
            return intr_error(err, at);
        }
        rc = sqlite3_step(st);
        int chk = check_pragma(st);
        if (chk && (rc == SQLITE_ROW || rc == SQLITE_DONE)) {
            /* a check that found something fails the section, in up or
               verify alike: its rows are what is wrong */
            int bad = chk == 1 ? rc == SQLITE_ROW
                               : rc != SQLITE_ROW || !sqlite3_column_text(st, 0) ||
                                     strcmp((const char *)sqlite3_column_text(st, 0), "ok");
            if (bad) {
                int l = stmt_line(sql, p, line);
                if (chk == 1)
                    err_set(err, verify ? STRATA_VERIFY_FAILED : STRATA_MIGRATION_FAILED,
                            "%s:%d: foreign_key_check: a row of table \"%s\" (rowid %s) refers to a missing "
                            "row of \"%s\"",
                            file, l, (const char *)sqlite3_column_text(st, 0),
                            sqlite3_column_text(st, 1) ? (const char *)sqlite3_column_text(st, 1) : "NULL",
                            (const char *)sqlite3_column_text(st, 2));
                else
                    err_set(err, verify ? STRATA_VERIFY_FAILED : STRATA_MIGRATION_FAILED,
                            "%s:%d: integrity check: %s", file, l,
                            rc == SQLITE_ROW && sqlite3_column_text(st, 0)
                                ? (const char *)sqlite3_column_text(st, 0)
                                : "no answer");
                err_where(err, file, l);
                if (chk == 1)
                    err_hint(err, "the migration was rolled back; fix or delete the rows that refer to "
                                  "nothing (PRAGMA foreign_key_check lists them all), then run it again");
                sqlite3_finalize(st);
                return verify ? STRATA_VERIFY_FAILED : STRATA_MIGRATION_FAILED;
            }
            while (rc == SQLITE_ROW)
                rc = sqlite3_step(st);
        } else if (verify && sqlite3_column_count(st) > 0) {
            int ok = 0;
            if (rc == SQLITE_ROW) {
                int t = sqlite3_column_type(st, 0);
                const char *v = (const char *)sqlite3_column_text(st, 0);
                ok = t != SQLITE_NULL && v && !verify_false(v) &&
                     !((t == SQLITE_INTEGER || t == SQLITE_FLOAT) && sqlite3_column_double(st, 0) == 0);
            }
            if (rc == SQLITE_ROW || rc == SQLITE_DONE) {
                if (!ok) {
                    int l = stmt_line(sql, p, line);
                    err_set(err, STRATA_VERIFY_FAILED, "%s:%d: verify query returned %s", file, l,
                            rc == SQLITE_DONE ? "no rows" : "false");
                    err_where(err, file, l);
                    sqlite3_finalize(st);
                    return STRATA_VERIFY_FAILED;
                }
                while (rc == SQLITE_ROW)
                    rc = sqlite3_step(st);
            }
        }
        while (rc == SQLITE_ROW)
            rc = sqlite3_step(st);
        if (rc != SQLITE_DONE) {
            strata_code c =
                sq_fail(s, verify ? STRATA_VERIFY_FAILED : STRATA_MIGRATION_FAILED, sql, p, file, line, err);
            if ((rc & 0xff) == SQLITE_INTERRUPT && intr_requested()) {
                c = STRATA_INTERRUPTED; /* strata_interrupt stopped it */
                err_set_code(err, c);
            }
            sqlite3_finalize(st);
            return c;
        }
        sqlite3_finalize(st);
        p = tail;
    }
    return STRATA_OK;
}

static void release_excl(sq *s);

/* sql_split's callback: the line of the first statement that writes the
   schema table (an INSERT, UPDATE, REPLACE or DELETE whose target it is:
   named before any SELECT in it, so "INSERT INTO audit SELECT ... FROM
   sqlite_schema" only reads it), into *(int *)ud; stops there. */
static int schema_writer(void *ud, const sql_stmt *st)
{
    static const char *const writes[] = {"INSERT", "UPDATE", "REPLACE", "DELETE"};
    int w = 0;
    for (size_t i = 0; i < sizeof(writes) / sizeof(*writes); i++)
        w |= !strcmp(st->first, writes[i]);
    for (size_t i = 0; w && i + 13 <= st->len; i++) {
        if (i + 6 <= st->len && !c_strncasecmp(st->text + i, "SELECT", 6))
            return 0; /* read from, not written */
        if (!c_strncasecmp(st->text + i, "sqlite_schema", 13) ||
            !c_strncasecmp(st->text + i, "sqlite_master", 13)) {
            *(int *)ud = st->line;
            return 1;
        }
    }
    return 0;
}

static strata_code sq_exec_script(drv *d, const char *sql, const char *file, int line, strata_error *err)
{
    sq *s = (sq *)d;
    /* outside a transaction: a no-transaction section, which may switch the
       file to WAL (not possible with the wal-index in heap memory, as
       exclusive locking would put it) or run for long; the rest of the run
       locks per transaction */
    if (s->want_excl && sqlite3_get_autocommit(s->db))
        release_excl(s);
    strata_code rc = run_sql(s, sql, file, line, 0, err);
    if (!rc && c_strcasestr(sql, "writable_schema")) {
        /* a script that wrote sqlite_schema itself (sqlite3's .dump of a
           virtual table: PRAGMA writable_schema = ON, INSERT INTO
           sqlite_schema): this connection reads its schema again, as a
           new one would -- a later migration of the same run must see the
           table, as it does when run alone */
        char *msg = NULL;
        if (sqlite3_exec(s->db, "PRAGMA writable_schema = RESET; SELECT count(*) FROM sqlite_schema", NULL,
                         NULL, &msg) != SQLITE_OK) {
            /* at the first statement that wrote the schema table */
            int at = 0;
            sql_split(sql, strlen(sql), DIALECT_SQLITE, schema_writer, &at);
            line += at > 0 ? at - 1 : 0;
            rc = err_set(err, STRATA_MIGRATION_FAILED, "%s:%d: the schema it wrote does not read back: %s",
                         file ? file : "the migration", line, msg ? msg : "?");
            err_where(err, file, line);
            err_hint(
                err,
                sqlite3_get_autocommit(s->db)
                    ? "a row it wrote into sqlite_schema is not valid SQL, and a no-transaction section "
                      "is not rolled back: restore the database from a backup"
                    : "the migration was rolled back; a row it wrote into sqlite_schema is not valid SQL");
        }
        sqlite3_free(msg);
    }
    return rc;
}

static strata_code sq_verify(drv *d, const char *sql, const char *file, int line, strata_error *err)
{
    return run_sql((sq *)d, sql, file, line, 1, err);
}

/*
 * SQLite counts every allocation in its memory statistics by default
 * (SQLITE_DEFAULT_MEMSTATUS), under a global mutex: a lock and an unlock per
 * malloc and per free, tens of thousands when it reads a large schema.
 * Nothing in strata reads those statistics. Process-wide, so only for the
 * program (strata_global_init); refused by SQLite, harmlessly, once it is
 * initialized.
 */
static void sq_global_init(void)
{
    sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0);
}

static strata_code sq_query(drv *d, const char *sql, int nparams, const char *const *params, row_fn fn,
                            void *ud, strata_error *err)
{
    sq *s = (sq *)d;
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(s->db, sql, -1, &st, NULL) != SQLITE_OK)
        return sq_fail(s, STRATA_DB_ERROR, sql, sql, NULL, 0, err);
    for (int i = 0; i < nparams; i++)
        sqlite3_bind_text(st, i + 1, params[i], -1, SQLITE_STATIC);
    int rc, n = sqlite3_column_count(st);
    char *vals[16];
    if (n > 16)
        n = 16;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        if (!fn)
            continue;
        for (int i = 0; i < n; i++)
            vals[i] = (char *)sqlite3_column_text(st, i);
        if (fn(ud, n, vals))
            break;
    }
    if (rc != SQLITE_ROW && rc != SQLITE_DONE) {
        strata_code c = sq_fail(s, STRATA_DB_ERROR, sql, sql, NULL, 0, err);
        sqlite3_finalize(st);
        return c;
    }
    sqlite3_finalize(st);
    return STRATA_OK;
}

static int int_of(sqlite3 *db, const char *sql)
{
    long n = count_of(db, sql, NULL);
    return n < 0 || n > 3 ? -1 : (int)n;
}

/* 1 when the connection's journal mode is a rollback journal on disk
   (delete, truncate, persist); 0 for wal, memory, off, or on error. */
static int rollback_journal(sq *s)
{
    char mode[16] = "";
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(s->db, "PRAGMA journal_mode", -1, &st, NULL) == SQLITE_OK &&
        sqlite3_step(st) == SQLITE_ROW && sqlite3_column_text(st, 0))
        snprintf(mode, sizeof(mode), "%s", (const char *)sqlite3_column_text(st, 0));
    sqlite3_finalize(st);
    return strcmp(mode, "delete") == 0 || strcmp(mode, "truncate") == 0 || strcmp(mode, "persist") == 0;
}

/*
 * The fsyncs of each commit. In a rollback-journal mode (delete, truncate,
 * persist) SQLite's default synchronous=FULL syncs the journal twice: once
 * for its pages, then again after writing the page count into its header.
 * NORMAL writes the header first and syncs once: the journal's per-page
 * checksums stand in for the ordering (a torn journal is not played back),
 * and the database file is still synced before the journal is deleted, so
 * every COMMIT is on disk when it returns. That is one fsync in four per
 * migration (journal, directory, journal, database), and what other
 * migration tools' SQLite drivers run with. In WAL mode NORMAL would not
 * sync at each commit, so there the level stays as opened. Checked before
 * each transaction: a no-transaction migration may switch the file to WAL.
 */
static void commit_sync_level(sq *s)
{
    if (s->sync0 < 0)
        s->sync0 = int_of(s->db, "PRAGMA synchronous");
    if (s->sync0 != 2) /* FULL (the default); leave OFF, NORMAL and EXTRA alone */
        return;
    int want = rollback_journal(s) ? 1 : 2;
    if (want != s->synced &&
        sqlite3_exec(s->db, want == 1 ? "PRAGMA synchronous = NORMAL" : "PRAGMA synchronous = FULL", NULL,
                     NULL, NULL) == SQLITE_OK)
        s->synced = want;
}

/*
 * The lock of a run (up, down, stamp, accept, adopt, reset). In a
 * rollback-journal mode the connection switches to locking_mode=EXCLUSIVE
 * inside its first write transaction (sq_begin, holding the write lock: set
 * before, it would keep the shared lock of the run's first read, and two
 * processes each keeping one while waiting for the other's write lock would
 * deadlock). From its first commit it keeps the write lock until sq_unlock,
 * and SQLite keeps the journal file open between transactions instead of
 * creating, syncing the directory for and deleting it at every commit; a
 * commit then invalidates the journal by zeroing its header and syncing it.
 * Each migration still commits on its own, durably (one journal sync, one
 * database sync, one sync of the zeroed header: no more than the three of
 * delete mode, and the commit point itself is synced). The cost: readers of
 * the file wait for the end of the run, as they do for --single-transaction.
 * So it starts only with the run's SQ_EXCL_AFTER+1st transaction: a run that
 * long is a new or far-behind database (a setup, CI, tests), where the
 * journal's per-commit cost adds up, while the few migrations of a deploy
 * lock per migration as before and the application's readers wait only for
 * each commit. WAL mode is left alone (readers never wait there).
 */
#define SQ_EXCL_AFTER 16

static strata_code sq_lock(drv *d, const char *key, double timeout, strata_error *err)
{
    sq *s = (sq *)d;
    (void)key, (void)timeout;
    /* The file must still be the one at the path: a run that created it and
       failed removes it when it holds nothing (sq_discard_if_new), and
       SQLite then refuses every write here with "disk I/O error". Said as
       what it is, before anything runs. */
    if (file_moved(s, err))
        return STRATA_DB_ERROR;
    s->want_excl = 1;
    s->run_tx = 0;
    return STRATA_OK;
}

/* Back to normal locking: the lock is released (and the journal file
   deleted) at the next access of the file, the read here. */
static void release_excl(sq *s)
{
    s->want_excl = 0;
    if (!s->excl)
        return;
    s->excl = 0;
    if (!sqlite3_get_autocommit(s->db))
        sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
    sqlite3_exec(s->db, "PRAGMA locking_mode = NORMAL", NULL, NULL, NULL);
    sqlite3_exec(s->db, "SELECT count(*) FROM sqlite_master", NULL, NULL, NULL);
}

static void sq_unlock(drv *d, const char *key)
{
    (void)key;
    release_excl((sq *)d);
}

/* Between migrations, and after a no-transaction section before its
   record: a connection setting of the migration's own that would refuse
   strata's writes is set back (PRAGMA query_only; foreign_keys is set back
   by sq_begin) */
static void sq_session_reset(drv *d)
{
    sqlite3_exec(((sq *)d)->db, "PRAGMA query_only = 0", NULL, NULL, NULL);
}

static int sq_in_tx(drv *d)
{
    return !sqlite3_get_autocommit(((sq *)d)->db);
}

static strata_code sq_begin(drv *d, double timeout, strata_error *err)
{
    sq *s = (sq *)d;
    commit_sync_level(s);
    /* Every transaction starts with foreign keys off (SQLite's default), as
       docs/diff.md promises for the table rebuild: a no-transaction section
       that turned them on for this connection must not make a later
       migration's DROP TABLE cascade to child rows. Outside a transaction
       only: SQLite ignores the PRAGMA inside one. */
    if (sqlite3_get_autocommit(s->db))
        sqlite3_exec(s->db, "PRAGMA foreign_keys = OFF", NULL, NULL, NULL);
    int rc = sqlite3_exec(s->db, "BEGIN IMMEDIATE", NULL, NULL, NULL);
    if (rc == SQLITE_OK) {
        if (s->want_excl && !s->excl && ++s->run_tx > SQ_EXCL_AFTER && rollback_journal(s) &&
            sqlite3_exec(s->db, "PRAGMA locking_mode = EXCLUSIVE", NULL, NULL, NULL) == SQLITE_OK)
            s->excl = 1;
        return STRATA_OK;
    }
    if ((rc & 0xff) == SQLITE_BUSY || (rc & 0xff) == SQLITE_LOCKED) {
        if (intr_requested())
            return intr_error(err, "while waiting for the write lock");
        err_set(err, STRATA_LOCK_TIMEOUT, "timed out after %gs waiting for the write lock on '%s'", timeout,
                s->path);
        err_hint(err, "another process is writing to the database; raise --lock-timeout to wait longer");
        return STRATA_LOCK_TIMEOUT;
    }
    return sq_fail(s, STRATA_DB_ERROR, "", "", NULL, 0, err);
}

/* Another connection's commit moves data_version, one of this connection's
   the total of its changed rows (DML) or the schema cookie (DDL). */
static int sq_changes(drv *d, uint64_t mark[3])
{
    sq *s = (sq *)d;
    long dv = count_of(s->db, "PRAGMA data_version", NULL),
         sv = count_of(s->db, "PRAGMA schema_version", NULL);
    if (dv < 0 || sv < 0)
        return -1;
    mark[0] = (uint64_t)dv;
    mark[1] = (uint64_t)sv;
    mark[2] = (uint64_t)sqlite3_total_changes64(s->db);
    return 0;
}

static int one_row(void *ud, int n, char **v)
{
    (void)n, (void)v;
    *(int *)ud = 1;
    return 1;
}

/* sqlite3_table_column_metadata exists when the library was built with
   SQLITE_ENABLE_COLUMN_METADATA (as Debian's, Fedora's and Homebrew's are). */
typedef int (*table_meta_fn)(sqlite3 *, const char *, const char *, const char *, char const **,
                             char const **, int *, int *, int *);
static table_meta_fn table_meta;
static pthread_once_t table_meta_once = PTHREAD_ONCE_INIT;

static void table_meta_find(void)
{
    *(void **)&table_meta = dlsym(RTLD_DEFAULT, "sqlite3_table_column_metadata");
}

/* Whether path's -wal and -shm files both exist and this user may write them. */
static int wal_files_writable(const char *path)
{
    char p[4200]; /* as sq_wal_size names the -wal file */
    snprintf(p, sizeof(p), "%s-wal", path);
    if (access(p, W_OK) != 0)
        return 0;
    snprintf(p, sizeof(p), "%s-shm", path);
    return access(p, W_OK) == 0;
}

/* sq_may_write for the file path (symbolic links resolved: SQLite writes
   the journal beside the file a link names), shown by its URL's path. */
static strata_code may_write_file(const char *path, const char *shown, strata_error *err)
{
    if (access(path, F_OK) != 0) {
        if (sq_dir_writable(path))
            return STRATA_OK;
        err_set(err, STRATA_CONNECT_FAILED,
                "cannot create SQLite database '%s': its directory is not writable by this user", shown);
        err_hint(err, "check that the directory exists and is writable");
        return STRATA_CONNECT_FAILED;
    }
    /* WAL mode from the file's header (write and read versions 2 at bytes
       18-19): a connection opened immutable=1 reports its own mode */
    int wal = 0;
    unsigned char hdr[20];
    FILE *f = fopen(path, "rb");
    if (f) {
        wal = fread(hdr, 1, sizeof(hdr), f) == sizeof(hdr) && hdr[18] == 2 && hdr[19] == 2;
        fclose(f);
    }
    int file = access(path, W_OK) == 0, dir = sq_dir_writable(path);
    if (file && (dir || (wal && wal_files_writable(path))))
        return STRATA_OK;
    /* as the real run meets it: in WAL mode its read-write open fails
       (CONNECT_FAILED), else its first write (DB_ERROR) */
    strata_code code = wal && !dir ? STRATA_CONNECT_FAILED : STRATA_DB_ERROR;
    err_set(err, code, "cannot write SQLite database '%s': %s not writable by this user", shown,
            !file ? "the file is"
            : wal ? "its directory (for the -wal and -shm files) or those files are"
                  : "its directory (for the journal) is");
    err_hint(err, "run as a user who may write the database file and its directory");
    return code;
}

/* A writing run needs: a URL without ?mode=ro; when the file is missing,
   a directory to create it in; else the file writable, and its directory
   for the journal (or, in WAL mode, -wal and -shm files already there and
   writable). Asked with access(), as the real run's open would meet it. */
static strata_code sq_may_write(drv *d, const char *qtable, int create, strata_error *err)
{
    sq *s = (sq *)d;
    (void)qtable;
    (void)create; /* the version table needs nothing more than any write */
    if (s->url_ro) {
        err_set(err, STRATA_DB_ERROR, "cannot write SQLite database '%s': the URL opens it read-only",
                s->path);
        err_hint(err, "the URL opens the database read-only (?mode=ro); use a URL without it to write");
        return STRATA_DB_ERROR;
    }
    /* in memory, or a "file:" URI that SQLite reads itself: nothing to ask */
    if (!strcmp(s->path, ":memory:") || !strncmp(s->path, "file:", 5))
        return STRATA_OK;
    char *real = realpath(s->path, NULL);
    strata_code rc = may_write_file(real ? real : s->path, s->path, err);
    free(real);
    return rc;
}

static strata_code sq_table_exists(drv *d, const char *table, int *exists, strata_error *err)
{
    *exists = 0;
    /* --table main.x: the file's own schema, as the name "main"."x" that
       the statements use; any other (temp: gone when the connection
       closes, and up would apply everything again) is refused */
    const char *dot = strchr(table, '.');
    if (dot) {
        if (dot - table != 4 || c_strncasecmp(table, "main", 4)) {
            err_set(err, STRATA_USAGE,
                    "--table '%s': on SQLite the version table is in the database file itself", table);
            err_hint(err, "name it without a schema, or as main.%s", dot + 1);
            return STRATA_USAGE;
        }
        table = dot + 1;
    }
    const char *p[1] = {table};
    /* from the schema SQLite has in memory: the query below scans
       sqlite_master, a millisecond with thousands of tables. That schema
       may be stale (another connection created or dropped the table since
       it was read): a statement's start checks the schema cookie and
       reads the schema again when it moved. */
    sqlite3_exec(((sq *)d)->db, "SELECT 1 FROM sqlite_master LIMIT 0", NULL, NULL, NULL);
    pthread_once(&table_meta_once, table_meta_find);
    int rc = table_meta ? table_meta(((sq *)d)->db, "main", table, NULL, NULL, NULL, NULL, NULL, NULL)
                        : SQLITE_MISUSE;
    if (rc == SQLITE_OK || rc == SQLITE_ERROR) { /* ERROR: no such table (or a view) */
        *exists = rc == SQLITE_OK;
        return STRATA_OK;
    }
    return sq_query(d, "SELECT 1 FROM sqlite_master WHERE type='table' AND name=$1", 1, p, one_row, exists,
                    err);
}

const drv_ops drv_sqlite_ops = {
    .engine = "sqlite",
    .dialect = DIALECT_SQLITE,
    .session_lock = 0,
    .global_init = sq_global_init,
    .open = sq_open,
    .close = sq_close,
    .exec_script = sq_exec_script,
    .verify = sq_verify,
    .query = sq_query,
    .lock = sq_lock,
    .unlock = sq_unlock,
    .begin = sq_begin,
    .in_tx = sq_in_tx,
    .session_reset = sq_session_reset,
    .table_exists = sq_table_exists,
    .changes = sq_changes,
    .schema_dump = schema_dump_sqlite,
    .discard_if_new = sq_discard_if_new,
    .reset_list = sq_reset_list,
    .reset_drop = sq_reset_drop,
    .db_create_or_drop = sq_db_create_or_drop,
    .wait = sq_wait,
    .check_local = sq_check_local,
    .backup = sq_backup,
    .restore = sq_restore,
    .scratch_create = sq_scratch_create,
    .scratch_drop = sq_scratch_drop,
    .gen_read = sq_gen_read,
    .gen_plan = sq_gen_plan,
    .may_write = sq_may_write,
};
