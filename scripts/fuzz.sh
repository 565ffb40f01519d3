#!/usr/bin/env bash
# Fuzzes the ops with libFuzzer for a bounded time: builds tests/fuzz/fuzz_ops with clang++
# (CMake option EIPROP_BUILD_FUZZ; the library instrumented for coverage, ASan and UBSan) into
# build-fuzz/ (build-debian-fuzz/ with --torch debian) and runs the ctest test fuzz.ops, seeded
# from tests/fuzz/corpus/.
#   scripts/fuzz.sh [--torch pip|debian] [SECONDS (default 60)] [--merge]
# --merge: afterwards, add the new inputs that reach new coverage to tests/fuzz/corpus/.
# A bug aborts the run; the input that found it is written to build-fuzz/tests/fuzz/crash-*
# (replay: build-fuzz/tests/fuzz/fuzz_ops FILE).
source "$(dirname "$0")/common.sh"
parse_torch_flag "$@"
seconds=60
merge=0
for argument in ${EIPROP_ARGS[@]+"${EIPROP_ARGS[@]}"}; do
  case "$argument" in
    --merge) merge=1 ;;
    *[!0-9]*|'') echo "fuzz.sh: unknown argument '$argument'" >&2; exit 2 ;;
    *) seconds=$argument ;;
  esac
done
"$EIPROP_ROOT/scripts/setup.sh" --torch "$EIPROP_TORCH"

build="$EIPROP_BUILD-fuzz"
prefix=$(torch_prefix)
generator=()
command -v ninja >/dev/null && generator=(-G Ninja)
cmake -S "$EIPROP_ROOT" -B "$build" "${generator[@]}" -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DCMAKE_CXX_COMPILER=clang++ -DCMAKE_PREFIX_PATH="$prefix" -DEIPROP_BUILD_TESTS=OFF \
  -DEIPROP_BUILD_EXAMPLES=OFF -DEIPROP_BUILD_FUZZ=ON -DEIPROP_FUZZ_SECONDS="$seconds" >/dev/null
cmake --build "$build" -j "${EIPROP_JOBS:-2}"
cd "$build"
status=0
ctest --output-on-failure -R '^fuzz\.' -V > fuzz.log 2>&1 || status=$?
grep -E 'INFO: seed|INFO: Loaded|DONE|stat::|eiprop fuzz|ERROR|SUMMARY|tests passed|tests failed' \
  fuzz.log || true
echo "fuzz: full log in $build/fuzz.log"
if [ "$merge" = 1 ] && [ "$status" = 0 ]; then
  ASAN_OPTIONS=detect_leaks=0 tests/fuzz/fuzz_ops -merge=1 "$EIPROP_ROOT/tests/fuzz/corpus" \
    tests/fuzz/corpus
fi
exit "$status"
