#!/usr/bin/env bash
# Deploy day on PostgreSQL: replicas starting together (12 `strata up` and
# 12 app_startup at once) on a history with a no-transaction CREATE INDEX
# CONCURRENTLY on a table that takes a while to index -- directly, and
# through a real PgBouncer in session and in transaction mode. Each
# migration runs exactly once, every process exits 0, no INVALID index, no
# lock left behind, and the pooled connections still take writes after.
# Also: a role's statement_timeout, connection limits, a server that is not
# up yet, and the lease of a killed holder behind a pooler.
. "$(dirname "$0")/lib.sh"
postgres_only
. "$(dirname "$0")/pgbouncer_lib.sh"

D=$WORK/m
mig "$D" 0001_big.sql <<'SQL'
-- strata:up
CREATE TABLE runs (migration text NOT NULL);
INSERT INTO runs VALUES ('0001');
CREATE TABLE big (id bigint PRIMARY KEY, v text NOT NULL);
INSERT INTO big SELECT g, md5(g::text) FROM generate_series(1, 600000) g;
-- strata:down
DROP TABLE big;
DROP TABLE runs;
SQL
mig "$D" 0002_index.sql <<'SQL'
-- strata:up no-transaction
INSERT INTO runs VALUES ('0002');
CREATE INDEX CONCURRENTLY big_v ON big (v);
-- strata:down no-transaction
DROP INDEX CONCURRENTLY big_v;
SQL
mig "$D" 0003_more.sql <<'SQL'
-- strata:up
CREATE TABLE more (id integer);
INSERT INTO runs VALUES ('0003');
-- strata:down
DROP TABLE more;
SQL
mig "$D" 0004_index2.sql <<'SQL'
-- strata:up no-transaction
CREATE INDEX CONCURRENTLY IF NOT EXISTS big_v_id ON big (v, id);
INSERT INTO runs VALUES ('0004');
-- strata:down no-transaction
DROP INDEX CONCURRENTLY big_v_id;
SQL

# crowd LABEL URL: 12 strata up + 12 app_startup at once; all must exit 0
crowd() {
    local label=$1 url=$2 pids=() i=0 p rc
    for i in $(seq 1 12); do
        "$STRATA" --url "$url" --dir "$D" -q up >"$WORK/c$i.out" 2>"$WORK/c$i.err" &
        pids+=($!)
        "$APP" "$url" "$D" >"$WORK/a$i.out" 2>"$WORK/a$i.err" &
        pids+=($!)
    done
    i=0
    for p in "${pids[@]}"; do
        i=$((i + 1))
        wait "$p"
        rc=$?
        if [ "$rc" != 0 ]; then
            fail "$label: process $i exited $rc: $(cat "$WORK/c$(((i + 1) / 2)).err" "$WORK/a$(((i + 1) / 2)).err")"
        fi
    done
    eq "$(q "SELECT string_agg(migration, ',' ORDER BY migration) FROM runs")" "0001,0002,0003,0004" \
        "$label: each migration ran exactly once"
    eq "$(q "SELECT string_agg(version || ':' || state, ',' ORDER BY version) FROM strata_migrations")" \
        "0001:applied,0002:applied,0003:applied,0004:applied" "$label: all applied"
    eq "$(q "SELECT count(*) FROM pg_index WHERE NOT indisvalid")" "0" "$label: no INVALID index"
    eq "$(q "SELECT count(*) FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid WHERE c.relname IN ('big_v', 'big_v_id')")" \
        "2" "$label: both indexes built"
    eq "$(psql -X -A -t -d "$DBNAME" -c "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory'")" "0" \
        "$label: no advisory lock left held"
}

# ---- directly on the server
new_db
crowd direct "$URL"
ms=$(q "SELECT duration_ms FROM strata_migrations WHERE version = '0002'")
echo "# the concurrent index build took $ms ms"

# ---- through PgBouncer, session and transaction pooling
for mode in session transaction; do
    pgb_start "$mode"
    new_db
    PURL=$(pgb_url "$DBNAME")
    crowd "pgbouncer $mode" "$PURL"
    if [ "$mode" = transaction ]; then
        eq "$(q "SELECT count(*) FROM strata_migrations_lock")" "0" "$mode: the lease row is gone"
    fi
    # copy needs one session from start to end: refused before anything changes
    sqlite3 "$WORK/src_$mode.db" "CREATE TABLE copied (id integer PRIMARY KEY, v text); INSERT INTO copied VALUES (1, 'a');"
    raw copy "sqlite:///$WORK/src_$mode.db" "$PURL"
    expect_rc 2 "$mode: copy through a pooler"
    contains "$ERR" "POOLER_UNSUPPORTED" "$mode: copy refuses the pooler by code"
    lacks "$ERR" "$PGPASSWORD" "$mode: copy error hides the password"
    eq "$(table_exists copied)" "0" "$mode: the refused copy created nothing"
    # pg_dump and pg_restore set session settings (search_path = ''): refused
    # through a pooler, before anything runs
    "$STRATA" --url "$URL" backup -o "$WORK/direct_$mode.dump" >/dev/null 2>&1 || fail "$mode: a direct backup"
    raw --url "$PURL" backup -o "$WORK/pooled_$mode.dump"
    expect_rc 2 "$mode: backup through a pooler"
    contains "$ERR" "POOLER_UNSUPPORTED" "$mode: backup refuses the pooler by code"
    [ -e "$WORK/pooled_$mode.dump" ] && fail "$mode: the refused backup wrote a file"
    raw --url "$PURL" restore "$WORK/direct_$mode.dump"
    expect_rc 2 "$mode: restore through a pooler"
    contains "$ERR" "POOLER_UNSUPPORTED" "$mode: restore refuses the pooler by code"
    lacks "$ERR" "$PGPASSWORD" "$mode: restore error hides the password"
    # read-only commands leave nothing behind on pooled connections
    for _ in 1 2 3; do
        "$STRATA" --url "$PURL" --dir "$D" status >/dev/null 2>&1 || fail "$mode: status through pgbouncer"
        "$STRATA" --url "$PURL" --dir "$D" up --dry-run >/dev/null 2>&1 || fail "$mode: dry run through pgbouncer"
    done
    q "CREATE TABLE app_writes (n integer)" >/dev/null
    for i in $(seq 1 10); do
        out=$(psql -X -A -t -h 127.0.0.1 -p "$PGB_PORT" -d "$DBNAME" \
            -c "SHOW default_transaction_read_only" -c "INSERT INTO app_writes VALUES ($i)" 2>&1)
        contains "$out" "off" "$mode: pooled connection $i is not read-only"
    done
    eq "$(q "SELECT count(*) FROM app_writes")" "10" "$mode: the application's writes through the pooler"
    # the schema dump and status do not show strata's lease table
    st --url "$PURL" --dir "$D" schema
    lacks "$OUT" "strata_migrations_lock" "$mode: schema leaves the lease table out"
    # strata diff and check make and drop scratch databases through the pooler
    printf 'CREATE TABLE wanted (id integer PRIMARY KEY, v text);\nCREATE INDEX ix_wanted_v ON wanted (v);\n' >"$WORK/want_$mode.sql"
    st --url "$PURL" --dir "$WORK/empty_$mode" diff --to "$WORK/want_$mode.sql" --print
    expect_rc 0 "$mode: diff through pgbouncer"
    contains "$OUT" "CREATE TABLE wanted" "$mode: diff through pgbouncer writes the migration"
    eq "$(q "SELECT count(*) FROM pg_database WHERE datname LIKE 'strata\_%'")" "0" "$mode: diff leaves no scratch database"
    # nothing pending: up is a no-op through the pooler
    st --url "$PURL" --dir "$D" up
    expect_rc 0 "$mode: no-op up"
    contains "$OUT" "nothing to apply" "$mode: no-op up"
    pgb_stop
done

# ---- a role's statement_timeout does not kill the waiters
new_db
ROLE=st_$RANDOM
q "CREATE ROLE $ROLE LOGIN PASSWORD 'pw' SUPERUSER" >/dev/null
q "ALTER ROLE $ROLE SET statement_timeout = '1s'" >/dev/null
T=$WORK/t
for i in 1 2 3; do
    mig "$T" "000${i}_slow.sql" <<SQL
-- strata:up
SELECT pg_sleep(0.8);
CREATE TABLE slow_$i (id integer);
-- strata:down
DROP TABLE slow_$i;
SQL
done
RURL="postgresql://$ROLE:pw@${PGHOST:-localhost}:$PGPORT/$DBNAME"
pids=()
for i in 1 2 3 4; do
    "$STRATA" --url "$RURL" --dir "$T" -q up >"$WORK/s$i.out" 2>"$WORK/s$i.err" &
    pids+=($!)
done
i=0
for p in "${pids[@]}"; do
    i=$((i + 1))
    wait "$p" || fail "statement_timeout: waiter $i failed: $(cat "$WORK/s$i.err")"
done
eq "$(q "SELECT count(*) FROM strata_migrations")" "3" "statement_timeout: all applied once"
# when the setting stops a migration, the hint names it
mig "$T" 0004_too_slow.sql <<'SQL'
-- strata:up
SELECT pg_sleep(1.5);
-- strata:down
SQL
raw --url "$RURL" --dir "$T" up
expect_rc 1 "a migration past the role's statement_timeout"
contains "$ERR" "57014" "statement_timeout: SQLSTATE"
contains "$ERR" "statement_timeout" "statement_timeout: the hint names the setting"
q "DROP OWNED BY $ROLE" >/dev/null
rm "$T/0004_too_slow.sql"

# ---- idle_session_timeout ends a waiter's connection while it sleeps
# between attempts: it goes on waiting on a new one (directly, and through
# a pooler, where the pooler's server connection is the one that ends)
for via in direct pooled; do
    new_db
    q "ALTER DATABASE $DBNAME SET idle_session_timeout = '300ms'" >/dev/null
    U=$URL
    if [ $via = pooled ]; then
        pgb_start transaction
        U=$(pgb_url "$DBNAME")
    fi
    pids=()
    for i in 1 2 3 4; do
        STRATA_LEASE_SECONDS=5 "$STRATA" --url "$U" --dir "$T" -q up >"$WORK/i$i.out" 2>"$WORK/i$i.err" &
        pids+=($!)
    done
    wait_all "idle_session_timeout ($via): " i "${pids[@]}"
    eq "$(q "SELECT count(*) FROM strata_migrations WHERE state = 'applied'")" "3" \
        "idle_session_timeout ($via): all applied once"
    [ $via = pooled ] && pgb_stop
done

# ---- connection limits: passing failures are retried
new_db
LROLE=lim_$RANDOM
q "CREATE ROLE $LROLE LOGIN PASSWORD 'pw' SUPERUSER CONNECTION LIMIT 2" >/dev/null
LURL="postgresql://$LROLE:pw@${PGHOST:-localhost}:$PGPORT/$DBNAME"
pids=()
for i in $(seq 1 12); do
    "$APP" "$LURL" "$T" >"$WORK/l$i.out" 2>"$WORK/l$i.err" &
    pids+=($!)
done
i=0
for p in "${pids[@]}"; do
    i=$((i + 1))
    wait "$p" || fail "connection limit: app_startup $i failed: $(cat "$WORK/l$i.err")"
done
eq "$(q "SELECT count(*) FROM strata_migrations")" "3" "connection limit: all applied once"
# without retrying, the same crowd fails: the limit was really hit
pids=()
for i in $(seq 1 8); do
    "$STRATA" --url "$LURL" --dir "$T" --connect-timeout 0 status >"$WORK/n$i.out" 2>"$WORK/n$i.err" &
    pids+=($!)
done
for p in "${pids[@]}"; do wait "$p"; done
cat "$WORK"/n*.err >"$WORK/nall"
# best effort: status is quick, the crowd may not overlap on a slow machine
grep -q "too many connections" "$WORK/nall" && echo "# the role's connection limit was hit without retries"
q "DROP OWNED BY $LROLE" >/dev/null

# ---- a server at max_connections (a second throwaway cluster)
if command -v pg_virtualenv >/dev/null; then
    export STRATA APP T WORK
    out=$(env -u PGPORT -u PGHOST -u PGUSER -u PGPASSWORD -u PGDATABASE -u PG_CLUSTER_CONF_ROOT -u PGSYSCONFDIR \
        pg_virtualenv -t -v 15 -o max_connections=8 -o superuser_reserved_connections=0 bash -c '
        createdb full || exit 1
        createdb probe || exit 1
        URL="postgresql://$PGUSER:$PGPASSWORD@${PGHOST:-localhost}:$PGPORT/full"
        # the same crowd without retries: the limit is really hit
        pids=()
        for i in $(seq 1 30); do
            STRATA_CONNECT_TIMEOUT=0 "$APP" "${URL%/full}/probe" "$T" >/dev/null 2>"$WORK/y$i.err" & pids+=($!)
        done
        for p in "${pids[@]}"; do wait "$p"; done
        echo "refused_without_retry=$(cat "$WORK"/y*.err | grep -c "too many clients\|remaining connection slots")"
        pids=()
        for i in $(seq 1 30); do "$APP" "$URL" "$T" >"$WORK/x$i.out" 2>"$WORK/x$i.err" & pids+=($!); done
        bad=0
        for p in "${pids[@]}"; do wait "$p" || bad=$((bad + 1)); done
        echo "failed=$bad"
        echo "applied=$(psql -X -A -t -d full -c "SELECT count(*) FROM strata_migrations")"
    ' 2>&1)
    contains "$out" "failed=0" "max_connections: every app_startup got through"
    contains "$out" "applied=3" "max_connections: each migration applied once"
    n=$(echo "$out" | sed -n 's/^refused_without_retry=//p')
    [ "${n:-0}" -ge 1 ] || fail "max_connections: the crowd without retries was never refused ($out)"
    echo "# max_connections=8, 30 app_startup: $n refused without retries, none with them"
fi

# ---- a server that is not there yet: up retries until it is
pgb_start transaction
new_db
PURL=$(pgb_url "$DBNAME")
pgb_stop
"$STRATA" --url "$PURL" --dir "$T" --connect-timeout 20 up >"$WORK/r.out" 2>"$WORK/r.err" &
upid=$!
sleep 1.5
# the same configuration, the same port
pgbouncer $([ "$(id -u)" = 0 ] && echo -u postgres) "$WORK/pgb_transaction/pgbouncer.ini" >>"$WORK/pgb_transaction/log" 2>&1 &
PGB_PIDS+=($!)
wait "$upid" || fail "up while the server came up: $(cat "$WORK/r.err")"
eq "$(q "SELECT count(*) FROM strata_migrations")" "3" "retried connection: applied"
raw --url "postgresql://$PGUSER:$PGPASSWORD@127.0.0.1:$(free_port)/x" --dir "$T" --connect-timeout 1 up
expect_rc 4 "nothing listening, after the connect timeout"
contains "$ERR" "CONNECT_FAILED" "connect timeout: code"

# ---- the lease of a killed holder behind a transaction pooler
new_db
PURL=$(pgb_url "$DBNAME")
K=$WORK/k
mig "$K" 0001_slow.sql <<'SQL'
-- strata:up no-transaction
CREATE TABLE marks (n integer);
SELECT pg_sleep(20);
INSERT INTO marks VALUES (1);
-- strata:down
SQL
STRATA_LEASE_SECONDS=3 "$STRATA" --url "$PURL" --dir "$K" up >/dev/null 2>&1 &
holder=$!
for _ in $(seq 50); do
    [ "$(q "SELECT count(*) FROM pg_tables WHERE tablename = 'marks'")" = 1 ] && break
    sleep 0.1
done
kill -9 "$holder"
wait "$holder" 2>/dev/null
STRATA_LEASE_SECONDS=3 raw --url "$PURL" --dir "$K" --lock-timeout 0.5 up
expect_rc 4 "the killed holder's lease still runs"
contains "$ERR" "LOCK_TIMEOUT" "lease: lock timeout"
sleep 3
STRATA_LEASE_SECONDS=3 raw --url "$PURL" --dir "$K" --lock-timeout 10 up
expect_rc 1 "after the lease ran out: the interrupted migration is on record"
contains "$ERR" "FAILED_MIGRATION" "lease: no silent re-run of the interrupted section"
eq "$(q "SELECT count(*) FROM marks")" "0" "lease: the interrupted section did not run twice"
pgb_stop

# ---- a failed no-transaction run is honest, and its recovery works
new_db
R=$WORK/r
mig "$R" 0001_u.sql <<'SQL'
-- strata:up
CREATE TABLE u (a integer);
INSERT INTO u VALUES (1), (1), (2);
-- strata:down
DROP TABLE u;
SQL
mig "$R" 0002_unique.sql <<'SQL'
-- strata:up no-transaction
CREATE UNIQUE INDEX CONCURRENTLY IF NOT EXISTS u_a ON u (a);
-- strata:down no-transaction
DROP INDEX CONCURRENTLY u_a;
SQL
st --dir "$R" up
expect_rc 1 "a unique index over duplicates"
contains "$ERR" "23505" "the server's SQLSTATE"
st --dir "$R" status
contains "$OUT" "could not create unique index" "status shows the server's error of the failed run"
contains "$ERR" "u_a is INVALID" "status warns about the INVALID index"
st --dir "$R" --json status
eq "$(json_get "$OUT" 'j["invalid_indexes"]')" "['public.u_a']" "status --json lists the INVALID index"
st --dir "$R" history
contains "$OUT" "could not create unique index" "history shows the failed run and its error"
st --dir "$R" validate
expect_rc 3 "validate: problems"
contains "$OUT" "INVALID_INDEX" "validate reports the INVALID index"
# the data is fixed; the retry must not mark the INVALID index applied
q "DELETE FROM u WHERE ctid = (SELECT max(ctid) FROM u WHERE a = 1)" >/dev/null
st --dir "$R" up --retry-failed
expect_rc 1 "retry over the INVALID index"
contains "$ERR" "INVALID_INDEX" "retry: INVALID_INDEX"
contains "$ERR" "DROP INDEX CONCURRENTLY public.u_a" "retry: the hint says how to recover"
eq "$(q "SELECT state FROM strata_migrations WHERE version = '0002'")" "failed" "retry: still failed"
# the documented recovery (docs/operations.md)
q "DROP INDEX CONCURRENTLY public.u_a" >/dev/null
st --dir "$R" up --retry-failed
expect_rc 0 "retry after dropping the INVALID index"
eq "$(q "SELECT indisvalid FROM pg_index WHERE indexrelid = 'u_a'::regclass")" "t" "the index is valid"
st --dir "$R" validate
expect_rc 0 "validate after the recovery"

# a no-transaction section whose connection is killed: the error is kept
mig "$R" 0003_slow.sql <<'SQL'
-- strata:up no-transaction
SELECT pg_sleep(30);
-- strata:down
SQL
"$STRATA" --url "$URL" --dir "$R" up >"$WORK/k.out" 2>"$WORK/k.err" &
upid=$!
for _ in $(seq 100); do
    [ "$(q "SELECT count(*) FROM pg_stat_activity WHERE query LIKE 'SELECT pg_sleep(30)%'")" = 1 ] && break
    sleep 0.1
done
q "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE query LIKE 'SELECT pg_sleep(30)%'" >/dev/null
wait "$upid"
rc=$?
eq "$rc" "1" "up whose connection was terminated"
contains "$(q "SELECT error FROM strata_migrations WHERE version = '0003'")" "terminating connection" \
    "the server's error is stored with the failed row"
# and the hint is the no-transaction one: nothing was rolled back there
contains "$(cat "$WORK/k.err")" "may have partly run" "the hint says the section may have partly run"
lacks "$(cat "$WORK/k.err")" "transaction was rolled back" "not that a transaction was rolled back"

finish
