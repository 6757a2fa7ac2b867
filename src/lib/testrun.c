/*
 * testrun.c -- migration tests (`strata test`), docs/testing.md.
 *
 * A test file is a list of steps, each opened by a marker line:
 *
 *   -- strata:at VERSION       migrate the scratch database to VERSION, then
 *                              run the SQL below it (data as it looked then)
 *   -- strata:up [TARGET]      upgrade (default head), then run the SQL below
 *   -- strata:down [TARGET]    downgrade (default one step), then the SQL below
 *   -- strata:run              run the SQL below
 *   -- strata:expect           every row-returning statement below must give
 *                              true in its first column (as verify sections)
 *
 * Each marker takes `dialect=postgres|sqlite` to apply to one engine only.
 * Every file runs on its own fresh scratch database.
 */
#include "internal.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

enum { ST_AT, ST_UP, ST_DOWN, ST_RUN, ST_EXPECT };

typedef struct step {
    int kind;
    int dialect;
    char *target;
    char *sql;
    int line; /* line of the first body line */
} step;

typedef struct steps {
    step *v;
    size_t n, cap;
} steps;

static void steps_release(steps *s)
{
    for (size_t i = 0; i < s->n; i++) {
        free(s->v[i].target);
        free(s->v[i].sql);
    }
    free(s->v);
}

static int is_blank(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if (isspace((unsigned char)s[i]))
            continue;
        if (s[i] == '-' && i + 1 < n && s[i + 1] == '-') {
            while (i < n && s[i] != '\n')
                i++;
            continue;
        }
        return 0;
    }
    return 1;
}

/* Parses one marker line; 1 marker, 0 not a marker, -1 malformed (msg). */
static int test_marker(const char *l, size_t n, step *st, char *msg, size_t msgsz)
{
    static const char *kinds[] = {"at", "up", "down", "run", "expect"};
    size_t w = 0, i = marker_word(l, n, &w);
    if (!i)
        return 0;
    memset(st, 0, sizeof(*st));
    st->kind = -1;
    for (int k = 0; k < 5; k++)
        if (strlen(kinds[k]) == i - w && !strncmp(l + w, kinds[k], i - w))
            st->kind = k;
    if (st->kind < 0) {
        snprintf(msg, msgsz, "unknown test marker 'strata:%.*s' (expected at, up, down, run or expect)",
                 (int)(i - w), l + w);
        return -1;
    }
    for (;;) {
        while (i < n && (l[i] == ' ' || l[i] == '\t'))
            i++;
        if (i >= n)
            break;
        size_t o = i;
        while (i < n && l[i] != ' ' && l[i] != '\t')
            i++;
        if (i - o > 8 && !strncmp(l + o, "dialect=", 8)) {
            char d[32];
            snprintf(d, sizeof(d), "%.*s", (int)(i - o - 8), l + o + 8);
            if ((st->dialect = dialect_of_engine(d)) <= 0) {
                snprintf(msg, msgsz, "unknown dialect '%s'", d);
                return -1;
            }
        } else if (!st->target && (st->kind == ST_AT || st->kind == ST_UP || st->kind == ST_DOWN)) {
            st->target = xstrndup(l + o, i - o);
        } else {
            snprintf(msg, msgsz, "unexpected '%.*s' after the marker", (int)(i - o), l + o);
            free(st->target);
            st->target = NULL;
            return -1;
        }
    }
    if (st->kind == ST_AT && !st->target) {
        snprintf(msg, msgsz, "'strata:at' needs a version");
        return -1;
    }
    return 1;
}

static strata_code parse_test(const char *path, const char *text, steps *out, strata_error *err)
{
    size_t pos = 0, len = strlen(text), body = 0;
    int lineno = 0;
    char msg[300];
    memset(out, 0, sizeof(*out));
    while (pos <= len) {
        size_t eol = pos;
        while (eol < len && text[eol] != '\n')
            eol++;
        lineno++;
        step st;
        int r = test_marker(text + pos, eol - pos, &st, msg, sizeof(msg));
        if (r < 0) {
            err_set(err, STRATA_PARSE_ERROR, "%s:%d: %s", path, lineno, msg);
            err_where(err, path, lineno);
            return STRATA_PARSE_ERROR;
        }
        if (r > 0) {
            if (out->n)
                out->v[out->n - 1].sql = xstrndup(text + body, pos - body);
            else if (!is_blank(text, pos)) {
                free(st.target);
                err_set(err, STRATA_PARSE_ERROR, "%s:1: SQL before the first '-- strata:' marker", path);
                err_where(err, path, 1);
                return STRATA_PARSE_ERROR;
            }
            if (ARR_GROW(out->v, out->cap, out->n + 1)) {
                free(st.target);
                return err_set(err, STRATA_NOMEM, "out of memory");
            }
            st.line = lineno + 1;
            out->v[out->n++] = st;
            body = eol < len ? eol + 1 : len;
        }
        if (eol >= len)
            break;
        pos = eol + 1;
    }
    if (!out->n) {
        err_set(err, STRATA_PARSE_ERROR, "%s: no '-- strata:' steps", path);
        err_where(err, path, 0);
        return STRATA_PARSE_ERROR;
    }
    out->v[out->n - 1].sql = xstrndup(text + body, len - body);
    return STRATA_OK;
}

/* Moves db to exactly target (up or down as needed). */
static strata_code migrate_to(strata *db, const strata_migset *set, const char *target, strata_error *err)
{
    strata_run_opts up = {target, 0}, down = {target, 0};
    strata_code rc = STRATA_OK;
    if (strcmp(target, "base") != 0)
        rc = strata_up(db, set, &up, NULL, err);
    if (!rc && strcmp(target, "head") != 0)
        rc = strata_down(db, set, &down, NULL, err);
    return rc;
}

static void case_fail(strata_test_case *tc, const strata_error *e)
{
    tc->ok = 0;
    free(tc->message);
    tc->message = xstrdup(e->message);
    tc->line = e->line;
}

/* The first statement of an expect step that would end its transaction. */
struct txfind {
    int line;
    char word[16];
};

static int txfind_fn(void *ud, const sql_stmt *st)
{
    struct txfind *t = ud;
    if (!sql_is_txn_control(st))
        return 0;
    t->line = st->line;
    memcpy(t->word, st->first, sizeof(t->word));
    return 1;
}

strata_code strata_test_file(const char *server_url, const strata_migset *set, const char *path,
                             strata_test_case *tc, strata_error *err)
{
    if (!set || !path || !tc)
        return api_null(err, __func__, "set, path and tc");
    memset(tc, 0, sizeof(*tc));
    tc->file = xstrdup(path);
    strata_code rc = strata_migset_check(set, err);
    if (rc)
        return rc;
    char *text = NULL;
    size_t len;
    const char *kind;
    int got = read_regular_file(AT_FDCWD, path, &text, &len, &kind);
    if (got != READ_OK) {
        char msg[1024];
        strata_code code = read_failure(got, kind, "test file ", path, msg, sizeof(msg));
        return err_set(err, code, "%s", msg);
    }
    steps s;
    rc = parse_test(path, text, &s, err);
    free(text);
    if (rc)
        return rc;
    double t0 = clock_ms();
    strata_scratch *scratch = NULL;
    strata *db = NULL;
    rc = strata_scratch_create(server_url, &scratch, err);
    strata_config cfg = {.lock_timeout = 60};
    if (!rc)
        rc = strata_open(strata_scratch_url(scratch), &cfg, &db, err);
    tc->ok = 1;
    for (size_t i = 0; !rc && tc->ok && i < s.n; i++) {
        step *st = &s.v[i];
        strata_error e;
        strata_error_clear(&e);
        if (st->dialect && st->dialect != db->ops->dialect)
            continue;
        tc->steps++;
        strata_code r = STRATA_OK;
        if (st->kind == ST_AT) {
            r = migrate_to(db, set, st->target, &e);
        } else if (st->kind == ST_UP) {
            strata_run_opts o = {st->target, 0};
            r = strata_up(db, set, &o, NULL, &e);
        } else if (st->kind == ST_DOWN) {
            strata_run_opts o = {st->target, 0};
            r = strata_down(db, set, &o, NULL, &e);
        }
        if (!r && st->kind == ST_EXPECT) {
            /* like a verify section: in a transaction always rolled back,
               so an expectation cannot change what the next one sees --
               and, as in a verify section, no statement may end it */
            strata_error ignore;
            struct txfind tf = {0, ""};
            if (sql_split(st->sql, strlen(st->sql), db->ops->dialect, txfind_fn, &tf)) {
                r = err_set(&e, STRATA_PARSE_ERROR,
                            "%s:%d: '%s' in an expect step would end its transaction (an expectation runs "
                            "in one that is always rolled back)",
                            path, st->line + tf.line - 1, tf.word);
                err_where(&e, path, st->line + tf.line - 1);
                err_hint(&e, "leave transaction control out of expectations: they only read");
            } else {
                r = db->ops->begin(db->d, 60, &e);
            }
            if (!r) {
                r = db->ops->verify(db->d, st->sql, path, st->line, &e);
                db->ops->query(db->d, "ROLLBACK", 0, NULL, NULL, NULL, &ignore);
                char *v = r ? strstr(e.message, "verify query returned") : NULL;
                if (v) { /* in a test it is an expectation: "verify query" -> "expectation" */
                    memcpy(v, "expectation", 11);
                    memmove(v + 11, v + 12, strlen(v + 12) + 1);
                }
            }
            tc->expectations++;
        } else if (!r && !is_blank(st->sql, strlen(st->sql))) {
            r = db->ops->exec_script(db->d, st->sql, path, st->line, &e);
        }
        if (r && st->kind != ST_EXPECT && st->kind != ST_RUN && strncmp(e.message, path, strlen(path))) {
            /* a marker's migration step failed (no such version, an
               irreversible or failing migration, whose own file:line may
               follow): point at the marker in the test file first */
            char where[300];
            int wn = snprintf(where, sizeof(where), "%s:%d: ", path, st->line > 1 ? st->line - 1 : 1);
            size_t w = wn > 0 && (size_t)wn < sizeof(where) ? (size_t)wn : 0, ml = strlen(e.message);
            if (w + ml >= sizeof(e.message))
                ml = sizeof(e.message) - 1 - w;
            memmove(e.message + w, e.message, ml);
            memcpy(e.message, where, w);
            e.message[w + ml] = 0;
            snprintf(e.file, sizeof(e.file), "%s", path);
            e.line = st->line > 1 ? st->line - 1 : 1;
        }
        if (r)
            case_fail(tc, &e);
    }
    strata_close(db);
    if (scratch) {
        strata_error e2;
        strata_code drc = strata_scratch_drop(scratch, &e2);
        if (drc == STRATA_INTERRUPTED) /* the signal cancelled the drop itself: a new one is not */
            drc = strata_scratch_drop(scratch, &e2);
        if (!rc && drc) {
            if (err)
                *err = e2;
            rc = drc;
        }
    }
    strata_scratch_free(scratch);
    steps_release(&s);
    tc->duration_ms = (long)(clock_ms() - t0);
    return rc;
}

void strata_test_case_release(strata_test_case *tc)
{
    if (!tc)
        return;
    free(tc->file);
    free(tc->message);
    memset(tc, 0, sizeof(*tc));
}
