package org.fqlspark.tensor;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.File;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

import org.fqlspark.tensor.opencl.OpenClDevices;
import org.fqlspark.tensor.opencl.OpenClTensorOps;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code --backend auto|cpu|opencl}: which ops each gives, that {@code auto} never picks a CPU OpenCL device, that
 * {@code cpu} (and {@code auto} where no OpenCL driver is registered) loads none of the OpenCL backend's classes and no
 * OpenCL driver, and that {@code opencl} without a device is refused in one line. The loading checks run in JVMs of
 * their own ({@link BackendSelectionMain}), since this one has loaded everything.
 */
class BackendSelectionTest {

    @TempDir
    Path tmp;

    @Test
    void namesAreCheckedAndCaseFolded() {
        assertEquals("opencl", Backends.check(" OpenCL "));
        assertEquals("auto", Backends.check("auto"));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Backends.check("gpu"));
        assertEquals("--backend must be auto, cpu or opencl, was 'gpu'", e.getMessage());
    }

    @Test
    void cpuIsTheCpuBackend() {
        assertFalse(Backends.forName("cpu") instanceof OpenClTensorOps);
        assertFalse(Backends.forTask("cpu", "0") instanceof OpenClTensorOps, "cpu ignores an assigned GPU");
        assertFalse(Backends.forTask("auto", null) instanceof OpenClTensorOps, "auto in a task without a GPU is the CPU backend");
    }

    @Test
    void openClRunsOnAnyDeviceButAutoOnlyOnAGpu() {
        TestBackends.requireOpenCl();
        assertInstanceOf(OpenClTensorOps.class, Backends.forName("opencl"));
        assertInstanceOf(OpenClTensorOps.class, Backends.forTask("opencl", null));
        TensorOps auto = Backends.forName("auto");
        if (OpenClDevices.gpus().isEmpty()) {
            // PoCL's CPU device (what CI has) is for tests: auto stays on the CPU backend
            assertFalse(auto instanceof OpenClTensorOps, auto.describe());
            assertFalse(Backends.forTask("auto", "0") instanceof OpenClTensorOps, "no OpenCL GPU 0: the CPU backend");
            NoOpenClDeviceException e = assertThrows(NoOpenClDeviceException.class, () -> Backends.forTask("opencl", "0"));
            assertTrue(e.getMessage().startsWith("GPU address 0 names no OpenCL GPU: this machine has 0"), e.getMessage());
        } else {
            assertTrue(((OpenClTensorOps) auto).device().gpu(), auto.describe());
            assertEquals(0, ((OpenClTensorOps) Backends.forTask("auto", "0")).device().gpuIndex());
        }
    }

    @Test
    void cpuLoadsNoOpenClBackendClassAndNoDriver() throws Exception {
        List<String> out = runAlone("cpu", null);
        assertTrue(out.contains("ops=" + FusedCpuTensorOps.class.getName()), String.join("\n", out));
        assertTrue(out.contains("opencl-driver-mapped=false"), String.join("\n", out));
        assertTrue(out.stream().noneMatch(l -> l.contains("org.fqlspark.tensor.opencl.")),
                "an OpenCL backend class was loaded: " + out.stream().filter(l -> l.contains("org.fqlspark.tensor.opencl.")).toList());
    }

    @Test
    void autoWithoutARegisteredDriverDoesNotProbe() throws Exception {
        Path empty = Files.createDirectories(tmp.resolve("vendors"));
        List<String> out = runAlone("auto", empty);
        assertTrue(out.contains("ops=" + FusedCpuTensorOps.class.getName()), String.join("\n", out));
        assertTrue(out.stream().noneMatch(l -> l.contains("org.fqlspark.tensor.opencl.")), String.join("\n", out));
        assertTrue(out.contains("opencl-driver-mapped=false"), String.join("\n", out));
    }

    @Test
    void openClWithoutADeviceIsRefusedInOneLine() throws Exception {
        Path empty = Files.createDirectories(tmp.resolve("vendors"));
        List<String> out = runAlone("opencl", empty);
        assertTrue(out.contains("checkAvailable refused"), String.join("\n", out));
        String refused = out.stream().filter(l -> l.startsWith("refused=")).findFirst().orElse("");
        assertEquals("refused=no OpenCL device on this machine (no OpenCL driver registered: no .icd file in " + empty + ")",
                refused, String.join("\n", out));
    }

    @Test
    void autoWithOnlyACpuOpenClDeviceProbesAndStaysOnTheCpu() throws Exception {
        TestBackends.requireOpenCl();
        if (!OpenClDevices.gpus().isEmpty()) {
            return;   // a machine with a GPU: the in-process test above covers auto there
        }
        List<String> out = runAlone("auto", null);
        assertTrue(out.contains("ops=" + FusedCpuTensorOps.class.getName()), String.join("\n", out));
    }

    /**
     * Runs {@link BackendSelectionMain} with {@code -verbose:class} in a JVM of its own; {@code vendors}, when given,
     * replaces the OpenCL driver registry ({@code OCL_ICD_VENDORS}). Returns its output lines.
     */
    private static List<String> runAlone(String backend, Path vendors) throws IOException, InterruptedException {
        List<String> cmd = new ArrayList<>();
        cmd.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        cmd.add("-verbose:class");
        cmd.add("-cp");
        cmd.add(System.getProperty("java.class.path"));
        cmd.add(BackendSelectionMain.class.getName());
        cmd.add(backend);
        ProcessBuilder pb = new ProcessBuilder(cmd).redirectErrorStream(true);
        pb.environment().put("OMP_NUM_THREADS", "1");
        pb.environment().remove("OCL_ICD_FILENAMES");
        if (vendors != null) {
            pb.environment().put("OCL_ICD_VENDORS", vendors.toString());
        }
        File log = Files.createTempFile("backend-selection", ".log").toFile();
        pb.redirectOutput(log);
        Process p = pb.start();
        assertTrue(p.waitFor(3, TimeUnit.MINUTES), "the child JVM did not finish");
        List<String> lines = Files.readAllLines(log.toPath(), StandardCharsets.UTF_8);
        Files.deleteIfExists(log.toPath());
        assertEquals(0, p.exitValue(), String.join("\n", lines));
        return lines;
    }
}
