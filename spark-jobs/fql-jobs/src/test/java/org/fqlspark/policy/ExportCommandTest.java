package org.fqlspark.policy;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.SplittableRandom;
import java.util.stream.Stream;

import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import org.fqlspark.agent.Checkpoint;
import org.fqlspark.eval.Policy;
import org.fqlspark.testing.CliRun;

/** {@code fql export} through the real command line, from a run directory and from a file. */
class ExportCommandTest {

    @TempDir
    Path dir;

    private static CliRun export(String... args) {
        return CliRun.command("export", args);
    }

    @Test
    @Tag("spark4")   // in the Spark 4 line's subset (parent pom, profile spark4)
    void exportsTheNewestCheckpointOfARunDirectory() throws Exception {
        Path run = Files.createDirectories(dir.resolve("run/checkpoints"));
        Checkpoint c = PolicyFixtures.checkpoint(PolicyFixtures.TINY, 4, 2, 3);
        c.save(run.resolve("step-000000000042.fqlckpt"));
        Path onnx = dir.resolve("out/flow.onnx");
        CliRun r = export("--checkpoint", dir.resolve("run").toString(), "--format", "onnx", "--policy", "flow-bc", "--output", onnx.toString());
        assertEquals(0, r.code(), r.err());
        assertArrayEquals(PolicyExport.onnx(c, Policy.FLOW_BC), Files.readAllBytes(onnx));
        OnnxChecker.check(onnx);
        SplittableRandom rng = new SplittableRandom(5);
        float[] obs = PolicyFixtures.gaussian(8 * 4, 1, rng);
        float[] z = PolicyFixtures.gaussian(8 * 2, 1, rng);
        assertArrayEquals(PolicyWeights.act(c.restore(), Policy.FLOW_BC, obs, z, 8),
                PolicyExportTest.runOnnx(Files.readAllBytes(onnx), obs, z, 8, 4, 2), 1e-5f);

        Path npz = dir.resolve("weights.npz");
        assertEquals(0, export("--checkpoint", dir.resolve("run").toString(), "--format", "npz", "--output", npz.toString()).code());
        assertArrayEquals(PolicyExport.npz(c), Files.readAllBytes(npz));

        CliRun exists = export("--checkpoint", dir.resolve("run").toString(), "--format", "npz", "--output", npz.toString());
        assertEquals(2, exists.code());
        assertTrue(exists.err().contains("already exists; pass --overwrite"), exists.err());
        assertEquals(0, export("--checkpoint", dir.resolve("run").toString(), "--format", "onnx", "--output", npz.toString(), "--overwrite").code());
        assertArrayEquals(PolicyExport.onnx(c, Policy.ONE_STEP), Files.readAllBytes(npz));
        // --overwrite replaces only a file fql export wrote (its ONNX producer or NPZ comment), never a user's
        Path theirs = Files.writeString(dir.resolve("model.onnx"), "a model from elsewhere, long enough to be looked at");
        CliRun foreign = export("--checkpoint", dir.resolve("run").toString(), "--format", "onnx", "--output", theirs.toString(), "--overwrite");
        assertEquals(2, foreign.code(), foreign.err());
        assertTrue(foreign.err().contains("not a file fql export wrote"), foreign.err());
        assertEquals("a model from elsewhere, long enough to be looked at", Files.readString(theirs));
        assertEquals(0, export("--checkpoint", dir.resolve("run").toString(), "--format", "npz", "--output", npz.toString(), "--overwrite").code());
        assertArrayEquals(PolicyExport.npz(c), Files.readAllBytes(npz));
        try (Stream<Path> s = Files.walk(dir)) {
            assertFalse(s.anyMatch(p -> p.getFileName().toString().contains(".tmp-")), "temporaries left behind");
        }
    }

    @Test
    void badInputExitsWithCodeTwo() throws Exception {
        Path ckpt = PolicyFixtures.save(PolicyFixtures.checkpoint(PolicyFixtures.TINY, 4, 2, 3), dir, "a.fqlckpt");
        Path out = dir.resolve("x.onnx");
        CliRun r = export("--checkpoint", ckpt.toString(), "--format", "tflite", "--output", out.toString());
        assertEquals(2, r.code());
        assertTrue(r.err().contains("--format must be 'onnx' or 'npz'"), r.err());
        r = export("--checkpoint", ckpt.toString(), "--format", "npz", "--policy", "flow-bc", "--output", out.toString());
        assertEquals(2, r.code());
        r = export("--checkpoint", ckpt.toString(), "--format", "onnx", "--policy", "greedy", "--output", out.toString());
        assertEquals(2, r.code());
        r = export("--checkpoint", dir.resolve("none").toString(), "--format", "onnx", "--output", out.toString());
        assertEquals(2, r.code());
        assertTrue(r.err().contains("none"), r.err());
        Files.write(dir.resolve("corrupt.fqlckpt"), new byte[] {1, 2, 3});
        r = export("--checkpoint", dir.resolve("corrupt.fqlckpt").toString(), "--format", "onnx", "--output", out.toString());
        assertEquals(2, r.code());
        r = export("--checkpoint", ckpt.toString(), "--format", "onnx", "--output", dir.toString());
        assertEquals(2, r.code());
        assertTrue(r.err().contains("is a directory"), r.err());
        assertFalse(Files.exists(out));
    }
}
