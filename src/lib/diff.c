/*
 * diff.c -- a line diff in unified style, for `strata schema --check` and
 * the failures of `strata check`.
 *
 * Common leading and trailing lines are set aside first; Myers' O(ND)
 * algorithm finds a shortest edit script for the rest. Its trace needs
 * O(D^2) memory, so beyond MAX_D differing lines the middle part is shown
 * as removed-then-added as a whole (still a correct, if longer, diff).
 */
#include "internal.h"

#include <stdlib.h>
#include <string.h>

#define MAX_D 2000

typedef struct tlines {
    const char **s;
    size_t *n;
    unsigned long *h;
    size_t count;
} tlines;

static void tl_free(tlines *t)
{
    free(t->s);
    free(t->n);
    free(t->h);
}

static int tl_split(const char *text, tlines *t)
{
    size_t cap = 1;
    memset(t, 0, sizeof(*t));
    for (const char *p = text; *p; p++)
        cap += *p == '\n';
    t->s = malloc(cap * sizeof(*t->s));
    t->n = malloc(cap * sizeof(*t->n));
    t->h = malloc(cap * sizeof(*t->h));
    if (!t->s || !t->n || !t->h)
        return -1;
    const char *p = text, *l;
    size_t len;
    while ((l = line_next(&p, &len)) != NULL) {
        unsigned long h = 5381;
        for (size_t i = 0; i < len; i++)
            h = h * 33 + (unsigned char)l[i];
        t->s[t->count] = l;
        t->n[t->count] = len;
        t->h[t->count] = h;
        t->count++;
    }
    return 0;
}

static int same(const tlines *a, size_t i, const tlines *b, size_t j)
{
    return a->h[i] == b->h[j] && a->n[i] == b->n[j] && !memcmp(a->s[i], b->s[j], a->n[i]);
}

typedef struct op {
    char kind;     /* ' ', '-', '+' */
    size_t ai, bi; /* line in a and in b (for '+', ai is where it goes; for '-', bi likewise) */
} op;

typedef struct ops {
    op *v;
    size_t n, cap;
    int oom;
} ops;

static void ops_add(ops *o, char kind, size_t ai, size_t bi)
{
    if (o->oom)
        return;
    if (ARR_GROW(o->v, o->cap, o->n + 1)) {
        o->oom = 1;
        return;
    }
    o->v[o->n].kind = kind;
    o->v[o->n].ai = ai;
    o->v[o->n].bi = bi;
    o->n++;
}

/*
 * Myers on a[p..p+N) and b[p..p+M): appends the middle's ops (in order) to o.
 * Returns -1 when the edit distance exceeds MAX_D or memory runs out.
 */
static int myers(const tlines *a, const tlines *b, size_t p, long N, long M, ops *o)
{
    long max = N + M;
    if (max > 2L * MAX_D + 2)
        max = 2L * MAX_D + 2;
    long off = max + 1;
    int *v = calloc((size_t)(2 * off + 1), sizeof(int));
    size_t snapcap = 1024, snaplen = 0;
    int *snap = malloc(snapcap * sizeof(int));
    size_t *snapoff = malloc((size_t)(MAX_D + 2) * sizeof(size_t));
    long found = -1;
    if (!v || !snap || !snapoff)
        goto out;
    v[off + 1] = 0;
    for (long d = 0; d <= max && d <= MAX_D; d++) {
        /* keep V[-d-1 .. d+1] as it was before round d */
        size_t need = (size_t)(2 * d + 3);
        if (ARR_GROW(snap, snapcap, snaplen + need))
            goto out;
        snapoff[d] = snaplen;
        memcpy(snap + snaplen, v + off - d - 1, need * sizeof(int));
        snaplen += need;
        for (long k = -d; k <= d; k += 2) {
            long x = (k == -d || (k != d && v[off + k - 1] < v[off + k + 1])) ? v[off + k + 1]
                                                                              : v[off + k - 1] + 1;
            long y = x - k;
            while (x < N && y < M && same(a, p + (size_t)x, b, p + (size_t)y))
                x++, y++;
            v[off + k] = (int)x;
            if (x >= N && y >= M) {
                found = d;
                break;
            }
        }
        if (found >= 0)
            break;
    }
    if (found < 0)
        goto out;
    /* walk back through the trace, collecting ops in reverse */
    size_t start = o->n;
    long x = N, y = M;
    for (long d = found; d >= 0; d--) {
        const int *vd = snap + snapoff[d] + d + 1; /* vd[k] for k in [-d-1, d+1] */
        long k = x - y, px = 0, py = 0;
        if (d > 0) {
            long pk = (k == -d || (k != d && vd[k - 1] < vd[k + 1])) ? k + 1 : k - 1;
            px = vd[pk];
            py = px - pk;
        }
        while (x > px && y > py) {
            ops_add(o, ' ', p + (size_t)(x - 1), p + (size_t)(y - 1));
            x--, y--;
        }
        if (d > 0) {
            if (x == px)
                ops_add(o, '+', p + (size_t)x, p + (size_t)(y - 1));
            else
                ops_add(o, '-', p + (size_t)(x - 1), p + (size_t)y);
        }
        x = px, y = py;
    }
    for (size_t i = start, j = o->n ? o->n - 1 : 0; i < j; i++, j--) {
        op t = o->v[i];
        o->v[i] = o->v[j];
        o->v[j] = t;
    }
out:
    free(v);
    free(snap);
    free(snapoff);
    return found < 0 || o->oom ? -1 : 0;
}

/* Within each run of changes, removals first, then additions. */
static void order_runs(ops *o)
{
    size_t i = 0;
    while (i < o->n) {
        if (o->v[i].kind == ' ') {
            i++;
            continue;
        }
        size_t j = i;
        while (j < o->n && o->v[j].kind != ' ')
            j++;
        size_t nd = 0;
        for (size_t k = i; k < j; k++)
            nd += o->v[k].kind == '-';
        op *tmp = malloc((j - i) * sizeof(op));
        if (tmp) {
            size_t di = 0, ii = nd;
            for (size_t k = i; k < j; k++)
                tmp[o->v[k].kind == '-' ? di++ : ii++] = o->v[k];
            memcpy(o->v + i, tmp, (j - i) * sizeof(op));
            free(tmp);
        }
        i = j;
    }
}

/* The object header (an unindented line) above a[i] in the same block. */
static void add_context_header(buf *out, const tlines *a, size_t i)
{
    while (i-- > 0) {
        if (a->n[i] == 0)
            return;
        if (a->s[i][0] != ' ') {
            buf_adds(out, " ");
            buf_add(out, a->s[i], a->n[i]);
            return;
        }
    }
}

size_t text_diff(const char *a_text, const char *b_text, const char *la, const char *lb, int context,
                 buf *out)
{
    tlines a = {0}, b = {0};
    ops o = {0};
    size_t changed = 0;
    if (tl_split(a_text ? a_text : "", &a) || tl_split(b_text ? b_text : "", &b)) {
        out->oom = 1;
        goto out;
    }
    size_t p = 0, s = 0;
    while (p < a.count && p < b.count && same(&a, p, &b, p))
        p++;
    while (s < a.count - p && s < b.count - p && same(&a, a.count - 1 - s, &b, b.count - 1 - s))
        s++;
    long N = (long)(a.count - p - s), M = (long)(b.count - p - s);
    if (N == 0 && M == 0)
        goto out;
    for (size_t i = 0; i < p; i++)
        ops_add(&o, ' ', i, i);
    if (myers(&a, &b, p, N, M, &o) < 0) {
        o.oom = 0;
        o.n = p;
        for (long i = 0; i < N; i++)
            ops_add(&o, '-', p + (size_t)i, p);
        for (long i = 0; i < M; i++)
            ops_add(&o, '+', p + (size_t)N, p + (size_t)i);
    }
    for (size_t i = 0; i < s; i++)
        ops_add(&o, ' ', p + (size_t)N + i, p + (size_t)M + i);
    if (o.oom) {
        out->oom = 1;
        goto out;
    }
    order_runs(&o);
    size_t ctx = context < 0 ? 0 : (size_t)context;
    buf_addf(out, "--- %s\n+++ %s\n", la, lb);
    size_t i = 0;
    while (i < o.n) {
        if (o.v[i].kind == ' ') {
            i++;
            continue;
        }
        /* a hunk: from ctx lines before this change to ctx lines after the
           last change that is at most 2*ctx unchanged lines from the next */
        size_t first = i >= ctx ? i - ctx : 0, last = i;
        for (size_t j = i; j < o.n; j++) {
            if (o.v[j].kind != ' ') {
                last = j;
                continue;
            }
            if (j - last > 2 * ctx)
                break;
        }
        size_t end = last + ctx + 1 < o.n ? last + ctx + 1 : o.n;
        size_t an = 0, bn = 0;
        for (size_t j = first; j < end; j++) {
            an += o.v[j].kind != '+';
            bn += o.v[j].kind != '-';
        }
        size_t as = o.v[first].ai, bs = o.v[first].bi;
        buf_addf(out, "@@ -%zu,%zu +%zu,%zu @@", an ? as + 1 : as, an, bn ? bs + 1 : bs, bn);
        add_context_header(out, &a, o.v[i].ai);
        buf_adds(out, "\n");
        for (size_t j = first; j < end; j++) {
            const op *x = &o.v[j];
            buf_add(out, &x->kind, 1);
            if (x->kind == '+')
                buf_add(out, b.s[x->bi], b.n[x->bi]);
            else
                buf_add(out, a.s[x->ai], a.n[x->ai]);
            buf_adds(out, "\n");
            changed += x->kind != ' ';
        }
        i = end;
    }
out:
    tl_free(&a);
    tl_free(&b);
    free(o.v);
    return changed;
}
