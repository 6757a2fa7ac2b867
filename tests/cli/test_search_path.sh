#!/usr/bin/env bash
# A migration's own search_path cannot move strata's bookkeeping: the version
# table (and the lease table behind a pooler) is found under the search_path
# the session started with, schema-qualified, whatever a migration SETs --
# session-level in a no-transaction section, SET LOCAL in a transaction, or
# left behind on a pooled server connection by another client. A search_path
# that names no schema is a clear error, not a wrong status.
. "$(dirname "$0")/lib.sh"
postgres_only
. "$(dirname "$0")/pgbouncer_lib.sh"

D=$WORK/m
mig "$D" 0001_notx.sql <<'SQL'
-- strata:up no-transaction
SET search_path = s2;
CREATE TABLE t1 (id integer);
-- strata:down no-transaction
SET search_path = s2;
DROP TABLE t1;
SQL
mig "$D" 0002_local.sql <<'SQL'
-- strata:up
SET LOCAL search_path = s2;
CREATE TABLE t2 (id integer);
-- strata:down
SET LOCAL search_path = s2;
DROP TABLE t2;
SQL
mig "$D" 0003_plain.sql <<'SQL'
-- strata:up
CREATE TABLE s2.t3 (id integer);
-- strata:down
DROP TABLE s2.t3;
SQL

# another history, for a version table of its own
mig "$WORK/m2" 0001_x.sql <<'SQL'
-- strata:up
CREATE TABLE x (id integer);
SQL

where_vt() {
    q "SELECT string_agg(schemaname || '.' || tablename, ',' ORDER BY schemaname) FROM pg_tables WHERE tablename = 'strata_migrations'"
}

# ---- directly on the server
new_db
q "CREATE SCHEMA s2" >/dev/null
st --dir "$D" up
expect_rc 0 "up with migrations that SET search_path"
eq "$(q "SELECT string_agg(version || ':' || state, ',' ORDER BY version) FROM public.strata_migrations")" \
    "0001:applied,0002:applied,0003:applied" "every migration recorded applied"
eq "$(where_vt)" "public.strata_migrations" "one version table, in public"
eq "$(q "SELECT string_agg(tablename, ',' ORDER BY tablename) FROM pg_tables WHERE schemaname = 's2'")" \
    "t1,t2,t3" "the migrations' tables in s2"
st --dir "$D" status
expect_rc 0 "status"
contains "$OUT" "current: 0003" "status reads the version table"
for v in 0002 0001 base; do
    st --dir "$D" down -1
    expect_rc 0 "down to $v"
    contains "$OUT" "current: $v" "down -1 records the step (now $v)"
done
eq "$(where_vt)" "public.strata_migrations" "still one version table after down"
eq "$(q "SELECT count(*) FROM strata_migrations")" "0" "down removed every record"
st --dir "$D" up
expect_rc 0 "up again"
eq "$(q "SELECT count(*) FROM strata_migrations WHERE state = 'applied'")" "3" "up again records all"

# --table schema.table stays where it is named
q "CREATE SCHEMA app" >/dev/null
st --dir "$WORK/m2" --table app.versions up
expect_rc 0 "--table app.versions up"
eq "$(q "SELECT count(*) FROM app.versions WHERE state = 'applied'")" "1" "--table app.versions: recorded there"
eq "$(q "SELECT count(*) FROM pg_tables WHERE tablename = 'versions' AND schemaname <> 'app'")" "0" \
    "--table app.versions: nowhere else"
st --dir "$WORK/m2" --table app.versions status
contains "$OUT" "current: 0001" "--table app.versions: status"

# the database's search_path names no schema: an error that says so, not
# "nothing applied" (the table is there, outside every schema on the path)
q "ALTER DATABASE $DBNAME SET search_path = ''" >/dev/null
st --dir "$D" status
expect_rc 1 "status with an empty search_path"
contains "$ERR" "no schema to keep the version table" "empty search_path: named"
contains "$ERR" "search_path" "empty search_path: the hint names the setting"
st --dir "$D" up
expect_rc 1 "up with an empty search_path"
eq "$(where_vt)" "public.strata_migrations" "empty search_path: no second version table"
q "ALTER DATABASE $DBNAME RESET search_path" >/dev/null

# ---- a search_path left on a pooled server connection by another client
# (transaction pooling, one server connection: strata gets that one)
PGB_POOL_SIZE=1 pgb_start transaction
new_db
q "CREATE SCHEMA s2" >/dev/null
q "CREATE SCHEMA app" >/dev/null
PURL=$(pgb_url "$DBNAME")
raw --url "$PURL" --dir "$D" up 0002
expect_rc 0 "pooled: up to 0002"
psql -X -q -h 127.0.0.1 -p "$PGB_PORT" -d "$DBNAME" -c "SET search_path = s2" ||
    fail "pooled: the other client's SET"
eq "$(psql -X -A -t -h 127.0.0.1 -p "$PGB_PORT" -d "$DBNAME" -c "SHOW search_path")" "s2" \
    "pooled: the SET stayed on the server connection"
raw --url "$PURL" --dir "$D" status
expect_rc 0 "pooled: status"
contains "$OUT" "current: 0002" "pooled: status reads public's version table"
raw --url "$PURL" --dir "$D" up
expect_rc 0 "pooled: up"
eq "$(where_vt)" "public.strata_migrations" "pooled: no version table in s2"
eq "$(q "SELECT string_agg(version, ',' ORDER BY version) FROM public.strata_migrations")" "0001,0002,0003" \
    "pooled: 0001 not applied again, 0003 recorded"
eq "$(q "SELECT count(*) FROM pg_tables WHERE tablename LIKE 'strata_migrations_lock' AND schemaname <> 'public'")" \
    "0" "pooled: the lease table in public too"
STRATA_ASSUME_POOLER=1 "$STRATA" --url "$URL" --dir "$WORK/m2" --table app.v2 up >/dev/null 2>"$WORK/err" ||
    fail "pooled: --table app.v2: $(cat "$WORK/err")"
eq "$(q "SELECT string_agg(schemaname || '.' || tablename, ',' ORDER BY tablename) FROM pg_tables WHERE tablename LIKE 'v2%'")" \
    "app.v2,app.v2_lock" "pooled: --table app.v2 keeps its lease table in app"
pgb_stop

# --table names a schema that does not exist (a typo, another case): an
# error, never a status that reads "nothing applied" or an up that replays
# the history into a second version table
new_db
K=$WORK/kt
k_history "$K" 2
st --dir "$K" up -q
expect_rc 0 "up into public"
for t in nosuch.strata_migrations PUBLIC.strata_migrations; do
    st --dir "$K" --table "$t" status
    expect_rc 2 "status --table $t"
    contains "$ERR" "CONFIG_ERROR" "--table $t: a configuration error"
    contains "$ERR" "does not exist" "--table $t: says the schema is missing"
    st --dir "$K" --table "$t" up
    expect_rc 2 "up --table $t"
done
eq "$(q "SELECT count(*) FROM pg_tables WHERE tablename = 'strata_migrations'")" 1 "no second version table"
# a quoted part holds blanks, capitals or dots
q 'CREATE SCHEMA "My App"' >/dev/null
st --dir "$K" --table '"My App".v13' stamp 0002
expect_rc 0 "stamp --table '\"My App\".v13'"
eq "$(q "SELECT count(*) FROM \"My App\".v13")" 2 "the quoted schema holds the version table"
st --dir "$K" --table '"My App".v13' status --exit-code
expect_rc 0 "status through the quoted name"

# a quoted schema holding a dot: the version table and, behind a pooler,
# its lease table beside it; malformed names are usage errors
new_db
q 'CREATE SCHEMA "a.b"' >/dev/null
st --dir "$K" --table '"a.b".v' up -q
expect_rc 0 "up --table '\"a.b\".v'"
STRATA_ASSUME_POOLER=1 st --dir "$K" --table '"a.b".w' stamp 0002
expect_rc 0 "stamp --table '\"a.b\".w' with the lease"
eq "$(q "SELECT string_agg(tablename, ',' ORDER BY tablename) FROM pg_tables WHERE schemaname = 'a.b'")" "v,w,w_lock" \
    "the version and lease tables are in schema a.b"
for t in '""' '"My App.versions' 'a..b' '.x' 'x.'; do
    st --dir "$K" --table "$t" status
    expect_rc 2 "--table '$t'"
    contains "$ERR" "USAGE" "--table '$t': a usage error"
done

# PostgreSQL 15: a role that does not own the database has no CREATE on
# public; the first up says what it was doing and what to grant
R="r_$(date +%s%N | tail -c 8)_$RANDOM"
psql -X -q -c "CREATE ROLE $R LOGIN PASSWORD 'rpw'"
new_db
RURL="postgresql://$R:rpw@${PGHOST:-localhost}:$PGPORT/$DBNAME"
raw --url "$RURL" --dir "$K" up --dry-run
expect_rc 1 "up --dry-run as a role without CREATE on public: the real run would fail"
contains "$OUT" "BEGIN" "up --dry-run shows the plan all the same"
contains "$ERR" "GRANT CREATE ON SCHEMA" "up --dry-run: the hint says what to grant"
raw --url "$RURL" --dir "$K" up
expect_rc 1 "up as a role without CREATE on public"
contains "$ERR" "cannot create the version table" "the error says what strata was doing"
contains "$ERR" "GRANT CREATE ON SCHEMA" "the hint says what to grant"
# with CREATE granted the dry run passes; a read-only role fails it
psql -X -q -d "$DBNAME" -c "GRANT CREATE ON SCHEMA public TO $R"
raw --url "$RURL" --dir "$K" up --dry-run
expect_rc 0 "up --dry-run once CREATE is granted"
psql -X -q -c "ALTER ROLE $R SET default_transaction_read_only = on"
raw --url "$RURL" --dir "$K" up --dry-run
expect_rc 1 "up --dry-run as a role whose sessions are read-only"
contains "$ERR" "default_transaction_read_only" "up --dry-run names the setting"
eq "$(q "SELECT to_regclass('public.strata_migrations') IS NULL")" "t" "the dry runs created nothing"
psql -X -q -c "ALTER ROLE $R RESET default_transaction_read_only"
psql -X -q -c "DROP OWNED BY $R" -d "$DBNAME" >/dev/null 2>&1
dropdb --if-exists --force "$DBNAME"
psql -X -q -c "DROP ROLE $R"
finish
