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
    if (w->n == w->cap) {
        size_t cap = w->cap ? w->cap * 2 : 16;
        char **v = realloc(w->v, cap * sizeof(*v));
        if (!v)
            return;
        w->v = v;
        w->cap = cap;
    }
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

void buf_add_qident(buf *b, const char *s)
{
    buf_add(b, "\"", 1);
    for (; *s; s++) {
        if (*s == '"')
            buf_add(b, "\"", 1);
        buf_add(b, s, 1);
    }
    buf_add(b, "\"", 1);
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
    case K_INT2: buf_adds(b, "smallint"); break;
    case K_INT4: buf_adds(b, "integer"); break;
    case K_INT8: buf_adds(b, "bigint"); break;
    case K_FLOAT4: buf_adds(b, "real"); break;
    case K_FLOAT8: buf_adds(b, "double precision"); break;
    case K_NUMERIC:
        if (t->prec > 0)
            buf_addf(b, "numeric(%d,%d)", t->prec, t->scale);
        else
            buf_adds(b, "numeric");
        break;
    case K_VARCHAR: buf_addf(b, "varchar(%d)", t->len); break;
    case K_BPCHAR: buf_addf(b, "char(%d)", t->len); break;
    case K_BYTEA: buf_adds(b, "bytea"); break;
    case K_BOOL: buf_adds(b, "boolean"); break;
    case K_DATE: buf_adds(b, "date"); break;
    case K_TIME: buf_adds(b, "time"); break;
    case K_TIMESTAMP: buf_adds(b, "timestamp"); break;
    case K_TIMESTAMPTZ: buf_adds(b, "timestamptz"); break;
    case K_JSON: buf_adds(b, "json"); break;
    case K_JSONB: buf_adds(b, "jsonb"); break;
    case K_UUID: buf_adds(b, "uuid"); break;
    default: buf_adds(b, "text"); break;
    }
}

void map_decl_type(const char *decl, ctype *t, char **pgtype)
{
    char u[128], base[128];
    int a1 = -1, a2 = -1;
    size_t n = 0;
    for (const char *p = decl ? decl : ""; *p && n + 1 < sizeof(u); p++)
        u[n++] = (char)toupper((unsigned char)*p);
    u[n] = 0;
    char *par = strchr(u, '(');
    snprintf(base, sizeof(base), "%.*s", par ? (int)(par - u) : (int)n, u);
    size_t bl = strlen(base);
    while (bl && isspace((unsigned char)base[bl - 1]))
        base[--bl] = 0;
    if (par && sscanf(par, "(%d ,%d", &a1, &a2) < 1)
        a1 = -1;
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
        if (a1 >= 1 && a1 <= 1000) {
            t->prec = a1;
            t->scale = a2 >= 0 && a2 <= a1 ? a2 : 0;
        }
    } else if ((!strcmp(base, "VARCHAR") || !strcmp(base, "CHARACTER VARYING") ||
                !strcmp(base, "NVARCHAR") || !strcmp(base, "VARYING CHARACTER") ||
                !strcmp(base, "NATIVE CHARACTER VARYING")) && a1 >= 1 && a1 <= 10485760) {
        t->kind = K_VARCHAR;
        t->len = a1;
    } else if ((!strcmp(base, "CHAR") || !strcmp(base, "CHARACTER") || !strcmp(base, "NCHAR") ||
                !strcmp(base, "NATIVE CHARACTER")) && a1 >= 1 && a1 <= 10485760) {
        t->kind = K_BPCHAR;
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
        while (i < len && (isalnum((unsigned char)s[i]) || s[i] == '_' || s[i] == '$' ||
                           (unsigned char)s[i] >= 0x80))
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
    int cap = 64;
    out->n = 0;
    out->v = malloc((size_t)cap * sizeof(tok));
    if (!out->v)
        return -1;
    size_t i = 0;
    for (;;) {
        if (out->n == cap) {
            cap *= 2;
            tok *nv = realloc(out->v, (size_t)cap * sizeof(tok));
            if (!nv)
                return -1;
            out->v = nv;
        }
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
    return t->type == TK_WORD && strlen(word) == t->n && !strncasecmp(t->p, word, t->n);
}

static int ctok_punct(const tok *t, const char *p)
{
    return t->type == TK_PUNCT && strlen(p) == t->n && !strncmp(t->p, p, t->n);
}

/* ------------------------------------------------------------ translation */

static const char *const keywords[] = {
    "ABORT", "ALL", "AND", "AS", "ASC", "BETWEEN", "BY", "CASE", "CAST", "COLLATE", "CROSS",
    "DESC", "DISTINCT", "ELSE", "END", "ESCAPE", "EXCEPT", "EXISTS", "FALSE", "FROM", "FULL",
    "GROUP", "HAVING", "IN", "INNER", "INTERSECT", "IS", "ISNULL", "JOIN", "LEFT", "LIMIT",
    "NATURAL", "NOT", "NOTNULL", "NULL", "OFFSET", "ON", "OR", "ORDER", "OUTER", "RIGHT",
    "SELECT", "THEN", "TRUE", "UNION", "USING", "WHEN", "WHERE", "WITH", "RECURSIVE", "OVER",
    "PARTITION", "ROWS", "RANGE", "PRECEDING", "FOLLOWING", "UNBOUNDED", "CURRENT", "ROW",
    "NULLS", "FIRST", "LAST", "INTEGER", "TEXT", "REAL", "BLOB", "NUMERIC", "VARCHAR", "CHAR",
    "BOOLEAN", "DATE", "TIMESTAMP", "BIGINT", "FILTER", "VALUES", NULL};

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
    return t->type == TK_STR && t->n == strlen(s) + 2 && !strncasecmp(t->p + 1, s, strlen(s));
}

/* Replacement for "the current time" in a default of a column of kind k. */
static const char *now_expr(int what, int k)
{
    /* what: 0 timestamp, 1 date, 2 time, 3 epoch seconds, 4 julian day */
    switch (what) {
    case 0:
        if (k == K_TIMESTAMPTZ) return "now()";
        if (k == K_TIMESTAMP) return "(now() AT TIME ZONE 'UTC')";
        if (k == K_DATE) return "((now() AT TIME ZONE 'UTC')::date)";
        if (k == K_TEXT || k == K_VARCHAR) return "to_char(now() AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS')";
        return NULL;
    case 1:
        if (k == K_DATE) return "((now() AT TIME ZONE 'UTC')::date)";
        if (k == K_TIMESTAMP) return "date_trunc('day', now() AT TIME ZONE 'UTC')";
        if (k == K_TIMESTAMPTZ) return "date_trunc('day', now(), 'UTC')";
        if (k == K_TEXT || k == K_VARCHAR) return "to_char(now() AT TIME ZONE 'UTC', 'YYYY-MM-DD')";
        return NULL;
    case 2:
        if (k == K_TIME) return "((now() AT TIME ZONE 'UTC')::time(0))";
        if (k == K_TEXT || k == K_VARCHAR) return "to_char(now() AT TIME ZONE 'UTC', 'HH24:MI:SS')";
        return NULL;
    case 3:
        if (k == K_INT8 || k == K_INT4 || k == K_NUMERIC) return "(extract(epoch FROM now())::bigint)";
        return NULL;
    default:
        if (k == K_FLOAT8 || k == K_NUMERIC) return "(extract(epoch FROM now()) / 86400.0 + 2440587.5)";
        return NULL;
    }
}

int expr_translate(const char *sql, size_t len, const cschema *s, const ctable *t, int kind_hint,
                   int keep_case, buf *out, char *why, size_t whysz)
{
    toks tk = {0};
    int rc = -1, prev_bool = 0; /* 2: [bool column][comparison] just emitted */
    if (tokenize(sql, len, &tk)) {
        snprintf(why, whysz, "out of memory");
        free(tk.v);
        return -1;
    }
    for (int i = 0; i < tk.n && tk.v[i].type != TK_EOF; i++) {
        tok *x = &tk.v[i];
        tok *nx = &tk.v[i + 1 < tk.n ? i + 1 : i];
        int pb = prev_bool;
        prev_bool = 0;
        char last = out->len ? out->data[out->len - 1] : 0;
        int call = ctok_punct(x, "(") && (isalnum((unsigned char)last) || last == '_');
        if (out->len && !ctok_punct(x, ")") && !ctok_punct(x, ",") && !ctok_punct(x, ".") && !call &&
            last != '(' && last != '.')
            buf_add(out, " ", 1);
        switch (x->type) {
        case TK_WORD:
            if (ctok_is(x, "CURRENT_TIMESTAMP") || ctok_is(x, "CURRENT_DATE") || ctok_is(x, "CURRENT_TIME")) {
                int what = ctok_is(x, "CURRENT_TIMESTAMP") ? 0 : ctok_is(x, "CURRENT_DATE") ? 1 : 2;
                const char *e = kind_hint >= 0 ? now_expr(what, kind_hint) : NULL;
                if (!e) {
                    snprintf(why, whysz, "%.*s has no equivalent for this column type", (int)x->n, x->p);
                    goto out;
                }
                buf_adds(out, e);
            } else if (ctok_punct(nx, "(")) {
                int close, nargs = call_args(&tk, i + 1, &close);
                int what = -1;
                if ((ctok_is(x, "datetime") || ctok_is(x, "date") || ctok_is(x, "time") ||
                     ctok_is(x, "julianday")) && nargs == 1 && str_is(&tk.v[i + 2], "now"))
                    what = ctok_is(x, "datetime") ? 0 : ctok_is(x, "date") ? 1 : ctok_is(x, "time") ? 2 : 4;
                else if (ctok_is(x, "strftime") && nargs == 2 && str_is(&tk.v[i + 2], "%s") &&
                         str_is(&tk.v[i + 4], "now"))
                    what = 3;
                if (what >= 0) {
                    const char *e = kind_hint >= 0 ? now_expr(what, kind_hint) : NULL;
                    if (!e) {
                        snprintf(why, whysz, "%.*s('now') has no equivalent here", (int)x->n, x->p);
                        goto out;
                    }
                    buf_adds(out, e);
                    i = close;
                    break;
                }
                static const char *const same[] = {
                    "abs", "coalesce", "nullif", "lower", "upper", "length", "trim", "ltrim", "rtrim",
                    "replace", "substr", "round", "count", "sum", "avg", "random", "sign", NULL};
                char lname[64];
                snprintf(lname, sizeof(lname), "%.*s", (int)(x->n < 63 ? x->n : 63), x->p);
                for (char *p = lname; *p; p++)
                    *p = (char)tolower((unsigned char)*p);
                const char *fn = NULL;
                for (int k = 0; same[k]; k++)
                    if (!strcmp(lname, same[k]))
                        fn = same[k];
                if (!strcmp(lname, "ifnull"))
                    fn = "coalesce";
                else if (!strcmp(lname, "instr"))
                    fn = "strpos";
                else if (!strcmp(lname, "substring"))
                    fn = "substr";
                else if ((!strcmp(lname, "max") || !strcmp(lname, "min")) && nargs >= 1)
                    fn = nargs >= 2 ? (lname[1] == 'a' ? "greatest" : "least") : (lname[1] == 'a' ? "max" : "min");
                if (!fn) {
                    snprintf(why, whysz, "SQLite function %s() is not translated", lname);
                    goto out;
                }
                buf_adds(out, fn);
            } else if (ctok_is(x, "LIKE")) {
                buf_adds(out, "ILIKE"); /* SQLite's LIKE ignores ASCII case */
            } else if (ctok_is(x, "GLOB") || ctok_is(x, "REGEXP") || ctok_is(x, "MATCH")) {
                snprintf(why, whysz, "%.*s is not translated", (int)x->n, x->p);
                goto out;
            } else if (ctok_is(x, "IS") && !ctok_is(nx, "NULL") && !ctok_is(nx, "TRUE") &&
                       !ctok_is(nx, "FALSE") && !(ctok_is(nx, "NOT") && i + 2 < tk.n &&
                                                 (ctok_is(&tk.v[i + 2], "NULL") ||
                                                  ctok_is(&tk.v[i + 2], "TRUE") ||
                                                  ctok_is(&tk.v[i + 2], "FALSE")))) {
                if (ctok_is(nx, "NOT")) {
                    buf_adds(out, "IS DISTINCT FROM");
                    i++;
                } else {
                    buf_adds(out, "IS NOT DISTINCT FROM");
                }
            } else if (is_keyword(x)) {
                for (size_t k = 0; k < x->n; k++)
                    buf_addf(out, "%c", toupper((unsigned char)x->p[k]));
            } else {
                char *name = tok_name(x);
                const ccol *c = name ? find_col(s, t, name) : NULL;
                int ti = name && s ? schema_find(s, name) : -1;
                if (c) {
                    buf_add_qident(out, c->dst);
                    if (c->t.kind == K_BOOL)
                        prev_bool = 1;
                } else if (ti >= 0) {
                    buf_add_qident(out, s->t[ti].dst);
                } else {
                    char *m = copy_name(name ? name : "", keep_case);
                    buf_add_qident(out, m ? m : "");
                    free(m);
                }
                free(name);
            }
            break;
        case TK_QID: {
            char *name = tok_name(x);
            const ccol *c = name ? find_col(s, t, name) : NULL;
            int ti = name && s ? schema_find(s, name) : -1;
            if (c) {
                buf_add_qident(out, c->dst);
                if (c->t.kind == K_BOOL)
                    prev_bool = 1;
            } else if (ti >= 0) {
                buf_add_qident(out, s->t[ti].dst);
            } else if (x->p[0] == '"' && t) {
                /* SQLite reads a double-quoted word that names nothing as a string */
                buf_add_sqlstr(out, name ? name : "");
            } else {
                char *m = copy_name(name ? name : "", keep_case);
                buf_add_qident(out, m ? m : "");
                free(m);
            }
            free(name);
            break;
        }
        case TK_STR:
            buf_add(out, x->p, x->n);
            break;
        case TK_BLOB:
            buf_adds(out, "'\\x");
            buf_add(out, x->p + 2, x->n > 3 ? x->n - 3 : 0);
            buf_adds(out, "'::bytea");
            break;
        case TK_NUM:
            if (x->n > 2 && x->p[0] == '0' && (x->p[1] == 'x' || x->p[1] == 'X')) {
                char tmp[40];
                snprintf(tmp, sizeof(tmp), "%.*s", (int)(x->n < 39 ? x->n : 39), x->p);
                buf_addf(out, "%lld", (long long)strtoull(tmp, NULL, 16));
            } else if (pb == 2 && x->n == 1 && (x->p[0] == '0' || x->p[0] == '1')) {
                buf_adds(out, x->p[0] == '1' ? "TRUE" : "FALSE");
            } else {
                buf_add(out, x->p, x->n);
            }
            break;
        case TK_VAR:
            snprintf(why, whysz, "parameter %.*s in an expression", (int)x->n, x->p);
            goto out;
        default:
            if (ctok_punct(x, "==")) {
                buf_adds(out, "=");
            } else if (ctok_punct(x, "->") || ctok_punct(x, "->>")) {
                snprintf(why, whysz, "JSON operator %.*s is not translated", (int)x->n, x->p);
                goto out;
            } else {
                buf_add(out, x->p, x->n);
            }
            if (pb == 1 && (ctok_punct(x, "=") || ctok_punct(x, "==") || ctok_punct(x, "!=") ||
                            ctok_punct(x, "<>")))
                prev_bool = 2;
            break;
        }
    }
    rc = out->oom ? -1 : 0;
    if (rc)
        snprintf(why, whysz, "out of memory");
out:
    free(tk.v);
    return rc;
}

/* ------------------------------------------------------------ reading */

int table_col(const ctable *t, const char *src)
{
    for (int i = 0; i < t->ncols; i++)
        if (!strcasecmp(t->cols[i].src, src))
            return i;
    return -1;
}

int schema_find(const cschema *s, const char *src)
{
    for (int i = 0; i < s->n; i++)
        if (!strcasecmp(s->t[i].src, src))
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
    }
    free(v);
}

void table_release(ctable *t)
{
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

/* CHECK constraints and COLLATE NOCASE from the CREATE TABLE text. */
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
                ccheck *nc = realloc(t->checks, (size_t)(t->nchecks + 1) * sizeof(*nc));
                if (nc) {
                    t->checks = nc;
                    nc[t->nchecks].name = cname;
                    nc[t->nchecks].expr = xstrndup(a, (size_t)(b - a));
                    nc[t->nchecks].col = xstrdup(col);
                    t->nchecks++;
                    cname = NULL;
                }
                k = close;
            } else if (ctok_is(&tk.v[k], "COLLATE") && k + 1 < end && ctok_is(&tk.v[k + 1], "NOCASE") && col) {
                int ci = table_col(t, col);
                if (ci >= 0)
                    t->cols[ci].nocase = 1;
            } else if (ctok_is(&tk.v[k], "PRIMARY") || ctok_is(&tk.v[k], "UNIQUE") ||
                       ctok_is(&tk.v[k], "REFERENCES") || ctok_is(&tk.v[k], "FOREIGN") ||
                       ctok_is(&tk.v[k], "DEFAULT") || ctok_is(&tk.v[k], "NOT")) {
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
    buf_add_qident(&q, c->src);
    buf_adds(&q, "), count(*) FROM ");
    buf_add_qident(&q, t->src);
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
    ctype nt = {K_TEXT, -1, -1, -1};
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
    if (sqlite3_prepare_v2(db, "SELECT name, type, \"notnull\", dflt_value, pk, hidden "
                               "FROM pragma_table_xinfo(?1) ORDER BY cid", -1, &st, NULL) != SQLITE_OK)
        return sq_fail(db, err, "columns");
    sqlite3_bind_text(st, 1, t->src, -1, SQLITE_STATIC);
    while (sqlite3_step(st) == SQLITE_ROW) {
        ccol *nc = realloc(t->cols, (size_t)(t->ncols + 1) * sizeof(*nc));
        if (!nc) {
            sqlite3_finalize(st);
            return err_set(err, STRATA_NOMEM, "out of memory");
        }
        t->cols = nc;
        ccol *c = &nc[t->ncols++];
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
    /* rowid access and rowid alias */
    static const char *const rid[] = {"rowid", "_rowid_", "oid"};
    for (int k = 0; k < 3 && !t->rowid[0]; k++) {
        if (table_col(t, rid[k]) >= 0)
            continue;
        buf q;
        buf_init(&q);
        buf_addf(&q, "SELECT %s FROM ", rid[k]);
        buf_add_qident(&q, t->src);
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
    /* the rowid alias: the one column SQLite fills itself */
    if (npk == 1 && !strcasecmp(t->cols[pkcol].decl, "INTEGER") && t->rowid[0])
        t->cols[pkcol].identity = 1;
    for (int k = 0; k < t->ncols; k++)
        if (!t->cols[k].decl[0] && !t->cols[k].identity)
            refine_typeless(db, t, &t->cols[k]);
    /* AUTOINCREMENT counter */
    if (sqlite3_prepare_v2(db, "SELECT seq FROM sqlite_sequence WHERE name = ?1", -1, &st, NULL) == SQLITE_OK) {
        sqlite3_bind_text(st, 1, t->src, -1, SQLITE_STATIC);
        if (sqlite3_step(st) == SQLITE_ROW) {
            t->has_seq = 1;
            t->seq = sqlite3_column_int64(st, 0);
        }
    }
    sqlite3_finalize(st);
    st = NULL;
    /* foreign keys */
    if (sqlite3_prepare_v2(db, "SELECT id, \"table\", \"from\", \"to\", on_update, on_delete "
                               "FROM pragma_foreign_key_list(?1) ORDER BY id, seq", -1, &st, NULL) != SQLITE_OK)
        return sq_fail(db, err, "foreign keys");
    sqlite3_bind_text(st, 1, t->src, -1, SQLITE_STATIC);
    int lastid = -1;
    while (sqlite3_step(st) == SQLITE_ROW) {
        int id = sqlite3_column_int(st, 0);
        if (id != lastid) {
            cfk *nf = realloc(t->fks, (size_t)(t->nfks + 1) * sizeof(*nf));
            if (!nf)
                break;
            t->fks = nf;
            memset(&nf[t->nfks], 0, sizeof(cfk));
            nf[t->nfks].parent = col_text(st, 1);
            nf[t->nfks].on_update = col_text(st, 4);
            nf[t->nfks].on_delete = col_text(st, 5);
            t->nfks++;
            lastid = id;
        }
        cfk *f = &t->fks[t->nfks - 1];
        char **nfrom = realloc(f->from, (size_t)(f->n + 1) * sizeof(char *));
        if (nfrom)
            f->from = nfrom;
        char **nto = realloc(f->to, (size_t)(f->n + 1) * sizeof(char *));
        if (nto)
            f->to = nto;
        if (!nfrom || !nto)
            break;
        f->from[f->n] = col_text(st, 2);
        f->to[f->n] = col_text(st, 3);
        f->n++;
    }
    sqlite3_finalize(st);
    st = NULL;
    /* indexes */
    if (sqlite3_prepare_v2(db, "SELECT l.name, l.\"unique\", l.origin, l.partial, m.sql "
                               "FROM pragma_index_list(?1) l LEFT JOIN sqlite_master m "
                               "ON m.type = 'index' AND m.name = l.name ORDER BY l.seq DESC",
                           -1, &st, NULL) != SQLITE_OK)
        return sq_fail(db, err, "indexes");
    sqlite3_bind_text(st, 1, t->src, -1, SQLITE_STATIC);
    while (sqlite3_step(st) == SQLITE_ROW) {
        cidx *ni = realloc(t->idx, (size_t)(t->nidx + 1) * sizeof(*ni));
        if (!ni)
            break;
        t->idx = ni;
        cidx *x = &ni[t->nidx++];
        memset(x, 0, sizeof(*x));
        x->name = col_text(st, 0);
        x->unique = sqlite3_column_int(st, 1);
        const char *o = (const char *)sqlite3_column_text(st, 2);
        x->origin = o && !strcmp(o, "pk") ? 'p' : o && !strcmp(o, "u") ? 'u' : 'c';
        x->partial = sqlite3_column_int(st, 3);
        x->sql = col_text(st, 4);
    }
    sqlite3_finalize(st);
    st = NULL;
    for (int k = 0; k < t->nidx; k++) {
        cidx *x = &t->idx[k];
        if (sqlite3_prepare_v2(db, "SELECT cid, name, \"desc\", coll FROM pragma_index_xinfo(?1) "
                                   "WHERE key = 1 ORDER BY seqno", -1, &st, NULL) != SQLITE_OK)
            return sq_fail(db, err, "index columns");
        sqlite3_bind_text(st, 1, x->name, -1, SQLITE_STATIC);
        while (sqlite3_step(st) == SQLITE_ROW) {
            char **nc = realloc(x->cols, (size_t)(x->ncols + 1) * sizeof(char *));
            if (nc)
                x->cols = nc;
            int *nd = realloc(x->desc, (size_t)(x->ncols + 1) * sizeof(int));
            if (nd)
                x->desc = nd;
            if (!nc || !nd)
                break;
            int cid = sqlite3_column_int(st, 0);
            x->cols[x->ncols] = cid == -2 ? NULL : cid == -1 ? xstrdup(t->rowid) : col_text(st, 1);
            x->desc[x->ncols] = sqlite3_column_int(st, 2);
            const char *coll = (const char *)sqlite3_column_text(st, 3);
            if (coll && !strcasecmp(coll, "NOCASE"))
                x->nocase = 1;
            x->ncols++;
        }
        sqlite3_finalize(st);
        st = NULL;
    }
    parse_create(t);
    return rc;
}

strata_code schema_read(sqlite3 *db, int keep_case, const char *version_table, cschema *s,
                        cwarn *w, strata_error *err)
{
    sqlite3_stmt *st = NULL;
    memset(s, 0, sizeof(*s));
    if (sqlite3_prepare_v2(db, "SELECT type, name, sql FROM sqlite_master "
                               "WHERE type IN ('table', 'view', 'trigger') ORDER BY type, name",
                           -1, &st, NULL) != SQLITE_OK)
        return sq_fail(db, err, "sqlite_master");
    char **virt = NULL;
    int nvirt = 0;
    while (sqlite3_step(st) == SQLITE_ROW) {
        const char *type = (const char *)sqlite3_column_text(st, 0);
        const char *name = (const char *)sqlite3_column_text(st, 1);
        const char *sql = (const char *)sqlite3_column_text(st, 2);
        if (!type || !name)
            continue;
        if (!strcmp(type, "view")) {
            char **nv = realloc(s->views, (size_t)(s->nviews + 1) * 2 * sizeof(char *));
            if (!nv)
                continue;
            s->views = nv;
            nv[2 * s->nviews] = xstrdup(name);
            nv[2 * s->nviews + 1] = xstrdup(sql ? sql : "");
            s->nviews++;
            continue;
        }
        if (!strcmp(type, "trigger")) {
            char **nt = realloc(s->triggers, (size_t)(s->ntriggers + 1) * sizeof(char *));
            if (!nt)
                continue;
            s->triggers = nt;
            nt[s->ntriggers++] = xstrdup(name);
            continue;
        }
        if (!strncmp(name, "sqlite_", 7))
            continue;
        if (sql && !strncasecmp(sql, "CREATE VIRTUAL", 14)) {
            cwarn_add(w, "virtual table \"%s\" not copied (a SQLite module; rebuild it in PostgreSQL)", name);
            char **nv = realloc(virt, (size_t)(nvirt + 1) * sizeof(char *));
            if (nv) {
                virt = nv;
                virt[nvirt++] = xstrdup(name);
            }
            continue;
        }
        ctable *nt = realloc(s->t, (size_t)(s->n + 1) * sizeof(*nt));
        if (!nt) {
            sqlite3_finalize(st);
            strv_free(virt, nvirt);
            return err_set(err, STRATA_NOMEM, "out of memory");
        }
        s->t = nt;
        ctable *t = &nt[s->n++];
        memset(t, 0, sizeof(*t));
        t->src = xstrdup(name);
        t->dst = copy_name(name, keep_case);
        t->sql = xstrdup(sql ? sql : "");
        t->version_table = version_table && !strcmp(name, version_table);
    }
    sqlite3_finalize(st);
    /* shadow tables of virtual tables (fts5: x_data, x_idx, ...) go with them */
    for (int i = 0; i < s->n; i++) {
        for (int v = 0; v < nvirt; v++) {
            size_t l = strlen(virt[v]);
            if (!strncasecmp(s->t[i].src, virt[v], l) && s->t[i].src[l] == '_') {
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
    buf_add_qident(b, t->dst);
    buf_adds(b, " (");
    for (int i = 0; i < t->ncols; i++) {
        const ccol *c = &t->cols[i];
        if (i)
            buf_adds(b, ", ");
        buf_add_qident(b, c->dst);
        buf_add(b, " ", 1);
        buf_adds(b, c->pgtype);
        if (c->identity)
            buf_adds(b, " GENERATED BY DEFAULT AS IDENTITY");
        if (c->notnull || c->identity)
            buf_adds(b, " NOT NULL");
    }
    buf_adds(b, ")");
}
