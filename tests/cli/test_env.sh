#!/usr/bin/env bash
# Where the URL comes from (SPEC 1), driver suffixes, the embedded default,
# and the library's startup call.
. "$(dirname "$0")/lib.sh"

D=$WORK/m
mig "$D" 0001_a.sql <<'SQL'
-- strata:up
CREATE TABLE a (id integer);
-- strata:down
DROP TABLE a;
SQL
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
rm -f .env .env.local

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
"$APP" "sqlite:///x" >/dev/null 2>&1
eq "$?" "2" "app_startup usage"

finish
