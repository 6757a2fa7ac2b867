#!/usr/bin/env bash
# strata schema: normalized, deterministic text; -o; --check and drift.
. "$(dirname "$0")/lib.sh"

# run_sql FILE: runs a SQL file on the current database
run_sql() {
    if [ "$ENGINE" = postgres ]; then
        psql -X -q -v ON_ERROR_STOP=1 -d "$DBNAME" -f "$1" >/dev/null || fail "psql $1"
    else
        sqlite3 "$DBFILE" <"$1" || fail "sqlite3 $1"
    fi
}

D=$WORK/m
if [ "$ENGINE" = postgres ]; then
    # database A: through strata, in the natural order
    mig "$D" 0001_types.sql <<'SQL'
-- strata:up
CREATE TYPE mood AS ENUM ('sad', 'ok', 'happy');
CREATE SEQUENCE invoice_no START 1000;
-- strata:down
DROP SEQUENCE invoice_no;
DROP TYPE mood;
SQL
    mig "$D" 0002_tables.sql <<'SQL'
-- strata:up
CREATE TABLE customers (id bigint PRIMARY KEY, email text NOT NULL UNIQUE, mood mood DEFAULT 'ok');
CREATE TABLE orders (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    customer_id bigint REFERENCES customers (id) ON DELETE CASCADE,
    total numeric(12,2) NOT NULL CHECK (total >= 0),
    created_at timestamptz NOT NULL DEFAULT now(),
    note text
);
-- strata:down
DROP TABLE orders;
DROP TABLE customers;
SQL
    mig "$D" 0003_rest.sql <<'SQL'
-- strata:up
CREATE INDEX orders_created_at_idx ON orders (created_at);
CREATE INDEX orders_open_idx ON orders (customer_id) WHERE note IS NULL;
CREATE INDEX customers_lower_email_idx ON customers (lower(email));
CREATE VIEW big_orders AS SELECT id, total FROM orders WHERE total > 100;
CREATE FUNCTION touch() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RETURN NEW; END; $$;
CREATE TRIGGER orders_touch BEFORE UPDATE ON orders FOR EACH ROW EXECUTE FUNCTION touch();
-- strata:down
DROP TRIGGER orders_touch ON orders;
DROP FUNCTION touch();
DROP VIEW big_orders;
DROP INDEX customers_lower_email_idx;
DROP INDEX orders_open_idx;
DROP INDEX orders_created_at_idx;
SQL
    # database B: the same schema, created in another order by hand
    cat >"$WORK/b.sql" <<'SQL'
CREATE FUNCTION touch() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RETURN NEW; END; $$;
CREATE TABLE orders (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    customer_id bigint,
    total   numeric(12,2) NOT NULL CHECK (total >= 0),
    created_at timestamptz NOT NULL DEFAULT now(),
    note text
);
CREATE TRIGGER orders_touch BEFORE UPDATE ON orders FOR EACH ROW EXECUTE FUNCTION touch();
CREATE VIEW big_orders AS SELECT id, total FROM orders WHERE total > 100;
CREATE INDEX orders_open_idx ON orders (customer_id) WHERE note IS NULL;
CREATE TYPE mood AS ENUM ('sad', 'ok', 'happy');
CREATE TABLE customers (id bigint PRIMARY KEY, email text NOT NULL UNIQUE, mood mood DEFAULT 'ok');
ALTER TABLE orders ADD FOREIGN KEY (customer_id) REFERENCES customers (id) ON DELETE CASCADE;
CREATE INDEX customers_lower_email_idx ON customers (lower(email));
CREATE SEQUENCE invoice_no START 1000;
CREATE INDEX orders_created_at_idx ON orders (created_at);
SQL
    EXPECT_LINES=(
        "enum mood"
        "  value 'happy'"
        "sequence invoice_no"
        "  as bigint start 1000 increment 1 minvalue 1 maxvalue 9223372036854775807 cache 1"
        "table customers"
        "  column mood mood default 'ok'::mood"
        "  constraint customers_email_key UNIQUE (email)"
        "  index customers_lower_email_idx btree (lower(email))"
        "  column id bigint not null generated always as identity"
        "  constraint orders_customer_id_fkey FOREIGN KEY (customer_id) REFERENCES customers(id) ON DELETE CASCADE"
        "  constraint orders_total_check CHECK ((total >= (0)::numeric))"
        "  index orders_open_idx btree (customer_id) WHERE (note IS NULL)"
        "  trigger orders_touch BEFORE UPDATE ON public.orders FOR EACH ROW EXECUTE FUNCTION touch()"
        "view big_orders"
        "function touch() returns trigger"
    )
else
    mig "$D" 0001_tables.sql <<'SQL'
-- strata:up
CREATE TABLE customers (id INTEGER PRIMARY KEY, email TEXT NOT NULL UNIQUE,
                        mood TEXT DEFAULT 'ok' CHECK (mood IN ('sad', 'ok', 'happy')));
CREATE TABLE orders (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    customer_id INTEGER REFERENCES customers (id) ON DELETE CASCADE,
    total NUMERIC(12,2) NOT NULL CHECK (total >= 0),
    created_at TEXT NOT NULL DEFAULT CURRENT_TIMESTAMP,
    note TEXT,
    note_len INTEGER GENERATED ALWAYS AS (length(note)) VIRTUAL,
    total_cents INTEGER AS (CAST(total * 100 AS INTEGER)) STORED
);
-- strata:down
DROP TABLE orders;
DROP TABLE customers;
SQL
    mig "$D" 0002_rest.sql <<'SQL'
-- strata:up
CREATE INDEX orders_created_at_idx ON orders (created_at);
CREATE INDEX orders_open_idx ON orders (customer_id) WHERE note IS NULL;
CREATE INDEX customers_lower_email_idx ON customers (lower(email));
CREATE VIEW big_orders AS SELECT id, total FROM orders WHERE total > 100;
CREATE TRIGGER orders_touch AFTER UPDATE ON orders BEGIN UPDATE orders SET note = note WHERE id = NEW.id; END;
-- strata:down
DROP TRIGGER orders_touch;
DROP VIEW big_orders;
DROP INDEX customers_lower_email_idx;
DROP INDEX orders_open_idx;
DROP INDEX orders_created_at_idx;
SQL
    # database B: another order, other spacing and letter case, comments
    cat >"$WORK/b.sql" <<'SQL'
create table orders(id integer primary key autoincrement,
  customer_id integer references customers(id) on delete cascade,  -- before customers exists
  total numeric(12, 2) not null check(total>=0),
  created_at text not null default current_timestamp, note text,
  note_len integer as (LENGTH( note )),
  total_cents integer generated always as (cast(total*100 as integer)) stored);
create trigger orders_touch after update on orders
begin
    update orders set note=note where id=new.id;
end;
create   view big_orders as select id,total from orders where total>100;
create index orders_open_idx on orders(customer_id) where note is null;
create table customers(id integer primary key, email text not null unique,
  mood text default 'ok' check (mood in ('sad','ok','happy')));
create index customers_lower_email_idx on customers(lower(email));
create index orders_created_at_idx on orders(created_at);
SQL
    EXPECT_LINES=(
        "table customers"
        "  column mood text default 'ok'"
        "  check (mood in ('sad', 'ok', 'happy'))"
        "  unique (email)"
        "  index customers_lower_email_idx (lower(email))"
        "  column id integer"
        "  primary key (id) autoincrement"
        "  column total numeric(12, 2) not null"
        "  column note_len integer generated virtual as (length(note))"
        "  column total_cents integer generated stored as (cast(total * 100 as integer))"
        "  foreign key (customer_id) references customers (id) on delete cascade"
        "  index orders_open_idx (customer_id) where note is null"
        "  trigger orders_touch after update on orders begin update orders set note = note where id = new.id; end"
        "view big_orders"
        "  as select id, total from orders where total > 100"
    )
fi

# A: through strata (the version table must not show)
new_db
URL_A=$URL
st --dir "$D" up
expect_rc 0 "up A"
st schema
expect_rc 0 "schema A"
SCHEMA_A=$OUT
cp "$WORK/out" "$WORK/a1.txt"
lacks "$SCHEMA_A" "strata_migrations" "the version table is left out"
for l in "${EXPECT_LINES[@]}"; do
    grep -qxF -- "$l" "$WORK/a1.txt" || fail "schema lacks the line '$l'; got: $SCHEMA_A"
done
st schema
cmp -s "$WORK/out" "$WORK/a1.txt" || fail "two runs on the same database print different bytes"

# B: by hand, another creation order: the same text
new_db
run_sql "$WORK/b.sql"
st schema
expect_rc 0 "schema B"
cmp -s "$WORK/out" "$WORK/a1.txt" || fail "same schema, other creation order: $(diff "$WORK/a1.txt" "$WORK/out")"

# objects are sorted: tables by name, blank line between objects
eq "$(grep -n '^table ' "$WORK/a1.txt" | cut -d' ' -f2 | tr '\n' ' ')" "customers orders " "tables sorted by name"
grep -q '^$' "$WORK/a1.txt" || fail "objects are separated by blank lines"

# -o writes the file; --check is 0 when equal
st schema -o "$WORK/schema.txt"
expect_rc 0 "schema -o"
cmp -s "$WORK/schema.txt" "$WORK/a1.txt" || fail "-o wrote something else than stdout shows"
# -o replaces the file whole but keeps its mode, and a symlink stays one
chmod 600 "$WORK/schema.txt"
ln -s schema.txt "$WORK/schema-link.txt"
st schema -o "$WORK/schema-link.txt"
expect_rc 0 "-o through a symlink"
[ -L "$WORK/schema-link.txt" ] || fail "-o replaced the symlink with a file"
eq "$(stat -c %a "$WORK/schema.txt")" "600" "-o keeps the file's mode"
cmp -s "$WORK/schema.txt" "$WORK/a1.txt" || fail "-o through a symlink wrote the target"
rm "$WORK/schema-link.txt"
st schema --output="$WORK/schema2.txt"
cmp -s "$WORK/schema2.txt" "$WORK/a1.txt" || fail "--output=FILE"
st schema --check "$WORK/schema.txt"
expect_rc 0 "schema --check, no drift"
contains "$OUT" "schema matches" "no drift is said"
# a CRLF checkout of the file is not drift
sed 's/$/\r/' "$WORK/schema.txt" >"$WORK/schema-crlf.txt"
st schema --check "$WORK/schema-crlf.txt"
expect_rc 0 "schema --check with CRLF line ends"

# drift: a new column and a dropped index
q "ALTER TABLE orders ADD COLUMN extra integer" >/dev/null
q "DROP INDEX orders_created_at_idx" >/dev/null
st schema --check "$WORK/schema.txt"
expect_rc 3 "schema --check with drift"
contains "$OUT" "--- $WORK/schema.txt" "diff names the file"
contains "$OUT" "+++ database" "diff names the database"
contains "$OUT" $'\n+  column extra integer' "added column shown with +"
contains "$OUT" $'\n-  index orders_created_at_idx' "dropped index shown with -"
contains "$OUT" "@@ " "hunk header"
contains "$ERR" "SCHEMA_DRIFT" "drift error code"
st --json schema --check "$WORK/schema.txt"
expect_rc 3 "schema --check --json with drift"
eq "$(json_get "$OUT" 'j["ok"]')" "False" "json ok false"
contains "$(json_get "$OUT" 'j["diff"]')" "+  column extra integer" "json diff"
eq "$(json_get "$ERR" 'j["code"]')" "SCHEMA_DRIFT" "json error code"

# JSON output; an empty database prints nothing
st --json schema
expect_rc 0 "schema --json"
contains "$(json_get "$OUT" 'j["schema"]')" "column extra integer" "json schema"
eq "$(json_get "$OUT" 'j["engine"]')" "$ENGINE" "json engine"
new_db
st schema
expect_rc 0 "schema of an empty database"
eq "$OUT" "" "empty database, empty schema"
# another version table name is left out as well
st --dir "$D" --table my_versions up
st --table my_versions schema
lacks "$OUT" "my_versions" "--table version table left out"
contains "$OUT" "table orders" "schema after up with --table"

# PostgreSQL: what told two schemas apart only in the catalog printed the
# same text, and `check` passed a down that left it changed (a tester found
# each; all printed the same text before)
if [ "$ENGINE" = postgres ]; then
    schema_of() { # schema_of SQL: the schema text of a new database after SQL
        new_db
        psql -X -q -v ON_ERROR_STOP=1 -d "$DBNAME" -c "$1" >/dev/null || fail "psql: $1"
        st schema
        expect_rc 0 "schema after: $1"
        printf '%s' "$OUT"
    }
    differ() { # differ SQL_A SQL_B LINE: the texts differ; A's has LINE
        local a b
        a=$(schema_of "$1")
        b=$(schema_of "$2")
        [ "$a" != "$b" ] || fail "the same schema text for: $1 | $2: $a"
        grep -qxF -- "$3" <<<"$a" || fail "schema lacks '$3'; got: $a"
    }
    differ "create table t(id bigint generated always as identity (start with 100 increment by 5))" \
        "create table t(id bigint generated always as identity)" \
        "  column id bigint not null generated always as identity (start 100 increment 5 minvalue 1 maxvalue 9223372036854775807 cache 1)"
    differ "create table p(a int); create table c(a int) inherits (p)" \
        "create table p(a int); create table c(a int)" "table c inherits p"
    differ "create table t(a int); create view v as select a from t where a > 0 with cascaded check option" \
        "create table t(a int); create view v as select a from t where a > 0" "view v with (check_option=cascaded)"
    differ "create table t(a int); create view v with (security_invoker=true) as select a from t" \
        "create table t(a int); create view v as select a from t" "view v with (security_invoker=true)"
    differ "create table t(a int); alter table t replica identity full" "create table t(a int)" \
        "  replica identity full"
    differ "create table t(a int unique not null); alter table t replica identity using index t_a_key" \
        "create table t(a int unique not null)" "  replica identity using index t_a_key"
    differ "create table t(a int); create view v as select a from t; alter view v alter column a set default 5" \
        "create table t(a int); create view v as select a from t" "  column a default 5"
    # kinds pg_dump writes that were not listed at all: check passed a down
    # that left them, schema --check missed their drop
    differ "create collation c_de (provider = libc, locale = 'C')" "select 1" \
        "collation c_de (provider libc, locale C)"
    differ "create text search dictionary d1 (template = simple)" "select 1" \
        "text search dictionary d1 (template simple)"
    differ "create text search configuration cfg1 (copy = simple)" "select 1" \
        "text search configuration cfg1 (parser \"default\")"
    differ "create table t(a int, b int); create statistics s1 (dependencies) on a, b from t" \
        "create table t(a int, b int)" "  statistics s1 (dependencies) ON a, b FROM t"
    differ "create table t(a int, b int); create statistics \"my stats\" on a, b from t" \
        "create table t(a int, b int)" '  statistics "my stats" ON a, b FROM t'
    differ "create function f(int, text) returns bool language sql immutable as 'select true';
            create operator === (leftarg = int, rightarg = text, function = f)" \
        "create function f(int, text) returns bool language sql immutable as 'select true'" \
        "operator ===(integer, text) returns boolean function f(integer,text)"
    differ "create type addr as (street text); create table home of addr" \
        "create type addr as (street text); create table home (street text)" "table home of addr"
    # a range type's constructors are its own, not the user's functions
    OUT_R=$(schema_of "create type floatrange as range (subtype = float8)")
    lacks "$OUT_R" "function floatrange" "a range type's constructors are not listed"
    # the defaults print as before: no drift for an existing schema file
    OUT_ID=$(schema_of "create table t(id int generated by default as identity)")
    grep -qxF "  column id integer not null generated by default as identity" <<<"$OUT_ID" ||
        fail "a default identity prints its options: $OUT_ID"
fi

# usage
st schema -o "$WORK/x" --check "$WORK/schema.txt"
expect_rc 2 "-o with --check"
st schema --check "$WORK/nonexistent.txt"
expect_rc 1 "--check with a missing file"
contains "$ERR" "cannot read schema file" "missing file message"
raw schema --help
expect_rc 0 "schema --help"
contains "$OUT" "usage: strata schema" "schema --help"
raw help schema
contains "$OUT" "--check FILE" "help schema"

finish
