package org.fqlspark.tensor;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.fqlspark.tensor.TestTensors.gaussian;
import static org.fqlspark.tensor.TestTensors.read;
import static org.fqlspark.tensor.TestTensors.tensor;

import java.util.SplittableRandom;
import java.util.function.ToDoubleFunction;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The fused hidden-layer operations ({@link TensorOps#biasGeluLayerNorm}, {@link TensorOps#layerNormGeluBackward})
 * against the unfused operations they replace, on every backend and on shapes that exercise the block kernels
 * (several blocks and a partial one, rows longer than a block, rows split between two threads); and the backward
 * pass against central finite differences of the forward pass.
 */
class FusedLayerOpsTest {

    private static final float EPS = 1e-6f;

    /** rows x cols: one block; several blocks and a partial one at 64 columns; a row longer than a block; two threads. */
    private static final int[][] SHAPES = {{7, 5}, {300, 64}, {3, 5000}, {520, 130}};

    /** The layer's inputs, uploaded to fresh tensors of {@code ops}. */
    private record Layer(Tensor z, Tensor bias, Tensor scale, Tensor lnBias, Tensor gradOut) {
        static Layer random(TensorOps ops, int rows, int cols, long seed) {
            SplittableRandom r = new SplittableRandom(seed);
            return new Layer(upload(ops, rows, cols, r, 1.5), upload(ops, 1, cols, r, 0.5), upload(ops, 1, cols, r, 1.0),
                    upload(ops, 1, cols, r, 0.5), upload(ops, rows, cols, r, 1.0));
        }
    }

    private static Tensor upload(TensorOps ops, int rows, int cols, SplittableRandom r, double scale) {
        return tensor(ops, gaussian(rows * cols, r, scale), rows, cols);
    }

    /** Runs the layer forward and backward, fused or not; returns z, xhat, invStd, out, gradIn, gradScale, gradBias. */
    private static float[][] run(TensorOps ops, int rows, int cols, boolean fused) {
        Layer l = Layer.random(ops, rows, cols, 17);
        Tensor gelu = ops.zeros(rows, cols);
        Tensor xhat = ops.zeros(rows, cols);
        Tensor inv = ops.zeros(rows, 1);
        Tensor out = ops.zeros(rows, cols);
        Tensor gradIn = ops.zeros(rows, cols);
        Tensor gradScale = ops.zeros(1, cols);
        Tensor gradBias = ops.zeros(1, cols);
        ops.fill(gradScale, 0.25f);   // both accumulate into the parameter gradients
        ops.fill(gradBias, -0.5f);
        if (fused) {
            ops.biasGeluLayerNorm(l.z(), l.bias(), l.scale(), l.lnBias(), EPS, gelu, xhat, inv, out);
            ops.layerNormGeluBackward(l.gradOut(), xhat, inv, l.scale(), l.z(), gradIn, gradScale, gradBias);
        } else {
            ops.biasGelu(l.z(), l.bias(), gelu);
            ops.layerNorm(gelu, l.scale(), l.lnBias(), EPS, xhat, inv, out);
            ops.layerNormBackward(l.gradOut(), xhat, inv, l.scale(), gradIn, gradScale, gradBias);
            ops.geluBackward(gradIn, l.z());
        }
        return new float[][] {read(ops, l.z()), read(ops, xhat), read(ops, inv), read(ops, out), read(ops, gradIn),
                read(ops, gradScale), read(ops, gradBias)};
    }

    @ParameterizedTest(name = "{0}")
    @ValueSource(strings = {"fused", "fused-2-threads", "nd4j", "java", "opencl"})
    void fusedOpsGiveTheUnfusedResults(String backend) {
        TensorOps ops = TestBackends.create(backend);
        for (int[] shape : SHAPES) {
            float[][] reference = run(new JavaTensorOps(), shape[0], shape[1], false);
            float[][] fused = run(ops, shape[0], shape[1], true);
            float[][] unfused = run(ops, shape[0], shape[1], false);
            String where = ops.describe() + ", " + shape[0] + "x" + shape[1];
            for (int k = 0; k < fused.length; k++) {
                if (ops instanceof FusedCpuTensorOps || ops instanceof JavaTensorOps) {
                    // same arithmetic in the same order: the same bits
                    assertArrayEquals(unfused[k], fused[k], where + ", output " + k);
                }
                for (int i = 0; i < fused[k].length; i++) {
                    assertEquals(unfused[k][i], fused[k][i], 1e-5f * Math.max(1f, Math.abs(unfused[k][i])), where + ", output " + k + "[" + i + "]");
                    assertEquals(reference[k][i], fused[k][i], 2e-5f * Math.max(1f, Math.abs(reference[k][i])), where + " vs Java, output " + k + "[" + i + "]");
                }
            }
        }
    }

    /** {@code L = Σ w ⊙ out} of the fused forward pass, in double, for fresh copies of the inputs. */
    private static double loss(TensorOps ops, float[] z, float[] bias, float[] scale, float[] lnBias, float[] w, int rows, int cols) {
        Tensor zt = tensor(ops, z.clone(), rows, cols);   // the forward pass adds the bias into z
        Tensor out = ops.zeros(rows, cols);
        ops.biasGeluLayerNorm(zt, tensor(ops, bias, 1, cols), tensor(ops, scale, 1, cols), tensor(ops, lnBias, 1, cols), EPS,
                ops.zeros(rows, cols), ops.zeros(rows, cols), ops.zeros(rows, 1), out);
        float[] o = read(ops, out);
        double total = 0;
        for (int i = 0; i < o.length; i++) total += (double) w[i] * o[i];
        return total;
    }

    @ParameterizedTest(name = "{0}")
    @ValueSource(strings = {"fused", "nd4j", "opencl"})
    void fusedBackwardMatchesFiniteDifferences(String backend) {
        int rows = 5;
        int cols = 70;   // a width no vector length divides
        TensorOps ops = TestBackends.create(backend);
        SplittableRandom r = new SplittableRandom(5);
        float[] z = new float[rows * cols];
        float[] w = new float[rows * cols];
        float[] bias = new float[cols];
        float[] scale = new float[cols];
        float[] lnBias = new float[cols];
        for (int i = 0; i < z.length; i++) {
            z[i] = (float) (1.5 * r.nextGaussian());
            w[i] = (float) r.nextGaussian();
        }
        for (int j = 0; j < cols; j++) {
            bias[j] = (float) (0.5 * r.nextGaussian());
            scale[j] = (float) (1 + 0.3 * r.nextGaussian());
            lnBias[j] = (float) (0.5 * r.nextGaussian());
        }
        // analytic: forward, then backward from gradOut = w
        Tensor zt = tensor(ops, z.clone(), rows, cols);
        Tensor b = tensor(ops, bias, 1, cols);
        Tensor s = tensor(ops, scale, 1, cols);
        Tensor lb = tensor(ops, lnBias, 1, cols);
        Tensor xhat = ops.zeros(rows, cols);
        Tensor inv = ops.zeros(rows, 1);
        ops.biasGeluLayerNorm(zt, b, s, lb, EPS, ops.zeros(rows, cols), xhat, inv, ops.zeros(rows, cols));
        Tensor gradOut = tensor(ops, w, rows, cols);
        Tensor gradIn = ops.zeros(rows, cols);
        Tensor gradScale = ops.zeros(1, cols);
        Tensor gradBias = ops.zeros(1, cols);
        ops.layerNormGeluBackward(gradOut, xhat, inv, s, zt, gradIn, gradScale, gradBias);
        float[] dz = read(ops, gradIn);
        float[] dScale = read(ops, gradScale);
        float[] dLnBias = read(ops, gradBias);

        double worst = Math.max(
                worstAgainstDifferences(z, 7, dz, x -> loss(ops, x, bias, scale, lnBias, w, rows, cols)),
                Math.max(worstAgainstDifferences(scale, 3, dScale, x -> loss(ops, z, bias, x, lnBias, w, rows, cols)),
                        worstAgainstDifferences(lnBias, 3, dLnBias, x -> loss(ops, z, bias, scale, x, w, rows, cols))));
        assertTrue(worst < 5e-3, ops.describe() + ": worst relative difference to finite differences " + worst);
    }

    /**
     * The worst relative difference between {@code analytic} and central differences (step 1e-2) of {@code loss} in
     * every {@code stride}-th entry of {@code x}.
     */
    private static double worstAgainstDifferences(float[] x, int stride, float[] analytic, ToDoubleFunction<float[]> loss) {
        double h = 1e-2;
        double worst = 0;
        for (int i = 0; i < x.length; i += stride) {
            float[] plus = x.clone();
            float[] minus = x.clone();
            plus[i] += (float) h;
            minus[i] -= (float) h;
            double fd = (loss.applyAsDouble(plus) - loss.applyAsDouble(minus)) / (2 * h);
            worst = Math.max(worst, Math.abs(fd - analytic[i]) / Math.max(1.0, Math.abs(fd)));
        }
        return worst;
    }

    @Test
    void columnSumsFourRowsAtATimeAddInTheSameOrder() {
        SplittableRandom r = new SplittableRandom(9);
        for (int[] shape : new int[][] {{1, 3}, {7, 5}, {258, 64}, {5, 513}}) {
            int rows = shape[0];
            int cols = shape[1];
            float[] x = new float[rows * cols];
            for (int i = 0; i < x.length; i++) x[i] = (float) (r.nextGaussian() * Math.exp(3 * r.nextGaussian()));
            float[] expected = new float[cols];
            java.util.Arrays.fill(expected, 0.5f);
            float[] actual = expected.clone();
            Kernels.columnSums(x, 0, expected, 0, rows, cols, true);
            Kernels.addColumnSums(x, actual, rows, cols, new float[4][cols]);
            assertArrayEquals(expected, actual, rows + "x" + cols);
        }
    }

    @Test
    void tilesRepeatTheRow() {
        float[] row = {9, 1, 2, 3};
        float[] tile = new float[3 * 3 + 2];
        Kernels.tile(row, 1, 3, tile, 3);
        assertArrayEquals(new float[] {1, 2, 3, 1, 2, 3, 1, 2, 3, 0, 0}, tile);
    }
}
