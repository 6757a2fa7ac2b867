#!/usr/bin/env bash
# kill -9 in the middle of a migration leaves the database exactly at the
# previous version; the same command then succeeds.
. "$(dirname "$0")/lib.sh"

new_db
D=$WORK/m
mig "$D" 0001_base.sql <<'SQL'
-- strata:up
CREATE TABLE base (id integer PRIMARY KEY);
-- strata:down
DROP TABLE base;
SQL
if [ "$ENGINE" = postgres ]; then
    mig "$D" 0002_slow.sql <<'SQL'
-- strata:up
CREATE TABLE big (id integer PRIMARY KEY, v text);
INSERT INTO big SELECT g, md5(g::text) FROM generate_series(1, 1000) g;
SELECT pg_sleep(2);
-- strata:down
DROP TABLE big;
SQL
else
    mig "$D" 0002_slow.sql <<'SQL'
-- strata:up
CREATE TABLE big (id integer PRIMARY KEY, v text);
WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < 4000000)
INSERT INTO big SELECT x, hex(randomblob(16)) FROM c;
-- strata:down
DROP TABLE big;
SQL
fi
st --dir "$D" up 0001
expect_rc 0 "first migration"
"$STRATA" --url "$URL" --dir "$D" up >/dev/null 2>&1 &
pid=$!
sleep 0.7
kill -9 "$pid"
wait "$pid" 2>/dev/null
st --dir "$D" current
eq "$OUT" "0001" "killed migration is not recorded"
eq "$(table_exists big)" "0" "killed migration left no table"
st --dir "$D" up
expect_rc 0 "up after the kill"
st --dir "$D" current
eq "$OUT" "0002" "up completes"

# random kills during a run of many small migrations: after every kill the
# version table and the real schema agree
K=$WORK/k
for i in $(seq 1 40); do
    v=$(printf '%04d' "$i")
    mig "$K" "${v}_t.sql" <<SQL
-- strata:up
CREATE TABLE k_$v (id integer PRIMARY KEY);
INSERT INTO k_$v VALUES (1);
-- strata:down
DROP TABLE k_$v;
SQL
done
new_db
for round in $(seq 1 8); do
    "$STRATA" --url "$URL" --dir "$K" -q up >/dev/null 2>&1 &
    pid=$!
    sleep "0.0$((RANDOM % 9))"
    kill -9 "$pid" 2>/dev/null
    wait "$pid" 2>/dev/null
    if [ "$ENGINE" = postgres ]; then
        tables=$(q "SELECT count(*) FROM pg_tables WHERE schemaname='public' AND tablename LIKE 'k\_%'")
    else
        tables=$(q "SELECT count(*) FROM sqlite_master WHERE type='table' AND name LIKE 'k\_%' ESCAPE '\\'")
    fi
    rows=$(q "SELECT count(*) FROM strata_migrations" 2>/dev/null || echo 0)
    eq "$tables" "$rows" "round $round: tables and version rows agree"
    # and the other direction: down some, killed
    if [ $((round % 2)) = 0 ]; then
        "$STRATA" --url "$URL" --dir "$K" -q down base >/dev/null 2>&1 &
        pid=$!
        sleep "0.0$((RANDOM % 9))"
        kill -9 "$pid" 2>/dev/null
        wait "$pid" 2>/dev/null
    fi
done
st --dir "$K" up
expect_rc 0 "clean up after the kills"
st --dir "$K" current
eq "$OUT" "0040" "all applied after the kills"

finish
