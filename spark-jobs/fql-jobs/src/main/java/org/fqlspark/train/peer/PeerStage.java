package org.fqlspark.train.peer;

import java.io.Serializable;
import java.util.List;

import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.broadcast.Broadcast;
import org.apache.spark.rdd.RDD;

import scala.collection.JavaConverters;
import scala.reflect.ClassTag;
import scala.reflect.ClassTag$;
import scala.runtime.AbstractFunction1;
import org.fqlspark.train.worker.RoundSpec;
import org.fqlspark.train.worker.TrainingState;
import org.fqlspark.train.worker.WorkerShard;

/** Runs {@link BarrierRounds} as a barrier stage over the cached shards (Spark's barrier API is Scala-only). */
public final class PeerStage {

    private PeerStage() {
    }

    public static List<BarrierRounds.Outcome> run(JavaRDD<WorkerShard> shards, RoundSpec template, int k, long endStep,
            Broadcast<TrainingState> start) {
        ClassTag<BarrierRounds.Outcome> tag = ClassTag$.MODULE$.apply(BarrierRounds.Outcome.class);
        String host = shards.context().getConf().get("spark.driver.host", "127.0.0.1");
        try (Rendezvous rendezvous = Rendezvous.open(host, shards.getNumPartitions())) {
            RDD<BarrierRounds.Outcome> out = shards.rdd().barrier()
                    .mapPartitions(new Rounds(template, k, endStep, start, rendezvous.address()), false, tag);
            return new JavaRDD<>(out, tag).collect();
        }
    }

    private static final class Rounds extends AbstractFunction1<scala.collection.Iterator<WorkerShard>,
            scala.collection.Iterator<BarrierRounds.Outcome>> implements Serializable {
        private static final long serialVersionUID = 1L;
        private final RoundSpec template;
        private final int k;
        private final long endStep;
        private final Broadcast<TrainingState> start;
        private final String rendezvous;

        public Rounds(RoundSpec template, int k, long endStep, Broadcast<TrainingState> start, String rendezvous) {
            this.rendezvous = rendezvous;
            this.template = template;
            this.k = k;
            this.endStep = endStep;
            this.start = start;
        }

        @Override
        public scala.collection.Iterator<BarrierRounds.Outcome> apply(scala.collection.Iterator<WorkerShard> it) {
            return JavaConverters.asScalaIteratorConverter(
                    BarrierRounds.run(JavaConverters.asJavaIteratorConverter(it).asJava(), template, k, endStep, start, rendezvous)).asScala();
        }
    }
}
