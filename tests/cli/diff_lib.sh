# diff_lib.sh -- helpers of the strata diff tests (sourced after lib.sh).
# SERVER is the URL diff builds its scratch databases beside; each test
# sets it (to the first new_db's URL) before calling these.

# schema_of URL: the schema text
schema_of() { "$STRATA" --url "$1" schema; }

# diff_in DIR [args]: strata diff with the server URL; sets RC, OUT, ERR
diff_in() {
    local d=$1
    shift
    "$STRATA" --url "$SERVER" --dir "$d" diff "$@" >"$WORK/out" 2>"$WORK/err"
    RC=$?
    OUT=$(cat "$WORK/out")
    ERR=$(cat "$WORK/err")
}

# pair NAME 'BASE SQL' 'DESIRED SQL' [diff args]: a directory whose init
# builds BASE (written by diff), a database migrated to it (URL); then
# diff -m step to DESIRED. Sets RC/OUT/ERR of that diff; QD is the directory.
pair() {
    local name=$1 base=$2 want=$3
    shift 3
    QD=$WORK/qa_$name
    rm -rf "$QD"
    mkdir -p "$QD"
    printf '%s\n' "$base" >"$WORK/qa_base.sql"
    printf '%s\n' "$want" >"$WORK/qa_want.sql"
    diff_in "$QD" --to "$WORK/qa_base.sql" -m init
    expect_rc 0 "$name: diff of the base"
    new_db
    st --dir "$QD" up
    expect_rc 0 "$name: up of the base"
    diff_in "$QD" --to "$WORK/qa_want.sql" -m step "$@"
}
