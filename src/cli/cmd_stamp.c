/* cmd_stamp.c -- strata stamp TARGET */
#include "cli.h"

static int run(cli *c)
{
    strata *db = NULL;
    strata_migset *set = NULL;
    strata_status *st = NULL;
    strata_error err = {0};
    int rc = 0;
    if (cli_open(c, 0, &db, &set, &err) == 0 && strata_stamp(db, set, c->args[0], &err) == STRATA_OK &&
        strata_history_get(db, &st, &err) == STRATA_OK) {
        if (c->json) {
            jw w;
            jw_init(&w, stdout);
            jw_obj(&w);
            jw_kstr(&w, "current", st->current);
            jw_obj_end(&w);
            jw_end(&w);
        } else if (!c->quiet) {
            printf("stamped; current: %s\n", term_str(st->current));
        }
    }
    if (err.code)
        rc = out_error(c, &err);
    strata_status_free(st);
    strata_close(db);
    strata_migset_free(set);
    return rc;
}

const command cmd_stamp = {
    .name = "stamp",
    .run = run,
    .min_args = 1,
    .max_args = 1,
    .summary = "mark migrations applied without running them",
    .usage = "usage: strata stamp TARGET\n"
             "\n"
             "Makes the version table say that exactly the migrations up to TARGET\n"
             "(a version, an id, head) are applied, without running any of their SQL;\n"
             "'base' clears it. For adopting an existing database, and for marking a\n"
             "failed no-transaction migration done after fixing it by hand.\n",
};
