/* cmd_status.c -- strata status [--exit-code] */
#include "cli.h"

#include <string.h>

static int run(cli *c)
{
    strata *db = NULL;
    strata_migset *set = NULL;
    strata_status *st = NULL;
    strata_error err = {0};
    int rc = 0, pending = 0;
    c->use_cache = 1;
    c->read_times = 1; /* strata_status_get shows them */
    if (cli_open(c, 1, &db, &set, &err) == 0 && strata_status_get(db, set, &st, &err) == STRATA_OK) {
        for (size_t i = 0; i < st->count; i++)
            pending |= st->entries[i].state == STRATA_STATE_PENDING;
        if (c->json) {
            jw w;
            jw_init(&w, stdout);
            jw_obj(&w);
            jw_kstr(&w, "current", st->current);
            jw_key(&w, "migrations");
            jw_arr(&w);
            for (size_t i = 0; i < st->count; i++) {
                const strata_status_entry *e = &st->entries[i];
                jw_obj(&w);
                jw_kstr(&w, "version", e->version);
                jw_kstr(&w, "name", e->name);
                jw_kstr(&w, "state", strata_state_name(e->state));
                jw_kstr(&w, "applied_at", e->applied_at);
                if (e->error)
                    jw_kstr(&w, "error", e->error);
                int running = strata_status_running(st, i);
                if (running > 0)
                    jw_kbool(&w, "running", 1);
                else if (running < 0) { /* a mark whose run cannot be told */
                    jw_key(&w, "running");
                    jw_null(&w);
                }
                jw_obj_end(&w);
            }
            jw_arr_end(&w);
            if (st->invalid_indexes) {
                jw_key(&w, "invalid_indexes");
                jw_lines(&w, st->invalid_indexes);
            }
            if (st->other_tool) {
                jw_key(&w, "other_tool");
                jw_obj(&w);
                jw_kstr(&w, "tool", st->other_tool);
                jw_kstr(&w, "table", st->other_tool_table);
                jw_obj_end(&w);
            }
            jw_obj_end(&w);
            jw_end(&w);
        } else if (!c->quiet) {
            printf("current: %s\n", term_str(st->current));
            for (size_t i = 0; i < st->count; i++)
                print_status_entry(c, &st->entries[i], 1, strata_status_running(st, i));
        }
        if (st->invalid_indexes && !c->json && !c->quiet) {
            char *list = st->invalid_indexes;
            for (char *nl; *list; list = nl + 1) {
                nl = strchr(list, '\n');
                fprintf(stderr,
                        "strata: warning: index %.*s is INVALID (a CREATE INDEX CONCURRENTLY failed or "
                        "was interrupted, or is running now)\n",
                        (int)(nl - list), list);
                if (!nl)
                    break;
            }
            fprintf(stderr,
                    "hint: unless a strata process is building it now, DROP INDEX CONCURRENTLY it, then "
                    "'strata up --retry-failed' builds it again (docs/operations.md, \"Recovering a failed "
                    "no-transaction migration\")\n");
        }
        if (st->other_tool && !c->json && !c->quiet) {
            fprintf(stderr,
                    "strata: warning: strata has recorded nothing here, but the database has the version "
                    "table %s of %s: it was migrated by that tool\n",
                    term_str(st->other_tool_table), term_str(st->other_tool));
            if (!strcmp(st->other_tool, "rails"))
                fprintf(stderr, "hint: Rails' migrations are Ruby, which strata cannot import: make strata's "
                                "first migration the schema as it is now (db/structure.sql, or 'strata "
                                "schema'), then 'strata stamp' it (docs/adopting.md)\n");
            else
                fprintf(stderr,
                        "hint: before 'strata up', record what it applied: strata import --from %s SRC, then "
                        "strata adopt --from %s (docs/adopting.md)\n",
                        term_str(st->other_tool), term_str(st->other_tool));
        }
        if (c->exit_code && pending)
            rc = 3;
        if (set)
            for (size_t i = 0; i < strata_migset_problem_count(set); i++)
                out_warning(c, strata_migset_problem(set, i));
    }
    if (err.code)
        rc = out_error(c, &err);
    strata_status_free(st);
    strata_close(db);
    strata_migset_free(set);
    return rc;
}

static const cmdopt options[] = {
    {"--exit-code", NULL, CMDOPT_FLAG, &cli_state.exit_code, NULL, "exit 3 when migrations are pending"},
    {NULL, NULL, 0, NULL, NULL, NULL},
};

const command cmd_status = {
    .name = "status",
    .run = run,
    .summary = "list migrations and their state",
    .usage = "usage: strata status [--exit-code]\n"
             "\n"
             "Lists every migration with its state: applied (with the time), pending,\n"
             "modified (file changed since it was applied), missing (applied, no file)\n"
             "or failed (a no-transaction section that did not finish, with the\n"
             "server's error). A no-transaction section that another strata process is\n"
             "applying right now shows as running (--json: state failed, \"running\": true).\n"
             "On PostgreSQL it warns about INVALID indexes (a failed or interrupted\n"
             "CREATE INDEX CONCURRENTLY, or one being built now).\n"
             "Connects read-only and never creates anything.\n",
    .options = options,
};
