package org.fqlspark.tensor;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.SplittableRandom;

import org.fqlspark.conformance.Conformance;
import org.fqlspark.conformance.GoldenDump;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** Every implementation of TensorOps agrees with the plain-Java one, with hand values, and with the golden dump. */
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

    @ParameterizedTest(name = "{0}")
    @ValueSource(strings = {"nd4j", "fused", "opencl"})
    void everyOperationAgreesWithPlainJava(String backend) {
        agreeOnEveryOperation(7, 5, new TensorOps[] {new JavaTensorOps(), TestBackends.create(backend)});
    }

    @ParameterizedTest(name = "{0}")
    @ValueSource(strings = {"fused-2-threads", "fused-nd4j-gemm", "nd4j", "opencl"})
    void largeTensorsAgreeWithPlainJava(String backend) {
        // 520 x 130 = 67 600 elements: above the size where the fused kernels split rows between two threads, and
        // more rows than one work-group's stride on OpenCL
        assertTrue(520 * 130 >= FusedCpuTensorOps.PARALLEL_MIN);
        agreeOnEveryOperation(520, 130, new TensorOps[] {new JavaTensorOps(), TestBackends.create(backend)});
    }

    private static void agreeOnEveryOperation(int rows, int cols, TensorOps[] impls) {
        float[][] results = new float[impls.length][];
        double[] sumsOfSquares = new double[impls.length];
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
            sumsOfSquares[k] = ops.sumOfSquares(flat);
            assertTrue(sumsOfSquares[k] > 0);
        }
        for (int k = 1; k < impls.length; k++) {
            // 2e-4: ND4J's norm2 accumulates in float (1.1e-4 off at 520 x 130)
            assertEquals(sumsOfSquares[0], sumsOfSquares[k], 2e-4 * sumsOfSquares[0], impls[k].describe() + " sum of squares");
            for (int i = 0; i < results[0].length; i++) {
                assertEquals(results[0][i], results[k][i], 2e-5f * Math.max(1f, Math.abs(results[0][i])), impls[k].describe() + " element " + i);
            }
        }
    }

    @ParameterizedTest(name = "{0}")
    @ValueSource(strings = {"nd4j", "fused", "java", "opencl"})
    void gemmHandValues(String backend) {
        TensorOps ops = TestBackends.create(backend);
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

    @ParameterizedTest(name = "{0}")
    @ValueSource(strings = {"nd4j", "fused", "java", "opencl"})
    void fillCopyAndColumnOpsHandValues(String backend) {
        TensorOps ops = TestBackends.create(backend);
        Tensor flat = ops.zeros(1, 12);
        Tensor x = ops.view(flat, 2, 3, 3);   // a view at an offset
        ops.upload(new float[] {1, 2, 3, 4, 5, 6, 7, 8, 9}, x);
        Tensor v = ops.zeros(3, 2);
        ops.upload(new float[] {2, 4, 6, 8, 10, 12}, v);
        ops.addDividedToColumns(x, 1, v, 2f);
        ops.setColumn(x, 0, -1f);
        float[] out = new float[12];
        ops.download(flat, out);
        assertArrayEquals(new float[] {0, 0, -1, 3, 5, -1, 8, 10, -1, 13, 15, 0}, out);
        Tensor y = ops.zeros(3, 3);
        ops.copy(x, y);
        ops.fill(x, 0.5f);
        float[] copied = new float[9];
        ops.download(y, copied);
        assertArrayEquals(new float[] {-1, 3, 5, -1, 8, 10, -1, 13, 15}, copied);
        ops.download(flat, out);
        assertArrayEquals(new float[] {0, 0, 0.5f, 0.5f, 0.5f, 0.5f, 0.5f, 0.5f, 0.5f, 0.5f, 0.5f, 0}, out);
    }

    @Test
    void oneDnnGemmIsUsedOnThisPlatform() {
        assertTrue(DnnlGemm.available(), "oneDNN did not load: " + DnnlGemm.unavailableReason());
        assertTrue(new FusedCpuTensorOps().usesDnnl());
    }

    @ParameterizedTest(name = "{0}")
    @ValueSource(strings = {"fused", "opencl"})
    void gemmAgreesWithPlainJavaOnViewsAndTransposes(String backend) {
        TensorOps[] impls = {TestBackends.create(backend), new JavaTensorOps()};
        // odd sizes and views at odd offsets of one flat tensor, all four transpose combinations: m 5, k 7, n 3 (part
        // of one OpenCL tile), and m 70, k 45, n 33 (several tiles, each edge partial)
        for (int[] mkn : new int[][] {{5, 7, 3}, {70, 45, 33}}) {
            int m = mkn[0];
            int k = mkn[1];
            int n = mkn[2];
            for (boolean ta : new boolean[] {false, true}) {
                for (boolean tb : new boolean[] {false, true}) {
                    float[][] out = new float[2][];
                    for (int q = 0; q < 2; q++) {
                        TensorOps ops = impls[q];
                        SplittableRandom r = new SplittableRandom(11);
                        float[] init = new float[3 + m * k + k * n + m * n];
                        for (int i = 0; i < init.length; i++) init[i] = (float) r.nextGaussian();
                        Tensor flat = ops.zeros(1, init.length);
                        ops.upload(init, flat);
                        Tensor a = ta ? ops.view(flat, 3, k, m) : ops.view(flat, 3, m, k);
                        Tensor b = tb ? ops.view(flat, 3 + m * k, n, k) : ops.view(flat, 3 + m * k, k, n);
                        Tensor c = ops.view(flat, 3 + m * k + k * n, m, n);
                        ops.gemm(a, ta, b, tb, c, 0.5f);
                        out[q] = new float[init.length];
                        ops.download(flat, out[q]);
                    }
                    for (int i = 0; i < out[0].length; i++) {
                        assertEquals(out[1][i], out[0][i], 1e-5f * Math.max(1f, Math.abs(out[1][i])),
                                m + "x" + k + "x" + n + ", ta " + ta + ", tb " + tb + ", element " + i);
                    }
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
