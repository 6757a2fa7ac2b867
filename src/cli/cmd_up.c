/* cmd_up.c -- strata up [TARGET] */
#include "cli.h"

int run_migrate(cli *c, int down);

static int run(cli *c)
{
    return run_migrate(c, 0);
}

static const cmdopt options[] = {
    {"--dry-run", NULL, CMDOPT_FLAG, &cli_state.dry_run, NULL,
     "connect read-only, print the SQL that would run; fail as the run would (no CREATE, read-only)"},
    {"--single-transaction", NULL, CMDOPT_FLAG, &cli_state.single_tx, NULL,
     "run all selected migrations in one transaction"},
    {"--ignore-checksums", NULL, CMDOPT_FLAG, &cli_state.ignore_checksums, NULL,
     "run although applied files were modified"},
    {"--ignore-missing", NULL, CMDOPT_FLAG, &cli_state.ignore_missing, NULL,
     "run although applied files are missing"},
    {"--allow-out-of-order", NULL, CMDOPT_FLAG, &cli_state.allow_ooo, NULL,
     "apply older pending migrations too"},
    {"--retry-failed", NULL, CMDOPT_FLAG, &cli_state.retry_failed, NULL,
     "run a failed no-transaction migration again"},
    {NULL, NULL, 0, NULL, NULL, NULL},
};

const command cmd_up = {
    .name = "up",
    .alias = "upgrade",
    .run = run,
    .max_args = 1,
    .summary = "apply pending migrations (to head, a version, or +N)",
    .usage = "usage: strata up [TARGET] [options]     (alias: upgrade)\n"
             "\n"
             "Applies pending migrations in version order, each in its own transaction\n"
             "together with its row in the version table, under the migration lock.\n"
             "TARGET: head (default), a version (0012 or 12), an id (0012_seed_admin_user),\n"
             "or +N for the next N migrations (fewer than N pending: an error, nothing\n"
             "applied).\n"
             "\n"
             "Before running anything it stops on a modified applied migration\n"
             "(CHECKSUM_MISMATCH), an applied migration whose file is gone\n"
             "(MISSING_MIGRATION), a pending migration older than the newest applied one\n"
             "(OUT_OF_ORDER) and a no-transaction migration that failed earlier\n"
             "(FAILED_MIGRATION). Files unchanged since they were last read (same\n"
             "device, inode, size, mtime and ctime) are not read again: their checksums\n"
             "are kept in $XDG_CACHE_HOME/strata (STRATA_CACHE_DIR= turns that off).\n",
    .options = options,
};
