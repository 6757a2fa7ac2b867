/* cmd_drop.c -- strata drop [--force] */
#include "cli.h"

#include <stdlib.h>
#include <string.h>

static int force;

static const cmdopt options[] = {
    {"--force", NULL, CMDOPT_FLAG, &force, NULL,
     "PostgreSQL 13+: terminate the other sessions first\n"
     "(DROP DATABASE ... WITH (FORCE))"},
    {NULL, NULL, 0, NULL, NULL, NULL},
};

static int run(cli *c)
{
    strata_error err = {0};
    char *url = NULL, *name = NULL;
    int missing = 0, rc = 0;
    if (cli_url(c, &url, 1, &err) == 0 &&
        strata_db_drop(url, force ? STRATA_DROP_FORCE : 0, &missing, &name, &err) == STRATA_OK)
        print_db_change(c, url, name, "dropped", !missing, "does not exist; nothing to drop");
    if (err.code)
        rc = out_error(c, &err);
    free(name);
    free(url);
    return rc;
}

const command cmd_drop = {
    .name = "drop",
    .run = run,
    .summary = "drop the database named by the URL",
    .usage = "usage: strata drop [--force]\n"
             "\n"
             "Drops the database the URL names, with all its data. A database that does\n"
             "not exist is not an error: the command says so and exits 0 (like\n"
             "dropdb --if-exists).\n"
             "\n"
             "PostgreSQL: runs DROP DATABASE from the maintenance database of the same\n"
             "server ('postgres', else 'template1'). While other sessions are connected\n"
             "it fails with DATABASE_IN_USE and lists them (pid, user, application,\n"
             "client address).\n"
             "SQLite: removes the file and its -journal, -wal and -shm files; refuses a\n"
             "file that is not a SQLite database and a symbolic link (name its target).\n",
    .options = options,
};
