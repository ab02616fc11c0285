package org.fqlspark.sweep;

import org.apache.spark.sql.SparkSession;

/**
 * The one local[2] SparkSession the sweep, deploy and notebook tests share (loopback only). {@code getOrCreate} hands
 * back a session another package's tests already started in this JVM, so the module's suite starts Spark once.
 */
public final class SweepTestSpark {

    private static SparkSession spark;

    private SweepTestSpark() {
    }

    public static synchronized SparkSession session() {
        // Another test class may have stopped the shared session (a command that thought it owned it): start anew.
        if (spark == null || spark.sparkContext().isStopped()) {
            spark = SparkSession.builder()
                    .appName("fql-sweep-tests")
                    .master("local[2]")
                    .config("spark.driver.host", "127.0.0.1")
                    .config("spark.driver.bindAddress", "127.0.0.1")
                    .config("spark.ui.enabled", "false")
                    .config("spark.ui.showConsoleProgress", "false")
                    .config("spark.sql.shuffle.partitions", "2")
                    .getOrCreate();
            spark.sparkContext().setLogLevel("WARN");
        }
        return spark;
    }
}
