package org.fqlspark.bench;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.stream.Stream;

import org.fqlspark.conformance.Conformance;
import org.fqlspark.conformance.GoldenDump;
import org.fqlspark.tensor.opencl.OpenClDevices;
import org.fqlspark.tensor.opencl.OpenClTensorOps;

/**
 * The GPU check of {@code tools/gpu-check/} (issue 20, "Ready for a GPU machine"): on a machine with no Java, no
 * network and no Spark, prints the OpenCL devices, runs conformance on every golden dump on the OpenCL backend, and
 * times the training step, acting and the flow policy there ({@link AgentBenchmark}, with the per-step launch, copy
 * and wait counts). Touches no ND4J class: the bundle carries only the agent's classes, JavaCPP, the OpenCL preset
 * and Jackson.
 *
 * <p>{@code GpuCheck --golden DIR [--seconds S] [--small-only]}; {@code -Dfql.opencl.device=N} picks a device of the
 * list. Exit 0 when every dump passed, 1 when one failed, 2 without an OpenCL device or with bad arguments.
 */
public final class GpuCheck {

    private GpuCheck() {
    }

    public static void main(String[] args) throws IOException {
        Path golden = null;
        double seconds = 5;
        boolean smallOnly = false;
        for (int i = 0; i < args.length; i++) {
            switch (args[i]) {
                case "--golden" -> golden = Path.of(args[++i]);
                case "--seconds" -> seconds = Double.parseDouble(args[++i]);
                case "--small-only" -> smallOnly = true;
                default -> {
                    System.err.println("usage: GpuCheck --golden DIR [--seconds S] [--small-only]; unknown argument " + args[i]);
                    System.exit(2);
                }
            }
        }
        System.out.println("java " + System.getProperty("java.version") + ", " + Runtime.getRuntime().availableProcessors()
                + " CPUs, load average " + AgentBenchmark.loadAverage());
        List<OpenClDevices.Device> devices = OpenClDevices.list();
        System.out.println("OpenCL devices (" + devices.size() + "):" + (devices.isEmpty() ? " none, " + OpenClDevices.failure() : ""));
        for (int i = 0; i < devices.size(); i++) {
            OpenClDevices.Device d = devices.get(i);
            System.out.println("  [" + i + "] " + d.describe() + (d.gpu() ? ", GPU index " + d.gpuIndex() : ""));
        }
        if (devices.isEmpty()) {
            System.exit(2);
        }
        OpenClDevices.Device device = OpenClDevices.preferred();
        List<Path> dumps = new ArrayList<>();
        if (golden != null) {
            try (Stream<Path> files = Files.list(golden)) {
                files.filter(p -> p.toString().endsWith(".json")).sorted().forEach(dumps::add);
            }
        }
        boolean allPassed = !dumps.isEmpty();
        if (dumps.isEmpty()) {
            System.out.println("conformance: no golden dumps given (--golden DIR)");
        }
        // Both GEMMs, so that one run on a GPU says which to keep (issue 20): the default (CLBlast where it loads), then
        // the tiled kernel of fql_kernels.cl.
        List<String> gemms = new ArrayList<>(List.of(System.getProperty(OpenClTensorOps.GEMM_PROPERTY, "auto")));
        if (new OpenClTensorOps(device).gemmName().startsWith("CLBlast")) {
            gemms.add("tiled");
        }
        for (String gemm : gemms) {
            System.setProperty(OpenClTensorOps.GEMM_PROPERTY, gemm);
            OpenClTensorOps first = new OpenClTensorOps(device);
            String label = first.gemmName().startsWith("CLBlast") ? "clblast" : "tiled";
            System.out.println("running on: " + first.describe());
            for (Path dump : dumps) {
                long t0 = System.nanoTime();
                Conformance.Report r = Conformance.run(GoldenDump.load(dump), Conformance.DEFAULT_TOLERANCE, new OpenClTensorOps(device));
                Conformance.Check worst = r.worst();
                System.out.printf(Locale.ROOT, "conformance %-26s %s: %d checks, largest relative error %.3e (%s %s), %.1f s [GEMM %s]%n",
                        dump.getFileName(), r.passed() ? "PASS" : "FAIL", r.checks().size(), worst.error(), worst.group(), worst.name(),
                        (System.nanoTime() - t0) / 1e9, label);
                allPassed &= r.passed();
            }
            if (seconds > 0) {
                List<AgentBenchmark.Result> results = AgentBenchmark.run(new AgentBenchmark.Options(2, seconds, !smallOnly), System.out,
                        () -> new OpenClTensorOps(device));
                AgentBenchmark.printTable(results, System.out);
            }
        }
        System.out.println(allPassed ? "GPU check: conformance PASS" : "GPU check: conformance FAIL");
        System.exit(allPassed ? 0 : 1);
    }
}
