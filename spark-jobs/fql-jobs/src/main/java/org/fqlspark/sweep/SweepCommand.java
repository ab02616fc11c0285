package org.fqlspark.sweep;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;

import org.apache.hadoop.conf.Configuration;
import org.apache.spark.sql.SparkSession;
import org.fqlspark.launch.CommandSessions;

import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code fql sweep}: picocli options → {@link SweepSpec} → {@link SweepJob#run}. Locally through {@code ./fql sweep},
 * on a cluster through {@code spark-submit --class org.fqlspark.cli.FqlCli fql-spark.jar sweep --spec s3a://.../spec.yaml
 * --output s3a://.../sweeps/NAME --max-concurrent 4} (deploy/README.md).
 */
@Command(name = "sweep", mixinStandardHelpOptions = true, sortOptions = false,
        description = {"Run a hyper-parameter sweep: a base experiment config plus a grid (e.g. alpha x seed x dataset); each trial "
                + "is train + evaluate with an id that hashes its resolved config.",
                "Running it again skips finished trials and resumes unfinished ones (train --resume). Writes "
                        + "results.parquet/, results.csv, best.json and best.yaml into --output.",
                "Exit codes: 0 every trial finished, 1 a trial failed (the others still ran), 2 bad input."},
        footer = {"", "Spec format: deploy/README.md (\"Sweeps\") and deploy/sweeps/*.yaml; experiment configs: deploy/configs/*.yaml."})
public final class SweepCommand implements Callable<Integer> {

    @Option(names = "--spec", required = true, paramLabel = "FILE.yaml",
            description = "sweep spec (or a single experiment config), a local path or any Hadoop URI")
    String spec;

    @Option(names = "--output", required = true, paramLabel = "PATH",
            description = "sweep directory (any Hadoop URI); reused by later runs of the same or an extended spec")
    String output;

    @Option(names = "--max-concurrent", paramLabel = "N",
            description = "trials at a time, as driver threads sharing one SparkSession (default: the spec's max_concurrent, else 1)")
    Integer maxConcurrent;

    @Option(names = "--max-trials", paramLabel = "N",
            description = "refuse a sweep of more trials than this (default: the spec's max_trials, else "
                    + SweepSpec.DEFAULT_MAX_TRIALS + "); checked before anything is expanded")
    Integer maxTrials;

    @Option(names = "--dry-run", description = "list the trials and their ids, run nothing")
    boolean dryRun;

    @Option(names = "--master", paramLabel = "URL", description = "Spark master (default: spark-submit's, else local[*])")
    String master;

    @Option(names = "--conf", paramLabel = "KEY=VALUE", description = "extra Spark setting (repeatable), as spark-submit's --conf")
    List<String> conf = new ArrayList<>();

    @Override
    public Integer call() {
        SweepSpec sweep = SweepSpec.read(spec, hadoopConfiguration());
        if (maxTrials != null) {
            sweep = sweep.withMaxTrials(maxTrials);
        }
        List<SweepSpec.Trial> trials = sweep.trials();
        int concurrent = maxConcurrent != null ? maxConcurrent : sweep.maxConcurrent() != null ? sweep.maxConcurrent() : 1;
        if (concurrent < 1) {
            throw new IllegalArgumentException("--max-concurrent must be at least 1, was " + concurrent);
        }
        if (dryRun) {
            System.out.printf(Locale.ROOT, "%s: %d trial(s), %d at a time, into %s%n", sweep.name(), trials.size(), concurrent, output);
            for (SweepSpec.Trial t : trials) {
                System.out.printf(Locale.ROOT, "  %s  %s  (%s, %d steps, %d workers)%n", t.id(),
                        t.parameters().isEmpty() ? "(base)" : SweepSpec.compact(t.parameters()), t.config().data(),
                        t.config().train().steps(), t.config().train().workers());
            }
            return 0;
        }
        int threadsPerWorker = trials.stream().mapToInt(t -> t.config().train().threadsPerWorker()).max().orElse(1);
        boolean ownSession = CommandSessions.noneRunning();
        SparkSession spark = session(concurrent, threadsPerWorker);
        try {
            SweepResult result = SweepJob.run(spark, sweep, output, concurrent, System.out);
            return result.allComplete() ? 0 : 1;
        } finally {
            if (ownSession) {
                spark.stop();
            }
        }
    }

    /**
     * The Hadoop settings Spark would use (spark.hadoop.* from spark-submit and --conf), for reading the spec before
     * the session exists: an s3a:// spec needs the same credentials settings as the data.
     */
    Configuration hadoopConfiguration() {
        return CommandSessions.hadoopConfiguration(conf);
    }

    /**
     * {@link CommandSessions}' rules (--master/--conf, spark-submit's settings, local[*] on loopback), and: FAIR
     * scheduling between concurrent trials (each trial thread uses a pool of its own), spark.task.cpus = the largest
     * threads_per_worker of the trials.
     */
    SparkSession session(int concurrent, int threadsPerWorker) {
        CommandSessions.Builder b = CommandSessions.builder("fql sweep " + output).master(master).conf(conf).logLevel("WARN");
        if (concurrent > 1) b.setDefault("spark.scheduler.mode", "FAIR");
        return b.threadsPerTask(threadsPerWorker).getOrCreate();
    }
}
