/* cmd_test.c -- strata test [FILE...]: migration tests on scratch databases */
#include "cli.h"

#include <dirent.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>

static int by_name(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The .sql files of DIR/tests, sorted; *n set. NULL with n 0 when there are none. */
static char **list_tests(const char *dir, size_t *n)
{
    char path[4096];
    snprintf(path, sizeof(path), "%s/tests", dir);
    DIR *d = opendir(path);
    char **v = NULL;
    size_t cap = 0;
    *n = 0;
    if (!d)
        return NULL;
    struct dirent *de;
    while ((de = readdir(d)) != NULL) {
        size_t l = strlen(de->d_name);
        if (de->d_name[0] == '.' || l < 5 || strcmp(de->d_name + l - 4, ".sql") != 0)
            continue;
        if (cli_grow(&v, &cap, *n + 1, sizeof(*v)))
            break;
        size_t pl = strlen(path) + l + 2;
        if (!(v[*n] = malloc(pl)))
            break;
        snprintf(v[*n], pl, "%s/%s", path, de->d_name);
        (*n)++;
    }
    closedir(d);
    if (*n)
        qsort(v, *n, sizeof(*v), by_name);
    return v;
}

/*
 * Signals while the files run (SIGINT, SIGTERM, SIGHUP): the first lets the
 * current file finish -- its scratch database dropped -- and the run stops
 * after it; a second stops the file itself (strata_interrupt: its statement
 * is cancelled and the file ends INTERRUPTED, its scratch database still
 * dropped; a server that does not answer the cancel gets its connection
 * closed STOP_GRACE seconds later, by main's SIGALRM handler); a third
 * kills, as the default action would.
 */
static volatile sig_atomic_t test_signals;
static void on_test_signal(int sig)
{
    int n = ++test_signals;
    if (n == 2) {
        alarm(STOP_GRACE);
        strata_interrupt();
    } else if (n > 2) {
        signal(sig, SIG_DFL);
        raise(sig); /* delivered, and kills, when this handler returns */
    }
}

static int run(cli *c)
{
    strata_migset *set = NULL;
    strata_error err = {0};
    char *url = NULL, **files = NULL;
    size_t nfiles = 0, failed = 0, ran = 0, broken = 0;
    int rc = 0, interrupted = 0;
    strata_url_opts uo = {c->url, c->url_env, c->env_file, c->require_url};
    strata_url_source src;
    if (cli_load(c, &set, &err) || strata_url_resolve(&uo, &url, &src, &err))
        goto out;
    /* a SQLite URL (or none) means a temporary SQLite file; a PostgreSQL URL
       names the server where scratch databases are created */
    const char *engine = strata_url_engine(url);
    const char *server = engine && !strcmp(engine, "postgres") ? url : NULL;
    if (c->nargs) {
        files = calloc((size_t)c->nargs, sizeof(*files));
        for (int i = 0; files && i < c->nargs; i++)
            files[nfiles++] = strdup(c->args[i]);
    } else {
        files = list_tests(cli_dir(c), &nfiles);
    }
    if (!nfiles) {
        snprintf(err.message, sizeof(err.message), "no test files in '%s/tests'", cli_dir(c));
        snprintf(err.hint, sizeof(err.hint), "write DIR/tests/NAME.sql (see 'strata test --help')");
        err.code = STRATA_USAGE;
        goto out;
    }
    /* Ctrl-C waits for the current file, whose scratch database is dropped */
    static const int stops[] = {SIGINT, SIGTERM, SIGHUP};
    struct sigaction sa, saved[3];
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = on_test_signal;
    sa.sa_flags = SA_RESTART;
    sigemptyset(&sa.sa_mask);
    for (int i = 0; i < 3; i++)
        sigaddset(&sa.sa_mask, stops[i]);
    for (int i = 0; i < 3; i++)
        sigaction(stops[i], &sa, &saved[i]);
    jw w;
    jw_init(&w, stdout);
    if (c->json) {
        jw_obj(&w);
        jw_key(&w, "tests");
        jw_arr(&w);
    }
    for (size_t i = 0; i < nfiles && !test_signals; i++) {
        strata_test_case tc;
        strata_code r = strata_test_file(server, set, files[i], &tc, &err);
        if (r == STRATA_PARSE_ERROR || r == STRATA_IO_ERROR || r == STRATA_FILE_NOT_REGULAR ||
            r == STRATA_FILE_TOO_LARGE) {
            /* a malformed (or unreadable) file is reported, and the others
               still run; exit 2 as for no test files */
            out_error(c, &err);
            memset(&err, 0, sizeof(err));
            broken++;
            strata_test_case_release(&tc);
            continue;
        }
        if (r && test_signals >= 2 && tc.file) {
            /* the second signal stopped the file before its steps (making
               or opening its scratch database): reported stopped, as one
               stopped mid-step is */
            tc.ok = 0;
            if (!tc.message)
                tc.message = strdup(err.message);
            memset(&err, 0, sizeof(err));
            r = STRATA_OK;
        }
        if (r) {
            strata_test_case_release(&tc);
            break;
        }
        /* a file the second signal stopped did not fail: it was stopped */
        int stopped = !tc.ok && test_signals >= 2;
        ran += !stopped;
        failed += !tc.ok && !stopped;
        if (c->json) {
            jw_obj(&w);
            jw_kstr(&w, "file", tc.file);
            jw_kbool(&w, "ok", tc.ok);
            if (stopped)
                jw_kbool(&w, "interrupted", 1);
            jw_kint(&w, "steps", tc.steps);
            jw_kint(&w, "expectations", tc.expectations);
            jw_kint(&w, "duration_ms", tc.duration_ms);
            jw_kstr(&w, "message", tc.message);
            jw_obj_end(&w);
        } else if (!c->quiet || !tc.ok) {
            printf("%s%s%s %s",
                   color(c, tc.ok     ? "\033[32m"
                            : stopped ? "\033[33m"
                                      : "\033[31m"),
                   tc.ok     ? "ok  "
                   : stopped ? "STOP"
                             : "FAIL",
                   color(c, "\033[0m"), term_str(tc.file));
            if (tc.ok)
                printf(" (%d step%s, %d expectation%s, %ld ms)\n", tc.steps, tc.steps == 1 ? "" : "s",
                       tc.expectations, tc.expectations == 1 ? "" : "s", tc.duration_ms);
            else
                printf("\n     %s\n", tc.message ? term_str(tc.message) : "failed");
        }
        fflush(stdout);
        strata_test_case_release(&tc);
    }
    interrupted = test_signals > 0;
    if (c->json) {
        jw_arr_end(&w);
        jw_kbool(&w, "ok", !(failed || broken || err.code || interrupted));
        jw_kint(&w, "passed", (long long)(ran - failed));
        jw_kint(&w, "failed", (long long)failed);
        jw_kint(&w, "malformed", (long long)broken);
        jw_obj_end(&w);
        jw_end(&w);
    } else if (!c->quiet && !err.code)
        printf("%zu passed, %zu failed%s%s\n", ran - failed, failed,
               broken ? (broken == 1 ? ", 1 malformed file not run" : ", malformed files not run") : "",
               interrupted ? " (interrupted)" : "");
    rc = broken ? 2 : failed ? 1 : 0;
    if (interrupted) {
        rc = 130;
        /* the run is over: what is left is its summary (the handler stays:
           a third signal still kills) */
    } else {
        for (int i = 0; i < 3; i++)
            sigaction(stops[i], &saved[i], NULL);
    }
out:
    if (err.code)
        rc = out_error(c, &err);
    for (size_t i = 0; i < nfiles; i++)
        free(files[i]);
    free(files);
    free(url);
    strata_migset_free(set);
    return rc;
}

const command cmd_test = {
    .name = "test",
    .run = run,
    .max_args = 64,
    .summary = "run migration tests on scratch databases",
    .usage = "usage: strata test [FILE...]\n"
             "\n"
             "Runs the migration tests in DIR/tests/*.sql (or the files given), each on\n"
             "its own fresh scratch database that is dropped afterwards: a temporary\n"
             "SQLite file, or, when the URL is PostgreSQL, a new database created on\n"
             "that server (the database the URL names is never changed).\n"
             "\n"
             "A test file is a list of steps (docs/testing.md):\n"
             "  -- strata:at VERSION     migrate to VERSION, then run the SQL below\n"
             "  -- strata:up [TARGET]    upgrade (default head), then the SQL below\n"
             "  -- strata:down [TARGET]  downgrade (default one step), then the SQL below\n"
             "  -- strata:run            run the SQL below\n"
             "  -- strata:expect         each query below must return true\n"
             "Each marker takes dialect=postgres|sqlite.\n"
             "\n"
             "Exit 0 when every test passes, 1 when one fails, 2 for a bad test file.\n"
             "Ctrl-C stops after the current file (its scratch database is dropped); a second\n"
             "Ctrl-C stops that file too (its scratch database still dropped); a third kills.\n",
};
