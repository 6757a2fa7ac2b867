#!/usr/bin/env bash
# pgpool-II (Debian package pgpool2) in front, with its query cache on
# (memory_cache_enabled): the cache answered `up`'s read of the version
# table with what it had read before, blind to a migration a job applied
# over a direct connection meanwhile -- `up` through pgpool ran that
# migration a second time (a no-transaction INSERT twice; a CREATE INDEX
# CONCURRENTLY failed and its applied row became failed). Version-table
# reads now carry pgpool's /*NO QUERY CACHE*/.
# pgpool-II passes the server's process id on, so strata cannot tell it
# from a direct connection: docs/operations.md says to set
# STRATA_ASSUME_POOLER=1 behind it; 6 replicas at once through a pool of 2
# children hold with it.
. "$(dirname "$0")/lib.sh"
postgres_only
command -v pgpool >/dev/null || {
    fail "pgpool is not installed (apt-get install pgpool2; tools/deps.sh does)"
    finish
}

PP=$WORK/pgpool
mkdir -p "$PP/sock" "$PP/oid"
PPORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
PCPPORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
cat >"$PP/pgpool.conf" <<C
backend_clustering_mode = 'streaming_replication'
listen_addresses = '127.0.0.1'
port = $PPORT
pcp_listen_addresses = ''
pcp_port = $PCPPORT
socket_dir = '$PP/sock'
pcp_socket_dir = '$PP/sock'
wd_ipc_socket_dir = '$PP/sock'
pid_file_name = '$PP/pgpool.pid'
logdir = '$PP'
backend_hostname0 = '${PGHOST:-localhost}'
backend_port0 = $PGPORT
backend_flag0 = 'ALLOW_TO_FAILOVER'
pool_passwd = '$PP/pool_passwd'
sr_check_period = 0
health_check_period = 0
failover_on_backend_error = off
num_init_children = 2
memory_cache_enabled = on
memqcache_method = 'shmem'
memqcache_total_size = 16MB
memqcache_oiddir = '$PP/oid'
C
echo "$PGUSER:TEXT$PGPASSWORD" >"$PP/pool_passwd"
touch "$PP/pcp.conf" "$PP/pool_hba.conf"
pgpool -n -f "$PP/pgpool.conf" -F "$PP/pcp.conf" -a "$PP/pool_hba.conf" >"$PP/log" 2>&1 &
PPID_=$!
trap 'kill $PPID_ 2>/dev/null; wait $PPID_ 2>/dev/null; cleanup_dbs; rm -rf "$WORK"' EXIT
for _ in $(seq 50); do
    psql -X -h 127.0.0.1 -p "$PPORT" -d postgres -Atc 'SELECT 1' >/dev/null 2>&1 && break
    sleep 0.2
done

new_db
DIRECT=$URL
POOL="postgresql://$PGUSER:$PGPASSWORD@127.0.0.1:$PPORT/$DBNAME"
mig "$WORK/m" 0001_runs.sql <<'SQL'
-- strata:up
CREATE TABLE runs (mig text);
SQL
mig "$WORK/m" 0002_ins.sql <<'SQL'
-- strata:up no-transaction
INSERT INTO runs VALUES ('0002');
SQL
"$STRATA" --url "$POOL" --dir "$WORK/m" -q up 0001 >"$WORK/o" 2>"$WORK/e" || fail "up 0001 through pgpool: $(cat "$WORK/e")"
"$STRATA" --url "$POOL" --dir "$WORK/m" status >"$WORK/o" 2>"$WORK/e" || fail "status through pgpool: $(cat "$WORK/e")"
"$STRATA" --url "$DIRECT" --dir "$WORK/m" -q up >"$WORK/o" 2>"$WORK/e" || fail "direct up: $(cat "$WORK/e")"
"$STRATA" --url "$POOL" --dir "$WORK/m" up >"$WORK/o" 2>"$WORK/e"
RC=$? OUT=$(cat "$WORK/o") ERR=$(cat "$WORK/e")
expect_rc 0 "up through pgpool after a direct one"
contains "$OUT" "nothing to apply" "up through pgpool: nothing to apply"
eq "$(q "SELECT count(*) FROM runs")" "1" "0002 ran once"
eq "$(q "SELECT string_agg(version || ':' || state, ',' ORDER BY version) FROM strata_migrations")" \
    "0001:applied,0002:applied" "the version table"

# replicas at once through 2 children, as docs/operations.md says to run
# them behind pgpool-II
new_db
POOL="postgresql://$PGUSER:$PGPASSWORD@127.0.0.1:$PPORT/$DBNAME"
mig "$WORK/r" 0001_a.sql <<'SQL'
-- strata:up
CREATE TABLE runs (mig text);
INSERT INTO runs VALUES ('0001');
SELECT pg_sleep(2);
SQL
mig "$WORK/r" 0002_b.sql <<'SQL'
-- strata:up no-transaction
INSERT INTO runs VALUES ('0002');
SQL
pids=()
for i in 1 2 3 4 5 6; do
    STRATA_ASSUME_POOLER=1 "$STRATA" --url "$POOL" --dir "$WORK/r" -q up >"$WORK/p$i.out" 2>"$WORK/p$i.err" &
    pids+=($!)
done
wait_all "pgpool, 6 replicas, 2 children: " p "${pids[@]}"
eq "$(q "SELECT string_agg(mig, ',' ORDER BY mig) FROM runs")" "0001,0002" "pgpool replicas: each once"
eq "$(q "SELECT count(*) FROM strata_migrations_lock")" "0" "pgpool replicas: no lease row left"
finish
