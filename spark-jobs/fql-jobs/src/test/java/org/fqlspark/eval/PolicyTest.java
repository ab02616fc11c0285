package org.fqlspark.eval;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.Arrays;
import java.util.SplittableRandom;

import org.fqlspark.agent.FqlAgent;
import org.fqlspark.agent.FqlConfig;
import org.fqlspark.env.Environment;
import org.fqlspark.env.EnvironmentRegistry;
import org.fqlspark.env.StepResult;
import org.junit.jupiter.api.Test;

/** --policy flow-bc acts with the BC flow policy on the episode's own noise stream; one-step stays the default. */
class PolicyTest {

    @Test
    void parsesTheTwoPoliciesAndNamesTheFlagOtherwise() {
        assertEquals(Policy.ONE_STEP, Policy.parse("one-step"));
        assertEquals(Policy.FLOW_BC, Policy.parse(" Flow-BC "));
        EvalInputException e = assertThrows(EvalInputException.class, () -> Policy.parse("greedy"));
        assertEquals(true, e.getMessage().contains("--policy"));
        assertEquals(Policy.ONE_STEP, EvalOptions.of("ckpt", "pointmaze-medium", 1, "out").policy());
        assertEquals(Policy.FLOW_BC, EvalOptions.of("ckpt", "pointmaze-medium", 1, "out").withPolicy(Policy.FLOW_BC).withSeed(3).policy());
    }

    @Test
    void flowPolicyEpisodeIsTheEulerFlowActingOnTheEpisodeNoise() {
        FqlAgent agent = new FqlAgent(FqlConfig.defaults().withHiddenDims(8, 8).with(FqlConfig.FLOW_STEPS, 3), 2, 2, 4);
        int steps = 25;
        EpisodeRollouts.Rollout flow = EpisodeRollouts.runEpisode(agent, EnvironmentRegistry.create("pointmaze-medium"), 9, 2, steps, true, Policy.FLOW_BC);
        EpisodeRollouts.Rollout oneStep = EpisodeRollouts.runEpisode(agent, EnvironmentRegistry.create("pointmaze-medium"), 9, 2, steps, true, Policy.ONE_STEP);

        // replay by hand: same reset seed, same noise stream, z drawn per step, Euler flow actions
        Environment env = EnvironmentRegistry.create("pointmaze-medium");
        float[] obs = env.reset(EpisodeSeeds.environmentSeed(9, 2));
        SplittableRandom noise = EpisodeSeeds.actionNoise(9, 2);
        float[] path = new float[(steps + 1) * 2];
        System.arraycopy(obs, 0, path, 0, 2);
        for (int t = 0; t < steps; t++) {
            float[] z = {(float) noise.nextGaussian(), (float) noise.nextGaussian()};
            StepResult r = env.step(agent.computeFlowActions(obs, z, 1));
            obs = r.observation();
            System.arraycopy(obs, 0, path, 2 * (t + 1), 2);
        }
        assertArrayEquals(path, Arrays.copyOf(flow.path(), path.length));
        assertEquals(steps, flow.result().length());
        assertFalse(Arrays.equals(flow.path(), oneStep.path()), "the two policies should act differently");
    }

    /**
     * With action chunks (h = 3) a policy call's 3 actions are played open loop, one per step, and the policy is called
     * again (with 3·A fresh draws of the episode's stream) only when they are used up; the step limit cuts the last
     * chunk. Replayed by hand for both policies.
     */
    @Test
    void chunkedPoliciesPlayEachChunkOpenLoop() {
        int h = 3;
        FqlAgent agent = new FqlAgent(FqlConfig.defaults().withHiddenDims(8, 8).with(FqlConfig.FLOW_STEPS, 3)
                .with(FqlConfig.HORIZON_LENGTH, h), 2, 2, 4);
        int steps = 25;   // 8 whole chunks and one action of the ninth
        for (Policy policy : Policy.values()) {
            EpisodeRollouts.Rollout rollout = EpisodeRollouts.runEpisode(agent, EnvironmentRegistry.create("pointmaze-medium"), 9, 2,
                    steps, true, policy);
            Environment env = EnvironmentRegistry.create("pointmaze-medium");
            float[] obs = env.reset(EpisodeSeeds.environmentSeed(9, 2));
            SplittableRandom noise = EpisodeSeeds.actionNoise(9, 2);
            float[] path = new float[(steps + 1) * 2];
            System.arraycopy(obs, 0, path, 0, 2);
            float[] chunk = null;
            for (int t = 0; t < steps; t++) {
                if (t % h == 0) {
                    float[] z = new float[h * 2];
                    for (int c = 0; c < z.length; c++) z[c] = (float) noise.nextGaussian();
                    chunk = policy == Policy.FLOW_BC ? agent.computeFlowActions(obs, z, 1) : agent.sampleActions(obs, z, 1);
                    assertEquals(h * 2, chunk.length);
                }
                StepResult r = env.step(Arrays.copyOfRange(chunk, (t % h) * 2, (t % h) * 2 + 2));
                obs = r.observation();
                System.arraycopy(obs, 0, path, 2 * (t + 1), 2);
            }
            assertArrayEquals(path, rollout.path(), policy.flag());
            assertEquals(steps, rollout.result().length());
        }
    }
}
