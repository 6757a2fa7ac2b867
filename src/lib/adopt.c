/*
 * adopt.c -- `strata adopt --from FORMAT`: a database migrated by another
 * tool gets strata's version table, without running anything.
 *
 * The migrations written by `strata import` carry a header line
 * "-- import: tool=T version=V file=F"; the other tool's version table says
 * which of its versions V are applied. Those migrations are recorded as
 * applied by engine_record_applied (under the lock, one transaction). The
 * other tool's table is only read, so going back to that tool stays
 * possible (docs/adopting.md).
 */
#include "internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

/* One imported migration of the tool being adopted from. */
typedef struct cand {
    const migration *m;
    char *orig;     /* the tool's version, from the header */
    char **parents; /* alembic: the revisions it follows */
    size_t nparents, capparents;
    size_t ndown;  /* alembic: parents[ndown..] come from depends= */
    int has_graph; /* alembic: its marker was found (no parents: a base) */
    int applied;
} cand;

typedef struct adopt_ctx {
    strata *db;
    const strata_migset *set;
    const char *tool;
    const char *table;         /* the other tool's table, for messages */
    const char *table_given;   /* the table the caller named, NULL: the default */
    const char *table_default; /* the tool's own name for it (formats[]) */
    char where[4096];          /* sqitch: the registry read (table points here) */
    cand *c;
    size_t n;
    /* rows read from the other tool's table: up to 4 text columns each */
    char **rows;
    size_t nrows, cap;
    int oom;
    int stuck; /* the other tool's state is dirty or failed at a version
                  one of the files was imported from */
    /* find_orig's index: c[i].orig's key (orig_key) at keys[i], and an
       open-addressed table of i + 1 by key (nslot a power of two, 0: none) */
    char **keys;
    size_t *slot, nslot;
} adopt_ctx;

enum { NCOL = 4 };

/* ------------------------------------------------------------ headers */

/* The value of key= in the "-- import:" line of header (%XX decoded),
   malloc'd; NULL when absent. */
static char *header_value(const char *header, const char *key)
{
    const char *line = header;
    while (line && strncmp(line, "-- import:", 10) != 0) {
        line = strchr(line, '\n');
        line = line ? line + 1 : NULL;
    }
    if (!line)
        return NULL;
    const char *end = strchr(line, '\n');
    if (!end)
        end = line + strlen(line);
    size_t k = strlen(key);
    for (const char *p = line + 10; p < end;) {
        while (p < end && (*p == ' ' || *p == '\t'))
            p++;
        const char *w = p;
        while (p < end && *p != ' ' && *p != '\t' && *p != '\r')
            p++;
        if ((size_t)(p - w) > k && !strncmp(w, key, k) && w[k] == '=') {
            return pct_decode(w + k + 1, (size_t)(p - w - k - 1));
        }
    }
    return NULL;
}

/* Alembic's "-- Running upgrade P1, P2 -> R" comment, which the Alembic
   reader keeps first in every up section: the parents of R. */
static void alembic_parents(cand *c)
{
    for (int i = 0; i < c->m->nsecs; i++) {
        const section *s = &c->m->secs[i];
        if (s->kind != SEC_UP || !s->sql)
            continue;
        const char *p = strstr(s->sql, "-- Running upgrade ");
        if (!p)
            continue;
        p += 19;
        const char *arrow = strstr(p, " -> "), *eol = strchr(p, '\n');
        if (!arrow || (eol && eol < arrow))
            continue;
        c->has_graph = 1;
        while (p < arrow) {
            while (p < arrow && (*p == ' ' || *p == ','))
                p++;
            const char *w = p;
            while (p < arrow && *p != ',' && *p != ' ')
                p++;
            if (p > w) {
                if (ARR_GROW(c->parents, c->capparents, c->nparents + 1))
                    return;
                c->parents[c->nparents++] = xstrndup(w, (size_t)(p - w));
            }
        }
        break;
    }
    /* depends_on: the header's depends= (the marker lists only
       down_revision) */
    c->ndown = c->nparents;
    char *deps = c->m->header ? header_value(c->m->header, "depends") : NULL;
    for (const char *p = deps; p && *p;) {
        size_t n = strcspn(p, ",");
        if (n) {
            if (ARR_GROW(c->parents, c->capparents, c->nparents + 1))
                break;
            c->parents[c->nparents++] = xstrndup(p, n);
        }
        p += n + (p[n] == ',');
    }
    free(deps);
}

/* ------------------------------------------------------------- versions */

/* Flyway's order: dot- (or underscore-) separated numbers, trailing zero
   parts insignificant ("1.0" == "1", "1.10" > "1.9"). */
static int flyway_cmp(const char *a, const char *b)
{
    while (*a || *b) {
        char pa[64] = "0", pb[64] = "0";
        size_t na = strcspn(a, "._"), nb = strcspn(b, "._");
        if (na)
            snprintf(pa, sizeof(pa), "%.*s", (int)na, a);
        if (nb)
            snprintf(pb, sizeof(pb), "%.*s", (int)nb, b);
        int c = all_digits(pa) && all_digits(pb) ? version_cmp(pa, pb) : strcmp(pa, pb);
        if (c)
            return c < 0 ? -1 : 1;
        a += na;
        b += nb;
        if (*a)
            a++;
        if (*b)
            b++;
    }
    return 0;
}

/* Compares the tool's versions the way that tool's table stores them:
   goose and golang-migrate keep a bigint (00002 is 2), Flyway its dotted
   order; dbmate and pop keep a string ("001" and "1" are two versions), as
   do alembic and sqitch. */
static int orig_cmp(const adopt_ctx *x, const char *a, const char *b)
{
    if (!strcmp(x->tool, "flyway"))
        return flyway_cmp(a, b);
    if ((!strcmp(x->tool, "goose") || !strcmp(x->tool, "golang-migrate")) && all_digits(a) && all_digits(b))
        return version_cmp(a, b);
    return strcmp(a, b) != 0;
}

/* v in a form in which two versions are the same string exactly when
   orig_cmp calls them equal (malloc'd; NULL: out of memory): Flyway's parts
   joined by '.', numbers without leading zeros, trailing zero parts left
   out; goose's and golang-migrate's numbers without leading zeros; the
   others' versions as they are. */
static char *orig_key(const adopt_ctx *x, const char *v)
{
    int flyway = !strcmp(x->tool, "flyway");
    if (!flyway && !((!strcmp(x->tool, "goose") || !strcmp(x->tool, "golang-migrate")) && all_digits(v)))
        return xstrdup(v);
    if (!flyway) {
        while (*v == '0' && v[1])
            v++;
        return xstrdup(v);
    }
    buf b;
    buf_init(&b);
    size_t keep = 0; /* b's length up to its last part that is not zero */
    for (const char *p = v;;) {
        size_t n = strcspn(p, "._");
        char part[64]; /* flyway_cmp compares a part's first 63 bytes */
        snprintf(part, sizeof(part), "%.*s", (int)n, p);
        const char *q = part;
        if (all_digits(part))
            while (*q == '0' && q[1])
                q++;
        buf_addf(&b, "%s%s", b.len ? "." : "", *q ? q : "0");
        if (strcmp(q, "0") && *q)
            keep = b.len;
        if (!p[n])
            break;
        p += n + 1;
    }
    char *k = b.oom ? NULL : xstrndup(b.data, keep);
    buf_release(&b);
    return k;
}

/* The index of find_orig; nonzero when out of memory. The first of two
   files imported from one version is the one found, as before. */
static int orig_index(adopt_ctx *x)
{
    x->keys = calloc(x->n + 1, sizeof(*x->keys));
    for (x->nslot = 16; x->nslot < 2 * x->n; x->nslot *= 2)
        ;
    x->slot = calloc(x->nslot, sizeof(*x->slot));
    if (!x->keys || !x->slot)
        return 1;
    for (size_t i = 0; i < x->n; i++) {
        if (!(x->keys[i] = orig_key(x, x->c[i].orig)))
            return 1;
        size_t h = (size_t)fnv1a(FNV1A_START, x->keys[i]) & (x->nslot - 1);
        while (x->slot[h] && strcmp(x->keys[x->slot[h] - 1], x->keys[i]))
            h = (h + 1) & (x->nslot - 1);
        if (!x->slot[h])
            x->slot[h] = i + 1;
    }
    return 0;
}

static cand *find_orig(adopt_ctx *x, const char *v)
{
    char *k = orig_key(x, v);
    cand *hit = NULL;
    if (!k) { /* out of memory: the slow way */
        for (size_t i = 0; i < x->n && !hit; i++)
            hit = orig_cmp(x, x->c[i].orig, v) ? NULL : &x->c[i];
        return hit;
    }
    size_t h = (size_t)fnv1a(FNV1A_START, k) & (x->nslot - 1);
    for (; x->slot[h] && !hit; h = (h + 1) & (x->nslot - 1))
        if (!strcmp(x->keys[x->slot[h] - 1], k))
            hit = &x->c[x->slot[h] - 1];
    free(k);
    return hit;
}

static strata_code no_file(adopt_ctx *x, const char *v, strata_error *err)
{
    err_set(err, STRATA_ADOPT_MISMATCH,
            "%s version '%s' is applied on the database (%s) but no migration in '%s' was imported from it",
            x->tool, v, x->table, x->set->dir);
    err_hint(err, "import the %s directory that this database was migrated with: strata import --from %s SRC",
             x->tool, x->tool);
    return STRATA_ADOPT_MISMATCH;
}

/* Marks the migration of the tool's version v applied (or not). */
static strata_code mark(adopt_ctx *x, const char *v, int applied, strata_error *err)
{
    cand *c = find_orig(x, v);
    if (!c)
        return applied ? no_file(x, v, err) : STRATA_OK;
    c->applied = applied;
    return STRATA_OK;
}

/* ---------------------------------------------------------------- rows */

static int add_row(void *ud, int ncols, char **v)
{
    adopt_ctx *x = ud;
    if (ARR_GROW(x->rows, x->cap, (x->nrows + 1) * NCOL))
        return x->oom = 1;
    for (int i = 0; i < NCOL; i++)
        x->rows[x->nrows * NCOL + i] = i < ncols && v[i] ? xstrdup(v[i]) : NULL;
    x->nrows++;
    return 0;
}

static const char *cell(const adopt_ctx *x, size_t row, int col)
{
    return x->rows[row * NCOL + col];
}

static int truthy(const char *v)
{
    return v && (!c_strcasecmp(v, "t") || !c_strcasecmp(v, "true") || !strcmp(v, "1"));
}

/* The table to read: the one the caller named, or the tool's default. */
static const char *tool_table(const adopt_ctx *x)
{
    return x->table_given ? x->table_given : x->table_default;
}

/* "SELECT cols FROM <table> tail" into b (the caller releases it). */
static void select_from(buf *b, const char *cols, const char *table, const char *tail)
{
    buf_init(b);
    buf_addf(b, "SELECT %s FROM ", cols);
    buf_add_ident(b, table);
    buf_adds(b, tail);
}

/* Reads the other tool's table (sql selects up to NCOL columns). */
static strata_code read_table(adopt_ctx *x, const char *table, const char *sql, strata_error *err)
{
    drv *d = db_driver(x->db);
    int exists = 0;
    strata_code rc = d->ops->table_exists(d, table, &exists, err);
    if (rc)
        return rc;
    x->table = table;
    if (!exists) {
        err_set(err, STRATA_ADOPT_MISMATCH, "the database has no %s version table '%s'", x->tool, table);
        if (!strcmp(x->tool, "sqitch"))
            err_hint(err, "sqitch's registry is the schema 'sqitch' unless its registry setting (or "
                          "--registry) named another: pass that name as --from-table; check --url");
        else
            err_hint(err, x->table_given ? "check --from-table (a table on the search path) and --url"
                                         : "--from names the tool that migrated this database; check --url, "
                                           "and --from-table if the tool was set to another table name");
        return STRATA_ADOPT_MISMATCH;
    }
    if (!sql)
        return err_set(err, STRATA_NOMEM, "out of memory");
    rc = d->ops->query(d, sql, 0, NULL, add_row, x, err);
    if (!rc && x->oom)
        rc = err_set(err, STRATA_NOMEM, "out of memory");
    return rc;
}

/* ---------------------------------------------------------- the formats */

/* dbmate, pop: one row per applied version */
static strata_code read_rows_applied(adopt_ctx *x, strata_error *err)
{
    buf b;
    const char *table = tool_table(x);
    select_from(&b, "version", table, "");
    strata_code rc = read_table(x, table, b.data, err);
    buf_release(&b);
    for (size_t i = 0; !rc && i < x->nrows; i++)
        if (cell(x, i, 0))
            rc = mark(x, cell(x, i, 0), 1, err);
    return rc;
}

static strata_code read_dbmate(adopt_ctx *x, strata_error *err)
{
    return read_rows_applied(x, err);
}

static strata_code read_pop(adopt_ctx *x, strata_error *err)
{
    return read_rows_applied(x, err);
}

/* golang-migrate: one row (version, dirty); every version up to it */
static strata_code read_migrate(adopt_ctx *x, strata_error *err)
{
    buf b;
    const char *table = tool_table(x);
    select_from(&b, "version, dirty", table, "");
    strata_code rc = read_table(x, table, b.data, err);
    buf_release(&b);
    if (!rc && x->nrows > 1) {
        /* golang-migrate replaces its one row on every change and reads
           whichever row comes first: which version it sees is not known */
        err_set(err, STRATA_ADOPT_MISMATCH,
                "golang-migrate's %s has %zu rows; golang-migrate keeps one (the current version)", table,
                x->nrows);
        err_hint(err,
                 "'migrate version' shows the version golang-migrate reads: keep that row and delete the "
                 "others, then adopt again (a table of many versions is dbmate's: --from dbmate)");
        return STRATA_ADOPT_MISMATCH;
    }
    for (size_t i = 0; !rc && i < x->nrows; i++) {
        const char *v = cell(x, i, 0);
        if (!v)
            continue;
        if (truthy(cell(x, i, 1))) {
            x->stuck = find_orig(x, v) != NULL;
            err_set(err, STRATA_ADOPT_MISMATCH,
                    "golang-migrate's %s is dirty at version %s: "
                    "that migration failed part way",
                    table, v);
            err_hint(err,
                     "repair the database, then 'migrate force VERSION' to clear the flag, and adopt again");
            return STRATA_ADOPT_MISMATCH;
        }
        if (!strcmp(v, "-1")) /* golang-migrate's NilVersion: nothing applied */
            continue;
        if (!find_orig(x, v))
            return no_file(x, v, err);
        for (size_t k = 0; k < x->n; k++)
            if (orig_cmp(x, x->c[k].orig, v) <= 0)
                x->c[k].applied = 1;
    }
    return rc;
}

/* goose: a log of (version_id, is_applied); the latest row per version
   decides; version 0 is the row goose writes when it creates the table */
static strata_code read_goose(adopt_ctx *x, strata_error *err)
{
    buf b;
    const char *table = tool_table(x);
    select_from(&b, "version_id, is_applied", table, " ORDER BY id");
    strata_code rc = read_table(x, table, b.data, err);
    buf_release(&b);
    for (size_t i = 0; !rc && i < x->nrows; i++) {
        const char *v = cell(x, i, 0);
        if (!v || !strcmp(v, "0"))
            continue;
        rc = mark(x, v, truthy(cell(x, i, 1)), err);
    }
    return rc;
}

/* The imported Flyway baseline (B<version>__...): the file its header names
   first; NULL without one. */
static cand *flyway_baseline(adopt_ctx *x)
{
    for (size_t i = 0; i < x->n; i++) {
        char *file = header_value(x->c[i].m->header, "file");
        const char *base = file ? strrchr(file, '/') : NULL;
        base = base ? base + 1 : file;
        int is_b = base && base[0] == 'B';
        free(file);
        if (is_b)
            return &x->c[i];
    }
    return NULL;
}

/* Flyway: flyway_schema_history in installed_rank order. The versions at
   or below an imported baseline were not imported (the baseline stands for
   them): applied, they count as the baseline applied, provided the
   database reached the baseline's version. */
static strata_code read_flyway(adopt_ctx *x, strata_error *err)
{
    buf b;
    const char *table = tool_table(x);
    select_from(&b, "version, script, success, type", table, " ORDER BY installed_rank");
    strata_code rc = read_table(x, table, b.data, err);
    buf_release(&b);
    cand *base = rc ? NULL : flyway_baseline(x);
    /* the applied versions standing under base (the rows' own strings) */
    const char **under = base ? calloc(x->nrows + 1, sizeof(*under)) : NULL;
    size_t nunder = 0;
    if (base && !under)
        return err_set(err, STRATA_NOMEM, "out of memory");
    for (size_t i = 0; !rc && i < x->nrows; i++) {
        const char *v = cell(x, i, 0), *script = cell(x, i, 1), *type = cell(x, i, 3);
        if (!truthy(cell(x, i, 2))) {
            x->stuck = v && find_orig(x, v) != NULL;
            err_set(err, STRATA_ADOPT_MISMATCH, "%s records a failed migration: %s%s(%s)", table, v ? v : "",
                    v ? " " : "", script ? script : "?");
            err_hint(err,
                     "repair it with Flyway first (fix the database, then 'flyway repair'), and adopt again");
            rc = STRATA_ADOPT_MISMATCH;
            break;
        }
        if (!type || !strcmp(type, "SCHEMA"))
            continue;
        if (!v) {
            err_set(err, STRATA_ADOPT_MISMATCH,
                    "%s records the repeatable migration %s, which strata does not carry", table,
                    script ? script : "?");
            err_hint(err, "docs/adopting.md: put what it does in a versioned migration");
            rc = STRATA_ADOPT_MISMATCH;
            break;
        }
        if (!strcmp(type, "BASELINE")) {
            /* the database was at v before Flyway took over */
            for (size_t k = 0; k < x->n; k++)
                if (flyway_cmp(x->c[k].orig, v) <= 0)
                    x->c[k].applied = 1;
        } else if (!strncmp(type, "UNDO_", 5) || !strcmp(type, "DELETE")) {
            rc = mark(x, v, 0, err);
            for (size_t u = 0; u < nunder; u++)
                if (!flyway_cmp(under[u], v))
                    under[u--] = under[--nunder];
        } else if (base && !find_orig(x, v) && flyway_cmp(v, base->orig) <= 0) {
            under[nunder++] = v;
        } else {
            rc = mark(x, v, 1, err);
        }
    }
    const char *below = NULL; /* the highest of them */
    for (size_t u = 0; u < nunder; u++)
        if (!below || flyway_cmp(under[u], below) > 0)
            below = under[u];
    free(under);
    if (rc || !below || base->applied)
        return rc;
    int above = 0;
    for (size_t k = 0; k < x->n; k++)
        above |= x->c[k].applied && flyway_cmp(x->c[k].orig, base->orig) > 0;
    if (!above && flyway_cmp(below, base->orig) < 0) {
        err_set(err, STRATA_ADOPT_MISMATCH,
                "%s has Flyway versions up to %s applied, below the baseline %s (%s_%s stands for every "
                "version up to it)",
                table, below, base->orig, base->m->version, base->m->name);
        err_hint(err, "migrate the database with Flyway up to version %s first, then adopt again",
                 base->orig);
        return STRATA_ADOPT_MISMATCH;
    }
    base->applied = 1;
    return STRATA_OK;
}

/* Alembic: alembic_version holds the current heads; applied is each head
   and all its ancestors (down_revision and depends_on, both in the marker's
   parents). A revision whose marker names no parents is a base: nothing
   before it follows from it, whatever other base (branch) sits there. */
static strata_code read_alembic(adopt_ctx *x, strata_error *err)
{
    buf b;
    const char *table = tool_table(x);
    select_from(&b, "version_num", table, "");
    strata_code rc = read_table(x, table, b.data, err);
    buf_release(&b);
    if (rc)
        return rc;
    for (size_t i = 0; i < x->n; i++)
        alembic_parents(&x->c[i]);
    for (size_t i = 0; i < x->nrows; i++)
        if (cell(x, i, 0) && (rc = mark(x, cell(x, i, 0), 1, err)))
            return rc;
    /* parents come before their children in the imported order: passes
       from the newest down reach every ancestor (a second pass only when
       an edited directory broke that order) */
    for (int changed = 1; changed;) {
        changed = 0;
        for (size_t i = x->n; i-- > 0;) {
            cand *c = &x->c[i];
            if (!c->applied)
                continue;
            if (!c->has_graph) { /* no graph in the file: the revisions before it */
                for (size_t k = 0; k < i; k++)
                    changed |= !x->c[k].applied, x->c[k].applied = 1;
                continue;
            }
            for (size_t p = 0; p < c->nparents; p++) {
                cand *pc = find_orig(x, c->parents[p]);
                if (!pc && p >= c->ndown) /* a branch label: no one revision */
                    continue;
                if (!pc)
                    return no_file(x, c->parents[p], err);
                changed |= !pc->applied;
                pc->applied = 1;
            }
        }
    }
    return STRATA_OK;
}

/*
 * The registry sqitch keeps for this database, named reg (sqitch's
 * --registry and registry= setting; "sqitch" by default): PostgreSQL, the
 * schema reg; SQLite, a file found by sqitch's rule (its sqlite engine's
 * registry_uri): an absolute reg as it is; a reg holding a dot in the
 * database file's directory; any other reg there with the database file's
 * extension added ("app.sqlite3" -> "sqitch.sqlite3", "dev.db" ->
 * "sqitch.db", "data" -> "sqitch"). Into out; 0, or -1 for a SQLite
 * database without a file (in memory).
 */
static int sqitch_registry(strata *db, const char *reg, char *out, size_t cap)
{
    if (db_driver(db)->ops->dialect == DIALECT_POSTGRES) {
        snprintf(out, cap, "%s", reg);
        return 0;
    }
    const db_url *u = engine_url(db);
    if (!u->path || !strcmp(u->path, ":memory:") || !*u->path)
        return -1;
    if (reg[0] == '/') {
        snprintf(out, cap, "%s", reg);
        return 0;
    }
    const char *slash = strrchr(u->path, '/');
    const char *base = slash ? slash + 1 : u->path;
    const char *dot = strrchr(base, '.');
    int dirlen = slash ? (int)(slash - u->path) : 0;
    const char *ext = strchr(reg, '.') || !dot || dot == base ? "" : dot;
    if (slash)
        snprintf(out, cap, "%.*s/%s%s", dirlen, u->path, reg, ext);
    else
        snprintf(out, cap, "%s%s", reg, ext);
    return 0;
}

/* 1 when the database has sqitch's default registry: PostgreSQL's schema
   sqitch with its changes table, SQLite's registry file next to it. */
static int sqitch_present(strata *db)
{
    drv *d = db_driver(db);
    int exists = 0;
    strata_error ignore;
    if (d->ops->dialect == DIALECT_POSTGRES)
        return d->ops->table_exists(d, "sqitch.changes", &exists, &ignore) == STRATA_OK && exists;
    char reg[4096];
    struct stat sb;
    return !sqitch_registry(db, "sqitch", reg, sizeof(reg)) && stat(reg, &sb) == 0 && S_ISREG(sb.st_mode);
}

/* sqitch: the registry's changes table holds the deployed changes (a
   reverted change's row is deleted), read in deploy order (planned_at
   orders two rows committed in the same second: a rework is planned after
   its original); only rows of the plan's %project count. PostgreSQL: the
   registry schema's changes table; SQLite: the registry file, attached for
   the read and detached after it. */
/* 1 when o (a sqitch version: "name" or "name@tag") is an instance of the
   change named by the nl bytes at name */
static int same_change(const char *o, const char *name, size_t nl)
{
    return !strncmp(o, name, nl) && (o[nl] == 0 || o[nl] == '@');
}

static strata_code read_sqitch(adopt_ctx *x, strata_error *err)
{
    drv *d = db_driver(x->db);
    const char *regname = x->table_given ? x->table_given : "sqitch";
    char reg[4096];
    buf sql;
    strata_code rc;
    int pg = d->ops->dialect == DIALECT_POSTGRES;
    /* PostgreSQL: the registry schema's table; SQLite: the attached file's */
    snprintf(x->where, sizeof(x->where), "%s.changes", pg ? regname : "sqitch");
    buf_init(&sql);
    buf_addf(&sql, "SELECT change, project FROM ");
    buf_add_ident(&sql, x->where);
    buf_adds(&sql, " ORDER BY committed_at, planned_at");
    if (pg) {
        rc = read_table(x, x->where, sql.oom ? NULL : sql.data, err);
    } else if (sqitch_registry(x->db, regname, reg, sizeof(reg))) {
        snprintf(x->where, sizeof(x->where), "%s", regname);
        x->table = x->where;
        rc = err_set(err, STRATA_ADOPT_MISMATCH, "an in-memory database has no sqitch registry");
    } else {
        snprintf(x->where, sizeof(x->where), "%s", reg);
        x->table = x->where;
        struct stat sb;
        if (stat(reg, &sb) != 0) {
            buf_release(&sql);
            err_set(err, STRATA_ADOPT_MISMATCH, "no sqitch registry '%s' next to the database", reg);
            err_hint(
                err,
                x->table_given
                    ? "--from-table names the registry as sqitch's --registry does: a file name in the "
                      "database's directory (the database's extension added when it has no dot), or a path"
                    : "sqitch keeps a SQLite database's registry next to it, named sqitch plus the "
                      "database file's extension; --from-table names another (sqitch's --registry)");
            return STRATA_ADOPT_MISMATCH;
        }
        const char *p[1] = {reg};
        if ((rc = d->ops->query(d, "ATTACH DATABASE $1 AS sqitch", 1, p, NULL, NULL, err))) {
            buf_release(&sql);
            return rc;
        }
        strata_error e2;
        int exists = 0;
        rc = d->ops->query(d, "SELECT 1 FROM sqitch.sqlite_master WHERE type = 'table' AND name = 'changes'",
                           0, NULL, add_row, x, err);
        exists = x->nrows > 0;
        for (size_t i = 0; i < x->nrows * NCOL; i++)
            free(x->rows[i]);
        x->nrows = 0;
        if (!rc && !exists)
            rc = err_set(err, STRATA_ADOPT_MISMATCH, "the sqitch registry '%s' has no changes table", reg);
        if (!rc)
            rc = sql.oom ? err_set(err, STRATA_NOMEM, "out of memory")
                         : d->ops->query(d, sql.data, 0, NULL, add_row, x, err);
        d->ops->query(d, "DETACH DATABASE sqitch", 0, NULL, NULL, NULL, &e2);
        if (!rc && x->oom)
            rc = err_set(err, STRATA_NOMEM, "out of memory");
    }
    buf_release(&sql);
    if (rc)
        return rc;
    /* the plan's project, from the headers (imports before it had none) */
    char *project = NULL;
    for (size_t i = 0; i < x->n && !project; i++)
        project = header_value(x->c[i].m->header, "project");
    /* the plan's instances of each change, in plan order: a chain per
       name (orig up to its '@'), found through a table of names, with the
       count of its rows read so far (a search per row took minutes on a
       registry of tens of thousands) */
    size_t ns = 16;
    while (ns < 2 * x->n)
        ns *= 2;
    size_t *head = calloc(ns, sizeof(*head)), *tail = calloc(ns, sizeof(*tail)),
           *seen = calloc(ns, sizeof(*seen)), *next = calloc(x->n + 1, sizeof(*next));
    if (!head || !tail || !seen || !next)
        rc = err_set(err, STRATA_NOMEM, "out of memory");
    for (size_t c = 0; !rc && c < x->n; c++) { /* head/tail/next: index + 1, 0 none */
        const char *o = x->c[c].orig;
        size_t ol = strcspn(o, "@"), h = 0;
        char *b = xstrndup(o, ol);
        if (!b) {
            rc = err_set(err, STRATA_NOMEM, "out of memory");
            break;
        }
        h = (size_t)fnv1a(FNV1A_START, b) & (ns - 1);
        free(b);
        while (head[h] && !same_change(x->c[head[h] - 1].orig, o, ol))
            h = (h + 1) & (ns - 1);
        if (!head[h])
            head[h] = c + 1;
        else
            next[tail[h] - 1] = c + 1;
        tail[h] = c + 1;
    }
    for (size_t i = 0; !rc && i < x->nrows; i++) {
        const char *name = cell(x, i, 0), *proj = cell(x, i, 1);
        if (!name || (project && (!proj || strcmp(proj, project))))
            continue; /* another project's change */
        /* a reworked change is deployed once per instance: its k-th row
           (in deploy order) is its k-th instance in the plan, whose header
           version is "name@tag" for all but the newest */
        size_t nl = strlen(name), h = (size_t)fnv1a(FNV1A_START, name) & (ns - 1);
        while (head[h] && !same_change(x->c[head[h] - 1].orig, name, nl))
            h = (h + 1) & (ns - 1);
        cand *hit = NULL;
        if (head[h]) {
            size_t at = head[h];
            for (size_t k = seen[h]++; at && k; k--)
                at = next[at - 1];
            hit = at ? &x->c[at - 1] : NULL;
        }
        if (hit)
            hit->applied = 1;
        else
            rc = no_file(x, name, err);
    }
    free(head);
    free(tail);
    free(seen);
    free(next);
    free(project);
    return rc;
}

/* --------------------------------------------------------------- adopt */

/* Each tool, its version table's default name (sqitch: a registry schema,
   none) and its reader. */
static const struct {
    const char *name;
    const char *table;
    strata_code (*read)(adopt_ctx *x, strata_error *err);
} formats[] = {
    {"dbmate", "schema_migrations", read_dbmate}, {"golang-migrate", "schema_migrations", read_migrate},
    {"goose", "goose_db_version", read_goose},    {"flyway", "flyway_schema_history", read_flyway},
    {"alembic", "alembic_version", read_alembic}, {"sqitch", NULL, read_sqitch},
    {"pop", "schema_migration", read_pop},
};

static int count_row(void *ud, int ncols, char **v)
{
    (void)ncols;
    (void)v;
    ++*(int *)ud;
    return 0;
}

/* 1 when table (on the search path) has the column, from the catalog (a
   failed SELECT would abort a PostgreSQL transaction). */
static int has_column(drv *d, const char *table, const char *column)
{
    const char *p[2] = {table, column};
    int n = 0;
    strata_error ignore;
    const char *sql = d->ops->dialect == DIALECT_POSTGRES
                          ? "SELECT 1 FROM pg_attribute WHERE attrelid = to_regclass($1) AND attname = $2 "
                            "AND NOT attisdropped"
                          : "SELECT 1 FROM pragma_table_info($1) WHERE name = $2";
    return d->ops->query(d, sql, 2, p, count_row, &n, &ignore) == STRATA_OK && n > 0;
}

int adopt_other_tool(strata *db, const char **tool, const char **table)
{
    drv *d = db_driver(db);
    for (size_t k = 0; k < sizeof(formats) / sizeof(*formats); k++) {
        int exists = 0;
        strata_error ignore;
        if (!formats[k].table) { /* sqitch: a registry */
            if (!sqitch_present(db))
                continue;
            *tool = formats[k].name;
            *table = "sqitch.changes";
            return 1;
        }
        if (k && formats[k - 1].table && !strcmp(formats[k - 1].table, formats[k].table))
            continue; /* the one just asked about */
        if (d->ops->table_exists(d, formats[k].table, &exists, &ignore) == STRATA_OK && exists) {
            *tool = formats[k].name;
            *table = formats[k].table;
            /* dbmate and golang-migrate share the name; golang-migrate's
               has its dirty flag */
            if (!strcmp(*tool, "dbmate") && has_column(d, *table, "dirty"))
                *tool = "golang-migrate";
            /* and Rails' (ActiveRecord) has its metadata table beside it */
            int rails = 0;
            if (!strcmp(*tool, "dbmate") &&
                d->ops->table_exists(d, "ar_internal_metadata", &rails, &ignore) == STRATA_OK && rails)
                *tool = "rails";
            return 1;
        }
    }
    return 0;
}

void strata_adopt_report_free(strata_adopt_report *r)
{
    if (!r)
        return;
    for (size_t i = 0; i < r->count; i++) {
        free(r->entries[i].version);
        free(r->entries[i].name);
        free(r->entries[i].original);
    }
    free(r->entries);
    free(r->tool);
    free(r->table);
    free(r);
}

static strata_code adopt_run(strata *db, const strata_migset *set, const char *format, const char *table,
                             int dry_run, strata_adopt_report **out, int *stuck, strata_error *err)
{
    adopt_ctx x;
    memset(&x, 0, sizeof(x));
    strata_adopt_report *r = NULL;
    const char **versions = NULL;
    int *already = NULL;
    strata_code rc;
    size_t k, napplied = 0, written = 0;
    if (out)
        *out = NULL;
    for (k = 0; k < sizeof(formats) / sizeof(*formats); k++)
        if (format && !strcmp(format, formats[k].name))
            break;
    if (k == sizeof(formats) / sizeof(*formats)) {
        err_set(err, STRATA_USAGE, "unknown format '%s'", format ? format : "");
        err_hint(err, "adopt reads: dbmate, golang-migrate, goose, flyway, alembic, sqitch, pop");
        return STRATA_USAGE;
    }
    if (table && !*table) {
        err_set(err, STRATA_USAGE, "the other tool's table name is empty");
        err_hint(err, "name the table, or leave out --from-table");
        return STRATA_USAGE;
    }
    if ((rc = strata_migset_check(set, err)))
        return rc;
    for (size_t i = 0; i < set->count; i++) /* a set loaded through the cache */
        if ((rc = mig_materialize(&set->migs[i], err)))
            return rc;
    x.db = db;
    x.set = set;
    x.tool = formats[k].name;
    x.table_given = table;
    x.table_default = formats[k].table;
    x.c = calloc(set->count + 1, sizeof(*x.c));
    if (!x.c)
        return err_set(err, STRATA_NOMEM, "out of memory");
    for (size_t i = 0; i < set->count; i++) {
        const migration *m = &set->migs[i];
        char *tool = m->header ? header_value(m->header, "tool") : NULL;
        char *v = tool && !strcmp(tool, x.tool) ? header_value(m->header, "version") : NULL;
        free(tool);
        if (!v)
            continue;
        x.c[x.n].m = m;
        x.c[x.n++].orig = v;
    }
    if (!x.n) {
        rc = err_set(err, STRATA_ADOPT_MISMATCH, "no migration in '%s' was imported from %s", set->dir,
                     x.tool);
        err_hint(err, "write them first: strata import --from %s SRC --dir %s", x.tool, set->dir);
        goto out;
    }
    if (orig_index(&x)) {
        rc = err_set(err, STRATA_NOMEM, "out of memory");
        goto out;
    }
    if ((rc = formats[k].read(&x, err)))
        goto out;

    versions = calloc(x.n, sizeof(*versions));
    already = calloc(x.n, sizeof(*already));
    r = calloc(1, sizeof(*r));
    if (!versions || !already || !r) {
        rc = err_set(err, STRATA_NOMEM, "out of memory");
        goto out;
    }
    int *applied = calloc(x.n, sizeof(*applied));
    if (!applied) {
        rc = err_set(err, STRATA_NOMEM, "out of memory");
        goto out;
    }
    for (size_t i = 0; i < x.n; i++) { /* x.c is in strata's version order */
        versions[i] = x.c[i].m->version;
        applied[i] = x.c[i].applied;
        napplied += applied[i];
    }
    rc = engine_record_applied(db, set, versions, applied, x.n, dry_run, already, &written, err);
    free(applied);
    if (rc)
        goto out;
    r->tool = xstrdup(x.tool);
    r->table = xstrdup(x.table);
    r->written = written;
    r->entries = calloc(napplied + 1, sizeof(*r->entries));
    if (!r->entries || !r->tool || !r->table) {
        rc = err_set(err, STRATA_NOMEM, "out of memory");
        goto out;
    }
    for (size_t i = 0; i < x.n; i++) {
        if (!x.c[i].applied)
            continue;
        strata_adopt_entry *e = &r->entries[r->count++];
        e->version = xstrdup(x.c[i].m->version);
        e->name = xstrdup(x.c[i].m->name);
        e->original = xstrdup(x.c[i].orig);
        e->recorded = already[i];
    }
out:
    if (stuck)
        *stuck = x.stuck;
    for (size_t i = 0; i < x.n; i++) {
        free(x.c[i].orig);
        for (size_t p = 0; p < x.c[i].nparents; p++)
            free(x.c[i].parents[p]);
        free(x.c[i].parents);
    }
    free(x.c);
    for (size_t i = 0; x.keys && i < x.n; i++)
        free(x.keys[i]);
    free(x.keys);
    free(x.slot);
    for (size_t i = 0; i < x.nrows * NCOL; i++)
        free(x.rows[i]);
    free(x.rows);
    free(versions);
    free(already);
    if (out && !rc)
        *out = r;
    else
        strata_adopt_report_free(r);
    return rc;
}

strata_code adopt_dry_run(strata *db, const strata_migset *set, const char *format, strata_adopt_report **out,
                          int *stuck, strata_error *err)
{
    return adopt_run(db, set, format, NULL, 1, out, stuck, err);
}

strata_code strata_adopt(strata *db, const strata_migset *set, const char *format, const strata_adopt_opts *o,
                         strata_adopt_report **out, strata_error *err)
{
    if (!db || !set)
        return api_null(err, __func__, "db and set");
    static const strata_adopt_opts none = {0, NULL};
    if (!o)
        o = &none;
    strata_code rc = adopt_run(db, set, format, o->table, o->dry_run, out, NULL, err);
    return o->dry_run ? rc : engine_discard_new(db, rc);
}
