#!/usr/bin/env bash
# Installs eiprop from a build tree into a scratch prefix, then configures, builds and runs the
# consumer project in examples/consumer against it, with the README's C++ blocks as a second
# program (tests/readme/readme_blocks.py).
#   consumer.sh BUILD_DIR SOURCE_DIR WORK_DIR "TORCH_PREFIX_PATH"
set -euo pipefail
build=$1 source=$2 work=$3 torch_prefix=$4
rm -rf "$work"
cmake --install "$build" --prefix "$work/prefix" > "$work.install.log" 2>&1 || {
  cat "$work.install.log"; exit 1; }
# The README's C++ blocks, as a second program of the same consumer project.
python3 "$source/tests/readme/readme_blocks.py" cpp "$source/README.md" --out "$work/readme_blocks.cpp"
cmake -S "$source/examples/consumer" -B "$work/build" -DCMAKE_BUILD_TYPE=Release \
  -DCMAKE_PREFIX_PATH="$work/prefix;$torch_prefix" -DEIPROP_README_BLOCKS="$work/readme_blocks.cpp"
cmake --build "$work/build" -j 2
"$work/build/consumer"
"$work/build/readme_blocks"
