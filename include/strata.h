/*
 * strata.h -- the public API of libstrata.
 *
 * This header is the whole API: a symbol that is not declared here is not
 * part of it, and the library exports nothing else (-fvisibility=hidden).
 * The strata command-line program includes only this header.
 *
 * Conventions
 *   - Functions that can fail return a strata_code (STRATA_OK == 0) and, when
 *     given a non-NULL strata_error, fill it with the code, a one-line message
 *     (lowercase, no full stop), an optional hint and, for migration errors,
 *     the file, the line in that file and the server's SQLSTATE.
 *   - The library never prints and never exits. Progress is reported through
 *     the optional event callback of strata_config.
 *   - Every pointer returned through an out-parameter is owned by the caller
 *     and released with the matching *_free function; every *_free and
 *     strata_close accepts NULL.
 *   - Passwords never appear in messages: URLs are reported redacted.
 */
#ifndef STRATA_H
#define STRATA_H

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

#if defined(__GNUC__)
#define STRATA_API __attribute__((visibility("default")))
#else
#define STRATA_API
#endif

#define STRATA_VERSION "0.1.0"

/*
 * The stable error list: enum name, process exit code, default message.
 * Codes are strings that users script against (strata_code_name); never
 * rename or renumber an entry, only append.
 */
#define STRATA_ERRORS(X)                                                        \
    X(OK, 0, "success")                                                         \
    X(USAGE, 2, "usage error")                                                  \
    X(DATABASE_URL_REQUIRED, 2, "DATABASE_URL is required")                     \
    X(URL_INVALID, 2, "invalid database URL")                                   \
    X(CONFIG_ERROR, 2, "configuration error")                                   \
    X(DIR_NOT_FOUND, 2, "migration directory not found")                        \
    X(PARSE_ERROR, 2, "malformed migration file")                               \
    X(DUPLICATE_VERSION, 2, "two migrations share a version")                   \
    X(TARGET_NOT_FOUND, 2, "target migration not found")                        \
    X(SINGLE_TRANSACTION_REFUSED, 2, "no-transaction section in a single transaction run") \
    X(FILE_EXISTS, 1, "file already exists")                                    \
    X(IO_ERROR, 1, "input/output error")                                        \
    X(MIGRATION_FAILED, 1, "migration failed")                                  \
    X(VERIFY_FAILED, 1, "verify section failed")                                \
    X(CHECKSUM_MISMATCH, 1, "applied migration was modified")                   \
    X(MISSING_MIGRATION, 1, "applied migration has no file")                    \
    X(OUT_OF_ORDER, 1, "pending migration older than the newest applied")       \
    X(IRREVERSIBLE, 1, "migration has no down section")                         \
    X(FAILED_MIGRATION, 1, "a no-transaction migration failed earlier")         \
    X(DB_ERROR, 1, "database error")                                            \
    X(CONNECT_FAILED, 4, "could not connect to the database")                   \
    X(LOCK_TIMEOUT, 4, "timed out waiting for the migration lock")              \
    X(NOMEM, 1, "out of memory")                                                \
    X(INTERNAL, 1, "internal error")                                            \
    X(BAD_VALUE, 1, "a value does not fit its target column")                   \
    X(COPY_MISMATCH, 1, "copied data differs from the source")

typedef enum strata_code {
#define STRATA_X_ENUM(name, exit, msg) STRATA_##name,
    STRATA_ERRORS(STRATA_X_ENUM)
#undef STRATA_X_ENUM
    STRATA_CODE_COUNT
} strata_code;

typedef struct strata_error {
    strata_code code;
    char message[1024]; /* one line, no trailing newline */
    char hint[512];     /* "" when there is none */
    char file[1024];    /* migration file, "" when not about a file */
    int line;           /* 1-based line in file, 0 when unknown */
    char sqlstate[6];   /* PostgreSQL SQLSTATE, "" when none */
} strata_error;

/* "LOCK_TIMEOUT" for STRATA_LOCK_TIMEOUT; "INTERNAL" for an unknown code. */
STRATA_API const char *strata_code_name(strata_code code);
/* The process exit code for an error code (0, 1, 2, 3 or 4). */
STRATA_API int strata_code_exit(strata_code code);
/* Resets err to STRATA_OK with empty strings. NULL is a no-op. */
STRATA_API void strata_error_clear(strata_error *err);

/* ------------------------------------------------------------------ URLs */

typedef struct strata_url_opts {
    const char *url;      /* explicit --url, or NULL */
    const char *url_env;  /* variable name, NULL means "DATABASE_URL" */
    const char *env_file; /* explicit dotenv file, or NULL for .env/.env.local */
    int require_url;      /* strict mode: no embedded default */
} strata_url_opts;

/* Where a resolved URL came from. */
typedef enum strata_url_source {
    STRATA_URL_FROM_FLAG,
    STRATA_URL_FROM_ENV,
    STRATA_URL_FROM_ENV_FILE,
    STRATA_URL_FROM_DEFAULT
} strata_url_source;

#define STRATA_DEFAULT_URL "sqlite:///./dev.sqlite3"

/*
 * Resolves the database URL: opts->url, then the environment variable, then
 * the same variable in the dotenv file(s), then STRATA_DEFAULT_URL (not in
 * strict mode, which opts->require_url or STRATA_REQUIRE_URL=1 turn on).
 * On success *out is a malloc'd string the caller frees; source may be NULL.
 */
STRATA_API strata_code strata_url_resolve(const strata_url_opts *opts, char **out,
                                          strata_url_source *source, strata_error *err);

/* A malloc'd copy of url with any password replaced by "****" (NULL on OOM). */
STRATA_API char *strata_url_redact(const char *url);

/* "sqlite" or "postgres" for a URL strata accepts, NULL otherwise. */
STRATA_API const char *strata_url_engine(const char *url);

/* ------------------------------------------------------------ migrations */

typedef struct strata_migset strata_migset;

/* A read-only view of one migration file, valid while its set lives. */
typedef struct strata_migration {
    const char *id;       /* file stem: "0012_seed_admin_user" */
    const char *version;  /* digits as written: "0012" */
    const char *name;     /* slug: "seed_admin_user" */
    const char *path;     /* path of the file */
    const char *checksum; /* hex SHA-256 of the file with CRLF folded to LF */
} strata_migration;

/* A problem found while loading (parse errors, duplicate versions). */
typedef struct strata_problem {
    strata_code code;
    const char *version; /* may be "" */
    const char *detail;
    const char *file;
    int line;
} strata_problem;

/*
 * Loads every <version>_<slug>.sql file of dir. Files that cannot be parsed
 * are recorded as problems rather than failing the load, so `validate` can
 * list all of them; strata_migset_check() turns the first problem into an
 * error. Fails only when the directory cannot be read (DIR_NOT_FOUND).
 */
STRATA_API strata_code strata_migset_load(const char *dir, strata_migset **out,
                                          strata_error *err);
STRATA_API void strata_migset_free(strata_migset *set);
STRATA_API size_t strata_migset_count(const strata_migset *set);
/* The i-th migration in version order; NULL when out of range. */
STRATA_API const strata_migration *strata_migset_get(const strata_migset *set, size_t i);
STRATA_API size_t strata_migset_problem_count(const strata_migset *set);
STRATA_API const strata_problem *strata_migset_problem(const strata_migset *set, size_t i);
/* STRATA_OK when the set has no problems, else the first problem as an error. */
STRATA_API strata_code strata_migset_check(const strata_migset *set, strata_error *err);

/*
 * Writes the next migration file of dir (created if missing) from the
 * template: the next 4-digit version, or a UTC timestamp when use_timestamp
 * is set or the directory already uses timestamps. *path_out (malloc'd) is
 * the new file's path.
 */
STRATA_API strata_code strata_new_migration(const char *dir, const char *name, int use_timestamp,
                                            char **path_out, strata_error *err);

/*
 * Renders, without any connection, the SQL that up (or down) would run on the
 * given dialect ("postgres" or "sqlite") between from (exclusive, NULL = base
 * for up, head for down) and to (inclusive for up; for down, the version that
 * stays applied; NULL = head for up, base for down), bookkeeping included.
 * *out is malloc'd.
 */
STRATA_API strata_code strata_sql_render(const strata_migset *set, const char *dialect,
                                         const char *table, const char *from, const char *to,
                                         int down, char **out, strata_error *err);

/* -------------------------------------------------------------- database */

typedef struct strata strata;

typedef enum strata_event_kind {
    STRATA_EV_LOCK_WAIT,     /* waiting for another process's lock */
    STRATA_EV_MIGRATE_START, /* about to apply/revert migration (text: id) */
    STRATA_EV_MIGRATE_DONE,  /* applied/reverted (text: id, duration_ms set) */
    STRATA_EV_SQL,           /* dry run: SQL that would run (text: SQL) */
    STRATA_EV_NOTICE         /* a server notice or informational line */
} strata_event_kind;

typedef struct strata_event {
    strata_event_kind kind;
    int down;          /* 1 when reverting */
    const char *text;  /* see the kinds above */
    long duration_ms;
} strata_event;

typedef void (*strata_event_fn)(void *userdata, const strata_event *ev);

typedef struct strata_config {
    const char *table;     /* version table, NULL = "strata_migrations" */
    double lock_timeout;   /* seconds to wait for the lock; <0 = default 60 */
    int readonly;          /* connect read-only (status, dry runs): never writes */
    strata_event_fn on_event;
    void *userdata;
} strata_config;

/*
 * Opens the database named by url (see strata_url_engine). A SQLite file is
 * created on first write; a read-only open of a missing file sees an empty
 * database and creates nothing. Errors: URL_INVALID, CONNECT_FAILED.
 */
STRATA_API strata_code strata_open(const char *url, const strata_config *cfg, strata **out,
                                   strata_error *err);
STRATA_API void strata_close(strata *db);
/* "sqlite" or "postgres". */
STRATA_API const char *strata_engine(const strata *db);

typedef enum strata_state {
    STRATA_STATE_APPLIED,
    STRATA_STATE_PENDING,
    STRATA_STATE_MODIFIED,
    STRATA_STATE_MISSING,
    STRATA_STATE_FAILED
} strata_state;

/* "applied", "pending", "modified", "missing", "failed". */
STRATA_API const char *strata_state_name(strata_state st);

typedef struct strata_status_entry {
    char *version;
    char *name;
    strata_state state;
    char *applied_at;  /* "2026-11-23T10:00:00Z", NULL when not applied */
    long duration_ms;
    char *error;       /* failed: the recorded error, else NULL */
} strata_status_entry;

typedef struct strata_status {
    char *current;     /* newest applied version, or "base" */
    size_t count;
    strata_status_entry *entries; /* in version order */
} strata_status;

/*
 * Every migration of set and every applied record, merged in version order.
 * Never creates the version table. *out is freed with strata_status_free.
 */
STRATA_API strata_code strata_status_get(strata *db, const strata_migset *set,
                                         strata_status **out, strata_error *err);
/* Only the applied records (history), same shape. */
STRATA_API strata_code strata_history_get(strata *db, strata_status **out, strata_error *err);
STRATA_API void strata_status_free(strata_status *st);

/* Flags for strata_run_opts.flags */
#define STRATA_IGNORE_CHECKSUMS 0x01
#define STRATA_IGNORE_MISSING 0x02
#define STRATA_ALLOW_OUT_OF_ORDER 0x04
#define STRATA_DRY_RUN 0x08
#define STRATA_SINGLE_TRANSACTION 0x10
#define STRATA_RETRY_FAILED 0x20

typedef struct strata_run_opts {
    const char *target; /* up: NULL/"head", version, id, "+N";
                           down: NULL (one step), "-N", version, id, "base" */
    int flags;
} strata_run_opts;

typedef struct strata_step {
    char *version;
    char *name;
    int down;
    long duration_ms;
} strata_step;

typedef struct strata_result {
    size_t count;
    strata_step *steps; /* in the order they ran */
    char *current;      /* version after the run (a dry run changes nothing) */
} strata_result;

/*
 * Applies pending migrations up to the target, each in its own transaction
 * together with its version-table row, under the migration lock. Validates
 * first (CHECKSUM_MISMATCH, MISSING_MIGRATION, OUT_OF_ORDER, FAILED_MIGRATION
 * unless overridden by flags); on any error nothing more runs and the
 * database stays at the last fully applied migration. *out (may be NULL) lists
 * what ran, also on error.
 */
STRATA_API strata_code strata_up(strata *db, const strata_migset *set, const strata_run_opts *o,
                                 strata_result **out, strata_error *err);
/* Reverts applied migrations, newest first; see strata_run_opts.target. */
STRATA_API strata_code strata_down(strata *db, const strata_migset *set,
                                   const strata_run_opts *o, strata_result **out,
                                   strata_error *err);
/* Reverts the newest applied migration and applies it again. */
STRATA_API strata_code strata_redo(strata *db, const strata_migset *set, const strata_run_opts *o,
                                   strata_result **out, strata_error *err);
/*
 * Makes the version table say exactly "applied up to target" without running
 * any migration SQL ("base" clears it). Resolves failed records at or below
 * the target.
 */
STRATA_API strata_code strata_stamp(strata *db, const strata_migset *set, const char *target,
                                    strata_error *err);
STRATA_API void strata_result_free(strata_result *r);

/*
 * Compares the set with the database: every load problem, plus
 * CHECKSUM_MISMATCH, MISSING_MIGRATION, OUT_OF_ORDER and FAILED_MIGRATION.
 * *out lists them (count 0 when all is well); free with strata_problems_free.
 */
typedef struct strata_problems {
    size_t count;
    strata_problem *items; /* strings owned by the list */
} strata_problems;
STRATA_API strata_code strata_validate(strata *db, const strata_migset *set,
                                       strata_problems **out, strata_error *err);
STRATA_API void strata_problems_free(strata_problems *p);

/*
 * Application startup in one call: opens url, loads dir, upgrades to head
 * under the lock (a no-op when up to date; replicas starting together apply
 * each migration once) and closes. When the environment variable
 * STRATA_SKIP_MIGRATIONS is "1" or "true" it returns STRATA_OK at once
 * (development setups that migrate by hand). table may be NULL.
 */
STRATA_API strata_code strata_startup(const char *url, const char *dir, const char *table,
                                      strata_error *err);

/* ------------------------------------------------------------------ copy */

/* strata_copy_opts.mode */
#define STRATA_COPY_ALL 0         /* create the tables, load, constraints after */
#define STRATA_COPY_SCHEMA_ONLY 1 /* create tables, constraints, indexes; no rows */
#define STRATA_COPY_DATA_ONLY 2   /* load into existing tables, columns by name */

/* strata_copy_opts.on_bad_value: what to do with a value that does not fit
   its target column (docs/copy.md) */
#define STRATA_BAD_VALUE_FAIL 0 /* stop; the error names table, rowid, column, value */
#define STRATA_BAD_VALUE_NULL 1 /* write NULL and list it in the report */
#define STRATA_BAD_VALUE_TEXT 2 /* create such a column as text (bytea for bytes) */

typedef struct strata_copy_progress {
    const char *phase;      /* "schema", "check", "load", "constraints", "done" */
    const char *table;      /* the table that advanced, or NULL */
    long long table_rows;   /* its rows so far */
    long long table_total;  /* its rows in the source */
    long long rows;         /* rows loaded by this run, all tables */
    long long total_rows;   /* rows this run will load */
    int tables_done;
    int tables_total;
    double elapsed;         /* seconds since the copy started */
} strata_copy_progress;

/* Called from the copy's threads, one call at a time, at most about ten
   times a second plus once per table start and end. */
typedef void (*strata_copy_progress_fn)(void *userdata, const strata_copy_progress *p);

typedef struct strata_copy_opts {
    int mode;                   /* STRATA_COPY_* */
    const char *const *tables;  /* only these SQLite tables (any case); NULL: all */
    size_t ntables;
    const char *const *exclude; /* never these */
    size_t nexclude;
    int jobs;                   /* tables loaded in parallel; <= 0: one per core */
    int on_bad_value;           /* STRATA_BAD_VALUE_* */
    int no_verify;              /* skip the read-back comparison */
    int keep_case;              /* keep names' case instead of folding ASCII to lower */
    const char *table;          /* version table, NULL = "strata_migrations" */
    double lock_timeout;        /* seconds to wait for another copy; < 0: 60 */
    strata_copy_progress_fn progress; /* may be NULL */
    void *userdata;
} strata_copy_opts;

typedef struct strata_copy_table {
    char *name;        /* PostgreSQL name */
    char *source;      /* SQLite name */
    long long rows;    /* rows in the target after the copy */
    long long bytes;   /* COPY data sent by this run */
    double seconds;    /* this run's time on the table */
    int verified;      /* count and checksum read back and equal to the source */
    int skipped;       /* unchanged since an earlier copy: not loaded again */
} strata_copy_table;

typedef struct strata_copy_report {
    size_t count;
    strata_copy_table *tables; /* in load order */
    size_t nwarnings;
    char **warnings;   /* what was not carried over, by name; one line each */
    char *version;     /* migration version carried over, NULL when none */
    long long rows;
    double seconds;       /* the whole run */
    double load_seconds;  /* reading, checking, loading and verifying the rows */
    double after_seconds; /* keys, indexes, foreign keys, sequences, views */
} strata_copy_report;

/*
 * Copies the SQLite database src_url into the PostgreSQL database dst_url
 * (docs/copy.md): tables, rows, keys, indexes, sequences and the migration
 * version table. Each table loads in one transaction together with its row
 * in the target's strata_copy_state table, and is verified (row count and
 * content checksum read back with a plain SELECT) before it commits; running
 * the same call again after a failure or a kill finishes the copy and skips
 * tables that are unchanged. Errors: USAGE, URL_INVALID, CONNECT_FAILED,
 * LOCK_TIMEOUT, CONFIG_ERROR (target conflicts), BAD_VALUE, COPY_MISMATCH,
 * DB_ERROR. *out (may be NULL) gets the report, also on error (tables done
 * so far); free it with strata_copy_report_free.
 */
STRATA_API strata_code strata_copy(const char *src_url, const char *dst_url,
                                   const strata_copy_opts *o, strata_copy_report **out,
                                   strata_error *err);
STRATA_API void strata_copy_report_free(strata_copy_report *r);

#ifdef __cplusplus
}
#endif
#endif /* STRATA_H */
