#!/usr/bin/env bash
# The kill loop: `strata up` (and now and then `down`) killed with SIGKILL at
# random moments, KILLS times; after every kill the version table and the
# real schema must agree exactly; a final `up` finishes cleanly.
. "$(dirname "$0")/lib.sh"

KILLS=${KILLS:-50}
N=60
K=$WORK/k
for i in $(seq 1 $N); do
    v=$(printf '%04d' "$i")
    mig "$K" "${v}_t.sql" <<SQL
-- strata:up
CREATE TABLE k_$v (id integer PRIMARY KEY, note text);
INSERT INTO k_$v VALUES (1, 'row of $v');
-- strata:down
DROP TABLE k_$v;
SQL
done
new_db

list_tables() {
    if [ "$ENGINE" = postgres ]; then
        q "SELECT substr(tablename, 3) FROM pg_tables WHERE schemaname = 'public' AND tablename LIKE 'k\_%' ORDER BY 1"
    else
        q "SELECT substr(name, 3) FROM sqlite_master WHERE type = 'table' AND name LIKE 'k\_%' ESCAPE '\\' ORDER BY 1"
    fi
}
list_versions() {
    if [ "$(table_exists strata_migrations)" = 1 ]; then
        q "SELECT version FROM strata_migrations WHERE state = 'applied' ORDER BY 1"
    fi
}

start=$(date +%s)
survived=0
for round in $(seq 1 "$KILLS"); do
    cmd=up
    [ $((RANDOM % 4)) = 0 ] && cmd="down base"
    # shellcheck disable=SC2086
    "$STRATA" --url "$URL" --dir "$K" -q $cmd >/dev/null 2>&1 &
    pid=$!
    sleep "0.$(printf '%03d' $((RANDOM % 250)))"
    kill -9 "$pid" 2>/dev/null
    wait "$pid" 2>/dev/null
    t=$(list_tables | tr '\n' ' ')
    v=$(list_versions | tr '\n' ' ')
    if [ "$t" != "$v" ]; then
        fail "after kill $round ($cmd): tables [$t] but versions [$v]"
        break
    fi
    survived=$((survived + 1))
    if [ $(($(date +%s) - start)) -gt 240 ]; then
        fail "kill loop took over 240 s (round $round)"
        break
    fi
done
st --dir "$K" up
expect_rc 0 "up after $survived kills"
st --dir "$K" current
eq "$OUT" "0060" "clean up after the kills"
eq "$(list_tables | wc -l)" "$N" "every table exists once"
echo "kill loop [$ENGINE]: $survived kills survived in $(($(date +%s) - start)) s"
finish
