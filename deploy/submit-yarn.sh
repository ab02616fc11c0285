#!/usr/bin/env bash
# Submits one fql command to YARN (cluster deploy mode by default: the driver runs in the application master, so
# paths must be on a shared file system such as hdfs:// or s3a://; FQL_DEPLOY_MODE=client keeps the driver here).
#
#   HADOOP_CONF_DIR=/etc/hadoop/conf FQL_EXECUTORS=4 deploy/submit-yarn.sh \
#     train --data hdfs:///fql/data/cube-double-play --run-dir hdfs:///fql/runs/cdp-s0 --workers 4 --preset cube-double-play
#
# GPUs (a -Pcuda jar): FQL_GPUS_PER_EXECUTOR=1. YARN 3.1+ with GPU scheduling turned on (yarn.io/gpu resource type);
# Spark maps spark.executor.resource.gpu.amount to yarn.io/gpu. The discovery script travels with the job (--files)
# and runs from the container's working directory.
set -euo pipefail
# shellcheck source=lib/submit-common.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib/submit-common.sh"
fql_require_command "$@"
: "${HADOOP_CONF_DIR:?set HADOOP_CONF_DIR to the Hadoop configuration directory of the cluster}"

JAR=$(fql_local_jar)
if [ "${FQL_GPUS_PER_EXECUTOR:-0}" != "0" ]; then
  # --files localizes it into every container's working directory; the NodeManager makes localized files r-x.
  export FQL_GPU_DISCOVERY_SCRIPT="${FQL_GPU_DISCOVERY_SCRIPT:-./getGpusResources.sh}"
fi
fql_common_conf

fql_run "$(fql_spark_submit)" \
  --master yarn \
  --deploy-mode "${FQL_DEPLOY_MODE:-cluster}" \
  --name "fql-$1" \
  --class org.fqlspark.cli.FqlCli \
  --queue "${FQL_YARN_QUEUE:-default}" \
  --num-executors "${FQL_EXECUTORS:-2}" \
  --files "$FQL_DEPLOY_DIR/getGpusResources.sh" \
  --conf spark.yarn.maxAppAttempts=1 \
  "${FQL_CONF[@]}" \
  "$JAR" "$@"
