/* cmd_lint.c -- strata lint: static checks of the migration files */
#include "cli.h"

#include <stdlib.h>
#include <string.h>

static int strict, list_rules;

static const cmdopt options[] = {
    {"--dialect", NULL, CMDOPT_STR, &cli_state.dialect, "D",
     "only the rules of one engine: postgres or sqlite"},
    {"--strict", NULL, CMDOPT_FLAG, &strict, NULL, "warnings fail too (exit 1)"},
    {"--list-rules", NULL, CMDOPT_FLAG, &list_rules, NULL,
     "print every rule: id, severity, engines, what it catches\n"
     "(with -v, the hint too)"},
    {NULL, NULL, 0, NULL, NULL, NULL},
};

static void print_rules(const cli *c)
{
    size_t n = strata_lint_rule_count();
    jw w;
    jw_init(&w, stdout);
    if (c->json) {
        jw_obj(&w);
        jw_key(&w, "rules");
        jw_arr(&w);
    }
    for (size_t i = 0; i < n; i++) {
        const strata_lint_rule *r = strata_lint_rule_get(i);
        if (c->json) {
            jw_obj(&w);
            jw_kstr(&w, "rule", r->id);
            jw_kstr(&w, "severity", strata_lint_severity_name(r->severity));
            jw_kstr(&w, "dialects", r->dialects);
            jw_kstr(&w, "summary", r->summary);
            jw_kstr(&w, "hint", r->hint);
            jw_obj_end(&w);
        } else {
            printf("%-30s %-8s %-16s %s\n", r->id, strata_lint_severity_name(r->severity), r->dialects,
                   r->summary);
            if (c->verbose)
                printf("%-30s hint: %s\n", "", r->hint);
        }
    }
    if (c->json) {
        jw_arr_end(&w);
        jw_obj_end(&w);
        jw_end(&w);
    }
}

void print_lint_findings_json(jw *w, const strata_lint_report *r)
{
    jw_arr(w);
    for (size_t i = 0; i < r->count; i++) {
        const strata_lint_finding *f = &r->findings[i];
        jw_obj(w);
        jw_kstr(w, "rule", f->rule);
        jw_kstr(w, "severity", strata_lint_severity_name(f->severity));
        jw_kstr(w, "file", f->file);
        jw_kint(w, "line", f->line);
        jw_kstr(w, "version", f->version);
        jw_kstr(w, "message", f->message);
        jw_kstr(w, "hint", f->hint);
        jw_obj_end(w);
    }
    jw_arr_end(w);
}

static void print_json(const strata_lint_report *r, int ok)
{
    jw w;
    jw_init(&w, stdout);
    jw_obj(&w);
    jw_kbool(&w, "ok", ok);
    jw_kint(&w, "errors", (long long)r->errors);
    jw_kint(&w, "warnings", (long long)r->warnings);
    jw_key(&w, "findings");
    print_lint_findings_json(&w, r);
    jw_obj_end(&w);
    jw_end(&w);
}

void print_lint_findings(const cli *c, const strata_lint_report *r)
{
    for (size_t i = 0; i < r->count; i++) {
        const strata_lint_finding *f = &r->findings[i];
        int err = f->severity == STRATA_LINT_ERROR;
        printf("%s:%d: %s%s%s: [%s] %s\n", term_str(f->file), f->line,
               color(c, err ? "\033[1;31m" : "\033[1;33m"), strata_lint_severity_name(f->severity),
               color(c, "\033[0m"), f->rule, term_str(f->message));
        printf("  hint: %s\n", f->hint);
    }
}

static void print_human(const cli *c, const strata_lint_report *r, size_t nmig, int both)
{
    print_lint_findings(c, r);
    if (c->quiet)
        return;
    /* with no URL, both engines' rules: say so where one engine's rule
       found something (a project for one engine lints with --dialect) */
    static const char *const engines[2][2] = {{"postgres", "SQLite"}, {"sqlite", "PostgreSQL"}};
    for (int e = 0; both && e < 2; e++)
        for (size_t i = 0; i < r->count; i++) {
            const strata_lint_rule *rule = strata_lint_rule_find(r->findings[i].rule);
            if (rule && !strcmp(rule->dialects, engines[e][0])) {
                fprintf(stderr,
                        "strata: note: no database URL, so the rules of both engines apply; for migrations "
                        "that run only on %s: strata lint --dialect %s\n",
                        engines[e][1], e ? "postgres" : "sqlite");
                break;
            }
        }
    if (!r->count)
        printf("ok: %zu migration%s, no findings\n", nmig, nmig == 1 ? "" : "s");
    else
        printf("%zu error%s, %zu warning%s in %zu migration%s\n", r->errors, r->errors == 1 ? "" : "s",
               r->warnings, r->warnings == 1 ? "" : "s", nmig, nmig == 1 ? "" : "s");
}

static int run(cli *c)
{
    strata_migset *set = NULL;
    strata_lint_report *r = NULL;
    strata_error err = {0};
    int rc = 0;
    if (list_rules) {
        print_rules(c);
        return 0;
    }
    const char *dialect = c->dialect;
    char *url = NULL;
    if (!dialect) {
        /* the engine of the URL the migrations are for, without connecting;
           with no URL at all, the rules of both engines */
        strata_url_opts uo = {c->url, c->url_env, c->env_file, 0};
        strata_url_source src;
        if (strata_url_resolve(&uo, &url, &src, &err) == STRATA_OK && src != STRATA_URL_FROM_DEFAULT)
            dialect = strata_url_engine(url);
        else if (err.code == STRATA_DATABASE_URL_REQUIRED && !c->url_env && !c->env_file)
            strata_error_clear(&err);
    }
    if (!err.code && cli_load(c, &set, &err) == STRATA_OK && strata_migset_check(set, &err) == STRATA_OK &&
        strata_lint(set, dialect, &r, &err) == STRATA_OK) {
        int ok = r->errors == 0 && !(strict && r->warnings);
        if (c->json)
            print_json(r, ok);
        else
            print_human(c, r, strata_migset_count(set), dialect == NULL);
        rc = ok ? 0 : 1;
    }
    if (err.code)
        rc = out_error(c, &err);
    strata_lint_report_free(r);
    strata_migset_free(set);
    free(url);
    return rc;
}

const command cmd_lint = {
    .name = "lint",
    .run = run,
    .summary = "check migration files for unsafe or unsupported SQL",
    .usage = "usage: strata lint [--dialect postgres|sqlite] [--strict] [--list-rules]\n"
             "\n"
             "Checks the migration files without connecting to any database: statements\n"
             "that lock or rewrite existing tables on PostgreSQL, break the application\n"
             "version still running during a deploy, cannot run in a transaction, or\n"
             "that SQLite's ALTER TABLE does not support. Sections are checked with the\n"
             "rules of the engines they run on: the engine of the database URL (--url,\n"
             "DATABASE_URL, .env; never connected to), or --dialect; with no URL at all,\n"
             "generic sections get the rules of both engines.\n"
             "\n"
             "Each finding prints as 'FILE:LINE: error|warning: [RULE] message' and a\n"
             "hint with the safer alternative. Exits 1 when an error-level rule fires\n"
             "(with --strict, any rule), 0 otherwise, 2 when a file does not parse.\n"
             "\n"
             "To accept a finding, put '-- strata:lint-ignore RULE[,RULE...] -- reason'\n"
             "on a line before the statement; before the first marker of a file, it\n"
             "applies to the whole file. Rules and examples: docs/lint.md.\n",
    .options = options,
    .notes = "\n"
             "With --json: {\"ok\", \"errors\", \"warnings\", \"findings\": [{\"rule\", \"severity\",\n"
             "\"file\", \"line\", \"version\", \"message\", \"hint\"}]}\n",
};
