package org.fqlspark.data;

import java.net.URISyntaxException;
import java.nio.file.Path;
import java.nio.file.Paths;

/** The committed fixtures made by src/test/resources/fixtures/make_fixtures.py (h5py, numpy). */
public final class Fixtures {

    private Fixtures() {}

    public static Path committed(String name) {
        try {
            return Paths.get(Fixtures.class.getResource("/fixtures/" + name).toURI());
        } catch (URISyntaxException | NullPointerException e) {
            throw new IllegalStateException("fixture " + name + " is missing from the test resources", e);
        }
    }

    /** A raw OGBench-form npz: trajectories of 3 and 4 stored states, obs_dim 2, action_dim 2. */
    public static Path rawNpz(Path file) throws java.io.IOException {
        int n = 7;
        float[] obs = new float[n * 2];
        float[] act = new float[n * 2];
        for (int i = 0; i < n; i++) {
            obs[2 * i] = i;
            obs[2 * i + 1] = -i * 0.5f;
            act[2 * i] = i * 0.1f;
            act[2 * i + 1] = -i * 0.1f;
        }
        return new NpzWriter()
                .f32("observations", obs, n, 2)
                .f32("actions", act, n, 2)
                .f32("terminals", new float[] {0, 0, 1, 0, 0, 0, 1})
                .write(file);
    }

    public static void assertBitsEqual(float[] expected, float[] actual, String what) {
        org.junit.jupiter.api.Assertions.assertEquals(expected.length, actual.length, what + " length");
        for (int i = 0; i < expected.length; i++) {
            if (Float.floatToRawIntBits(expected[i]) != Float.floatToRawIntBits(actual[i])) {
                org.junit.jupiter.api.Assertions.fail(what + "[" + i + "]: expected " + expected[i] + " (bits "
                        + Integer.toHexString(Float.floatToRawIntBits(expected[i])) + ") but was " + actual[i]
                        + " (bits " + Integer.toHexString(Float.floatToRawIntBits(actual[i])) + ")");
            }
        }
    }

    public static void assertSameData(TransitionData expected, TransitionData actual) {
        org.junit.jupiter.api.Assertions.assertEquals(expected.obsDim(), actual.obsDim(), "obsDim");
        org.junit.jupiter.api.Assertions.assertEquals(expected.actionDim(), actual.actionDim(), "actionDim");
        assertBitsEqual(expected.observations(), actual.observations(), "observations");
        assertBitsEqual(expected.actions(), actual.actions(), "actions");
        assertBitsEqual(expected.rewards(), actual.rewards(), "rewards");
        assertBitsEqual(expected.masks(), actual.masks(), "masks");
        assertBitsEqual(expected.terminals(), actual.terminals(), "terminals");
        assertBitsEqual(expected.nextObservations(), actual.nextObservations(), "next_observations");
        org.junit.jupiter.api.Assertions.assertArrayEquals(expected.episodeIds(), actual.episodeIds(), "episode_id");
        org.junit.jupiter.api.Assertions.assertArrayEquals(expected.stepIndices(), actual.stepIndices(), "step_index");
    }
}
