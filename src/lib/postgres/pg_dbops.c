/*
 * postgres/pg_dbops.c -- the PostgreSQL database as a whole: the locality
 * rule, create, drop and wait. create and drop run in the maintenance
 * database of the same server ("postgres", else "template1"), reached with
 * the URL's own credentials by overriding only its database name.
 */
#include "ops.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* 1 when host (n bytes) is a Unix socket or a loopback address. */
static int host_is_local(const char *h, size_t n)
{
    char a[256];
    while (n && (*h == ' ' || *h == '\t'))
        h++, n--;
    while (n && (h[n - 1] == ' ' || h[n - 1] == '\t'))
        n--;
    if (n == 0 || h[0] == '/' || h[0] == '@')
        return 1;
    if (n >= 2 && h[0] == '[' && h[n - 1] == ']')
        h++, n -= 2;
    if (n >= sizeof(a))
        return 0;
    memcpy(a, h, n);
    a[n] = 0;
    if (!c_strcasecmp(a, "localhost") || !c_strcasecmp(a, "localhost."))
        return 1;
    unsigned char ip[16];
    if (inet_pton(AF_INET, a, ip) == 1)
        return ip[0] == 127;
    if (inet_pton(AF_INET6, a, ip) == 1) {
        static const unsigned char loop6[16] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1};
        static const unsigned char mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
        return !memcmp(ip, loop6, 16) || (!memcmp(ip, mapped, 12) && ip[12] == 127);
    }
    return 0;
}
/* The i-th comma-separated entry of list (NULL list: ""). */
static size_t list_item(const char *list, size_t i, const char **item)
{
    const char *p = list ? list : "";
    for (; i > 0; i--) {
        p = strchr(p, ',');
        if (!p) {
            *item = "";
            return 0;
        }
        p++;
    }
    *item = p;
    return strcspn(p, ",");
}
static size_t list_len(const char *list)
{
    size_t n = 1;
    for (const char *p = list ? list : ""; *p; p++)
        n += *p == ',';
    return n;
}
static strata_code not_local(strata_error *err, const char *url, const char *what, const char *h, size_t n)
{
    char *red = strata_url_redact(url);
    err_set(err, STRATA_NOT_LOCAL, "%s is not a local database (%s '%.*s')", red ? red : "the database", what,
            (int)(n > 200 ? 200 : n), h);
    free(red);
    err_hint(err, "reset and restore run only on local databases (a SQLite file, a Unix socket, "
                  "localhost, 127.0.0.0/8, ::1); pass --force to run it on this one anyway");
    return STRATA_NOT_LOCAL;
}
strata_code pg_check_local(const db_url *t, strata_error *err)
{
    const char *url = t->url;
    const char *service = url_pg_opt(t, "service");
    if (!service && getenv("PGSERVICE") && *getenv("PGSERVICE"))
        service = getenv("PGSERVICE");
    const char *host = url_pg_opt(t, "host");
    const char *hostaddr = url_pg_opt(t, "hostaddr");
    if (!host)
        host = getenv("PGHOST");
    if (!hostaddr)
        hostaddr = getenv("PGHOSTADDR");
    if (service)
        return not_local(err, url, "connection service", service, strlen(service));
    size_t n = list_len(host), na = hostaddr && *hostaddr ? list_len(hostaddr) : 0;
    if (na > n)
        n = na;
    for (size_t i = 0; i < n; i++) {
        const char *h = "", *a = "";
        size_t hl = list_item(host, i, &h), al = na ? list_item(hostaddr, i, &a) : 0;
        /* hostaddr, when given, is where libpq connects; host then only
           names the server for authentication and TLS */
        if (al ? !host_is_local(a, al) : !host_is_local(h, hl))
            return al ? not_local(err, url, "hostaddr", a, al) : not_local(err, url, "host", h, hl);
    }
    return STRATA_OK;
}

/* Connects to the maintenance database of t's server. */
static strata_code maintenance(const db_url *t, PGconn **c, strata_error *err)
{
    static const char *const names[] = {"postgres", "template1"};
    strata_error first;
    int tried = 0, retry = 0;
    strata_error_clear(&first);
    for (size_t i = 0; i < 2; i++) {
        if (!strcmp(t->dbname, names[i]))
            continue;
        strata_code rc = pg_connect_url(t, names[i], 0, c, &retry, tried ? NULL : &first);
        if (rc == STRATA_OK)
            return STRATA_OK;
        tried = 1;
        if (rc != STRATA_CONNECT_FAILED || retry)
            break; /* the server is down: the next name will not help */
    }
    if (err)
        *err = first;
    return first.code ? first.code : STRATA_CONNECT_FAILED;
}
static strata_code need_dbname(const db_url *t, strata_error *err)
{
    if (t->dbname)
        return STRATA_OK;
    char *red = strata_url_redact(t->url);
    err_set(err, STRATA_URL_INVALID, "the URL %s names no database", red ? red : "");
    free(red);
    err_hint(err, "put the database name in the URL: postgresql://user:password@host:5432/NAME");
    return STRATA_URL_INVALID;
}
static int db_exists(PGconn *c, const db_url *t, int *exists, strata_error *err)
{
    PGresult *r;
    const char *p[1] = {t->dbname};
    strata_code rc =
        pg_run(c, t->url, STRATA_DB_ERROR, "SELECT 1 FROM pg_database WHERE datname = $1", 1, p, &r, err);
    if (rc)
        return rc;
    *exists = pq.PQntuples(r) > 0;
    pq.PQclear(r);
    return STRATA_OK;
}
static strata_code pg_create(const db_url *t, const strata_create_opts *o, int *existed, strata_error *err)
{
    PGconn *c = NULL;
    int exists = 0;
    strata_code rc = maintenance(t, &c, err);
    if (rc || (rc = db_exists(c, t, &exists, err)))
        goto out;
    if (exists) {
        *existed = 1;
        goto out;
    }
    buf b;
    buf_init(&b);
    buf_adds(&b, "CREATE DATABASE ");
    buf_add_quoted_ident(&b, t->dbname);
    buf_adds(&b, " ENCODING 'UTF8' TEMPLATE template0");
    if (o && o->locale) {
        buf_adds(&b, " LOCALE ");
        buf_add_sqlstr(&b, o->locale);
    }
    if (o && o->lc_collate) {
        buf_adds(&b, " LC_COLLATE ");
        buf_add_sqlstr(&b, o->lc_collate);
    }
    if (o && o->lc_ctype) {
        buf_adds(&b, " LC_CTYPE ");
        buf_add_sqlstr(&b, o->lc_ctype);
    }
    if (o && o->owner) {
        buf_adds(&b, " OWNER ");
        buf_add_quoted_ident(&b, o->owner);
    }
    if (b.oom) {
        buf_release(&b);
        rc = err_set(err, STRATA_NOMEM, "out of memory");
        goto out;
    }
    rc = pg_run(c, t->url, STRATA_DB_ERROR, b.data, 0, NULL, NULL, err);
    buf_release(&b);
    /* created meanwhile by someone else (replicas running create at once):
       42P04, or 23505 on pg_database's name index when both got past the
       server's own check -- then the database is there now */
    int now = 0;
    strata_error e2;
    if (rc && (!strcmp(err->sqlstate, "42P04") ||
               (!strcmp(err->sqlstate, "23505") && !db_exists(c, t, &now, &e2) && now))) {
        strata_error_clear(err);
        *existed = 1;
        rc = STRATA_OK;
    } else if (rc) {
        char m[sizeof(err->message)];
        snprintf(m, sizeof(m), "%s", err->message);
        err_set(err, STRATA_DB_ERROR, "cannot create database '%s': %s", t->dbname, m);
        if (strstr(m, "42501"))
            err_hint(err, "the user needs the CREATEDB privilege (ALTER ROLE ... CREATEDB)");
        else if (strstr(m, "22023") || strstr(m, "locale") || strstr(m, "encoding")) {
            /* the UTF-8 locales this server has (initdb imported them as
               collations), not a guess that may be the one that failed */
            PGresult *r;
            strata_error ignore;
            buf l;
            buf_init(&l);
            if (!pg_run(c, t->url, STRATA_DB_ERROR,
                        "SELECT DISTINCT collcollate FROM pg_collation WHERE collprovider = 'c' AND "
                        "collencoding IN (-1, pg_char_to_encoding('UTF8')) AND collcollate ~* 'utf-?8' "
                        "ORDER BY 1 LIMIT 6",
                        0, NULL, &r, &ignore)) {
                for (int i = 0; i < pq.PQntuples(r); i++)
                    buf_addf(&l, "%s%s", i ? ", " : "", pq.PQgetvalue(r, i, 0));
                pq.PQclear(r);
            }
            err_hint(err, "pick a UTF-8 locale the server has: %s (or leave out --locale)",
                     l.len ? l.data : "C.UTF-8");
            buf_release(&l);
        }
    }
out:
    pg_finish(c);
    return rc;
}
/* Lists the other sessions connected to the database, for DATABASE_IN_USE. */
static void describe_sessions(PGconn *c, const db_url *t, buf *b)
{
    PGresult *r;
    strata_error ignore;
    const char *p[1] = {t->dbname};
    if (pg_run(c, t->url, STRATA_DB_ERROR,
               "SELECT pid, coalesce(usename, '?'), coalesce(nullif(application_name, ''), '-'), "
               "coalesce(host(client_addr), 'local') FROM pg_stat_activity "
               "WHERE datname = $1 AND pid <> pg_backend_pid() ORDER BY pid",
               1, p, &r, &ignore))
        return;
    int n = pq.PQntuples(r);
    for (int i = 0; i < n && i < 10; i++)
        buf_addf(b, "%spid %s (user %s, application %s, from %s)", i ? ", " : ": ", pq.PQgetvalue(r, i, 0),
                 pq.PQgetvalue(r, i, 1), pq.PQgetvalue(r, i, 2), pq.PQgetvalue(r, i, 3));
    if (n > 10)
        buf_addf(b, " and %d more", n - 10);
    pq.PQclear(r);
}
static strata_code pg_drop(const db_url *t, int flags, int *missing, strata_error *err)
{
    PGconn *c = NULL;
    int exists = 0;
    strata_code rc = maintenance(t, &c, err);
    if (rc || (rc = db_exists(c, t, &exists, err)))
        goto out;
    if (!exists) {
        *missing = 1;
        goto out;
    }
    int force = flags & STRATA_DROP_FORCE;
    if (force && pq.PQserverVersion(c) < 130000) {
        rc = err_set(err, STRATA_USAGE,
                     "--force needs PostgreSQL 13 or newer (DROP DATABASE ... WITH (FORCE))");
        err_hint(err, "end the other sessions (pg_terminate_backend), then drop without --force");
        goto out;
    }
    buf b;
    buf_init(&b);
    /* no IF EXISTS: of several drops at once, the one the server dropped
       it for says so; the others find it gone (3D000), as when it was
       missing from the start */
    buf_adds(&b, "DROP DATABASE ");
    buf_add_quoted_ident(&b, t->dbname);
    if (force)
        buf_adds(&b, " WITH (FORCE)");
    strata_error e;
    rc = b.oom ? err_set(err, STRATA_NOMEM, "out of memory")
               : pg_run(c, t->url, STRATA_DB_ERROR, b.data, 0, NULL, NULL, &e);
    buf_release(&b);
    if (rc && !strcmp(e.sqlstate, "3D000")) {
        *missing = 1;
        rc = STRATA_OK;
    } else if (rc && err) {
        *err = e;
    }
    if (rc && !strcmp(e.sqlstate, "55006")) {
        char m[sizeof(e.message)];
        snprintf(m, sizeof(m), "%s", e.message);
        buf_init(&b);
        describe_sessions(c, t, &b);
        err_set(err, STRATA_DATABASE_IN_USE, "cannot drop database '%s': it has open connections%s (%s)",
                t->dbname, b.data ? b.data : "", m);
        err_hint(err, "close them first, or pass --force to terminate them (DROP DATABASE ... WITH (FORCE))");
        buf_release(&b);
        if (err)
            url_scrub(err->message, sizeof(err->message), t->url);
    } else if (rc) {
        char m[sizeof(e.message)];
        snprintf(m, sizeof(m), "%s", e.message);
        err_set(err, rc, "cannot drop database '%s': %s", t->dbname, m);
        if (strstr(m, "42501"))
            err_hint(err, "only the owner of the database (or a superuser) may drop it");
    }
out:
    pg_finish(c);
    return rc;
}
strata_code pg_db_create_or_drop(const db_url *t, const strata_create_opts *o, int drop, int flags, int *flag,
                                 char **name, strata_error *err)
{
    strata_code rc = need_dbname(t, err);
    if (!rc && strlen(t->dbname) > 63) {
        /* PostgreSQL would cut it, and strata would report a name that is
           not the database's */
        rc = err_set(err, STRATA_USAGE, "database name '%s' is longer than PostgreSQL's 63 bytes", t->dbname);
        err_hint(err, "PostgreSQL would cut it at 63 bytes; choose a shorter name; nothing was changed");
    }
    if (!rc)
        rc = drop ? pg_drop(t, flags, flag, err) : pg_create(t, o, flag, err);
    if (!rc && name && !(*name = xstrdup(t->dbname)))
        rc = err_set(err, STRATA_NOMEM, "out of memory");
    return rc;
}

static void notice(const strata_config *cfg, const char *text)
{
    if (cfg && cfg->on_event) {
        strata_event ev = {STRATA_EV_NOTICE, 0, text, 0};
        cfg->on_event(cfg->userdata, &ev);
    }
}

strata_code pg_wait(const db_url *t, double timeout, const strata_config *cfg, int *attempts,
                    strata_error *err)
{
    double start = clock_ms(), deadline = start + timeout * 1000.0, delay = 100;
    strata_code rc;
    strata_error last;
    int refused = 0;
    for (;;) {
        PGconn *c = NULL;
        int retry = 0;
        ++*attempts;
        /* an attempt ends with its own time or the remaining time, but
           has at least 1 s: a first try with --timeout 0 must still be
           able to connect */
        double d = deadline - clock_ms() < 1000 ? clock_ms() + 1000 : deadline;
        rc = pg_connect_url(t, NULL, d, &c, &retry, &last);
        pg_finish(c);
        if (rc == STRATA_INTERRUPTED || intr_requested()) { /* a signal, during or before it */
            rc = intr_error(err, "while waiting for the database");
            break;
        }
        if (rc == STRATA_OK || (!retry && refused)) {
            if (rc && err)
                *err = last;
            break;
        }
        if (!retry) {
            /* refused once: try again at once, in case it was the moment
               the server became ready; refused twice is an answer */
            refused = 1;
            continue;
        }
        refused = 0;
        double now = clock_ms();
        if (now >= deadline) {
            err_set(err, STRATA_WAIT_TIMEOUT,
                    "gave up after %.*f s waiting for the database (%d attempt%s): %s",
                    now - start < 9950 ? 1 : 0, (now - start) / 1000.0, *attempts, *attempts == 1 ? "" : "s",
                    last.message);
            err_hint(err, "%s%sraise --timeout to wait longer%s", last.hint[0] ? last.hint : "",
                     last.hint[0] ? " (" : "", last.hint[0] ? ")" : "");
            rc = STRATA_WAIT_TIMEOUT;
            break;
        }
        char msg[sizeof(last.message) + 64];
        snprintf(msg, sizeof(msg), "not ready (attempt %d): %s\n", *attempts, last.message);
        notice(cfg, msg);
        backoff_sleep(&delay, 2, 1000, 0, now, deadline);
        if (intr_requested()) {
            rc = intr_error(err, "while waiting for the database");
            break;
        }
    }
    return rc;
}

/* ------------------------------------------------------------ scratch */

/* url with its database replaced by db: libpq lets a later dbname query
   parameter override the path, whatever form the URL has. */
static char *url_with_db(const char *url, const char *db)
{
    buf b;
    buf_init(&b);
    size_t n = strcspn(url, "#");
    buf_add(&b, url, n);
    const char *q = memchr(url, '?', n);
    if (!q)
        buf_adds(&b, "?");
    else if (url[n - 1] != '?' && url[n - 1] != '&')
        buf_adds(&b, "&");
    buf_addf(&b, "dbname=%s", db);
    return buf_detach(&b);
}

static strata_code exec(strata *db, const char *sql, int n, const char *const *p, strata_error *err)
{
    drv *d = db_driver(db);
    return d->ops->query(d, sql, n, p, NULL, NULL, err);
}

/* Connects to the server of url: its own database, else postgres, else template1. */
static strata_code open_admin(const char *url, strata **db, char **used, strata_error *err)
{
    static const char *fallback[] = {NULL, "postgres", "template1"};
    strata_config cfg = {.lock_timeout = 10};
    strata_code rc = STRATA_OK;
    strata_error first;
    for (int i = 0; i < 3; i++) {
        char *u = fallback[i] ? url_with_db(url, fallback[i]) : xstrdup(url);
        if (!u)
            return err_set(err, STRATA_NOMEM, "out of memory");
        rc = strata_open(u, &cfg, db, i ? NULL : &first);
        if (rc == STRATA_OK) {
            *used = u;
            return STRATA_OK;
        }
        free(u);
        if (rc != STRATA_CONNECT_FAILED || !strstr(first.message, "does not exist"))
            break;
    }
    if (err)
        *err = first;
    return first.code;
}

strata_code pg_scratch_drop(const char *name, const char *admin_url, strata_error *err)
{
    strata *db = NULL;
    strata_config cfg = {.lock_timeout = 10};
    strata_code rc = strata_open(admin_url, &cfg, &db, err);
    if (rc)
        return rc;
    buf sql;
    buf_init(&sql);
    buf_adds(&sql, "DROP DATABASE IF EXISTS ");
    buf_add_ident(&sql, name);
    size_t plain = sql.len;
    buf_adds(&sql, " WITH (FORCE)");
    rc = sql.data ? exec(db, sql.data, 0, NULL, err) : err_set(err, STRATA_NOMEM, "out of memory");
    if (rc && err && !strcmp(err->sqlstate, "42601")) {
        /* before PostgreSQL 13: end the sessions, then drop */
        const char *p[1] = {name};
        sql.data[plain] = 0;
        exec(db, "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1", 1, p, err);
        rc = exec(db, sql.data, 0, NULL, err);
    }
    buf_release(&sql);
    strata_close(db);
    return rc;
}

/* Drops the scratch databases a killed check or diff left behind: named
   strata_check_<hex creation time>..., created over an hour ago by this
   user, with no session on them. Best effort: errors are ignored. */
static void sweep_stale_scratch(strata *db)
{
    static const char *q =
        "SELECT datname FROM pg_database d WHERE datname ~ '^strata_check_[0-9a-f]{8}[0-9a-f]{12}$' "
        "AND pg_get_userbyid(datdba) = current_user "
        "AND ('x' || substr(datname, 14, 8))::bit(32)::bigint < extract(epoch FROM now()) - 3600 "
        "AND NOT EXISTS (SELECT 1 FROM pg_stat_activity a WHERE a.datname = d.datname)";
    buf names, sql;
    buf_init(&names);
    buf_init(&sql);
    drv *d = db_driver(db);
    if (d->ops->query(d, q, 0, NULL, row_collect, &names, NULL) == STRATA_OK && !names.oom)
        for (size_t i = 0; i < names.len; i += strlen(names.data + i) + 1) {
            buf_reset(&sql);
            buf_adds(&sql, "DROP DATABASE IF EXISTS ");
            buf_add_ident(&sql, names.data + i);
            if (!sql.oom)
                d->ops->query(d, sql.data, 0, NULL, NULL, NULL, NULL);
        }
    buf_release(&names);
    buf_release(&sql);
}

/*
 * A fresh scratch database has only public: when the URL's search_path
 * (?options=-csearch_path=app) names no schema that exists there, the first
 * one it names is created, as it exists in the database being compared (its
 * version table could not have been made otherwise); "$user" is the
 * role's own schema. Best effort: a failure shows when the version table is
 * made.
 */
static void scratch_search_path(const char *url)
{
    strata *db = NULL;
    strata_config cfg = {.lock_timeout = 10};
    if (strata_open(url, &cfg, &db, NULL))
        return;
    drv *d = db_driver(db);
    char *path = NULL;
    /* "$user" is the role's own schema: current_user, before a tab (no
       search_path element holds one unquoted) */
    d->ops->query(
        d, "SELECT current_user || chr(9) || current_setting('search_path') WHERE current_schema() IS NULL",
        0, NULL, row_first_value, &path, NULL);
    char *user = path, *tab = path ? strchr(path, '\t') : NULL;
    if (tab)
        *tab = 0;
    for (const char *p = tab ? tab + 1 : NULL; p && *p;) {
        buf one;
        buf_init(&one);
        while (*p == ' ' || *p == ',')
            p++;
        const char *s = p;
        if (*p == '"') {
            for (p++; *p && !(*p == '"' && p[1] != '"'); p++)
                p += *p == '"';
            p += *p == '"';
        } else {
            while (*p && *p != ',' && *p != ' ')
                p++;
        }
        sql_ident_append(&one, s, (size_t)(p - s));
        while (*p && *p != ',')
            p++;
        if (one.data && one.len) {
            buf sql;
            buf_init(&sql);
            buf_adds(&sql, "CREATE SCHEMA IF NOT EXISTS ");
            buf_add_quoted_ident(&sql, strcmp(one.data, "$user") ? one.data : user);
            if (sql.data)
                exec(db, sql.data, 0, NULL, NULL);
            buf_release(&sql);
            buf_release(&one);
            break;
        }
        buf_release(&one);
    }
    free(path);
    strata_close(db);
}

/* A scratch database: CREATE DATABASE name on the server of server_url;
   stale scratch databases of killed runs are dropped on the way. */
strata_code pg_scratch_create(const db_url *server, const char *name, char **url, char **dbname,
                              char **admin_url, strata_error *err)
{
    strata *db = NULL;
    buf sql;
    buf_init(&sql);
    *url = *admin_url = NULL;
    *dbname = xstrdup(name);
    const char *server_url = server->url;
    strata_code rc =
        *dbname ? open_admin(server_url, &db, admin_url, err) : err_set(err, STRATA_NOMEM, "out of memory");
    if (!rc) {
        buf_adds(&sql, "CREATE DATABASE ");
        buf_add_ident(&sql, name);
        buf_adds(&sql, " TEMPLATE template0");
        rc = sql.data ? exec(db, sql.data, 0, NULL, err) : err_set(err, STRATA_NOMEM, "out of memory");
        if (rc && err && !strcmp(err->sqlstate, "42501"))
            err_hint(err, "the user of the URL needs the CREATEDB privilege for the scratch database "
                          "(ALTER ROLE ... CREATEDB)");
        if (!rc)
            sweep_stale_scratch(db);
    }
    buf_release(&sql);
    strata_close(db);
    if (!rc && !(*url = url_with_db(server_url, name)))
        rc = err_set(err, STRATA_NOMEM, "out of memory");
    if (!rc)
        scratch_search_path(*url);
    if (rc) {
        if (*admin_url && *url) {
            strata_error ignore;
            pg_scratch_drop(name, *admin_url, &ignore);
        }
        free(*url);
        free(*admin_url);
        free(*dbname);
        *url = *admin_url = *dbname = NULL;
    }
    return rc;
}
