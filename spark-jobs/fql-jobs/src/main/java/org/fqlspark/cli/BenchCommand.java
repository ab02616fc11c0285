package org.fqlspark.cli;

import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;

import org.fqlspark.bench.AgentBenchmark;
import org.fqlspark.tensor.Backends;
import org.fqlspark.tensor.TensorOps;
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

    @Option(names = "--backend", defaultValue = "auto", paramLabel = "auto|cpu|opencl",
            description = {"tensor backend: cpu; opencl (the first OpenCL GPU, else any OpenCL device, PoCL's CPU device included; "
                    + "prints kernel launches, host<->device copies and blocking waits per train step); auto (default): an "
                    + "OpenCL GPU when there is one, else cpu"})
    String backend;

    @Override
    public Integer call() throws Exception {
        AgentBenchmark.Options options = new AgentBenchmark.Options(warmup, seconds, !smallOnly);
        String name = Backends.check(backend);
        TensorOps probe = Backends.forName(name);   // refuses opencl without a device (exit 2) before anything runs
        String described = probe.describe();
        System.err.println("backend: " + name + " -> " + described + ", OMP_NUM_THREADS="
                + System.getenv().getOrDefault("OMP_NUM_THREADS", "(unset)"));
        List<AgentBenchmark.Result> results = AgentBenchmark.run(options, System.err, () -> Backends.forName(name));
        if (json) {
            Map<String, Object> table = AgentBenchmark.toJson(results, described);
            table.put("device", probe.deviceName());
            System.out.println(new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT).writeValueAsString(table));
        } else {
            System.out.println("backend " + name + ", device " + probe.deviceName());   // the table's device, first
            AgentBenchmark.printTable(results, System.out);
        }
        return 0;
    }
}
