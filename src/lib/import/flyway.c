/*
 * flyway.c -- Flyway's SQL migrations, in the directory and its
 * subdirectories: V<version>__<description>.sql (versioned), U<version>__
 * (undo: the down of the same version), B<version>__ (baseline). A version
 * is digits separated by '.' or '_' and ordered part by part as numbers
 * (1.1 < 1.10 < 2, and 1.0 is 1), as Flyway orders them; the version kept
 * in the header is Flyway's ("1_1" reads "1.1", as in its history table).
 *
 * Baselines: Flyway starts a fresh database from the newest baseline and
 * applies only the versioned migrations above it; a database migrated
 * before keeps its versioned history. strata has one history, the fresh
 * database's: the newest baseline becomes the first migration, and the
 * versioned and undo files at or below its version (and older baselines) are not
 * imported but named in a comment of the baseline's file.
 *
 * Refused by name: repeatable R__ migrations (no version: Flyway runs them
 * again whenever they change, which a versioned history cannot express),
 * placeholders ${...} (Flyway replaces them when it runs; strata runs SQL as
 * written), Java migrations, callbacks and other .sql files, and per-script
 * .conf settings other than executeInTransaction and encoding=UTF-8.
 */
#include "import/import.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* Compares two normalized Flyway versions ("1.10.0") part by part. */
static int fw_cmp(const char *a, const char *b)
{
    for (;;) {
        while (*a == '0' && isdigit((unsigned char)a[1]))
            a++;
        while (*b == '0' && isdigit((unsigned char)b[1]))
            b++;
        size_t la = strcspn(a, "."), lb = strcspn(b, ".");
        /* a missing part is 0 */
        const char *pa = la ? a : "0", *pb = lb ? b : "0";
        size_t na = la ? la : 1, nb = lb ? lb : 1;
        if (na != nb)
            return na < nb ? -1 : 1;
        int c = strncmp(pa, pb, na);
        if (c)
            return c < 0 ? -1 : 1;
        if (!*a && !*b)
            return 0;
        a += la;
        b += lb;
        if (*a == '.')
            a++;
        if (*b == '.')
            b++;
    }
}

static int by_version(const import_mig *a, const import_mig *b)
{
    return fw_cmp(a->version, b->version);
}

/* "1_2.3" -> "1.2.3"; NULL when s (n bytes) is not digits separated by
   single '.' or '_'. */
static char *fw_version(const char *s, size_t n)
{
    if (!n || !isdigit((unsigned char)s[0]) || !isdigit((unsigned char)s[n - 1]))
        return NULL;
    char *v = xstrndup(s, n);
    if (!v)
        return NULL;
    for (size_t i = 0; i < n; i++) {
        if (v[i] == '_')
            v[i] = '.';
        if (!isdigit((unsigned char)v[i]) && !(v[i] == '.' && isdigit((unsigned char)v[i + 1]))) {
            free(v);
            return NULL;
        }
    }
    return v;
}

/* Reads the script's .conf file, when there is one. */
static strata_code read_conf(const char *src, const char *f, int *notx, strata_error *err)
{
    char conf[4096];
    snprintf(conf, sizeof(conf), "%s.conf", f);
    *notx = 0;
    if (!import_file_exists(src, conf))
        return STRATA_OK;
    char *text = NULL;
    size_t len = 0;
    strata_code rc = import_read(src, conf, &text, &len, err);
    size_t pos = 0, eol;
    int line = 0;
    while (!rc && pos < len) {
        size_t next = import_line(text, len, pos, &eol);
        line++;
        char l[512];
        size_t k = 0;
        for (size_t i = pos; i < eol && k + 1 < sizeof(l); i++)
            if (!isspace((unsigned char)text[i]))
                l[k++] = text[i];
        l[k] = 0;
        pos = next;
        if (!k || l[0] == '#')
            continue;
        if (!c_strcasecmp(l, "executeInTransaction=false"))
            *notx = 1;
        else if (!c_strcasecmp(l, "executeInTransaction=true") || !c_strcasecmp(l, "encoding=UTF-8"))
            ;
        else
            rc = import_refuse(err, "'%s/%s', line %d: the Flyway script setting '%s' is not supported", src,
                               conf, line, l);
    }
    free(text);
    return rc;
}

/* Flyway's placeholders are "${" NAME "}" on one line (its pattern
   \$\{(.+?)\}): an unclosed "${" is SQL that Flyway runs as written. */
static strata_code check_placeholders(const char *src, const char *f, const char *text, strata_error *err)
{
    const char *p = text;
    while ((p = strstr(p, "${")) != NULL) {
        size_t k = strcspn(p + 2, "}\n");
        if (k && p[2 + k] == '}')
            break;
        p += 2;
    }
    if (!p)
        return STRATA_OK;
    int line = 1;
    for (const char *q = text; q < p; q++)
        line += *q == '\n';
    size_t n = strcspn(p, "}\n");
    return import_refuse(err,
                         "'%s/%s', line %d: Flyway placeholder '%.*s%s': Flyway replaces it when it runs, "
                         "strata runs SQL as written (replace it in the file first)",
                         src, f, line, (int)(n > 60 ? 60 : n), p, p[n] == '}' ? "}" : "");
}

strata_code import_flyway(const char *src, const strata_import_opts *o, import_set *out, strata_error *err)
{
    (void)o;
    char **names = NULL;
    size_t n = 0;
    import_set vs = {0}, us = {0}, bs = {0};
    strata_code rc = import_list(src, 1, &names, &n, err);
    for (size_t i = 0; !rc && i < n; i++) {
        const char *f = names[i], *base = strrchr(f, '/');
        base = base ? base + 1 : f;
        size_t l = strlen(base);
        const char *dot = strrchr(base, '.');
        const char *ext = dot ? dot + 1 : "";
        int shaped = (base[0] == 'V' || base[0] == 'U' || base[0] == 'B' || base[0] == 'R') &&
                     (isdigit((unsigned char)base[1]) || !strncmp(base + 1, "__", 2));
        if (strcmp(ext, "sql") != 0) {
            if (shaped && (!strcmp(ext, "java") || !strcmp(ext, "class") || !strcmp(ext, "kt")))
                rc = import_refuse(err, "'%s/%s' is a Flyway Java migration: strata runs SQL only", src, f);
            continue; /* .sql.conf files are read with their script; others are not migrations */
        }
        if (base[0] == 'R' && !strncmp(base + 1, "__", 2)) {
            rc = import_refuse(
                err,
                "'%s/%s' is a Flyway repeatable migration: it has no version and Flyway runs it "
                "again whenever it changes, which a strata history cannot express",
                src, f);
            break;
        }
        const char *sep = strstr(base, "__");
        char *version = shaped && sep ? fw_version(base + 1, (size_t)(sep - base - 1)) : NULL;
        if (!version) {
            rc = import_refuse(err,
                               "'%s/%s' is not a Flyway migration strata can import (expected "
                               "V<version>__<description>.sql, U... or B...; callbacks are not imported)",
                               src, f);
            break;
        }
        char *name = xstrndup(sep + 2, (size_t)(base + l - 4 - (sep + 2)));
        char *text = NULL;
        int notx = 0;
        import_mig m = {0};
        m.version = version;
        m.name = name;
        m.file = (char *)f;
        if (!name)
            rc = err_set(err, STRATA_NOMEM, "out of memory");
        if (!rc)
            rc = import_read(src, f, &text, NULL, err);
        if (!rc)
            rc = check_placeholders(src, f, text, err);
        if (!rc)
            rc = read_conf(src, f, &notx, err);
        if (!rc) {
            /* Flyway runs a migration holding a statement that cannot run in
               a transaction (CREATE INDEX CONCURRENTLY, VACUUM) without one */
            notx = notx || import_runs_outside_tx(text);
            if (base[0] == 'U') {
                m.down = text;
                m.has_down = 1;
                m.down_notx = notx;
            } else {
                m.up = text;
                m.up_notx = notx;
            }
            if ((rc = import_add(base[0] == 'V' ? &vs : base[0] == 'U' ? &us : &bs, &m)))
                err_set(err, rc, "out of memory");
        }
        free(version);
        free(name);
        free(text);
    }
    import_names_free(names);
    import_set *sets[3] = {&vs, &us, &bs};
    const char *kinds[3] = {"versioned", "undo", "baseline"};
    for (int k = 0; !rc && k < 3; k++) {
        if (import_sort(sets[k], by_version)) {
            rc = err_set(err, STRATA_NOMEM, "out of memory");
            break;
        }
        for (size_t i = 1; !rc && i < sets[k]->n; i++)
            if (!fw_cmp(sets[k]->v[i - 1].version, sets[k]->v[i].version))
                rc = err_set(err, STRATA_DUPLICATE_VERSION,
                             "Flyway %s migrations '%s' and '%s' share version %s", kinds[k],
                             sets[k]->v[i - 1].file, sets[k]->v[i].file, sets[k]->v[i].version);
    }
    /* the newest baseline, then the versioned migrations above it */
    const import_mig *b = !rc && bs.n ? &bs.v[bs.n - 1] : NULL;
    buf replaced;
    buf_init(&replaced);
    if (b) {
        for (size_t i = 0; i + 1 < bs.n; i++)
            buf_addf(&replaced, "%s%s", replaced.len ? ", " : "", bs.v[i].file);
        for (size_t i = 0; i < vs.n && fw_cmp(vs.v[i].version, b->version) <= 0; i++)
            buf_addf(&replaced, "%s%s", replaced.len ? ", " : "", vs.v[i].file);
        for (size_t i = 0; i < us.n && fw_cmp(us.v[i].version, b->version) <= 0; i++)
            buf_addf(&replaced, "%s%s", replaced.len ? ", " : "", us.v[i].file);
        import_mig bm = *b;
        buf up;
        buf_init(&up);
        if (replaced.len)
            buf_addf(&up, "-- import: Flyway baseline: a fresh database starts here; it stands for %s\n",
                     replaced.data);
        buf_adds(&up, b->up);
        bm.up = up.data;
        if (up.oom || import_add(out, &bm))
            rc = err_set(err, STRATA_NOMEM, "out of memory");
        buf_release(&up);
    }
    buf_release(&replaced);
    for (size_t i = 0; !rc && i < vs.n; i++)
        if (!b || fw_cmp(vs.v[i].version, b->version) > 0)
            if ((rc = import_add(out, &vs.v[i])))
                err_set(err, rc, "out of memory");
    /* undo files become the downs of their versions */
    for (size_t i = 0; !rc && i < us.n; i++) {
        import_mig *u = &us.v[i], *t = NULL;
        /* at or under the baseline: an undo of version V takes back V alone,
           the baseline stands for every version up to its own (named in its
           comment, and the baseline has no down) */
        if (b && fw_cmp(u->version, b->version) <= 0)
            continue;
        /* out is in Flyway's order: a binary search, then (a version
           whose parts order oddly) the whole list */
        for (size_t lo = 0, hi = out->n; lo < hi && !t;) {
            size_t mid = lo + (hi - lo) / 2;
            int c = fw_cmp(out->v[mid].version, u->version);
            if (!c)
                t = &out->v[mid];
            else if (c < 0)
                lo = mid + 1;
            else
                hi = mid;
        }
        for (size_t j = 0; j < out->n && !t; j++)
            if (!fw_cmp(out->v[j].version, u->version))
                t = &out->v[j];
        if (!t) {
            rc = import_refuse(err, "Flyway undo migration '%s/%s' has no versioned migration %s", src,
                               u->file, u->version);
            break;
        }
        size_t fl = strlen(t->file) + strlen(u->file) + 2;
        char *files = malloc(fl);
        if (!files) {
            rc = err_set(err, STRATA_NOMEM, "out of memory");
            break;
        }
        snprintf(files, fl, "%s,%s", t->file, u->file);
        free(t->file);
        t->file = files;
        t->down = u->down;
        u->down = NULL;
        t->has_down = 1;
        t->down_notx = u->down_notx;
    }
    import_set_release(&vs);
    import_set_release(&us);
    import_set_release(&bs);
    return rc;
}
