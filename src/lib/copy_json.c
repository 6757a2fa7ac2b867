/*
 * copy_json.c -- JSON for strata copy: a strict RFC 8259 parser (which also
 * refuses \u0000, as jsonb does) that writes the value as jsonb prints it
 * (keys in jsonb's order, the last duplicate winning, the spacing of
 * jsonb_out): the canonical text the checksum compares.
 */
#include "copy_internal.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---------------------------------------------------------------- JSON */

typedef struct jp {
    const char *s;
    size_t n, i;
    int depth;
    char *why;
    size_t whysz;
} jp;

static void jws(jp *p)
{
    while (p->i < p->n &&
           (p->s[p->i] == ' ' || p->s[p->i] == '\t' || p->s[p->i] == '\n' || p->s[p->i] == '\r'))
        p->i++;
}

static int jfail(jp *p, const char *what)
{
    snprintf(p->why, p->whysz, "invalid JSON: %s at offset %zu", what, p->i);
    return -1;
}

static int hex4(const char *s, uint32_t *v)
{
    *v = 0;
    for (int k = 0; k < 4; k++) {
        int c = s[k], d;
        if (c >= '0' && c <= '9')
            d = c - '0';
        else if (c >= 'a' && c <= 'f')
            d = c - 'a' + 10;
        else if (c >= 'A' && c <= 'F')
            d = c - 'A' + 10;
        else
            return -1;
        *v = *v * 16 + (uint32_t)d;
    }
    return 0;
}

static void utf8_put(buf *b, uint32_t cp)
{
    char t[4];
    if (cp < 0x80) {
        t[0] = (char)cp;
        cbuf_add(b, t, 1);
    } else if (cp < 0x800) {
        t[0] = (char)(0xC0 | (cp >> 6));
        t[1] = (char)(0x80 | (cp & 0x3F));
        cbuf_add(b, t, 2);
    } else if (cp < 0x10000) {
        t[0] = (char)(0xE0 | (cp >> 12));
        t[1] = (char)(0x80 | ((cp >> 6) & 0x3F));
        t[2] = (char)(0x80 | (cp & 0x3F));
        cbuf_add(b, t, 3);
    } else {
        t[0] = (char)(0xF0 | (cp >> 18));
        t[1] = (char)(0x80 | ((cp >> 12) & 0x3F));
        t[2] = (char)(0x80 | ((cp >> 6) & 0x3F));
        t[3] = (char)(0x80 | (cp & 0x3F));
        cbuf_add(b, t, 4);
    }
}

/* Decodes a JSON string at p->i (on the quote) into raw bytes. */
static int jstring(jp *p, buf *raw)
{
    p->i++;
    for (;;) {
        if (p->i >= p->n)
            return jfail(p, "unterminated string");
        unsigned char ch = (unsigned char)p->s[p->i];
        if (ch == '"') {
            p->i++;
            return 0;
        }
        if (ch < 0x20)
            return jfail(p, "control character in string");
        if (ch != '\\') {
            size_t st = p->i;
            while (p->i < p->n && p->s[p->i] != '"' && p->s[p->i] != '\\' &&
                   (unsigned char)p->s[p->i] >= 0x20)
                p->i++;
            cbuf_add(raw, p->s + st, p->i - st);
            continue;
        }
        if (p->i + 1 >= p->n)
            return jfail(p, "bad escape");
        char e = p->s[p->i + 1];
        p->i += 2;
        switch (e) {
        case '"':
            cbuf_add(raw, "\"", 1);
            break;
        case '\\':
            cbuf_add(raw, "\\", 1);
            break;
        case '/':
            cbuf_add(raw, "/", 1);
            break;
        case 'b':
            cbuf_add(raw, "\b", 1);
            break;
        case 'f':
            cbuf_add(raw, "\f", 1);
            break;
        case 'n':
            cbuf_add(raw, "\n", 1);
            break;
        case 'r':
            cbuf_add(raw, "\r", 1);
            break;
        case 't':
            cbuf_add(raw, "\t", 1);
            break;
        case 'u': {
            uint32_t cp, lo;
            if (p->i + 4 > p->n || hex4(p->s + p->i, &cp))
                return jfail(p, "bad \\u escape");
            p->i += 4;
            if (cp >= 0xD800 && cp <= 0xDBFF) {
                if (p->i + 6 > p->n || p->s[p->i] != '\\' || p->s[p->i + 1] != 'u' ||
                    hex4(p->s + p->i + 2, &lo) || lo < 0xDC00 || lo > 0xDFFF)
                    return jfail(p, "lone surrogate in \\u escape");
                p->i += 6;
                cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
            } else if (cp >= 0xDC00 && cp <= 0xDFFF) {
                return jfail(p, "lone surrogate in \\u escape");
            }
            if (cp == 0)
                return jfail(p, "\\u0000 (PostgreSQL jsonb cannot store it)");
            utf8_put(raw, cp);
            break;
        }
        default:
            return jfail(p, "bad escape");
        }
    }
}

/* Writes a string as jsonb prints it (escape_json). */
static void jquote(buf *out, const char *s, size_t n)
{
    cbuf_add(out, "\"", 1);
    size_t st = 0;
    for (size_t i = 0; i < n; i++) {
        unsigned char ch = (unsigned char)s[i];
        const char *rep = NULL;
        char u[8];
        switch (ch) {
        case '"':
            rep = "\\\"";
            break;
        case '\\':
            rep = "\\\\";
            break;
        case '\b':
            rep = "\\b";
            break;
        case '\f':
            rep = "\\f";
            break;
        case '\n':
            rep = "\\n";
            break;
        case '\r':
            rep = "\\r";
            break;
        case '\t':
            rep = "\\t";
            break;
        default:
            if (ch < 0x20) {
                snprintf(u, sizeof(u), "\\u%04x", ch);
                rep = u;
            }
        }
        if (rep) {
            cbuf_add(out, s + st, i - st);
            buf_adds(out, rep);
            st = i + 1;
        }
    }
    cbuf_add(out, s + st, n - st);
    cbuf_add(out, "\"", 1);
}

typedef struct jmember {
    char *key;
    size_t klen;
    char *val;
    size_t vlen;
    size_t ord;
} jmember;

static int jmember_cmp(const void *a, const void *b)
{
    const jmember *x = a, *y = b;
    if (x->klen != y->klen)
        return x->klen < y->klen ? -1 : 1;
    int c = memcmp(x->key, y->key, x->klen);
    if (c)
        return c;
    return x->ord < y->ord ? -1 : x->ord > y->ord;
}

static int jvalue(jp *p, buf *out);

static int jobject(jp *p, buf *out)
{
    jmember *m = NULL;
    size_t n = 0, cap = 0;
    int rc = -1;
    p->i++;
    jws(p);
    if (p->i < p->n && p->s[p->i] == '}') {
        p->i++;
        buf_adds(out, "{}");
        return 0;
    }
    for (;;) {
        jws(p);
        if (p->i >= p->n || p->s[p->i] != '"') {
            jfail(p, "expected a key");
            goto out;
        }
        buf k, v;
        buf_init(&k);
        buf_init(&v);
        if (jstring(p, &k)) {
            buf_release(&k);
            goto out;
        }
        jws(p);
        if (p->i >= p->n || p->s[p->i] != ':') {
            buf_release(&k);
            jfail(p, "expected ':'");
            goto out;
        }
        p->i++;
        if (jvalue(p, &v)) {
            buf_release(&k);
            buf_release(&v);
            goto out;
        }
        if (ARR_GROW(m, cap, n + 1)) {
            buf_release(&k);
            buf_release(&v);
            jfail(p, "out of memory");
            goto out;
        }
        m[n].klen = k.len;
        m[n].key = k.data ? k.data : xstrdup("");
        m[n].vlen = v.len;
        m[n].val = v.data ? v.data : xstrdup("");
        m[n].ord = n;
        n++;
        jws(p);
        if (p->i < p->n && p->s[p->i] == ',') {
            p->i++;
            continue;
        }
        if (p->i < p->n && p->s[p->i] == '}') {
            p->i++;
            break;
        }
        jfail(p, "expected ',' or '}'");
        goto out;
    }
    /* jsonb: keys ordered by length then bytes; the last duplicate wins */
    qsort(m, n, sizeof(*m), jmember_cmp);
    cbuf_add(out, "{", 1);
    int first = 1;
    for (size_t i = 0; i < n; i++) {
        if (i + 1 < n && m[i].klen == m[i + 1].klen && !memcmp(m[i].key, m[i + 1].key, m[i].klen))
            continue;
        if (!first)
            buf_adds(out, ", ");
        first = 0;
        jquote(out, m[i].key, m[i].klen);
        buf_adds(out, ": ");
        cbuf_add(out, m[i].val, m[i].vlen);
    }
    cbuf_add(out, "}", 1);
    rc = 0;
out:
    for (size_t i = 0; i < n; i++) {
        free(m[i].key);
        free(m[i].val);
    }
    free(m);
    return rc;
}

static int jvalue(jp *p, buf *out)
{
    jws(p);
    if (p->i >= p->n)
        return jfail(p, "unexpected end");
    if (++p->depth > 400) {
        snprintf(p->why, p->whysz, "JSON nested too deeply");
        return -1;
    }
    char ch = p->s[p->i];
    int rc = 0;
    if (ch == '{') {
        rc = jobject(p, out);
    } else if (ch == '[') {
        p->i++;
        jws(p);
        cbuf_add(out, "[", 1);
        if (p->i < p->n && p->s[p->i] == ']') {
            p->i++;
        } else {
            for (int first = 1;; first = 0) {
                if (!first)
                    buf_adds(out, ", ");
                if ((rc = jvalue(p, out)))
                    break;
                jws(p);
                if (p->i < p->n && p->s[p->i] == ',') {
                    p->i++;
                    continue;
                }
                if (p->i < p->n && p->s[p->i] == ']') {
                    p->i++;
                    break;
                }
                rc = jfail(p, "expected ',' or ']'");
                break;
            }
        }
        cbuf_add(out, "]", 1);
    } else if (ch == '"') {
        buf raw;
        buf_init(&raw);
        rc = jstring(p, &raw);
        if (!rc)
            jquote(out, raw.data ? raw.data : "", raw.len);
        buf_release(&raw);
    } else if (ch == '-' || isdigit((unsigned char)ch)) {
        size_t st = p->i;
        if (p->s[p->i] == '-')
            p->i++;
        if (p->i >= p->n || !isdigit((unsigned char)p->s[p->i]))
            return jfail(p, "bad number");
        if (p->s[p->i] == '0' && p->i + 1 < p->n && isdigit((unsigned char)p->s[p->i + 1]))
            return jfail(p, "leading zero in number");
        while (p->i < p->n && isdigit((unsigned char)p->s[p->i]))
            p->i++;
        if (p->i < p->n && p->s[p->i] == '.') {
            p->i++;
            if (p->i >= p->n || !isdigit((unsigned char)p->s[p->i]))
                return jfail(p, "bad number");
            while (p->i < p->n && isdigit((unsigned char)p->s[p->i]))
                p->i++;
        }
        if (p->i < p->n && (p->s[p->i] == 'e' || p->s[p->i] == 'E')) {
            p->i++;
            if (p->i < p->n && (p->s[p->i] == '+' || p->s[p->i] == '-'))
                p->i++;
            if (p->i >= p->n || !isdigit((unsigned char)p->s[p->i]))
                return jfail(p, "bad number");
            while (p->i < p->n && isdigit((unsigned char)p->s[p->i]))
                p->i++;
        }
        dec x;
        if (dec_parse(p->s + st, p->i - st, &x))
            return jfail(p, "number out of range");
        dec_plain(&x, x.dscale, out);
    } else if (p->n - p->i >= 4 && !memcmp(p->s + p->i, "true", 4)) {
        p->i += 4;
        buf_adds(out, "true");
    } else if (p->n - p->i >= 5 && !memcmp(p->s + p->i, "false", 5)) {
        p->i += 5;
        buf_adds(out, "false");
    } else if (p->n - p->i >= 4 && !memcmp(p->s + p->i, "null", 4)) {
        p->i += 4;
        buf_adds(out, "null");
    } else {
        rc = jfail(p, "unexpected character");
    }
    p->depth--;
    return rc;
}

int json_normalize(const char *s, size_t n, buf *out, char *why, size_t whysz)
{
    jp p = {s, n, 0, 0, why, whysz};
    if (jvalue(&p, out))
        return -1;
    jws(&p);
    if (p.i != n)
        return jfail(&p, "text after the value");
    if (out->oom) {
        snprintf(why, whysz, "out of memory");
        return -1;
    }
    return 0;
}
