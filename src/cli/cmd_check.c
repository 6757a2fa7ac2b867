/*
 * cmd_check.c -- strata check [--url SERVER_URL] [--keep]
 *
 * Cleanup that survives Ctrl-C: the scratch database is created here, then
 * the process forks. The child runs the check and prints the report; the
 * parent only waits, forwarding SIGINT/SIGTERM/SIGHUP/SIGQUIT to the child
 * instead of dying of them, and drops the scratch database when the child
 * ends for whatever reason (done, failed, interrupted, crashed). Only a
 * SIGKILL of the parent can leave a strata_check_* database behind.
 */
#include "cli.h"

#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>
#ifdef __linux__
#include <sys/prctl.h>
#endif

static int opt_keep;

static const cmdopt options[] = {
    {"--keep", NULL, CMDOPT_FLAG, &opt_keep, NULL, "do not drop the scratch database (to look at a failure)"},
    {NULL, NULL, 0, NULL, NULL, NULL},
};

static const int forwarded[] = {SIGINT, SIGTERM, SIGHUP, SIGQUIT};
#define NFWD (sizeof(forwarded) / sizeof(forwarded[0]))

static volatile sig_atomic_t got_signal;
static volatile pid_t child_pid;

static void forward(int sig)
{
    got_signal = sig;
    if (child_pid > 0)
        kill(child_pid, sig);
}

/*
 * SPEC section 8: check runs the lint too, before the round trip, with the
 * rules of the URL's engine (a PostgreSQL history checked on PostgreSQL is
 * not failed by SQLite-only rules); with no URL at all, both engines'. Findings are printed first
 * (in JSON, under "lint"); an error-level finding fails the check after the
 * round trip has run.
 */
static strata_lint_report *lint_report;

static int check_lint(cli *c, const strata_migset *set, const char *engine, strata_error *err)
{
    if (strata_lint(set, engine, &lint_report, err) != STRATA_OK)
        return -1;
    if (!c->json && lint_report->count) {
        print_lint_findings(c, lint_report);
        printf("lint: %zu error%s, %zu warning%s\n", lint_report->errors, lint_report->errors == 1 ? "" : "s",
               lint_report->warnings, lint_report->warnings == 1 ? "" : "s");
    }
    fflush(stdout);
    return 0;
}

/* ---------------------------------------------------------------- output */

static void json_entry(jw *w, const strata_check_entry *e)
{
    jw_obj(w);
    jw_kstr(w, "id", e->id);
    if (e->version)
        jw_kstr(w, "version", e->version);
    jw_kstr(w, "state", strata_check_state_name(e->state));
    jw_kstr(w, "step", e->step);
    jw_kstr(w, "message", e->message);
    jw_kstr(w, "note", e->note);
    jw_kstr(w, "diff", e->diff);
    jw_kstr(w, "code", e->code ? strata_code_name(e->code) : NULL);
    jw_obj_end(w);
}

static void print_entry(const cli *c, const strata_check_entry *e, const char *ok_text)
{
    static const char *word[] = {"ok", "FAIL", "irreversible", "skip"};
    static const char *col[] = {"\033[32m", "\033[1;31m", "\033[33m", "\033[33m"};
    if (c->quiet && e->state != STRATA_CHECK_FAIL)
        return;
    printf("%s%s%s %s", color(c, col[e->state]), word[e->state], color(c, "\033[0m"), term_str(e->id));
    if (e->message)
        printf(": %s", term_str(e->message));
    else if (ok_text)
        printf(": %s", ok_text);
    printf("\n");
    if (e->note)
        printf("    note: %s\n", term_str(e->note));
    if (e->diff) {
        const char *p = e->diff;
        while (*p) {
            const char *nl = strchr(p, '\n');
            int n = nl ? (int)(nl - p) : (int)strlen(p);
            const char *lc = *p == '-' ? "\033[31m" : *p == '+' ? "\033[32m" : *p == '@' ? "\033[36m" : "";
            printf("    %s%.*s%s\n", color(c, lc), n, p, *lc ? color(c, "\033[0m") : "");
            p += n + (nl ? 1 : 0);
        }
    }
}

static int print_report(cli *c, const strata_check_report *r)
{
    size_t irreversible = 0, skipped = 0, lint_errors = lint_report ? lint_report->errors : 0;
    for (size_t i = 0; i < r->count; i++) {
        irreversible += r->migrations[i].state == STRATA_CHECK_IRREVERSIBLE;
        skipped += r->migrations[i].state == STRATA_CHECK_SKIPPED;
    }
    if (c->json) {
        jw w;
        jw_init(&w, stdout);
        jw_obj(&w);
        jw_kbool(&w, "ok", r->ok && !lint_errors);
        jw_kstr(&w, "engine", r->engine);
        jw_key(&w, "migrations");
        jw_arr(&w);
        for (size_t i = 0; i < r->count; i++)
            json_entry(&w, &r->migrations[i]);
        jw_arr_end(&w);
        jw_key(&w, "up_again");
        json_entry(&w, &r->up_again);
        jw_key(&w, "base");
        json_entry(&w, &r->base);
        jw_key(&w, "lint");
        if (lint_report) {
            jw_obj(&w);
            jw_kint(&w, "errors", (long long)lint_report->errors);
            jw_kint(&w, "warnings", (long long)lint_report->warnings);
            jw_key(&w, "findings");
            print_lint_findings_json(&w, lint_report);
            jw_obj_end(&w);
        } else {
            jw_null(&w);
        }
        jw_obj_end(&w);
        jw_end(&w);
    } else {
        for (size_t i = 0; i < r->count; i++)
            print_entry(c, &r->migrations[i], NULL);
        print_entry(c, &r->up_again, "nothing applied");
        print_entry(c, &r->base, "only the version table is left");
    }
    if (r->ok) {
        if (!c->json && !c->quiet) {
            printf("%s passed: %zu migration%s", lint_errors ? "round trip" : "check", r->count,
                   r->count == 1 ? "" : "s");
            if (irreversible)
                printf(" (%zu irreversible, %zu not round-tripped)", irreversible, skipped + irreversible);
            printf("\n");
        }
        if (!lint_errors)
            return 0;
    }
    strata_error err = {0};
    if (r->ok) {
        fflush(stdout);
        err.code = STRATA_CHECK_FAILED;
        snprintf(err.message, sizeof(err.message), "check failed: the lint found %zu error%s", lint_errors,
                 lint_errors == 1 ? "" : "s");
        snprintf(err.hint, sizeof(err.hint),
                 "fix them, or accept one with '-- strata:lint-ignore RULE' "
                 "(see 'strata lint')");
        return out_error(c, &err);
    }
    char list[600] = "";
    size_t n = 0, len = 0;
    int diffs = 0;
    const strata_check_entry *all[2] = {&r->up_again, &r->base};
    for (size_t i = 0; i < r->count + 2; i++) {
        const strata_check_entry *e = i < r->count ? &r->migrations[i] : all[i - r->count];
        if (e->state != STRATA_CHECK_FAIL)
            continue;
        diffs |= e->diff != NULL;
        if (n++ < 6 && len < sizeof(list))
            len += (size_t)snprintf(list + len, sizeof(list) - len, "%s%s", len ? ", " : "", e->id);
    }
    fflush(stdout); /* the report first, then the error line */
    err.code = STRATA_CHECK_FAILED;
    snprintf(err.message, sizeof(err.message), "check failed: %s%s", list, n > 6 ? ", ..." : "");
    if (diffs)
        snprintf(err.hint, sizeof(err.hint),
                 "in the differences, '-' lines are the expected schema and '+' lines what "
                 "the database had instead");
    return out_error(c, &err);
}

/* ------------------------------------------------------------------- run */

/* The child: run the walk on the scratch database and print the report. */
static int work(cli *c, const strata_migset *set, const strata_scratch *s)
{
    strata_check_opts o = {c->table, c->lock_timeout};
    strata_check_report *r = NULL;
    strata_error err = {0};
    if (!c->json && !c->quiet) {
        printf("check: %zu migration%s on a scratch %s database (%s)\n", strata_migset_count(set),
               strata_migset_count(set) == 1 ? "" : "s", strata_url_engine(strata_scratch_url(s)),
               strata_scratch_name(s));
        fflush(stdout);
    }
    if (strata_check_run(strata_scratch_url(s), set, &o, &r, &err) != STRATA_OK)
        return out_error(c, &err);
    int rc = print_report(c, r);
    strata_check_report_free(r);
    return rc;
}

static int run(cli *c)
{
    strata_migset *set = NULL;
    strata_scratch *scratch = NULL;
    strata_error err = {0};
    char *url = NULL;
    int rc = 0, status = 0;
    struct sigaction old[NFWD];

    if (cli_load(c, &set, &err) || strata_migset_check(set, &err))
        goto out;
    /* the URL names the server; with none, or a SQLite one, a temporary file */
    strata_url_opts uo = {c->url, c->url_env, c->env_file, 0};
    strata_url_source src = STRATA_URL_FROM_DEFAULT;
    if (strata_url_resolve(&uo, &url, &src, &err) != STRATA_OK) {
        /* strict mode without a URL is fine here; a URL asked for with
           --url-env or --env-file and not found is not */
        if (err.code != STRATA_DATABASE_URL_REQUIRED || c->url_env || c->env_file)
            goto out;
        strata_error_clear(&err);
    }
    /* the lint follows the URL's engine; with no URL at all, both engines */
    if (check_lint(c, set, url && src != STRATA_URL_FROM_DEFAULT ? strata_url_engine(url) : NULL, &err) != 0)
        goto out;
    if (strata_scratch_create(url, &scratch, &err) != STRATA_OK)
        goto out;
    if (c->verbose && !c->json) {
        char *red = strata_url_redact(strata_scratch_url(scratch));
        fprintf(stderr, "strata: scratch database %s\n", red ? red : strata_scratch_name(scratch));
        free(red);
    }

    sigset_t block, saved;
    sigemptyset(&block);
    for (size_t i = 0; i < NFWD; i++)
        sigaddset(&block, forwarded[i]);
    sigprocmask(SIG_BLOCK, &block, &saved);
    struct sigaction sa;
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = forward;
    sigemptyset(&sa.sa_mask);
    for (size_t i = 0; i < NFWD; i++) {
        sigaction(forwarded[i], NULL, &old[i]);
        /* SIGINT and SIGTERM always stop the check (a background job starts
           with SIGINT ignored, yet `kill -INT` should still stop it); an
           ignored SIGHUP or SIGQUIT (nohup) stays ignored */
        if (i < 2 || old[i].sa_handler != SIG_IGN)
            sigaction(forwarded[i], &sa, NULL);
    }
    fflush(stdout);
    fflush(stderr);
    pid_t parent = getpid();
    pid_t pid = fork();
    if (pid == 0) {
        struct sigaction dfl;
        memset(&dfl, 0, sizeof(dfl));
        dfl.sa_handler = SIG_DFL;
        sigemptyset(&dfl.sa_mask);
        for (size_t i = 0; i < NFWD; i++)
            sigaction(forwarded[i], i < 2 ? &dfl : &old[i], NULL);
        sigprocmask(SIG_SETMASK, &saved, NULL);
#ifdef __linux__
        prctl(PR_SET_PDEATHSIG, SIGTERM);
#endif
        rc = getppid() == parent ? work(c, set, scratch) : 1;
        fflush(stdout);
        strata_scratch_free(scratch); /* the parent drops it */
        scratch = NULL;
        goto out;
    }
    if (pid < 0) { /* no fork: run here, without the protection */
        for (size_t i = 0; i < NFWD; i++)
            sigaction(forwarded[i], &old[i], NULL);
        sigprocmask(SIG_SETMASK, &saved, NULL);
        rc = work(c, set, scratch);
    } else {
        child_pid = pid;
        sigprocmask(SIG_SETMASK, &saved, NULL);
        while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
            ;
        child_pid = 0; /* reaped: its pid may be reused */
        if (WIFEXITED(status))
            rc = WEXITSTATUS(status);
        else
            rc = 128 + (WIFSIGNALED(status) ? WTERMSIG(status) : 0);
    }
    fflush(stdout);
    strata_error derr = {0};
    if (opt_keep) {
        char *red = strata_url_redact(strata_scratch_url(scratch));
        if (!c->json)
            fprintf(stderr,
                    "strata: kept the scratch database: %s (a check or diff an hour from now drops it)\n",
                    red ? red : strata_scratch_name(scratch));
        free(red);
    } else if (strata_scratch_drop(scratch, &derr) != STRATA_OK) {
        snprintf(derr.hint, sizeof(derr.hint), "drop '%s' by hand", strata_scratch_name(scratch));
        int drc = out_error(c, &derr);
        if (rc == 0)
            rc = drc;
    }
    if (pid > 0) {
        for (size_t i = 0; i < NFWD; i++)
            sigaction(forwarded[i], &old[i], NULL);
        int sig = got_signal ? got_signal : WIFSIGNALED(status) ? WTERMSIG(status) : 0;
        if (sig) {
            /* stopped by us: INTERRUPTED like any command; a child killed
               by a signal of its own (a crash) failed the check */
            err.code = got_signal ? STRATA_INTERRUPTED : STRATA_CHECK_FAILED;
            snprintf(err.message, sizeof(err.message), "check %s by signal %d (%s); the scratch database %s",
                     got_signal ? "interrupted" : "killed", sig, strsignal(sig),
                     opt_keep    ? "was kept"
                     : derr.code ? "could not be dropped"
                                 : "was dropped");
            out_error(c, &err);
            err.code = STRATA_OK;
            rc = 128 + sig;
        }
    }
out:
    if (err.code)
        rc = out_error(c, &err);
    strata_lint_report_free(lint_report);
    lint_report = NULL;
    strata_scratch_free(scratch);
    strata_migset_free(set);
    free(url);
    return rc;
}

const command cmd_check = {
    .name = "check",
    .run = run,
    .summary = "smoke-test every migration up and down on a scratch database",
    .usage = "usage: strata check [--url SERVER_URL] [--keep]\n"
             "\n"
             "Runs the whole migration directory on a scratch database that strata\n"
             "creates and removes itself, and checks that every migration goes both ways\n"
             "(docs/check.md):\n"
             "  1. from empty, up one migration at a time, recording the schema after\n"
             "     each (verify sections run with every up);\n"
             "  2. up again must apply nothing;\n"
             "  3. newest first: down must give back exactly the schema before the\n"
             "     migration, up exactly the schema after it, down again the schema\n"
             "     before it; a migration without a down section is irreversible: its\n"
             "     round trip is skipped and the walk stops there;\n"
             "  4. at base, only the version table may be left.\n"
             "Before the walk it runs 'strata lint' with the rules of the URL's engine\n"
             "(PostgreSQL rules for a PostgreSQL URL, SQLite rules for a SQLite one; with\n"
             "no URL at all, both); an error-level finding fails the check too.\n"
             "Prints one line per migration (ok, FAIL, irreversible, skip) and, for a\n"
             "failure, which objects differ and the schema difference ('-' expected,\n"
             "'+' found). Exit 0 when everything passed, 1 when something failed.\n"
             "\n"
             "The scratch database: a temporary SQLite file by default (also when the URL\n"
             "is a SQLite one, which is never opened); with a PostgreSQL URL (--url,\n"
             "DATABASE_URL, .env), a new database strata_check_<random> on that server,\n"
             "dropped afterwards, also after a failure or Ctrl-C. The database the URL\n"
             "names is never changed. The user needs the CREATEDB privilege.\n",
    .options = options,
};
