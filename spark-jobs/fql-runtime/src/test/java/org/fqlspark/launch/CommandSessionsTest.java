package org.fqlspark.launch;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.Map;

import org.apache.spark.SparkConf;
import org.junit.jupiter.api.Test;

/** What a new session gets from the flags, spark-submit's configuration and the command's defaults (no Spark started). */
class CommandSessionsTest {

    /** spark-submit's configuration: none (./fql) unless a test sets some. */
    private static SparkConf submitted(String... kv) {
        SparkConf conf = new SparkConf(false);
        for (int i = 0; i < kv.length; i += 2) conf.set(kv[i], kv[i + 1]);
        return conf;
    }

    @Test
    void aMalformedConfNamesTheFlagAndTheValue() {
        for (String bad : List.of("spark.executor.cores", "=2", "")) {
            var e = assertThrows(IllegalArgumentException.class, () -> CommandSessions.parseConf(List.of("a=b", bad)));
            assertEquals("--conf expects KEY=VALUE, was '" + bad + "'", e.getMessage());
        }
        assertEquals(Map.of("k", "v=w", "e", ""), CommandSessions.parseConf(List.of("k=x", "k=v=w", "e=")), "the last one wins");
    }

    @Test
    void withoutAnyMasterItIsLocalOnLoopback() {
        Map<String, String> s = CommandSessions.builder("fql test").settings(submitted());
        assertEquals(Map.of("spark.app.name", "fql test", "spark.master", "local[*]", "spark.driver.host", "127.0.0.1",
                "spark.driver.bindAddress", "127.0.0.1", "spark.ui.showConsoleProgress", "false"), s);
    }

    @Test
    void theCommandsDefaultMasterAndDefaultsGiveWayToSparkSubmitAndConf() {
        Map<String, String> s = CommandSessions.builder("fql train").defaultMaster("local[4]")
                .setDefault("spark.task.cpus", "2").setDefault("spark.driver.maxResultSize", "8g")
                .conf(List.of("spark.driver.maxResultSize=2g"))
                .settings(submitted("spark.task.cpus", "3", "spark.ui.showConsoleProgress", "true"));
        assertEquals("local[4]", s.get("spark.master"));
        assertFalse(s.containsKey("spark.task.cpus"), "spark-submit's value stays");
        assertFalse(s.containsKey("spark.ui.showConsoleProgress"), "spark-submit's value stays");
        assertEquals("2g", s.get("spark.driver.maxResultSize"), "--conf wins");
    }

    @Test
    void aClusterMasterGetsNoLoopbackAndAConfiguredOneIsKept() {
        Map<String, String> flag = CommandSessions.builder("x").master("spark://m:7077").settings(submitted());
        assertEquals("spark://m:7077", flag.get("spark.master"));
        assertFalse(flag.containsKey("spark.driver.host"));

        Map<String, String> submittedMaster = CommandSessions.builder("x").settings(submitted("spark.master", "yarn"));
        assertFalse(submittedMaster.containsKey("spark.master"), "spark-submit's master stays");
        assertFalse(submittedMaster.containsKey("spark.driver.host"));

        Map<String, String> submittedLocal = CommandSessions.builder("x").settings(submitted("spark.master", "local[2]"));
        assertFalse(submittedLocal.containsKey("spark.master"));
        assertEquals("127.0.0.1", submittedLocal.get("spark.driver.host"), "local under spark-submit: loopback too");

        Map<String, String> conf = CommandSessions.builder("x").master("local[2]").conf(List.of("spark.master=yarn"))
                .settings(submitted());
        assertEquals("yarn", conf.get("spark.master"), "--conf wins over --master, as spark-submit's --conf does");
        assertFalse(conf.containsKey("spark.driver.host"));
    }

    @Test
    void whetherTheExecutorsAreLocalIsKnownBeforeTheSessionIsMade() {
        assertTrue(CommandSessions.builder("x").local(submitted()));
        assertFalse(CommandSessions.builder("x").master("spark://m:7077").local(submitted()));
        assertFalse(CommandSessions.builder("x").local(submitted("spark.master", "yarn")));
        assertTrue(CommandSessions.builder("x").master("local[2]").local(submitted("spark.master", "yarn")));
        assertFalse(CommandSessions.builder("x").conf(List.of("spark.master=k8s://h:443")).local(submitted()));
    }

    @Test
    void aConfiguredDriverHostOrBindAddressIsKept() {
        Map<String, String> host = CommandSessions.builder("x").settings(submitted("spark.driver.host", "box"));
        assertFalse(host.containsKey("spark.driver.host"));
        assertFalse(host.containsKey("spark.driver.bindAddress"));
        Map<String, String> bind = CommandSessions.builder("x").conf(List.of("spark.driver.bindAddress=0.0.0.0")).settings(submitted());
        assertEquals("127.0.0.1", bind.get("spark.driver.host"));
        assertEquals("0.0.0.0", bind.get("spark.driver.bindAddress"));
    }

    @Test
    void theHadoopSettingsAreTheSparkHadoopOnes() {
        var hadoop = CommandSessions.hadoopConfiguration(List.of("spark.hadoop.fs.s3a.endpoint=http://minio:9000", "spark.executor.cores=2"));
        assertEquals("http://minio:9000", hadoop.get("fs.s3a.endpoint"));
        assertEquals(null, hadoop.get("executor.cores"));
        assertThrows(IllegalArgumentException.class, () -> CommandSessions.hadoopConfiguration(List.of("nonsense")));
    }
}
