/* cmd_create.c -- strata create [--locale L] [--lc-collate L] [--lc-ctype L] [--owner ROLE] */
#include "cli.h"

#include <stdlib.h>
#include <string.h>

static strata_create_opts opts;

static const cmdopt options[] = {
    {"--locale", NULL, CMDOPT_STR, &opts.locale, "L",
     "LOCALE of the new database, e.g. C.UTF-8 or en_US.UTF-8\n"
     "(default: the server's)"},
    {"--lc-collate", NULL, CMDOPT_STR, &opts.lc_collate, "L", "LC_COLLATE (sort order)"},
    {"--lc-ctype", NULL, CMDOPT_STR, &opts.lc_ctype, "L", "LC_CTYPE (character classes)"},
    {"--owner", NULL, CMDOPT_STR, &opts.owner, "ROLE",
     "owner of the new database (default: the connecting user)"},
    {NULL, NULL, 0, NULL, NULL, NULL},
};

static int run(cli *c)
{
    strata_error err = {0};
    char *url = NULL, *name = NULL;
    int existed = 0, rc = 0;
    if (cli_url(c, &url, 1, &err) == 0 && strata_db_create(url, &opts, &existed, &name, &err) == STRATA_OK)
        print_db_change(c, url, name, "created", !existed, "already exists; nothing to do");
    if (err.code)
        rc = out_error(c, &err);
    free(name);
    free(url);
    return rc;
}

const command cmd_create = {
    .name = "create",
    .run = run,
    .summary = "create the database named by the URL",
    .usage = "usage: strata create [--locale L] [--lc-collate L] [--lc-ctype L] [--owner ROLE]\n"
             "\n"
             "Creates the database the URL names. A database that already exists is\n"
             "left alone: the command says so and exits 0.\n"
             "\n"
             "PostgreSQL: connects to the maintenance database of the same server\n"
             "('postgres', else 'template1') with the URL's credentials and runs\n"
             "CREATE DATABASE \"NAME\" ENCODING 'UTF8' TEMPLATE template0. The user needs\n"
             "the CREATEDB privilege.\n"
             "SQLite: creates the file as an empty database (its directory must exist).\n"
             "The options are PostgreSQL's.\n",
    .options = options,
};
