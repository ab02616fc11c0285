package org.fqlspark.policy;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.SplittableRandom;

import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import org.fqlspark.agent.Checkpoint;
import org.fqlspark.agent.FqlAgent;
import org.fqlspark.agent.FqlConfig;
import org.fqlspark.eval.Policy;
import org.fqlspark.testing.TestSpark;

/**
 * {@code FqlPolicyModel.transform} throughput in rows per second per core, beside the agent's own batch-1000 acting
 * (what {@code fql bench} times) measured in the same JVM. Off by default; run with
 * {@code mvn -o -pl spark-jobs/fql-jobs -am test -Dtest=PolicyTransformBenchmark -Dsurefire.failIfNoSpecifiedTests=false -Dfql.bench=true}.
 * One partition, so one task on one core; OMP_NUM_THREADS=1 (surefire's environment).
 */
class PolicyTransformBenchmark {

    @TempDir
    Path dir;

    @Test
    void transformThroughput() throws Exception {
        Assumptions.assumeTrue(Boolean.getBoolean("fql.bench"), "benchmark: pass -Dfql.bench=true");
        SparkSession spark = TestSpark.session();
        System.out.println("| size | policy | ops | agent alone, batch 1000 | transform, 1 core | transform / agent |");
        System.out.println("|---|---|---|---|---|---|");
        bench(spark, "quick start (obs 2, act 2, 3x64)", FqlConfig.defaults().withHiddenDims(64, 64, 64), 2, 2, 100_000);
        bench(spark, "paper (obs 29, act 8, 4x512)", FqlConfig.defaults(), 29, 8, 10_000);
    }

    private void bench(SparkSession spark, String label, FqlConfig config, int obsDim, int actionDim, int rows) throws Exception {
        Checkpoint c = PolicyFixtures.checkpoint(config, obsDim, actionDim, 1);
        Path file = PolicyFixtures.save(c, dir, label.hashCode() + ".fqlckpt");
        StructType schema = new StructType()
                .add("observations", DataTypes.createArrayType(DataTypes.FloatType, false), false)
                .add("seed", DataTypes.LongType, false);
        SplittableRandom rng = new SplittableRandom(3);
        List<Row> data = new ArrayList<>(rows);
        for (int i = 0; i < rows; i++) data.add(RowFactory.create(PolicyFixtures.gaussian(obsDim, 1, rng), (long) i));
        Dataset<Row> df = spark.createDataFrame(data, schema).repartition(1).cache();
        df.count();
        for (Policy policy : Policy.values()) {
            int scale = policy == Policy.FLOW_BC ? config.flowSteps() : 1;
            for (boolean exact : new boolean[] {false, true}) {
                double agentRate = agentRowsPerSecond(c, policy, exact);
                FqlPolicyModel model = FqlPolicyModel.fromCheckpoint(spark, file.toString()).setSeedCol("seed").setPolicy(policy.flag())
                        .setExact(exact);
                Dataset<Row> part = exact && obsDim > 2 ? df.limit(Math.max(1000, rows / 20 / scale)) : df.limit(Math.max(1000, rows / scale));
                part = part.cache();
                long n = part.count();
                model.transform(part).write().format("noop").mode("overwrite").save();   // warm-up
                long t0 = System.nanoTime();
                model.transform(part).write().format("noop").mode("overwrite").save();
                double seconds = (System.nanoTime() - t0) / 1e9;
                double rate = n / seconds;
                System.out.printf(Locale.ROOT, "| %s | %s | %s | %,.0f rows/s | %,.0f rows/s (%d rows) | %.2f |%n", label, policy.flag(),
                        exact ? "exact (Java)" : "default (ND4J)", agentRate, rate, n, rate / agentRate);
                part.unpersist();
            }
        }
        df.unpersist();
    }

    /** The agent alone acting on batches of 1000 (the bench's batch-1000 case), median of repeated timings. */
    private static double agentRowsPerSecond(Checkpoint c, Policy policy, boolean exact) {
        FqlAgent agent = exact ? c.restore(new org.fqlspark.tensor.JavaTensorOps()) : c.restore();
        int n = 1000;
        SplittableRandom rng = new SplittableRandom(4);
        float[] obs = PolicyFixtures.gaussian(n * c.obsDim(), 1, rng);
        float[] z = PolicyFixtures.gaussian(n * c.actionDim(), 1, rng);
        PolicyWeights.act(agent, policy, obs, z, n);
        List<Double> times = new ArrayList<>();
        long start = System.nanoTime();
        while (times.size() < 3 || (System.nanoTime() - start < 3e9 && times.size() < 200)) {
            long t0 = System.nanoTime();
            PolicyWeights.act(agent, policy, obs, z, n);
            times.add((System.nanoTime() - t0) / 1e9);
        }
        times.sort(Double::compare);
        return n / times.get(times.size() / 2);
    }
}
