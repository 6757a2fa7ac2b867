/*
 * dbops.c -- operations on a database as a whole (the locality rule,
 * create, drop, wait), engine-neutral: each parses the URL once (url_parse
 * finds its engine in the table of engines) and hands it to the engine's op
 * (postgres/pg_dbops.c, sqlite/sq_dbops.c).
 */
#include "ops.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

void buf_add_quoted_ident(buf *b, const char *s)
{
    buf_add(b, "\"", 1);
    for (; *s; s++) {
        if (*s == '"')
            buf_add(b, "\"", 1);
        buf_add(b, s, 1);
    }
    buf_add(b, "\"", 1);
}

strata_code strata_url_check_local(const char *url, strata_error *err)
{
    db_url u;
    strata_code rc = url_parse(url, &u, err);
    if (rc)
        return rc;
    rc = u.ops->check_local(&u, err);
    url_release(&u);
    return rc;
}

static strata_code create_or_drop(const char *url, const strata_create_opts *o, int drop, int flags,
                                  int *flag, char **name, strata_error *err)
{
    int dummy = 0;
    strata_error local;
    if (!err)
        err = &local;
    if (!flag)
        flag = &dummy;
    *flag = 0;
    if (name)
        *name = NULL;
    db_url u;
    strata_code rc = url_parse(url, &u, err);
    if (rc)
        return rc;
    rc = u.ops->db_create_or_drop(&u, o, drop, flags, flag, name, err);
    url_release(&u);
    return rc;
}

strata_code strata_db_create(const char *url, const strata_create_opts *o, int *existed, char **name,
                             strata_error *err)
{
    return create_or_drop(url, o, 0, 0, existed, name, err);
}

strata_code strata_db_drop(const char *url, int flags, int *missing, char **name, strata_error *err)
{
    return create_or_drop(url, NULL, 1, flags, missing, name, err);
}

strata_code strata_wait(const char *url, double timeout, const strata_config *cfg, int *attempts,
                        strata_error *err)
{
    int dummy;
    strata_error local;
    if (!err)
        err = &local;
    if (!attempts)
        attempts = &dummy;
    *attempts = 0;
    if (!(timeout >= 0)) /* below 0, or NaN: one try */
        timeout = 0;
    db_url u;
    strata_code rc = url_parse(url, &u, err);
    if (rc)
        return rc;
    rc = u.ops->wait(&u, timeout, cfg, attempts, err);
    url_release(&u);
    return rc;
}
