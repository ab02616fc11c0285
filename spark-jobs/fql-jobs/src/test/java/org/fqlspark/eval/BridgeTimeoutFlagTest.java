package org.fqlspark.eval;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Path;
import java.time.Duration;

import org.fqlspark.cli.FqlCli;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/** Bridge timeouts are capped where they are given: a huge value is bad input (exit 2), not an overflow mid-run. */
class BridgeTimeoutFlagTest {

    @TempDir
    Path dir;

    private String run(int expectedCode, String... flags) {
        CommandLine cli = FqlCli.commandLine();
        StringWriter err = new StringWriter();
        cli.setErr(new PrintWriter(err));
        java.util.List<String> all = new java.util.ArrayList<>(java.util.List.of("evaluate", "--checkpoint",
                dir.resolve("missing.ckpt").toString(), "--env", "bridge:python3 server.py", "--episodes", "2", "--output",
                dir.resolve("out").toString()));
        all.addAll(java.util.List.of(flags));
        int code = cli.execute(all.toArray(new String[0]));
        assertEquals(expectedCode, code, err.toString());
        assertEquals(1, err.toString().strip().lines().count(), err.toString());
        return err.toString();
    }

    @Test
    void aHugeBridgeTimeoutIsAClearErrorWithExitTwo() {
        String err = run(2, "--bridge-timeout", "1e10");
        assertTrue(err.startsWith("error: --bridge-timeout must be a positive number of seconds, at most 86400"), err);
        err = run(2, "--bridge-startup-timeout", "1e300");
        assertTrue(err.startsWith("error: --bridge-startup-timeout must be"), err);
        err = run(2, "--bridge-timeout", "NaN");
        assertTrue(err.startsWith("error: --bridge-timeout must be"), err);
        // within the cap, the flags pass and the missing checkpoint is what is reported
        err = run(2, "--bridge-timeout", "86400");
        assertTrue(err.startsWith("error: --checkpoint "), err);
    }

    @Test
    void evalOptionsRefuseATimeoutAboveTheCap() {
        EvalInputException e = assertThrows(EvalInputException.class, () -> EvalOptions.of("c", "bridge:x", 1, "o")
                .withBridgeTimeouts(Duration.ofSeconds(10), Duration.ofDays(365)));
        assertTrue(e.getMessage().contains("--bridge-timeout must be at most 86400 s"), e.getMessage());
    }
}
