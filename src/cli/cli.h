/*
 * cli.h -- the strata command-line program. It is a client of strata.h
 * and nothing else: every command is one file with one entry in commands[].
 */
#ifndef STRATA_CLI_H
#define STRATA_CLI_H

#include "strata.h"
#include <stdio.h>

typedef struct cli {
    /* global options */
    const char *url, *url_env, *env_file, *dir, *table;
    int require_url, json, quiet, verbose, color;
    int help, version, no_color;
    double lock_timeout;
    double connect_timeout; /* writing commands retry passing connection failures this long */
    /* options several commands share (each lists them in its table) */
    int dry_run, single_tx, ignore_checksums, ignore_missing, allow_ooo, retry_failed;
    int exit_code, timestamp, down;
    const char *dialect, *from, *to;
    /* positional arguments after the command name */
    char **args;
    int nargs;
    /* SQL collected from dry-run events for --json */
    char *dry_sql;
    size_t dry_len, dry_cap;
    int said_default;       /* the embedded-default notice was printed */
    int said_url;           /* -v: the database line was printed */
    int use_cache;          /* cli_open loads through the checksum cache (up, status) */
    int read_times;         /* cli_open reads ahead the times too (STRATA_READ_TIMES: status) */
    const char *cmd_name;   /* the command being run (usage errors point at its --help) */
    const char *usage_hint; /* a usage error's hint instead of "see --help", or NULL */
} cli;

/*
 * An option, in the one table that both parses it and documents it: the
 * global table (main.c) and each command's own (every option the command
 * takes, those it shares with other commands included):
 *     {"--output", "-o", CMDOPT_STR, &opt_output, "FILE", "write it to FILE"},
 *   name   "--output"; alias: a short form ("-o") or NULL
 *   type   CMDOPT_FLAG: an int set to 1; CMDOPT_STR: a const char * (given
 *          twice, the last wins); CMDOPT_LIST: a const char *, a comma
 *          separated list that repeated options add to ("--rename a:b
 *          --rename c:d" is "a:b,c:d"); CMDOPT_NUM: a double (any finite
 *          number); CMDOPT_SECS: a double from 0 to 1000000 seconds
 *   dst    where the value goes: a static of the command's file, or a field
 *          of cli_state (options several commands share: the code they share
 *          reads them there, e.g. &cli_state.dry_run)
 *   arg    the value's name in the help ("FILE"); NULL for a flag
 *   help   its text in --help ('\n' starts another line, aligned); NULL: the
 *          option is accepted but not listed
 * A command's options follow its name (or use --name=value); options kept
 * in cli_state may also come before it.
 */
enum { CMDOPT_FLAG, CMDOPT_STR, CMDOPT_NUM, CMDOPT_SECS, CMDOPT_LIST };
typedef struct cmdopt {
    const char *name;
    const char *alias;
    int type;
    void *dst;
    const char *arg;
    const char *help;
} cmdopt;

/*
 * A command: one `const command cmd_<name>` per cmd_<name>.c, listed in
 * commands[] in main.c. Its --help is usage, then "Options:" made from
 * options, then notes.
 */
typedef struct command {
    const char *name;
    const char *alias;
    int (*run)(cli *c);
    int min_args, max_args; /* positional arguments after the name */
    const char *summary;    /* one line in 'strata --help' */
    const char *usage;      /* "usage: strata NAME ...\n\n" and what it does */
    const cmdopt *options;  /* NULL-name terminated; NULL: none */
    const char *notes;      /* after the options (may be NULL): "\n..." */
    const char *args_hint;  /* hint when the positional arguments do not fit (NULL: see --help) */
} command;

/* The command line being run (main.c); commands get it as their cli *c. */
extern cli cli_state;

/* Seconds a stop signal leaves the servers to answer strata's cancel before
   strata closes their connections (main.c installs the SIGALRM handler). */
#define STOP_GRACE 5

/* main.c: prints cmd's --help (usage, options, notes) to f. */
void cli_print_help(FILE *f, const command *cmd);

/* output.c: the only place that prints errors */
int out_error(const cli *c, const strata_error *err); /* prints, returns exit code */
/* The same, with one more string field (key: val) in the JSON form. */
int out_error_with(const cli *c, const strata_error *err, const char *key, const char *val);
int out_usage_error(const cli *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* A JSON string literal, or null; always valid UTF-8 JSON (output.c explains). */
void json_str(FILE *f, const char *s);
/* s with control characters and invalid UTF-8 shown as \xNN, for human
   output of names, paths and messages (returns s when it is clean). */
const char *term_str(const char *s);
const char *color(const cli *c, const char *code); /* ANSI escape, or "" */
/* A warning of the library on stderr ("strata: warning: ...", or one JSON
   object {"warning", "file", "line"} with --json); nothing with -q. */
void out_warning(const cli *c, const strata_problem *w);

/*
 * json.c: the writer of every --json document. Values and keys are written
 * in order; the writer puts the ", " between members and elements and the
 * ": " after a key, so that every document has one shape:
 *     jw w; jw_init(&w, stdout);
 *     jw_obj(&w); jw_kstr(&w, "current", v); jw_key(&w, "files"); jw_arr(&w);
 *     ... jw_arr_end(&w); jw_obj_end(&w); jw_end(&w);   -> {"current": "1", "files": [...]}\n
 * Strings are escaped by json_str (NULL is written null).
 */
#define JW_MAX_DEPTH 32
typedef struct jw {
    FILE *f;
    int depth;
    unsigned long filled; /* bit d-1: the object or array at depth d holds a value */
    int after_key;        /* a key was written: its value comes next */
} jw;
void jw_init(jw *w, FILE *f);
void jw_obj(jw *w); /* { */
void jw_obj_end(jw *w);
void jw_arr(jw *w); /* [ */
void jw_arr_end(jw *w);
void jw_key(jw *w, const char *key);
void jw_str(jw *w, const char *s); /* a string, or null for NULL */
void jw_int(jw *w, long long v);
void jw_fixed(jw *w, double v, int decimals); /* 1.250 for (1.25, 3) */
void jw_bool(jw *w, int b);
void jw_null(jw *w);
void jw_kstr(jw *w, const char *key, const char *s); /* key and value */
void jw_kint(jw *w, const char *key, long long v);
void jw_kbool(jw *w, const char *key, int b);
/* An array of the lines of text (a line longer than 1023 bytes is cut). */
void jw_lines(jw *w, const char *lines);
/* Ends the document with a newline; w is ready for the next one. */
void jw_end(jw *w);

/* common.c */
/* Makes room for `need` elements of `size` bytes in the array *pp of
   capacity *cap (grown by doubling); 0 on success, -1 when out of memory
   (*pp and *cap unchanged). */
int cli_grow(void *pp, size_t *cap, size_t need, size_t size);
/* Loads the migration directory and prints its warnings. */
strata_code cli_load(const cli *c, strata_migset **set, strata_error *err);
/* Resolves the URL, loads the directory (cli_load) and opens the database. */
int cli_open(cli *c, int readonly, strata **db, strata_migset **set, strata_error *err);
/* Where the checksum cache lives: $STRATA_CACHE_DIR ("" for none), else
   $XDG_CACHE_HOME/strata, else $HOME/.cache/strata when HOME exists (a
   HOME=/nonexistent is not created); NULL for none. */
const char *cli_cache_dir(void);
/* Resolves the URL (malloc'd into *url); says where from with -v. A command
   that will write (writing=1) says so once when it uses the embedded default
   (not with -q or --json). 0 or -1. */
int cli_url(cli *c, char **url, int writing, strata_error *err);
/* The library configuration of the command line: table, lock timeout, events. */
strata_config cli_config(cli *c, int readonly);
const char *cli_dir(const cli *c);
/* The largest file the command line reads (as the library: 64 MiB). */
#define CLI_FILE_MAX (64 << 20)
/* The whole regular file at path (a symlink to one is fine), NUL-terminated,
   *len bytes (malloc'd). NULL when it cannot be read, is not a regular file
   (a FIFO never blocks) or is larger than CLI_FILE_MAX: err says so, as
   "cannot read WHAT 'path': ..." (what may be NULL), and errno is set. */
/*
 * Replacing an output file whole (schema -o, embed -o): cli_replace_open
 * opens a temporary file beside the file path names -- beside the file a
 * symlink points at, which stays a symlink -- with the mode of the file it
 * replaces (a new one gets 0666 & ~umask); cli_replace_close closes it and,
 * when ok and every write went through, renames it over the file (1), else
 * removes it (0). Errors: IO_ERROR naming path.
 */
typedef struct cli_replace {
    FILE *f;
    char *tmp, *target;
} cli_replace;
int cli_replace_open(cli_replace *r, const char *path, strata_error *err);
int cli_replace_close(cli_replace *r, int ok, const char *path, strata_error *err);
char *cli_read_file(const char *what, const char *path, size_t *len, strata_error *err);
/* Prints a run's result (up/down/redo) in human or JSON form. */
void print_result(cli *c, const strata_result *r, int dry_run);
/* Prints what create or drop did to the database name of url: JSON
   {"database", "engine", KEY: changed}, else "KEY database 'name'" or
   "database 'name' NOTHING" (quiet: nothing). KEY is the verb: "created". */
void print_db_change(cli *c, const char *url, const char *name, const char *key, int changed,
                     const char *nothing);
/* running: strata_status_running's answer for e (-1: cannot tell); -1 for
   history, which does not ask */
void print_status_entry(const cli *c, const strata_status_entry *e, int show_state, int running);

/* cmd_lint.c: findings as `strata lint` prints them (check shares them) */
void print_lint_findings(const cli *c, const strata_lint_report *r);
void print_lint_findings_json(jw *w, const strata_lint_report *r);

extern const command cmd_new, cmd_up, cmd_down, cmd_redo, cmd_status, cmd_current, cmd_history, cmd_validate,
    cmd_stamp, cmd_sql, cmd_test, cmd_lint;
extern const command cmd_schema, cmd_check;
extern const command cmd_create, cmd_drop, cmd_wait, cmd_reset, cmd_backup, cmd_restore;
extern const command cmd_copy, cmd_embed, cmd_accept, cmd_version, cmd_completion;
extern const command cmd_adopt, cmd_import, cmd_diff;

/* main.c: the command table and the global options, NULL(-name) terminated
   (for completion). */
const command *const *cli_commands(void);
const cmdopt *cli_global_options(void);

#endif
