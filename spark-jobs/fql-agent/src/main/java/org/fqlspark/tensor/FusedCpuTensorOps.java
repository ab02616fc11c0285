package org.fqlspark.tensor;

import java.nio.FloatBuffer;

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

    private float[] scratchA = new float[0];
    private float[] scratchB = new float[0];
    private float[] scratchC = new float[0];
    private float[] scratchD = new float[0];

    /** oneDNN's sgemm where it loads (it picks its kernels from the processor's features), else ND4J's GEMM. */
    private final DnnlGemm dnnl;

    /** GEMM through oneDNN where it loads, else ND4J's. */
    public FusedCpuTensorOps() {
        this(true);
    }

    /** {@code useDnnl = false} keeps ND4J's GEMM (OpenBLAS) even where oneDNN loads: for comparisons and tests. */
    public FusedCpuTensorOps(boolean useDnnl) {
        this.dnnl = useDnnl && DnnlGemm.available() ? new DnnlGemm() : null;
    }

    /** True when GEMMs run on oneDNN. */
    public boolean usesDnnl() {
        return dnnl != null;
    }

    @Override
    public String describe() {
        return super.describe() + ", GEMM: " + (dnnl != null ? "oneDNN sgemm (" + DnnlGemm.isa() + ")"
                : "ND4J/OpenBLAS (oneDNN unavailable: " + DnnlGemm.unavailableReason() + ")") + ", fused Java element-wise kernels";
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

    /** The native address of a tensor's first element (tensors are contiguous c-ordered rows, see Nd4jTensor). */
    private static long address(Tensor t) {
        INDArray x = arr(t);
        return x.data().address() + 4L * x.offset();
    }

    // ------------------------------------------------------------------ host memory access

    private static FloatBuffer buffer(INDArray a) {
        return a.data().asNioFloat();
    }

    /** Copies a tensor's values into {@code dst} (which must be long enough). */
    private static float[] read(Tensor t, float[] dst) {
        INDArray a = arr(t);
        buffer(a).get((int) a.offset(), dst, 0, (int) a.length());
        return dst;
    }

    private static void write(float[] src, Tensor t) {
        INDArray a = arr(t);
        buffer(a).put((int) a.offset(), src, 0, (int) a.length());
    }

    private float[] a(long n) {
        if (scratchA.length < n) scratchA = new float[(int) n];
        return scratchA;
    }

    private float[] b(long n) {
        if (scratchB.length < n) scratchB = new float[(int) n];
        return scratchB;
    }

    private float[] c(long n) {
        if (scratchC.length < n) scratchC = new float[(int) n];
        return scratchC;
    }

    private float[] d(long n) {
        if (scratchD.length < n) scratchD = new float[(int) n];
        return scratchD;
    }

    // ------------------------------------------------------------------ operations

    @Override
    public void biasGelu(Tensor z, Tensor bias, Tensor out) {
        int rows = z.rows();
        int cols = z.cols();
        int n = rows * cols;
        float[] x = read(z, a(n));
        Kernels.addRowVector(x, 0, read(bias, b(cols)), 0, rows, cols);
        write(x, z);
        float[] y = c(n);
        Kernels.gelu(x, 0, y, 0, n);
        write(y, out);
    }

    @Override
    public void addBias(Tensor z, Tensor bias) {
        float[] x = read(z, a(z.size()));
        Kernels.addRowVector(x, 0, read(bias, b(z.cols())), 0, z.rows(), z.cols());
        write(x, z);
    }

    @Override
    public void geluBackward(Tensor grad, Tensor z) {
        int n = Math.toIntExact(z.size());
        float[] g = read(grad, a(n));
        Kernels.geluBackward(g, 0, read(z, b(n)), 0, c(n), n);
        write(g, grad);
    }

    @Override
    public void layerNorm(Tensor x, Tensor scale, Tensor bias, float eps, Tensor xhat, Tensor invStd, Tensor out) {
        int rows = x.rows();
        int cols = x.cols();
        int n = rows * cols;
        float[] in = read(x, a(n));
        float[] params = b(2L * cols);
        INDArray s = arr(scale);
        INDArray bi = arr(bias);
        buffer(s).get((int) s.offset(), params, 0, cols);
        buffer(bi).get((int) bi.offset(), params, cols, cols);
        float[] y = c(n);
        float[] tmp = d(cols + rows);
        float[] inv = new float[rows];
        Kernels.layerNorm(in, 0, params, 0, params, cols, eps, y, 0, inv, 0, tmp, rows, cols);
        write(in, xhat);
        write(y, out);
        write(inv, invStd);
    }

    @Override
    public void layerNormBackward(Tensor gradOut, Tensor xhat, Tensor invStd, Tensor scale,
                                  Tensor gradIn, Tensor gradScale, Tensor gradBias) {
        int rows = gradOut.rows();
        int cols = gradOut.cols();
        int n = rows * cols;
        float[] dOut = read(gradOut, a(n));
        float[] xh = read(xhat, b(n));
        float[] s = read(scale, new float[cols]);
        float[] inv = read(invStd, new float[rows]);
        float[] dScale = gradScale == null ? null : read(gradScale, new float[cols]);
        float[] dBias = gradBias == null ? null : read(gradBias, new float[cols]);
        Kernels.layerNormBackward(dOut, 0, xh, 0, inv, 0, s, 0, dScale, 0, dBias, 0, c(2L * cols), rows, cols);
        write(dOut, gradIn);
        if (dScale != null) write(dScale, gradScale);
        if (dBias != null) write(dBias, gradBias);
    }

    @Override
    public void columnSums(Tensor x, Tensor out, boolean accumulate) {
        int cols = x.cols();
        float[] sums = accumulate ? read(out, new float[cols]) : new float[cols];
        Kernels.columnSums(read(x, a(x.size())), 0, sums, 0, x.rows(), cols, true);
        write(sums, out);
    }

    /** Adam in chunks: large parameter vectors stream through cache-sized heap blocks in one pass. */
    @Override
    public void adam(Tensor params, Tensor grads, Tensor m, Tensor v,
                     double lr, double beta1, double beta2, double eps, long step) {
        INDArray pa = arr(params);
        INDArray ga = arr(grads);
        INDArray ma = arr(m);
        INDArray va = arr(v);
        FloatBuffer pb = buffer(pa);
        FloatBuffer gb = buffer(ga);
        FloatBuffer mb = buffer(ma);
        FloatBuffer vb = buffer(va);
        int n = (int) pa.length();
        float[] p = a(CHUNK);
        float[] g = b(CHUNK);
        float[] mm = c(CHUNK);
        float[] vv = d(CHUNK);
        for (int start = 0; start < n; start += CHUNK) {
            int len = Math.min(CHUNK, n - start);
            pb.get((int) pa.offset() + start, p, 0, len);
            gb.get((int) ga.offset() + start, g, 0, len);
            mb.get((int) ma.offset() + start, mm, 0, len);
            vb.get((int) va.offset() + start, vv, 0, len);
            Kernels.adam(p, 0, g, 0, mm, 0, vv, 0, len, lr, beta1, beta2, eps, step);
            pb.put((int) pa.offset() + start, p, 0, len);
            mb.put((int) ma.offset() + start, mm, 0, len);
            vb.put((int) va.offset() + start, vv, 0, len);
        }
    }

    @Override
    public void polyak(Tensor target, Tensor source, double tau) {
        INDArray ta = arr(target);
        INDArray sa = arr(source);
        FloatBuffer tb = buffer(ta);
        FloatBuffer sb = buffer(sa);
        int n = (int) ta.length();
        float[] x = a(CHUNK);
        float[] y = b(CHUNK);
        for (int start = 0; start < n; start += CHUNK) {
            int len = Math.min(CHUNK, n - start);
            tb.get((int) ta.offset() + start, x, 0, len);
            sb.get((int) sa.offset() + start, y, 0, len);
            Kernels.polyak(x, 0, y, 0, len, tau);
            tb.put((int) ta.offset() + start, x, 0, len);
        }
    }

    @Override
    public double sumOfSquares(Tensor x) {
        INDArray xa = arr(x);
        FloatBuffer fb = buffer(xa);
        int n = (int) xa.length();
        float[] buf = a(CHUNK);
        double total = 0;
        for (int start = 0; start < n; start += CHUNK) {
            int len = Math.min(CHUNK, n - start);
            fb.get((int) xa.offset() + start, buf, 0, len);
            total += Kernels.sumOfSquares(buf, 0, len);
        }
        return total;
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
