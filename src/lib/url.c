/*
 * url.c -- database URLs: resolution order, parsing, redaction.
 */
#include "internal.h"

#include <ctype.h>
#include "pqload.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

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
        base[j] = (char)tolower((unsigned char)url[j]);
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
    if (!strcmp(base, "postgres") || !strcmp(base, "postgresql"))
        return "postgres";
    if (!strcmp(base, "sqlite") || !strcmp(base, "sqlite3"))
        return "sqlite";
    return NULL;
}

void url_release(db_url *u)
{
    free(u->conninfo);
    free(u->path);
    memset(u, 0, sizeof(*u));
}

/* A SQLite URL's query: mode=ro opens the file read-only, mode=rw and
   mode=rwc are the default; any other parameter is refused by name rather
   than silently ignored. */
static strata_code sqlite_params(const char *q, db_url *out, strata_error *err)
{
    while (*q == '?' || *q == '&') {
        q++;
        size_t n = strcspn(q, "&#");
        if (n == 7 && !strncmp(q, "mode=ro", 7)) {
            out->readonly = 1;
        } else if (n && !(n == 7 && !strncmp(q, "mode=rw", 7)) &&
                   !(n == 8 && !strncmp(q, "mode=rwc", 8))) {
            err_set(err, STRATA_URL_INVALID, "unsupported SQLite URL parameter '%.*s'", (int)n, q);
            err_hint(err, "a SQLite URL takes only ?mode=ro (read-only); set the lock wait with --lock-timeout");
            return STRATA_URL_INVALID;
        }
        q += n;
    }
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
        return rc;
    }
    const char *engine = strata_url_engine(url);
    if (!url || !*url)
        return err_set(err, STRATA_URL_INVALID, "database URL is empty");
    if (!engine) {
        /* redaction only understands scheme://user:password@...; anything
           else that may hold a password (a libpq "host=... password=..."
           string) is not echoed */
        int secret = !strstr(url, "://") && (strchr(url, '@') || strcasestr(url, "password"));
        char *red = secret ? NULL : strata_url_redact(url);
        int has = scheme_of(url, base, sizeof(base)) >= 0;
        err_set(err, STRATA_URL_INVALID, "unsupported database URL%s%s%s%s%s%s",
                secret ? "" : " '", red ? red : "", secret ? "" : "'", has ? " (scheme '" : "",
                has ? base : "", has ? "')" : "");
        err_hint(err, "use postgresql://user:password@host:5432/dbname or sqlite:///path/to/file.db");
        free(red);
        return STRATA_URL_INVALID;
    }
    int colon = scheme_of(url, base, sizeof(base));
    const char *rest = url + colon + 1;
    if (!strcmp(engine, "postgres")) {
        if (rest[0] != '/' || rest[1] != '/') {
            /* libpq would echo the whole string, password included */
            err_set(err, STRATA_URL_INVALID, "invalid PostgreSQL URL: expected '//' after '%.*s:'",
                    colon, url);
            err_hint(err, "the form is postgresql://user:password@host:5432/dbname?sslmode=...");
            return STRATA_URL_INVALID;
        }
        out->engine = DIALECT_POSTGRES;
        size_t n = strlen(rest) + 16;
        out->conninfo = malloc(n);
        if (!out->conninfo)
            return err_set(err, STRATA_NOMEM, "out of memory");
        snprintf(out->conninfo, n, "postgresql:%s", rest);
        char *perr = NULL;
        strata_code lrc = pq_load(err);
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
        pq.PQconninfoFree(opts);
        return STRATA_OK;
    }
    out->engine = DIALECT_SQLITE;
    if (rest[0] == '/' && rest[1] == '/') {
        rest += 2;
        if (*rest == '/')
            rest++;
    }
    size_t n = strcspn(rest, "?");
    if (n == 0 || (n == 8 && !strncmp(rest, ":memory:", 8)))
        out->path = xstrdup(":memory:");
    else
        out->path = xstrndup(rest, n);
    if (!out->path)
        return err_set(err, STRATA_NOMEM, "out of memory");
    strata_code prc = sqlite_params(rest + n, out, err);
    if (prc)
        url_release(out);
    return prc;
}

/* Replaces every occurrence of secret (n bytes) in msg by ****; when the
   message has no room to grow, it is cut at the secret. A short secret
   (under 8 bytes) is replaced only where it stands as a word of its own --
   between characters that are not letters or digits, as in a URL's
   ":pw@" -- so that a password like "a" does not garble "database". */
static void scrub_one(char *msg, size_t cap, const char *secret, size_t n)
{
    char *from = msg, *hit;
    if (!n)
        return;
    while ((hit = memmem(from, strlen(from), secret, n)) != NULL) {
        if (n < 8 && ((hit > msg && isalnum((unsigned char)hit[-1])) || isalnum((unsigned char)hit[n]))) {
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

void url_scrub(char *msg, size_t cap, const char *url)
{
    const char *p = url ? strstr(url, "://") : NULL;
    if (!p)
        return;
    p += 3;
    size_t alen = strcspn(p, "/?#");
    const char *at = NULL, *colon;
    for (size_t i = 0; i < alen; i++)
        if (p[i] == '@')
            at = p + i;
    if (at && (colon = memchr(p, ':', (size_t)(at - p))) != NULL)
        scrub_one(msg, cap, colon + 1, (size_t)(at - colon - 1));
    /* password=... query parameters */
    for (const char *q = strchr(p, '?'); q && (*q == '?' || *q == '&');) {
        q++;
        size_t seg = strcspn(q, "&#");
        if (seg > 9 && !strncasecmp(q, "password=", 9))
            scrub_one(msg, cap, q + 9, seg - 9);
        q += seg;
    }
}

char *strata_url_redact(const char *url)
{
    if (!url)
        return NULL;
    buf b;
    buf_init(&b);
    const char *p = strstr(url, "://");
    const char *rest = url;
    if (p) {
        const char *auth = p + 3;
        size_t alen = strcspn(auth, "/?#");
        const char *at = NULL;
        for (size_t i = 0; i < alen; i++)
            if (auth[i] == '@')
                at = auth + i;
        buf_add(&b, url, (size_t)(auth - url));
        if (at) {
            const char *colon = memchr(auth, ':', (size_t)(at - auth));
            if (colon) {
                buf_add(&b, auth, (size_t)(colon - auth));
                buf_adds(&b, ":****");
            } else {
                buf_add(&b, auth, (size_t)(at - auth));
            }
            rest = at;
        } else {
            rest = auth;
        }
    }
    /* query parameters named password */
    const char *q = strchr(rest, '?');
    if (!q) {
        buf_adds(&b, rest);
        return buf_detach(&b);
    }
    buf_add(&b, rest, (size_t)(q - rest));
    const char *s = q;
    while (*s) {
        size_t seg = strcspn(s + 1, "&") + 1; /* includes the leading ? or & */
        if (seg > 10 && !strncasecmp(s + 1, "password=", 9)) {
            buf_add(&b, s, 10);
            buf_adds(&b, "****");
        } else {
            buf_add(&b, s, seg);
        }
        s += seg;
    }
    return buf_detach(&b);
}

strata_code strata_url_resolve(const strata_url_opts *o, char **out, strata_url_source *source,
                               strata_error *err)
{
    static const strata_url_opts none = {0};
    if (!o)
        o = &none;
    const char *name = o->url_env && *o->url_env ? o->url_env : "DATABASE_URL";
    strata_url_source src = STRATA_URL_FROM_FLAG;
    char *url = NULL;
    *out = NULL;
    if (o->url) {
        url = xstrdup(o->url);
    } else if (getenv(name) && *getenv(name)) {
        url = xstrdup(getenv(name));
        src = STRATA_URL_FROM_ENV;
    } else if (o->env_file) {
        if (access(o->env_file, R_OK) != 0 || env_file_lookup(o->env_file, name, &url) < 0) {
            err_set(err, STRATA_CONFIG_ERROR, "cannot read env file '%s'", o->env_file);
            return STRATA_CONFIG_ERROR;
        }
        src = STRATA_URL_FROM_ENV_FILE;
    } else {
        /* .env.local overrides .env, as in dotenv-flow and Vite */
        if (env_file_lookup(".env.local", name, &url) < 0 || !url) {
            free(url);
            url = NULL;
            env_file_lookup(".env", name, &url);
        }
        src = STRATA_URL_FROM_ENV_FILE;
    }
    if (url && url_is_padded(url)) {
        char *t = url_trim(url);
        free(url);
        url = t;
    }
    if (url && !*url) {
        free(url);
        url = NULL;
    }
    if (!url) {
        const char *strict = getenv("STRATA_REQUIRE_URL");
        if (o->require_url || (strict && (!strcmp(strict, "1") || !strcasecmp(strict, "true")))) {
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
