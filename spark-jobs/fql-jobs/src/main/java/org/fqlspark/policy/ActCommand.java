package org.fqlspark.policy;

import java.util.concurrent.Callable;

import org.apache.spark.sql.SparkSession;
import org.fqlspark.cli.BackendOption;
import org.fqlspark.launch.CommandSessions;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

import org.fqlspark.eval.Policy;

/** {@code fql act}: the command-line face of {@link ActJob}. Exit codes: 0 done, 2 bad input, 1 anything else. */
@Command(name = "act", mixinStandardHelpOptions = true, sortOptions = false,
        description = {"Batch inference: add an 'action' column (array<float>, clipped to [-1, 1]) to every row of a Parquet "
                + "dataset from its 'observations' column, on Spark executors, with a checkpoint's one-step policy "
                + "(default) or its BC flow policy. The output (all input columns plus the action) appears atomically.",
                "With --seed-column, row r's noise comes from that row's seed alone, so actions do not depend on partitioning.",
                "A QC-FQL checkpoint (horizon_length h > 1) writes the whole chunk into the action column (h x action_dim "
                        + "values, step-major) and its first action, the one to play now, into --first-action-column."},
        footer = {"", "Cluster: spark-submit --class org.fqlspark.cli.FqlCli fql-spark.jar act --checkpoint hdfs:///runs/r1 "
                + "--input hdfs:///states --output hdfs:///actions"})
public final class ActCommand implements Callable<Integer> {

    @Option(names = "--checkpoint", required = true, paramLabel = "PATH",
            description = "checkpoint file, or a training run directory (its checkpoint with the highest step); any Hadoop path")
    String checkpoint;

    @Option(names = "--input", required = true, paramLabel = "PARQUET", description = "Parquet file or directory with the observations")
    String input;

    @Option(names = "--output", required = true, paramLabel = "PARQUET",
            description = "output directory: must not exist, be empty, or (with --overwrite) hold an earlier fql act output")
    String output;

    @Option(names = "--policy", defaultValue = "one-step", paramLabel = "one-step|flow-bc",
            description = "FQL's one-step policy (default) or the BC flow policy")
    String policy;

    @Option(names = "--observations-column", defaultValue = "observations", paramLabel = "NAME",
            description = "array<float> or array<double> column of observations (default: ${DEFAULT-VALUE})")
    String inputColumn;

    @Option(names = "--action-column", defaultValue = "action", paramLabel = "NAME", description = "column to add (default: ${DEFAULT-VALUE})")
    String outputColumn;

    @Option(names = "--seed-column", defaultValue = "", paramLabel = "NAME",
            description = "bigint/int column seeding each row's noise (default: none; noise then from --seed and the partition)")
    String seedColumn;

    @Option(names = "--seed", defaultValue = "0", paramLabel = "S", description = "noise seed without a seed column (default: ${DEFAULT-VALUE})")
    long seed;

    @Option(names = "--exact", description = "compute each row alone (plain Java kernels): with --seed-column, bit-identical actions "
            + "in any partitioning; slower for large networks (default: ND4J, rows agree to under 1e-6)")
    boolean exact;

    @Option(names = "--first-action-column", defaultValue = "first_action", paramLabel = "NAME",
            description = "with a chunked checkpoint (horizon_length > 1): column to add with the chunk's first action, "
                    + "i.e. slice(action, 1, action_dim); empty for none; ignored without chunks (default: ${DEFAULT-VALUE})")
    String firstActionColumn;

    @Option(names = "--overwrite", description = "replace an earlier fql act output at --output (only once the new one is complete)")
    boolean overwrite;

    @Option(names = "--master", paramLabel = "URL", description = "Spark master when not run through spark-submit (default: local[*])")
    String master;

    @Mixin
    BackendOption backend;

    @Override
    public Integer call() {
        ActJob.Options options = new ActJob.Options(checkpoint, input, output, Policy.parse(policy), inputColumn, outputColumn,
                seedColumn, seed, exact, overwrite, firstActionColumn, backend.value());
        boolean sessionExisted = !CommandSessions.noneRunning();
        CommandSessions.Builder session = CommandSessions.builder("fql act").master(master);
        BackendOption.requireAvailable(options.backend(), session);   // before the session starts and anything is written
        SparkSession spark = session.getOrCreate();
        try {
            ActJob.Result result = ActJob.run(spark, options, System.err);
            System.out.printf("act: %d rows with actions in %s%n", result.rows(), result.output());
            return 0;
        } finally {
            if (!sessionExisted) spark.stop();
        }
    }
}
