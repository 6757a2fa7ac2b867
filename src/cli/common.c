/* common.c -- what several commands share: opening, events, result output. */
#include "cli.h"

#include <errno.h>
#include <stdint.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

const char *cli_dir(const cli *c)
{
    if (c->dir)
        return c->dir;
    const char *e = getenv("STRATA_DIR");
    return e && *e ? e : "./migrations";
}

static void on_event(void *ud, const strata_event *ev)
{
    cli *c = ud;
    switch (ev->kind) {
    case STRATA_EV_LOCK_WAIT:
        if (!c->quiet && !c->json)
            fprintf(stderr, "strata: %s\n", term_str(ev->text));
        break;
    case STRATA_EV_MIGRATE_START:
        if (c->verbose && !c->json)
            fprintf(stderr, "strata: %s %s\n", ev->down ? "reverting" : "applying", term_str(ev->text));
        break;
    case STRATA_EV_MIGRATE_DONE:
        if (!c->quiet && !c->json)
            printf("%s%s%s %s (%ld ms)\n", color(c, ev->down ? "\033[33m" : "\033[32m"),
                   ev->down ? "reverted" : "applied", color(c, "\033[0m"), term_str(ev->text),
                   ev->duration_ms);
        fflush(stdout);
        break;
    case STRATA_EV_SQL:
        if (c->json) {
            size_t n = strlen(ev->text);
            if (!cli_grow(&c->dry_sql, &c->dry_cap, c->dry_len + n + 1, 1)) {
                memcpy(c->dry_sql + c->dry_len, ev->text, n + 1);
                c->dry_len += n;
            }
        } else {
            fputs(ev->text, stdout);
        }
        break;
    case STRATA_EV_NOTICE:
        if (c->verbose && !c->json) {
            size_t n = strlen(ev->text); /* the server's end with a newline, strata's own do not */
            fprintf(stderr, "strata: server: %s%s", ev->text, n && ev->text[n - 1] == '\n' ? "" : "\n");
        }
        break;
    case STRATA_EV_WARNING:
        if (!c->quiet && !c->json)
            fprintf(stderr, "strata: %s\n", ev->text);
        break;
    }
}

int cli_url(cli *c, char **url, int writing, strata_error *err)
{
    strata_url_opts uo = {c->url, c->url_env, c->env_file, c->require_url};
    strata_url_source src;
    *url = NULL;
    if (strata_url_resolve(&uo, url, &src, err))
        return -1;
    if (writing && src == STRATA_URL_FROM_DEFAULT && !c->said_default && !c->quiet && !c->json) {
        /* nobody named this database: say which one is about to change */
        fprintf(stderr, "strata: using the default database %s (no --url or DATABASE_URL given)\n",
                term_str(*url));
        c->said_default = 1;
    }
    if (c->verbose && !c->json && !c->said_url) {
        c->said_url = 1; /* once, though a command may resolve it twice */
        char *red = strata_url_redact(*url);
        static const char *from[] = {"--url", "environment", "env file", "embedded default"};
        fprintf(stderr, "strata: database %s (from %s)\n", red ? term_str(red) : "?", from[src]);
        free(red);
    }
    return 0;
}

strata_config cli_config(cli *c, int readonly)
{
    strata_config cfg = {.table = c->table,
                         .lock_timeout = c->lock_timeout,
                         .readonly = readonly,
                         .on_event = on_event,
                         .userdata = c,
                         .connect_timeout = readonly ? 0 : c->connect_timeout};
    return cfg;
}

int cli_grow(void *pp, size_t *cap, size_t need, size_t size)
{
    void *p;
    memcpy(&p, pp, sizeof(p));
    if (need <= *cap)
        return 0;
    size_t n = *cap ? *cap : 8;
    while (n < need)
        n *= 2;
    if (n > SIZE_MAX / size || !(p = realloc(p, n * size)))
        return -1;
    memcpy(pp, &p, sizeof(p));
    *cap = n;
    return 0;
}

static void print_load_warnings(const cli *c, const strata_migset *set)
{
    for (size_t i = 0; i < strata_migset_warning_count(set); i++)
        out_warning(c, strata_migset_warning(set, i));
}

strata_code cli_load(const cli *c, strata_migset **set, strata_error *err)
{
    strata_code rc = strata_migset_load(cli_dir(c), set, err);
    if (rc == STRATA_OK)
        print_load_warnings(c, *set);
    return rc;
}

const char *cli_cache_dir(void)
{
    static char dir[4096];
    const char *e = getenv("STRATA_CACHE_DIR"), *x = getenv("XDG_CACHE_HOME"), *h = getenv("HOME");
    if (e)
        return *e ? e : NULL; /* empty: no cache */
    /* XDG_CACHE_HOME is made when missing (the XDG rule); HOME is not: a
       system user's HOME=/nonexistent is not made into a directory */
    struct stat st;
    if (x && x[0] == '/')
        snprintf(dir, sizeof(dir), "%s/strata", x);
    else if (h && h[0] == '/' && stat(h, &st) == 0 && S_ISDIR(st.st_mode))
        snprintf(dir, sizeof(dir), "%s/.cache/strata", h);
    else
        return NULL;
    return dir;
}

int cli_open(cli *c, int readonly, strata **db, strata_migset **set, strata_error *err)
{
    char *url = NULL;
    strata_migset_loader *ld = NULL;
    strata_error derr = {0};
    int no_dir = 0;
    *db = NULL;
    /* the files are read on another thread while the database opens */
    if (set) {
        *set = NULL;
        no_dir = strata_migset_load_start(cli_dir(c), c->use_cache ? cli_cache_dir() : NULL, &ld, &derr) != 0;
    }
    int rc = cli_url(c, &url, !readonly, err);
    if (rc == 0 && no_dir) { /* a bad URL is named first: it is the bigger mistake */
        if (strata_url_check(url, err) == STRATA_OK)
            *err = derr;
        free(url);
        return -1;
    }
    if (rc == 0) {
        strata_config cfg = cli_config(c, readonly);
        rc = strata_open(url, &cfg, db, err) ? -1 : 0;
        free(url);
    }
    if (rc == 0 && ld) {
        strata_error aerr = {0}; /* the same error comes again where it is needed */
        strata_read_ahead(*db, c->read_times ? STRATA_READ_TIMES : 0, &aerr);
    }
    if (ld) {
        strata_error lerr = {0};
        if (strata_migset_load_finish(ld, set, &lerr)) {
            strata_close(*db);
            *db = NULL;
            *err = lerr;
            return -1;
        }
        print_load_warnings(c, *set);
    }
    return rc;
}

void print_db_change(cli *c, const char *url, const char *name, const char *key, int changed,
                     const char *nothing)
{
    int sqlite = !strcmp(strata_url_engine(url), "sqlite");
    const char *what = sqlite ? "SQLite database" : "database";
    if (c->json) {
        jw w;
        jw_init(&w, stdout);
        jw_obj(&w);
        jw_kstr(&w, "database", name);
        jw_kstr(&w, "engine", sqlite ? "sqlite" : "postgres");
        jw_kbool(&w, key, changed);
        jw_obj_end(&w);
        jw_end(&w);
    } else if (!c->quiet) {
        if (changed)
            printf("%s %s '%s'\n", key, what, name);
        else
            printf("%s '%s' %s\n", what, name, nothing);
    }
}

void print_result(cli *c, const strata_result *r, int dry_run)
{
    if (c->json) {
        const char *keys[2] = {"applied", "reverted"};
        jw w;
        jw_init(&w, stdout);
        jw_obj(&w);
        for (int k = 0; k < 2; k++) {
            int any = 0;
            for (size_t i = 0; i < r->count; i++)
                any |= r->steps[i].down == k;
            /* up always has "applied", down always "reverted" */
            if (!any && !(k == 0 && !c->down) && !(k == 1 && c->down))
                continue;
            jw_key(&w, keys[k]);
            jw_arr(&w);
            for (size_t i = 0; i < r->count; i++) {
                if (r->steps[i].down != k)
                    continue;
                jw_obj(&w);
                jw_kstr(&w, "version", r->steps[i].version);
                jw_kstr(&w, "name", r->steps[i].name);
                jw_kint(&w, "duration_ms", r->steps[i].duration_ms);
                jw_obj_end(&w);
            }
            jw_arr_end(&w);
        }
        jw_kstr(&w, "current", r->current);
        if (dry_run) {
            jw_kbool(&w, "dry_run", 1);
            jw_kstr(&w, "sql", c->dry_sql ? c->dry_sql : "");
        }
        jw_obj_end(&w);
        jw_end(&w);
        return;
    }
    if (c->quiet)
        return;
    if (dry_run)
        printf("-- dry run: %zu migration%s would run; nothing was changed\n", r->count,
               r->count == 1 ? "" : "s");
    else if (r->count == 0)
        printf("nothing to %s\n", c->down ? "revert" : "apply");
    printf("current: %s%s\n", r->current ? term_str(r->current) : "base", dry_run ? " (unchanged)" : "");
}

void print_status_entry(const cli *c, const strata_status_entry *e, int show_state, int running)
{
    static const char *colors[] = {"\033[32m", "\033[33m", "\033[31m", "\033[31m", "\033[31m"};
    printf("%-16s %-40s", term_str(e->version), term_str(e->name));
    if (show_state)
        printf(" %s%-8s%s", color(c, running == 1 ? "\033[33m" : colors[e->state]),
               running == 1 ? "running" : strata_state_name(e->state), color(c, "\033[0m"));
    if (e->applied_at)
        printf(" %s", term_str(e->applied_at));
    if (!show_state)
        printf(" %5ld ms", e->duration_ms);
    /* the mark written before a no-transaction section runs */
    int mark = e->error && strstr(e->error, "interrupted before completion");
    if (running == 1)
        printf("  (being applied now by another strata process)");
    else if (e->error && show_state)
        printf("  (%s%s)", term_str(e->error),
               !mark          ? ""
               : running == 0 ? ", and no strata process is applying it now"
                              : ", or running now in another process: strata cannot tell");
    printf("\n");
}

char *cli_read_file(const char *what, const char *path, size_t *len, strata_error *err)
{
    /* non-blocking, so a FIFO cannot hang the open; fstat looks at what was opened */
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY);
    struct stat st;
    const char *sep = what ? " " : "";
    what = what ? what : "";
    if (fd < 0 || fstat(fd, &st) < 0) {
        int e = errno;
        if (fd >= 0)
            close(fd);
        err->code = STRATA_IO_ERROR;
        snprintf(err->message, sizeof(err->message), "cannot read %s%s'%s': %s", what, sep, path,
                 strerror(e));
        errno = e;
        return NULL;
    }
    if (!S_ISREG(st.st_mode) || st.st_size > CLI_FILE_MAX) {
        int reg = S_ISREG(st.st_mode);
        close(fd);
        err->code = reg ? STRATA_FILE_TOO_LARGE : STRATA_FILE_NOT_REGULAR;
        if (reg)
            snprintf(err->message, sizeof(err->message), "cannot read %s%s'%s': it is larger than %d MiB",
                     what, sep, path, CLI_FILE_MAX >> 20);
        else
            snprintf(err->message, sizeof(err->message), "cannot read %s%s'%s': it is %s, not a regular file",
                     what, sep, path,
                     S_ISDIR(st.st_mode)    ? "a directory"
                     : S_ISFIFO(st.st_mode) ? "a FIFO"
                     : S_ISCHR(st.st_mode)  ? "a character device"
                     : S_ISSOCK(st.st_mode) ? "a socket"
                                            : "a special file");
        errno = reg ? EFBIG : EINVAL;
        return NULL;
    }
    size_t cap = (size_t)st.st_size + 2, n = 0;
    char *b = malloc(cap);
    while (b) {
        ssize_t r = read(fd, b + n, cap - n - 1);
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0) {
            int e = errno;
            free(b);
            close(fd);
            err->code = STRATA_IO_ERROR;
            snprintf(err->message, sizeof(err->message), "cannot read %s%s'%s': %s", what, sep, path,
                     strerror(e));
            errno = e;
            return NULL;
        }
        n += (size_t)r;
        if (n > CLI_FILE_MAX) { /* it grew while we read it */
            free(b);
            close(fd);
            err->code = STRATA_FILE_TOO_LARGE;
            snprintf(err->message, sizeof(err->message), "cannot read %s%s'%s': it is larger than %d MiB",
                     what, sep, path, CLI_FILE_MAX >> 20);
            errno = EFBIG;
            return NULL;
        }
        if (r == 0 || n + 1 < cap)
            break;
        if (cli_grow(&b, &cap, cap + 1, 1)) {
            free(b);
            b = NULL;
        }
    }
    close(fd);
    if (!b) {
        err->code = STRATA_NOMEM;
        snprintf(err->message, sizeof(err->message), "out of memory");
        errno = ENOMEM;
        return NULL;
    }
    b[n] = 0;
    *len = n;
    return b;
}

/* ------------------------------------------------------- replacing a file */

static int replace_fail(strata_error *err, const char *path)
{
    err->code = STRATA_IO_ERROR;
    snprintf(err->message, sizeof(err->message), "cannot write '%s': %s", path, strerror(errno));
    return -1;
}

int cli_replace_open(cli_replace *r, const char *path, strata_error *err)
{
    memset(r, 0, sizeof(*r));
    struct stat st;
    /* a symlink stays one: its target is replaced */
    r->target = lstat(path, &st) == 0 && S_ISLNK(st.st_mode) ? realpath(path, NULL) : strdup(path);
    if (!r->target)
        return replace_fail(err, path);
    if (stat(r->target, &st) == 0 && !S_ISREG(st.st_mode)) {
        /* a device, a FIFO, a directory: renaming over it would replace
           it (as root, /dev/null itself) */
        free(r->target);
        r->target = NULL;
        err->code = STRATA_FILE_NOT_REGULAR;
        snprintf(err->message, sizeof(err->message),
                 "'%s' is not a regular file (a device, a FIFO or a directory): nothing was written", path);
        snprintf(err->hint, sizeof(err->hint),
                 "the output is written to a new file that then replaces the "
                 "old one: name a regular file");
        return -1;
    }
    size_t n = strlen(r->target) + 16;
    if (!(r->tmp = malloc(n))) {
        free(r->target);
        r->target = NULL;
        return replace_fail(err, path);
    }
    snprintf(r->tmp, n, "%s.tmpXXXXXX", r->target);
    int fd = mkstemp(r->tmp);
    mode_t mode;
    if (stat(r->target, &st) == 0) {
        mode = st.st_mode & 07777; /* the file it replaces keeps its mode */
    } else {
        mode_t um = umask(0);
        umask(um);
        mode = 0666 & ~um; /* a new file: the usual mode, not mkstemp's 0600 */
    }
    if (fd >= 0)
        (void)fchmod(fd, mode);
    if (fd < 0 || !(r->f = fdopen(fd, "w"))) {
        int e = errno;
        if (fd >= 0)
            close(fd), unlink(r->tmp);
        free(r->tmp), free(r->target);
        memset(r, 0, sizeof(*r));
        errno = e;
        return replace_fail(err, path);
    }
    return 0;
}

int cli_replace_close(cli_replace *r, int ok, const char *path, strata_error *err)
{
    if (!r->f)
        return 0;
    int written = fflush(r->f) == 0 && !ferror(r->f);
    written = fclose(r->f) == 0 && written;
    int done = 0;
    if (ok && !written)
        replace_fail(err, path);
    else if (ok && rename(r->tmp, r->target) != 0)
        replace_fail(err, path);
    else
        done = ok;
    if (!done)
        unlink(r->tmp);
    free(r->tmp), free(r->target);
    memset(r, 0, sizeof(*r));
    return done;
}
