#!/usr/bin/env bash
# Replicas behind a small PgBouncer pool (1-3 server connections) while one
# no-transaction statement outlives the migration lock's lease
# (STRATA_LEASE_SECONDS=3, a 7 s statement), with the database's
# lock_timeout at 100 ms: six `strata up` at once all exit 0, each migration
# runs once and is recorded applied. What makes it hold: waiters let go of
# their server connection between attempts (a session pool has room for the
# holder's heartbeat), the heartbeat never blocks the statement it keeps
# alive, and a waiter stopped by lock_timeout on the lease row waits on.
# A transaction pool of one cannot renew a lease during a statement (nothing
# else reaches the server); docs/operations.md says so.
. "$(dirname "$0")/lib.sh"
postgres_only
. "$(dirname "$0")/pgbouncer_lib.sh"

D=$WORK/m
mig "$D" 0001_a.sql <<'SQL'
-- strata:up
CREATE TABLE runs (migration text NOT NULL);
INSERT INTO runs VALUES ('0001');
SQL
mig "$D" 0002_slow.sql <<'SQL'
-- strata:up no-transaction
INSERT INTO runs VALUES ('0002');
SELECT pg_sleep(7);
SQL
mig "$D" 0003_b.sql <<'SQL'
-- strata:up
INSERT INTO runs VALUES ('0003');
SQL
export STRATA_LEASE_SECONDS=3
for case in session:1 session:2 session:3 transaction:2 transaction:3; do
    mode=${case%:*} size=${case#*:}
    PGB_POOL_SIZE=$size pgb_start "$mode"
    new_db
    q "ALTER DATABASE $DBNAME SET lock_timeout = '100ms'" >/dev/null
    PURL=$(pgb_url "$DBNAME")
    pids=()
    for i in $(seq 1 6); do
        "$STRATA" --url "$PURL" --dir "$D" -q up >"$WORK/c$i.out" 2>"$WORK/c$i.err" &
        pids+=($!)
    done
    wait_all "$mode pool $size: " c "${pids[@]}"
    eq "$(q "SELECT string_agg(migration, ',' ORDER BY migration) FROM runs")" "0001,0002,0003" \
        "$mode pool $size: each migration ran once"
    eq "$(q "SELECT string_agg(version || ':' || state, ',' ORDER BY version) FROM strata_migrations")" \
        "0001:applied,0002:applied,0003:applied" "$mode pool $size: all recorded applied"
    eq "$(q "SELECT count(*) FROM strata_migrations_lock")" "0" "$mode pool $size: the lease row is gone"
    pgb_stop
done
# the lease row held for a moment by someone else (a waiter's attempt) when
# the holder renews it before its COMMIT: with lock_timeout at 100 ms the
# renewal waits all the same (before: 55P03, the step rolled back, exit 1)
new_db
q "ALTER DATABASE $DBNAME SET lock_timeout = '100ms'" >/dev/null
mig "$WORK/h" 0001_held.sql <<'SQL'
-- strata:up
SELECT pg_sleep(1.5);
CREATE TABLE held_t (id integer);
SQL
STRATA_ASSUME_POOLER=1 "$STRATA" --url "$URL" --dir "$WORK/h" -q up >"$WORK/h1.out" 2>"$WORK/h1.err" &
holder=$!
for _ in $(seq 100); do
    [ "$(q "SELECT count(*) FROM strata_migrations_lock" 2>/dev/null)" = 1 ] && break
    sleep 0.05
done
q "BEGIN; SELECT 1 FROM strata_migrations_lock FOR UPDATE; SELECT pg_sleep(2.5); COMMIT" >/dev/null ||
    fail "lease row: the other session's row lock"
wait_all "lease row held at renewal: " h "$holder"
eq "$(q "SELECT string_agg(version || ':' || state, ',') FROM strata_migrations")" "0001:applied" \
    "lease row held at renewal: applied"
finish
