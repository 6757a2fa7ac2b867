/*
 * copy_time.c -- dates and times for strata copy: the proleptic Gregorian
 * calendar, ISO-8601 text, numbers that are plausible times (Unix seconds,
 * milliseconds, microseconds, Julian days), and the text PostgreSQL prints
 * for a date and a time of day (the canonical forms the checksum compares).
 * Which storage class becomes which date is decided in copy_value.c.
 */
#include "copy_internal.h"

#include <ctype.h>
#include <math.h>
#include <stdio.h>

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

/* Parses a time of day "HH:MM[:SS[.frac]]" at s[*i]; micros of the day. */
int parse_tod(const char *s, size_t n, size_t *i, int64_t *us, char *why, size_t whysz)
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
    ascii_trim(&s, &n);
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
static int julian_us(double v, int64_t *us)
{
    if (!(v >= 1721425.5 && v < 5373484.5))
        return -1;
    int64_t ijd = (int64_t)(v * 86400000.0 + 0.5);
    *us = (ijd - 210866760000000LL) * 1000;
    return 0;
}

int epoch_us_int(int64_t v, int64_t *us)
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

int epoch_us_real(double v, int64_t *us)
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

void fmt_date(buf *b, int64_t days)
{
    int y, m, d;
    civil_from_days(days, &y, &m, &d);
    put_digits(b, y, 4);
    cbuf_add(b, "-", 1);
    put_digits(b, m, 2);
    cbuf_add(b, "-", 1);
    put_digits(b, d, 2);
}

void fmt_tod(buf *b, int64_t us)
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

int64_t floordiv(int64_t a, int64_t b)
{
    int64_t q = a / b;
    if ((a % b) && ((a < 0) != (b < 0)))
        q--;
    return q;
}
