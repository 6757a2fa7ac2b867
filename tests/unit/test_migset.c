/* test_migset.c -- loading a migration directory. */
#include "internal.h"
#include "unit.h"

#include <fcntl.h>
#include <pthread.h>
#include <time.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static const char LF_TEXT[] = "-- strata:up\nCREATE TABLE t (id int);\n-- strata:down\nDROP TABLE t;\n";
static const char CRLF_TEXT[] =
    "-- strata:up\r\nCREATE TABLE t (id int);\r\n-- strata:down\r\nDROP TABLE t;\r\n";
/* printf -- '<LF_TEXT>' | sha256sum */
static const char LF_SHA256[] = "111d4177bd6c2cf6e32e5bc6949e04046b8dfeffea45772a254424ff1bc1c5f5";

static strata_migset *load(const char *dir, strata_code want)
{
    strata_migset *set = (strata_migset *)1;
    strata_error e;
    strata_code rc = strata_migset_load(dir, &set, &e);
    CHECK_INT(rc, want);
    if (rc != STRATA_OK)
        CHECK(set == NULL);
    return rc == STRATA_OK ? set : NULL;
}

static void ordering(void)
{
    char *d = tmpdir_new();
    write_file(d, "2_two.sql", LF_TEXT);
    write_file(d, "10_ten.sql", LF_TEXT);
    write_file(d, "0001_one.sql", LF_TEXT);
    write_file(d, "20150100000001000000_big.sql", LF_TEXT);
    write_file(d, "20150100000000999999_big0.sql", LF_TEXT);
    write_file(d, "0012_seed_admin_user.sql", LF_TEXT);
    write_file(d, "5.sql", LF_TEXT);
    write_file(d, "README.md", "not a migration");
    write_file(d, "notes.sql", "SELECT broken");
    write_file(d, "x0003_y.sql", "SELECT broken");
    write_file(d, "0003_y.sql.bak", "SELECT broken");
    write_file(d, "0004_z.txt", "SELECT broken");
    write_file(d, ".0006_hidden.sql", "SELECT broken");

    strata_migset *set = load(d, STRATA_OK);
    CHECK_INT(strata_migset_count(set), 7);
    CHECK_INT(strata_migset_problem_count(set), 0);
    /* visible .sql files that are not migrations are skipped with a warning */
    CHECK_INT(strata_migset_warning_count(set), 2);
    const strata_problem *w = strata_migset_warning(set, 0);
    CHECK(w != NULL);
    if (w) {
        CHECK_STR(w->detail, "skipping notes.sql: not a migration name (<digits>_<slug>.sql)");
        CHECK_INT(w->code, STRATA_OK);
    }
    w = strata_migset_warning(set, 1);
    CHECK(w && !strcmp(w->detail, "skipping x0003_y.sql: not a migration name (<digits>_<slug>.sql)"));
    CHECK(strata_migset_warning(set, 2) == NULL);
    static const char *const ids[] = {"0001_one", "2_two", "5", "10_ten", "0012_seed_admin_user",
                                      "20150100000000999999_big0", "20150100000001000000_big"};
    static const char *const versions[] = {"0001", "2", "5", "10", "0012", "20150100000000999999",
                                           "20150100000001000000"};
    static const char *const names[] = {"one", "two", "", "ten", "seed_admin_user", "big0", "big"};
    for (size_t i = 0; i < 7 && i < strata_migset_count(set); i++) {
        const strata_migration *m = strata_migset_get(set, i);
        CHECK_STR(m->id, ids[i]);
        CHECK_STR(m->version, versions[i]);
        CHECK_STR(m->name, names[i]);
        CHECK_STR(m->checksum, LF_SHA256);
        char fn[128];
        strcpy(fn, ids[i]);
        strcat(fn, ".sql");
        char *p = path_join(d, fn);
        CHECK_STR(m->path, p);
        free(p);
    }
    CHECK(strata_migset_get(set, 7) == NULL);
    CHECK(strata_migset_problem(set, 0) == NULL);

    /* by id, by version as written, by numeric value */
    const migration *m = migset_find(set, "0012_seed_admin_user");
    CHECK(m && !strcmp(m->version, "0012"));
    m = migset_find(set, "0012");
    CHECK(m && !strcmp(m->id, "0012_seed_admin_user"));
    m = migset_find(set, "12");
    CHECK(m && !strcmp(m->id, "0012_seed_admin_user"));
    m = migset_find(set, "00012");
    CHECK(m && !strcmp(m->id, "0012_seed_admin_user"));
    m = migset_find(set, "1");
    CHECK(m && !strcmp(m->id, "0001_one"));
    m = migset_find(set, "5");
    CHECK(m && !strcmp(m->id, "5"));
    m = migset_find(set, "20150100000001000000");
    CHECK(m && !strcmp(m->id, "20150100000001000000_big"));
    CHECK(migset_find(set, "13") == NULL);
    CHECK(migset_find(set, "seed_admin_user") == NULL);
    CHECK(migset_find(set, "0012_seed") == NULL);
    CHECK(migset_find(set, "") == NULL);
    CHECK(migset_find(set, "head") == NULL);

    strata_error e;
    CHECK_INT(strata_migset_check(set, &e), STRATA_OK);
    strata_migset_free(set);
    tmpdir_free(d);
}

static void checksums(void)
{
    char *d = tmpdir_new();
    char *lf = path_join(d, "lf"), *crlf = path_join(d, "crlf");
    mkdir(lf, 0755);
    mkdir(crlf, 0755);
    write_file(lf, "0001_a.sql", LF_TEXT);
    write_file(crlf, "0001_a.sql", CRLF_TEXT);
    strata_migset *a = load(lf, STRATA_OK), *b = load(crlf, STRATA_OK);
    const strata_migration *ma = strata_migset_get(a, 0), *mb = strata_migset_get(b, 0);
    CHECK(ma && mb);
    if (ma && mb) {
        CHECK_STR(ma->checksum, LF_SHA256);
        CHECK_STR(mb->checksum, LF_SHA256);
    }
    /* the sections of the CRLF file have LF endings */
    const section *s = mig_section(&b->migs[0], SEC_DOWN, DIALECT_POSTGRES);
    CHECK(s && !strcmp(s->sql, "DROP TABLE t;\n"));
    char sum[65];
    checksum_text("", 0, sum);
    CHECK_STR(sum, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
    checksum_text(LF_TEXT, strlen(LF_TEXT), sum);
    CHECK_STR(sum, LF_SHA256);
    strata_migset_free(a);
    strata_migset_free(b);

    free(lf);
    free(crlf);
    tmpdir_free(d);
}

static void problems(void)
{
    char *d = tmpdir_new();
    strata_error e;

    /* duplicate versions */
    write_file(d, "0001_a.sql", LF_TEXT);
    write_file(d, "1_b.sql", LF_TEXT);
    strata_migset *set = load(d, STRATA_OK);
    CHECK_INT(strata_migset_count(set), 2);
    CHECK_INT(strata_migset_problem_count(set), 1);
    const strata_problem *p = strata_migset_problem(set, 0);
    CHECK(p != NULL);
    if (p) {
        CHECK_INT(p->code, STRATA_DUPLICATE_VERSION);
        CHECK_HAS(p->detail, "0001_a.sql");
        CHECK_HAS(p->detail, "1_b.sql");
    }
    CHECK_INT(set->migs[0].broken, 1);
    CHECK_INT(set->migs[1].broken, 1);
    CHECK_INT(strata_migset_check(set, &e), STRATA_DUPLICATE_VERSION);
    CHECK_INT(e.code, STRATA_DUPLICATE_VERSION);
    CHECK_HAS(e.hint, "renumber");
    strata_migset_free(set);
    tmpdir_free(d);

    /* the first problem becomes the error; good files still load */
    d = tmpdir_new();
    write_file(d, "0001_ok.sql", LF_TEXT);
    write_file(d, "0002_bad.sql", "-- strata:up\nCREATE TABLE b (id int);\nCOMMIT;\n");
    set = load(d, STRATA_OK);
    CHECK_INT(strata_migset_count(set), 2);
    CHECK_INT(strata_migset_problem_count(set), 1);
    CHECK_INT(set->migs[0].broken, 0);
    CHECK_INT(set->migs[1].broken, 1);
    CHECK_INT(strata_migset_check(set, &e), STRATA_PARSE_ERROR);
    CHECK_INT(e.code, STRATA_PARSE_ERROR);
    CHECK_INT(e.line, 3);
    char *bad = path_join(d, "0002_bad.sql");
    CHECK_STR(e.file, bad);
    free(bad);
    CHECK_HAS(e.message, "'COMMIT' statement in a transactional up section");
    strata_migset_free(set);

    /* a bad file name and a missing up section */
    write_file(d, "0003-dash.sql", LF_TEXT);
    set = load(d, STRATA_OK);
    CHECK_INT(strata_migset_count(set), 2);
    CHECK_INT(strata_migset_problem_count(set), 2);
    int saw_name = 0;
    for (size_t i = 0; i < strata_migset_problem_count(set); i++) {
        p = strata_migset_problem(set, i);
        CHECK_INT(p->code, STRATA_PARSE_ERROR);
        if (strstr(p->detail, "bad migration file name '0003-dash.sql'"))
            saw_name = 1;
    }
    CHECK(saw_name);
    strata_migset_free(set);
    tmpdir_free(d);

    d = tmpdir_new();
    write_file(d, "0001_noup.sql", "-- strata:down\nSELECT 1;\n");
    set = load(d, STRATA_OK);
    CHECK_INT(strata_migset_check(set, &e), STRATA_PARSE_ERROR);
    CHECK_HAS(e.message, "no '-- strata:up' section");
    CHECK_INT(e.line, 0); /* no line to point at: the message names the file */
    strata_migset_free(set);
    tmpdir_free(d);

    /* problems come in version order, whatever the directory order */
    d = tmpdir_new();
    write_file(d, "0003_c.sql", "-- strata:up\nCOMMIT;\n");
    write_file(d, "0010_j.sql", "-- strata:up\nEND;\n");
    write_file(d, "0001_a.sql", "-- strata:up\n\nBEGIN;\n");
    write_file(d, "0002_b.sql", "SELECT 1;\n");
    write_file(d, "2_dup.sql", LF_TEXT);
    set = load(d, STRATA_OK);
    CHECK_INT(strata_migset_count(set), 5);
    CHECK_INT(strata_migset_problem_count(set), 5);
    /* same version: by file name, so 0002_b.sql before the duplicate 2_dup.sql */
    static const char *const pv[] = {"0001", "0002", "2", "0003", "0010"};
    static const strata_code pc[] = {STRATA_PARSE_ERROR, STRATA_PARSE_ERROR,
                                     STRATA_DUPLICATE_VERSION, STRATA_PARSE_ERROR, STRATA_PARSE_ERROR};
    static const int pl[] = {3, 1, 0, 2, 2};
    for (size_t i = 0; i < 5 && i < strata_migset_problem_count(set); i++) {
        p = strata_migset_problem(set, i);
        CHECK_STR(p->version, pv[i]);
        CHECK_INT(p->code, pc[i]);
        CHECK_INT(p->line, pl[i]);
    }
    CHECK_INT(strata_migset_check(set, &e), STRATA_PARSE_ERROR);
    CHECK_HAS(e.message, "'BEGIN'");
    CHECK_INT(e.line, 3);
    strata_migset_free(set);
    tmpdir_free(d);

    /* an empty directory is fine */
    d = tmpdir_new();
    set = load(d, STRATA_OK);
    CHECK_INT(strata_migset_count(set), 0);
    CHECK_INT(strata_migset_check(set, &e), STRATA_OK);
    strata_migset_free(set);

    /* a missing directory, and a file where the directory should be */
    char *missing = path_join(d, "missing");
    strata_migset *out = (strata_migset *)1;
    CHECK_INT(strata_migset_load(missing, &out, &e), STRATA_DIR_NOT_FOUND);
    CHECK(out == NULL);
    CHECK_INT(e.code, STRATA_DIR_NOT_FOUND);
    CHECK_HAS(e.message, "cannot open migration directory");
    CHECK_HAS(e.message, missing);
    CHECK(e.hint[0] != 0);
    write_file(d, "file", "x");
    char *file = path_join(d, "file");
    CHECK_INT(strata_migset_load(file, &out, &e), STRATA_DIR_NOT_FOUND);
    CHECK_INT(strata_migset_load(missing, &out, NULL), STRATA_DIR_NOT_FOUND);
    free(file);
    free(missing);
    tmpdir_free(d);

    /* NULL-safe accessors */
    CHECK_INT(strata_migset_count(NULL), 0);
    CHECK_INT(strata_migset_problem_count(NULL), 0);
    CHECK(strata_migset_get(NULL, 0) == NULL);
    CHECK_INT(strata_migset_check(NULL, &e), STRATA_USAGE); /* required, as everywhere */
    strata_migset_free(NULL);
}

/* Only regular files are read; an up section with no statement is a warning. */
static void files_and_warnings(void)
{
    strata_error e;
    char *d = tmpdir_new();
    write_file(d, "0001_a.sql", LF_TEXT);
    write_file(d, "0002_todo.sql", "-- strata:up\n-- nothing yet\n\n-- strata:down\n");
    write_file(d, "0003_pg.sql", "-- strata:up dialect=postgres\nSELECT 1;\n-- strata:up\n");
    char *fifo = path_join(d, "0004_fifo.sql");
    CHECK(mkfifo(fifo, 0644) == 0);
    char *dir = path_join(d, "0005_dir.sql");
    CHECK(mkdir(dir, 0755) == 0);
    char *dev = path_join(d, "0006_dev.sql");
    CHECK(symlink("/dev/zero", dev) == 0);
    char *link = path_join(d, "0007_link.sql");
    CHECK(symlink("0001_a.sql", link) == 0);
    strata_migset *set = load(d, STRATA_OK);
    CHECK_INT(strata_migset_count(set), 7);
    CHECK_INT(strata_migset_problem_count(set), 3);
    const char *kinds[] = {"a FIFO", "a directory", "a character device"};
    for (size_t i = 0; i < 3 && i < strata_migset_problem_count(set); i++) {
        const strata_problem *p = strata_migset_problem(set, i);
        CHECK_INT(p->code, STRATA_FILE_NOT_REGULAR);
        CHECK_HAS(p->detail, kinds[i]);
        CHECK_HAS(p->detail, "not a regular file");
    }
    CHECK_INT(strata_migset_check(set, &e), STRATA_FILE_NOT_REGULAR);
    CHECK_HAS(e.message, "0004_fifo.sql");
    CHECK(e.hint[0] != 0);
    CHECK_STR(strata_migset_get(set, 6)->checksum, LF_SHA256); /* through the symlink */
    /* 0002 warns (its marker is line 1); 0003 has a statement for postgres */
    CHECK_INT(strata_migset_warning_count(set), 1);
    const strata_problem *w = strata_migset_warning(set, 0);
    CHECK(w && strstr(w->detail, "the up section has no statement") && w->line == 1 &&
          strstr(w->file, "0002_todo.sql") && !strcmp(w->version, "0002"));
    strata_migset_free(set);
    free(fifo);
    free(dir);
    free(dev);
    free(link);
    tmpdir_free(d);

    /* larger than 64 MiB (sparse) */
    d = tmpdir_new();
    char *big = path_join(d, "0001_big.sql");
    FILE *f = fopen(big, "w");
    CHECK(f && fseek(f, FILE_MAX_BYTES, SEEK_SET) == 0 && fputc('x', f) == 'x');
    if (f)
        fclose(f);
    set = load(d, STRATA_OK);
    CHECK_INT(strata_migset_check(set, &e), STRATA_FILE_TOO_LARGE);
    CHECK_HAS(e.message, "larger than 64 MiB");
    strata_migset_free(set);
    /* exactly the limit is read */
    CHECK(truncate(big, FILE_MAX_BYTES) == 0);
    char *text = NULL;
    size_t len = 0;
    const char *kind;
    CHECK_INT(read_regular_file(AT_FDCWD, big, &text, &len, &kind), READ_OK);
    CHECK(len == (size_t)FILE_MAX_BYTES);
    free(text);
    free(big);
    tmpdir_free(d);
    CHECK_INT(strata_migset_warning_count(NULL), 0);
    CHECK(strata_migset_warning(NULL, 0) == NULL);

    /* a control character in a name is refused; bytes that are not UTF-8 are not */
    const strata_migration_src v[] = {{"0003_a\x1b[31mred.sql", LF_TEXT, 0},
                                      {"0004_a\nb.sql", LF_TEXT, 0},
                                      {"0005_caf\xe9.sql", LF_TEXT, 0}};
    CHECK_INT(strata_migset_from_array(v, 3, &set, &e), STRATA_OK);
    CHECK_INT(strata_migset_count(set), 1);
    CHECK_INT(strata_migset_problem_count(set), 2);
    CHECK_INT(strata_migset_check(set, &e), STRATA_PARSE_ERROR);
    CHECK_HAS(e.message, "it holds a control character");
    strata_migset_free(set);
}

/* Migrations compiled into the program: the same set as from files. */
static void from_array(void)
{
    strata_error e;
    const strata_migration_src v[] = {
        {"migrations/0002_b.sql", CRLF_TEXT, 0},
        {"0001_a.sql", LF_TEXT, strlen(LF_TEXT)},
        {"README.md", "not a migration", 0},
        {"0003_nul.sql", "-- strata:up\0x", 14},
        {"0004_bad.sql", "CREATE TABLE no_marker (id int);\n", 0},
    };
    strata_migset *set = NULL;
    CHECK_INT(strata_migset_from_array(v, 5, &set, &e), STRATA_OK);
    if (!set)
        return;
    CHECK_INT(strata_migset_count(set), 4);
    const strata_migration *a = strata_migset_get(set, 0), *b = strata_migset_get(set, 1);
    CHECK(a && b);
    if (a && b) {
        CHECK_STR(a->id, "0001_a");
        CHECK_STR(a->checksum, LF_SHA256);
        CHECK_STR(b->id, "0002_b");
        CHECK_STR(b->checksum, LF_SHA256); /* CRLF folded, as from a file */
        CHECK_STR(b->path, "migrations/0002_b.sql");
    }
    const section *s = mig_section(&set->migs[1], SEC_DOWN, DIALECT_POSTGRES);
    CHECK(s && !strcmp(s->sql, "DROP TABLE t;\n"));
    /* a name that is not a migration, a NUL byte, a missing marker */
    CHECK_INT(strata_migset_problem_count(set), 3);
    CHECK_INT(strata_migset_check(set, &e), STRATA_PARSE_ERROR);
    int name = 0, nul = 0, marker = 0;
    for (size_t i = 0; i < strata_migset_problem_count(set); i++) {
        const strata_problem *p = strata_migset_problem(set, i);
        name |= strstr(p->detail, "bad migration file name 'README.md'") != NULL;
        nul |= strstr(p->detail, "NUL byte") != NULL;
        marker |= !strcmp(p->file, "0004_bad.sql");
    }
    CHECK(name && nul && marker);
    strata_migset_free(set);
    /* empty */
    CHECK_INT(strata_migset_from_array(NULL, 0, &set, &e), STRATA_OK);
    CHECK_INT(strata_migset_count(set), 0);
    CHECK_INT(strata_migset_check(set, &e), STRATA_OK);
    strata_migset_free(set);
}

static strata_migset *load_cached(const char *dir, const char *cache_dir)
{
    strata_migset_loader *l = NULL;
    strata_migset *set = NULL;
    strata_error e;
    CHECK_INT(strata_migset_load_start(dir, cache_dir, &l, &e), STRATA_OK);
    CHECK_INT(strata_migset_load_finish(l, &set, &e), STRATA_OK);
    return set;
}

static int lazy_count(const strata_migset *set)
{
    int n = 0;
    for (size_t i = 0; set && i < set->count; i++)
        n += set->migs[i].lazy;
    return n;
}

static void pause_ms(long ms)
{
    struct timespec t = {0, ms * 1000000L};
    nanosleep(&t, NULL);
}

/* The checksum cache: a file is taken from it only while its stat identity
   is the one it had when it was read, never when it changed since. */
static void checksum_cache(void)
{
    int64_t margin = migcache_margin_ns;
    migcache_margin_ns = 20 * 1000000LL; /* 20 ms instead of 10 s */
    char *d = tmpdir_new(), *c = tmpdir_new(), *cdir = path_join(c, "nested/strata");
    write_file(d, "1_a.sql", LF_TEXT);
    write_file(d, "2_b.sql", "-- strata:up\nCREATE TABLE b (id int);\n-- strata:down\nDROP TABLE b;\n");
    write_file(d, "3_empty.sql", "-- strata:up\n-- strata:down\n"); /* a warning: never cached */
    write_file(d, "4_bad.sql", "SELECT 1;\n");                      /* a problem: never cached */

    /* too young: read, and not kept */
    migcache_margin_ns = 60LL * 1000000000LL;
    strata_migset *set = load_cached(d, cdir);
    CHECK_INT(lazy_count(set), 0);
    strata_migset_free(set);
    set = load_cached(d, cdir);
    CHECK_INT(lazy_count(set), 0);
    strata_migset_free(set);
    migcache_margin_ns = 20 * 1000000LL;
    pause_ms(40);

    /* cold: everything read; warm: the two clean files are not */
    set = load_cached(d, cdir);
    CHECK_INT(lazy_count(set), 0);
    CHECK_STR(set->migs[0].checksum, LF_SHA256);
    char *b_sum = xstrdup(set->migs[1].checksum);
    strata_migset_free(set);
    set = load_cached(d, cdir);
    CHECK_INT(set->count, 4);
    CHECK_INT(lazy_count(set), 2);
    CHECK(set->migs[0].lazy && set->migs[1].lazy);
    CHECK_STR(strata_migset_get(set, 0)->checksum, LF_SHA256);
    CHECK_STR(strata_migset_get(set, 1)->checksum, b_sum);
    /* the same warnings and problems as without the cache */
    CHECK_INT(strata_migset_warning_count(set), 1);
    CHECK_INT(strata_migset_problem_count(set), 1);
    /* the SQL is read when asked for */
    const section *up = mig_section(&set->migs[1], SEC_UP, DIALECT_SQLITE);
    CHECK(up && strstr(up->sql, "CREATE TABLE b"));
    CHECK(!set->migs[1].lazy);
    CHECK_STR(strata_migset_get(set, 1)->checksum, b_sum);

    /* a file that changes after the load is refused when its SQL is read */
    write_file(d, "1_a.sql", "-- strata:up\nCREATE TABLE x (id int);\n-- strata:down\nDROP TABLE x;\n");
    strata_error e;
    CHECK_INT(mig_materialize(&set->migs[0], &e), STRATA_IO_ERROR);
    CHECK_HAS(e.message, "changed while strata was reading");
    CHECK(set->migs[0].broken && set->migs[0].nsecs == 0);
    CHECK(mig_section(&set->migs[0], SEC_UP, DIALECT_SQLITE) == NULL);
    strata_migset_free(set);

    /* an edit of the same size, even with the mtime put back, is seen (ctime) */
    set = load_cached(d, cdir); /* 1_a re-read: changed */
    CHECK(!set->migs[0].lazy && set->migs[1].lazy);
    CHECK(strcmp(set->migs[0].checksum, LF_SHA256) != 0);
    strata_migset_free(set);
    char *bp = path_join(d, "2_b.sql");
    struct stat st;
    CHECK(stat(bp, &st) == 0);
    write_file(d, "2_b.sql", "-- strata:up\nCREATE TABLE c (id int);\n-- strata:down\nDROP TABLE c;\n");
    struct timespec times[2] = {st.st_atim, st.st_mtim};
    CHECK(utimensat(AT_FDCWD, bp, times, 0) == 0);
    set = load_cached(d, cdir);
    CHECK(!set->migs[1].lazy);
    CHECK(strcmp(set->migs[1].checksum, b_sum) != 0);
    strata_migset_free(set);
    pause_ms(40);

    /* a directory listed from the cache (all its files clean): entries
       added, removed or renamed since are seen (its ctime moves) */
    char *d2 = tmpdir_new();
    write_file(d2, "1_a.sql", LF_TEXT);
    write_file(d2, "2_b.sql", LF_TEXT);
    pause_ms(40);
    set = load_cached(d2, cdir); /* recorded with the whole listing */
    strata_migset_free(set);
    set = load_cached(d2, cdir); /* listed from the cache */
    CHECK_INT(set->count, 2);
    CHECK_INT(lazy_count(set), 2);
    strata_migset_free(set);
    write_file(d2, "5_new.sql", LF_TEXT);
    set = load_cached(d2, cdir);
    CHECK_INT(set->count, 3);
    CHECK(set->count == 3 && !strcmp(set->migs[2].id, "5_new"));
    strata_migset_free(set);
    char *np = path_join(d2, "5_new.sql"), *np2 = path_join(d2, "6_renamed.sql");
    pause_ms(40);
    set = load_cached(d2, cdir);
    CHECK_INT(lazy_count(set), 2); /* 5_new was kept (and the listing) */
    strata_migset_free(set);
    set = load_cached(d2, cdir);
    CHECK_INT(lazy_count(set), 3);
    strata_migset_free(set);
    CHECK(rename(np, np2) == 0);
    set = load_cached(d2, cdir);
    CHECK_INT(set->count, 3);
    CHECK(set->count == 3 && !strcmp(set->migs[2].id, "6_renamed"));
    strata_migset_free(set);
    pause_ms(40);
    set = load_cached(d2, cdir);
    strata_migset_free(set);
    set = load_cached(d2, cdir);
    CHECK_INT(lazy_count(set), 3);
    strata_migset_free(set);
    CHECK(unlink(np2) == 0);
    write_file(d2, "notes.sql", "-- not a migration name\n");
    set = load_cached(d2, cdir);
    CHECK_INT(set->count, 2);
    CHECK_INT(strata_migset_warning_count(set), 1); /* notes.sql */
    strata_migset_free(set);
    free(np);
    free(np2);
    tmpdir_free(d2);

    /* a cache file others may write, or a damaged one, is not trusted */
    set = load_cached(d, cdir); /* cache the current files */
    strata_migset_free(set);
    set = load_cached(d, cdir);
    CHECK_INT(lazy_count(set), 2);
    strata_migset_free(set);
    char cpath[4200] = "";
    struct stat dst;
    CHECK(stat(d, &dst) == 0);
    snprintf(cpath, sizeof(cpath), "%s/migrations-%llx-%llx", cdir, (unsigned long long)dst.st_dev,
             (unsigned long long)dst.st_ino);
    CHECK(access(cpath, F_OK) == 0);
    CHECK(chmod(cpath, 0666) == 0);
    set = load_cached(d, cdir);
    CHECK_INT(lazy_count(set), 0);
    strata_migset_free(set);
    CHECK(chmod(cpath, 0600) == 0);
    set = load_cached(d, cdir);
    CHECK_INT(lazy_count(set), 2);
    strata_migset_free(set);
    int fd = open(cpath, O_RDWR);
    CHECK(fd >= 0);
    if (fd >= 0) {
        CHECK(pwrite(fd, "X", 1, 100) == 1);
        close(fd);
    }
    set = load_cached(d, cdir);
    CHECK_INT(lazy_count(set), 0);
    strata_migset_free(set);

    free(bp);
    free(b_sum);
    free(cdir);
    tmpdir_free(c);
    tmpdir_free(d);
    migcache_margin_ns = margin;
}

/* One set, loaded through the cache (its SQL read when first needed),
   shared by threads that each apply it to their own database: the header
   allows it. Before the lazy read took a lock, 6 of 8 threads failed
   ("has no up section") in 4 runs of 5. */
typedef struct {
    const strata_migset *set;
    strata_code rc;
    char msg[1024];
} share_arg;

static void *share_up(void *p)
{
    share_arg *a = p;
    strata *db = NULL;
    strata_error e;
    a->rc = strata_open("sqlite::memory:", NULL, &db, &e);
    if (!a->rc)
        a->rc = strata_up(db, a->set, NULL, NULL, &e);
    if (a->rc)
        snprintf(a->msg, sizeof(a->msg), "%s", e.message);
    strata_close(db);
    return NULL;
}

static void cache_shared_by_threads(void)
{
    int64_t margin = migcache_margin_ns;
    migcache_margin_ns = 0;
    char *d = tmpdir_new(), *c = tmpdir_new();
    for (int i = 1; i <= 40; i++) {
        char name[32], text[256];
        snprintf(name, sizeof(name), "%d_t%d.sql", i, i);
        snprintf(text, sizeof(text),
                 "-- strata:up\nCREATE TABLE t%d (id int);\nINSERT INTO t%d VALUES (%d);\n"
                 "-- strata:down\nDROP TABLE t%d;\n",
                 i, i, i, i);
        write_file(d, name, text);
    }
    for (int round = 0; round < 5; round++) {
        strata_migset *set = load_cached(d, c);
        CHECK(round == 0 || lazy_count(set) == 40);
        enum { N = 8 };
        share_arg a[N];
        pthread_t th[N];
        for (int i = 0; i < N; i++) {
            a[i].set = set;
            a[i].rc = STRATA_INTERNAL;
            a[i].msg[0] = 0;
            CHECK_INT(pthread_create(&th[i], NULL, share_up, &a[i]), 0);
        }
        int failed = 0;
        for (int i = 0; i < N; i++) {
            pthread_join(th[i], NULL);
            if (a[i].rc) {
                if (!failed)
                    fprintf(stderr, "  thread %d: %s\n", i, a[i].msg);
                failed++;
            }
        }
        CHECK_INT(failed, 0);
        CHECK_INT(lazy_count(set), 0);
        strata_migset_free(set);
    }
    migcache_margin_ns = margin;
    tmpdir_free(d);
    tmpdir_free(c);
}

void test_migset(void)
{
    ordering();
    checksums();
    problems();
    files_and_warnings();
    from_array();
    checksum_cache();
    cache_shared_by_threads();
}
