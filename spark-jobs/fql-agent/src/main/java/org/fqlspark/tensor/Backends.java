package org.fqlspark.tensor;

/** Chooses the {@link TensorOps} for the ND4J backend on the classpath. */
public final class Backends {

    private Backends() {
    }

    /**
     * The CUDA backend gets the portable all-ND4J ops (element-wise work stays on the device); the CPU backend gets
     * the fused Java element-wise kernels. {@code -Dfql.ops=nd4j|fused|java} overrides (for comparisons).
     */
    public static TensorOps defaultOps() {
        String choice = System.getProperty("fql.ops", "");
        switch (choice) {
            case "nd4j":
                return new Nd4jTensorOps();
            case "fused":
                return new FusedCpuTensorOps();
            case "java":
                return new JavaTensorOps();
            case "":
                return BackendGuard.cudaBackendPresent() ? new Nd4jTensorOps() : new FusedCpuTensorOps();
            default:
                throw new IllegalArgumentException("-Dfql.ops must be 'nd4j', 'fused' or 'java', was '" + choice + "'");
        }
    }

    /** One-step networks up to this many parameters act faster on {@link JavaTensorOps} at batch 1 (see BENCHMARKS.md). */
    static final long JAVA_ACTING_MAX_PARAMETERS = 200_000;

    /**
     * Ops for acting one observation at a time (evaluation rollouts) with a policy network of {@code parameters}
     * weights: plain Java for small networks, where ND4J's per-call set-up dominates (a 64×64 policy acts in ~4 µs
     * against ~30 µs); the default ops otherwise, where the weights no longer fit in cache and OpenBLAS's
     * matrix-vector product is the faster one. {@code -Dfql.ops} still overrides.
     */
    public static TensorOps forActing(long parameters) {
        return parameters <= JAVA_ACTING_MAX_PARAMETERS && System.getProperty("fql.ops") == null ? new JavaTensorOps() : defaultOps();
    }
}
