package org.fqlspark.cli;

import org.fqlspark.launch.CommandSessions;
import org.fqlspark.tensor.Backends;
import org.fqlspark.tensor.NoOpenClDeviceException;

import picocli.CommandLine.Option;

/**
 * {@code --backend auto|cpu|opencl} of {@code train}, {@code evaluate} and {@code act} (a picocli mixin): the tensor
 * backend the executors build their agents on, carried to them by the job. {@code bench} and {@code conformance} run
 * on the driver and declare their own.
 */
public final class BackendOption {

    @Option(names = "--backend", defaultValue = Backends.AUTO, paramLabel = "auto|cpu|opencl",
            description = {"tensor backend on the executors: auto (default: OpenCL on the GPU Spark assigned the task, else the "
                    + "CPU), cpu, or opencl (the task's GPU, else the first OpenCL GPU, accelerator or any OpenCL device, "
                    + "PoCL's CPU device included). With local executors, opencl on a machine without an OpenCL device is "
                    + "refused before anything is written"})
    String name;

    /** The value, checked: a name other than auto, cpu or opencl is bad input naming {@code --backend}. */
    public String value() {
        return Backends.check(name);
    }

    /**
     * Refuses {@code backend} before anything is started or written when the executors of {@code session} will run on
     * this machine and it cannot serve them: {@code opencl} without an OpenCL device (exit 2, one line). On a cluster
     * the executors' own devices decide, in their tasks.
     */
    public static String requireAvailable(String backend, CommandSessions.Builder session) {
        String n = Backends.check(backend);
        if (n.equals(Backends.OPENCL) && session.local()) {
            try {
                Backends.checkAvailable(n);
            } catch (NoOpenClDeviceException e) {
                throw new NoOpenClDeviceException("--backend opencl: " + e.getMessage());
            }
        }
        return n;
    }
}
