/*
 * postgres/pg_backup.c -- backup and restore of PostgreSQL through pg_dump
 * and pg_restore, started with fork and execve: no shell, an argv array,
 * stdin from /dev/null, and (Linux) the child dies with the thread that
 * started it. Their connection string is the URL's options without the
 * password and the key's passphrase; the password travels in the child's
 * environment (PGPASSWORD), the passphrase in a memory file the child reads
 * as its service file (tool_target), so neither is in an argv that ps
 * shows. Their stderr is captured, scrubbed and
 * returned, never printed here.
 */
#include "ops.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#ifdef __linux__
#include <sys/mman.h>
#include <sys/prctl.h>
#endif
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

extern char **environ;
/* ------------------------------------------------------------- children */

/* The full path of an executable named name in PATH, malloc'd; NULL if none. */
static char *find_tool(const char *name)
{
    const char *path = getenv("PATH");
    if (!path)
        path = "/usr/bin:/bin";
    for (const char *p = path;; p++) {
        size_t n = strcspn(p, ":");
        buf b;
        buf_init(&b);
        if (n)
            buf_add(&b, p, n);
        else
            buf_adds(&b, ".");
        buf_addf(&b, "/%s", name);
        struct stat st;
        if (b.data && stat(b.data, &st) == 0 && S_ISREG(st.st_mode) && access(b.data, X_OK) == 0)
            return buf_detach(&b);
        buf_release(&b);
        p += n;
        if (!*p)
            return NULL;
    }
}

typedef struct tool_run {
    int status; /* exit status; 128 + signal number when killed */
    buf out;    /* stdout, when not sent to a file */
    buf err;    /* stderr, the last 16-32 KiB of it */
} tool_run;

static void tool_run_release(tool_run *r)
{
    buf_release(&r->out);
    buf_release(&r->err);
}

static void keep_tail(buf *b)
{
    if (b->len <= 32768)
        return;
    memmove(b->data, b->data + b->len - 16384, 16384);
    b->len = 16384;
    b->data[b->len] = 0;
}

/* fd moved to 3 or above, close-on-exec: 0-2 become the child's stdio, and
   dup2 onto the same number would keep close-on-exec. -1 on failure. */
static int above_stdio(int fd)
{
    if (fd < 0 || fd > 2)
        return fd;
    int n = fcntl(fd, F_DUPFD_CLOEXEC, 3);
    close(fd);
    return n;
}

/*
 * Runs path with argv and envp, keep_fd (>= 0) open in the child across
 * its execve; stdout goes to out_fd, or into r->out when
 * out_fd < 0; stderr into r->err. tick (may be NULL) is called with ud about
 * five times a second while it runs. Returns IO_ERROR only when the program
 * could not be started; its exit status is r->status.
 */
static strata_code run_tool(const char *path, char *const argv[], char *const envp[], int keep_fd, int out_fd,
                            tool_run *r, void (*tick)(void *), void *ud, strata_error *err)
{
    int po[2] = {-1, -1}, pe[2] = {-1, -1};
    pid_t pid;
    memset(r, 0, sizeof(*r));
    buf_init(&r->out);
    buf_init(&r->err);
    int dup_out = -1;
    if (out_fd >= 0 && out_fd <= 2)
        out_fd = dup_out = fcntl(out_fd, F_DUPFD_CLOEXEC, 3);
    if (out_fd < 0 && dup_out < 0 && pipe2(po, O_CLOEXEC) == 0) {
        po[0] = above_stdio(po[0]);
        po[1] = above_stdio(po[1]);
    }
    if (pipe2(pe, O_CLOEXEC) == 0) {
        pe[0] = above_stdio(pe[0]);
        pe[1] = above_stdio(pe[1]);
    }
    if ((out_fd < 0 && (po[0] < 0 || po[1] < 0)) || pe[0] < 0 || pe[1] < 0) {
        int e = errno;
        int fds[] = {po[0], po[1], pe[0], pe[1], dup_out};
        for (size_t i = 0; i < sizeof(fds) / sizeof(fds[0]); i++)
            if (fds[i] >= 0)
                close(fds[i]);
        return err_set(err, STRATA_IO_ERROR, "cannot create a pipe: %s", strerror(e));
    }
    int child_out = out_fd >= 0 ? out_fd : po[1];
    pid_t parent = getpid();
    pid = fork();
    if (pid == 0) {
        /* only async-signal-safe calls until execve (the caller may have
           threads). The tool dies with strata: a strata killed with
           SIGKILL (a deploy's timeout) must not leave pg_restore restoring
           behind the next attempt's back, or pg_dump writing a file nobody
           publishes -- SIGTERM, and pg_restore's single transaction rolls
           back. Signals strata blocks or handles are the tool's own again. */
#ifdef __linux__
        prctl(PR_SET_PDEATHSIG, SIGTERM);
#endif
        if (getppid() != parent)
            _exit(127);
        sigset_t none;
        sigemptyset(&none);
        sigprocmask(SIG_SETMASK, &none, NULL);
        struct sigaction dfl;
        memset(&dfl, 0, sizeof(dfl));
        dfl.sa_handler = SIG_DFL;
        sigaction(SIGTERM, &dfl, NULL);
        sigaction(SIGINT, &dfl, NULL);
        sigaction(SIGPIPE, &dfl, NULL);
        /* the key's memory file is the child's alone (close-on-exec in
           strata, so no other child of any thread inherits it) */
        if (keep_fd >= 0 && fcntl(keep_fd, F_SETFD, 0) < 0)
            _exit(127);
        int nul = open("/dev/null", O_RDONLY | O_CLOEXEC);
        if (nul < 0 || dup2(nul, 0) < 0 || dup2(child_out, 1) < 0 || dup2(pe[1], 2) < 0)
            _exit(127);
        execve(path, argv, envp);
        _exit(127);
    }
    int rc = pid < 0 ? errno : 0;
    if (dup_out >= 0)
        close(dup_out);
    if (po[1] >= 0)
        close(po[1]);
    close(pe[1]);
    if (rc != 0) {
        if (po[0] >= 0)
            close(po[0]);
        close(pe[0]);
        return err_set(err, STRATA_IO_ERROR, "cannot run %s: %s", path, strerror(rc));
    }
    struct pollfd fds[2] = {{pe[0], POLLIN, 0}, {po[0], POLLIN, 0}};
    int open_fds = po[0] >= 0 ? 2 : 1, stopped = 0;
    while (fds[0].fd >= 0 || (open_fds == 2 && fds[1].fd >= 0)) {
        /* strata was told to stop (a SIGTERM to strata alone, as a
           container's PID 1 gets it): the tool is stopped as well, and the
           caller's cleanup runs (no file published, a restore rolled back);
           once the grace is over (strata_interrupt_force) it is killed --
           its own cancel request may wait on a server gone quiet */
        if (intr_requested() && !stopped) {
            kill(pid, SIGTERM);
            stopped = 1;
        }
        if (intr_forced() && stopped == 1) {
            kill(pid, SIGKILL);
            stopped = 2;
        }
        if (poll(fds, (nfds_t)open_fds, tick || stopped == 1 || !stopped ? 200 : -1) < 0) {
            if (errno == EINTR)
                continue;
            break;
        }
        if (tick)
            tick(ud);
        for (int i = 0; i < open_fds; i++) {
            if (fds[i].fd < 0 || !fds[i].revents)
                continue;
            char chunk[4096];
            ssize_t n = read(fds[i].fd, chunk, sizeof(chunk));
            if (n < 0 && errno == EINTR)
                continue;
            if (n <= 0) {
                close(fds[i].fd);
                fds[i].fd = -1;
                continue;
            }
            buf *b = i == 0 ? &r->err : &r->out;
            buf_add(b, chunk, (size_t)n);
            if (i == 0)
                keep_tail(b);
        }
    }
    for (int i = 0; i < 2; i++)
        if (fds[i].fd >= 0)
            close(fds[i].fd);
    int status = 0;
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
        ;
    r->status = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    if (intr_requested())
        return intr_error(err, NULL);
    return STRATA_OK;
}

/* What a child tool (pg_dump, pg_restore) connects with: the probe's own
   connection settings (tool_target). */
typedef struct tool_conn {
    char *ci;          /* keyword='value' ..., no secret in it */
    char *password;    /* for PGPASSWORD, or NULL */
    char *sslpassword; /* the client key's passphrase, or NULL (never in ci) */
    int svc_fd;        /* the memory file holding it (close-on-exec), or -1 */
    char *pwvar, *svcvar;
    char **env;
} tool_conn;

static void tool_conn_release(tool_conn *tc)
{
    if (tc->svc_fd >= 0)
        close(tc->svc_fd);
    char *secrets[] = {tc->password, tc->sslpassword, tc->pwvar};
    for (size_t i = 0; i < sizeof(secrets) / sizeof(secrets[0]); i++)
        if (secrets[i]) {
            explicit_bzero(secrets[i], strlen(secrets[i]));
            free(secrets[i]);
        }
    free(tc->svcvar);
    free(tc->env);
    free(tc->ci);
    memset(tc, 0, sizeof(*tc));
    tc->svc_fd = -1;
}

/* 1 when an environment entry holds one of the secrets (a DATABASE_URL, or
   the variable --url-env named): not handed to the child */
static int holds_secret(const char *entry, const tool_conn *tc, const char *url)
{
    const char *v = strchr(entry, '=');
    if (!v)
        return 0;
    v++;
    return (tc->password && *tc->password && strstr(v, tc->password)) ||
           (tc->sslpassword && *tc->sslpassword && strstr(v, tc->sslpassword)) ||
           (url && *url && strstr(v, url));
}

/*
 * The settings of c, a connection the probe made, as a child tool takes
 * them: every option libpq used, whether it came from the URL, a service
 * file or the environment -- so the child connects where the probe did --
 * as keyword='value' in tc->ci, without the password (PGPASSWORD, see
 * tool_env) and without the client key's passphrase (sslpassword), which
 * has no variable of its own: it goes in a service file only the child can
 * read -- an anonymous memory file (Linux memfd), named to it as
 * /dev/fd/N, never on disk -- and ci says service=strata. Neither is ever
 * in an argv that ps shows.
 */
static strata_code tool_target(PGconn *c, tool_conn *tc, strata_error *err)
{
    buf b;
    buf_init(&b);
    tc->svc_fd = -1;
    PQconninfoOption *opts = pq.PQconninfo(c);
    if (!opts)
        return err_set(err, STRATA_NOMEM, "out of memory");
    int timeout = 0;
    for (const PQconninfoOption *o = opts; o->keyword; o++) {
        if (!o->val || !*o->val || !strcmp(o->keyword, "service") || !strcmp(o->keyword, "servicefile"))
            continue;
        timeout |= !strcmp(o->keyword, "connect_timeout");
        if (!strcmp(o->keyword, "password") || !strcmp(o->keyword, "sslpassword")) {
            char **to = o->keyword[0] == 'p' ? &tc->password : &tc->sslpassword;
            free(*to);
            *to = xstrdup(o->val);
            continue;
        }
        buf_addf(&b, "%s%s='", b.len ? " " : "", o->keyword);
        for (const char *v = o->val; *v; v++) {
            if (*v == '\'' || *v == '\\')
                buf_add(&b, "\\", 1);
            buf_add(&b, v, 1);
        }
        buf_add(&b, "'", 1);
    }
    pq.PQconninfoFree(opts);
    /* none set anywhere: strata's own 10 s for an address, not libpq's
       wait without end on a server that takes the connection and never
       answers */
    if (!timeout)
        buf_adds(&b, b.len ? " connect_timeout='10'" : "connect_timeout='10'");
    const char *kp = tc->sslpassword;
    size_t kn = kp ? strlen(kp) : 0;
    if (kn && (strchr(" \t\r\n\f\v", kp[kn - 1]) || kn > 1000 || strchr(kp, '\n'))) {
        /* a service file's line: libpq cuts it at 1024 bytes and trims its end */
        buf_release(&b);
        err_set(err, STRATA_CONFIG_ERROR,
                "the client key's passphrase (sslpassword) %s: strata cannot hand it to %s without "
                "putting it on a command line",
                kn > 1000 ? "is over 1000 bytes" : "ends in a blank or holds a line break",
                "pg_dump and pg_restore");
        err_hint(err, "give the key a passphrase without trailing blanks, of at most 1000 bytes "
                      "(openssl pkey -in KEY -aes256 -out NEW)");
        return STRATA_CONFIG_ERROR;
    }
    if (kn) {
#ifdef __linux__
        int fd = memfd_create("strata-service", MFD_CLOEXEC);
#else
        /* no anonymous memory file: refused rather than on a command line */
        int fd = -1;
        errno = ENOSYS;
#endif
        buf f;
        buf_init(&f);
        buf_adds(&f, "[strata]\nsslpassword=");
        buf_adds(&f, kp);
        buf_adds(&f, "\n");
        int ok = fd >= 0 && !f.oom && write(fd, f.data, f.len) == (ssize_t)f.len;
        int e = errno;
        if (f.data)
            explicit_bzero(f.data, f.len);
        buf_release(&f);
        if (!ok) {
            if (fd >= 0)
                close(fd);
            buf_release(&b);
            return err_set(err, STRATA_IO_ERROR, "cannot make the service file for the client key: %s",
                           strerror(e));
        }
        tc->svc_fd = fd;
        buf_adds(&b, b.len ? " service='strata'" : "service='strata'");
    }
    if (b.oom || !(tc->ci = buf_detach(&b)))
        return err_set(err, STRATA_NOMEM, "out of memory");
    return STRATA_OK;
}

/* The environment for a child: ours, with PGPASSWORD set to the password
   when there is one and PGSERVICEFILE naming the key's memory file; the
   entries that hold a secret or the URL itself (DATABASE_URL) left out. */
static strata_code tool_env(tool_conn *tc, const char *url, strata_error *err)
{
    size_t n = 0;
    while (environ[n])
        n++;
    tc->env = calloc(n + 3, sizeof(char *));
    if (!tc->env)
        return err_set(err, STRATA_NOMEM, "out of memory");
    size_t j = 0;
    for (size_t i = 0; i < n; i++)
        if (strncmp(environ[i], "PGPASSWORD=", 11) && strncmp(environ[i], "PGSERVICEFILE=", 14) &&
            strncmp(environ[i], "PGSERVICE=", 10) && !holds_secret(environ[i], tc, url))
            tc->env[j++] = environ[i];
    if (tc->password) {
        buf b;
        buf_init(&b);
        buf_adds(&b, "PGPASSWORD=");
        buf_adds(&b, tc->password);
        if (!(tc->pwvar = buf_detach(&b)))
            return err_set(err, STRATA_NOMEM, "out of memory");
        tc->env[j++] = tc->pwvar;
    }
    if (tc->svc_fd >= 0) {
        char v[64];
        snprintf(v, sizeof(v), "PGSERVICEFILE=/dev/fd/%d", tc->svc_fd);
        if (!(tc->svcvar = xstrdup(v)))
            return err_set(err, STRATA_NOMEM, "out of memory");
        tc->env[j++] = tc->svcvar;
    }
    return STRATA_OK;
}

/* Puts the last lines of a child's stderr in the message of err. */
static strata_code tool_failed(strata_error *err, const char *tool, const tool_run *r, const char *url)
{
    const char *e = r->err.data ? r->err.data : "";
    size_t n = strlen(e);
    while (n && (e[n - 1] == '\n' || e[n - 1] == ' '))
        n--;
    /* the end of the output says what went wrong; keep what fits */
    size_t room = 700;
    const char *from = n > room ? e + n - room : e;
    err_set(err, STRATA_TOOL_FAILED, "%s failed (exit %d)%s%s%.*s", tool, r->status, n ? ": " : "",
            n > room ? "..." : "", (int)(n - (size_t)(from - e)), from);
    if (err)
        url_scrub(err->message, sizeof(err->message), url);
    return STRATA_TOOL_FAILED;
}

/* Each non-empty line of a child's stderr as a notice. */
static void tool_notices(const strata_config *cfg, const tool_run *r, const char *url)
{
    if (!cfg || !cfg->on_event || !r->err.data)
        return;
    for (const char *p = r->err.data; *p;) {
        size_t n = strcspn(p, "\n");
        if (n) {
            char line[1024];
            snprintf(line, sizeof(line), "%.*s\n", (int)(n < sizeof(line) - 2 ? n : sizeof(line) - 2), p);
            url_scrub(line, sizeof(line), url);
            strata_event ev = {STRATA_EV_NOTICE, 0, line, 0};
            cfg->on_event(cfg->userdata, &ev);
        }
        p += n;
        if (*p)
            p++;
    }
}

/* The major version a PostgreSQL program reports, as pg_major() gives it:
   "pg_dump (PostgreSQL) 15.4 (Debian ...)" -> 1500, "9.6.24" -> 906; 0 when
   unknown. */
static int tool_major(const char *text)
{
    const char *p = text ? strstr(text, ") ") : NULL;
    if (!p)
        return 0;
    p += 2;
    char *end;
    long maj = strtol(p, &end, 10);
    if (end == p || maj <= 0)
        return 0;
    if (maj < 10 && *end == '.')
        return (int)(maj * 100 + strtol(end + 1, NULL, 10));
    return maj > 20000000 ? 0 : (int)maj * 100;
}

static void install_hint(strata_error *err, const char *tool, int server_major)
{
    char ver[16];
    pg_major_str(server_major, ver);
    err_hint(err,
             "install the PostgreSQL %s client (Debian/Ubuntu: apt-get install postgresql-client-%s; "
             "or a newer one) and put its %s first in PATH (Debian: /usr/lib/postgresql/%s/bin)",
             ver, ver, tool, ver);
}

/* Finds tool; with check_version, refuses one older than the server. */
static strata_code pick_tool(const char *tool, int server_major, int check_version, char **path,
                             strata_error *err)
{
    *path = find_tool(tool);
    if (!*path) {
        err_set(err, STRATA_TOOL_MISSING, "%s not found in PATH", tool);
        install_hint(err, tool, server_major);
        return STRATA_TOOL_MISSING;
    }
    if (!check_version)
        return STRATA_OK;
    char *argv[] = {(char *)tool, "--version", NULL};
    tool_run r;
    strata_code rc = run_tool(*path, argv, environ, -1, -1, &r, NULL, NULL, err);
    int major = rc ? 0 : tool_major(r.out.data);
    if (!rc && (r.status != 0 || !major)) {
        err_set(err, STRATA_TOOL_FAILED, "cannot tell the version of %s: '%s --version' %s", *path, tool,
                r.status ? "failed" : "printed no version");
        rc = STRATA_TOOL_FAILED;
    } else if (!rc && major < server_major) {
        char mine[16], theirs[16];
        pg_major_str(major, mine);
        pg_major_str(server_major, theirs);
        err_set(err, STRATA_TOOL_TOO_OLD,
                "%s (%s) is version %s, older than the server (PostgreSQL %s); "
                "it cannot dump a newer server",
                tool, *path, mine, theirs);
        install_hint(err, tool, server_major);
        rc = STRATA_TOOL_TOO_OLD;
    }
    tool_run_release(&r);
    if (rc) {
        free(*path);
        *path = NULL;
    }
    return rc;
}

/* ------------------------------------------------------------ PostgreSQL */

/* What pg_dump leaves out of a backup without --create: the database's own
   settings (ALTER DATABASE ... SET) and comment, as one line; NULL when it
   has none. */
static char *db_own_settings(PGconn *c)
{
    /* each setting its own item ('DateStyle=SQL, DMY' holds a comma), and
       the settings of a role in this database (ALTER ROLE ... IN DATABASE
       ... SET), which pg_dump leaves out too */
    PGresult *res =
        pq.PQexec(c, "SELECT concat_ws('; ', nullif(array_to_string((SELECT setconfig FROM "
                     "pg_db_role_setting WHERE setdatabase = d.oid AND setrole = 0), '; '), ''), "
                     "(SELECT string_agg('for role ' || quote_ident(r.rolname) || ': ' || "
                     "array_to_string(s.setconfig, '; '), '; ' ORDER BY r.rolname) FROM pg_db_role_setting s "
                     "JOIN pg_roles r ON r.oid = s.setrole WHERE s.setdatabase = d.oid), "
                     "'comment ' || quote_literal(shobj_description(d.oid, 'pg_database'))) "
                     "FROM pg_database d WHERE datname = current_database()");
    char *out = NULL;
    if (pq.PQresultStatus(res) == PGRES_TUPLES_OK && pq.PQntuples(res) == 1 && pq.PQgetvalue(res, 0, 0)[0])
        out = xstrdup(pq.PQgetvalue(res, 0, 0));
    pq.PQclear(res);
    return out;
}

/* Connects once before a tool runs: checks the URL works, gives the
   server's major version, the database's name and (dbset, may be NULL)
   db_own_settings. pg_dump and pg_restore set session settings (search_path = '', ...) that a
   transaction-mode pooler would hand to the application's next queries:
   through a pooler they are refused, POOLER_UNSUPPORTED, nothing run. */
static strata_code pg_probe(const db_url *t, const char *tool, int *server_major, char **dbname, char **dbset,
                            tool_conn *tc, strata_error *err)
{
    PGconn *c = NULL;
    strata_code rc = pg_connect_url(t, NULL, 0, &c, NULL, err);
    if (rc)
        return rc;
    if (pg_is_pooled(c)) {
        char *red = strata_url_redact(t->url);
        err_set(err, STRATA_POOLER_UNSUPPORTED,
                "%s goes through a connection pooler; %s needs a direct connection (its session "
                "settings would stay on the pool's connections)",
                red ? red : "the database", tool);
        err_hint(err, "point the URL at PostgreSQL itself (its own host and port), not at PgBouncer");
        free(red);
        pg_finish(c);
        return STRATA_POOLER_UNSUPPORTED;
    }
    *server_major = pg_major(pq.PQserverVersion(c));
    if (dbname && !(*dbname = xstrdup(pq.PQdb(c))))
        rc = err_set(err, STRATA_NOMEM, "out of memory");
    if (dbset)
        *dbset = db_own_settings(c);
    if (!rc)
        rc = tool_target(c, tc, err);
    pg_finish(c);
    if (!rc)
        rc = tool_env(tc, t->url, err);
    return rc;
}

strata_code pg_backup(const db_url *t, const char *path, const strata_config *cfg, char **path_out,
                      strata_error *err)
{
    const char *url = t->url;
    char *dbname = NULL, *tool = NULL, *target = NULL, *tmp = NULL;
    tool_conn tc = {.svc_fd = -1};
    int server_major = 0, fd = -1;
    tool_run r;
    memset(&r, 0, sizeof(r));
    strata_code rc;
    char *dbset = NULL;
    if ((rc = pg_probe(t, "backup", &server_major, &dbname, &dbset, &tc, err)) ||
        (rc = pick_tool("pg_dump", server_major, 1, &tool, err)))
        goto out;
    target = path ? xstrdup(path) : backup_default_name(dbname, ".dump");
    if (!target) {
        rc = err_set(err, STRATA_NOMEM, "out of memory");
        goto out;
    }
    if ((rc = backup_refuse_existing(target, err)))
        goto out;
    if ((fd = backup_temp_next_to(target, &tmp, err)) < 0) {
        rc = err->code;
        goto out;
    }
    char *argv[] = {"pg_dump", "--format=custom", "--no-password", "--dbname", tc.ci, NULL};
    if ((rc = run_tool(tool, argv, tc.env, tc.svc_fd, fd, &r, NULL, NULL, err)))
        goto out;
    if (r.status != 0) {
        rc = tool_failed(err, "pg_dump", &r, url);
        goto out;
    }
    if (fsync(fd) != 0) {
        rc = err_set(err, STRATA_IO_ERROR, "cannot write '%s': %s", target, strerror(errno));
        goto out;
    }
    close(fd);
    fd = -1;
    if ((rc = backup_publish(tmp, target, err)))
        goto out;
    free(tmp);
    tmp = NULL;
    tool_notices(cfg, &r, url);
    if (dbset && cfg && cfg->on_event) {
        char line[1200];
        snprintf(line, sizeof(line),
                 "the database's own settings are not in the backup (pg_dump keeps them only with "
                 "--create): %.900s; restored into a new database, set them again (ALTER DATABASE ... SET)",
                 dbset);
        strata_event ev = {STRATA_EV_WARNING, 0, line, 0};
        cfg->on_event(cfg->userdata, &ev);
    }
    if (path_out) {
        *path_out = target;
        target = NULL;
    }
out:
    if (fd >= 0)
        close(fd);
    if (tmp)
        unlink(tmp);
    tool_run_release(&r);
    tool_conn_release(&tc);
    free(tmp);
    free(target);
    free(tool);
    free(dbname);
    free(dbset);
    return rc;
}

/* pg_restore's session, watched from a second connection (run_tool's tick). */
typedef struct lock_watch {
    PGconn *c;         /* the watching connection; NULL: no watch */
    const char *app;   /* the application_name of pg_restore's session */
    double timeout_ms; /* how long it may wait for a lock */
    double since;      /* when it was first seen waiting; 0: not waiting */
    int cancelled;     /* its statement was cancelled for waiting too long */
} lock_watch;

static void lock_watch_tick(void *ud)
{
    lock_watch *w = ud;
    if (!w->c || w->cancelled)
        return;
    const char *p[1] = {w->app};
    PGresult *res = pq.PQexecParams(w->c,
                                    "SELECT count(*) FROM pg_stat_activity WHERE application_name = $1 "
                                    "AND wait_event_type = 'Lock'",
                                    1, NULL, p, NULL, NULL, 0);
    int waiting = pq.PQresultStatus(res) == PGRES_TUPLES_OK && atoi(pq.PQgetvalue(res, 0, 0)) > 0;
    pq.PQclear(res);
    double now = clock_ms();
    if (!waiting) {
        w->since = 0;
    } else if (!w->since) {
        w->since = now;
    } else if (now - w->since >= w->timeout_ms) {
        res =
            pq.PQexecParams(w->c,
                            "SELECT pg_cancel_backend(pid) FROM pg_stat_activity WHERE application_name = $1 "
                            "AND wait_event_type = 'Lock'",
                            1, NULL, p, NULL, NULL, 0);
        w->cancelled = pq.PQresultStatus(res) == PGRES_TUPLES_OK && pq.PQntuples(res) > 0;
        pq.PQclear(res);
    }
}

strata_code pg_restore(const db_url *t, const char *path, int flags, const strata_config *cfg,
                       strata_error *err)
{
    const char *url = t->url;
    char magic[16];
    strata_code rc = backup_read_magic(path, magic, err);
    if (rc)
        return rc;
    if (memcmp(magic, "PGDMP", 5) != 0) {
        err_set(err, STRATA_USAGE, "'%s' is not a pg_dump custom-format archive%s", path,
                !memcmp(magic, "SQLite format 3", 16) ? " (it is a SQLite database)" : "");
        err_hint(err, "restore a file written by 'strata backup' (pg_dump --format=custom); a plain SQL "
                      "dump goes through psql -f");
        return STRATA_USAGE;
    }
    char app[64];
    lock_watch watch = {0};
    drv *lk = NULL;
    int locked = 0;
    const char *lock_table = cfg && cfg->table && *cfg->table ? cfg->table : STRATA_DEFAULT_TABLE;
    char *tool = NULL, *ci = NULL;
    tool_conn tc = {.svc_fd = -1};
    int server_major = 0;
    tool_run r;
    memset(&r, 0, sizeof(r));
    int dots = 0;
    if ((rc = pg_table_check(lock_table, &dots, err)))
        goto out;
    if ((rc = pg_probe(t, "restore", &server_major, NULL, NULL, &tc, err)) ||
        (rc = pick_tool("pg_restore", server_major, 0, &tool, err)))
        goto out;
    /* under the migration lock: an up running now finishes first, and one
       starting later waits and then plans from the restored version table
       (pg_restore replacing it under a running up left that up applying
       its old plan over the restored database) */
    {
        strata_config lc;
        memset(&lc, 0, sizeof(lc));
        if (cfg)
            lc = *cfg;
        char *qname = NULL; /* the version table's place: the lock's second key */
        if ((rc = drv_postgres_ops.open(&lk, t, &lc, err)) ||
            (rc = drv_postgres_ops.vt_locate(lk, lock_table, &qname, NULL, err)) ||
            (rc = drv_postgres_ops.lock(lk, lock_table, lock_timeout_norm(lc.lock_timeout), err))) {
            free(qname);
            goto out;
        }
        free(qname);
        locked = 1;
    }
    ci = xstrdup(tc.ci);
    if (!ci) {
        rc = err_set(err, STRATA_NOMEM, "out of memory");
        goto out;
    }
    /* pg_restore sets lock_timeout = 0 itself: a second connection watches
       its session (found by application_name) and cancels it once it has
       waited --lock-timeout for a lock -- the one transaction then rolls
       back whole, and the application's queries stop queueing behind it */
    snprintf(app, sizeof(app), "strata-restore-%ld", (long)getpid());
    watch.app = app;
    watch.timeout_ms = lock_timeout_norm(cfg ? cfg->lock_timeout : 0) * 1000.0;
    {
        strata_error ignore;
        buf o;
        buf_init(&o);
        buf_addf(&o, "%s application_name='%s'", ci, app);
        free(ci);
        if (!(ci = buf_detach(&o))) {
            rc = err_set(err, STRATA_NOMEM, "out of memory");
            goto out;
        }
        if (pg_connect_url(t, NULL, 0, &watch.c, NULL, &ignore))
            watch.c = NULL; /* no watch: pg_restore waits as it would alone */
    }
    char *argv[16];
    int n = 0;
    argv[n++] = "pg_restore";
    argv[n++] = "--clean";
    argv[n++] = "--if-exists";
    argv[n++] = "--single-transaction";
    argv[n++] = "--exit-on-error";
    argv[n++] = "--no-password";
    if (flags & STRATA_NO_OWNER)
        argv[n++] = "--no-owner";
    argv[n++] = "--dbname";
    argv[n++] = ci;
    argv[n++] = "--";
    argv[n++] = (char *)path;
    argv[n] = NULL;
    if ((rc = run_tool(tool, argv, tc.env, tc.svc_fd, -1, &r, lock_watch_tick, &watch, err)))
        goto out;
    if (r.status != 0) {
        rc = tool_failed(err, "pg_restore", &r, url);
        const char *said = r.err.data ? r.err.data : ""; /* pg_restore's stderr */
        if (watch.cancelled) {
            rc = err_set(err, STRATA_LOCK_TIMEOUT,
                         "restore stopped after waiting %gs for a table lock another session holds",
                         watch.timeout_ms / 1000.0);
            err_hint(err, "the restore ran in one transaction: nothing was changed; stop the application's "
                          "sessions, or raise --lock-timeout");
        } else if (strstr(said, "unsupported version"))
            err_hint(err, "the archive was written by a newer pg_dump: use a pg_restore at least as new");
        else if (strstr(said, "depend on it"))
            err_hint(err, "objects made after the backup depend on objects of the backup; nothing was "
                          "changed: restore into a new database (strata drop; strata create), or drop them");
        else if (!(flags & STRATA_NO_OWNER) &&
                 (strstr(said, "must be member of role") || strstr(said, "OWNER TO")))
            /* giving an object to the backup's owner, whom this user may not
               act as: --no-owner keeps everything this user's */
            err_hint(err,
                     "nothing was changed; restoring as another user than the one who owned the objects: "
                     "--no-owner makes this user own everything instead");
        else if (strstr(said, "must be owner"))
            /* --clean drops what the backup replaces: only its owner may */
            err_hint(err, "nothing was changed; the backup replaces objects that another user owns, and only "
                          "their owner (or a superuser) may drop them: restore as that user, or into a new "
                          "database (strata drop; strata create)");
        else if (strstr(said, "permission denied"))
            err_hint(err, "nothing was changed; this user lacks a privilege the backup needs (named above): "
                          "restore as the objects' owner or a superuser, or grant it");
        else
            err_hint(err, "the restore ran in one transaction: nothing was changed");
        goto out;
    }
    tool_notices(cfg, &r, url);
out:
    if (watch.c)
        pg_finish(watch.c);
    if (lk) {
        if (locked)
            drv_postgres_ops.unlock(lk, lock_table);
        drv_postgres_ops.close(lk);
    }
    tool_run_release(&r);
    tool_conn_release(&tc);
    free(ci);
    free(tool);
    return rc;
}
