#!/usr/bin/env bash
# Runs one fql command through spark-submit on this machine (master local[N], driver bound to loopback).
# The same thing ./fql does, but through a Spark distribution's spark-submit: the way to try a cluster command first.
#
#   deploy/submit-local.sh train --data /data/pointmaze-medium-stitch --run-dir /tmp/runs/pm --workers 2 --steps 2000
#   FQL_LOCAL_THREADS=4 deploy/submit-local.sh evaluate --checkpoint /tmp/runs/pm --env pointmaze-medium --episodes 50 --output /tmp/eval/pm
#
# FQL_LOCAL_THREADS: N in local[N] [all cores]. GPUs (a -Pcuda jar): FQL_GPUS_PER_EXECUTOR=1; in local mode the driver
# holds them and every task uses ND4J's default device (pick it with CUDA_VISIBLE_DEVICES).
set -euo pipefail
# shellcheck source=lib/submit-common.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib/submit-common.sh"
fql_require_command "$@"

JAR=$(fql_local_jar)
fql_common_conf local
# In local mode the tasks run inside the driver JVM: executor settings do not apply, the environment does.
export OMP_NUM_THREADS="${FQL_TASK_CPUS:-1}"
export OMP_WAIT_POLICY=PASSIVE
export SPARK_LOCAL_IP=127.0.0.1

fql_run "$(fql_spark_submit)" \
  --master "local[${FQL_LOCAL_THREADS:-*}]" \
  --name "fql-$1" \
  --class org.fqlspark.cli.FqlCli \
  --conf spark.driver.host=127.0.0.1 \
  --conf spark.driver.bindAddress=127.0.0.1 \
  "${FQL_CONF[@]}" \
  "$JAR" "$@"
