#!/usr/bin/env bash
# The copy kill loop: `strata copy` killed with SIGKILL at random moments,
# KILLS times, and its connection terminated from the server once; every
# rerun must end in an exact, verified copy (never doubled rows, never a
# half-loaded table reported as done). PostgreSQL only (copy's target).
. "$(dirname "$0")/lib.sh"
postgres_only
KILLS=${KILLS:-50}
SRC=$WORK/shop.sqlite3
sqlite3 "$SRC" <<'SQL'
CREATE TABLE customers (id INTEGER PRIMARY KEY AUTOINCREMENT, name TEXT NOT NULL, joined DATETIME);
CREATE TABLE products (id INTEGER PRIMARY KEY, sku TEXT UNIQUE, price REAL);
CREATE TABLE orders (id INTEGER PRIMARY KEY, customer_id INTEGER REFERENCES customers (id), placed DATETIME);
CREATE TABLE order_items (id INTEGER PRIMARY KEY, order_id INTEGER REFERENCES orders (id),
                          product_id INTEGER REFERENCES products (id), qty INTEGER, note TEXT);
CREATE INDEX order_items_order_idx ON order_items (order_id);
WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < 5000)
INSERT INTO customers (name, joined) SELECT 'customer ' || x, datetime(1700000000 + x * 60, 'unixepoch') FROM c;
WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < 2000)
INSERT INTO products SELECT x, 'SKU-' || x, x * 0.25 FROM c;
WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < 30000)
INSERT INTO orders SELECT x, 1 + x % 5000, datetime(1710000000 + x * 30, 'unixepoch') FROM c;
WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < 120000)
INSERT INTO order_items SELECT x, 1 + x % 30000, 1 + x % 2000, 1 + x % 7, 'line;' || x || char(9) || 'é' FROM c;
SQL
new_db
counts() {
    for t in customers products orders order_items; do
        printf '%s=%s ' "$t" "$(q "SELECT count(*) FROM $t" 2>/dev/null || echo none)"
    done
}
want="customers=5000 products=2000 orders=30000 order_items=120000 "
start=$(date +%s)
survived=0
for round in $(seq 1 "$KILLS"); do
    "$STRATA" --url "$URL" -q copy "sqlite:///$SRC" "$URL" >/dev/null 2>&1 &
    pid=$!
    sleep "0.$(printf '%03d' $((RANDOM % 900)))"
    kill -9 "$pid" 2>/dev/null
    wait "$pid" 2>/dev/null
    # each table is loaded in one transaction: absent, empty or complete
    for pair in $(counts); do
        t=${pair%%=*} n=${pair#*=}
        case "$want" in *"$t=$n "*) continue ;; esac
        [ "$n" = none ] || [ "$n" = 0 ] || fail "after kill $round: $t has $n rows (half-loaded or doubled)"
    done
    if [ $((round % 10)) = 0 ]; then
        st copy "sqlite:///$SRC" "$URL"
        expect_rc 0 "rerun after kill $round"
        eq "$(counts)" "$want" "exact copy after kill $round"
    fi
    survived=$((survived + 1))
    [ $(($(date +%s) - start)) -gt 300 ] && { fail "copy kill loop over 300 s at round $round"; break; }
done

# the connection terminated from the server in the middle of the load
dropdb --force "$DBNAME"
createdb "$DBNAME"
"$STRATA" --url "$URL" copy "sqlite:///$SRC" "$URL" --jobs 1 >"$WORK/t.out" 2>"$WORK/t.err" &
pid=$!
# watched from one server session every 5 ms, so a load that takes a
# fraction of a second on an idle machine is still caught while it runs (a
# psql per poll could miss it and terminate a copy that had already ended)
q "DO \$\$ DECLARE n int; BEGIN
     FOR i IN 1..2000 LOOP
       PERFORM pg_stat_clear_snapshot();
       SELECT count(*) INTO n FROM pg_stat_activity
        WHERE datname = current_database() AND state = 'active' AND query ILIKE 'COPY%';
       EXIT WHEN n > 0;
       PERFORM pg_sleep(0.005);
     END LOOP;
     PERFORM pg_terminate_backend(pid) FROM pg_stat_activity
      WHERE datname = current_database() AND pid <> pg_backend_pid();
   END \$\$" >/dev/null
wait "$pid"
RC=$?
ERR=$(cat "$WORK/t.err")
[ "$RC" = 0 ] && fail "a copy whose connection was terminated reported success"
[ "$RC" = 1 ] || [ "$RC" = 4 ] || fail "terminated copy: exit $RC, expected 1 or 4: $ERR"
eq "$(echo "$ERR" | grep -c '^strata: error:')" "1" "one clear error line: $ERR"
st copy "sqlite:///$SRC" "$URL"
expect_rc 0 "rerun after the terminated connection"
eq "$(counts)" "$want" "exact copy after the terminated connection"
st copy "sqlite:///$SRC" "$URL" --json
expect_rc 0 "rerun after success"
eq "$(counts)" "$want" "a rerun after success changes nothing"
echo "copy kill loop: $survived kills survived in $(($(date +%s) - start)) s"
finish
