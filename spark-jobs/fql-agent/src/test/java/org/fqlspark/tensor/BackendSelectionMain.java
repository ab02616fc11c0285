package org.fqlspark.tensor;

import java.nio.file.Files;
import java.nio.file.Path;

import org.fqlspark.agent.Batch;
import org.fqlspark.agent.FqlAgent;
import org.fqlspark.agent.FqlConfig;

/**
 * Run by {@link BackendSelectionTest} in a JVM of its own (so that what it loads is its own): chooses
 * {@code --backend args[0]}, takes one training step on it, and prints the class it got (or the one-line refusal) and
 * whether an OpenCL driver (PoCL's library) is mapped into the process.
 */
public final class BackendSelectionMain {

    private BackendSelectionMain() {
    }

    public static void main(String[] args) throws Exception {
        try {
            Backends.checkAvailable(args[0]);
        } catch (NoOpenClDeviceException e) {
            System.out.println("checkAvailable refused");
        }
        try {
            TensorOps ops = Backends.forName(args[0]);
            FqlAgent agent = new FqlAgent(FqlConfig.defaults().withHiddenDims(8, 8).with(FqlConfig.BATCH_SIZE, 4), 2, 2, 1, ops);
            float[] z = new float[8];
            agent.update(new Batch(4, z, z, new float[4], new float[4], z));
            System.out.println("ops=" + ops.getClass().getName());
        } catch (NoOpenClDeviceException e) {
            System.out.println("refused=" + e.getMessage());
        }
        String maps = Files.readString(Path.of("/proc/self/maps"));
        System.out.println("opencl-driver-mapped=" + maps.contains("libpocl"));
    }
}
