#!/usr/bin/env bash
# strata diff on SQLite: what the table rebuild must keep (rows, rowids,
# child rows behind ON DELETE CASCADE), names that need quoting, and what
# the schema text must see so that a change is never "no difference".
# Each case: a directory whose init builds BASE, a database at it holding
# rows, diff -m step to DESIRED, then strata up / down on that database.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/diff_lib.sh"

if [ "$ENGINE" != sqlite ]; then
    echo "ok [$ENGINE] $TEST_NAME (SQLite only: skipped)"
    exit 0
fi

export TMPDIR=$WORK/tmp
mkdir -p "$TMPDIR"
new_db
SERVER=$URL

# sqlfile 'SQL': a file holding SQL (its path on stdout)
sqlfile() {
    local f=$WORK/sql_$RANDOM$RANDOM.sql
    printf '%s\n' "$1" >"$f"
    echo "$f"
}

# want_schema 'SQL': the schema text of SQL run on an empty database
want_schema() {
    local f=$WORK/want_$RANDOM.sqlite3
    sqlite3 "$f" "$1"
    schema_of "sqlite:///$f"
}

# ------------------------------------------------ foreign keys left on
# An earlier no-transaction migration turned foreign keys on for strata's
# connection (as the lint suggests for the PRAGMA): the rebuild of a parent
# table must still not cascade its DROP TABLE to the child rows.
PARENT='CREATE TABLE users (id INTEGER PRIMARY KEY, email TEXT);
CREATE TABLE posts (id INTEGER PRIMARY KEY, user_id INTEGER REFERENCES users (id) ON DELETE CASCADE, body TEXT);'
pair fkon "$PARENT" "${PARENT/email TEXT)/email TEXT NOT NULL DEFAULT \'\')}"
expect_rc 0 "fkon: diff of the parent's rebuild"
contains "$OUT" '"users__strata_new"' "fkon: the parent is rebuilt"
contains "$(cat "$QD"/0002_step.sql)" "-- a reference out of or into a rebuilt table that this migration left dangling fails this check (those dangling before it are in temp.strata_fk_before); PRAGMA foreign_key_check lists them
SELECT NOT EXISTS (SELECT lower(\"table\"), \"rowid\", lower(parent) FROM pragma_foreign_key_check WHERE lower(\"table\") IN ('users') OR lower(parent) IN ('users') EXCEPT SELECT t, r, p FROM temp.strata_fk_before)" "fkon: the verify section says what fails it"
contains "$(cat "$QD"/0002_step.sql)" "CREATE TEMP TABLE strata_fk_before AS SELECT lower(\"table\") AS t, \"rowid\" AS r, lower(parent) AS p FROM pragma_foreign_key_check WHERE lower(\"table\") IN ('users') OR lower(parent) IN ('users');" "fkon: the snapshot before the rebuild"
mig "$QD" 0002_fk_on.sql <<'SQL'
-- strata:up no-transaction
PRAGMA foreign_keys = ON;
-- strata:down no-transaction
PRAGMA foreign_keys = ON;
SQL
mv "$QD"/0002_step.sql "$QD"/0003_step.sql
q "INSERT INTO users VALUES (1, 'a'), (2, 'b'); INSERT INTO posts VALUES (1, 1, 'x'), (2, 2, 'y')" >/dev/null
st --dir "$QD" up
expect_rc 0 "fkon: up"
eq "$(q "SELECT count(*) FROM posts")" 2 "fkon: the child rows survive the parent's rebuild"
st --dir "$QD" down
expect_rc 0 "fkon: down"
eq "$(q "SELECT count(*) FROM posts")" 2 "fkon: and its down"

# ------------------------------------------------ old orphans
# A dangling reference SQLite let in long ago (it enforces foreign keys only
# when asked), between tables the rebuild does not touch or out of and into
# the rebuilt table, does not fail it: the rebuild did not make it. One the
# migration makes does, and the database is left as it was.
ORPH='CREATE TABLE Users (id INTEGER PRIMARY KEY, email TEXT);
CREATE TABLE posts (id INTEGER PRIMARY KEY, user_id INTEGER REFERENCES users (id), body TEXT);
CREATE TABLE tags (id INTEGER PRIMARY KEY, post_id INTEGER REFERENCES posts (id));'
pair orphan "$ORPH" "${ORPH/email TEXT)/email TEXT NOT NULL DEFAULT \'\')}"
expect_rc 0 "orphan: diff of the rebuild"
contains "$(cat "$QD"/0002_step.sql)" "IN ('users')" "orphan: the check names the rebuilt table, in lower case"
# the file has no dialect sections: strata lint with no URL gives it both
# engines' rules, and the rebuild's DROP TABLE is not a dropped table
(cd "$WORK" && env -u DATABASE_URL "$STRATA" --dir "$QD" lint >"$WORK/out" 2>&1)
RC=$? OUT=$(cat "$WORK/out")
expect_rc 0 "orphan: lint without a URL passes the rebuild"
contains "$(cat "$QD"/0002_step.sql)" "DROP TABLE Users; -- strata:lint-ignore drop-table -- table rebuild" "orphan: the rebuild's DROP TABLE says why"
q "INSERT INTO users VALUES (1, 'a'); INSERT INTO posts VALUES (1, 1, 'x'); INSERT INTO tags VALUES (1, 99)" >/dev/null
st --dir "$QD" up
expect_rc 0 "orphan: an old dangling reference between other tables does not fail the rebuild"
st --dir "$QD" down
expect_rc 0 "orphan: down"
q "INSERT INTO posts VALUES (2, 7, 'dangling'), (3, 8, 'dangling')" >/dev/null
st --dir "$QD" up
expect_rc 0 "orphan: old dangling references into the rebuilt table do not fail it"
eq "$(q "SELECT count(*) FROM pragma_foreign_key_check")" 3 "orphan: and they are still there"
# a second rebuild in the same up (one connection) takes its own snapshot
st --dir "$QD" down
expect_rc 0 "orphan: down again"
sed 's/^-- strata:down$/-- strata:down\nSELECT 1;/' "$QD"/0002_step.sql >"$QD"/0003_again.sql
st --dir "$QD" up
expect_rc 0 "orphan: two rebuilds in one up"
contains "$OUT" "0003_again" "orphan: the second one applied"
# out of the rebuilt table: an old dangling reference in posts, rebuilt
ORPH2='CREATE TABLE users (id INTEGER PRIMARY KEY);
CREATE TABLE posts (id INTEGER PRIMARY KEY, user_id INTEGER REFERENCES users (id), body TEXT);'
pair orphan_out "$ORPH2" "${ORPH2/body TEXT)/body TEXT NOT NULL DEFAULT \'\')}"
expect_rc 0 "orphan_out: diff of the child's rebuild"
q "INSERT INTO users VALUES (1); INSERT INTO posts VALUES (1, 1, NULL), (2, 5, 'old')" >/dev/null
st --dir "$QD" up
expect_rc 0 "orphan_out: an old dangling reference out of the rebuilt table does not fail it"
eq "$(q "SELECT id || '|' || body FROM posts ORDER BY id" | tr '\n' ' ')" "1| 2|old " "orphan_out: rows kept, NULL filled"
# a dangling reference the migration makes: a new foreign key the rows break
NEWFK_FROM='CREATE TABLE users (id INTEGER PRIMARY KEY);
CREATE TABLE posts (id INTEGER PRIMARY KEY, user_id INTEGER, body TEXT);'
pair newfk "$NEWFK_FROM" "${NEWFK_FROM/user_id INTEGER,/user_id INTEGER REFERENCES users (id),}"
expect_rc 0 "newfk: diff of a new foreign key"
q "INSERT INTO users VALUES (1); INSERT INTO posts VALUES (1, 1, 'a'), (2, 9, 'b')" >/dev/null
before=$(q "SELECT sql FROM sqlite_master ORDER BY name")
st --dir "$QD" up
expect_rc 1 "newfk: a dangling reference the rebuild makes fails it"
contains "$ERR" "VERIFY_FAILED" "newfk: as a failed verify"
eq "$(q "SELECT sql FROM sqlite_master ORDER BY name")" "$before" "newfk: the schema is as before"
eq "$(q "SELECT count(*) FROM posts")" 2 "newfk: the rows are as before"
# ... also where another row dangled before it, out of the same table
NEWFK2='CREATE TABLE users (id INTEGER PRIMARY KEY);
CREATE TABLE posts (id INTEGER PRIMARY KEY, user_id INTEGER REFERENCES users (id), editor_id INTEGER);'
pair newfk2 "$NEWFK2" "${NEWFK2/editor_id INTEGER)/editor_id INTEGER REFERENCES users (id))}"
expect_rc 0 "newfk2: diff of a second foreign key"
q "INSERT INTO users VALUES (1); INSERT INTO posts VALUES (1, 1, 1), (2, 7, 1), (3, 1, 9)" >/dev/null
st --dir "$QD" up
expect_rc 1 "newfk2: a new dangling reference beside an old one fails it"
contains "$ERR" "VERIFY_FAILED" "newfk2: as a failed verify"
q "DELETE FROM posts WHERE id = 3" >/dev/null
st --dir "$QD" up
expect_rc 0 "newfk2: the old one alone does not"

# ------------------------------------------------ rows that break the new definition
# The proof runs on empty tables; a row that breaks a new NOT NULL fails
# the rebuild at up, rolled back whole, with a hint that says why
pair breaks 'CREATE TABLE users (id INTEGER PRIMARY KEY, email TEXT);' 'CREATE TABLE users (id INTEGER PRIMARY KEY, email TEXT NOT NULL);'
expect_rc 0 "breaks: diff"
q "INSERT INTO users VALUES (1, NULL), (2, 'b')" >/dev/null
st --dir "$QD" up
expect_rc 1 "breaks: up fails on a row with NULL"
contains "$ERR" "0002_step.sql:9: NOT NULL constraint failed" "breaks: the statement's line"
contains "$ERR" "hint: this table rebuild copies the table's rows into its new definition, and a row breaks it" "breaks: the hint"
eq "$(q "SELECT count(*) FROM users")" 2 "breaks: the rows are as before"
eq "$(q "SELECT count(*) FROM sqlite_master WHERE name LIKE '%strata_new%'")" 0 "breaks: no new table left"
# two suspected renames, a table's and a column's: the destructive error's
# hint gives the first and says more are in the notes (it named only one)
pair two_renames 'CREATE TABLE users (id INTEGER PRIMARY KEY, name TEXT); CREATE TABLE t (id INTEGER PRIMARY KEY, a TEXT);' \
    'CREATE TABLE people (id INTEGER PRIMARY KEY, name TEXT); CREATE TABLE t (id INTEGER PRIMARY KEY, b TEXT);'
expect_rc 1 "two suspected renames: destructive"
contains "$ERR" "pass --rename users:people" "the table's rename noted"
contains "$ERR" "pass --rename t.a:b" "the column's rename noted"
contains "$ERR" "(and 1 more in the notes above)" "the hint counts the other note"

# a name that changes only in case is the same table or column in SQLite:
# renamed (the column's values kept), not a drop and an add with a note
# telling to pass --rename
pair case_col 'CREATE TABLE t (id INTEGER PRIMARY KEY, email TEXT);' 'CREATE TABLE t (id INTEGER PRIMARY KEY, Email TEXT);'
expect_rc 0 "a column name changed in case"
lacks "$ERR" "--rename" "case_col: no rename note"
q "INSERT INTO t VALUES (1, 'a@x')" >/dev/null
st --dir "$QD" up
expect_rc 0 "case_col: up"
eq "$(q "SELECT Email FROM t")" "a@x" "case_col: the values kept"
contains "$(q "SELECT sql FROM sqlite_master WHERE name = 't'")" "Email TEXT" "case_col: the new spelling"
pair case_table 'CREATE TABLE t (id INTEGER PRIMARY KEY, email TEXT);' 'CREATE TABLE T (id INTEGER PRIMARY KEY, email TEXT);'
expect_rc 0 "a table name changed in case"
lacks "$ERR" "--rename" "case_table: no rename note"
q "INSERT INTO t VALUES (1, 'q')" >/dev/null
st --dir "$QD" up
expect_rc 0 "case_table: up"
eq "$(q "SELECT name FROM sqlite_master WHERE type = 'table' AND name <> 'strata_migrations'")|$(q "SELECT email FROM T")" "T|q" \
    "case_table: the new spelling, the rows kept"
st --dir "$QD" down
expect_rc 0 "case_table: down"

# a new CHECK: SQLite's message names no table; the hint still comes
pair breaks_check 'CREATE TABLE t (id INTEGER PRIMARY KEY, n INT);' 'CREATE TABLE t (id INTEGER PRIMARY KEY, n INT CHECK (n >= 0));'
expect_rc 0 "breaks_check: diff"
q "INSERT INTO t VALUES (1, 1), (2, -1)" >/dev/null
st --dir "$QD" up
expect_rc 1 "breaks_check: up fails on a row the CHECK refuses"
contains "$ERR" "CHECK constraint failed" "breaks_check: SQLite's message"
contains "$ERR" "hint: this table rebuild copies the table's rows into its new definition, and a row breaks it" \
    "breaks_check: the hint"

# a conflict rule of the new definition's own (ON CONFLICT REPLACE on a
# UNIQUE, IGNORE on a NOT NULL) must not delete or skip rows in the copy:
# it fails and rolls back like any other row that breaks the definition
pair conflict 'CREATE TABLE t (id INTEGER PRIMARY KEY, email TEXT, nick TEXT);' \
    'CREATE TABLE t (id INTEGER PRIMARY KEY, email TEXT UNIQUE ON CONFLICT REPLACE, nick TEXT NOT NULL ON CONFLICT IGNORE);'
expect_rc 0 "conflict: diff"
q "INSERT INTO t VALUES (1, 'a@x', 'n1'), (2, 'a@x', 'n2'), (3, 'b@x', NULL), (4, 'c@x', 'n4')" >/dev/null
st --dir "$QD" up
expect_rc 1 "conflict: up fails on the rows the new rules would drop"
eq "$(q "SELECT count(*) FROM t")" 4 "conflict: every row kept"
q "DELETE FROM t WHERE id IN (1, 3)" >/dev/null
st --dir "$QD" up
expect_rc 0 "conflict: up once the rows fit"
eq "$(q "SELECT group_concat(id) FROM t")" "2,4" "conflict: the rows that fit, all of them"

# ------------------------------------------------ names that need quoting
# SQLite keywords (any of them, not only the common ones), spaces, quotes
KW='CREATE TABLE "limit" (id INTEGER PRIMARY KEY, "case" TEXT, "desc" TEXT, "having" INT, "a b" TEXT, "q""x" TEXT);
CREATE INDEX "end" ON "limit" ("desc");
CREATE VIEW "exists" AS SELECT "case", "q""x" FROM "limit";'
pair keywords "$KW" "${KW/\"case\" TEXT,/\"case\" TEXT NOT NULL DEFAULT \'\',}"
expect_rc 0 "keywords: diff of a rebuild"
q "INSERT INTO \"limit\" VALUES (1, 'c', 'd', 2, 'ab', 'qx')" >/dev/null
st --dir "$QD" up
expect_rc 0 "keywords: up"
eq "$(q "SELECT * FROM \"limit\"")" "1|c|d|2|ab|qx" "keywords: the row is kept"
eq "$(schema_of "$URL")" "$(want_schema "$(cat "$WORK/qa_want.sql")")" "keywords: the desired schema"
st --dir "$QD" down
expect_rc 0 "keywords: down"
eq "$(q "SELECT * FROM \"limit\"")" "1|c|d|2|ab|qx" "keywords: the row is kept by the down"

# ------------------------------------------------ rowids
# A table without an INTEGER PRIMARY KEY keeps its rowids through the
# rebuild (an FTS5 index with external content, or the application, may
# hold them); an alias column keeps its values.
pair rowid 'CREATE TABLE t (a TEXT, b INT);' "CREATE TABLE t (a TEXT NOT NULL DEFAULT '', b INT);"
expect_rc 0 "rowid: diff"
q "INSERT INTO t (rowid, a, b) VALUES (3, 'x', 1), (7, 'y', 2), (8, 'z', 3)" >/dev/null
st --dir "$QD" up
expect_rc 0 "rowid: up"
eq "$(q "SELECT group_concat(rowid || ':' || a) FROM t")" "3:x,7:y,8:z" "rowid: rowids kept by the rebuild"
st --dir "$QD" down
expect_rc 0 "rowid: down"
eq "$(q "SELECT group_concat(rowid || ':' || a) FROM t")" "3:x,7:y,8:z" "rowid: and by its down"
# INT PRIMARY KEY (not an alias) to INTEGER PRIMARY KEY (an alias) and back
pair rowid_alias 'CREATE TABLE t (id INT PRIMARY KEY, a TEXT);' 'CREATE TABLE t (id INTEGER PRIMARY KEY, a TEXT);'
expect_rc 0 "rowid_alias: diff"
q "INSERT INTO t (rowid, id, a) VALUES (1, 10, 'x'), (2, 20, 'y')" >/dev/null
st --dir "$QD" up
expect_rc 0 "rowid_alias: up"
eq "$(q "SELECT group_concat(rowid || ':' || id) FROM t")" "10:10,20:20" "rowid_alias: the alias keeps the id values"
st --dir "$QD" down
expect_rc 0 "rowid_alias: down"
eq "$(q "SELECT group_concat(id || ':' || a) FROM t ORDER BY id")" "10:x,20:y" "rowid_alias: the down keeps the ids"
# the FTS5 pattern of the SQLite documentation: an external content table
# without an INTEGER PRIMARY KEY, kept in step by triggers; after its
# rebuild the index still matches the rows (FTS5's integrity-check)
FTSR="CREATE TABLE notes (body TEXT, tag TEXT);
CREATE VIRTUAL TABLE notes_fts USING fts5(body, content='notes');
CREATE TRIGGER notes_ai AFTER INSERT ON notes BEGIN INSERT INTO notes_fts (rowid, body) VALUES (new.rowid, new.body); END;
CREATE TRIGGER notes_ad AFTER DELETE ON notes BEGIN INSERT INTO notes_fts (notes_fts, rowid, body) VALUES ('delete', old.rowid, old.body); END;"
pair ftsrowid "$FTSR" "${FTSR/tag TEXT)/tag TEXT NOT NULL DEFAULT \'\')}"
expect_rc 0 "ftsrowid: diff"
q "INSERT INTO notes VALUES ('alpha', 't'), ('beta', 't'), ('gamma', 't'); DELETE FROM notes WHERE body = 'alpha'" >/dev/null
st --dir "$QD" up
expect_rc 0 "ftsrowid: up"
q "INSERT INTO notes_fts (notes_fts, rank) VALUES ('integrity-check', 1)" >/dev/null 2>"$WORK/qerr" ||
    fail "ftsrowid: the FTS index no longer matches its content table: $(cat "$WORK/qerr")"
eq "$(q "SELECT n.tag FROM notes_fts f JOIN notes n ON n.rowid = f.rowid WHERE notes_fts MATCH 'gamma'")" t "ftsrowid: a match finds its row"

# a column named rowid: the rowid is copied as _rowid_
pair rowid_named 'CREATE TABLE t ("rowid" TEXT, b INT);' 'CREATE TABLE t ("rowid" TEXT, b INT NOT NULL DEFAULT 0);'
expect_rc 0 "rowid_named: diff"
q "INSERT INTO t (_rowid_, \"rowid\", b) VALUES (5, 'r', 1)" >/dev/null
st --dir "$QD" up
expect_rc 0 "rowid_named: up"
eq "$(q "SELECT _rowid_ || ':' || \"rowid\" FROM t")" "5:r" "rowid_named: rowid and the column named rowid kept"

# ------------------------------------------------ what only the SQL says
# A foreign key's DEFERRABLE INITIALLY DEFERRED and the ON CONFLICT clause
# of a table-level UNIQUE or PRIMARY KEY are in no pragma: the schema text
# must show them, else diff says "no difference" and writes nothing.
FKB='CREATE TABLE p (id INTEGER PRIMARY KEY);
CREATE TABLE c (id INTEGER PRIMARY KEY, a INT REFERENCES p (id), b INT, FOREIGN KEY (b) REFERENCES p (id));'
for want in "${FKB/REFERENCES p (id),/REFERENCES p (id) DEFERRABLE INITIALLY DEFERRED,}" \
    "${FKB/REFERENCES p (id));/REFERENCES p (id) DEFERRABLE INITIALLY DEFERRED);}" \
    'CREATE TABLE p (id INTEGER PRIMARY KEY, u TEXT, UNIQUE (u) ON CONFLICT REPLACE);
CREATE TABLE c (id INTEGER PRIMARY KEY, a INT REFERENCES p (id), b INT, FOREIGN KEY (b) REFERENCES p (id));' \
    'CREATE TABLE p (id INTEGER, PRIMARY KEY (id) ON CONFLICT IGNORE);
CREATE TABLE c (id INTEGER PRIMARY KEY, a INT REFERENCES p (id), b INT, FOREIGN KEY (b) REFERENCES p (id));'; do
    base=$FKB
    case $want in *UNIQUE*) base=${FKB/KEY);/KEY, u TEXT, UNIQUE (u));} ;; esac
    pair sqlonly "$base" "$want"
    expect_rc 0 "sqlonly: diff to $want"
    lacks "$OUT" "no difference" "sqlonly: $want is a difference"
    st --dir "$QD" up
    expect_rc 0 "sqlonly: up to $want"
    eq "$(schema_of "$URL")" "$(want_schema "$want")" "sqlonly: $want: the desired schema"
done
eq "$(want_schema "$FKB")" "$(want_schema "${FKB/a INT REFERENCES p (id),/a INT REFERENCES p (id) NOT DEFERRABLE INITIALLY DEFERRED,}")" \
    "NOT DEFERRABLE INITIALLY DEFERRED is not deferred"
contains "$(want_schema "${FKB/REFERENCES p (id));/REFERENCES p (id) DEFERRABLE INITIALLY DEFERRED);}")" \
    "foreign key (b) references p (id) deferrable initially deferred" "the schema text names a deferred foreign key"
contains "$(want_schema 'CREATE TABLE t (a TEXT, b TEXT, UNIQUE ("A" COLLATE NOCASE, b) ON CONFLICT IGNORE)')" \
    "unique (a collate nocase, b) on conflict ignore" "the schema text names a unique constraint's collation and conflict clause"
# the collation of a key's column, said only in the constraint
for want in 'CREATE TABLE t (id INTEGER PRIMARY KEY, a TEXT, UNIQUE (a COLLATE NOCASE));' \
    'CREATE TABLE t (id INTEGER, a TEXT, PRIMARY KEY (a COLLATE NOCASE));'; do
    pair keycoll 'CREATE TABLE t (id INTEGER PRIMARY KEY, a TEXT, UNIQUE (a));' "$want" --allow-destructive
    expect_rc 0 "keycoll: diff to $want"
    lacks "$OUT" "no difference" "keycoll: $want is a difference"
    st --dir "$QD" up
    expect_rc 0 "keycoll: up to $want"
    eq "$(schema_of "$URL")" "$(want_schema "$want")" "keycoll: $want: the desired schema"
done
contains "$(want_schema 'CREATE TABLE t (a TEXT, PRIMARY KEY (a COLLATE NOCASE)) WITHOUT ROWID;')" \
    "primary key (a collate nocase)" "the schema text names a primary key column's collation"

# ------------------------------------------------ virtual tables
# An FTS5 table is created and dropped by its statement (its shadow tables
# come and go with it); a change of one is refused by name, never planned
# as a rebuild of a virtual table.
NOTES='CREATE TABLE notes (id INTEGER PRIMARY KEY, body TEXT);'
FTS="$NOTES
CREATE VIRTUAL TABLE notes_fts USING fts5(body, content='notes', content_rowid='id');"
pair fts "$NOTES" "$FTS"
expect_rc 0 "fts: diff creating an FTS5 table"
contains "$OUT" "CREATE VIRTUAL TABLE notes_fts USING fts5" "fts: created by its statement"
lacks "$OUT" "notes_fts_data" "fts: its shadow tables are not planned"
q "INSERT INTO notes VALUES (1, 'hello world')" >/dev/null
st --dir "$QD" up
expect_rc 0 "fts: up"
eq "$(schema_of "$URL")" "$(want_schema "$FTS")" "fts: the desired schema"
q "INSERT INTO notes_fts (notes_fts) VALUES ('rebuild')" >/dev/null
eq "$(q "SELECT rowid FROM notes_fts WHERE notes_fts MATCH 'hello'")" 1 "fts: the index works"
# the content table rebuilt: rows and the FTS index (by rowid) still match
diff_in "$QD" --to "$(sqlfile "${FTS/body TEXT)/body TEXT NOT NULL DEFAULT \'\')}")" -m rebuild_notes
expect_rc 0 "fts: diff rebuilding the content table"
st --dir "$QD" up
expect_rc 0 "fts: up of the content table's rebuild"
eq "$(q "SELECT n.body FROM notes_fts f JOIN notes n ON n.id = f.rowid WHERE notes_fts MATCH 'hello'")" "hello world" "fts: the index still finds the row"
# a changed virtual table: refused by name
diff_in "$QD" --to "$(sqlfile "${FTS/fts5(body,/fts5(body, tokenize='trigram',}")" -m change_fts
expect_rc 2 "fts: a changed virtual table"
contains "$ERR" "DIFF_UNSUPPORTED" "fts: refused"
contains "$ERR" "virtual table notes_fts" "fts: by name"
# dropped: destructive, then done by DROP TABLE
diff_in "$QD" --to "$(sqlfile "$NOTES")" -m drop_fts
expect_rc 1 "fts: dropping a virtual table is destructive"
diff_in "$QD" --to "$(sqlfile "$NOTES")" -m drop_fts --allow-destructive
expect_rc 0 "fts: drop"
contains "$OUT" "DROP TABLE notes_fts" "fts: dropped by its name"
lacks "$OUT" "notes_fts_data" "fts: not its shadow tables"

# ------------------------------------------------ triggers on views
# INSTEAD OF triggers belong to a view: created with it, kept when their
# view is created again around a rebuild, dropped and created when changed.
VT='CREATE TABLE t (id INTEGER PRIMARY KEY, a TEXT);
CREATE VIEW v AS SELECT id, a FROM t;'
TRG='CREATE TRIGGER v_ins INSTEAD OF INSERT ON v BEGIN INSERT INTO t (a) VALUES (new.a); END;'
pair viewtrg "$VT" "$VT
$TRG"
expect_rc 0 "viewtrg: diff adding a trigger on a view"
contains "$OUT" "CREATE TRIGGER v_ins INSTEAD OF INSERT ON v" "viewtrg: the trigger is created"
st --dir "$QD" up
expect_rc 0 "viewtrg: up"
eq "$(schema_of "$URL")" "$(want_schema "$VT
$TRG")" "viewtrg: the desired schema"
q "INSERT INTO v (a) VALUES ('through the view')" >/dev/null
# the table under the view rebuilt: the view and its trigger come back
VT2="${VT/a TEXT)/a TEXT NOT NULL DEFAULT \'\')}
$TRG"
diff_in "$QD" --to "$(sqlfile "$VT2")" -m rebuild_t
expect_rc 0 "viewtrg: diff rebuilding the table under the view"
st --dir "$QD" up
expect_rc 0 "viewtrg: up of the rebuild"
eq "$(schema_of "$URL")" "$(want_schema "$VT2")" "viewtrg: the trigger is back after the rebuild"
# changed, then dropped
VT3="${VT2/VALUES (new.a)/VALUES (upper(new.a))}"
diff_in "$QD" --to "$(sqlfile "$VT3")" -m change_trg
expect_rc 0 "viewtrg: diff changing the trigger"
st --dir "$QD" up
expect_rc 0 "viewtrg: up of the change"
eq "$(schema_of "$URL")" "$(want_schema "$VT3")" "viewtrg: the changed trigger"
diff_in "$QD" --to "$(sqlfile "${VT/a TEXT)/a TEXT NOT NULL DEFAULT \'\')}")" -m drop_trg
expect_rc 0 "viewtrg: diff dropping the trigger"
contains "$OUT" "DROP TRIGGER v_ins" "viewtrg: dropped by name"
st --dir "$QD" up
expect_rc 0 "viewtrg: up of the drop"
eq "$(schema_of "$URL")" "$(want_schema "${VT/a TEXT)/a TEXT NOT NULL DEFAULT \'\')}")" "viewtrg: the trigger is gone"
st --dir "$QD" down -3
expect_rc 0 "viewtrg: the downs"
eq "$(schema_of "$URL")" "$(want_schema "$VT
$TRG")" "viewtrg: the downs give back the trigger"
eq "$(q "SELECT a FROM t")" "through the view" "viewtrg: and the row"

# ------------------------------------------------ generated columns
# generated -> plain: the column keeps the values it had
pair gen2plain 'CREATE TABLE t (id INTEGER PRIMARY KEY, b INT, c INT AS (b * 2));' \
    'CREATE TABLE t (id INTEGER PRIMARY KEY, b INT, c INT);'
expect_rc 0 "gen2plain: diff"
q "INSERT INTO t (id, b) VALUES (1, 21)" >/dev/null
st --dir "$QD" up
expect_rc 0 "gen2plain: up"
eq "$(q "SELECT c FROM t")" 42 "gen2plain: the computed values are kept"
# INTEGER to NUMERIC or BLOB keeps every value (the reals an INTEGER column
# holds too): not destructive; INTEGER or REAL to TEXT (a real keeps 15
# digits) and TEXT to INTEGER ('007') are
pair int_num 'CREATE TABLE t (id INTEGER PRIMARY KEY, b INT, c BIGINT);' \
    'CREATE TABLE t (id INTEGER PRIMARY KEY, b NUMERIC, c BLOB);'
expect_rc 0 "int to numeric/blob without --allow-destructive: $ERR"
q "INSERT INTO t VALUES (1, 0.1 + 0.2, 9007199254740993)"
st --dir "$QD" up
expect_rc 0 "int_num: up with rows"
eq "$(q "SELECT typeof(b) || '|' || c FROM t")" "real|9007199254740993" "int_num: values kept"
eq "$(q "SELECT b = 0.1 + 0.2 FROM t")" "1" "int_num: the real kept bit for bit"
pair int_text 'CREATE TABLE t (id INTEGER PRIMARY KEY, a INTEGER);' 'CREATE TABLE t (id INTEGER PRIMARY KEY, a TEXT);'
expect_rc 1 "integer to text: destructive (the reals it holds)"
pair real_text 'CREATE TABLE t (id INTEGER PRIMARY KEY, a REAL);' 'CREATE TABLE t (id INTEGER PRIMARY KEY, a TEXT);'
expect_rc 1 "real to text: destructive"
pair text_int 'CREATE TABLE t (id INTEGER PRIMARY KEY, a TEXT);' 'CREATE TABLE t (id INTEGER PRIMARY KEY, a INTEGER);'
expect_rc 1 "text to integer: destructive"

# plain -> generated: its own values are replaced, which is destructive
pair plain2gen 'CREATE TABLE t (id INTEGER PRIMARY KEY, b INT, c INT);' \
    'CREATE TABLE t (id INTEGER PRIMARY KEY, b INT, c INT AS (b * 2) STORED);'
expect_rc 1 "plain2gen: refused without --allow-destructive"
contains "$ERR" "DIFF_DESTRUCTIVE" "plain2gen: destructive"
contains "$ERR" "values of t.c replaced by its generated expression" "plain2gen: says what is lost"
diff_in "$QD" --to "$WORK/qa_want.sql" -m step --allow-destructive
expect_rc 0 "plain2gen: diff with --allow-destructive"
q "INSERT INTO t VALUES (1, 21, 7)" >/dev/null
st --dir "$QD" up
expect_rc 0 "plain2gen: up"
eq "$(q "SELECT b || ':' || c FROM t")" "21:42" "plain2gen: computed"

# ------------------------------------------------ a trigger reading a view
# The view over a rebuilt table is dropped and created again; a trigger on
# another table that reads the view must go and come back with it (ALTER
# TABLE RENAME checks every trigger).
RV='CREATE VIEW vt AS SELECT id, a FROM t;
CREATE TABLE x (id INTEGER PRIMARY KEY);
CREATE TABLE log (n INT);
CREATE TRIGGER xi AFTER INSERT ON x BEGIN INSERT INTO log SELECT count(*) FROM vt; END;'
pair trgview "CREATE TABLE t (id INTEGER PRIMARY KEY, a TEXT);
$RV" "CREATE TABLE t (id INTEGER PRIMARY KEY, a TEXT NOT NULL DEFAULT '');
$RV"
expect_rc 0 "trgview: diff"
st --dir "$QD" up
expect_rc 0 "trgview: up"
eq "$(schema_of "$URL")" "$(want_schema "$(cat "$WORK/qa_want.sql")")" "trgview: the desired schema"

# ------------------------------------------------ the sqlite3 shell's .schema
# .schema prints CREATE TABLE sqlite_sequence (and sqlite_stat1 after
# ANALYZE), which SQLite refuses to run: skipped with a note
new_db
q "CREATE TABLE t (id INTEGER PRIMARY KEY AUTOINCREMENT, a TEXT); CREATE INDEX ia ON t (a);
   CREATE VIRTUAL TABLE nf USING fts5(a); INSERT INTO t (a) VALUES ('x'); ANALYZE" >/dev/null
sqlite3 "$DBFILE" .schema >"$WORK/shell_schema.sql"
grep -q 'CREATE TABLE sqlite_sequence' "$WORK/shell_schema.sql" || fail ".schema prints sqlite_sequence (the case under test)"
diff_in "$WORK/qa_shell" --to "$WORK/shell_schema.sql" -m init
expect_rc 0 "diff --to the output of .schema"
contains "$ERR" "shell_schema.sql:2: CREATE TABLE sqlite_sequence skipped" "the internal table is named with its line"
contains "$ERR" "CREATE TABLE sqlite_stat1 skipped" "and sqlite_stat1"
shell_url=$URL
new_db
st --dir "$WORK/qa_shell" up
expect_rc 0 "up of the migration from .schema"
eq "$(schema_of "$URL")" "$(schema_of "$shell_url")" "the schema of the database .schema printed"

# ------------------------------------------------ comments like markers
# SQLite keeps a definition's comments, and diff writes the definition into
# the file: a comment line "-- strata:down" inside it must not become a
# section marker of the written file; in a string it is kept as it is.
pair markers 'CREATE TABLE t (id INTEGER PRIMARY KEY, a INT);' "CREATE TABLE t (
  id INTEGER PRIMARY KEY, -- the id
  a INT NOT NULL DEFAULT 0,
  -- strata:down
  b TEXT DEFAULT 'two
-- strata:down
lines'
);
CREATE TRIGGER tb AFTER INSERT ON t BEGIN
  -- strata:verify
  UPDATE t SET a = 1 WHERE id = new.id;
END;"
expect_rc 0 "markers: diff"
q "INSERT INTO t VALUES (1, 5)" >/dev/null
st --dir "$QD" up
expect_rc 0 "markers: up of the written file"
eq "$(schema_of "$URL")" "$(want_schema "$(cat "$WORK/qa_want.sql")")" "markers: the desired schema"
q "INSERT INTO t (id) VALUES (2)" >/dev/null
eq "$(q "SELECT b FROM t WHERE id = 2")" "two
-- strata:down
lines" "markers: a string is kept as it is"
st --dir "$QD" down
expect_rc 0 "markers: down of the written file"
eq "$(q "SELECT group_concat(id || ':' || a) FROM t")" "1:5,2:1" "markers: rows kept"
diff_in "$QD" --to "$WORK/qa_want.sql"
contains "$OUT" "no difference" "markers: the comments changed are no difference"

# ------------------------------------------------ names that move
# a renamed table and a new one under its old name; two tables swapping
# names: every rebuild copies first, then the old tables go, then the new
# ones take their names (and the down does the same the other way)
pair oldname 'CREATE TABLE users (id INTEGER PRIMARY KEY, x INT);' \
    'CREATE TABLE users (id INTEGER PRIMARY KEY, email TEXT);
CREATE TABLE users_old (id INTEGER PRIMARY KEY, x INT);' --rename users:users_old
expect_rc 0 "oldname: diff"
q "INSERT INTO users VALUES (1, 10)" >/dev/null
st --dir "$QD" up
expect_rc 0 "oldname: up"
eq "$(q "SELECT * FROM users_old")" "1|10" "oldname: the renamed table keeps its rows"
eq "$(q "SELECT count(*) FROM users")" 0 "oldname: the new table is empty"
st --dir "$QD" down
expect_rc 0 "oldname: down"
eq "$(q "SELECT * FROM users")" "1|10" "oldname: the down gives the rows back"
pair swap 'CREATE TABLE a (x INT); CREATE TABLE b (y TEXT);' 'CREATE TABLE b (x INT); CREATE TABLE a (y TEXT);' --rename a:b,b:a
expect_rc 0 "swap: diff"
q "INSERT INTO a VALUES (1); INSERT INTO b VALUES ('one')" >/dev/null
st --dir "$QD" up
expect_rc 0 "swap: up"
eq "$(q "SELECT x FROM b") $(q "SELECT y FROM a")" "1 one" "swap: the rows follow their tables"
st --dir "$QD" down
expect_rc 0 "swap: down"
eq "$(q "SELECT x FROM a") $(q "SELECT y FROM b")" "1 one" "swap: and back"

# SQLite names are case-insensitive, and so is --rename on SQLite: the
# table and column named in another case than the schema's (before: "the
# start has no such column", exit 2)
pair rencase 'CREATE TABLE Users (id INTEGER PRIMARY KEY, Name TEXT);' 'CREATE TABLE People (id INTEGER PRIMARY KEY, Full_Name TEXT);' --rename users:PEOPLE,users.name:full_name
expect_rc 0 "rencase: diff with the names in another case"
lacks "$OUT" "DROP COLUMN" "rencase: a rename, not a drop"
q "INSERT INTO Users VALUES (1, 'Ada')" >/dev/null
st --dir "$QD" up
expect_rc 0 "rencase: up"
eq "$(q "SELECT id || ':' || Full_Name FROM People")" "1:Ada" "rencase: the rows under the new names"
st --dir "$QD" down
expect_rc 0 "rencase: down"
eq "$(q "SELECT id || ':' || Name FROM Users")" "1:Ada" "rencase: and back"

# a column renamed to the name of one that goes: that one's values are
# lost, which is destructive (the copy named the column twice, silently)
pair colname 'CREATE TABLE t (id INTEGER PRIMARY KEY, a INT, b INT);' 'CREATE TABLE t (id INTEGER PRIMARY KEY, b INT);' --rename t.a:b
expect_rc 1 "colname: refused"
contains "$ERR" "DIFF_DESTRUCTIVE" "colname: destructive"
contains "$ERR" "loses column t.b" "colname: names the column lost"
diff_in "$QD" --to "$WORK/qa_want.sql" -m step --rename t.a:b --allow-destructive
expect_rc 0 "colname: with --allow-destructive"
lacks "$OUT" "b, b" "colname: each column once"
q "INSERT INTO t VALUES (1, 100, 200)" >/dev/null
st --dir "$QD" up
expect_rc 0 "colname: up"
eq "$(q "SELECT * FROM t")" "1|100" "colname: b holds a's values"

# ---------------------------- a foreign key's names in another ASCII case
# SQLite resolves REFERENCES Users (ID) to users (id): the same key, no
# difference (the schema text compared them as written, and no diff could
# be proven); a table renamed only in case, with a child pointing at it
pair fkcase 'CREATE TABLE users (id INTEGER PRIMARY KEY, email TEXT);
CREATE TABLE posts (id INTEGER PRIMARY KEY, uid INT REFERENCES Users (ID));' \
    'CREATE TABLE users (id INTEGER PRIMARY KEY, email TEXT);
CREATE TABLE posts (id INTEGER PRIMARY KEY, uid INT REFERENCES users (id));' --exit-code
expect_rc 0 "fkcase: the same key in another case is no difference"
pair fkcase_missing 'CREATE TABLE t (id INTEGER PRIMARY KEY, x INT REFERENCES Missing (Q));' \
    'CREATE TABLE t (id INTEGER PRIMARY KEY, x INT REFERENCES missing (q));' --exit-code
expect_rc 0 "fkcase: a key to no table, in another case, is no difference"
pair fkcase_rename 'CREATE TABLE users (id INTEGER PRIMARY KEY, email TEXT);
CREATE TABLE posts (id INTEGER PRIMARY KEY, uid INT REFERENCES users (id));' \
    'CREATE TABLE Users (id INTEGER PRIMARY KEY, email TEXT);
CREATE TABLE posts (id INTEGER PRIMARY KEY, uid INT REFERENCES Users (id));'
expect_rc 0 "fkcase_rename: a case-only rename under a foreign key is proven"
q "INSERT INTO users VALUES (1, 'a@x'); INSERT INTO posts VALUES (1, 1)" >/dev/null
st --dir "$QD" up
expect_rc 0 "fkcase_rename: up"
eq "$(q "SELECT email FROM Users JOIN posts ON posts.uid = Users.id")" "a@x" "fkcase_rename: rows kept"

# ------------------------------------------- made NOT NULL with a default
# An ORM model's column made nullable=False with a server_default: the
# rebuild's copy gives the rows holding NULL the default (the INSERT would
# fail on them at up; the proof, on empty tables, cannot see it)
pair nn_default 'CREATE TABLE t (id INTEGER PRIMARY KEY, nick VARCHAR(20), score INTEGER, at DATETIME);' \
    "CREATE TABLE t (id INTEGER PRIMARY KEY, nick VARCHAR(20) DEFAULT '' NOT NULL, score INTEGER NOT NULL DEFAULT 0, at DATETIME DEFAULT (CURRENT_TIMESTAMP) NOT NULL);"
expect_rc 0 "nn_default: columns made NOT NULL with a default"
contains "$OUT" "SELECT rowid, id, coalesce(nick, ''), coalesce(score, 0), coalesce(at, CURRENT_TIMESTAMP) FROM t" "nn_default: the NULLs take the default"
q "INSERT INTO t VALUES (1, 'a', 5, '2024-01-01'), (2, NULL, NULL, NULL)" >/dev/null
st --dir "$QD" up
expect_rc 0 "nn_default: up on rows holding NULL"
eq "$(q "SELECT id || '|' || nick || '|' || score || '|' || (substr(at, 1, 4) >= '2025') FROM t ORDER BY id" | tr '\n' ' ')" \
    "1|a|5|0 2||0|1 " "nn_default: NULLs filled, other values kept"
st --dir "$QD" down
expect_rc 0 "nn_default: down"

# two diff -m at once from the same directory: one migration for the
# change, never two (both were written, the second failing at up with
# "table t9 already exists"); the other one wrote nothing (DIR_CHANGED, or
# no difference when it started after the first had written)
TW=$WORK/twice
mkdir -p "$TW"
printf -- '-- strata:up\nCREATE TABLE t1 (id integer PRIMARY KEY);\n-- strata:down\nDROP TABLE t1;\n' >"$TW/0001_t1.sql"
WANT9=$(sqlfile "CREATE TABLE t1 (id integer PRIMARY KEY);
CREATE TABLE t9 (id integer PRIMARY KEY, w text);")
for round in 1 2 3; do
    rm -f "$TW"/0002_* "$TW"/0003_*
    "$STRATA" --dir "$TW" diff --to "$WANT9" --dialect sqlite -m add_t9 >"$WORK/d1.out" 2>"$WORK/d1.err" &
    p1=$!
    "$STRATA" --dir "$TW" diff --to "$WANT9" --dialect sqlite -m add_t9 >"$WORK/d2.out" 2>"$WORK/d2.err" &
    p2=$!
    wait "$p1"
    r1=$?
    wait "$p2"
    r2=$?
    eq "$(ls "$TW" | grep -c add_t9)" "1" "two diff -m at once, round $round: one file ($r1/$r2: $(cat "$WORK/d1.err" "$WORK/d2.err" | tr '\n' ' '))"
    for k in 1 2; do
        r=$r1
        [ $k = 2 ] && r=$r2
        [ "$r" = 0 ] || grep -q "\[DIR_CHANGED\]" "$WORK/d$k.err" ||
            fail "two diff -m at once, round $round: exit $r without DIR_CHANGED: $(cat "$WORK/d$k.err")"
    done
done

finish
