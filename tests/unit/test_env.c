/* test_env.c -- dotenv syntax (src/lib/env.c; the rules are in README.md). */
#include "internal.h"
#include "unit.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static void lookup_is(const char *file, int line, const char *path, const char *name,
                      const char *want)
{
    char *v = (char *)1;
    strata_error e = {0};
    strata_code rc = env_file_lookup(path, name, &v, &e);
    unit_check_int(file, line, rc, STRATA_OK, "env_file_lookup", "STRATA_OK");
    if (rc)
        unit_check_str(file, line, e.message, "", "message", "");
    unit_check_str(file, line, v, want, name, want ? want : "NULL");
    free(v);
}
#define LOOKUP(path, name, want) lookup_is(__FILE__, __LINE__, path, name, want)

/* text (of n bytes, -1: strlen) defines name as want (NULL: not defined) */
static void text_is(const char *file, int line, const char *text, long n, const char *name,
                    const char *want)
{
    char *v = (char *)1;
    strata_error e = {0};
    strata_code rc = env_text_lookup(text, n < 0 ? strlen(text) : (size_t)n, name, &v, "t.env", &e);
    unit_check_int(file, line, rc, STRATA_OK, text, "STRATA_OK");
    if (rc)
        unit_check_str(file, line, e.message, "", "message", "");
    unit_check_str(file, line, v, want, text, want ? want : "NULL");
    free(v);
}
#define TEXT(text, name, want) text_is(__FILE__, __LINE__, text, -1, name, want)

/* text is a syntax error at line want_line whose message has want_msg */
static void bad_is(const char *file, int line, const char *text, long n, int want_line,
                   const char *want_msg)
{
    char *v = (char *)1;
    strata_error e = {0};
    strata_code rc = env_text_lookup(text, n < 0 ? strlen(text) : (size_t)n, "DATABASE_URL", &v,
                                     "t.env", &e);
    unit_check_int(file, line, rc, STRATA_CONFIG_ERROR, text, "STRATA_CONFIG_ERROR");
    unit_check_int(file, line, e.code, STRATA_CONFIG_ERROR, "e.code", "STRATA_CONFIG_ERROR");
    unit_check_int(file, line, e.line, want_line, "e.line", "want_line");
    unit_check_str(file, line, e.file, "t.env", "e.file", "t.env");
    unit_check_has(file, line, e.message, want_msg, 1, "e.message");
    char where[32];
    snprintf(where, sizeof(where), "t.env:%d: ", want_line);
    unit_check_has(file, line, e.message, where, 1, "e.message");
    unit_check(file, line, e.hint[0] != 0, "a hint");
    unit_check(file, line, v == NULL, "no value on error");
    if (v != (char *)1)
        free(v);
}
#define BAD(text, want_line, want_msg) bad_is(__FILE__, __LINE__, text, -1, want_line, want_msg)

static void file_shapes(void)
{
    char *d = tmpdir_new();
    write_file(d, ".env",
               "# a comment line\n"
               "\n"
               "export DATABASE_URL=postgres://u:p@h/db\n"
               "SINGLE='single # not a comment \\n'\n"
               "DOUBLE=\"double \\\"q\\\" \\\\ a\\nb\" # comment\n"
               "BARE=bare value # comment\n"
               "HASH=bare#not-a-comment\n"
               "  SPACED  =   spaced value   \n"
               "export\tTAB=x\n"
               "DATABASE_URL_OLD=nope\n"
               "EMPTY=\n"
               "EMPTYQ=\"\"\n"
               "# COMMENTED=yes\n"
               "TWICE=1\n"
               "TWICE=2\n"
               "CRLF=windows\r\n"
               "NOEQ\n"
               "URL=sqlite:///x.db?mode=ro#frag\n");
    char *p = path_join(d, ".env");
    LOOKUP(p, "DATABASE_URL", "postgres://u:p@h/db");
    LOOKUP(p, "SINGLE", "single # not a comment \\n");
    LOOKUP(p, "DOUBLE", "double \"q\" \\ a\nb");
    LOOKUP(p, "BARE", "bare value");
    LOOKUP(p, "HASH", "bare#not-a-comment");
    LOOKUP(p, "SPACED", "spaced value");
    LOOKUP(p, "TAB", "x");
    LOOKUP(p, "DATABASE_URL_OLD", "nope");
    LOOKUP(p, "EMPTY", "");
    LOOKUP(p, "EMPTYQ", "");
    LOOKUP(p, "COMMENTED", NULL);
    LOOKUP(p, "TWICE", "2");
    LOOKUP(p, "CRLF", "windows");
    LOOKUP(p, "NOEQ", NULL);
    LOOKUP(p, "URL", "sqlite:///x.db?mode=ro#frag");
    LOOKUP(p, "MISSING", NULL);
    LOOKUP(p, "DATABASE", NULL);
    free(p);

    /* a missing file is not an error: nothing found */
    p = path_join(d, "nope.env");
    LOOKUP(p, "DATABASE_URL", NULL);
    free(p);

    /* a syntax error names the file and the line */
    write_file(d, "bad.env", "A=1\n\nDATABASE_URL=\"postgres://h/db\nB=2\n");
    p = path_join(d, "bad.env");
    char *v = (char *)1;
    strata_error e = {0};
    CHECK_INT(env_file_lookup(p, "A", &v, &e), STRATA_CONFIG_ERROR);
    CHECK(v == NULL);
    CHECK_INT(e.line, 3);
    CHECK_STR(e.file, p);
    CHECK_HAS(e.message, "bad.env:3: unterminated double-quoted value");
    free(p);

    /* a directory is not readable as a file */
    p = path_join(d, "dir.env");
    CHECK_INT(mkdir(p, 0700), 0);
    v = (char *)1;
    CHECK_INT(env_file_lookup(p, "A", &v, &e), STRATA_FILE_NOT_REGULAR);
    CHECK(v == NULL);
    CHECK_HAS(e.message, "dir.env");
    CHECK_HAS(e.message, "a directory");
    free(p);
    /* nor is a FIFO: refused at once, never waited on for a writer */
    p = path_join(d, "fifo.env");
    CHECK_INT(mkfifo(p, 0600), 0);
    v = (char *)1;
    CHECK_INT(env_file_lookup(p, "A", &v, &e), STRATA_FILE_NOT_REGULAR);
    CHECK(v == NULL);
    CHECK_HAS(e.message, "a FIFO");
    unlink(p);
    free(p);
    tmpdir_free(d);
}

static void text_shapes(void)
{
    /* a UTF-8 byte order mark does not hide the first variable */
    TEXT("\xef\xbb\xbf" "DATABASE_URL=sqlite:///bom.db\n", "DATABASE_URL", "sqlite:///bom.db");
    TEXT("\xef\xbb\xbf" "export DATABASE_URL=x\r\n", "DATABASE_URL", "x");
    TEXT("\xef\xbb\xbf", "DATABASE_URL", NULL);
    /* ... but only at the start of the file */
    BAD("A=1\n\xef\xbb\xbf" "B=2\n", 2, "expected NAME=VALUE");

    /* double quotes: escapes, and values across lines */
    TEXT("KEY=\"a\nb\"\n", "KEY", "a\nb");
    TEXT("KEY=\"line1\nline2\nline3\"\nNEXT=n\n", "NEXT", "n");
    TEXT("KEY=\"line1\r\nline2\"\r\n", "KEY", "line1\nline2");
    TEXT("KEY=\"t\\tn\\nr\\rq\\\"b\\\\s\\'\"", "KEY", "t\tn\nr\rq\"b\\s'");
    TEXT("KEY=\"keep \\x and \\$\"", "KEY", "keep \\x and \\$");
    TEXT("KEY=\"has # hash\" # comment", "KEY", "has # hash");
    TEXT("KEY=\"it's\"", "KEY", "it's");
    TEXT("KEY = \"spaced\"   ", "KEY", "spaced");
    TEXT("KEY=\"  inner blanks  \"", "KEY", "  inner blanks  ");
    TEXT("KEY=\"x\"#tight comment", "KEY", "x");
    TEXT("KEY=\"\"", "KEY", "");

    /* single quotes and backquotes: literal, across lines */
    TEXT("KEY='a\\nb'", "KEY", "a\\nb");
    TEXT("KEY='a\nb'\nX=1", "KEY", "a\nb");
    TEXT("KEY='say \"hi\"'", "KEY", "say \"hi\"");
    TEXT("KEY=`it's \"both\"`", "KEY", "it's \"both\"");
    TEXT("KEY=`a\nb`", "KEY", "a\nb");
    TEXT("KEY=''", "KEY", "");

    /* unquoted: trimmed, " #" starts a comment, quotes inside are literal */
    TEXT("KEY=  value with  blanks  \t", "KEY", "value with  blanks");
    TEXT("KEY=a#b", "KEY", "a#b");
    TEXT("KEY=a #b", "KEY", "a");
    TEXT("KEY=a\t#b", "KEY", "a");
    TEXT("KEY=#not a comment", "KEY", "#not a comment");
    TEXT("KEY= # a comment", "KEY", "");
    TEXT("KEY=it's", "KEY", "it's");
    TEXT("KEY=a\"b\"", "KEY", "a\"b\"");
    TEXT("KEY=", "KEY", "");
    TEXT("KEY=x", "KEY", "x"); /* no newline at the end */
    TEXT("KEY=postgresql://u:p%40ss@h:5432/db?sslmode=require", "KEY",
         "postgresql://u:p%40ss@h:5432/db?sslmode=require");

    /* names, export, comments, blank lines */
    TEXT("export KEY=1", "KEY", "1");
    TEXT("export   KEY  =  1", "KEY", "1");
    TEXT("export=1", "export", "1");
    TEXT("export", "export", NULL);
    TEXT("export = 1", "export", "1");
    TEXT("exported=1", "exported", "1");
    TEXT("exportKEY=1", "KEY", NULL);
    TEXT("my.dotted-name_2=v", "my.dotted-name_2", "v");
    TEXT("   # indented comment\n\t\n\r\nKEY=1\n", "KEY", "1");
    TEXT("#KEY=1\nKEY2=2", "KEY", NULL);
    TEXT("KEY", "KEY", NULL);
    TEXT("KEY # bare name, sets nothing", "KEY", NULL);
    TEXT("KEY=1\nKEY", "KEY", "1");
    TEXT("KEY=1\nKEY=\"2\"\nKEY='3'", "KEY", "3");
    TEXT("KEYX=1\nXKEY=2\nKEY_=3", "KEY", NULL);
    TEXT("key=lower", "KEY", NULL);
    TEXT("", "KEY", NULL);
    TEXT("\n\n\n", "KEY", NULL);

    /* syntax errors: file:line, and the value of no variable is used */
    BAD("A=1\nDATABASE_URL=\"postgres://h/db\nB=2\n", 2, "unterminated double-quoted value");
    BAD("DATABASE_URL='abc", 1, "unterminated single-quoted value");
    BAD("\n\nX=`abc\n\n", 3, "unterminated backquoted value");
    BAD("X=\"abc\\\"", 1, "unterminated double-quoted value");
    BAD("X=\"a\nb\"junk\n", 2, "unexpected text after the closing quote");
    BAD("X='a' b", 1, "unexpected text after the closing quote");
    BAD("A=1\nnot a variable\n", 2, "expected '=' after the variable name");
    BAD("KEY: value", 1, "expected '=' after the variable name");
    BAD("=value", 1, "expected NAME=VALUE");
    BAD("A=1\n\n  \"Q\"=1", 3, "expected NAME=VALUE");
}

static void binary_input(void)
{
    /* UTF-16 (Windows "echo > .env") and NUL bytes are refused, not misread */
    bad_is(__FILE__, __LINE__, "\xff\xfe" "D\0=\0", 6, 1, "UTF-16");
    bad_is(__FILE__, __LINE__, "\xfe\xff\0D\0=", 6, 1, "UTF-16");
    bad_is(__FILE__, __LINE__, "A=1\nB=x\0y\n", 10, 2, "NUL byte");
}

void test_env(void)
{
    file_shapes();
    text_shapes();
    binary_input();
}
