/* test_main.c -- runs every unit test; exit status 1 when a check failed. */
#include "unit.h"

#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int unit_checks;
int unit_failures;

static void fail_head(const char *file, int line)
{
    unit_failures++;
    fprintf(stderr, "%s:%d: FAILED: ", file, line);
}

void unit_check(const char *file, int line, int ok, const char *expr)
{
    unit_checks++;
    if (ok)
        return;
    fail_head(file, line);
    fprintf(stderr, "%s\n", expr);
}

void unit_check_int(const char *file, int line, long long a, long long b, const char *ea,
                    const char *eb)
{
    unit_checks++;
    if (a == b)
        return;
    fail_head(file, line);
    fprintf(stderr, "%s == %s\n    got:      %lld\n    expected: %lld\n", ea, eb, a, b);
}

void unit_check_str(const char *file, int line, const char *a, const char *b, const char *ea,
                    const char *eb)
{
    unit_checks++;
    if (a == b || (a && b && !strcmp(a, b)))
        return;
    fail_head(file, line);
    fprintf(stderr, "%s == %s\n    got:      %s%s%s\n    expected: %s%s%s\n", ea, eb,
            a ? "\"" : "", a ? a : "NULL", a ? "\"" : "", b ? "\"" : "", b ? b : "NULL",
            b ? "\"" : "");
}

void unit_check_has(const char *file, int line, const char *hay, const char *needle, int want,
                    const char *eh)
{
    unit_checks++;
    if (hay && (strstr(hay, needle) != NULL) == want)
        return;
    fail_head(file, line);
    fprintf(stderr, "%s %s \"%s\"\n    got: %s%s%s\n", eh, want ? "contains" : "lacks", needle,
            hay ? "\"" : "", hay ? hay : "NULL", hay ? "\"" : "");
}

char *tmpdir_new(void)
{
    char tmpl[] = "/tmp/strata-unit-XXXXXX";
    if (!mkdtemp(tmpl)) {
        perror("mkdtemp");
        abort();
    }
    return strdup(tmpl);
}

static int rm_one(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
    return remove(path);
}

void tmpdir_free(char *dir)
{
    if (!dir)
        return;
    if (!strncmp(dir, "/tmp/strata-unit-", 17))
        nftw(dir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
    free(dir);
}

char *path_join(const char *dir, const char *name)
{
    size_t n = strlen(dir) + strlen(name) + 2;
    char *p = malloc(n);
    if (!p)
        abort();
    snprintf(p, n, "%s/%s", dir, name);
    return p;
}

void write_file(const char *dir, const char *name, const char *text)
{
    char *p = path_join(dir, name);
    FILE *f = fopen(p, "wb");
    if (!f || fwrite(text, 1, strlen(text), f) != strlen(text) || fclose(f) != 0) {
        perror(p);
        abort();
    }
    free(p);
}

char *read_text(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    size_t cap = 4096, len = 0, n;
    char *s = malloc(cap);
    if (!s)
        abort();
    while ((n = fread(s + len, 1, cap - len - 1, f)) > 0) {
        len += n;
        if (len + 1 == cap && !(s = realloc(s, cap *= 2)))
            abort();
    }
    fclose(f);
    s[len] = 0;
    return s;
}

static const struct {
    const char *name;
    void (*fn)(void);
} tests[] = {
    {"sqlsplit", test_sqlsplit}, {"migfile", test_migfile}, {"migset", test_migset},
    {"version", test_version},   {"url", test_url},         {"env", test_env},
    {"sqlgen", test_sqlgen},     {"buf", test_buf},         {"fuzz", test_fuzz},
    {"arr", test_arr},
    {"lines", test_lines},
    {"lint", test_lint},
    {"schema", test_schema},
    {"ops", test_ops},
    {"copy", test_copy},
    {"import", test_import},
    {"json", test_json},
};

int main(int argc, char **argv)
{
    if (argc == 3 && !strcmp(argv[1], "--global-init-child"))
        return unit_global_init_child(argv[2]);
    for (size_t i = 0; i < sizeof(tests) / sizeof(tests[0]); i++) {
        int only = argc < 2;
        for (int a = 1; a < argc; a++)
            if (!strcmp(argv[a], tests[i].name))
                only = 1;
        if (!only)
            continue;
        int before = unit_failures, checks = unit_checks;
        tests[i].fn();
        printf("%-10s %4d checks, %d failed\n", tests[i].name, unit_checks - checks,
               unit_failures - before);
    }
    printf("%d checks, %d failed\n", unit_checks, unit_failures);
    return unit_failures ? 1 : 0;
}
