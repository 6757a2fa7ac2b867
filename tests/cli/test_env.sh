#!/usr/bin/env bash
# Where the URL comes from (SPEC 1), driver suffixes, the embedded default,
# and the library's startup call.
. "$(dirname "$0")/lib.sh"

D=$WORK/m
mig_a "$D"
unset DATABASE_URL
mkdir -p "$WORK/proj" && cd "$WORK/proj"

if [ "$ENGINE" = sqlite ]; then
    # the embedded default: ./dev.sqlite3, one command, no configuration
    raw --dir "$D" up
    expect_rc 0 "up on the embedded default"
    [ -f dev.sqlite3 ] || fail "the embedded default did not create ./dev.sqlite3"
    # STRATA_DIR
    STRATA_DIR=$D raw current
    eq "$OUT" "0001" "STRATA_DIR and the default URL"
    # driver suffixes are accepted and ignored
    raw --url "sqlite+aiosqlite:///./dev.sqlite3" --dir "$D" current
    eq "$OUT" "0001" "sqlite+aiosqlite:///"
    raw --url "sqlite:dev.sqlite3" --dir "$D" current
    eq "$OUT" "0001" "dbmate-style sqlite:path"
    raw --url "sqlite:////$WORK/proj/dev.sqlite3" --dir "$D" current
    eq "$OUT" "0001" "absolute sqlite:////path"
    raw --url "sqlite::memory:" --dir "$D" up --json
    expect_rc 0 "in-memory database"
    # a read-only command never creates the file
    raw --url "sqlite:///never.sqlite3" --dir "$D" status
    expect_rc 0 "status on a missing file"
    [ -f never.sqlite3 ] && fail "status created the database file"
    new_db
    ALT="sqlite:///$DBFILE"
else
    new_db
    ALT="postgresql+psycopg2://$PGUSER:$PGPASSWORD@${PGHOST:-localhost}:$PGPORT/$DBNAME"
fi

# DATABASE_URL from the environment, with a driver suffix
DATABASE_URL=$ALT raw --dir "$D" up
expect_rc 0 "DATABASE_URL from the environment"
# --url-env
MY_DB=$ALT raw --url-env MY_DB --dir "$D" current
eq "$OUT" "0001" "--url-env"
# .env and .env.local (.env.local wins); the real environment wins over both
printf '# comment\nexport DATABASE_URL="%s"\n' "$ALT" >.env
raw --dir "$D" current
eq "$OUT" "0001" ".env"
printf 'DATABASE_URL=sqlite:///./local.sqlite3 # inline comment\n' >.env.local
raw --dir "$D" current
eq "$OUT" "base" ".env.local overrides .env"
DATABASE_URL=$ALT raw --dir "$D" current
eq "$OUT" "0001" "the environment overrides env files"
raw --env-file .env --dir "$D" current
eq "$OUT" "0001" "--env-file picks one file"
raw --env-file missing.env --dir "$D" current
expect_rc 2 "--env-file that does not exist"
# the first file that names the variable decides: .env is not read then
printf 'DATABASE_URL=x\nY="unterminated\n' >.env
raw --dir "$D" current
expect_rc 0 ".env.local names it: .env unread"
eq "$OUT" "base" ".env.local's database"
rm -f .env.local
raw --dir "$D" current
expect_rc 2 "the same .env read: its error reported"
contains "$ERR" ".env:2: unterminated double-quoted value" "the error named at its line"
rm -f .env .env.local

# the URL an application's Python driver or ORM takes, pasted as is: the
# parameters that tune only that driver (statement caches, pools, thread
# checks) are left out; asyncpg's ssl=MODE is libpq's sslmode=MODE
if [ "$ENGINE" = sqlite ]; then
    for q in "check_same_thread=false" "check_same_thread=False&uri=true" "cached_statements=50&detect_types=1"; do
        DATABASE_URL="sqlite+aiosqlite:///$DBFILE?$q" raw --dir "$D" current
        expect_rc 0 "a SQLAlchemy SQLite URL with ?$q"
        eq "$OUT" "0001" "a SQLAlchemy SQLite URL with ?$q: current"
    done
    DATABASE_URL="sqlite:///$DBFILE?check_same_thread=false&mode=ro" raw --dir "$D" down
    expect_rc 1 "mode=ro still honoured next to a driver parameter"
    contains "$ERR" "?mode=ro" "mode=ro next to a driver parameter: the hint"
else
    PGA="postgresql+asyncpg://$PGUSER:$PGPASSWORD@${PGHOST:-localhost}:$PGPORT/$DBNAME"
    for q in "ssl=disable" "ssl=prefer&prepared_statement_cache_size=0" "statement_cache_size=0&command_timeout=60" \
        "application_name=api&pgbouncer=true&connection_limit=5&pool_timeout=10"; do
        printf 'DATABASE_URL=%s?%s\n' "$PGA" "$q" >.env
        raw --dir "$D" current
        expect_rc 0 "an application's URL from .env with ?$q"
        eq "$OUT" "0001" "an application's URL from .env with ?$q: current"
    done
    raw --url "$PGA?ssl=require" --dir "$D" current
    expect_rc 4 "ssl=require is sslmode=require (the test server has no SSL)"
    contains "$ERR" "SSL was required" "ssl=require reaches libpq as sslmode=require"
    lacks "$ERR" "$PGPASSWORD" "ssl=require: no password"
    raw --url "$PGA?ssl=true" --dir "$D" current
    expect_rc 4 "ssl=true (libpq reads it as sslmode=require)"
    contains "$ERR" "SSL was required" "ssl=true reaches libpq"
    raw --url "$PGA?ssl=disable&sslmode=require" --dir "$D" current
    expect_rc 2 "ssl and sslmode that disagree"
    raw --url "$PGA?schema=public" --dir "$D" current
    expect_rc 2 "Prisma's ?schema="
    contains "$ERR" "search_path" "Prisma's ?schema=: the hint says how to write it"
    lacks "$ERR" "$PGPASSWORD" "Prisma's ?schema=: no password"
    raw --url "$PGA?frobnicate=1" --dir "$D" current
    expect_rc 2 "a parameter nobody knows is still refused"
    # dbmate's ?search_path= (Go drivers send it as a setting): the session's
    # search path, so the version table lands in its first schema; pgx's
    # pool parameters are left out
    new_db
    PGA="postgresql+asyncpg://$PGUSER:$PGPASSWORD@${PGHOST:-localhost}:$PGPORT/$DBNAME"
    q "CREATE SCHEMA sp_app" >/dev/null
    raw --url "$PGA?search_path=sp_app%2C%20public&pool_max_conns=4" --dir "$D" up
    expect_rc 0 "dbmate's ?search_path= with a blank in the list"
    eq "$(q "SELECT count(*) FROM pg_tables WHERE schemaname = 'sp_app' AND tablename = 'strata_migrations'")" "1" \
        "?search_path=: the version table in its first schema"
    # '+' is a blank as Go decodes it, a backslash stays one
    raw --url "$PGA?search_path=sp_app,+public" --dir "$D" current
    expect_rc 0 "?search_path= with a '+'"
    raw --url "$PGA?search_path=sp_app&options=-cwork_mem%3D8MB" --dir "$D" current
    expect_rc 2 "search_path beside options"
    contains "$ERR" "options=-csearch_path" "search_path beside options: the hint"
    rm -f .env
fi

# ---- no database nobody named (SPEC 1): given but empty is an error
# one line and a hint on stderr, exit 2, and no database anywhere
no_db_made() { # no_db_made MSG
    local left
    left=$(ls -A | grep -v '^\.env' | tr '\n' ' ')
    eq "$left" "" "$1: files left in the working directory"
}
named_nothing() { # named_nothing CODE MESSAGE HINT WHAT
    expect_rc 2 "$4"
    contains "$ERR" "strata: error: $2 [$1]" "$4"
    contains "$ERR" "hint: $3" "$4: hint"
    eq "$(printf '%s\n' "$ERR" | grep -c .)" "2" "$4: one error line and one hint"
    eq "$OUT" "" "$4: stdout"
    no_db_made "$4"
}
mkdir -p "$WORK/empty" && cd "$WORK/empty"
raw --url "" --dir "$D" up
named_nothing URL_INVALID "the database URL given with --url is empty" "pass a URL" '--url ""'
raw --url= --dir "$D" up
named_nothing URL_INVALID "the database URL given with --url is empty" "pass a URL" '--url='
raw --url-env PROD_URL --dir "$D" up
named_nothing DATABASE_URL_REQUIRED "PROD_URL is not set" "export PROD_URL or drop --url-env" \
    "--url-env naming an unset variable"
PROD_URL= raw --url-env PROD_URL --dir "$D" up
named_nothing URL_INVALID "PROD_URL is set but empty" "set PROD_URL to a database URL" \
    "--url-env naming an empty variable"
DATABASE_URL= raw --dir "$D" up
named_nothing URL_INVALID "DATABASE_URL is set but empty" "set DATABASE_URL" "DATABASE_URL empty"
# an empty variable is still the environment: a .env does not fill it in
printf 'DATABASE_URL=sqlite:///./from-dotenv.sqlite3\n' >.env
DATABASE_URL= raw --dir "$D" up
named_nothing URL_INVALID "DATABASE_URL is set but empty" "set DATABASE_URL" "empty DATABASE_URL and a .env"
printf '# template\nDATABASE_URL=\n' >.env
raw --dir "$D" up
named_nothing URL_INVALID "DATABASE_URL is empty in '.env'" "set DATABASE_URL" "DATABASE_URL= in .env"
printf 'DATABASE_URL=""\n' >.env.local
raw --dir "$D" up
named_nothing URL_INVALID "DATABASE_URL is empty in '.env.local'" "set DATABASE_URL" 'DATABASE_URL="" in .env.local'
rm -f .env .env.local
printf 'OTHER=1\n' >prod.env
raw --env-file prod.env --dir "$D" up
rm prod.env
named_nothing DATABASE_URL_REQUIRED "DATABASE_URL is set neither in the environment nor in 'prod.env'" \
    "add DATABASE_URL=... to prod.env" "--env-file without the variable"
for u in "sqlite:" "sqlite://" "sqlite:///" "sqlite3:" "sqlite+aiosqlite:///" "sqlite:///?mode=rwc"; do
    raw --url "$u" --dir "$D" up
    named_nothing URL_INVALID "SQLite URL '${u%%\?*}' names no database file" "use sqlite:///relative/path.db" "--url $u"
    DATABASE_URL=$u raw --dir "$D" up
    named_nothing URL_INVALID "SQLite URL '${u%%\?*}' names no database file" "use sqlite:///relative/path.db" \
        "DATABASE_URL=$u"
done
# commands that only read say the same
raw --url-env PROD_URL --dir "$D" status
expect_rc 2 "status with --url-env naming an unset variable"
raw --url "sqlite://" --dir "$D" current
expect_rc 2 "current on sqlite://"
raw --url "" --dir "$D" drop
expect_rc 2 "drop with an empty --url"
no_db_made "read commands"
# in-memory databases are named and still work
raw --url "sqlite::memory:" --dir "$D" up
expect_rc 0 "sqlite::memory:"
raw --url "sqlite:///:memory:" --dir "$D" up
expect_rc 0 "sqlite:///:memory:"
no_db_made "in-memory"
cd "$WORK/proj"

# ---- a writing command on the embedded default says so, once; reading ones do not
if [ "$ENGINE" = sqlite ]; then
    mkdir -p "$WORK/dflt" && cd "$WORK/dflt"
    NOTE="strata: using the default database sqlite:///./dev.sqlite3 (no --url or DATABASE_URL given)"
    raw --dir "$D" up --dry-run
    lacks "$ERR" "default database" "up --dry-run does not write"
    raw --dir "$D" up
    expect_rc 0 "up on the default"
    eq "$ERR" "$NOTE" "up on the default names it on stderr"
    contains "$OUT" "applied 0001_a" "up on the default"
    for cmd in status current history validate; do
        raw --dir "$D" $cmd
        lacks "$ERR" "default database" "$cmd only reads"
    done
    raw --dir "$D" down
    eq "$ERR" "$NOTE" "down on the default"
    raw --dir "$D" -q up
    eq "$ERR" "" "-q silences the notice"
    raw --dir "$D" --json down
    eq "$ERR" "" "--json silences the notice"
    raw --dir "$D" reset --yes
    eq "$(printf '%s\n' "$ERR" | grep -c 'default database')" "1" "reset says it once"
    DATABASE_URL=sqlite:///./dev.sqlite3 raw --dir "$D" redo
    lacks "$ERR" "default database" "a URL that was given"
    raw --url sqlite:///./dev.sqlite3 --dir "$D" stamp 0001
    lacks "$ERR" "default database" "--url"
    cd "$WORK/proj"
fi

# ---- a failed run leaves no database it created (SQLite), a refused one creates nothing
F=$WORK/fail
mig "$F" 0001_ok.sql <<'SQL'
-- strata:up
CREATE TABLE ok (id integer);
-- strata:down
DROP TABLE ok;
SQL
mig "$F" 0002_bad.sql <<'SQL'
-- strata:up
CREATE TABLE bad (id integer);
INSERT INTO nosuchtable VALUES (1);
SQL
NT=$WORK/notx
mig "$NT" 0001_notx.sql <<'SQL'
-- strata:up no-transaction
CREATE TABLE n (id integer);
SQL
if [ "$ENGINE" = sqlite ]; then
    mkdir -p "$WORK/clean" && cd "$WORK/clean"
    # the first migration fails: nothing was committed, the new file goes
    raw --url sqlite:///./fresh.sqlite3 --dir "$F" up 0002
    expect_rc 1 "failing first migration"
    raw --url sqlite:///./fresh.sqlite3 --dir "$F" up 0001
    expect_rc 0 "0001 alone"
    rm -f fresh.sqlite3
    mv "$F/0001_ok.sql" "$WORK/0001_ok.sql"
    raw --url sqlite:///./fresh.sqlite3 --dir "$F" up
    expect_rc 1 "failing first migration"
    contains "$ERR" "MIGRATION_FAILED" "failing first migration"
    no_db_made "a failed up on a new file"
    # the same through the default database and through the library
    raw --dir "$F" up
    expect_rc 1 "failing first migration on the default"
    no_db_made "a failed up on the default"
    "$APP" "sqlite:///./app.sqlite3" "$F" >/dev/null 2>&1
    eq "$?" "1" "app_startup with a failing first migration"
    no_db_made "a failed strata_startup on a new file"
    # a file that existed before stays, even empty
    : >existing.sqlite3
    raw --url sqlite:///./existing.sqlite3 --dir "$F" up
    expect_rc 1 "failing migration on an existing empty file"
    [ -f existing.sqlite3 ] || fail "a file that existed before the run was removed"
    rm -f existing.sqlite3
    # something committed: the file stays
    mv "$WORK/0001_ok.sql" "$F/0001_ok.sql"
    raw --url sqlite:///./part.sqlite3 --dir "$F" up
    expect_rc 1 "failing second migration"
    [ "$(sqlite3 part.sqlite3 'SELECT version FROM strata_migrations')" = 0001 ] ||
        fail "0001 was committed and its file must stay"
    rm -f part.sqlite3
    # a failed no-transaction migration is recorded: the file stays
    mig "$WORK/notxbad" 0001_notx.sql <<'SQL'
-- strata:up no-transaction
CREATE TABLE n (id integer);
INSERT INTO nosuchtable VALUES (1);
SQL
    raw --url sqlite:///./notx.sqlite3 --dir "$WORK/notxbad" up
    expect_rc 1 "failing no-transaction migration"
    [ "$(sqlite3 notx.sqlite3 'SELECT state FROM strata_migrations')" = failed ] ||
        fail "the failed no-transaction migration must stay recorded"
    rm -f notx.sqlite3
    # the other writing commands: a refusal on a file nobody had made removes it
    raw --dir "$F" stamp 0009
    expect_rc 2 "stamp to an unknown version on the default"
    contains "$ERR" "TARGET_NOT_FOUND" "stamp to an unknown version"
    no_db_made "a failed stamp on the default"
    raw --url sqlite:///./fresh.sqlite3 --dir "$F" accept 0002
    expect_rc 2 "accept of a migration never applied"
    no_db_made "a failed accept on a new file"
    raw --url sqlite:///./fresh.sqlite3 --dir "$F" adopt --from dbmate
    expect_rc 1 "adopt of a directory nothing was imported into"
    contains "$ERR" "ADOPT_MISMATCH" "adopt without imported files"
    no_db_made "a failed adopt on a new file"
    mig "$WORK/badfirst" 0001_bad.sql <<'SQL'
-- strata:up
CREATE TABLE bad (id integer);
INSERT INTO nosuchtable VALUES (1);
SQL
    raw --url sqlite:///./fresh.sqlite3 --dir "$WORK/badfirst" reset --yes
    expect_rc 1 "reset with a failing first migration"
    contains "$ERR" "MIGRATION_FAILED" "reset with a failing first migration"
    no_db_made "a failed reset on a new file"
    # a refused --single-transaction run creates no file
    raw --url sqlite:///./single.sqlite3 --dir "$NT" up --single-transaction
    expect_rc 2 "refused --single-transaction"
    contains "$ERR" "SINGLE_TRANSACTION_REFUSED" "refused --single-transaction"
    no_db_made "a refused --single-transaction run"
    cd "$WORK/proj"
fi
# a refused --single-transaction run does not create the version table either
new_db
q "CREATE TABLE keep (id integer)" >/dev/null
st --dir "$NT" up --single-transaction
expect_rc 2 "refused --single-transaction on an existing database"
eq "$(table_exists strata_migrations)" "0" "a refused run created the version table"
eq "$(table_exists keep)" "1" "the database is unchanged"

# ---- .env syntax (README "Which database"): dotenv's rules, errors with file:line
mkdir -p "$WORK/dotenv" && cd "$WORK/dotenv"
# a UTF-8 byte order mark (Windows editors) does not hide the first variable
printf '\xef\xbb\xbfDATABASE_URL=%s\n' "$ALT" >.env
raw --dir "$D" current
eq "$OUT" "0001" ".env with a byte order mark"
# CRLF, export, comments, a quoted value with a comment after it
printf '# settings\r\n\r\nexport DATABASE_URL = "%s" # the app database\r\n' "$ALT" >.env
raw --dir "$D" current
eq "$OUT" "0001" ".env with CRLF, export and a comment"
# a quoted value spans lines: a line inside it is not a variable
printf 'DATABASE_URL=%s\nNOTE="a note\nDATABASE_URL=sqlite:///./wrong.sqlite3\n"\nAFTER=1\n' "$ALT" >.env
raw --dir "$D" current
eq "$OUT" "0001" "a line inside a multi-line value is not a variable"
[ -e wrong.sqlite3 ] && fail "the URL inside a quoted value was used"
# single quotes are literal, double quotes have escapes
printf "DATABASE_URL='%s'\nX=\"tab\\\\there\\\\\"q\\\\\"\"\n" "$ALT" >.env
raw --dir "$D" current
eq "$OUT" "0001" "single-quoted URL"
# an unterminated quote is an error at its line, and nothing is opened
printf 'A=1\nDATABASE_URL="%s\nB=2\n' "$ALT" >.env
raw --dir "$D" up
expect_rc 2 "unterminated quote in .env"
contains "$ERR" "strata: error: .env:2: unterminated double-quoted value [CONFIG_ERROR]" "unterminated quote"
contains "$ERR" "hint: close the quote" "unterminated quote: hint"
raw --dir "$D" --json up
eq "$(json_get "$ERR" 'j["code"], j["file"], j["line"]')" "('CONFIG_ERROR', '.env', 2)" "--json names file and line"
# even when the error is not on the URL's line
printf 'DATABASE_URL=%s\nSECRET='"'"'abc\n' "$ALT" >.env
raw --dir "$D" current
expect_rc 2 "unterminated single quote after the URL"
contains "$ERR" ".env:2: unterminated single-quoted value" "unterminated single quote"
printf 'DATABASE_URL="%s" trailing\n' "$ALT" >.env
raw --dir "$D" current
expect_rc 2 "text after a closing quote"
contains "$ERR" ".env:1: unexpected text after the closing quote" "text after a closing quote"
printf 'DATABASE_URL=%s\nnot a variable\n' "$ALT" >.env.local
raw --dir "$D" current
expect_rc 2 "a line that is not NAME=VALUE"
contains "$ERR" ".env.local:2: expected '=' after the variable name" "a line that is not NAME=VALUE"
printf 'DATABASE_URL="%s\n' "$ALT" >custom.env
raw --env-file custom.env --dir "$D" current
contains "$ERR" "custom.env:1: unterminated double-quoted value" "--env-file syntax error"
# the environment wins, so the files are not read at all
DATABASE_URL=$ALT raw --dir "$D" current
eq "$OUT" "0001" "the environment wins over a broken .env"
rm -f .env .env.local custom.env
[ -z "$(ls -A)" ] || fail ".env errors left files: $(ls -A)"
# ${VAR} as python-dotenv's load_dotenv expands it (the application's own
# reading of the same file is the authority): each file's URL, resolved by
# strata (-v names it) and by python-dotenv, with N in the environment or not
PYDOTENV=""
for p in /usr/bin/python3 python3; do
    if "$p" -c 'import dotenv' 2>/dev/null; then PYDOTENV=$p; break; fi
done
[ -n "$PYDOTENV" ] || fail "python-dotenv is not installed (apt-get install python3-dotenv)"
n=0
while IFS= read -r f; do
    printf '%b\n' "$f" >.env
    for envn in "" "N=from_env"; do
        want=$(env -u DATABASE_URL -u N $envn "$PYDOTENV" -c \
            'import os, dotenv; dotenv.load_dotenv(".env"); print(os.environ["DATABASE_URL"])')
        got=$(env -u DATABASE_URL -u N $envn "$STRATA" -v --dir "$D" current 2>&1 >/dev/null |
            sed -n 's/^strata: database \(.*\) (from env file)$/\1/p')
        eq "$got" "$want" ".env [$f] with [$envn]: as python-dotenv reads it"
        n=$((n + 1))
    done
done <<'CASES'
N=app\nDATABASE_URL=sqlite:///./${N}.db
N=app\nDATABASE_URL="sqlite:///./${N}.db"
N=app\nDATABASE_URL='sqlite:///./${N}.db'
N=app\nDATABASE_URL=sqlite:///./$N.db
E=\nDATABASE_URL=sqlite:///./a${E:-d}.db
A=x\nB=${A}y\nDATABASE_URL=sqlite:///./${B}.db
N=app\nDATABASE_URL=sqlite:///./${N:-z}_${M:-w}.db
export N=app\nDATABASE_URL=sqlite:///./${N}-${N}.db # comment
N=one\nN=two\nDATABASE_URL=sqlite:///./${N}.db
DATABASE_URL=sqlite:///./a${b.db
CASES
[ "$n" = 20 ] || fail "python-dotenv cases: $n of 20 ran"
# .env.local beside .env: a variable .env.local sets is what .env's URL
# refers to, as the application's load_dotenv(".env.local") then
# load_dotenv(".env") reads it
printf 'DB_FILE=shared_copy\nDATABASE_URL=sqlite:///./${DB_FILE}.db\n' >.env
printf 'DB_FILE=my_local\n' >.env.local
want=$(env -u DATABASE_URL -u DB_FILE "$PYDOTENV" -c \
    'import os, dotenv; dotenv.load_dotenv(".env.local"); dotenv.load_dotenv(".env"); print(os.environ["DATABASE_URL"])')
got=$(env -u DATABASE_URL -u DB_FILE "$STRATA" -v --dir "$D" current 2>&1 >/dev/null |
    sed -n 's/^strata: database \(.*\) (from env file)$/\1/p')
eq "$got" "$want" ".env's URL built from a variable of .env.local"
eq "$got" "sqlite:///./my_local.db" ".env.local's variable wins"
rm -f .env.local ./*.db
# what python-dotenv would make empty is an error at the URL's line
printf 'A=1\nDATABASE_URL=sqlite:///./${DB_NAME}.db\n' >.env
raw --dir "$D" up
expect_rc 2 "an unset \${DB_NAME} in the URL"
contains "$ERR" ".env:2: \${DB_NAME} is not set (in the environment or earlier in the file) [CONFIG_ERROR]" \
    "unset reference: the line and the name"
printf 'H=${NOPE}\nDATABASE_URL=sqlite:///./${H}x.db\n' >.env
raw --dir "$D" up
expect_rc 2 "a URL built from a definition with an unset reference"
contains "$ERR" "\${NOPE} is not set" "the unset reference at the root is named"
# in the URL's user or password part, the reference is not shown (it may
# be a piece of a password that only looks like one)
printf 'DATABASE_URL=postgresql://app:Xk9${Qv7secret}Tail@localhost:1/app\n' >.env
raw --dir "$D" up
expect_rc 2 "an unset reference in the password"
contains "$ERR" "a \${...} reference in the URL's user or password part is not set" "password part: said"
lacks "$ERR" "Qv7secret" "password part: the reference is not shown"
lacks "$ERR" "Xk9" "password part: nothing of the password"
printf 'DATABASE_URL=sqlite:///./${DB?required}.db\n' >.env
raw --dir "$D" up
expect_rc 2 "a reference strata cannot expand"
contains "$ERR" "\${DB?required} is not a variable reference strata can expand" "malformed reference"
# backquotes keep it as written; another variable's unset reference is not in the way
printf 'OTHER=${UNSET_ELSEWHERE}\nDATABASE_URL=`sqlite:///./${N}.db`\n' >.env
raw -v --dir "$D" current
contains "$ERR" 'strata: database sqlite:///./${N}.db (from env file)' "backquotes: literal"
[ -z "$(ls -A | grep -v '^\.env$')" ] || fail ".env expansion errors left files: $(ls -A)"
rm -f .env
cd "$WORK/proj"

# strict mode reads env files and the environment but has no default
DATABASE_URL=$ALT raw --require-url --dir "$D" current
eq "$OUT" "0001" "strict mode with a URL"

# the library's startup call (examples/app_startup.c)
"$APP" "$ALT" "$D" >"$WORK/app.out" 2>&1
eq "$?" "0" "app_startup at head"
mig "$D" 0002_b.sql <<'SQL'
-- strata:up
CREATE TABLE b (id integer);
-- strata:down
DROP TABLE b;
SQL
STRATA_SKIP_MIGRATIONS=1 "$APP" "$ALT" "$D" >/dev/null 2>&1
DATABASE_URL=$ALT raw --dir "$D" current
eq "$OUT" "0001" "STRATA_SKIP_MIGRATIONS=1 skips"
"$APP" "$ALT" "$D" >"$WORK/app.out" 2>&1
eq "$?" "0" "app_startup upgrades"
DATABASE_URL=$ALT raw --dir "$D" current
eq "$OUT" "0002" "app_startup applied 0002"
mig "$D" 0003_bad.sql <<'SQL'
-- strata:up
CREATE TABLE c (id integer;
SQL
"$APP" "$ALT" "$D" >"$WORK/app.out" 2>&1
rc=$?
eq "$rc" "1" "app_startup fails on a bad migration"
contains "$(cat "$WORK/app.out")" "0003_bad.sql:2" "app_startup prints the error"
"$APP" "sqlite:///x" "$D" extra >/dev/null 2>&1
eq "$?" "2" "app_startup usage"
# the application reads DATABASE_URL itself (app_startup DIR): unset, it
# fails with DATABASE_URL_REQUIRED (as a Docker setup's runbook expects);
# set but empty, URL_INVALID; STRATA_SKIP_MIGRATIONS=1 skips, and says so
env -u DATABASE_URL "$APP" "$D" >"$WORK/app.out" 2>&1
eq "$?" "1" "app_startup without DATABASE_URL"
contains "$(cat "$WORK/app.out")" "[DATABASE_URL_REQUIRED]" "app_startup without DATABASE_URL: the code"
contains "$(cat "$WORK/app.out")" "hint: " "app_startup without DATABASE_URL: a hint"
DATABASE_URL= "$APP" "$D" >"$WORK/app.out" 2>&1
eq "$?" "1" "app_startup with DATABASE_URL empty"
contains "$(cat "$WORK/app.out")" "[URL_INVALID]" "app_startup with DATABASE_URL empty: the code"
STRATA_SKIP_MIGRATIONS=1 env -u DATABASE_URL "$APP" "$D" >"$WORK/app.out" 2>&1
eq "$?" "0" "app_startup skipped"
contains "$(cat "$WORK/app.out")" "skipped" "app_startup skipped: says so"
rm "$D/0003_bad.sql"
DATABASE_URL=$ALT "$APP" "$D" >"$WORK/app.out" 2>&1
eq "$?" "0" "app_startup with DATABASE_URL from the environment"


# a FIFO named .env (or given with --env-file): refused at once, never
# waited on for a writer (before: every command hung)
mkdir -p "$WORK/fifoenv" && cd "$WORK/fifoenv"
mkfifo .env
timeout 10 "$STRATA" --dir "$D" current >"$WORK/out" 2>"$WORK/err"
RC=$? ERR=$(cat "$WORK/err")
expect_rc 2 "a FIFO named .env (124: it hung)"
contains "$ERR" "cannot read env file '.env': it is a FIFO, not a regular file [FILE_NOT_REGULAR]" "FIFO .env: the message"
timeout 10 "$STRATA" --env-file .env --dir "$D" current >"$WORK/out" 2>"$WORK/err"
RC=$?
expect_rc 2 "--env-file naming a FIFO (124: it hung)"
cd "$WORK/proj"

finish
