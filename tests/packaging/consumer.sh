#!/usr/bin/env bash
# Installs eiprop from a build tree into a scratch prefix, then configures, builds and runs the
# consumer project in examples/consumer against it.
#   consumer.sh BUILD_DIR SOURCE_DIR WORK_DIR "TORCH_PREFIX_PATH"
set -euo pipefail
build=$1 source=$2 work=$3 torch_prefix=$4
rm -rf "$work"
cmake --install "$build" --prefix "$work/prefix" > "$work.install.log" 2>&1 || {
  cat "$work.install.log"; exit 1; }
cmake -S "$source/examples/consumer" -B "$work/build" -DCMAKE_BUILD_TYPE=Release \
  -DCMAKE_PREFIX_PATH="$work/prefix;$torch_prefix"
cmake --build "$work/build" -j 2
"$work/build/consumer"
