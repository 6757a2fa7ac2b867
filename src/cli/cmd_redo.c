/* cmd_redo.c -- strata redo */
#include "cli.h"

static int run(cli *c)
{
    strata *db = NULL;
    strata_migset *set = NULL;
    strata_result *res = NULL;
    strata_error err = {0};
    int rc = 0;
    if (cli_open(c, 0, &db, &set, &err) == 0) {
        strata_run_opts o = {NULL, (c->ignore_checksums ? STRATA_IGNORE_CHECKSUMS : 0) |
                                       (c->ignore_missing ? STRATA_IGNORE_MISSING : 0) |
                                       (c->allow_ooo ? STRATA_ALLOW_OUT_OF_ORDER : 0)};
        if (strata_redo(db, set, &o, &res, &err) == STRATA_OK || (c->json && res && res->count))
            print_result(c, res, 0); /* --json: the half that ran before a failure, too */
    }
    if (err.code)
        rc = out_error(c, &err);
    strata_result_free(res);
    strata_close(db);
    strata_migset_free(set);
    return rc;
}

static const cmdopt options[] = {
    {"--ignore-checksums", NULL, CMDOPT_FLAG, &cli_state.ignore_checksums, NULL,
     "go on although an applied migration's file was modified"},
    {"--ignore-missing", NULL, CMDOPT_FLAG, &cli_state.ignore_missing, NULL,
     "go on although an applied migration has no file"},
    {"--allow-out-of-order", NULL, CMDOPT_FLAG, &cli_state.allow_ooo, NULL,
     "go on although an older migration is pending"},
    {NULL, NULL, 0, NULL, NULL, NULL},
};

const command cmd_redo = {
    .name = "redo",
    .run = run,
    .summary = "revert the newest migration and apply it again",
    .usage = "usage: strata redo\n"
             "\n"
             "Reverts the newest applied migration and applies it again (handy while\n"
             "writing a migration). Each step is its own transaction; both run under one\n"
             "hold of the migration lock. Everything 'up' would refuse (a modified or\n"
             "missing file, a failed or out-of-order migration) is checked before the\n"
             "down step, so a refused redo reverts nothing.\n",
    .options = options,
};
