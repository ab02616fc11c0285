package org.fqlspark.train;

import org.apache.spark.sql.SparkSession;

/**
 * The one local[2] SparkSession every test class of this package shares (loopback only): starting Spark costs
 * seconds, and surefire runs all classes in one JVM.
 */
final class TrainTestSpark {

    private static SparkSession spark;

    private TrainTestSpark() {
    }

    static synchronized SparkSession session() {
        if (spark == null || spark.sparkContext().isStopped()) {   // another package's test may have stopped a shared one
            spark = SparkSession.builder()
                    .appName("fql-train-tests")
                    .master("local[2]")
                    .config("spark.driver.host", "127.0.0.1")
                    .config("spark.driver.bindAddress", "127.0.0.1")
                    .config("spark.ui.enabled", "false")
                    .config("spark.ui.showConsoleProgress", "false")
                    .config("spark.sql.shuffle.partitions", "2")
                    .getOrCreate();
            spark.sparkContext().setLogLevel("WARN");
            Runtime.getRuntime().addShutdownHook(new Thread(spark::stop));
        }
        return spark;
    }
}
