package org.fqlspark.testing;

import org.apache.spark.sql.SparkSession;

/**
 * The one local[2] SparkSession every test class of this module shares, bound to loopback: starting Spark costs
 * seconds and surefire runs all classes in one JVM. Recreated if a test (a CLI test, say) stopped it.
 */
public final class TestSpark {

    private static SparkSession spark;

    private TestSpark() {
    }

    public static synchronized SparkSession session() {
        if (spark == null || spark.sparkContext().isStopped()) {
            spark = SparkSession.builder()
                    .appName("fql-jobs-tests")
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
