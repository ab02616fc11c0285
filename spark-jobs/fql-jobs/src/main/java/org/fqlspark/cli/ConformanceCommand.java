package org.fqlspark.cli;

import java.nio.file.Path;
import java.util.concurrent.Callable;

import org.fqlspark.conformance.Conformance;
import org.fqlspark.conformance.GoldenDump;
import org.fqlspark.tensor.Backends;
import org.fqlspark.tensor.TensorOps;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

@Command(name = "conformance", mixinStandardHelpOptions = true,
        description = {"Replay a reference dump (fql-golden-v1, or fql-chunked-golden-v1 with action chunks) and compare every loss, intermediate, gradient, Adam moment "
                + "and weight with this build's backend. Exit 0 only when all are within the tolerance."})
public final class ConformanceCommand implements Callable<Integer> {

    @Option(names = "--golden", required = true, paramLabel = "FILE", description = "golden dump JSON (see docs/golden-format.md)")
    Path golden;

    @Option(names = "--tolerance", defaultValue = "1e-4", paramLabel = "REL",
            description = "largest allowed relative error per tensor (default: ${DEFAULT-VALUE}, float32 against float64)")
    double tolerance;

    @Option(names = "--backend", defaultValue = "auto", paramLabel = "auto|cpu|opencl",
            description = {"tensor backend to check: cpu; opencl (the first OpenCL GPU, else any OpenCL device, PoCL's CPU device "
                    + "included); auto (default): an OpenCL GPU when there is one, else cpu"})
    String backend;

    @Override
    public Integer call() {
        if (!(tolerance > 0)) {
            throw new IllegalArgumentException("--tolerance must be positive, was " + tolerance);
        }
        TensorOps ops = Backends.forName(backend);   // bad name or no OpenCL device: exit 2 before reading anything
        GoldenDump dump = GoldenDump.load(golden);
        System.out.println("backend: " + Backends.check(backend) + " -> " + ops.describe());
        System.out.printf("golden %s: obs %d, action %d, batch %d, actor %s, value %s, flow steps %d, q_agg %s, normalize_q_loss %s%s%n",
                golden, dump.obsDim, dump.actionDim, dump.batch.size(), dump.config.actorHiddenDims(), dump.config.valueHiddenDims(),
                dump.config.flowSteps(), dump.config.qAgg(), dump.config.normalizeQLoss(),
                dump.chunked ? ", action chunks of " + dump.horizon + " (networks see " + dump.horizon * dump.actionDim + " actions)" : "");
        Conformance.Report report = Conformance.run(dump, tolerance, ops);
        report.print(System.out);
        return report.passed() ? 0 : 1;
    }
}
