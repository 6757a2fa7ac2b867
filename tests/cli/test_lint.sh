#!/usr/bin/env bash
# strata lint: output, exit codes, JSON, lint-ignore, the samples; and, on
# the engine under test, that what lint calls failing really fails there and
# that its safer alternatives really run.
. "$(dirname "$0")/lib.sh"

ROOT=$(cd "$(dirname "$0")/../.." && pwd)

# ---------------------------------------------------------------- the CLI

D=$WORK/m
mig "$D" 0001_create_orders.sql <<'SQL'
-- strata:up
CREATE TABLE orders (id bigint PRIMARY KEY, total int);
CREATE INDEX ix_orders_total ON orders (total);
-- strata:down
DROP TABLE orders;
SQL
raw --dir "$D" lint
expect_rc 0 "lint of a clean directory"
eq "$OUT" "ok: 1 migration, no findings" "clean summary"
raw --dir "$D" lint -q
eq "$OUT" "" "-q prints nothing when clean"

mig "$D" 0002_orders_note.sql <<'SQL'
-- Adds a note.
-- strata:up
INSERT INTO orders VALUES (1, 'DROP TABLE orders; -- not code');
/* ALTER TABLE orders DROP COLUMN total; */
ALTER TABLE orders
    ADD COLUMN note text NOT NULL;
CREATE INDEX ix_orders_note ON orders (note);
SQL
raw --dir "$D" lint
expect_rc 1 "an error-level finding fails"
contains "$OUT" "$D/0002_orders_note.sql:5: error: [not-null-without-default] adding NOT NULL column 'note' to 'orders' without a default fails when the table has rows" "file:line: severity: [rule] message"
contains "$OUT" "  hint: give the column a constant DEFAULT" "hint line"
contains "$OUT" "$D/0002_orders_note.sql:7: error: [index-not-concurrent]" "index on an existing table"
contains "$OUT" "$D/0002_orders_note.sql:2: warning: [missing-down]" "missing down at the up marker"
contains "$OUT" "$D/0002_orders_note.sql:5: error: [sqlite-add-column]" "SQLite rule on a generic section"
lacks "$OUT" "drop-table" "keywords in strings are not code"
lacks "$OUT" "drop-column" "keywords in comments are not code"
contains "$OUT" "3 errors, 1 warning in 2 migrations" "summary line"
eq "$(grep -c '^  hint: ' <<<"$OUT")" "4" "one hint per finding"

raw --dir "$D" lint --json
expect_rc 1 "lint --json with errors"
eq "$(json_get "$OUT" 'j["ok"]')" "False" "json ok false"
eq "$(json_get "$OUT" '(j["errors"], j["warnings"])')" "(3, 1)" "json counts"
eq "$(json_get "$OUT" 'sorted(j["findings"][0].keys())')" \
    "['file', 'hint', 'line', 'message', 'rule', 'severity', 'version']" "finding fields"
eq "$(json_get "$OUT" '[(f["rule"], f["severity"], f["line"], f["version"]) for f in j["findings"]]')" \
    "[('missing-down', 'warning', 2, '0002'), ('not-null-without-default', 'error', 5, '0002'), ('sqlite-add-column', 'error', 5, '0002'), ('index-not-concurrent', 'error', 7, '0002')]" \
    "findings in line order"
eq "$(json_get "$OUT" 'j["findings"][1]["file"]')" "$D/0002_orders_note.sql" "json file"
eq "$ERR" "" "nothing on stderr"

# --dialect restricts the rules
raw --dir "$D" lint --dialect sqlite --json
eq "$(json_get "$OUT" '[f["rule"] for f in j["findings"]]')" "['missing-down', 'sqlite-add-column']" "--dialect sqlite"
raw --dir "$D" --dialect=postgres lint --json
eq "$(json_get "$OUT" '[f["rule"] for f in j["findings"]]')" \
    "['missing-down', 'not-null-without-default', 'index-not-concurrent']" "--dialect postgres before the command"
raw --dir "$D" lint --dialect oracle
expect_rc 2 "unknown dialect"
contains "$ERR" "unknown dialect 'oracle'" "unknown dialect message"
raw --dir "$D" status --dialect postgres
expect_rc 2 "--dialect does not apply to status"

# lint-ignore: the next statement, a trailing comment, the file header
mig "$D" 0002_orders_note.sql <<'SQL'
-- strata:lint-ignore missing-down -- a one-way data change, reviewed
-- strata:up
-- strata:lint-ignore not-null-without-default, sqlite-add-column -- orders is empty in every environment
ALTER TABLE orders ADD COLUMN note text NOT NULL;
CREATE INDEX ix_orders_note ON orders (note); -- strata:lint-ignore index-not-concurrent
SQL
raw --dir "$D" lint
expect_rc 0 "everything ignored"
eq "$OUT" "ok: 2 migrations, no findings" "ignored findings are not reported"

# warnings pass, --strict fails on them
mig "$D" 0002_orders_note.sql <<'SQL'
-- strata:up
ALTER TABLE orders ADD COLUMN note text;
SQL
raw --dir "$D" lint
expect_rc 0 "warnings do not fail"
contains "$OUT" "warning: [missing-down]" "the warning is printed"
raw --dir "$D" lint --strict --json
expect_rc 1 "--strict fails on warnings"
eq "$(json_get "$OUT" '(j["ok"], j["errors"], j["warnings"])')" "(False, 0, 1)" "--strict json"

# an unknown rule in lint-ignore is a warning of its own
mig "$D" 0002_orders_note.sql <<'SQL'
-- strata:up
-- strata:lint-ignore drop-tabel
DROP TABLE orders;
-- strata:down
SQL
raw --dir "$D" lint --dialect postgres
expect_rc 1 "misspelt ignore does not silence"
contains "$OUT" "0002_orders_note.sql:2: warning: [bad-lint-ignore] unknown rule 'drop-tabel' in lint-ignore" "bad-lint-ignore"
contains "$OUT" "0002_orders_note.sql:3: error: [drop-table]" "drop-table still fires"

# a file that does not parse: exit 2, like every command
mig "$D" 0003_broken.sql <<'SQL'
CREATE TABLE oops (id int);
-- strata:up
SQL
raw --dir "$D" lint
expect_rc 2 "parse error"
contains "$ERR" "PARSE_ERROR" "parse error code"
rm -f "$D/0003_broken.sql"
raw --dir "$WORK/nowhere" lint
expect_rc 2 "missing directory"
contains "$ERR" "DIR_NOT_FOUND" "missing directory code"

# help and the rule list
raw lint --help
expect_rc 0 "lint --help"
contains "$OUT" "usage: strata lint" "usage"
contains "$OUT" "strata:lint-ignore" "help explains lint-ignore"
raw help lint
contains "$OUT" "--strict" "strata help lint"
raw --help
contains "$OUT" "lint" "global help lists lint"
raw lint --list-rules
expect_rc 0 "--list-rules"
eq "$(wc -l <<<"$OUT")" "24" "one line per rule"
contains "$OUT" "index-not-concurrent" "rule list"
raw lint --list-rules --json
eq "$(json_get "$OUT" 'len(j["rules"])')" "24" "json rule list"
eq "$(json_get "$OUT" 'sorted(j["rules"][0].keys())')" "['dialects', 'hint', 'rule', 'severity', 'summary']" "rule fields"
# every rule is documented
for r in $(json_get "$OUT" '" ".join(x["rule"] for x in j["rules"])'); do
    grep -q "^### \`$r\`" "$ROOT/docs/lint.md" || fail "docs/lint.md does not document $r"
done

# every rule's examples in docs/lint.md: "Fires" fires it, "Fixed" is clean
# (both linted with the rule's engines only)
python3 - "$ROOT/docs/lint.md" "$WORK/doc" <<'PY'
import os, re, sys
rule = label = None
blocks = {}
lines = open(sys.argv[1]).read().split("\n")
i = 0
while i < len(lines):
    l = lines[i]
    m = re.match(r"^### `([a-z-]+)`", l)
    if m:
        rule, label = m.group(1), None
    elif l.startswith("Fires") or l.startswith("Fixed"):
        label = l[:5].lower()
    elif l.startswith("```sql") and rule and label and (rule, label) not in blocks:
        j = i + 1
        while lines[j] != "```":
            j += 1
        blocks[(rule, label)] = lines[i + 1:j]
        i = j
    i += 1
for (rule, label), body in blocks.items():
    d = os.path.join(sys.argv[2], rule, label)
    os.makedirs(d)
    name, text = "0001_example.sql", []
    for l in body + ["-- file: END"]:
        if l.startswith("-- file: "):
            open(os.path.join(d, name), "w").write("\n".join(text) + "\n")
            name, text = l[9:], []
        else:
            text.append(l)
PY
raw lint --list-rules --json
RULES_JSON=$OUT
for r in $(json_get "$RULES_JSON" '" ".join(x["rule"] for x in j["rules"])'); do
    dialect=$(json_get "$RULES_JSON" '[x["dialects"] for x in j["rules"] if x["rule"] == "'"$r"'"][0]')
    opt=()
    case "$dialect" in postgres | sqlite) opt=(--dialect "$dialect") ;; esac
    for label in fires fixed; do
        if [ ! -d "$WORK/doc/$r/$label" ]; then
            fail "docs/lint.md: no '$label' example for $r"
            continue
        fi
        raw --dir "$WORK/doc/$r/$label" lint "${opt[@]}" --json
        rules=$(json_get "$OUT" '[f["rule"] for f in j["findings"]]')
        if [ $label = fires ]; then
            contains "$rules" "'$r'" "docs/lint.md: the example that fires $r"
        else
            eq "$rules" "[]" "docs/lint.md: the fixed example of $r"
        fi
    done
done

# ---------------------------------------------------------------- the samples

for s in pos payments; do
    raw --dir "$ROOT/examples/$s/migrations" lint --strict --json
    expect_rc 0 "sample $s lints clean"
    eq "$(json_get "$OUT" 'j["findings"]')" "[]" "sample $s has no findings"
done

# ---------------------------------------------------------------- the engine

# What lint says fails must fail on the engine: each case is a table with a
# row (0001) and one statement (0002); lint must name the rule and up must
# stop at 0001.
expect_fails() { # RULE SQL
    local dir="$WORK/f$RANDOM$RANDOM"
    mig "$dir" 0001_base.sql <<'SQL'
-- strata:up
CREATE TABLE t (id integer PRIMARY KEY, a integer);
INSERT INTO t VALUES (1, 1);
-- strata:down
DROP TABLE t;
SQL
    printf -- '-- strata:up\n%s\n-- strata:down\n' "$2" >"$dir/0002_change.sql"
    raw --dir "$dir" lint --dialect "$ENGINE" --json
    expect_rc 1 "lint of: $2"
    contains "$(json_get "$OUT" '[f["rule"] for f in j["findings"]]')" "'$1'" "lint names $1 for: $2"
    new_db
    st --dir "$dir" up
    expect_rc 1 "$ENGINE refuses: $2"
    st --dir "$dir" current
    eq "$OUT" "0001" "$ENGINE stays at 0001 after: $2"
}

if [ "$ENGINE" = postgres ]; then
    expect_fails concurrently-in-transaction "CREATE INDEX CONCURRENTLY ix ON t (a);"
    expect_fails concurrently-in-transaction "DROP INDEX CONCURRENTLY IF EXISTS ix;"
    expect_fails cannot-run-in-transaction "VACUUM t;"
    expect_fails not-null-without-default "ALTER TABLE t ADD COLUMN b integer NOT NULL;"
else
    expect_fails sqlite-alter-column "ALTER TABLE t ALTER COLUMN a TYPE text;"
    expect_fails sqlite-alter-constraint "ALTER TABLE t ADD CONSTRAINT a_pos CHECK (a > 0);"
    expect_fails sqlite-alter-constraint "ALTER TABLE t DROP CONSTRAINT a_pos;"
    expect_fails sqlite-add-column "ALTER TABLE t ADD COLUMN b integer UNIQUE;"
    expect_fails sqlite-add-column "ALTER TABLE t ADD COLUMN b integer NOT NULL;"
    expect_fails sqlite-add-column "ALTER TABLE t ADD COLUMN b text DEFAULT CURRENT_TIMESTAMP;"
    expect_fails sqlite-alter-syntax "ALTER TABLE t ADD COLUMN b integer, ADD COLUMN c integer;"
    expect_fails sqlite-alter-syntax "ALTER TABLE t ADD COLUMN IF NOT EXISTS b integer;"
    expect_fails cannot-run-in-transaction "VACUUM;"
fi

# The safer alternatives that the hints describe lint clean and run, up and
# down, on the engine.
S=$WORK/safe
mig "$S" 0001_base.sql <<'SQL'
-- strata:up
CREATE TABLE users (id integer PRIMARY KEY);
CREATE TABLE orders (id integer PRIMARY KEY, user_id integer, total integer, code text);
INSERT INTO users VALUES (1);
INSERT INTO orders VALUES (1, 1, 10, 'a');
-- strata:up dialect=postgres
CREATE TYPE order_state AS ENUM ('open');
CREATE TABLE users (id integer PRIMARY KEY);
CREATE TABLE orders (id integer PRIMARY KEY, user_id integer, total integer, code text);
INSERT INTO users VALUES (1);
INSERT INTO orders VALUES (1, 1, 10, 'a');
-- strata:down
DROP TABLE orders;
DROP TABLE users;
-- strata:down dialect=postgres
DROP TABLE orders;
DROP TABLE users;
DROP TYPE order_state;
SQL
mig "$S" 0002_index.sql <<'SQL'
-- strata:up no-transaction dialect=postgres
CREATE INDEX CONCURRENTLY IF NOT EXISTS ix_orders_total ON orders (total);
-- strata:down no-transaction dialect=postgres
DROP INDEX CONCURRENTLY IF EXISTS ix_orders_total;
-- strata:up dialect=sqlite
-- strata:lint-ignore index-not-concurrent -- SQLite builds it in the migration's write transaction anyway
CREATE INDEX ix_orders_total ON orders (total);
-- strata:down dialect=sqlite
DROP INDEX ix_orders_total;
SQL
mig "$S" 0003_add_columns.sql <<'SQL'
-- strata:up
ALTER TABLE orders ADD COLUMN note text NOT NULL DEFAULT '';
ALTER TABLE orders ADD COLUMN placed_at timestamp;
-- strata:down
ALTER TABLE orders DROP COLUMN placed_at;
ALTER TABLE orders DROP COLUMN note;
SQL
mig "$S" 0004_constraints_not_valid.sql <<'SQL'
-- strata:up dialect=postgres
ALTER TABLE orders ADD CONSTRAINT orders_user_fk FOREIGN KEY (user_id) REFERENCES users (id) NOT VALID;
ALTER TABLE orders ADD CONSTRAINT orders_total_nn CHECK (total IS NOT NULL) NOT VALID;
-- strata:down dialect=postgres
ALTER TABLE orders DROP CONSTRAINT orders_total_nn;
ALTER TABLE orders DROP CONSTRAINT orders_user_fk;
-- strata:up dialect=sqlite
-- strata:down dialect=sqlite
SQL
mig "$S" 0005_validate.sql <<'SQL'
-- strata:up dialect=postgres
ALTER TABLE orders VALIDATE CONSTRAINT orders_user_fk;
ALTER TABLE orders VALIDATE CONSTRAINT orders_total_nn;
-- strata:down dialect=postgres
-- validation cannot be undone, nor does it need to be
-- strata:up dialect=sqlite
-- strata:down dialect=sqlite
SQL
mig "$S" 0006_total_not_null.sql <<'SQL'
-- strata:up dialect=postgres
ALTER TABLE orders ALTER COLUMN total SET NOT NULL;
ALTER TABLE orders DROP CONSTRAINT orders_total_nn;
-- strata:down dialect=postgres
ALTER TABLE orders ADD CONSTRAINT orders_total_nn CHECK (total IS NOT NULL) NOT VALID;
ALTER TABLE orders ALTER COLUMN total DROP NOT NULL;
-- strata:up dialect=sqlite
-- SQLite: rebuild the table with the new definition
CREATE TABLE orders_new (id integer PRIMARY KEY, user_id integer, total integer NOT NULL,
                         code text, note text NOT NULL DEFAULT '', placed_at timestamp);
INSERT INTO orders_new SELECT id, user_id, total, code, note, placed_at FROM orders;
DROP TABLE orders;
ALTER TABLE orders_new RENAME TO orders;
CREATE INDEX ix_orders_total ON orders (total);
-- strata:down dialect=sqlite
CREATE TABLE orders_old (id integer PRIMARY KEY, user_id integer, total integer,
                         code text, note text NOT NULL DEFAULT '', placed_at timestamp);
INSERT INTO orders_old SELECT id, user_id, total, code, note, placed_at FROM orders;
DROP TABLE orders;
ALTER TABLE orders_old RENAME TO orders;
CREATE INDEX ix_orders_total ON orders (total);
SQL
mig "$S" 0007_unique_code.sql <<'SQL'
-- strata:up no-transaction dialect=postgres
CREATE UNIQUE INDEX CONCURRENTLY IF NOT EXISTS orders_code_key ON orders (code);
ALTER TABLE orders ADD CONSTRAINT orders_code_key UNIQUE USING INDEX orders_code_key;
-- strata:down dialect=postgres
ALTER TABLE orders DROP CONSTRAINT orders_code_key;
-- strata:up dialect=sqlite
-- strata:lint-ignore index-not-concurrent -- not a PostgreSQL section
CREATE UNIQUE INDEX orders_code_key ON orders (code);
-- strata:down dialect=sqlite
DROP INDEX orders_code_key;
SQL
mig "$S" 0008_enum_value.sql <<'SQL'
-- strata:up no-transaction dialect=postgres
ALTER TYPE order_state ADD VALUE IF NOT EXISTS 'paid';
-- strata:up dialect=sqlite
-- strata:down
SQL
raw --dir "$S" lint --strict
expect_rc 0 "the safe recipes lint clean"
eq "$OUT" "ok: 8 migrations, no findings" "safe recipes: no findings"
new_db
st --dir "$S" up
expect_rc 0 "the safe recipes run on $ENGINE"
st --dir "$S" current
eq "$OUT" "0008" "safe recipes applied"
if [ "$ENGINE" = postgres ]; then
    eq "$(q "SELECT attnotnull FROM pg_attribute WHERE attrelid = 'orders'::regclass AND attname = 'total'")" "t" "total is NOT NULL"
    eq "$(q "SELECT count(*) FROM pg_constraint WHERE conrelid = 'orders'::regclass AND convalidated AND contype IN ('f', 'u')")" "2" "FK validated, UNIQUE from the index"
else
    eq "$(q "SELECT \"notnull\" FROM pragma_table_info('orders') WHERE name = 'total'")" "1" "total is NOT NULL"
fi
st --dir "$S" down base
expect_rc 0 "the safe recipes revert on $ENGINE"
eq "$(table_exists orders)" "0" "down base dropped orders"

# the lint follows the URL's engine (never connecting); check passes its own
P=$WORK/pgonly
mig "$P" 0001_t.sql <<'SQL'
-- strata:up
CREATE TABLE t (id integer PRIMARY KEY, a integer);
-- strata:down
DROP TABLE t;
SQL
mig "$P" 0002_widen.sql <<'SQL'
-- strata:up
-- strata:lint-ignore alter-column-type -- a small table
ALTER TABLE t ALTER COLUMN a TYPE bigint;
-- strata:down
ALTER TABLE t ALTER COLUMN a TYPE integer;
SQL
raw --dir "$P" --url "postgresql://nobody@127.0.0.1:1/none" lint
lacks "$OUT" "sqlite-alter" "a PostgreSQL URL: no SQLite rule"
expect_rc 0 "a PostgreSQL history linted for PostgreSQL"
DATABASE_URL="postgresql://nobody@127.0.0.1:1/none" raw --dir "$P" lint
lacks "$OUT" "sqlite-alter" "DATABASE_URL (PostgreSQL): no SQLite rule"
raw --dir "$P" --url "sqlite:///$WORK/x.db" lint
contains "$OUT" "sqlite-alter-column" "a SQLite URL: the SQLite rule fires"
expect_rc 1 "a PostgreSQL history linted for SQLite"
[ -e "$WORK/x.db" ] && fail "lint created the SQLite file it never needed"
raw --dir "$P" --url "postgresql://nobody@127.0.0.1:1/none" lint --dialect sqlite
contains "$OUT" "sqlite-alter-column" "--dialect overrides the URL"
# no URL at all: both engines' rules, and a note where a PostgreSQL rule
# found something (a SQLite-only project lints with --dialect sqlite)
mig "$P" 0003_ix.sql <<'SQL'
-- strata:up
CREATE INDEX ix_t_a ON t (a);
-- strata:down
DROP INDEX ix_t_a;
SQL
(cd "$WORK" && env -u DATABASE_URL "$STRATA" --dir "$P" lint >"$WORK/out" 2>"$WORK/err")
RC=$? OUT=$(cat "$WORK/out") ERR=$(cat "$WORK/err")
expect_rc 1 "no URL: the PostgreSQL rule fails the lint"
contains "$OUT" "index-not-concurrent" "no URL: the PostgreSQL rule fires"
contains "$ERR" "strata: note: no database URL, so the rules of both engines apply; for migrations that run only on SQLite: strata lint --dialect sqlite" "no URL: the note says why and what to pass"
(cd "$WORK" && env -u DATABASE_URL "$STRATA" --dir "$P" lint --dialect postgres >"$WORK/out" 2>"$WORK/err")
lacks "$(cat "$WORK/err")" "note:" "--dialect postgres: no note"
rm "$P/0003_ix.sql"
# and the same for a SQLite rule (a PostgreSQL-only file strata diff wrote)
mig "$P" 0003_alter.sql <<'SQL'
-- strata:up
ALTER TABLE t ALTER COLUMN a TYPE bigint;
-- strata:down
ALTER TABLE t ALTER COLUMN a TYPE integer;
SQL
(cd "$WORK" && env -u DATABASE_URL "$STRATA" --dir "$P" lint >"$WORK/out" 2>"$WORK/err")
contains "$(cat "$WORK/out")" "sqlite-alter-column" "no URL: the SQLite rule fires"
contains "$(cat "$WORK/err")" "for migrations that run only on PostgreSQL: strata lint --dialect postgres" "no URL: the note for a SQLite rule"
rm "$P/0003_alter.sql"
if [ "$ENGINE" = postgres ]; then
    raw --dir "$P" --url "$URL" check
    expect_rc 0 "check of a PostgreSQL history on PostgreSQL"
    lacks "$OUT" "sqlite-alter" "check on PostgreSQL: no SQLite rule"
fi

finish
