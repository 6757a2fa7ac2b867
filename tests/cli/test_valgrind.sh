#!/usr/bin/env bash
# The main CLI paths under valgrind: no leaks, no invalid accesses.
# Uses the plain build (valgrind cannot run the sanitizer build).
. "$(dirname "$0")/lib.sh"

PLAIN=${STRATA_PLAIN:-$(cd "$(dirname "$0")/../.." && pwd)/build/strata}
# glibc's loader keeps one allocation of a dlopen (see the file)
SUPP=$(cd "$(dirname "$0")/.." && pwd)/valgrind.supp
if ! command -v valgrind >/dev/null; then
    echo "skip [$ENGINE] $TEST_NAME: valgrind not installed"
    exit 0
fi
[ -x "$PLAIN" ] || { fail "no plain build at $PLAIN"; finish; }
new_db
D=$(cd "$(dirname "$0")/../.." && pwd)/examples/pos/migrations
vg() {
    valgrind -q --suppressions="$SUPP" --leak-check=full --show-leak-kinds=definite,indirect \
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
# strata diff: the directory against a schema that drops, adds and changes
# (scratch databases, the plan, the proof, the lint)
cat >"$WORK/want.sql" <<'EOF'
CREATE TABLE items (id integer PRIMARY KEY, name text NOT NULL, price numeric(10, 2) DEFAULT 0);
CREATE INDEX ix_items_name ON items (name);
CREATE VIEW v_items AS SELECT id, name FROM items;
EOF
for args in "diff --to $WORK/want.sql --allow-destructive --print" \
    "diff --to $WORK/want.sql --allow-destructive --json"; do
    # shellcheck disable=SC2086
    vg $args
    [ "$RC" = 0 ] || fail "valgrind strata $args: exit $RC: $ERR"
done
vg diff --to "$WORK/want.sql"
[ "$RC" = 1 ] || fail "valgrind strata diff refusing a destructive step: exit $RC: $ERR"
# error paths too
vg up 0999
[ "$RC" = 2 ] || fail "valgrind on an error path: exit $RC: $ERR"
valgrind -q --suppressions="$SUPP" --leak-check=full --errors-for-leak-kinds=definite,indirect --error-exitcode=99 \
    "$PLAIN" --url "postgresql://u:pw@127.0.0.1:1/x" --dir "$D" status >/dev/null 2>"$WORK/vg.err"
RC=$?
[ "$RC" = 4 ] || fail "valgrind on a connect error: exit $RC: $(cat "$WORK/vg.err")"
# strata import: every file format, and Alembic's one driver process
FIXI=$(cd "$(dirname "$0")/../fixtures" && pwd)
for f in dbmate flyway golang-migrate goose pop sqitch; do
    valgrind -q --suppressions="$SUPP" --leak-check=full --show-leak-kinds=definite,indirect \
        --errors-for-leak-kinds=definite,indirect --error-exitcode=99 \
        "$PLAIN" --dir "$WORK/imp_$f" import --from "$f" "$FIXI/import/$f" >/dev/null 2>"$WORK/vg.err"
    RC=$?
    [ "$RC" = 0 ] || fail "valgrind strata import --from $f: exit $RC: $(cat "$WORK/vg.err")"
done
[ "$(ls "$WORK/imp_dbmate" | wc -l)" = 3 ] || fail "import under valgrind wrote the three dbmate files"
if command -v alembic >/dev/null; then
    cp -r "$FIXI/alembic" "$WORK/vg_alembic"
    valgrind -q --suppressions="$SUPP" --leak-check=full --show-leak-kinds=definite,indirect \
        --errors-for-leak-kinds=definite,indirect --error-exitcode=99 \
        "$PLAIN" --dir "$WORK/imp_alembic" import --from alembic "$WORK/vg_alembic" --dialect postgres,sqlite \
        >/dev/null 2>"$WORK/vg.err"
    RC=$?
    [ "$RC" = 0 ] || fail "valgrind strata import --from alembic: exit $RC: $(cat "$WORK/vg.err")"
fi
# strata adopt: golang-migrate's table on a fresh database, dry run, then for real
new_db
q "CREATE TABLE schema_migrations (version bigint NOT NULL PRIMARY KEY, dirty boolean NOT NULL)"
q "INSERT INTO schema_migrations (version, dirty) VALUES (2, $([ "$ENGINE" = postgres ] && echo false || echo 0))"
for args in "adopt --from golang-migrate --dry-run" "adopt --from golang-migrate" "status"; do
    # shellcheck disable=SC2086
    valgrind -q --suppressions="$SUPP" --leak-check=full --show-leak-kinds=definite,indirect \
        --errors-for-leak-kinds=definite,indirect --error-exitcode=99 \
        "$PLAIN" --url "$URL" --dir "$WORK/imp_golang-migrate" $args >/dev/null 2>"$WORK/vg.err"
    RC=$?
    [ "$RC" = 0 ] || fail "valgrind strata $args: exit $RC: $(cat "$WORK/vg.err")"
done
eq "$(q "SELECT count(*) FROM strata_migrations")" 2 "adopt under valgrind recorded versions 1 and 2"
# strata copy (PostgreSQL is its target): threads, COPY, verification
if [ "$ENGINE" = postgres ]; then
    SRC=$WORK/vg_src.sqlite3
    sqlite3 "$SRC" "CREATE TABLE a (id INTEGER PRIMARY KEY, t TEXT, r REAL, d DATETIME);
        CREATE TABLE b (id INTEGER PRIMARY KEY, a_id INTEGER REFERENCES a (id), j JSON, x BLOB);
        WITH RECURSIVE c(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM c WHERE n < 500)
        INSERT INTO a SELECT n, 'row ' || n, n / 3.0, datetime(1700000000 + n, 'unixepoch') FROM c;
        INSERT INTO b SELECT id, id, '{\"k\": ' || id || '}', randomblob(8) FROM a;"
    new_db
    valgrind -q --suppressions="$SUPP" --leak-check=full --show-leak-kinds=definite,indirect --errors-for-leak-kinds=definite,indirect \
        --error-exitcode=99 "$PLAIN" --url "$URL" copy "sqlite:///$SRC" "$URL" --jobs 2 >/dev/null 2>"$WORK/vg.err"
    RC=$?
    [ "$RC" = 0 ] || fail "valgrind strata copy: exit $RC: $(cat "$WORK/vg.err")"
    eq "$(q 'SELECT count(*) FROM b')" "500" "copy under valgrind copied the rows"
fi
finish
