/*
 * engine.c -- the migration engine: version-table records, planning, and
 * running up/down/redo/stamp under the lock.
 *
 * Atomicity: a transactional section runs in one transaction together with
 * its version-table change, so a failure or a kill leaves the database at
 * the previous version. A no-transaction section is first recorded as
 * "failed" (committed), then run, then marked applied; a kill in between
 * leaves a visible failed record that `up` refuses to skip.
 */
#include "sqlgen.h"
#include "vtable.h"

#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <signal.h>
#include <time.h>
#include <unistd.h>

typedef struct rec {
    char *version, *name, *checksum, *applied_at, *state, *error;
    char *up_checksum; /* NULL when recorded before strata kept it */
    long duration_ms;
} rec;

typedef struct recs {
    rec *v;
    size_t n, cap;
    /* the records' strings, packed into chunks (thousands of records are
       read by every `up`: one allocation per chunk, not per record) */
    char **chunks;
    size_t nchunks, capchunks;
    size_t left; /* bytes free at the end of the last chunk */
    /* what reading them found out about the version table, for
       ensure_table: TABLE_UNKNOWN when not read */
    int table;
    int full; /* applied_at and duration_ms were read (vt_select) */
} recs;

enum { TABLE_UNKNOWN = 0, TABLE_ABSENT, TABLE_OLD_COLUMNS, TABLE_CURRENT };
enum { RECS_CHUNK = 64 * 1024 };

static void recs_release(recs *r)
{
    for (size_t i = 0; i < r->nchunks; i++)
        free(r->chunks[i]);
    free(r->chunks);
    free(r->v);
    memset(r, 0, sizeof(*r));
}

/* Frees records allocated on their own (read ahead); NULL is fine. */
static void recs_free(recs *r)
{
    if (r) {
        recs_release(r);
        free(r);
    }
}

/* n bytes for a record's strings, in the last chunk or a new one. */
static char *recs_space(recs *r, size_t n)
{
    if (r->nchunks && n <= r->left) {
        char *p = r->chunks[r->nchunks - 1] + (RECS_CHUNK - r->left);
        r->left -= n;
        return p;
    }
    if (ARR_GROW(r->chunks, r->capchunks, r->nchunks + 1))
        return NULL;
    size_t size = n > RECS_CHUNK ? n : RECS_CHUNK;
    char *c = malloc(size);
    if (!c)
        return NULL;
    if (n > RECS_CHUNK && r->nchunks) { /* a record larger than a chunk: before the last one */
        r->chunks[r->nchunks] = r->chunks[r->nchunks - 1];
        r->chunks[r->nchunks++ - 1] = c;
        return c;
    }
    r->chunks[r->nchunks++] = c;
    r->left = size - n;
    return c;
}

static void emit(strata *db, strata_event_kind k, int down, const char *text, long ms)
{
    if (!db->on_event)
        return;
    strata_event ev = {k, down, text, ms};
    db->on_event(db->ud, &ev);
}

static void utc_now(char out[32])
{
    time_t t = time(NULL);
    struct tm tm;
    gmtime_r(&t, &tm);
    strftime(out, 32, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

/* ------------------------------------------------------------ open/close */

strata_code strata_open(const char *url, const strata_config *cfg, strata **out, strata_error *err)
{
    if (!out)
        return api_null(err, __func__, "out");
    static const strata_config defaults = {0};
    strata_config c = cfg ? *cfg : defaults;
    *out = NULL;
    c.lock_timeout = lock_timeout_norm(c.lock_timeout);
    strata *db = calloc(1, sizeof(*db));
    if (!db)
        return err_set(err, STRATA_NOMEM, "out of memory");
    strata_code rc = url_parse(url, &db->u, err);
    if (rc) {
        free(db);
        return rc;
    }
    db->ops = db->u.ops;
    db->table = xstrdup(c.table && *c.table ? c.table : STRATA_DEFAULT_TABLE);
    db->lock_timeout = c.lock_timeout;
    db->reconnect_ms = reconnect_ms(c.connect_timeout);
    db->readonly = c.readonly;
    db->on_event = c.on_event;
    db->ud = c.userdata;
    rc = db->ops->open(&db->d, &db->u, &c, err);
    if (rc) {
        strata_close(db);
        return rc;
    }
    *out = db;
    return STRATA_OK;
}

void strata_close(strata *db)
{
    if (!db)
        return;
    recs_free(db->ahead);
    strata_objects_free(db->reset_seen);
    if (db->d)
        db->ops->close(db->d);
    free(db->table);
    free(db->qtable);
    url_release(&db->u);
    free(db);
}

const char *strata_engine(const strata *db)
{
    return db ? db->ops->engine : NULL;
}

const char *strata_state_name(strata_state st)
{
    static const char *names[] = {"applied", "pending", "modified", "missing", "failed"};
    return (unsigned)st < 5 ? names[st] : "unknown";
}

/* --------------------------------------------------------- version table */

static strata_code q(strata *db, const char *sql, int n, const char *const *p, strata_error *err)
{
    return db->ops->query(db->d, sql, n, p, NULL, NULL, err);
}

/* Resolves db->qtable, the version table's name as SQL (drv_ops.vt_locate),
   once; and with exists != NULL tells whether the table exists now. */
static strata_code vt_table(strata *db, int *exists, strata_error *err)
{
    if (db->ops->vt_locate)
        return db->ops->vt_locate(db->d, db->table, &db->qtable, exists, err);
    if (!db->qtable && !(db->qtable = ident_dup(db->table)))
        return err_set(err, STRATA_NOMEM, "out of memory");
    return exists ? db->ops->table_exists(db->d, db->table, exists, err) : STRATA_OK;
}

strata_code engine_lock(strata *db, strata_error *err)
{
    if (db->readonly) /* every writer takes the lock first */
        return err_set(err, STRATA_USAGE, "the database was opened read-only");
    /* a connection lost before the lock is held (a pooler dropping a client
       that queued, a role's idle_session_timeout) holds nothing: a new one
       goes on, within the lock's timeout */
    double deadline = clock_ms() + db->lock_timeout * 1000.0, timeout = db->lock_timeout;
    for (;;) {
        strata_code rc = vt_table(db, NULL, err);
        if (!rc)
            rc = db->ops->lock(db->d, db->table, timeout, err);
        double now = clock_ms();
        /* a pool in statement mode closed the connection on purpose */
        if (!rc || rc == STRATA_POOLER_UNSUPPORTED || now >= deadline || !db->ops->recover ||
            db->ops->recover(db->d) != 1)
            return rc;
        strata_error_clear(err);
        timeout = (deadline - clock_ms()) / 1000.0; /* what is left of --lock-timeout */
    }
}

/* A row of vt_select: full, or without applied_at and duration_ms. */
static int add_rec(void *ud, int n, char **v)
{
    recs *r = ud;
    int t = r->full ? 2 : 0; /* where state is, after the times */
    if (n < 5 + t)
        return 1;
    if (ARR_GROW(r->v, r->cap, r->n + 1))
        return 1;
    /* a state strata never writes (a row edited by hand: 'APPLIED', 'done')
       reads as failed, with why, in every command: one reading, and never
       "pending, run it again" */
    const char *state = v[3 + t] ? v[3 + t] : "applied", *error = v[4 + t];
    char why[200];
    if (strcmp(state, "applied") && strcmp(state, "failed")) {
        snprintf(why, sizeof(why),
                 "the version table records state '%.60s', which strata does not write (edited by hand?)",
                 state);
        state = "failed";
        error = why;
    }
    /* the strings of a record together, version first */
    const char *in[7] = {
        v[0] ? v[0] : "",           v[1] ? v[1] : "", v[2] ? v[2] : "", t && v[3] ? v[3] : "", state, error,
        n > 5 + t ? v[5 + t] : NULL};
    size_t len[7], total = 0;
    for (int i = 0; i < 7; i++)
        total += in[i] ? (len[i] = strlen(in[i])) + 1 : 0;
    char *p = recs_space(r, total);
    if (!p)
        return 1;
    char *out[7];
    for (int i = 0; i < 7; i++) {
        out[i] = NULL;
        if (in[i]) {
            out[i] = memcpy(p, in[i], len[i] + 1);
            p += len[i] + 1;
        }
    }
    rec *x = &r->v[r->n++];
    x->version = out[0];
    x->name = out[1];
    x->checksum = out[2];
    x->applied_at = out[3];
    x->duration_ms = t && v[4] ? atol(v[4]) : 0;
    x->state = out[4];
    x->error = out[5];
    x->up_checksum = out[6];
    return 0;
}

static int rec_cmp(const void *a, const void *b)
{
    return version_cmp(((const rec *)a)->version, ((const rec *)b)->version);
}

/* Reads every record, sorted by version; an absent table reads as empty.
   Without full, applied_at is "" and duration_ms 0 (vt_select). */
static strata_code read_recs_now(strata *db, recs *r, int full, strata_error *err)
{
    int exists = 0;
    memset(r, 0, sizeof(*r));
    r->full = full;
    strata_code rc = vt_table(db, &exists, err);
    if (rc || !exists) {
        r->table = rc ? TABLE_UNKNOWN : TABLE_ABSENT;
        return rc;
    }
    /* a table made by an older strata has no up_checksum: read it without */
    for (int with_up = 1; with_up >= 0; with_up--) {
        buf b;
        strata_error e2;
        buf_init(&b);
        vt_select(&b, db->ops->dialect, db->qtable, with_up, full);
        rc = db->ops->query(db->d, b.data, 0, NULL, add_rec, r, with_up ? &e2 : err);
        buf_release(&b);
        if (rc == STRATA_OK) {
            r->table = with_up ? TABLE_CURRENT : TABLE_OLD_COLUMNS;
            break;
        }
        recs_release(r); /* clears full too */
        r->full = full;
    }
    if (rc) {
        recs_release(r);
        if (err && (!strcmp(err->sqlstate, "42703") || strstr(err->message, "no such column"))) {
            /* a table of that name that is not strata's: never written to */
            char what[sizeof(err->message)];
            snprintf(what, sizeof(what), "%s", err->message);
            rc = err_set(err, STRATA_CONFIG_ERROR, "table %s is not a strata version table (%s)", db->qtable,
                         what);
            err_hint(err,
                     "is it another tool's (dbmate and golang-migrate use schema_migrations, goose "
                     "goose_db_version, Alembic alembic_version)? To switch to strata: strata import, then "
                     "strata adopt (docs/adopting.md); else name another table with --table");
        }
        return rc;
    }
    /* the primary key's order is version order when versions have one width */
    size_t i = 1;
    while (i < r->n && version_cmp(r->v[i - 1].version, r->v[i].version) < 0)
        i++;
    if (i < r->n)
        qsort(r->v, r->n, sizeof(rec), rec_cmp);
    return STRATA_OK;
}

/* read_recs_now, or what strata_read_ahead read when nothing was committed
   since and it holds what full asks for (used once: the first read after it
   takes it or drops it). */
static strata_code read_recs(strata *db, recs *r, int full, strata_error *err)
{
    recs *a = db->ahead;
    if (a) {
        uint64_t now[3];
        db->ahead = NULL;
        if ((a->full || !full) && db->ops->changes(db->d, now) == 0 &&
            !memcmp(now, db->ahead_at, sizeof(now))) {
            *r = *a;
            free(a);
            return STRATA_OK;
        }
        recs_free(a);
    }
    return read_recs_now(db, r, full, err);
}

/* read_recs for the reading calls (status, history, current, validate),
   outside any transaction: a connection the server ended since the last
   call (a restart, pg_terminate_backend, a pooler) is made again and the
   read tried once more -- reading twice changes nothing. */
static strata_code read_recs_anew(strata *db, recs *r, int full, strata_error *err)
{
    strata_code rc = read_recs(db, r, full, err);
    if (rc && db->ops->recover && db->ops->recover(db->d) == 1) {
        strata_error_clear(err);
        rc = read_recs(db, r, full, err);
    }
    return rc;
}

strata_code strata_read_ahead(strata *db, unsigned flags, strata_error *err)
{
    if (!db)
        return api_null(err, __func__, "db");
    if (!db->ops->changes)
        return STRATA_OK;
    recs_free(db->ahead);
    db->ahead = NULL;
    recs *a = calloc(1, sizeof(*a));
    if (!a)
        return err_set(err, STRATA_NOMEM, "out of memory");
    if (db->ops->changes(db->d, db->ahead_at)) {
        free(a);
        return STRATA_OK; /* read when needed, as without */
    }
    strata_code rc = read_recs_now(db, a, (flags & STRATA_READ_TIMES) != 0, err);
    if (rc) {
        free(a);
        return rc;
    }
    db->ahead = a;
    return STRATA_OK;
}

/* The version table could not be created (err set by the engine): say what
   strata was doing, the first write of a new database, and what the role
   lacks. Returns err's code. */
static strata_code create_failed(strata *db, strata_error *err)
{
    if (!err)
        return STRATA_DB_ERROR;
    err_prefix(err, "cannot create the version table %s: ", db->qtable);
    if (!strcmp(err->sqlstate, "42501") && !err->hint[0])
        err_hint(err, "the role needs CREATE on that schema (PostgreSQL 15 no longer grants it on public to "
                      "everyone): GRANT CREATE ON SCHEMA ... TO the role, or name a schema it owns with "
                      "--table SCHEMA.TABLE");
    return err->code;
}

/* Creates the version table, or adds the columns a table made by an older
   strata lacks (up_checksum, note). Under the lock, outside a transaction.
   known (may be NULL): records just read under the same lock, which already
   tell whether the table is there and current -- then no query is needed. */
static strata_code ensure_table(strata *db, const recs *known, strata_error *err)
{
    int have = known ? known->table : TABLE_UNKNOWN;
    if (have == TABLE_CURRENT)
        return STRATA_OK;
    int exists = have == TABLE_OLD_COLUMNS;
    strata_code rc = vt_table(db, have == TABLE_UNKNOWN ? &exists : NULL, err);
    if (rc)
        return rc;
    buf b;
    buf_init(&b);
    if (!exists) {
        vt_create(&b, db->ops->dialect, db->qtable);
        rc = q(db, b.data, 0, NULL, err);
        buf_release(&b);
        return rc ? create_failed(db, err) : rc;
    }
    static const char *const newer[] = {"up_checksum, note", "up_checksum", "note"};
    for (size_t i = 0; !rc && i < sizeof(newer) / sizeof(*newer); i++) {
        strata_error probe;
        buf_reset(&b);
        vt_probe_columns(&b, db->qtable, newer[i]);
        if (q(db, b.data, 0, NULL, &probe) == STRATA_OK) {
            if (i == 0)
                break; /* all there: the usual case, one query */
            continue;
        }
        if (i == 0)
            continue;
        buf_reset(&b);
        vt_add_column(&b, db->qtable, newer[i]);
        rc = q(db, b.data, 0, NULL, err);
        if (rc) {
            /* another process added it meanwhile (SQLite: a lock per
               transaction, so replicas upgrading an older table race from
               the probe to the ALTER): there it is, which was the point */
            buf_reset(&b);
            vt_probe_columns(&b, db->qtable, newer[i]);
            if (q(db, b.data, 0, NULL, &probe) == STRATA_OK) {
                strata_error_clear(err);
                rc = STRATA_OK;
            }
        }
    }
    buf_release(&b);
    return rc;
}

/* The up checksum of m on this engine (sql_norm_checksum of its up section). */
static void up_checksum(const strata *db, const migration *m, char out[65])
{
    const section *s = mig_section(m, SEC_UP, db->ops->dialect);
    sql_norm_checksum(s ? s->sql : "", out);
}

/*
 * Both lists are sorted by version: binary search keeps validation of
 * thousands of migrations O(n log n). find_at looks for version in n
 * structs of size sz whose version string sits at offset off and returns
 * its index, or n. at (may be NULL) is for versions asked in increasing
 * order: where the last one was found, so a walk along both lists compares
 * once per step.
 */
static size_t find_at(const void *base, size_t n, size_t sz, size_t off, const char *version, size_t *at)
{
#define VERSION_AT(i) (*(char *const *)((const char *)base + (i)*sz + off))
    if (at && *at < n && version_cmp(VERSION_AT(*at), version) == 0)
        return (*at)++;
    size_t lo = 0, hi = n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        int c = version_cmp(VERSION_AT(mid), version);
        if (c == 0) {
            if (at)
                *at = mid + 1;
            return mid;
        }
        if (c < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return n;
#undef VERSION_AT
}

static const rec *find_rec_next(const recs *r, const char *version, size_t *at)
{
    size_t i = find_at(r->v, r->n, sizeof(rec), offsetof(rec, version), version, at);
    return i < r->n ? &r->v[i] : NULL;
}

static const rec *find_rec(const recs *r, const char *version)
{
    return find_rec_next(r, version, NULL);
}

static const migration *find_mig_next(const strata_migset *set, const char *version, size_t *at)
{
    size_t i = find_at(set->migs, set->count, sizeof(migration), offsetof(migration, version), version, at);
    return i < set->count ? &set->migs[i] : NULL;
}

static const migration *find_mig(const strata_migset *set, const char *version)
{
    return find_mig_next(set, version, NULL);
}

static int rec_applied(const rec *x)
{
    return x && !strcmp(x->state, "applied");
}

static strata_code delete_rec(strata *db, const char *version, strata_error *err);

/* Writes the record of m: state "applied" or "failed". Replaces any row. */
static strata_code write_rec(strata *db, const migration *m, const char *state, long ms, const char *error,
                             int replace, strata_error *err)
{
    strata_code rc = replace ? delete_rec(db, m->version, err) : STRATA_OK;
    if (rc)
        return rc;
    char msbuf[32], up[65];
    snprintf(msbuf, sizeof(msbuf), "%ld", ms);
    up_checksum(db, m, up);
    const char *p[VT_NVALS];
    p[VT_VERSION] = m->version;
    p[VT_NAME] = m->name;
    p[VT_CHECKSUM] = m->checksum;
    p[VT_DURATION_MS] = msbuf;
    p[VT_STATE] = state;
    p[VT_ERROR] = error;
    p[VT_UP_CHECKSUM] = up;
    buf b;
    buf_init(&b);
    vt_insert(&b, db->ops->dialect, db->qtable, NULL);
    rc = b.oom ? err_set(err, STRATA_NOMEM, "out of memory") : q(db, b.data, VT_NVALS, p, err);
    buf_release(&b);
    return rc;
}

static strata_code delete_rec(strata *db, const char *version, strata_error *err)
{
    buf b;
    buf_init(&b);
    vt_delete(&b, db->qtable, NULL);
    const char *p[1] = {version};
    strata_code rc = q(db, b.data, 1, p, err);
    buf_release(&b);
    return rc;
}

typedef struct state_row {
    char state[16];
    char error[128]; /* enough for a mark: "... completion (pid N)" */
} state_row;

static int read_state(void *ud, int n, char **v)
{
    state_row *out = ud;
    snprintf(out->state, sizeof(out->state), "%s", n > 0 && v[0] ? v[0] : "");
    snprintf(out->error, sizeof(out->error), "%s", n > 1 && v[1] ? v[1] : "");
    return 1;
}

/* 1 when error is the mark a no-transaction section's record carries while
   the section runs: "[down ]interrupted before completion[ (pid N)]". */
static int run_mark(const char *error)
{
    return error && (!strncmp(error, "interrupted before completion", 29) ||
                     !strncmp(error, "down interrupted before completion", 34));
}

/*
 * The process running a no-transaction section now, by its record's mark
 * (with " (pid N)" when written by an engine with a lock per transaction):
 * running_pid is N when that process is alive on this host (a SQLite file is
 * local), else 0 -- a killed run's mark, or one without a pid (strata sql's
 * scripts). mark_pid is N, alive or not (0 without a mark).
 */
static long mark_pid(const char *state, const char *error)
{
    const char *p =
        state && !strcmp(state, "failed") && run_mark(error) ? strstr(error, "completion (pid ") : NULL;
    return p ? strtol(p + 16, NULL, 10) : 0;
}

/* A number after key in s ("pidns 4026531836"), 0 without one. */
static unsigned long long mark_num(const char *s, const char *key)
{
    const char *p = s ? strstr(s, key) : NULL;
    return p ? strtoull(p + strlen(key), NULL, 10) : 0;
}

/* The PID namespace of this process (Linux: the inode of /proc/self/ns/pid),
   0 when it cannot be read. */
static unsigned long long self_pidns(void)
{
    char l[64];
    ssize_t n = readlink("/proc/self/ns/pid", l, sizeof(l) - 1);
    if (n <= 0)
        return 0;
    l[n] = 0;
    return mark_num(l, "[");
}

/* When process pid started (clock ticks since boot, field 22 of
   /proc/PID/stat), 0 when it cannot be read: with the namespace, what tells
   a pid reused by another process from the one that wrote a mark. */
static unsigned long long proc_start_state(long pid, char *state)
{
    char path[64], b[1024];
    *state = 0;
    snprintf(path, sizeof(path), "/proc/%ld/stat", pid);
    FILE *f = fopen(path, "r");
    if (!f)
        return 0;
    size_t n = fread(b, 1, sizeof(b) - 1, f);
    fclose(f);
    b[n] = 0;
    const char *p = strrchr(b, ')'); /* the command name may hold anything */
    if (p && p[1] == ' ')
        *state = p[2]; /* field 3: R, S, D, Z (a zombie), X ... */
    for (int field = 2; p && field < 22; field++)
        p = strchr(p + 1, ' ');
    return p ? strtoull(p + 1, NULL, 10) : 0;
}

static unsigned long long proc_start(long pid)
{
    char state;
    return proc_start_state(pid, &state);
}

/* What a mark written now adds after "completion": " (pid N, pidns I, start T)". */
static void mark_self(char *out, size_t n)
{
    long pid = (long)getpid();
    snprintf(out, n, " (pid %ld, pidns %llu, start %llu)", pid, self_pidns(), proc_start(pid));
}

/*
 * pid when the process that wrote the mark may still run, else 0 (killed).
 * Alive means: in this PID namespace, the pid exists and, when the mark
 * says when its writer started, started then (not a reused pid). A mark
 * written in another PID namespace (another container sharing the file)
 * cannot be checked from here: it counts as alive (*foreign set), so that
 * nobody runs the section a second time beside it.
 */
static long mark_alive(const char *state, const char *error, int *foreign)
{
    long pid = mark_pid(state, error);
    if (foreign)
        *foreign = 0;
    if (pid <= 0)
        return 0;
    unsigned long long ns = mark_num(error, ", pidns "), self = self_pidns();
    if (ns && self && ns != self) {
        if (foreign)
            *foreign = 1;
        return pid;
    }
    if (pid == (long)getpid())
        return 0;
    if (kill((pid_t)pid, 0) != 0 && errno != EPERM)
        return 0;
    char st = 0;
    unsigned long long start = mark_num(error, ", start "), now = proc_start_state(pid, &st);
    if (st == 'Z' || st == 'X')
        return 0; /* killed, not yet reaped by its parent */
    return start && now && now != start ? 0 : pid;
}

/* The way out of a wait for a mark of another PID namespace. */
#define FOREIGN_MARK_HINT                                                                                   \
    "strata cannot see the processes of another PID namespace: raise --lock-timeout to wait longer; if no " \
    "strata process runs in any container sharing this file, that run was killed while applying it: check " \
    "what its section did, then 'strata up --retry-failed'"

static long running_pid(const rec *x, int *foreign)
{
    return mark_alive(x->state, x->error, foreign);
}

/* One pause of a wait for another process (SQLite: a no-transaction
   section it runs): the first says so; LOCK_TIMEOUT saying what and hint
   once deadline has passed, INTERRUPTED after a signal. */
static strata_code wait_turn(strata *db, int *waited, double *delay, double deadline, const char *what,
                             const char *hint, strata_error *err)
{
    if (!(*waited)++) {
        emit(db, STRATA_EV_LOCK_WAIT, 0, "waiting for another strata process to finish", 0);
        /* SQLite: a long run may hold the write lock between transactions
           (locking_mode=EXCLUSIVE, even after a ROLLBACK); the process it
           waits for needs it to finish -- let it go for the rest of the run */
        if (!db->ops->session_lock)
            db->ops->unlock(db->d, db->table);
    }
    if (intr_requested())
        return intr_error(err, "while waiting for another process applying a migration");
    double now = clock_ms();
    if (now >= deadline) {
        err_set(err, STRATA_LOCK_TIMEOUT, "timed out after %gs waiting for %s", db->lock_timeout, what);
        err_hint(err, "%s", hint);
        return STRATA_LOCK_TIMEOUT;
    }
    backoff_sleep(delay, 1.5, 1000, 1, now, deadline);
    return STRATA_OK;
}

/* The state of version's row now, "" when there is none: "running" while
   the process whose mark is on it (a no-transaction section under way) is
   alive ("running-ns" when it is of another PID namespace, which cannot be
   checked), "killed" (its pid in *pid) once it is gone. */
static strata_code rec_state_now(strata *db, const char *version, char out[16], long *pid, strata_error *err)
{
    buf b;
    buf_init(&b);
    vt_state(&b, db->qtable);
    const char *p[1] = {version};
    state_row row = {"", ""};
    strata_code rc = db->ops->query(db->d, b.data, 1, p, read_state, &row, err);
    buf_release(&b);
    snprintf(out, 16, "%s", row.state);
    if (pid)
        *pid = 0;
    if (!rc && !strcmp(row.state, "failed") && run_mark(row.error)) {
        long marked = mark_pid(row.state, row.error);
        if (pid)
            *pid = marked;
        int foreign = 0;
        snprintf(out, 16, "%s",
                 !mark_alive(row.state, row.error, &foreign) ? "killed"
                 : foreign                                   ? "running-ns"
                                                             : "running");
    }
    return rc;
}

static void rollback(strata *db)
{
    strata_error ignore;
    q(db, "ROLLBACK", 0, NULL, &ignore);
}

/* Commits the open transaction, once the driver has confirmed that this
   process still holds the migration lock (a lease behind a pooler). */
static strata_code commit(strata *db, strata_error *err)
{
    strata_code rc = db->ops->held ? db->ops->held(db->d, err) : STRATA_OK;
    return rc ? rc : q(db, "COMMIT", 0, NULL, err);
}

/* 1 when name (schema-qualified, quoted as quote_ident does) is mentioned
   in sql as a word, without its schema or with it, any case. */
static int sql_mentions(const char *sql, const char *qualified)
{
    const char *dot = strchr(qualified, '.');
    const char *name = dot && dot[1] ? dot + 1 : qualified;
    char bare[256];
    size_t n = 0;
    for (const char *s = name; *s && n + 1 < sizeof(bare); s++)
        if (*s != '"')
            bare[n++] = *s;
    bare[n] = 0;
    if (!n)
        return 0;
    for (const char *p = sql; (p = c_strcasestr(p, bare)); p++) {
        unsigned char before = p > sql ? (unsigned char)p[-1] : ' ';
        unsigned char after = (unsigned char)p[n];
        int wb = !(isalnum(before) || before == '_' || before >= 0x80);
        int wa = !(isalnum(after) || after == '_' || after == '$' || after >= 0x80);
        if (wb && wa)
            return 1;
    }
    return 0;
}

/* The engine's INVALID indexes, "schema.name" one per line, into *out
   (malloc'd); NULL when there are none or the engine has no such thing. */
static strata_code invalid_indexes(strata *db, char **out, strata_error *err)
{
    *out = NULL;
    if (!db->ops->invalid_indexes)
        return STRATA_OK;
    buf b;
    buf_init(&b);
    strata_code rc = db->ops->invalid_indexes(db->d, &b, err);
    if (!rc && b.len)
        *out = buf_detach(&b);
    buf_release(&b);
    return rc;
}

/* The first INVALID index that section s mentions -- a failed or
   interrupted CREATE INDEX CONCURRENTLY leaves one behind -- into *hit,
   pointing into *bad (malloc'd, the caller frees it), or NULL. */
static strata_code invalid_index_of(strata *db, const section *s, char **bad, const char **hit,
                                    strata_error *err)
{
    char *p, *line;
    *hit = NULL;
    strata_code rc = invalid_indexes(db, bad, err);
    for (p = *bad; !rc && !*hit && (line = line_cut(&p)) != NULL;)
        if (sql_mentions(s->sql, line))
            *hit = line;
    return rc;
}

#define INVALID_INDEX_WAY "run 'DROP INDEX CONCURRENTLY %s;', then 'strata up --retry-failed' builds it again"

/* INVALID_INDEX when an index the section mentions is INVALID: IF NOT
   EXISTS on a retry would skip it. */
static strata_code check_invalid_indexes(strata *db, const migration *m, const section *s, strata_error *err)
{
    char *bad = NULL;
    const char *hit;
    strata_code rc = invalid_index_of(db, s, &bad, &hit, err);
    if (!rc && hit) {
        rc = err_set(err, STRATA_INVALID_INDEX,
                     "migration %s left index %s INVALID (a CREATE INDEX CONCURRENTLY failed or was "
                     "interrupted; IF NOT EXISTS does not rebuild it)",
                     m->id, hit);
        err_hint(err, INVALID_INDEX_WAY, hit);
        err_where(err, m->path, s->line);
    }
    free(bad);
    return rc;
}

/* ---------------------------------------------------------------- results */

/* The lists handed out below are allocated with their array's capacity
   (ARR_GROW) behind the public struct, which stays first: the public
   strata_*_free functions free them as they are. */
typedef struct result_list {
    strata_result pub;
    size_t cap;
} result_list;

typedef struct status_list {
    strata_status pub;
    size_t cap;
    signed char *running; /* strata_status_running, per entry; may be NULL */
} status_list;

typedef struct problem_list {
    strata_problems pub;
    size_t cap;
} problem_list;

/* r: allocated as a result_list (run), or NULL. */
static strata_code result_add(strata_result *r, const migration *m, int down, long ms)
{
    if (!r)
        return STRATA_OK;
    if (ARR_GROW(r->steps, ((result_list *)r)->cap, r->count + 1))
        return STRATA_NOMEM;
    strata_step *s = r->steps + r->count++;
    s->version = xstrdup(m->version);
    s->name = xstrdup(m->name);
    s->down = down;
    s->duration_ms = ms;
    return STRATA_OK;
}

void strata_result_free(strata_result *r)
{
    if (!r)
        return;
    for (size_t i = 0; i < r->count; i++) {
        free(r->steps[i].version);
        free(r->steps[i].name);
    }
    free(r->steps);
    free(r->current);
    free(r);
}

/* Newest applied version in recs, or "base". */
static char *current_of(const recs *r)
{
    for (size_t i = r->n; i-- > 0;)
        if (rec_applied(&r->v[i]))
            return xstrdup(r->v[i].version);
    return xstrdup("base");
}

/* ------------------------------------------------------------- one step */

enum { STEP_DONE = 0, STEP_SKIPPED = -1 };

/*
 * SQLite takes its lock per transaction, so another process may commit
 * between two steps of a run. Each step goes on only if what the run
 * planned from still holds for it: an up whose older migrations another
 * process reverted meanwhile, or a down under a migration another process
 * applied meanwhile, would leave an applied migration above a pending one.
 * PostgreSQL's session lock keeps others out for the whole run: no guard.
 */
typedef struct guard {
    const recs *planned;       /* what the plan was made from */
    const strata_result *done; /* the steps this run committed */
    const char **skipped;      /* versions an up found applied by another process */
    size_t nskipped, capskipped;
    uint64_t seen; /* data_version when last known unchanged by others */
    int on;
} guard;

static strata_code step_guard(strata *db, const migration *m, int down, guard *g, strata_error *err)
{
    uint64_t now[3];
    if (!g || !g->on || db->ops->changes(db->d, now) != 0 || now[0] == g->seen)
        return STRATA_OK; /* nobody else committed since the plan */
    recs r;
    strata_code rc = read_recs_now(db, &r, 0, err);
    if (rc)
        return rc;
    /* what stands in the way, named: version_name (a skipped one: its version) */
    char who[300] = "";
    int running = 0;
    if (down) {
        /* applied above it, or being applied now by another process (its
           no-transaction mark: at m itself too) */
        for (size_t i = r.n; i-- > 0 && !who[0];) {
            const rec *x = &r.v[i];
            int c = version_cmp(x->version, m->version);
            running = c >= 0 && mark_alive(x->state, x->error, NULL);
            if (running || (c > 0 && rec_applied(x)))
                snprintf(who, sizeof(who), "%s_%s", x->version, x->name);
        }
    } else {
        /* what was applied when it planned, what it applied itself (a down or
           a restore of an older backup may have undone either), and what it
           skipped as applied by another process then */
        for (size_t i = 0; i < g->planned->n && !who[0]; i++) {
            const rec *x = &g->planned->v[i], *y;
            if (version_cmp(x->version, m->version) >= 0)
                break;
            if (rec_applied(x) && (!(y = find_rec(&r, x->version)) || !rec_applied(y)))
                snprintf(who, sizeof(who), "%s_%s", x->version, x->name);
        }
        for (size_t i = 0; g->done && i < g->done->count && !who[0]; i++) {
            const strata_step *st = &g->done->steps[i];
            const rec *x = st->down ? NULL : find_rec(&r, st->version);
            if (!st->down && (!x || !rec_applied(x)))
                snprintf(who, sizeof(who), "%s_%s", st->version, st->name);
        }
        for (size_t i = 0; i < g->nskipped && !who[0]; i++) {
            const rec *x = find_rec(&r, g->skipped[i]);
            if (!x || !rec_applied(x))
                snprintf(who, sizeof(who), "%s", g->skipped[i]);
        }
    }
    if (who[0]) {
        err_set(err, STRATA_OUT_OF_ORDER,
                "another process %s %s while this run went on: stopped before %s %s",
                !down     ? "reverted"
                : running ? "is applying"
                          : "applied",
                who, down ? "reverting" : "applying", m->id);
        err_hint(err,
                 "%s would leave an applied migration above a pending one; what this run did so far is "
                 "committed: run 'strata %s' again once the other process is done",
                 down ? "reverting it" : "applying it", down ? "down" : "up");
        rc = STRATA_OUT_OF_ORDER;
    } else {
        g->seen = now[0];
    }
    recs_release(&r);
    return rc;
}

/* A no-transaction section that ended inside a transaction it began (a
   BEGIN without its COMMIT: a file cut short): rolled back, as psql and
   sqlite3 do at the end of a file, and the migration failed at that BEGIN
   -- never committed by strata's own bookkeeping. */
static strata_code open_tx_error(strata *db, const migration *m, const section *s, strata_error *err)
{
    rollback(db);
    int by_savepoint = 0, at = sql_tx_opener(s->sql, db->ops->dialect, &by_savepoint);
    int line = at ? s->line + at - 1 : s->line;
    const char *file = m->path ? m->path : m->id;
    err_set(err, STRATA_MIGRATION_FAILED,
            "%s:%d: the no-transaction section ended inside the transaction begun here (no COMMIT after "
            "it): strata rolled it back",
            file, line);
    err_where(err, file, line);
    err_hint(err,
             "end the section's transaction with COMMIT%s (what ran before it stays applied: the "
             "migration is recorded failed)",
             by_savepoint ? " (or RELEASE of that savepoint)" : "");
    return STRATA_MIGRATION_FAILED;
}

/*
 * Applies (or reverts) m. in_tx: the caller holds an open transaction
 * (single-transaction mode). Returns STRATA_OK, STEP_SKIPPED when another
 * process did it first (sqlite), or an error code.
 */
static int run_step(strata *db, const migration *m, int down, int in_tx, int replace, guard *g,
                    strata_result *res, strata_error *err)
{
    int dialect = db->ops->dialect;
    const section *s = mig_section(m, down ? SEC_DOWN : SEC_UP, dialect);
    const section *v = down ? NULL : mig_section(m, SEC_VERIFY, dialect);
    strata_code rc;
    double t0;
    long ms;

    if (s && s->notx) {
        /* mark first, so that a kill or failure leaves a visible record */
        if ((rc = db->ops->begin(db->d, db->lock_timeout, err)))
            return rc;
        if (!db->ops->session_lock) {
            /* SQLite (a lock per transaction): a 'failed' row that was not
               there when this run was planned is another process's, written
               before it runs the section outside any transaction -- running
               it too would apply it twice. Wait (the write lock let go
               between looks) until it is applied or fails, or --lock-timeout
               passes */
            char st[16], what[300];
            double deadline = clock_ms() + db->lock_timeout * 1000.0, delay = 50;
            int waited = 0;
            snprintf(what, sizeof(what), "another process applying %s (no-transaction)", m->id);
            long gone = 0;
            rc = rec_state_now(db, m->version, st, &gone, err);
            while (!rc && !down && !replace && !strncmp(st, "running", 7)) {
                rollback(db);
                int ns = !strcmp(st, "running-ns");
                if (ns)
                    snprintf(what, sizeof(what),
                             "another process (of another PID namespace: a container sharing the file?) "
                             "applying %s (no-transaction)",
                             m->id);
                if ((rc = wait_turn(
                         db, &waited, &delay, deadline, what,
                         ns ? FOREIGN_MARK_HINT
                            : "raise --lock-timeout to wait longer; if no other strata process runs, it "
                              "was killed while applying it: 'strata status' shows it failed",
                         err)) ||
                    (rc = db->ops->begin(db->d, db->lock_timeout, err)))
                    return rc;
                rc = rec_state_now(db, m->version, st, &gone, err);
            }
            if (!rc && !down && !replace && !strcmp(st, "killed")) {
                /* the process that marked it is gone (killed while it ran
                   the section, or before): failed, as the next up says */
                rollback(db);
                err_set(err, STRATA_FAILED_MIGRATION,
                        "migration %s was left unfinished: process %ld, which was applying it, is gone",
                        m->id, gone);
                err_hint(err,
                         "it was killed part way: check what its no-transaction section did, then 'strata "
                         "up --retry-failed' (make it safe to repeat), 'strata stamp' it if it is done, "
                         "or 'strata down'");
                return STRATA_FAILED_MIGRATION;
            }
            if (!rc && (down ? strcmp(st, "") == 0 : strcmp(st, "applied") == 0)) {
                rollback(db);
                return STEP_SKIPPED;
            }
            if (!rc && !down && !replace && !strcmp(st, "failed")) {
                rollback(db);
                err_set(err, STRATA_FAILED_MIGRATION,
                        "migration %s failed in another strata process just now", m->id);
                err_hint(err, "'strata status' shows its error; fix it, then 'strata up --retry-failed'");
                return STRATA_FAILED_MIGRATION;
            }
        }
        if (!rc && !db->ops->session_lock && (rc = step_guard(db, m, down, g, err))) {
            rollback(db);
            return rc;
        }
        /* the mark says which process runs the section: on SQLite (a local
           file) another up can tell a running section from a killed one */
        char mark[160];
        snprintf(mark, sizeof(mark), "%sinterrupted before completion", down ? "down " : "");
        if (!db->ops->session_lock)
            mark_self(mark + strlen(mark), sizeof(mark) - strlen(mark));
        if (rc || (rc = write_rec(db, m, "failed", 0, mark, 1, err)) || (rc = commit(db, err))) {
            rollback(db);
            return rc;
        }
        emit(db, STRATA_EV_MIGRATE_START, down, m->id, 0);
        if (intr_requested() && !down && !replace) {
            /* asked to stop before the section's first statement: nothing
               ran, so it is pending again rather than failed */
            strata_error e2;
            if (db->ops->begin(db->d, db->lock_timeout, &e2) == STRATA_OK) {
                if (delete_rec(db, m->version, &e2) || commit(db, &e2))
                    rollback(db);
            }
            char at[300];
            snprintf(at, sizeof(at), "before applying %s", m->id);
            return intr_error(err, at);
        }
        t0 = clock_ms();
        rc = db->ops->exec_script(db->d, s->sql, m->path, s->line, err);
        if (!rc && db->ops->in_tx && db->ops->in_tx(db->d))
            rc = open_tx_error(db, m, s, err);
        if (!rc && v) {
            strata_error e2;
            if (!(rc = db->ops->begin(db->d, db->lock_timeout, err))) {
                rc = db->ops->verify(db->d, v->sql, m->path, v->line, err);
                q(db, "ROLLBACK", 0, NULL, &e2);
            }
        }
        if (!rc && !down)
            rc = check_invalid_indexes(db, m, s, err);
        /* the section's session settings end with it (its own SET
           default_transaction_read_only = on must not refuse the record
           written next); the run does the same between migrations */
        if (!rc && db->ops->session_reset)
            db->ops->session_reset(db->d);
        ms = (long)(clock_ms() - t0);
        strata_error e3;
        strata_code wrc;
        if (rc) {
            /* keep the failure on record for status and the next up: the
               server's own message, over a new connection if it was lost
               (a pooler restarting takes a moment: tried for
               --connect-timeout, at most 10 s; not after a signal) */
            if (db->ops->recover && !intr_requested()) {
                double until = clock_ms() + db->reconnect_ms, delay = 100;
                while (db->ops->recover(db->d) < 0 && clock_ms() < until && !intr_requested())
                    backoff_sleep(&delay, 1.5, 1000, 1, clock_ms(), until);
            }
            /* a transaction of the section's own (BEGIN ... COMMIT, as
               imported files hold) stopped by the error: rolled back, as
               psql or sqlite3 would when they stop; the record and the
               lock's release then run on a clean session -- its settings
               too (a SET default_transaction_read_only = on of its own would
               refuse the record of its failure) */
            rollback(db);
            if (db->ops->session_reset)
                db->ops->session_reset(db->d);
            /* a lost connection's hint speaks of a transaction rolled back:
               this section had none, and what it did stays */
            if (!strncmp(err->hint, HINT_CONNECTION_LOST, strlen(HINT_CONNECTION_LOST)) ||
                !strncmp(err->hint, HINT_STOP_CUT, strlen(HINT_STOP_CUT)))
                err->hint[0] = 0;
            if (db->ops->begin(db->d, db->lock_timeout, &e3) == STRATA_OK) {
                /* a failed down says so in the record (status, the next up) */
                char why[sizeof(err->message) + 8];
                snprintf(why, sizeof(why), "%s%s", down ? "down: " : "", err->message);
                wrc = write_rec(db, m, "failed", ms, why, 1, &e3);
                if (wrc || q(db, "COMMIT", 0, NULL, &e3))
                    rollback(db);
            }
            if (!err->hint[0] && down)
                err_hint(
                    err,
                    "the no-transaction down section may have partly run: %s is half reverted; fix the "
                    "database (or make the section safe to repeat: DROP ... IF EXISTS), then run the same "
                    "'strata down' again (or 'strata stamp' the migration before it, if it is done)",
                    m->id);
            else if (!err->hint[0]) {
                /* a failed CREATE INDEX CONCURRENTLY leaves its index
                   INVALID, in the way of the retry: named with the way out */
                char *bad = NULL;
                const char *hit;
                strata_error e4;
                invalid_index_of(db, s, &bad, &hit, &e4);
                if (hit)
                    err_hint(err, "it left index %s INVALID: once the cause is fixed, " INVALID_INDEX_WAY,
                             hit, hit);
                else
                    err_hint(err,
                             "the no-transaction section may have partly run; fix the database, then "
                             "'strata up --retry-failed' (or 'strata stamp %s' if it is done)",
                             m->version);
                free(bad);
            }
            return rc;
        }
        if ((rc = db->ops->begin(db->d, db->lock_timeout, err)))
            return rc;
        if (!db->ops->session_lock && (rc = step_guard(db, m, down, g, err))) {
            /* the section ran to its end while another process undid what
               it stands on (a down, a restore): recorded failed, saying so,
               never applied above a pending migration */
            char why[sizeof(err->message) + 64];
            snprintf(why, sizeof(why), "%s%s (its section ran to its end)", down ? "down: " : "",
                     err->message);
            strata_error e2;
            if (write_rec(db, m, "failed", ms, why, 1, &e2) || commit(db, &e2))
                rollback(db);
            err_hint(err, "its section ran to its end, so it is recorded failed: see what the other process "
                          "did, then 'strata up --retry-failed' (make the section safe to repeat) or 'strata "
                          "stamp'");
            return rc;
        }
        rc = down ? delete_rec(db, m->version, err) : write_rec(db, m, "applied", ms, NULL, 1, err);
        if (!rc && (rc = commit(db, err)) == STRATA_LOCK_LOST) {
            /* the section ran to completion while a statement outlived the
               lease: its record says so all the same (a process that took
               the lock over found it 'failed' and stopped), and nothing
               after it runs */
            strata_error e2;
            if (q(db, "COMMIT", 0, NULL, &e2) == STRATA_OK)
                err_hint(
                    err,
                    "%s ran to completion and is recorded %s, but the migration lock's lease ran out "
                    "while it ran (see STRATA_LEASE_SECONDS); nothing after it ran: run 'strata up' again",
                    m->id, down ? "reverted" : "applied");
            return rc;
        }
        if (rc) {
            rollback(db);
            return rc;
        }
        emit(db, STRATA_EV_MIGRATE_DONE, down, m->id, ms);
        return result_add(res, m, down, ms);
    }

    if (!in_tx) {
        if ((rc = db->ops->begin(db->d, db->lock_timeout, err)))
            return rc;
        if (!db->ops->session_lock) {
            /* another process may have done it while we waited for the lock */
            char st[16];
            if ((rc = rec_state_now(db, m->version, st, NULL, err))) {
                rollback(db);
                return rc;
            }
            if (down ? strcmp(st, "") == 0 : strcmp(st, "applied") == 0) {
                rollback(db);
                return STEP_SKIPPED;
            }
            if ((rc = step_guard(db, m, down, g, err))) {
                rollback(db);
                return rc;
            }
            if (!down && st[0])
                replace = 1;
        }
    }
    emit(db, STRATA_EV_MIGRATE_START, down, m->id, 0);
    t0 = clock_ms();
    rc = s ? db->ops->exec_script(db->d, s->sql, m->path, s->line, err) : STRATA_OK;
    if (!rc && v) {
        strata_error e2;
        if (!(rc = q(db, "SAVEPOINT strata_verify", 0, NULL, err))) {
            rc = db->ops->verify(db->d, v->sql, m->path, v->line, err);
            if (!rc)
                rc = q(db, "ROLLBACK TO SAVEPOINT strata_verify", 0, NULL, err);
            else
                q(db, "ROLLBACK TO SAVEPOINT strata_verify", 0, NULL, &e2);
            if (!rc)
                rc = q(db, "RELEASE SAVEPOINT strata_verify", 0, NULL, err);
        }
    }
    ms = (long)(clock_ms() - t0);
    if (!rc && !in_tx && intr_requested()) {
        /* asked to stop while the section ran to its end (no cancel request
           reached it: strata_interrupt_init was not called, or it came
           between statements): not committed, as a cancelled one is not */
        char at[300];
        snprintf(at, sizeof(at), "before committing %s", m->id);
        rc = intr_error(err, at);
    }
    if (!rc) {
        rc = down ? delete_rec(db, m->version, err) : write_rec(db, m, "applied", ms, NULL, replace, err);
        if (rc && rc != STRATA_NOMEM) {
            /* the row is written in the migration's own transaction, as the
               role (and with the settings) the migration left in effect */
            err_prefix(err, "%.300s: cannot %s %.200s in %.200s: ", m->path, down ? "remove" : "record",
                       m->id, db->table);
            err_where(err, m->path, 0);
            if (!strcmp(err->sqlstate, "42501") && !err->hint[0])
                err_hint(err,
                         "the migration's transaction writes the version table as the role in effect at its "
                         "end: a SET ROLE or SET LOCAL ROLE in it needs a RESET ROLE at the end, or that "
                         "role needs write access to %s; nothing of the migration was kept",
                         db->table);
        }
    }
    if (!rc && !in_tx && (rc = commit(db, err)) &&
        (rc == STRATA_DB_ERROR || rc == STRATA_LOCK_TIMEOUT || rc == STRATA_MIGRATION_FAILED)) {
        /* the COMMIT itself failed (a full disk, a deferred constraint, a
           SQLite reader that the commit must wait out): the migration
           failed, and the message says which */
        err_prefix(err, "%.300s: cannot commit %.200s: ", m->path, m->id);
        err_where(err, m->path, 0);
        if (rc == STRATA_DB_ERROR) {
            err_set_code(err, STRATA_MIGRATION_FAILED);
            rc = STRATA_MIGRATION_FAILED;
        }
    }
    if (rc) {
        if (!in_tx)
            rollback(db);
        return rc;
    }
    if (!in_tx) /* in one transaction for all: reported once it commits */
        emit(db, STRATA_EV_MIGRATE_DONE, down, m->id, ms);
    return result_add(res, m, down, ms);
}

/* ------------------------------------------------------------- planning */

typedef struct plan {
    const migration **v;
    size_t n, cap;
    int replace_failed; /* up: records of failed migrations get replaced */
} plan;

static int plan_add(plan *p, const migration *m)
{
    if (ARR_GROW(p->v, p->cap, p->n + 1))
        return -1;
    p->v[p->n++] = m;
    return 0;
}

/* "+N" / "-N": a sign, then decimal digits only (strtol would also take
   blanks and a second sign: "- 2", "-+1"); a count past LONG_MAX is
   LONG_MAX, more than any directory holds. */
static int is_plus_n(const char *t, long *n)
{
    if (!t || (t[0] != '+' && t[0] != '-') || !t[1])
        return 0;
    for (const char *d = t + 1; *d; d++)
        if (*d < '0' || *d > '9')
            return 0;
    errno = 0;
    long v = strtol(t + 1, NULL, 10);
    if (errno == ERANGE)
        v = LONG_MAX;
    if (v <= 0)
        return 0;
    *n = v;
    return 1;
}

/* Checks the records against the files: modified, missing, failed. */
static strata_code check_recs(strata *db, const strata_migset *set, const recs *r, int flags,
                              strata_error *err)
{
    size_t at = 0;
    for (size_t i = 0; i < r->n; i++) {
        const rec *x = &r->v[i];
        const migration *m = find_mig_next(set, x->version, &at);
        if (!m && !strcmp(x->state, "failed")) {
            /* a failed run stays a failure without its file: going past a
               partly applied migration is what FAILED_MIGRATION stops */
            err_set(err, STRATA_FAILED_MIGRATION,
                    "migration %s_%s failed earlier and may be partly applied, and its file is missing "
                    "from '%s': %s",
                    x->version, x->name, set->dir, x->error ? x->error : "unknown error");
            err_hint(err, "restore the file, fix the database, then 'strata up --retry-failed'; or, if what "
                          "it did is undone, 'strata stamp' the migration before it");
            return STRATA_FAILED_MIGRATION;
        }
        if (!m) {
            if (flags & STRATA_IGNORE_MISSING)
                continue;
            err_set(err, STRATA_MISSING_MIGRATION,
                    "migration %s_%s is applied but its file is missing from '%s'", x->version, x->name,
                    set->dir);
            err_hint(err, "restore the file, or pass --ignore-missing");
            return STRATA_MISSING_MIGRATION;
        }
        if (!strcmp(x->state, "failed")) {
            if (flags & STRATA_RETRY_FAILED)
                continue;
            int was_down = x->error && !strncmp(x->error, "down", 4);
            err_set(err, STRATA_FAILED_MIGRATION, "migration %s failed earlier and may be partly %s: %s",
                    m->id, was_down ? "reverted" : "applied", x->error ? x->error : "unknown error");
            if (was_down)
                err_hint(err,
                         "its no-transaction down section failed: fix the database, then finish it with "
                         "'strata down' again, or apply it again with 'strata up --retry-failed' if its up "
                         "can run on what is left");
            else if (!db->ops->session_lock && run_mark(x->error) && !mark_pid(x->state, x->error))
                /* SQLite: a mark without its writer's pid (an older strata,
                   a 'strata sql' script): a run may still be applying it */
                err_hint(
                    err,
                    "its mark names no process (an older strata build or a 'strata sql' script wrote it), "
                    "so strata cannot tell whether that run still goes on: if one may, wait for it to "
                    "end; then fix the database by hand and run 'strata up --retry-failed', or 'strata "
                    "stamp %s' if the change is complete",
                    m->version);
            else
                err_hint(
                    err,
                    "fix the database by hand, then run 'strata up --retry-failed', or 'strata stamp %s' "
                    "if the change is complete",
                    m->version);
            err_where(err, m->path, 0);
            return STRATA_FAILED_MIGRATION;
        }
        if (strcmp(x->checksum, m->checksum) != 0 && !(flags & STRATA_IGNORE_CHECKSUMS)) {
            err_set(err, STRATA_CHECKSUM_MISMATCH, "migration %s was modified after it was applied", m->id);
            err_hint(err,
                     "restore the applied version of '%s'; if the edit is deliberate and changes nothing "
                     "that ran, 'strata accept %s' records it (or pass --ignore-checksums)",
                     m->path, m->version);
            err_where(err, m->path, 0);
            return STRATA_CHECKSUM_MISMATCH;
        }
    }
    return STRATA_OK;
}

static strata_code need_section(const strata *db, const migration *m, int kind, strata_error *err)
{
    if (mig_section(m, kind, db->ops->dialect))
        return mig_section_check(m, kind, db->ops->dialect, err);
    if (kind == SEC_DOWN) {
        err_set(err, STRATA_IRREVERSIBLE, "migration %s has no down section%s; it cannot be reverted", m->id,
                mig_section(m, SEC_DOWN, DIALECT_POSTGRES) || mig_section(m, SEC_DOWN, DIALECT_SQLITE)
                    ? " for this engine"
                    : "");
        err_hint(err, "add a '-- strata:down' section (an empty one is a valid no-op)");
        err_where(err, m->path, 0);
        return STRATA_IRREVERSIBLE;
    }
    err_set(err, STRATA_PARSE_ERROR, "migration %s has no up section for %s", m->id, db->ops->engine);
    err_hint(err, "add a '-- strata:up' section without dialect, or one with dialect=%s", db->ops->engine);
    err_where(err, m->path, 1);
    return STRATA_PARSE_ERROR;
}

strata_code target_not_found(const strata_migset *set, const char *t, int kind, strata_error *err)
{
    int down = kind == TARGET_DOWN, up = kind == TARGET_UP;
    err_set(err, STRATA_TARGET_NOT_FOUND, "no migration '%s' in '%s'", t, set->dir);
    size_t digits = strncmp(t, "head-", 5) ? 0 : strspn(t + 5, "0123456789");
    if (up && !strcmp(t, "heads"))
        err_hint(err, "strata's history has one head: 'strata up head' (or no target)");
    else if (digits && !t[5 + digits])
        err_hint(err, "Alembic's %s is 'strata down -%s'", t, t + 5);
    else if (up && t[0] == '-')
        err_hint(err, "'strata down %s' reverts; up takes head, a version or +N", t);
    else if (down && t[0] == '+')
        err_hint(err, "'strata up %s' applies; down takes -N, a version or base", t);
    else if (set->count)
        err_hint(err, "name a migration by its version (%s) or id (%s)%s", set->migs[set->count - 1].version,
                 set->migs[set->count - 1].id,
                 kind == TARGET_DOWN     ? ", or base"
                 : kind == TARGET_UP     ? ", or head"
                 : kind == TARGET_ACCEPT ? ""
                                         : ", or head or base");
    else
        err_hint(err, "'%s' holds no migrations", set->dir);
    return STRATA_TARGET_NOT_FOUND;
}

static strata_code plan_up(strata *db, const strata_migset *set, const recs *r, const strata_run_opts *o,
                           plan *p, strata_error *err)
{
    strata_code rc;
    const char *newest = NULL;
    for (size_t i = 0; i < r->n; i++)
        if (rec_applied(&r->v[i]))
            newest = r->v[i].version;
    long limit = -1;
    const char *upto = NULL;
    const char *t = o->target;
    if (t && strcmp(t, "head") != 0) {
        if (t[0] == '+') {
            if (!is_plus_n(t, &limit))
                return err_set(err, STRATA_USAGE, "bad target '%s' (expected head, a version, or +N)", t);
        } else {
            const migration *m = migset_find(set, t);
            if (!m)
                return target_not_found(set, t, TARGET_UP, err);
            upto = m->version;
        }
    }
    if ((rc = check_recs(db, set, r, o->flags, err)))
        return rc;
    size_t at = 0;
    for (size_t i = 0; i < set->count; i++) {
        const migration *m = &set->migs[i];
        const rec *x = find_rec_next(r, m->version, &at);
        if (rec_applied(x))
            continue;
        if (x)
            p->replace_failed = 1;
        if (newest && version_cmp(m->version, newest) < 0 && !(o->flags & STRATA_ALLOW_OUT_OF_ORDER)) {
            err_set(err, STRATA_OUT_OF_ORDER, "pending migration %s is older than the newest applied %s",
                    m->id, newest);
            err_hint(err, "give it a newer version, or pass --allow-out-of-order");
            err_where(err, m->path, 0);
            return STRATA_OUT_OF_ORDER;
        }
        if (upto && version_cmp(m->version, upto) > 0)
            continue;
        if (limit >= 0 && (long)p->n >= limit)
            continue;
        /* its checksum may have come from the cache: read it now */
        if ((rc = mig_materialize(m, err)) || (rc = need_section(db, m, SEC_UP, err)))
            return rc;
        if ((o->flags & STRATA_SINGLE_TRANSACTION) && mig_section(m, SEC_UP, db->ops->dialect)->notx) {
            err_set(err, STRATA_SINGLE_TRANSACTION_REFUSED,
                    "migration %s has a no-transaction up section; it cannot run in a single transaction",
                    m->id);
            err_hint(err, "run without --single-transaction");
            err_where(err, m->path, 0);
            return STRATA_SINGLE_TRANSACTION_REFUSED;
        }
        if (plan_add(p, m))
            return err_set(err, STRATA_NOMEM, "out of memory");
    }
    if (limit > 0 && (long)p->n < limit) {
        /* +N is a count: fewer is a mistake, not "as many as there are" */
        err_set(err, STRATA_TARGET_NOT_FOUND, "up %s asks for %s migration%s; %zu %s pending", t, t + 1,
                limit == 1 ? "" : "s", p->n, p->n == 1 ? "is" : "are");
        err_hint(err, "nothing was applied; 'strata up' applies every pending migration");
        return STRATA_TARGET_NOT_FOUND;
    }
    return STRATA_OK;
}

static strata_code plan_down(strata *db, const strata_migset *set, const recs *r, const strata_run_opts *o,
                             plan *p, strata_error *err)
{
    long steps = 1;
    const char *keep = NULL; /* versions above keep are reverted */
    const char *t = o->target;
    int all = 0;
    if (t && !strcmp(t, "base"))
        all = 1;
    else if (t && t[0] == '-') {
        if (!is_plus_n(t, &steps))
            return err_set(err, STRATA_USAGE, "bad target '%s' (expected -N, a version or base)", t);
    } else if (t) {
        const migration *m = migset_find(set, t);
        const rec *x = m ? NULL : find_rec(r, t);
        if (!m && !x)
            return target_not_found(set, t, TARGET_DOWN, err);
        keep = m ? m->version : x->version;
    }
    for (size_t i = r->n; i-- > 0;) {
        const rec *x = &r->v[i];
        if (keep && version_cmp(x->version, keep) <= 0)
            break;
        if (!keep && !all && (long)p->n >= steps)
            break;
        const migration *m = find_mig(set, x->version);
        if (!m) {
            err_set(err, STRATA_MISSING_MIGRATION, "cannot revert %s_%s: its file is missing from '%s'",
                    x->version, x->name, set->dir);
            err_hint(err, "restore the file to revert it");
            return STRATA_MISSING_MIGRATION;
        }
        /* a failed no-transaction down is finished by running down again
           after making its statements safe to repeat: that edit is the
           fix, not a change to what was applied (as up --retry-failed
           takes an edited failed up) */
        int down_failed = !strcmp(x->state, "failed") && x->error && !strncmp(x->error, "down", 4);
        if (strcmp(x->checksum, m->checksum) != 0 && !(o->flags & STRATA_IGNORE_CHECKSUMS) && !down_failed) {
            err_set(err, STRATA_CHECKSUM_MISMATCH, "migration %s was modified after it was applied", m->id);
            err_hint(err,
                     "restore the applied version of '%s'; if the edit is deliberate and changes nothing "
                     "that ran, 'strata accept %s' records it (or pass --ignore-checksums)",
                     m->path, m->version);
            err_where(err, m->path, 0);
            return STRATA_CHECKSUM_MISMATCH;
        }
        strata_code rc = need_section(db, m, SEC_DOWN, err);
        if (rc)
            return rc;
        if ((o->flags & STRATA_SINGLE_TRANSACTION) && mig_section(m, SEC_DOWN, db->ops->dialect)->notx) {
            err_set(err, STRATA_SINGLE_TRANSACTION_REFUSED,
                    "migration %s has a no-transaction down section; it cannot run in a single transaction",
                    m->id);
            err_where(err, m->path, 0);
            return STRATA_SINGLE_TRANSACTION_REFUSED;
        }
        if (plan_add(p, m))
            return err_set(err, STRATA_NOMEM, "out of memory");
    }
    if (t && t[0] == '-' && (long)p->n < steps) {
        /* -N is a count: a typo (-10 for -1) must not revert everything */
        err_set(err, STRATA_TARGET_NOT_FOUND, "down %s asks for %s step%s; %zu migration%s applied", t, t + 1,
                steps == 1 ? "" : "s", p->n, p->n == 1 ? " is" : "s are");
        err_hint(err, "nothing was reverted; 'strata down base' reverts every applied migration");
        return STRATA_TARGET_NOT_FOUND;
    }
    return STRATA_OK;
}

/* ---------------------------------------------------------------- running */

/*
 * The first migration of a database strata never migrated failed: when
 * another tool's version table is there, the database was migrated by that
 * tool, and the hint says how to switch (import, then adopt) -- unless the
 * error has a hint of its own.
 */
static void other_tool_hint(strata *db, strata_error *err)
{
    const char *tool, *table;
    if (!err || err->hint[0] || !adopt_other_tool(db, &tool, &table))
        return;
    if (!strcmp(tool, "rails")) {
        err_hint(err,
                 "this database has Rails' version table %s (and ar_internal_metadata): it was migrated "
                 "by Rails, whose migrations are Ruby that strata cannot import. Make strata's first "
                 "migration the schema as it is now (db/structure.sql, or 'strata schema'), then "
                 "'strata stamp' it (docs/adopting.md)",
                 table);
        return;
    }
    err_hint(err,
             "this database has %s's version table %s: it was migrated by %s. Record what it applied "
             "instead of running it again: strata import --from %s, then strata adopt --from %s%s "
             "(docs/adopting.md)",
             tool, table, tool, tool, tool, !strcmp(tool, "dbmate") ? " (or golang-migrate)" : "");
}

enum { RUN_UP, RUN_DOWN, RUN_REDO }; /* what run() does */

/*
 * The first up (mode RUN_UP, planned migrations to run) on a database
 * another tool migrated (strata's version table not there, r: once it is,
 * after adopt, or after a down to base, strata keeps the record), with
 * files imported from that tool: when adopt would record some of them as
 * applied, running them would apply them a second time -- seed rows twice,
 * or a failure half way through the history after the idempotent part ran.
 * Refused before anything runs. A table of the other tool that the files
 * do not match (another application's history in the same database) is
 * not in the way.
 */
static strata_code check_adopted(strata *db, const strata_migset *set, int mode, const recs *r,
                                 size_t planned, strata_error *err)
{
    const char *tool, *table;
    strata_adopt_report *rep = NULL;
    strata_error why;
    int stuck = 0;
    if (mode != RUN_UP || r->table != TABLE_ABSENT || !planned || !adopt_other_tool(db, &tool, &table) ||
        !strcmp(tool, "rails"))
        return STRATA_OK;
    if (adopt_dry_run(db, set, tool, &rep, &stuck, &why)) {
        if (!stuck)
            return STRATA_OK; /* not this history (or unreadable): not in the way */
        /* this history, left dirty or failed by the other tool: what it
           applied would run again all the same */
        err_set(err, STRATA_NOT_ADOPTED,
                "this database was migrated by %s, from which these migrations were "
                "imported, and strata records none of them: %s",
                tool, why.message);
        if (why.hint[0])
            err_hint(err,
                     "nothing was run (it would apply again what %s applied): %s (strata adopt --from %s)",
                     tool, why.hint, tool);
        else
            err_hint(err,
                     "nothing was run (it would apply again what %s applied): repair its failed "
                     "migration, then 'strata adopt --from %s'",
                     tool, tool);
        return STRATA_NOT_ADOPTED;
    }
    if (!rep->count) {
        strata_adopt_report_free(rep);
        return STRATA_OK;
    }
    const strata_adopt_entry *e = &rep->entries[rep->count - 1];
    err_set(err, STRATA_NOT_ADOPTED,
            "this database was migrated by %s (%s applies up to %s): %zu of these migrations are applied "
            "there, up to %s_%s, and %s records none",
            tool, rep->table, e->original, rep->count, e->version, e->name, db->table);
    int own = strcmp(db->table, STRATA_DEFAULT_TABLE) != 0; /* --table: adopt needs it too */
    err_hint(err,
             "nothing was run: running them again would apply them twice. Record them as applied with "
             "'strata adopt --from %s' (same --url and --dir%s%s), then 'strata up' runs only what is new "
             "(docs/adopting.md)",
             tool, own ? ", and --table " : "", own ? db->table : "");
    strata_adopt_report_free(rep);
    return STRATA_NOT_ADOPTED;
}

/*
 * redo: the newest applied migration, down then up. Both halves are checked
 * before anything runs -- the up's checks (modified, missing, failed, out of
 * order) on the records as they will be after the down -- so a refused redo
 * reverts nothing. p gets the one migration.
 */
static strata_code plan_redo(strata *db, const strata_migset *set, const recs *r, const strata_run_opts *o,
                             plan *p, strata_error *err)
{
    /* the newest record a failed no-transaction run: its up would run
       again after the down, which only --retry-failed may ask for */
    if (r->n && !strcmp(r->v[r->n - 1].state, "failed")) {
        const rec *x = &r->v[r->n - 1];
        err_set(err, STRATA_FAILED_MIGRATION, "migration %s_%s failed earlier: %s", x->version, x->name,
                x->error ? x->error : "");
        err_hint(err,
                 "nothing was reverted; resolve it first: 'strata up --retry-failed', 'strata stamp %s' if "
                 "it is done, or 'strata down' to run its down section",
                 x->version);
        return STRATA_FAILED_MIGRATION;
    }
    strata_run_opts d = {NULL, o->flags};
    strata_code rc = plan_down(db, set, r, &d, p, err);
    if (rc || !p->n)
        return rc;
    recs after = *r; /* plan_down took the newest record, the last one */
    after.n--;
    strata_run_opts u = {p->v[0]->version, o->flags};
    plan pu = {0};
    rc = plan_up(db, set, &after, &u, &pu, err);
    free(pu.v);
    return rc;
}

/*
 * SQLite: a no-transaction section another process is running now (its
 * mark, its process alive) is waited for, as PostgreSQL's lock waits -- not
 * reported as a failure, and never run again. r holds the records and is
 * read again after each wait; take_foreign: a mark of another PID namespace,
 * which cannot be checked from here, is a killed run's (--retry-failed).
 * *in_tx: a transaction of the caller's, let go while waiting (the
 * section's owner needs the write lock to finish) and begun again after
 * when early is set.
 */
static strata_code wait_sections(strata *db, recs *r, int take_foreign, int early, int *in_tx,
                                 strata_error *err)
{
    strata_code rc = STRATA_OK;
    double deadline = clock_ms() + db->lock_timeout * 1000.0, delay = 50;
    for (int waited = 0; !db->ops->session_lock;) {
        long pid = 0;
        int foreign = 0;
        const rec *busy = NULL;
        for (size_t i = 0; i < r->n && !pid; i++)
            if ((pid = running_pid(&r->v[i], &foreign)) && foreign && take_foreign)
                pid = 0;
            else if (pid)
                busy = &r->v[i];
        if (!pid)
            break;
        char what[300];
        snprintf(what, sizeof(what), "process %ld%s, which is applying %s_%s (no-transaction)", pid,
                 foreign ? " of another PID namespace (a container sharing the file?)" : "", busy->version,
                 busy->name);
        if (*in_tx) {
            rollback(db);
            *in_tx = 0;
        }
        if ((rc = wait_turn(db, &waited, &delay, deadline, what,
                            foreign ? FOREIGN_MARK_HINT : "raise --lock-timeout to wait longer", err)))
            return rc;
        if (early) {
            if ((rc = db->ops->begin(db->d, db->lock_timeout, err)))
                return rc;
            *in_tx = 1;
        }
        recs_release(r);
        if ((rc = read_recs(db, r, 0, err)))
            return rc;
    }
    return rc;
}

strata_code engine_writable(strata *db, strata_error *err)
{
    return db->ops->writable ? db->ops->writable(db->d, err) : STRATA_OK;
}

strata_code engine_wait_sections(strata *db, strata_error *err)
{
    if (db->ops->session_lock)
        return STRATA_OK;
    recs r;
    int in_tx = 0;
    strata_code rc = read_recs_now(db, &r, 0, err);
    if (!rc)
        rc = wait_sections(db, &r, 0, 0, &in_tx, err);
    recs_release(&r);
    return rc;
}

typedef strata_code (*planner)(strata *, const strata_migset *, const recs *, const strata_run_opts *, plan *,
                               strata_error *);

static strata_code run(strata *db, const strata_migset *set, const strata_run_opts *o, int mode,
                       strata_result **out, strata_error *err)
{
    int down = mode == RUN_DOWN;
    static const strata_run_opts none = {NULL, 0};
    strata_result *res = calloc(1, sizeof(result_list));
    recs r = {0};
    plan p = {0};
    int locked = 0, in_tx = 0, have_recs = 0, skipped = 0;
    guard g = {0};                /* SQLite: that the plan still holds at each step */
    const migration **ran = NULL; /* single transaction: the steps to report after COMMIT */
    size_t nran = 0, capran = 0;
    strata_code rc;
    if (!o)
        o = &none;
    if (out)
        *out = NULL;
    if (!res)
        return err_set(err, STRATA_NOMEM, "out of memory");
    if ((rc = strata_migset_check(set, err)))
        goto out;
    planner plan_fn = mode == RUN_REDO ? plan_redo : down ? plan_down : plan_up;

    if (o->flags & STRATA_DRY_RUN) {
        if ((rc = read_recs(db, &r, 0, err)))
            goto out;
        have_recs = 1;
        if ((rc = plan_fn(db, set, &r, o, &p, err)) || (rc = check_adopted(db, set, mode, &r, p.n, err)))
            goto out;
        buf b;
        buf_init(&b);
        for (size_t i = 0; i < p.n * (mode == RUN_REDO ? 2 : 1); i++) {
            int dir = mode == RUN_REDO ? i == 0 : down;
            buf_reset(&b);
            sqlgen_step(&b, p.v[i % p.n], db->ops->dialect, db->qtable, dir);
            emit(db, STRATA_EV_SQL, dir, b.data ? b.data : "", 0);
            result_add(res, p.v[i % p.n], dir, 0);
        }
        buf_release(&b);
        /* what the real run would meet before its first step (the plan is
           shown all the same): a session that may not write, a version
           table it may not create */
        int create = r.table == TABLE_ABSENT;
        if (p.n && db->ops->may_write && (rc = db->ops->may_write(db->d, db->qtable, create, err)) &&
            create && err && !strcmp(err->sqlstate, "42501"))
            create_failed(db, err);
        goto out;
    }
    if (db->readonly) {
        rc = err_set(err, STRATA_USAGE, "the database was opened read-only");
        goto out;
    }
    if ((rc = engine_lock(db, err)))
        goto out;
    locked = 1;
    g.planned = &r;
    g.done = res;
    uint64_t mark[3];
    /* taken before the records are read: a commit in between is seen */
    g.on = !db->ops->session_lock && db->ops->changes && db->ops->changes(db->d, mark) == 0;
    g.seen = g.on ? mark[0] : 0;
    /* SQLite, one transaction for the whole run: planned inside it (the
       write lock held from the read on), or concurrent runs would each plan
       from the same state and all but one fail on what the first applied */
    int early = (o->flags & STRATA_SINGLE_TRANSACTION) && !db->ops->session_lock;
    if (early) {
        if ((rc = db->ops->begin(db->d, db->lock_timeout, err)))
            goto out;
        in_tx = 1;
    }
    if ((rc = read_recs(db, &r, 0, err)))
        goto out;
    if ((rc = wait_sections(db, &r, !down && (o->flags & STRATA_RETRY_FAILED), early, &in_tx, err)))
        goto out;
    have_recs = 1;
    /* the version table only once the plan holds: a refused run creates nothing */
    if ((rc = plan_fn(db, set, &r, o, &p, err)) || (rc = check_adopted(db, set, mode, &r, p.n, err)) ||
        (p.n && (rc = engine_writable(db, err))) || (rc = ensure_table(db, &r, err)))
        goto out;
    if ((o->flags & STRATA_SINGLE_TRANSACTION) && p.n && !in_tx) {
        if ((rc = db->ops->begin(db->d, db->lock_timeout, err)))
            goto out;
        in_tx = 1;
    }
    for (size_t i = 0; i < p.n * (mode == RUN_REDO ? 2 : 1); i++) {
        const migration *m = p.v[i % p.n];
        int dir = mode == RUN_REDO ? i == 0 : down; /* redo: down, then up */
        const rec *x = mode == RUN_REDO ? NULL : find_rec(&r, m->version);
        if (intr_requested()) {
            char at[300];
            snprintf(at, sizeof(at), "before %s %s", dir ? "reverting" : "applying", m->id);
            rc = intr_error(err, at);
            goto out;
        }
        int step = run_step(db, m, dir, in_tx, x != NULL, &g, res, err);
        if (step == STEP_SKIPPED) {
            skipped = 1; /* another process ran it: what was read is old */
            if (!dir && !ARR_GROW(g.skipped, g.capskipped, g.nskipped + 1))
                g.skipped[g.nskipped++] = m->version;
            continue;
        }
        /* the next migration starts with the session as it opened (a
           no-transaction section's was reset already, before its record) */
        const section *sec = mig_section(m, dir ? SEC_DOWN : SEC_UP, db->ops->dialect);
        if (!step && db->ops->session_reset && !(sec && sec->notx))
            db->ops->session_reset(db->d);
        if (step) {
            rc = (strata_code)step;
            if (!down && rc == STRATA_MIGRATION_FAILED && r.n == 0 && res->count == 0)
                other_tool_hint(db, err);
            if (mode == RUN_REDO && i >= p.n && !in_tx && err && !err->hint[0])
                err_hint(err,
                         "redo's down half committed: %s is reverted (pending); fix it, then 'strata up'",
                         m->id);
            goto out;
        }
        if (in_tx) {
            if (ARR_GROW(ran, capran, nran + 1)) {
                rc = err_set(err, STRATA_NOMEM, "out of memory");
                goto out;
            }
            ran[nran++] = m;
        }
    }
    if (in_tx) {
        if (intr_requested()) {
            rc = intr_error(err, "before the run's commit");
            goto out;
        }
        if ((rc = commit(db, err)))
            goto out; /* rolled back below, and no step reported */
        in_tx = 0;
        for (size_t i = 0; i < nran && i < res->count; i++)
            emit(db, STRATA_EV_MIGRATE_DONE, res->steps[i].down, ran[i]->id, res->steps[i].duration_ms);
    }
out:
    if (in_tx) {
        rollback(db);
        if (rc && err && !err->hint[0])
            err_hint(err, "--single-transaction: the whole run was rolled back; the database is as it was");
        /* nothing of the run is committed */
        for (size_t i = 0; i < res->count; i++) {
            free(res->steps[i].version);
            free(res->steps[i].name);
        }
        res->count = 0;
    }
    if (have_recs && res->count == 0 && !skipped) {
        /* nothing ran (no-op up, dry run): what was read is still current */
        res->current = current_of(&r);
    } else {
        recs now = {0};
        strata_error e2;
        res->current = read_recs(db, &now, 0, &e2) == STRATA_OK ? current_of(&now) : xstrdup("base");
        recs_release(&now);
    }
    if (locked)
        db->ops->unlock(db->d, db->table);
    if (!(o->flags & STRATA_DRY_RUN))
        engine_discard_new(db, rc);
    free(ran);
    free(g.skipped);
    recs_release(&r);
    free(p.v);
    if (out)
        *out = res;
    else
        strata_result_free(res);
    /* a run stopped by a signal says so, whatever failed as it stopped (a
       pooler that does not pass the cancel on lets the statement fail its
       own way, a pool's query_wait_timeout): INTERRUPTED, what failed kept
       in the message, and the hint on what ran */
    if (rc && rc != STRATA_INTERRUPTED && intr_requested() && err) {
        err_prefix(err, "interrupted (a signal told strata to stop): ");
        err->code = rc = STRATA_INTERRUPTED;
    }
    return rc;
}

strata_code strata_up(strata *db, const strata_migset *set, const strata_run_opts *o, strata_result **out,
                      strata_error *err)
{
    if (!db || !set)
        return api_null(err, __func__, "db and set");
    return run(db, set, o, RUN_UP, out, err);
}

strata_code strata_down(strata *db, const strata_migset *set, const strata_run_opts *o, strata_result **out,
                        strata_error *err)
{
    if (!db || !set)
        return api_null(err, __func__, "db and set");
    return run(db, set, o, RUN_DOWN, out, err);
}

strata_code strata_redo(strata *db, const strata_migset *set, const strata_run_opts *o, strata_result **out,
                        strata_error *err)
{
    if (!db || !set)
        return api_null(err, __func__, "db and set");
    strata_run_opts r = {NULL, o ? o->flags : 0};
    return run(db, set, &r, RUN_REDO, out, err);
}

strata_code engine_discard_new(strata *db, strata_code rc)
{
    if (rc && db && db->ops->discard_if_new)
        db->ops->discard_if_new(db->d, db->table);
    return rc;
}

/* After a stamp: the failed runs whose records it removed (silently, a
   partly applied migration stopped being recorded anywhere). */
static void stamp_warn_failed(strata *db, const recs *r, const char *upto)
{
    for (size_t i = 0; i < r->n; i++) {
        const rec *x = &r->v[i];
        if (strcmp(x->state, "failed") || (upto && version_cmp(x->version, upto) <= 0))
            continue;
        char msg[1200];
        snprintf(msg, sizeof(msg),
                 "stamp removed the record of %s_%s, which failed earlier (%s): what it did before failing "
                 "stays in the database",
                 x->version, x->name, x->error ? x->error : "unknown error");
        engine_event(db, STRATA_EV_WARNING, msg);
    }
}

static strata_code stamp_run(strata *db, const strata_migset *set, const char *target, strata_error *err)
{
    recs r = {0};
    strata_code rc = strata_migset_check(set, err);
    if (rc)
        return rc;
    const char *upto = NULL;
    if (!target)
        return err_set(err, STRATA_USAGE, "stamp needs a target (a version, head or base)");
    if (!strcmp(target, "head")) {
        upto = set->count ? set->migs[set->count - 1].version : NULL;
    } else if (strcmp(target, "base") != 0) {
        const migration *m = migset_find(set, target);
        if (!m)
            return target_not_found(set, target, TARGET_STAMP, err);
        upto = m->version;
    }
    if ((rc = engine_lock(db, err)))
        return rc;
    /* a no-transaction section another process runs (SQLite): its record is
       that run's, not one to overwrite as "failed earlier" */
    if ((rc = engine_wait_sections(db, err)) || (rc = engine_writable(db, err)) ||
        (rc = ensure_table(db, NULL, err)) || (rc = db->ops->begin(db->d, db->lock_timeout, err)))
        goto out;
    if ((rc = read_recs(db, &r, 0, err)))
        goto fail;
    for (size_t i = 0; i < r.n; i++)
        if ((!upto || version_cmp(r.v[i].version, upto) > 0) && (rc = delete_rec(db, r.v[i].version, err)))
            goto fail;
    for (size_t i = 0; upto && i < set->count; i++) {
        const migration *m = &set->migs[i];
        if (version_cmp(m->version, upto) > 0)
            break;
        const rec *x = find_rec(&r, m->version);
        if (rec_applied(x))
            continue;
        if ((rc = write_rec(db, m, "applied", 0, NULL, x != NULL, err)))
            goto fail;
    }
    rc = commit(db, err);
    if (!rc) {
        stamp_warn_failed(db, &r, upto);
        goto out;
    }
fail:
    rollback(db);
out:
    db->ops->unlock(db->d, db->table);
    recs_release(&r);
    return rc;
}

strata_code strata_stamp(strata *db, const strata_migset *set, const char *target, strata_error *err)
{
    if (!db || !set)
        return api_null(err, __func__, "db and set");
    return engine_discard_new(db, stamp_run(db, set, target, err));
}

/* ---------------------------------------------------------------- accept */

void strata_accept_result_release(strata_accept_result *r)
{
    if (!r)
        return;
    free(r->version);
    free(r->name);
    free(r->old_checksum);
    free(r->new_checksum);
    memset(r, 0, sizeof(*r));
}

static strata_code accept_run(strata *db, const strata_migset *set, const char *target, int force,
                              strata_accept_result *out, strata_error *err)
{
    strata_accept_result res = {0};
    recs r = {0};
    strata_code rc;
    if (out)
        memset(out, 0, sizeof(*out));
    if (!target || !*target)
        return err_set(err, STRATA_USAGE, "accept needs the migration to accept (a version or id)");
    const migration *m = migset_find(set, target);
    if (!m)
        return target_not_found(set, target, TARGET_ACCEPT, err);
    if (m->broken) {
        err_set(err, STRATA_PARSE_ERROR, "migration %s does not parse; fix it before accepting it", m->id);
        err_where(err, m->path, 0);
        return STRATA_PARSE_ERROR;
    }
    if (db->readonly)
        return err_set(err, STRATA_USAGE, "the database was opened read-only");
    if ((rc = engine_lock(db, err)))
        return rc;
    if ((rc = ensure_table(db, NULL, err)) || (rc = db->ops->begin(db->d, db->lock_timeout, err)))
        goto out;
    if ((rc = read_recs(db, &r, 0, err)))
        goto fail;
    const rec *x = find_rec(&r, m->version);
    if (!rec_applied(x)) {
        rc = err_set(err, STRATA_TARGET_NOT_FOUND,
                     "migration %s is not applied%s; there is no checksum to accept", m->id,
                     x ? " (it failed)" : "");
        err_hint(err, x ? "resolve the failed run first (strata up --retry-failed, or strata stamp)"
                        : "only an applied migration's checksum can be accepted");
        goto fail;
    }
    char now_up[65], at[32];
    up_checksum(db, m, now_up);
    res.version = xstrdup(m->version);
    res.name = xstrdup(m->name);
    res.old_checksum = xstrdup(x->checksum);
    res.new_checksum = xstrdup(m->checksum);
    res.up_changed = !x->up_checksum || !*x->up_checksum ? -1 : strcmp(x->up_checksum, now_up) != 0;
    res.changed = strcmp(x->checksum, m->checksum) != 0 || (x->up_checksum && strcmp(x->up_checksum, now_up));
    if (!res.changed) {
        rollback(db);
        goto out;
    }
    if (res.up_changed && !force) {
        if (res.up_changed > 0)
            rc = err_set(err, STRATA_UP_SQL_CHANGED,
                         "the up SQL of %s differs from what was applied; accepting it would hide a change "
                         "that never ran",
                         m->id);
        else
            rc = err_set(err, STRATA_UP_SQL_CHANGED,
                         "%s was applied before strata recorded up checksums; it cannot tell whether its up "
                         "SQL changed",
                         m->id);
        err_hint(err, "put the change in a new migration (strata new), or pass --force if the database "
                      "already matches the new file");
        err_where(err, m->path, 0);
        goto fail;
    }
    utc_now(at);
    buf b, note;
    buf_init(&b);
    buf_init(&note);
    buf_addf(&note, "checksum accepted %s, was %.*s%s", at, 12, x->checksum,
             res.up_changed > 0   ? "; up SQL changed (forced)"
             : res.up_changed < 0 ? "; forced"
                                  : "");
    vt_accept(&b, db->qtable);
    const char *p[4] = {m->checksum, now_up, note.data ? note.data : "", m->version};
    rc = b.oom || note.oom ? err_set(err, STRATA_NOMEM, "out of memory") : q(db, b.data, 4, p, err);
    buf_release(&b);
    buf_release(&note);
    if (!rc)
        rc = commit(db, err);
    if (!rc)
        goto out;
fail:
    rollback(db);
out:
    db->ops->unlock(db->d, db->table);
    recs_release(&r);
    if (out && !rc)
        *out = res;
    else
        strata_accept_result_release(&res);
    return rc;
}

strata_code strata_accept(strata *db, const strata_migset *set, const char *target, int force,
                          strata_accept_result *out, strata_error *err)
{
    if (!db || !set)
        return api_null(err, __func__, "db and set");
    return engine_discard_new(db, accept_run(db, set, target, force, out, err));
}

/* ------------------------------------------------------- status, history */

static strata_code status_add(strata_status *st, const char *version, const char *name, strata_state state,
                              const rec *x)
{
    if (ARR_GROW(st->entries, ((status_list *)st)->cap, st->count + 1))
        return STRATA_NOMEM;
    strata_status_entry *e = st->entries + st->count++;
    memset(e, 0, sizeof(*e));
    e->version = xstrdup(version);
    e->name = xstrdup(name);
    e->state = state;
    if (x) {
        e->applied_at = xstrdup(x->applied_at);
        e->duration_ms = x->duration_ms;
        e->error = xstrdup(x->error);
    }
    return STRATA_OK;
}

void strata_status_free(strata_status *st)
{
    if (!st)
        return;
    for (size_t i = 0; i < st->count; i++) {
        free(st->entries[i].version);
        free(st->entries[i].name);
        free(st->entries[i].applied_at);
        free(st->entries[i].error);
    }
    free(((status_list *)st)->running);
    free(st->invalid_indexes);
    free(st->other_tool);
    free(st->other_tool_table);
    free(st->entries);
    free(st->current);
    free(st);
}

int strata_status_running(const strata_status *st, size_t i)
{
    const signed char *r = st ? ((const status_list *)st)->running : NULL;
    return r && i < st->count ? r[i] : 0;
}

/* Which failed entries carry the mark of a no-transaction section whose
   run still goes on (1), has ended (0) or cannot be told (-1): SQLite, by
   the mark's writer (mark_alive; a mark without a pid, or of another PID
   namespace, cannot be told); PostgreSQL, whose marks name no process, by
   whether some session holds the migration lock (asked once; a standby,
   or a failure to ask, cannot tell). */
static void status_running(strata *db, status_list *sl)
{
    int busy = -2;
    for (size_t i = 0; i < sl->pub.count; i++) {
        const strata_status_entry *e = &sl->pub.entries[i];
        if (e->state != STRATA_STATE_FAILED || !run_mark(e->error))
            continue;
        int on = 0, foreign = 0;
        if (db->ops->lock_busy) {
            strata_error ignore;
            if (busy == -2 && db->ops->lock_busy(db->d, db->table, &busy, &ignore))
                busy = -1;
            on = busy;
        } else if (!mark_pid("failed", e->error)) {
            on = -1;
        } else {
            on = mark_alive("failed", e->error, &foreign) ? (foreign ? -1 : 1) : 0;
        }
        if (on && !sl->running && !(sl->running = calloc(sl->pub.count, 1)))
            return;
        if (on)
            sl->running[i] = (signed char)on;
    }
}

strata_code strata_status_get(strata *db, const strata_migset *set, strata_status **out, strata_error *err)
{
    if (!db || !set || !out)
        return api_null(err, __func__, "db, set and out");
    recs r;
    *out = NULL;
    /* a set with problems (two files of one version, a file that is not
       one) has no true status: which file an applied row belongs to, or
       whether a FIFO is pending, cannot be said */
    strata_code rc = strata_migset_check(set, err);
    if (rc)
        return rc;
    rc = read_recs_anew(db, &r, 1, err);
    if (rc)
        return rc;
    strata_status *st = calloc(1, sizeof(status_list));
    if (!st) {
        recs_release(&r);
        return err_set(err, STRATA_NOMEM, "out of memory");
    }
    size_t i = 0, j = 0;
    while (!rc && (i < set->count || j < r.n)) {
        const migration *m = i < set->count ? &set->migs[i] : NULL;
        const rec *x = j < r.n ? &r.v[j] : NULL;
        int c = !m ? 1 : !x ? -1 : version_cmp(m->version, x->version);
        if (c > 0) { /* a record without a file */
            rc = status_add(st, x->version, x->name, STRATA_STATE_MISSING, x);
            j++;
        } else if (c < 0) {
            rc = status_add(st, m->version, m->name, STRATA_STATE_PENDING, NULL);
            i++;
        } else {
            strata_state s = !strcmp(x->state, "failed")        ? STRATA_STATE_FAILED
                             : strcmp(x->checksum, m->checksum) ? STRATA_STATE_MODIFIED
                                                                : STRATA_STATE_APPLIED;
            rc = status_add(st, m->version, m->name, s, x);
            i++;
            j++;
        }
    }
    st->current = current_of(&r);
    int r_was_empty = r.n == 0;
    recs_release(&r);
    if (rc || !st->current) {
        strata_status_free(st);
        return err_set(err, STRATA_NOMEM, "out of memory");
    }
    strata_error ignore; /* a status without the list is still a status */
    invalid_indexes(db, &st->invalid_indexes, &ignore);
    status_running(db, (status_list *)st);
    const char *tool, *table;
    if (r_was_empty && adopt_other_tool(db, &tool, &table)) {
        st->other_tool = xstrdup(tool);
        st->other_tool_table = xstrdup(table);
    }
    *out = st;
    return STRATA_OK;
}

strata_code strata_history_get(strata *db, strata_status **out, strata_error *err)
{
    if (!db || !out)
        return api_null(err, __func__, "db and out");
    recs r;
    *out = NULL;
    strata_code rc = read_recs_anew(db, &r, 1, err);
    if (rc)
        return rc;
    strata_status *st = calloc(1, sizeof(status_list));
    for (size_t i = 0; st && !rc && i < r.n; i++)
        rc = status_add(st, r.v[i].version, r.v[i].name,
                        rec_applied(&r.v[i]) ? STRATA_STATE_APPLIED : STRATA_STATE_FAILED, &r.v[i]);
    if (st)
        st->current = current_of(&r);
    recs_release(&r);
    if (!st || rc || !st->current) {
        strata_status_free(st);
        return err_set(err, STRATA_NOMEM, "out of memory");
    }
    *out = st;
    return STRATA_OK;
}

strata_code strata_current_get(strata *db, char **version, strata_error *err)
{
    if (!db || !version)
        return api_null(err, __func__, "db and version");
    recs r;
    *version = NULL;
    strata_code rc = read_recs_anew(db, &r, 0, err);
    if (rc)
        return rc;
    *version = current_of(&r);
    recs_release(&r);
    return *version ? STRATA_OK : err_set(err, STRATA_NOMEM, "out of memory");
}

/* ---------------------------------------------------------------- validate */

static void problem_add(strata_problems *p, strata_code code, const char *version, const char *file, int line,
                        const char *detail)
{
    if (ARR_GROW(p->items, ((problem_list *)p)->cap, p->count + 1))
        return;
    strata_problem *n = p->items + p->count++;
    n->code = code;
    n->version = xstrdup(version ? version : "");
    n->detail = xstrdup(detail);
    n->file = xstrdup(file ? file : "");
    n->line = line;
}

void strata_problems_free(strata_problems *p)
{
    if (!p)
        return;
    for (size_t i = 0; i < p->count; i++) {
        free((char *)p->items[i].version);
        free((char *)p->items[i].detail);
        free((char *)p->items[i].file);
    }
    free(p->items);
    free(p);
}

strata_code strata_validate(strata *db, const strata_migset *set, strata_problems **out, strata_error *err)
{
    if (!db || !set || !out)
        return api_null(err, __func__, "db, set and out");
    recs r;
    char msg[1200];
    *out = NULL;
    strata_code rc = read_recs_anew(db, &r, 0, err);
    if (rc)
        return rc;
    strata_problems *p = calloc(1, sizeof(problem_list));
    if (!p) {
        recs_release(&r);
        return err_set(err, STRATA_NOMEM, "out of memory");
    }
    for (size_t i = 0; i < set->nproblems; i++) {
        const strata_problem *x = &set->problems[i];
        problem_add(p, x->code, x->version, x->file, x->line, x->detail);
    }
    const char *newest = NULL;
    for (size_t i = 0; i < r.n; i++) {
        const rec *x = &r.v[i];
        const migration *m = find_mig(set, x->version);
        if (rec_applied(x))
            newest = x->version;
        if (!m && !strcmp(x->state, "failed")) {
            snprintf(msg, sizeof(msg), "migration %s_%s failed earlier and its file is missing: %s",
                     x->version, x->name, x->error ? x->error : "");
            problem_add(p, STRATA_FAILED_MIGRATION, x->version, "", 0, msg);
        } else if (!m) {
            snprintf(msg, sizeof(msg), "migration %s_%s is applied but its file is missing", x->version,
                     x->name);
            problem_add(p, STRATA_MISSING_MIGRATION, x->version, "", 0, msg);
        } else if (!strcmp(x->state, "failed")) {
            /* the mark written before a no-transaction section runs: it
               may be running right now in another process */
            snprintf(msg, sizeof(msg), "migration %s failed earlier%s: %s", m->id,
                     run_mark(x->error) ? ", or is being applied right now by another strata process" : "",
                     x->error ? x->error : "");
            problem_add(p, STRATA_FAILED_MIGRATION, x->version, m->path, 0, msg);
        } else if (strcmp(x->checksum, m->checksum) != 0) {
            snprintf(msg, sizeof(msg), "migration %s was modified after it was applied", m->id);
            problem_add(p, STRATA_CHECKSUM_MISMATCH, x->version, m->path, 0, msg);
        }
    }
    for (size_t i = 0; newest && i < set->count; i++) {
        const migration *m = &set->migs[i];
        if (version_cmp(m->version, newest) < 0 && !find_rec(&r, m->version)) {
            snprintf(msg, sizeof(msg), "pending migration %s is older than the newest applied %s", m->id,
                     newest);
            problem_add(p, STRATA_OUT_OF_ORDER, m->version, m->path, 0, msg);
        }
    }
    /* what up would refuse: a pending migration with nothing to run here */
    for (size_t i = 0; i < set->count; i++) {
        const migration *m = &set->migs[i];
        if (m->broken) /* its parse problem is listed already, once */
            continue;
        if (!mig_section(m, SEC_UP, db->ops->dialect) && !find_rec(&r, m->version)) {
            snprintf(msg, sizeof(msg),
                     "migration %s has no up section for %s (add one without dialect, or with dialect=%s)",
                     m->id, db->ops->engine, db->ops->engine);
            problem_add(p, STRATA_PARSE_ERROR, m->version, m->path, 1, msg);
        }
        /* a section without dialect, read with this engine's lexing */
        static const int kinds[] = {SEC_UP, SEC_DOWN};
        for (int k = 0; k < 2; k++) {
            strata_error e;
            strata_error_clear(&e);
            if (mig_section_check(m, kinds[k], db->ops->dialect, &e)) {
                /* the problem's own file and line, not again in its text */
                char at[1100];
                snprintf(at, sizeof(at), "%s:%d: ", e.file, e.line);
                size_t al = strlen(at);
                problem_add(p, e.code, m->version, e.file, e.line,
                            strncmp(e.message, at, al) ? e.message : e.message + al);
                break;
            }
        }
    }
    recs_release(&r);
    char *bad;
    strata_error ignore;
    invalid_indexes(db, &bad, &ignore);
    for (char *q = bad, *line; (line = line_cut(&q)) != NULL;) {
        snprintf(msg, sizeof(msg),
                 "index %s is INVALID (a CREATE INDEX CONCURRENTLY failed or was interrupted, or is "
                 "running now): unless a strata process is building it now, DROP INDEX CONCURRENTLY %s, "
                 "then rebuild it (strata up --retry-failed)",
                 line, line);
        problem_add(p, STRATA_INVALID_INDEX, "", "", 0, msg);
    }
    free(bad);
    *out = p;
    return STRATA_OK;
}

/* ---------------------------------------------------------------- startup */

static int skip_migrations(void)
{
    const char *skip = getenv("STRATA_SKIP_MIGRATIONS");
    return skip && (!strcmp(skip, "1") || !c_strcasecmp(skip, "true"));
}

static strata_config startup_config(const char *table)
{
    strata_config cfg = {.table = table,
                         .lock_timeout = -1,
                         .connect_timeout = env_seconds("STRATA_CONNECT_TIMEOUT", 30, 1e6)};
    return cfg;
}

/* An application passes getenv("DATABASE_URL"): NULL is a variable that is
   not set, the code a deployment's checks look for. */
static strata_code startup_url(const char *url, strata_error *err)
{
    if (url)
        return STRATA_OK;
    strata_code rc = err_set(err, STRATA_DATABASE_URL_REQUIRED,
                             "a database URL is required (the application passed none)");
    err_hint(err, "set DATABASE_URL (or the variable the application reads the URL from); "
                  "STRATA_SKIP_MIGRATIONS=1 skips migrating at startup");
    return rc;
}

strata_code strata_startup_set(const char *url, const strata_migset *set, const char *table,
                               strata_error *err)
{
    if (!set)
        return api_null(err, __func__, "set");
    if (skip_migrations())
        return STRATA_OK;
    strata_code urc = startup_url(url, err);
    if (urc)
        return urc;
    strata_config cfg = startup_config(table);
    strata *db = NULL;
    strata_code rc = strata_open(url, &cfg, &db, err);
    if (!rc)
        rc = strata_up(db, set, NULL, NULL, err);
    strata_close(db);
    return rc;
}

strata_code strata_startup(const char *url, const char *dir, const char *table, strata_error *err)
{
    if (!dir)
        return api_null(err, __func__, "dir");
    if (skip_migrations())
        return STRATA_OK;
    strata_code urc = startup_url(url, err);
    if (urc)
        return urc;
    /* the files are read while the database opens (as the CLI does) */
    strata_migset_loader *ld = NULL;
    strata_migset *set = NULL;
    strata_code rc = strata_migset_load_start(dir, NULL, &ld, err);
    if (rc)
        return rc;
    strata_config cfg = startup_config(table);
    strata *db = NULL;
    strata_error oerr = {0}, aerr = {0};
    strata_code orc = strata_open(url, &cfg, &db, &oerr);
    if (!orc)
        strata_read_ahead(db, 0, &aerr); /* an error comes again in strata_up */
    rc = strata_migset_load_finish(ld, &set, err);
    if (!rc && orc) {
        *err = oerr;
        rc = orc;
    }
    if (!rc)
        rc = strata_up(db, set, NULL, NULL, err);
    strata_close(db);
    strata_migset_free(set);
    return rc;
}

/* ------------------------------------- for schema.c, check.c and reset.c */

drv *db_driver(strata *db)
{
    return db->d;
}

const char *db_table(const strata *db)
{
    return db->table;
}

const db_url *engine_url(const strata *db)
{
    return &db->u;
}

double lock_timeout_norm(double t)
{
    return t <= 0 || t != t ? 60 : t <= STRATA_NO_WAIT ? 0 : t;
}

double engine_lock_timeout(const strata *db)
{
    return db->lock_timeout;
}

void engine_event(strata *db, strata_event_kind kind, const char *text)
{
    emit(db, kind, 0, text, 0);
}

/* ----------------------------------------------------------------- adopt */

strata_code engine_record_applied(strata *db, const strata_migset *set, const char *const *versions,
                                  const int *applied, size_t n, int dry_run, int *already, size_t *written,
                                  strata_error *err)
{
    recs r = {0};
    strata_code rc;
    *written = 0;
    if (!dry_run && db->readonly)
        return err_set(err, STRATA_USAGE, "the database was opened read-only");
    if (!dry_run) {
        if ((rc = engine_lock(db, err)))
            return rc;
        if ((rc = ensure_table(db, NULL, err)) || (rc = db->ops->begin(db->d, db->lock_timeout, err)))
            goto out;
    }
    if ((rc = read_recs(db, &r, 0, err)))
        goto fail;
    /* strata's table may already hold the applied ones (adopt run twice)
       and migrations of its own; never one the other tool has not applied */
    for (size_t i = 0; i < r.n; i++) {
        const rec *x = &r.v[i];
        size_t k = 0;
        while (k < n && version_cmp(versions[k], x->version) != 0)
            k++;
        if (k == n)
            continue;
        const migration *m = find_mig(set, x->version);
        if (!applied[k] || !rec_applied(x) || !m || strcmp(x->checksum, m->checksum) != 0) {
            rc = err_set(err, STRATA_ADOPT_MISMATCH,
                         "%s already records %s as %s%s; it disagrees with the other "
                         "tool's table",
                         db->table, x->version, rec_applied(x) ? "applied" : x->state,
                         !applied[k]      ? ", which the other tool has not applied"
                         : !m             ? " but it has no file"
                         : rec_applied(x) ? " with another checksum"
                                          : "");
            err_hint(err, "compare 'strata status' with the other tool's table; 'strata stamp base' clears "
                          "strata's table when it is wrong");
            goto fail;
        }
    }
    for (size_t k = 0; k < n; k++) {
        already[k] = 0;
        if (!applied[k])
            continue;
        const migration *m = find_mig(set, versions[k]);
        if (!m) {
            rc = err_set(err, STRATA_INTERNAL, "no migration %s to record", versions[k]);
            goto fail;
        }
        already[k] = find_rec(&r, m->version) != NULL;
        if (already[k] || dry_run)
            continue;
        if ((rc = write_rec(db, m, "applied", 0, NULL, 0, err)))
            goto fail;
        (*written)++;
    }
    if (dry_run)
        goto out;
    rc = commit(db, err);
    if (!rc)
        goto out;
fail:
    *written = 0;
    if (!dry_run)
        rollback(db);
out:
    if (!dry_run)
        db->ops->unlock(db->d, db->table);
    recs_release(&r);
    return rc;
}
