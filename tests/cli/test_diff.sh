#!/usr/bin/env bash
# strata diff: the migration from the directory's schema to a desired one,
# proven before it is written. Every example history step by step; pairs of
# schemas for each kind of change; destructive steps, renames, no
# difference, --exit-code, --json, --print, and a diff that cannot be proven.
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/diff_lib.sh"

export TMPDIR=$WORK/tmp
mkdir -p "$TMPDIR"
new_db
SERVER=$URL


# ---------------------------------------------------------------- examples
# For each migration k of each history: the diff from the schema at k-1 to
# the schema at k, applied at k-1, gives exactly the schema at k, and its
# down gives back k-1.
for h in payments pos studying_light; do
    files=("$ROOT"/examples/$h/migrations/*.sql)
    for ((k = 1; k <= ${#files[@]}; k++)); do
        name=$(basename "${files[k - 1]}")
        rm -rf "$WORK/prev" "$WORK/full"
        mkdir -p "$WORK/prev" "$WORK/full"
        for ((j = 0; j < k; j++)); do cp "${files[j]}" "$WORK/full/"; done
        for ((j = 0; j < k - 1; j++)); do cp "${files[j]}" "$WORK/prev/"; done
        new_db
        want=$URL
        "$STRATA" --url "$want" --dir "$WORK/full" up >/dev/null 2>&1 || {
            fail "$h $name: up of the history failed"
            continue
        }
        rm -rf "$WORK/base"
        mkdir -p "$WORK/base"
        for ((j = 0; j < k - 1; j++)); do cp "${files[j]}" "$WORK/base/"; done
        new_db
        "$STRATA" --url "$URL" --dir "$WORK/base" up >/dev/null 2>&1
        baseurl=$URL
        diff_in "$WORK/prev" --to-url "$want" --allow-destructive -m step
        expect_rc 0 "$h $name: diff"
        if [ "$(schema_of "$baseurl")" = "$(schema_of "$want")" ]; then
            # a migration that changes data only (a seed): no difference
            contains "$OUT" "no difference" "$h $name: a data-only migration has no schema difference"
            continue
        fi
        ls "$WORK"/prev/*step*.sql >/dev/null 2>&1 || fail "$h $name: no file written: $OUT $ERR"
        # applied at k-1 through strata up: the schema at k
        new_db
        "$STRATA" --url "$URL" --dir "$WORK/prev" up >/dev/null 2>"$WORK/uperr" || fail "$h $name: up with the generated file: $(cat "$WORK/uperr")"
        eq "$(schema_of "$URL")" "$(schema_of "$want")" "$h $name: the generated up gives the schema at k"
        # and its down gives back k-1
        got=$URL
        nstep=$(ls "$WORK"/prev/*step*.sql | wc -l)
        "$STRATA" --url "$got" --dir "$WORK/prev" down "-$nstep" >/dev/null 2>"$WORK/downerr" || fail "$h $name: down: $(cat "$WORK/downerr")"
        eq "$(schema_of "$got")" "$(schema_of "$baseurl")" "$h $name: the generated down gives back the schema at k-1"
    done
done

# ---------------------------------------------------------------- pairs
D=$WORK/pairs
mkdir -p "$D"
if [ "$ENGINE" = postgres ]; then
    cat >"$WORK/v1.sql" <<'EOF'
CREATE TYPE status AS ENUM ('new', 'paid');
CREATE SEQUENCE invoice_no START 1000;
CREATE TABLE users (id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, email text NOT NULL UNIQUE,
                    name varchar(50), st status NOT NULL DEFAULT 'new');
CREATE INDEX ix_users_name ON users (name);
CREATE TABLE posts (id serial PRIMARY KEY, user_id bigint REFERENCES users (id), body jsonb, CHECK (id > 0));
CREATE VIEW v_posts AS SELECT p.id, u.email FROM posts p JOIN users u ON u.id = p.user_id;
COMMENT ON TABLE users IS 'people';
EOF
    cat >"$WORK/v2.sql" <<'EOF'
CREATE EXTENSION IF NOT EXISTS pg_trgm;
CREATE TYPE status AS ENUM ('new', 'pending', 'paid', 'void');
CREATE SEQUENCE invoice_no START 1000 INCREMENT 2;
CREATE TABLE users (id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, email text NOT NULL UNIQUE,
                    name text, st status NOT NULL DEFAULT 'new', age int DEFAULT 0 CHECK (age >= 0),
                    score numeric GENERATED ALWAYS AS (age * 2) STORED);
CREATE INDEX ix_users_name ON users (name, email);
CREATE UNIQUE INDEX ix_users_email_lower ON users (lower(email)) WHERE age > 10;
CREATE TABLE posts (id serial PRIMARY KEY, user_id bigint REFERENCES users (id) ON DELETE CASCADE,
                    body jsonb NOT NULL DEFAULT '{}', CHECK (id > 0));
CREATE INDEX ix_posts_body ON posts USING gin (body);
CREATE TABLE tags (id int PRIMARY KEY, post_id int NOT NULL REFERENCES posts (id), tag text);
CREATE VIEW v_posts AS SELECT p.id, u.email, u.age FROM posts p JOIN users u ON u.id = p.user_id;
CREATE VIEW v_adults AS SELECT * FROM v_posts WHERE age >= 18;
COMMENT ON TABLE users IS 'the people';
COMMENT ON COLUMN users.age IS 'years';
EOF
else
    cat >"$WORK/v1.sql" <<'EOF'
CREATE TABLE users (id integer PRIMARY KEY, email text NOT NULL UNIQUE, name text);
CREATE INDEX ix_users_name ON users (name);
CREATE TABLE posts (id integer PRIMARY KEY, user_id integer REFERENCES users (id), body text);
CREATE VIEW v_posts AS SELECT p.id, u.email FROM posts p JOIN users u ON u.id = p.user_id;
CREATE TRIGGER trg_posts AFTER INSERT ON posts BEGIN UPDATE users SET name = name WHERE id = new.user_id; END;
EOF
    cat >"$WORK/v2.sql" <<'EOF'
CREATE TABLE users (id integer PRIMARY KEY, email text NOT NULL UNIQUE, name text, age integer DEFAULT 0);
CREATE INDEX ix_users_name ON users (name, email);
CREATE UNIQUE INDEX ix_users_email_lower ON users (lower(email)) WHERE age > 10;
CREATE TABLE posts (id integer PRIMARY KEY, user_id integer REFERENCES users (id) ON DELETE CASCADE,
                    body text NOT NULL DEFAULT '', title text, CHECK (length(body) < 10000));
CREATE TABLE tags (id integer PRIMARY KEY, post_id integer NOT NULL REFERENCES posts (id), tag text);
CREATE VIEW v_posts AS SELECT p.id, u.email, u.age, p.title FROM posts p JOIN users u ON u.id = p.user_id;
CREATE VIEW v_adults AS SELECT * FROM v_posts WHERE age >= 18;
CREATE TRIGGER trg_posts AFTER INSERT ON posts BEGIN UPDATE users SET age = age WHERE id = new.user_id; END;
EOF
fi

# from nothing to v1: one file, nothing else
diff_in "$D" --to "$WORK/v1.sql" -m init
expect_rc 0 "diff to v1"
eq "$(ls "$D" | wc -l | tr -d ' ')" 1 "one file for a new schema"
contains "$OUT" "wrote" "diff says what it wrote"
eq "$(ls -A "$D" | grep -c '^\.strata-new' || true)" 0 "the file is linked into place whole: no temporary file left"
new_db
st --dir "$D" up
expect_rc 0 "up of the generated init"
q "INSERT INTO users (email, name) VALUES ('a@x', 'ann')" >/dev/null
q "INSERT INTO posts (user_id, body) VALUES (1, $([ "$ENGINE" = postgres ] && echo "'{\"a\":1}'" || echo "'hello'"))" >/dev/null

# no difference: nothing written, exit 0; --exit-code: still 0
diff_in "$D" --to "$WORK/v1.sql" -m again --exit-code
expect_rc 0 "no difference"
contains "$OUT" "no difference" "says there is no difference"
eq "$(ls "$D" | wc -l | tr -d ' ')" 1 "nothing written when equal"

# v1 -> v2: --exit-code without -m shows it, writes nothing, exits 3
diff_in "$D" --to "$WORK/v2.sql" --exit-code
expect_rc 3 "--exit-code with a difference"
contains "$OUT" "add column" "lists the statements"
eq "$(ls "$D" | wc -l | tr -d ' ')" 1 "nothing written without -m"

# --json
diff_in "$D" --to "$WORK/v2.sql" --json
expect_rc 0 "diff --json"
eq "$(json_get "$OUT" "j['difference']")" True "json: difference"
eq "$(json_get "$OUT" "len(j['$ENGINE']['statements']) > 3")" True "json: statements"
eq "$(json_get "$OUT" "isinstance(j['lint'], list)")" True "json: the lint's findings"
if [ "$ENGINE" = postgres ]; then
    # v1 -> v2 narrows nothing but widens users.name: varchar(50) -> text; the
    # lint's findings come in the JSON, not on stderr
    eq "$(json_get "$OUT" "all(set(f) >= {'rule', 'severity', 'message'} for f in j['lint'])")" True "json: lint findings have rule, severity, message"
    case "$ERR" in *"strata: lint:"*) fail "json: lint findings printed on stderr too: $ERR" ;; esac
    # varchar(50) -> text is binary-compatible: no rewrite, so no alter-column-type finding
    eq "$(json_get "$OUT" "[f['message'] for f in j['lint'] if f['rule'] == 'alter-column-type']")" "[]" "json: a longer limit is not flagged as a rewrite"
fi

# --print: the file on stdout
diff_in "$D" --to "$WORK/v2.sql" --print
expect_rc 0 "diff --print"
contains "$OUT" "-- strata:up" "print shows the up"
contains "$OUT" "-- strata:down" "print shows the down"
if [ "$ENGINE" = postgres ]; then
    contains "$OUT" "CREATE INDEX CONCURRENTLY" "an index on an existing table is built concurrently"
    contains "$OUT" "ADD VALUE 'pending' AFTER 'new'" "enum values are added"
    contains "$OUT" "-- strata:up no-transaction" "in no-transaction sections"
    contains "$OUT" "TYPE text USING name::text; -- strata:lint-ignore alter-column-type" "a type change without a rewrite says so to the lint"
else
    contains "$OUT" "ALTER TABLE users ADD COLUMN age integer DEFAULT 0" "SQLite adds a column it can"
    contains "$OUT" '"posts__strata_new"' "SQLite rebuilds a table it cannot alter"
    contains "$OUT" "-- strata:verify" "a rebuild gets a verify section"
    contains "$OUT" "pragma_foreign_key_check" "which runs SQLite's foreign_key_check"
fi

# written and applied on the database holding rows: rows kept, schema = v2
diff_in "$D" --to "$WORK/v2.sql" -m v2
expect_rc 0 "diff -m v2"
st --dir "$D" up
expect_rc 0 "up of the generated v2 on a database with rows"
eq "$(q "SELECT count(*) FROM posts")" 1 "the rows of a rebuilt table are kept"
eq "$(q "SELECT email FROM users")" "a@x" "the rows of an altered table are kept"
if [ "$ENGINE" = sqlite ]; then
    # a dangling reference older than the rebuild (SQLite let it in:
    # foreign keys are off unless asked) does not fail its verify section,
    # which fails on those the migration makes (test_diff_sqlite.sh: newfk)
    new_db
    st --dir "$D" up +1
    expect_rc 0 "up of init only"
    q "INSERT INTO posts (id, user_id, body) VALUES (7, 42, 'orphan')" >/dev/null
    st --dir "$D" up
    expect_rc 0 "a rebuild over an old dangling reference"
    eq "$(q "SELECT user_id || '|' || body FROM posts")" "42|orphan" "keeps the row as it was"
fi
new_db
if [ "$ENGINE" = postgres ]; then psql -X -q -d "$DBNAME" -v ON_ERROR_STOP=1 -f "$WORK/v2.sql" >/dev/null; else sqlite3 "$DBFILE" <"$WORK/v2.sql"; fi
want_schema=$(schema_of "$URL")
# the database migrated by the generated files has the desired schema
new_db
st --dir "$D" up
eq "$(schema_of "$URL")" "$want_schema" "generated files give exactly the desired schema"
# and the whole directory round-trips
# (the lint may flag what the change costs on a busy table; the round trip must pass)
raw --url "$SERVER" --dir "$D" check
contains "$OUT" "passed: " "strata check of the generated directory"

# destructive: refused by default, nothing written; the rename hint
cat >"$WORK/v3.sql" <<'EOF'
CREATE TABLE people (id integer PRIMARY KEY, mail text NOT NULL, nick text);
EOF
cat >"$WORK/v3base.sql" <<'EOF'
CREATE TABLE people (id integer PRIMARY KEY, email text NOT NULL, nick text);
EOF
R=$WORK/ren
diff_in "$R" --to "$WORK/v3base.sql" -m base
expect_rc 0 "diff base of the rename case"
before=$(ls "$R" | wc -l)
diff_in "$R" --to "$WORK/v3.sql" -m rename
expect_rc 1 "a drop of a column is refused"
contains "$ERR" "DIFF_DESTRUCTIVE" "the error code"
contains "$ERR" "people.email" "names what would be lost"
contains "$ERR" "--rename people.email:mail" "suggests the rename"
eq "$(ls "$R" | wc -l)" "$before" "nothing written when refused"
# --rename: the column is renamed, its values kept
diff_in "$R" --to "$WORK/v3.sql" -m rename --rename people.email:mail
expect_rc 0 "diff with --rename"
new_db
st --dir "$R" up 1
q "INSERT INTO people (id, email) VALUES (1, 'kept@x')" >/dev/null
st --dir "$R" up
expect_rc 0 "up of the rename"
eq "$(q "SELECT mail FROM people")" "kept@x" "a renamed column keeps its values"
# names holding '.', ':' or ',' go in double quotes, in the hint and in
# the option
QR=$WORK/qrename
mkdir -p "$QR"
printf 'CREATE TABLE "my.t" (id integer PRIMARY KEY, "a:b" text);\n' >"$WORK/q1.sql"
printf 'CREATE TABLE "my.t" (id integer PRIMARY KEY, "c,d" text);\n' >"$WORK/q2.sql"
diff_in "$QR" --to "$WORK/q1.sql" -m init
expect_rc 0 "diff base of the quoted rename"
diff_in "$QR" --to "$WORK/q2.sql" -m qren
expect_rc 1 "the quoted rename is not guessed"
contains "$ERR" "--rename \"my.t\".\"a:b\":\"c,d\"" "the hint quotes the names"
diff_in "$QR" --to "$WORK/q2.sql" -m qren --rename '"my.t"."a:b":"c,d"'
expect_rc 0 "--rename with quoted names"
new_db
st --dir "$QR" up 1
q "INSERT INTO \"my.t\" (id, \"a:b\") VALUES (1, 'q@x')" >/dev/null
st --dir "$QR" up
expect_rc 0 "up of the quoted rename"
eq "$(q "SELECT \"c,d\" FROM \"my.t\"")" "q@x" "the quoted column renamed, its value kept"
for bad in '"my.t' 'a.:b' '"x"y:z' 't.a:' ':b'; do
    diff_in "$QR" --to "$WORK/q2.sql" -m bad --rename "$bad"
    expect_rc 2 "a malformed --rename: $bad"
done

# a table and one of its columns renamed together, --rename given twice
# (the column is named by the start's table)
TR=$WORK/trename
mkdir -p "$TR"
printf 'CREATE TABLE users (id integer PRIMARY KEY, email text);\n' >"$WORK/tr1.sql"
printf 'CREATE TABLE accounts (id integer PRIMARY KEY, mail text);\n' >"$WORK/tr2.sql"
diff_in "$TR" --to "$WORK/tr1.sql" -m init
expect_rc 0 "diff base of the table and column rename"
diff_in "$TR" --to "$WORK/tr2.sql" -m rename_both --rename users:accounts --rename users.email:mail
expect_rc 0 "table and column renamed together"
new_db
st --dir "$TR" up 1
q "INSERT INTO users (id, email) VALUES (1, 'both@x')" >/dev/null
st --dir "$TR" up
expect_rc 0 "up of the table and column rename"
eq "$(q "SELECT mail FROM accounts")" "both@x" "table and column renamed: values kept"
# --allow-destructive writes the drop
printf 'CREATE TABLE people (id integer PRIMARY KEY, mail text NOT NULL);\n' >"$WORK/v3drop.sql"
diff_in "$R" --to "$WORK/v3drop.sql" --allow-destructive --print
expect_rc 0 "destructive with --allow-destructive"
contains "$OUT" "nick" "the drop is written"

# a column added NOT NULL without a default fails on a table with rows
# (the proof's scratch database has none): refused by name, nothing written;
# with a default it is written, and applies on a table with rows
NN=$WORK/notnull
printf 'CREATE TABLE t (id integer PRIMARY KEY, x text);\n' >"$WORK/nn1.sql"
printf 'CREATE TABLE t (id integer PRIMARY KEY, x text, y integer NOT NULL);\n' >"$WORK/nn2.sql"
diff_in "$NN" --to "$WORK/nn1.sql" -m init
expect_rc 0 "diff base of the NOT NULL case"
diff_in "$NN" --to "$WORK/nn2.sql" -m notnull
expect_rc 2 "a NOT NULL column without a default added to a kept table"
contains "$ERR" "column t.y is added NOT NULL without a default" "names the column"
contains "$ERR" "DIFF_UNSUPPORTED" "the code"
eq "$(ls "$NN" | wc -l | tr -d ' ')" 1 "nothing written for it"
printf 'CREATE TABLE t (id integer PRIMARY KEY, x text, y integer NOT NULL DEFAULT 0);\n' >"$WORK/nn2.sql"
diff_in "$NN" --to "$WORK/nn2.sql" -m notnull
expect_rc 0 "with a default it is written"
new_db
st --dir "$NN" up 1
q "INSERT INTO t (id, x) VALUES (1, 'a')" >/dev/null
st --dir "$NN" up
expect_rc 0 "and applies on a table with rows"
st --dir "$NN" down
expect_rc 0 "and its down too"

# bad input: no desired schema, a missing file, both -m and --print, a bad rename
diff_in "$R"
expect_rc 2 "diff without --to"
diff_in "$R" --to "$WORK/missing.sql"
expect_rc 2 "a missing --to file"
contains "$ERR" "cannot read desired schema '$WORK/missing.sql'" "names the missing file"
contains "$ERR" "DIFF_INPUT_INVALID" "a code that names the input"
printf 'CREATE TABLE ok (id integer);\nCREATE TABLE oops (;\n' >"$WORK/bad.sql"
diff_in "$R" --to "$WORK/bad.sql"
expect_rc 2 "a --to file that does not run"
contains "$ERR" "bad.sql:2:" "names the file and line"
contains "$ERR" "DIFF_INPUT_INVALID" "not MIGRATION_FAILED"
diff_in "$R" --to "$WORK/bad.sql" --json
eq "$(json_get "$ERR" "(j['code'], j['line'])")" "('DIFF_INPUT_INVALID', 2)" "json: the code and line"
diff_in "$R" --to "$WORK/v3.sql" --to-url "$URL"
expect_rc 2 "--to with --to-url"
contains "$ERR" "--to and --to-url cannot be combined" "says they cannot be combined"
diff_in "$R" --to "$WORK/v3.sql" -m x --print
expect_rc 2 "-m with --print"
diff_in "$R" --to "$WORK/v3base.sql" --rename nope
expect_rc 2 "a malformed --rename"
diff_in "$R" --to "$WORK/v3base.sql" --rename ghost.a:b --allow-destructive
expect_rc 2 "a --rename of a column that does not exist"
# one rename per name, to a name of its own: a second one was ignored
for bad in "people.email:mail,people.email:mail2|renames it twice" "people:a,people:b|renames it twice" \
    "people.email:email|renames it to itself" "people.email:x,people.name:x|gives its new name to two of them"; do
    diff_in "$R" --to "$WORK/v3.sql" --print --rename "${bad%%|*}"
    expect_rc 2 "--rename ${bad%%|*}"
    contains "$ERR" "${bad#*|}" "--rename ${bad%%|*}: says why"
done
# an engine strata does not know: the same message and hint as every
# other command, and never the password
"$STRATA" --url 'mysql://app:pw-SECRET@db/app' --dir "$R" diff --to "$WORK/v3.sql" >"$WORK/out" 2>"$WORK/err"
RC=$? ERR=$(cat "$WORK/err")
expect_rc 2 "diff with a mysql:// URL"
contains "$ERR" "unsupported database URL" "the usual URL message"
contains "$ERR" "hint: use postgresql://" "the usual URL hint"
lacks "$ERR" "pw-SECRET" "no password"

if [ "$ENGINE" = postgres ]; then
    # a change the plan gets wrong (a function's result type changes, and
    # a CHECK constraint calls it: the drop of the function fails): not
    # proven, nothing written
    P=$WORK/prove
    printf 'CREATE FUNCTION f() RETURNS int LANGUAGE sql IMMUTABLE AS $$SELECT 1$$;\nCREATE TABLE t (x int CHECK (x > f()));\n' >"$WORK/p1.sql"
    printf 'CREATE FUNCTION f() RETURNS bigint LANGUAGE sql IMMUTABLE AS $$SELECT 1$$;\nCREATE TABLE t (x int CHECK (x > f()));\n' >"$WORK/p2.sql"
    diff_in "$P" --to "$WORK/p1.sql" -m base
    expect_rc 0 "base for the not-proven case"
    diff_in "$P" --to "$WORK/p2.sql" -m ret
    expect_rc 1 "a diff whose up fails on the scratch database"
    contains "$ERR" "DIFF_NOT_PROVEN" "the error code"
    contains "$ERR" "cannot drop function f() because other objects depend on it" "the server's message"
    eq "$(ls "$P" | wc -l | tr -d ' ')" 1 "nothing written when not proven"
    # --dialect both: dialect sections
    B=$WORK/both
    diff_in "$B" --dialect both --to "$WORK/v3base.sql" --print
    expect_rc 0 "--dialect both"
    contains "$OUT" "-- strata:up dialect=postgres" "a postgres section"
    contains "$OUT" "-- strata:up dialect=sqlite" "a sqlite section"
    # --no-concurrently: the index in the same file
    diff_in "$D" --to "$WORK/v2.sql" --print --no-concurrently
    lacks "$OUT" "CONCURRENTLY" "--no-concurrently"
    # the scratch databases are gone
    eq "$(psql -X -A -t -d postgres -c "SELECT count(*) FROM pg_database WHERE datname LIKE 'strata\_check\_%'")" 0 "no scratch database left"
else
    # --dialect postgres needs a PostgreSQL server
    diff_in "$R" --dialect postgres --to "$WORK/v3base.sql"
    expect_rc 2 "postgres dialect with a SQLite URL"
    eq "$(find "$TMPDIR" -name 'strata_check_*' | wc -l | tr -d ' ')" 0 "no scratch file left"
fi

# ------------------------------------------------------------ QA cases

# up_down NAME SEED INSERT: rows SEED before the up, INSERT after the up and
# after the down (a sequence behind the rows fails it)
up_down() {
    [ -n "$2" ] && q "$2" >/dev/null
    st --dir "$QD" up
    expect_rc 0 "$1: up of the generated step"
    q "$3" >/dev/null 2>"$WORK/qerr" || fail "$1: insert after the up: $(cat "$WORK/qerr")"
    st --dir "$QD" down
    expect_rc 0 "$1: down of the generated step"
    q "$3" >/dev/null 2>"$WORK/qerr" || fail "$1: insert after the down: $(cat "$WORK/qerr")"
}

if [ "$ENGINE" = postgres ]; then
    # row level security, policies and UNLOGGED are planned both ways; a
    # policy on a column whose type changes is dropped first, created last
    pair rls 'CREATE TABLE t (id int PRIMARY KEY, n int, owner text);
CREATE TABLE u (x int);' 'CREATE TABLE t (id int PRIMARY KEY, n bigint, owner text);
ALTER TABLE t ENABLE ROW LEVEL SECURITY;
ALTER TABLE t FORCE ROW LEVEL SECURITY;
CREATE POLICY p_read ON t FOR SELECT USING (n > 1);
CREATE POLICY "Owner Writes" ON t AS RESTRICTIVE FOR UPDATE TO PUBLIC USING (owner = current_user) WITH CHECK (owner = current_user);
CREATE UNLOGGED TABLE u (x int);
CREATE UNLOGGED TABLE w (y int);'
    expect_rc 0 "row level security, policies and UNLOGGED"
    contains "$OUT" "ALTER TABLE t ENABLE ROW LEVEL SECURITY" "row level security enabled"
    contains "$OUT" "ALTER TABLE t FORCE ROW LEVEL SECURITY" "and forced"
    contains "$OUT" 'CREATE POLICY "Owner Writes" ON t AS RESTRICTIVE FOR UPDATE TO PUBLIC' "a restrictive policy"
    contains "$OUT" "ALTER TABLE u SET UNLOGGED" "a table made unlogged"
    contains "$OUT" "CREATE UNLOGGED TABLE w" "a new unlogged table"
    q "INSERT INTO t VALUES (1, 2, 'a'); INSERT INTO u VALUES (7)" >/dev/null
    st --dir "$QD" up
    expect_rc 0 "up of row level security and policies"
    eq "$(q "SELECT relrowsecurity::text || relforcerowsecurity::text FROM pg_class WHERE relname = 't'")" "truetrue" "row level security on the database"
    eq "$(q "SELECT string_agg(polname, ',' ORDER BY polname) FROM pg_policy")" "Owner Writes,p_read" "the policies on the database"
    eq "$(q "SELECT relpersistence FROM pg_class WHERE relname = 'u'")" "u" "u is unlogged"
    eq "$(q "SELECT x FROM u")" "7" "SET UNLOGGED keeps the rows"
    # the policy's column changes type back: dropped first, created last
    printf '%s\n' 'CREATE TABLE t (id int PRIMARY KEY, n int, owner text);
ALTER TABLE t ENABLE ROW LEVEL SECURITY;
CREATE POLICY p_read ON t FOR SELECT USING (n > 5);
CREATE TABLE u (x int);
CREATE UNLOGGED TABLE w (y int);' >"$WORK/qa_want2.sql"
    diff_in "$QD" --to "$WORK/qa_want2.sql" -m step2 --allow-destructive
    expect_rc 0 "a policy changed, its column's type changed, a policy dropped"
    contains "$OUT" "DROP POLICY \"Owner Writes\" ON t" "a policy dropped"
    contains "$OUT" "ALTER TABLE t NO FORCE ROW LEVEL SECURITY" "row level security no longer forced"
    contains "$OUT" "ALTER TABLE u SET LOGGED" "u logged again"
    st --dir "$QD" up
    expect_rc 0 "up of the policy change"
    eq "$(q "SELECT pg_get_expr(polqual, polrelid) FROM pg_policy")" "(n > 5)" "the changed policy"
    st --dir "$QD" down base
    expect_rc 0 "down to base through the policies"
    eq "$(q "SELECT count(*) FROM pg_policy")" "0" "no policy left at base"
fi

if [ "$ENGINE" = postgres ]; then
    # a serial column added: its sequence goes with the column in the down
    pair serial_add 'CREATE TABLE t (id serial PRIMARY KEY, x int);' \
        'CREATE TABLE t (id serial PRIMARY KEY, x int, y serial);'
    expect_rc 0 "a serial column added"
    up_down serial_add "INSERT INTO t (x) VALUES (1), (2)" "INSERT INTO t (x) VALUES (3)"
    # serial -> identity: the default goes before the sequence, and the
    # identity starts past the rows (both ways)
    pair serial_identity 'CREATE TABLE t (id serial PRIMARY KEY, x int);' \
        'CREATE TABLE t (id bigint GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY, x int);' --allow-destructive
    expect_rc 0 "serial to identity"
    up_down serial_identity "INSERT INTO t (x) VALUES (1), (2)" "INSERT INTO t (x) VALUES (DEFAULT)"
    # serial -> plain int: the default, then the sequence
    pair serial_plain 'CREATE TABLE t (id serial PRIMARY KEY, x int);' 'CREATE TABLE t (id int PRIMARY KEY, x int);'
    expect_rc 0 "serial to a plain column"
    q "INSERT INTO t (x) VALUES (1), (2)" >/dev/null
    st --dir "$QD" up
    expect_rc 0 "up of serial to a plain column"
    q "INSERT INTO t VALUES (3, 3)" >/dev/null
    st --dir "$QD" down
    expect_rc 0 "down of serial to a plain column"
    eq "$(q "INSERT INTO t (x) VALUES (4) RETURNING id")" 4 "the sequence given back by the down starts past the rows"
    # the same with a descending sequence: the down goes on below the rows
    pair seq_desc "CREATE SEQUENCE t_id_seq AS integer INCREMENT BY -1 MINVALUE -1000 MAXVALUE -1 START WITH -1;
CREATE TABLE t (id integer PRIMARY KEY DEFAULT nextval('t_id_seq'), x int);
ALTER SEQUENCE t_id_seq OWNED BY t.id;" 'CREATE TABLE t (id integer PRIMARY KEY, x int);' --allow-destructive
    expect_rc 0 "a descending sequence dropped"
    q "INSERT INTO t (x) VALUES (1), (2)" >/dev/null
    st --dir "$QD" up
    expect_rc 0 "up of the descending sequence dropped"
    q "INSERT INTO t VALUES (-3, 3)" >/dev/null
    st --dir "$QD" down
    expect_rc 0 "down of the descending sequence dropped"
    eq "$(q "INSERT INTO t (x) VALUES (4) RETURNING id")" -4 "the descending sequence given back goes on below the rows"
    # a table with a serial renamed: its sequence is renamed with it
    pair serial_rename 'CREATE TABLE users (id serial PRIMARY KEY, x int);' \
        'CREATE TABLE people (id serial PRIMARY KEY, x int);' --rename users:people
    expect_rc 0 "a table with a serial renamed"
    contains "$OUT" "ALTER SEQUENCE users_id_seq RENAME TO people_id_seq" "the owned sequence is renamed"
    lacks "$(cat "$QD"/*_step.sql)" "SET DEFAULT" "the default follows the renamed sequence by itself"
    q "INSERT INTO users (x) VALUES (1)" >/dev/null
    st --dir "$QD" up
    expect_rc 0 "up of the rename"
    eq "$(q "INSERT INTO people (x) VALUES (2) RETURNING id")" 2 "the renamed sequence keeps counting"
    st --dir "$QD" down
    expect_rc 0 "down of the rename"
    eq "$(q "INSERT INTO users (x) VALUES (3) RETURNING id")" 3 "and after the down"
    # a renamed table's constraints and indexes are renamed, not built again;
    # foreign keys that point at it are kept
    pair rename_items 'CREATE TABLE users (id serial PRIMARY KEY, email text UNIQUE, CHECK (email <> $$$$)); CREATE INDEX users_email_idx ON users (lower(email)); CREATE TABLE posts (id int, uid int REFERENCES users (id));' \
        'CREATE TABLE people (id serial PRIMARY KEY, email text UNIQUE, CHECK (email <> $$$$)); CREATE INDEX people_email_idx ON people (lower(email)); CREATE TABLE posts (id int, uid int REFERENCES people (id));' \
        --rename users:people
    expect_rc 0 "a table renamed with its constraints and indexes"
    contains "$OUT" "ALTER TABLE people RENAME CONSTRAINT users_pkey TO people_pkey" "the primary key is renamed"
    contains "$OUT" "ALTER TABLE people RENAME CONSTRAINT users_email_key TO people_email_key" "the unique constraint is renamed"
    contains "$OUT" "ALTER INDEX users_email_idx RENAME TO people_email_idx" "the index is renamed"
    lacks "$OUT" "DROP CONSTRAINT" "no constraint dropped and added again"
    lacks "$OUT" "CREATE INDEX" "no index built again"
    eq "$(ls "$QD" | wc -l | tr -d ' ')" 2 "one file: nothing to build concurrently"
    q "INSERT INTO users (email) VALUES ('a'); INSERT INTO posts VALUES (1, 1)" >/dev/null
    st --dir "$QD" up
    expect_rc 0 "up of the rename"
    st --dir "$QD" down
    expect_rc 0 "down of the rename"
    eq "$(q "SELECT count(*) FROM users JOIN posts ON posts.uid = users.id")" 1 "the rows are kept"
    # a renamed column's unique constraint follows it
    pair rename_col_items 'CREATE TABLE t (id int PRIMARY KEY, email text UNIQUE); CREATE INDEX t_e ON t (email);' \
        'CREATE TABLE t (id int PRIMARY KEY, mail text UNIQUE); CREATE INDEX t_e ON t (mail);' --rename t.email:mail
    expect_rc 0 "a column renamed with its constraint and index"
    contains "$OUT" "RENAME CONSTRAINT t_email_key TO t_mail_key" "its unique constraint is renamed"
    lacks "$OUT" "INDEX" "its index is kept"

    # an identity added to a column with rows: the next value is past them
    pair identity_add 'CREATE TABLE t (id int PRIMARY KEY, x int);' \
        'CREATE TABLE t (id int GENERATED ALWAYS AS IDENTITY PRIMARY KEY, x int);'
    expect_rc 0 "an identity added"
    q "INSERT INTO t VALUES (1, 1), (2, 2)" >/dev/null
    st --dir "$QD" up
    expect_rc 0 "up adding the identity"
    eq "$(q "INSERT INTO t (x) VALUES (3) RETURNING id")" 3 "the identity starts past the rows"

    # no schema in the generated SQL: it runs on a database whose search
    # path schema is not public
    pair unqualified 'CREATE TABLE t0 (id int);' \
        'CREATE TABLE t0 (id int); CREATE TABLE t (id int PRIMARY KEY, x int); CREATE INDEX ix_t ON t (x);
         CREATE FUNCTION f() RETURNS trigger LANGUAGE plpgsql AS $$BEGIN RETURN NEW; END$$;
         CREATE TRIGGER trg BEFORE INSERT ON t FOR EACH ROW EXECUTE FUNCTION f(); CREATE INDEX ix_t0 ON t0 (id);'
    expect_rc 0 "a diff with an index, a function and a trigger"
    lacks "$(cat "$QD"/*step*.sql)" "public." "no schema named in the generated files"
    new_db
    q "CREATE SCHEMA app; ALTER DATABASE $DBNAME SET search_path = app" >/dev/null
    st --dir "$QD" up
    expect_rc 0 "up on a database whose search path is schema app"
    eq "$(q "SELECT count(*) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = 'app' AND c.relname IN ('t', 'ix_t', 'ix_t0')")" 3 "the tables and indexes are in app"
    st --dir "$QD" down -3
    expect_rc 0 "down of all three on it"

    # a table dropped whose foreign key uses a unique constraint that goes:
    # the table first
    pair drop_order 'CREATE TABLE a (id int PRIMARY KEY, k text UNIQUE); CREATE TABLE b (id int PRIMARY KEY, ak text REFERENCES a (k));' \
        'CREATE TABLE a (id int PRIMARY KEY, k text);' --allow-destructive
    expect_rc 0 "a dropped table whose foreign key uses a dropped unique constraint"
    up_down drop_order "INSERT INTO a VALUES (1, 'x')" "INSERT INTO a SELECT max(id) + 1, 'y' || max(id) FROM a"

    # a generated statement that fails on the scratch database: its line in
    # the generated up, and the statement shown
    pair failing 'CREATE TABLE t0 (id int);' \
        'CREATE TABLE t0 (id int); CREATE TABLE a (id int); CREATE SCHEMA other; CREATE TYPE other.pos AS ENUM ($$a$$); CREATE TABLE t (id int, x other.pos);'
    expect_rc 1 "a statement of the up fails"
    contains "$ERR" "generated up:7: schema \"other\" does not exist" "the line of the failing statement, not :1"
    contains "$ERR" "DIFF_NOT_PROVEN" "a proof that fails"
    contains "$ERR" "the statement that failed (generated up:7):" "shows the statement"
    contains "$ERR" "      x other.pos" "with its text"
    diff_in "$QD" --to "$WORK/qa_want.sql" -m step --json
    expect_rc 1 "a statement of the up fails, --json"
    eq "$(json_get "$ERR" 'j["code"]')" "DIFF_NOT_PROVEN" "--json: the code"
    contains "$(json_get "$ERR" 'j["remaining"]')" "x other.pos" "--json: the statement that failed, as the text shows it"

    # --json: the lint names the files as written, after the directory's own
    pair lintnames 'CREATE TABLE a (id int PRIMARY KEY, k text); CREATE TABLE b (id int);' \
        'CREATE TABLE a (id int PRIMARY KEY, k text); CREATE INDEX ix_a_k ON a (k);' --allow-destructive --json
    expect_rc 0 "a diff written in two files"
    eq "$(ls "$QD" | tr '\n' ' ')" "0001_init.sql 0002_step.sql 0003_step_indexes.sql " "the files written"
    eq "$(json_get "$OUT" "sorted(set((f['file'], f['version']) for f in j['lint'] if f['rule'] == 'drop-table'))")" \
        "[('0002_step.sql', '0002')]" "json: the lint names the file written, with its version"
    eq "$(json_get "$OUT" "all(f['file'] in ('0002_step.sql', '0003_step_indexes.sql') for f in j['lint'])")" True \
        "json: every lint entry names a written file"
    rm "$QD"/0002_step.sql "$QD"/0003_step_indexes.sql
    diff_in "$QD" --to "$WORK/qa_want.sql" --allow-destructive --json
    eq "$(json_get "$OUT" "sorted(set(f['file'] for f in j['lint'] if f['rule'] == 'drop-table'))")" "['0002_diff.sql']" \
        "json without -m: the name -m would give"

    # numeric(10,2) -> numeric(12,2) widens: not destructive, no rewrite
    pair numeric_wider 'CREATE TABLE t (a numeric(10,2));' 'CREATE TABLE t (a numeric(12,2));'
    expect_rc 0 "numeric(10,2) -> numeric(12,2) without --allow-destructive"
    contains "$(cat "$QD"/*step*.sql)" "lint-ignore alter-column-type" "written without a rewrite finding"
    pair numeric_scale 'CREATE TABLE t (a numeric(10,2));' 'CREATE TABLE t (a numeric(10,3));'
    expect_rc 1 "numeric(10,2) -> numeric(10,3) has fewer digits before the point"
    contains "$ERR" "DIFF_DESTRUCTIVE" "and is destructive"

    # the down of an enum value removed adds it back by rebuilding the type,
    # in one transaction (ALTER TYPE ... ADD VALUE made it a no-transaction
    # section, which a failure left half done)
    pair enum_down "CREATE TYPE st AS ENUM ('a', 'b', 'c'); CREATE TABLE t (s st);" \
        "CREATE TYPE st AS ENUM ('a', 'b'); CREATE TABLE t (s st);" --allow-destructive
    expect_rc 0 "an enum value removed"
    lacks "$(cat "$QD"/*step*.sql)" "-- strata:down no-transaction" "the down that adds the value back is one transaction"
    contains "$(sed -n '/strata:down/,$p' "$QD"/*step*.sql)" "CREATE TYPE st AS ENUM ('a', 'b', 'c')" "the type rebuilt with the value"
    lacks "$(cat "$QD"/*step*.sql)" "-- strata:up no-transaction" "the up stays transactional"
    up_down enum_down "INSERT INTO t VALUES ('a')" "INSERT INTO t VALUES ('b')"
    # --no-concurrently: nothing needs a no-transaction file, so none is written
    pair noconc 'CREATE TABLE t (id int PRIMARY KEY); CREATE TABLE u (id int, tid int);' \
        'CREATE TABLE t (id int PRIMARY KEY); CREATE TABLE u (id int, tid int REFERENCES t (id) CHECK (id > 0)); CREATE INDEX ix_u ON u (tid);' --no-concurrently
    expect_rc 0 "constraints and an index with --no-concurrently"
    eq "$(ls "$QD" | tr '\n' ' ')" "0001_init.sql 0002_step.sql " "one file: no _indexes file for VALIDATE CONSTRAINT"
    lacks "$(cat "$QD"/0002_step.sql)" "no-transaction" "nothing outside a transaction"

    # what the planner cannot express is refused by name, never left out
    for w in 'CREATE TABLE p (id int) PARTITION BY RANGE (id);|partitioned table p' \
        'CREATE TABLE t (id int); CREATE RULE r AS ON INSERT TO t DO INSTEAD NOTHING;|rule r on t' \
        'CREATE TABLE t (id int); CREATE VIEW v AS SELECT * FROM t WHERE id > 0 WITH CASCADED CHECK OPTION;|view v WITH (check_option=cascaded)' \
        'CREATE TABLE t (id int); CREATE VIEW v WITH (security_barrier) AS SELECT * FROM t;|view v WITH (security_barrier=true)' \
        'CREATE TABLE t (id int); CREATE VIEW v AS SELECT * FROM t; COMMENT ON VIEW v IS $$x$$;|comment on view v' \
        'CREATE TABLE t (id int CONSTRAINT c CHECK (id > 0)); COMMENT ON CONSTRAINT c ON t IS $$x$$;|comment on constraint c on t' \
        'CREATE TABLE t (id int); CREATE INDEX i ON t (id); COMMENT ON INDEX i IS $$y$$;|comment on index i' \
        'CREATE SEQUENCE s; COMMENT ON SEQUENCE s IS $$y$$;|comment on sequence s' \
        'CREATE TABLE t (id int); GRANT SELECT ON t TO PUBLIC;|privileges (GRANT) on t' \
        'CREATE TABLE a (id int); CREATE TABLE b (x int) INHERITS (a);|table b inheriting from a' \
        'CREATE COLLATION c1 (provider = icu, locale = $$und$$);|collation c1' \
        'CREATE FUNCTION f(int, int) RETURNS bool LANGUAGE sql AS $$SELECT true$$; CREATE OPERATOR === (LEFTARG = int, RIGHTARG = int, FUNCTION = f);|operator ===(integer, integer)'; do
        pair unsupported 'CREATE TABLE t0 (id int);' "CREATE TABLE t0 (id int); ${w%%|*}"
        expect_rc 2 "${w#*|}: refused"
        contains "$ERR" "strata diff does not plan changes to ${w#*|}" "${w#*|}: named"
        contains "$ERR" "DIFF_UNSUPPORTED" "${w#*|}: the code"
    done
    # in the start too
    mig "$WORK/qa_rule" 0001_rule.sql <<'SQL'
-- strata:up
CREATE TABLE t (id int);
CREATE RULE r AS ON INSERT TO t DO INSTEAD NOTHING;
-- strata:down
DROP TABLE t;
SQL
    printf 'CREATE TABLE t (id int, x int);\n' >"$WORK/qa_want.sql"
    diff_in "$WORK/qa_rule" --to "$WORK/qa_want.sql"
    expect_rc 2 "a rule in the start"
    contains "$ERR" "strata diff does not plan changes to rule r on t" "named when only the start has it"
    # the same rule and grant on both sides need no step: the rest is planned
    printf 'CREATE TABLE t (id int, x int);\nCREATE RULE r AS ON INSERT TO t DO INSTEAD NOTHING;\n' >"$WORK/qa_want.sql"
    diff_in "$WORK/qa_rule" --to "$WORK/qa_want.sql" --print
    expect_rc 0 "the same rule on both sides"
    contains "$OUT" "ADD COLUMN x" "the column is planned beside an equal rule"
    # a rule whose definition changed is a difference
    printf 'CREATE TABLE t (id int);\nCREATE RULE r AS ON UPDATE TO t DO INSTEAD NOTHING;\n' >"$WORK/qa_want.sql"
    diff_in "$WORK/qa_rule" --to "$WORK/qa_want.sql" --print
    expect_rc 2 "a changed rule"
    contains "$ERR" "does not plan changes to rule r on t" "a changed rule is named"

    # pg_dump --schema-only as --to: its psql meta-commands (\restrict, in
    # pg_dump 15.18 and newer) are skipped with a note, and its empty
    # search_path does not hide the schema
    new_db
    q "CREATE TABLE dumped (id int PRIMARY KEY, note text); CREATE INDEX ix_dumped ON dumped (note)" >/dev/null
    pg_dump --schema-only -d "$DBNAME" >"$WORK/dump.sql"
    { printf '\\restrict abc123\n\n'; cat "$WORK/dump.sql"; printf '\n\\unrestrict abc123\n'; } >"$WORK/dump2.sql"
    grep -q "set_config('search_path', '', false)" "$WORK/dump2.sql" || fail "pg_dump empties search_path (the case under test)"
    diff_in "$WORK/qa_dump" --to "$WORK/dump2.sql" --print
    expect_rc 0 "diff --to pg_dump output"
    contains "$OUT" "CREATE TABLE dumped" "the dumped table is planned"
    contains "$OUT" "CREATE INDEX ix_dumped ON dumped" "and its index"
    contains "$ERR" "dump2.sql:1: psql meta-command '\\restrict abc123' skipped" "the meta-command is named with its line"
fi

if [ "$ENGINE" = sqlite ]; then
    # a rebuild keeps AUTOINCREMENT's counter: ids of deleted rows are not reused
    pair autoinc 'CREATE TABLE t (id INTEGER PRIMARY KEY AUTOINCREMENT, x text);' \
        "CREATE TABLE t (id INTEGER PRIMARY KEY AUTOINCREMENT, x text NOT NULL DEFAULT '');"
    expect_rc 0 "a rebuild of an AUTOINCREMENT table"
    q "INSERT INTO t (x) VALUES ('a'), ('b'), ('c'); DELETE FROM t WHERE id = 3" >/dev/null
    st --dir "$QD" up
    expect_rc 0 "up of the rebuild"
    eq "$(q "INSERT INTO t (x) VALUES ('d') RETURNING id")" 4 "the rebuilt table does not reuse a deleted id"
    q "DELETE FROM t WHERE id = 4" >/dev/null
    st --dir "$QD" down
    expect_rc 0 "down of the rebuild"
    eq "$(q "INSERT INTO t (x) VALUES ('e') RETURNING id")" 5 "nor after the down"

    # what pragma table_xinfo does not say is in the schema text: a change
    # of it is planned (a rebuild), never "no difference"
    for col in "a text COLLATE NOCASE" "id INTEGER PRIMARY KEY ON CONFLICT REPLACE" "id INTEGER PRIMARY KEY DESC"; do
        case $col in id*) want="CREATE TABLE t ($col, a text);" ;; *) want="CREATE TABLE t (id INTEGER PRIMARY KEY, $col);" ;; esac
        pair sqcol 'CREATE TABLE t (id INTEGER PRIMARY KEY, a text);' "$want"
        expect_rc 0 "$col: diff"
        lacks "$OUT" "no difference" "$col: a difference"
        contains "$OUT" '"t__strata_new"' "$col: planned as a rebuild"
        st --dir "$QD" up
        eq "$(schema_of "$URL")" "$(new_db; sqlite3 "$DBFILE" "$want"; schema_of "$URL")" "$col: the generated up gives the desired schema"
    done

    # a declared type of the same affinity converts nothing: not destructive
    pair affinity 'CREATE TABLE t (id INT PRIMARY KEY, a TEXT);' 'CREATE TABLE t (id INTEGER PRIMARY KEY, a VARCHAR(10));'
    expect_rc 0 "INT -> INTEGER, TEXT -> VARCHAR(10) without --allow-destructive"
    q "INSERT INTO t VALUES (1, 'a longer text than ten')" >/dev/null
    st --dir "$QD" up
    expect_rc 0 "up of the same-affinity change"
    eq "$(q "SELECT a FROM t WHERE id = 1")" "a longer text than ten" "the value is kept"
    pair affinity2 'CREATE TABLE t (id INTEGER PRIMARY KEY, a TEXT);' 'CREATE TABLE t (id INTEGER PRIMARY KEY, a INTEGER);'
    expect_rc 1 "TEXT -> INTEGER changes the affinity"
    contains "$ERR" "DIFF_DESTRUCTIVE" "and is destructive"

    # a SQLite file that does not exist is not an empty database here
    diff_in "$WORK/qa_missing" --to-url "sqlite:///$WORK/no-such.sqlite3"
    expect_rc 4 "--to-url naming a missing SQLite file"
    contains "$ERR" "--to-url: SQLite database '$WORK/no-such.sqlite3' does not exist" "names the missing file"
    contains "$ERR" "CONNECT_FAILED" "as a database that cannot be opened"
    diff_in "$WORK/qa_missing" --from-url "sqlite:///$WORK/no-such.sqlite3" --to "$WORK/v1.sql"
    expect_rc 4 "--from-url naming a missing SQLite file"
    contains "$ERR" "--from-url: SQLite database" "names the option"
    [ -e "$WORK/no-such.sqlite3" ] && fail "the missing file was created"
fi

finish
