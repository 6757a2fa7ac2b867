#!/usr/bin/env bash
# Operating a database (SPEC section 9): create, drop, wait, reset, backup,
# restore -- on the engine of the run; and never a password in any output.
. "$(dirname "$0")/lib.sh"

ALL="$WORK/all_output"
: >"$ALL"
SECRET_PW="s3cret-Pw-$RANDOM"
# o ARGS...: st, and keep every output for the password check at the end
o() {
    st "$@"
    printf '%s\n%s\n' "$OUT" "$ERR" >>"$ALL"
}
# r ARGS...: raw, same
r() {
    raw "$@"
    printf '%s\n%s\n' "$OUT" "$ERR" >>"$ALL"
}
now_ms() { echo $(($(date +%s%N) / 1000000)); }

# url_for NAME: a URL for database NAME (postgres) or file NAME (sqlite)
url_for() {
    if [ "$ENGINE" = postgres ]; then
        echo "postgresql://$PGUSER:$PGPASSWORD@${PGHOST:-localhost}:$PGPORT/$1"
    else
        echo "sqlite:///$WORK/$1"
    fi
}
pg_db_exists() { psql -X -A -t -d postgres -c "SELECT count(*) FROM pg_database WHERE datname = '$1'"; }

# dump_db: schema and data of the current database, deterministic
dump_db() {
    if [ "$ENGINE" = postgres ]; then
        # pg_dump 15.14+ writes \restrict lines with a random key
        pg_dump -d "$DBNAME" | grep -v '^\\\(un\)\{0,1\}restrict '

    else
        sqlite3 "$DBFILE" .dump
    fi
}

D=$WORK/m
mig "$D" 0001_users.sql <<'SQL'
-- strata:up
CREATE TABLE users (id integer PRIMARY KEY, email text NOT NULL UNIQUE, note text);
INSERT INTO users (id, email, note) VALUES (1, 'admin@example.com', 'seeded');
-- strata:down
DROP TABLE users;
SQL
mig "$D" 0002_orders.sql <<'SQL'
-- strata:up
CREATE TABLE orders (id integer PRIMARY KEY, user_id integer NOT NULL REFERENCES users (id),
                     total numeric(10,2), note text);
CREATE INDEX orders_user ON orders (user_id);
CREATE VIEW order_totals AS SELECT user_id, sum(total) AS total FROM orders GROUP BY user_id;
-- strata:down
DROP VIEW order_totals;
DROP TABLE orders;
SQL
mig "$D" 0003_extras.sql <<'SQL'
-- strata:up dialect=postgres
CREATE TYPE order_state AS ENUM ('new', 'paid');
ALTER TABLE orders ADD COLUMN state order_state NOT NULL DEFAULT 'new';
CREATE FUNCTION order_count() RETURNS bigint LANGUAGE sql AS $$ SELECT count(*) FROM orders $$;
-- strata:up dialect=sqlite
ALTER TABLE orders ADD COLUMN state text NOT NULL DEFAULT 'new';
CREATE TRIGGER orders_touch AFTER UPDATE ON orders BEGIN SELECT 1; END;
-- strata:down dialect=postgres
DROP FUNCTION order_count();
ALTER TABLE orders DROP COLUMN state;
DROP TYPE order_state;
-- strata:down dialect=sqlite
DROP TRIGGER orders_touch;
ALTER TABLE orders DROP COLUMN state;
SQL

# ------------------------------------------------------------ create, drop
NAME="ops_c_$RANDOM$RANDOM"
[ "$ENGINE" = postgres ] && DBS+=("$NAME")
U=$(url_for "$NAME")
r --url "$U" create
expect_rc 0 "create"
contains "$OUT" "created" "create says it created"
r --url "$U" create --json
expect_rc 0 "create again"
eq "$(json_get "$OUT" 'j["created"]')" "False" "second create is a no-op"
eq "$(json_get "$OUT" 'j["engine"]')" "$ENGINE" "create --json names the engine"
r --url "$U" create
contains "$OUT" "already exists" "second create says so"
if [ "$ENGINE" = postgres ]; then
    eq "$(pg_db_exists "$NAME")" "1" "database exists"
    eq "$(psql -X -A -t -d postgres -c "SELECT pg_encoding_to_char(encoding) FROM pg_database WHERE datname = '$NAME'")" \
        "UTF8" "encoding UTF8"
    eq "$(psql -X -A -t -d "$NAME" -c "SELECT 1")" "1" "new database accepts connections"
else
    eq "$(sqlite3 "$WORK/$NAME" 'PRAGMA integrity_check')" "ok" "created file is a SQLite database"
    eq "$(head -c 15 "$WORK/$NAME")" "SQLite format 3" "created file has a SQLite header"
fi
if [ "$ENGINE" = postgres ]; then
    # a name PostgreSQL would cut at 63 bytes: refused, not reported
    # "created" under a name the database does not have
    LONG=ops_long_$(printf 'x%.0s' $(seq 60))
    r --url "$(url_for "$LONG")" create
    expect_rc 2 "create with a name over 63 bytes"
    contains "$ERR" "longer than PostgreSQL's 63 bytes" "the long name: says why"
    eq "$(pg_db_exists "${LONG:0:63}")" "0" "the long name: nothing created"
fi
r --url "$U" drop --json
expect_rc 0 "drop"
eq "$(json_get "$OUT" 'j["dropped"]')" "True" "drop dropped"
r --url "$U" drop
expect_rc 0 "drop of a missing database"
contains "$OUT" "does not exist" "drop of a missing database says so"
if [ "$ENGINE" = postgres ]; then
    eq "$(pg_db_exists "$NAME")" "0" "database gone"

    # names that need quoting; locale options
    QNAME="ops \"q\"-$RANDOM"
    DBS+=("$QNAME")
    r --url "$(url_for "ops%20%22q%22-${QNAME##*-}")" create --locale C.UTF-8
    expect_rc 0 "create a name with a quote and a space"
    eq "$(psql -X -A -t -d postgres -c "SELECT datcollate || '/' || datctype FROM pg_database WHERE datname = \$\$$QNAME\$\$")" \
        "C.UTF-8/C.UTF-8" "--locale sets collate and ctype"
    r --url "$(url_for "ops%20%22q%22-${QNAME##*-}")" drop
    expect_rc 0 "drop the quoted name"
    eq "$(psql -X -A -t -d postgres -c "SELECT count(*) FROM pg_database WHERE datname = \$\$$QNAME\$\$")" "0" \
        "quoted name dropped"
    BAD="ops_bad_$RANDOM"
    DBS+=("$BAD")
    r --url "$(url_for "$BAD")" create --locale xx_NOPE.UTF-8
    expect_rc 1 "create with an unknown locale"
    contains "$ERR" "DB_ERROR" "unknown locale: code"
    contains "$ERR" "hint: pick a UTF-8 locale the server has: " "unknown locale: hint"
    loc=$(psql -X -A -t -d postgres -c "SELECT min(collcollate) FROM pg_collation WHERE collprovider = 'c' AND collencoding IN (-1, 6) AND collcollate ~* 'utf-?8'")
    contains "$ERR" "$loc" "unknown locale: the hint names a locale the server has"
    lacks "$(printf '%s\n' "$ERR" | grep '^hint:')" "xx_NOPE" "unknown locale: the failed one is not suggested"
    r --url "postgresql://$PGUSER:$PGPASSWORD@${PGHOST:-localhost}:$PGPORT" create
    expect_rc 2 "create without a database name"
    contains "$ERR" "names no database" "create without a database name: message"

    # replicas that each "create the database if missing" at once: every
    # one exits 0 and exactly one created it (the losers of the server's
    # race fail on pg_database's name index, 23505, or with 42P04)
    lost=0 made=0
    for round in 1 2 3 4 5 6 7 8; do
        RACE="ops_race_${round}_$RANDOM"
        DBS+=("$RACE")
        pids=()
        for j in 1 2 3 4 5 6; do
            "$STRATA" --url "$(url_for "$RACE")" --json create >"$WORK/race.$j" 2>>"$WORK/race.err" &
            pids+=($!)
        done
        for pid in "${pids[@]}"; do wait "$pid" || lost=$((lost + 1)); done
        made=$((made + $(cat "$WORK"/race.* | grep -c '"created": true')))
        dropdb --if-exists "$RACE" 2>/dev/null
    done
    eq "$lost" "0" "6 creates of one database at once, 8 rounds: $(head -1 "$WORK/race.err" 2>/dev/null)"
    eq "$made" "8" "exactly one create per round says it created the database"
    # and drops at once: all exit 0, and no server NOTICE reaches stderr (the
    # library never prints; libpq's default printed "does not exist, skipping")
    RACE="ops_race_d_$RANDOM"
    DBS+=("$RACE")
    createdb "$RACE"
    : >"$WORK/race.err"
    pids=()
    rm -f "$WORK"/drace.*
    for j in 1 2 3 4 5 6; do
        "$STRATA" --url "$(url_for "$RACE")" --json drop >"$WORK/drace.$j" 2>>"$WORK/race.err" &
        pids+=($!)
    done
    lost=0
    for pid in "${pids[@]}"; do wait "$pid" || lost=$((lost + 1)); done
    eq "$lost" "0" "6 drops of one database at once"
    eq "$(cat "$WORK/race.err")" "" "no server notice on stderr"
    eq "$(pg_db_exists "$RACE")" "0" "dropped"
    eq "$(cat "$WORK"/drace.* | grep -c '"dropped": true')" "1" "exactly one drop says it dropped the database"

    # drop while another session is connected: a clear error naming it
    BUSY="ops_busy_$RANDOM"
    DBS+=("$BUSY")
    createdb "$BUSY"
    psql -X -q -d "$BUSY" -c "SELECT pg_sleep(60)" >/dev/null 2>&1 &
    SLEEPER=$!
    for _ in $(seq 50); do
        [ "$(psql -X -A -t -d postgres -c "SELECT count(*) FROM pg_stat_activity WHERE datname = '$BUSY' AND backend_type = 'client backend'")" = 1 ] && break
        sleep 0.1
    done
    # the sleeper's session (an autovacuum worker may visit the new database too)
    SPID=$(psql -X -A -t -d postgres -c "SELECT pid FROM pg_stat_activity WHERE datname = '$BUSY' AND backend_type = 'client backend'")
    r --url "$(url_for "$BUSY")" drop
    expect_rc 1 "drop with an open session"
    contains "$ERR" "DATABASE_IN_USE" "drop with an open session: code"
    contains "$ERR" "pid $SPID" "drop names the open session"
    contains "$ERR" "--force" "drop hints at --force"
    eq "$(pg_db_exists "$BUSY")" "1" "database still there"
    r --url "$(url_for "$BUSY")" drop --force
    expect_rc 0 "drop --force"
    eq "$(pg_db_exists "$BUSY")" "0" "drop --force dropped it"
    kill "$SLEEPER" 2>/dev/null
    wait "$SLEEPER" 2>/dev/null
else
    [ -e "$WORK/$NAME" ] && fail "file still there after drop"
    # drop takes the -wal, -shm and -journal files too
    r --url "$U" create
    touch "$WORK/$NAME-wal" "$WORK/$NAME-shm" "$WORK/$NAME-journal"
    r --url "$U" drop
    expect_rc 0 "drop with side files"
    for s in "" -wal -shm -journal; do
        [ -e "$WORK/$NAME$s" ] && fail "drop left $NAME$s"
    done
    # never removes a file that is not a SQLite database
    echo "precious" >"$WORK/notes.txt"
    r --url "sqlite:///$WORK/notes.txt" drop
    expect_rc 2 "drop of a non-SQLite file"
    eq "$(cat "$WORK/notes.txt")" "precious" "non-SQLite file untouched"
    r --url "sqlite:///$WORK/notes.txt" create
    expect_rc 1 "create over a non-SQLite file"
    r --url "sqlite:///$WORK/no/such/dir/x.db" create
    expect_rc 1 "create in a missing directory"
    contains "$ERR" "directory" "create in a missing directory: hint"
fi

# -------------------------------------------------------------------- wait
new_db
o wait --timeout 5 --json
expect_rc 0 "wait on a running database"
eq "$(json_get "$OUT" 'j["ready"]')" "True" "wait: ready"
eq "$(json_get "$OUT" 'j["attempts"]')" "1" "wait: one attempt"
if [ "$ENGINE" = sqlite ]; then
    # a file up cannot create is not ready (wait said ready, and up failed)
    r --url "sqlite:///$WORK/no/such/dir/app.db" wait
    expect_rc 4 "wait on a SQLite file in a missing directory"
    contains "$ERR" "does not exist" "wait: the missing directory named"
    r --url "sqlite:///$WORK/missing.db?mode=rw" wait
    expect_rc 4 "wait on a missing SQLite file with ?mode=rw"
    r --url "sqlite:///$WORK/missing.db" wait
    expect_rc 0 "wait on a missing SQLite file up would create"
    [ ! -e "$WORK/missing.db" ] || fail "wait created the SQLite file"
fi

t0=$(now_ms)
r --url "postgresql://app:$SECRET_PW@127.0.0.1:1/app" wait --timeout 2
t1=$(now_ms)
expect_rc 4 "wait on a closed port"
contains "$ERR" "WAIT_TIMEOUT" "wait timeout: code"
contains "$ERR" "gave up after 2." "wait timeout: message"
r --url "postgresql://app:$SECRET_PW@127.0.0.1:1/app" wait --timeout 0.5
expect_rc 4 "wait --timeout 0.5"
contains "$ERR" "gave up after 0.5 s" "a short wait is not rounded up"
contains "$ERR" "Connection refused" "wait timeout: last error"
contains "$ERR" "hint:" "wait timeout: hint"
[ $((t1 - t0)) -ge 1900 ] || fail "wait gave up too early ($((t1 - t0)) ms)"
[ $((t1 - t0)) -le 5000 ] || fail "wait overran its timeout ($((t1 - t0)) ms)"
r --json --url "postgresql://app:$SECRET_PW@127.0.0.1:1/app" wait --timeout 0
expect_rc 4 "wait --timeout 0"
eq "$(json_get "$ERR" 'j["code"]')" "WAIT_TIMEOUT" "wait --timeout 0: JSON code"

if [ "$ENGINE" = postgres ]; then
    # sslmode=require against a server without SSL: a settled answer, not a
    # server on its way up -- neither wait nor up retries it
    if [ "$(psql -X -A -t -d postgres -c "SHOW ssl")" = off ]; then
        SSLURL="postgresql://$PGUSER:$PGPASSWORD@${PGHOST:-localhost}:$PGPORT/postgres?sslmode=require"
        t0=$(now_ms)
        r --url "$SSLURL" wait --timeout 20
        t1=$(now_ms)
        expect_rc 4 "wait with sslmode=require on a server without SSL"
        contains "$ERR" "CONNECT_FAILED" "an SSL mismatch is not waited for"
        contains "$ERR" "hint: the server and the sslmode" "an SSL mismatch: hint"
        [ $((t1 - t0)) -le 6000 ] || fail "wait retried an SSL mismatch ($((t1 - t0)) ms)"
        r --url "$SSLURL" --dir "$D" status
        expect_rc 4 "status with sslmode=require on a server without SSL"
    else
        echo "note [$ENGINE] $TEST_NAME: the server has SSL; the sslmode=require mismatch is not tested"
    fi
    # something else listens at the port (a web server): said so, not an
    # SSL problem
    NP=$((40000 + RANDOM % 9000))
    python3 "$(dirname "$0")/notpg.py" "$NP" &
    np=$!
    sleep 0.5
    for sm in prefer disable; do
        r --url "postgresql://u:p@127.0.0.1:$NP/x?sslmode=$sm" --dir "$D" status
        expect_rc 4 "status against a web server (sslmode=$sm)"
        contains "$ERR" "not as PostgreSQL would: check the port" "a web server at the port (sslmode=$sm): hint"
    done
    kill "$np"
    wait "$np" 2>/dev/null
    # a libpq variable with a value libpq refuses: configuration, at once
    PGSSLMODE=bogus r --url "postgresql://$PGUSER:$PGPASSWORD@${PGHOST:-localhost}:$PGPORT/postgres" --dir "$D" status
    expect_rc 2 "PGSSLMODE=bogus"
    contains "$ERR" "CONFIG_ERROR" "PGSSLMODE=bogus: a configuration error"
    contains "$ERR" "PGSSLMODE" "PGSSLMODE=bogus: the hint names the variables"
    # a listener that never answers: PGCONNECT_TIMEOUT (libpq's variable)
    # and --connect-timeout bound the wait
    python3 "$(dirname "$0")/notpg.py" "$NP" silent &
    np=$!
    sleep 0.5
    t0=$(now_ms)
    PGCONNECT_TIMEOUT=2 r --url "postgresql://u:p@127.0.0.1:$NP/x" --dir "$D" status
    t1=$(now_ms)
    expect_rc 4 "status against a silent listener"
    [ $((t1 - t0)) -lt 6000 ] || fail "PGCONNECT_TIMEOUT=2 waited $((t1 - t0)) ms"
    t0=$(now_ms)
    r --url "postgresql://u:p@127.0.0.1:$NP/x" --dir "$D" up --connect-timeout 2
    t1=$(now_ms)
    expect_rc 4 "up --connect-timeout 2 against a silent listener"
    [ $((t1 - t0)) -lt 6000 ] || fail "--connect-timeout 2 waited $((t1 - t0)) ms"
    kill "$np"
    wait "$np" 2>/dev/null
    if ! PGPASSWORD=wrong psql -X -h "${PGHOST:-localhost}" -d postgres -c "SELECT 1" >/dev/null 2>&1; then
        t0=$(now_ms)
        r --url "postgresql://$PGUSER:$SECRET_PW@${PGHOST:-localhost}:$PGPORT/postgres" wait --timeout 20
        t1=$(now_ms)
        expect_rc 4 "wait with a wrong password"
        contains "$ERR" "CONNECT_FAILED" "a wrong password is not waited for"
        contains "$ERR" "password authentication failed" "wrong password: message"
        [ $((t1 - t0)) -le 6000 ] || fail "wait retried a wrong password ($((t1 - t0)) ms)"
    else
        echo "note [$ENGINE] $TEST_NAME: server accepts any password; wrong-password wait not tested"
    fi
    r --url "$(url_for "ops_missing_$RANDOM")" wait --timeout 20
    expect_rc 4 "wait for a database that does not exist"
    contains "$ERR" "CONNECT_FAILED" "a missing database is not waited for"
    contains "$ERR" "strata create" "missing database: hint"
fi

# ----------------------------------------------------------- reset: refusal
for host in 10.255.255.1 db.example.com "[2001:db8::1]"; do
    t0=$(now_ms)
    r --url "postgresql://app:$SECRET_PW@$host:5432/app" --dir "$D" reset
    t1=$(now_ms)
    expect_rc 1 "reset of $host"
    contains "$ERR" "NOT_LOCAL" "reset of $host: code"
    contains "$ERR" "--force" "reset of $host: hint"
    # a connection attempt would take seconds (10.255.255.1 drops packets)
    [ $((t1 - t0)) -le 2000 ] || fail "reset of $host took $((t1 - t0)) ms: it tried to connect"
    r --url "postgresql://app:$SECRET_PW@$host:5432/app" restore "$WORK/none.dump"
    expect_rc 1 "restore into $host"
    contains "$ERR" "NOT_LOCAL" "restore into $host: code"
done
r --url "postgresql://app:$SECRET_PW@localhost:5432/app?hostaddr=10.1.2.3" --dir "$D" reset
expect_rc 1 "hostaddr decides, not host"
r --url "postgresql://app:$SECRET_PW@localhost,db.example.com/app" --dir "$D" reset
expect_rc 1 "every host of a multi-host URL must be local"

# ------------------------------------------------------------ reset: local
new_db
o --dir "$D" up
expect_rc 0 "up before reset"
q "INSERT INTO orders (id, user_id, total, note) VALUES (1, 1, 9.50, 'first')"
q "CREATE TABLE scratch (x integer)"
q "CREATE VIEW scratch_v AS SELECT x FROM scratch"
if [ "$ENGINE" = postgres ]; then
    q "CREATE SEQUENCE loose_seq"
    q "CREATE TYPE mood AS ENUM ('ok')"
    q "CREATE DOMAIN posint AS integer CHECK (VALUE > 0)"
    q "CREATE FUNCTION helper(a integer) RETURNS integer LANGUAGE sql AS 'SELECT a'"
    q "CREATE SCHEMA reporting"
    q "CREATE VIEW reporting.user_emails AS SELECT email FROM users"
    q "CREATE TABLE part (id integer) PARTITION BY RANGE (id)"
    q "CREATE TABLE part1 PARTITION OF part FOR VALUES FROM (0) TO (10)"
    q "CREATE TABLE lonely_part (id integer) PARTITION BY LIST (id)"
    q "ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT SELECT ON TABLES TO PUBLIC"
    q "COMMENT ON SCHEMA public IS 'our public schema'"
    SCHEMA_BEFORE=$(q "SELECT nspowner::regrole || ' ' || coalesce(nspacl::text, '-') || ' ' || obj_description(oid, 'pg_namespace') FROM pg_namespace WHERE nspname = 'public'")
    DEFACL_BEFORE=$(q "SELECT defaclrole::regrole || ' ' || defaclobjtype::text || ' ' || defaclacl::text FROM pg_default_acl ORDER BY 1")
    [ -n "$DEFACL_BEFORE" ] || fail "no default privileges to test with"
else
    q "CREATE INDEX scratch_x ON scratch (x)"
    q "CREATE TRIGGER scratch_t AFTER INSERT ON scratch BEGIN SELECT 1; END"
    q "PRAGMA user_version = 7"
fi
o --dir "$D" reset
expect_rc 0 "reset a local database"
[ "$ENGINE" = postgres ] && { printf '%s\n' "$ERR" | grep -qE 'table +public\.part$' || fail "reset lists the partitioned table"; }
for obj in scratch scratch_v orders users strata_migrations; do
    contains "$ERR" "$obj" "reset lists $obj before dropping"
done
[ "$ENGINE" = postgres ] && for obj in "sequence" "public.loose_seq" "enum type" "public.mood" "domain" "public.helper(integer)" \
    "reporting.user_emails" "public.part1" "public.lonely_part"; do
    contains "$ERR" "$obj" "reset lists $obj"
done
contains "$OUT" "current: 0003" "reset applied the migrations again"
eq "$(table_exists scratch)" "0" "reset dropped a table no migration made"
eq "$(q 'SELECT count(*) FROM orders')" "0" "reset emptied orders"
eq "$(q 'SELECT note FROM users')" "seeded" "reset re-ran the seed"
o --dir "$D" current
eq "$OUT" "0003" "current after reset"
if [ "$ENGINE" = postgres ]; then
    eq "$(q "SELECT count(*) FROM pg_class WHERE relname IN ('scratch_v', 'loose_seq') OR relname = 'user_emails'")" "0" \
        "views and sequences gone"
    eq "$(q "SELECT count(*) FROM pg_type WHERE typname IN ('mood', 'posint')")" "0" "types gone"
    eq "$(q "SELECT count(*) FROM pg_namespace WHERE nspname = 'reporting'")" "1" "other schemas stay"
    eq "$(q "SELECT nspowner::regrole || ' ' || coalesce(nspacl::text, '-') || ' ' || obj_description(oid, 'pg_namespace') FROM pg_namespace WHERE nspname = 'public'")" \
        "$SCHEMA_BEFORE" "schema owner, privileges and comment restored"
    eq "$(q "SELECT defaclrole::regrole || ' ' || defaclobjtype::text || ' ' || defaclacl::text FROM pg_default_acl ORDER BY 1")" \
        "$DEFACL_BEFORE" "default privileges restored"
    eq "$(q "SELECT order_count()")" "0" "migration functions are back"
else
    eq "$(q "SELECT count(*) FROM sqlite_master WHERE name IN ('scratch_v', 'scratch_x', 'scratch_t')")" "0" \
        "views, indexes, triggers gone"
    eq "$(q 'PRAGMA integrity_check')" "ok" "integrity after reset"
fi
# --json: the list in the document, nothing on stderr but errors
q "CREATE TABLE scratch2 (x integer)"
o --dir "$D" reset --json
expect_rc 0 "reset --json"
eq "$(json_get "$OUT" '"scratch2" in " ".join(d["name"] for d in j["dropped"])')" "True" "JSON lists dropped objects"
eq "$(json_get "$OUT" '[a["version"] for a in j["applied"]]')" "['0001', '0002', '0003']" "JSON lists applied"
eq "$ERR" "" "reset --json prints nothing on stderr"
# broken migrations: nothing is dropped
mig "$D" 0004_broken.sql <<'SQL'
CREATE TABLE nope (x integer);
SQL
q "INSERT INTO orders (id, user_id) VALUES (7, 1)"
o --dir "$D" reset
expect_rc 2 "reset with a broken migration file"
eq "$(q 'SELECT count(*) FROM orders')" "1" "nothing dropped when the migrations cannot run"
rm -f "$D/0004_broken.sql"
# a migration that fails after the drop: --json still gives the document
# (it printed nothing), and the error says the database was reset
mig "$D" 0004_fails.sql <<'SQL'
-- strata:up
CREATE TABLE later (x integer);
SELECT * FROM no_such_table;
-- strata:down
DROP TABLE later;
SQL
o --dir "$D" reset --json
expect_rc 1 "reset whose migration fails"
eq "$(json_get "$OUT" '[a["version"] for a in j["applied"]]')" "['0001', '0002', '0003']" \
    "reset --json after a failure: what was applied"
eq "$(json_get "$OUT" '"orders" in " ".join(d["name"] for d in j["dropped"])')" "True" \
    "reset --json after a failure: what was dropped"
contains "$ERR" "the database was reset" "the error says the database was reset"
rm -f "$D/0004_fails.sql"
o --dir "$D" up

if [ "$ENGINE" = postgres ]; then
    # a migration that makes a schema of its own: reset drops public only,
    # so with that schema standing the up would fail half way -- refused
    # before anything is dropped
    MS=$WORK/madeschema
    mkdir -p "$MS"
    mig "$MS" 0001_s.sql <<'SQL'
-- strata:up
CREATE SCHEMA billing;
CREATE TABLE billing.invoices (id int);
CREATE TABLE customers (id int);
-- strata:down
DROP TABLE customers;
DROP SCHEMA billing CASCADE;
SQL
    KEEP_URL=$URL KEEP_DB=$DBNAME
    new_db
    o --dir "$MS" up
    q "INSERT INTO billing.invoices VALUES (1); INSERT INTO customers VALUES (1)" >/dev/null
    o --dir "$MS" reset
    expect_rc 2 "reset beside a schema a migration makes"
    contains "$ERR" 'migration 0001_s makes schema "billing"' "names the migration and the schema"
    contains "$ERR" "DROP SCHEMA" "the hint says what to drop"
    eq "$(q 'SELECT count(*) FROM customers')" "1" "nothing dropped"
    q "DROP SCHEMA billing CASCADE" >/dev/null
    o --dir "$MS" reset
    expect_rc 0 "reset once that schema is gone"
    eq "$(q 'SELECT count(*) FROM billing.invoices')" "0" "the migration made it again"
    # the schema reset empties is the one a migration makes (search path
    # app, public): it is left dropped for that migration to make again
    TS=$WORK/targetschema
    mkdir -p "$TS"
    mig "$TS" 0001_a.sql <<'SQL'
-- strata:up
CREATE SCHEMA app;
CREATE TABLE app.t (id int);
-- strata:down
DROP SCHEMA app CASCADE;
SQL
    new_db
    AURL="$URL?options=-csearch_path%3Dapp,public"
    raw --url "$AURL" --dir "$TS" up
    expect_rc 0 "up: the migration makes the schema first on the path"
    q "INSERT INTO app.t VALUES (1)" >/dev/null
    raw --url "$AURL" --dir "$TS" reset --yes
    expect_rc 0 "reset of the schema a migration makes"
    eq "$(q 'SELECT count(*) FROM app.t')" "0" "app made again, empty"
    # a migration that drops the schema itself before making it: no refusal
    DS=$WORK/dropfirst
    mkdir -p "$DS"
    mig "$DS" 0001_b.sql <<'SQL'
-- strata:up
DROP SCHEMA IF EXISTS billing CASCADE;
CREATE SCHEMA billing;
CREATE TABLE billing.invoice (i int);
-- strata:down
DROP SCHEMA billing CASCADE;
SQL
    new_db
    o --dir "$DS" up
    q "INSERT INTO billing.invoice VALUES (1)" >/dev/null
    o --dir "$DS" reset --yes
    expect_rc 0 "reset: the migration drops its schema before making it"
    eq "$(q 'SELECT count(*) FROM billing.invoice')" "0" "billing made again, empty"
    # --table app.versions, and a migration making app IF NOT EXISTS: app
    # holds only the version table, which reset drops itself
    VS=$WORK/vtschema
    mkdir -p "$VS"
    mig "$VS" 0001_s.sql <<'SQL'
-- strata:up
CREATE SCHEMA IF NOT EXISTS app;
CREATE TABLE t (id int);
-- strata:down
DROP TABLE t;
SQL
    new_db
    q "CREATE SCHEMA app" >/dev/null
    raw --url "$URL" --dir "$VS" --table app.versions up
    expect_rc 0 "up with the version table in app"
    raw --url "$URL" --dir "$VS" --table app.versions reset --yes
    expect_rc 0 "reset: app holds only the version table"
    URL=$KEEP_URL DBNAME=$KEEP_DB
fi

if [ "$ENGINE" = postgres ]; then
    # reset drops exactly what it listed: a table made between the list and
    # the drop (here while it waits for a running up) stops it, nothing
    # changed (it dropped the table, unlisted, with its rows)
    SL=$WORK/slow
    mkdir -p "$SL"
    cp "$D"/*.sql "$SL"/
    mig "$SL" 0009_slow.sql <<'SQL'
-- strata:up
SELECT pg_sleep(2);
CREATE TABLE slow_made (x integer);
-- strata:down
DROP TABLE slow_made;
SQL
    "$STRATA" --url "$URL" --dir "$SL" up -q >/dev/null 2>&1 &
    upper=$!
    sleep 0.5
    "$STRATA" --url "$URL" --dir "$SL" reset --json >"$WORK/rs.out" 2>"$WORK/rs.err" &
    resetter=$!
    sleep 0.5
    q "CREATE TABLE made_meanwhile (x integer); INSERT INTO made_meanwhile VALUES (1)"
    wait "$upper"
    wait "$resetter"
    eq "$?" 1 "reset after the database changed under it"
    contains "$(cat "$WORK/rs.err")" "RESET_CHANGED" "reset says the database changed"
    eq "$(q 'SELECT count(*) FROM made_meanwhile')" "1" "the table made meanwhile keeps its row"
    eq "$(table_exists slow_made)" "1" "the up that ran meanwhile is intact"
    # a table lock another session holds: LOCK_TIMEOUT after --lock-timeout
    psql -X -q -d "$DBNAME" -c "BEGIN; LOCK TABLE orders IN ACCESS SHARE MODE; SELECT pg_sleep(6); COMMIT" >/dev/null 2>&1 &
    locker=$!
    sleep 0.7
    t0=$(now_ms)
    o --dir "$SL" reset --yes --lock-timeout 1
    t1=$(now_ms)
    expect_rc 4 "reset waiting for a table lock"
    contains "$ERR" "LOCK_TIMEOUT" "reset: a table lock is LOCK_TIMEOUT"
    [ $((t1 - t0)) -lt 4500 ] || fail "reset waited $((t1 - t0)) ms for a table lock (--lock-timeout 1)"
    eq "$(table_exists slow_made)" "1" "nothing dropped after the lock timeout"
    wait "$locker"
fi

# ------------------------------------------------------------------ backup
new_db
o --dir "$D" up
q "INSERT INTO users (id, email, note) VALUES (2, 'o''brien@example.com', NULL), (3, 'ünï@example.com', 'line1
line2; -- not a comment')"
q "INSERT INTO orders (id, user_id, total, note) VALUES (1, 1, 10.00, 'a'), (2, 2, 0.01, NULL), (3, 3, 99999999.99, 'c')"
dump_db >"$WORK/before.sql"
mkdir -p "$WORK/bk"
(umask 000 && cd "$WORK/bk" && "$STRATA" --url "$URL" backup >"$WORK/out" 2>"$WORK/err")
RC=$?
OUT=$(cat "$WORK/out")
ERR=$(cat "$WORK/err")
printf '%s\n%s\n' "$OUT" "$ERR" >>"$ALL"
expect_rc 0 "backup with the default name"
BK=$(ls "$WORK/bk")
case "$BK" in
"${DBNAME:-db}"-[0-9]*T[0-9]*Z.dump | db_*-[0-9]*T[0-9]*Z.sqlite3) ;;
*) fail "default backup name: $BK" ;;
esac
eq "$(stat -c %a "$WORK/bk/$BK")" "600" "backup file mode 0600 even with umask 000"
# two more in the same second take -2, -3 (the second was FILE_EXISTS)
(cd "$WORK/bk" && "$STRATA" --url "$URL" backup -q && "$STRATA" --url "$URL" backup -q) ||
    fail "default-named backups in quick succession"
[ "$(ls "$WORK/bk" | wc -l)" -ge 3 ] || fail "three default-named backups: $(ls "$WORK/bk")"
for f in "$WORK/bk"/*; do [ "$f" = "$WORK/bk/$BK" ] || rm -f "$f"; done
eq "$(ls "$WORK/bk" | wc -l)" "1" "no temporary file left"
# what killed backups left (SIGKILL stops the cleanup) goes with the next
# backup to the same file: a dead process's temporary file (and journal)
# untouched for a minute; a live process's, a fresh one and other files stay
sh -c 'exit 0' &
deadpid=$!
wait "$deadpid"
mkdir -p "$WORK/sweep"
for f in "b.tmp-$deadpid-AbC123" "b.tmp-$deadpid-AbC123-journal" "b.tmp-$$-LiVe12" "b.tmp-$deadpid-FrEsH1" \
    "other.tmp-$deadpid-AbC123" "b.tmp-x" "b.tmp-+$deadpid-AbC123"; do
    head -c 1000 /dev/zero >"$WORK/sweep/$f"
done
touch -d '-2 min' "$WORK/sweep/b.tmp-$deadpid-AbC123" "$WORK/sweep/b.tmp-$deadpid-AbC123-journal" \
    "$WORK/sweep/b.tmp-$$-LiVe12" "$WORK/sweep/other.tmp-$deadpid-AbC123" "$WORK/sweep/b.tmp-+$deadpid-AbC123"
o backup -o "$WORK/sweep/b"
expect_rc 0 "backup beside killed backups' files"
eq "$(ls "$WORK/sweep" | LC_ALL=C sort | tr '\n' ' ')" \
    "$(printf '%s\n' b "b.tmp-$$-LiVe12" "b.tmp-$deadpid-FrEsH1" b.tmp-x "other.tmp-$deadpid-AbC123" "b.tmp-+$deadpid-AbC123" | LC_ALL=C sort | tr '\n' ' ')" \
    "the killed backup's files removed, nothing else"
o backup -o "$WORK/b1" --json
expect_rc 0 "backup -o"
eq "$(json_get "$OUT" 'j["file"]')" "$WORK/b1" "backup JSON names the file"
eq "$(stat -c %a "$WORK/b1")" "600" "backup -o mode 0600"
cp "$WORK/b1" "$WORK/b1.copy"
o backup -o "$WORK/b1"
expect_rc 1 "backup over an existing file"
contains "$ERR" "FILE_EXISTS" "existing file: code"
cmp -s "$WORK/b1" "$WORK/b1.copy" || fail "backup overwrote an existing file"
# PostgreSQL: the database's own settings are not in a pg_dump without
# --create; the backup says so instead of leaving them out unseen
if [ "$ENGINE" = postgres ]; then
    q "ALTER DATABASE \"$DBNAME\" SET statement_timeout = '5s'"
    q "ALTER DATABASE \"$DBNAME\" SET DateStyle = 'SQL, DMY'"
    q "ALTER ROLE $PGUSER IN DATABASE \"$DBNAME\" SET lock_timeout = '3s'"
    o backup -o "$WORK/b_settings"
    expect_rc 0 "backup of a database with settings of its own"
    contains "$ERR" "the database's own settings are not in the backup" "the settings left out are named"
    contains "$ERR" "statement_timeout=5s; DateStyle=SQL, DMY" "with their values, one by one"
    contains "$ERR" "for role $PGUSER: lock_timeout=3s" "a role's settings in this database"
    q "ALTER DATABASE \"$DBNAME\" RESET statement_timeout"
    q "ALTER DATABASE \"$DBNAME\" RESET DateStyle"
    q "ALTER ROLE $PGUSER IN DATABASE \"$DBNAME\" RESET lock_timeout"
    rm -f "$WORK/b_settings"
fi

# -------------------------------------------------- change, then restore
q "UPDATE users SET note = 'changed' WHERE id = 1"
q "DELETE FROM orders WHERE id = 2"
q "INSERT INTO users (id, email) VALUES (99, 'late@example.com')"
o --dir "$D" down
expect_rc 0 "down after the backup"
o restore "$WORK/b1"
expect_rc 0 "restore"
dump_db >"$WORK/after.sql"
if cmp -s "$WORK/before.sql" "$WORK/after.sql"; then :; else
    fail "restore did not give back the original: $(diff "$WORK/before.sql" "$WORK/after.sql" | head -20)"
fi
o --dir "$D" status --json
eq "$(json_get "$OUT" 'j["current"]')" "0003" "version table restored too"
# a file that is not a backup of this engine
echo "not a backup" >"$WORK/junk"
o restore "$WORK/junk"
expect_rc 2 "restore of a file that is not a backup"
o restore "$WORK/missing.dump"
expect_rc 1 "restore of a missing file"

if [ "$ENGINE" = postgres ]; then
    # an application holding a table lock: restore gives up after
    # --lock-timeout (LOCK_TIMEOUT, exit 4), its one transaction rolled back
    q "UPDATE users SET note = 'held' WHERE id = 1"
    psql -X -q -d "$DBNAME" -c "BEGIN; LOCK TABLE users IN ACCESS SHARE MODE; SELECT pg_sleep(8); COMMIT;" >/dev/null 2>&1 &
    holder=$!
    sleep 0.5
    # restore_gives_up WHAT MS: restore --lock-timeout 1 stops within MS ms
    restore_gives_up() {
        local t0 t1
        t0=$(now_ms)
        o --lock-timeout 1 restore "$WORK/b1"
        t1=$(now_ms)
        expect_rc 4 "restore $1, --lock-timeout 1"
        contains "$ERR" "LOCK_TIMEOUT" "restore $1: code"
        [ $((t1 - t0)) -le "$2" ] || fail "restore $1 waited past --lock-timeout ($((t1 - t0)) ms)"
    }
    restore_gives_up "while the application holds a lock" 6000
    kill "$holder" 2>/dev/null
    wait "$holder" 2>/dev/null
    eq "$(q "SELECT note FROM users WHERE id = 1")" "held" "a restore stopped by a lock changed nothing"
    o restore "$WORK/b1"
    expect_rc 0 "restore once the lock is gone"

    # restore during an up: it waits for the migration lock, so the up
    # finishes and the backup then replaces it whole (it cut into the up,
    # which went on applying its plan over the restored database: 0004
    # missing from the version table under 0005, both tables there)
    SLOW=$WORK/restore_during_up
    mkdir -p "$SLOW"
    cp "$D"/*.sql "$SLOW/"
    for v in 4 5; do
        printf -- '-- strata:up\nCREATE TABLE slow%s (id int);\nSELECT pg_sleep(1.5);\n-- strata:down\nDROP TABLE slow%s;\n' \
            "$v" "$v" >"$SLOW/000${v}_slow.sql"
    done
    "$STRATA" --url "$URL" --dir "$SLOW" up >"$WORK/up.out" 2>"$WORK/up.err" &
    upper=$!
    sleep 0.8
    o restore "$WORK/b1"
    expect_rc 0 "restore during an up"
    wait "$upper"
    eq "$?" "0" "the up beside the restore ($(cat "$WORK/up.err"))"
    contains "$ERR" "waiting for another strata process" "the restore said it waited for the migration lock"
    eq "$(q "SELECT string_agg(version, ',' ORDER BY version) FROM strata_migrations")" "0001,0002,0003" \
        "the restore came after the up: the backup's versions"
    contains "$(cat "$WORK/up.out")" "applied 0005_slow" "the up applied its plan first"
    # (pg_restore --clean replaces what the backup holds; tables made after
    # it stay: docs/operations.md)
    q "DROP TABLE slow4, slow5"
    "$STRATA" --url "$URL" --dir "$SLOW" up >"$WORK/up.out" 2>"$WORK/up.err" &
    upper=$!
    sleep 0.8
    restore_gives_up "during an up" 2500
    wait "$upper"
    eq "$?" "0" "the up the restore gave way to ($(cat "$WORK/up.err"))"
    eq "$(q "SELECT string_agg(version, ',' ORDER BY version) FROM strata_migrations")" "0001,0002,0003,0004,0005" \
        "a restore that gave up changed nothing"
    o restore "$WORK/b1"
    expect_rc 0 "restore after the up"

    # restore into a fresh database gives the same thing
    FRESH="ops_fresh_$RANDOM"
    DBS+=("$FRESH")
    r --url "$(url_for "$FRESH")" create
    r --url "$(url_for "$FRESH")" restore "$WORK/b1"
    expect_rc 0 "restore into a new database"
    DBNAME=$FRESH dump_db >"$WORK/fresh.sql"
    cmp -s "$WORK/before.sql" "$WORK/fresh.sql" || fail "restore into a new database differs"

    # pg_dump missing: a clear error, no file
    PATH=/nonexistent "$STRATA" --url "$URL" backup -o "$WORK/nodump" >"$WORK/out" 2>"$WORK/err"
    RC=$?
    ERR=$(cat "$WORK/err")
    printf '%s\n' "$ERR" >>"$ALL"
    expect_rc 2 "backup without pg_dump"
    contains "$ERR" "TOOL_MISSING" "pg_dump missing: code"
    contains "$ERR" "pg_dump not found" "pg_dump missing: message"
    contains "$ERR" "postgresql-client" "pg_dump missing: hint names the package"
    [ -e "$WORK/nodump" ] && fail "pg_dump missing left a file"
    PATH=/nonexistent "$STRATA" --url "$URL" restore "$WORK/b1" >/dev/null 2>"$WORK/err"
    RC=$?
    expect_rc 2 "restore without pg_restore"
    contains "$(cat "$WORK/err")" "pg_restore not found" "pg_restore missing: message"

    # a fake pg_dump: too old; and what a real one gets (argv, environment)
    FAKE=$WORK/fakebin
    mkdir -p "$FAKE"
    cat >"$FAKE/pg_dump" <<EOF
#!/bin/sh
if [ "\$1" = "--version" ]; then echo "pg_dump (PostgreSQL) \${FAKE_VERSION:-9.6.24}"; exit 0; fi
printf '%s\n' "\$@" >"$WORK/fake_argv"
printf '%s' "\$PGPASSWORD" >"$WORK/fake_pw"
printf 'PGDMP'
EOF
    chmod +x "$FAKE/pg_dump"
    PATH="$FAKE:$PATH" "$STRATA" --url "$URL" backup -o "$WORK/old" >"$WORK/out" 2>"$WORK/err"
    RC=$?
    ERR=$(cat "$WORK/err")
    printf '%s\n' "$ERR" >>"$ALL"
    expect_rc 2 "pg_dump older than the server"
    contains "$ERR" "TOOL_TOO_OLD" "old pg_dump: code"
    contains "$ERR" "9.6" "old pg_dump: its version"
    contains "$ERR" "15" "old pg_dump: the server's version"
    [ -e "$WORK/old" ] && fail "old pg_dump left a file"
    FAKE_VERSION=99.1 PATH="$FAKE:$PATH" "$STRATA" --url "$URL" backup -o "$WORK/fake" >/dev/null 2>"$WORK/err"
    RC=$?
    expect_rc 0 "backup through the fake pg_dump"
    lacks "$(cat "$WORK/fake_argv")" "$PGPASSWORD" "pg_dump's argv has no password"
    contains "$(cat "$WORK/fake_argv")" "dbname='$DBNAME'" "pg_dump gets the database"
    contains "$(cat "$WORK/fake_argv")" "--format=custom" "pg_dump custom format"
    eq "$(cat "$WORK/fake_pw")" "$PGPASSWORD" "pg_dump gets the password in PGPASSWORD"
    eq "$(cat "$WORK/fake")" "PGDMP" "pg_dump's stdout is the file"
    # a failing pg_dump: its message, no file
    printf '#!/bin/sh\n[ "$1" = --version ] && { echo "pg_dump (PostgreSQL) 99.0"; exit 0; }\necho "pg_dump: error: boom" >&2\nexit 1\n' >"$FAKE/pg_dump"
    PATH="$FAKE:$PATH" "$STRATA" --url "$URL" backup -o "$WORK/failed" >/dev/null 2>"$WORK/err"
    RC=$?
    expect_rc 1 "failing pg_dump"
    contains "$(cat "$WORK/err")" "pg_dump: error: boom" "failing pg_dump: its message"
    [ -e "$WORK/failed" ] && fail "failing pg_dump left a file"
    ls "$WORK" | grep -q '\.tmp-' && fail "failing pg_dump left a temporary file"
else
    # a backup is a SQLite database of its own
    eq "$(sqlite3 "$WORK/b1" 'SELECT count(*) FROM users')" "3" "SQLite backup readable"

    # a consistent backup while another process writes: every transaction
    # adds one row to each of two tables, so both always have as many rows
    new_db
    sqlite3 "$DBFILE" "CREATE TABLE a (id integer PRIMARY KEY, v text); CREATE TABLE b (id integer PRIMARY KEY, v text)"
    # the writer writes until it is told to stop: a loaded machine cannot
    # make it finish (or a fast one run out of work) before two backups ran
    (
        echo ".timeout 20000"
        while [ ! -e "$WORK/writer.stop" ]; do
            echo "BEGIN IMMEDIATE; INSERT INTO a (v) VALUES (hex(randomblob(200))); INSERT INTO b (v) VALUES (hex(randomblob(200))); COMMIT;"
        done
    ) | sqlite3 "$DBFILE" >/dev/null 2>"$WORK/writer.err" &
    WRITER=$!
    for _ in $(seq 200); do
        [ "$(sqlite3 -cmd '.timeout 5000' "$DBFILE" 'SELECT count(*) FROM a' 2>/dev/null)" -gt 0 ] 2>/dev/null && break
        sleep 0.05
    done
    n=0
    while kill -0 "$WRITER" 2>/dev/null && [ $n -lt 5 ]; do
        n=$((n + 1))
        o backup -o "$WORK/live$n"
        expect_rc 0 "backup while writing ($n)"
        eq "$(sqlite3 "$WORK/live$n" 'PRAGMA integrity_check')" "ok" "live backup $n: integrity"
        eq "$(sqlite3 "$WORK/live$n" 'SELECT (SELECT count(*) FROM a) = (SELECT count(*) FROM b)')" "1" \
            "live backup $n: a consistent snapshot"
        sleep 0.2
    done
    # enough backups taken while it wrote: stop the writer
    kill -0 "$WRITER" 2>/dev/null || n=$((n - 1))
    touch "$WORK/writer.stop"
    kill "$WRITER" 2>/dev/null
    wait "$WRITER" 2>/dev/null
    [ $n -ge 2 ] || fail "the writer ended before two backups ran ($n): $(cat "$WORK/writer.err")"
    eq "$(cat "$WORK/writer.err")" "" "the writer saw no errors"
    [ "$(sqlite3 "$WORK/live1" 'SELECT count(*) FROM a')" -gt 0 ] || fail "live backup caught no rows"

    # restore while nobody writes: the whole database is replaced
    o restore "$WORK/live1"
    expect_rc 0 "restore a live backup"
    eq "$(q 'SELECT count(*) FROM a')" "$(sqlite3 "$WORK/live1" 'SELECT count(*) FROM a')" "restored row count"
    o restore "$WORK/no-such-file"
    expect_rc 1 "restore from a missing file"
fi

# ------------------------------------------- reset and restore as an owner
if [ "$ENGINE" = postgres ]; then
    # a role that owns its database but is no superuser, with a password
    # that needs URL encoding; and a version table in another schema
    ROLE="ops_owner_$RANDOM"
    RPW="p@ss:w/rd%20 'q#?&x-$SECRET_PW"
    psql -X -q -d postgres -c "CREATE ROLE $ROLE LOGIN PASSWORD '${RPW//\'/\'\'}'"
    OWNED="ops_owned_$RANDOM"
    DBS+=("$OWNED")
    createdb -O "$ROLE" "$OWNED"
    ENC=$(python3 -c 'import sys, urllib.parse; print(urllib.parse.quote(sys.argv[1], safe=""))' "$RPW")
    RURL="postgresql://$ROLE:$ENC@${PGHOST:-localhost}:$PGPORT/$OWNED"
    r --url "$RURL" --dir "$D" up
    expect_rc 0 "up as the database owner"
    psql -X -q -d "$OWNED" -c "SET ROLE $ROLE; ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT SELECT ON TABLES TO PUBLIC; CREATE TABLE extra (x int)"
    BEFORE=$(psql -X -A -t -d "$OWNED" -c "SELECT nspowner::regrole || ' ' || nspacl::text FROM pg_namespace WHERE nspname = 'public'; SELECT defaclrole::regrole || ' ' || defaclacl::text FROM pg_default_acl")
    r --url "$RURL" --dir "$D" reset
    expect_rc 0 "reset as the database owner (no superuser)"
    eq "$(psql -X -A -t -d "$OWNED" -c "SELECT nspowner::regrole || ' ' || nspacl::text FROM pg_namespace WHERE nspname = 'public'; SELECT defaclrole::regrole || ' ' || defaclacl::text FROM pg_default_acl")" \
        "$BEFORE" "owner reset keeps the schema's owner and privileges"
    eq "$(psql -X -A -t -d "$OWNED" -c "SELECT count(*) FROM pg_tables WHERE tablename = 'extra'")" "0" "owner reset dropped"
    psql -X -q -d "$OWNED" -c "INSERT INTO orders (id, user_id, total) VALUES (5, 1, 1.25)"
    r --url "$RURL" backup -o "$WORK/owned.dump"
    expect_rc 0 "backup with a password that needs encoding"
    psql -X -q -d "$OWNED" -c "DELETE FROM orders"
    r --url "$RURL" restore "$WORK/owned.dump"
    expect_rc 0 "restore as the database owner"
    eq "$(psql -X -A -t -d "$OWNED" -c "SELECT total FROM orders")" "1.25" "restored as the owner"
    r --url "$RURL" restore "$WORK/owned.dump" --no-owner
    expect_rc 0 "restore --no-owner"
    # another owner's backup: into this role's own database the owners
    # cannot be given back (--no-owner is the way, and the hint says so);
    # over tables another user owns, only that owner may drop them
    # (--no-owner would not help, and the hint does not offer it)
    SU_DB="ops_su_$RANDOM"
    DBS+=("$SU_DB")
    createdb "$SU_DB"
    psql -X -q -d "$SU_DB" -c "CREATE TABLE su_t (id int PRIMARY KEY); INSERT INTO su_t VALUES (7)"
    r --url "postgresql://$PGUSER:$PGPASSWORD@${PGHOST:-localhost}:$PGPORT/$SU_DB" backup -o "$WORK/su.dump"
    expect_rc 0 "backup of a superuser's database"
    r --url "$RURL" restore "$WORK/su.dump"
    expect_rc 1 "restore of another owner's backup"
    contains "$ERR" "--no-owner makes this user own everything" "the hint offers --no-owner"
    r --url "$RURL" restore "$WORK/su.dump" --no-owner
    expect_rc 0 "restore --no-owner of another owner's backup"
    eq "$(psql -X -A -t -d "$OWNED" -c "SELECT pg_get_userbyid(relowner) || ' ' || (SELECT id FROM su_t) FROM pg_class WHERE relname = 'su_t'")" \
        "$ROLE 7" "--no-owner: the restoring role owns the table"
    r --url "postgresql://$ROLE:$ENC@${PGHOST:-localhost}:$PGPORT/$SU_DB" restore "$WORK/su.dump" --no-owner --force
    expect_rc 1 "restore over tables another user owns"
    contains "$ERR" "only their owner (or a superuser) may drop them" "the hint names the owner"
    lacks "$ERR" "--no-owner makes" "no --no-owner hint where it cannot help"
    lacks "$(cat "$ALL")" "$RPW" "the owner's password in some output"
    lacks "$(cat "$ALL")" "$ENC" "the owner's encoded password in some output"
    r --url "$RURL" drop
    expect_rc 0 "the owner drops its database"

    new_db
    q "CREATE SCHEMA audit"
    o --dir "$D" --table audit.versions up
    expect_rc 0 "up with the version table in another schema"
    q "INSERT INTO orders (id, user_id) VALUES (1, 1)"
    o --dir "$D" --table audit.versions reset
    expect_rc 0 "reset with the version table in another schema"
    contains "$ERR" "audit.versions" "reset lists the version table of the other schema"
    eq "$(q 'SELECT count(*) FROM orders')" "0" "migrations ran again"
    eq "$(q 'SELECT count(*) FROM audit.versions')" "3" "version table rebuilt"
fi

# -------------------------------------------------------------- help, tty
for c in create drop wait reset backup restore; do
    raw "$c" --help
    expect_rc 0 "$c --help"
    contains "$OUT" "usage: strata $c" "$c --help prints usage"
    raw help "$c"
    eq "$OUT" "$(cat "$WORK/out")" "help $c"
done
raw --help
for c in create drop wait reset backup restore; do
    contains "$OUT" "  $c " "strata --help lists $c"
done
if [ "$ENGINE" = sqlite ] && command -v script >/dev/null; then
    new_db
    o --dir "$D" up
    printf 'n\n' | script -qec "'$STRATA' --url '$URL' --dir '$D' reset" /dev/null >"$WORK/tty.out" 2>&1
    RC=$?
    expect_rc 1 "reset answered no on a terminal"
    contains "$(cat "$WORK/tty.out")" "[y/N]" "reset asks on a terminal"
    eq "$(table_exists users)" "1" "no answer, nothing dropped"
    printf 'y\n' | script -qec "'$STRATA' --url '$URL' --dir '$D' reset" /dev/null >"$WORK/tty.out" 2>&1
    RC=$?
    expect_rc 0 "reset answered yes on a terminal"
    script -qec "'$STRATA' --url '$URL' --dir '$D' reset --yes" /dev/null </dev/null >"$WORK/tty.out" 2>&1
    RC=$?
    expect_rc 0 "reset --yes does not ask"
    lacks "$(cat "$WORK/tty.out")" "[y/N]" "reset --yes does not ask"
fi

# ------------------------------------------------- wait for a late server
if [ "$ENGINE" = postgres ]; then
    CLUSTER=$(pg_lsclusters -h 2>/dev/null | awk -v p="$PGPORT" '$3 == p {print $1 " " $2}')
    if [ -n "$CLUSTER" ] && command -v pg_ctlcluster >/dev/null; then
        # shellcheck disable=SC2086
        pg_ctlcluster $CLUSTER stop -m fast
        t0=$(now_ms)
        "$STRATA" --url "$URL" wait --timeout 30 -v >"$WORK/wait.out" 2>"$WORK/wait.err" &
        WAITER=$!
        sleep 2
        # shellcheck disable=SC2086
        pg_ctlcluster $CLUSTER start
        wait "$WAITER"
        RC=$?
        t1=$(now_ms)
        OUT=$(cat "$WORK/wait.out")
        ERR=$(cat "$WORK/wait.err")
        printf '%s\n%s\n' "$OUT" "$ERR" >>"$ALL"
        expect_rc 0 "wait for a server that starts late"
        contains "$ERR" "not ready" "wait -v reports the failed tries"
        [ $((t1 - t0)) -ge 2000 ] || fail "wait returned before the server started ($((t1 - t0)) ms)"
        N=$(echo "$OUT" | sed -n 's/.*(\([0-9]*\) attempts.*/\1/p')
        [ "${N:-0}" -ge 3 ] || fail "wait should have tried several times: $OUT"
        pg_isready -q || fail "server not back after the late-start test"
    else
        echo "note [$ENGINE] $TEST_NAME: no pg_ctlcluster for this server; late-start wait not tested"
    fi
fi

# ----------------------------------------------------- never a password
[ -n "${ROLE:-}" ] && psql -X -q -d postgres -c "DROP ROLE IF EXISTS $ROLE" >/dev/null 2>&1
if [ "$ENGINE" = postgres ]; then
    lacks "$(cat "$ALL")" "$PGPASSWORD" "the server password in some output"
fi
lacks "$(cat "$ALL")" "$SECRET_PW" "a URL password in some output"

finish
