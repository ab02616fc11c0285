package org.fqlspark.tensor;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.SplittableRandom;

import org.fqlspark.conformance.Conformance;
import org.fqlspark.conformance.GoldenDump;
import org.junit.jupiter.api.Test;

/** The two CPU implementations of TensorOps agree with each other, with hand values, and with the golden dump. */
class TensorOpsTest {

    @Test
    void rationalTanhIsFloat32Accurate() {
        double worst = 0;
        for (double x = -12; x <= 12; x += 1e-3) {
            worst = Math.max(worst, Math.abs(Kernels.tanh((float) x) - Math.tanh((float) x)));
        }
        assertTrue(worst < 2e-6, "max |error| " + worst);
        assertEquals(0f, Kernels.tanh(0f));
        assertEquals(1f, Kernels.tanh(30f), 1e-6f);
    }

    @Test
    void fusedAndPortableOpsAgreeOnEveryOperation() {
        agreeOnEveryOperation(7, 5, new TensorOps[] {new Nd4jTensorOps(), new FusedCpuTensorOps(), new JavaTensorOps()});
    }

    @Test
    void twoThreadElementWiseKernelsAgreeWithOneThread() {
        // 520 x 130 = 67 600 elements: above the size where the fused kernels split rows between two threads
        assertTrue(520 * 130 >= FusedCpuTensorOps.PARALLEL_MIN);
        agreeOnEveryOperation(520, 130, new TensorOps[] {new JavaTensorOps(), new FusedCpuTensorOps(true, 2),
                new FusedCpuTensorOps(false, 1), new Nd4jTensorOps()});
    }

    private static void agreeOnEveryOperation(int rows, int cols, TensorOps[] impls) {
        float[][] results = new float[impls.length][];
        for (int k = 0; k < impls.length; k++) {
            TensorOps ops = impls[k];
            SplittableRandom r = new SplittableRandom(3);
            Tensor flat = ops.zeros(1, 3 * cols + 4 * rows * cols);
            float[] init = new float[3 * cols + 4 * rows * cols];
            for (int i = 0; i < init.length; i++) init[i] = (float) r.nextGaussian();
            ops.upload(init, flat);
            // views at odd offsets exercise the offset handling of both implementations
            Tensor bias = ops.view(flat, 1, 1, cols);
            Tensor scale = ops.view(flat, 1 + cols, 1, cols);
            Tensor z = ops.view(flat, 3 * cols, rows, cols);
            Tensor grad = ops.view(flat, 3 * cols + rows * cols, rows, cols);
            Tensor out = ops.zeros(rows, cols);
            Tensor xhat = ops.zeros(rows, cols);
            Tensor inv = ops.zeros(rows, 1);
            Tensor ln = ops.zeros(rows, cols);
            Tensor dIn = ops.zeros(rows, cols);
            Tensor dScale = ops.zeros(1, cols);
            Tensor dBias = ops.zeros(1, cols);
            Tensor sums = ops.zeros(1, cols);
            ops.biasGelu(z, bias, out);
            ops.layerNorm(out, scale, bias, 1e-6f, xhat, inv, ln);
            ops.layerNormBackward(grad, xhat, inv, scale, dIn, dScale, dBias);
            ops.geluBackward(dIn, z);
            ops.columnSums(dIn, sums, false);
            ops.columnSums(dIn, sums, true);
            Tensor m = ops.zeros(1, rows * cols);
            Tensor v = ops.zeros(1, rows * cols);
            Tensor p = ops.view(flat, 3 * cols + 2 * rows * cols, 1, rows * cols);
            Tensor g = ops.view(flat, 3 * cols + 3 * rows * cols, 1, rows * cols);
            ops.adam(p, g, m, v, 1e-2, 0.9, 0.999, 1e-8, 1);
            ops.adam(p, g, m, v, 1e-2, 0.9, 0.999, 1e-8, 2);
            ops.polyak(p, g, 0.25);
            float[] all = new float[init.length];
            ops.download(flat, all);
            float[] rest = new float[rows * cols * 3 + 3 * cols + rows];
            float[] tmp = new float[rows * cols];
            int at = 0;
            for (Tensor t : new Tensor[] {out, ln, dIn}) {
                ops.download(t, tmp);
                System.arraycopy(tmp, 0, rest, at, tmp.length);
                at += tmp.length;
            }
            float[] small = new float[cols];
            for (Tensor t : new Tensor[] {dScale, dBias, sums}) {
                ops.download(t, small);
                System.arraycopy(small, 0, rest, at, cols);
                at += cols;
            }
            float[] invs = new float[rows];
            ops.download(inv, invs);
            System.arraycopy(invs, 0, rest, at, rows);
            float[] combined = new float[all.length + rest.length];
            System.arraycopy(all, 0, combined, 0, all.length);
            System.arraycopy(rest, 0, combined, all.length, rest.length);
            results[k] = combined;
            assertTrue(ops.sumOfSquares(flat) > 0);
        }
        for (int k = 1; k < impls.length; k++) {
            for (int i = 0; i < results[0].length; i++) {
                assertEquals(results[0][i], results[k][i], 2e-5f * Math.max(1f, Math.abs(results[0][i])), impls[k].describe() + " element " + i);
            }
        }
    }

    @Test
    void gemmHandValues() {
        for (TensorOps ops : new TensorOps[] {new Nd4jTensorOps(), new FusedCpuTensorOps(), new JavaTensorOps()}) {
            Tensor a = ops.zeros(2, 3);
            Tensor b = ops.zeros(3, 2);
            Tensor c = ops.zeros(2, 2);
            ops.upload(new float[] {1, 2, 3, 4, 5, 6}, a);
            ops.upload(new float[] {1, 0, 0, 1, 1, 1}, b);
            ops.gemm(a, false, b, false, c, 0f);
            float[] out = new float[4];
            ops.download(c, out);
            assertArrayEquals(new float[] {4, 5, 10, 11}, out);
            Tensor ct = ops.zeros(3, 3);
            ops.gemm(a, true, a, false, ct, 0f);     // aᵀa
            float[] t = new float[9];
            ops.download(ct, t);
            assertArrayEquals(new float[] {17, 22, 27, 22, 29, 36, 27, 36, 45}, t);
            Tensor aat = ops.zeros(2, 2);
            ops.upload(new float[] {1, 1, 1, 1}, aat);
            ops.gemm(a, false, a, true, aat, 2f);     // a aᵀ + 2·ones
            float[] u = new float[4];
            ops.download(aat, u);
            assertArrayEquals(new float[] {16, 34, 34, 79}, u);
        }
    }

    @Test
    void oneDnnGemmIsUsedOnThisPlatformAndAgreesOnViewsAndTransposes() {
        assertTrue(DnnlGemm.available(), "oneDNN did not load: " + DnnlGemm.unavailableReason());
        assertTrue(new FusedCpuTensorOps().usesDnnl());
        TensorOps reference = new JavaTensorOps();
        TensorOps[] impls = {new FusedCpuTensorOps(true), reference};
        // odd sizes (m 5, k 7, n 3) and views at odd offsets of one flat tensor, all four transpose combinations
        for (boolean ta : new boolean[] {false, true}) {
            for (boolean tb : new boolean[] {false, true}) {
                float[][] out = new float[2][];
                for (int k = 0; k < 2; k++) {
                    TensorOps ops = impls[k];
                    SplittableRandom r = new SplittableRandom(11);
                    float[] init = new float[3 + 35 + 21 + 15];
                    for (int i = 0; i < init.length; i++) init[i] = (float) r.nextGaussian();
                    Tensor flat = ops.zeros(1, init.length);
                    ops.upload(init, flat);
                    Tensor a = ta ? ops.view(flat, 3, 7, 5) : ops.view(flat, 3, 5, 7);
                    Tensor b = tb ? ops.view(flat, 38, 3, 7) : ops.view(flat, 38, 7, 3);
                    Tensor c = ops.view(flat, 59, 5, 3);
                    ops.gemm(a, ta, b, tb, c, 0.5f);
                    out[k] = new float[init.length];
                    ops.download(flat, out[k]);
                }
                for (int i = 0; i < out[0].length; i++) {
                    assertEquals(out[1][i], out[0][i], 1e-5f * Math.max(1f, Math.abs(out[1][i])), "ta " + ta + ", tb " + tb + ", element " + i);
                }
            }
        }
    }

    @Test
    void goldenDumpPassesOnBothImplementations() throws Exception {
        GoldenDump dump = GoldenDump.load(java.nio.file.Path.of(getClass().getResource("/golden/fql_tiny_default.json").toURI()));
        assertTrue(Conformance.run(dump, Conformance.DEFAULT_TOLERANCE, new Nd4jTensorOps()).passed());
        assertTrue(Conformance.run(dump, Conformance.DEFAULT_TOLERANCE, new FusedCpuTensorOps()).passed());
        assertTrue(Conformance.run(dump, Conformance.DEFAULT_TOLERANCE, new JavaTensorOps()).passed());
    }

    @Test
    void backendGuardKnowsWhichGpusTheCudaBuildRuns() {
        assertTrue(BackendGuard.canRun("8.0"));
        assertTrue(BackendGuard.canRun("8.6"));
        assertTrue(BackendGuard.canRun("8.9"));   // Ada runs sm_86 cubins
        assertTrue(BackendGuard.canRun("7.5"));
        assertTrue(!BackendGuard.canRun("9.0"));  // Hopper: H100, H200
        assertTrue(!BackendGuard.canRun("10.0"));
        assertTrue(!BackendGuard.canRun("3.5"));
    }
}
