#!/usr/bin/env bash
# GPU check: on a machine with an NVIDIA GPU and PyTorch installed (no network needed), builds
# eiprop against that PyTorch's LibTorch, runs the whole test suite with CUDA tensors enabled,
# imports the Python package with that build's library and trains a step on CUDA from Python,
# runs the layered-agreement example on CUDA as a timing run, runs eiprop_bench_table on CUDA,
# and writes logs plus a JSON summary (the benchmark's JSON included).
#   scripts/fetch-debs.sh            # beforehand, on a machine with Debian's package mirror
#   scripts/gpu-check.sh OUTPUT_DIR  # on the GPU machine
set -uo pipefail
[ $# -eq 1 ] || { echo "usage: $0 OUTPUT_DIR" >&2; exit 2; }
out=$(mkdir -p "$1" && cd "$1" && pwd)
root=$(cd "$(dirname "$0")/.." && pwd)
python=${PYTHON:-python3}
build=${EIPROP_GPU_BUILD:-/tmp/eiprop-gpu-build}
prefix=/tmp/eiprop-debs
start=$(date +%s)

ls "$root"/.debs/*.deb >/dev/null 2>&1 || { echo "no .debs/: run scripts/fetch-debs.sh first" >&2; exit 2; }
mkdir -p "$prefix"
for deb in "$root"/.debs/*.deb; do dpkg -x "$deb" "$prefix"; done

{ nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader || true; } \
  > "$out/gpu.txt"
torch_prefix=$("$python" -c \
  'import os, torch; print(torch.utils.cmake_prefix_path + ";" + os.path.dirname(torch.__file__))')
"$python" -c 'import torch; print(torch.__version__, torch.version.cuda, torch.cuda.is_available())' \
  > "$out/torch.txt"

# The gpu preset of CMakePresets.json, with the unpacked packages beside that PyTorch.
EIPROP_TORCH_PREFIX="$torch_prefix;$prefix/usr" EIPROP_PYTHON="$(command -v "$python")" \
  cmake -S "$root" --preset gpu -B "$build" > "$out/configure.log" 2>&1
configure_rc=$?
build_rc=1
if [ $configure_rc -eq 0 ]; then
  cmake --build "$build" -j "$(nproc)" > "$out/build.log" 2>&1
  build_rc=$?
fi
build_s=$(( $(date +%s) - start ))

test_rc=1
python_rc=1
if [ $build_rc -eq 0 ]; then
  # The Python package from this source tree with this build's library (EIPROP_LIBRARY): its
  # import guard compares the build facts with the running torch, then an op with a str[]
  # argument runs on CUDA tensors, forward and backward. The package's ctest tests use the same.
  export PYTHONPATH="$root/python${PYTHONPATH:+:$PYTHONPATH}" EIPROP_LIBRARY="$build/libeiprop.so"
  "$python" - > "$out/python_cuda.log" 2>&1 <<'PY'
import torch, eiprop
print(eiprop.build_info())
net = eiprop.nn.BalancedMLP([32, 16, 4]).cuda()
loss = net(torch.rand(8, 32, device="cuda")).square().sum()
loss.backward()
print("circuit on CUDA: loss", loss.item(), "grad norm", net.layer0.weight.grad.norm().item())
PY
  python_rc=$?
  (cd "$build" && ctest --output-on-failure -j 8 --timeout 300) > "$out/ctest.log" 2>&1
  test_rc=$?
  (cd "$build" && ./tests/eiprop_tests --gtest_filter='Cuda*' --gtest_brief=0) > "$out/cuda_tests.log" 2>&1
  for dtype in float32 float64; do
    for method in sweep jacobi; do
      for widths in 784,256,10:64 1024,1024,1024,1024,1024:256 4096,4096,4096:1024; do
        "$build/examples/layered_agreement" --device cuda --dtype $dtype --method $method \
          --widths "${widths%%:*}" --batch "${widths##*:}" --repeats 50
      done
    done
  done > "$out/timings.log" 2>&1
fi
# The rule's training step against autograd's on CUDA (benchmarks/): table and JSON.
bench_rc=1
if [ -x "$build/benchmarks/eiprop_bench_table" ]; then
  "$build/benchmarks/eiprop_bench_table" --device cuda --repetitions 30 \
    --json "$out/bench_table.json" > "$out/bench_table.log" 2>&1
  bench_rc=$?
fi
bench_json=$(cat "$out/bench_table.json" 2>/dev/null || echo null)
total_s=$(( $(date +%s) - start ))

summary=$(grep -E 'tests passed' "$out/ctest.log" 2>/dev/null | tail -1)
cuda_ran=$(grep -cE '^\[       OK \] Cuda\.' "$out/cuda_tests.log" 2>/dev/null || true)
cuda_skipped=$(grep -cE '^\[  SKIPPED \] Cuda\.' "$out/cuda_tests.log" 2>/dev/null || true)
cat > "$out/summary.json" <<JSON
{
  "gpu": "$(head -1 "$out/gpu.txt")",
  "torch": "$(cat "$out/torch.txt")",
  "configure_rc": $configure_rc,
  "build_rc": $build_rc,
  "python_cuda_rc": $python_rc,
  "ctest_rc": $test_rc,
  "ctest_summary": "$summary",
  "cuda_tests_passed": ${cuda_ran:-0},
  "cuda_tests_skipped": ${cuda_skipped:-0},
  "bench_table_rc": $bench_rc,
  "bench_table": $bench_json,
  "build_seconds": $build_s,
  "total_seconds": $total_s
}
JSON
cat "$out/summary.json"
[ $configure_rc -eq 0 ] && [ $build_rc -eq 0 ] && [ $python_rc -eq 0 ] && [ $test_rc -eq 0 ] && \
  [ $bench_rc -eq 0 ]
