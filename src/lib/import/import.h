/*
 * import.h -- the readers of `strata import` (one per foreign format) and the
 * core that writes their migrations as strata files. Internal; never installed.
 *
 */
#ifndef STRATA_IMPORT_H
#define STRATA_IMPORT_H

#include "internal.h"

/* One migration of the other tool, for one dialect (NULL: all engines).
   Several entries with the same version and different dialects become the
   dialect sections of one strata file. Strings are malloc'd. */
typedef struct import_mig {
    char *version; /* the tool's own version or revision id */
    char *name;    /* slug */
    char *file;    /* original file name(s), "a.sql,b.sql" */
    char *up, *down, *verify;
    int up_notx, down_notx;
    int has_down;
    char *dialect; /* "postgres", "sqlite" or NULL */
} import_mig;

typedef struct import_set {
    import_mig *v;
    size_t n, cap;
} import_set;

/* Appends a copy of m (its strings are duplicated) in the tool's order. */
strata_code import_add(import_set *s, const import_mig *m);

typedef strata_code (*import_reader)(const char *src, const strata_import_opts *o, import_set *out,
                                     strata_error *err);

/* alembic.c: through Alembic's offline mode (docs/adopting.md) */
strata_code import_alembic(const char *src, const strata_import_opts *o, import_set *out, strata_error *err);

/* sqlfiles.c: dbmate, goose, golang-migrate */
strata_code import_dbmate(const char *src, const strata_import_opts *o, import_set *out, strata_error *err);
strata_code import_goose(const char *src, const strata_import_opts *o, import_set *out, strata_error *err);
strata_code import_golang_migrate(const char *src, const strata_import_opts *o, import_set *out,
                                  strata_error *err);

#endif
