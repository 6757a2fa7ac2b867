/* cmd_restore.c -- strata restore FILE [--force] [--no-owner] */
#include "cli.h"

#include <stdlib.h>

static int force, no_owner;

static const cmdopt options[] = {
    {"--force", NULL, CMDOPT_FLAG, &force, NULL, "also restore into a database that is not local"},
    {"--no-owner", NULL, CMDOPT_FLAG, &no_owner, NULL,
     "PostgreSQL: do not restore ownership (pg_restore --no-owner)"},
    {NULL, NULL, 0, NULL, NULL, NULL},
};

static int run(cli *c)
{
    strata_error err = {0};
    char *url = NULL;
    int rc = 0;
    int flags = (force ? STRATA_ALLOW_REMOTE : 0) | (no_owner ? STRATA_NO_OWNER : 0);
    strata_config cfg = cli_config(c, 0);
    if (cli_url(c, &url, 1, &err) == 0 && strata_restore(url, c->args[0], flags, &cfg, &err) == STRATA_OK) {
        if (c->json) {
            jw w;
            jw_init(&w, stdout);
            jw_obj(&w);
            jw_kbool(&w, "restored", 1);
            jw_kstr(&w, "file", c->args[0]);
            jw_obj_end(&w);
            jw_end(&w);
        } else if (!c->quiet) {
            printf("restored %s\n", c->args[0]);
        }
    }
    if (err.code)
        rc = out_error(c, &err);
    free(url);
    return rc;
}

const command cmd_restore = {
    .name = "restore",
    .run = run,
    .min_args = 1,
    .max_args = 1,
    .summary = "put a backup made by 'strata backup' back",
    .usage = "usage: strata restore FILE [--force] [--no-owner]\n"
             "\n"
             "Puts a backup written by 'strata backup' back into the database the URL\n"
             "names. Refuses, before connecting, a database that is not local (same\n"
             "rule as reset: a SQLite file, a Unix socket or a loopback address)\n"
             "unless --force.\n"
             "\n"
             "PostgreSQL: pg_restore --clean --if-exists --single-transaction\n"
             "--exit-on-error, without a shell, the password in its environment. Every\n"
             "object in the backup is dropped and created again with the backup's\n"
             "data, in one transaction: on any error nothing changes. Objects that are\n"
             "not in the backup (created after it) are left alone; for an exact copy\n"
             "restore into a new database (strata drop; strata create; strata restore).\n"
             "The database must exist. Ownership and privileges are restored as in the\n"
             "backup; --no-owner makes the restoring user own everything instead.\n"
             "SQLite: the online backup API replaces the whole database with the\n"
             "backup's content (the file is created if missing). A FILE that is empty,\n"
             "not a SQLite database or fails PRAGMA quick_check is refused before\n"
             "anything changes.\n",
    .options = options,
};
