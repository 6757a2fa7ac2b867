/*
 * sqlgen.c -- SQL text that strata runs, rendered for dry runs and `strata
 * sql`, and the version table's DDL; plus `strata new`.
 */
#include "sqlgen.h"
#include "vtable.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <sys/file.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

void sqlgen_create_table(buf *b, int dialect, const char *qtable)
{
    vt_create(b, dialect, qtable);
}

struct emit_ctx {
    buf *b;
};

static int emit_stmt(void *ud, const sql_stmt *st)
{
    buf *b = ((struct emit_ctx *)ud)->b;
    size_t n = st->len;
    while (n && isspace((unsigned char)st->text[n - 1]))
        n--;
    buf_add(b, st->text, n);
    /* a trailing line comment would swallow the semicolon */
    const char *lastnl = NULL;
    for (size_t i = 0; i < n; i++)
        if (st->text[i] == '\n')
            lastnl = st->text + i;
    const char *tail = lastnl ? lastnl : st->text;
    size_t tl = (size_t)(st->text + n - tail);
    int comment = 0;
    for (size_t i = 0; i + 1 < tl; i++)
        if (tail[i] == '-' && tail[i + 1] == '-')
            comment = 1;
    buf_adds(b, comment ? "\n;\n" : ";\n");
    return 0;
}

void sqlgen_statements(buf *b, const char *sql, int dialect)
{
    struct emit_ctx c = {b};
    sql_split(sql, strlen(sql), dialect, emit_stmt, &c);
}

/* Name of the CHECK constraint whose failure stops a SQLite script that
   does not match the database (the sqlite3 shell shows only the name). */
#define SQLITE_EXPECT_CHECK "strata: the database is not where this script expects"

/*
 * A statement that fails unless the version table records m as applied
 * (applied = 1; 2: applied or failed, a down that finishes or reverts a
 * failed run, as strata down does) or holds no row of m at all (applied = 0); what says why
 * the script needs it. A script that a client runs to the first error
 * (psql -v ON_ERROR_STOP=1, sqlite3 with .bail on) then stops before it
 * changes anything: run twice, on a database at another version, or next
 * to another run. PostgreSQL: a DO block that locks the row, so a second
 * run at the same time waits for the first and then fails; SQLite (one
 * writer at a time): a row for a temporary table whose CHECK fails.
 */
static void expect_state(buf *b, int dialect, const char *qtable, const migration *m, int applied,
                         const char *what)
{
    buf msg, body;
    buf_init(&msg);
    buf_init(&body);
    buf_addf(&msg, "strata: migration %s is %s (%s)", m->id, applied ? "not applied" : "on record", what);
    if (dialect == DIALECT_POSTGRES) {
        buf_adds(&body, "BEGIN PERFORM 1 FROM ");
        buf_adds(&body, qtable);
        buf_adds(&body, " WHERE version = ");
        buf_add_sqlstr(&body, m->version);
        buf_adds(&body, applied == 2 ? " AND state IN ('applied', 'failed') FOR UPDATE; IF NOT FOUND"
                        : applied    ? " AND state = 'applied' FOR UPDATE; IF NOT FOUND"
                                     : "; IF FOUND");
        buf_adds(&body, " THEN RAISE EXCEPTION USING MESSAGE = ");
        buf_add_sqlstr(&body, msg.data ? msg.data : "");
        buf_adds(&body,
                 ", HINT = 'check strata status; render the script again with the right --from'; END IF; "
                 "END");
        buf_adds(b, "DO ");
        buf_add_sqlstr(b, body.data ? body.data : "");
        buf_adds(b, ";\n");
    } else {
        buf_adds(b, "CREATE TEMP TABLE IF NOT EXISTS strata_expect (what text NOT NULL, ok integer NOT NULL, "
                    "CONSTRAINT \"" SQLITE_EXPECT_CHECK "\" CHECK (ok = 1));\n");
        buf_adds(b, "INSERT INTO strata_expect SELECT ");
        buf_add_sqlstr(b, msg.data ? msg.data : "");
        buf_adds(b, applied ? ", count(*) FROM " : ", count(*) = 0 FROM ");
        buf_adds(b, qtable);
        buf_adds(b, " WHERE version = ");
        buf_add_sqlstr(b, m->version);
        buf_adds(b, applied == 2 ? " AND state IN ('applied', 'failed');\n"
                    : applied    ? " AND state = 'applied';\n"
                                 : ";\n");
    }
    if (msg.oom || body.oom)
        b->oom = 1;
    buf_release(&msg);
    buf_release(&body);
}

/* Name of the CHECK constraint whose failure stops a SQLite script at a
   verify query that returned false or no row. */
#define SQLITE_VERIFY_CHECK "strata: a verify query returned false or no rows"

/* The index of the first of words (NULL-terminated) among t[from..n) at
   parenthesis depth 0, or n. */
static size_t depth0_word(const sql_tok *t, size_t n, size_t from, const char *const *words)
{
    int depth = 0;
    for (size_t i = from; i < n; i++) {
        if (tok_punct(&t[i], '('))
            depth++;
        else if (tok_punct(&t[i], ')'))
            depth--;
        else if (!depth)
            for (int k = 0; words[k]; k++)
                if (tok_is(&t[i], words[k]))
                    return i;
    }
    return n;
}

/* The index of a statement's main keyword: its first token, or past a WITH
   list the first depth-0 SELECT, VALUES, INSERT, UPDATE, DELETE or MERGE
   (n when there is none). */
static size_t main_keyword(const sql_tok *t, size_t n)
{
    static const char *const kw[] = {"SELECT", "VALUES", "INSERT", "UPDATE", "DELETE", "MERGE", NULL};
    return n && tok_is(&t[0], "WITH") ? depth0_word(t, n, 1, kw) : 0;
}

/* Whether the SELECT at t[sel] lists exactly one column: no depth-0 comma
   and no '*' before its FROM (or whatever ends the list). */
static int one_column(const sql_tok *t, size_t n, size_t sel)
{
    static const char *end[] = {"FROM",  "WHERE", "GROUP",  "HAVING",    "WINDOW", "ORDER",
                                "LIMIT", "UNION", "EXCEPT", "INTERSECT", NULL};
    int depth = 0;
    for (size_t i = sel + 1; i < n; i++) {
        if (tok_punct(&t[i], '('))
            depth++;
        else if (tok_punct(&t[i], ')'))
            depth--;
        else if (depth)
            continue;
        else if (tok_punct(&t[i], ',') || tok_punct(&t[i], '*'))
            return 0;
        else
            for (int k = 0; end[k]; k++)
                if (tok_is(&t[i], end[k]))
                    return 1;
    }
    return 1;
}

/* How a verify statement can be checked by the script itself: 0 not a
   query (it runs as it is), 1 checked, -1 a query the script cannot check
   (SQLite: more than one column, or not a SELECT; EXPLAIN, PRAGMA, SHOW,
   RETURNING). */
static int verify_kind(const sql_stmt *st, int dialect)
{
    char *text = malloc(st->len + 1);
    if (!text)
        return -1;
    memcpy(text, st->text, st->len);
    text[st->len] = 0;
    sql_tok *t = NULL;
    size_t n = sql_tokenize(text, &t);
    static const char *const returning[] = {"RETURNING", NULL};
    int kind = 0;
    if (n != (size_t)-1 && n) {
        size_t k = main_keyword(t, n);
        int query =
            k < n && (tok_is(&t[k], "SELECT") || tok_is(&t[k], "VALUES") || (!k && tok_is(&t[k], "TABLE")));
        if (query && dialect == DIALECT_POSTGRES)
            kind = 1;
        else if (query)
            kind = tok_is(&t[k], "SELECT") && one_column(t, n, k) ? 1 : -1;
        else if (tok_is(&t[0], "EXPLAIN") || tok_is(&t[0], "PRAGMA") || tok_is(&t[0], "SHOW") ||
                 depth0_word(t, n, 0, returning) < n)
            kind = -1; /* rows that only strata's runner can check */
    }
    free(t);
    free(text);
    return kind;
}

struct verify_ctx {
    buf *b;
    int dialect;
    const migration *m;
    int line0; /* the file's line of the section's first line */
};

/*
 * One statement of a verify section, checked as strata checks it: the
 * first column of the first row must be there and not NULL, false, 0 or
 * 0.0 (pg_driver.c, sq_driver.c), else the script stops. PostgreSQL: a DO
 * block reads that column through row_to_json, whatever the columns;
 * SQLite: a row for a temporary table whose CHECK fails.
 */
static int emit_verify(void *ud, const sql_stmt *st)
{
    struct verify_ctx *c = ud;
    int kind = verify_kind(st, c->dialect);
    int line = c->line0 + st->line - 1;
    if (kind <= 0) {
        if (kind < 0)
            buf_addf(c->b, "-- %s:%d: verify query not checked by this script: read its result\n", c->m->path,
                     line);
        struct emit_ctx e = {c->b};
        return emit_stmt(&e, st);
    }
    size_t n = st->len;
    while (n && isspace((unsigned char)st->text[n - 1]))
        n--;
    buf msg;
    buf_init(&msg);
    buf_addf(&msg, "strata: %s:%d: verify query returned false or no rows", c->m->path, line);
    if (c->dialect == DIALECT_POSTGRES) {
        /* a dollar-quote tag the statement does not hold; the pattern has
           no backslash, so it means the same under standard_conforming_strings
           off (a role's or database's setting) */
        char tag[40] = "$strata_verify$";
        for (int k = 1; memmem(st->text, n, tag, strlen(tag)); k++)
            snprintf(tag, sizeof(tag), "$strata_verify%d$", k);
        buf_addf(
            c->b,
            "DO %s BEGIN IF NOT coalesce((SELECT NOT (value IS NULL OR lower(btrim(value)) IN ('f', 'false') "
            "OR value ~ '^[[:space:]]*[-+]?(0+[.]?0*|[.]0+)([eE][-+]?[0-9]+)?[[:space:]]*$') "
            "FROM json_each_text((SELECT row_to_json(strata_q) FROM (\n",
            tag);
        buf_add(c->b, st->text, n);
        buf_adds(c->b, "\n) strata_q LIMIT 1)) LIMIT 1), false) THEN RAISE EXCEPTION USING MESSAGE = ");
        buf_add_sqlstr(c->b, msg.data ? msg.data : "");
        buf_addf(c->b, "; END IF; END %s;\n", tag);
    } else {
        buf_adds(c->b,
                 "CREATE TEMP TABLE IF NOT EXISTS strata_verify (what text NOT NULL, ok integer NOT NULL, "
                 "CONSTRAINT \"" SQLITE_VERIFY_CHECK "\" CHECK (ok = 1));\n");
        buf_addf(c->b, "-- %s:%d\n", c->m->path, line);
        buf_adds(c->b, "INSERT INTO strata_verify SELECT ");
        buf_add_sqlstr(c->b, msg.data ? msg.data : "");
        buf_adds(c->b, ", NOT (v IS NULL OR lower(trim(v)) IN ('false', 'f') OR (CAST(v AS REAL) = 0 AND "
                       "trim(v) <> '' AND "
                       "trim(v) NOT GLOB '*[^0-9.eE+-]*' AND trim(v) GLOB '*[0-9]*')) FROM (SELECT CAST((\n");
        buf_add(c->b, st->text, n);
        buf_adds(c->b, "\n) AS TEXT) AS v);\n");
    }
    if (msg.oom)
        c->b->oom = 1;
    buf_release(&msg);
    return 0;
}

/* The INSERT of m's record (state "applied" or "failed" with error) as up
   writes it: the checksums of this dialect's sections, applied_at = now. */
static void record(buf *b, const migration *m, const section *up, int dialect, const char *qtable,
                   const char *state, const char *error)
{
    char upsum[65];
    sql_norm_checksum(up ? up->sql : "", upsum);
    const char *vals[VT_NVALS];
    vals[VT_VERSION] = m->version;
    vals[VT_NAME] = m->name;
    vals[VT_CHECKSUM] = m->checksum ? m->checksum : "";
    vals[VT_DURATION_MS] = "0";
    vals[VT_STATE] = state;
    vals[VT_ERROR] = error;
    vals[VT_UP_CHECKSUM] = upsum;
    vt_insert(b, dialect, qtable, vals);
    buf_adds(b, ";\n");
}

static void forget(buf *b, const migration *m, const char *qtable)
{
    const char *vals[1] = {m->version};
    vt_delete(b, qtable, vals);
    buf_adds(b, ";\n");
}

/* the session as it opened, as strata up's session_reset gives it (RESET
   ALL sets client_encoding back too) */
#define PG_SCRIPT_RESET "RESET ALL;\nSET client_encoding = 'UTF8';\n"

/*
 * The records are written as run_step (engine.c) writes them. A
 * transactional section: one transaction with its record; a second run
 * fails on the record's primary key (up) or on expect_state (down)
 * before it commits anything. A no-transaction section: first a record
 * "failed" in its own commit -- on up an INSERT without a DELETE, so that
 * a second run (or one next to strata up) fails on the primary key before
 * any statement runs -- then the statements, then the final record. A
 * script stopped in between leaves the same "failed" record as up, which
 * status shows and up refuses until --retry-failed.
 */
void sqlgen_step(buf *b, const migration *m, int dialect, const char *qtable, int down)
{
    const section *s = mig_section(m, down ? SEC_DOWN : SEC_UP, dialect);
    const section *up = down ? mig_section(m, SEC_UP, dialect) : s;
    int notx = s && s->notx;
    /* SQLite: foreign keys off before each transaction, as strata up's
       sq_begin does -- a no-transaction section that turned them on must
       not make a later migration's DROP TABLE cascade to child rows */
    const char *fk_off = dialect == DIALECT_SQLITE ? "PRAGMA foreign_keys = OFF;\n" : "";
    buf_addf(b, "-- %s (%s%s)\n%s", m->id, down ? "down" : "up", notx ? ", no-transaction" : "", fk_off);
    if (notx) {
        if (down) {
            buf_adds(b, "BEGIN;\n");
            expect_state(b, dialect, qtable, m, 2, "this script reverts it");
            forget(b, m, qtable);
            record(b, m, up, dialect, qtable, "failed", "down interrupted before completion");
            buf_adds(b, "COMMIT;\n");
        } else {
            record(b, m, up, dialect, qtable, "failed", "interrupted before completion");
        }
    } else {
        buf_adds(b, "BEGIN;\n");
        if (down)
            expect_state(b, dialect, qtable, m, 2, "this script reverts it");
    }
    if (s)
        sqlgen_statements(b, s->sql, dialect);
    /* SQLite: a section that wrote sqlite_schema itself (a .dump of a
       virtual table) has the schema read again, as strata up does */
    if (dialect == DIALECT_SQLITE && s && s->sql && c_strcasestr(s->sql, "writable_schema"))
        buf_adds(b, "PRAGMA writable_schema = RESET;\n");
    /* PostgreSQL: a no-transaction section that ended inside a transaction
       it began (BEGIN without COMMIT) stops the script there, as strata up
       stops -- the record's COMMIT would commit it */
    if (notx && dialect != DIALECT_SQLITE && s && s->sql) {
        int at = sql_tx_opener(s->sql, dialect, NULL);
        if (at) {
            buf msg;
            buf_init(&msg);
            buf_addf(&msg,
                     "strata: %s:%d: the no-transaction section ended inside the transaction begun here (no "
                     "COMMIT after it)",
                     m->path, s->line + at - 1);
            buf_adds(b,
                     "DO $strata_open$ BEGIN IF txid_current_if_assigned() IS NOT NULL THEN RAISE EXCEPTION "
                     "USING MESSAGE = ");
            buf_add_sqlstr(b, msg.data ? msg.data : "");
            buf_adds(b, "; END IF; END $strata_open$;\n");
            buf_release(&msg);
        }
    }
    const section *v = down ? NULL : mig_section(m, SEC_VERIFY, dialect);
    if (v) {
        buf_adds(b, notx ? "BEGIN; -- verify\n" : "SAVEPOINT strata_verify;\n");
        struct verify_ctx vc = {b, dialect, m, v->line};
        sql_split(v->sql, strlen(v->sql), dialect, emit_verify, &vc);
        buf_adds(b, notx ? "ROLLBACK;\n"
                         : "ROLLBACK TO SAVEPOINT strata_verify;\nRELEASE SAVEPOINT strata_verify;\n");
    }
    if (notx) /* its settings end before its record, as with up */
        buf_adds(b, dialect == DIALECT_SQLITE ? "PRAGMA query_only = 0;\n" : PG_SCRIPT_RESET);
    if (notx)
        buf_addf(b, "%sBEGIN;\n", fk_off);
    /* PostgreSQL: the record is written under the session's own
       search_path, whatever the migration SET (a pg_dump header empties
       it), as strata up finds its table; SET LOCAL, so only until COMMIT */
    if (dialect != DIALECT_SQLITE && s && s->sql && c_strcasestr(s->sql, "search_path"))
        buf_adds(b, "DO 'BEGIN PERFORM set_config(''search_path'', reset_val, true) FROM pg_settings WHERE "
                    "name = ''search_path''; END';\n");
    if (down || notx)
        forget(b, m, qtable);
    if (!down)
        record(b, m, up, dialect, qtable, "applied", NULL);
    /* PostgreSQL: the next migration starts with the session as it was,
       as strata up's RESET ALL gives it (a migration's session-level SET
       stays in that migration) */
    buf_adds(b, dialect == DIALECT_SQLITE ? "COMMIT;\n\n" : "COMMIT;\n" PG_SCRIPT_RESET "\n");
}

/* Index of the migration named by target; -1 for "base", count-1 for
   "head"/NULL (when def_head), -2 when not found. */
static long resolve(const strata_migset *set, const char *target, int def_head)
{
    if (!target)
        return def_head ? (long)set->count - 1 : -1;
    if (!strcmp(target, "base"))
        return -1;
    if (!strcmp(target, "head"))
        return (long)set->count - 1;
    const migration *m = migset_find(set, target);
    return m ? (long)(m - set->migs) : -2;
}

static strata_code render(const strata_migset *set, const char *dialect_name, int dialect, const char *qtable,
                          const char *from, const char *to, int down, char **out, strata_error *err)
{
    strata_code rc = strata_migset_check(set, err);
    if (rc)
        return rc;
    long a = resolve(set, from, down), b = resolve(set, to, !down);
    if (a == -2 || b == -2)
        return target_not_found(set, a == -2 ? from : to, TARGET_RANGE, err);
    if (down ? b > a : a > b) {
        /* a range backwards renders nothing: say so rather than print an empty script */
        err_set(err, STRATA_USAGE, "--from %s is %s --to %s: the range is empty",
                from   ? from
                : down ? "head"
                       : "base",
                down ? "below" : "above",
                to     ? to
                : down ? "base"
                       : "head");
        err_hint(err, down ? "down runs from --from (newer) down to --to (older)"
                           : "up runs from --from (older) up to --to (newer); --down renders the way back");
        return STRATA_USAGE;
    }
    buf o;
    buf_init(&o);
    /* a client that goes on after an error would commit the rest of a
       failed migration's transaction (SQLite keeps it open) and run the
       migrations after it: the script is for a client that stops */
    if (dialect == DIALECT_POSTGRES) {
        /* the file is UTF-8, whatever PGCLIENTENCODING the client runs with */
        buf_adds(&o, "-- strata sql: run with psql -v ON_ERROR_STOP=1 -f FILE (stop at the first error)\n"
                     "SET client_encoding = 'UTF8';\n");
    } else {
        buf_adds(&o, "-- strata sql: run with sqlite3 DB < FILE; .bail on stops it at the first error\n"
                     ".bail on\n");
    }
    sqlgen_create_table(&o, dialect, qtable);
    buf_adds(&o, ";\n\n");
    if (!down && a >= 0) {
        /* on a database below --from the script would leave a hole */
        buf_addf(&o, "-- this script starts after %s\n", set->migs[a].id);
        expect_state(&o, dialect, qtable, &set->migs[a], 1, "this script starts after it");
        buf_adds(&o, "\n");
    }
    if (down && a + 1 < (long)set->count) {
        /* on a database above --from the script would leave a hole */
        buf_addf(&o, "-- this script reverts what is below %s\n", set->migs[a + 1].id);
        expect_state(&o, dialect, qtable, &set->migs[a + 1], 0,
                     "this script reverts the migrations below it");
        buf_adds(&o, "\n");
    }
    if (!down) {
        for (long i = a + 1; i <= b; i++) {
            const migration *m = &set->migs[i];
            if (!mig_section(m, SEC_UP, dialect)) {
                buf_release(&o);
                err_set(err, STRATA_PARSE_ERROR, "no up section for %s in '%s'", dialect_name, m->path);
                err_where(err, m->path, 1);
                return STRATA_PARSE_ERROR;
            }
            strata_code sc = mig_section_check(m, SEC_UP, dialect, err);
            if (sc) {
                buf_release(&o);
                return sc;
            }
            sqlgen_step(&o, m, dialect, qtable, 0);
        }
    } else {
        for (long i = a; i > b; i--) {
            const migration *m = &set->migs[i];
            if (!mig_section(m, SEC_DOWN, dialect)) {
                buf_release(&o);
                err_set(err, STRATA_IRREVERSIBLE, "migration %s has no down section", m->id);
                err_hint(err, "add a '-- strata:down' section (an empty one is a valid no-op)");
                err_where(err, m->path, 0);
                return STRATA_IRREVERSIBLE;
            }
            strata_code sc = mig_section_check(m, SEC_DOWN, dialect, err);
            if (sc) {
                buf_release(&o);
                return sc;
            }
            sqlgen_step(&o, m, dialect, qtable, 1);
        }
    }
    *out = buf_detach(&o);
    return *out ? STRATA_OK : err_set(err, STRATA_NOMEM, "out of memory");
}

strata_code strata_sql_render(const strata_migset *set, const char *dialect_name, const char *table,
                              const char *from, const char *to, int down, char **out, strata_error *err)
{
    if (!set || !out)
        return api_null(err, __func__, "set and out");
    *out = NULL;
    int dialect = dialect_of_engine(dialect_name ? dialect_name : "postgres");
    if (dialect <= 0)
        return err_set(err, STRATA_USAGE, "unknown dialect '%s' (expected postgres or sqlite)", dialect_name);
    char *qtable = ident_dup(table && *table ? table : STRATA_DEFAULT_TABLE); /* as strata_open */
    strata_code rc = qtable ? render(set, dialect_name, dialect, qtable, from, to, down, out, err)
                            : err_set(err, STRATA_NOMEM, "out of memory");
    free(qtable);
    return rc;
}

/* Adds one to a digit string in place (it has room for one more digit). */
static void digits_inc(char *s)
{
    size_t n = strlen(s);
    for (size_t i = n; i-- > 0;) {
        if (s[i] < '9') {
            s[i]++;
            return;
        }
        s[i] = '0';
    }
    memmove(s + 1, s, n + 1);
    s[0] = '1';
}

static const char template_text[] =
    "-- strata:up\n"
    "-- Write the change here; statements end with ';'.\n"
    "\n\n"
    "-- strata:down\n"
    "-- Undo the change here. An empty section is a no-op; delete the section\n"
    "-- to make the migration irreversible.\n"
    "\n";

/* ASCII for the Latin letters U+00C0..U+017F, two bytes each ("a ", "ss");
   "__" marks the two that are not letters (U+00D7, U+00F7). */
static const char latin_ascii[] = "a a a a a a aec e e e e i i i i d n o o o o o __o u u u u y thss"
                                  "a a a a a a aec e e e e i i i i d n o o o o o __o u u u u y thy "
                                  "a a a a a a c c c c c c c c d d d d e e e e e e e e e e g g g g "
                                  "g g g g h h h h i i i i i i i i i i ijijj j k k k l l l l l l l "
                                  "l l l n n n n n n n n n o o o o o o oeoer r r r r r s s s s s s "
                                  "s s t t t t t t u u u u u u u u u u u u w w y y y z z z z z z s ";

/* 1 when code point c is a letter of a script kept as written: Greek,
   Cyrillic and the other alphabets up to U+1FFF, kana, CJK, Hangul. */
static int kept_letter(unsigned c)
{
    return (c >= 0x370 && c <= 0x1fff) || (c >= 0x2c00 && c <= 0x2dff) || (c >= 0x3040 && c <= 0x31ff) ||
           (c >= 0x3400 && c <= 0x9fff) || (c >= 0xa000 && c <= 0xd7ff) || (c >= 0xf900 && c <= 0xfaff) ||
           (c >= 0x20000 && c <= 0x3ffff);
}

/* Decodes the well-formed UTF-8 sequence at p into *c; its length, 0 if none. */
static int utf8_decode(const unsigned char *p, unsigned *c)
{
    unsigned v = p[0], min;
    int n;
    if (v >= 0xc2 && v <= 0xdf)
        n = 2, v &= 0x1f, min = 0x80;
    else if (v >= 0xe0 && v <= 0xef)
        n = 3, v &= 0x0f, min = 0x800;
    else if (v >= 0xf0 && v <= 0xf4)
        n = 4, v &= 0x07, min = 0x10000;
    else
        return 0;
    for (int i = 1; i < n; i++) {
        if ((p[i] & 0xc0) != 0x80)
            return 0;
        v = (v << 6) | (p[i] & 0x3f);
    }
    if (v < min || v > 0x10ffff || (v >= 0xd800 && v <= 0xdfff))
        return 0;
    *c = v;
    return n;
}

/*
 * The slug of a migration name, in out (size cap); returns its length.
 * ASCII letters and digits are kept, lowercased; Latin letters with accents
 * become ASCII (Ü -> u, ß -> ss, Æ -> ae); combining accents are dropped;
 * letters of other scripts are kept as written in UTF-8 (Greek and Cyrillic
 * capitals lowercased); any other run of characters becomes one '_'.
 */
static size_t make_slug(const char *name, char *out, size_t cap)
{
    size_t n = 0;
    const unsigned char *p = (const unsigned char *)name;
    while (*p) {
        unsigned c = *p;
        int len = c < 0x80 ? 1 : utf8_decode(p, &c);
        char piece[5];
        size_t pl = 0;
        if (len == 0) {
            len = 1; /* a byte that is not UTF-8: a separator */
        } else if (c < 0x80) {
            if (isalnum((int)c))
                piece[pl++] = (char)c_tolower((int)c);
        } else if (c >= 0x300 && c <= 0x36f) {
            p += len; /* a combining accent: "u" + U+0308 is "u" */
            continue;
        } else if (c >= 0xc0 && c <= 0x17f) {
            const char *t = latin_ascii + 2 * (c - 0xc0);
            if (t[0] != '_') {
                piece[pl++] = t[0];
                if (t[1] != ' ')
                    piece[pl++] = t[1];
            }
        } else if (kept_letter(c)) {
            if ((c >= 0x391 && c <= 0x3a9) || (c >= 0x410 && c <= 0x42f))
                c += 0x20; /* Greek and basic Cyrillic capitals */
            else if (c >= 0x400 && c <= 0x40f)
                c += 0x50;
            /* all kept letters encode in 2 to 4 bytes, as they came */
            if (c < 0x800) {
                piece[pl++] = (char)(0xc0 | (c >> 6));
                piece[pl++] = (char)(0x80 | (c & 0x3f));
            } else {
                memcpy(piece, p, (size_t)len);
                pl = (size_t)len;
            }
        }
        p += len;
        if (!pl) {
            if (n && out[n - 1] != '_' && n + 1 < cap)
                out[n++] = '_';
            continue;
        }
        if (n + pl >= cap)
            break; /* never cut a character in two */
        memcpy(out + n, piece, pl);
        n += pl;
    }
    while (n && out[n - 1] == '_')
        n--;
    out[n] = 0;
    return n;
}

/* Writes text to a hidden temporary file of dir, flushed to disk, and links
   it into place as path: path appears whole or not at all, and never
   replaces an existing file. */
static strata_code write_whole(const char *dir, const char *path, const char *text, size_t len,
                               strata_error *err)
{
    buf t;
    buf_init(&t);
    buf_addf(&t, "%s/.strata-new-XXXXXX", dir);
    if (t.oom) {
        buf_release(&t);
        return err_set(err, STRATA_NOMEM, "out of memory");
    }
    int fd = mkostemp(t.data, O_CLOEXEC);
    if (fd < 0) {
        buf_release(&t);
        return err_set(err, STRATA_IO_ERROR, "cannot create a file in '%s': %s", dir, strerror(errno));
    }
    strata_code rc = STRATA_OK;
    if (fd_write_all(fd, text, len) != 0 || fchmod(fd, 0644) < 0 || fsync(fd) < 0)
        rc = err_set(err, STRATA_IO_ERROR, "cannot write '%s': %s", path, strerror(errno));
    if (close(fd) < 0 && !rc)
        rc = err_set(err, STRATA_IO_ERROR, "cannot write '%s': %s", path, strerror(errno));
    if (!rc && link(t.data, path) < 0)
        rc = err_set(err, errno == EEXIST ? STRATA_FILE_EXISTS : STRATA_IO_ERROR, "cannot create '%s': %s",
                     path, strerror(errno));
    unlink(t.data);
    buf_release(&t);
    if (!rc) {
        int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (dfd >= 0) {
            fsync(dfd);
            close(dfd);
        }
    }
    return rc;
}

/* The timestamp one second after ver (YYYYMMDDHHMMSS, UTC) into out: the
   next version when the newest file is at or after the clock, a real time
   (235959 is followed by the next day's 000000, not 235960); -1 when ver is
   not such a timestamp. */
static int ts_after(const char *ver, char *out, size_t outsz)
{
    if (strlen(ver) != 14 || strspn(ver, "0123456789") != 14)
        return -1;
    int f[6], w[6] = {4, 2, 2, 2, 2, 2};
    for (int i = 0, at = 0; i < 6; at += w[i++]) {
        f[i] = 0;
        for (int k = 0; k < w[i]; k++)
            f[i] = f[i] * 10 + (ver[at + k] - '0');
    }
    struct tm tm;
    memset(&tm, 0, sizeof(tm));
    tm.tm_year = f[0] - 1900;
    tm.tm_mon = f[1] - 1;
    tm.tm_mday = f[2];
    tm.tm_hour = f[3];
    tm.tm_min = f[4];
    tm.tm_sec = f[5];
    if (f[1] < 1 || f[1] > 12 || f[2] < 1 || f[2] > 31 || f[3] > 23 || f[4] > 59 || f[5] > 59)
        return -1;
    time_t t = timegm(&tm);
    if (t == (time_t)-1)
        return -1;
    t += 1;
    if (!gmtime_r(&t, &tm) || tm.tm_year + 1900 > 9999)
        return -1;
    return strftime(out, outsz, "%Y%m%d%H%M%S", &tm) == 14 ? 0 : -1;
}

strata_code strata_new_migration(const char *dir, const char *name, int use_timestamp, char **path_out,
                                 strata_error *err)
{
    if (!dir || !path_out)
        return api_null(err, __func__, "dir and path_out");
    return strata_write_migration(dir, name, use_timestamp, template_text, path_out, err);
}

static strata_code write_next(const char *dir, const char *slug, int use_timestamp, const char *text,
                              const char *after, char **path_out, strata_error *err);

strata_code strata_write_migration(const char *dir, const char *name, int use_timestamp, const char *text,
                                   char **path_out, strata_error *err)
{
    return strata_write_migration_after(dir, name, use_timestamp, text, NULL, path_out, err);
}

strata_code strata_write_migration_after(const char *dir, const char *name, int use_timestamp,
                                         const char *text, const char *after, char **path_out,
                                         strata_error *err)
{
    if (!dir || !text || !path_out)
        return api_null(err, __func__, "dir, text and path_out");
    *path_out = NULL;
    char slug[200];
    size_t n = make_slug(name ? name : "", slug, sizeof(slug));
    if (!n)
        return err_set(err, STRATA_USAGE, "migration name '%s' has no letters or digits", name ? name : "");
    if (mkdir_p(dir, 0755, NULL, 0) < 0)
        return err_set(err, STRATA_IO_ERROR, "cannot create directory '%s': %s", dir, strerror(errno));
    /* two at once (a script, two developers' terminals on one checkout)
       would both take the next version: the directory is locked from
       reading it to writing the file */
    int lk = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (lk >= 0)
        while (flock(lk, LOCK_EX) != 0 && errno == EINTR && !intr_requested())
            ;
    strata_code rc = write_next(dir, slug, use_timestamp, text, after, path_out, err);
    if (lk >= 0)
        close(lk); /* releases the lock */
    return rc;
}

/* strata_write_migration under the directory's lock. */
static strata_code write_next(const char *dir, const char *slug, int use_timestamp, const char *text,
                              const char *after, char **path_out, strata_error *err)
{
    strata_migset *set = NULL;
    strata_code rc = strata_migset_load(dir, &set, err);
    if (rc)
        return rc;
    char ver[300] = "0";
    int ts = use_timestamp;
    for (size_t i = 0; i < set->count; i++) {
        const char *v = set->migs[i].version;
        if (strlen(v) >= 14)
            ts = 1;
        if (version_cmp(v, ver) > 0) /* a file name (255 bytes at most) fits */
            snprintf(ver, sizeof(ver), "%s", v);
    }
    /* written from what the directory held (strata diff): a file that came
       in since (another diff, a strata new) would run before it. The set is
       in version order: its newest is its last. */
    const char *newest = set->count ? set->migs[set->count - 1].version : "";
    if (after && strcmp(newest, after) != 0) {
        if (newest[0])
            err_set(err, STRATA_DIR_CHANGED,
                    "the migration directory '%s' changed while the migration was made: its newest version "
                    "is now %s, not %s",
                    dir, newest, after[0] ? after : "none");
        else
            err_set(
                err, STRATA_DIR_CHANGED,
                "the migration directory '%s' changed while the migration was made: it holds no migration "
                "now",
                dir);
        err_hint(err,
                 "nothing was written; run the command again to make it from the directory as it is now");
        strata_migset_free(set);
        return STRATA_DIR_CHANGED;
    }
    strata_migset_free(set);
    char next[300];
    if (ts) {
        time_t now = time(NULL);
        struct tm tm;
        gmtime_r(&now, &tm);
        strftime(next, sizeof(next), "%Y%m%d%H%M%S", &tm);
        if (version_cmp(next, ver) <= 0 && ts_after(ver, next, sizeof(next)) != 0) {
            snprintf(next, sizeof(next), "%s", ver);
            digits_inc(next);
        }
    } else {
        size_t width = strlen(ver) > 4 ? strlen(ver) : 4;
        digits_inc(ver);
        size_t vl = strlen(ver), pad = width > vl ? width - vl : 0;
        memset(next, '0', pad);
        memcpy(next + pad, ver, vl + 1);
    }
    /* a file name holds 255 bytes */
    if (strlen(next) + 1 + strlen(slug) + 4 > 255)
        return err_set(
            err, STRATA_USAGE,
            "the next version (%zu digits) and the name '%s' make a file name longer than 255 bytes",
            strlen(next), slug);
    buf p;
    buf_init(&p);
    buf_addf(&p, "%s/%s_%s.sql", dir, next, slug);
    char *path = buf_detach(&p);
    if (!path)
        return err_set(err, STRATA_NOMEM, "out of memory");
    if ((rc = write_whole(dir, path, text, strlen(text), err))) {
        free(path);
        return rc;
    }
    *path_out = path;
    return STRATA_OK;
}
