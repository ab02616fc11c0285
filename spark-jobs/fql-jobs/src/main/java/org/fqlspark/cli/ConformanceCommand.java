package org.fqlspark.cli;

import java.nio.file.Path;
import java.util.concurrent.Callable;

import org.fqlspark.conformance.Conformance;
import org.fqlspark.conformance.GoldenDump;
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

    @Override
    public Integer call() {
        if (!(tolerance > 0)) {
            throw new IllegalArgumentException("--tolerance must be positive, was " + tolerance);
        }
        GoldenDump dump = GoldenDump.load(golden);
        System.out.printf("golden %s: obs %d, action %d, batch %d, actor %s, value %s, flow steps %d, q_agg %s, normalize_q_loss %s%s%n",
                golden, dump.obsDim, dump.actionDim, dump.batch.size(), dump.config.actorHiddenDims(), dump.config.valueHiddenDims(),
                dump.config.flowSteps(), dump.config.qAgg(), dump.config.normalizeQLoss(),
                dump.chunked ? ", action chunks of " + dump.horizon + " (networks see " + dump.horizon * dump.actionDim + " actions)" : "");
        Conformance.Report report = Conformance.run(dump, tolerance);
        report.print(System.out);
        return report.passed() ? 0 : 1;
    }
}
