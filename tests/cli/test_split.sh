#!/usr/bin/env bash
# How a migration file is read and split into statements, checked against
# what psql -f and the sqlite3 shell do with the same SQL: markers inside
# strings and bodies, psql's rule for BEGIN ... END bodies, client-side
# commands (\connect, .read, COPY FROM STDIN) refused at their line.
. "$(dirname "$0")/lib.sh"

# a marker line inside a multi-line string (and, on PostgreSQL, a function
# body) is SQL; the real down section follows
new_db
D=$WORK/markers
if [ "$ENGINE" = postgres ]; then
    mig "$D" 0001_tmpl.sql <<'SQL'
-- strata:up
CREATE TABLE tmpl (id integer, body text);
INSERT INTO tmpl VALUES (1, '
-- strata:down
DROP TABLE x;
');
CREATE FUNCTION f() RETURNS text LANGUAGE sql AS $fn$
SELECT 'in the body'
-- strata:verify
$fn$;
-- strata:down
DROP FUNCTION f();
DROP TABLE tmpl;
SQL
else
    mig "$D" 0001_tmpl.sql <<'SQL'
-- strata:up
CREATE TABLE tmpl (id integer, body text);
INSERT INTO tmpl VALUES (1, '
-- strata:down
DROP TABLE x;
');
/*
-- strata:verify
*/
-- strata:down
DROP TABLE tmpl;
SQL
fi
st --dir "$D" up
expect_rc 0 "markers inside a string are SQL"
eq "$(q 'SELECT length(body) FROM tmpl')" "30" "the string holds the marker line"
[ "$ENGINE" = postgres ] && eq "$(q 'SELECT f()')" "in the body" "the function body holds the marker line"
st --dir "$D" down
expect_rc 0 "the real down section"
eq "$(table_exists tmpl)" "0" "down dropped the table"

# a dollar quote left open over a marker: PARSE_ERROR where it opened
D=$WORK/open
mig "$D" 0001_open.sql <<'SQL'
-- strata:up
CREATE TABLE a (id integer);
/* forgot to close it

-- strata:down
DROP TABLE a;
SQL
st --dir "$D" up
expect_rc 2 "an open comment over a marker"
contains "$ERR" "0001_open.sql:3: /* comment opened here is never closed: line 5 is inside it" "where it opened"
contains "$ERR" "PARSE_ERROR" "code"

# psql's rule: a parameter or column named begin opens no body, so each
# statement runs on its own (CREATE INDEX CONCURRENTLY cannot share a query)
new_db
D=$WORK/begin
if [ "$ENGINE" = postgres ]; then
    mig "$D" 0001_begin.sql <<'SQL'
-- strata:up no-transaction
CREATE TABLE t (id integer, begin integer);
CREATE FUNCTION g(begin integer) RETURNS integer LANGUAGE sql AS $$ SELECT begin $$;
CREATE INDEX CONCURRENTLY t_id ON t (id);
-- strata:down
DROP TABLE t;
DROP FUNCTION g(integer);
SQL
else
    mig "$D" 0001_begin.sql <<'SQL'
-- strata:up
CREATE TABLE t (id integer, trigger text, begin integer);
CREATE TRIGGER t_ins AFTER INSERT ON t BEGIN
  UPDATE t SET trigger = CASE WHEN new.id > 0 THEN 'pos' ELSE 'neg' END WHERE id = new.id;
END;
INSERT INTO t (id) VALUES (1);
-- strata:down
DROP TABLE t;
SQL
    mig "$D" 0002_commit.sql <<'SQL'
-- strata:up
CREATE TABLE u (begin integer);
COMMIT;
SQL
fi
st --dir "$D" up
if [ "$ENGINE" = postgres ]; then
    expect_rc 0 "begin as a parameter name"
    eq "$(q "SELECT count(*) FROM pg_indexes WHERE indexname = 't_id'")" "1" "the concurrent index"
else
    expect_rc 2 "COMMIT after a table with a begin column"
    contains "$ERR" "0002_commit.sql:3: 'COMMIT' statement in a transactional up section" "the COMMIT is seen"
    eq "$(table_exists t)" "0" "nothing ran"
    rm "$D/0002_commit.sql"
    st --dir "$D" up
    expect_rc 0 "trigger with CASE ... END"
    eq "$(q 'SELECT trigger FROM t')" "pos" "the trigger ran"
fi

# standard_conforming_strings off, set in the file or the database's
# default: strings take backslash escapes, as psql follows the setting
if [ "$ENGINE" = postgres ]; then
    new_db
    D=$WORK/nonstd
    mig "$D" 0001_nonstd.sql <<'SQL'
-- strata:up
CREATE TABLE t (v text);
SET standard_conforming_strings = off;
INSERT INTO t VALUES ('it\'s; here');
SET standard_conforming_strings = on;
INSERT INTO t VALUES ('a\');
-- strata:down
DROP TABLE t;
SQL
    st --dir "$D" up
    expect_rc 0 "SET standard_conforming_strings = off in the file"
    eq "$(q "SELECT string_agg(v, ' ' ORDER BY v) FROM t")" "a\\ it's; here" "both strings"
    new_db
    q "ALTER DATABASE $DBNAME SET standard_conforming_strings = off" >/dev/null
    # (the file is read before strata connects, so no marker may follow
    # such a string: see docs/migrations.md)
    mig "$D" 0001_nonstd.sql <<'SQL'
-- strata:down
DROP TABLE t;
-- strata:up
CREATE TABLE t (v text);
INSERT INTO t VALUES ('it\'s; here');
SQL
    st --dir "$D" up
    expect_rc 0 "standard_conforming_strings off in the database"
    eq "$(q 'SELECT v FROM t')" "it's; here" "the string"
fi

# client-side commands are refused at their line, before anything runs
new_db
D=$WORK/client
mig "$D" 0001_a.sql <<'SQL'
-- strata:up
CREATE TABLE a (id integer);
SQL
mig "$D" 0002_meta.sql <<'SQL'
-- strata:up
CREATE TABLE b (id integer);
\connect other
CREATE TABLE c (id integer);
SQL
st --dir "$D" up
expect_rc 2 "psql meta-command"
contains "$ERR" "0002_meta.sql:3: psql meta-command '\\connect other' in the up section" "names it"
eq "$(table_exists a)" "0" "nothing ran"
# a pg_dump of August 2025 or later: its \restrict line gets its own hint
mig "$D" 0002_meta.sql <<'SQL'
-- strata:up
\restrict f00ba4
CREATE TABLE b (id integer);
\unrestrict f00ba4
SQL
st --dir "$D" up
expect_rc 2 "pg_dump's \\restrict"
contains "$ERR" "hint: pg_dump since its August 2025 releases" "the hint names pg_dump"
mig "$D" 0002_meta.sql <<'SQL'
-- strata:up
CREATE TABLE b (id integer, v text);
COPY b (id, v) FROM stdin;
1	it's
\.
SQL
st --dir "$D" up
expect_rc 2 "COPY FROM STDIN"
contains "$ERR" "0002_meta.sql:3: 'COPY ... FROM STDIN' in the up section" "names it"
contains "$ERR" "hint: load the rows with INSERT" "hint"
mig "$D" 0002_meta.sql <<'SQL'
-- strata:up
CREATE TABLE b (id integer);
.read other.sql
SQL
st --json --dir "$D" up
expect_rc 2 "sqlite3 dot-command"
contains "$ERR" "sqlite3 shell command '.read other.sql'" "names it"
contains "$ERR" '"line": 3' "json line"
eq "$(table_exists a)" "0" "nothing ran"

# COPY's other spellings of the client's stream, and PREPARE TRANSACTION
# (half-applied, recorded applied: the prepared part kept its locks)
for stmt in "COPY b FROM STDOUT;" "COPY b TO STDIN;" "PREPARE TRANSACTION 'px';"; do
    printf -- '-- strata:up\nCREATE TABLE b (id integer);\n%s\nCREATE TABLE c (id integer);\n' "$stmt" \
        >"$D/0002_meta.sql"
    st --dir "$D" up
    expect_rc 2 "$stmt refused"
    contains "$ERR" "0002_meta.sql:3: '" "$stmt: named at its line"
    eq "$(table_exists b)" "0" "$stmt: nothing ran"
done
printf -- '-- strata:up no-transaction\nBEGIN;\nCREATE TABLE b (id integer);\nPREPARE TRANSACTION '"'"'px'"'"';\n' \
    >"$D/0002_meta.sql"
st --dir "$D" up
expect_rc 2 "PREPARE TRANSACTION in a no-transaction section"
contains "$ERR" "'PREPARE TRANSACTION'" "PREPARE TRANSACTION named"
rm -f "$D/0002_meta.sql"

# a lone carriage return ends a -- comment for PostgreSQL (its lexer), not
# for SQLite: the statement after it ran in psql and was skipped by strata
new_db
D=$WORK/cr
mkdir -p "$D"
printf -- '-- strata:up\nCREATE TABLE a (x integer);\n-- seed\rINSERT INTO a VALUES (1);\nINSERT INTO a VALUES (2); -- more\rINSERT INTO a VALUES (3);\n' \
    >"$D/0001_a.sql"
st --dir "$D" up
expect_rc 0 "a comment ended by a carriage return"
if [ "$ENGINE" = postgres ]; then
    eq "$(q 'SELECT string_agg(x::text, $$,$$ ORDER BY x) FROM a')" "1,2,3" "PostgreSQL runs what follows the CR (as psql)"
else
    eq "$(q 'SELECT group_concat(x) FROM a')" "2" "SQLite's comment runs to the newline (as sqlite3)"
fi
# every reader of the file agrees on that comment's end: the checksum's
# tokens (an edit after the CR was "up SQL unchanged" to accept), the
# statement's words (ROLLBACK ... TO SAVEPOINT after a CR was refused as a
# ROLLBACK), the text before the first marker (SQL after a CR passed)
if [ "$ENGINE" = postgres ]; then
    sed -i 's/VALUES (3)/VALUES (4)/' "$D/0001_a.sql"
    st --dir "$D" accept 0001
    expect_rc 1 "accept of an edit after a CR-ended comment"
    contains "$ERR" "UP_SQL_CHANGED" "the edit after the CR is a change"
    sed -i 's/VALUES (4)/VALUES (3)/' "$D/0001_a.sql"
    printf -- '-- strata:up\nCREATE TABLE sp (x integer);\nSAVEPOINT s;\nINSERT INTO sp VALUES (1);\nROLLBACK TRANSACTION -- c\rTO SAVEPOINT s;\nINSERT INTO sp VALUES (2);\n' \
        >"$D/0002_sp.sql"
    st --dir "$D" up
    expect_rc 0 "ROLLBACK TRANSACTION -- c<CR> TO SAVEPOINT s"
    eq "$(q 'SELECT string_agg(x::text, $$,$$) FROM sp')" "2" "the savepoint rolled back, the migration went on"
fi
printf -- '-- header\rDROP TABLE important;\n-- strata:up\nSELECT 1;\n' >"$WORK/hdr_0001_h.sql"
mkdir -p "$WORK/hdr" && mv "$WORK/hdr_0001_h.sql" "$WORK/hdr/0001_h.sql"
st --dir "$WORK/hdr" validate
expect_rc 3 "SQL after a CR before the first marker"
contains "$ERR$OUT" "SQL before the first '-- strata:up' marker" "named as SQL before the marker"
# a /* comment never closed: PostgreSQL (nested comments) refuses the file,
# strata ran the part before it and recorded it applied; SQLite ends the
# comment at the end of the file, as sqlite3 does (a SQLite project's file
# without a dialect stays valid there)
printf -- '-- strata:up\nCREATE TABLE z (x integer);\n/* off /* see 12 */\nCREATE TABLE y (x integer);\n' >"$D/0003_z.sql"
st --dir "$D" validate
if [ "$ENGINE" = postgres ]; then
    expect_rc 3 "a /* comment open to the end of the file"
    contains "$ERR$OUT" "0003_z.sql:3:" "the comment's line"
    contains "$ERR$OUT" "never closed" "says it is never closed"
    st --dir "$D" up
    expect_rc 2 "up of a /* comment open to the end of the file"
    contains "$ERR" "dialect=sqlite" "the hint names dialect=sqlite"
    eq "$(table_exists z)" "0" "nothing of it ran"
else
    expect_rc 0 "a /* comment open to the end of the file, on SQLite"
fi
printf -- '-- strata:up dialect=postgres\nCREATE TABLE z (x integer);\n/* off /* see 12 */\n' >"$D/0003_z.sql"
st --dir "$D" validate
expect_rc 3 "a PostgreSQL section's /* comment open to the end of the file, on any engine"
rm -f "$D/0003_z.sql"

# sqlite3's .dump of an FTS5 table writes sqlite_schema itself (PRAGMA
# writable_schema = ON): the next migration of the same run must see the
# table, as it does when run alone (it failed: no such table)
if [ "$ENGINE" = sqlite ] && sqlite3 "$WORK/fts.db" "CREATE VIRTUAL TABLE docs USING fts5(title, body)" 2>/dev/null; then
    new_db
    FD=$WORK/ftsdump
    mkdir -p "$FD"
    {
        echo '-- strata:up'
        sqlite3 "$WORK/fts.db" .dump | grep -v '^BEGIN TRANSACTION;$\|^COMMIT;$'
        echo '-- strata:down'
        echo 'DROP TABLE docs;'
    } >"$FD/0001_dump.sql"
    printf -- "-- strata:up\nINSERT INTO docs VALUES ('t', 'b');\n-- strata:down\nDELETE FROM docs;\n" >"$FD/0002_use.sql"
    st --dir "$FD" up
    expect_rc 0 "a .dump with writable_schema, then a migration using its table, in one run"
    eq "$(q "SELECT count(*) FROM docs")" "1" "the FTS5 table took the row"
    st --dir "$FD" check
    expect_rc 0 "check of the .dump migrations"
    # a row written into sqlite_schema that is not valid SQL: the migration
    # fails at its line, rolled back (it failed as DB_ERROR at the record)
    # (at the statement that wrote it, not at a read or a comment naming
    # sqlite_master before it)
    printf -- "-- strata:up\n-- counts sqlite_master first\nCREATE TABLE audit (n text);\nINSERT INTO audit SELECT name FROM sqlite_schema;\nPRAGMA writable_schema = ON;\nINSERT INTO sqlite_schema VALUES ('table', 'bad', 'bad', 0, 'CREATE TABLE bad(');\nPRAGMA writable_schema = OFF;\n" >"$FD/0003_bad.sql"
    st --dir "$FD" up
    expect_rc 1 "a migration writing a malformed sqlite_schema row"
    contains "$ERR" "0003_bad.sql:6: the schema it wrote does not read back" "named with its file and line"
    contains "$ERR" "MIGRATION_FAILED" "as a failed migration"
    contains "$ERR" "rolled back" "the hint says it was rolled back"
    eq "$(q "SELECT count(*) FROM sqlite_schema WHERE name = 'bad'")" "0" "the row is gone"
    st --dir "$FD" current
    contains "$OUT" "0002" "still at 0002"
fi

# a SQLite trigger naming a column [end] in a section without a dialect: read
# as PostgreSQL reads it, END ends the statement -- the message says why
TG=$WORK/trig
mkdir -p "$TG"
printf -- '-- strata:up\nCREATE TABLE t (id INTEGER PRIMARY KEY, [end] INT);\nCREATE TRIGGER tr AFTER INSERT ON t BEGIN UPDATE t SET [end] = 1 WHERE id = new.id; END;\n' \
    >"$TG/0001_t.sql"
st --dir "$TG" validate
expect_rc 3 "a SQLite trigger with [end] in a section without a dialect"
contains "$ERR$OUT" "mark the section dialect=sqlite" "the message says how to mark it"

# CRLF, a byte order mark, ;; and no newline at the end
new_db
D=$WORK/crlf
mkdir -p "$D"
printf '\xef\xbb\xbf-- strata:up\r\nCREATE TABLE a (id integer);;\r\n;\r\nINSERT INTO a VALUES (1);\r\n-- strata:down\r\nDROP TABLE a' >"$D/0001_a.sql"
st --dir "$D" up
expect_rc 0 "CRLF and BOM"
eq "$(q 'SELECT count(*) FROM a')" "1" "applied"
st --dir "$D" down
expect_rc 0 "down without a newline at the end"
eq "$(table_exists a)" "0" "reverted"

# a marker after SQL on the same line is a comment: refused, never a down
# section run as part of the up; a marker in capitals is refused too
new_db
I=$WORK/inline
mig "$I" 0001_a.sql <<'SQL'
-- strata:up
CREATE TABLE a (x integer); -- strata:down
DROP TABLE a;
SQL
st --dir "$I" up
expect_rc 2 "a marker after SQL on its line"
contains "$ERR" "0001_a.sql:2" "the error names the line"
contains "$ERR" "line of its own" "and says what to do"
eq "$(table_exists a)" 0 "nothing ran"
# the same after a dollar quote, a parameter, an E'' string or a backslash
for line in 'SELECT $$a$$; -- strata:down' 'SELECT $t$a$t$; -- strata:down' 'SELECT $1; -- strata:down' \
    "SELECT E'a\\''; -- strata:down" "SELECT 'a\\'; -- strata:down"; do
    printf -- '-- strata:up\n%s\nDROP TABLE a;\n' "$line" >"$I/0001_a.sql"
    st --dir "$I" validate
    expect_rc 3 "a marker after: $line"
done
mig "$I" 0001_a.sql <<'SQL'
-- STRATA:UP
CREATE TABLE a (x integer);
-- strata:Down
DROP TABLE a;
SQL
st --dir "$I" validate
expect_rc 3 "markers in capitals"
contains "$OUT$ERR" "write '-- strata:up'" "names the marker as it must be written"
contains "$OUT$ERR" "write '-- strata:down'" "names the down marker too"
mig "$I" 0001_a.sql <<'SQL'
-- strata:up
CREATE TABLE a (x integer); -- strata:lint-ignore drop-table -- a lint directive may follow SQL
INSERT INTO a VALUES (1); -- '-- strata:down' in a comment's text after a quote is fine: '--x'
-- strata:down
DROP TABLE a;
SQL
st --dir "$I" up
expect_rc 0 "a lint directive after SQL"

# splitting is linear: 200,000 statements (a seed migration) and one
# INSERT of 200,000 rows are split in seconds, not minutes (each token
# once measured the rest of the file: an hour for 50 MB)
B=$WORK/bigsplit
mkdir -p "$B"
python3 - "$B" <<'PY'
import sys
d = sys.argv[1]
with open(d + "/0001_many.sql", "w") as f:
    f.write("-- strata:up\nCREATE TABLE many (id integer PRIMARY KEY, s text);\n")
    f.write("".join("INSERT INTO many VALUES (%d, 'row %d');\n" % (i, i) for i in range(1, 200001)))
    f.write("-- strata:down\nDROP TABLE many;\n")
with open(d + "/0002_one.sql", "w") as f:
    f.write("-- strata:up\nCREATE TABLE one (id integer PRIMARY KEY, s text);\nINSERT INTO one VALUES\n")
    f.write(",\n".join("(%d, 'row %d')" % (i, i) for i in range(1, 200001)))
    f.write(";\n-- strata:down\nDROP TABLE one;\n")
PY
t0=$(date +%s)
raw --dir "$B" sql --dialect "$ENGINE"
t1=$(date +%s)
expect_rc 0 "sql of 200,000 statements"
[ $((t1 - t0)) -lt 30 ] || fail "splitting 200,000 statements took $((t1 - t0)) s"
if [ "$ENGINE" = sqlite ]; then
    new_db
    t0=$(date +%s)
    st --dir "$B" up
    t1=$(date +%s)
    expect_rc 0 "up of 200,000 statements"
    [ $((t1 - t0)) -lt 60 ] || fail "up of 200,000 statements took $((t1 - t0)) s"
    eq "$(q "SELECT (SELECT count(*) FROM many) + (SELECT count(*) FROM one)")" 400000 "every row inserted"
fi

# a section without dialect is checked again with SQLite's lexing before it
# runs there: a block comment with a second opening sequence in it (or a
# quote in a [..] or `..` name) hides a COMMIT from PostgreSQL's rules,
# which SQLite would run, leaving half a migration behind
if [ "$ENGINE" = sqlite ]; then
    for body in '/* purge files under /tmp/* and reset */
CREATE TABLE a (x);' 'CREATE TABLE a (`x--y` TEXT, [c/*d] INT);'; do
        new_db
        H=$WORK/hidden_$RANDOM
        mkdir -p "$H"
        printf -- '-- strata:up\n%s\nCOMMIT;\nCREATE TABLE b (x);\nINSERT INTO nosuch VALUES (1);\n' "$body" >"$H/0001_x.sql"
        st --dir "$H" up
        expect_rc 2 "a COMMIT only SQLite's lexing sees"
        contains "$ERR" "'COMMIT' statement in a transactional up section" "names the COMMIT"
        eq "$(table_exists a)$(table_exists b)" 00 "nothing of it ran"
        st --dir "$H" validate
        expect_rc 3 "validate on SQLite sees it"
        raw --dir "$H" sql --dialect sqlite
        expect_rc 2 "strata sql --dialect sqlite refuses it"
    done
fi

finish
