/* pqload.c -- see pqload.h. */
#include "pqload.h"

#include <dlfcn.h>
#include <pthread.h>
#include <stdio.h>

struct pq_api pq;
static pthread_once_t once = PTHREAD_ONCE_INIT;
static char load_error[512];

static void load(void)
{
    void *h = dlopen("libpq.so.5", RTLD_NOW | RTLD_LOCAL);
    if (!h) {
        const char *why = dlerror();
        snprintf(load_error, sizeof(load_error), "%s", why ? why : "libpq.so.5 not found");
        return;
    }
#define PQ_LOAD(f)                                                                   \
    if (!(*(void **)&pq.f = dlsym(h, #f))) {                                         \
        snprintf(load_error, sizeof(load_error), "libpq.so.5 has no symbol %s", #f); \
        return;                                                                      \
    }
    PQ_FUNCS(PQ_LOAD)
#undef PQ_LOAD
}

strata_code pq_load(strata_error *err)
{
    pthread_once(&once, load);
    if (!load_error[0])
        return STRATA_OK;
    err_set(err, STRATA_CONFIG_ERROR, "cannot load the PostgreSQL client library: %s", load_error);
    err_hint(err, "install libpq5 (Debian: apt-get install libpq5)");
    return STRATA_CONFIG_ERROR;
}
