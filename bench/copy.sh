#!/usr/bin/env bash
# bench/copy.sh -- strata copy (SQLite -> PostgreSQL) against baselines
# measured in the same run, interleaved.
#
#   bench/copy.sh                 generates a point-of-sale SQLite database, then
#                                 runs the comparison inside a throwaway
#                                 PostgreSQL 15 (pg_virtualenv)
#   STRATA=/path/to/strata        the binary (default: bench/../build/strata)
#   BENCH_COPY_ITEMS=1000000      order_items rows; customers = 5%, orders and
#                                 payments = 25%, products = 0.5% of it
#   BENCH_COPY_REPS=5             repetitions of each measurement (runs on a
#                                 shared VM spread by 15%: five for a steadier median)
#   BENCH_PGLOADER=0              skip pgloader
#   BENCH_INSTALL=0               do not install pgloader when it is missing
#   BENCH_STRICT=1                exit 1 when a target is missed
#   BENCH_COPY_BASE=/path/strata  also time this (baseline) binary, interleaved
#                                 with the others, and print new / baseline
#
# What is measured, each on a fresh database:
#   strata     strata copy sqlite:///pos.db URL -- everything: reading SQLite,
#              checking every value, binary COPY, verification read-back,
#              primary keys, indexes, foreign keys, sequences
#   \copy      the physical reference: psql \copy of CSV files exported from
#              the same database beforehand, into bare tables (no keys or
#              indexes) -- the load alone
#   pgloader   pgloader with a command file: the same SQLite file into the
#              same kind of database, with the one CAST its user needs here
#              (payments.paid_at holds Unix-epoch integers; pgloader's
#              default reads them as years and loses that table) -- so it
#              loads every row (Debian package; installed here when missing
#              and we are root)
# Targets (issue 14): the whole move at most 1.5x the \copy reference (the
# load alone), at least 6x faster than pgloader; strata's peak RSS under
# 64 MiB. The rows phase against \copy is shown for information.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
STRATA=${STRATA:-$here/../build/strata}
ITEMS=${BENCH_COPY_ITEMS:-1000000}
REPS=${BENCH_COPY_REPS:-5}
. "$here/lib.sh" # say, die, clock, median

[ -x "$STRATA" ] || die "no strata binary at $STRATA (run make)"

if [ -z "${BENCH_COPY_INSIDE:-}" ]; then
    if [ "${BENCH_PGLOADER:-1}" != 0 ] && ! command -v pgloader >/dev/null; then
        if [ "${BENCH_INSTALL:-1}" = 0 ]; then
            say "bench: note: pgloader is not installed and BENCH_INSTALL=0; its comparison is skipped"
        elif [ "$(id -u)" = 0 ]; then
            say "== installing pgloader (Debian package)"
            DEBIAN_FRONTEND=noninteractive apt-get install -y -q pgloader >/dev/null 2>&1 ||
                { apt-get update -q >/dev/null 2>&1 && DEBIAN_FRONTEND=noninteractive apt-get install -y -q pgloader >/dev/null 2>&1; } ||
                say "bench: cannot install pgloader; its comparison is skipped"
        else
            say "bench: pgloader is not installed (apt-get install pgloader); its comparison is skipped"
        fi
    fi
    export BENCH_COPY_INSIDE=1 STRATA
    if [ -n "${PGPORT:-}" ] && pg_isready -q 2>/dev/null; then
        exec "$0" "$@"
    fi
    exec pg_virtualenv -t -v 15 "$0" "$@"
fi

WORK=$(mktemp -d /tmp/strata-bench-copy.XXXXXX)
DBS=()
cleanup() {
    for d in "${DBS[@]}"; do dropdb --if-exists --force "$d" 2>/dev/null || true; done
    rm -rf "$WORK"
}
trap cleanup EXIT
BASE="postgresql://$PGUSER:$PGPASSWORD@${PGHOST:-localhost}:$PGPORT"

fresh_db() { # fresh_db NAME: an empty database, and a server at rest (not timed)
    dropdb --if-exists --force "$1" 2>/dev/null || true
    createdb "$1"
    DBS+=("$1")
    # every run starts alike: no dirty buffers or WAL of the run before to
    # flush, no autovacuum busy with an earlier run's tables (done_db)
    psql -X -q -d "$1" -c CHECKPOINT >/dev/null 2>&1 || true
}
done_db() { dropdb --if-exists --force "$1" 2>/dev/null || true; } # after a run (not timed)
secs() { awk -v u="$1" 'BEGIN {printf "%.2f", u / 1e6}'; }
# the whole machine's busy CPU time so far, in microseconds (/proc/stat:
# user, nice, system, irq, softirq; not idle, iowait or the hypervisor's
# steal): what a run used of all cores, strata's and the server's together
TICK=$(getconf CLK_TCK 2>/dev/null || echo 100)
busy_us() { awk -v hz="$TICK" '/^cpu / {printf "%.0f", ($2 + $3 + $4 + $7 + $8) * 1e6 / hz; exit}' /proc/stat; }

# ------------------------------------------------------------ the data
DB=$WORK/pos.db
C=$((ITEMS / 20)); P=$((ITEMS / 200)); O=$((ITEMS / 4))
[ "$P" -ge 1 ] || P=1
say "== generating the point-of-sale database: $C customers, $P products, $O orders, $ITEMS order_items, $O payments"
clock; t0=$NOW
sqlite3 "$DB" >/dev/null <<SQL
PRAGMA journal_mode = OFF; PRAGMA synchronous = OFF;
CREATE TABLE customers (id INTEGER PRIMARY KEY AUTOINCREMENT, first_name TEXT NOT NULL, last_name TEXT NOT NULL,
  email VARCHAR(120) UNIQUE, phone TEXT, loyalty_points INTEGER NOT NULL DEFAULT 0,
  is_active BOOLEAN NOT NULL DEFAULT 1, created_at DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP);
CREATE TABLE products (id INTEGER PRIMARY KEY AUTOINCREMENT, sku TEXT NOT NULL UNIQUE, name TEXT NOT NULL,
  unit_price NUMERIC(12,2) NOT NULL CHECK (unit_price >= 0), tax_rate NUMERIC(5,4) NOT NULL DEFAULT 0,
  attributes JSON, is_active BOOLEAN NOT NULL DEFAULT 1, created_at DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP);
CREATE TABLE orders (id INTEGER PRIMARY KEY AUTOINCREMENT, receipt_number TEXT NOT NULL UNIQUE,
  customer_id INTEGER REFERENCES customers (id), status TEXT NOT NULL DEFAULT 'completed',
  subtotal NUMERIC(12,2) NOT NULL, tax_total NUMERIC(12,2) NOT NULL, total NUMERIC(12,2) NOT NULL,
  created_at DATETIME NOT NULL);
CREATE TABLE order_items (id INTEGER PRIMARY KEY AUTOINCREMENT, order_id INTEGER NOT NULL REFERENCES orders (id),
  product_id INTEGER NOT NULL REFERENCES products (id), quantity INTEGER NOT NULL CHECK (quantity > 0),
  unit_price NUMERIC(12,2) NOT NULL, discount REAL NOT NULL DEFAULT 0, line_total NUMERIC(12,2) NOT NULL);
CREATE TABLE payments (id INTEGER PRIMARY KEY AUTOINCREMENT, order_id INTEGER NOT NULL REFERENCES orders (id),
  method TEXT NOT NULL, amount NUMERIC(12,2) NOT NULL, paid_at DATETIME NOT NULL, approved BOOLEAN NOT NULL);
CREATE INDEX ix_orders_customer ON orders (customer_id);
CREATE INDEX ix_orders_created ON orders (created_at);
CREATE INDEX ix_items_order ON order_items (order_id);
CREATE INDEX ix_items_product ON order_items (product_id);
CREATE INDEX ix_payments_order ON payments (order_id);
WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < $C)
INSERT INTO customers (first_name, last_name, email, phone, loyalty_points, is_active, created_at)
SELECT 'First' || x, 'Last' || (x % 997), 'customer' || x || '@example.com', '+1-555-' || printf('%07d', x),
  abs(random() % 5000), x % 13 <> 0, datetime(1600000000 + x * 600, 'unixepoch') FROM c;
WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < $P)
INSERT INTO products (sku, name, unit_price, tax_rate, attributes, is_active, created_at)
SELECT 'SKU-' || printf('%06d', x), 'Product ' || x, round(0.5 + (x % 400) * 1.25, 2), 0.0825,
  '{"color": "c' || (x % 12) || '", "size": ' || (x % 5) || '}', 1, datetime(1590000000 + x * 3600, 'unixepoch') FROM c;
WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < $O)
INSERT INTO orders (receipt_number, customer_id, status, subtotal, tax_total, total, created_at)
SELECT 'R' || printf('%09d', x), CASE WHEN x % 7 = 0 THEN NULL ELSE 1 + x % $C END, 'completed',
  round((x % 1000) * 0.37 + 1, 2), round(((x % 1000) * 0.37 + 1) * 0.0825, 2),
  round(((x % 1000) * 0.37 + 1) * 1.0825, 2), strftime('%Y-%m-%dT%H:%M:%fZ', 1640000000 + x * 120, 'unixepoch') FROM c;
WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < $ITEMS)
INSERT INTO order_items (order_id, product_id, quantity, unit_price, discount, line_total)
SELECT 1 + (x - 1) % $O, 1 + (x * 7919) % $P, 1 + x % 5, round(0.5 + (x % 400) * 1.25, 2),
  CASE WHEN x % 10 = 0 THEN 0.1 ELSE 0 END, round((1 + x % 5) * (0.5 + (x % 400) * 1.25), 2) FROM c;
-- payment times as Unix epoch integers, as many SQLite apps store them
WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < $O)
INSERT INTO payments (order_id, method, amount, paid_at, approved)
SELECT x, CASE x % 3 WHEN 0 THEN 'cash' WHEN 1 THEN 'card' ELSE 'voucher' END,
  round(((x % 1000) * 0.37 + 1) * 1.0825, 2), 1640000000 + x * 120 + 30, x % 50 <> 0 FROM c;
SQL
clock
TABLES=(customers products orders order_items payments)
TOTAL=0
for t in "${TABLES[@]}"; do TOTAL=$((TOTAL + $(sqlite3 "$DB" "SELECT count(*) FROM $t"))); done
say "   $TOTAL rows, $(($(stat -c %s "$DB") / 1048576)) MiB, generated in $(secs $((NOW - t0))) s"

# ------------------------------------------- the \copy reference, prepared
say "== exporting CSV for the \\copy reference (not timed)"
fresh_db bench_tpl
"$STRATA" copy --schema-only -q "sqlite:///$DB" "$BASE/bench_tpl" >/dev/null 2>&1 || die "strata copy --schema-only failed"
# the bare tables: no keys, indexes or foreign keys (pre-data section)
pg_dump --schema-only --section=pre-data -d bench_tpl -T strata_copy_state >"$WORK/bare.sql"
: >"$WORK/load.psql"
for t in "${TABLES[@]}"; do
    cols=$(sqlite3 "$DB" "SELECT group_concat(name, ',') FROM pragma_table_info('$t')")
    sqlite3 -csv "$DB" "SELECT $cols FROM $t" >"$WORK/$t.csv"
    printf '\\copy %s (%s) FROM %s WITH (FORMAT csv)\n' "$t" "$cols" "$WORK/$t.csv" >>"$WORK/load.psql"
done
# the payments CSV holds epoch integers: the reference loads them into a
# bigint column (a straight \copy cannot convert them; strata does)
sed -i 's/paid_at timestamp without time zone/paid_at bigint/' "$WORK/bare.sql"
say "   CSV: $(du -cm "$WORK"/*.csv | tail -1 | cut -f1) MiB"

HAVE_PGLOADER=0
if [ "${BENCH_PGLOADER:-1}" != 0 ] && command -v pgloader >/dev/null; then HAVE_PGLOADER=1; fi
# pgloader's defaults for a SQLite source (tables, indexes, keys, sequences),
# plus the cast its user needs for the epoch integers of payments.paid_at
cat >"$WORK/p.load" <<LOAD
LOAD DATABASE
  FROM sqlite://$DB
  INTO pgsql://$PGUSER:$PGPASSWORD@${PGHOST:-localhost}:$PGPORT/bench_p
  CAST column payments.paid_at to timestamptz using unix-timestamp-to-timestamptz;
LOAD

BASE_BIN=${BENCH_COPY_BASE:-}
s_t=() l_t=() r_t=() p_t=() b_t=() p_rows="" s_cpu=() r_cpu=()

# strata's peak RSS, and its row count, from one untimed run first (also
# the warm-up): the timed runs start strata itself, not a wrapper -- a
# python3 that imports subprocess to read the peak RSS costs 80 ms here,
# which would be timed as strata's
say "== one untimed strata copy: peak RSS and row count"
fresh_db bench_s
maxrss=$(python3 -c 'import resource, subprocess, sys
r = subprocess.run(sys.argv[2:], stdout=subprocess.DEVNULL, stderr=open(sys.argv[1], "w"))
print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss // 1024)
sys.exit(r.returncode)' "$WORK/s.err" "$STRATA" copy -q "sqlite:///$DB" "$BASE/bench_s") ||
    { cat "$WORK/s.err" >&2; die "strata copy failed"; }
got=0
for t in "${TABLES[@]}"; do got=$((got + $(psql -X -A -t -d bench_s -c "SELECT count(*) FROM $t"))); done
[ "$got" = "$TOTAL" ] || die "strata copied $got rows, expected $TOTAL"
done_db bench_s
say "   $got rows, peak RSS $maxrss MiB"
# the reference runs psql's own binary: Debian's /usr/bin/psql is a Perl
# wrapper that picks the cluster's version first (15 ms here), not part of
# the load
PSQL_BIN=/usr/lib/postgresql/${PGVERSION:-15}/bin/psql
[ -x "$PSQL_BIN" ] || PSQL_BIN=psql
for ((i = 1; i <= REPS; i++)); do
    for k in 0 1 2 3; do
        case $(((k + i) % 4)) in
        0)
            fresh_db bench_s
            c0=$(busy_us)
            clock; t0=$NOW
            "$STRATA" copy --json "sqlite:///$DB" "$BASE/bench_s" >"$WORK/s.json" 2>"$WORK/s.err" ||
                { cat "$WORK/s.err" >&2; die "strata copy failed"; }
            clock
            s_t+=($((NOW - t0)))
            s_cpu+=($(($(busy_us) - c0)))
            l_t+=("$(python3 -c 'import json, sys; print(int(json.load(open(sys.argv[1]))["load_seconds"] * 1e6))' "$WORK/s.json")")
            done_db bench_s
            ;;
        1)
            fresh_db bench_r
            psql -X -q -d bench_r -f "$WORK/bare.sql" >/dev/null
            c0=$(busy_us)
            clock; t0=$NOW
            "$PSQL_BIN" -X -q -v ON_ERROR_STOP=1 -d bench_r -f "$WORK/load.psql" >/dev/null 2>"$WORK/r.err" ||
                { cat "$WORK/r.err" >&2; die "\\copy reference failed"; }
            clock
            r_t+=($((NOW - t0)))
            r_cpu+=($(($(busy_us) - c0)))
            done_db bench_r
            ;;
        2)
            [ "$HAVE_PGLOADER" = 1 ] || continue
            fresh_db bench_p
            clock; t0=$NOW
            pgloader "$WORK/p.load" >"$WORK/p.log" 2>&1 || true
            clock
            p_t+=($((NOW - t0)))
            got=0
            for t in "${TABLES[@]}"; do got=$((got + $(psql -X -A -t -d bench_p -c "SELECT count(*) FROM $t" 2>/dev/null || echo 0))); done
            p_rows=$got
            done_db bench_p
            ;;
        3)
            [ -n "$BASE_BIN" ] || continue
            fresh_db bench_b
            clock; t0=$NOW
            "$BASE_BIN" copy -q "sqlite:///$DB" "$BASE/bench_b" >/dev/null 2>"$WORK/b.err" ||
                { cat "$WORK/b.err" >&2; die "baseline strata copy failed"; }
            clock
            b_t+=($((NOW - t0)))
            done_db bench_b
            ;;
        esac
    done
    say "   run $i: strata $(secs "${s_t[-1]}") s (rows $(secs "${l_t[-1]}") s), \\copy $(secs "${r_t[-1]}") s$(
        [ "$HAVE_PGLOADER" = 1 ] && printf ', pgloader %s s (%s of %s rows)' "$(secs "${p_t[-1]}")" "$p_rows" "$TOTAL")$(
        [ -n "$BASE_BIN" ] && printf ', baseline strata %s s' "$(secs "${b_t[-1]}")")"
done

sm=$(median "${s_t[@]}")
lm=$(median "${l_t[@]}")
rm_=$(median "${r_t[@]}")
rate=$(awk -v n="$TOTAL" -v u="$sm" 'BEGIN {printf "%d", n / (u / 1e6)}')
lrate=$(awk -v n="$TOTAL" -v u="$lm" 'BEGIN {printf "%d", n / (u / 1e6)}')
# ratios of medians of per-run pairs would need equal counts; medians of each side are used
# ratio = median of the per-run ratios: the runs of one repetition are
# measured next to each other, so a slow phase of a shared machine hits
# both sides of a pair
pratio() { # pratio NUMS DENS -> median of NUMS[i] / DENS[i]
    local -n a=$1 b=$2
    local i out=()
    for i in "${!a[@]}"; do out+=("$(awk -v x="${a[i]}" -v y="${b[i]}" 'BEGIN {printf "%d", x * 1000 / y}')"); done
    awk -v m="$(median "${out[@]}")" 'BEGIN {printf "%.2f", m / 1000}'
}
ref_ratio=$(pratio r_t l_t)
all_ratio=$(pratio r_t s_t)
ok=1
echo
echo "strata copy: $TOTAL rows (SQLite $(($(stat -c %s "$DB") / 1048576)) MiB), median of $REPS runs, $(nproc) cores;"
echo "ratios: median of per-run ratios (runs interleaved)"
printf '  %-46s %8s s  %10s rows/s\n' "strata copy, rows: read, check, COPY, verify" "$(secs "$lm")" "$lrate"
printf '  %-46s %8s s  %10s rows/s\n' "strata copy, all (+ keys, indexes, FKs)" "$(secs "$sm")" "$rate"
printf '  %-46s %8s s  %10s rows/s   rows = %sx, all = %sx\n' "psql \\copy of exported CSV (load alone)" \
    "$(secs "$rm_")" "$(awk -v n="$TOTAL" -v u="$rm_" 'BEGIN {printf "%d", n / (u / 1e6)}')" "$ref_ratio" "$all_ratio"
awk -v r="$(pratio s_t r_t)" 'BEGIN {exit !(r <= 1.5)}' || ok=0
if [ "$HAVE_PGLOADER" = 1 ]; then
    pm=$(median "${p_t[@]}")
    # rows/s against rows/s: pgloader may load fewer rows than it was given
    p_rate=$(awk -v n="$p_rows" -v u="$pm" 'BEGIN {printf "%d", n / (u / 1e6)}')
    p_tratio=$(pratio p_t s_t)
    p_ratio=$(awk -v t="$p_tratio" -v a="$TOTAL" -v b="$p_rows" 'BEGIN {printf "%.2f", (b > 0 ? t * a / b : 0)}')
    printf '  %-46s %8s s  %10s rows/s   strata all = %sx rows/s, %sx time (target >= 6.0)\n' \
        "pgloader $(pgloader --version 2>/dev/null | head -1 | awk '{print $3}' | tr -d '"')" \
        "$(secs "$pm")" "$p_rate" "$p_ratio" "$p_tratio"
    [ "$p_rows" = "$TOTAL" ] || echo "  pgloader loaded $p_rows of $TOTAL rows ($(grep -m1 -o 'ERROR.*' "$WORK/p.log" | cut -c1-120))"
    awk -v r="$p_tratio" 'BEGIN {exit !(r >= 6.0)}' || ok=0
fi
printf '  %-46s %8s MiB (target < 64)\n' "strata peak RSS" "$maxrss"
# what the machine's cores allow: the move's CPU time (strata and the
# server) spread over every core is a floor no scheduling goes below
scpu=$(median "${s_cpu[@]}")
rcpu=$(median "${r_cpu[@]}")
echo "  CPU time of the whole machine during a run (median): strata copy $(secs "$scpu") s, \\copy $(secs "$rcpu") s;"
echo "    spread over $(nproc) cores the move takes at least $(awk -v c="$scpu" -v n="$(nproc)" 'BEGIN {printf "%.2f", c / n / 1e6}') s," \
    "$(awk -v c="$scpu" -v n="$(nproc)" -v r="$rm_" 'BEGIN {printf "%.2f", c / n / r}')x the \\copy load alone"
# the same, as strata's ratios (strata's time / the other's; < 1 = strata faster)
echo
echo "strata copy, whole move: $(secs "$sm") s; ÷ floor (psql \\copy load alone, $(secs "$rm_") s) = $(pratio s_t r_t) (target <= 1.50)$(
    [ "$HAVE_PGLOADER" = 1 ] && printf '; ÷ best peer (pgloader, %s s) = %s (target <= 0.17, i.e. >= 6x)' "$(secs "$pm")" "$(pratio s_t p_t)")"
echo "strata copy, rows phase: $(secs "$lm") s; ÷ floor = $(pratio l_t r_t)"
[ -n "$BASE_BIN" ] && echo "strata copy, whole move ÷ baseline ($BASE_BIN, $(secs "$(median "${b_t[@]}")") s) = $(pratio s_t b_t); baseline ÷ floor = $(pratio b_t r_t)"
echo "| copy, whole move | $(secs "$sm") s, $maxrss MiB | $(secs "$rm_") s (psql \\copy, load only) | $(pratio s_t r_t) | $(
    [ "$HAVE_PGLOADER" = 1 ] && printf 'pgloader %s s | %s' "$(secs "$pm")" "$(pratio s_t p_t)" || printf -- '- | -') | floor <= 1.50, best peer <= 0.17 |"
echo "| copy, rows phase | $(secs "$lm") s | $(secs "$rm_") s | $(pratio l_t r_t) | - | - | (info) |"
[ "$maxrss" -lt 64 ] || ok=0
if [ "$ok" != 1 ]; then
    echo "  some targets were missed"
    [ "${BENCH_STRICT:-0}" = 1 ] && exit 1
fi
exit 0
