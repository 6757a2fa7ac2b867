#!/usr/bin/env bash
# Settings a role or database carries in production (ALTER ROLE/DATABASE ...
# SET), each of which broke strata before:
# - default_transaction_isolation 'repeatable read' behind a pooler: every
#   step longer than the lease's heartbeat failed on its own lease row
#   (40001 at COMMIT, never succeeding); strata's transactions now run at
#   READ COMMITTED whatever the default;
# - serializable + default_transaction_deferrable: every command (status,
#   a no-op up) waited in BEGIN READ ONLY for the application's serializable
#   writers to end;
# - DateStyle, TimeZone, IntervalStyle, bytea_output,
#   standard_conforming_strings: `schema` printed other text (schema --check
#   failed on an unchanged schema) and `diff` wrote literals that mean
#   another value on a database with the defaults (a date default 2024-03-04
#   written '04/03/2024');
# - copy under standard_conforming_strings = off changed a default's and a
#   view's backslashes; under session_replication_role = replica it loaded
#   rows that break a foreign key and said "verified";
# - up under session_replication_role = replica applied a migration that
#   inserts an orphan row (foreign keys and triggers off), exit 0.
. "$(dirname "$0")/lib.sh"
postgres_only

# -------------------------------------------- repeatable read, behind a pooler
D=$WORK/rr
mig "$D" 0001_a.sql <<'SQL'
-- strata:up
CREATE TABLE runs (migration text NOT NULL);
INSERT INTO runs VALUES ('0001');
SQL
mig "$D" 0002_slow.sql <<'SQL'
-- strata:up
SELECT pg_sleep(2);
INSERT INTO runs VALUES ('0002');
SQL
for iso in "repeatable read" serializable; do
    new_db
    q "ALTER DATABASE $DBNAME SET default_transaction_isolation = '$iso'" >/dev/null
    STRATA_ASSUME_POOLER=1 STRATA_LEASE_SECONDS=1 st --dir "$D" up
    expect_rc 0 "$iso, behind a pooler: up with a step longer than the heartbeat"
    eq "$(q "SELECT string_agg(migration, ',' ORDER BY migration) FROM runs")" "0001,0002" "$iso: each ran once"
done

# a waiter behind a pooler under repeatable read: the holder keeps the lease
# row locked through a 3 s COMMIT (a deferred trigger); the waiter's
# attempt met 40001 and failed (now it waits on)
new_db
q "ALTER DATABASE $DBNAME SET default_transaction_isolation = 'repeatable read'" >/dev/null
mig "$WORK/rw" 0001_a.sql <<'SQL'
-- strata:up
CREATE TABLE t (id int);
CREATE FUNCTION slow() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN PERFORM pg_sleep(3); RETURN NULL; END $$;
CREATE CONSTRAINT TRIGGER slow AFTER INSERT ON t DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION slow();
INSERT INTO t VALUES (1);
SQL
STRATA_ASSUME_POOLER=1 "$STRATA" --url "$URL" --dir "$WORK/rw" -q up >"$WORK/w1.out" 2>"$WORK/w1.err" &
w1=$!
sleep 1
STRATA_ASSUME_POOLER=1 "$STRATA" --url "$URL" --dir "$WORK/rw" -q up >"$WORK/w2.out" 2>"$WORK/w2.err" &
w2=$!
wait_all "repeatable read, a waiter behind a pooler: " w "$w1" "$w2"
eq "$(q "SELECT count(*) FROM t")" "1" "repeatable read waiter: applied once"

# SET TRANSACTION not first: the hint says where it goes (it said "put it
# in a no-transaction section", where it does nothing)
new_db
mig "$WORK/stx" 0001_a.sql <<'SQL'
-- strata:up
CREATE TABLE a (id int);
SET TRANSACTION ISOLATION LEVEL SERIALIZABLE;
SQL
st --dir "$WORK/stx" up
expect_rc 1 "SET TRANSACTION not first"
contains "$ERR" "must be the first statement" "SET TRANSACTION not first: the hint"
lacks "$ERR" "no-transaction" "SET TRANSACTION not first: not sent to a no-transaction section"

# ------------------------------------------- serializable + deferrable readers
new_db
D=$WORK/def
mig "$D" 0001_a.sql <<'SQL'
-- strata:up
CREATE TABLE runs (v text);
SQL
st --dir "$D" -q up
expect_rc 0 "deferrable: up"
q "ALTER DATABASE $DBNAME SET default_transaction_isolation = 'serializable'" >/dev/null
q "ALTER DATABASE $DBNAME SET default_transaction_deferrable = on" >/dev/null
psql -X -q -d "$DBNAME" -c "BEGIN" -c "SELECT count(*) FROM runs" -c "INSERT INTO runs VALUES ('app')" \
    -c "SELECT pg_sleep(8)" -c "COMMIT" >/dev/null 2>&1 &
writer=$!
sleep 1
for cmd in status "up --lock-timeout 2" current schema; do
    t0=$(date +%s%N)
    # shellcheck disable=SC2086
    st --dir "$D" $cmd
    t1=$(date +%s%N)
    expect_rc 0 "deferrable: $cmd"
    [ $(((t1 - t0) / 1000000)) -lt 4000 ] ||
        fail "deferrable: $cmd waited $(((t1 - t0) / 1000000)) ms for a serializable writer"
done
wait "$writer"

# ------------------------------------------------------ output settings
new_db
D=$WORK/outs
mig "$D" 0001_t.sql <<'SQL'
-- strata:up
CREATE TABLE ev (id int PRIMARY KEY, starts timestamptz DEFAULT '2024-01-02 03:04:05+00',
  d date DEFAULT '2024-03-04', iv interval DEFAULT '1 day 02:00:00', b bytea DEFAULT '\x00ff',
  p text DEFAULT 'C:\temp');
SQL
st --dir "$D" -q up
expect_rc 0 "output: up"
st --dir "$D" schema -o "$WORK/schema.txt"
expect_rc 0 "output: schema -o"
contains "$(cat "$WORK/schema.txt")" "2024-03-04" "output: the date as ISO"
for set in "TimeZone = 'America/New_York'" "DateStyle = 'SQL, DMY'" "IntervalStyle = 'sql_standard'" \
    "bytea_output = 'escape'" "standard_conforming_strings = off"; do
    q "ALTER DATABASE $DBNAME SET $set" >/dev/null
done
st --dir "$D" schema --check "$WORK/schema.txt"
expect_rc 0 "output: schema --check of an unchanged schema under other DateStyle, TimeZone, ..."
# diff by an author whose role prints dates as 'SQL, DMY' in New York: the
# migration it writes, applied on a database with the defaults, gives the
# values the desired schema says
D2=$WORK/out2
mig "$D2" 0001_t.sql <<'SQL'
-- strata:up
CREATE TABLE ev (id int PRIMARY KEY);
-- strata:down
DROP TABLE ev;
SQL
cat >"$WORK/want.sql" <<'SQL'
CREATE TABLE ev (id int PRIMARY KEY, d date DEFAULT '2024-03-04',
  starts timestamptz DEFAULT '2024-01-02 03:04:05+00');
SQL
author="author_$DBNAME"
q "CREATE ROLE $author LOGIN CREATEDB PASSWORD 'pw'" >/dev/null
q "ALTER ROLE $author SET DateStyle = 'SQL, DMY'" >/dev/null
q "ALTER ROLE $author SET TimeZone = 'America/New_York'" >/dev/null
"$STRATA" --url "postgresql://$author:pw@${PGHOST:-localhost}:$PGPORT/$DBNAME" --dir "$D2" \
    diff --to "$WORK/want.sql" -m next >"$WORK/out" 2>"$WORK/err"
RC=$? OUT=$(cat "$WORK/out") ERR=$(cat "$WORK/err")
expect_rc 0 "output: diff by the author"
new_db
st --dir "$D2" -q up
expect_rc 0 "output: the diff applied on a database with the defaults"
eq "$(q "SELECT (SELECT pg_get_expr(adbin, adrelid) FROM pg_attrdef WHERE adrelid = 'ev'::regclass AND adnum = 2)")" \
    "'2024-03-04'::date" "output: the date default as the desired schema says"
eq "$(q "SET TimeZone = 'UTC'; SELECT (SELECT pg_get_expr(adbin, adrelid) FROM pg_attrdef WHERE adrelid = 'ev'::regclass AND adnum = 3)")" \
    "'2024-01-02 03:04:05+00'::timestamp with time zone" "output: the timestamptz default as the desired schema says"
q "DROP ROLE $author" >/dev/null

# diff between two equal databases as a role with standard_conforming_strings
# off: "no difference" (the pinned read made it DIFF_NOT_PROVEN)
odd="odd_$DBNAME"
q "CREATE ROLE $odd LOGIN CREATEDB PASSWORD 'pw'" >/dev/null
q "ALTER ROLE $odd SET standard_conforming_strings = off" >/dev/null
for side in a b; do
    createdb -O "$odd" "${DBNAME}_$side"
    DBS+=("${DBNAME}_$side")
    PGOPTIONS="-c standard_conforming_strings=on" psql -X -q -d "${DBNAME}_$side" \
        -c "SET ROLE $odd" -c "CREATE TABLE p (id int PRIMARY KEY, dir text DEFAULT 'C:\temp')" >/dev/null
done
ODD="postgresql://$odd:pw@${PGHOST:-localhost}:$PGPORT"
"$STRATA" --url "$ODD/${DBNAME}_a" diff --from-url "$ODD/${DBNAME}_a" --to-url "$ODD/${DBNAME}_b" --print \
    >"$WORK/o" 2>"$WORK/e"
RC=$? OUT=$(cat "$WORK/o") ERR=$(cat "$WORK/e")
expect_rc 0 "diff of equal databases, standard_conforming_strings off"
for side in a b; do dropdb --force "${DBNAME}_$side"; done
q "DROP ROLE $odd" >/dev/null

# ------------------------------------------------------------------- copy
SRC=$WORK/src.db
sqlite3 "$SRC" "CREATE TABLE parent (id INTEGER PRIMARY KEY, name TEXT DEFAULT 'C:\temp\new');
CREATE TABLE child (id INTEGER PRIMARY KEY, pid INTEGER REFERENCES parent (id));
CREATE VIEW v AS SELECT id FROM parent WHERE name = 'C:\temp\new';
INSERT INTO parent (id) VALUES (1); INSERT INTO child VALUES (10, 1), (11, 99);"
new_db
q "ALTER DATABASE $DBNAME SET standard_conforming_strings = off" >/dev/null
raw copy "sqlite:///$SRC" "$URL" --exclude child
expect_rc 0 "copy under standard_conforming_strings = off"
eq "$(q "SELECT count(*) FROM v")" "1" "copy: the view's backslashes kept"
eq "$(psql -X -q -A -t -d "$DBNAME" -c "SET standard_conforming_strings = on" -c "SELECT name FROM parent")" \
    'C:\temp\new' "copy: the row's value"
q "INSERT INTO parent (id) VALUES (2)" >/dev/null
eq "$(psql -X -q -A -t -d "$DBNAME" -c "SET standard_conforming_strings = on" -c "SELECT name FROM parent WHERE id = 2")" \
    'C:\temp\new' "copy: the default's backslashes kept"
new_db
D=$WORK/fk
mig "$D" 0001_init.sql <<'SQL'
-- strata:up
CREATE TABLE parent (id bigint PRIMARY KEY, name text);
CREATE TABLE child (id bigint PRIMARY KEY, pid bigint REFERENCES parent (id));
SQL
st --dir "$D" -q up
q "ALTER DATABASE $DBNAME SET session_replication_role = 'replica'" >/dev/null
raw copy --data-only "sqlite:///$SRC" "$URL"
[ "$RC" != 0 ] || fail "copy --data-only under session_replication_role = replica: exit 0 with an orphan row"
eq "$(q "SELECT count(*) FROM child c WHERE NOT EXISTS (SELECT 1 FROM parent p WHERE p.id = c.pid)")" "0" \
    "copy under session_replication_role = replica: no orphan row loaded"
# up under session_replication_role = replica: a migration's orphan row and
# its own trigger went unchecked, exit 0 (strata check on a plain database
# failed the same migration)
new_db
D=$WORK/srr
mig "$D" 0001_init.sql <<'SQL'
-- strata:up
CREATE TABLE parent (id bigint PRIMARY KEY);
CREATE TABLE child (id bigint PRIMARY KEY, pid bigint REFERENCES parent (id));
SQL
mig "$D" 0002_orphan.sql <<'SQL'
-- strata:up
INSERT INTO child VALUES (1, 42);
SQL
st --dir "$D" -q up 0001
expect_rc 0 "up to 0001"
q "ALTER DATABASE $DBNAME SET session_replication_role = 'replica'" >/dev/null
st --dir "$D" up
expect_rc 2 "up under session_replication_role = replica"
contains "$ERR" "[CONFIG_ERROR]" "up under replica: CONFIG_ERROR"
contains "$ERR" "session_replication_role" "up under replica: names the setting"
eq "$(q "SELECT count(*) FROM child")" "0" "up under replica: no orphan row"
eq "$(q "SELECT count(*) FROM strata_migrations")" "1" "up under replica: 0002 not recorded"
st --dir "$D" status
expect_rc 0 "status under replica still reads"
q "INSERT INTO parent VALUES (7)" >/dev/null
st --dir "$D" reset --force
expect_rc 2 "reset under replica: refused"
eq "$(q "SELECT count(*) FROM parent")" "1" "reset under replica: refused before dropping anything"
q "ALTER DATABASE $DBNAME RESET session_replication_role" >/dev/null
st --dir "$D" up
expect_rc 1 "up after the reset: the orphan row fails as everywhere"
contains "$ERR" "23503" "up after the reset: the foreign key refuses it"
# check under a role whose sessions are replicas: the scratch database's
# session, not the first migration (it said "FAIL 0001 ... up failed", exit 1)
rr="rr_$DBNAME"
q "CREATE ROLE $rr LOGIN CREATEDB PASSWORD 'pw'; ALTER ROLE $rr SET session_replication_role = replica" >/dev/null
raw --url "postgresql://$rr:pw@${PGHOST:-localhost}:$PGPORT/$DBNAME" --dir "$D" check
expect_rc 2 "check under a role with session_replication_role = replica"
contains "$ERR" "session_replication_role" "check under replica: names the setting"
lacks "$OUT" "FAIL" "check under replica: no migration blamed"
eq "$(psql -X -A -t -d postgres -c "SELECT count(*) FROM pg_database WHERE datname LIKE 'strata\_check\_%'")" "0" \
    "check under replica: the scratch database dropped"
q "DROP ROLE $rr" >/dev/null
# a role without CREATE on public (PostgreSQL 15's default): the hint says so
new_db
weak="weak_$DBNAME"
q "CREATE ROLE $weak LOGIN PASSWORD 'pw'" >/dev/null
raw copy "sqlite:///$SRC" "postgresql://$weak:pw@${PGHOST:-localhost}:$PGPORT/$DBNAME"
expect_rc 1 "copy without CREATE on public"
contains "$ERR" "GRANT CREATE ON SCHEMA public" "copy without CREATE on public: the hint"
eq "$(q "SELECT count(*) FROM pg_tables WHERE schemaname = 'public'")" "0" "copy without CREATE: nothing made"
q "DROP ROLE $weak" >/dev/null
# row-level security on a --data-only target: a hint strata's user can take
# (the server's was "Use INSERT statements instead")
new_db
rls="rls_$DBNAME"
q "CREATE TABLE parent (id bigint PRIMARY KEY, name text); ALTER TABLE parent ENABLE ROW LEVEL SECURITY;
   CREATE TABLE child (id bigint PRIMARY KEY, pid bigint); CREATE ROLE $rls LOGIN PASSWORD 'pw';
   GRANT ALL ON parent, child TO $rls; GRANT CREATE ON SCHEMA public TO $rls" >/dev/null
raw copy --data-only "sqlite:///$SRC" "postgresql://$rls:pw@${PGHOST:-localhost}:$PGPORT/$DBNAME"
expect_rc 1 "copy into a table with row-level security"
contains "$ERR" "BYPASSRLS" "row-level security: the hint"
lacks "$ERR" "Use INSERT statements" "row-level security: not the server's hint"
eq "$(q "SELECT count(*) FROM parent")" "0" "row-level security: nothing loaded"
q "DROP OWNED BY $rls; DROP ROLE $rls" >/dev/null
# a SQL_ASCII database whose default holds a byte that is not UTF-8:
# schema failed with the bare 22021, naming nothing
SA="sa_$RANDOM$RANDOM"
createdb -E SQL_ASCII -T template0 --lc-collate=C --lc-ctype=C "$SA" && DBS+=("$SA")
printf "CREATE TABLE t (s text DEFAULT 'caf\xe9');" | psql -X -q -d "$SA"
raw --url "postgresql://$PGUSER:$PGPASSWORD@${PGHOST:-localhost}:$PGPORT/$SA" schema
expect_rc 1 "schema of a SQL_ASCII database with a byte that is not UTF-8"
contains "$ERR" "not UTF-8" "SQL_ASCII: the hint says what is wrong"
finish
