/* test_ops.c -- the locality rule of reset and restore (no server needed);
   the SQLite write lock of a run. */
#include "internal.h"
#include "unit.h"

#include <math.h>
#include <pthread.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <time.h>
#include <sys/wait.h>
#include <signal.h>

static void local(const char *file, int line, const char *url, strata_code want)
{
    strata_error e;
    strata_error_clear(&e);
    strata_code rc = strata_url_check_local(url, &e);
    unit_check_int(file, line, rc, want, url, strata_code_name(want));
    if (rc == STRATA_NOT_LOCAL) {
        unit_check_has(file, line, e.message, "is not a local database", 1, url);
        unit_check_has(file, line, e.message, "secret", 0, url);
        unit_check_has(file, line, e.hint, "--force", 1, url);
    }
}
#define LOCAL(url) local(__FILE__, __LINE__, url, STRATA_OK)
#define REMOTE(url) local(__FILE__, __LINE__, url, STRATA_NOT_LOCAL)

/* Sets the PG* variables the rule reads (NULL: unset). */
static void with_env(const char *host, const char *hostaddr, const char *service)
{
    const char *names[] = {"PGHOST", "PGHOSTADDR", "PGSERVICE"};
    const char *vals[] = {host, hostaddr, service};
    for (int i = 0; i < 3; i++) {
        if (vals[i])
            setenv(names[i], vals[i], 1);
        else
            unsetenv(names[i]);
    }
}

/* Another connection's read of path, without waiting: SQLITE_OK or BUSY. */
static int read_now(const char *path)
{
    sqlite3 *o = NULL;
    int rc = sqlite3_open_v2(path, &o, SQLITE_OPEN_READONLY, NULL);
    if (rc == SQLITE_OK)
        rc = sqlite3_exec(o, "SELECT count(*) FROM sqlite_master", NULL, NULL, NULL);
    sqlite3_close(o);
    return rc & 0xff;
}

struct lock_probe {
    const char *path;
    int done, busy_early, busy_late;
};

static void probe_event(void *ud, const strata_event *ev)
{
    struct lock_probe *p = ud;
    if (ev->kind != STRATA_EV_MIGRATE_DONE)
        return;
    p->done++;
    if (p->done == 1)
        p->busy_early = read_now(p->path) == SQLITE_BUSY;
    if (p->done == 18)
        p->busy_late = read_now(p->path) == SQLITE_BUSY;
}

/* A scratch directory with a migration directory m of n tables_history
   migrations (loaded into set) and a SQLite file name, its URL in url. */
typedef struct sqfix {
    char *dir, *mig, *path;
    char url[4200];
    strata_migset *set;
} sqfix;

static strata_migset *tables_history(const char *mig, int n);

static void sqfix_init(sqfix *f, const char *file, int n)
{
    f->dir = tmpdir_new();
    f->mig = path_join(f->dir, "m");
    f->path = path_join(f->dir, file);
    snprintf(f->url, sizeof(f->url), "sqlite:///%s", f->path);
    f->set = tables_history(f->mig, n);
}

static void sqfix_free(sqfix *f)
{
    strata_migset_free(f->set);
    free(f->path);
    free(f->mig);
    tmpdir_free(f->dir);
}

/* A directory mig of n migrations, 000i_t.sql creating table ti, loaded. */
static strata_migset *tables_history(const char *mig, int n)
{
    CHECK(mkdir(mig, 0700) == 0);
    for (int i = 1; i <= n; i++) {
        char name[32], text[128];
        snprintf(name, sizeof(name), "%04d_t.sql", i);
        snprintf(text, sizeof(text), "-- strata:up\nCREATE TABLE t%d (id integer);\n-- strata:down\nDROP TABLE t%d;\n",
                 i, i);
        write_file(mig, name, text);
    }
    strata_migset *set = NULL;
    strata_error err;
    CHECK_INT(strata_migset_load(mig, &set, &err), STRATA_OK);
    return set;
}

/* In a rollback-journal mode a long run holds the write lock from its 17th
   commit to its end (locking_mode=EXCLUSIVE), and gives it back before
   strata_up returns: the application's own connections read right after,
   with the handle still open, and no journal file is left behind. */
static void test_sqlite_run_lock(void)
{
    sqfix f;
    sqfix_init(&f, "app.db", 20);
    const char *path = f.path, *url = f.url;
    strata_migset *set = f.set;
    char *journal = path_join(f.dir, "app.db-journal");
    strata_error err;
    struct lock_probe probe = {path, 0, 0, 0};
    strata_config cfg = {NULL, 5, 0, probe_event, &probe, 0};
    strata *db = NULL;
    CHECK_INT(strata_open(url, &cfg, &db, &err), STRATA_OK);
    CHECK_INT(strata_up(db, set, NULL, NULL, &err), STRATA_OK);
    CHECK_INT(probe.done, 20);
    CHECK_INT(probe.busy_early, 0); /* the first migrations lock one by one */
    CHECK_INT(probe.busy_late, 1);  /* a long run holds it between migrations */
    CHECK_INT(read_now(path), SQLITE_OK); /* released at the end, handle open */
    CHECK(access(journal, F_OK) != 0);
    /* a second run on the same handle: nothing to do, still released */
    CHECK_INT(strata_up(db, set, NULL, NULL, &err), STRATA_OK);
    CHECK_INT(read_now(path), SQLITE_OK);
    strata_close(db);
    CHECK(access(journal, F_OK) != 0);
    free(journal);
    sqfix_free(&f);
}

/* Holds a write lock on a SQLite file for 300 ms from another thread. */
struct holder {
    const char *path;
    sqlite3 *db;
};

static void *hold_then_release(void *arg)
{
    struct holder *h = arg;
    usleep(300 * 1000);
    sqlite3_exec(h->db, "COMMIT", NULL, NULL, NULL);
    return NULL;
}

/* A zero-initialised strata_config waits for the lock (the default 60 s),
   as the CLI does: replicas built with "= {0}" must not fail at startup.
   STRATA_NO_WAIT tries once. */
static void test_zero_config_waits(void)
{
    sqfix f;
    sqfix_init(&f, "app.db", 2);
    strata_error err;
    strata *db = NULL;
    strata_config none = {0}, nowait = {.lock_timeout = STRATA_NO_WAIT};
    struct holder h = {f.path, NULL};
    CHECK_INT(sqlite3_open(f.path, &h.db), SQLITE_OK);
    CHECK_INT(sqlite3_exec(h.db, "BEGIN IMMEDIATE", NULL, NULL, NULL), SQLITE_OK);

    CHECK_INT(strata_open(f.url, &nowait, &db, &err), STRATA_OK);
    CHECK_INT(strata_up(db, f.set, NULL, NULL, &err), STRATA_LOCK_TIMEOUT);
    strata_close(db);

    pthread_t t;
    CHECK_INT(pthread_create(&t, NULL, hold_then_release, &h), 0);
    CHECK_INT(strata_open(f.url, &none, &db, &err), STRATA_OK);
    CHECK_INT(strata_up(db, f.set, NULL, NULL, &err), STRATA_OK);
    pthread_join(t, NULL);
    strata_close(db);
    sqlite3_close(h.db);
    sqfix_free(&f);
}

/* current as a dry run of up reports it: from the records read ahead, when
   they still hold */
static int dry_current_is(strata *db, const strata_migset *set, const char *want)
{
    strata_result *res = NULL;
    strata_error err;
    strata_run_opts dry = {NULL, STRATA_DRY_RUN};
    int ok = strata_up(db, set, &dry, &res, &err) == STRATA_OK && !strcmp(res->current, want);
    strata_result_free(res);
    return ok;
}

/* What strata_read_ahead read is used only when nothing was committed since:
   another connection's migrations, and another connection's DROP of the
   version table, are seen by the next read on the handle. */
static void test_sqlite_read_ahead(void)
{
    sqfix f;
    sqfix_init(&f, "app.db", 3);
    const char *path = f.path, *url = f.url;
    strata_migset *set = f.set;
    strata_error err;
    strata *a = NULL, *b = NULL;
    CHECK_INT(strata_open(url, NULL, &a, &err), STRATA_OK);
    CHECK_INT(strata_open(url, NULL, &b, &err), STRATA_OK);
    strata_run_opts one = {"0001", 0};
    CHECK_INT(strata_up(a, set, &one, NULL, &err), STRATA_OK);

    /* unchanged: the records read ahead are the answer */
    CHECK_INT(strata_read_ahead(a, 0, &err), STRATA_OK);
    CHECK(dry_current_is(a, set, "0001"));
    /* status shows when each ran: read ahead without the times, it reads
       again; with them, it takes what was read */
    strata_status *st = NULL;
    for (unsigned flags = 0; flags <= STRATA_READ_TIMES; flags += STRATA_READ_TIMES) {
        CHECK_INT(strata_read_ahead(a, flags, &err), STRATA_OK);
        CHECK_INT(strata_status_get(a, set, &st, &err), STRATA_OK);
        CHECK(st && st->count == 3 && !strcmp(st->current, "0001") && st->entries[0].applied_at &&
              strlen(st->entries[0].applied_at) == 20);
        strata_status_free(st);
        st = NULL;
    }
    /* another connection applies the rest in between */
    CHECK_INT(strata_read_ahead(a, 0, &err), STRATA_OK);
    CHECK_INT(strata_up(b, set, NULL, NULL, &err), STRATA_OK);
    CHECK(dry_current_is(a, set, "0003"));
    strata_result *res = NULL;
    CHECK_INT(strata_read_ahead(a, 0, &err), STRATA_OK);
    CHECK_INT(strata_down(b, set, NULL, NULL, &err), STRATA_OK);
    CHECK_INT(strata_up(a, set, NULL, &res, &err), STRATA_OK); /* runs 0003 again, once */
    CHECK(res && res->count == 1 && !strcmp(res->current, "0003"));
    strata_result_free(res);
    /* another connection drops the version table (schema change) */
    CHECK_INT(strata_read_ahead(a, 0, &err), STRATA_OK);
    sqlite3 *o = NULL;
    CHECK_INT(sqlite3_open(path, &o), SQLITE_OK);
    CHECK_INT(sqlite3_exec(o, "DROP TABLE strata_migrations", NULL, NULL, NULL), SQLITE_OK);
    sqlite3_close(o);
    CHECK(dry_current_is(a, set, "base"));
    char *cur = NULL;
    CHECK_INT(strata_current_get(a, &cur, &err), STRATA_OK); /* no table: base, none made */
    CHECK(cur && !strcmp(cur, "base"));
    free(cur);
    /* records are packed into 64 KiB chunks: one larger than a chunk, between others */
    CHECK_INT(strata_stamp(b, set, "0003", &err), STRATA_OK);
    CHECK_INT(sqlite3_open(path, &o), SQLITE_OK);
    CHECK_INT(sqlite3_exec(o, "UPDATE strata_migrations SET name = printf('%.*c', 70000, 'x') WHERE version = '0002'",
                           NULL, NULL, NULL),
              SQLITE_OK);
    sqlite3_close(o);
    CHECK_INT(strata_history_get(a, &st, &err), STRATA_OK); /* the records alone */
    CHECK(st && st->count == 3);
    CHECK(st && strlen(st->entries[1].name) == 70000 && !strcmp(st->entries[0].name, "t") &&
          !strcmp(st->entries[2].name, "t") && !strcmp(st->entries[2].version, "0003"));
    strata_status_free(st);
    CHECK_INT(strata_read_ahead(a, 0, &err), STRATA_OK); /* what current reads: taken */
    CHECK_INT(strata_current_get(a, &cur, &err), STRATA_OK);
    CHECK(cur && !strcmp(cur, "0003"));
    free(cur);
    /* read ahead and never used: freed by strata_close */
    CHECK_INT(strata_read_ahead(a, 0, &err), STRATA_OK);
    strata_close(a);
    strata_close(b);
    sqfix_free(&f);
}

/*
 * Two handles on a new file: the one that created it fails (a stamp to a
 * version that is not there) and removes the empty file; the other, opened
 * in between, cannot write into a file no path names (SQLite refuses:
 * "disk I/O error"); strata says what happened before it runs anything,
 * and a new handle migrates.
 */
static void test_sqlite_removed_under(void)
{
    sqfix f;
    sqfix_init(&f, "new.db", 2);
    const char *path = f.path, *url = f.url;
    strata_migset *set = f.set;
    strata_error err;
    strata *a = NULL, *b = NULL;
    CHECK_INT(strata_open(url, NULL, &a, &err), STRATA_OK); /* creates the file */
    CHECK_INT(strata_open(url, NULL, &b, &err), STRATA_OK);
    CHECK(access(path, F_OK) == 0);
    CHECK_INT(strata_stamp(a, set, "0009", &err), STRATA_TARGET_NOT_FOUND);
    CHECK(access(path, F_OK) != 0); /* a failed run on a file it created */
    CHECK_INT(strata_up(b, set, NULL, NULL, &err), STRATA_DB_ERROR);
    CHECK(strstr(err.message, "was removed while strata had it open") != NULL);
    /* the handle whose run removed it says so, not "another run" */
    CHECK_INT(strata_up(a, set, NULL, NULL, &err), STRATA_DB_ERROR);
    CHECK_HAS(err.message, "removed by this handle's failed first run");
    CHECK_HAS(err.hint, "open the database again");
    strata_close(b);
    strata_close(a);
    CHECK_INT(strata_open(url, NULL, &b, &err), STRATA_OK);
    strata_result *res = NULL;
    CHECK_INT(strata_up(b, set, NULL, &res, &err), STRATA_OK);
    CHECK(res && res->count == 2 && access(path, F_OK) == 0);
    strata_result_free(res);
    strata_close(b);
    sqfix_free(&f);
}

/* Another handle's run between two steps of a run on SQLite (its lock is
   taken per transaction): the run stops rather than leave an applied
   migration above a pending one. The other run happens inside the first
   one's MIGRATE_DONE event (after that step's commit). */
struct cutin {
    strata *other;
    const strata_migset *set;
    const char *after; /* the step whose event runs it */
    const char *down;  /* the other run: down to this target, or up to head when NULL */
    int fired;
    strata_code rc;
};

static void cutin_event(void *ud, const strata_event *ev)
{
    struct cutin *c = ud;
    if (ev->kind != STRATA_EV_MIGRATE_DONE || c->fired || strcmp(ev->text, c->after) != 0)
        return;
    c->fired = 1;
    strata_error e;
    strata_run_opts o = {c->down, 0};
    c->rc = c->down ? strata_down(c->other, c->set, &o, NULL, &e) : strata_up(c->other, c->set, NULL, NULL, &e);
}

static void test_sqlite_interleaved(void)
{
    /* 0: all applied; a reverts 3, 2 and b applies them again before a
          reverts 1
       1: 1 applied; a applies 2 and b reverts 2, 1 before a applies 3
       2: the same, b reverting only 2 -- the step a itself applied */
    static const struct {
        int down;
        const char *other_down, *said, *cur;
    } cases[] = {
        {1, NULL, "another process applied 0003_t while this run went on: stopped before reverting 0001_t", "0003"},
        {0, "base", "another process reverted 0001_t while this run went on: stopped before applying 0003_t", "base"},
        {0, "0001", "another process reverted 0002_t while this run went on: stopped before applying 0003_t", "0001"},
    };
    for (size_t k = 0; k < sizeof(cases) / sizeof(cases[0]); k++) {
        int down = cases[k].down;
        sqfix f;
        sqfix_init(&f, "i.db", 3);
        strata_error err;
        strata *b = NULL, *a = NULL;
        CHECK_INT(strata_open(f.url, NULL, &b, &err), STRATA_OK);
        strata_run_opts to = {down ? NULL : "0001", 0};
        CHECK_INT(strata_up(b, f.set, &to, NULL, &err), STRATA_OK);
        struct cutin c = {b, f.set, "0002_t", cases[k].other_down, 0, STRATA_INTERNAL};
        strata_config cfg = {NULL, 5, 0, cutin_event, &c, 0};
        CHECK_INT(strata_open(f.url, &cfg, &a, &err), STRATA_OK);
        strata_run_opts base = {"base", 0};
        strata_code rc = down ? strata_down(a, f.set, &base, NULL, &err) : strata_up(a, f.set, NULL, NULL, &err);
        CHECK(c.fired);
        CHECK_INT(c.rc, STRATA_OK);
        CHECK_INT(rc, STRATA_OUT_OF_ORDER);
        CHECK_HAS(err.message, cases[k].said);
        /* no applied migration above a pending one */
        char *cur = NULL;
        CHECK_INT(strata_current_get(b, &cur, &err), STRATA_OK);
        CHECK_STR(cur, cases[k].cur);
        free(cur);
        strata_problems *pr = NULL;
        CHECK_INT(strata_validate(b, f.set, &pr, &err), STRATA_OK);
        CHECK(pr && pr->count == 0);
        strata_problems_free(pr);
        /* and a run of its own goes on as usual */
        CHECK_INT(down ? strata_down(a, f.set, &base, NULL, &err) : strata_up(a, f.set, NULL, NULL, &err),
                  STRATA_OK);
        strata_close(a);
        strata_close(b);
        sqfix_free(&f);
    }
}

/* Writes a no-transaction mark of process pid on version v of f's file. */
static void put_mark(const char *path, const char *v, long pid)
{
    sqlite3 *o = NULL;
    char sql[512];
    snprintf(sql, sizeof(sql),
             "INSERT OR REPLACE INTO strata_migrations (version, name, checksum, applied_at, state, error) "
             "VALUES ('%s', 't', '', '2026-12-07', 'failed', 'interrupted before completion (pid %ld)')",
             v, pid);
    CHECK_INT(sqlite3_open(path, &o), SQLITE_OK);
    sqlite3_busy_timeout(o, 5000);
    CHECK_INT(sqlite3_exec(o, sql, NULL, NULL, NULL), SQLITE_OK);
    sqlite3_close(o);
}

struct marker {
    const char *path, *after;
    long pid;
    int fired;
};

static void mark_event(void *ud, const strata_event *ev)
{
    struct marker *k = ud;
    if (ev->kind == STRATA_EV_MIGRATE_DONE && !k->fired && !strcmp(ev->text, k->after)) {
        k->fired = 1;
        put_mark(k->path, "0003", k->pid);
    }
}

/* A down meets another process's no-transaction section under way above
   (or at) its next step -- a redo's up half, say: it stops (it reverted
   beneath the running section, which then recorded itself applied above a
   pending migration). A mark whose process was killed but not yet reaped
   (a zombie: a container's pid 1 that does not reap) is a killed run's, not
   a live one to wait for. */
static void test_sqlite_marks(void)
{
    sqfix f;
    sqfix_init(&f, "mk.db", 3);
    strata_error err;
    strata *a = NULL;
    pid_t live = fork();
    if (live == 0) {
        pause();
        _exit(0);
    }
    struct marker k = {f.path, "0003_t", (long)live, 1};
    strata_config cfg = {NULL, 5, 0, mark_event, &k, 0};
    CHECK_INT(strata_open(f.url, &cfg, &a, &err), STRATA_OK);
    CHECK_INT(strata_up(a, f.set, NULL, NULL, &err), STRATA_OK);
    k.fired = 0; /* from the down's first step on */
    strata_run_opts to = {"0001", 0};
    CHECK_INT(strata_down(a, f.set, &to, NULL, &err), STRATA_OUT_OF_ORDER);
    CHECK_HAS(err.message, "another process is applying 0003_t");
    char *cur = NULL;
    CHECK_INT(strata_current_get(a, &cur, &err), STRATA_OK);
    CHECK_STR(cur, "0002"); /* 0002 was not reverted under it */
    free(cur);
    /* reset waits for the section too (it dropped everything under it and
       ran the section a second time beside it): here until its timeout */
    strata *rs = NULL;
    strata_config one = {NULL, 1, 0, NULL, NULL, 0};
    CHECK_INT(strata_open(f.url, &one, &rs, &err), STRATA_OK);
    CHECK_INT(strata_reset(rs, f.set, 0, NULL, &err), STRATA_LOCK_TIMEOUT);
    CHECK_HAS(err.message, "which is applying 0003_t");
    CHECK_INT(strata_current_get(rs, &cur, &err), STRATA_OK);
    CHECK_STR(cur, "0002"); /* nothing dropped */
    free(cur);
    strata_close(rs);
    kill(live, SIGKILL);
    waitpid(live, NULL, 0);
    strata_close(a);
    sqfix_free(&f);

    sqfix_init(&f, "zb.db", 3);
    pid_t z = fork();
    if (z == 0)
        _exit(0); /* not waited for: a zombie */
    usleep(100 * 1000);
    strata_config quick = {NULL, 3, 0, NULL, NULL, 0};
    CHECK_INT(strata_open(f.url, &quick, &a, &err), STRATA_OK);
    strata_run_opts two = {"0002", 0};
    CHECK_INT(strata_up(a, f.set, &two, NULL, &err), STRATA_OK);
    put_mark(f.path, "0003", (long)z);
    time_t t0 = time(NULL);
    CHECK_INT(strata_up(a, f.set, NULL, NULL, &err), STRATA_FAILED_MIGRATION);
    CHECK(time(NULL) - t0 < 2); /* not waited for */
    waitpid(z, NULL, 0);
    strata_close(a);
    sqfix_free(&f);
}

/* A handle opened read-only refuses every writer alike, before it writes:
   stamp and reset tried and failed on the database (DB_ERROR with a hint
   about the file's or the role's permissions); table "" is the default
   table in strata_sql_render as in strata_open. */
static void test_readonly_handle(void)
{
    sqfix f;
    sqfix_init(&f, "ro.db", 2);
    strata_error err;
    strata *w = NULL, *ro = NULL;
    CHECK_INT(strata_open(f.url, NULL, &w, &err), STRATA_OK);
    CHECK_INT(strata_up(w, f.set, NULL, NULL, &err), STRATA_OK);
    strata_config cfg = {0};
    cfg.readonly = 1;
    CHECK_INT(strata_open(f.url, &cfg, &ro, &err), STRATA_OK);
    CHECK_INT(strata_stamp(ro, f.set, "0001", &err), STRATA_USAGE);
    CHECK_HAS(err.message, "opened read-only");
    CHECK_INT(strata_reset(ro, f.set, 0, NULL, &err), STRATA_USAGE);
    CHECK_HAS(err.message, "opened read-only");
    CHECK_INT(strata_accept(ro, f.set, "0001", 0, NULL, &err), STRATA_USAGE);
    char *cur = NULL;
    CHECK_INT(strata_current_get(w, &cur, &err), STRATA_OK);
    CHECK_STR(cur, "0002"); /* nothing was changed */
    free(cur);
    char *sql = NULL;
    CHECK_INT(strata_sql_render(f.set, "sqlite", "", NULL, NULL, 0, &sql, &err), STRATA_OK);
    CHECK_HAS(sql, "CREATE TABLE IF NOT EXISTS \"strata_migrations\"");
    free(sql);
    strata_close(ro);
    strata_close(w);
    sqfix_free(&f);
}

/* validate lists each parse problem once (it listed the set's problem, then
   the same file again as "no up section" or "is not SQL") */
static void test_validate_once(void)
{
    static const char nul[] = "-- strata:up\nCREATE TABLE a(id int);\0\n-- strata:down\nDROP TABLE a;\n";
    strata_migration_src v[2] = {
        {"0001_nul.sql", nul, sizeof(nul) - 1},
        {"0002_copy.sql", "-- strata:up\nCREATE TABLE cp(a int);\nCOPY cp (a) FROM stdin;\n1\n\\.\n"
                          "-- strata:down\nDROP TABLE cp;\n", 0}};
    strata_migset *set = NULL;
    strata *db = NULL;
    strata_problems *p = NULL;
    strata_error e;
    CHECK_INT(strata_migset_from_array(v, 2, &set, &e), STRATA_OK);
    CHECK_INT(strata_migset_problem_count(set), 2);
    CHECK_INT(strata_open("sqlite::memory:", NULL, &db, &e), STRATA_OK);
    CHECK_INT(strata_validate(db, set, &p, &e), STRATA_OK);
    CHECK(p && p->count == 2);
    strata_problems_free(p);
    strata_close(db);
    strata_migset_free(set);
}

/*
 * strata_global_init, in a fresh process (test_unit run again with
 * "--global-init-child"): SQLite's memory statistics count nothing after
 * it, and count the same work without it; once SQLite is initialized it
 * changes nothing.
 */
int unit_global_init_child(const char *mode)
{
    int before = !strcmp(mode, "first"), after = !strcmp(mode, "late");
    strata *db = NULL;
    strata_error err = {0};
    if (before)
        strata_global_init();
    if (strata_open("sqlite::memory:", NULL, &db, &err) != STRATA_OK)
        return 3;
    if (after)
        strata_global_init();
    strata_status *st = NULL;
    int rc = strata_history_get(db, &st, &err) == STRATA_OK ? 0 : 3;
    long long used = sqlite3_memory_used();
    strata_status_free(st);
    strata_close(db);
    return rc ? rc : before ? used != 0 : used == 0;
}

static void test_global_init(void)
{
    static const char *const modes[] = {"first", "none", "late"};
    for (int i = 0; i < 3; i++) {
        char cmd[4200];
        char self[4096];
        ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);
        CHECK(n > 0);
        if (n <= 0)
            return;
        self[n] = 0;
        snprintf(cmd, sizeof(cmd), "'%s' --global-init-child %s", self, modes[i]);
        int rc = system(cmd);
        CHECK_INT(WIFEXITED(rc) ? WEXITSTATUS(rc) : -1, 0);
    }
}

/* A required pointer left NULL is a USAGE error naming the function and
   the argument, never a crash. */
static void test_null_arguments(void)
{
    strata_error e;
    strata *db = NULL;
    strata_migset *set = NULL;
    CHECK_INT(strata_open("sqlite::memory:", NULL, &db, &e), STRATA_OK);
    CHECK_INT(strata_migset_from_array(NULL, 0, &set, &e), STRATA_OK);
    CHECK_INT(strata_up(db, NULL, NULL, NULL, &e), STRATA_USAGE);
    CHECK_HAS(e.message, "strata_up: db and set must not be NULL");
    CHECK_INT(strata_up(NULL, set, NULL, NULL, &e), STRATA_USAGE);
    CHECK_INT(strata_down(db, NULL, NULL, NULL, NULL), STRATA_USAGE); /* and no err at all */
    CHECK_INT(strata_status_get(db, set, NULL, &e), STRATA_USAGE);
    CHECK_HAS(e.message, "strata_status_get: db, set and out must not be NULL");
    CHECK_INT(strata_history_get(db, NULL, &e), STRATA_USAGE);
    CHECK_INT(strata_current_get(NULL, NULL, &e), STRATA_USAGE);
    CHECK_INT(strata_validate(db, set, NULL, &e), STRATA_USAGE);
    CHECK_INT(strata_stamp(db, NULL, "0001", &e), STRATA_USAGE);
    CHECK_INT(strata_accept(db, NULL, "0001", 0, NULL, &e), STRATA_USAGE);
    CHECK_INT(strata_schema_dump(db, NULL, &e), STRATA_USAGE);
    CHECK_INT(strata_reset(db, NULL, 0, NULL, &e), STRATA_USAGE);
    CHECK_INT(strata_reset_list(db, NULL, &e), STRATA_USAGE);
    CHECK_INT(strata_migset_load(NULL, &set, &e), STRATA_USAGE);
    CHECK_INT(strata_migset_load("migrations", NULL, &e), STRATA_USAGE);
    CHECK_INT(strata_startup("sqlite::memory:", NULL, NULL, &e), STRATA_USAGE);
    CHECK_INT(strata_startup_set("sqlite::memory:", NULL, NULL, &e), STRATA_USAGE);
    CHECK_INT(strata_open("sqlite::memory:", NULL, NULL, &e), STRATA_USAGE);
    /* the other calls with required pointers (a tester's 12 crashes) */
    strata_migset *none = NULL;
    strata_migset_loader *l = NULL;
    char *s = NULL;
    strata_scratch *sc = NULL;
    strata_check_report *cr = NULL;
    strata_lint_report *lr = NULL;
    strata_test_case tc;
    CHECK_INT(strata_migset_from_array(NULL, 3, &none, &e), STRATA_USAGE);
    CHECK_HAS(e.message, "strata_migset_from_array: v and out must not be NULL");
    CHECK_INT(strata_migset_load_start("migrations", NULL, NULL, &e), STRATA_USAGE);
    CHECK_INT(strata_migset_load_start(NULL, NULL, &l, &e), STRATA_USAGE);
    CHECK_INT(strata_url_resolve(NULL, NULL, NULL, &e), STRATA_USAGE);
    CHECK_INT(strata_new_migration("x", "x", 0, NULL, &e), STRATA_USAGE);
    CHECK_INT(strata_new_migration(NULL, "x", 0, &s, &e), STRATA_USAGE);
    CHECK_HAS(e.message, "strata_new_migration: dir and path_out must not be NULL");
    CHECK_INT(strata_write_migration("x", "y", 0, NULL, &s, &e), STRATA_USAGE);
    CHECK_INT(strata_sql_render(NULL, "postgres", NULL, NULL, NULL, 0, &s, &e), STRATA_USAGE);
    CHECK_INT(strata_sql_render(set, "postgres", NULL, NULL, NULL, 0, NULL, &e), STRATA_USAGE);
    CHECK_INT(strata_read_ahead(NULL, 0, &e), STRATA_USAGE);
    CHECK_INT(strata_text_diff("a", "b", "x", "y", NULL, &e), STRATA_USAGE);
    CHECK_INT(strata_text_diff(NULL, "b", "x", "y", &s, &e), STRATA_USAGE);
    CHECK_INT(strata_scratch_create(NULL, NULL, &e), STRATA_USAGE);
    CHECK_INT(strata_check_run("sqlite::memory:", set, NULL, NULL, &e), STRATA_USAGE);
    CHECK_INT(strata_check_run(NULL, set, NULL, &cr, &e), STRATA_USAGE);
    CHECK_INT(strata_check(NULL, NULL, NULL, &cr, &e), STRATA_USAGE);
    CHECK_INT(strata_lint(set, NULL, NULL, &e), STRATA_USAGE);
    CHECK_INT(strata_test_file(NULL, NULL, NULL, &tc, &e), STRATA_USAGE);
    CHECK_INT(strata_lint(NULL, NULL, &lr, &e), STRATA_USAGE);
    CHECK_INT(strata_migset_check(NULL, &e), STRATA_USAGE);
    CHECK_INT(strata_diff(NULL, NULL, &e), STRATA_USAGE); /* was a NULL store */
    strata_copy_opts co = {0};
    co.ntables = 1; /* and no list: was a NULL load */
    CHECK_INT(strata_copy("sqlite::memory:", "postgresql://u@127.0.0.1:1/x", &co, NULL, &e), STRATA_USAGE);
    CHECK_HAS(e.message, "tables is NULL or holds NULL");
    const char *holes[2] = {"a", NULL};
    co.ntables = 0, co.exclude = holes, co.nexclude = 2;
    CHECK_INT(strata_copy("sqlite::memory:", "postgresql://u@127.0.0.1:1/x", &co, NULL, &e), STRATA_USAGE);
    CHECK_HAS(e.message, "exclude is NULL or holds NULL");
    CHECK(!none && !l && !s && !sc && !cr && !lr);
    /* a NaN timeout is one try (it waited forever), and a NaN lock timeout
       the default */
    int attempts = 0;
    time_t t0 = time(NULL);
    CHECK(strata_wait("postgresql://u:p@127.0.0.1:1/db", NAN, NULL, &attempts, &e) != STRATA_OK);
    CHECK(time(NULL) - t0 < 5);
    CHECK_INT(attempts, 1);
    CHECK(lock_timeout_norm(NAN) == 60);
    strata_migset_free(set);
    strata_close(db);
}

void test_ops(void)
{
    test_null_arguments();
    test_sqlite_run_lock();
    test_zero_config_waits();
    test_sqlite_read_ahead();
    test_sqlite_removed_under();
    test_sqlite_interleaved();
    test_readonly_handle();
    test_sqlite_marks();
    test_validate_once();
    test_global_init();

    const char *keep[3] = {getenv("PGHOST"), getenv("PGHOSTADDR"), getenv("PGSERVICE")};
    char *saved[3];
    for (int i = 0; i < 3; i++)
        saved[i] = keep[i] ? strdup(keep[i]) : NULL;
    with_env(NULL, NULL, NULL);

    LOCAL("sqlite:///x.db");
    LOCAL("sqlite:////abs/x.db");
    LOCAL("sqlite::memory:");
    LOCAL("sqlite+aiosqlite:///./dev.sqlite3");

    LOCAL("postgresql://u:secret@localhost/db");
    LOCAL("postgresql://u:secret@LocalHost:5432/db");
    LOCAL("postgresql://u:secret@127.0.0.1/db");
    LOCAL("postgresql://u:secret@127.1.2.3:5433/db");
    LOCAL("postgresql://u:secret@[::1]:5432/db");
    LOCAL("postgresql://u:secret@[::ffff:127.0.0.1]/db");
    LOCAL("postgresql+asyncpg://u:secret@localhost/db");
    LOCAL("postgresql:///db");                                 /* default Unix socket */
    LOCAL("postgresql://u:secret@/db?host=/var/run/postgresql"); /* a socket directory */
    LOCAL("postgresql://u:secret@%2Ftmp/db");
    LOCAL("postgresql://u:secret@localhost,127.0.0.2/db");
    /* hostaddr is where libpq connects */
    LOCAL("postgresql://u:secret@db.example.com/db?hostaddr=127.0.0.1");

    REMOTE("postgresql://u:secret@db.example.com/db");
    REMOTE("postgresql://u:secret@10.255.255.1/db");
    REMOTE("postgresql://u:secret@128.0.0.1/db");
    REMOTE("postgresql://u:secret@192.168.1.10:5432/db");
    REMOTE("postgresql://u:secret@[2001:db8::1]/db");
    REMOTE("postgresql://u:secret@[::2]/db");
    REMOTE("postgresql://u:secret@localhost.example.com/db");
    REMOTE("postgresql://u:secret@127.0.0.1.nip.io/db");
    REMOTE("postgresql://u:secret@localhost,db.example.com/db");
    REMOTE("postgresql://u:secret@localhost/db?hostaddr=10.1.2.3");
    REMOTE("postgresql://u:secret@localhost/db?service=prod");

    strata_error e;
    CHECK_INT(strata_url_check_local("mysql://u:secret@localhost/db", &e), STRATA_URL_INVALID);
    CHECK_INT(strata_url_check_local("postgresql://u:secret@db.example.com/db", NULL), STRATA_NOT_LOCAL);
    strata_url_check_local("postgresql://u:secret@db.example.com/db", &e);
    CHECK_HAS(e.message, "'db.example.com'");
    CHECK_HAS(e.message, "u:****@");

    /* the environment applies when the URL names no host */
    with_env("db.example.com", NULL, NULL);
    REMOTE("postgresql:///db");
    LOCAL("postgresql://u:secret@localhost/db");
    with_env("/var/run/postgresql", NULL, NULL);
    LOCAL("postgresql:///db");
    with_env(NULL, "10.0.0.7", NULL);
    REMOTE("postgresql:///db");
    REMOTE("postgresql://u:secret@localhost/db");
    LOCAL("postgresql://u:secret@localhost/db?hostaddr=127.0.0.1");
    with_env(NULL, NULL, "prod");
    REMOTE("postgresql://u:secret@localhost/db");

    for (int i = 0; i < 3; i++) {
        const char *names[] = {"PGHOST", "PGHOSTADDR", "PGSERVICE"};
        if (saved[i])
            setenv(names[i], saved[i], 1);
        else
            unsetenv(names[i]);
        free(saved[i]);
    }
}
