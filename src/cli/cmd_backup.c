/* cmd_backup.c -- strata backup [-o FILE] */
#include "cli.h"

#include <stdlib.h>
#include <sys/stat.h>

static const char *output;

static const cmdopt options[] = {
    {"--output", "-o", CMDOPT_STR, &output, "FILE", "where to write the backup"},
    {NULL, NULL, 0, NULL, NULL, NULL},
};

static int run(cli *c)
{
    strata_error err = {0};
    char *url = NULL, *path = NULL;
    int rc = 0;
    strata_config cfg = cli_config(c, 1);
    if (cli_url(c, &url, 0, &err) == 0 && strata_backup(url, output, &cfg, &path, &err) == STRATA_OK) {
        struct stat st;
        long long size = stat(path, &st) == 0 ? (long long)st.st_size : -1;
        if (c->json) {
            jw w;
            jw_init(&w, stdout);
            jw_obj(&w);
            jw_kstr(&w, "file", path);
            jw_kint(&w, "bytes", size);
            jw_obj_end(&w);
            jw_end(&w);
        } else if (!c->quiet) {
            printf("backup written to %s (%lld bytes)\n", path, size);
        }
    }
    if (err.code)
        rc = out_error(c, &err);
    free(path);
    free(url);
    return rc;
}

const command cmd_backup = {
    .name = "backup",
    .run = run,
    .summary = "write a backup of the database to a file",
    .args_hint = "name the file with -o: strata backup -o FILE",
    .usage = "usage: strata backup [-o FILE]\n"
             "\n"
             "Writes a backup to FILE, a new file with mode 0600 (never readable by\n"
             "others); an existing file is never overwritten. Default name: the\n"
             "database name and a UTC timestamp in the working directory, e.g.\n"
             "shop-20261123T100000Z.dump (SQLite: dev-20261123T100000Z.sqlite3).\n"
             "A failed backup leaves no file behind. '-o -' is refused: the backup\n"
             "is always a file (./- for a file called '-').\n"
             "\n"
             "PostgreSQL: pg_dump --format=custom (from PATH; Debian package\n"
             "postgresql-client-NN), started without a shell, the password passed in\n"
             "its environment, never on its command line. Refused when pg_dump is\n"
             "missing (TOOL_MISSING) or older than the server (TOOL_TOO_OLD).\n"
             "SQLite: the online backup API: one consistent snapshot, also while other\n"
             "processes write. The backup is itself a SQLite database.\n",
    .options = options,
};
