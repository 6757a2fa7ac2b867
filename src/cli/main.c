/*
 * main.c -- the table of commands, the global options, and main(): parse the
 * command line (parse_args), then dispatch it to the command (dispatch).
 *
 * One kind of option table (cmdopt, cli.h) both parses and documents every
 * option: the global table below and each command's own. Global options may
 * stand before or after the command name; a command's options follow its
 * name, except those kept in cli_state (shared by several commands), which
 * may come before it and are checked against the command once it is known.
 * A lone "-N" (digits) is a positional argument (down -1), not an option.
 */
#include "cli.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* The commands, in the order of 'strata --help'. A new command: one line. */
/* clang-format off */
static const command *const commands[] = {
    &cmd_new,
    &cmd_up,
    &cmd_down,
    &cmd_redo,
    &cmd_status,
    &cmd_current,
    &cmd_history,
    &cmd_validate,
    &cmd_stamp,
    &cmd_accept,
    &cmd_sql,
    &cmd_test,
    &cmd_lint,
    &cmd_schema,
    &cmd_check,
    &cmd_diff,
    &cmd_create,
    &cmd_drop,
    &cmd_wait,
    &cmd_reset,
    &cmd_backup,
    &cmd_restore,
    &cmd_copy,
    &cmd_embed,
    &cmd_import,
    &cmd_adopt,
    &cmd_version,
    &cmd_completion,
    NULL,
};
/* clang-format on */

cli cli_state;

static const cmdopt global_options[] = {
    {"--url", NULL, CMDOPT_STR, &cli_state.url, "URL", "database URL (postgresql://..., sqlite:///path.db)"},
    {"--url-env", NULL, CMDOPT_STR, &cli_state.url_env, "NAME",
     "environment variable holding the URL (default DATABASE_URL)"},
    {"--env-file", NULL, CMDOPT_STR, &cli_state.env_file, "FILE",
     "dotenv file to read it from (default .env.local, then .env)"},
    {"--require-url", NULL, CMDOPT_FLAG, &cli_state.require_url, NULL,
     "no embedded default: fail when no URL is given\n(also STRATA_REQUIRE_URL=1)"},
    {"--dir", NULL, CMDOPT_STR, &cli_state.dir, "DIR",
     "migration directory (default $STRATA_DIR or ./migrations)"},
    {"--table", NULL, CMDOPT_STR, &cli_state.table, "NAME",
     "version table (default " STRATA_DEFAULT_TABLE ")"},
    {"--lock-timeout", NULL, CMDOPT_SECS, &cli_state.lock_timeout, "SECS",
     "how long to wait for the migration lock (default 60)"},
    {"--connect-timeout", NULL, CMDOPT_SECS, &cli_state.connect_timeout, "SECS",
     "commands that write: how long to retry a connection that\nfails for a passing reason (too many "
     "connections, server\nstarting, refused) (default 30; read-only commands try once)"},
    {"--json", NULL, CMDOPT_FLAG, &cli_state.json, NULL,
     "one JSON document on stdout; errors as JSON on stderr"},
    {"--quiet", "-q", CMDOPT_FLAG, &cli_state.quiet, NULL, "print only errors"},
    {"--verbose", "-v", CMDOPT_FLAG, &cli_state.verbose, NULL, "say more (URL used, statements' notices)"},
    {"--no-color", NULL, CMDOPT_FLAG, &cli_state.no_color, NULL, "no colors (also NO_COLOR)"},
    {"--help", "-h", CMDOPT_FLAG, &cli_state.help, NULL, "help; 'strata COMMAND --help' for a command"},
    {"--version", "-V", CMDOPT_FLAG, &cli_state.version, NULL, "print the version (also 'strata version')"},
    {NULL, NULL, 0, NULL, NULL, NULL},
};

const command *const *cli_commands(void)
{
    return commands;
}

const cmdopt *cli_global_options(void)
{
    return global_options;
}

/* ------------------------------------------------------------------ help */

/* "-o, --output FILE" */
static int opt_label(const cmdopt *o, char *out, size_t n)
{
    return snprintf(out, n, "%s%s%s%s%s", o->alias ? o->alias : "", o->alias ? ", " : "", o->name,
                    o->arg ? " " : "", o->arg ? o->arg : "");
}

/* The options of a table that have help, one per line: the label, then the
   text from column width (two spaces after a longer label); lines of the
   text after the first start at that column. */
static void print_options(FILE *f, const cmdopt *opts, int width)
{
    for (const cmdopt *o = opts; o && o->name; o++) {
        if (!o->help)
            continue;
        char label[128];
        int n = opt_label(o, label, sizeof(label));
        fprintf(f, "  %s%*s", label, n + 2 < width ? width - n : 2, "");
        for (const char *t = o->help; *t;) {
            size_t len = strcspn(t, "\n");
            fprintf(f, "%.*s\n", (int)len, t);
            t += len;
            if (*t == '\n' && *++t)
                fprintf(f, "%*s", width + 2, "");
        }
    }
}

/* The column of a table's help texts: after its longest label (the
   options that have help), at most max. */
static int options_width(const cmdopt *opts, int max)
{
    int w = 0;
    for (const cmdopt *o = opts; o && o->name; o++) {
        char label[128];
        int n = o->help ? opt_label(o, label, sizeof(label)) : 0;
        if (n + 3 > w)
            w = n + 3;
    }
    return w > max ? max : w;
}

void cli_print_help(FILE *f, const command *cmd)
{
    fputs(cmd->usage, f);
    int any = 0;
    for (const cmdopt *o = cmd->options; o && o->name; o++)
        any |= o->help != NULL;
    if (any) {
        fputs("\nOptions:\n", f);
        print_options(f, cmd->options, options_width(cmd->options, 25));
    }
    if (cmd->notes)
        fputs(cmd->notes, f);
}

static void print_global_help(FILE *f)
{
    fputs("usage: strata [global options] COMMAND [options] [args]\n"
          "\n"
          "Schema migrations for SQLite and PostgreSQL.\n"
          "\n"
          "Commands:\n",
          f);
    for (int i = 0; commands[i]; i++) {
        char name[64];
        snprintf(name, sizeof(name), "%s%s%s", commands[i]->name, commands[i]->alias ? ", " : "",
                 commands[i]->alias ? commands[i]->alias : "");
        fprintf(f, "  %-20s %s\n", name, commands[i]->summary);
    }
    fputs("\nGlobal options (before or after the command):\n", f);
    print_options(f, global_options, 21);
    fputs("\n"
          "A command's own options follow its name ('strata COMMAND --help' lists them).\n"
          "With no URL anywhere (no --url, --url-env or --env-file, DATABASE_URL unset\n"
          "and not in .env.local or .env), strata uses " STRATA_DEFAULT_URL ", and a\n"
          "command that writes says so on stderr (not with -q or --json). A URL that is\n"
          "given but empty, or a SQLite URL without a file (sqlite:///), is an error.\n"
          "Exit codes: 0 ok, 1 failed, 2 usage or configuration, 3 pending/problems/drift/difference\n"
          "(status/validate/schema --check/diff --exit-code), 4 connect or lock; 128+N: check stopped by\n"
          "signal N (test: 130).\n",
          f);
}

/* --------------------------------------------------------------- parsing */

/* the longest wait an option may ask for: 11.5 days */
enum { MAX_SECONDS = 1000000 };

typedef struct parsed {
    const command *cmd;
    const char *cmdname; /* as given (also "help" and unknown names) */
    char bad[300];       /* the first usage error, or "" */
    const char *hint;    /* its hint when a peer's habit explains it, or NULL */
    char *joined[16];    /* CMDOPT_LIST values joined here (freed at the end) */
    int njoined;
    /* options kept in cli_state given before the command name: checked
       against the command once it is known */
    const cmdopt *early[64];
    int nearly;
} parsed;

static const command *find_command(const char *name)
{
    for (int i = 0; commands[i]; i++)
        if (!strcmp(commands[i]->name, name) || (commands[i]->alias && !strcmp(commands[i]->alias, name)))
            return commands[i];
    return NULL;
}

static int is_negative_number(const char *s)
{
    if (s[0] != '-' || !s[1])
        return 0;
    for (s++; *s; s++)
        if (!isdigit((unsigned char)*s))
            return 0;
    return 1;
}

static const cmdopt *find_opt(const cmdopt *opts, const char *name)
{
    for (const cmdopt *o = opts; o && o->name; o++)
        if (!strcmp(o->name, name) || (o->alias && !strcmp(o->alias, name)))
            return o;
    return NULL;
}

/* 1 when o is kept in cli_state: an option several commands share. */
static int is_shared(const cmdopt *o)
{
    uintptr_t p = (uintptr_t)o->dst, base = (uintptr_t)&cli_state;
    return p >= base && p < base + sizeof(cli_state);
}

/* A shared option of any command named name (they all store it in the same
   field), or NULL. */
static const cmdopt *find_shared(const char *name)
{
    for (int i = 0; commands[i]; i++) {
        const cmdopt *o = find_opt(commands[i]->options, name);
        if (o && is_shared(o))
            return o;
    }
    return NULL;
}

/* Whether cmd's table takes the shared option o (the same field). */
static int takes(const command *cmd, const cmdopt *o)
{
    for (const cmdopt *x = cmd->options; x && x->name; x++)
        if (x->dst == o->dst)
            return 1;
    return 0;
}

#define BAD(p, ...)                                            \
    do {                                                       \
        if (!(p)->bad[0])                                      \
            snprintf((p)->bad, sizeof((p)->bad), __VA_ARGS__); \
    } while (0)

/* Stores the value of option o (val: from --name=value or the next
   argument; NULL for a flag without one). */
static void set_opt(parsed *p, const cmdopt *o, const char *name, const char *val)
{
    if (o->type == CMDOPT_FLAG) {
        if (val)
            BAD(p, "option '%s' takes no value", name);
        *(int *)o->dst = 1;
        return;
    }
    if (!val) {
        BAD(p, "option '%s' needs a value", name);
        return;
    }
    if (o->type == CMDOPT_LIST && *(const char **)o->dst) {
        const char *was = *(const char **)o->dst;
        size_t n = strlen(was) + strlen(val) + 2;
        char *j = p->njoined < (int)(sizeof(p->joined) / sizeof(*p->joined)) ? malloc(n) : NULL;
        if (!j) {
            BAD(p, "option '%s' is given too often", name);
            return;
        }
        snprintf(j, n, "%s,%s", was, val);
        p->joined[p->njoined++] = j;
        *(const char **)o->dst = j;
        return;
    }
    if (o->type == CMDOPT_STR || o->type == CMDOPT_LIST) {
        /* --url "" has its own error (no database nobody named) */
        if (!*val && (is_shared(o) || o->type == CMDOPT_LIST) && o->dst != (void *)&cli_state.url)
            BAD(p, "option '%s' needs a value, not an empty string", name);
        *(const char **)o->dst = val;
        return;
    }
    /* plain decimals only: strtod would also take 0x10, 1e3 and " 5"
       (a second '.' is left over by strtod, reported below) */
    const char *num = val + (val[0] == '-');
    char *end;
    double d = strtod(val, &end);
    if (num[strspn(num, "0123456789.")])
        end = (char *)val; /* not a plain decimal */
    if (o->type == CMDOPT_SECS) {
        /* nan would time out at once, inf or 1e999 wait forever */
        if (*end || end == val || !isfinite(d) || d < 0 || d > MAX_SECONDS) {
            BAD(p, "option '%s' needs a number of seconds from 0 to %d, not '%s'", name, MAX_SECONDS, val);
            d = 0;
        }
    } else if (*end || end == val || !isfinite(d)) {
        BAD(p, "option '%s' needs a finite number, not '%s'", name, val);
        d = 0;
    }
    *(double *)o->dst = d;
}

/* -qv: short flags of the global table together; 0 when a is not that. */
static int short_flags(const char *a)
{
    if (a[0] != '-' || a[1] == '-' || !a[1] || !a[2])
        return 0;
    for (const char *f = a + 1; *f; f++) {
        char one[3] = {'-', *f, 0};
        const cmdopt *o = find_opt(global_options, one);
        if (!o || o->type != CMDOPT_FLAG)
            return 0;
    }
    for (const char *f = a + 1; *f; f++) {
        char one[3] = {'-', *f, 0};
        *(int *)find_opt(global_options, one)->dst = 1;
    }
    return 1;
}

/*
 * Options users bring from the tools strata replaces, and what strata
 * calls them: the hint of the "unknown option" error.
 */
static const struct habit {
    const char *option, *command; /* command NULL: any */
    const char *hint;
} habits[] = {
    {"--sql", "up",
     "Alembic's offline --sql is 'strata sql' (prints the SQL without connecting); "
     "'strata up --dry-run' connects read-only and prints what would run"},
    {"--sql", "down",
     "Alembic's offline --sql is 'strata sql --down' (prints the SQL without connecting); "
     "'strata down --dry-run' connects read-only and prints what would run"},
    {"-r", "history",
     "Alembic's history range: 'strata history' lists every applied migration (with --json to filter); "
     "'strata status' shows applied and pending"},
    {"--rev-range", "history",
     "Alembic's history range: 'strata history' lists every applied migration (with --json to filter); "
     "'strata status' shows applied and pending"},
    {"-i", "history", "'strata status' marks where the database is (Alembic's --indicate-current)"},
    {"--indicate-current", "history",
     "'strata status' marks where the database is (Alembic's --indicate-current)"},
    {"--wait", NULL, "dbmate's --wait is 'strata wait' (then run the command)"},
    {"--autogenerate", NULL,
     "'strata diff --to FILE.sql -m NAME' writes a migration from the schema you want"},
};

/* And the commands: the hint of the "unknown command" error. */
static const struct habit_cmd {
    const char *name, *hint;
} habit_cmds[] = {
    {"rollback", "dbmate's rollback is 'strata down' (one step; -N, a version, base)"},
    {"migrate", "apply pending migrations with 'strata up' (alias upgrade)"},
    {"dump", "dbmate's dump is 'strata schema -o FILE' (and --check FILE to compare)"},
    {"load", "strata builds a database from its migrations ('strata up'); 'strata restore FILE' puts back a "
             "backup made by 'strata backup'"},
    {"heads", "strata's history has one head, its newest migration: 'strata status' lists what is pending"},
    {"branches", "strata's history has one head, ordered by version: there are no branches"},
    {"merge", "strata's history has one head, ordered by version: there is nothing to merge"},
    {"show",
     "'strata sql --from PREVIOUS --to VERSION' prints one migration's SQL; 'strata status' its state"},
    {"init", "strata needs no setup: 'strata new NAME' creates ./migrations and the first file"},
    {"info", "Flyway's info is 'strata status'"},
    {"baseline", "Flyway's baseline is 'strata stamp VERSION' (marks applied without running)"},
    {"repair", "Flyway's repair is 'strata accept VERSION' (a deliberate edit of an applied migration)"},
    {"clean", "'strata reset' drops every object and applies the migrations again; 'strata drop' drops the "
              "database"},
    {"edit", "migrations are plain files: open ./migrations/*.sql in your editor"},
};

static const char *habit_cmd_hint(const char *name)
{
    for (size_t i = 0; i < sizeof(habit_cmds) / sizeof(*habit_cmds); i++)
        if (!strcmp(habit_cmds[i].name, name))
            return habit_cmds[i].hint;
    return NULL;
}

static const char *habit_hint(const char *option, const command *cmd)
{
    for (size_t i = 0; i < sizeof(habits) / sizeof(*habits); i++)
        if (!strcmp(habits[i].option, option) &&
            (!habits[i].command || (cmd && !strcmp(habits[i].command, cmd->name))))
            return habits[i].hint;
    return NULL;
}

/* name is the command (from a positional argument, or the one after "--"):
   p->cmd, or the unknown-command error in p->bad. */
static void set_command(parsed *p, const char *name)
{
    p->cmdname = name;
    p->cmd = find_command(name);
    /* after an unknown option (--ur URL) the "command" is likely its value:
       the option is the error to name */
    if (!p->cmd && strcmp(name, "help") != 0 && strncmp(p->bad, "unknown option", 14) != 0) {
        snprintf(p->bad, sizeof(p->bad), "unknown command '%s'", name);
        p->hint = habit_cmd_hint(name);
    }
}

/* Reads argv into cli_state and p. Errors do not stop it: the first is
   kept in p->bad (an unknown command name wins, unless an unknown option
   came first), for after --help. */
static void parse_args(int argc, char **argv, cli *c, parsed *p)
{
    for (int i = 1; i < argc; i++) {
        char *a = argv[i];
        if (!strcmp(a, "--")) {
            /* the end of the options: the command, if none came yet, then
               its arguments */
            if (!p->cmd && !p->cmdname && i + 1 < argc)
                set_command(p, argv[++i]);
            while (++i < argc)
                c->args[c->nargs++] = argv[i];
            break;
        }
        if (a[0] != '-' || !a[1] || is_negative_number(a)) {
            if (!p->cmd && !p->cmdname) {
                set_command(p, a);
            } else {
                c->args[c->nargs++] = a;
            }
            continue;
        }
        if (short_flags(a))
            continue;
        /* --name=value, or -Xvalue (a short option that takes a value,
           the value attached: -j4) */
        char name[64];
        const char *val = NULL;
        const char *eq = strchr(a, '=');
        char one[3] = {'-', a[1], 0};
        const cmdopt *so = NULL;
        if (a[1] != '-' && a[2]) {
            so = find_opt(global_options, one);
            if (!so && p->cmd)
                so = find_opt(p->cmd->options, one);
        }
        if (so && so->type != CMDOPT_FLAG) {
            memcpy(name, one, sizeof(one));
            val = a + 2;
        } else if (eq && (size_t)(eq - a) < sizeof(name)) {
            memcpy(name, a, (size_t)(eq - a));
            name[eq - a] = 0;
            val = eq + 1;
        } else {
            snprintf(name, sizeof(name), "%s", a);
        }
        const cmdopt *o = find_opt(global_options, name);
        if (!o && p->cmd)
            o = find_opt(p->cmd->options, name);
        if (!o) {
            const cmdopt *shared = find_shared(name);
            if (shared && p->cmd) {
                BAD(p, "option '%s' does not apply to '%s'", name, p->cmd->name);
                if (shared->type != CMDOPT_FLAG && !val)
                    i++; /* its value is not a positional argument */
                continue;
            }
            if (shared && p->nearly < (int)(sizeof(p->early) / sizeof(*p->early)))
                p->early[p->nearly++] = shared;
            o = shared;
        }
        if (!o) {
            if (!p->bad[0])
                p->hint = habit_hint(name, p->cmd);
            BAD(p, "unknown option '%s'", name);
            continue;
        }
        if (o->type != CMDOPT_FLAG && !val && i + 1 < argc)
            val = argv[++i];
        set_opt(p, o, name, val);
    }
}

/* -------------------------------------------------------------- dispatch */

static int dispatch(cli *c, const parsed *p)
{
    const command *cmd = p->cmd;
    c->cmd_name = cmd ? cmd->name : NULL;
    if (c->version) /* --version, -V: the version command, --json included */
        return cmd_version.run(c);
    if (p->cmdname && !strcmp(p->cmdname, "help")) {
        const command *h = c->nargs ? find_command(c->args[0]) : NULL;
        if (c->nargs && !h) {
            c->usage_hint = habit_cmd_hint(c->args[0]);
            return out_usage_error(c, "unknown command '%s'", c->args[0]);
        }
        if (h)
            cli_print_help(stdout, h);
        else
            print_global_help(stdout);
        return 0;
    }
    if (c->help && !p->bad[0]) {
        if (cmd)
            cli_print_help(stdout, cmd);
        else
            print_global_help(stdout);
        return 0;
    }
    if (p->bad[0]) {
        c->usage_hint = p->hint;
        return out_usage_error(c, "%s", p->bad);
    }
    if (!cmd) {
        /* no command: usage on stderr, like any usage error; with --json
           the error document a script reads */
        if (c->json)
            return out_usage_error(c, "no command given (strata --help lists them)");
        print_global_help(stderr);
        return 2;
    }
    for (int i = 0; i < p->nearly; i++)
        if (!takes(cmd, p->early[i]))
            return out_usage_error(c, "option '%s' does not apply to '%s'", p->early[i]->name, cmd->name);
    if (c->nargs < cmd->min_args || c->nargs > cmd->max_args) {
        c->usage_hint = cmd->args_hint;
        return out_usage_error(c, "'%s' takes %s argument%s", cmd->name,
                               cmd->min_args == cmd->max_args ? (cmd->max_args ? "one" : "no")
                                                              : "at most one",
                               cmd->max_args == 1 ? "" : "s");
    }
    return cmd->run(c);
}

/*
 * What was printed must have reached its file: a full disk or a closed
 * descriptor under `strata status --json > report.json` would otherwise
 * leave a truncated report behind an exit status of 0. A reader that went
 * away (EPIPE, with SIGPIPE ignored: `strata history | head -1`) is not an
 * error. The command itself already ran; the message says so.
 */
static int finish_output(const cli *c, int rc)
{
    errno = 0;
    if (fflush(stdout) == 0 && !ferror(stdout))
        return rc;
    if (errno == EPIPE || rc)
        return rc; /* a failed command has said what went wrong already */
    strata_error err;
    memset(&err, 0, sizeof(err));
    err.code = STRATA_IO_ERROR;
    snprintf(err.message, sizeof(err.message), "cannot write to standard output: %s",
             errno ? strerror(errno) : "write error");
    snprintf(err.hint, sizeof(err.hint), "the command itself ran to its end; only what it printed was lost");
    int out = out_error(c, &err);
    return rc ? rc : out;
}

/*
 * SIGINT and SIGTERM (Ctrl-C, a deploy's stop): the first asks the library
 * to stop (strata_interrupt: the server cancels the running statement, a
 * transaction rolls back, the run ends with INTERRUPTED and says so); a
 * second one, of either kind, kills as usual. A server that has not
 * answered the cancel STOP_GRACE seconds later -- a paused or full
 * PgBouncer holds the statement in its queue and does not pass the cancel
 * on, for up to its query_wait_timeout (120 s), longer than a deploy's stop
 * waits before its SIGKILL -- gets its connection closed
 * (strata_interrupt_force, from SIGALRM), so the run still ends with
 * INTERRUPTED and its message. SIGPIPE is ignored: a reader that goes away
 * (`strata up | head -1`) must not stop a run halfway. strata test installs
 * its own handler while its files run (cmd_test.c).
 */
static volatile sig_atomic_t got_signal;
static void on_stop(int sig)
{
    if (got_signal) { /* the second, of the other kind (SA_RESETHAND took the same) */
        signal(sig, SIG_DFL);
        raise(sig);
        return;
    }
    got_signal = sig;
    alarm(STOP_GRACE);
    strata_interrupt();
}
static void on_grace_over(int sig)
{
    (void)sig;
    strata_interrupt_force();
}
static void signals_init(void)
{
    strata_interrupt_init();
    struct sigaction sa;
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = on_grace_over;
    sa.sa_flags = SA_RESTART; /* the shut sockets end the waits that matter */
    sigemptyset(&sa.sa_mask);
    sigaction(SIGALRM, &sa, NULL);
    sa.sa_handler = on_stop;
    sa.sa_flags = SA_RESETHAND;
    /* also when SIGINT came ignored (a background job of a script): a
       `kill -INT` should still stop it, as it stops strata check */
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    signal(SIGPIPE, SIG_IGN);
    /* past a file size limit (ulimit -f) a write fails with EFBIG, which is
       reported (IO_ERROR, temporary files removed), instead of the signal
       killing strata without a word */
    signal(SIGXFSZ, SIG_IGN);
}

/* Descriptors 0-2 closed by the caller (`2>&-`, a daemon's child) would be
   taken by the first files and sockets strata opens, and a message for
   stderr would land in a database connection: each gets /dev/null. */
static void std_fds_init(void)
{
    for (int fd = 0; fd <= 2; fd++)
        if (fcntl(fd, F_GETFD) < 0 && errno == EBADF) {
            int n = open("/dev/null", fd ? O_WRONLY : O_RDONLY);
            if (n >= 0 && n != fd) { /* a lower one was free first: cannot happen, 0-2 taken in order */
                dup2(n, fd);
                close(n);
            }
        }
}

int main(int argc, char **argv)
{
    cli *c = &cli_state;
    parsed p;
    std_fds_init();
    strata_global_init(); /* a program may: see strata.h */
    memset(&p, 0, sizeof(p));
    c->lock_timeout = 60;
    c->connect_timeout = 30;
    c->args = calloc((size_t)argc + 1, sizeof(char *));
    if (!c->args)
        return 1;
    parse_args(argc, argv, c, &p);
    if (c->lock_timeout == 0)
        c->lock_timeout = STRATA_NO_WAIT; /* --lock-timeout 0: the library's 0 is its default */
    const char *nc = getenv("NO_COLOR"), *term = getenv("TERM");
    c->color = !c->no_color && !(nc && *nc) && !(term && !strcmp(term, "dumb")) && isatty(1) && !c->json;
    signals_init();
    int rc = dispatch(c, &p);
    for (int i = 0; i < p.njoined; i++)
        free(p.joined[i]);
    free(c->dry_sql);
    free(c->args);
    return finish_output(c, rc);
}
