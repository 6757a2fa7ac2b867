#!/usr/bin/env bash
# TLS as production connects: a second throwaway PostgreSQL 15 with SSL on
# (a CA of the test's own making), pg_hba.conf taking only SSL, a role that
# must show a client certificate whose key is encrypted. Each check failed
# before:
# - backup/restore put the key's passphrase (sslpassword) on pg_dump's and
#   pg_restore's command line, which ps shows to every user (now a memory
#   file the child reads as its service file);
# - an encrypted key without sslpassword: OpenSSL prompted "Enter PEM pass
#   phrase:" (a deploy on a terminal hung; without one the prompt went to
#   stderr at every retry);
# - every certificate problem got the hint "enable SSL on the server";
# - a world-readable or undecryptable key was retried as "database not ready"
#   for the whole --connect-timeout;
# - ?channel_binding=bogus in the URL was blamed on the environment.
. "$(dirname "$0")/lib.sh"
postgres_only
command -v openssl >/dev/null || {
    fail "openssl is not installed (tools/deps.sh installs it)"
    finish
}

P=$WORK/pki
mkdir -p "$P"
(
    cd "$P" || exit 1
    openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj "/CN=strata test CA" -keyout ca.key -out ca.crt
    openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj "/CN=other CA" -keyout wrongca.key -out wrongca.crt
    openssl req -newkey rsa:2048 -nodes -subj "/CN=localhost" -keyout server.key -out server.csr
    printf 'subjectAltName=DNS:localhost,IP:127.0.0.1\n' >san.ext
    openssl x509 -req -in server.csr -CA ca.crt -CAkey ca.key -CAcreateserial -days 2 -extfile san.ext -out server.crt
    openssl req -newkey rsa:2048 -nodes -subj "/CN=tlsapp" -keyout app.plain.key -out app.csr
    openssl x509 -req -in app.csr -CA ca.crt -CAkey ca.key -CAcreateserial -days 2 -out app.crt
    openssl pkey -in app.plain.key -aes256 -passout pass:KeyPass7Secret -out app.key
    cp app.key app644.key
    chmod 600 app.key app.plain.key
    chmod 644 app644.key
) >"$WORK/openssl.log" 2>&1 || {
    fail "openssl: $(tail -3 "$WORK/openssl.log")"
    finish
}
chmod 755 "$WORK" "$P"
chmod 644 "$P"/server.* "$P"/ca.crt

cat >"$WORK/inner.sh" <<'INNER'
# runs inside its own pg_virtualenv: SSL on, then the checks
set -u
C=$PG_CLUSTER_CONF_ROOT/15/regress
D=$(dirname "$PG_CLUSTER_CONF_ROOT")/data/15/regress
cp "$P/server.key" "$P/server.crt" "$P/ca.crt" "$D/"
chown postgres: "$D/server.key" "$D/server.crt" "$D/ca.crt" 2>/dev/null
chmod 600 "$D/server.key"
printf "ssl = on\nssl_cert_file = '%s'\nssl_key_file = '%s'\nssl_ca_file = '%s'\n" \
    "$D/server.crt" "$D/server.key" "$D/ca.crt" >>"$C/postgresql.conf"
psql -X -q -c "CREATE ROLE tlsapp LOGIN CREATEDB PASSWORD 'App%Pw9/secret'" \
    -c "CREATE DATABASE tlsdb OWNER tlsapp" >/dev/null || exit 90
cat >"$C/pg_hba.conf" <<'EOH'
local   all     all                     peer
hostssl all     tlsapp  127.0.0.1/32    scram-sha-256 clientcert=verify-full
hostssl all     tlsapp  ::1/128         scram-sha-256 clientcert=verify-full
hostssl all     all     127.0.0.1/32    scram-sha-256
hostssl all     all     ::1/128         scram-sha-256
hostnossl all   all     0.0.0.0/0       reject
hostnossl all   all     ::/0            reject
EOH
chown postgres: "$C/pg_hba.conf" 2>/dev/null
runas=()
[ "$(id -u)" = 0 ] && runas=(su postgres -c)
if [ ${#runas[@]} -gt 0 ]; then
    su postgres -c "/usr/lib/postgresql/15/bin/pg_ctl -D '$D' -o '-c config_file=$C/postgresql.conf' restart -m fast -w -l '$D/restart.log'" >/dev/null || exit 91
else
    /usr/lib/postgresql/15/bin/pg_ctl -D "$D" -o "-c config_file=$C/postgresql.conf" restart -m fast -w -l "$D/restart.log" >/dev/null || exit 91
fi
unset PGPASSWORD PGUSER PGDATABASE
B="postgresql://tlsapp:App%25Pw9%2Fsecret@localhost:$PGPORT/tlsdb"
TLS="sslmode=verify-full&sslrootcert=$P/ca.crt&sslcert=$P/app.crt"
export B TLS
bash "$CHECKS"
INNER

cat >"$WORK/checks.sh" <<'CHECKS'
# the checks, inside the TLS cluster; one line per failure on stdout
set -u
bad() { echo "BAD: $*" | tr '\n' ' '; echo; }
run() { # run LABEL URL ARGS...: sets RC, ERR, SECS
    local l=$1 u=$2 t0 t1
    shift 2
    t0=$(date +%s%N)
    "$STRATA" --url "$u" --dir "$W/m" "$@" </dev/null >"$W/out" 2>"$W/err"
    RC=$?
    t1=$(date +%s%N)
    ERR=$(cat "$W/err")
    MS=$(((t1 - t0) / 1000000))
}
GOOD="$B?$TLS&sslkey=$P/app.key&sslpassword=KeyPass7Secret"
mkdir -p "$W/m"
printf -- '-- strata:up\nCREATE TABLE t (id bigint PRIMARY KEY, v text);\nINSERT INTO t SELECT g, md5(g::text) FROM generate_series(1, 20000) g;\n' >"$W/m/0001_t.sql"
run up "$GOOD" up
[ "$RC" = 0 ] || bad "up over TLS with a client certificate: exit $RC: $ERR"
# pg_dump and pg_restore see their argv recorded by a wrapper first on PATH
mkdir -p "$W/bin"
for tool in pg_dump pg_restore; do
    printf '#!/bin/sh\nprintf "%%s\\n" "$@" >>"%s/argv"\nexec /usr/lib/postgresql/15/bin/%s "$@"\n' "$W" "$tool" >"$W/bin/$tool"
    chmod +x "$W/bin/$tool"
done
PATH="$W/bin:$PATH" run backup "$GOOD" backup -o "$W/b.dump"
[ "$RC" = 0 ] || bad "backup over TLS with an encrypted key: exit $RC: $ERR"
PATH="$W/bin:$PATH" run restore "$GOOD" restore "$W/b.dump"
[ "$RC" = 0 ] || bad "restore over TLS with an encrypted key: exit $RC: $ERR"
grep -q . "$W/argv" 2>/dev/null || bad "the wrapper saw no pg_dump/pg_restore (PATH not used?)"
grep -q KeyPass7Secret "$W/argv" && bad "the key's passphrase is in pg_dump's or pg_restore's argv"
grep -q 'App%Pw9' "$W/argv" && bad "the password is in pg_dump's or pg_restore's argv"
ls /dev/shm 2>/dev/null | grep -q strata-service && bad "a service file left in /dev/shm"
# no passphrase: never a prompt, at once, a hint naming sslpassword
run nopass "$B?$TLS&sslkey=$P/app.key" status
[ "$RC" = 4 ] || bad "encrypted key without sslpassword: exit $RC, expected 4: $ERR"
case "$ERR" in *"PEM pass phrase"*) bad "OpenSSL prompted for the passphrase: $ERR" ;; esac
case "$ERR" in *"hint:"*sslpassword*) ;; *) bad "no sslpassword hint: $ERR" ;; esac
[ "$MS" -lt 3000 ] || bad "encrypted key without sslpassword took $MS ms (retried?)"
# a world-readable key: settled at once, with the way out
run perm "$B?$TLS&sslkey=$P/app644.key&sslpassword=KeyPass7Secret" --connect-timeout 20 status
[ "$RC" = 4 ] || bad "0644 key: exit $RC"
[ "$MS" -lt 3000 ] || bad "0644 key: retried for $MS ms"
case "$ERR" in *"chmod 600"*) ;; *) bad "0644 key: no chmod hint: $ERR" ;; esac
case "$ERR" in *"not ready"*) bad "0644 key: called not ready: $ERR" ;; esac
# certificates: the hint names what to fix, never "enable SSL on the server"
run wrongca "$B?sslmode=verify-full&sslrootcert=$P/wrongca.crt&sslcert=$P/app.crt&sslkey=$P/app.key&sslpassword=KeyPass7Secret" status
case "$ERR" in *"hint:"*sslrootcert*) ;; *) bad "wrong CA: no sslrootcert hint: $ERR" ;; esac
run host "postgresql://tlsapp:App%25Pw9%2Fsecret@db.example.com:$PGPORT/tlsdb?hostaddr=127.0.0.1&$TLS&sslkey=$P/app.key&sslpassword=KeyPass7Secret" status
case "$ERR" in *"hint:"*verify-ca*) ;; *) bad "host name mismatch: no hint: $ERR" ;; esac
run nocert "$B?sslmode=verify-full&sslrootcert=$P/ca.crt" status
case "$ERR" in *"hint:"*sslcert*) ;; *) bad "client certificate wanted: no sslcert hint: $ERR" ;; esac
run nossl "$B?sslmode=disable" status
case "$ERR" in *"hint:"*sslmode=require*) ;; *) bad "SSL-only pg_hba: no sslmode hint: $ERR" ;; esac
for e in "$W/err"; do
    grep -q KeyPass7Secret "$e" && bad "the passphrase printed"
done
# a service in the URL beside sslpassword, and other defaults in the
# environment: pg_dump dumps the database the service names (it dumped
# PGDATABASE's, exit 0)
psql -X -q -c "CREATE DATABASE other_db" -c "CREATE TABLE IF NOT EXISTS only_other (x int)" >/dev/null 2>&1
psql -X -q -d other_db -c "CREATE TABLE only_other (x int)" >/dev/null 2>&1
cat >"$W/svc.conf" <<EOS
[mysvc]
host=localhost
port=$PGPORT
dbname=tlsdb
user=tlsapp
password=App%Pw9/secret
sslmode=verify-full
sslrootcert=$P/ca.crt
sslcert=$P/app.crt
sslkey=$P/app.key
EOS
PGSERVICEFILE="$W/svc.conf" PGDATABASE=other_db PGHOST=localhost \
    run svc "postgresql:///?service=mysvc&sslpassword=KeyPass7Secret" backup -o "$W/svc.dump"
[ "$RC" = 0 ] || bad "backup through a service: exit $RC: $ERR"
/usr/lib/postgresql/15/bin/pg_restore -l "$W/svc.dump" 2>/dev/null | grep -q only_other &&
    bad "backup through a service dumped PGDATABASE's database"
/usr/lib/postgresql/15/bin/pg_restore -l "$W/svc.dump" 2>/dev/null | grep -q ' TABLE public t ' ||
    bad "backup through a service: not the service's database"
# the URL in DATABASE_URL: not in the child's environment
printf '#!/bin/sh\ncat /proc/$$/environ | tr "\\0" "\\n" >"%s/child.env"\nexec /usr/lib/postgresql/15/bin/pg_dump "$@"\n' "$W" >"$W/bin/pg_dump"
DATABASE_URL="$GOOD" PATH="$W/bin:$PATH" "$STRATA" --dir "$W/m" backup -o "$W/env.dump" </dev/null >"$W/out" 2>"$W/err" ||
    bad "backup from DATABASE_URL: $(cat "$W/err")"
grep -q KeyPass7Secret "$W/child.env" && bad "the passphrase is in pg_dump's environment"
grep -q '^DATABASE_URL=' "$W/child.env" && bad "DATABASE_URL (with the secrets) handed to pg_dump"
# what libpq cannot be given outside a command line is refused, clearly
openssl pkey -in "$P/app.plain.key" -aes256 -passout 'pass:Trail ' -out "$W/trail.key" 2>/dev/null
chmod 600 "$W/trail.key"
run trail "$B?$TLS&sslkey=$W/trail.key&sslpassword=Trail%20" backup -o "$W/trail.dump"
[ "$RC" = 2 ] || bad "a passphrase ending in a blank: backup exit $RC, expected 2: $ERR"
case "$ERR" in *"[CONFIG_ERROR]"*) ;; *) bad "a passphrase ending in a blank: not CONFIG_ERROR: $ERR" ;; esac
# the key: wrong passphrase, missing file
run badpass "$B?$TLS&sslkey=$P/app.key&sslpassword=Wrong" status
case "$ERR" in *"does not open the key"*) ;; *) bad "wrong passphrase: hint: $ERR" ;; esac
run nokey "$B?$TLS&sslkey=$W/no-such.key&sslpassword=KeyPass7Secret" status
case "$ERR" in *"does not exist"*) ;; *) bad "missing key file: hint: $ERR" ;; esac
run ka "$GOOD&keepalives=abc" status
case "$ERR" in *"[URL_INVALID]"*) ;; *) bad "keepalives=abc: not URL_INVALID: $ERR" ;; esac
run cb "$GOOD&channel_binding=bogus" status
[ "$RC" = 2 ] || bad "channel_binding=bogus: exit $RC"
case "$ERR" in *"[URL_INVALID]"*"channel_binding"*) ;; *) bad "channel_binding=bogus: not URL_INVALID naming it: $ERR" ;; esac
CHECKS

# a cluster of its own: none of the test server's PG* variables
unset_pg=()
for v in $(env | sed -n 's/^\(PG[A-Z_]*\)=.*/\1/p'); do unset_pg+=(-u "$v"); done
env "${unset_pg[@]}" P="$P" CHECKS="$WORK/checks.sh" W="$WORK" STRATA="$STRATA" \
    pg_virtualenv -t -v 15 bash "$WORK/inner.sh" >"$WORK/tls.out" 2>"$WORK/tls.err"
rc=$?
[ "$rc" = 0 ] || fail "the TLS cluster: exit $rc: $(tail -5 "$WORK/tls.err")"
while IFS= read -r line; do
    case "$line" in "BAD: "*) fail "${line#BAD: }" ;; esac
done <"$WORK/tls.out"
finish
