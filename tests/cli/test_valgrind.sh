#!/usr/bin/env bash
# The main CLI paths under valgrind: no leaks, no invalid accesses.
# Uses the plain build (valgrind cannot run the sanitizer build).
. "$(dirname "$0")/lib.sh"

PLAIN=${STRATA_PLAIN:-$(cd "$(dirname "$0")/../.." && pwd)/build/strata}
if ! command -v valgrind >/dev/null; then
    echo "skip [$ENGINE] $TEST_NAME: valgrind not installed"
    exit 0
fi
[ -x "$PLAIN" ] || { fail "no plain build at $PLAIN"; finish; }
new_db
D=$(cd "$(dirname "$0")/../.." && pwd)/examples/pos/migrations
vg() {
    valgrind -q --leak-check=full --show-leak-kinds=definite,indirect \
        --errors-for-leak-kinds=definite,indirect --error-exitcode=99 \
        "$PLAIN" --url "$URL" --dir "$D" "$@" >"$WORK/vg.out" 2>"$WORK/vg.err"
    RC=$?
    ERR=$(cat "$WORK/vg.err")
}
for args in "up" "up" "status" "status --json" "history" "validate" "current" \
    "down" "up --dry-run" "redo" "down base --json" "up 0003" \
    "schema" "schema --json" "check -q"; do
    # shellcheck disable=SC2086
    vg $args
    [ "$RC" = 0 ] || fail "valgrind strata $args: exit $RC: $ERR"
done
# error paths too
vg up 0999
[ "$RC" = 2 ] || fail "valgrind on an error path: exit $RC: $ERR"
valgrind -q --leak-check=full --errors-for-leak-kinds=definite,indirect --error-exitcode=99 \
    "$PLAIN" --url "postgresql://u:pw@127.0.0.1:1/x" --dir "$D" status >/dev/null 2>"$WORK/vg.err"
RC=$?
[ "$RC" = 4 ] || fail "valgrind on a connect error: exit $RC: $(cat "$WORK/vg.err")"
finish
