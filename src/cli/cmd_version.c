/* cmd_version.c -- strata version (also --version, -V) */
#include "cli.h"

static int run(cli *c)
{
    if (c->json) {
        jw w;
        jw_init(&w, stdout);
        jw_obj(&w);
        jw_kstr(&w, "version", STRATA_VERSION);
        jw_obj_end(&w);
        jw_end(&w);
    } else
        printf("strata %s\n", STRATA_VERSION);
    return 0;
}

const command cmd_version = {
    .name = "version",
    .run = run,
    .summary = "print the version",
    .usage = "usage: strata version    (also strata --version, strata -V)\n"
             "\n"
             "Prints the version of strata; with --json, {\"version\": \"...\"}.\n",
};
