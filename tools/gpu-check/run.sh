#!/bin/sh
# The GPU check (issue 20): lists the OpenCL devices, runs conformance of the OpenCL backend on every golden dump, and
# times the training step (paper and quick-start size, with kernel launches, copies and blocking waits per step),
# batch-1 and batch-1000 acting and the flow policy. Exit 0 when every dump passed, 1 when one failed, 2 without an
# OpenCL device.
#
#   ./run.sh [--seconds S] [--small-only]      S: time per timed case (default 5); FQL_JAVA_OPTS=-Dfql.opencl.device=N
#
# Runs in a few minutes on a GPU (conformance takes seconds, the timings about 10 x (S + warm-up)).
set -eu
HERE=$(cd "$(dirname "$0")" && pwd)
TMP=${TMPDIR:-/tmp}

if command -v nvidia-smi >/dev/null 2>&1; then
  nvidia-smi --query-gpu=index,name,driver_version,compute_cap --format=csv,noheader || true
fi
# NVIDIA's OpenCL driver is the driver's libnvidia-opencl.so.1; containers often have the library but not the ICD file
# (/etc/OpenCL/vendors/nvidia.icd) that registers it. Register it for this run when it is missing.
if ! grep -qs nvidia /etc/OpenCL/vendors/*.icd 2>/dev/null; then
  lib=""
  for d in /usr/lib/x86_64-linux-gnu /usr/lib64 /usr/local/nvidia/lib64 /usr/local/nvidia/lib /usr/lib /usr/local/cuda/compat; do
    if [ -e "$d/libnvidia-opencl.so.1" ]; then lib="$d/libnvidia-opencl.so.1"; break; fi
  done
  if [ -z "$lib" ] && command -v ldconfig >/dev/null 2>&1; then
    lib=$(ldconfig -p 2>/dev/null | awk '/libnvidia-opencl\.so\.1/ {print $NF; exit}')
  fi
  if [ -n "$lib" ]; then
    vendors="$TMP/fql-gpu-check-vendors"
    mkdir -p "$vendors"
    cp /etc/OpenCL/vendors/*.icd "$vendors/" 2>/dev/null || true
    echo "$lib" > "$vendors/nvidia.icd"
    OCL_ICD_VENDORS="$vendors"
    export OCL_ICD_VENDORS
    echo "registered NVIDIA's OpenCL driver $lib for this run (OCL_ICD_VENDORS=$vendors)"
  fi
fi

# JavaCPP unpacks its native libraries (the JNI glue, the OpenCL loader) into a cache: keep it out of the bundle,
# which may be read-only.
exec "$HERE/runtime/bin/java" -Xmx4g -Dorg.bytedeco.javacpp.cachedir="$TMP/fql-gpu-check-javacpp" ${FQL_JAVA_OPTS:-} \
  -cp "$HERE/lib/*" org.fqlspark.bench.GpuCheck --golden "$HERE/golden" "$@"
