/* cmd_import.c -- strata import: another tool's migrations as strata files */
#include "cli.h"

#include <stdlib.h>
#include <time.h>

static struct {
    int force, expand_env;
} o;

static const cmdopt options[] = {
    {"--from", NULL, CMDOPT_STR, &cli_state.from, "FORMAT", "the tool SRC belongs to"},
    {"--dialect", NULL, CMDOPT_STR, &cli_state.dialect, "D[,D]",
     "postgres, sqlite: with one dialect, sections are written for\n"
     "that engine only (pop: only those dialects' files)"},
    {"--force", NULL, CMDOPT_FLAG, &o.force, NULL,
     "write into a DIR that already holds .sql files (same names\n"
     "are overwritten)"},
    {"--expand-env", NULL, CMDOPT_FLAG, &o.expand_env, NULL,
     "goose ENVSUB ON: substitute ${VAR} from the environment now"},
    {NULL, NULL, 0, NULL, NULL, NULL},
};

static int run(cli *c)
{
    if (!c->from)
        return out_usage_error(
            c, "import needs --from FORMAT (dbmate, goose, golang-migrate, flyway, sqitch, pop)");
    strata_import_opts io = {c->dialect, o.force, o.expand_env};
    strata_import_report *r = NULL;
    strata_error err;
    strata_error_clear(&err);
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    strata_code rc = strata_import(c->from, c->args[0], cli_dir(c), &io, &r, &err);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    double secs = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
    if (c->json) {
        jw w;
        jw_init(&w, stdout);
        jw_obj(&w);
        jw_kbool(&w, "ok", !rc);
        jw_kstr(&w, "format", c->from);
        jw_kstr(&w, "dir", cli_dir(c));
        jw_kbool(&w, "renumbered", r && r->renumbered);
        jw_key(&w, "seconds");
        jw_fixed(&w, secs, 3);
        jw_key(&w, "files");
        jw_arr(&w);
        for (size_t i = 0; r && i < r->count; i++)
            jw_str(&w, r->files[i]);
        jw_arr_end(&w);
        jw_obj_end(&w);
        jw_end(&w);
    } else if (r && !c->quiet) {
        if (c->verbose)
            for (size_t i = 0; i < r->count; i++)
                printf("wrote %s/%s\n", cli_dir(c), r->files[i]);
        if (!rc)
            printf("%s (%.3f s); validate: ok\n", r->message ? r->message : "imported", secs);
    }
    strata_import_report_free(r);
    return rc ? out_error(c, &err) : 0;
}

const command cmd_import = {
    .name = "import",
    .run = run,
    .min_args = 1,
    .max_args = 1,
    .summary = "write a migration directory from another tool's migrations",
    .usage = "usage: strata import --from FORMAT SRC [--dir DIR] [--dialect D[,D]] [--force] [--expand-env]\n"
             "\n"
             "Reads the migration directory SRC of another tool and writes the same\n"
             "history as strata files into DIR (the global --dir, default ./migrations).\n"
             "FORMAT is one of:\n"
             "  dbmate          <version>_<name>.sql with -- migrate:up / -- migrate:down\n"
             "  goose           <version>_<name>.sql with -- +goose Up / Down annotations\n"
             "  golang-migrate  <version>_<title>.up.sql and .down.sql\n"
             "  flyway          V<version>__<desc>.sql, U (undo) and B (baseline) files\n"
             "  sqitch          SRC holds sqitch.plan and deploy/, revert/, verify/\n"
             "  pop             <version>_<name>[.<dialect>].up.sql and .down.sql\n"
             "  alembic         SRC holds alembic.ini; Alembic itself prints each\n"
             "                  revision's SQL in its offline mode (--sql), per dialect\n"
             "\n"
             "The SQL is carried byte for byte. Each file starts with a header line\n"
             "naming the tool, the original version and the original file(s):\n"
             "  -- import: tool=goose version=00002 file=00002_add_email.sql\n"
             "Versions are kept when they are numbers that strata orders the way the\n"
             "tool does; otherwise every file is renumbered 0001, 0002... in the tool's\n"
             "order (Flyway's dotted versions, sqitch's plan). What strata cannot\n"
             "express is refused by name (IMPORT_UNSUPPORTED, exit 2) before anything is\n"
             "written: goose Go migrations and ENVSUB, Flyway repeatable migrations and\n"
             "placeholders, pop fizz files, and more (docs/adopting.md). The written\n"
             "directory is then checked as `strata validate` reads files.\n",
    .options = options,
    .notes = "\nWith -v, it lists the files written.\n"
             "\n"
             "Alembic: `alembic` from PATH runs in SRC's directory, or STRATA_ALEMBIC\n"
             "(e.g. .venv/bin/alembic). When it is a Python script, all its commands run\n"
             "in one Python process (STRATA_ALEMBIC_BATCH=0: one process each).\n",
};
