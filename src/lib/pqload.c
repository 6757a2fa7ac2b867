/* pqload.c -- see pqload.h. */
#include "pqload.h"

#include <dlfcn.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>

struct pq_api pq;
static pthread_once_t once = PTHREAD_ONCE_INIT;
static char load_error[512];

/* The client key's passphrase is the URL's sslpassword, or none: libpq's
   default asks OpenSSL, which prompts on the terminal (a deploy hangs, and
   without one "Enter PEM pass phrase:" goes to stderr at every retry) */
static int key_pass(char *out, int size, PGconn *conn)
{
    int n = 0;
    out[0] = 0;
    PQconninfoOption *opts = pq.PQconninfo(conn);
    for (PQconninfoOption *o = opts; o && o->keyword; o++)
        if (!strcmp(o->keyword, "sslpassword") && o->val && size > 0) {
            snprintf(out, (size_t)size, "%s", o->val);
            n = (int)strlen(out);
            break;
        }
    pq.PQconninfoFree(opts);
    return n;
}

typedef int (*key_pass_fn)(char *, int, PGconn *);

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
    /* libpq 13 and newer; a program that set a hook of its own keeps it */
    key_pass_fn (*get)(void) = NULL;
    void (*set)(key_pass_fn) = NULL;
    *(void **)&get = dlsym(h, "PQgetSSLKeyPassHook_OpenSSL");
    *(void **)&set = dlsym(h, "PQsetSSLKeyPassHook_OpenSSL");
    if (get && set && !get())
        set(key_pass);
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
