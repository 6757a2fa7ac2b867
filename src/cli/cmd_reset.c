/* cmd_reset.c -- strata reset [--force] [--yes] */
#include "cli.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

static int force, yes;

static const cmdopt options[] = {
    {"--force", NULL, CMDOPT_FLAG, &force, NULL, "also reset a database that is not local"},
    {"--yes", "-y", CMDOPT_FLAG, &yes, NULL, "do not ask on a terminal"},
    {NULL, NULL, 0, NULL, NULL, NULL},
};

/* On a terminal, asks before dropping; 1 when the answer is yes. */
static int confirm(void)
{
    char line[64];
    fprintf(stderr, "drop them and apply the migrations again? [y/N] ");
    fflush(stderr);
    if (!fgets(line, sizeof(line), stdin))
        return 0;
    line[strcspn(line, "\r\n")] = 0;
    return !strcasecmp(line, "y") || !strcasecmp(line, "yes");
}

static void print_objects(const cli *c, const strata_objects *o, const char *url)
{
    char *red = strata_url_redact(url);
    int pg = !strcmp(strata_url_engine(url), "postgres");
    if (!o->count)
        fprintf(stderr, "strata: reset: nothing to drop in %s%s%s%s\n", pg ? "schema " : "",
                pg ? o->schema : "", pg ? " of " : "", red ? red : "?");
    else
        fprintf(stderr, "strata: reset will drop %zu object%s in %s%s%s%s:\n", o->count,
                o->count == 1 ? "" : "s", pg ? "schema " : "", pg ? o->schema : "", pg ? " of " : "",
                red ? red : "?");
    for (size_t i = 0; i < o->count; i++)
        fprintf(stderr, "  %-18s %s\n", o->items[i].kind, term_str(o->items[i].name));
    free(red);
    (void)c;
}

static void print_json(const strata_objects *o, const strata_result *r)
{
    jw w;
    jw_init(&w, stdout);
    jw_obj(&w);
    jw_kstr(&w, "schema", o->schema);
    jw_key(&w, "dropped");
    jw_arr(&w);
    for (size_t i = 0; i < o->count; i++) {
        jw_obj(&w);
        jw_kstr(&w, "kind", o->items[i].kind);
        jw_kstr(&w, "name", o->items[i].name);
        jw_obj_end(&w);
    }
    jw_arr_end(&w);
    jw_key(&w, "applied");
    jw_arr(&w);
    for (size_t i = 0; r && i < r->count; i++) {
        jw_obj(&w);
        jw_kstr(&w, "version", r->steps[i].version);
        jw_kstr(&w, "name", r->steps[i].name);
        jw_kint(&w, "duration_ms", r->steps[i].duration_ms);
        jw_obj_end(&w);
    }
    jw_arr_end(&w);
    jw_kstr(&w, "current", r && r->current ? r->current : "base");
    jw_obj_end(&w);
    jw_end(&w);
}

static int run(cli *c)
{
    strata_error err = {0};
    strata *db = NULL;
    strata_migset *set = NULL;
    strata_objects *objs = NULL;
    strata_result *res = NULL;
    char *url = NULL;
    int rc = 0;
    /* the locality rule needs only the URL: refuse before connecting */
    if (cli_url(c, &url, 1, &err) != 0 || (!force && strata_url_check_local(url, &err) != STRATA_OK))
        goto out;
    if (cli_open(c, 0, &db, &set, &err) != 0 || strata_migset_check(set, &err) != STRATA_OK ||
        strata_reset_list(db, &objs, &err) != STRATA_OK)
        goto out;
    if (!c->json && !c->quiet)
        print_objects(c, objs, url);
    if (!yes && !c->json && isatty(0) && isatty(2) && !confirm()) {
        fprintf(stderr, "strata: reset cancelled; nothing was changed\n");
        rc = 1;
        goto out;
    }
    if (strata_reset(db, set, force ? STRATA_ALLOW_REMOTE : 0, &res, &err) != STRATA_OK) {
        /* up failed after the drop (res set): what was dropped and applied
           is the document, as up --json gives it on a failure */
        if (res && c->json)
            print_json(objs, res);
        goto out;
    }
    if (c->json)
        print_json(objs, res);
    else if (!c->quiet)
        printf("reset: dropped %zu object%s, applied %zu migration%s; current: %s\n", objs->count,
               objs->count == 1 ? "" : "s", res->count, res->count == 1 ? "" : "s", term_str(res->current));
out:
    if (err.code)
        rc = out_error(c, &err);
    strata_result_free(res);
    strata_objects_free(objs);
    strata_close(db);
    strata_migset_free(set);
    free(url);
    return rc;
}

const command cmd_reset = {
    .name = "reset",
    .run = run,
    .summary = "drop every object, then apply all migrations again",
    .usage = "usage: strata reset [--force] [--yes]\n"
             "\n"
             "Drops every object of the target schema and runs 'up' to head again: a\n"
             "fresh development database in one command. First lists what it will drop\n"
             "(on stderr; with --json in the document on stdout); on a terminal it then\n"
             "asks before going on, unless --yes. It drops exactly that list: when the\n"
             "database holds other objects by the time the drop runs, it stops with\n"
             "RESET_CHANGED and changes nothing. Table locks held by other sessions are\n"
             "waited for at most --lock-timeout (LOCK_TIMEOUT, nothing changed).\n"
             "\n"
             "Refuses, before connecting, a database that is not local: only a SQLite\n"
             "file, or a PostgreSQL server on a Unix socket or a loopback address\n"
             "(localhost, 127.0.0.0/8, ::1) is reset without --force.\n"
             "\n"
             "PostgreSQL: the target schema is the first existing schema of the\n"
             "search_path (normally public). In one transaction, under the migration\n"
             "lock, it runs DROP SCHEMA ... CASCADE and creates the schema again with\n"
             "the same owner, privileges, comment and default privileges. Extensions\n"
             "installed in that schema, and views of other schemas built on it, are\n"
             "dropped too. The user must own the schema.\n"
             "SQLite: drops every trigger, view and table (indexes with them) with\n"
             "foreign keys off, in one transaction.\n",
    .options = options,
};
