package org.fqlspark.testing;

import org.fqlspark.tensor.opencl.OpenClDevices;
import org.junit.jupiter.api.Assertions;
import org.junit.jupiter.api.Assumptions;

/**
 * The OpenCL tests' rule in this module (fql-agent's {@code TestBackends.requireOpenCl} is the same rule, out of
 * reach here without a test jar): skip without an OpenCL device, fail under {@code CI=true}, where .ci/run installs PoCL.
 */
public final class OpenClRequired {

    private OpenClRequired() {
    }

    /** Skips the calling test (fails it under CI=true) unless an OpenCL device exists. */
    public static void require() {
        if (!OpenClDevices.list().isEmpty()) {
            return;
        }
        String why = "no OpenCL device (" + OpenClDevices.failure() + ")";
        if ("true".equalsIgnoreCase(System.getenv("CI"))) {
            Assertions.fail("CI=true and " + why + ": .ci/run installs PoCL");
        }
        Assumptions.assumeTrue(false, "skipped: " + why + "; install pocl-opencl-icd to run it");
    }
}
