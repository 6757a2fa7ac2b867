/*
 * pop.c -- pop / popx (gobuffalo) migrations:
 * <version>_<name>[.<dialect>].up.sql and .down.sql, in the directory and its
 * subdirectories, ordered by version as pop orders them (as strings). A file
 * without a dialect serves every database ("all"); a file for the connected
 * database replaces it for that direction, exactly as a strata dialect
 * section replaces the generic one. So one version becomes one strata file
 * with a generic section and postgres / sqlite (pop's sqlite3) sections;
 * pop's synonyms name them too (postgresql, pg, pgx; sqlite).
 * Files for other databases (mysql, cockroach...) are left out when a
 * generic file of the same version and direction exists (named in a comment
 * of the imported file), and refused by name otherwise. A version with
 * postgres or sqlite3 files and no generic up exists for pop only on those
 * databases; on another one asked for it becomes an explicit no-op section
 * (SPEC section 2), as pop skips it there. .fizz migrations are
 * refused by name: fizz is a DSL that pop translates per database.
 */
#include "import/import.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct pfile {
    char *version, *name, *file, *dialect; /* dialect "" for all, else pop's name */
    int down;
} pfile;

static int pf_cmp(const void *a, const void *b)
{
    const pfile *x = a, *y = b;
    int c = strcmp(x->version, y->version);
    if (c)
        return c;
    if (!*x->dialect != !*y->dialect)
        return *x->dialect ? 1 : -1; /* generic first */
    c = strcmp(x->dialect, y->dialect);
    return c ? c : x->down - y->down;
}

static const char *strata_dialect(const char *pop)
{
    if (!*pop)
        return NULL;
    /* pop's dialect synonyms (CanonicalDialect): postgresql, pg and pgx
       are postgres, sqlite is sqlite3 */
    if (!strcmp(pop, "postgres") || !strcmp(pop, "postgresql") || !strcmp(pop, "pg") || !strcmp(pop, "pgx"))
        return "postgres";
    if (!strcmp(pop, "sqlite3") || !strcmp(pop, "sqlite"))
        return "sqlite";
    return "";
}

/* 1 when the dialect (strata's name) is among the dialects asked for. */
static int wanted(const strata_import_opts *o, const char *d)
{
    if (!o->dialects || !*o->dialects)
        return 1;
    const char *p = o->dialects;
    while (*p) {
        size_t n = strcspn(p, ",");
        char w[32];
        snprintf(w, sizeof(w), "%.*s", (int)(n < 31 ? n : 31), p);
        int dl = dialect_of_engine(w);
        if ((dl == DIALECT_POSTGRES && !strcmp(d, "postgres")) ||
            (dl == DIALECT_SQLITE && !strcmp(d, "sqlite")))
            return 1;
        p += n + (p[n] == ',');
    }
    return 0;
}

strata_code import_pop(const char *src, const strata_import_opts *o, import_set *out, strata_error *err)
{
    char **names = NULL;
    size_t n = 0, np = 0;
    pfile *pf = NULL;
    strata_code rc = import_list(src, 1, &names, &n, err);
    if (!rc && !(pf = calloc(n ? n : 1, sizeof(*pf))))
        rc = err_set(err, STRATA_NOMEM, "out of memory");
    for (size_t i = 0; !rc && i < n; i++) {
        const char *f = names[i], *base = strrchr(f, '/');
        base = base ? base + 1 : f;
        size_t l = strlen(base), d = 0;
        int sql = l > 4 && !strcmp(base + l - 4, ".sql"), fizz = l > 5 && !strcmp(base + l - 5, ".fizz");
        if (!sql && !fizz)
            continue; /* pop reads .sql and .fizz files only */
        /* ^(\d+)_([^.]+)(\.[a-z0-9]+)?\.(up|down)\.(sql|fizz)$ */
        while (isdigit((unsigned char)base[d]))
            d++;
        const char *stem_end = base + l - (sql ? 4 : 5);
        int down = 0;
        const char *dir_at = NULL;
        if (stem_end - base > 3 && !strncmp(stem_end - 3, ".up", 3))
            dir_at = stem_end - 3;
        else if (stem_end - base > 5 && !strncmp(stem_end - 5, ".down", 5))
            dir_at = stem_end - 5, down = 1;
        const char *name = base + d + 1, *name_end = name;
        while (name_end < (dir_at ? dir_at : base) && *name_end != '.')
            name_end++;
        const char *dia = name_end, *dia_end = dir_at;
        int ok = d && base[d] == '_' && dir_at && name_end > name;
        if (ok && dia < dia_end) {
            dia++; /* skip '.' */
            ok = dia < dia_end;
            for (const char *q = dia; ok && q < dia_end; q++)
                ok = (islower((unsigned char)*q) || isdigit((unsigned char)*q));
        }
        if (!ok) {
            rc = import_refuse(err,
                               "'%s/%s' is not a pop migration (expected <version>_<name>[.<dialect>].up.sql "
                               "or .down.sql)",
                               src, f);
            break;
        }
        if (fizz) {
            rc = import_refuse(
                err,
                "'%s/%s' is a fizz migration: pop translates fizz into SQL per database when it "
                "runs; strata runs SQL as written (generate the SQL first)",
                src, f);
            break;
        }
        pfile *p = &pf[np++];
        p->version = xstrndup(base, d);
        p->name = xstrndup(name, (size_t)(name_end - name));
        p->file = xstrdup(f);
        p->dialect = xstrndup(dia, dia < dia_end ? (size_t)(dia_end - dia) : 0);
        p->down = down;
        if (!p->version || !p->name || !p->file || !p->dialect)
            rc = err_set(err, STRATA_NOMEM, "out of memory");
    }
    import_names_free(names);
    if (!rc)
        qsort(pf, np, sizeof(*pf), pf_cmp);
    for (size_t i = 1; !rc && i < np; i++)
        if (!strcmp(pf[i - 1].version, pf[i].version) && !strcmp(pf[i - 1].dialect, pf[i].dialect) &&
            pf[i - 1].down == pf[i].down)
            rc = err_set(err, STRATA_DUPLICATE_VERSION, "pop files '%s' and '%s' share version %s",
                         pf[i - 1].file, pf[i].file, pf[i].version);
    /* one version at a time: its generic entry, then one per dialect */
    for (size_t i = 0; !rc && i < np;) {
        size_t j = i;
        while (j < np && !strcmp(pf[j].version, pf[i].version))
            j++;
        int generic[2] = {0, 0}, any_up = 0;
        size_t before = out->n;
        for (size_t k = i; k < j; k++) {
            if (!*pf[k].dialect)
                generic[pf[k].down] = 1;
            any_up |= !pf[k].down;
        }
        buf skipped;
        buf_init(&skipped);
        for (size_t k = i; !rc && k < j; k++) {
            const char *sd = strata_dialect(pf[k].dialect);
            if (sd && (!*sd || !wanted(o, sd))) {
                if (!generic[pf[k].down] && !*sd) /* postgres/sqlite3 ones: see the no-op below */
                    rc = import_refuse(
                        err,
                        "'%s/%s' is for %s, and version %s has no generic %s file to use instead "
                        "(strata imports postgres and sqlite3 files%s)",
                        src, pf[k].file, pf[k].dialect, pf[k].version, pf[k].down ? "down" : "up",
                        o->dialects ? " of the dialects asked for" : "");
                else
                    buf_addf(&skipped, "%s%s", skipped.len ? ", " : "", pf[k].file);
            }
        }
        /* entries: generic first, then each imported dialect */
        for (size_t k = i; !rc && k < j;) {
            size_t e = k;
            while (e < j && !strcmp(pf[e].dialect, pf[k].dialect))
                e++;
            const char *sd = strata_dialect(pf[k].dialect);
            if (sd && (!*sd || !wanted(o, sd))) {
                k = e;
                continue;
            }
            import_mig m = {0};
            char *up = NULL, *down = NULL;
            buf files, upb;
            buf_init(&files);
            buf_init(&upb);
            for (size_t q = k; !rc && q < e; q++) {
                char *text = NULL;
                if ((rc = import_read(src, pf[q].file, &text, NULL, err)))
                    break;
                buf_addf(&files, "%s%s", files.len ? "," : "", pf[q].file);
                if (pf[q].down)
                    down = text;
                else
                    up = text;
            }
            /* a generic down beside ups for some databases only: pop
               pairs it with each of them (its up and down lists are apart) */
            if (!rc && !up && (sd ? !generic[0] : !any_up))
                rc = import_refuse(err, "pop file '%s/%s' has no up file for its version", src, pf[k].file);
            if (!rc) {
                if (!sd && skipped.len)
                    buf_addf(&upb, "-- import: not imported (for other databases): %s\n", skipped.data);
                if (up)
                    buf_adds(&upb, up);
                m.version = pf[k].version;
                m.name = pf[k].name;
                m.file = files.data;
                m.up = up ? upb.data : NULL; /* none: the generic up serves this dialect */
                m.up_notx = import_has_txn_control(up);
                m.down = down;
                m.has_down = down != NULL;
                m.down_notx = import_has_txn_control(down);
                m.dialect = (char *)sd;
                if (files.oom || upb.oom || import_add(out, &m))
                    rc = err_set(err, STRATA_NOMEM, "out of memory");
            }
            buf_release(&files);
            buf_release(&upb);
            free(up);
            free(down);
            k = e;
        }
        /* pop knows a version only on the databases it has files for (or
           a generic up): on a dialect asked for without either, pop skips
           it, and so does strata's explicit no-op section */
        static const char *const ds[] = {"postgres", "sqlite"};
        for (int q = 0; !rc && !generic[0] && q < 2; q++) {
            int has = 0;
            for (size_t k = i; k < j; k++) {
                const char *sd = strata_dialect(pf[k].dialect);
                has |= sd && !strcmp(sd, ds[q]);
            }
            if (has || !wanted(o, ds[q]))
                continue;
            buf note, files;
            buf_init(&note);
            buf_init(&files);
            for (size_t k = i; k < j; k++)
                buf_addf(&files, "%s%s", k > i ? "," : "", pf[k].file);
            buf_addf(&note, "-- import: pop runs version %s only on the databases of its files (",
                     pf[i].version);
            for (size_t k = i; k < j; k++)
                buf_addf(&note, "%s%s", k > i ? ", " : "", pf[k].file);
            buf_addf(&note, "): nothing runs on %s\n", ds[q]);
            import_mig m = {0};
            m.version = pf[i].version;
            m.name = pf[i].name;
            m.up = note.data;
            m.down = note.data;
            m.has_down = 1;
            m.dialect = (char *)ds[q];
            m.file = out->n == before ? files.data : NULL; /* the header names them once */
            if (note.oom || files.oom || import_add(out, &m))
                rc = err_set(err, STRATA_NOMEM, "out of memory");
            buf_release(&note);
            buf_release(&files);
        }
        buf_release(&skipped);
        i = j;
    }
    for (size_t i = 0; i < np; i++) {
        free(pf[i].version);
        free(pf[i].name);
        free(pf[i].file);
        free(pf[i].dialect);
    }
    free(pf);
    return rc;
}
