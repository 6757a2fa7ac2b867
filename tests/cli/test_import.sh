#!/usr/bin/env bash
# strata import: every format's fixture history (tests/fixtures/import, written
# from the tools' documentation) imported, then applied and reverted by strata
# on the engine under test; the header, the kept or renumbered versions, what
# is refused by name, and the speed on a 700-migration history.
. "$(dirname "$0")/lib.sh"

ROOT=$(cd "$(dirname "$0")/../.." && pwd)
FX=$ROOT/tests/fixtures/import

# imp TOOL [args]: imports the fixture of TOOL into $WORK/TOOL
imp() {
    local t=$1
    shift
    raw --dir "$WORK/$t" import --from "$t" "$FX/$t" "$@"
}

# objects: the tables/views/indexes of the current database, one per line
objects() {
    if [ "$ENGINE" = postgres ]; then
        q "SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
           WHERE n.nspname = 'public' AND c.relkind IN ('r', 'v', 'i') AND c.relname NOT LIKE 'strata%'
           ORDER BY 1"
    else
        q "SELECT name FROM sqlite_master WHERE name NOT LIKE 'strata%' AND name NOT LIKE 'sqlite%' ORDER BY 1"
    fi
}

columns() { # columns TABLE
    if [ "$ENGINE" = postgres ]; then
        q "SELECT string_agg(column_name, ',' ORDER BY ordinal_position) FROM information_schema.columns
           WHERE table_schema = 'public' AND table_name = '$1'"
    else
        q "SELECT group_concat(name, ',') FROM pragma_table_info('$1')"
    fi
}

# ------------------------------------------------------------------ dbmate
imp dbmate
expect_rc 0 "dbmate import"
contains "$OUT" "imported 3 dbmate migrations" "dbmate summary"
contains "$OUT" "versions kept" "dbmate timestamps kept"
eq "$(ls "$WORK/dbmate" | tr '\n' ' ')" "20240101120000_create_users.sql 20240102093000_add_users_email.sql 20240103080000_seed.sql " "dbmate file names"
eq "$(head -1 "$WORK/dbmate/20240103080000_seed.sql")" "-- import: tool=dbmate version=20240103080000 file=20240103080000_seed.sql" "dbmate header"
eq "$(sed -n 2p "$WORK/dbmate/20240103080000_seed.sql")" "-- strata:up no-transaction" "transaction:false"
# byte for byte: the up block of the source is in the file
src_up=$(sed -n '/migrate:up/,/migrate:down/p' "$FX/dbmate/20240102093000_add_users_email.sql" | sed '1d;$d')
contains "$(cat "$WORK/dbmate/20240102093000_add_users_email.sql")" "$src_up" "dbmate SQL carried"
new_db
st --dir "$WORK/dbmate" up
expect_rc 0 "dbmate history applied"
eq "$(columns users)" "id,name,email" "dbmate: users"
eq "$(q 'SELECT name FROM users')" "root" "dbmate: seed row"
st --dir "$WORK/dbmate" down base
expect_rc 0 "dbmate history reverted"
eq "$(objects)" "" "dbmate: down base leaves nothing"

# again into the same directory: refused unless --force
imp dbmate
expect_rc 1 "import into a directory with .sql files"
contains "$ERR" "[FILE_EXISTS]" "FILE_EXISTS"
imp dbmate --force
expect_rc 0 "--force overwrites"
# a re-import whose numbers moved: --force removes the earlier import's
# files it does not write again, and leaves files strata did not import
RN=$WORK/dbmate_rn
mkdir -p "$RN"
printf -- '-- migrate:up\nCREATE TABLE a (id int);\n-- migrate:down\nDROP TABLE a;\n' >"$RN/001_a.sql"
printf -- '-- migrate:up\nCREATE TABLE b (id int);\n-- migrate:down\nDROP TABLE b;\n' >"$RN/10_b.sql"
printf -- '-- migrate:up\nCREATE TABLE d (id int);\n-- migrate:down\nDROP TABLE d;\n' >"$RN/1_d.sql"
raw --dir "$WORK/rn_out" import --from dbmate "$RN"
expect_rc 0 "renumbered import"
printf -- '-- strata:up\nCREATE TABLE mine (id int);\n-- strata:down\nDROP TABLE mine;\n' >"$WORK/rn_out/0009_mine.sql"
printf -- '-- migrate:up\nCREATE TABLE c (id int);\n-- migrate:down\nDROP TABLE c;\n' >"$RN/02_c.sql"
raw --dir "$WORK/rn_out" import --from dbmate "$RN" --force
expect_rc 0 "re-import of the renumbered history with --force"
eq "$(ls "$WORK/rn_out" | tr '\n' ' ')" "0001_a.sql 0002_c.sql 0003_b.sql 0004_d.sql 0009_mine.sql " \
    "--force: the old numbers gone, the file strata did not import kept"
# "-- Migrate:Up" is a comment to dbmate: the refusal says so
MC=$WORK/dbmate_case
mkdir -p "$MC"
printf -- '-- Migrate:Up\nCREATE TABLE a (id int);\n-- migrate:down\nDROP TABLE a;\n' >"$MC/001_a.sql"
raw --dir "$WORK/mc_out" import --from dbmate "$MC"
expect_rc 2 "a dbmate marker in another case"
contains "$ERR" "line 1 is a marker in another case" "the hint names the line"
# a psql meta-command: refused by name before anything is written
printf -- '-- migrate:up\nSELECT 1\n\\gexec\n-- migrate:down\n' >"$RN/04_meta.sql"
raw --dir "$WORK/rn_meta" import --from dbmate "$RN"
expect_rc 2 "a psql meta-command in a dbmate file"
contains "$ERR" "IMPORT_UNSUPPORTED" "refused by name"
contains "$ERR" "gexec" "names the command"
[ -e "$WORK/rn_meta" ] && fail "nothing written for a psql meta-command"

# ------------------------------------------------------------------ goose
imp goose
expect_rc 0 "goose import"
eq "$(ls "$WORK/goose" | tr '\n' ' ')" "00001_create_users.sql 00002_add_email.sql 00003_add_role.sql 20240301120000_create_posts.sql " "goose: out-of-order version sorted as goose does"
eq "$(sed -n 2p "$WORK/goose/20240301120000_create_posts.sql")" "-- strata:up no-transaction" "NO TRANSACTION"
new_db
st --dir "$WORK/goose" up
expect_rc 0 "goose history applied"
eq "$(columns users)" "id,name,email,role" "goose: users"
eq "$(table_exists posts)" "1" "goose: posts"
st --dir "$WORK/goose" down
expect_rc 0 "goose: a file without Down reverts as a no-op, as in goose"
eq "$(table_exists posts)" "1" "goose: the no-op down left posts"
st --dir "$WORK/goose" current
contains "$OUT" "00003" "goose: back at 00003"
st --dir "$WORK/goose" down
expect_rc 0 "goose: revert 00003"
eq "$(columns users)" "id,name,email" "goose: role dropped"
mkdir -p "$WORK/goose_go" && cp "$FX/goose/"*.sql "$WORK/goose_go/" && echo 'package migrations' >"$WORK/goose_go/00004_seed.go"
raw --dir "$WORK/out_go" import --from goose "$WORK/goose_go"
expect_rc 2 "goose Go migration"
contains "$ERR" "00004_seed.go' is a goose Go migration" "refused by name"
contains "$ERR" "[IMPORT_UNSUPPORTED]" "IMPORT_UNSUPPORTED"
[ -e "$WORK/out_go" ] && fail "nothing is written when refused"
rm "$WORK/goose_go/00004_seed.go"
printf -- '-- +goose Up\n-- +goose ENVSUB ON\nCREATE TABLE ${IMPORT_TABLE} (id int);\n' >"$WORK/goose_go/00005_env.sql"
raw --dir "$WORK/out_env" import --from goose "$WORK/goose_go"
expect_rc 2 "ENVSUB without --expand-env"
contains "$ERR" "00005_env.sql', line 2: ENVSUB" "ENVSUB named"
IMPORT_TABLE=audit raw --dir "$WORK/out_env" import --from goose --expand-env "$WORK/goose_go"
expect_rc 0 "ENVSUB with --expand-env"
contains "$(cat "$WORK/out_env/00005_env.sql")" "CREATE TABLE audit (id int);" "variable expanded"
# a StatementBegin left open (at Down, or at the end) or a StatementEnd
# without one: goose refuses the file, and so does the import
for body in '-- +goose Up\n-- +goose StatementBegin\nCREATE TABLE b (id int);\n-- +goose Down\nDROP TABLE b;\n' \
    '-- +goose Up\n-- +goose StatementBegin\nCREATE TABLE b (id int);\n' \
    '-- +goose Up\nCREATE TABLE b (id int);\n-- +goose StatementEnd\n'; do
    rm -rf "$WORK/goose_blk" "$WORK/out_blk"
    mkdir -p "$WORK/goose_blk" && printf -- "$body" >"$WORK/goose_blk/00001_b.sql"
    raw --dir "$WORK/out_blk" import --from goose "$WORK/goose_blk"
    expect_rc 2 "goose: an unmatched StatementBegin/End"
    contains "$ERR" "[PARSE_ERROR]" "goose: an unmatched StatementBegin/End is PARSE_ERROR"
    [ -e "$WORK/out_blk" ] && fail "goose: nothing written for an unmatched StatementBegin/End"
done

# version 0: goose refuses it (its table's initial row is version 0)
mkdir -p "$WORK/goose_zero" && printf -- '-- +goose Up
CREATE TABLE z (id int);
' >"$WORK/goose_zero/00000_zero.sql"
raw --dir "$WORK/out_zero" import --from goose "$WORK/goose_zero"
expect_rc 2 "goose version 0"
contains "$ERR" "00000_zero.sql': version 0" "version 0 refused by name"
[ -e "$WORK/out_zero" ] && [ -n "$(ls -A "$WORK/out_zero")" ] && fail "version 0: nothing written"

# ------------------------------------------------------------------ golang-migrate
imp golang-migrate
expect_rc 0 "golang-migrate import"
eq "$(ls "$WORK/golang-migrate" | sort -n | tr '\n' ' ')" "1_create_users.sql 2_add_email.sql 10_backfill.sql " "golang-migrate names"
eq "$(head -1 "$WORK/golang-migrate/2_add_email.sql")" "-- import: tool=golang-migrate version=2 file=2_add_email.up.sql,2_add_email.down.sql" "both files in the header"
grep -q -- '-- strata:down' "$WORK/golang-migrate/10_backfill.sql" && fail "up-only file has no down"
new_db
st --dir "$WORK/golang-migrate" up
expect_rc 0 "golang-migrate applied"
eq "$(columns users)" "id,name,email" "golang-migrate: users"
st --dir "$WORK/golang-migrate" down base
expect_rc 1 "up-only migration is irreversible"
contains "$ERR" "[IRREVERSIBLE]" "IRREVERSIBLE"
st --dir "$WORK/golang-migrate" down 2
expect_rc 1 "still irreversible past 10"

# ------------------------------------------------------------------ flyway
imp flyway
expect_rc 0 "flyway import"
contains "$OUT" "renumbered" "dotted versions renumbered"
eq "$(ls "$WORK/flyway" | tr '\n' ' ')" "0001_baseline.sql 0002_orders.sql 0003_order_total.sql 0004_index_orders.sql " "flyway: baseline, then 1.2 < 1.10 < 2"
eq "$(head -1 "$WORK/flyway/0003_order_total.sql")" "-- import: tool=flyway version=1.10 file=sub/V1.10__order_total.sql" "flyway header"
contains "$(cat "$WORK/flyway/0001_baseline.sql")" "stands for V1__create_users.sql, V1_1__add_email.sql" "replaced versions named"
eq "$(sed -n 2p "$WORK/flyway/0004_index_orders.sql")" "-- strata:up no-transaction" "executeInTransaction=false"
new_db
st --dir "$WORK/flyway" up
expect_rc 0 "flyway applied"
eq "$(columns orders)" "id,user_id,total" "flyway: orders"
mkdir -p "$WORK/fw_r" && cp "$FX/flyway/V1__create_users.sql" "$WORK/fw_r/" && echo 'CREATE VIEW v AS SELECT 1;' >"$WORK/fw_r/R__views.sql"
raw --dir "$WORK/out_r" import --from flyway "$WORK/fw_r"
expect_rc 2 "repeatable migration"
contains "$ERR" "R__views.sql' is a Flyway repeatable migration" "R__ named"

# ------------------------------------------------------------------ pop
imp pop
expect_rc 0 "pop import"
f=$WORK/pop/20240102000000_widget_data.sql
contains "$(cat "$f")" "-- strata:up dialect=postgres" "postgres section"
contains "$(cat "$f")" "-- strata:up dialect=sqlite" "sqlite3 section"
contains "$(cat "$f")" "not imported (for other databases): 20240102000000_widget_data.mysql.up.sql" "mysql file named"
new_db
st --dir "$WORK/pop" up
expect_rc 0 "pop applied"
if [ "$ENGINE" = postgres ]; then
    eq "$(q "SELECT data_type FROM information_schema.columns WHERE table_name = 'widgets' AND column_name = 'data'")" "jsonb" "pop: postgres file used"
else
    eq "$(columns widgets)" "id,name,data" "pop: sqlite3 file used"
fi

# a postgres-only version (no generic file): pop skips it on other
# databases, and the import runs nothing there (an explicit no-op section)
cp -r "$FX/pop" "$WORK/pop_pg"
echo "CREATE TABLE pg_only (id integer);" >"$WORK/pop_pg/20240104000000_d.postgres.up.sql"
echo "DROP TABLE pg_only;" >"$WORK/pop_pg/20240104000000_d.postgres.down.sql"
raw --dir "$WORK/pop_pg_out" import --from pop "$WORK/pop_pg"
expect_rc 0 "import a postgres-only pop version"
f=$WORK/pop_pg_out/20240104000000_d.sql
eq "$(head -1 "$f")" "-- import: tool=pop version=20240104000000 file=20240104000000_d.postgres.up.sql,20240104000000_d.postgres.down.sql" \
    "postgres-only header"
contains "$(cat "$f")" "-- strata:up dialect=sqlite" "an up section for sqlite"
contains "$(cat "$f")" "-- strata:down dialect=sqlite" "a down section for sqlite"
new_db
st --dir "$WORK/pop_pg_out" up
expect_rc 0 "a postgres-only pop version on $ENGINE"
eq "$(table_exists pg_only)" "$([ "$ENGINE" = postgres ] && echo 1 || echo 0)" "pg_only only on postgres"
st --dir "$WORK/pop_pg_out" down
expect_rc 0 "its down on $ENGINE"
eq "$(table_exists pg_only)" 0 "pg_only gone"
raw --dir "$WORK/pop_sq_out" import --from pop "$WORK/pop_pg" --dialect sqlite
expect_rc 0 "import a postgres-only pop version for sqlite only"
lacks "$(cat "$WORK/pop_sq_out/20240104000000_d.sql")" "CREATE TABLE pg_only" "no postgres SQL in a sqlite-only import"
# ups per database beside one generic down: pop pairs that down with each
# of them (its up and down lists are apart); it was refused as "no up file"
mkdir -p "$WORK/pop_gd"
echo "CREATE TABLE gd (id integer);" >"$WORK/pop_gd/1_gd.postgres.up.sql"
echo "CREATE TABLE gd (id INTEGER);" >"$WORK/pop_gd/1_gd.sqlite3.up.sql"
echo "DROP TABLE gd;" >"$WORK/pop_gd/1_gd.down.sql"
echo "CREATE TABLE gp (id integer);" >"$WORK/pop_gd/2_gp.postgres.up.sql"
echo "DROP TABLE gp;" >"$WORK/pop_gd/2_gp.down.sql"
raw --dir "$WORK/pop_gd_out" import --from pop "$WORK/pop_gd"
expect_rc 0 "pop: ups per database and a generic down"
lacks "$(cat "$WORK/pop_gd_out/1_gd.sql")" $'-- strata:up\n' "no empty generic up section"
new_db
st --dir "$WORK/pop_gd_out" up
expect_rc 0 "pop: ups per database and a generic down, up on $ENGINE"
eq "$(table_exists gd)" 1 "gd made by this database's up"
eq "$(table_exists gp)" "$([ "$ENGINE" = postgres ] && echo 1 || echo 0)" "gp only on postgres"
st --dir "$WORK/pop_gd_out" down base
expect_rc 0 "pop: the generic down on $ENGINE"
eq "$(table_exists gd)" 0 "gd dropped by the generic down"
eq "$(table_exists gp)" 0 "gp gone"
# a file the tool runs outside a transaction (golang-migrate always;
# Flyway when a statement cannot run in one): a no-transaction section, so
# that strata runs it too (before: "validate: ok", then up failed with
# "cannot VACUUM from within a transaction" / 25001)
mkdir -p "$WORK/gm_vac" "$WORK/fw_conc"
echo "CREATE TABLE vt (x integer);" >"$WORK/gm_vac/1_t.up.sql"
echo "DROP TABLE vt;" >"$WORK/gm_vac/1_t.down.sql"
echo "VACUUM;" >"$WORK/gm_vac/2_v.up.sql"
raw --dir "$WORK/gm_vac_out" import --from golang-migrate "$WORK/gm_vac"
expect_rc 0 "import a golang-migrate VACUUM"
contains "$(cat "$WORK/gm_vac_out/2_v.sql")" "-- strata:up no-transaction" "VACUUM: a no-transaction section"
new_db
st --dir "$WORK/gm_vac_out" up
expect_rc 0 "VACUUM imported from golang-migrate runs on $ENGINE"
echo "CREATE TABLE ct (x integer);" >"$WORK/fw_conc/V1__t.sql"
if [ "$ENGINE" = postgres ]; then
    echo "CREATE INDEX CONCURRENTLY ct_x ON ct (x);" >"$WORK/fw_conc/V2__i.sql"
else
    echo "CREATE INDEX ct_x ON ct (x); VACUUM;" >"$WORK/fw_conc/V2__i.sql"
fi
raw --dir "$WORK/fw_conc_out" import --from flyway "$WORK/fw_conc"
expect_rc 0 "import a Flyway migration that runs outside a transaction"
contains "$(cat "$WORK/fw_conc_out/2_i.sql")" "-- strata:up no-transaction" "Flyway: a no-transaction section"
new_db
st --dir "$WORK/fw_conc_out" up
expect_rc 0 "the Flyway migration runs on $ENGINE"

# pop's dialect synonyms: a .pg. or .pgx. file is pop's postgres file, a
# .sqlite. file its sqlite3 one (before: the .pg. file was left out as "for
# other databases", and postgres ran the generic SQL)
mkdir -p "$WORK/pop_syn"
echo "CREATE TABLE syn (x integer);" >"$WORK/pop_syn/20240101000000_a.up.sql"
echo "CREATE TABLE syn (x integer, pg_col integer);" >"$WORK/pop_syn/20240101000000_a.pg.up.sql"
echo "CREATE TABLE syn (x integer, sq_col integer);" >"$WORK/pop_syn/20240101000000_a.sqlite.up.sql"
echo "DROP TABLE syn;" >"$WORK/pop_syn/20240101000000_a.down.sql"
echo "CREATE TABLE syn2 (x integer);" >"$WORK/pop_syn/20240102000000_b.pgx.up.sql"
raw --dir "$WORK/pop_syn_out" import --from pop "$WORK/pop_syn"
expect_rc 0 "import pop files named with dialect synonyms"
lacks "$(cat "$WORK/pop_syn_out/20240101000000_a.sql")" "not imported" "no synonym file left out"
new_db
st --dir "$WORK/pop_syn_out" up
expect_rc 0 "pop synonyms: up on $ENGINE"
if [ "$ENGINE" = postgres ]; then
    eq "$(columns syn)" "x,pg_col" "pop synonyms: the .pg. file ran on postgres"
    eq "$(table_exists syn2)" 1 "pop synonyms: the .pgx. file ran on postgres"
else
    eq "$(columns syn)" "x,sq_col" "pop synonyms: the .sqlite. file ran on sqlite"
    eq "$(table_exists syn2)" 0 "pop synonyms: the .pgx. file did not run on sqlite"
fi

# ------------------------------------------------------------------ sqitch
imp sqitch
expect_rc 0 "sqitch import"
eq "$(ls "$WORK/sqitch" | tr '\n' ' ')" "0001_users.sql 0002_flips.sql 0003_userflips.sql 0004_userflips.sql " "sqitch plan order"
eq "$(head -1 "$WORK/sqitch/0003_userflips.sql")" "-- import: tool=sqitch version=userflips@v1.0.0-dev1 file=deploy/userflips@v1.0.0-dev1.sql,revert/userflips@v1.0.0-dev1.sql,verify/userflips@v1.0.0-dev1.sql project=flipr" "reworked change: the earlier scripts"
eq "$(head -1 "$WORK/sqitch/0004_userflips.sql")" "-- import: tool=sqitch version=userflips file=deploy/userflips.sql,revert/userflips.sql,verify/userflips.sql project=flipr" "reworked change: the newest scripts"
contains "$(cat "$WORK/sqitch/0001_users.sql")" "-- strata:verify" "verify section"
if [ "$ENGINE" = sqlite ]; then # the fixture is sqitch's SQLite tutorial
    new_db
    st --dir "$WORK/sqitch" up
    expect_rc 0 "sqitch applied"
    eq "$(columns userflips)" "id,nickname,fullname,body,timestamp" "sqitch: the reworked view"
    st --dir "$WORK/sqitch" down
    expect_rc 0 "sqitch: revert to the earlier instance"
    eq "$(columns userflips)" "id,nickname,body,timestamp" "sqitch: the earlier view"
    st --dir "$WORK/sqitch" down base
    expect_rc 0 "sqitch reverted"
    eq "$(objects)" "" "sqitch: nothing left"
    # a verify that fails stops the migration, as sqitch verify would
    cp -r "$FX/sqitch" "$WORK/sq2"
    echo 'SELECT nickname, no_such_column FROM users;' >"$WORK/sq2/verify/users.sql"
    raw --dir "$WORK/sq2out" import --from sqitch "$WORK/sq2"
    expect_rc 0 "import of a failing verify"
    new_db
    st --dir "$WORK/sq2out" up
    expect_rc 1 "failing verify fails up"
    contains "$ERR" "[VERIFY_FAILED]" "VERIFY_FAILED"
fi
# a verify that passes in sqitch passes here too: a query that returns no
# row on the fresh table (before: "validate: ok", then VERIFY_FAILED with
# the deploy committed); on PostgreSQL sqitch's 1/count(*) still fails it
mkdir -p "$WORK/sq3/deploy" "$WORK/sq3/revert" "$WORK/sq3/verify"
printf '%%project=p\n\nusers 2020-01-01T00:00:00Z A <a@b.c> # x\n' >"$WORK/sq3/sqitch.plan"
printf 'BEGIN;\nCREATE TABLE sq_users (id integer, name text);\nCOMMIT;\n' >"$WORK/sq3/deploy/users.sql"
printf 'DROP TABLE sq_users;\n' >"$WORK/sq3/revert/users.sql"
printf 'BEGIN;\nSELECT id, name FROM sq_users;\nSELECT id FROM sq_users WHERE FALSE;\nROLLBACK;\n' >"$WORK/sq3/verify/users.sql"
raw --dir "$WORK/sq3out" import --from sqitch "$WORK/sq3"
expect_rc 0 "import of a verify whose queries return no row"
new_db
st --dir "$WORK/sq3out" up
expect_rc 0 "a verify whose queries return no row passes, as in sqitch"
if [ "$ENGINE" = postgres ]; then
    printf 'SELECT 1/count(*) FROM sq_users;\n' >"$WORK/sq3/verify/users.sql"
    raw --dir "$WORK/sq4out" import --from sqitch "$WORK/sq3"
    new_db
    st --dir "$WORK/sq4out" up
    expect_rc 1 "sqitch's 1/count(*) on an empty table fails the verify"
    contains "$ERR" "division by zero" "the verify's own error"
    # TABLE t (a query) and SELECT ... INTO (a new table, no row) pass, as
    # in sqitch, whatever their values
    printf 'TABLE sq_users;\nSELECT * INTO TEMP sq_copy FROM sq_users;\nWITH q AS (SELECT 1) SELECT * INTO TEMP sq_q FROM q;\n' >"$WORK/sq3/verify/users.sql"
    printf 'BEGIN;\nCREATE TABLE sq_users (id integer, name text);\nINSERT INTO sq_users VALUES (0, NULL);\nCOMMIT;\n' \
        >"$WORK/sq3/deploy/users.sql"
    raw --dir "$WORK/sq5out" import --from sqitch "$WORK/sq3"
    expect_rc 0 "import of TABLE and SELECT ... INTO in a verify"
    new_db
    st --dir "$WORK/sq5out" up
    expect_rc 0 "TABLE t with a first value 0 and SELECT ... INTO pass, as in sqitch"
fi

# two dbmate files of one version: refused before anything is written;
# a UTF-8 byte order mark before "-- migrate:up" is skipped
DD="$WORK/dbmate_dup"
mkdir -p "$DD"
printf -- '-- migrate:up\nCREATE TABLE t_x (id integer);\n-- migrate:down\nDROP TABLE t_x;\n' >"$DD/20240106000000_x.sql"
printf -- '-- migrate:up\nCREATE TABLE t_y (id integer);\n-- migrate:down\nDROP TABLE t_y;\n' >"$DD/20240106000000_y.sql"
raw --dir "$WORK/dbmate_dup_out" import --from dbmate "$DD"
expect_rc 2 "two dbmate files of one version"
contains "$ERR" "dbmate files '20240106000000_x.sql' and '20240106000000_y.sql' share version 20240106000000" \
    "both files named"
contains "$ERR" "[DUPLICATE_VERSION]" "DUPLICATE_VERSION"
[ -e "$WORK/dbmate_dup_out" ] && fail "nothing written for a duplicate dbmate version"
DB="$WORK/dbmate_bom"
mkdir -p "$DB"
printf -- '\357\273\277-- migrate:up\nCREATE TABLE t_b (id integer);\n-- migrate:down\nDROP TABLE t_b;\n' \
    >"$DB/20240107000000_b.sql"
raw --dir "$WORK/dbmate_bom_out" import --from dbmate "$DB"
expect_rc 0 "a dbmate file with a byte order mark"
eq "$(sed -n 2,3p "$WORK/dbmate_bom_out/20240107000000_b.sql")" "-- strata:up
CREATE TABLE t_b (id integer);" "the mark is skipped"
# the same for every format: a mark left in would land mid-file, after the
# header, where PostgreSQL reads it as part of the first statement
BM=$WORK/bom_src
mkdir -p "$BM/fw" "$BM/gm" "$BM/pop" "$BM/sq/deploy" "$BM/sq/revert"
printf '\357\273\277SELECT 1;\n' >"$BM/fw/V1__bom.sql"
printf '\357\273\277SELECT 1;\n' >"$BM/gm/1_bom.up.sql"
printf '\357\273\277SELECT 1;\n' >"$BM/pop/1_bom.up.sql"
printf '\357\273\277%%syntax-version=1.0.0\n%%project=p\n\nbom 2024-01-01T00:00:00Z a <a@x> # b\n' >"$BM/sq/sqitch.plan"
printf '\357\273\277SELECT 1;\n' >"$BM/sq/deploy/bom.sql"
printf '\357\273\277SELECT 2;\n' >"$BM/sq/revert/bom.sql"
for fmt in flyway:fw golang-migrate:gm pop:pop sqitch:sq; do
    raw --dir "$BM/out_${fmt#*:}" import --from "${fmt%%:*}" "$BM/${fmt#*:}"
    expect_rc 0 "${fmt%%:*}: a file with a byte order mark"
    if grep -rl $'\xef\xbb\xbf' "$BM/out_${fmt#*:}" >/dev/null 2>&1; then
        fail "${fmt%%:*}: the byte order mark was carried into the strata file"
    fi
    contains "$(cat "$BM/out_${fmt#*:}"/*.sql)" "SELECT 1;" "${fmt%%:*}: the SQL is there"
done

# a marker-like line inside a multi-line string is SQL text, as strata's
# loader reads it (it was refused); one outside any string is refused
MK=$WORK/marker_src
mkdir -p "$MK"
printf "CREATE TABLE mk (s text);\nINSERT INTO mk VALUES ('line1\n-- strata:down\n');\n" >"$MK/1_s.up.sql"
raw --dir "$WORK/marker_out" import --from golang-migrate "$MK"
expect_rc 0 "a marker-like line inside a string"
new_db
st --dir "$WORK/marker_out" up
expect_rc 0 "its up on $ENGINE"
eq "$(q "SELECT s FROM mk")" "line1
-- strata:down" "the string stored whole"
printf -- "SELECT 1;\n-- strata:down\nSELECT 2;\n" >"$MK/2_m.up.sql"
raw --dir "$WORK/marker_out2" import --from golang-migrate "$MK"
expect_rc 2 "a marker line outside any string"
contains "$ERR" "line 2 of its up SQL" "refused by line"

# ------------------------------------------------------------------ the CLI
raw --dir "$WORK/x" import --from liquibase "$FX/dbmate"
expect_rc 2 "unknown format"
contains "$ERR" "unknown import format 'liquibase'" "format named"
raw --dir "$WORK/x" import "$FX/dbmate"
expect_rc 2 "--from required"
raw import --help
expect_rc 0 "help"
contains "$OUT" "usage: strata import --from FORMAT SRC" "usage line"
for f in dbmate goose golang-migrate flyway sqitch pop alembic; do
    contains "$OUT" "  $f " "help lists the format $f"
done
raw --json --dir "$WORK/j" import --from goose "$FX/goose"
expect_rc 0 "json"
eq "$(json_get "$OUT" 'len(j["files"])')" "4" "json files"

# ------------------------------------------------------------------ speed
big=$WORK/big
mkdir -p "$big"
for i in $(seq 1 700); do
    printf -- '-- +goose Up\nCREATE TABLE t%d (id int PRIMARY KEY, v text);\n-- +goose Down\nDROP TABLE t%d;\n' "$i" "$i" >"$big/$(printf %05d "$i")_table_$i.sql"
done
t0=$(date +%s.%N)
raw --dir "$WORK/bigout" import --from goose "$big"
t1=$(date +%s.%N)
expect_rc 0 "700-migration import"
secs=$(echo "$t1 - $t0" | bc)
echo "import of 700 goose migrations: ${secs} s (${OUT##*(})"
[ "$(echo "$secs < 5" | bc)" = 1 ] || fail "700 migrations took $secs s"
eq "$(ls "$WORK/bigout" | wc -l)" "700" "700 files"

finish
