package org.fqlspark.tensor;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.TimeUnit;

/**
 * Refuses to start the ND4J CUDA backend on a GPU it cannot run on, before ND4J touches the device.
 *
 * <p>ND4J 1.0.0-M2.1's only CUDA build (nd4j-cuda-11.6) ships machine code for compute capabilities 3.7, 5.0,
 * 5.2, 6.0, 6.1, 7.0, 7.5, 8.0 and 8.6 and no PTX, so the driver cannot JIT it for newer architectures: Hopper
 * (9.0: H100, H200) and later fail with "no kernel image is available" deep inside the first op. A cubin runs on
 * later minor revisions of its major version, so 8.9 (Ada) runs the 8.6 code.
 */
public final class BackendGuard {

    /** Compute capabilities (major*10+minor) that nd4j-cuda-11.6 carries machine code for. */
    static final Set<Integer> CUBIN_ARCHITECTURES = Set.of(37, 50, 52, 60, 61, 70, 75, 80, 86);

    private static volatile boolean checked;

    private BackendGuard() {
    }

    /** True when the ND4J CUDA backend is on the classpath (checked without initialising ND4J). */
    public static boolean cudaBackendPresent() {
        try {
            Class.forName("org.nd4j.linalg.jcublas.JCublasBackend", false, BackendGuard.class.getClassLoader());
            return true;
        } catch (ClassNotFoundException e) {
            return false;
        }
    }

    /** Throws {@link UnsupportedGpuException} when the CUDA backend is present and a visible GPU cannot run it. */
    public static void checkSupported() {
        if (checked || !cudaBackendPresent()) {
            checked = true;
            return;
        }
        for (Gpu gpu : visibleGpus()) {
            if (!canRun(gpu.computeCapability())) {
                throw new UnsupportedGpuException(
                        "The ND4J CUDA backend (nd4j-cuda-11.6, M2.1) cannot run on GPU " + gpu.index() + " '" + gpu.name()
                                + "' with compute capability " + gpu.computeCapability() + ": it carries machine code only for "
                                + "compute capabilities 3.7-8.6 (sm_37..sm_86) and no PTX for newer GPUs. Use the CPU build "
                                + "(without -Pcuda) on this machine, or a Kepler-to-Ada GPU (V100, T4, A100, A10, L4).");
            }
        }
        checked = true;
    }

    /** Whether nd4j-cuda-11.6's cubins run on a device of this compute capability ("9.0", "8.6", ...). */
    public static boolean canRun(String computeCapability) {
        String[] parts = computeCapability.trim().split("\\.");
        int major = Integer.parseInt(parts[0]);
        int minor = parts.length > 1 ? Integer.parseInt(parts[1]) : 0;
        for (int arch : CUBIN_ARCHITECTURES) {
            if (arch / 10 == major && arch % 10 <= minor) {
                return true;
            }
        }
        return false;
    }

    /** One visible NVIDIA device as nvidia-smi reports it. */
    public record Gpu(int index, String name, String computeCapability) {
    }

    /** Devices listed by nvidia-smi (honouring CUDA_VISIBLE_DEVICES); empty when nvidia-smi is unavailable. */
    public static List<Gpu> visibleGpus() {
        List<Gpu> gpus = new ArrayList<>();
        try {
            Process p = new ProcessBuilder("nvidia-smi", "--query-gpu=index,name,compute_cap", "--format=csv,noheader")
                    .redirectErrorStream(true).start();
            try (BufferedReader r = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8))) {
                String line;
                while ((line = r.readLine()) != null) {
                    String[] f = line.split(",");
                    if (f.length == 3 && f[0].trim().matches("\\d+")) {
                        gpus.add(new Gpu(Integer.parseInt(f[0].trim()), f[1].trim(), f[2].trim()));
                    }
                }
            }
            p.waitFor(20, TimeUnit.SECONDS);
        } catch (Exception e) {
            return List.of();
        }
        String visible = System.getenv("CUDA_VISIBLE_DEVICES");
        if (visible != null && !visible.isBlank()) {
            Set<String> allowed = Set.of(visible.split(","));
            gpus.removeIf(g -> !allowed.contains(String.valueOf(g.index())));
        }
        return gpus;
    }

    /** The GPU this process would use cannot run the backend. */
    public static final class UnsupportedGpuException extends RuntimeException {
        public UnsupportedGpuException(String message) {
            super(message);
        }
    }
}
