#!/usr/bin/env bash
# deps.sh [build|test] -- installs the Debian packages strata needs when they
# are missing (apt-get, with sudo when not root). `build`: to build strata and
# run `make demo`; `test` (default): also what `make test` runs against (a
# throwaway PostgreSQL 15, PgBouncer, valgrind). Shared by the Makefile and
# .ci/run. Does nothing when everything is there; STRATA_NO_APT=1 only lists
# what is missing.
set -euo pipefail
what=${1:-test}
pkgs=(build-essential pkg-config libpq-dev libsqlite3-dev libssl-dev sqlite3)
if [ "$what" = test ]; then
    # postgresql-client-15: pg_dump and pg_restore for strata backup/restore
    # pgbouncer: the connection pooler in front of the test server (test_deploy.sh)
    # groff-base: renders the man page in the install check
    # alembic, python3-alembic: strata import --from alembic runs Alembic itself;
    #   python3-psycopg2: the alembic in test_adopt.sh migrating PostgreSQL online
    #   (dbmate for that test comes from npm, when npm is there)
    pkgs+=(postgresql-15 postgresql-client-15 postgresql-common python3 valgrind pgbouncer groff-base)
    pkgs+=(alembic python3-alembic python3-psycopg2)
    # python3-dotenv: test_env.sh asks python-dotenv what a .env's ${VAR} means
    pkgs+=(python3-dotenv)
    # sqitch, libdbd-pg-perl, libdbd-sqlite3-perl: test_adopt.sh has sqitch itself
    #   deploy the project strata imports and adopts
    pkgs+=(sqitch libdbd-pg-perl libdbd-sqlite3-perl)
    # strace: test_sqlite_sync.sh counts the fsyncs of a commit; procps
    #   (pgrep): test_killops.sh waits for the pg_restore a killed strata left
    pkgs+=(strace procps)
    # openssl: test_tls.sh makes a CA, a server and a client certificate
    pkgs+=(openssl)
    # pgpool2: pgpool-II in front of the test server (test_pgpool.sh)
    pkgs+=(pgpool2)
    # locales: test_server_lang.sh runs the server in German (de_DE.UTF-8,
    #   generated below, before any test server starts)
    pkgs+=(locales)
    # libnss-wrapper: test_readonly_target.sh gives a host name two addresses
    pkgs+=(libnss-wrapper)
fi
SUDO=""
[ "$(id -u)" -ne 0 ] && SUDO=sudo
# the locales of test_server_lang.sh: a test server speaking German, and
# programs embedding the library under German and Turkish locales
ensure_locale() {
    [ "$what" = test ] || return 0
    local l
    for l in de_DE tr_TR; do
        locale -a 2>/dev/null | grep -qix "$l.utf8" && continue
        if [ "${STRATA_NO_APT:-}" = 1 ] || ! command -v localedef >/dev/null; then
            echo "deps.sh: missing locale $l.UTF-8 (localedef -i $l -f UTF-8 $l.UTF-8)" >&2
            return 1
        fi
        echo "deps.sh: generating the locale $l.UTF-8" >&2
        $SUDO localedef -i "$l" -f UTF-8 "$l.UTF-8"
    done
}
need=()
for p in "${pkgs[@]}"; do
    dpkg -s "$p" >/dev/null 2>&1 || need+=("$p")
done
if [ ${#need[@]} -eq 0 ]; then
    ensure_locale
    exit 0
fi
if [ "${STRATA_NO_APT:-}" = 1 ] || ! command -v apt-get >/dev/null; then
    echo "deps.sh: missing packages: ${need[*]} (install them with apt-get)" >&2
    exit 1
fi
echo "deps.sh: installing ${need[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -q
$SUDO apt-get install -y -q "${need[@]}"
ensure_locale
