package org.fqlspark.train.peer;

import java.io.Serializable;
import java.security.SecureRandom;
import java.util.List;

import org.apache.spark.HashPartitioner;
import org.apache.spark.SparkConf;
import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.broadcast.Broadcast;
import org.apache.spark.rdd.RDD;

import scala.Tuple2;
import scala.collection.JavaConverters;
import scala.reflect.ClassTag;
import scala.reflect.ClassTag$;
import scala.runtime.AbstractFunction1;
import org.fqlspark.train.worker.RoundSpec;
import org.fqlspark.train.worker.TrainingState;
import org.fqlspark.train.worker.WorkerShard;

/**
 * Runs {@link BarrierRounds} as a barrier stage over the cached shards (Spark's barrier API is Scala-only), with a
 * {@link Rendezvous} of its own on the driver: bound to {@code spark.driver.bindAddress} (else {@code spark.driver.host}),
 * advertised to the tasks as {@code spark.driver.host}. The tasks get the run's secret, the rendezvous's address, a
 * fresh exchange id and the time limits in the stage's closure ({@link PeerLink}). A task that fails (an executor lost,
 * a peer gone silent, a refused frame) fails the whole barrier stage, and Spark runs it again from its start
 * ({@code spark.stage.maxConsecutiveAttempts} times), each attempt registering afresh under its attempt number.
 */
public final class PeerStage {

    private static final SecureRandom RANDOM = new SecureRandom();

    private PeerStage() {
    }

    public static List<BarrierRounds.Outcome> run(JavaRDD<WorkerShard> shards, RoundSpec template, int k, long endStep,
            Broadcast<TrainingState> start, PeerAuth auth, PeerSettings settings) {
        ClassTag<BarrierRounds.Outcome> tag = ClassTag$.MODULE$.apply(BarrierRounds.Outcome.class);
        SparkConf conf = shards.context().getConf();
        String advertise = conf.get("spark.driver.host", java.net.InetAddress.getLoopbackAddress().getHostAddress());
        String bind = conf.get("spark.driver.bindAddress", advertise);
        try (Rendezvous rendezvous = Rendezvous.open(bind, advertise, shards.getNumPartitions(), auth, RANDOM.nextLong(), settings)) {
            PeerProbe.rendezvousOpen(rendezvous.address(), rendezvous.link());
            RDD<BarrierRounds.Outcome> out = shards.rdd().barrier()
                    .mapPartitions(new Rounds(template, k, endStep, start, rendezvous.link()), false, tag);
            // Spark runs a failed barrier stage again only when it is a shuffle map stage: a failed barrier result stage
            // aborts the job ("Could not recover from a failed barrier ResultStage": it may have committed output). So
            // the barrier stage writes its one outcome (worker 0's) to a shuffle, and a plain one-task stage collects it.
            return new JavaRDD<>(out, tag).mapToPair(o -> new Tuple2<>(o.worker(), o)).partitionBy(new HashPartitioner(1))
                    .values().collect();
        }
    }

    private static final class Rounds extends AbstractFunction1<scala.collection.Iterator<WorkerShard>,
            scala.collection.Iterator<BarrierRounds.Outcome>> implements Serializable {
        private static final long serialVersionUID = 1L;
        private final RoundSpec template;
        private final int k;
        private final long endStep;
        private final Broadcast<TrainingState> start;
        /** The rendezvous's address, the run's secret, the exchange id, W and the limits: travels in this closure. */
        private final PeerLink link;

        Rounds(RoundSpec template, int k, long endStep, Broadcast<TrainingState> start, PeerLink link) {
            this.template = template;
            this.k = k;
            this.endStep = endStep;
            this.start = start;
            this.link = link;
        }

        @Override
        public scala.collection.Iterator<BarrierRounds.Outcome> apply(scala.collection.Iterator<WorkerShard> it) {
            return JavaConverters.asScalaIteratorConverter(
                    BarrierRounds.run(JavaConverters.asJavaIteratorConverter(it).asJava(), template, k, endStep, start, link)).asScala();
        }
    }
}
