#!/usr/bin/env bash
# Many processes running `up` at once: each migration applied exactly once,
# every process exits 0; a waiter past --lock-timeout exits 4 LOCK_TIMEOUT.
. "$(dirname "$0")/lib.sh"

new_db
D=$WORK/m
mig "$D" 0001_counter.sql <<'SQL'
-- strata:up
CREATE TABLE runs (migration text NOT NULL);
INSERT INTO runs VALUES ('0001');
-- strata:down
DROP TABLE runs;
SQL
for i in $(seq 2 20); do
    v=$(printf '%04d' "$i")
    mig "$D" "${v}_step.sql" <<SQL
-- strata:up
CREATE TABLE t_$v (id integer PRIMARY KEY, payload text);
INSERT INTO runs VALUES ('$v');
-- strata:down
DROP TABLE t_$v;
DELETE FROM runs WHERE migration = '$v';
SQL
done

N=8
pids=()
for i in $(seq 1 $N); do
    "$STRATA" --url "$URL" --dir "$D" -q up >"$WORK/p$i.out" 2>"$WORK/p$i.err" &
    pids+=($!)
done
# the application's own startup call, racing with the CLI
for i in 1 2 3; do
    "$APP" "$URL" "$D" >"$WORK/p$((N + i)).out" 2>"$WORK/p$((N + i)).err" &
    pids+=($!)
done
wait_all "" p "${pids[@]}"
eq "$(q 'SELECT count(*) FROM runs')" "20" "each migration ran exactly once"
eq "$(q 'SELECT count(DISTINCT migration) FROM runs')" "20" "no migration ran twice"
eq "$(q 'SELECT count(*) FROM strata_migrations')" "20" "twenty version rows"
st --dir "$D" current
eq "$OUT" "0020" "head"

# --single-transaction runs at once (replicas or CI jobs whose start script
# uses it): on SQLite they planned before their transaction began, so all
# but one failed on what the first applied (or reverted)
pids=()
for i in 1 2 3 4; do
    "$STRATA" --url "$URL" --dir "$D" -q down base --single-transaction >"$WORK/sd$i.out" 2>"$WORK/sd$i.err" &
    pids+=($!)
done
wait_all "down --single-transaction: " sd "${pids[@]}"
st --dir "$D" current
eq "$OUT" "base" "4 concurrent single-transaction downs: at base"
pids=()
for i in 1 2 3 4 5 6; do
    "$STRATA" --url "$URL" --dir "$D" -q up --single-transaction >"$WORK/su$i.out" 2>"$WORK/su$i.err" &
    pids+=($!)
done
wait_all "up --single-transaction: " su "${pids[@]}"
eq "$(q 'SELECT count(*) FROM runs')" "20" "6 concurrent single-transaction ups: each migration once"
st --dir "$D" current
eq "$OUT" "0020" "and at head"

# lock timeout: another writer holds the lock longer than --lock-timeout
mig "$D" 0021_more.sql <<'SQL'
-- strata:up
CREATE TABLE more (id integer);
-- strata:down
DROP TABLE more;
SQL
if [ "$ENGINE" = postgres ]; then
    mig "$D" 0022_slow.sql <<'SQL'
-- strata:up
SELECT pg_sleep(4);
-- strata:down
SQL
    "$STRATA" --url "$URL" --dir "$D" -q up >/dev/null 2>&1 &
    holder=$!
    sleep 1.5
else
    # an open write transaction from another process holds SQLite's lock
    (echo "BEGIN IMMEDIATE; INSERT INTO runs VALUES ('holder');"; sleep 4; echo "COMMIT;") | sqlite3 "$DBFILE" &
    holder=$!
    sleep 1
fi
t0=$(date +%s%N)
st --dir "$D" --lock-timeout 1 up
t1=$(date +%s%N)
expect_rc 4 "waiter past the lock timeout"
contains "$ERR" "LOCK_TIMEOUT" "lock timeout code"
ms=$(((t1 - t0) / 1000000))
[ "$ms" -ge 900 ] || fail "gave up after ${ms} ms, before the 1 s timeout"
[ "$ms" -lt 3500 ] || fail "waited ${ms} ms, far past the 1 s timeout"
st --dir "$D" --json --lock-timeout 1 up
# best effort: under a sanitizer build the holder may be done by now (exit 0)
[ "$RC" != 4 ] || contains "$ERR" '"code": "LOCK_TIMEOUT"' "json lock timeout"
wait "$holder"
st --dir "$D" up
expect_rc 0 "up once the lock is free"
eq "$(table_exists more)" "1" "applied after the wait"


# the lease table behind a pooler (forced here): replicas on a new database
# all create it at once; the losers of that race (23505, 42P07, or 42710 on
# its row type) go on. 20 rounds of 8 at once, every process exits 0.
if [ "$ENGINE" = postgres ]; then
    L=$WORK/lease
    mig "$L" 0001_a.sql <<'SQL'
-- strata:up
SELECT 1;
SQL
    lost=0
    for round in $(seq 1 20); do
        new_db
        pids=()
        for j in 1 2 3 4 5 6 7 8; do
            STRATA_ASSUME_POOLER=1 "$STRATA" --url "$URL" --dir "$L" -q up 2>>"$WORK/lease.err" &
            pids+=($!)
        done
        for pid in "${pids[@]}"; do wait "$pid" || lost=$((lost + 1)); done
        dropdb --if-exists --force "$DBNAME" 2>/dev/null
    done
    eq "$lost" "0" "8 replicas creating the lease table at once, 20 rounds: $(grep -m1 "error" "$WORK/lease.err")"
fi

# SQLite, a new file, a migration that fails: replicas starting together.
# The run that created the file removes it when it fails; the others have
# it open and are told so -- never "attempt to write a readonly database"
# with a hint about file permissions
if [ "$ENGINE" = sqlite ]; then
    F=$WORK/fails
    mkdir -p "$F"
    printf -- '-- strata:up\nCREATE TABLE log (m text);\nSELECT nofunc(1);\n' >"$F/0001_a.sql"
    : >"$WORK/race.err"
    for round in 1 2 3 4 5 6; do
        rm -f "$WORK/race.db" "$WORK/race.db-journal"
        pids=()
        for j in 1 2 3 4 5 6; do
            "$STRATA" --url "sqlite:///$WORK/race.db" --dir "$F" -q up 2>>"$WORK/race.err" &
            pids+=($!)
        done
        for pid in "${pids[@]}"; do wait "$pid"; done
    done
    lacks "$(cat "$WORK/race.err")" "readonly database" "no run blames the file's permissions"
    lacks "$(cat "$WORK/race.err")" "not writable by this user" "nor hints at them"
    contains "$(cat "$WORK/race.err")" "no such function: nofunc" "the migration's own error is said"
fi

# replicas of a new build starting together on a version table an older
# strata made (no up_checksum, no note): each adds the missing columns
# before it takes the lock (SQLite: a lock per transaction), and all but
# one failed with "duplicate column name: up_checksum" (DB_ERROR). An
# application writer holding the write lock lines them up.
if [ "$ENGINE" = sqlite ]; then
    O=$WORK/oldtable
    mkdir -p "$O"
    printf -- '-- strata:up\nCREATE TABLE a (id integer);\n' >"$O/0001_a.sql"
    printf -- '-- strata:up\nCREATE TABLE b (id integer);\n' >"$O/0002_b.sql"
    for round in 1 2 3; do
        new_db
        q "CREATE TABLE strata_migrations (version text PRIMARY KEY, name text NOT NULL DEFAULT '', checksum text NOT NULL DEFAULT '', applied_at text NOT NULL, duration_ms integer NOT NULL DEFAULT 0, state text NOT NULL DEFAULT 'applied', error text)"
        "$STRATA" --url "$URL" --dir "$O" -q up 0001 || fail "round $round: the first migration"
        q "CREATE TABLE strata_migrations_old AS SELECT version, name, checksum, applied_at, duration_ms, state, error FROM strata_migrations; DROP TABLE strata_migrations; ALTER TABLE strata_migrations_old RENAME TO strata_migrations"
        (printf 'BEGIN IMMEDIATE;\nCREATE TABLE app_w (x);\n'; sleep 1; printf 'COMMIT;\n') | sqlite3 "$DBFILE" &
        holder=$!
        sleep 0.2
        pids=()
        for j in 1 2 3 4 5 6; do
            "$STRATA" --url "$URL" --dir "$O" -q up 2>"$WORK/old_$j.err" &
            pids+=($!)
        done
        for j in "${!pids[@]}"; do
            wait "${pids[$j]}" || fail "round $round: replica $((j + 1)) on an older version table: $(cat "$WORK/old_$((j + 1)).err")"
        done
        wait "$holder"
        eq "$(q "SELECT group_concat(version || ':' || state, ' ') FROM (SELECT * FROM strata_migrations ORDER BY version)")" \
            "0001:applied 0002:applied" "round $round: each migration recorded once"
    done
fi

# two spellings of one version table (--table public.strata_migrations in
# a CI job, the default in the application's startup): one lock. Before,
# each spelling was a lock of its own and a no-transaction section ran
# twice at once
if [ "$ENGINE" = postgres ]; then
    new_db
    SP=$WORK/spellings
    mkdir -p "$SP"
    printf -- '-- strata:up\nCREATE TABLE ran (at timestamptz);\n' >"$SP/0001_log.sql"
    printf -- '-- strata:up no-transaction\nINSERT INTO ran VALUES (clock_timestamp());\nSELECT pg_sleep(1.5);\n' >"$SP/0002_slow.sql"
    pids=()
    for tbl in strata_migrations public.strata_migrations '"public"."strata_migrations"' strata_migrations; do
        "$STRATA" --url "$URL" --dir "$SP" --table "$tbl" -q up 2>>"$WORK/spell.err" &
        pids+=($!)
    done
    for pid in "${pids[@]}"; do wait "$pid" || fail "a spelling's up failed: $(cat "$WORK/spell.err")"; done
    eq "$(q "SELECT count(*) FROM ran")" "1" "the no-transaction section ran once across spellings"
    # status under one spelling sees a run under the other
    q "DELETE FROM strata_migrations WHERE version = '0002'" >/dev/null
    "$STRATA" --url "$URL" --dir "$SP" --table public.strata_migrations -q up &
    slow=$!
    seen=
    for _ in $(seq 40); do
        st --dir "$SP" status --json
        [ "$(json_get "$OUT" 'j["migrations"][1].get("running")')" = True ] && seen=1 && break
        sleep 0.1
    done
    wait "$slow"
    [ -n "$seen" ] || fail "status (default spelling) did not see the run under public.strata_migrations"
fi

# the waiters report where the database is when they end, not where it was
# when they started: after waiting out a slow migration another process
# applied, every process says current = the head
new_db
W=$WORK/w
mig_a "$W"
if [ "$ENGINE" = postgres ]; then
    slow="SELECT pg_sleep(1.5);"
else
    slow="WITH RECURSIVE c(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM c WHERE i < 1500000) INSERT INTO slow SELECT i FROM c;"
fi
mig "$W" 0002_slow.sql <<SQL
-- strata:up
CREATE TABLE slow (i integer);
$slow
-- strata:down
DROP TABLE slow;
SQL
mig "$W" 0003_c.sql <<'SQL'
-- strata:up
CREATE TABLE c (x integer);
-- strata:down
DROP TABLE c;
SQL
st --dir "$W" up 0001
pids=()
for i in 1 2 3; do
    "$STRATA" --url "$URL" --dir "$W" up --json >"$WORK/w$i.out" 2>"$WORK/w$i.err" &
    pids+=($!)
done
wait_all "waiters: " w "${pids[@]}"
for i in 1 2 3; do
    eq "$(json_get "$(cat "$WORK/w$i.out")" 'j["current"]')" "0003" "process $i reports the current version at its end"
done

# SQLite in WAL mode (no exclusive locking mode there): a no-transaction
# section that another process is running is waited for, never run twice
if [ "$ENGINE" = sqlite ]; then
    new_db
    sqlite3 "$DBFILE" "PRAGMA journal_mode = wal" >/dev/null
    NW=$WORK/walnt
    mig "$NW" 0001_t.sql <<'SQL'
-- strata:up
CREATE TABLE t (id integer PRIMARY KEY, v text);
CREATE TABLE cnt (n int);
INSERT INTO cnt VALUES (0);
-- strata:down
DROP TABLE cnt;
DROP TABLE t;
SQL
    mig "$NW" 0002_slow.sql <<'SQL'
-- strata:up
WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < 1500000)
INSERT INTO t SELECT x, hex(randomblob(16)) FROM c;
-- strata:down
DELETE FROM t;
SQL
    mig "$NW" 0003_nt.sql <<'SQL'
-- strata:up no-transaction
UPDATE cnt SET n = n + 1;
CREATE INDEX IF NOT EXISTS t_v ON t (v);
CREATE TABLE IF NOT EXISTS t3 (id int);
INSERT INTO t3 VALUES (3);
-- strata:down no-transaction
DROP TABLE t3;
DROP INDEX t_v;
SQL
    mig "$NW" 0004_s.sql <<'SQL'
-- strata:up
INSERT INTO t3 VALUES (4);
-- strata:down
DELETE FROM t3 WHERE id = 4;
SQL
    pids=()
    for i in 1 2 3 4 5 6; do
        "$STRATA" --url "$URL" --dir "$NW" up -q >"$WORK/nw$i.out" 2>"$WORK/nw$i.err" &
        pids+=($!)
    done
    wait_all "WAL no-transaction: " nw "${pids[@]}"
    eq "$(q "SELECT n FROM cnt")" 1 "WAL: the no-transaction section ran once"
    eq "$(q "SELECT count(*) FROM t3")" 2 "WAL: its rows once, and the next migration's"
    eq "$(applied_versions | tr '\n' ' ')" "0001 0002 0003 0004 " "WAL: every migration applied"
fi

# SQLite, default journal mode, processes started one after another while
# a no-transaction section runs: they wait for it (its mark names a live
# process), all exit 0, it runs once; after a kill -9 of that process the
# next up does not wait for it (FAILED_MIGRATION at once)
if [ "$ENGINE" = sqlite ]; then
    new_db
    NS=$WORK/ntseq
    mig "$NS" 0001_a.sql <<'SQL'
-- strata:up
CREATE TABLE runlog (v text);
-- strata:down
DROP TABLE runlog;
SQL
    mig "$NS" 0002_nt.sql <<'SQL'
-- strata:up no-transaction
INSERT INTO runlog (v) VALUES ('2');
WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < 6000000) SELECT count(*) FROM c;
INSERT INTO runlog (v) VALUES ('2-end');
-- strata:down
SELECT 1;
SQL
    mig "$NS" 0003_c.sql <<'SQL'
-- strata:up
INSERT INTO runlog (v) VALUES ('3');
-- strata:down
SELECT 1;
SQL
    st --dir "$NS" up 0001
    pids=()
    for i in 1 2 3 4 5; do
        "$STRATA" --url "$URL" --dir "$NS" up -q >"$WORK/ns$i.out" 2>"$WORK/ns$i.err" &
        pids+=($!)
        sleep 0.15
    done
    wait_all "no-transaction, one after another: " ns "${pids[@]}"
    eq "$(q "SELECT group_concat(v, ',') FROM runlog")" "2,2-end,3" "the section ran once, then the next migration"
    new_db
    st --dir "$NS" up 0001
    "$STRATA" --url "$URL" --dir "$NS" up -q >/dev/null 2>&1 &
    pid=$!
    sleep 0.5
    kill -9 "$pid"
    wait "$pid" 2>/dev/null
    t0=$(date +%s%N)
    st --dir "$NS" up --lock-timeout 30
    ms=$((($(date +%s%N) - t0) / 1000000))
    expect_rc 1 "up after a kill -9 in a no-transaction section"
    contains "$ERR" "FAILED_MIGRATION" "the killed section is a failure"
    [ "$ms" -lt 10000 ] || fail "up waited $ms ms for a process that was gone"
fi

# SQLite, rollback journal: a waiter for another process's no-transaction
# section begins a transaction at each look; after 16 of them the run went
# to locking_mode=EXCLUSIVE and kept the write lock through its ROLLBACK
# while it waited -- the lock the section's own INSERT needed: both stopped
# at --lock-timeout. Now a run that waits lets the lock go.
if [ "$ENGINE" = sqlite ]; then
    new_db
    NL=$WORK/notx_long
    # 0001 holds the write lock for a while in its transaction: the second
    # up plans (reads) meanwhile, so it meets 0002 as a step of its run
    mig "$NL" 0001_gate.sql <<'SQL'
-- strata:up
CREATE TABLE gate (x integer);
WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < 6000000) INSERT INTO gate SELECT count(*) FROM c;
SQL
    mig "$NL" 0002_slow.sql <<'SQL'
-- strata:up no-transaction
CREATE TABLE big (x integer);
WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < 90000000) SELECT count(*) FROM c;
INSERT INTO big VALUES (1);
SQL
    mig "$NL" 0003_after.sql <<'SQL'
-- strata:up
CREATE TABLE after_slow (x integer);
SQL
    "$STRATA" --url "$URL" --dir "$NL" up -q --lock-timeout 40 >"$WORK/a.out" 2>&1 &
    a=$!
    sleep 0.3
    "$STRATA" --url "$URL" --dir "$NL" up -q --lock-timeout 40 >"$WORK/b.out" 2>&1 &
    b=$!
    wait "$a"
    ra=$?
    wait "$b"
    rb=$?
    eq "$ra:$rb" "0:0" "the section's owner and its long waiter both finish ($(cat "$WORK/a.out" "$WORK/b.out"))"
    eq "$(q "SELECT count(*) FROM big")" "1" "the section ran once"
    st --dir "$NL" current
    eq "$OUT" "0003" "and the next migration after it"
fi

# SQLite: an up that skipped a migration another process applied, which a
# third process then reverts before the up's next step: the up went on
# above it. The interleaving is forced by a preloaded shim that holds the
# up before the Nth BEGIN IMMEDIATE until a file exists.
if [ "$ENGINE" = sqlite ] && command -v "${CC:-cc}" >/dev/null; then
    cat >"$WORK/shim.c" <<'C'
#define _GNU_SOURCE
#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <sqlite3.h>
static int count;
static void hold(const char *sql)
{
    const char *d = getenv("SHIM_DIR"), *at = getenv("SHIM_AT");
    char f[600], me[32], list[128];
    struct stat st;
    if (!d || !at || !sql || strncmp(sql, "BEGIN IMMEDIATE", 15) != 0)
        return;
    count++;
    snprintf(list, sizeof(list), ",%s,", at);
    snprintf(me, sizeof(me), ",%d,", count);
    if (!strstr(list, me))
        return;
    snprintf(f, sizeof(f), "%s/hit.%d", d, count);
    fclose(fopen(f, "w"));
    snprintf(f, sizeof(f), "%s/go.%d", d, count);
    while (stat(f, &st) != 0)
        usleep(10000);
}
int sqlite3_exec(sqlite3 *db, const char *sql, int (*cb)(void *, int, char **, char **), void *a, char **e)
{
    static int (*real)(sqlite3 *, const char *, int (*)(void *, int, char **, char **), void *, char **);
    if (!real)
        real = (int (*)(sqlite3 *, const char *, int (*)(void *, int, char **, char **), void *, char **))dlsym(RTLD_NEXT, "sqlite3_exec");
    hold(sql);
    return real(db, sql, cb, a, e);
}
C
    if ${CC:-cc} -shared -fPIC -o "$WORK/shim.so" "$WORK/shim.c" -ldl 2>"$WORK/cc.err"; then
        new_db
        SK=$WORK/skip_m
        mkdir -p "$SK"
        for i in 1 2 3 4; do
            printf -- '-- strata:up\nCREATE TABLE sk%d (x integer);\n-- strata:down\nDROP TABLE sk%d;\n' "$i" "$i" >"$SK/000${i}_s.sql"
        done
        st --dir "$SK" up 0001
        mkdir -p "$WORK/shim"
        # the up holds before its 1st step's BEGIN (0002) and its 2nd (0003)
        SHIM_DIR=$WORK/shim SHIM_AT=1,2 ASAN_OPTIONS=verify_asan_link_order=0 LD_PRELOAD=$WORK/shim.so \
            "$STRATA" --url "$URL" --dir "$SK" up >"$WORK/sk.out" 2>"$WORK/sk.err" &
        upid=$!
        for _ in $(seq 500); do [ -e "$WORK/shim/hit.1" ] && break; sleep 0.01; done
        st --dir "$SK" up 0002 # another process applies 0002: the up skips it
        touch "$WORK/shim/go.1"
        for _ in $(seq 500); do [ -e "$WORK/shim/hit.2" ] && break; sleep 0.01; done
        st --dir "$SK" down # a third reverts 0002 before the up's next step
        touch "$WORK/shim/go.2"
        wait "$upid"
        rc=$?
        eq "$rc" "1" "the up stops: $(cat "$WORK/sk.err")"
        contains "$(cat "$WORK/sk.err")" "another process reverted 0002 while this run went on" "and says why"
        st --dir "$SK" validate
        expect_rc 0 "no applied migration above a pending one"
    else
        fail "cannot build the shim: $(cat "$WORK/cc.err")"
    fi
fi

finish
