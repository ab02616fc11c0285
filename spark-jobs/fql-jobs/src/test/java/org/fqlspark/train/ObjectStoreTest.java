package org.fqlspark.train;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FileSystem;
import org.apache.spark.sql.SparkSession;
import org.fqlspark.agent.FqlConfig;
import org.fqlspark.data.DatasetManifest;
import org.fqlspark.data.DatasetReader;
import org.fqlspark.data.SourceInfo;
import org.fqlspark.eval.EvalOptions;
import org.fqlspark.eval.EvalResult;
import org.fqlspark.eval.EvaluateJob;
import org.fqlspark.ingest.IngestJob;
import org.fqlspark.ingest.IngestOptions;
import org.fqlspark.io.HadoopFiles;
import org.fqlspark.io.Lease;
import org.fqlspark.io.OutputGuard;
import org.fqlspark.testing.S3Server;
import org.fqlspark.testing.TestSpark;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.fqlspark.run.RunDirectory;

/**
 * Datasets, runs, metrics, evaluations and leases on a real S3-compatible server (s3proxy on loopback) through s3a://,
 * where rename is a copy and nothing is visible before it is closed.
 */
@org.junit.jupiter.api.Timeout(value = 10, unit = java.util.concurrent.TimeUnit.MINUTES)   // never hang CI on a stuck request
class ObjectStoreTest {

    private static S3Server s3;
    private static SparkSession spark;
    private static Configuration conf;
    private static final PrintStream QUIET = new PrintStream(OutputStream.nullOutputStream());

    @BeforeAll
    static void start() throws Exception {
        assumeTrue(S3Server.jar() != null, "the s3proxy jar comes with the Maven build (target/test-tools)");
        Path root = TrainFixtures.tempDir("fql-s3");
        s3 = S3Server.start(root);
        spark = TestSpark.session();
        conf = spark.sparkContext().hadoopConfiguration();
        s3.configure(conf);
    }

    @AfterAll
    static void stop() {
        if (s3 != null) s3.close();
    }

    private static FileSystem fs() throws IOException {
        return new org.apache.hadoop.fs.Path(s3.uri("")).getFileSystem(conf);
    }

    private static Set<String> keys(String prefix) throws IOException {
        return HadoopFiles.relativeFiles(fs(), new org.apache.hadoop.fs.Path(s3.uri(prefix)));
    }

    @Test
    void aDatasetIsWrittenAndReplacedWithItsManifestLastAndReadBack() throws IOException {
        String ds = s3.uri("data/ds");
        IngestJob.write(spark, TrainFixtures.data(), SourceInfo.generated("test", Map.of()), IngestOptions.forOutput(ds), QUIET);
        DatasetManifest first = DatasetReader.readManifest(spark, ds);
        assertEquals(TrainFixtures.data().size(), DatasetReader.read(spark, ds).data().size());

        IngestJob.write(spark, TrainFixtures.data(), SourceInfo.generated("test", Map.of()),
                IngestOptions.forOutput(ds).withShards(3).withOverwrite(true), QUIET);
        DatasetManifest second = DatasetReader.readManifest(spark, ds);
        assertEquals(3, second.shards().size());
        Set<String> files = keys("data/ds");
        Set<String> expected = new HashSet<>(List.of("manifest.json"));
        second.shards().forEach(s -> expected.add(s.file()));
        assertEquals(expected, files, "the new shards and manifest, none of the old version's shards");
        for (DatasetManifest.Shard old : first.shards()) assertFalse(files.contains(old.file()));
        assertEquals(TrainFixtures.data().size(), DatasetReader.read(spark, ds).data().size());

        // an object that is not ours under the prefix: --overwrite refuses, and nothing is touched
        try (var out = fs().create(new org.apache.hadoop.fs.Path(ds + "/report.pdf"))) {
            out.write(1);
        }
        assertThrows(OutputGuard.OutputRefusedException.class, () -> IngestJob.write(spark, TrainFixtures.data(),
                SourceInfo.generated("test", Map.of()), IngestOptions.forOutput(ds).withOverwrite(true), QUIET));
        assertEquals(second.toJson(), DatasetReader.readManifest(spark, ds).toJson(), "the refused write left the dataset as it was");
    }

    @Test
    void trainingResumingAndEvaluatingOnS3() throws IOException {
        String ds = s3.uri("data/train");
        IngestJob.write(spark, TrainFixtures.data(), SourceInfo.generated("test", Map.of()), IngestOptions.forOutput(ds), QUIET);
        String run = s3.uri("runs/r1");
        TrainOptions options = TrainOptions.builder(ds, run).overrides(TrainFixtures.tiny()).seed(3).learningCurves(false)
                .averagingFrequency(2).steps(6).checkpointEvery(1).build();
        TrainResult first = TrainJob.run(spark, options, QUIET);
        assertEquals(6, first.finalStep());
        TrainResult resumed = TrainJob.run(spark, options.toBuilder().steps(10).resume(true).build(), QUIET);
        assertEquals(10, resumed.finalStep());
        RunDirectory dir = RunDirectory.at(run, conf);
        assertEquals(10, dir.latestCheckpoint(QUIET).orElseThrow().checkpoint().state().step());
        String csv = RunDirectory.utf8(dir.readBytes(dir.file(RunDirectory.METRICS_CSV)));
        assertEquals(1 + 5, csv.strip().lines().count(), csv);   // header + 5 rounds of 2 steps
        assertFalse(keys("runs/r1").contains(Lease.FILE), "the lease is released");

        String eval = s3.uri("eval/e1");
        EvalOptions evalOptions = EvalOptions.of(run, "pointmaze-medium", 2, eval).withMaxEpisodeSteps(5);
        EvaluateJob.run(spark, evalOptions, null);
        EvalResult again = EvaluateJob.run(spark, evalOptions.withOverwrite(true).withSeed(9), null);
        assertEquals(2, again.episodes().size());
        assertTrue(keys("eval/e1").contains(EvaluateJob.SUMMARY_JSON));
        assertEquals(2, spark.read().parquet(eval + "/" + EvaluateJob.EPISODES_PARQUET).count(), "one version's rows only");
    }

    @Test
    void withoutAppendTheCsvIsReplacedAtCheckpointsNotEveryRound() throws IOException {
        RunDirectory dir = RunDirectory.at(s3.uri("runs/metrics"), conf);
        FqlConfig config = FqlConfig.defaults();
        MetricsLog log = MetricsLog.open(dir, config, 0);
        assertEquals(1, csvLines(dir), "the header, written at open");
        for (int round = 1; round <= 40; round++) {
            Map<String, Double> row = new LinkedHashMap<>();
            for (String c : log.columns()) row.put(c, (double) round);
            log.append(row);
        }
        // every rewrite writes all rows: a file still holding the header alone was not rewritten since open
        assertEquals(1, csvLines(dir), "appending rounds must not rewrite the whole file each time");
        log.writeParquet(spark);   // a checkpoint
        assertEquals(41, csvLines(dir), "rewritten with every row at the checkpoint");
        assertEquals(40, spark.read().parquet(s3.uri("runs/metrics/metrics.parquet")).count());
    }

    private static long csvLines(RunDirectory dir) throws IOException {
        return RunDirectory.utf8(dir.readBytes(dir.file(RunDirectory.METRICS_CSV))).strip().lines().count();
    }

    @Test
    void leasesWorkOnTheObjectStore() throws IOException {
        org.apache.hadoop.fs.Path sweep = new org.apache.hadoop.fs.Path(s3.uri("sweeps/s1"));
        try (Lease first = Lease.acquire(fs(), sweep, "sweep output")) {
            var e = assertThrows(Lease.HeldException.class, () -> Lease.acquire(fs(), sweep, "sweep output"));
            assertTrue(e.getMessage().contains("in use"), e.getMessage());
            first.check();
        }
        try (Lease again = Lease.acquire(fs(), sweep, "sweep output")) {
            again.check();
        }
        ByteArrayOutputStream unused = new ByteArrayOutputStream();
        assertEquals("", unused.toString(StandardCharsets.UTF_8));
    }
}
