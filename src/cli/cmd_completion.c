/*
 * cmd_completion.c -- strata completion bash|zsh: a shell completion script
 * made from the command table and the option tables, so that it cannot
 * drift from what the program accepts. `make install` installs both.
 */
#include "cli.h"

#include <string.h>

/* Every command name and alias, space separated. */
static void command_words(void)
{
    const command *const *cmds = cli_commands();
    for (size_t i = 0; cmds[i]; i++) {
        printf("%s%s", i ? " " : "", cmds[i]->name);
        if (cmds[i]->alias)
            printf(" %s", cmds[i]->alias);
    }
}

/* The names and short forms of an option table, each after a space (not
   those left out of the help: accepted, but of no use to offer). */
static void option_words(const cmdopt *opts)
{
    for (const cmdopt *o = opts; o && o->name; o++) {
        if (!o->help)
            continue;
        printf(" %s", o->name);
        if (o->alias)
            printf(" %s", o->alias);
    }
}

/* The global options, space separated. */
static void global_words(void)
{
    const cmdopt *o = cli_global_options();
    printf("%s", o->name);
    option_words(o + 1);
}

/* The options of one command: its table. */
static void command_options(const command *c)
{
    option_words(c->options);
}

static void bash(void)
{
    const command *const *cmds = cli_commands();
    printf("# bash completion for strata, made by 'strata completion bash'\n"
           "_strata() {\n"
           "    local cur=${COMP_WORDS[COMP_CWORD]} cmd= i\n"
           "    for ((i = 1; i < COMP_CWORD; i++)); do\n"
           "        case ${COMP_WORDS[i]} in -*) ;; *) cmd=${COMP_WORDS[i]}; break ;; esac\n"
           "    done\n"
           "    local globals=\"");
    global_words();
    printf("\"\n    local words\n    case $cmd in\n");
    for (size_t i = 0; cmds[i]; i++) {
        printf("    %s%s%s) words=\"", cmds[i]->name, cmds[i]->alias ? "|" : "",
               cmds[i]->alias ? cmds[i]->alias : "");
        command_options(cmds[i]);
        printf(" $globals\" ;;\n");
    }
    printf("    '') words=\"");
    command_words();
    printf(" $globals\" ;;\n    *) words=$globals ;;\n    esac\n"
           "    COMPREPLY=($(compgen -W \"$words\" -- \"$cur\"))\n"
           "}\n"
           "complete -o default -F _strata strata\n");
}

static void zsh(void)
{
    const command *const *cmds = cli_commands();
    printf("#compdef strata\n# zsh completion for strata, made by 'strata completion zsh'\n"
           "_strata() {\n"
           "    local -a commands globals\n"
           "    commands=(\n");
    for (size_t i = 0; cmds[i]; i++) {
        const char *names[2] = {cmds[i]->name, cmds[i]->alias};
        for (int k = 0; k < 2 && names[k]; k++) {
            printf("        '%s:", names[k]);
            for (const char *p = cmds[i]->summary; *p; p++)
                printf(*p == '\'' ? "'\\''" : *p == ':' ? "\\:" : "%c", *p);
            printf("'\n");
        }
    }
    printf("    )\n    globals=(");
    global_words();
    printf(")\n"
           "    if (( CURRENT == 2 )); then\n"
           "        _describe 'command' commands\n"
           "        compadd -- $globals\n"
           "        return\n"
           "    fi\n"
           "    local -a opts\n"
           "    case ${words[2]} in\n");
    for (size_t i = 0; cmds[i]; i++) {
        printf("    %s%s%s) opts=(", cmds[i]->name, cmds[i]->alias ? "|" : "",
               cmds[i]->alias ? cmds[i]->alias : "");
        command_options(cmds[i]);
        printf(" ) ;;\n");
    }
    printf("    esac\n"
           "    compadd -- $opts $globals\n"
           "    _files\n"
           "}\n"
           "_strata \"$@\"\n");
}

static int run(cli *c)
{
    const char *shell = c->args[0];
    if (!strcmp(shell, "bash"))
        bash();
    else if (!strcmp(shell, "zsh"))
        zsh();
    else
        return out_usage_error(c, "completion for '%s' is not available (bash or zsh)", shell);
    return 0;
}

const command cmd_completion = {
    .name = "completion",
    .run = run,
    .min_args = 1,
    .max_args = 1,
    .summary = "print a shell completion script (bash or zsh)",
    .usage = "usage: strata completion bash|zsh\n"
             "\n"
             "Prints a completion script for the shell, made from strata's own command\n"
             "and option tables. 'make install' installs both; by hand:\n"
             "  source <(strata completion bash)\n"
             "  strata completion zsh > \"${fpath[1]}/_strata\"\n",
};
