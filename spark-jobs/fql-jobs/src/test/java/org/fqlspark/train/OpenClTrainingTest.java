package org.fqlspark.train;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;

import org.fqlspark.agent.Checkpoint;
import org.fqlspark.agent.FqlAgent;
import org.fqlspark.cli.FqlCli;
import org.fqlspark.tensor.opencl.OpenClDevices;
import org.fqlspark.tensor.opencl.OpenClTensorOps;
import org.fqlspark.testing.TestSpark;
import org.junit.jupiter.api.Assertions;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;

/**
 * A 2-worker {@code train} on local Spark with the OpenCL backend (PoCL's CPU device in CI), then {@code evaluate} and
 * {@code act} with it. Until the commands have {@code --backend}, the driver's {@code -Dfql.backend} chooses, and the
 * rounds' specs (and the evaluation and act jobs) carry it to the executors. The numbers are the CPU backend's within
 * float32 rounding, and not its bits: the kernels really ran.
 */
class OpenClTrainingTest {

    private record Outcome(int code, String err) {
    }

    private static Outcome fql(String... args) {
        TestSpark.session();
        CommandLine cl = FqlCli.commandLine();
        StringWriter err = new StringWriter();
        cl.setErr(new PrintWriter(err));
        return new Outcome(cl.execute(args), err.toString());
    }

    private static void requireOpenCl() {
        if (!OpenClDevices.list().isEmpty()) {
            return;
        }
        String why = "no OpenCL device (" + OpenClDevices.failure() + ")";
        if ("true".equalsIgnoreCase(System.getenv("CI"))) {
            Assertions.fail("CI=true and " + why + ": .ci/run installs PoCL");
        }
        Assumptions.assumeTrue(false, "skipped: " + why + "; install pocl-opencl-icd to run it");
    }

    @Test
    void twoWorkersTrainOnOpenClThenEvaluateAndAct() throws Exception {
        requireOpenCl();
        Path dir = TrainFixtures.tempDir("fql-opencl");
        Path run = dir.resolve("run");
        System.setProperty("fql.backend", "opencl");
        try {
            long before = OpenClTensorOps.instancesCreated();
            Outcome train = fql("train", "--data", TrainFixtures.dataset().toString(), "--run-dir", run.toString(), "--hidden-dims", "16,16",
                    "--batch-size", "32", "--flow-steps", "3", "--seed", "3", "--no-progress", "--workers", "2", "--steps", "6",
                    "--averaging-frequency", "3");
            assertEquals(0, train.code(), train.err());
            long afterTrain = OpenClTensorOps.instancesCreated();
            assertTrue(afterTrain >= before + 2, "each worker builds its agent on OpenCL: " + (afterTrain - before) + " made");

            Checkpoint cp = Checkpoint.fromBytes(Files.readAllBytes(run.resolve("checkpoints/step-000000000006.fqlckpt")), "cp");
            FqlAgent.AgentState cpu = TrainFixtures.averagedByHand(cp.config(), 3, 2, 3, 2);
            float[] ours = cp.state().parameters();
            double worst = 0;
            for (int i = 0; i < ours.length; i++) {
                worst = Math.max(worst, Math.abs(ours[i] - cpu.parameters()[i]));
            }
            assertTrue(worst < 1e-4, "OpenCL against the CPU backend after 2 rounds of 3 steps, W = 2: largest difference " + worst);
            assertFalse(Arrays.equals(ours, cpu.parameters()), "bit-identical to the CPU run: OpenCL did not run");
            assertEquals(6, cp.state().step());

            Path eval = dir.resolve("eval");
            Outcome evaluate = fql("evaluate", "--checkpoint", run.toString(), "--env", "pointmaze-medium", "--episodes", "1",
                    "--output", eval.toString());
            assertEquals(0, evaluate.code(), evaluate.err());
            assertTrue(Files.isRegularFile(eval.resolve("summary.json")));
            long afterEval = OpenClTensorOps.instancesCreated();
            assertTrue(afterEval > afterTrain, "evaluation acted on OpenCL");

            Path acted = dir.resolve("acted");
            Outcome act = fql("act", "--checkpoint", run.toString(), "--input", TrainFixtures.dataset().toString(), "--output",
                    acted.toString());
            assertEquals(0, act.code(), act.err());
            long rows = TestSpark.session().read().parquet(acted.toString()).where("size(action) = 2").count();
            assertEquals(TrainFixtures.data().size(), rows, "every row got a 2-D action");
            assertTrue(OpenClTensorOps.instancesCreated() > afterEval, "act ran on OpenCL");
        } finally {
            System.clearProperty("fql.backend");
        }
    }
}
