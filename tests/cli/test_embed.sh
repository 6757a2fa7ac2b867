#!/usr/bin/env bash
# test_embed.sh -- migrations compiled into a program: strata embed, then
# strata_migset_from_array + strata_startup_set (examples/app_embedded.c).
. "$(dirname "$0")/lib.sh"
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
POS=$ROOT/examples/pos/migrations
EMB=${APP_EMBEDDED:-$(dirname "$STRATA")/app_embedded}

# a program with the POS migrations compiled in upgrades a fresh database;
# the files then agree with it (same checksums): status is clean
new_db
"$EMB" "$URL" >"$WORK/app.out" 2>&1
eq "$?" "0" "app_embedded on a fresh database ($(cat "$WORK/app.out"))"
contains "$(cat "$WORK/app.out")" "12 migrations compiled in" "app_embedded says what it holds"
st --dir "$POS" status --exit-code --json
expect_rc 0 "status from the files after the compiled-in upgrade"
eq "$(json_get "$OUT" 'j["current"]')" "0012" "at the head of the files"
"$EMB" "$URL" >/dev/null 2>&1
eq "$?" "0" "app_embedded again: nothing to do"
eq "$(q "SELECT count(*) FROM strata_migrations")" "12" "each migration recorded once"
# and the reverse: migrated from the files, the program finds nothing to do
new_db
st --dir "$POS" up
expect_rc 0 "up from the files"
"$EMB" "$URL" >/dev/null 2>&1
eq "$?" "0" "app_embedded after an upgrade from the files"
eq "$(q "SELECT count(*) FROM strata_migrations")" "12" "nothing applied twice"
# behind by two: the program applies them
st --dir "$POS" down 2
expect_rc 0 "down 2"
"$EMB" "$URL" >/dev/null 2>&1
eq "$?" "0" "app_embedded applies what is missing"
st --dir "$POS" current
eq "$OUT" "0012" "back at head"

# byte for byte: quotes, backslashes, tabs, CRLF, UTF-8, trigraph-looking
# text and octal-looking digits come back exactly
D=$WORK/m
mkdir -p "$D"
printf -- '-- strata:up\r\nCREATE TABLE t (s text DEFAULT '"'"'a "q" \\\\ \t é ??= ??/ \\\\0 \\0011'"'"');\r\n-- strata:down\nDROP TABLE t;\n' \
    >"$D/0001_tricky.sql"
printf -- '-- strata:up\nSELECT 1;\n-- strata:down\nSELECT 1;' >"$D/0002_no_final_newline.sql"
raw --dir "$D" embed -o "$WORK/mig.c" --name my_migs
expect_rc 0 "embed -o"
contains "$ERR" "wrote $WORK/mig.c: 2 migrations as my_migs[] and my_migs_count" "embed says what it wrote"
cat >"$WORK/dump.c" <<'C'
#include <stdio.h>
#include <string.h>
#include <strata.h>
extern const strata_migration_src my_migs[];
extern const size_t my_migs_count;
int main(int argc, char **argv)
{
    for (size_t i = 0; i < my_migs_count; i++) {
        char path[4096];
        snprintf(path, sizeof(path), "%s/%s", argv[1], my_migs[i].filename);
        FILE *f = fopen(path, "wb");
        if (!f || fwrite(my_migs[i].text, 1, my_migs[i].len, f) != my_migs[i].len || fclose(f))
            return 1;
    }
    return argc == 2 ? 0 : 1;
}
C
mkdir -p "$WORK/back"
if ${CC:-cc} -std=c11 -Wall -Werror -I"$ROOT/include" -o "$WORK/dump" "$WORK/dump.c" "$WORK/mig.c" 2>"$WORK/cc.err"; then
    "$WORK/dump" "$WORK/back"
    eq "$?" "0" "the compiled array dumps"
    for f in 0001_tricky.sql 0002_no_final_newline.sql; do
        cmp -s "$D/$f" "$WORK/back/$f" || fail "$f did not come back byte for byte"
    done
else
    fail "the generated C does not compile: $(cat "$WORK/cc.err")"
fi
raw --dir "$D" embed
expect_rc 0 "embed to stdout"
contains "$OUT" "const size_t strata_migrations_count = 2;" "default array name"
# -o naming a FIFO or a device: refused, never renamed over (as root,
# `embed -o /dev/null` replaced /dev/null with a file)
mkfifo "$WORK/fifo"
raw --dir "$D" embed -o "$WORK/fifo"
expect_rc 2 "embed -o FIFO"
contains "$ERR" "[FILE_NOT_REGULAR]" "embed -o FIFO: the code"
[ -p "$WORK/fifo" ] || fail "embed -o replaced the FIFO"
# --json: the C goes to the file, the summary is one JSON document
raw --json --dir "$D" embed
expect_rc 2 "embed --json without -o"
contains "$ERR" '"code": "USAGE"' "embed --json without -o: a usage error"
[ -z "$OUT" ] || fail "embed --json without -o printed: $OUT"
raw --json --dir "$D" embed -o "$WORK/j.c"
expect_rc 0 "embed --json -o"
eq "$(json_get "$OUT" 'j["migrations"]')" "2" "embed --json counts the migrations"
eq "$(json_get "$OUT" 'j["file"]')" "$WORK/j.c" "embed --json names the file"
cmp -s "$WORK/j.c" "$WORK/mig.c" && fail "--name differs: the files should differ"
grep -q "strata_migrations_count = 2;" "$WORK/j.c" || fail "embed --json -o wrote no C"

# a directory with a problem is refused, and -o is not written
mig "$D" 0003_broken.sql <<'SQL'
CREATE TABLE no_marker (id int);
SQL
raw --dir "$D" embed -o "$WORK/broken.c"
expect_rc 2 "embed with a malformed migration"
contains "$ERR" "[PARSE_ERROR]" "the problem is named"
[ -e "$WORK/broken.c" ] && fail "a refused embed wrote its output"
ls "$WORK" | grep -q 'broken.c.tmp' && fail "a temporary file was left behind"
raw --dir "$D" embed --name 9lives
expect_rc 2 "--name must be a C identifier"
# names that would not compile: a keyword, a reserved name, the library's own
for n in int static _Bool strata_migset_from_array; do
    raw --dir "$D" embed --name "$n" -o "$WORK/kw.c"
    expect_rc 2 "--name $n refused"
    [ -e "$WORK/kw.c" ] && fail "--name $n: nothing written"
done
raw --dir "$WORK/none" embed
expect_rc 2 "embed of a missing directory"
contains "$ERR" "[DIR_NOT_FOUND]" "missing directory code"


# a directory whose name holds "*/" (it ended the header comment: the file
# did not compile, and the rest of the name was code)
mkdir -p "$WORK/d*/sub"
cp "$POS"/*.sql "$WORK/d*/sub/"
raw --dir "$WORK/d*/sub" embed --name starry -o "$WORK/starry.c"
expect_rc 0 "embed from a directory named with */"
cc -std=c99 -Wall -Werror -I"$ROOT/include" -c "$WORK/starry.c" -o "$WORK/starry.o" 2>"$WORK/cc.err" ||
    fail "the embedded file from a */ directory does not compile: $(cat "$WORK/cc.err")"

finish
