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
