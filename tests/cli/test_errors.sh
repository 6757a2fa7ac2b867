#!/usr/bin/env bash
# Bad input: clear error code, one line, right exit code, database unchanged,
# never a password.
. "$(dirname "$0")/lib.sh"

new_db
D=$WORK/m
mig "$D" 0001_create_a.sql <<'SQL'
-- strata:up
CREATE TABLE a (id integer PRIMARY KEY, v integer NOT NULL);
-- strata:down
DROP TABLE a;
SQL
mig "$D" 0002_fill_a.sql <<'SQL'
-- strata:up
CREATE TABLE b (id integer PRIMARY KEY);
INSERT INTO a (id, v) VALUES (1, 1);

-- the next statement fails: v is NOT NULL
INSERT INTO a (id, v)
  VALUES (2, NULL);
-- strata:down
DROP TABLE b;
DELETE FROM a;
SQL
st --dir "$D" up
expect_rc 1 "failing statement"
contains "$ERR" "MIGRATION_FAILED" "error code"
contains "$ERR" "$D/0002_fill_a.sql:6:" "file and line of the failing statement"
[ "$ENGINE" = postgres ] && contains "$ERR" "SQLSTATE 23502" "sqlstate"
eq "$(echo "$ERR" | grep -c '^strata: error:')" "1" "one error line"
st --dir "$D" current
eq "$OUT" "0001" "database stays at the previous version"
eq "$(table_exists b)" "0" "the failed migration left nothing behind"
eq "$(q 'SELECT count(*) FROM a')" "0" "no partial rows"
st --dir "$D" up --json
contains "$ERR" '"code": "MIGRATION_FAILED"' "JSON error code"
contains "$ERR" '"line": 6' "JSON error line"
contains "$ERR" '"file": "' "JSON error file"

# fix it: works
sed -i 's/(2, NULL)/(2, 2)/' "$D/0002_fill_a.sql"
st --dir "$D" up
expect_rc 0 "after the fix"

# modified applied migration
echo "-- a change" >>"$D/0001_create_a.sql"
mig "$D" 0003_c.sql <<'SQL'
-- strata:up
CREATE TABLE c (id integer);
-- strata:down
DROP TABLE c;
SQL
st --dir "$D" up
expect_rc 1 "modified migration refused"
contains "$ERR" "CHECKSUM_MISMATCH" "checksum code"
contains "$ERR" "--ignore-checksums" "hint names the override"
eq "$(table_exists c)" "0" "nothing ran"
st --dir "$D" validate --json
expect_rc 3 "validate finds the problem"
eq "$(json_get "$OUT" '[p["code"] for p in j["problems"]]')" "['CHECKSUM_MISMATCH']" "validate lists it"
st --dir "$D" status --json
eq "$(json_get "$OUT" 'j["migrations"][0]["state"]')" "modified" "status shows modified"
# CRLF checkouts are not modifications
sed -i '$ d' "$D/0001_create_a.sql"
sed -i 's/$/\r/' "$D/0001_create_a.sql"
st --dir "$D" validate
expect_rc 0 "CRLF file has the same checksum"
# nor is a UTF-8 byte order mark (Windows editors write one): it parses
{ printf '\xef\xbb\xbf'; cat "$D/0001_create_a.sql"; } >"$WORK/bom" && mv "$WORK/bom" "$D/0001_create_a.sql"
st --dir "$D" validate
expect_rc 0 "a file with a byte order mark has the same checksum"
# UTF-16 (PowerShell's "> file") is named as such, not as a NUL byte
printf '\xff\xfe-\x00-\x00 \x00' >"$D/0009_utf16.sql"
st --dir "$D" validate
expect_rc 3 "a UTF-16 file"
contains "$OUT" "0009_utf16.sql' is UTF-16 text; save it as UTF-8" "UTF-16 named"
rm "$D/0009_utf16.sql"
st --dir "$D" up
expect_rc 0 "up after restoring"

# missing file
mv "$D/0003_c.sql" "$WORK/0003_c.sql"
st --dir "$D" up
expect_rc 1 "missing migration refused"
contains "$ERR" "MISSING_MIGRATION" "missing code"
st --dir "$D" status --json
eq "$(json_get "$OUT" 'j["migrations"][-1]["state"]')" "missing" "status shows missing"
st --dir "$D" up --ignore-missing
expect_rc 0 "--ignore-missing"
mv "$WORK/0003_c.sql" "$D/0003_c.sql"

# out of order
mig "$D" 0000_early.sql <<'SQL'
-- strata:up
CREATE TABLE early (id integer);
-- strata:down
DROP TABLE early;
SQL
st --dir "$D" up
expect_rc 1 "out of order refused"
contains "$ERR" "OUT_OF_ORDER" "out of order code"
eq "$(table_exists early)" "0" "nothing ran"
st --dir "$D" up --allow-out-of-order
expect_rc 0 "--allow-out-of-order"
eq "$(table_exists early)" "1" "applied with the override"

# irreversible
mig "$D" 0004_irreversible.sql <<'SQL'
-- strata:up
CREATE TABLE d (id integer);
SQL
st --dir "$D" up
st --dir "$D" down -2
expect_rc 1 "irreversible"
contains "$ERR" "IRREVERSIBLE" "irreversible code"
st --dir "$D" current
eq "$OUT" "0004" "down across an irreversible migration changes nothing"
rm "$D/0004_irreversible.sql"
st --dir "$D" stamp 0003

# unknown target
st --dir "$D" up 0099
expect_rc 2 "unknown target"
contains "$ERR" "TARGET_NOT_FOUND" "target code"
st --dir "$D" down 0099_nothing
expect_rc 2 "unknown down target"
# stamp, accept and sql name the newest migration in their hint too
for cmd in "stamp 0099" "accept 0099" "sql --from 0099"; do
    st --dir "$D" $cmd
    expect_rc 2 "unknown target: $cmd"
    contains "$ERR" "hint: name a migration by its version (0003) or id" "$cmd: the hint"
done

# malformed files: each names file and line, exit 2, nothing runs
B=$WORK/bad
mig "$B" 0001_ok.sql <<'SQL'
-- strata:up
CREATE TABLE ok1 (id integer);
SQL
mig "$B" 0002_bad_marker.sql <<'SQL'
-- strata:up
CREATE TABLE x (id integer);
-- strata:down transactional
DROP TABLE x;
SQL
new_db
st --dir "$B" up
expect_rc 2 "bad marker option"
contains "$ERR" "PARSE_ERROR" "parse code"
contains "$ERR" "unknown marker option 'transactional'" "says what is wrong"
eq "$(table_exists ok1)" "0" "a parse error anywhere stops everything"
st --dir "$B" up --json
contains "$ERR" '"line": 3' "parse error line"
rm "$B/0002_bad_marker.sql"

mig "$B" 0002_commit.sql <<'SQL'
-- strata:up
CREATE TABLE y (id integer);
COMMIT;
-- strata:down
DROP TABLE y;
SQL
st --dir "$B" up --json
expect_rc 2 "COMMIT in a transactional section"
contains "$ERR" "'COMMIT' statement in a transactional up section" "names the statement"
contains "$ERR" '"line": 3' "and its line"
contains "$ERR" "no-transaction" "json: the hint suggests no-transaction"
st --dir "$B" up
expect_rc 2 "COMMIT in a transactional section (human)"
contains "$ERR" "0002_commit.sql:3:" "human: names the file and line"
contains "$ERR" "hint: " "human: has a hint"
contains "$ERR" "no-transaction" "human: the hint suggests no-transaction"
rm "$B/0002_commit.sql"

mig "$B" 0002_nothing.sql <<'SQL'
CREATE TABLE z (id integer);
SQL
st --dir "$B" up
expect_rc 2 "no markers"
contains "$ERR" "before the first '-- strata:up' marker" "no marker message"
rm "$B/0002_nothing.sql"

mig "$B" 02_dup.sql <<'SQL'
-- strata:up
SQL
mig "$B" 2_dup_again.sql <<'SQL'
-- strata:up
SQL
st --dir "$B" up
expect_rc 2 "duplicate versions"
contains "$ERR" "DUPLICATE_VERSION" "duplicate code"
# status too: it gave an applied row to one of the two files and exited 0
st --dir "$B" status --exit-code
expect_rc 2 "status with duplicate versions"
contains "$ERR" "DUPLICATE_VERSION" "status: duplicate code"
rm "$B/02_dup.sql" "$B/2_dup_again.sql"
# a FIFO named like a migration: status refuses it as up does (it listed it
# pending, and --exit-code said 3)
mkfifo "$B/0009_fifo.sql"
st --dir "$B" status --exit-code
expect_rc 2 "status with a FIFO migration"
contains "$ERR" "FILE_NOT_REGULAR" "status: FIFO code"
rm "$B/0009_fifo.sql"

mig "$B" 0002_pg_only.sql <<'SQL'
-- strata:up dialect=postgres
CREATE TABLE pg_only (id integer);
-- strata:up dialect=sqlite
SQL
st --dir "$B" up
expect_rc 0 "an empty dialect section is a no-op"

# missing directory
st --dir "$WORK/nope" up
expect_rc 2 "missing dir"
contains "$ERR" "DIR_NOT_FOUND" "dir code"

# usage errors
raw frobnicate
expect_rc 2 "unknown command"
raw --url "$URL" --dir "$D" status --dry-run
expect_rc 2 "option of another command"
contains "$ERR" "does not apply to 'status'" "message"
raw --lock-timeout abc --url "$URL" --dir "$D" up
expect_rc 2 "bad number"

# URLs: invalid, unsupported, unreachable; the password never shows
raw --url "mysql://root:hunter2@localhost/db" --dir "$D" status
expect_rc 2 "unsupported scheme"
contains "$ERR" "URL_INVALID" "url code"
lacks "$ERR" "hunter2" "password hidden"
contains "$ERR" "root:****@" "redacted URL"
raw --url "postgresql://u:hunter2@127.0.0.1:1/db" --dir "$D" status
expect_rc 4 "unreachable server"
contains "$ERR" "CONNECT_FAILED" "connect code"
lacks "$ERR" "hunter2" "password hidden"
raw --json --url "postgresql://u:hunter2@127.0.0.1:1/db" --dir "$D" up
expect_rc 4 "unreachable server json"
contains "$ERR" '"code": "CONNECT_FAILED"' "json connect code"
lacks "$ERR$OUT" "hunter2" "password hidden in json"
raw --url "postgresql://u:hunter2@[::1/db" --dir "$D" status
expect_rc 2 "malformed postgres URL"
lacks "$ERR" "hunter2" "password hidden in a parse error"
raw -v --url "postgresql://u:hunter2@127.0.0.1:1/db" --dir "$D" status
lacks "$ERR$OUT" "hunter2" "password hidden in verbose output"
raw --url "sqlite:///$WORK/no/such/dir/x.db" --dir "$D" up
expect_rc 4 "sqlite file in a missing directory"
# three slashes and a path meant as absolute (sqlite:///tmp/x.db names
# tmp/x.db here): the hint says to write four
raw --url "sqlite://$WORK/no/such/dir/x.db" --dir "$D" up
expect_rc 4 "a relative sqlite path meant as absolute"
contains "$ERR" "write four slashes: sqlite:///$WORK/no/such/dir/x.db" "the four-slash hint"
echo "this is not a database, just text that is long enough to fill a header page..........." >"$WORK/notadb.sqlite3"
raw --url "sqlite:///$WORK/notadb.sqlite3" --dir "$D" status
expect_rc 4 "not a database"
contains "$ERR" "not a database" "not a database message"

if [ "$ENGINE" = postgres ]; then
    raw --url "postgresql+asyncpg://$PGUSER:wrong-password-xyz@${PGHOST:-localhost}:$PGPORT/postgres" --dir "$D" status
    expect_rc 4 "bad password"
    contains "$ERR" "password authentication failed" "says why"
    lacks "$ERR" "wrong-password-xyz" "password hidden"
    contains "$ERR" "hint:" "a hint"
    raw --url "postgresql://$PGUSER:$PGPASSWORD@${PGHOST:-localhost}:$PGPORT/no_such_db" --dir "$D" status
    expect_rc 4 "missing database"
    lacks "$ERR" "$PGPASSWORD" "password hidden"
    # the Unix socket, where pg_virtualenv's pg_hba.conf says peer: this
    # OS user is not the role, and the hint says what to do instead
    SOCK=$(psql -X -A -t -c "SELECT split_part(current_setting('unix_socket_directories'), ',', 1)")
    if [ -n "$SOCK" ] && [ "$(id -un)" != "$PGUSER" ] &&
        grep -q '^local.*peer' "$(psql -X -A -t -c 'SHOW hba_file')" 2>/dev/null; then
        raw --url "postgresql:///postgres?host=$SOCK&port=$PGPORT&user=$PGUSER&password=peer-pw-LEAK" --dir "$D" status
        expect_rc 4 "peer authentication on the socket"
        contains "$ERR" "connect over TCP" "the peer hint"
        lacks "$ERR" "peer-pw-LEAK" "password hidden"
    fi
fi

# strict mode
raw --require-url --dir "$D" status --json
expect_rc 2 "strict mode without URL"
eq "$ERR" '{"detail": "DATABASE_URL is required", "code": "DATABASE_URL_REQUIRED", "hint": "pass --url or set DATABASE_URL in the environment or in .env"}' "strict mode JSON"
STRATA_REQUIRE_URL=1 raw --dir "$D" status
expect_rc 2 "STRATA_REQUIRE_URL=1"
contains "$ERR" "DATABASE_URL_REQUIRED" "env strict mode"

# what was printed must reach its file: a full disk under a redirected
# report is an error (IO_ERROR, exit 1), never a truncated file and exit 0
if [ -w /dev/full ]; then
    mig_a "$WORK/full"
    new_db
    "$STRATA" --url "$URL" --dir "$WORK/full" up >/dev/full 2>"$WORK/err"
    eq "$?" "1" "up with its output on a full disk"
    contains "$(cat "$WORK/err")" "cannot write to standard output: No space left on device [IO_ERROR]" "the write error named"
    contains "$(cat "$WORK/err")" "the command itself ran to its end" "the hint says the command ran"
    st --dir "$WORK/full" current
    eq "$OUT" "0001" "the migration was applied all the same"
    "$STRATA" --url "$URL" --dir "$WORK/full" --json status >/dev/full 2>"$WORK/err"
    eq "$?" "1" "status --json into a full disk"
    contains "$(cat "$WORK/err")" '"code": "IO_ERROR"' "--json: the error as JSON on stderr"
    # a command that reports the failed write itself is not reported twice
    "$STRATA" --dir "$WORK/full" embed >/dev/full 2>"$WORK/err"
    eq "$?" "1" "embed into a full disk"
    eq "$(wc -l <"$WORK/err")" "1" "one error for one failed write"
    # a reader that goes away is not an error
    (
        trap '' PIPE
        "$STRATA" --url "$URL" --dir "$WORK/full" history | true
        exit "${PIPESTATUS[0]}"
    )
    eq "$?" "0" "a closed pipe with SIGPIPE ignored"
fi

# docs/errors.md lists every code of the stable list with its exit code
# (once: the list is the same on both engines)
if [ "$ENGINE" = sqlite ]; then
    ROOT=$(cd "$(dirname "$0")/../.." && pwd)
    codes=$(sed -n 's/^ *X(\([A-Z_]*\), \([0-9]\),.*/\1 \2/p' "$ROOT/include/strata.h")
    [ "$(echo "$codes" | wc -l)" -gt 40 ] || fail "read the error list from strata.h"
    while read -r code ex; do
        [ "$code" = OK ] && continue
        grep -q "^| \`$code\` | $ex | " "$ROOT/docs/errors.md" || fail "docs/errors.md: no row for $code with exit $ex"
    done <<<"$codes"
    n=$(grep -c '^| `[A-Z_]*` | [0-9] | ' "$ROOT/docs/errors.md")
    eq "$n" "$(($(echo "$codes" | wc -l) - 1))" "docs/errors.md has no row for a code strata.h lacks"
fi

# --table with two dots: a usage error on both engines (PostgreSQL sent it
# to the server: DB_ERROR "cross-database references are not implemented")
raw --url "$URL" --dir "$D" --table a.b.c status
expect_rc 2 "--table a.b.c"
contains "$ERR" "[USAGE]" "--table a.b.c: USAGE"
# PostgreSQL: a name it would cut at 63 bytes, its lock table cut into the
# same name (the first up worked, every later run failed "column id does
# not exist")
if [ "$ENGINE" = postgres ]; then
    raw --url "$URL" --dir "$D" --table "$(printf 'v%.0s' $(seq 64))" up
    expect_rc 2 "--table of 64 bytes on PostgreSQL"
    contains "$ERR" "longer than 58 bytes" "--table of 64 bytes: why"
    eq "$(q "SELECT count(*) FROM pg_tables WHERE tablename LIKE 'vvvv%'")" "0" "--table of 64 bytes: nothing made"
    raw --url "$URL" --dir "$D" --table "$(printf 'w%.0s' $(seq 58))" status
    expect_rc 0 "--table of 58 bytes on PostgreSQL"
    # "" inside quotes is one byte of the name (it counted as none)
    raw --url "$URL" --dir "$D" --table "\"$(printf 'x%.0s' $(seq 53))$(printf '""%.0s' $(seq 10))\"" up
    expect_rc 2 "--table of 63 bytes spelt with escaped quotes"
    contains "$ERR" "longer than 58 bytes" "--table with escaped quotes: why"
    eq "$(q "SELECT count(*) FROM pg_tables WHERE tablename LIKE 'xxxx%'")" "0" "--table with escaped quotes: nothing made"
    raw copy "sqlite:///$WORK/none.db" "$URL" --table "$(printf 'w%.0s' $(seq 60))"
    expect_rc 2 "copy --table of 60 bytes"
    contains "$ERR" "longer than 58 bytes" "copy --table of 60 bytes: why"
    # copy and restore check --table as every other command does (copy
    # took '"unclosed'; both sent a.b.c to the server: DB_ERROR)
    for bad in 'a.b.c' '"unclosed' 'sch.versions'; do
        raw copy "sqlite:///$WORK/none.db" "$URL" --table "$bad"
        expect_rc 2 "copy --table $bad"
        contains "$ERR" "[USAGE]" "copy --table $bad: USAGE"
    done
    contains "$ERR" "copy takes the version table's plain name" "copy --table with a schema: why"
    raw --url "$URL" backup -o "$WORK/tbl.dump" -q
    expect_rc 0 "a backup to restore"
    for bad in 'a.b.c' "$(printf 'w%.0s' $(seq 64))"; do
        raw --url "$URL" --table "$bad" restore "$WORK/tbl.dump"
        expect_rc 2 "restore --table $bad"
        contains "$ERR" "[USAGE]" "restore --table: USAGE"
    done
fi

# a migration that leaves another role in effect: the version-table write
# fails as that role; the error names the migration and says why
if [ "$ENGINE" = postgres ]; then
    q "DO \$\$BEGIN IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'strata_test_owner') THEN
        CREATE ROLE strata_test_owner; END IF; END\$\$; GRANT CREATE ON SCHEMA public TO strata_test_owner" >/dev/null
    R=$WORK/role
    mkdir -p "$R"
    printf -- '-- strata:up\nSET LOCAL ROLE strata_test_owner;\nCREATE TABLE owned (x int);\n-- strata:down\nDROP TABLE owned;\n' \
        >"$R/0001_owned.sql"
    raw --url "$URL" --dir "$R" --table role_versions up
    expect_rc 1 "a migration that leaves another role in effect"
    contains "$ERR" "0001_owned.sql: cannot record 0001_owned in role_versions: permission denied" "the migration named"
    contains "$ERR" "RESET ROLE" "the hint says what to do"
    eq "$(table_exists owned)" "0" "nothing of it kept"
fi

if [ "$ENGINE" = postgres ]; then
    # a statement that cannot run in a transaction, in a transactional
    # section: the hint names the no-transaction marker
    new_db
    C=$WORK/cic
    mig "$C" 0001_c.sql <<'SQL'
-- strata:up
CREATE TABLE c (a integer);
CREATE INDEX CONCURRENTLY c_a ON c (a);
-- strata:down
DROP TABLE c;
SQL
    st --dir "$C" up
    expect_rc 1 "CREATE INDEX CONCURRENTLY in a transaction"
    contains "$ERR" "no-transaction" "25001: the hint names the no-transaction section"
    eq "$(table_exists c)" 0 "25001: the migration rolled back"
    # a read-only database (default_transaction_read_only): the hint names it
    new_db
    q "ALTER DATABASE $DBNAME SET default_transaction_read_only = on" >/dev/null
    st --dir "$C" up
    expect_rc 1 "up on a read-only database"
    contains "$ERR" "default_transaction_read_only" "25006: the hint names the setting"
fi
# --table naming another tool's table: said so, and that table unchanged
new_db
q "CREATE TABLE schema_migrations (version varchar(128) PRIMARY KEY)" >/dev/null
q "INSERT INTO schema_migrations VALUES ('20240101000000')" >/dev/null
OT=$WORK/other_tool
mig_a "$OT"
for c in status up; do
    st --dir "$OT" --table schema_migrations $c
    expect_rc 2 "$c --table schema_migrations (dbmate's)"
    contains "$ERR" "is not a strata version table" "$c: says whose table it is not"
    contains "$ERR" "strata adopt" "$c: points to adopt"
done
eq "$(q "SELECT count(*) FROM schema_migrations")" 1 "the other tool's table is unchanged"
eq "$(table_exists a)" 0 "nothing applied"

# a state strata never writes (a row edited by hand) reads as failed in
# every command: status said applied, up said pending-out-of-order, and
# --allow-out-of-order applied it a second time
new_db
HS=$WORK/hand_state
mig "$HS" 0001_t.sql <<'SQL'
-- strata:up
CREATE TABLE ledger (amount integer);
-- strata:down
DROP TABLE ledger;
SQL
mig "$HS" 0002_seed.sql <<'SQL'
-- strata:up
INSERT INTO ledger VALUES (100);
-- strata:down
DELETE FROM ledger;
SQL
mig "$HS" 0003_t3.sql <<'SQL'
-- strata:up
CREATE TABLE t3 (x integer);
-- strata:down
DROP TABLE t3;
SQL
st --dir "$HS" up
expect_rc 0 "up before the hand edit"
q "UPDATE strata_migrations SET state = 'APPLIED' WHERE version = '0002'"
st --dir "$HS" --json status
contains "$OUT" '"state": "failed"' "status: a hand-edited state reads as failed"
st --dir "$HS" validate
expect_rc 3 "validate: a hand-edited state is a problem"
st --dir "$HS" up --allow-out-of-order
expect_rc 1 "up: a hand-edited state stops it"
contains "$ERR" "FAILED_MIGRATION" "up: as a failed migration"
eq "$(q 'SELECT count(*) FROM ledger')" "1" "the seed ran once"

# a failed migration whose file is then removed stays a failure: up (even
# with --ignore-missing) does not go past it, validate says failed, and
# stamp says which failed record it removes (it said "is applied", skipped
# it, and erased it without a word)
new_db
FM=$WORK/failed_missing
mig "$FM" 0001_a.sql <<'SQL'
-- strata:up
CREATE TABLE a (x integer);
-- strata:down
DROP TABLE a;
SQL
mig "$FM" 0002_fail.sql <<'SQL'
-- strata:up no-transaction
CREATE TABLE b (x integer);
SELECT * FROM no_such_table_here;
-- strata:down
DROP TABLE b;
SQL
st --dir "$FM" up
expect_rc 1 "the no-transaction migration fails"
rm "$FM/0002_fail.sql"
mig "$FM" 0003_c.sql <<'SQL'
-- strata:up
CREATE TABLE c (x integer);
-- strata:down
DROP TABLE c;
SQL
st --dir "$FM" up --ignore-missing
expect_rc 1 "up past a failed migration whose file is missing"
contains "$ERR" "FAILED_MIGRATION" "a failure, not a missing file"
eq "$(table_exists c)" 0 "nothing applied past it"
st --dir "$FM" validate
contains "$OUT$ERR" "failed earlier and its file is missing" "validate says it failed"
st --dir "$FM" stamp 0001
expect_rc 0 "stamp below the failed migration"
contains "$ERR" "stamp removed the record of 0002_fail, which failed earlier" "stamp says what it discards"

finish
