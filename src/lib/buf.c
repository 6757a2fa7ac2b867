/* buf.c -- growing NUL-terminated byte buffer, growable arrays, small string
   helpers and the clock. */
#include "internal.h"

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

void buf_init(buf *b)
{
    memset(b, 0, sizeof(*b));
}

void buf_release(buf *b)
{
    free(b->data);
    buf_init(b);
}

static int grow(buf *b, size_t extra)
{
    if (b->oom)
        return -1;
    if (b->len + extra + 1 <= b->cap)
        return 0;
    size_t cap = b->cap ? b->cap : 64;
    while (cap < b->len + extra + 1)
        cap *= 2;
    char *p = realloc(b->data, cap);
    if (!p) {
        b->oom = 1;
        return -1;
    }
    b->data = p;
    b->cap = cap;
    return 0;
}

void buf_add(buf *b, const char *s, size_t n)
{
    if (grow(b, n))
        return;
    memcpy(b->data + b->len, s, n);
    b->len += n;
    b->data[b->len] = 0;
}

void buf_adds(buf *b, const char *s)
{
    buf_add(b, s, strlen(s));
}

void buf_addf(buf *b, const char *fmt, ...)
{
    va_list ap;
    char small[256];
    va_start(ap, fmt);
    int n = vsnprintf(small, sizeof(small), fmt, ap);
    va_end(ap);
    if (n < 0)
        return;
    if ((size_t)n < sizeof(small)) {
        buf_add(b, small, (size_t)n);
        return;
    }
    if (grow(b, (size_t)n))
        return;
    va_start(ap, fmt);
    vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap);
    va_end(ap);
    b->len += (size_t)n;
}

void buf_add_sqlstr(buf *b, const char *s)
{
    buf_add(b, "'", 1);
    for (; *s; s++) {
        if (*s == '\'')
            buf_add(b, "'", 1);
        buf_add(b, s, 1);
    }
    buf_add(b, "'", 1);
}

void buf_add_ident(buf *b, const char *s)
{
    buf_add(b, "\"", 1);
    for (; *s; s++) {
        if (*s == '.') {
            buf_adds(b, "\".\"");
            continue;
        }
        if (*s == '"')
            buf_add(b, "\"", 1);
        buf_add(b, s, 1);
    }
    buf_add(b, "\"", 1);
}

char *ident_dup(const char *s)
{
    buf b;
    buf_init(&b);
    buf_add_ident(&b, s);
    return buf_detach(&b);
}

char *buf_detach(buf *b)
{
    char *p = b->oom ? NULL : b->data;
    if (b->oom)
        free(b->data);
    else if (!p)
        p = xstrdup("");
    buf_init(b);
    return p;
}

char *xstrdup(const char *s)
{
    return s ? strdup(s) : NULL;
}

char *xstrndup(const char *s, size_t n)
{
    return s ? strndup(s, n) : NULL;
}

int version_cmp(const char *a, const char *b)
{
    while (*a == '0' && a[1])
        a++;
    while (*b == '0' && b[1])
        b++;
    /* the shorter first, else the first differing byte (as strcmp orders
       it): one pass, called thousands of times by every `up` */
    int first = 0;
    for (;; a++, b++) {
        if (!*a || !*b)
            return *a ? 1 : *b ? -1 : first;
        if (!first && *a != *b)
            first = (unsigned char)*a < (unsigned char)*b ? -1 : 1;
    }
}

/* ------------------------------------------------------------- clock */

double clock_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1000.0 + (double)ts.tv_nsec / 1e6;
}

/* ms scaled by a random factor in [0.5, 1). */
static double jitter_ms(double ms)
{
    static _Thread_local unsigned seed;
    if (!seed) {
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        seed = (unsigned)ts.tv_nsec ^ (unsigned)getpid() << 16 ^ (unsigned)(uintptr_t)&ts;
        seed |= 1;
    }
    return ms * (0.5 + 0.5 * (double)(rand_r(&seed) % 1000) / 1000.0);
}

void backoff_sleep(double *delay_ms, double factor, double max_ms, int jitter, double now, double deadline)
{
    double wait = jitter ? jitter_ms(*delay_ms) : *delay_ms;
    sleep_ms(wait < deadline - now ? wait : deadline - now);
    *delay_ms = *delay_ms * factor > max_ms ? max_ms : *delay_ms * factor;
}

void sleep_ms(double ms)
{
    if (ms <= 0)
        return;
    struct timespec ts = {(time_t)(ms / 1000.0), (long)((ms - (double)(long)(ms / 1000.0) * 1000.0) * 1e6)};
    /* again after a signal, unless it told strata to stop */
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR && !intr_requested())
        ;
}

const char *line_next(const char **p, size_t *n)
{
    const char *s = *p;
    if (!s || !*s)
        return NULL;
    const char *e = strchr(s, '\n');
    *n = e ? (size_t)(e - s) : strlen(s);
    *p = e ? e + 1 : s + *n;
    return s;
}

char *line_cut(char **p)
{
    const char *q = *p;
    size_t n;
    char *s = (char *)line_next(&q, &n);
    if (s) {
        *p = (char *)q;
        s[n] = 0;
    }
    return s;
}

int arr_grow(void *pp, size_t *cap, size_t need, size_t elsize)
{
    if (need <= *cap)
        return 0;
    size_t nc = *cap ? *cap : 8;
    while (nc < need) {
        if (nc > SIZE_MAX / 2)
            return -1;
        nc *= 2;
    }
    if (elsize && nc > SIZE_MAX / elsize)
        return -1;
    /* the caller's pointer is a T *, read and written as bytes: no T ** to
       void ** cast, which strict aliasing would not allow */
    void *p;
    memcpy(&p, pp, sizeof(p));
    void *np = realloc(p, nc * elsize);
    if (!np)
        return -1;
    memcpy(pp, &np, sizeof(np));
    *cap = nc;
    return 0;
}

int fd_write_all(int fd, const void *p, size_t n)
{
    const char *c = p;
    while (n) {
        ssize_t w = write(fd, c, n);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0) {
            if (w == 0)
                errno = EIO;
            return -1;
        }
        c += w;
        n -= (size_t)w;
    }
    return 0;
}

int mkdir_p(const char *dir, unsigned mode, char *failed, size_t failedsz)
{
    char p[4096];
    if (snprintf(p, sizeof(p), "%s", dir) >= (int)sizeof(p)) {
        errno = ENAMETOOLONG;
        return -1;
    }
    for (char *q = p + (p[0] != 0);; q++) { /* "" stops at once: mkdir fails, ENOENT */
        if (*q && *q != '/')
            continue;
        char c = *q;
        *q = 0;
        if (mkdir(p, (mode_t)mode) < 0 && errno != EEXIST) {
            if (failed)
                snprintf(failed, failedsz, "%s", p);
            return -1;
        }
        if (!c)
            return 0;
        *q = c;
    }
}
