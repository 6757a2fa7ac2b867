/*
 * env.c -- reads one variable from a dotenv file.
 *
 * The rules are those of npm dotenv and python-dotenv where they agree
 * (README.md, "Which database", lists them for users):
 *   - a UTF-8 byte order mark at the start is skipped; CRLF line ends work
 *   - blank lines and lines whose first non-blank is '#' are comments
 *   - NAME=VALUE, with an optional "export " before NAME and blanks around
 *     '='; NAME is letters, digits, '_', '.' and '-'; a bare NAME sets nothing
 *   - VALUE unquoted: up to the end of the line, where a '#' preceded by a
 *     blank starts a comment; blanks around it are trimmed
 *   - VALUE in single quotes or backquotes: literal, no escapes
 *   - VALUE in double quotes: \n \r \t \" \\ \' are escapes; another
 *     backslash stays as written
 *   - quoted values may span lines; after the closing quote only blanks
 *     and a comment may follow
 *   - the last definition of a name wins
 *   - ${NAME} and ${NAME:-default} are expanded as python-dotenv's
 *     load_dotenv does (single-quoted values too): the real environment
 *     first, then the file's earlier definitions; the default when neither
 *     has NAME. Backquotes keep '${' as written (npm dotenv's quotes;
 *     python-dotenv has none), and $NAME without braces is literal. A
 *     reference that nothing defines, or a malformed one, is an error when
 *     it is in the value asked for (python-dotenv would make it empty, and
 *     an empty piece of a URL names another database)
 * Anything else (an unterminated quote, a line that is not NAME=VALUE, text
 * after a closing quote, a NUL byte, a UTF-16 file) is an error naming the
 * file and line: a value that swallows the lines after it must not be used.
 */
#include "internal.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

typedef struct scan {
    const char *s;
    size_t len, pos;
    int line;
} scan;

static int at_end(const scan *c)
{
    return c->pos >= c->len;
}

static char peek(const scan *c)
{
    return c->pos < c->len ? c->s[c->pos] : 0;
}

static void skip_blanks(scan *c)
{
    while (!at_end(c) && (peek(c) == ' ' || peek(c) == '\t' || peek(c) == '\f' || peek(c) == '\v' ||
                          (peek(c) == '\r' && (c->pos + 1 == c->len || c->s[c->pos + 1] == '\n'))))
        c->pos++;
}

/* At the end of a line (or of the text): steps over the newline. */
static int end_of_line(scan *c)
{
    if (at_end(c))
        return 1;
    if (peek(c) != '\n')
        return 0;
    c->pos++;
    c->line++;
    return 1;
}

static void skip_comment(scan *c)
{
    while (!at_end(c) && peek(c) != '\n')
        c->pos++;
}

static int name_char(char ch)
{
    return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') || ch == '_' ||
           ch == '.' || ch == '-';
}

static strata_code syntax(strata_error *err, const char *file, int line, const char *what, const char *hint)
{
    if (file)
        err_set(err, STRATA_CONFIG_ERROR, "%s:%d: %s", file, line, what);
    else
        err_set(err, STRATA_CONFIG_ERROR, "line %d: %s", line, what);
    err_where(err, file, line);
    if (hint)
        err_hint(err, "%s", hint);
    return STRATA_CONFIG_ERROR;
}

/* A quoted value, c at the opening quote; appends it to b. */
static strata_code quoted(scan *c, buf *b, const char *file, strata_error *err)
{
    char q = peek(c);
    int first = c->line;
    c->pos++;
    while (!at_end(c) && peek(c) != q) {
        char ch = peek(c);
        if (ch == '\n')
            c->line++;
        if (ch == '\r' && c->pos + 1 < c->len && c->s[c->pos + 1] == '\n') {
            c->pos++; /* CRLF inside a value reads as LF */
            continue;
        }
        if (ch == '\\' && q == '"' && c->pos + 1 < c->len) {
            char e = c->s[c->pos + 1];
            const char *rep = e == 'n'    ? "\n"
                              : e == 'r'  ? "\r"
                              : e == 't'  ? "\t"
                              : e == '"'  ? "\""
                              : e == '\\' ? "\\"
                              : e == '\'' ? "'"
                                          : NULL;
            if (rep) {
                buf_add(b, rep, 1);
                c->pos += 2;
                continue;
            }
        }
        buf_add(b, &ch, 1);
        c->pos++;
    }
    if (at_end(c)) {
        const char *kind = q == '"'    ? "unterminated double-quoted value"
                           : q == '\'' ? "unterminated single-quoted value"
                                       : "unterminated backquoted value";
        return syntax(err, file, first, kind,
                      "close the quote: a quoted value runs until its closing quote, across lines");
    }
    c->pos++;
    skip_blanks(c);
    if (peek(c) == '#')
        skip_comment(c);
    if (!end_of_line(c))
        return syntax(err, file, c->line, "unexpected text after the closing quote",
                      "quote the whole value; a '#' after the closing quote starts a comment");
    return STRATA_OK;
}

/* An unquoted value, c just after '=' and the blanks after it; blank says
   whether there were any (then a '#' right here starts a comment). */
static void unquoted(scan *c, buf *b, int blank)
{
    size_t start = c->pos, n = 0;
    while (start + n < c->len && c->s[start + n] != '\n') {
        char ch = c->s[start + n];
        if (ch == '#' && (n ? c->s[start + n - 1] == ' ' || c->s[start + n - 1] == '\t' : blank))
            break;
        n++;
    }
    c->pos = start + n;
    skip_comment(c);
    end_of_line(c);
    while (n && (c->s[start + n - 1] == ' ' || c->s[start + n - 1] == '\t' || c->s[start + n - 1] == '\r' ||
                 c->s[start + n - 1] == '\f' || c->s[start + n - 1] == '\v'))
        n--;
    buf_add(b, c->s + start, n);
}

/* One definition of the file so far, for ${NAME} in the ones after it;
   unset: the first reference in it that nothing defined (malloc'd). */
typedef struct envdef {
    char *name, *value, *unset;
} envdef;

typedef struct envdefs {
    envdef *v;
    size_t n, cap;
} envdefs;

static void envdefs_release(envdefs *d)
{
    for (size_t i = 0; i < d->n; i++)
        free(d->v[i].name), free(d->v[i].value), free(d->v[i].unset);
    free(d->v);
}

/* The value of NAME (n bytes) for a reference: the environment's, else the
   last definition's; NULL when neither has it. *unset gets the definition's
   own unresolved reference, if any. */
static const char *env_ref(const envdefs *prior, const envdefs *d, const char *name, size_t n,
                           const char **unset)
{
    char key[256];
    *unset = NULL;
    if (n >= sizeof(key))
        return NULL;
    memcpy(key, name, n);
    key[n] = 0;
    const char *v = getenv(key);
    if (v)
        return v;
    /* a file read before this one (.env.local before .env) is in the
       environment by now, for python-dotenv's load_dotenv */
    for (const envdefs *l = prior ? prior : d; l; l = l == prior ? d : NULL)
        for (size_t i = l->n; i-- > 0;)
            if (!strcmp(l->v[i].name, key)) {
                *unset = l->v[i].unset;
                return l->v[i].value;
            }
    return NULL;
}

/* The value in, len bytes, with its ${NAME} and ${NAME:-default} expanded
   into out; *unset (malloc'd) the first reference that nothing defined, or
   a malformed one ("${a b}"), which expands to nothing, and *at its offset
   in in. A "${" without a "}" after it stays as written (python-dotenv). */
static void env_expand(const envdefs *prior, const envdefs *d, const char *in, size_t len, buf *out,
                       char **unset, size_t *at)
{
    *unset = NULL;
    *at = 0;
    for (size_t i = 0; i < len;) {
        if (in[i] != '$' || i + 1 >= len || in[i + 1] != '{') {
            buf_add(out, in + i, 1);
            i++;
            continue;
        }
        const char *close = memchr(in + i, '}', len - i);
        if (!close) { /* no reference: kept as written */
            buf_add(out, in + i, 2);
            i += 2;
            continue;
        }
        /* ${NAME} or ${NAME:-default}: names hold no '}', so the first one
           ends the reference */
        size_t end = (size_t)(close - in), k = i + 2;
        while (k < end && name_char(in[k]))
            k++;
        size_t name = i + 2, nlen = k - name;
        const char *dflt = NULL;
        size_t dlen = 0;
        if (k + 1 < end && in[k] == ':' && in[k + 1] == '-') {
            dflt = in + k + 2;
            dlen = end - (k + 2);
            k = end;
        }
        if (k != end || !nlen) {
            if (!*unset) {
                *unset = xstrndup(in + i, end + 1 - i);
                *at = i;
            }
            i = end + 1;
            continue;
        }
        const char *inner = NULL;
        const char *v = env_ref(prior, d, in + name, nlen, &inner);
        if (v)
            buf_adds(out, v);
        else if (dflt)
            buf_add(out, dflt, dlen);
        if (!*unset && (inner || (!v && !dflt))) {
            *unset = inner ? xstrdup(inner) : xstrndup(in + i, k + 1 - i);
            *at = i;
        }
        i = k + 1;
    }
}

/* env_text_lookup, with the definitions of a file read before (prior, may
   be NULL) seen by references; keep (may be NULL) takes this file's. */
static strata_code env_scan(const char *text, size_t len, const char *name, char **value, const char *file,
                            const envdefs *prior, envdefs *keep, strata_error *err)
{
    scan c = {text, len, 0, 1};
    buf b, x;
    envdefs defs = {0};
    char *unset = NULL; /* the value asked for: its unresolved reference */
    int vline = 0, hidden = 0;
    strata_code rc = STRATA_OK;
    *value = NULL;
    if (len >= 2 && ((text[0] == '\xff' && text[1] == '\xfe') || (text[0] == '\xfe' && text[1] == '\xff')))
        return syntax(err, file, 1, "the file is UTF-16; strata reads UTF-8 env files",
                      "save the file as UTF-8");
    if (memchr(text, 0, len)) {
        const char *nul = memchr(text, 0, len);
        int line = 1;
        for (const char *p = text; p < nul; p++)
            line += *p == '\n';
        return syntax(err, file, line, "unexpected NUL byte", "save the file as UTF-8 text");
    }
    if (len >= 3 && !memcmp(text, "\xef\xbb\xbf", 3))
        c.pos = 3;
    buf_init(&b);
    buf_init(&x);
    while (!at_end(&c)) {
        skip_blanks(&c);
        if (end_of_line(&c))
            continue;
        if (peek(&c) == '#') {
            skip_comment(&c);
            end_of_line(&c);
            continue;
        }
        if (c.len - c.pos > 7 && !memcmp(c.s + c.pos, "export", 6) &&
            (c.s[c.pos + 6] == ' ' || c.s[c.pos + 6] == '\t')) {
            size_t save = c.pos;
            c.pos += 6;
            skip_blanks(&c);
            if (!name_char(peek(&c)))
                c.pos = save; /* "export = 1" defines a variable named export */
        }
        size_t key = c.pos;
        while (!at_end(&c) && name_char(peek(&c)))
            c.pos++;
        size_t klen = c.pos - key;
        if (!klen) {
            rc = syntax(err, file, c.line, "expected NAME=VALUE", "comment the line out with '#'");
            goto out;
        }
        int mine = name && strlen(name) == klen && !memcmp(text + key, name, klen);
        skip_blanks(&c);
        if (peek(&c) == '#')
            skip_comment(&c);
        if (end_of_line(&c))
            continue; /* a bare NAME: sets nothing */
        if (peek(&c) != '=') {
            rc = syntax(err, file, c.line, "expected '=' after the variable name",
                        "write NAME=VALUE; quote a value that has blanks in it");
            goto out;
        }
        c.pos++;
        size_t before = c.pos;
        int line = c.line;
        skip_blanks(&c);
        buf_reset(&b);
        char q = peek(&c);
        if (q == '"' || q == '\'' || q == '`') {
            if ((rc = quoted(&c, &b, file, err)))
                goto out;
        } else {
            unquoted(&c, &b, c.pos > before);
        }
        char *u = NULL;
        size_t at = 0;
        buf_reset(&x);
        if (q == '`')
            buf_add(&x, b.data ? b.data : "", b.len);
        else
            env_expand(prior, &defs, b.data ? b.data : "", b.len, &x, &u, &at);
        if (ARR_GROW(defs.v, defs.cap, defs.n + 1)) {
            free(u);
            rc = err_set(err, STRATA_NOMEM, "out of memory");
            goto out;
        }
        envdef *e = &defs.v[defs.n++];
        e->name = xstrndup(text + key, klen);
        e->value = xstrndup(x.data ? x.data : "", x.len);
        e->unset = u;
        if (!e->name || !e->value) {
            rc = err_set(err, STRATA_NOMEM, "out of memory");
            goto out;
        }
        if (mine) {
            free(*value);
            free(unset);
            *value = xstrdup(e->value);
            unset = u ? xstrdup(u) : NULL;
            vline = line;
            /* in a URL's user or password part: the error must not show it */
            const char *sep = b.data && u ? memmem(b.data, b.len, "://", 3) : NULL;
            hidden = sep && (size_t)(sep - b.data) + 3 <= at && memchr(b.data + at, '@', b.len - at);
            if (!*value || (u && !unset)) {
                rc = err_set(err, STRATA_NOMEM, "out of memory");
                goto out;
            }
        }
    }
    if (unset) {
        /* ${NAME} that nothing defines, or something else after "${" */
        size_t k = 2, n = strlen(unset);
        while (k < n && name_char(unset[k]))
            k++;
        int plain = k > 2 && k + 1 == n && unset[k] == '}';
        char what[400];
        if (hidden) /* never a piece of a password in a message */
            snprintf(what, sizeof(what), "a ${...} reference in the URL's user or password part is %s",
                     plain ? "not set (in the environment or earlier in the file)"
                           : "not one strata can expand (${NAME} or ${NAME:-default})");
        else
            snprintf(
                what, sizeof(what),
                plain ? "%.*s%s is not set (in the environment or earlier in the file)"
                      : "%.*s%s is not a variable reference strata can expand (${NAME} or ${NAME:-default})",
                200, unset, n > 200 ? "..." : "");
        rc = syntax(err, file, vline, what,
                    "set it, or give it a default: ${NAME:-value}; a '$' that belongs to the value is %24 in "
                    "a URL (backquotes also keep '${' as written)");
    }
out:
    if ((b.oom || x.oom) && !rc)
        rc = err_set(err, STRATA_NOMEM, "out of memory");
    buf_release(&b);
    buf_release(&x);
    if (keep && !rc) {
        *keep = defs;
        defs.v = NULL, defs.n = defs.cap = 0;
    }
    envdefs_release(&defs);
    free(unset);
    if (rc) {
        free(*value);
        *value = NULL;
    }
    return rc;
}

strata_code env_text_lookup(const char *text, size_t len, const char *name, char **value, const char *file,
                            strata_error *err)
{
    return env_scan(text, len, name, value, file, NULL, NULL, err);
}

static strata_code env_file_scan(const char *path, const char *name, char **value, const envdefs *prior,
                                 envdefs *keep, strata_error *err)
{
    enum { MAX_ENV_FILE = 1 << 20 };
    *value = NULL;
    /* non-blocking, so that a FIFO cannot hang the open; fstat looks at
       what was opened */
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY);
    struct stat st;
    if (fd < 0 || fstat(fd, &st) != 0) {
        int e = errno;
        if (fd >= 0)
            close(fd);
        if (e == ENOENT)
            return STRATA_OK;
        err_set(err, STRATA_CONFIG_ERROR, "cannot read env file '%s': %s", path, strerror(e));
        return STRATA_CONFIG_ERROR;
    }
    if (!S_ISREG(st.st_mode)) {
        close(fd);
        err_set(err, STRATA_FILE_NOT_REGULAR, "cannot read env file '%s': it is %s, not a regular file", path,
                file_kind(st.st_mode));
        return STRATA_FILE_NOT_REGULAR;
    }
    FILE *f = fdopen(fd, "rb");
    if (!f) {
        close(fd);
        return err_set(err, STRATA_NOMEM, "out of memory");
    }
    buf b;
    char chunk[8192];
    size_t n;
    buf_init(&b);
    while (b.len <= MAX_ENV_FILE && (n = fread(chunk, 1, sizeof(chunk), f)) > 0)
        buf_add(&b, chunk, n);
    int bad = ferror(f);
    fclose(f);
    strata_code rc;
    if (bad)
        rc = err_set(err, STRATA_CONFIG_ERROR, "cannot read env file '%s'", path);
    else if (b.oom)
        rc = err_set(err, STRATA_NOMEM, "out of memory");
    else if (b.len > MAX_ENV_FILE)
        rc = err_set(err, STRATA_CONFIG_ERROR, "env file '%s' is larger than 1 MiB", path);
    else
        rc = env_scan(b.data ? b.data : "", b.len, name, value, path, prior, keep, err);
    buf_release(&b);
    return rc;
}

strata_code env_file_lookup(const char *path, const char *name, char **value, strata_error *err)
{
    return env_file_scan(path, name, value, NULL, NULL, err);
}

strata_code env_files_lookup(const char *first, const char *second, const char *name, char **value,
                             const char **found, strata_error *err)
{
    envdefs prior = {0};
    *found = first;
    strata_code rc = env_file_scan(first, name, value, NULL, &prior, err);
    if (!rc && !*value) {
        *found = second;
        rc = env_file_scan(second, name, value, &prior, NULL, err);
    }
    envdefs_release(&prior);
    return rc;
}

double env_seconds(const char *name, double def, double max)
{
    const char *v = getenv(name);
    char *end;
    if (!v || !*v)
        return def;
    double x = c_strtod(v, &end);
    return *end || !(x >= 0 && x <= max) ? def : x;
}
