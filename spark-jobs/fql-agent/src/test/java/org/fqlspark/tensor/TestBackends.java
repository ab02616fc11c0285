package org.fqlspark.tensor;

import java.util.List;

import org.fqlspark.tensor.opencl.OpenClDevices;
import org.fqlspark.tensor.opencl.OpenClTensorOps;
import org.junit.jupiter.api.Assertions;
import org.junit.jupiter.api.Assumptions;

/**
 * The backends the tensor and conformance tests run on, by name, so that a test is written once and parametrised
 * over them. {@code opencl} runs on whatever OpenCL device {@code --backend opencl} would use (PoCL's CPU device in
 * CI, which {@code .ci/run} installs). Where there is none, an OpenCL case is skipped with a message saying why, except
 * under {@code CI=true}, where it fails: CI must run every kernel.
 */
public final class TestBackends {

    public static final String OPENCL = "opencl";

    /** Every backend, each under the name {@link #create} takes. */
    public static final List<String> ALL = List.of("fused", "fused-2-threads", "fused-nd4j-gemm", "nd4j", "java", OPENCL);

    private TestBackends() {
    }

    public static TensorOps create(String name) {
        return switch (name) {
            case "fused" -> new FusedCpuTensorOps(true, 1);
            case "fused-2-threads" -> new FusedCpuTensorOps(true, 2);
            case "fused-nd4j-gemm" -> new FusedCpuTensorOps(false, 1);
            case "nd4j" -> new Nd4jTensorOps();
            case "java" -> new JavaTensorOps();
            case OPENCL -> openCl();
            default -> throw new IllegalArgumentException("no test backend '" + name + "'");
        };
    }

    /** The OpenCL backend, or a skipped test (a failed one under CI=true) where this machine has no OpenCL device. */
    public static OpenClTensorOps openCl() {
        requireOpenCl();
        return new OpenClTensorOps();
    }

    /** Skips the calling test (fails it under CI=true) unless an OpenCL device exists. */
    public static void requireOpenCl() {
        if (!OpenClDevices.list().isEmpty()) {
            return;
        }
        String why = "no OpenCL device on this machine (" + OpenClDevices.failure() + "); install PoCL (Debian: apt-get install "
                + "pocl-opencl-icd) to run the OpenCL backend's tests";
        if ("true".equalsIgnoreCase(System.getenv("CI"))) {
            Assertions.fail("CI=true and " + why + ": .ci/run installs it, so CI must find a device");
        }
        Assumptions.assumeTrue(false, "skipped: " + why);
    }
}
