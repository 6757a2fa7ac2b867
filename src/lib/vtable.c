/*
 * vtable.c -- the version table's SQL, written once (see vtable.h).
 */
#include "vtable.h"

#include <string.h>

void vt_create(buf *b, int dialect, const char *qtable)
{
    int pg = dialect == DIALECT_POSTGRES;
    buf_adds(b, "CREATE TABLE IF NOT EXISTS ");
    buf_adds(b, qtable);
    buf_adds(b, " (version text PRIMARY KEY, name text NOT NULL DEFAULT '', "
                "checksum text NOT NULL DEFAULT '', ");
    buf_adds(b, pg ? "applied_at timestamptz NOT NULL DEFAULT now(), duration_ms bigint NOT NULL DEFAULT 0, "
                   : "applied_at text NOT NULL, duration_ms integer NOT NULL DEFAULT 0, ");
    buf_adds(b, "state text NOT NULL DEFAULT 'applied', error text, up_checksum text, note text)");
}

void vt_add_column(buf *b, const char *qtable, const char *column)
{
    buf_adds(b, "ALTER TABLE ");
    buf_adds(b, qtable);
    buf_addf(b, " ADD COLUMN %s text", column);
}

/* pgpool-II's query cache would answer a version-table read with what it
   read before, blind to writes made around it (over a direct connection):
   its comment keeps these reads out of the cache (a comment elsewhere) */
#define NO_QUERY_CACHE "/*NO QUERY CACHE*/ "

void vt_select(buf *b, int dialect, const char *qtable, int with_up_checksum, int full)
{
    if (dialect == DIALECT_POSTGRES)
        buf_adds(b, NO_QUERY_CACHE);
    buf_adds(b, "SELECT version, name, checksum, ");
    if (full) {
        buf_adds(b, dialect == DIALECT_POSTGRES
                        ? "to_char(applied_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"')"
                        : "applied_at");
        buf_adds(b, ", duration_ms, ");
    }
    buf_adds(b, "state, error");
    if (with_up_checksum)
        buf_adds(b, full ? ", up_checksum, note" : ", up_checksum");
    buf_adds(b, " FROM ");
    buf_adds(b, qtable);
}

void vt_probe_columns(buf *b, const char *qtable, const char *columns)
{
    buf_addf(b, "SELECT %s FROM ", columns);
    buf_adds(b, qtable);
    buf_adds(b, " WHERE 1 = 0");
}

/* Value i: a placeholder $n, or a literal (digits stay a number). */
static void value(buf *b, const char *const *vals, int i, int n)
{
    if (!vals) {
        buf_addf(b, "$%d", n);
    } else if (!vals[i]) {
        buf_adds(b, "NULL");
    } else {
        size_t k = 0;
        while (vals[i][k] >= '0' && vals[i][k] <= '9')
            k++;
        if (k && !vals[i][k] && i == VT_DURATION_MS)
            buf_adds(b, vals[i]);
        else
            buf_add_sqlstr(b, vals[i]);
    }
}

/* The record's columns in VT_* order. */
static const char *const columns[VT_NVALS] = {"version", "name",  "checksum",   "duration_ms",
                                              "state",   "error", "up_checksum"};

void vt_insert(buf *b, int dialect, const char *qtable, const char *const *vals)
{
    /* literals: a NULL value's column is left out (its default is NULL) */
    const char *now = dialect == DIALECT_POSTGRES ? "now()" : "strftime('%Y-%m-%dT%H:%M:%SZ', 'now')";
    buf_adds(b, "INSERT INTO ");
    buf_adds(b, qtable);
    for (int pass = 0; pass < 2; pass++) {
        buf_adds(b, pass ? ") VALUES (" : " (");
        for (int i = 0, first = 1; i < VT_NVALS; i++) {
            if (i == VT_DURATION_MS) {
                buf_adds(b, first ? "" : ", ");
                buf_adds(b, pass ? now : "applied_at");
            }
            if (vals && !vals[i])
                continue;
            buf_adds(b, first && i != VT_DURATION_MS ? "" : ", ");
            first = 0;
            if (pass)
                value(b, vals, i, i + 1);
            else
                buf_adds(b, columns[i]);
        }
    }
    buf_adds(b, ")");
}

void vt_delete(buf *b, const char *qtable, const char *const *vals)
{
    buf_adds(b, "DELETE FROM ");
    buf_adds(b, qtable);
    buf_adds(b, " WHERE version = ");
    value(b, vals, 0, 1);
}

void vt_state(buf *b, const char *qtable)
{
    /* the state, and the error that may be the mark of a section under way */
    buf_adds(b, NO_QUERY_CACHE "SELECT state, error FROM ");
    buf_adds(b, qtable);
    buf_adds(b, " WHERE version = $1");
}

void vt_accept(buf *b, const char *qtable)
{
    buf_adds(b, "UPDATE ");
    buf_adds(b, qtable);
    buf_adds(b, " SET checksum = $1, up_checksum = $2, note = $3 WHERE version = $4");
}
