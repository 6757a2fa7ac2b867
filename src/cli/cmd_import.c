/* cmd_import.c -- strata import --from FORMAT SRC [--dir DIR] [--dialect D[,D]]
   [--force] [--expand-env] */
#include "cli.h"

#include <stdlib.h>

static int force, expand_env;

static const cmdopt options[] = {
    {"--force", CMDOPT_FLAG, &force},
    {"--expand-env", CMDOPT_FLAG, &expand_env},
    {NULL, 0, NULL},
};

static int run(cli *c)
{
    strata_error err = {0};
    strata_import_report *r = NULL;
    strata_import_opts o = {c->dialect, force, expand_env};
    if (!c->from)
        return out_usage_error(c, "import needs --from FORMAT");
    if (strata_import(c->from, c->args[0], cli_dir(c), &o, &r, &err) != STRATA_OK)
        return out_error(c, &err);
    if (c->json) {
        printf("{\"files\": [");
        for (size_t i = 0; i < r->count; i++) {
            printf("%s", i ? ", " : "");
            json_str(stdout, r->files[i]);
        }
        printf("]}\n");
    } else if (!c->quiet) {
        for (size_t i = 0; i < r->count; i++)
            printf("%s\n", r->files[i]);
        printf("imported %zu migration%s into %s\n", r->count, r->count == 1 ? "" : "s", cli_dir(c));
    }
    strata_import_report_free(r);
    return 0;
}

const command cmd_import = {
    "import",
    NULL,
    run,
    OPT_FROM | OPT_DIALECT,
    1,
    1,
    "write migrations from another tool's directory",
    "usage: strata import --from FORMAT SRC [--dir DIR] [--dialect D[,D]] [--force]\n"
    "\n"
    "Writes a strata migration directory (--dir, default ./migrations) from\n"
    "another tool's history SRC, then loads it as 'validate' does. FORMAT:\n"
    "  dbmate          -- migrate:up / -- migrate:down [transaction:false]\n"
    "  goose           -- +goose Up / Down, StatementBegin/End, NO TRANSACTION\n"
    "                  (ENVSUB refused unless --expand-env; .go files refused)\n"
    "  golang-migrate  N_name.up.sql / N_name.down.sql (up-only: irreversible)\n"
    "  alembic         SRC is the directory of alembic.ini; Alembic's own offline\n"
    "                  mode writes the SQL, per --dialect (default postgres,sqlite)\n"
    "The SQL is carried as written; each file starts with a header naming the\n"
    "tool, its version and its file ('-- import: tool=... version=... file=...'),\n"
    "which 'strata adopt' reads. Versions are kept when they are digits in the\n"
    "tool's order, else renumbered 0001... What strata cannot express is refused\n"
    "by name (IMPORT_UNSUPPORTED, exit 2). Flyway, sqitch and pop are not done yet.\n"
    "\n"
    "Options:\n"
    "  --from FORMAT   the tool (required)\n"
    "  --dialect D,D   alembic: the engines to write sections for\n"
    "  --force         overwrite files that exist in DIR\n"
    "  --expand-env    goose ENVSUB: substitute ${VAR} from the environment now\n",
    options,
};
