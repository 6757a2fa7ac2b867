/* test_fuzz.c -- replays the fuzz seed corpus and every saved crash
   (fuzz/corpus/<target>, fuzz/regressions/<target>) through the fuzz targets,
   so that `make test` runs them under the sanitizers. Run from the repo root. */
#include "unit.h"
#include "../../fuzz/fuzz_targets.h"

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int replay_dir(const char *dir, int (*fn)(const uint8_t *, size_t))
{
    DIR *d = opendir(dir);
    int n = 0;
    if (!d)
        return -1;
    struct dirent *de;
    while ((de = readdir(d)) != NULL) {
        if (de->d_name[0] == '.')
            continue;
        char *path = path_join(dir, de->d_name);
        FILE *f = fopen(path, "rb");
        if (f) {
            uint8_t *data = malloc(1 << 20);
            size_t len = data ? fread(data, 1, 1 << 20, f) : 0;
            fclose(f);
            if (data) {
                fn(data, len);
                n++;
            }
            free(data);
        }
        free(path);
    }
    closedir(d);
    return n;
}

void test_fuzz(void)
{
    static const struct {
        const char *name;
        int (*fn)(const uint8_t *, size_t);
    } targets[] = {
        {"migfile", fuzz_migfile}, {"sqlsplit", fuzz_sqlsplit}, {"url", fuzz_url}, {"env", fuzz_env},
        {"copyvalue", fuzz_copyvalue}, {"copyexpr", fuzz_copyexpr},
    };
    for (size_t i = 0; i < sizeof(targets) / sizeof(targets[0]); i++) {
        char dir[256];
        snprintf(dir, sizeof(dir), "fuzz/corpus/%s", targets[i].name);
        int n = replay_dir(dir, targets[i].fn);
        if (n <= 0)
            fprintf(stderr, "test_fuzz: no seed corpus in %s (run from the repository root)\n", dir);
        CHECK(n > 0);
        snprintf(dir, sizeof(dir), "fuzz/regressions/%s", targets[i].name);
        replay_dir(dir, targets[i].fn); /* may not exist: no crash found yet */
        if (targets[i].fn == fuzz_migfile || targets[i].fn == fuzz_sqlsplit) {
            /* the sample migrations are seeds of the SQL targets (Makefile) */
            CHECK(replay_dir("examples/pos/migrations", targets[i].fn) > 0);
            CHECK(replay_dir("examples/payments/migrations", targets[i].fn) > 0);
        }
    }
}
