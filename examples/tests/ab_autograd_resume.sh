#!/bin/sh
# ab_autograd interrupted twice and resumed from its checkpoints ends bitwise where the
# uninterrupted run ends: the same parameters of both models (FNV-1a of their bytes), the same
# loss sums and accuracies.
#   ab_autograd_resume.sh AB_AUTOGRAD WORK_DIR CACHE_DIR
# 1000 images, batch 64: 16 steps per epoch, 2 epochs. Checkpoints every 8 steps; the first run
# stops at step 19 (its newest checkpoint is the end of epoch 1, step 16), the second resumes
# there and stops at step 27 (newest checkpoint: step 24, inside epoch 2), the third finishes.
set -eu
binary=$1 work=$2 cache=$3
rm -rf "$work"
mkdir -p "$work"
# One intra-op thread: bitwise equality between runs needs the same thread count in every run
# (a parallel GEMM's summation order depends on it), and the default follows the load at start.
data="--train-limit 1000 --epochs 2 --agreement-every 3 --threads 1 --cache-dir $cache"
common="$data --batch 64"

"$binary" $common --out "$work/straight" || exit $?   # 77: dataset missing, ctest skips
"$binary" $common --out "$work/resumed" --checkpoint-dir "$work/checkpoints" \
  --checkpoint-every 8 --max-steps 19
test ! -f "$work/resumed/summary.json"
"$binary" $common --out "$work/resumed" --checkpoint-dir "$work/checkpoints" \
  --checkpoint-every 8 --max-steps 27 --resume | tee "$work/second.log"
grep -q 'at step 16' "$work/second.log"
"$binary" $common --out "$work/resumed" --checkpoint-dir "$work/checkpoints" \
  --checkpoint-every 8 --resume | tee "$work/third.log"
grep -q 'at step 24' "$work/third.log"

# A checkpoint is refused, before anything is loaded, by a run with another configuration: other
# data (here another batch size), another width, another depth, another activation. The error
# names the file and each differing setting.
refused() {
  if "$binary" "$@" --out "$work/other" --checkpoint-dir "$work/checkpoints" --resume \
      > "$work/other.log" 2>&1; then
    echo "resuming with $* was accepted"; exit 1
  fi
  grep -q "refusing checkpoint $work/checkpoints/checkpoint-.*written with another configuration" \
    "$work/other.log" || { cat "$work/other.log"; exit 1; }
}
refused $data --batch 32
grep -q -- '--batch 64 (this run: 32)' "$work/other.log"
refused $common --hidden 64
grep -q -- '--hidden 256,128 (this run: 64)' "$work/other.log"
refused $common --hidden 256,128,32 --activation relu
grep -q -- '--hidden 256,128 (this run: 256,128,32); --activation tanh (this run: relu)' \
  "$work/other.log"

# Everything but the timings must be identical.
strip() { grep -v -e '_ms_per_step' -e '"seconds"' "$1"; }
strip "$work/straight/summary.json" > "$work/straight.json"
strip "$work/resumed/summary.json" > "$work/resumed.json"
diff "$work/straight.json" "$work/resumed.json"
cut -d, -f1-7 "$work/straight/epochs.csv" > "$work/straight_epochs.csv"
cut -d, -f1-7 "$work/resumed/epochs.csv" > "$work/resumed_epochs.csv"
diff "$work/straight_epochs.csv" "$work/resumed_epochs.csv"
diff "$work/straight/agreement.csv" "$work/resumed/agreement.csv"
echo "resumed run is bitwise the uninterrupted run: $(grep fnv1a "$work/resumed.json" | tr -d '\n ')"
