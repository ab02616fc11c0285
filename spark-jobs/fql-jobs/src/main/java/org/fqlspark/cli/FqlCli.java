package org.fqlspark.cli;

import org.fqlspark.agent.Checkpoint;
import org.fqlspark.conformance.GoldenDump;
import org.fqlspark.launch.BadInput;
import org.fqlspark.launch.ProcessExit;
import picocli.CommandLine;
import picocli.CommandLine.Command;

/**
 * The {@code fql} command line: every project command, run locally through {@code ./fql} or on a cluster through
 * {@code spark-submit --class org.fqlspark.cli.FqlCli fql-spark.jar <command> ...}.
 */
@Command(name = "fql", mixinStandardHelpOptions = true, version = "fql 0.1.0",
        description = "Flow Q-Learning on Apache Spark and ND4J.",
        subcommands = {
                QuickstartCommand.class,
                ConformanceCommand.class,
                BenchCommand.class,
                org.fqlspark.train.TrainCommand.class,
                org.fqlspark.env.GenerateCommand.class,
                org.fqlspark.ingest.IngestCommand.class,
                org.fqlspark.eval.EvaluateCommand.class,
                org.fqlspark.sweep.SweepCommand.class,
                org.fqlspark.policy.ActCommand.class,
                org.fqlspark.policy.ExportCommand.class,
                CommandLine.HelpCommand.class})
public final class FqlCli implements Runnable {

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Override
    public void run() {
        spec.commandLine().usage(System.out);
    }

    /**
     * Exit codes: 0 success; 1 a run or check that failed; 2 bad input (a flag, a path, a file's content), with one
     * line naming what was wrong rather than a stack trace.
     */
    public static CommandLine commandLine() {
        CommandLine cl = new CommandLine(new FqlCli());
        cl.setExecutionExceptionHandler((ex, commandLine, parseResult) -> {
            if (isBadInput(ex)) {
                commandLine.getErr().println("error: " + ex.getMessage());
                return 2;
            }
            commandLine.getErr().println("error: " + ex);
            ex.printStackTrace(commandLine.getErr());
            return 1;
        });
        return cl;
    }

    static boolean isBadInput(Throwable ex) {
        return isBadInput(ex.getClass());
    }

    /**
     * The project's bad-input exceptions implement {@link BadInput}; the agent's two are named here because fql-agent,
     * free of Spark, does not see fql-runtime, where the marker lives.
     */
    static boolean isBadInput(Class<? extends Throwable> type) {
        return BadInput.class.isAssignableFrom(type)
                || IllegalArgumentException.class.isAssignableFrom(type)
                || java.io.FileNotFoundException.class.isAssignableFrom(type)
                || java.nio.file.NoSuchFileException.class.isAssignableFrom(type)
                || java.nio.file.FileAlreadyExistsException.class.isAssignableFrom(type)
                || Checkpoint.CheckpointException.class.isAssignableFrom(type)
                || GoldenDump.GoldenFormatException.class.isAssignableFrom(type);
    }

    /** Runs a command; see {@link ProcessExit} for how the process ends (no exit on success under spark-submit). */
    public static void main(String[] args) {
        ProcessExit.finish(commandLine().execute(args));
    }
}
