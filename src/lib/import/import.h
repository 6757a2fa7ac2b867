/*
 * import.h -- reading other migration tools' directories (strata import).
 *
 * One reader per format (src/lib/import/<fmt>.c) turns the tool's files into
 * an import_set in the tool's own order; import.c groups, numbers and writes
 * them as strata files, then loads the result as `validate` would. Internal:
 * never installed.
 */
#ifndef STRATA_IMPORT_H
#define STRATA_IMPORT_H

#include "internal.h"

typedef struct import_mig {
    char *version; /* original, as the tool writes it */
    char *number;  /* NULL, or strata's version when the original is not
                      digits but starts with them (an Alembic revision id
                      "0011_create_purchases"): kept like a version of digits */
    char *name;
    char *file; /* original file name(s), comma separated */
    char *up, *down, *verify;
    int up_notx, down_notx;
    int has_down;  /* 0: no down section at all (irreversible) */
    char *dialect; /* NULL or "postgres"/"sqlite" for per-dialect sections */
    char *depends; /* alembic: the depends_on revisions, comma separated */
    char *project; /* sqitch: the plan's %project */
} import_mig;

/* In the tool's order. Consecutive entries with the same version (and
   different dialects) become the sections of one strata file. */
typedef struct import_set {
    import_mig *v;
    size_t n, cap;
} import_set;

/* Appends a deep copy of m (its strings may be NULL). NOMEM on failure. */
strata_code import_add(import_set *s, const import_mig *m);
void import_set_release(import_set *s);

typedef strata_code (*import_reader)(const char *src, const strata_import_opts *o, import_set *out,
                                     strata_error *err);

strata_code import_dbmate(const char *src, const strata_import_opts *o, import_set *out, strata_error *err);
strata_code import_goose(const char *src, const strata_import_opts *o, import_set *out, strata_error *err);
strata_code import_golang_migrate(const char *src, const strata_import_opts *o, import_set *out,
                                  strata_error *err);
strata_code import_flyway(const char *src, const strata_import_opts *o, import_set *out, strata_error *err);
strata_code import_sqitch(const char *src, const strata_import_opts *o, import_set *out, strata_error *err);
strata_code import_pop(const char *src, const strata_import_opts *o, import_set *out, strata_error *err);
/* alembic.c: through Alembic's own offline mode (docs/adopting.md) */
strata_code import_alembic(const char *src, const strata_import_opts *o, import_set *out, strata_error *err);

/* ---- helpers for the readers (import.c) */

/* The line of text starting at pos: its end (the '\n' or len) in *eol and
   the start of the next line as the result (len + 1 after the last). */
static inline size_t import_line(const char *text, size_t len, size_t pos, size_t *eol)
{
    size_t e = pos;
    while (e < len && text[e] != '\n')
        e++;
    *eol = e;
    return e + 1;
}

/* Sorts the migrations of a set (stable) with cmp on two entries. */
/* 0, or -1 when out of memory (then s is unchanged). */
int import_sort(import_set *s, int (*cmp)(const import_mig *, const import_mig *));

/* The regular files of dir (names only, sorted by strcmp); *names is a
   NULL-terminated malloc'd array freed with import_names_free. With
   recursive set, files of subdirectories too, as "sub/name". */
strata_code import_list(const char *dir, int recursive, char ***names, size_t *n, strata_error *err);
void import_names_free(char **names);
/* The whole file dir/name, NUL-terminated (malloc'd), a leading UTF-8 byte
   order mark left out; IO_ERROR naming it. */
strata_code import_read(const char *dir, const char *name, char **text, size_t *len, strata_error *err);
/* 1 when path exists as a regular file. */
int import_file_exists(const char *dir, const char *name);
/* 1 when sql holds a top-level BEGIN/COMMIT/ROLLBACK/START TRANSACTION/END/
   ABORT statement (the SQL manages its own transaction). */
int import_has_txn_control(const char *sql);
/* 1 when a tool that runs files as they are (golang-migrate; Flyway, which
   detects it) runs sql outside a transaction: it manages its own, or holds
   a statement that fails in one (CREATE INDEX CONCURRENTLY, VACUUM). */
int import_runs_outside_tx(const char *sql);
/* 1 when every character of s (non-empty) is a digit. */
int import_all_digits(const char *s);
/* Sets err to IMPORT_UNSUPPORTED with the message; returns the code. */
strata_code import_refuse(strata_error *err, const char *fmt, ...) ATTR_PRINTF(2, 3);

/*
 * The header line every imported file starts with:
 *   -- import: tool=<tool> version=<version> file=<file[,file]> [KEY=VALUE...]
 * (KEY: depends= for alembic, project= for sqitch, which adopt reads).
 * Values are percent-encoded: space %20, '%' %25, control characters %XX.
 * import_header_parse reads it back (line without its newline); the three
 * outputs are malloc'd and decoded (the optional keys are skipped). Returns 0, or -1 when line is no such
 * header.
 */
int import_header_parse(const char *line, size_t len, char **tool, char **version, char **file);

#endif
