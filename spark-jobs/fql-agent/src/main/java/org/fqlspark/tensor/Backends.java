package org.fqlspark.tensor;

import java.io.IOException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;

/**
 * Chooses the {@link TensorOps}: {@code --backend auto|cpu|opencl}, and {@code -Dfql.ops} for comparisons.
 *
 * <ul>
 *   <li>{@code cpu}: the CPU backend ({@link #defaultOps()}; ND4J's CUDA build where {@code -Pcuda} put it on the
 *       classpath). Touches no OpenCL at all.</li>
 *   <li>{@code opencl}: the OpenCL backend on the first OpenCL GPU, else the first accelerator, else the first device
 *       of any kind (a CPU device such as PoCL: that is how the tests run it), or {@code -Dfql.opencl.device=N}.
 *       Where there is no OpenCL device: {@link NoOpenClDeviceException}, one line.</li>
 *   <li>{@code auto} (the default): OpenCL on a GPU when this machine has an OpenCL GPU, else the CPU backend. Never a
 *       CPU OpenCL device. It probes only when an OpenCL driver is registered ({@code /etc/OpenCL/vendors/*.icd}; a
 *       directory listing, nothing loaded otherwise), and then once per JVM.</li>
 * </ul>
 *
 * <p>In a Spark task ({@link #forTask}) {@code auto} means OpenCL on the GPU Spark assigned to the task, and the CPU
 * backend when it assigned none, without probing. GPU address {@code N} is the N-th OpenCL GPU in the order
 * {@code org.fqlspark.tensor.opencl.OpenClDevices} documents.
 *
 * <p>The OpenCL classes ({@code org.fqlspark.tensor.opencl}) are reached only through {@link OpenCl}, a nested class the
 * JVM loads when {@code opencl} is asked for or {@code auto} probes; {@code cpu} never loads it. (The OpenCL
 * <em>loader</em> library itself is loaded on the CPU path too, by oneDNN's JavaCPP preset, which links it; no OpenCL
 * driver is, since nothing calls into it.)
 */
public final class Backends {

    public static final String AUTO = "auto";
    public static final String CPU = "cpu";
    public static final String OPENCL = "opencl";
    /** The names {@code --backend} takes. */
    public static final List<String> NAMES = List.of(AUTO, CPU, OPENCL);

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

    /** {@code name} in lower case when it is one of {@link #NAMES}; otherwise an {@link IllegalArgumentException}. */
    public static String check(String name) {
        String n = name == null ? "" : name.trim().toLowerCase(Locale.ROOT);
        if (!NAMES.contains(n)) {
            throw new IllegalArgumentException("--backend must be auto, cpu or opencl, was '" + name + "'");
        }
        return n;
    }

    /**
     * {@link #check}, and for {@code opencl} also that this machine has an OpenCL device
     * ({@link NoOpenClDeviceException} otherwise): what a command runs before it writes anything when its executors
     * are on this machine (local mode). On a cluster the executors' devices decide, in their tasks.
     */
    public static String checkAvailable(String name) {
        String n = check(name);
        if (n.equals(OPENCL)) {
            OpenCl.requireDevice();
        }
        return n;
    }

    /** The ops {@code --backend name} asks for on this machine (outside a Spark task). */
    public static TensorOps forName(String name) {
        return switch (check(name)) {
            case CPU -> defaultOps();
            case OPENCL -> OpenCl.preferred();
            default -> openClGpuCount() > 0 ? OpenCl.gpu(0) : defaultOps();
        };
    }

    /**
     * The ops of a Spark task: {@code gpuAddress} is the GPU Spark assigned to it (null when none). {@code auto} runs on
     * that GPU through OpenCL when it is an OpenCL GPU, and on the CPU backend otherwise (with no GPU assigned it does
     * not probe); {@code opencl} on that GPU, or on {@link #forName}'s device when none was assigned.
     */
    public static TensorOps forTask(String name, String gpuAddress) {
        String n = check(name);
        if (n.equals(CPU) || (n.equals(AUTO) && gpuAddress == null)) {
            return defaultOps();
        }
        if (gpuAddress == null) {
            return OpenCl.preferred();
        }
        int index = gpuIndex(gpuAddress);
        if (n.equals(AUTO) && index >= openClGpuCount()) {
            return defaultOps();
        }
        return OpenCl.gpu(index);
    }

    /** Whether {@link #forTask} with these arguments runs on OpenCL (what the task's device is called in logs). */
    public static boolean taskUsesOpenCl(String name, String gpuAddress) {
        String n = check(name);
        return n.equals(OPENCL) || (n.equals(AUTO) && gpuAddress != null && gpuIndex(gpuAddress) < openClGpuCount());
    }

    static int gpuIndex(String gpuAddress) {
        try {
            return Integer.parseInt(gpuAddress.trim());
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("GPU address '" + gpuAddress + "' from Spark's resource discovery is not a device index;"
                    + " the discovery script must print integer indices", e);
        }
    }

    /**
     * OpenCL GPUs on this machine: 0 without probing when no OpenCL driver is registered, else found once per JVM
     * (this loads the registered drivers).
     */
    public static int openClGpuCount() {
        return driverRegistered() ? OpenCl.gpuCount() : 0;
    }

    /**
     * True when an OpenCL driver may be registered: an ICD file in {@code /etc/OpenCL/vendors} (or
     * {@code OCL_ICD_VENDORS}'s directory), or {@code OCL_ICD_FILENAMES} set. One directory listing; loads nothing.
     */
    public static boolean driverRegistered() {
        String filenames = System.getenv("OCL_ICD_FILENAMES");
        if (filenames != null && !filenames.isBlank()) {
            return true;
        }
        Path dir = driverRegistry();
        if (Files.isRegularFile(dir)) {
            return true;
        }
        if (!Files.isDirectory(dir)) {
            return false;
        }
        try (DirectoryStream<Path> icds = Files.newDirectoryStream(dir, "*.icd")) {
            return icds.iterator().hasNext();
        } catch (IOException e) {
            return false;
        }
    }

    /** Where the OpenCL loader looks for drivers: {@code OCL_ICD_VENDORS}, else {@code /etc/OpenCL/vendors}. */
    public static Path driverRegistry() {
        String vendors = System.getenv("OCL_ICD_VENDORS");
        return Path.of(vendors != null && !vendors.isBlank() ? vendors : "/etc/OpenCL/vendors");
    }

    /** The only door to the OpenCL classes: loaded by the JVM on first use, never on the {@code cpu} path. */
    private static final class OpenCl {
        static TensorOps preferred() {
            return new org.fqlspark.tensor.opencl.OpenClTensorOps(org.fqlspark.tensor.opencl.OpenClDevices.preferred());
        }

        static TensorOps gpu(int index) {
            return new org.fqlspark.tensor.opencl.OpenClTensorOps(org.fqlspark.tensor.opencl.OpenClDevices.gpu(index));
        }

        static void requireDevice() {
            org.fqlspark.tensor.opencl.OpenClDevices.preferred();
        }

        static int gpuCount() {
            return org.fqlspark.tensor.opencl.OpenClDevices.gpus().size();
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
