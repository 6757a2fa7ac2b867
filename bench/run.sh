#!/usr/bin/env bash
# bench/run.sh -- strata beside its peers and its floor, on the same data,
# interleaved (machines are noisy; only same-run ratios mean much).
#
# The history: BENCH_N migrations alternating `CREATE TABLE` and `ALTER
# TABLE ... ADD COLUMN` + `CREATE INDEX`, written for strata, for dbmate
# (-- migrate:up files), for Alembic (revision files with op.execute) and
# for the floor programs. Each row prints strata's ratio to its floor (the
# least any program must do for the same work with the same durability) and
# to the best peer (the fastest of dbmate and Alembic in that row).
#
#   bench/run.sh                  SQLite, then PostgreSQL 15 in a throwaway
#                                 server started with pg_virtualenv
#   STRATA=/path/to/strata        the binary (default: bench/../build/strata)
#   FLOOR=/path/to/sqlite_floor   the SQLite floor (default: build/sqlite_floor,
#                                 made by `make bench` from bench/sqlite_floor.c)
#   BENCH_N=1000                  migrations for the apply and no-op measurements
#   BENCH_N_BIG=5000              migrations for the second no-op measurement
#   BENCH_REPS_APPLY=9            repetitions of each apply measurement
#   BENCH_REPS_NOOP=41            repetitions of each no-op measurement (a few
#                                 ms each: many runs keep the ratios steady)
#   BENCH_REPS_NOOP_SLOW=15       of those, how many Alembic's (0.4 s each) takes
#   BENCH_ALEMBIC_IMPORT_N=20     revisions for the `strata import --from
#                                 alembic` row (0: skip it)
#   BENCH_REPS_IMPORT=3           repetitions of that row
#   BENCH_PG=0                    skip PostgreSQL
#   BENCH_PEERS=0                 strata and floors only
#   BENCH_INSTALL=0               do not install missing peers (otherwise, as
#                                 root: apt-get install alembic python3-psycopg2,
#                                 npm install dbmate into $STRATA_NPM_CACHE,
#                                 default /tmp/strata-npm-dbmate)
#   BENCH_STRICT=1                exit 1 when a target is missed
#
# Peers: dbmate (npm package `dbmate`: its Go binary from node_modules, not
# the Node shim), Alembic (Debian; env.py commits each revision on its own,
# as strata and dbmate do). A peer that is missing is skipped with a note.
# Tools: bash, coreutils, sqlite3, cc (for the floor), psql, pg_virtualenv.
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
N_BIG=${BENCH_N_BIG:-5000}
REPS_APPLY=${BENCH_REPS_APPLY:-9}
REPS_NOOP=${BENCH_REPS_NOOP:-41}
REPS_NOOP_SLOW=${BENCH_REPS_NOOP_SLOW:-15}
IMPORT_N=${BENCH_ALEMBIC_IMPORT_N:-20}
FLOOR=${FLOOR:-$here/../build/sqlite_floor}

. "$here/lib.sh" # say, die, clock, median, verdict, pg_url

# ------------------------------------------------------------------ helpers

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
    local i n=${#pa[@]}
    ((${#pb[@]} < n)) && n=${#pb[@]} # a slow peer may have fewer runs: the first n pairs
    for ((i = 0; i < n; i++)); do
        r+=($(ratio100 "${pa[i]}" "${pb[i]}"))
    done
    median "${r[@]}"
}

# "yes" when r100 <= limit100, else "no"
within() { if (($1 <= $2)); then echo yes; else echo no; fi; }

# Result rows, one a line, tab separated:
#   name  strata_us  floor_label  floor_us  r_floor100  best_label  best_us
#   r_best100  targets  met(yes/no/-)  others
# (r_* = median of per-run ratios strata/x * 100; "-" where there is none)
record() { printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$@" >>"$RESULTS"; }

# row NAME STRATA_ARR FLOOR_LABEL FLOOR_ARR FLOOR_MAX100 PEER_MAX100 [PEER_LABEL PEER_ARR]...
# One result row: strata against its floor (FLOOR_ARR may be "") and the
# best of the peers given (those with no runs are left out). A target is
# met when strata/floor <= FLOOR_MAX100 and strata/best <= PEER_MAX100
# (either may be "" for none).
row() {
    local name=$1 sarr=$2 flabel=$3 farr=$4 fmax=$5 pmax=$6
    shift 6
    local -n sa=$sarr
    local su rf="-" fu="-" best="" bu="-" rb="-" others="" met="-" tl=""
    su=$(median "${sa[@]}")
    if [ -n "$farr" ]; then
        local -n fa=$farr
        fu=$(median "${fa[@]}")
        rf=$(pratio100 "$sarr" "$farr")
    fi
    while [ $# -ge 2 ]; do
        local label=$1 parr=$2
        shift 2
        local -n pa=$parr
        [ ${#pa[@]} -gt 0 ] || continue
        local pu
        pu=$(median "${pa[@]}")
        others+="${others:+, }$label $(ms "$pu") ms ($(fmt100 "$(pratio100 "$sarr" "$parr")"))"
        if [ -z "$best" ] || ((pu < bu)); then
            best=$label bu=$pu rb=$(pratio100 "$sarr" "$parr")
        fi
    done
    if [ -n "$fmax" ] && [ "$rf" != "-" ]; then
        tl+="floor <= $(fmt100 "$fmax")"
        met=$(within "$rf" "$fmax")
    fi
    if [ -n "$pmax" ] && [ -n "$best" ]; then
        tl+="${tl:+, }best peer <= $(fmt100 "$pmax")"
        if [ "$met" = no ] || [ "$(within "$rb" "$pmax")" = no ]; then met=no; else met=yes; fi
    fi
    record "$name" "$su" "$flabel" "$fu" "$rf" "${best:--}" "$bu" "$rb" "${tl:-(info)}" "$met" "${others:--}"
}

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

# gen_history N DIR: the history of N migrations, odd ones `CREATE TABLE
# t_V`, even ones `ALTER TABLE` of the table before `ADD COLUMN` + `CREATE
# INDEX` on it, as
#   DIR/m/        strata files
#   DIR/d/        dbmate files (-- migrate:up / -- migrate:down)
#   DIR/a/        an Alembic project (alembic.ini, env.py, versions/*.py)
#   DIR/floor.sql the up SQL of each migration, separated by lines "--;"
#                 (bench/sqlite_floor.c)
#   DIR/pertx.sql BEGIN, the SQL, its version row, COMMIT per migration
#                 (the PostgreSQL floor, through psql)
#   DIR/onetx.sql the same in one BEGIN/COMMIT
gen_history() {
    local n=$1 dir=$2 i v p up down alem rev prev
    mkdir -p "$dir/m" "$dir/d" "$dir/a/versions"
    local vt="CREATE TABLE strata_migrations (version text PRIMARY KEY, name text NOT NULL, checksum text NOT NULL, applied_at text NOT NULL);"
    printf '[alembic]\nscript_location = %%(here)s\nsqlalchemy.url = sqlite:///unused.db\n' >"$dir/a/alembic.ini"
    cat >"$dir/a/env.py" <<'PY'
# env.py for the benchmark: `alembic init`'s, without logging, committing
# each revision on its own (as strata and dbmate do)
from alembic import context
from sqlalchemy import engine_from_config, pool

config = context.config


def get_url():
    return context.get_x_argument(as_dictionary=True).get("url") or config.get_main_option("sqlalchemy.url")


if context.is_offline_mode():
    context.configure(url=get_url(), literal_binds=True, dialect_opts={"paramstyle": "named"})
    with context.begin_transaction():
        context.run_migrations()
else:
    section = config.get_section(config.config_ini_section)
    section["sqlalchemy.url"] = get_url()
    engine = engine_from_config(section, prefix="sqlalchemy.", poolclass=pool.NullPool)
    with engine.connect() as connection:
        context.configure(connection=connection, transaction_per_migration=True)
        with context.begin_transaction():
            context.run_migrations()
PY
    {
        printf '%s\n' "$vt" >&4
        printf 'BEGIN;\n%s\n' "$vt" >&5
        for ((i = 1; i <= n; i++)); do
            printf -v v '%05d' "$i"
            if ((i % 2)); then
                up="CREATE TABLE t_$v (id integer primary key, name text);"
                down="DROP TABLE t_$v;"
                alem="    op.execute(\"CREATE TABLE t_$v (id integer primary key, name text)\")"
            else
                printf -v p '%05d' $((i - 1))
                up="ALTER TABLE t_$p ADD COLUMN created_at text;
CREATE INDEX t_${p}_created_at ON t_$p (created_at);"
                down="DROP INDEX t_${p}_created_at;"
                alem="    op.execute(\"ALTER TABLE t_$p ADD COLUMN created_at text\")
    op.execute(\"CREATE INDEX t_${p}_created_at ON t_$p (created_at)\")"
            fi
            printf -- '-- strata:up\n%s\n\n-- strata:down\n%s\n' "$up" "$down" >"$dir/m/${v}_m$v.sql"
            printf -- '-- migrate:up\n%s\n\n-- migrate:down\n%s\n' "$up" "$down" >"$dir/d/${v}_m$v.sql"
            rev=r$v
            if ((i == 1)); then prev=None; else printf -v prev '"r%05d"' $((i - 1)); fi
            printf 'from alembic import op\n\nrevision = "%s"\ndown_revision = %s\nbranch_labels = None\ndepends_on = None\n\n\ndef upgrade():\n%s\n\n\ndef downgrade():\n    op.execute("%s")\n' \
                "$rev" "$prev" "$alem" "${down%;}" >"$dir/a/versions/${rev}_m.py"
            printf '%s\n--;\n' "$up" >&3
            printf "BEGIN;\n%s\nINSERT INTO strata_migrations VALUES ('%s', 'm%s', 'x', '2026-01-01T00:00:00Z');\nCOMMIT;\n" "$up" "$v" "$v" >&4
            printf "%s\nINSERT INTO strata_migrations VALUES ('%s', 'm%s', 'x', '2026-01-01T00:00:00Z');\n" "$up" "$v" "$v" >&5
        done
        printf 'COMMIT;\n' >&5
    } 3>"$dir/floor.sql" 4>"$dir/pertx.sql" 5>"$dir/onetx.sql"
}

# ------------------------------------------------------------------- peers

DBMATE="" ALEMBIC=""
find_peers() {
    if [ "${BENCH_PEERS:-1}" = 0 ]; then
        say "bench: BENCH_PEERS=0: dbmate and Alembic are skipped"
        return 0
    fi
    local install=${BENCH_INSTALL:-1}
    local npmdir=${STRATA_NPM_CACHE:-/tmp/strata-npm-dbmate}
    local dm=$npmdir/node_modules/@dbmate/linux-x64/bin/dbmate
    if [ ! -x "$dm" ] && [ "$install" != 0 ] && command -v npm >/dev/null; then
        say "== installing dbmate (npm package) into $npmdir"
        mkdir -p "$npmdir" && (cd "$npmdir" && npm install --silent --no-audit --no-fund dbmate >/dev/null 2>&1) || true
    fi
    if [ -x "$dm" ]; then
        DBMATE=$dm
        say "dbmate: $DBMATE ($("$DBMATE" --version 2>/dev/null | head -1))"
    else
        say "bench: note: dbmate is not available (npm install dbmate; BENCH_INSTALL=0 stops the install): its measurements are skipped"
    fi
    if ! command -v alembic >/dev/null && [ "$install" != 0 ] && [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
        say "== installing alembic (Debian package)"
        export DEBIAN_FRONTEND=noninteractive
        apt-get install -y -q alembic python3-psycopg2 >/dev/null 2>&1 ||
            { apt-get update -q >/dev/null 2>&1 && apt-get install -y -q alembic python3-psycopg2 >/dev/null 2>&1; } || true
    fi
    if command -v alembic >/dev/null; then
        ALEMBIC=$(command -v alembic)
        say "alembic: $ALEMBIC ($("$ALEMBIC" --version 2>/dev/null | head -1))"
    else
        say "bench: note: alembic is not available (apt-get install alembic): its measurements are skipped"
    fi
}

# ------------------------------------------------------------------ SQLite

sqlite_count() { sqlite3 "$1" "$2"; }
rmdb() { rm -f "$1" "$1-journal" "$1-wal" "$1-shm"; }

# copy_with_peer_tables SRC DST N: a copy of strata's database SRC (all N
# applied) that dbmate and Alembic also read as fully applied: the same
# schema, so a no-op run of each reads the same file
copy_with_peer_tables() {
    cp "$1" "$2"
    sqlite3 "$2" "CREATE TABLE schema_migrations (version varchar(128) PRIMARY KEY);
INSERT INTO schema_migrations SELECT version FROM strata_migrations;
CREATE TABLE alembic_version (version_num varchar(32) NOT NULL PRIMARY KEY);
INSERT INTO alembic_version VALUES ('r' || printf('%05d', $3));"
}

bench_sqlite() {
    local h=$WORK/h$N db=$WORK/sq.db i
    local -a s_up=() f_up=() d_up=() a_up=() s_one=() f_one=()
    local nk=4
    say "== SQLite $(sqlite3 --version | cut -d' ' -f1): apply $N migrations, $REPS_APPLY runs each"
    for ((i = 1; i <= REPS_APPLY; i++)); do
        # rotate the order so no side always runs first
        local k
        for ((k = 0; k < nk; k++)); do
            rmdb "$db"
            case $(((k + i - 1) % nk)) in
            0)
                timed "$STRATA" -q --url "sqlite:///$db" --dir "$h/m" up
                s_up+=("$ELAPSED_US")
                if ((i == 1)); then
                    local t r
                    t=$(sqlite_count "$db" "select count(*) from sqlite_master where type='index' and name like 't\_%' escape '\\'")
                    r=$(sqlite_count "$db" "select count(*) from strata_migrations")
                    [ "$t" = $((N / 2)) ] && [ "$r" = "$N" ] ||
                        die "strata up made $t indexes and $r version rows, expected $((N / 2)) and $N"
                fi
                ;;
            1)
                # the same durability as strata: see docs/RELIABILITY.md
                timed env STRATA_FLOOR_SYNC=NORMAL STRATA_FLOOR_LOCKING=EXCLUSIVE STRATA_FLOOR_LOCKING_AFTER=16 "$FLOOR" apply "$db" "$h/floor.sql"
                f_up+=("$ELAPSED_US")
                ;;
            2)
                [ -n "$DBMATE" ] || continue
                timed "$DBMATE" --url "sqlite:$db" --migrations-dir "$h/d" --no-dump-schema up
                d_up+=("$ELAPSED_US")
                ((i > 1)) || [ "$(sqlite_count "$db" "select count(*) from schema_migrations")" = "$N" ] ||
                    die "dbmate did not apply $N migrations"
                ;;
            3)
                [ -n "$ALEMBIC" ] || continue
                timed "$ALEMBIC" -c "$h/a/alembic.ini" -x "url=sqlite:///$db" upgrade head
                a_up+=("$ELAPSED_US")
                ((i > 1)) || [ "$(sqlite_count "$db" "select count(*) from sqlite_master where type='index'")" -ge $((N / 2)) ] ||
                    die "alembic did not apply $N migrations"
                ;;
            esac
        done
        # everything in one transaction
        rmdb "$db"
        timed "$STRATA" -q --url "sqlite:///$db" --dir "$h/m" up --single-transaction
        s_one+=("$ELAPSED_US")
        rmdb "$db"
        timed env STRATA_FLOOR_SYNC=NORMAL STRATA_FLOOR_LOCKING=EXCLUSIVE STRATA_FLOOR_LOCKING_AFTER=16 "$FLOOR" apply "$db" "$h/floor.sql" one
        f_one+=("$ELAPSED_US")
        say "   run $i: strata $(ms "${s_up[-1]}") ms, floor $(ms "${f_up[-1]}") ms$(
            [ ${#d_up[@]} -eq 0 ] || printf ', dbmate %s ms' "$(ms "${d_up[-1]}")")$(
            [ ${#a_up[@]} -eq 0 ] || printf ', alembic %s ms' "$(ms "${a_up[-1]}")");" \
            "single transaction: strata $(ms "${s_one[-1]}") ms, floor $(ms "${f_one[-1]}") ms"
    done
    row "sqlite: up, $N migrations, empty db" s_up "C loop: BEGIN IMMEDIATE..COMMIT per migration" f_up 105 90 \
        dbmate d_up alembic a_up
    row "sqlite: up --single-transaction, $N" s_one "C loop in one transaction" f_one 110 ""

    say "== SQLite: no-op up ($N and $N_BIG applied), $REPS_NOOP runs each"
    local big=$WORK/sq_big.db pdb=$WORK/sq_peer.db pbig=$WORK/sq_peer_big.db hb=$WORK/h$N_BIG
    rmdb "$db"
    rmdb "$big"
    "$STRATA" -q --url "sqlite:///$db" --dir "$h/m" up --single-transaction >/dev/null
    "$STRATA" -q --url "sqlite:///$big" --dir "$hb/m" up --single-transaction >/dev/null
    [ "$(sqlite_count "$big" "select count(*) from strata_migrations")" = "$N_BIG" ] ||
        die "setup of the $N_BIG-migration database failed"
    copy_with_peer_tables "$db" "$pdb" "$N"
    copy_with_peer_tables "$big" "$pbig" "$N_BIG"
    local -a s_noop=() f_noop=() d_noop=() a_noop=() s_big=() f_big=() d_big=() g_noop=()
    # warm the page cache once
    "$STRATA" -q --url "sqlite:///$db" --dir "$h/m" up >/dev/null
    "$STRATA" -q --url "sqlite:///$big" --dir "$hb/m" up >/dev/null
    nk=8
    for ((i = 1; i <= REPS_NOOP; i++)); do
        local k
        # a new random order each round: a run after a heavy one (a Go or Python
        # process exiting) is slower, and no side may always take that place
        for k in $(shuf -i 0-$((nk - 1))); do
            case $k in
            0)
                timed "$STRATA" -q --url "sqlite:///$db" --dir "$h/m" up
                s_noop+=("$ELAPSED_US")
                ;;
            1)
                timed "$FLOOR" noop "$db"
                f_noop+=("$ELAPSED_US")
                ;;
            2)
                [ -n "$DBMATE" ] || continue
                timed "$DBMATE" --url "sqlite:$pdb" --migrations-dir "$h/d" --no-dump-schema up
                d_noop+=("$ELAPSED_US")
                ;;
            3)
                [ -n "$ALEMBIC" ] && ((i <= REPS_NOOP_SLOW)) || continue
                timed "$ALEMBIC" -c "$h/a/alembic.ini" -x "url=sqlite:///$pdb" upgrade head
                a_noop+=("$ELAPSED_US")
                ;;
            4)
                timed "$STRATA" -q --url "sqlite:///$big" --dir "$hb/m" up
                s_big+=("$ELAPSED_US")
                ;;
            5)
                timed "$FLOOR" noop "$big"
                f_big+=("$ELAPSED_US")
                ;;
            6)
                # Alembic is left out here: it imports every revision module
                # (seconds for 5,000), which says little more than the row above
                [ -n "$DBMATE" ] || continue
                timed "$DBMATE" --url "sqlite:$pbig" --migrations-dir "$hb/d" --no-dump-schema up
                d_big+=("$ELAPSED_US")
                ;;
            7)
                # the floor with SQLite's memory statistics off, as the strata
                # CLI runs SQLite (strata_global_init): shown beside the target
                timed "$FLOOR" noop "$db" nostats
                g_noop+=("$ELAPSED_US")
                ;;
            esac
        done
    done
    say "   medians: strata $(ms "$(median "${s_noop[@]}")") ms, floor $(ms "$(median "${f_noop[@]}")") ms;" \
        "with $N_BIG: strata $(ms "$(median "${s_big[@]}")") ms, floor $(ms "$(median "${f_big[@]}")") ms"
    row "sqlite: no-op up, $N applied" s_noop "open + read the version table (C)" f_noop 120 "" \
        dbmate d_noop alembic a_noop
    row "sqlite: no-op up, $N_BIG applied" s_big "open + read the version table (C)" f_big 120 "" \
        dbmate d_big
    row "sqlite: no-op up, $N applied (floor as strata sets SQLite)" s_noop \
        "the same, SQLite's memory statistics off" g_noop "" ""
    rmdb "$db"
    rmdb "$big"
    rmdb "$pdb"
    rmdb "$pbig"
}

# strata import --from alembic (issue 12): the whole import of a history,
# next to one `alembic upgrade base:head --sql` of the whole history
# (Alembic's own start-up and script loading, the floor of anything that
# asks Alembic; strata also asks for each revision's downgrade)
bench_import_alembic() {
    [ "$IMPORT_N" -gt 0 ] || return 0
    if [ -z "$ALEMBIC" ]; then
        say "bench: note: alembic missing: the import --from alembic row is skipped"
        return 0
    fi
    local h=$WORK/imp reps=${BENCH_REPS_IMPORT:-3} i
    local -a s_imp=() a_sql=()
    say "== strata import --from alembic: $IMPORT_N revisions, $reps run(s)"
    gen_history "$IMPORT_N" "$h"
    for ((i = 1; i <= reps; i++)); do
        rm -rf "$WORK/imported"
        timed "$STRATA" --dir "$WORK/imported" import --from alembic "$h/a" --dialect sqlite
        s_imp+=("$ELAPSED_US")
        [ "$(ls "$WORK/imported" | wc -l)" = "$IMPORT_N" ] || die "import --from alembic wrote $(ls "$WORK/imported" | wc -l) files"
        timed "$ALEMBIC" -c "$h/a/alembic.ini" -x "url=sqlite://" upgrade base:head --sql
        a_sql+=("$ELAPSED_US")
    done
    say "   strata $(ms "$(median "${s_imp[@]}")") ms for $IMPORT_N revisions; alembic --sql of all $IMPORT_N: $(ms "$(median "${a_sql[@]}")") ms"
    row "import --from alembic, $IMPORT_N revisions" s_imp "alembic upgrade base:head --sql, whole history" a_sql "" ""
}

# --------------------------------------------------------------- PostgreSQL


bench_pg() {
    local i dbn=0 h=$WORK/h$N
    local -a s_up=() f_up=() d_up=() a_up=()
    local ver nk=4
    ver=$(psql -XAtqc 'show server_version')
    if [ -n "$ALEMBIC" ] && ! /usr/bin/python3 -c 'import psycopg2' 2>/dev/null; then
        say "bench: note: python3-psycopg2 missing: Alembic is skipped on PostgreSQL"
        ALEMBIC=""
    fi
    say "== PostgreSQL $ver (pg_virtualenv, fsync=$(psql -XAtqc 'show fsync')): apply $N migrations, $REPS_APPLY runs each"
    newdb() {
        dbn=$((dbn + 1))
        DB=strata_bench_$dbn
        dropdb --if-exists "$DB" >/dev/null 2>&1 || true
        createdb "$DB"
    }
    for ((i = 1; i <= REPS_APPLY; i++)); do
        local k
        for ((k = 0; k < nk; k++)); do
            case $(((k + i - 1) % nk)) in
            0)
                newdb
                timed "$STRATA" -q --url "$(pg_url "$DB")" --dir "$h/m" up
                s_up+=("$ELAPSED_US")
                if ((i == 1)); then
                    local r
                    r=$(psql -XAtq -d "$DB" -c "select (select count(*) from pg_indexes where schemaname='public' and indexname like 't\_%created_at')::text || ' ' || (select count(*) from strata_migrations)::text")
                    [ "$r" = "$((N / 2)) $N" ] || die "strata up on PostgreSQL gave '$r' (indexes, version rows), expected '$((N / 2)) $N'"
                fi
                ;;
            1)
                newdb
                timed psql -X -q -v ON_ERROR_STOP=1 -d "$DB" -f "$h/pertx.sql"
                f_up+=("$ELAPSED_US")
                ;;
            2)
                [ -n "$DBMATE" ] || continue
                newdb
                timed "$DBMATE" --url "$(pg_url "$DB")?sslmode=disable" --migrations-dir "$h/d" --no-dump-schema up
                d_up+=("$ELAPSED_US")
                ;;
            3)
                [ -n "$ALEMBIC" ] || continue
                newdb
                timed "$ALEMBIC" -c "$h/a/alembic.ini" -x "url=$(pg_url "$DB")" upgrade head
                a_up+=("$ELAPSED_US")
                ;;
            esac
            dropdb "$DB"
        done
        say "   run $i: strata $(ms "${s_up[-1]}") ms, psql floor $(ms "${f_up[-1]}") ms$(
            [ ${#d_up[@]} -eq 0 ] || printf ', dbmate %s ms' "$(ms "${d_up[-1]}")")$(
            [ ${#a_up[@]} -eq 0 ] || printf ', alembic %s ms' "$(ms "${a_up[-1]}")")"
    done
    row "postgres: up, $N migrations, empty db" s_up "psql: BEGIN..version row..COMMIT per migration" f_up "" 90 \
        dbmate d_up alembic a_up

    say "== PostgreSQL: no-op up ($N applied), $REPS_NOOP runs each"
    newdb
    "$STRATA" -q --url "$(pg_url "$DB")" --dir "$h/m" up --single-transaction >/dev/null
    psql -X -q -d "$DB" -c "CREATE TABLE schema_migrations (version varchar(128) PRIMARY KEY);
INSERT INTO schema_migrations SELECT version FROM strata_migrations;
CREATE TABLE alembic_version (version_num varchar(32) NOT NULL PRIMARY KEY);
INSERT INTO alembic_version VALUES ('r' || lpad('$N', 5, '0'));" >/dev/null
    "$STRATA" -q --url "$(pg_url "$DB")" --dir "$h/m" up >/dev/null
    local -a s_noop=() f_noop=() d_noop=() a_noop=()
    for ((i = 1; i <= REPS_NOOP; i++)); do
        local k
        # a new random order each round: a run after a heavy one (a Go or Python
        # process exiting) is slower, and no side may always take that place
        for k in $(shuf -i 0-$((nk - 1))); do
            case $k in
            0)
                timed "$STRATA" -q --url "$(pg_url "$DB")" --dir "$h/m" up
                s_noop+=("$ELAPSED_US")
                ;;
            1)
                timed psql -X -d "$DB" -c 'select 1'
                f_noop+=("$ELAPSED_US")
                ;;
            2)
                [ -n "$DBMATE" ] || continue
                timed "$DBMATE" --url "$(pg_url "$DB")?sslmode=disable" --migrations-dir "$h/d" --no-dump-schema up
                d_noop+=("$ELAPSED_US")
                ;;
            3)
                [ -n "$ALEMBIC" ] && ((i <= REPS_NOOP_SLOW)) || continue
                timed "$ALEMBIC" -c "$h/a/alembic.ini" -x "url=$(pg_url "$DB")" upgrade head
                a_noop+=("$ELAPSED_US")
                ;;
            esac
        done
    done
    dropdb "$DB"
    row "postgres: no-op up, $N applied" s_noop "psql -c 'select 1' (connection)" f_noop "" "" \
        dbmate d_noop alembic a_noop
}

# ------------------------------------------------------------------ report

report() {
    local name su fl fu rf bl bu rb tl ok others fails=0
    echo
    echo "strata benchmark, $(date -u '+%Y-%m-%d %H:%M UTC'), $(nproc) cores, load average at the end:$(
        cut -d' ' -f1-3 /proc/loadavg 2>/dev/null | sed 's/^/ /')"
    echo "history: $N migrations alternating CREATE TABLE and ALTER TABLE ADD COLUMN + CREATE INDEX;"
    echo "medians of $REPS_APPLY (apply) / $REPS_NOOP (no-op; Alembic $REPS_NOOP_SLOW) interleaved runs; a ratio is the median of"
    echo "per-run ratios strata/x (each strata run paired with the run of x in the same round); < 1 = strata faster"
    echo "timer: $TIMER_NAME, overhead ${TIMER_US} us per measurement (subtracted)"
    echo
    while IFS=$'\t' read -r name su fl fu rf bl bu rb tl ok others; do
        printf '%s\n' "$name"
        printf '    strata %s ms | floor %s ms (%s): x%s | best peer: %s | %s%s\n' "$(ms "$su")" \
            "$([ "$fu" = - ] && echo - || ms "$fu")" "$fl" "$([ "$rf" = - ] && echo - || fmt100 "$rf")" \
            "$([ "$bl" = - ] && echo "none measured" || printf '%s %s ms: x%s' "$bl" "$(ms "$bu")" "$(fmt100 "$rb")")" \
            "$tl" "$(case $ok in yes) echo " met" ;; no) echo " MISSED" ;; esac)"
        [ "$others" = - ] || printf '    peers: %s\n' "$others"
        [ "$ok" != no ] || fails=$((fails + 1))
    done <"$RESULTS"
    echo
    echo "Markdown (for the README):"
    echo
    echo "| work | strata | floor | strata ÷ floor | best peer | strata ÷ best peer | target |"
    echo "|---|---:|---:|---:|---:|---:|---|"
    while IFS=$'\t' read -r name su fl fu rf bl bu rb tl ok others; do
        local mark=""
        case $ok in yes) mark=" ✓" ;; no) mark=" ✗" ;; esac
        echo "| $name | $(ms "$su") ms | $([ "$fu" = - ] && echo - || echo "$(ms "$fu") ms ($fl)") |" \
            "$([ "$rf" = - ] && echo - || fmt100 "$rf") |" \
            "$([ "$bl" = - ] && echo - || echo "$bl $(ms "$bu") ms") | $([ "$rb" = - ] && echo - || fmt100 "$rb") | $tl$mark |"
    done <"$RESULTS"
    echo
    verdict "$fails"
}

# -------------------------------------------------------------------- main

if [ "${BENCH_PHASE:-}" = pg ]; then
    # inside pg_virtualenv: the PostgreSQL part only
    WORK=${BENCH_WORK:?}
    RESULTS=$WORK/results.pg
    TIMER_US=${BENCH_TIMER_US:-0}
    DBMATE=${BENCH_DBMATE:-}
    ALEMBIC=${BENCH_ALEMBIC:-}
    bench_pg
    exit 0
fi

[ -x "$STRATA" ] || die "no strata binary at $STRATA (run make, or set STRATA)"
STRATA=$(cd "$(dirname "$STRATA")" && pwd)/$(basename "$STRATA")
[ -x "$FLOOR" ] || die "no floor program at $FLOOR (make bench builds it from bench/sqlite_floor.c)"
command -v sqlite3 >/dev/null || die "sqlite3 not found"

WORK=$(mktemp -d "${TMPDIR:-/tmp}/strata-bench.XXXXXX")
trap 'rm -rf "$WORK"' EXIT
trap 'exit 130' INT TERM
RESULTS=$WORK/results
: >"$RESULTS"

say "strata: $STRATA ($("$STRATA" --version 2>/dev/null || echo '?'))"
find_peers
say "generating $N and $N_BIG migrations in $WORK"
gen_history "$N" "$WORK/h$N"
gen_history "$N_BIG" "$WORK/h$N_BIG"
calibrate_timer
say "timer: $TIMER_NAME, overhead of two reads: ${TIMER_US} us"

bench_sqlite
bench_import_alembic

if [ "${BENCH_PG:-1}" != 0 ]; then
    if command -v pg_virtualenv >/dev/null && command -v psql >/dev/null; then
        if BENCH_PHASE=pg BENCH_WORK="$WORK" BENCH_TIMER_US="$TIMER_US" STRATA="$STRATA" \
            BENCH_DBMATE="$DBMATE" BENCH_ALEMBIC="$ALEMBIC" pg_virtualenv -t -v 15 "$here/$(basename "$0")"; then
            cat "$WORK/results.pg" >>"$RESULTS"
        else
            say "bench: the PostgreSQL part failed; its results are left out"
            [ ! -s "$WORK/results.pg" ] || cat "$WORK/results.pg" >>"$RESULTS"
            PG_FAILED=1
        fi
    else
        say "bench: note: pg_virtualenv or psql not found; PostgreSQL skipped"
    fi
fi

report
[ -z "${PG_FAILED:-}" ] || exit 1
