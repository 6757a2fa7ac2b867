/* test_env.c -- dotenv syntax. */
#include "internal.h"
#include "unit.h"

#include <stdlib.h>

static void lookup_is(const char *file, int line, const char *path, const char *name,
                      const char *want)
{
    char *v = (char *)1;
    int rc = env_file_lookup(path, name, &v);
    unit_check_int(file, line, rc, 0, "env_file_lookup", "0");
    unit_check_str(file, line, v, want, name, want ? want : "NULL");
    free(v);
}
#define LOOKUP(path, name, want) lookup_is(__FILE__, __LINE__, path, name, want)

void test_env(void)
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
               "UNCLOSED=\"abc\n"
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
    LOOKUP(p, "UNCLOSED", "abc");
    LOOKUP(p, "NOEQ", NULL);
    LOOKUP(p, "URL", "sqlite:///x.db?mode=ro#frag");
    LOOKUP(p, "MISSING", NULL);
    LOOKUP(p, "DATABASE", NULL);
    free(p);

    /* a missing file is not an error: nothing found */
    p = path_join(d, "nope.env");
    LOOKUP(p, "DATABASE_URL", NULL);
    free(p);
    tmpdir_free(d);
}
