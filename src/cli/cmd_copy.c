/* cmd_copy.c -- strata copy SRC_URL DST_URL: SQLite into PostgreSQL. */
#include "cli.h"

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define JOBS_UNSET (-1e300)

static struct {
    int schema_only, data_only, no_verify, keep_case, overwrite;
    const char *tables, *exclude, *on_bad, *from_env, *to_env;
    double jobs; /* JOBS_UNSET unless --jobs was given */
} o = {.jobs = JOBS_UNSET};

/*
 * Splits a comma-separated list of names in place; *n entries. Blanks around
 * a name are dropped. A name in double quotes may hold commas and blanks
 * ("a,b"; "" is a quote inside it). NULL when out of memory or a quote is
 * not closed.
 */
static const char **split_list(char *s, size_t *n)
{
    size_t cap = 1;
    for (char *p = s; *p; p++)
        cap += *p == ',';
    const char **v = calloc(cap, sizeof(char *));
    *n = 0;
    if (!v)
        return NULL;
    char *p = s;
    while (*p) {
        while (*p == ' ' || *p == ',')
            p++;
        if (!*p)
            break;
        char *name = p, *w = p;
        if (*p == '"') {
            for (p++;; p++) {
                if (!*p) {
                    free(v);
                    return NULL;
                }
                if (*p == '"' && p[1] == '"')
                    *w++ = *p++;
                else if (*p == '"')
                    break;
                else
                    *w++ = *p;
            }
            p++;
            while (*p == ' ')
                p++;
            if (*p && *p != ',') {
                free(v);
                return NULL;
            }
        } else {
            while (*p && *p != ',')
                *w++ = *p++;
            while (w > name && w[-1] == ' ')
                w--;
        }
        if (*p)
            p++;
        *w = 0;
        if (*name)
            v[(*n)++] = name;
    }
    return v;
}

static void thousands(char *out, size_t sz, long long v)
{
    char tmp[32];
    int n = snprintf(tmp, sizeof(tmp), "%lld", v < 0 ? -v : v), k = 0;
    size_t j = 0;
    if (v < 0 && j + 1 < sz)
        out[j++] = '-';
    for (int i = 0; i < n && j + 2 < sz; i++) {
        out[j++] = tmp[i];
        k = n - i - 1;
        if (k && k % 3 == 0)
            out[j++] = ',';
    }
    out[j] = 0;
}

typedef struct prog {
    int on;
    int drawn;
} prog;

static void on_progress(void *ud, const strata_copy_progress *p)
{
    prog *g = ud;
    if (!g->on)
        return;
    if (!strcmp(p->phase, "done")) {
        if (g->drawn)
            fputs("\r\033[K", stderr);
        g->drawn = 0;
        return;
    }
    char done[32], total[32], rate[32];
    thousands(done, sizeof(done), p->rows);
    thousands(total, sizeof(total), p->total_rows);
    double rps = p->elapsed > 0 ? (double)p->rows / p->elapsed : 0;
    thousands(rate, sizeof(rate), (long long)rps);
    if (!strcmp(p->phase, "load")) {
        char eta[32] = "-";
        if (rps > 0 && p->total_rows >= p->rows) {
            long s = (long)((double)(p->total_rows - p->rows) / rps + 0.5);
            snprintf(eta, sizeof(eta), "%ld:%02ld", s / 60, s % 60);
        }
        fprintf(stderr, "\r\033[Kcopy [%d/%d tables] %s  %s/%s rows  %s rows/s  ETA %s", p->tables_done,
                p->tables_total, p->table ? p->table : "", done, total, rate, eta);
    } else {
        const char *what = !strcmp(p->phase, "check")         ? "comparing an earlier copy"
                           : !strcmp(p->phase, "constraints") ? "keys and indexes"
                                                              : p->phase;
        fprintf(stderr, "\r\033[Kcopy: %s [%d/%d] %s", what, p->tables_done, p->tables_total,
                p->table ? p->table : "");
    }
    fflush(stderr);
    g->drawn = 1;
}

static void print_report(const cli *c, const strata_copy_report *r)
{
    if (c->json) {
        jw w;
        jw_init(&w, stdout);
        jw_obj(&w);
        jw_key(&w, "tables");
        jw_arr(&w);
        for (size_t i = 0; i < r->count; i++) {
            const strata_copy_table *t = &r->tables[i];
            jw_obj(&w);
            jw_kstr(&w, "table", t->name);
            jw_kstr(&w, "source", t->source);
            jw_kint(&w, "rows", t->rows);
            jw_kint(&w, "bytes", t->bytes);
            jw_key(&w, "seconds");
            jw_fixed(&w, t->seconds, 3);
            jw_kbool(&w, "verified", t->verified);
            jw_kbool(&w, "skipped", t->skipped);
            jw_obj_end(&w);
        }
        jw_arr_end(&w);
        jw_key(&w, "warnings");
        jw_arr(&w);
        for (size_t i = 0; i < r->nwarnings; i++)
            jw_str(&w, r->warnings[i]);
        jw_arr_end(&w);
        jw_kstr(&w, "version", r->version);
        jw_kint(&w, "rows", r->rows);
        jw_key(&w, "seconds");
        jw_fixed(&w, r->seconds, 3);
        jw_key(&w, "load_seconds");
        jw_fixed(&w, r->load_seconds, 3);
        jw_key(&w, "after_seconds");
        jw_fixed(&w, r->after_seconds, 3);
        jw_obj_end(&w);
        jw_end(&w);
        return;
    }
    for (size_t i = 0; i < r->nwarnings; i++)
        fprintf(stderr, "strata: warning: %s\n", term_str(r->warnings[i]));
    if (c->quiet)
        return;
    for (size_t i = 0; i < r->count; i++) {
        const strata_copy_table *t = &r->tables[i];
        char rows[32];
        thousands(rows, sizeof(rows), t->rows);
        printf("%-30s %12s %-4s  %8.2f s  %s%s%s\n", term_str(t->name), rows, t->rows == 1 ? "row" : "rows",
               t->seconds, color(c, t->verified ? "\033[32m" : "\033[33m"),
               t->skipped ? (t->verified ? "unchanged, verified" : "skipped")
                          : (t->verified ? "verified" : "not verified"),
               color(c, "\033[0m"));
    }
    char rows[32];
    thousands(rows, sizeof(rows), r->rows);
    printf("copied %zu table%s, %s row%s in %.2f s (rows %.2f s, keys and indexes %.2f s)", r->count,
           r->count == 1 ? "" : "s", rows, r->rows == 1 ? "" : "s", r->seconds, r->load_seconds,
           r->after_seconds);
    if (r->version)
        printf("; migrations at %s", r->version);
    printf("\n");
}

/*
 * The URL of one side of the copy: the next positional argument, or with
 * --from-env/--to-env NAME the variable NAME, from the environment or the
 * env file (--env-file, else .env.local, then .env) -- so that a password
 * need not be on the command line, where ps shows it. *url is malloc'd.
 */
static int side_url(cli *c, const char *flag, const char *name, int *next, char **url, strata_error *err)
{
    static const char *from[] = {"argument", "environment", "env file", "embedded default"};
    const char *side = !strcmp(flag, "--from-env") ? "source" : "target";
    strata_url_source src = STRATA_URL_FROM_FLAG;
    *url = NULL;
    if (!name) {
        *url = strdup(c->args[(*next)++]);
    } else {
        strata_url_opts uo = {NULL, name, c->env_file, 1};
        strata_code rc = strata_url_resolve(&uo, url, &src, err);
        if (rc == STRATA_DATABASE_URL_REQUIRED) {
            snprintf(err->message, sizeof(err->message), "%s %s: %s is not set", flag, name, name);
            snprintf(err->hint, sizeof(err->hint), "set %s in the environment or in %s", name,
                     c->env_file ? c->env_file : ".env (or .env.local)");
        }
        if (rc)
            return -1;
    }
    if (!*url) {
        strata_error_clear(err);
        err->code = STRATA_NOMEM;
        snprintf(err->message, sizeof(err->message), "out of memory");
        return -1;
    }
    if (c->verbose && !c->json) {
        char *red = strata_url_redact(*url);
        fprintf(stderr, "strata: copy %s %s (from %s%s%s)\n", side, red ? term_str(red) : "?", from[src],
                name ? " " : "", name ? term_str(name) : "");
        free(red);
    }
    return 0;
}

static int run(cli *c)
{
    int want = !o.from_env + !o.to_env;
    if (c->nargs != want)
        return out_usage_error(c, "copy takes %s",
                               want == 2    ? "two arguments, SRC_URL and DST_URL"
                               : want == 0  ? "no URL argument with both --from-env and --to-env"
                               : o.from_env ? "one argument with --from-env, DST_URL"
                                            : "one argument with --to-env, SRC_URL");
    if ((o.from_env && !*o.from_env) || (o.to_env && !*o.to_env))
        return out_usage_error(c, "%s needs the name of an environment variable",
                               o.from_env && !*o.from_env ? "--from-env" : "--to-env");
    if (o.schema_only && o.data_only)
        return out_usage_error(c, "--schema-only and --data-only exclude each other");
    strata_copy_opts opts;
    memset(&opts, 0, sizeof(opts));
    opts.mode = o.schema_only ? STRATA_COPY_SCHEMA_ONLY
                : o.data_only ? STRATA_COPY_DATA_ONLY
                              : STRATA_COPY_ALL;
    opts.jobs = o.jobs == JOBS_UNSET ? 0 : (int)o.jobs; /* 0: one per core */
    opts.no_verify = o.no_verify;
    opts.overwrite = o.overwrite;
    opts.keep_case = o.keep_case;
    opts.table = c->table;
    opts.lock_timeout = c->lock_timeout;
    if (o.jobs != JOBS_UNSET && (o.jobs < 1 || o.jobs > 64 || o.jobs != (double)(int)o.jobs))
        return out_usage_error(c, "--jobs needs a whole number from 1 to 64");
    if (!o.on_bad || !strcmp(o.on_bad, "fail"))
        opts.on_bad_value = STRATA_BAD_VALUE_FAIL;
    else if (!strcmp(o.on_bad, "null"))
        opts.on_bad_value = STRATA_BAD_VALUE_NULL;
    else if (!strcmp(o.on_bad, "text"))
        opts.on_bad_value = STRATA_BAD_VALUE_TEXT;
    else
        return out_usage_error(c, "--on-bad-value must be fail, null or text, not '%s'", o.on_bad);
    char *tl = o.tables ? strdup(o.tables) : NULL, *xl = o.exclude ? strdup(o.exclude) : NULL;
    const char **tv = tl ? split_list(tl, &opts.ntables) : NULL;
    const char **xv = xl ? split_list(xl, &opts.nexclude) : NULL;
    if ((o.tables && !tv) || (o.exclude && !xv)) {
        free(tv), free(xv), free(tl), free(xl);
        return out_usage_error(c, "%s: a quoted name is not closed (write \"a,b\" for a name with a comma)",
                               o.tables && !tv ? "--tables" : "--exclude");
    }
    opts.tables = tv;
    opts.exclude = xv;
    prog g = {isatty(2) && !c->quiet && !c->json, 0};
    opts.progress = on_progress;
    opts.userdata = &g;
    strata_copy_report *rep = NULL;
    strata_error err;
    strata_error_clear(&err);
    char *src = NULL, *dst = NULL;
    int next = 0;
    strata_code rc;
    if (side_url(c, "--from-env", o.from_env, &next, &src, &err) ||
        side_url(c, "--to-env", o.to_env, &next, &dst, &err))
        rc = err.code;
    else
        rc = strata_copy(src, dst, &opts, &rep, &err);
    free(src);
    free(dst);
    if (g.drawn)
        fputs("\r\033[K", stderr);
    int ex = 0;
    if (rc == STRATA_OK) {
        print_report(c, rep);
    } else {
        if (rep && !c->json)
            for (size_t i = 0; i < rep->nwarnings; i++)
                fprintf(stderr, "strata: warning: %s\n", term_str(rep->warnings[i]));
        ex = out_error(c, &err);
    }
    strata_copy_report_free(rep);
    free(tv);
    free(xv);
    free(tl);
    free(xl);
    return ex;
}

static const cmdopt options[] = {
    {"--schema-only", NULL, CMDOPT_FLAG, &o.schema_only, NULL,
     "create tables, keys and indexes; copy no rows"},
    {"--data-only", NULL, CMDOPT_FLAG, &o.data_only, NULL,
     "load into existing tables (e.g. made by strata up),\n"
     "matching columns by name; replaces their rows"},
    {"--tables", NULL, CMDOPT_LIST, &o.tables, "A,B",
     "only these tables (the version table comes along);\n"
     "\"a,b\" in double quotes: a name with a comma"},
    {"--exclude", NULL, CMDOPT_LIST, &o.exclude, "A,B", "never these tables"},
    {"--jobs", "-j", CMDOPT_NUM, &o.jobs, "N",
     "connections working in parallel: loads, index builds, foreign keys (default: one per core)"},
    {"--on-bad-value", NULL, CMDOPT_STR, &o.on_bad, "POLICY",
     "a value that does not fit its column:\n"
     "  fail  stop, naming table, rowid, column, value (default)\n"
     "  null  write NULL and list it as a warning\n"
     "  text  create such columns as text (bytea for bytes)"},
    {"--no-verify", NULL, CMDOPT_FLAG, &o.no_verify, NULL, "skip the read-back comparison"},
    {"--overwrite", NULL, CMDOPT_FLAG, &o.overwrite, NULL,
     "copy again into tables whose rows changed in the target since\nan earlier copy (those changes are "
     "lost)"},
    {"--keep-case", NULL, CMDOPT_FLAG, &o.keep_case, NULL,
     "keep names as written (default: ASCII letters to lower case)"},
    {"--from-env", NULL, CMDOPT_STR, &o.from_env, "NAME",
     "the source URL from variable NAME (environment, else\n"
     "the env file) instead of SRC_URL"},
    {"--to-env", NULL, CMDOPT_STR, &o.to_env, "NAME", "the target URL from variable NAME instead of DST_URL"},
    {NULL, NULL, 0, NULL, NULL, NULL},
};

const command cmd_copy = {
    .name = "copy",
    .run = run,
    .max_args = 2,
    .summary = "copy a SQLite database into PostgreSQL, verified",
    .usage = "usage: strata copy SRC_URL DST_URL [options]\n"
             "       strata copy SRC_URL --to-env NAME [options]\n"
             "       strata copy --from-env NAME DST_URL [options]\n"
             "       strata copy --from-env NAME --to-env NAME [options]\n"
             "\n"
             "Copies the SQLite database SRC_URL (sqlite:///file.db) into the PostgreSQL\n"
             "database DST_URL (postgresql://...): tables, rows, primary and unique keys,\n"
             "indexes, CHECKs, foreign keys, identities and the migration version table.\n"
             "Every value is checked against its target type; each table loads in one\n"
             "transaction and is verified (row count and content checksum read back)\n"
             "before it commits. All tables are read from one snapshot of the source,\n"
             "so an application may keep writing to it (WAL mode) meanwhile. Run the\n"
             "same command again after a failure or a kill, or after the application\n"
             "stopped writing: it finishes the copy, and skips tables that are unchanged.\n",
    .options = options,
    .notes = "\n"
             "Passwords: a URL on the command line is visible to other users (ps). Keep it\n"
             "out: --to-env NAME, or leave the password out of DST_URL and let libpq take\n"
             "it from PGPASSWORD or ~/.pgpass (host:port:database:user:password, mode 0600).\n"
             "\n"
             "Also: --table NAME (version table), --lock-timeout SECS, --json (a report per\n"
             "table on stdout), -q, -v (the two URLs, redacted, and where they came from),\n"
             "--env-file FILE (read by --from-env/--to-env). A progress line is drawn on\n"
             "stderr when it is a terminal.\n"
             "Names, type mapping, policies and restart rules: docs/copy.md.\n",
};
