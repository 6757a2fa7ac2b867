/*
 * main.c -- option parsing and the table of commands.
 *
 * Global options may stand before or after the command name. A lone "-N"
 * (digits) is a positional argument (down -1), not an option.
 */
#include "cli.h"

#include <ctype.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static const command *commands[] = {&cmd_new,     &cmd_up,      &cmd_down,       &cmd_redo,   &cmd_status,
                                    &cmd_current, &cmd_history, &cmd_validate,   &cmd_stamp,  &cmd_accept,
                                    &cmd_sql,     &cmd_test,    &cmd_lint,       &cmd_schema, &cmd_check,
                                    &cmd_diff,    &cmd_create,  &cmd_drop,       &cmd_wait,   &cmd_reset,
                                    &cmd_backup,  &cmd_restore, &cmd_copy,       &cmd_embed,  &cmd_import,
                                    &cmd_adopt,   &cmd_version, &cmd_completion, NULL};

const command *const *cli_commands(void)
{
    return commands;
}

static const char global_help[] =
    "usage: strata [global options] COMMAND [options] [args]\n"
    "\n"
    "Schema migrations for SQLite and PostgreSQL.\n"
    "\n"
    "Commands:\n"
    "%s"
    "\n"
    "Global options (before or after the command):\n"
    "  --url URL            database URL (postgresql://..., sqlite:///path.db)\n"
    "  --url-env NAME       environment variable holding the URL (default DATABASE_URL)\n"
    "  --env-file FILE      dotenv file to read it from (default .env.local, then .env)\n"
    "  --require-url        no embedded default: fail when no URL is given\n"
    "                       (also STRATA_REQUIRE_URL=1)\n"
    "  --dir DIR            migration directory (default $STRATA_DIR or ./migrations)\n"
    "  --table NAME         version table (default strata_migrations)\n"
    "  --lock-timeout SECS  how long to wait for the migration lock (default 60)\n"
    "  --connect-timeout SECS  up/down/redo/stamp: how long to retry a connection that fails\n"
    "                       for a passing reason (too many connections, server starting) (default 30)\n"
    "  --json               one JSON document on stdout; errors as JSON on stderr\n"
    "  -q, --quiet          print only errors\n"
    "  -v, --verbose        say more (URL used, statements' notices)\n"
    "  --no-color           no colors (also NO_COLOR)\n"
    "  -h, --help           help; 'strata COMMAND --help' for a command\n"
    "  -V, --version        print the version (also 'strata version')\n"
    "\n"
    "With no URL anywhere (no --url, --url-env or --env-file, DATABASE_URL unset\n"
    "and not in .env.local or .env), strata uses " STRATA_DEFAULT_URL ", and a\n"
    "command that writes says so on stderr (not with -q or --json). A URL that is\n"
    "given but empty, or a SQLite URL without a file (sqlite:///), is an error.\n"
    "Exit codes: 0 ok, 1 failed, 2 usage or configuration, 3 pending/problems, 4 connect or lock.\n";

static void print_global_help(FILE *f)
{
    char list[8192] = "";
    size_t n = 0;
    for (int i = 0; commands[i] && n < sizeof(list); i++) {
        char name[64];
        snprintf(name, sizeof(name), "%s%s%s", commands[i]->name, commands[i]->alias ? ", " : "",
                 commands[i]->alias ? commands[i]->alias : "");
        int w = snprintf(list + n, sizeof(list) - n, "  %-20s %s\n", name, commands[i]->summary);
        n += w > 0 ? (size_t)w : 0; /* the loop stops once the list is full */
    }
    fprintf(f, global_help, list);
}

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

enum { T_FLAG, T_STR, T_NUM };
/* the longest wait an option may ask for: 11.5 days */
enum { MAX_SECONDS = 1000000 };

typedef struct optdef {
    const char *name;
    int type;
    size_t off;
    unsigned cmdmask; /* 0 = global */
} optdef;

#define F(field) offsetof(cli, field)
static const optdef options[] = {
    {"--url", T_STR, F(url), 0},
    {"--url-env", T_STR, F(url_env), 0},
    {"--env-file", T_STR, F(env_file), 0},
    {"--require-url", T_FLAG, F(require_url), 0},
    {"--dir", T_STR, F(dir), 0},
    {"--table", T_STR, F(table), 0},
    {"--lock-timeout", T_NUM, F(lock_timeout), 0},
    {"--connect-timeout", T_NUM, F(connect_timeout), 0},
    {"--json", T_FLAG, F(json), 0},
    {"-q", T_FLAG, F(quiet), 0},
    {"--quiet", T_FLAG, F(quiet), 0},
    {"-v", T_FLAG, F(verbose), 0},
    {"--verbose", T_FLAG, F(verbose), 0},
    {"--dry-run", T_FLAG, F(dry_run), OPT_DRY_RUN},
    {"--single-transaction", T_FLAG, F(single_tx), OPT_SINGLE_TX},
    {"--ignore-checksums", T_FLAG, F(ignore_checksums), OPT_IGNORE},
    {"--ignore-missing", T_FLAG, F(ignore_missing), OPT_IGNORE},
    {"--allow-out-of-order", T_FLAG, F(allow_ooo), OPT_IGNORE},
    {"--retry-failed", T_FLAG, F(retry_failed), OPT_RETRY},
    {"--exit-code", T_FLAG, F(exit_code), OPT_EXIT_CODE},
    {"--timestamp", T_FLAG, F(timestamp), OPT_TIMESTAMP},
    {"--dialect", T_STR, F(dialect), OPT_SQL | OPT_DIALECT},
    {"--from", T_STR, F(from), OPT_SQL | OPT_FROM},
    {"--to", T_STR, F(to), OPT_SQL | OPT_TO},
    {"--down", T_FLAG, F(down), OPT_SQL},
    {NULL, 0, 0, 0},
};

const char *cli_option(size_t i, unsigned *cmdmask)
{
    static const char *const fixed[] = {"--help", "--version", "--no-color"};
    size_t n = sizeof(options) / sizeof(*options) - 1;
    *cmdmask = 0;
    if (i < n) {
        *cmdmask = options[i].cmdmask;
        return options[i].name;
    }
    i -= n;
    return i < sizeof(fixed) / sizeof(*fixed) ? fixed[i] : NULL;
}

int main(int argc, char **argv)
{
    cli c;
    memset(&c, 0, sizeof(c));
    c.lock_timeout = 60;
    c.connect_timeout = 30;
    const command *cmd = NULL;
    int help = 0, version = 0, no_color = 0, rc;
    char **pos = calloc((size_t)argc + 1, sizeof(char *));
    const char *bad = NULL, *cmdname = NULL;
    char badbuf[300];
    if (!pos)
        return 1;

    for (int i = 1; i < argc; i++) {
        char *a = argv[i];
        if (!strcmp(a, "--")) {
            while (++i < argc)
                pos[c.nargs++] = argv[i];
            break;
        }
        if (a[0] != '-' || !a[1] || is_negative_number(a)) {
            if (!cmd && !cmdname) {
                cmdname = a;
                cmd = find_command(a);
                if (!cmd && strcmp(a, "help") != 0) {
                    snprintf(badbuf, sizeof(badbuf), "unknown command '%s'", a);
                    bad = badbuf;
                }
            } else {
                pos[c.nargs++] = a;
            }
            continue;
        }
        if (a[0] == '-' && a[1] != '-' && a[2] && strspn(a + 1, "qvh") == strlen(a + 1)) {
            /* combined short flags: -qv */
            for (const char *f = a + 1; *f; f++) {
                if (*f == 'q')
                    c.quiet = 1;
                else if (*f == 'v')
                    c.verbose = 1;
                else
                    help = 1;
            }
            continue;
        }
        if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
            help = 1;
            continue;
        }
        if (!strcmp(a, "--version") || !strcmp(a, "-V")) {
            version = 1;
            continue;
        }
        if (!strcmp(a, "--no-color")) {
            no_color = 1;
            continue;
        }
        /* --name=value */
        char name[64];
        const char *val = NULL;
        const char *eq = strchr(a, '=');
        if (eq && (size_t)(eq - a) < sizeof(name)) {
            memcpy(name, a, (size_t)(eq - a));
            name[eq - a] = 0;
            val = eq + 1;
        } else {
            snprintf(name, sizeof(name), "%s", a);
        }
        const optdef *o = options;
        while (o->name && strcmp(o->name, name) != 0)
            o++;
        if (!o->name && cmd && cmd->options) {
            const cmdopt *co = cmd->options;
            while (co->name && strcmp(co->name, name) != 0)
                co++;
            if (co->name) {
                if (co->type == CMDOPT_FLAG) {
                    *(int *)co->dst = 1;
                    continue;
                }
                if (!val && i + 1 < argc)
                    val = argv[++i];
                if (!val) {
                    snprintf(badbuf, sizeof(badbuf), "option '%s' needs a value", name);
                    bad = bad ? bad : badbuf;
                } else if (co->type == CMDOPT_STR) {
                    *(const char **)co->dst = val;
                } else {
                    char *end;
                    double d = strtod(val, &end);
                    if (*end || end == val || !isfinite(d)) {
                        snprintf(badbuf, sizeof(badbuf), "option '%s' needs a finite number, not '%s'", name,
                                 val);
                        bad = bad ? bad : badbuf;
                        d = 0;
                    }
                    *(double *)co->dst = d;
                }
                continue;
            }
        }
        if (!o->name) {
            snprintf(badbuf, sizeof(badbuf), "unknown option '%s'", name);
            bad = bad ? bad : badbuf;
            continue;
        }
        if (o->cmdmask && cmd && !(cmd->opts & o->cmdmask)) {
            snprintf(badbuf, sizeof(badbuf), "option '%s' does not apply to '%s'", name, cmd->name);
            bad = bad ? bad : badbuf;
            continue;
        }
        char *base = (char *)&c;
        if (o->type == T_FLAG) {
            if (val) {
                snprintf(badbuf, sizeof(badbuf), "option '%s' takes no value", name);
                bad = bad ? bad : badbuf;
            }
            *(int *)(base + o->off) = 1;
            continue;
        }
        if (!val) {
            if (i + 1 >= argc) {
                snprintf(badbuf, sizeof(badbuf), "option '%s' needs a value", name);
                bad = bad ? bad : badbuf;
                continue;
            }
            val = argv[++i];
        }
        if (o->type == T_STR) {
            if (!*val && strcmp(name, "--url") != 0) {
                /* --url "" has its own error (no database nobody named) */
                snprintf(badbuf, sizeof(badbuf), "option '%s' needs a value, not an empty string", name);
                bad = bad ? bad : badbuf;
            }
            *(const char **)(base + o->off) = val;
        } else {
            char *end;
            double d = strtod(val, &end);
            /* nan would time out at once, inf or 1e999 wait forever */
            if (*end || end == val || !isfinite(d) || d < 0 || d > MAX_SECONDS) {
                snprintf(badbuf, sizeof(badbuf),
                         "option '%s' needs a number of seconds from 0 to %d, not '%s'", name, MAX_SECONDS,
                         val);
                bad = bad ? bad : badbuf;
                d = 0;
            }
            *(double *)(base + o->off) = d;
        }
    }
    c.args = pos;
    const char *nc = getenv("NO_COLOR");
    c.color = !no_color && !(nc && *nc) && isatty(1) && !c.json;

    if (version) {
        printf("strata %s\n", STRATA_VERSION);
        rc = 0;
        goto out;
    }
    if (cmdname && !strcmp(cmdname, "help")) {
        const command *h = c.nargs ? find_command(c.args[0]) : NULL;
        if (c.nargs && !h) {
            rc = out_usage_error(&c, "unknown command '%s'", c.args[0]);
            goto out;
        }
        if (h)
            fputs(h->usage, stdout);
        else
            print_global_help(stdout);
        rc = 0;
        goto out;
    }
    if (help && !bad) {
        if (cmd)
            fputs(cmd->usage, stdout);
        else
            print_global_help(stdout);
        rc = 0;
        goto out;
    }
    if (bad) {
        rc = out_usage_error(&c, "%s", bad);
        goto out;
    }
    if (!cmd) {
        /* no command: usage on stderr, like any usage error */
        print_global_help(stderr);
        rc = 2;
        goto out;
    }
    /* options given before the command name were not checked against it */
    for (const optdef *o = options; o->name; o++) {
        if (!o->cmdmask || (cmd->opts & o->cmdmask))
            continue;
        char *base = (char *)&c;
        if ((o->type == T_FLAG && *(int *)(base + o->off)) ||
            (o->type == T_STR && *(const char **)(base + o->off))) {
            rc = out_usage_error(&c, "option '%s' does not apply to '%s'", o->name, cmd->name);
            goto out;
        }
    }
    if (c.nargs < cmd->min_args || c.nargs > cmd->max_args) {
        rc = out_usage_error(&c, "'%s' takes %s argument%s; see 'strata %s --help'", cmd->name,
                             cmd->min_args == cmd->max_args ? (cmd->max_args ? "one" : "no") : "at most one",
                             cmd->max_args == 1 ? "" : "s", cmd->name);
        goto out;
    }
    rc = cmd->run(&c);
out:
    free(c.dry_sql);
    free(pos);
    return rc;
}
