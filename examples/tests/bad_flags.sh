#!/usr/bin/env bash
# Every example refuses bad flags before it starts: exit code 2 and one line that names the flag
# (no abort, no run that fails later naming something else).
#   bad_flags.sh EXAMPLES_BUILD_DIR
set -uo pipefail
dir=$1
failures=0
checked=0

# expect_usage_error FRAGMENT PROGRAM [ARGUMENTS...]
expect_usage_error() {
  local fragment=$1 program=$2
  shift 2
  if [ ! -x "$dir/$program" ]; then
    echo "skip: $program not built"
    return
  fi
  local output status lines
  output=$(cd "$dir" && timeout 60 "./$program" "$@" 2>&1)
  status=$?
  lines=$(printf '%s\n' "$output" | wc -l)
  checked=$((checked + 1))
  if [ $status -ne 2 ] || [ "$lines" -ne 1 ] || ! grep -qF -- "$fragment" <<<"$output"; then
    echo "FAIL: $program $*: exit $status, $lines line(s), expected exit 2 and one line with '$fragment':"
    printf '%s\n' "$output" | head -5
    failures=$((failures + 1))
  else
    echo "ok: $program $* -> $output"
  fi
}

expect_usage_error "--device: 'garbage' is not a device" layered_agreement --device garbage
expect_usage_error "--widths: must be > 0, got -3" layered_agreement --widths 5,-3
expect_usage_error "--widths needs at least two populations" layered_agreement --widths 5
expect_usage_error "--no-such-flag" layered_agreement --no-such-flag
expect_usage_error "--batch: must be a number, got 'many'" layered_agreement --batch many
expect_usage_error "--batch: must be > 0, got 0" ab_autograd --batch 0
expect_usage_error "--epochs: must be > 0, got -1" ab_autograd --epochs -1
expect_usage_error "--hidden: must be > 0, got -3" ab_autograd --hidden 5,-3
expect_usage_error "--train-limit leaves 10 training examples, fewer than one batch (--batch 64)" \
  dale --task synthetic --train-limit 10 --batch 64
expect_usage_error "--task" dale --task imagenet
expect_usage_error "--presentations: must be > 0, got 0" timescales --presentations 0
expect_usage_error "--distance: must be > 0, got 0" community --distance 0
expect_usage_error "--separations: must be > 0, got 0" community --separations 0
expect_usage_error "--lrs: must be > 0, got -1" community --lrs 0.1,-1
expect_usage_error "--nproc: must be >= 0, got -1" distributed/train_distributed --nproc -1

echo "bad flags: $((checked - failures)) passed, $failures failed"
[ $failures -eq 0 ] && [ $checked -gt 0 ]
