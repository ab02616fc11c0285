#!/usr/bin/env bash
# Re-records the MuJoCo fixtures of PointMazeMujocoDifferentialTest (see README.md here).
# Needs a C compiler and MuJoCo's C library: `apt-get install libmujoco-dev` (Debian), or MUJOCO_PREFIX=<dir>
# holding include/mujoco/mujoco.h and lib/libmujoco.so (or lib/x86_64-linux-gnu/libmujoco.so).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
out="$here/../../datasets-ingest/src/test/resources/mujoco"
seed="${SEED:-20261201}"
prefix="${MUJOCO_PREFIX:-/usr}"
libdir="$prefix/lib"
[ -e "$libdir/libmujoco.so" ] || libdir="$prefix/lib/x86_64-linux-gnu"
if [ ! -e "$prefix/include/mujoco/mujoco.h" ] || [ ! -e "$libdir/libmujoco.so" ]; then
  echo "MuJoCo not found under $prefix: apt-get install libmujoco-dev, or set MUJOCO_PREFIX" >&2
  exit 2
fi
build="$(mktemp -d)"
trap 'rm -rf "$build"' EXIT
cc -O2 -Wall -o "$build/pointmaze_steps" "$here/pointmaze_steps.c" -I"$prefix/include" -L"$libdir" -lmujoco -lm \
  -Wl,-rpath,"$libdir"
mkdir -p "$out"
for maze in medium large giant; do
  "$build/pointmaze_steps" "$here/$maze.maze" "$seed" > "$out/pointmaze-$maze-steps.txt.tmp"
  mv "$out/pointmaze-$maze-steps.txt.tmp" "$out/pointmaze-$maze-steps.txt"
  echo "recorded $(grep -c '^[a-z]* [-0-9]' "$out/pointmaze-$maze-steps.txt") steps on $maze -> $out/pointmaze-$maze-steps.txt"
done
