/*
 * bench/sqlite_floor.c -- the floor of a migration run on SQLite: the least
 * a program must do to apply the same history with the same durability.
 *
 *   sqlite_floor apply DB FILE [one]   FILE holds the up SQL of each
 *                                      migration, separated by lines "--;".
 *                                      Per migration: BEGIN IMMEDIATE, the
 *                                      SQL, an INSERT of its version row
 *                                      (the columns strata writes), COMMIT.
 *                                      "one": all in one transaction.
 *   sqlite_floor noop DB [nostats]     opens the file and reads every row of
 *                                      the version table (what a no-op `up`
 *                                      cannot avoid). "nostats": SQLite's
 *                                      memory statistics off first, as the
 *                                      strata CLI runs (strata_global_init).
 *
 * The connection is left as SQLite opens it (the database's own journal mode,
 * the library's default synchronous level and locking mode) unless
 * STRATA_FLOOR_SYNC names a synchronous level (NORMAL, FULL) and
 * STRATA_FLOOR_LOCKING a locking mode (EXCLUSIVE), set inside the
 * transaction after the first STRATA_FLOOR_LOCKING_AFTER ones (default 0):
 * bench/run.sh sets them to what strata uses for the journal mode, so the
 * floor and strata pay for the same fsyncs (in a rollback-journal mode
 * strata holds the write lock from a long run's 17th transaction on, which
 * keeps the journal file open between commits).
 */
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void die(sqlite3 *db, const char *what)
{
    fprintf(stderr, "sqlite_floor: %s: %s\n", what, db ? sqlite3_errmsg(db) : "error");
    exit(1);
}

static char *slurp(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        perror(path);
        exit(1);
    }
    size_t cap = 1 << 16, n = 0, k;
    char *s = malloc(cap);
    while (s && (k = fread(s + n, 1, cap - n - 1, f)) > 0) {
        n += k;
        if (n + 1 == cap)
            s = realloc(s, cap *= 2);
    }
    fclose(f);
    if (!s)
        exit(1);
    s[n] = 0;
    return s;
}

static void exec(sqlite3 *db, const char *sql)
{
    if (sqlite3_exec(db, sql, NULL, NULL, NULL) != SQLITE_OK)
        die(db, sql);
}

int main(int argc, char **argv)
{
    if (argc < 3 || (strcmp(argv[1], "apply") && strcmp(argv[1], "noop")) ||
        (!strcmp(argv[1], "apply") && argc < 4)) {
        fprintf(stderr, "usage: sqlite_floor apply DB FILE [one] | sqlite_floor noop DB [nostats]\n");
        return 2;
    }
    sqlite3 *db = NULL;
    int noop = !strcmp(argv[1], "noop");
    if (noop && argc > 3 && !strcmp(argv[3], "nostats"))
        sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0);
    if (sqlite3_open_v2(argv[2], &db, noop ? SQLITE_OPEN_READWRITE : SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE,
                        NULL) != SQLITE_OK)
        die(db, "open");
    sqlite3_busy_timeout(db, 10000);
    if (noop) {
        sqlite3_stmt *st;
        if (sqlite3_prepare_v2(db,
                               "SELECT version, name, checksum, applied_at, duration_ms, state, error, "
                               "up_checksum, note FROM strata_migrations",
                               -1, &st, NULL) != SQLITE_OK)
            die(db, "prepare");
        long n = 0;
        while (sqlite3_step(st) == SQLITE_ROW)
            n += sqlite3_column_bytes(st, 0) > 0;
        sqlite3_finalize(st);
        sqlite3_close(db);
        printf("%ld\n", n);
        return 0;
    }
    const char *sync = getenv("STRATA_FLOOR_SYNC");
    if (sync && *sync) {
        char p[64];
        snprintf(p, sizeof(p), "PRAGMA synchronous = %s", sync);
        exec(db, p);
    }
    const char *locking = getenv("STRATA_FLOOR_LOCKING");
    const char *after_s = getenv("STRATA_FLOOR_LOCKING_AFTER");
    long after = after_s ? atol(after_s) : 0;
    char lock_sql[64] = "";
    if (locking && *locking)
        snprintf(lock_sql, sizeof(lock_sql), "PRAGMA locking_mode = %s", locking);
    int one = argc > 4 && !strcmp(argv[4], "one");
    char *all = slurp(argv[3]);
    exec(db, "CREATE TABLE IF NOT EXISTS strata_migrations (version text PRIMARY KEY, name text NOT NULL "
             "DEFAULT '', checksum text NOT NULL DEFAULT '', applied_at text NOT NULL, duration_ms integer "
             "NOT NULL DEFAULT 0, state text NOT NULL DEFAULT 'applied', error text, up_checksum text, "
             "note text)");
    sqlite3_stmt *ins;
    if (sqlite3_prepare_v2(db,
                           "INSERT INTO strata_migrations (version, name, checksum, applied_at, duration_ms, "
                           "state, up_checksum) VALUES (?1, ?2, ?3, strftime('%Y-%m-%dT%H:%M:%SZ', 'now'), "
                           "0, 'applied', ?3)",
                           -1, &ins, NULL) != SQLITE_OK)
        die(db, "prepare");
    if (one)
        exec(db, "BEGIN IMMEDIATE");
    long i = 0;
    for (char *p = all; *p;) {
        char *end = strstr(p, "\n--;\n");
        if (end)
            *end = 0;
        char v[32];
        snprintf(v, sizeof(v), "%04ld", ++i);
        if (!one)
            exec(db, "BEGIN IMMEDIATE");
        if (!one && lock_sql[0] && i == after + 1) /* as strata: inside a write transaction */
            exec(db, lock_sql);
        exec(db, p);
        sqlite3_bind_text(ins, 1, v, -1, SQLITE_TRANSIENT);
        sqlite3_bind_text(ins, 2, "m", -1, SQLITE_STATIC);
        sqlite3_bind_text(ins, 3, "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef", -1,
                          SQLITE_STATIC);
        if (sqlite3_step(ins) != SQLITE_DONE)
            die(db, "insert");
        sqlite3_reset(ins);
        if (!one)
            exec(db, "COMMIT");
        p = end ? end + 5 : p + strlen(p);
    }
    if (one)
        exec(db, "COMMIT");
    sqlite3_finalize(ins);
    sqlite3_close(db);
    free(all);
    return 0;
}
