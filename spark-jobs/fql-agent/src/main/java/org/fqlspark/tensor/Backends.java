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
}
