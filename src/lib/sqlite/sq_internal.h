/*
 * sqlite/sq_internal.h -- helpers shared by the SQLite engine's files (the
 * driver, backup and restore); nothing outside src/lib/sqlite includes it.
 */
#ifndef STRATA_SQ_INTERNAL_H
#define STRATA_SQ_INTERNAL_H

#include "strata.h"

#include <sqlite3.h>

/* Opens name with flags into *db (closing what *db held), the busy timeout
   set, and reads the schema once; SQLITE_OK or an extended code (*db then
   still open, for its message). */
int sq_open_read_probe(sqlite3 **db, const char *name, int flags, double timeout_s);
/* "file:" URI of path with param ("immutable=1"), for SQLITE_OPEN_URI;
   malloc'd, NULL when out of memory. */
char *sq_file_uri(const char *path, const char *param);
/* CONNECT_FAILED: a WAL database in a directory this user cannot write,
   whose -wal file holds changes that cannot be read without a -shm. */
strata_code sq_err_wal_pending(strata_error *err, const char *path);
/* Size of path's -wal file; -1 when there is none. */
long long sq_wal_size(const char *path);
/* FILE_NOT_REGULAR when path exists and is not a regular file (a FIFO would
   block the open, a device such as /dev/null reads as an empty database and
   drop would remove it); STRATA_OK otherwise, also for ":memory:". */
strata_code sq_regular(const char *path, strata_error *err);
/* The directory of path ("." for a bare name), malloc'd; NULL when out of
   memory. */
char *sq_dir_of(const char *path);
/* Whether this user may create files (-wal, -shm, -journal) next to path. */
int sq_dir_writable(const char *path);
/* CONNECT_FAILED: path does not exist, and the URL's ?mode=rw never
   creates it. */
strata_code sq_err_nocreate(strata_error *err, const char *path);
/* sqlite3_busy_timeout(db, ms), but a wait that strata_interrupt ends too
   (SQLite's own busy loop does not look at sqlite3_interrupt). */
void sq_busy_timeout(sqlite3 *db, double ms);

#endif
