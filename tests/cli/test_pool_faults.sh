#!/usr/bin/env bash
# PgBouncer cutting strata off the way production pools do, each of which
# went wrong before:
# - query_timeout (or KILL, a restart) ending a transactional step: the
#   lease row stayed behind, and the next `up` sat out its 30 s, then
#   LOCK_TIMEOUT "another strata process is migrating" (now the lock's
#   release reconnects and deletes it); the hint said "rolled back, run it
#   again" while the server still ran the statement (now it names
#   query_timeout and says the statement may still run);
# - a PgBouncer restart during a no-transaction section: the record stayed
#   "interrupted before completion" and the lease row stayed (the failure's
#   record now reconnects for 10 s);
# - SCRAM authentication failing through PgBouncer: no hint;
# - max_client_conn reached: not retried (now as "too many connections");
# - no server connection within query_wait_timeout (a paused or full pool):
#   exit 1 DB_ERROR "run it again" (now CONNECT_FAILED, exit 4, naming it).
. "$(dirname "$0")/lib.sh"
postgres_only
. "$(dirname "$0")/pgbouncer_lib.sh"

runs() { q "SELECT count(*) FROM runs"; }

# stopped_while_paused DELAY CMD...: runs CMD in the background, PAUSEs the
# test database in PgBouncer 1 s later, sends CMD a SIGTERM DELAY s after
# that; sets RC, OUT, ERR and MS (from the signal to the exit), then RESUMEs
stopped_while_paused() {
    local delay=$1 holder pauser t0 t1
    shift
    "$@" >"$WORK/o" 2>"$WORK/e" &
    holder=$!
    sleep 1
    psql -X -q -h 127.0.0.1 -p "$PGB_PORT" -d pgbouncer -c "PAUSE $DBNAME" >/dev/null 2>&1 &
    pauser=$!
    sleep "$delay"
    t0=$(date +%s%N)
    kill -TERM "$holder"
    wait "$holder"
    RC=$?
    t1=$(date +%s%N)
    OUT=$(cat "$WORK/o") ERR=$(cat "$WORK/e") MS=$(((t1 - t0) / 1000000))
    wait "$pauser"
    psql -X -q -h 127.0.0.1 -p "$PGB_PORT" -d pgbouncer -c "RESUME $DBNAME" >/dev/null
}

# ---------------------------------------- query_timeout in a transactional step
PGB_EXTRA="query_timeout = 2" pgb_start transaction
new_db
q "CREATE TABLE runs (v text)" >/dev/null
PURL=$(pgb_url "$DBNAME")
mig "$WORK/qt" 0001_slow.sql <<'SQL'
-- strata:up
INSERT INTO runs VALUES ('1');
SELECT pg_sleep(4);
SQL
"$STRATA" --url "$PURL" --dir "$WORK/qt" up >"$WORK/o" 2>"$WORK/e"
RC=$? OUT=$(cat "$WORK/o") ERR=$(cat "$WORK/e")
expect_rc 1 "query_timeout: the step fails"
contains "$ERR" "query_timeout" "query_timeout: the hint names it"
contains "$ERR" "may still be running" "query_timeout: the statement may still run"
lacks "$ERR" "run it again" "query_timeout: no advice to repeat"
lacks "$ERR" "no longer held" "query_timeout: no false word on the lock"
eq "$(q "SELECT count(*) FROM strata_migrations_lock")" "0" "query_timeout: no lease row left"
sleep 2.5 # the server's statement ends (it rolls back)
mig "$WORK/qt2" 0001_quick.sql <<'SQL'
-- strata:up
INSERT INTO runs VALUES ('2');
SQL
"$STRATA" --url "$PURL" --dir "$WORK/qt2" --lock-timeout 3 -q up >"$WORK/o" 2>"$WORK/e" ||
    fail "query_timeout: the next up: $(cat "$WORK/e")"
eq "$(runs)" "1" "query_timeout: the next up ran, the cut step rolled back"
pgb_stop

# ------------------------------ a PgBouncer restart in a no-transaction section
PGB_FIXED_PORT=$(free_port) pgb_start transaction
new_db
q "CREATE TABLE runs (v text)" >/dev/null
PURL=$(pgb_url "$DBNAME")
mig "$WORK/rs" 0001_slow.sql <<'SQL'
-- strata:up no-transaction
INSERT INTO runs VALUES ('1');
SELECT pg_sleep(4);
SQL
"$STRATA" --url "$PURL" --dir "$WORK/rs" up >"$WORK/o" 2>"$WORK/e" &
holder=$!
sleep 1.5
pgb_stop
sleep 0.5
PGB_FIXED_PORT=$PGB_PORT pgb_start transaction
wait "$holder"
RC=$? OUT=$(cat "$WORK/o") ERR=$(cat "$WORK/e")
expect_rc 1 "restart: the holder fails"
eq "$(q "SELECT count(*) FROM strata_migrations_lock")" "0" "restart: no lease row left"
rec=$(q "SELECT state || ': ' || error FROM strata_migrations")
lacks "$rec" "interrupted before completion" "restart: the failure recorded, not the placeholder"
contains "$rec" "failed: " "restart: recorded failed"
t0=$(date +%s%N)
"$STRATA" --url "$PURL" --dir "$WORK/rs" --lock-timeout 5 up >"$WORK/o" 2>"$WORK/e"
RC=$? OUT=$(cat "$WORK/o") ERR=$(cat "$WORK/e")
t1=$(date +%s%N)
contains "$ERR" "[FAILED_MIGRATION]" "restart: the next up stops on the failed migration"
[ $(((t1 - t0) / 1000000)) -lt 3000 ] || fail "restart: the next up waited $(((t1 - t0) / 1000000)) ms"
pgb_stop

# a no-transaction section whose next statement finds the pool paused
# (query_wait_timeout): the section partly ran -- MIGRATION_FAILED with the
# runner's hint (it said CONNECT_FAILED, "the statement did not run")
PGB_EXTRA="query_wait_timeout = 2" pgb_start transaction
new_db
PURL=$(pgb_url "$DBNAME")
mig "$WORK/qw" 0001_a.sql <<'SQL'
-- strata:up no-transaction
CREATE TABLE nt1 (id int);
SELECT pg_sleep(2);
CREATE TABLE nt2 (id int);
SQL
"$STRATA" --url "$PURL" --dir "$WORK/qw" up >"$WORK/o" 2>"$WORK/e" &
holder=$!
sleep 1
psql -X -q -h 127.0.0.1 -p "$PGB_PORT" -d pgbouncer -c "PAUSE $DBNAME" >/dev/null 2>&1 &
pauser=$!
wait "$holder"
RC=$? OUT=$(cat "$WORK/o") ERR=$(cat "$WORK/e")
wait "$pauser"
psql -X -q -h 127.0.0.1 -p "$PGB_PORT" -d pgbouncer -c "RESUME $DBNAME" >/dev/null
expect_rc 1 "paused mid-section: exit"
contains "$ERR" "[MIGRATION_FAILED]" "paused mid-section: the migration failed"
contains "$ERR" "may have partly run" "paused mid-section: the runner's hint"
lacks "$ERR" "did not run" "paused mid-section: not 'did not run'"
lacks "$ERR" "no longer held" "paused mid-section: no false word on the lock"
pgb_stop

# the same, with a SIGTERM while the paused pool holds the statement back
# (PgBouncer does not pass the cancel on): the run says INTERRUPTED, not a
# plain migration failure
PGB_EXTRA="query_wait_timeout = 2" pgb_start transaction
new_db
PURL=$(pgb_url "$DBNAME")
stopped_while_paused 1.5 "$STRATA" --url "$PURL" --dir "$WORK/qw" up
contains "$ERR" "[INTERRUPTED]" "SIGTERM while the pool holds the statement: INTERRUPTED"
pgb_stop

# the same with the pool's query_wait_timeout long (PgBouncer's default is
# 120 s, longer than a deploy's stop waits before its SIGKILL): strata
# waited it out; now 5 s after the SIGTERM it closes its connections and
# ends INTERRUPTED, and the statement the pool held never runs
PGB_EXTRA="query_wait_timeout = 60" pgb_start transaction
new_db
PURL=$(pgb_url "$DBNAME")
stopped_while_paused 1.5 "$STRATA" --url "$PURL" --dir "$WORK/qw" up
expect_rc 1 "long query_wait_timeout, SIGTERM: exit"
contains "$ERR" "[INTERRUPTED]" "long query_wait_timeout, SIGTERM: INTERRUPTED"
contains "$ERR" "cancel request got no answer" "long query_wait_timeout, SIGTERM: says why"
contains "$ERR" "pooler holding the statement" "long query_wait_timeout, SIGTERM: names the pooler"
contains "$ERR" "may have partly run" "long query_wait_timeout, SIGTERM: the runner's hint (no transaction)"
lacks "$ERR" "server closed the connection" "long query_wait_timeout, SIGTERM: not the server's doing"
[ "$MS" -lt 12000 ] || fail "long query_wait_timeout, SIGTERM: strata took $MS ms to stop"
[ "$MS" -ge 4000 ] || fail "long query_wait_timeout, SIGTERM: closed after $MS ms, before the grace"
sleep 1 # the pool resumed: a statement it still held would run now
eq "$(q "SELECT count(*) FROM pg_tables WHERE tablename = 'nt2'")" "0" \
    "long query_wait_timeout, SIGTERM: the held statement never ran"
eq "$(q "SELECT state FROM strata_migrations")" "failed" "long query_wait_timeout, SIGTERM: recorded failed"
# the library's way (examples/app_startup.c: strata_interrupt_force from
# SIGALRM, 5 s after the SIGTERM's strata_interrupt)
new_db
PURL=$(pgb_url "$DBNAME")
stopped_while_paused 1.5 "$APP" "$PURL" "$WORK/qw"
contains "$ERR$OUT" "INTERRUPTED" "app_startup, paused pool, SIGTERM: INTERRUPTED"
[ "$MS" -lt 12000 ] || fail "app_startup, paused pool, SIGTERM: it took $MS ms to stop"
pgb_stop

# the same between two transactional migrations: the next one's BEGIN waits
# in the paused pool; closed after the grace, it never runs
PGB_EXTRA="query_wait_timeout = 60" pgb_start transaction
new_db
q "CREATE TABLE runs (v text)" >/dev/null
PURL=$(pgb_url "$DBNAME")
mig "$WORK/qt3" 0001_slow.sql <<'SQL'
-- strata:up
INSERT INTO runs VALUES ('1');
SELECT pg_sleep(2);
SQL
mig "$WORK/qt3" 0002_next.sql <<'SQL'
-- strata:up
INSERT INTO runs VALUES ('2');
SQL
stopped_while_paused 2.5 "$STRATA" --url "$PURL" --dir "$WORK/qt3" up
expect_rc 1 "paused before a transaction, SIGTERM: exit"
contains "$ERR" "[INTERRUPTED]" "paused before a transaction, SIGTERM: INTERRUPTED"
contains "$ERR" "before applying 0002_next" "paused before a transaction, SIGTERM: names the next"
[ "$MS" -lt 12000 ] || fail "paused before a transaction, SIGTERM: strata took $MS ms to stop"
sleep 1
eq "$(q "SELECT string_agg(v, ',' ORDER BY v) FROM runs")" "1" "paused before a transaction: 0002 never ran"
eq "$(q "SELECT string_agg(version || ':' || state, ',') FROM strata_migrations")" "0001:applied" \
    "paused before a transaction: 0001 applied, 0002 not recorded"
pgb_stop

# the pooler gone for good, --connect-timeout 0: one attempt, no waiting
PGB_FIXED_PORT=$(free_port) pgb_start transaction
new_db
PURL=$(pgb_url "$DBNAME")
"$STRATA" --url "$PURL" --dir "$WORK/rs" --connect-timeout 0 up >"$WORK/o" 2>"$WORK/e" &
holder=$!
sleep 1.5
pgb_stop
t0=$(date +%s%N)
wait "$holder"
RC=$? OUT= ERR=
t1=$(date +%s%N)
expect_rc 1 "pooler gone: exit"
[ $(((t1 - t0) / 1000000)) -lt 3000 ] || fail "pooler gone, --connect-timeout 0: exited $(((t1 - t0) / 1000000)) ms later"

# ------------------------------------------------------------- SCRAM, wrong password
PGB_AUTH=scram-sha-256 pgb_start transaction
new_db
mig "$WORK/a" 0001_a.sql <<'SQL'
-- strata:up
SELECT 1;
SQL
"$STRATA" --url "postgresql://$PGUSER:WrongPw123@127.0.0.1:$PGB_PORT/$DBNAME" --dir "$WORK/a" up \
    >"$WORK/o" 2>"$WORK/e"
RC=$? OUT=$(cat "$WORK/o") ERR=$(cat "$WORK/e")
expect_rc 4 "scram: wrong password"
contains "$ERR" "hint: check the user name and password" "scram: the hint"
lacks "$ERR" "WrongPw123" "scram: no password"
pgb_stop

# ----------------------------------------------------------------- max_client_conn
PGB_EXTRA="max_client_conn = 2" pgb_start transaction
new_db
q "CREATE TABLE runs (v text)" >/dev/null
PURL=$(pgb_url "$DBNAME")
mig "$WORK/mc" 0001_a.sql <<'SQL'
-- strata:up
INSERT INTO runs VALUES ('1');
SELECT pg_sleep(1);
SQL
pids=()
for i in 1 2 3 4; do
    "$STRATA" --url "$PURL" --dir "$WORK/mc" -q up >"$WORK/m$i.out" 2>"$WORK/m$i.err" &
    pids+=($!)
done
wait_all "max_client_conn: " m "${pids[@]}"
eq "$(runs)" "1" "max_client_conn: applied once"
pgb_stop

# -------------------------------------------------------------- query_wait_timeout
PGB_EXTRA="query_wait_timeout = 2" pgb_start transaction
new_db
PURL=$(pgb_url "$DBNAME")
psql -X -q -h 127.0.0.1 -p "$PGB_PORT" -d "$DBNAME" -c "SELECT 1" >/dev/null
psql -X -q -h 127.0.0.1 -p "$PGB_PORT" -d pgbouncer -c "PAUSE $DBNAME" >/dev/null
"$STRATA" --url "$PURL" --dir "$WORK/a" --lock-timeout 5 --connect-timeout 5 up >"$WORK/o" 2>"$WORK/e"
RC=$? OUT=$(cat "$WORK/o") ERR=$(cat "$WORK/e")
psql -X -q -h 127.0.0.1 -p "$PGB_PORT" -d pgbouncer -c "RESUME $DBNAME" >/dev/null
expect_rc 4 "query_wait_timeout: exit"
contains "$ERR" "[CONNECT_FAILED]" "query_wait_timeout: code"
contains "$ERR" "query_wait_timeout" "query_wait_timeout: named"
lacks "$ERR" "run it again" "query_wait_timeout: no 'run it again'"
finish
