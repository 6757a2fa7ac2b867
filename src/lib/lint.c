/*
 * lint.c -- static checks of migration files (strata lint, docs/lint.md).
 *
 * No database: each section that runs on an engine is split into statements
 * with sql_split and each statement into tokens with sql_token_next, the same
 * lexer the runner uses, so words inside strings, comments and dollar-quoted
 * bodies are never seen as keywords. The rules match short token patterns at
 * the start of a statement; they do not parse SQL.
 *
 * A migration set is walked once in version order per engine (postgres,
 * sqlite), remembering which tables earlier migrations created (to tell a
 * CREATE TABLE IF NOT EXISTS that really creates from one that does not) and
 * which CHECK (col IS NOT NULL) constraints were validated (so the safe
 * SET NOT NULL recipe does not fire set-not-null). Within a section, tables
 * created earlier in it are new and empty: the rules that are about locking
 * or rewriting existing data skip them.
 */
#include "internal.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ------------------------------------------------------------ the rules */

enum { D_PG = 1 << DIALECT_POSTGRES, D_SQLITE = 1 << DIALECT_SQLITE, D_BOTH = D_PG | D_SQLITE };
enum { S_UP = 1 << SEC_UP, S_DOWN = 1 << SEC_DOWN, S_BOTH = S_UP | S_DOWN };

#define W STRATA_LINT_WARNING
#define E STRATA_LINT_ERROR
#define SQLITE_REBUILD                                                                         \
    "rebuild the table (the 12-step procedure of sqlite.org/lang_altertable.html): CREATE "    \
    "TABLE t_new with the new definition; INSERT INTO t_new SELECT ... FROM t; DROP TABLE t; " \
    "ALTER TABLE t_new RENAME TO t; recreate its indexes, triggers and views; in a "           \
    "dialect=sqlite section when PostgreSQL takes the ALTER as is"

/* The order is the order of the R_* enum below and of docs/lint.md. */
static const struct rule_def {
    strata_lint_rule pub;
    int dialects; /* D_* */
    int sections; /* S_*: which sections it checks */
} rules[] = {
    {{"index-not-concurrent", E, "postgres",
      "CREATE INDEX without CONCURRENTLY on an existing table blocks writes to it while the "
      "index builds",
      "build it with CREATE INDEX CONCURRENTLY IF NOT EXISTS in a '-- strata:up "
      "no-transaction' section of its own"},
     D_PG,
     S_UP},
    {{"concurrently-in-transaction", E, "postgres",
      "CREATE INDEX, DROP INDEX, REINDEX or DETACH PARTITION with CONCURRENTLY fails inside a "
      "transaction block",
      "move the statement into a section marked no-transaction ('-- strata:up "
      "no-transaction'), with IF [NOT] EXISTS so that a rerun after a failure is safe"},
     D_PG,
     S_BOTH},
    {{"cannot-run-in-transaction", E, "postgres,sqlite",
      "VACUUM, CLUSTER without a table, REINDEX SCHEMA/DATABASE/SYSTEM, CREATE/DROP DATABASE, "
      "CREATE/DROP TABLESPACE and ALTER SYSTEM fail inside a transaction",
      "move the statement into a section marked no-transaction"},
     D_BOTH,
     S_BOTH},
    {{"add-enum-value-in-transaction", W, "postgres",
      "ALTER TYPE ... ADD VALUE in a transaction: the new value cannot be used before the "
      "transaction commits (and PostgreSQL 11 and older refuse the statement)",
      "put ALTER TYPE ... ADD VALUE IF NOT EXISTS in a no-transaction section and use the new "
      "value from a later migration on"},
     D_PG,
     S_BOTH},
    {{"not-null-without-default", E, "postgres",
      "ADD COLUMN ... NOT NULL without a default fails on a table that has rows",
      "give the column a constant DEFAULT (no table rewrite since PostgreSQL 11), or add it "
      "nullable, backfill it, and enforce NOT NULL through a validated CHECK (see set-not-null)"},
     D_PG,
     S_UP},
    {{"volatile-default", E, "postgres",
      "ADD COLUMN with a volatile default (random(), gen_random_uuid(), clock_timestamp(), "
      "nextval(), serial, identity or a stored generated column) rewrites the whole table under "
      "an ACCESS EXCLUSIVE lock",
      "add the column without a default (or with a constant or stable one such as now()), then "
      "ALTER COLUMN ... SET DEFAULT for new rows and backfill existing rows in batches"},
     D_PG,
     S_UP},
    {{"alter-column-type", E, "postgres",
      "ALTER COLUMN ... TYPE rewrites the table and rebuilds its indexes under an ACCESS "
      "EXCLUSIVE lock, unless the change is binary-compatible (varchar(n) to text or to a longer "
      "varchar)",
      "add a column of the new type, write to both, backfill in batches, move reads over, and "
      "drop the old column in a later release"},
     D_PG,
     S_UP},
    {{"set-not-null", E, "postgres",
      "ALTER COLUMN ... SET NOT NULL scans the whole table under an ACCESS EXCLUSIVE lock",
      "ADD CONSTRAINT c CHECK (col IS NOT NULL) NOT VALID; VALIDATE CONSTRAINT c in a later "
      "migration; then SET NOT NULL, which PostgreSQL 12+ proves from the validated check "
      "without a scan, and drop the check"},
     D_PG,
     S_UP},
    {{"foreign-key-without-not-valid", E, "postgres",
      "adding a FOREIGN KEY to an existing table checks every row while blocking writes to both "
      "tables",
      "ADD CONSTRAINT ... FOREIGN KEY ... NOT VALID now, ALTER TABLE ... VALIDATE CONSTRAINT in "
      "a later migration (it only takes a SHARE UPDATE EXCLUSIVE lock)"},
     D_PG,
     S_UP},
    {{"check-without-not-valid", E, "postgres",
      "adding a CHECK constraint to an existing table scans every row under an ACCESS "
      "EXCLUSIVE lock",
      "ADD CONSTRAINT ... CHECK (...) NOT VALID now, ALTER TABLE ... VALIDATE CONSTRAINT in a "
      "later migration (it only takes a SHARE UPDATE EXCLUSIVE lock)"},
     D_PG,
     S_UP},
    {{"validate-in-same-transaction", W, "postgres",
      "VALIDATE CONSTRAINT in the transaction that added the constraint NOT VALID: the lock "
      "taken by the ADD is held through the validation scan",
      "validate in a later migration, or in a no-transaction section, so that the scan runs "
      "under a SHARE UPDATE EXCLUSIVE lock only"},
     D_PG,
     S_UP},
    {{"unique-without-using-index", E, "postgres",
      "ADD PRIMARY KEY or UNIQUE on an existing table (or ADD COLUMN ... UNIQUE) builds the "
      "index under an ACCESS EXCLUSIVE lock",
      "CREATE UNIQUE INDEX CONCURRENTLY in a no-transaction section, then ALTER TABLE ... ADD "
      "CONSTRAINT c PRIMARY KEY (or UNIQUE) USING INDEX that_index"},
     D_PG,
     S_UP},
    {{"exclude-constraint", E, "postgres",
      "ADD ... EXCLUDE on an existing table builds its index under an ACCESS EXCLUSIVE lock, and "
      "has no concurrent form",
      "run it when the table is small or the application can wait (a maintenance window), or "
      "make the table with the constraint: copy the rows into a new table and swap names"},
     D_PG,
     S_UP},
    {{"drop-table", E, "postgres",
      "DROP TABLE breaks the application version that is still running during a rolling "
      "deploy, and the data is gone",
      "first release application code that no longer uses the table; then drop it in a later "
      "migration, with '-- strata:lint-ignore drop-table' and the reason"},
     D_PG,
     S_UP},
    {{"drop-column", E, "postgres",
      "DROP COLUMN breaks the application version that still reads or writes the column",
      "first release code that no longer uses the column (ORMs list columns: tell yours to "
      "ignore it); then drop it in a later migration, with '-- strata:lint-ignore drop-column'"},
     D_PG,
     S_UP},
    {{"rename-table", E, "postgres",
      "RENAME TO breaks the application version that still uses the old table name",
      "keep the old name: create the new table or a view, move the application over, and drop "
      "the old name in a later release"},
     D_PG,
     S_UP},
    {{"rename-column", E, "postgres",
      "RENAME COLUMN breaks the application version that still uses the old column name",
      "add the new column, write to both, backfill, move reads over, and drop the old column "
      "in a later release"},
     D_PG,
     S_UP},
    {{"missing-down", W, "postgres,sqlite",
      "no down section: the migration is irreversible and 'strata down' across it fails with "
      "IRREVERSIBLE",
      "add a '-- strata:down' section; an empty one declares a deliberate no-op"},
     D_BOTH,
     S_UP},
    {{"sqlite-alter-column", E, "sqlite",
      "SQLite has no ALTER TABLE ... ALTER COLUMN (type, default, NOT NULL)", SQLITE_REBUILD},
     D_SQLITE,
     S_BOTH},
    {{"sqlite-alter-constraint", E, "sqlite",
      "SQLite cannot add, drop, rename or validate a constraint of an existing table",
      "for UNIQUE, CREATE UNIQUE INDEX does the same job; otherwise " SQLITE_REBUILD},
     D_SQLITE,
     S_BOTH},
    {{"sqlite-add-column", E, "sqlite",
      "SQLite cannot add a PRIMARY KEY, UNIQUE or STORED generated column, nor, to a table "
      "with rows, a NOT NULL column without a non-NULL default or a column with a non-constant "
      "default",
      "add the column with a constant non-NULL DEFAULT and without the constraint (CREATE "
      "UNIQUE INDEX for uniqueness), or " SQLITE_REBUILD},
     D_SQLITE,
     S_BOTH},
    {{"sqlite-alter-syntax", E, "sqlite",
      "SQLite's ALTER TABLE takes a single RENAME TO, RENAME COLUMN, ADD COLUMN or DROP "
      "COLUMN, without IF [NOT] EXISTS, ONLY or CASCADE",
      "one ALTER TABLE per change in plain form; put PostgreSQL-only forms in a "
      "dialect=postgres section and the SQLite equivalent in a dialect=sqlite one"},
     D_SQLITE,
     S_BOTH},
    {{"sqlite-pragma-in-transaction", W, "sqlite",
      "PRAGMA foreign_keys has no effect inside a transaction, and PRAGMA journal_mode cannot "
      "switch to WAL there",
      "set the PRAGMA in a no-transaction section, or where the application opens the "
      "database"},
     D_SQLITE,
     S_BOTH},
    {{"bad-lint-ignore", W, "postgres,sqlite",
      "a '-- strata:lint-ignore' comment names no rule or an unknown rule",
      "list rule ids separated by commas ('strata lint --list-rules' prints them); put the "
      "reason after ' -- '"},
     D_BOTH,
     S_BOTH},
};
#undef W
#undef E

enum {
    R_INDEX_NOT_CONCURRENT,
    R_CONCURRENTLY_IN_TX,
    R_CANNOT_RUN_IN_TX,
    R_ENUM_VALUE_IN_TX,
    R_NOT_NULL_NO_DEFAULT,
    R_VOLATILE_DEFAULT,
    R_ALTER_COLUMN_TYPE,
    R_SET_NOT_NULL,
    R_FK_NOT_VALID,
    R_CHECK_NOT_VALID,
    R_VALIDATE_SAME_TX,
    R_UNIQUE_NO_INDEX,
    R_EXCLUDE,
    R_DROP_TABLE,
    R_DROP_COLUMN,
    R_RENAME_TABLE,
    R_RENAME_COLUMN,
    R_MISSING_DOWN,
    R_SQLITE_ALTER_COLUMN,
    R_SQLITE_ALTER_CONSTRAINT,
    R_SQLITE_ADD_COLUMN,
    R_SQLITE_ALTER_SYNTAX,
    R_SQLITE_PRAGMA,
    R_BAD_IGNORE,
    R_COUNT
};

_Static_assert(sizeof(rules) / sizeof(rules[0]) == R_COUNT, "rules[] and R_* disagree");
_Static_assert(R_COUNT <= 64, "ignore masks are 64 bits");

typedef unsigned long long rulemask;

size_t strata_lint_rule_count(void)
{
    return R_COUNT;
}

const strata_lint_rule *strata_lint_rule_get(size_t i)
{
    return i < R_COUNT ? &rules[i].pub : NULL;
}

static int rule_index(const char *id, size_t n)
{
    for (int r = 0; r < R_COUNT; r++)
        if (strlen(rules[r].pub.id) == n && strncmp(rules[r].pub.id, id, n) == 0)
            return r;
    return -1;
}

const strata_lint_rule *strata_lint_rule_find(const char *id)
{
    int r = id ? rule_index(id, strlen(id)) : -1;
    return r < 0 ? NULL : &rules[r].pub;
}

const char *strata_lint_severity_name(strata_lint_severity s)
{
    return s == STRATA_LINT_ERROR ? "error" : s == STRATA_LINT_WARNING ? "warning" : "unknown";
}

/* ------------------------------------------------------------ small sets */

/* A set of names: open addressing over a power-of-two table (a history of
   tens of thousands of tables is looked up once per statement). */
typedef struct strset {
    char **v;      /* slots: NULL empty, GONE a deleted name, else a name */
    size_t n, cap; /* names held; slots */
    size_t used;   /* slots not NULL (names and GONE) */
} strset;

static char gone_mark;
#define GONE (&gone_mark)

static size_t set_slot(const strset *s, const char *x)
{
    return (size_t)fnv1a(FNV1A_START, x) & (s->cap - 1);
}

/* the slot holding x, or (size_t)-1 */
static size_t set_find(const strset *s, const char *x)
{
    if (!s->cap)
        return (size_t)-1;
    for (size_t i = set_slot(s, x), k = 0; k < s->cap; i = (i + 1) & (s->cap - 1), k++) {
        if (!s->v[i])
            return (size_t)-1;
        if (s->v[i] != GONE && !strcmp(s->v[i], x))
            return i;
    }
    return (size_t)-1;
}

static int set_has(const strset *s, const char *x)
{
    return set_find(s, x) != (size_t)-1;
}

/* x (owned) into a table with room, at its first free slot */
static void set_put(strset *s, char *x)
{
    size_t i = set_slot(s, x);
    while (s->v[i] && s->v[i] != GONE)
        i = (i + 1) & (s->cap - 1);
    s->used += !s->v[i];
    s->v[i] = x;
    s->n++;
}

/* 0 ok, -1 out of memory */
static int set_add(strset *s, const char *x)
{
    if (!*x || set_has(s, x))
        return 0;
    if ((s->used + 1) * 2 > s->cap) { /* at most half full: grow (and drop the GONE marks) */
        size_t cap = s->cap ? s->cap * 2 : 16;
        while (cap < (s->n + 1) * 4)
            cap *= 2;
        char **old = s->v, **v = calloc(cap, sizeof(*v));
        if (!v)
            return -1;
        size_t oldcap = s->cap;
        s->v = v;
        s->cap = cap;
        s->n = s->used = 0;
        for (size_t i = 0; i < oldcap; i++)
            if (old[i] && old[i] != GONE)
                set_put(s, old[i]);
        free(old);
    }
    char *d = xstrdup(x);
    if (!d)
        return -1;
    set_put(s, d);
    return 0;
}

static void set_del(strset *s, const char *x)
{
    size_t i = set_find(s, x);
    if (i == (size_t)-1)
        return;
    free(s->v[i]);
    s->v[i] = GONE;
    s->n--;
}

static void set_clear(strset *s)
{
    for (size_t i = 0; i < s->cap; i++) {
        if (s->v[i] != GONE)
            free(s->v[i]);
        s->v[i] = NULL;
    }
    s->n = s->used = 0;
}

static void set_release(strset *s)
{
    set_clear(s);
    free(s->v);
    memset(s, 0, sizeof(*s));
}

/* ------------------------------------------------------------ state */

/* A CHECK (col IS NOT NULL) constraint seen in an up section. */
typedef struct nncheck {
    char table[128], column[128], name[128];
    size_t validated_in; /* migration index + 1 where it became valid; 0 = not valid */
    int validated_notx;  /* it became valid in a no-transaction section (own commit) */
} nncheck;

/* What one engine's walk through the set remembers. */
typedef struct engine_state {
    int dialect;
    strset known;       /* tables that up sections of earlier migrations created */
    strset partitioned; /* tables created with PARTITION BY in this history */
    nncheck *checks;
    size_t nchecks, capchecks;
} engine_state;

/* A finding before it is published: rule, line and message. */
typedef struct lfind {
    int rule;
    int line;
    char *msg;
} lfind;

/* A lint-ignore comment in a section: where it is and what it silences. */
typedef struct directive {
    size_t off;
    int line; /* in the section */
    rulemask mask;
} directive;

typedef struct lint {
    int oom;
    /* the migration being checked */
    const migration *m;
    size_t mig_index;
    rulemask file_mask; /* lint-ignore in the file header */
    lfind *found;
    size_t nfound, capfound;
    size_t capreport; /* of the report's findings */
    /* the section being checked */
    engine_state *es;
    const section *sec;
    int kind;
    int lexd;        /* how its text is lexed (DIALECT_POSTGRES or _SQLITE) */
    strset created;  /* tables created earlier in this section */
    strset notvalid; /* constraints added NOT VALID earlier in this section */
    directive *dirs;
    size_t ndirs, capdirs, nextdir;
    /* the statement being checked */
    rulemask stmt_mask;
    int line; /* in the file */
    sql_token *t;
    size_t n, capt;
} lint;

static void vfinding(lint *L, int rule, int line, const char *fmt, va_list ap)
{
    if (ARR_GROW(L->found, L->capfound, L->nfound + 1)) {
        L->oom = 1;
        return;
    }
    char msg[1024];
    vsnprintf(msg, sizeof(msg), fmt, ap);
    lfind *f = &L->found[L->nfound];
    if (!(f->msg = xstrdup(msg))) {
        L->oom = 1;
        return;
    }
    f->rule = rule;
    f->line = line;
    L->nfound++;
}

static void file_finding(lint *L, int rule, int line, const char *fmt, ...) ATTR_PRINTF(4, 5);
static void file_finding(lint *L, int rule, int line, const char *fmt, ...)
{
    va_list ap;
    if (L->file_mask & (1ULL << rule))
        return;
    va_start(ap, fmt);
    vfinding(L, rule, line, fmt, ap);
    va_end(ap);
}

/* Reports rule at the current statement, unless it does not apply to this
   engine or section, or a lint-ignore silences it. */
static void finding(lint *L, int rule, const char *fmt, ...) ATTR_PRINTF(3, 4);
static void finding(lint *L, int rule, const char *fmt, ...)
{
    va_list ap;
    if (!(rules[rule].dialects & (1 << L->es->dialect)) || !(rules[rule].sections & (1 << L->kind)))
        return;
    if ((L->file_mask | L->stmt_mask) & (1ULL << rule))
        return;
    va_start(ap, fmt);
    vfinding(L, rule, L->line, fmt, ap);
    va_end(ap);
}

/* ------------------------------------------------------------ lint-ignore */

/* If the comment c is "-- strata:lint-ignore LIST [-- reason]", returns 1
   and the rules it names in *mask; unknown names are reported at line. */
static int parse_directive(lint *L, const char *c, size_t n, int line, rulemask *mask)
{
    static const char tag[] = "strata:lint-ignore";
    size_t i = 2, tl = sizeof(tag) - 1;
    if (n < 2 || c[0] != '-' || c[1] != '-')
        return 0;
    while (i < n && (c[i] == ' ' || c[i] == '\t'))
        i++;
    if (n - i < tl || strncmp(c + i, tag, tl) != 0 || (i + tl < n && !isspace((unsigned char)c[i + tl])))
        return 0;
    i += tl;
    *mask = 0;
    int any = 0; /* names seen, known or not */
    while (i < n) {
        while (i < n && (isspace((unsigned char)c[i]) || c[i] == ','))
            i++;
        if (i + 1 < n && c[i] == '-' && c[i + 1] == '-')
            break; /* the reason */
        size_t w = i;
        while (i < n && !isspace((unsigned char)c[i]) && c[i] != ',')
            i++;
        if (i == w)
            break;
        int r = rule_index(c + w, i - w);
        any = 1;
        if (r < 0) {
            file_finding(L, R_BAD_IGNORE, line, "unknown rule '%.*s' in lint-ignore", (int)(i - w), c + w);
        } else {
            *mask |= 1ULL << r;
        }
    }
    if (!any)
        file_finding(L, R_BAD_IGNORE, line, "lint-ignore names no rule");
    return 1;
}

/* The lint-ignore comments of a section's text (or of the file header). */
static void scan_directives(lint *L, const char *sql, int dialect, int first_line, int header)
{
    size_t pos = 0, len = strlen(sql);
    int line = 1;
    sql_token tok;
    L->ndirs = L->nextdir = 0;
    while (sql_token_next(sql, len, &pos, &line, dialect, 1, &tok) != SQLTOK_END) {
        rulemask mask;
        if (tok.kind != SQLTOK_COMMENT ||
            !parse_directive(L, tok.text, tok.len, first_line + tok.line - 1, &mask))
            continue;
        if (header) {
            L->file_mask |= mask;
            continue;
        }
        if (ARR_GROW(L->dirs, L->capdirs, L->ndirs + 1)) {
            L->oom = 1;
            return;
        }
        L->dirs[L->ndirs].off = (size_t)(tok.text - sql);
        L->dirs[L->ndirs].line = tok.line;
        L->dirs[L->ndirs].mask = mask;
        L->ndirs++;
    }
}

/* ------------------------------------------------------------ tokens */

static int is_word(const lint *L, size_t i, const char *w)
{
    return i < L->n && L->t[i].kind == SQLTOK_WORD && L->t[i].len == strlen(w) &&
           c_strncasecmp(L->t[i].text, w, L->t[i].len) == 0;
}

static int is_punct(const lint *L, size_t i, char c)
{
    return i < L->n && L->t[i].kind == SQLTOK_PUNCT && L->t[i].len == 1 && L->t[i].text[0] == c;
}

static int is_name(const lint *L, size_t i)
{
    return i < L->n && (L->t[i].kind == SQLTOK_WORD || L->t[i].kind == SQLTOK_QUOTED);
}

/* The name at token i as a key: unquoted words lower-cased, quotes removed. */
static void name_of(const lint *L, size_t i, char *out, size_t outsz)
{
    const sql_token *t = &L->t[i];
    size_t k = 0;
    if (t->kind == SQLTOK_QUOTED) {
        for (size_t j = 1; j + 1 < t->len && k + 1 < outsz; j++)
            out[k++] = t->text[j];
    } else {
        for (size_t j = 0; j < t->len && k + 1 < outsz; j++)
            out[k++] = (char)c_tolower((unsigned char)t->text[j]);
    }
    out[k] = 0;
}

/* Reads a possibly qualified name (a.b.c) at i into out (its last part);
   returns the index after it, or i with out "" when there is no name. */
static size_t read_name(const lint *L, size_t i, char *out, size_t outsz)
{
    out[0] = 0;
    if (!is_name(L, i))
        return i;
    name_of(L, i, out, outsz);
    i++;
    while (is_punct(L, i, '.') && is_name(L, i + 1)) {
        name_of(L, i + 1, out, outsz);
        i += 2;
    }
    return i;
}

/* Index of the first word w at parenthesis depth 0 in [from, to), or to. */
static size_t find_word(const lint *L, size_t from, size_t to, const char *w)
{
    int depth = 0;
    for (size_t i = from; i < to; i++) {
        if (is_punct(L, i, '('))
            depth++;
        else if (is_punct(L, i, ')'))
            depth--;
        else if (depth == 0 && is_word(L, i, w))
            return i;
    }
    return to;
}

static int has_words(const lint *L, size_t from, size_t to, const char *w1, const char *w2)
{
    int depth = 0;
    for (size_t i = from; i < to; i++) {
        if (is_punct(L, i, '('))
            depth++;
        else if (is_punct(L, i, ')'))
            depth--;
        else if (depth == 0 && is_word(L, i, w1) && (!w2 || is_word(L, i + 1, w2)))
            return 1;
    }
    return 0;
}

/* "existing" = not created earlier in this section. */
static int existing(const lint *L, const char *table)
{
    return !set_has(&L->created, table);
}

static void note_created(lint *L, const char *table)
{
    if (set_add(&L->created, table) < 0)
        L->oom = 1;
    if (L->kind == SEC_UP && set_add(&L->es->known, table) < 0)
        L->oom = 1;
}

/* ------------------------------------------------------------ CREATE, DROP */

static void check_create(lint *L)
{
    size_t i = 1;
    char name[128], table[128];
    if (is_word(L, i, "OR") && is_word(L, i + 1, "REPLACE"))
        i += 2;
    if (is_word(L, i, "GLOBAL") || is_word(L, i, "LOCAL"))
        i++;
    if (is_word(L, i, "TEMP") || is_word(L, i, "TEMPORARY") || is_word(L, i, "UNLOGGED"))
        i++;
    if (is_word(L, i, "TABLE") || (is_word(L, i, "MATERIALIZED") && is_word(L, i + 1, "VIEW"))) {
        i += is_word(L, i, "TABLE") ? 1 : 2;
        int ifne = is_word(L, i, "IF") && is_word(L, i + 1, "NOT") && is_word(L, i + 2, "EXISTS");
        if (ifne)
            i += 3;
        read_name(L, i, name, sizeof(name));
        /* IF NOT EXISTS creates nothing when an earlier migration made it */
        if (name[0] && !(ifne && set_has(&L->es->known, name) && existing(L, name))) {
            note_created(L, name);
            if (has_words(L, i, L->n, "PARTITION", "BY") && set_add(&L->es->partitioned, name) < 0)
                L->oom = 1;
        }
        return;
    }
    if (is_word(L, i, "UNIQUE"))
        i++;
    if (is_word(L, i, "INDEX")) {
        i++;
        int conc = is_word(L, i, "CONCURRENTLY");
        if (conc)
            i++;
        if (is_word(L, i, "IF") && is_word(L, i + 1, "NOT") && is_word(L, i + 2, "EXISTS"))
            i += 3;
        if (!is_word(L, i, "ON"))
            i = read_name(L, i, name, sizeof(name));
        if (!is_word(L, i, "ON"))
            return;
        i++;
        int only = is_word(L, i, "ONLY");
        if (only)
            i++;
        read_name(L, i, table, sizeof(table));
        if (conc && !L->sec->notx)
            finding(L, R_CONCURRENTLY_IN_TX,
                    "CREATE INDEX CONCURRENTLY cannot run inside a transaction block");
        /* ON ONLY a partitioned table builds nothing (its partitions'
           indexes are built and attached one by one); on a table this
           history made without PARTITION BY it builds the whole index */
        else if (!conc && table[0] && existing(L, table) &&
                 (!only || (set_has(&L->es->known, table) && !set_has(&L->es->partitioned, table))))
            finding(L, R_INDEX_NOT_CONCURRENT,
                    "CREATE INDEX on existing table '%s' without CONCURRENTLY blocks writes to it "
                    "while the index builds",
                    table);
        return;
    }
    if (!L->sec->notx && L->es->dialect == DIALECT_POSTGRES &&
        (is_word(L, i, "DATABASE") || is_word(L, i, "TABLESPACE")))
        finding(L, R_CANNOT_RUN_IN_TX, "CREATE %.*s cannot run inside a transaction", (int)L->t[i].len,
                L->t[i].text);
}

static void check_drop(lint *L)
{
    char name[128];
    if (is_word(L, 1, "TABLE")) {
        size_t i = 2;
        if (is_word(L, i, "IF") && is_word(L, i + 1, "EXISTS"))
            i += 2;
        for (;;) {
            size_t j = read_name(L, i, name, sizeof(name));
            if (j == i)
                break;
            if (existing(L, name))
                finding(L, R_DROP_TABLE, "DROP TABLE '%s' breaks the application version that still uses it",
                        name);
            set_del(&L->created, name);
            if (L->kind == SEC_UP)
                set_del(&L->es->known, name);
            if (!is_punct(L, j, ','))
                break;
            i = j + 1;
        }
        return;
    }
    if (is_word(L, 1, "INDEX") && is_word(L, 2, "CONCURRENTLY") && !L->sec->notx) {
        finding(L, R_CONCURRENTLY_IN_TX, "DROP INDEX CONCURRENTLY cannot run inside a transaction block");
        return;
    }
    if (!L->sec->notx && L->es->dialect == DIALECT_POSTGRES &&
        (is_word(L, 1, "DATABASE") || is_word(L, 1, "TABLESPACE")))
        finding(L, R_CANNOT_RUN_IN_TX, "DROP %.*s cannot run inside a transaction", (int)L->t[1].len,
                L->t[1].text);
}

/* REINDEX [(options)] {INDEX|TABLE|SCHEMA|DATABASE|SYSTEM} [CONCURRENTLY] name */
static void check_reindex(lint *L)
{
    size_t i = 1;
    if (L->sec->notx || L->es->dialect != DIALECT_POSTGRES)
        return;
    int conc = 0;
    if (is_punct(L, i, '(')) { /* (CONCURRENTLY, VERBOSE, ...) since PostgreSQL 14 */
        int depth = 0;
        for (; i < L->n; i++) {
            if (is_punct(L, i, '('))
                depth++;
            else if (is_punct(L, i, ')') && --depth == 0)
                break;
            else if (is_word(L, i, "CONCURRENTLY") && !is_word(L, i + 1, "FALSE") &&
                     !is_word(L, i + 1, "OFF") &&
                     !(i + 1 < L->n && L->t[i + 1].kind == SQLTOK_NUMBER && L->t[i + 1].text[0] == '0'))
                conc = 1;
        }
        i++;
    }
    if (conc || is_word(L, i + 1, "CONCURRENTLY"))
        finding(L, R_CONCURRENTLY_IN_TX, "REINDEX CONCURRENTLY cannot run inside a transaction block");
    else if (is_word(L, i, "SCHEMA") || is_word(L, i, "DATABASE") || is_word(L, i, "SYSTEM"))
        finding(L, R_CANNOT_RUN_IN_TX, "REINDEX %.*s cannot run inside a transaction", (int)L->t[i].len,
                L->t[i].text);
}

/* ------------------------------------------------------------ ALTER TABLE */

/* Volatile functions of PostgreSQL that a DEFAULT may call. now(),
   CURRENT_TIMESTAMP, statement_timestamp() and the like are STABLE: since
   PostgreSQL 11 they are evaluated once and stored without a rewrite. */
static const char *const volatile_fns[] = {
    "random",
    "random_normal",
    "gen_random_uuid",
    "uuid_generate_v1",
    "uuid_generate_v1mc",
    "uuid_generate_v4",
    "uuidv4",
    "uuidv7",
    "gen_random_bytes",
    "clock_timestamp",
    "timeofday",
    "nextval",
    "currval",
    "lastval",
    "setval",
    "txid_current",
    NULL,
};

static const char *const serial_types[] = {
    "serial", "bigserial", "smallserial", "serial2", "serial4", "serial8", NULL,
};

static int in_list(const lint *L, size_t i, const char *const *list)
{
    for (; *list; list++)
        if (is_word(L, i, *list))
            return 1;
    return 0;
}

/* Words that end a DEFAULT expression in a column definition. */
static int column_keyword(const lint *L, size_t i)
{
    static const char *const kws[] = {"NOT",     "NULL",       "CONSTRAINT", "CHECK",   "UNIQUE",
                                      "PRIMARY", "REFERENCES", "GENERATED",  "COLLATE", NULL};
    return in_list(L, i, kws);
}

/* 1 when SQLite's ADD COLUMN calls the DEFAULT at [a, b) non-constant: it
   takes a literal, a signed number or a bare word, also in parentheses, but
   not CURRENT_TIME/DATE/TIMESTAMP nor any other expression ((1 + 1), (f())). */
static int sqlite_nonconstant(const lint *L, size_t a, size_t b)
{
    if (!is_punct(L, a, '('))
        return is_word(L, a, "CURRENT_TIMESTAMP") || is_word(L, a, "CURRENT_DATE") ||
               is_word(L, a, "CURRENT_TIME");
    while (b > a + 1 && is_punct(L, a, '(') && is_punct(L, b - 1, ')')) {
        a++;
        b--;
    }
    if (b == a + 1)
        return !(L->t[a].kind == SQLTOK_NUMBER || L->t[a].kind == SQLTOK_STRING || is_word(L, a, "NULL") ||
                 is_word(L, a, "TRUE") || is_word(L, a, "FALSE"));
    if (b == a + 2)
        return !(((is_punct(L, a, '-') || is_punct(L, a, '+')) && L->t[a + 1].kind == SQLTOK_NUMBER) ||
                 ((is_word(L, a, "X") || is_word(L, a, "x")) && L->t[a + 1].kind == SQLTOK_STRING));
    return 1;
}

/* ADD [COLUMN] [IF NOT EXISTS] name type constraints..., tokens [i, end). */
static void check_add_column(lint *L, const char *table, size_t i, size_t end)
{
    char col[128];
    if (is_word(L, i, "COLUMN"))
        i++;
    if (is_word(L, i, "IF") && is_word(L, i + 1, "NOT") && is_word(L, i + 2, "EXISTS")) {
        finding(L, R_SQLITE_ALTER_SYNTAX, "SQLite does not support ADD COLUMN IF NOT EXISTS");
        i += 3;
    }
    if (!is_name(L, i))
        return;
    name_of(L, i, col, sizeof(col));
    i++;
    int old = existing(L, table);
    int serial = in_list(L, i, serial_types);
    int notnull = 0, pk = 0, unique = 0, identity = 0, stored = 0, has_default = 0, refs = 0, check = 0;
    size_t d0 = 0, d1 = 0; /* the DEFAULT expression */
    int depth = 0;
    for (size_t k = i; k < end; k++) {
        if (is_punct(L, k, '(')) {
            depth++;
            continue;
        }
        if (is_punct(L, k, ')')) {
            depth--;
            continue;
        }
        if (depth)
            continue;
        if (is_word(L, k, "NOT") && is_word(L, k + 1, "NULL"))
            notnull = 1;
        else if (is_word(L, k, "PRIMARY") && is_word(L, k + 1, "KEY"))
            pk = 1;
        else if (is_word(L, k, "UNIQUE"))
            unique = 1;
        else if (is_word(L, k, "REFERENCES"))
            refs = 1;
        else if (is_word(L, k, "CHECK"))
            check = 1;
        else if (is_word(L, k, "GENERATED")) {
            size_t as = find_word(L, k, end, "AS");
            if (is_word(L, as + 1, "IDENTITY"))
                identity = 1;
            else if (has_words(L, as, end, "STORED", NULL))
                stored = 1; /* VIRTUAL is the default of SQLite and PostgreSQL 18 */
        } else if (is_word(L, k, "AS") && is_punct(L, k + 1, '(') && has_words(L, k, end, "STORED", NULL)) {
            stored = 1; /* SQLite's short form: [GENERATED ALWAYS] AS (expr) STORED */
        } else if (is_word(L, k, "DEFAULT") && !has_default) {
            has_default = 1;
            d0 = k + 1;
            int dd = 0;
            for (d1 = d0; d1 < end; d1++) {
                if (is_punct(L, d1, '('))
                    dd++;
                else if (is_punct(L, d1, ')'))
                    dd--;
                else if (dd == 0 && d1 > d0 && column_keyword(L, d1))
                    break;
            }
            k = d1 - 1;
        }
    }
    int default_null = has_default && d1 == d0 + 1 && is_word(L, d0, "NULL");
    const sql_token *volatile_fn = NULL;
    for (size_t k = d0; k < d1 && !volatile_fn; k++)
        if (in_list(L, k, volatile_fns) && is_punct(L, k + 1, '('))
            volatile_fn = &L->t[k];

    /* PostgreSQL */
    if (old) {
        if (notnull && (!has_default || default_null) && !serial && !identity && !stored)
            finding(L, R_NOT_NULL_NO_DEFAULT,
                    "adding NOT NULL column '%s' to '%s' without a default fails when the table "
                    "has rows",
                    col, table);
        if (volatile_fn)
            finding(L, R_VOLATILE_DEFAULT,
                    "adding column '%s' to '%s' with the volatile default %.*s() rewrites the "
                    "whole table under an ACCESS EXCLUSIVE lock",
                    col, table, (int)volatile_fn->len, volatile_fn->text);
        else if (serial || identity)
            finding(L, R_VOLATILE_DEFAULT,
                    "adding %s column '%s' to '%s' fills every row from a sequence: the whole table "
                    "is rewritten under an ACCESS EXCLUSIVE lock",
                    serial ? "serial" : "identity", col, table);
        else if (stored)
            finding(L, R_VOLATILE_DEFAULT,
                    "adding stored generated column '%s' to '%s' rewrites the whole table under an "
                    "ACCESS EXCLUSIVE lock",
                    col, table);
        if (pk || unique)
            finding(L, R_UNIQUE_NO_INDEX,
                    "adding %s column '%s' to '%s' builds its index under an ACCESS EXCLUSIVE lock",
                    pk ? "PRIMARY KEY" : "UNIQUE", col, table);
        /* an inline key or CHECK is validated at once, like ADD CONSTRAINT
           without NOT VALID: a scan of every row under the column's lock */
        if (refs)
            finding(L, R_FK_NOT_VALID,
                    "adding column '%s' to '%s' with REFERENCES checks every row while blocking writes "
                    "to both tables",
                    col, table);
        if (check)
            finding(L, R_CHECK_NOT_VALID,
                    "adding column '%s' to '%s' with a CHECK scans every row under an ACCESS EXCLUSIVE "
                    "lock",
                    col, table);
    }

    /* SQLite */
    if (pk || unique)
        finding(L, R_SQLITE_ADD_COLUMN, "SQLite cannot add a %s column ('%s' to '%s')",
                pk ? "PRIMARY KEY" : "UNIQUE", col, table);
    if (stored)
        finding(L, R_SQLITE_ADD_COLUMN, "SQLite cannot add a STORED generated column ('%s' to '%s')", col,
                table);
    if (old && notnull && (!has_default || default_null) && !stored)
        finding(L, R_SQLITE_ADD_COLUMN,
                "SQLite cannot add NOT NULL column '%s' to '%s' without a non-NULL default when "
                "the table has rows",
                col, table);
    if (old && has_default && sqlite_nonconstant(L, d0, d1))
        finding(L, R_SQLITE_ADD_COLUMN,
                "SQLite cannot add column '%s' to '%s' with a non-constant default when the "
                "table has rows",
                col, table);
}

static nncheck *find_check(engine_state *es, const char *table, const char *name, const char *column)
{
    for (size_t i = 0; i < es->nchecks; i++) {
        nncheck *c = &es->checks[i];
        if (!strcmp(c->table, table) && (name ? !strcmp(c->name, name) : !strcmp(c->column, column)))
            return c;
    }
    return NULL;
}

/* Remembers CHECK ( col IS NOT NULL ) at tokens [i, end) (i at CHECK). */
static void note_check(lint *L, const char *table, const char *name, size_t i, size_t end, int valid)
{
    char col[128];
    if (!(is_punct(L, i + 1, '(') && is_name(L, i + 2) && is_word(L, i + 3, "IS") &&
          is_word(L, i + 4, "NOT") && is_word(L, i + 5, "NULL") && is_punct(L, i + 6, ')')) ||
        L->kind != SEC_UP)
        return;
    name_of(L, i + 2, col, sizeof(col));
    engine_state *es = L->es;
    if (ARR_GROW(es->checks, es->capchecks, es->nchecks + 1)) {
        L->oom = 1;
        return;
    }
    nncheck *c = &es->checks[es->nchecks++];
    memset(c, 0, sizeof(*c));
    snprintf(c->table, sizeof(c->table), "%s", table);
    snprintf(c->column, sizeof(c->column), "%s", col);
    snprintf(c->name, sizeof(c->name), "%s", name);
    if (valid) {
        c->validated_in = L->mig_index + 1;
        c->validated_notx = L->sec->notx;
    }
}

/* ADD [CONSTRAINT name] {PRIMARY KEY|UNIQUE|FOREIGN KEY|CHECK|EXCLUDE} ... */
static void check_add_constraint(lint *L, const char *table, const char *name, size_t i, size_t end)
{
    int old = existing(L, table);
    int not_valid = has_words(L, i, end, "NOT", "VALID");
    finding(L, R_SQLITE_ALTER_CONSTRAINT, "SQLite cannot add a constraint to table '%s' once it exists",
            table);
    if (not_valid && name[0] && !L->sec->notx && set_add(&L->notvalid, name) < 0)
        L->oom = 1;
    if (is_word(L, i, "PRIMARY") || is_word(L, i, "UNIQUE")) {
        if (old && !has_words(L, i, end, "USING", "INDEX"))
            finding(L, R_UNIQUE_NO_INDEX, "adding %s to '%s' builds its index under an ACCESS EXCLUSIVE lock",
                    is_word(L, i, "PRIMARY") ? "a PRIMARY KEY" : "a UNIQUE constraint", table);
    } else if (is_word(L, i, "EXCLUDE")) {
        if (old)
            finding(L, R_EXCLUDE,
                    "adding an EXCLUDE constraint to '%s' builds its index under an ACCESS EXCLUSIVE lock",
                    table);
    } else if (is_word(L, i, "FOREIGN")) {
        if (old && !not_valid)
            finding(L, R_FK_NOT_VALID,
                    "adding a FOREIGN KEY to '%s' without NOT VALID checks every row while "
                    "blocking writes to both tables",
                    table);
    } else if (is_word(L, i, "CHECK")) {
        if (old && !not_valid)
            finding(L, R_CHECK_NOT_VALID,
                    "adding a CHECK constraint to '%s' without NOT VALID scans every row under "
                    "an ACCESS EXCLUSIVE lock",
                    table);
        note_check(L, table, name, i, end, !not_valid || !old);
    }
}

static void check_alter_column(lint *L, const char *table, size_t i, size_t end)
{
    char col[128];
    if (is_word(L, i, "COLUMN"))
        i++;
    if (!is_name(L, i))
        return;
    name_of(L, i, col, sizeof(col));
    i++;
    finding(L, R_SQLITE_ALTER_COLUMN, "SQLite cannot ALTER COLUMN '%s' of '%s'", col, table);
    if (!existing(L, table))
        return;
    if (is_word(L, i, "TYPE") ||
        (is_word(L, i, "SET") && is_word(L, i + 1, "DATA") && is_word(L, i + 2, "TYPE"))) {
        finding(L, R_ALTER_COLUMN_TYPE,
                "changing the type of column '%s' of '%s' rewrites the table and its indexes under "
                "an ACCESS EXCLUSIVE lock",
                col, table);
    } else if (is_word(L, i, "SET") && is_word(L, i + 1, "NOT") && is_word(L, i + 2, "NULL")) {
        const nncheck *c = find_check(L->es, table, NULL, col);
        int proven = c && c->validated_in &&
                     (c->validated_in < L->mig_index + 1 || (c->validated_notx && L->sec->notx));
        if (!proven)
            finding(L, R_SET_NOT_NULL,
                    "SET NOT NULL on column '%s' of '%s' scans the whole table under an ACCESS "
                    "EXCLUSIVE lock",
                    col, table);
    }
}

/* One action of ALTER TABLE, tokens [i, end). */
static void check_alter_action(lint *L, const char *table, size_t i, size_t end)
{
    char name[128] = "";
    if (is_word(L, i, "ADD")) {
        size_t j = i + 1;
        if (is_word(L, j, "CONSTRAINT")) {
            if (is_name(L, j + 1))
                name_of(L, j + 1, name, sizeof(name));
            j += 2;
            check_add_constraint(L, table, name, j, end);
        } else if (is_word(L, j, "PRIMARY") || is_word(L, j, "UNIQUE") || is_word(L, j, "FOREIGN") ||
                   is_word(L, j, "CHECK") || is_word(L, j, "EXCLUDE")) {
            check_add_constraint(L, table, name, j, end);
        } else {
            check_add_column(L, table, j, end);
        }
        return;
    }
    if (is_word(L, i, "DROP")) {
        size_t j = i + 1;
        if (is_word(L, j, "CONSTRAINT")) {
            finding(L, R_SQLITE_ALTER_CONSTRAINT, "SQLite cannot drop a constraint of '%s'", table);
            return;
        }
        if (is_word(L, j, "COLUMN"))
            j++;
        if (is_word(L, j, "IF") && is_word(L, j + 1, "EXISTS")) {
            finding(L, R_SQLITE_ALTER_SYNTAX, "SQLite does not support DROP COLUMN IF EXISTS");
            j += 2;
        }
        if (!is_name(L, j))
            return;
        name_of(L, j, name, sizeof(name));
        if (has_words(L, j + 1, end, "CASCADE", NULL))
            finding(L, R_SQLITE_ALTER_SYNTAX, "SQLite does not support DROP COLUMN ... CASCADE");
        if (existing(L, table))
            finding(L, R_DROP_COLUMN,
                    "dropping column '%s' of '%s' breaks the application version that still uses it", name,
                    table);
        return;
    }
    if (is_word(L, i, "ALTER")) {
        if (is_word(L, i + 1, "CONSTRAINT"))
            finding(L, R_SQLITE_ALTER_CONSTRAINT, "SQLite cannot alter a constraint of '%s'", table);
        else
            check_alter_column(L, table, i + 1, end);
        return;
    }
    if (is_word(L, i, "VALIDATE") && is_word(L, i + 1, "CONSTRAINT")) {
        finding(L, R_SQLITE_ALTER_CONSTRAINT, "SQLite has no VALIDATE CONSTRAINT");
        if (!is_name(L, i + 2))
            return;
        name_of(L, i + 2, name, sizeof(name));
        if (!L->sec->notx && set_has(&L->notvalid, name))
            finding(L, R_VALIDATE_SAME_TX,
                    "constraint '%s' is validated in the transaction that added it NOT VALID: the "
                    "lock of the ADD is held through the scan",
                    name);
        nncheck *c = L->kind == SEC_UP ? find_check(L->es, table, name, NULL) : NULL;
        if (c && !c->validated_in) {
            c->validated_in = L->mig_index + 1;
            c->validated_notx = L->sec->notx;
        }
        return;
    }
    if (is_word(L, i, "DETACH") && has_words(L, i, end, "CONCURRENTLY", NULL) && !L->sec->notx)
        finding(L, R_CONCURRENTLY_IN_TX,
                "DETACH PARTITION CONCURRENTLY cannot run inside a transaction block");
    if (i < end)
        finding(L, R_SQLITE_ALTER_SYNTAX, "SQLite does not support ALTER TABLE ... %.*s", (int)L->t[i].len,
                L->t[i].text);
}

static void check_alter_table(lint *L)
{
    char table[128], name[128];
    size_t i = 2;
    if (is_word(L, i, "IF") && is_word(L, i + 1, "EXISTS")) {
        finding(L, R_SQLITE_ALTER_SYNTAX, "SQLite does not support ALTER TABLE IF EXISTS");
        i += 2;
    }
    if (is_word(L, i, "ONLY")) {
        finding(L, R_SQLITE_ALTER_SYNTAX, "SQLite does not support ALTER TABLE ONLY");
        i++;
    }
    if (is_word(L, i, "ALL") && is_word(L, i + 1, "IN"))
        return; /* ALTER TABLE ALL IN TABLESPACE */
    size_t j = read_name(L, i, table, sizeof(table));
    if (j == i)
        return;
    i = j;
    if (is_punct(L, i, '*'))
        i++;
    int old = existing(L, table);

    if (is_word(L, i, "RENAME")) {
        if (is_word(L, i + 1, "TO")) {
            read_name(L, i + 2, name, sizeof(name));
            if (old) {
                finding(L, R_RENAME_TABLE,
                        "renaming table '%s' to '%s' breaks the application version that still "
                        "uses the old name",
                        table, name);
            } else {
                set_del(&L->created, table);
                note_created(L, name);
            }
            if (L->kind == SEC_UP) {
                set_del(&L->es->known, table);
                if (set_add(&L->es->known, name) < 0)
                    L->oom = 1;
            }
        } else if (is_word(L, i + 1, "CONSTRAINT")) {
            finding(L, R_SQLITE_ALTER_CONSTRAINT, "SQLite cannot rename a constraint of '%s'", table);
        } else {
            size_t k = i + 1 + is_word(L, i + 1, "COLUMN");
            if (is_name(L, k) && is_word(L, k + 1, "TO") && is_name(L, k + 2) && old) {
                char from[128], to[128];
                name_of(L, k, from, sizeof(from));
                name_of(L, k + 2, to, sizeof(to));
                finding(L, R_RENAME_COLUMN,
                        "renaming column '%s' of '%s' to '%s' breaks the application version "
                        "that still uses the old name",
                        from, table, to);
            }
        }
        return;
    }

    /* the actions, separated by commas outside parentheses */
    size_t start = i;
    int depth = 0, nactions = 0;
    for (size_t k = i; k <= L->n; k++) {
        if (k < L->n && is_punct(L, k, '('))
            depth++;
        else if (k < L->n && is_punct(L, k, ')'))
            depth--;
        if (k == L->n || (depth == 0 && is_punct(L, k, ','))) {
            if (k > start) {
                nactions++;
                check_alter_action(L, table, start, k);
            }
            start = k + 1;
        }
    }
    if (nactions > 1)
        finding(L, R_SQLITE_ALTER_SYNTAX, "SQLite's ALTER TABLE takes one action; this one has %d", nactions);
}

static void check_alter(lint *L)
{
    if (is_word(L, 1, "TABLE")) {
        check_alter_table(L);
    } else if (is_word(L, 1, "TYPE")) {
        char type[128];
        size_t i = read_name(L, 2, type, sizeof(type));
        if (is_word(L, i, "ADD") && is_word(L, i + 1, "VALUE") && !L->sec->notx)
            finding(L, R_ENUM_VALUE_IN_TX,
                    "ALTER TYPE %s ADD VALUE in a transaction: the new value cannot be used "
                    "before the transaction commits",
                    type);
    } else if (is_word(L, 1, "SYSTEM") && !L->sec->notx && L->es->dialect == DIALECT_POSTGRES) {
        finding(L, R_CANNOT_RUN_IN_TX, "ALTER SYSTEM cannot run inside a transaction");
    }
}

/* ------------------------------------------------------------ statements */

static void check_statement(lint *L)
{
    if (L->n == 0 || L->t[0].kind != SQLTOK_WORD)
        return;
    int notx = L->sec->notx;
    if (is_word(L, 0, "CREATE"))
        check_create(L);
    else if (is_word(L, 0, "DROP"))
        check_drop(L);
    else if (is_word(L, 0, "ALTER"))
        check_alter(L);
    else if (is_word(L, 0, "REINDEX"))
        check_reindex(L);
    else if (is_word(L, 0, "VACUUM") && !notx)
        finding(L, R_CANNOT_RUN_IN_TX, "VACUUM cannot run inside a transaction");
    else if (is_word(L, 0, "CLUSTER") && !notx && L->es->dialect == DIALECT_POSTGRES &&
             (L->n == 1 || (L->n == 2 && is_word(L, 1, "VERBOSE")) ||
              (is_punct(L, 1, '(') && is_punct(L, L->n - 1, ')'))))
        finding(L, R_CANNOT_RUN_IN_TX, "CLUSTER without a table cannot run inside a transaction");
    else if (is_word(L, 0, "PRAGMA") && !notx) {
        char name[128];
        size_t i = read_name(L, 1, name, sizeof(name));
        int sets = is_punct(L, i, '=') || is_punct(L, i, '(');
        if (sets && !strcmp(name, "foreign_keys"))
            finding(L, R_SQLITE_PRAGMA, "PRAGMA foreign_keys has no effect inside a transaction");
        else if (sets && !strcmp(name, "journal_mode"))
            finding(L, R_SQLITE_PRAGMA, "PRAGMA journal_mode cannot switch to WAL inside a transaction");
    }
}

/* 1 when directive d follows the end of a statement (at end, on end_line)
   with nothing but its semicolon and blanks in between. */
static int trailing(const char *sql, size_t end, const directive *d, int end_line)
{
    if (d->line != end_line)
        return 0;
    for (size_t k = end; k < d->off; k++)
        if (sql[k] != ';' && sql[k] != ' ' && sql[k] != '\t' && sql[k] != '\r')
            return 0;
    return 1;
}

static int on_statement(void *ud, const sql_stmt *st)
{
    lint *L = ud;
    const char *sql = L->sec->sql;
    size_t end = (size_t)(st->text - sql) + st->len;
    /* a lint-ignore applies to the statement it precedes or sits in, or to
       the one that ends on its line ("DROP TABLE t; -- strata:lint-ignore ...") */
    int end_line = st->line;
    for (size_t k = 0; k < st->len; k++)
        end_line += st->text[k] == '\n';
    L->stmt_mask = 0;
    while (L->nextdir < L->ndirs &&
           (L->dirs[L->nextdir].off < end || trailing(sql, end, &L->dirs[L->nextdir], end_line)))
        L->stmt_mask |= L->dirs[L->nextdir++].mask;
    L->line = L->sec->line + st->line - 1;

    size_t pos = 0;
    int line = 1;
    L->n = 0;
    for (;;) {
        if (ARR_GROW(L->t, L->capt, L->n + 1)) {
            L->oom = 1;
            return 1;
        }
        if (sql_token_next(st->text, st->len, &pos, &line, L->lexd, 0, &L->t[L->n]) == SQLTOK_END)
            break;
        L->n++;
    }
    check_statement(L);
    return L->oom;
}

static void check_section(lint *L, engine_state *es, const section *sec, int kind)
{
    L->es = es;
    L->sec = sec;
    L->kind = kind;
    /* a generic section is read as the parser reads it (PostgreSQL lexing:
       $$ bodies, nested comments), for both engines' rules */
    L->lexd = sec->dialect == DIALECT_SQLITE ? DIALECT_SQLITE : DIALECT_POSTGRES;
    set_clear(&L->created);
    set_clear(&L->notvalid);
    scan_directives(L, sec->sql, L->lexd, sec->line, 0);
    if (!L->oom)
        sql_split(sec->sql, strlen(sec->sql), L->lexd, on_statement, L);
}

/* ------------------------------------------------------------ the report */

static int lfind_cmp(const void *a, const void *b)
{
    const lfind *x = a, *y = b;
    if (x->line != y->line)
        return x->line < y->line ? -1 : 1;
    if (x->rule != y->rule)
        return x->rule < y->rule ? -1 : 1;
    return strcmp(x->msg, y->msg);
}

/* Sorts the migration's findings, drops the duplicates that a generic
   section checked for both engines yields, and moves them into the report. */
static void publish(lint *L, strata_lint_report *rep)
{
    size_t kept = 0;
    if (L->nfound > 1)
        qsort(L->found, L->nfound, sizeof(lfind), lfind_cmp);
    for (size_t i = 0; i < L->nfound; i++) {
        if (kept > 0 && lfind_cmp(&L->found[i], &L->found[kept - 1]) == 0) {
            free(L->found[i].msg);
            continue;
        }
        L->found[kept++] = L->found[i];
    }
    L->nfound = kept;
    for (size_t i = 0; i < L->nfound && !L->oom; i++) {
        lfind *f = &L->found[i];
        if (ARR_GROW(rep->findings, L->capreport, rep->count + 1)) {
            L->oom = 1;
            continue;
        }
        strata_lint_finding *o = &rep->findings[rep->count];
        o->rule = rules[f->rule].pub.id;
        o->severity = rules[f->rule].pub.severity;
        o->hint = rules[f->rule].pub.hint;
        o->line = f->line;
        o->file = xstrdup(L->m->path ? L->m->path : L->m->id);
        o->version = xstrdup(L->m->version);
        o->message = f->msg;
        f->msg = NULL;
        rep->count++;
        if (!o->file || !o->version)
            L->oom = 1;
        if (o->severity == STRATA_LINT_ERROR)
            rep->errors++;
        else
            rep->warnings++;
    }
    for (size_t i = 0; i < L->nfound; i++)
        free(L->found[i].msg);
    L->nfound = 0;
}

void strata_lint_report_free(strata_lint_report *r)
{
    if (!r)
        return;
    for (size_t i = 0; i < r->count; i++) {
        free((char *)r->findings[i].file);
        free((char *)r->findings[i].version);
        free((char *)r->findings[i].message);
    }
    free(r->findings);
    free(r);
}

/* Frees what a walk with L and the engines' states es[0..n) holds. */
static void lint_release(lint *L, engine_state *es, int n)
{
    for (int e = 0; e < n; e++) {
        set_release(&es[e].known);
        set_release(&es[e].partitioned);
        free(es[e].checks);
    }
    set_release(&L->created);
    set_release(&L->notvalid);
    for (size_t i = 0; i < L->nfound; i++)
        free(L->found[i].msg);
    free(L->found);
    free(L->dirs);
    free(L->t);
}

int lint_needs_notx(const char *sql)
{
    lint L;
    memset(&L, 0, sizeof(L));
    engine_state es[2];
    memset(es, 0, sizeof(es));
    es[0].dialect = DIALECT_POSTGRES;
    es[1].dialect = DIALECT_SQLITE;
    section sec;
    memset(&sec, 0, sizeof(sec));
    sec.kind = SEC_UP;
    sec.dialect = DIALECT_ANY;
    sec.sql = (char *)(sql ? sql : "");
    sec.line = 1;
    for (int e = 0; e < 2 && !L.oom; e++)
        check_section(&L, &es[e], &sec, SEC_UP);
    int need = 0;
    for (size_t i = 0; i < L.nfound; i++)
        need |= L.found[i].rule == R_CONCURRENTLY_IN_TX || L.found[i].rule == R_CANNOT_RUN_IN_TX;
    int oom = L.oom;
    lint_release(&L, es, 2);
    return oom ? -1 : need;
}

strata_code strata_lint(const strata_migset *set, const char *dialect, strata_lint_report **out,
                        strata_error *err)
{
    if (!set || !out) {
        if (out)
            *out = NULL;
        return api_null(err, __func__, "set and out");
    }
    engine_state es[2];
    int nes = 0;
    *out = NULL;
    int only = dialect ? dialect_of_engine(dialect) : DIALECT_ANY;
    if (only < 0)
        return err_set(err, STRATA_USAGE, "unknown dialect '%s' (expected postgres or sqlite)", dialect);
    memset(es, 0, sizeof(es));
    if (only != DIALECT_SQLITE)
        es[nes++].dialect = DIALECT_POSTGRES;
    if (only != DIALECT_POSTGRES)
        es[nes++].dialect = DIALECT_SQLITE;

    strata_lint_report *rep = calloc(1, sizeof(*rep));
    lint L;
    memset(&L, 0, sizeof(L));
    if (!rep)
        return err_set(err, STRATA_NOMEM, "out of memory");

    for (size_t mi = 0; set && mi < set->count && !L.oom; mi++) {
        const migration *m = &set->migs[mi];
        mig_materialize(m, NULL); /* a set loaded through the cache */
        if (m->broken)
            continue;
        L.m = m;
        L.mig_index = mi;
        L.file_mask = 0;
        if (m->header)
            scan_directives(&L, m->header, DIALECT_POSTGRES, 1, 1);
        int nup = 0, nmissing = 0, miss_line = 0;
        const char *which = "";
        for (int e = 0; e < nes; e++) {
            const section *up = mig_section(m, SEC_UP, es[e].dialect);
            const section *down = mig_section(m, SEC_DOWN, es[e].dialect);
            if (up) {
                nup++;
                check_section(&L, &es[e], up, SEC_UP);
                if (!down) {
                    nmissing++;
                    which = es[e].dialect == DIALECT_POSTGRES ? "postgres" : "sqlite";
                    /* the line of the up marker */
                    if (!miss_line || up->line - 1 < miss_line)
                        miss_line = up->line - 1;
                }
            }
            if (down)
                check_section(&L, &es[e], down, SEC_DOWN);
        }
        if (nmissing == nup && nmissing > 0)
            file_finding(&L, R_MISSING_DOWN, miss_line, "'%s' has no down section: it cannot be reverted",
                         m->id);
        else if (nmissing > 0)
            file_finding(&L, R_MISSING_DOWN, miss_line,
                         "'%s' has no down section for %s: it cannot be reverted there", m->id, which);
        publish(&L, rep);
    }

    lint_release(&L, es, 2);
    if (L.oom) {
        strata_lint_report_free(rep);
        return err_set(err, STRATA_NOMEM, "out of memory");
    }
    *out = rep;
    return STRATA_OK;
}
