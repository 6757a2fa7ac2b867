#!/usr/bin/env bash
# SQL that must pass through intact: dialect sections, verify sections,
# dollar-quoted bodies, BEGIN ATOMIC, trigger bodies, ENUM ADD VALUE.
. "$(dirname "$0")/lib.sh"

new_db
D=$WORK/m
mig "$D" 0001_dialects.sql <<'SQL'
-- strata:up dialect=postgres
CREATE TABLE events (id bigserial PRIMARY KEY, body jsonb NOT NULL DEFAULT '{}');
-- strata:up dialect=sqlite
CREATE TABLE events (id integer PRIMARY KEY AUTOINCREMENT, body text NOT NULL DEFAULT '{}');
-- strata:down
DROP TABLE events;
SQL
mig "$D" 0002_verify_fails.sql <<'SQL'
-- strata:up
CREATE TABLE v (id integer);
INSERT INTO v VALUES (1);
-- strata:verify
SELECT count(*) = 2 FROM v;
-- strata:down
DROP TABLE v;
SQL
st --dir "$D" up
expect_rc 1 "verify fails"
contains "$ERR" "VERIFY_FAILED" "verify code"
contains "$ERR" "0002_verify_fails.sql:5" "verify line"
eq "$(table_exists v)" "0" "a failed verify rolls back the whole migration"
st --dir "$D" current
eq "$OUT" "0001" "dialect migration applied"
sed -i 's/count(\*) = 2/count(*) = 1/' "$D/0002_verify_fails.sql"
mig "$D" 0002_verify_fails.sql <<'SQL'
-- strata:up
CREATE TABLE v (id integer);
INSERT INTO v VALUES (1);
-- strata:verify
DELETE FROM v;
SELECT count(*) = 0 FROM v;
-- strata:down
DROP TABLE v;
SQL
st --dir "$D" up
expect_rc 0 "verify passes"
eq "$(q 'SELECT count(*) FROM v')" "1" "verify cannot change data (rolled back)"

# a verify query whose first column is a zero of any form fails, on both
# engines, by up and by the script strata sql writes: '0.00' and an avg of
# zeros passed on PostgreSQL (only the texts 0 and 0.0 were read as zero)
for zero in "0.00" "'0.00'" "'-0.0'" "avg(x) FROM (SELECT 0.0 AS x UNION ALL SELECT 0.0) z" "'F'" "' 0e3 '"; do
    Z=$WORK/zero_$RANDOM
    mkdir -p "$Z"
    printf -- '-- strata:up\nCREATE TABLE zt (i int);\n-- strata:verify\nSELECT %s;\n-- strata:down\nDROP TABLE zt;\n' \
        "$zero" >"$Z/0001_zero.sql"
    new_db
    st --dir "$Z" up
    expect_rc 1 "verify SELECT $zero fails"
    contains "$ERR" "VERIFY_FAILED" "verify SELECT $zero: the code"
    st --dir "$Z" sql
    printf '%s\n' "$OUT" >"$Z/script.sql"
    if [ "$ENGINE" = postgres ]; then
        psql -X -q -v ON_ERROR_STOP=1 -d "$DBNAME" -f "$Z/script.sql" >/dev/null 2>&1 &&
            fail "the script passed a verify of SELECT $zero"
    else
        sqlite3 "$DBFILE" <"$Z/script.sql" >/dev/null 2>&1 && fail "the script passed a verify of SELECT $zero"
    fi
    eq "$(table_exists zt)" "0" "verify SELECT $zero: nothing kept"
done
for one in "0.01" "'1e-3'" "'t'" "'0x'"; do
    Z=$WORK/one_$RANDOM
    mkdir -p "$Z"
    printf -- '-- strata:up\nCREATE TABLE zt (i int);\n-- strata:verify\nSELECT %s;\n-- strata:down\nDROP TABLE zt;\n' \
        "$one" >"$Z/0001_one.sql"
    new_db
    st --dir "$Z" up
    expect_rc 0 "verify SELECT $one passes"
done
new_db
st --dir "$D" up >/dev/null

if [ "$ENGINE" = postgres ]; then
    mig "$D" 0003_plpgsql.sql <<'SQL'
-- strata:up
CREATE TYPE payment_status AS ENUM ('pending', 'authorized');
CREATE TABLE payments (
    id bigserial PRIMARY KEY,
    status payment_status NOT NULL DEFAULT 'pending',
    meta jsonb NOT NULL DEFAULT '{}'::jsonb,
    note text DEFAULT E'semi;colon\'s',
    updated_at timestamptz
);
CREATE INDEX payments_meta_gin ON payments USING gin (meta);
CREATE FUNCTION touch() RETURNS trigger LANGUAGE plpgsql AS $body$
BEGIN
    NEW.updated_at := now(); -- a comment; with a semicolon
    RETURN NEW;
END;
$body$;
CREATE TRIGGER payments_touch BEFORE UPDATE ON payments
    FOR EACH ROW EXECUTE FUNCTION touch();
CREATE FUNCTION two() RETURNS int LANGUAGE sql
BEGIN ATOMIC
    SELECT 1;
    SELECT CASE WHEN true THEN 2 ELSE 3 END;
END;
DO $$ BEGIN PERFORM 1; END $$;
INSERT INTO payments (meta) VALUES ('{"a": "x;y"}');
-- strata:down
DROP FUNCTION two();
DROP TABLE payments;
DROP FUNCTION touch();
DROP TYPE payment_status;
SQL
    mig "$D" 0004_enum_value.sql <<'SQL'
-- strata:up no-transaction
ALTER TYPE payment_status ADD VALUE IF NOT EXISTS 'captured';
-- strata:down
-- enum values cannot be removed; this down is a deliberate no-op
SQL
    st --dir "$D" up
    expect_rc 0 "postgres features"
    eq "$(q 'SELECT two()')" "2" "BEGIN ATOMIC body intact"
    eq "$(q "SELECT note FROM payments")" "semi;colon's" "E'' string intact"
    q "UPDATE payments SET status = 'captured'" >/dev/null
    eq "$(q 'SELECT updated_at IS NOT NULL FROM payments')" "t" "trigger body intact"
    eq "$(q "SELECT meta->>'a' FROM payments")" "x;y" "jsonb literal intact"
    # a syntax error deep in a statement: the line of the error itself
    mig "$D" 0005_typo.sql <<'SQL'
-- strata:up
CREATE TABLE typo (
    id integer,
    name txet
);
-- strata:down
DROP TABLE typo;
SQL
    st --dir "$D" up
    expect_rc 1 "type error"
    contains "$ERR" "0005_typo.sql:4:" "the line inside the statement"
    contains "$ERR" "SQLSTATE 42704" "sqlstate"
    rm "$D/0005_typo.sql"
    st --dir "$D" down 0002
    expect_rc 0 "down through the postgres features"
    eq "$(q "SELECT count(*) FROM pg_type WHERE typname = 'payment_status'")" "0" "type dropped"
else
    mig "$D" 0003_trigger.sql <<'SQL'
-- strata:up
CREATE TABLE items (id integer PRIMARY KEY, qty integer, kind text, updated text);
CREATE TRIGGER items_touch AFTER UPDATE ON items
BEGIN
    UPDATE items SET updated = 'yes; really', kind = CASE WHEN NEW.qty > 1 THEN 'many' ELSE 'one' END
    WHERE id = NEW.id;
END;
INSERT INTO items (id, qty) VALUES (1, 1);
-- strata:down
DROP TABLE items;
SQL
    mig "$D" 0004_vacuum.sql <<'SQL'
-- strata:up no-transaction
VACUUM;
-- strata:down
SQL
    st --dir "$D" up
    expect_rc 0 "sqlite trigger and vacuum"
    q "UPDATE items SET qty = 5" >/dev/null
    eq "$(q 'SELECT updated || kind FROM items')" "yes; reallymany" "trigger body intact"
    mig "$D" 0005_typo.sql <<'SQL'
-- strata:up
CREATE TABLE typo (id integer);

INSERT INTO typo VALUES (1);
INSERT INTO typo VALUES (1, 2);
-- strata:down
DROP TABLE typo;
SQL
    st --dir "$D" up
    expect_rc 1 "wrong column count"
    contains "$ERR" "0005_typo.sql:5:" "the line of the failing statement"
    eq "$(table_exists typo)" "0" "rolled back"
fi

finish
