/* cmd_current.c -- strata current */
#include "cli.h"

static int run(cli *c)
{
    strata *db = NULL;
    strata_status *st = NULL;
    strata_error err = {0};
    int rc = 0;
    if (cli_open(c, 1, &db, NULL, &err) == 0 && strata_history_get(db, &st, &err) == STRATA_OK) {
        if (c->json) {
            jw w;
            jw_init(&w, stdout);
            jw_obj(&w);
            jw_kstr(&w, "current", st->current);
            jw_obj_end(&w);
            jw_end(&w);
        } else {
            printf("%s\n", term_str(st->current));
        }
    }
    if (err.code)
        rc = out_error(c, &err);
    strata_status_free(st);
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
