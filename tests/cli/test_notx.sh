#!/usr/bin/env bash
# no-transaction sections: they work, and a failure is recorded so that
# status shows it and up neither skips nor silently re-runs it.
. "$(dirname "$0")/lib.sh"

new_db
D=$WORK/m
mig "$D" 0001_t.sql <<'SQL'
-- strata:up
CREATE TABLE t (id integer PRIMARY KEY, v integer);
-- strata:down
DROP TABLE t;
SQL
if [ "$ENGINE" = postgres ]; then
    mig "$D" 0002_index.sql <<'SQL'
-- strata:up no-transaction
CREATE INDEX CONCURRENTLY t_v_idx ON t (v);
CREATE TABLE after_index (id integer);
INSERT INTO no_such_table VALUES (1);
-- strata:down no-transaction
DROP INDEX CONCURRENTLY IF EXISTS t_v_idx;
DROP TABLE IF EXISTS after_index;
SQL
else
    mig "$D" 0002_index.sql <<'SQL'
-- strata:up no-transaction
CREATE INDEX t_v_idx ON t (v);
CREATE TABLE after_index (id integer);
INSERT INTO no_such_table VALUES (1);
-- strata:down no-transaction
DROP INDEX IF EXISTS t_v_idx;
DROP TABLE IF EXISTS after_index;
SQL
fi
mig "$D" 0003_later.sql <<'SQL'
-- strata:up
CREATE TABLE later (id integer);
-- strata:down
DROP TABLE later;
SQL
st --dir "$D" up
expect_rc 1 "failing no-transaction migration"
contains "$ERR" "MIGRATION_FAILED" "code"
contains "$ERR" "0002_index.sql:4:" "file:line"
contains "$ERR" "--retry-failed" "hint says how to resolve"
eq "$(table_exists after_index)" "1" "no-transaction statements before the failure stay"
eq "$(table_exists later)" "0" "nothing after the failed migration ran"
st --dir "$D" status --json
eq "$(json_get "$OUT" '[m["state"] for m in j["migrations"]]')" "['applied', 'failed', 'pending']" "status shows failed"
eq "$(json_get "$OUT" 'j["current"]')" "0001" "current is the last applied"
st --dir "$D" up
expect_rc 1 "up refuses to skip the failed migration"
contains "$ERR" "FAILED_MIGRATION" "failed code"
contains "$ERR" "no_such_table" "the failed run's own error, as recorded"
eq "$(table_exists later)" "0" "and runs nothing"
st --dir "$D" validate
expect_rc 3 "validate reports it"
contains "$OUT$ERR" "no_such_table" "validate shows the recorded error too"
# redo of the failed migration: refused before its down half (before: it
# ran the down, then the up again, as only --retry-failed may)
st --dir "$D" redo
expect_rc 1 "redo of a failed migration refused"
contains "$ERR" "FAILED_MIGRATION" "redo: the code"
contains "$ERR" "nothing was reverted" "redo: says nothing changed"
eq "$(table_exists after_index)" "1" "redo ran no down section"
st --dir "$D" status --json
eq "$(json_get "$OUT" '[m["state"] for m in j["migrations"]]')" "['applied', 'failed', 'pending']" "redo left the record"

# fix the file, retry: runs it again (statements must be re-runnable)
if [ "$ENGINE" = postgres ]; then
    sed -i 's/INDEX CONCURRENTLY t_v_idx/INDEX CONCURRENTLY IF NOT EXISTS t_v_idx/; s/CREATE TABLE after_index/CREATE TABLE IF NOT EXISTS after_index/; s/INSERT INTO no_such_table VALUES (1);//' "$D/0002_index.sql"
else
    sed -i 's/INDEX t_v_idx/INDEX IF NOT EXISTS t_v_idx/; s/CREATE TABLE after_index/CREATE TABLE IF NOT EXISTS after_index/; s/INSERT INTO no_such_table VALUES (1);//' "$D/0002_index.sql"
fi
st --dir "$D" up --retry-failed
expect_rc 0 "retry after the fix"
st --dir "$D" status --json
eq "$(json_get "$OUT" '[m["state"] for m in j["migrations"]]')" "['applied', 'applied', 'applied']" "all applied"

# down and up through the no-transaction migration
st --dir "$D" down 0001
expect_rc 0 "down through no-transaction"
eq "$(table_exists after_index)" "0" "no-transaction down ran"
st --dir "$D" up
expect_rc 0 "up through no-transaction"

# stamp resolves a failed migration fixed by hand
mig "$D" 0004_fails.sql <<'SQL'
-- strata:up no-transaction
CREATE TABLE half (id integer);
SELECT * FROM missing_table;
-- strata:down
DROP TABLE half;
SQL
st --dir "$D" up
expect_rc 1 "second failure"
st --dir "$D" stamp 0004
expect_rc 0 "stamp marks it applied"
st --dir "$D" status --json
eq "$(json_get "$OUT" 'j["migrations"][-1]["state"]')" "applied" "resolved by stamp"

# a failed CREATE UNIQUE INDEX CONCURRENTLY: the hint names the INVALID index
# it left in the way of the retry, and how to clear it (it gave only the
# generic hint, and the retry then failed on "already exists")
if [ "$ENGINE" = postgres ]; then
    KEEP_URL=$URL
    new_db
    U="$WORK/uniq"
    mig "$U" 0001_t.sql <<'SQL'
-- strata:up
CREATE TABLE dup (id integer, email text);
INSERT INTO dup VALUES (1, 'a'), (2, 'a');
-- strata:down
DROP TABLE dup;
SQL
    mig "$U" 0002_uq.sql <<'SQL'
-- strata:up no-transaction
CREATE UNIQUE INDEX CONCURRENTLY dup_email ON dup (email);
-- strata:down no-transaction
DROP INDEX CONCURRENTLY dup_email;
SQL
    st --dir "$U" up
    expect_rc 1 "a unique index over duplicates"
    contains "$ERR" "it left index public.dup_email INVALID" "the INVALID index named"
    contains "$ERR" "DROP INDEX CONCURRENTLY public.dup_email;" "the way to clear it"
    q "DELETE FROM dup WHERE id = 2" >/dev/null
    q "DROP INDEX CONCURRENTLY public.dup_email" >/dev/null
    st --dir "$U" up --retry-failed
    expect_rc 0 "the retry after following the hint"
    st --dir "$U" down base
    expect_rc 0 "down base of the unique index history"
    URL=$KEEP_URL
fi

# --single-transaction refuses no-transaction sections before running anything
st --dir "$D" down base
expect_rc 0 "down base"
st --dir "$D" up --single-transaction
expect_rc 2 "single transaction with a no-transaction section"
contains "$ERR" "SINGLE_TRANSACTION_REFUSED" "refusal code"
eq "$(table_exists t)" "0" "nothing ran"


# SQLite: VACUUM in a transactional section fails with a hint to give it a
# no-transaction section of its own
if [ "$ENGINE" = sqlite ]; then
    VD=$WORK/vac
    mig "$VD" 0001_vacuum.sql <<'SQL'
-- strata:up
CREATE TABLE vac (id integer);
VACUUM;
SQL
    new_db
    st --dir "$VD" up
    expect_rc 1 "VACUUM in a transaction"
    contains "$ERR" "cannot VACUUM from within a transaction" "VACUUM: SQLite's message"
    contains "$ERR" "'-- strata:up no-transaction'" "VACUUM: the hint names the section"
fi


# SQLite replicas: two `up` at once, the one running a long no-transaction
# section killed with SIGKILL; the other, which planned before the mark was
# written and then waits for the section, fails at once (FAILED_MIGRATION)
# instead of waiting out --lock-timeout for a process that is gone
if [ "$ENGINE" = sqlite ]; then
    KD=$WORK/killwait
    mig "$KD" 0001_big.sql <<'SQL'
-- strata:up
CREATE TABLE big AS WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < 400000) SELECT x FROM c;
-- strata:down
DROP TABLE big;
SQL
    mig "$KD" 0002_slow.sql <<'SQL'
-- strata:up no-transaction
WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < 200000000) SELECT count(*) FROM c;
-- strata:down
SELECT 1;
SQL
    caught=0
    for round in 1 2 3 4; do
        new_db
        sqlite3 "$DBFILE" "PRAGMA journal_mode=wal" >/dev/null
        "$STRATA" --url "$URL" --dir "$KD" --lock-timeout 60 up >"$WORK/ka.out" 2>&1 &
        pa=$!
        "$STRATA" --url "$URL" --dir "$KD" --lock-timeout 60 up >"$WORK/kb.out" 2>&1 &
        pb=$!
        runner=""
        for _ in $(seq 1 200); do
            runner=$(sqlite3 "$DBFILE" "SELECT error FROM strata_migrations WHERE version = '0002'" 2>/dev/null |
                sed -n 's/.*completion (pid \([0-9]*\)[,)].*/\1/p')
            [ -n "$runner" ] && break
            sleep 0.05
        done
        [ -n "$runner" ] || { fail "round $round: no process marked 0002"; kill -9 $pa $pb 2>/dev/null; break; }
        if [ "$runner" = "$pa" ]; then other=$pb; out=$WORK/kb.out; else other=$pa; out=$WORK/ka.out; fi
        sleep 0.3
        kill -9 "$runner"
        wait "$runner" 2>/dev/null
        t0=$(date +%s%N)
        wait "$other"
        rc=$?
        ms=$((($(date +%s%N) - t0) / 1000000))
        # the other either planned after the mark (fails at once in its
        # plan), or waited in the step (the case this is about)
        grep -q "waiting for another strata process" "$out" && caught=$((caught + 1))
        eq "$rc" "1" "round $round: the other replica's exit: $(cat "$out")"
        contains "$(cat "$out")" "FAILED_MIGRATION" "round $round: the other replica's code"
        [ "$ms" -lt 5000 ] || fail "round $round: the other replica waited $ms ms for a killed process"
    done
    echo "# $caught of 4 rounds had the other replica waiting in the step when the runner was killed"

    # stamp while another process runs a no-transaction section: it waits
    # for that run (it took the run's mark for a failed run's, removed it
    # and exited 0, "which failed earlier")
    new_db
    "$STRATA" --url "$URL" --dir "$KD" up >"$WORK/ka.out" 2>&1 &
    pa=$!
    for _ in $(seq 1 200); do
        sqlite3 "$DBFILE" "SELECT error FROM strata_migrations WHERE version = '0002'" 2>/dev/null |
            grep -q "completion (pid $pa" && break
        sleep 0.05
    done
    st --dir "$KD" --lock-timeout 1 stamp 0002
    expect_rc 4 "stamp beside a running no-transaction section"
    contains "$ERR" "LOCK_TIMEOUT" "stamp beside a running section: LOCK_TIMEOUT"
    contains "$(q "SELECT error FROM strata_migrations WHERE version = '0002'")" "completion (pid $pa" \
        "the running section's mark stays"
    kill -9 "$pa"
    wait "$pa" 2>/dev/null
fi

# SQLite: marks a pid alone cannot judge. One written in another PID
# namespace (a container sharing the file: its pid 1 is not ours) was taken
# as a killed run's, so a second container ran the section beside the
# first; one whose pid now belongs to a process started at another time
# (pid reuse, or pid 1 on the host) was waited for to --lock-timeout.
if [ "$ENGINE" = sqlite ]; then
    new_db
    MD=$WORK/marks
    mig "$MD" 0001_n.sql <<'SQL'
-- strata:up no-transaction
CREATE TABLE IF NOT EXISTS marked (x integer);
INSERT INTO marked VALUES (1);
SQL
    st --dir "$MD" up --lock-timeout 1
    expect_rc 0 "the marks' migration applied"
    sqlite3 "$DBFILE" "UPDATE strata_migrations SET state = 'failed', error = 'interrupted before completion (pid 1, pidns 1, start 5)' WHERE version = '0001'"
    st --dir "$MD" status --json
    eq "$(json_get "$OUT" 'j["migrations"][0].get("running", "absent")')" "None" "status: a mark that cannot be checked: running null (cannot tell)"
    st --dir "$MD" up --lock-timeout 1
    expect_rc 4 "a mark of another PID namespace is waited for"
    contains "$ERR" "of another PID namespace" "the wait says why it cannot tell"
    contains "$ERR" "'strata up --retry-failed'" "and the way out"
    st --dir "$MD" up --lock-timeout 1 --retry-failed
    expect_rc 0 "--retry-failed takes it as a killed run's"
    eq "$(q "SELECT state FROM strata_migrations WHERE version = '0001'")" "applied" "then applied"
    sleep 30 &
    alive=$!
    sqlite3 "$DBFILE" "UPDATE strata_migrations SET state = 'failed', error = 'interrupted before completion (pid $alive, pidns 0, start 1)' WHERE version = '0001'"
    st --dir "$MD" status
    contains "$OUT" "no strata process is applying it now" "status: a reused pid's mark is a killed run's"
    lacks "$OUT" "running" "and not shown running"
    t0=$(date +%s%N)
    st --dir "$MD" up --lock-timeout 10
    ms=$((($(date +%s%N) - t0) / 1000000))
    kill "$alive"
    expect_rc 1 "a reused pid (started at another time) is no running section"
    contains "$ERR" "FAILED_MIGRATION" "the mark is a killed run's"
    [ "$ms" -lt 5000 ] || fail "up waited $ms ms for a pid that another process reuses"
    # a mark without a pid (an older strata build, a 'strata sql' script):
    # whether its run goes on cannot be told -- the hint says so before it
    # offers --retry-failed (which would run the section a second time
    # beside a run still applying it)
    sqlite3 "$DBFILE" "UPDATE strata_migrations SET state = 'failed', error = 'interrupted before completion' WHERE version = '0001'"
    st --dir "$MD" status
    contains "$OUT" "strata cannot tell" "status: a mark without a pid cannot be told (as up says)"
    st --dir "$MD" up --lock-timeout 1
    expect_rc 1 "a mark without a pid"
    contains "$ERR" "its mark names no process" "the hint says whose mark it may be"
    contains "$ERR" "wait for it to end" "and to wait for such a run first"
fi

# status while another process applies a no-transaction section: the
# section's mark ("interrupted before completion", written before it runs)
# shows as running, not as failed (before: "failed" to everyone who
# looked during a deploy); once the run is gone, as failed
new_db
RD=$WORK/running
if [ "$ENGINE" = postgres ]; then
    mig "$RD" 0001_slow.sql <<'SQL'
-- strata:up no-transaction
SELECT pg_sleep(3);
SQL
else
    mig "$RD" 0001_slow.sql <<'SQL'
-- strata:up no-transaction
WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < 20000000) SELECT count(*) FROM c;
SQL
fi
"$STRATA" --url "$URL" --dir "$RD" up >"$WORK/slow.out" 2>&1 &
slow=$!
seen=
for _ in $(seq 1 100); do
    st --dir "$RD" status --json
    if [ "$(json_get "$OUT" 'j["migrations"][0].get("running")')" = True ]; then
        seen=1
        break
    fi
    kill -0 "$slow" 2>/dev/null || break
    sleep 0.1
done
[ -n "$seen" ] || fail "status never showed the section being applied as running: $OUT $ERR"
eq "$(json_get "$OUT" 'j["migrations"][0]["state"]')" "failed" "--json keeps the state the contract names"
st --dir "$RD" status
contains "$OUT" "running" "status shows it running"
contains "$OUT" "being applied now by another strata process" "and says by whom"
wait "$slow"
eq "$?" "0" "the slow section applied: $(cat "$WORK/slow.out")"
st --dir "$RD" status --json
eq "$(json_get "$OUT" 'all([m["state"], m.get("running")] == ["applied", None] for m in j["migrations"])')" "True" "then applied, not running"

# a no-transaction section with a transaction of its own (as imported
# golang-migrate, flyway and sqitch files have) that fails inside it: the
# record keeps the server's error (before: "interrupted before
# completion", and on PostgreSQL a warning that the lock was lost), and
# the section's own transaction is rolled back
OD=$WORK/owntx
mig "$OD" 0001_own.sql <<'SQL'
-- strata:up no-transaction
BEGIN;
CREATE TABLE own_a (x integer);
INSERT INTO own_nosuch VALUES (1);
COMMIT;
SQL
new_db
st --dir "$OD" up
expect_rc 1 "own transaction failing inside a no-transaction section"
lacks "$ERR" "no longer held" "own transaction: no lost-lock warning"
contains "$(q "SELECT error FROM strata_migrations WHERE version = '0001'")" "own_nosuch" "own transaction: the server's error is recorded"
eq "$(table_exists own_a)" 0 "own transaction: rolled back"
st --dir "$OD" status
contains "$OUT" "own_nosuch" "own transaction: status shows the error"

# a failed no-transaction down: recorded as a down, and the hints point
# back to down (not to up --retry-failed, which would run the up)
new_db
ND=$WORK/nd
mig "$ND" 0001_a.sql <<'SQL'
-- strata:up
CREATE TABLE t1 (x integer);
CREATE TABLE t2 (x integer);
-- strata:down no-transaction
DROP TABLE t2;
DROP TABLE nosuch;
DROP TABLE t1;
SQL
st --dir "$ND" up -q
st --dir "$ND" down
expect_rc 1 "a failing no-transaction down"
contains "$ERR" "half reverted" "the failure says the migration is half reverted"
contains "$ERR" "'strata down' again" "and to run down again"
lacks "$ERR" "retry-failed" "not up --retry-failed"
st --dir "$ND" status
contains "$OUT" "(down: " "status shows the failure was a down"
st --dir "$ND" up
expect_rc 1 "up after a failed down"
contains "$ERR" "partly reverted" "up says the migration is partly reverted"
# the hint's way out: make the down safe to repeat, run down again (the
# edit made it CHECKSUM_MISMATCH, and accept refused a failed migration)
mig "$ND" 0001_a.sql <<'SQL'
-- strata:up
CREATE TABLE t1 (x integer);
CREATE TABLE t2 (x integer);
-- strata:down no-transaction
DROP TABLE IF EXISTS t2;
DROP TABLE IF EXISTS nosuch;
DROP TABLE t1;
SQL
st --dir "$ND" down
expect_rc 0 "down again after making it safe to repeat"
eq "$(table_exists t1)" 0 "the down finished"
eq "$(applied_versions | wc -l | tr -d ' ')" 0 "nothing recorded after the finished down"

# a no-transaction section that ends inside a transaction it began (a file
# cut short): rolled back, failed at its BEGIN (PostgreSQL: strata's record
# committed it, "applied"; SQLite: DB_ERROR without a line)
new_db
OT=$WORK/opentx
mig "$OT" 0001_open.sql <<'SQL'
-- strata:up no-transaction
CREATE TABLE before_begin (id integer);
BEGIN;
CREATE TABLE z_open (id integer);
-- strata:down no-transaction
DROP TABLE IF EXISTS z_open;
DROP TABLE IF EXISTS before_begin;
SQL
st --dir "$OT" up
expect_rc 1 "a section that ends inside its own transaction"
contains "$ERR" "0001_open.sql:3: the no-transaction section ended inside the transaction begun here" \
    "names the BEGIN's line"
contains "$ERR" "[MIGRATION_FAILED]" "MIGRATION_FAILED"
eq "$(table_exists z_open)" "0" "the open transaction rolled back"
eq "$(table_exists before_begin)" "1" "what ran before it stays"
eq "$(q "SELECT state FROM strata_migrations")" "failed" "recorded failed"
if [ "$ENGINE" = postgres ]; then
    # a section that sets the session read-only: its statements ran, and the
    # record is still written (it failed, "cannot execute DELETE in a
    # read-only transaction", and the migration stayed failed)
    new_db
    RO=$WORK/ro
    mig "$RO" 0001_ro.sql <<'SQL'
-- strata:up no-transaction
CREATE TABLE made (id integer);
SET default_transaction_read_only = on;
SELECT count(*) FROM made;
SQL
    st --dir "$RO" up
    expect_rc 0 "a section that sets the session read-only"
    eq "$(q "SELECT state FROM strata_migrations")" "applied" "recorded applied"
    # and one that fails after that SET: its own error is on record (it was
    # "interrupted before completion": the record could not be written)
    new_db
    mig "$RO" 0001_ro.sql <<'SQL'
-- strata:up no-transaction
SET default_transaction_read_only = on;
SELECT nosuch FROM pg_class;
SQL
    st --dir "$RO" up
    expect_rc 1 "a section that sets the session read-only, then fails"
    contains "$(q "SELECT error FROM strata_migrations")" 'column "nosuch" does not exist' \
        "the section's own error is on record"
    # a statement timeout: the hint's SET is the one that works there (SET
    # LOCAL does nothing outside a transaction)
    for mode in notx tx; do
        new_db
        TO=$WORK/to_$mode
        if [ "$mode" = notx ]; then marker=' no-transaction' set=SET; else marker='' set='SET LOCAL'; fi
        printf -- "-- strata:up%s\n%s statement_timeout = '100ms';\nSELECT pg_sleep(2);\n" "$marker" "$set" |
            mig "$TO" 0001_to.sql
        st --dir "$TO" up
        expect_rc 1 "a statement timeout ($mode)"
        contains "$ERR" "with $set statement_timeout" "a statement timeout ($mode): the hint says $set"
    done
else
    # SQLite: a section that ends with PRAGMA query_only = 1 (its record
    # failed, "attempt to write a readonly database", and it stayed failed)
    new_db
    RO=$WORK/ro
    mig "$RO" 0001_ro.sql <<'SQL'
-- strata:up no-transaction
CREATE TABLE made (id integer);
PRAGMA query_only = 1;
SQL
    st --dir "$RO" up
    expect_rc 0 "a section that ends with PRAGMA query_only = 1"
    eq "$(q "SELECT state FROM strata_migrations")" "applied" "recorded applied"
fi

finish
