#!/usr/bin/env bash
# A process connected directly (advisory lock) and one through PgBouncer
# (lease row) on the same database -- a migration job beside replicas behind
# a pooler -- exclude each other: each migration runs once, the second
# waits and exits 0 (before: both ran 0002 at once; the second failed on the
# version table's key after its UPDATE had run, or reported a no-transaction
# section "failed earlier" while the first was still running it).
. "$(dirname "$0")/lib.sh"
postgres_only
. "$(dirname "$0")/pgbouncer_lib.sh"

D=$WORK/m
mig "$D" 0001_acct.sql <<'SQL'
-- strata:up
CREATE TABLE acct (id int PRIMARY KEY, bal int NOT NULL);
INSERT INTO acct VALUES (1, 0);
-- strata:down
DROP TABLE acct;
SQL
mig "$D" 0002_credit.sql <<'SQL'
-- strata:up
SELECT pg_sleep(2);
UPDATE acct SET bal = bal + 100;
-- strata:down
UPDATE acct SET bal = bal - 100;
SQL
mig "$D" 0003_nt.sql <<'SQL'
-- strata:up no-transaction
SELECT pg_sleep(2);
UPDATE acct SET bal = bal + 1;
-- strata:down no-transaction
UPDATE acct SET bal = bal - 1;
SQL

for mode in transaction session; do
    pgb_start "$mode"
    for first in pooled direct; do
        new_db
        st --dir "$D" up 0001
        expect_rc 0 "$mode/$first: the first migration"
        PURL=$(pgb_url "$DBNAME")
        if [ "$first" = pooled ]; then a=$PURL b=$URL; else a=$URL b=$PURL; fi
        "$STRATA" --url "$a" --dir "$D" up >"$WORK/a.out" 2>"$WORK/a.err" &
        pa=$!
        sleep 0.7
        "$STRATA" --url "$b" --dir "$D" up >"$WORK/b.out" 2>"$WORK/b.err" &
        pb=$!
        wait "$pa"
        ra=$?
        wait "$pb"
        rb=$?
        [ "$ra" = 0 ] || fail "$mode/$first: the first exited $ra: $(cat "$WORK/a.err")"
        [ "$rb" = 0 ] || fail "$mode/$first: the second exited $rb: $(cat "$WORK/b.err")"
        eq "$(q "SELECT bal FROM acct")" 101 "$mode/$first: each migration ran once"
        eq "$(applied_versions | tr '\n' ' ')" "0001 0002 0003 " "$mode/$first: all applied"
    done
    # every migration of a run keeps UTF-8 through the pooler, also after
    # the session reset between migrations (RESET ALL went back to the
    # pooled server connection's LATIN1: the second migration's text was
    # stored as other characters)
    L="l_$(date +%s%N | tail -c 10)_$RANDOM"
    createdb -E LATIN1 -T template0 --locale=C "$L"
    DBS+=("$L")
    E=$WORK/enc_$mode
    mig "$E" 0001_a.sql <<'SQL'
-- strata:up
CREATE TABLE enc (n int, s text);
INSERT INTO enc VALUES (1, 'café');
-- strata:down
DROP TABLE enc;
SQL
    mig "$E" 0002_b.sql <<'SQL'
-- strata:up
INSERT INTO enc VALUES (2, 'café');
-- strata:down
DELETE FROM enc WHERE n = 2;
SQL
    raw --url "$(pgb_url "$L")" --dir "$E" up
    expect_rc 0 "$mode: up on a LATIN1 database through the pooler"
    eq "$(PGCLIENTENCODING=UTF8 psql -X -A -t -d "$L" -c "SELECT string_agg(n || ':' || s || ':' || length(s), ' ' ORDER BY n) FROM enc")" \
        "1:café:4 2:café:4" "$mode: both migrations stored the text as its characters"
    pgb_stop
done
finish
