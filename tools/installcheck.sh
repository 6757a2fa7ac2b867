#!/usr/bin/env bash
# installcheck.sh -- `make installcheck`: installs strata into a scratch
# DESTDIR and uses it as a packager's user would. Fails on the first problem.
set -euo pipefail
cd "$(dirname "$0")/.."
B=${B:-build}
D=$(mktemp -d /tmp/strata-install.XXXXXX)
trap 'rm -rf "$D"' EXIT
PREFIX=/opt/strata-check
make -s install DESTDIR="$D" PREFIX="$PREFIX" >/dev/null
R=$D$PREFIX
fail() { echo "installcheck: $*" >&2; exit 1; }

for f in bin/strata include/strata.h lib/libstrata.a lib/libstrata.so lib/libstrata.so.0 \
    lib/pkgconfig/strata.pc share/man/man1/strata.1 share/bash-completion/completions/strata \
    share/zsh/site-functions/_strata; do
    [ -e "$R/$f" ] || fail "missing $f"
done
[ "$(readlink "$R/lib/libstrata.so.0")" != "" ] || fail "libstrata.so.0 is not a link"
grep -qx "prefix=$PREFIX" "$R/lib/pkgconfig/strata.pc" || fail "strata.pc does not carry the install prefix"

# only the API is exported, from both libraries
bad=$(nm -g --defined-only "$R/lib/libstrata.a" | awk 'NF == 3 && $3 !~ /^strata_/ {print $3}')
[ -z "$bad" ] || fail "libstrata.a exports internal names: $(echo $bad | head -c 300)"
bad=$(nm -D --defined-only "$R/lib/libstrata.so" | awk 'NF == 3 && $3 !~ /^strata_/ {print $3}')
[ -z "$bad" ] || fail "libstrata.so exports internal names: $bad"

# a program against the installed header and strata.pc, shared and static
export PKG_CONFIG_PATH=$R/lib/pkgconfig PKG_CONFIG_SYSROOT_DIR=$D
cflags=$(pkg-config --cflags strata)
libs=$(pkg-config --libs strata)
slibs=$(pkg-config --static --libs strata)
cc $cflags examples/app_startup.c -o "$D/app_shared" $libs
cc $cflags examples/app_startup.c -o "$D/app_static" "$R/lib/libstrata.a" $(pkg-config --static --libs-only-l strata | sed 's/-lstrata//')
readelf -d "$D/app_shared" | grep -q 'NEEDED.*libstrata.so.0' || fail "the program does not need libstrata.so.0"
mkdir -p "$D/m"
printf -- '-- strata:up\nCREATE TABLE t (id integer);\n-- strata:down\nDROP TABLE t;\n' >"$D/m/0001_t.sql"
LD_LIBRARY_PATH=$R/lib "$D/app_shared" "sqlite:///$D/a.db" "$D/m" | grep -q "at head" || fail "shared program"
"$D/app_static" "sqlite:///$D/b.db" "$D/m" | grep -q "at head" || fail "static program"
[ "$(sqlite3 "$D/b.db" 'SELECT count(*) FROM strata_migrations')" = 1 ] || fail "static program: not migrated"
echo "$slibs" >/dev/null

# the installed program and its man page
"$R/bin/strata" --version | grep -q "strata " || fail "strata --version"
err=$(groff -man -Tutf8 -ww "$R/share/man/man1/strata.1" 2>&1 >/dev/null)
[ -z "$err" ] || fail "the man page has roff warnings: $err"
man -l "$R/share/man/man1/strata.1" 2>/dev/null | grep -q "strata accept" || fail "man page lacks a command"

# the bash completion loads and completes a command and its options
out=$(bash -c "source '$R/share/bash-completion/completions/strata'; COMP_WORDS=(strata res); COMP_CWORD=1; _strata; echo \"\${COMPREPLY[*]}\"")
[ "$out" = "reset restore" ] || fail "bash completion of 'res': '$out'"
out=$(bash -c "source '$R/share/bash-completion/completions/strata'; COMP_WORDS=(strata up --dry); COMP_CWORD=2; _strata; echo \"\${COMPREPLY[*]}\"")
[ "$out" = "--dry-run" ] || fail "bash completion of 'up --dry': '$out'"
grep -q '^#compdef strata' "$R/share/zsh/site-functions/_strata" || fail "zsh completion"
"$R/bin/strata" -V | grep -q "strata " || fail "strata -V"

make -s uninstall DESTDIR="$D" PREFIX="$PREFIX" >/dev/null
left=$(find "$R" -type f -o -type l)
[ -z "$left" ] || fail "uninstall left: $left"
echo "installcheck: ok (installed, built against, ran static and shared, man page renders, uninstalled)"
