/* cmd_sql.c -- strata sql: offline SQL rendering */
#include "cli.h"

#include <stdlib.h>

static int run(cli *c)
{
    strata_migset *set = NULL;
    strata_error err = {0};
    char *sql = NULL;
    int rc = 0;
    const char *dialect = c->dialect;
    if (!dialect) {
        /* the engine of the URL, without connecting */
        strata_url_opts uo = {c->url, c->url_env, c->env_file, 0};
        strata_error ignore;
        char *url = NULL;
        if (strata_url_resolve(&uo, &url, NULL, &ignore) == STRATA_OK)
            dialect = strata_url_engine(url);
        free(url);
        if (!dialect)
            dialect = "postgres";
    }
    if (cli_load(c, &set, &err) == STRATA_OK &&
        strata_sql_render(set, dialect, c->table, c->from, c->to, c->down, &sql, &err) == STRATA_OK) {
        if (c->json) {
            jw w;
            jw_init(&w, stdout);
            jw_obj(&w);
            jw_kstr(&w, "dialect", dialect);
            jw_kstr(&w, "sql", sql);
            jw_obj_end(&w);
            jw_end(&w);
        } else {
            fputs(sql, stdout);
        }
    }
    if (err.code)
        rc = out_error(c, &err);
    free(sql);
    strata_migset_free(set);
    return rc;
}

static const cmdopt options[] = {
    {"--dialect", NULL, CMDOPT_STR, &cli_state.dialect, "D",
     "postgres or sqlite (default: the engine of the URL)"},
    {"--from", NULL, CMDOPT_STR, &cli_state.from, "V",
     "up: start after V (default base); down: start at V (default head)"},
    {"--to", NULL, CMDOPT_STR, &cli_state.to, "V",
     "up: stop at V (default head); down: stop above V (default base)"},
    {"--down", NULL, CMDOPT_FLAG, &cli_state.down, NULL, "render the down direction"},
    {NULL, NULL, 0, NULL, NULL, NULL},
};

const command cmd_sql = {
    .name = "sql",
    .run = run,
    .summary = "print the SQL of a range without connecting",
    .usage = "usage: strata sql [--dialect postgres|sqlite] [--from V] [--to V] [--down]\n"
             "\n"
             "Prints, without connecting to any database, the SQL that 'up' (or with\n"
             "--down, 'down') would run, bookkeeping included: for CI dry runs and for\n"
             "DBAs who apply SQL by hand. Run it with a client that stops at the first\n"
             "error: 'psql -v ON_ERROR_STOP=1 -f FILE', or 'sqlite3 DB < FILE' (the\n"
             "script says '.bail on'). It stops before changing anything when run twice\n"
             "or on a database that is not at --from (docs/migrations.md).\n",
    .options = options,
};
