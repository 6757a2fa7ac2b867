/* cmd_current.c -- strata current */
#include "cli.h"
#include <stdlib.h>

static int run(cli *c)
{
    strata *db = NULL;
    char *current = NULL;
    strata_error err = {0};
    int rc = 0;
    if (cli_open(c, 1, &db, NULL, &err) == 0 && strata_current_get(db, &current, &err) == STRATA_OK) {
        if (c->json) {
            jw w;
            jw_init(&w, stdout);
            jw_obj(&w);
            jw_kstr(&w, "current", current);
            jw_obj_end(&w);
            jw_end(&w);
        } else {
            printf("%s\n", term_str(current));
        }
    }
    if (err.code)
        rc = out_error(c, &err);
    free(current);
    strata_close(db);
    return rc;
}

const command cmd_current = {
    .name = "current",
    .run = run,
    .summary = "print the newest applied version",
    .usage = "usage: strata current\n"
             "\n"
             "Prints the newest applied version, or 'base' when nothing is applied.\n"
             "Does not read the migration directory.\n",
};
