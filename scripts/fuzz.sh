#!/usr/bin/env bash
# Coverage-guided fuzzing of the ops with libFuzzer, for a bounded time. Builds tests/fuzz/fuzz_ops
# with clang++ (CMake option EIPROP_BUILD_FUZZ; the library instrumented for coverage, ASan and
# UBSan) into build-fuzz/ (build-debian-fuzz/ with --torch debian) and runs the ctest test
# fuzz.ops: libFuzzer mutates inputs, seeded from tests/fuzz/corpus/, and keeps those that reach
# new coverage in build-fuzz/tests/fuzz/corpus/ (kept from run to run).
#   scripts/fuzz.sh [--torch pip|debian] [SECONDS (default 60)] [--keep-going] [--merge]
# --merge: afterwards, add to tests/fuzz/corpus/ the inputs that reach coverage its files do not
# (libFuzzer -merge=1) and print its size before and after; commit the new files.
# This is where mutation happens. CI does not mutate: its test fuzz.ops_replay (in every build,
# and under ASan/UBSan in scripts/sanitize.sh) runs each file of tests/fuzz/corpus/ once, so the
# coverage a run merges into the corpus is what CI keeps checking.
# A bug aborts the run; the input that found it is written to build-fuzz/tests/fuzz/crash-*
# (replay: build-fuzz/tests/fuzz/fuzz_ops FILE, or build/tests/fuzz_ops_replay FILE).
# --keep-going: libFuzzer's -fork=1 -ignore_crashes=1 instead, so that a known, not yet fixed bug
# does not end every run within seconds: each bug still writes its crash-* file, the script
# prints the decoded call of each new one and exits 1, and --merge still grows the corpus (the
# crashing inputs stay out of it).
source "$(dirname "$0")/common.sh"
parse_torch_flag "$@"
seconds=60
merge=0
keep_going=0
for argument in ${EIPROP_ARGS[@]+"${EIPROP_ARGS[@]}"}; do
  case "$argument" in
    --merge) merge=1 ;;
    --keep-going) keep_going=1 ;;
    *[!0-9]*|'') echo "fuzz.sh: unknown argument '$argument'" >&2; exit 2 ;;
    *) seconds=$argument ;;
  esac
done
# libFuzzer reads -max_total_time=0 as "no limit".
if [ "$seconds" -lt 1 ]; then echo "fuzz.sh: SECONDS must be at least 1" >&2; exit 2; fi
"$EIPROP_ROOT/scripts/setup.sh" --torch "$EIPROP_TORCH"
fuzz_args=""
[ "$keep_going" = 1 ] && fuzz_args="-fork=1;-ignore_crashes=1"

build="$EIPROP_BUILD-fuzz"
# The fuzz preset of CMakePresets.json; this run's length and libFuzzer flags on top (so this
# configures every time, not once).
EIPROP_TORCH_PREFIX=$(torch_prefix) EIPROP_PYTHON="$EIPROP_PYTHON" \
  cmake -S "$EIPROP_ROOT" --preset fuzz -B "$build" -DEIPROP_FUZZ_SECONDS="$seconds" \
  -DEIPROP_FUZZ_ARGS="$fuzz_args" >/dev/null
# The target and the library it links only: nothing else is fuzzed, and this build compiles
# without the precompiled header (slow).
cmake --build "$build" --target fuzz_ops -j "${EIPROP_JOBS:-2}"
cd "$build"
status=0
crashes() { find tests/fuzz -maxdepth 1 -name 'crash-*' | sort; }
crashes_before=$(crashes)
ctest --output-on-failure -R '^fuzz\.' -V > fuzz.log 2>&1 || status=$?
run_status=$status
# Coverage at the start (INITED; in fork mode the first job's line) and at the end (DONE, or the
# last job's line), the final statistics and any finding.
grep -E 'INFO: Seed|INITED|DONE|stat::|eiprop fuzz|ERROR|SUMMARY|tests passed|tests failed' \
  fuzz.log || true
grep -E '^1: #[0-9]+: cov' fuzz.log | sed -n '1p;$p' || true
new_crashes=$(comm -13 <(echo "$crashes_before") <(crashes) | grep . || true)
for crash in $new_crashes; do
  # Each new input once more, alone, for the call it decodes to (fork mode does not print it).
  echo "fuzz: bug: $build/$crash"
  ASAN_OPTIONS=detect_leaks=0 tests/fuzz/fuzz_ops "$crash" 2>&1 |
    grep -E 'eiprop fuzz|  call:|ERROR' || true
  status=1
done
echo "fuzz: full log in $build/fuzz.log"
# A --keep-going run that found bugs still ends normally, and the inputs it kept all passed.
if [ "$merge" = 1 ] && [ "$run_status" = 0 ]; then
  corpus="$EIPROP_ROOT/tests/fuzz/corpus"
  size() { echo "$(find "$corpus" -type f | wc -l) files, $(cat "$corpus"/* | wc -c) bytes"; }
  before=$(size)
  # The sanitizer options, timeout and memory limit of fuzz.ops (tests/fuzz/CMakeLists.txt), so
  # that the merge judges the inputs as the run did.
  ASAN_OPTIONS=detect_leaks=0 UBSAN_OPTIONS=print_stacktrace=1 tests/fuzz/fuzz_ops -merge=1 \
    -timeout=60 -rss_limit_mb=4096 "$corpus" tests/fuzz/corpus > merge.log 2>&1 || status=$?
  grep -E 'MERGE-OUTER|ERROR|SUMMARY' merge.log || true
  echo "fuzz: tests/fuzz/corpus was $before, is $(size) (merge log: $build/merge.log)"
fi
exit "$status"
