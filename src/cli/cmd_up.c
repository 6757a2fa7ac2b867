/* cmd_up.c -- strata up [TARGET] */
#include "cli.h"

int run_migrate(cli *c, int down);

static int run(cli *c)
{
    return run_migrate(c, 0);
}

const command cmd_up = {
    "up",
    "upgrade",
    run,
    OPT_DRY_RUN | OPT_SINGLE_TX | OPT_IGNORE | OPT_RETRY,
    0,
    1,
    "apply pending migrations (to head, a version, or +N)",
    "usage: strata up [TARGET] [options]     (alias: upgrade)\n"
    "\n"
    "Applies pending migrations in version order, each in its own transaction\n"
    "together with its row in the version table, under the migration lock.\n"
    "TARGET: head (default), a version (0012 or 12), an id (0012_seed_admin),\n"
    "or +N for the next N migrations.\n"
    "\n"
    "Before running anything it stops on a modified applied migration\n"
    "(CHECKSUM_MISMATCH), an applied migration whose file is gone\n"
    "(MISSING_MIGRATION), a pending migration older than the newest applied one\n"
    "(OUT_OF_ORDER) and a no-transaction migration that failed earlier\n"
    "(FAILED_MIGRATION).\n"
    "\n"
    "Options:\n"
    "  --dry-run              connect read-only, print the SQL that would run\n"
    "  --single-transaction   run all selected migrations in one transaction\n"
    "  --ignore-checksums     run although applied files were modified\n"
    "  --ignore-missing       run although applied files are missing\n"
    "  --allow-out-of-order   apply older pending migrations too\n"
    "  --retry-failed         run a failed no-transaction migration again\n",
    NULL,
};
