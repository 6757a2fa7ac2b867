/*
 * golang_migrate.c -- golang-migrate's files: <version>_<title>.up.<ext> and
 * <version>_<title>.down.<ext> (version an unsigned integer, files ordered
 * by its value; the direction is the last ".up." or ".down." of the name).
 * A version with only an up file is irreversible in strata too.
 *
 * golang-migrate runs a file as it is, in no transaction of its own: a file
 * that opens and commits its own transaction becomes a no-transaction
 * section (strata refuses BEGIN/COMMIT inside a transactional one), and so
 * does one holding a statement that fails in a transaction (CREATE INDEX
 * CONCURRENTLY, VACUUM: it runs in golang-migrate); any other becomes a
 * transactional section.
 */
#include "import/import.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int by_version(const import_mig *a, const import_mig *b)
{
    return version_cmp(a->version, b->version);
}

/* The index of the last ".up." / ".down." in f (after the version), its
   direction in *down, the extension after it in *ext; 0 when none. */
static size_t direction(const char *f, size_t from, int *down, const char **ext)
{
    size_t at = 0;
    for (size_t i = from; f[i]; i++) {
        if (!strncmp(f + i, ".up.", 4)) {
            at = i;
            *down = 0;
            *ext = f + i + 4;
        } else if (!strncmp(f + i, ".down.", 6)) {
            at = i;
            *down = 1;
            *ext = f + i + 6;
        }
    }
    return at;
}

strata_code import_golang_migrate(const char *src, const strata_import_opts *o, import_set *out,
                                  strata_error *err)
{
    (void)o;
    char **names = NULL;
    size_t n = 0;
    import_set downs = {0};
    strata_code rc = import_list(src, 0, &names, &n, err);
    for (size_t i = 0; !rc && i < n; i++) {
        const char *f = names[i];
        size_t l = strlen(f), d = 0;
        while (isdigit((unsigned char)f[d]))
            d++;
        int down = 0;
        const char *ext = NULL;
        size_t at = d && f[d] == '_' ? direction(f, d + 1, &down, &ext) : 0;
        int is_sql = l > 4 && !strcmp(f + l - 4, ".sql");
        if (!at) {
            if (is_sql)
                rc = import_refuse(err,
                                   "'%s/%s' is not a golang-migrate migration "
                                   "(expected <version>_<title>.up.sql or .down.sql)",
                                   src, f);
            continue; /* golang-migrate skips what it cannot parse */
        }
        if (strcmp(ext, "sql") != 0) {
            rc = import_refuse(err, "'%s/%s' is a golang-migrate migration in '.%s', not SQL", src, f, ext);
            break;
        }
        if (d > 20 || (d == 20 && strncmp(f, "18446744073709551615", 20) > 0)) {
            rc = err_set(err, STRATA_PARSE_ERROR,
                         "golang-migrate file '%s/%s': the version does not fit in 64 bits", src, f);
            break;
        }
        char *text = NULL;
        if ((rc = import_read(src, f, &text, NULL, err)))
            break;
        import_mig m = {0};
        char *version = xstrndup(f, d), *name = xstrndup(f + d + 1, at - d - 1);
        m.version = version;
        m.name = name;
        m.file = (char *)f;
        if (down) {
            m.down = text;
            m.has_down = 1;
            m.down_notx = import_runs_outside_tx(text);
        } else {
            m.up = text;
            m.up_notx = import_runs_outside_tx(text);
        }
        if ((rc = import_add(down ? &downs : out, &m)))
            err_set(err, rc, "out of memory");
        free(version);
        free(name);
        free(text);
    }
    import_names_free(names);
    if (!rc && (import_sort(out, by_version) || import_sort(&downs, by_version)))
        rc = err_set(err, STRATA_NOMEM, "out of memory");
    for (size_t i = 1; !rc && i < out->n; i++)
        if (!version_cmp(out->v[i - 1].version, out->v[i].version))
            rc = err_set(err, STRATA_DUPLICATE_VERSION, "golang-migrate files '%s' and '%s' share version %s",
                         out->v[i - 1].file, out->v[i].file, out->v[i].version);
    for (size_t i = 1; !rc && i < downs.n; i++)
        if (!version_cmp(downs.v[i - 1].version, downs.v[i].version))
            rc = err_set(err, STRATA_DUPLICATE_VERSION, "golang-migrate files '%s' and '%s' share version %s",
                         downs.v[i - 1].file, downs.v[i].file, downs.v[i].version);
    /* pair each down with its up (both sorted) */
    size_t u = 0;
    for (size_t i = 0; !rc && i < downs.n; i++) {
        import_mig *dm = &downs.v[i];
        while (u < out->n && version_cmp(out->v[u].version, dm->version) < 0)
            u++;
        if (u >= out->n || version_cmp(out->v[u].version, dm->version) != 0) {
            rc = import_refuse(err, "golang-migrate file '%s/%s' has no up file for version %s", src,
                               dm->file, dm->version);
            break;
        }
        import_mig *um = &out->v[u];
        size_t fl = strlen(um->file) + strlen(dm->file) + 2;
        char *files = malloc(fl);
        if (!files) {
            rc = err_set(err, STRATA_NOMEM, "out of memory");
            break;
        }
        snprintf(files, fl, "%s,%s", um->file, dm->file);
        free(um->file);
        um->file = files;
        um->down = dm->down;
        dm->down = NULL;
        um->has_down = 1;
        um->down_notx = dm->down_notx;
    }
    import_set_release(&downs);
    return rc;
}
