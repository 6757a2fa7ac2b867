/* cmd_new.c -- strata new NAME (alias: revision -m NAME, as Alembic's) */
#include "cli.h"

#include <stdlib.h>

static const char *opt_message;

static int run(cli *c)
{
    strata_error err = {0};
    char *path = NULL;
    if (!c->nargs == !opt_message) {
        snprintf(err.message, sizeof(err.message), "%s",
                 c->nargs ? "give the name once: NAME or -m NAME, not both"
                          : "new needs the migration's name");
        snprintf(err.hint, sizeof(err.hint), "strata new add_users (or: strata new -m \"add users\")");
        err.code = STRATA_USAGE;
        return out_error(c, &err);
    }
    if (strata_new_migration(cli_dir(c), c->nargs ? c->args[0] : opt_message, c->timestamp, &path, &err))
        return out_error(c, &err);
    if (c->json) {
        jw w;
        jw_init(&w, stdout);
        jw_obj(&w);
        jw_kstr(&w, "path", path);
        jw_obj_end(&w);
        jw_end(&w);
    } else {
        printf("%s\n", path);
    }
    free(path);
    return 0;
}

static const cmdopt options[] = {
    {"--message", "-m", CMDOPT_STR, &opt_message, "NAME",
     "the name, given as an option (Alembic's revision -m)"},
    {"--timestamp", NULL, CMDOPT_FLAG, &cli_state.timestamp, NULL,
     "version the file with the UTC time (20261123120000), not the next number"},
    {NULL, NULL, 0, NULL, NULL, NULL},
};

const command cmd_new = {
    .name = "new",
    .alias = "revision",
    .run = run,
    .max_args = 1,
    .summary = "write the next migration file",
    .usage = "usage: strata new [--timestamp] NAME     (or: strata revision -m NAME)\n"
             "\n"
             "Writes DIR/<version>_<name>.sql from the template and prints its path.\n"
             "The version is the next 4-digit number (0001, 0002, ...), or a UTC\n"
             "timestamp (20261123120000) with --timestamp or when the directory\n"
             "already uses timestamps. NAME is turned into a lowercase slug: ASCII\n"
             "letters and digits stay, Latin letters with accents become ASCII\n"
             "(\"Add Ünïcode name\" -> add_unicode_name, ß -> ss), letters of other\n"
             "scripts stay as written (UTF-8), anything else becomes one '_'.\n"
             "The directory is created when missing.\n",
    .options = options,
};
