/* cmd_history.c -- strata history */
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
            jw_key(&w, "migrations");
            jw_arr(&w);
            for (size_t i = 0; i < st->count; i++) {
                const strata_status_entry *e = &st->entries[i];
                jw_obj(&w);
                jw_kstr(&w, "version", e->version);
                jw_kstr(&w, "name", e->name);
                jw_kstr(&w, "applied_at", e->applied_at);
                jw_kint(&w, "duration_ms", e->duration_ms);
                /* every row has its state; a failed one its error */
                jw_kstr(&w, "state", strata_state_name(e->state));
                if (e->state != STRATA_STATE_APPLIED)
                    jw_kstr(&w, "error", e->error);
                jw_obj_end(&w);
            }
            jw_arr_end(&w);
            jw_obj_end(&w);
            jw_end(&w);
        } else if (!c->quiet) {
            if (!st->count)
                printf("no migrations applied\n");
            for (size_t i = 0; i < st->count; i++)
                print_status_entry(c, &st->entries[i], st->entries[i].state != STRATA_STATE_APPLIED, -1);
        }
    }
    if (err.code)
        rc = out_error(c, &err);
    strata_status_free(st);
    strata_close(db);
    return rc;
}

const command cmd_history = {
    .name = "history",
    .run = run,
    .summary = "list applied migrations with time and duration",
    .usage = "usage: strata history\n"
             "\n"
             "Lists the applied migrations in version order with the time each was\n"
             "applied (UTC) and how long it took; a failed no-transaction run is listed\n"
             "as failed with the server's error.\n",
};
