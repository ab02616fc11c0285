package org.fqlspark.bench;

import java.io.PrintStream;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.function.IntSupplier;
import java.util.function.Supplier;

import org.fqlspark.agent.Batch;
import org.fqlspark.agent.FqlAgent;
import org.fqlspark.agent.FqlConfig;
import org.fqlspark.agent.StepNoise;
import org.fqlspark.tensor.TensorOps;

/**
 * Times the agent on this machine: the training step at the paper's size (obs 29, act 8, batch 256, 4×512) and at
 * a small size, the one-step action at batch 1 and 1000, and the 10-step flow policy. Each case runs warm-up
 * iterations, then timed repetitions until a time budget is spent; medians are reported. Not a unit test:
 * numbers go to BENCHMARKS.md with the machine and the reference measured in the same sitting.
 */
public final class AgentBenchmark {

    /** One measured case: median and spread in milliseconds, and a rate when meaningful. */
    public record Result(String name, int repetitions, double medianMs, double p10Ms, double p90Ms, String note) {
    }

    public record Options(int warmup, double secondsPerCase, boolean includePaperSize) {
        public Options {
            if (warmup < 0) throw new IllegalArgumentException("--warmup must be >= 0, was " + warmup);
            if (!(secondsPerCase > 0)) throw new IllegalArgumentException("--seconds must be > 0, was " + secondsPerCase);
        }
    }

    private AgentBenchmark() {
    }

    public static List<Result> run(Options o, PrintStream progress) {
        return run(o, progress, org.fqlspark.tensor.Backends::defaultOps);
    }

    /** The cases on the backend {@code ops} makes (one instance per network size). */
    public static List<Result> run(Options o, PrintStream progress, Supplier<TensorOps> ops) {
        List<Result> results = new ArrayList<>();
        if (o.includePaperSize()) {
            results.addAll(agentCases("paper", FqlConfig.defaults(), 29, 8, o, progress, ops.get()));
        }
        results.addAll(agentCases("small", FqlConfig.defaults().withHiddenDims(64, 64, 64), 2, 2, o, progress, ops.get()));   // the quick start's size
        return results;
    }

    /** Steps over which {@link #perStep} averages a device backend's counters. */
    private static final int COUNTED_STEPS = 5;

    /**
     * A device backend's counters per training step (kernel launches, copies, blocking waits), averaged over
     * {@link #COUNTED_STEPS} steps after warm-up; "" for a host backend.
     */
    static String perStep(FqlAgent agent, Batch batch, StepNoise noise) {
        Map<String, Long> before = agent.ops().deviceCounters();
        if (before.isEmpty()) {
            return "";
        }
        for (int i = 0; i < COUNTED_STEPS; i++) {
            agent.update(batch, noise);
        }
        Map<String, Long> after = agent.ops().deviceCounters();
        List<String> parts = new ArrayList<>();
        for (Map.Entry<String, Long> e : after.entrySet()) {
            double perStep = (e.getValue() - before.getOrDefault(e.getKey(), 0L)) / (double) COUNTED_STEPS;
            parts.add((perStep == Math.rint(perStep) ? String.valueOf((long) perStep) : String.format(Locale.ROOT, "%.1f", perStep))
                    + " " + e.getKey());
        }
        return "per step: " + String.join(", ", parts);
    }

    private static List<Result> agentCases(String label, FqlConfig config, int obsDim, int actionDim, Options o, PrintStream progress,
                                           TensorOps ops) {
        List<Result> results = new ArrayList<>();
        FqlAgent agent = new FqlAgent(config, obsDim, actionDim, 0, ops);
        int b = config.batchSize();
        SplittableRandom rng = new SplittableRandom(1);
        Batch batch = randomBatch(b, obsDim, actionDim, rng);
        StepNoise noise = StepNoise.sample(b, actionDim, rng);
        String dims = String.format(Locale.ROOT, "obs %d, act %d, batch %d, %s", obsDim, actionDim, b, config.actorHiddenDims());
        double gflop = trainStepFlops(obsDim, actionDim, config) / 1e9;
        Result step = time("train step (" + label + ": " + dims + ")", o, progress, () -> {
            agent.update(batch, noise);
            return 0;
        });
        String counts = perStep(agent, batch, noise);
        if (!counts.isEmpty() && progress != null) {
            progress.println("  " + counts);
        }
        results.add(new Result(step.name(), step.repetitions(), step.medianMs(), step.p10Ms(), step.p90Ms(),
                String.format(Locale.ROOT, "%.2f GFLOP/step, %.1f GFLOP/s, %.0f samples/s", gflop, gflop / (step.medianMs() / 1e3),
                        b / (step.medianMs() / 1e3)) + (counts.isEmpty() ? "" : "; " + counts)));
        for (int n : new int[] {1, 1000}) {
            float[] obs = randomArray(n * obsDim, rng);
            float[] z = randomArray(n * actionDim, rng);
            results.add(time("one-step action (" + label + ", batch " + n + ")", o, progress, () -> agent.sampleActions(obs, z, n).length));
            results.add(time(config.flowSteps() + "-step flow policy (" + label + ", batch " + n + ")", o, progress,
                    () -> agent.computeFlowActions(obs, z, n).length));
        }
        return results;
    }

    /** Matrix-product FLOPs of one training step (2·m·n·k per product), as the reference's bench counts them. */
    public static double trainStepFlops(int obsDim, int actionDim, FqlConfig c) {
        int b = c.batchSize();
        int k = FqlConfig.CRITIC_ENSEMBLE;
        int[] critic = dims(obsDim + actionDim, c.valueHiddenDims(), 1);
        int[] flow = dims(obsDim + actionDim + 1, c.actorHiddenDims(), actionDim);
        int[] one = dims(obsDim + actionDim, c.actorHiddenDims(), actionDim);
        double total = mm(b, one, 0)                                     // next actions
                + k * mm(b, critic, 0)                                   // target critic
                + k * (mm(b, critic, 0) * 2 + mm(b, critic, 1))          // critic fwd + weight grad + input grad (not layer 0)
                + mm(b, flow, 0) * 2 + mm(b, flow, 1)                    // flow fwd + bwd
                + c.flowSteps() * mm(b, flow, 0)                         // Euler teacher
                + mm(b, one, 0) * 2 + mm(b, one, 1)                      // one-step fwd + bwd
                + k * (mm(b, critic, 0) + mm(b, critic, 0));             // Q term: critic fwd + input grad
        return total;
    }

    private static double mm(int b, int[] d, int skipFirst) {
        double s = 0;
        for (int i = skipFirst; i < d.length - 1; i++) {
            s += 2.0 * b * d[i] * d[i + 1];
        }
        return s;
    }

    private static int[] dims(int in, List<Integer> hidden, int out) {
        int[] d = new int[hidden.size() + 2];
        d[0] = in;
        for (int i = 0; i < hidden.size(); i++) d[i + 1] = hidden.get(i);
        d[d.length - 1] = out;
        return d;
    }

    static Result time(String name, Options o, PrintStream progress, IntSupplier body) {
        for (int i = 0; i < o.warmup(); i++) {
            body.getAsInt();
        }
        List<Double> ms = new ArrayList<>();
        long budget = (long) (o.secondsPerCase() * 1e9);
        long start = System.nanoTime();
        while (ms.size() < 3 || (System.nanoTime() - start < budget && ms.size() < 100_000)) {
            long t0 = System.nanoTime();
            body.getAsInt();
            ms.add((System.nanoTime() - t0) / 1e6);
        }
        double[] sorted = ms.stream().mapToDouble(Double::doubleValue).sorted().toArray();
        Result r = new Result(name, sorted.length, pct(sorted, 0.5), pct(sorted, 0.1), pct(sorted, 0.9), "");
        if (progress != null) {
            progress.printf(Locale.ROOT, "  measured %-60s median %10.3f ms (%d runs)%n", name, r.medianMs(), r.repetitions());
        }
        return r;
    }

    private static double pct(double[] sorted, double q) {
        return sorted[Math.min(sorted.length - 1, (int) Math.floor(q * (sorted.length - 1) + 0.5))];
    }

    static Batch randomBatch(int b, int obsDim, int actionDim, SplittableRandom rng) {
        Batch batch = new Batch(b, randomArray(b * obsDim, rng), randomArray(b * actionDim, rng), new float[b], new float[b],
                randomArray(b * obsDim, rng));
        for (int i = 0; i < b; i++) {
            batch.rewards()[i] = -rng.nextInt(2);
            batch.masks()[i] = 1f - (batch.rewards()[i] + 1f);
        }
        for (int i = 0; i < batch.actions().length; i++) {
            batch.actions()[i] = Math.max(-0.99999f, Math.min(0.99999f, batch.actions()[i] * 0.5f));
        }
        return batch;
    }

    static float[] randomArray(int n, SplittableRandom rng) {
        float[] a = new float[n];
        for (int i = 0; i < n; i++) a[i] = (float) rng.nextGaussian();
        return a;
    }

    /** The 1-, 5- and 15-minute load averages from /proc/loadavg, or "" where there is none. */
    public static String loadAverage() {
        try {
            String[] f = java.nio.file.Files.readString(java.nio.file.Path.of("/proc/loadavg")).trim().split("\\s+");
            return f[0] + " " + f[1] + " " + f[2];
        } catch (java.io.IOException | RuntimeException e) {
            return "";
        }
    }

    public static void printTable(List<Result> results, PrintStream out) {
        out.printf(Locale.ROOT, "%-64s %8s %12s %12s %12s  %s%n", "case", "runs", "median ms", "p10 ms", "p90 ms", "");
        for (Result r : results) {
            out.printf(Locale.ROOT, "%-64s %8d %12.3f %12.3f %12.3f  %s%n", r.name(), r.repetitions(), r.medianMs(), r.p10Ms(), r.p90Ms(), r.note());
        }
    }

    public static Map<String, Object> toJson(List<Result> results, String backend) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("backend", backend);
        m.put("java", System.getProperty("java.version"));
        m.put("cores", Runtime.getRuntime().availableProcessors());
        m.put("omp_num_threads", System.getenv().getOrDefault("OMP_NUM_THREADS", ""));
        m.put("openblas_coretype", System.getenv().getOrDefault("OPENBLAS_CORETYPE", ""));
        m.put("load_average", loadAverage());
        List<Map<String, Object>> rows = new ArrayList<>();
        for (Result r : results) {
            Map<String, Object> row = new LinkedHashMap<>();
            row.put("case", r.name());
            row.put("runs", r.repetitions());
            row.put("median_ms", r.medianMs());
            row.put("p10_ms", r.p10Ms());
            row.put("p90_ms", r.p90Ms());
            if (!r.note().isEmpty()) row.put("note", r.note());
            rows.add(row);
        }
        m.put("results", rows);
        return m;
    }

    /**
     * Where a training step's time goes: runs {@code steps} steps on a profiled backend and prints per-op totals.
     */
    public static void profile(FqlConfig config, int obsDim, int actionDim, int steps, PrintStream out) {
        ProfilingTensorOps ops = new ProfilingTensorOps(org.fqlspark.tensor.Backends.defaultOps());
        FqlAgent agent = new FqlAgent(config, obsDim, actionDim, 0, ops);
        SplittableRandom rng = new SplittableRandom(1);
        Batch batch = randomBatch(config.batchSize(), obsDim, actionDim, rng);
        StepNoise noise = StepNoise.sample(config.batchSize(), actionDim, rng);
        for (int i = 0; i < 3; i++) {
            agent.update(batch, noise);
        }
        ops.reset();
        long t0 = System.nanoTime();
        for (int i = 0; i < steps; i++) {
            agent.update(batch, noise);
        }
        ops.print(out, steps, System.nanoTime() - t0);
    }

    /** Operations of one training step: calls into {@link org.fqlspark.tensor.TensorOps}, and the ND4J ops they ran. */
    public record OpCounts(String backend, long tensorOpsCalls, long nd4jOps) {
    }

    /**
     * Counts the operations of one paper-size-like training step on {@code ops} after one warm-up step: the
     * TensorOps calls (the profiler's counts) and the ND4J ops they executed (ND4J's op profiler; each is a kernel
     * launch on the CUDA backend, GEMMs included).
     */
    public static OpCounts opsPerStep(FqlConfig config, int obsDim, int actionDim, org.fqlspark.tensor.TensorOps backend) {
        ProfilingTensorOps ops = new ProfilingTensorOps(backend);
        FqlAgent agent = new FqlAgent(config, obsDim, actionDim, 0, ops);
        SplittableRandom rng = new SplittableRandom(1);
        Batch batch = randomBatch(config.batchSize(), obsDim, actionDim, rng);
        StepNoise noise = StepNoise.sample(config.batchSize(), actionDim, rng);
        agent.update(batch, noise);
        ops.reset();
        org.nd4j.linalg.api.ops.executioner.OpExecutioner ex = org.nd4j.linalg.factory.Nd4j.getExecutioner();
        org.nd4j.linalg.api.ops.executioner.OpExecutioner.ProfilingMode before = ex.getProfilingMode();
        ex.setProfilingMode(org.nd4j.linalg.api.ops.executioner.OpExecutioner.ProfilingMode.OPERATIONS);
        org.nd4j.linalg.profiler.OpProfiler.getInstance().reset();
        try {
            agent.update(batch, noise);
            return new OpCounts(backend.describe(), ops.totalCalls(), org.nd4j.linalg.profiler.OpProfiler.getInstance().getInvocationsCount());
        } finally {
            ex.setProfilingMode(before);
        }
    }

    /** For running without the CLI: {@code java -cp ... org.fqlspark.bench.AgentBenchmark [seconds | profile]}. */
    public static void main(String[] args) {
        if (args.length > 0 && args[0].equals("ops")) {
            for (org.fqlspark.tensor.TensorOps b : new org.fqlspark.tensor.TensorOps[] {
                    new org.fqlspark.tensor.Nd4jTensorOps(), new org.fqlspark.tensor.FusedCpuTensorOps()}) {
                OpCounts c = opsPerStep(FqlConfig.defaults(), 29, 8, b);
                System.out.printf(Locale.ROOT, "%s: %d TensorOps calls, %d ND4J ops per paper-size train step%n",
                        c.backend(), c.tensorOpsCalls(), c.nd4jOps());
            }
            return;
        }
        if (args.length > 0 && args[0].equals("profile")) {
            profile(FqlConfig.defaults(), 29, 8, 5, System.out);
            profile(FqlConfig.defaults().withHiddenDims(64, 64, 64), 2, 2, 50, System.out);
            return;
        }
        double seconds = args.length > 0 ? Double.parseDouble(args[0]) : 5;
        List<Result> r = run(new Options(3, seconds, true), System.out);
        printTable(r, System.out);
    }
}
