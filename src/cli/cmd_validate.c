/* cmd_validate.c -- strata validate */
#include "cli.h"

static int run(cli *c)
{
    strata *db = NULL;
    strata_migset *set = NULL;
    strata_problems *p = NULL;
    strata_error err = {0};
    int rc = 0;
    if (cli_open(c, 1, &db, &set, &err) == 0 && strata_validate(db, set, &p, &err) == STRATA_OK) {
        if (c->json) {
            jw w;
            jw_init(&w, stdout);
            jw_obj(&w);
            jw_kbool(&w, "ok", !p->count);
            jw_key(&w, "problems");
            jw_arr(&w);
            for (size_t i = 0; i < p->count; i++) {
                const strata_problem *x = &p->items[i];
                jw_obj(&w);
                jw_kstr(&w, "code", strata_code_name(x->code));
                jw_kstr(&w, "version", x->version);
                jw_kstr(&w, "detail", x->detail);
                if (x->file && x->file[0]) {
                    jw_kstr(&w, "file", x->file);
                    if (x->line)
                        jw_kint(&w, "line", x->line);
                }
                jw_obj_end(&w);
            }
            jw_arr_end(&w);
            jw_obj_end(&w);
            jw_end(&w);
        } else {
            for (size_t i = 0; i < p->count; i++) {
                const strata_problem *x = &p->items[i];
                if (x->line)
                    printf("%s:%d: ", term_str(x->file), x->line);
                printf("%s: %s\n", strata_code_name(x->code), term_str(x->detail));
            }
            if (!p->count && !c->quiet)
                printf("ok: %zu migration%s, no problems\n", strata_migset_count(set),
                       strata_migset_count(set) == 1 ? "" : "s");
        }
        rc = p->count ? 3 : 0;
    }
    if (err.code)
        rc = out_error(c, &err);
    strata_problems_free(p);
    strata_close(db);
    strata_migset_free(set);
    return rc;
}

const command cmd_validate = {
    .name = "validate",
    .run = run,
    .summary = "check files and checksums against the database",
    .usage = "usage: strata validate\n"
             "\n"
             "Parses every migration file and compares them with the database: parse\n"
             "errors, duplicate versions, modified applied migrations, missing files,\n"
             "out-of-order pending migrations and failed no-transaction runs.\n"
             "Exits 3 when it finds any. Connects read-only.\n",
};
