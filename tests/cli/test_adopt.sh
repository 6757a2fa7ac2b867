#!/usr/bin/env bash
# strata adopt --from FORMAT (SPEC section 10): a database migrated by another
# tool gets strata's version table without anything being run. Alembic and
# dbmate are the real tools migrating a real database; goose, golang-migrate,
# Flyway, pop and sqitch tables are written here from their documented DDL.
. "$(dirname "$0")/lib.sh"

FIX=$(cd "$(dirname "$0")/../fixtures" && pwd)

# schema_without TABLE: `strata schema` of URL without the block of TABLE
schema_without() {
    "$STRATA" --url "$URL" schema | awk -v t="table $1" 'BEGIN { RS = ""; ORS = "\n\n" } $0 !~ "^" t "\n" { print }'
}

# built_schema DIR: the schema of a fresh database built by strata alone from DIR
built_schema() {
    local keep_url=$URL keep_db=${DBNAME:-} keep_file=${DBFILE:-}
    new_db
    "$STRATA" --url "$URL" --dir "$1" -q up || fail "strata up of $1 on a fresh database"
    "$STRATA" --url "$URL" schema
    URL=$keep_url DBNAME=$keep_db DBFILE=$keep_file
}

# strata_rows: the versions in strata's table, space separated ("none" when absent)
strata_rows() {
    if [ "$(table_exists strata_migrations)" = 0 ]; then echo none; return; fi
    q "SELECT version FROM strata_migrations ORDER BY version" | tr '\n' ' ' | sed 's/ $//'
}

# imp DIR VERSION NAME TOOL ORIG: an imported migration (the header that
# `strata import` writes) creating table t_NAME
imp() {
    mig "$1" "$2_$3.sql" <<EOF
-- import: tool=$4 version=$5 file=$5_$3.sql
-- strata:up
CREATE TABLE t_$3 (id integer PRIMARY KEY);

-- strata:down
DROP TABLE t_$3;
EOF
}

# seed DIR FILE TOOL VERSION ORIGFILE: an imported first migration that is
# safe to run twice but seeds a row each time (what running it again shows)
seed() {
    mig "$1" "$2" <<EOF2
-- import: tool=$3 version=$4 file=$5
-- strata:up
CREATE TABLE IF NOT EXISTS t_seed (id integer, name text);
INSERT INTO t_seed (id, name) VALUES (1, 'admin');

-- strata:down
DROP TABLE t_seed;
EOF2
}

bool() { if [ "$ENGINE" = postgres ]; then echo "$1"; else [ "$1" = true ] && echo 1 || echo 0; fi; }

# ------------------------------------------------------------------ alembic
if ! command -v alembic >/dev/null; then
    echo "note [$ENGINE] $TEST_NAME: alembic is not installed (apt-get install alembic python3-psycopg2): alembic cases skipped" >&2
else
    cp -r "$FIX/alembic" "$WORK/alembic"
    raw --dir "$WORK/amig" import --from alembic "$WORK/alembic" --dialect "$ENGINE"
    expect_rc 0 "import --from alembic"
    eq "$(ls "$WORK/amig" | tr '\n' ' ')" \
        "0001_create_users.sql 0002_create_posts.sql 0003_add_email.sql 0004_merge_seed_admin.sql " \
        "revisions renumbered in Alembic's order"
    eq "$(head -1 "$WORK/amig/0004_merge_seed_admin.sql")" \
        "-- import: tool=alembic version=3d4e5f607182 file=3d4e5f607182_merge_seed_admin.py" "merge revision header"
    merge=$(cat "$WORK/amig/0004_merge_seed_admin.sql")
    contains "$merge" "INSERT INTO users (id, name, email) VALUES (1, 'admin; root', 'admin@example.com');" \
        "merge revision's own SQL, byte for byte"
    lacks "$merge" "CREATE TABLE posts" "merge revision holds only its own step"
    all=$(cat "$WORK/amig"/*.sql)
    lacks "$all" "alembic_version" "Alembic's bookkeeping removed"
    lacks "$all" "COMMIT;" "Alembic's transaction removed"

    # all of Alembic's commands run in one Python process when alembic is a
    # Python script; each in its own process otherwise (a wrapper that is not
    # Python, or STRATA_ALEMBIC_BATCH=0): the files are the same, byte for byte
    STRATA_ALEMBIC_BATCH=0 raw --dir "$WORK/amig_each" import --from alembic "$WORK/alembic" --dialect postgres,sqlite
    expect_rc 0 "import, one alembic process per command"
    eq "$(head -1 "$WORK/amig_each/0004_merge_seed_admin.sql")" \
        "-- import: tool=alembic version=3d4e5f607182 file=3d4e5f607182_merge_seed_admin.py" \
        "two dialects: the file named once"
    mkdir -p "$WORK/tmpa"
    TMPDIR=$WORK/tmpa raw --dir "$WORK/amig_one" import --from alembic "$WORK/alembic" --dialect postgres,sqlite
    expect_rc 0 "import, the commands in one process"
    [ -z "$(ls -A "$WORK/tmpa")" ] || fail "a temporary directory was left behind: $(ls -A "$WORK/tmpa")"
    # one process indeed: an env.py that logs its process id
    cp -r "$WORK/alembic" "$WORK/alembic_pid"
    { echo 'import os; open(os.environ["PIDLOG"], "a").write("%d\n" % os.getpid())'; cat "$FIX/alembic/env.py"; } \
        >"$WORK/alembic_pid/env.py"
    PIDLOG=$WORK/pids raw --dir "$WORK/amig_pid" import --from alembic "$WORK/alembic_pid" --dialect postgres,sqlite
    expect_rc 0 "import with a logging env.py"
    eq "$(wc -l <"$WORK/pids" | tr -d ' ') $(sort -u "$WORK/pids" | wc -l | tr -d ' ')" "16 1" \
        "env.py ran 16 times (4 revisions x 2 dialects x up and down) in one process"
    diff -r "$WORK/amig_each" "$WORK/amig_one" >/dev/null || fail "one process and one per command differ"
    printf '#!/bin/sh\nexec alembic "$@"\n' >"$WORK/alembic-wrapper"
    chmod +x "$WORK/alembic-wrapper"
    STRATA_ALEMBIC=$WORK/alembic-wrapper raw --dir "$WORK/amig_wrap" import --from alembic "$WORK/alembic" \
        --dialect postgres,sqlite
    expect_rc 0 "import through a shell wrapper of alembic"
    diff -r "$WORK/amig_each" "$WORK/amig_wrap" >/dev/null || fail "the wrapper's import differs"
    # a Python wrapper whose interpreter cannot import alembic (-S: no
    # site-packages): the driver gives up, each command runs on its own
    interp=$(head -1 "$(command -v alembic)" | sed 's/^#! *//' | cut -d' ' -f1)
    printf '#!%s -S\nimport os, sys\nos.execv("%s", ["alembic"] + sys.argv[1:])\n' "$interp" \
        "$(command -v alembic)" >"$WORK/alembic-nosite"
    chmod +x "$WORK/alembic-nosite"
    STRATA_ALEMBIC=$WORK/alembic-nosite raw --dir "$WORK/amig_nosite" import --from alembic "$WORK/alembic" \
        --dialect postgres,sqlite
    expect_rc 0 "import when the driver cannot import alembic"
    diff -r "$WORK/amig_each" "$WORK/amig_nosite" >/dev/null || fail "the fallback's import differs"

    # SRC may be the ini file itself, under another name (alembic -c custom.ini)
    cp -r "$FIX/alembic" "$WORK/alembic_ini" && mv "$WORK/alembic_ini/alembic.ini" "$WORK/alembic_ini/custom.ini"
    raw --dir "$WORK/amig_ini" import --from alembic "$WORK/alembic_ini/custom.ini" --dialect "$ENGINE"
    expect_rc 0 "import --from alembic of an ini file with another name"
    eq "$(ls "$WORK/amig_ini" | wc -l | tr -d ' ')" "$(ls "$WORK/amig" | wc -l | tr -d ' ')" "the same files from the ini"
    # a revision Python cannot compile: the file and line of the error
    cp -r "$FIX/alembic" "$WORK/alembic_bad"
    bad=$(ls "$WORK/alembic_bad/versions/"*.py 2>/dev/null | head -1)
    [ -n "$bad" ] || bad=$(find "$WORK/alembic_bad" -path '*versions/*.py' | head -1)
    printf '\n\ndef broken(:\n    pass\n' >>"$bad"
    raw --dir "$WORK/amig_bad" import --from alembic "$WORK/alembic_bad" --dialect "$ENGINE"
    expect_rc 1 "import --from alembic with a syntax error"
    contains "$ERR" "SyntaxError" "the error"
    contains "$ERR" "$(basename "$bad"):" "the revision file that holds it"
    contains "$ERR" "[TOOL_FAILED]" "the code"

    # revision ids that say what they do (alembic revision --rev-id 0011 -m
    # ..., file named by the id alone): strata keeps the number and the
    # words, so the runbook's `downgrade 0011_create_purchases_tables` is
    # `strata down 0011_create_purchases_tables`; adopt maps the full ids
    mkdir -p "$WORK/alembic_ids"
    cp "$FIX/alembic/alembic.ini" "$FIX/alembic/env.py" "$WORK/alembic_ids/"
    mkdir -p "$WORK/alembic_ids/versions"
    for r in "0011_create_purchases_tables None purchases" "0012_seed_admin_user 0011_create_purchases_tables admins"; do
        set -- $r
        down=$2; [ "$down" = None ] || down="\"$down\""
        cat >"$WORK/alembic_ids/versions/$1.py" <<PY
"""$1

Revision ID: $1
"""
from alembic import op
import sqlalchemy as sa

revision = "$1"
down_revision = $down
branch_labels = None
depends_on = None


def upgrade():
    op.create_table("$3", sa.Column("id", sa.Integer, primary_key=True))


def downgrade():
    op.drop_table("$3")
PY
    done
    raw --dir "$WORK/amig_ids" import --from alembic "$WORK/alembic_ids" --dialect "$ENGINE"
    expect_rc 0 "import of descriptive revision ids"
    eq "$(ls "$WORK/amig_ids" | tr '\n' ' ')" "0011_create_purchases_tables.sql 0012_seed_admin_user.sql " \
        "descriptive ids: the number and the words kept"
    eq "$(head -1 "$WORK/amig_ids/0011_create_purchases_tables.sql")" \
        "-- import: tool=alembic version=0011_create_purchases_tables file=0011_create_purchases_tables.py" \
        "descriptive ids: the header keeps the whole id"
    new_db
    (cd "$WORK/alembic_ids" && alembic -x url="$URL" upgrade head) >/dev/null 2>&1 || fail "alembic upgrade head (ids)"
    st --dir "$WORK/amig_ids" adopt --from alembic
    expect_rc 0 "adopt of descriptive ids"
    eq "$(strata_rows)" "0011 0012" "descriptive ids: adopted"
    st --dir "$WORK/amig_ids" down 0011_create_purchases_tables
    expect_rc 0 "down to the runbook's revision name"
    eq "$(table_exists admins) $(table_exists purchases)" "0 1" "down 0011_create_purchases_tables reverted 0012 only"

    # a database migrated online by alembic to one branch only: its ancestors
    # are applied, the other branch (0002) is not, even though it comes first
    new_db
    (cd "$WORK/alembic" && alembic -x url="$URL" upgrade 1b2c3d4e5f60) >/dev/null 2>&1 ||
        fail "alembic upgrade 1b2c3d4e5f60"
    st --dir "$WORK/amig" adopt --from alembic
    expect_rc 0 "adopt one branch"
    eq "$(strata_rows)" "0001 0003" "applied set is the revision and its ancestors"

    # the whole history, then import + adopt + a new strata migration
    new_db
    (cd "$WORK/alembic" && alembic -x url="$URL" upgrade heads) >/dev/null 2>&1 || fail "alembic upgrade heads"
    before_av=$(q "SELECT version_num FROM alembic_version")
    st --dir "$WORK/amig" adopt --from alembic --dry-run
    expect_rc 0 "adopt --dry-run"
    contains "$OUT" "would record 0004_merge_seed_admin (alembic 3d4e5f607182)" "dry run lists"
    eq "$(strata_rows)" none "dry run writes nothing"
    st --dir "$WORK/amig" adopt --from alembic
    expect_rc 0 "adopt alembic"
    eq "$(strata_rows)" "0001 0002 0003 0004" "all four recorded"
    eq "$(q "SELECT version_num FROM alembic_version")" "$before_av" "alembic_version untouched"
    st --dir "$WORK/amig" status --exit-code
    expect_rc 0 "status clean after adopt"
    mig "$WORK/amig" 0005_add_bio.sql <<'EOF'
-- strata:up
ALTER TABLE users ADD COLUMN bio text;
-- strata:down
ALTER TABLE users DROP COLUMN bio;
EOF
    st --dir "$WORK/amig" --json up
    expect_rc 0 "up after adopt"
    eq "$(json_get "$OUT" '[a["version"] for a in j["applied"]]')" "['0005']" "up applies only the new migration"
    adopted=$(schema_without alembic_version)
    eq "$adopted" "$(built_schema "$WORK/amig")" "adopted schema equals strata's own build"

    # a custom version_table in env.py: its bookkeeping is removed too
    cp -r "$FIX/alembic" "$WORK/alembic_vt"
    sed -i 's/target_metadata=target_metadata/target_metadata=target_metadata, version_table="my_version"/' \
        "$WORK/alembic_vt/env.py"
    raw --dir "$WORK/amig_vt" import --from alembic "$WORK/alembic_vt" --dialect "$ENGINE"
    expect_rc 0 "import with a custom version_table"
    lacks "$(cat "$WORK/amig_vt"/*.sql)" "my_version" "the custom version table's bookkeeping removed"
    new_db
    st --dir "$WORK/amig_vt" up
    expect_rc 0 "a fresh up of a custom version_table import"
    eq "$(table_exists my_version)" 0 "strata's up writes no alembic version table"
    new_db
    (cd "$WORK/alembic_vt" && alembic -x url="$URL" upgrade heads) >/dev/null 2>&1 || fail "alembic upgrade heads (my_version)"
    st --dir "$WORK/amig_vt" adopt --from alembic --from-table my_version
    expect_rc 0 "adopt from a custom version_table"
    eq "$(strata_rows)" "0001 0002 0003 0004" "all four recorded from my_version"

    # two bases, one with a branch label: a database at other@head has only
    # that branch applied; the first base and its child stay pending
    A2="$WORK/alembic_bases"
    mkdir -p "$A2/versions"
    cp "$FIX/alembic/alembic.ini" "$FIX/alembic/env.py" "$A2/"
    arev() { # FILE REV DOWN BRANCH_LABELS DEPENDS_ON (into $ADIR, default $A2)
        printf '"""%s"""\nfrom alembic import op\nrevision = %s\ndown_revision = %s\nbranch_labels = %s\ndepends_on = %s\n\n\ndef upgrade():\n    op.execute("CREATE TABLE t_%s (x integer)")\n\n\ndef downgrade():\n    op.execute("DROP TABLE t_%s")\n' \
            "$1" "'$2'" "$3" "$4" "$5" "$1" "$1" >"${ADIR:-$A2}/versions/$1.py"
    }
    arev r1 1111aaaa None None None
    arev r2 2222bbbb "'1111aaaa'" None None
    arev o1 3333cccc None "('other',)" None
    arev o2 4444dddd "'3333cccc'" None None
    raw --dir "$WORK/amig2" import --from alembic "$A2" --dialect "$ENGINE"
    expect_rc 0 "import two bases"
    eq "$(ls "$WORK/amig2" | tr '\n' ' ')" "0001_r1.sql 0002_r2.sql 0003_o1.sql 0004_o2.sql " "two bases in Alembic's order"
    new_db
    (cd "$A2" && alembic -x url="$URL" upgrade other@head) >/dev/null 2>&1 || fail "alembic upgrade other@head"
    st --dir "$WORK/amig2" adopt --from alembic
    expect_rc 0 "adopt one of two bases"
    eq "$(strata_rows)" "0003 0004" "only the branch in alembic_version is applied"
    contains "$ERR" "2 migrations older than 0004_o2 were not applied by alembic (first: 0001_r1)" "adopt warns of the older pending ones"
    st --dir "$WORK/amig2" up
    expect_rc 1 "up with older pending revisions of the other base"
    contains "$ERR" "[OUT_OF_ORDER]" "older pending revisions are out of order"
    contains "$ERR" "--allow-out-of-order" "the refusal names the way through"
    st --dir "$WORK/amig2" up --allow-out-of-order
    expect_rc 0 "up --allow-out-of-order applies the other base"
    eq "$(strata_rows)" "0001 0002 0003 0004" "every revision applied"

    # depends_on: a revision's dependency counts only when the revision is applied
    arev r3 5555eeee "'2222bbbb'" None "'4444dddd'"
    raw --dir "$WORK/amig3" import --from alembic "$A2" --dialect "$ENGINE"
    expect_rc 0 "import with depends_on"
    eq "$(head -1 "$WORK/amig3/0005_r3.sql")" "-- import: tool=alembic version=5555eeee file=r3.py depends=4444dddd" \
        "the header keeps depends_on"
    new_db
    (cd "$A2" && alembic -x url="$URL" upgrade 2222bbbb) >/dev/null 2>&1 || fail "alembic upgrade 2222bbbb"
    st --dir "$WORK/amig3" adopt --from alembic --dry-run
    expect_rc 0 "adopt at 2222bbbb"
    eq "$(printf '%s\n' "$OUT" | grep -c 'would record')" 2 "two revisions applied at 2222bbbb"
    contains "$OUT" "would record 0004_r2 (alembic 2222bbbb)" "r2 applied"
    lacks "$OUT" "4444dddd" "the other branch is not applied: r3 (which depends on it) is not"
    (cd "$A2" && alembic -x url="$URL" upgrade 5555eeee) >/dev/null 2>&1 || fail "alembic upgrade 5555eeee"
    eq "$(q "SELECT version_num FROM alembic_version")" 5555eeee "alembic keeps one head for r3"
    st --dir "$WORK/amig3" adopt --from alembic
    expect_rc 0 "adopt at 5555eeee"
    eq "$(strata_rows)" "0001 0002 0003 0004 0005" "depends_on ancestors of an applied revision are applied"
    st --dir "$WORK/amig3" status --exit-code
    expect_rc 0 "status clean after adopt with depends_on"

    # depends_on naming a branch label: Alembic resolves it to the revision
    # that declares the label (not the branch's head), and so does import
    A3="$WORK/alembic_label"
    mkdir -p "$A3/versions"
    cp "$FIX/alembic/alembic.ini" "$FIX/alembic/env.py" "$A3/"
    ADIR=$A3
    arev l1 aaaa1111 None None None
    arev n1 bbbb2222 None "('networking',)" None
    arev n2 cccc3333 "'bbbb2222'" None None
    arev l2 dddd4444 "'aaaa1111'" None "'networking'"
    ADIR=
    raw --dir "$WORK/amig4" import --from alembic "$A3" --dialect "$ENGINE"
    expect_rc 0 "import with depends_on a branch label"
    l2file=$(grep -l "version=dddd4444" "$WORK/amig4"/*.sql)
    n1file=$(basename "$(grep -l "version=bbbb2222" "$WORK/amig4"/*.sql)")
    contains "$(head -1 "$l2file")" "depends=bbbb2222" "a depends_on label is written as the revision declaring it"
    new_db
    (cd "$A3" && alembic -x url="$URL" upgrade dddd4444) >/dev/null 2>&1 || fail "alembic upgrade dddd4444"
    st --dir "$WORK/amig4" adopt --from alembic
    expect_rc 0 "adopt with depends_on a branch label"
    contains "$OUT" "recorded ${n1file%.sql} (alembic bbbb2222)" "the labelled revision is applied"
    lacks "$OUT" "cccc3333" "the label's later revision is not"
    st --dir "$WORK/amig4" up
    expect_rc 0 "up after adopt with depends_on a branch label applies only what alembic did not"

    # a revision whose offline SQL cannot be produced: named, Alembic's error quoted
    cat >"$WORK/alembic/versions/4e5f60718293_backfill.py" <<'EOF'
"""backfill from existing rows

Revision ID: 4e5f60718293
Revises: 3d4e5f607182
"""
from alembic import op
import sqlalchemy as sa

revision = "4e5f60718293"
down_revision = "3d4e5f607182"


def upgrade():
    rows = op.get_bind().execute(sa.text("SELECT id FROM users")).fetchall()
    for r in rows:
        op.execute("UPDATE users SET name = name WHERE id = %d" % r[0])


def downgrade():
    pass
EOF
    raw --dir "$WORK/amig_bad" import --from alembic "$WORK/alembic" --dialect "$ENGINE"
    expect_rc 1 "import of a revision alembic cannot print"
    contains "$ERR" "revision 4e5f60718293" "refusal names the revision"
    contains "$ERR" "'NoneType' object has no attribute 'fetchall'" "refusal quotes Alembic's error"
    [ -e "$WORK/amig_bad" ] && fail "nothing written when a revision is refused"

    # an autocommit_block(): the statements after it commit together, as
    # under Alembic (the BEGIN and COMMIT Alembic prints around them stay)
    if [ "$ENGINE" = postgres ]; then
        rm -rf "$WORK/alembic_ac"
        cp -r "$FIX/alembic" "$WORK/alembic_ac"
        rm -f "$WORK/alembic_ac/versions"/*.py
        cat >"$WORK/alembic_ac/versions/0001_t.py" <<'EOF'
from alembic import op
revision = '0001'
down_revision = None
branch_labels = None
depends_on = None


def upgrade():
    op.execute("CREATE TABLE t (id int PRIMARY KEY, s text)")


def downgrade():
    op.execute("DROP TABLE t")
EOF
        cat >"$WORK/alembic_ac/versions/0002_ac.py" <<'EOF'
from alembic import op
revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None


def upgrade():
    op.execute("INSERT INTO t VALUES (1, 'before')")
    with op.get_context().autocommit_block():
        op.execute("CREATE INDEX CONCURRENTLY t_s ON t (s)")
    op.execute("INSERT INTO t VALUES (3, 'x')")
    op.execute("INSERT INTO t VALUES (3, 'dup')")


def downgrade():
    op.execute("DELETE FROM t WHERE id IN (1, 3)")
EOF
        raw --dir "$WORK/amig_ac" import --from alembic "$WORK/alembic_ac" --dialect postgres
        expect_rc 0 "import of an autocommit_block()"
        ac=$(cat "$WORK/amig_ac"/0002_*.sql)
        contains "$ac" "no-transaction" "autocommit_block: a no-transaction section"
        contains "$ac" "BEGIN;

INSERT INTO t VALUES (3, 'x');" "autocommit_block: the statements after it in a transaction"
        new_db
        st --dir "$WORK/amig_ac" up
        expect_rc 1 "autocommit_block: the second INSERT fails"
        eq "$(q "SELECT string_agg(id::text, ',' ORDER BY id) FROM t")" "1" \
            "autocommit_block: the INSERTs after the block rolled back together (as under Alembic)"
    fi
fi

# ------------------------------------------------------------------- dbmate
DBMATE=${DBMATE:-}
if [ -z "$DBMATE" ]; then
    NPMDIR=${STRATA_NPM_CACHE:-/tmp/strata-npm-dbmate}
    if [ ! -x "$NPMDIR/node_modules/@dbmate/linux-x64/bin/dbmate" ] && command -v npm >/dev/null; then
        mkdir -p "$NPMDIR" && (cd "$NPMDIR" && npm install --silent --no-audit --no-fund dbmate >/dev/null 2>&1)
    fi
    [ -x "$NPMDIR/node_modules/@dbmate/linux-x64/bin/dbmate" ] && DBMATE="$NPMDIR/node_modules/@dbmate/linux-x64/bin/dbmate"
fi
if [ -z "$DBMATE" ]; then
    echo "note [$ENGINE] $TEST_NAME: npm could not install dbmate: dbmate cases skipped" >&2
else
    D="$WORK/dbmate"
    mkdir -p "$D"
    cat >"$D/20240101000000_create_users.sql" <<'EOF'
-- migrate:up
CREATE TABLE users (id integer PRIMARY KEY, name text NOT NULL);

-- migrate:down
DROP TABLE users;
EOF
    cat >"$D/20240102000000_add_email.sql" <<'EOF'
-- migrate:up
ALTER TABLE users ADD COLUMN email text;

-- migrate:down
ALTER TABLE users DROP COLUMN email;
EOF
    cat >"$D/20240103000000_seed.sql" <<'EOF'
-- migrate:up
INSERT INTO users (id, name) VALUES (1, 'admin; root');

-- migrate:down
DELETE FROM users WHERE id = 1;
EOF
    raw --dir "$WORK/dmig" import --from dbmate "$D"
    if [ "$RC" != 0 ]; then
        # until `strata import --from dbmate` is in this build: the files it
        # writes (header, then the sections), per the import contract
        echo "note [$ENGINE] $TEST_NAME: import --from dbmate unavailable ($ERR); imported files written by the test" >&2
        mkdir -p "$WORK/dmig"
        for f in "$D"/*.sql; do
            b=$(basename "$f")
            v=${b%%_*}
            sed -e "1i -- import: tool=dbmate version=$v file=$b" -e 's/^-- migrate:up/-- strata:up/' \
                -e 's/^-- migrate:down/-- strata:down/' "$f" >"$WORK/dmig/$b"
        done
    fi
    new_db
    if [ "$ENGINE" = postgres ]; then
        DURL="postgres://$PGUSER:$PGPASSWORD@${PGHOST:-localhost}:$PGPORT/$DBNAME?sslmode=disable"
    else
        DURL="sqlite:$DBFILE"
    fi
    "$DBMATE" --url "$DURL" --migrations-dir "$D" --no-dump-schema up >/dev/null 2>&1 || fail "dbmate up"
    # one more dbmate migration in the directory but not applied: pending after adopt
    eq "$(q "SELECT count(*) FROM schema_migrations")" 3 "dbmate applied three"
    st --dir "$WORK/dmig" --json adopt --from dbmate --dry-run
    expect_rc 0 "dbmate adopt --dry-run"
    eq "$(json_get "$OUT" '[e["original"] for e in j["recorded"]]')" \
        "['20240101000000', '20240102000000', '20240103000000']" "dry run JSON lists the versions"
    eq "$(json_get "$OUT" 'j["written"]')" 0 "dry run writes nothing"
    eq "$(strata_rows)" none "no strata table after a dry run"
    st --dir "$WORK/dmig" adopt --from dbmate
    expect_rc 0 "dbmate adopt"
    contains "$OUT" "adopted 3 migrations" "adopt says how many"
    eq "$(strata_rows)" "20240101000000 20240102000000 20240103000000" "dbmate versions recorded"
    st --dir "$WORK/dmig" status --exit-code
    expect_rc 0 "status clean after dbmate adopt"
    st --dir "$WORK/dmig" adopt --from dbmate
    expect_rc 0 "adopt again"
    contains "$OUT" "adopted 0 migrations" "adopt again writes nothing"
    mig "$WORK/dmig" 20240201000000_add_bio.sql <<'EOF'
-- strata:up
ALTER TABLE users ADD COLUMN bio text;
-- strata:down
ALTER TABLE users DROP COLUMN bio;
EOF
    st --dir "$WORK/dmig" --json up
    expect_rc 0 "up after dbmate adopt"
    eq "$(json_get "$OUT" '[a["version"] for a in j["applied"]]')" "['20240201000000']" "only the new migration"
    eq "$(schema_without schema_migrations)" "$(built_schema "$WORK/dmig")" "dbmate-adopted schema equals strata's build"
    eq "$(q "SELECT count(*) FROM schema_migrations")" 3 "dbmate's table untouched"
    # adopt again once strata has applied its own migrations: those are left alone
    st --dir "$WORK/dmig" adopt --from dbmate
    expect_rc 0 "adopt again after strata's own migration"
    contains "$OUT" "adopted 0 migrations" "nothing more to record"
    # going back: dbmate still sees its own state
    "$DBMATE" --url "$DURL" --migrations-dir "$D" --no-dump-schema status >"$WORK/dstatus" 2>&1
    contains "$(cat "$WORK/dstatus")" "Applied: 3" "dbmate still reads its table"

    # strata's table disagrees: it records what dbmate has not applied
    q "DELETE FROM schema_migrations WHERE version = '20240103000000'"
    before=$(q "SELECT version || state FROM strata_migrations ORDER BY version" | tr '\n' ' ')
    st --dir "$WORK/dmig" adopt --from dbmate
    expect_rc 1 "adopt against a disagreeing strata table"
    contains "$ERR" "disagrees with the other tool" "disagreement named"
    eq "$(q "SELECT version || state FROM strata_migrations ORDER BY version" | tr '\n' ' ')" "$before" \
        "nothing changed on refusal"
fi

# ---------------------------------------------- hand-made version tables
# goose: the latest row per version decides; out-of-order (3 before 2); 4 rolled back
new_db
G="$WORK/gmig"
imp "$G" 00001 one goose 1
imp "$G" 00002 two goose 2
imp "$G" 00003 three goose 3
imp "$G" 00004 four goose 4
if [ "$ENGINE" = postgres ]; then
    q "CREATE TABLE goose_db_version (id serial NOT NULL, version_id bigint NOT NULL, is_applied boolean NOT NULL, tstamp timestamp NULL default now(), PRIMARY KEY(id))"
else
    q "CREATE TABLE goose_db_version (id INTEGER PRIMARY KEY AUTOINCREMENT, version_id INTEGER NOT NULL, is_applied INTEGER NOT NULL, tstamp TIMESTAMP DEFAULT (datetime('now')))"
fi
T=$(bool true) F=$(bool false)
q "INSERT INTO goose_db_version (version_id, is_applied) VALUES (0, $T), (1, $T), (3, $T), (2, $T), (4, $T), (4, $F)"
q "CREATE TABLE t_one (id integer PRIMARY KEY); CREATE TABLE t_two (id integer PRIMARY KEY); CREATE TABLE t_three (id integer PRIMARY KEY)"
st --dir "$G" adopt --from goose
expect_rc 0 "goose adopt"
eq "$(strata_rows)" "00001 00002 00003" "goose: latest row per version decides"
st --dir "$G" --json up
expect_rc 0 "up after goose adopt"
eq "$(json_get "$OUT" '[a["version"] for a in j["applied"]]')" "['00004']" "goose: only the rolled-back one runs"

# a renamed version table (goose -table app_goose): not found under the
# default name, with a hint; read with --from-table
new_db
q "CREATE TABLE app_goose (id integer PRIMARY KEY, version_id bigint NOT NULL, is_applied boolean NOT NULL)"
q "INSERT INTO app_goose VALUES (1, 0, $T), (2, 1, $T), (3, 2, $T)"
q "CREATE TABLE t_one (id integer PRIMARY KEY); CREATE TABLE t_two (id integer PRIMARY KEY)"
st --dir "$G" adopt --from goose
expect_rc 1 "goose adopt without its renamed table"
contains "$ERR" "no goose version table 'goose_db_version'" "the default table is named"
contains "$ERR" "--from-table" "the hint names --from-table"
st --dir "$G" adopt --from goose --from-table app_goose
expect_rc 0 "goose adopt --from-table"
eq "$(strata_rows)" "00001 00002" "goose: the renamed table read"
st --dir "$G" adopt --from goose --from-table nosuch
expect_rc 1 "a --from-table that is not there"
contains "$ERR" "no goose version table 'nosuch'" "the given table is named"

# golang-migrate: one row (version, dirty); every file version up to it
new_db
M="$WORK/mmig"
imp "$M" 1 one golang-migrate 1
imp "$M" 2 two golang-migrate 2
imp "$M" 3 three golang-migrate 3
q "CREATE TABLE schema_migrations (version bigint NOT NULL PRIMARY KEY, dirty boolean NOT NULL)"
q "INSERT INTO schema_migrations (version, dirty) VALUES (2, $T)"
st --dir "$M" adopt --from golang-migrate
expect_rc 1 "dirty golang-migrate refused"
contains "$ERR" "dirty at version 2" "dirty named"
eq "$(strata_rows)" none "nothing changed on a dirty row"
st --dir "$M" --json adopt --from golang-migrate
contains "$ERR" '"code": "ADOPT_MISMATCH"' "dirty: ADOPT_MISMATCH"
q "UPDATE schema_migrations SET dirty = $F"
st --dir "$M" adopt --from golang-migrate
expect_rc 0 "golang-migrate adopt"
eq "$(strata_rows)" "1 2" "golang-migrate: every version up to the row"
eq "$(q "SELECT version FROM schema_migrations")" 2 "golang-migrate's row untouched"
# two rows: golang-migrate reads whichever comes first; refused, not guessed
new_db
q "CREATE TABLE schema_migrations (version bigint NOT NULL PRIMARY KEY, dirty boolean NOT NULL)"
q "INSERT INTO schema_migrations (version, dirty) VALUES (1, $F), (3, $F)"
st --dir "$M" adopt --from golang-migrate
expect_rc 1 "golang-migrate table with two rows"
contains "$ERR" "schema_migrations has 2 rows; golang-migrate keeps one" "two rows named"
eq "$(strata_rows)" none "nothing recorded from an ambiguous table"

# an applied version with no imported file
new_db
q "CREATE TABLE schema_migrations (version bigint NOT NULL PRIMARY KEY, dirty boolean NOT NULL)"
q "INSERT INTO schema_migrations (version, dirty) VALUES (7, $F)"
st --dir "$M" adopt --from golang-migrate
expect_rc 1 "applied version without a file"
contains "$ERR" "golang-migrate version '7' is applied" "the version is named"
eq "$(strata_rows)" none "nothing changed"

# dbmate keeps versions as strings: '001' and '1' are two versions
new_db
DS="$WORK/dbmate_str"
mkdir -p "$DS"
printf -- '-- migrate:up\nCREATE TABLE t_d (id integer PRIMARY KEY);\n-- migrate:down\nDROP TABLE t_d;\n' >"$DS/001_d.sql"
printf -- '-- migrate:up\nCREATE TABLE t_a (id integer PRIMARY KEY);\n-- migrate:down\nDROP TABLE t_a;\n' >"$DS/1_a.sql"
raw --dir "$WORK/dsmig" import --from dbmate "$DS"
expect_rc 0 "import dbmate versions 001 and 1"
eq "$(head -1 "$WORK/dsmig/0002_a.sql")" "-- import: tool=dbmate version=1 file=1_a.sql" "1_a.sql keeps version 1"
q "CREATE TABLE schema_migrations (version varchar(128) NOT NULL PRIMARY KEY)"
q "INSERT INTO schema_migrations (version) VALUES ('1')"
q "CREATE TABLE t_a (id integer PRIMARY KEY)"
st --dir "$WORK/dsmig" adopt --from dbmate
expect_rc 0 "adopt dbmate string versions"
eq "$(strata_rows)" "0002" "dbmate's '1' is 1_a.sql, not 001_d.sql"

# Flyway: a baseline at 1, then 1.1 and 2 (SQL); 3 pending; a failed row refused
new_db
W="$WORK/fmig"
imp "$W" 0001 base flyway 1
imp "$W" 0002 one_one flyway 1.1
imp "$W" 0003 two flyway 2
imp "$W" 0004 three flyway 3
FDDL="CREATE TABLE flyway_schema_history (installed_rank INT NOT NULL PRIMARY KEY, version VARCHAR(50), description VARCHAR(200) NOT NULL, type VARCHAR(20) NOT NULL, script VARCHAR(1000) NOT NULL, checksum INT, installed_by VARCHAR(100) NOT NULL, installed_on TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP, execution_time INT NOT NULL, success BOOLEAN NOT NULL)"
q "$FDDL"
q "INSERT INTO flyway_schema_history (installed_rank, version, description, type, script, checksum, installed_by, execution_time, success) VALUES
 (1, '1', '<< Flyway Baseline >>', 'BASELINE', '<< Flyway Baseline >>', NULL, 'app', 0, $T),
 (2, '1.1', 'one one', 'SQL', 'V1_1__one_one.sql', 123, 'app', 5, $T),
 (3, '2', 'two', 'SQL', 'V2__two.sql', 456, 'app', 5, $T)"
st --dir "$W" adopt --from flyway
expect_rc 0 "flyway adopt"
eq "$(strata_rows)" "0001 0002 0003" "flyway: baseline and SQL rows"
# the versions as Flyway compares them (numbers, not strings; trailing zero
# parts insignificant; '_' for '.'): '01.1.0' is the file of 1.1, '2_0'
# that of 2 (adopt finds a version's file through an index since
# 2026-12-07: a history of 40,000 took 20 s, now 0.4 s)
new_db
q "$FDDL"
q "INSERT INTO flyway_schema_history (installed_rank, version, description, type, script, checksum, installed_by, execution_time, success) VALUES
 (1, '1.0', 'base', 'SQL', 'V1__base.sql', 1, 'app', 5, $T),
 (2, '01.1.0', 'one one', 'SQL', 'V1_1__one_one.sql', 2, 'app', 5, $T),
 (3, '2_0', 'two', 'SQL', 'V2__two.sql', 3, 'app', 5, $T)"
st --dir "$W" adopt --from flyway --dry-run --json
expect_rc 0 "flyway versions in other spellings"
eq "$(json_get "$OUT" '[(e["version"], e["original"]) for e in j["recorded"]]')" "[('0001', '1'), ('0002', '1.1'), ('0003', '2')]" "each found by Flyway's comparison"
q "INSERT INTO flyway_schema_history (installed_rank, version, description, type, script, checksum, installed_by, execution_time, success) VALUES
 (4, '1.1.1', 'x', 'SQL', 'V1_1_1__x.sql', 4, 'app', 5, $T)"
st --dir "$W" adopt --from flyway --dry-run
expect_rc 1 "1.1.1 is not 1.1"
contains "$ERR" "version '1.1.1' is applied" "the version without a file named"
new_db
q "$FDDL"
q "INSERT INTO flyway_schema_history (installed_rank, version, description, type, script, checksum, installed_by, execution_time, success) VALUES
 (1, '1', 'base', 'SQL', 'V1__base.sql', 1, 'app', 5, $T),
 (2, '1.1', 'one one', 'SQL', 'V1_1__one_one.sql', 2, 'app', 5, $F)"
st --dir "$W" adopt --from flyway
expect_rc 1 "failed flyway row refused"
contains "$ERR" "failed migration: 1.1 (V1_1__one_one.sql)" "failed row named"
eq "$(strata_rows)" none "nothing changed on a failed row"

# Flyway: a database migrated before the baseline file existed holds the
# versions the baseline stands for: they count as the baseline applied
FB="$WORK/flyway_base"
mkdir -p "$FB"
echo "CREATE TABLE t_init (id integer);" >"$FB/V1__init.sql"
echo "CREATE TABLE t_b (id integer);" >"$FB/V1.1__b.sql"
printf 'CREATE TABLE t_init (id integer);\nCREATE TABLE t_b (id integer);\n' >"$FB/B1.1__baseline.sql"
echo "CREATE TABLE t_d (id integer);" >"$FB/V1.2__d.sql"
raw --dir "$WORK/fbmig" import --from flyway "$FB"
expect_rc 0 "import a Flyway baseline"
eq "$(ls "$WORK/fbmig" | tr '\n' ' ')" "0001_baseline.sql 0002_d.sql " "the baseline first, then 1.2"
new_db
q "$FDDL"
q "CREATE TABLE t_init (id integer)"
q "CREATE TABLE t_b (id integer)"
q "CREATE TABLE t_d (id integer)"
q "INSERT INTO flyway_schema_history (installed_rank, version, description, type, script, checksum, installed_by, execution_time, success) VALUES
 (1, '1', 'init', 'SQL', 'V1__init.sql', 1, 'app', 5, $T),
 (2, '1.1', 'b', 'SQL', 'V1.1__b.sql', 2, 'app', 5, $T),
 (3, '1.2', 'd', 'SQL', 'V1.2__d.sql', 3, 'app', 5, $T)"
st --dir "$WORK/fbmig" adopt --from flyway
expect_rc 0 "adopt a database migrated before its baseline"
eq "$(strata_rows)" "0001 0002" "versions under the baseline count as the baseline"
st --dir "$WORK/fbmig" status --exit-code
expect_rc 0 "status clean after adopting under a baseline"
# the same history stopped at 1: below the baseline, refused
new_db
q "$FDDL"
q "INSERT INTO flyway_schema_history (installed_rank, version, description, type, script, checksum, installed_by, execution_time, success) VALUES
 (1, '1', 'init', 'SQL', 'V1__init.sql', 1, 'app', 5, $T)"
st --dir "$WORK/fbmig" adopt --from flyway
expect_rc 1 "a database below the baseline"
contains "$ERR" "Flyway versions up to 1 applied, below the baseline 1.1" "below the baseline named"
contains "$ERR" "[ADOPT_MISMATCH]" "ADOPT_MISMATCH"
eq "$(strata_rows)" none "nothing changed below the baseline"

# pop: schema_migration (version)
new_db
P="$WORK/pmig"
imp "$P" 20190101120000 one pop 20190101120000
imp "$P" 20190102120000 two pop 20190102120000
q "CREATE TABLE schema_migration (version varchar(14) NOT NULL)"
q "CREATE UNIQUE INDEX schema_migration_version_idx ON schema_migration (version)"
q "INSERT INTO schema_migration (version) VALUES ('20190101120000')"
st --dir "$P" adopt --from pop
expect_rc 0 "pop adopt"
eq "$(strata_rows)" "20190101120000" "pop rows"

# sqitch: the registry's changes (PostgreSQL: schema sqitch; SQLite: the file
# sqitch.EXT next to the database, EXT the database's: sqitch.sqlite3 here)
new_db
S="$WORK/smig"
imp "$S" 0001 users sqitch users
imp "$S" 0002 posts sqitch posts
SDDL="CREATE TABLE changes (change_id TEXT PRIMARY KEY, script_hash TEXT, change TEXT NOT NULL, project TEXT NOT NULL, note TEXT NOT NULL DEFAULT '', committed_at TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP, committer_name TEXT NOT NULL, committer_email TEXT NOT NULL, planned_at TIMESTAMP NOT NULL, planner_name TEXT NOT NULL, planner_email TEXT NOT NULL)"
SROW="INSERT INTO changes (change_id, change, project, committer_name, committer_email, planned_at, planner_name, planner_email) VALUES ('a1', 'users', 'app', 'n', 'e', CURRENT_TIMESTAMP, 'n', 'e')"
if [ "$ENGINE" = postgres ]; then
    q "CREATE SCHEMA sqitch; SET search_path = sqitch; $SDDL; $SROW"
else
    sqlite3 "$(dirname "$DBFILE")/sqitch.sqlite3" "$SDDL; $SROW"
fi
st --dir "$S" adopt --from sqitch
expect_rc 0 "sqitch adopt"
eq "$(strata_rows)" "0001" "sqitch changes"
# for sqitch, --from-table names the registry (sqitch's --registry)
st --dir "$S" adopt --from sqitch --from-table x
expect_rc 1 "--from-table with sqitch: a registry that is not there"
if [ "$ENGINE" = postgres ]; then
    contains "$ERR" "no sqitch version table 'x.changes'" "sqitch: the registry schema named"
else
    contains "$ERR" "no sqitch registry '$(dirname "$DBFILE")/x.sqlite3'" "sqitch: the registry file named"
fi
[ "$ENGINE" = sqlite ] && rm -f "$(dirname "$DBFILE")/sqitch.sqlite3"

# sqitch: a reworked change is deployed once per instance; its k-th row is
# its k-th instance in the plan; rows of another project are not this one's
new_db
SP="$WORK/sqitch_rework"
mkdir -p "$SP/deploy" "$SP/revert"
cat >"$SP/sqitch.plan" <<'EOF'
%syntax-version=1.0.0
%project=flipr

appschema 2013-12-30T00:00:00Z m <m@example.com> # schema
users [appschema] 2013-12-31T00:00:00Z m <m@example.com> # users
@v1.0 2013-12-31T00:00:01Z m <m@example.com> # tag
insert_user [users] 2014-01-01T00:00:00Z m <m@example.com> # a row
users [users@v1.0] 2014-01-02T00:00:00Z m <m@example.com> # rework: a column
EOF
echo "CREATE TABLE t_app (a integer);" >"$SP/deploy/appschema.sql"
echo "DROP TABLE t_app;" >"$SP/revert/appschema.sql"
echo "CREATE TABLE t_users (x integer);" >"$SP/deploy/users@v1.0.sql"
echo "DROP TABLE t_users;" >"$SP/revert/users@v1.0.sql"
echo "INSERT INTO t_users (x) VALUES (1);" >"$SP/deploy/insert_user.sql"
echo "DELETE FROM t_users;" >"$SP/revert/insert_user.sql"
echo "ALTER TABLE t_users ADD COLUMN y integer;" >"$SP/deploy/users.sql"
echo "ALTER TABLE t_users DROP COLUMN y;" >"$SP/revert/users.sql"
raw --dir "$WORK/smig2" import --from sqitch "$SP"
expect_rc 0 "import a reworked sqitch change"
eq "$(head -1 "$WORK/smig2/0002_users.sql")" \
    "-- import: tool=sqitch version=users@v1.0 file=deploy/users@v1.0.sql,revert/users@v1.0.sql project=flipr" \
    "the header names the plan's project"
q "CREATE TABLE t_app (a integer)"
q "CREATE TABLE t_users (x integer)"
q "INSERT INTO t_users (x) VALUES (1)"
SROWS="INSERT INTO changes (change_id, change, project, committer_name, committer_email, committed_at, planned_at, planner_name, planner_email) VALUES
 ('c1', 'appschema', 'flipr', 'n', 'e', '2014-02-01 10:00:00', '2013-12-30 00:00:00', 'n', 'e'),
 ('c2', 'users', 'flipr', 'n', 'e', '2014-02-01 10:00:00', '2013-12-31 00:00:00', 'n', 'e'),
 ('c3', 'insert_user', 'flipr', 'n', 'e', '2014-02-01 10:00:00', '2014-01-01 00:00:00', 'n', 'e'),
 ('x1', 'users', 'other', 'n', 'e', '2014-01-15 10:00:00', '2013-06-01 00:00:00', 'n', 'e')"
if [ "$ENGINE" = postgres ]; then
    q "CREATE SCHEMA sqitch; SET search_path = sqitch; $SDDL; $SROWS"
else
    sqlite3 "$(dirname "$DBFILE")/sqitch.sqlite3" "$SDDL; $SROWS"
fi
st --dir "$WORK/smig2" adopt --from sqitch
expect_rc 0 "adopt a reworked sqitch change"
eq "$(strata_rows)" "0001 0002 0003" "the first instance of the reworked change is the deployed one"
st --dir "$WORK/smig2" --json up
expect_rc 0 "up after adopting a reworked change"
eq "$(json_get "$OUT" '[a["version"] for a in j["applied"]]')" "['0004']" "up applies the rework"
[ "$ENGINE" = sqlite ] && rm -f "$(dirname "$DBFILE")/sqitch.sqlite3"

# usage
st --dir "$P" adopt --from liquibase
expect_rc 2 "unknown format"
st --dir "$P" adopt
expect_rc 2 "adopt without --from"
new_db
st --dir "$P" adopt --from pop
expect_rc 1 "no pop table"
contains "$ERR" "no pop version table 'schema_migration'" "absent table named"

# `up` on a database another tool migrated fails on its first migration (the
# tables are there); the hint names the tool and the way to switch
mig_a "$WORK/fresh"
new_db
q "CREATE TABLE alembic_version (version_num varchar(32) PRIMARY KEY); INSERT INTO alembic_version VALUES ('abc123'); CREATE TABLE a (id integer);" >/dev/null
st --dir "$WORK/fresh" status
expect_rc 0 "status on a database Alembic migrated"
contains "$ERR" "the database has the version table alembic_version of alembic" "status warns"
contains "$ERR" "strata adopt --from alembic" "status names adopt"
st --dir "$WORK/fresh" --json status
eq "$(json_get "$OUT" 'j["other_tool"]')" "{'tool': 'alembic', 'table': 'alembic_version'}" "status --json: other_tool"
st --dir "$WORK/fresh" up
expect_rc 1 "up on a database Alembic migrated"
contains "$ERR" "hint: this database has alembic's version table alembic_version" "the hint names the tool"
contains "$ERR" "strata import --from alembic, then strata adopt --from alembic" "the hint names the way"
eq "$(q "SELECT count(*) FROM strata_migrations")" "0" "the failed up recorded nothing"
# schema_migrations with golang-migrate's dirty column names golang-migrate, not dbmate
new_db
q "CREATE TABLE schema_migrations (version bigint NOT NULL PRIMARY KEY, dirty boolean NOT NULL); CREATE TABLE a (id integer);" >/dev/null
q "INSERT INTO schema_migrations (version, dirty) VALUES (1, $F)" >/dev/null
st --dir "$WORK/fresh" --json status
eq "$(json_get "$OUT" 'j["other_tool"]')" "{'tool': 'golang-migrate', 'table': 'schema_migrations'}" \
    "status --json: golang-migrate's table"
st --dir "$WORK/fresh" up
expect_rc 1 "up on a database golang-migrate migrated"
contains "$ERR" "strata import --from golang-migrate, then strata adopt --from golang-migrate" \
    "the hint names golang-migrate"
# Rails' schema_migrations has ar_internal_metadata beside it: named Rails,
# and the hint does not send the user to an import that does not exist
new_db
q "CREATE TABLE schema_migrations (version varchar NOT NULL PRIMARY KEY); CREATE TABLE ar_internal_metadata (key varchar NOT NULL PRIMARY KEY, value varchar); CREATE TABLE a (id integer);" >/dev/null
st --dir "$WORK/fresh" --json status
eq "$(json_get "$OUT" 'j["other_tool"]')" "{'tool': 'rails', 'table': 'schema_migrations'}" "status --json: Rails' table"
st --dir "$WORK/fresh" status
contains "$ERR" "strata cannot import" "status: Rails' migrations cannot be imported"
lacks "$ERR" "import --from rails" "status: no import of Rails"
st --dir "$WORK/fresh" up
expect_rc 1 "up on a database Rails migrated"
contains "$ERR" "migrated by Rails" "the up hint names Rails"
# dbmate's (no dirty column) still names dbmate
new_db
q "CREATE TABLE schema_migrations (version varchar(128) NOT NULL PRIMARY KEY); CREATE TABLE a (id integer);" >/dev/null
st --dir "$WORK/fresh" --json status
eq "$(json_get "$OUT" 'j["other_tool"]')" "{'tool': 'dbmate', 'table': 'schema_migrations'}" "status --json: dbmate's table"

# without another tool's table, no such hint
new_db
q "CREATE TABLE a (id integer)" >/dev/null
st --dir "$WORK/fresh" up
expect_rc 1 "up on a table that is there"
lacks "$ERR" "hint:" "no adopt hint without another tool's table"
st --dir "$WORK/fresh" --json status
eq "$(json_get "$OUT" '"other_tool" in j')" "False" "no other_tool without another tool's table"

# deploy day, adopt forgotten: the first `up` on a database goose migrated,
# with the files imported from goose, would run them all again -- here the
# idempotent first one would seed its admin row a second time. Refused,
# nothing run, the hint is adopt; after adopt only the new one runs.
new_db
U="$WORK/umig"
seed "$U" 00001_seed.sql goose 1 00001_seed.sql
imp "$U" 00002 two goose 2
imp "$U" 00003 three goose 3
goose_table() {
    if [ "$ENGINE" = postgres ]; then
        q "CREATE TABLE goose_db_version (id serial NOT NULL, version_id bigint NOT NULL, is_applied boolean NOT NULL, tstamp timestamp NULL default now(), PRIMARY KEY(id))"
    else
        q "CREATE TABLE goose_db_version (id INTEGER PRIMARY KEY AUTOINCREMENT, version_id INTEGER NOT NULL, is_applied INTEGER NOT NULL, tstamp TIMESTAMP DEFAULT (datetime('now')))"
    fi
}
goose_table
q "INSERT INTO goose_db_version (version_id, is_applied) VALUES (0, $T), (1, $T), (2, $T)"
q "CREATE TABLE t_seed (id integer, name text); INSERT INTO t_seed VALUES (1, 'admin'); CREATE TABLE t_two (id integer PRIMARY KEY)"
before=$("$STRATA" --url "$URL" schema)
st --dir "$U" up
expect_rc 1 "up before adopt on a database goose migrated"
contains "$ERR" "NOT_ADOPTED" "the error code"
contains "$ERR" "migrated by goose" "the tool is named"
contains "$ERR" "2 of these migrations are applied there, up to 00002_two" "what adopt would record"
contains "$ERR" "strata adopt --from goose" "the hint is adopt"
st --dir "$U" --table my_versions up
expect_rc 1 "up --table before adopt"
contains "$ERR" "and --table my_versions" "the hint carries --table"
eq "$(q "SELECT count(*) FROM t_seed")" "1" "the seed row was not inserted again"
eq "$(strata_rows)" "none" "strata's table not created"
eq "$("$STRATA" --url "$URL" schema)" "$before" "the database is as it was"
st --dir "$U" --json up
expect_rc 1 "up --json before adopt"
eq "$(json_get "$ERR" 'j["code"]')" "NOT_ADOPTED" "--json: the code"
st --dir "$U" up --dry-run
expect_rc 1 "the dry run says the same"
contains "$ERR" "NOT_ADOPTED" "dry run: the code"
st --dir "$U" adopt --from goose
expect_rc 0 "adopt"
st --dir "$U" --json up
expect_rc 0 "up after adopt"
eq "$(json_get "$OUT" '[a["version"] for a in j["applied"]]')" "['00003']" "only the new one ran"
eq "$(q "SELECT count(*) FROM t_seed")" "1" "the seed row once"
# reverted to base with strata (goose's table keeps its stale rows): strata's
# record stands, and up applies everything again -- no NOT_ADOPTED, whose
# hint (adopt) would now record migrations whose tables are gone
st --dir "$U" down base
expect_rc 0 "down base after adopt"
st --dir "$U" up
expect_rc 0 "up after down base: $ERR"
eq "$(q "SELECT count(*) FROM t_seed")" "1" "up after down base: the seed row once"
# golang-migrate left dirty at a version these files have: adopt refuses
# until it is repaired, and up must not run what golang-migrate applied
new_db
GM="$WORK/gmdirty"
seed "$GM" 1_seed.sql golang-migrate 1 1_seed.up.sql
imp "$GM" 2 two golang-migrate 2
q "CREATE TABLE schema_migrations (version bigint NOT NULL PRIMARY KEY, dirty boolean NOT NULL)"
q "INSERT INTO schema_migrations VALUES (2, $T)"
q "CREATE TABLE t_seed (id integer, name text); INSERT INTO t_seed VALUES (1, 'admin')"
st --dir "$GM" up
expect_rc 1 "up on a database golang-migrate left dirty"
contains "$ERR" "[NOT_ADOPTED]" "dirty: the code"
contains "$ERR" "is dirty at version 2" "dirty: adopt's reason"
contains "$ERR" "migrate force VERSION" "dirty: the other tool's repair"
eq "$(q "SELECT count(*) FROM t_seed")" "1" "dirty: the seed row not inserted again"
eq "$(strata_rows)" "none" "dirty: strata's table not created"

# goose's table with nothing applied (only its version 0): nothing to adopt
new_db
goose_table
q "INSERT INTO goose_db_version (version_id, is_applied) VALUES (0, $T)"
st --dir "$U" up
expect_rc 0 "up where goose applied nothing"
eq "$(strata_rows)" "00001 00002 00003" "all applied by strata"
# goose's table of another application (versions these files do not have):
# not this history, not in the way
new_db
goose_table
q "INSERT INTO goose_db_version (version_id, is_applied) VALUES (0, $T), (20240101, $T)"
st --dir "$U" up
expect_rc 0 "up beside another application's goose table"
eq "$(q "SELECT count(*) FROM t_seed")" "1" "the seed migration ran once"

# ------------------------------------------------------------- real sqitch
# sqitch itself (Debian package) deploys a project made by `sqitch init`;
# strata imports it, refuses `up` before adopt, adopts what sqitch reports
# deployed, and runs only what is new.
if ! command -v sqitch >/dev/null; then
    echo "note [$ENGINE] $TEST_NAME: sqitch is not installed (apt-get install sqitch libdbd-pg-perl libdbd-sqlite3-perl): real sqitch cases skipped" >&2
else
    export SQITCH_FULLNAME=Tester SQITCH_EMAIL=tester@example.com
    RS="$WORK/realsqitch"
    mkdir -p "$RS"
    new_db
    if [ "$ENGINE" = postgres ]; then
        SENG=pg
        STARGET="db:pg://$PGUSER:$PGPASSWORD@${PGHOST:-localhost}:$PGPORT/$DBNAME"
    else
        SENG=sqlite
        # app.db: sqitch's registry is sqitch.db beside it; a decoy database
        # with another extension beside it has its own registry, sqitch.sqlite3
        SDB="$WORK/rs/app.db"
        mkdir -p "$WORK/rs"
        URL="sqlite:///$SDB"
        DBFILE=$SDB
        STARGET="db:sqlite:$SDB"
    fi
    (cd "$RS" && sqitch init shop --engine "$SENG" >/dev/null) || fail "sqitch init"
    # the sqitch.conf `sqitch init` wrote (its layout keys commented out) is kept
    grep -q "# top_dir" "$RS/sqitch.conf" || fail "sqitch init wrote no commented top_dir"
    (cd "$RS" && sqitch add settings -n settings >/dev/null && sqitch add widgets -n widgets >/dev/null &&
        sqitch add widget_idx -r widgets -n index >/dev/null) || fail "sqitch add"
    # sqitch's own templates hold BEGIN/COMMIT; a seed row shows a second run
    printf 'BEGIN;\nCREATE TABLE settings (k text, v text);\nINSERT INTO settings VALUES (%s);\nCOMMIT;\n' \
        "'mode', 'on'" >"$RS/deploy/settings.sql"
    printf 'BEGIN;\nDROP TABLE settings;\nCOMMIT;\n' >"$RS/revert/settings.sql"
    printf 'CREATE TABLE widgets (id integer PRIMARY KEY, name text);\n' >"$RS/deploy/widgets.sql"
    printf 'DROP TABLE widgets;\n' >"$RS/revert/widgets.sql"
    if [ "$ENGINE" = postgres ]; then
        # psql runs it in autocommit: CONCURRENTLY works under sqitch
        printf 'CREATE INDEX CONCURRENTLY widgets_name ON widgets (name);\n' >"$RS/deploy/widget_idx.sql"
        printf 'DROP INDEX CONCURRENTLY widgets_name;\n' >"$RS/revert/widget_idx.sql"
    else
        printf 'CREATE INDEX widgets_name ON widgets (name);\n' >"$RS/deploy/widget_idx.sql"
        printf 'DROP INDEX widgets_name;\n' >"$RS/revert/widget_idx.sql"
    fi
    printf 'SELECT k FROM settings WHERE FALSE;\n' >"$RS/verify/settings.sql"
    printf 'SELECT id, name FROM widgets WHERE FALSE;\n' >"$RS/verify/widgets.sql"
    printf 'SELECT 1;\n' >"$RS/verify/widget_idx.sql"
    (cd "$RS" && sqitch deploy --to widgets "$STARGET" >/dev/null 2>&1) || fail "sqitch deploy --to widgets"
    if [ "$ENGINE" = sqlite ]; then
        [ -f "$WORK/rs/sqitch.db" ] || fail "sqitch's registry of app.db is sqitch.db"
        # a decoy: another database of the directory, deployed whole, with
        # its own registry (sqitch.sqlite3)
        (cd "$RS" && sqitch deploy "db:sqlite:$WORK/rs/other.sqlite3" >/dev/null 2>&1) || fail "sqitch deploy decoy"
        [ -f "$WORK/rs/sqitch.sqlite3" ] || fail "sqitch's registry of other.sqlite3 is sqitch.sqlite3"
    fi
    raw --dir "$WORK/rsmig" import --from sqitch "$RS"
    expect_rc 0 "import the project sqitch init made"
    eq "$(ls "$WORK/rsmig" | tr '\n' ' ')" "0001_settings.sql 0002_widgets.sql 0003_widget_idx.sql " "the plan's changes"
    if [ "$ENGINE" = postgres ]; then
        contains "$(cat "$WORK/rsmig/0003_widget_idx.sql")" "-- strata:up no-transaction" "CONCURRENTLY outside a transaction, as psql ran it"
    fi
    # before adopt: status warns, up refuses and runs nothing
    st --dir "$WORK/rsmig" status
    expect_rc 0 "status on a database sqitch deployed"
    contains "$ERR" "of sqitch: it was migrated by that tool" "status names sqitch"
    st --dir "$WORK/rsmig" up
    expect_rc 1 "up before adopting sqitch's changes"
    contains "$ERR" "[NOT_ADOPTED]" "sqitch: NOT_ADOPTED"
    eq "$(q "SELECT count(*) FROM settings")" "1" "the seed row not inserted again"
    eq "$(strata_rows)" "none" "strata's table not created"
    st --dir "$WORK/rsmig" adopt --from sqitch
    expect_rc 0 "adopt what sqitch deployed"
    eq "$(strata_rows)" "0001 0002" "what sqitch status reports deployed"
    st --dir "$WORK/rsmig" --json up
    expect_rc 0 "up after adopting sqitch's changes"
    eq "$(json_get "$OUT" '[a["version"] for a in j["applied"]]')" "['0003']" "up runs only the new change"
    eq "$(q "SELECT count(*) FROM settings")" "1" "the seed row once"
    # sqitch's registry is untouched: sqitch itself still sees two changes
    (cd "$RS" && sqitch status "$STARGET" 2>&1) | grep -q "widget_idx" ||
        fail "sqitch status: widget_idx still undeployed for sqitch"
    # a registry of another name (sqitch deploy --registry): --from-table
    new_db
    if [ "$ENGINE" = postgres ]; then
        STARGET="db:pg://$PGUSER:$PGPASSWORD@${PGHOST:-localhost}:$PGPORT/$DBNAME"
        REG=shopreg
        REGFILE=
    else
        SDB="$WORK/rs2/app"
        mkdir -p "$WORK/rs2"
        URL="sqlite:///$SDB"
        DBFILE=$SDB
        STARGET="db:sqlite:$SDB"
        REG=shopreg
        REGFILE="$WORK/rs2/shopreg"
    fi
    (cd "$RS" && sqitch deploy --registry "$REG" --to settings "$STARGET" >/dev/null 2>&1) ||
        fail "sqitch deploy --registry"
    [ -z "$REGFILE" ] || [ -f "$REGFILE" ] || fail "sqitch's registry file $REGFILE (no extension: none added)"
    st --dir "$WORK/rsmig" adopt --from sqitch
    expect_rc 1 "adopt without naming sqitch's registry"
    contains "$ERR" "--from-table" "the hint names --from-table"
    st --dir "$WORK/rsmig" adopt --from sqitch --from-table "$REG"
    expect_rc 0 "adopt --from-table REGISTRY"
    eq "$(strata_rows)" "0001" "the named registry read"
    # what strata cannot express is refused at import, before anything is written
    cp -r "$RS" "$WORK/rs3"
    printf 'COMMENT ON TABLE widgets IS :%s;\n' "'registry'" >>"$WORK/rs3/deploy/widgets.sql"
    raw --dir "$WORK/rs3mig" import --from sqitch "$WORK/rs3"
    expect_rc 2 "a psql variable in a sqitch script"
    contains "$ERR" "psql variable :'registry'" "the variable named"
    [ ! -e "$WORK/rs3mig" ] || fail "nothing written for a refused import"
    rm -f "$WORK"/rs/sqitch.* "$WORK"/rs2/shopreg
fi

finish
