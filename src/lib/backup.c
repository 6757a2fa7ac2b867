/*
 * backup.c -- strata backup and strata restore, engine-neutral: the
 * engines' backup/restore ops (postgres/pg_backup.c, sqlite/sq_backup.c) do
 * the work; the file helpers they share are here.
 *
 * PostgreSQL goes through pg_dump and pg_restore, started with fork and
 * execve: no shell, an argv array, stdin from /dev/null, and (Linux) the
 * child dies with strata. Their connection string is
 * the URL's options without the password and the key's passphrase; the
 * password travels in the child's environment (PGPASSWORD), the passphrase
 * in a memory file the child reads as its service file, so neither is in
 * an argv that ps shows.
 * Their stderr is captured, scrubbed and returned, never printed here.
 *
 * SQLite uses the online backup API in both directions: one step over all
 * pages under one read lock gives a consistent snapshot while other
 * processes write (they wait, or in WAL mode carry on).
 *
 * A backup is written to a temporary file (mkstemp: mode 0600) next to the
 * target, which is linked to its final name only when complete: a failed or
 * killed backup never leaves a file that looks like a good one, and an
 * existing file is never overwritten.
 */
#include "ops.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

/* ---------------------------------------------------------------- files */

/* The default backup name: NAME-20261123T100000Z.EXT in the working directory. */
char *backup_default_name(const char *name, const char *ext)
{
    char ts[32];
    time_t now = time(NULL);
    struct tm tm;
    gmtime_r(&now, &tm);
    strftime(ts, sizeof(ts), "%Y%m%dT%H%M%SZ", &tm);
    buf b;
    buf_init(&b);
    for (const char *p = *name ? name : "database"; *p; p++)
        buf_add(&b, *p == '/' || *p == '\\' || (unsigned char)*p < 0x20 ? "_" : p, 1);
    buf_addf(&b, "-%s", ts);
    char *stem = buf_detach(&b);
    if (!stem)
        return NULL;
    /* a second backup in the same second: -2, -3, ... (the name given with
       -o is never changed: an existing file is refused) */
    char *out = NULL;
    for (int k = 1; k < 1000; k++) {
        buf n;
        buf_init(&n);
        if (k == 1)
            buf_addf(&n, "%s%s", stem, ext);
        else
            buf_addf(&n, "%s-%d%s", stem, k, ext);
        out = buf_detach(&n);
        if (!out || access(out, F_OK) != 0)
            break;
        free(out);
        out = NULL;
    }
    free(stem);
    return out;
}

/*
 * Removes what killed backups to path left (a SIGKILL stops the cleanup):
 * PATH.tmp-PID-XXXXXX, and its -journal and -wal, when process PID is gone
 * and the file has not changed for a minute (a backup under way writes to
 * its file all the time; the minute covers a PID of another PID namespace
 * sharing the directory). Best effort: what cannot be read or removed stays.
 */
static void sweep_killed(const char *path)
{
    const char *slash = strrchr(path, '/');
    char dir[4096];
    snprintf(dir, sizeof(dir), "%.*s", slash ? (int)(slash - path) + (slash == path) : 1, slash ? path : ".");
    const char *base = slash ? slash + 1 : path;
    size_t bl = strlen(base);
    DIR *d = opendir(dir);
    if (!d)
        return;
    time_t now = time(NULL);
    struct dirent *e;
    while ((e = readdir(d))) {
        const char *n = e->d_name;
        if (strncmp(n, base, bl) || strncmp(n + bl, ".tmp-", 5))
            continue;
        char *end;
        if (!isdigit((unsigned char)n[bl + 5]))
            continue; /* strtol would take " 12" and "+12", names strata never writes */
        long pid = strtol(n + bl + 5, &end, 10);
        if (pid <= 0 || end == n + bl + 5 || *end != '-' || strlen(end + 1) < 6)
            continue;
        /* the file itself, or its -journal / -wal: judged by the file */
        char own[4096], f[8192];
        snprintf(own, sizeof(own), "%.*s", (int)(end + 7 - n), n);
        if (strcmp(n, own) && strcmp(n + strlen(own), "-journal") && strcmp(n + strlen(own), "-wal"))
            continue;
        struct stat st;
        snprintf(f, sizeof(f), "%s/%s", dir, own);
        int gone = kill((pid_t)pid, 0) != 0 && errno == ESRCH;
        if (!gone || (lstat(f, &st) == 0 && (!S_ISREG(st.st_mode) || now - st.st_mtime < 60)))
            continue;
        snprintf(f, sizeof(f), "%s/%s", dir, n);
        unlink(f);
    }
    closedir(d);
}

/* Creates PATH.tmp-PID-XXXXXX (mode 0600) for a backup to path, after
   removing what killed backups to path left. */
int backup_temp_next_to(const char *path, char **tmp, strata_error *err)
{
    sweep_killed(path);
    buf b;
    buf_init(&b);
    buf_adds(&b, path);
    buf_addf(&b, ".tmp-%ld-XXXXXX", (long)getpid());
    *tmp = buf_detach(&b);
    if (!*tmp) {
        err_set(err, STRATA_NOMEM, "out of memory");
        return -1;
    }
    int fd = mkostemp(*tmp, O_CLOEXEC);
    if (fd < 0 || fchmod(fd, 0600) != 0) {
        err_set(err, STRATA_IO_ERROR, "cannot create a file next to '%s': %s", path, strerror(errno));
        if (fd >= 0) {
            close(fd);
            unlink(*tmp);
        }
        free(*tmp);
        *tmp = NULL;
        return -1;
    }
    return fd;
}

/* Gives tmp its final name, never replacing an existing file. */
strata_code backup_publish(const char *tmp, const char *path, strata_error *err)
{
    if (link(tmp, path) == 0) {
        unlink(tmp);
        return STRATA_OK;
    }
    if (errno == EEXIST) {
        unlink(tmp);
        err_set(err, STRATA_FILE_EXISTS, "'%s' already exists", path);
        err_hint(err, "choose another file with -o, or remove it first");
        return STRATA_FILE_EXISTS;
    }
    /* file systems without hard links */
    struct stat st;
    if (lstat(path, &st) != 0 && rename(tmp, path) == 0)
        return STRATA_OK;
    err_set(err, STRATA_IO_ERROR, "cannot write '%s': %s", path, strerror(errno));
    unlink(tmp);
    return STRATA_IO_ERROR;
}

strata_code backup_refuse_existing(const char *path, strata_error *err)
{
    struct stat st;
    if (lstat(path, &st) != 0)
        return STRATA_OK;
    err_set(err, STRATA_FILE_EXISTS, "'%s' already exists", path);
    err_hint(err, "choose another file with -o, or remove it first");
    return STRATA_FILE_EXISTS;
}

/* First bytes of a file, to tell a SQLite database from a pg_dump archive. */
strata_code backup_read_magic(const char *path, char magic[16], strata_error *err)
{
    memset(magic, 0, 16);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return err_set(err, STRATA_IO_ERROR, "cannot read backup '%s': %s", path, strerror(errno));
    ssize_t n = read(fd, magic, 16);
    close(fd);
    if (n < 0)
        return err_set(err, STRATA_IO_ERROR, "cannot read backup '%s': %s", path, strerror(errno));
    return STRATA_OK;
}

/* ------------------------------------------------------------------ API */

strata_code strata_backup(const char *url, const char *path, const strata_config *cfg, char **path_out,
                          strata_error *err)
{
    strata_error local;
    if (!err)
        err = &local;
    if (path_out)
        *path_out = NULL;
    if (path && !*path)
        return err_set(err, STRATA_USAGE, "the backup file name is empty");
    if (path && !strcmp(path, "-")) {
        /* not standard output: a file named '-' is what it used to make */
        err_set(err, STRATA_USAGE, "strata backup does not write to standard output ('-o -')");
        err_hint(err, "name a file (./- for a file called '-')");
        return STRATA_USAGE;
    }
    db_url u;
    strata_code rc = url_parse(url, &u, err);
    if (rc)
        return rc;
    rc = u.ops->backup(&u, path, cfg, path_out, err);
    url_release(&u);
    return rc;
}

strata_code strata_restore(const char *url, const char *path, int flags, const strata_config *cfg,
                           strata_error *err)
{
    strata_error local;
    if (!err)
        err = &local;
    if (!path || !*path)
        return err_set(err, STRATA_USAGE, "restore needs a backup file");
    /* a FIFO would block the restore's read, a directory is no backup:
       refused before anything is opened or changed */
    struct stat st;
    if (stat(path, &st) == 0 && !S_ISREG(st.st_mode))
        return err_set(err, STRATA_FILE_NOT_REGULAR, "cannot restore from '%s': it is %s, not a regular file",
                       path, file_kind(st.st_mode));
    db_url u;
    strata_code rc = url_parse(url, &u, err);
    if (rc)
        return rc;
    if ((flags & STRATA_ALLOW_REMOTE) || !(rc = u.ops->check_local(&u, err)))
        rc = u.ops->restore(&u, path, flags, cfg, err);
    url_release(&u);
    return rc;
}
