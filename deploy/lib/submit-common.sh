#!/usr/bin/env bash
# Shared by the deploy/submit-*.sh scripts (sourced, not run). It turns a few FQL_* environment variables into the
# spark-submit --conf list every cluster manager needs for this project:
#   * Java 17 --add-opens for the driver and the executors (Spark 3.5 on Java 17; same list as the parent pom);
#   * JavaCPP off-heap limits, so ND4J's native buffers fail with a clear OutOfMemoryError inside the JVM instead of
#     the container being killed by YARN or Kubernetes for exceeding its memory;
#   * OpenMP threads per executor (OMP_NUM_THREADS = CPU cores per task, OMP_WAIT_POLICY=PASSIVE);
#   * GPU resource scheduling when FQL_GPUS_PER_EXECUTOR > 0.
#
# Variables (defaults in brackets):
#   FQL_JAR                    the shaded jar [<repo>/spark-jobs/fql-jobs/target/fql-spark.jar, for Spark 3.5;
#                              on Spark 4 use <repo>/spark-jobs/fql-jobs/target-spark4/fql-spark-spark4.jar]
#   SPARK_SUBMIT               spark-submit to use [$SPARK_HOME/bin/spark-submit, else spark-submit on PATH]
#   FQL_EXECUTORS              executor count [2]; one FQL training worker per task (train --workers)
#   FQL_EXECUTOR_CORES         cores per executor [2]
#   FQL_TASK_CPUS              cores per task, also OMP_NUM_THREADS [1 on CPU; FQL_EXECUTOR_CORES with GPUs]
#   FQL_EXECUTOR_MEMORY        executor JVM heap [4g]
#   FQL_DRIVER_MEMORY          driver JVM heap [4g]
#   FQL_JAVACPP_MAXBYTES       off-heap cap for ND4J/JavaCPP buffers per executor [4g]
#   FQL_MEMORY_SLACK           native memory beyond heap + JavaCPP (thread stacks, OpenBLAS, CUDA context) [2g]
#   FQL_GPUS_PER_EXECUTOR      GPUs per executor; 0 = CPU only [0]
#   FQL_GPUS_PER_TASK          GPUs per task (a fraction shares one GPU between tasks) [1]
#   FQL_GPU_DISCOVERY_SCRIPT   discovery script path as the executor sees it [deploy/getGpusResources.sh]
#   FQL_EXTRA_CONF             more "--conf k=v" words, appended last (they win)

FQL_DEPLOY_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
FQL_REPO_DIR="$(cd "$FQL_DEPLOY_DIR/.." && pwd)"

# Same list as <java17.opens> in the parent pom (DeployArtifactsTest checks).
FQL_JAVA17_OPENS="--add-opens=java.base/java.lang=ALL-UNNAMED --add-opens=java.base/java.lang.invoke=ALL-UNNAMED --add-opens=java.base/java.lang.reflect=ALL-UNNAMED --add-opens=java.base/java.io=ALL-UNNAMED --add-opens=java.base/java.net=ALL-UNNAMED --add-opens=java.base/java.nio=ALL-UNNAMED --add-opens=java.base/java.util=ALL-UNNAMED --add-opens=java.base/java.util.concurrent=ALL-UNNAMED --add-opens=java.base/java.util.concurrent.atomic=ALL-UNNAMED --add-opens=java.base/sun.nio.ch=ALL-UNNAMED --add-opens=java.base/sun.nio.cs=ALL-UNNAMED --add-opens=java.base/sun.security.action=ALL-UNNAMED --add-opens=java.base/sun.util.calendar=ALL-UNNAMED"

fql_usage() {
  local script="$1"
  cat >&2 <<USAGE
usage: $script <fql command> [options]
  e.g. $script train --data PATH --run-dir PATH --workers 4 --preset antmaze-large-navigate
       $script evaluate --checkpoint PATH --env pointmaze-medium --episodes 100 --output PATH
       $script sweep --spec deploy/sweeps/pointmaze-alpha-seed.yaml --output PATH --max-concurrent 2
       $script act --checkpoint PATH --input PARQUET --output PARQUET --seed-column SEED
Commands and their options: ./fql --help, ./fql <command> --help. Settings: FQL_* variables, see deploy/README.md.
USAGE
}

fql_require_command() {
  if [ $# -lt 1 ] || [ "${1#-}" != "$1" ]; then
    fql_usage "$(basename "$0")"
    exit 2
  fi
}

# "4g" -> MiB; accepts k, m, g, t suffixes (Spark's and JavaCPP's size syntax) or plain bytes.
fql_to_mib() {
  local v="${1,,}"
  case "$v" in
    *t) echo $(( ${v%t} * 1024 * 1024 )) ;;
    *g) echo $(( ${v%g} * 1024 )) ;;
    *m) echo $(( ${v%m} )) ;;
    *k) echo $(( ${v%k} / 1024 )) ;;
    *)  echo $(( v / 1024 / 1024 )) ;;
  esac
}

fql_spark_submit() {
  if [ -n "${SPARK_SUBMIT:-}" ]; then echo "$SPARK_SUBMIT"
  elif [ -n "${SPARK_HOME:-}" ]; then echo "$SPARK_HOME/bin/spark-submit"
  else echo "spark-submit"
  fi
}

fql_local_jar() {
  local jar="${FQL_JAR:-$FQL_REPO_DIR/spark-jobs/fql-jobs/target/fql-spark.jar}"
  if [ ! -f "$jar" ]; then
    echo "$(basename "$0"): $jar not found; build it with: mvn -q -B -DskipTests package   (add -Pcuda for GPUs)" >&2
    exit 2
  fi
  echo "$jar"
}

# Fills the array FQL_CONF with --conf words common to every cluster manager. $1 = "local" for local[N] masters:
# Spark's local scheduler offers tasks no custom resources, so a task GPU amount there would leave every task
# pending forever (tried: Spark 3.5, local[2], spark.task.resource.gpu.amount=1). In local mode the driver asks for
# the GPUs instead and tasks use ND4J's default device (CUDA_VISIBLE_DEVICES picks it).
fql_common_conf() {
  local mode="${1:-cluster}"
  local executor_memory="${FQL_EXECUTOR_MEMORY:-4g}"
  local driver_memory="${FQL_DRIVER_MEMORY:-4g}"
  local javacpp_max="${FQL_JAVACPP_MAXBYTES:-4g}"
  local slack="${FQL_MEMORY_SLACK:-2g}"
  local gpus="${FQL_GPUS_PER_EXECUTOR:-0}"
  local cores="${FQL_EXECUTOR_CORES:-2}"
  local task_cpus
  if [ "$gpus" != "0" ]; then task_cpus="${FQL_TASK_CPUS:-$cores}"; else task_cpus="${FQL_TASK_CPUS:-1}"; fi

  # The JVM's resident set = heap + JavaCPP buffers + slack. maxphysicalbytes makes JavaCPP collect, then throw,
  # before the process outgrows its container; memoryOverhead reserves that non-heap part from the cluster manager.
  local heap_mib javacpp_mib slack_mib overhead_mib physical_mib
  heap_mib=$(fql_to_mib "$executor_memory")
  javacpp_mib=$(fql_to_mib "$javacpp_max")
  slack_mib=$(fql_to_mib "$slack")
  overhead_mib=$(( javacpp_mib + slack_mib ))
  physical_mib=$(( heap_mib + overhead_mib ))
  local javacpp_flags="-Dorg.bytedeco.javacpp.maxbytes=${javacpp_mib}m -Dorg.bytedeco.javacpp.maxphysicalbytes=${physical_mib}m"
  local driver_mib driver_physical_mib
  driver_mib=$(fql_to_mib "$driver_memory")
  driver_physical_mib=$(( driver_mib + overhead_mib ))
  local driver_javacpp_flags="-Dorg.bytedeco.javacpp.maxbytes=${javacpp_mib}m -Dorg.bytedeco.javacpp.maxphysicalbytes=${driver_physical_mib}m"

  FQL_CONF=(
    --driver-memory "$driver_memory"
    --conf "spark.executor.memory=$executor_memory"
    --conf "spark.executor.memoryOverhead=${overhead_mib}m"
    --conf "spark.driver.memoryOverhead=${overhead_mib}m"
    --conf "spark.executor.cores=$cores"
    --conf "spark.task.cpus=$task_cpus"
    --conf "spark.driver.extraJavaOptions=$FQL_JAVA17_OPENS $driver_javacpp_flags"
    --conf "spark.executor.extraJavaOptions=$FQL_JAVA17_OPENS $javacpp_flags"
    --conf "spark.executorEnv.OMP_NUM_THREADS=$task_cpus"
    --conf "spark.executorEnv.OMP_WAIT_POLICY=PASSIVE"
    # A stalled FQL worker step is slow, not dead: let long training tasks run without speculative copies.
    --conf "spark.speculation=false"
  )
  if [ "$gpus" != "0" ] && [ "$mode" = "local" ]; then
    FQL_CONF+=(
      --conf "spark.driver.resource.gpu.amount=$gpus"
      --conf "spark.driver.resource.gpu.discoveryScript=${FQL_GPU_DISCOVERY_SCRIPT:-$FQL_DEPLOY_DIR/getGpusResources.sh}"
    )
  elif [ "$gpus" != "0" ]; then
    FQL_CONF+=(
      --conf "spark.executor.resource.gpu.amount=$gpus"
      --conf "spark.task.resource.gpu.amount=${FQL_GPUS_PER_TASK:-1}"
      --conf "spark.executor.resource.gpu.discoveryScript=${FQL_GPU_DISCOVERY_SCRIPT:-$FQL_DEPLOY_DIR/getGpusResources.sh}"
    )
  fi
  if [ -n "${FQL_EXTRA_CONF:-}" ]; then
    # Deliberately word-split: FQL_EXTRA_CONF="--conf a=b --conf c=d".
    # shellcheck disable=SC2206
    FQL_CONF+=($FQL_EXTRA_CONF)
  fi
}

# Prints the command, shell-quoted, before running it, so logs show exactly what was submitted.
fql_run() {
  printf '%q ' "$@" >&2
  printf '\n' >&2
  # FQL_DRY_RUN=1 prints the command and stops: to review it, or to paste it into a scheduler.
  if [ -n "${FQL_DRY_RUN:-}" ]; then return 0; fi
  exec "$@"
}
