package org.fqlspark.agent;

/**
 * A training batch of B transitions as flat row-major arrays: observations and next observations {@code [B, D]},
 * actions {@code [B, d]}, rewards and masks {@code [B]} (mask 0 = do not bootstrap).
 */
public record Batch(int size, float[] observations, float[] actions, float[] rewards, float[] masks, float[] nextObservations) {
    public Batch {
        if (size <= 0) throw new IllegalArgumentException("batch size must be positive, was " + size);
        if (rewards.length != size) throw new IllegalArgumentException("rewards has " + rewards.length + " values, expected " + size);
        if (masks.length != size) throw new IllegalArgumentException("masks has " + masks.length + " values, expected " + size);
        if (observations.length % size != 0 || nextObservations.length != observations.length) {
            throw new IllegalArgumentException("observations/next_observations lengths " + observations.length + "/"
                    + nextObservations.length + " do not match batch size " + size);
        }
        if (actions.length % size != 0) throw new IllegalArgumentException("actions length " + actions.length + " is not a multiple of " + size);
    }

    /** A batch of {@code size} empty rows, to be filled by a sampler. */
    public static Batch allocate(int size, int obsDim, int actionDim) {
        return new Batch(size, new float[size * obsDim], new float[size * actionDim], new float[size], new float[size],
                new float[size * obsDim]);
    }
}
