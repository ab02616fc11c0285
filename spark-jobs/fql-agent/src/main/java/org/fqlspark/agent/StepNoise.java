package org.fqlspark.agent;

import java.util.random.RandomGenerator;

/**
 * The random draws of one training step (docs/algorithm.md §8), injectable so a step can be replayed exactly:
 * {@code nextNoise} for the TD target's next actions, {@code x0} and {@code t} for flow matching, and {@code z},
 * shared by the Euler teacher and the one-step student. The action-shaped draws are as wide as the networks' action,
 * {@link FqlAgent#chunkActionDim()} (h·A with action chunks of h steps, A without).
 */
public record StepNoise(float[] nextNoise, float[] x0, float[] t, float[] z) {

    /**
     * Draws in the order next_noise, x0, t, z (each row-major), N(0, 1) except t ~ U[0, 1); {@code actionDim} is the
     * networks' action width ({@link FqlAgent#chunkActionDim()}).
     */
    public static StepNoise sample(int batch, int actionDim, RandomGenerator rng) {
        float[] next = gaussian(batch * actionDim, rng);
        float[] x0 = gaussian(batch * actionDim, rng);
        float[] t = new float[batch];
        for (int i = 0; i < batch; i++) {
            t[i] = rng.nextFloat();
        }
        float[] z = gaussian(batch * actionDim, rng);
        return new StepNoise(next, x0, t, z);
    }

    /** {@code n} draws of N(0, 1) as floats, in order: the noise of training steps, evaluation and online acting alike. */
    public static float[] gaussian(int n, RandomGenerator rng) {
        float[] a = new float[n];
        for (int i = 0; i < n; i++) {
            a[i] = (float) rng.nextGaussian();
        }
        return a;
    }
}
