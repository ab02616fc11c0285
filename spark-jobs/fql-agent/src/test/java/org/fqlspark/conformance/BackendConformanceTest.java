package org.fqlspark.conformance;

import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Supplier;

import org.fqlspark.tensor.FusedCpuTensorOps;
import org.fqlspark.tensor.JavaTensorOps;
import org.fqlspark.tensor.Nd4jTensorOps;
import org.fqlspark.tensor.TensorOps;
import org.fqlspark.tensor.TestBackends;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Every implementation of TensorOps passes every golden dump, not only the default one (the chunked one included): the CPU backends and the
 * OpenCL backend (PoCL's CPU device in CI; skipped with a message where no OpenCL device exists, failed under CI=true).
 */
class BackendConformanceTest {

    static List<Arguments> cases() {
        List<Arguments> out = new ArrayList<>();
        for (String dump : new String[] {"fql_tiny_default", "fql_small_min_normq", "fql_tiny_clipped", "fql_actor_ln", "acfql_tiny_h3"}) {
            out.add(Arguments.of(dump, "nd4j (all ND4J ops)", (Supplier<TensorOps>) Nd4jTensorOps::new));
            out.add(Arguments.of(dump, "fused, oneDNN GEMM", (Supplier<TensorOps>) () -> new FusedCpuTensorOps(true)));
            out.add(Arguments.of(dump, "fused, ND4J GEMM", (Supplier<TensorOps>) () -> new FusedCpuTensorOps(false)));
            out.add(Arguments.of(dump, "java", (Supplier<TensorOps>) JavaTensorOps::new));
            out.add(Arguments.of(dump, "opencl", (Supplier<TensorOps>) TestBackends::openCl));
        }
        return out;
    }

    @ParameterizedTest(name = "{0} on {1}")
    @MethodSource("cases")
    void passes(String dump, String backend, Supplier<TensorOps> ops) throws Exception {
        Path file = Path.of(BackendConformanceTest.class.getResource("/golden/" + dump + ".json").toURI());
        Conformance.Report report = Conformance.run(GoldenDump.load(file), Conformance.DEFAULT_TOLERANCE, ops.get());
        assertTrue(report.passed(), dump + " on " + backend + ": worst " + report.worst());
        System.out.printf(java.util.Locale.ROOT, "conformance %s on %s: %d checks, largest relative error %.3e (%s %s)%n", dump, backend,
                report.checks().size(), report.worst().error(), report.worst().group(), report.worst().name());
    }
}
