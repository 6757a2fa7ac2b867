/* cmd_version.c -- strata version (also --version, -V) */
#include "cli.h"

static int run(cli *c)
{
    if (c->json)
        printf("{\"version\": \"%s\"}\n", STRATA_VERSION);
    else
        printf("strata %s\n", STRATA_VERSION);
    return 0;
}

const command cmd_version = {
    "version",
    NULL,
    run,
    0,
    0,
    0,
    "print the version",
    "usage: strata version    (also strata --version, strata -V)\n"
    "\n"
    "Prints the version of strata; with --json, {\"version\": \"...\"}.\n",
    NULL,
};
