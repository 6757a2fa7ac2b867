/*
 * env.c -- reads one variable from a dotenv file.
 *
 * Syntax: KEY=VALUE lines, optional "export ", '#' comments, values in
 * single quotes (literal), double quotes (\n, \", \\ escapes) or bare (an
 * inline " #" starts a comment; surrounding blanks trimmed). Later lines win.
 */
#include "internal.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static char *parse_value(const char *v)
{
    buf b;
    buf_init(&b);
    while (*v == ' ' || *v == '\t')
        v++;
    if (*v == '\'') {
        const char *e = strchr(v + 1, '\'');
        buf_add(&b, v + 1, e ? (size_t)(e - v - 1) : strlen(v + 1));
    } else if (*v == '"') {
        for (v++; *v && *v != '"'; v++) {
            if (*v == '\\' && v[1]) {
                v++;
                buf_add(&b, *v == 'n' ? "\n" : *v == 't' ? "\t" : v, 1);
            } else {
                buf_add(&b, v, 1);
            }
        }
    } else {
        size_t n = 0;
        while (v[n] && !(v[n] == '#' && n > 0 && (v[n - 1] == ' ' || v[n - 1] == '\t')))
            n++;
        while (n && isspace((unsigned char)v[n - 1]))
            n--;
        buf_add(&b, v, n);
    }
    return buf_detach(&b);
}

int env_text_lookup(const char *text, size_t len, const char *name, char **value)
{
    size_t nl = strlen(name), pos = 0;
    *value = NULL;
    while (pos < len) {
        size_t eol = pos;
        while (eol < len && text[eol] != '\n')
            eol++;
        /* one line, without its CR/LF, as a NUL-terminated copy */
        size_t n = eol - pos;
        while (n && text[pos + n - 1] == '\r')
            n--;
        char *line = xstrndup(text + pos, n);
        pos = eol + 1;
        if (!line)
            return -1;
        char *p = line;
        while (*p == ' ' || *p == '\t')
            p++;
        if (!strncmp(p, "export", 6) && (p[6] == ' ' || p[6] == '\t'))
            p += 7;
        while (*p == ' ' || *p == '\t')
            p++;
        if (nl && strncmp(p, name, nl) == 0) {
            p += nl;
            while (*p == ' ' || *p == '\t')
                p++;
            if (*p == '=') {
                free(*value);
                *value = parse_value(p + 1);
            }
        }
        free(line);
    }
    return 0;
}

int env_file_lookup(const char *path, const char *name, char **value)
{
    enum { MAX_ENV_FILE = 1 << 20 };
    *value = NULL;
    FILE *f = fopen(path, "r");
    if (!f)
        return errno == ENOENT ? 0 : -1;
    buf b;
    char chunk[8192];
    size_t n;
    buf_init(&b);
    while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0 && b.len < MAX_ENV_FILE)
        buf_add(&b, chunk, n);
    int bad = ferror(f) || b.oom;
    fclose(f);
    int rc = bad ? -1 : env_text_lookup(b.data ? b.data : "", b.len, name, value);
    buf_release(&b);
    return rc;
}
