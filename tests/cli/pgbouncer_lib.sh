# pgbouncer_lib.sh -- a real PgBouncer (Debian package pgbouncer) in front of
# the test server. Sourced by tests that need one, after lib.sh.
#
#   pgb_start MODE   starts PgBouncer in pool_mode MODE (session|transaction|
#                    statement) on a free port (PGB_FIXED_PORT: that one);
#                    sets PGB_PORT and PGB_PID. PGB_EXTRA: more lines for
#                    its [pgbouncer] section; PGB_AUTH: auth_type (plain)
#   pgb_url DBNAME   the URL of DBNAME through it
#   pgb_stop         stops it (also done at exit)

free_port() {
    python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

pgb_start() {
    local mode=$1 dir="$WORK/pgb_$1"
    if ! command -v pgbouncer >/dev/null; then
        fail "pgbouncer is not installed (apt-get install pgbouncer; .ci/run does)"
        finish
    fi
    mkdir -p "$dir"
    PGB_PORT=${PGB_FIXED_PORT:-$(free_port)}
    cat >"$dir/pgbouncer.ini" <<INI
[databases]
* = host=${PGHOST:-localhost} port=$PGPORT
[pgbouncer]
listen_addr = 127.0.0.1
listen_port = $PGB_PORT
unix_socket_dir =
auth_type = ${PGB_AUTH:-plain}
auth_file = $dir/users.txt
pool_mode = $mode
default_pool_size = ${PGB_POOL_SIZE:-8}
max_client_conn = 500
server_reset_query = DISCARD ALL
ignore_startup_parameters = extra_float_digits
admin_users = $PGUSER
${PGB_EXTRA:-}
INI
    printf '"%s" "%s"\n"%s" "%s"\n' "$PGUSER" "$PGPASSWORD" "${PGB_USER2:-nobody_}" "${PGB_PASS2:-x}" >"$dir/users.txt"
    chmod 755 "$WORK"
    local runas=()
    if [ "$(id -u)" = 0 ]; then
        # PgBouncer refuses to run as root
        chown -R postgres "$dir"
        runas=(-u postgres)
    fi
    pgbouncer "${runas[@]}" "$dir/pgbouncer.ini" >"$dir/log" 2>&1 &
    PGB_PID=$!
    PGB_PIDS+=("$PGB_PID")
    for _ in $(seq 50); do
        pg_isready -q -h 127.0.0.1 -p "$PGB_PORT" && return 0
        sleep 0.1
    done
    fail "pgbouncer did not start: $(cat "$dir/log")"
    finish
}

pgb_url() {
    echo "postgresql://$PGUSER:$PGPASSWORD@127.0.0.1:$PGB_PORT/$1"
}

pgb_stop() {
    for p in "${PGB_PIDS[@]}"; do kill "$p" 2>/dev/null; wait "$p" 2>/dev/null; done
    PGB_PIDS=()
}

PGB_PIDS=()
trap 'pgb_stop; cleanup_dbs; rm -rf "$WORK"' EXIT
