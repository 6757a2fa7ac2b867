/* cmd_sql.c -- strata sql: offline SQL rendering */
#include "cli.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int run(cli *c)
{
    strata_migset *set = NULL;
    strata_error err = {0};
    char *sql = NULL;
    int rc = 0;
    const char *dialect = c->dialect;
    if (!dialect) {
        /* the engine of the URL, without connecting: resolved as every
           command resolves it (an empty --url, an unset --url-env variable
           or --require-url without one are errors, not a guessed dialect) */
        strata_url_opts uo = {c->url, c->url_env, c->env_file, c->require_url};
        char *url = NULL;
        if (strata_url_resolve(&uo, &url, NULL, &err) == STRATA_OK && !(dialect = strata_url_engine(url))) {
            err.code = STRATA_URL_INVALID;
            snprintf(err.message, sizeof(err.message), "cannot tell the engine of the URL");
        }
        free(url);
        if (err.code) {
            static const char alt[] = "--dialect postgres|sqlite renders without a URL";
            size_t n = strlen(err.hint);
            if (n + sizeof(alt) + 6 < sizeof(err.hint))
                snprintf(err.hint + n, sizeof(err.hint) - n, "%s%s", n ? "; or " : "", alt);
        }
    }
    if (!err.code && cli_load(c, &set, &err) == STRATA_OK &&
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
             "or on a database that is not at --from (docs/migrations.md).\n"
             "\n"
             "Without --dialect, the engine is the URL's, resolved as every command\n"
             "resolves it (no URL at all: the embedded SQLite default); an empty --url,\n"
             "an unset --url-env variable or --require-url without a URL is an error.\n",
    .options = options,
};
