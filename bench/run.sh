#!/usr/bin/env bash
# bench/run.sh -- strata benchmarks, each a ratio against a baseline measured in
# the same run, interleaved (machines are noisy; only same-run ratios mean much).
#
#   bench/run.sh                  SQLite, then PostgreSQL 15 in a throwaway
#                                 server started with pg_virtualenv
#   STRATA=/path/to/strata        the binary (default: bench/../build/strata)
#   BENCH_N=1000                  migrations for the apply and no-op measurements
#   BENCH_N_BIG=4000              migrations for the linearity check
#   BENCH_REPS_APPLY=5            repetitions of each apply measurement
#   BENCH_REPS_NOOP=20            repetitions of each no-op measurement
#   BENCH_PG=0                    skip PostgreSQL
#   BENCH_STRICT=1                exit 1 when a target is missed
#
# Tools: bash, coreutils, sqlite3, psql, pg_virtualenv, createdb, dropdb.
# Times are wall clock from bash's $EPOCHREALTIME (no fork), or `date +%s%N`
# on bash < 5; the cost of the two clock reads around a command is measured
# (median of empty intervals) and subtracted.
#
# The script runs twice: the outer run does the SQLite part, then runs itself
# inside `pg_virtualenv -v 15` with BENCH_PHASE=pg for the PostgreSQL part
# (results go to a file in the shared temp dir), then prints the tables.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
STRATA=${STRATA:-$here/../build/strata}
N=${BENCH_N:-1000}
N_BIG=${BENCH_N_BIG:-4000}
REPS_APPLY=${BENCH_REPS_APPLY:-5}
REPS_NOOP=${BENCH_REPS_NOOP:-20}

say() { printf '%s\n' "$*" >&2; }
die() { say "bench: error: $*"; exit 1; }

# ------------------------------------------------------------------ helpers

# bash 5 has a clock without a fork; older bash falls back to date +%s%N (a
# fork + exec, milliseconds on slow VMs; its cost is measured and subtracted).
if [ -n "${EPOCHREALTIME:-}" ]; then
    TIMER_NAME="bash \$EPOCHREALTIME"
    clock() { local t=$EPOCHREALTIME; NOW=$((10#${t/[.,]/})); }
else
    TIMER_NAME="date +%s%N"
    clock() { NOW=$(($(date +%s%N) / 1000)); }
fi

# Runs "$@" with stdout and stderr discarded; sets ELAPSED_US (timer cost
# subtracted). A failing command aborts the benchmark, showing its stderr.
ELAPSED_US=0
TIMER_US=0
NOW=0
timed() {
    local s e rc=0
    clock
    s=$NOW
    "$@" >/dev/null 2>"$WORK/last.err" || rc=$?
    clock
    e=$NOW
    if [ "$rc" -ne 0 ]; then
        say "bench: command failed (exit $rc): $*"
        cat "$WORK/last.err" >&2
        exit 1
    fi
    ELAPSED_US=$((e - s - TIMER_US))
    [ "$ELAPSED_US" -ge 0 ] || ELAPSED_US=0
}

# Same, with stdin from a file.
timed_in() {
    local in=$1 s e rc=0
    shift
    clock
    s=$NOW
    "$@" <"$in" >/dev/null 2>"$WORK/last.err" || rc=$?
    clock
    e=$NOW
    if [ "$rc" -ne 0 ]; then
        say "bench: command failed (exit $rc): $* < $in"
        cat "$WORK/last.err" >&2
        exit 1
    fi
    ELAPSED_US=$((e - s - TIMER_US))
    [ "$ELAPSED_US" -ge 0 ] || ELAPSED_US=0
}

# median of integers
median() {
    local -a v
    mapfile -t v < <(printf '%s\n' "$@" | sort -n)
    local n=${#v[@]}
    if ((n % 2)); then
        echo "${v[n / 2]}"
    else
        echo $(((v[n / 2 - 1] + v[n / 2]) / 2))
    fi
}

# microseconds -> "12.3" (ms)
ms() {
    local us=$1
    if ((us >= 100000)); then
        printf '%d' $(((us + 500) / 1000))
    else
        local t=$(((us + 50) / 100))
        printf '%d.%d' $((t / 10)) $((t % 10))
    fi
}

# ratio a/b * 100, rounded (for comparisons)
ratio100() {
    local a=$1 b=$2
    ((b > 0)) || b=1
    echo $(((a * 1000 / b + 5) / 10))
}

# Median of the per-run ratios a[i]/b[i] * 100 of two arrays named $1 and $2
# (runs measured next to each other form a pair, so slow phases of a noisy
# machine hit both sides of a pair and cancel out).
pratio100() {
    local -n pa=$1 pb=$2
    local -a r=()
    local i
    for i in "${!pa[@]}"; do
        r+=($(ratio100 "${pa[i]}" "${pb[i]}"))
    done
    median "${r[@]}"
}

# "yes" when r100 <= limit100, else "no"
within() { if (($1 <= $2)); then echo yes; else echo no; fi; }

# Result records, one a line, tab separated:
#   name  strata_us  baseline_us  baseline_label  target_label  met(yes/no/-)  ratio*100
record() { printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$@" >>"$RESULTS"; }

# r100 -> "1.23"
fmt100() { printf '%d.%02d' $(($1 / 100)) $(($1 % 100)); }

calibrate_timer() {
    local -a t=()
    local s e i
    TIMER_US=0
    for i in $(seq 1 21); do
        clock
        s=$NOW
        clock
        e=$NOW
        t+=($((e - s)))
    done
    TIMER_US=$(median "${t[@]}")
}

# Writes $1 migrations into dir $2 and their up SQL into $3 (plain), $4 (one
# BEGIN/COMMIT per migration) and $5 (one BEGIN/COMMIT around all).
gen_migrations() {
    local n=$1 dir=$2 plain=$3 pertx=$4 onetx=$5 i v up
    mkdir -p "$dir"
    : >"$plain"
    : >"$pertx"
    printf 'BEGIN;\n' >"$onetx"
    for ((i = 1; i <= n; i++)); do
        printf -v v '%04d' "$i"
        up="CREATE TABLE t_$v (id integer primary key, name text, created_at text);
CREATE INDEX t_${v}_created_at ON t_$v (created_at);"
        printf -- '-- strata:up\n%s\n\n-- strata:down\nDROP TABLE t_%s;\n' \
            "$up" "$v" >"$dir/${v}_create_t_$v.sql"
        printf '%s\n' "$up" >&3
        printf 'BEGIN;\n%s\nCOMMIT;\n' "$up" >&4
        printf '%s\n' "$up" >&5
    done 3>>"$plain" 4>>"$pertx" 5>>"$onetx"
    printf 'COMMIT;\n' >>"$onetx"
}

# ------------------------------------------------------------------ SQLite

sqlite_count() { sqlite3 "$1" "$2"; }

bench_sqlite() {
    local db=$WORK/sq.db i
    local -a s_up=() b_auto=() b_tx=() s_one=() b_one=()
    say "== SQLite $(sqlite3 --version | cut -d' ' -f1): apply $N migrations, $REPS_APPLY runs each"
    for ((i = 1; i <= REPS_APPLY; i++)); do
        # rotate the order so no side always runs first
        local order=$(((i - 1) % 3)) k
        for k in 0 1 2; do
            case $(((k + order) % 3)) in
            0)
                rm -f "$db" "$db-journal"
                timed "$STRATA" -q --url "sqlite:///$db" --dir "$WORK/m$N" up
                s_up+=("$ELAPSED_US")
                if ((i == 1)); then
                    local t r
                    t=$(sqlite_count "$db" "select count(*) from sqlite_master where type='table' and name like 't\_%' escape '\\'")
                    r=$(sqlite_count "$db" "select count(*) from strata_migrations")
                    [ "$t" = "$N" ] && [ "$r" = "$N" ] ||
                        die "strata up made $t tables and $r version rows, expected $N"
                fi
                ;;
            1)
                rm -f "$db" "$db-journal"
                timed_in "$WORK/all$N.sql" sqlite3 "$db"
                b_auto+=("$ELAPSED_US")
                ;;
            2)
                rm -f "$db" "$db-journal"
                timed_in "$WORK/all$N.pertx.sql" sqlite3 "$db"
                b_tx+=("$ELAPSED_US")
                ;;
            esac
        done
        # informational: everything in one transaction
        rm -f "$db" "$db-journal"
        timed "$STRATA" -q --url "sqlite:///$db" --dir "$WORK/m$N" up --single-transaction
        s_one+=("$ELAPSED_US")
        rm -f "$db" "$db-journal"
        timed_in "$WORK/all$N.onetx.sql" sqlite3 "$db"
        b_one+=("$ELAPSED_US")
        say "   run $i: strata $(ms "${s_up[-1]}") ms, sqlite3 autocommit $(ms "${b_auto[-1]}") ms," \
            "sqlite3 tx/migration $(ms "${b_tx[-1]}") ms; single-tx: strata $(ms "${s_one[-1]}") ms, sqlite3 $(ms "${b_one[-1]}") ms"
    done
    local su ba bt so bo
    su=$(median "${s_up[@]}")
    ba=$(median "${b_auto[@]}")
    bt=$(median "${b_tx[@]}")
    so=$(median "${s_one[@]}")
    bo=$(median "${b_one[@]}")
    local r
    r=$(pratio100 s_up b_auto)
    record "sqlite: up, $N migrations, empty db" "$su" "$ba" "sqlite3 < all.sql (autocommit)" \
        "ratio <= 1.5" "$(within "$r" 150)" "$r"
    r=$(pratio100 s_up b_tx)
    record "sqlite: up, $N migrations, empty db" "$su" "$bt" "sqlite3, BEGIN/COMMIT per migration" \
        "ratio <= 1.5" "$(within "$r" 150)" "$r"
    record "sqlite: up --single-transaction, $N" "$so" "$bo" "sqlite3, one BEGIN/COMMIT" "(info)" "-" \
        "$(pratio100 s_one b_one)"

    # no-op: all applied, plus the linearity check. The fixed cost of a run
    # (process start, shared libraries, opening the database) is measured with
    # an empty migration directory and taken out of the linearity ratio:
    # (T(N_BIG) - T(0)) / (T(N) - T(0)) is N_BIG/N when the per-migration work
    # is linear and (N_BIG/N)^2 when it is quadratic.
    say "== SQLite: no-op up (0, $N and $N_BIG applied), $REPS_NOOP runs each"
    local big=$WORK/sq_big.db zero=$WORK/sq_zero.db
    rm -f "$db" "$big" "$zero"
    mkdir -p "$WORK/m0"
    "$STRATA" -q --url "sqlite:///$db" --dir "$WORK/m$N" up --single-transaction >/dev/null
    "$STRATA" -q --url "sqlite:///$big" --dir "$WORK/m$N_BIG" up --single-transaction >/dev/null
    "$STRATA" -q --url "sqlite:///$zero" --dir "$WORK/m0" up >/dev/null
    [ "$(sqlite_count "$big" "select count(*) from strata_migrations")" = "$N_BIG" ] ||
        die "setup of the $N_BIG-migration database failed"
    local -a s_noop=() b_noop=() b_read=() s_big=() s_zero=()
    # warm the page cache once
    "$STRATA" -q --url "sqlite:///$db" --dir "$WORK/m$N" up >/dev/null
    "$STRATA" -q --url "sqlite:///$big" --dir "$WORK/m$N_BIG" up >/dev/null
    for ((i = 1; i <= REPS_NOOP; i++)); do
        local order=$(((i - 1) % 5)) k
        for k in 0 1 2 3 4; do
            case $(((k + order) % 5)) in
            0)
                timed "$STRATA" -q --url "sqlite:///$db" --dir "$WORK/m$N" up
                s_noop+=("$ELAPSED_US")
                ;;
            1)
                timed sqlite3 "$db" 'select 1'
                b_noop+=("$ELAPSED_US")
                ;;
            2)
                timed "$STRATA" -q --url "sqlite:///$big" --dir "$WORK/m$N_BIG" up
                s_big+=("$ELAPSED_US")
                ;;
            3)
                timed "$STRATA" -q --url "sqlite:///$zero" --dir "$WORK/m0" up
                s_zero+=("$ELAPSED_US")
                ;;
            4)
                timed sqlite3 "$db" 'select * from strata_migrations'
                b_read+=("$ELAPSED_US")
                ;;
            esac
        done
    done
    local sn bn br sb sz
    sn=$(median "${s_noop[@]}")
    bn=$(median "${b_noop[@]}")
    br=$(median "${b_read[@]}")
    sb=$(median "${s_big[@]}")
    sz=$(median "${s_zero[@]}")
    say "   medians: strata $(ms "$sn") ms, sqlite3 'select 1' $(ms "$bn") ms," \
        "sqlite3 'select * from strata_migrations' $(ms "$br") ms;" \
        "strata with 0: $(ms "$sz") ms, with $N_BIG: $(ms "$sb") ms"
    record "sqlite: no-op up, $N applied" "$sn" "$bn" "sqlite3 db 'select 1'" \
        "under 10 ms" "$( ((sn < 10000)) && echo yes || echo no)" "$(pratio100 s_noop b_noop)"
    record "sqlite: no-op up, $N applied" "$sn" "$br" "sqlite3 db 'select * from strata_migrations'" \
        "(info: the floor)" "-" "$(pratio100 s_noop b_read)"
    record "sqlite: no-op up, 0 applied (fixed cost)" "$sz" "$bn" "sqlite3 db 'select 1'" "(info)" "-" \
        "$(pratio100 s_zero b_noop)"
    record "sqlite: no-op up, $N_BIG vs $N applied" "$sb" "$sn" "strata no-op up, $N applied (raw)" \
        "(info)" "-" "$(pratio100 s_big s_noop)"
    local vb=$((sb - sz)) vn=$((sn - sz))
    if ((vn * 10 < sz || vn <= 0 || vb <= 0)); then
        # the per-migration part is lost in the noise of the fixed cost
        record "sqlite: no-op up, $N_BIG vs $N, minus fixed" "$((vb > 0 ? vb : 0))" "$((vn > 0 ? vn : 0))" \
            "the same, 0-migration run subtracted" "(too small to tell)" "-" 0
    else
        record "sqlite: no-op up, $N_BIG vs $N, minus fixed" "$vb" "$vn" "the same, 0-migration run subtracted" \
            "ratio <= 5 (linear $((N_BIG / N)), quadratic $((N_BIG * N_BIG / N / N)))" \
            "$(within "$(ratio100 "$vb" "$vn")" 500)" "$(ratio100 "$vb" "$vn")"
    fi
    rm -f "$db" "$big" "$zero" "$db-journal" "$big-journal" "$zero-journal"
}

# --------------------------------------------------------------- PostgreSQL

pg_url() { echo "postgresql://${PGUSER:-postgres}@${PGHOST:-localhost}:${PGPORT:-5432}/$1"; }

bench_pg() {
    local i dbn=0
    local -a s_up=() b_auto=() b_tx=()
    local ver
    ver=$(psql -XAtqc 'show server_version')
    say "== PostgreSQL $ver (pg_virtualenv, fsync=$(psql -XAtqc 'show fsync')): apply $N migrations, $REPS_APPLY runs each"
    newdb() {
        dbn=$((dbn + 1))
        DB=strata_bench_$dbn
        dropdb --if-exists "$DB" >/dev/null 2>&1 || true
        createdb "$DB"
    }
    for ((i = 1; i <= REPS_APPLY; i++)); do
        local order=$(((i - 1) % 3)) k
        for k in 0 1 2; do
            newdb
            case $(((k + order) % 3)) in
            0)
                timed "$STRATA" -q --url "$(pg_url "$DB")" --dir "$WORK/m$N" up
                s_up+=("$ELAPSED_US")
                if ((i == 1)); then
                    local r
                    r=$(psql -XAtq -d "$DB" -c "select (select count(*) from pg_tables where schemaname='public' and tablename like 't\_%')::text || ' ' || (select count(*) from strata_migrations)::text")
                    [ "$r" = "$N $N" ] || die "strata up on PostgreSQL gave '$r' (tables, version rows), expected '$N $N'"
                fi
                ;;
            1)
                timed psql -X -q -v ON_ERROR_STOP=1 -d "$DB" -f "$WORK/all$N.sql"
                b_auto+=("$ELAPSED_US")
                ;;
            2)
                timed psql -X -q -v ON_ERROR_STOP=1 -d "$DB" -f "$WORK/all$N.pertx.sql"
                b_tx+=("$ELAPSED_US")
                ;;
            esac
            dropdb "$DB"
        done
        say "   run $i: strata $(ms "${s_up[-1]}") ms, psql autocommit $(ms "${b_auto[-1]}") ms," \
            "psql tx/migration $(ms "${b_tx[-1]}") ms"
    done
    local su ba bt
    su=$(median "${s_up[@]}")
    ba=$(median "${b_auto[@]}")
    bt=$(median "${b_tx[@]}")
    local r
    r=$(pratio100 s_up b_auto)
    record "postgres: up, $N migrations, empty db" "$su" "$ba" "psql -f all.sql (autocommit)" \
        "ratio <= 1.5" "$(within "$r" 150)" "$r"
    r=$(pratio100 s_up b_tx)
    record "postgres: up, $N migrations, empty db" "$su" "$bt" "psql, BEGIN/COMMIT per migration" \
        "ratio <= 1.5" "$(within "$r" 150)" "$r"

    say "== PostgreSQL: no-op up ($N applied), $REPS_NOOP runs each"
    newdb
    "$STRATA" -q --url "$(pg_url "$DB")" --dir "$WORK/m$N" up --single-transaction >/dev/null
    "$STRATA" -q --url "$(pg_url "$DB")" --dir "$WORK/m$N" up >/dev/null
    local -a s_noop=() b_noop=()
    for ((i = 1; i <= REPS_NOOP; i++)); do
        if ((i % 2)); then
            timed "$STRATA" -q --url "$(pg_url "$DB")" --dir "$WORK/m$N" up
            s_noop+=("$ELAPSED_US")
            timed psql -X -d "$DB" -c 'select 1'
            b_noop+=("$ELAPSED_US")
        else
            timed psql -X -d "$DB" -c 'select 1'
            b_noop+=("$ELAPSED_US")
            timed "$STRATA" -q --url "$(pg_url "$DB")" --dir "$WORK/m$N" up
            s_noop+=("$ELAPSED_US")
        fi
    done
    dropdb "$DB"
    local sn bn
    sn=$(median "${s_noop[@]}")
    bn=$(median "${b_noop[@]}")
    say "   medians: strata $(ms "$sn") ms, psql -c 'select 1' $(ms "$bn") ms"
    record "postgres: no-op up, $N applied" "$sn" "$bn" "psql -c 'select 1'" "(info)" "-" \
        "$(pratio100 s_noop b_noop)"
}

# ------------------------------------------------------------------ report

report() {
    local name su bu bl tl ok r fails=0
    echo
    echo "strata benchmark: $N migrations (CREATE TABLE + CREATE INDEX each); medians of" \
        "$REPS_APPLY (apply) / $REPS_NOOP (no-op) interleaved runs"
    echo "ratio: median of per-run ratios (each strata run paired with the baseline run next to it)"
    echo "timer: $TIMER_NAME, overhead ${TIMER_US} us per measurement (subtracted)"
    echo
    printf '%-44s %9s %9s %7s  %-36s %-4s %s\n' "measurement" "strata ms" "base ms" "ratio" "target" "met" "baseline"
    printf '%-44s %9s %9s %7s  %-36s %-4s %s\n' "-----------" "---------" "-------" "-----" "------" "---" "--------"
    while IFS=$'\t' read -r name su bu bl tl ok r; do
        printf '%-44s %9s %9s %7s  %-36s %-4s %s\n' "$name" "$(ms "$su")" "$(ms "$bu")" "$(fmt100 "$r")" "$tl" "$ok" "$bl"
        [ "$ok" != no ] || fails=$((fails + 1))
    done <"$RESULTS"
    echo
    echo "Markdown (for the README):"
    echo
    echo "| measurement | strata | baseline | ratio | target |"
    echo "|---|---:|---:|---:|---|"
    while IFS=$'\t' read -r name su bu bl tl ok r; do
        local mark=""
        case $ok in yes) mark=" ✓" ;; no) mark=" ✗" ;; esac
        echo "| $name | $(ms "$su") ms | $(ms "$bu") ms ($bl) | $(fmt100 "$r") | $tl$mark |"
    done <"$RESULTS"
    echo
    if ((fails)); then
        echo "$fails target(s) missed."
        [ "${BENCH_STRICT:-0}" != 1 ] || return 1
    else
        echo "All targets met."
    fi
}

# -------------------------------------------------------------------- main

if [ "${BENCH_PHASE:-}" = pg ]; then
    # inside pg_virtualenv: the PostgreSQL part only
    WORK=${BENCH_WORK:?}
    RESULTS=$WORK/results.pg
    TIMER_US=${BENCH_TIMER_US:-0}
    bench_pg
    exit 0
fi

[ -x "$STRATA" ] || die "no strata binary at $STRATA (run make, or set STRATA)"
STRATA=$(cd "$(dirname "$STRATA")" && pwd)/$(basename "$STRATA")
command -v sqlite3 >/dev/null || die "sqlite3 not found"

WORK=$(mktemp -d "${TMPDIR:-/tmp}/strata-bench.XXXXXX")
trap 'rm -rf "$WORK"' EXIT
trap 'exit 130' INT TERM
RESULTS=$WORK/results
: >"$RESULTS"

say "strata: $STRATA ($("$STRATA" --version 2>/dev/null || echo '?'))"
say "generating $N and $N_BIG migrations in $WORK"
gen_migrations "$N" "$WORK/m$N" "$WORK/all$N.sql" "$WORK/all$N.pertx.sql" "$WORK/all$N.onetx.sql"
gen_migrations "$N_BIG" "$WORK/m$N_BIG" /dev/null /dev/null /dev/null
calibrate_timer
say "timer: $TIMER_NAME, overhead of two reads: ${TIMER_US} us"

bench_sqlite

if [ "${BENCH_PG:-1}" != 0 ]; then
    if command -v pg_virtualenv >/dev/null && command -v psql >/dev/null; then
        if BENCH_PHASE=pg BENCH_WORK="$WORK" BENCH_TIMER_US="$TIMER_US" STRATA="$STRATA" \
            pg_virtualenv -v 15 "$here/$(basename "$0")"; then
            cat "$WORK/results.pg" >>"$RESULTS"
        else
            say "bench: the PostgreSQL part failed; its results are left out"
            [ ! -s "$WORK/results.pg" ] || cat "$WORK/results.pg" >>"$RESULTS"
            PG_FAILED=1
        fi
    else
        say "bench: pg_virtualenv or psql not found; PostgreSQL skipped"
    fi
fi

report
[ -z "${PG_FAILED:-}" ] || exit 1
