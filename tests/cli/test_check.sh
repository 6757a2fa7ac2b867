#!/usr/bin/env bash
# strata check: passes on the samples, catches each broken class with a clear
# message, never touches the URL's database, and leaves no scratch database
# behind after success, failure, SIGINT or SIGTERM.
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
. "$(dirname "$0")/lib.sh"

# scratch SQLite files go here, so that leftovers can be counted
export TMPDIR=$WORK/tmp
mkdir -p "$TMPDIR"

# scratch_left: how many scratch databases exist now
scratch_left() {
    if [ "$ENGINE" = postgres ]; then
        psql -X -A -t -d postgres -c "SELECT count(*) FROM pg_database WHERE datname LIKE 'strata\_check\_%'"
    else
        find "$TMPDIR" -name 'strata_check_*' | wc -l | tr -d ' '
    fi
}

# The server: a database holding data that check must not touch.
new_db
SERVER_URL=$URL
q "CREATE TABLE keep_me (id integer PRIMARY KEY, v text)" >/dev/null
q "INSERT INTO keep_me VALUES (1, 'a'), (2, 'b')" >/dev/null
if [ "$ENGINE" = sqlite ]; then
    before_sum=$(md5sum "$DBFILE" | cut -d' ' -f1)
fi
"$STRATA" --url "$SERVER_URL" schema >"$WORK/server-before.txt"

# chk DIR [args]: runs check with the server URL (a SQLite URL is ignored:
# the scratch is a temporary file either way)
chk() {
    local d=$1
    shift
    "$STRATA" --url "$SERVER_URL" --dir "$d" check "$@" >"$WORK/out" 2>"$WORK/err"
    RC=$?
    OUT=$(cat "$WORK/out")
    ERR=$(cat "$WORK/err")
}

untouched() { # untouched WHEN
    eq "$(q "SELECT count(*) FROM keep_me")" "2" "$1: the URL's data is untouched"
    eq "$(table_exists strata_migrations)" "0" "$1: no version table in the URL's database"
    "$STRATA" --url "$SERVER_URL" schema >"$WORK/server-now.txt"
    cmp -s "$WORK/server-before.txt" "$WORK/server-now.txt" || fail "$1: the URL's schema changed"
    if [ "$ENGINE" = sqlite ]; then
        eq "$(md5sum "$DBFILE" | cut -d' ' -f1)" "$before_sum" "$1: the SQLite file is byte for byte the same"
    fi
    eq "$(scratch_left)" "0" "$1: no scratch database left"
}

# ------------------------------------------------------------- the samples
for s in pos payments studying_light; do
    chk "$ROOT/examples/$s/migrations"
    expect_rc 0 "check $s"
    contains "$OUT" "check passed" "check $s passes"
    lacks "$OUT" "FAIL" "check $s has no failure"
    eq "$(grep -c '^ok 0' "$WORK/out")" "$(ls "$ROOT/examples/$s/migrations" | grep -c '\.sql$')" "$s: one ok line per migration"
    contains "$OUT" "ok base: only the version table is left" "$s: base"
    contains "$OUT" "ok up again: nothing applied" "$s: up again"
    untouched "after check $s"
done
chk "$ROOT/examples/pos/migrations" --json
expect_rc 0 "check --json"
eq "$(json_get "$OUT" 'j["ok"]')" "True" "json ok"
eq "$(json_get "$OUT" 'j["engine"]')" "$ENGINE" "json engine"
eq "$(json_get "$OUT" 'len(j["migrations"])')" "12" "json one entry per migration"
eq "$(json_get "$OUT" 'set(m["state"] for m in j["migrations"])')" "{'ok'}" "json states"
eq "$(json_get "$OUT" 'j["base"]["state"] + " " + j["up_again"]["state"]')" "ok ok" "json global steps"

# ------------------------------------------------------- the broken classes
users() {
    mig "$1" 0001_users.sql <<'SQL'
-- strata:up
CREATE TABLE users (id integer PRIMARY KEY, email text NOT NULL UNIQUE, created_at text);
-- strata:down
DROP TABLE users;
SQL
}

# a down that forgets DROP INDEX
B=$WORK/forgot_index
users "$B"
mig "$B" 0002_index_users_created.sql <<'SQL'
-- strata:up
CREATE INDEX users_created_at_idx ON users (created_at);
-- strata:down
-- (DROP INDEX users_created_at_idx forgotten)
SQL
chk "$B"
expect_rc 1 "forgotten DROP INDEX"
contains "$OUT" "FAIL 0002_index_users_created: down left: index users_created_at_idx" "forgotten DROP INDEX named"
contains "$OUT" "+  index users_created_at_idx" "the difference shows the index with +"
contains "$OUT" "skip 0001_users: not checked: the down-walk stopped at 0002_index_users_created" "older ones skipped"
contains "$ERR" "check failed: 0002_index_users_created" "error line"
contains "$ERR" "CHECK_FAILED" "error code"
untouched "after a failed check"
chk "$B" --json
expect_rc 1 "forgotten DROP INDEX, json"
eq "$(json_get "$OUT" 'j["ok"]')" "False" "json ok false"
eq "$(json_get "$OUT" 'j["migrations"][1]["state"] + "/" + j["migrations"][1]["step"]')" "failed/down" "json failed step"
contains "$(json_get "$OUT" 'j["migrations"][1]["diff"]')" "+  index users_created_at_idx" "json diff"
eq "$(json_get "$OUT" 'j["migrations"][0]["state"]')" "skipped" "json skipped"
eq "$(json_get "$ERR" 'j["code"]')" "CHECK_FAILED" "json error code"

# a down that leaves a column: PostgreSQL forgets ALTER TABLE ... DROP COLUMN,
# SQLite forgets the table rebuild
B=$WORK/column_left
users "$B"
mig "$B" 0002_add_nickname.sql <<'SQL'
-- strata:up
ALTER TABLE users ADD COLUMN nickname text NOT NULL DEFAULT '';
-- strata:down dialect=postgres
-- ALTER TABLE users DROP COLUMN nickname; (forgotten)
-- strata:down dialect=sqlite
-- the rebuild of users without nickname (forgotten)
SQL
chk "$B"
expect_rc 1 "column left behind"
contains "$OUT" "FAIL 0002_add_nickname: down left: column users.nickname" "column left behind named"
contains "$OUT" "+  column nickname text not null default" "the difference shows the column"
# ...and the correct downs pass, the SQLite rebuild included
mig "$B" 0002_add_nickname.sql <<'SQL'
-- strata:up
ALTER TABLE users ADD COLUMN nickname text NOT NULL DEFAULT '';
-- strata:down dialect=postgres
ALTER TABLE users DROP COLUMN nickname;
-- strata:down dialect=sqlite
CREATE TABLE users_new (id integer PRIMARY KEY, email text NOT NULL UNIQUE, created_at text);
INSERT INTO users_new (id, email, created_at) SELECT id, email, created_at FROM users;
DROP TABLE users;
ALTER TABLE users_new RENAME TO users;
SQL
chk "$B"
expect_rc 0 "correct DROP COLUMN / table rebuild"
contains "$OUT" "ok 0002_add_nickname" "rebuild passes"

# an up that cannot run again after its down (the down keeps a seed row in a
# unique column)
B=$WORK/not_repeatable
users "$B"
mig "$B" 0002_seed_admin.sql <<'SQL'
-- strata:up
INSERT INTO users (id, email) VALUES (1, 'admin@example.com');
-- strata:down
-- DELETE FROM users WHERE id = 1; (forgotten)
SQL
chk "$B"
expect_rc 1 "up not repeatable"
contains "$OUT" "FAIL 0002_seed_admin: up after down failed (the up is not repeatable after its down)" "not repeatable named"
contains "$OUT" "0002_seed_admin.sql:2:" "the failing line"

# a verify section that fails
B=$WORK/verify_fails
users "$B"
mig "$B" 0002_seed_admin.sql <<'SQL'
-- strata:up
INSERT INTO users (id, email) VALUES (1, 'admin@example.com');
-- strata:verify
SELECT count(*) = 2 FROM users;
-- strata:down
DELETE FROM users WHERE id = 1;
SQL
chk "$B"
expect_rc 1 "failing verify"
contains "$OUT" "FAIL 0002_seed_admin: up failed: " "verify failure names the migration"
contains "$OUT" "verify query returned false" "verify message"
contains "$OUT" "skip up again: not reached" "up again not reached"
chk "$B" --json
eq "$(json_get "$OUT" 'j["migrations"][1]["code"]')" "VERIFY_FAILED" "json verify code"
eq "$(json_get "$OUT" 'j["migrations"][1]["step"]')" "up" "json verify step"

# leftovers after down base
B=$WORK/leftovers
mig "$B" 0001_users.sql <<'SQL'
-- strata:up
CREATE TABLE users (id integer PRIMARY KEY);
CREATE TABLE users_archive (id integer PRIMARY KEY);
-- strata:down
DROP TABLE users;
SQL
chk "$B"
expect_rc 1 "leftovers at base"
contains "$OUT" "FAIL 0001_users: down left: table users_archive" "the migration that leaks"
contains "$OUT" "FAIL base: down base left: table users_archive" "leftovers after down base"
contains "$OUT" "+table users_archive" "leftover in the difference"

# an up again that is not a no-op (a migration that deletes a version record)
B=$WORK/up_again
users "$B"
mig "$B" 0002_forget.sql <<'SQL'
-- strata:up
DELETE FROM strata_migrations WHERE version = '0001';
-- strata:down
SQL
chk "$B"
expect_rc 1 "up again not a no-op"
contains "$OUT" "FAIL up again: " "up again failure"

# an irreversible migration: round trip skipped, the walk stops, exit 0
B=$WORK/irreversible
users "$B"
mig "$B" 0002_seed.sql <<'SQL'
-- strata:up
INSERT INTO users (id, email) VALUES (1, 'a@example.com');
SQL
mig "$B" 0003_index.sql <<'SQL'
-- strata:lint-ignore index-not-concurrent -- the lint is not what this case tests
-- strata:up
CREATE INDEX users_created_at_idx ON users (created_at);
-- strata:down
DROP INDEX users_created_at_idx;
SQL
chk "$B"
expect_rc 0 "irreversible is not a failure"
contains "$OUT" "ok 0003_index" "newer migration round-tripped"
contains "$OUT" "irreversible 0002_seed: no down section" "irreversible reported"
contains "$OUT" "skip 0001_users: not checked: the down-walk stops at irreversible 0002_seed" "walk stops there"
contains "$OUT" "skip base: not reached" "base not reached"
contains "$OUT" "1 irreversible" "summary mentions it"
untouched "after the broken directories"

# --------------------------------------------------------------- interrupts
B=$WORK/slow
mig "$B" 0001_slow.sql <<'SQL'
-- strata:up dialect=postgres
CREATE TABLE slow (id integer);
SELECT pg_sleep(60);
-- strata:up dialect=sqlite
CREATE TABLE slow (id integer);
WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < 2000000000) SELECT count(*) FROM c;
-- strata:down
DROP TABLE slow;
SQL
for sig in INT TERM; do
    json=
    [ "$sig" = TERM ] && json=--json
    "$STRATA" $json --url "$SERVER_URL" --dir "$B" check >"$WORK/out" 2>"$WORK/err" &
    pid=$!
    for _ in $(seq 200); do
        [ "$(scratch_left)" != "0" ] && break
        sleep 0.1
    done
    [ "$(scratch_left)" -ge 1 ] || fail "SIG$sig: no scratch database while check runs"
    sleep 1 # well into the slow migration
    kill -"$sig" "$pid"
    for _ in $(seq 200); do
        kill -0 "$pid" 2>/dev/null || break
        sleep 0.1
    done
    if kill -0 "$pid" 2>/dev/null; then
        fail "SIG$sig: check still running 20 s after the signal"
        kill -KILL "$pid"
    fi
    wait "$pid"
    RC=$?
    ERR=$(cat "$WORK/err")
    [ "$sig" = INT ] && expect_rc 130 "check after SIGINT" || expect_rc 143 "check after SIGTERM"
    contains "$ERR" "interrupted by signal" "SIG$sig: said"
    contains "$ERR" "the scratch database was dropped" "SIG$sig: cleanup said"
    [ -n "$json" ] && contains "$ERR" '"code": "INTERRUPTED"' "SIG$sig: the code is INTERRUPTED"
    untouched "after SIG$sig"
done

# --keep leaves it for a look, and says where
chk "$WORK/leftovers" --keep
expect_rc 1 "check --keep"
contains "$ERR" "kept the scratch database" "--keep says so"
eq "$(scratch_left)" "1" "--keep keeps it"
if [ "$ENGINE" = postgres ]; then
    kept=$(grep -o 'strata_check_[0-9a-f]*' "$WORK/err" | head -1)
    eq "$(psql -X -A -t -d "$kept" -c "SELECT count(*) FROM pg_tables WHERE tablename = 'users_archive'")" "1" "the kept database shows the leftover"
    dropdb "$kept"
else
    find "$TMPDIR" -name 'strata_check_*' -delete
fi
untouched "after --keep cleanup"

# what a kill -9 of strata left: the next run drops it once it is an hour
# old and nobody is connected; younger ones and other names stay
if [ "$ENGINE" = postgres ]; then
    stale=strata_check_$(printf '%08x' $(($(date +%s) - 7200)))a1b2c3d4e5f6
    young=strata_check_$(printf '%08x' "$(date +%s)")a1b2c3d4e5f6
    createdb "$stale" && createdb "$young" && createdb strata_check_by_hand
    "$STRATA" --url "$SERVER_URL" --dir "$ROOT/examples/pos/migrations" check -q >/dev/null 2>&1 || fail "check beside leftovers"
    eq "$(psql -X -A -t -d postgres -c "SELECT string_agg(datname, ' ' ORDER BY datname) FROM pg_database WHERE datname LIKE 'strata\_check\_%'")" \
        "$young strata_check_by_hand" "a stale scratch database is dropped, a young one and another name kept"
    dropdb "$young"
    dropdb strata_check_by_hand
fi

# a partitioned table is part of the schema (it was left out, so a down
# that leaves one behind passed, and diff said "no difference")
if [ "$ENGINE" = postgres ]; then
    mig "$WORK/parted" 0001_p.sql <<'SQL'
-- strata:up
CREATE TABLE events (id bigint NOT NULL, at date NOT NULL) PARTITION BY RANGE (at);
CREATE TABLE events_2024 PARTITION OF events FOR VALUES FROM ('2024-01-01') TO ('2025-01-01');
-- strata:down
DROP TABLE events_2024;
SQL
    chk "$WORK/parted"
    expect_rc 1 "check: a down that leaves a partitioned table"
    contains "$OUT" "down left: table events partitioned by RANGE (at)" "check names the partitioned table left"
    new_db
    st --dir "$WORK/parted" up
    st schema
    contains "$OUT" "table events partitioned by RANGE (at)" "schema shows the partitioned table"
    contains "$OUT" "table events_2024 partition of events FOR VALUES FROM ('2024-01-01') TO ('2025-01-01')" "schema shows the partition"
fi

# a migration with no up section for the scratch engine: a parse error
# (SPEC section 2), exit 2, nothing run
mig "$WORK/pgonly" 0001_a.sql <<'SQL'
-- strata:up dialect=postgres
CREATE TABLE t (id int);
-- strata:down dialect=postgres
DROP TABLE t;
SQL
mig "$WORK/pgonly" 0002_b.sql <<'SQL'
-- strata:up dialect=sqlite
CREATE TABLE u (id int);
-- strata:down dialect=sqlite
DROP TABLE u;
SQL
chk "$WORK/pgonly"
expect_rc 2 "a directory with a migration for the other engine only"
contains "$ERR" "no up section for $ENGINE [PARSE_ERROR]" "named as a parse error"
eq "$(scratch_left)" "0" "no scratch left (parse error)"

# a down that forgets objects in a schema off the search path: compared too
if [ "$ENGINE" = postgres ]; then
    AU=$WORK/audit
    mig "$AU" 0001_audit.sql <<'SQL'
-- strata:up
CREATE SCHEMA audit;
CREATE TABLE audit.log (id bigint PRIMARY KEY, msg text);
-- strata:down
DROP SCHEMA audit CASCADE;
SQL
    mig "$AU" 0002_more.sql <<'SQL'
-- strata:up
ALTER TABLE audit.log ADD COLUMN IF NOT EXISTS at timestamptz;
CREATE OR REPLACE FUNCTION audit.f() RETURNS int LANGUAGE sql AS 'SELECT 1';
-- strata:down
-- forgot everything
SQL
    chk "$AU"
    expect_rc 1 "a down that leaves objects in another schema"
    contains "$OUT" "FAIL 0002_more: down left: column [audit] table log.at" "the leftover column is named, with its schema"
    contains "$OUT" "[audit] function f()" "the leftover function is named"
    eq "$(scratch_left)" "0" "no scratch left (other schema)"
fi

# ------------------------------------------------------------------- misc
if [ "$ENGINE" = postgres ]; then
    # the URL names a database that does not exist: the server is still used
    "$STRATA" --url "${SERVER_URL%/*}/no_such_db_$RANDOM" --dir "$ROOT/examples/pos/migrations" check -q >"$WORK/out" 2>"$WORK/err"
    RC=$?
    expect_rc 0 "check with a URL naming a missing database"
    eq "$(psql -X -A -t -d postgres -c "SELECT count(*) FROM pg_database WHERE datname LIKE 'no\_such\_db\_%'")" "0" "the missing database was not created"
    eq "$(scratch_left)" "0" "no scratch left (missing database URL)"
    # a user without CREATEDB: a clear error, nothing created
    PGOPTIONS="-c client_min_messages=warning" psql -X -q -d postgres -c "DROP ROLE IF EXISTS strata_nocreate" -c "CREATE ROLE strata_nocreate LOGIN PASSWORD 'pw_nocreate'"
    "$STRATA" --url "postgresql://strata_nocreate:pw_nocreate@${PGHOST:-localhost}:$PGPORT/$DBNAME" --dir "$ROOT/examples/pos/migrations" check >"$WORK/out" 2>"$WORK/err"
    RC=$?
    ERR=$(cat "$WORK/err")
    expect_rc 1 "check without CREATEDB"
    contains "$ERR" "permission denied to create database" "server message"
    contains "$ERR" "CREATEDB privilege" "hint names the privilege"
    lacks "$ERR" "pw_nocreate" "no password in the error"
    psql -X -q -d postgres -c "DROP ROLE strata_nocreate"
    eq "$(scratch_left)" "0" "no scratch left (no CREATEDB)"
    # an unreachable server
    "$STRATA" --url "postgresql://u:secret_pw@127.0.0.1:1/db" --dir "$ROOT/examples/pos/migrations" check >"$WORK/out" 2>"$WORK/err"
    RC=$?
    ERR=$(cat "$WORK/err")
    expect_rc 4 "check with an unreachable server"
    contains "$ERR" "CONNECT_FAILED" "connect error"
    lacks "$ERR" "secret_pw" "no password in the connect error"
fi
# no URL at all: a temporary SQLite file
raw --dir "$ROOT/examples/pos/migrations" check
expect_rc 0 "check without a URL"
contains "$OUT" "scratch sqlite database" "no URL: SQLite scratch"
eq "$(find "$TMPDIR" -name 'strata_check_*' | wc -l | tr -d ' ')" "0" "no scratch file left (no URL)"
# an empty directory passes; a broken file is a usage error
mkdir -p "$WORK/empty"
chk "$WORK/empty"
expect_rc 0 "check of an empty directory"
mig "$WORK/bad" 0001_bad.sql <<'SQL'
CREATE TABLE before_any_marker (id int);
SQL
chk "$WORK/bad"
expect_rc 2 "check of a malformed file"
contains "$ERR" "PARSE_ERROR" "parse error reported"
raw check --help
expect_rc 0 "check --help"
contains "$OUT" "usage: strata check" "check --help"
raw help check
contains "$OUT" "--keep" "help check"

# check runs the lint: an error-level finding fails it, even when the round trip passes
L=$WORK/lintcheck
mig "$L" 0001_t.sql <<'SQL'
-- strata:up
CREATE TABLE lt (id integer PRIMARY KEY, name text);
-- strata:down
DROP TABLE lt;
SQL
mig "$L" 0002_idx.sql <<'SQL'
-- strata:up
CREATE INDEX lt_name_idx ON lt (name);
-- strata:down
DROP INDEX lt_name_idx;
SQL
# the lint follows the URL's engine: PostgreSQL rules for a PostgreSQL URL;
# with no URL at all (the SQLite default), the rules of both engines
chk() { if [ "$ENGINE" = postgres ]; then st "$@"; else raw "$@"; fi; }
if [ "$ENGINE" = sqlite ]; then
    st --dir "$L" check
    expect_rc 0 "check with a SQLite URL: PostgreSQL-only lint rules do not apply"
    lacks "$OUT" "[index-not-concurrent]" "a SQLite URL: no PostgreSQL rule"
fi
chk --dir "$L" check
expect_rc 1 "check with a lint error"
contains "$OUT" "[index-not-concurrent]" "the lint finding is printed"
contains "$OUT" "round trip passed" "the round trip still ran"
contains "$ERR" "the lint found 1 error" "the error says why"
chk --dir "$L" check --json
expect_rc 1 "check --json with a lint error"
eq "$(json_get "$OUT" '(j["ok"], j["lint"]["errors"], j["lint"]["findings"][0]["rule"])')" "(False, 1, 'index-not-concurrent')" "lint in the JSON report"
sed -i '1i -- strata:lint-ignore index-not-concurrent -- a tiny table' "$L/0002_idx.sql"
chk --dir "$L" check
expect_rc 0 "check passes once the finding is accepted"

# PostgreSQL: a down that adds back a dropped middle column puts it last;
# the round trip passes with a note, not a failure (diff writes such downs)
if [ "$ENGINE" = postgres ]; then
    MC=$WORK/midcol
    mig "$MC" 0001_t.sql <<'SQL'
-- strata:up
CREATE TABLE t (id int PRIMARY KEY, a text, b int);
-- strata:down
DROP TABLE t;
SQL
    mig "$MC" 0002_drop_a.sql <<'SQL'
-- strata:up
ALTER TABLE t DROP COLUMN a; -- strata:lint-ignore drop-column
-- strata:down
ALTER TABLE t ADD COLUMN a text;
SQL
    st --dir "$MC" check
    expect_rc 0 "a middle column dropped and added back"
    contains "$OUT" "columns of table t in another order" "the note names the table"
fi

finish
