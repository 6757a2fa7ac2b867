/*
 * sqlite/sq_schema.c -- the schema dump of a SQLite database (docs/schema.md).
 *
 * What the pragmas know (columns, primary key, unique constraints, foreign
 * keys) comes from them, so that a table rebuilt or altered by a migration
 * dumps like one created in one statement. What only the stored SQL knows
 * (CHECK constraints, index, view and trigger definitions) is rendered from
 * its tokens by sql_norm(), so whitespace, comments and letter case of the
 * original text do not matter. Internal objects (sqlite_*) are left out.
 */
#include "internal.h"

#include <stdlib.h>
#include <string.h>

/* ------------------------------------------------------------ row lists */

typedef struct rows {
    char **v; /* n * ncols cells, each malloc'd or NULL */
    size_t n, ncols, cap;
    int oom;
} rows;

static int add_row(void *ud, int ncols, char **vals)
{
    rows *r = ud;
    if (r->oom)
        return 1;
    if (!r->ncols)
        r->ncols = (size_t)ncols;
    if (ARR_GROW(r->v, r->cap, (r->n + 1) * r->ncols)) {
        r->oom = 1;
        return 1;
    }
    for (size_t j = 0; j < r->ncols; j++) {
        const char *s = (int)j < ncols ? vals[j] : NULL;
        r->v[r->n * r->ncols + j] = s ? xstrdup(s) : NULL;
        if (s && !r->v[r->n * r->ncols + j])
            r->oom = 1;
    }
    r->n++;
    return r->oom;
}

static const char *cell(const rows *r, size_t i, size_t j)
{
    return r->v[i * r->ncols + j];
}

static void rows_release(rows *r)
{
    for (size_t i = 0; i < r->n * r->ncols; i++)
        free(r->v[i]);
    free(r->v);
    memset(r, 0, sizeof(*r));
}

static strata_code fetch(drv *d, const char *sql, const char *param, rows *r, strata_error *err)
{
    const char *p[1] = {param};
    memset(r, 0, sizeof(*r));
    strata_code rc = d->ops->query(d, sql, param ? 1 : 0, p, add_row, r, err);
    if (!rc && r->oom)
        rc = err_set(err, STRATA_NOMEM, "out of memory");
    if (rc)
        rows_release(r);
    return rc;
}

/* ------------------------------------------------------------ rendering */

/* A name as written when it is a plain identifier, else double-quoted. */
static void add_name(buf *b, const char *name)
{
    int plain = name[0] && !(name[0] >= '0' && name[0] <= '9');
    for (const char *p = name; plain && *p; p++)
        plain = (*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
                *p == '_' || (unsigned char)*p >= 0x80;
    if (plain) {
        buf_adds(b, name);
        return;
    }
    buf_adds(b, "\"");
    for (const char *p = name; *p; p++) {
        if (*p == '"')
            buf_adds(b, "\""); /* doubled */
        buf_add(b, p, 1);
    }
    buf_adds(b, "\"");
}

/* Renders a free SQL fragment (a type, a default) canonically. */
static void add_norm(buf *b, const char *sql)
{
    sql_tok *t = NULL;
    size_t n = sql_tokenize(sql, &t);
    if (n == (size_t)-1) {
        b->oom = 1;
        return;
    }
    sql_norm(t, n, b);
    free(t);
}

/* Index just past the object name that follows the keyword at t[k]
   ("table", "index", "view", "trigger"), skipping IF NOT EXISTS and a
   schema prefix. */
static size_t after_name(const sql_tok *t, size_t n, size_t k)
{
    size_t i = k + 1;
    if (i + 2 < n && tok_is(&t[i], "if") && tok_is(&t[i + 1], "not") && tok_is(&t[i + 2], "exists"))
        i += 3;
    if (i + 2 < n && tok_punct(&t[i + 1], '.'))
        i += 2;
    return i + 1 < n ? i + 1 : n;
}

/* Index of the first word w at parenthesis depth 0 from t[from], or n. */
static size_t find_word(const sql_tok *t, size_t n, size_t from, const char *w)
{
    int depth = 0;
    for (size_t i = from; i < n; i++) {
        if (tok_punct(&t[i], '('))
            depth++;
        else if (tok_punct(&t[i], ')'))
            depth--;
        else if (depth == 0 && tok_is(&t[i], w))
            return i;
    }
    return n;
}

typedef struct lines {
    char **v;
    size_t n, cap;
    int oom;
} lines;

static void lines_add(lines *l, buf *b)
{
    char *s = buf_detach(b);
    if (!s || ARR_GROW(l->v, l->cap, l->n + 1)) {
        free(s);
        l->oom = 1;
        return;
    }
    l->v[l->n++] = s;
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Appends the lines sorted, one per line, and frees them. */
static void lines_flush(lines *l, buf *out)
{
    if (l->n)
        qsort(l->v, l->n, sizeof(char *), cmp_str);
    for (size_t i = 0; i < l->n; i++) {
        buf_adds(out, l->v[i]);
        buf_adds(out, "\n");
        free(l->v[i]);
    }
    if (l->oom)
        out->oom = 1;
    free(l->v);
    memset(l, 0, sizeof(*l));
}

/* ---------------------------------------------------------------- tables */

/* 1 when t starts a table constraint rather than a column definition. */
static int table_constraint(const sql_tok *t)
{
    static const char *const w[] = {"constraint", "primary", "unique", "check", "foreign"};
    for (size_t i = 0; i < sizeof(w) / sizeof(w[0]); i++)
        if (tok_is(t, w[i]))
            return 1;
    return 0;
}

/*
 * For each column definition between t[open] and t[close] (its parentheses),
 * in order, a line in gens: "=EXPR" (normalized) for a generated column
 * (`[GENERATED ALWAYS] AS (EXPR)`), "-" for any other; then "\x1f" and what
 * the column line adds from the SQL (" collate nocase", " on conflict
 * replace", " primary key desc"), often nothing. pragma table_xinfo says
 * which columns are generated but not what they compute, nor these.
 */
static void generated_exprs(const sql_tok *t, size_t open, size_t close, lines *gens)
{
    buf b;
    buf_init(&b);
    size_t start = open + 1;
    int depth = 0;
    for (size_t i = open + 1; i <= close; i++) {
        if (i < close && tok_punct(&t[i], '(')) {
            depth++;
            continue;
        }
        if (i < close && tok_punct(&t[i], ')')) {
            depth--;
            continue;
        }
        if (i < close && !(depth == 0 && tok_punct(&t[i], ',')))
            continue;
        if (start < i && !table_constraint(&t[start])) {
            buf_adds(&b, "-");
            int d = 0;
            for (size_t j = start + 1; j + 1 < i; j++) {
                if (tok_punct(&t[j], '('))
                    d++;
                else if (tok_punct(&t[j], ')'))
                    d--;
                else if (d == 0 && tok_is(&t[j], "as") && tok_punct(&t[j + 1], '(')) {
                    size_t e = tok_match_paren(t, i, j + 1);
                    buf_reset(&b);
                    buf_adds(&b, "=");
                    sql_norm(&t[j + 2], (e < i ? e : i) - (j + 2), &b);
                    break;
                }
            }
            /* what pragma table_xinfo does not say: COLLATE, a conflict
               clause, PRIMARY KEY DESC (then not a rowid alias) */
            buf_adds(&b, "\x1f");
            for (size_t j = start + 1, dd = 0; j < i; j++) {
                if (tok_punct(&t[j], '('))
                    dd++;
                else if (tok_punct(&t[j], ')'))
                    dd--;
                else if (dd == 0 && j + 1 < i && tok_is(&t[j], "collate") && !tok_is(&t[j + 1], "binary")) {
                    buf_adds(&b, " collate ");
                    sql_norm(&t[j + 1], 1, &b);
                } else if (dd == 0 && j + 2 < i && tok_is(&t[j], "on") && tok_is(&t[j + 1], "conflict")) {
                    buf_adds(&b, " on conflict ");
                    sql_norm(&t[j + 2], 1, &b);
                } else if (dd == 0 && j + 2 < i && tok_is(&t[j], "primary") && tok_is(&t[j + 1], "key") &&
                           tok_is(&t[j + 2], "desc")) {
                    buf_adds(&b, " primary key desc");
                }
            }
            lines_add(gens, &b);
        }
        start = i + 1;
    }
    buf_release(&b);
}

/*
 * What no pragma says about the keys, from the table body t[open..close], as
 * lines in cons: for each foreign key in the order of the text, "f1" when it
 * is DEFERRABLE INITIALLY DEFERRED (the last defer clause after its
 * REFERENCES decides; NOT DEFERRABLE is immediate whatever follows), else
 * "f0"; for a table-level UNIQUE or PRIMARY KEY with an ON CONFLICT clause,
 * "u" or "p", its columns ("a, b", normalized), "\x1f" and the action.
 * pragma_foreign_key_list numbers the keys from the last in the text.
 */
static void key_facts(const sql_tok *t, size_t open, size_t close, lines *cons)
{
    buf b;
    buf_init(&b);
    size_t part = open + 1;
    int depth = 0, in_fk = 0, deferred = 0;
    for (size_t i = open + 1; i <= close; i++) {
        if (i < close && tok_punct(&t[i], '(')) {
            depth++;
            continue;
        }
        if (i < close && tok_punct(&t[i], ')')) {
            depth--;
            continue;
        }
        if (depth != 0)
            continue;
        int end = i == close || tok_punct(&t[i], ',');
        if (in_fk && (end || tok_is(&t[i], "references"))) {
            buf_adds(&b, deferred ? "f1" : "f0");
            lines_add(cons, &b);
            in_fk = 0;
        }
        if (i < close && tok_is(&t[i], "references"))
            in_fk = 1, deferred = 0;
        else if (in_fk && tok_is(&t[i], "deferrable"))
            deferred = !tok_is(&t[i - 1], "not") && i + 2 < close && tok_is(&t[i + 1], "initially") &&
                       tok_is(&t[i + 2], "deferred");
        if (!end)
            continue;
        /* a table-level UNIQUE / PRIMARY KEY (...) ON CONFLICT x */
        size_t k = part;
        if (k + 2 < i && tok_is(&t[k], "constraint"))
            k += 2;
        char kind = tok_is(&t[k], "unique") ? 'u' : tok_is(&t[k], "primary") ? 'p' : 0;
        size_t lp = k + (kind == 'p' ? 2 : 1);
        if (kind && lp < i && tok_punct(&t[lp], '(')) {
            size_t rp = tok_match_paren(t, i, lp);
            if (rp + 3 < i && tok_is(&t[rp + 1], "on") && tok_is(&t[rp + 2], "conflict")) {
                buf_add(&b, &kind, 1);
                for (size_t j = lp + 1, first = 1; j < rp; j++)
                    if (first || tok_punct(&t[j - 1], ',')) {
                        if (!first)
                            buf_adds(&b, ", ");
                        sql_norm(&t[j], 1, &b);
                        first = 0;
                    }
                buf_adds(&b, "\x1f");
                sql_norm(&t[rp + 3], 1, &b);
                lines_add(cons, &b);
            }
        }
        part = i + 1;
    }
    buf_release(&b);
}

/* The ON CONFLICT action key_facts found for the table-level UNIQUE ('u')
   or PRIMARY KEY ('p') on cols (as the schema text writes them), or NULL. */
static const char *conflict_of(const lines *cons, char kind, const char *cols)
{
    size_t n = strlen(cols);
    for (size_t i = 0; i < cons->n; i++) {
        const char *c = cons->v[i];
        if (c[0] == kind && !c_strncasecmp(c + 1, cols, n) && c[1 + n] == '\x1f')
            return c + 2 + n;
    }
    return NULL;
}

/* 1 when the foreign key pragma_foreign_key_list numbers id (of nfk) is
   DEFERRABLE INITIALLY DEFERRED, by key_facts. */
static int fk_deferred(const lines *cons, long id, long nfk)
{
    long k = 0, want = nfk - 1 - id;
    for (size_t i = 0; i < cons->n; i++)
        if (cons->v[i][0] == 'f' && k++ == want)
            return cons->v[i][1] == '1';
    return 0;
}

/* CHECK constraints, table flags, AUTOINCREMENT, generated columns'
   expressions and what key_facts finds, from the stored SQL. */
static void table_sql_facts(const char *sql, lines *checks, buf *flags, int *autoinc, lines *gens,
                            lines *cons)
{
    sql_tok *t = NULL;
    size_t n = sql_tokenize(sql, &t);
    buf b;
    buf_init(&b);
    *autoinc = 0;
    if (n == (size_t)-1) {
        checks->oom = 1;
        return;
    }
    size_t k = find_word(t, n, 0, "table");
    size_t open = after_name(t, n, k);
    if (open < n && tok_punct(&t[open], '(')) {
        size_t close = tok_match_paren(t, n, open);
        generated_exprs(t, open, close < n ? close : n, gens);
        key_facts(t, open, close < n ? close : n, cons);
        int depth = 0;
        for (size_t i = open + 1; i < close; i++) {
            if (tok_punct(&t[i], '('))
                depth++;
            else if (tok_punct(&t[i], ')'))
                depth--;
            else if (tok_is(&t[i], "autoincrement"))
                *autoinc = 1;
            else if (depth == 0 && tok_is(&t[i], "check") && i + 1 < close && tok_punct(&t[i + 1], '(')) {
                size_t end = tok_match_paren(t, close, i + 1);
                buf_adds(&b, "  ");
                if (i >= 2 && tok_is(&t[i - 2], "constraint")) {
                    buf_adds(&b, "constraint ");
                    sql_norm(&t[i - 1], 1, &b);
                    buf_adds(&b, " ");
                }
                sql_norm(&t[i], (end < close ? end + 1 : close) - i, &b);
                lines_add(checks, &b);
                i = end < close ? end : close;
            }
        }
        /* WITHOUT ROWID, STRICT */
        for (size_t i = close + 1; i < n; i++) {
            if (tok_is(&t[i], "rowid"))
                buf_adds(flags, " without rowid");
            else if (tok_is(&t[i], "strict"))
                buf_adds(flags, " strict");
        }
    }
    buf_release(&b);
    free(t);
}

/* " collate C" after a key column of an index (keys: rows of name, coll)
   whose collation is not BINARY: a UNIQUE (a COLLATE NOCASE) or PRIMARY
   KEY (a COLLATE NOCASE) says it only there. */
static void add_key_collation(buf *b, const rows *keys, const char *col)
{
    for (size_t k = 0; k < keys->n; k++)
        if (cell(keys, k, 0) && !strcmp(cell(keys, k, 0), col)) {
            const char *coll = cell(keys, k, 1);
            if (coll && c_strcasecmp(coll, "BINARY") != 0) {
                buf_adds(b, " collate ");
                add_norm(b, coll);
            }
            return;
        }
}

static strata_code dump_columns(drv *d, const char *name, int autoinc, const lines *gens, const lines *cons,
                                buf *out, strata_error *err)
{
    rows r;
    strata_code rc = fetch(d,
                           "SELECT name, type, \"notnull\", dflt_value, pk, hidden "
                           "FROM pragma_table_xinfo($1) ORDER BY cid",
                           name, &r, err);
    if (rc)
        return rc;
    int npk = 0;
    for (size_t i = 0; i < r.n; i++) {
        const char *type = cell(&r, i, 1), *dflt = cell(&r, i, 3), *hidden = cell(&r, i, 5);
        if (hidden && !strcmp(hidden, "1"))
            continue; /* hidden column of a virtual table */
        buf_adds(out, "  column ");
        add_name(out, cell(&r, i, 0) ? cell(&r, i, 0) : "");
        if (type && *type) {
            buf_adds(out, " ");
            add_norm(out, type);
        }
        if (cell(&r, i, 2) && !strcmp(cell(&r, i, 2), "1"))
            buf_adds(out, " not null");
        if (dflt) {
            buf_adds(out, " default ");
            add_norm(out, dflt);
        }
        if (hidden && !strcmp(hidden, "2"))
            buf_adds(out, " generated virtual");
        else if (hidden && !strcmp(hidden, "3"))
            buf_adds(out, " generated stored");
        const char *g = i < gens->n ? gens->v[i] : "-\x1f", *extra = strchr(g, '\x1f');
        if (hidden && (!strcmp(hidden, "2") || !strcmp(hidden, "3")) && g[0] == '=') {
            buf_adds(out, " as (");
            buf_add(out, g + 1, extra ? (size_t)(extra - g - 1) : strlen(g + 1));
            buf_adds(out, ")");
        }
        if (extra)
            buf_adds(out, extra + 1);
        buf_adds(out, "\n");
        if (cell(&r, i, 4) && atoi(cell(&r, i, 4)) > 0)
            npk++;
    }
    rows keys = {0};
    if (npk && (rc = fetch(d,
                           "SELECT x.name, x.coll FROM pragma_index_list($1) l, pragma_index_xinfo(l.name) x "
                           "WHERE l.origin = 'pk' AND x.key = 1",
                           name, &keys, err))) {
        rows_release(&r);
        return rc;
    }
    if (npk) {
        buf cols, shown;
        buf_init(&cols);
        buf_init(&shown);
        for (int k = 1; k <= npk; k++)
            for (size_t i = 0; i < r.n; i++)
                if (cell(&r, i, 4) && atoi(cell(&r, i, 4)) == k) {
                    if (k > 1) {
                        buf_adds(&cols, ", ");
                        buf_adds(&shown, ", ");
                    }
                    add_name(&cols, cell(&r, i, 0));
                    add_name(&shown, cell(&r, i, 0));
                    add_key_collation(&shown, &keys, cell(&r, i, 0));
                }
        const char *onc = cols.data ? conflict_of(cons, 'p', cols.data) : NULL;
        buf_addf(out, "  primary key (%s)%s%s%s\n", shown.data ? shown.data : "",
                 autoinc ? " autoincrement" : "", onc ? " on conflict " : "", onc ? onc : "");
        if (cols.oom || shown.oom)
            out->oom = 1;
        buf_release(&cols);
        buf_release(&shown);
    }
    rows_release(&keys);
    rows_release(&r);
    return STRATA_OK;
}

/* UNIQUE constraints (the autoindexes behind them) and foreign keys. */
static strata_code table_constraints(drv *d, const char *name, const lines *cons, lines *l, strata_error *err)
{
    rows ix, fk;
    buf b;
    buf_init(&b);
    strata_code rc = fetch(d, "SELECT name, origin FROM pragma_index_list($1) ORDER BY name", name, &ix, err);
    if (rc)
        return rc;
    for (size_t i = 0; !rc && i < ix.n; i++) {
        if (!cell(&ix, i, 1) || strcmp(cell(&ix, i, 1), "u") != 0)
            continue;
        rows cols;
        if ((rc = fetch(d, "SELECT name, coll FROM pragma_index_xinfo($1) WHERE key = 1 ORDER BY seqno",
                        cell(&ix, i, 0), &cols, err)))
            break;
        buf names, shown;
        buf_init(&names);
        buf_init(&shown);
        for (size_t j = 0; j < cols.n; j++) {
            const char *col = cell(&cols, j, 0) ? cell(&cols, j, 0) : "?";
            if (j) {
                buf_adds(&names, ", ");
                buf_adds(&shown, ", ");
            }
            add_name(&names, col);
            add_name(&shown, col);
            add_key_collation(&shown, &cols, col);
        }
        const char *onc = names.data ? conflict_of(cons, 'u', names.data) : NULL;
        buf_addf(&b, "  unique (%s)%s%s", shown.data ? shown.data : "", onc ? " on conflict " : "",
                 onc ? onc : "");
        if (names.oom || shown.oom)
            b.oom = 1;
        buf_release(&names);
        buf_release(&shown);
        lines_add(l, &b);
        rows_release(&cols);
    }
    rows_release(&ix);
    if (rc)
        return rc;
    /* names as the tables (or views) have them: SQLite resolves a key's
       table and columns without regard to ASCII case, so REFERENCES Users
       (ID) is the key to users (id) -- the text alone would make them
       differ; a key to nothing that exists is shown in lower case (SQLite's
       lower() folds ASCII only, as its name matching does) */
    /* the referenced table or view by SQLite's own look-up (any ASCII
       case: pragma_table_list(name)), not a scan of sqlite_schema per key */
    rc = fetch(
        d,
        "SELECT id, coalesce(pt, lower(f.\"table\")), coalesce((SELECT c.name FROM "
        "pragma_table_info($1) c WHERE c.name = f.\"from\" COLLATE NOCASE), f.\"from\"), CASE WHEN "
        "f.\"to\" IS NOT NULL THEN coalesce((SELECT c.name FROM pragma_table_info(pt) c WHERE c.name = "
        "f.\"to\" COLLATE NOCASE), lower(f.\"to\")) END, on_update, on_delete FROM (SELECT k.*, (SELECT "
        "l.name FROM pragma_table_list(k.\"table\") l WHERE l.schema = 'main') AS pt FROM "
        "pragma_foreign_key_list($1) k) f ORDER BY id, seq",
        name, &fk, err);
    if (rc)
        return rc;
    long nfk = 0, nf = 0;
    for (size_t i = 0; i < cons->n; i++)
        nf += cons->v[i][0] == 'f';
    for (size_t i = 0; i < fk.n; i++)
        if (atol(cell(&fk, i, 0)) + 1 > nfk)
            nfk = atol(cell(&fk, i, 0)) + 1;
    for (size_t i = 0; i < fk.n;) {
        size_t j = i;
        while (j < fk.n && !strcmp(cell(&fk, j, 0), cell(&fk, i, 0)))
            j++;
        buf_adds(&b, "  foreign key (");
        for (size_t k = i; k < j; k++) {
            if (k > i)
                buf_adds(&b, ", ");
            add_name(&b, cell(&fk, k, 2) ? cell(&fk, k, 2) : "?");
        }
        buf_adds(&b, ") references ");
        add_name(&b, cell(&fk, i, 1) ? cell(&fk, i, 1) : "?");
        if (cell(&fk, i, 3)) {
            buf_adds(&b, " (");
            for (size_t k = i; k < j; k++) {
                if (k > i)
                    buf_adds(&b, ", ");
                add_name(&b, cell(&fk, k, 3) ? cell(&fk, k, 3) : "?");
            }
            buf_adds(&b, ")");
        }
        static const char *what[2] = {" on update ", " on delete "};
        for (int a = 0; a < 2; a++) {
            const char *act = cell(&fk, i, 4 + (size_t)a);
            if (act && c_strcasecmp(act, "NO ACTION") != 0) {
                buf_adds(&b, what[a]);
                add_norm(&b, act);
            }
        }
        /* the text's keys match the pragma's when they count the same */
        if (nf == nfk && fk_deferred(cons, atol(cell(&fk, i, 0)), nfk))
            buf_adds(&b, " deferrable initially deferred");
        lines_add(l, &b);
        i = j;
    }
    rows_release(&fk);
    buf_release(&b);
    return STRATA_OK;
}

/* "  index NAME[ unique] (cols)[ where ...]" from CREATE INDEX text. */
static void index_line(const char *name, const char *sql, buf *out)
{
    sql_tok *t = NULL;
    size_t n = sql_tokenize(sql, &t);
    if (n == (size_t)-1) {
        out->oom = 1;
        return;
    }
    size_t on = find_word(t, n, 0, "on");
    size_t rest = on + 2 < n && tok_punct(&t[on + 2], '.') ? on + 4 : on + 2;
    buf_adds(out, "  index ");
    add_name(out, name);
    if (n > 1 && tok_is(&t[1], "unique"))
        buf_adds(out, " unique");
    if (rest < n) {
        buf_adds(out, " ");
        sql_norm(&t[rest], n - rest, out);
    }
    buf_adds(out, "\n");
    free(t);
}

/* "  KIND NAME rest" for a trigger, or "  rest" for a view's AS clause. */
static void def_line(const char *kind, const char *name, const char *sql, buf *out)
{
    sql_tok *t = NULL;
    size_t n = sql_tokenize(sql, &t);
    if (n == (size_t)-1) {
        out->oom = 1;
        return;
    }
    size_t rest = after_name(t, n, find_word(t, n, 0, kind));
    buf_adds(out, "  ");
    if (!strcmp(kind, "trigger")) {
        buf_adds(out, "trigger ");
        add_name(out, name);
        buf_adds(out, " ");
    }
    if (rest < n)
        sql_norm(&t[rest], n - rest, out);
    buf_adds(out, "\n");
    free(t);
}

enum { O_TYPE, O_NAME, O_TBL, O_SQL };

/* Indexes, then triggers, of one table or view (objs is sorted by name). */
static void dependents(const rows *objs, const char *owner, buf *out)
{
    for (int pass = 0; pass < 2; pass++)
        for (size_t i = 0; i < objs->n; i++) {
            const char *type = cell(objs, i, O_TYPE), *tbl = cell(objs, i, O_TBL);
            if (!tbl || c_strcasecmp(tbl, owner) != 0)
                continue;
            if (pass == 0 && !strcmp(type, "index"))
                index_line(cell(objs, i, O_NAME), cell(objs, i, O_SQL), out);
            else if (pass == 1 && !strcmp(type, "trigger"))
                def_line("trigger", cell(objs, i, O_NAME), cell(objs, i, O_SQL), out);
        }
}

strata_code schema_dump_sqlite(drv *d, const char *table, buf *out, strata_error *err)
{
    rows objs;
    const char *dot = strrchr(table, '.');
    const char *vt = dot ? dot + 1 : table;
    strata_code rc = fetch(d,
                           "SELECT type, name, tbl_name, sql FROM sqlite_master "
                           "WHERE name NOT LIKE 'sqlite\\_%' ESCAPE '\\' AND sql IS NOT NULL "
                           "ORDER BY name COLLATE BINARY",
                           NULL, &objs, err);
    if (rc)
        return rc;
    int first = 1;
    /* tables, then views: each kind sorted by name */
    for (int pass = 0; !rc && pass < 2; pass++) {
        for (size_t i = 0; !rc && i < objs.n; i++) {
            const char *type = cell(&objs, i, O_TYPE), *name = cell(&objs, i, O_NAME);
            const char *sql = cell(&objs, i, O_SQL);
            if (strcmp(type, pass ? "view" : "table") != 0 || !c_strcasecmp(name, vt))
                continue;
            if (!first)
                buf_adds(out, "\n");
            first = 0;
            if (pass == 1) {
                buf_adds(out, "view ");
                add_name(out, name);
                buf_adds(out, "\n");
                def_line("view", name, sql, out);
                dependents(&objs, name, out);
                continue;
            }
            if (!c_strncasecmp(sql, "CREATE VIRTUAL TABLE", 20)) {
                buf_adds(out, "virtual table ");
                add_name(out, name);
                buf_adds(out, "\n");
                def_line("table", name, sql, out);
                continue;
            }
            lines checks = {0}, gens = {0}, cons = {0};
            buf flags;
            int autoinc;
            buf_init(&flags);
            table_sql_facts(sql, &checks, &flags, &autoinc, &gens, &cons);
            buf_adds(out, "table ");
            add_name(out, name);
            buf_adds(out, flags.data ? flags.data : "");
            buf_adds(out, "\n");
            buf_release(&flags);
            rc = dump_columns(d, name, autoinc, &gens, &cons, out, err);
            for (size_t g = 0; g < gens.n; g++)
                free(gens.v[g]);
            free(gens.v);
            if (gens.oom)
                out->oom = 1;
            if (!rc)
                rc = table_constraints(d, name, &cons, &checks, err);
            for (size_t c = 0; c < cons.n; c++)
                free(cons.v[c]);
            free(cons.v);
            if (cons.oom)
                out->oom = 1;
            lines_flush(&checks, out);
            if (!rc)
                dependents(&objs, name, out);
        }
    }
    rows_release(&objs);
    if (!rc && out->oom)
        rc = err_set(err, STRATA_NOMEM, "out of memory");
    return rc;
}
