#!/usr/bin/env bash
# kill -9 of `strata restore` and `strata reset` at random moments: restore
# is all or nothing (after every kill the database is exactly one of the two
# backups, and SQLite's file passes integrity_check), reset leaves a version
# table that agrees with the schema, and the same command then finishes.
. "$(dirname "$0")/lib.sh"

KILLS=${KILLS:-12}
ROWS=200000
D=$WORK/m
mig "$D" 0001_big.sql <<'SQL'
-- strata:up
CREATE TABLE big (id integer PRIMARY KEY, v text NOT NULL);
-- strata:down
DROP TABLE big;
SQL
mig "$D" 0002_extra.sql <<'SQL'
-- strata:up
CREATE TABLE extra (id integer PRIMARY KEY);
INSERT INTO extra VALUES (1), (2);
-- strata:down
DROP TABLE extra;
SQL

# fingerprint: the tables, big's rows and the applied versions, one line
fingerprint() {
    if [ "$ENGINE" = postgres ]; then
        echo "$(q "SELECT string_agg(tablename, ',' ORDER BY tablename) FROM pg_tables WHERE schemaname = 'public'")" \
            "$(q "SELECT count(*) || ':' || coalesce(sum(length(v)), 0) FROM big")" \
            "$(q "SELECT string_agg(version, ',' ORDER BY version) FROM strata_migrations WHERE state = 'applied'")"
    else
        echo "$(q "SELECT group_concat(name, ',') FROM (SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY 1)")" \
            "$(q "SELECT count(*) || ':' || coalesce(sum(length(v)), 0) FROM big")" \
            "$(q "SELECT group_concat(version, ',') FROM (SELECT version FROM strata_migrations WHERE state = 'applied' ORDER BY 1)")"
    fi
}
fill() { # fill FROM TO: rows FROM..TO of big
    if [ "$ENGINE" = postgres ]; then
        q "INSERT INTO big SELECT g, repeat(md5(g::text), 3) FROM generate_series($1, $2) g"
    else
        q "WITH RECURSIVE c(x) AS (SELECT $1 UNION ALL SELECT x + 1 FROM c WHERE x < $2)
           INSERT INTO big SELECT x, hex(randomblob(48)) FROM c"
    fi
}
# the pg_restore of a killed strata dies with it (SIGTERM from the kernel:
# it cancels its statement, its single transaction rolls back) -- it must
# not go on restoring behind the next attempt's back. Gone within 3 s.
settle() {
    local n=0
    while pgrep -f "pg_restore.*$DBNAME" >/dev/null 2>&1; do
        [ $n -lt 60 ] || { fail "pg_restore outlived the strata killed with SIGKILL"; return; }
        sleep 0.05
        n=$((n + 1))
    done
}
kill_at_random() { # kill_at_random MAX_MS CMD...: starts CMD, SIGKILLs it after 0..MAX_MS ms
    local max=$1
    shift
    "$STRATA" --url "$URL" --dir "$D" -q "$@" >/dev/null 2>&1 &
    local pid=$!
    sleep "$(awk -v r="$RANDOM" -v m="$max" 'BEGIN { printf "%.3f", (r % m) / 1000 }')"
    kill -9 "$pid" 2>/dev/null
    wait "$pid" 2>/dev/null
}

# ---- restore: two backups, each round restores the other one and is killed
new_db
st --dir "$D" up 0001
expect_rc 0 "up 0001"
fill 1 "$ROWS" >/dev/null
st backup -o "$WORK/a.backup"
expect_rc 0 "backup a"
A=$(fingerprint)
st --dir "$D" up
fill $((ROWS + 1)) $((ROWS + 5000)) >/dev/null
st backup -o "$WORK/b.backup"
expect_rc 0 "backup b"
B=$(fingerprint)
[ "$A" != "$B" ] || fail "the two states must differ: $A"
# what a whole restore of each gives from the other (PostgreSQL leaves the
# tables a backup does not hold: "extra" stays, docs/operations.md)
st restore "$WORK/a.backup"
expect_rc 0 "restore a over b"
A=$(fingerprint)
contains "$A" " 200000:" "restore a over b: big as in a"
t0=$(date +%s%N)
st restore "$WORK/b.backup" # and how long a restore takes
expect_rc 0 "restore b over a"
eq "$(fingerprint)" "$B" "restore b over a"
rwin=$((($(date +%s%N) - t0) / 1000000 * 5 / 4 + 20))
now=$B
start=$(date +%s)
mid=0
for round in $(seq 1 "$KILLS"); do
    if [ "$now" = "$A" ]; then file=$WORK/b.backup; else file=$WORK/a.backup; fi
    kill_at_random "$rwin" restore "$file"
    [ "$ENGINE" = postgres ] && settle
    if [ "$ENGINE" = sqlite ]; then
        eq "$(q 'PRAGMA integrity_check')" "ok" "after restore kill $round: integrity_check"
    fi
    got=$(fingerprint)
    if [ "$got" != "$A" ] && [ "$got" != "$B" ]; then
        fail "after restore kill $round: neither backup: [$got] (a: [$A], b: [$B])"
        break
    fi
    [ "$got" = "$now" ] && mid=$((mid + 1)) # killed before it changed anything
    now=$got
done
echo "# restore [$ENGINE]: $KILLS kills within $rwin ms, $mid before the switch, in $(($(date +%s) - start)) s"
st restore "$WORK/a.backup"
expect_rc 0 "restore after the kills"
eq "$(fingerprint)" "$A" "the restore after the kills gives the backup"
if [ "$ENGINE" = sqlite ]; then
    eq "$(table_exists extra)" "0" "SQLite: the restored file is exactly the backup"
fi

# PostgreSQL: a strata killed while its pg_restore waits (here for a table
# lock another session holds) takes the pg_restore with it; the restore it
# started never lands later, when the lock is gone
if [ "$ENGINE" = postgres ]; then
    now=$(fingerprint)
    if [ "$now" = "$A" ]; then file=$WORK/b.backup; else file=$WORK/a.backup; fi
    psql -X -q -d "$DBNAME" -c "BEGIN; LOCK TABLE big IN ACCESS SHARE MODE; SELECT pg_sleep(6); COMMIT" >/dev/null 2>&1 &
    holder=$!
    sleep 0.5
    "$STRATA" --url "$URL" -q restore "$file" >/dev/null 2>&1 &
    spid=$!
    n=0
    while ! pgrep -f "pg_restore.*$DBNAME" >/dev/null 2>&1 && [ $n -lt 100 ]; do
        sleep 0.05
        n=$((n + 1))
    done
    pgrep -f "pg_restore.*$DBNAME" >/dev/null 2>&1 || fail "pg_restore did not start"
    sleep 0.3
    kill -9 "$spid"
    wait "$spid" 2>/dev/null
    settle
    wait "$holder"
    sleep 0.5
    eq "$(fingerprint)" "$now" "the killed strata's restore did not land after the lock was released"
fi

# ---- reset: dropped and migrated again, killed at random
N=40
R=$WORK/r
k_history "$R" $N
new_db
t0=$(date +%s%N)
st --dir "$R" up
expect_rc 0 "up before the reset kills"
# kill within what the same work took (plus a little), so most kills land in it
win=$((($(date +%s%N) - t0) / 1000000 * 5 / 4 + 20))
q "CREATE TABLE stray (id integer)" >/dev/null
D=$R
partial=0
for round in $(seq 1 "$KILLS"); do
    kill_at_random "$win" reset --yes
    t=$(k_tables | tr '\n' ' ')
    v=$(applied_versions | tr '\n' ' ')
    if [ "$t" != "$v" ]; then
        fail "after reset kill $round: tables [$t] but versions [$v]"
        break
    fi
    n=$(k_tables | wc -l)
    [ "$n" -gt 0 ] && [ "$n" -lt $N ] && partial=$((partial + 1))
done
echo "# reset [$ENGINE]: $KILLS kills within $win ms, $partial between the first and the last migration"
st --dir "$R" reset --yes
expect_rc 0 "reset after the kills"
st --dir "$R" current
eq "$OUT" "0040" "reset after the kills reaches head"
eq "$(k_tables | wc -l)" "$N" "every table exists once"
eq "$(table_exists stray)" "0" "reset dropped what the migrations do not make"
finish
