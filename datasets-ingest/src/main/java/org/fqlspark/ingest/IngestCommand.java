package org.fqlspark.ingest;

import java.io.PrintStream;
import java.io.PrintWriter;
import java.util.concurrent.Callable;
import org.apache.spark.sql.SparkSession;
import org.fqlspark.data.D4rlFamily;
import org.fqlspark.data.DatasetException;
import org.fqlspark.data.DatasetFormat;
import org.fqlspark.data.GoalLabel;
import org.fqlspark.data.ReadOptions;
import org.fqlspark.io.WriterOutputStream;
import org.fqlspark.launch.CommandSessions;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code ingest}: a source file into a Parquet dataset directory. Self-contained, so the top-level
 * {@code fql} CLI can register it as a subcommand, and runnable on its own or through
 * {@code spark-submit --class org.fqlspark.ingest.IngestCommand}.
 *
 * <p>Exit codes: 0 done; 2 bad input or bad usage (the message names file, key and what was expected; no
 * output is left); 1 anything else.
 */
@Command(name = "ingest", mixinStandardHelpOptions = true, sortOptions = false,
        description = "Ingest an OGBench .npz, D4RL .hdf5 or Minari HDF5 file into Parquet shards plus "
                + "manifest.json (atomically; on any Hadoop file system).",
        exitCodeListHeading = "%nExit codes:%n",
        exitCodeList = {"0:done", "2:bad input or usage (nothing written)", "1:other failure"})
public final class IngestCommand implements Callable<Integer> {

    @Spec
    CommandSpec spec;

    @Option(names = "--input", required = true, paramLabel = "PATH",
            description = "Source file (.npz, .hdf5, .h5) or Minari dataset directory; local path or Hadoop URI.")
    String input;

    @Option(names = "--output", required = true, paramLabel = "PATH",
            description = "Dataset directory to create (file://, hdfs://, s3a://, or a plain path).")
    String output;

    @Option(names = "--format", paramLabel = "npz|d4rl|minari", converter = FormatConverter.class,
            description = "Source format; detected from the extension (and, for HDF5, the layout) when omitted.")
    DatasetFormat format;

    @Option(names = "--shards", paramLabel = "N", defaultValue = "0",
            description = "Number of Parquet files (default: one per " + IngestOptions.AUTO_ROWS_PER_SHARD
                    + " transitions).")
    int shards;

    @Option(names = "--overwrite", description = "Replace an existing output (default: refuse).")
    boolean overwrite;

    @Option(names = "--drop-invalid", description = "Drop transitions holding NaN/Inf and count them "
            + "(default: fail).")
    boolean dropInvalid;

    @Option(names = "--reward-shift", paramLabel = "R", description = "Add R to every reward (default: -1 for "
            + "D4RL antmaze files, else 0).")
    Float rewardShift;

    @Option(names = "--d4rl-family", paramLabel = "auto|antmaze|adroit|other", defaultValue = "auto",
            converter = FamilyConverter.class,
            description = "D4RL post-processing family (default: from the file name).")
    D4rlFamily d4rlFamily;

    @Option(names = "--goal-xy", paramLabel = "X,Y",
            description = "Raw OGBench form only: label reward = success - 1, mask = 1 - success with success = "
                    + "agent xy within --goal-radius of (X, Y). Default: rewards 0, masks 1.")
    String goalXy;

    @Option(names = "--goal-radius", paramLabel = "R", defaultValue = "0.5",
            description = "Success radius for --goal-xy (default: OGBench's 0.5).")
    double goalRadius;

    @Option(names = "--master", paramLabel = "URL", description = "Spark master (default: the configured one, "
            + "else local[*] bound to 127.0.0.1).")
    String master;

    public static void main(String[] args) {
        org.fqlspark.launch.ProcessExit.finish(new CommandLine(new IngestCommand()).execute(args));
    }

    @Override
    public Integer call() {
        PrintWriter err = spec.commandLine().getErr();
        IngestOptions options;
        try {
            options = options();
        } catch (IllegalArgumentException e) {
            err.println("ingest: " + e.getMessage());
            err.flush();
            return DatasetException.EXIT_CODE;
        }
        boolean ours = CommandSessions.noneRunning();
        SparkSession spark = CommandSessions.builder("fql-ingest").master(master).getOrCreate();
        PrintWriter outWriter = spec.commandLine().getOut();
        PrintStream out = WriterOutputStream.printStream(outWriter);
        try {
            IngestJob.run(spark, options, out);
            return 0;
        } catch (DatasetException e) {
            out.flush();
            err.println("ingest failed: " + e.getMessage());
            err.flush();
            return DatasetException.EXIT_CODE;
        } finally {
            out.flush();
            if (ours) spark.stop();
        }
    }

    IngestOptions options() {
        GoalLabel goal = null;
        if (goalXy != null) {
            String[] parts = goalXy.split(",");
            if (parts.length != 2) {
                throw new IllegalArgumentException("--goal-xy needs two numbers X,Y, got '" + goalXy + "'");
            }
            try {
                goal = new GoalLabel(Double.parseDouble(parts[0].trim()), Double.parseDouble(parts[1].trim()),
                        goalRadius);
            } catch (NumberFormatException e) {
                throw new IllegalArgumentException("--goal-xy needs two numbers X,Y, got '" + goalXy + "'");
            }
        }
        return new IngestOptions(input, output, format, shards, overwrite, dropInvalid,
                new ReadOptions(rewardShift, d4rlFamily, goal));
    }

    static final class FormatConverter extends ParsingConverter<DatasetFormat> {
        FormatConverter() {
            super(DatasetFormat::parse);
        }
    }

    static final class FamilyConverter extends ParsingConverter<D4rlFamily> {
        FamilyConverter() {
            super(D4rlFamily::parse);
        }
    }
}
