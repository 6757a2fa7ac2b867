/*
 * app_startup.c -- an application that migrates its database at startup.
 *
 *   build/app_startup MIGRATIONS_DIR                (the URL from DATABASE_URL)
 *   build/app_startup DATABASE_URL MIGRATIONS_DIR
 *
 * Many replicas may start at once: strata_startup() takes the migration
 * lock, so each migration is applied exactly once and every replica goes on.
 * Set STRATA_SKIP_MIGRATIONS=1 to skip (development setups that migrate by
 * hand). With DATABASE_URL unset the call fails with DATABASE_URL_REQUIRED.
 *
 * A rolling restart sends SIGTERM: strata_interrupt() from the handler
 * cancels the migration's statement on the server (its transaction rolls
 * back, its locks go) instead of leaving it running there after the process
 * has gone; the call then returns STRATA_INTERRUPTED. A server that does not
 * answer the cancel (a paused PgBouncer holding the statement back) gets
 * its connection closed 5 s later: strata_interrupt_force() from SIGALRM.
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strata.h>
#include <unistd.h>

static void on_stop(int sig)
{
    (void)sig;
    alarm(5);
    strata_interrupt();
}

static void on_grace_over(int sig)
{
    (void)sig;
    strata_interrupt_force();
}

int main(int argc, char **argv)
{
    strata_interrupt_init();
    struct sigaction sa;
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = on_grace_over;
    sa.sa_flags = SA_RESTART;
    sigaction(SIGALRM, &sa, NULL);
    sa.sa_handler = on_stop;
    sa.sa_flags = SA_RESETHAND; /* a second signal stops the process as usual */
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);

    if (argc != 2 && argc != 3) {
        fprintf(stderr, "usage: %s [DATABASE_URL] MIGRATIONS_DIR\n", argv[0]);
        return 2;
    }
    const char *url = argc == 3 ? argv[1] : getenv("DATABASE_URL");
    const char *dir = argv[argc - 1];
    strata_error err;
    if (strata_startup(url, dir, NULL, &err) != STRATA_OK) {
        fprintf(stderr, "app_startup: migrations failed: %s [%s]\n", err.message,
                strata_code_name(err.code));
        if (err.hint[0])
            fprintf(stderr, "hint: %s\n", err.hint);
        return 1;
    }
    const char *skip = getenv("STRATA_SKIP_MIGRATIONS");
    if (skip && (!strcmp(skip, "1") || !strcmp(skip, "true")))
        printf("migrations skipped (STRATA_SKIP_MIGRATIONS); starting the application\n");
    else
        printf("database is at head; starting the application\n");
    return 0;
}
