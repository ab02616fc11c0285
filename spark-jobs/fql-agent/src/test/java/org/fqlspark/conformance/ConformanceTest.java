package org.fqlspark.conformance;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.net.URISyntaxException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

@Tag("spark4")   // in the Spark 4 line's subset (parent pom, profile spark4)
class ConformanceTest {

    static Path golden() throws URISyntaxException {
        return Path.of(ConformanceTest.class.getResource("/golden/fql_tiny_default.json").toURI());
    }

    @Test
    void goldenDumpPassesWithinFloat32Tolerance() throws Exception {
        Conformance.Report report = Conformance.run(GoldenDump.load(golden()), Conformance.DEFAULT_TOLERANCE);
        ByteArrayOutputStream text = new ByteArrayOutputStream();
        report.print(new PrintStream(text, true, StandardCharsets.UTF_8));
        System.out.println(text.toString(StandardCharsets.UTF_8));
        assertTrue(report.passed(), "worst: " + report.worst());
        // every section of the dump was compared: 6 losses x 4 (1 + 3 steps), 12 intermediates, 6 x 22 grads,
        // 2 x 22 Adam moments after one step and 2 x 22 after three, 32 weights after one step and 32 after three
        assertEquals(6 * 4 + 12 + 6 * 22 + 2 * 22 + 2 * 22 + 32 + 32, report.checks().size());
    }

    @Test
    void aWrongReferenceFails() throws Exception {
        // The comparison must be able to fail: a tolerance far below float32 precision rejects the same run.
        Conformance.Report report = Conformance.run(GoldenDump.load(golden()), 1e-12);
        assertFalse(report.passed());
    }

    @Test
    void missingKeyIsNamed(@TempDir Path dir) throws Exception {
        String json = Files.readString(golden()).replace("\"params_after_step\"", "\"renamed_key\"");
        Path broken = dir.resolve("broken.json");
        Files.writeString(broken, json);
        GoldenDump.GoldenFormatException e = assertThrows(GoldenDump.GoldenFormatException.class, () -> GoldenDump.load(broken));
        assertTrue(e.getMessage().contains("params_after_step"), e.getMessage());
        assertTrue(e.getMessage().contains(broken.toString()), e.getMessage());
    }
}
