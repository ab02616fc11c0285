package org.fqlspark.data;

/** Episode ids and step indices derived from episode-boundary flags. */
final class Episodes {

    final long[] ids;
    final int[] steps;

    private Episodes(long[] ids, int[] steps) {
        this.ids = ids;
        this.steps = steps;
    }

    /** Numbers episodes 0, 1, ... in row order; a new episode starts after every row whose flag is 1. */
    static Episodes fromBoundaries(float[] terminals) {
        int n = terminals.length;
        long[] ids = new long[n];
        int[] steps = new int[n];
        long episode = 0;
        int step = 0;
        for (int i = 0; i < n; i++) {
            ids[i] = episode;
            steps[i] = step;
            if (terminals[i] != 0f) {
                episode++;
                step = 0;
            } else {
                step++;
            }
        }
        return new Episodes(ids, steps);
    }

    /**
     * FQL's D4RL boundary rule (docs/algorithm.md §6.2): row i ends a segment when the next row does not start where
     * row i ended, ‖obs[i+1] − next_obs[i]‖ > 1e-6; the last row always ends one. The difference is taken in
     * float32 like numpy; the sum of squares in double.
     */
    static float[] continuityBoundaries(float[] obs, float[] nextObs, int n, int dim) {
        float[] terminals = new float[n];
        for (int i = 0; i + 1 < n; i++) {
            double sq = 0;
            int a = (i + 1) * dim;
            int b = i * dim;
            for (int j = 0; j < dim; j++) {
                float diff = obs[a + j] - nextObs[b + j];
                sq += (double) diff * diff;
            }
            // NaN compares false: a NaN row is reported (or dropped) by the cleaner, not silently split here.
            if (Math.sqrt(sq) > 1e-6) terminals[i] = 1f;
        }
        if (n > 0) terminals[n - 1] = 1f;
        return terminals;
    }

    private Episodes() {
        throw new AssertionError();
    }
}
