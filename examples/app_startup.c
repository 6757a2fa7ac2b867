/*
 * app_startup.c -- an application that migrates its database at startup.
 *
 *   build/app_startup DATABASE_URL MIGRATIONS_DIR
 *
 * Many replicas may start at once: strata_startup() takes the migration
 * lock, so each migration is applied exactly once and every replica goes on.
 * Set STRATA_SKIP_MIGRATIONS=1 to skip (development setups that migrate by
 * hand).
 */
#include <stdio.h>
#include <strata.h>

int main(int argc, char **argv)
{
    if (argc != 3) {
        fprintf(stderr, "usage: %s DATABASE_URL MIGRATIONS_DIR\n", argv[0]);
        return 2;
    }
    strata_error err;
    if (strata_startup(argv[1], argv[2], NULL, &err) != STRATA_OK) {
        fprintf(stderr, "app_startup: migrations failed: %s [%s]\n", err.message,
                strata_code_name(err.code));
        if (err.hint[0])
            fprintf(stderr, "hint: %s\n", err.hint);
        return 1;
    }
    printf("database is at head; starting the application\n");
    return 0;
}
