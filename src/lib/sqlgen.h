/* sqlgen.h -- rendering of the SQL strata runs (internal). */
#ifndef STRATA_SQLGEN_H
#define STRATA_SQLGEN_H
#include "internal.h"

/* CREATE TABLE IF NOT EXISTS for the version table, no trailing ';'; qtable
   is its name as SQL (quoted, maybe schema-qualified), as in vtable.h. */
void sqlgen_create_table(buf *b, int dialect, const char *qtable);
/* One migration step as runnable SQL text, bookkeeping included, written
   as run_step writes it, with the check that stops a down step whose
   migration is not applied (see sqlgen.c). */
void sqlgen_step(buf *b, const migration *m, int dialect, const char *qtable, int down);
/* The statements of sql, one per line group, each ending in ';'. */
void sqlgen_statements(buf *b, const char *sql, int dialect);
#endif
