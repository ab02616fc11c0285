package org.fqlspark.agent;

import java.util.Arrays;

/**
 * A training batch of B samples as flat row-major arrays. A sample is one transition without action chunking
 * ({@link FqlConfig#horizonLength()} h = 1) and a chunk of h consecutive dataset rows {@code t, ..., t+h−1} of one
 * trajectory otherwise (docs/algorithm.md §11, Q-chunking's {@code Dataset.sample_sequence}), with A the per-step
 * action size and D the observation size:
 * <ul>
 *   <li>{@code observations [B, D]}: {@code s_t}, the chunk's first state;</li>
 *   <li>{@code actions [B, h·A]}: {@code a_t, ..., a_{t+h−1}} flattened step-major: sample i, chunk step j, action
 *       component c at {@code i·h·A + j·A + c} (the networks' action input, {@link FqlAgent#chunkActionDim()});</li>
 *   <li>{@code rewards [B]}: the running discounted reward sum at the chunk's last step,
 *       {@code Σ_{j<h} γ^j r_{t+j}} (rows after an episode end inside the chunk included, as qc does: such a sample's
 *       critic term is weighted out through {@code valid});</li>
 *   <li>{@code masks [B]}: the running minimum of the masks at the last step, {@code min_{j<h} m_{t+j}} (mask 0 = do
 *       not bootstrap);</li>
 *   <li>{@code nextObservations [B, D]}: the next observation of the chunk's last row, {@code s'_{t+h−1}};</li>
 *   <li>{@code valid [B·h]}, row-major {@code [B, h]}: {@code valid[i·h] = 1} and
 *       {@code valid[i·h + j] = 1 − max_{j'<j} terminal_{t+j'}}, i.e. 1 up to and including the step where the first
 *       episode end inside the chunk happens, 0 after it.</li>
 * </ul>
 * {@link ChunkTargets} computes {@code rewards}, {@code masks} and {@code valid} from a chunk's raw rows. With h = 1
 * this is the FQL batch (the reward, mask and next observation of one transition) and {@code valid} is all ones; the
 * constructor without {@code valid} and {@link #allocate(int, int, int)} build exactly that. The horizon is not stored:
 * it is {@code valid.length / size}.
 */
public record Batch(int size, float[] observations, float[] actions, float[] rewards, float[] masks, float[] nextObservations,
                    float[] valid) {
    public Batch {
        if (size <= 0) throw new IllegalArgumentException("batch size must be positive, was " + size);
        if (rewards.length != size) throw new IllegalArgumentException("rewards has " + rewards.length + " values, expected " + size);
        if (masks.length != size) throw new IllegalArgumentException("masks has " + masks.length + " values, expected " + size);
        if (observations.length % size != 0 || nextObservations.length != observations.length) {
            throw new IllegalArgumentException("observations/next_observations lengths " + observations.length + "/"
                    + nextObservations.length + " do not match batch size " + size);
        }
        if (valid.length == 0 || valid.length % size != 0) {
            throw new IllegalArgumentException("valid has " + valid.length + " values, expected batch size " + size + " × horizon");
        }
        if (actions.length % valid.length != 0) {
            throw new IllegalArgumentException("actions length " + actions.length + " is not a multiple of batch size × horizon "
                    + valid.length);
        }
    }

    /** A batch without action chunking (h = 1): {@code valid} is all ones. */
    public Batch(int size, float[] observations, float[] actions, float[] rewards, float[] masks, float[] nextObservations) {
        this(size, observations, actions, rewards, masks, nextObservations, ones(size));
    }

    /** A batch of {@code size} empty rows without action chunking, to be filled by a sampler. */
    public static Batch allocate(int size, int obsDim, int actionDim) {
        return allocate(size, obsDim, actionDim, 1);
    }

    /**
     * A batch of {@code size} empty chunks of {@code horizon} steps of {@code actionDim} (per-step) actions, to be filled
     * by a sampler: actions {@code [size, horizon·actionDim]}, {@code valid} all ones until the sampler writes it.
     */
    public static Batch allocate(int size, int obsDim, int actionDim, int horizon) {
        if (horizon < 1) throw new IllegalArgumentException("horizon must be positive, was " + horizon);
        return new Batch(size, new float[size * obsDim], new float[size * horizon * actionDim], new float[size], new float[size],
                new float[size * obsDim], ones(size * horizon));
    }

    /** The chunk length h: {@code valid.length / size} (1 for an FQL batch). */
    public int horizon() {
        return valid.length / size;
    }

    private static float[] ones(int n) {
        float[] a = new float[n];
        Arrays.fill(a, 1f);
        return a;
    }
}
