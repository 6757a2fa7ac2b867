/*
 * cnum.c -- numbers in the "C" locale, whatever the program's locale.
 *
 * strata is a library too: a program that embeds it may call setlocale
 * (any localized application does), and then strtod and printf read and
 * write numbers with that locale's decimal point -- "1.5" read as 1 under
 * a German LC_NUMERIC, 0.1 written "0,1". SQL, SQLite's text and the
 * environment's settings always use '.', so strata reads and writes its
 * numbers through here (internal.h).
 */
#include "internal.h"

#include <locale.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static locale_t c_loc;
static pthread_once_t c_once = PTHREAD_ONCE_INIT;

static void c_init(void)
{
    c_loc = newlocale(LC_ALL_MASK, "C", (locale_t)0);
}

double c_strtod(const char *s, char **end)
{
    pthread_once(&c_once, c_init);
    if (!c_loc) /* no memory for a locale object: the program's own */
        return strtod(s, end);
    return strtod_l(s, end, c_loc);
}

void c_fmt_double(char *out, size_t outsz, int prec, double d)
{
    pthread_once(&c_once, c_init);
    /* uselocale is per thread: the program's other threads keep theirs */
    locale_t old = c_loc ? uselocale(c_loc) : (locale_t)0;
    snprintf(out, outsz, "%.*g", prec, d);
    if (old)
        uselocale(old);
}

/*
 * Letters in the "C" locale: SQL keywords, type names, URL schemes and
 * strata's markers are ASCII, and case-insensitive matching of them must
 * not follow the program's locale -- under tr_TR, c_tolower('I') is not 'i'
 * (it is the dotless i), so "INSERT" and "insert" would differ, a
 * checksum's tokens and copy's type names with them.
 */
int c_tolower(int c)
{
    return c >= 'A' && c <= 'Z' ? c + ('a' - 'A') : c;
}

int c_toupper(int c)
{
    return c >= 'a' && c <= 'z' ? c - ('a' - 'A') : c;
}

int c_strncasecmp(const char *a, const char *b, size_t n)
{
    for (; n; n--, a++, b++) {
        int x = c_tolower((unsigned char)*a), y = c_tolower((unsigned char)*b);
        if (x != y || !x)
            return x - y;
    }
    return 0;
}

int c_strcasecmp(const char *a, const char *b)
{
    return c_strncasecmp(a, b, (size_t)-1);
}

char *c_strcasestr(const char *hay, const char *needle)
{
    size_t n = strlen(needle);
    for (; *hay; hay++)
        if (!c_strncasecmp(hay, needle, n))
            return (char *)hay;
    return n ? NULL : (char *)hay;
}
