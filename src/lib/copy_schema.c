/*
 * copy_schema.c -- the SQLite side of strata copy: reading the schema,
 * mapping types and names, translating expressions, writing DDL.
 *
 * Names: SQLite compares names case-insensitively (ASCII only), so folding
 * ASCII letters to lower case can never make two names collide. strata
 * folds them (unless keep_case) so that the application's unquoted SQL keeps
 * working on PostgreSQL, and always writes names double-quoted, so reserved
 * words, spaces, quotes, dots and non-ASCII characters survive unchanged.
 */
#include "copy_internal.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void cwarn_add(cwarn *w, const char *fmt, ...)
{
    va_list ap;
    char msg[1024];
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    if (ARR_GROW(w->v, w->cap, w->n + 1))
        return;
    char *m = xstrdup(msg);
    if (m)
        w->v[w->n++] = m;
}

char *copy_name(const char *src, int keep_case)
{
    char *s = xstrdup(src);
    if (s && !keep_case)
        for (char *p = s; *p; p++)
            if (*p >= 'A' && *p <= 'Z')
                *p = (char)(*p - 'A' + 'a');
    return s;
}

char *pg_name(const char *base, const char *suffix)
{
    buf b;
    buf_init(&b);
    buf_adds(&b, base);
    if (suffix) {
        buf_adds(&b, "_");
        buf_adds(&b, suffix);
    }
    char *s = buf_detach(&b);
    if (!s || strlen(s) <= 63)
        return s;
    /* PostgreSQL would cut it at 63 bytes and names could collide: cut it
       ourselves (at a character boundary) and add a hash of the whole name */
    uint32_t h = 2166136261u;
    for (const char *p = s; *p; p++)
        h = (h ^ (unsigned char)*p) * 16777619u;
    size_t cut = 54;
    while (cut && ((unsigned char)s[cut] & 0xC0) == 0x80)
        cut--;
    snprintf(s + cut, 10, "_%08x", h);
    return s;
}

/* ------------------------------------------------------------ types */

static int has(const char *u, const char *w)
{
    return strstr(u, w) != NULL;
}

void ctype_sql(const ctype *t, buf *b)
{
    switch (t->kind) {
    case K_INT2:
        buf_adds(b, "smallint");
        break;
    case K_INT4:
        buf_adds(b, "integer");
        break;
    case K_INT8:
        buf_adds(b, "bigint");
        break;
    case K_FLOAT4:
        buf_adds(b, "real");
        break;
    case K_FLOAT8:
        buf_adds(b, "double precision");
        break;
    case K_NUMERIC:
        if (t->prec > 0)
            buf_addf(b, "numeric(%d,%d)", t->prec, t->scale);
        else
            buf_adds(b, "numeric");
        break;
    case K_VARCHAR:
        buf_addf(b, "varchar(%d)", t->len);
        break;
    case K_BPCHAR:
        buf_addf(b, "char(%d)", t->len);
        break;
    case K_BYTEA:
        buf_adds(b, "bytea");
        break;
    case K_BOOL:
        buf_adds(b, "boolean");
        break;
    case K_DATE:
        buf_adds(b, "date");
        break;
    case K_TIME:
        buf_adds(b, "time");
        break;
    case K_TIMESTAMP:
        buf_adds(b, "timestamp");
        break;
    case K_TIMESTAMPTZ:
        buf_adds(b, "timestamptz");
        break;
    case K_JSON:
        buf_adds(b, "json");
        break;
    case K_JSONB:
        buf_adds(b, "jsonb");
        break;
    case K_UUID:
        buf_adds(b, "uuid");
        break;
    default:
        buf_adds(b, "text");
        break;
    }
}

void map_decl_type(const char *decl, ctype *t, char **pgtype)
{
    char u[128], base[128];
    int a1 = -1, a2 = -1;
    size_t n = 0;
    for (const char *p = decl ? decl : ""; *p && n + 1 < sizeof(u); p++)
        u[n++] = (char)c_toupper((unsigned char)*p);
    u[n] = 0;
    char *par = strchr(u, '(');
    snprintf(base, sizeof(base), "%.*s", par ? (int)(par - u) : (int)n, u);
    size_t bl = strlen(base);
    while (bl && isspace((unsigned char)base[bl - 1]))
        base[--bl] = 0;
    int nargs = par ? sscanf(par, "(%d ,%d", &a1, &a2) : 0;
    if (nargs < 1)
        a1 = -1;
    /* "TIMESTAMP(3) WITH TIME ZONE": the words after the precision count */
    const char *close = par ? strchr(par, ')') : NULL;
    if (close && !strcmp(base, "TIMESTAMP")) {
        const char *w = close + 1;
        while (isspace((unsigned char)*w))
            w++;
        if (!strcmp(w, "WITH TIME ZONE") || !strcmp(w, "WITHOUT TIME ZONE")) {
            snprintf(base + bl, sizeof(base) - bl, " %s", w);
            bl = strlen(base);
        }
    }
    t->len = t->prec = t->scale = -1;

    if (!strcmp(base, "BOOLEAN") || !strcmp(base, "BOOL"))
        t->kind = K_BOOL;
    else if (!strcmp(base, "DATE"))
        t->kind = K_DATE;
    else if (!strcmp(base, "TIMESTAMPTZ") || !strcmp(base, "TIMESTAMP WITH TIME ZONE") ||
             !strcmp(base, "DATETIMETZ"))
        t->kind = K_TIMESTAMPTZ;
    else if (!strcmp(base, "DATETIME") || !strcmp(base, "TIMESTAMP") ||
             !strcmp(base, "TIMESTAMP WITHOUT TIME ZONE"))
        t->kind = K_TIMESTAMP;
    else if (!strcmp(base, "TIME") || !strcmp(base, "TIME WITHOUT TIME ZONE"))
        t->kind = K_TIME;
    else if (!strcmp(base, "JSON") || !strcmp(base, "JSONB"))
        t->kind = K_JSONB;
    else if (!strcmp(base, "UUID") || !strcmp(base, "GUID"))
        t->kind = K_UUID;
    else if (has(base, "INT"))
        t->kind = K_INT8;
    else if (!strcmp(base, "NUMERIC") || !strcmp(base, "DECIMAL")) {
        t->kind = K_NUMERIC;
        /* NUMERIC(p) is numeric(p,0); a scale below 0 or above p (which
           PostgreSQL before 15 refuses) is plain numeric: no value is
           refused that the SQLite column holds, on every server */
        if (a1 >= 1 && a1 <= 1000 && (nargs == 1 || (a2 >= 0 && a2 <= a1))) {
            t->prec = a1;
            t->scale = nargs == 1 ? 0 : a2;
        }
    } else if ((!strcmp(base, "VARCHAR") || !strcmp(base, "CHARACTER VARYING") || !strcmp(base, "NVARCHAR") ||
                !strcmp(base, "VARYING CHARACTER") || !strcmp(base, "NATIVE CHARACTER VARYING")) &&
               a1 >= 1 && a1 <= 10485760) {
        t->kind = K_VARCHAR;
        t->len = a1;
    } else if ((!strcmp(base, "CHAR") || !strcmp(base, "CHARACTER") || !strcmp(base, "NCHAR") ||
                !strcmp(base, "NATIVE CHARACTER")) &&
               a1 >= 1 && a1 <= 10485760) {
        /* varchar, not char: SQLite never pads, PostgreSQL's char(n) would
           give 'ab' back as 'ab ' and drop the blanks a value ends with */
        t->kind = K_VARCHAR;
        t->len = a1;
    } else if (has(base, "CHAR") || has(base, "CLOB") || has(base, "TEXT"))
        t->kind = K_TEXT;
    else if (has(base, "BLOB") || !strcmp(base, "BYTEA"))
        t->kind = K_BYTEA;
    else if (has(base, "REAL") || has(base, "FLOA") || has(base, "DOUB"))
        t->kind = K_FLOAT8;
    else if (!base[0])
        t->kind = K_TEXT; /* refined from the data by schema_read */
    else
        t->kind = K_NUMERIC; /* SQLite's NUMERIC affinity */
    if (pgtype) {
        buf b;
        buf_init(&b);
        ctype_sql(t, &b);
        *pgtype = buf_detach(&b);
    }
}

/* ------------------------------------------------------------ tokens */

enum { TK_EOF, TK_WORD, TK_QID, TK_STR, TK_NUM, TK_BLOB, TK_PUNCT, TK_VAR };

typedef struct tok {
    int type;
    const char *p;
    size_t n;
} tok;

static size_t skip_space(const char *s, size_t len, size_t i)
{
    for (;;) {
        while (i < len && isspace((unsigned char)s[i]))
            i++;
        if (i + 1 < len && s[i] == '-' && s[i + 1] == '-') {
            while (i < len && s[i] != '\n')
                i++;
        } else if (i + 1 < len && s[i] == '/' && s[i + 1] == '*') {
            i += 2;
            while (i + 1 < len && !(s[i] == '*' && s[i + 1] == '/'))
                i++;
            i = i + 2 < len ? i + 2 : len;
        } else {
            return i;
        }
    }
}

static size_t next_tok(const char *s, size_t len, size_t i, tok *t)
{
    i = skip_space(s, len, i);
    t->p = s + i;
    t->n = 0;
    if (i >= len) {
        t->type = TK_EOF;
        return i;
    }
    char c = s[i];
    size_t st = i;
    if ((c == 'x' || c == 'X') && i + 1 < len && s[i + 1] == '\'') {
        i += 2;
        while (i < len && s[i] != '\'')
            i++;
        t->type = TK_BLOB;
        i = i < len ? i + 1 : len;
    } else if (isalpha((unsigned char)c) || c == '_' || (unsigned char)c >= 0x80) {
        while (i < len &&
               (isalnum((unsigned char)s[i]) || s[i] == '_' || s[i] == '$' || (unsigned char)s[i] >= 0x80))
            i++;
        t->type = TK_WORD;
    } else if (c == '"' || c == '`' || c == '[') {
        char close = c == '[' ? ']' : c;
        i++;
        while (i < len) {
            if (s[i] == close) {
                if (close != ']' && i + 1 < len && s[i + 1] == close) {
                    i += 2;
                    continue;
                }
                break;
            }
            i++;
        }
        i = i < len ? i + 1 : len;
        t->type = TK_QID;
    } else if (c == '\'') {
        i++;
        while (i < len) {
            if (s[i] == '\'') {
                if (i + 1 < len && s[i + 1] == '\'') {
                    i += 2;
                    continue;
                }
                break;
            }
            i++;
        }
        i = i < len ? i + 1 : len;
        t->type = TK_STR;
    } else if (isdigit((unsigned char)c) || (c == '.' && i + 1 < len && isdigit((unsigned char)s[i + 1]))) {
        if (c == '0' && i + 1 < len && (s[i + 1] == 'x' || s[i + 1] == 'X')) {
            i += 2;
            while (i < len && isxdigit((unsigned char)s[i]))
                i++;
        } else {
            while (i < len && (isdigit((unsigned char)s[i]) || s[i] == '.'))
                i++;
            if (i < len && (s[i] == 'e' || s[i] == 'E')) {
                i++;
                if (i < len && (s[i] == '+' || s[i] == '-'))
                    i++;
                while (i < len && isdigit((unsigned char)s[i]))
                    i++;
            }
        }
        t->type = TK_NUM;
    } else if (c == '?' || c == ':' || c == '@' || c == '$') {
        i++;
        while (i < len && (isalnum((unsigned char)s[i]) || s[i] == '_'))
            i++;
        t->type = TK_VAR;
    } else {
        static const char *ops[] = {"->>", "==", "!=", "<>", "<=", ">=", "||", "<<", ">>", "->", NULL};
        t->type = TK_PUNCT;
        i++;
        for (int k = 0; ops[k]; k++) {
            size_t l = strlen(ops[k]);
            if (st + l <= len && !strncmp(s + st, ops[k], l)) {
                i = st + l;
                break;
            }
        }
    }
    t->n = i - st;
    return i;
}

typedef struct toks {
    tok *v;
    int n;
} toks;

static int tokenize(const char *s, size_t len, toks *out)
{
    size_t cap = 0;
    out->n = 0;
    out->v = NULL;
    if (ARR_GROW(out->v, cap, 64))
        return -1;
    size_t i = 0;
    for (;;) {
        if (ARR_GROW(out->v, cap, (size_t)out->n + 1))
            return -1;
        i = next_tok(s, len, i, &out->v[out->n]);
        if (out->v[out->n++].type == TK_EOF)
            return 0;
    }
}

/* The name a WORD or QID token stands for (unquoted). Malloc'd. */
static char *tok_name(const tok *t)
{
    if (t->type != TK_QID)
        return xstrndup(t->p, t->n);
    char close = t->p[0] == '[' ? ']' : t->p[0];
    buf b;
    buf_init(&b);
    for (size_t i = 1; i + 1 < t->n; i++) {
        buf_add(&b, t->p + i, 1);
        if (t->p[i] == close && close != ']' && i + 2 < t->n && t->p[i + 1] == close)
            i++;
    }
    return buf_detach(&b);
}

static int ctok_is(const tok *t, const char *word)
{
    return t->type == TK_WORD && strlen(word) == t->n && !c_strncasecmp(t->p, word, t->n);
}

static int ctok_punct(const tok *t, const char *p)
{
    return t->type == TK_PUNCT && strlen(p) == t->n && !strncmp(t->p, p, t->n);
}

/* ------------------------------------------------------------ translation */

static const char *const keywords[] = {
    "ABORT",     "ALL",       "AND",     "AS",        "ASC",      "BETWEEN", "BY",        "CASE",
    "CAST",      "COLLATE",   "CROSS",   "DESC",      "DISTINCT", "ELSE",    "END",       "ESCAPE",
    "EXCEPT",    "EXISTS",    "FALSE",   "FROM",      "FULL",     "GROUP",   "HAVING",    "IN",
    "INNER",     "INTERSECT", "IS",      "ISNULL",    "JOIN",     "LEFT",    "LIMIT",     "NATURAL",
    "NOT",       "NOTNULL",   "NULL",    "OFFSET",    "ON",       "OR",      "ORDER",     "OUTER",
    "RIGHT",     "SELECT",    "THEN",    "TRUE",      "UNION",    "USING",   "WHEN",      "WHERE",
    "WITH",      "RECURSIVE", "OVER",    "PARTITION", "ROWS",     "RANGE",   "PRECEDING", "FOLLOWING",
    "UNBOUNDED", "CURRENT",   "ROW",     "NULLS",     "FIRST",    "LAST",    "INTEGER",   "TEXT",
    "REAL",      "BLOB",      "NUMERIC", "VARCHAR",   "CHAR",     "BOOLEAN", "DATE",      "TIMESTAMP",
    "BIGINT",    "FILTER",    "VALUES",  NULL};

static int is_keyword(const tok *t)
{
    for (int i = 0; keywords[i]; i++)
        if (ctok_is(t, keywords[i]))
            return 1;
    return 0;
}

/* Finds a column by SQLite name in t, or in any table of s. */
static const ccol *find_col(const cschema *s, const ctable *t, const char *name)
{
    int k;
    if (t && (k = table_col(t, name)) >= 0)
        return &t->cols[k];
    for (int i = 0; s && i < s->n; i++)
        if ((k = table_col(&s->t[i], name)) >= 0)
            return &s->t[i].cols[k];
    return NULL;
}

/* Number of top-level arguments of the call whose '(' is at v[i]. */
static int call_args(const toks *tk, int i, int *close)
{
    int depth = 0, args = 0, any = 0;
    for (int k = i; k < tk->n && tk->v[k].type != TK_EOF; k++) {
        if (ctok_punct(&tk->v[k], "(")) {
            depth++;
        } else if (ctok_punct(&tk->v[k], ")")) {
            if (--depth == 0) {
                *close = k;
                return any ? args + 1 : 0;
            }
        } else if (depth == 1 && ctok_punct(&tk->v[k], ",")) {
            args++;
        } else if (depth >= 1) {
            any = 1;
        }
    }
    *close = tk->n - 1;
    return -1;
}

static int str_is(const tok *t, const char *s)
{
    return t->type == TK_STR && t->n == strlen(s) + 2 && !c_strncasecmp(t->p + 1, s, strlen(s));
}

/* Replacement for "the current time" in a default of a column of kind k. */
static const char *now_expr(int what, int k)
{
    /* what: 0 timestamp, 1 date, 2 time, 3 epoch seconds, 4 julian day */
    switch (what) {
    case 0:
        if (k == K_TIMESTAMPTZ)
            return "now()";
        if (k == K_TIMESTAMP)
            return "(now() AT TIME ZONE 'UTC')";
        if (k == K_DATE)
            return "((now() AT TIME ZONE 'UTC')::date)";
        if (k == K_TEXT || k == K_VARCHAR)
            return "to_char(now() AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS')";
        return NULL;
    case 1:
        if (k == K_DATE)
            return "((now() AT TIME ZONE 'UTC')::date)";
        if (k == K_TIMESTAMP)
            return "date_trunc('day', now() AT TIME ZONE 'UTC')";
        if (k == K_TIMESTAMPTZ)
            return "date_trunc('day', now(), 'UTC')";
        if (k == K_TEXT || k == K_VARCHAR)
            return "to_char(now() AT TIME ZONE 'UTC', 'YYYY-MM-DD')";
        return NULL;
    case 2:
        if (k == K_TIME)
            return "(date_trunc('second', now() AT TIME ZONE 'UTC')::time(0))"; /* cut, as SQLite */
        if (k == K_TEXT || k == K_VARCHAR)
            return "to_char(now() AT TIME ZONE 'UTC', 'HH24:MI:SS')";
        return NULL;
    case 3:
        if (k == K_INT8 || k == K_INT4 || k == K_NUMERIC)
            return "(floor(extract(epoch FROM now()))::bigint)"; /* SQLite's %s truncates */
        return NULL;
    default:
        if (k == K_FLOAT8 || k == K_NUMERIC)
            return "(extract(epoch FROM now()) / 86400.0 + 2440587.5)";
        return NULL;
    }
}

/*
 * The translator walks the tokens of one parenthesis level at a time and
 * calls itself for what is inside parentheses and for each argument of a
 * function, so every nested expression gets the same treatment. A word
 * before '(' is a function call only when it is not an SQL keyword:
 * "a IN (...)", "NOT (...)", "EXISTS (SELECT ...)", "CASE WHEN (...)" are
 * syntax, written as they are.
 */
typedef struct xctx {
    const toks *tk;
    const cschema *s;
    const ctable *t;
    int kind_hint;
    int keep_case;
    char *why;
    size_t whysz;
    int nsub;  /* subqueries in FROM given an alias */
    int depth; /* nesting of tr(): a hostile schema must not exhaust the stack */
    int pred;  /* the whole expression is a predicate (a partial index's WHERE) */
} xctx;

/* far deeper than real schemas nest; bounds the stack (worker threads too) */
#define XDEPTH_MAX 200

enum { XF_BOOL01 = 1 }; /* a list after "<boolean column> IN": 0 and 1 are FALSE, TRUE */

static int xfail(xctx *x, const char *fmt, ...) ATTR_PRINTF(2, 3);
static int xfail(xctx *x, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(x->why, x->whysz, fmt, ap);
    va_end(ap);
    return -1;
}

/* Keywords that SQLite also knows as functions (date(), char()) or that
   may name a column (a column called "date" or "first"). */
static const char *const soft_keywords[] = {
    "DATE",      "CHAR",      "TEXT",      "INTEGER", "REAL",  "BLOB",      "NUMERIC",
    "VARCHAR",   "BOOLEAN",   "TIMESTAMP", "BIGINT",  "FIRST", "LAST",      "ROW",
    "ROWS",      "RANGE",     "CURRENT",   "FILTER",  "NULLS", "PARTITION", "PRECEDING",
    "FOLLOWING", "UNBOUNDED", "RECURSIVE", "ABORT",   NULL};

static int is_soft_keyword(const tok *t)
{
    for (int i = 0; soft_keywords[i]; i++)
        if (ctok_is(t, soft_keywords[i]))
            return 1;
    return 0;
}

static int match_paren(const toks *tk, int open, int end)
{
    int depth = 0;
    for (int k = open; k < end; k++) {
        if (ctok_punct(&tk->v[k], "("))
            depth++;
        else if (ctok_punct(&tk->v[k], ")") && --depth == 0)
            return k;
    }
    return -1;
}

/* The end (exclusive) of the operand that starts at token j: signs, then a
   name (qualified, or a call with its parentheses), a literal, a
   parenthesized expression or a CASE ... END; -1 when it is none of these.
   The right operand of a '/' or '%' (they bind tighter than + and -). */
static int operand_end(const toks *tk, int j, int b)
{
    while (j < b && (ctok_punct(&tk->v[j], "-") || ctok_punct(&tk->v[j], "+") || ctok_punct(&tk->v[j], "~")))
        j++;
    if (j >= b)
        return -1;
    const tok *t = &tk->v[j];
    if (ctok_punct(t, "(")) {
        int cl = match_paren(tk, j, b);
        return cl < 0 ? -1 : cl + 1;
    }
    if (ctok_is(t, "CASE")) {
        int depth = 0;
        for (int k = j; k < b; k++) {
            if (ctok_is(&tk->v[k], "CASE"))
                depth++;
            else if (ctok_is(&tk->v[k], "END") && --depth == 0)
                return k + 1;
        }
        return -1;
    }
    if (t->type == TK_WORD || t->type == TK_QID) {
        int k = j + 1;
        while (k + 1 < b && ctok_punct(&tk->v[k], ".") &&
               (tk->v[k + 1].type == TK_WORD || tk->v[k + 1].type == TK_QID))
            k += 2;
        if (k < b && ctok_punct(&tk->v[k], "(")) {
            int cl = match_paren(tk, k, b);
            return cl < 0 ? -1 : cl + 1;
        }
        return k;
    }
    if (t->type == TK_NUM || t->type == TK_STR)
        return j + 1;
    return -1;
}

/* When token i is a '/' or '%' whose divisor could be 0: the end of the
   divisor (operand_end), to be wrapped in NULLIF; else -1 (a nonzero
   number needs nothing). */
static int divisor_end(const toks *tk, int i, int b)
{
    if (!ctok_punct(&tk->v[i], "/") && !ctok_punct(&tk->v[i], "%"))
        return -1;
    int e = operand_end(tk, i + 1, b);
    if (e <= i + 1 || (e == i + 2 && tk->v[i + 1].type == TK_NUM && c_strtod(tk->v[i + 1].p, NULL) != 0))
        return -1;
    return e;
}

/* Top-level arguments of the call whose parentheses are at open and close:
   [st[k], en[k]). 0 for "()", -1 for more than max. */
static int split_args(const toks *tk, int open, int close, int *st, int *en, int max)
{
    int n = 0, depth = 0, from = open + 1;
    if (close == open + 1)
        return 0;
    for (int k = open + 1; k <= close; k++) {
        if (k < close && ctok_punct(&tk->v[k], "(")) {
            depth++;
        } else if (k < close && ctok_punct(&tk->v[k], ")")) {
            depth--;
        } else if (k == close || (depth == 0 && ctok_punct(&tk->v[k], ","))) {
            if (n == max)
                return -1;
            st[n] = from;
            en[n++] = k;
            from = k + 1;
        }
    }
    return n;
}

/* The column token k names (in the table, or in any table for views). */
static const ccol *tok_col(xctx *x, int k, int end)
{
    if (k < 0 || k >= end)
        return NULL;
    const tok *t = &x->tk->v[k];
    if (t->type == TK_QID || (t->type == TK_WORD && (!is_keyword(t) || is_soft_keyword(t)))) {
        char *name = tok_name(t);
        const ccol *c = name ? find_col(x->s, x->t, name) : NULL;
        free(name);
        return c;
    }
    return NULL;
}

/* The column a range of tokens is, when it is just one ("a", "t.a"). */
static const ccol *range_col(xctx *x, int a, int b)
{
    if (b == a + 1)
        return tok_col(x, a, b);
    if (b == a + 3 && ctok_punct(&x->tk->v[a + 1], "."))
        return tok_col(x, a + 2, b);
    return NULL;
}

static int is_cmp(const tok *t)
{
    static const char *const ops[] = {"=", "==", "!=", "<>", "<", "<=", ">", ">=", NULL};
    for (int k = 0; ops[k]; k++)
        if (ctok_punct(t, ops[k]))
            return 1;
    return 0;
}

/* The kind of the column an expression at [i, close] is compared with:
   "col < f(...)", "f(...) >= col", "col BETWEEN f(...) AND f(...)"; -1. */
static int near_kind(xctx *x, int a, int i, int close, int b)
{
    const toks *tk = x->tk;
    const ccol *c = NULL;
    if (i - 2 >= a && (is_cmp(&tk->v[i - 1]) || ctok_is(&tk->v[i - 1], "BETWEEN")))
        c = tok_col(x, i - 2, b);
    if (!c && i - 1 > a && ctok_is(&tk->v[i - 1], "AND")) {
        /* the upper bound of a BETWEEN */
        int depth = 0;
        for (int k = i - 2; k > a; k--) {
            if (ctok_punct(&tk->v[k], ")"))
                depth++;
            else if (ctok_punct(&tk->v[k], "("))
                depth--;
            else if (depth == 0 && (ctok_is(&tk->v[k], "AND") || ctok_is(&tk->v[k], "OR")))
                break;
            else if (depth == 0 && ctok_is(&tk->v[k], "BETWEEN")) {
                c = tok_col(x, k - 1, b);
                break;
            }
        }
    }
    if (!c && close + 2 < b && is_cmp(&tk->v[close + 1])) {
        int k = close + 2;
        if (k + 2 < b && ctok_punct(&tk->v[k + 1], "."))
            k += 2;
        c = tok_col(x, k, b);
    }
    return c ? c->t.kind : -1;
}

static int tr(xctx *x, int a, int b, int flags, buf *out);

/* Translates [a, b) into a fresh buffer o (released by the caller). */
static int tr_to(xctx *x, int a, int b, buf *o)
{
    buf_init(o);
    int rc = tr(x, a, b, 0, o);
    if (!rc && !o->data)
        buf_adds(o, "");
    if (!rc && (o->oom || !o->data))
        rc = xfail(x, "out of memory");
    return rc;
}

/* Text of a string token without its quotes. Malloc'd. */
static char *str_text(const tok *t)
{
    buf b;
    buf_init(&b);
    for (size_t i = 1; i + 1 < t->n; i++) {
        buf_add(&b, t->p + i, 1);
        if (t->p[i] == '\'' && i + 2 < t->n && t->p[i + 1] == '\'')
            i++;
    }
    if (!b.data)
        buf_adds(&b, "");
    return buf_detach(&b);
}

static int is_text_kind(int k)
{
    return k == K_TEXT || k == K_VARCHAR || k == K_BPCHAR;
}

/* strftime() format -> to_char() format; -1 for a conversion with no
   to_char form. */
static int strftime_fmt(const char *f, buf *o)
{
    for (const char *p = f; *p; p++) {
        if (*p != '%') {
            if (isalpha((unsigned char)*p))
                buf_addf(o, "\"%c\"", *p);
            else if (*p == '"' || *p == '\\')
                return -1;
            else
                buf_add(o, p, 1);
            continue;
        }
        switch (*++p) {
        case 'Y':
            buf_adds(o, "YYYY");
            break;
        case 'm':
            buf_adds(o, "MM");
            break;
        case 'd':
            buf_adds(o, "DD");
            break;
        case 'H':
            buf_adds(o, "HH24");
            break;
        case 'M':
            buf_adds(o, "MI");
            break;
        case 'S':
            buf_adds(o, "SS");
            break;
        case 'f':
            buf_adds(o, "SS.MS");
            break;
        case 'j':
            buf_adds(o, "DDD");
            break;
        case '%':
            buf_adds(o, "%");
            break;
        default:
            return -1;
        }
    }
    return 0;
}

/*
 * date(), time(), datetime(), julianday(), unixepoch(), strftime(): the
 * time value (now, a column, text, or a number with 'unixepoch') becomes a
 * PostgreSQL timestamp in UTC, modifiers ('+7 days', 'start of month')
 * become interval arithmetic and date_trunc, and the result takes the form
 * of what it is compared with: a date, timestamp or time column gets that
 * type, anything else SQLite's text.
 */
static int tr_datefn(xctx *x, const char *fn, int a, int i, int close, int b, const int *st, const int *en,
                     int nargs, buf *out)
{
    const toks *tk = x->tk;
    int what = !strcmp(fn, "datetime")    ? 0
               : !strcmp(fn, "date")      ? 1
               : !strcmp(fn, "time")      ? 2
               : !strcmp(fn, "unixepoch") ? 3
               : !strcmp(fn, "julianday") ? 4
                                          : 5;
    int first = what == 5 ? 1 : 0, rc = -1;
    char *fmt = NULL;
    buf e, v, f;
    buf_init(&e);
    buf_init(&v);
    buf_init(&f);
    if (what == 5) {
        if (nargs < 1 || en[0] != st[0] + 1 || tk->v[st[0]].type != TK_STR) {
            rc = xfail(x, "strftime() with a format that is not a string literal is not translated");
            goto out;
        }
        fmt = str_text(&tk->v[st[0]]);
        if (fmt && !strcmp(fmt, "%s"))
            what = 3;
    }
    int now = nargs <= first || (en[first] == st[first] + 1 && str_is(&tk->v[st[first]], "now"));
    /* a default: the PostgreSQL expression for the column's type */
    if (x->kind_hint >= 0 && now && nargs <= first + 1 && what != 5) {
        const char *ne = now_expr(what, x->kind_hint);
        if (!ne) {
            rc = xfail(x, "%s('now') has no equivalent here", fn);
            goto out;
        }
        buf_adds(out, ne);
        rc = 0;
        goto out;
    }
    int kind = x->kind_hint >= 0 ? x->kind_hint : near_kind(x, a, i, close, b);
    int m = first + 1, unixepoch = 0;
    if (m < nargs && en[m] == st[m] + 1 && str_is(&tk->v[st[m]], "unixepoch")) {
        unixepoch = 1;
        m++;
    }
    if (now) {
        buf_adds(&e, "(now() AT TIME ZONE 'UTC')");
    } else {
        const ccol *c = range_col(x, st[first], en[first]);
        int ck = c ? c->t.kind : -1;
        if (tr_to(x, st[first], en[first], &v))
            goto out;
        if (unixepoch)
            buf_addf(&e, "(to_timestamp(%s) AT TIME ZONE 'UTC')", v.data);
        else if (ck == K_TIMESTAMPTZ)
            buf_addf(&e, "(%s AT TIME ZONE 'UTC')", v.data);
        else if (ck == K_INT2 || ck == K_INT4 || ck == K_INT8 || ck == K_FLOAT4 || ck == K_FLOAT8 ||
                 ck == K_NUMERIC || tk->v[st[first]].type == TK_NUM) {
            rc = xfail(x, "%s() of a number (a Julian day) is not translated", fn);
            goto out;
        } else
            buf_addf(&e, "(%s)::timestamp", v.data);
    }
    for (; m < nargs; m++) {
        if (en[m] != st[m] + 1 || tk->v[st[m]].type != TK_STR) {
            rc = xfail(x, "%s() with a modifier that is not a string literal is not translated", fn);
            goto out;
        }
        char *mod = str_text(&tk->v[st[m]]);
        char unit[16] = "";
        char *after = NULL;
        int used = 0;
        for (char *p = mod; p && *p; p++)
            *p = (char)c_tolower((unsigned char)*p);
        const char *trunc = !mod                             ? NULL
                            : !strcmp(mod, "start of day")   ? "day"
                            : !strcmp(mod, "start of month") ? "month"
                            : !strcmp(mod, "start of year")  ? "year"
                                                             : NULL;
        if (trunc) {
            buf_init(&f);
            buf_addf(&f, "date_trunc('%s', %s)", trunc, e.data);
        } else if (mod && (c_strtod(mod, &after), after != mod) &&
                   sscanf(after, " %15[a-z] %n", unit, &used) == 1 && !after[used] &&
                   strspn(mod, " +-0123456789.") > 0) { /* the number in the C locale, as SQLite reads it */
            size_t ul = strlen(unit);
            if (ul > 1 && unit[ul - 1] == 's')
                unit[--ul] = 0;
            if (strcmp(unit, "day") && strcmp(unit, "hour") && strcmp(unit, "minute") &&
                strcmp(unit, "second") && strcmp(unit, "month") && strcmp(unit, "year")) {
                rc = xfail(x, "%s() modifier '%s' is not translated", fn, mod);
                free(mod);
                goto out;
            }
            const char *n = mod;
            while (*n == ' ' || *n == '+')
                n++;
            size_t nl = strcspn(n, " abcdefghijklmnopqrstuvwxyz");
            int okn = nl > 0;
            for (size_t k = 0; k < nl; k++)
                okn &= isdigit((unsigned char)n[k]) || n[k] == '.' || (k == 0 && n[k] == '-');
            if (!okn) {
                rc = xfail(x, "%s() modifier '%s' is not translated", fn, mod);
                free(mod);
                goto out;
            }
            buf_init(&f);
            buf_addf(&f, "(%s + interval '%.*s %s')", e.data, (int)nl, n, unit);
        } else {
            rc = xfail(x, "%s() modifier '%s' is not translated", fn, mod ? mod : "");
            free(mod);
            goto out;
        }
        free(mod);
        buf_release(&e);
        e = f;
        buf_init(&f);
    }
    switch (what) {
    case 0:
        if (kind == K_TIMESTAMP || kind == K_DATE)
            buf_adds(out, e.data);
        else if (kind == K_TIMESTAMPTZ)
            buf_addf(out, "(%s AT TIME ZONE 'UTC')", e.data);
        else
            buf_addf(out, "to_char(%s, 'YYYY-MM-DD HH24:MI:SS')", e.data);
        break;
    case 1:
        if (kind == K_DATE)
            buf_addf(out, "(%s)::date", e.data);
        else if (kind == K_TIMESTAMP)
            buf_addf(out, "date_trunc('day', %s)", e.data);
        else if (kind == K_TIMESTAMPTZ)
            buf_addf(out, "(date_trunc('day', %s) AT TIME ZONE 'UTC')", e.data);
        else
            buf_addf(out, "to_char(%s, 'YYYY-MM-DD')", e.data);
        break;
    case 2:
        if (kind == K_TIME)
            buf_addf(out, "date_trunc('second', %s)::time(0)", e.data);
        else
            buf_addf(out, "to_char(%s, 'HH24:MI:SS')", e.data);
        break;
    case 3:
        buf_addf(out, "(floor(extract(epoch FROM %s))::bigint)", e.data);
        break;
    case 4:
        buf_addf(out, "((extract(epoch FROM %s) / 86400.0 + 2440587.5)::double precision)", e.data);
        break;
    default:
        if (x->kind_hint == K_TIMESTAMP || x->kind_hint == K_TIMESTAMPTZ || x->kind_hint == K_DATE) {
            /* a default of a time column: the format only rendered the time as text */
            buf_addf(out,
                     x->kind_hint == K_TIMESTAMP ? "%s"
                     : x->kind_hint == K_DATE    ? "(%s)::date"
                                                 : "(%s AT TIME ZONE 'UTC')",
                     e.data);
            break;
        }
        if (strftime_fmt(fmt ? fmt : "", &f)) {
            rc = xfail(x, "strftime() format '%s' is not translated", fmt ? fmt : "");
            goto out;
        }
        buf_addf(out, "to_char(%s, ", e.data);
        buf_add_sqlstr(out, f.data ? f.data : "");
        buf_adds(out, ")");
        break;
    }
    rc = 0;
out:
    free(fmt);
    buf_release(&e);
    buf_release(&v);
    buf_release(&f);
    return rc;
}

/* CAST(expr AS type): the type is mapped as a column's declared type is. An
   integer cast of a real truncates in SQLite and rounds in PostgreSQL. */
static int is_real_col(const ccol *c)
{
    return c && (c->t.kind == K_FLOAT8 || c->t.kind == K_FLOAT4);
}

static int tr_cast(xctx *x, int open, int close, buf *out)
{
    const toks *tk = x->tk;
    int as = -1, depth = 0;
    for (int k = open + 1; k < close; k++) {
        if (ctok_punct(&tk->v[k], "("))
            depth++;
        else if (ctok_punct(&tk->v[k], ")"))
            depth--;
        else if (depth == 0 && ctok_is(&tk->v[k], "AS"))
            as = k;
    }
    if (as < 0)
        return xfail(x, "CAST without AS");
    buf ty, e;
    buf_init(&ty);
    for (int k = as + 1; k < close; k++) {
        if (k > as + 1 && tk->v[k].type == TK_WORD && tk->v[k - 1].type == TK_WORD)
            buf_adds(&ty, " ");
        buf_add(&ty, tk->v[k].p, tk->v[k].n);
    }
    ctype t;
    char *pgtype = NULL;
    map_decl_type(ty.data ? ty.data : "", &t, &pgtype);
    buf_release(&ty);
    if (tr_to(x, open + 1, as, &e)) {
        buf_release(&e);
        free(pgtype);
        return -1;
    }
    const ccol *c = range_col(x, open + 1, as);
    if ((t.kind == K_TEXT || t.kind == K_VARCHAR) && is_real_col(c)) {
        buf_release(&e);
        free(pgtype);
        return xfail(x,
                     "CAST of the real column \"%s\" to text is not translated (SQLite writes 3.0 where "
                     "PostgreSQL writes 3)",
                     c->dst);
    }
    if (t.kind == K_INT8 && c && (c->t.kind == K_FLOAT8 || c->t.kind == K_FLOAT4 || c->t.kind == K_NUMERIC))
        buf_addf(out, "CAST(trunc(%s) AS %s)", e.data, pgtype ? pgtype : "text");
    else
        buf_addf(out, "CAST(%s AS %s)", e.data, pgtype ? pgtype : "text");
    buf_release(&e);
    free(pgtype);
    return 0;
}

/* A translated argument that is a plain whole number (digits only): as a
   substr() start or length it means the same in SQLite and PostgreSQL. */
static int plain_count(const char *v)
{
    if (!v || !*v)
        return 0;
    for (; *v; v++)
        if (*v < '0' || *v > '9')
            return 0;
    return 1;
}

/* A function call: name at i, parentheses at i + 1 and close. */
static int tr_call(xctx *x, int a, int i, int close, int b, buf *out)
{
    const toks *tk = x->tk;
    enum { MAXARGS = 64 };
    int st[MAXARGS], en[MAXARGS];
    int nargs = split_args(tk, i + 1, close, st, en, MAXARGS);
    char fn[64];
    snprintf(fn, sizeof(fn), "%.*s", (int)(tk->v[i].n < 63 ? tk->v[i].n : 63), tk->v[i].p);
    for (char *p = fn; *p; p++)
        *p = (char)c_tolower((unsigned char)*p);
    if (nargs < 0)
        return xfail(x, "SQLite function %s() has too many arguments", fn);
    if (!strcmp(fn, "date") || !strcmp(fn, "time") || !strcmp(fn, "datetime") || !strcmp(fn, "julianday") ||
        !strcmp(fn, "unixepoch") || !strcmp(fn, "strftime"))
        return tr_datefn(x, fn, a, i, close, b, st, en, nargs, out);

    static const char *const same[] = {
        "abs",       "coalesce",   "nullif",      "lower",      "upper",        "ltrim",     "rtrim",
        "replace",   "substr",     "count",       "sum",        "random",       "sign",      "concat",
        "concat_ws", "row_number", "rank",        "dense_rank", "percent_rank", "cume_dist", "ntile",
        "lag",       "lead",       "first_value", "last_value", "nth_value",    NULL};
    static const struct {
        const char *sqlite, *pg;
    } renamed[] = {{"ifnull", "coalesce"}, {"instr", "strpos"},  {"substring", "substr"},
                   {"trim", "btrim"},      {"unicode", "ascii"}, {NULL, NULL}};
    const char *same_fn = NULL;
    for (int k = 0; same[k] && !same_fn; k++)
        if (!strcmp(fn, same[k]))
            same_fn = same[k];
    for (int k = 0; renamed[k].sqlite && !same_fn; k++)
        if (!strcmp(fn, renamed[k].sqlite))
            same_fn = renamed[k].pg;
    if ((!strcmp(fn, "max") || !strcmp(fn, "min")) && nargs == 1)
        same_fn = fn; /* the aggregate */
    if (!strcmp(fn, "substr") || !strcmp(fn, "substring"))
        same_fn = NULL; /* below: SQLite counts a negative start from the end */

    /* the arguments, translated; a leading DISTINCT is kept apart */
    buf av[MAXARGS];
    int distinct = nargs >= 1 && ctok_is(&tk->v[st[0]], "DISTINCT");
    int rc = -1, done = 0, refused = 0;
    for (int k = 0; k < nargs; k++) {
        if (tr_to(x, st[k] + (k == 0 && distinct), en[k], &av[k])) {
            for (int j = 0; j <= k; j++)
                buf_release(&av[j]);
            return -1;
        }
    }
    const char *dis = distinct ? "DISTINCT " : "";
    const ccol *c0 = nargs >= 1 ? range_col(x, st[0], en[0]) : NULL;
    if (same_fn) {
        buf_addf(out, "%s(%s", same_fn, dis);
        for (int k = 0; k < nargs; k++)
            buf_addf(out, "%s%s", k ? ", " : "", av[k].data);
        buf_adds(out, ")");
        done = 1;
    } else if ((!strcmp(fn, "max") || !strcmp(fn, "min")) && nargs >= 2) {
        /* SQLite's scalar max/min is NULL when an argument is; greatest
           and least skip NULLs */
        buf_adds(out, "(CASE WHEN ");
        for (int k = 0; k < nargs; k++)
            buf_addf(out, "%s(%s) IS NULL", k ? " OR " : "", av[k].data);
        buf_addf(out, " THEN NULL ELSE %s(", fn[1] == 'a' ? "greatest" : "least");
        for (int k = 0; k < nargs; k++)
            buf_addf(out, "%s%s", k ? ", " : "", av[k].data);
        buf_adds(out, ") END)");
        done = 1;
    } else if ((!strcmp(fn, "substr") || !strcmp(fn, "substring")) && (nargs == 2 || nargs == 3)) {
        /* SQLite: a negative start counts from the end, a negative length
           takes the characters before the start; PostgreSQL counts a
           start below 1 as positions before the string and refuses a
           negative length. A start or length written as a plain number
           0 or more means the same in both. */
        const char *sv = av[0].data, *pv = av[1].data, *nv = nargs == 3 ? av[2].data : NULL;
        buf start;
        buf_init(&start);
        if (plain_count(pv))
            buf_adds(&start, pv);
        else
            buf_addf(&start, "(CASE WHEN (%s) < 0 THEN length(%s) + (%s) + 1 ELSE (%s) END)::int", pv, sv, pv,
                     pv);
        const char *st0 = start.data ? start.data : "";
        if (!nv)
            buf_addf(out, "substr(%s, %s)", sv, st0);
        else if (plain_count(nv))
            buf_addf(out, "substr(%s, %s, %s)", sv, st0, nv);
        else
            buf_addf(out,
                     "(CASE WHEN (%s) >= 0 THEN substr(%s, %s, (%s)::int) ELSE substr(%s, %s + (%s)::int, "
                     "-(%s)::int) END)",
                     nv, sv, st0, nv, sv, st0, nv, nv);
        buf_release(&start);
        done = 1;
    } else if (!strcmp(fn, "iif") && nargs == 3) {
        buf_addf(out, "(CASE WHEN %s THEN %s ELSE %s END)", av[0].data, av[1].data, av[2].data);
        done = 1;
    } else if ((!strcmp(fn, "likely") || !strcmp(fn, "unlikely")) && nargs == 1) {
        buf_addf(out, "(%s)", av[0].data);
        done = 1;
    } else if (!strcmp(fn, "likelihood") && nargs == 2) {
        buf_addf(out, "(%s)", av[0].data);
        done = 1;
    } else if (!strcmp(fn, "length") && nargs == 1 && c0 &&
               (c0->t.kind == K_FLOAT4 || c0->t.kind == K_FLOAT8 || c0->t.kind == K_NUMERIC)) {
        /* SQLite writes 3.0 and 12.5 where PostgreSQL writes 3 and 12.50 */
        refused =
            xfail(x,
                  "SQLite function length() of the real or numeric column \"%s\" is not translated (SQLite "
                  "measures the number's text, which PostgreSQL writes differently)",
                  c0->dst);
    } else if (!strcmp(fn, "length") && nargs == 1) {
        /* SQLite measures a number as its text (a boolean is stored as 0
           or 1) */
        if (c0 && c0->t.kind == K_BOOL)
            buf_addf(out, "length(((%s)::int)::text)", av[0].data);
        else if (c0 && !is_text_kind(c0->t.kind) && c0->t.kind != K_BYTEA)
            buf_addf(out, "length((%s)::text)", av[0].data);
        else
            buf_addf(out, "length(%s)", av[0].data);
        done = 1;
    } else if (!strcmp(fn, "round") && (nargs == 1 || nargs == 2)) {
        /* PostgreSQL rounds to n places only a numeric, and rounds a
           double's halves to even (2.5 -> 2) where SQLite and numeric
           round away from zero (3) */
        if (nargs == 2)
            buf_addf(out, "round((%s)::numeric, %s)", av[0].data, av[1].data);
        else
            buf_addf(out, "round((%s)::numeric)", av[0].data);
        done = 1;
    } else if (!strcmp(fn, "avg") && nargs == 1) {
        /* SQLite's avg() is always a real */
        buf_addf(out, "avg(%s(%s)::double precision)", dis, av[0].data);
        done = 1;
    } else if (!strcmp(fn, "total") && nargs == 1) {
        buf_addf(out, "coalesce(sum(%s(%s)::double precision), 0)", dis, av[0].data);
        done = 1;
    } else if (!strcmp(fn, "group_concat") && (nargs == 1 || nargs == 2)) {
        buf_addf(out, "string_agg(%s(%s)::text, %s)", dis, av[0].data, nargs == 2 ? av[1].data : "','");
        done = 1;
    } else if (!strcmp(fn, "char") && nargs >= 1) {
        buf_adds(out, "(");
        for (int k = 0; k < nargs; k++)
            buf_addf(out, "%schr(%s)", k ? " || " : "", av[k].data);
        buf_adds(out, ")");
        done = 1;
    } else if (!strcmp(fn, "typeof") && nargs == 1 && c0) {
        /* a copied column holds one storage class: its type's */
        int k = c0->t.kind;
        const char *cls = k == K_INT2 || k == K_INT4 || k == K_INT8 || k == K_BOOL ? "'integer'"
                          : k == K_FLOAT4 || k == K_FLOAT8                         ? "'real'"
                          : k == K_BYTEA                                           ? "'blob'"
                                                                                   : "'text'";
        if (k == K_NUMERIC)
            buf_addf(out,
                     "(CASE WHEN %s IS NULL THEN 'null' WHEN %s = trunc(%s) THEN 'integer' ELSE 'real' END)",
                     av[0].data, av[0].data, av[0].data);
        else
            buf_addf(out, "(CASE WHEN %s IS NULL THEN 'null' ELSE %s END)", av[0].data, cls);
        done = 1;
    }
    if (done)
        rc = 0;
    else if (refused)
        rc = -1; /* the reason is set */
    else if (!strcmp(fn, "typeof"))
        rc = xfail(x, "SQLite function typeof() of an expression is not translated");
    else
        rc = xfail(x, "SQLite function %s() is not translated", fn);
    for (int k = 0; k < nargs; k++)
        buf_release(&av[k]);
    return rc;
}

/* The ']' closing the glob set opened at p, NULL when there is none. */
static const char *glob_set_end(const char *p)
{
    const char *q = p + 1;
    if (*q == '^')
        q++;
    if (*q == ']')
        q++;
    return strchr(q, ']');
}

/* glob pattern -> anchored POSIX regular expression, in SQL quotes. */
static void glob_regex(const tok *t, buf *out)
{
    char *g = str_text(t);
    buf r;
    buf_init(&r);
    buf_adds(&r, "^");
    for (const char *p = g ? g : ""; *p; p++) {
        if (*p == '*') {
            buf_adds(&r, ".*");
        } else if (*p == '?') {
            buf_adds(&r, ".");
        } else if (*p == '[' && glob_set_end(p)) {
            /* a set: [abc], [^abc], [a-z]; "]" first is a member */
            const char *q = p + 1, *end = glob_set_end(p);
            buf_adds(&r, "[");
            if (*q == '^') {
                buf_adds(&r, "^");
                q++;
            }
            for (; q < end; q++) {
                if (*q == '\\' || *q == '[' || (*q == ']'))
                    buf_adds(&r, "\\");
                buf_add(&r, q, 1);
            }
            buf_adds(&r, "]");
            p = end;
        } else {
            if (strchr(".^$+(){}|\\[]", *p))
                buf_adds(&r, "\\");
            buf_add(&r, p, 1);
        }
    }
    buf_adds(&r, "$");
    buf_add_sqlstr(out, r.data ? r.data : "");
    buf_release(&r);
    free(g);
}

static void emit_space(buf *out, const tok *t)
{
    char last = out->len ? out->data[out->len - 1] : 0;
    if (out->len && !ctok_punct(t, ")") && !ctok_punct(t, ",") && !ctok_punct(t, ".") && last != '(' &&
        last != '.' && last != ' ')
        buf_add(out, " ", 1);
}

static void emit_name(xctx *x, const tok *t, int *prev_bool, buf *out)
{
    char *name = tok_name(t);
    const ccol *c = name ? find_col(x->s, x->t, name) : NULL;
    int ti = name && x->s ? schema_find(x->s, name) : -1;
    if (c) {
        buf_add_quoted_ident(out, c->dst);
        if (c->t.kind == K_BOOL)
            *prev_bool = 1;
    } else if (ti >= 0) {
        buf_add_quoted_ident(out, x->s->t[ti].dst);
    } else if (t->type == TK_QID && t->p[0] == '"' && x->t) {
        /* SQLite reads a double-quoted word that names nothing as a string */
        buf_add_sqlstr(out, name ? name : "");
    } else {
        char *m = copy_name(name ? name : "", x->keep_case);
        buf_add_quoted_ident(out, m ? m : "");
        free(m);
    }
    free(name);
}

/* 1 when the AND at k (in a..b) is the one of "x BETWEEN lo AND hi". */
static int between_and(const toks *tk, int a, int k)
{
    int depth = 0;
    for (int j = k - 1; j >= a; j--) {
        const tok *t = &tk->v[j];
        if (ctok_punct(t, ")"))
            depth++;
        else if (ctok_punct(t, "("))
            depth--;
        if (depth < 0)
            return 0;
        if (depth)
            continue;
        if (ctok_is(t, "BETWEEN"))
            return 1;
        if (ctok_is(t, "AND") || ctok_is(t, "OR"))
            return 0;
    }
    return 0;
}

static int logic_word(const toks *tk, int a, int k)
{
    return ctok_is(&tk->v[k], "OR") || ctok_is(&tk->v[k], "WHERE") || ctok_is(&tk->v[k], "HAVING") ||
           (ctok_is(&tk->v[k], "NOT") && !(k > a && ctok_is(&tk->v[k - 1], "IS"))) || /* IS NOT x */
           (ctok_is(&tk->v[k], "AND") && !between_and(tk, a, k));
}

/* The column at i (in a..b) when it stands alone as an operand of AND, OR
   or NOT, as a whole WHERE or HAVING, or as a whole predicate (x->pred),
   and holds numbers: SQLite reads any non-zero number as true, PostgreSQL
   wants a boolean there ("WHERE active AND qty > 0" on a 0/1 integer
   flag). */
static const ccol *number_as_truth(xctx *x, int a, int b, int i)
{
    const toks *tk = x->tk;
    int before = i == a ? 0 : logic_word(tk, a, i - 1) ? 1 : -1;
    const tok *nx = i + 1 < b ? &tk->v[i + 1] : NULL;
    /* the end of a WHERE or HAVING: the level's end, or the next clause */
    int after = !nx                                       ? 0
                : ctok_is(nx, "OR") || ctok_is(nx, "AND") ? 1
                : ctok_is(nx, "GROUP") || ctok_is(nx, "ORDER") || ctok_is(nx, "LIMIT") ||
                        ctok_is(nx, "OFFSET") || ctok_is(nx, "UNION") || ctok_is(nx, "INTERSECT") ||
                        ctok_is(nx, "EXCEPT") || ctok_is(nx, "WINDOW")
                    ? 0
                    : -1;
    if (before < 0 || after < 0 || (before + after == 0 && !(x->pred && x->depth == 1)))
        return NULL;
    const ccol *c = tok_col(x, i, b);
    if (!c || (c->t.kind != K_INT2 && c->t.kind != K_INT4 && c->t.kind != K_INT8 && c->t.kind != K_NUMERIC &&
               c->t.kind != K_FLOAT4 && c->t.kind != K_FLOAT8))
        return NULL;
    return c;
}

/* A name at i: "(col <> 0)" where number_as_truth says so. */
static void emit_operand(xctx *x, int a, int b, int i, int *prev_bool, buf *out)
{
    int truth = number_as_truth(x, a, b, i) != NULL;
    buf_adds(out, truth ? "(" : "");
    emit_name(x, &x->tk->v[i], prev_bool, out);
    buf_adds(out, truth ? " <> 0)" : "");
}

/* A whole-number operand for SQLite's integer division: a NUMERIC or
   integer column, or an integer literal. */
static int int_like(xctx *x, int k, int b)
{
    if (k < 0 || k >= b)
        return 0;
    const tok *t = &x->tk->v[k];
    if (t->type == TK_NUM)
        return !memchr(t->p, '.', t->n) && !memchr(t->p, 'e', t->n) && !memchr(t->p, 'E', t->n);
    const ccol *c = tok_col(x, k, b);
    return c && (c->t.kind == K_NUMERIC || c->t.kind == K_INT2 || c->t.kind == K_INT4 || c->t.kind == K_INT8);
}

static int tr_level(xctx *x, int a, int b, int flags, buf *out);

static int tr(xctx *x, int a, int b, int flags, buf *out)
{
    if (x->depth >= XDEPTH_MAX)
        return xfail(x, "expression nested too deeply");
    x->depth++;
    int rc = tr_level(x, a, b, flags, out);
    x->depth--;
    return rc;
}

static int tr_level(xctx *x, int a, int b, int flags, buf *out)
{
    const toks *tk = x->tk;
    static const tok none = {TK_EOF, "", 0};
    int prev_bool = 0; /* 1: a boolean column just emitted, 2: and a comparison */
    int in_from = 0;   /* after FROM at this level: "(SELECT ...)" needs an alias */
    int bool_list = 0; /* the next "(...)" is the list of "<boolean column> IN" */
    int in_with = 0;   /* between WITH and its SELECT: "name(columns) AS" */
    int case_bool = 0; /* in "CASE <boolean column> WHEN 1 ...": 0 and 1 are FALSE, TRUE */
    int in_order = 0;  /* in ORDER BY's items at this level: 2 after DESC, |4 after NULLS */
    for (int i = a; i < b; i++) {
        const tok *c = &tk->v[i];
        const tok *nx = i + 1 < b ? &tk->v[i + 1] : &none;
        if (in_order &&
            (ctok_punct(c, ",") || ctok_is(c, "LIMIT") || ctok_is(c, "OFFSET") || ctok_is(c, "UNION") ||
             ctok_is(c, "INTERSECT") || ctok_is(c, "EXCEPT") || ctok_is(c, "WINDOW"))) {
            /* SQLite sorts NULL first, PostgreSQL last */
            if (!(in_order & 4))
                buf_adds(out, in_order & 2 ? " NULLS LAST" : " NULLS FIRST");
            in_order = ctok_punct(c, ",") ? 1 : 0;
        } else if (in_order && ctok_is(c, "DESC")) {
            in_order |= 2;
        } else if (in_order && ctok_is(c, "NULLS")) {
            in_order |= 4;
        }
        if (ctok_is(c, "BY") && i > a && ctok_is(&tk->v[i - 1], "ORDER"))
            in_order = 1;
        if (ctok_is(c, "LIMIT") && ctok_punct(nx, "-") && i + 2 < b && tk->v[i + 2].type == TK_NUM) {
            emit_space(out, c);
            buf_adds(out, "LIMIT ALL"); /* SQLite: a negative limit is none */
            i += 2;
            continue;
        }
        if (ctok_punct(c, "||") && (is_real_col(tok_col(x, i - 1, b)) || is_real_col(tok_col(x, i + 1, b))))
            return xfail(
                x, "|| of a real column is not translated (SQLite writes 3.0 where PostgreSQL writes 3)");
        if (ctok_punct(c, "/") && i > a && int_like(x, i - 1, b) && int_like(x, i + 1, b)) {
            const ccol *l = tok_col(x, i - 1, b), *rt = tok_col(x, i + 1, b);
            if ((l && l->t.kind == K_NUMERIC) || (rt && rt->t.kind == K_NUMERIC))
                return xfail(x, "division of a NUMERIC column is not translated (SQLite divides the whole "
                                "numbers it holds as integers: 50 / 100 is 0, in PostgreSQL 0.5)");
        }
        if (case_bool == -1 && !ctok_is(c, "CASE")) {
            /* the token after CASE: a boolean column makes the WHENs booleans */
            const ccol *cc = tok_col(x, i, b);
            case_bool = cc && cc->t.kind == K_BOOL && !ctok_punct(nx, ".") ? 1 : 0;
        }
        int pb = prev_bool, bl = bool_list, dend;
        prev_bool = 0;
        bool_list = 0;
        emit_space(out, c);
        switch (c->type) {
        case TK_WORD:
            if (ctok_is(c, "CURRENT_TIMESTAMP") || ctok_is(c, "CURRENT_DATE") || ctok_is(c, "CURRENT_TIME")) {
                int what = ctok_is(c, "CURRENT_TIMESTAMP") ? 0 : ctok_is(c, "CURRENT_DATE") ? 1 : 2;
                const char *e;
                if (x->kind_hint >= 0) {
                    e = now_expr(what, x->kind_hint);
                    if (!e)
                        return xfail(x, "%.*s has no equivalent for this column type", (int)c->n, c->p);
                } else {
                    int k = near_kind(x, a, i, i, b);
                    e = k >= 0 ? now_expr(what, k) : NULL;
                    if (!e || k == K_INT8 || k == K_INT4 || k == K_NUMERIC || k == K_FLOAT8)
                        e = now_expr(what, K_TEXT); /* SQLite's own: text */
                }
                buf_adds(out, e);
            } else if (ctok_is(c, "CAST") && ctok_punct(nx, "(")) {
                int close = match_paren(tk, i + 1, b);
                if (close < 0)
                    return xfail(x, "unbalanced parentheses");
                if (tr_cast(x, i + 1, close, out))
                    return -1;
                i = close;
            } else if (ctok_is(c, "LIKE")) {
                buf_adds(out, "ILIKE"); /* SQLite's LIKE ignores ASCII case */
                /* SQLite's LIKE has no escape character unless told, PostgreSQL's is '\' */
                if (nx->type == TK_STR && memchr(nx->p, '\\', nx->n) &&
                    !(i + 2 < b && ctok_is(&tk->v[i + 2], "ESCAPE"))) {
                    buf_add(out, " ", 1);
                    buf_add(out, nx->p, nx->n);
                    buf_adds(out, " ESCAPE ''");
                    i++;
                }
            } else if (ctok_is(c, "GLOB") || (ctok_is(c, "NOT") && ctok_is(nx, "GLOB"))) {
                int neg = ctok_is(c, "NOT"), p = i + 1 + neg;
                if (p >= b || tk->v[p].type != TK_STR)
                    return xfail(x, "GLOB with a pattern that is not a string literal is not translated");
                buf_adds(out, neg ? "!~ " : "~ ");
                glob_regex(&tk->v[p], out);
                i = p;
            } else if (ctok_is(c, "REGEXP") || ctok_is(c, "MATCH")) {
                return xfail(x, "%.*s is not translated", (int)c->n, c->p);
            } else if (ctok_is(c, "IS") && !ctok_is(nx, "NULL") && !ctok_is(nx, "TRUE") &&
                       !ctok_is(nx, "FALSE") &&
                       !(ctok_is(nx, "NOT") && i + 2 < b &&
                         (ctok_is(&tk->v[i + 2], "NULL") || ctok_is(&tk->v[i + 2], "TRUE") ||
                          ctok_is(&tk->v[i + 2], "FALSE")))) {
                if (ctok_is(nx, "NOT")) {
                    buf_adds(out, "IS DISTINCT FROM");
                    i++;
                } else {
                    buf_adds(out, "IS NOT DISTINCT FROM");
                }
                if (pb == 1)
                    prev_bool = 2; /* "flag IS NOT 1": 0 and 1 are FALSE and TRUE */
            } else if (ctok_punct(nx, "(") && (!is_keyword(c) || ctok_is(c, "DATE") || ctok_is(c, "CHAR"))) {
                int close = match_paren(tk, i + 1, b);
                if (close < 0)
                    return xfail(x, "unbalanced parentheses");
                if (in_with && close + 1 < b && ctok_is(&tk->v[close + 1], "AS")) {
                    emit_name(x, c, &prev_bool, out); /* WITH name(columns) AS (...) */
                    continue;
                }
                if (tr_call(x, a, i, close, b, out))
                    return -1;
                i = close;
            } else if (is_keyword(c) && !(is_soft_keyword(c) && tok_col(x, i, b))) {
                for (size_t k = 0; k < c->n; k++)
                    buf_addf(out, "%c", c_toupper((unsigned char)c->p[k]));
                if (ctok_is(c, "WITH"))
                    in_with = 1;
                else if (ctok_is(c, "SELECT"))
                    in_with = 0;
                if (ctok_is(c, "FROM") || ctok_is(c, "JOIN"))
                    in_from = 1;
                else if (ctok_is(c, "WHERE") || ctok_is(c, "GROUP") || ctok_is(c, "HAVING") ||
                         ctok_is(c, "ORDER") || ctok_is(c, "LIMIT") || ctok_is(c, "UNION") ||
                         ctok_is(c, "INTERSECT") || ctok_is(c, "EXCEPT") || ctok_is(c, "ON") ||
                         ctok_is(c, "USING"))
                    in_from = 0;
                if (ctok_is(c, "NOT") && pb == 1)
                    prev_bool = 1;
                if (ctok_is(c, "CASE"))
                    case_bool = -1;
                else if (ctok_is(c, "WHEN") && case_bool == 1)
                    prev_bool = 2;
                else if (ctok_is(c, "END"))
                    case_bool = 0;
                if (ctok_is(c, "IN") && pb == 1)
                    bool_list = 1;
            } else {
                emit_operand(x, a, b, i, &prev_bool, out);
            }
            break;
        case TK_QID:
            emit_operand(x, a, b, i, &prev_bool, out);
            break;
        case TK_STR:
            buf_add(out, c->p, c->n);
            break;
        case TK_BLOB:
            buf_adds(out, "'\\x");
            buf_add(out, c->p + 2, c->n > 3 ? c->n - 3 : 0);
            buf_adds(out, "'::bytea");
            break;
        case TK_NUM:
            if (c->n > 2 && c->p[0] == '0' && (c->p[1] == 'x' || c->p[1] == 'X')) {
                char tmp[40];
                snprintf(tmp, sizeof(tmp), "%.*s", (int)(c->n < 39 ? c->n : 39), c->p);
                buf_addf(out, "%lld", (long long)strtoull(tmp, NULL, 16));
            } else if ((pb == 2 || (flags & XF_BOOL01)) && c->n == 1 && (c->p[0] == '0' || c->p[0] == '1')) {
                buf_adds(out, c->p[0] == '1' ? "TRUE" : "FALSE");
            } else {
                buf_add(out, c->p, c->n);
            }
            break;
        case TK_VAR:
            return xfail(x, "parameter %.*s in an expression", (int)c->n, c->p);
        default:
            if (ctok_punct(c, "(")) {
                int close = match_paren(tk, i, b);
                if (close < 0)
                    return xfail(x, "unbalanced parentheses");
                const tok *first = &tk->v[i + 1];
                int sub = ctok_is(first, "SELECT") || ctok_is(first, "WITH") || ctok_is(first, "VALUES");
                int need_alias = sub && i > a &&
                                 (ctok_is(&tk->v[i - 1], "FROM") || ctok_is(&tk->v[i - 1], "JOIN") ||
                                  (in_from && ctok_punct(&tk->v[i - 1], ",")));
                buf_adds(out, "(");
                if (tr(x, i + 1, close, bl ? XF_BOOL01 : 0, out))
                    return -1;
                buf_adds(out, ")");
                i = close;
                if (need_alias) {
                    /* PostgreSQL before 16 wants a name for a subquery in FROM */
                    const tok *after = i + 1 < b ? &tk->v[i + 1] : &none;
                    if (!ctok_is(after, "AS") && after->type != TK_QID &&
                        !(after->type == TK_WORD && !is_keyword(after)))
                        buf_addf(out, " AS \"subquery%d\"", ++x->nsub);
                }
            } else if (ctok_punct(c, ")")) {
                return xfail(x, "unbalanced parentheses");
            } else if (ctok_punct(c, "==")) {
                buf_adds(out, "=");
            } else if (ctok_punct(c, "->") || ctok_punct(c, "->>")) {
                return xfail(x, "JSON operator %.*s is not translated", (int)c->n, c->p);
            } else if ((dend = divisor_end(tk, i, b)) > 0) {
                /* SQLite gives NULL for x / 0 and x % 0, where PostgreSQL
                   stops the query: every SELECT of such a view failed */
                buf_add(out, c->p, c->n);
                buf_adds(out, " NULLIF(");
                if (tr(x, i + 1, dend, 0, out))
                    return -1;
                buf_adds(out, ", 0)");
                i = dend - 1;
            } else {
                buf_add(out, c->p, c->n);
            }
            if (pb == 1 &&
                (ctok_punct(c, "=") || ctok_punct(c, "==") || ctok_punct(c, "!=") || ctok_punct(c, "<>")))
                prev_bool = 2;
            break;
        }
    }
    if (in_order && !(in_order & 4))
        buf_adds(out, in_order & 2 ? " NULLS LAST" : " NULLS FIRST");
    return 0;
}

static int translate(const char *sql, size_t len, const cschema *s, const ctable *t, int kind_hint,
                     int keep_case, int pred, buf *out, char *why, size_t whysz)
{
    toks tk = {0};
    int rc = -1;
    if (tokenize(sql, len, &tk)) {
        snprintf(why, whysz, "out of memory");
        free(tk.v);
        return -1;
    }
    xctx x = {&tk, s, t, kind_hint, keep_case, why, whysz, 0, 0, pred};
    rc = tr(&x, 0, tk.n - 1, 0, out);
    if (!rc && out->oom) {
        rc = -1;
        snprintf(why, whysz, "out of memory");
    }
    free(tk.v);
    return rc;
}

int expr_translate(const char *sql, size_t len, const cschema *s, const ctable *t, int kind_hint,
                   int keep_case, buf *out, char *why, size_t whysz)
{
    return translate(sql, len, s, t, kind_hint, keep_case, 0, out, why, whysz);
}

int expr_translate_pred(const char *sql, size_t len, const cschema *s, const ctable *t, int keep_case,
                        buf *out, char *why, size_t whysz)
{
    return translate(sql, len, s, t, -1, keep_case, 1, out, why, whysz);
}

/* ------------------------------------------------------------ reading */

int table_col(const ctable *t, const char *src)
{
    for (int i = 0; i < t->ncols; i++)
        if (!c_strcasecmp(t->cols[i].src, src))
            return i;
    return -1;
}

int schema_find(const cschema *s, const char *src)
{
    for (int i = 0; i < s->n; i++)
        if (!c_strcasecmp(s->t[i].src, src))
            return i;
    return -1;
}

static void strv_free(char **v, int n)
{
    for (int i = 0; v && i < n; i++)
        free(v[i]);
    free(v);
}

void ccols_free(ccol *v, int n)
{
    for (int k = 0; v && k < n; k++) {
        free(v[k].src);
        free(v[k].dst);
        free(v[k].decl);
        free(v[k].pgtype);
        free(v[k].dflt);
        free(v[k].seqname);
    }
    free(v);
}

void table_release(ctable *t)
{
    free(t->pk_null);
    ccols_free(t->cols, t->ncols);
    ccols_free(t->scols, t->nscols);
    for (int k = 0; k < t->nfks; k++) {
        cfk *f = &t->fks[k];
        free(f->name);
        free(f->parent);
        strv_free(f->from, f->n);
        strv_free(f->to, f->n);
        free(f->on_update);
        free(f->on_delete);
    }
    free(t->fks);
    for (int k = 0; k < t->nidx; k++) {
        cidx *x = &t->idx[k];
        free(x->name);
        free(x->sql);
        free(x->cname);
        strv_free(x->cols, x->ncols);
        free(x->desc);
    }
    free(t->idx);
    for (int k = 0; k < t->nchecks; k++) {
        free(t->checks[k].name);
        free(t->checks[k].expr);
        free(t->checks[k].col);
    }
    free(t->checks);
    free(t->deps);
    free(t->pkname);
    free(t->src);
    free(t->dst);
    free(t->sql);
    free(t->src_sum);
    free(t->rec_sum);
    memset(t, 0, sizeof(*t));
}

void schema_release(cschema *s)
{
    for (int i = 0; i < s->n; i++)
        table_release(&s->t[i]);
    free(s->t);
    strv_free(s->views, s->nviews * 2);
    strv_free(s->triggers, s->ntriggers);
    memset(s, 0, sizeof(*s));
}

static char *col_text(sqlite3_stmt *st, int i)
{
    const unsigned char *p = sqlite3_column_text(st, i);
    return p ? xstrdup((const char *)p) : NULL;
}

/* DEFERRABLE [INITIALLY DEFERRED] of the foreign key whose REFERENCES is
   token k of the item st..end of the CREATE TABLE text (col: the column the
   item defines, NULL for a table constraint's FOREIGN KEY (...)), onto t's
   foreign key of the same columns and parent: pragma_foreign_key_list does
   not tell it, and Django declares every key so. */
static void fk_deferrable(ctable *t, const toks *tk, int st, int k, int end, const char *col)
{
    int defer = 0;
    for (int j = k + 2; j < end && !ctok_is(&tk->v[j], "REFERENCES"); j++)
        if (ctok_is(&tk->v[j], "DEFERRABLE"))
            defer = ctok_is(&tk->v[j - 1], "NOT") ? 0
                    : j + 2 < end && ctok_is(&tk->v[j + 1], "INITIALLY") && ctok_is(&tk->v[j + 2], "DEFERRED")
                        ? 2
                        : 1;
    if (!defer)
        return;
    char *parent = tok_name(&tk->v[k + 1]);
    char *from[32];
    int n = 0;
    if (col) {
        from[n++] = xstrdup(col);
    } else { /* FOREIGN KEY (a, b) */
        int j = st;
        while (j < k && !ctok_punct(&tk->v[j], "("))
            j++;
        for (j++; j < k && n < 32 && !ctok_punct(&tk->v[j], ")"); j++)
            if (!ctok_punct(&tk->v[j], ","))
                from[n++] = tok_name(&tk->v[j]);
    }
    for (int i = 0; parent && i < t->nfks; i++) {
        cfk *f = &t->fks[i];
        int same = f->n == n && f->parent && !c_strcasecmp(f->parent, parent);
        for (int c = 0; same && c < n; c++)
            same = f->from[c] && from[c] && !c_strcasecmp(f->from[c], from[c]);
        if (same)
            f->deferrable = defer;
    }
    for (int c = 0; c < n; c++)
        free(from[c]);
    free(parent);
}

/* CHECK constraints, COLLATE NOCASE and the foreign keys' DEFERRABLE from
   the CREATE TABLE text. */
static void parse_create(ctable *t)
{
    toks tk = {0};
    const char *sql = t->sql ? t->sql : "";
    if (tokenize(sql, strlen(sql), &tk)) {
        free(tk.v);
        return;
    }
    int i = 0;
    while (i < tk.n && tk.v[i].type != TK_EOF && !ctok_punct(&tk.v[i], "("))
        i++;
    i++;
    while (i < tk.n && tk.v[i].type != TK_EOF) {
        /* one item: up to a top-level ',' or the closing ')' */
        int st = i, depth = 0, end = i;
        while (end < tk.n && tk.v[end].type != TK_EOF) {
            if (ctok_punct(&tk.v[end], "("))
                depth++;
            else if (ctok_punct(&tk.v[end], ")")) {
                if (depth == 0)
                    break;
                depth--;
            } else if (depth == 0 && ctok_punct(&tk.v[end], ","))
                break;
            end++;
        }
        int tablecons = ctok_is(&tk.v[st], "CONSTRAINT") || ctok_is(&tk.v[st], "PRIMARY") ||
                        ctok_is(&tk.v[st], "UNIQUE") || ctok_is(&tk.v[st], "CHECK") ||
                        ctok_is(&tk.v[st], "FOREIGN");
        char *col = tablecons ? NULL : tok_name(&tk.v[st]);
        char *cname = NULL;
        for (int k = tablecons ? st : st + 1; k < end; k++) {
            if (ctok_is(&tk.v[k], "CONSTRAINT") && k + 1 < end) {
                free(cname);
                cname = tok_name(&tk.v[k + 1]);
                k++;
            } else if (ctok_is(&tk.v[k], "CHECK") && k + 1 < end && ctok_punct(&tk.v[k + 1], "(")) {
                int close;
                call_args(&tk, k + 1, &close);
                const char *a = tk.v[k + 1].p + 1, *b = tk.v[close].p;
                if (!ARR_GROW(t->checks, t->capchecks, (size_t)t->nchecks + 1)) {
                    ccheck *nc = t->checks;
                    nc[t->nchecks].name = cname;
                    nc[t->nchecks].expr = xstrndup(a, (size_t)(b - a));
                    nc[t->nchecks].col = xstrdup(col);
                    t->nchecks++;
                    cname = NULL;
                }
                k = close;
            } else if (ctok_is(&tk.v[k], "COLLATE") && k + 1 < end &&
                       (ctok_is(&tk.v[k + 1], "NOCASE") || ctok_is(&tk.v[k + 1], "RTRIM")) && col) {
                int ci = table_col(t, col);
                if (ci >= 0 && ctok_is(&tk.v[k + 1], "NOCASE"))
                    t->cols[ci].nocase = 1;
                else if (ci >= 0)
                    t->cols[ci].rtrim = 1;
            } else if (ctok_is(&tk.v[k], "REFERENCES") && k + 1 < end) {
                free(cname);
                cname = NULL;
                fk_deferrable(t, &tk, st, k, end, col);
            } else if (ctok_is(&tk.v[k], "PRIMARY") || ctok_is(&tk.v[k], "UNIQUE") ||
                       ctok_is(&tk.v[k], "FOREIGN") || ctok_is(&tk.v[k], "DEFAULT") ||
                       ctok_is(&tk.v[k], "NOT")) {
                free(cname);
                cname = NULL;
            }
        }
        free(cname);
        free(col);
        i = end < tk.n && ctok_punct(&tk.v[end], ",") ? end + 1 : tk.n;
    }
    free(tk.v);
}

static int sq_fail(sqlite3 *db, strata_error *err, const char *what)
{
    err_set(err, STRATA_DB_ERROR, "cannot read the SQLite schema (%s): %s", what, sqlite3_errmsg(db));
    return STRATA_DB_ERROR;
}

/* Refines a typeless column from the values it holds. */
static void refine_typeless(sqlite3 *db, ctable *t, ccol *c)
{
    buf q;
    buf_init(&q);
    buf_adds(&q, "SELECT typeof(");
    buf_add_quoted_ident(&q, c->src);
    buf_adds(&q, "), count(*) FROM ");
    buf_add_quoted_ident(&q, t->src);
    buf_adds(&q, " GROUP BY 1");
    sqlite3_stmt *st = NULL;
    int ints = 0, reals = 0, texts = 0, blobs = 0;
    if (q.data && sqlite3_prepare_v2(db, q.data, -1, &st, NULL) == SQLITE_OK) {
        while (sqlite3_step(st) == SQLITE_ROW) {
            const char *ty = (const char *)sqlite3_column_text(st, 0);
            if (!ty)
                continue;
            ints |= !strcmp(ty, "integer");
            reals |= !strcmp(ty, "real");
            texts |= !strcmp(ty, "text");
            blobs |= !strcmp(ty, "blob");
        }
    }
    sqlite3_finalize(st);
    buf_release(&q);
    ctype nt = {K_TEXT, -1, -1, -1, 0};
    if (blobs && !ints && !reals && !texts)
        nt.kind = K_BYTEA;
    else if (ints && !reals && !texts && !blobs)
        nt.kind = K_INT8;
    else if (reals && !texts && !blobs)
        nt.kind = K_FLOAT8;
    c->t = nt;
    free(c->pgtype);
    buf b;
    buf_init(&b);
    ctype_sql(&nt, &b);
    c->pgtype = buf_detach(&b);
}

static strata_code read_table(sqlite3 *db, ctable *t, int keep_case, strata_error *err)
{
    sqlite3_stmt *st = NULL;
    strata_code rc = STRATA_OK;
    /* columns */
    if (sqlite3_prepare_v2(db,
                           "SELECT name, type, \"notnull\", dflt_value, pk, hidden "
                           "FROM pragma_table_xinfo(?1) ORDER BY cid",
                           -1, &st, NULL) != SQLITE_OK)
        return sq_fail(db, err, "columns");
    sqlite3_bind_text(st, 1, t->src, -1, SQLITE_STATIC);
    while (sqlite3_step(st) == SQLITE_ROW) {
        if (ARR_GROW(t->cols, t->capcols, (size_t)t->ncols + 1)) {
            sqlite3_finalize(st);
            return err_set(err, STRATA_NOMEM, "out of memory");
        }
        ccol *c = &t->cols[t->ncols++];
        memset(c, 0, sizeof(*c));
        c->src = col_text(st, 0);
        c->dst = copy_name(c->src ? c->src : "", keep_case);
        c->decl = col_text(st, 1);
        if (!c->decl)
            c->decl = xstrdup("");
        c->notnull = sqlite3_column_int(st, 2);
        c->dflt = col_text(st, 3);
        c->pk = sqlite3_column_int(st, 4);
        int hidden = sqlite3_column_int(st, 5);
        c->generated = hidden == 2 || hidden == 3;
        c->srcidx = t->ncols - 1;
        map_decl_type(c->decl, &c->t, &c->pgtype);
    }
    sqlite3_finalize(st);
    st = NULL; /* finalized again below when no rowid name is free to ask */
    /* rowid access and rowid alias */
    static const char *const rid[] = {"rowid", "_rowid_", "oid"};
    for (int k = 0; k < 3 && !t->rowid[0]; k++) {
        if (table_col(t, rid[k]) >= 0)
            continue;
        buf q;
        buf_init(&q);
        buf_addf(&q, "SELECT %s FROM ", rid[k]);
        buf_add_quoted_ident(&q, t->src);
        if (q.data && sqlite3_prepare_v2(db, q.data, -1, &st, NULL) == SQLITE_OK)
            snprintf(t->rowid, sizeof(t->rowid), "%s", rid[k]);
        sqlite3_finalize(st);
        st = NULL;
        buf_release(&q);
    }
    int npk = 0, pkcol = -1;
    for (int k = 0; k < t->ncols; k++)
        if (t->cols[k].pk) {
            npk++;
            pkcol = k;
        }
    /* the rowid alias: the one column SQLite fills itself. Not when the key
       has an index of its own (origin 'pk'): "INTEGER PRIMARY KEY DESC" in
       a column's definition is an ordinary column, NULLs and all */
    int pk_index = 0;
    if (npk == 1 && sqlite3_prepare_v2(db, "SELECT 1 FROM pragma_index_list(?1) WHERE origin = 'pk'", -1, &st,
                                       NULL) == SQLITE_OK) {
        sqlite3_bind_text(st, 1, t->src, -1, SQLITE_STATIC);
        pk_index = sqlite3_step(st) == SQLITE_ROW;
    }
    sqlite3_finalize(st);
    st = NULL;
    if (npk == 1 && !c_strcasecmp(t->cols[pkcol].decl, "INTEGER") && t->rowid[0] && !pk_index)
        t->cols[pkcol].identity = 1;
    /* a STRICT table's ANY column keeps every value as it was given (in
       other tables ANY is a type name of NUMERIC affinity): as typeless */
    int strict = 0;
    /* the table's own row (SQLite's look-up), not the whole list per table */
    if (sqlite3_prepare_v2(db, "SELECT \"strict\" FROM pragma_table_list(?1) WHERE schema = 'main'", -1, &st,
                           NULL) == SQLITE_OK) {
        sqlite3_bind_text(st, 1, t->src, -1, SQLITE_STATIC);
        strict = sqlite3_step(st) == SQLITE_ROW && sqlite3_column_int(st, 0);
    }
    sqlite3_finalize(st);
    st = NULL;
    for (int k = 0; k < t->ncols; k++)
        if ((!t->cols[k].decl[0] || (strict && !c_strcasecmp(t->cols[k].decl, "ANY"))) &&
            !t->cols[k].identity)
            refine_typeless(db, t, &t->cols[k]);
    /* AUTOINCREMENT counter */
    if (sqlite3_prepare_v2(db, "SELECT seq FROM sqlite_sequence WHERE name = ?1", -1, &st, NULL) ==
        SQLITE_OK) {
        sqlite3_bind_text(st, 1, t->src, -1, SQLITE_STATIC);
        if (sqlite3_step(st) == SQLITE_ROW) {
            t->has_seq = 1;
            t->seq = sqlite3_column_int64(st, 0);
        }
    }
    sqlite3_finalize(st);
    st = NULL;
    /* foreign keys */
    if (sqlite3_prepare_v2(db,
                           "SELECT id, \"table\", \"from\", \"to\", on_update, on_delete "
                           "FROM pragma_foreign_key_list(?1) ORDER BY id, seq",
                           -1, &st, NULL) != SQLITE_OK)
        return sq_fail(db, err, "foreign keys");
    sqlite3_bind_text(st, 1, t->src, -1, SQLITE_STATIC);
    int lastid = -1;
    while (sqlite3_step(st) == SQLITE_ROW) {
        int id = sqlite3_column_int(st, 0);
        if (id != lastid) {
            if (ARR_GROW(t->fks, t->capfks, (size_t)t->nfks + 1))
                break;
            cfk *nf = t->fks;
            memset(&nf[t->nfks], 0, sizeof(cfk));
            nf[t->nfks].parent = col_text(st, 1);
            nf[t->nfks].on_update = col_text(st, 4);
            nf[t->nfks].on_delete = col_text(st, 5);
            t->nfks++;
            lastid = id;
        }
        cfk *f = &t->fks[t->nfks - 1];
        if (ARR_GROW(f->from, f->capfrom, (size_t)f->n + 1) || ARR_GROW(f->to, f->capto, (size_t)f->n + 1))
            break;
        f->from[f->n] = col_text(st, 2);
        f->to[f->n] = col_text(st, 3);
        f->n++;
    }
    sqlite3_finalize(st);
    st = NULL;
    /* indexes */
    if (sqlite3_prepare_v2(db,
                           "SELECT l.name, l.\"unique\", l.origin, l.partial "
                           "FROM pragma_index_list(?1) l ORDER BY l.seq DESC",
                           -1, &st, NULL) != SQLITE_OK)
        return sq_fail(db, err, "indexes");
    sqlite3_bind_text(st, 1, t->src, -1, SQLITE_STATIC);
    while (sqlite3_step(st) == SQLITE_ROW) {
        if (ARR_GROW(t->idx, t->capidx, (size_t)t->nidx + 1))
            break;
        cidx *x = &t->idx[t->nidx++];
        memset(x, 0, sizeof(*x));
        x->name = col_text(st, 0);
        x->unique = sqlite3_column_int(st, 1);
        const char *o = (const char *)sqlite3_column_text(st, 2);
        x->origin = o && !strcmp(o, "pk") ? 'p' : o && !strcmp(o, "u") ? 'u' : 'c';
        x->partial = sqlite3_column_int(st, 3);
    }
    sqlite3_finalize(st);
    st = NULL;
    /* their SQL: one pass over the table's rows of sqlite_master (a join
       by name scanned it once per index: quadratic in the indexes) */
    if (t->nidx) {
        if (sqlite3_prepare_v2(db,
                               "SELECT name, sql FROM sqlite_master WHERE type = 'index' AND tbl_name = ?1 "
                               "COLLATE NOCASE",
                               -1, &st, NULL) != SQLITE_OK)
            return sq_fail(db, err, "indexes");
        sqlite3_bind_text(st, 1, t->src, -1, SQLITE_STATIC);
        while (sqlite3_step(st) == SQLITE_ROW) {
            const char *name = (const char *)sqlite3_column_text(st, 0);
            for (int k = 0; name && k < t->nidx; k++)
                if (!t->idx[k].sql && t->idx[k].name && !strcmp(t->idx[k].name, name)) {
                    t->idx[k].sql = col_text(st, 1);
                    break;
                }
        }
        sqlite3_finalize(st);
        st = NULL;
    }
    for (int k = 0; k < t->nidx; k++) {
        cidx *x = &t->idx[k];
        if (sqlite3_prepare_v2(db,
                               "SELECT cid, name, \"desc\", coll FROM pragma_index_xinfo(?1) "
                               "WHERE key = 1 ORDER BY seqno",
                               -1, &st, NULL) != SQLITE_OK)
            return sq_fail(db, err, "index columns");
        sqlite3_bind_text(st, 1, x->name, -1, SQLITE_STATIC);
        while (sqlite3_step(st) == SQLITE_ROW) {
            if (ARR_GROW(x->cols, x->capcols, (size_t)x->ncols + 1) ||
                ARR_GROW(x->desc, x->capdesc, (size_t)x->ncols + 1))
                break;
            int cid = sqlite3_column_int(st, 0);
            x->cols[x->ncols] = cid == -2 ? NULL : cid == -1 ? xstrdup(t->rowid) : col_text(st, 1);
            x->desc[x->ncols] = sqlite3_column_int(st, 2);
            const char *coll = (const char *)sqlite3_column_text(st, 3);
            if (coll && !c_strcasecmp(coll, "NOCASE"))
                x->nocase = 1;
            else if (coll && !c_strcasecmp(coll, "RTRIM"))
                x->rtrim = 1;
            x->ncols++;
        }
        sqlite3_finalize(st);
        st = NULL;
    }
    parse_create(t);
    return rc;
}

strata_code schema_read(sqlite3 *db, int keep_case, const char *version_table, cschema *s, cwarn *w,
                        strata_error *err)
{
    sqlite3_stmt *st = NULL;
    memset(s, 0, sizeof(*s));
    if (sqlite3_prepare_v2(db,
                           "SELECT type, name, sql FROM sqlite_master "
                           "WHERE type IN ('table', 'view', 'trigger') ORDER BY type, name",
                           -1, &st, NULL) != SQLITE_OK)
        return sq_fail(db, err, "sqlite_master");
    char **virt = NULL;
    int nvirt = 0;
    size_t capvirt = 0;
    while (sqlite3_step(st) == SQLITE_ROW) {
        const char *type = (const char *)sqlite3_column_text(st, 0);
        const char *name = (const char *)sqlite3_column_text(st, 1);
        const char *sql = (const char *)sqlite3_column_text(st, 2);
        if (!type || !name)
            continue;
        if (!strcmp(type, "view")) {
            if (ARR_GROW(s->views, s->capviews, ((size_t)s->nviews + 1) * 2))
                continue;
            char **nv = s->views;
            nv[2 * s->nviews] = xstrdup(name);
            nv[2 * s->nviews + 1] = xstrdup(sql ? sql : "");
            s->nviews++;
            continue;
        }
        if (!strcmp(type, "trigger")) {
            if (ARR_GROW(s->triggers, s->captriggers, (size_t)s->ntriggers + 1))
                continue;
            s->triggers[s->ntriggers++] = xstrdup(name);
            continue;
        }
        if (!strncmp(name, "sqlite_", 7))
            continue;
        if (sql && !c_strncasecmp(sql, "CREATE VIRTUAL", 14)) {
            cwarn_add(w, "virtual table \"%s\" not copied (a SQLite module; rebuild it in PostgreSQL)", name);
            if (!ARR_GROW(virt, capvirt, (size_t)nvirt + 1))
                virt[nvirt++] = xstrdup(name);
            continue;
        }
        if (ARR_GROW(s->t, s->cap, (size_t)s->n + 1)) {
            sqlite3_finalize(st);
            strv_free(virt, nvirt);
            return err_set(err, STRATA_NOMEM, "out of memory");
        }
        ctable *t = &s->t[s->n++];
        memset(t, 0, sizeof(*t));
        t->src = xstrdup(name);
        /* the version table (SQLite matches its name in any case) goes
           under the name --table gives every other command on PostgreSQL,
           case and all, whatever --keep-case says */
        t->version_table = version_table && !c_strcasecmp(name, version_table);
        t->dst = t->version_table ? xstrdup(version_table) : copy_name(name, keep_case);
        t->sql = xstrdup(sql ? sql : "");
    }
    sqlite3_finalize(st);
    /* shadow tables of virtual tables (fts5: x_data, x_idx, ...) go with them */
    for (int i = 0; i < s->n; i++) {
        for (int v = 0; v < nvirt; v++) {
            size_t l = strlen(virt[v]);
            if (!c_strncasecmp(s->t[i].src, virt[v], l) && s->t[i].src[l] == '_') {
                table_release(&s->t[i]);
                memmove(&s->t[i], &s->t[i + 1], (size_t)(s->n - i - 1) * sizeof(ctable));
                s->n--;
                i--;
                break;
            }
        }
    }
    strv_free(virt, nvirt);
    for (int i = 0; i < s->n; i++) {
        strata_code rc = read_table(db, &s->t[i], keep_case, err);
        if (rc)
            return rc;
    }
    return STRATA_OK;
}

void ddl_create_table(const ctable *t, buf *b)
{
    buf_adds(b, "CREATE TABLE ");
    buf_add_quoted_ident(b, t->dst);
    buf_adds(b, " (");
    for (int i = 0; i < t->ncols; i++) {
        const ccol *c = &t->cols[i];
        if (i)
            buf_adds(b, ", ");
        buf_add_quoted_ident(b, c->dst);
        buf_add(b, " ", 1);
        buf_adds(b, c->pgtype);
        if (c->identity) {
            buf_adds(b, " GENERATED BY DEFAULT AS IDENTITY");
            /* PostgreSQL would name it table_column_seq, unless taken when
               the table is created: a name a later table, index or view of
               the source has would then clash (copy_names chose another) */
            buf dflt;
            buf_init(&dflt);
            buf_addf(&dflt, "%s_%s_seq", t->dst, c->dst);
            if (c->seqname && (!dflt.data || dflt.len > 63 || strcmp(dflt.data, c->seqname))) {
                buf_adds(b, " (SEQUENCE NAME ");
                buf_add_quoted_ident(b, c->seqname);
                buf_adds(b, ")");
            }
            buf_release(&dflt);
        }
        if (c->notnull || c->identity)
            buf_adds(b, " NOT NULL");
    }
    buf_adds(b, ")");
}
