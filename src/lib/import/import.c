/*
 * import.c -- the core of `strata import`: the table of formats, and the
 * writer of the strata files.
 *
 * Writes each version of the reader's set (in the reader's order) as one
 * file: the header line "-- import: tool=T version=V file=F", then its
 * sections, one per dialect. Versions are kept when they are digits in
 * increasing order, otherwise renumbered 0001.. in the tool's order.
 */
#include "import.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

strata_code import_add(import_set *s, const import_mig *m)
{
    if (s->n == s->cap) {
        size_t cap = s->cap ? s->cap * 2 : 32;
        import_mig *v = realloc(s->v, cap * sizeof(*v));
        if (!v)
            return STRATA_NOMEM;
        s->v = v;
        s->cap = cap;
    }
    import_mig *d = &s->v[s->n];
    memset(d, 0, sizeof(*d));
    d->version = xstrdup(m->version);
    d->name = xstrdup(m->name);
    d->file = xstrdup(m->file);
    d->up = xstrdup(m->up);
    d->down = xstrdup(m->down);
    d->verify = xstrdup(m->verify);
    d->dialect = xstrdup(m->dialect);
    d->up_notx = m->up_notx;
    d->down_notx = m->down_notx;
    d->has_down = m->has_down;
    s->n++;
    return STRATA_OK;
}

static void import_set_release(import_set *s)
{
    for (size_t i = 0; i < s->n; i++) {
        import_mig *m = &s->v[i];
        free(m->version);
        free(m->name);
        free(m->file);
        free(m->up);
        free(m->down);
        free(m->verify);
        free(m->dialect);
    }
    free(s->v);
    memset(s, 0, sizeof(*s));
}

static const struct {
    const char *name;
    import_reader read;
} formats[] = {
    {"alembic", import_alembic},
    {"dbmate", import_dbmate},
    {"goose", import_goose},
    {"golang-migrate", import_golang_migrate},
};

static void add_value(buf *b, const char *s)
{
    for (; s && *s; s++) {
        if (*s == ' ' || *s == '%')
            buf_addf(b, "%%%02X", (unsigned char)*s);
        else
            buf_add(b, s, 1);
    }
}

static void add_section(buf *b, const char *kind, const char *dialect, int notx, const char *sql)
{
    buf_addf(b, "-- strata:%s", kind);
    if (notx)
        buf_adds(b, " no-transaction");
    if (dialect)
        buf_addf(b, " dialect=%s", dialect);
    buf_adds(b, "\n");
    if (sql && *sql) {
        buf_adds(b, sql);
        if (sql[strlen(sql) - 1] != '\n')
            buf_adds(b, "\n");
    }
    buf_adds(b, "\n");
}

strata_code strata_import(const char *format, const char *src, const char *dir, const strata_import_opts *o,
                          strata_import_report **out, strata_error *err)
{
    static const strata_import_opts none = {0};
    import_set s = {0};
    strata_import_report *r = calloc(1, sizeof(*r));
    strata_code rc = STRATA_OK;
    size_t k = 0;
    if (out)
        *out = NULL;
    if (!r)
        return err_set(err, STRATA_NOMEM, "out of memory");
    if (!o)
        o = &none;
    for (k = 0; k < sizeof(formats) / sizeof(*formats); k++)
        if (format && !strcmp(format, formats[k].name))
            break;
    if (k == sizeof(formats) / sizeof(*formats)) {
        rc = err_set(err, STRATA_USAGE, "unknown import format '%s'", format ? format : "");
        err_hint(err, "strata imports from: alembic, dbmate, goose, golang-migrate (flyway, sqitch and "
                      "pop are not done yet)");
        goto out;
    }
    if ((rc = formats[k].read(src, o, &s, err)))
        goto out;
    if (mkdir(dir, 0777) != 0 && errno != EEXIST) {
        rc = err_set(err, STRATA_IO_ERROR, "cannot create directory '%s': %s", dir, strerror(errno));
        goto out;
    }
    /* keep the versions when they are digits in increasing order */
    int keep = 1;
    for (size_t i = 0; i < s.n && keep; i++)
        keep = all_digits(s.v[i].version) && (i == 0 || !strcmp(s.v[i - 1].version, s.v[i].version) ||
                                              version_cmp(s.v[i - 1].version, s.v[i].version) < 0);
    size_t num = 0;
    for (size_t i = 0; i < s.n && !rc;) {
        size_t j = i;
        while (j < s.n && !strcmp(s.v[j].version, s.v[i].version))
            j++;
        char ver[64], path[4096];
        if (keep)
            snprintf(ver, sizeof(ver), "%s", s.v[i].version);
        else
            snprintf(ver, sizeof(ver), "%04zu", ++num);
        snprintf(path, sizeof(path), "%s/%s_%s.sql", dir, ver, s.v[i].name ? s.v[i].name : "migration");
        buf b;
        buf_init(&b);
        buf_addf(&b, "-- import: tool=%s version=", format);
        add_value(&b, s.v[i].version);
        buf_adds(&b, " file=");
        add_value(&b, s.v[i].file);
        buf_adds(&b, "\n");
        for (size_t x = i; x < j; x++) {
            const import_mig *m = &s.v[x];
            add_section(&b, "up", m->dialect, m->up_notx, m->up);
            if (m->has_down)
                add_section(&b, "down", m->dialect, m->down_notx, m->down);
            if (m->verify)
                add_section(&b, "verify", m->dialect, 0, m->verify);
        }
        FILE *f = b.oom ? NULL : fopen(path, o->force ? "w" : "wx");
        if (!f) {
            rc = b.oom ? err_set(err, STRATA_NOMEM, "out of memory")
                       : err_set(err, errno == EEXIST ? STRATA_FILE_EXISTS : STRATA_IO_ERROR,
                                 "cannot write '%s': %s", path, strerror(errno));
        } else {
            if (fwrite(b.data, 1, b.len, f) != b.len)
                rc = err_set(err, STRATA_IO_ERROR, "cannot write '%s': %s", path, strerror(errno));
            if (fclose(f) != 0 && !rc)
                rc = err_set(err, STRATA_IO_ERROR, "cannot write '%s': %s", path, strerror(errno));
        }
        buf_release(&b);
        char **nf = realloc(r->files, (r->count + 1) * sizeof(*nf));
        if (!nf) {
            rc = err_set(err, STRATA_NOMEM, "out of memory");
            break;
        }
        r->files = nf;
        r->files[r->count++] = xstrdup(path);
        i = j;
    }
    if (!rc) { /* ends with validate: the written directory must load cleanly */
        strata_migset *set = NULL;
        rc = strata_migset_load(dir, &set, err);
        if (!rc)
            rc = strata_migset_check(set, err);
        strata_migset_free(set);
    }
out:
    import_set_release(&s);
    if (out && !rc)
        *out = r;
    else
        strata_import_report_free(r);
    return rc;
}

void strata_import_report_free(strata_import_report *r)
{
    if (!r)
        return;
    for (size_t i = 0; i < r->count; i++)
        free(r->files[i]);
    free(r->files);
    free(r);
}
