package org.fqlspark.tensor;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.fqlspark.tensor.TestTensors.gaussian;
import static org.fqlspark.tensor.TestTensors.read;

import java.util.SplittableRandom;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The stacked ensemble operations ({@link TensorOps#gemmStacked} and the per-member layer ops) against the plain 2-D
 * operations run on each member alone, in tensors of its own: the same bits on every backend (on OpenCL the stacked
 * and per-member calls run the same kernels), on shapes that exercise the block kernels (several blocks and a
 * partial one, rows split between two threads) and with parameter gradients that accumulate.
 */
class StackedOpsTest {

    private static final int K = 2;
    private static final float EPS = 1e-6f;
    /** rows per member x cols: one block; several blocks at 64 columns; rows split between two threads. */
    private static final int[][] SHAPES = {{7, 5}, {300, 64}, {520, 130}};

    private static Tensor tensor(TensorOps ops, int rows, int cols, float[] values, int from) {
        return TestTensors.tensor(ops, java.util.Arrays.copyOfRange(values, from, from + rows * cols), rows, cols);
    }

    /** The stacked result and the members' results laid end to end must be the same bits. */
    private static void same(String what, TensorOps ops, Tensor stacked, Tensor[] members) {
        float[] expected = new float[Math.toIntExact(stacked.size())];
        int o = 0;
        for (Tensor m : members) {
            float[] v = read(ops, m);
            System.arraycopy(v, 0, expected, o, v.length);
            o += v.length;
        }
        assertArrayEquals(expected, read(ops, stacked), what + " on " + ops.describe());
    }

    @ParameterizedTest(name = "{0}")
    @ValueSource(strings = {"fused", "fused-2-threads", "fused-nd4j-gemm", "nd4j", "java", "opencl"})
    void stackedGemmIsTheMembersProducts(String backend) {
        for (int[] shape : SHAPES) {
            int b = shape[0];
            int in = shape[1];
            int out = shape[1] / 2 + 3;
            SplittableRandom r = new SplittableRandom(5);
            float[] x = gaussian(b * in, r, 1);
            float[] w = gaussian(K * in * out, r, 0.3);
            float[] dz = gaussian(K * b * out, r, 1);
            float[] h = gaussian(K * b * in, r, 1);
            TensorOps ops = TestBackends.create(backend);
            Tensor xs = tensor(ops, b, in, x, 0);
            Tensor ws = tensor(ops, K * in, out, w, 0);
            Tensor dzs = tensor(ops, K * b, out, dz, 0);
            Tensor hs = tensor(ops, K * b, in, h, 0);
            Tensor[] wm = new Tensor[K];
            Tensor[] dzm = new Tensor[K];
            Tensor[] hm = new Tensor[K];
            for (int j = 0; j < K; j++) {
                wm[j] = tensor(ops, in, out, w, j * in * out);
                dzm[j] = tensor(ops, b, out, dz, j * b * out);
                hm[j] = tensor(ops, b, in, h, j * b * in);
            }
            // forward of the first layer (shared input), its weight gradient, the input gradient (stacked a, b transposed)
            Tensor fwd = ops.zeros(K * b, out);
            ops.fill(fwd, 9f);   // overwritten, not accumulated
            ops.gemmStacked(K, xs, true, false, ws, false, fwd);
            Tensor gw = ops.zeros(K * in, out);
            ops.gemmStacked(K, xs, true, true, dzs, false, gw);
            Tensor gx = ops.zeros(K * b, in);
            ops.gemmStacked(K, dzs, false, false, ws, true, gx);
            Tensor gwh = ops.zeros(K * in, out);
            ops.gemmStacked(K, hs, false, true, dzs, false, gwh);
            Tensor[] fwdM = new Tensor[K];
            Tensor[] gwM = new Tensor[K];
            Tensor[] gxM = new Tensor[K];
            Tensor[] gwhM = new Tensor[K];
            for (int j = 0; j < K; j++) {
                fwdM[j] = ops.zeros(b, out);
                ops.gemm(xs, false, wm[j], false, fwdM[j], 0f);
                gwM[j] = ops.zeros(in, out);
                ops.gemm(xs, true, dzm[j], false, gwM[j], 0f);
                gxM[j] = ops.zeros(b, in);
                ops.gemm(dzm[j], false, wm[j], true, gxM[j], 0f);
                gwhM[j] = ops.zeros(in, out);
                ops.gemm(hm[j], true, dzm[j], false, gwhM[j], 0f);
            }
            same("forward, shared input " + b + "x" + in, ops, fwd, fwdM);
            same("weight gradient, shared input", ops, gw, gwM);
            same("input gradient", ops, gx, gxM);
            same("weight gradient, stacked input", ops, gwh, gwhM);
        }
    }

    @ParameterizedTest(name = "{0}")
    @ValueSource(strings = {"fused", "fused-2-threads", "fused-nd4j-gemm", "nd4j", "java", "opencl"})
    void stackedLayerOpsAreTheMembersOps(String backend) {
        for (int[] shape : SHAPES) {
            int b = shape[0];
            int c = shape[1];
            SplittableRandom r = new SplittableRandom(11);
            float[] z = gaussian(K * b * c, r, 1.5);
            float[] bias = gaussian(K * c, r, 0.5);
            float[] scale = gaussian(K * c, r, 1.0);
            float[] lnBias = gaussian(K * c, r, 0.5);
            float[] gradOut = gaussian(K * b * c, r, 1.0);
            float[] acc = gaussian(K * c, r, 0.3);
            TensorOps ops = TestBackends.create(backend);
            for (boolean layerNorm : new boolean[] {true, false}) {
                Tensor zs = tensor(ops, K * b, c, z, 0);
                Tensor zs2 = tensor(ops, K * b, c, z, 0);
                Tensor bs = tensor(ops, K, c, bias, 0);
                Tensor ss = tensor(ops, K, c, scale, 0);
                Tensor ls = tensor(ops, K, c, lnBias, 0);
                Tensor gs = tensor(ops, K * b, c, gradOut, 0);
                Tensor gelu = ops.zeros(K * b, c);
                Tensor xhat = ops.zeros(K * b, c);
                Tensor inv = ops.zeros(K * b, 1);
                Tensor out = ops.zeros(K * b, c);
                Tensor gradIn = ops.zeros(K * b, c);
                Tensor gradScale = tensor(ops, K, c, acc, 0);
                Tensor gradBias = tensor(ops, K, c, acc, 0);
                Tensor sums = ops.zeros(K, c);
                if (layerNorm) {
                    ops.biasGeluLayerNormStacked(K, zs, bs, ss, ls, EPS, gelu, xhat, inv, out);
                    ops.layerNormGeluBackwardStacked(K, gs, xhat, inv, ss, zs, gradIn, gradScale, gradBias);
                } else {
                    ops.biasGeluStacked(K, zs, bs, out);
                }
                ops.addBiasStacked(K, zs2, bs);
                ops.columnSumsStacked(K, gs, sums);
                Tensor[][] m = new Tensor[9][K];
                for (int j = 0; j < K; j++) {
                    Tensor zm = tensor(ops, b, c, z, j * b * c);
                    Tensor zm2 = tensor(ops, b, c, z, j * b * c);
                    Tensor bm = tensor(ops, 1, c, bias, j * c);
                    Tensor sm = tensor(ops, 1, c, scale, j * c);
                    Tensor lm = tensor(ops, 1, c, lnBias, j * c);
                    Tensor gm = tensor(ops, b, c, gradOut, j * b * c);
                    Tensor xm = ops.zeros(b, c);
                    Tensor im = ops.zeros(b, 1);
                    Tensor om = ops.zeros(b, c);
                    Tensor gim = ops.zeros(b, c);
                    Tensor gsm = tensor(ops, 1, c, acc, j * c);
                    Tensor gbm = tensor(ops, 1, c, acc, j * c);
                    Tensor sum = ops.zeros(1, c);
                    if (layerNorm) {
                        ops.biasGeluLayerNorm(zm, bm, sm, lm, EPS, ops.zeros(b, c), xm, im, om);
                        ops.layerNormGeluBackward(gm, xm, im, sm, zm, gim, gsm, gbm);
                    } else {
                        ops.biasGelu(zm, bm, om);
                    }
                    ops.addBias(zm2, bm);
                    ops.columnSums(gm, sum, false);
                    Tensor[] each = {zm, xm, im, om, gim, gsm, gbm, zm2, sum};
                    for (int q = 0; q < each.length; q++) {
                        m[q][j] = each[q];
                    }
                }
                String what = (layerNorm ? "with" : "without") + " LayerNorm, " + b + "x" + c + ": ";
                same(what + "z after the bias", ops, zs, m[0]);
                same(what + "layer output", ops, out, m[3]);
                same(what + "addBias", ops, zs2, m[7]);
                same(what + "column sums", ops, sums, m[8]);
                if (layerNorm) {
                    same(what + "xhat", ops, xhat, m[1]);
                    same(what + "1/std", ops, inv, m[2]);
                    same(what + "input gradient", ops, gradIn, m[4]);
                    same(what + "scale gradient (accumulated)", ops, gradScale, m[5]);
                    same(what + "bias gradient (accumulated)", ops, gradBias, m[6]);
                }
            }
        }
    }

    @ParameterizedTest(name = "{0}")
    @ValueSource(strings = {"fused", "fused-2-threads", "fused-nd4j-gemm", "nd4j", "java", "opencl"})
    void rowsThatDoNotSplitIntoMembersAreRefused(String backend) {
        TensorOps ops = TestBackends.create(backend);
        Tensor a = ops.zeros(5, 3);
        assertThrows(IllegalArgumentException.class, () -> ops.columnSumsStacked(2, a, ops.zeros(2, 3)), ops.describe());
        assertThrows(IllegalArgumentException.class, () -> ops.member(a, 0, 2), ops.describe());
    }
}
