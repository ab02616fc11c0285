"""Airflow DAG: the FQL sweep every night through spark-submit.

Copy this file into the DAGs folder of an Airflow 2.4+ installation that has the Apache Spark provider
(pip install apache-airflow-providers-apache-spark) and a Spark connection (Admin > Connections, id "spark_fql":
host yarn, spark://master:7077 or k8s://https://api:6443; extra {"deploy-mode": "cluster"} where wanted).
Set the Airflow Variables fql_jar (the shaded jar, built with -Pcuda for GPU executors), fql_sweep_spec and
fql_sweep_output (Hadoop URIs the driver can read and write).

Every run is the same command; the sweep skips trials already finished under fql_sweep_output and resumes
unfinished ones, so a failed night is simply continued by the next one (or by clearing the task), and adding grid
values to the spec runs only the new trials.
"""

import pendulum
from airflow import DAG
from airflow.models import Variable
from airflow.providers.apache.spark.operators.spark_submit import SparkSubmitOperator

# Same list as the parent pom's <java17.opens> and deploy/lib/submit-common.sh.
JAVA17_OPENS = " ".join(
    "--add-opens=java.base/%s=ALL-UNNAMED" % package
    for package in (
        "java.lang", "java.lang.invoke", "java.lang.reflect", "java.io", "java.net", "java.nio", "java.util",
        "java.util.concurrent", "java.util.concurrent.atomic", "sun.nio.ch", "sun.nio.cs", "sun.security.action",
        "sun.util.calendar",
    )
)
# ND4J off-heap cap and whole-process cap per JVM (heap + off-heap + 2 GiB slack), in line with the memory settings.
DRIVER_JAVACPP = "-Dorg.bytedeco.javacpp.maxbytes=2048m -Dorg.bytedeco.javacpp.maxphysicalbytes=8192m"
EXECUTOR_JAVACPP = "-Dorg.bytedeco.javacpp.maxbytes=8192m -Dorg.bytedeco.javacpp.maxphysicalbytes=18432m"

with DAG(
    dag_id="fql_sweep",
    description="FQL hyper-parameter sweep (train + evaluate per trial), resumable",
    schedule="0 1 * * *",
    start_date=pendulum.datetime(2026, 1, 1, tz="UTC"),
    catchup=False,
    max_active_runs=1,
    default_args={"retries": 1, "retry_delay": pendulum.duration(minutes=10)},
    tags=["fql", "spark"],
) as dag:
    sweep = SparkSubmitOperator(
        task_id="sweep",
        conn_id="spark_fql",
        application="{{ var.value.fql_jar }}",
        java_class="org.fqlspark.cli.FqlCli",
        application_args=[
            "sweep",
            "--spec", "{{ var.value.fql_sweep_spec }}",
            "--output", "{{ var.value.fql_sweep_output }}",
            "--max-concurrent", "3",
        ],
        name="fql-sweep-{{ ds }}",
        num_executors=6,
        executor_cores=4,
        executor_memory="8g",
        driver_memory="4g",
        files="/opt/fql/getGpusResources.sh",
        conf={
            "spark.driver.extraJavaOptions": JAVA17_OPENS + " " + DRIVER_JAVACPP,
            "spark.executor.extraJavaOptions": JAVA17_OPENS + " " + EXECUTOR_JAVACPP,
            "spark.executor.memoryOverhead": "10g",
            "spark.scheduler.mode": "FAIR",
            "spark.task.cpus": "4",
            "spark.executorEnv.OMP_NUM_THREADS": "4",
            "spark.executorEnv.OMP_WAIT_POLICY": "PASSIVE",
            "spark.speculation": "false",
            # GPU executors (YARN or Kubernetes; on standalone the workers declare their GPUs). Remove for CPU runs.
            "spark.executor.resource.gpu.amount": "1",
            "spark.task.resource.gpu.amount": "1",
            "spark.executor.resource.gpu.discoveryScript": "./getGpusResources.sh",
        },
        verbose=False,
    )
