#!/usr/bin/env bash
# Spark GPU discovery script: prints the GPUs this executor (or standalone worker) may use, in the JSON form Spark's
# ResourceInformation expects: {"name":"gpu","addresses":["0","1"]}.
#
# Used by spark.executor.resource.gpu.discoveryScript (YARN, Kubernetes, local-cluster) and by
# spark.worker.resource.gpu.discoveryScript (standalone workers). Spark runs it without arguments and parses stdout;
# a non-zero exit fails the executor start, which is what we want when a GPU was asked for and none is visible.
#
# The addresses are CUDA device ordinals as this process sees them, because that is what a task passes to ND4J
# (Nd4j affinity / cudaSetDevice). Without CUDA_VISIBLE_DEVICES they are nvidia-smi's indices. With it, CUDA
# renumbers the visible devices 0..k-1 in the order listed, so we print those ordinals, not the physical indices
# (otherwise a task told "2" would bind to a device CUDA does not have).
set -euo pipefail

if ! command -v nvidia-smi >/dev/null 2>&1; then
  echo "getGpusResources.sh: nvidia-smi not found on $(hostname); no NVIDIA driver visible here" >&2
  exit 1
fi

# "index, uuid" per line, e.g. "0, GPU-5f3c...".
listing=$(nvidia-smi --query-gpu=index,uuid --format=csv,noheader | tr -d ' ')

addresses=""
if [ -z "${CUDA_VISIBLE_DEVICES+set}" ] || [ "${CUDA_VISIBLE_DEVICES}" = "all" ]; then
  # The plain form the Spark docs use: nvidia-smi --query-gpu=index --format=csv,noheader
  for index in $(nvidia-smi --query-gpu=index --format=csv,noheader | tr -d ' '); do
    addresses="${addresses:+$addresses,}\"$index\""
  done
else
  ordinal=0
  IFS=',' read -r -a wanted <<< "${CUDA_VISIBLE_DEVICES// /}"
  for entry in "${wanted[@]}"; do
    [ -n "$entry" ] || continue
    # An entry is an index or a (possibly shortened) UUID; CUDA stops at the first entry it cannot match.
    match=$(printf '%s\n' "$listing" | awk -F, -v e="$entry" '$1 == e || index($2, e) == 1 { print $1; exit }')
    [ -n "$match" ] || break
    addresses="${addresses:+$addresses,}\"$ordinal\""
    ordinal=$((ordinal + 1))
  done
fi

if [ -z "$addresses" ]; then
  echo "getGpusResources.sh: no usable GPU on $(hostname) (nvidia-smi: '${listing//$'\n'/ }', CUDA_VISIBLE_DEVICES='${CUDA_VISIBLE_DEVICES:-}')" >&2
  exit 1
fi
echo "{\"name\":\"gpu\",\"addresses\":[$addresses]}"
