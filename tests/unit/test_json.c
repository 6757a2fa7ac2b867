/* test_json.c -- the JSON writer of --json output (src/cli/json.c). */
#include "../../src/cli/cli.h"
#include "unit.h"

#include <stdlib.h>

static char *mem;
static size_t memlen;

static FILE *start(jw *w)
{
    free(mem);
    mem = NULL;
    FILE *f = open_memstream(&mem, &memlen);
    jw_init(w, f);
    return f;
}

void test_json(void)
{
    jw w;
    FILE *f = start(&w);
    /* commas between members and elements, ": " after keys, nesting */
    jw_obj(&w);
    jw_kstr(&w, "current", "0002");
    jw_key(&w, "applied");
    jw_arr(&w);
    jw_obj(&w);
    jw_kstr(&w, "version", "0001");
    jw_kint(&w, "duration_ms", 12);
    jw_obj_end(&w);
    jw_obj(&w);
    jw_kstr(&w, "version", NULL);
    jw_obj_end(&w);
    jw_arr_end(&w);
    jw_key(&w, "empty");
    jw_arr(&w);
    jw_arr_end(&w);
    jw_key(&w, "o");
    jw_obj(&w);
    jw_obj_end(&w);
    jw_kbool(&w, "ok", 1);
    jw_kbool(&w, "dry_run", 0);
    jw_key(&w, "seconds");
    jw_fixed(&w, 1.25, 3);
    jw_key(&w, "lint");
    jw_null(&w);
    jw_key(&w, "lines");
    jw_lines(&w, "a.b\nc\n");
    jw_obj_end(&w);
    jw_end(&w);
    /* a second document after jw_end starts afresh */
    jw_obj(&w);
    jw_kint(&w, "n", -3);
    jw_obj_end(&w);
    jw_end(&w);
    fclose(f);
    CHECK_STR(mem, "{\"current\": \"0002\", \"applied\": [{\"version\": \"0001\", \"duration_ms\": 12}, "
                   "{\"version\": null}], \"empty\": [], \"o\": {}, \"ok\": true, \"dry_run\": false, "
                   "\"seconds\": 1.250, \"lint\": null, \"lines\": [\"a.b\", \"c\"]}\n{\"n\": -3}\n");

    /* strings: the escaping of json_str (control characters, bad UTF-8) */
    f = start(&w);
    jw_arr(&w);
    jw_str(&w, "q\"b\\s\n\t\x01\x7f\xff\xc3\xa9");
    jw_str(&w, "");
    jw_arr_end(&w);
    fclose(f);
    CHECK_STR(mem, "[\"q\\\"b\\\\s\\n\\t\\u0001\\u007f\\ufffd\xc3\xa9\", \"\"]");
    free(mem);
    mem = NULL;
}
