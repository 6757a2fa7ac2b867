#!/usr/bin/env bash
# strata import from dbmate, goose and golang-migrate: fixture histories
# written from the tools' documented formats, imported, applied by strata,
# refusals by name, and a 700-migration history imported quickly.
. "$(dirname "$0")/lib.sh"
new_db
F=$WORK/fx
mkdir -p "$F/dbmate" "$F/gm" "$F/goose" "$F/goose_go" "$F/goose_env"
cat >"$F/dbmate/20240101120000_create_users.sql" <<'SQL'
-- migrate:up
CREATE TABLE users (id integer PRIMARY KEY, name text);

-- migrate:down
DROP TABLE users;
SQL
cat >"$F/dbmate/20240102120000_index_users.sql" <<'SQL'
-- migrate:up transaction:false
CREATE INDEX users_name ON users (name);

-- migrate:down transaction:false
DROP INDEX users_name;
SQL
cat >"$F/gm/1_init.up.sql" <<'SQL'
CREATE TABLE a (id integer);
SQL
cat >"$F/gm/1_init.down.sql" <<'SQL'
DROP TABLE a;
SQL
cat >"$F/gm/2_seed.up.sql" <<'SQL'
INSERT INTO a VALUES (1);
SQL
# goose: versions out of file order, a multi-statement body
cat >"$F/goose/20240301000000_b.sql" <<'SQL'
-- +goose Up
-- +goose StatementBegin
CREATE VIEW b_view AS SELECT id FROM a;
-- +goose StatementEnd

-- +goose Down
DROP VIEW b_view;
SQL
cat >"$F/goose/20240201000000_a.sql" <<'SQL'
-- +goose Up
CREATE TABLE a (id integer);
-- +goose Down
DROP TABLE a;
SQL
cp "$F/goose/20240201000000_a.sql" "$F/goose_go/"
cat >"$F/goose_go/20240401000000_fill.go" <<'GO'
package migrations
GO
cat >"$F/goose_env/20240201000000_env.sql" <<'SQL'
-- +goose Up
-- +goose ENVSUB ON
CREATE TABLE ${TABLE_NAME} (id integer);
-- +goose ENVSUB OFF
-- +goose Down
DROP TABLE ${TABLE_NAME};
SQL

st --dir "$WORK/m_dbmate" import --from dbmate "$F/dbmate"
expect_rc 0 "import dbmate"
head1=$(head -1 "$WORK/m_dbmate/20240101120000_create_users.sql")
eq "$head1" "-- import: tool=dbmate version=20240101120000 file=20240101120000_create_users.sql" "the header records where it came from"
contains "$(cat "$WORK/m_dbmate/20240102120000_index_users.sql")" "-- strata:up no-transaction" "transaction:false becomes no-transaction"
contains "$(cat "$WORK/m_dbmate/20240101120000_create_users.sql")" "CREATE TABLE users (id integer PRIMARY KEY, name text);" "SQL carried as written"
st --dir "$WORK/m_dbmate" up
expect_rc 0 "up of the imported dbmate history"
eq "$(table_exists users)" "1" "dbmate history applied"
st --dir "$WORK/m_dbmate" down base
expect_rc 0 "down base of the imported dbmate history"
st --dir "$WORK/m_dbmate" import --from dbmate "$F/dbmate"
expect_rc 1 "import into a directory that has the files"
contains "$ERR" "FILE_EXISTS" "existing files are not overwritten"

new_db
st --dir "$WORK/m_gm" import --from golang-migrate "$F/gm"
expect_rc 0 "import golang-migrate"
st --dir "$WORK/m_gm" up
expect_rc 0 "up of the imported golang-migrate history"
eq "$(q 'SELECT count(*) FROM a')" "1" "golang-migrate history applied"
st --dir "$WORK/m_gm" down
expect_rc 1 "the up-only migration is irreversible"
contains "$ERR" "IRREVERSIBLE" "up-only: no down section"

new_db
st --dir "$WORK/m_goose" import --from goose "$F/goose"
expect_rc 0 "import goose"
eq "$(ls "$WORK/m_goose" | tr '\n' ' ')" "20240201000000_a.sql 20240301000000_b.sql " "goose versions in goose's order"
lacks "$(cat "$WORK/m_goose/20240301000000_b.sql")" "+goose" "goose markers become strata markers"
st --dir "$WORK/m_goose" up
expect_rc 0 "up of the imported goose history"
st --dir "$WORK/m_goose" down base
expect_rc 0 "down base of the imported goose history"

st --dir "$WORK/m_go" import --from goose "$F/goose_go"
expect_rc 2 "a goose Go migration"
contains "$ERR" "IMPORT_UNSUPPORTED" "Go migration: refused by code"
contains "$ERR" "20240401000000_fill.go" "Go migration: named"
[ -e "$WORK/m_go" ] && [ -n "$(ls "$WORK/m_go")" ] && fail "a refused import wrote files"
st --dir "$WORK/m_env" import --from goose "$F/goose_env"
expect_rc 2 "goose ENVSUB"
contains "$ERR" "ENVSUB" "ENVSUB: named"
TABLE_NAME=envtab st --dir "$WORK/m_env" import --from goose --expand-env "$F/goose_env"
expect_rc 0 "goose ENVSUB with --expand-env"
contains "$(cat "$WORK"/m_env/*.sql)" "CREATE TABLE envtab" "ENVSUB expanded from the environment"

st --dir "$WORK/m_x" import --from liquibase "$F/dbmate"
expect_rc 2 "an unknown format"

# 700 migrations
mkdir -p "$F/big"
for i in $(seq 1 700); do
    printf -- '-- migrate:up\nCREATE TABLE t%d (id integer);\n-- migrate:down\nDROP TABLE t%d;\n' "$i" "$i" \
        >"$F/big/$((20240000000000 + i))_t$i.sql"
done
t0=$(date +%s%N)
st --dir "$WORK/m_big" import --from dbmate "$F/big"
t1=$(date +%s%N)
expect_rc 0 "import of 700 migrations"
ms=$(((t1 - t0) / 1000000))
echo "# 700 dbmate migrations imported in $ms ms"
[ "$ms" -lt 5000 ] || fail "700 migrations took $ms ms"
eq "$(ls "$WORK/m_big" | wc -l)" "700" "700 files written"

finish
