/* cmd_adopt.c -- strata adopt --from FORMAT [--dry-run] */
#include "cli.h"

#include <stdio.h>
#include <string.h>

static void print_json(const strata_adopt_report *r, int dry_run)
{
    jw w;
    jw_init(&w, stdout);
    jw_obj(&w);
    jw_kstr(&w, "tool", r->tool);
    jw_kstr(&w, "table", r->table);
    jw_kbool(&w, "dry_run", dry_run);
    for (int already = 0; already < 2; already++) {
        jw_key(&w, already ? "already" : "recorded");
        jw_arr(&w);
        for (size_t i = 0; i < r->count; i++) {
            const strata_adopt_entry *e = &r->entries[i];
            if (e->recorded != already)
                continue;
            jw_obj(&w);
            jw_kstr(&w, "version", e->version);
            jw_kstr(&w, "name", e->name);
            jw_kstr(&w, "original", e->original);
            jw_obj_end(&w);
        }
        jw_arr_end(&w);
    }
    jw_kint(&w, "written", (long long)r->written);
    jw_obj_end(&w);
    jw_end(&w);
}

static const char *opt_table;

/*
 * Migrations the other tool never applied that are older than the newest it
 * did (another Alembic branch, an out-of-order file): they stay pending, and
 * 'strata up' stops on them (OUT_OF_ORDER) -- say so now, once.
 */
static void warn_older_pending(const cli *c, const strata_migset *set, const strata_adopt_report *r)
{
    size_t n = strata_migset_count(set), newest = 0, older = 0, k = 0, pending = 0;
    const char *first = NULL;
    /* r->entries are a subset of set, in the same (version) order: one walk */
    for (size_t i = 0; i < n && k < r->count; i++) {
        const strata_migration *m = strata_migset_get(set, i);
        if (!strcmp(m->version, r->entries[k].version)) {
            k++;
            newest = i;
            older = pending; /* the ones not adopted below this one */
        } else if (!pending++) {
            first = m->id;
        }
    }
    if (!older)
        return;
    char msg[600];
    snprintf(msg, sizeof(msg),
             "%zu migration%s older than %s %s not applied by %s (first: %s); 'strata up' stops on %s until "
             "you pass --allow-out-of-order",
             older, older == 1 ? "" : "s", strata_migset_get(set, newest)->id, older == 1 ? "was" : "were",
             r->tool, first, older == 1 ? "it" : "them");
    strata_problem w = {0};
    w.detail = msg;
    out_warning(c, &w);
}

static int run(cli *c)
{
    strata *db = NULL;
    strata_migset *set = NULL;
    strata_adopt_report *r = NULL;
    strata_error err = {0};
    int rc = 0;
    if (!c->from)
        return out_usage_error(c, "adopt needs --from FORMAT (dbmate, goose, golang-migrate, flyway, sqitch, "
                                  "pop, alembic)");
    if (cli_open(c, c->dry_run, &db, &set, &err) == 0 &&
        strata_adopt(db, set, c->from, &(strata_adopt_opts){c->dry_run, opt_table}, &r, &err) == STRATA_OK) {
        if (c->json) {
            print_json(r, c->dry_run);
        } else if (!c->quiet) {
            size_t todo = 0;
            for (size_t i = 0; i < r->count; i++) {
                const strata_adopt_entry *e = &r->entries[i];
                todo += !e->recorded;
                printf("%s %s_%s (%s %s)\n",
                       e->recorded  ? "already"
                       : c->dry_run ? "would record"
                                    : "recorded",
                       e->version, e->name, r->tool, e->original);
            }
            if (c->dry_run)
                printf("dry run: %zu migration%s would be recorded as applied from %s; nothing changed\n",
                       todo, todo == 1 ? "" : "s", r->table);
            else
                printf("adopted %zu migration%s as applied from %s (%s left untouched)\n", r->written,
                       r->written == 1 ? "" : "s", r->table, r->table);
        }
        warn_older_pending(c, set, r);
    }
    if (err.code)
        rc = out_error(c, &err);
    strata_adopt_report_free(r);
    strata_close(db);
    strata_migset_free(set);
    return rc;
}

static const cmdopt options[] = {
    {"--from", NULL, CMDOPT_STR, &cli_state.from, "FORMAT", "the tool the database was migrated with"},
    {"--from-table", NULL, CMDOPT_STR, &opt_table, "NAME",
     "that tool's version table, when it was renamed (a table on\nthe search path); sqitch: its registry "
     "(--registry)"},
    {"--dry-run", NULL, CMDOPT_FLAG, &cli_state.dry_run, NULL,
     "print what would be recorded; change nothing"},
    {NULL, NULL, 0, NULL, NULL, NULL},
};

const command cmd_adopt = {
    .name = "adopt",
    .run = run,
    .summary = "record another tool's applied migrations as applied",
    .usage = "usage: strata adopt --from FORMAT [--from-table NAME] [--dry-run]\n"
             "\n"
             "Reads the version table of the tool the database was migrated with and\n"
             "records the matching migrations of the directory (written by 'strata\n"
             "import --from FORMAT') as applied, without running them: under the\n"
             "migration lock, in one transaction, with the files' checksums.\n"
             "\n"
             "FORMAT and the table read:\n"
             "  dbmate          schema_migrations (version)\n"
             "  golang-migrate  schema_migrations (version, dirty): every version up to it\n"
             "  goose           goose_db_version: the latest row of each version_id\n"
             "  flyway          flyway_schema_history (BASELINE, SQL, UNDO_SQL rows)\n"
             "  alembic         alembic_version: each revision and its ancestors\n"
             "  sqitch          the registry's changes: schema sqitch (PostgreSQL), the file\n"
             "                  sqitch.EXT next to the database (SQLite: app.db -> sqitch.db)\n"
             "  pop             schema_migration (version)\n"
             "A tool set to another table name (dbmate --migrations-table, goose -table,\n"
             "flyway.table, Alembic's version_table, ...) is read with --from-table NAME;\n"
             "for sqitch, NAME is the registry as sqitch's --registry names it.\n"
             "\n"
             "Refuses with nothing changed (ADOPT_MISMATCH) when the other tool's state\n"
             "is dirty or failed, an applied version has no imported migration, or\n"
             "strata's table already holds rows that disagree. The other tool's table\n"
             "is never written: going back to that tool stays possible.\n",
    .options = options,
};
