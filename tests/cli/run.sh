#!/usr/bin/env bash
# run.sh ENGINE [TEST...] -- runs the end-to-end tests for one engine.
set -u
ENGINE=${1:?usage: run.sh sqlite|postgres [test...]}
shift
export ENGINE
export STRATA=${STRATA:-$(cd "$(dirname "$0")/../.." && pwd)/build/strata}
export APP=${APP:-$(dirname "$STRATA")/app_startup}
export APP_EMBEDDED=${APP_EMBEDDED:-$(dirname "$STRATA")/app_embedded}
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=0:exitcode=99}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1:exitcode=98}
dir=$(cd "$(dirname "$0")" && pwd)
tests=("$@")
[ ${#tests[@]} -eq 0 ] && tests=("$dir"/test_*.sh)
failed=0
for t in "${tests[@]}"; do
    [ -f "$t" ] || t="$dir/$t"
    if ! bash "$t"; then failed=$((failed + 1)); fi
done
if [ $failed -ne 0 ]; then
    echo "$failed test file(s) failed on $ENGINE"
    exit 1
fi
echo "all end-to-end tests passed on $ENGINE"
