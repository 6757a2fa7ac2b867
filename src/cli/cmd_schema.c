/* cmd_schema.c -- strata schema [-o FILE] [--check FILE] */
#include "cli.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static const char *opt_output, *opt_check;

static const cmdopt options[] = {
    {"--output", "-o", CMDOPT_STR, &opt_output, "FILE",
     "write it to FILE (for committing next to the migrations)"},
    {"--check", NULL, CMDOPT_STR, &opt_check, "FILE",
     "compare with FILE: exit 0 when equal; exit 3 with the\n"
     "difference ('-' in FILE, '+' in the database) when the\n"
     "database has drifted (SCHEMA_DRIFT)"},
    {NULL, NULL, 0, NULL, NULL, NULL},
};

/* The whole file with CRLF folded to LF (a Windows checkout is no drift). */
static char *read_file(const char *path, strata_error *err)
{
    size_t n = 0;
    char *s = cli_read_file("schema file", path, &n, err);
    if (!s) {
        if (errno == ENOENT)
            snprintf(err->hint, sizeof(err->hint), "write it first with 'strata schema -o %s'", path);
        return NULL;
    }
    size_t w = 0;
    for (size_t r = 0; r < n; r++)
        if (!(s[r] == '\r' && s[r + 1] == '\n'))
            s[w++] = s[r];
    s[w] = 0;
    return s;
}

/* Writes text to path, replacing the file whole (cli_replace). */
static int write_file(const char *path, const char *text, strata_error *err)
{
    cli_replace r;
    if (cli_replace_open(&r, path, err))
        return -1;
    int ok = fputs(text, r.f) >= 0;
    return cli_replace_close(&r, ok, path, err) ? 0 : -1;
}

static int run(cli *c)
{
    strata *db = NULL;
    strata_error err = {0};
    char *schema = NULL, *want = NULL, *diff = NULL;
    int rc = 0;
    if (opt_output && opt_check)
        return out_usage_error(c, "-o and --check do not go together");
    if (cli_open(c, 1, &db, NULL, &err) != 0 || strata_schema_dump(db, &schema, &err) != STRATA_OK)
        goto out;
    if (opt_check) {
        if (!(want = read_file(opt_check, &err)))
            goto out;
        if (strata_text_diff(want, schema, opt_check, "database", &diff, &err) != STRATA_OK)
            goto out;
        if (c->json) {
            jw w;
            jw_init(&w, stdout);
            jw_obj(&w);
            jw_kbool(&w, "ok", !diff);
            jw_kstr(&w, "file", opt_check);
            jw_kstr(&w, "diff", diff);
            jw_obj_end(&w);
            jw_end(&w);
        } else if (diff) {
            fputs(diff, stdout);
        } else if (!c->quiet) {
            printf("schema matches %s\n", opt_check);
        }
        if (diff) {
            err.code = STRATA_SCHEMA_DRIFT;
            snprintf(err.message, sizeof(err.message), "the database schema differs from '%s'", opt_check);
            snprintf(err.hint, sizeof(err.hint),
                     "'-' lines are in the file, '+' lines in the database; if the change is intended, "
                     "run 'strata schema -o %s'",
                     opt_check);
        }
    } else if (opt_output) {
        if (write_file(opt_output, schema, &err) != 0)
            goto out;
        if (c->json) {
            jw w;
            jw_init(&w, stdout);
            jw_obj(&w);
            jw_kstr(&w, "file", opt_output);
            jw_kstr(&w, "engine", strata_engine(db));
            jw_obj_end(&w);
            jw_end(&w);
        } else if (!c->quiet) {
            printf("wrote %s\n", opt_output);
        }
    } else if (c->json) {
        jw w;
        jw_init(&w, stdout);
        jw_obj(&w);
        jw_kstr(&w, "engine", strata_engine(db));
        jw_kstr(&w, "schema", schema);
        jw_obj_end(&w);
        jw_end(&w);
    } else {
        fputs(schema, stdout);
    }
out:
    if (err.code)
        rc = out_error(c, &err);
    free(diff);
    free(want);
    free(schema);
    strata_close(db);
    return rc;
}

const command cmd_schema = {
    .name = "schema",
    .run = run,
    .summary = "print the database schema in a normalized text form",
    .usage = "usage: strata schema [-o FILE | --check FILE]\n"
             "\n"
             "Prints the schema of the database in a normalized, deterministic text form\n"
             "(docs/schema.md): extensions, enum and other types, sequences, tables with\n"
             "their columns, constraints, indexes and triggers, views, materialized views\n"
             "and functions, each kind sorted by name, so that the same schema always\n"
             "prints the same bytes, whatever order it was created in. The version table\n"
             "is left out. PostgreSQL: the schemas on the search path. Connects read-only.\n",
    .options = options,
};
