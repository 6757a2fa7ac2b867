#!/usr/bin/env bash
# The kill loop: `strata up` (and now and then `down`) killed with SIGKILL at
# random moments, KILLS times; after every kill the version table and the
# real schema must agree exactly; a final `up` finishes cleanly.
. "$(dirname "$0")/lib.sh"

KILLS=${KILLS:-50}
N=60
K=$WORK/k
k_history "$K" $N
new_db

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
    t=$(k_tables | tr '\n' ' ')
    v=$(applied_versions | tr '\n' ' ')
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
eq "$(k_tables | wc -l)" "$N" "every table exists once"
echo "kill loop [$ENGINE]: $survived kills survived in $(($(date +%s) - start)) s"
finish
