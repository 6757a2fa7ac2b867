/* cmd_accept.c -- strata accept VERSION [--force] */
#include "cli.h"

static int force;

static const cmdopt options[] = {
    {"--force", NULL, CMDOPT_FLAG, &force, NULL, "accept anyway (the database already matches the new file)"},
    {NULL, NULL, 0, NULL, NULL, NULL},
};

static const char *up_word(int up_changed)
{
    return up_changed < 0 ? "unknown" : up_changed ? "changed" : "unchanged";
}

static int run(cli *c)
{
    strata *db = NULL;
    strata_migset *set = NULL;
    strata_accept_result r = {0};
    strata_error err = {0};
    int rc = 0;
    if (cli_open(c, 0, &db, &set, &err) == 0 &&
        strata_accept(db, set, c->args[0], force, &r, &err) == STRATA_OK) {
        if (c->json) {
            jw w;
            jw_init(&w, stdout);
            jw_obj(&w);
            jw_key(&w, "accepted");
            jw_obj(&w);
            jw_kstr(&w, "version", r.version);
            jw_kstr(&w, "name", r.name);
            jw_kstr(&w, "old_checksum", r.old_checksum);
            jw_kstr(&w, "new_checksum", r.new_checksum);
            jw_kbool(&w, "changed", r.changed);
            jw_kstr(&w, "up_sql", up_word(r.up_changed));
            jw_obj_end(&w);
            jw_obj_end(&w);
            jw_end(&w);
        } else if (!c->quiet) {
            if (!r.changed)
                printf("%s_%s: the file already matches the applied checksum; nothing to accept\n", r.version,
                       r.name);
            else
                printf("accepted %s_%s: checksum %.12s... -> %.12s... (up SQL %s%s)\n", r.version, r.name,
                       r.old_checksum, r.new_checksum, up_word(r.up_changed), r.up_changed ? ", forced" : "");
        }
    }
    if (err.code)
        rc = out_error(c, &err);
    strata_accept_result_release(&r);
    strata_close(db);
    strata_migset_free(set);
    return rc;
}

const command cmd_accept = {
    .name = "accept",
    .run = run,
    .min_args = 1,
    .max_args = 1,
    .summary = "accept a deliberate edit of an applied migration",
    .usage = "usage: strata accept VERSION [--force]\n"
             "\n"
             "Records the current checksum of one applied migration, so that 'up' no\n"
             "longer stops on CHECKSUM_MISMATCH after a deliberate edit that changes\n"
             "nothing that ran: a comment, a typo in the down section. The version table\n"
             "keeps a note (\"checksum accepted <time>, was <old checksum>\").\n"
             "\n"
             "Refused (UP_SQL_CHANGED, exit 1) when the up SQL itself differs from what\n"
             "was applied -- comments, blank space and the case of keywords aside --\n"
             "because that change never ran: put it in a new migration. Also refused\n"
             "when strata cannot tell (migrations applied before it recorded up\n"
             "checksums).\n",
    .options = options,
};
