package org.fqlspark.data;

import org.apache.spark.sql.SparkSession;

/**
 * The one SparkSession the module's test classes share (local[2], loopback only): starting Spark costs
 * seconds, so each class must not start its own. Surefire runs all classes in one JVM.
 */
public final class TestSpark {

    private static SparkSession spark;

    private TestSpark() {}

    public static synchronized SparkSession session() {
        if (spark == null) {
            spark = SparkSession.builder()
                    .appName("datasets-ingest-tests")
                    .master("local[2]")
                    .config("spark.driver.host", "127.0.0.1")
                    .config("spark.driver.bindAddress", "127.0.0.1")
                    .config("spark.ui.enabled", "false")
                    .config("spark.sql.shuffle.partitions", "2")
                    .getOrCreate();
            spark.sparkContext().setLogLevel("WARN");
            Runtime.getRuntime().addShutdownHook(new Thread(spark::stop));
        }
        return spark;
    }
}
