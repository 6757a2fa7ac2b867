#!/usr/bin/env bash
# strata accept: a deliberate edit of an applied migration is accepted,
# logged in the version table, and refused when the up SQL itself changed.
. "$(dirname "$0")/lib.sh"

new_db
D=$WORK/m
mig "$D" 0001_items.sql <<'SQL'
-- strata:up
CREATE TABLE items (id integer PRIMARY KEY, name text);
-- strata:down
DROP TABLE items;
SQL
mig "$D" 0002_more.sql <<'SQL'
-- strata:up
CREATE TABLE more (id integer);
SQL
st --dir "$D" up
expect_rc 0 "first up"

# a comment in the up section and a typo fixed in the down section
cat >"$D/0001_items.sql" <<'SQL'
-- strata:up
-- items sold in the shop
CREATE TABLE items (id integer PRIMARY KEY,   name text);
-- strata:down
DROP TABLE IF EXISTS items;
SQL
st --dir "$D" up
expect_rc 1 "up after the edit"
contains "$ERR" "CHECKSUM_MISMATCH" "the edit is noticed"
contains "$ERR" "strata accept 0001" "the hint names strata accept"
st --dir "$D" accept 0001
expect_rc 0 "accept a comment and a down fix"
contains "$OUT" "accepted 0001_items" "accept says what it did"
contains "$OUT" "up SQL unchanged" "accept says the up SQL is unchanged"
contains "$(q "SELECT note FROM strata_migrations WHERE version = '0001'")" "checksum accepted" \
    "the acceptance is logged in the version table"
st --dir "$D" up
expect_rc 0 "up after accept"
contains "$OUT" "nothing to apply" "nothing to apply after accept"
st --dir "$D" validate
expect_rc 0 "validate after accept"
st --dir "$D" accept 0001
expect_rc 0 "accept again"
contains "$OUT" "nothing to accept" "accepting a matching file changes nothing"

# the up SQL changed: refused, nothing written
sum_before=$(q "SELECT checksum FROM strata_migrations WHERE version = '0002'")
cat >"$D/0002_more.sql" <<'SQL'
-- strata:up
CREATE TABLE more (id integer, extra text);
SQL
st --dir "$D" accept 0002
expect_rc 1 "accept of a changed up section"
contains "$ERR" "UP_SQL_CHANGED" "refused by code"
contains "$ERR" "strata new" "the hint says to write a new migration"
eq "$(q "SELECT checksum FROM strata_migrations WHERE version = '0002'")" "$sum_before" "refusal changed nothing"
st --dir "$D" --json accept 0002 --force
expect_rc 0 "accept --force"
eq "$(json_get "$OUT" 'j["accepted"]["up_sql"]')" "changed" "json says the up SQL changed"
contains "$(q "SELECT note FROM strata_migrations WHERE version = '0002'")" "forced" "a forced accept is logged as such"

# not applied, unknown
mig "$D" 0003_new.sql <<'SQL'
-- strata:up
CREATE TABLE newer (id integer);
SQL
st --dir "$D" accept 0003
expect_rc 2 "accept of a pending migration"
contains "$ERR" "not applied" "pending: says so"
st --dir "$D" accept 0099
expect_rc 2 "accept of an unknown migration"
contains "$ERR" "TARGET_NOT_FOUND" "unknown: code"

# a version table written by an older strata (no up_checksum, no note)
new_db
mig "$WORK/o" 0001_a.sql <<'SQL'
-- strata:up
CREATE TABLE a (id integer);
-- strata:down
DROP TABLE a;
SQL
if [ "$ENGINE" = postgres ]; then
    q "CREATE TABLE strata_migrations (version text PRIMARY KEY, name text NOT NULL DEFAULT '', checksum text NOT NULL DEFAULT '', applied_at timestamptz NOT NULL DEFAULT now(), duration_ms bigint NOT NULL DEFAULT 0, state text NOT NULL DEFAULT 'applied', error text)"
else
    q "CREATE TABLE strata_migrations (version text PRIMARY KEY, name text NOT NULL DEFAULT '', checksum text NOT NULL DEFAULT '', applied_at text NOT NULL, duration_ms integer NOT NULL DEFAULT 0, state text NOT NULL DEFAULT 'applied', error text)"
fi
q "CREATE TABLE a (id integer)"
q "INSERT INTO strata_migrations (version, name, checksum, applied_at) VALUES ('0001', 'a', 'old', '2026-01-01T00:00:00Z')"
st --dir "$WORK/o" status
expect_rc 0 "status on an old version table"
contains "$OUT" "modified" "old table: the changed checksum shows"
st --dir "$WORK/o" accept 0001
expect_rc 1 "accept without a recorded up checksum"
contains "$ERR" "cannot tell" "old table: says why"
st --dir "$WORK/o" accept 0001 --force
expect_rc 0 "accept --force on an old version table"
st --dir "$WORK/o" up
expect_rc 0 "up on the upgraded version table"
eq "$(q "SELECT count(*) FROM strata_migrations WHERE up_checksum IS NOT NULL")" "1" "the up checksum is recorded"


# what the database sees differently is a change of the up SQL, however
# small: a quoted name's case, a string (SQLite's "Hello" in VALUES is
# one), a dollar-quoted body, an escape string (before: "up SQL
# unchanged", accepted without --force)
new_db
D=$WORK/u
if [ "$ENGINE" = postgres ]; then
    pairs=('CREATE TABLE "A" (x int);@@CREATE TABLE "a" (x int);'
        'CREATE TABLE v (x text); INSERT INTO v VALUES ($$Hello$$);@@CREATE TABLE v (x text); INSERT INTO v VALUES ($$hello$$);'
        'CREATE TABLE v (x text); INSERT INTO v VALUES ($$a -- b$$);@@CREATE TABLE v (x text); INSERT INTO v VALUES ($$a -- c$$);'
        "CREATE TABLE v (x text); INSERT INTO v VALUES (E'a\\'' || 'B');@@CREATE TABLE v (x text); INSERT INTO v VALUES (E'a\\'' || 'b');")
else
    pairs=('CREATE TABLE v (x); INSERT INTO v VALUES("Hello");@@CREATE TABLE v (x); INSERT INTO v VALUES("hello");'
        'CREATE TABLE [T] (x);@@CREATE TABLE [t] (x);')
fi
k=0
for pair in "${pairs[@]}"; do
    k=$((k + 1))
    rm -rf "$D"
    new_db
    printf -- '-- strata:up\n%s\n' "${pair%%@@*}" >"$D.sql"
    mkdir -p "$D" && mv "$D.sql" "$D/0001_x.sql"
    st --dir "$D" up
    expect_rc 0 "changed up $k: up"
    printf -- '-- strata:up\n%s\n' "${pair#*@@}" >"$D/0001_x.sql"
    st --dir "$D" accept 0001
    expect_rc 1 "changed up $k: accept refused"
    contains "$ERR" "UP_SQL_CHANGED" "changed up $k: ${pair#*@@}"
done
# while blanks, comments, the case of keywords and needless quotes around a
# lower-case name stay no change
rm -rf "$D"
new_db
mig "$D" 0001_x.sql <<'SQL'
-- strata:up
CREATE TABLE "items" (id integer, "name" text);
INSERT INTO items VALUES (1, 'Tea');
SQL
st --dir "$D" up
expect_rc 0 "same up: up"
cat >"$D/0001_x.sql" <<'SQL'
-- strata:up
-- the shop's items
create table items (ID integer,  name TEXT);
insert into ITEMS values (1, 'Tea');
SQL
st --dir "$D" accept 0001
expect_rc 0 "same up: accepted"
contains "$OUT" "up SQL unchanged" "same up: says so"

finish
