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
#include <sched.h>
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
        const char *why = dlerror();
        snprintf(sha_error, sizeof(sha_error), "%s", why ? why : "not found");
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

/* The 64 lowercase hex digits of a SHA-256, NUL-terminated. */
static void sum_hex(const unsigned char md[32], char out[65])
{
    static const char hex[] = "0123456789abcdef";
    for (unsigned i = 0; i < 32; i++) {
        out[2 * i] = hex[md[i] >> 4];
        out[2 * i + 1] = hex[md[i] & 15];
    }
    out[64] = 0;
}

int verify_false(const char *v)
{
    if (!v)
        return 1;
    while (*v == ' ' || *v == '\t' || *v == '\n' || *v == '\r')
        v++;
    size_t n = strlen(v);
    while (n && (v[n - 1] == ' ' || v[n - 1] == '\t' || v[n - 1] == '\n' || v[n - 1] == '\r'))
        n--;
    if ((n == 1 && (*v == 'f' || *v == 'F')) || (n == 5 && !c_strncasecmp(v, "false", 5)))
        return 1;
    size_t i = 0;
    int digits = 0, nonzero = 0;
    if (i < n && (v[i] == '+' || v[i] == '-'))
        i++;
    for (; i < n && isdigit((unsigned char)v[i]); i++, digits++)
        nonzero |= v[i] != '0';
    if (i < n && v[i] == '.')
        for (i++; i < n && isdigit((unsigned char)v[i]); i++, digits++)
            nonzero |= v[i] != '0';
    if (!digits)
        return 0;
    if (i < n && (v[i] == 'e' || v[i] == 'E')) {
        i++;
        if (i < n && (v[i] == '+' || v[i] == '-'))
            i++;
        if (i >= n || !isdigit((unsigned char)v[i]))
            return 0;
        while (i < n && isdigit((unsigned char)v[i]))
            i++;
    }
    return i == n && !nonzero;
}

int checksum_text(const char *text, size_t len, char out[65])
{
    unsigned char md[32];
    SHA256_CTX ctx;
    int ok = !checksum_load_error() && sha.init(&ctx) && sha.update(&ctx, text, len) && sha.final(md, &ctx);
    if (!ok)
        memset(md, 0, sizeof(md));
    sum_hex(md, out);
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
    mig_materialize(m, NULL); /* a no-op unless the set came through the cache */
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
    /* any case: "-- STRATA:UP" is a marker written wrongly (parse_marker
       says so), never a comment that would merge two sections */
    if (n - i < 7 || c_strncasecmp(l + i, "strata:", 7) != 0)
        return 0;
    i += 7;
    *word = i;
    while (i < n && (isalnum((unsigned char)l[i]) || l[i] == '-' || l[i] == '_'))
        i++;
    return i;
}

static const char *const section_words[] = {"up", "down", "verify"};

/* The index in section_words of the wl bytes at w, in any case; -1. */
static int section_word(const char *w, size_t wl)
{
    for (int k = 0; k < 3; k++)
        if (wl == strlen(section_words[k]) && !c_strncasecmp(w, section_words[k], wl))
            return k;
    return -1;
}

static int parse_marker(const char *l, size_t n, int *kind, int *dialect, int *notx, char *msg, size_t msgsz)
{
    size_t w = 0, i = marker_word(l, n, &w);
    if (!i)
        return 0;
    size_t wl = i - w;
    /* the right word in the wrong case (or "STRATA:"): an error naming
       the marker as it must be written */
    int k = section_word(l + w, wl);
    if (k >= 0 && (strncmp(l + w, section_words[k], wl) || strncmp(l + w - 7, "strata:", 7))) {
        snprintf(msg, msgsz, "marker '%.*s' is not in lower case (write '-- strata:%s')", (int)(wl + 7),
                 l + w - 7, section_words[k]);
        return -1;
    }
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
            if (*dialect != DIALECT_ANY && *dialect != dl) {
                /* the last one would win silently */
                snprintf(msg, msgsz, "two dialects on one marker (write a section for each)");
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

/*
 * A "-- strata:..." comment after SQL on line l (which starts outside any
 * string): 1. Not a marker -- a marker stands alone on its line -- so the
 * SQL after it would silently join this section ("CREATE TABLE a (x);
 * -- strata:down" then "DROP TABLE a;" runs both as the up). The scan
 * follows '...' and "..." and block comments within the line, and gives up
 * (0) at anything it does not follow there (a dollar quote, a backslash).
 */
static int inline_marker(const char *l, size_t n)
{
    size_t i = 0;
    while (i < n && (l[i] == ' ' || l[i] == '\t'))
        i++;
    size_t first = i;
    while (i < n) {
        char c = l[i];
        if (c == '\'' || c == '"') {
            /* E'...' strings take backslash escapes; elsewhere a backslash
               is a character (standard_conforming_strings, SQLite) */
            int esc = c == '\'' && i > 0 && (l[i - 1] == 'E' || l[i - 1] == 'e') &&
                      (i == 1 || !(isalnum((unsigned char)l[i - 2]) || l[i - 2] == '_'));
            size_t e = i + 1;
            while (e < n && l[e] != c)
                e += esc && l[e] == '\\' ? 2 : 1;
            if (e >= n)
                return 0; /* runs on to the next line */
            i = e + 1;
        } else if (c == '$' && i + 1 < n && isdigit((unsigned char)l[i + 1])) {
            i += 2; /* a parameter, $1 */
        } else if (c == '$') {
            /* a dollar quote $tag$ ... $tag$ closed on this line */
            size_t t = i + 1;
            while (t < n && (isalnum((unsigned char)l[t]) || l[t] == '_'))
                t++;
            if (t >= n || l[t] != '$')
                return 0;
            size_t tl = t + 1 - i, e = t + 1;
            while (e + tl <= n && memcmp(l + e, l + i, tl))
                e++;
            if (e + tl > n)
                return 0;
            i = e + tl;
        } else if (c == '/' && i + 1 < n && l[i + 1] == '*') {
            size_t e = i + 2;
            while (e + 1 < n && !(l[e] == '*' && l[e + 1] == '/'))
                e++;
            if (e + 1 >= n)
                return 0;
            i = e + 2;
        } else if (c == '-' && i + 1 < n && l[i + 1] == '-') {
            /* a section marker (any case); "-- strata:lint-ignore" after
               a statement is a lint directive for it */
            size_t w = 0, e = i > first ? marker_word(l + i, n - i, &w) : 0;
            return e && section_word(l + i + w, e - w) >= 0;
        } else if (c == '\\' || c == '[' || c == '`') {
            return 0;
        } else {
            i++;
        }
    }
    return 0;
}

static const char *kind_name(int k)
{
    return k == SEC_UP ? "up" : k == SEC_DOWN ? "down" : "verify";
}

struct txcheck {
    int txn;     /* look for transaction control too (a transactional section) */
    int dialect; /* the lexing */
    int found_line;
    int client; /* found a client command (what), not transaction control (word) */
    char word[16];
    char what[64];
};

/* PREPARE TRANSACTION 'id' -- not PREPARE transaction AS ..., a prepared
   statement named "transaction" */
static int third_is_string(const sql_stmt *st)
{
    size_t pos = 0;
    int line = 0, n = 0, kind = SQLTOK_END;
    sql_token t;
    while (n < 3 &&
           (kind = sql_token_next(st->text, st->len, &pos, &line, DIALECT_POSTGRES, 0, &t)) != SQLTOK_END)
        n++;
    return n == 3 && kind == SQLTOK_STRING;
}

static int txcheck_fn(void *ud, const sql_stmt *st)
{
    struct txcheck *t = ud;
    int line = sql_client_command(st, t->dialect, t->what, sizeof(t->what));
    if (line) {
        t->found_line = line;
        t->client = 1;
        return 1;
    }
    if (t->dialect != DIALECT_SQLITE && !strcmp(st->first, "PREPARE") && !strcmp(st->second, "TRANSACTION") &&
        third_is_string(st)) {
        /* in any section: the prepared transaction outlives the migration */
        t->found_line = st->line;
        t->client = 1;
        snprintf(t->what, sizeof(t->what), "PREPARE TRANSACTION");
        return 1;
    }
    if (t->txn && sql_is_txn_control(st)) {
        t->found_line = st->line;
        memcpy(t->word, st->first, sizeof(t->word));
        return 1;
    }
    return 0;
}

/* a block comment that runs to the end of the file, as PostgreSQL reads it */
#define OPEN_COMMENT_MSG                                                                                 \
    "/* comment opened here is never closed (PostgreSQL nests /* */ comments): the rest of the file is " \
    "inside it"

/*
 * A section without a dialect was checked when the file was read with
 * PostgreSQL's lexing. SQLite reads comments and quotes otherwise (no
 * nested block comments; [..] and `..` names): a block comment that holds
 * a second opening sequence (a path ending in a star, say) runs to the end
 * of the section under PostgreSQL's rules, hiding a COMMIT that SQLite
 * runs. Before such a section runs on SQLite, the same check again with
 * SQLite's rules.
 */
static strata_code section_check(const migration *m, const section *s, int dialect, strata_error *err)
{
    if (s && s->open_comment && dialect != DIALECT_SQLITE) {
        const char *file = m->path ? m->path : m->id;
        err_set(err, STRATA_PARSE_ERROR, "%s:%d: " OPEN_COMMENT_MSG, file, s->open_comment);
        err_where(err, file, s->open_comment);
        err_hint(err, "a section without a dialect is read on PostgreSQL as PostgreSQL reads it: close the "
                      "comment (a '/*' inside it opens another), or mark the section dialect=sqlite");
        return STRATA_PARSE_ERROR;
    }
    if (!s || s->dialect != DIALECT_ANY || dialect != DIALECT_SQLITE || !s->sql)
        return STRATA_OK;
    struct txcheck t = {!s->notx && s->kind != SEC_VERIFY, DIALECT_SQLITE, 0, 0, "", ""};
    if (!sql_split(s->sql, strlen(s->sql), DIALECT_SQLITE, txcheck_fn, &t))
        return STRATA_OK;
    const char *file = m->path ? m->path : m->id;
    int line = s->line + t.found_line - 1;
    if (t.client)
        err_set(err, STRATA_PARSE_ERROR, "%s:%d: '%s' in the %s section is not SQL", file, line, t.what,
                kind_name(s->kind));
    else
        err_set(err, STRATA_PARSE_ERROR,
                "%s:%d: '%s' statement in a transactional %s section (it would end the migration's own "
                "transaction)",
                file, line, t.word, kind_name(s->kind));
    err_where(err, file, line);
    err_hint(err, "SQLite reads this section's comments and quotes differently from PostgreSQL (no nested "
                  "/* comments; [..] and `..` names), and so sees a statement the check when the file was "
                  "read did not: fix the comment or quote, or mark the section dialect=sqlite");
    return STRATA_PARSE_ERROR;
}

strata_code mig_section_check(const migration *m, int kind, int dialect, strata_error *err)
{
    strata_code rc = section_check(m, mig_section(m, kind, dialect), dialect, err);
    return rc || kind != SEC_UP ? rc : section_check(m, mig_section(m, SEC_VERIFY, dialect), dialect, err);
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
            /* a carriage return ends it too, as PostgreSQL reads it */
            while (i + 1 < n && s[i + 1] != '\n' && s[i + 1] != '\r')
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

/* What the token that opens at s is, for messages. */
static const char *token_kind(const char *s, size_t n, char *out, size_t outsz)
{
    if (s[0] == '$') {
        size_t k = 1;
        while (k < n && k < 64 && s[k] != '$')
            k++;
        snprintf(out, outsz, "dollar quote %.*s", (int)(k + 1), s);
    } else {
        snprintf(out, outsz, "%s",
                 s[0] == '/'                  ? "/* comment"
                 : s[0] == '\''               ? "string"
                 : s[0] == 'E' || s[0] == 'e' ? "E'' string"
                                              : "quoted identifier");
    }
    return out;
}

int mig_parse(migration *m, const char *text, size_t len, strata_migset *set)
{
    const char *file = m->path ? m->path : m->id;
    int lineno = 0, cur = -1, ok = 1, sql_line, hidden = 0;
    sql_lines lx = {DIALECT_POSTGRES, 0};
    /* lex_next: the next line that starts outside any string, dollar quote
       or comment; a marker-like line before it is SQL text, not a marker */
    size_t pos = 0, body_start = 0, lex_next = 0, open_at = (size_t)-1;
    char msg[512];

    /* closes section cur, whose body runs from body_start to end */
#define CLOSE_SECTION(end)                                                          \
    do {                                                                            \
        if (cur >= 0) {                                                             \
            m->secs[cur].sql = xstrndup(text + body_start, (end)-body_start);       \
        } else if ((sql_line = first_sql_line(text, (end))) > 0) {                  \
            migset_add_problem(set, STRATA_PARSE_ERROR, m->version, file, sql_line, \
                               "SQL before the first '-- strata:up' marker");       \
            ok = 0;                                                                 \
        } else if (!m->header) { /* for lint-ignore comments */                     \
            m->header = xstrndup(text, (end));                                      \
        }                                                                           \
    } while (0)

    while (pos <= len) {
        size_t eol = pos;
        while (eol < len && text[eol] != '\n')
            eol++;
        lineno++;
        int kind, dialect, notx, r = 0;
        if (pos >= lex_next) {
            r = parse_marker(text + pos, eol - pos, &kind, &dialect, &notx, msg, sizeof(msg));
            /* before the first section, "SQL before the first marker" says it */
            if (r == 0 && cur >= 0 && inline_marker(text + pos, eol - pos)) {
                migset_add_problem(set, STRATA_PARSE_ERROR, m->version, file, lineno,
                                   "a '-- strata:' marker after SQL on the same line is a comment, not a "
                                   "marker: the lines after it would run in this section (put the marker "
                                   "on a line of its own)");
                ok = 0;
            }
            if (r == 0)
                lex_next = sql_next_line(text, len, pos, &lx, &open_at);
        } else if (!hidden && parse_marker(text + pos, eol - pos, &kind, &dialect, &notx, msg, sizeof(msg))) {
            hidden = lineno; /* inside a string or comment: the first such line */
        }
        if (r < 0) {
            migset_add_problem(set, STRATA_PARSE_ERROR, m->version, file, lineno, "%s", msg);
            ok = 0;
        } else if (r > 0) {
            CLOSE_SECTION(pos);
            for (int i = 0; i < m->nsecs; i++)
                if (m->secs[i].kind == kind && m->secs[i].dialect == dialect) {
                    migset_add_problem(set, STRATA_PARSE_ERROR, m->version, file, lineno,
                                       "second '%s' section for the same dialect", kind_name(kind));
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
            lx.dialect = dialect == DIALECT_SQLITE ? DIALECT_SQLITE : DIALECT_POSTGRES;
            lx.stmt = body_start;
            hidden = 0;
        }
        if (eol >= len)
            break;
        pos = eol + 1;
    }
    CLOSE_SECTION(len);
#undef CLOSE_SECTION
    if (open_at != (size_t)-1 && hidden) {
        /* a string or comment left open ran over a marker: say so, rather
           than run everything after it as one section */
        int open_line = 1;
        char what[80];
        for (size_t i = 0; i < open_at; i++)
            open_line += text[i] == '\n';
        migset_add_problem(set, STRATA_PARSE_ERROR, m->version, file, open_line,
                           "%s opened here is never closed: line %d is inside it, not a marker",
                           token_kind(text + open_at, len - open_at, what, sizeof(what)), hidden);
        ok = 0;
    } else if (open_at != (size_t)-1 && text[open_at] == '/' && cur >= 0 &&
               m->secs[cur].dialect != DIALECT_SQLITE) {
        /* a block comment that runs to the end of the file: SQLite ends it
           there, PostgreSQL refuses the text (its comments nest, so one
           that looks closed may not be) -- what it holds would not run.
           A PostgreSQL section is refused now; one without a dialect when
           it is about to run on PostgreSQL (mig_section_check) */
        int open_line = 1;
        for (size_t i = 0; i < open_at; i++)
            open_line += text[i] == '\n';
        if (m->secs[cur].dialect == DIALECT_ANY) {
            m->secs[cur].open_comment = open_line;
        } else {
            migset_add_problem(set, STRATA_PARSE_ERROR, m->version, file, open_line, OPEN_COMMENT_MSG);
            ok = 0;
        }
    }

    int has_up = 0;
    for (int i = 0; i < m->nsecs; i++) {
        section *s = &m->secs[i];
        if (!s->sql)
            return 0;
        if (s->kind == SEC_UP)
            has_up = 1;
        struct txcheck t;
        memset(&t, 0, sizeof(t));
        t.txn = !s->notx;
        t.dialect = s->dialect == DIALECT_SQLITE ? DIALECT_SQLITE : DIALECT_POSTGRES;
        if (!sql_split(s->sql, strlen(s->sql), t.dialect, txcheck_fn, &t))
            continue;
        ok = 0;
        int line = s->line + t.found_line - 1;
        if (!t.client)
            migset_add_problem(set, STRATA_PARSE_ERROR, m->version, file, line,
                               "'%s' statement in a transactional %s section (it would end "
                               "the migration's own transaction)%s",
                               t.word, kind_name(s->kind),
                               s->dialect == DIALECT_ANY && (strchr(s->sql, '[') || strchr(s->sql, '`'))
                                   ? "; a section without a dialect is read as PostgreSQL reads it, where "
                                     "[..] and `..` are no names: if this is SQLite's, mark the section "
                                     "dialect=sqlite"
                                   : "");
        else if (t.what[0] == '\\')
            migset_add_problem(
                set, STRATA_PARSE_ERROR, m->version, file, line,
                t.dialect == DIALECT_SQLITE
                    ? "'%s' in the %s section is not SQL: a line starting with a backslash is a "
                      "psql meta-command, and strata sends SQL to the database"
                    : "psql meta-command '%s' in the %s section: strata sends SQL to the "
                      "database and cannot run psql's backslash commands",
                t.what, kind_name(s->kind));
        else if (t.what[0] == '.')
            migset_add_problem(set, STRATA_PARSE_ERROR, m->version, file, line,
                               "sqlite3 shell command '%s' in the %s section: strata sends SQL to the "
                               "database and cannot run the shell's dot-commands",
                               t.what, kind_name(s->kind));
        else if (!strcmp(t.what, "PREPARE TRANSACTION"))
            migset_add_problem(set, STRATA_PARSE_ERROR, m->version, file, line,
                               "'PREPARE TRANSACTION' in the %s section: a prepared transaction outlives the "
                               "migration, holding its locks until someone commits or rolls it back, and "
                               "strata could not record what it did",
                               kind_name(s->kind));
        else
            migset_add_problem(set, STRATA_PARSE_ERROR, m->version, file, line,
                               "'%s' in the %s section: psql streams those rows to or from the "
                               "file itself, strata runs SQL only",
                               t.what, kind_name(s->kind));
    }
    if (!has_up && ok) {
        migset_add_problem(set, STRATA_PARSE_ERROR, m->version, file, 0, "no '-- strata:up' section in '%s'",
                           file);
        ok = 0;
    }
    return ok;
}

const char *file_kind(mode_t m)
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
    if (ARR_GROW(b->p, b->cap, need < 4096 ? 4096 : need)) {
        close(fd);
        errno = ENOMEM;
        return READ_ERRNO;
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
        if (ARR_GROW(b->p, b->cap, b->cap + 1)) { /* it grew since the stat */
            close(fd);
            errno = ENOMEM;
            return READ_ERRNO;
        }
    }
    close(fd);
    b->p[len] = 0;
    *outlen = len;
    return READ_OK;
}

strata_code read_failure(int r, const char *kind, const char *what, const char *path, char *msg, size_t msgsz)
{
    if (r == READ_NOT_REGULAR) {
        snprintf(msg, msgsz, "cannot read %s'%s': it is %s, not a regular file", what, path, kind);
        return STRATA_FILE_NOT_REGULAR;
    }
    if (r == READ_TOO_LARGE) {
        snprintf(msg, msgsz, "cannot read %s'%s': it is larger than %d MiB", what, path,
                 FILE_MAX_BYTES >> 20);
        return STRATA_FILE_TOO_LARGE;
    }
    snprintf(msg, msgsz, "cannot read %s'%s': %s", what, path, strerror(errno));
    return STRATA_IO_ERROR;
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

/* Folds CRLF to LF in place, and drops a UTF-8 byte order mark at the
   start (Windows editors write one): neither changes the checksum. */
static size_t fold_crlf(char *s, size_t n)
{
    size_t w = 0, r = 0;
    if (n >= 3 && !memcmp(s, "\xEF\xBB\xBF", 3))
        r = 3;
    for (; r < n; r++) {
        if (s[r] == '\r' && r + 1 < n && s[r + 1] == '\n')
            continue;
        s[w++] = s[r];
    }
    s[w] = 0;
    return w;
}

static void problems_release(strata_problem *v, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        free((char *)v[i].version);
        free((char *)v[i].detail);
        free((char *)v[i].file);
    }
    free(v);
}

static void mig_release(migration *m)
{
    free(m->path); /* one block: path, id, version (name is in id) */
    free(m->checksum);
    for (int i = 0; i < m->nsecs; i++)
        free(m->secs[i].sql);
    free(m->secs);
    free(m->header);
}

/* version_cmp's order from what add_entry worked out: the version without
   its leading zeros and that length (tens of thousands of comparisons sort
   thousands of files) */
static int mig_cmp(const void *a, const void *b)
{
    const migration *x = a, *y = b;
    int c = x->vlen != y->vlen ? (x->vlen > y->vlen) - (x->vlen < y->vlen)
                               : memcmp(x->version + x->vskip, y->version + y->vskip, x->vlen);
    return c ? (c > 0) - (c < 0) : strcmp(x->id, y->id);
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
static int warn_empty_up(strata_migset *set, const migration *m)
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
            return 0;
        if (!marker)
            marker = s->line - 1;
    }
    if (marker)
        migset_add_warning(set, m->version, m->path, marker,
                           "the up section has no statement; applying it only records the version");
    return marker != 0;
}

/* Checksums and parses the text of m (len bytes, in a buffer of the
   caller's, changed in place). 1 when it parsed with no problem and no
   warning (the cache may keep it). */
static int load_text(strata_migset *set, migration *m, char *text, size_t len)
{
    int utf16 = len >= 2 && ((unsigned char)text[0] == 0xFF || (unsigned char)text[0] == 0xFE) &&
                ((unsigned char)text[1] ^ (unsigned char)text[0]) == 0x01;
    len = fold_crlf(text, len);
    char sum[65];
    int hashed = checksum_text(text, len, sum) == 0;
    m->checksum = xstrdup(sum);
    if (!hashed) {
        migset_add_problem(set, STRATA_CONFIG_ERROR, m->version, m->path, 0,
                           "cannot compute the checksum of '%s': cannot load libcrypto (%s)", m->path,
                           checksum_load_error());
        m->broken = 1;
    } else if (utf16) {
        migset_add_problem(set, STRATA_PARSE_ERROR, m->version, m->path, 0,
                           "'%s' is UTF-16 text; save it as UTF-8", m->path);
        m->broken = 1;
    } else if (strlen(text) != len) {
        migset_add_problem(set, STRATA_PARSE_ERROR, m->version, m->path, 0, "'%s' contains a NUL byte",
                           m->path);
        m->broken = 1;
    } else if (!mig_parse(m, text, len, set)) {
        m->broken = 1;
    } else {
        return !warn_empty_up(set, m);
    }
    return 0;
}

/*
 * The checksum cache. A no-op `up` must know that no applied file changed,
 * and reading thousands of files for that (open, fstat, read, close each)
 * costs more than everything else. The cache keeps, per migration
 * directory, each file's identity (device, inode, size, mtime and ctime to
 * the nanosecond) with the SHA-256 of its content, for files that parsed
 * with no problem and no warning; a file whose stat still shows the same
 * identity is taken at the cached checksum without being read, and read
 * (then parsed) only when its SQL is needed (mig_materialize).
 *
 * Any write to a file moves its ctime to the current time, and no call sets
 * ctime to a chosen value. Two writes within one tick of the file system's
 * clock can leave ctime unchanged, so (as git guards its index against
 * "racy" entries) a file is kept only when its ctime was more than
 * migcache_margin_ns (10 s) older than the moment its content was read: a later write
 * then gives a later ctime. The cache lives in the user's cache directory
 * (never in the migration directory), one file per directory, named by the
 * directory's device and inode; it is written only when it changes, to a
 * temporary file renamed over the old one, and ignored when it is not
 * this user's, is writable by others, or does not check out (format, strata
 * version, trailing hash).
 */
int64_t migcache_margin_ns = 10LL * 1000000000LL;
#define CACHE_MAGIC "strata-checksums"
#define CACHE_FORMAT 2

typedef struct cache_rec {
    mig_key key;
    uint16_t namelen;
    char name[]; /* namelen bytes, no NUL, padded to 8 */
} cache_rec;

typedef struct cache_head {
    char magic[16];
    uint32_t format, count;
    char version[16];
    mig_key dir;      /* the directory's stat identity when it was listed */
    uint32_t listing; /* 1: the records are all of its migrations, nothing else */
    uint32_t pad;
} cache_head;

static size_t rec_size(size_t namelen)
{
    return (sizeof(cache_rec) + namelen + 7) & ~(size_t)7;
}

/* A 64-bit hash of n bytes (n a multiple of 8), to see a torn file. */
static uint64_t cache_hash(const unsigned char *p, size_t n)
{
    uint64_t h = 0x9e3779b97f4a7c15ULL;
    for (size_t i = 0; i + 8 <= n; i += 8) {
        uint64_t w;
        memcpy(&w, p + i, 8);
        h = (h ^ w) * 0x100000001b3ULL;
        h ^= h >> 29;
    }
    return h;
}

static int64_t ts_ns(const struct timespec *t)
{
    return (int64_t)t->tv_sec * 1000000000LL + t->tv_nsec;
}

static void key_of(mig_key *k, const struct stat *st)
{
    k->dev = (uint64_t)st->st_dev;
    k->ino = (uint64_t)st->st_ino;
    k->size = (uint64_t)st->st_size;
    k->mtime_ns = ts_ns(&st->st_mtim);
    k->ctime_ns = ts_ns(&st->st_ctim);
}

static int same_file(const mig_key *a, const mig_key *b)
{
    return a->dev == b->dev && a->ino == b->ino && a->size == b->size && a->mtime_ns == b->mtime_ns &&
           a->ctime_ns == b->ctime_ns;
}

static void sum_of_hex(unsigned char out[32], const char *hex)
{
    for (int i = 0; i < 32; i++) {
        int v = 0;
        for (int j = 0; j < 2; j++) {
            char c = hex[2 * i + j];
            v = v * 16 + (c >= 'a' ? c - 'a' + 10 : c - '0');
        }
        out[i] = (unsigned char)v;
    }
}

static char *hex_of_sum(const unsigned char sum[32])
{
    char *s = malloc(65);
    if (s)
        sum_hex(sum, s);
    return s;
}

typedef struct mcache {
    char *path;            /* the cache file */
    unsigned char *raw;    /* its bytes */
    const cache_rec **seq; /* records in the file's order (version order) */
    const cache_rec **v;   /* records sorted by name (cache_index) */
    size_t n;
    cache_head head;
} mcache;

static void cache_free(mcache *c)
{
    if (!c)
        return;
    free(c->path);
    free(c->raw);
    free(c->seq);
    free(c->v);
    free(c);
}

/* Reads the cache file c->path; leaves c->n 0 when there is none, or it
   does not check out. */
static void cache_read(mcache *c)
{
    rbuf b = {NULL, 0};
    size_t len = 0;
    const char *kind;
    struct stat st; /* of the file read: this user's, and only theirs to write */
    if (read_into(AT_FDCWD, c->path, &b, &len, &kind, &st) != READ_OK || st.st_uid != geteuid() ||
        (st.st_mode & (S_IWGRP | S_IWOTH)) || len < sizeof(cache_head) + 8 || len % 8) {
        free(b.p);
        return;
    }
    const unsigned char *p = (const unsigned char *)b.p;
    cache_head h;
    memcpy(&h, p, sizeof(h));
    uint64_t tail;
    memcpy(&tail, p + len - 8, 8);
    char version[16] = {0};
    snprintf(version, sizeof(version), "%s", STRATA_VERSION);
    if (memcmp(h.magic, CACHE_MAGIC, 16) || h.format != CACHE_FORMAT || memcmp(h.version, version, 16) ||
        tail != cache_hash(p, len - 8) || !(c->seq = malloc(((size_t)h.count + 1) * sizeof(*c->seq)))) {
        free(b.p);
        return;
    }
    size_t off = sizeof(h), end = len - 8;
    for (uint32_t i = 0; i < h.count; i++) {
        const cache_rec *r = (const cache_rec *)(p + off);
        if (end - off < sizeof(cache_rec) || r->namelen == 0 || end - off < rec_size(r->namelen)) {
            free(b.p);
            return; /* short: not ours */
        }
        c->seq[i] = r;
        off += rec_size(r->namelen);
    }
    if (off != end) {
        free(b.p);
        return;
    }
    c->raw = (unsigned char *)b.p;
    c->n = h.count;
    c->head = h;
}

static int name_cmp(const char *a, size_t al, const char *b, size_t bl)
{
    int c = memcmp(a, b, al < bl ? al : bl);
    return c ? c : (al > bl) - (al < bl);
}

static int rec_cmp(const void *a, const void *b);

/* The records sorted by name, for cache_find; a cache with a name twice is
   dropped. */
static void cache_index(mcache *c)
{
    if (!c->n || !(c->v = malloc(c->n * sizeof(*c->v)))) {
        c->n = 0;
        return;
    }
    memcpy(c->v, c->seq, c->n * sizeof(*c->v));
    qsort(c->v, c->n, sizeof(*c->v), rec_cmp);
    for (size_t i = 1; i < c->n; i++)
        if (rec_cmp(&c->v[i - 1], &c->v[i]) == 0)
            c->n = 0;
}

static const cache_rec *cache_find(const mcache *c, const char *name)
{
    size_t lo = 0, hi = c ? c->n : 0, nl = strlen(name);
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        int r = name_cmp(c->v[mid]->name, c->v[mid]->namelen, name, nl);
        if (r == 0)
            return c->v[mid];
        if (r < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return NULL;
}

static void load_one(strata_migset *set, int dirfd, size_t skip, migration *m, rbuf *b, const cache_rec *cr)
{
    const char *name = m->path + skip;
    size_t len;
    const char *kind;
    struct stat st;
    if (cr && fstatat(dirfd, name, &st, 0) == 0 && S_ISREG(st.st_mode)) {
        key_of(&m->key, &st);
        if (same_file(&m->key, &cr->key) && (m->checksum = hex_of_sum(cr->key.sum)) != NULL) {
            memcpy(m->key.sum, cr->key.sum, 32);
            m->lazy = m->cached = 1;
            return;
        }
    }
    struct timespec now;
    clock_gettime(CLOCK_REALTIME, &now);
    int r = read_into(dirfd, name, b, &len, &kind, &st);
    if (r != READ_OK) {
        char msg[1024];
        strata_code code = read_failure(r, kind, "", m->path, msg, sizeof(msg));
        migset_add_problem(set, code, m->version, m->path, 0, "%s", msg);
        m->broken = 1;
        return;
    }
    if (load_text(set, m, b->p, len) && ts_ns(&st.st_ctim) + migcache_margin_ns < ts_ns(&now)) {
        key_of(&m->key, &st);
        sum_of_hex(m->key.sum, m->checksum);
        m->cached = 1;
    }
}

/*
 * A set is only read, by any number of threads at once (strata.h), and a
 * lazy migration is filled in the first time its SQL is needed: under this
 * lock, parsed into a copy, its sections published before lazy is cleared
 * (release; the fast path reads lazy with acquire). The checksum pointer
 * never changes: other threads may be reading it.
 */
static pthread_mutex_t materialize_mu = PTHREAD_MUTEX_INITIALIZER;

strata_code mig_materialize(const migration *cm, strata_error *err)
{
    migration *m = (migration *)cm;
    if (!__atomic_load_n(&m->lazy, __ATOMIC_ACQUIRE))
        return STRATA_OK;
    pthread_mutex_lock(&materialize_mu);
    if (!m->lazy) { /* another thread did it meanwhile */
        pthread_mutex_unlock(&materialize_mu);
        return STRATA_OK;
    }
    rbuf b = {NULL, 0};
    size_t len;
    const char *kind;
    struct stat st;
    strata_code rc = STRATA_OK;
    migration t = *m;
    t.secs = NULL;
    t.nsecs = 0;
    t.capsecs = 0;
    t.header = NULL;
    t.checksum = NULL;
    t.broken = 0;
    int r = read_into(AT_FDCWD, m->path, &b, &len, &kind, &st);
    if (r != READ_OK) {
        char msg[1024];
        strata_code code = read_failure(r, kind, "", m->path, msg, sizeof(msg));
        rc = err_set(err, code, "%s", msg);
    }
    if (!rc) {
        strata_migset tmp;
        memset(&tmp, 0, sizeof(tmp));
        if (!load_text(&tmp, &t, b.p, len) && !tmp.nproblems && !tmp.nwarnings)
            rc = err_set(err, STRATA_NOMEM, "out of memory");
        else if (tmp.nproblems)
            rc = strata_migset_check(&tmp, err); /* says where */
        else if (!t.checksum || !m->checksum || strcmp(t.checksum, m->checksum)) {
            rc = err_set(err, STRATA_IO_ERROR, "'%s' changed while strata was reading the migrations",
                         m->path);
            err_hint(err, "run the command again");
            err_where(err, m->path, 0);
        }
        problems_release(tmp.problems, tmp.nproblems);
        problems_release(tmp.warnings, tmp.nwarnings);
    }
    free(b.p);
    free(t.checksum);
    if (rc) {
        /* nothing of a file that failed is ever run */
        for (int i = 0; i < t.nsecs; i++)
            free(t.secs[i].sql);
        free(t.secs);
        free(t.header);
        m->broken = 1;
        if (r != READ_OK)
            err_where(err, m->path, 0);
    } else {
        m->secs = t.secs;
        m->nsecs = t.nsecs;
        m->capsecs = t.capsecs;
        m->header = t.header;
    }
    __atomic_store_n(&m->lazy, 0, __ATOMIC_RELEASE);
    pthread_mutex_unlock(&materialize_mu);
    return rc;
}

static int rec_cmp(const void *a, const void *b)
{
    const cache_rec *x = *(const cache_rec *const *)a, *y = *(const cache_rec *const *)b;
    return name_cmp(x->name, x->namelen, y->name, y->namelen);
}

/* Writes the cache of set when it differs from what was read (c). */
/* Writes the cache of set when it differs from what was read (c); listing:
   the records are the directory's whole listing (dir its identity then). */
static void cache_write(const mcache *c, const char *cache_dir, const strata_migset *set, size_t skip,
                        const mig_key *dir, int listing)
{
    size_t n = 0, hits = 0, fresh = 0, size = sizeof(cache_head) + 8;
    for (size_t i = 0; i < set->count; i++) {
        const migration *m = &set->migs[i];
        size_t nl = strlen(m->path + skip);
        if (!m->cached || nl == 0 || nl > 65535)
            continue;
        n++;
        size += rec_size(nl);
        if (m->lazy)
            hits++;
        else
            fresh++;
    }
    listing = listing && n == set->count && n > 0;
    if (!fresh && hits == c->n && (uint32_t)listing == c->head.listing &&
        (!listing || (same_file(dir, &c->head.dir) && dir->mtime_ns == c->head.dir.mtime_ns)))
        return; /* the same records */
    unsigned char *sorted = calloc(1, size);
    if (!sorted)
        return;
    /* in version order: a directory that did not change is listed from it */
    cache_head h;
    memset(&h, 0, sizeof(h));
    memcpy(h.magic, CACHE_MAGIC, 16);
    h.format = CACHE_FORMAT;
    h.count = (uint32_t)n;
    snprintf(h.version, sizeof(h.version), "%s", STRATA_VERSION);
    h.dir = *dir;
    h.listing = (uint32_t)listing;
    memcpy(sorted, &h, sizeof(h));
    size_t off = sizeof(h);
    for (size_t i = 0; i < set->count; i++) {
        const migration *m = &set->migs[i];
        const char *name = m->path + skip;
        size_t nl = strlen(name);
        if (!m->cached || nl == 0 || nl > 65535)
            continue;
        cache_rec *r = (cache_rec *)(sorted + off);
        r->key = m->key;
        r->namelen = (uint16_t)nl;
        memcpy(r->name, name, nl);
        off += rec_size(nl);
    }
    uint64_t tail = cache_hash(sorted, off);
    memcpy(sorted + off, &tail, 8);
    char tmp[4200];
    if (mkdir_p(cache_dir, 0700, NULL, 0) == 0 && /* private to this user */
        snprintf(tmp, sizeof(tmp), "%s.%ld.tmp", c->path, (long)getpid()) < (int)sizeof(tmp)) {
        int fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
        if (fd >= 0) {
            int ok = fd_write_all(fd, sorted, size) == 0;
            if (close(fd) == 0 && ok && rename(tmp, c->path) == 0)
                tmp[0] = 0;
            if (tmp[0])
                unlink(tmp);
        }
    }
    free(sorted);
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
    return fn[0] != '.' && fl >= 4 && c_strcasecmp(fn + fl - 4, ".sql") == 0 && !migration_name(fn);
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
    /* one allocation: thousands of files are listed by every `up` */
    size_t pl = strlen(path);
    char *b = malloc(pl + 1 + (fl - 4) + 1 + vl + 1);
    if (!b)
        return -1;
    migration *m = &set->migs[set->count++];
    memset(m, 0, sizeof(*m));
    m->path = memcpy(b, path, pl + 1);
    m->id = b + pl + 1;
    memcpy(m->id, fn, fl - 4);
    m->id[fl - 4] = 0;
    m->version = m->id + (fl - 4) + 1;
    memcpy(m->version, fn, vl);
    m->version[vl] = 0;
    while (m->vskip + 1 < vl && fn[m->vskip] == '0')
        m->vskip++;
    m->vlen = vl - m->vskip;
    m->name = fn[vl] == '_' ? m->id + vl + 1 : m->id + (fl - 4);
    return 1;
}

/* Sorts the loaded set, fills the public views, finds duplicate versions. */
static void finish_set(strata_migset *set, int sorted)
{
    if (set->count && !sorted)
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
#if defined(__linux__) && defined(__GLIBC__)
#define LOADER_AFFINITY 1 /* pthread_attr_setaffinity_np, sched_getcpu */
#endif

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
    int nextra;             /* written by the first thread before it ends */
    char *cache_dir;        /* NULL: no cache */
    mcache *cache;          /* read by the first thread, before the listing */
    mig_key dir;            /* the directory's stat identity (device, inode, times) */
    int64_t list_ns;        /* the clock when the listing began */
    int listing;            /* the listing is one the cache may keep (see cache_write) */
    const cache_rec **recs; /* the cache's record of each migration, when listed from it */
#ifdef LOADER_AFFINITY
    cpu_set_t cpus; /* the process's cores, which the first thread takes back (start_first) */
#endif
};

/* Reads the names of the directory into the set (text not read yet). */
static strata_code list_dir(strata_migset_loader *l)
{
    strata_migset *set = l->set;
    size_t cap = 0;
    struct dirent *de;
    char path[4096 + 256];
    size_t dl = l->skip - 1;
    if (dl >= 4096)
        return STRATA_IO_ERROR; /* opendir took it: longer than PATH_MAX cannot be */
    memcpy(path, set->dir, dl);
    path[dl] = '/';
    while ((de = readdir(l->d)) != NULL) {
        size_t nl = strlen(de->d_name);
        if (nl >= 256)
            continue;
        memcpy(path + dl + 1, de->d_name, nl + 1);
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
        migration *m = &l->set->migs[i];
        load_one(l->set, l->dirfd, l->skip, m, &b,
                 l->recs    ? l->recs[i]
                 : l->cache ? cache_find(l->cache, m->path + l->skip)
                            : NULL);
    }
    free(b.p);
    return NULL;
}

/*
 * The listing from the cache: when the directory's own stat identity
 * (device, inode, mtime, ctime) is the one recorded with a complete
 * listing, no entry was added, removed or renamed since (each moves the
 * directory's ctime, and the listing was kept only when the directory's
 * last change was older than the margin), so its migrations are the
 * records, in version order. Every file is still checked by its own stat.
 */
static strata_code list_from_cache(strata_migset_loader *l)
{
    mcache *c = l->cache;
    size_t cap = 0, dl = l->skip - 1;
    char path[4096 + 65536];
    /* the array at its final size at once: growing it by doubling would
       copy it (and touch twice its pages) on the way */
    if (!(l->recs = malloc(c->n * sizeof(*l->recs))) || dl >= 4096 || ARR_GROW(l->set->migs, cap, c->n))
        return STRATA_NOMEM;
    memcpy(path, l->set->dir, dl);
    path[dl] = '/';
    for (size_t i = 0; i < c->n; i++) {
        const cache_rec *r = c->seq[i];
        memcpy(path + dl + 1, r->name, r->namelen);
        path[dl + 1 + r->namelen] = 0;
        if (strlen(path + dl + 1) != r->namelen || !migration_name(path + dl + 1) ||
            add_entry(l->set, &cap, path + dl + 1, path) != 1)
            return STRATA_NOMEM;
        l->recs[i] = r;
    }
    return STRATA_OK;
}

static void list_and_signal(strata_migset_loader *l)
{
    strata_code rc = STRATA_OK;
    int listed = 0;
    if (l->cache) {
        cache_read(l->cache);
        const cache_head *h = &l->cache->head;
        if (l->cache->n && h->listing && same_file(&h->dir, &l->dir)) {
            if (list_from_cache(l) == STRATA_OK && l->set->count == l->cache->n &&
                l->set->nproblems + l->set->nwarnings == 0) {
                listed = l->listing = 1;
            } else { /* cannot be: start again from the directory */
                strata_migset *set = l->set;
                for (size_t i = 0; i < set->count; i++)
                    mig_release(&set->migs[i]);
                set->count = 0;
                problems_release(set->problems, set->nproblems);
                problems_release(set->warnings, set->nwarnings);
                set->problems = set->warnings = NULL;
                set->nproblems = set->nwarnings = set->capproblems = set->capwarnings = 0;
                free(l->recs);
                l->recs = NULL;
            }
        }
        if (!listed)
            cache_index(l->cache);
    }
    if (!listed) {
        struct timespec now;
        clock_gettime(CLOCK_REALTIME, &now);
        l->list_ns = ts_ns(&now);
        rc = list_dir(l);
        /* in version order now, while the caller opens its database */
        if (rc == STRATA_OK && l->set->count)
            qsort(l->set->migs, l->set->count, sizeof(migration), mig_cmp);
        /* the whole listing, and nothing in the directory changed shortly before */
        l->listing = rc == STRATA_OK && l->set->nproblems + l->set->nwarnings == 0 &&
                     l->dir.ctime_ns + migcache_margin_ns < l->list_ns;
    }
    pthread_mutex_lock(&l->mu);
    l->rc = rc;
    l->listed = 1;
    pthread_cond_broadcast(&l->cv);
    pthread_mutex_unlock(&l->mu);
}

/*
 * Starting the loader on another core. Linux puts a new thread on its
 * parent's core and moves it only at the next load balancing, often
 * milliseconds later (measured on 2-vCPU VMs: 1.5-3 ms in 4 runs of 5 while
 * the parent stays busy, as it does opening SQLite) -- longer than a no-op
 * `up` has to overlap. Created with an affinity of the other allowed cores
 * it starts there at once (65-95 us); it then takes back the whole mask so
 * that the scheduler may move it as usual.
 */
static void *load_first(void *arg)
{
    strata_migset_loader *l = arg;
#ifdef LOADER_AFFINITY
    if (CPU_COUNT(&l->cpus))
        sched_setaffinity(0, sizeof(l->cpus), &l->cpus);
#endif
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

/*
 * Starts the first thread, on another core when there is one. Linux puts a
 * new thread on its parent's core and moves it only at the next load
 * balancing, often milliseconds later (measured on 2-vCPU VMs: 1.5-3 ms in
 * 4 starts of 5 while the parent stays busy, as it does opening SQLite) --
 * longer than a no-op `up` has to overlap. Created with the other allowed
 * cores as its affinity it starts at once (65-95 us); it then takes back
 * the process's mask (load_first), so the scheduler moves it as usual.
 */
static int start_first(strata_migset_loader *l)
{
#ifdef LOADER_AFFINITY
    pthread_attr_t at;
    cpu_set_t other;
    int me = sched_getcpu();
    if (me >= 0 && sched_getaffinity(0, sizeof(l->cpus), &l->cpus) == 0 && CPU_ISSET(me, &l->cpus) &&
        CPU_COUNT(&l->cpus) > 1 && pthread_attr_init(&at) == 0) {
        memcpy(&other, &l->cpus, sizeof(other));
        CPU_CLR(me, &other);
        int rc = pthread_attr_setaffinity_np(&at, sizeof(other), &other) == 0
                     ? pthread_create(&l->first, &at, load_first, l)
                     : -1;
        pthread_attr_destroy(&at);
        if (rc == 0)
            return 0;
    }
    CPU_ZERO(&l->cpus); /* nothing to take back */
#endif
    return pthread_create(&l->first, NULL, load_first, l);
}

strata_code strata_migset_load_start(const char *dir, const char *cache_dir, strata_migset_loader **out,
                                     strata_error *err)
{
    if (!dir || !out)
        return api_null(err, __func__, "dir and out");
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
    struct stat dst;
    if (cache_dir && *cache_dir && fstat(l->dirfd, &dst) == 0 && (l->cache = calloc(1, sizeof(mcache))) &&
        (l->cache_dir = xstrdup(cache_dir))) {
        char p[4200];
        snprintf(p, sizeof(p), "%s/migrations-%llx-%llx", cache_dir, (unsigned long long)dst.st_dev,
                 (unsigned long long)dst.st_ino);
        l->cache->path = xstrdup(p);
        key_of(&l->dir, &dst);
    }
    if (l->cache && (!l->cache_dir || !l->cache->path)) {
        cache_free(l->cache);
        free(l->cache_dir);
        l->cache = NULL;
        l->cache_dir = NULL;
    }
    atomic_init(&l->next, 0);
    pthread_mutex_init(&l->mu, NULL);
    pthread_cond_init(&l->cv, NULL);
    l->have_first = start_first(l) == 0;
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
    if (rc == STRATA_OK && l->cache)
        cache_write(l->cache, l->cache_dir, set, l->skip, &l->dir, l->listing);
    free(l->recs);
    cache_free(l->cache);
    free(l->cache_dir);
    closedir(l->d);
    pthread_mutex_destroy(&l->mu);
    pthread_cond_destroy(&l->cv);
    free(l);
    if (rc != STRATA_OK) {
        err_set(err, rc, rc == STRATA_NOMEM ? "out of memory" : "cannot list migration directory '%s'",
                set->dir);
        strata_migset_free(set);
        return rc;
    }
    finish_set(set, 1);
    *out = set;
    return STRATA_OK;
}

strata_code strata_migset_load(const char *dir, strata_migset **out, strata_error *err)
{
    if (!dir || !out)
        return api_null(err, __func__, "dir and out");
    strata_migset_loader *l;
    strata_code rc = strata_migset_load_start(dir, NULL, &l, err);
    if (rc) {
        *out = NULL;
        return rc;
    }
    return strata_migset_load_finish(l, out, err);
}

strata_code strata_migset_from_array(const strata_migration_src *v, size_t n, strata_migset **out,
                                     strata_error *err)
{
    if (!out || (!v && n))
        return api_null(err, __func__, "v and out");
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
    finish_set(set, 0);
    *out = set;
    return STRATA_OK;
}

void strata_migset_free(strata_migset *set)
{
    if (!set)
        return;
    for (size_t i = 0; i < set->count; i++)
        mig_release(&set->migs[i]);
    problems_release(set->problems, set->nproblems);
    problems_release(set->warnings, set->nwarnings);
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
    if (!set)
        return api_null(err, __func__, "set");
    if (!set->nproblems)
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
    else if (strstr(p->detail, "meta-command '\\restrict") || strstr(p->detail, "meta-command '\\unrestrict"))
        err_hint(err, "pg_dump since its August 2025 releases (17.6, 16.10, 15.14, 14.19, 13.22) writes "
                      "'\\restrict KEY' and '\\unrestrict KEY' "
                      "for psql alone: delete both lines");
    else if (strstr(p->detail, "psql meta-command") || strstr(p->detail, "sqlite3 shell command"))
        err_hint(err, "remove it: strata stops at the first error and sends SQL only; each migration "
                      "runs on the database of --url, and a file to include belongs in a migration of its "
                      "own");
    else if (strstr(p->detail, "psql streams those rows"))
        err_hint(err, "load the rows with INSERT ... VALUES, or COPY ... FROM a file the server can read "
                      "(COPY ... TO STDOUT has nothing to print to)");
    else if (p->code == STRATA_FILE_NOT_REGULAR)
        err_hint(err, "a migration must be a regular file (or a symlink to one)");
    else if (p->code == STRATA_FILE_TOO_LARGE)
        err_hint(err, "split the migration into several files");
    else if (strstr(p->detail, "cannot load libcrypto"))
        err_hint(err, "install OpenSSL's libcrypto (Debian: apt-get install libssl3)");
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
