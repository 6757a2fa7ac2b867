/* cmd_down.c -- strata down [TARGET]; also the shared up/down runner */
#include "cli.h"

int run_migrate(cli *c, int down);

int run_migrate(cli *c, int down)
{
    strata *db = NULL;
    strata_migset *set = NULL;
    strata_result *res = NULL;
    strata_error err = {0};
    int rc = 0;
    c->down = down;
    c->use_cache = !down; /* down reads the files it reverts anyway */
    if (cli_open(c, c->dry_run, &db, &set, &err) == 0) {
        strata_run_opts o = {c->nargs ? c->args[0] : NULL, 0};
        o.flags |= c->dry_run ? STRATA_DRY_RUN : 0;
        o.flags |= c->single_tx ? STRATA_SINGLE_TRANSACTION : 0;
        o.flags |= c->ignore_checksums ? STRATA_IGNORE_CHECKSUMS : 0;
        o.flags |= c->ignore_missing ? STRATA_IGNORE_MISSING : 0;
        o.flags |= c->allow_ooo ? STRATA_ALLOW_OUT_OF_ORDER : 0;
        o.flags |= c->retry_failed ? STRATA_RETRY_FAILED : 0;
        /* --json: what ran before a failure is on stdout too (the human
           form printed it as it went) */
        if ((down ? strata_down : strata_up)(db, set, &o, &res, &err) == STRATA_OK ||
            (c->json && res && res->count))
            print_result(c, res, c->dry_run);
    }
    if (err.code)
        rc = out_error(c, &err);
    strata_result_free(res);
    strata_close(db);
    strata_migset_free(set);
    return rc;
}

static int run(cli *c)
{
    return run_migrate(c, 1);
}

static const cmdopt options[] = {
    {"--dry-run", NULL, CMDOPT_FLAG, &cli_state.dry_run, NULL,
     "connect read-only, print the SQL that would run; fail as the run would (no CREATE, read-only)"},
    {"--single-transaction", NULL, CMDOPT_FLAG, &cli_state.single_tx, NULL,
     "revert all selected migrations in one transaction"},
    {"--ignore-checksums", NULL, CMDOPT_FLAG, &cli_state.ignore_checksums, NULL,
     "revert although the files were modified"},
    {"--ignore-missing", NULL, CMDOPT_FLAG, &cli_state.ignore_missing, NULL,
     "go on although applied files are missing"},
    {"--allow-out-of-order", NULL, CMDOPT_FLAG, &cli_state.allow_ooo, NULL,
     "go on although a pending migration is older than an applied one"},
    {NULL, NULL, 0, NULL, NULL, NULL},
};

const command cmd_down = {
    .name = "down",
    .alias = "downgrade",
    .run = run,
    .max_args = 1,
    .summary = "roll back (one step, -N, to a version, or base)",
    .usage = "usage: strata down [TARGET] [options]     (alias: downgrade)\n"
             "\n"
             "Reverts applied migrations, newest first, each in its own transaction.\n"
             "TARGET: none (one step), -N (N steps; fewer than N applied: an error,\n"
             "nothing reverted), a version or id (everything after it is reverted;\n"
             "it stays applied), or base (everything).\n"
             "A migration without a down section is irreversible: down stops before\n"
             "changing anything (IRREVERSIBLE).\n",
    .options = options,
};
