/*
 * check.c -- `strata check`: scratch databases and the round-trip walk of a
 * migration directory (docs/check.md).
 *
 * Safety: the scratch database is always a new one (a mkstemp() file, or a
 * PostgreSQL database with a random strata_check_ name created here), the
 * run refuses a database that is not empty, and drop refuses any name that
 * does not start with strata_check_.
 */
#include "internal.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

#define SCRATCH_PREFIX "strata_check_"

struct strata_scratch {
    const drv_ops *ops; /* the engine that made it */
    char *url;          /* the scratch database */
    char *name;         /* database name, or file path */
    char *admin_url;    /* where it is dropped from (postgres), or NULL */
    int dropped;
};

void strata_scratch_free(strata_scratch *s)
{
    if (!s)
        return;
    free(s->url);
    free(s->name);
    free(s->admin_url);
    free(s);
}

const char *strata_scratch_url(const strata_scratch *s)
{
    return s ? s->url : NULL;
}

const char *strata_scratch_name(const strata_scratch *s)
{
    return s ? s->name : NULL;
}

static void random_suffix(char out[13])
{
    unsigned char r[6];
    if (getrandom(r, sizeof(r), 0) != (ssize_t)sizeof(r)) {
        unsigned long x =
            (unsigned long)time(NULL) ^ ((unsigned long)getpid() << 16) ^ (unsigned long)clock();
        for (int i = 0; i < 6; i++, x >>= 5)
            r[i] = (unsigned char)(x * 2654435761u >> (i * 3));
    }
    for (int i = 0; i < 6; i++)
        snprintf(out + 2 * i, 3, "%02x", r[i]);
}

/* A SQLite URL or none: a temporary SQLite file (the embedded default's
   engine); a server URL: a new database on that server. */
strata_code strata_scratch_create(const char *server_url, strata_scratch **out, strata_error *err)
{
    if (!out)
        return api_null(err, __func__, "out");
    *out = NULL;
    db_url u = {0};
    const drv_ops *e = engine_by_dialect(DIALECT_SQLITE);
    strata_code rc = server_url ? url_parse(server_url, &u, err) : STRATA_OK;
    if (rc)
        return rc;
    if (u.ops && u.ops->scratch_create)
        e = u.ops;
    strata_scratch *s = calloc(1, sizeof(*s));
    if (!s) {
        url_release(&u);
        return err_set(err, STRATA_NOMEM, "out of memory");
    }
    s->ops = e;
    char rnd[13], prefix[64];
    random_suffix(rnd);
    /* the creation time in the name lets a later run drop what a killed one left */
    snprintf(prefix, sizeof(prefix), SCRATCH_PREFIX "%08lx%s", (unsigned long)time(NULL) & 0xffffffffUL, rnd);
    rc = e->scratch_create(u.ops ? &u : NULL, prefix, &s->url, &s->name, &s->admin_url, err);
    url_release(&u);
    if (rc) {
        strata_scratch_free(s);
        return rc;
    }
    *out = s;
    return STRATA_OK;
}

strata_code strata_scratch_drop(strata_scratch *s, strata_error *err)
{
    if (!s || s->dropped)
        return STRATA_OK;
    const char *base = strrchr(s->name, '/');
    base = base ? base + 1 : s->name;
    if (strncmp(base, SCRATCH_PREFIX, strlen(SCRATCH_PREFIX)) != 0)
        return err_set(err, STRATA_INTERNAL, "refusing to drop '%s': not a scratch database", s->name);
    strata_code rc = s->ops->scratch_drop(s->name, s->admin_url, err);
    if (!rc)
        s->dropped = 1;
    return rc;
}

/* ------------------------------------------------------------------ report */

const char *strata_check_state_name(strata_check_state st)
{
    static const char *names[] = {"ok", "failed", "irreversible", "skipped"};
    return (unsigned)st < 4 ? names[st] : "unknown";
}

static void entry_release(strata_check_entry *e)
{
    free(e->id);
    free(e->version);
    free(e->step);
    free(e->message);
    free(e->note);
    free(e->diff);
}

void strata_check_report_free(strata_check_report *r)
{
    if (!r)
        return;
    for (size_t i = 0; i < r->count; i++)
        entry_release(&r->migrations[i]);
    free(r->migrations);
    entry_release(&r->up_again);
    entry_release(&r->base);
    free(r);
}

static void entry_msg(strata_check_entry *e, strata_check_state st, const char *step, strata_code code,
                      const char *fmt, ...) ATTR_PRINTF(5, 6);

static void entry_msg(strata_check_entry *e, strata_check_state st, const char *step, strata_code code,
                      const char *fmt, ...)
{
    char msg[2048];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    e->state = st;
    free(e->step);
    free(e->message);
    e->step = step ? xstrdup(step) : NULL;
    e->message = xstrdup(msg);
    e->code = code;
}

/* Marks every entry in [from, to) skipped: "<why> <id><tail>". */
static void skip_range(strata_check_report *r, size_t from, size_t to, const char *why, const char *id,
                       const char *tail)
{
    for (size_t i = from; i < to; i++)
        entry_msg(&r->migrations[i], STRATA_CHECK_SKIPPED, NULL, STRATA_OK, "%s %s%s", why, id, tail);
}

/* --------------------------------------------------------------- the walk */

typedef struct walk {
    strata *db;
    const strata_migset *set;
    strata_check_report *r;
    buf kept_seen; /* enum values already reported as kept */
} walk;

/* Applies (+1) or reverts one migration. */
static strata_code step(walk *w, int down, strata_error *e)
{
    strata_run_opts o = {down ? NULL : "+1", 0};
    strata_result *res = NULL;
    strata_code rc = (down ? strata_down : strata_up)(w->db, w->set, &o, &res, e);
    if (!rc && res->count != 1)
        rc = err_set(e, STRATA_INTERNAL, "%s ran %zu migrations instead of one", down ? "down" : "up",
                     res->count);
    strata_result_free(res);
    return rc;
}

/* ----------------------------------------------- the schema, as compared */

/* Appends dump (of schema name) to b with each object's header line marked
   "[name] ", leaving out the lines about schemas off the search path. */
static void add_marked(buf *b, const char *name, const char *dump)
{
    for (const char *l = dump; *l;) {
        const char *nl = strchr(l, '\n');
        size_t n = nl ? (size_t)(nl - l) : strlen(l);
        int off_path =
            n > 32 && !strncmp(l, "schema ", 7) && !strncmp(l + n - 25, " (not on the search path)", 25);
        if (!off_path) {
            if (n && l[0] != ' ')
                buf_addf(b, "[%s] ", name);
            buf_add(b, l, n);
            buf_adds(b, "\n");
        }
        l += n + (nl != NULL);
    }
}

/*
 * The schema as check compares it: strata_schema_dump (the first schema of
 * the search path) and, on PostgreSQL, every other schema of the database,
 * each dumped with the search path set to it, its objects' header lines
 * marked "[schema] " -- so that a down that forgets a column, an index or a
 * function in audit.* is seen. The session's search path is reset after.
 */
static strata_code check_dump(strata *db, char **out, strata_error *err)
{
    strata_code rc = strata_schema_dump(db, out, err);
    if (rc || strcmp(strata_engine(db), "postgres") != 0)
        return rc;
    buf names; /* NUL-separated */
    buf_init(&names);
    rc = db->ops->query(db->d,
                        "SELECT nspname FROM pg_namespace WHERE nspname <> current_schema() "
                        "AND nspname NOT IN ('pg_catalog', 'information_schema') "
                        "AND nspname !~ '^pg_(toast|temp_|toast_temp_)' ORDER BY 1",
                        0, NULL, row_collect, &names, err);
    if (!rc && names.oom)
        rc = err_set(err, STRATA_NOMEM, "out of memory");
    buf b;
    buf_init(&b);
    buf_adds(&b, *out);
    for (size_t i = 0; !rc && i < names.len; i += strlen(names.data + i) + 1) {
        const char *p[1] = {names.data + i};
        char *sub = NULL;
        rc = db->ops->query(db->d, "SELECT set_config('search_path', quote_ident($1), false)", 1, p, NULL,
                            NULL, err);
        if (!rc)
            rc = strata_schema_dump(db, &sub, err);
        if (!rc && sub && *sub) {
            buf_addf(&b, "%s", b.len && b.data[b.len - 1] != '\n' ? "\n" : "");
            add_marked(&b, names.data + i, sub);
        }
        free(sub);
    }
    if (names.len) {
        strata_error ignore;
        db->ops->query(db->d, "RESET search_path", 0, NULL, NULL, NULL, &ignore);
    }
    buf_release(&names);
    if (!rc && b.oom)
        rc = err_set(err, STRATA_NOMEM, "out of memory");
    if (!rc) {
        free(*out);
        *out = buf_detach(&b);
    }
    buf_release(&b);
    return rc;
}

/*
 * Compares the live schema with expected. On a match returns 1 (a note about
 * kept enum values may be set on e); on a mismatch fills e as failed at
 * `what` and returns 0; -1 when the schema cannot be read (*err set).
 */
static int compare(walk *w, strata_check_entry *e, const char *what, const char *expected,
                   const char *exp_label, strata_error *err)
{
    char *actual = NULL;
    schema_delta d;
    if (check_dump(w->db, &actual, err))
        return -1;
    /* PostgreSQL: a down that adds back a dropped column puts it last */
    int tol = SCHEMA_TOLERATE_ENUM_VALUES |
              (!strcmp(strata_engine(w->db), "postgres") ? SCHEMA_TOLERATE_COLUMN_ORDER : 0);
    int same = schema_compare(expected, actual, tol, &d);
    if (same && d.moved.len) {
        buf n;
        buf_init(&n);
        buf_addf(&n,
                 "%s left the columns of table %s in another order (PostgreSQL adds a column back only "
                 "at the end; SELECT * and INSERT without a column list see the new order)",
                 what, d.moved.data);
        free(e->note);
        e->note = buf_detach(&n);
    }
    if (same) {
        if (d.kept.len && (!w->kept_seen.data || !strstr(w->kept_seen.data, d.kept.data))) {
            buf n;
            buf_init(&n);
            buf_addf(&n, "%s kept %s (PostgreSQL cannot drop enum values)", what, d.kept.data);
            free(e->note);
            e->note = buf_detach(&n);
            buf_adds(&w->kept_seen, d.kept.data);
            buf_adds(&w->kept_seen, "\n");
        }
    } else {
        buf m, diff, lab;
        buf_init(&m);
        buf_init(&diff);
        buf_init(&lab);
        int up = !strncmp(what, "up", 2);
        const char *parts[3][2] = {{up ? "created" : "left", d.extra.data},
                                   {up ? "did not create" : "removed", d.missing.data},
                                   {"changed", d.changed.data}};
        for (int i = 0; i < 3; i++) {
            if (!parts[i][1])
                continue;
            buf_addf(&m, "%s%s %s: %s", m.len ? "; " : "", what, parts[i][0], parts[i][1]);
        }
        if (!m.len)
            buf_addf(&m, "%s: the schema differs", what);
        buf_addf(&lab, "schema after %s", what);
        text_diff(expected, actual, exp_label, lab.data ? lab.data : what, 3, &diff);
        entry_msg(e, STRATA_CHECK_FAIL, what, STRATA_OK, "%s", m.data ? m.data : what);
        free(e->diff);
        e->diff = buf_detach(&diff);
        buf_release(&m);
        buf_release(&diff);
        buf_release(&lab);
    }
    schema_delta_release(&d);
    free(actual);
    return same;
}

static char *label(const char *a, const char *id, const char *b2)
{
    buf b;
    buf_init(&b);
    buf_addf(&b, "%s%s%s", a, id, b2);
    return buf_detach(&b);
}

/*
 * The round trip of migration i, which is applied and the newest: down must
 * give back S[i], up S[i + 1], down again S[i]. 1 when all matched, 0 when
 * a step failed (the entry says which), -1 when the schema could not be read.
 */
static int round_trip(walk *w, size_t i, char **S, size_t *level, strata_error *err)
{
    const migration *m = &w->set->migs[i];
    strata_check_entry *x = &w->r->migrations[i];
    char *before = label("schema before ", m->id, " (recorded on the way up)");
    char *after = label("schema after the first up of ", m->id, "");
    strata_error e;
    int ok = 0;
    if (step(w, 1, &e)) {
        entry_msg(x, STRATA_CHECK_FAIL, "down", e.code, "down failed: %s", e.message);
        goto out;
    }
    (*level)--;
    if ((ok = compare(w, x, "down", S[i], before, err)) != 1)
        goto out;
    if (step(w, 0, &e)) {
        entry_msg(x, STRATA_CHECK_FAIL, "up after down", e.code,
                  "up after down failed (the up is not repeatable after its down): %s", e.message);
        ok = 0;
        goto out;
    }
    (*level)++;
    if ((ok = compare(w, x, "up after down", S[i + 1], after, err)) != 1)
        goto out;
    if (step(w, 1, &e)) {
        entry_msg(x, STRATA_CHECK_FAIL, "down again", e.code, "down again failed: %s", e.message);
        ok = 0;
        goto out;
    }
    (*level)--;
    ok = compare(w, x, "down again", S[i], before, err);
out:
    free(before);
    free(after);
    return ok;
}

/* A schema dump of an empty database: nothing, or only lines naming
   schemas off the search path (a fresh database's public when the URL's
   search_path is app), which strata works outside of. */
static int dump_empty(const char *dump)
{
    static const char off[] = " (not on the search path)";
    for (const char *l = dump; *l;) {
        const char *e = strchr(l, '\n');
        size_t n = e ? (size_t)(e - l) : strlen(l);
        if (n && (strncmp(l, "schema ", 7) || n < sizeof(off) - 1 ||
                  memcmp(l + n - (sizeof(off) - 1), off, sizeof(off) - 1)))
            return 0;
        l += n + (e ? 1 : 0);
    }
    return 1;
}

static strata_code run_walk(walk *w, strata_error *err)
{
    const strata_migset *set = w->set;
    strata_check_report *r = w->r;
    size_t n = set->count, level = 0;
    int dialect = dialect_of_engine(strata_engine(w->db));
    char **S = calloc(n + 1, sizeof(char *));
    strata_code rc = STRATA_OK;
    strata_error e;
    if (!S)
        return err_set(err, STRATA_NOMEM, "out of memory");

    /* the database must be empty: never run migrations on real data */
    strata_status *hist = NULL;
    if ((rc = check_dump(w->db, &S[0], err)) || (rc = strata_history_get(w->db, &hist, err)))
        goto out;
    int applied = strcmp(hist->current, "base") != 0;
    strata_status_free(hist);
    if (!dump_empty(S[0]) || applied) {
        rc = err_set(err, STRATA_CONFIG_ERROR, "refusing to check on a database that is not empty");
        err_hint(err, "strata check runs on a scratch database it creates itself");
        goto out;
    }

    /* 1. up one at a time, recording the schema after each */
    for (size_t i = 0; i < n; i++) {
        const migration *m = &set->migs[i];
        if (step(w, 0, &e)) {
            if (e.code == STRATA_CONFIG_ERROR || e.code == STRATA_CONNECT_FAILED ||
                e.code == STRATA_INTERRUPTED) {
                /* the scratch session, not the migration (a role's
                   session_replication_role, a lost server, a signal): the
                   check itself fails with it */
                if (err)
                    *err = e;
                rc = e.code;
                goto out;
            }
            entry_msg(&r->migrations[i], STRATA_CHECK_FAIL, "up", e.code, "up failed: %s", e.message);
            skip_range(r, i + 1, n, "not applied: the up of", m->id, " failed");
            skip_range(r, 0, i, "not round-tripped: the up of", m->id, " failed");
            entry_msg(&r->up_again, STRATA_CHECK_SKIPPED, NULL, STRATA_OK, "not reached: the up of %s failed",
                      m->id);
            entry_msg(&r->base, STRATA_CHECK_SKIPPED, NULL, STRATA_OK, "not reached: the up of %s failed",
                      m->id);
            goto out;
        }
        level++;
        if ((rc = check_dump(w->db, &S[i + 1], err)))
            goto out;
    }

    /* 2. a second up applies nothing */
    strata_result *res = NULL;
    if (strata_up(w->db, set, NULL, &res, &e)) {
        entry_msg(&r->up_again, STRATA_CHECK_FAIL, "up again", e.code, "failed: %s", e.message);
    } else if (res->count) {
        buf ids;
        buf_init(&ids);
        for (size_t i = 0; i < res->count; i++)
            buf_addf(&ids, "%s%s_%s", i ? ", " : "", res->steps[i].version, res->steps[i].name);
        entry_msg(&r->up_again, STRATA_CHECK_FAIL, "up again", STRATA_OK, "applied %zu migration%s: %s",
                  res->count, res->count == 1 ? "" : "s", ids.data ? ids.data : "");
        buf_release(&ids);
    }
    strata_result_free(res);
    if (r->up_again.state == STRATA_CHECK_FAIL) {
        skip_range(r, 0, n, "not round-tripped:", "up again", " failed");
        entry_msg(&r->base, STRATA_CHECK_SKIPPED, NULL, STRATA_OK, "not reached: up again failed");
        goto out;
    }

    /* 3. newest first: down, up, down again */
    for (size_t i = n; i-- > 0;) {
        const migration *m = &set->migs[i];
        if (!mig_section(m, SEC_DOWN, dialect)) {
            entry_msg(&r->migrations[i], STRATA_CHECK_IRREVERSIBLE, NULL, STRATA_OK,
                      "no down section: round trip skipped; the down-walk stops here");
            skip_range(r, 0, i, "not checked: the down-walk stops at irreversible", m->id, "");
            break;
        }
        int ok = round_trip(w, i, S, &level, err);
        if (ok < 0) {
            rc = err->code;
            goto out;
        }
        if (!ok) {
            skip_range(r, 0, i, "not checked: the down-walk stopped at", m->id, "");
            break;
        }
    }

    /* 4. at base only the version table remains */
    if (level == 0) {
        strata_run_opts base = {"base", 0};
        if (strata_down(w->db, set, &base, NULL, &e))
            entry_msg(&r->base, STRATA_CHECK_FAIL, "down base", e.code, "down base failed: %s", e.message);
        else if (compare(w, &r->base, "down base", S[0], "empty schema (base)", err) < 0)
            rc = err->code;
    } else if (r->base.state == STRATA_CHECK_PASS) {
        size_t k = 0;
        while (k < n && r->migrations[k].state == STRATA_CHECK_SKIPPED)
            k++;
        entry_msg(&r->base, STRATA_CHECK_SKIPPED, NULL, STRATA_OK, "not reached: the down-walk stopped at %s",
                  k < n ? set->migs[k].id : "?");
    }
out:
    for (size_t i = 0; i <= n; i++)
        free(S[i]);
    free(S);
    return rc;
}

static strata_code entry_init(strata_check_entry *e, const char *id, const char *version)
{
    memset(e, 0, sizeof(*e));
    e->id = xstrdup(id);
    e->version = version ? xstrdup(version) : NULL;
    return e->id && (!version || e->version) ? STRATA_OK : STRATA_NOMEM;
}

strata_code strata_check_run(const char *url, const strata_migset *set, const strata_check_opts *opts,
                             strata_check_report **out, strata_error *err)
{
    strata_error local;
    if (!err)
        err = &local; /* the walk reads err->code */
    if (!url || !set || !out)
        return api_null(err, __func__, "url, set and out");
    *out = NULL;
    strata_code rc = strata_migset_check(set, err);
    if (rc)
        return rc;
    strata_config cfg = {.table = opts ? opts->table : NULL, .lock_timeout = opts ? opts->lock_timeout : -1};
    walk w = {NULL, set, NULL, {0}};
    if ((rc = strata_open(url, &cfg, &w.db, err)))
        return rc;
    /* a migration with no up section for the scratch engine is a parse
       error (SPEC section 2), named before anything runs */
    int dialect = dialect_of_engine(strata_engine(w.db));
    for (size_t i = 0; i < set->count; i++) {
        const migration *m = &set->migs[i];
        if (!mig_section(m, SEC_UP, dialect)) {
            err_set(err, STRATA_PARSE_ERROR, "migration %s has no up section for %s", m->id,
                    strata_engine(w.db));
            err_hint(err,
                     dialect == DIALECT_SQLITE
                         ? "check a PostgreSQL-only directory on a PostgreSQL server: --url postgresql://..."
                         : "add a '-- strata:up' section without dialect, or one with dialect=postgres");
            err_where(err, m->path, 0);
            strata_close(w.db);
            return STRATA_PARSE_ERROR;
        }
    }
    strata_check_report *r = calloc(1, sizeof(*r));
    if (!r || !(r->migrations = calloc(set->count ? set->count : 1, sizeof(strata_check_entry)))) {
        free(r);
        strata_close(w.db);
        return err_set(err, STRATA_NOMEM, "out of memory");
    }
    r->engine = strata_engine(w.db); /* a static string */
    r->count = set->count;
    for (size_t i = 0; !rc && i < set->count; i++)
        rc = entry_init(&r->migrations[i], set->migs[i].id, set->migs[i].version);
    if (!rc)
        rc = entry_init(&r->up_again, "up again", NULL);
    if (!rc)
        rc = entry_init(&r->base, "base", NULL);
    if (rc)
        err_set(err, rc, "out of memory");
    w.r = r;
    buf_init(&w.kept_seen);
    if (!rc)
        rc = run_walk(&w, err);
    buf_release(&w.kept_seen);
    strata_close(w.db);
    if (rc) {
        strata_check_report_free(r);
        return rc;
    }
    r->ok = r->up_again.state != STRATA_CHECK_FAIL && r->base.state != STRATA_CHECK_FAIL;
    for (size_t i = 0; i < r->count; i++)
        if (r->migrations[i].state == STRATA_CHECK_FAIL)
            r->ok = 0;
    *out = r;
    return STRATA_OK;
}

strata_code strata_check(const char *server_url, const strata_migset *set, const strata_check_opts *opts,
                         strata_check_report **out, strata_error *err)
{
    strata_scratch *s = NULL;
    if (!set || !out)
        return api_null(err, __func__, "set and out");
    *out = NULL;
    strata_code rc = strata_migset_check(set, err);
    if (!rc)
        rc = strata_scratch_create(server_url, &s, err);
    if (rc)
        return rc;
    rc = strata_check_run(strata_scratch_url(s), set, opts, out, err);
    strata_error e2;
    strata_code drc = strata_scratch_drop(s, rc ? &e2 : err);
    strata_scratch_free(s);
    if (!rc && drc) {
        strata_check_report_free(*out);
        *out = NULL;
        return drc;
    }
    return rc;
}
