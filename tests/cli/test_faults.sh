#!/usr/bin/env bash
# Fault injection: each fault ends with a clear error, the documented exit
# code and a database at a consistent version; the same command then succeeds
# once the fault is gone.
. "$(dirname "$0")/lib.sh"

D=$WORK/m
mig "$D" 0001_a.sql <<'SQL'
-- strata:up
CREATE TABLE a (id integer PRIMARY KEY, v text);
-- strata:down
DROP TABLE a;
SQL

# as an unprivileged user (root ignores file permissions)
as_nobody() {
    setpriv --reuid=65534 --regid=65534 --clear-groups --inh-caps=-all "$@"
}
can_drop=0
if [ "$(id -u)" = 0 ] && command -v setpriv >/dev/null && as_nobody true 2>/dev/null; then
    can_drop=1
    chmod 755 "$WORK"
fi

if [ "$ENGINE" = postgres ]; then
    # the connection killed mid-migration by pg_terminate_backend
    new_db
    mig "$D" 0002_slow.sql <<'SQL'
-- strata:up
CREATE TABLE b (id integer);
INSERT INTO b VALUES (1);
SELECT pg_sleep(5);
-- strata:down
DROP TABLE b;
SQL
    st --dir "$D" up 0001
    "$STRATA" --url "$URL" --dir "$D" up >"$WORK/t.out" 2>"$WORK/t.err" &
    pid=$!
    for _ in $(seq 1 50); do
        sleep 0.1
        n=$(q "SELECT count(*) FROM pg_stat_activity WHERE application_name = 'strata' AND query LIKE '%pg_sleep%' AND state = 'active'")
        [ "$n" = 1 ] && break
    done
    killed=$(q "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE application_name = 'strata' AND datname = current_database()")
    eq "$killed" "1" "one strata backend terminated"
    wait "$pid"
    RC=$?
    ERR=$(cat "$WORK/t.err")
    expect_rc 1 "terminated connection"
    contains "$ERR" "MIGRATION_FAILED" "failure code"
    contains "$ERR" "0002_slow.sql:4" "names the statement that was running"
    contains "$ERR" "terminating connection due to administrator command" "the server's message"
    contains "$ERR" "connection to the server was lost" "a hint that says what happened"
    eq "$(table_exists b)" "0" "terminated migration rolled back"
    st --dir "$D" current
    eq "$OUT" "0001" "still at the previous version"
    sed -i 's/pg_sleep(5)/pg_sleep(0)/' "$D/0002_slow.sql"
    st --dir "$D" up
    expect_rc 0 "up once the fault is gone"
    rm "$D/0002_slow.sql"

    # a library handle whose connection the server ended between calls: a
    # read connects again (it failed, then failed for good: "no connection
    # to the server"), and the next up does without telling of another
    # process it waits for
    cat >"$WORK/lost.c" <<'C'
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strata.h>
static int waits;
static void ev(void *ud, const strata_event *e)
{
    (void)ud;
    waits += e->kind == STRATA_EV_LOCK_WAIT;
}
int main(int argc, char **argv)
{
    strata *db;
    strata_migset *set;
    strata_error err;
    strata_config cfg = {0};
    char *v = NULL, line[16];
    cfg.on_event = ev;
    if (argc != 3 || strata_open(argv[1], &cfg, &db, &err) || strata_migset_load(argv[2], &set, &err) ||
        strata_current_get(db, &v, &err))
        return 9;
    free(v);
    printf("ready\n");
    fflush(stdout);
    if (!fgets(line, sizeof(line), stdin)) /* the connection is ended now */
        return 9;
    strata_code rc = strata_current_get(db, &v, &err);
    printf("read: %s hint: %s\n", strata_code_name(rc), err.hint);
    free(v);
    rc = strata_up(db, set, NULL, NULL, &err);
    printf("up: %s waits: %d\n", strata_code_name(rc), waits);
    strata_migset_free(set);
    strata_close(db);
    return 0;
}
C
    if lib_program "$WORK/lost" "$WORK/lost.c"; then
        new_db
        DL=$WORK/lost_m
        mig "$DL" 0001_l.sql <<'SQL'
-- strata:up
CREATE TABLE l (id integer);
SQL
        mkfifo "$WORK/lost.in"
        "$WORK/lost" "$URL" "$DL" <"$WORK/lost.in" >"$WORK/lost.out" 2>&1 &
        pid=$!
        exec 7>"$WORK/lost.in"
        for _ in $(seq 1 100); do
            grep -q ready "$WORK/lost.out" && break
            sleep 0.1
        done
        contains "$(cat "$WORK/lost.out")" "ready" "the program read the database"
        q "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid() AND backend_type = 'client backend'" >/dev/null
        echo go >&7
        exec 7>&-
        wait "$pid"
        out=$(cat "$WORK/lost.out")
        contains "$out" "read: OK" "a read on a handle whose connection the server ended connects again"
        lacks "$out" "migration's transaction" "no migration is blamed"

        contains "$out" "up: OK waits: 0" "up reconnects, and waits for no other process"
    else
        fail "cannot build the test program: $(cat "$WORK/cc.err")"
    fi
else
    # a database file that is not writable
    if [ "$can_drop" = 1 ]; then
        new_db
        st --dir "$D" up
        mig "$D" 0002_b.sql <<'SQL'
-- strata:up
CREATE TABLE b (id integer);
-- strata:down
DROP TABLE b;
SQL
        chmod 644 "$DBFILE"
        chmod 755 "$D" && chmod 644 "$D"/*.sql
        as_nobody "$STRATA" --url "$URL" --dir "$D" up >"$WORK/t.out" 2>"$WORK/t.err"
        RC=$?
        ERR=$(cat "$WORK/t.err")
        expect_rc 1 "read-only database file"
        contains "$ERR" "readonly database" "says the file is read-only"
        contains "$ERR" "hint:" "with a hint"
        as_nobody "$STRATA" --url "$URL" --dir "$D" status >"$WORK/t.out" 2>"$WORK/t.err"
        eq "$?" "0" "status works on a read-only file"
        st --dir "$D" current
        eq "$OUT" "0001" "unchanged"
        st --dir "$D" up
        expect_rc 0 "up once writable"
        rm "$D/0002_b.sql"
        st --dir "$D" down
    fi

    # disk full while writing the SQLite file (RLIMIT_FSIZE: strata ignores
    # SIGXFSZ itself -- the signal killed it without a word, exit 153)
    new_db
    st --dir "$D" up
    mig "$D" 0002_big.sql <<'SQL'
-- strata:up
CREATE TABLE big (id integer PRIMARY KEY, v text);
WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < 20000)
INSERT INTO big SELECT x, hex(randomblob(64)) FROM c;
-- strata:down
DROP TABLE big;
SQL
    size=$(stat -c %s "$DBFILE")
    (ulimit -f $((size / 1024 + 200)); exec "$STRATA" --url "$URL" --dir "$D" up) >"$WORK/t.out" 2>"$WORK/t.err"
    RC=$?
    ERR=$(cat "$WORK/t.err")
    expect_rc 1 "disk full"
    contains "$ERR" "MIGRATION_FAILED" "failure code"
    contains "$ERR" "0002_big.sql:3" "names the statement"
    st --dir "$D" current
    eq "$OUT" "0001" "still at the previous version after disk full"
    eq "$(table_exists big)" "0" "nothing of the failed migration"
    eq "$(sqlite3 "$DBFILE" 'PRAGMA integrity_check')" "ok" "the file is intact"
    st --dir "$D" up
    expect_rc 0 "up once there is room"
    rm "$D/0002_big.sql"
    # a backup past the file size limit: IO_ERROR, no temporary file left
    # (killed by SIGXFSZ, it left its temporary file and journal)
    mkdir -p "$WORK/bk"
    (ulimit -f 100; exec "$STRATA" --url "$URL" backup -o "$WORK/bk/b.db") >"$WORK/t.out" 2>"$WORK/t.err"
    RC=$?
    ERR=$(cat "$WORK/t.err")
    expect_rc 1 "backup past the file size limit"
    contains "$ERR" "[IO_ERROR]" "backup past the file size limit: IO_ERROR"
    eq "$(ls -A "$WORK/bk" | wc -l | tr -d ' ')" "0" "backup past the file size limit: no file left"
    # ... found by the COMMIT (the statements fit in memory, the file may not
    # grow): the migration is named all the same, MIGRATION_FAILED
    new_db
    st --dir "$D" up
    sqlite3 "$DBFILE" "CREATE TABLE pad (v text); WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < 2000) INSERT INTO pad SELECT hex(randomblob(100)) FROM c"
    mig "$D" 0002_small.sql <<'SQL'
-- strata:up
CREATE TABLE small (id integer PRIMARY KEY, v text);
INSERT INTO small VALUES (1, hex(randomblob(3000)));
-- strata:down
DROP TABLE small;
SQL
    size=$(stat -c %s "$DBFILE")
    (ulimit -f $((size / 1024)); exec "$STRATA" --url "$URL" --dir "$D" up) >"$WORK/t.out" 2>"$WORK/t.err"
    RC=$?
    ERR=$(cat "$WORK/t.err")
    expect_rc 1 "disk full at the commit"
    contains "$ERR" "0002_small.sql: cannot commit 0002_small: " "the commit names the migration"
    contains "$ERR" "[MIGRATION_FAILED]" "the commit's failure code"
    contains "$ERR" "nothing of this migration was kept" "the commit's hint"
    eq "$(sqlite3 "$DBFILE" 'PRAGMA integrity_check')" "ok" "intact after a failed commit"
    st --dir "$D" current
    eq "$OUT" "0001" "still at the previous version after a failed commit"
    rm "$D/0002_small.sql"
    # a reader's open transaction (rollback journal) that the commit must wait out
    new_db
    st --dir "$D" up
    mig "$D" 0002_small.sql <<'SQL'
-- strata:up
CREATE TABLE small (id integer PRIMARY KEY);
-- strata:down
DROP TABLE small;
SQL
    python3 -c '
import sqlite3, sys, time
c = sqlite3.connect(sys.argv[1], isolation_level=None)
c.execute("BEGIN"); c.execute("SELECT count(*) FROM sqlite_master").fetchone()
print("reading", flush=True); time.sleep(4); c.execute("COMMIT")' "$DBFILE" >"$WORK/reader.out" &
rpid=$!
    for _ in $(seq 50); do grep -q reading "$WORK/reader.out" && break; sleep 0.1; done
    st --dir "$D" --lock-timeout 1 up
    expect_rc 4 "a reader holding the commit off"
    contains "$ERR" "0002_small.sql: cannot commit 0002_small: database is locked [LOCK_TIMEOUT]" \
        "the reader's lock: the migration named"
    contains "$ERR" "a read transaction that a commit must wait out" "the reader's lock: the hint names readers"
    wait "$rpid"
    st --dir "$D" up
    expect_rc 0 "up once the reader is done"
    rm "$D/0002_small.sql"
fi

# a migrations directory that cannot be read
if [ "$can_drop" = 1 ]; then
    new_db
    [ "$ENGINE" = sqlite ] && chmod 666 "$DBFILE" 2>/dev/null
    chmod 700 "$D"
    as_nobody "$STRATA" --url "$URL" --dir "$D" up >"$WORK/t.out" 2>"$WORK/t.err"
    RC=$?
    ERR=$(cat "$WORK/t.err")
    expect_rc 1 "unreadable migrations directory"
    contains "$ERR" "IO_ERROR" "code"
    contains "$ERR" "Permission denied" "says why"
    chmod 755 "$D"
    st --dir "$D" up
    expect_rc 0 "up once readable"
fi

# standard descriptors closed by the caller (`2>&-`): /dev/null takes them,
# not the files and connections strata opens (the database connection took
# fd 2, where a message for stderr would have gone into it)
FD=$WORK/fds
mkdir -p "$FD"
if [ "$ENGINE" = postgres ]; then
    printf -- '-- strata:up\nSELECT pg_sleep(2);\n' >"$FD/0001_slow.sql"
else
    printf -- '-- strata:up\nWITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < 30000000) SELECT count(*) FROM c;\n' \
        >"$FD/0001_slow.sql"
fi
new_db
"$STRATA" --url "$URL" --dir "$FD" up </dev/null >/dev/null 2>&- &
slow=$!
sleep 0.8
eq "$(readlink /proc/$slow/fd/2)" "/dev/null" "a closed stderr is /dev/null, not a file or connection of strata's"
wait "$slow"
eq "$?" "0" "up with stderr closed"

# TERM=dumb: no colors on a terminal
if command -v script >/dev/null; then
    TERM=dumb script -qec "'$STRATA' --url '$URL' --dir '$FD' status" /dev/null </dev/null >"$WORK/tty.out" 2>&1
    if grep -q $'\033\[' "$WORK/tty.out"; then fail "TERM=dumb: colors printed"; fi
    TERM=xterm script -qec "'$STRATA' --url '$URL' --dir '$FD' status" /dev/null </dev/null >"$WORK/tty.out" 2>&1
    grep -q $'\033\[' "$WORK/tty.out" || fail "TERM=xterm on a terminal: colors expected"
fi

# a database locked by another writer is in test_concurrency.sh (LOCK_TIMEOUT),
# a file that is not a database in test_errors.sh (CONNECT_FAILED).
finish
