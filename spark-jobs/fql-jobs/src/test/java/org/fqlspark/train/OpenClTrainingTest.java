package org.fqlspark.train;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

import org.fqlspark.agent.Checkpoint;
import org.fqlspark.agent.FqlAgent;
import org.fqlspark.cli.FqlCli;
import org.fqlspark.run.RunDirectory;
import org.fqlspark.tensor.opencl.OpenClDevices;
import org.fqlspark.tensor.opencl.OpenClTensorOps;
import org.fqlspark.testing.OpenClRequired;
import org.fqlspark.testing.TestSpark;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;

/**
 * {@code --backend} of {@code train}, {@code evaluate} and {@code act}. A 2-worker {@code train --backend opencl} on
 * local Spark (PoCL's CPU device in CI), then {@code evaluate} and {@code act} with {@code --backend opencl}: the flags
 * reach the executors (the rounds' specs, the evaluation and act jobs), and provenance.json names the device the
 * workers ran on. The numbers are the CPU backend's within float32 rounding, and not its bits: the kernels really ran.
 * The run then resumes on the CPU (the backend is not a hyper-parameter). A bad {@code --backend}, and
 * {@code --backend opencl} where there is no OpenCL device, are refused in one line, exit 2, before anything is written.
 */
class OpenClTrainingTest {

    record Outcome(int code, String err) {
    }

    private static Outcome fql(String... args) {
        TestSpark.session();
        return execute(args);
    }

    /** Runs the command line in this JVM without starting Spark first (a command that fails early starts none). */
    static Outcome execute(String... args) {
        CommandLine cl = FqlCli.commandLine();
        StringWriter err = new StringWriter();
        cl.setErr(new PrintWriter(err));
        return new Outcome(cl.execute(args), err.toString());
    }

    /** train, evaluate and act, each with {@code backend}, writing under {@code dir} only what they should. */
    static List<String[]> commands(Path dir, String data, String backend) {
        String run = dir.resolve("run").toString();
        return List.of(
                new String[] {"train", "--data", data, "--run-dir", run, "--steps", "3", "--no-progress", "--backend", backend},
                new String[] {"evaluate", "--checkpoint", run, "--env", "pointmaze-medium", "--episodes", "1", "--output",
                        dir.resolve("eval").toString(), "--backend", backend},
                new String[] {"act", "--checkpoint", run, "--input", data, "--output", dir.resolve("acted").toString(),
                        "--backend", backend});
    }

    @Test
    @SuppressWarnings("unchecked")
    void twoWorkersTrainOnOpenClThenEvaluateAndAct() throws Exception {
        OpenClRequired.require();
        Path dir = TrainFixtures.tempDir("fql-opencl");
        Path run = dir.resolve("run");
        long before = OpenClTensorOps.instancesCreated();
        Outcome train = fql("train", "--data", TrainFixtures.dataset().toString(), "--run-dir", run.toString(), "--hidden-dims", "16,16",
                "--batch-size", "32", "--flow-steps", "3", "--seed", "3", "--no-progress", "--workers", "2", "--steps", "6",
                "--averaging-frequency", "3", "--backend", "opencl");
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
        String device = OpenClDevices.preferred().name();
        Map<String, Object> provenance = RunDirectory.JSON.readValue(run.resolve("provenance.json").toFile(), Map.class);
        assertEquals("opencl", provenance.get("backend"), provenance.toString());
        assertEquals(device, provenance.get("device"), "the device the workers reported: " + provenance);
        assertEquals(device, cp.provenance().get("device"), "the checkpoint's provenance too");

        Path eval = dir.resolve("eval");
        Outcome evaluate = fql("evaluate", "--checkpoint", run.toString(), "--env", "pointmaze-medium", "--episodes", "1",
                "--output", eval.toString(), "--backend", "opencl");
        assertEquals(0, evaluate.code(), evaluate.err());
        assertTrue(Files.isRegularFile(eval.resolve("summary.json")));
        long afterEval = OpenClTensorOps.instancesCreated();
        assertTrue(afterEval > afterTrain, "evaluation acted on OpenCL");

        Path acted = dir.resolve("acted");
        Outcome act = fql("act", "--checkpoint", run.toString(), "--input", TrainFixtures.dataset().toString(), "--output",
                acted.toString(), "--backend", "opencl");
        assertEquals(0, act.code(), act.err());
        long rows = TestSpark.session().read().parquet(acted.toString()).where("size(action) = 2").count();
        assertEquals(TrainFixtures.data().size(), rows, "every row got a 2-D action");
        long afterAct = OpenClTensorOps.instancesCreated();
        assertTrue(afterAct > afterEval, "act ran on OpenCL");

        // checkpoints do not depend on the backend: the OpenCL run goes on on the CPU
        Outcome resumed = fql("train", "--run-dir", run.toString(), "--resume", "--steps", "9", "--no-progress", "--backend", "cpu");
        assertEquals(0, resumed.code(), resumed.err());
        assertEquals(afterAct, OpenClTensorOps.instancesCreated(), "the resumed run built nothing on OpenCL");
        Map<String, Object> again = RunDirectory.JSON.readValue(run.resolve("provenance-resume-step-6.json").toFile(), Map.class);
        assertEquals("cpu", again.get("backend"), again.toString());
        assertEquals("cpu", again.get("device"), again.toString());
        assertTrue(Files.isRegularFile(run.resolve("checkpoints/step-000000000009.fqlckpt")));
    }

    @Test
    void aBadBackendIsRefusedBeforeAnythingIsWritten() throws Exception {
        Path dir = TrainFixtures.tempDir("fql-bad-backend");
        for (String[] command : commands(dir, TrainFixtures.dataset().toString(), "gpu")) {
            Outcome o = fql(command);
            assertEquals(2, o.code(), command[0] + ": " + o.err());
            assertEquals("error: --backend must be auto, cpu or opencl, was 'gpu'", o.err().strip(), command[0]);
        }
        try (Stream<Path> written = Files.list(dir)) {
            assertEquals(List.of(), written.toList(), "nothing written");
        }
    }

    /**
     * {@code --backend opencl} on a machine without an OpenCL device: a JVM whose OpenCL loader finds no driver
     * ({@code OCL_ICD_VENDORS} an empty directory) runs train, evaluate and act ({@link NoOpenClDeviceProbe}); each
     * ends with exit 2 and one line, and the run directory and outputs are never made.
     */
    @Test
    void openClWithoutADeviceIsRefusedBeforeAnythingIsWritten() throws Exception {
        Path dir = TrainFixtures.tempDir("fql-no-opencl");
        Path vendors = Files.createDirectories(dir.resolve("vendors"));
        Path out = dir.resolve("out");
        Files.createDirectories(out);
        ProcessBuilder pb = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "java").toString(), "-cp",
                LocalStandaloneCluster.currentClasspath(), NoOpenClDeviceProbe.class.getName(), out.toString(),
                TrainFixtures.dataset().toString()).redirectErrorStream(true);
        pb.environment().remove("OCL_ICD_FILENAMES");
        pb.environment().put("OCL_ICD_VENDORS", vendors.toString());
        Process p = pb.start();
        String printed = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(p.waitFor(2, TimeUnit.MINUTES) && p.exitValue() == 0, printed);
        String refusal = "exit=2 error: --backend opencl: no OpenCL device on this machine (no OpenCL driver registered: "
                + "no .icd file in " + vendors + ")";
        for (String command : List.of("train", "evaluate", "act")) {
            assertTrue(printed.lines().anyMatch(l -> l.equals(command + " " + refusal)), command + ":\n" + printed);
        }
        try (Stream<Path> written = Files.list(out)) {
            assertEquals(List.of(), written.toList(), "nothing written");
        }
    }
}
