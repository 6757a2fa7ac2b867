#!/usr/bin/env bash
# Ctrl-C and SIGTERM stop strata cleanly: the server cancels the running
# statement (nothing keeps running, or holding locks, after strata exits),
# the transaction rolls back, the exit is INTERRUPTED; a waiter for the
# lock stops at once; a reader that closes the pipe does not stop a run.
# Also: every migration starts with the session strata opened (a pg_dump
# header's set_config does not reach the next one), and text reaches a
# non-UTF8 PostgreSQL database as the characters it is.
. "$(dirname "$0")/lib.sh"

# sig_after SECS SIG ARGS...: runs strata ARGS, sends SIG after SECS; sets
# OUT, ERR, RC
sig_after() {
    local secs=$1 sig=$2
    shift 2
    "$STRATA" "$@" >"$WORK/out" 2>"$WORK/err" &
    local pid=$!
    sleep "$secs"
    kill -"$sig" "$pid"
    wait "$pid"
    RC=$?
    OUT=$(cat "$WORK/out")
    ERR=$(cat "$WORK/err")
}

new_db
D=$WORK/m
mig "$D" 0001_base.sql <<'SQL'
-- strata:up
CREATE TABLE base (id integer PRIMARY KEY);
-- strata:down
DROP TABLE base;
SQL
if [ "$ENGINE" = postgres ]; then
    mig "$D" 0002_slow.sql <<'SQL'
-- strata:up
CREATE TABLE big (id integer PRIMARY KEY);
LOCK TABLE base IN ACCESS EXCLUSIVE MODE;
SELECT pg_sleep(30);
-- strata:down
DROP TABLE big;
SQL
else
    mig "$D" 0002_slow.sql <<'SQL'
-- strata:up
CREATE TABLE big (id integer PRIMARY KEY, v text);
WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < 50000000)
INSERT INTO big SELECT x, hex(randomblob(16)) FROM c;
-- strata:down
DROP TABLE big;
SQL
fi
st --dir "$D" up 0001
expect_rc 0 "first migration"

for sig in INT TERM; do
    t0=$(date +%s%N)
    sig_after 1 "$sig" --url "$URL" --dir "$D" up
    ms=$((($(date +%s%N) - t0) / 1000000))
    expect_rc 1 "SIG$sig during a long statement"
    contains "$ERR" "[INTERRUPTED]" "SIG$sig: the error says it was stopped"
    [ "$ms" -lt 8000 ] || fail "SIG$sig: strata took $ms ms to stop (the statement runs 30 s)"
    st --dir "$D" current
    eq "$OUT" "0001" "SIG$sig: the interrupted migration is not recorded"
    eq "$(table_exists big)" "0" "SIG$sig: the interrupted migration rolled back"
    if [ "$ENGINE" = postgres ]; then
        # the server no longer runs it: base is free at once
        eq "$(q "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid() AND query LIKE '%pg_sleep%'")" 0 \
            "SIG$sig: the statement was cancelled on the server"
        eq "$(q "SET lock_timeout = '2s'; SELECT count(*) FROM base")" 0 "SIG$sig: the table lock went with it"
    fi
done

# a waiter for the lock (PostgreSQL's migration lock, SQLite's write lock)
# stops at once, without waiting out --lock-timeout
if [ "$ENGINE" = postgres ]; then wsig=INT; else wsig=TERM; fi
"$STRATA" --url "$URL" --dir "$D" up -q >/dev/null 2>&1 &
holder=$!
sleep 1
t0=$(date +%s%N)
sig_after 1 "$wsig" --url "$URL" --dir "$D" up --lock-timeout 60
ms=$((($(date +%s%N) - t0) / 1000000))
expect_rc 1 "SIG$wsig while waiting for the lock"
contains "$ERR" "INTERRUPTED" "the waiter says it was stopped"
[ "$ENGINE" = postgres ] && contains "$ERR" "while waiting for the migration lock" "the waiter says what it was doing"
[ "$ms" -lt 6000 ] || fail "the waiter took $ms ms to stop"
kill -TERM "$holder"
wait "$holder"
eq "$?" 1 "the holder, stopped too, exits 1"

# the sample application (the library's strata_startup) does the same
if [ "$ENGINE" = postgres ] && [ -x "$APP" ]; then
    t0=$(date +%s%N)
    DATABASE_URL=$URL "$APP" "$D" >"$WORK/app.out" 2>"$WORK/app.err" &
    pid=$!
    sleep 1
    kill -TERM "$pid"
    wait "$pid"
    rc=$?
    ms=$((($(date +%s%N) - t0) / 1000000))
    [ "$rc" = 1 ] || fail "app_startup stopped by SIGTERM: exit $rc"
    contains "$(cat "$WORK/app.err")" "INTERRUPTED" "app_startup: the library says it was stopped"
    [ "$ms" -lt 8000 ] || fail "app_startup took $ms ms to stop"
    eq "$(q "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid() AND query LIKE '%pg_sleep%'")" 0 \
        "app_startup: the statement was cancelled on the server"
fi

# a second signal kills as usual
"$STRATA" --url "$URL" --dir "$D" up >/dev/null 2>&1 &
pid=$!
sleep 1
kill -INT "$pid"
kill -INT "$pid"
wait "$pid"
rc=$?
[ "$rc" = 1 ] || [ "$rc" = 130 ] || fail "two SIGINTs: exit $rc"

# a reader that goes away does not stop the run halfway
new_db
K=$WORK/k
k_history "$K" 3
"$STRATA" --url "$URL" --dir "$K" up | true
eq "${PIPESTATUS[0]}" 0 "up into a closed pipe exits 0"
eq "$(applied_versions | tr '\n' ' ')" "0001 0002 0003 " "up into a closed pipe applies every migration"

if [ "$ENGINE" = sqlite ]; then
    # restore waiting for the write lock, stopped by SIGTERM, changes
    # nothing (it went on after the holder finished, replaced the database
    # and exited 0: a tester's data loss)
    new_db
    sqlite3 "$DBFILE" "CREATE TABLE orders (id INTEGER PRIMARY KEY, v TEXT); INSERT INTO orders (v) VALUES ('live-1'), ('live-2')"
    sqlite3 "$WORK/old.db" "CREATE TABLE orders (id INTEGER PRIMARY KEY, v TEXT); INSERT INTO orders (v) VALUES ('old')"
    python3 -c "
import sqlite3, time
c = sqlite3.connect('$DBFILE', isolation_level=None)
c.execute('BEGIN IMMEDIATE'); c.execute(\"INSERT INTO orders (v) VALUES ('live-3')\"); time.sleep(3); c.execute('COMMIT')" &
holder=$!
sleep 0.5
sig_after 1 TERM restore "$WORK/old.db" --url "$URL" --lock-timeout 30
expect_rc 1 "restore stopped by SIGTERM while waiting for the lock"
contains "$ERR" "INTERRUPTED" "restore: says it was stopped"
wait "$holder"
eq "$(sqlite3 "$DBFILE" "SELECT group_concat(v, ' ') FROM orders")" "live-1 live-2 live-3" \
    "the database keeps its rows, the holder's included"
fi

if [ "$ENGINE" = postgres ]; then
    # a migration's session-level settings stay in it: the same directory
    # in one run and in two runs gives the same result
    new_db
    H=$WORK/h
    mig "$H" 0001_hdr.sql <<'SQL'
-- strata:up
SET statement_timeout = 0;
SELECT pg_catalog.set_config('search_path', '', false);
CREATE TABLE public.hdr (a integer);
-- strata:down
DROP TABLE public.hdr;
SQL
    mig "$H" 0002_plain.sql <<'SQL'
-- strata:up
CREATE TABLE plain (a integer);
-- strata:down
DROP TABLE plain;
SQL
    st --dir "$H" up
    expect_rc 0 "a pg_dump header's search_path does not reach the next migration"
    eq "$(table_exists plain)" 1 "the next migration created its table in public"
    st --dir "$H" down base
    st --dir "$H" up --single-transaction
    expect_rc 0 "the same in one transaction"

    # text arrives as the characters it is, whatever the database's or the
    # client's encoding
    L="l_$(date +%s%N | tail -c 10)_$RANDOM"
    createdb -E LATIN1 -T template0 --locale=C "$L"
    DBS+=("$L")
    LURL="postgresql://$PGUSER:$PGPASSWORD@${PGHOST:-localhost}:$PGPORT/$L"
    E=$WORK/e
    mig "$E" 0001_t.sql <<'SQL'
-- strata:up
CREATE TABLE t (s text);
INSERT INTO t VALUES ('café');
-- strata:down
DROP TABLE t;
SQL
    PGCLIENTENCODING=LATIN1 raw --url "$LURL" --dir "$E" up
    expect_rc 0 "up on a LATIN1 database"
    eq "$(PGCLIENTENCODING=UTF8 psql -X -A -t -d "$L" -c "SELECT s || ' ' || length(s) FROM t")" "café 4" \
        "UTF-8 text is stored as its characters on a LATIN1 database"
    mig "$E" 0002_cup.sql <<'SQL'
-- strata:up
INSERT INTO t VALUES ('☕');
-- strata:down
DELETE FROM t;
SQL
    raw --url "$LURL?client_encoding=LATIN1" --dir "$E" up
    expect_rc 1 "a character LATIN1 cannot hold"
    contains "$ERR" "22P05" "the server refuses it by its code"
    # strata copy into it: refused before anything changes
    sqlite3 "$WORK/enc.db" "CREATE TABLE people (id INTEGER PRIMARY KEY, name TEXT); INSERT INTO people (name) VALUES ('café')"
    raw copy "sqlite:///$WORK/enc.db" "$LURL"
    expect_rc 2 "copy into a LATIN1 database"
    contains "$ERR" "CONFIG_ERROR" "copy names the encoding problem"
    contains "$ERR" "UTF8" "copy says what it needs"
    eq "$(psql -X -A -t -d "$L" -c "SELECT count(*) FROM pg_tables WHERE tablename IN ('people', 'strata_copy_state')")" 0 \
        "a refused copy creates nothing"

    # a connection to a host that accepts and never answers, stopped by
    # Ctrl-C: at once (it waited out the attempt's 10 s)
    python3 -c "
import socket, time
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(('127.0.0.1', 0)); s.listen(5)
open('$WORK/silent.port', 'w').write(str(s.getsockname()[1]))
held = []
s.settimeout(0.5)
end = time.time() + 12
while time.time() < end:
    try: held.append(s.accept())
    except Exception: pass" &
    silent=$!
    for _ in 1 2 3 4 5 6 7 8 9 10; do [ -s "$WORK/silent.port" ] && break; sleep 0.2; done
    t0=$(date +%s%N)
    sig_after 1 INT --dir "$D" --url "postgresql://u:p@127.0.0.1:$(cat "$WORK/silent.port")/db" status
    ms=$((($(date +%s%N) - t0) / 1000000))
    expect_rc 1 "a connection attempt stopped by SIGINT"
    contains "$ERR" "INTERRUPTED" "the connect says it was stopped"
    [ "$ms" -lt 4000 ] || fail "the connect took $ms ms to stop"
    kill "$silent" 2>/dev/null
    wait "$silent" 2>/dev/null

    # drop waiting for another session to leave, stopped by Ctrl-C: the
    # cancelled statement is INTERRUPTED (it was DB_ERROR)
    new_db
    psql -X -q -d "$DBNAME" -c "SELECT pg_sleep(5)" >/dev/null 2>&1 &
    sleeper=$!
    sleep 0.5
    sig_after 1 INT --url "$URL" drop
    expect_rc 1 "drop stopped by SIGINT"
    contains "$ERR" "INTERRUPTED" "drop: says it was stopped"
    wait "$sleeper"

    # strata backup stopped by SIGTERM to strata alone (a container's PID 1):
    # pg_dump is stopped too, no file is left
    new_db
    q "CREATE TABLE big AS SELECT g AS id, md5(g::text) AS v FROM generate_series(1, 1500000) g" >/dev/null
    sig_after 0.3 TERM --url "$URL" backup -o "$WORK/b.dump"
    expect_rc 1 "backup stopped by SIGTERM"
    contains "$ERR" "INTERRUPTED" "backup: says it was stopped"
    ls "$WORK"/b.dump* >/dev/null 2>&1 && fail "backup stopped by SIGTERM left a file: $(ls "$WORK"/b.dump*)"

    # strata copy stopped by SIGTERM: nothing runs on after it, a rerun finishes
    new_db
    sqlite3 "$WORK/big.db" "CREATE TABLE r (id INTEGER PRIMARY KEY, v TEXT);
      WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < 2000000)
      INSERT INTO r SELECT x, hex(randomblob(8)) FROM c;
      CREATE TABLE s (id INTEGER PRIMARY KEY, v TEXT);
      WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < 1000000)
      INSERT INTO s SELECT x, hex(randomblob(8)) FROM c;"
    sig_after 0.7 TERM copy "sqlite:///$WORK/big.db" "$URL"
    expect_rc 1 "copy stopped by SIGTERM"
    contains "$ERR" "[INTERRUPTED]" "the copy says it was stopped"
    contains "$ERR" "run the same command again" "and how to finish it"
    sleep 0.3
    # (client sessions: autovacuum may be at a table that committed)
    eq "$(q "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid() AND backend_type = 'client backend'")" 0 \
        "nothing of the copy runs on after it"
    raw copy -q "sqlite:///$WORK/big.db" "$URL"
    expect_rc 0 "the rerun finishes the copy"
    eq "$(q "SELECT (SELECT count(*) FROM r) + (SELECT count(*) FROM s)")" 3000000 "every row copied"
fi
# A program that calls strata_interrupt without strata_interrupt_init: no
# cancel request reaches the server, the statement runs to its end -- and
# the migration is then rolled back, not committed (it was committed, and
# strata_up returned OK, on PostgreSQL)
if command -v "${CC:-cc}" >/dev/null; then
    cat >"$WORK/noinit.c" <<'C'
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <strata.h>
/* noinit URL DIR: strata_interrupt() 0.7 s into the run; noinit URL DIR ID:
   from the event that migration ID starts */
static void *stop_later(void *x)
{
    (void)x;
    usleep(700 * 1000);
    strata_interrupt();
    return NULL;
}
static void at_start(void *ud, const strata_event *e)
{
    if (e->kind == STRATA_EV_MIGRATE_START && !strcmp(e->text, (const char *)ud))
        strata_interrupt();
}
int main(int argc, char **argv)
{
    strata *db;
    strata_migset *set;
    strata_error err;
    strata_config cfg = {0};
    pthread_t t;
    cfg.on_event = at_start;
    cfg.userdata = argc == 4 ? argv[3] : (char *)"";
    if (argc < 3 || strata_open(argv[1], &cfg, &db, &err) || strata_migset_load(argv[2], &set, &err))
        return 9;
    if (argc == 3)
        pthread_create(&t, NULL, stop_later, NULL);
    strata_code rc = strata_up(db, set, NULL, NULL, &err);
    if (argc == 3)
        pthread_join(t, NULL);
    printf("%s %s\n", strata_code_name(rc), err.message);
    strata_migset_free(set);
    strata_close(db);
    return 0;
}
C
    if lib_program "$WORK/noinit" "$WORK/noinit.c"; then
        new_db
        D2=$WORK/noinit_m
        if [ "$ENGINE" = postgres ]; then slow="SELECT pg_sleep(1.5);"; else
            slow="WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < 30000000) SELECT count(*) FROM c;"
        fi
        mig "$D2" 0001_slow.sql <<SQL
-- strata:up
CREATE TABLE noinit (id integer);
$slow
SQL
        out=$("$WORK/noinit" "$URL" "$D2")
        contains "$out" "INTERRUPTED" "without strata_interrupt_init the run still stops"
        st --dir "$D2" current
        eq "$OUT" "base" "and the migration is not committed"
        eq "$(table_exists noinit)" "0" "its table rolled back"
        # a no-transaction section whose last statement ran to its end is
        # whole: applied, and the run stops before the next (SQLite marked
        # it failed, "may have partly run")
        new_db
        D3=$WORK/noinit_notx
        mig "$D3" 0001_slow.sql <<SQL
-- strata:up no-transaction
CREATE TABLE noinit (id integer);
$slow
SQL
        mig "$D3" 0002_next.sql <<'SQL'
-- strata:up
CREATE TABLE noinit_next (id integer);
SQL
        out=$("$WORK/noinit" "$URL" "$D3")
        contains "$out" "INTERRUPTED" "a no-transaction section: the run stops"
        st --dir "$D3" current
        eq "$OUT" "0001" "the section that ran to its end is applied"
        eq "$(table_exists noinit_next)" "0" "the next one did not run"
        # stopped as the section starts, before its first statement: nothing
        # ran, so it is pending again, not failed
        new_db
        out=$("$WORK/noinit" "$URL" "$D3" 0001_slow)
        contains "$out" "INTERRUPTED" "stopped as the no-transaction section starts"
        st --dir "$D3" status
        eq "$(table_exists noinit)" "0" "nothing of it ran"
        lacks "$OUT" "failed" "and it is not recorded failed"
        st --dir "$D3" up
        expect_rc 0 "the next up applies it"
    else
        fail "cannot build the test program: $(cat "$WORK/cc.err")"
    fi
fi
# SQLite backup stopped by SIGTERM: it copies in steps and sees the signal
# between them (one step of the whole file ran to the end, exit 0); no file
if [ "$ENGINE" = sqlite ]; then
    sqlite3 "$WORK/bk.db" "CREATE TABLE b (i INTEGER PRIMARY KEY, v BLOB);
      WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < 50000)
      INSERT INTO b SELECT x, randomblob(8000) FROM c;"
    sig_after 0.2 TERM --url "sqlite:///$WORK/bk.db" backup -o "$WORK/bk.backup"
    expect_rc 1 "SQLite backup stopped by SIGTERM"
    contains "$ERR" "INTERRUPTED" "SQLite backup: says it was stopped"
    ls "$WORK"/bk.backup* >/dev/null 2>&1 && fail "SQLite backup stopped by SIGTERM left a file"
    rm -f "$WORK/bk.db"
fi
finish
