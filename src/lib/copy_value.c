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
 * rounded, truncated or reinterpreted silently.
 */
#include "copy_internal.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
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

static inline void put32(buf *b, uint32_t v)
{
    unsigned char x[4] = {(unsigned char)(v >> 24), (unsigned char)(v >> 16), (unsigned char)(v >> 8),
                          (unsigned char)v};
    cbuf_add(b, (char *)x, 4);
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
        snprintf(out, 32, "%.*g", p, d);
        if (strtod(out, NULL) == d)
            return;
    }
}

/* Checks UTF-8 as PostgreSQL does (no overlongs, no surrogates, <= U+10FFFF)
   and rejects NUL. Returns the number of characters, or -1 with *at set to
   the offset of the first bad byte. */
static long utf8_check(const unsigned char *s, size_t n, size_t *at)
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

/* Trims ASCII blanks: [*s, *s + *n). */
static void trim(const char **s, size_t *n)
{
    while (*n && isspace((unsigned char)**s))
        (*s)++, (*n)--;
    while (*n && isspace((unsigned char)(*s)[*n - 1]))
        (*n)--;
}

static int parse_int64(const char *s, size_t n, int64_t *out)
{
    trim(&s, &n);
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

uint64_t pg_hash64(const void *data, size_t len, uint64_t seed)
{
    const unsigned char *k = data;
    uint32_t a, b, c;
    a = b = c = 0x9e3779b9u + (uint32_t)len + 3923095u;
    if (seed) {
        /* the seed perturbs the state as a 12-byte chunk would */
        a += (uint32_t)(seed >> 32);
        b += (uint32_t)seed;
        MIX(a, b, c);
    }
    while (len >= 12) {
        a += le32(k, 4);
        b += le32(k + 4, 4);
        c += le32(k + 8, 4);
        MIX(a, b, c);
        k += 12;
        len -= 12;
    }
    /* the tail: the low byte of c stays for the length */
    if (len > 8)
        c += le32(k + 8, len - 8) << 8;
    if (len > 4)
        b += le32(k + 4, len > 8 ? 4 : len - 4);
    if (len > 0)
        a += le32(k, len > 4 ? 4 : len);
    FINAL(a, b, c);
    return ((uint64_t)b << 32) | c;
}

uint64_t pg_hash_u32(uint32_t k, uint64_t seed)
{
    uint32_t a, b, c;
    a = b = c = 0x9e3779b9u + 4u + 3923095u;
    if (seed) {
        a += (uint32_t)(seed >> 32);
        b += (uint32_t)seed;
        MIX(a, b, c);
    }
    a += k;
    FINAL(a, b, c);
    return ((uint64_t)b << 32) | c;
}

/* hashint8extended(): int8, int4, int2, timestamp and time all hash this way */
static uint64_t pg_hash_i64(int64_t v, uint64_t seed)
{
    uint32_t lo = (uint32_t)(uint64_t)v, hi = (uint32_t)((uint64_t)v >> 32);
    lo ^= v >= 0 ? hi : ~hi;
    return pg_hash_u32(lo, seed);
}

/* ------------------------------------------------------------ numeric */

/* A decimal number: digits d[0..nd) (no leading zeros), value
   0.d1d2... * 10^point; dscale as PostgreSQL's numeric_in computes it. */
typedef struct dec {
    int neg;
    char d[1100];
    int nd;
    int point;
    int dscale;
} dec;

/* Parses [+-]digits[.digits][e[+-]digits] with blanks around. */
static int dec_parse(const char *s, size_t n, dec *x)
{
    trim(&s, &n);
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
static void dec_plain(const dec *x, int scale, buf *b)
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

/* --------------------------------------------------------- date & time */

static int64_t days_from_civil(int64_t y, unsigned m, unsigned d)
{
    y -= m <= 2;
    int64_t era = (y >= 0 ? y : y - 399) / 400;
    unsigned yoe = (unsigned)(y - era * 400);
    unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + (int64_t)doe - 719468;
}

static void civil_from_days(int64_t z, int *y, int *m, int *d)
{
    z += 719468;
    int64_t era = (z >= 0 ? z : z - 146096) / 146097;
    unsigned doe = (unsigned)(z - era * 146097);
    unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    int64_t yy = (int64_t)yoe + era * 400;
    unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    unsigned mp = (5 * doy + 2) / 153;
    *d = (int)(doy - (153 * mp + 2) / 5 + 1);
    *m = (int)(mp < 10 ? mp + 3 : mp - 9);
    *y = (int)(yy + (*m <= 2));
}

static int mdays(int y, int m)
{
    static const int d[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    if (m == 2 && ((y % 4 == 0 && y % 100 != 0) || y % 400 == 0))
        return 29;
    return d[m - 1];
}

static int digits(const char *s, size_t n, size_t at, int k, int *out)
{
    if (at + (size_t)k > n)
        return -1;
    int v = 0;
    for (int i = 0; i < k; i++) {
        if (!isdigit((unsigned char)s[at + i]))
            return -1;
        v = v * 10 + (s[at + i] - '0');
    }
    *out = v;
    return 0;
}

#define US_PER_DAY 86400000000LL
#define MIN_US (-62135596800LL * 1000000LL) /* 0001-01-01 */
#define MAX_US (253402300800LL * 1000000LL) /* 10000-01-01, exclusive */

/* Parses a time of day "HH:MM[:SS[.frac]]" at s[*i]; micros of the day. */
static int parse_tod(const char *s, size_t n, size_t *i, int64_t *us, char *why, size_t whysz)
{
    int h, mi, sec = 0;
    size_t p = *i;
    if (digits(s, n, p, 2, &h) || p + 2 >= n || s[p + 2] != ':' || digits(s, n, p + 3, 2, &mi)) {
        snprintf(why, whysz, "time of day is not HH:MM[:SS[.fff]]");
        return -1;
    }
    p += 5;
    int64_t frac = 0;
    if (p < n && s[p] == ':') {
        if (digits(s, n, p + 1, 2, &sec)) {
            snprintf(why, whysz, "seconds are not two digits");
            return -1;
        }
        p += 3;
        if (p < n && s[p] == '.') {
            p++;
            int nd = 0;
            int64_t scale = 100000;
            while (p < n && isdigit((unsigned char)s[p])) {
                if (nd < 6) {
                    frac += (s[p] - '0') * scale;
                    scale /= 10;
                } else if (s[p] != '0') {
                    snprintf(why, whysz, "more than microsecond precision");
                    return -1;
                }
                nd++;
                p++;
            }
            if (!nd) {
                snprintf(why, whysz, "no digits after the decimal point");
                return -1;
            }
        }
    }
    if (h > 23 || mi > 59 || sec > 59) {
        snprintf(why, whysz, "time of day out of range");
        return -1;
    }
    *us = ((int64_t)h * 3600 + mi * 60 + sec) * 1000000 + frac;
    *i = p;
    return 0;
}

/* ISO-8601 text: YYYY-MM-DD[( |T)HH:MM[:SS[.f]]][Z|(+|-)HH[:MM]]. Offsets are
   applied: the result is UTC microseconds since 1970. */
int parse_datetime_text(const char *s, size_t n, int64_t *unix_us, char *why, size_t whysz)
{
    trim(&s, &n);
    int y, m, d;
    if (digits(s, n, 0, 4, &y) || n < 10 || s[4] != '-' || digits(s, n, 5, 2, &m) || s[7] != '-' ||
        digits(s, n, 8, 2, &d)) {
        snprintf(why, whysz, "not an ISO-8601 date (YYYY-MM-DD...)");
        return -1;
    }
    if (y < 1 || m < 1 || m > 12 || d < 1 || d > mdays(y, m)) {
        snprintf(why, whysz, "no such date");
        return -1;
    }
    int64_t us = days_from_civil(y, (unsigned)m, (unsigned)d) * US_PER_DAY;
    size_t i = 10;
    if (i < n && (s[i] == 'T' || s[i] == 't' || s[i] == ' ')) {
        i++;
        int64_t tod;
        if (parse_tod(s, n, &i, &tod, why, whysz))
            return -1;
        us += tod;
    }
    if (i < n) {
        if ((s[i] == 'Z' || s[i] == 'z') && i + 1 == n) {
            i++;
        } else if (s[i] == '+' || s[i] == '-') {
            int sign = s[i] == '-' ? -1 : 1, oh, om = 0;
            size_t p = i + 1;
            if (digits(s, n, p, 2, &oh)) {
                snprintf(why, whysz, "bad time zone offset");
                return -1;
            }
            p += 2;
            if (p < n && s[p] == ':')
                p++;
            if (p < n) {
                if (digits(s, n, p, 2, &om)) {
                    snprintf(why, whysz, "bad time zone offset");
                    return -1;
                }
                p += 2;
            }
            if (p != n || oh > 15 || om > 59) {
                snprintf(why, whysz, "bad time zone offset");
                return -1;
            }
            us -= sign * ((int64_t)oh * 3600 + om * 60) * 1000000;
            i = n;
        }
    }
    if (i != n) {
        snprintf(why, whysz, "unexpected text after the date and time");
        return -1;
    }
    *unix_us = us;
    return 0;
}

/*
 * A number in a date or time column is a time only where its size makes it
 * plausible: a Julian day between 1721425.5 and 5373484.5 (years 1 to 9999,
 * read as SQLite's own date functions read it), or Unix time in seconds
 * when 1e8 <= |v| < 1e10 (1973-03-03 .. 2286-11-20, and 1653 .. 1966 before
 * 1970), milliseconds when 1e11 <= |v| < 1e13, microseconds when
 * 1e14 <= |v| < 1e16. Anything else -- 0, a year such as 2024, 20240102 --
 * is not a time and not made one: -1.
 */
#define EPOCH_RULE                                                                  \
    "a Unix time needs 10^8 <= |n| < 10^10 (seconds), 10^11..10^13 (milliseconds) " \
    "or 10^14..10^16 (microseconds), a Julian day 1721425.5..5373484.5"

static int julian_us(double v, int64_t *us)
{
    if (!(v >= 1721425.5 && v < 5373484.5))
        return -1;
    int64_t ijd = (int64_t)(v * 86400000.0 + 0.5);
    *us = (ijd - 210866760000000LL) * 1000;
    return 0;
}

static int epoch_us_int(int64_t v, int64_t *us)
{
    if (!julian_us((double)v, us))
        return 0;
    uint64_t a = v < 0 ? (uint64_t)0 - (uint64_t)v : (uint64_t)v;
    if (a >= 100000000ULL && a < 10000000000ULL)
        *us = v * 1000000;
    else if (a >= 100000000000ULL && a < 10000000000000ULL)
        *us = v * 1000;
    else if (a >= 100000000000000ULL && a < 10000000000000000ULL)
        *us = v;
    else
        return -1;
    return 0;
}

static int epoch_us_real(double v, int64_t *us)
{
    double a = fabs(v);
    double x;
    if (!julian_us(v, us))
        return 0;
    if (a >= 1e8 && a < 1e10)
        x = v * 1e6;
    else if (a >= 1e11 && a < 1e13)
        x = v * 1e3;
    else if (a >= 1e14 && a < 1e16)
        x = v;
    else
        return -1;
    *us = (int64_t)nearbyint(x);
    return 0;
}

static void put_digits(buf *b, int64_t v, int width)
{
    char t[24];
    int n = 0;
    uint64_t u = v < 0 ? 0 : (uint64_t)v;
    do {
        t[n++] = (char)('0' + (int)(u % 10));
        u /= 10;
    } while (u);
    while (n < width)
        t[n++] = '0';
    char o[24];
    for (int i = 0; i < n; i++)
        o[i] = t[n - 1 - i];
    cbuf_add(b, o, (size_t)n);
}

static void fmt_date(buf *b, int64_t days)
{
    int y, m, d;
    civil_from_days(days, &y, &m, &d);
    put_digits(b, y, 4);
    cbuf_add(b, "-", 1);
    put_digits(b, m, 2);
    cbuf_add(b, "-", 1);
    put_digits(b, d, 2);
}

static void fmt_tod(buf *b, int64_t us)
{
    int64_t s = us / 1000000, f = us % 1000000;
    put_digits(b, s / 3600, 2);
    cbuf_add(b, ":", 1);
    put_digits(b, s / 60 % 60, 2);
    cbuf_add(b, ":", 1);
    put_digits(b, s % 60, 2);
    if (f) {
        char fr[8];
        for (int k = 5; k >= 0; k--) {
            fr[k] = (char)('0' + (int)(f % 10));
            f /= 10;
        }
        int k = 6;
        while (k > 0 && fr[k - 1] == '0')
            k--;
        cbuf_add(b, ".", 1);
        cbuf_add(b, fr, (size_t)k);
    }
}

static int64_t floordiv(int64_t a, int64_t b)
{
    int64_t q = a / b;
    if ((a % b) && ((a < 0) != (b < 0)))
        q--;
    return q;
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
            double r = strtod(s, NULL);
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
        if (n == cap) {
            cap = cap ? cap * 2 : 8;
            jmember *nm = realloc(m, cap * sizeof(*m));
            if (!nm) {
                buf_release(&k);
                buf_release(&v);
                jfail(p, "out of memory");
                goto out;
            }
            m = nm;
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
        if (!(d >= -9223372036854775808.0 && d < 9223372036854775808.0) || d != floor(d))
            return bad(c, "a real number that is not an integer");
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
        trim(&s, &n);
        char tmp[64];
        if (n && n < sizeof(tmp)) {
            memcpy(tmp, s, n);
            tmp[n] = 0;
        } else {
            tmp[0] = 0;
        }
        if (!strcmp(tmp, "Infinity") || !strcmp(tmp, "inf"))
            d = INFINITY;
        else if (!strcmp(tmp, "-Infinity") || !strcmp(tmp, "-inf"))
            d = -INFINITY;
        else if (!strcmp(tmp, "NaN"))
            d = NAN;
        else if (!tmp[0] || dec_parse(s, n, &x))
            return bad(c, "text that is not a number");
        else
            d = strtod(tmp, NULL);
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
        unsigned char be[4] = {(unsigned char)(u >> 24), (unsigned char)(u >> 16), (unsigned char)(u >> 8),
                               (unsigned char)u};
        hexbytes(&c->canon, be, 4);
    } else {
        uint64_t u;
        memcpy(&u, &d, 8);
        put64(&c->bin, u);
        unsigned char be[8];
        for (int i = 0; i < 8; i++)
            be[i] = (unsigned char)(u >> (56 - 8 * i));
        hexbytes(&c->canon, be, 8);
    }
    if (flags & CV_WANT_TEXT) {
        if (t->kind == K_FLOAT4)
            snprintf(txt, sizeof(txt), "%.9g", d);
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
static const uint64_t pow10u[] = {1, 10, 100, 1000, 10000, 100000, 1000000, 10000000, 100000000};

static int numeric_fixed(cconv *c, const ctype *t, int neg, uint64_t u, int flags)
{
    int sc = t->scale;
    char dg[24];
    int n = 0;
    uint64_t w = u;
    do {
        dg[n++] = (char)('0' + (int)(w % 10));
        w /= 10;
    } while (w);
    /* dg holds the digits least significant first */
    int intd = u ? (n > sc ? n - sc : 0) : 0;
    if (intd > t->prec - sc)
        return bad(c, "more than %d digit%s before the decimal point", t->prec - sc,
                   t->prec - sc == 1 ? "" : "s");
    if (!u)
        neg = 0;
    /* canonical text: [-]int.frac with exactly sc digits after the point */
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
    /* binary */
    uint64_t ip = u / pow10u[sc], fp = u % pow10u[sc];
    int nfrac = (sc + 3) / 4;
    uint64_t fps = fp * pow10u[4 * nfrac - sc];
    int g[8], ni = 0;
    for (uint64_t q = ip; q; q /= 10000)
        g[ni++] = (int)(q % 10000);
    if (!u) {
        put16(&c->bin, 0);
        put16(&c->bin, 0);
        put16(&c->bin, 0);
        put16(&c->bin, sc);
        return CV_OK;
    }
    put16(&c->bin, ni + nfrac);
    put16(&c->bin, ni - 1);
    put16(&c->bin, neg ? 0x4000 : 0);
    put16(&c->bin, sc);
    for (int i = ni - 1; i >= 0; i--)
        put16(&c->bin, g[i]);
    if (nfrac == 2) {
        put16(&c->bin, (int)(fps / 10000));
        put16(&c->bin, (int)(fps % 10000));
    } else if (nfrac == 1) {
        put16(&c->bin, (int)fps);
    }
    return CV_OK;
}

static int conv_numeric(cconv *c, const ctype *t, sqlite3_value *v, int flags)
{
    int st = sqlite3_value_type(v);
    dec x;
    char tmp[32];
    int fixed = t->prec > 0 && t->scale >= 0 && t->scale <= 8;
    if (st == SQLITE_INTEGER && fixed) {
        int64_t i = sqlite3_value_int64(v);
        uint64_t u = i < 0 ? (uint64_t)0 - (uint64_t)i : (uint64_t)i;
        if (u <= (UINT64_C(1) << 62) / pow10u[t->scale])
            return numeric_fixed(c, t, i < 0, u * pow10u[t->scale], flags);
    }
    if (st == SQLITE_INTEGER) {
        size_t l = i64_text(sqlite3_value_int64(v), tmp);
        dec_parse(tmp, l, &x);
    } else if (st == SQLITE_FLOAT) {
        double d = sqlite3_value_double(v);
        if (!isfinite(d))
            return bad(c, "infinity does not fit numeric");
        /* fast path: a real that is exactly the nearest double of a decimal
           with at most `scale` digits after the point (12.34 in a
           numeric(12,2) column) -- k / 10^s is correctly rounded, so the
           comparison is exact; only below 2^53 / 10^s, where that decimal
           is unique */
        int sc = fixed ? t->scale : -1;
        double p = sc >= 0 ? (double)pow10u[sc] : 1; /* exact: at most 10^8 */
        double kd = sc >= 0 ? nearbyint(d * p) : 0;
        if (sc >= 0 && fabs(kd) < 9007199254740992.0 / p && kd / p == d)
            return numeric_fixed(c, t, kd < 0, (uint64_t)fabs(kd), flags);
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
    dec_plain(&x, dscale, &c->canon);
    if (flags & CV_WANT_TEXT)
        cbuf_add(&c->text, c->canon.data, c->canon.len);
    return CV_OK;
}

static int conv_text(cconv *c, const ctype *t, sqlite3_value *v, int flags)
{
    int st = sqlite3_value_type(v);
    const char *s;
    size_t n;
    if (st == SQLITE_INTEGER || st == SQLITE_FLOAT) {
        number_text(v, &c->tmp);
        s = c->tmp.data;
        n = c->tmp.len;
    } else if (st == SQLITE_TEXT) {
        s = (const char *)sqlite3_value_text(v);
        n = (size_t)sqlite3_value_bytes(v);
    } else {
        snprintf(c->why, sizeof(c->why), "a blob in a text column");
        return CV_BAD_BYTES;
    }
    long chars = 0;
    int r = text_ok(c, (const unsigned char *)s, n, &chars);
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
    int st = sqlite3_value_type(v);
    const char *s;
    size_t n;
    if (st == SQLITE_INTEGER || st == SQLITE_FLOAT) {
        number_text(v, &c->tmp);
        s = c->tmp.data;
        n = c->tmp.len;
    } else if (st == SQLITE_TEXT) {
        s = (const char *)sqlite3_value_text(v);
        n = (size_t)sqlite3_value_bytes(v);
    } else {
        snprintf(c->why, sizeof(c->why), "a blob in a JSON column");
        return CV_BAD_BYTES;
    }
    int r = text_ok(c, (const unsigned char *)s, n, NULL);
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

static int conv_bytea(cconv *c, sqlite3_value *v, int flags)
{
    int st = sqlite3_value_type(v);
    const unsigned char *p;
    size_t n;
    if (st == SQLITE_BLOB) {
        p = sqlite3_value_blob(v);
        n = (size_t)sqlite3_value_bytes(v);
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
        trim(&s, &n);
        static const char *yes[] = {"1", "t", "true", "y", "yes", "on"};
        static const char *no[] = {"0", "f", "false", "n", "no", "off"};
        for (int i = 0; i < 6 && b < 0; i++) {
            if (n == strlen(yes[i]) && !strncasecmp(s, yes[i], n))
                b = 1;
            else if (n == strlen(no[i]) && !strncasecmp(s, no[i], n))
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

static int conv_date(cconv *c, const ctype *t, sqlite3_value *v, int flags)
{
    int64_t us;
    int r = value_ts(c, v, &us);
    if (r)
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

static int conv_time(cconv *c, sqlite3_value *v, int flags)
{
    if (sqlite3_value_type(v) != SQLITE_TEXT)
        return bad(c, "not a time of day (HH:MM[:SS[.fff]])");
    const char *s = (const char *)sqlite3_value_text(v);
    size_t n = (size_t)sqlite3_value_bytes(v), i = 0;
    int64_t us;
    trim(&s, &n);
    if (parse_tod(s, n, &i, &us, c->why, sizeof(c->why)))
        return CV_BAD;
    if (i != n)
        return bad(c, "unexpected text after the time of day");
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
        trim(&s, &n);
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
    static const ctype tt = {K_TEXT, -1, -1, -1};
    int r = conv_text(c, &tt, v, 1);
    return r;
}

int conv_value(cconv *c, const ctype *t, sqlite3_value *v, int flags, int *isnull)
{
    c->bin.len = c->canon.len = c->text.len = c->tmp.len = 0;
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
        r = conv_bytea(c, v, flags);
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
        r = conv_time(c, v, flags);
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

uint64_t conv_hash(const cconv *c, uint64_t seed)
{
    switch (c->hk) {
    case HK_I64:
        return pg_hash_i64((int64_t)c->hv, seed);
    case HK_U32:
        return pg_hash_u32((uint32_t)c->hv, seed);
    case HK_BIN:
        return pg_hash64(c->bin.data ? c->bin.data : "", c->bin.len, seed);
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
    default:
        buf_addf(b, "%s::text", q);
        break;
    }
}

int conv_literal(cconv *c, const ctype *t, const char *lit, int is_string, int is_null, buf *out)
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
    buf q;
    buf_init(&q);
    buf_adds(&q, "SELECT ");
    if (is_string)
        buf_add_sqlstr(&q, lit);
    else
        buf_adds(&q, lit);
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
