#!/usr/bin/env bash
# strata sql, applied by hand: the script, run with the engine's own client
# (psql -v ON_ERROR_STOP=1 -f, the sqlite3 shell as it comes), leaves a
# database exactly where up/down leaves it -- the same schema, data and
# version-table rows, so that status and validate are clean and up is a
# no-op -- and it never half-applies or applies twice: a failure, a second
# run, a run on a database that is not where the script starts, or a run
# next to strata up stops loudly with every migration whole or not at all.
. "$(dirname "$0")/lib.sh"

EX=$(cd "$(dirname "$0")/../../examples" && pwd)
TABLE=strata_migrations

# apply FILE: runs the script on the current database with the engine's
# client; sets RC and OUT (stdout and stderr)
apply() {
    if [ "$ENGINE" = postgres ]; then
        psql -X -q -v ON_ERROR_STOP=1 -d "$DBNAME" -f "$1" >"$WORK/apply.out" 2>&1
    else
        sqlite3 "$DBFILE" <"$1" >"$WORK/apply.out" 2>&1
    fi
    RC=$?
    OUT=$(cat "$WORK/apply.out")
}

# write_script FILE DIR ARGS...: the script of `strata --dir DIR sql ARGS`
# into FILE (RC is strata's)
write_script() {
    local file=$1 dir=$2
    shift 2
    raw --dir "$dir" sql "$@"
    printf '%s\n' "$OUT" >"$file"
}

# vq SQL: like q, with the version table's name in place of @T
vq() {
    local t=${TABLE//\"/\"\"}
    q "${1//@T/\"$t\"}"
}

# snapshot FILE: the schema, the data (times masked) and the version rows
# (every column but applied_at and duration_ms, which are the clock's)
snapshot() {
    {
        if [ "$ENGINE" = postgres ]; then
            pg_dump --schema-only -d "$DBNAME" | grep -v -E '^--|^\\(un)?restrict'
            pg_dump --data-only -d "$DBNAME" --exclude-table="\"$TABLE\"" 2>/dev/null |
                grep -v -E '^--|^\\(un)?restrict'
        else
            sqlite3 "$DBFILE" .schema
            sqlite3 "$DBFILE" .dump | grep '^INSERT' | grep -v "^INSERT INTO \"\?$TABLE"
        fi
        vq "SELECT version, name, checksum, state, coalesce(error, '-'), coalesce(up_checksum, '-'),
                   coalesce(note, '-'), applied_at IS NOT NULL, duration_ms >= 0 FROM @T ORDER BY version"
    } | sed -E 's/[0-9]{4}-[0-9]{2}-[0-9]{2}[ T][0-9]{2}:[0-9]{2}:[0-9]{2}(\.[0-9]+)?/TS/g' >"$1"
}

# same_as_strata LABEL DIR START STRATA-ARGS -- SQL-ARGS: brings two fresh
# databases to START with strata up, runs 'strata STRATA-ARGS' on one and
# the script of 'strata sql SQL-ARGS' on the other, and compares them; the
# scripted one must then be clean for validate and status and a no-op for up
same_as_strata() {
    local label=$1 dir=$2 start=$3 sargs=() gargs=()
    shift 3
    while [ "$1" != -- ]; do
        sargs+=("$1")
        shift
    done
    shift
    gargs=("$@")
    new_db
    [ "$start" = base ] || st --table "$TABLE" --dir "$dir" up "$start"
    st --table "$TABLE" --dir "$dir" "${sargs[@]}"
    expect_rc 0 "$label: strata ${sargs[*]}"
    snapshot "$WORK/want"
    new_db
    [ "$start" = base ] || st --table "$TABLE" --dir "$dir" up "$start"
    raw --table "$TABLE" --dir "$dir" sql --dialect "$ENGINE" "${gargs[@]}"
    expect_rc 0 "$label: strata sql ${gargs[*]}"
    printf '%s\n' "$OUT" >"$WORK/script.sql"
    apply "$WORK/script.sql"
    expect_rc 0 "$label: applying the script"
    snapshot "$WORK/got"
    if ! diff -u "$WORK/want" "$WORK/got" >"$WORK/diff"; then
        fail "$label: the script's database differs from strata's: $(cat "$WORK/diff")"
    fi
    st --table "$TABLE" --dir "$dir" validate
    expect_rc 0 "$label: validate after the script"
    st --table "$TABLE" --dir "$dir" status --json
    lacks "$OUT" '"failed"' "$label: status after the script"
    lacks "$OUT" '"modified"' "$label: status after the script"
    if [ "${sargs[0]}" = up ]; then
        st --table "$TABLE" --dir "$dir" up --json
        eq "$(json_get "$OUT" 'len(j["applied"])')" "0" "$label: up after the script is a no-op"
    fi
}

# ------------------------------------------------ the example histories
# whole history, a middle version to head, head down to a middle version,
# head down to base (the payments history has dialect sections, dollar-quoted
# functions, triggers, a no-transaction CREATE INDEX CONCURRENTLY and ALTER
# TYPE ... ADD VALUE and a seed row; pos and studying_light verify sections
# and seed rows)
for ex in payments pos studying_light; do
    d=$EX/$ex/migrations
    vs=($(ls "$d" | grep -E '^[0-9]+_.*\.sql$' | sort | cut -d_ -f1))
    mid=${vs[$((${#vs[@]} / 2))]}
    same_as_strata "$ex: base to head" "$d" base up --
    same_as_strata "$ex: $mid to head" "$d" "$mid" up -- --from "$mid"
    same_as_strata "$ex: head down to $mid" "$d" head down "$mid" -- --down --to "$mid"
    same_as_strata "$ex: head down to base" "$d" head down base -- --down
done

# ------------------------- SQLite: foreign keys on, left by a migration
# a no-transaction section that turns foreign keys on (the last step of
# SQLite's table-rebuild recipe) must not make a later rebuild's DROP TABLE
# cascade to child rows -- in the script as in strata up
if [ "$ENGINE" = sqlite ]; then
    F=$WORK/fk/migrations
    mig "$F" 0001_init.sql <<'SQL'
-- strata:up
CREATE TABLE parent (id INTEGER PRIMARY KEY);
CREATE TABLE child (id INTEGER PRIMARY KEY, parent_id INTEGER REFERENCES parent (id) ON DELETE CASCADE);
INSERT INTO parent VALUES (1);
INSERT INTO child VALUES (10, 1);
-- strata:down
DROP TABLE child;
DROP TABLE parent;
SQL
    mig "$F" 0002_fk_on.sql <<'SQL'
-- strata:up no-transaction
PRAGMA foreign_keys = ON;
-- strata:down
SELECT 1;
SQL
    mig "$F" 0003_rebuild.sql <<'SQL'
-- strata:up
CREATE TABLE new_parent (id INTEGER PRIMARY KEY, note TEXT);
INSERT INTO new_parent (id) SELECT id FROM parent;
DROP TABLE parent;
ALTER TABLE new_parent RENAME TO parent;
-- strata:down
SELECT 1;
SQL
    same_as_strata "foreign keys on: base to head" "$F" base up --
    eq "$(q "SELECT count(*) FROM child")" 1 "foreign keys on: the script kept the child row"
fi

# ------------- PostgreSQL: a migration's session-level SET stays in it
# (a pg_dump header's set_config): up resets the session between
# migrations, and so does the script
if [ "$ENGINE" = postgres ]; then
    H=$WORK/hdr/migrations
    mig "$H" 0001_hdr.sql <<'SQL'
-- strata:up
SELECT pg_catalog.set_config('search_path', '', false);
CREATE TABLE public.hdr (a integer);
-- strata:down
SELECT pg_catalog.set_config('search_path', '', false);
DROP TABLE public.hdr;
SQL
    mig "$H" 0002_plain.sql <<'SQL'
-- strata:up
CREATE TABLE plain (a integer);
-- strata:down
DROP TABLE plain;
SQL
    same_as_strata "session settings: base to head" "$H" base up --
    same_as_strata "session settings: head to base" "$H" head down base -- --down
fi

# ------------------------------- quotes in paths, names and the table name
# a directory and file names with quotes, a version table named with a
# quote, a dollar-quoted function (a trigger body on SQLite), seed rows with
# quotes, semicolons and comment markers in strings, dialect sections and a
# no-transaction section
Q="$WORK/it's \"quoted\"/migrations"
mig "$Q" "0001_o'brien \"q\".sql" <<'SQL'
-- strata:up
CREATE TABLE "we'ird" (id integer PRIMARY KEY, v text NOT NULL, n integer NOT NULL DEFAULT 0);
INSERT INTO "we'ird" (id, v) VALUES (1, 'it''s; -- not a comment'), (2, '/* nor this */ $$');
-- strata:down
DROP TABLE "we'ird";
SQL
mig "$Q" "0002_fn_\$\$.sql" <<'SQL'
-- strata:up dialect=postgres
CREATE FUNCTION bump() RETURNS trigger LANGUAGE plpgsql AS $body$
BEGIN
    NEW.n := NEW.n + 1; -- a semicolon; and 'quotes'
    RETURN NEW;
END;
$body$;
CREATE TRIGGER trg_bump BEFORE UPDATE ON "we'ird" FOR EACH ROW EXECUTE FUNCTION bump();
-- strata:up dialect=sqlite
CREATE TRIGGER trg_bump AFTER UPDATE OF v ON "we'ird"
BEGIN
    UPDATE "we'ird" SET n = n + 1 WHERE id = NEW.id; -- a semicolon; and 'quotes'
END;
-- strata:down dialect=postgres
DROP TRIGGER trg_bump ON "we'ird";
DROP FUNCTION bump();
-- strata:down dialect=sqlite
DROP TRIGGER trg_bump;
SQL
if [ "$ENGINE" = postgres ]; then
    mig "$Q" "0003_index.sql" <<'SQL'
-- strata:up no-transaction
CREATE INDEX CONCURRENTLY ix_weird_v ON "we'ird" (v);
-- strata:down no-transaction
DROP INDEX CONCURRENTLY ix_weird_v;
SQL
else
    mig "$Q" "0003_index.sql" <<'SQL'
-- strata:up no-transaction
CREATE INDEX ix_weird_v ON "we'ird" (v);
-- strata:down no-transaction
DROP INDEX ix_weird_v;
SQL
fi
mig "$Q" "0004_seed.sql" <<'SQL'
-- strata:up
UPDATE "we'ird" SET v = v || ' (seen)' WHERE id = 2;
INSERT INTO "we'ird" (id, v) VALUES (3, 'back\slash ''single'' "double"');
-- strata:verify
SELECT count(*) = 3 FROM "we'ird";
-- strata:down
DELETE FROM "we'ird" WHERE id = 3;
UPDATE "we'ird" SET v = replace(v, ' (seen)', '') WHERE id = 2;
SQL
TABLE="schema's log"
same_as_strata "quoted: base to head" "$Q" base up --
same_as_strata "quoted: 0002 to head" "$Q" 0002 up -- --from 0002
same_as_strata "quoted: head down to 0001" "$Q" head down 0001 -- --down --to 0001
same_as_strata "quoted: head down to base" "$Q" head down base -- --down
# a script for CREATE INDEX CONCURRENTLY does not wrap it in a transaction
if [ "$ENGINE" = postgres ]; then
    raw --dir "$Q" sql --dialect postgres --from 0002 --to 0003
    contains "$OUT" "-- 0003_index (up, no-transaction)" "no-transaction section named"
    lacks "$(printf '%s\n' "$OUT" | sed -n '/0003_index/,$p' | sed -n '/CONCURRENTLY/q;p')" "BEGIN;" \
        "no BEGIN before CREATE INDEX CONCURRENTLY"
fi
TABLE=strata_migrations

# ----------------------------------------- a failure stops the script
# with the client as it comes (the sqlite3 shell goes on after an error
# unless told otherwise): the failed migration is rolled back whole and
# nothing after it runs
F=$WORK/fail
mig "$F" 0001_a.sql <<'SQL'
-- strata:up
CREATE TABLE a (id integer PRIMARY KEY);
-- strata:down
DROP TABLE a;
SQL
mig "$F" 0002_bad.sql <<'SQL'
-- strata:up
CREATE TABLE half (id integer);
INSERT INTO a VALUES (1);
INSERT INTO no_such_table VALUES (1);
INSERT INTO a VALUES (2);
-- strata:down
DROP TABLE half;
SQL
mig "$F" 0003_c.sql <<'SQL'
-- strata:up
CREATE TABLE c (id integer);
-- strata:down
DROP TABLE c;
SQL
new_db
write_script "$WORK/fail.sql" "$F" --dialect "$ENGINE"
apply "$WORK/fail.sql"
[ "$RC" != 0 ] || fail "a failing script exits 0"
eq "$(table_exists half)" "0" "the failed migration's first statement is rolled back"
eq "$(q 'SELECT count(*) FROM a')" "0" "the failed migration's rows are rolled back"
eq "$(table_exists c)" "0" "nothing after the failed migration runs"
eq "$(applied_versions)" "0001" "only the migration before the failure is recorded"
st --dir "$F" status --json
eq "$(json_get "$OUT" 'j["current"]')" "0001" "status after a failed script"

# ------------------------------------------------------- run it twice
# the second run fails before it changes anything: a no-transaction
# section that is not idempotent, a down that is not idempotent
T2=$WORK/twice
mig "$T2" 0001_log.sql <<'SQL'
-- strata:up
CREATE TABLE log (n integer);
CREATE TABLE counter (n integer);
INSERT INTO counter VALUES (10);
-- strata:down
DROP TABLE counter;
DROP TABLE log;
SQL
mig "$T2" 0002_notx.sql <<'SQL'
-- strata:up no-transaction
INSERT INTO log VALUES (2);
-- strata:down no-transaction
DELETE FROM log WHERE n = 2;
SQL
mig "$T2" 0003_bump.sql <<'SQL'
-- strata:up
UPDATE counter SET n = n + 1;
-- strata:down
UPDATE counter SET n = n - 1;
SQL
new_db
st --dir "$T2" up 0001
write_script "$WORK/up.sql" "$T2" --dialect "$ENGINE" --from 0001
apply "$WORK/up.sql"
expect_rc 0 "up script, first run"
apply "$WORK/up.sql"
[ "$RC" != 0 ] || fail "up script, second run exits 0"
eq "$(q 'SELECT count(*) FROM log')" "1" "second run of a no-transaction insert"
eq "$(q 'SELECT n FROM counter')" "11" "second run of an update"
eq "$(applied_versions | tr '\n' ' ')" "0001 0002 0003 " "second up run: the version rows"
write_script "$WORK/down.sql" "$T2" --dialect "$ENGINE" --down --to 0001
apply "$WORK/down.sql"
expect_rc 0 "down script, first run"
eq "$(q 'SELECT n FROM counter')" "10" "down script reverts the update"
apply "$WORK/down.sql"
[ "$RC" != 0 ] || fail "down script, second run exits 0"
eq "$(q 'SELECT n FROM counter')" "10" "second run of a down that is not idempotent"
eq "$(applied_versions)" "0001" "second down run: the version rows"
# a script that starts from a version the database is not at: refused
# before anything runs (up would otherwise leave a hole below)
new_db
write_script "$WORK/from.sql" "$T2" --dialect "$ENGINE" --from 0002
st --dir "$T2" up 0001
apply "$WORK/from.sql"
[ "$RC" != 0 ] || fail "a script from 0002 on a database at 0001 exits 0"
eq "$(q 'SELECT n FROM counter')" "10" "a script from the wrong version changes nothing"
eq "$(applied_versions)" "0001" "a script from the wrong version records nothing"
# a down script from below head on a database above it: refused before
# anything runs (it would revert 0002 under an applied 0003)
new_db
st --dir "$T2" up
write_script "$WORK/downfrom.sql" "$T2" --dialect "$ENGINE" --down --from 0002 --to base
apply "$WORK/downfrom.sql"
[ "$RC" != 0 ] || fail "a down script from 0002 on a database at 0003 exits 0"
eq "$(q 'SELECT n FROM counter')" "11" "a down script from below head changes nothing"
eq "$(applied_versions | tr '\n' ' ')" "0001 0002 0003 " "a down script from below head keeps the version rows"
st --dir "$T2" down
apply "$WORK/downfrom.sql"
expect_rc 0 "the same down script once the database is at 0002"
eq "$(applied_versions)" "" "the down script from 0002 reverts to base"

# ------------------------------ verify sections are checked as up checks them
V=$WORK/verify
mig "$V" 0001_t.sql <<'SQL'
-- strata:up
CREATE TABLE t (id integer PRIMARY KEY, v integer);
INSERT INTO t VALUES (1, 0);
-- strata:verify
SELECT count(*) = 1 FROM t; -- true
CREATE TEMP TABLE scratch (x integer);
SELECT v + 1 FROM t WHERE id = 1
-- strata:down
DROP TABLE t;
SQL
mig "$V" 0002_false.sql <<'SQL'
-- strata:up
UPDATE t SET v = 5;
-- strata:verify
SELECT v FROM t WHERE id = 1 AND v = 0
-- strata:down
UPDATE t SET v = 0;
SQL
for upto in 0001 0002; do
    new_db
    st --dir "$V" up "$upto"
    rc_up=$RC
    snapshot "$WORK/want"
    new_db
    write_script "$WORK/verify.sql" "$V" --dialect "$ENGINE" --to "$upto"
    apply "$WORK/verify.sql"
    if [ "$rc_up" = 0 ]; then
        expect_rc 0 "a script whose verify queries hold (to $upto)"
    else
        [ "$RC" != 0 ] || fail "a script whose verify query returns no row exits 0 (to $upto)"
        contains "$OUT" "verify query returned false or no rows" "the script names the failed verify (to $upto)"
    fi
    snapshot "$WORK/got"
    diff "$WORK/want" "$WORK/got" >"$WORK/diff" || fail "verify to $upto: the script's database differs from strata's: $(cat "$WORK/diff")"
done
eq "$(q 'SELECT v FROM t')" "0" "a failed verify rolls its migration back"
# first column false, the others true: PostgreSQL checks any query; a SQLite
# query of several columns is printed for reading, with a comment
mig "$V" 0002_false.sql <<'SQL'
-- strata:up
UPDATE t SET v = 5;
-- strata:verify
SELECT v = 0, 1 FROM t
-- strata:down
UPDATE t SET v = 0;
SQL
new_db
st --dir "$V" up 0001
write_script "$WORK/verify2.sql" "$V" --dialect "$ENGINE" --from 0001
apply "$WORK/verify2.sql"
if [ "$ENGINE" = postgres ]; then
    [ "$RC" != 0 ] || fail "a verify query of two columns whose first is false exits 0"
    eq "$(q 'SELECT v FROM t')" "0" "a failed two-column verify rolls its migration back"
else
    expect_rc 0 "a SQLite verify query of two columns is not checked"
    contains "$(cat "$WORK/verify2.sql")" "verify query not checked by this script" \
        "the script says which verify query it cannot check"
fi

# a verify whose value is 10, on a database with standard_conforming_strings
# off: the script's zero pattern lost its backslashes there and read "10" as
# a zero (psql stopped, "verify query returned false"), where up applied it
if [ "$ENGINE" = postgres ]; then
    mig "$WORK/ten" 0001_ten.sql <<'SQL'
-- strata:up
CREATE TABLE ten (x integer);
INSERT INTO ten SELECT generate_series(1, 10);
-- strata:verify
SELECT count(*) FROM ten
SQL
    new_db
    q "ALTER DATABASE $DBNAME SET standard_conforming_strings = off" >/dev/null
    write_script "$WORK/ten.sql" "$WORK/ten" --dialect postgres
    apply "$WORK/ten.sql"
    expect_rc 0 "a verify of 10 under standard_conforming_strings = off"
    eq "$(q 'SELECT count(*) FROM ten')" "10" "the script applied it"
fi

# a no-transaction section that ends inside its own BEGIN: the script stops
# there as up does (its record's COMMIT committed the section's rows)
if [ "$ENGINE" = postgres ]; then
    mig "$WORK/openb" 0001_a.sql <<'SQL'
-- strata:up no-transaction
CREATE TABLE ob (x integer);
BEGIN;
INSERT INTO ob VALUES (1);
SQL
    new_db
    write_script "$WORK/openb.sql" "$WORK/openb" --dialect postgres
    apply "$WORK/openb.sql"
    [ "$RC" != 0 ] || fail "a script whose no-transaction section leaves its BEGIN open exits 0"
    contains "$OUT" "0001_a.sql:3: the no-transaction section ended inside the transaction begun here" \
        "the script names the BEGIN"
    eq "$(q 'SELECT count(*) FROM ob')" "0" "the section's open transaction is not committed"
fi
# SQLite: a .dump that wrote sqlite_schema itself (FTS5), then a migration
# using the table: the script reads the schema again, as up does
if [ "$ENGINE" = sqlite ] && sqlite3 "$WORK/fts.db" "CREATE VIRTUAL TABLE docs USING fts5(t)" 2>/dev/null; then
    mkdir -p "$WORK/ftsg"
    {
        echo '-- strata:up'
        sqlite3 "$WORK/fts.db" .dump | grep -v '^BEGIN TRANSACTION;$\|^COMMIT;$'
    } >"$WORK/ftsg/0001_dump.sql"
    printf -- "-- strata:up\nINSERT INTO docs VALUES ('x');\n" >"$WORK/ftsg/0002_use.sql"
    new_db
    write_script "$WORK/ftsg.sql" "$WORK/ftsg" --dialect sqlite
    apply "$WORK/ftsg.sql"
    expect_rc 0 "the script of a writable_schema .dump and a migration using its table"
    eq "$(q 'SELECT count(*) FROM docs')" "1" "the script's second migration saw the table"
fi

# SQLite: a no-transaction section that ends with PRAGMA query_only = 1: the
# script sets it back before the record, as up does (its record failed,
# "attempt to write a readonly database")
if [ "$ENGINE" = sqlite ]; then
    mig "$WORK/qo" 0001_a.sql <<'SQL'
-- strata:up no-transaction
CREATE TABLE qo (x integer);
PRAGMA query_only = 1;
SQL
    new_db
    write_script "$WORK/qo.sql" "$WORK/qo" --dialect sqlite
    apply "$WORK/qo.sql"
    expect_rc 0 "the script of a section that ends with PRAGMA query_only = 1"
    eq "$(q "SELECT state FROM strata_migrations")" "applied" "the script recorded it applied"
fi

# ------------------------------ a no-transaction section that fails
# leaves the same record as up: status shows it failed, up refuses it
N=$WORK/notx
mig "$N" 0001_t.sql <<'SQL'
-- strata:up
CREATE TABLE t (id integer PRIMARY KEY, v integer);
-- strata:down
DROP TABLE t;
SQL
mig "$N" 0002_notx.sql <<'SQL'
-- strata:up no-transaction
CREATE INDEX t_v_idx ON t (v);
INSERT INTO no_such_table VALUES (1);
-- strata:down no-transaction
DROP INDEX t_v_idx;
SQL
new_db
st --dir "$N" up
expect_rc 1 "strata up of a failing no-transaction section"
snapshot "$WORK/want"
vq "SELECT version, state FROM @T ORDER BY version" >"$WORK/want_rows"
new_db
write_script "$WORK/notx.sql" "$N" --dialect "$ENGINE"
apply "$WORK/notx.sql"
[ "$RC" != 0 ] || fail "a failing no-transaction script exits 0"
vq "SELECT version, state FROM @T ORDER BY version" >"$WORK/got_rows"
eq "$(cat "$WORK/got_rows")" "$(cat "$WORK/want_rows")" "a failed no-transaction section is on record as with up"
st --dir "$N" status --json
eq "$(json_get "$OUT" '[m["state"] for m in j["migrations"]]')" "['applied', 'failed']" \
    "status after a failed no-transaction script"
st --dir "$N" up
expect_rc 1 "up after a failed no-transaction script"
contains "$ERR" "FAILED_MIGRATION" "up after a failed no-transaction script refuses"

# --------------------------------------------- next to a running strata up
# (postgres: one runs while the other holds a migration open) every
# migration runs once; one of the two stops loudly
if [ "$ENGINE" = postgres ]; then
    C=$WORK/conc
    mig "$C" 0001_log.sql <<'SQL'
-- strata:up
CREATE TABLE log (n integer);
-- strata:down
DROP TABLE log;
SQL
    mig "$C" 0002_slow.sql <<'SQL'
-- strata:up
INSERT INTO log VALUES (2);
SELECT pg_sleep(2);
-- strata:down
DELETE FROM log WHERE n = 2;
SQL
    mig "$C" 0003_notx.sql <<'SQL'
-- strata:up no-transaction
INSERT INTO log VALUES (3);
SELECT pg_sleep(2);
-- strata:down no-transaction
DELETE FROM log WHERE n = 3;
SQL
    for first in script strata; do
        for from in 0001 0002; do
            new_db
            st --dir "$C" up 0001
            [ "$from" = 0002 ] && st --dir "$C" up 0002
            write_script "$WORK/conc.sql" "$C" --dialect postgres --from "$from"
            if [ "$first" = script ]; then
                apply "$WORK/conc.sql" &
                sleep 0.5
                st --dir "$C" up
                wait $!
            else
                "$STRATA" --url "$URL" --dir "$C" up >/dev/null 2>&1 &
                sleep 0.5
                apply "$WORK/conc.sql"
                wait $!
            fi
            eq "$(q 'SELECT n FROM log ORDER BY n' | tr '\n' ' ')" "2 3 " \
                "$first first from $from: each migration ran once"
            eq "$(applied_versions | tr '\n' ' ')" "0001 0002 0003 " "$first first from $from: the version rows"
        done
    done
fi

# the dialect comes from the URL as every command resolves it: a URL that is
# required, empty or named by an unset variable is an error (sql printed a
# script for a guessed engine, exit 0)
SQ=$WORK/sqdir
mig "$SQ" 0001_a.sql <<'SQL'
-- strata:up
CREATE TABLE a (x integer);
-- strata:down
DROP TABLE a;
SQL
nourl() { # nourl ARGS...: strata ARGS in $WORK without DATABASE_URL
    (cd "$WORK" && env -u DATABASE_URL "$@" >"$WORK/out" 2>"$WORK/err")
    RC=$?
    OUT=$(cat "$WORK/out")
    ERR=$(cat "$WORK/err")
}
nourl "$STRATA" --dir "$SQ" sql --require-url
expect_rc 2 "sql --require-url without a URL"
contains "$ERR" "DATABASE_URL_REQUIRED" "sql --require-url: code"
contains "$ERR" "--dialect" "sql: the hint names --dialect"
nourl env STRATA_REQUIRE_URL=1 "$STRATA" --dir "$SQ" sql
expect_rc 2 "sql with STRATA_REQUIRE_URL=1 and no URL"
nourl "$STRATA" --dir "$SQ" --url "" sql
expect_rc 2 "sql --url ''"
contains "$ERR" "URL_INVALID" "sql --url '': code"
nourl "$STRATA" --dir "$SQ" --url-env STRATA_NO_SUCH_VAR sql
expect_rc 2 "sql --url-env naming an unset variable"
nourl "$STRATA" --dir "$SQ" sql --require-url --dialect postgres
expect_rc 0 "sql --dialect needs no URL"
contains "$OUT" "ON_ERROR_STOP" "sql --dialect postgres: a psql script"

finish
