/*
 * unit.h -- a tiny test framework for strata's unit tests.
 *
 * CHECK* macros count every check and every failure and print file:line and
 * the values on failure; a failing check does not stop the test. main() in
 * test_main.c runs every test function and exits 1 when anything failed.
 */
#ifndef STRATA_UNIT_H
#define STRATA_UNIT_H

#include <stddef.h>

extern int unit_checks;
extern int unit_failures;

void unit_check(const char *file, int line, int ok, const char *expr);
void unit_check_int(const char *file, int line, long long a, long long b, const char *ea,
                    const char *eb);
void unit_check_str(const char *file, int line, const char *a, const char *b, const char *ea,
                     const char *eb);
/* hay contains (want=1) or does not contain (want=0) needle; NULL hay fails. */
void unit_check_has(const char *file, int line, const char *hay, const char *needle, int want,
                    const char *eh);

#define CHECK(cond) unit_check(__FILE__, __LINE__, (cond) ? 1 : 0, #cond)
#define CHECK_INT(a, b) unit_check_int(__FILE__, __LINE__, (long long)(a), (long long)(b), #a, #b)
/* Equal strings; two NULLs are equal, NULL and a string are not. */
#define CHECK_STR(a, b) unit_check_str(__FILE__, __LINE__, (a), (b), #a, #b)
#define CHECK_HAS(hay, needle) unit_check_has(__FILE__, __LINE__, (hay), (needle), 1, #hay)
#define CHECK_LACKS(hay, needle) unit_check_has(__FILE__, __LINE__, (hay), (needle), 0, #hay)

/* ---- helpers (test_main.c) */
/* Creates a fresh directory under /tmp; returns a malloc'd path (aborts on failure). */
char *tmpdir_new(void);
/* Removes a directory tree (NULL-safe) and frees the path. */
void tmpdir_free(char *dir);
/* Writes text to dir/name (aborts on failure). */
void write_file(const char *dir, const char *name, const char *text);
/* Reads a whole file into a malloc'd string, or NULL. */
char *read_text(const char *path);
/* A malloc'd "dir/name". */
char *path_join(const char *dir, const char *name);

/* ---- the tests, one function per file */
void test_sqlsplit(void);
void test_migfile(void);
void test_migset(void);
void test_version(void);
void test_url(void);
void test_env(void);
void test_sqlgen(void);
void test_buf(void);
void test_arr(void);
void test_lines(void);
void test_fuzz(void);
void test_lint(void);
void test_schema(void);
void test_ops(void);
/* test_ops.c: the check run in a child process by test_global_init */
int unit_global_init_child(const char *mode);
void test_copy(void);
void test_import(void);
void test_json(void);

#endif
