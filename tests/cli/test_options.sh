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
mig "$D" 0001_a.sql <<'SQL'
-- strata:up
CREATE TABLE a (id integer);
-- strata:down
DROP TABLE a;
SQL

for v in nan NaN inf -inf 1e999 -1 abc 2000000; do
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

# completion scripts come from the command table
raw completion bash
expect_rc 0 "completion bash"
echo "$OUT" >"$WORK/c.bash"
got=$(bash -c "source '$WORK/c.bash'; COMP_WORDS=(strata acc); COMP_CWORD=1; _strata; echo \"\${COMPREPLY[*]}\"")
eq "$got" "accept" "bash completion of a command"
got=$(bash -c "source '$WORK/c.bash'; COMP_WORDS=(strata up --single); COMP_CWORD=2; _strata; echo \"\${COMPREPLY[*]}\"")
eq "$got" "--single-transaction" "bash completion of a command's option"
raw completion zsh
expect_rc 0 "completion zsh"
contains "$OUT" "#compdef strata" "zsh completion"
raw completion fish
expect_rc 2 "completion for an unknown shell"

finish
