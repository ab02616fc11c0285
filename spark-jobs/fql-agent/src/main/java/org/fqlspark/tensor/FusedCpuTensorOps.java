package org.fqlspark.tensor;

import java.nio.FloatBuffer;
import java.util.HashMap;
import java.util.Map;

import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * The CPU backend's default {@link TensorOps}: ND4J holds the memory and runs GEMM (OpenBLAS), and the element-wise
 * work runs as fused Java loops ({@link Kernels}) over copies of ND4J's host memory. Composed from ND4J ops, one
 * bias + GELU is eight passes over memory with ~15 µs of op set-up each; fused it is one vectorised pass, which
 * matters most for small networks and for Adam over millions of parameters. Checked against the same golden dumps
 * as {@link Nd4jTensorOps}.
 */
public final class FusedCpuTensorOps extends Nd4jTensorOps {

    private static final int CHUNK = 16_384;

    /**
     * Element-wise work smaller than this stays on one thread. A hand-off wakes the parked helper and then the
     * caller: at the quick-start size (36K parameters) two threads took Adam from 0.05 to 0.09 ms and the gradient
     * norm from 0.04 to 0.13-0.17 ms per step (profiled, 2-core machine). Paper-size tensors (256 x 512 and up) are
     * all above it.
     */
    static final int PARALLEL_MIN = 65_536;

    private static final ThreadLocal<TwoWay> HELPERS = ThreadLocal.withInitial(TwoWay::new);

    /** Elements per block of the block kernels: a block's arrays stay in the L1/L2 cache. */
    static final int BLOCK = 4096;

    /** Heap scratch of one thread: zero-offset arrays, which C2 vectorises (see {@link Kernels}). */
    private static final class Scratch {
        private final float[][] slots = new float[10][0];

        /** The scratch array in {@code slot} (0..9), at least {@code n} long; contents unspecified. */
        float[] get(int slot, long n) {
            if (slots[slot].length < n) slots[slot] = new float[Math.toIntExact(n)];
            return slots[slot];
        }

        float[] a(long n) {
            return get(0, n);
        }

        float[] b(long n) {
            return get(1, n);
        }

        float[] c(long n) {
            return get(2, n);
        }

        float[] d(long n) {
            return get(3, n);
        }

        /** A row vector repeated over a block of rows, and the row it was built from. */
        private record Tile(float[] row, int rows, float[] data) {
        }

        /** The row vector of one member ({@code member} 0 for a plain {@code [1, cols]} tensor) of a tensor. */
        private record TileKey(Tensor tensor, int member) {
        }

        /** Tiles by the row vector they repeat (biases, LayerNorm scales), checked against its current values. */
        private final Map<TileKey, Tile> tiles = new HashMap<>();

        /**
         * {@code rows} copies of {@code row[ro, ro + cols)} ({@link Kernels#tile}), the values of row {@code member}
         * of {@code tensor}. Rebuilt only when the values or the row count differ from the last call for that row:
         * within a training step the Euler steps and the critic passes use the same biases many times, and Adam
         * changes them once.
         */
        float[] tile(Tensor tensor, int member, float[] row, int ro, int cols, int rows) {
            TileKey key = new TileKey(tensor, member);
            Tile t = tiles.get(key);
            if (t != null && t.rows() == rows && t.row().length == cols
                    && java.util.Arrays.equals(t.row(), 0, cols, row, ro, ro + cols)) {
                return t.data();
            }
            if (tiles.size() >= 256) {
                tiles.clear();   // many networks on one ops instance: start over rather than grow
            }
            float[] data = t != null && t.data().length >= rows * cols ? t.data() : new float[rows * cols];
            Kernels.tile(row, ro, cols, data, rows);
            tiles.put(key, new Tile(java.util.Arrays.copyOfRange(row, ro, ro + cols), rows, data));
            return data;
        }

        private float[][] rows = new float[4][0];

        /** Four scratch rows of at least {@code cols} (for {@link Kernels#addColumnSums}). */
        float[][] rows(int cols) {
            if (rows[0].length < cols) rows = new float[4][cols];
            return rows;
        }
    }

    private final Scratch[] scratch = {new Scratch(), new Scratch()};

    /** oneDNN's sgemm where it loads (it picks its kernels from the processor's features), else ND4J's GEMM. */
    private final DnnlGemm dnnl;
    private final int threads;

    /** GEMM through oneDNN where it loads, else ND4J's; element-wise work on {@link #defaultThreads()} thread(s). */
    public FusedCpuTensorOps() {
        this(true, defaultThreads());
    }

    /** {@code useDnnl = false} keeps ND4J's GEMM (OpenBLAS) even where oneDNN loads: for comparisons and tests. */
    public FusedCpuTensorOps(boolean useDnnl) {
        this(useDnnl, defaultThreads());
    }

    /** @param threads 1 or 2: element-wise kernels over rows split between the caller and one helper thread */
    public FusedCpuTensorOps(boolean useDnnl, int threads) {
        if (threads != 1 && threads != 2) {
            throw new IllegalArgumentException("element-wise threads must be 1 or 2, was " + threads);
        }
        this.dnnl = useDnnl && DnnlGemm.available() ? new DnnlGemm() : null;
        this.threads = threads;
    }

    /**
     * Element-wise threads: {@code -Dfql.kernelThreads=1|2} when given; otherwise two when the process's thread
     * budget ({@code OMP_NUM_THREADS}, which the launcher sets to 2 and Spark executors to the task's share) and the
     * cores allow it, else one. Measured on a quiet 2-core machine (BENCHMARKS.md, 2026-12-02): two threads took the
     * paper-size step from 100 to 89 ms and batch-1000 acting from 9.7 to 8.1 ms; tensors under
     * {@link #PARALLEL_MIN} elements are never split. On a machine shared with other busy processes one thread did
     * better (the helper waits for a descheduled core): pass {@code -Dfql.kernelThreads=1} there.
     */
    public static int defaultThreads() {
        String v = System.getProperty("fql.kernelThreads");
        if (v == null) {
            return budget(System.getenv("OMP_NUM_THREADS"), Runtime.getRuntime().availableProcessors());
        }
        if (!v.equals("1") && !v.equals("2")) {
            throw new IllegalArgumentException("-Dfql.kernelThreads must be 1 or 2, was '" + v + "'");
        }
        return Integer.parseInt(v);
    }

    /** Two element-wise threads when both the OpenMP thread budget and the cores are at least two. */
    static int budget(String ompNumThreads, int cores) {
        int omp;
        try {
            omp = ompNumThreads == null ? cores : Integer.parseInt(ompNumThreads.trim());
        } catch (NumberFormatException e) {
            omp = 1;
        }
        return omp >= 2 && cores >= 2 ? 2 : 1;
    }

    /** True when GEMMs run on oneDNN. */
    public boolean usesDnnl() {
        return dnnl != null;
    }

    @Override
    public String describe() {
        return super.describe() + ", GEMM: " + (dnnl != null ? "oneDNN sgemm (" + DnnlGemm.isa() + ")"
                : "ND4J/OpenBLAS (oneDNN unavailable: " + DnnlGemm.unavailableReason() + ")")
                + ", fused Java element-wise kernels on " + threads + " thread" + (threads > 1 ? "s" : "");
    }

    @Override
    public void gemm(Tensor a, boolean transposeA, Tensor b, boolean transposeB, Tensor c, float beta) {
        if (dnnl == null) {
            super.gemm(a, transposeA, b, transposeB, c, beta);
            return;
        }
        int m = transposeA ? a.cols() : a.rows();
        int k = transposeA ? a.rows() : a.cols();
        int n = transposeB ? b.rows() : b.cols();
        int kb = transposeB ? b.cols() : b.rows();
        if (kb != k || c.rows() != m || c.cols() != n) {
            throw new IllegalArgumentException("gemm shapes do not fit: op(a) " + m + "x" + k + ", op(b) " + kb + "x" + n
                    + ", c " + c.rows() + "x" + c.cols());
        }
        dnnl.sgemm(transposeA, transposeB, m, n, k, address(a), a.cols(), address(b), b.cols(), beta, address(c), c.cols());
    }

    /**
     * One call, {@code count} oneDNN products on the members' addresses (the same products, so the same bits, as
     * a GEMM per member; on the CPU the saving is host work, not launches).
     */
    @Override
    public void gemmStacked(int count, Tensor a, boolean sharedA, boolean transposeA, Tensor b, boolean transposeB, Tensor c) {
        if (dnnl == null) {
            for (int j = 0; j < count; j++) {
                super.gemm(sharedA ? a : member(a, j, count), transposeA, member(b, j, count), transposeB, member(c, j, count), 0f);
            }
            return;
        }
        if ((!sharedA && a.rows() % count != 0) || b.rows() % count != 0 || c.rows() % count != 0) {
            throw new IllegalArgumentException("stacked gemm: rows " + a.rows() + ", " + b.rows() + ", " + c.rows()
                    + " do not split into " + count + " members");
        }
        int ar = sharedA ? a.rows() : a.rows() / count;
        int br = b.rows() / count;
        int cr = c.rows() / count;
        int m = transposeA ? a.cols() : ar;
        int k = transposeA ? ar : a.cols();
        int n = transposeB ? br : b.cols();
        int kb = transposeB ? b.cols() : br;
        if (kb != k || cr != m || c.cols() != n) {
            throw new IllegalArgumentException("stacked gemm shapes do not fit: op(a) " + m + "x" + k + ", op(b) " + kb + "x" + n
                    + ", c " + cr + "x" + c.cols() + " per member");
        }
        for (int j = 0; j < count; j++) {
            long aj = sharedA ? address(a) : address(a) + 4L * j * ar * a.cols();
            dnnl.sgemm(transposeA, transposeB, m, n, k, aj, a.cols(), address(b) + 4L * j * br * b.cols(), b.cols(),
                    0f, address(c) + 4L * j * cr * c.cols(), c.cols());
        }
    }

    /** The native address of a tensor's first element (tensors are contiguous c-ordered rows, see Nd4jTensor). */
    private static long address(Tensor t) {
        return ((Nd4jTensor) t).address();
    }

    // ------------------------------------------------------------------ host memory access

    /** Copies {@code len} values of a tensor from element {@code from} into {@code dst[0, len)}. */
    private static float[] read(Tensor t, long from, float[] dst, int len) {
        Nd4jTensor a = (Nd4jTensor) t;
        a.host().get((int) (a.offset() + from), dst, 0, len);
        return dst;
    }

    private static float[] read(Tensor t, float[] dst) {
        return read(t, 0, dst, (int) t.size());
    }

    private static void write(float[] src, int len, Tensor t, long from) {
        Nd4jTensor a = (Nd4jTensor) t;
        a.host().put((int) (a.offset() + from), src, 0, len);
    }

    private static void write(float[] src, Tensor t) {
        write(src, (int) t.size(), t, 0);
    }

    /** Row ranges: rows split in two when the work is large enough and two threads are allowed. */
    private boolean split(long elements, int rows) {
        return threads > 1 && elements >= PARALLEL_MIN && rows >= 2;
    }

    /** Runs {@code part(index, firstRow, endRow)} over all rows, in two halves at once when worth it. */
    private void overRows(int rows, int cols, RowPart part) {
        inHalves(split((long) rows * cols, rows), rows / 2, rows, part);
    }

    /** Runs {@code part} over {@code [0, end)}: at once, or when {@code split} as {@code [0, mid)} and {@code [mid, end)} together. */
    private void inHalves(boolean split, int mid, int end, RowPart part) {
        if (!split) {
            part.run(scratch[0], 0, end);
            return;
        }
        HELPERS.get().run(h -> {
            if (h == 0) {
                part.run(scratch[0], 0, mid);
            } else {
                part.run(scratch[1], mid, end);
            }
        });
    }

    @FunctionalInterface
    private interface RowPart {
        void run(Scratch s, int firstRow, int endRow);
    }

    // ------------------------------------------------------------------ operations

    @Override
    public void fill(Tensor dst, float value) {
        int n = Math.toIntExact(dst.size());
        float[] v = scratch[0].a(Math.min(n, CHUNK));
        java.util.Arrays.fill(v, 0, Math.min(n, CHUNK), value);
        for (int start = 0; start < n; start += CHUNK) {
            write(v, Math.min(CHUNK, n - start), dst, start);
        }
    }

    @Override
    public void setColumn(Tensor dst, int col, float value) {
        Nd4jTensor a = (Nd4jTensor) dst;
        FloatBuffer b = a.host();
        int base = a.offset();
        for (int r = 0; r < dst.rows(); r++) {
            b.put(base + r * dst.cols() + col, value);
        }
    }

    @Override
    public void addDividedToColumns(Tensor dst, int firstCol, Tensor src, float divisor) {
        int rows = dst.rows();
        int w = dst.cols();
        int d = src.cols();
        float[] x = read(dst, scratch[0].a(dst.size()));
        float[] v = read(src, scratch[0].b(src.size()));
        for (int r = 0; r < rows; r++) {
            for (int j = 0; j < d; j++) {
                x[r * w + firstCol + j] += v[r * d + j] / divisor;
            }
        }
        write(x, dst);
    }

    @Override
    public void copy(Tensor src, Tensor dst) {
        int n = Math.toIntExact(src.size());
        float[] v = scratch[0].a(Math.min(n, CHUNK));
        for (int start = 0; start < n; start += CHUNK) {
            int len = Math.min(CHUNK, n - start);
            read(src, start, v, len);
            write(v, len, dst, start);
        }
    }

    /** Rows per block of the block kernels for rows of {@code cols} values (at least one). */
    private static int blockRows(int cols) {
        return Math.max(1, BLOCK / Math.max(1, cols));
    }

    /**
     * Row {@code member} of each of the row-vector tensors {@code rows[k]} ({@code [1, cols]}, or {@code [count, cols]}
     * for a stack), side by side in one array ({@code k · cols} onwards).
     */
    private static float[] rowVectors(int member, Tensor... rows) {
        int cols = rows[0].cols();
        float[] out = new float[rows.length * cols];
        for (int k = 0; k < rows.length; k++) {
            Nd4jTensor t = (Nd4jTensor) rows[k];
            t.host().get(t.offset() + member * cols, out, k * cols, cols);
        }
        return out;
    }

    /** Rows per member of a stack of {@code count}, checked. */
    private static int memberRows(Tensor stacked, int count) {
        if (count <= 0 || stacked.rows() % count != 0) {
            throw new IllegalArgumentException(stacked.rows() + " rows do not split into " + count + " members");
        }
        return stacked.rows() / count;
    }

    @Override
    public void biasGelu(Tensor z, Tensor bias, Tensor out) {
        biasGelu(z, bias, out, 0, 0, z.rows());
    }

    /** One call for all members: each member's rows as {@link #biasGelu} would do them alone (same bits). */
    @Override
    public void biasGeluStacked(int count, Tensor z, Tensor bias, Tensor out) {
        int rows = memberRows(z, count);
        for (int j = 0; j < count; j++) {
            biasGelu(z, bias, out, j, j * rows, rows);
        }
    }

    /** {@link #biasGelu} on rows {@code [first, first + rows)} with row {@code member} of {@code bias}. */
    private void biasGelu(Tensor z, Tensor bias, Tensor out, int member, int first, int rowCount) {
        int cols = z.cols();
        float[] b = rowVectors(member, bias);
        overRows(rowCount, cols, (s, r0, r1) -> {
            int br = Math.min(blockRows(cols), r1 - r0);
            float[] biasTile = s.tile(bias, member, b, 0, cols, br);
            float[] x = s.get(0, (long) br * cols);
            float[] y = s.get(1, (long) br * cols);
            for (int q = r0; q < r1; q += br) {
                int n = Math.min(br, r1 - q) * cols;
                long from = (long) (first + q) * cols;
                read(z, from, x, n);
                Kernels.biasGelu(x, biasTile, y, n);
                write(x, n, z, from);
                write(y, n, out, from);
            }
        });
    }

    /**
     * Fused in one pass per block of rows ({@link Kernels#biasGeluLayerNorm}): the GELU output never leaves the
     * cache and {@code gelu} is not written. Same bits as {@link #biasGelu} then {@link #layerNorm}.
     */
    @Override
    public void biasGeluLayerNorm(Tensor z, Tensor bias, Tensor scale, Tensor lnBias, float eps,
                                  Tensor gelu, Tensor xhat, Tensor invStd, Tensor out) {
        biasGeluLayerNorm(z, bias, scale, lnBias, eps, xhat, invStd, out, 0, 0, z.rows());
    }

    /** One call for all members: each member's rows as {@link #biasGeluLayerNorm} would do them alone (same bits). */
    @Override
    public void biasGeluLayerNormStacked(int count, Tensor z, Tensor bias, Tensor scale, Tensor lnBias, float eps,
                                         Tensor gelu, Tensor xhat, Tensor invStd, Tensor out) {
        int rows = memberRows(z, count);
        for (int j = 0; j < count; j++) {
            biasGeluLayerNorm(z, bias, scale, lnBias, eps, xhat, invStd, out, j, j * rows, rows);
        }
    }

    /** {@link #biasGeluLayerNorm} on rows {@code [first, first + rows)} with row {@code member} of the row vectors. */
    private void biasGeluLayerNorm(Tensor z, Tensor bias, Tensor scale, Tensor lnBias, float eps, Tensor xhat, Tensor invStd,
                                   Tensor out, int member, int first, int rowCount) {
        int cols = z.cols();
        float[] p = rowVectors(member, bias, scale, lnBias);
        overRows(rowCount, cols, (s, r0, r1) -> {
            int br = Math.min(blockRows(cols), r1 - r0);
            long bn = (long) br * cols;
            float[] biasTile = s.tile(bias, member, p, 0, cols, br);
            float[] scaleTile = s.tile(scale, member, p, cols, cols, br);
            float[] lnBiasTile = s.tile(lnBias, member, p, 2 * cols, cols, br);
            float[] x = s.get(0, bn);
            float[] xh = s.get(1, bn);
            float[] y = s.get(2, bn);
            float[] sq = s.get(3, bn);
            float[] inv = s.get(7, br);
            for (int q = r0; q < r1; q += br) {
                int rows = Math.min(br, r1 - q);
                int n = rows * cols;
                long from = (long) (first + q) * cols;
                read(z, from, x, n);
                Kernels.biasGeluLayerNorm(x, biasTile, scaleTile, lnBiasTile, eps, xh, y, inv, sq, rows, cols);
                write(x, n, z, from);
                write(xh, n, xhat, from);
                write(y, n, out, from);
                write(inv, rows, invStd, first + q);
            }
        });
    }

    /** Fused in one pass per block of rows ({@link Kernels#layerNormGeluBackward}); same bits as the two ops in turn. */
    @Override
    public void layerNormGeluBackward(Tensor gradOut, Tensor xhat, Tensor invStd, Tensor scale, Tensor z,
                                      Tensor gradIn, Tensor gradScale, Tensor gradBias) {
        layerNormGeluBackward(gradOut, xhat, invStd, scale, z, gradIn, gradScale, gradBias, 0, 0, gradOut.rows());
    }

    /** One call for all members: each member's rows as {@link #layerNormGeluBackward} would do them alone (same bits). */
    @Override
    public void layerNormGeluBackwardStacked(int count, Tensor gradOut, Tensor xhat, Tensor invStd, Tensor scale, Tensor z,
                                             Tensor gradIn, Tensor gradScale, Tensor gradBias) {
        int rows = memberRows(gradOut, count);
        for (int j = 0; j < count; j++) {
            layerNormGeluBackward(gradOut, xhat, invStd, scale, z, gradIn, gradScale, gradBias, j, j * rows, rows);
        }
    }

    /**
     * {@link #layerNormGeluBackward} on rows {@code [first, first + rows)} with row {@code member} of {@code scale},
     * accumulating into row {@code member} of {@code gradScale} and {@code gradBias}.
     */
    private void layerNormGeluBackward(Tensor gradOut, Tensor xhat, Tensor invStd, Tensor scale, Tensor z, Tensor gradIn,
                                       Tensor gradScale, Tensor gradBias, int member, int first, int rowCount) {
        int cols = gradOut.cols();
        float[] sc = rowVectors(member, scale);
        float[][] dScale = new float[2][];
        float[][] dBias = new float[2][];
        overRows(rowCount, cols, (s, r0, r1) -> {
            int br = Math.min(blockRows(cols), r1 - r0);
            long bn = (long) br * cols;
            float[] scaleTile = s.tile(scale, member, sc, 0, cols, br);
            float[] d = s.get(0, bn);
            float[] xh = s.get(1, bn);
            float[] zz = s.get(2, bn);
            float[] t1 = s.get(3, bn);
            float[] t2 = s.get(5, bn);
            float[] inv = s.get(6, br);
            float[] ds = gradScale == null ? null : new float[cols];
            float[] db = gradBias == null ? null : new float[cols];
            for (int q = r0; q < r1; q += br) {
                int rows = Math.min(br, r1 - q);
                int n = rows * cols;
                long from = (long) (first + q) * cols;
                read(gradOut, from, d, n);
                read(xhat, from, xh, n);
                read(z, from, zz, n);
                read(invStd, first + q, inv, rows);
                Kernels.layerNormGeluBackward(d, xh, inv, scaleTile, zz, ds, db, t1, t2, s.rows(cols), rows, cols);
                write(d, n, gradIn, from);
            }
            int part = s == scratch[0] ? 0 : 1;
            dScale[part] = ds;
            dBias[part] = db;
        });
        accumulate(gradScale, member, dScale);
        accumulate(gradBias, member, dBias);
    }

    @Override
    public void addBias(Tensor z, Tensor bias) {
        addBias(z, bias, 0, 0, z.rows());
    }

    @Override
    public void addBiasStacked(int count, Tensor z, Tensor bias) {
        int rows = memberRows(z, count);
        for (int j = 0; j < count; j++) {
            addBias(z, bias, j, j * rows, rows);
        }
    }

    private void addBias(Tensor z, Tensor bias, int member, int first, int rowCount) {
        Scratch s = scratch[0];
        int cols = z.cols();
        float[] x = read(z, (long) first * cols, s.a((long) rowCount * cols), rowCount * cols);
        Kernels.addRowVector(x, 0, read(bias, (long) member * cols, s.b(cols), cols), 0, rowCount, cols);
        write(x, rowCount * cols, z, (long) first * cols);
    }

    @Override
    public void geluBackward(Tensor grad, Tensor z) {
        int cols = z.cols();
        overRows(z.rows(), cols, (s, r0, r1) -> {
            int n = (r1 - r0) * cols;
            float[] g = read(grad, (long) r0 * cols, s.a(n), n);
            Kernels.geluBackward(g, 0, read(z, (long) r0 * cols, s.b(n), n), 0, s.c(n), n);
            write(g, n, grad, (long) r0 * cols);
        });
    }

    @Override
    public void layerNorm(Tensor x, Tensor scale, Tensor bias, float eps, Tensor xhat, Tensor invStd, Tensor out) {
        int cols = x.cols();
        overRows(x.rows(), cols, (s, r0, r1) -> {
            int rows = r1 - r0;
            int n = rows * cols;
            float[] in = read(x, (long) r0 * cols, s.a(n), n);
            float[] params = s.b(2L * cols);
            Nd4jTensor sa = (Nd4jTensor) scale;
            Nd4jTensor ba = (Nd4jTensor) bias;
            sa.host().get(sa.offset(), params, 0, cols);
            ba.host().get(ba.offset(), params, cols, cols);
            float[] y = s.c(n);
            float[] tmp = s.d(cols + rows);
            float[] inv = new float[rows];
            Kernels.layerNorm(in, 0, params, 0, params, cols, eps, y, 0, inv, 0, tmp, rows, cols);
            write(in, n, xhat, (long) r0 * cols);
            write(y, n, out, (long) r0 * cols);
            write(inv, rows, invStd, r0);
        });
    }

    @Override
    public void layerNormBackward(Tensor gradOut, Tensor xhat, Tensor invStd, Tensor scale,
                                  Tensor gradIn, Tensor gradScale, Tensor gradBias) {
        int cols = gradOut.cols();
        float[] sc = read(scale, new float[cols]);
        float[][] dScale = new float[2][];
        float[][] dBias = new float[2][];
        overRows(gradOut.rows(), cols, (s, r0, r1) -> {
            int rows = r1 - r0;
            int n = rows * cols;
            int part = s == scratch[0] ? 0 : 1;
            float[] dOut = read(gradOut, (long) r0 * cols, s.a(n), n);
            float[] xh = read(xhat, (long) r0 * cols, s.b(n), n);
            float[] inv = read(invStd, r0, new float[rows], rows);
            float[] ds = gradScale == null ? null : new float[cols];
            float[] db = gradBias == null ? null : new float[cols];
            Kernels.layerNormBackward(dOut, 0, xh, 0, inv, 0, sc, 0, ds, 0, db, 0, s.c(2L * cols), rows, cols);
            write(dOut, n, gradIn, (long) r0 * cols);
            dScale[part] = ds;
            dBias[part] = db;
        });
        accumulate(gradScale, 0, dScale);
        accumulate(gradBias, 0, dBias);
    }

    /**
     * {@code target[member] += Σ partials} (non-null partials; row {@code member} of a {@code [count, cols]}
     * target), for parameter gradients summed over row blocks.
     */
    private static void accumulate(Tensor target, int member, float[][] partials) {
        if (target == null) return;
        int cols = target.cols();
        float[] sum = read(target, (long) member * cols, new float[cols], cols);
        for (float[] p : partials) {
            if (p == null) continue;
            for (int j = 0; j < cols; j++) {
                sum[j] += p[j];
            }
        }
        write(sum, cols, target, (long) member * cols);
    }

    @Override
    public void columnSums(Tensor x, Tensor out, boolean accumulate) {
        columnSums(x, out, accumulate, 0, 0, x.rows());
    }

    @Override
    public void columnSumsStacked(int count, Tensor x, Tensor out) {
        int rows = memberRows(x, count);
        for (int j = 0; j < count; j++) {
            columnSums(x, out, false, j, j * rows, rows);
        }
    }

    /** Column sums of rows {@code [first, first + rows)} of {@code x} into row {@code member} of {@code out}. */
    private void columnSums(Tensor x, Tensor out, boolean accumulate, int member, int first, int rowCount) {
        int cols = x.cols();
        float[] sums = accumulate ? read(out, (long) member * cols, new float[cols], cols) : new float[cols];
        Scratch s = scratch[0];
        int br = Math.min(blockRows(cols), rowCount);
        float[] block = s.a((long) br * cols);
        for (int q = 0; q < rowCount; q += br) {
            int rows = Math.min(br, rowCount - q);
            read(x, (long) (first + q) * cols, block, rows * cols);
            Kernels.addColumnSums(block, sums, rows, cols, s.rows(cols));
        }
        write(sums, cols, out, (long) member * cols);
    }

    /** Runs {@code part(scratch, from, to)} over {@code [0, n)} of a flat vector, in two halves at once when worth it. */
    private void overFlat(int n, RowPart part) {
        inHalves(split(n, n), (n / 2) & ~15, n, part);
    }

    /** Adam in chunks: large parameter vectors stream through cache-sized heap blocks in one pass. */
    @Override
    public void adam(Tensor params, Tensor grads, Tensor m, Tensor v,
                     double lr, double beta1, double beta2, double eps, long step) {
        overFlat(Math.toIntExact(params.size()), (s, from, to) -> {
            float[] p = s.a(CHUNK);
            float[] g = s.b(CHUNK);
            float[] mm = s.c(CHUNK);
            float[] vv = s.d(CHUNK);
            for (int start = from; start < to; start += CHUNK) {
                int len = Math.min(CHUNK, to - start);
                read(params, start, p, len);
                read(grads, start, g, len);
                read(m, start, mm, len);
                read(v, start, vv, len);
                Kernels.adam(p, 0, g, 0, mm, 0, vv, 0, len, lr, beta1, beta2, eps, step);
                write(p, len, params, start);
                write(mm, len, m, start);
                write(vv, len, v, start);
            }
        });
    }

    @Override
    public void polyak(Tensor target, Tensor source, double tau) {
        overFlat(Math.toIntExact(target.size()), (s, from, to) -> {
            float[] x = s.a(CHUNK);
            float[] y = s.b(CHUNK);
            for (int start = from; start < to; start += CHUNK) {
                int len = Math.min(CHUNK, to - start);
                read(target, start, x, len);
                read(source, start, y, len);
                Kernels.polyak(x, 0, y, 0, len, tau);
                write(x, len, target, start);
            }
        });
    }

    @Override
    public double sumOfSquares(Tensor x) {
        double[] partial = new double[2];
        overFlat(Math.toIntExact(x.size()), (s, from, to) -> {
            float[] buf = s.a(CHUNK);
            double total = 0;
            for (int start = from; start < to; start += CHUNK) {
                int len = Math.min(CHUNK, to - start);
                read(x, start, buf, len);
                total += Kernels.sumOfSquares(buf, 0, len);
            }
            partial[s == scratch[0] ? 0 : 1] = total;
        });
        return partial[0] + partial[1];
    }

    /** Straight through the host buffers: no full download and upload of {@code dst} as the default does. */
    @Override
    public void copyColumns(Tensor src, int srcCol, Tensor dst, int dstCol, int width, boolean clip) {
        LossKernels.checkColumns(src, srcCol, dst, dstCol, width);
        Nd4jTensor s = (Nd4jTensor) src;
        Nd4jTensor d = (Nd4jTensor) dst;
        FloatBuffer sb = s.host();
        FloatBuffer db = d.host();
        for (int r = 0; r < src.rows(); r++) {
            int si = s.offset() + r * src.cols() + srcCol;
            int di = d.offset() + r * dst.cols() + dstCol;
            for (int j = 0; j < width; j++) {
                float v = sb.get(si + j);
                db.put(di + j, clip ? Math.max(-1f, Math.min(1f, v)) : v);
            }
        }
    }

    @Override
    public void upload(float[] src, Tensor dst) {
        if (src.length != dst.size()) {
            throw new IllegalArgumentException("upload of " + src.length + " values into a tensor of " + dst.size());
        }
        write(src, dst);
    }

    @Override
    public void download(Tensor src, float[] dst) {
        read(src, dst);
    }
}
