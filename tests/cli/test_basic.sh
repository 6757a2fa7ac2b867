#!/usr/bin/env bash
# Every command of SPEC section 4 on a small history.
. "$(dirname "$0")/lib.sh"

new_db
D=$WORK/m
raw --dir "$D" new "Create products"
expect_rc 0 new
eq "$OUT" "$D/0001_create_products.sql" "new prints the path"
mig "$D" 0001_create_products.sql <<'SQL'
-- strata:up
CREATE TABLE products (id integer PRIMARY KEY, sku text NOT NULL UNIQUE, note text);
INSERT INTO products (id, sku, note) VALUES (1, 'a;b', 'it''s; -- not a comment');
-- strata:down
DROP TABLE products;
SQL
mig "$D" 0002_create_orders.sql <<'SQL'
-- strata:up
CREATE TABLE orders (id integer PRIMARY KEY, product_id integer REFERENCES products (id));
-- strata:down
DROP TABLE orders;
SQL
mig "$D" 0003_seed_admin_user.sql <<'SQL'
-- strata:up
CREATE TABLE users (id integer PRIMARY KEY, email text NOT NULL);
INSERT INTO users (id, email) VALUES (1, 'admin@retailpos.com');
-- strata:verify
SELECT count(*) = 1 FROM users WHERE email = 'admin@retailpos.com';
-- strata:down
DROP TABLE users;
SQL
raw --dir "$D" new "Add index!"
eq "$OUT" "$D/0004_add_index.sql" "new numbers after the existing files"
rm -f "$D/0004_add_index.sql"

# status before anything: pending, read-only (no version table created)
st --dir "$D" status --json
expect_rc 0 "status on empty db"
eq "$(json_get "$OUT" 'j["current"]')" "base" "current is base"
eq "$(json_get "$OUT" '[m["state"] for m in j["migrations"]]')" "['pending', 'pending', 'pending']" "all pending"
eq "$(table_exists strata_migrations)" "0" "status does not create the version table"
st --dir "$D" status --exit-code
expect_rc 3 "status --exit-code with pending"

# dry run changes nothing
st --dir "$D" up --dry-run
expect_rc 0 "up --dry-run"
contains "$OUT" "CREATE TABLE products" "dry run prints the SQL"
contains "$OUT" "INSERT INTO $([ "$ENGINE" = postgres ] && echo "public.")\"strata_migrations\"" "dry run prints the bookkeeping (schema-qualified on PostgreSQL)"
eq "$(table_exists products)" "0" "dry run created nothing"

# up +1, then up to a version, then head
st --dir "$D" up +1 --json
expect_rc 0 "up +1"
eq "$(json_get "$OUT" '[a["version"] for a in j["applied"]]')" "['0001']" "up +1 applies one"
eq "$(json_get "$OUT" 'j["current"]')" "0001" "current after +1"
st --dir "$D" upgrade 2
expect_rc 0 "upgrade 2"
contains "$OUT" "applied 0002_create_orders" "human output names the migration"
st --dir "$D" up
expect_rc 0 "up head"
eq "$(q "SELECT note FROM products WHERE id = 1")" "it's; -- not a comment" "string with ; and -- survived"
st --dir "$D" up --json
expect_rc 0 "second up"
eq "$(json_get "$OUT" 'len(j["applied"])')" "0" "second up is a no-op"
st --dir "$D" status --exit-code
expect_rc 0 "status --exit-code when up to date"

# global options after and before the command are the same
st --dir "$D" current --json
eq "$OUT" '{"current": "0003"}' "current --json"
raw --json --url "$URL" --dir "$D" current
eq "$OUT" '{"current": "0003"}' "--json before the command"
st --dir "$D" current
eq "$OUT" "0003" "current human"

st --dir "$D" history --json
expect_rc 0 history
eq "$(json_get "$OUT" '[m["version"] for m in j["migrations"]]')" "['0001', '0002', '0003']" "history lists applied"
eq "$(json_get "$OUT" 'all("duration_ms" in m and m["applied_at"].endswith("Z") for m in j["migrations"])')" "True" "history fields"
eq "$(json_get "$OUT" '[m["state"] for m in j["migrations"]]')" "['applied', 'applied', 'applied']" \
    "history --json: every row has its state"

# --json: what ran before a failure is on stdout, the error on stderr
P=$WORK/partial
mkdir -p "$P"
printf -- '-- strata:up\nCREATE TABLE pa (x int);\n-- strata:down\nDROP TABLE pa;\n' >"$P/0001_a.sql"
printf -- '-- strata:up\nCREATE TABLE pb (x int);\nSELECT * FROM no_such_table;\n' >"$P/0002_b.sql"
raw --json --url "$URL" --table partial_versions --dir "$P" up
expect_rc 1 "up --json that fails at its second migration"
eq "$(json_get "$OUT" '[a["version"] for a in j["applied"]]')|$(json_get "$OUT" 'j["current"]')" "['0001']|0001" \
    "up --json: the migration applied before the failure, on stdout"
eq "$(json_get "$ERR" 'j["code"]')" "MIGRATION_FAILED" "up --json: the error on stderr"
# redo whose up half fails: the down half committed, and the hint says so
st --dir "$P" --table partial_versions redo
expect_rc 0 "redo of 0001"
printf -- '-- strata:up\nCREATE TABLE pa (x int);\nSELECT * FROM no_such_table;\n-- strata:down\nDROP TABLE pa;\n' >"$P/0001_a.sql"
raw --url "$URL" --table partial_versions --dir "$P" redo --ignore-checksums
expect_rc 1 "redo whose up half fails"
contains "$ERR" "redo's down half committed: 0001_a is reverted (pending)" "the hint says what is left"
eq "$(table_exists pa)" "0" "the down half stands"
q "DROP TABLE partial_versions" >/dev/null

st --dir "$D" validate --json
expect_rc 0 validate
eq "$(json_get "$OUT" 'j["ok"]')" "True" "validate ok"

# down: one step, by id, -N, base
st --dir "$D" down --json
expect_rc 0 "down one"
eq "$(json_get "$OUT" '[a["version"] for a in j["reverted"]]')" "['0003']" "down reverts newest"
eq "$(table_exists users)" "0" "users dropped"
st --dir "$D" up
st --dir "$D" downgrade 0001_create_products --json
expect_rc 0 "downgrade to id"
eq "$(json_get "$OUT" '[a["version"] for a in j["reverted"]]')" "['0003', '0002']" "down to a version keeps it"
eq "$(json_get "$OUT" 'j["current"]')" "0001" "current after down to 0001"
st --dir "$D" up
st --dir "$D" down -2
expect_rc 0 "down -2"
st --dir "$D" current
eq "$OUT" "0001" "down -2 leaves 0001"
# -N and +N are counts: more than there are changes nothing (Alembic's rule;
# a typo of -10 for -1 must not revert everything)
st --dir "$D" up
st --dir "$D" down -4
expect_rc 2 "down -4 with three applied"
contains "$ERR" "down -4 asks for 4 steps; 3 migrations are applied [TARGET_NOT_FOUND]" "down -4 refused"
contains "$ERR" "down base" "the hint names down base"
st --dir "$D" current
eq "$OUT" "0003" "a refused down -4 reverted nothing"
st --dir "$D" down -3
st --dir "$D" up +4
expect_rc 2 "up +4 with three pending"
contains "$ERR" "up +4 asks for 4 migrations; 3 are pending" "up +4 refused"
st --dir "$D" current
eq "$OUT" "base" "a refused up +4 applied nothing"
st --dir "$D" up
st --dir "$D" down base
expect_rc 0 "down base"
st --dir "$D" current
eq "$OUT" "base" "down base"
eq "$(table_exists products)" "0" "products dropped"

# redo
st --dir "$D" up
st --dir "$D" redo --json
expect_rc 0 redo
eq "$(json_get "$OUT" '[a["version"] for a in j["reverted"]] + [a["version"] for a in j["applied"]]')" "['0003', '0003']" "redo = down one + up one"
# redo checks what the up half would refuse before the down half runs:
# a refused redo reverts nothing (it used to revert, then fail)
D2=$WORK/redo_m
mkdir -p "$D2"
cp "$D"/*.sql "$D2"/
mv "$D2/0001_create_products.sql" "$WORK/0001.keep"
st --dir "$D2" redo
expect_rc 1 "redo with an applied file missing"
contains "$ERR" "[MISSING_MIGRATION]" "redo names the missing file"
st --dir "$D2" current
eq "$OUT" "0003" "a refused redo reverted nothing"
st --dir "$D2" redo --ignore-missing --json
expect_rc 0 "redo --ignore-missing"
eq "$(json_get "$OUT" 'j["current"]')" "0003" "redo --ignore-missing went through"
mv "$WORK/0001.keep" "$D2/0001_create_products.sql"
echo "-- edited" >>"$D2/0001_create_products.sql"
st --dir "$D2" redo
expect_rc 1 "redo with an older file modified"
contains "$ERR" "[CHECKSUM_MISMATCH]" "redo names the modified file"
eq "$(applied_versions | tr '\n' ' ')" "0001 0002 0003 " "a refused redo kept every version"
eq "$(table_exists users)" "1" "a refused redo kept the newest table"

# stamp
st --dir "$D" stamp 0001
expect_rc 0 "stamp 0001"
st --dir "$D" current
eq "$OUT" "0001" "stamp moves current down without running SQL"
eq "$(table_exists users)" "1" "stamp ran no down SQL"
st --dir "$D" stamp head
st --dir "$D" status --json
eq "$(json_get "$OUT" '[m["state"] for m in j["migrations"]]')" "['applied', 'applied', 'applied']" "stamp head"
st --dir "$D" stamp base
st --dir "$D" current
eq "$OUT" "base" "stamp base clears"
st --dir "$D" stamp 0003
st --dir "$D" down base
expect_rc 0 "down base after stamp"

# single transaction
st --dir "$D" up --single-transaction --json
expect_rc 0 "up --single-transaction"
eq "$(json_get "$OUT" 'len(j["applied"])')" "3" "single transaction applied all"
# a single-transaction run that fails reports no step as applied or
# reverted (before: "reverted 0003_seed" above the error, though the whole
# run was rolled back), and says that nothing changed
mkdir -p "$WORK/st"
cp "$D"/*.sql "$WORK/st/"
mig "$WORK/st" 0004_breaks_down.sql <<'SQL'
-- strata:up
CREATE TABLE st_ok (id integer);
-- strata:down
DROP TABLE st_missing_table;
SQL
mig "$WORK/st" 0005_after.sql <<'SQL'
-- strata:up
CREATE TABLE st_after (id integer);
-- strata:down
DROP TABLE st_after;
SQL
st --dir "$WORK/st" up
expect_rc 0 "single transaction: up to 0005"
st --dir "$WORK/st" down base --single-transaction
expect_rc 1 "single transaction: down base fails on 0004's down"
lacks "$OUT" "reverted" "single transaction: no step reported reverted"
contains "$ERR" "the whole run was rolled back" "single transaction: says nothing changed"
eq "$(q "SELECT count(*) FROM strata_migrations")" 5 "single transaction: nothing reverted"
q "DROP TABLE st_ok" >/dev/null
q "DROP TABLE st_after" >/dev/null
q "DELETE FROM strata_migrations WHERE version IN ('0004', '0005')" >/dev/null
mig "$WORK/st" 0004_breaks_down.sql <<'SQL'
-- strata:up
CREATE TABLE st_ok (id integer);
CREATE TABLE st_ok (id integer);
SQL
st --dir "$WORK/st" down 0002 --single-transaction
expect_rc 0 "single transaction: down to 0002"
contains "$OUT" "reverted 0003_seed" "single transaction: steps reported after the commit"
st --dir "$WORK/st" up --single-transaction
expect_rc 1 "single transaction: up fails at 0004"
lacks "$OUT" "applied" "single transaction: no step reported applied"
eq "$(q "SELECT count(*) FROM strata_migrations")" 2 "single transaction: nothing applied"

# sql: offline, no connection at all
raw --url "postgresql://nobody:secret@127.0.0.1:1/none" --dir "$D" sql
expect_rc 0 "sql offline"
contains "$OUT" "CREATE TABLE IF NOT EXISTS \"strata_migrations\"" "sql has the version table"
contains "$OUT" "now()" "postgres bookkeeping"
raw --dir "$D" sql --dialect sqlite --from 0001 --to 0002
contains "$OUT" "-- 0002_create_orders (up)" "sql range includes 0002"
lacks "$OUT" "0001_create_products (up)" "sql --from is exclusive"
lacks "$OUT" "0003_seed" "sql --to is inclusive"
raw --dir "$D" sql --down --dialect sqlite --to 0001
contains "$OUT" "DROP TABLE users" "sql --down"
contains "$OUT" "DELETE FROM \"strata_migrations\" WHERE version = '0002'" "sql --down bookkeeping"
# a range backwards is a usage error, not an empty script
raw --dir "$D" sql --dialect sqlite --from 0003 --to 0001
expect_rc 2 "sql --from above --to"
contains "$ERR" "--from 0003 is above --to 0001: the range is empty [USAGE]" "backwards up range named"
raw --dir "$D" sql --down --dialect sqlite --from 0001 --to 0002
expect_rc 2 "sql --down --from below --to"
contains "$ERR" "down runs from --from (newer)" "backwards down range hint"
contains "$ERR" "is below --to 0002" "backwards down range named"

# --help everywhere
for c in new up upgrade down downgrade redo status current history validate stamp sql; do
    raw "$c" --help
    expect_rc 0 "$c --help"
    contains "$OUT" "usage: strata" "$c --help prints usage"
    raw help "$c"
    eq "$OUT" "$(cat "$WORK/out")" "help $c"
done
raw --help
contains "$OUT" "Commands:" "strata --help"
raw --version
contains "$OUT" "strata " "--version"

# custom version table
st --dir "$D" --table my_versions status --json
eq "$(json_get "$OUT" 'j["current"]')" "base" "another version table starts at base"

finish
