package org.fqlspark.data;

/** Per-dimension statistics for the manifest, accumulated in double precision. */
public final class DatasetStatistics {

    private DatasetStatistics() {}

    /**
     * Min, max, mean and population standard deviation (divided by n, numpy's default) of each of the
     * {@code dim} interleaved columns of a row-major buffer. Two passes, so the variance does not suffer the
     * cancellation of the one-pass formula.
     */
    public static DatasetManifest.ColumnStats of(float[] values, int dim) {
        if (dim <= 0 || values.length % dim != 0 || values.length == 0) {
            throw new IllegalArgumentException("need a non-empty buffer of whole rows of " + dim + " values, got "
                    + values.length);
        }
        int n = values.length / dim;
        double[] min = new double[dim];
        double[] max = new double[dim];
        double[] mean = new double[dim];
        double[] std = new double[dim];
        java.util.Arrays.fill(min, Double.POSITIVE_INFINITY);
        java.util.Arrays.fill(max, Double.NEGATIVE_INFINITY);
        for (int i = 0, p = 0; i < n; i++) {
            for (int j = 0; j < dim; j++, p++) {
                double v = values[p];
                if (v < min[j]) min[j] = v;
                if (v > max[j]) max[j] = v;
                mean[j] += v;
            }
        }
        for (int j = 0; j < dim; j++) mean[j] /= n;
        for (int i = 0, p = 0; i < n; i++) {
            for (int j = 0; j < dim; j++, p++) {
                double d = values[p] - mean[j];
                std[j] += d * d;
            }
        }
        for (int j = 0; j < dim; j++) std[j] = Math.sqrt(std[j] / n);
        return new DatasetManifest.ColumnStats(min, max, mean, std);
    }

    public static DatasetManifest.Statistics of(TransitionData d) {
        return new DatasetManifest.Statistics(
                of(d.observations(), d.obsDim()), of(d.actions(), d.actionDim()), of(d.rewards(), 1));
    }

    /** Number of distinct episode ids; rows are ordered by episode, so counting changes suffices. */
    public static long episodes(TransitionData d) {
        long[] ids = d.episodeIds();
        long count = 0;
        for (int i = 0; i < ids.length; i++) if (i == 0 || ids[i] != ids[i - 1]) count++;
        return count;
    }
}
