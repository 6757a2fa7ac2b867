/*
 * import.c -- strata import: the format table, and what every format shares:
 * grouping a reader's migrations into files, keeping or renumbering their
 * versions, writing the files with their header line, and validating the
 * result.
 */
#include "import/import.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static const struct {
    const char *name;
    import_reader read;
} formats[] = {
    {"dbmate", import_dbmate},   {"goose", import_goose},   {"golang-migrate", import_golang_migrate},
    {"flyway", import_flyway},   {"sqitch", import_sqitch}, {"pop", import_pop},
    {"alembic", import_alembic},
};

/* ------------------------------------------------------------ the set */

strata_code import_add(import_set *s, const import_mig *m)
{
    if (ARR_GROW(s->v, s->cap, s->n + 1))
        return STRATA_NOMEM;
    import_mig *d = &s->v[s->n];
    memset(d, 0, sizeof(*d));
    d->version = xstrdup(m->version);
    d->number = xstrdup(m->number);
    d->name = xstrdup(m->name);
    d->file = xstrdup(m->file);
    d->up = xstrdup(m->up);
    d->down = xstrdup(m->down);
    d->verify = xstrdup(m->verify);
    d->dialect = xstrdup(m->dialect);
    d->depends = xstrdup(m->depends);
    d->project = xstrdup(m->project);
    d->up_notx = m->up_notx;
    d->down_notx = m->down_notx;
    d->has_down = m->has_down;
    s->n++;
    if ((m->version && !d->version) || (m->number && !d->number) || (m->name && !d->name) ||
        (m->file && !d->file) || (m->up && !d->up) || (m->down && !d->down) || (m->verify && !d->verify) ||
        (m->dialect && !d->dialect) || (m->depends && !d->depends) || (m->project && !d->project))
        return STRATA_NOMEM;
    return STRATA_OK;
}

static void mig_release(import_mig *m)
{
    free(m->version);
    free(m->number);
    free(m->name);
    free(m->file);
    free(m->up);
    free(m->down);
    free(m->verify);
    free(m->dialect);
    free(m->depends);
    free(m->project);
}

void import_set_release(import_set *s)
{
    for (size_t i = 0; i < s->n; i++)
        mig_release(&s->v[i]);
    free(s->v);
    memset(s, 0, sizeof(*s));
}

/* ------------------------------------------------------------ helpers */

int import_sort(import_set *s, int (*cmp)(const import_mig *, const import_mig *))
{
    /* a stable bottom-up merge sort */
    if (s->n < 2)
        return 0;
    import_mig *tmp = malloc(s->n * sizeof(*tmp));
    if (!tmp)
        return -1;
    for (size_t w = 1; w < s->n; w *= 2) {
        for (size_t lo = 0; lo < s->n; lo += 2 * w) {
            size_t mid = lo + w < s->n ? lo + w : s->n, hi = lo + 2 * w < s->n ? lo + 2 * w : s->n;
            size_t a = lo, b = mid, k = lo;
            while (a < mid && b < hi)
                tmp[k++] = cmp(&s->v[b], &s->v[a]) < 0 ? s->v[b++] : s->v[a++];
            while (a < mid)
                tmp[k++] = s->v[a++];
            while (b < hi)
                tmp[k++] = s->v[b++];
        }
        memcpy(s->v, tmp, s->n * sizeof(*tmp));
    }
    free(tmp);
    return 0;
}

strata_code import_refuse(strata_error *err, const char *fmt, ...)
{
    char msg[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    return err_set(err, STRATA_IMPORT_UNSUPPORTED, "%s", msg);
}

/* What orders m among strata's versions: its number, else its version. */
static const char *key_of(const import_mig *m)
{
    return m->number ? m->number : m->version;
}

int import_all_digits(const char *s)
{
    if (!s || !*s)
        return 0;
    for (; *s; s++)
        if (!isdigit((unsigned char)*s))
            return 0;
    return 1;
}

static int cmp_names(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

typedef struct names {
    char **v;
    size_t n, cap;
} names;

static int names_add(names *ns, char *s)
{
    if (!s)
        return -1;
    if (ARR_GROW(ns->v, ns->cap, ns->n + 2)) {
        free(s);
        return -1;
    }
    ns->v[ns->n++] = s;
    ns->v[ns->n] = NULL;
    return 0;
}

static strata_code list_into(const char *dir, const char *prefix, int recursive, names *ns, strata_error *err)
{
    char path[4096];
    snprintf(path, sizeof(path), "%s%s%s", dir, *prefix ? "/" : "", prefix);
    DIR *d = opendir(path);
    if (!d) {
        if (!*prefix)
            return err_set(err, STRATA_DIR_NOT_FOUND, "cannot open directory '%s': %s", dir, strerror(errno));
        return err_set(err, STRATA_IO_ERROR, "cannot open directory '%s': %s", path, strerror(errno));
    }
    strata_code rc = STRATA_OK;
    struct dirent *e;
    while (!rc && (e = readdir(d))) {
        if (e->d_name[0] == '.')
            continue;
        char rel[4096], full[8192];
        snprintf(rel, sizeof(rel), "%s%s%s", prefix, *prefix ? "/" : "", e->d_name);
        snprintf(full, sizeof(full), "%s/%s", dir, rel);
        struct stat st;
        if (stat(full, &st) != 0)
            continue; /* a dangling link is no migration */
        if (S_ISDIR(st.st_mode)) {
            if (recursive)
                rc = list_into(dir, rel, recursive, ns, err);
            continue;
        }
        if (S_ISREG(st.st_mode) && names_add(ns, strdup(rel)) != 0)
            rc = err_set(err, STRATA_NOMEM, "out of memory");
    }
    closedir(d);
    return rc;
}

strata_code import_list(const char *dir, int recursive, char ***out, size_t *n, strata_error *err)
{
    names ns = {0};
    *out = NULL;
    *n = 0;
    strata_code rc = list_into(dir, "", recursive, &ns, err);
    if (!rc && !ns.v) {
        ns.v = calloc(1, sizeof(char *));
        if (!ns.v)
            rc = err_set(err, STRATA_NOMEM, "out of memory");
    }
    if (rc) {
        import_names_free(ns.v);
        return rc;
    }
    qsort(ns.v, ns.n, sizeof(char *), cmp_names);
    *out = ns.v;
    *n = ns.n;
    return STRATA_OK;
}

void import_names_free(char **v)
{
    if (!v)
        return;
    for (char **p = v; *p; p++)
        free(*p);
    free(v);
}

strata_code import_read(const char *dir, const char *name, char **text, size_t *len, strata_error *err)
{
    char path[8192];
    snprintf(path, sizeof(path), "%s/%s", dir, name);
    *text = NULL;
    FILE *f = fopen(path, "rb");
    if (!f)
        return err_set(err, STRATA_IO_ERROR, "cannot read '%s': %s", path, strerror(errno));
    buf b;
    buf_init(&b);
    char chunk[65536];
    size_t n;
    while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0)
        buf_add(&b, chunk, n);
    int bad = ferror(f);
    fclose(f);
    if (bad) {
        buf_release(&b);
        return err_set(err, STRATA_IO_ERROR, "cannot read '%s'", path);
    }
    if (memchr(b.data ? b.data : "", 0, b.len)) {
        buf_release(&b);
        return import_refuse(err, "'%s' holds a NUL byte: not a SQL file", path);
    }
    /* a byte order mark is not SQL: carried, it would land after the
       header, mid-file, where PostgreSQL reads it as part of a statement */
    if (b.len >= 3 && !memcmp(b.data, "\xEF\xBB\xBF", 3)) {
        memmove(b.data, b.data + 3, b.len - 3 + 1);
        b.len -= 3;
    }
    size_t l = b.len;
    *text = buf_detach(&b);
    if (!*text)
        return err_set(err, STRATA_NOMEM, "out of memory");
    if (len)
        *len = l;
    return STRATA_OK;
}

int import_file_exists(const char *dir, const char *name)
{
    char path[8192];
    snprintf(path, sizeof(path), "%s/%s", dir, name);
    struct stat st;
    return stat(path, &st) == 0 && S_ISREG(st.st_mode);
}

static int txn_fn(void *ud, const sql_stmt *st)
{
    (void)ud;
    return sql_is_txn_control(st);
}

int import_has_txn_control(const char *sql)
{
    return sql && sql_split(sql, strlen(sql), DIALECT_POSTGRES, txn_fn, NULL) != 0;
}

int import_runs_outside_tx(const char *sql)
{
    return import_has_txn_control(sql) || lint_needs_notx(sql) > 0;
}

/* ------------------------------------------------------------ header */

static void add_encoded(buf *b, const char *s)
{
    for (; s && *s; s++) {
        unsigned char c = (unsigned char)*s;
        if (c == ' ' || c == '%' || c < 0x20 || c == 0x7f)
            buf_addf(b, "%%%02X", c);
        else
            buf_add(b, s, 1);
    }
}

int import_header_parse(const char *line, size_t len, char **tool, char **version, char **file)
{
    static const char pre[] = "-- import: ";
    *tool = *version = *file = NULL;
    while (len && (line[len - 1] == '\r' || line[len - 1] == '\n'))
        len--;
    if (len < sizeof(pre) - 1 || memcmp(line, pre, sizeof(pre) - 1) != 0)
        return -1;
    const char *keys[3] = {"tool=", "version=", "file="};
    char **outs[3] = {tool, version, file};
    size_t i = sizeof(pre) - 1;
    for (int k = 0; k < 3; k++) {
        size_t kl = strlen(keys[k]);
        if (len - i < kl || memcmp(line + i, keys[k], kl) != 0)
            goto bad;
        i += kl;
        size_t s = i;
        while (i < len && line[i] != ' ')
            i++;
        if (!(*outs[k] = pct_decode(line + s, i - s)))
            goto bad;
        if (i < len)
            i++;
    }
    while (i < len) { /* optional KEY=VALUE words */
        size_t s = i;
        while (i < len && line[i] != ' ')
            i++;
        const char *eq = memchr(line + s, '=', i - s);
        if (!eq || eq == line + s)
            goto bad;
        if (i < len)
            i++;
    }
    return 0;
bad:
    free(*tool);
    free(*version);
    free(*file);
    *tool = *version = *file = NULL;
    return -1;
}

/* ------------------------------------------------------------ writing */

/* A file slug from a tool's name: ASCII letters, digits and '_' kept, any
   other run of characters becomes one '_'. */
static void slug_of(const char *name, char *out, size_t cap)
{
    size_t n = 0;
    int under = 1;
    for (const char *p = name ? name : ""; *p && n + 1 < cap; p++) {
        unsigned char c = (unsigned char)*p;
        if (isalnum(c) && c < 0x80) {
            out[n++] = (char)c;
            under = 0;
        } else if (!under) {
            out[n++] = '_';
            under = 1;
        }
    }
    while (n && out[n - 1] == '_')
        n--;
    out[n] = 0;
    if (!n)
        snprintf(out, cap, "migration");
}

/* 1 when a line of sql would read as a strata section marker: one that
   starts outside any string, dollar quote or comment, as strata's loader
   reads it (a line of a multi-line string is text). */
static int has_marker_line(const char *sql, int *line)
{
    sql_lines lx = {DIALECT_POSTGRES, 0};
    size_t len = strlen(sql), pos = 0, next = 0, open_at = (size_t)-1;
    for (int ln = 1; pos < len; ln++) {
        size_t eol = pos;
        while (eol < len && sql[eol] != '\n')
            eol++;
        if (pos >= next) {
            size_t w = 0, i = marker_word(sql + pos, eol - pos, &w);
            if (i && !(i - w == 11 && !strncmp(sql + pos + w, "lint-ignore", 11))) {
                *line = ln;
                return 1;
            }
            next = sql_next_line(sql, len, pos, &lx, &open_at);
        }
        pos = eol + 1;
    }
    return 0;
}

static void add_section(buf *b, const char *kind, const char *dialect, int notx, const char *sql)
{
    buf_addf(b, "-- strata:%s", kind);
    if (dialect)
        buf_addf(b, " dialect=%s", dialect);
    if (notx)
        buf_adds(b, " no-transaction");
    buf_adds(b, "\n");
    if (sql && *sql) {
        buf_adds(b, sql);
        if (sql[strlen(sql) - 1] != '\n')
            buf_adds(b, "\n");
    }
}

typedef struct group {
    size_t first, n; /* entries of the set */
    char *fname;     /* the strata file name */
} group;

static strata_code check_sql(const char *tool, const import_mig *m, strata_error *err)
{
    const char *parts[3] = {m->up, m->down, m->verify};
    static const char *const part_name[3] = {"up", "down", "verify"};
    /* a psql meta-command (\gexec, \set), a sqlite3 dot-command or COPY
       ... FROM STDIN: the tool ran the script through that client, strata
       sends SQL as written -- refused here, before anything is written */
    for (int k = 0; k < 3; k++) {
        char what[80];
        int dialect = m->dialect && !strcmp(m->dialect, "sqlite") ? DIALECT_SQLITE : DIALECT_POSTGRES;
        int line = parts[k] ? sql_find_client_command(parts[k], dialect, what, sizeof(what)) : 0;
        if (line)
            return import_refuse(err,
                                 "%s file '%s': line %d of its %s SQL is '%s', which only a client program "
                                 "(psql, sqlite3) runs; strata sends SQL as written",
                                 tool, m->file, line, part_name[k], what);
    }
    for (int k = 0; k < 3; k++) {
        int line;
        if (parts[k] && has_marker_line(parts[k], &line))
            return import_refuse(err,
                                 "%s file '%s' has a line that reads as a strata marker "
                                 "('-- strata:...', line %d of its %s SQL)",
                                 tool, m->file, line, part_name[k]);
    }
    if (m->verify && import_has_txn_control(m->verify))
        return import_refuse(err,
                             "%s file '%s': its verify SQL manages its own transaction, "
                             "which a strata verify section cannot do",
                             tool, m->file);
    return STRATA_OK;
}

static char *render(const char *tool, const import_set *s, const group *g)
{
    buf b;
    buf_init(&b);
    buf_adds(&b, "-- import: tool=");
    add_encoded(&b, tool);
    buf_adds(&b, " version=");
    add_encoded(&b, s->v[g->first].version);
    buf_adds(&b, " file=");
    for (size_t i = 0, nf = 0; i < g->n; i++) {
        const char *f = s->v[g->first + i].file;
        size_t k = 0;
        while (k < i && !(f && s->v[g->first + k].file && !strcmp(f, s->v[g->first + k].file)))
            k++;
        if (k < i || !f || !*f) /* the same file again, for another dialect; or none */
            continue;
        if (nf++)
            buf_adds(&b, ",");
        add_encoded(&b, f);
    }
    if (s->v[g->first].depends && *s->v[g->first].depends) {
        buf_adds(&b, " depends=");
        add_encoded(&b, s->v[g->first].depends);
    }
    if (s->v[g->first].project && *s->v[g->first].project) {
        buf_adds(&b, " project=");
        add_encoded(&b, s->v[g->first].project);
    }
    buf_adds(&b, "\n");
    for (size_t i = 0; i < g->n; i++) {
        const import_mig *m = &s->v[g->first + i];
        if (m->up || (!m->dialect && !m->has_down)) /* a dialect without its own up uses the generic one */
            add_section(&b, "up", m->dialect, m->up_notx, m->up);
        if (m->verify)
            add_section(&b, "verify", m->dialect, 0, m->verify);
        if (m->has_down)
            add_section(&b, "down", m->dialect, m->down_notx, m->down);
    }
    return buf_detach(&b);
}

static int dir_has_sql(const char *dir, int *exists)
{
    DIR *d = opendir(dir);
    *exists = d != NULL;
    if (!d)
        return 0;
    struct dirent *e;
    int found = 0;
    while (!found && (e = readdir(d))) {
        size_t l = strlen(e->d_name);
        found = l > 4 && !strcmp(e->d_name + l - 4, ".sql");
    }
    closedir(d);
    return found;
}

/* --force: removes the .sql files of dir that an earlier import from tool
   wrote (their first line is its "-- import: tool=TOOL " header) and that
   this one does not write again -- a renumbered history leaves none of the
   old numbers beside the new ones. Files without that header are kept. */
static strata_code remove_stale(const char *dir, const char *tool, const group *groups, size_t ng,
                                strata_error *err)
{
    DIR *d = opendir(dir);
    if (!d)
        return STRATA_OK;
    char head[300];
    snprintf(head, sizeof(head), "-- import: tool=%s ", tool);
    strata_code rc = STRATA_OK;
    struct dirent *e;
    while (!rc && (e = readdir(d))) {
        size_t l = strlen(e->d_name);
        if (l <= 4 || strcmp(e->d_name + l - 4, ".sql"))
            continue;
        int again = 0;
        for (size_t g = 0; g < ng && !again; g++)
            again = groups[g].fname && !strcmp(groups[g].fname, e->d_name);
        if (again)
            continue;
        char path[4096], first[300] = "";
        snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
        FILE *f = fopen(path, "r");
        if (!f)
            continue;
        int ours = fgets(first, sizeof(first), f) && !strncmp(first, head, strlen(head));
        fclose(f);
        if (ours && unlink(path) != 0)
            rc = err_set(err, STRATA_IO_ERROR, "cannot remove '%s' (an earlier import's): %s", path,
                         strerror(errno));
    }
    closedir(d);
    return rc;
}

static strata_code make_dirs(const char *dir, strata_error *err)
{
    char failed[4096];
    if (mkdir_p(dir, 0777, failed, sizeof(failed)) != 0)
        return err_set(err, STRATA_IO_ERROR, "cannot create directory '%s': %s",
                       errno == ENAMETOOLONG ? dir : failed, strerror(errno));
    return STRATA_OK;
}

static strata_code write_file(const char *dir, const char *name, const char *text, strata_error *err)
{
    char path[8192];
    snprintf(path, sizeof(path), "%s/%s", dir, name);
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0666);
    if (fd < 0)
        return err_set(err, STRATA_IO_ERROR, "cannot write '%s': %s", path, strerror(errno));
    if (fd_write_all(fd, text, strlen(text)) != 0) {
        int e = errno;
        close(fd);
        unlink(path);
        return err_set(err, STRATA_IO_ERROR, "cannot write '%s': %s", path, strerror(e));
    }
    if (close(fd) != 0) {
        unlink(path);
        return err_set(err, STRATA_IO_ERROR, "cannot write '%s': %s", path, strerror(errno));
    }
    return STRATA_OK;
}

void strata_import_report_free(strata_import_report *r)
{
    if (!r)
        return;
    for (size_t i = 0; i < r->count; i++)
        free(r->files[i]);
    free(r->files);
    free(r->message);
    free(r);
}

/* The dialects of o as a name, when exactly one is given: the sections of a
   single-SQL tool are then written for that engine only. */
static strata_code check_dialects(const strata_import_opts *o, const char **only, strata_error *err)
{
    *only = NULL;
    if (!o || !o->dialects || !*o->dialects)
        return STRATA_OK;
    int seen = 0, count = 0;
    const char *p = o->dialects;
    while (*p) {
        const char *e = strchr(p, ',');
        size_t n = e ? (size_t)(e - p) : strlen(p);
        char d[32];
        snprintf(d, sizeof(d), "%.*s", (int)(n < sizeof(d) ? n : sizeof(d) - 1), p);
        int dl = n < sizeof(d) ? dialect_of_engine(d) : -1;
        if (dl <= 0)
            return err_set(err, STRATA_USAGE, "unknown dialect '%.*s' (expected postgres or sqlite)", (int)n,
                           p);
        if (!(seen & dl))
            count++;
        seen |= dl;
        p = e ? e + 1 : p + n;
    }
    if (count == 1)
        *only = seen == DIALECT_POSTGRES ? "postgres" : "sqlite";
    return STRATA_OK;
}

strata_code strata_import(const char *format, const char *src, const char *dir, const strata_import_opts *o,
                          strata_import_report **out, strata_error *err)
{
    strata_import_opts defaults = {0};
    strata_error local;
    if (!err) /* the readers may rely on err */
        err = &local;
    strata_error_clear(err);
    if (!o)
        o = &defaults;
    if (out)
        *out = NULL;
    if (!format || !src || !dir)
        return err_set(err, STRATA_USAGE, "import needs a format, a source and a target directory");
    import_reader reader = NULL;
    const char *tool = NULL;
    for (size_t i = 0; i < sizeof(formats) / sizeof(formats[0]); i++)
        if (!strcmp(formats[i].name, format)) {
            reader = formats[i].read;
            tool = formats[i].name;
        }
    if (!reader) {
        err_set(err, STRATA_USAGE, "unknown import format '%s'", format);
        buf h;
        buf_init(&h);
        buf_adds(&h, "formats: ");
        for (size_t i = 0; i < sizeof(formats) / sizeof(formats[0]); i++)
            buf_addf(&h, "%s%s", i ? ", " : "", formats[i].name);
        err_hint(err, "%s", h.data ? h.data : "");
        buf_release(&h);
        return STRATA_USAGE;
    }
    const char *only = NULL;
    strata_code rc = check_dialects(o, &only, err);
    if (rc)
        return rc;
    struct stat ss, ds;
    /* Alembic's SRC may be its ini file itself (alembic -c custom.ini) */
    int ini_ok = !strcmp(tool, "alembic") && stat(src, &ss) == 0 && S_ISREG(ss.st_mode);
    if (!ini_ok && (stat(src, &ss) != 0 || !S_ISDIR(ss.st_mode)))
        return err_set(err, STRATA_DIR_NOT_FOUND, "cannot open %s directory '%s': %s", tool, src,
                       stat(src, &ss) != 0 ? strerror(errno) : "not a directory");
    if (stat(dir, &ds) == 0 && ds.st_dev == ss.st_dev && ds.st_ino == ss.st_ino)
        return err_set(err, STRATA_USAGE, "cannot import '%s' into itself: give another --dir", src);

    import_set set = {0};
    group *groups = NULL;
    size_t ng = 0, written = 0;
    strata_import_report *rep = NULL;
    strata_migset *ms = NULL;
    rc = reader(src, o, &set, err);
    if (rc)
        goto out;
    if (!set.n) {
        rc = import_refuse(err, "no %s migrations found in '%s'", tool, src);
        goto out;
    }
    for (size_t i = 0; only && i < set.n; i++)
        if (set.v[i].dialect)
            only = NULL; /* the tool has per-dialect files itself (pop) */
    for (size_t i = 0; i < set.n; i++) {
        if (only && !(set.v[i].dialect = strdup(only))) {
            rc = err_set(err, STRATA_NOMEM, "out of memory");
            goto out;
        }
        if ((rc = check_sql(tool, &set.v[i], err)))
            goto out;
    }
    /* consecutive entries of one version are one file */
    groups = calloc(set.n, sizeof(*groups));
    if (!groups) {
        rc = err_set(err, STRATA_NOMEM, "out of memory");
        goto out;
    }
    for (size_t i = 0; i < set.n; i++) {
        if (ng && !strcmp(set.v[groups[ng - 1].first].version, set.v[i].version)) {
            groups[ng - 1].n++;
            continue;
        }
        groups[ng].first = i;
        groups[ng].n = 1;
        ng++;
    }
    int keep = 1;
    for (size_t g = 0; g < ng && keep; g++) {
        const char *v = key_of(&set.v[groups[g].first]);
        keep = import_all_digits(v) && (!g || version_cmp(key_of(&set.v[groups[g - 1].first]), v) < 0);
    }
    size_t width = 4, lim = 10000;
    while (ng >= lim)
        width++, lim *= 10;
    for (size_t g = 0; g < ng; g++) {
        char slug[128], fname[256];
        const import_mig *m = &set.v[groups[g].first];
        slug_of(m->name, slug, sizeof(slug));
        if (keep)
            snprintf(fname, sizeof(fname), "%s_%s.sql", key_of(m), slug);
        else
            snprintf(fname, sizeof(fname), "%0*zu_%s.sql", (int)width, g + 1, slug);
        if (!(groups[g].fname = strdup(fname))) {
            rc = err_set(err, STRATA_NOMEM, "out of memory");
            goto out;
        }
    }
    int exists = 0;
    if (dir_has_sql(dir, &exists) && !o->force) {
        rc = err_set(err, STRATA_FILE_EXISTS, "'%s' already holds .sql files", dir);
        err_hint(err, "import into an empty directory, or pass --force to overwrite");
        goto out;
    }
    if (!exists && (rc = make_dirs(dir, err)))
        goto out;
    if (exists && o->force && (rc = remove_stale(dir, tool, groups, ng, err)))
        goto out;
    rep = calloc(1, sizeof(*rep));
    if (!rep || !(rep->files = calloc(ng, sizeof(char *)))) {
        rc = err_set(err, STRATA_NOMEM, "out of memory");
        goto out;
    }
    for (size_t g = 0; g < ng; g++) {
        char *text = render(tool, &set, &groups[g]);
        if (!text) {
            rc = err_set(err, STRATA_NOMEM, "out of memory");
            goto out;
        }
        rc = write_file(dir, groups[g].fname, text, err);
        free(text);
        if (rc)
            goto out;
        rep->files[rep->count++] = groups[g].fname;
        groups[g].fname = NULL;
        written++;
    }
    rep->renumbered = keep ? 0 : ng;
    {
        char msg[512];
        snprintf(msg, sizeof(msg), "imported %zu %s migration%s into %s%s", ng, tool, ng == 1 ? "" : "s", dir,
                 keep ? ", versions kept" : ", renumbered in the tool's order");
        rep->message = strdup(msg);
    }
    /* "runs validate": the directory as strata reads it */
    if ((rc = strata_migset_load(dir, &ms, err)))
        goto out;
    if ((rc = strata_migset_check(ms, err))) {
        err_hint(err, "the files were written to '%s'; fix the source and import again with --force", dir);
        goto out;
    }
out:
    strata_migset_free(ms);
    if (groups)
        for (size_t g = 0; g < ng; g++)
            free(groups[g].fname);
    free(groups);
    import_set_release(&set);
    if (rep && (written || !rc) && out)
        *out = rep;
    else
        strata_import_report_free(rep);
    return rc;
}
