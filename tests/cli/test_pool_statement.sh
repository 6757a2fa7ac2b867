#!/usr/bin/env bash
# PgBouncer in statement pooling mode (no transactions at all): every command
# that needs one is refused at once with POOLER_UNSUPPORTED (exit 2) and a
# hint naming pool_mode, before anything is made -- no version table, no
# lease row left behind for the next run to wait on, no "connection lost,
# run it again". Before: `up` took the lease row, then failed with DB_ERROR
# "server closed the connection unexpectedly" and a hint to run it again
# (and the next direct `up` waited for the lease); `up --dry-run` failed with
# "no connection to the server".
. "$(dirname "$0")/lib.sh"
postgres_only
. "$(dirname "$0")/pgbouncer_lib.sh"

D=$WORK/m
mig "$D" 0001_a.sql <<'SQL'
-- strata:up
CREATE TABLE a (id integer);
INSERT INTO a VALUES (1);
-- strata:down
DROP TABLE a;
SQL
mig "$D" 0002_b.sql <<'SQL'
-- strata:up no-transaction
CREATE INDEX CONCURRENTLY a_id ON a (id);
-- strata:down no-transaction
DROP INDEX CONCURRENTLY a_id;
SQL

pgb_start statement
new_db
DIRECT=$URL
URL=$(pgb_url "$DBNAME")

refused() { # refused LABEL: the last command was refused as it should be
    expect_rc 2 "$1"
    contains "$ERR" "statement pooling mode" "$1: says why"
    contains "$ERR" "[POOLER_UNSUPPORTED]" "$1: code"
    contains "$ERR" "pool_mode" "$1: the hint names the setting"
    lacks "$ERR" "run it again" "$1: no advice to repeat it"
    lacks "$ERR" "$PGPASSWORD" "$1: no password"
}

for cmd in up "up --dry-run" "stamp 0001" "down" "redo"; do
    # shellcheck disable=SC2086
    st --dir "$D" $cmd
    refused "$cmd on a new database"
done
eq "$(q "SELECT count(*) FROM pg_tables WHERE schemaname = 'public'")" "0" "nothing was made"

st --dir "$D" --json up
expect_rc 2 "--json up"
eq "$(json_get "$ERR" "j['code']")" "POOLER_UNSUPPORTED" "--json up: code"

"$APP" "$URL" "$D" >"$WORK/app.out" 2>"$WORK/app.err"
RC=$? ERR=$(cat "$WORK/app.err")
expect_rc 1 "app_startup"
contains "$ERR" "[POOLER_UNSUPPORTED]" "app_startup: code"

# directly, no lease left to wait for: at once
t0=$(date +%s%N)
"$STRATA" --url "$DIRECT" --dir "$D" --lock-timeout 5 -q up >"$WORK/d.out" 2>"$WORK/d.err" ||
    fail "direct up: $(cat "$WORK/d.err")"
t1=$(date +%s%N)
[ $(((t1 - t0) / 1000000)) -lt 3000 ] || fail "direct up waited $(((t1 - t0) / 1000000)) ms"
lacks "$(cat "$WORK/d.err")" "waiting" "direct up: no wait"

# the reading commands, with the version table there
for cmd in status current history validate schema; do
    st --dir "$D" $cmd
    refused "$cmd"
done
# the pool's own connections are fine afterwards (nothing left on them)
eq "$(psql -X -q -A -t -h 127.0.0.1 -p "$PGB_PORT" -d "$DBNAME" -c "INSERT INTO a VALUES (2) RETURNING id")" \
    "2" "the application's statement pool still writes"
eq "$(q "SELECT string_agg(version || ':' || state, ',' ORDER BY version) FROM strata_migrations")" \
    "0001:applied,0002:applied" "the version table as the direct run left it"
finish
