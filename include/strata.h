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
 *     the file, the line in that file and the server's SQLSTATE. The message
 *     is complete on its own (it already names file:line where there is
 *     one, and the SQLSTATE): print it, and use the other fields for
 *     machines, not in front of it. Read it only when the call failed.
 *     Messages and hints name settings by the command line's options, which
 *     map to fields here: --lock-timeout is strata_config.lock_timeout,
 *     --connect-timeout connect_timeout, --table table; --retry-failed,
 *     --allow-out-of-order and --force (STRATA_ALLOW_REMOTE) are the
 *     STRATA_* flags of the call.
 *   - The library never prints and never exits. Progress is reported through
 *     the optional event callback of strata_config.
 *   - Every pointer returned through an out-parameter is owned by the caller
 *     and released with the matching *_free function; every *_free and
 *     strata_close accepts NULL. The handle, the migration set, the
 *     out-parameters and the paths and texts a call works on are required:
 *     NULL is STRATA_USAGE ("strata_up: db and set must not be NULL"), not a
 *     crash; what is documented as "may be NULL" (or NULL for a default)
 *     may be.
 *   - What a call takes (URLs, paths, strata_config and the other option
 *     structs) is read or copied during the call, never kept: it may be freed
 *     as soon as the call returns. A strata_migset is only read; it must
 *     outlive the calls it is passed to, not the handle.
 *   - Option structs are meant to be zero-initialised ("= {0}"): a zero
 *     field means its default.
 *   - Passwords never appear in messages: URLs are reported redacted.
 *   - Threads: a strata handle is used by one thread at a time; different
 *     handles may be used by different threads at once. A strata_migset is
 *     only read: one set may be shared by any number of threads and handles
 *     at once (a set loaded through the checksum cache reads a file's SQL
 *     the first time it is needed, under a lock). strata_interrupt may be
 *     called from any thread or signal handler.
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
#define STRATA_ERRORS(X)                                                                   \
    X(OK, 0, "success")                                                                    \
    X(USAGE, 2, "usage error")                                                             \
    X(DATABASE_URL_REQUIRED, 2, "DATABASE_URL is required")                                \
    X(URL_INVALID, 2, "invalid database URL")                                              \
    X(CONFIG_ERROR, 2, "configuration error")                                              \
    X(DIR_NOT_FOUND, 2, "migration directory not found")                                   \
    X(PARSE_ERROR, 2, "malformed migration file")                                          \
    X(DUPLICATE_VERSION, 2, "two migrations share a version")                              \
    X(TARGET_NOT_FOUND, 2, "target migration not found")                                   \
    X(SINGLE_TRANSACTION_REFUSED, 2, "no-transaction section in a single transaction run") \
    X(FILE_EXISTS, 1, "file already exists")                                               \
    X(IO_ERROR, 1, "input/output error")                                                   \
    X(MIGRATION_FAILED, 1, "migration failed")                                             \
    X(VERIFY_FAILED, 1, "verify section failed")                                           \
    X(CHECKSUM_MISMATCH, 1, "applied migration was modified")                              \
    X(MISSING_MIGRATION, 1, "applied migration has no file")                               \
    X(OUT_OF_ORDER, 1, "pending migration older than the newest applied")                  \
    X(IRREVERSIBLE, 1, "migration has no down section")                                    \
    X(FAILED_MIGRATION, 1, "a no-transaction migration failed earlier")                    \
    X(DB_ERROR, 1, "database error")                                                       \
    X(CONNECT_FAILED, 4, "could not connect to the database")                              \
    X(LOCK_TIMEOUT, 4, "timed out waiting for the migration lock")                         \
    X(NOMEM, 1, "out of memory")                                                           \
    X(INTERNAL, 1, "internal error")                                                       \
    X(SCHEMA_DRIFT, 3, "database schema differs from the schema file")                     \
    X(CHECK_FAILED, 1, "migration check failed")                                           \
    X(NOT_LOCAL, 1, "refused on a database that is not local")                             \
    X(TOOL_MISSING, 2, "a required client program is not installed")                       \
    X(TOOL_TOO_OLD, 2, "a client program is older than the server")                        \
    X(TOOL_FAILED, 1, "a client program failed")                                           \
    X(WAIT_TIMEOUT, 4, "gave up waiting for the database")                                 \
    X(DATABASE_IN_USE, 1, "the database has open connections")                             \
    X(BAD_VALUE, 1, "a value does not fit its target column")                              \
    X(COPY_MISMATCH, 1, "copied data differs from the source")                             \
    X(LOCK_LOST, 1, "another process took over the migration lock")                        \
    X(INVALID_INDEX, 1, "an index was left INVALID")                                       \
    X(POOLER_UNSUPPORTED, 2, "not supported through a connection pooler")                  \
    X(UP_SQL_CHANGED, 1, "the up SQL of an applied migration changed")                     \
    X(FILE_NOT_REGULAR, 2, "not a regular file")                                           \
    X(FILE_TOO_LARGE, 2, "file larger than the limit")                                     \
    X(ADOPT_MISMATCH, 1, "the other tool's version table does not match the migrations")   \
    X(IMPORT_UNSUPPORTED, 2, "the other tool's history holds what strata cannot express")  \
    X(DIFF_DESTRUCTIVE, 1, "the migration would lose data")                                \
    X(DIFF_NOT_PROVEN, 1, "the generated migration does not give the desired schema")      \
    X(DIFF_INPUT_INVALID, 2, "the desired schema file cannot be read or does not run")     \
    X(DIFF_UNSUPPORTED, 2, "the schema holds an object strata diff does not plan")         \
    X(INTERRUPTED, 1, "stopped by a signal")                                               \
    X(RESET_CHANGED, 1, "the database changed since reset listed what it would drop")      \
    X(NOT_ADOPTED, 1, "another tool applied these migrations; adopt them first")           \
    X(TARGET_CHANGED, 1, "the target changed since strata copied into it")                 \
    X(DIR_CHANGED, 1, "the migration directory changed while the migration was made")

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

/*
 * Optional, for programs (not for libraries that use strata): process-wide
 * settings that make the engines' libraries faster for strata's use. Call
 * it once, first, before SQLite is used anywhere in the process and before
 * other threads start; later it changes nothing. Today it turns off
 * SQLite's memory statistics (a mutex per allocation: 6-8% of a no-op `up`
 * on SQLite), so that sqlite3_memory_used(), sqlite3_status() and the soft
 * and hard heap limits stop working in the whole process. The strata CLI
 * calls it.
 */
STRATA_API void strata_global_init(void);

/*
 * PostgreSQL, process-wide, without a call: libpq is loaded on first use,
 * and then, unless the program already set one, strata sets libpq's SSL
 * key-passphrase hook (PQsetSSLKeyPassHook_OpenSSL) to one that answers
 * with the connection's sslpassword, or with none: libpq's default would
 * let OpenSSL prompt on the terminal. A program that wants its own hook
 * sets it before its first strata call on a PostgreSQL URL. strata's
 * transactions run at READ COMMITTED whatever default_transaction_isolation
 * says (docs/migrations.md).
 */

/*
 * Tells strata to stop: the statements its open connections run are
 * cancelled on the server (a PostgreSQL cancel request, sqlite3_interrupt),
 * so that what runs in a transaction rolls back and its locks go, and the
 * loops that wait (for the migration lock, for a server) and the runners
 * stop at their next step with STRATA_INTERRUPTED. Async-signal-safe: meant
 * for a SIGINT/SIGTERM handler, which it does not hold up: the cancel
 * requests go out from a thread that strata_interrupt_init starts (every
 * signal blocked in it), since libpq's cancel request waits for the server
 * without a time limit (in a forked child, which has no such thread, the
 * handler sends them itself). Process-wide and not undone. The cancel
 * requests need strata_interrupt_init, called once before any connection
 * (from then on each connection keeps what cancels it); without it the
 * runs and waits still stop at their next step, but a statement runs to its end (then its
 * migration's transaction is rolled back, not committed; a no-transaction
 * section that ran to its end is recorded as applied).
 */
STRATA_API void strata_interrupt(void);
STRATA_API void strata_interrupt_init(void);
/*
 * When a cancel request gets no answer -- a connection pooler that holds the
 * statement in its queue (a paused or full PgBouncer does not pass the
 * cancel on), a network gone quiet -- strata_interrupt_force, called some
 * seconds after strata_interrupt (the CLI waits 5 s), shuts down the
 * sockets of strata's open PostgreSQL connections: every wait on a server
 * ends at once and the run stops with STRATA_INTERRUPTED. The server rolls
 * back what such a connection had in a transaction; a statement a pooler
 * still held never runs; one the server already runs (outside a
 * transaction) may go on until it ends -- the hint says so, and a
 * no-transaction section is left recorded as interrupted. The connections
 * cannot be used again. Async-signal-safe, process-wide, not undone;
 * implies strata_interrupt's flag (not its cancel requests). SQLite
 * connections are not affected (strata_interrupt stops them at once).
 */
STRATA_API void strata_interrupt_force(void);

/* "LOCK_TIMEOUT" for STRATA_LOCK_TIMEOUT; "INTERNAL" for an unknown code. */
STRATA_API const char *strata_code_name(strata_code code);
/* The process exit code for an error code (0, 1, 2, 3 or 4). */
STRATA_API int strata_code_exit(strata_code code);
/* Resets err to STRATA_OK with empty strings. NULL is a no-op. */
STRATA_API void strata_error_clear(strata_error *err);

/* ------------------------------------------------------------------ URLs */

typedef struct strata_url_opts {
    const char *url;      /* explicit --url, or NULL */
    const char *url_env;  /* variable name, NULL means "DATABASE_URL"; "" is an error */
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
/* the version table when none is named (--table, STRATA_TABLE) */
#define STRATA_DEFAULT_TABLE "strata_migrations"

/*
 * Resolves the database URL: opts->url, then the environment variable, then
 * the same variable in the dotenv file(s), then STRATA_DEFAULT_URL (not in
 * strict mode, which opts->require_url or STRATA_REQUIRE_URL=1 turn on).
 * The default applies only when nothing was given: an empty opts->url, a
 * variable set (in the environment or a file) to "", is URL_INVALID; a
 * variable named by opts->url_env, or looked for in opts->env_file, that is
 * set nowhere is DATABASE_URL_REQUIRED; a dotenv syntax error is
 * CONFIG_ERROR with err->file and err->line. On success *out is a malloc'd
 * string the caller frees; source may be NULL. On error *out is NULL.
 */
STRATA_API strata_code strata_url_resolve(const strata_url_opts *opts, char **out, strata_url_source *source,
                                          strata_error *err);

/* A malloc'd copy of url with any password replaced by "****" (NULL on OOM).
   The password is the one libpq reads (user-info up to the first '@' before
   any '/'), and every password= query parameter; in a URL with another '@'
   (which strata refuses) everything from the password to the last '@'. */
STRATA_API char *strata_url_redact(const char *url);

/* "sqlite" or "postgres" for a URL strata accepts, NULL otherwise. */
STRATA_API const char *strata_url_engine(const char *url);
/* Parses url as strata_open would, without connecting: STRATA_OK, or
   URL_INVALID with strata_open's message and hint (what is wrong, never
   the password). */
STRATA_API strata_code strata_url_check(const char *url, strata_error *err);

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
STRATA_API strata_code strata_migset_load(const char *dir, strata_migset **out, strata_error *err);

/*
 * strata_migset_load in two halves, for a caller with something else to do
 * meanwhile (opening its database): _start opens dir (and fails as
 * strata_migset_load does when it cannot) and reads the files on a thread
 * of its own; _finish helps with what is left, waits for the end, frees the
 * loader and gives the set (fails only when out of memory). Every loader
 * started must be finished.
 *
 * cache_dir (NULL or "": none) is where a checksum cache may be kept (the
 * CLI: $XDG_CACHE_HOME/strata): a file whose device, inode, size, mtime and
 * ctime are those it had when it was last read (more than 10 s after its
 * last change), and that then parsed cleanly, is given its checksum without
 * being read; its SQL is read when first needed (an error then when the
 * file changed meanwhile), so every function works on such a set. The
 * cache is written only when it changes; one that cannot be read or
 * written is ignored.
 */
typedef struct strata_migset_loader strata_migset_loader;
STRATA_API strata_code strata_migset_load_start(const char *dir, const char *cache_dir,
                                                strata_migset_loader **out, strata_error *err);
STRATA_API strata_code strata_migset_load_finish(strata_migset_loader *l, strata_migset **out,
                                                 strata_error *err);

/* One migration compiled into the program (`strata embed` writes an array of
   them): the file name and the file's bytes, borrowed for the call. */
typedef struct strata_migration_src {
    const char *filename; /* "0012_seed_admin_user.sql"; a directory part is ignored */
    const char *text;     /* the file's bytes */
    size_t len;           /* their number; 0: text is NUL-terminated */
} strata_migration_src;

/*
 * The set of the n migrations of v, as strata_migset_load would read them
 * from files of those names and contents: same parsing, same problems, same
 * checksums (a database migrated from files is up to date with the compiled
 * set, and the reverse). The set copies what it needs; v may go away. Paths
 * in messages are the file names; the set's directory reads "(compiled in)".
 */
STRATA_API strata_code strata_migset_from_array(const strata_migration_src *v, size_t n, strata_migset **out,
                                                strata_error *err);
STRATA_API void strata_migset_free(strata_migset *set);
STRATA_API size_t strata_migset_count(const strata_migset *set);
/* The i-th migration in version order; NULL when out of range. */
STRATA_API const strata_migration *strata_migset_get(const strata_migset *set, size_t i);
STRATA_API size_t strata_migset_problem_count(const strata_migset *set);
STRATA_API const strata_problem *strata_migset_problem(const strata_migset *set, size_t i);
/*
 * Warnings found while loading, in version order, then by file: they do not
 * make the set invalid, and the library never prints them (the caller
 * does). A visible *.sql file of dir whose name is not a migration name
 * ("abc_x.sql", "0004_x.SQL") is skipped with "skipping NAME: not a
 * migration name (<digits>_<slug>.sql)"; a migration none of whose up
 * sections holds a statement (the template of strata_new_migration left
 * unchanged) is named with the line of its up marker. code is STRATA_OK.
 */
STRATA_API size_t strata_migset_warning_count(const strata_migset *set);
STRATA_API const strata_problem *strata_migset_warning(const strata_migset *set, size_t i);
/* STRATA_OK when the set has no problems, else the first problem as an error
   (a NULL set is USAGE). */
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
 * The same with the file's text given (strata diff): the file is written to
 * a hidden temporary file of dir, flushed, and linked into place, so a kill
 * or a full disk leaves either the whole file or none.
 */
STRATA_API strata_code strata_write_migration(const char *dir, const char *name, int use_timestamp,
                                              const char *text, char **path_out, strata_error *err);
/*
 * The same, for a migration made from what dir held: written only when the
 * newest version in dir is still `after` ("" for a directory without
 * migrations; NULL: no check), checked under the lock that orders writers.
 * Otherwise DIR_CHANGED and nothing is written (another strata diff or
 * strata new wrote a file meanwhile, which would run before this one).
 */
STRATA_API strata_code strata_write_migration_after(const char *dir, const char *name, int use_timestamp,
                                                    const char *text, const char *after, char **path_out,
                                                    strata_error *err);

/*
 * Renders, without any connection, the SQL that up (or down) would run on the
 * given dialect ("postgres" or "sqlite"; NULL: "postgres") between from
 * (exclusive, NULL = base for up, head for down) and to (inclusive for up;
 * for down, the version that stays applied; NULL = head for up, base for
 * down), bookkeeping included; table NULL or "" is strata_migrations, as in
 * strata_open. from equal to to renders an empty range (the bookkeeping
 * only); a range that runs backwards is USAGE. *out is malloc'd.
 */
STRATA_API strata_code strata_sql_render(const strata_migset *set, const char *dialect, const char *table,
                                         const char *from, const char *to, int down, char **out,
                                         strata_error *err);

/* ------------------------------------------------------------------ lint */

/*
 * Static checks of migration files, without a database (docs/lint.md lists
 * every rule). A section is checked with the PostgreSQL rules when it runs on
 * PostgreSQL (generic or dialect=postgres) and with the SQLite rules when it
 * runs on SQLite; up sections get every rule, down sections only the rules
 * about statements that fail. "-- strata:lint-ignore RULE[,RULE...]" silences
 * rules for the next statement, or for the whole file when it stands before
 * the first marker.
 */
typedef enum strata_lint_severity {
    STRATA_LINT_WARNING = 1, /* worth a look; does not fail `strata lint` */
    STRATA_LINT_ERROR = 2    /* fails, breaks the running app, or locks a table */
} strata_lint_severity;

/* One rule of the catalogue; static storage, never freed. */
typedef struct strata_lint_rule {
    const char *id; /* stable kebab-case id: "index-not-concurrent" */
    strata_lint_severity severity;
    const char *dialects; /* "postgres", "sqlite" or "postgres,sqlite" */
    const char *summary;  /* one line: what it catches and why it matters */
    const char *hint;     /* the safer alternative */
} strata_lint_rule;

typedef struct strata_lint_finding {
    const char *rule; /* rule id (static storage) */
    strata_lint_severity severity;
    const char *file;    /* path of the migration file */
    int line;            /* 1-based: the statement's first line, or the
                             section marker for missing-down */
    const char *version; /* "0012" */
    const char *message; /* one line naming the table or column */
    const char *hint;    /* the safer alternative (static storage) */
} strata_lint_finding;

typedef struct strata_lint_report {
    size_t count;
    strata_lint_finding *findings; /* in version order, then by line */
    size_t errors, warnings;       /* counts by severity */
} strata_lint_report;

/*
 * Lints every migration of set. dialect: "postgres" or "sqlite" to apply
 * only that engine's rules, NULL for both (an unknown name is a USAGE
 * error). Migrations with parse problems are skipped: call
 * strata_migset_check first to report those. *out (count 0 when clean) is
 * freed with strata_lint_report_free; its strings live as long as it does.
 * Fails only with USAGE or NOMEM.
 */
STRATA_API strata_code strata_lint(const strata_migset *set, const char *dialect, strata_lint_report **out,
                                   strata_error *err);
STRATA_API void strata_lint_report_free(strata_lint_report *r);
/* "error" or "warning". */
STRATA_API const char *strata_lint_severity_name(strata_lint_severity s);
/* The rule catalogue, in documentation order; get returns NULL past the end. */
STRATA_API size_t strata_lint_rule_count(void);
STRATA_API const strata_lint_rule *strata_lint_rule_get(size_t i);
/* The rule with that id, or NULL. */
STRATA_API const strata_lint_rule *strata_lint_rule_find(const char *id);

/* -------------------------------------------------------------- database */

typedef struct strata strata;

typedef enum strata_event_kind {
    STRATA_EV_LOCK_WAIT,     /* waiting for another process's lock */
    STRATA_EV_MIGRATE_START, /* about to apply/revert migration (text: id) */
    STRATA_EV_MIGRATE_DONE,  /* applied/reverted (text: id, duration_ms set); with
                                STRATA_SINGLE_TRANSACTION, each sent once the
                                whole run has committed, none when it failed */
    STRATA_EV_SQL,           /* dry run: SQL that would run (text: SQL) */
    STRATA_EV_NOTICE,        /* a server notice or informational line (no
                                final newline) */
    STRATA_EV_WARNING        /* strata's own warning or progress note (text ends
                                without a newline): retrying a connection, a
                                lock lost or already released */
} strata_event_kind;

typedef struct strata_event {
    strata_event_kind kind;
    int down;         /* 1 when reverting */
    const char *text; /* see the kinds above */
    long duration_ms;
} strata_event;

typedef void (*strata_event_fn)(void *userdata, const strata_event *ev);

/*
 * A timeout that tries once and does not wait (for strata_config.lock_timeout,
 * strata_check_opts.lock_timeout, strata_copy_opts.lock_timeout). 0 there
 * means the default, so that a zero-initialised struct waits as the CLI
 * does.
 */
#define STRATA_NO_WAIT 1e-9

typedef struct strata_config {
    const char *table;   /* version table, NULL = STRATA_DEFAULT_TABLE */
    double lock_timeout; /* seconds to wait for the lock; 0 (or <0, NaN) = default 60;
                            STRATA_NO_WAIT = try once */
    int readonly;        /* connect read-only (status, dry runs): never writes */
    strata_event_fn on_event;
    void *userdata;
    /* seconds to keep retrying a connection that fails for a passing reason
       (too many connections, the server starting up, connection refused),
       with backoff; 0 = one attempt. strata_startup uses 30 (or
       STRATA_CONNECT_TIMEOUT from the environment). */
    double connect_timeout;
} strata_config;

/*
 * Opens the database named by url (see strata_url_engine). A SQLite file is
 * created by a read-write open; a read-only open (cfg->readonly) of a
 * missing file sees an empty database and creates nothing, while a URL that
 * asks for the file read-only (?mode=ro) needs it to exist (CONNECT_FAILED,
 * as SQLite's own open). A SQLite URL without a file
 * ("sqlite:///") is URL_INVALID; "sqlite::memory:" is the in-memory one.
 * Errors: URL_INVALID, CONNECT_FAILED.
 */
STRATA_API strata_code strata_open(const char *url, const strata_config *cfg, strata **out,
                                   strata_error *err);
STRATA_API void strata_close(strata *db);
/*
 * Reads the version table now, so that the next call that needs it
 * (strata_up, _down, _redo, _validate, _stamp, _accept) starts from what was
 * read instead of reading it again: a caller with other work to wait for
 * (the CLI waits for its files in strata_migset_load_finish) overlaps the
 * two. It reads what those calls use; with STRATA_READ_TIMES also when each
 * migration ran, which strata_status_get and _history_get show (without
 * it they read the table again). Optional, and no result changes: what was
 * read ahead is used once, and only when the engine can tell that nothing
 * was committed since (SQLite); otherwise it is read again (PostgreSQL
 * reads it under the migration lock, so there this does nothing). Errors:
 * those of reading the table.
 */
#define STRATA_READ_TIMES 0x01
STRATA_API strata_code strata_read_ahead(strata *db, unsigned flags, strata_error *err);
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
    char *applied_at; /* "2026-11-23T10:00:00Z", NULL when not applied */
    long duration_ms;
    char *error; /* failed: the recorded error, else NULL */
} strata_status_entry;

typedef struct strata_status {
    char *current; /* newest applied version, or "base" */
    size_t count;
    strata_status_entry *entries; /* in version order */
    /* PostgreSQL: INVALID indexes on the search path, "schema.name" one per
       line (a failed or interrupted CREATE INDEX CONCURRENTLY, or one being
       built right now); NULL when there are none */
    char *invalid_indexes;
    /* strata_status_get, when strata has recorded nothing here and another
       tool's version table is there: the tool ("alembic", the --from of
       strata import/adopt; "dbmate" for schema_migrations, which
       golang-migrate uses too) and its table; else NULL */
    char *other_tool;
    char *other_tool_table;
} strata_status;

/*
 * Every migration of set and every applied record, merged in version order.
 * Never creates the version table. *out is freed with strata_status_free.
 * A set with problems (strata_migset_check) is that error: with two files
 * of one version, an applied row cannot be given to either.
 */
STRATA_API strata_code strata_status_get(strata *db, const strata_migset *set, strata_status **out,
                                         strata_error *err);
/* For entry i of st (strata_status_get) failed with the mark that a
   no-transaction section writes before it runs ("interrupted before
   completion"): 1 when that run still goes on (SQLite: the process that
   wrote the mark is alive; PostgreSQL: some session holds the migration
   lock), -1 when strata cannot tell (a mark without a pid, or of another
   PID namespace; a standby, which does not see the primary's locks; the
   lock could not be asked about), 0 when it has ended (killed: see
   docs/operations.md) -- and 0 for every other entry. */
STRATA_API int strata_status_running(const strata_status *st, size_t i);
/* The applied records, and failed ones with their error (history), same shape. */
STRATA_API strata_code strata_history_get(strata *db, strata_status **out, strata_error *err);
/* The newest applied version, or "base" (what strata_status_get puts in
   current), without the per-migration list: *version is malloc'd, the
   caller frees it. Never creates the version table. */
STRATA_API strata_code strata_current_get(strata *db, char **version, strata_error *err);
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
                           down: NULL (one step), "-N", version, id, "base";
                           +N/-N with fewer than N to run: TARGET_NOT_FOUND,
                           nothing run */
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
 * unless overridden by flags, and NOT_ADOPTED when strata's version table
 * is not there yet and strata_adopt would record some of set's imported
 * migrations from another tool's version table); on any error nothing more
 * runs and the
 * database stays at the last fully applied migration. *out (may be NULL) lists
 * what ran, also on error. The version table is created once the plan holds
 * (a refused --single-transaction run creates nothing). When a run fails on a
 * SQLite file that this handle created and nothing was committed (the file
 * holds at most an empty version table), the file and its -journal, -wal and
 * -shm are removed.
 */
STRATA_API strata_code strata_up(strata *db, const strata_migset *set, const strata_run_opts *o,
                                 strata_result **out, strata_error *err);
/* Reverts applied migrations, newest first; see strata_run_opts.target. */
STRATA_API strata_code strata_down(strata *db, const strata_migset *set, const strata_run_opts *o,
                                   strata_result **out, strata_error *err);
/* Reverts the newest applied migration and applies it again, under one hold
   of the lock. What strata_up would refuse (o->flags: the IGNORE and ALLOW
   overrides; o->target is ignored) is checked before the down step: a refused
   redo changes nothing. */
STRATA_API strata_code strata_redo(strata *db, const strata_migset *set, const strata_run_opts *o,
                                   strata_result **out, strata_error *err);
/*
 * Makes the version table say exactly "applied up to target" without running
 * any migration SQL ("base" clears it). Resolves failed records at or below
 * the target.
 */
STRATA_API strata_code strata_stamp(strata *db, const strata_migset *set, const char *target,
                                    strata_error *err);

/* What strata_accept did. Strings are malloc'd; release with
   strata_accept_result_release. */
typedef struct strata_accept_result {
    char *version, *name;
    char *old_checksum, *new_checksum;
    int changed;    /* 0: the file already matched, nothing was written */
    int up_changed; /* the up SQL: 0 the same (comments, blanks and the down may
                       differ), 1 changed, -1 unknown (applied before strata
                       recorded up checksums) */
} strata_accept_result;

/*
 * Accepts the edited file of one applied migration (target: version or id):
 * records the file's new checksum, under the lock, with a note in the
 * version table ("checksum accepted <UTC time>, was <old>"), so that `up`
 * no longer stops on CHECKSUM_MISMATCH. For deliberate edits that change
 * nothing that ran: a comment, a typo in the down section. Refuses with
 * UP_SQL_CHANGED when the up SQL itself differs from what was applied, or
 * when that cannot be told, unless force. out may be NULL.
 */
STRATA_API strata_code strata_accept(strata *db, const strata_migset *set, const char *target, int force,
                                     strata_accept_result *out, strata_error *err);
STRATA_API void strata_accept_result_release(strata_accept_result *r);
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
STRATA_API strata_code strata_validate(strata *db, const strata_migset *set, strata_problems **out,
                                       strata_error *err);
STRATA_API void strata_problems_free(strata_problems *p);

/* ---------------------------------------------------------- migration tests */

typedef struct strata_test_case {
    char *file;
    int ok;           /* 1 passed, 0 failed */
    int steps;        /* steps run on this engine */
    int expectations; /* expect sections checked */
    char *message;    /* why it failed (file:line: ...), NULL when ok */
    int line;         /* line of the failure, 0 when unknown */
    long duration_ms;
} strata_test_case;

/*
 * Runs one test file (format: docs/testing.md) on a fresh scratch database
 * made from server_url (see strata_scratch_create; NULL or a SQLite URL
 * means a temporary SQLite file), dropped afterwards.
 * Returns STRATA_OK when the test ran, passed or failed (see tc->ok); an
 * error when it could not run (bad test file, no scratch database). tc is
 * filled either way; release it with strata_test_case_release.
 */
STRATA_API strata_code strata_test_file(const char *server_url, const strata_migset *set, const char *path,
                                        strata_test_case *tc, strata_error *err);
STRATA_API void strata_test_case_release(strata_test_case *tc);

/*
 * Application startup in one call: opens url, loads dir, upgrades to head
 * under the lock (a no-op when up to date; replicas starting together apply
 * each migration once) and closes. When the environment variable
 * STRATA_SKIP_MIGRATIONS is "1" or "true" it returns STRATA_OK at once
 * (development setups that migrate by hand). table may be NULL. url NULL
 * (getenv of a variable that is not set) is DATABASE_URL_REQUIRED; an empty
 * url is URL_INVALID.
 */
STRATA_API strata_code strata_startup(const char *url, const char *dir, const char *table, strata_error *err);
/* strata_startup with migrations already loaded (for example compiled in,
   strata_migset_from_array); set stays the caller's. */
STRATA_API strata_code strata_startup_set(const char *url, const strata_migset *set, const char *table,
                                          strata_error *err);

/* ---------------------------------------------------------------- schema */

/*
 * The schema of the connected database as normalized, deterministic text
 * (docs/schema.md): extensions, enum and other types, sequences, tables
 * (columns in order, constraints, indexes, triggers), views, materialized
 * views and routines, each kind sorted by name; the version table is left
 * out. The same schema prints the same bytes whatever order it was created
 * in. PostgreSQL: the schemas on the search path. *out is malloc'd ("" for
 * an empty database); the caller frees it.
 */
STRATA_API strata_code strata_schema_dump(strata *db, char **out, strata_error *err);

/*
 * A line diff of a and b in unified style: "--- a_label", "+++ b_label",
 * then "@@" hunks with three lines of context, '-' for lines only in a and
 * '+' for lines only in b. *out is NULL when the texts have the same lines
 * (a missing final newline is no difference), else a malloc'd string the
 * caller frees.
 */
STRATA_API strata_code strata_text_diff(const char *a, const char *b, const char *a_label,
                                        const char *b_label, char **out, strata_error *err);

/* ----------------------------------------------------------------- check */

/*
 * A scratch database for `check`: a temporary SQLite file, or a new
 * PostgreSQL database (strata_check_<random>, from template0) on the server
 * of a PostgreSQL URL. Never touches the database the URL names.
 */
typedef struct strata_scratch strata_scratch;

/*
 * Creates a scratch database: on the server of server_url when it is a
 * PostgreSQL URL (the user needs the CREATEDB privilege), else (NULL, or a
 * SQLite URL) a temporary SQLite file in $TMPDIR (or /tmp); an empty URL is
 * URL_INVALID, as everywhere. *out is released with strata_scratch_free,
 * which does not drop the database.
 */
STRATA_API strata_code strata_scratch_create(const char *server_url, strata_scratch **out, strata_error *err);
/* The URL of the scratch database (holds the server URL's password). */
STRATA_API const char *strata_scratch_url(const strata_scratch *s);
/* What to show a user: the database name or the file path. */
STRATA_API const char *strata_scratch_name(const strata_scratch *s);
/* Drops the scratch database (PostgreSQL: DROP DATABASE ... WITH (FORCE))
   or removes the file and its journals. Safe to call twice. */
STRATA_API strata_code strata_scratch_drop(strata_scratch *s, strata_error *err);
STRATA_API void strata_scratch_free(strata_scratch *s);

typedef enum strata_check_state {
    STRATA_CHECK_PASS,         /* every step matched */
    STRATA_CHECK_FAIL,         /* see step, message, diff */
    STRATA_CHECK_IRREVERSIBLE, /* no down section: round trip skipped, the down-walk stops */
    STRATA_CHECK_SKIPPED       /* not reached (message says why) */
} strata_check_state;

/* "ok", "failed", "irreversible", "skipped". */
STRATA_API const char *strata_check_state_name(strata_check_state st);

typedef struct strata_check_entry {
    char *id;      /* "0003_add_index"; "up again" and "base" for the global steps */
    char *version; /* NULL for the global steps */
    strata_check_state state;
    char *step;       /* what failed: "up", "up again", "down", "up after down", "down again",
                      "down base"; NULL unless failed */
    char *message;    /* one line: what failed or why skipped, NULL when ok */
    char *note;       /* something worth knowing that is not a failure, or NULL */
    char *diff;       /* failed schema comparison: '-' expected, '+' actual; else NULL */
    strata_code code; /* the error of a command that failed, STRATA_OK otherwise */
} strata_check_entry;

typedef struct strata_check_report {
    int ok; /* 1 when nothing failed */
    const char *engine;
    size_t count;
    strata_check_entry *migrations; /* one per migration, in version order */
    strata_check_entry up_again;    /* a second up applies nothing */
    strata_check_entry base;        /* down base leaves only the version table */
} strata_check_report;

typedef struct strata_check_opts {
    const char *table;   /* version table, NULL = STRATA_DEFAULT_TABLE */
    double lock_timeout; /* 0 (or <0) = default 60; STRATA_NO_WAIT = try once */
} strata_check_opts;

/*
 * The smoke test of a migration directory on the EMPTY database at url
 * (normally a scratch database; refused with CONFIG_ERROR when it holds any
 * object or applied migration): up one migration at a time recording the
 * schema after each; up again must apply nothing; then newest first, down
 * must give back the schema before the migration, up the schema after it,
 * and down again the schema before it; a migration without a down section
 * stops the walk there; at base only the version table may remain. Verify
 * sections run with every up. Returns STRATA_OK when the test ran, whatever
 * it found (see report->ok); an error when it could not run. *out is freed
 * with strata_check_report_free.
 */
STRATA_API strata_code strata_check_run(const char *url, const strata_migset *set,
                                        const strata_check_opts *opts, strata_check_report **out,
                                        strata_error *err);
/* strata_scratch_create + strata_check_run + strata_scratch_drop, in one
   call (the scratch database is dropped also when the run fails). */
STRATA_API strata_code strata_check(const char *server_url, const strata_migset *set,
                                    const strata_check_opts *opts, strata_check_report **out,
                                    strata_error *err);
STRATA_API void strata_check_report_free(strata_check_report *r);

/* ------------------------------------------------------------------ diff */

/*
 * strata diff (docs/diff.md): the migration from a start schema to a
 * desired one, proven on a scratch database before it is returned.
 */
typedef struct strata_diff_opts {
    const char *server_url;   /* engine and server of the scratch databases (NULL: SQLite) */
    const strata_migset *set; /* start: what this directory builds (when from_url is NULL); with
                                 from_url (may be NULL): a database it migrates must be at its head */
    const char *from_url;     /* start: this database's schema (read only) */
    const char *to_sql;       /* desired: this DDL, run on a scratch database */
    const char *to_label;     /* its file name, for errors */
    const char *to_url;       /* desired: this database's schema (read only) */
    const char *table;        /* version table, NULL = STRATA_DEFAULT_TABLE */
    const char *renames;      /* "table.old:new,old_table:new_table", or NULL */
    int allow_destructive;    /* else DIFF_DESTRUCTIVE when a step loses data */
    int no_concurrently;      /* PostgreSQL: plain CREATE INDEX on existing tables */
} strata_diff_opts;

typedef struct strata_diff_stmt {
    char *kind;  /* "create table", "add column", "create index", ... */
    char *sql;   /* without the final ';' */
    char *loses; /* what data a destructive step loses, or NULL */
    int file;    /* index into files */
} strata_diff_stmt;

typedef struct strata_diff_file {
    int no_transaction;      /* the up runs outside a transaction */
    char *suffix;            /* "" or "_enum_values" / "_indexes": appended to the name */
    char *up, *down;         /* the sections' SQL, one statement per paragraph */
    char *verify;            /* the up's verify section (SQLite table rebuilds: foreign_key_check), or NULL */
    int down_no_transaction; /* the down runs outside a transaction (it adds enum values) */
} strata_diff_file;

typedef struct strata_diff_result {
    const char *engine; /* static */
    size_t nfiles;      /* 0: no difference */
    strata_diff_file *files;
    size_t nstmts; /* the up statements, in order */
    strata_diff_stmt *stmts;
    char *notes;      /* lines: drops and adds that may be renames; NULL when none */
    char *difference; /* the schema text diff, start to desired; NULL when equal */
    char *remaining;  /* DIFF_NOT_PROVEN: what the proof found different */
} strata_diff_result;

/*
 * Computes the migration, applies its parts on a scratch database made from
 * o->server_url, checks that the schema text equals the desired one, runs
 * the downs and checks that the start comes back. *out is set on success
 * and on DIFF_NOT_PROVEN and DIFF_DESTRUCTIVE (for the report); freed with
 * strata_diff_result_free. Scratch databases are dropped before returning.
 * On DIFF_DESTRUCTIVE nothing was proven or made into files: nfiles is 0,
 * and stmts (each with what it loses), notes and difference say what the
 * migration would do; on DIFF_NOT_PROVEN stmts hold the up that failed its
 * proof and remaining what differed (files are not to be written: nfiles
 * may be 0 or count parts whose downs were not all made).
 */
STRATA_API strata_code strata_diff(const strata_diff_opts *o, strata_diff_result **out, strata_error *err);
STRATA_API void strata_diff_result_free(strata_diff_result *r);

/* ------------------------------------------------------------ operations */

/*
 * Operating a database as a whole: create, drop, wait, reset, backup and
 * restore. The URL-based functions open their own connections and close
 * them before returning.
 *
 * Locality: reset and restore refuse a database that is not on this machine
 * unless the caller passes STRATA_ALLOW_REMOTE. Local means a SQLite file
 * (or :memory:), or a PostgreSQL server reached through a Unix socket (no
 * host, or a host starting with '/' or '@') or on a loopback address
 * ("localhost", 127.0.0.0/8, ::1). Every host of a multi-host URL must be
 * local; hostaddr, when given, is what is checked; PGHOST and PGHOSTADDR
 * apply when the URL names no host; a URL that relies on a service file
 * (service=, PGSERVICE) counts as not local. Decided from the URL and the
 * environment alone, without connecting.
 */

/* Flags of the operations below. */
#define STRATA_ALLOW_REMOTE 0x100 /* reset, restore: also on a non-local database */
#define STRATA_DROP_FORCE 0x200   /* drop: terminate other sessions (WITH (FORCE)) */
#define STRATA_NO_OWNER 0x400     /* restore (PostgreSQL): do not restore ownership */

/* STRATA_OK when url names a local database (see above), NOT_LOCAL with the
   offending host in the message, or URL_INVALID. */
STRATA_API strata_code strata_url_check_local(const char *url, strata_error *err);

typedef struct strata_create_opts {
    const char *locale;     /* PostgreSQL LOCALE, NULL = the server's default */
    const char *lc_collate; /* LC_COLLATE, NULL = from locale */
    const char *lc_ctype;   /* LC_CTYPE, NULL = from locale */
    const char *owner;      /* OWNER role, NULL = the connecting user */
} strata_create_opts;

/*
 * Creates the database url names. PostgreSQL: connects to the maintenance
 * database of the same server ("postgres", else "template1") with the same
 * credentials and runs CREATE DATABASE ... ENCODING 'UTF8' TEMPLATE
 * template0 with the options of o (may be NULL); the URL must name the
 * database. SQLite: creates the file as an empty database (the directory
 * must exist). A database that already exists is left alone: STRATA_OK with
 * *existed set to 1. existed and name may be NULL; *name (malloc'd, the
 * caller frees) is the database name or the SQLite path.
 */
STRATA_API strata_code strata_db_create(const char *url, const strata_create_opts *o, int *existed,
                                        char **name, strata_error *err);

/*
 * Drops the database url names. A database that does not exist is not an
 * error: STRATA_OK with *missing set to 1. PostgreSQL: through the
 * maintenance database; when other sessions are connected it fails with
 * DATABASE_IN_USE listing them, unless flags has STRATA_DROP_FORCE (DROP
 * DATABASE ... WITH (FORCE), PostgreSQL 13 or newer). SQLite: removes the
 * file and its -journal, -wal and -shm files; refuses (CONFIG_ERROR) a file
 * that is not a SQLite database and a symbolic link, and (USAGE) a ?mode=ro
 * URL. missing and name may be NULL (see strata_db_create).
 */
STRATA_API strata_code strata_db_drop(const char *url, int flags, int *missing, char **name,
                                      strata_error *err);

/*
 * Waits until the database accepts connections, trying again with a backoff
 * of 100 ms doubling up to 1 s, for at most timeout seconds (<= 0 or NaN: one try).
 * Retried: no answer from the server (connection refused, no socket yet,
 * host name not resolvable yet, network timeout), a server that is starting
 * up, shutting down or in recovery, and "too many connections". Not retried
 * (returned at once, CONNECT_FAILED): a server that answered but refused
 * these credentials or this database (wrong password, unknown user or
 * database, pg_hba.conf), and an invalid URL. On timeout: WAIT_TIMEOUT with
 * the last error in the message. cfg (may be NULL) gives the event callback,
 * which gets a STRATA_EV_NOTICE for every failed try. *attempts (may be
 * NULL) is the number of connection attempts made.
 */
STRATA_API strata_code strata_wait(const char *url, double timeout, const strata_config *cfg, int *attempts,
                                   strata_error *err);

/* An object that reset drops. */
typedef struct strata_object {
    char *kind; /* "table", "view", "sequence", "type", "function", "extension", ... */
    char *name; /* qualified on PostgreSQL: "public.users" */
} strata_object;

typedef struct strata_objects {
    char *schema; /* PostgreSQL: the schema reset empties; SQLite: "main" */
    size_t count;
    strata_object *items;
} strata_objects;

/*
 * What strata_reset would drop: every object of the target schema (on
 * PostgreSQL the first existing schema of the search path; extensions
 * installed there included), plus views of other schemas that depend on
 * them; on SQLite every table, view, index and trigger. Free *out with
 * strata_objects_free.
 */
STRATA_API strata_code strata_reset_list(strata *db, strata_objects **out, strata_error *err);
STRATA_API void strata_objects_free(strata_objects *o);

/*
 * Drops every object of the target schema, then applies set up to head
 * (strata_up). PostgreSQL: under the migration lock and in one transaction,
 * DROP SCHEMA ... CASCADE and CREATE SCHEMA again with the same owner,
 * privileges, comment and default privileges. SQLite: drops every table,
 * view and trigger with foreign keys off, in one transaction.
 * Refuses a database that is not local (NOT_LOCAL) unless flags has
 * STRATA_ALLOW_REMOTE. *out (may be NULL) is up's result, also when up
 * fails after the drop (then the database was reset: nothing of the
 * old schema is left).
 * After strata_reset_list on the same handle, it drops exactly what that
 * list showed: when the database holds other objects by the time the drop
 * runs (a table created since, one gone), it is RESET_CHANGED and nothing
 * was changed. The drop waits for table locks at most the handle's lock
 * timeout (LOCK_TIMEOUT, nothing changed).
 */
STRATA_API strata_code strata_reset(strata *db, const strata_migset *set, int flags, strata_result **out,
                                    strata_error *err);

/*
 * Writes a backup of the database to path, a new file created with mode
 * 0600; an existing file is never overwritten (FILE_EXISTS). path NULL: a
 * name made of the database name and a UTC timestamp in the working
 * directory ("shop-20261123T100000Z.dump"). PostgreSQL: pg_dump
 * --format=custom found in PATH, started without a shell, the password in
 * its environment (PGPASSWORD), never on its command line; TOOL_MISSING
 * when there is no pg_dump, TOOL_TOO_OLD when its major version is older
 * than the server's, TOOL_FAILED with its message when it fails. SQLite:
 * the online backup API, one consistent snapshot even while other processes
 * write. A failed backup leaves no file behind. path "-" is refused
 * (USAGE): a backup is always a file. *path_out (may be NULL,
 * malloc'd) is the file written. cfg (may be NULL): events (pg_dump's
 * warnings as STRATA_EV_NOTICE) and the lock timeout.
 */
STRATA_API strata_code strata_backup(const char *url, const char *path, const strata_config *cfg,
                                     char **path_out, strata_error *err);

/*
 * Puts a backup made by strata_backup back. PostgreSQL: pg_restore --clean
 * --if-exists --single-transaction --exit-on-error, so it either restores
 * every object of the backup or changes nothing (objects that are not in
 * the backup are left alone); STRATA_NO_OWNER adds --no-owner. SQLite: the
 * backup API replaces the whole database with the file's content (creating
 * the database file if needed), after checking that the file has the SQLite
 * header and passes PRAGMA quick_check (USAGE when not, nothing changed). Refuses a database that is not local
 * (NOT_LOCAL) unless flags has STRATA_ALLOW_REMOTE.
 */
STRATA_API strata_code strata_restore(const char *url, const char *path, int flags, const strata_config *cfg,
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
    const char *phase;     /* "schema", "check", "load", "constraints", "done" */
    const char *table;     /* the table that advanced, or NULL */
    long long table_rows;  /* its rows so far */
    long long table_total; /* its rows in the source */
    long long rows;        /* rows loaded by this run, all tables */
    long long total_rows;  /* rows this run will load */
    int tables_done;       /* of the phase's work: tables in "load", a table's */
    int tables_total;      /* keys and indexes in "constraints" */
    double elapsed;        /* seconds since the copy started */
} strata_copy_progress;

/* Called from the copy's threads, one call at a time, at most about ten
   times a second plus once per table start and end. */
typedef void (*strata_copy_progress_fn)(void *userdata, const strata_copy_progress *p);

typedef struct strata_copy_opts {
    int mode; /* STRATA_COPY_* */
    /* only these SQLite tables (any case), ntables names, none NULL (else
       USAGE); ntables 0: all */
    const char *const *tables;
    size_t ntables;
    const char *const *exclude; /* never these: nexclude names, as tables */
    size_t nexclude;
    int jobs;                         /* tables loaded in parallel; <= 0: one per core */
    int on_bad_value;                 /* STRATA_BAD_VALUE_* */
    int no_verify;                    /* skip the read-back comparison */
    int keep_case;                    /* keep names' case instead of folding ASCII to lower */
    const char *table;                /* version table, NULL = STRATA_DEFAULT_TABLE */
    double lock_timeout;              /* seconds to wait for another copy; 0 (or <0): 60;
                                         STRATA_NO_WAIT: try once */
    strata_copy_progress_fn progress; /* may be NULL */
    void *userdata;
    int overwrite; /* a table whose rows changed in the target since an earlier copy
                      is loaded again, those changes lost; 0: TARGET_CHANGED */
} strata_copy_opts;

typedef struct strata_copy_table {
    char *name;      /* PostgreSQL name */
    char *source;    /* SQLite name */
    long long rows;  /* rows in the target after the copy */
    long long bytes; /* COPY data sent by this run */
    double seconds;  /* this run's time on the table */
    int verified;    /* count and checksum read back and equal to the source */
    int skipped;     /* unchanged since an earlier copy: not loaded again */
} strata_copy_table;

typedef struct strata_copy_report {
    size_t count;
    strata_copy_table *tables; /* in load order */
    size_t nwarnings;
    char **warnings; /* what was not carried over, by name; one line each */
    char *version;   /* migration version carried over, NULL when none */
    long long rows;
    double seconds;       /* the whole run */
    double load_seconds;  /* until the last table's rows committed (reading, checking,
                             loading, verifying; other tables' keys build meanwhile) */
    double after_seconds; /* after that: the rest of the keys, indexes, foreign keys,
                             sequences, views */
} strata_copy_report;

/*
 * Copies the SQLite database src_url into the PostgreSQL database dst_url
 * (docs/copy.md): tables, rows, keys, indexes, sequences and the migration
 * version table. Each table loads in one transaction together with its row
 * in the target's strata_copy_state table, and is verified (row count and
 * content checksum read back with a plain SELECT) before it commits. All
 * tables are read from one snapshot of the source (its read transactions end
 * once the rows are read). Running the same call again after a failure or a
 * kill finishes the copy and skips tables that are unchanged. Errors: USAGE, URL_INVALID, CONNECT_FAILED,
 * LOCK_TIMEOUT, CONFIG_ERROR (target conflicts), BAD_VALUE, COPY_MISMATCH,
 * DB_ERROR. *out (may be NULL) gets the report, also on error (tables done
 * so far); free it with strata_copy_report_free.
 */
STRATA_API strata_code strata_copy(const char *src_url, const char *dst_url, const strata_copy_opts *o,
                                   strata_copy_report **out, strata_error *err);
STRATA_API void strata_copy_report_free(strata_copy_report *r);

/* --------------------------------------------------------------- import */
typedef struct strata_import_opts {
    const char *dialects; /* "postgres,sqlite" or NULL */
    int force;            /* overwrite: write into a directory that has .sql files */
    int expand_env;       /* goose ENVSUB: expand ${VAR} from the environment */
} strata_import_opts;

typedef struct strata_import_report {
    size_t count;
    char **files;      /* written, relative to dir, in version order */
    size_t renumbered; /* files whose version differs from the tool's (0 or count) */
    char *message;     /* one line: what was done, or NULL */
} strata_import_report;

/*
 * Writes a strata migration directory dir (created if missing) from another
 * tool's directory src (docs/adopting.md). format: "dbmate", "goose",
 * "golang-migrate", "flyway", "sqitch" (src holds sqitch.plan), "pop",
 * "alembic" (src holds alembic.ini; through Alembic's own offline mode);
 * others are refused (USAGE). The SQL is carried byte for byte; each file
 * starts with the line
 *   -- import: tool=<tool> version=<original version> file=<file[,file]>
 * Versions are kept when they are digits and strata's numeric order agrees
 * with the tool's; otherwise every file is renumbered 0001, 0002... in the
 * tool's order. What strata cannot express is refused with
 * IMPORT_UNSUPPORTED naming the file, before anything is written. A dir that
 * already holds .sql files is refused (FILE_EXISTS) unless o->force. After
 * writing, the directory is loaded as `validate` would: its first problem
 * is returned as the error (the files stay). o may be NULL. *out (may be
 * NULL) is set on success and when files were written; free it with
 * strata_import_report_free.
 */
STRATA_API strata_code strata_import(const char *format, const char *src, const char *dir,
                                     const strata_import_opts *o, strata_import_report **out,
                                     strata_error *err);
STRATA_API void strata_import_report_free(strata_import_report *r);

/* ---------------------------------------------------------------- adopt */

/* One migration that strata_adopt records (or found already recorded). */
typedef struct strata_adopt_entry {
    char *version;  /* strata's version: "0003" */
    char *name;     /* "create_posts" */
    char *original; /* the other tool's version: "3d4e5f607182", "20240101120000" */
    int recorded;   /* 1: already applied in strata's table, nothing written */
} strata_adopt_entry;

typedef struct strata_adopt_report {
    char *tool;  /* the format adopted from: "dbmate" */
    char *table; /* the other tool's table that was read: "schema_migrations" */
    size_t count;
    strata_adopt_entry *entries; /* in strata's version order */
    size_t written;              /* rows written into strata's table (0 with dry_run) */
} strata_adopt_report;

/*
 * Reads the version table of the tool that `format` names ("dbmate", "goose",
 * "golang-migrate", "flyway", "sqitch", "pop", "alembic") on db, maps each
 * applied version to the migration of set whose import header says
 * tool=<format> version=<it>, and records those as applied without running
 * them: under the migration lock, in one transaction, with the files'
 * checksums. The other tool's table is only read. o may be NULL (the tool's
 * default table, no dry run). With o->dry_run nothing is
 * written (and no lock taken); the report says what would be. Refuses with
 * nothing changed (ADOPT_MISMATCH) when the other tool's state is dirty or
 * failed, an applied version has no imported migration, or strata's table
 * already holds a row that disagrees. Also USAGE (unknown format), the
 * errors of strata_migset_check, LOCK_TIMEOUT and DB_ERROR. *out (may be
 * NULL) is freed with strata_adopt_report_free.
 */
typedef struct strata_adopt_opts {
    int dry_run;       /* check and report; write nothing, take no lock */
    const char *table; /* the other tool's version table when it was renamed
                          (dbmate --migrations-table, goose -table, Flyway
                          flyway.table, Alembic version_table, golang-migrate
                          x-migrations-table, pop migration_table_name): a
                          name on the search path; NULL: the tool's default.
                          Not for sqitch (USAGE) */
} strata_adopt_opts;

STRATA_API strata_code strata_adopt(strata *db, const strata_migset *set, const char *format,
                                    const strata_adopt_opts *o, strata_adopt_report **out, strata_error *err);
STRATA_API void strata_adopt_report_free(strata_adopt_report *r);

#ifdef __cplusplus
}
#endif
#endif /* STRATA_H */
