/*
 * sqlnorm.c -- a small SQL tokenizer and a canonical one-line rendering of
 * token runs, for the schema dump of SQLite, where CHECK constraints, index,
 * view and trigger definitions only exist as the SQL text the user wrote.
 *
 * The rendering is for comparison, not for execution: two texts that differ
 * only in whitespace, comments, letter case of keywords and unquoted
 * identifiers (SQLite folds both) or needless identifier quotes render the
 * same. String literals are kept byte for byte.
 */
#include "internal.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>

static int is_ident_start(unsigned char c)
{
    return isalpha(c) || c == '_' || c >= 0x80;
}

static int is_ident_char(unsigned char c)
{
    return isalnum(c) || c == '_' || c == '$' || c >= 0x80;
}

/* A PostgreSQL dollar quote's tag character ($tag$: no '$', no digit first). */
static int is_tag_char(unsigned char c)
{
    return isalnum(c) || c == '_' || c >= 0x80;
}

/* Length of the token starting at s (never 0 unless *s is NUL); sets kind. */
static size_t lex_one(const char *s, int *kind)
{
    unsigned char c = (unsigned char)s[0];
    size_t i = 1;
    if ((c == 'x' || c == 'X') && s[1] == '\'') /* blob literal */
        return 1 + lex_one(s + 1, kind);
    if ((c == 'e' || c == 'E') && s[1] == '\'') {
        /* PostgreSQL's escape string: \' is a quote inside it */
        for (i = 2; s[i]; i++) {
            if (s[i] == '\\' && s[i + 1]) {
                i++;
            } else if (s[i] == '\'') {
                if (s[i + 1] != '\'') {
                    i++;
                    break;
                }
                i++;
            }
        }
        *kind = TOK_STRING;
        return i;
    }
    if (c == '$' && (s[1] == '$' || (is_tag_char((unsigned char)s[1]) && !isdigit((unsigned char)s[1])))) {
        /* $tag$ ... $tag$: one string, its body as written */
        size_t t = 1;
        while (is_tag_char((unsigned char)s[t]))
            t++;
        if (s[t] == '$') {
            size_t tag = t + 1;
            const char *e = s + tag;
            while (*e && strncmp(e, s, tag))
                e++;
            *kind = TOK_STRING;
            return *e ? (size_t)(e - s) + tag : strlen(s);
        }
    }
    if (c == '\'') {
        for (;;) {
            if (!s[i])
                break;
            if (s[i] == '\'') {
                i++;
                if (s[i] != '\'')
                    break;
            }
            i++;
        }
        *kind = TOK_STRING;
        return i;
    }
    if (c == '"' || c == '`' || c == '[') {
        char close = c == '[' ? ']' : (char)c;
        for (;;) {
            if (!s[i])
                break;
            if (s[i] == close) {
                i++;
                if (close == ']' || s[i] != close)
                    break;
            }
            i++;
        }
        *kind = TOK_QIDENT;
        return i;
    }
    if (is_ident_start(c)) {
        while (is_ident_char((unsigned char)s[i]))
            i++;
        *kind = TOK_WORD;
        return i;
    }
    if (isdigit(c) || (c == '.' && isdigit((unsigned char)s[1]))) {
        while (isalnum((unsigned char)s[i]) || s[i] == '.' ||
               ((s[i] == '+' || s[i] == '-') && (s[i - 1] == 'e' || s[i - 1] == 'E')))
            i++;
        *kind = TOK_NUM;
        return i;
    }
    *kind = TOK_PUNCT;
    static const char *ops[] = {"->>", "||", "<=", ">=", "<>", "!=", "==", "<<", ">>", "->", "::", NULL};
    for (int k = 0; ops[k]; k++)
        if (!strncmp(s, ops[k], strlen(ops[k])))
            return strlen(ops[k]);
    return 1;
}

size_t sql_tokenize(const char *sql, sql_tok **out)
{
    size_t n = 0, cap = 0;
    sql_tok *v = NULL;
    const char *p = sql;
    *out = NULL;
    for (;;) {
        while (*p && isspace((unsigned char)*p))
            p++;
        if (p[0] == '-' && p[1] == '-') {
            /* to a newline, or a carriage return as PostgreSQL ends it (for
               SQLite, where the comment runs on, the code after a CR then
               counts as SQL: a change there is never taken for none) */
            while (*p && *p != '\n' && *p != '\r')
                p++;
            continue;
        }
        if (p[0] == '/' && p[1] == '*') {
            const char *e = strstr(p + 2, "*/");
            p = e ? e + 2 : p + strlen(p);
            continue;
        }
        if (!*p)
            break;
        if (ARR_GROW(v, cap, n + 1)) {
            free(v);
            return (size_t)-1;
        }
        int kind;
        size_t len = lex_one(p, &kind);
        len = strnlen(p, len); /* never past the end (strlen here made it quadratic) */
        v[n].s = p;
        v[n].n = len;
        v[n].kind = kind;
        n++;
        p += len;
    }
    *out = v;
    return n;
}

int tok_is(const sql_tok *t, const char *word)
{
    return t->kind == TOK_WORD && strlen(word) == t->n && !c_strncasecmp(t->s, word, t->n);
}

int tok_punct(const sql_tok *t, char c)
{
    return t->kind == TOK_PUNCT && t->n == 1 && t->s[0] == c;
}

/* Words after which "(" keeps its space: keywords, not function names. */
static int spaced_before_paren(const sql_tok *t)
{
    static const char *kw[] = {
        "and",       "or",     "not",   "in",      "on",   "as",         "exists",    "when",     "then",
        "else",      "is",     "check", "where",   "key",  "references", "unique",    "using",    "values",
        "default",   "filter", "over",  "select",  "from", "join",       "begin",     "end",      "case",
        "like",      "glob",   "match", "between", "with", "union",      "all",       "distinct", "by",
        "returning", "set",    "into",  "collate", "desc", "asc",        "recursive", "except",   "intersect",
        "table",     "view",   "index", "trigger", "row",  "each",       "for",       NULL};
    if (t->kind != TOK_WORD)
        return 1;
    for (int i = 0; kw[i]; i++)
        if (tok_is(t, kw[i]))
            return 1;
    return 0;
}

/* A quoted identifier whose content is a plain identifier renders bare
   (strict: only when it is in lower case already, so that "Users", a name
   of its own on PostgreSQL and a string in SQLite's VALUES("Users"), stays
   as written). */
static void add_qident(buf *out, const sql_tok *t, int strict)
{
    char close = t->s[0] == '[' ? ']' : t->s[0];
    const char *s = t->s + 1;
    size_t n = t->n >= 2 && t->s[t->n - 1] == close ? t->n - 2 : t->n - 1;
    int plain = n > 0 && is_ident_start((unsigned char)s[0]);
    for (size_t i = 0; plain && i < n; i++)
        plain = is_ident_char((unsigned char)s[i]) && (!strict || c_tolower((unsigned char)s[i]) == s[i]);
    if (!plain && strict) {
        buf_add(out, t->s, t->n);
        return;
    }
    if (plain) {
        for (size_t i = 0; i < n; i++) {
            char c = (char)c_tolower((unsigned char)s[i]);
            buf_add(out, &c, 1);
        }
        return;
    }
    buf_adds(out, "\"");
    for (size_t i = 0; i < n; i++) {
        if (s[i] == close && close != ']' && i + 1 < n && s[i + 1] == close)
            i++; /* a doubled quote inside */
        if (s[i] == '"')
            buf_adds(out, "\"");
        buf_add(out, &s[i], 1);
    }
    buf_adds(out, "\"");
}

static void norm(const sql_tok *t, size_t n, buf *out, int strict)
{
    for (size_t i = 0; i < n; i++) {
        if (i > 0) {
            const sql_tok *p = &t[i - 1];
            int space = 1;
            if (tok_punct(p, '(') || tok_punct(p, '.') || tok_punct(&t[i], ')') || tok_punct(&t[i], ',') ||
                tok_punct(&t[i], ';') || tok_punct(&t[i], '.'))
                space = 0;
            else if (tok_punct(&t[i], '(') && (p->kind == TOK_QIDENT || !spaced_before_paren(p)))
                space = 0;
            if (space)
                buf_adds(out, " ");
        }
        if (t[i].kind == TOK_WORD) {
            for (size_t k = 0; k < t[i].n; k++) {
                char c = (char)c_tolower((unsigned char)t[i].s[k]);
                buf_add(out, &c, 1);
            }
        } else if (t[i].kind == TOK_QIDENT) {
            add_qident(out, &t[i], strict);
        } else {
            buf_add(out, t[i].s, t[i].n);
        }
    }
}

void sql_norm(const sql_tok *t, size_t n, buf *out)
{
    norm(t, n, out, 0);
}

size_t tok_match_paren(const sql_tok *t, size_t n, size_t open)
{
    int depth = 0;
    for (size_t i = open; i < n; i++) {
        if (tok_punct(&t[i], '('))
            depth++;
        else if (tok_punct(&t[i], ')') && --depth == 0)
            return i;
    }
    return n;
}

void sql_norm_checksum(const char *sql, char out[65])
{
    sql_tok *t = NULL;
    size_t n = sql ? sql_tokenize(sql, &t) : 0;
    buf b;
    buf_init(&b);
    if (n != (size_t)-1)
        norm(t, n, &b, 1);
    checksum_text(b.data ? b.data : "", b.len, out);
    buf_release(&b);
    free(t);
}
