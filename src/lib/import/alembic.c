/*
 * alembic.c -- the Alembic reader of `strata import`, through Alembic's own
 * offline mode: strata never interprets a revision's Python, it asks the
 * project's alembic to print the SQL (docs/adopting.md).
 *
 *   1. `alembic history --verbose` gives the revision graph; read bottom up
 *      it is the order in which `alembic upgrade heads` runs the revisions.
 *   2. For each revision R and each requested dialect, `alembic upgrade
 *      P:R --sql` and `alembic downgrade R:P --sql` (P its first parent, or
 *      base), with sqlalchemy.url set to a URL of that dialect that needs no
 *      server. Alembic marks every step with "-- Running upgrade PARENTS ->
 *      R"; the step of R is taken from its marker to the next one (for a
 *      merge revision the run also holds the other branch: only R's step is
 *      kept). The marker comment stays: adopt reads the parents from it.
 *   3. Alembic's own bookkeeping is removed (CREATE/DROP TABLE, INSERT,
 *      UPDATE, DELETE on its version table: alembic_version, or the
 *      version_table env.py names, found from the version_num statements
 *      Alembic prints; and the BEGIN/COMMIT it wraps the run in); every
 *      other byte is kept as Alembic printed it.
 *
 * alembic runs without a shell (fork + execvpe), in the directory of
 * alembic.ini, with stdout and stderr going to files in a private temporary
 * directory; STRATA_ALEMBIC names another alembic (a virtualenv's).
 *
 * Step 2 in one process: when alembic is a Python script (its "#!" line
 * names a python), a small driver runs all those commands with that
 * interpreter, each through Alembic's own command-line code
 * (CommandLine.run_cmd with the options the command line would parse), so
 * Python, SQLAlchemy and the revision files load once instead of twice per
 * revision. A command that fails there runs again as its own `alembic`
 * process, whose error is the one reported; a driver that cannot start
 * (alembic not importable by that python) leaves every command to its own
 * process, as does STRATA_ALEMBIC_BATCH=0.
 */
#include "import.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <dirent.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

extern char **environ;

typedef struct arev {
    char *id;
    char *path;
    char *parent;  /* first parent, NULL for a root */
    char *depends; /* "Also depends on: ..." as listed, NULL without */
} arev;

typedef struct actx {
    const char *prog; /* alembic, or $STRATA_ALEMBIC */
    char inidir[PATH_MAX];
    char tmp[PATH_MAX]; /* private temporary directory */
    char *ini_text;     /* the project's alembic.ini */
    arev *revs;
    size_t nrevs;
    int *batch; /* per command of step 2 (batch_index): the driver's exit
                   status, -1 when it did not run it; NULL without a driver */
} actx;

/* -------------------------------------------------------------- helpers */

static char *read_all(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    buf b;
    buf_init(&b);
    char chunk[8192];
    size_t n;
    while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0)
        buf_add(&b, chunk, n);
    fclose(f);
    if (!b.data)
        buf_add(&b, "", 0);
    if (len)
        *len = b.len;
    return buf_detach(&b);
}

static int write_all(const char *path, const char *text, size_t len)
{
    FILE *f = fopen(path, "wb");
    if (!f)
        return -1;
    int ok = fwrite(text, 1, len, f) == len;
    return fclose(f) == 0 && ok ? 0 : -1;
}

/* The last non-blank line of text (Alembic's "FAILED: ..." or the
   exception line of a traceback), into out. */
static void last_line(const char *text, char *out, size_t cap)
{
    const char *end = text + strlen(text);
    while (end > text && (end[-1] == '\n' || end[-1] == '\r' || end[-1] == ' '))
        end--;
    const char *start = end;
    while (start > text && start[-1] != '\n')
        start--;
    while (start < end && (*start == ' ' || *start == '\t'))
        start++;
    snprintf(out, cap, "%.*s", (int)(end - start), start);
    if (!*out)
        snprintf(out, cap, "no error message");
}

/* Where Python's traceback in text says the error is: the last
   `File "PATH", line N` outside Python's own libraries (a SyntaxError's
   file, or the innermost frame of the project), else the last one. 0 when
   there is none. */
static int py_where(const char *text, char *path, size_t cap, int *line)
{
    const char *at = NULL, *any = NULL;
    for (const char *p = text; (p = strstr(p, "File \"")) != NULL; p++) {
        const char *q = strchr(p + 6, '"');
        size_t n = q ? (size_t)(q - p) : strlen(p);
        any = p;
        if (!memmem(p, n, "-packages/", 10) && !memmem(p, n, "/lib/python", 11))
            at = p;
    }
    if (!at)
        at = any;
    if (!at)
        return 0;
    at += 6;
    const char *q = strchr(at, '"');
    if (!q || strncmp(q, "\", line ", 8))
        return 0;
    snprintf(path, cap, "%.*s", (int)(q - at), at);
    *line = atoi(q + 8);
    return *line > 0;
}

/* err_where from the traceback in text, else fallback (line 0); the
   message gets " (PATH:LINE)" when the traceback names a place. */
static void tool_where(strata_error *err, const char *text, const char *fallback)
{
    char path[PATH_MAX];
    int line = 0;
    if (text && py_where(text, path, sizeof(path), &line)) {
        size_t l = strlen(err->message);
        snprintf(err->message + l, sizeof(err->message) - l, " (%s:%d)", path, line);
        err_where(err, path, line);
    } else if (fallback) {
        err_where(err, fallback, 0);
    }
}

/*
 * Runs prog with args in ctx->inidir, without a shell; the child's
 * environment is ours plus DATABASE_URL=url when url is given (an env.py
 * that reads it then sees the dialect asked for). Its stdout is read into
 * *out, its stderr into *errout (both malloc'd). Returns the exit status,
 * -1 with errno set when the program could not be started.
 */
static int run_in(actx *c, const char *prog, const char *const *args, const char *url, char **out,
                  char **errout)
{
    char opath[PATH_MAX + 16], epath[PATH_MAX + 16];
    snprintf(opath, sizeof(opath), "%s/stdout", c->tmp);
    snprintf(epath, sizeof(epath), "%s/stderr", c->tmp);
    *out = *errout = NULL;

    size_t nenv = 0;
    while (environ[nenv])
        nenv++;
    char **envp = calloc(nenv + 2, sizeof(*envp));
    char *dburl = NULL;
    if (!envp)
        return errno = ENOMEM, -1;
    size_t k = 0;
    for (size_t i = 0; i < nenv; i++)
        if (!url || strncmp(environ[i], "DATABASE_URL=", 13) != 0)
            envp[k++] = environ[i];
    if (url) {
        size_t n = strlen(url) + 14;
        dburl = malloc(n);
        if (dburl) {
            snprintf(dburl, n, "DATABASE_URL=%s", url);
            envp[k++] = dburl;
        }
    }
    size_t nargs = 0;
    while (args[nargs])
        nargs++;
    char **argv = calloc(nargs + 2, sizeof(*argv));
    if (!argv) {
        free(envp);
        free(dburl);
        return errno = ENOMEM, -1;
    }
    argv[0] = (char *)prog;
    for (size_t i = 0; i < nargs; i++)
        argv[i + 1] = (char *)args[i];

    int status = -1, perr[2];
    if (pipe2(perr, O_CLOEXEC) != 0)
        goto done;
    pid_t pid = fork();
    if (pid == 0) {
        int o = open(opath, O_WRONLY | O_CREAT | O_TRUNC, 0600);
        int e = open(epath, O_WRONLY | O_CREAT | O_TRUNC, 0600);
        int nul = open("/dev/null", O_RDONLY);
        if (o < 0 || e < 0 || nul < 0 || dup2(o, 1) < 0 || dup2(e, 2) < 0 || dup2(nul, 0) < 0 ||
            chdir(c->inidir) != 0) {
            int x = errno;
            (void)!write(perr[1], &x, sizeof(x));
            _exit(127);
        }
        execvpe(argv[0], argv, envp);
        int x = errno;
        (void)!write(perr[1], &x, sizeof(x));
        _exit(127);
    }
    close(perr[1]);
    if (pid < 0) {
        close(perr[0]);
        goto done;
    }
    int child_errno = 0;
    ssize_t got;
    do
        got = read(perr[0], &child_errno, sizeof(child_errno));
    while (got < 0 && errno == EINTR);
    close(perr[0]);
    int ws = 0;
    while (waitpid(pid, &ws, 0) < 0 && errno == EINTR)
        ;
    if (got == (ssize_t)sizeof(child_errno)) {
        errno = child_errno;
        goto done;
    }
    status = WIFEXITED(ws) ? WEXITSTATUS(ws) : 128 + (WIFSIGNALED(ws) ? WTERMSIG(ws) : 0);
    *out = read_all(opath, NULL);
    *errout = read_all(epath, NULL);
    if (!*out || !*errout) {
        free(*out);
        free(*errout);
        *out = *errout = NULL;
        status = -1;
        errno = ENOMEM;
    }
done:
    free(argv);
    free(envp);
    free(dburl);
    return status;
}

static int run_alembic(actx *c, const char *const *args, const char *url, char **out, char **errout)
{
    return run_in(c, c->prog, args, url, out, errout);
}

/* ------------------------------------------------------------ alembic.ini */

static int is_blank(char ch)
{
    return ch == ' ' || ch == '\t';
}

/*
 * Writes ctx->tmp/<dialect>.ini: the project's alembic.ini with
 * sqlalchemy.url of its [alembic] section replaced by url (added when
 * absent), and %(here)s kept pointing at the project's directory.
 */
static strata_code write_ini(actx *c, const char *dialect, const char *url, char *path, size_t cap,
                             strata_error *err)
{
    buf b;
    buf_init(&b);
    const char *s = c->ini_text;
    int in_alembic = 0, url_done = 0, have_default = 0;
    for (const char *p = s; *p;) {
        const char *e = strchr(p, '\n');
        size_t n = e ? (size_t)(e - p) : strlen(p);
        const char *q = p;
        while (q < p + n && is_blank(*q))
            q++;
        if (q < p + n && *q == '[' && q == p) {
            if (in_alembic && !url_done) {
                buf_addf(&b, "sqlalchemy.url = %s\n", url);
                url_done = 1;
            }
            in_alembic = !strncmp(q, "[alembic]", 9);
            buf_add(&b, p, n);
            buf_adds(&b, "\n");
            if (!strncmp(q, "[DEFAULT]", 9)) {
                have_default = 1;
                buf_addf(&b, "here = %s\n", c->inidir);
            }
        } else if (in_alembic && q == p && !strncmp(q, "sqlalchemy.url", 14) &&
                   (is_blank(q[14]) || q[14] == '=' || q[14] == ':')) {
            buf_addf(&b, "sqlalchemy.url = %s\n", url);
            url_done = 1;
            /* skip continuation lines of the old value */
            while (e && (e[1] == ' ' || e[1] == '\t')) {
                const char *e2 = strchr(e + 1, '\n');
                const char *t = e + 1;
                while (*t && is_blank(*t))
                    t++;
                if (*t == '\n' || !*t)
                    break;
                e = e2;
            }
            p = e ? e + 1 : p + n;
            continue;
        } else if (have_default && q == p && !strncmp(q, "here", 4) &&
                   (is_blank(q[4]) || q[4] == '=' || q[4] == ':')) {
            /* our here= replaces it */
        } else {
            buf_add(&b, p, n);
            buf_adds(&b, "\n");
        }
        p = e ? e + 1 : p + n;
    }
    if (in_alembic && !url_done)
        buf_addf(&b, "sqlalchemy.url = %s\n", url);
    buf prefix;
    buf_init(&prefix);
    if (!have_default)
        buf_addf(&prefix, "[DEFAULT]\nhere = %s\n\n", c->inidir);
    buf_add(&prefix, b.data ? b.data : "", b.len);
    buf_release(&b);
    snprintf(path, cap, "%s/%s.ini", c->tmp, dialect);
    strata_code rc = STRATA_OK;
    if (prefix.oom)
        rc = err_set(err, STRATA_NOMEM, "out of memory");
    else if (write_all(path, prefix.data, prefix.len) != 0)
        rc = err_set(err, STRATA_IO_ERROR, "cannot write '%s': %s", path, strerror(errno));
    buf_release(&prefix);
    return rc;
}

/* -------------------------------------------------------------- history */

static char *line_value(const char *line, size_t n, const char *key)
{
    size_t k = strlen(key);
    if (n < k || strncmp(line, key, k) != 0)
        return NULL;
    return xstrndup(line + k, n - k);
}

/* Parses `alembic history --verbose`: blocks of "Rev: ID [(tags)]",
   "Parent: P" | "Merges: P1, P2", "Also depends on: D1, D2", "Path: FILE".
   Heads come first; the revisions are stored in the reverse (upgrade)
   order. */
static strata_code parse_history(actx *c, const char *text, strata_error *err)
{
    size_t cap = 0;
    arev *cur = NULL;
    const char *p = text;
    size_t n;
    for (const char *l; (l = line_next(&p, &n)) != NULL;) {
        char *v;
        if ((v = line_value(l, n, "Rev: "))) {
            if (ARR_GROW(c->revs, cap, c->nrevs + 1)) {
                free(v);
                return err_set(err, STRATA_NOMEM, "out of memory");
            }
            cur = &c->revs[c->nrevs++];
            memset(cur, 0, sizeof(*cur));
            v[strcspn(v, " \t")] = 0;
            cur->id = v;
        } else if (cur && ((v = line_value(l, n, "Parent: ")) || (v = line_value(l, n, "Merges: ")))) {
            v[strcspn(v, ", \t")] = 0;
            if (!strcmp(v, "<base>") || !*v) {
                free(v);
                v = NULL;
            }
            free(cur->parent);
            cur->parent = v;
        } else if (cur && (v = line_value(l, n, "Also depends on: "))) {
            free(cur->depends);
            cur->depends = v;
        } else if (cur && (v = line_value(l, n, "Path: "))) {
            free(cur->path);
            cur->path = v;
        }
    }
    for (size_t i = 0; i < c->nrevs / 2; i++) {
        arev t = c->revs[i];
        c->revs[i] = c->revs[c->nrevs - 1 - i];
        c->revs[c->nrevs - 1 - i] = t;
    }
    for (size_t i = 0; i < c->nrevs; i++)
        if (!c->revs[i].id || !c->revs[i].path)
            return err_set(err, STRATA_TOOL_FAILED, "cannot read the output of 'alembic history --verbose'");
    return STRATA_OK;
}

/* ------------------------------------------------ step 2 in one process */

/* The URL of a dialect that needs no server (sqlalchemy.url, DATABASE_URL). */
static const char *dialect_url(const char *d)
{
    if (!strcmp(d, "postgres"))
        return "postgresql://";
    if (!strcmp(d, "sqlite"))
        return "sqlite://";
    return NULL;
}

/* The driver: argv[1] the job list (lines "K<TAB>INI<TAB>upgrade|downgrade
   <TAB>RANGE<TAB>URL"), argv[2] the directory for out.K and err.K; prints
   "K STATUS" after each job. A job is what `alembic -c INI CMD RANGE --sql`
   runs, through Alembic's own CommandLine; the revision files are read once
   per ini (ScriptDirectory.from_config remembered). Exit 3: no alembic. */
static const char driver_py[] =
    "import os, sys, traceback\n"
    "from contextlib import redirect_stdout, redirect_stderr\n"
    "jobs_path, outdir = sys.argv[1], sys.argv[2]\n"
    "try:\n"
    "    from alembic.config import CommandLine, Config\n"
    "except Exception:\n"
    "    sys.exit(3)\n"
    "try:\n"
    "    from alembic.script import ScriptDirectory\n"
    "    _orig, _cache = ScriptDirectory.from_config, {}\n"
    "    def _from_config(config):\n"
    "        k = (config.config_file_name, config.config_ini_section)\n"
    "        if k not in _cache:\n"
    "            _cache[k] = _orig(config)\n"
    "        return _cache[k]\n"
    "    ScriptDirectory.from_config = staticmethod(_from_config)\n"
    "except Exception:\n"
    "    pass\n"
    "enc, errs = sys.stdout.encoding, sys.stdout.errors\n"
    "cl = CommandLine(prog='alembic')\n"
    "with open(jobs_path, encoding='utf-8') as f:\n"
    "    jobs = [l.rstrip('\\n').split('\\t') for l in f if l.strip()]\n"
    "for k, ini, cmd, rng, url in jobs:\n"
    "    os.environ['DATABASE_URL'] = url\n"
    "    args = ['-c', ini, cmd, rng, '--sql']\n"
    "    sys.argv = ['alembic'] + args\n"
    "    status = 0\n"
    "    with open(os.path.join(outdir, 'out.' + k), 'w', encoding=enc, errors=errs) as o, \\\n"
    "            open(os.path.join(outdir, 'err.' + k), 'w', encoding=enc, errors=errs) as e, \\\n"
    "            redirect_stdout(o), redirect_stderr(e):\n"
    "        try:\n"
    "            options = cl.parser.parse_args(args)\n"
    "            cl.run_cmd(Config(file_=options.config, ini_section=options.name, cmd_opts=options), "
    "options)\n"
    "        except SystemExit as x:\n"
    "            status = x.code if isinstance(x.code, int) else 1\n"
    "        except BaseException:\n"
    "            traceback.print_exc()\n"
    "            status = 1\n"
    "    print(k, status, flush=True)\n";

/* The index of a step-2 command in the driver's job list. */
static size_t batch_index(size_t rev, size_t dialect, size_t ndialects, int down)
{
    return (rev * ndialects + dialect) * 2 + (down ? 1 : 0);
}

/* The interpreter of prog's "#!" line and its optional argument, when that
   names a python (/usr/bin/python3, /usr/bin/env python3, a virtualenv's
   bin/python): 1, else 0. prog without a '/' is looked up in PATH. */
static int python_of(const char *prog, char *interp, size_t icap, char *arg, size_t acap)
{
    char path[PATH_MAX];
    if (strchr(prog, '/')) {
        snprintf(path, sizeof(path), "%s", prog);
    } else {
        const char *pp = getenv("PATH");
        int found = 0;
        for (const char *p = pp ? pp : "/usr/local/bin:/usr/bin:/bin"; !found && *p;) {
            size_t n = strcspn(p, ":");
            if ((int)snprintf(path, sizeof(path), "%.*s/%s", (int)n, n ? p : ".", prog) < (int)sizeof(path) &&
                access(path, X_OK) == 0)
                found = 1;
            p += n;
            if (*p == ':')
                p++;
        }
        if (!found)
            return 0;
    }
    char line[512] = "";
    FILE *f = fopen(path, "rb");
    if (!f)
        return 0;
    int got = fgets(line, sizeof(line), f) != NULL;
    fclose(f);
    if (!got || strncmp(line, "#!", 2) != 0 || !strchr(line, '\n'))
        return 0;
    line[strcspn(line, "\r\n")] = 0;
    char *p = line + 2;
    while (*p == ' ' || *p == '\t')
        p++;
    size_t n = strcspn(p, " \t");
    char *rest = p + n;
    while (*rest == ' ' || *rest == '\t')
        rest++;
    size_t rn = strcspn(rest, " \t"); /* Linux passes one argument: a word here */
    if (!n || n >= icap || rn >= acap || rest[rn])
        return 0;
    snprintf(interp, icap, "%.*s", (int)n, p);
    snprintf(arg, acap, "%.*s", (int)rn, rest);
    const char *base = strrchr(interp, '/');
    base = base ? base + 1 : interp;
    return strncmp(base, "python", 6) == 0 || (!strcmp(base, "env") && !strncmp(arg, "python", 6));
}

/* Runs every step-2 command through the driver, when alembic is a Python
   script; c->batch then holds each command's status. Any failure of the
   driver itself leaves c->batch NULL: each command runs on its own. */
static void run_batch(actx *c, char (*inis)[PATH_MAX + 32], const char *const *dialects, size_t nd)
{
    char interp[PATH_MAX], arg[256], script[PATH_MAX + 16], jobs[PATH_MAX + 16];
    const char *b = getenv("STRATA_ALEMBIC_BATCH");
    if ((b && !strcmp(b, "0")) || !python_of(c->prog, interp, sizeof(interp), arg, sizeof(arg)))
        return;
    snprintf(script, sizeof(script), "%s/driver.py", c->tmp);
    snprintf(jobs, sizeof(jobs), "%s/jobs", c->tmp);
    buf j;
    buf_init(&j);
    int clean = 1;
    for (size_t i = 0; i < c->nrevs; i++)
        for (size_t d = 0; d < nd; d++)
            for (int down = 0; down < 2; down++) {
                const arev *r = &c->revs[i];
                const char *parent = r->parent ? r->parent : "base";
                size_t at = j.len;
                buf_addf(&j, "%zu\t%s\t%s\t%s:%s\t%s\n", batch_index(i, d, nd, down), inis[d],
                         down ? "downgrade" : "upgrade", down ? r->id : parent, down ? parent : r->id,
                         dialect_url(dialects[d]));
                /* five fields on one line, or no batch */
                size_t tabs = 0, lines = 0;
                for (size_t x = at; j.data && x < j.len; x++)
                    tabs += j.data[x] == '\t', lines += j.data[x] == '\n';
                clean &= tabs == 4 && lines == 1;
            }
    size_t njobs = batch_index(c->nrevs, 0, nd, 0);
    char *out = NULL, *errout = NULL;
    if (!clean || j.oom || write_all(jobs, j.data, j.len) != 0 ||
        write_all(script, driver_py, sizeof(driver_py) - 1) != 0) {
        buf_release(&j);
        return;
    }
    buf_release(&j);
    const char *args[] = {arg, script, jobs, c->tmp, NULL};
    int st = run_in(c, interp, *arg ? args : args + 1, NULL, &out, &errout);
    int *status = st == 0 ? malloc(njobs * sizeof(*status)) : NULL;
    if (status) {
        for (size_t k = 0; k < njobs; k++)
            status[k] = -1;
        const char *p = out;
        size_t n;
        for (const char *l; (l = line_next(&p, &n)) != NULL;) {
            unsigned long k;
            int s, used = 0;
            if (sscanf(l, "%lu %d%n", &k, &s, &used) == 2 && (size_t)used == n && k < njobs)
                status[k] = s;
        }
        c->batch = status;
    }
    free(out);
    free(errout);
}

/* ---------------------------------------------------- one revision's SQL */

/* The step of rev in Alembic's offline output: from the line after its
   "-- Running upgrade ... -> REV" (or "-- Running downgrade REV -> ...")
   marker to the next marker. *start is where the marker line begins. */
static int find_step(const char *out, const char *rev, int down, const char **start, const char **body,
                     const char **end)
{
    const char *kw = down ? "-- Running downgrade " : "-- Running upgrade ";
    size_t kwn = strlen(kw), rn = strlen(rev);
    *start = NULL;
    const char *p = out, *l;
    size_t n;
    while ((l = line_next(&p, &n)) != NULL) {
        if (!strncmp(l, "-- Running ", 11)) {
            if (*start) {
                *end = l;
                return 1;
            }
            if (n > kwn && !strncmp(l, kw, kwn)) {
                const char *arrow = strstr(l, " -> ");
                if (arrow && arrow < l + n) {
                    int hit = down ? (size_t)(arrow - (l + kwn)) == rn && !strncmp(l + kwn, rev, rn)
                                   : (size_t)(l + n - (arrow + 4)) == rn && !strncmp(arrow + 4, rev, rn);
                    if (hit) {
                        *start = l;
                        *body = p; /* the line after it */
                    }
                }
            }
        }
    }
    if (*start)
        *end = out + strlen(out);
    return *start != NULL;
}

/* Matches the words of form (a blank in it: any run of blanks) at the
   start of s; returns the end of the match, NULL when it does not match. */
static const char *match_words(const char *f, const char *s, const char *e)
{
    while (*f && s < e) {
        if (*f == ' ') {
            if (!is_blank(*s) && *s != '\n' && *s != '\r')
                return NULL;
            while (s < e && (is_blank(*s) || *s == '\n' || *s == '\r'))
                s++;
            f++;
            continue;
        }
        if ((*f | 0x20) != (*s | 0x20))
            return NULL;
        f++;
        s++;
    }
    return *f ? NULL : s;
}

static int ident_char(char ch)
{
    return isalnum((unsigned char)ch) || ch == '_' || ch == '.' || ch == '"';
}

/* The version table of Alembic's run (env.py may name another with
   version_table=, and a schema with version_table_schema=), from the
   bookkeeping Alembic prints with its version_num column:
   "INSERT INTO T (version_num)", "UPDATE T SET version_num",
   "DELETE FROM T WHERE T.version_num". Into name; "alembic_version" when
   the text has none. */
static void version_table_of(const char *text, char *name, size_t cap)
{
    static const char *const pre[] = {"INSERT INTO ", "UPDATE ", "DELETE FROM "};
    static const char *const post[] = {" (version_num)", " SET version_num", " WHERE "};
    const char *e = text + strlen(text);
    snprintf(name, cap, "alembic_version");
    for (const char *p = text; *p; p++) {
        if (p > text && ident_char(p[-1]))
            continue;
        for (int k = 0; k < 3; k++) {
            const char *s = match_words(pre[k], p, e);
            if (!s)
                continue;
            const char *id = s;
            while (s < e && ident_char(*s))
                s++;
            size_t n = (size_t)(s - id);
            const char *t = n ? match_words(post[k], s, e) : NULL;
            if (t && k == 2) { /* WHERE T.version_num */
                if ((size_t)(e - t) < n + 12 || strncmp(t, id, n) || strncmp(t + n, ".version_num", 12))
                    t = NULL;
            }
            if (t && n < cap) {
                snprintf(name, cap, "%.*s", (int)n, id);
                return;
            }
        }
    }
}

/* 1 when the statement is Alembic's bookkeeping on its version table vt. */
static int is_bookkeeping(const sql_stmt *st, const char *vt)
{
    char forms[5][320];
    snprintf(forms[0], sizeof(forms[0]), "CREATE TABLE %s", vt);
    snprintf(forms[1], sizeof(forms[1]), "DROP TABLE %s", vt);
    snprintf(forms[2], sizeof(forms[2]), "INSERT INTO %s", vt);
    snprintf(forms[3], sizeof(forms[3]), "UPDATE %s", vt);
    snprintf(forms[4], sizeof(forms[4]), "DELETE FROM %s", vt);
    for (size_t i = 0; i < sizeof(forms) / sizeof(*forms); i++) {
        const char *f = forms[i], *s = st->text, *e = st->text + st->len;
        while (*f && s < e) {
            if (*f == ' ') {
                if (!is_blank(*s) && *s != '\n' && *s != '\r')
                    break;
                while (s < e && (is_blank(*s) || *s == '\n' || *s == '\r'))
                    s++;
                f++;
                continue;
            }
            if ((*f | 0x20) != (*s | 0x20))
                break;
            f++;
            s++;
        }
        if (!*f && (s == e || !(isalnum((unsigned char)*s) || *s == '_')))
            return 1;
    }
    return 0;
}

typedef struct strip_ctx {
    const char *base;
    const char *vt; /* the version table */
    size_t from;    /* copied up to here */
    buf *out;
    int committed;  /* a COMMIT was seen */
    int notx;       /* SQL after a COMMIT: an autocommit_block() */
    int keep_txn;   /* drop only the bookkeeping; BEGIN and COMMIT stay */
    int pairs;      /* drop only a BEGIN followed at once by its COMMIT */
    size_t begin_s; /* that BEGIN's start + 1; 0 when the last statement was not one */
} strip_ctx;

/* The end of st in x->base past its ';', the rest of its line and one blank
   line after it (Alembic ends each statement with ";\n\n"). */
static size_t stmt_end(const strip_ctx *x, const sql_stmt *st)
{
    size_t e = (size_t)(st->text - x->base) + st->len;
    if (x->base[e] == ';')
        e++;
    while (x->base[e] && is_blank(x->base[e]))
        e++;
    if (x->base[e] == '\n')
        e++;
    size_t b = e;
    while (x->base[b] == ' ' || x->base[b] == '\t' || x->base[b] == '\r')
        b++;
    if (x->base[b] == '\n')
        e = b + 1;
    return e;
}

/* Leaves base[s, e) out of the output. */
static void strip_range(strip_ctx *x, size_t s, size_t e)
{
    buf_add(x->out, x->base + x->from, s - x->from);
    x->from = e;
}

static int strip_stmt(void *ud, const sql_stmt *st)
{
    strip_ctx *x = ud;
    int txn = sql_is_txn_control(st);
    size_t s = (size_t)(st->text - x->base);
    if (x->pairs) {
        if (txn && !strcmp(st->first, "COMMIT") && x->begin_s)
            strip_range(x, x->begin_s - 1, stmt_end(x, st));
        x->begin_s = txn && (!strcmp(st->first, "BEGIN") || !strcmp(st->first, "START")) ? s + 1 : 0;
        return 0;
    }
    if (!txn && !is_bookkeeping(st, x->vt)) {
        if (x->committed)
            x->notx = 1;
        return 0;
    }
    if (txn && !strcmp(st->first, "COMMIT"))
        x->committed = 1;
    if (txn && x->keep_txn)
        return 0;
    strip_range(x, s, stmt_end(x, st));
    return 0;
}

/* x's text with what strip_stmt leaves out left out. */
static char *strip_pass(const char *text, int dialect, strip_ctx *x)
{
    buf out;
    buf_init(&out);
    x->base = text;
    x->from = 0;
    x->out = &out;
    sql_split(text, strlen(text), dialect, strip_stmt, x);
    buf_adds(&out, text + x->from);
    return buf_detach(&out);
}

/* The step's SQL without Alembic's bookkeeping; the marker line is kept
   first. Without an autocommit_block() its BEGIN and COMMIT go too (strata
   runs the section in a transaction of its own); with one (*notx: SQL after
   a COMMIT), they stay, so the statements before and after the block each
   commit together as under Alembic -- only a BEGIN left with nothing before
   its COMMIT goes. Blank lines at the end are trimmed to one newline. */
static char *strip_step(const char *marker, const char *body, const char *end, int dialect, int *notx)
{
    char *text = xstrndup(body, (size_t)(end - body));
    if (!text)
        return NULL;
    char vt[256];
    version_table_of(text, vt, sizeof(vt));
    strip_ctx x = {.vt = vt};
    char *sql = strip_pass(text, dialect, &x);
    *notx = x.notx;
    if (sql && x.notx) {
        free(sql);
        /* the step starts inside the transaction Alembic opened before its
           marker line: a BEGIN of strata's own opens it again */
        strip_ctx k = {.vt = vt, .keep_txn = 1};
        char *kept = strip_pass(text, dialect, &k);
        buf open;
        buf_init(&open);
        buf_adds(&open, "BEGIN;\n\n");
        buf_adds(&open, kept ? kept : "");
        strip_ctx pr = {.vt = vt, .pairs = 1};
        sql = kept && !open.oom ? strip_pass(open.data, dialect, &pr) : NULL;
        free(kept);
        buf_release(&open);
    }
    free(text);
    if (!sql)
        return NULL;
    buf out;
    buf_init(&out);
    buf_add(&out, marker, (size_t)(body - marker));
    buf_adds(&out, sql);
    free(sql);
    while (out.len && (out.data[out.len - 1] == '\n' || is_blank(out.data[out.len - 1])))
        out.data[--out.len] = 0;
    buf_adds(&out, "\n");
    return buf_detach(&out);
}

static strata_code revision_sql(actx *c, const arev *r, size_t job, const char *ini, const char *dialect,
                                const char *url, int down, char **sql, int *notx, strata_error *err)
{
    char range[512];
    const char *parent = r->parent ? r->parent : "base";
    if (down)
        snprintf(range, sizeof(range), "%s:%s", r->id, parent);
    else
        snprintf(range, sizeof(range), "%s:%s", parent, r->id);
    const char *args[] = {"-c", ini, down ? "downgrade" : "upgrade", range, "--sql", NULL};
    char *out = NULL, *errout = NULL;
    strata_code rc = STRATA_OK;
    *sql = NULL;
    int st = -1;
    if (c->batch && c->batch[job] == 0) { /* the driver's output; a failure runs again alone */
        char path[PATH_MAX + 32];
        snprintf(path, sizeof(path), "%s/out.%zu", c->tmp, job);
        if ((out = read_all(path, NULL)) != NULL && (errout = xstrdup("")) != NULL)
            st = 0;
    }
    if (st != 0) {
        free(out);
        free(errout);
        out = errout = NULL;
        st = run_alembic(c, args, url, &out, &errout);
    }
    if (st < 0) {
        rc = err_set(err, errno == ENOENT ? STRATA_TOOL_MISSING : STRATA_TOOL_FAILED, "cannot run '%s': %s",
                     c->prog, strerror(errno));
        goto out;
    }
    if (st != 0) {
        char why[600];
        last_line(errout, why, sizeof(why));
        rc = err_set(err, STRATA_TOOL_FAILED,
                     "alembic cannot produce the offline %s SQL of revision %s for %s: %s",
                     down ? "downgrade" : "upgrade", r->id, dialect, why);
        err_hint(err,
                 "Alembic's --sql mode must run the revision without a database (no reads, no "
                 "bind parameters); fix the revision or leave %s out with --dialect",
                 dialect);
        tool_where(err, errout, r->path);
        goto out;
    }
    const char *start, *body, *end;
    if (!find_step(out, r->id, down, &start, &body, &end)) {
        rc = err_set(err, STRATA_TOOL_FAILED, "alembic printed no %s step for revision %s (%s)",
                     down ? "downgrade" : "upgrade", r->id, dialect);
        err_where(err, r->path, 0);
        goto out;
    }
    *sql = strip_step(start, body, end, !strcmp(dialect, "sqlite") ? DIALECT_SQLITE : DIALECT_POSTGRES, notx);
    if (!*sql)
        rc = err_set(err, STRATA_NOMEM, "out of memory");
out:
    free(out);
    free(errout);
    return rc;
}

/* The revision that declares branch label name, as Alembic resolves a
   depends_on that names a label (its revision map maps the label to that
   revision, not to the branch's head): `alembic show LABEL`, whose first
   line is "Rev: ID ...". 0 and out filled, or -1 (not a label Alembic knows). */
static int label_revision(actx *c, const char *ini, const char *url, const char *name, size_t n, char *out,
                          size_t cap)
{
    char label[256];
    if (n >= sizeof(label))
        return -1;
    memcpy(label, name, n);
    label[n] = 0;
    const char *args[] = {"-c", ini, "show", label, NULL};
    char *so = NULL, *se = NULL;
    int st = run_alembic(c, args, url, &so, &se);
    int rc = -1;
    const char *v = so && st == 0 ? strstr(so, "Rev: ") : NULL;
    if (v && (v == so || v[-1] == '\n')) {
        v += 5;
        size_t k = strcspn(v, " \t\r\n");
        for (size_t i = 0; k && i < c->nrevs; i++)
            if (strlen(c->revs[i].id) == k && !strncmp(c->revs[i].id, v, k) && k < cap) {
                memcpy(out, v, k);
                out[k] = 0;
                rc = 0;
                break;
            }
    }
    free(so);
    free(se);
    return rc;
}

/* The depends_on list of `alembic history` ("a1b2, other") with each
   revision written in full (a unique prefix of one names it, as Alembic
   resolves it) and a branch label replaced by the revision that declares
   it (label_revision); a name neither resolves to stays as written, which
   adopt ignores. malloc'd, NULL for none (or out of memory when list is
   not NULL). */
static char *resolve_depends(actx *c, const char *ini, const char *url, const char *list)
{
    if (!list)
        return NULL;
    buf b;
    buf_init(&b);
    for (const char *p = list; *p;) {
        while (*p == ',' || *p == ' ')
            p++;
        size_t n = strcspn(p, ", ");
        if (!n)
            break;
        const char *full = NULL;
        int hits = 0;
        for (size_t i = 0; i < c->nrevs; i++) {
            if (strlen(c->revs[i].id) == n && !strncmp(c->revs[i].id, p, n)) {
                full = c->revs[i].id, hits = 1;
                break;
            }
            if (!strncmp(c->revs[i].id, p, n))
                full = c->revs[i].id, hits++;
        }
        char labelled[256];
        if (b.len)
            buf_adds(&b, ",");
        if (hits == 1)
            buf_adds(&b, full);
        else if (!hits && !label_revision(c, ini, url, p, n, labelled, sizeof(labelled)))
            buf_adds(&b, labelled);
        else
            buf_add(&b, p, n);
        p += n;
    }
    if (!b.data)
        buf_add(&b, "", 0);
    return buf_detach(&b);
}

/* The file name without its directory and ".py"; the slug is what follows
   the revision id in it ("0a1b2c3d4e5f_create_users" -> "create_users").
   A file named by its revision id alone takes the slug from the id: the
   part after its leading digits ("0011_create_purchases" -> "create_purchases",
   and number "0011": strata's version when every id has one, in order, so
   that `strata down 0011_create_purchases` names what `alembic downgrade
   0011_create_purchases` did), or the whole id ("create_users"). number
   (ncap bytes) is "" when the id does not start with digits and '_' or '-'. */
static void names_of(const arev *r, char *file, size_t fcap, char *slug, size_t scap, char *number,
                     size_t ncap)
{
    size_t d = 0;
    while (isdigit((unsigned char)r->id[d]))
        d++;
    int numbered = d && d < ncap && (r->id[d] == '_' || r->id[d] == '-') && r->id[d + 1];
    snprintf(number, ncap, "%.*s", numbered ? (int)d : 0, r->id);
    const char *base = strrchr(r->path, '/');
    base = base ? base + 1 : r->path;
    snprintf(file, fcap, "%s", base);
    char stem[512];
    snprintf(stem, sizeof(stem), "%s", base);
    size_t n = strlen(stem);
    if (n > 3 && !strcmp(stem + n - 3, ".py"))
        stem[n - 3] = 0;
    const char *s = strstr(stem, r->id);
    if (s && (s[strlen(r->id)] == '_' || s[strlen(r->id)] == '-'))
        s += strlen(r->id) + 1;
    else if (s && !s[strlen(r->id)])
        s = numbered ? r->id + d + 1 : r->id;
    else
        s = stem;
    size_t k = 0;
    for (; *s && k + 1 < scap; s++) {
        unsigned char ch = (unsigned char)*s;
        if (isalnum(ch))
            slug[k++] = (char)c_tolower(ch);
        else if (k && slug[k - 1] != '_')
            slug[k++] = '_';
    }
    while (k && slug[k - 1] == '_')
        k--;
    slug[k] = 0;
    if (!k)
        snprintf(slug, scap, "revision");
}

/* ---------------------------------------------------------------- reader */

/* Removes the private temporary directory and the files strata wrote in it
   (it holds nothing else: mkdtemp made it, mode 0700). */
static void rm_tmp(actx *c)
{
    if (!c->tmp[0])
        return;
    DIR *d = opendir(c->tmp);
    if (d) {
        int fd = dirfd(d);
        for (struct dirent *e; (e = readdir(d)) != NULL;)
            if (strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0)
                unlinkat(fd, e->d_name, 0);
        closedir(d);
    }
    rmdir(c->tmp);
}

strata_code import_alembic(const char *src, const strata_import_opts *o, import_set *out, strata_error *err)
{
    actx c;
    memset(&c, 0, sizeof(c));
    strata_code rc = STRATA_OK;
    char ini[PATH_MAX], inis[2][PATH_MAX + 32];
    const char *dialects[2];
    size_t nd = 0;
    char *hist = NULL, *hist_err = NULL;

    /* dialects: "postgres,sqlite" by default */
    const char *ds = o && o->dialects && *o->dialects ? o->dialects : "postgres,sqlite";
    for (const char *p = ds; *p;) {
        size_t n = strcspn(p, ",");
        const char *d = !strncmp(p, "postgres", n) && n == 8 ? "postgres"
                        : !strncmp(p, "sqlite", n) && n == 6 ? "sqlite"
                                                             : NULL;
        if (!d) {
            rc = err_set(err, STRATA_USAGE, "unknown dialect '%.*s'", (int)n, p);
            err_hint(err, "--dialect takes postgres, sqlite or postgres,sqlite");
            return rc;
        }
        if (!(nd == 1 && !strcmp(dialects[0], d)) && nd < 2)
            dialects[nd++] = d;
        p += n;
        if (*p == ',')
            p++;
    }

    /* SRC: the project directory holding alembic.ini, or the ini itself */
    struct stat sb;
    if (!src || stat(src, &sb) != 0)
        return err_set(err, STRATA_DIR_NOT_FOUND, "cannot read '%s': %s", src ? src : "",
                       strerror(src ? errno : EINVAL));
    if (S_ISDIR(sb.st_mode))
        snprintf(ini, sizeof(ini), "%s/alembic.ini", src);
    else
        snprintf(ini, sizeof(ini), "%s", src);
    char real[PATH_MAX];
    if (!realpath(ini, real)) {
        rc = err_set(err, STRATA_DIR_NOT_FOUND, "no alembic.ini in '%s'", src);
        err_hint(err, "give the directory where you run alembic (the one with alembic.ini), or the ini file");
        return rc;
    }
    snprintf(c.inidir, sizeof(c.inidir), "%s", real);
    char *slash = strrchr(c.inidir, '/');
    if (slash)
        *(slash == c.inidir ? slash + 1 : slash) = 0;
    if (!(c.ini_text = read_all(real, NULL)))
        return err_set(err, STRATA_IO_ERROR, "cannot read '%s': %s", real, strerror(errno));

    c.prog = getenv("STRATA_ALEMBIC") && *getenv("STRATA_ALEMBIC") ? getenv("STRATA_ALEMBIC") : "alembic";
    const char *tmpdir = getenv("TMPDIR") && *getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp";
    snprintf(c.tmp, sizeof(c.tmp), "%s/strata-alembic-XXXXXX", tmpdir);
    if (!mkdtemp(c.tmp)) {
        rc = err_set(err, STRATA_IO_ERROR, "cannot create a temporary directory in '%s': %s", tmpdir,
                     strerror(errno));
        c.tmp[0] = 0;
        goto out;
    }
    for (size_t i = 0; i < nd; i++)
        if ((rc = write_ini(&c, dialects[i], dialect_url(dialects[i]), inis[i], sizeof(inis[i]), err)))
            goto out;

    const char *hargs[] = {"-c", inis[0], "history", "--verbose", NULL};
    int st = run_alembic(&c, hargs, dialect_url(dialects[0]), &hist, &hist_err);
    if (st < 0) {
        if (errno == ENOENT) {
            rc = err_set(err, STRATA_TOOL_MISSING,
                         "'%s' is not installed (alembic import runs Alembic itself)", c.prog);
            err_hint(err, "install it (apt-get install alembic, or pip), or set STRATA_ALEMBIC to your "
                          "project's alembic, e.g. .venv/bin/alembic");
        } else {
            rc = err_set(err, STRATA_TOOL_FAILED, "cannot run '%s': %s", c.prog, strerror(errno));
        }
        goto out;
    }
    if (st != 0) {
        char why[600];
        last_line(hist_err, why, sizeof(why));
        rc = err_set(err, STRATA_TOOL_FAILED, "'alembic history' failed: %s", why);
        tool_where(err, hist_err, real);
        goto out;
    }
    if ((rc = parse_history(&c, hist, err)))
        goto out;
    if (!c.nrevs) {
        rc = err_set(err, STRATA_TOOL_FAILED, "alembic lists no revision in '%s'", src);
        goto out;
    }

    run_batch(&c, inis, dialects, nd);
    for (size_t i = 0; i < c.nrevs && !rc; i++) {
        const arev *r = &c.revs[i];
        char file[512], slug[256], number[32];
        names_of(r, file, sizeof(file), slug, sizeof(slug), number, sizeof(number));
        char *deps = resolve_depends(&c, inis[0], dialect_url(dialects[0]), r->depends);
        if (r->depends && !deps) {
            rc = err_set(err, STRATA_NOMEM, "out of memory");
            break;
        }
        for (size_t d = 0; d < nd && !rc; d++) {
            import_mig m;
            memset(&m, 0, sizeof(m));
            m.version = r->id;
            m.number = number[0] ? number : NULL;
            m.name = slug;
            m.file = file;
            m.dialect = (char *)dialects[d];
            m.depends = deps;
            m.has_down = 1;
            const char *url = dialect_url(dialects[d]);
            if (!(rc = revision_sql(&c, r, batch_index(i, d, nd, 0), inis[d], dialects[d], url, 0, &m.up,
                                    &m.up_notx, err)) &&
                !(rc = revision_sql(&c, r, batch_index(i, d, nd, 1), inis[d], dialects[d], url, 1, &m.down,
                                    &m.down_notx, err)) &&
                import_add(out, &m) != STRATA_OK)
                rc = err_set(err, STRATA_NOMEM, "out of memory");
            free(m.up);
            free(m.down);
        }
        free(deps);
    }
out:
    free(hist);
    free(hist_err);
    free(c.ini_text);
    for (size_t i = 0; i < c.nrevs; i++) {
        free(c.revs[i].id);
        free(c.revs[i].path);
        free(c.revs[i].parent);
        free(c.revs[i].depends);
    }
    free(c.revs);
    free(c.batch);
    rm_tmp(&c);
    return rc;
}
