#!/usr/bin/env bash
# with_pg.sh CMD [ARGS...] -- runs CMD with a throwaway PostgreSQL 15 server.
# If PGPORT is already set and the server answers, CMD runs against it as is;
# otherwise pg_virtualenv (Debian postgresql-common) creates a temporary
# cluster, exports PGHOST/PGPORT/PGUSER/PGPASSWORD, runs CMD and drops it.
set -euo pipefail
if [ -n "${PGPORT:-}" ] && pg_isready -q 2>/dev/null; then
    exec "$@"
fi
if ! command -v pg_virtualenv >/dev/null; then
    echo "with_pg.sh: pg_virtualenv not found; install postgresql and postgresql-common" >&2
    exit 1
fi
# -t: a private cluster directory even as root, so parallel runs do not collide
exec pg_virtualenv -t -v 15 "$@"
