/*
 * copy_value.c -- one SQLite value into one PostgreSQL column type.
 *
 * SQLite keeps any value in any column, so nothing here trusts the declared
 * type: the storage class of each value (integer, real, text, blob) and its
 * content decide whether it fits the target type. A value that fits is
 * encoded three ways from one parse:
 *   - the binary COPY payload (network byte order, PostgreSQL's *recv forms),
 *   - the text COPY form (tables with a column strata has no encoder for),
 *   - the canonical text that the target-side checksum expression (canon_sql)
 *     yields for the stored value, so source and target can be compared
 *     without trusting the load path.
 * A value that does not fit returns CV_BAD with a reason; nothing is ever
 * rounded, truncated or reinterpreted silently. JSON is checked in
 * copy_json.c, dates and times are parsed and printed in copy_time.c.
 */
#include "copy_internal.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void cconv_init(cconv *c)
{
    buf_init(&c->bin);
    buf_init(&c->canon);
    buf_init(&c->text);
    buf_init(&c->tmp);
    c->why[0] = 0;
}

void cconv_release(cconv *c)
{
    buf_release(&c->bin);
    buf_release(&c->canon);
    buf_release(&c->text);
    buf_release(&c->tmp);
}

static int bad(cconv *c, const char *fmt, ...) ATTR_PRINTF(2, 3);
static int bad(cconv *c, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(c->why, sizeof(c->why), fmt, ap);
    va_end(ap);
    return CV_BAD;
}

/* ------------------------------------------------------------ helpers */

static inline void put16(buf *b, int v)
{
    unsigned char x[2] = {(unsigned char)((unsigned)v >> 8), (unsigned char)v};
    cbuf_add(b, (char *)x, 2);
}

static inline void put64(buf *b, uint64_t v)
{
    put32(b, (uint32_t)(v >> 32));
    put32(b, (uint32_t)v);
}

static void hexbytes(buf *b, const unsigned char *p, size_t n)
{
    static const char hx[] = "0123456789abcdef";
    char tmp[512];
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        tmp[k++] = hx[p[i] >> 4];
        tmp[k++] = hx[p[i] & 15];
        if (k == sizeof(tmp)) {
            cbuf_add(b, tmp, k);
            k = 0;
        }
    }
    cbuf_add(b, tmp, k);
}

void fmt_double(double d, char out[32])
{
    if (isnan(d)) {
        strcpy(out, "NaN");
        return;
    }
    if (isinf(d)) {
        strcpy(out, d > 0 ? "Infinity" : "-Infinity");
        return;
    }
    for (int p = 15; p <= 17; p++) {
        c_fmt_double(out, 32, p, d);
        if (c_strtod(out, NULL) == d)
            return;
    }
}

/* Checks UTF-8 as PostgreSQL does (no overlongs, no surrogates, <= U+10FFFF)
   and rejects NUL. Returns the number of characters, or -1 with *at set to
   the offset of the first bad byte. */
long utf8_check(const unsigned char *s, size_t n, size_t *at)
{
    long chars = 0;
    size_t i = 0;
    while (i < n) {
        unsigned char c = s[i];
        size_t len;
        uint32_t cp;
        if (c == 0) {
            *at = i;
            return -2;
        }
        if (c < 0x80) {
            i++;
            chars++;
            continue;
        }
        if (c >= 0xC2 && c <= 0xDF) {
            len = 2;
            cp = c & 0x1F;
        } else if (c >= 0xE0 && c <= 0xEF) {
            len = 3;
            cp = c & 0x0F;
        } else if (c >= 0xF0 && c <= 0xF4) {
            len = 4;
            cp = c & 0x07;
        } else {
            *at = i;
            return -1;
        }
        if (i + len > n) {
            *at = i;
            return -1;
        }
        for (size_t k = 1; k < len; k++) {
            if ((s[i + k] & 0xC0) != 0x80) {
                *at = i;
                return -1;
            }
            cp = (cp << 6) | (s[i + k] & 0x3F);
        }
        if ((len == 3 && cp < 0x800) || (len == 4 && (cp < 0x10000 || cp > 0x10FFFF)) ||
            (cp >= 0xD800 && cp <= 0xDFFF)) {
            *at = i;
            return -1;
        }
        i += len;
        chars++;
    }
    return chars;
}

static int text_ok(cconv *c, const unsigned char *s, size_t n, long *chars)
{
    size_t at = 0;
    long r = utf8_check(s, n, &at);
    if (r == -2) {
        snprintf(c->why, sizeof(c->why), "text contains a NUL byte at byte %zu", at);
        return CV_BAD_BYTES;
    }
    if (r < 0) {
        snprintf(c->why, sizeof(c->why), "text is not valid UTF-8 (byte %zu)", at);
        return CV_BAD_BYTES;
    }
    if (chars)
        *chars = r;
    return CV_OK;
}

static int parse_int64(const char *s, size_t n, int64_t *out)
{
    ascii_trim(&s, &n);
    if (!n || n > 40)
        return -1;
    char tmp[48];
    memcpy(tmp, s, n);
    tmp[n] = 0;
    size_t i = (tmp[0] == '+' || tmp[0] == '-') ? 1 : 0;
    if (!tmp[i])
        return -1;
    for (size_t k = i; tmp[k]; k++)
        if (!isdigit((unsigned char)tmp[k]))
            return -1;
    errno = 0;
    long long v = strtoll(tmp, NULL, 10);
    if (errno)
        return -1;
    *out = v;
    return 0;
}

/* Decimal text of v into out (>= 21 bytes); returns the length. */
static size_t i64_text(int64_t v, char *out)
{
    char tmp[24];
    size_t n = 0, k = 0;
    uint64_t u = v < 0 ? (uint64_t)0 - (uint64_t)v : (uint64_t)v;
    do {
        tmp[n++] = (char)('0' + (int)(u % 10));
        u /= 10;
    } while (u);
    if (v < 0)
        out[k++] = '-';
    while (n)
        out[k++] = tmp[--n];
    out[k] = 0;
    return k;
}

/*
 * The 64-bit hash PostgreSQL's hashtextextended(text, 0) computes for the
 * default (deterministic) collation: Bob Jenkins' lookup3 over the bytes,
 * read as little-endian 32-bit words, 12 bytes per round, the length folded
 * into the initial state; the result is b:c. Computing the same hash on both
 * sides lets the target's checksum run as one cheap aggregate.
 */
#define ROT(x, k) (((x) << (k)) | ((x) >> (32 - (k))))
#define MIX(a, b, c)     \
    do {                 \
        a -= c;          \
        a ^= ROT(c, 4);  \
        c += b;          \
        b -= a;          \
        b ^= ROT(a, 6);  \
        a += c;          \
        c -= b;          \
        c ^= ROT(b, 8);  \
        b += a;          \
        a -= c;          \
        a ^= ROT(c, 16); \
        c += b;          \
        b -= a;          \
        b ^= ROT(a, 19); \
        a += c;          \
        c -= b;          \
        c ^= ROT(b, 4);  \
        b += a;          \
    } while (0)
#define FINAL(a, b, c)   \
    do {                 \
        c ^= b;          \
        c -= ROT(b, 14); \
        a ^= c;          \
        a -= ROT(c, 11); \
        b ^= a;          \
        b -= ROT(a, 25); \
        c ^= b;          \
        c -= ROT(b, 16); \
        a ^= c;          \
        a -= ROT(c, 4);  \
        b ^= a;          \
        b -= ROT(a, 14); \
        c ^= b;          \
        c -= ROT(b, 24); \
    } while (0)

static uint32_t le32(const unsigned char *p, size_t n)
{
    uint32_t v = 0;
    for (size_t i = 0; i < n; i++)
        v |= (uint32_t)p[i] << (8 * i);
    return v;
}

/*
 * PostgreSQL's hash_bytes_extended in three parts, so that pg_hash64_hex can
 * feed it chunks it makes on the fly: the start (length and seed), one
 * 12-byte chunk, and the tail (under 12 bytes) with the final mix.
 */
typedef struct hstate {
    uint32_t a, b, c;
} hstate;

static void hash_start_slow(hstate *h, size_t len, uint64_t seed)
{
    h->a = h->b = h->c = 0x9e3779b9u + (uint32_t)len + 3923095u;
    if (seed) {
        /* the seed perturbs the state as a 12-byte chunk would */
        h->a += (uint32_t)(seed >> 32);
        h->b += (uint32_t)seed;
        MIX(h->a, h->b, h->c);
    }
}

/* The start states of the common (seed, length) pairs -- a copy hashes
   column k with seed k + 1, most values in under 48 bytes -- so that a
   value's hash skips the seed's mix: worked out once, read-only after. */
enum { SEEDS_CACHED = 64, LENS_CACHED = 48 };
static hstate seeded[SEEDS_CACHED][LENS_CACHED];
static pthread_once_t seeded_once = PTHREAD_ONCE_INIT;
static atomic_int seeded_ready;

static void seeded_init(void)
{
    for (int s = 0; s < SEEDS_CACHED; s++)
        for (int n = 0; n < LENS_CACHED; n++)
            hash_start_slow(&seeded[s][n], (size_t)n, (uint64_t)s);
    atomic_store_explicit(&seeded_ready, 1, memory_order_release);
}

static inline void hash_start(hstate *h, size_t len, uint64_t seed)
{
    if (seed < SEEDS_CACHED && len < LENS_CACHED) {
        if (!atomic_load_explicit(&seeded_ready, memory_order_acquire))
            pthread_once(&seeded_once, seeded_init);
        *h = seeded[seed][len];
    } else {
        hash_start_slow(h, len, seed);
    }
}

static inline void hash_chunk(hstate *h, const unsigned char *k)
{
    h->a += le32(k, 4);
    h->b += le32(k + 4, 4);
    h->c += le32(k + 8, 4);
    MIX(h->a, h->b, h->c);
}

static inline uint64_t hash_end(hstate *h, const unsigned char *k, size_t len)
{
    /* the tail: the low byte of c stays for the length */
    if (len > 8)
        h->c += le32(k + 8, len - 8) << 8;
    if (len > 4)
        h->b += le32(k + 4, len > 8 ? 4 : len - 4);
    if (len > 0)
        h->a += le32(k, len > 4 ? 4 : len);
    FINAL(h->a, h->b, h->c);
    return ((uint64_t)h->b << 32) | h->c;
}

uint64_t pg_hash64(const void *data, size_t len, uint64_t seed)
{
    const unsigned char *k = data;
    hstate h;
    hash_start(&h, len, seed);
    for (; len >= 12; k += 12, len -= 12)
        hash_chunk(&h, k);
    return hash_end(&h, k, len);
}

/* pg_hash64 of the lowercase hex text of p (2n bytes), without writing it
   out: six bytes are exactly one 12-byte chunk of hex. A 50 MB blob is
   hashed without a 100 MB copy. */
static uint64_t pg_hash64_hex(const unsigned char *p, size_t n, uint64_t seed)
{
    static const char hx[] = "0123456789abcdef";
    unsigned char k[12];
    hstate h;
    hash_start(&h, 2 * n, seed);
    for (;; n -= 6, p += 6) {
        size_t m = n < 6 ? n : 6;
        for (size_t i = 0; i < m; i++) {
            k[2 * i] = (unsigned char)hx[p[i] >> 4];
            k[2 * i + 1] = (unsigned char)hx[p[i] & 15];
        }
        if (n < 6)
            return hash_end(&h, k, 2 * n);
        hash_chunk(&h, k);
    }
}

static inline uint64_t hash_u32(uint32_t k, uint64_t seed)
{
    hstate h;
    hash_start(&h, 4, seed);
    h.a += k;
    FINAL(h.a, h.b, h.c);
    return ((uint64_t)h.b << 32) | h.c;
}

uint64_t pg_hash_u32(uint32_t k, uint64_t seed)
{
    return hash_u32(k, seed);
}

/*
 * hash_numeric_extended() of the value in binary numeric payload p (the
 * COPY form: ndigits, weight, sign, dscale, base-10000 digits, big-endian),
 * as the server computes it from its stored form: leading and trailing zero
 * digits left out, the weight XORed in, NaN and infinities the seed, zero
 * the seed - 1. The server's hash leaves out the sign and the display
 * scale: hash_sql hashes a negative value with seed + NUM_NEG_SEED, done
 * here too, and uses this only where the column's typmod fixes the scale.
 */
static uint64_t pg_hash_numeric(const unsigned char *p, size_t n, uint64_t seed)
{
    if (n < 8)
        return seed;
    int nd = (p[0] << 8) | p[1], sign = (p[4] << 8) | p[5];
    int weight = (int16_t)(uint16_t)((p[2] << 8) | p[3]);
    if ((sign != 0 && sign != 0x4000) || n < 8 + 2 * (size_t)nd)
        return seed;
    const unsigned char *d = p + 8;
    int from = 0, to = nd;
    while (from < nd && !d[2 * from] && !d[2 * from + 1]) {
        from++;
        weight--;
    }
    if (from == nd)
        return seed - 1; /* zero: never negative on the server */
    if (sign)
        seed += NUM_NEG_SEED;
    while (!d[2 * (to - 1)] && !d[2 * (to - 1) + 1])
        to--;
    /* the digits as the server holds them: int16 in its (little-endian,
       hash_probe) byte order; numeric(p,s) has at most 1000 decimal digits */
    unsigned char le[2 * 260];
    int len = to - from > 260 ? 260 : to - from;
    for (int i = 0; i < len; i++) {
        le[2 * i] = d[2 * (from + i) + 1];
        le[2 * i + 1] = d[2 * (from + i)];
    }
    return pg_hash64(le, 2 * (size_t)len, seed) ^ (uint64_t)(int64_t)weight;
}

/* hashint8extended(): int8, int4, int2, timestamp and time all hash this way */
static inline uint64_t pg_hash_i64(int64_t v, uint64_t seed)
{
    uint32_t lo = (uint32_t)(uint64_t)v, hi = (uint32_t)((uint64_t)v >> 32);
    lo ^= v >= 0 ? hi : ~hi;
    return hash_u32(lo, seed);
}

/* ------------------------------------------------------------ numeric */

/* Parses [+-]digits[.digits][e[+-]digits] with blanks around. */
int dec_parse(const char *s, size_t n, dec *x)
{
    ascii_trim(&s, &n);
    x->neg = x->nd = x->point = x->dscale = 0;
    size_t i = 0;
    if (i < n && (s[i] == '+' || s[i] == '-'))
        x->neg = s[i++] == '-';
    int intd = 0, fracd = 0, seen = 0, started = 0;
    while (i < n && isdigit((unsigned char)s[i])) {
        seen = 1;
        if (s[i] != '0' || started) {
            if (x->nd >= (int)sizeof(x->d) - 1)
                return -1;
            x->d[x->nd++] = s[i];
            started = 1;
            intd++;
        }
        i++;
    }
    x->point = intd;
    if (i < n && s[i] == '.') {
        i++;
        while (i < n && isdigit((unsigned char)s[i])) {
            seen = 1;
            fracd++;
            if (s[i] != '0' || started) {
                if (x->nd >= (int)sizeof(x->d) - 1)
                    return -1;
                x->d[x->nd++] = s[i];
                started = 1;
            } else {
                x->point--; /* leading zero after the point */
            }
            i++;
        }
    }
    if (!seen)
        return -1;
    long e = 0;
    if (i < n && (s[i] == 'e' || s[i] == 'E')) {
        i++;
        int eneg = 0;
        if (i < n && (s[i] == '+' || s[i] == '-'))
            eneg = s[i++] == '-';
        if (i >= n || !isdigit((unsigned char)s[i]))
            return -1;
        while (i < n && isdigit((unsigned char)s[i])) {
            e = e * 10 + (s[i] - '0');
            if (e > 100000)
                return -1;
            i++;
        }
        if (eneg)
            e = -e;
    }
    if (i != n)
        return -1;
    x->point += (int)e;
    x->dscale = fracd - (int)e;
    if (x->dscale < 0)
        x->dscale = 0;
    while (x->nd && x->d[x->nd - 1] == '0')
        x->nd--;
    if (!x->nd) {
        x->neg = 0;
        x->point = 0;
    }
    if (x->point > 1000 || x->point < -1000 || x->dscale > 1000)
        return -1;
    return 0;
}

static int dec_frac(const dec *x)
{
    int f = x->nd - x->point;
    return f > 0 ? f : 0;
}

/* Plain decimal text with exactly scale digits after the point. */
void dec_plain(const dec *x, int scale, buf *b)
{
    if (x->neg)
        cbuf_add(b, "-", 1);
    if (x->point <= 0) {
        cbuf_add(b, "0", 1);
    } else {
        for (int i = 0; i < x->point; i++)
            cbuf_add(b, i < x->nd ? &x->d[i] : "0", 1);
    }
    if (scale > 0) {
        cbuf_add(b, ".", 1);
        for (int k = 0; k < scale; k++) {
            int i = x->point + k; /* digit index */
            cbuf_add(b, (i >= 0 && i < x->nd) ? &x->d[i] : "0", 1);
        }
    }
}

/* Binary numeric: ndigits, weight, sign, dscale, base-10000 digits. */
static void dec_binary(const dec *x, int dscale, buf *b)
{
    if (!x->nd) {
        put16(b, 0);
        put16(b, 0);
        put16(b, 0);
        put16(b, dscale);
        return;
    }
    /* digit i has decimal exponent point-1-i; group g covers exponents
       4g..4g+3 */
    int ehi = x->point - 1, elo = x->point - x->nd;
    int ghi = ehi >= 0 ? ehi / 4 : -((-ehi + 3) / 4);
    int glo = elo >= 0 ? elo / 4 : -((-elo + 3) / 4);
    int ng = ghi - glo + 1;
    put16(b, ng);
    put16(b, ghi);
    put16(b, x->neg ? 0x4000 : 0);
    put16(b, dscale);
    for (int g = ghi; g >= glo; g--) {
        int v = 0;
        for (int e = 4 * g + 3; e >= 4 * g; e--) {
            int i = x->point - 1 - e;
            v = v * 10 + ((i >= 0 && i < x->nd) ? x->d[i] - '0' : 0);
        }
        put16(b, v);
    }
}

#define PG_EPOCH_DAYS 10957LL /* 2000-01-01 - 1970-01-01 */

/* Gets a timestamp (UTC micros since 1970) from any storage class. */
static int value_ts(cconv *c, sqlite3_value *v, int64_t *us)
{
    int st = sqlite3_value_type(v);
    if (st == SQLITE_INTEGER) {
        if (epoch_us_int(sqlite3_value_int64(v), us))
            return bad(c, "a number that is not a plausible time: " EPOCH_RULE);
    } else if (st == SQLITE_FLOAT) {
        double r = sqlite3_value_double(v);
        if (!isfinite(r) || epoch_us_real(r, us))
            return bad(c, "a number that is not a plausible time: " EPOCH_RULE);
    } else if (st == SQLITE_TEXT) {
        const char *s = (const char *)sqlite3_value_text(v);
        size_t n = (size_t)sqlite3_value_bytes(v);
        int64_t iv;
        dec x;
        if (!parse_int64(s, n, &iv)) {
            if (epoch_us_int(iv, us))
                return bad(c, "a number that is not a plausible time: " EPOCH_RULE);
        } else if (!dec_parse(s, n, &x)) {
            double r = c_strtod(s, NULL);
            if (!isfinite(r) || epoch_us_real(r, us))
                return bad(c, "a number that is not a plausible time: " EPOCH_RULE);
        } else if (parse_datetime_text(s, n, us, c->why, sizeof(c->why))) {
            return CV_BAD;
        }
    } else {
        return bad(c, "a blob is not a date");
    }
    if (*us < MIN_US || *us >= MAX_US)
        return bad(c, "date outside the years 1 to 9999");
    return CV_OK;
}

/* ------------------------------------------------------------ the rules */

/* The number forms of an integer or real value as text (for text columns). */
static void number_text(sqlite3_value *v, buf *b)
{
    if (sqlite3_value_type(v) == SQLITE_INTEGER) {
        buf_addf(b, "%lld", (long long)sqlite3_value_int64(v));
    } else {
        char t[32];
        fmt_double(sqlite3_value_double(v), t);
        buf_adds(b, t);
    }
}

static int conv_int(cconv *c, const ctype *t, sqlite3_value *v, int flags)
{
    int st = sqlite3_value_type(v);
    int64_t x;
    if (st == SQLITE_INTEGER) {
        x = sqlite3_value_int64(v);
    } else if (st == SQLITE_FLOAT) {
        double d = sqlite3_value_double(v);
        if (d != floor(d))
            return bad(c, "a real number that is not an integer");
        if (!(d >= -9223372036854775808.0 && d < 9223372036854775808.0))
            return bad(c, "a real number out of range for bigint");
        x = (int64_t)d;
    } else if (st == SQLITE_TEXT) {
        if (parse_int64((const char *)sqlite3_value_text(v), (size_t)sqlite3_value_bytes(v), &x))
            return bad(c, "text that is not an integer");
    } else {
        return bad(c, "a blob is not an integer");
    }
    if (t->kind == K_INT2 && (x < -32768 || x > 32767))
        return bad(c, "out of range for smallint");
    if (t->kind == K_INT4 && (x < INT32_MIN || x > INT32_MAX))
        return bad(c, "out of range for integer");
    if (t->kind == K_INT2)
        put16(&c->bin, (int)x);
    else if (t->kind == K_INT4)
        put32(&c->bin, (uint32_t)(int32_t)x);
    else
        put64(&c->bin, (uint64_t)x);
    c->hk = HK_I64;
    c->hv = (uint64_t)x;
    if (flags) {
        char num[24];
        size_t nl = i64_text(x, num);
        if (flags & CV_WANT_CANON)
            cbuf_add(&c->canon, num, nl);
        if (flags & CV_WANT_TEXT)
            cbuf_add(&c->text, num, nl);
    }
    return CV_OK;
}

static int conv_float(cconv *c, const ctype *t, sqlite3_value *v, int flags)
{
    int st = sqlite3_value_type(v);
    double d;
    if (st == SQLITE_FLOAT) {
        d = sqlite3_value_double(v);
    } else if (st == SQLITE_INTEGER) {
        int64_t x = sqlite3_value_int64(v);
        d = (double)x;
        if (!(d >= -9223372036854775808.0 && d < 9223372036854775808.0) || (int64_t)d != x)
            return bad(c, "integer not exactly representable as a double");
    } else if (st == SQLITE_TEXT) {
        const char *s = (const char *)sqlite3_value_text(v);
        size_t n = (size_t)sqlite3_value_bytes(v);
        dec x;
        ascii_trim(&s, &n);
        char tmp[64];
        if (n && n < sizeof(tmp)) {
            memcpy(tmp, s, n);
            tmp[n] = 0;
        } else {
            tmp[0] = 0;
        }
        /* float8in's spellings, in any case */
        if (!c_strcasecmp(tmp, "Infinity") || !c_strcasecmp(tmp, "+Infinity") || !c_strcasecmp(tmp, "inf") ||
            !c_strcasecmp(tmp, "+inf"))
            d = INFINITY;
        else if (!c_strcasecmp(tmp, "-Infinity") || !c_strcasecmp(tmp, "-inf"))
            d = -INFINITY;
        else if (!c_strcasecmp(tmp, "NaN") || !c_strcasecmp(tmp, "+NaN") || !c_strcasecmp(tmp, "-NaN"))
            d = NAN;
        else if (!tmp[0] || dec_parse(s, n, &x))
            return bad(c, "text that is not a number");
        else {
            errno = 0;
            d = c_strtod(tmp, NULL);
            /* past the range, or so small it became 0: PostgreSQL refuses
               both rather than store Infinity or 0 */
            if (errno == ERANGE && (d == 0.0 || isinf(d)))
                return bad(c, "out of range for double precision");
            /* an integer written as text is exact, or refused, as an
               integer value is (9007199254740993 is not a double) */
            const char *dg = tmp + (tmp[0] == '-' || tmp[0] == '+');
            if (*dg && strspn(dg, "0123456789") == strlen(dg)) {
                while (dg[0] == '0' && dg[1])
                    dg++;
                char back[400];
                snprintf(back, sizeof(back), "%.0f", fabs(d));
                if (strcmp(back, dg) != 0)
                    return bad(c, "integer not exactly representable as a double");
            }
        }
    } else {
        return bad(c, "a blob is not a number");
    }
    char txt[32];
    if (t->kind == K_FLOAT4) {
        float f = (float)d;
        if (!isnan(d) && (double)f != d)
            return bad(c, "not exactly representable as a 4-byte real");
        uint32_t u;
        memcpy(&u, &f, 4);
        put32(&c->bin, u);
        if (flags & CV_WANT_CANON) {
            unsigned char be[4] = {(unsigned char)(u >> 24), (unsigned char)(u >> 16),
                                   (unsigned char)(u >> 8), (unsigned char)u};
            hexbytes(&c->canon, be, 4);
        }
        d = f; /* hashfloat4extended hashes the value as a double */
    } else {
        uint64_t u;
        memcpy(&u, &d, 8);
        put64(&c->bin, u);
        if (flags & CV_WANT_CANON) {
            unsigned char be[8];
            for (int i = 0; i < 8; i++)
                be[i] = (unsigned char)(u >> (56 - 8 * i));
            hexbytes(&c->canon, be, 8);
        }
    }
    c->hk = HK_F8;
    memcpy(&c->hv, &d, 8);
    if (flags & CV_WANT_TEXT) {
        if (t->kind == K_FLOAT4)
            c_fmt_double(txt, sizeof(txt), 9, d);
        else
            fmt_double(d, txt);
        buf_adds(&c->text, txt);
    }
    return CV_OK;
}

/*
 * numeric(p,s), s <= 8, from the exact fixed-point value (neg ? -1 : 1) *
 * u / 10^s: the binary payload and the canonical text straight from the
 * integer, without the digit array of the general path (most numbers of a
 * money column take this way). Base-10000 groups are aligned on the point;
 * zero groups at either end are fine, the server strips them.
 */
/* clang-format off */
static const uint64_t pow10u[19] = {
    1, 10, 100, 1000, 10000, 100000, 1000000, 10000000, 100000000, 1000000000, 10000000000,
    100000000000, 1000000000000, 10000000000000, 100000000000000, 1000000000000000,
    10000000000000000, 100000000000000000, 1000000000000000000};
/* clang-format on */

/* Numerics whose typmod fixes the display scale are hashed natively
   (HK_NUM); the others as their text, where the scale shows. */
static int num_hashed(const ctype *t)
{
    return t->kind == K_NUMERIC && t->prec > 0;
}

/* The canonical text of numeric_fixed's value, digits dg (n of them, least
   significant first) with sc after the point: [-]int.frac. */
static void numeric_fixed_text(cconv *c, int sc, int neg, const char *dg, int n, int flags)
{
    char txt[48];
    int k = 0;
    if (neg)
        txt[k++] = '-';
    if (n > sc)
        for (int i = n - 1; i >= sc; i--)
            txt[k++] = dg[i];
    else
        txt[k++] = '0';
    if (sc) {
        txt[k++] = '.';
        for (int i = sc - 1; i >= 0; i--)
            txt[k++] = i < n ? dg[i] : '0';
    }
    cbuf_add(&c->canon, txt, (size_t)k);
    if (flags & CV_WANT_TEXT)
        cbuf_add(&c->text, txt, (size_t)k);
}

/* The binary numeric payload of (neg ? -1 : 1) * u / 10^sc (u below 2^62,
   sc <= 8) into p (at least NUMERIC_FIXED_MAX bytes); returns its length. */
enum { NUMERIC_FIXED_MAX = 8 + 2 * 7 };
static size_t numeric_fixed_bin(unsigned char *p, int neg, uint64_t u, int sc)
{
    uint64_t ip = u / pow10u[sc], fp = u % pow10u[sc];
    int nfrac = (sc + 3) / 4;
    uint64_t fps = fp * pow10u[4 * nfrac - sc];
    int g[8], ni = 0, nd;
    for (uint64_t q = ip; q; q /= 10000)
        g[ni++] = (int)(q % 10000);
    if (!u) {
        nd = 0;
        ni = 1; /* weight 0 */
        neg = 0;
        nfrac = 0;
    } else {
        nd = ni + nfrac;
    }
    size_t k = 0;
#define P16(v) (p[k] = (unsigned char)((unsigned)(v) >> 8), p[k + 1] = (unsigned char)(v), k += 2)
    P16(nd);
    P16(ni - 1);
    P16(neg ? 0x4000 : 0);
    P16(sc);
    if (u) {
        for (int i = ni - 1; i >= 0; i--)
            P16(g[i]);
        if (nfrac == 2) {
            P16(fps / 10000);
            P16(fps % 10000);
        } else if (nfrac == 1) {
            P16(fps);
        }
    }
#undef P16
    return k;
}

/* More than prec - scale digits before the point: u (the value times
   10^scale, below 2^62) reaches 10^prec. */
static int fixed_too_long(const ctype *t, uint64_t u)
{
    return t->prec < 19 && u >= pow10u[t->prec];
}

static int numeric_fixed(cconv *c, const ctype *t, int neg, uint64_t u, int flags)
{
    int sc = t->scale;
    if (fixed_too_long(t, u))
        return bad(c, "more than %d digit%s before the decimal point", t->prec - sc,
                   t->prec - sc == 1 ? "" : "s");
    if (!u)
        neg = 0;
    c->hk = HK_NUM;
    if (flags & (CV_WANT_TEXT | CV_WANT_CANON)) {
        char dg[24]; /* the digits, least significant first */
        int n = 0;
        uint64_t w = u;
        do {
            dg[n++] = (char)('0' + (int)(w % 10));
            w /= 10;
        } while (w);
        numeric_fixed_text(c, sc, neg, dg, n, flags);
    }
    unsigned char p[NUMERIC_FIXED_MAX];
    cbuf_add(&c->bin, p, numeric_fixed_bin(p, neg, u, sc));
    return CV_OK;
}

/* The exact fixed-point form of an integer or real value for numeric(p,s)
   with s <= 8 (*neg, *u = |value| * 10^s): 1, or 0 when the value takes
   the general path (another type, text, a real with more digits, too
   large). */
static int numeric_fixed_of(const ctype *t, int st, sqlite3_value *v, int *neg, uint64_t *u)
{
    int sc = t->scale;
    if (!(t->prec > 0 && sc >= 0 && sc <= 8))
        return 0;
    if (st == SQLITE_INTEGER) {
        int64_t i = sqlite3_value_int64(v);
        uint64_t m = i < 0 ? (uint64_t)0 - (uint64_t)i : (uint64_t)i;
        if (m > (UINT64_C(1) << 62) / pow10u[sc])
            return 0;
        *neg = i < 0;
        *u = m * pow10u[sc];
        return 1;
    }
    if (st != SQLITE_FLOAT)
        return 0;
    /* a real that is exactly the nearest double of a decimal with at most
       `scale` digits after the point (12.34 in a numeric(12,2) column) --
       k / 10^s is correctly rounded, so the comparison is exact; only below
       2^53 / 10^s, where that decimal is unique */
    double d = sqlite3_value_double(v);
    double p = (double)pow10u[sc]; /* exact: at most 10^8 */
    double x = d * p;
    if (!(fabs(x) < 9007199254740992.0 / p)) /* NaN and infinities too */
        return 0;
    /* the nearest integer, by hand (nearbyint is a libm call here); a
       half-way x is no such decimal either way, which the test below sees */
    double kd = (double)(int64_t)(x + (x < 0 ? -0.5 : 0.5));
    if (kd / p != d)
        return 0;
    *neg = kd < 0;
    *u = (uint64_t)fabs(kd);
    return 1;
}

static int conv_numeric(cconv *c, const ctype *t, sqlite3_value *v, int flags)
{
    int st = sqlite3_value_type(v);
    dec x;
    char tmp[32];
    int neg;
    uint64_t u;
    if (numeric_fixed_of(t, st, v, &neg, &u))
        return numeric_fixed(c, t, neg, u, flags);
    if (st == SQLITE_INTEGER) {
        size_t l = i64_text(sqlite3_value_int64(v), tmp);
        dec_parse(tmp, l, &x);
    } else if (st == SQLITE_FLOAT) {
        double d = sqlite3_value_double(v);
        if (!isfinite(d))
            return bad(c, "infinity does not fit numeric");
        fmt_double(d, tmp);
        if (dec_parse(tmp, strlen(tmp), &x))
            return bad(c, "number out of range for numeric");
    } else if (st == SQLITE_TEXT) {
        if (dec_parse((const char *)sqlite3_value_text(v), (size_t)sqlite3_value_bytes(v), &x))
            return bad(c, "text that is not a decimal number");
    } else {
        return bad(c, "a blob is not a number");
    }
    int frac = dec_frac(&x);
    if (t->prec > 0) {
        if (frac > t->scale)
            return bad(c, "more than %d digit%s after the decimal point", t->scale, t->scale == 1 ? "" : "s");
        int intd = x.point > 0 ? x.point : 0;
        if (intd > t->prec - t->scale)
            return bad(c, "more than %d digit%s before the decimal point", t->prec - t->scale,
                       t->prec - t->scale == 1 ? "" : "s");
    }
    /* the stored display scale: the column's, or the value's own digits */
    int dscale = t->prec > 0 ? t->scale : frac;
    dec_binary(&x, dscale, &c->bin);
    if (num_hashed(t))
        c->hk = HK_NUM;
    if (c->hk == HK_TEXT || (flags & (CV_WANT_TEXT | CV_WANT_CANON)))
        dec_plain(&x, dscale, &c->canon);
    if (flags & CV_WANT_TEXT)
        cbuf_add(&c->text, c->canon.data, c->canon.len);
    return CV_OK;
}

/* The text of v for a text-like column (a number as its text, in c->tmp);
   a blob is CV_BAD_BYTES ("a blob in a WHAT column"). Then text_ok on it
   (chars: as text_ok's). */
static int value_text(cconv *c, sqlite3_value *v, const char *what, const char **s, size_t *n, long *chars)
{
    int st = sqlite3_value_type(v);
    if (st == SQLITE_INTEGER || st == SQLITE_FLOAT) {
        number_text(v, &c->tmp);
        *s = c->tmp.data;
        *n = c->tmp.len;
    } else if (st == SQLITE_TEXT) {
        *s = (const char *)sqlite3_value_text(v);
        *n = (size_t)sqlite3_value_bytes(v);
    } else {
        snprintf(c->why, sizeof(c->why), "a blob in a %s column", what);
        return CV_BAD_BYTES;
    }
    return text_ok(c, (const unsigned char *)*s, *n, chars);
}

static int conv_text(cconv *c, const ctype *t, sqlite3_value *v, int flags)
{
    const char *s;
    size_t n;
    long chars = 0;
    int r = value_text(c, v, "text", &s, &n, &chars);
    if (r)
        return r;
    if (t->kind == K_BPCHAR) {
        /* char(n) ignores trailing blanks: that is how PostgreSQL compares it */
        while (n && s[n - 1] == ' ')
            n--, chars--;
    }
    if ((t->kind == K_VARCHAR || t->kind == K_BPCHAR) && t->len >= 0 && chars > t->len)
        return bad(c, "%ld characters do not fit %s(%d)", chars, t->kind == K_VARCHAR ? "varchar" : "char",
                   t->len);
    if (t->kind == K_JSON) {
        buf scratch;
        buf_init(&scratch);
        r = json_normalize(s, n, &scratch, c->why, sizeof(c->why));
        buf_release(&scratch);
        if (r)
            return CV_BAD;
    }
    cbuf_add(&c->bin, s, n);
    cbuf_add(&c->canon, s, n);
    if (flags & CV_WANT_TEXT)
        cbuf_add(&c->text, s, n);
    return CV_OK;
}

static int conv_jsonb(cconv *c, sqlite3_value *v, int flags)
{
    const char *s;
    size_t n;
    int r = value_text(c, v, "JSON", &s, &n, NULL);
    if (r)
        return r;
    if (json_normalize(s, n, &c->canon, c->why, sizeof(c->why)))
        return CV_BAD;
    cbuf_add(&c->bin, "\001", 1);
    cbuf_add(&c->bin, c->canon.data, c->canon.len);
    if (flags & CV_WANT_TEXT)
        cbuf_add(&c->text, c->canon.data, c->canon.len);
    return CV_OK;
}

static int conv_bytea(cconv *c, const ctype *t, sqlite3_value *v, int flags)
{
    int st = sqlite3_value_type(v);
    const unsigned char *p;
    size_t n;
    if (st == SQLITE_BLOB) {
        p = sqlite3_value_blob(v);
        n = (size_t)sqlite3_value_bytes(v);
    } else if ((st == SQLITE_INTEGER || st == SQLITE_FLOAT) && t->lax) {
        number_text(v, &c->tmp);
        p = (const unsigned char *)c->tmp.data;
        n = c->tmp.len;
    } else if (st == SQLITE_TEXT) {
        p = sqlite3_value_text(v);
        n = (size_t)sqlite3_value_bytes(v);
    } else {
        return bad(c, "a number in a blob column");
    }
    if (n)
        cbuf_add(&c->bin, (const char *)p, n);
    else
        cbuf_add(&c->bin, "", 0);
    c->hk = HK_HEX;
    if (flags & (CV_WANT_TEXT | CV_WANT_CANON))
        hexbytes(&c->canon, p, n);
    if (flags & CV_WANT_TEXT) {
        buf_adds(&c->text, "\\x");
        cbuf_add(&c->text, c->canon.data, c->canon.len);
    }
    return CV_OK;
}

static int conv_bool(cconv *c, sqlite3_value *v, int flags)
{
    int st = sqlite3_value_type(v), b = -1;
    if (st == SQLITE_INTEGER) {
        int64_t x = sqlite3_value_int64(v);
        b = x == 0 ? 0 : x == 1 ? 1 : -1;
    } else if (st == SQLITE_FLOAT) {
        double d = sqlite3_value_double(v);
        b = d == 0.0 ? 0 : d == 1.0 ? 1 : -1;
    } else if (st == SQLITE_TEXT) {
        const char *s = (const char *)sqlite3_value_text(v);
        size_t n = (size_t)sqlite3_value_bytes(v);
        ascii_trim(&s, &n);
        static const char *yes[] = {"1", "t", "true", "y", "yes", "on"};
        static const char *no[] = {"0", "f", "false", "n", "no", "off"};
        for (int i = 0; i < 6 && b < 0; i++) {
            if (n == strlen(yes[i]) && !c_strncasecmp(s, yes[i], n))
                b = 1;
            else if (n == strlen(no[i]) && !c_strncasecmp(s, no[i], n))
                b = 0;
        }
    }
    if (b < 0)
        return bad(c, "not a boolean (0/1, t/f, true/false, yes/no, on/off)");
    cbuf_add(&c->bin, b ? "\001" : "\000", 1);
    c->hk = HK_U32;
    c->hv = (uint64_t)b;
    if (flags & CV_WANT_CANON)
        buf_adds(&c->canon, b ? "true" : "false");
    if (flags & CV_WANT_TEXT)
        buf_adds(&c->text, b ? "t" : "f");
    return CV_OK;
}

/* 0 when the microseconds us keep to p fractional digits (time(p),
   timestamp(p): PostgreSQL would round the others, and a copy never
   rounds); p < 0 or p >= 6: any. */
static int frac_fits(cconv *c, const ctype *t, int64_t us)
{
    if (t->prec < 0 || t->prec >= 6)
        return 0;
    int64_t unit = 1;
    for (int i = t->prec; i < 6; i++)
        unit *= 10;
    if (us % unit == 0)
        return 0;
    return bad(c, "more fractional digits of a second than %s(%d) keeps; PostgreSQL would round it",
               t->kind == K_TIME          ? "time"
               : t->kind == K_TIMESTAMPTZ ? "timestamptz"
                                          : "timestamp",
               t->prec);
}

static int conv_date(cconv *c, const ctype *t, sqlite3_value *v, int flags)
{
    int64_t us;
    int r = value_ts(c, v, &us);
    if (r)
        return r;
    if (t->kind != K_DATE && (r = frac_fits(c, t, us)))
        return r;
    if (t->kind == K_DATE) {
        if (us % US_PER_DAY)
            return bad(c, "has a time of day; a date column would drop it");
        int64_t days = floordiv(us, US_PER_DAY);
        put32(&c->bin, (uint32_t)(int32_t)(days - PG_EPOCH_DAYS));
        fmt_date(&c->canon, days);
    } else {
        put64(&c->bin, (uint64_t)(us - PG_EPOCH_DAYS * US_PER_DAY));
        if (t->kind == K_TIMESTAMP) {
            c->hk = HK_I64;
            c->hv = (uint64_t)(us - PG_EPOCH_DAYS * US_PER_DAY);
        }
        if (t->kind == K_TIMESTAMPTZ || flags) {
            int64_t days = floordiv(us, US_PER_DAY);
            fmt_date(&c->canon, days);
            cbuf_add(&c->canon, " ", 1);
            fmt_tod(&c->canon, us - days * US_PER_DAY);
            if (t->kind == K_TIMESTAMPTZ)
                buf_adds(&c->canon, "+00");
        }
    }
    if (flags & CV_WANT_TEXT)
        cbuf_add(&c->text, c->canon.data, c->canon.len);
    return CV_OK;
}

static int conv_time(cconv *c, const ctype *t, sqlite3_value *v, int flags)
{
    if (sqlite3_value_type(v) != SQLITE_TEXT)
        return bad(c, "not a time of day (HH:MM[:SS[.fff]])");
    const char *s = (const char *)sqlite3_value_text(v);
    size_t n = (size_t)sqlite3_value_bytes(v), i = 0;
    int64_t us;
    ascii_trim(&s, &n);
    if (parse_tod(s, n, &i, &us, c->why, sizeof(c->why)))
        return CV_BAD;
    if (i != n)
        return bad(c, "unexpected text after the time of day");
    if (frac_fits(c, t, us))
        return CV_BAD;
    put64(&c->bin, (uint64_t)us);
    c->hk = HK_I64;
    c->hv = (uint64_t)us;
    if (flags)
        fmt_tod(&c->canon, us);
    if (flags & CV_WANT_TEXT)
        cbuf_add(&c->text, c->canon.data, c->canon.len);
    return CV_OK;
}

static int conv_uuid(cconv *c, sqlite3_value *v, int flags)
{
    int st = sqlite3_value_type(v);
    unsigned char u[16];
    if (st == SQLITE_BLOB && sqlite3_value_bytes(v) == 16) {
        memcpy(u, sqlite3_value_blob(v), 16);
    } else if (st == SQLITE_TEXT) {
        const char *s = (const char *)sqlite3_value_text(v);
        size_t n = (size_t)sqlite3_value_bytes(v);
        ascii_trim(&s, &n);
        int braces = n >= 2 && s[0] == '{' && s[n - 1] == '}';
        if (braces)
            s++, n -= 2;
        int k = 0;
        for (size_t i = 0; i < n; i++) {
            char ch = s[i];
            if (ch == '-' && k > 0 && k < 32 && k % 4 == 0 && s[i - 1] != '-')
                continue;
            int d = isdigit((unsigned char)ch) ? ch - '0'
                    : (ch >= 'a' && ch <= 'f') ? ch - 'a' + 10
                    : (ch >= 'A' && ch <= 'F') ? ch - 'A' + 10
                                               : -1;
            if (d < 0 || k >= 32)
                return bad(c, "not a UUID");
            if (k % 2 == 0)
                u[k / 2] = (unsigned char)(d << 4);
            else
                u[k / 2] |= (unsigned char)d;
            k++;
        }
        if (k != 32)
            return bad(c, "not a UUID");
    } else {
        return bad(c, "not a UUID (text, or a 16-byte blob)");
    }
    cbuf_add(&c->bin, (char *)u, 16);
    c->hk = HK_BIN;
    for (int i = 0; flags && i < 16; i++) {
        if (i == 4 || i == 6 || i == 8 || i == 10)
            cbuf_add(&c->canon, "-", 1);
        hexbytes(&c->canon, u + i, 1);
    }
    if (flags & CV_WANT_TEXT)
        cbuf_add(&c->text, c->canon.data, c->canon.len);
    return CV_OK;
}

/* Types without an encoder: the value's own text, checked as text. */
static int conv_other(cconv *c, sqlite3_value *v)
{
    static const ctype tt = {K_TEXT, -1, -1, -1, 0};
    int r = conv_text(c, &tt, v, 1);
    return r;
}

int conv_value(cconv *c, const ctype *t, sqlite3_value *v, int flags, int *isnull)
{
    buf_reset(&c->bin);
    buf_reset(&c->canon);
    buf_reset(&c->text);
    buf_reset(&c->tmp);
    c->hk = HK_TEXT;
    c->why[0] = 0;
    *isnull = sqlite3_value_type(v) == SQLITE_NULL;
    if (*isnull)
        return CV_OK;
    int r;
    switch (t->kind) {
    case K_INT2:
    case K_INT4:
    case K_INT8:
        r = conv_int(c, t, v, flags);
        break;
    case K_FLOAT4:
    case K_FLOAT8:
        r = conv_float(c, t, v, flags);
        break;
    case K_NUMERIC:
        r = conv_numeric(c, t, v, flags);
        break;
    case K_TEXT:
    case K_VARCHAR:
    case K_BPCHAR:
    case K_JSON:
        r = conv_text(c, t, v, flags);
        break;
    case K_JSONB:
        r = conv_jsonb(c, v, flags);
        break;
    case K_BYTEA:
        r = conv_bytea(c, t, v, flags);
        break;
    case K_BOOL:
        r = conv_bool(c, v, flags);
        break;
    case K_DATE:
    case K_TIMESTAMP:
    case K_TIMESTAMPTZ:
        r = conv_date(c, t, v, flags);
        break;
    case K_TIME:
        r = conv_time(c, t, v, flags);
        break;
    case K_UUID:
        r = conv_uuid(c, v, flags);
        break;
    default:
        r = conv_other(c, v);
        break;
    }
    if (!r && (c->bin.oom || c->canon.oom || c->text.oom))
        r = bad(c, "out of memory");
    return r;
}

void conv_show(buf *out, sqlite3_value *v)
{
    int st = sqlite3_value_type(v);
    if (st == SQLITE_INTEGER || st == SQLITE_FLOAT) {
        number_text(v, out);
        buf_adds(out, st == SQLITE_INTEGER ? " (integer)" : " (real)");
        return;
    }
    if (st == SQLITE_NULL) {
        buf_adds(out, "NULL");
        return;
    }
    const unsigned char *p = st == SQLITE_BLOB ? sqlite3_value_blob(v) : sqlite3_value_text(v);
    size_t n = (size_t)sqlite3_value_bytes(v), show = n > 60 ? 60 : n;
    if (st == SQLITE_BLOB) {
        buf_adds(out, "x'");
        hexbytes(out, p, show);
        buf_addf(out, "%s' (blob, %zu bytes)", n > show ? "..." : "", n);
        return;
    }
    cbuf_add(out, "'", 1);
    for (size_t i = 0; i < show; i++) {
        unsigned char ch = p[i];
        if (ch == '\'')
            buf_adds(out, "''");
        else if (ch >= 0x20 && ch < 0x7f)
            cbuf_add(out, (const char *)&p[i], 1);
        else if (ch >= 0x80 && !(ch & 0x40) && i > 0 && p[i - 1] >= 0x80)
            cbuf_add(out, (const char *)&p[i], 1);
        else if (ch >= 0xC2 && ch <= 0xF4 && i + 1 < n && (p[i + 1] & 0xC0) == 0x80)
            cbuf_add(out, (const char *)&p[i], 1);
        else
            buf_addf(out, "\\x%02x", ch);
    }
    buf_addf(out, "%s'", n > show ? "..." : "");
    if (n > show)
        buf_addf(out, " (%zu bytes)", n);
}

/* hashfloat8extended: the seed for either zero (the SQL's seed for -0 is
   the seed XOR 1, see hash_sql), one NaN for all, else the double's bytes */
static uint64_t hash_f8(double d, uint64_t seed)
{
    if (d == 0)
        return seed ^ (uint64_t)(signbit(d) != 0);
    if (isnan(d))
        d = NAN;
    return pg_hash64(&d, sizeof(d), seed);
}

int conv_fast(const ctype *t, sqlite3_value *v, uint64_t seed, buf *out, uint64_t *h)
{
    int st = sqlite3_value_type(v);
    unsigned char f[4 + NUMERIC_FIXED_MAX];
    size_t n;
    switch (t->kind) {
    case K_INT8: {
        if (st != SQLITE_INTEGER)
            return 0;
        int64_t x = sqlite3_value_int64(v);
        be32_at(f, 8);
        be32_at(f + 4, (uint32_t)((uint64_t)x >> 32));
        be32_at(f + 8, (uint32_t)(uint64_t)x);
        n = 12;
        *h = pg_hash_i64(x, seed);
        break;
    }
    case K_FLOAT8: {
        if (st != SQLITE_FLOAT)
            return 0;
        double d = sqlite3_value_double(v);
        uint64_t u;
        memcpy(&u, &d, 8);
        be32_at(f, 8);
        be32_at(f + 4, (uint32_t)(u >> 32));
        be32_at(f + 8, (uint32_t)u);
        n = 12;
        *h = hash_f8(d, seed);
        break;
    }
    case K_NUMERIC: {
        int neg;
        uint64_t u;
        if (!numeric_fixed_of(t, st, v, &neg, &u) || fixed_too_long(t, u))
            return 0; /* conv_value says what does not fit */
        n = numeric_fixed_bin(f + 4, neg, u, t->scale);
        be32_at(f, (uint32_t)n);
        *h = pg_hash_numeric(f + 4, n, seed);
        n += 4;
        break;
    }
    case K_BOOL: {
        int64_t x;
        if (st != SQLITE_INTEGER || ((x = sqlite3_value_int64(v)) != 0 && x != 1))
            return 0;
        be32_at(f, 1);
        f[4] = (unsigned char)x;
        n = 5;
        *h = hash_u32((uint32_t)x, seed);
        break;
    }
    case K_TEXT:
    case K_VARCHAR: {
        if (st != SQLITE_TEXT)
            return 0;
        const unsigned char *s = sqlite3_value_text(v);
        size_t len = (size_t)sqlite3_value_bytes(v), at;
        long chars = s ? utf8_check(s, len, &at) : -1;
        if (chars < 0 || (t->kind == K_VARCHAR && t->len >= 0 && chars > t->len) || len > INT32_MAX)
            return 0;
        *h = pg_hash64(s, len, seed);
        if (out) {
            be32_at(f, (uint32_t)len);
            cbuf_add(out, f, 4);
            cbuf_add(out, s, len);
        }
        return 1;
    }
    default:
        return 0;
    }
    if (out)
        cbuf_add(out, f, n);
    return 1;
}

uint64_t conv_hash(const cconv *c, uint64_t seed)
{
    switch (c->hk) {
    case HK_I64:
        return pg_hash_i64((int64_t)c->hv, seed);
    case HK_U32:
        return pg_hash_u32((uint32_t)c->hv, seed);
    case HK_BIN:
        return pg_hash64(c->bin.data ? c->bin.data : "", c->bin.len, seed);
    case HK_HEX:
        return pg_hash64_hex((const unsigned char *)(c->bin.data ? c->bin.data : ""), c->bin.len, seed);
    case HK_NUM:
        return pg_hash_numeric((const unsigned char *)(c->bin.data ? c->bin.data : ""), c->bin.len, seed);
    case HK_F8: {
        double d;
        memcpy(&d, &c->hv, 8);
        return hash_f8(d, seed);
    }
    default:
        return pg_hash64(c->canon.data ? c->canon.data : "", c->canon.len, seed);
    }
}

uint64_t null_mark(int k)
{
    /* positive and below 2^62, so that SQL reads it as a bigint literal */
    return ((uint64_t)(k + 1) * 0x9E3779B97F4A7C15ull) >> 2;
}

void hash_sql(buf *b, const ctype *t, const char *q, uint64_t seed)
{
    unsigned long long s = (unsigned long long)seed;
    switch (t->kind) {
    case K_INT2:
        buf_addf(b, "hashint2extended(%s, %llu)", q, s);
        break;
    case K_INT4:
        buf_addf(b, "hashint4extended(%s, %llu)", q, s);
        break;
    case K_INT8:
        buf_addf(b, "hashint8extended(%s, %llu)", q, s);
        break;
    case K_BOOL:
        buf_addf(b, "hashint4extended(%s::int4, %llu)", q, s);
        break;
    case K_TIMESTAMP:
        buf_addf(b, "timestamp_hash_extended(%s, %llu)", q, s);
        break;
    case K_TIME:
        buf_addf(b, "time_hash_extended(%s, %llu)", q, s);
        break;
    case K_UUID:
        buf_addf(b, "uuid_hash_extended(%s, %llu)", q, s);
        break;
    case K_FLOAT4:
    case K_FLOAT8:
        /* hashfloat*extended hash both zeros alike, to the seed: -0 takes
           the seed XOR 1, asked of zeros only (atan2(-0, -1) is -pi;
           cheaper than float8send, and many columns are mostly zeros) --
           the seed, not an XOR after, picks it: one call less a row */
        buf_addf(b, "hashfloat%cextended(%s, CASE WHEN %s = 0 AND atan2(%s, -1) < 0 THEN %llu ELSE %llu END)",
                 t->kind == K_FLOAT4 ? '4' : '8', q, q, q, s ^ 1, s);
        break;
    case K_NUMERIC:
        if (num_hashed(t)) {
            /* the hash leaves the sign out: a negative value is hashed
               with a seed of its own (NUM_NEG_SEED) */
            buf_addf(b, "hash_numeric_extended(%s, CASE WHEN %s < 0 THEN %llu ELSE %llu END)", q, q,
                     s + NUM_NEG_SEED, s);
            break;
        }
        /* fall through */
    default:
        buf_adds(b, "hashtextextended((");
        canon_sql(b, t, q);
        buf_addf(b, ") COLLATE \"C\", %llu)", s);
        break;
    }
}

void canon_sql(buf *b, const ctype *t, const char *q)
{
    switch (t->kind) {
    case K_FLOAT4:
        buf_addf(b, "encode(float4send(%s), 'hex')", q);
        break;
    case K_FLOAT8:
        buf_addf(b, "encode(float8send(%s), 'hex')", q);
        break;
    case K_BYTEA:
        buf_addf(b, "encode(%s, 'hex')", q);
        break;
    case K_OTHER:
        /* a type strata passes as text is read back in its output
           function's form, which text was read into: a cast to text may
           differ (inet's adds the mask: 192.168.0.1/32) */
        buf_addf(b, "format('%%s', %s)", q);
        break;
    default:
        buf_addf(b, "%s::text", q);
        break;
    }
}

int conv_literal(cconv *c, const ctype *t, const char *decl, const char *lit, int is_string, int is_null,
                 buf *out)
{
    sqlite3_value *v = NULL;
    /* build a value of the literal's storage class through SQLite itself */
    sqlite3 *db = NULL;
    sqlite3_stmt *st = NULL;
    int rc = -1, isnull = 0;
    if (is_null) {
        buf_adds(out, "NULL");
        return 0;
    }
    if (sqlite3_open(":memory:", &db) != SQLITE_OK)
        goto out;
    /* the value SQLite stores for the default: the literal through the
       column's affinity (a real 1.0 in a TEXT column is the text '1.0', in
       an INTEGER column the integer 1), by SQLite itself; a declared type
       an ordinary table does not take (STRICT's ANY keeps values as
       given) reads the bare literal */
    buf q, l;
    buf_init(&q);
    buf_init(&l);
    if (is_string)
        buf_add_sqlstr(&l, lit);
    else
        buf_adds(&l, lit);
    buf_addf(&q, "CREATE TABLE d (c %s DEFAULT %s); INSERT INTO d DEFAULT VALUES;", decl ? decl : "",
             l.data ? l.data : "");
    int typed = decl && *decl && c_strcasecmp(decl, "ANY") != 0 && q.data && l.data &&
                sqlite3_exec(db, q.data, NULL, NULL, NULL) == SQLITE_OK;
    buf_reset(&q);
    if (typed)
        buf_adds(&q, "SELECT c FROM d");
    else
        buf_addf(&q, "SELECT %s", l.data ? l.data : "");
    buf_release(&l);
    int prc = q.data ? sqlite3_prepare_v2(db, q.data, -1, &st, NULL) : SQLITE_ERROR;
    buf_release(&q);
    if (prc != SQLITE_OK || sqlite3_step(st) != SQLITE_ROW)
        goto out;
    v = sqlite3_column_value(st, 0);
    if (conv_value(c, t, v, CV_WANT_TEXT, &isnull))
        goto out;
    if (isnull) {
        buf_adds(out, "NULL");
    } else {
        buf_add_sqlstr(out, c->text.data ? c->text.data : "");
        buf_adds(out, "::");
        ctype_sql(t, out);
    }
    rc = 0;
out:
    sqlite3_finalize(st);
    sqlite3_close(db);
    return rc;
}
