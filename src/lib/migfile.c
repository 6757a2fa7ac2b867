/*
 * migfile.c -- the migration directory: file names, sections, checksums.
 *
 * File format (docs/migrations.md): marker lines "-- strata:up",
 * "-- strata:down", "-- strata:verify" with options "no-transaction" and
 * "dialect=postgres|sqlite" open sections; everything before the first marker
 * must be comments or blank.
 */
#include "internal.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <dlfcn.h>
#include <openssl/sha.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/*
 * SHA-256 is libcrypto's, opened on first use rather than linked: loading
 * and relocating libcrypto costs about 1 ms at every start, a quarter of a
 * no-op `up` over 1,000 migrations when no file needs hashing (see the
 * checksum cache below), and on the loader's thread it overlaps the
 * database's opening. The low-level SHA256_Init/Update/Final go straight to
 * the digest; EVP_MD_fetch would first set up OpenSSL's providers and read
 * its configuration (another millisecond).
 */
static struct {
    int (*init)(SHA256_CTX *);
    int (*update)(SHA256_CTX *, const void *, size_t);
    int (*final)(unsigned char *, SHA256_CTX *);
} sha;
static pthread_once_t sha_once = PTHREAD_ONCE_INIT;
static char sha_error[256];

static void sha_load(void)
{
    static const char *const names[] = {"libcrypto.so.3", "libcrypto.so"};
    void *h = NULL;
    for (size_t i = 0; !h && i < sizeof(names) / sizeof(names[0]); i++)
        h = dlopen(names[i], RTLD_NOW | RTLD_LOCAL);
    if (!h) {
        snprintf(sha_error, sizeof(sha_error), "%s", dlerror());
        return;
    }
    *(void **)&sha.init = dlsym(h, "SHA256_Init");
    *(void **)&sha.update = dlsym(h, "SHA256_Update");
    *(void **)&sha.final = dlsym(h, "SHA256_Final");
    if (!sha.init || !sha.update || !sha.final)
        snprintf(sha_error, sizeof(sha_error), "libcrypto has no SHA256_Init/Update/Final");
}

const char *checksum_load_error(void)
{
    pthread_once(&sha_once, sha_load);
    return sha_error[0] ? sha_error : NULL;
}

int checksum_text(const char *text, size_t len, char out[65])
{
    unsigned char md[32];
    static const char hex[] = "0123456789abcdef";
    SHA256_CTX ctx;
    int ok = !checksum_load_error() && sha.init(&ctx) && sha.update(&ctx, text, len) && sha.final(md, &ctx);
    if (!ok)
        memset(md, 0, sizeof(md));
    for (unsigned i = 0; i < 32; i++) {
        out[2 * i] = hex[md[i] >> 4];
        out[2 * i + 1] = hex[md[i] & 15];
    }
    out[64] = 0;
    return ok ? 0 : -1;
}

int dialect_of_engine(const char *engine)
{
    if (!engine)
        return DIALECT_ANY;
    if (!strcmp(engine, "postgres") || !strcmp(engine, "postgresql") || !strcmp(engine, "pg"))
        return DIALECT_POSTGRES;
    if (!strcmp(engine, "sqlite") || !strcmp(engine, "sqlite3"))
        return DIALECT_SQLITE;
    return -1;
}

/* Loader threads add problems concurrently. */
static pthread_mutex_t problems_lock = PTHREAD_MUTEX_INITIALIZER;

static void add_item(strata_problem **list, size_t *n, size_t *cap, strata_code code, const char *version,
                     const char *file, int line, const char *fmt, va_list ap)
{
    char msg[1024];
    vsnprintf(msg, sizeof(msg), fmt, ap);
    pthread_mutex_lock(&problems_lock);
    if (!ARR_GROW(*list, *cap, *n + 1)) {
        strata_problem *p = *list + (*n)++;
        p->code = code;
        p->version = xstrdup(version ? version : "");
        p->detail = xstrdup(msg);
        p->file = xstrdup(file ? file : "");
        p->line = line;
    }
    pthread_mutex_unlock(&problems_lock);
}

void migset_add_problem(strata_migset *set, strata_code code, const char *version, const char *file, int line,
                        const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    add_item(&set->problems, &set->nproblems, &set->capproblems, code, version, file, line, fmt, ap);
    va_end(ap);
}

void migset_add_warning(strata_migset *set, const char *version, const char *file, int line, const char *fmt,
                        ...)
{
    va_list ap;
    va_start(ap, fmt);
    add_item(&set->warnings, &set->nwarnings, &set->capwarnings, STRATA_OK, version, file, line, fmt, ap);
    va_end(ap);
}

const section *mig_section(const migration *m, int kind, int dialect)
{
    const section *generic = NULL;
    for (int i = 0; i < m->nsecs; i++) {
        const section *s = &m->secs[i];
        if (s->kind != kind)
            continue;
        if (s->dialect == dialect && dialect != DIALECT_ANY)
            return s;
        if (s->dialect == DIALECT_ANY)
            generic = s;
    }
    return generic;
}

/* Parses "-- strata:KIND opts" at line; returns 1 if it is a marker (then
   *kind etc. are set), 0 if not, -1 if it is a malformed marker (msg set). */
size_t marker_word(const char *l, size_t n, size_t *word)
{
    size_t i = 0;
    while (i < n && (l[i] == ' ' || l[i] == '\t'))
        i++;
    if (n - i < 2 || l[i] != '-' || l[i + 1] != '-')
        return 0;
    i += 2;
    while (i < n && (l[i] == ' ' || l[i] == '\t'))
        i++;
    if (n - i < 7 || strncmp(l + i, "strata:", 7) != 0)
        return 0;
    i += 7;
    *word = i;
    while (i < n && (isalnum((unsigned char)l[i]) || l[i] == '-' || l[i] == '_'))
        i++;
    return i;
}

static int parse_marker(const char *l, size_t n, int *kind, int *dialect, int *notx, char *msg, size_t msgsz)
{
    size_t w = 0, i = marker_word(l, n, &w);
    if (!i)
        return 0;
    size_t wl = i - w;
    if (wl == 2 && !strncmp(l + w, "up", 2))
        *kind = SEC_UP;
    else if (wl == 4 && !strncmp(l + w, "down", 4))
        *kind = SEC_DOWN;
    else if (wl == 6 && !strncmp(l + w, "verify", 6))
        *kind = SEC_VERIFY;
    else if (wl == 11 && !strncmp(l + w, "lint-ignore", 11))
        return 0; /* a lint directive, not a section */
    else {
        snprintf(msg, msgsz, "unknown marker 'strata:%.*s' (expected up, down or verify)", (int)wl, l + w);
        return -1;
    }
    *dialect = DIALECT_ANY;
    *notx = 0;
    for (;;) {
        while (i < n && (l[i] == ' ' || l[i] == '\t' || l[i] == '\r'))
            i++;
        if (i >= n)
            break;
        size_t o = i;
        while (i < n && l[i] != ' ' && l[i] != '\t' && l[i] != '\r')
            i++;
        size_t ol = i - o;
        const char *opt = l + o;
        if (ol == 14 && !strncmp(opt, "no-transaction", 14)) {
            *notx = 1;
        } else if (ol > 8 && !strncmp(opt, "dialect=", 8)) {
            char d[32];
            snprintf(d, sizeof(d), "%.*s", (int)(ol - 8), opt + 8);
            int dl = dialect_of_engine(d);
            if (dl <= 0) {
                snprintf(msg, msgsz, "unknown dialect '%s' (expected postgres or sqlite)", d);
                return -1;
            }
            *dialect = dl;
        } else {
            snprintf(msg, msgsz, "unknown marker option '%.*s' (expected no-transaction or dialect=...)",
                     (int)ol, opt);
            return -1;
        }
    }
    if (*kind == SEC_VERIFY && *notx) {
        snprintf(msg, msgsz, "a verify section cannot be no-transaction");
        return -1;
    }
    return 1;
}

static const char *kind_name(int k)
{
    return k == SEC_UP ? "up" : k == SEC_DOWN ? "down" : "verify";
}

struct txcheck {
    int found_line;
    char word[16];
};

static int txcheck_fn(void *ud, const sql_stmt *st)
{
    struct txcheck *t = ud;
    if (sql_is_txn_control(st)) {
        t->found_line = st->line;
        memcpy(t->word, st->first, sizeof(t->word));
        return 1;
    }
    return 0;
}

/* The 1-based line of the first thing in s that is not a blank, a line
   comment or a block comment; 0 when there is none. */
static int first_sql_line(const char *s, size_t n)
{
    int line = 1;
    for (size_t i = 0; i < n; i++) {
        if (s[i] == '\n')
            line++;
        if (isspace((unsigned char)s[i]))
            continue;
        if (s[i] == '-' && i + 1 < n && s[i + 1] == '-') {
            while (i + 1 < n && s[i + 1] != '\n')
                i++;
            continue;
        }
        if (s[i] == '/' && i + 1 < n && s[i + 1] == '*') {
            for (i += 2; i < n && !(s[i] == '*' && i + 1 < n && s[i + 1] == '/'); i++)
                if (s[i] == '\n')
                    line++;
            i++;
            continue;
        }
        return line;
    }
    return 0;
}

int mig_parse(migration *m, const char *text, size_t len, strata_migset *set)
{
    const char *file = m->path ? m->path : m->id;
    int lineno = 0, cur = -1, ok = 1, sql_line;
    size_t pos = 0, body_start = 0;
    char msg[512];

    /* closes section cur, whose body runs from body_start to end */
#define CLOSE_SECTION(end)                                                                  \
    do {                                                                                    \
        if (cur >= 0) {                                                                     \
            m->secs[cur].sql = xstrndup(text + body_start, (end)-body_start);               \
        } else if ((sql_line = first_sql_line(text, (end))) > 0) {                          \
            migset_add_problem(set, STRATA_PARSE_ERROR, m->version, file, sql_line,         \
                               "SQL before the first '-- strata:up' marker in '%s'", file); \
            ok = 0;                                                                         \
        } else if (!m->header) { /* for lint-ignore comments */                             \
            m->header = xstrndup(text, (end));                                              \
        }                                                                                   \
    } while (0)

    while (pos <= len) {
        size_t eol = pos;
        while (eol < len && text[eol] != '\n')
            eol++;
        lineno++;
        int kind, dialect, notx;
        int r = parse_marker(text + pos, eol - pos, &kind, &dialect, &notx, msg, sizeof(msg));
        if (r < 0) {
            migset_add_problem(set, STRATA_PARSE_ERROR, m->version, file, lineno, "%s", msg);
            ok = 0;
        } else if (r > 0) {
            CLOSE_SECTION(pos);
            for (int i = 0; i < m->nsecs; i++)
                if (m->secs[i].kind == kind && m->secs[i].dialect == dialect) {
                    migset_add_problem(set, STRATA_PARSE_ERROR, m->version, file, lineno,
                                       "second '%s' section for the same dialect in '%s'", kind_name(kind),
                                       file);
                    ok = 0;
                }
            if (ARR_GROW(m->secs, m->capsecs, (size_t)m->nsecs + 1))
                return 0;
            cur = m->nsecs++;
            memset(&m->secs[cur], 0, sizeof(section));
            m->secs[cur].kind = kind;
            m->secs[cur].dialect = dialect;
            m->secs[cur].notx = notx;
            m->secs[cur].line = lineno + 1;
            body_start = eol < len ? eol + 1 : len;
        }
        if (eol >= len)
            break;
        pos = eol + 1;
    }
    CLOSE_SECTION(len);
#undef CLOSE_SECTION

    int has_up = 0;
    for (int i = 0; i < m->nsecs; i++) {
        section *s = &m->secs[i];
        if (!s->sql)
            return 0;
        if (s->kind == SEC_UP)
            has_up = 1;
        if (s->notx)
            continue;
        struct txcheck t = {0, ""};
        if (sql_split(s->sql, strlen(s->sql),
                      s->dialect == DIALECT_SQLITE ? DIALECT_SQLITE : DIALECT_POSTGRES, txcheck_fn, &t)) {
            migset_add_problem(set, STRATA_PARSE_ERROR, m->version, file, s->line + t.found_line - 1,
                               "'%s' statement in a transactional %s section of '%s' (it would end "
                               "the migration's own transaction)",
                               t.word, kind_name(s->kind), file);
            ok = 0;
        }
    }
    if (!has_up && ok) {
        migset_add_problem(set, STRATA_PARSE_ERROR, m->version, file, 1, "no '-- strata:up' section in '%s'",
                           file);
        ok = 0;
    }
    return ok;
}

/* What kind of file st_mode is, for messages. */
static const char *file_kind(mode_t m)
{
    return S_ISDIR(m)    ? "a directory"
           : S_ISFIFO(m) ? "a FIFO"
           : S_ISCHR(m)  ? "a character device"
           : S_ISBLK(m)  ? "a block device"
           : S_ISSOCK(m) ? "a socket"
                         : "not a regular file";
}

/* A buffer a loader thread reads file after file into. */
typedef struct rbuf {
    char *p;
    size_t cap;
} rbuf;

/* Reads a whole file relative to dirfd (AT_FDCWD for a plain path) into b:
   only a regular file (a symlink to one is fine) of at most FILE_MAX_BYTES;
   *st is what was opened. The open is non-blocking, so a FIFO cannot hang
   it, and fstat after the open looks at what was opened, not at a name that
   may have changed since. Four system calls for a small file (open, fstat,
   read, close): a read shorter than asked means end of file. That matters
   for `up` with thousands of migrations, where these calls are most of the
   time; the buffer is reused from file to file, so there is no allocation
   (and no fresh page to fault in) per file. */
static int read_into(int dirfd, const char *name, rbuf *b, size_t *outlen, const char **kind, struct stat *st)
{
    *kind = NULL;
    int fd = openat(dirfd, name, O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY);
    if (fd < 0)
        return READ_ERRNO;
    if (fstat(fd, st) < 0) {
        int e = errno;
        close(fd);
        errno = e;
        return READ_ERRNO;
    }
    if (!S_ISREG(st->st_mode)) {
        close(fd);
        *kind = file_kind(st->st_mode);
        errno = S_ISDIR(st->st_mode) ? EISDIR : EINVAL;
        return READ_NOT_REGULAR;
    }
    if (st->st_size > FILE_MAX_BYTES) {
        close(fd);
        errno = EFBIG;
        return READ_TOO_LARGE;
    }
    /* room for the whole file and one byte more, to see the end in one read;
       a file that grows meanwhile still stops at the limit */
    size_t need = (size_t)st->st_size + 2, len = 0;
    if (b->cap < need) {
        size_t nc = need < 4096 ? 4096 : need;
        char *np = realloc(b->p, nc);
        if (!np) {
            close(fd);
            errno = ENOMEM;
            return READ_ERRNO;
        }
        b->p = np;
        b->cap = nc;
    }
    for (;;) {
        ssize_t n = read(fd, b->p + len, b->cap - len - 1);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            int e = errno;
            close(fd);
            errno = e;
            return READ_ERRNO;
        }
        len += (size_t)n;
        if (len > FILE_MAX_BYTES) {
            close(fd);
            errno = EFBIG;
            return READ_TOO_LARGE;
        }
        if (n == 0 || len + 1 < b->cap)
            break;
        size_t nc = b->cap * 2 > (size_t)FILE_MAX_BYTES + 2 ? (size_t)FILE_MAX_BYTES + 2 : b->cap * 2;
        char *np = realloc(b->p, nc);
        if (!np) {
            close(fd);
            errno = ENOMEM;
            return READ_ERRNO;
        }
        b->p = np;
        b->cap = nc;
    }
    close(fd);
    b->p[len] = 0;
    *outlen = len;
    return READ_OK;
}

int read_regular_file(int dirfd, const char *name, char **out, size_t *outlen, const char **kind)
{
    rbuf b = {NULL, 0};
    struct stat st;
    int r = read_into(dirfd, name, &b, outlen, kind, &st);
    if (r != READ_OK) {
        int e = errno;
        free(b.p);
        errno = e;
        return r;
    }
    *out = b.p;
    return READ_OK;
}

/* Folds CRLF to LF in place. */
static size_t fold_crlf(char *s, size_t n)
{
    size_t w = 0;
    for (size_t r = 0; r < n; r++) {
        if (s[r] == '\r' && r + 1 < n && s[r + 1] == '\n')
            continue;
        s[w++] = s[r];
    }
    s[w] = 0;
    return w;
}

static void mig_release(migration *m)
{
    free(m->id);
    free(m->version);
    free(m->name);
    free(m->path);
    free(m->checksum);
    for (int i = 0; i < m->nsecs; i++)
        free(m->secs[i].sql);
    free(m->secs);
    free(m->header);
}

static int mig_cmp(const void *a, const void *b)
{
    const migration *x = a, *y = b;
    int c = version_cmp(x->version, y->version);
    return c ? c : strcmp(x->id, y->id);
}

/* Problems in version order, so the first one does not depend on readdir. */
static int problem_cmp(const void *a, const void *b)
{
    const strata_problem *x = a, *y = b;
    int c = version_cmp(x->version, y->version);
    if (!c)
        c = strcmp(x->file, y->file);
    return c ? c : (x->line > y->line) - (x->line < y->line);
}

static int count_stmt(void *ud, const sql_stmt *st)
{
    (void)st;
    ++*(int *)ud;
    return 1; /* one is enough */
}

/* Warns when no up section of m holds a statement: the template of `strata
   new` left unchanged. Valid (an empty section is a no-op), likely a slip. */
static void warn_empty_up(strata_migset *set, const migration *m)
{
    int marker = 0;
    for (int i = 0; i < m->nsecs; i++) {
        const section *s = &m->secs[i];
        if (s->kind != SEC_UP)
            continue;
        int n = 0;
        sql_split(s->sql, strlen(s->sql), s->dialect == DIALECT_SQLITE ? DIALECT_SQLITE : DIALECT_POSTGRES,
                  count_stmt, &n);
        if (n)
            return;
        if (!marker)
            marker = s->line - 1;
    }
    if (marker)
        migset_add_warning(set, m->version, m->path, marker,
                           "the up section of '%s' has no statement; applying it only records the version",
                           m->path);
}

/* Checksums and parses the text of m (len bytes, in a buffer of the
   caller's, changed in place). */
static void load_text(strata_migset *set, migration *m, char *text, size_t len)
{
    len = fold_crlf(text, len);
    char sum[65];
    int hashed = checksum_text(text, len, sum) == 0;
    m->checksum = xstrdup(sum);
    if (!hashed) {
        migset_add_problem(set, STRATA_CONFIG_ERROR, m->version, m->path, 0,
                           "cannot compute the checksum of '%s': cannot load libcrypto (%s)", m->path,
                           checksum_load_error());
        m->broken = 1;
    } else if (strlen(text) != len) {
        migset_add_problem(set, STRATA_PARSE_ERROR, m->version, m->path, 0, "'%s' contains a NUL byte",
                           m->path);
        m->broken = 1;
    } else if (!mig_parse(m, text, len, set)) {
        m->broken = 1;
    } else {
        warn_empty_up(set, m);
    }
}

static void load_one(strata_migset *set, int dirfd, size_t skip, migration *m, rbuf *b)
{
    size_t len;
    const char *kind;
    struct stat st;
    int r = read_into(dirfd, m->path + skip, b, &len, &kind, &st);
    if (r == READ_NOT_REGULAR)
        migset_add_problem(set, STRATA_FILE_NOT_REGULAR, m->version, m->path, 0,
                           "cannot read '%s': it is %s, not a regular file", m->path, kind);
    else if (r == READ_TOO_LARGE)
        migset_add_problem(set, STRATA_FILE_TOO_LARGE, m->version, m->path, 0,
                           "cannot read '%s': it is larger than %d MiB", m->path, FILE_MAX_BYTES >> 20);
    else if (r != READ_OK)
        migset_add_problem(set, STRATA_IO_ERROR, m->version, m->path, 0, "cannot read '%s': %s", m->path,
                           strerror(errno));
    if (r != READ_OK) {
        m->broken = 1;
        return;
    }
    load_text(set, m, b->p, len);
}

/* 1 when fn looks like a migration file name (digits first, .sql). */
static int migration_name(const char *fn)
{
    size_t fl = strlen(fn);
    return isdigit((unsigned char)fn[0]) && fl >= 5 && strcmp(fn + fl - 4, ".sql") == 0;
}

/* 1 when fn is a visible SQL file (".sql" in any case) that migration_name
   refuses: "abc_x.sql", "0004_x.SQL", "-1_x.sql". Those are skipped with a
   warning; other files (README.md, .#0001_x.sql, x.sql~) silently. */
static int skipped_sql_name(const char *fn)
{
    size_t fl = strlen(fn);
    return fn[0] != '.' && fl >= 4 && strcasecmp(fn + fl - 4, ".sql") == 0 && !migration_name(fn);
}

/*
 * Adds the migration of file name fn (shown as path) to set, text not read
 * yet. 1 added, 0 not a valid name (recorded as a problem), -1 out of memory.
 */
static int add_entry(strata_migset *set, size_t *cap, const char *fn, const char *path)
{
    size_t fl = strlen(fn), vl = 0;
    while (isdigit((unsigned char)fn[vl]))
        vl++;
    if (fn[vl] != '_' && fn[vl] != '.') {
        migset_add_problem(set, STRATA_PARSE_ERROR, "", path, 0,
                           "bad migration file name '%s' (expected <version>_<name>.sql)", fn);
        return 0;
    }
    /* a newline or an escape in a name would reach terminals, logs and the
       comments of rendered SQL */
    for (const unsigned char *p = (const unsigned char *)fn; *p; p++)
        if (*p < 0x20 || *p == 0x7f) {
            migset_add_problem(set, STRATA_PARSE_ERROR, "", path, 0,
                               "bad migration file name '%s': it holds a control character", fn);
            return 0;
        }
    if (ARR_GROW(set->migs, *cap, set->count + 1))
        return -1;
    migration *m = &set->migs[set->count];
    memset(m, 0, sizeof(*m));
    m->path = xstrdup(path);
    m->id = xstrndup(fn, fl - 4);
    m->version = xstrndup(fn, vl);
    m->name = xstrdup(fn[vl] == '_' && m->id ? m->id + vl + 1 : "");
    set->count++;
    return m->path && m->id && m->version && m->name ? 1 : -1;
}

/* Sorts the loaded set, fills the public views, finds duplicate versions. */
static void finish_set(strata_migset *set)
{
    if (set->count)
        qsort(set->migs, set->count, sizeof(migration), mig_cmp);
    for (size_t i = 0; i < set->count; i++) {
        migration *m = &set->migs[i];
        m->pub.id = m->id;
        m->pub.version = m->version;
        m->pub.name = m->name;
        m->pub.path = m->path;
        m->pub.checksum = m->checksum ? m->checksum : "";
        if (i && version_cmp(set->migs[i - 1].version, m->version) == 0) {
            migset_add_problem(set, STRATA_DUPLICATE_VERSION, m->version, m->path, 0,
                               "'%s' and '%s' have the same version %s", set->migs[i - 1].path, m->path,
                               m->version);
            m->broken = set->migs[i - 1].broken = 1;
        }
    }
    if (set->nproblems > 1)
        qsort(set->problems, set->nproblems, sizeof(strata_problem), problem_cmp);
    if (set->nwarnings > 1)
        qsort(set->warnings, set->nwarnings, sizeof(strata_problem), problem_cmp);
}

/*
 * Loading a directory. strata_migset_load_start opens the directory (its
 * errors are reported at once) and hands the rest to a thread: list the
 * names, then read, hash and parse the files. strata_migset_load_finish
 * joins in (files are taken one by one from a shared counter) and waits for
 * the end. A caller that opens its database between the two (the CLI does)
 * overlaps the two: with thousands of migrations, the files are most of a
 * no-op `up`, SQLite's reading of its schema most of the rest.
 */
enum { LOAD_MAX_THREADS = 4, LOAD_MIN_PER_THREAD = 128 };

struct strata_migset_loader {
    strata_migset *set;
    DIR *d;
    int dirfd;
    size_t skip;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    int listed;         /* the names are in set->migs (under mu) */
    strata_code rc;     /* of the listing */
    atomic_size_t next; /* the next migration to read */
    pthread_t first;    /* the thread started by start, when started */
    int have_first;
    pthread_t extra[LOAD_MAX_THREADS];
    int nextra; /* written by the first thread before it ends */
};

/* Reads the names of the directory into the set (text not read yet). */
static strata_code list_dir(strata_migset_loader *l)
{
    strata_migset *set = l->set;
    size_t cap = 0;
    struct dirent *de;
    while ((de = readdir(l->d)) != NULL) {
        char path[4096];
        snprintf(path, sizeof(path), "%s/%s", set->dir, de->d_name);
        if (skipped_sql_name(de->d_name))
            migset_add_warning(set, "", path, 0, "skipping %s: not a migration name (<digits>_<slug>.sql)",
                               de->d_name);
        if (!migration_name(de->d_name))
            continue;
        if (add_entry(set, &cap, de->d_name, path) < 0)
            return STRATA_NOMEM;
    }
    return STRATA_OK;
}

/* Reads files until none is left. */
static void *load_work(void *arg)
{
    strata_migset_loader *l = arg;
    rbuf b = {NULL, 0};
    for (;;) {
        size_t i = atomic_fetch_add(&l->next, 1);
        if (i >= l->set->count)
            break;
        load_one(l->set, l->dirfd, l->skip, &l->set->migs[i], &b);
    }
    free(b.p);
    return NULL;
}

static void list_and_signal(strata_migset_loader *l)
{
    strata_code rc = list_dir(l);
    pthread_mutex_lock(&l->mu);
    l->rc = rc;
    l->listed = 1;
    pthread_cond_broadcast(&l->cv);
    pthread_mutex_unlock(&l->mu);
}

static void *load_first(void *arg)
{
    strata_migset_loader *l = arg;
    list_and_signal(l);
    if (l->rc == STRATA_OK) {
        /* more threads for large directories, one a core: the caller's
           own thread joins in when it is done with its database */
        long cpus = sysconf(_SC_NPROCESSORS_ONLN);
        size_t n = l->set->count / LOAD_MIN_PER_THREAD;
        if (n > (size_t)(cpus > 0 ? cpus : 1))
            n = (size_t)(cpus > 0 ? cpus : 1);
        if (n > LOAD_MAX_THREADS)
            n = LOAD_MAX_THREADS;
        for (size_t t = 2; t < n; t++)
            if (pthread_create(&l->extra[l->nextra], NULL, load_work, l) == 0)
                l->nextra++;
        load_work(l);
    }
    return NULL;
}

strata_code strata_migset_load_start(const char *dir, strata_migset_loader **out, strata_error *err)
{
    *out = NULL;
    DIR *d = opendir(dir);
    if (!d) {
        if (errno == ENOENT || errno == ENOTDIR) {
            err_set(err, STRATA_DIR_NOT_FOUND, "cannot open migration directory '%s': %s", dir,
                    strerror(errno));
            err_hint(err, "pass --dir DIR or set STRATA_DIR; 'strata new NAME' creates it");
            return STRATA_DIR_NOT_FOUND;
        }
        return err_set(err, STRATA_IO_ERROR, "cannot open migration directory '%s': %s", dir,
                       strerror(errno));
    }
    strata_migset *set = calloc(1, sizeof(*set));
    strata_migset_loader *l = calloc(1, sizeof(*l));
    if (!set || !l || !(set->dir = xstrdup(dir))) {
        closedir(d);
        free(set);
        free(l);
        return err_set(err, STRATA_NOMEM, "out of memory");
    }
    l->set = set;
    l->d = d;
    l->dirfd = dirfd(d);
    l->skip = strlen(dir) + 1;
    atomic_init(&l->next, 0);
    pthread_mutex_init(&l->mu, NULL);
    pthread_cond_init(&l->cv, NULL);
    l->have_first = pthread_create(&l->first, NULL, load_first, l) == 0;
    *out = l;
    return STRATA_OK;
}

strata_code strata_migset_load_finish(strata_migset_loader *l, strata_migset **out, strata_error *err)
{
    *out = NULL;
    if (!l)
        return err_set(err, STRATA_USAGE, "no load was started");
    if (!l->have_first) {
        list_and_signal(l);
    } else {
        pthread_mutex_lock(&l->mu);
        while (!l->listed)
            pthread_cond_wait(&l->cv, &l->mu);
        pthread_mutex_unlock(&l->mu);
    }
    if (l->rc == STRATA_OK)
        load_work(l);
    if (l->have_first)
        pthread_join(l->first, NULL);
    for (int t = 0; t < l->nextra; t++)
        pthread_join(l->extra[t], NULL);
    strata_code rc = l->rc;
    strata_migset *set = l->set;
    closedir(l->d);
    pthread_mutex_destroy(&l->mu);
    pthread_cond_destroy(&l->cv);
    free(l);
    if (rc != STRATA_OK) {
        strata_migset_free(set);
        return err_set(err, rc, "out of memory");
    }
    finish_set(set);
    *out = set;
    return STRATA_OK;
}

strata_code strata_migset_load(const char *dir, strata_migset **out, strata_error *err)
{
    strata_migset_loader *l;
    strata_code rc = strata_migset_load_start(dir, &l, err);
    if (rc) {
        *out = NULL;
        return rc;
    }
    return strata_migset_load_finish(l, out, err);
}

strata_code strata_migset_from_array(const strata_migration_src *v, size_t n, strata_migset **out,
                                     strata_error *err)
{
    *out = NULL;
    strata_migset *set = calloc(1, sizeof(*set));
    size_t cap = 0;
    if (!set || !(set->dir = xstrdup("(compiled in)"))) {
        free(set);
        return err_set(err, STRATA_NOMEM, "out of memory");
    }
    for (size_t i = 0; i < n; i++) {
        const char *path = v[i].filename ? v[i].filename : "";
        const char *slash = strrchr(path, '/');
        const char *fn = slash ? slash + 1 : path;
        if (!migration_name(fn)) {
            migset_add_problem(set, STRATA_PARSE_ERROR, "", path, 0,
                               "bad migration file name '%s' (expected <version>_<name>.sql)", path);
            continue;
        }
        int added = add_entry(set, &cap, fn, path), nomem = added < 0;
        size_t len = v[i].text ? (v[i].len ? v[i].len : strlen(v[i].text)) : 0;
        if (added > 0) {
            char *text = malloc(len + 1);
            if (text) {
                if (len)
                    memcpy(text, v[i].text, len);
                text[len] = 0;
                load_text(set, &set->migs[set->count - 1], text, len);
                free(text);
            }
            nomem = !text;
        }
        if (nomem) {
            strata_migset_free(set);
            return err_set(err, STRATA_NOMEM, "out of memory");
        }
    }
    finish_set(set);
    *out = set;
    return STRATA_OK;
}

void strata_migset_free(strata_migset *set)
{
    if (!set)
        return;
    for (size_t i = 0; i < set->count; i++)
        mig_release(&set->migs[i]);
    for (size_t i = 0; i < set->nproblems; i++) {
        free((char *)set->problems[i].version);
        free((char *)set->problems[i].detail);
        free((char *)set->problems[i].file);
    }
    free(set->problems);
    for (size_t i = 0; i < set->nwarnings; i++) {
        free((char *)set->warnings[i].version);
        free((char *)set->warnings[i].detail);
        free((char *)set->warnings[i].file);
    }
    free(set->warnings);
    free(set->migs);
    free(set->dir);
    free(set);
}

size_t strata_migset_count(const strata_migset *set)
{
    return set ? set->count : 0;
}

const strata_migration *strata_migset_get(const strata_migset *set, size_t i)
{
    return set && i < set->count ? &set->migs[i].pub : NULL;
}

size_t strata_migset_problem_count(const strata_migset *set)
{
    return set ? set->nproblems : 0;
}

const strata_problem *strata_migset_problem(const strata_migset *set, size_t i)
{
    return set && i < set->nproblems ? &set->problems[i] : NULL;
}

size_t strata_migset_warning_count(const strata_migset *set)
{
    return set ? set->nwarnings : 0;
}

const strata_problem *strata_migset_warning(const strata_migset *set, size_t i)
{
    return set && i < set->nwarnings ? &set->warnings[i] : NULL;
}

strata_code strata_migset_check(const strata_migset *set, strata_error *err)
{
    if (!set || !set->nproblems)
        return STRATA_OK;
    const strata_problem *p = &set->problems[0];
    /* where, in front, when the detail does not say it already */
    if (p->file && p->file[0] && p->line > 0 && strncmp(p->detail, p->file, strlen(p->file)) != 0)
        err_set(err, p->code, "%s:%d: %s", p->file, p->line, p->detail);
    else
        err_set(err, p->code, "%s", p->detail);
    err_where(err, p->file, p->line);
    if (p->code == STRATA_DUPLICATE_VERSION)
        err_hint(err, "renumber one of the files; versions must be unique");
    else if (strstr(p->detail, "statement in a transactional"))
        err_hint(err, "strata runs each migration in its own transaction: remove the statement, or put "
                      "the SQL in a '-- strata:up no-transaction' section");
    else if (p->code == STRATA_FILE_NOT_REGULAR)
        err_hint(err, "a migration must be a regular file (or a symlink to one)");
    else if (p->code == STRATA_FILE_TOO_LARGE)
        err_hint(err, "split the migration into several files");
    return p->code;
}

int all_digits(const char *s)
{
    if (!*s)
        return 0;
    for (; *s; s++)
        if (!isdigit((unsigned char)*s))
            return 0;
    return 1;
}

const migration *migset_find(const strata_migset *set, const char *target)
{
    for (size_t i = 0; i < set->count; i++)
        if (!strcmp(set->migs[i].id, target))
            return &set->migs[i];
    if (all_digits(target))
        for (size_t i = 0; i < set->count; i++)
            if (version_cmp(set->migs[i].version, target) == 0)
                return &set->migs[i];
    return NULL;
}
