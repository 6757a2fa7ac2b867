/* cmd_import.c -- STAND-IN (branch adopt) for `strata import`: the real
   command comes from branch import and replaces this file when merged. */
#include "cli.h"

#include <stdlib.h>

static int force;

static const cmdopt options[] = {
    {"--force", CMDOPT_FLAG, &force},
    {NULL, 0, NULL},
};

static int run(cli *c)
{
    strata_error err = {0};
    strata_import_report *r = NULL;
    strata_import_opts o = {c->dialect, force, 0};
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
    "import", NULL, run, OPT_FROM | OPT_DIALECT, 1, 1, "write migrations from another tool's directory",
    "usage: strata import --from FORMAT SRC [--dir DIR] [--dialect D[,D]] [--force]\n"
    "\n"
    "Writes a strata migration directory from another tool's (docs/adopting.md).\n",
    options,
};
