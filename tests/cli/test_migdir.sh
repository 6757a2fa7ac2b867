#!/usr/bin/env bash
# Hostile migration directories: FIFOs, devices and huge files named like
# migrations, names that are not migration names, control characters and
# invalid UTF-8 in names, a missing directory, an unchanged template.
# Every strata run has a timeout, so a regression that hangs fails instead.
. "$(dirname "$0")/lib.sh"

# tst ARGS...: st with a timeout (exit 124 when strata hangs)
tst() {
    timeout -k 5 20 "$STRATA" --url "$URL" "$@" >"$WORK/out" 2>"$WORK/err"
    RC=$?
    OUT=$(cat "$WORK/out")
    ERR=$(cat "$WORK/err")
}

valid_json() { # valid_json TEXT MSG: TEXT is one valid JSON document per line
    if ! printf '%s\n' "$1" | python3 -c '
import json, sys
for line in sys.stdin.buffer.read().split(b"\n"):
    if line.strip():
        json.loads(line.decode("utf-8"))' 2>"$WORK/pyerr"; then
        fail "$2: not valid UTF-8 JSON ($(cat "$WORK/pyerr" | tail -1)): $1"
    fi
}

new_db
D=$WORK/m
mig "$D" 0001_create_a.sql <<'SQL'
-- strata:up
CREATE TABLE a (id integer PRIMARY KEY);
-- strata:down
DROP TABLE a;
SQL

# ---- item: only regular files are read, with a size limit

mkfifo "$D/0005_x.sql"
tst --dir "$D" validate
expect_rc 3 "validate with a FIFO"
contains "$OUT" "FILE_NOT_REGULAR: cannot read '$D/0005_x.sql': it is a FIFO, not a regular file" "FIFO named"
tst --dir "$D" up
expect_rc 2 "up with a FIFO"
contains "$ERR" "[FILE_NOT_REGULAR]" "up: FIFO code"
contains "$ERR" "0005_x.sql" "up: FIFO file named"
eq "$(table_exists a)" 0 "nothing applied when a file is a FIFO"
for cmd in status "sql --dialect sqlite" lint embed; do
    # shellcheck disable=SC2086
    tst --dir "$D" $cmd
    [ "$RC" = 124 ] && fail "$cmd hangs on a FIFO"
    contains "$ERR$OUT" "0005_x.sql': it is a FIFO, not a regular file" "$cmd: FIFO named"
done
rm "$D/0005_x.sql"

ln -s /dev/urandom "$D/0006_random.sql"
tst --dir "$D" validate
expect_rc 3 "validate with a symlink to /dev/urandom"
contains "$OUT" "'$D/0006_random.sql': it is a character device, not a regular file" "device named"
rm "$D/0006_random.sql"

mkdir "$D/0007_dir.sql"
tst --dir "$D" up
expect_rc 2 "up with a directory named like a migration"
contains "$ERR" "it is a directory, not a regular file [FILE_NOT_REGULAR]" "directory"
rmdir "$D/0007_dir.sql"

truncate -s $((64 * 1024 * 1024 + 1)) "$D/0008_big.sql"
tst --dir "$D" up
expect_rc 2 "up with a file over 64 MiB"
contains "$ERR" "cannot read '$D/0008_big.sql': it is larger than 64 MiB [FILE_TOO_LARGE]" "too large"
eq "$(table_exists a)" 0 "nothing applied when a file is too large"
rm "$D/0008_big.sql"

# a symlink to a regular file is a migration like any other
mkdir -p "$WORK/elsewhere"
mig "$WORK/elsewhere" real.sql <<'SQL'
-- strata:up
CREATE TABLE linked (id integer);
-- strata:down
DROP TABLE linked;
SQL
ln -s "$WORK/elsewhere/real.sql" "$D/0002_linked.sql"
tst --dir "$D" up
expect_rc 0 "up through a symlink to a regular file"
eq "$(table_exists linked)" 1 "symlinked migration applied"
tst --dir "$D" down base
expect_rc 0 "down to base"
rm "$D/0002_linked.sql"

# the command line's own reads: schema --check, test files
mkfifo "$WORK/schema.fifo"
tst schema --check "$WORK/schema.fifo"
expect_rc 2 "schema --check on a FIFO"
contains "$ERR" "cannot read schema file '$WORK/schema.fifo': it is a FIFO, not a regular file [FILE_NOT_REGULAR]" "schema FIFO"
truncate -s $((64 * 1024 * 1024 + 1)) "$WORK/schema.big"
tst schema --check "$WORK/schema.big"
expect_rc 2 "schema --check on a huge file"
contains "$ERR" "[FILE_TOO_LARGE]" "schema too large"
rm -f "$WORK/schema.big"
mkdir -p "$D/tests"
mkfifo "$D/tests/t.sql"
tst --dir "$D" test
[ "$RC" = 124 ] && fail "strata test hangs on a FIFO test file"
contains "$ERR$OUT" "'$D/tests/t.sql': it is a FIFO, not a regular file" "test file FIFO"
rm -r "$D/tests"

# ---- item: names that are not migration names, a missing directory, the template

for f in abc_x.sql 0004_x.SQL -1_x.sql; do
    cp "$D/0001_create_a.sql" "$D/$f"
done
cp "$D/0001_create_a.sql" "$D/.#0003_lock.sql"   # hidden: an editor's file
cp "$D/0001_create_a.sql" "$D/0003_backup.sql~"  # not .sql
tst --dir "$D" validate
expect_rc 0 "validate with skipped names"
for f in abc_x.sql 0004_x.SQL -1_x.sql; do
    contains "$ERR" "strata: warning: skipping $f: not a migration name (<digits>_<slug>.sql)" "warning for $f"
done
lacks "$ERR" ".#0003" "hidden file skipped without a word"
lacks "$ERR" "backup" "non-.sql file skipped without a word"
eq "$(grep -c warning "$WORK/err")" 3 "one warning per skipped file"
tst -q --dir "$D" validate
eq "$ERR" "" "-q silences warnings"
tst --json --dir "$D" validate
valid_json "$ERR" "--json warnings"
contains "$ERR" '{"warning": "skipping 0004_x.SQL: not a migration name (<digits>_<slug>.sql)", "file": "'"$D"'/0004_x.SQL"}' "JSON warning"
for cmd in status up "sql --dialect sqlite" lint; do
    # shellcheck disable=SC2086
    tst --dir "$D" $cmd
    contains "$ERR" "skipping abc_x.sql" "$cmd warns about skipped files"
done
eq "$(table_exists a)" 1 "up applied the real migration"
tst --dir "$D" down base
rm "$D/abc_x.sql" "$D/0004_x.SQL" "$D/-1_x.sql" "$D/.#0003_lock.sql" "$D/0003_backup.sql~"

# a directory that does not exist, or is a file: DIR_NOT_FOUND on every command that reads migrations
for cmd in validate status up down redo "stamp 0001" "sql --dialect sqlite" lint check embed test reset; do
    # shellcheck disable=SC2086
    tst --dir "$WORK/wrong" $cmd
    expect_rc 2 "$cmd with a missing directory"
    contains "$ERR" "cannot open migration directory '$WORK/wrong'" "$cmd: missing directory named"
    contains "$ERR" "[DIR_NOT_FOUND]" "$cmd: missing directory code"
    lacks "$OUT" "ok:" "$cmd: no 'ok' for a missing directory"
done
# with both mistakes, the URL's is named first (the bigger one)
for u in "" "sqlite:///" "postgresql://app:p@ss@db/app"; do
    raw --url "$u" --dir "$WORK/wrong" status
    expect_rc 2 "bad URL '$u' and a missing directory"
    contains "$ERR" "[URL_INVALID]" "bad URL '$u' named before the missing directory"
    lacks "$ERR" "p@ss" "bad URL '$u': no password"
done
tst --dir "$D/0001_create_a.sql" validate
expect_rc 2 "a file as --dir"
contains "$ERR" "[DIR_NOT_FOUND]" "file as --dir"

# the template of `strata new` left unchanged: valid, with a warning
raw --dir "$D" new "todo"
expect_rc 0 "new"
NEWFILE=$OUT
tst --dir "$D" validate
expect_rc 0 "an empty up section is valid"
contains "$ERR" "strata: warning: $NEWFILE:" "empty up warned with file:line"
contains "$ERR" ": the up section has no statement; applying it only records the version" "empty up warned"
contains "$OUT" "ok: 2 migrations" "validate still ok"
tst --json --dir "$D" lint
valid_json "$ERR" "lint --json warning"
contains "$ERR" '"line": 1}' "warning names the up marker's line"
# one non-empty up section (even for one engine only) is not a slip
cat >"$NEWFILE" <<'SQL'
-- strata:up dialect=postgres
CREATE TABLE pgonly (id integer);
-- strata:up
SQL
tst --dir "$D" validate
lacks "$ERR" "no statement" "no warning when one up section holds a statement"
cat >"$NEWFILE" <<'SQL'
-- strata:up
-- just a comment; and an empty statement
;
-- strata:down
SQL
tst --dir "$D" up
expect_rc 0 "up of a comment-only migration"
contains "$ERR" "has no statement" "comment-only up warned"
eq "$(q "SELECT count(*) FROM strata_migrations")" 2 "both versions recorded"
tst --dir "$D" down base
expect_rc 0 "down base"
rm "$NEWFILE"

# ---- item: control characters and invalid UTF-8 in names never reach the terminal raw

ESC=$'\x1b'
cp "$D/0001_create_a.sql" "$D/0003_a${ESC}[31mred.sql"
tst --dir "$D" validate
expect_rc 3 "a control character in a migration name"
contains "$OUT" "PARSE_ERROR: bad migration file name '0003_a\\x1b[31mred.sql': it holds a control character" "escaped in validate"
lacks "$OUT$ERR" "$ESC" "no raw escape in validate"
tst --json --dir "$D" validate
valid_json "$OUT" "validate --json with an escape in a name"
eq "$(json_get "$OUT" 'j["problems"][0]["file"]')" "$D/0003_a${ESC}[31mred.sql" "JSON round-trips the name"
tst --dir "$D" up
expect_rc 2 "up refuses a name with a control character"
contains "$ERR" "0003_a\\x1b[31mred.sql" "escaped in the error"
lacks "$ERR" "$ESC" "no raw escape in the error"
tst --json --dir "$D" up
valid_json "$ERR" "up --json error"
rm "$D/0003_a${ESC}[31mred.sql"
cp "$D/0001_create_a.sql" "$D/x${ESC}]0;title$(printf '\a').sql"
tst --dir "$D" validate
contains "$ERR" "skipping x\\x1b]0;title\\x07.sql" "skipped name escaped"
lacks "$ERR" "$ESC" "no raw escape in a warning"
tst --json --dir "$D" validate
valid_json "$ERR" "--json warning with an escape"
rm "$D/x${ESC}]0;title$(printf '\a').sql"

# invalid UTF-8 (Latin-1) in a name: accepted, escaped for humans, U+FFFD in JSON
cat >"$D/0004_caf"$'\xe9'".sql" <<'SQL'
-- strata:up
CREATE TABLE cafe (id integer);
-- strata:down
DROP TABLE cafe;
SQL
for cmd in validate status lint "sql --dialect sqlite"; do
    # shellcheck disable=SC2086
    tst --json --dir "$D" $cmd
    valid_json "$OUT" "$cmd --json with invalid UTF-8 in a name"
done
tst --json --dir "$D" status
eq "$(json_get "$OUT" 'j["migrations"][1]["name"]')" "caf"$'\xef\xbf\xbd' "invalid byte is U+FFFD"
tst --dir "$D" status
contains "$OUT" 'caf\xe9' "human status escapes invalid UTF-8"
if [ "$ENGINE" = sqlite ]; then
    tst --dir "$D" up
    expect_rc 0 "up with a Latin-1 name"
    contains "$OUT" 'applied 0004_caf\xe9' "applied line escaped"
    tst --json --dir "$D" history
    valid_json "$OUT" "history --json"
    tst --dir "$D" down base
fi
rm "$D/0004_caf"$'\xe9'".sql"

# names read back from the version table (another tool, an old strata)
tst --dir "$D" up
expect_rc 0 "up"
if [ "$ENGINE" = postgres ]; then
    q "INSERT INTO strata_migrations (version, name, checksum, applied_at) VALUES ('0009', 'evil' || chr(27) || '[2J' || chr(10) || 'x', '', '2026-01-01T00:00:00Z')"
else
    q "INSERT INTO strata_migrations (version, name, checksum, applied_at) VALUES ('0009', 'evil' || char(27) || '[2J' || char(10) || CAST(X'FF' AS text), '', '2026-01-01T00:00:00Z')"
fi
for cmd in history status current; do
    tst --dir "$D" $cmd
    lacks "$OUT$ERR" "$ESC" "$cmd: no raw escape from the database"
    tst --json --dir "$D" $cmd
    valid_json "$OUT" "$cmd --json with control characters from the database"
done
tst --dir "$D" history
contains "$OUT" 'evil\x1b[2J\x0a' "history escapes"
q "DELETE FROM strata_migrations WHERE version = '0009'"
tst --dir "$D" down base

# ---- item: strata new keeps the letters of a name

N=$WORK/n
for pair in "Add Ünïcode name|0001_add_unicode_name.sql" "Straße Größe|0002_strasse_grosse.sql" \
    "Œuvre — Æther!|0003_oeuvre_aether.sql" "Добавить Таблицу|0004_добавить_таблицу.sql" \
    "u"$'\xcc\x88'"ber|0005_uber.sql" "日本語 テスト|0006_日本語_テスト.sql"; do
    raw --dir "$N" new "${pair%%|*}"
    expect_rc 0 "new ${pair%%|*}"
    eq "$OUT" "$N/${pair#*|}" "slug of '${pair%%|*}'"
done
# several at once take one version each (two took the same, a tester's)
P=$WORK/parallel_new
for i in 1 2 3 4 5 6 7 8; do "$STRATA" --dir "$P" new "p$i" >/dev/null 2>&1 & done
wait
eq "$(ls "$P" | wc -l | tr -d ' ')" "8" "8 new at once: 8 files"
eq "$(ls "$P" | cut -d_ -f1 | sort -u | wc -l | tr -d ' ')" "8" "8 new at once: 8 versions"
# a newest version of 70 digits: new writes the next one (it skipped
# versions over 61 digits and wrote one that sorts before them)
LV=$WORK/longver
mkdir -p "$LV"
long=1$(printf '0%.0s' $(seq 70))
printf -- '-- strata:up\nSELECT 1;\n' >"$LV/${long}_a.sql"
raw --dir "$LV" new b
expect_rc 0 "new after a 71-digit version"
eq "$OUT" "$LV/${long%0}1_b.sql" "new after a 71-digit version: the next one"
raw --dir "$N" new $'\xff\xfe'
expect_rc 2 "a name with no letters"
contains "$ERR" "[USAGE]" "no letters: usage error"
# Alembic's spelling: revision -m NAME; the name once, not twice, not never
M=$WORK/revision_m
raw --dir "$M" revision -m "Add users"
expect_rc 0 "revision -m"
eq "$OUT" "$M/0001_add_users.sql" "revision -m writes what new would"
raw --dir "$M" new -m x y
expect_rc 2 "a name given twice"
contains "$ERR" "not both" "a name given twice"
raw --dir "$M" new
expect_rc 2 "no name"
contains "$ERR" "needs the migration's name" "no name"
eq "$(ls "$M" | wc -l)" "1" "the refused runs wrote nothing"
# a timestamped directory whose newest file is ahead of the clock: the next
# version is one real second later (the next day's 000000), never second 60
T=$WORK/ts_future
mkdir -p "$T"
printf -- '-- strata:up\nSELECT 1;\n' >"$T/20991231235959_last.sql"
raw --dir "$T" new next
expect_rc 0 "new after a future timestamp"
eq "$OUT" "$T/21000101000000_next.sql" "the second after 23:59:59 is the next day's 00:00:00"
raw --dir "$T" new again
eq "$OUT" "$T/21000101000001_again.sql" "then one second more"
tst --dir "$N" validate
expect_rc 0 "every new file is a valid migration"
contains "$OUT" "ok: 6 migrations" "all six loaded"
for f in "$N"/*.sql; do
    printf -- '-- strata:up\nSELECT 1;\n-- strata:down\n' >"$f"
done
tst --dir "$N" up
expect_rc 0 "up of the new files"
tst --json --dir "$N" status
valid_json "$OUT" "status --json with UTF-8 names"
eq "$(json_get "$OUT" 'j["migrations"][3]["name"]')" "добавить_таблицу" "UTF-8 name stored and read back"
tst --dir "$N" history
contains "$OUT" "日本語_テスト" "UTF-8 name shown as is"
tst --dir "$N" down base
expect_rc 0 "down base"

# the hint for a missing PostgreSQL database names strata create
if [ "$ENGINE" = postgres ]; then
    MISSING="postgresql://$PGUSER:$PGPASSWORD@${PGHOST:-localhost}:$PGPORT/strata_no_such_db_$RANDOM"
    timeout -k 5 20 "$STRATA" --url "$MISSING" --dir "$D" status >"$WORK/out" 2>"$WORK/err"
    RC=$?
    ERR=$(cat "$WORK/err")
    expect_rc 4 "missing database"
    contains "$ERR" "[CONNECT_FAILED]" "missing database code"
    contains "$ERR" "hint: create it with 'strata create' (same URL)" "hint names strata create"
    lacks "$ERR" "$PGPASSWORD" "no password"
fi


# a migration with no up section for this engine: validate reports what up
# refuses (before: "ok", then up failed with PARSE_ERROR)
if [ "$ENGINE" = sqlite ]; then other=postgres; else other=sqlite; fi
VD=$WORK/vd
mig "$VD" 0001_only_other.sql <<SQL
-- strata:up dialect=$other
CREATE TABLE only_other (x int);
SQL
new_db
st --dir "$VD" validate
expect_rc 3 "validate: no up section for this engine"
contains "$OUT" "PARSE_ERROR" "validate: the code"
contains "$OUT" "0001_only_other has no up section for $ENGINE" "validate: names the migration and the engine"
st --dir "$VD" up
expect_rc 2 "up: the same migration refused"

finish
