package org.fqlspark.train.worker;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.Map;

import org.fqlspark.agent.LossReport;
import org.junit.jupiter.api.Test;

class ParameterAveragerTest {

    private static WorkerOutcome outcome(int worker, float base, double computeSeconds) {
        float[] p = {base, -base, 0f, 1e-8f};
        TrainingState s = new TrainingState(p, new float[] {2 * base}, new float[] {base, 3}, new float[] {base * base, 4}, 10);
        RoundMetrics m = new RoundMetrics();
        m.add(new LossReport(base, 1, 2, 3, 4, 5, 6, 7, 8, Map.of()));
        return new WorkerOutcome(worker, s, m, computeSeconds, null);
    }

    @Test
    void averagesParametersTargetAndBothAdamMoments() {
        TrainingState avg = new ParameterAverager().add(outcome(0, 1f, 0.5)).add(outcome(1, 3f, 0.7)).add(outcome(2, 5f, 0.6)).average();
        assertArrayEquals(new float[] {3f, -3f, 0f, 1e-8f}, avg.parameters());
        assertArrayEquals(new float[] {6f}, avg.targetParameters());
        assertArrayEquals(new float[] {3f, 3f}, avg.adamM());
        assertArrayEquals(new float[] {35f / 3f, 4f}, avg.adamV());
        assertEquals(10, avg.step());
    }

    @Test
    void oneWorkerIsItsOwnStateBitForBitSignedZerosIncluded() {
        float[] p = {-0f, Float.MIN_VALUE, 0.1f};
        TrainingState s = new TrainingState(p, new float[] {-0f}, new float[] {1}, new float[] {2}, 3);
        TrainingState avg = new ParameterAverager().merge(new ParameterAverager()).add(new WorkerOutcome(0, s, new RoundMetrics(), 0, null))
                .average();
        assertArrayEquals(p, avg.parameters());   // assertArrayEquals on floats compares bits: -0 != +0
        assertEquals(Float.floatToRawIntBits(-0f), Float.floatToRawIntBits(avg.targetParameters()[0]));
    }

    @Test
    void twoWorkersGiveTheSameBitsInEitherOrderAndTreeShape() {
        ParameterAverager ab = new ParameterAverager().add(outcome(0, 0.1f, 1)).merge(new ParameterAverager().add(outcome(1, 0.7f, 2)));
        ParameterAverager ba = new ParameterAverager().add(outcome(1, 0.7f, 2)).merge(new ParameterAverager().add(outcome(0, 0.1f, 1)));
        assertArrayEquals(ab.average().parameters(), ba.average().parameters());
        assertArrayEquals(ab.average().adamV(), ba.average().adamV());
        assertEquals(2, ab.count());
        assertEquals(2.0, ab.maxComputeSeconds());
        assertEquals(0.4, ab.metrics().mean().criticLoss(), 1e-7);
        assertEquals(2, ab.metrics().steps());
    }

    /** Values whose double sum depends on the order: the average is the worker-order sum whatever the tree. */
    @Test
    void anyNumberOfWorkersIsSummedInWorkerOrderWhateverTheMergeOrder() {
        float[] values = {1e30f, 1f, -1e30f, 3f, 7e-3f};
        float expected = (float) (((((double) values[0] + values[1]) + values[2]) + values[3] + values[4]) / 5);
        int[][] orders = {{0, 1, 2, 3, 4}, {4, 3, 2, 1, 0}, {2, 0, 4, 1, 3}};
        for (int[] order : orders) {
            ParameterAverager left = new ParameterAverager();
            ParameterAverager right = new ParameterAverager();
            for (int i = 0; i < order.length; i++) {
                int w = order[i];
                float v = values[w];
                TrainingState s = new TrainingState(new float[] {v}, new float[] {v}, new float[] {v}, new float[] {v}, 5);
                (i % 2 == 0 ? left : right).add(new WorkerOutcome(w, s, new RoundMetrics(), 0, null));
            }
            TrainingState avg = (order[0] == 2 ? right.merge(left) : left.merge(right)).average();
            assertEquals(Float.floatToRawIntBits(expected), Float.floatToRawIntBits(avg.parameters()[0]),
                    "order " + java.util.Arrays.toString(order) + " gave " + avg.parameters()[0] + ", expected " + expected);
            assertEquals(Float.floatToRawIntBits(expected), Float.floatToRawIntBits(avg.adamV()[0]));
        }
    }

    @Test
    void refusesAWorkerTwiceAndMismatchedSteps() {
        ParameterAverager a = new ParameterAverager().add(outcome(0, 1f, 0));
        assertThrows(IllegalStateException.class, () -> a.add(outcome(0, 2f, 0)));
        TrainingState other = new TrainingState(new float[4], new float[1], new float[2], new float[2], 11);
        assertThrows(IllegalStateException.class, () -> a.add(new WorkerOutcome(1, other, new RoundMetrics(), 0, null)));
        assertThrows(IllegalStateException.class, () -> new ParameterAverager().average());
    }

    @Test
    void keepsTheEarliestDivergence() {
        TrainingState s = outcome(0, 1f, 0).state();
        ParameterAverager a = new ParameterAverager()
                .add(new WorkerOutcome(0, s, new RoundMetrics(), 0, new WorkerOutcome.Divergence(0, 9, "x")))
                .add(new WorkerOutcome(1, s, new RoundMetrics(), 0, new WorkerOutcome.Divergence(1, 7, "y")))
                .add(new WorkerOutcome(2, s, new RoundMetrics(), 0, null));
        assertEquals(7, a.divergence().step());
        assertEquals(1, a.divergence().worker());
        assertNull(new ParameterAverager().add(outcome(0, 1f, 0)).divergence());
    }
}
