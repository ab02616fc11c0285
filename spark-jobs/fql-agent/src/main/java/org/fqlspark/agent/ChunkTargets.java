package org.fqlspark.agent;

/**
 * What a chunk's raw rows become in a {@link Batch} (docs/algorithm.md §11), exactly as Q-chunking's
 * {@code Dataset.sample_sequence} derives them: for chunk steps {@code j = 0, ..., h−1} of sample i,
 * <pre>
 *   rewards[i, 0] = r[i, 0]        rewards[i, j] = rewards[i, j−1] + γ^j · r[i, j]
 *   masks[i, 0]   = m[i, 0]        masks[i, j]   = min(masks[i, j−1], m[i, j])
 *   term[i, 0]    = d[i, 0]        term[i, j]    = max(term[i, j−1], d[i, j])
 *   valid[i, 0]   = 1              valid[i, j]   = 1 − term[i, j−1]
 * </pre>
 * with r the rewards, m the masks (1 − terminal, or whatever the dataset stores as masks) and d the terminals of the
 * chunk's rows, all {@code [B, h]} row-major. A batch takes {@code rewards[:, h−1]} and {@code masks[:, h−1]}
 * ({@link #lastRewards()}, {@link #lastMasks()}) and all of {@code valid}. The sums are accumulated in double and
 * rounded to float once per entry; {@code γ^j} is {@code Math.pow(γ, j)}.
 *
 * @param batch   B
 * @param horizon h
 * @param rewards running discounted reward sums {@code [B, h]}
 * @param masks   running minima of the masks {@code [B, h]}
 * @param valid   {@code [B, h]}: 1 up to and including the chunk step of the first episode end, 0 after it
 */
public record ChunkTargets(int batch, int horizon, float[] rewards, float[] masks, float[] valid) {

    /** The targets of B chunks of h rows each: {@code stepRewards}, {@code stepMasks}, {@code stepTerminals} are {@code [B, h]}. */
    public static ChunkTargets of(float[] stepRewards, float[] stepMasks, float[] stepTerminals, int batch, int horizon,
                                  double discount) {
        if (batch <= 0 || horizon <= 0) {
            throw new IllegalArgumentException("batch and horizon must be positive, were " + batch + ", " + horizon);
        }
        int n = batch * horizon;
        for (float[] a : new float[][] {stepRewards, stepMasks, stepTerminals}) {
            if (a.length != n) {
                throw new IllegalArgumentException("step arrays must hold batch × horizon = " + n + " values, one has " + a.length);
            }
        }
        float[] rewards = new float[n];
        float[] masks = new float[n];
        float[] valid = new float[n];
        for (int i = 0; i < batch; i++) {
            row(stepRewards, stepMasks, stepTerminals, i * horizon, horizon, discount, rewards, masks, valid, i * horizon);
        }
        return new ChunkTargets(batch, horizon, rewards, masks, valid);
    }

    /**
     * Writes one chunk into a batch being filled in place: {@code batch.rewards()[sample]}, {@code batch.masks()[sample]}
     * and {@code batch.valid()[sample·h ..]}, from h raw rows starting at {@code from} in the three step arrays (e.g. the
     * dataset's own reward, mask and terminal columns, the chunk being rows {@code from .. from+h−1}).
     */
    public static void fill(Batch batch, int sample, float[] rewards, float[] masks, float[] terminals, int from, double discount) {
        int h = batch.horizon();
        float[] runningRewards = new float[h];
        float[] runningMasks = new float[h];
        float[] valid = new float[h];
        row(rewards, masks, terminals, from, h, discount, runningRewards, runningMasks, valid, 0);
        System.arraycopy(valid, 0, batch.valid(), sample * h, h);
        batch.rewards()[sample] = runningRewards[h - 1];
        batch.masks()[sample] = runningMasks[h - 1];
    }

    /** One chunk of h rows from {@code from} in the inputs, written at {@code to} in the outputs. */
    private static void row(float[] r, float[] m, float[] d, int from, int h, double discount,
                            float[] rewards, float[] masks, float[] valid, int to) {
        double reward = r[from];
        double mask = m[from];
        double terminal = d[from];
        rewards[to] = (float) reward;
        masks[to] = (float) mask;
        valid[to] = 1f;
        for (int j = 1; j < h; j++) {
            valid[to + j] = (float) (1.0 - terminal);     // terminal up to the previous step
            reward += r[from + j] * Math.pow(discount, j);
            mask = Math.min(mask, m[from + j]);
            terminal = Math.max(terminal, d[from + j]);
            rewards[to + j] = (float) reward;
            masks[to + j] = (float) mask;
        }
    }

    /** {@code rewards[:, h−1]}: a batch's {@code rewards [B]}. */
    public float[] lastRewards() {
        return lastColumn(rewards);
    }

    /** {@code masks[:, h−1]}: a batch's {@code masks [B]}. */
    public float[] lastMasks() {
        return lastColumn(masks);
    }

    private float[] lastColumn(float[] a) {
        float[] out = new float[batch];
        for (int i = 0; i < batch; i++) {
            out[i] = a[i * horizon + horizon - 1];
        }
        return out;
    }
}
