package org.fqlspark.data;

/**
 * The checks and fixes every dataset goes through before it is written, whatever produced it: finite
 * values (error, or drop with --drop-invalid), flags in range, rows ordered by (episode_id, step_index),
 * at least one transition, and actions clipped to ±{@link DatasetSchema#ACTION_CLIP}.
 *
 * <p>The input arrays are never modified; a fixed copy is returned when something changes.
 */
public final class TransitionCleaner {

    /**
     * @param data the cleaned data (the input object itself when nothing changed)
     * @param droppedInvalid transitions dropped for non-finite values
     * @param clippedActionValues action values that were outside ±(1 − 1e-5) and were clipped
     */
    public record Result(TransitionData data, long droppedInvalid, long clippedActionValues) {}

    private TransitionCleaner() {}

    /**
     * @param file the source named in errors
     * @param locator maps a transition back to its source key and row for error messages
     * @throws DatasetException for non-finite values (unless {@code dropInvalid}), out-of-range flags,
     *     out-of-order rows or an empty result
     */
    public static Result clean(TransitionData in, String file, SourceLocator locator, boolean dropInvalid) {
        int n = in.size();
        if (n == 0) {
            throw new DatasetException(file, null, "holds no transitions (empty dataset); expected at least one");
        }
        checkFlagsAndOrder(in, file, locator);
        boolean[] drop = dropInvalid ? new boolean[n] : null;
        int dropped = 0;
        for (int i = 0; i < n; i++) {
            String bad = firstNonFinite(in, i);
            if (bad == null) continue;
            if (!dropInvalid) {
                SourceLocator.Location at = locator.locate(bad, i);
                throw new DatasetException(file, at.key(), "row " + at.row() + " holds " + nonFiniteValue(in, bad, i)
                        + " (feeding column '" + bad + "' of transition " + i + "); expected finite values. "
                        + "Pass --drop-invalid to drop such transitions");
            }
            drop[i] = true;
            dropped++;
        }
        if (dropped == n) {
            throw new DatasetException(file, null, "all " + n + " transitions hold NaN or Inf and were dropped "
                    + "(empty dataset); expected at least one valid transition");
        }
        TransitionData kept = dropped == 0 ? in : without(in, drop, n - dropped);
        long clipped = countOutsideClip(kept.actions());
        if (clipped > 0) kept = withClippedActions(kept);
        return new Result(kept, dropped, clipped);
    }

    private static void checkFlagsAndOrder(TransitionData d, String file, SourceLocator locator) {
        float[] t = d.terminals();
        float[] m = d.masks();
        long[] ep = d.episodeIds();
        int[] st = d.stepIndices();
        for (int i = 0; i < d.size(); i++) {
            if (t[i] != 0f && t[i] != 1f) {
                SourceLocator.Location at = locator.locate(DatasetSchema.TERMINALS, i);
                throw new DatasetException(file, at.key(), "row " + at.row() + " is " + t[i]
                        + "; expected an episode-boundary flag 0 or 1");
            }
            if (Float.isFinite(m[i]) && (m[i] < 0f || m[i] > 1f)) {
                SourceLocator.Location at = locator.locate(DatasetSchema.MASKS, i);
                throw new DatasetException(file, at.key(), "row " + at.row() + " is " + m[i]
                        + "; expected a mask in [0, 1]");
            }
            if (ep[i] < 0 || st[i] < 0) {
                throw new DatasetException(file, DatasetSchema.EPISODE_ID, "transition " + i + " has episode "
                        + ep[i] + " step " + st[i] + "; expected non-negative ids and steps");
            }
            if (i > 0 && (ep[i] < ep[i - 1] || (ep[i] == ep[i - 1] && st[i] <= st[i - 1]))) {
                throw new DatasetException(file, DatasetSchema.EPISODE_ID, "transition " + i + " (episode "
                        + ep[i] + ", step " + st[i] + ") follows (episode " + ep[i - 1] + ", step " + st[i - 1]
                        + "); expected rows ordered by (episode_id, step_index) without repeats");
            }
        }
    }

    private static String firstNonFinite(TransitionData d, int i) {
        if (!finite(d.observations(), i, d.obsDim())) return DatasetSchema.OBSERVATIONS;
        if (!finite(d.actions(), i, d.actionDim())) return DatasetSchema.ACTIONS;
        if (!Float.isFinite(d.rewards()[i])) return DatasetSchema.REWARDS;
        if (!Float.isFinite(d.masks()[i])) return DatasetSchema.MASKS;
        if (!finite(d.nextObservations(), i, d.obsDim())) return DatasetSchema.NEXT_OBSERVATIONS;
        return null;
    }

    private static boolean finite(float[] a, int row, int dim) {
        for (int j = row * dim, end = j + dim; j < end; j++) {
            if (!Float.isFinite(a[j])) return false;
        }
        return true;
    }

    private static String nonFiniteValue(TransitionData d, String column, int i) {
        float[] a;
        int dim;
        switch (column) {
            case DatasetSchema.OBSERVATIONS -> { a = d.observations(); dim = d.obsDim(); }
            case DatasetSchema.ACTIONS -> { a = d.actions(); dim = d.actionDim(); }
            case DatasetSchema.NEXT_OBSERVATIONS -> { a = d.nextObservations(); dim = d.obsDim(); }
            case DatasetSchema.MASKS -> { return String.valueOf(d.masks()[i]); }
            default -> { return String.valueOf(d.rewards()[i]); }
        }
        for (int j = 0; j < dim; j++) {
            float v = a[i * dim + j];
            if (!Float.isFinite(v)) return v + " at feature " + j;
        }
        return "a non-finite value";
    }

    /**
     * Drops rows. A kept row whose successor in the same episode was dropped becomes a segment end
     * (terminal = 1): the trajectory is broken there, and frame stacking must not reach across the gap.
     * Episode ids and step indices keep their source values, so the gap stays visible.
     */
    private static TransitionData without(TransitionData d, boolean[] drop, int keep) {
        TransitionData out = TransitionData.zeros(keep, d.obsDim(), d.actionDim());
        int n = d.size();
        int k = 0;
        for (int i = 0; i < n; i++) {
            if (drop[i]) continue;
            boolean brokenAfter = i + 1 < n && drop[i + 1] && d.episodeIds()[i + 1] == d.episodeIds()[i];
            out.set(k, d.observations(), d.actions(), d.nextObservations(), i, d.rewards()[i], d.masks()[i],
                    brokenAfter ? 1f : d.terminals()[i], d.episodeIds()[i], d.stepIndices()[i]);
            k++;
        }
        return out;
    }

    private static long countOutsideClip(float[] a) {
        long c = 0;
        for (float v : a) if (v > DatasetSchema.ACTION_CLIP || v < -DatasetSchema.ACTION_CLIP) c++;
        return c;
    }

    private static TransitionData withClippedActions(TransitionData d) {
        float[] a = d.actions().clone();
        float hi = DatasetSchema.ACTION_CLIP;
        for (int i = 0; i < a.length; i++) {
            if (a[i] > hi) a[i] = hi;
            else if (a[i] < -hi) a[i] = -hi;
        }
        return new TransitionData(d.obsDim(), d.actionDim(), d.observations(), a, d.rewards(), d.masks(),
                d.terminals(), d.nextObservations(), d.episodeIds(), d.stepIndices());
    }
}
