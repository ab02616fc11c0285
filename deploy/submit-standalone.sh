#!/usr/bin/env bash
# Submits one fql command to a Spark standalone cluster (client deploy mode: the driver runs here and writes its
# console output here; the jar is served to the executors by the driver).
#
#   FQL_MASTER=spark://master:7077 FQL_EXECUTORS=4 deploy/submit-standalone.sh \
#     train --data hdfs:///fql/data/antmaze-large-navigate --run-dir hdfs:///fql/runs/aln-s0 --workers 4 --preset antmaze-large-navigate
#
# GPUs (a -Pcuda jar): start each Worker with its GPUs declared, e.g. in conf/spark-env.sh on every worker host
#   SPARK_WORKER_OPTS="-Dspark.worker.resource.gpu.amount=4 -Dspark.worker.resource.gpu.discoveryScript=/opt/fql/getGpusResources.sh"
# then submit with FQL_GPUS_PER_EXECUTOR=1: the Worker hands each executor its GPU addresses and Spark gives each task
# one (spark.task.resource.gpu.amount), which training binds ND4J to.
set -euo pipefail
# shellcheck source=lib/submit-common.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib/submit-common.sh"
fql_require_command "$@"
: "${FQL_MASTER:?set FQL_MASTER to the standalone master URL, e.g. spark://master:7077}"

JAR=$(fql_local_jar)
fql_common_conf
executors="${FQL_EXECUTORS:-2}"
cores="${FQL_EXECUTOR_CORES:-2}"

fql_run "$(fql_spark_submit)" \
  --master "$FQL_MASTER" \
  --deploy-mode client \
  --name "fql-$1" \
  --class org.fqlspark.cli.FqlCli \
  --total-executor-cores "$(( executors * cores ))" \
  "${FQL_CONF[@]}" \
  "$JAR" "$@"
