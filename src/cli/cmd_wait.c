/* cmd_wait.c -- strata wait [--timeout S] */
#include "cli.h"

#include <stdlib.h>
#include <time.h>

static double timeout = 60;

static const cmdopt options[] = {
    {"--timeout", NULL, CMDOPT_NUM, &timeout, "SECONDS", "give up after this long (default 60; 0: one try)"},
    {NULL, NULL, 0, NULL, NULL, NULL},
};

static double now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1000.0 + (double)ts.tv_nsec / 1e6;
}

static int run(cli *c)
{
    strata_error err = {0};
    char *url = NULL;
    int attempts = 0, rc = 0;
    if (!(timeout >= 0 && timeout <= 1000000))
        return out_usage_error(c, "--timeout needs a number of seconds from 0 to 1000000");
    double t0 = now_ms();
    strata_config cfg = cli_config(c, 1);
    if (cli_url(c, &url, 0, &err) == 0 && strata_wait(url, timeout, &cfg, &attempts, &err) == STRATA_OK) {
        long ms = (long)(now_ms() - t0);
        if (c->json) {
            jw w;
            jw_init(&w, stdout);
            jw_obj(&w);
            jw_kbool(&w, "ready", 1);
            jw_kint(&w, "attempts", attempts);
            jw_kint(&w, "waited_ms", ms);
            jw_obj_end(&w);
            jw_end(&w);
        } else if (!c->quiet)
            printf("database is ready (%d attempt%s, %.1f s)\n", attempts, attempts == 1 ? "" : "s",
                   (double)ms / 1000.0);
    }
    if (err.code)
        rc = out_error(c, &err);
    free(url);
    return rc;
}

const command cmd_wait = {
    .name = "wait",
    .run = run,
    .summary = "wait until the database accepts connections",
    .usage = "usage: strata wait [--timeout SECONDS]\n"
             "\n"
             "Tries to connect until the database accepts connections, then exits 0:\n"
             "for containers that start before their database. Tries again after\n"
             "100 ms, 200 ms, 400 ms, 800 ms, then every second.\n"
             "\n"
             "Tried again: no answer (connection refused, no socket yet, host name not\n"
             "resolvable yet, network timeout), a server starting up, shutting down or\n"
             "in recovery, too many connections.\n"
             "Not tried again (exit 4 at once, CONNECT_FAILED): a server that answered\n"
             "and refused the credentials or the database (wrong password, unknown\n"
             "user or database, pg_hba.conf), and an invalid URL.\n"
             "On timeout: exit 4, WAIT_TIMEOUT, with the last error.\n"
             "A SQLite file has nothing to wait for: it opens or fails at once.\n",
    .options = options,
};
