/*
 * copy_internal.h -- strata copy (SQLite -> PostgreSQL), shared by the
 * copy_*.c files of the library; never installed.
 *
 *   copy_value.c   value conversion: every SQLite value is checked against
 *                  its target type and encoded for binary or text COPY,
 *                  together with what the checksum hashes
 *   copy_json.c    JSON validation and normalisation (json/jsonb columns)
 *   copy_time.c    dates and times: ISO-8601 text, Unix and Julian numbers,
 *                  the calendar, PostgreSQL's output forms
 *   copy_schema.c  reading the SQLite schema, type mapping, names, the
 *                  expression translator, DDL
 *   copy.c         the run: options, the PostgreSQL session, the worker
 *                  pool, the target schema, bookkeeping and resume, report
 *   copy_load.c    reading rows, COPY, checksums and read-back verification
 *   copy_after.c   the move as one schedule: loads, then keys, indexes,
 *                  CHECKs, sequences, foreign keys as their tables are ready;
 *                  views
 */
#ifndef STRATA_COPY_INTERNAL_H
#define STRATA_COPY_INTERNAL_H

#include "internal.h"
#include "ops.h"
#include "pqload.h"

#include <ctype.h>
#include <pthread.h>
#include <sqlite3.h>
#include <stdint.h>

#include <string.h>

/* buf_add with the common case (room left) inline: the copy appends a few
   bytes at a time, millions of times. */
static inline void cbuf_add(buf *b, const void *s, size_t n)
{
    if (b->len + n + 1 <= b->cap) {
        memcpy(b->data + b->len, s, n);
        b->len += n;
        b->data[b->len] = 0;
    } else {
        buf_add(b, s, n);
    }
}

/* v as 4 bytes, most significant first (COPY BINARY's integers). */
static inline void be32_at(unsigned char *p, uint32_t v)
{
    p[0] = (unsigned char)(v >> 24);
    p[1] = (unsigned char)(v >> 16);
    p[2] = (unsigned char)(v >> 8);
    p[3] = (unsigned char)v;
}

static inline void put32(buf *b, uint32_t v)
{
    unsigned char x[4];
    be32_at(x, v);
    cbuf_add(b, (char *)x, 4);
}

/* Target type kinds. K_OTHER is any type strata has no encoder for (enums,
   domains, citext...): such a table is loaded with text COPY. */
enum {
    K_INT2,
    K_INT4,
    K_INT8,
    K_FLOAT4,
    K_FLOAT8,
    K_NUMERIC,
    K_TEXT,
    K_VARCHAR,
    K_BPCHAR,
    K_BYTEA,
    K_BOOL,
    K_DATE,
    K_TIME,
    K_TIMESTAMP,
    K_TIMESTAMPTZ,
    K_JSON,
    K_JSONB,
    K_UUID,
    K_OTHER
};

typedef struct ctype {
    int kind;
    int len;         /* varchar(n) / char(n): n; else -1 */
    int prec, scale; /* numeric(p,s); -1 when unconstrained */
    int lax;         /* bytea: integers and reals as the bytes of their text
                        (--on-bad-value=text keeps every value of a column
                        that holds both blobs and numbers) */
} ctype;

/* Bad-value policies (strata_copy_opts.on_bad_value). */
enum { BAD_FAIL = 0, BAD_NULL = 1, BAD_TEXT = 2 };

/* Why a value does not fit; the message is in cconv.why. */
enum { CV_OK = 0, CV_BAD = 1, CV_BAD_BYTES = 2 /* not valid text at all */ };

/* What the checksum hashes for a value (cconv.hk): the canonical text, a
   64-bit or 32-bit integer (hv), the binary payload, or the binary numeric
   payload as hash_numeric_extended() hashes the stored value (numerics with
   a declared scale, see hash_sql), or a real widened to a double whose
   bits are hv (HK_F8: hashfloat8extended / hashfloat4extended, with the
   sign of a zero added, see hash_sql). */
enum {
    HK_TEXT = 0,
    HK_I64 = 1,
    HK_U32 = 2,
    HK_BIN = 3,
    HK_NUM = 4,
    HK_F8 = 5,
    HK_HEX = 6 /* bin's hex text */
};

/* conv_value flags: also fill c->text (text COPY), also fill c->canon for
   kinds hashed natively (tests, messages). */
enum { CV_WANT_TEXT = 1, CV_WANT_CANON = 2 };

/* Per-thread conversion scratch. */
typedef struct cconv {
    buf bin;   /* binary field payload */
    buf canon; /* canonical text (hashed when hk == HK_TEXT) */
    buf text;  /* text-COPY field (unescaped) */
    buf tmp;
    int hk;      /* HK_* */
    uint64_t hv; /* the integer hashed for HK_I64 / HK_U32, the double's bits for HK_F8 */
    char why[256];
} cconv;

void cconv_init(cconv *c);
void cconv_release(cconv *c);

/*
 * Converts one SQLite value to type t. On CV_OK: *isnull, and (unless NULL)
 * c->bin holds the binary COPY payload, c->hk/hv/canon what the value's
 * checksum hash is computed from (conv_hash), and, with CV_WANT_TEXT,
 * c->text the text-COPY input form. c->canon, the canonical text that the
 * target's canon_sql() yields for the stored value, is always filled for
 * kinds hashed as text, and for the others only with CV_WANT_CANON. On
 * failure c->why says why. The value's storage class drives the rules
 * described in docs/type-mapping.md.
 */
int conv_value(cconv *c, const ctype *t, sqlite3_value *v, int flags, int *isnull);

/*
 * The checksum. A row's hash is the XOR over its copied columns k (0-based)
 * of the column hash with seed k + 1 -- or, for a NULL, null_mark(k) -- and
 * a table's checksum is the row count and the sum of its rows' hashes as
 * signed 64-bit integers. Column hashes are PostgreSQL's own hash functions
 * (hashint8extended, timestamp_hash_extended, uuid_hash_extended,
 * hash_numeric_extended with the sign folded in for numeric(p,s), and
 * hashtextextended over the canonical text for the other kinds), so the
 * target computes the same sum with one SELECT (hash_sql) while strata
 * computes it from the source values (conv_hash).
 */
uint64_t conv_hash(const cconv *c, uint64_t seed);

/* Added to a column's seed to hash a negative numeric(p,s) (PostgreSQL's
   numeric hash leaves the sign out): far from every column's seed. */
#define NUM_NEG_SEED (UINT64_C(1) << 62)

/*
 * The common cases of conv_value, for a load's hot loop, without its
 * buffers: an integer into bigint, a real into double precision, an
 * integer or a short-decimal real into numeric(p,s) with s <= 8, 0 or 1
 * into boolean, valid UTF-8 text into text or varchar(n). Appends the
 * value's binary COPY field (length and payload) to out (unless NULL), sets
 * *h to its conv_hash with seed, and returns 1; returns 0, touching
 * nothing, for every other value -- NULL, other types and storage classes,
 * a value that does not fit -- which then goes through conv_value (and its
 * error message).
 */
int conv_fast(const ctype *t, sqlite3_value *v, uint64_t seed, buf *out, uint64_t *h);
uint64_t null_mark(int k);
/* Appends the SQL of the column hash of non-NULL column expression q. */
void hash_sql(buf *b, const ctype *t, const char *q, uint64_t seed);

/* The number of characters of the n bytes at s when they are UTF-8; -1
   when not (*at: the first bad byte), -2 for a NUL byte. */
long utf8_check(const unsigned char *s, size_t n, size_t *at);

/* A short, printable rendering of a SQLite value for error messages. */
void conv_show(buf *out, sqlite3_value *v);

/* SQL expression giving the canonical text of column expression col of kind t
   (for the target-side checksum). Appended to b. */
void canon_sql(buf *b, const ctype *t, const char *quoted_col);

/* Literal SQL (quoted) for a default value given as a SQLite literal token
   text, as SQLite stores it in a column of declared type decl (its
   affinity applied: a real 1.0 in a TEXT column is '1.0'; decl NULL or ""
   for none); 0 on success. */
int conv_literal(cconv *c, const ctype *t, const char *decl, const char *lit, int is_string, int is_null,
                 buf *out);

/* PostgreSQL's hash_bytes_extended(data, len, seed) -- hashtextextended()
   for text -- and hash_bytes_uint32_extended(k, seed), as computed on a
   little-endian server (lookup3, 64 bits). */
uint64_t pg_hash64(const void *data, size_t len, uint64_t seed);
uint64_t pg_hash_u32(uint32_t k, uint64_t seed);

/* Shortest text that reads back as exactly d ("1e-300", "0.1"). */
void fmt_double(double d, char out[32]);

/* Trims ASCII blanks: [*s, *s + *n). */
static inline void ascii_trim(const char **s, size_t *n)
{
    while (*n && isspace((unsigned char)**s))
        (*s)++, (*n)--;
    while (*n && isspace((unsigned char)(*s)[*n - 1]))
        (*n)--;
}

/* ------------------------------------------------ numbers (copy_value.c) */

/* A decimal number: digits d[0..nd) (no leading zeros), value
   0.d1d2... * 10^point; dscale as PostgreSQL's numeric_in computes it. */
typedef struct dec {
    int neg;
    char d[1100];
    int nd;
    int point;
    int dscale;
} dec;

/* Parses [+-]digits[.digits][e[+-]digits] with blanks around; 0, or -1
   when it is not such a number or has too many digits. */
int dec_parse(const char *s, size_t n, dec *x);
/* Appends plain decimal text with exactly scale digits after the point. */
void dec_plain(const dec *x, int scale, buf *b);

/* ---------------------------------------------------------- copy_json.c */

/* Checks JSON text s[0..n) as PostgreSQL's jsonb input does and appends the
   text jsonb_out would print for it. 0, or -1 with why. */
int json_normalize(const char *s, size_t n, buf *out, char *why, size_t whysz);

/* ---------------------------------------------------------- copy_time.c */

#define US_PER_DAY 86400000000LL
#define MIN_US (-62135596800LL * 1000000LL) /* 0001-01-01 */
#define MAX_US (253402300800LL * 1000000LL) /* 10000-01-01, exclusive */

/* Which numbers are times (epoch_us_int, epoch_us_real), for messages. */
#define EPOCH_RULE                                                                  \
    "a Unix time needs 10^8 <= |n| < 10^10 (seconds), 10^11..10^13 (milliseconds) " \
    "or 10^14..10^16 (microseconds), a Julian day 1721425.5..5373484.5"

/* ISO-8601 text: YYYY-MM-DD[( |T)HH:MM[:SS[.f]]][Z|(+|-)HH[:MM]], offsets
   applied: UTC microseconds since 1970. 0, or -1 with why. */
int parse_datetime_text(const char *s, size_t n, int64_t *unix_us, char *why, size_t whysz);
/* A time of day "HH:MM[:SS[.frac]]" at s[*i], which it advances past it:
   microseconds of the day. 0, or -1 with why. */
int parse_tod(const char *s, size_t n, size_t *i, int64_t *us, char *why, size_t whysz);
/* A number that is a plausible time (see EPOCH_RULE) as UTC microseconds
   since 1970; -1 when it is not one. */
int epoch_us_int(int64_t v, int64_t *us);
int epoch_us_real(double v, int64_t *us);
/* Appends YYYY-MM-DD for days since 1970-01-01. */
void fmt_date(buf *b, int64_t days);
/* Appends HH:MM:SS[.ffffff] (trailing zeros dropped) for us into a day. */
void fmt_tod(buf *b, int64_t us);
/* a / b rounded towards minus infinity. */
int64_t floordiv(int64_t a, int64_t b);

/* ------------------------------------------------------------ schema */

typedef struct ccol {
    char *src;    /* SQLite name */
    char *dst;    /* PostgreSQL name */
    char *decl;   /* SQLite declared type ("" when none) */
    char *pgtype; /* PostgreSQL type as written in DDL / format_type() */
    ctype t;
    int notnull;
    char *dflt;      /* SQLite default expression, NULL when none */
    int pk;          /* 1-based position in the primary key, 0 */
    int identity;    /* rowid alias: identity column */
    char *seqname;   /* identity: its sequence's name (copy_names), NULL before */
    int generated;   /* generated column in SQLite */
    int nocase;      /* COLLATE NOCASE */
    int rtrim;       /* COLLATE RTRIM */
    int widen;       /* --on-bad-value=text: 1 -> text, 2 -> bytea */
    int srcidx;      /* index of the matching source column, -1 when none */
    long long nnull; /* values written as NULL by --on-bad-value=null */
} ccol;

typedef struct cfk {
    char *name;
    char *parent; /* SQLite parent table name */
    int n;
    char **from, **to; /* SQLite column names; to[i] NULL = parent's primary key */
    char *on_update, *on_delete;
    int deferrable;        /* 1 DEFERRABLE, 2 DEFERRABLE INITIALLY DEFERRED (the CREATE TABLE text) */
    size_t capfrom, capto; /* ARR_GROW capacities */
} cfk;

typedef struct cidx {
    char *name;
    char *sql; /* CREATE INDEX text (origin 'c'), else NULL */
    int unique;
    char origin; /* 'c', 'u', 'pk' -> 'p' */
    int ncols;
    char **cols; /* SQLite column names, NULL entry for an expression */
    int *desc;
    int partial;
    int nocase;
    int rtrim;               /* a key column compares without trailing spaces (COLLATE RTRIM) */
    char *cname;             /* origin 'u': its unique constraint's target name (copy_names) */
    size_t capcols, capdesc; /* ARR_GROW capacities */
} cidx;

typedef struct ccheck {
    char *name; /* NULL when unnamed */
    char *expr; /* SQLite expression text */
    char *col;  /* column-level check: the column, else NULL */
} ccheck;

typedef struct ctable {
    char *src, *dst;
    char *sql;
    ccol *cols; /* target columns (the source's, mapped, unless from_target) */
    int ncols;
    ccol *scols; /* from_target: the source columns; cols[i].srcidx indexes them */
    int nscols;
    cfk *fks;
    int nfks;
    cidx *idx;
    int nidx;
    ccheck *checks;
    int nchecks;
    char rowid[8]; /* "rowid", "_rowid_", "oid", or "" (WITHOUT ROWID) */
    int has_seq;   /* AUTOINCREMENT: sqlite_sequence has a row */
    long long seq;
    long long total;   /* SELECT count(*) at the start */
    int version_table; /* strata_migrations (or --table) */
    int from_target;   /* columns come from the target catalog */
    int text_copy;     /* some column has no binary encoder */
    unsigned oid;      /* target relation oid (after creation/lookup) */
    int referenced;    /* some target foreign key references it */
    char *pk_null;     /* --schema-only: a key column the source holds NULL in (no primary key) */
    int *deps;         /* tables (indexes) it references in the target */
    int ndeps;
    int skip_data; /* data-only: version table already matches */
    char *pkname;  /* its primary key's target name (copy_names), NULL when none */

    /* run state */
    int redo;
    int unchanged;
    int target_changed; /* its rows in the target differ from what the earlier copy recorded */
    /* the two sides agree, but not with the record (both changed alike, or
       an older build's hash): the record to write, so that the next rerun
       compares against what is there now */
    int rec_stale;
    char now_sum[48];
    long long rows_done;
    long long bytes;
    double seconds;
    int verified;
    char *src_sum; /* source checksum of the last pass */
    long long src_rows;
    char *rec_sum; /* checksum recorded in strata_copy_state, NULL none */
    long long rec_rows;
    int rec_exists;

    size_t capcols, capfks, capidx, capchecks, capdeps; /* ARR_GROW capacities */
} ctable;

typedef struct cschema {
    ctable *t;
    int n;
    char **views; /* name, sql pairs: views[2i], views[2i+1] */
    int nviews;
    char **triggers; /* names */
    int ntriggers;
    size_t cap, capviews, captriggers; /* ARR_GROW capacities */
} cschema;

typedef struct cwarn {
    char **v;
    size_t n, cap;
} cwarn;
void cwarn_add(cwarn *w, const char *fmt, ...) ATTR_PRINTF(2, 3);

/* Target name of a SQLite name: ASCII letters folded to lower case unless
   keep_case. Malloc'd. */
char *copy_name(const char *src, int keep_case);
/* Maps a SQLite declared type. pgtype (malloc'd) is the DDL spelling. */
void map_decl_type(const char *decl, ctype *t, char **pgtype);
/* PostgreSQL spelling of a ctype. */
void ctype_sql(const ctype *t, buf *b);

/* Reads the schema of an open SQLite database. */
strata_code schema_read(sqlite3 *db, int keep_case, const char *version_table, cschema *s, cwarn *w,
                        strata_error *err);
void schema_release(cschema *s);
void table_release(ctable *t);
void ccols_free(ccol *v, int n);
/* Index of the table with SQLite name (case-insensitive), -1. */
int schema_find(const cschema *s, const char *src);
int table_col(const ctable *t, const char *src);

/*
 * Translates a SQLite expression to PostgreSQL for table t (NULL: no column
 * context; s: table names for views). kind_hint: the target column kind for
 * defaults (CURRENT_TIMESTAMP and friends), -1 otherwise. 0 on success, -1
 * with why when the expression uses something with no PostgreSQL form.
 */
int expr_translate(const char *sql, size_t len, const cschema *s, const ctable *t, int kind_hint,
                   int keep_case, buf *out, char *why, size_t whysz);
/* The same for a whole predicate (a partial index's WHERE): a number
   column standing alone there is read as SQLite reads it, (col <> 0). */
int expr_translate_pred(const char *sql, size_t len, const cschema *s, const ctable *t, int keep_case,
                        buf *out, char *why, size_t whysz);

/* CREATE TABLE for a mapped table (columns only; no constraints). */
void ddl_create_table(const ctable *t, buf *b);

/* A name <= 63 bytes for a generated constraint/index name. Malloc'd. */
char *pg_name(const char *base, const char *suffix);

/* ------------------------------------------------------------- the run */

/* copy.c, copy_load.c and copy_after.c share one run and its pool. */

#define STATE_TABLE "strata_copy_state"

/* Sessions opened at once while the schema is read (copy.c, preconnect). */
enum { PRECONNECT_MAX = 4 };

/* One strata_copy(). The fields below mu are guarded by it once worker
   threads run. */
typedef struct run {
    const strata_copy_opts *o;
    db_url su, du; /* du: the target, taken apart once for every connection */
    cschema s;
    cwarn w;
    PGconn *ctl;
    sqlite3 *sdb;
    /* the source's read connections, all in one read transaction on the
       same snapshot (with sdb's, see open_snapshot); a worker takes a free
       one (busy) for its thread's life */
    sqlite3 **readers;
    unsigned char *busy;
    int nreaders;
    int loads_left;    /* load tasks not yet done: at 0, copy_source_done */
    char cleared[256]; /* --data-only: the linked tables emptied together (clear_phase), "" none */
    const char *vtable;
    int data_only, schema_only;
    int state_new; /* the bookkeeping table did not exist before this run */
    int jobs;
    /* target sessions ready for workers (under mu): opened ahead by the
       preconnect threads while the schema is read, and handed back by
       workers between pools; at most jobs */
    PGconn **spare;
    int nspare;
    pthread_t pre[PRECONNECT_MAX]; /* the preconnect threads */
    int npre;
    int pre_want, pre_taken, pre_tried; /* sessions to open; opened or being opened; attempts over */
    int pre_limited;                    /* a connection limit refused one of them */
    pthread_t counter;                  /* count_rows beside the schema phase (copy.c) */
    int counting;
    strata_code count_rc;
    strata_error count_err;
    pthread_mutex_t fkmu; /* one foreign key added at a time (their locks) */
    pthread_mutex_t mu;
    pthread_cond_t cv;
    int stop;
    strata_error err;
    strata_code rc;
    double t0, last_progress;
    const char *phase;
    long long rows_total, rows_done;
    int tables_total, tables_done;
    struct pool *cur; /* the running pool */
    char *version;
    double load_t0, load_end; /* rows: first load started, last load committed */
    double load_s, after_s;
} run;

/* A pool thread's connections and scratch. */
typedef struct worker {
    run *r;
    PGconn *pg;
    sqlite3 *db; /* r->readers[reader], marked busy while this worker runs */
    int reader;
    cconv cv;
    buf out;
    __int128 sum;
    long long rows;
    __int128 *colsum; /* per copied column, the sum of its hashes: kept by scan() when set (to name the
                         column of a verification mismatch), else NULL */
} worker;

typedef strata_code (*task_fn)(worker *w, ctable *t, strata_error *err);

/*
 * A pool of worker threads (each with its own SQLite and PostgreSQL
 * connection) running n items: the tables of the check phase, or the tasks
 * of the move (loads, then each table's keys and indexes as soon as its
 * rows have committed, foreign keys when both tables are ready). An item
 * runs when ready() says so; among ready items the heaviest first. Items
 * are of two stages for the progress report: stage 0 (phase) until all of
 * them are done, then stage 1 (phase2).
 */
typedef struct pool {
    run *r;
    int n;
    int *state; /* per item: 0 waiting, 1 running, 2 done */
    int (*ready)(struct pool *p, int i);
    long long (*weight)(struct pool *p, int i);
    ctable *(*table)(struct pool *p, int i);
    strata_code (*fn)(worker *w, struct pool *p, int i, strata_error *err);
    int (*stage)(struct pool *p, int i); /* NULL: every item is of stage 0 */
    const char *phase, *phase2;
    int total[2], done[2]; /* items per stage */
    /* table pools */
    task_fn tfn;
    /* task pools */
    void *tasks;
} pool;

static inline void qname(buf *b, const char *name)
{
    buf_add_quoted_ident(b, name);
}

/* copy.c */

/* Seconds on strata's monotonic clock. */
double copy_now(void);
/* INTERRUPTED (strata_interrupt) with what a copy stopped midway says:
   a rerun finishes it. */
strata_code copy_stopped(strata_error *err);
#define COPY_RERUN_HINT "the copy stopped; run the same command again to finish it"
/* the hint for a COPY that row-level security refuses (0A000) */
#define COPY_RLS_HINT                                                                                \
    "row-level security applies to this role on the target table: copy as its owner or a role with " \
    "BYPASSRLS (or ALTER TABLE ... NO FORCE ROW LEVEL SECURITY for the copy); the table was not changed"
/* Sets err to code with the server's message, prefixed with "what: "; returns code. */
strata_code copy_pg_error(strata_error *err, strata_code code, PGconn *c, PGresult *res, const char *what);
/* Runs a command; DB_ERROR with what on failure. */
strata_code copy_exec(PGconn *c, const char *sql, const char *what, strata_error *err);
/* A query with text parameters; the result (caller clears) or NULL with err set. */
PGresult *copy_query(PGconn *c, const char *sql, int n, const char *const *params, const char *what,
                     strata_error *err);
/* ROLLBACK, ignoring the outcome. */
void copy_rollback(PGconn *c);
/* Memory and parallelism settings for one task, in the current transaction. */
strata_code copy_tune(run *r, PGconn *c, const char *what, strata_error *err);
/* Runs sql inside a savepoint (the transaction stays usable). 0: done.
   -1: the server refused the statement itself (a definition it cannot
   take, rows that violate it): its message is in why, the caller warns and
   goes on. -2: it failed for a reason that is not the statement's (the
   connection, a timeout or cancel, the disk, memory, a lock, a deadlock):
   recorded as the run's error (r->rc, r->err; the pool stops), no warning
   is owed; a rerun finishes the copy. */
int copy_try_sql(run *r, PGconn *c, const char *sql, char *why, size_t whysz);
/* The run's recorded error (copy_try_sql's -2, a pool's first failure)
   copied into err: its code, or STRATA_OK when there is none. */
strata_code run_error(const run *r, strata_error *err);
/* Reports progress (at most every 0.1 s unless force). Under r->mu. */
void copy_progress(run *r, const ctable *t, int force);
/* Adds a warning to the report; any thread. */
void copy_warn(run *r, const char *fmt, ...) ATTR_PRINTF(2, 3);
/* Runs the pool's waiting items on up to r->jobs threads; the first error
   stops the others and is returned. */
strata_code pool_run(pool *p, strata_error *err);
/* Ends the source snapshot's read transactions (the connections stay
   open): called once every row has been read, so that writers of a source
   in rollback-journal mode wait no longer, and a WAL can be checkpointed.
   No thread may be using a source connection (with the pool running, the
   caller holds r->mu and the last load has finished). */
void copy_source_done(run *r);

/* copy_load.c */

/* Stops the copy (CONFIG_ERROR) when the server does not hash as strata
   does, unless --no-verify. */
strata_code hash_probe(run *r, strata_error *err);
/* --on-bad-value=text: scans t and makes the columns whose values do not
   fit text (or bytea), with a warning each. */
strata_code widen_columns(run *r, ctable *t, strata_error *err);
/* Every value of t checked as its load would check it (BAD_VALUE naming
   the row and column), nothing written: before tables linked by foreign
   keys are emptied together (--data-only), where a load failing afterwards
   could no longer roll back its table alone. */
strata_code validate_table(run *r, ctable *t, strata_error *err);
/* Rerun: marks t unchanged when source and target still match the recorded
   checksum, else redo. */
strata_code check_task(worker *w, ctable *t, strata_error *err);
/* Loads t in one transaction (TRUNCATE, COPY, read-back, state row). */
strata_code load_task(worker *w, ctable *t, strata_error *err);

/* copy_after.c */

/*
 * The move, as one schedule on the worker pool: the tables marked in load
 * are loaded (load_task; with the target's foreign keys, parents first);
 * as soon as a table's rows have committed its primary key, unique
 * constraints and indexes build (default mode), then its CHECKs and its
 * sequences; a foreign key is added and validated once both its tables are
 * ready; the largest table's work first. Then views (default mode). What
 * cannot be carried over is a warning; the first error stops the copy.
 */
/* The names strata makes up in the target (primary keys, unique
   constraints, identity sequences), clear of the source's own and of the
   target's relations that belong to none of the copied tables (an older
   "users_old" keeps its "users_pkey"): ctable's pkname, cidx's cname,
   ccol's seqname. A source index whose name such a relation holds is
   CONFIG_ERROR (CREATE INDEX IF NOT EXISTS would skip it, and a later
   migration's DROP INDEX would find the other table's). Once, in the schema
   phase, after widen_columns and before the tables are created. */
strata_code copy_names(run *r, strata_error *err);
/* The ALTER TABLE that adds t's n-th CHECK (translated into b, which the
   caller releases either way) and its name (*cname, the caller frees; NULL
   when out of memory). 0, or -1 with why (the expression does not
   translate). The schema phase adds the CHECKs to each table it creates,
   before the rows: COPY then checks each row as it goes, instead of a scan
   of the whole table afterwards under an exclusive lock. A CHECK the rows
   break is dropped by the load and added again after it, which fails and
   warns (finish_table). */
int check_sql(run *r, const ctable *t, int n, buf *b, char **cname, char *why, size_t whysz);
/* The target name of t's n-th CHECK (the caller frees; NULL when out of
   memory): its own, or TABLE_checkN. */
char *check_name(run *r, const ctable *t, int n);
strata_code copy_move(run *r, const int *load, strata_error *err);

#endif
