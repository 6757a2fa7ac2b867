/*
 * ops.h -- what the operations on a database as a whole (dbops.c, reset.c,
 * backup.c) share; internal.
 */
#ifndef STRATA_OPS_H
#define STRATA_OPS_H

#include "internal.h"
#include "pqload.h"

/*
 * Connects to the PostgreSQL database of u, to database dbname instead of
 * the URL's when dbname is not NULL. Each address of each host gets the
 * URL's connect_timeout (else PGCONNECT_TIMEOUT, else 10 s), as libpq's
 * blocking connect gives it, and the attempt ends with the last one's, or
 * at cap (a clock_ms() value; 0 = none) when that comes first. On failure:
 * CONNECT_FAILED with the server's message (password scrubbed) and a hint;
 * *retry (may be NULL) is set to 1 when the server did not answer or was not
 * ready (worth trying again), 0 when it answered and refused (credentials,
 * database, pg_hba.conf) or the options are invalid.
 */
strata_code pg_connect_url(const db_url *u, const char *dbname, double cap, PGconn **out, int *retry,
                           strata_error *err);
/* Another connection with like's options to the very address like is
   connected to (its host, hostaddr and port): a second session beside it
   (the lease's heartbeat) that a silent address earlier in a host list, or
   among a name's addresses, cannot hold up. Without like: pg_connect_url. */
strata_code pg_connect_beside(const db_url *u, PGconn *like, double cap, PGconn **out, strata_error *err);
/* 1 when a connection failure (its message, and its SQLSTATE or the codes
   of its refusals: the server's words are in its language) says the server,
   the role or the database has no session to spare (max_connections,
   CONNECTION LIMIT; PgBouncer's max_client_conn). */
int pg_conn_full(const char *msg, const char *codes);
/* The longest version table name (its last part, in bytes) on PostgreSQL:
   63, less the "_lock" of its lock table beside it. pg_table_too_long sets
   the USAGE error for --table `table` whose table part (table_part 1) or
   schema part (0, over 63) is longer. */
#define PG_TABLE_MAX 58
strata_code pg_table_too_long(const char *table, int table_part, strata_error *err);
/* --table `table` as every PostgreSQL command takes it (TABLE or
   SCHEMA.TABLE, parts in double quotes may hold dots, within the lengths
   above): USAGE, saying what is wrong, when it is not; *dots: 1 with a
   schema part. No connection needed. */
strata_code pg_table_check(const char *table, int *dots, strata_error *err);
/* The migration lock of version table `table` (what up takes directly: a
   session advisory lock) tried once on c, for a command that holds its own
   session (copy writes the version table): *got 1 when held, until c's
   session ends; 0 when another process holds it, directly or as a live
   lease behind a pooler. */
strata_code pg_migration_try_lock(PGconn *c, const char *table, int *got, strata_error *err);
/* Every connection pg_connect_url opens is tracked by interrupt.c
   (strata_interrupt cancels what it runs): pg_finish closes one and
   untracks it; pg_track tracks c again after a PQreset (a new backend). */
void pg_finish(PGconn *c);
void pg_track(PGconn *c);

/*
 * Opens the existing SQLite file path for reading (the SQLite driver's
 * read-only commands, copy's source): SQLITE_OPEN_READONLY, the busy
 * timeout, the schema read once, query_only on. A hot journal left by a
 * killed writer is rolled back through a read-write open when may_write and
 * the file is writable; a WAL database in a directory this user cannot write
 * (no -shm) is opened immutable when its -wal file is empty or gone. On
 * failure *db is NULL and err CONNECT_FAILED with a hint.
 */
struct sqlite3;
strata_code sqlite_open_read(const char *path, int may_write, double timeout_s, struct sqlite3 **db,
                             strata_error *err);

/*
 * The one formatter of a server error: err gets code and "PREFIX" +
 * primary + " (detail)" + "; context" (with_context) + " [SQLSTATE x]",
 * the SQLSTATE and the server's hint, else strata's for what it knows (a
 * read-only session or standby: PG_READONLY_HINT). r may be NULL (then
 * libpq's message). Returns code.
 */
#define PG_READONLY_HINT                                                                                   \
    "the session is read-only: default_transaction_read_only is on for this role or database (ALTER ROLE " \
    "... SET) or by a SET of the migration itself, or the server is a standby; write through the primary " \
    "as a role that may write"

strata_code pg_error_set(strata_error *err, strata_code code, PGconn *c, const PGresult *r,
                         const char *prefix, int with_context);

/*
 * Runs sql with text parameters on c; on error fills err with code, the
 * server's message, detail, hint and SQLSTATE (password scrubbed against
 * url). *res (may be NULL) receives the result, which the caller clears.
 */
strata_code pg_run(PGconn *c, const char *url, strata_code code, const char *sql, int n,
                   const char *const *params, PGresult **res, strata_error *err);

/* 1 when a connection pooler (PgBouncer, pgcat, Odyssey) stands between c
   and the server: a pooler answers the startup itself and hands out a
   process id of its own making, so the server's pg_backend_pid() differs.
   0 when connected directly (or when the query fails). */
int pg_is_pooled(PGconn *c);
/* 1 when that pooler runs in statement mode, where no transaction can run
   (PgBouncer refuses a BEGIN and closes the connection: c is then dead).
   Asked with BEGIN and ROLLBACK; changes nothing. */
int pg_statement_pooled(PGconn *c);
/* Sets POOLER_UNSUPPORTED for a statement-mode pool, message after prefix
   (may be NULL), with the hint; returns the code. */
strata_code pg_statement_pool_error(strata_error *err, const char *prefix);

/* The session settings that shape how the server prints values and
   expressions (pg_get_expr, pg_get_constraintdef, ...), fixed so that
   schema, diff and check print the same text whatever a role or database
   sets: ISO dates, UTC, hex bytea -- and, for schema's text only
   (PG_PIN_STRINGS), standard strings: diff's SQL runs on sessions with the
   role's own standard_conforming_strings, so it is written in that form. */
#define PG_PIN_SETTINGS                                                                                    \
    "SET LOCAL DateStyle = 'ISO, YMD'; SET LOCAL IntervalStyle = 'postgres'; SET LOCAL TimeZone = 'UTC'; " \
    "SET LOCAL bytea_output = 'hex'; SET LOCAL extra_float_digits = 1"
enum { PG_PIN_WRITE = 1, PG_PIN_STRINGS = 2 };
/* Opens a transaction with PG_PIN_SETTINGS on d (READ COMMITTED; READ ONLY
   unless flags has PG_PIN_WRITE and the handle may write): 1 when it did, 0
   when d was in a transaction already (its settings stand), -1 with err
   set on failure. pg_pin_end(d, that value) rolls back what pg_pin_begin
   opened. */
int pg_pin_begin(drv *d, int flags, strata_error *err);
void pg_pin_end(drv *d, int began);

/* The major version of a server_version_num, comparable across the change
   of numbering in 10: 1500 for 150004, 906 for 90624. */
int pg_major(int server_version_num);
/* A major version as people write it: "15", "9.6". */
void pg_major_str(int major, char out[16]);

/* ---- backup.c: file helpers the engines' backup ops share */
/* The default backup name: NAME-20261123T100000Z.EXT in the working directory. */
char *backup_default_name(const char *name, const char *ext);
/* A temporary file (mode 0600) next to path; its fd, or -1 with err set. */
int backup_temp_next_to(const char *path, char **tmp, strata_error *err);
/* Links tmp to path (never overwriting) and removes tmp. */
strata_code backup_publish(const char *tmp, const char *path, strata_error *err);
/* FILE_EXISTS when path exists. */
strata_code backup_refuse_existing(const char *path, strata_error *err);
/* The first 16 bytes of path. */
strata_code backup_read_magic(const char *path, char magic[16], strata_error *err);

#endif
