package org.fqlspark.tensor;

/**
 * The loss stage of a training step on host arrays: the defaults of {@link TensorOps}' loss-stage operations, and so
 * what every CPU backend runs. The arithmetic is the one {@code FqlAgent} had inline before the stage moved behind
 * {@link TensorOps}, in the same order and precision (float differences, double sums and scale factors), so the CPU
 * backends' training is bit for bit what it was; the OpenCL kernels compute the same formulas in float32.
 */
final class LossKernels {

    private LossKernels() {
    }

    static float[] read(TensorOps ops, Tensor t) {
        float[] out = new float[Math.toIntExact(t.size())];
        ops.download(t, out);
        return out;
    }

    /** Writes {@code values} into {@code stats[slot, slot + values.length)} (float32), leaving the other slots. */
    static void put(TensorOps ops, Tensor stats, int slot, double... values) {
        if (stats.rows() != 1 || slot < 0 || slot + values.length > stats.cols()) {
            throw new IndexOutOfBoundsException("slots [" + slot + ", " + (slot + values.length) + ") of a " + stats.rows() + "x"
                    + stats.cols() + " stats tensor");
        }
        float[] all = read(ops, stats);
        for (int i = 0; i < values.length; i++) {
            all[slot + i] = (float) values[i];
        }
        ops.upload(all, stats);
    }

    static void checkColumns(Tensor src, int srcCol, Tensor dst, int dstCol, int width) {
        if (src.rows() != dst.rows() || srcCol < 0 || dstCol < 0 || width < 0 || srcCol + width > src.cols() || dstCol + width > dst.cols()) {
            throw new IllegalArgumentException("columns [" + srcCol + ", " + (srcCol + width) + ") of a " + src.rows() + "x" + src.cols()
                    + " tensor into columns [" + dstCol + ", " + (dstCol + width) + ") of a " + dst.rows() + "x" + dst.cols() + " one");
        }
    }

    /** Rows per member of a stack of {@code count} members of {@code rows} rows each; refuses anything else. */
    static int checkMembers(Tensor stacked, int count, int rows) {
        if (count <= 0 || (long) count * rows != stacked.rows()) {
            throw new IllegalArgumentException(stacked.rows() + " rows are not " + count + " members of " + rows);
        }
        return rows;
    }

    static void checkActionGradient(int count, Tensor inputGradient, int firstCol, Tensor actions, Tensor teacher, Tensor gradient) {
        checkMembers(inputGradient, count, actions.rows());
        if (firstCol < 0 || firstCol + actions.cols() > inputGradient.cols() || teacher.rows() != actions.rows()
                || teacher.cols() != actions.cols() || gradient.rows() != actions.rows() || gradient.cols() != actions.cols()) {
            throw new IllegalArgumentException("action gradient: actions " + actions.rows() + "x" + actions.cols() + ", teacher "
                    + teacher.rows() + "x" + teacher.cols() + ", gradient " + gradient.rows() + "x" + gradient.cols()
                    + ", columns [" + firstCol + ", " + (firstCol + actions.cols()) + ") of a " + inputGradient.cols() + "-column input gradient");
        }
    }

    static void checkRepeated(Tensor prediction, Tensor target, Tensor gradient) {
        if (target.size() == 0 || prediction.size() % target.size() != 0 || prediction.cols() != target.cols()
                || gradient.size() != prediction.size()) {
            throw new IllegalArgumentException("prediction " + prediction.rows() + "x" + prediction.cols() + ", target " + target.rows() + "x"
                    + target.cols() + ", gradient " + gradient.rows() + "x" + gradient.cols() + " do not fit");
        }
    }

    static void copyColumns(float[] src, int srcCols, int srcCol, float[] dst, int dstCols, int dstCol, int rows, int width, boolean clip) {
        for (int r = 0; r < rows; r++) {
            for (int j = 0; j < width; j++) {
                float v = src[r * srcCols + srcCol + j];
                dst[r * dstCols + dstCol + j] = clip ? Math.max(-1f, Math.min(1f, v)) : v;
            }
        }
    }

    /** {@code nextQ[i] = agg_j nextQs[j·B + i]} in double, {@code targetQ[i] = r[i] + γ · m[i] · agg}. */
    static void tdTarget(int count, float[] nextQs, boolean min, float[] rewards, float[] masks, double discount,
                         float[] nextQ, float[] targetQ) {
        int b = nextQ.length;
        for (int i = 0; i < b; i++) {
            double agg = min ? Double.POSITIVE_INFINITY : 0;
            for (int j = 0; j < count; j++) {
                agg = min ? Math.min(agg, nextQs[j * b + i]) : agg + nextQs[j * b + i] / (double) count;
            }
            nextQ[i] = (float) agg;
            targetQ[i] = (float) (rewards[i] + discount * masks[i] * agg);
        }
    }

    /** {@code gradient = weight · 2 · (p − t) / n} with the float difference; returns {@code Σ (p − t)²} in double. */
    static double squaredErrorGradient(float[] prediction, float[] target, double weight, float[] gradient) {
        int n = prediction.length;
        double sum = 0;
        for (int idx = 0; idx < n; idx++) {
            double diff = prediction[idx] - target[idx % target.length];
            sum += diff * diff;
            gradient[idx] = (float) (weight * 2.0 * diff / n);
        }
        return sum;
    }

    /** {@code gradient = weight · 2 · w · (p − t) / n}; returns {@code Σ w · (p − t)²} in double. */
    static double weightedSquaredErrorGradient(float[] prediction, float[] target, float[] weights, double weight,
                                               float[] gradient) {
        int n = prediction.length;
        double sum = 0;
        for (int idx = 0; idx < n; idx++) {
            double diff = prediction[idx] - target[idx % target.length];
            double w = weights[idx];
            sum += diff * diff * w;
            gradient[idx] = (float) (weight * 2.0 * diff * w / n);
        }
        return sum;
    }

    /** {Σ x, max x, min x} in double. */
    static double[] sumMaxMin(float[] x) {
        double sum = 0;
        double max = Double.NEGATIVE_INFINITY;
        double min = Double.POSITIVE_INFINITY;
        for (float v : x) {
            sum += v;
            max = Math.max(max, v);
            min = Math.min(min, v);
        }
        return new double[] {sum, max, min};
    }

    /** Fills {@code gradQ} with {@code −weight · λ / (count · B)}; returns {q loss, mean qπ}. */
    static double[] qLossGradient(int count, float[] q, boolean normalize, double weight, float[] gradQ) {
        int b = q.length / count;
        float[] qPi = new float[b];
        for (int j = 0; j < count; j++) {
            for (int i = 0; i < b; i++) {
                qPi[i] += q[j * b + i] / count;
            }
        }
        double mean = 0;
        double meanAbs = 0;
        for (int i = 0; i < b; i++) {
            mean += qPi[i];
            meanAbs += Math.abs(qPi[i]);
        }
        mean /= b;
        meanAbs /= b;
        double lambda = normalize ? 1.0 / meanAbs : 1.0;   // a constant: no gradient through λ
        java.util.Arrays.fill(gradQ, (float) (-weight * lambda / ((double) count * b)));
        return new double[] {-lambda * mean, mean};
    }

    /** Writes the action gradient (see {@link TensorOps#actorActionGradient}); returns {@code Σ (a − teacher)²}. */
    static double actorActionGradient(int count, float[] inputGradient, int width, int firstCol, float[] actions, float[] teacher,
                                      int b, int d, double distillWeight, float[] gradient) {
        for (int j = 0; j < count; j++) {
            for (int i = 0; i < b; i++) {
                for (int c = 0; c < d; c++) {
                    gradient[i * d + c] += inputGradient[(j * b + i) * width + firstCol + c];
                }
            }
        }
        double sum = 0;
        for (int idx = 0; idx < b * d; idx++) {
            double diff = actions[idx] - teacher[idx];
            sum += diff * diff;
            boolean inside = actions[idx] >= -1f && actions[idx] <= 1f;
            double dDistill = distillWeight * 2.0 * (actions[idx] - teacher[idx]) / ((double) b * d);
            gradient[idx] = (float) (dDistill + (inside ? gradient[idx] : 0f));
        }
        return sum;
    }
}
