/*
 * schema.c -- strata_schema_dump (through the driver's schema_dump op),
 * strata_text_diff, and the object-level comparison `check` reports with.
 *
 * The text format (docs/schema.md): objects separated by blank lines; an
 * object is a header line ("table orders") followed by lines indented by two
 * spaces ("  column id bigint not null", "  index ix_a btree (a)"), with
 * definitions as "  | ..." lines.
 */
#include "internal.h"

#include <stdlib.h>
#include <string.h>

strata_code strata_schema_dump(strata *db, char **out, strata_error *err)
{
    if (!db || !out)
        return api_null(err, __func__, "db and out");
    buf b;
    *out = NULL;
    if (!db)
        return err_set(err, STRATA_USAGE, "no database");
    drv *d = db_driver(db);
    buf_init(&b);
    strata_code rc = d->ops->schema_dump(d, db_table(db), &b, err);
    if (rc) {
        buf_release(&b);
        return rc;
    }
    *out = b.data ? buf_detach(&b) : xstrdup("");
    if (!*out)
        return err_set(err, STRATA_NOMEM, "out of memory");
    return STRATA_OK;
}

strata_code strata_text_diff(const char *a, const char *b, const char *a_label, const char *b_label,
                             char **out, strata_error *err)
{
    if (!a || !b || !out)
        return api_null(err, __func__, "a, b and out");
    buf d;
    *out = NULL;
    buf_init(&d);
    size_t n = text_diff(a, b, a_label ? a_label : "a", b_label ? b_label : "b", 3, &d);
    if (d.oom) {
        buf_release(&d);
        return err_set(err, STRATA_NOMEM, "out of memory");
    }
    if (n)
        *out = buf_detach(&d);
    buf_release(&d);
    return STRATA_OK;
}

/* ------------------------------------------------------------ comparison */

typedef struct span {
    const char *s;
    size_t n;
} span;

typedef struct sobj {
    span hdr;
    span *body;
    size_t nbody, capbody;
} sobj;

typedef struct sobjs {
    sobj *v;
    size_t n, cap;
    int oom;
} sobjs;

static void sobjs_release(sobjs *o)
{
    for (size_t i = 0; i < o->n; i++)
        free(o->v[i].body);
    free(o->v);
}

static void parse_objs(const char *text, sobjs *o)
{
    memset(o, 0, sizeof(*o));
    const char *p = text;
    span l;
    while (!o->oom && (l.s = line_next(&p, &l.n)) != NULL) {
        if (l.n == 0)
            continue;
        if (l.s[0] != ' ' || o->n == 0) {
            if (ARR_GROW(o->v, o->cap, o->n + 1)) {
                o->oom = 1;
                break;
            }
            memset(&o->v[o->n], 0, sizeof(sobj));
            o->v[o->n++].hdr = l;
            if (l.s[0] != ' ')
                continue;
        }
        sobj *cur = &o->v[o->n - 1];
        if (ARR_GROW(cur->body, cur->capbody, cur->nbody + 1)) {
            o->oom = 1;
            break;
        }
        cur->body[cur->nbody++] = l;
    }
}

static int span_eq(span a, span b)
{
    return a.n == b.n && !memcmp(a.s, b.s, a.n);
}

static const sobj *find_obj(const sobjs *o, span hdr)
{
    for (size_t i = 0; i < o->n; i++)
        if (span_eq(o->v[i].hdr, hdr))
            return &o->v[i];
    return NULL;
}

/* The object's name in its header: "orders" in "table orders". */
static span hdr_name(span h)
{
    static const char *kinds[] = {"materialized view ",
                                  "unlogged table ",
                                  "foreign table ",
                                  "virtual table ",
                                  "table ",
                                  "view ",
                                  "enum ",
                                  "domain ",
                                  "type ",
                                  "range ",
                                  "sequence ",
                                  "function ",
                                  "procedure ",
                                  "aggregate ",
                                  "extension ",
                                  "schema ",
                                  NULL};
    for (int i = 0; kinds[i]; i++) {
        size_t k = strlen(kinds[i]);
        if (h.n > k && !strncmp(h.s, kinds[i], k)) {
            span r = {h.s + k, 0};
            int depth = 0;
            while (r.n < h.n - k && (depth > 0 || r.s[r.n] != ' ')) {
                depth += r.s[r.n] == '(' ? 1 : r.s[r.n] == ')' ? -1 : 0;
                r.n++;
            }
            return r;
        }
    }
    return h;
}

/* Length of the item key of a body line: "column id" of "  column id int";
   a definition line ("  | ...") has the key "|"; other lines are their own key. */
static span item_key(span l)
{
    static const char *named[] = {"column ", "index ", "trigger ", "constraint ", "policy ", "value ", NULL};
    span k = {l.s + 2, l.n >= 2 ? l.n - 2 : 0};
    if (k.n && k.s[0] == '|') {
        k.n = 1;
        return k;
    }
    for (int i = 0; named[i]; i++) {
        size_t w = strlen(named[i]);
        if (k.n > w && !strncmp(k.s, named[i], w)) {
            const char *sp = memchr(k.s + w, ' ', k.n - w);
            if (sp)
                k.n = (size_t)(sp - k.s);
            return k;
        }
    }
    /* one of its kind in an object (a sequence's options, its owner, a
       domain's default, a table's replica identity): a change of it is a
       change, not one line left and another removed */
    static const char *single[] = {"as ", "owned by ", "default ", "replica identity ", "row level security",
                                   NULL};
    for (int i = 0; single[i]; i++) {
        size_t w = strlen(single[i]);
        if (k.n >= w && !strncmp(k.s, single[i], w)) {
            k.n = single[i][w - 1] == ' ' ? w - 1 : w;
            return k;
        }
    }
    return k;
}

/* Appends a readable name for a body item of object o to list b. */
static void add_item(buf *b, const sobj *o, span l, size_t *count)
{
    span key = item_key(l), name = hdr_name(o->hdr);
    if ((*count)++ >= 8)
        return;
    if (b->len)
        buf_adds(b, ", ");
    if (key.n == 1 && key.s[0] == '|') {
        buf_adds(b, "definition of ");
        buf_add(b, o->hdr.s, o->hdr.n);
    } else if (key.n == 2 && !strncmp(key.s, "as", 2)) {
        buf_adds(b, "options of ");
        buf_add(b, o->hdr.s, o->hdr.n);
    } else if ((key.n == 8 && !strncmp(key.s, "owned by", 8)) ||
               (key.n == 7 && !strncmp(key.s, "default", 7)) ||
               (key.n == 16 && !strncmp(key.s, "replica identity", 16)) ||
               (key.n == 18 && !strncmp(key.s, "row level security", 18))) {
        buf_add(b, key.s, key.n);
        buf_adds(b, " of ");
        buf_add(b, o->hdr.s, o->hdr.n);
    } else if (key.n > 7 && !strncmp(key.s, "column ", 7)) {
        buf_adds(b, "column ");
        buf_add(b, name.s, name.n);
        buf_adds(b, ".");
        buf_add(b, key.s + 7, key.n - 7);
    } else if (key.n > 6 && !strncmp(key.s, "index ", 6)) {
        buf_add(b, key.s, key.n);
    } else if (key.n > 6 && !strncmp(key.s, "value ", 6)) {
        buf_add(b, key.s, key.n);
        buf_adds(b, " of ");
        buf_add(b, o->hdr.s, o->hdr.n);
    } else if (key.s + key.n < l.s + l.n) { /* constraint, trigger, policy */
        buf_add(b, key.s, key.n);
        buf_adds(b, " on ");
        buf_add(b, name.s, name.n);
    } else {
        buf_add(b, o->hdr.s, o->hdr.n);
        buf_adds(b, ": ");
        buf_add(b, key.s, key.n > 80 ? 80 : key.n);
        if (key.n > 80)
            buf_adds(b, "...");
    }
}

static void add_obj(buf *b, const sobj *o, size_t *count)
{
    if ((*count)++ >= 8)
        return;
    if (b->len)
        buf_adds(b, ", ");
    buf_add(b, o->hdr.s, o->hdr.n > 100 ? 100 : o->hdr.n);
}

static void add_more(buf *b, size_t count)
{
    if (count > 8)
        buf_addf(b, " and %zu more", count - 8);
}

/* The concatenated lines of key k in o, for comparing definitions. */
static int same_items(const sobj *x, const sobj *y, span k)
{
    size_t i = 0, j = 0;
    for (;;) {
        while (i < x->nbody && !span_eq(item_key(x->body[i]), k))
            i++;
        while (j < y->nbody && !span_eq(item_key(y->body[j]), k))
            j++;
        if (i == x->nbody || j == y->nbody)
            return i == x->nbody && j == y->nbody;
        if (!span_eq(x->body[i], y->body[j]))
            return 0;
        i++, j++;
    }
}

static int same_body(const sobj *x, const sobj *y)
{
    if (x->nbody != y->nbody)
        return 0;
    for (size_t i = 0; i < x->nbody; i++)
        if (!span_eq(x->body[i], y->body[i]))
            return 0;
    return 1;
}

static int has_key(const sobj *o, span k)
{
    for (size_t i = 0; i < o->nbody; i++)
        if (span_eq(item_key(o->body[i]), k))
            return 1;
    return 0;
}

static int is_value(span l)
{
    return l.n > 8 && !strncmp(l.s, "  value ", 8);
}

/* Enum e (expected) and a (actual): a's values hold e's in order and the
   other lines are equal. Lists the extra values in kept. */
static int enum_superset(const sobj *e, const sobj *a, buf *kept)
{
    size_t i = 0, j = 0;
    buf extra;
    buf_init(&extra);
    while (j < a->nbody) {
        if (i < e->nbody && span_eq(e->body[i], a->body[j])) {
            i++, j++;
        } else if (is_value(a->body[j])) {
            if (extra.len)
                buf_adds(&extra, ", ");
            buf_add(&extra, a->body[j].s + 2, a->body[j].n - 2);
            j++;
        } else {
            break;
        }
    }
    int ok = i == e->nbody && j == a->nbody;
    if (ok && extra.len) {
        if (kept->len)
            buf_adds(kept, "; ");
        buf_add(kept, extra.data, extra.len);
        buf_adds(kept, " of ");
        buf_add(kept, a->hdr.s, a->hdr.n);
    }
    buf_release(&extra);
    return ok;
}

void schema_delta_release(schema_delta *d)
{
    buf_release(&d->extra);
    buf_release(&d->missing);
    buf_release(&d->changed);
    buf_release(&d->kept);
    buf_release(&d->moved);
}

int schema_compare(const char *expected, const char *actual, int tolerate, schema_delta *d)
{
    sobjs e, a;
    size_t nx = 0, nm = 0, nc = 0;
    buf_init(&d->extra);
    buf_init(&d->missing);
    buf_init(&d->changed);
    buf_init(&d->kept);
    buf_init(&d->moved);
    if (!strcmp(expected ? expected : "", actual ? actual : ""))
        return 1;
    parse_objs(expected, &e);
    parse_objs(actual, &a);
    for (size_t i = 0; i < a.n; i++) {
        const sobj *ao = &a.v[i], *eo = find_obj(&e, ao->hdr);
        if (!eo) {
            add_obj(&d->extra, ao, &nx);
            continue;
        }
        if ((tolerate & SCHEMA_TOLERATE_ENUM_VALUES) && ao->hdr.n > 5 && !strncmp(ao->hdr.s, "enum ", 5) &&
            enum_superset(eo, ao, &d->kept))
            continue;
        size_t before = nx + nm + nc;
        for (size_t j = 0; j < ao->nbody; j++) {
            span k = item_key(ao->body[j]);
            int first = 1; /* report each key once */
            for (size_t p = 0; p < j && first; p++)
                first = !span_eq(item_key(ao->body[p]), k);
            if (!first)
                continue;
            if (!has_key(eo, k))
                add_item(&d->extra, ao, ao->body[j], &nx);
            else if (!same_items(eo, ao, k))
                add_item(&d->changed, ao, ao->body[j], &nc);
        }
        for (size_t j = 0; j < eo->nbody; j++)
            if (!has_key(ao, item_key(eo->body[j])))
                add_item(&d->missing, eo, eo->body[j], &nm);
        if (nx + nm + nc == before && !same_body(eo, ao) && (tolerate & SCHEMA_TOLERATE_COLUMN_ORDER) &&
            ao->hdr.n > 6 && !strncmp(ao->hdr.s, "table ", 6)) {
            if (d->moved.len)
                buf_adds(&d->moved, ", ");
            buf_add(&d->moved, ao->hdr.s + 6, ao->hdr.n - 6);
        } else if (nx + nm + nc == before && !same_body(eo, ao)) {
            /* the same items in another order: columns, enum values */
            if (nc++ < 8) {
                if (d->changed.len)
                    buf_adds(&d->changed, ", ");
                buf_adds(&d->changed, "order in ");
                buf_add(&d->changed, ao->hdr.s, ao->hdr.n);
            }
        }
    }
    for (size_t i = 0; i < e.n; i++)
        if (!find_obj(&a, e.v[i].hdr))
            add_obj(&d->missing, &e.v[i], &nm);
    add_more(&d->extra, nx);
    add_more(&d->missing, nm);
    add_more(&d->changed, nc);
    int oom = e.oom || a.oom;
    if (!oom && nx + nm + nc == 0 && (e.n != a.n || (!d->kept.len && !d->moved.len))) {
        /* differs only in layout (never from strata's own dumps) */
        buf_adds(&d->changed, "the layout of the schema text");
        nc++;
    }
    sobjs_release(&e);
    sobjs_release(&a);
    /* out of memory: say "different" without names rather than "equal" */
    return !oom && nx == 0 && nm == 0 && nc == 0;
}
