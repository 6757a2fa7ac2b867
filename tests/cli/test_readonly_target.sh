#!/usr/bin/env bash
# A database that takes no writes, as a deploy meets it: a standby named by
# mistake, or the moment of a failover when no server of a multi-host URL
# is the primary yet. Here the server is made read-only for the database
# (default_transaction_read_only, what libpq's target_session_attrs and a
# standby both answer to). Each went wrong before:
# - `up` blamed its first pending migration's statement (MIGRATION_FAILED
#   at 0002_x.sql:2) where the dry run said DB_ERROR: now both stop before
#   the first step with the same code and message;
# - `copy` and `create` on it failed without a hint;
# - `wait` and `--connect-timeout` with target_session_attrs=read-write
#   gave up at once ("session is read-only" counted as a final answer),
#   with a hint about a server not running;
# - a multi-host URL whose first host takes the connection and never
#   answers (a frozen or powered-off primary): strata never tried the next
#   host (libpq gives each host connect_timeout only in its blocking
#   connect), where psql does.
. "$(dirname "$0")/lib.sh"
postgres_only

admin() { psql -X -q -v ON_ERROR_STOP=1 -d postgres -c "$1" >/dev/null; }

new_db
mig "$WORK/m" 0001_a.sql <<'SQL'
-- strata:up
CREATE TABLE a (x int);
SQL
st --dir "$WORK/m" up -q
expect_rc 0 "the first up"
mig "$WORK/m" 0002_b.sql <<'SQL'
-- strata:up
CREATE TABLE b (x int);
SQL
admin "ALTER DATABASE \"$DBNAME\" SET default_transaction_read_only = on"

st --dir "$WORK/m" up
expect_rc 1 "read-only: up fails"
contains "$ERR" "cannot write to this database: default_transaction_read_only is on" "read-only: up says why"
contains "$ERR" "[DB_ERROR]" "read-only: DB_ERROR"
lacks "$ERR" "0002_b.sql" "read-only: no migration blamed"
contains "$ERR" "hint: the session is read-only" "read-only: the hint"
st --dir "$WORK/m" up --dry-run
expect_rc 1 "read-only: the dry run fails"
contains "$ERR" "cannot write to this database: default_transaction_read_only is on" "read-only: the dry run says the same"
st --dir "$WORK/m" stamp 0002
expect_rc 1 "read-only: stamp fails"
contains "$ERR" "cannot write to this database" "read-only: stamp says why"
# behind a pooler (the lock is a row in a table): the read-only hint, not
# "the role needs CREATE on the schema"
STRATA_ASSUME_POOLER=1 "$STRATA" --url "$URL" --dir "$WORK/m" up >"$WORK/o" 2>"$WORK/e"
RC=$? OUT=$(cat "$WORK/o") ERR=$(cat "$WORK/e")
expect_rc 1 "read-only, pooled: up fails"
contains "$ERR" "hint: the session is read-only" "read-only, pooled: the hint"
lacks "$ERR" "needs CREATE" "read-only, pooled: no word of CREATE"
st --dir "$WORK/m" down
expect_rc 1 "read-only: down fails"
lacks "$ERR" "0001_a.sql" "read-only: down blames no migration"

# copy and create: the server's refusal gets its hint
SRC=$WORK/src.db
sqlite3 "$SRC" "CREATE TABLE t (id integer PRIMARY KEY, v text); INSERT INTO t VALUES (1, 'x');"
raw copy "sqlite:///$SRC" "$URL"
expect_rc 1 "read-only: copy fails"
contains "$ERR" "hint: the session is read-only" "read-only: copy's hint"

# target_session_attrs=read-write: no server takes writes until the
# "failover" (the setting reset) -- wait waits for it
RW="$URL?target_session_attrs=read-write"
raw --url "$RW" --dir "$WORK/m" --connect-timeout 0 status
expect_rc 4 "read-write wanted, none: CONNECT_FAILED"
contains "$ERR" "no server in the URL takes writes" "read-write wanted, none: the hint"
lacks "$ERR" "is PostgreSQL running" "read-write wanted, none: not 'is it running'"
"$STRATA" --url "$RW" wait --timeout 20 >"$WORK/o" 2>"$WORK/e" &
waiter=$!
sleep 2
kill -0 "$waiter" 2>/dev/null || fail "wait gave up while no server took writes: $(cat "$WORK/e")"
admin "ALTER DATABASE \"$DBNAME\" RESET default_transaction_read_only"
wait "$waiter" || fail "wait after the failover: $(cat "$WORK/e")"
raw --url "$RW" --dir "$WORK/m" up
expect_rc 0 "after the failover: up"
eq "$(q "SELECT string_agg(version, ',' ORDER BY version) FROM strata_migrations")" "0001,0002" \
    "after the failover: both applied"

# a first host that accepts and never answers; the second is the server
python3 -c 'import socket, sys
s = socket.socket(); s.bind(("127.0.0.1", 0)); s.listen(50); print(s.getsockname()[1]); sys.stdout.flush()
c = []
while True: c.append(s.accept())' >"$WORK/silent.port" &
silent=$!
for _ in $(seq 50); do [ -s "$WORK/silent.port" ] && break; sleep 0.1; done
SP=$(cat "$WORK/silent.port")
MH="postgresql://$PGUSER:$PGPASSWORD@127.0.0.1:$SP,127.0.0.1:$PGPORT/$DBNAME?target_session_attrs=read-write&connect_timeout=2"
t0=$(date +%s%N)
raw --url "$MH" --dir "$WORK/m" status
ms=$((($(date +%s%N) - t0) / 1000000))
expect_rc 0 "silent first host: the second one answers"
[ "$ms" -lt 6000 ] || fail "silent first host: took $ms ms"
raw --url "$MH" wait --timeout 10
expect_rc 0 "silent first host: wait"
MH2="postgresql://$PGUSER:$PGPASSWORD@127.0.0.1:$SP,127.0.0.1:$SP/$DBNAME?connect_timeout=1"
raw --url "$MH2" --dir "$WORK/m" --connect-timeout 0 status
expect_rc 4 "silent hosts only: CONNECT_FAILED"
contains "$ERR" "port $SP: timeout expired; connection to server" "silent hosts only: each named"
# the host list from libpq's variables instead of the URL
t0=$(date +%s%N)
PGHOST=127.0.0.1,127.0.0.1 PGPORT=$SP,$PGPORT PGCONNECT_TIMEOUT=2 \
    "$STRATA" --url "postgresql:///$DBNAME" --dir "$WORK/m" status >"$WORK/o" 2>"$WORK/e"
RC=$? OUT=$(cat "$WORK/o") ERR=$(cat "$WORK/e")
ms=$((($(date +%s%N) - t0) / 1000000))
expect_rc 0 "silent first host from PGHOST: the second one answers"
[ "$ms" -lt 6000 ] || fail "silent first host from PGHOST: took $ms ms"
# ... and from a service file, whose connect_timeout is the time each
# address gets (it was ignored: 10 s each, where psql took 2)
printf '[hosts]\nhost=127.0.0.1,127.0.0.1\nport=%s,%s\ndbname=%s\nconnect_timeout=2\n' "$SP" "$PGPORT" "$DBNAME" >"$WORK/svc.conf"
t0=$(date +%s%N)
PGSERVICEFILE=$WORK/svc.conf "$STRATA" --url "postgresql://$PGUSER:$PGPASSWORD@/?service=hosts" --dir "$WORK/m" \
    status >"$WORK/o" 2>"$WORK/e"
RC=$? OUT=$(cat "$WORK/o") ERR=$(cat "$WORK/e")
ms=$((($(date +%s%N) - t0) / 1000000))
expect_rc 0 "silent first host from a service file: the second one answers"
[ "$ms" -lt 6000 ] || fail "silent first host from a service file: took $ms ms (its connect_timeout is 2 s)"
# the lease's heartbeat (behind a pooler) connects to the address the run
# is connected to: before, it began at the silent first host, whose
# connect_timeout (3 s) outlasted the time a renewal has (a sixth of the
# lease: 1 s), so it never renewed -- the lease ran out mid-migration and
# another process took the lock over the running one
new_db
HB=$WORK/hb
mkdir -p "$HB"
printf -- '-- strata:up\nSELECT pg_sleep(9);\nCREATE TABLE hb_done (x int);\n' >"$HB/0001_slow.sql"
MH3="postgresql://$PGUSER:$PGPASSWORD@127.0.0.1:$SP,127.0.0.1:$PGPORT/$DBNAME?connect_timeout=3"
STRATA_ASSUME_POOLER=1 STRATA_LEASE_SECONDS=6 "$STRATA" --url "$MH3" --dir "$HB" up >"$WORK/hb.out" 2>"$WORK/hb.err" &
hbpid=$!
sleep 8 # the first run connects (3 s on the silent host), then the lease's 6 s run out unless renewed
eq "$(q "SELECT count(*) FROM strata_migrations_lock WHERE expires_at > now()")" "1" "the lease is renewed through the address in use"
STRATA_ASSUME_POOLER=1 STRATA_LEASE_SECONDS=6 "$STRATA" --url "$URL" --dir "$HB" up --lock-timeout 1 >"$WORK/hb2.out" 2>"$WORK/hb2.err"
eq "$?" "4" "a second run waits for the lease, not takes it over: $(cat "$WORK/hb2.err")"
wait "$hbpid"
eq "$?" "0" "the first run ends well: $(cat "$WORK/hb.err")"
lacks "$(cat "$WORK/hb.err")" "cannot reach the server to renew" "no renewal failed"
kill "$silent"

# a host name with several addresses, the first silent (one dead pod of
# several behind a name): libpq gives each address connect_timeout, and so
# does strata (it waited on the first address until the attempt ended, so
# it never connected where psql did). nss_wrapper gives the name its two
# addresses; the silent one listens on 127.0.0.2 at the server's port.
NSSW=$(ls /usr/lib/*/libnss_wrapper.so 2>/dev/null | head -1)
if [ -z "$NSSW" ]; then
    fail "libnss_wrapper.so is missing (Debian libnss-wrapper; tools/deps.sh installs it)"
else
    python3 -c 'import socket, sys, time
ss = []
for a in sys.argv[2:]:
    s = socket.socket(); s.bind((a, int(sys.argv[1]))); s.listen(50); ss.append(s)
print("up"); sys.stdout.flush()
time.sleep(600)' "$PGPORT" 127.0.0.2 127.0.0.3 >"$WORK/silent2" &
    silent=$!
    for _ in $(seq 50); do [ -s "$WORK/silent2" ] && break; sleep 0.1; done
    printf '127.0.0.2 strata-pods\n127.0.0.1 strata-pods\n127.0.0.2 strata-dead\n127.0.0.3 strata-dead\n' \
        >"$WORK/hosts"
    named() { # named HOST ARGS...: strata with the test's host names
        local h=$1
        shift
        NSS_WRAPPER_HOSTS=$WORK/hosts LD_PRELOAD=$NSSW ASAN_OPTIONS=$ASAN_OPTIONS:verify_asan_link_order=0 \
            "$STRATA" --url "postgresql://$PGUSER:$PGPASSWORD@$h/$DBNAME?connect_timeout=2" "$@" \
            >"$WORK/o" 2>"$WORK/e"
        RC=$? OUT=$(cat "$WORK/o") ERR=$(cat "$WORK/e")
    }
    t0=$(date +%s%N)
    named "strata-pods:$PGPORT" --dir "$WORK/m" status
    ms=$((($(date +%s%N) - t0) / 1000000))
    expect_rc 0 "a name whose first address is silent: its second address answers"
    [ "$ms" -ge 1500 ] && [ "$ms" -lt 6000 ] || fail "a name whose first address is silent: took $ms ms"
    named "strata-pods:$PGPORT" wait --timeout 10
    expect_rc 0 "a name whose first address is silent: wait"
    named "strata-dead:$PGPORT" --dir "$WORK/m" --connect-timeout 0 status
    expect_rc 4 "a name whose addresses are all silent: CONNECT_FAILED"
    contains "$ERR" "\"strata-dead\" (127.0.0.2), port $PGPORT: timeout expired; connection to server at \"strata-dead\" (127.0.0.3)" \
        "a name whose addresses are all silent: each address named"
    named "strata-dead:$PGPORT,strata-pods:$PGPORT" --dir "$WORK/m" status
    expect_rc 0 "a silent name, then a name whose second address answers"
    # a refusing address before two silent ones: each silent one tried once
    # (strata took the entry libpq had moved past for the current one, and
    # tried a silent address again)
    t0=$(date +%s%N)
    raw --url "postgresql://$PGUSER:$PGPASSWORD@/$DBNAME?host=localhost,localhost,localhost&hostaddr=127.0.0.5,127.0.0.2,127.0.0.3&port=$PGPORT&connect_timeout=2" \
        --dir "$WORK/m" --connect-timeout 0 status
    ms=$((($(date +%s%N) - t0) / 1000000))
    expect_rc 4 "a refused address, then two silent ones"
    eq "$(grep -o '(127.0.0.2)' <<<"$ERR" | wc -l | tr -d ' ') $(grep -o '(127.0.0.3)' <<<"$ERR" | wc -l | tr -d ' ')" \
        "1 1" "each silent address named once ($ERR)"
    [ "$ms" -lt 5500 ] || fail "a refused address, then two silent ones: took $ms ms"
    kill "$silent"
fi

finish
