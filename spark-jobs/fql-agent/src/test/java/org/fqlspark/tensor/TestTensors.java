package org.fqlspark.tensor;

import java.util.SplittableRandom;

/** Moving values in and out of a backend's tensors in the tensor tests. */
final class TestTensors {

    private TestTensors() {
    }

    /** A fresh {@code rows x cols} tensor of {@code ops} holding {@code values}. */
    static Tensor tensor(TensorOps ops, float[] values, int rows, int cols) {
        Tensor t = ops.zeros(rows, cols);
        ops.upload(values, t);
        return t;
    }

    /** The tensor's values, row-major. */
    static float[] read(TensorOps ops, Tensor t) {
        float[] v = new float[Math.toIntExact(t.size())];
        ops.download(t, v);
        return v;
    }

    /** {@code n} draws of {@code scale · N(0, 1)} from {@code r}. */
    static float[] gaussian(int n, SplittableRandom r, double scale) {
        float[] v = new float[n];
        for (int i = 0; i < n; i++) v[i] = (float) (scale * r.nextGaussian());
        return v;
    }
}
