#!/usr/bin/env bash
# strata copy's one schedule: a table's keys and indexes build as soon as its
# rows have committed, while other tables still load -- and the promises hold:
#   1. a copy killed (SIGKILL) while one table's load waits and another
#      table's indexes are already built leaves the waiting table as it was
#      (not reported done), and a rerun finishes everything, verified;
#   2. a table whose after-data fails (its identity cannot be set) stops the
#      run with one error and exit 1, and a rerun after the fix completes.
# PostgreSQL only (copy's target).
. "$(dirname "$0")/lib.sh"
postgres_only

SRC=$WORK/shop.sqlite3
sqlite3 "$SRC" <<'SQL'
CREATE TABLE big (id INTEGER PRIMARY KEY AUTOINCREMENT, v TEXT NOT NULL);
CREATE INDEX ix_big_v ON big (v);
CREATE TABLE small (id INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE);
CREATE INDEX ix_small_name ON small (lower(name));
CREATE TABLE kid (id INTEGER PRIMARY KEY, small_id INTEGER NOT NULL REFERENCES small (id));
CREATE INDEX ix_kid_small ON kid (small_id);
WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < 20000)
INSERT INTO big (v) SELECT 'value ' || x FROM c;
WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < 100)
INSERT INTO small SELECT x, 'Name ' || x FROM c;
WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < 300)
INSERT INTO kid SELECT x, 1 + x % 100 FROM c;
SQL
new_db
pq() { psql -X -q -A -t -v ON_ERROR_STOP=1 -d "$DBNAME" -c "$1"; }
# what the target holds, keys and indexes included
shape() {
    pq "SELECT string_agg(c, ' ' ORDER BY c) FROM (
          SELECT conname || ':' || contype::text || ':' || convalidated::text AS c FROM pg_constraint
           WHERE conrelid IN ('big'::regclass, 'small'::regclass, 'kid'::regclass)
          UNION ALL
          SELECT indexrelid::regclass::text FROM pg_index
           WHERE indrelid IN ('big'::regclass, 'small'::regclass, 'kid'::regclass)) s"
}
want_shape="big_pkey big_pkey:p:true ix_big_v ix_kid_small ix_small_name kid_pkey kid_pkey:p:true kid_small_id_fkey:f:true small_name_key small_name_key:u:true small_pkey small_pkey:p:true"

st copy "sqlite:///$SRC" "$URL"
expect_rc 0 "first copy"
eq "$(shape)" "$want_shape" "first copy: keys, indexes and the foreign key"

# ---------------------------------------------- 1. killed during the overlap
# The source changes in both tables, so the rerun reloads both; two indexes
# of the target are gone. A session holding a lock on "big" keeps big's load
# (its TRUNCATE) waiting: small's load and its indexes go on meanwhile.
sqlite3 "$SRC" "UPDATE big SET v = 'changed' WHERE id = 1; UPDATE small SET name = 'Changed' WHERE id = 1"
pq "DROP INDEX ix_small_name; DROP INDEX ix_big_v"
psql -X -q -d "$DBNAME" -c "BEGIN; LOCK TABLE big IN ACCESS SHARE MODE; SELECT pg_sleep(60)" >/dev/null 2>&1 &
holder=$!
# the lock is held before strata starts
for _ in $(seq 1 200); do
    [ "$(pq "SELECT count(*) FROM pg_locks l JOIN pg_stat_activity a USING (pid)
              WHERE l.relation = 'big'::regclass AND l.granted AND a.query LIKE '%pg_sleep%'")" = 1 ] && break
    sleep 0.05
done
"$STRATA" --url "$URL" -q copy "sqlite:///$SRC" "$URL" >"$WORK/k.out" 2>"$WORK/k.err" &
pid=$!
# until small's index is back while big's load still waits for its lock
seen=$(pq "DO \$\$ BEGIN
     FOR i IN 1..3000 LOOP
       EXIT WHEN to_regclass('ix_small_name') IS NOT NULL AND EXISTS (
         SELECT 1 FROM pg_locks WHERE relation = 'big'::regclass AND NOT granted);
       PERFORM pg_sleep(0.01);
     END LOOP;
   END \$\$; SELECT to_regclass('ix_small_name') IS NOT NULL AND EXISTS (
         SELECT 1 FROM pg_locks WHERE relation = 'big'::regclass AND NOT granted)")
eq "$seen" "t" "small's index is built while big's load still waits"
{ kill -9 "$pid" && wait "$pid"; } 2>/dev/null
kill "$holder" 2>/dev/null
wait "$holder" 2>/dev/null
pq "SELECT pg_terminate_backend(pid) FROM pg_stat_activity
     WHERE datname = current_database() AND pid <> pg_backend_pid() AND backend_type = 'client backend'" >/dev/null
eq "$(pq "SELECT name FROM small WHERE id = 1")" "Changed" "small's rows committed before the kill"
eq "$(pq "SELECT v FROM big WHERE id = 1")" "value 1" "big's load rolled back whole: its old rows"
eq "$(pq "SELECT count(*) FROM big")" "20000" "big: no half-loaded rows"
eq "$(pq "SELECT to_regclass('ix_big_v') IS NULL")" "t" "big's index was not built before its rows"
st copy "sqlite:///$SRC" "$URL" --json
expect_rc 0 "rerun after the kill"
eq "$(json_get "$OUT" '[(t["table"], t["skipped"], t["verified"]) for t in j["tables"]]')" \
    "[('big', False, True), ('kid', True, True), ('small', True, True)]" \
    "rerun: big reloaded, the others verified and skipped"
eq "$(pq "SELECT v FROM big WHERE id = 1")" "changed" "rerun: big holds the source's rows"
eq "$(shape)" "$want_shape" "rerun: every key, index and foreign key"

# ------------------- a foreign key added NOT VALID by a run stopped before validating it
pq "ALTER TABLE kid DROP CONSTRAINT kid_small_id_fkey;
    ALTER TABLE kid ADD CONSTRAINT kid_small_id_fkey FOREIGN KEY (small_id) REFERENCES small (id) NOT VALID"
st copy "sqlite:///$SRC" "$URL" --json
expect_rc 0 "rerun with a foreign key not validated yet"
eq "$(json_get "$OUT" 'j["warnings"]')" "[]" "the foreign key is validated, no warning"
eq "$(shape)" "$want_shape" "rerun: the foreign key validated"

# ------------------------------------ 2. a table's after-data fails: stop, rerun
# someone capped big's identity below its ids: setting it after the load fails
sqlite3 "$SRC" "UPDATE big SET v = 'again' WHERE id = 1"
pq "ALTER TABLE big ALTER COLUMN id SET MAXVALUE 10 RESTART 1"
st copy "sqlite:///$SRC" "$URL" --json
expect_rc 1 "copy whose identity cannot be set"
contains "$ERR" '"code": "DB_ERROR"' "the error is reported"
contains "$ERR" "cannot set a sequence" "the error names the step"
eq "$OUT" "" "no table is reported done by a failed copy"
pq "ALTER TABLE big ALTER COLUMN id SET NO MAXVALUE"
st copy "sqlite:///$SRC" "$URL" --json
expect_rc 0 "rerun after the fix"
eq "$(pq "SELECT v FROM big WHERE id = 1")" "again" "rerun: big holds the source's rows"
eq "$(pq "SELECT nextval(pg_get_serial_sequence('big', 'id'))")" "20001" "rerun: the identity continues after the ids"
eq "$(shape)" "$want_shape" "rerun: every key, index and foreign key"
finish
