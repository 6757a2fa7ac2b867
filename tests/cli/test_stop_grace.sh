#!/usr/bin/env bash
# A stop that the server does not answer. strata cancels on the first
# SIGINT/SIGTERM; when nothing answers the cancel 5 s later it closes its
# connections and exits INTERRUPTED. Each case went wrong before:
# - a network gone quiet (here: PgBouncer stopped with SIGSTOP, which still
#   accepts connections in the kernel; or a PostgreSQL backend stopped): the
#   cancel request itself waited forever inside the signal handler -- no
#   grace, and a second SIGTERM stayed masked;
# - a SIGTERM before the lock, behind a paused pool: after the close strata
#   reconnected and queued again (125 s), and `status` exited 0;
# - `strata wait` on a host that never answers ran its whole --timeout;
# - SIGINT then SIGTERM: not killed at once, the grace pushed back;
# - "the migration lock was no longer held" after strata closed its own
#   connection (the session's end released it).
# - `backup` behind a pooler gone quiet: pg_dump, given SIGTERM, waited in
#   its own cancel request (pg_dump's handler sends one) and kept strata
#   running (now SIGKILLed once the grace is over).
# Also checked (it held): a copy whose COPY's backend does not answer stops
# INTERRUPTED within the grace, and the rerun finishes it.
. "$(dirname "$0")/lib.sh"
postgres_only
. "$(dirname "$0")/pgbouncer_lib.sh"

# reap PID: waits for PID to exit, at most 20 s (then kills it: a test
# must not hang on the defect it looks for); sets RC
reap() {
    local i
    for i in $(seq 200); do
        kill -0 "$1" 2>/dev/null || break
        sleep 0.1
    done
    if kill -0 "$1" 2>/dev/null; then
        fail "pid $1 still ran 20 s after the signal"
        kill -9 "$1"
    fi
    wait "$1"
    RC=$?
}

# stop_after SECS CMD...: runs CMD, SIGTERMs it SECS later (signal_reap)
stop_after() {
    local secs=$1
    shift
    "$@" >"$WORK/o" 2>"$WORK/e" &
    pid=$!
    sleep "$secs"
    signal_reap TERM
}
# start_slow URL: `up` of the slow migration in the background (sets pid)
start_slow() {
    "$STRATA" --url "$1" --dir "$WORK/slow" --lock-timeout 60 up >"$WORK/o" 2>"$WORK/e" &
    pid=$!
}
# slow_backend: the server process that runs it
slow_backend() {
    q "SELECT pid FROM pg_stat_activity WHERE query LIKE '%pg_sleep(20)%' AND pid <> pg_backend_pid()
       AND datname = current_database()"
}
# signal_reap SIG...: sends the signals to pid, 0.5 s apart, and reaps it;
# sets RC, OUT, ERR and MS (from the last signal to the exit)
signal_reap() {
    local t0= s
    for s in "$@"; do
        [ -z "$t0" ] || sleep 0.5
        t0=$(date +%s%N)
        kill -"$s" "$pid"
    done
    reap "$pid"
    OUT=$(cat "$WORK/o") ERR=$(cat "$WORK/e") MS=$((($(date +%s%N) - t0) / 1000000))
}
# find_backend COND: the pid of the current database's backend matching the
# pg_stat_activity condition COND, waiting up to 6 s for it (empty if none)
find_backend() {
    local b= i
    for i in $(seq 120); do
        b=$(q "SELECT pid FROM pg_stat_activity WHERE $1 AND datname = current_database() LIMIT 1")
        [ -n "$b" ] && break
        sleep 0.05
    done
    echo "$b"
}
# start_fwd: tcpfwd.py from 127.0.0.1:$FWD_PORT to the server, once it
# answers (sets fwd)
start_fwd() {
    python3 "$(dirname "$0")/tcpfwd.py" "$FWD_PORT" "${PGHOST:-localhost}" "$PGPORT" &
    fwd=$!
    for _ in $(seq 50); do
        pg_isready -q -h 127.0.0.1 -p "$FWD_PORT" && break
        sleep 0.1
    done
}
within() { # within MS LIMIT WHAT
    [ "$1" -lt "$2" ] || fail "$3: took $1 ms after the signal (limit $2)"
}

mig "$WORK/slow" 0001_slow.sql <<'SQL'
-- strata:up
CREATE TABLE a (x int);
SELECT pg_sleep(20);
SQL

# quiet_pooler SIG...: the slow migration on a new database through the
# pooler, the pooler stopped (SIGSTOP) mid-statement, then the signals
quiet_pooler() {
    new_db
    PURL=$(pgb_url "$DBNAME")
    start_slow "$PURL"
    sleep 2
    kill -STOP "$PGB_PID"
    sleep 0.5
    signal_reap "$@"
    kill -CONT "$PGB_PID"
}
# stopped_backend SIG...: the slow migration on a new database, directly,
# its backend stopped (SIGSTOP) mid-statement, then the signals; the
# backend is left stopped-then-continued in $bpid
stopped_backend() {
    new_db
    start_slow "$URL"
    sleep 1.5
    bpid=$(slow_backend)
    [ -n "$bpid" ] || fail "no backend runs the migration"
    kill -STOP "$bpid" # a server that does not answer the cancel
    signal_reap "$@"
    kill -CONT "$bpid"
}

# ------------------------------------------- PgBouncer gone quiet mid-statement
pgb_start transaction
quiet_pooler TERM
expect_rc 1 "quiet pooler: exit"
contains "$ERR" "[INTERRUPTED]" "quiet pooler: INTERRUPTED"
contains "$ERR" "cancel request got no answer" "quiet pooler: says why"
within "$MS" 7500 "quiet pooler"
# and a second SIGTERM there kills at once (it stayed masked in the handler)
quiet_pooler TERM TERM
eq "$RC" "143" "quiet pooler, second SIGTERM: killed by it"
within "$MS" 2000 "quiet pooler, second SIGTERM"
pgb_stop

# -------------------------------- a SIGTERM before the lock, behind a paused pool
# (on a database strata has migrated before: its lock then reconnected)
PGB_EXTRA="query_wait_timeout = 120" pgb_start transaction
new_db
PURL=$(pgb_url "$DBNAME")
mig "$WORK/two" 0001_q.sql <<'SQL'
-- strata:up
CREATE TABLE q (x int);
SQL
"$STRATA" --url "$PURL" --dir "$WORK/two" -q up || fail "the first up"
cp "$WORK/slow/0001_slow.sql" "$WORK/two/0002_slow.sql"
psql -X -q -h 127.0.0.1 -p "$PGB_PORT" -d pgbouncer -c "PAUSE $DBNAME" >/dev/null
stop_after 1.5 "$STRATA" --url "$PURL" --dir "$WORK/two" up
psql -X -q -h 127.0.0.1 -p "$PGB_PORT" -d pgbouncer -c "RESUME $DBNAME" >/dev/null
expect_rc 1 "paused before the lock: exit"
contains "$ERR" "[INTERRUPTED]" "paused before the lock: INTERRUPTED"
lacks "$ERR" "query_wait_timeout" "paused before the lock: no word of the pool's timeout"
within "$MS" 9000 "paused before the lock"
sleep 1 # resumed: what strata had queued would run now
eq "$(q "SELECT count(*) FROM pg_tables WHERE tablename = 'a'")" "0" "paused before the lock: 0002 never ran"
eq "$(q "SELECT count(*) FROM strata_migrations")" "1" "paused before the lock: 0001 alone recorded"
eq "$(q "SELECT count(*) FROM strata_migrations_lock")" "0" "paused before the lock: no lease row"
psql -X -q -h 127.0.0.1 -p "$PGB_PORT" -d pgbouncer -c "PAUSE $DBNAME" >/dev/null
stop_after 1.5 "$STRATA" --url "$PURL" --dir "$WORK/slow" status
psql -X -q -h 127.0.0.1 -p "$PGB_PORT" -d pgbouncer -c "RESUME $DBNAME" >/dev/null
expect_rc 1 "paused status: exit"
contains "$ERR" "[INTERRUPTED]" "paused status: INTERRUPTED"
within "$MS" 9000 "paused status"

# ------------------------------------------------ strata wait on a silent host
kill -STOP "$PGB_PID"
stop_after 1 "$STRATA" --url "$PURL" wait --timeout 30
kill -CONT "$PGB_PID"
expect_rc 1 "wait, silent host: exit"
contains "$ERR" "[INTERRUPTED]" "wait, silent host: INTERRUPTED"
within "$MS" 3000 "wait, silent host"
pgb_stop

# ------------------------------------- SIGINT then SIGTERM: the second kills
stopped_backend INT TERM
eq "$RC" "143" "SIGINT then SIGTERM: killed by the second"
within "$MS" 2000 "SIGINT then SIGTERM"
q "SELECT pg_terminate_backend($bpid)" >/dev/null 2>&1

# ------------- a backend that does not answer, direct: no false word on the lock
stopped_backend TERM
expect_rc 1 "stopped backend: exit"
contains "$ERR" "[INTERRUPTED]" "stopped backend: INTERRUPTED"
lacks "$ERR" "no longer held" "stopped backend: no false word on the lock"
within "$MS" 9000 "stopped backend"
sleep 0.5
eq "$(q "SELECT count(*) FROM strata_migrations")" "0" "stopped backend: nothing recorded"

# ---------------------- a copy whose COPY's backend does not answer the cancel
new_db
SRC=$WORK/big.db
sqlite3 "$SRC" "CREATE TABLE big (id integer PRIMARY KEY, v text);
WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 1500000)
INSERT INTO big SELECT i, printf('row %d of the big table', i) FROM n;"
"$STRATA" copy "sqlite:///$SRC" "$URL" >"$WORK/o" 2>"$WORK/e" &
pid=$!
bpid=$(find_backend "query LIKE 'COPY%big%'")
[ -n "$bpid" ] || fail "copy: no backend ran the COPY"
kill -STOP "$bpid"
sleep 0.3
signal_reap TERM
kill -CONT "$bpid"
expect_rc 1 "copy, stopped backend: exit"
contains "$ERR" "[INTERRUPTED]" "copy, stopped backend: INTERRUPTED"
within "$MS" 9000 "copy, stopped backend"
raw copy "sqlite:///$SRC" "$URL"
expect_rc 0 "copy, stopped backend: the rerun finishes it"
eq "$(q "SELECT count(*) FROM big")" "1500000" "copy, stopped backend: every row after the rerun"

# -------------------- backup: pg_dump mid-dump, the network goes quiet
# (backup refuses a pooler: a TCP forwarder stopped with SIGSTOP is the quiet
# network here)
new_db
q "CREATE TABLE bulk AS SELECT i, repeat('x', 200) AS pad FROM generate_series(1, 400000) AS i" >/dev/null
FWD_PORT=$(free_port)
start_fwd
"$STRATA" --url "postgresql://$PGUSER:$PGPASSWORD@127.0.0.1:$FWD_PORT/$DBNAME" backup -o "$WORK/b.dump" \
    >"$WORK/o" 2>"$WORK/e" &
pid=$!
dpid=$(find_backend "application_name = 'pg_dump'")
[ -n "$dpid" ] || fail "backup: pg_dump never connected"
kill -STOP "$fwd"
sleep 0.3
dumper=$(pgrep -P "$pid" pg_dump)
[ -n "$dumper" ] || fail "backup: no pg_dump under strata"
signal_reap TERM
kill -CONT "$fwd"
expect_rc 1 "backup, quiet network: exit"
contains "$ERR" "[INTERRUPTED]" "backup, quiet network: INTERRUPTED"
within "$MS" 9000 "backup, quiet network"
[ ! -e "$WORK/b.dump" ] || fail "backup, quiet network: a backup file was left"
sleep 0.2
if [ -n "$dumper" ] && kill -0 "$dumper" 2>/dev/null; then
    fail "backup, quiet network: pg_dump ($dumper) still runs"
fi
kill "$fwd" 2>/dev/null
wait "$fwd" 2>/dev/null

# -------------------- a lost connection, then a server that takes new
# connections and never answers, with no connect_timeout anywhere: the
# reconnect (for the failure's record) gives up within its window, and a
# SIGTERM during it stops strata within the grace (libpq's blocking
# PQreset waited without end, deaf to SIGTERM, once strata no longer set
# a connect_timeout of its own)
new_db
FWD_PORT=$(free_port)
mig "$WORK/cut" 0001_cut.sql <<'SQL'
-- strata:up no-transaction
SELECT pg_sleep(20);
SQL
for stop in none TERM; do
    start_fwd
    "$STRATA" --url "postgresql://$PGUSER:$PGPASSWORD@127.0.0.1:$FWD_PORT/$DBNAME" --dir "$WORK/cut" up \
        >"$WORK/o" 2>"$WORK/e" &
    pid=$!
    b=$(find_backend "query LIKE '%pg_sleep(20)%' AND pid <> pg_backend_pid()")
    [ -n "$b" ] || fail "lost connection ($stop): the section never started"
    kill -USR1 "$fwd" # the link cut; new connections taken, never answered
    if [ "$stop" = TERM ]; then
        sleep 1.5
        signal_reap TERM
        within "$MS" 9000 "lost connection, then SIGTERM while reconnecting"
    else
        t0=$(date +%s%N)
        reap "$pid"
        OUT=$(cat "$WORK/o") ERR=$(cat "$WORK/e") MS=$((($(date +%s%N) - t0) / 1000000))
        within "$MS" 16000 "lost connection, a silent server: the reconnect gives up"
    fi
    expect_rc 1 "lost connection ($stop): exit"
    kill "$fwd" 2>/dev/null
    wait "$fwd" 2>/dev/null
    q "SELECT pg_terminate_backend($b)" >/dev/null
    sleep 0.5
    q "DROP TABLE IF EXISTS strata_migrations" >/dev/null
done

finish
