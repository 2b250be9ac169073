#!/usr/bin/env bash
# The libFuzzer targets in fuzz/, built with clang in a directory of their own
# (fuzz/README.md):
#   bash scripts/fuzz.sh smoke                 build, then every target for a few seconds
#                                              (ctest's fuzz_smoke; WS2API_FUZZ_SECONDS, 4)
#   bash scripts/fuzz.sh run TARGET [SECONDS] [LIBFUZZER_FLAGS...]
#                                              one target for longer (default 600 s)
#   bash scripts/fuzz.sh build
# The build directory is WS2API_FUZZ_BUILD_DIR (default build-fuzz). Every target first
# replays its seeds (fuzz/corpus/TARGET) and the inputs that once failed
# (fuzz/regressions/TARGET); what it learns goes to BUILD_DIR/corpus/TARGET, an input
# that fails to BUILD_DIR/artifacts.
set -euo pipefail
cd "$(dirname "$0")/.."
src=$PWD

dir=${WS2API_FUZZ_BUILD_DIR:-build-fuzz}

usage() {
    echo "usage: bash scripts/fuzz.sh smoke | run TARGET [SECONDS] [LIBFUZZER_FLAGS...] | build" >&2
    exit 2
}

build() {
    if [ ! -f "$dir/build.ninja" ]; then
        cmake -S fuzz -B "$dir" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
            -DCMAKE_CXX_COMPILER=clang++ >/dev/null
    fi
    cmake --build "$dir" -- --quiet
}

targets() {
    for f in fuzz/fuzz_*.cpp; do basename "$f" .cpp; done
}

# fuzz TARGET SECONDS [FLAGS...]: libFuzzer's own exit status (0: nothing found).
fuzz() {
    local target=$1 seconds=$2
    shift 2
    local dirs=("$src/fuzz/corpus/$target")
    [ -d "$src/fuzz/regressions/$target" ] && dirs+=("$src/fuzz/regressions/$target")
    mkdir -p "$dir/corpus/$target" "$dir/artifacts"
    # The first directory receives new inputs; the committed ones are only read.
    # -timeout: an input that takes this long is a hang, and a finding.
    "$dir/$target" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 \
        -print_final_stats=1 -artifact_prefix="$dir/artifacts/$target-" "$@" \
        "$dir/corpus/$target" "${dirs[@]}"
}

mode=${1:-}
case "$mode" in
smoke)
    build
    failed=()
    for target in $(targets); do
        log="$dir/$target.log"
        if fuzz "$target" "${WS2API_FUZZ_SECONDS:-4}" >"$log" 2>&1; then
            echo "$target: $(grep -m1 -o 'stat::number_of_executed_units: [0-9]*' "$log" | grep -o '[0-9]*$') inputs, nothing found"
        else
            failed+=("$target")
            echo "$target: FAILED (log: $log)"
            # From the first report on (a sanitizer's, a broken property, a timeout).
            first=$(grep -n -m1 -E '^==[0-9]+== ?ERROR|runtime error|property failed|ALARM' "$log" | cut -d: -f1)
            tail -n +"${first:-1}" "$log" | head -60
        fi
    done
    [ ${#failed[@]} -eq 0 ] || { echo "fuzz smoke: ${failed[*]} failed; each input is in $dir/artifacts" >&2; exit 1; }
    ;;
run)
    target=${2:-}
    [ -n "$target" ] && [ -f "fuzz/$target.cpp" ] || usage
    seconds=${3:-600}
    shift $(($# < 3 ? $# : 3))
    build
    fuzz "$target" "$seconds" "$@"
    ;;
build)
    build
    ;;
*)
    usage
    ;;
esac
