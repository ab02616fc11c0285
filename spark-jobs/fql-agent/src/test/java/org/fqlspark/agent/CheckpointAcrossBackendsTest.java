package org.fqlspark.agent;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.util.Arrays;
import java.util.Map;

import org.fqlspark.tensor.FusedCpuTensorOps;
import org.fqlspark.tensor.TensorOps;
import org.fqlspark.tensor.TestBackends;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * A checkpoint written by an agent trained on one backend resumes on the other: the restored state is the saved one
 * bit for bit (the file holds float32 values, the copy changes none), training continues from it, and a few steps
 * later the resumed run is where the original would have been, within float32 rounding.
 */
class CheckpointAcrossBackendsTest {

    private static TensorOps ops(String name) {
        return name.equals("cpu") ? new FusedCpuTensorOps(true, 1) : TestBackends.openCl();
    }

    @ParameterizedTest(name = "trained on {0}, resumed on {1}")
    @CsvSource({"opencl, cpu", "cpu, opencl"})
    void resumesOnTheOtherBackend(String from, String to, @TempDir Path dir) throws Exception {
        FqlConfig config = FqlAgentTest.tiny().with(FqlConfig.Q_AGG, QAgg.MIN);
        FqlAgent trained = new FqlAgent(config, FqlAgentTest.OBS, FqlAgentTest.ACT, 5, ops(from));
        for (int s = 0; s < 3; s++) {
            assertTrue(trained.update(FqlAgentTest.batch(s)).isFinite());
        }
        Path file = dir.resolve("step-3.fqlckpt");
        Checkpoint.of(trained, Map.of("backend", from)).save(file);

        FqlAgent resumed = Checkpoint.load(file).restore(ops(to));
        FqlAgent.AgentState saved = trained.state();
        FqlAgent.AgentState loaded = resumed.state();
        assertArrayEquals(saved.parameters(), loaded.parameters());
        assertArrayEquals(saved.targetParameters(), loaded.targetParameters());
        assertArrayEquals(saved.adamM(), loaded.adamM());
        assertArrayEquals(saved.adamV(), loaded.adamV());
        assertEquals(3, resumed.step());

        for (int s = 3; s < 6; s++) {
            LossReport original = trained.update(FqlAgentTest.batch(s));
            LossReport continued = resumed.update(FqlAgentTest.batch(s));
            assertTrue(continued.isFinite(), "step " + s + " on " + to);
            assertEquals(original.criticLoss(), continued.criticLoss(), 1e-4 * Math.max(1, Math.abs(original.criticLoss())), "step " + s);
        }
        assertEquals(6, resumed.step());
        assertTrue(!Arrays.equals(saved.parameters(), resumed.parameters()), "training on " + to + " moved the parameters");
        float[] a = trained.parameters();
        float[] b = resumed.parameters();
        double worst = 0;
        for (int i = 0; i < a.length; i++) {
            worst = Math.max(worst, Math.abs(a[i] - b[i]));
        }
        // three Adam steps of lr 3e-4 each from the same state: the two backends differ by float32 rounding only
        assertTrue(worst < 1e-5, "largest parameter difference after three more steps: " + worst);
    }
}
