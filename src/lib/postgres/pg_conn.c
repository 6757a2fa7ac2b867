/*
 * postgres/pg_conn.c -- connecting to PostgreSQL, once for every part of
 * strata: connect to a parsed URL (db_url) with a deadline and a
 * retry verdict, one formatter of a server error (pg_run), pooler detection.
 */
#include "ops.h"

#include <ctype.h>
#include <errno.h>
#include <libintl.h>
#include <netdb.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

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
/* 1 when the URL gives libpq option key a value */
static int has_opt(const db_url *t, const char *key)
{
    for (const PQconninfoOption *o = t->pg_opts; o && o->keyword; o++)
        if (!strcmp(o->keyword, key) && o->val && *o->val)
            return 1;
    return 0;
}

/* 1 when m holds w as a word of its own (not inside a longer name) */
static int has_word(const char *m, const char *w)
{
    size_t n = strlen(w);
    for (const char *p = m; (p = strstr(p, w)); p++)
        if ((p == m || !(isalnum((unsigned char)p[-1]) || p[-1] == '_')) &&
            !(isalnum((unsigned char)p[n]) || p[n] == '_'))
            return 1;
    return 0;
}

/* 1 when m holds the message fmt: its literal pieces, between its
   conversions (%s, %d...), in this order */
static int holds_format(const char *m, const char *fmt)
{
    char piece[200];
    const char *at = m;
    int pieces = 0;
    while (*fmt) {
        size_t n = 0;
        while (*fmt && !(fmt[0] == '%' && fmt[1] && fmt[1] != '%') && *fmt != '\n' && n + 1 < sizeof(piece)) {
            piece[n++] = *fmt;
            fmt += fmt[0] == '%' ? 2 : 1; /* %% is a % */
        }
        piece[n] = 0;
        if (*fmt == '%') /* a conversion: skip it */
            fmt += 2;
        else if (*fmt == '\n')
            fmt++;
        if (!n)
            continue;
        const char *f = strstr(at, piece);
        if (!f)
            return 0;
        at = f + n;
        pieces++;
    }
    return pieces > 0;
}

/* 1 when m holds libpq's message msgid (as libpq writes it, without its
   newline; conversions such as %s match any text) in English or in the
   language libpq prints it in: a program that calls setlocale gets libpq's
   own messages translated (its text domain "libpq5-MAJOR"; PostgreSQL
   15's message ids end in a newline, 16's do not). The server's messages
   are another matter: see conn_codes. */
static int libpq_says(const char *m, const char *msgid)
{
    if (holds_format(m, msgid))
        return 1;
    char dom[32], id[200];
    snprintf(dom, sizeof(dom), "libpq5-%d", pq.PQlibVersion() / 10000);
    for (int nl = 1; nl >= 0; nl--) {
        snprintf(id, sizeof(id), "%s%s", msgid, nl ? "\n" : "");
        const char *t = dgettext(dom, id);
        if (t && t != id && strcmp(t, id) && holds_format(m, t))
            return 1;
    }
    return 0;
}

/* libpq's words for a server that target_session_attrs refuses because
   it takes writes (w: the URL wants a standby or a read-only session) or
   because it does not (!w) */
static int refused_as(const char *m, int w)
{
    return w ? libpq_says(m, "session is not read-only") || libpq_says(m, "server is not in hot standby mode")
             : libpq_says(m, "session is read-only") || libpq_says(m, "server is in hot standby mode");
}
static int wrong_role(const char *m)
{
    return refused_as(m, 0) || refused_as(m, 1);
}

/*
 * A server refuses a connection in its own language (lc_messages), so
 * strata does not read its words for what to do: every attempt asks libpq
 * for verbose errors (PQERRORS_VERBOSE), whose refusals carry the SQLSTATE
 * ("FATAL:  53300: sorry, too many clients already"). conn_codes copies
 * the message into out as libpq's default verbosity writes it (without the
 * code and the LOCATION line) and lists the codes found in codes
 * ("53300 57P03 ", one per refusal: a multi-host URL has one per host).
 */
static int state_char(char ch)
{
    return (ch >= '0' && ch <= '9') || (ch >= 'A' && ch <= 'Z');
}
/* "LOCATION:  InitPostgres, postinit.c:842" (its label may be translated) */
static int location_line(const char *l, size_t len)
{
    while (len && (l[len - 1] == '\n' || l[len - 1] == '\r'))
        len--;
    size_t d = 0;
    while (d < len && l[len - 1 - d] >= '0' && l[len - 1 - d] <= '9')
        d++;
    if (!d || len < d + 3 || l[len - 1 - d] != ':' || memcmp(l + len - d - 3, ".c", 2))
        return 0;
    for (size_t i = 0; i + 3 < len; i++)
        if (l[i] == ':' && l[i + 1] == ' ' && l[i + 2] == ' ')
            return memchr(l + i, ',', len - i) != NULL;
    return 0;
}
static void conn_codes(const char *m, char *out, size_t outsz, char *codes, size_t codesz)
{
    size_t o = 0, cl = 0;
    codes[0] = 0;
    while (*m && o + 1 < outsz) {
        const char *nl = strchr(m, '\n');
        size_t len = nl ? (size_t)(nl - m) + 1 : strlen(m);
        if (location_line(m, len)) {
            m += len;
            continue;
        }
        int found = 0; /* one code per line: the first, after the severity (a quoted name later on
                          the line may hold anything) */
        for (size_t i = 0; i < len && o + 1 < outsz; i++) {
            int code = !found && i + 10 <= len && m[i] == ':' && m[i + 1] == ' ' && m[i + 2] == ' ' &&
                       m[i + 8] == ':' && m[i + 9] == ' ';
            for (size_t k = 3; code && k < 8; k++)
                code = state_char(m[i + k]);
            if (!code) {
                out[o++] = m[i];
                continue;
            }
            if (cl + 7 < codesz) {
                memcpy(codes + cl, m + i + 3, 5);
                codes[cl + 5] = ' ';
                codes[cl += 6] = 0;
            }
            for (int k = 0; k < 3 && o + 1 < outsz; k++)
                out[o++] = m[i + (size_t)k];
            i += 9;
            found = 1;
        }
        m += len;
    }
    out[o] = 0;
}
static int has_code(const char *codes, const char *state)
{
    return codes && strstr(codes, state) != NULL;
}

static void connect_hint(strata_error *err, const char *m, const char *codes, int sslpass)
{
    /* first: with several hosts, the others' refusals come along */
    if (refused_as(m, 0))
        err_hint(err, "no server in the URL takes writes (target_session_attrs): a standby not promoted yet "
                      "-- a failover under way: 'strata wait' and --connect-timeout wait for it -- or a URL "
                      "that names only standbys");
    else if (wrong_role(m))
        err_hint(err, "no server in the URL is the standby target_session_attrs asks for");
    else if (has_code(codes, "28P01") || strstr(m, "password authentication failed") ||
             strstr(m, "no password supplied") || strstr(m, "SASL authentication failed") ||
             strstr(m, "password does not exist in backend") ||
             strstr(m, "failed to authenticate with backend"))
        err_hint(err, "check the user name and password in the URL (PGPASSWORD and ~/.pgpass also apply)");
    else if (strstr(m, "Peer authentication failed") || strstr(m, "Ident authentication failed"))
        err_hint(err, "the server's pg_hba.conf checks the operating-system user on this connection "
                      "(peer/ident): connect over TCP (host=localhost in the URL), or run as the OS user "
                      "of that name");
    else if (strstr(m, "no pg_hba.conf entry"))
        err_hint(err, "the server's pg_hba.conf has no line for this host, user and database (or SSL "
                      "setting): ask its administrator to add one, or check the URL's host and sslmode");
    else if (strstr(m, "Connection refused") || strstr(m, strerror(ECONNREFUSED)) ||
             libpq_says(m, "could not translate host name \"%s\" to address: %s") ||
             libpq_says(m, "timeout expired") || strstr(m, "No such file or directory") ||
             strstr(m, strerror(ENOENT)))
        err_hint(err, "is PostgreSQL running and reachable at that host and port?");
    else if (has_code(codes, "3D000") || (strstr(m, "does not exist") && strstr(m, "database")))
        err_hint(err, "create it with 'strata create' (same URL), or fix the database name in the URL");
    else if (strstr(m, "invalid response to SSL negotiation") || strstr(m, "expected authentication request"))
        err_hint(err,
                 "something answered at that host and port, but not as PostgreSQL would: check the port");
    else if (strstr(m, "too many connections for role") || strstr(m, "too many connections for database"))
        err_hint(err,
                 "the role's or database's CONNECTION LIMIT is reached: close other sessions or raise it "
                 "(strata copy needs at least 2: its own and one job's)");
    else if (strstr(m, "no more connections allowed"))
        err_hint(err, "the connection pooler in front of the server (PgBouncer's max_client_conn) takes no "
                      "more clients: close other clients, or raise it");
    else if (strstr(m, "remaining connection slots") || strstr(m, "too many clients"))
        err_hint(err, "the server's max_connections is reached: close other sessions, or raise it (strata "
                      "copy needs at least 2: its own and one job's)");
    else if (strstr(m, "certificate verify failed") || strstr(m, "root certificate file"))
        err_hint(err, "the server's certificate could not be checked: give the CA that signed it as "
                      "sslrootcert= in the URL (or PGSSLROOTCERT, ~/.postgresql/root.crt)");
    else if (strstr(m, "does not match host name"))
        err_hint(err, "connect by a name the server's certificate holds (the URL's host), or use "
                      "sslmode=verify-ca, which checks the CA but not the name");
    else if (strstr(m, "requires a valid client certificate") || strstr(m, "certificate file"))
        err_hint(err, "the server wants a client certificate: give it as sslcert= and its key as sslkey= in "
                      "the URL (or ~/.postgresql/postgresql.crt and .key)");
    else if (strstr(m, "bad decrypt") && sslpass)
        err_hint(err, "the client key's passphrase (sslpassword in the URL) does not open the key (sslkey)");
    else if (strstr(m, "but not private key file") ||
             (strstr(m, "private key file") && strstr(m, "No such file")))
        err_hint(err, "the client key file (sslkey= in the URL, else ~/.postgresql/postgresql.key) does not "
                      "exist");
    else if (strstr(m, "private key file") && strstr(m, "group or world access"))
        err_hint(err, "libpq uses a client key only when no one else may read it: chmod 600 the sslkey file");
    else if (strstr(m, "private key"))
        err_hint(err, "the client key (sslkey) could not be read: if it is encrypted, give its passphrase as "
                      "sslpassword= in the URL (strata never asks on the terminal)");
    else if (strstr(m, "no encryption"))
        err_hint(err, "the server's pg_hba.conf takes only SSL connections here: set sslmode=require (or "
                      "verify-full) in the URL");
    else if (strstr(m, "server does not support SSL"))
        err_hint(err, "the server and the sslmode (the URL's, or PGSSLMODE) disagree: enable SSL on the "
                      "server, or choose an sslmode it supports");
    else if (strstr(m, "SSL") || strstr(m, "certificate"))
        err_hint(err, "the SSL connection failed: check the URL's sslmode, sslrootcert, sslcert and sslkey");
    /* last: the refusals above by their code alone, for a server speaking
       another language (its words matched nothing above) */
    else if (has_code(codes, "53300"))
        err_hint(err, "the server's max_connections, or the role's or database's CONNECTION LIMIT, is "
                      "reached: close other sessions or raise it (strata copy needs at least 2: its own and "
                      "one job's)");
    else if (has_code(codes, "57P03"))
        err_hint(err, "the server is starting up, shutting down or recovering: 'strata wait' (or "
                      "--connect-timeout) waits for it");
    else if (has_code(codes, "28000"))
        err_hint(err,
                 "the server refused this user here (its pg_hba.conf, its authentication method, or a role "
                 "that may not log in): check the URL, or ask the server's administrator");
}
int pg_conn_full(const char *msg, const char *codes)
{
    /* the last: PgBouncer's max_client_conn (PgBouncer speaks English) */
    return has_code(codes, "53300") || strstr(msg, "too many clients") ||
           strstr(msg, "remaining connection slots") || strstr(msg, "too many connections") ||
           strstr(msg, "no more connections allowed");
}

/* Not worth waiting for: the server answered and refused us. The
   exceptions: too many connections, servers that target_session_attrs
   refuses (a failover promotes one), and a server starting up, shutting
   down or in recovery (PQping says PQPING_REJECT for those, but only while
   it lasts: the text catches a server that became ready in between). */
static int worth_retry(const char *const *keys, const char *const *vals, const char *msg, const char *codes)
{
    if (pg_conn_full(msg, codes) || has_code(codes, "57P03") || strstr(msg, "the database system is"))
        return 1;
    /* target_session_attrs refused every server: a failover (a standby
       being promoted) changes that */
    if (wrong_role(msg))
        return 1;
    /* an SSL or certificate mismatch is a settled answer, not a server on
       its way up (PQping reports no response for it); so is a client key
       that cannot be read, or a pg_hba.conf line that wants SSL */
    if (strstr(msg, "SSL") || strstr(msg, "certificate") || strstr(msg, "private key") ||
        strstr(msg, "no encryption"))
        return 0;
    /* the ping waits 2 s for a silent server, unless the URL says otherwise */
    const char *k[8] = {"connect_timeout"}, *v[8] = {"2"};
    int n = 1;
    for (int i = 0; keys[i] && n < 7; i++, n++)
        k[n] = keys[i], v[n] = vals[i];
    k[n] = v[n] = NULL;
    PGPing p = pq.PQpingParams(k, v, 1);
    return p == PQPING_NO_RESPONSE || p == PQPING_REJECT;
}
/* The library never prints: libpq's default notice processor writes the
   server's NOTICEs ("database ... does not exist, skipping") to stderr. A
   caller that shows them sets its own receiver (pg_driver: -v). */
static void quiet_notice(void *arg, const PGresult *res)
{
    (void)arg, (void)res;
}

/* what interrupt.c calls to stop and to free a connection's cancel handle */
static void cancel_send(void *h)
{
    char msg[256];
    pq.PQcancel(h, msg, sizeof(msg));
}
static void cancel_free(void *h)
{
    pq.PQfreeCancel(h);
}
void pg_track(PGconn *c)
{
    intr_untrack(c);
    if (c && intr_ready())
        intr_track(c, pq.PQgetCancel(c), cancel_send, cancel_free, pq.PQsocket(c));
}
void pg_finish(PGconn *c)
{
    intr_untrack(c);
    pq.PQfinish(c);
}

/* Entries of a libpq host, hostaddr or port list: how many, and the i-th
   (from 0) copied into out ("" past the end). */
static int list_len(const char *v)
{
    int n = v && *v ? 1 : 0;
    for (; v && *v; v++)
        n += *v == ',';
    return n;
}
/* list v past its first skip entries ("" when none are left) */
static const char *list_rest(const char *v, int skip)
{
    for (int i = 0; v && i < skip; i++)
        if ((v = strchr(v, ',')))
            v++;
    return v ? v : "";
}

static void list_at(const char *v, int i, char *out, size_t size)
{
    v = list_rest(v, i);
    size_t n = strcspn(v, ",");
    snprintf(out, size, "%.*s", (int)(n < size ? n : size - 1), v);
}

/* one address's time: connect_timeout as libpq settles it for c (the
   URL's, else PGCONNECT_TIMEOUT, else the service file's), else 10 s */
static double host_ms(PGconn *c)
{
    PQconninfoOption *o = pq.PQconninfo(c);
    double secs = 0;
    for (PQconninfoOption *x = o; x && x->keyword; x++)
        if (!strcmp(x->keyword, "connect_timeout") && x->val && *x->val)
            secs = c_strtod(x->val, NULL);
    pq.PQconninfoFree(o);
    return (secs > 0 ? secs : 10) * 1000.0;
}

/*
 * The addresses of host name `name` after `now` (the one being tried, as
 * libpq writes it: numeric), resolved as libpq resolves them (any family,
 * stream sockets), comma-separated into out. How many; 0 when there are
 * none after it, or `now` is not among them.
 */
static int addrs_after(const char *name, const char *port, const char *now, buf *out)
{
    struct addrinfo hint, *res = NULL;
    memset(&hint, 0, sizeof(hint));
    hint.ai_family = AF_UNSPEC;
    hint.ai_socktype = SOCK_STREAM;
    if (!name[0] || name[0] == '/' || name[0] == '@' || !now || !now[0] ||
        getaddrinfo(name, port && *port ? port : NULL, &hint, &res))
        return 0;
    int seen = 0, n = 0;
    for (struct addrinfo *a = res; a; a = a->ai_next) {
        char ip[NI_MAXHOST];
        if (getnameinfo(a->ai_addr, a->ai_addrlen, ip, sizeof(ip), NULL, 0, NI_NUMERICHOST))
            continue;
        if (seen) {
            buf_addf(out, "%s%s", n++ ? "," : "", ip);
        } else {
            seen = !strcmp(ip, now);
        }
    }
    freeaddrinfo(res);
    return n;
}

/* "connection to server at "HOST" (ADDRESS), port PORT: timeout expired",
   libpq's words for the address c is trying, into out */
static const char *host_timeout(PGconn *c, char *out, size_t size)
{
    const char *h = pq.PQhost(c) ? pq.PQhost(c) : "", *a = pq.PQhostaddr(c), *p = pq.PQport(c);
    if (a && *a && strcmp(a, h))
        snprintf(out, size, "connection to server at \"%s\" (%s), port %s: timeout expired", h, a,
                 p ? p : "");
    else
        snprintf(out, size, "connection to server at \"%s\", port %s: timeout expired", h, p ? p : "");
    return out;
}

/* b gets `rep`, then the entries of list v after its first skip ones, the
   r entries left of `total` (empty ones when v is not given at all) */
static void list_splice(buf *b, const char *rep, const char *v, int skip, int total)
{
    int r = total - skip;
    buf_adds(b, rep);
    if (r <= 0)
        return;
    buf_adds(b, ",");
    if (list_len(v))
        buf_adds(b, list_rest(v, skip));
    else
        for (int i = 1; i < r; i++)
            buf_adds(b, ",");
}

/*
 * libpq gives each host of a multi-host URL, and each address of a host
 * name, connect_timeout of its own and then tries the next -- but only in
 * its blocking connect; driven through PQconnectPoll, as here (a signal
 * must stop the wait), a host that takes the connection and never answers
 * (a powered-off primary behind a router, a frozen server, one dead pod of
 * several behind a name) would hold the whole attempt. So when the address
 * being tried has had host_ms, the attempt starts again from the one after
 * it: *c is replaced by a connection with the same options from there on.
 * The name's next addresses, when it has more, come first, each given to
 * libpq as a hostaddr beside the name (which libpq still uses for TLS and
 * the password file); then the hosts after it (a port list of one entry,
 * shared by every host, stays). *from is where the search for the current
 * host in the list starts (hosts are tried in order). Returns 1 when
 * restarted, 0 when this was the last address (or the options cannot be
 * read).
 */
static int next_host(PGconn **c, int *from, char *skipped, size_t size)
{
    PQconninfoOption *o = pq.PQconninfo(*c);
    if (!o)
        return 0;
    const char *host = NULL, *addr = NULL, *port = NULL;
    int n = 0;
    for (PQconninfoOption *x = o; x->keyword; x++) {
        if (!strcmp(x->keyword, "host"))
            host = x->val;
        else if (!strcmp(x->keyword, "hostaddr"))
            addr = x->val;
        else if (!strcmp(x->keyword, "port"))
            port = x->val;
        n++;
    }
    int hosts = list_len(host) > list_len(addr) ? list_len(host) : list_len(addr);
    int shared_port = list_len(port) <= 1;
    /* the current one: the first from *from whose host (or address) and
       port are the ones libpq reports */
    const char *ch = pq.PQhost(*c), *cp = pq.PQport(*c), *ca = pq.PQhostaddr(*c);
    int cur = -1;
    char h[256] = "", a[256] = "", pt[32] = "";
    for (int i = *from; i < hosts && cur < 0; i++) {
        list_at(host, i, h, sizeof(h));
        list_at(addr, i, a, sizeof(a));
        list_at(port, shared_port ? 0 : i, pt, sizeof(pt));
        /* an entry with an address of its own by that address (a name
           strata split into its addresses repeats the name), else by name */
        int same = a[0] ? (ca && !strcmp(ca, a)) || (ch && !strcmp(ch, a)) : ch && !strcmp(ch, h);
        if (same && (!cp || !*pt || !strcmp(cp, pt)))
            cur = i;
    }
    /* a name without an address of its own in the list: more addresses? */
    buf more, nh, na, np;
    buf_init(&more);
    buf_init(&nh);
    buf_init(&na);
    buf_init(&np);
    int k = cur >= 0 && !a[0] ? addrs_after(h, cp, ca, &more) : 0, rc = 0;
    if (cur < 0 || (!k && cur + 1 >= hosts))
        goto out;
    char said[600];
    size_t len = strlen(skipped), saidlen = strlen(host_timeout(*c, said, sizeof(said)));
    if (len + saidlen + 8 < size) /* else the list ends with "...; " once */
        snprintf(skipped + len, size - len, "%s; ", said);
    else if (len < 5 || strcmp(skipped + len - 5, "...; "))
        snprintf(skipped + len, size - len, "...; ");
    /* the lists from the name's next address (the name, and its port,
       once for each) or from the next host */
    if (k) {
        buf rep;
        buf_init(&rep);
        for (int i = 0; i < k; i++)
            buf_addf(&rep, "%s%s", i ? "," : "", h);
        list_splice(&nh, rep.data, host, cur + 1, hosts);
        buf_reset(&rep);
        for (int i = 0; i < k; i++)
            buf_addf(&rep, "%s%s", i ? "," : "", pt);
        list_splice(&np, rep.data, port, cur + 1, hosts);
        buf_release(&rep);
        list_splice(&na, more.data, addr, cur + 1, hosts);
    } else {
        buf_adds(&nh, list_rest(host, cur + 1));
        buf_adds(&na, list_rest(addr, cur + 1));
        buf_adds(&np, list_rest(port, cur + 1));
    }
    const char **keys = calloc((size_t)n + 1, sizeof(*keys)), **vals = calloc((size_t)n + 1, sizeof(*vals));
    int nk = 0;
    for (PQconninfoOption *x = o; keys && vals && !nh.oom && !na.oom && !np.oom && x->keyword; x++) {
        const char *v = x->val;
        if (!strcmp(x->keyword, "host") && host)
            v = nh.data ? nh.data : "";
        else if (!strcmp(x->keyword, "hostaddr") && (addr || k))
            v = na.data ? na.data : "";
        else if (!strcmp(x->keyword, "port") && port && !shared_port)
            v = np.data ? np.data : "";
        if (!v)
            continue;
        keys[nk] = x->keyword;
        vals[nk++] = v;
    }
    if (nh.oom || na.oom || np.oom) {
        free(keys);
        free(vals);
        goto out;
    }
    PGconn *nc = keys && vals ? pq.PQconnectStartParams(keys, vals, 0) : NULL;
    free(keys);
    free(vals);
    if (nc) {
        pq.PQsetErrorVerbosity(nc, PQERRORS_VERBOSE); /* conn_codes */
        pq.PQfinish(*c);
        *c = nc;
        *from = 0; /* the list now starts at the next address or host */
        rc = 1;
    }
out:
    buf_release(&more);
    buf_release(&nh);
    buf_release(&na);
    buf_release(&np);
    pq.PQconninfoFree(o);
    return rc;
}

static strata_code connect_poll(const db_url *t, const char *dbname, const char *const *keys,
                                const char *const *vals, PGconn *c, double cap, PGconn **out, int *retry,
                                strata_error *err);

strata_code pg_connect_url(const db_url *t, const char *dbname, double cap, PGconn **out, int *retry,
                           strata_error *err)
{
    /* "dbname" is expanded as a connection string the first time only; a
       second "dbname" then replaces just the database name */
    /* client_encoding last: it overrides the URL's and PGCLIENTENCODING.
       Migration files, SQLite text and what strata prints are UTF-8; the
       server converts to the database's encoding (or refuses what it
       cannot hold) -- under another client encoding it would store UTF-8
       bytes read as LATIN1, say, as different characters */
    /* no connect_timeout of strata's own: the service file's, when the
       URL and PGCONNECT_TIMEOUT give none, is one libpq fills in */
    const char *keys[6] = {"fallback_application_name", "dbname"};
    const char *vals[6] = {"strata", t->conninfo};
    int nk = 2;
    if (dbname) {
        keys[nk] = "dbname";
        vals[nk++] = dbname;
    }
    keys[nk] = "client_encoding";
    vals[nk++] = "UTF8";
    keys[nk] = vals[nk] = NULL;
    *out = NULL;
    if (retry)
        *retry = 0;
    return connect_poll(t, dbname, keys, vals, pq.PQconnectStartParams(keys, vals, 1), cap, out, retry, err);
}

strata_code pg_connect_beside(const db_url *t, PGconn *like, double cap, PGconn **out, strata_error *err)
{
    *out = NULL;
    const char *h = like ? pq.PQhost(like) : NULL, *a = like ? pq.PQhostaddr(like) : NULL,
               *pt = like ? pq.PQport(like) : NULL;
    PQconninfoOption *o = h && *h ? pq.PQconninfo(like) : NULL;
    if (!o)
        return pg_connect_url(t, NULL, cap, out, NULL, err);
    size_t n = 0;
    for (PQconninfoOption *x = o; x->keyword; x++)
        n++;
    const char **keys = calloc(n + 1, sizeof(*keys)), **vals = calloc(n + 1, sizeof(*vals));
    int nk = 0;
    for (PQconninfoOption *x = o; keys && vals && x->keyword; x++) {
        const char *v = x->val;
        if (!strcmp(x->keyword, "host"))
            v = h;
        else if (!strcmp(x->keyword, "hostaddr"))
            v = a && *a && strcmp(a, h) ? a : NULL; /* a socket directory has none */
        else if (!strcmp(x->keyword, "port"))
            v = pt;
        if (!v)
            continue;
        keys[nk] = x->keyword;
        vals[nk++] = v;
    }
    PGconn *c = keys && vals ? pq.PQconnectStartParams(keys, vals, 0) : NULL;
    free(keys);
    free(vals);
    pq.PQconninfoFree(o);
    return connect_poll(t, NULL, NULL, NULL, c, cap, out, NULL, err);
}

/* pg_connect_url's wait for c (just started; NULL: out of memory), to the
   end: *out set, or c finished and err set. dbname (may be NULL) is named
   in the error; keys and vals, c's options, are pinged for *retry (only
   when retry is not NULL). */
static strata_code connect_poll(const db_url *t, const char *dbname, const char *const *keys,
                                const char *const *vals, PGconn *c, double cap, PGconn **out, int *retry,
                                strata_error *err)
{
    if (!c)
        return err_set(err, STRATA_NOMEM, "out of memory");
    pq.PQsetErrorVerbosity(c, PQERRORS_VERBOSE); /* conn_codes */
    pq.PQsetNoticeReceiver(c, quiet_notice, NULL);
    PostgresPollingStatusType st = PGRES_POLLING_WRITING;
    int timed_out = 0;
    /* a signal during this attempt stops it; one from before lets it be:
       the cleanup after a stop connects too (dropping a scratch database) */
    const int stopped_before = intr_requested();
    /* each address of each host gets connect_timeout, as libpq gives it
       (next_host moves on), never past the caller's cap */
    const double per_host = host_ms(c);
    double host_since = clock_ms();
    char cur[300] = "", skipped[1200] = "";
    int host_from = 0;
    while (pq.PQstatus(c) != CONNECTION_BAD && st != PGRES_POLLING_OK && st != PGRES_POLLING_FAILED) {
        double now = clock_ms();
        /* the address being tried: libpq moving on by itself (a refusal)
           starts its time afresh */
        char id[300];
        snprintf(id, sizeof(id), "%s/%s:%s", pq.PQhost(c) ? pq.PQhost(c) : "",
                 pq.PQhostaddr(c) ? pq.PQhostaddr(c) : "", pq.PQport(c) ? pq.PQport(c) : "");
        if (strcmp(id, cur)) {
            snprintf(cur, sizeof(cur), "%s", id);
            host_since = now;
        } else if (now - host_since >= per_host && next_host(&c, &host_from, skipped, sizeof(skipped))) {
            pq.PQsetNoticeReceiver(c, quiet_notice, NULL);
            st = PGRES_POLLING_WRITING;
            cur[0] = 0;
            continue;
        }
        double until = host_since + per_host, left = (cap > 0 && cap < until ? cap : until) - now;
        if (left <= 0) {
            timed_out = 1;
            break;
        }
        if (!stopped_before && intr_requested()) { /* a signal: no waiting out a silent host */
            pq.PQfinish(c);
            return intr_error(err, "while connecting");
        }
        /* in slices, so that a signal (on any thread) is seen soon */
        struct pollfd p = {pq.PQsocket(c), st == PGRES_POLLING_READING ? POLLIN : POLLOUT, 0};
        int n = poll(&p, 1, left > 100 ? 100 : (int)left + 1);
        if (n < 0 && errno != EINTR) {
            timed_out = 1;
            break;
        }
        if (n > 0)
            st = pq.PQconnectPoll(c);
    }
    if (!timed_out && pq.PQstatus(c) == CONNECTION_OK) {
        /* verbose only for the connection's refusals (conn_codes): its
           notices and errors from here on are read field by field, and
           printed as libpq's default form */
        pq.PQsetErrorVerbosity(c, PQERRORS_DEFAULT);
        pg_track(c);
        *out = c;
        return STRATA_OK;
    }
    char mb[2000], last[600];
    if (timed_out && pq.PQhost(c) && *pq.PQhost(c)) /* name the address (the last one, after the others) */
        snprintf(mb, sizeof(mb), "%s%s", skipped, host_timeout(c, last, sizeof(last)));
    else
        snprintf(mb, sizeof(mb), "%s%s", skipped, timed_out ? "timeout expired" : pq.PQerrorMessage(c));
    char clean[2000], codes[64];
    conn_codes(mb, clean, sizeof(clean), codes, sizeof(codes));
    const char *m = clean;
    /* libpq refused an option's value before connecting: the URL's were
       checked when it was parsed, so it came from the environment
       (PGSSLMODE=bogus) -- configuration, not a server to wait for */
    /* "invalid sslmode value: ..." and "invalid integer value "abc" for
       connection option "keepalives"" */
    const char *io = strstr(m, "for connection option \"");
    int bad_opt = (!strncmp(m, "invalid ", 8) && strstr(m, " value: ")) || (io && strstr(m, "invalid ")) ||
                  libpq_says(m, "invalid %s value: \"%s\"") ||
                  libpq_says(m, "invalid integer value \"%s\" for connection option \"%s\"");
    /* ... unless the URL itself gave that option (?channel_binding=bogus:
       only sslmode is checked when the URL is parsed) */
    char opt[64] = "";
    if (bad_opt) {
        const char *from = io ? io + strlen("for connection option \"") : m + 8;
        const char *e = io ? strchr(from, '"') : strstr(m, " value: ");
        size_t n = e ? (size_t)(e - from) : 0;
        if (n < sizeof(opt))
            snprintf(opt, sizeof(opt), "%.*s", (int)n, from);
        if (opt[0] && has_opt(t, opt))
            bad_opt = 2;
        /* libpq's words translated (a program that called setlocale): the
           URL's option whose name and value the message both hold */
        for (const PQconninfoOption *o = t->pg_opts; bad_opt == 1 && !opt[0] && o && o->keyword; o++)
            if (o->val && *o->val && !has_word("host hostaddr port dbname user password", o->keyword) &&
                has_word(m, o->keyword) && strstr(m, o->val)) {
                snprintf(opt, sizeof(opt), "%s", o->keyword);
                bad_opt = 2;
            }
    }
    strata_code bad_code = bad_opt == 2 ? STRATA_URL_INVALID : STRATA_CONFIG_ERROR;
    char *red = strata_url_redact(t->url);
    err_set(err, bad_opt ? bad_code : STRATA_CONNECT_FAILED, "cannot connect to %s%s%s%s: %s",
            red ? red : "PostgreSQL", dbname ? " (database '" : "", dbname ? dbname : "", dbname ? "')" : "",
            m);
    if (err) {
        url_scrub(err->message, sizeof(err->message), t->url);
        if (codes[0])
            snprintf(err->sqlstate, sizeof(err->sqlstate), "%.5s", codes);
    }
    free(red);
    if (bad_opt == 2)
        err_hint(err,
                 "the URL's %s parameter has a value libpq does not take (see libpq's connection "
                 "parameters)",
                 opt);
    else if (bad_opt && (has_opt(t, "service") || getenv("PGSERVICE")))
        err_hint(err, "check the service file of the URL's service (or PGSERVICE), and libpq's environment "
                      "variables (PGSSLMODE, PGOPTIONS, ...): one holds a value libpq does not take");
    else if (bad_opt)
        err_hint(err,
                 "check libpq's environment variables (PGSSLMODE, PGTARGETSESSIONATTRS, PGOPTIONS, ...): "
                 "one holds a value libpq does not take");
    else
        connect_hint(err, m, codes, has_opt(t, "sslpassword"));
    if (retry)
        *retry = !bad_opt && (timed_out || worth_retry(keys, vals, m, codes));
    pq.PQfinish(c);
    return bad_opt ? bad_code : STRATA_CONNECT_FAILED;
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

/* PgBouncer's words when a pool in statement mode meets a transaction (it
   then closes the client's connection) */
static int statement_pool_msg(const char *m)
{
    return m && strstr(m, "statement pooling mode") != NULL;
}

int pg_statement_pooled(PGconn *c)
{
    PGresult *r = pq.PQexec(c, "BEGIN");
    int refused = pq.PQresultStatus(r) != PGRES_COMMAND_OK && statement_pool_msg(pq.PQerrorMessage(c));
    pq.PQclear(r);
    if (!refused && pq.PQstatus(c) == CONNECTION_OK)
        pq.PQclear(pq.PQexec(c, "ROLLBACK"));
    return refused;
}

strata_code pg_statement_pool_error(strata_error *err, const char *prefix)
{
    err_set(err, STRATA_POOLER_UNSUPPORTED,
            "%sa connection pooler in statement pooling mode stands between strata and the server; "
            "strata needs transactions (PgBouncer: transaction blocks not allowed in statement pooling mode)",
            prefix ? prefix : "");
    err_hint(err, "point the URL at a pool in transaction or session mode (PgBouncer's pool_mode) or at "
                  "PostgreSQL itself");
    return STRATA_POOLER_UNSUPPORTED;
}
strata_code pg_error_set(strata_error *err, strata_code code, PGconn *c, const PGresult *r,
                         const char *prefix, int with_context)
{
    const char *primary = r ? pq.PQresultErrorField(r, PG_DIAG_MESSAGE_PRIMARY) : NULL;
    const char *detail = r ? pq.PQresultErrorField(r, PG_DIAG_MESSAGE_DETAIL) : NULL;
    const char *ctx = r && with_context ? pq.PQresultErrorField(r, PG_DIAG_CONTEXT) : NULL;
    const char *hint = r ? pq.PQresultErrorField(r, PG_DIAG_MESSAGE_HINT) : NULL;
    const char *state = r ? pq.PQresultErrorField(r, PG_DIAG_SQLSTATE) : NULL;
    if (!primary)
        primary = pq.PQerrorMessage(c);
    if (statement_pool_msg(primary))
        return pg_statement_pool_error(err, prefix);
    /* PgBouncer found no server connection for this client in time: the
       statement never reached the server */
    int pool_wait = !strcmp(primary, "query_wait_timeout");
    if (pool_wait)
        code = STRATA_CONNECT_FAILED;
    /* our own cancel request (strata_interrupt): a signal, not a failure */
    int stopped = state && !strcmp(state, "57014") && intr_requested();
    /* strata_interrupt_force shut the socket: strata ended it, not the
       server (libpq says "server closed the connection unexpectedly") */
    int cut = intr_forced() && pq.PQstatus(c) == CONNECTION_BAD;
    if (cut) {
        pool_wait = 0;
        primary = "strata closed the connection: its cancel request got no answer in time (a pooler "
                  "holding the statement in its queue, or a network gone quiet)";
        detail = ctx = hint = state = NULL;
    }
    if (stopped || cut)
        code = STRATA_INTERRUPTED;
    err_set(err, code, "%s%s%s%s%s%s%s%s%s%s%s", prefix ? prefix : "", primary, detail ? " (" : "",
            detail ? detail : "", detail ? ")" : "", ctx ? "; " : "", ctx ? ctx : "",
            state ? " [SQLSTATE " : "", state ? state : "", state ? "]" : "", "");
    if (!err)
        return code;
    snprintf(err->sqlstate, sizeof(err->sqlstate), "%s", state ? state : "");
    if (hint)
        err_hint(err, "%s", hint);
    else if (pool_wait)
        err_hint(err, "the connection pooler (PgBouncer) had no free server connection for strata within its "
                      "query_wait_timeout (the pool is full or paused); the statement did not run: raise the "
                      "pool's size or query_wait_timeout, or run again when it has room");
    else if (state && !strcmp(state, "25006"))
        err_hint(err, "%s", PG_READONLY_HINT);
    else if (cut)
        err_hint(err, HINT_STOP_CUT
                 " (a paused or full PgBouncer does not pass a cancel on): the server "
                 "rolls back that connection's transaction; a statement still queued in a pooler "
                 "never runs; one the server was already running outside a transaction may go on "
                 "until it ends (pg_stat_activity)");
    else if (stopped)
        err_hint(err,
                 "strata was told to stop (SIGINT or SIGTERM): the server cancelled the statement; a "
                 "migration's transaction was rolled back (a no-transaction section is recorded failed)");
    return code;
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
    code = pg_error_set(err, code, c, r, NULL, 0); /* INTERRUPTED when a signal cancelled it */
    if (err)
        url_scrub(err->message, sizeof(err->message), url);
    pq.PQclear(r);
    return code;
}
