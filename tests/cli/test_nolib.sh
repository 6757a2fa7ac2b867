#!/usr/bin/env bash
# strata opens libpq and libcrypto with dlopen when it first needs them. On a machine without one of them the
# command that needs it stops with a clear error, a hint where one helps, the
# configuration exit code, and the database as it was; the others still work.
# A preloaded shim makes dlopen fail for the library named in HIDE_LIB, as a
# machine without it would (with the loader's own message).
. "$(dirname "$0")/lib.sh"

if [ "$ENGINE" != sqlite ]; then
    finish # no server needed: the sqlite run covers it
fi

cat >"$WORK/hide.c" <<'C'
#define _GNU_SOURCE
#include <dlfcn.h>
#include <stdlib.h>
#include <string.h>

void *dlopen(const char *file, int mode)
{
    void *(*real)(const char *, int) = (void *(*)(const char *, int))dlsym(RTLD_NEXT, "dlopen");
    const char *hide = getenv("HIDE_LIB");
    if (file && hide && *hide && strstr(file, hide))
        return real("/nonexistent/strata-test-hidden.so", mode); /* fails, sets dlerror() */
    return real(file, mode);
}
C
cc -shared -fPIC -o "$WORK/hide.so" "$WORK/hide.c" -ldl || {
    fail "cannot build the dlopen shim"
    finish
}
# the sanitizer build wants its runtime first among the preloaded libraries
export ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}verify_asan_link_order=0"
hidden() { # hidden LIB args...: strata with LIB missing
    local lib=$1
    shift
    HIDE_LIB=$lib LD_PRELOAD=$WORK/hide.so raw "$@"
}

D=$WORK/m
mig_a "$D"

# ---------------------------------------------------------------- libcrypto
new_db
hidden libcrypto --url "$URL" --dir "$D" up
expect_rc 2 "up without libcrypto"
contains "$ERR" "cannot compute the checksum of" "the error says what could not be done"
contains "$ERR" "cannot load libcrypto" "and names the library"
contains "$ERR" "strata-test-hidden.so" "with the loader's own reason"
contains "$ERR" "hint: install OpenSSL's libcrypto" "and how to get it"
eq "$(table_exists a)" 0 "nothing was applied"
hidden libcrypto --json --url "$URL" --dir "$D" validate
expect_rc 3 "validate without libcrypto reports the problem"
contains "$ERR$OUT" "CONFIG_ERROR" "as a configuration problem"
# with the library the same command works (files older than the checksum
# cache's 10-second margin are then not hashed again: test_cache.sh)
raw --url "$URL" --dir "$D" up
expect_rc 0 "up with libcrypto"
eq "$(table_exists a)" 1 "applied"

# ---------------------------------------------------------------- libpq
PGURL="postgresql://app:s3cretLEAK@127.0.0.1:1/app"
hidden libpq --url "$PGURL" --dir "$D" status
expect_rc 2 "a PostgreSQL URL without libpq"
contains "$ERR" "cannot load the PostgreSQL client library" "the error names what is missing"
contains "$ERR" "hint: install libpq5" "and says how to get it"
lacks "$ERR" "s3cretLEAK" "no password printed"
hidden libpq --json --url "$PGURL" --dir "$D" up
expect_rc 2 "up without libpq"
eq "$(json_get "$ERR" 'j["code"]')" "CONFIG_ERROR" "stable code"
hidden libpq copy "$URL" "$PGURL"
expect_rc 2 "copy without libpq"
contains "$ERR" "cannot load the PostgreSQL client library" "copy says so too"
lacks "$ERR" "s3cretLEAK" "no password printed by copy"
# SQLite needs no libpq
hidden libpq --url "$URL" --dir "$D" status
expect_rc 0 "SQLite works without libpq"

finish
