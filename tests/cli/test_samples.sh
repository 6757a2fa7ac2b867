#!/usr/bin/env bash
# test_samples.sh -- runs the sample migration directories examples/pos and
# examples/payments through their whole life on one engine:
#   up to head; up again applies nothing; status --exit-code is 0; down base
#   leaves nothing but the version table; up again; down -1 and up; redo;
#   plus the samples' own data checks (admin user, test restaurant).
#
# Environment:
#   STRATA   path to the strata binary (required)
#   ENGINE   sqlite (default) or postgres
#   SAMPLES  which samples to run (default "pos payments")
#   For postgres, PGHOST/PGPORT/PGUSER/PGPASSWORD as set by pg_virtualenv; the
#   script creates (and afterwards drops) one fresh database per sample:
#     pg_virtualenv -v 15 env STRATA=build/strata ENGINE=postgres bash tests/cli/test_samples.sh
#
# Stops at the first failure with a message saying what was expected; exit 1.
# Needs sqlite3 (sqlite) or psql/createdb/dropdb (postgres), and jq or python3.
set -euo pipefail

: "${STRATA:?set STRATA to the strata binary}"
ENGINE=${ENGINE:-sqlite}
SAMPLES=${SAMPLES:-pos payments}
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
TEST_NAME=test_samples
case "$ENGINE" in sqlite | postgres) ;; *)
    echo "FAIL [$ENGINE] $TEST_NAME: ENGINE must be sqlite or postgres" >&2
    exit 2
    ;;
esac
[ -x "$STRATA" ] || {
    echo "FAIL [$ENGINE] $TEST_NAME: STRATA='$STRATA' is not an executable" >&2
    exit 2
}

WORK=$(mktemp -d "${TMPDIR:-/tmp}/strata-$TEST_NAME.XXXXXX")
PG_DBS=()
cleanup() {
    local d
    if [ "$ENGINE" = postgres ]; then
        for d in "${PG_DBS[@]+"${PG_DBS[@]}"}"; do
            dropdb --if-exists "$d" >/dev/null 2>&1 || true
        done
    fi
    rm -rf "$WORK"
}
trap cleanup EXIT

# ---------------------------------------------------------------- helpers

CONTEXT=""  # "sample: step", printed with every failure
EVENTS=0    # payment_events rows inserted by the checks

# fail MESSAGE: report and stop the whole script, also when called inside a
# command substitution such as assert_eq "$(q ...)" (where exit alone would
# only leave the subshell)
fail() {
    echo "FAIL [$ENGINE] $TEST_NAME${CONTEXT:+ ($CONTEXT)}: $*" >&2
    [ "$BASHPID" = "$$" ] || kill -USR1 "$$"
    exit 1
}
trap 'exit 1' USR1

step() {
    CONTEXT="$SAMPLE: $*"
    echo "  - $*"
}

assert_eq() { # assert_eq ACTUAL EXPECTED WHAT
    [ "$1" = "$2" ] || fail "$3: got '$1', expected '$2'"
}

assert_empty() { # assert_empty VALUE WHAT
    [ -z "$1" ] || fail "$2: expected nothing, got:"$'\n'"$1"
}

# st ARGS...: runs strata on the current sample's database and directory and
# sets OUT, ERR, RC. Never fails by itself: callers check RC.
st() {
    RC=0
    "$STRATA" --url "$URL" --dir "$DIR" "$@" >"$WORK/out" 2>"$WORK/err" || RC=$?
    OUT=$(cat "$WORK/out")
    ERR=$(cat "$WORK/err")
}

# must RC ARGS...: runs strata and requires exit code RC
must() {
    local want=$1
    shift
    st "$@"
    [ "$RC" = "$want" ] ||
        fail "'strata $*' exited $RC, expected $want"$'\n'"stdout: $OUT"$'\n'"stderr: $ERR"
}

# jfield KEY: reads the JSON document in OUT; prints the string at top-level
# KEY, or the length of the array at KEY
jfield() {
    if command -v jq >/dev/null; then
        jq -r --arg k "$1" 'if (.[$k] | type) == "array" then (.[$k] | length) else .[$k] end' <<<"$OUT" ||
            fail "stdout is not JSON: $OUT"
    else
        python3 -c '
import json, sys
v = json.loads(sys.stdin.read())[sys.argv[1]]
print(len(v) if isinstance(v, list) else v)' "$1" <<<"$OUT" || fail "stdout is not JSON: $OUT"
    fi
}

# jversions KEY: the "version" of each element of the array at KEY, space separated
jversions() {
    if command -v jq >/dev/null; then
        jq -r --arg k "$1" '[.[$k][].version] | join(" ")' <<<"$OUT" || fail "stdout is not JSON: $OUT"
    else
        python3 -c '
import json, sys
print(" ".join(m["version"] for m in json.loads(sys.stdin.read())[sys.argv[1]]))' "$1" <<<"$OUT" ||
            fail "stdout is not JSON: $OUT"
    fi
}

# q SQL: runs a query on the current sample's database; prints rows, | separated
q() {
    local out
    if [ "$ENGINE" = postgres ]; then
        out=$(psql -X -q -A -t -v ON_ERROR_STOP=1 -d "$DBNAME" -c "$1" 2>&1) || fail "psql failed: $out"$'\n'"query: $1"
    else
        out=$(sqlite3 -batch "$DBFILE" "$1" 2>&1) || fail "sqlite3 failed: $out"$'\n'"query: $1"
    fi
    printf '%s\n' "$out"
}

urlencode() {
    local s=$1 out="" c i
    for ((i = 0; i < ${#s}; i++)); do
        c=${s:i:1}
        case "$c" in
        [A-Za-z0-9._~-]) out+=$c ;;
        *) out+=$(printf '%%%02X' "'$c") ;;
        esac
    done
    printf '%s' "$out"
}

# new_db NAME: a fresh empty database for one sample; sets URL (and DBNAME or DBFILE)
new_db() {
    if [ "$ENGINE" = postgres ]; then
        DBNAME="strata_sample_$1_$$"
        createdb "$DBNAME" || fail "createdb $DBNAME failed"
        PG_DBS+=("$DBNAME")
        local host=${PGHOST:-localhost} port=${PGPORT:-5432} user=${PGUSER:-postgres}
        local auth
        auth=$(urlencode "$user")
        [ -n "${PGPASSWORD:-}" ] && auth+=":$(urlencode "$PGPASSWORD")"
        if [ "${host#/}" != "$host" ]; then # a Unix socket directory
            URL="postgresql://$auth@/$DBNAME?host=$(urlencode "$host")&port=$port"
        else
            URL="postgresql://$auth@$host:$port/$DBNAME"
        fi
    else
        DBFILE="$WORK/$1.sqlite3"
        URL="sqlite:///$DBFILE"
    fi
}

# leftovers: every schema object except the version table (and its indexes);
# for postgres also types and functions the samples create
leftovers() {
    if [ "$ENGINE" = postgres ]; then
        q "SELECT 'relation ' || n.nspname || '.' || c.relname || ' (' || c.relkind::text || ')'
             FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
            WHERE n.nspname NOT IN ('pg_catalog', 'information_schema')
              AND n.nspname !~ '^pg_(toast|temp)'
              AND c.relkind <> 't'
              AND c.relname <> 'strata_migrations'
              AND NOT EXISTS (SELECT 1 FROM pg_index i JOIN pg_class t ON t.oid = i.indrelid
                               WHERE i.indexrelid = c.oid AND t.relname = 'strata_migrations')
           UNION ALL
           SELECT 'type ' || n.nspname || '.' || t.typname || ' (' || t.typtype::text || ')'
             FROM pg_type t JOIN pg_namespace n ON n.oid = t.typnamespace
            WHERE n.nspname NOT IN ('pg_catalog', 'information_schema')
              AND n.nspname !~ '^pg_(toast|temp)'
              AND (t.typtype IN ('e', 'd', 'r', 'm')
                   OR (t.typtype = 'c' AND (SELECT relkind FROM pg_class WHERE oid = t.typrelid) = 'c'))
           UNION ALL
           SELECT 'function ' || n.nspname || '.' || p.proname
             FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
            WHERE n.nspname NOT IN ('pg_catalog', 'information_schema')
              AND n.nspname !~ '^pg_(toast|temp)'
           UNION ALL
           SELECT 'trigger ' || tgname FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid
            WHERE NOT t.tgisinternal AND c.relname = 'strata_migrations'
           ORDER BY 1"
    else
        q "SELECT type || ' ' || name FROM sqlite_master
            WHERE name NOT LIKE 'sqlite\_%' ESCAPE '\'
              AND tbl_name <> 'strata_migrations'
            ORDER BY 1"
    fi
}

# ---------------------------------------------------------------- checks

# at_head: the schema and data a sample must have at its newest version
at_head() {
    case "$SAMPLE" in
    pos)
        assert_eq "$(q "SELECT count(*) FROM users WHERE email = 'admin@retailpos.com' AND role = 'admin'")" 1 \
            "admin user after up"
        assert_eq "$(q "SELECT count(*) FROM products")" 0 "products exists and is empty"
        assert_eq "$(q "SELECT count(*) FROM purchase_items")" 0 "purchase_items exists"
        q "INSERT INTO customers (id, first_name, last_name) VALUES (1, 'Ada', 'Lovelace')" >/dev/null
        assert_eq "$(q "SELECT loyalty_points FROM customers WHERE id = 1")" 0 "loyalty_points default"
        q "DELETE FROM customers" >/dev/null
        ;;
    payments)
        assert_eq "$(q "SELECT processor_name FROM restaurant_payment_configs
                         WHERE restaurant_id = '00000000-0000-0000-0000-000000000001'")" stripe \
            "test restaurant after up"
        if [ "$ENGINE" = postgres ]; then
            assert_eq "$(q "SELECT string_agg(e.enumlabel, ',' ORDER BY e.enumsortorder)
                              FROM pg_enum e JOIN pg_type t ON t.oid = e.enumtypid
                             WHERE t.typname = 'payment_event_type' AND e.enumlabel LIKE 'refund%'")" \
                "refund_requested,refund_completed" "enum values added by 0008"
            assert_eq "$(q "SELECT am.amname FROM pg_class c JOIN pg_am am ON am.oid = c.relam
                             WHERE c.relname = 'ix_payment_events_payload'")" gin "GIN index on payload"
            assert_eq "$(q "SELECT i.indisvalid FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid
                             WHERE c.relname = 'ix_payment_events_restaurant_created'")" t \
                "concurrently built index is valid"
            assert_eq "$(q "SELECT jsonb_typeof(processor_config) FROM restaurant_payment_configs")" object \
                "processor_config is jsonb"
        else
            assert_eq "$(q "SELECT count(*) FROM sqlite_master
                             WHERE type = 'index' AND name = 'ix_payment_events_restaurant_created'")" 1 \
                "index from 0007"
        fi
        # updated_at trigger: an update without updated_at moves it forward
        q "UPDATE restaurant_payment_configs SET updated_at = '2000-01-01 00:00:00+00'" >/dev/null
        q "UPDATE restaurant_payment_configs SET processor_name = 'stripe'" >/dev/null
        assert_eq "$(q "SELECT count(*) FROM restaurant_payment_configs WHERE updated_at > '2001-01-01'")" 1 \
            "updated_at trigger"
        # payment_events is append-only
        # (a fresh event each time: rows written earlier cannot be deleted)
        EVENTS=$((EVENTS + 1))
        local ev
        ev=$(printf '%012d' "$EVENTS")
        q "INSERT INTO payment_events (event_id, aggregate_id, sequence_number, event_type, restaurant_id, payload)
           VALUES ('10000000-0000-0000-0000-$ev', '20000000-0000-0000-0000-$ev', 1,
                   'refund_requested', '00000000-0000-0000-0000-000000000001', '{\"amount_cents\": 500}')" >/dev/null
        local out
        if [ "$ENGINE" = postgres ]; then
            out=$(psql -X -q -A -t -d "$DBNAME" -c "DELETE FROM payment_events" 2>&1) &&
                fail "DELETE FROM payment_events succeeded; the append-only trigger is missing"
        else
            out=$(sqlite3 -batch "$DBFILE" "DELETE FROM payment_events" 2>&1) &&
                fail "DELETE FROM payment_events succeeded; the append-only trigger is missing"
        fi
        case "$out" in *append-only*) ;; *) fail "DELETE FROM payment_events: unexpected error: $out" ;; esac
        ;;
    esac
}

# ---------------------------------------------------------------- the run

run_sample() {
    SAMPLE=$1
    DIR="$ROOT/examples/$SAMPLE/migrations"
    CONTEXT="$SAMPLE"
    [ -d "$DIR" ] || fail "no directory $DIR"
    echo "# $SAMPLE on $ENGINE ($DIR)"

    local files=() f
    for f in "$DIR"/*.sql; do files+=("$(basename "$f")"); done
    local n=${#files[@]} versions="" head prev
    for f in "${files[@]}"; do versions+="${versions:+ }${f%%_*}"; done
    head=${files[n - 1]%%_*}
    prev=${files[n - 2]%%_*}
    new_db "$SAMPLE"

    step "up to head"
    must 0 up --json
    assert_eq "$(jversions applied)" "$versions" "versions applied by the first up"
    assert_eq "$(jfield current)" "$head" "current after up"
    at_head

    step "up again applies nothing"
    must 0 up --json
    assert_eq "$(jfield applied)" 0 "number of migrations applied by a second up"
    assert_eq "$(jfield current)" "$head" "current after second up"

    step "status --exit-code"
    must 0 status --exit-code
    must 0 status --json
    assert_eq "$(jfield current)" "$head" "status current"
    must 0 validate

    if [ "$SAMPLE" = pos ]; then
        step "down 0011 removes the admin, up puts it back (runbook reseed)"
        must 0 down 0011_create_purchases_tables --json
        assert_eq "$(jversions reverted)" "0012" "reverted by down 0011"
        assert_eq "$(jfield current)" "0011" "current after down 0011"
        assert_eq "$(q "SELECT count(*) FROM users WHERE email = 'admin@retailpos.com'")" 0 \
            "admin user after down to 0011"
        assert_eq "$(q "SELECT count(*) FROM users")" 0 "users after down to 0011"
        must 0 up --json
        assert_eq "$(jversions applied)" "0012" "applied by up after down 0011"
        at_head

        step "a failing verify section rolls the migration back"
        local bad="$WORK/pos_bad_verify"
        mkdir -p "$bad"
        cp "$DIR"/*.sql "$bad"/
        sed -i 's/^SELECT count(\*) = 1 FROM users/SELECT count(*) = 2 FROM users/' "$bad/0012_seed_admin_user.sql"
        must 0 down 0011 --json
        local keep=$DIR
        DIR=$bad
        must 1 up --json
        DIR=$keep
        case "$ERR" in *VERIFY_FAILED*) ;; *) fail "failed verify: no VERIFY_FAILED in stderr: $ERR" ;; esac
        must 0 current --json
        assert_eq "$(jfield current)" "0011" "current after a failed verify"
        assert_eq "$(q "SELECT count(*) FROM users")" 0 "users after a failed verify"
        must 0 up --json
        assert_eq "$(jversions applied)" "0012" "applied after the failed verify"
    fi

    step "down base"
    must 0 down base --json
    local reversed="" v
    for v in $versions; do reversed="$v${reversed:+ }$reversed"; done
    assert_eq "$(jversions reverted)" "$reversed" "versions reverted by down base"
    assert_eq "$(jfield current)" base "current after down base"
    assert_empty "$(leftovers)" "objects left after down base"
    must 0 current --json
    assert_eq "$(jfield current)" base "strata current after down base"
    st status --exit-code
    assert_eq "$RC" 3 "status --exit-code with everything pending"

    step "up again from base"
    must 0 up --json
    assert_eq "$(jversions applied)" "$versions" "versions applied by up after down base"
    at_head

    step "down -1, then up"
    must 0 down -1 --json
    assert_eq "$(jversions reverted)" "$head" "reverted by down -1"
    assert_eq "$(jfield current)" "$prev" "current after down -1"
    if [ "$SAMPLE" = pos ]; then
        assert_eq "$(q "SELECT count(*) FROM users WHERE email = 'admin@retailpos.com'")" 0 \
            "admin user after down -1"
    fi
    must 0 up --json
    assert_eq "$(jversions applied)" "$head" "applied by up after down -1"
    assert_eq "$(jfield current)" "$head" "current after up"
    at_head

    step "redo"
    must 0 redo --json
    assert_eq "$(jversions reverted)" "$head" "reverted by redo"
    assert_eq "$(jversions applied)" "$head" "applied by redo"
    assert_eq "$(jfield current)" "$head" "current after redo"
    at_head
    must 0 status --exit-code
    must 0 validate

    step "down base again"
    must 0 down base --json
    assert_empty "$(leftovers)" "objects left after the second down base"
    echo "ok [$ENGINE] $SAMPLE"
}

for SAMPLE in $SAMPLES; do
    run_sample "$SAMPLE"
done
CONTEXT=""
echo "ok [$ENGINE] $TEST_NAME"
