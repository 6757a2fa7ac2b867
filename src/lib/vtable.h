/*
 * vtable.h -- the version table's SQL, written once: what the runner
 * (engine.c), `strata sql` and dry runs (sqlgen.c) and `accept` send. Each
 * function appends one statement without a trailing ';'. Where a statement
 * takes values, vals == NULL renders placeholders $1..$n (for the drivers'
 * query op) and vals != NULL renders them as SQL literals (a NULL value as
 * NULL), so the SQL that runs and the SQL that is printed cannot drift.
 * Internal.
 */
#ifndef STRATA_VTABLE_H
#define STRATA_VTABLE_H
#include "internal.h"

/* Columns of a record, in the order vt_select returns them and vt_insert
   takes them (applied_at is the server's clock, not a value). */
enum { VT_VERSION, VT_NAME, VT_CHECKSUM, VT_DURATION_MS, VT_STATE, VT_ERROR, VT_UP_CHECKSUM, VT_NVALS };

/* CREATE TABLE IF NOT EXISTS with every column. */
void vt_create(buf *b, int dialect, const char *qtable);
/* ALTER TABLE ... ADD COLUMN for a column newer than the table (text). */
void vt_add_column(buf *b, const char *qtable, const char *column);
/* SELECT version, name, checksum, applied_at (ISO-8601 UTC text),
   duration_ms, state, error[, up_checksum, note] FROM table; without full,
   what running and checking migrations need: SELECT version, name,
   checksum, state, error[, up_checksum] (the times are for status and
   history). With the newer columns it fails on a table made by an older
   strata. */
void vt_select(buf *b, int dialect, const char *qtable, int with_up_checksum, int full);
/* Probe that fails when the newer columns are missing. */
void vt_probe_columns(buf *b, const char *qtable, const char *columns);
/* INSERT of one record (VT_NVALS values), applied_at = now. */
void vt_insert(buf *b, int dialect, const char *qtable, const char *const *vals);
/* DELETE of one version ($1 or vals[0]). */
void vt_delete(buf *b, const char *qtable, const char *const *vals);
/* SELECT state, error of one version ($1) (the error may be the mark
   written before a no-transaction section runs). */
void vt_state(buf *b, const char *qtable);
/* UPDATE checksum, up_checksum, note of one version ($1..$4: checksum,
   up_checksum, note, version). */
void vt_accept(buf *b, const char *qtable);
#endif
