# lib.sh -- helpers for the end-to-end tests. Sourced by tests/cli/test_*.sh.
#
# Environment: STRATA (binary), ENGINE (sqlite|postgres), APP (app_startup).
# For postgres, PGHOST/PGPORT/PGUSER/PGPASSWORD come from pg_virtualenv.
set -uo pipefail

: "${STRATA:?STRATA must point at the strata binary}"
: "${ENGINE:=sqlite}"
TESTS_FAILED=0
TEST_NAME=$(basename "$0" .sh)
WORK=$(mktemp -d "/tmp/strata-$TEST_NAME.XXXXXX")
trap 'cleanup_dbs; rm -rf "$WORK"' EXIT
cd "$WORK"
# the checksum cache of each test in its own directory, not the home directory
export STRATA_CACHE_DIR=$WORK/cache
DBS=()

fail() {
    echo "FAIL [$ENGINE] $TEST_NAME: $*" >&2
    TESTS_FAILED=$((TESTS_FAILED + 1))
}

# A misspelt helper or a missing tool is a failure, never a check that
# silently passes. bash runs this handler in a subshell, so it leaves a
# mark that finish counts.
command_not_found_handle() {
    echo "FAIL [$ENGINE] $TEST_NAME: command not found: $1" >&2
    echo "$1" >>"$WORK/.not-found"
    return 127
}

# new_db: sets URL to a fresh empty database (and DBNAME / DBFILE)
new_db() {
    if [ "$ENGINE" = postgres ]; then
        DBNAME="t_$(date +%s%N | tail -c 10)_$RANDOM"
        createdb "$DBNAME" || { echo "createdb failed" >&2; exit 1; }
        DBS+=("$DBNAME")
        URL="postgresql://$PGUSER:$PGPASSWORD@${PGHOST:-localhost}:$PGPORT/$DBNAME"
    else
        DBFILE="$WORK/db_$RANDOM$RANDOM.sqlite3"
        URL="sqlite:///$DBFILE"
    fi
}

cleanup_dbs() {
    if [ "$ENGINE" = postgres ]; then
        for d in "${DBS[@]}"; do dropdb --if-exists --force "$d" 2>/dev/null || true; done
    fi
}

# q SQL: runs a query on the current database, prints rows (| separated)
q() {
    if [ "$ENGINE" = postgres ]; then
        psql -X -q -A -t -v ON_ERROR_STOP=1 -d "$DBNAME" -c "$1"
    else
        sqlite3 "$DBFILE" "$1"
    fi
}

# table_exists NAME -> prints 1 or 0
table_exists() {
    if [ "$ENGINE" = postgres ]; then
        q "SELECT count(*) FROM pg_tables WHERE schemaname = 'public' AND tablename = '$1'"
    else
        q "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = '$1'"
    fi
}

# st [args...]: runs strata against URL; sets OUT, ERR, RC
st() {
    "$STRATA" --url "$URL" "$@" >"$WORK/out" 2>"$WORK/err"
    RC=$?
    OUT=$(cat "$WORK/out")
    ERR=$(cat "$WORK/err")
}

# raw [args...]: runs strata with exactly these arguments
raw() {
    "$STRATA" "$@" >"$WORK/out" 2>"$WORK/err"
    RC=$?
    OUT=$(cat "$WORK/out")
    ERR=$(cat "$WORK/err")
}

expect_rc() {
    if [ "$RC" != "$1" ]; then
        fail "${2:-command}: exit $RC, expected $1; stdout: $OUT; stderr: $ERR"
    fi
}

eq() { # eq ACTUAL EXPECTED MSG
    if [ "$1" != "$2" ]; then fail "$3: got '$1', expected '$2'"; fi
}

contains() { # contains HAYSTACK NEEDLE MSG
    case "$1" in
    *"$2"*) ;;
    *) fail "$3: '$2' not in: $1" ;;
    esac
}

lacks() { # lacks HAYSTACK NEEDLE MSG
    case "$1" in
    *"$2"*) fail "$3: unexpected '$2' in: $1" ;;
    esac
}

# mig DIR FILE <<SQL : writes a migration file
mig() {
    mkdir -p "$1"
    cat >"$1/$2"
}

# mig_a DIR: the smallest history, 0001_a.sql creating (and dropping) table a
mig_a() {
    mig "$1" 0001_a.sql <<'SQL'
-- strata:up
CREATE TABLE a (id integer);
-- strata:down
DROP TABLE a;
SQL
}

# k_history DIR N: N migrations 0001..N, each creating table k_<version>
# with one row (the kill tests: after a kill, k_tables must equal
# applied_versions)
k_history() {
    local i v
    for i in $(seq 1 "$2"); do
        v=$(printf '%04d' "$i")
        mig "$1" "${v}_t.sql" <<SQL
-- strata:up
CREATE TABLE k_$v (id integer PRIMARY KEY, note text);
INSERT INTO k_$v VALUES (1, 'row of $v');
-- strata:down
DROP TABLE k_$v;
SQL
    done
}
# k_tables: the versions whose k_ table exists; applied_versions: those the
# version table records as applied (nothing when it is absent)
k_tables() {
    if [ "$ENGINE" = postgres ]; then
        q "SELECT substr(tablename, 3) FROM pg_tables WHERE schemaname = 'public' AND tablename LIKE 'k\_%' ORDER BY 1"
    else
        q "SELECT substr(name, 3) FROM sqlite_master WHERE type = 'table' AND name LIKE 'k\_%' ESCAPE '\\' ORDER BY 1"
    fi
}
applied_versions() {
    if [ "$(table_exists strata_migrations)" = 1 ]; then
        q "SELECT version FROM strata_migrations WHERE state = 'applied' ORDER BY 1"
    fi
}

# json_get JSON PYTHON-EXPR: evaluates an expression on the parsed document j
json_get() {
    python3 -c 'import json,sys; j=json.loads(sys.argv[1]); print(eval(sys.argv[2]))' "$1" "$2"
}

# postgres_only: a PostgreSQL-only test file passes at once on other engines
postgres_only() {
    if [ "$ENGINE" != postgres ]; then
        echo "ok [$ENGINE] $TEST_NAME (PostgreSQL only)"
        exit 0
    fi
}

# wait_all LABEL ERRPREFIX PID...: each process must exit 0; a failure shows
# its stderr, $WORK/ERRPREFIX<n>.err (n counts from 1 in PID order)
# lib_program OUT SRC: builds the C program SRC against the library beside
# $STRATA (a sanitizer build's with its flags); fails, the compiler's words
# in $WORK/cc.err, when it cannot
lib_program() {
    local lib san=
    lib=$(dirname "$STRATA")/libstrata.a
    case "$STRATA" in *asan*) san="-fsanitize=address,undefined" ;; esac
    [ -f "$lib" ] || { echo "no $lib" >"$WORK/cc.err"; return 1; }
    ${CC:-cc} -std=c11 $san -I"$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)/include" -o "$1" "$2" "$lib" \
        $(pkg-config --libs sqlite3 2>/dev/null || echo -lsqlite3) -ldl -pthread -lm 2>"$WORK/cc.err"
}

wait_all() {
    local label=$1 pre=$2 i=0 p rc
    shift 2
    for p in "$@"; do
        i=$((i + 1))
        wait "$p"
        rc=$?
        [ "$rc" = 0 ] || fail "${label}process $i exited $rc: $(cat "$WORK/$pre$i.err")"
    done
}

finish() {
    if [ -s "$WORK/.not-found" ]; then
        TESTS_FAILED=$((TESTS_FAILED + $(wc -l <"$WORK/.not-found")))
    fi
    if [ "$TESTS_FAILED" -ne 0 ]; then
        echo "not ok [$ENGINE] $TEST_NAME ($TESTS_FAILED failures)"
        exit 1
    fi
    echo "ok [$ENGINE] $TEST_NAME"
    exit 0
}
