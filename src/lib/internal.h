/*
 * internal.h -- declarations shared inside libstrata; never installed.
 */
#ifndef STRATA_INTERNAL_H
#define STRATA_INTERNAL_H

#include "strata.h"
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <strings.h>
#include <sys/types.h>

#define ATTR_PRINTF(a, b) __attribute__((format(printf, a, b)))

/* ---- error.c: format the message where it fails */
/* Sets err (if non-NULL) to code with a printf-style message; returns code. */
strata_code err_set(strata_error *err, strata_code code, const char *fmt, ...) ATTR_PRINTF(3, 4);
/* Puts a printf-style text before the message of an already set error
   (what strata was doing), cutting the message's end if it must. */
void err_prefix(strata_error *err, const char *fmt, ...) ATTR_PRINTF(2, 3);
/* Sets the hint of an already set error. */
void err_hint(strata_error *err, const char *fmt, ...) ATTR_PRINTF(2, 3);
/* Adds to the hint of an already set error, after "; " when it has one. */
void err_hint_more(strata_error *err, const char *fmt, ...) ATTR_PRINTF(2, 3);
/* Changes the code of an already set error, keeping its message. */
void err_set_code(strata_error *err, strata_code code);
/* Sets the file and line of an already set error. */
void err_where(strata_error *err, const char *file, int line);

/* ---- buf.c: a growing byte buffer; data is always NUL-terminated */
typedef struct buf {
    char *data;
    size_t len, cap;
    int oom; /* set once an allocation failed; later appends are no-ops */
} buf;
void buf_init(buf *b);
void buf_release(buf *b);
void buf_add(buf *b, const char *s, size_t n);
void buf_adds(buf *b, const char *s);
void buf_addf(buf *b, const char *fmt, ...) ATTR_PRINTF(2, 3);
/* Appends s as a single-quoted SQL literal. */
void buf_add_sqlstr(buf *b, const char *s);
/* Appends an identifier, double-quoted; "a.b" becomes "a"."b". */
void buf_add_ident(buf *b, const char *s);
/* Appends s as a double-quoted identifier (no splitting at dots). */
void buf_add_quoted_ident(buf *b, const char *s);
/* Returns the storage (caller frees) and resets b; NULL if an append failed. */
char *buf_detach(buf *b);
/* s as buf_add_ident appends it, malloc'd (caller frees); NULL when out of memory. */
char *ident_dup(const char *s);

/* The lines of a NUL-terminated text (p may be NULL): returns the line at *p,
   its length without the '\n' in *n, and moves *p past it; NULL at the end.
   A last line without '\n' counts; an empty text has no lines. */
const char *line_next(const char **p, size_t *n);
/* line_next for a writable text: the line's '\n' is overwritten with a NUL,
   so the line is a string. */
char *line_cut(char **p);

/* Empties b (its storage stays). Inline: the copy resets its scratch
   buffers for every value. */
static inline void buf_reset(buf *b)
{
    b->len = 0;
    if (b->data)
        b->data[0] = 0;
}

/* ---- buf.c: growable arrays (git's ALLOC_GROW)
 *
 * arr_grow makes room for need elements of elsize bytes in the array whose
 * pointer is at pp (a T **, passed as void *) and which has room for *cap:
 * the capacity doubles (from 8) until it holds need, the contents are kept.
 * Returns 0, or -1 when out of memory or on overflow, with the array and
 * *cap unchanged (the caller still owns and frees it). Use it through
 * ARR_GROW(p, cap, need), which takes the pointer and the size_t capacity
 * as lvalues and the element size from *p:
 *
 *     if (ARR_GROW(l->v, l->cap, l->n + 1))
 *         return -1;
 *     l->v[l->n++] = x;
 */
int arr_grow(void *pp, size_t *cap, size_t need, size_t elsize);
#define ARR_GROW(p, cap, need) arr_grow(&(p), &(cap), (need), sizeof(*(p)))

/* Writes all n bytes of p to fd, again after EINTR and short writes; 0, or
   -1 with errno set (EIO when write() wrote nothing). */
int fd_write_all(int fd, const void *p, size_t n);
/* mkdir -p: dir and its missing parents with mode; 0, or -1 with errno set
   (ENAMETOOLONG for a path of 4,096 bytes or more) and, when failed is not
   NULL, the path that could not be made in failed. */
int mkdir_p(const char *dir, unsigned mode, char *failed, size_t failedsz);

/* Numbers as SQL, SQLite and the environment write them ('.' as the
   decimal point), whatever locale the program embedding the library set
   with setlocale (a German LC_NUMERIC makes strtod stop at the '.' of
   "1.5", and printf write "1,5"). c_strtod is strtod in the "C" locale;
   c_fmt_double writes d with printf's %.*g in the "C" locale into out
   (outsz bytes, NUL-terminated). Thread-safe. */
double c_strtod(const char *s, char **end);
void c_fmt_double(char *out, size_t outsz, int prec, double d);
/* Case mapping and case-insensitive comparison of ASCII letters, whatever
   the locale (under tr_TR c_tolower('I') is not 'i'): what the library uses
   instead of tolower, toupper, strcasecmp, strncasecmp and strcasestr. */
int c_tolower(int c);
int c_toupper(int c);
int c_strcasecmp(const char *a, const char *b);
int c_strncasecmp(const char *a, const char *b, size_t n);
char *c_strcasestr(const char *hay, const char *needle);

/* FNV-1a of the string s, continuing from h (FNV1A_START for a new one):
   a stable 64-bit hash (the migration lock's key, lint's name sets). */
#define FNV1A_START 1469598103934665603ULL
static inline uint64_t fnv1a(uint64_t h, const char *s)
{
    for (; *s; s++)
        h = (h ^ (unsigned char)*s) * 1099511628211ULL;
    return h;
}

/* The one clock: milliseconds on the monotonic clock, and a sleep that
   restarts after signals (but ends after strata_interrupt). */
double clock_ms(void);
void sleep_ms(double ms);
/* One step of a retry loop's backoff: sleeps *delay_ms -- scaled by a
   random factor in [0.5, 1) when jitter, so that processes that started
   together do not retry in step -- but not past deadline (clock_ms time;
   now is the current one), then grows *delay_ms by factor, to max_ms. */
void backoff_sleep(double *delay_ms, double factor, double max_ms, int jitter, double now, double deadline);

/* Interrupts (interrupt.c): a connection is tracked from open to close
   with h, which stop(h) stops (from a signal handler, on any thread, at any
   time: it must be async-signal-safe) and release(h) frees when untracked
   (at once, when strata_interrupt_init was not called); fd is its socket,
   which strata_interrupt_force shuts down (-1: none). intr_requested() is
   true once strata_interrupt (or _force) was called, intr_forced() once
   strata_interrupt_force was; intr_error sets INTERRUPTED with what
   ("before ...") appended. */
typedef void (*intr_fn)(void *h);
void intr_track(const void *key, void *h, intr_fn stop, intr_fn release, int fd);
void intr_untrack(const void *key);
int intr_requested(void);
int intr_forced(void);
int intr_ready(void); /* strata_interrupt_init ran: tracking is worth it */
strata_code intr_error(strata_error *err, const char *what);

char *xstrdup(const char *s); /* NULL-safe strdup */
char *xstrndup(const char *s, size_t n);

/* ---- version.c */
/* Compares two digit strings numerically, without integer conversion. */
int version_cmp(const char *a, const char *b);

/* ---- sqlsplit.c: statement splitter */
enum { DIALECT_ANY = 0, DIALECT_POSTGRES = 1, DIALECT_SQLITE = 2 };
/* Or'ed into the dialect of sql_split and sql_token_next: PostgreSQL with
   standard_conforming_strings off, where '...' takes backslash escapes. */
#define SQL_NONSTD_STRINGS 0x100

typedef struct sql_stmt {
    const char *text; /* start of the statement's first token */
    size_t len;       /* up to, not including, the terminating ';' */
    int line;         /* 1-based line of text within the input */
    char first[16];   /* first keyword, upper-cased ("" if none) */
    char second[16];  /* second keyword, upper-cased */
    int nonstd;       /* lexed with standard_conforming_strings off */
    int sqlite;       /* lexed as SQLite lexes (a -- comment runs to a newline only) */
} sql_stmt;

typedef int (*sql_stmt_fn)(void *ud, const sql_stmt *st);
/*
 * Splits sql into statements at top-level semicolons, honouring quotes,
 * dollar quotes (postgres), comments, E'' strings, BEGIN ATOMIC..END and
 * trigger BEGIN..END bodies. Statements holding only comments or blanks are
 * skipped. Calls fn for each; a non-zero return stops and is returned.
 * Like psql, it follows standard_conforming_strings: off from the start
 * with SQL_NONSTD_STRINGS in dialect, and as SET and RESET statements in
 * sql turn it (fn runs each statement before the next is lexed).
 */
int sql_split(const char *sql, size_t len, int dialect, sql_stmt_fn fn, void *ud);
/*
 * For finding marker lines: from s[i], the start of a line that begins
 * outside any token, returns the start of the next line that begins outside
 * any token too -- past a string, quoted name, dollar quote or block
 * comment that runs on over later lines, whose lines are then no markers.
 * When the text ends inside one, returns len and sets *open_at to where it
 * opened (else *open_at is left as it was).
 */
typedef struct sql_lines {
    int dialect; /* of the section; SQL_NONSTD_STRINGS follows SET statements */
    size_t stmt; /* where the current statement starts */
} sql_lines;
size_t sql_next_line(const char *s, size_t len, size_t i, sql_lines *lx, size_t *open_at);
/*
 * A command in st that only a client program runs, never the database: a
 * psql meta-command (a backslash outside strings and comments: \connect,
 * \i, \set, \copy), a sqlite3 shell dot-command (.read at the start of a
 * statement), or COPY ... FROM STDIN / TO STDOUT, whose rows psql streams
 * from or to the file. Returns 0 when there is none; else its line (counted
 * from st->line) with the command as written, cut short, in what.
 */
int sql_client_command(const sql_stmt *st, int dialect, char *what, size_t whatsz);
/* The first such command in the SQL text s: its line (from 1), or 0. */
int sql_find_client_command(const char *s, int dialect, char *what, size_t whatsz);
/* 1 when the n bytes at w are the keyword kw, in any ASCII case. */
int sql_word_is(const char *w, size_t n, const char *kw);
/* Appends the name an identifier token (n bytes at s) stands for, as
   PostgreSQL reads it: a quoted one without its quotes ("" as one), any
   other with ASCII letters folded to lower case. */
void sql_ident_append(buf *out, const char *s, size_t n);
/* 1 when the statement is a top-level transaction control statement. */
int sql_is_txn_control(const sql_stmt *st);
/* The transaction statements of sql (split in dialect), followed in order:
   BEGIN or START TRANSACTION opens one, and on SQLite so does a SAVEPOINT
   outside any (its RELEASE then ends it); COMMIT, END, ABORT or a ROLLBACK
   ends it. Returns the 1-based line within sql of the statement that
   opened the last one (0: none), and sets *by_savepoint (may be NULL) to
   whether a SAVEPOINT opened it. */
int sql_tx_opener(const char *sql, int dialect, int *by_savepoint);

/* Tokens of one statement, for the linter: the same lexing as sql_split, so
   keywords inside strings, comments and dollar-quoted bodies are never words. */
enum {
    SQLTOK_END = 0,
    SQLTOK_WORD,   /* keyword or unquoted identifier */
    SQLTOK_QUOTED, /* "ident" (and SQLite `ident`, [ident]) */
    SQLTOK_STRING, /* '...', E'...', $tag$...$tag$ */
    SQLTOK_NUMBER,
    SQLTOK_PARAM,  /* $1, ?, :name, @name */
    SQLTOK_PUNCT,  /* one character, or "::" */
    SQLTOK_COMMENT /* -- ... or a block comment; only when asked for */
};
typedef struct sql_token {
    int kind;
    const char *text; /* the token as written (quotes included) */
    size_t len;
    int line; /* 1-based line, counted by the caller's *line */
} sql_token;
/*
 * Reads the next token of s (len bytes) at *pos, skipping blanks and, unless
 * comments is set, comments; advances *pos past it and counts newlines into
 * *line. Returns the token's kind, SQLTOK_END at the end of the text.
 */
int sql_token_next(const char *s, size_t len, size_t *pos, int *line, int dialect, int comments,
                   sql_token *tok);

/* ---- error.c */
/* USAGE for a public function called with a required pointer NULL: "fn:
   args must not be NULL" (the library returns an error, never crashes on
   one). */
strata_code api_null(strata_error *err, const char *fn, const char *args);

/* ---- lint.c */
/* 1 when sql holds a statement that fails inside a transaction block on
   either engine (CREATE INDEX CONCURRENTLY, VACUUM, ...: the lint rules
   concurrently-in-transaction and cannot-run-in-transaction), 0 when not,
   -1 when out of memory. For import: a tool that runs such a file outside
   a transaction becomes a no-transaction section. */
int lint_needs_notx(const char *sql);

/* ---- migfile.c */
enum { SEC_UP = 0, SEC_DOWN = 1, SEC_VERIFY = 2 };

/* 1 when a verify query's first column, as text, fails the migration: NULL,
   f or false (any case), or a decimal number whose digits are all zero
   ("0", "0.00", "-0.0", "0e5") -- the same on both engines. */
int verify_false(const char *v);

typedef struct section {
    int kind;
    int dialect; /* DIALECT_ANY, _POSTGRES, _SQLITE */
    int notx;
    char *sql;
    int line;         /* 1-based line in the file of the first body line */
    int open_comment; /* a section without a dialect: the line of a comment it leaves open to the end
                         of the file, which SQLite closes there and PostgreSQL refuses; 0 */
} section;

/* What the checksum cache (migfile.c) keeps of a file: its identity, as
   stat gives it, and the SHA-256 of its content. */
typedef struct mig_key {
    uint64_t dev, ino, size;
    int64_t mtime_ns, ctime_ns;
    unsigned char sum[32];
} mig_key;

typedef struct migration {
    strata_migration pub; /* must stay first */
    char *id, *version, *name, *path, *checksum;
    section *secs;
    int nsecs;
    size_t capsecs;
    size_t vskip, vlen; /* the version's leading zeros (one digit kept), the rest's length */
    int lazy;           /* checksum from the cache, sections not read yet: mig_materialize */
    int cached;         /* key may go to the cache (the file parsed, with no warning) */
    mig_key key;
    int broken;   /* has a parse problem; never run */
    char *header; /* the text before the first marker (comments), or NULL */
} migration;

struct strata_migset {
    char *dir;
    migration *migs;
    size_t count;
    strata_problem *problems;
    size_t nproblems, capproblems;
    strata_problem *warnings; /* code STRATA_OK: skipped names, empty up sections */
    size_t nwarnings, capwarnings;
};

/* For a line "-- strata:WORD ...": sets *word to the index where WORD starts
   and returns the index just after it; 0 when the line is not such a marker.
   Shared by migration files and test files. */
size_t marker_word(const char *l, size_t n, size_t *word);
/* A hint when a relative SQLite path was probably meant as absolute
   (sqlite:///tmp/x.db): out, or NULL (url.c). */
const char *sqlite_abs_hint(const char *path, char *out, size_t n);
/* TARGET_NOT_FOUND for target t of a command of kind, with a hint drawn
   from the directory (its newest migration as the example) and, for a
   count in the wrong direction, the command that takes it (engine.c). */
enum { TARGET_UP, TARGET_DOWN, TARGET_STAMP, TARGET_ACCEPT, TARGET_RANGE };
strata_code target_not_found(const strata_migset *set, const char *t, int kind, strata_error *err);
/* The section of a migration for (kind, engine dialect), or NULL if none.
   Reads a lazy migration first (see mig_materialize; a failure leaves it
   broken, without sections). */
const section *mig_section(const migration *m, int kind, int dialect);
/* PARSE_ERROR when m's section of kind for dialect (and, for SEC_UP, its
   verify section), without a dialect, holds transaction control or a
   client command under the lexing of dialect (it was checked with
   PostgreSQL's when read); STRATA_OK otherwise. */
strata_code mig_section_check(const migration *m, int kind, int dialect, strata_error *err);
/* Reads, checks and parses the file of a migration whose checksum came
   from the cache (a no-op otherwise): an error when it cannot be read, or
   no longer matches the checksum the cache gave (it changed meanwhile). */
strata_code mig_materialize(const migration *m, strata_error *err);
/* How much older than the moment it is read a file's ctime must be for the
   checksum cache to keep it: 10 s (unit tests set 0). */
extern int64_t migcache_margin_ns;
/* Parses a migration file's text. Problems are appended to set. Exposed for tests. */
int mig_parse(migration *m, const char *text, size_t len, strata_migset *set);
void migset_add_problem(strata_migset *set, strata_code code, const char *version, const char *file, int line,
                        const char *fmt, ...) ATTR_PRINTF(6, 7);
/* A warning: it does not make the set invalid (file skipped, empty section). */
void migset_add_warning(strata_migset *set, const char *version, const char *file, int line, const char *fmt,
                        ...) ATTR_PRINTF(5, 6);
/* Finds a migration by id, version ("0012", "12") or NULL. */
const migration *migset_find(const strata_migset *set, const char *target);
int dialect_of_engine(const char *engine);
/* 1 when s is one or more ASCII digits. */
int all_digits(const char *s);
/* The largest migration (or test) file strata reads: 64 MiB. */
#define FILE_MAX_BYTES (64 << 20)
enum { READ_OK = 0, READ_ERRNO = -1, READ_NOT_REGULAR = -2, READ_TOO_LARGE = -3 };
/* Reads the whole regular file name (relative to dirfd, or AT_FDCWD) of at
   most FILE_MAX_BYTES into *out (malloc'd, NUL-terminated), *outlen bytes.
   Never blocks on a FIFO. READ_NOT_REGULAR sets *kind ("a FIFO", "a
   directory"...); READ_ERRNO leaves errno set. */
int read_regular_file(int dirfd, const char *name, char **out, size_t *outlen, const char **kind);
/* What kind of file st_mode is, for messages: "a directory", "a FIFO", ... */
const char *file_kind(mode_t m);
/* The error of a failed read (r, kind and errno from read_regular_file):
   its code, and "cannot read WHAT'PATH': why" in msg (what: "" or "test
   file ", say). */
strata_code read_failure(int r, const char *kind, const char *what, const char *path, char *msg,
                         size_t msgsz);

/* ---- url.c / env.c */
struct drv_ops;
struct _PQconninfoOption;
/*
 * A database URL, parsed once (url_parse) and handed as it is to the
 * engine's ops: the engine it names and what each engine needs of it.
 * url, conninfo, pg_opts and password hold the password: never print them
 * (strata_url_redact, url_scrub).
 */
typedef struct db_url {
    const struct drv_ops *ops; /* the engine, from the table of engines */
    int engine;                /* its dialect: DIALECT_POSTGRES or DIALECT_SQLITE */
    char *url;                 /* as given */
    /* sqlite */
    char *path;   /* file path or ":memory:" */
    int readonly; /* the URL says ?mode=ro */
    int nocreate; /* the URL says ?mode=rw: the file must exist (SQLite's meaning) */
    /* postgres */
    char *conninfo;                    /* the URL with the driver suffix removed */
    struct _PQconninfoOption *pg_opts; /* libpq's parse of conninfo */
    const char *password;              /* decoded, points into pg_opts; NULL when none */
    const char *dbname;                /* points into pg_opts; NULL when the URL names none */
} db_url;
/* Parses url: URL_INVALID (message redacted, with a hint) when it is not a
   URL of a known engine or is malformed; a PostgreSQL URL loads libpq. On
   failure *out holds nothing to release. */
strata_code url_parse(const char *url, db_url *out, strata_error *err);
/* The percent-decoded copy of s[0..n), malloc'd (a bad escape or %00 stays
   as written); NULL when out of memory. */
char *pct_decode(const char *s, size_t n);
void url_release(db_url *u); /* idempotent */
/* PostgreSQL: the value of libpq keyword kw in the URL; NULL when absent or
   empty (or not a PostgreSQL URL). */
const char *url_pg_opt(const db_url *u, const char *kw);
/* url without the whitespace around it (malloc'd; NULL: out of memory) */
char *url_trim(const char *url);
/* Replaces every occurrence of url's password in msg (capacity cap) by ****. */
void url_scrub(char *msg, size_t cap, const char *url);
/* A number of seconds from the environment variable name: def when it is
   unset, empty, not a number or outside [0, max]. */
double env_seconds(const char *name, double def, double max);
/* Looks name up in a dotenv file (syntax: env.c); *value malloc'd, or NULL
   when the name is not defined or the file does not exist. CONFIG_ERROR when
   the file cannot be read or has a syntax error (message "path:line: ...",
   err->file and err->line set); *value is then NULL. */
strata_code env_file_lookup(const char *path, const char *name, char **value, strata_error *err);
/* Looks name up in first, then in second, whose ${NAME} references also
   see first's definitions (after the environment, before second's own), as
   python-dotenv's load_dotenv(first) then load_dotenv(second) would. *found
   names the file the value came from (or the last one read). */
strata_code env_files_lookup(const char *first, const char *second, const char *name, char **value,
                             const char **found, strata_error *err);
/* The same on text in memory; file (may be NULL) names it in errors. */
strata_code env_text_lookup(const char *text, size_t len, const char *name, char **value, const char *file,
                            strata_error *err);

/* ---- drivers */
typedef struct drv drv;
struct gen_model; /* gen.h */
struct gen_opts;
struct gen_plan;
typedef int (*row_fn)(void *ud, int ncols, char **vals);

/* A schema a migration's up section makes (CREATE SCHEMA): for reset. */
typedef struct made_schema {
    char *name;     /* as PostgreSQL names it: folded unless quoted */
    const char *by; /* the migration's id */
    int if_not_exists;
    int dropped_first; /* a DROP SCHEMA without CASCADE comes before it */
} made_schema;

typedef struct drv_ops {
    const char *engine;
    int dialect;
    /* 1 when the lock is held for the whole session (postgres advisory lock);
       0 when it is taken per transaction (sqlite write lock) */
    int session_lock;
    /* Process-wide settings of the engine's library, for strata_global_init
       (before the library is used anywhere in the process); may be NULL. */
    void (*global_init)(void);
    /* u belongs to the strata handle and outlives the driver: keep a pointer */
    strata_code (*open)(drv **out, const db_url *u, const strata_config *cfg, strata_error *err);
    void (*close)(drv *d);
    /* Runs a section statement by statement; errors carry file:line. */
    strata_code (*exec_script)(drv *d, const char *sql, const char *file, int line, strata_error *err);
    /* Runs verify SQL: every row-returning statement must yield a true first value. */
    strata_code (*verify)(drv *d, const char *sql, const char *file, int line, strata_error *err);
    /* One statement with text parameters ($1..$n); fn (may be NULL) per row. */
    strata_code (*query)(drv *d, const char *sql, int nparams, const char *const *params, row_fn fn, void *ud,
                         strata_error *err);
    strata_code (*lock)(drv *d, const char *key, double timeout, strata_error *err);
    /* Optional (engines whose lock belongs to a session; SQLite's marks
       carry their writer's pid instead): *busy 1 when some session holds
       key's migration lock now, 0 when none does, -1 when this connection
       cannot see (a standby, which does not see the primary's locks); read
       only, nothing taken. An error: cannot tell either. */
    strata_code (*lock_busy)(drv *d, const char *key, int *busy, strata_error *err);
    void (*unlock)(drv *d, const char *key);
    strata_code (*begin)(drv *d, double timeout, strata_error *err);
    strata_code (*table_exists)(drv *d, const char *table, int *exists, strata_error *err);
    /* Optional (engines with schemas): the version table's name as SQL,
       schema-qualified, so that a migration's own SET search_path (or one
       left on a pooled server connection) cannot move strata's bookkeeping.
       *qname NULL: resolves it (malloc'd into *qname; the caller frees it)
       and tells whether the table exists; *qname set: only tells whether it
       exists. exists may be NULL: resolve only (no query once resolved).
       The lock's table behind a pooler (lock()) goes in the same schema.
       NULL: the engine quotes the name and asks table_exists. */
    strata_code (*vt_locate)(drv *d, const char *table, char **qname, int *exists, strata_error *err);
    /* Optional. Marks of the database's state: equal marks taken at two
       moments mean that no connection (this one included) committed any
       change in between. NULL: the engine cannot tell (PostgreSQL, whose
       records are read under its lock anyway), and nothing read ahead is
       used (strata_read_ahead). Nonzero on error. */
    int (*changes)(drv *d, uint64_t mark[3]);
    /* Appends the normalized schema text of the connected database, without
       the version table `table`, to out (docs/schema.md). */
    strata_code (*schema_dump)(drv *d, const char *table, buf *out, strata_error *err);
    /* Optional (NULL: nothing to do). Inside a transaction, just before its
       COMMIT: confirms that this process still holds the migration lock and
       keeps it held until the commit (a lease renewed under a row lock);
       LOCK_LOST when another process has taken it over. */
    strata_code (*held)(drv *d, strata_error *err);
    /* Optional. After a failure: reconnects if the connection was lost, so
       that the failure can be recorded: 1 when it reconnected, 0 when the
       connection was usable, -1 when it is lost. The lock held before may be
       gone: only the failure record may be written. */
    int (*recover)(drv *d);
    /* Optional. Appends "schema.index\n" for each INVALID index (a failed or
       interrupted CREATE INDEX CONCURRENTLY, or one still being built) in the
       schemas on the search path. */
    strata_code (*invalid_indexes)(drv *d, buf *out, strata_error *err);
    /* Optional. Between two migrations of a run: the session's settings as
       they were when it opened, so that a migration's session-level SET
       (a pg_dump header's set_config('search_path', '', false)) cannot
       reach the next one -- each migration runs alike whether it runs alone
       or after others. */
    void (*session_reset)(drv *d);
    /* Optional. 1 when the connection is inside a transaction (after a
       no-transaction section: one it began and did not end) */
    int (*in_tx)(drv *d);
    /* Optional. After a failed run: removes the database if this handle
       created it and it holds nothing but an empty version table (no empty
       SQLite file left behind by a typo). */
    void (*discard_if_new)(drv *d, const char *table);
    /* strata reset: lists what reset_drop would drop (o->schema: its target,
       "main" for SQLite), then drops it all, the version table too, under
       the caller's lock, waiting at most timeout for table locks. expect
       (may be NULL): the list the user saw; the drop lists again in its
       transaction and refuses (reset_changed) when the two differ. */
    strata_code (*reset_list)(drv *d, const char *table, strata_objects *o, strata_error *err);
    /* optional, before reset_drop: CONFIG_ERROR, naming it, when a schema
       that a migration makes (made, n; reset.c reads them from the up
       sections) exists beside the one reset drops and would stop up: made
       without IF NOT EXISTS, or holding objects (but for the version table
       table and its lease table, which reset drops). *target_made: a migration
       makes the schema reset drops, without IF NOT EXISTS -- reset_drop
       must then leave it dropped (recreate 0), for that migration to make. */
    strata_code (*reset_made)(drv *d, const char *table, const struct made_schema *made, size_t n,
                              int *target_made, strata_error *err);
    /* recreate: make the dropped schema again (PostgreSQL; SQLite has none) */
    strata_code (*reset_drop)(drv *d, const char *table, double timeout, const strata_objects *expect,
                              int recreate, strata_error *err);

    /* ---- the database as a whole, by its parsed URL (no open handle) */
    /* create (drop = 0) or drop the database the URL names; *flag: it
       existed already / was missing; *name (may be NULL): its name */
    strata_code (*db_create_or_drop)(const db_url *u, const strata_create_opts *o, int drop, int flags,
                                     int *flag, char **name, strata_error *err);
    /* strata_wait: until it accepts connections or timeout seconds pass */
    strata_code (*wait)(const db_url *u, double timeout, const strata_config *cfg, int *attempts,
                        strata_error *err);
    /* the locality rule of reset and restore: NOT_LOCAL unless local */
    strata_code (*check_local)(const db_url *u, strata_error *err);
    /* strata_backup / strata_restore (the locality rule already applied) */
    strata_code (*backup)(const db_url *u, const char *path, const strata_config *cfg, char **path_out,
                          strata_error *err);
    strata_code (*restore)(const db_url *u, const char *path, int flags, const strata_config *cfg,
                           strata_error *err);
    /* strata check's scratch database named name (a prefix for a file):
       made next to server (NULL: the engine's default place); *url, *name
       and *admin_url (NULL when not needed) are malloc'd */
    strata_code (*scratch_create)(const db_url *server, const char *name, char **url, char **made,
                                  char **admin_url, strata_error *err);
    strata_code (*scratch_drop)(const char *made, const char *admin_url, strata_error *err);

    /* ---- strata diff (gen.h): the schema model of the connected database
       without the version table, and the plan from one model to another */
    strata_code (*gen_read)(drv *d, const char *table, struct gen_model *m, strata_error *err);
    strata_code (*gen_plan)(const struct gen_model *from, const struct gen_model *to,
                            const struct gen_opts *o, struct gen_plan *p, strata_error *err);
    /* optional: the form in which table's constraint def (as gen_read
       gives it) prints once it is created from that text again, and again,
       until the printing holds (malloc'd into *out, NULL when it is def
       already or cannot be asked); nothing is left changed */
    strata_code (*gen_canon)(drv *d, const char *table, const char *def, char **out, strata_error *err);
    /* optional: whether a run that writes could start here, asked without
       changing anything (the dry runs of up, down and redo): the session
       may write, and when create is set the version table qtable (missing
       now) could be created. STRATA_OK, or the failure the real run would
       meet first (its code, a message naming what is missing, a hint). */
    strata_code (*may_write)(drv *d, const char *qtable, int create, strata_error *err);
    /* optional: asked by a run with steps to take, before its first one --
       STRATA_OK, or the failure of a server that takes no writes at all (a
       standby, a read-only session), so that the run stops there instead
       of blaming its first migration's statement; or CONFIG_ERROR for a
       session whose writes the database would not check (PostgreSQL's
       session_replication_role other than origin: no foreign keys, no
       triggers) */
    strata_code (*writable)(drv *d, strata_error *err);
} drv_ops;

struct drv {
    const drv_ops *ops;
};

/* The database handle (engine.c); other modules of the library use its
   driver directly (testrun.c runs test SQL through d). */
struct strata {
    drv *d;
    const drv_ops *ops;
    char *table;
    char *qtable; /* the version table's name as SQL, once resolved (vt_locate) */
    double lock_timeout;
    double reconnect_ms; /* reconnect_ms(--connect-timeout) */
    int readonly;
    strata_event_fn on_event;
    void *ud;
    db_url u;                   /* the URL as opened, parsed (password inside: never printed) */
    struct recs *ahead;         /* the version table as strata_read_ahead read it, or NULL */
    strata_objects *reset_seen; /* what the last strata_reset_list listed: what reset drops */
    uint64_t ahead_at[3];       /* ops->changes before it was read */
};

extern const drv_ops drv_sqlite_ops;
extern const drv_ops drv_postgres_ops;

/* ---- reset.c: row_fn helpers shared by the engines' reset ops */
/* Appends (kind, name) to the strata_objects (ud) that strata_reset_list
   allocated; stops on OOM. */
int row_add_object(void *ud, int n, char **v);
/* The first value of the first row, malloc'd, into *(char **)ud. */
int row_first_value(void *ud, int n, char **v);
/* Every first value, appended to a buf (ud) separated by NULs. */
int row_collect(void *ud, int n, char **v);

/* ---- the engines' reset ops (postgres/pg_reset.c, sqlite/sq_reset.c) */
strata_code pg_reset_list(drv *d, const char *table, strata_objects *o, strata_error *err);
strata_code pg_reset_made(drv *d, const char *table, const made_schema *made, size_t n, int *target_made,
                          strata_error *err);
strata_code pg_reset_drop(drv *d, const char *table, double timeout, const strata_objects *expect,
                          int recreate, strata_error *err);
strata_code sq_reset_list(drv *d, const char *table, strata_objects *o, strata_error *err);
strata_code sq_reset_drop(drv *d, const char *table, double timeout, const strata_objects *expect,
                          int recreate, strata_error *err);
/* RESET_CHANGED when the objects reset_drop found in its transaction (now,
   listed by list) differ from expect (NULL: no expectation): says the first
   difference. */
strata_code reset_check_same(drv *d, const char *table, const strata_objects *expect, strata_error *err);
/* the engines' whole-database ops (postgres/pg_dbops.c, sqlite/sq_dbops.c) */
strata_code pg_db_create_or_drop(const db_url *u, const strata_create_opts *o, int drop, int flags, int *flag,
                                 char **name, strata_error *err);
strata_code pg_wait(const db_url *u, double timeout, const strata_config *cfg, int *attempts,
                    strata_error *err);
strata_code pg_check_local(const db_url *u, strata_error *err);
strata_code sq_db_create_or_drop(const db_url *u, const strata_create_opts *o, int drop, int flags, int *flag,
                                 char **name, strata_error *err);
strata_code sq_wait(const db_url *u, double timeout, const strata_config *cfg, int *attempts,
                    strata_error *err);
strata_code sq_check_local(const db_url *u, strata_error *err);
strata_code pg_scratch_create(const db_url *server, const char *name, char **url, char **made,
                              char **admin_url, strata_error *err);
strata_code pg_scratch_drop(const char *made, const char *admin_url, strata_error *err);
strata_code sq_scratch_create(const db_url *server, const char *name, char **url, char **made,
                              char **admin_url, strata_error *err);
strata_code sq_scratch_drop(const char *made, const char *admin_url, strata_error *err);

/* ---- the engines' backup and restore ops */
strata_code pg_backup(const db_url *u, const char *path, const strata_config *cfg, char **path_out,
                      strata_error *err);
strata_code pg_restore(const db_url *u, const char *path, int flags, const strata_config *cfg,
                       strata_error *err);
strata_code sq_backup(const db_url *u, const char *path, const strata_config *cfg, char **path_out,
                      strata_error *err);
strata_code sq_restore(const db_url *u, const char *path, int flags, const strata_config *cfg,
                       strata_error *err);

/* ---- engines.c: the table of engines */
/* The engine of a URL scheme ("postgresql", "sqlite3"; without the driver
   suffix), or NULL: an unknown engine is an error, never a fallback. */
const drv_ops *engine_by_scheme(const char *scheme);
/* The engine of a dialect (db_url.engine), or NULL. */
const drv_ops *engine_by_dialect(int dialect);

/* ---- engine.c: what the operations (reset.c) need of an open handle */
const db_url *engine_url(const strata *db); /* the URL as opened, parsed */
double engine_lock_timeout(const strata *db);
/* How an engine's hint for a connection the server ended begins (the
   runner replaces it where it does not fit: a no-transaction section). */
#define HINT_CONNECTION_LOST "the connection to the server was lost"
/* How the hint begins when strata_interrupt_force closed the connection
   (the runner replaces it in a no-transaction section too). */
#define HINT_STOP_CUT "strata was told to stop (SIGINT or SIGTERM) and the server did not answer"
/* How long a lost connection is made again (a pooler restarting, the
   failure's record, the lock's release): --connect-timeout, at most 10 s;
   0 (one attempt) when it is 0. In ms. */
static inline double reconnect_ms(double connect_timeout)
{
    return connect_timeout > 0 ? (connect_timeout < 10 ? connect_timeout : 10) * 1000.0 : 0;
}
/* Takes the migration lock (drv_ops.lock) once the version table's name is
   resolved, so that the lock's own table goes where the version table is. */
strata_code engine_lock(strata *db, strata_error *err);
/* SQLite: waits (up to the lock timeout) until no other process runs a
   no-transaction section; at once on an engine with a session lock. */
strata_code engine_wait_sections(strata *db, strata_error *err);
/* Before a writing run's first step: drv_ops.writable where the engine has
   it (a standby, a read-only session, session_replication_role), else OK. */
strata_code engine_writable(strata *db, strata_error *err);
/* A public lock timeout as the drivers take it: 0, <0 or NaN -> 60 s,
   STRATA_NO_WAIT -> 0 (try once), else itself. */
double lock_timeout_norm(double t);
void engine_event(strata *db, strata_event_kind kind, const char *text);

/* dbops.c: removes a SQLite file and its -journal, -wal and -shm (missing
   ones are fine); the main file first. */
strata_code sqlite_remove_files(const char *path, strata_error *err);

/* sha256 of text with CRLF folded to LF, as 64 hex chars + NUL */
int checksum_text(const char *text, size_t len, char out[65]);
/* NULL when libcrypto (opened on first use) has SHA-256, else why not. */
const char *checksum_load_error(void);

/* ---- engine.c: what modules built on the engine (schema, check, reset)
   need from a handle */
drv *db_driver(strata *db);
const char *db_table(const strata *db);

/* ---- sqlite/sq_schema.c, postgres/pg_schema.c: the drivers' schema_dump ops */
strata_code schema_dump_sqlite(drv *d, const char *table, buf *out, strata_error *err);
strata_code schema_dump_pg(drv *d, const char *table, buf *out, strata_error *err);

/* ---- sqlnorm.c: tokens of stored SQL and their canonical rendering */
enum { TOK_WORD, TOK_QIDENT, TOK_STRING, TOK_NUM, TOK_PUNCT };
typedef struct sql_tok {
    const char *s; /* points into the tokenized text */
    size_t n;
    int kind;
} sql_tok;
/* Tokenizes sql, skipping blanks and comments; *out is malloc'd (NULL when
   there are no tokens). Returns the count, or (size_t)-1 when out of memory. */
size_t sql_tokenize(const char *sql, sql_tok **out);
/* Appends t[0..n) on one line: single spaces, no space inside parentheses or
   before commas, unquoted words and plain quoted identifiers lower-cased. */
void sql_norm(const sql_tok *t, size_t n, buf *out);
/* sha256 (hex) of sql's canonical rendering: comments, blank space, the
   case of unquoted words and needless quotes around a lower-case name do
   not change it; strings (also E'...' and $tag$...$tag$ bodies, as written)
   and quoted names in any other case do. The "up checksum" of a migration. */
void sql_norm_checksum(const char *sql, char out[65]);
int tok_is(const sql_tok *t, const char *word); /* a word, any case */
int tok_punct(const sql_tok *t, char c);
/* Index of the ')' matching the '(' at t[open], or n when unbalanced. */
size_t tok_match_paren(const sql_tok *t, size_t n, size_t open);

/* ---- diff.c: line diff in unified style */
/* Appends to out the difference of a and b ("--- la", "+++ lb", "@@" hunks
   with `context` lines around; '-' lines only in a, '+' lines only in b).
   Returns the number of changed lines (0: equal, nothing appended). */
size_t text_diff(const char *a, const char *b, const char *la, const char *lb, int context, buf *out);

/* ---- schema.c: object-level comparison of two schema texts */
typedef struct schema_delta {
    buf extra;   /* objects only in actual: "index ix_a, column t.c" */
    buf missing; /* objects only in expected */
    buf changed; /* objects in both that differ */
    buf kept;    /* enum values only in actual that were tolerated */
    buf moved;   /* tables whose columns were tolerated in another order */
} schema_delta;
void schema_delta_release(schema_delta *d);
enum {
    /* an enum type of actual that holds expected's values in the same order
       plus others still matches (PostgreSQL cannot drop enum values); those
       go to d->kept */
    SCHEMA_TOLERATE_ENUM_VALUES = 1,
    /* a table of actual whose columns are expected's in another order still
       matches (PostgreSQL adds a column back only at the end); to d->moved */
    SCHEMA_TOLERATE_COLUMN_ORDER = 2,
};
/* 1 when actual matches expected, with what the flags tolerate. */
int schema_compare(const char *expected, const char *actual, int tolerate, schema_delta *d);

/* ---- engine.c: adopt.c's write */
/*
 * versions: the n migrations of set imported from the other tool, in
 * version order; applied[k]: whether that tool has versions[k] applied.
 * Records the applied ones as applied without running them, with their
 * checksums: under the migration lock, in one transaction. Refuses with
 * ADOPT_MISMATCH, writing nothing, when the version table holds one of
 * versions that is not applied there, or a failed row or another checksum
 * for one of them (rows of other migrations are strata's own: left alone).
 * already[k] is set to 1 for those already recorded (not written again);
 * *written counts the rows written. dry_run: no lock, no write, same checks.
 */
strata_code engine_record_applied(strata *db, const strata_migset *set, const char *const *versions,
                                  const int *applied, size_t n, int dry_run, int *already, size_t *written,
                                  strata_error *err);

/*
 * Returns rc. When rc is an error and this connection created the database
 * file (SQLite), removes it again if nothing but an empty version table is
 * in it: a failed write command -- up, down, stamp, accept, adopt, reset --
 * on a database nobody had made leaves no empty file behind.
 */
strata_code engine_discard_new(strata *db, strata_code rc);

/* adopt.c: when db holds the version table of a tool strata adopts from
   (under its default name; sqitch: its default registry, "sqitch.changes"),
   sets *tool (its --from name; "dbmate" for schema_migrations, which
   golang-migrate uses too) and *table, static strings, and returns 1;
   else 0. */
int adopt_other_tool(strata *db, const char **tool, const char **table);
/* strata_adopt's dry run from format (no lock taken, nothing written).
   *stuck: 1 when it refused because the other tool's state is dirty or
   failed at a version one of set's files was imported from. */
strata_code adopt_dry_run(strata *db, const strata_migset *set, const char *format, strata_adopt_report **out,
                          int *stuck, strata_error *err);

#endif
