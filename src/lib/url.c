/*
 * url.c -- database URLs: resolution order, parsing, redaction.
 */
#include "internal.h"

#include <ctype.h>
#include "pqload.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static int ambiguous_at(const char *url);
static const char *bad_port(const PQconninfoOption *opts, size_t *len);
static int in_list(const char *const *l, const char *s, size_t n);

/* Splits off "scheme" (without any "+driver" suffix); returns the index of
   the ':' ending the scheme, or -1 when there is none. */
static int scheme_of(const char *url, char *base, size_t basesz)
{
    int i = 0;
    while (url[i] && (isalnum((unsigned char)url[i]) || url[i] == '+' || url[i] == '-' || url[i] == '.'))
        i++;
    if (url[i] != ':' || i == 0)
        return -1;
    int j = 0;
    while (j < i && url[j] != '+' && (size_t)j + 1 < basesz) {
        base[j] = (char)c_tolower((unsigned char)url[j]);
        j++;
    }
    base[j] = 0;
    return i;
}

const char *strata_url_engine(const char *url)
{
    char base[32];
    while (url && isspace((unsigned char)*url))
        url++;
    if (!url || scheme_of(url, base, sizeof(base)) < 0)
        return NULL;
    const drv_ops *e = engine_by_scheme(base);
    return e ? e->engine : NULL;
}

strata_code strata_url_check(const char *url, strata_error *err)
{
    db_url u;
    memset(&u, 0, sizeof(u));
    strata_code rc = url_parse(url, &u, err);
    url_release(&u);
    return rc;
}

void url_release(db_url *u)
{
    if (u->pg_opts)
        pq.PQconninfoFree(u->pg_opts);
    free(u->url);
    free(u->conninfo);
    free(u->path);
    memset(u, 0, sizeof(*u));
}

const char *url_pg_opt(const db_url *u, const char *kw)
{
    for (const PQconninfoOption *o = u->pg_opts; o && o->keyword; o++)
        if (!strcmp(o->keyword, kw))
            return o->val && *o->val ? o->val : NULL;
    return NULL;
}

/* The parameters of Python's sqlite3 driver (SQLAlchemy's pysqlite and
   aiosqlite pass them on) that only tune that driver in the application:
   a URL pasted from it works. uri=true says the others are SQLite's own,
   which strata reads itself. The driver's timeout is not among them: the
   lock wait is --lock-timeout, and ignoring a wish about it would be a
   surprise. */
static const char *const sqlite_app_only[] = {"check_same_thread", "cached_statements", "detect_types", "uri",
                                              NULL};

/* A SQLite URL's query: mode=ro opens the file read-only, mode=rw
   read-write without creating it (as SQLite reads it), mode=rwc is the
   default; the application's driver parameters above are
   left out; any other parameter is refused by name rather than silently
   ignored. */
static strata_code sqlite_params(const char *q, db_url *out, strata_error *err)
{
    while (*q == '?' || *q == '&') {
        q++;
        size_t n = strcspn(q, "&#");
        if (n == 7 && !strncmp(q, "mode=ro", 7)) {
            out->readonly = 1;
        } else if (n == 7 && !strncmp(q, "mode=rw", 7)) {
            out->nocreate = 1;
        } else if (n && !(n == 7 && !strncmp(q, "mode=rw", 7)) && !(n == 8 && !strncmp(q, "mode=rwc", 8)) &&
                   !in_list(sqlite_app_only, q, strcspn(q, "=&#"))) {
            /* named, but never its value, nor anything that is not a plain
               name (it may be a pasted URL with a password in it) */
            size_t k = strcspn(q, "=&#");
            int plain = k > 0 && k <= 32;
            for (size_t i = 0; plain && i < k; i++)
                plain = isalnum((unsigned char)q[i]) || q[i] == '_' || q[i] == '-' || q[i] == '.';
            int word = n > 5 && n <= 5 + 16; /* mode=WORD: letters only */
            for (size_t i = 5; word && i < n; i++)
                word = isalpha((unsigned char)q[i]);
            if (plain && k == 4 && !strncmp(q, "mode", 4) && word)
                err_set(err, STRATA_URL_INVALID, "unsupported SQLite URL mode '%.*s'", (int)n, q);
            else if (plain)
                err_set(err, STRATA_URL_INVALID, "unsupported SQLite URL parameter '%.*s'", (int)k, q);
            else
                err_set(err, STRATA_URL_INVALID, "unsupported SQLite URL parameter (not a plain name)");
            err_hint(
                err,
                "a SQLite URL takes only ?mode=ro (read-only) and the Python driver's check_same_thread, "
                "cached_statements, detect_types and uri; set the lock wait with --lock-timeout");
            return STRATA_URL_INVALID;
        }
        q += n;
    }
    return STRATA_OK;
}

/*
 * The query parameters of an application's driver or ORM that libpq does
 * not know, so that the URL the application uses works as is (SPEC 1).
 * Dropped: those that tune only that driver -- statement caches, pools,
 * the timeout of the application's own queries, Prisma's pgbouncer flag
 * (strata detects a pooler itself). asyncpg's ssl=MODE is libpq's
 * sslmode=MODE (ssl=true stays: libpq reads it). search_path=LIST (dbmate's
 * documented form: Go's lib/pq and pgx send a parameter they do not know to
 * the server as a setting) is libpq's options=-csearch_path=LIST, the same
 * session setting. Prisma's schema=NAME is refused with the libpq
 * spelling: strata does not guess where to work. Anything else libpq does
 * not know stays, and libpq refuses it.
 */
static const char *const pg_app_only[] = {
    "prepared_statement_cache_size",
    "statement_cache_size",
    "max_cached_statement_lifetime",
    "max_cacheable_statement_size",
    "command_timeout",
    "async_fallback", /* SQLAlchemy + asyncpg */
    "pgbouncer",
    "connection_limit",
    "pool_timeout",
    "socket_timeout", /* Prisma */
    "pool_max_conns",
    "pool_min_conns",
    "pool_max_conn_lifetime",
    "pool_max_conn_lifetime_jitter",
    "pool_max_conn_idle_time",
    "pool_health_check_period", /* pgx's pool (Go) */
    NULL,
};
static const char *const pg_sslmodes[] = {"disable",   "allow",       "prefer", "require",
                                          "verify-ca", "verify-full", NULL};

static int in_list(const char *const *l, const char *s, size_t n)
{
    for (; *l; l++)
        if (strlen(*l) == n && !strncmp(*l, s, n))
            return 1;
    return 0;
}

/* The value of parameter name in query q ("a=1&b=2"), its length in *n. */
static const char *query_value(const char *q, const char *name, size_t *n)
{
    size_t k = strlen(name);
    for (const char *p = q; *p; p += *p == '&') {
        size_t len = strcspn(p, "&");
        if (len > k && !strncmp(p, name, k) && p[k] == '=') {
            *n = len - k - 1;
            return p + k + 1;
        }
        p += len;
    }
    return NULL;
}

/* Rewrites the query of u->conninfo as above; url is the URL as given, for
   messages (redacted). */
static strata_code pg_app_params(db_url *u, const char *url, strata_error *err)
{
    char *host = u->conninfo + strlen("postgresql://");
    size_t auth = strcspn(host, "/");
    char *at = memchr(host, '@', auth);
    char *q = strchr(at ? at + 1 : host, '?');
    if (!q)
        return STRATA_OK;
    size_t sslmode_n = 0, ssl_n = 0;
    const char *sslmode = query_value(q + 1, "sslmode", &sslmode_n);
    const char *ssl = query_value(q + 1, "ssl", &ssl_n);
    int ssl_mode = ssl && in_list(pg_sslmodes, ssl, ssl_n);
    size_t schema_n = 0, sp_n = 0, opt_n = 0;
    const char *sp = query_value(q + 1, "search_path", &sp_n);
    int sp_clash = sp && query_value(q + 1, "options", &opt_n);
    int clash = ssl_mode && sslmode && (ssl_n != sslmode_n || strncmp(ssl, sslmode, ssl_n));
    /* libpq refuses an unknown sslmode only when connecting, as a
       connection failure */
    int bad_mode = sslmode && !in_list(pg_sslmodes, sslmode, sslmode_n);
    if (bad_mode || clash || sp_clash || query_value(q + 1, "schema", &schema_n)) {
        char *red = strata_url_redact(url);
        if (bad_mode)
            err_set(err, STRATA_URL_INVALID, "PostgreSQL URL '%s': sslmode=%.*s is not one of libpq's modes",
                    red ? red : "", (int)sslmode_n, sslmode);
        else if (clash)
            err_set(err, STRATA_URL_INVALID, "PostgreSQL URL '%s' has ssl=%.*s and sslmode=%.*s",
                    red ? red : "", (int)ssl_n, ssl, (int)sslmode_n, sslmode);
        else if (sp_clash)
            err_set(err, STRATA_URL_INVALID, "PostgreSQL URL '%s' has both search_path and options",
                    red ? red : "");
        else
            err_set(err, STRATA_URL_INVALID,
                    "PostgreSQL URL '%s': 'schema' (Prisma's) is not a libpq parameter", red ? red : "");
        if (err)
            url_scrub(err->message, sizeof(err->message), url);
        err_hint(err, bad_mode ? "sslmode is one of disable, allow, prefer, require, verify-ca, verify-full"
                      : clash  ? "keep one of them: asyncpg's ssl=MODE is libpq's sslmode=MODE"
                      : sp_clash
                          ? "write the search path into options: ?options=-csearch_path%%3DLIST%%20..."
                          : "strata works in the schemas of the server's search_path; to choose one, write "
                            "?options=-csearch_path%%3DNAME");
        free(red);
        return STRATA_URL_INVALID;
    }
    buf b;
    buf_init(&b);
    buf_add(&b, u->conninfo, (size_t)(q - u->conninfo));
    int first = 1;
    for (const char *p = q + 1; *p; p += *p == '&') {
        size_t len = strcspn(p, "&"), k = strcspn(p, "=&");
        int is_sp = k == 11 && !strncmp(p, "search_path", 11);
        if (len && !in_list(pg_app_only, p, k) && !(ssl_mode && k == 3 && !strncmp(p, "ssl", 3) && sslmode)) {
            buf_adds(&b, first ? "?" : "&");
            first = 0;
            if (ssl_mode && k == 3 && !strncmp(p, "ssl", 3))
                buf_adds(&b, "sslmode");
            else if (is_sp)
                buf_adds(&b, "options=-csearch_path");
            else
                buf_add(&b, p, k);
            if (is_sp && len > k) {
                /* "=LIST", percent-encoded as given: libpq decodes it, then
                   reads options with backslash escapes and splits them at
                   blanks, so a blank and a backslash get a backslash; a
                   '+' is a blank, as Go's drivers (dbmate's) decode it */
                buf_adds(&b, "%3D");
                for (const char *v = p + k + 1; v < p + len; v++) {
                    size_t left = (size_t)(p + len - v);
                    if (*v == '+') {
                        buf_adds(&b, "%5C%20");
                    } else if (left >= 3 && (!strncmp(v, "%20", 3) || !c_strncasecmp(v, "%5C", 3))) {
                        buf_adds(&b, "%5C");
                        buf_add(&b, v, 3);
                        v += 2;
                    } else if (*v == '\\') {
                        buf_adds(&b, "%5C%5C");
                    } else {
                        buf_add(&b, v, 1);
                    }
                }
            } else {
                buf_add(&b, p + k, len - k);
            }
        }
        p += len;
    }
    char *s = b.oom ? NULL : buf_detach(&b);
    buf_release(&b);
    if (!s)
        return err_set(err, STRATA_NOMEM, "out of memory");
    free(u->conninfo);
    u->conninfo = s;
    return STRATA_OK;
}

/* Whitespace around a URL (a trailing blank or CR in an env file) is never
   part of it. */
static int url_is_padded(const char *url)
{
    size_t n = url ? strlen(url) : 0;
    return n && (isspace((unsigned char)url[0]) || isspace((unsigned char)url[n - 1]));
}

char *url_trim(const char *url)
{
    while (isspace((unsigned char)*url))
        url++;
    size_t n = strlen(url);
    while (n && isspace((unsigned char)url[n - 1]))
        n--;
    return xstrndup(url, n);
}

/* The last step of a parse: the engine and the URL as given. */
static strata_code url_done(db_url *out, const char *url, strata_error *err)
{
    out->ops = engine_by_dialect(out->engine);
    out->url = xstrdup(url);
    if (!out->url || !out->ops) {
        int oom = out->ops != NULL;
        url_release(out);
        return oom ? err_set(err, STRATA_NOMEM, "out of memory")
                   : err_set(err, STRATA_URL_INVALID, "no engine for this URL");
    }
    return STRATA_OK;
}

strata_code url_parse(const char *url, db_url *out, strata_error *err)
{
    char base[32];
    memset(out, 0, sizeof(*out));
    if (url_is_padded(url)) {
        char *t = url_trim(url);
        if (!t)
            return err_set(err, STRATA_NOMEM, "out of memory");
        strata_code rc = url_parse(t, out, err);
        free(t);
        if (rc == STRATA_OK) { /* the URL as given, for messages as before */
            free(out->url);
            if (!(out->url = xstrdup(url))) {
                url_release(out);
                return err_set(err, STRATA_NOMEM, "out of memory");
            }
        }
        return rc;
    }
    const char *engine = strata_url_engine(url);
    if (!url || !*url)
        return err_set(err, STRATA_URL_INVALID, "database URL is empty");
    if (!engine) {
        /* redaction only understands scheme://user:password@...; anything
           else that may hold a password (a libpq "host=... password=..."
           string) is not echoed */
        int secret = !strstr(url, "://") && (strchr(url, '@') || c_strcasestr(url, "password"));
        char *red = secret ? NULL : strata_url_redact(url);
        int has = scheme_of(url, base, sizeof(base)) >= 0;
        err_set(err, STRATA_URL_INVALID, "unsupported database URL%s%s%s%s%s%s", secret ? "" : " '",
                red ? red : "", secret ? "" : "'", has ? " (scheme '" : "", has ? base : "", has ? "')" : "");
        err_hint(err, "use postgresql://user:password@host:5432/dbname or sqlite:///path/to/file.db");
        free(red);
        return STRATA_URL_INVALID;
    }
    int colon = scheme_of(url, base, sizeof(base));
    const char *rest = url + colon + 1;
    if (!strcmp(engine, "postgres")) {
        if (rest[0] != '/' || rest[1] != '/') {
            /* libpq would echo the whole string, password included */
            err_set(err, STRATA_URL_INVALID, "invalid PostgreSQL URL: expected '//' after '%.*s:'", colon,
                    url);
            err_hint(err, "the form is postgresql://user:password@host:5432/dbname?sslmode=...");
            return STRATA_URL_INVALID;
        }
        if (ambiguous_at(url)) {
            /* libpq would read part of the password as host, port or path */
            char *red = strata_url_redact(url);
            err_set(err, STRATA_URL_INVALID,
                    "invalid PostgreSQL URL '%s': ambiguous '@' (an unencoded '@' or '/' in the user name "
                    "or password?)",
                    red ? red : "");
            /* red masks all of it; the URL is not scrubbed from the message
               because the pieces of an ambiguous user-info may be words */
            err_hint(err, "percent-encode '@' as %%40 and '/' as %%2F (also '?' as %%3F, '#' as %%23) "
                          "in the user name and password, and an '@' in a query value as %%40");
            free(red);
            return STRATA_URL_INVALID;
        }
        out->engine = DIALECT_POSTGRES;
        size_t n = strlen(rest) + 16;
        out->conninfo = malloc(n);
        if (!out->conninfo)
            return err_set(err, STRATA_NOMEM, "out of memory");
        snprintf(out->conninfo, n, "postgresql:%s", rest);
        char *perr = NULL;
        strata_code lrc = pg_app_params(out, url, err);
        if (!lrc)
            lrc = pq_load(err);
        if (lrc) {
            url_release(out);
            return lrc;
        }
        PQconninfoOption *opts = pq.PQconninfoParse(out->conninfo, &perr);
        if (!opts) {
            char *red = strata_url_redact(url);
            err_set(err, STRATA_URL_INVALID, "invalid PostgreSQL URL '%s': %s", red ? red : "",
                    perr ? perr : "cannot parse");
            if (err)
                url_scrub(err->message, sizeof(err->message), url);
            err_hint(err, "the form is postgresql://user:password@host:5432/dbname?sslmode=...");
            free(red);
            pq.PQfreemem(perr);
            url_release(out);
            return STRATA_URL_INVALID;
        }
        size_t plen = 0;
        const char *port = bad_port(opts, &plen);
        if (port) {
            /* libpq would only say so when connecting: CONNECT_FAILED */
            char *red = strata_url_redact(url);
            err_set(err, STRATA_URL_INVALID,
                    "invalid PostgreSQL URL '%s': port '%.*s' is not a number from 1 to 65535",
                    red ? red : "", (int)plen, port);
            if (err)
                url_scrub(err->message, sizeof(err->message), url);
            err_hint(err, "the form is postgresql://user:password@host:5432/dbname?sslmode=...");
            free(red);
            pq.PQconninfoFree(opts);
            url_release(out);
            return STRATA_URL_INVALID;
        }
        out->pg_opts = opts;
        out->password = url_pg_opt(out, "password");
        out->dbname = url_pg_opt(out, "dbname");
        return url_done(out, url, err);
    }
    out->engine = DIALECT_SQLITE;
    if (rest[0] == '/' && rest[1] == '/') {
        rest += 2;
        if (*rest == '/')
            rest++;
    }
    size_t n = strcspn(rest, "?");
    if (n == 0) {
        /* "sqlite:", "sqlite://", "sqlite:///": no file named; SQLite would
           open a temporary database, and the run would vanish with it */
        err_set(err, STRATA_URL_INVALID, "SQLite URL '%.*s' names no database file", (int)(rest - url), url);
        err_hint(err, "use sqlite:///relative/path.db, sqlite:////absolute/path.db or sqlite::memory:");
        return STRATA_URL_INVALID;
    }
    if (n == 8 && !strncmp(rest, ":memory:", 8))
        out->path = xstrdup(":memory:");
    else
        out->path = xstrndup(rest, n);
    if (!out->path)
        return err_set(err, STRATA_NOMEM, "out of memory");
    strata_code prc = sqlite_params(rest + n, out, err);
    if (prc) {
        url_release(out);
        return prc;
    }
    return url_done(out, url, err);
}

/* The first port of the "port" option (a comma-separated list, one per
   host; an empty one means the default) that is not 1..65535 in digits. */
static const char *bad_port(const PQconninfoOption *opts, size_t *len)
{
    for (const PQconninfoOption *o = opts; o && o->keyword; o++) {
        if (strcmp(o->keyword, "port") || !o->val)
            continue;
        for (const char *p = o->val;; p++) {
            size_t n = strcspn(p, ",");
            long v = 0;
            size_t i = 0;
            while (i < n && isdigit((unsigned char)p[i]) && v <= 65535)
                v = v * 10 + (p[i++] - '0');
            if (n && (i < n || v < 1 || v > 65535)) {
                *len = n;
                return p;
            }
            p += n;
            if (!*p)
                break;
        }
    }
    return NULL;
}

/* ------------------------------------------------------------ secrets
 *
 * "The password" is what libpq would use (SPEC section 1), so the split below
 * follows libpq's URI parser (conninfo_uri_parse_options in fe-connect.c),
 * not RFC 3986: the user-info runs from "//" to the first '@' that comes
 * before any '/' -- an unencoded '?' or '#' in a password stays in it; the
 * user name ends at the first ':', the password runs from there to that '@'.
 *
 * A URL with an '@' after that point (or with no such user-info and an '@'
 * anywhere) is ambiguous: libpq would read part of what the user meant as a
 * password as host, port, database or query ("u:p@ss@h", "u:a/b@h").
 * url_parse refuses it; redaction and scrubbing still treat everything from
 * the start of the password up to the last '@' as secret, so that even such
 * a URL is never printed with any of it.
 *
 * Query parameters whose name (percent-decoded, any case) is "password" or
 * "sslpassword" (libpq's passphrase of the client key) are secret up to the
 * next '&', wherever a '?' or '&' starts them.
 *
 * SQLite URLs hold no password; for them (and to keep "sqlite:///a@b.db"
 * intact) only the RFC authority (up to the first '/', '?', '#') counts.
 */

typedef struct span {
    size_t from, to; /* byte offsets into the URL, from <= to */
    int wide;        /* the ambiguous region: its pieces are secrets too */
} span;

typedef struct secrets {
    span *v;
    size_t n;
    int ambiguous;
} secrets;

static int hexval(int c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    c = c_tolower(c);
    return c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

/* The percent-decoded copy of s[0..n) (a bad escape or %00 stays as written). */
char *pct_decode(const char *s, size_t n)
{
    char *d = malloc(n + 1), *w = d;
    if (!d)
        return NULL;
    for (size_t i = 0; i < n; i++) {
        int hi = i + 2 < n ? hexval((unsigned char)s[i + 1]) : -1;
        int lo = i + 2 < n ? hexval((unsigned char)s[i + 2]) : -1;
        if (s[i] == '%' && hi >= 0 && lo >= 0 && (hi || lo)) {
            *w++ = (char)(hi << 4 | lo);
            i += 2;
        } else {
            *w++ = s[i];
        }
    }
    *w = 0;
    return d;
}

static int is_sqlite(const char *url)
{
    const char *e = strata_url_engine(url);
    return e && !strcmp(e, "sqlite");
}

static void add_span(secrets *s, size_t from, size_t to, int wide)
{
    s->v[s->n].from = from;
    s->v[s->n].to = to;
    s->v[s->n].wide = wide;
    s->n++;
}

/* The secret regions of url, in order of their start; -1 when out of memory. */
static int find_secrets(const char *url, secrets *s)
{
    memset(s, 0, sizeof(*s));
    size_t len = strlen(url), cap = 2;
    for (size_t i = 0; i < len; i++)
        cap += url[i] == '?' || url[i] == '&' || url[i] == '=';
    s->v = calloc(cap, sizeof(span));
    if (!s->v)
        return -1;
    const char *p = strstr(url, "://");
    size_t auth = p ? (size_t)(p + 3 - url) : 0, scan = auth;
    if (p && is_sqlite(url)) {
        size_t alen = strcspn(url + auth, "/?#"), at = 0, colon;
        for (size_t i = 0; i < alen; i++)
            if (url[auth + i] == '@')
                at = auth + i;
        if (at) {
            for (colon = auth; colon < at && url[colon] != ':'; colon++)
                ;
            if (colon < at)
                add_span(s, colon + 1, at, 0);
            scan = at;
        }
    } else if (p) {
        size_t at = auth, last = 0;
        while (url[at] && url[at] != '@' && url[at] != '/')
            at++;
        if (url[at] != '@')
            at = 0; /* no user-info */
        for (size_t i = auth; i < len; i++)
            if (url[i] == '@')
                last = i;
        /* where a password would start: after the user name's ':' */
        size_t colon = auth;
        while (url[colon] && !strchr(":@/", url[colon]))
            colon++;
        size_t pw = url[colon] == ':' ? colon + 1 : auth;
        if (last && last != at) {
            s->ambiguous = 1;
            add_span(s, pw, last, 1);
        } else if (at) {
            if (url[colon] == ':' && colon < at)
                add_span(s, colon + 1, at, 0);
        }
    }
    /* password=... query parameters, wherever a '?' or '&' starts one (in
       libpq's user name too: a person may read it as a query) */
    for (size_t i = p && !is_sqlite(url) ? auth : scan; i < len; i++) {
        if (url[i] != '?' && url[i] != '&')
            continue;
        size_t k = i + 1, klen = strcspn(url + k, "=&");
        if (url[k + klen] != '=')
            continue;
        char *key = pct_decode(url + k, klen);
        if (!key)
            return -1;
        int hit = !c_strcasecmp(key, "password") || !c_strcasecmp(key, "sslpassword");
        free(key);
        if (hit) {
            size_t v = k + klen + 1;
            add_span(s, v, v + strcspn(url + v, "&"), 0);
        }
    }
    if (!p) {
        /* not a URL at all ("postgresql:/u:pw@h", "postgres//u:pw@h", or a
           key=value conninfo): what a person may have meant as a password
           goes -- up to the last '@' from the ':' before it, and every
           password=VALUE */
        const char *last = strrchr(url, '@');
        if (last) {
            size_t at = (size_t)(last - url), colon = at;
            while (colon > 0 && url[colon - 1] != ':' && url[colon - 1] != '/')
                colon--;
            if (colon > 0 && url[colon - 1] == ':')
                add_span(s, colon, at, 1);
        }
        for (size_t i = 0; i + 8 < len; i++) {
            size_t kl = !c_strncasecmp(url + i, "sslpassword", 11) ? 11
                        : !c_strncasecmp(url + i, "password", 8)   ? 8
                                                                   : 0;
            if (!kl || (i && !isspace((unsigned char)url[i - 1])))
                continue;
            size_t v = i + kl;
            while (url[v] == ' ')
                v++;
            if (url[v] != '=')
                continue;
            v++;
            while (url[v] == ' ')
                v++;
            size_t e = v;
            if (url[v] == '\'') {
                for (e = v + 1; url[e] && url[e] != '\''; e++)
                    if (url[e] == '\\' && url[e + 1])
                        e++;
                e += url[e] == '\'';
            } else {
                while (url[e] && !isspace((unsigned char)url[e]))
                    e++;
            }
            if (e > v)
                add_span(s, v, e, 0);
        }
    }
    /* in order of their start (few: insertion sort) */
    for (size_t i = 1; i < s->n; i++)
        for (size_t j = i; j > 0 && s->v[j].from < s->v[j - 1].from; j--) {
            span t = s->v[j];
            s->v[j] = s->v[j - 1];
            s->v[j - 1] = t;
        }
    return 0;
}

/* 1 when the n bytes at hit begin a URL scheme and are not all of it
   ("postgres" in "postgresql://"): the scheme is the URL's public part. */
static int scheme_prefix(const char *msg, const char *hit, size_t n)
{
    if ((hit > msg && isalnum((unsigned char)hit[-1])) || !isalnum((unsigned char)hit[n]))
        return 0;
    const char *p = hit + n;
    while (isalnum((unsigned char)*p) || *p == '+' || *p == '.' || *p == '-')
        p++;
    return !strncmp(p, "://", 3);
}

/* Replaces every occurrence of secret (n bytes) in msg by ****; when the
   message has no room to grow, it is cut at the secret. A short secret
   (under 8 bytes) is replaced only where it stands as a word of its own --
   between characters that are not letters or digits, as in a URL's
   ":pw@" -- so that a password like "a" does not garble "database"; and
   none where it only begins a URL's scheme (the stock "postgres:postgres"
   left "****ql://"). */
static void scrub_one(char *msg, size_t cap, const char *secret, size_t n)
{
    char *from = msg, *hit;
    if (!n)
        return;
    while ((hit = memmem(from, strlen(from), secret, n)) != NULL) {
        if ((n < 8 && ((hit > msg && isalnum((unsigned char)hit[-1])) || isalnum((unsigned char)hit[n]))) ||
            scheme_prefix(msg, hit, n)) {
            from = hit + 1;
            continue;
        }
        size_t off = (size_t)(hit - msg), tail = strlen(hit + n) + 1;
        if (off + 4 + tail > cap) {
            size_t room = cap - off - 1;
            memcpy(hit, "****", room < 4 ? room : 4);
            hit[room < 4 ? room : 4] = 0;
            return;
        }
        memmove(hit + 4, hit + n, tail);
        memcpy(hit, "****", 4);
        from = hit + 4; /* the password may itself contain "****" */
    }
}

/* The text as written and percent-decoded. */
static void scrub_text(char *msg, size_t cap, const char *s, size_t n)
{
    scrub_one(msg, cap, s, n);
    char *d = pct_decode(s, n);
    if (d && (strlen(d) != n || memcmp(d, s, n))) {
        scrub_one(msg, cap, d, strlen(d));
    }
    free(d);
}

void url_scrub(char *msg, size_t cap, const char *url)
{
    secrets s;
    if (!msg || !cap || !url)
        return;
    if (url_is_padded(url)) {
        /* the URL as url_parse (and so libpq) reads it, without the blanks
           around it: a password at its very end ends before them */
        char *t = url_trim(url);
        if (t)
            url_scrub(msg, cap, t);
        free(t);
    }
    if (find_secrets(url, &s) < 0) {
        free(s.v);
        return;
    }
    /* twice: a mask can leave a short secret standing alone that stood in
       a word before */
    for (size_t i = 0; i < 2 * s.n; i++) {
        const span *v = &s.v[i % s.n];
        const char *t = url + v->from;
        size_t n = v->to - v->from;
        if (i >= s.n && memchr(t, '*', n))
            continue; /* it would mask the masks */
        scrub_text(msg, cap, t, n);
        if (v->wide) {
            /* and each piece libpq may have read as a host, port or name */
            for (size_t a = 0; a < n;) {
                size_t b = a + strcspn(t + a, "@/:?&=,#[]");
                if (b > n)
                    b = n;
                scrub_text(msg, cap, t + a, b - a);
                a = b + 1;
            }
        } else if (memchr(t, '#', n)) {
            /* a reader that stops at '#' would quote less */
            scrub_text(msg, cap, t, (size_t)((const char *)memchr(t, '#', n) - t));
        }
    }
    free(s.v);
}

char *strata_url_redact(const char *url)
{
    if (!url)
        return NULL;
    secrets s;
    if (find_secrets(url, &s) < 0) {
        free(s.v);
        return NULL;
    }
    buf b;
    buf_init(&b);
    size_t at = 0;
    for (size_t i = 0; i < s.n; i++) {
        const span *v = &s.v[i];
        if (v->from < at) { /* overlaps the previous one: extend it */
            if (v->to > at)
                at = v->to;
            continue;
        }
        buf_add(&b, url + at, v->from - at);
        buf_adds(&b, "****");
        at = v->to;
    }
    buf_adds(&b, url + at);
    free(s.v);
    return buf_detach(&b);
}

/* Non-zero when url (postgres) has an '@' libpq would not read as the end of
   the user-info; see "secrets" above. */
static int ambiguous_at(const char *url)
{
    secrets s;
    if (find_secrets(url, &s) < 0) {
        free(s.v);
        return 0;
    }
    free(s.v);
    return s.ambiguous;
}

/* A URL that was given but is empty: an error, never the default. */
static strata_code empty_var(strata_error *err, const char *name, const char *where, int named)
{
    if (where)
        err_set(err, STRATA_URL_INVALID, "%s is empty in '%s'", name, where);
    else
        err_set(err, STRATA_URL_INVALID, "%s is set but empty", name);
    err_hint(err, "set %s to a database URL (postgresql://... or sqlite:///path.db)%s", name,
             where || named ? "" : ", or unset it to use the default database");
    return STRATA_URL_INVALID;
}

strata_code strata_url_resolve(const strata_url_opts *o, char **out, strata_url_source *source,
                               strata_error *err)
{
    static const strata_url_opts none = {0};
    if (!out)
        return api_null(err, __func__, "out");
    if (!o)
        o = &none;
    const char *name = o->url_env ? o->url_env : "DATABASE_URL";
    const char *env = NULL, *file = NULL;
    strata_url_source src = STRATA_URL_FROM_FLAG;
    char *url = NULL;
    strata_code rc;
    *out = NULL;
    if (o->url_env && !*o->url_env) {
        err_set(err, STRATA_USAGE, "--url-env names no variable");
        err_hint(err, "pass the name of a variable that holds the URL, e.g. --url-env PROD_DATABASE_URL");
        return STRATA_USAGE;
    }
    if (o->url) {
        if (!*o->url) {
            err_set(err, STRATA_URL_INVALID, "the database URL given with --url is empty");
            err_hint(err, "pass a URL (postgresql://... or sqlite:///path.db), or drop --url");
            return STRATA_URL_INVALID;
        }
        url = xstrdup(o->url);
    } else if ((env = getenv(name)) != NULL) {
        /* set, even to "": the real environment is never overridden */
        if (!*env)
            return empty_var(err, name, NULL, o->url_env != NULL);
        url = xstrdup(env);
        src = STRATA_URL_FROM_ENV;
    } else {
        src = STRATA_URL_FROM_ENV_FILE;
        if (o->env_file) {
            file = o->env_file;
            if ((rc = env_file_lookup(file, name, &url, err)))
                return rc;
            if (!url && access(file, F_OK) != 0) {
                err_set(err, STRATA_CONFIG_ERROR, "cannot read env file '%s': no such file", file);
                return STRATA_CONFIG_ERROR;
            }
        } else {
            /* .env.local overrides .env, as in dotenv-flow and Vite (and
               its variables are seen by .env's ${NAME}) */
            if ((rc = env_files_lookup(".env.local", ".env", name, &url, &file, err)))
                return rc;
        }
        if (url && !*url) {
            free(url);
            return empty_var(err, name, file, o->url_env != NULL);
        }
    }
    if (!url && (o->url_env || o->env_file)) {
        /* the user named where the URL is: the default is not what they meant */
        if (o->env_file)
            err_set(err, STRATA_DATABASE_URL_REQUIRED, "%s is set neither in the environment nor in '%s'",
                    name, o->env_file);
        else
            err_set(err, STRATA_DATABASE_URL_REQUIRED, "%s is not set", name);
        if (o->url_env)
            err_hint(err, "export %s or drop --url-env", name);
        else
            err_hint(err, "add %s=... to %s, export %s, or drop --env-file", name, o->env_file, name);
        return STRATA_DATABASE_URL_REQUIRED;
    }
    /* blanks around a URL (a trailing space or CR in an env file) are never
       part of it */
    if (url && url_is_padded(url)) {
        char *t = url_trim(url);
        free(url);
        url = t;
        if (url && !*url) {
            free(url);
            err_set(err, STRATA_URL_INVALID, "the database URL is blank");
            err_hint(err, "pass a URL (postgresql://... or sqlite:///path.db)");
            return STRATA_URL_INVALID;
        }
    }
    if (!url) {
        const char *strict = getenv("STRATA_REQUIRE_URL");
        if (o->require_url || (strict && (!strcmp(strict, "1") || !c_strcasecmp(strict, "true")))) {
            err_set(err, STRATA_DATABASE_URL_REQUIRED, "%s is required", name);
            err_hint(err, "pass --url or set %s in the environment or in .env", name);
            return STRATA_DATABASE_URL_REQUIRED;
        }
        url = xstrdup(STRATA_DEFAULT_URL);
        src = STRATA_URL_FROM_DEFAULT;
    }
    if (!url)
        return err_set(err, STRATA_NOMEM, "out of memory");
    *out = url;
    if (source)
        *source = src;
    return STRATA_OK;
}

/* A hint for a SQLite path that could not be opened and was probably meant
   as absolute: sqlite:///tmp/x.db names tmp/x.db in the current directory
   (the SQLAlchemy rule), but no ./tmp exists while /tmp does. NULL when
   that is not the case; else out. */
const char *sqlite_abs_hint(const char *path, char *out, size_t n)
{
    if (!path || !*path || path[0] == '/' || !strcmp(path, ":memory:"))
        return NULL;
    const char *sl = strchr(path, '/');
    if (!sl || sl == path)
        return NULL;
    char first[512], root[514];
    snprintf(first, sizeof(first), "%.*s", (int)(sl - path), path);
    snprintf(root, sizeof(root), "/%s", first);
    struct stat st;
    if (stat(first, &st) == 0 || stat(root, &st) != 0 || !S_ISDIR(st.st_mode))
        return NULL;
    snprintf(out, n,
             "sqlite:///%s names '%s' relative to the current directory, which has no '%s'; for the "
             "absolute path /%s write four slashes: sqlite:////%s",
             path, path, first, path, path);
    return out;
}
