/*
 * fuzz_targets.c -- one function per parser that reads user input, shared by
 * the libFuzzer binaries (fuzz/entry.c, `make fuzz`) and by the unit tests,
 * which replay the seed corpus and every saved crash (fuzz/corpus/<target>,
 * fuzz/regressions/<target>) under the sanitizers in `make test`.
 *
 * Each returns 0. A crash or sanitizer report is a failure; so is a broken
 * invariant, which calls abort().
 */
#include "fuzz_targets.h"
#include "copy_internal.h"
#include "pqload.h"
#include "sqlgen.h"

#include <ctype.h>
#include <math.h>
#include <sqlite3.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static char *cstr(const uint8_t *d, size_t n)
{
    char *s = malloc(n + 1);
    if (!s)
        abort();
    memcpy(s, d, n);
    s[n] = 0;
    return s;
}

static void must(int ok)
{
    if (!ok)
        abort();
}

struct split_check {
    const char *base;
    size_t len;
    int last_line;
    int count;
};

static int split_cb(void *ud, const sql_stmt *st)
{
    struct split_check *c = ud;
    must(st->text >= c->base && st->text + st->len <= c->base + c->len);
    must(st->line >= c->last_line && st->line >= 1);
    must(strlen(st->first) < sizeof(st->first) && strlen(st->second) < sizeof(st->second));
    c->last_line = st->line;
    c->count++;
    (void)sql_is_txn_control(st);
    return 0;
}

int fuzz_sqlsplit(const uint8_t *d, size_t n)
{
    char *s = cstr(d, n);
    for (int dialect = DIALECT_POSTGRES; dialect <= DIALECT_SQLITE; dialect++) {
        struct split_check c = {s, n, 1, 0};
        sql_split(s, n, dialect, split_cb, &c);
        /* rendering splits again and must not fail on what it split */
        buf b;
        buf_init(&b);
        sqlgen_statements(&b, s, dialect);
        buf_release(&b);
    }
    free(s);
    return 0;
}

int fuzz_migfile(const uint8_t *d, size_t n)
{
    strata_migset *set = calloc(1, sizeof(*set));
    must(set != NULL);
    set->dir = strdup("fuzz");
    set->migs = calloc(1, sizeof(migration));
    must(set->dir && set->migs);
    set->count = 1;
    migration *m = &set->migs[0];
    /* one block, as the loader allocates it: path, id, version; name in id */
    static const char names[] = "fuzz/0001_fuzz.sql\0" "0001_fuzz\0" "0001";
    m->path = malloc(sizeof(names));
    must(m->path != NULL);
    memcpy(m->path, names, sizeof(names));
    m->id = m->path + strlen("fuzz/0001_fuzz.sql") + 1;
    m->version = m->id + strlen("0001_fuzz") + 1;
    m->name = m->id + 5;
    m->checksum = strdup("");
    char *text = cstr(d, n);
    size_t len = strlen(text); /* the loader refuses files with NUL bytes */
    int lines = 1;
    for (size_t i = 0; i < len; i++)
        lines += text[i] == '\n';
    if (mig_parse(m, text, len, set)) {
        const int dialects[] = {DIALECT_POSTGRES, DIALECT_SQLITE};
        for (int i = 0; i < m->nsecs; i++) {
            must(m->secs[i].sql != NULL);
            must(m->secs[i].line >= 1 && m->secs[i].line <= lines + 1);
        }
        for (int k = 0; k < 2; k++) {
            must(mig_section(m, SEC_UP, dialects[k]) != NULL || mig_section(m, SEC_UP, DIALECT_ANY) == NULL);
            buf b;
            buf_init(&b);
            sqlgen_step(&b, m, dialects[k], "strata_migrations", 0);
            sqlgen_step(&b, m, dialects[k], "strata_migrations", 1);
            buf_release(&b);
        }
    } else {
        must(set->nproblems > 0);
    }
    for (size_t i = 0; i < set->nproblems; i++)
        must(set->problems[i].detail != NULL && set->problems[i].line >= 0 && set->problems[i].line <= lines + 1);
    free(text);
    strata_migset_free(set);
    return 0;
}

/* The password of scheme://user:PASSWORD@host... as RFC 3986 reads it (the
   authority ends at the first '/', '?' or '#'; the last '@' in it ends the
   user-info), or NULL. */
static char *password_of(const char *url)
{
    const char *p = strstr(url, "://");
    if (!p)
        return NULL;
    p += 3;
    size_t alen = strcspn(p, "/?#");
    const char *at = NULL, *colon;
    for (size_t i = 0; i < alen; i++)
        if (p[i] == '@')
            at = p + i;
    if (!at || !(colon = memchr(p, ':', (size_t)(at - p))))
        return NULL;
    return strndup(colon + 1, (size_t)(at - colon - 1));
}

/* What a person may have meant: from the user name's ':' up to the last '@'
   anywhere (a password with an unencoded '/', '?', '#' or '@'), or NULL. */
static char *wide_password_of(const char *url)
{
    const char *p = strstr(url, "://"), *colon, *at;
    if (!p)
        return NULL;
    p += 3;
    colon = p + strcspn(p, ":@/");
    at = strrchr(p, '@');
    if (*colon != ':' || !at || at < colon)
        return NULL;
    return strndup(colon + 1, (size_t)(at - colon - 1));
}

static size_t occurrences(const char *hay, const char *needle)
{
    size_t n = 0, len = strlen(needle);
    for (const char *h = hay; len && (h = strstr(h, needle)) != NULL; h++)
        n++;
    return n;
}

/* 1 when needle, at h in msg, only begins a URL scheme ("postgres" in
   "postgresql://"): the URL's public part, which url_scrub leaves. */
static int begins_scheme(const char *msg, const char *h, size_t n)
{
    if ((h > msg && isalnum((unsigned char)h[-1])) || !isalnum((unsigned char)h[n]))
        return 0;
    const char *p = h + n;
    while (isalnum((unsigned char)*p) || *p == '+' || *p == '.' || *p == '-')
        p++;
    return !strncmp(p, "://", 3);
}

/* needle stands in msg where url_scrub would have masked it: anywhere when
   it has 8 bytes or more, else between characters that are not letters or
   digits; not where it only begins a URL's scheme. */
static int stands_in(const char *msg, const char *needle)
{
    size_t n = strlen(needle);
    for (const char *h = msg; n && (h = strstr(h, needle)) != NULL; h++)
        if ((n >= 8 || ((h == msg || !isalnum((unsigned char)h[-1])) && !isalnum((unsigned char)h[n]))) &&
            !begins_scheme(msg, h, n))
            return 1;
    return 0;
}

/* A secret must not survive redaction nor the scrubbing of a message that
   quotes it. Redaction is checked when the URL holds the secret as written
   (":pw@" or "password=pw") and nowhere else. */
static void secret_hidden(const char *url, const char *red, const char *pw)
{
    if (!pw || !*pw || strchr(pw, '*'))
        return;
    if (red && occurrences(url, pw) == 1) {
        size_t n = strlen(pw) + 16;
        char *a = malloc(n), *b = malloc(n);
        must(a && b);
        snprintf(a, n, ":%s@", pw);
        snprintf(b, n, "password=%s", pw);
        if (strstr(url, a) || strstr(url, b))
            must(occurrences(red, pw) == 0);
        free(a);
        free(b);
    }
    char msg[3072];
    snprintf(msg, sizeof(msg), "cannot connect to %s: password \"%s\" rejected", red ? red : "?", pw);
    url_scrub(msg, sizeof(msg), url);
    must(!stands_in(msg, pw));
}

/* The oracle: the password libpq itself reads from the URL (PQconninfoParse),
   and every password= in its query. */
static void libpq_oracle(const char *url, const char *conninfo, const char *red)
{
    char *perr = NULL;
    PQconninfoOption *opts = pq.PQconninfoParse(conninfo, &perr);
    pq.PQfreemem(perr);
    must(opts != NULL); /* url_parse accepted it */
    const char *pw = NULL;
    for (PQconninfoOption *o = opts; o->keyword; o++)
        if (!strcmp(o->keyword, "password"))
            pw = o->val;
    secret_hidden(url, red, pw);
    /* the redacted URL, read by libpq, holds no password but the mask */
    char *red_ci = strata_url_redact(conninfo);
    must(red_ci != NULL);
    PQconninfoOption *ropts = pq.PQconninfoParse(red_ci, &perr);
    pq.PQfreemem(perr);
    for (PQconninfoOption *o = ropts; o && o->keyword; o++)
        if (!strcmp(o->keyword, "password") && o->val && *o->val)
            must(!strcmp(o->val, "****") || !pw || strcmp(o->val, pw));
    if (ropts)
        pq.PQconninfoFree(ropts);
    free(red_ci);
    pq.PQconninfoFree(opts);
}

int fuzz_url(const uint8_t *d, size_t n)
{
    char *url = cstr(d, n);
    (void)strata_url_engine(url);
    db_url u;
    strata_error err;
    strata_error_clear(&err);
    char *red = strata_url_redact(url);
    if (url_parse(url, &u, &err) == STRATA_OK) {
        must(u.engine == DIALECT_POSTGRES ? u.conninfo != NULL : u.path != NULL);
        if (u.engine == DIALECT_POSTGRES)
            libpq_oracle(url, u.conninfo, red);
        url_release(&u);
    }
    /* what a reader of the URL (RFC 3986, or a person) takes for the
       password, when it is plain text that appears only once */
    const int sqlite = strata_url_engine(url) && !strcmp(strata_url_engine(url), "sqlite");
    char *guesses[2] = {password_of(url), sqlite ? NULL : wide_password_of(url)};
    for (int g = 0; g < 2; g++) {
        char *pw = guesses[g];
        int plain = pw && strlen(pw) >= 6 && !strpbrk(pw, "*:@/?#&=%,[] ");
        if (plain) {
            const char *first = strstr(url, pw);
            plain = first && !strstr(first + 1, pw);
        }
        if (plain && red)
            must(strstr(red, pw) == NULL);
        /* a password that is part of the message's own words ("connec")
           is not a leak when those words remain */
        if (plain && !strstr("could not connect to : bad", pw)) {
            char msg[2048];
            snprintf(msg, sizeof(msg), "could not connect to %s: bad %s", url, pw);
            url_scrub(msg, sizeof(msg), url);
            must(strstr(msg, pw) == NULL);
        }
        /* strata's own words in the message are not the password's */
        static const char vocab[] = "invalid PostgreSQL URL: ambiguous '@' (an unencoded '@' or '/' in "
                                    "the user name or password?) unsupported database URL scheme SQLite "
                                    "parameter mode names no database file expected '//' after port is "
                                    "not a number from 1 to 65535 cannot parse";
        if (plain && err.code == STRATA_URL_INVALID && !strstr(vocab, pw))
            must(strstr(err.message, pw) == NULL);
        free(pw);
    }
    free(red);
    free(url);
    return 0;
}

int fuzz_env(const uint8_t *d, size_t n)
{
    char *v = NULL;
    strata_error err;
    strata_code rc = env_text_lookup((const char *)d, n, "DATABASE_URL", &v, ".env", &err);
    if (rc == STRATA_OK && v)
        must(strlen(v) <= n);
    if (rc != STRATA_OK) {
        /* a syntax error names a line of the file */
        int lines = 1;
        for (size_t i = 0; i < n; i++)
            lines += d[i] == '\n';
        must(rc == STRATA_CONFIG_ERROR && v == NULL);
        must(err.line >= 1 && err.line <= lines && !strcmp(err.file, ".env"));
    }
    free(v);
    return 0;
}

/* The copy engine's value converters: byte 0 picks the target type, byte 1
   the SQLite storage class, the rest is the value. Doubles must survive
   fmt_double exactly; every result is one of the documented outcomes. */
int fuzz_copyvalue(const uint8_t *d, size_t n)
{
    static sqlite3 *db;
    static sqlite3_stmt *st;
    if (n < 2)
        return 0;
    if (!db) {
        must(sqlite3_open(":memory:", &db) == SQLITE_OK);
        must(sqlite3_prepare_v2(db, "SELECT ?1", -1, &st, NULL) == SQLITE_OK);
    }
    ctype t = {d[0] % (K_OTHER + 1), (d[0] >> 5) ? (int)(d[0] >> 5) : -1, -1, -1, 0};
    if (t.kind == K_NUMERIC && (d[1] & 0x80)) {
        t.prec = 1 + (d[1] & 0x1f);
        t.scale = (d[1] >> 5) & 3;
    }
    const uint8_t *v = d + 2;
    size_t vn = n - 2;
    switch (d[1] % 5) {
    case 0:
        sqlite3_bind_text(st, 1, (const char *)v, (int)vn, SQLITE_TRANSIENT);
        break;
    case 1:
        sqlite3_bind_blob(st, 1, v, (int)vn, SQLITE_TRANSIENT);
        break;
    case 2: {
        int64_t i = 0;
        memcpy(&i, v, vn < 8 ? vn : 8);
        sqlite3_bind_int64(st, 1, i);
        break;
    }
    case 3: {
        double x = 0;
        memcpy(&x, v, vn < 8 ? vn : 8);
        sqlite3_bind_double(st, 1, x);
        if (isfinite(x)) {
            char out[32];
            fmt_double(x, out);
            double back = strtod(out, NULL);
            must(memcmp(&back, &x, sizeof(x)) == 0 || (x == 0 && back == 0));
        }
        break;
    }
    default:
        sqlite3_bind_null(st, 1);
    }
    must(sqlite3_step(st) == SQLITE_ROW);
    cconv c;
    cconv_init(&c);
    int isnull = 0;
    int r = conv_value(&c, &t, sqlite3_column_value(st, 0), (int)(n & 3), &isnull); /* flags from the length */
    must(r == CV_OK || r == CV_BAD || r == CV_BAD_BYTES);
    if (r != CV_OK)
        must(c.why[0] != 0);
    buf shown;
    buf_init(&shown);
    conv_show(&shown, sqlite3_column_value(st, 0));
    buf_release(&shown);
    cconv_release(&c);
    sqlite3_reset(st);
    sqlite3_clear_bindings(st);

    /* the text parsers on the raw bytes */
    char why[256];
    int64_t us;
    buf j;
    buf_init(&j);
    (void)parse_datetime_text((const char *)v, vn, &us, why, sizeof(why));
    (void)json_normalize((const char *)v, vn, &j, why, sizeof(why));
    buf_release(&j);
    return 0;
}

/* The copy's expression translator (CHECKs, defaults, indexes, views read
   from a SQLite file): byte 0 picks the column kind of a default (or none),
   the rest is the expression. Translated or refused with a reason, never
   more than a bounded output, no crash however deep the nesting. */
int fuzz_copyexpr(const uint8_t *d, size_t n)
{
    static sqlite3 *db;
    static cschema s;
    if (n < 1)
        return 0;
    if (!db) {
        cwarn w = {0};
        strata_error err = {0};
        must(sqlite3_open(":memory:", &db) == SQLITE_OK);
        must(sqlite3_exec(db, "CREATE TABLE t (id INTEGER PRIMARY KEY, a TEXT, b BOOLEAN, d DATE, "
                              "ts DATETIME, r REAL, n NUMERIC, \"date\" TEXT);"
                              "CREATE TABLE u (id INTEGER PRIMARY KEY, t_id INTEGER, tz TIMESTAMPTZ)",
                          NULL, NULL, NULL) == SQLITE_OK);
        must(schema_read(db, 0, NULL, &s, &w, &err) == STRATA_OK);
        for (size_t k = 0; k < w.n; k++)
            free(w.v[k]);
        free(w.v);
    }
    int kind = d[0] % (K_OTHER + 2) - 1;
    char why[300];
    why[0] = 0;
    buf out;
    buf_init(&out);
    int r = expr_translate((const char *)d + 1, n - 1, &s, (d[0] & 0x80) ? NULL : &s.t[0], kind, d[0] & 1,
                           &out, why, sizeof(why));
    must(r == 0 || r == -1);
    if (r)
        must(why[0] != 0);
    buf_release(&out);
    return 0;
}
