#!/usr/bin/env bash
# SQLite operations: read-only commands on a WAL database whose directory is
# not writable, ?mode=ro URLs, restore of a file that is not a backup,
# backup -o -, drop of a symbolic link, whitespace around a URL.
. "$(dirname "$0")/lib.sh"

D=$WORK/m
mig "$D" 0001_a.sql <<'SQL'
-- strata:up
CREATE TABLE a (id integer PRIMARY KEY, v text);
-- strata:down
DROP TABLE a;
SQL
mig "$D" 0002_b.sql <<'SQL'
-- strata:up
CREATE TABLE b (id integer);
-- strata:down
DROP TABLE b;
SQL

# ------------------------------------------------- whitespace around a URL
# (both engines) a trailing blank or CR, from a flag, the environment or an
# env file, is not part of the URL
new_db
st --dir "$D" up 0001
"$STRATA" --url "$URL " --dir "$D" current >"$WORK/out" 2>"$WORK/err"
RC=$?
expect_rc 0 "URL with a trailing blank"
eq "$(cat "$WORK/out")" "0001" "URL with a trailing blank names the same database"
DATABASE_URL=" $URL	" raw --dir "$D" current
eq "$OUT" "0001" "DATABASE_URL with blanks around it"
mkdir -p "$WORK/envdir"
printf 'DATABASE_URL=%s \r\n' "$URL" >"$WORK/envdir/.env"
(cd "$WORK/envdir" && env -u DATABASE_URL "$STRATA" --dir "$D" current) >"$WORK/out" 2>"$WORK/err"
eq "$(cat "$WORK/out")" "0001" ".env line with a trailing blank and CR"
if [ "$ENGINE" = sqlite ]; then
    ls "$WORK" | grep -q ' $' && fail "a file whose name ends in a blank was created: $(ls "$WORK")"
fi

# ------------------------------------------------------------ backup -o -
# (both engines) refused: it used to create a file named '-'
(cd "$WORK" && "$STRATA" --url "$URL" backup -o - >"$WORK/out" 2>"$WORK/err")
RC=$?
ERR=$(cat "$WORK/err")
expect_rc 2 "backup -o -"
contains "$ERR" "standard output" "backup -o - says why"
contains "$ERR" "./-" "backup -o - hints at ./-"
[ -e "$WORK/-" ] && fail "backup -o - created a file named '-'"

if [ "$ENGINE" != sqlite ]; then
    finish
fi

# -------------------------------------------------------- restore checks
# a backup of a database that is not there: says so (not "cannot read
# backup"), exit 4 like any database that cannot be opened, no file written
raw --url "sqlite:///$WORK/nodb.sqlite3" backup -o "$WORK/nodb.bak"
expect_rc 4 "backup of a missing SQLite file"
contains "$ERR" "SQLite database '$WORK/nodb.sqlite3' does not exist [CONNECT_FAILED]" \
    "backup of a missing SQLite file: message"
lacks "$ERR" "cannot read backup" "backup of a missing SQLite file: not called a backup"
[ -e "$WORK/nodb.bak" ] && fail "backup of a missing SQLite file wrote a file"
[ -e "$WORK/nodb.sqlite3" ] && fail "backup of a missing SQLite file created the database"

# a FIFO or a directory given as the backup: FILE_NOT_REGULAR at once (a
# FIFO used to block the restore), nothing created
mkfifo "$WORK/fifo.bak"
timeout 10 "$STRATA" --url "sqlite:///$WORK/fromfifo.db" restore "$WORK/fifo.bak" >"$WORK/out" 2>"$WORK/err"
RC=$? OUT=$(cat "$WORK/out") ERR=$(cat "$WORK/err")
expect_rc 2 "restore from a FIFO (124: it hung)"
contains "$ERR" "it is a FIFO, not a regular file [FILE_NOT_REGULAR]" "restore from a FIFO: the message"
raw --url "sqlite:///$WORK/fromfifo.db" restore "$WORK"
expect_rc 2 "restore from a directory"
contains "$ERR" "it is a directory, not a regular file [FILE_NOT_REGULAR]" "restore from a directory: the message"
[ -e "$WORK/fromfifo.db" ] && fail "restore from a FIFO or directory created the database"

# a backup in WAL mode: restoring from it leaves no -wal or -shm beside it
WALDB=$WORK/walsrc.db
sqlite3 "$WALDB" "PRAGMA journal_mode=wal; CREATE TABLE w (x); INSERT INTO w VALUES (1);" >/dev/null
raw --url "sqlite:///$WALDB" backup -o "$WORK/wal.bak"
expect_rc 0 "backup of a WAL database"
raw --url "sqlite:///$WORK/walcopy.db" restore "$WORK/wal.bak"
expect_rc 0 "restore from a WAL-mode backup"
[ -e "$WORK/wal.bak-wal" ] || [ -e "$WORK/wal.bak-shm" ] && fail "restore left -wal/-shm beside the backup"
eq "$(sqlite3 "$WORK/walcopy.db" "SELECT x FROM w")" "1" "restored from the WAL-mode backup"
new_db
st --dir "$D" up
q "INSERT INTO a VALUES (1, 'keep')"
before=$(sqlite3 "$DBFILE" .dump)
: >"$WORK/empty.bak"
st restore "$WORK/empty.bak"
expect_rc 2 "restore of a 0-byte file"
contains "$ERR" "not a SQLite database" "0-byte backup: message"
contains "$ERR" "empty" "0-byte backup: says it is empty"
eq "$(sqlite3 "$DBFILE" .dump)" "$before" "0-byte restore left the database unchanged"
echo "plain text" >"$WORK/text.bak"
st restore "$WORK/text.bak"
expect_rc 2 "restore of a text file"
eq "$(sqlite3 "$DBFILE" .dump)" "$before" "text restore left the database unchanged"
# a SQLite backup cut short: the header is right, the pages are not there
st backup -o "$WORK/good.bak"
expect_rc 0 "backup"
sqlite3 "$WORK/big.db" "CREATE TABLE z (v); WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < 2000) INSERT INTO z SELECT hex(randomblob(100)) FROM c;"
head -c 8192 "$WORK/big.db" >"$WORK/cut.bak"
st restore "$WORK/cut.bak"
expect_rc 2 "restore of a truncated SQLite file"
contains "$ERR" "not a usable SQLite backup" "truncated backup: message"
eq "$(sqlite3 "$DBFILE" .dump)" "$before" "truncated restore left the database unchanged"
# a good backup still restores
q "DELETE FROM a"
st restore "$WORK/good.bak"
expect_rc 0 "restore of a good backup"
eq "$(q 'SELECT v FROM a')" "keep" "good backup restored"

# -------------------------------------------------------- drop of a link
new_db
st --dir "$D" up
ln -s "$DBFILE" "$WORK/link.db"
raw --url "sqlite:///$WORK/link.db" drop
expect_rc 2 "drop of a symbolic link"
contains "$ERR" "symbolic link" "drop of a link: says so"
contains "$ERR" "$DBFILE" "drop of a link: names the target"
[ -L "$WORK/link.db" ] || fail "drop removed the link"
[ -f "$DBFILE" ] || fail "drop removed the target"
eq "$(table_exists a)" "1" "target database intact after drop of a link"
rm "$WORK/link.db"

# ----------------------------------------------------------- ?mode=ro
new_db
st --dir "$D" up 0001
RO="sqlite:///$DBFILE?mode=ro"
raw --url "$RO" --dir "$D" status
expect_rc 0 "status on a mode=ro URL"
raw --url "$RO" --dir "$D" up
expect_rc 1 "up on a mode=ro URL"
contains "$ERR" "readonly" "up on mode=ro: message"
contains "$ERR" "mode=ro" "up on mode=ro: hint names mode=ro"
eq "$(table_exists b)" "0" "up on mode=ro changed nothing"
st --dir "$D" current
eq "$OUT" "0001" "still at 0001 after up on mode=ro"
raw --url "$RO" restore "$WORK/good.bak"
expect_rc 2 "restore into a mode=ro URL"
raw --url "$RO" drop
expect_rc 2 "drop of a mode=ro URL"
[ -f "$DBFILE" ] || fail "drop of a mode=ro URL removed the file"
raw --url "sqlite:///$WORK/nothere.db?mode=ro" --dir "$D" status
expect_rc 4 "mode=ro on a missing file"
contains "$ERR" "does not exist" "mode=ro on a missing file: message"
[ -e "$WORK/nothere.db" ] && fail "mode=ro created the file"
raw --url "sqlite:///$DBFILE?cache=shared" --dir "$D" current
expect_rc 2 "unknown SQLite URL parameter"
contains "$ERR" "parameter 'cache'" "unknown parameter named (its value is not echoed)"
contains "$ERR" "URL_INVALID" "unknown parameter: code"
raw --url "sqlite:///$DBFILE?postgresql://app:hunter2LEAK@db/app" --dir "$D" current
expect_rc 2 "a URL pasted after a SQLite URL"
lacks "$ERR" "hunter2LEAK" "what is not a plain parameter name is not echoed"

# -------------------------------- read-only commands, WAL, directory 555
as_nobody() {
    setpriv --reuid=65534 --regid=65534 --clear-groups --inh-caps=-all "$@"
}
if [ "$(id -u)" != 0 ] || ! command -v setpriv >/dev/null || ! as_nobody true 2>/dev/null; then
    echo "note: setpriv as nobody unavailable; the read-only directory checks were skipped" >&2
    finish
fi
chmod 755 "$WORK"
chmod 755 "$D" && chmod 644 "$D"/*.sql
RD=$WORK/ro
mkdir "$RD"
F=$RD/wal.db
"$STRATA" --url "sqlite:///$F" --dir "$D" up 0001 >/dev/null 2>&1 || fail "setup up"
eq "$(sqlite3 "$F" 'PRAGMA journal_mode=wal')" "wal" "WAL mode on"
chmod 555 "$RD"
nb() { # nb ARGS: strata as nobody on F; sets OUT, ERR, RC
    as_nobody "$STRATA" --url "sqlite:///$F" --dir "$D" "$@" >"$WORK/out" 2>"$WORK/err"
    RC=$?
    OUT=$(cat "$WORK/out")
    ERR=$(cat "$WORK/err")
}
readonly_cmds() { # readonly_cmds LABEL WANT_CURRENT
    nb status --json
    expect_rc 0 "$1: status"
    [ "$RC" = 0 ] && eq "$(json_get "$OUT" 'j["current"]')" "$2" "$1: status current"
    nb current
    expect_rc 0 "$1: current"
    eq "$OUT" "$2" "$1: current"
    nb validate
    expect_rc 0 "$1: validate"
    nb history
    expect_rc 0 "$1: history"
    contains "$OUT" "0001" "$1: history lists 0001"
    nb schema
    expect_rc 0 "$1: schema"
    contains "$OUT" "table a" "$1: schema shows table a"
    # a dry run shows what would run, and fails as the real run would
    # (the directory is not writable: SQLite cannot make its -wal/-shm)
    nb up --dry-run
    if [ "$2" = 0001 ]; then
        expect_rc 4 "$1: up --dry-run, 0002 pending"
        contains "$OUT" "0002_b" "$1: up --dry-run shows the plan"
        contains "$ERR" "not writable by this user" "$1: up --dry-run says why the run would fail"
    else
        expect_rc 0 "$1: up --dry-run, nothing pending"
    fi
    lacks "$ERR" "readonly database" "$1: up --dry-run"
    # a backup reads the same snapshot (into a directory nobody may write)
    rm -f "$BK/b.db"
    nb backup -o "$BK/b.db"
    expect_rc 0 "$1: backup"
    eq "$(sqlite3 "$BK/b.db" "SELECT max(version) FROM strata_migrations" 2>&1)" "$2" "$1: the backup holds the migrations"
}
BK=$WORK/bk
mkdir -p "$BK" && chmod 777 "$BK"
# no -wal nor -shm file, and none can be created
readonly_cmds "WAL, directory 555, no -wal/-shm" 0001
eq "$(ls "$RD")" "wal.db" "no file created in the read-only directory"
# a writing command still fails clearly
nb up
expect_rc 4 "up in a read-only directory"
contains "$ERR" "readonly" "up in a read-only directory: message"
contains "$ERR" "hint:" "up in a read-only directory: hint"
# a missing file is not created and reads as an empty database
as_nobody "$STRATA" --url "sqlite:///$RD/none.db" --dir "$D" status >"$WORK/out" 2>"$WORK/err"
eq "$?" "0" "status on a missing file in a read-only directory"
[ -e "$RD/none.db" ] && fail "status created the file"
# a dry run fails where the real run would: no file to create there
as_nobody "$STRATA" --url "sqlite:///$RD/none.db" --dir "$D" up --dry-run >"$WORK/out" 2>"$WORK/err"
eq "$?" "4" "up --dry-run: a missing file in a read-only directory"
contains "$(cat "$WORK/out")" "0001_a" "up --dry-run shows the plan all the same"
contains "$(cat "$WORK/err")" "directory is not writable" "up --dry-run says why up would fail"
[ -e "$RD/none.db" ] && fail "up --dry-run created the file"
# a backup of a WAL database is one too: restored from a directory this
# user may not write (a read-only backup volume), it is read as the
# read-only commands read it (it was "damaged or cut short")
WB=$WORK/walbk
mkdir -p "$WB/backups" "$WB/app"
sqlite3 "$WB/src.db" "PRAGMA journal_mode=wal; CREATE TABLE t (x); INSERT INTO t VALUES (1), (2);" >/dev/null
"$STRATA" --url "sqlite:///$WB/src.db" backup -o "$WB/backups/b.db" >/dev/null 2>&1 || fail "setup: WAL backup"
chmod 755 "$WB" "$WB/backups" && chmod 644 "$WB/backups/b.db" && chmod 777 "$WB/app"
as_nobody "$STRATA" --url "sqlite:///$WB/app/t.db" restore "$WB/backups/b.db" >"$WORK/out" 2>"$WORK/err"
eq "$?" "0" "restore of a WAL backup from a read-only directory: $(cat "$WORK/err")"
eq "$(sqlite3 "$WB/app/t.db" "SELECT count(*) FROM t")" "2" "the restored rows"
# a rollback-journal file this user may not write, in a directory it may
RJ=$WORK/rj
mkdir "$RJ" && chmod 777 "$RJ"
"$STRATA" --url "sqlite:///$RJ/r.db" --dir "$D" up 0001 >/dev/null 2>&1 || fail "setup up 0001 (rj)"
chmod 644 "$RJ/r.db"
as_nobody "$STRATA" --url "sqlite:///$RJ/r.db" --dir "$D" up --dry-run >"$WORK/out" 2>"$WORK/err"
eq "$?" "1" "up --dry-run: a file this user may not write"
contains "$(cat "$WORK/err")" "the file is not writable" "up --dry-run: names the file"
as_nobody "$STRATA" --url "sqlite:///$RJ/r.db" --dir "$D" up >"$WORK/out" 2>"$WORK/err"
eq "$?" "1" "up: the same file fails the real run the same way"
chmod 666 "$RJ/r.db"
as_nobody "$STRATA" --url "sqlite:///$RJ/r.db" --dir "$D" up --dry-run >"$WORK/out" 2>"$WORK/err"
eq "$?" "0" "up --dry-run: the file made writable"
eq "$(sqlite3 "$RJ/r.db" "SELECT max(version) FROM strata_migrations")" "0001" "the dry runs changed nothing"
# a symbolic link in a directory this user may not write, to a file in one
# it may: SQLite writes the journal beside the file the link names
chmod 755 "$RD"
ln -s "$RJ/r.db" "$RD/link.db"
chmod 555 "$RD"
as_nobody "$STRATA" --url "sqlite:///$RD/link.db" --dir "$D" up --dry-run >"$WORK/out" 2>"$WORK/err"
eq "$?" "0" "up --dry-run through a link to a writable directory: $(cat "$WORK/err")"
chmod 755 "$RD" && rm -f "$RD/link.db" && chmod 555 "$RD"

# -wal (with a committed migration in it) and -shm left by a writer that is
# gone: the migration in the -wal file is seen
chmod 755 "$RD"
"$STRATA" --url "sqlite:///$F" --dir "$D" up >/dev/null 2>&1 || fail "setup up 0002"
python3 - "$F" <<'PY'
import os, sqlite3, sys
c = sqlite3.connect(sys.argv[1])
c.execute("PRAGMA wal_autocheckpoint = 0")
c.execute("INSERT INTO a VALUES (7, 'in the wal')")
c.commit()
os._exit(0)  # no checkpoint, -wal and -shm stay
PY
[ -s "$F-wal" ] || fail "setup: no -wal file with content"
[ -e "$F-shm" ] || fail "setup: no -shm file"
chmod 555 "$RD"
readonly_cmds "WAL, directory 555, -wal and -shm present" 0002
eq "$(as_nobody sqlite3 -readonly "$F" 'SELECT v FROM a WHERE id = 7' 2>&1)" "in the wal" "setup: the row is only in the -wal"

# the same -wal without its -shm: it cannot be read safely, a clear error
chmod 755 "$RD"
mv "$F-shm" "$WORK/shm.keep"
chmod 555 "$RD"
nb status
expect_rc 4 "-wal with content, no -shm"
contains "$ERR" "-wal" "-wal without -shm: names the -wal file"
contains "$ERR" "hint:" "-wal without -shm: hint"
eq "$(ls "$RD" | sort | tr '\n' ' ')" "wal.db wal.db-wal " "-wal without -shm: nothing created"
nb backup -o "$BK/c.db"
expect_rc 4 "backup of a -wal with content, no -shm"
contains "$ERR" "-wal" "backup, -wal without -shm: names the -wal file"
[ -e "$BK/c.db" ] && fail "backup, -wal without -shm: no backup file is written"

# an empty -wal (checkpointed and truncated) and no -shm: read with immutable=1
chmod 755 "$RD"
mv "$WORK/shm.keep" "$F-shm"
sqlite3 "$F" 'PRAGMA wal_checkpoint(TRUNCATE)' >/dev/null
python3 - "$F" <<'PY'
import os, sqlite3, sys
c = sqlite3.connect(sys.argv[1])
c.execute("PRAGMA wal_checkpoint(TRUNCATE)")
os._exit(0)
PY
rm -f "$F-shm"
[ -e "$F-wal" ] && [ ! -s "$F-wal" ] || : >"$F-wal"
chmod 555 "$RD"
readonly_cmds "WAL, directory 555, empty -wal, no -shm" 0002
chmod 755 "$RD"


# ------------------------------------ a device or FIFO named as the database
# /dev/null read as an empty database: drop removed the device node (as
# root: the system's /dev/null), a FIFO hung every command. Now each is
# FILE_NOT_REGULAR at once, and the node stays.
mknod -m 666 "$WORK/nul" c 1 3 2>/dev/null || cp -a /dev/null "$WORK/nul" 2>/dev/null || true
mkfifo "$WORK/ff.db"
for node in "$WORK/nul" "$WORK/ff.db"; do
    [ -e "$node" ] || continue
    for cmd in drop create current status backup wait up "reset --yes"; do
        timeout 10 "$STRATA" --url "sqlite:///$node" --dir "$D" $cmd >"$WORK/out" 2>"$WORK/err"
        RC=$? ERR=$(cat "$WORK/err")
        expect_rc 2 "$cmd on $(basename "$node") (124: it hung)"
        contains "$ERR" "not a SQLite database file [FILE_NOT_REGULAR]" "$cmd on $(basename "$node"): the message"
    done
    [ -e "$node" ] || fail "a command removed $(basename "$node")"
done
[ -c "$WORK/nul" ] || [ ! -e "$WORK/nul" ] || fail "the device node is no longer a device"

# restore of the database onto itself (or through a link to it): USAGE at
# once, not a wait of --lock-timeout blamed on "another process"
new_db
st --dir "$D" up
ln -sf "$DBFILE" "$WORK/self.db"
for b in "$DBFILE" "$WORK/self.db"; do
    timeout 20 "$STRATA" --url "$URL" --lock-timeout 10 restore "$b" >"$WORK/out" 2>"$WORK/err"
    RC=$? ERR=$(cat "$WORK/err")
    expect_rc 2 "restore of the database onto itself ($b)"
    contains "$ERR" "into itself" "restore onto itself: says so"
done
eq "$(q "SELECT count(*) FROM strata_migrations")" 2 "restore onto itself changed nothing"

# --table main.x is the file's own schema: status and down see what up
# recorded (before: up applied, status said pending, down had nothing to
# revert); another schema is refused before anything runs
new_db
st --dir "$D" --table main.x up
expect_rc 0 "--table main.x: up"
st --dir "$D" --table main.x status
expect_rc 0 "--table main.x: status"
lacks "$OUT" "pending" "--table main.x: status sees the applied migrations"
st --dir "$D" --table main.x down
expect_rc 0 "--table main.x: down"
contains "$OUT" "reverted 0002_b" "--table main.x: down reverts"
new_db
st --dir "$D" --table temp.x up
expect_rc 2 "--table temp.x refused"
contains "$ERR" "on SQLite the version table is in the database file itself" "--table temp.x: says why"
eq "$(q "SELECT count(*) FROM sqlite_master WHERE name IN ('a', 'b', 'x')")" 0 "--table temp.x: nothing applied"

# another process holds an EXCLUSIVE lock (even readers wait): a lock
# timeout with its hint, not "cannot open"
new_db
st --dir "$D" up 0001
(printf 'BEGIN EXCLUSIVE;\nSELECT 1;\n'; sleep 4; printf 'COMMIT;\n') | sqlite3 "$DBFILE" >/dev/null &
holder=$!
sleep 0.5
st --dir "$D" up --lock-timeout 1 --json
expect_rc 4 "up behind an EXCLUSIVE lock"
eq "$(json_get "$ERR" 'j["code"]')" "LOCK_TIMEOUT" "an EXCLUSIVE lock held elsewhere is a lock timeout"
contains "$ERR" "--lock-timeout" "the hint names --lock-timeout"
st --dir "$D" status --lock-timeout 1
expect_rc 4 "status behind an EXCLUSIVE lock"
contains "$ERR" "LOCK_TIMEOUT" "status: a lock timeout"
wait "$holder"
st --dir "$D" up
expect_rc 0 "up once the lock is gone"

# PRAGMA foreign_key_check and integrity_check mean what they say: in a
# verify section foreign_key_check passes when it finds nothing (not "no
# rows") and fails on a violation (not "a true first value"); in an up
# section, SQLite's table-rebuild recipe, a violation fails the migration
new_db
FK=$WORK/fkcheck
mig "$FK" 0001_x.sql <<'SQL'
-- strata:up
CREATE TABLE p (id INTEGER PRIMARY KEY);
CREATE TABLE c (id INTEGER PRIMARY KEY, p INT REFERENCES p (id));
INSERT INTO c VALUES (1, 99);
-- strata:verify
PRAGMA foreign_key_check;
-- strata:down
DROP TABLE c;
DROP TABLE p;
SQL
st --dir "$FK" up
expect_rc 1 "verify: foreign_key_check finds an orphan"
contains "$ERR" 'a row of table "c" (rowid 1) refers to a missing row of "p"' "names the orphan"
eq "$(table_exists c)" 0 "the migration rolled back"
sed -i 's/INSERT INTO c VALUES (1, 99);/INSERT INTO p VALUES (99); INSERT INTO c VALUES (1, 99);/' "$FK/0001_x.sql"
st --dir "$FK" up
expect_rc 0 "verify: foreign_key_check finds nothing, passes"
new_db
FU=$WORK/fkup
mig "$FU" 0001_x.sql <<'SQL'
-- strata:up
CREATE TABLE p (id INTEGER PRIMARY KEY);
CREATE TABLE c (id INTEGER PRIMARY KEY, p INT REFERENCES p (id));
INSERT INTO c VALUES (1, 99);
PRAGMA main.foreign_key_check(c);
-- strata:verify
PRAGMA integrity_check;
-- strata:down
DROP TABLE c;
DROP TABLE p;
SQL
st --dir "$FU" up
expect_rc 1 "up: foreign_key_check finds an orphan"
contains "$ERR" "0001_x.sql:5" "at the PRAGMA's line"
eq "$(table_exists c)" 0 "up: the migration rolled back"
sed -i 's/INSERT INTO c VALUES (1, 99);/INSERT INTO p VALUES (99); INSERT INTO c VALUES (1, 99);/' "$FU/0001_x.sql"
st --dir "$FU" up
expect_rc 0 "up: no orphan, and integrity_check says ok"
# however it is written: after a comment, with a comment inside, quoted
for form in '-- orphans?
PRAGMA foreign_key_check;' '/* c */ PRAGMA foreign_key_check;' 'PRAGMA /* x */ foreign_key_check;' \
    'PRAGMA "foreign_key_check";' 'PRAGMA main . foreign_key_check;'; do
    new_db
    FW=$WORK/fkform_$RANDOM
    mkdir -p "$FW"
    printf -- '-- strata:up\nCREATE TABLE p (id INTEGER PRIMARY KEY);\nCREATE TABLE c (id INTEGER PRIMARY KEY, p INT REFERENCES p (id));\nINSERT INTO c VALUES (1, 99);\n%s\n-- strata:down\nDROP TABLE c;\nDROP TABLE p;\n' "$form" >"$FW/0001_x.sql"
    st --dir "$FW" up
    expect_rc 1 "foreign_key_check written as: $form"
done

# an in-memory database has nothing to create or drop (create said it
# existed, drop that it did not, both exit 0)
for cmd in create drop; do
    raw --url "sqlite::memory:" "$cmd"
    expect_rc 2 "$cmd of an in-memory database"
    contains "$ERR" "in-memory database" "$cmd of an in-memory database: says why"
done

# ?mode=rw means what it means to SQLite: read-write, never create
new_db
st --dir "$D" --url "$URL?mode=rw" up
expect_rc 4 "up with ?mode=rw on a missing file"
contains "$ERR" "never creates the file" "?mode=rw: says why"
[ -e "$DBFILE" ] && fail "?mode=rw created the file"
sqlite3 "$WORK/src.db" "CREATE TABLE s (x int)"
st --url "$URL?mode=rw" backup -o "$WORK/rw.backup"
expect_rc 4 "backup with ?mode=rw of a missing file"
"$STRATA" --url "sqlite:///$WORK/src.db" backup -o "$WORK/src.backup" >/dev/null 2>&1
st --url "$URL?mode=rw" restore "$WORK/src.backup"
expect_rc 4 "restore with ?mode=rw into a missing file"
[ -e "$DBFILE" ] && fail "restore with ?mode=rw created the file"
st --dir "$D" --url "$URL?mode=rwc" up -q
expect_rc 0 "?mode=rwc creates it"
st --dir "$D" --url "$URL?mode=rw" status
expect_rc 0 "?mode=rw on the file that now exists"
st --dir "$D" --url "$URL?mode=ro" down --dry-run
expect_rc 1 "down --dry-run with ?mode=ro: the real run could not write"
contains "$ERR" "read-only" "down --dry-run with ?mode=ro: says why"

finish
