/*
 * app_embedded.c -- an application whose migrations are compiled into it.
 *
 *   build/app_embedded DATABASE_URL
 *
 * The build runs `strata --dir examples/pos/migrations embed --name
 * pos_migrations -o build/pos_migrations.c` and links that file in, so the
 * program needs no migration files at run time. It upgrades its database at
 * startup exactly as app_startup.c does (under the lock; replicas starting
 * together apply each migration once; STRATA_SKIP_MIGRATIONS=1 skips).
 */
#include <stdio.h>
#include <strata.h>

extern const strata_migration_src pos_migrations[];
extern const size_t pos_migrations_count;

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: %s DATABASE_URL\n", argv[0]);
        return 2;
    }
    strata_error err;
    strata_migset *set = NULL;
    strata_code rc = strata_migset_from_array(pos_migrations, pos_migrations_count, &set, &err);
    if (rc == STRATA_OK)
        rc = strata_startup_set(argv[1], set, NULL, &err);
    strata_migset_free(set);
    if (rc != STRATA_OK) {
        fprintf(stderr, "app_embedded: migrations failed: %s [%s]\n", err.message, strata_code_name(err.code));
        if (err.hint[0])
            fprintf(stderr, "hint: %s\n", err.hint);
        return 1;
    }
    printf("database is at head (%zu migrations compiled in); starting the application\n",
           pos_migrations_count);
    return 0;
}
