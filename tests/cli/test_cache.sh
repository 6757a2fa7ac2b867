#!/usr/bin/env bash
# The checksum cache of up and status (docs/migrations.md): files that did
# not change since they were last read are not read again, and any change
# to one (content, even of the same size with the mtime put back; a new
# file in its place) is still refused as before. The cache lives in the
# user's cache directory, never in the migration directory.
# Sleeps 11 s once: the cache keeps only files whose last change is more
# than 10 s older than the moment they were read.
. "$(dirname "$0")/lib.sh"

unset STRATA_CACHE_DIR
export XDG_CACHE_HOME=$WORK/xdg
CACHE=$XDG_CACHE_HOME/strata

new_db
D=$WORK/m
for v in 1 2 3; do
    mig "$D" "000${v}_t$v.sql" <<SQL
-- strata:up
CREATE TABLE t$v (id integer);
-- strata:down
DROP TABLE t$v;
SQL
done
ND=$WORK/m_nohome # for the home that does not exist, at the end
mkdir -p "$ND"
cp "$D"/*.sql "$ND/"
sleep 11
before=$(ls -A "$D")

# ---- up through the cache: written once, then used

st --dir "$D" up 0002
expect_rc 0 "first up"
eq "$(ls "$CACHE" | grep -c '^migrations-')" "1" "one cache file for the directory"
eq "$(stat -c %a "$CACHE")" "700" "the cache directory is private"
st --dir "$D" up
expect_rc 0 "up of a pending file the cache knows"
contains "$OUT" "applied 0003_t3" "0003 applied from its file"
eq "$(table_exists t3)" "1" "0003 ran"
eq "$(q "SELECT checksum FROM strata_migrations WHERE version = '0003'")" \
    "$(sha256sum <"$D/0003_t3.sql" | cut -d' ' -f1)" "the recorded checksum is the file's"
st --dir "$D" up
expect_rc 0 "no-op up"
contains "$OUT" "nothing to apply" "no-op"
eq "$(ls -A "$D")" "$before" "nothing written to the migration directory"
for v in 1 2 3; do
    eq "$(grep -c -a "000${v}_t$v.sql" "$CACHE"/migrations-*)" "1" "000$v is in the cache"
done

# ---- a file added to a directory listed from the cache is seen

mig "$D" 0004_t4.sql <<'SQL'
-- strata:up
CREATE TABLE t4 (id integer);
-- strata:down
DROP TABLE t4;
SQL
st --dir "$D" up
expect_rc 0 "up with a new file"
contains "$OUT" "applied 0004_t4" "the new file applied"
eq "$(table_exists t4)" "1" "0004 ran"

# ---- STRATA_CACHE_DIR: elsewhere, or "" for none

STRATA_CACHE_DIR=$WORK/other st --dir "$D" status
expect_rc 0 "status with STRATA_CACHE_DIR"
eq "$(ls "$WORK/other" | grep -c '^migrations-')" "1" "cache written where STRATA_CACHE_DIR says"
rm -rf "$CACHE"
STRATA_CACHE_DIR= st --dir "$D" up
expect_rc 0 "up without a cache"
eq "$([ -e "$CACHE" ] && echo yes || echo no)" "no" "no cache written"

# ---- a damaged cache file is ignored (and the edit below still seen)

st --dir "$D" up
expect_rc 0 "cache written again"
f=$(ls "$CACHE"/migrations-*)
printf 'garbage' | dd of="$f" bs=1 seek=64 conv=notrunc status=none
st --dir "$D" up
expect_rc 0 "damaged cache ignored"
contains "$OUT" "nothing to apply" "no-op"
cp -p "$D/0001_t1.sql" "$WORK/saved1.sql"
echo "-- edit" >>"$D/0001_t1.sql"
st --dir "$D" up
expect_rc 1 "edit after a damaged cache refused"
contains "$ERR" "CHECKSUM_MISMATCH" "checksum code"
cp "$WORK/saved1.sql" "$D/0001_t1.sql"

# ---- an edit of the same size, mtime put back: still CHECKSUM_MISMATCH

eq "$(grep -c -a 0002_t2.sql "$CACHE"/migrations-*)" "1" "0002 is in the cache before the edit"
cp -p "$D/0002_t2.sql" "$WORK/saved.sql"
sed -i 's/CREATE TABLE t2/CREATE TABLE x2/' "$D/0002_t2.sql"
touch -r "$WORK/saved.sql" "$D/0002_t2.sql"
eq "$(stat -c %s "$D/0002_t2.sql")" "$(stat -c %s "$WORK/saved.sql")" "same size"
st --dir "$D" up
expect_rc 1 "same-size edit refused"
contains "$ERR" "CHECKSUM_MISMATCH" "checksum code"
contains "$ERR" "0002_t2" "the file is named"
st --dir "$D" status
contains "$OUT" "modified" "status sees the edit"

# ---- a new file in the place of an applied one

cp "$WORK/saved.sql" "$D/0002_t2.new"
echo "-- a comment" >>"$D/0002_t2.new"
mv "$D/0002_t2.new" "$D/0002_t2.sql"
st --dir "$D" up
expect_rc 1 "replaced file refused"
contains "$ERR" "CHECKSUM_MISMATCH" "checksum code"

# ---- the original content back: accepted again

cp "$WORK/saved.sql" "$D/0002_t2.sql"
st --dir "$D" up
expect_rc 0 "restored file accepted"
contains "$OUT" "nothing to apply" "no-op"

# ---- a missing applied file is still MISSING_MIGRATION

mv "$D/0001_t1.sql" "$WORK/"
st --dir "$D" up
expect_rc 1 "missing file refused"
contains "$ERR" "MISSING_MIGRATION" "missing code"
mv "$WORK/0001_t1.sql" "$D/"

# ---- a FIFO in the place of a cached file is not read, and not taken

mv "$D/0003_t3.sql" "$WORK/"
mkfifo "$D/0003_t3.sql"
timeout -k 5 20 "$STRATA" --url "$URL" --dir "$D" up >"$WORK/out" 2>"$WORK/err"
RC=$?
ERR=$(cat "$WORK/err")
expect_rc 2 "FIFO refused"
contains "$ERR" "FILE_NOT_REGULAR" "not regular"
rm "$D/0003_t3.sql"
mv "$WORK/0003_t3.sql" "$D/"

# ---- on one core the loader starts where it can (it is started on
# another core when there is one): the same answers, edits still seen

if command -v taskset >/dev/null; then
    taskset -c 0 "$STRATA" --url "$URL" --dir "$D" up >"$WORK/out" 2>"$WORK/err"
    RC=$? OUT=$(cat "$WORK/out")
    expect_rc 0 "no-op up on one core"
    contains "$OUT" "nothing to apply" "no-op on one core"
    cp "$D/0001_t1.sql" "$WORK/t1.sql"
    echo "-- edited" >>"$D/0001_t1.sql"
    taskset -c 0 "$STRATA" --url "$URL" --dir "$D" up >"$WORK/out" 2>"$WORK/err"
    RC=$? ERR=$(cat "$WORK/err")
    expect_rc 1 "edit refused on one core"
    contains "$ERR" "CHECKSUM_MISMATCH" "checksum code on one core"
    cp "$WORK/t1.sql" "$D/0001_t1.sql"
else
    echo "# taskset not found (util-linux): the one-core checks are skipped"
fi

# a home that does not exist (a system user's HOME=/nonexistent): no cache,
# and nothing made there (it was created as a directory tree)
env -u XDG_CACHE_HOME -u STRATA_CACHE_DIR HOME="$WORK/nohome" "$STRATA" --url "$URL" --dir "$ND" status \
    >"$WORK/o" 2>"$WORK/e"
eq "$?" "0" "status with a home that does not exist ($(cat "$WORK/e"))"
[ -e "$WORK/nohome" ] && fail "a home that did not exist was made: $(find "$WORK/nohome" | head -3)"

finish
