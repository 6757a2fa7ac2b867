#!/usr/bin/env bash
# The fsyncs of a migration's commit on SQLite, counted with strace: in a
# rollback-journal mode the journal's pages are synced once per commit (not
# twice, as synchronous=FULL does), the database file once and the zeroed
# journal header once, so every COMMIT is on disk when it returns; in WAL mode every commit still syncs the -wal
# file, also when a no-transaction migration switched the file to WAL.
# The journal mode of the file is never changed by strata; in a
# rollback-journal mode a long run keeps the journal file open from its
# 17th transaction on (exclusive locking) and deletes it at the end.
. "$(dirname "$0")/lib.sh"

if [ "$ENGINE" != sqlite ]; then
    echo "ok [$ENGINE] $TEST_NAME (SQLite only)"
    exit 0
fi
if ! command -v strace >/dev/null || ! strace -f -o /dev/null true 2>/dev/null; then
    echo "note [$ENGINE] $TEST_NAME: strace unavailable (apt-get install strace); skipped" >&2
    finish
fi

D=$WORK/m
for i in 1 2 3 4; do
    mig "$D" "000${i}_t$i.sql" <<SQL
-- strata:up
CREATE TABLE t$i (id integer PRIMARY KEY, v text);
CREATE INDEX t${i}_v ON t$i (v);
-- strata:down
DROP TABLE t$i;
SQL
done

# syncs FILE-SUFFIX: how many fsync/fdatasync calls the last traced run made
# on the database file ("") or on its -journal / -wal file
syncs() {
    grep -E '^[0-9]+ +f(data)?sync\(' "$WORK/trace" | grep -c -- "$DBFILE$1>" || true
}
traced() {
    # LeakSanitizer cannot run under ptrace: the sanitizer build checks leaks elsewhere
    ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0" strace -f -y -e trace=fsync,fdatasync -o "$WORK/trace" "$STRATA" --url "$URL" "$@" >"$WORK/out" 2>"$WORK/err"
    RC=$?
    OUT=$(cat "$WORK/out")
    ERR=$(cat "$WORK/err")
}

# rollback journal (the default, delete), 4 migrations and the version
# table's creation: each commit syncs the journal once (NORMAL), the
# database file once, and the directory for the journal it deletes
new_db
traced --dir "$D" up
expect_rc 0 "up, delete mode"
eq "$(q 'SELECT count(*) FROM strata_migrations')" 4 "up, delete mode: four applied"
eq "$(q 'PRAGMA journal_mode')" delete "up, delete mode: journal mode unchanged"
[ ! -e "$DBFILE-journal" ] || fail "delete mode: the journal file is left behind"
j=$(syncs -journal)
f=$(syncs "")
[ "$f" -ge 5 ] || fail "delete mode: the database file was synced $f times for 5 commits (each must be durable)"
eq "$j" "$f" "delete mode: one journal sync per commit (synchronous=NORMAL)"

# a long run (40 migrations): from its 17th transaction the run holds the
# write lock (locking_mode=EXCLUSIVE), so the journal stays open between
# commits: per commit one sync of its pages, one of the database file, one
# of its zeroed header (the commit point); no directory sync per commit
DL=$WORK/long
mkdir -p "$DL"
for i in $(seq 1 40); do
    printf -- '-- strata:up\nCREATE TABLE l%d (id integer);\n-- strata:down\nDROP TABLE l%d;\n' "$i" "$i" >"$DL/$(printf '%04d' "$i")_l.sql"
done
new_db
traced --dir "$DL" up
expect_rc 0 "up, a long run"
eq "$(q 'SELECT count(*) FROM strata_migrations')" 40 "up, a long run: all applied"
[ ! -e "$DBFILE-journal" ] || fail "a long run: the journal file is left behind"
j=$(syncs -journal)
f=$(syncs "")
dir=$(grep -E '^[0-9]+ +f(data)?sync\(' "$WORK/trace" | grep -c -- "<$(dirname "$DBFILE")>" || true)
[ "$f" -ge 41 ] || fail "a long run: the database file was synced $f times for 41 commits (each must be durable)"
[ "$j" -ge "$f" ] || fail "a long run: the journal was synced $j times for $f database syncs"
echo "# a long run: $f database, $j journal, $dir directory syncs"
[ "$dir" -le 20 ] || fail "a long run: the directory was synced $dir times for 41 commits (not once the run holds the lock)"

# truncate and persist are rollback journals too (set by the application on
# its own connections; strata's connection opens in delete mode like any)

# WAL: each commit syncs the -wal file (synchronous stays FULL there)
new_db
sqlite3 "$DBFILE" 'PRAGMA journal_mode=WAL' >/dev/null
traced --dir "$D" up
expect_rc 0 "up, WAL mode"
eq "$(q 'PRAGMA journal_mode')" wal "up, WAL mode: journal mode unchanged"
w=$(syncs -wal)
[ "$w" -ge 5 ] || fail "WAL mode: the -wal file was synced $w times for 5 commits (each must be durable)"

# a no-transaction migration that switches the file to WAL: the commits
# after it sync the -wal file
D2=$WORK/m2
mig "$D2" 0001_a.sql <<'SQL'
-- strata:up
CREATE TABLE a (id integer);
-- strata:down
DROP TABLE a;
SQL
mig "$D2" 0002_wal.sql <<'SQL'
-- strata:up no-transaction
PRAGMA journal_mode = WAL;
-- strata:down no-transaction
PRAGMA journal_mode = DELETE;
SQL
for i in 3 4 5; do
    mig "$D2" "000${i}_t$i.sql" <<SQL
-- strata:up
CREATE TABLE t$i (id integer);
-- strata:down
DROP TABLE t$i;
SQL
done
new_db
traced --dir "$D2" up
expect_rc 0 "up, switching to WAL"
eq "$(q 'PRAGMA journal_mode')" wal "switching to WAL: the migration did it"
w=$(syncs -wal)
# 0002's applied record, 0003, 0004, 0005: four commits in WAL mode
[ "$w" -ge 4 ] || fail "switching to WAL: the -wal file was synced $w times for 4 commits in WAL mode"

finish
