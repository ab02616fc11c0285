package org.fqlspark.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.File;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

import org.fqlspark.tensor.TestBackends;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The GPU check bundle of {@code tools/gpu-check/} is built (with this module's classes and its test classpath's
 * jars), stays under 60 MiB, and its {@code run.sh} passes every golden dump on this machine's OpenCL device (PoCL in
 * CI) with a short timing budget, printing the per-step counts.
 */
class GpuCheckBundleTest {

    private static final long LIMIT = 60L * 1024 * 1024;

    @Test
    void buildsUnderTheLimitAndRunsOnOpenCl(@TempDir Path tmp) throws Exception {
        Path root = repositoryRoot();
        Path bundle = tmp.resolve("fql-gpu-check");
        String classpath = System.getProperty("surefire.test.class.path", System.getProperty("java.class.path"));
        List<String> build = run(List.of("bash", root.resolve("tools/gpu-check/build.sh").toString(), bundle.toString()), tmp,
                "FQL_CLASSPATH", classpath, "JLINK", Path.of(System.getProperty("java.home"), "bin", "jlink").toString());
        long size;
        try (Stream<Path> files = Files.walk(bundle)) {
            size = files.filter(Files::isRegularFile).mapToLong(p -> p.toFile().length()).sum();
        }
        assertTrue(size < LIMIT, "the bundle is " + size + " bytes, the limit 60 MiB\n" + String.join("\n", build));
        assertTrue(Files.isExecutable(bundle.resolve("runtime/bin/java")) && Files.isExecutable(bundle.resolve("run.sh")));
        try (Stream<Path> jars = Files.list(bundle.resolve("lib"))) {
            assertTrue(jars.noneMatch(j -> j.getFileName().toString().matches("(nd4j|spark|dnnl|openblas).*")), "no ND4J, Spark or oneDNN jar");
        }

        TestBackends.requireOpenCl();   // building needs none; running does
        List<String> out = run(List.of(bundle.resolve("run.sh").toString(), "--small-only", "--seconds", "0.05"), tmp);
        String all = String.join("\n", out);
        long dumps;
        try (Stream<Path> golden = Files.list(root.resolve("spark-jobs/fql-agent/src/test/resources/golden"))) {
            dumps = golden.filter(p -> p.getFileName().toString().endsWith(".json")).count();
        }
        // every dump with each GEMM: CLBlast (the default) and the tiled kernel
        assertEquals(2 * dumps, out.stream().filter(l -> l.startsWith("conformance ") && l.contains(" PASS: ")).count(), all);
        assertTrue(all.contains("GEMM: CLBlast") && all.contains("GEMM: own tiled kernel"), all);
        assertTrue(out.stream().anyMatch(l -> l.contains("per step: ") && l.contains(" blocking waits")), all);
        assertTrue(out.contains("GPU check: conformance PASS"), all);
    }

    /** Runs a command in {@code dir} with extra environment pairs; returns its output, failing on a non-zero exit. */
    private static List<String> run(List<String> command, Path dir, String... env) throws IOException, InterruptedException {
        ProcessBuilder pb = new ProcessBuilder(command).directory(dir.toFile()).redirectErrorStream(true);
        pb.environment().put("TMPDIR", dir.toString());
        for (int i = 0; i < env.length; i += 2) {
            pb.environment().put(env[i], env[i + 1]);
        }
        File log = dir.resolve("command.log").toFile();
        pb.redirectOutput(log);
        Process p = pb.start();
        assertTrue(p.waitFor(8, TimeUnit.MINUTES), "timed out: " + command);
        List<String> lines = Files.readAllLines(log.toPath(), StandardCharsets.UTF_8);
        assertEquals(0, p.exitValue(), command + "\n" + String.join("\n", lines));
        return lines;
    }

    private static Path repositoryRoot() {
        for (Path d = Path.of("").toAbsolutePath(); d != null; d = d.getParent()) {
            if (Files.isRegularFile(d.resolve("tools/gpu-check/build.sh"))) {
                return d;
            }
        }
        throw new IllegalStateException("no tools/gpu-check/build.sh above " + Path.of("").toAbsolutePath());
    }
}
