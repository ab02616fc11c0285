package org.fqlspark.train.worker;

import java.util.Map;

import org.apache.spark.TaskContext;
import org.apache.spark.resource.ResourceInformation;
import org.fqlspark.tensor.BackendGuard;
import org.fqlspark.tensor.Backends;
import org.fqlspark.tensor.TensorOps;
import org.nd4j.linalg.factory.Nd4j;

/**
 * Binds the calling task thread to the GPU Spark's resource scheduling assigned to the task, and sets ND4J's CPU
 * thread counts.
 *
 * <p>The round's backend ({@code RoundSpec.backend()}: auto, cpu or opencl) decides what the GPU means
 * ({@link Backends#forTask}): with {@code auto} or {@code opencl}, GPU address N is the N-th OpenCL GPU (order rule in
 * {@code OpenClDevices}) and the task's agent runs on the OpenCL backend there; {@code auto} without a GPU, or without an
 * OpenCL GPU of that index, and {@code cpu} keep ND4J's rule below.
 *
 * <p>With {@code spark.executor.resource.gpu.amount}, {@code spark.task.resource.gpu.amount} and a discovery script,
 * {@code TaskContext.get().resources().get("gpu")} carries the task's GPU addresses. With the ND4J CUDA backend the
 * first address is taken as a CUDA ordinal and the thread is bound with {@code AffinityManager.unsafeSetDevice}
 * (per thread, so every round's task binds again before touching its agent, whose buffers live on that device). The
 * discovery script must therefore print CUDA ordinals as the executor sees them (Spark's example
 * {@code getGpusResources.sh} prints nvidia-smi indices; these agree with CUDA's with
 * {@code CUDA_DEVICE_ORDER=PCI_BUS_ID} and no {@code CUDA_VISIBLE_DEVICES} remapping). With the CPU backend, or no GPU
 * assigned, it runs on the CPU. Not exercised on a GPU in this repository's tests (no GPU here).
 */
public final class DeviceBinding {

    private static volatile int appliedThreads = -1;

    private DeviceBinding() {
    }

    /**
     * The task's device under {@code backend}: its name ("opencl:N", "opencl:default", "cuda:N" or "cpu"; it keys the
     * worker's live agent) and the ops its agent is built with.
     */
    public record TaskDevice(String name, String backend, String gpuAddress) {
        public TensorOps ops() {
            return Backends.forTask(backend, gpuAddress);
        }
    }

    /** Binds this task thread under the round's backend (see the class comment). */
    public static TaskDevice bindTaskDevice(String backend) {
        String b = Backends.check(backend);
        String gpu = taskGpuAddress();
        if (Backends.taskUsesOpenCl(b, gpu)) {
            return new TaskDevice("opencl:" + (gpu == null ? "default" : gpu.trim()), b, gpu);
        }
        return new TaskDevice(bindNd4j(gpu), b, gpu);
    }

    /** The first GPU address Spark assigned to this task, or null (none, or not in a task). */
    public static String taskGpuAddress() {
        TaskContext tc = TaskContext.get();
        if (tc == null) {
            return null;
        }
        Map<String, ResourceInformation> resources = tc.resourcesJMap();
        ResourceInformation gpu = resources.get("gpu");
        return gpu == null || gpu.addresses().length == 0 ? null : gpu.addresses()[0];
    }

    /** ND4J's rule: "cpu", or "cuda:N" after binding this thread to CUDA device N. */
    private static String bindNd4j(String address) {
        if (address == null) {
            return "cpu";
        }
        if (!BackendGuard.cudaBackendPresent()) {
            // A GPU was scheduled but this build carries the CPU backend: run, but say so once per JVM.
            warnOnce("task was assigned GPU " + address + " but the backend is the CPU one (--backend cpu, or auto without an "
                    + "OpenCL GPU " + address + " on this executor); training on the CPU");
            return "cpu";
        }
        BackendGuard.checkSupported();
        int ordinal;
        try {
            ordinal = Integer.parseInt(address.trim());
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("GPU address '" + address + "' from Spark's resource discovery is not a CUDA "
                    + "ordinal; the discovery script must print integer device indices", e);
        }
        Nd4j.getAffinityManager().unsafeSetDevice(ordinal);
        return "cuda:" + ordinal;
    }

    /** ND4J's own thread pool and OpenBLAS: {@code threads} each (process-wide; the task's share of cores). */
    public static void applyThreads(int threads) {
        if (appliedThreads == threads) {
            return;
        }
        synchronized (DeviceBinding.class) {
            Nd4j.getEnvironment().setMaxThreads(threads);
            Nd4j.getEnvironment().setMaxMasterThreads(threads);
            Nd4j.factory().blas().setMaxThreads(threads);
            appliedThreads = threads;
        }
    }

    private static volatile boolean warned;

    private static void warnOnce(String message) {
        if (!warned) {
            warned = true;
            System.err.println("fql train: " + message);
        }
    }
}
