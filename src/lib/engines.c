/*
 * engines.c -- the table of engines. Each engine is one ops table
 * (internal.h, drv_ops) in its own driver; this table maps URL schemes to
 * it. Adding an engine: its driver files, one line here, and the Makefile's
 * wildcard picks the sources up.
 */
#include "internal.h"

#include <string.h>

static const char *const pg_schemes[] = {"postgres", "postgresql", NULL};
static const char *const sq_schemes[] = {"sqlite", "sqlite3", NULL};

static const struct {
    const char *const *schemes;
    const drv_ops *ops;
} engines[] = {
    {pg_schemes, &drv_postgres_ops},
    {sq_schemes, &drv_sqlite_ops},
};

const drv_ops *engine_by_scheme(const char *scheme)
{
    for (size_t i = 0; scheme && i < sizeof(engines) / sizeof(*engines); i++)
        for (const char *const *s = engines[i].schemes; *s; s++)
            if (!strcmp(*s, scheme))
                return engines[i].ops;
    return NULL;
}

const drv_ops *engine_by_dialect(int dialect)
{
    for (size_t i = 0; i < sizeof(engines) / sizeof(*engines); i++)
        if (engines[i].ops->dialect == dialect)
            return engines[i].ops;
    return NULL;
}

void strata_global_init(void)
{
    for (size_t i = 0; i < sizeof(engines) / sizeof(*engines); i++)
        if (engines[i].ops->global_init)
            engines[i].ops->global_init();
}
