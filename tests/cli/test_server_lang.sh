#!/usr/bin/env bash
# A server that speaks another language (lc_messages = de_DE.UTF-8): strata
# must not read the server's words to decide what to do. Each went wrong
# before (strata matched English text):
# - "too many connections" was not retried: `up --connect-timeout`, `wait`
#   and app_startup failed at once while the role's only slot was busy;
# - `copy` refused by a connection limit had already committed its tables
#   (its early check of the workers' sessions did not see the refusal);
# - the hints for a wrong password, a missing database and the limit were
#   missing;
# - in a program embedding the library that calls setlocale (a German
#   LC_NUMERIC and LC_MESSAGES): libpq's own words translated, so a failover
#   (target_session_attrs=read-write finding only a read-only session) was
#   not waited for; and numbers read and written with ',' -- a SQLite real
#   0.5 into numeric(10,2) refused as "out of range", a real into a text
#   column written "0,1".
# The refusals come at connection start, before a role's or database's
# settings apply, so the server's own lc_messages is changed (ALTER SYSTEM,
# reset at exit). tools/deps.sh generates the de_DE.UTF-8 locale before the
# test server starts (a running server does not see a locale made later).
. "$(dirname "$0")/lib.sh"
postgres_only

if ! locale -a 2>/dev/null | grep -qix 'de_DE.utf8'; then
    fail "the de_DE.UTF-8 locale is missing (tools/deps.sh test generates it)"
    finish
fi
psql -X -q -c "ALTER SYSTEM SET lc_messages = 'de_DE.UTF-8'" -c "SELECT pg_reload_conf()" >/dev/null ||
    fail "cannot set lc_messages"
trap 'psql -X -q -c "ALTER SYSTEM RESET lc_messages" -c "SELECT pg_reload_conf()" >/dev/null 2>&1;
      psql -X -q -c "DROP ROLE IF EXISTS lang_app" >/dev/null 2>&1; cleanup_dbs; rm -rf "$WORK"' EXIT
sleep 0.3

new_db
psql -X -q -c "SET client_min_messages = warning" -c "DROP ROLE IF EXISTS lang_app" -c "CREATE ROLE lang_app LOGIN PASSWORD 'pw' CONNECTION LIMIT 1" \
    -c "ALTER DATABASE $DBNAME OWNER TO lang_app" >/dev/null
A="postgresql://lang_app:pw@${PGHOST:-localhost}:$PGPORT/$DBNAME"
# the server speaks German now
out=$(psql -X "postgresql://lang_app:wrong@${PGHOST:-localhost}:$PGPORT/$DBNAME" -c 'SELECT 1' 2>&1)
contains "$out" "Passwort" "the server speaks German"

mig "$WORK/m" 0001_a.sql <<'SQL'
-- strata:up
CREATE TABLE a (x int);
-- strata:down
DROP TABLE a;
SQL

# hold_slot SECS: the role's only session, busy for SECS
hold_slot() {
    psql -X -q "$A" -c "SELECT pg_sleep($1)" >/dev/null 2>&1 &
    holder=$!
    sleep 0.5
}

# ---------------------------------------- the limit is retried, in German too
hold_slot 3
t0=$(date +%s%N)
"$STRATA" --url "$A" --dir "$WORK/m" --connect-timeout 20 -q up >"$WORK/o" 2>"$WORK/e"
RC=$?
ms=$((($(date +%s%N) - t0) / 1000000))
wait "$holder"
eq "$RC" "0" "up waits for the role's slot (the server said so in German): $(cat "$WORK/e")"
[ "$ms" -ge 1500 ] || fail "up did not wait for the slot (${ms} ms)"
eq "$(q "SELECT count(*) FROM strata_migrations")" "1" "up applied 0001"

hold_slot 3
"$STRATA" --url "$A" wait --timeout 15 >"$WORK/o" 2>"$WORK/e"
RC=$?
wait "$holder"
eq "$RC" "0" "wait waits for the role's slot: $(cat "$WORK/e")"

if [ -n "${APP:-}" ] && [ -x "$APP" ]; then
    "$STRATA" --url "$A" --dir "$WORK/m" -q down base || fail "down base"
    hold_slot 3
    "$APP" "$A" "$WORK/m" >"$WORK/o" 2>"$WORK/e"
    RC=$?
    wait "$holder"
    eq "$RC" "0" "app_startup waits for the role's slot: $(cat "$WORK/e")"
fi

# without waiting: the refusal's hint, from its code
hold_slot 3
st_a() { raw --url "$A" "$@"; }
st_a --dir "$WORK/m" status
wait "$holder"
expect_rc 4 "status with the slot busy"
contains "$ERR" "[CONNECT_FAILED]" "status with the slot busy: CONNECT_FAILED"
contains "$ERR" "CONNECTION LIMIT" "the hint names the limit"
lacks "$ERR" "53300:" "the message has no raw SQLSTATE prefix"
lacks "$ERR" "LOCATION" "the message has no LOCATION line"

# --------------------------------------------- hints for the usual refusals
raw --url "postgresql://lang_app:wrong@${PGHOST:-localhost}:$PGPORT/$DBNAME" --dir "$WORK/m" status
expect_rc 4 "wrong password"
contains "$ERR" "password" "wrong password: the hint says so"
raw --url "postgresql://lang_app:pw@${PGHOST:-localhost}:$PGPORT/no_such_db_$RANDOM" --dir "$WORK/m" status
expect_rc 4 "missing database"
contains "$ERR" "strata create" "missing database: the hint says how to create it"

# ------------------------- copy refused by the limit changes nothing
SRC=$WORK/src.db
sqlite3 "$SRC" "CREATE TABLE p (id integer PRIMARY KEY, v text); INSERT INTO p VALUES (1, 'a');
CREATE TABLE c (id integer PRIMARY KEY, p_id integer REFERENCES p(id)); INSERT INTO c VALUES (1, 1);"
new_db
psql -X -q -c "ALTER DATABASE $DBNAME OWNER TO lang_app" >/dev/null
raw copy --jobs 2 "sqlite:///$SRC" "postgresql://lang_app:pw@${PGHOST:-localhost}:$PGPORT/$DBNAME"
expect_rc 4 "copy with one slot"
contains "$ERR" "nothing was changed" "copy with one slot: says nothing changed"
eq "$(q "SELECT count(*) FROM pg_tables WHERE schemaname = 'public'")" "0" "copy with one slot: no table created"

# the verbose errors are for the connection's refusals only: a notice shown
# by -v afterwards has no SQLSTATE and no LOCATION line (it had both)
new_db
mig "$WORK/nt" 0001_notice.sql <<'SQL'
-- strata:up
DO $$ BEGIN RAISE NOTICE 'hello %', 42; END $$;
SQL
raw -v --url "$URL" --dir "$WORK/nt" up
expect_rc 0 "up -v of a migration with a notice"
contains "$ERR" "hello 42" "the notice is shown"
lacks "$ERR" "00000:" "the notice has no SQLSTATE prefix"
lacks "$ERR" "LOCATION" "the notice has no LOCATION line"

# ------------- hints after the connection: a role's or database's language
# (ALTER DATABASE ... SET lc_messages): each was missing or wrong in German
new_db
q "ALTER DATABASE $DBNAME SET lc_messages = 'de_DE.UTF-8'" >/dev/null
mig "$WORK/to" 0001_slow.sql <<'SQL'
-- strata:up
SET LOCAL statement_timeout = '100ms';
SELECT pg_sleep(2);
SQL
raw --url "$URL" --dir "$WORK/to" up
expect_rc 1 "a statement timeout in German"
contains "$ERR" "57014" "statement timeout: the SQLSTATE"
contains "$ERR" "statement_timeout" "statement timeout: the hint names the setting"
# row-level security: the server's hint ("use INSERT") replaced by one strata's user can take
sqlite3 "$WORK/rls.db" "CREATE TABLE r (id INTEGER PRIMARY KEY, v TEXT); INSERT INTO r VALUES (1, 'a');"
q "CREATE TABLE r (id bigint PRIMARY KEY, v text); ALTER TABLE r ENABLE ROW LEVEL SECURITY;
   GRANT ALL ON r TO lang_app; GRANT CREATE ON SCHEMA public TO lang_app" >/dev/null
psql -X -q -c "ALTER ROLE lang_app CONNECTION LIMIT -1" >/dev/null
raw copy --data-only "sqlite:///$WORK/rls.db" "postgresql://lang_app:pw@${PGHOST:-localhost}:$PGPORT/$DBNAME"
expect_rc 1 "copy under row-level security in German"
contains "$ERR" "BYPASSRLS" "row-level security: strata's hint"
q "REVOKE ALL ON r FROM lang_app; REVOKE CREATE ON SCHEMA public FROM lang_app; DROP TABLE r" >/dev/null
# reset by the schema's owner without CREATE on the database: the hint said
# "the user must own it" -- which it does
new_db
q "ALTER DATABASE $DBNAME SET lc_messages = 'de_DE.UTF-8'" >/dev/null
q "ALTER SCHEMA public OWNER TO lang_app" >/dev/null
raw --url "postgresql://lang_app:pw@${PGHOST:-localhost}:$PGPORT/$DBNAME" --dir "$WORK/m" up
expect_rc 0 "up as the schema's owner"
raw --url "postgresql://lang_app:pw@${PGHOST:-localhost}:$PGPORT/$DBNAME" --dir "$WORK/m" reset --force
expect_rc 1 "reset without CREATE on the database"
contains "$ERR" "GRANT CREATE ON DATABASE" "reset: the hint names CREATE on the database"
eq "$(q "SELECT count(*) FROM pg_tables WHERE schemaname = 'public'")" "2" "reset: nothing dropped"

# ------------------ a program that calls setlocale (the library embedded)
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
cat >"$WORK/loc.c" <<'C'
#include <locale.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strata.h>
/* loc startup URL DIR | loc copy SRC DST: as a localized program would */
int main(int argc, char **argv)
{
    const char *loc = getenv("LOC"); /* the locale, de_DE.UTF-8 unless given */
    if (!setlocale(LC_ALL, loc ? loc : "de_DE.UTF-8"))
        return 3;
    strata_global_init();
    strata_error err;
    strata_code rc;
    if (argc == 4 && !strcmp(argv[1], "startup")) {
        rc = strata_startup(argv[2], argv[3], NULL, &err);
    } else if (argc == 4 && !strcmp(argv[1], "copy")) {
        strata_copy_opts o;
        memset(&o, 0, sizeof(o));
        rc = strata_copy(argv[2], argv[3], &o, NULL, &err);
    } else {
        return 2;
    }
    if (rc != STRATA_OK) {
        fprintf(stderr, "%s [%s]\nhint: %s\n", err.message, strata_code_name(err.code), err.hint);
        return 1;
    }
    return 0;
}
C
if cc -std=c99 -I"$ROOT/include" "$WORK/loc.c" "$ROOT/build/libstrata.a" -lsqlite3 -lcrypto -ldl -lpthread -lm \
    -o "$WORK/loc" 2>"$WORK/cc.err"; then
    psql -X -q -c "ALTER SYSTEM RESET lc_messages" -c "SELECT pg_reload_conf()" >/dev/null
    # a failover under way: the role's sessions are read-only for 3 s
    new_db
    psql -X -q -c "ALTER DATABASE $DBNAME OWNER TO lang_app" -c "ALTER ROLE lang_app CONNECTION LIMIT -1" \
        -c "ALTER ROLE lang_app SET default_transaction_read_only = on" >/dev/null
    (
        sleep 3
        psql -X -q -c "ALTER ROLE lang_app RESET default_transaction_read_only" >/dev/null
    ) &
    flip=$!
    STRATA_CONNECT_TIMEOUT=20 "$WORK/loc" startup \
        "postgresql://lang_app:pw@${PGHOST:-localhost}:$PGPORT/$DBNAME?target_session_attrs=read-write" \
        "$WORK/m" >"$WORK/o" 2>"$WORK/e"
    RC=$?
    wait "$flip"
    eq "$RC" "0" "setlocale program: the failover is waited for ($(cat "$WORK/e"))"
    eq "$(q "SELECT count(*) FROM strata_migrations")" "1" "setlocale program: 0001 applied"

    # libpq's own words in German: a bad option from the environment is
    # configuration (exit 2), a refused connection gets its hint
    PGSSLMODE=bogus STRATA_CONNECT_TIMEOUT=0 "$WORK/loc" startup "$URL" "$WORK/m" >"$WORK/o" 2>"$WORK/e"
    contains "$(cat "$WORK/e")" "[CONFIG_ERROR]" "setlocale program: PGSSLMODE=bogus is CONFIG_ERROR"
    # ... and one the URL gave is the URL's (it was CONFIG_ERROR in German)
    for bad in channel_binding=bogus keepalives=abc; do
        STRATA_CONNECT_TIMEOUT=0 "$WORK/loc" startup "$URL?$bad" "$WORK/m" >"$WORK/o" 2>"$WORK/e"
        contains "$(cat "$WORK/e")" "[URL_INVALID]" "setlocale program: ?$bad is URL_INVALID"
        contains "$(cat "$WORK/e")" "the URL's ${bad%%=*} parameter" "setlocale program: ?$bad named in the hint"
    done
    STRATA_CONNECT_TIMEOUT=0 "$WORK/loc" startup "postgresql://u:p@127.0.0.1:1/x" "$WORK/m" >"$WORK/o" 2>"$WORK/e"
    contains "$(cat "$WORK/e")" "is PostgreSQL running" "setlocale program: a refused connection's hint"

    # numbers with '.' whatever LC_NUMERIC says
    sqlite3 "$WORK/num.db" "CREATE TABLE m (id integer PRIMARY KEY, price decimal(10,2), r real, note);
    INSERT INTO m VALUES (1, 0.5, 1.5, 'x'), (2, 12.25, -0.1, 0.1);
    CREATE TABLE w (id integer PRIMARY KEY, at DATETIME DEFAULT (datetime('now', '+1.5 hours')));"
    new_db
    "$WORK/loc" copy "sqlite:///$WORK/num.db" "$URL" >"$WORK/o" 2>"$WORK/e"
    eq "$?" "0" "setlocale program: copy of reals into numeric ($(cat "$WORK/e"))"
    eq "$(q "SELECT string_agg(price::text || '/' || r::text || '/' || note, ' ' ORDER BY id) FROM m")" \
        "0.50/1.5/x 12.25/-0.1/0.1" \
        "setlocale program: the numbers arrived exactly"
    eq "$(q "SELECT count(*) FROM pg_attrdef WHERE adrelid = 'w'::regclass")" "1" \
        "setlocale program: a default with '+1.5 hours' carried over"

    # Turkish: tolower('I') is not 'i' there. Keywords, type names and
    # markers are matched as ASCII (a migration in capitals got another
    # checksum than the CLI gives it, and copy made a bigint numeric)
    if LOC=tr_TR.UTF-8 "$WORK/loc" 2>/dev/null; [ $? = 2 ]; then
        TR=$WORK/tr
        mkdir -p "$TR"
        printf -- '-- strata:up\nCREATE TABLE ITEMS (ID INTEGER PRIMARY KEY, NOTE TEXT);\nINSERT INTO ITEMS VALUES (1, %s);\n-- strata:down\nDROP TABLE ITEMS;\n' "'x'" \
            >"$TR/0001_items.sql"
        new_db
        LOC=tr_TR.UTF-8 STRATA_CONNECT_TIMEOUT=5 "$WORK/loc" startup "$URL" "$TR" >"$WORK/o" 2>"$WORK/e"
        eq "$?" "0" "tr_TR program: startup ($(cat "$WORK/e"))"
        tr_sum=$(q "SELECT up_checksum FROM strata_migrations")
        new_db
        raw --url "$URL" --dir "$TR" up
        eq "$(q "SELECT up_checksum FROM strata_migrations")" "$tr_sum" "tr_TR program: the CLI's up checksum"
        sqlite3 "$WORK/tr.db" "CREATE TABLE item (id integer primary key, price bigint, at timestamp, flag INTEGER);
        INSERT INTO item VALUES (1, 5, '2024-01-01 00:00:00', 1);"
        new_db
        LOC=tr_TR.UTF-8 "$WORK/loc" copy "sqlite:///$WORK/tr.db" "$URL" >"$WORK/o" 2>"$WORK/e"
        eq "$?" "0" "tr_TR program: copy ($(cat "$WORK/e"))"
        eq "$(q "SELECT string_agg(data_type, ',' ORDER BY ordinal_position) FROM information_schema.columns WHERE table_name = 'item'")" \
            "bigint,bigint,timestamp without time zone,bigint" "tr_TR program: copy's types"
    else
        fail "the tr_TR.UTF-8 locale is missing (tools/deps.sh generates it)"
    fi
else
    fail "cannot build a program against build/libstrata.a: $(cat "$WORK/cc.err")"
fi

finish
