/*
 * sqlsplit.c -- splits SQL text into statements.
 *
 * A small lexer, not a parser: it knows quotes, comments and the few block
 * constructs whose bodies hold semicolons (dollar quotes, E'' strings,
 * BEGIN ATOMIC ... END function bodies, trigger BEGIN ... END bodies, and
 * CASE ... END inside those, parentheses as in CREATE RULE ... DO (a; b)),
 * which is all that is needed to find the semicolons that end top-level
 * statements.
 */
#include "internal.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>

static int ident_start(unsigned char c)
{
    return isalpha(c) || c == '_' || c >= 0x80;
}

static int ident_char(unsigned char c)
{
    return isalnum(c) || c == '_' || c == '$' || c >= 0x80;
}

/* Skips a quoted run starting at s[i] (the opening quote q) and returns the
   index after the closing quote; doubled quotes stay inside. backslash: E''.
   Unterminated, it runs to the end and sets *open (when open is not NULL). */
static size_t skip_quoted_open(const char *s, size_t i, size_t len, char q, int backslash, int *line,
                               int *open)
{
    i++;
    while (i < len) {
        char c = s[i];
        if (c == '\n')
            (*line)++;
        if (backslash && c == '\\' && i + 1 < len) {
            if (s[i + 1] == '\n')
                (*line)++;
            i += 2;
            continue;
        }
        if (c == q) {
            if (i + 1 < len && s[i + 1] == q) {
                i += 2;
                continue;
            }
            return i + 1;
        }
        i++;
    }
    if (open)
        *open = 1;
    return len;
}

static size_t skip_quoted(const char *s, size_t i, size_t len, char q, int backslash, int *line)
{
    return skip_quoted_open(s, i, len, q, backslash, line, NULL);
}

int sql_word_is(const char *w, size_t n, const char *kw)
{
    return strlen(kw) == n && c_strncasecmp(w, kw, n) == 0;
}

/* The end of a dollar quote opened at s[i] ('$'), or 0 when s[i] does not open
   one ($1 is a parameter, a$b an identifier). Unterminated, it runs to the
   end and sets *open (when open is not NULL). */
static size_t dollar_quote_open_end(const char *s, size_t i, size_t len, int *line, int *open)
{
    size_t j = i + 1;
    if (j >= len || !(ident_start((unsigned char)s[j]) || s[j] == '$'))
        return 0;
    while (j < len && s[j] != '$' && ident_char((unsigned char)s[j]))
        j++;
    if (j >= len || s[j] != '$')
        return 0;
    size_t taglen = j - i + 1, k = j + 1;
    while (k < len) {
        if (s[k] == '$' && k + taglen <= len && memcmp(s + k, s + i, taglen) == 0)
            return k + taglen;
        if (s[k] == '\n')
            (*line)++;
        k++;
    }
    if (open)
        *open = 1;
    return len;
}

static size_t dollar_quote_end(const char *s, size_t i, size_t len, int *line)
{
    return dollar_quote_open_end(s, i, len, line, NULL);
}

/* The end of the block comment that starts at s[i] (slash, star), counting its
   newlines into *line. PostgreSQL's comments nest; SQLite's do not. An
   unterminated comment runs to the end (and sets *open when open is not
   NULL). */
static size_t skip_block_comment_open(const char *s, size_t len, size_t i, int dialect, int *line, int *open)
{
    int nest = 1;
    i += 2;
    while (i < len && nest) {
        if (s[i] == '\n')
            (*line)++;
        if (s[i] == '*' && i + 1 < len && s[i + 1] == '/') {
            nest--;
            i += 2;
        } else if (dialect != DIALECT_SQLITE && s[i] == '/' && i + 1 < len && s[i + 1] == '*') {
            nest++;
            i += 2;
        } else {
            i++;
        }
    }
    if (nest && open)
        *open = 1;
    return i;
}

/* The end of a "--" comment that starts at i: its newline -- or, for
   PostgreSQL, a carriage return too (its lexer's non_newline is [^\n\r]:
   "-- x\rINSERT ..." runs the INSERT); SQLite's ends at a newline only. */
static size_t line_comment_end(const char *s, size_t len, size_t i, int dialect)
{
    while (i < len && s[i] != '\n' && (dialect == DIALECT_SQLITE || s[i] != '\r'))
        i++;
    return i;
}

static size_t skip_block_comment(const char *s, size_t len, size_t i, int dialect, int *line)
{
    return skip_block_comment_open(s, len, i, dialect, line, NULL);
}

int sql_token_next(const char *s, size_t len, size_t *pos, int *line, int dialect, int comments,
                   sql_token *tok)
{
    int nonstd = (dialect & SQL_NONSTD_STRINGS) != 0;
    dialect &= ~SQL_NONSTD_STRINGS;
    size_t i = *pos;
    for (;;) {
        while (i < len && isspace((unsigned char)s[i])) {
            if (s[i] == '\n')
                (*line)++;
            i++;
        }
        if (i >= len) {
            *pos = len;
            memset(tok, 0, sizeof(*tok));
            tok->text = s + len;
            tok->line = *line;
            return SQLTOK_END;
        }
        size_t start = i;
        int start_line = *line;
        if (s[i] == '-' && i + 1 < len && s[i + 1] == '-') {
            i = line_comment_end(s, len, i, dialect);
        } else if (s[i] == '/' && i + 1 < len && s[i + 1] == '*') {
            i = skip_block_comment(s, len, i, dialect, line);
        } else {
            break;
        }
        if (comments) {
            *pos = i;
            tok->kind = SQLTOK_COMMENT;
            tok->text = s + start;
            tok->len = i - start;
            tok->line = start_line;
            return SQLTOK_COMMENT;
        }
    }

    size_t start = i;
    unsigned char c = (unsigned char)s[i];
    int kind;
    tok->line = *line;
    if (c == '\'') {
        i = skip_quoted(s, i, len, '\'', nonstd && dialect != DIALECT_SQLITE, line);
        kind = SQLTOK_STRING;
    } else if (c == '"' || (dialect == DIALECT_SQLITE && c == '`')) {
        i = skip_quoted(s, i, len, (char)c, 0, line);
        kind = SQLTOK_QUOTED;
    } else if (dialect == DIALECT_SQLITE && c == '[') {
        i = skip_quoted(s, i, len, ']', 0, line);
        kind = SQLTOK_QUOTED;
    } else if (c == '$' && dialect != DIALECT_SQLITE && (i = dollar_quote_end(s, start, len, line)) != 0) {
        kind = SQLTOK_STRING;
    } else if (c == '$' || c == '?' || ((c == ':' || c == '@') && dialect == DIALECT_SQLITE)) {
        i = start + 1;
        while (i < len && ident_char((unsigned char)s[i]))
            i++;
        kind = SQLTOK_PARAM;
    } else if (ident_start(c)) {
        size_t j = i;
        while (j < len && ident_char((unsigned char)s[j]))
            j++;
        if (j - i == 1 && (c == 'E' || c == 'e') && j < len && s[j] == '\'' && dialect != DIALECT_SQLITE) {
            i = skip_quoted(s, j, len, '\'', 1, line);
            kind = SQLTOK_STRING;
        } else {
            i = j;
            kind = SQLTOK_WORD;
        }
    } else if (isdigit(c) || (c == '.' && i + 1 < len && isdigit((unsigned char)s[i + 1]))) {
        while (i < len && (isalnum((unsigned char)s[i]) || s[i] == '.' || s[i] == '_' ||
                           ((s[i] == '+' || s[i] == '-') && (s[i - 1] == 'e' || s[i - 1] == 'E'))))
            i++;
        kind = SQLTOK_NUMBER;
    } else {
        i++;
        if (c == ':' && i < len && s[i] == ':')
            i++;
        kind = SQLTOK_PUNCT;
    }
    *pos = i;
    tok->kind = kind;
    tok->text = s + start;
    tok->len = i - start;
    return kind;
}

static void nth_word(const sql_stmt *st, int n, char *out, size_t outsz);
static int nonstd_after(const sql_stmt *st, int cur, int initial);

size_t sql_next_line(const char *s, size_t len, size_t i, sql_lines *lx, size_t *open_at)
{
    int line = 0, open = 0, nonstd = (lx->dialect & SQL_NONSTD_STRINGS) != 0;
    int dialect = lx->dialect & ~SQL_NONSTD_STRINGS;
    while (i < len && s[i] != '\n') {
        unsigned char c = (unsigned char)s[i];
        size_t start = i, j;
        if (c == '-' && i + 1 < len && s[i + 1] == '-') {
            i = line_comment_end(s, len, i, dialect);
            if (i >= len || s[i] == '\n')
                break;
            i++; /* a carriage return ended it (PostgreSQL): the line goes on */
        } else if (c == '/' && i + 1 < len && s[i + 1] == '*') {
            i = skip_block_comment_open(s, len, i, dialect, &line, &open);
        } else if (c == '\'' || c == '"') {
            i = skip_quoted_open(s, i, len, (char)c, c == '\'' && nonstd, &line, &open);
        } else if (dialect == DIALECT_SQLITE && (c == '`' || c == '[')) {
            i = skip_quoted_open(s, i, len, c == '[' ? ']' : '`', 0, &line, &open);
        } else if (c == '$' && dialect != DIALECT_SQLITE &&
                   (j = dollar_quote_open_end(s, i, len, &line, &open))) {
            i = j;
        } else if (ident_start(c)) {
            j = i;
            while (j < len && ident_char((unsigned char)s[j]))
                j++;
            if (j - i == 1 && (c == 'E' || c == 'e') && j < len && s[j] == '\'' && dialect != DIALECT_SQLITE)
                j = skip_quoted_open(s, j, len, '\'', 1, &line, &open);
            i = j;
        } else if (c == ';' && dialect != DIALECT_SQLITE) { /* did it SET standard_conforming_strings? */
            sql_stmt st;
            memset(&st, 0, sizeof(st));
            st.text = s + lx->stmt;
            st.len = i - lx->stmt;
            nth_word(&st, 1, st.first, sizeof(st.first));
            nonstd = nonstd_after(&st, nonstd, 0);
            lx->dialect = dialect | (nonstd ? SQL_NONSTD_STRINGS : 0);
            lx->stmt = ++i;
        } else {
            i++;
        }
        if (open) {
            *open_at = start;
            return len;
        }
    }
    return i < len ? i + 1 : len;
}

/* After st: whether strings take backslash escapes (standard_conforming_
   strings off), as psql follows it from the server. cur is the state st was
   lexed in, initial the session's default (for RESET and DEFAULT). */
static int nonstd_after(const sql_stmt *st, int cur, int initial)
{
    if (strcmp(st->first, "SET") && strcmp(st->first, "RESET"))
        return cur;
    size_t pos = 0;
    int line = 0, n = 0, kind;
    sql_token t[5];
    while (n < 5 &&
           (kind = sql_token_next(st->text, st->len, &pos, &line, DIALECT_POSTGRES, 0, &t[n])) != SQLTOK_END)
        n++;
    int k = 1;
    if (k < n && t[k].kind == SQLTOK_WORD &&
        (sql_word_is(t[k].text, t[k].len, "SESSION") || sql_word_is(t[k].text, t[k].len, "LOCAL")))
        k++;
    if (!strcmp(st->first, "RESET"))
        return n == 2 && t[1].kind == SQLTOK_WORD &&
                       (sql_word_is(t[1].text, t[1].len, "ALL") ||
                        sql_word_is(t[1].text, t[1].len, "standard_conforming_strings"))
                   ? initial
                   : cur;
    if (k + 2 >= n || t[k].kind != SQLTOK_WORD ||
        !sql_word_is(t[k].text, t[k].len, "standard_conforming_strings") ||
        !((t[k + 1].kind == SQLTOK_PUNCT && t[k + 1].text[0] == '=') ||
          (t[k + 1].kind == SQLTOK_WORD && sql_word_is(t[k + 1].text, t[k + 1].len, "TO"))))
        return cur;
    const sql_token *v = &t[k + 2];
    const char *w = v->text;
    size_t wl = v->len;
    if (v->kind == SQLTOK_STRING && wl >= 2 && w[0] == '\'') {
        w++;
        wl -= 2;
    }
    if (sql_word_is(w, wl, "off") || sql_word_is(w, wl, "false") || sql_word_is(w, wl, "no") ||
        sql_word_is(w, wl, "0"))
        return 1;
    if (sql_word_is(w, wl, "on") || sql_word_is(w, wl, "true") || sql_word_is(w, wl, "yes") ||
        sql_word_is(w, wl, "1"))
        return 0;
    if (sql_word_is(w, wl, "DEFAULT"))
        return initial;
    return cur;
}

int sql_split(const char *s, size_t len, int dialect, sql_stmt_fn fn, void *ud)
{
    size_t i = 0, start = 0;
    int line = 1, start_line = 0, have = 0, ntok = 0, create = 0, routine = 0, depth = 0;
    int paren = 0;
    /* standard_conforming_strings off: '...' takes backslash escapes too */
    int nonstd0 = (dialect & SQL_NONSTD_STRINGS) != 0, nonstd = nonstd0;
    dialect &= ~SQL_NONSTD_STRINGS;
    if (dialect == DIALECT_SQLITE)
        nonstd0 = nonstd = 0;
    sql_stmt st;
    memset(&st, 0, sizeof(st));

    while (i <= len) {
        if (i == len || (s[i] == ';' && depth == 0 && paren == 0)) {
            if (have) {
                st.text = s + start;
                st.len = i - start;
                st.line = start_line;
                st.nonstd = nonstd;
                st.sqlite = dialect == DIALECT_SQLITE;
                int rc = fn(ud, &st);
                if (rc)
                    return rc;
                if (dialect != DIALECT_SQLITE)
                    nonstd = nonstd_after(&st, nonstd, nonstd0);
            }
            memset(&st, 0, sizeof(st));
            have = ntok = create = routine = depth = paren = 0;
            i++;
            continue;
        }
        unsigned char c = (unsigned char)s[i];
        if (c == '\n') {
            line++;
            i++;
            continue;
        }
        if (isspace(c)) {
            i++;
            continue;
        }
        if (c == '-' && i + 1 < len && s[i + 1] == '-') {
            i = line_comment_end(s, len, i, dialect);
            continue;
        }
        if (c == '/' && i + 1 < len && s[i + 1] == '*') {
            i = skip_block_comment(s, len, i, dialect, &line);
            continue;
        }
        if (c == ';') { /* inside a BEGIN..END body or parentheses */
            i++;
            continue;
        }
        if (!have) {
            have = 1;
            start = i;
            start_line = line;
        }
        if (c == '\'') {
            i = skip_quoted(s, i, len, '\'', nonstd, &line);
            continue;
        }
        if (c == '"') {
            i = skip_quoted(s, i, len, '"', 0, &line);
            continue;
        }
        if (dialect == DIALECT_SQLITE && c == '`') {
            i = skip_quoted(s, i, len, '`', 0, &line);
            continue;
        }
        if (dialect == DIALECT_SQLITE && c == '[') {
            i = skip_quoted(s, i, len, ']', 0, &line);
            continue;
        }
        if (c == '$' && dialect != DIALECT_SQLITE) {
            size_t j = i + 1;
            if (j < len && (ident_start((unsigned char)s[j]) || s[j] == '$')) {
                while (j < len && s[j] != '$' && ident_char((unsigned char)s[j]))
                    j++;
                if (j < len && s[j] == '$') {
                    size_t taglen = j - i + 1;
                    const char *tag = s + i;
                    size_t k = j + 1;
                    while (k < len) {
                        if (s[k] == '$' && k + taglen <= len && memcmp(s + k, tag, taglen) == 0)
                            break;
                        if (s[k] == '\n')
                            line++;
                        k++;
                    }
                    i = k < len ? k + taglen : len;
                    continue;
                }
            }
            i++;
            while (i < len && isdigit((unsigned char)s[i]))
                i++;
            continue;
        }
        if (ident_start(c)) {
            size_t j = i;
            while (j < len && ident_char((unsigned char)s[j]))
                j++;
            const char *w = s + i;
            size_t n = j - i;
            if (n == 1 && (c == 'E' || c == 'e') && j < len && s[j] == '\'' && dialect != DIALECT_SQLITE) {
                i = skip_quoted(s, j, len, '\'', 1, &line);
                continue;
            }
            ntok++;
            if (ntok <= 2) {
                char *dst = ntok == 1 ? st.first : st.second;
                size_t k;
                for (k = 0; k < n && k < sizeof(st.first) - 1; k++)
                    dst[k] = (char)c_toupper((unsigned char)w[k]);
                dst[k] = 0;
            }
            /* psql's rule: a body only in CREATE [OR REPLACE] FUNCTION or
               PROCEDURE (and SQLite's CREATE [TEMP] TRIGGER), and BEGIN,
               CASE, END count only outside parentheses, so a column or
               parameter named begin opens nothing */
            if (create && paren == 0) {
                if (sql_word_is(w, n, "FUNCTION") || sql_word_is(w, n, "PROCEDURE") ||
                    sql_word_is(w, n, "TRIGGER"))
                    routine = 1;
                if (ntok > 1 && !sql_word_is(w, n, "OR") && !sql_word_is(w, n, "REPLACE") &&
                    !sql_word_is(w, n, "TEMP") && !sql_word_is(w, n, "TEMPORARY"))
                    create = 0;
            }
            if (ntok == 1 && sql_word_is(w, n, "CREATE"))
                create = 1;
            if (routine && paren == 0) {
                if (sql_word_is(w, n, "BEGIN"))
                    depth++;
                else if (depth > 0 && sql_word_is(w, n, "CASE"))
                    depth++;
                else if (depth > 0 && sql_word_is(w, n, "END"))
                    depth--;
            }
            i = j;
            continue;
        }
        if (c == '(')
            paren++;
        else if (c == ')' && paren > 0)
            paren--;
        i++;
    }
    return 0;
}

/* The n-th word (1-based) of a statement that starts with plain words,
   upper-cased into out; "" when the statement has fewer leading words. */
static void nth_word(const sql_stmt *st, int n, char *out, size_t outsz)
{
    const char *s = st->text;
    size_t i = 0, len = st->len;
    out[0] = 0;
    while (i < len) {
        if (isspace((unsigned char)s[i])) {
            i++;
        } else if (s[i] == '-' && i + 1 < len && s[i + 1] == '-') {
            i = line_comment_end(s, len, i, st->sqlite ? DIALECT_SQLITE : DIALECT_POSTGRES);
        } else if (s[i] == '/' && i + 1 < len && s[i + 1] == '*') {
            i += 2;
            while (i < len && !(s[i] == '*' && i + 1 < len && s[i + 1] == '/'))
                i++;
            i += 2;
        } else if (ident_start((unsigned char)s[i])) {
            size_t j = i;
            while (j < len && ident_char((unsigned char)s[j]))
                j++;
            if (--n == 0) {
                size_t k;
                for (k = 0; k < j - i && k + 1 < outsz; k++)
                    out[k] = (char)c_toupper((unsigned char)s[i + k]);
                out[k] = 0;
                return;
            }
            i = j;
        } else {
            return;
        }
    }
}

int sql_client_command(const sql_stmt *st, int dialect, char *what, size_t whatsz)
{
    size_t pos = 0;
    int line = st->line, paren = 0, ntok = 0, copy = 0, prev_from = 0, prev_to = 0;
    sql_token t;
    if (st->nonstd)
        dialect |= SQL_NONSTD_STRINGS;
    while (sql_token_next(st->text, st->len, &pos, &line, dialect, 0, &t) != SQLTOK_END) {
        ntok++;
        if (t.kind == SQLTOK_PUNCT && (t.text[0] == '\\' || (ntok == 1 && t.text[0] == '.' && pos < st->len &&
                                                             isalpha((unsigned char)st->text[pos])))) {
            /* psql's \connect, \i, \set ...; sqlite3's .read, .mode ...:
               the command runs to the end of its line */
            size_t e = (size_t)(t.text - st->text);
            while (e < st->len && st->text[e] != '\n' && st->text[e] != '\r')
                e++;
            size_t n = (size_t)(st->text + e - t.text);
            if (n > 60)
                snprintf(what, whatsz, "%.57s...", t.text);
            else
                snprintf(what, whatsz, "%.*s", (int)n, t.text);
            return t.line;
        }
        if (t.kind == SQLTOK_PUNCT && t.text[0] == '(')
            paren++;
        else if (t.kind == SQLTOK_PUNCT && t.text[0] == ')' && paren > 0)
            paren--;
        if (ntok == 1)
            copy = t.kind == SQLTOK_WORD && sql_word_is(t.text, t.len, "COPY");
        if (!copy || paren || t.kind != SQLTOK_WORD)
            continue;
        /* PostgreSQL's grammar takes STDIN and STDOUT alike on both sides:
           the client's stream either way */
        int in = sql_word_is(t.text, t.len, "STDIN"), out = sql_word_is(t.text, t.len, "STDOUT");
        if ((prev_from || prev_to) && (in || out)) {
            snprintf(what, whatsz, "COPY ... %s %s", prev_from ? "FROM" : "TO", in ? "STDIN" : "STDOUT");
            return st->line;
        }
        prev_from = sql_word_is(t.text, t.len, "FROM");
        prev_to = sql_word_is(t.text, t.len, "TO");
    }
    return 0;
}

struct client_find {
    int dialect, line;
    char *what;
    size_t whatsz;
};

static int client_find_fn(void *ud, const sql_stmt *st)
{
    struct client_find *f = ud;
    f->line = sql_client_command(st, f->dialect, f->what, f->whatsz);
    return f->line != 0;
}

int sql_find_client_command(const char *s, int dialect, char *what, size_t whatsz)
{
    struct client_find f = {dialect, 0, what, whatsz};
    sql_split(s, strlen(s), dialect, client_find_fn, &f);
    return f.line;
}

void sql_ident_append(buf *out, const char *s, size_t n)
{
    if (n >= 2 && s[0] == '"') {
        for (size_t i = 1; i + 1 < n; i++) {
            buf_add(out, s + i, 1);
            i += s[i] == '"';
        }
        return;
    }
    for (size_t i = 0; i < n; i++) {
        char c = (char)(s[i] >= 'A' && s[i] <= 'Z' ? s[i] + 32 : s[i]);
        buf_add(out, &c, 1);
    }
}

int sql_is_txn_control(const sql_stmt *st)
{
    const char *f = st->first, *s = st->second;
    if (!strcmp(f, "BEGIN") || !strcmp(f, "COMMIT") || !strcmp(f, "END") || !strcmp(f, "ABORT"))
        return 1;
    if (!strcmp(f, "ROLLBACK")) {
        /* ROLLBACK [TRANSACTION | WORK] TO [SAVEPOINT] name stays inside */
        if (!strcmp(s, "TRANSACTION") || !strcmp(s, "WORK")) {
            char third[16];
            nth_word(st, 3, third, sizeof(third));
            return strcmp(third, "TO") != 0;
        }
        return strcmp(s, "TO") != 0;
    }
    if (!strcmp(f, "START"))
        return !strcmp(s, "TRANSACTION");
    return 0;
}

struct tx_follow {
    int sqlite, open, by_savepoint, line;
};
static int tx_follow_fn(void *ud, const sql_stmt *st)
{
    struct tx_follow *o = ud;
    int txn = sql_is_txn_control(st);
    if (txn && (!strcmp(st->first, "BEGIN") || !strcmp(st->first, "START"))) {
        if (!o->open)
            o->line = st->line;
        o->open = 1;
        o->by_savepoint = 0;
    } else if (txn) {
        o->open = 0;
    } else if (o->sqlite && !strcmp(st->first, "SAVEPOINT") && !o->open) {
        o->open = o->by_savepoint = 1;
        o->line = st->line;
    } else if (o->sqlite && !strcmp(st->first, "RELEASE") && o->by_savepoint) {
        o->open = 0; /* the outermost one, as a file cut short would not release */
    }
    return 0;
}

int sql_tx_opener(const char *sql, int dialect, int *by_savepoint)
{
    struct tx_follow o = {(dialect & ~SQL_NONSTD_STRINGS) == DIALECT_SQLITE, 0, 0, 0};
    sql_split(sql, strlen(sql), dialect, tx_follow_fn, &o);
    if (by_savepoint)
        *by_savepoint = o.by_savepoint;
    return o.line;
}
