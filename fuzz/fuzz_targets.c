/*
 * fuzz_targets.c -- one function per parser that reads user input, shared by
 * the libFuzzer binaries (fuzz/entry.c, `make fuzz`) and by the unit tests,
 * which replay the seed corpus and every saved crash (fuzz/corpus/<target>,
 * fuzz/regressions/<target>) under the sanitizers in `make test`.
 *
 * Each returns 0. A crash or sanitizer report is a failure; so is a broken
 * invariant, which calls abort().
 */
#include "fuzz_targets.h"
#include "sqlgen.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static char *cstr(const uint8_t *d, size_t n)
{
    char *s = malloc(n + 1);
    if (!s)
        abort();
    memcpy(s, d, n);
    s[n] = 0;
    return s;
}

static void must(int ok)
{
    if (!ok)
        abort();
}

struct split_check {
    const char *base;
    size_t len;
    int last_line;
    int count;
};

static int split_cb(void *ud, const sql_stmt *st)
{
    struct split_check *c = ud;
    must(st->text >= c->base && st->text + st->len <= c->base + c->len);
    must(st->line >= c->last_line && st->line >= 1);
    must(strlen(st->first) < sizeof(st->first) && strlen(st->second) < sizeof(st->second));
    c->last_line = st->line;
    c->count++;
    (void)sql_is_txn_control(st);
    return 0;
}

int fuzz_sqlsplit(const uint8_t *d, size_t n)
{
    char *s = cstr(d, n);
    for (int dialect = DIALECT_POSTGRES; dialect <= DIALECT_SQLITE; dialect++) {
        struct split_check c = {s, n, 1, 0};
        sql_split(s, n, dialect, split_cb, &c);
        /* rendering splits again and must not fail on what it split */
        buf b;
        buf_init(&b);
        sqlgen_statements(&b, s, dialect);
        buf_release(&b);
    }
    free(s);
    return 0;
}

int fuzz_migfile(const uint8_t *d, size_t n)
{
    strata_migset *set = calloc(1, sizeof(*set));
    must(set != NULL);
    set->dir = strdup("fuzz");
    set->migs = calloc(1, sizeof(migration));
    must(set->dir && set->migs);
    set->count = 1;
    migration *m = &set->migs[0];
    m->path = strdup("fuzz/0001_fuzz.sql");
    m->id = strdup("0001_fuzz");
    m->version = strdup("0001");
    m->name = strdup("fuzz");
    m->checksum = strdup("");
    char *text = cstr(d, n);
    size_t len = strlen(text); /* the loader refuses files with NUL bytes */
    int lines = 1;
    for (size_t i = 0; i < len; i++)
        lines += text[i] == '\n';
    if (mig_parse(m, text, len, set)) {
        const int dialects[] = {DIALECT_POSTGRES, DIALECT_SQLITE};
        for (int i = 0; i < m->nsecs; i++) {
            must(m->secs[i].sql != NULL);
            must(m->secs[i].line >= 1 && m->secs[i].line <= lines + 1);
        }
        for (int k = 0; k < 2; k++) {
            must(mig_section(m, SEC_UP, dialects[k]) != NULL || mig_section(m, SEC_UP, DIALECT_ANY) == NULL);
            buf b;
            buf_init(&b);
            sqlgen_step(&b, m, dialects[k], "strata_migrations", 0);
            sqlgen_step(&b, m, dialects[k], "strata_migrations", 1);
            buf_release(&b);
        }
    } else {
        must(set->nproblems > 0);
    }
    for (size_t i = 0; i < set->nproblems; i++)
        must(set->problems[i].detail != NULL && set->problems[i].line >= 0 && set->problems[i].line <= lines + 1);
    free(text);
    strata_migset_free(set);
    return 0;
}

/* The password of scheme://user:PASSWORD@host..., or NULL. */
static char *password_of(const char *url)
{
    const char *p = strstr(url, "://");
    if (!p)
        return NULL;
    p += 3;
    size_t alen = strcspn(p, "/?#");
    const char *at = NULL, *colon;
    for (size_t i = 0; i < alen; i++)
        if (p[i] == '@')
            at = p + i;
    if (!at || !(colon = memchr(p, ':', (size_t)(at - p))))
        return NULL;
    return strndup(colon + 1, (size_t)(at - colon - 1));
}

int fuzz_url(const uint8_t *d, size_t n)
{
    char *url = cstr(d, n);
    (void)strata_url_engine(url);
    db_url u;
    strata_error err;
    strata_error_clear(&err);
    if (url_parse(url, &u, &err) == STRATA_OK) {
        must(u.engine == DIALECT_POSTGRES ? u.conninfo != NULL : u.path != NULL);
        url_release(&u);
    }
    char *red = strata_url_redact(url);
    char *pw = password_of(url);
    /* A password of 6+ plain characters that appears only once in the URL
       (in user:password@) never survives redaction, scrubbing or an error. */
    int plain = pw && strlen(pw) >= 6 && !strpbrk(pw, "*:@/?#&=%");
    if (plain) {
        const char *first = strstr(url, pw);
        plain = first && !strstr(first + 1, pw);
    }
    if (plain && red)
        must(strstr(red, pw) == NULL);
    if (plain) {
        char msg[2048];
        snprintf(msg, sizeof(msg), "could not connect to %s: bad %s", url, pw);
        url_scrub(msg, sizeof(msg), url);
        must(strstr(msg, pw) == NULL);
    }
    if (plain && err.code == STRATA_URL_INVALID)
        must(strstr(err.message, pw) == NULL);
    free(pw);
    free(red);
    free(url);
    return 0;
}

int fuzz_env(const uint8_t *d, size_t n)
{
    char *v = NULL;
    if (env_text_lookup((const char *)d, n, "DATABASE_URL", &v) == 0 && v)
        must(strlen(v) <= n);
    free(v);
    return 0;
}
