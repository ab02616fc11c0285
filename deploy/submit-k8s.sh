#!/usr/bin/env bash
# Submits one fql command to Kubernetes with spark-submit (cluster deploy mode: driver and executors are pods of the
# image built from deploy/docker/Dockerfile, which holds the jar at /opt/fql/fql-spark.jar and the discovery script
# at /opt/fql/getGpusResources.sh). Paths must be on storage every pod reaches (s3a://, hdfs://, or a mounted PVC).
#
#   FQL_K8S_API=https://k8s.example.com:6443 FQL_IMAGE=registry.example.com/fql-spark:0.1.0-cuda11.6 \
#   FQL_GPUS_PER_EXECUTOR=1 FQL_EXECUTORS=4 deploy/submit-k8s.sh \
#     train --data s3a://fql/data/antmaze-large-navigate --run-dir s3a://fql/runs/aln-s0 --workers 4 --preset antmaze-large-navigate
#
# The service account (FQL_K8S_SERVICE_ACCOUNT, default "spark") must be allowed to create pods in the namespace.
# GPUs: the NVIDIA device plugin must run on the GPU nodes (it exposes nvidia.com/gpu); the cuda image's GPUs must be
# Kepler-to-Ada (not H100/H200, see deploy/README.md).
set -euo pipefail
# shellcheck source=lib/submit-common.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib/submit-common.sh"
fql_require_command "$@"
: "${FQL_K8S_API:?set FQL_K8S_API to the API server URL, e.g. https://k8s.example.com:6443}"
: "${FQL_IMAGE:?set FQL_IMAGE to the image built from deploy/docker/Dockerfile}"

export FQL_GPU_DISCOVERY_SCRIPT="${FQL_GPU_DISCOVERY_SCRIPT:-/opt/fql/getGpusResources.sh}"
fql_common_conf
gpu_conf=()
if [ "${FQL_GPUS_PER_EXECUTOR:-0}" != "0" ]; then
  # Spark turns this into the pod's resources.limits: nvidia.com/gpu.
  gpu_conf=(--conf spark.executor.resource.gpu.vendor=nvidia.com)
fi

fql_run "$(fql_spark_submit)" \
  --master "k8s://$FQL_K8S_API" \
  --deploy-mode cluster \
  --name "fql-$1" \
  --class org.fqlspark.cli.FqlCli \
  --conf "spark.kubernetes.namespace=${FQL_K8S_NAMESPACE:-default}" \
  --conf "spark.kubernetes.container.image=$FQL_IMAGE" \
  --conf "spark.kubernetes.container.image.pullPolicy=IfNotPresent" \
  --conf "spark.kubernetes.authenticate.driver.serviceAccountName=${FQL_K8S_SERVICE_ACCOUNT:-spark}" \
  --conf "spark.executor.instances=${FQL_EXECUTORS:-2}" \
  --conf "spark.kubernetes.executor.request.cores=${FQL_EXECUTOR_CORES:-2}" \
  "${gpu_conf[@]}" \
  "${FQL_CONF[@]}" \
  local:///opt/fql/fql-spark.jar "$@"
