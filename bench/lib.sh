# bench/lib.sh -- helpers shared by bench/run.sh, bench/copy.sh and
# bench/diff.sh (sourced; each script sets here= first).

say() { printf '%s\n' "$*" >&2; }
die() {
    say "bench: error: $*"
    exit 1
}

# clock: NOW = wall clock in microseconds. bash 5 has a clock without a
# fork; older bash falls back to date +%s%N (a fork + exec, milliseconds on
# slow VMs; run.sh measures that cost and subtracts it).
if [ -n "${EPOCHREALTIME:-}" ]; then
    TIMER_NAME="bash \$EPOCHREALTIME"
    clock() {
        local t=$EPOCHREALTIME
        NOW=$((10#${t/[.,]/}))
    }
else
    TIMER_NAME="date +%s%N"
    clock() { NOW=$(($(date +%s%N) / 1000)); }
fi

# verdict N: the closing line of a report for N missed targets; with
# BENCH_STRICT=1 a miss makes it fail (return 1)
verdict() {
    if (($1)); then
        echo "$1 target(s) missed."
        [ "${BENCH_STRICT:-0}" != 1 ] || return 1
    else
        echo "All targets met."
    fi
}

# pg_url DB: the URL of database DB on the server the PG* variables name
# (pg_virtualenv sets them)
pg_url() { echo "postgresql://${PGUSER:-postgres}${PGPASSWORD:+:$PGPASSWORD}@${PGHOST:-localhost}:${PGPORT:-5432}/$1"; }

# median of integers (the mean of the middle two, rounded down, for an even count)
median() { printf '%s\n' "$@" | sort -n | awk '{v[NR]=$1} END {print (NR % 2) ? v[(NR+1)/2] : int((v[NR/2]+v[NR/2+1])/2)}'; }
