package org.fqlspark.sweep;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;

import org.apache.hadoop.conf.Configuration;
import org.apache.spark.SparkConf;
import org.apache.spark.sql.SparkSession;

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
        boolean ownSession = SparkSession.getActiveSession().isEmpty() && SparkSession.getDefaultSession().isEmpty();
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
        Configuration hadoop = new Configuration();
        List<scala.Tuple2<String, String>> settings = new ArrayList<>(List.of(new SparkConf().getAll()));
        for (String kv : conf) {
            int eq = kv.indexOf('=');
            if (eq > 0) settings.add(new scala.Tuple2<>(kv.substring(0, eq), kv.substring(eq + 1)));
        }
        for (scala.Tuple2<String, String> kv : settings) {
            if (kv._1().startsWith("spark.hadoop.")) hadoop.set(kv._1().substring("spark.hadoop.".length()), kv._2());
        }
        return hadoop;
    }

    /**
     * spark-submit's settings win, then --master/--conf, then: local[*] on loopback, FAIR scheduling between concurrent
     * trials (each trial thread uses a pool of its own), spark.task.cpus = the largest threads_per_worker of the trials.
     */
    SparkSession session(int concurrent, int threadsPerWorker) {
        SparkConf submitted = new SparkConf();
        SparkSession.Builder b = SparkSession.builder().appName("fql sweep " + output);
        List<String[]> extra = new ArrayList<>();
        for (String kv : conf) {
            int eq = kv.indexOf('=');
            if (eq <= 0) {
                throw new IllegalArgumentException("--conf expects KEY=VALUE, was '" + kv + "'");
            }
            extra.add(new String[] {kv.substring(0, eq), kv.substring(eq + 1)});
        }
        java.util.function.Predicate<String> given = k -> submitted.contains(k) || extra.stream().anyMatch(e -> e[0].equals(k));
        String effectiveMaster = master != null ? master : given.test("spark.master") ? null : "local[*]";
        if (effectiveMaster != null) {
            b.master(effectiveMaster);
            if (effectiveMaster.startsWith("local") && !given.test("spark.driver.host")) {
                b.config("spark.driver.host", "127.0.0.1").config("spark.driver.bindAddress", "127.0.0.1");
            }
        }
        if (concurrent > 1 && !given.test("spark.scheduler.mode")) b.config("spark.scheduler.mode", "FAIR");
        if (!given.test("spark.task.cpus")) b.config("spark.task.cpus", Integer.toString(threadsPerWorker));
        if (!given.test("spark.executorEnv.OMP_NUM_THREADS")) b.config("spark.executorEnv.OMP_NUM_THREADS", Integer.toString(threadsPerWorker));
        if (!given.test("spark.executorEnv.OMP_WAIT_POLICY")) b.config("spark.executorEnv.OMP_WAIT_POLICY", "PASSIVE");
        if (!given.test("spark.ui.showConsoleProgress")) b.config("spark.ui.showConsoleProgress", "false");
        for (String[] e : extra) {
            b.config(e[0], e[1]);
        }
        SparkSession spark = b.getOrCreate();
        spark.sparkContext().setLogLevel("WARN");
        return spark;
    }
}
