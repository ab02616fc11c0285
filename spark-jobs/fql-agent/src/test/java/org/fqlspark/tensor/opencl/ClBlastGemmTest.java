package org.fqlspark.tensor.opencl;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.SplittableRandom;
import java.util.function.Supplier;

import org.fqlspark.tensor.Tensor;
import org.fqlspark.tensor.TestBackends;
import org.junit.jupiter.api.Test;

/**
 * The OpenCL backend's two GEMMs, CLBlast (the default where it loads) and the tiled kernel of {@code fql_kernels.cl}
 * ({@code -Dfql.opencl.gemm=tiled}), against a product summed in double on the host: every transpose pair, products
 * of views at odd offsets into one flat buffer (as the parameters are), beta ≠ 0, and the stacked forms (members
 * apart by a stride, and a shared left operand).
 */
class ClBlastGemmTest {

    @Test
    void clblastLoadsAndIsTheDefault() {
        TestBackends.requireOpenCl();
        assertNull(ClBlastGemm.unavailableReason(), "CLBlast loads here (jocl-blast bundles it for linux-x86_64)");
        OpenClTensorOps ops = with(null, OpenClTensorOps::new);
        assertTrue(ops.gemmName().startsWith("CLBlast"), ops.gemmName());
        assertTrue(ops.describe().contains("GEMM: CLBlast"), ops.describe());
        OpenClTensorOps tiled = with(ClBlastGemm.TILED, OpenClTensorOps::new);
        assertTrue(tiled.gemmName().startsWith("own tiled kernel"), tiled.gemmName());
    }

    @Test
    void aWrongValueOfThePropertyIsRefusedNamingIt() {
        TestBackends.requireOpenCl();
        var e = assertThrows(IllegalArgumentException.class, () -> with("cublas", OpenClTensorOps::new));
        assertTrue(e.getMessage().contains("-Dfql.opencl.gemm") && e.getMessage().contains("cublas"), e.getMessage());
    }

    @Test
    void bothGemmsMatchADoubleSumForEveryTransposeAndOffset() {
        TestBackends.requireOpenCl();
        for (String gemm : new String[] {ClBlastGemm.AUTO, ClBlastGemm.TILED}) {
            OpenClTensorOps ops = with(gemm, OpenClTensorOps::new);
            SplittableRandom rng = new SplittableRandom(11);
            int[][] shapes = {{1, 1, 1}, {7, 5, 3}, {33, 17, 65}, {256, 64, 2}, {64, 96, 128}};
            for (int[] mnk : shapes) {
                for (int tr = 0; tr < 4; tr++) {
                    boolean ta = (tr & 1) != 0;
                    boolean tb = (tr & 2) != 0;
                    check(ops, rng, mnk[0], mnk[1], mnk[2], ta, tb, tr == 3 ? 0.5f : 0f, ops.gemmName());
                }
            }
        }
    }

    @Test
    void bothGemmsMatchADoubleSumStacked() {
        TestBackends.requireOpenCl();
        for (String gemm : new String[] {ClBlastGemm.AUTO, ClBlastGemm.TILED}) {
            OpenClTensorOps ops = with(gemm, OpenClTensorOps::new);
            SplittableRandom rng = new SplittableRandom(12);
            int count = 3;
            for (boolean sharedA : new boolean[] {false, true}) {
                for (int tr = 0; tr < 4; tr++) {
                    boolean ta = (tr & 1) != 0;
                    boolean tb = (tr & 2) != 0;
                    int m = 9;
                    int n = 6;
                    int k = 5;
                    int aRows = ta ? k : m;
                    int aCols = ta ? m : k;
                    int bRows = tb ? n : k;
                    int bCols = tb ? k : n;
                    float[] a = random(rng, (sharedA ? 1 : count) * aRows * aCols);
                    float[] b = random(rng, count * bRows * bCols);
                    Tensor flat = ops.zeros(1, 3 + a.length + b.length + count * m * n);
                    Tensor av = ops.view(flat, 3, (sharedA ? 1 : count) * aRows, aCols);
                    Tensor bv = ops.view(flat, 3 + a.length, count * bRows, bCols);
                    Tensor cv = ops.view(flat, 3 + a.length + b.length, count * m, n);
                    ops.upload(a, av);
                    ops.upload(b, bv);
                    ops.gemmStacked(count, av, sharedA, ta, bv, tb, cv);
                    float[] c = new float[count * m * n];
                    ops.download(cv, c);
                    for (int j = 0; j < count; j++) {
                        double[] expected = product(a, sharedA ? 0 : j * aRows * aCols, ta, b, j * bRows * bCols, tb, m, n, k, null, 0f);
                        for (int i = 0; i < m * n; i++) {
                            assertEquals(expected[i], c[j * m * n + i], 1e-5 * (1 + Math.abs(expected[i])),
                                    ops.gemmName() + ": member " + j + " of a stacked " + (sharedA ? "shared-A " : "") + "product, transposes "
                                            + ta + "/" + tb + ", element " + i);
                        }
                    }
                }
            }
        }
    }

    private static void check(OpenClTensorOps ops, SplittableRandom rng, int m, int n, int k, boolean ta, boolean tb, float beta, String gemm) {
        int aRows = ta ? k : m;
        int aCols = ta ? m : k;
        int bRows = tb ? n : k;
        int bCols = tb ? k : n;
        float[] a = random(rng, aRows * aCols);
        float[] b = random(rng, bRows * bCols);
        float[] c0 = random(rng, m * n);
        // views at odd offsets of one flat buffer, as the layers' weights are views of the parameter vector
        Tensor flat = ops.zeros(1, 5 + a.length + 7 + b.length + 1 + c0.length);
        Tensor av = ops.view(flat, 5, aRows, aCols);
        Tensor bv = ops.view(flat, 5 + a.length + 7, bRows, bCols);
        Tensor cv = ops.view(flat, 5 + a.length + 7 + b.length + 1, m, n);
        ops.upload(a, av);
        ops.upload(b, bv);
        ops.upload(c0, cv);
        ops.gemm(av, ta, bv, tb, cv, beta);
        float[] c = new float[m * n];
        ops.download(cv, c);
        double[] expected = product(a, 0, ta, b, 0, tb, m, n, k, c0, beta);
        for (int i = 0; i < m * n; i++) {
            assertEquals(expected[i], c[i], 1e-5 * (1 + Math.abs(expected[i])),
                    gemm + ": " + m + "x" + n + "x" + k + ", transposes " + ta + "/" + tb + ", beta " + beta + ", element " + i);
        }
    }

    private static double[] product(float[] a, int ao, boolean ta, float[] b, int bo, boolean tb, int m, int n, int k, float[] c0, float beta) {
        double[] out = new double[m * n];
        for (int i = 0; i < m; i++) {
            for (int j = 0; j < n; j++) {
                double s = c0 == null ? 0 : (double) beta * c0[i * n + j];
                for (int l = 0; l < k; l++) {
                    double x = ta ? a[ao + l * m + i] : a[ao + i * k + l];
                    double y = tb ? b[bo + j * k + l] : b[bo + l * n + j];
                    s += x * y;
                }
                out[i * n + j] = s;
            }
        }
        return out;
    }

    private static float[] random(SplittableRandom rng, int n) {
        float[] x = new float[n];
        for (int i = 0; i < n; i++) {
            x[i] = (float) (rng.nextDouble() * 2 - 1);
        }
        return x;
    }

    /** Runs {@code make} with {@code fql.opencl.gemm} set to {@code value} (cleared when null), restoring it after. */
    private static <T> T with(String value, Supplier<T> make) {
        String before = System.getProperty(ClBlastGemm.PROPERTY);
        try {
            if (value == null) {
                System.clearProperty(ClBlastGemm.PROPERTY);
            } else {
                System.setProperty(ClBlastGemm.PROPERTY, value);
            }
            return make.get();
        } finally {
            if (before == null) {
                System.clearProperty(ClBlastGemm.PROPERTY);
            } else {
                System.setProperty(ClBlastGemm.PROPERTY, before);
            }
        }
    }
}
