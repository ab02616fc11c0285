package org.fqlspark.cli;

import static org.junit.jupiter.api.Assertions.assertTrue;

import org.fqlspark.launch.ProcessExit;
import org.junit.jupiter.api.Test;

/**
 * The real main under spark-submit's system properties: on success it must return, not exit (an exit here would end
 * this test JVM, and surefire would report the fork as crashed).
 */
class FqlCliExitTest {

    @Test
    void successUnderSparkSubmitReturnsFromMain() {
        String old = System.getProperty("spark.submit.deployMode");
        System.setProperty("spark.submit.deployMode", "cluster");
        try {
            assertTrue(ProcessExit.underSparkSubmit());
            FqlCli.main(new String[] {"--version"});
        } finally {
            if (old == null) System.clearProperty("spark.submit.deployMode");
            else System.setProperty("spark.submit.deployMode", old);
        }
        assertTrue(true, "main returned");
    }
}
