#!/usr/bin/env bash
# Passwords in URLs (SPEC 1, issue #10): the password is what libpq reads,
# and no part of it is ever printed -- from --url, DATABASE_URL or .env, in
# human, -v and --json output, on success and on failure. A password with an
# unencoded '@' or '/' is refused (URL_INVALID, exit 2) with a hint to
# percent-encode; a port that is not a number is URL_INVALID too. strata copy
# takes its URLs from the environment or .env (--from-env/--to-env), and
# libpq's PGPASSWORD and ~/.pgpass.
#
# Every password here holds the marker LEAK, which no other text contains.
. "$(dirname "$0")/lib.sh"

D=$WORK/m
mig_a "$D"
unset DATABASE_URL
mkdir -p "$WORK/proj" && cd "$WORK/proj"

# no_leak WHAT: the last command printed no part of any password
no_leak() {
    lacks "$OUT$ERR" "LEAK" "$1: a password in the output"
    lacks "$OUT$ERR" "Tr0ub" "$1: a password in the output"
    lacks "$OUT$ERR" "4dor" "$1: a password in the output"
}

# code_is CODE WHAT: the last --json run failed with CODE
code_is() {
    local got
    got=$(json_get "$ERR" 'j["code"]' 2>/dev/null)
    eq "$got" "$1" "$2: error code"
}

# ---- URLs strata refuses before connecting (no server needed)

HOSTPART="127.0.0.1:${PGPORT:-5432}"
for u in "postgresql://app:Tr0ub/4dorLEAK@$HOSTPART/app" \
    "postgresql://app:p@ssLEAKw0rd@$HOSTPART/app" \
    "postgresql+asyncpg://app:a/b?c=dLEAK@$HOSTPART/app" \
    "postgres://me@azure:LEAKpw@$HOSTPART/app" \
    "postgresql://app:12/34LEAK@$HOSTPART/app"; do
    for mode in "" -v --json; do
        raw $mode --url "$u" --dir "$D" status
        expect_rc 2 "ambiguous '@' $mode ($u)"
        no_leak "ambiguous '@' $mode"
        if [ "$mode" = --json ]; then
            code_is URL_INVALID "ambiguous '@'"
            contains "$(json_get "$ERR" 'j["hint"]')" "%40" "the hint says how to encode"
        else
            contains "$ERR" "ambiguous '@'" "the reason"
            contains "$ERR" "%2F" "the hint says how to encode"
        fi
    done
    # the same from the environment and from .env
    DATABASE_URL=$u raw --dir "$D" --json status
    expect_rc 2 "ambiguous '@' from DATABASE_URL"
    no_leak "ambiguous '@' from DATABASE_URL"
    code_is URL_INVALID "ambiguous '@' from DATABASE_URL"
    printf 'DATABASE_URL=%s\n' "$u" >.env
    raw -v --dir "$D" status
    expect_rc 2 "ambiguous '@' from .env"
    no_leak "ambiguous '@' from .env"
    contains "$ERR" "[URL_INVALID]" "ambiguous '@' from .env"
    rm -f .env
done
# the redacted URL still names the host and the database
raw --url "postgresql://app:Tr0ub/4dorLEAK@$HOSTPART/app" --dir "$D" status
contains "$ERR" "postgresql://app:****@$HOSTPART/app" "the redacted URL"

# sslpassword (libpq's passphrase of the client key) is a secret too:
# in the connection failure's message, with -v and in --json
for mode in "" -v --json; do
    raw $mode --url "postgresql://u:pwLEAK@127.0.0.1:1/db?sslpassword=sslLEAK9&connect_timeout=2" --dir "$D" status
    expect_rc 4 "sslpassword $mode: an unreachable server"
    no_leak "sslpassword $mode"
    contains "$ERR" "sslpassword=****" "sslpassword $mode: shown as ****"
done
# a sslmode libpq does not know is a URL error (libpq says so only when
# connecting, as a connection failure)
raw --json --url "postgresql://u:pwLEAK@127.0.0.1:1/db?sslmode=bogus" --dir "$D" status
expect_rc 2 "sslmode=bogus"
code_is URL_INVALID "sslmode=bogus"
no_leak "sslmode=bogus"
contains "$(json_get "$ERR" 'j["hint"]')" "verify-full" "sslmode=bogus: the hint lists the modes"

# a port that is not a number is a URL error, not a connection failure
for u in "postgresql://u@$HOSTPART/db?port=abc" "postgresql://u:pwLEAK@127.0.0.1:abc/db" \
    "postgresql://u@127.0.0.1:0/db" "postgresql://u@127.0.0.1:65536/db"; do
    raw --url "$u" --dir "$D" --json status
    expect_rc 2 "bad port ($u)"
    code_is URL_INVALID "bad port ($u)"
    contains "$(json_get "$ERR" 'j["detail"]')" "is not a number from 1 to 65535" "bad port ($u)"
    no_leak "bad port"
done
raw --url "postgresql://u@127.0.0.1:abc/db" --dir "$D" status
contains "$ERR" "port 'abc' is not a number" "the port is named"

# copy: where the URLs come from
raw copy --to-env NO_SUCH_VAR_X
expect_rc 2 "copy --to-env without a source"
contains "$ERR" "copy takes one argument with --to-env, SRC_URL" "copy --to-env usage"
raw copy sqlite:///x.db
expect_rc 2 "copy with one URL"
raw copy sqlite:///x.db --to-env NO_SUCH_VAR_X
expect_rc 2 "copy --to-env NAME unset"
contains "$ERR" "--to-env NO_SUCH_VAR_X: NO_SUCH_VAR_X is not set" "copy --to-env NAME unset"
raw --json copy --from-env NO_SUCH_VAR_Y --to-env NO_SUCH_VAR_X
expect_rc 2 "copy --from-env NAME unset"
code_is DATABASE_URL_REQUIRED "copy --from-env NAME unset"
COPY_DST="postgresql://app:p@ssLEAKw0rd@$HOSTPART/app" raw -v copy sqlite:///x.db --to-env COPY_DST
expect_rc 2 "copy --to-env with an ambiguous URL"
no_leak "copy --to-env with an ambiguous URL"
contains "$ERR" "copy target postgresql://app:****@$HOSTPART/app (from environment COPY_DST)" "copy -v"

if [ "$ENGINE" != postgres ]; then
    finish
fi

# ---- a real server: roles whose passwords hold ? # / @ and the marker

R=leak_$RANDOM$RANDOM
R2=enc_$RANDOM$RANDOM
PW='pa?ssLEAK#1'
PW2='Tr0ub/4dor@LEAK?'
psql -X -q -v ON_ERROR_STOP=1 -d postgres -c "CREATE ROLE $R LOGIN PASSWORD '$PW'" \
    -c "CREATE ROLE $R2 LOGIN PASSWORD '$PW2'" || { echo "cannot create roles" >&2; exit 1; }
DB=s_$RANDOM$RANDOM
DB2=s_$RANDOM$RANDOM
createdb -O "$R" "$DB" && createdb -O "$R2" "$DB2" || { echo "createdb failed" >&2; exit 1; }
DBS+=("$DB" "$DB2")
GOOD="postgresql://$R:$PW@$HOSTPART/$DB"
# '/', '@' and '?' percent-encoded: the way to write such a password
GOOD2="postgresql+psycopg://$R2:Tr0ub%2F4dor%40LEAK%3F@$HOSTPART/$DB2"

for mode in "" -v --json; do
    raw $mode --url "$GOOD" --dir "$D" up
    expect_rc 0 "up with '?' and '#' in the password $mode"
    no_leak "up $mode"
    raw $mode --url "$GOOD" --dir "$D" status
    expect_rc 0 "status $mode"
    no_leak "status $mode"
    raw $mode --url "$GOOD2" --dir "$D" status
    expect_rc 0 "status with a percent-encoded password $mode"
    no_leak "percent-encoded $mode"
    lacks "$ERR" "%2F4dor" "percent-encoded $mode"
    DATABASE_URL=$GOOD raw $mode --dir "$D" status
    expect_rc 0 "status from DATABASE_URL $mode"
    no_leak "DATABASE_URL $mode"
    printf 'DATABASE_URL="%s"\n' "$GOOD2" >.env
    raw $mode --dir "$D" status
    expect_rc 0 "status from .env $mode"
    no_leak ".env $mode"
    rm -f .env
done
raw -v --url "$GOOD" --dir "$D" status
contains "$ERR" "strata: database postgresql://$R:****@$HOSTPART/$DB (from --url)" "-v shows the URL redacted"
eq "$(psql -X -A -t -d "$DB" -c "SELECT count(*) FROM a")" "0" "up ran as $R"

# strings that are not URLs at all are redacted too where -v echoes them
for u in "postgresql:/u:secretLEAKP@localhost/db" "postgres//u:secretLEAKR@h/db" \
    "host=localhost user=sp password=secretLEAKK dbname=x"; do
    raw -v --url "$u" --dir "$D" status
    expect_rc 2 "malformed URL '${u%%secret*}…'"
    lacks "$OUT$ERR" "secretLEAK" "malformed URL '${u%%secret*}…': no password in any output"
done

# failures: wrong password, bad host, unknown database, in every mode and source
WRONG="postgresql://$R:pa?ssLEAK#2@$HOSTPART/$DB"
BADHOST="postgresql://$R:$PW@no-such-host.invalid:5432/$DB"
NODB="postgresql://$R:$PW@$HOSTPART/no_such_db_$RANDOM"
for u in "$WRONG" "$BADHOST" "$NODB"; do
    for mode in "" -v --json; do
        raw $mode --url "$u" --dir "$D" status
        expect_rc 4 "connect failure $mode ($u)"
        no_leak "connect failure $mode"
        [ "$mode" = --json ] && code_is CONNECT_FAILED "connect failure"
        DATABASE_URL=$u raw $mode --dir "$D" up
        expect_rc 4 "connect failure from DATABASE_URL $mode"
        no_leak "connect failure from DATABASE_URL $mode"
        printf 'DATABASE_URL=%s\n' "$u" >.env
        raw $mode --dir "$D" status
        expect_rc 4 "connect failure from .env $mode"
        no_leak "connect failure from .env $mode"
        rm -f .env
    done
done
raw --url "$WRONG" --dir "$D" status
contains "$ERR" "password authentication failed" "the reason survives"

# ---- copy: the target from the environment, .env, PGPASSWORD, ~/.pgpass

SRC=$WORK/src.db
sqlite3 "$SRC" "CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT); INSERT INTO t VALUES (1,'x'),(2,'y');"
copied() { psql -X -A -t -d "$DB" -c "SELECT count(*) FROM t" 2>/dev/null; }

COPY_DST=$GOOD raw -v copy "sqlite:///$SRC" --to-env COPY_DST
expect_rc 0 "copy --to-env"
no_leak "copy --to-env"
contains "$ERR" "copy target postgresql://$R:****@$HOSTPART/$DB (from environment COPY_DST)" "copy -v"
eq "$(copied)" "2" "copy --to-env copied the rows"

psql -X -q -d "$DB" -c "DROP TABLE t"
printf 'COPY_SRC=sqlite:///%s\nCOPY_DST=%s\n' "$SRC" "$GOOD" >.env
raw --json copy --from-env COPY_SRC --to-env COPY_DST
expect_rc 0 "copy --from-env --to-env from .env"
no_leak "copy from .env"
eq "$(copied)" "2" "copy from .env copied the rows"
rm -f .env

# the password left out of the URL: libpq reads PGPASSWORD, then ~/.pgpass
psql -X -q -d "$DB" -c "DROP TABLE t"
PGPASSWORD=$PW raw -v copy "sqlite:///$SRC" "postgresql://$R@$HOSTPART/$DB"
expect_rc 0 "copy with PGPASSWORD"
no_leak "copy with PGPASSWORD"
eq "$(copied)" "2" "copy with PGPASSWORD copied the rows"

psql -X -q -d "$DB" -c "DROP TABLE t"
mkdir -p "$WORK/home"
printf '127.0.0.1:%s:%s:%s:%s\n' "${PGPORT:-5432}" "$DB" "$R" "$PW" >"$WORK/home/.pgpass"
chmod 600 "$WORK/home/.pgpass"
(unset PGPASSWORD; HOME=$WORK/home raw copy "sqlite:///$SRC" "postgresql://$R@$HOSTPART/$DB"
 echo "$RC" >"$WORK/rc.pgpass"; printf '%s%s' "$OUT" "$ERR" >"$WORK/out.pgpass")
eq "$(cat "$WORK/rc.pgpass")" "0" "copy with ~/.pgpass: $(cat "$WORK/out.pgpass")"
lacks "$(cat "$WORK/out.pgpass")" "LEAK" "copy with ~/.pgpass"
eq "$(copied)" "2" "copy with ~/.pgpass copied the rows"

# copy failures do not print the password either
for u in "$WRONG" "$BADHOST" "$NODB"; do
    for mode in "" -v --json; do
        COPY_DST=$u raw $mode copy "sqlite:///$SRC" --to-env COPY_DST
        expect_rc 4 "copy connect failure $mode ($u)"
        no_leak "copy connect failure $mode"
        raw $mode copy "sqlite:///$SRC" "$u"
        expect_rc 4 "copy connect failure, positional $mode"
        no_leak "copy connect failure, positional $mode"
    done
done

dropdb --if-exists --force "$DB" && dropdb --if-exists --force "$DB2"
DBS=()
psql -X -q -d postgres -c "DROP ROLE $R" -c "DROP ROLE $R2"
finish
