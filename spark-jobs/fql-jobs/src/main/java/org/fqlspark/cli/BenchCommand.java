package org.fqlspark.cli;

import java.util.List;
import java.util.concurrent.Callable;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;

import org.fqlspark.bench.AgentBenchmark;
import org.fqlspark.tensor.Backends;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

@Command(name = "bench", mixinStandardHelpOptions = true,
        description = {"Time the FQL train step (paper size and a small size), the one-step action at batch 1 and 1000 and the "
                + "flow policy on this machine. Record results in BENCHMARKS.md next to the reference measured in the same sitting."})
public final class BenchCommand implements Callable<Integer> {

    @Option(names = "--json", description = "print one JSON object instead of a table")
    boolean json;

    @Option(names = "--seconds", defaultValue = "5", description = "time budget per case after warm-up (default: ${DEFAULT-VALUE})")
    double seconds;

    @Option(names = "--warmup", defaultValue = "3", description = "warm-up repetitions per case (default: ${DEFAULT-VALUE})")
    int warmup;

    @Option(names = "--small-only", description = "skip the paper-size cases")
    boolean smallOnly;

    @Override
    public Integer call() throws Exception {
        AgentBenchmark.Options options = new AgentBenchmark.Options(warmup, seconds, !smallOnly);
        String backend = Backends.defaultOps().describe();
        System.err.println("backend: " + backend + ", OMP_NUM_THREADS=" + System.getenv().getOrDefault("OMP_NUM_THREADS", "(unset)"));
        List<AgentBenchmark.Result> results = AgentBenchmark.run(options, System.err);
        if (json) {
            System.out.println(new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT)
                    .writeValueAsString(AgentBenchmark.toJson(results, backend)));
        } else {
            AgentBenchmark.printTable(results, System.out);
        }
        return 0;
    }
}
