#!/usr/bin/env bash
# Option parsing: numbers that are not finite, empty names, combined short
# flags, '--', and usage on a bare `strata`.
. "$(dirname "$0")/lib.sh"
if [ "$ENGINE" != sqlite ]; then
    echo "ok [$ENGINE] $TEST_NAME (engine-independent, runs on sqlite)"
    exit 0
fi
new_db
D=$WORK/m
mig_a "$D"

for v in nan NaN inf -inf 1e999 -1 abc 2000000 0x10 1e3 " 5" 1.2.3 .; do
    st --dir "$D" --lock-timeout "$v" up
    expect_rc 2 "--lock-timeout $v"
    contains "$ERR" "--lock-timeout" "--lock-timeout $v: names the option"
    contains "$ERR" "USAGE" "--lock-timeout $v: usage code"
done
eq "$(table_exists a)" "0" "nothing ran after bad options"
for v in nan inf 1e999; do
    st --dir "$D" --connect-timeout "$v" up
    expect_rc 2 "--connect-timeout $v"
    raw wait --url "$URL" --timeout "$v"
    expect_rc 2 "wait --timeout $v"
    raw copy --jobs "$v" "$URL" "postgresql://u@h/db"
    expect_rc 2 "copy --jobs $v"
done
for v in 5 0.5 .5; do
    st --dir "$D" --lock-timeout "$v" status
    expect_rc 0 "--lock-timeout $v is a plain decimal"
done
raw --ur "$URL" current
expect_rc 2 "--ur URL current"
contains "$ERR" "unknown option '--ur'" "a misspelt option before the command is named, not its value"
raw copy --tables '' "$URL" "postgresql://u@h/db"
expect_rc 2 "copy --tables ''"
contains "$ERR" "--tables" "copy --tables '': names the option"
st --dir "$D" --table '' up
expect_rc 2 "--table ''"
contains "$ERR" "--table" "--table '': names the option"
eq "$(table_exists a)" "0" "nothing ran after --table ''"
st --dir '' status
expect_rc 2 "--dir ''"

# combined short flags
st --dir "$D" -qv up
expect_rc 0 "-qv"
eq "$OUT" "" "-q in -qv: nothing on stdout"
contains "$ERR" "strata: database" "-v in -qv: says where the URL came from"
st --dir "$D" -vq status
expect_rc 0 "-vq"
st --dir "$D" -qx status
expect_rc 2 "an unknown letter in combined flags"

# '--' ends the options
raw --dir "$D" new -- "-leading dash"
expect_rc 0 "new -- NAME"
contains "$OUT" "_leading_dash.sql" "the name after -- is taken as it is"
# ... and before the command: what follows is the command
st --dir "$D" -- status
expect_rc 0 "-- before the command"
contains "$OUT" "0001" "-- status: runs status"
st --dir "$D" -- nosuch
expect_rc 2 "-- before an unknown command"
contains "$ERR" "unknown command 'nosuch'" "-- nosuch: named"
# a short option's value attached (-j4), like getopt
raw copy "sqlite:///$WORK/none.db" "postgresql://u@127.0.0.1:1/x" -j4
expect_rc 4 "copy -j4: taken (the source is missing)"
lacks "$ERR" "unknown option" "copy -j4: not an unknown option"
for j in 0 -j0 65; do
    if [ "$j" = -j0 ]; then raw copy "sqlite:///$WORK/none.db" "postgresql://u@127.0.0.1:1/x" -j0; else raw copy "sqlite:///$WORK/none.db" "postgresql://u@127.0.0.1:1/x" --jobs "$j"; fi
    expect_rc 2 "copy jobs $j: out of range"
    contains "$ERR" "--jobs needs a whole number from 1 to 64" "copy jobs $j: the message"
done
# -v shows the URL's control characters escaped, as every other line does
raw --url "$(printf 'sqlite:///%s/e\033[31mred.db' "$WORK")" -v current
contains "$ERR" 'e\x1b[31mred.db' "-v: an escape in the URL is shown as \x1b"
case "$ERR" in *$'\033'*) fail "-v: a raw escape reached the terminal" ;; esac

# a bare strata: usage on stderr, exit 2
raw
expect_rc 2 "bare strata"
eq "$OUT" "" "bare strata: nothing on stdout"
contains "$ERR" "usage: strata" "bare strata: usage on stderr"
raw --help
expect_rc 0 "--help"
contains "$OUT" "usage: strata" "--help: usage on stdout"

# version: three spellings, one answer
raw version
expect_rc 0 "strata version"
v=$OUT
raw -V
eq "$OUT" "$v" "-V"
raw --version
eq "$OUT" "$v" "--version"
raw --json version
contains "$OUT" '"version"' "version --json"
jv=$OUT
raw --version --json
eq "$OUT" "$jv" "--version --json: the same document"
raw -V --json
eq "$OUT" "$jv" "-V --json: the same document"
# no command with --json: the error document, not the usage text
raw --json
expect_rc 2 "--json without a command"
eq "$(json_get "$ERR" 'j["code"]')" "USAGE" "--json without a command: a JSON error"

# completion scripts come from the command table
raw completion bash
expect_rc 0 "completion bash"
echo "$OUT" >"$WORK/c.bash"
got=$(bash -c "source '$WORK/c.bash'; COMP_WORDS=(strata acc); COMP_CWORD=1; _strata; echo \"\${COMPREPLY[*]}\"")
eq "$got" "accept" "bash completion of a command"
got=$(bash -c "source '$WORK/c.bash'; COMP_WORDS=(strata up --single); COMP_CWORD=2; _strata; echo \"\${COMPREPLY[*]}\"")
eq "$got" "--single-transaction" "bash completion of a command's option"
# help comes from the same tables that parse: every option a command takes
# (what completion offers) is in its --help, and every global one in --help
raw completion bash
while read -r line; do
    case $line in
    "''"*|"*)"*) continue ;;
    esac
    names=${line%%)*}
    words=${line#*words=\"}
    words=${words%% \$globals*}
    [ "$names" = "$line" ] && continue
    raw "${names%%|*}" --help
    for w in $words; do
        contains "$OUT" "$w" "${names%%|*} --help lists $w"
    done
done < <(echo "$OUT" | grep -E '^    [a-z|]+\) words=')
globals=$(echo "$OUT" | sed -n 's/^    local globals="\(.*\)"$/\1/p')
raw --help
for w in $globals; do
    contains "$OUT" "$w" "--help lists $w"
done
raw new --help
contains "$OUT" "--timestamp" "new --help lists --timestamp"
raw redo --help
contains "$OUT" "--ignore-checksums" "redo --help lists --ignore-checksums"

# an option shared by some commands may stand before the command name
st --dir "$D" --dry-run up
expect_rc 0 "--dry-run before up"
contains "$OUT" "dry run" "--dry-run before up: a dry run"
st --dir "$D" --dry-run status
expect_rc 2 "--dry-run before status"
contains "$ERR" "does not apply to 'status'" "--dry-run before status: message"
# a command's own option before its name is unknown there; a flag takes no value
st --dir "$D" --keep check
expect_rc 2 "--keep before check"
contains "$ERR" "unknown option '--keep'" "--keep before check: message"
# a peer's habit gets the strata way as its hint (Alembic's upgrade --sql)
st --dir "$D" upgrade head --sql
expect_rc 2 "upgrade head --sql"
contains "$ERR" "hint: Alembic's offline --sql is 'strata sql'" "--sql: the hint names strata sql"
st --dir "$D" up -1
expect_rc 2 "up -1"
contains "$ERR" "hint: 'strata down -1' reverts" "up -1: the hint names down -1"
st --dir "$D" down 99
expect_rc 2 "down 99"
contains "$ERR" "or id (0002_" "down 99: the hint's example is the directory's own"
st --dir "$D" status --exit-code=1
expect_rc 2 "a flag with a value"
contains "$ERR" "takes no value" "a flag with a value: message"
# a usage error points at the command's own help, once
raw --dir "$D" stamp
expect_rc 2 "stamp without a target"
eq "$ERR" "strata: error: 'stamp' takes one argument [USAGE]
hint: see 'strata stamp --help'" "usage error: the command's --help in the hint"
# pg_dump's habit of naming the file: backup names it with -o
raw --dir "$D" backup "$WORK/b.dump"
expect_rc 2 "backup FILE"
contains "$ERR" "hint: name the file with -o: strata backup -o FILE" "backup FILE: the hint names -o"
[ ! -e "$WORK/b.dump" ] || fail "backup FILE wrote a file"
raw --dir "$D" nosuchcommand
contains "$ERR" "hint: see 'strata --help'" "an unknown command: the global help"
# the commands of the tools a team comes from: the strata command in the
# hint, exit 2, nothing run
st --dir "$D" current
before=$OUT
for habit in "rollback|'strata down'" "migrate|'strata up'" "dump|'strata schema -o FILE'" \
    "load|'strata restore FILE'" "heads|one head" "show 0002|'strata sql" "branches|one head" \
    "merge heads|one head" "init|'strata new NAME'" "info|'strata status'" "baseline|'strata stamp" \
    "repair|'strata accept" "clean|'strata reset'" "revision --autogenerate -m x|'strata diff" \
    "history -r 0001:0002|'strata history' lists every" "history --indicate-current|'strata status'"; do
    cmd=${habit%%|*}
    # shellcheck disable=SC2086
    st --dir "$D" $cmd
    expect_rc 2 "another tool's '$cmd'"
    contains "$ERR" "hint: " "another tool's '$cmd': a hint"
    contains "$ERR" "${habit#*|}" "another tool's '$cmd': the strata way"
    lacks "$ERR" "see 'strata --help'" "another tool's '$cmd': not only the global help"
done
raw help rollback
expect_rc 2 "help rollback"
contains "$ERR" "hint: dbmate's rollback is 'strata down'" "help rollback: the hint"
st --dir "$D" current
eq "$OUT" "$before" "the habits changed nothing"
# Alembic's targets: heads, head-N
st --dir "$D" upgrade heads
expect_rc 2 "upgrade heads"
contains "$ERR" "hint: strata's history has one head: 'strata up head'" "upgrade heads: the hint"
st --dir "$D" downgrade head-1
expect_rc 2 "downgrade head-1"
contains "$ERR" "hint: Alembic's head-1 is 'strata down -1'" "downgrade head-1: the hint"
st --dir "$D" current
eq "$OUT" "$before" "the targets changed nothing"

raw completion zsh
expect_rc 0 "completion zsh"
contains "$OUT" "#compdef strata" "zsh completion"
raw completion fish
expect_rc 2 "completion for an unknown shell"


# counts: a sign, then digits only (strtol took blanks and a second sign:
# "- 2" and "-+1" reverted, "++1" applied); a huge count is named as given
st --dir "$D" up
expect_rc 0 "counts: up"
before=$(applied_versions)
for t in '-+1' '- 2' '-  +1' '--1'; do
    st --dir "$D" down -- "$t"
    expect_rc 2 "down '$t' refused"
done
for t in '++1' '+ 1' '+-1'; do
    st --dir "$D" up -- "$t"
    expect_rc 2 "up '$t' refused"
done
eq "$(applied_versions)" "$before" "counts: the refused ones changed nothing"
st --dir "$D" down -- -99999999999999999999
expect_rc 2 "down with a count past LONG_MAX"
contains "$ERR" "asks for 99999999999999999999 steps" "the count named as given"

finish
