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
            printf("{\"migrations\": [");
            for (size_t i = 0; i < st->count; i++) {
                const strata_status_entry *e = &st->entries[i];
                printf("%s{\"version\": ", i ? ", " : "");
                json_str(stdout, e->version);
                printf(", \"name\": ");
                json_str(stdout, e->name);
                printf(", \"applied_at\": ");
                json_str(stdout, e->applied_at);
                printf(", \"duration_ms\": %ld", e->duration_ms);
                if (e->state != STRATA_STATE_APPLIED) {
                    printf(", \"state\": ");
                    json_str(stdout, strata_state_name(e->state));
                    printf(", \"error\": ");
                    json_str(stdout, e->error);
                }
                printf("}");
            }
            printf("]}\n");
        } else if (!c->quiet) {
            if (!st->count)
                printf("no migrations applied\n");
            for (size_t i = 0; i < st->count; i++)
                print_status_entry(c, &st->entries[i], st->entries[i].state != STRATA_STATE_APPLIED);
        }
    }
    if (err.code)
        rc = out_error(c, &err);
    strata_status_free(st);
    strata_close(db);
    return rc;
}

const command cmd_history = {
    "history",
    NULL,
    run,
    0,
    0,
    0,
    "list applied migrations with time and duration",
    "usage: strata history\n"
    "\n"
    "Lists the applied migrations in version order with the time each was\n"
    "applied (UTC) and how long it took; a failed no-transaction run is listed\n"
    "as failed with the server's error.\n",
    NULL,
};
