/*
 * dbops.c -- operations on a database as a whole: the locality rule,
 * create, drop and wait.
 *
 * create and drop on PostgreSQL run in the maintenance database of the same
 * server ("postgres", else "template1"), reached with the URL's own
 * credentials by overriding only its database name.
 */
#include "ops.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

double ops_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1000.0 + (double)ts.tv_nsec / 1e6;
}

void ops_sleep_ms(double ms)
{
    if (ms <= 0)
        return;
    struct timespec ts = {(time_t)(ms / 1000.0), (long)((ms - (double)(long)(ms / 1000.0) * 1000.0) * 1e6)};
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
        ;
}

void buf_add_quoted_ident(buf *b, const char *s)
{
    buf_add(b, "\"", 1);
    for (; *s; s++) {
        if (*s == '"')
            buf_add(b, "\"", 1);
        buf_add(b, s, 1);
    }
    buf_add(b, "\"", 1);
}

int pg_major(int v)
{
    return v >= 100000 ? v / 10000 * 100 : v / 100;
}

void pg_major_str(int major, char out[16])
{
    if (major >= 1000)
        snprintf(out, 16, "%d", major / 100);
    else
        snprintf(out, 16, "%d.%d", major / 100, major % 100);
}

/* ------------------------------------------------------------ PG targets */

strata_code pg_target_init(pg_target *t, const char *url, strata_error *err)
{
    db_url u;
    memset(t, 0, sizeof(*t));
    strata_code rc = url_parse(url, &u, err);
    if (rc)
        return rc;
    if (u.engine != DIALECT_POSTGRES) {
        url_release(&u);
        return err_set(err, STRATA_INTERNAL, "not a PostgreSQL URL");
    }
    t->url = xstrdup(url);
    t->conninfo = u.conninfo;
    u.conninfo = NULL;
    url_release(&u);
    char *perr = NULL;
    t->opts = pq.PQconninfoParse(t->conninfo, &perr);
    pq.PQfreemem(perr);
    if (!t->url || !t->opts) { /* url_parse parsed it already: only OOM is left */
        pg_target_release(t);
        return err_set(err, STRATA_NOMEM, "out of memory");
    }
    t->password = pg_target_opt(t, "password");
    t->dbname = pg_target_opt(t, "dbname");
    return STRATA_OK;
}

void pg_target_release(pg_target *t)
{
    if (t->opts)
        pq.PQconninfoFree(t->opts);
    free(t->url);
    free(t->conninfo);
    memset(t, 0, sizeof(*t));
}

const char *pg_target_opt(const pg_target *t, const char *kw)
{
    for (PQconninfoOption *o = t->opts; o && o->keyword; o++)
        if (!strcmp(o->keyword, kw))
            return o->val && *o->val ? o->val : NULL;
    return NULL;
}

static void connect_hint(strata_error *err, const char *m)
{
    if (strstr(m, "password authentication failed") || strstr(m, "no password supplied"))
        err_hint(err, "check the user name and password in the URL (PGPASSWORD and ~/.pgpass also apply)");
    else if (strstr(m, "Connection refused") || strstr(m, "could not translate host name") ||
             strstr(m, "timeout expired") || strstr(m, "No such file or directory"))
        err_hint(err, "is PostgreSQL running and reachable at that host and port?");
    else if (strstr(m, "does not exist") && strstr(m, "database"))
        err_hint(err, "create it with 'strata create' (same URL), or fix the database name in the URL");
}

/* Not worth waiting for: the server answered and refused us. The
   exceptions: too many connections, and a server starting up, shutting
   down or in recovery (PQping says PQPING_REJECT for those, but only while
   it lasts: the text catches a server that became ready in between). */
static int worth_retry(const pg_target *t, const char *const *keys, const char *const *vals,
                       const char *msg)
{
    if (strstr(msg, "too many clients") || strstr(msg, "remaining connection slots") ||
        strstr(msg, "too many connections") ||
        strstr(msg, "the database system is"))
        return 1;
    (void)t;
    PGPing p = pq.PQpingParams(keys, vals, 1);
    return p == PQPING_NO_RESPONSE || p == PQPING_REJECT;
}

strata_code pg_target_connect(const pg_target *t, const char *dbname, double deadline,
                              PGconn **out, int *retry, strata_error *err)
{
    /* "dbname" is expanded as a connection string the first time only; a
       second "dbname" then replaces just the database name */
    const char *keys[] = {"connect_timeout", "fallback_application_name", "dbname", "dbname", NULL};
    const char *vals[] = {"2", "strata", t->conninfo, dbname, NULL};
    if (!dbname)
        keys[3] = vals[3] = NULL;
    *out = NULL;
    if (retry)
        *retry = 0;
    if (deadline <= 0) {
        const char *ct = pg_target_opt(t, "connect_timeout");
        double secs = ct ? atof(ct) : 10;
        deadline = ops_now_ms() + (secs > 0 ? secs : 10) * 1000.0;
    }
    PGconn *c = pq.PQconnectStartParams(keys, vals, 1);
    if (!c)
        return err_set(err, STRATA_NOMEM, "out of memory");
    PostgresPollingStatusType st = PGRES_POLLING_WRITING;
    int timed_out = 0;
    while (pq.PQstatus(c) != CONNECTION_BAD && st != PGRES_POLLING_OK && st != PGRES_POLLING_FAILED) {
        double left = deadline - ops_now_ms();
        if (left <= 0) {
            timed_out = 1;
            break;
        }
        struct pollfd p = {pq.PQsocket(c), st == PGRES_POLLING_READING ? POLLIN : POLLOUT, 0};
        int n = poll(&p, 1, left > 2147483647.0 ? 2147483647 : (int)left + 1);
        if (n < 0 && errno != EINTR) {
            timed_out = 1;
            break;
        }
        if (n > 0)
            st = pq.PQconnectPoll(c);
    }
    if (!timed_out && pq.PQstatus(c) == CONNECTION_OK) {
        *out = c;
        return STRATA_OK;
    }
    const char *m = timed_out ? "timeout expired" : pq.PQerrorMessage(c);
    char *red = strata_url_redact(t->url);
    err_set(err, STRATA_CONNECT_FAILED, "cannot connect to %s%s%s%s: %s", red ? red : "PostgreSQL",
            dbname ? " (database '" : "", dbname ? dbname : "", dbname ? "')" : "", m);
    if (err)
        url_scrub(err->message, sizeof(err->message), t->url);
    free(red);
    connect_hint(err, m);
    if (retry)
        *retry = timed_out || worth_retry(t, keys, vals, m);
    pq.PQfinish(c);
    return STRATA_CONNECT_FAILED;
}

int pg_is_pooled(PGconn *c)
{
    const char *force = getenv("STRATA_ASSUME_POOLER");
    if (force && !strcmp(force, "1"))
        return 1;
    PGresult *r = pq.PQexec(c, "SELECT pg_backend_pid()");
    int pooled = pq.PQresultStatus(r) == PGRES_TUPLES_OK && pq.PQntuples(r) == 1 &&
                 atoi(pq.PQgetvalue(r, 0, 0)) != pq.PQbackendPID(c);
    pq.PQclear(r);
    return pooled;
}

strata_code pg_run(PGconn *c, const char *url, strata_code code, const char *sql, int n,
                   const char *const *params, PGresult **res, strata_error *err)
{
    PGresult *r = n ? pq.PQexecParams(c, sql, n, NULL, params, NULL, NULL, 0) : pq.PQexec(c, sql);
    ExecStatusType s = pq.PQresultStatus(r);
    if (res)
        *res = NULL;
    if (s == PGRES_COMMAND_OK || s == PGRES_TUPLES_OK) {
        if (res)
            *res = r;
        else
            pq.PQclear(r);
        return STRATA_OK;
    }
    const char *primary = r ? pq.PQresultErrorField(r, PG_DIAG_MESSAGE_PRIMARY) : NULL;
    const char *detail = r ? pq.PQresultErrorField(r, PG_DIAG_MESSAGE_DETAIL) : NULL;
    const char *hint = r ? pq.PQresultErrorField(r, PG_DIAG_MESSAGE_HINT) : NULL;
    const char *state = r ? pq.PQresultErrorField(r, PG_DIAG_SQLSTATE) : NULL;
    err_set(err, code, "%s%s%s%s%s%s%s", primary ? primary : pq.PQerrorMessage(c),
            detail ? " (" : "", detail ? detail : "", detail ? ")" : "", state ? " [SQLSTATE " : "",
            state ? state : "", state ? "]" : "");
    if (err) {
        snprintf(err->sqlstate, sizeof(err->sqlstate), "%s", state ? state : "");
        url_scrub(err->message, sizeof(err->message), url);
    }
    if (hint)
        err_hint(err, "%s", hint);
    pq.PQclear(r);
    return code;
}

/* ------------------------------------------------------------ locality */

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
    if (!strcasecmp(a, "localhost") || !strcasecmp(a, "localhost."))
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

static strata_code not_local(strata_error *err, const char *url, const char *what, const char *h,
                             size_t n)
{
    char *red = strata_url_redact(url);
    err_set(err, STRATA_NOT_LOCAL, "%s is not a local database (%s '%.*s')", red ? red : "the database",
            what, (int)(n > 200 ? 200 : n), h);
    free(red);
    err_hint(err, "reset and restore run only on local databases (a SQLite file, a Unix socket, "
                  "localhost, 127.0.0.0/8, ::1); pass --force to run it on this one anyway");
    return STRATA_NOT_LOCAL;
}

strata_code strata_url_check_local(const char *url, strata_error *err)
{
    const char *engine = strata_url_engine(url);
    if (engine && !strcmp(engine, "sqlite"))
        return STRATA_OK;
    pg_target t;
    strata_code rc = pg_target_init(&t, url, err);
    if (rc)
        return rc;
    const char *service = pg_target_opt(&t, "service");
    if (!service && getenv("PGSERVICE") && *getenv("PGSERVICE"))
        service = getenv("PGSERVICE");
    const char *host = pg_target_opt(&t, "host");
    const char *hostaddr = pg_target_opt(&t, "hostaddr");
    if (!host)
        host = getenv("PGHOST");
    if (!hostaddr)
        hostaddr = getenv("PGHOSTADDR");
    if (service) {
        rc = not_local(err, url, "connection service", service, strlen(service));
        goto out;
    }
    size_t n = list_len(host), na = hostaddr && *hostaddr ? list_len(hostaddr) : 0;
    if (na > n)
        n = na;
    for (size_t i = 0; i < n; i++) {
        const char *h = "", *a = "";
        size_t hl = list_item(host, i, &h), al = na ? list_item(hostaddr, i, &a) : 0;
        /* hostaddr, when given, is where libpq connects; host then only
           names the server for authentication and TLS */
        if (al ? !host_is_local(a, al) : !host_is_local(h, hl)) {
            rc = al ? not_local(err, url, "hostaddr", a, al) : not_local(err, url, "host", h, hl);
            goto out;
        }
    }
out:
    pg_target_release(&t);
    return rc;
}

/* ---------------------------------------------------------- SQLite files */

/* 1: a SQLite database (or an empty file); 0: something else; -1: missing. */
static int sqlite_file_kind(const char *path, strata_error *err)
{
    char head[16];
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        if (errno == ENOENT)
            return -1;
        err_set(err, STRATA_IO_ERROR, "cannot read '%s': %s", path, strerror(errno));
        return -2;
    }
    ssize_t n = read(fd, head, sizeof(head));
    close(fd);
    if (n == 0)
        return 1;
    return n == (ssize_t)sizeof(head) && !memcmp(head, "SQLite format 3", 16);
}

static strata_code sqlite_create(const char *path, int *existed, strata_error *err)
{
    if (!strcmp(path, ":memory:")) {
        *existed = 1;
        return STRATA_OK;
    }
    int kind = sqlite_file_kind(path, err);
    if (kind == -2)
        return STRATA_IO_ERROR;
    if (kind == 0) {
        err_set(err, STRATA_FILE_EXISTS, "'%s' exists and is not a SQLite database", path);
        err_hint(err, "check the path in the URL");
        return STRATA_FILE_EXISTS;
    }
    if (kind == 1) {
        *existed = 1;
        return STRATA_OK;
    }
    /* O_EXCL: of two processes creating it at once, one creates it */
    int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
    if (fd < 0) {
        if (errno == EEXIST) {
            *existed = 1;
            return STRATA_OK;
        }
        err_set(err, STRATA_IO_ERROR, "cannot create '%s': %s", path, strerror(errno));
        if (errno == ENOENT)
            err_hint(err, "create the directory first");
        return STRATA_IO_ERROR;
    }
    close(fd);
    /* write the header, so that the file is a database, not just empty */
    sqlite3 *db = NULL;
    int rc = sqlite3_open_v2(path, &db, SQLITE_OPEN_READWRITE, NULL);
    if (rc == SQLITE_OK)
        rc = sqlite3_exec(db, "PRAGMA user_version = 0", NULL, NULL, NULL);
    if (rc != SQLITE_OK) {
        err_set(err, STRATA_IO_ERROR, "cannot create SQLite database '%s': %s", path,
                db ? sqlite3_errmsg(db) : sqlite3_errstr(rc));
        sqlite3_close(db);
        unlink(path);
        return STRATA_IO_ERROR;
    }
    sqlite3_close(db);
    return STRATA_OK;
}

static strata_code sqlite_drop(const char *path, int *missing, strata_error *err)
{
    if (!strcmp(path, ":memory:")) {
        *missing = 1;
        return STRATA_OK;
    }
    /* unlink would remove the link and leave the database: refuse */
    struct stat ls;
    if (lstat(path, &ls) == 0 && S_ISLNK(ls.st_mode)) {
        char to[4096];
        ssize_t n = readlink(path, to, sizeof(to) - 1);
        to[n > 0 ? n : 0] = 0;
        err_set(err, STRATA_CONFIG_ERROR, "refusing to drop '%s': it is a symbolic link to '%s'", path, to);
        err_hint(err, "name the database file itself in the URL (or remove the link with rm)");
        return STRATA_CONFIG_ERROR;
    }
    int kind = sqlite_file_kind(path, err);
    if (kind == -2)
        return STRATA_IO_ERROR;
    if (kind == 0) {
        err_set(err, STRATA_CONFIG_ERROR, "refusing to remove '%s': it is not a SQLite database", path);
        err_hint(err, "check the path in the URL");
        return STRATA_CONFIG_ERROR;
    }
    if (kind == -1)
        *missing = 1;
    return sqlite_remove_files(path, err);
}

strata_code sqlite_remove_files(const char *path, strata_error *err)
{
    /* the main file goes first: a hot journal must not disappear while its
       database stays; a stale -wal must not outlive its database either */
    static const char *const suffix[] = {"", "-journal", "-wal", "-shm"};
    for (size_t i = 0; i < sizeof(suffix) / sizeof(suffix[0]); i++) {
        char p[4200];
        snprintf(p, sizeof(p), "%s%s", path, suffix[i]);
        if (unlink(p) != 0 && errno != ENOENT)
            return err_set(err, STRATA_IO_ERROR, "cannot remove '%s': %s", p, strerror(errno));
    }
    return STRATA_OK;
}

/* ------------------------------------------------------- create and drop */

/* Connects to the maintenance database of t's server. */
static strata_code maintenance(const pg_target *t, PGconn **c, strata_error *err)
{
    static const char *const names[] = {"postgres", "template1"};
    strata_error first;
    int tried = 0, retry = 0;
    strata_error_clear(&first);
    for (size_t i = 0; i < 2; i++) {
        if (!strcmp(t->dbname, names[i]))
            continue;
        strata_code rc = pg_target_connect(t, names[i], 0, c, &retry, tried ? NULL : &first);
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

static strata_code need_dbname(const pg_target *t, strata_error *err)
{
    if (t->dbname)
        return STRATA_OK;
    char *red = strata_url_redact(t->url);
    err_set(err, STRATA_URL_INVALID, "the URL %s names no database", red ? red : "");
    free(red);
    err_hint(err, "put the database name in the URL: postgresql://user:password@host:5432/NAME");
    return STRATA_URL_INVALID;
}

static int db_exists(PGconn *c, const pg_target *t, int *exists, strata_error *err)
{
    PGresult *r;
    const char *p[1] = {t->dbname};
    strata_code rc = pg_run(c, t->url, STRATA_DB_ERROR, "SELECT 1 FROM pg_database WHERE datname = $1",
                            1, p, &r, err);
    if (rc)
        return rc;
    *exists = pq.PQntuples(r) > 0;
    pq.PQclear(r);
    return STRATA_OK;
}

static strata_code pg_create(const pg_target *t, const strata_create_opts *o, int *existed,
                             strata_error *err)
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
    if (rc && !strcmp(err->sqlstate, "42P04")) { /* created meanwhile by someone else */
        strata_error_clear(err);
        *existed = 1;
        rc = STRATA_OK;
    } else if (rc) {
        char m[sizeof(err->message)];
        snprintf(m, sizeof(m), "%s", err->message);
        err_set(err, STRATA_DB_ERROR, "cannot create database '%s': %s", t->dbname, m);
        if (strstr(m, "42501"))
            err_hint(err, "the user needs the CREATEDB privilege (ALTER ROLE ... CREATEDB)");
        else if (strstr(m, "22023") || strstr(m, "locale") || strstr(m, "encoding"))
            err_hint(err, "pick a UTF-8 locale the server has, e.g. --locale C.UTF-8 or en_US.UTF-8");
    }
out:
    pq.PQfinish(c);
    return rc;
}

/* Lists the other sessions connected to the database, for DATABASE_IN_USE. */
static void describe_sessions(PGconn *c, const pg_target *t, buf *b)
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
        buf_addf(b, "%spid %s (user %s, application %s, from %s)", i ? ", " : ": ",
                 pq.PQgetvalue(r, i, 0), pq.PQgetvalue(r, i, 1), pq.PQgetvalue(r, i, 2),
                 pq.PQgetvalue(r, i, 3));
    if (n > 10)
        buf_addf(b, " and %d more", n - 10);
    pq.PQclear(r);
}

static strata_code pg_drop(const pg_target *t, int flags, int *missing, strata_error *err)
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
        rc = err_set(err, STRATA_USAGE, "--force needs PostgreSQL 13 or newer (DROP DATABASE ... WITH (FORCE))");
        err_hint(err, "end the other sessions (pg_terminate_backend), then drop without --force");
        goto out;
    }
    buf b;
    buf_init(&b);
    buf_adds(&b, "DROP DATABASE IF EXISTS ");
    buf_add_quoted_ident(&b, t->dbname);
    if (force)
        buf_adds(&b, " WITH (FORCE)");
    rc = b.oom ? err_set(err, STRATA_NOMEM, "out of memory")
               : pg_run(c, t->url, STRATA_DB_ERROR, b.data, 0, NULL, NULL, err);
    buf_release(&b);
    if (rc && !strcmp(err->sqlstate, "55006")) {
        char m[sizeof(err->message)];
        snprintf(m, sizeof(m), "%s", err->message);
        buf_init(&b);
        describe_sessions(c, t, &b);
        err_set(err, STRATA_DATABASE_IN_USE, "cannot drop database '%s': it has open connections%s (%s)",
                t->dbname, b.data ? b.data : "", m);
        err_hint(err, "close them first, or pass --force to terminate them (DROP DATABASE ... WITH (FORCE))");
        buf_release(&b);
        if (err)
            url_scrub(err->message, sizeof(err->message), t->url);
    } else if (rc) {
        char m[sizeof(err->message)];
        snprintf(m, sizeof(m), "%s", err->message);
        err_set(err, rc, "cannot drop database '%s': %s", t->dbname, m);
        if (strstr(m, "42501"))
            err_hint(err, "only the owner of the database (or a superuser) may drop it");
    }
out:
    pq.PQfinish(c);
    return rc;
}

typedef strata_code (*sqlite_fn)(const char *path, int *flag, strata_error *err);

static strata_code create_or_drop(const char *url, const strata_create_opts *o, int drop, int flags,
                                  int *flag, char **name, strata_error *err)
{
    int dummy = 0;
    strata_error local;
    if (!err)
        err = &local;
    if (!flag)
        flag = &dummy;
    *flag = 0;
    if (name)
        *name = NULL;
    db_url u;
    strata_code rc = url_parse(url, &u, err);
    if (rc)
        return rc;
    if (u.engine == DIALECT_SQLITE) {
        if (u.readonly) {
            url_release(&u);
            err_set(err, STRATA_USAGE, "the URL opens the database read-only (?mode=ro): cannot %s it",
                    drop ? "drop" : "create");
            err_hint(err, "use a URL without ?mode=ro");
            return STRATA_USAGE;
        }
        rc = drop ? sqlite_drop(u.path, flag, err) : sqlite_create(u.path, flag, err);
        if (!rc && name && !(*name = xstrdup(u.path)))
            rc = err_set(err, STRATA_NOMEM, "out of memory");
        url_release(&u);
        return rc;
    }
    url_release(&u);
    pg_target t;
    if ((rc = pg_target_init(&t, url, err)))
        return rc;
    if (!(rc = need_dbname(&t, err)))
        rc = drop ? pg_drop(&t, flags, flag, err) : pg_create(&t, o, flag, err);
    if (!rc && name && !(*name = xstrdup(t.dbname)))
        rc = err_set(err, STRATA_NOMEM, "out of memory");
    pg_target_release(&t);
    return rc;
}

strata_code strata_db_create(const char *url, const strata_create_opts *o, int *existed, char **name,
                             strata_error *err)
{
    return create_or_drop(url, o, 0, 0, existed, name, err);
}

strata_code strata_db_drop(const char *url, int flags, int *missing, char **name, strata_error *err)
{
    return create_or_drop(url, NULL, 1, flags, missing, name, err);
}

/* ------------------------------------------------------------------ wait */

static void notice(const strata_config *cfg, const char *text)
{
    if (cfg && cfg->on_event) {
        strata_event ev = {STRATA_EV_NOTICE, 0, text, 0};
        cfg->on_event(cfg->userdata, &ev);
    }
}

strata_code strata_wait(const char *url, double timeout, const strata_config *cfg, int *attempts,
                        strata_error *err)
{
    int dummy;
    strata_error local;
    if (!err)
        err = &local;
    if (!attempts)
        attempts = &dummy;
    *attempts = 0;
    if (timeout < 0)
        timeout = 0;
    double start = ops_now_ms(), deadline = start + timeout * 1000.0, delay = 100;
    const char *engine = strata_url_engine(url);
    if (engine && !strcmp(engine, "sqlite")) {
        /* a file has nothing to wait for: it opens or it does not */
        strata_config c = {.lock_timeout = timeout, .readonly = 1};
        strata *db = NULL;
        *attempts = 1;
        strata_code rc = strata_open(url, &c, &db, err);
        strata_close(db);
        return rc;
    }
    pg_target t;
    strata_code rc = pg_target_init(&t, url, err);
    if (rc)
        return rc;
    strata_error last;
    int refused = 0;
    for (;;) {
        PGconn *c = NULL;
        int retry = 0;
        ++*attempts;
        /* an attempt may use the whole remaining time, but at least 1 s:
           a first try with --timeout 0 must still be able to connect */
        double d = deadline - ops_now_ms() < 1000 ? ops_now_ms() + 1000 : deadline;
        rc = pg_target_connect(&t, NULL, d, &c, &retry, &last);
        pq.PQfinish(c);
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
        double now = ops_now_ms();
        if (now >= deadline) {
            err_set(err, STRATA_WAIT_TIMEOUT, "gave up after %.0f s waiting for the database (%d attempt%s): %s",
                    (now - start) / 1000.0, *attempts, *attempts == 1 ? "" : "s", last.message);
            err_hint(err, "%s%sraise --timeout to wait longer%s", last.hint[0] ? last.hint : "",
                     last.hint[0] ? " (" : "", last.hint[0] ? ")" : "");
            rc = STRATA_WAIT_TIMEOUT;
            break;
        }
        char msg[sizeof(last.message) + 64];
        snprintf(msg, sizeof(msg), "not ready (attempt %d): %s\n", *attempts, last.message);
        notice(cfg, msg);
        ops_sleep_ms(delay < deadline - now ? delay : deadline - now);
        delay = delay * 2 > 1000 ? 1000 : delay * 2;
    }
    pg_target_release(&t);
    return rc;
}
