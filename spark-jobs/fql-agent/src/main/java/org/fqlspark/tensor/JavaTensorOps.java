package org.fqlspark.tensor;

/**
 * {@link TensorOps} in plain Java on heap arrays, with a straightforward (unblocked) GEMM. For acting at small
 * batch sizes, where the JNI set-up of each ND4J call costs more than the arithmetic (a batch-1 action is five
 * matrix-vector products), and for tiny networks. Large training GEMMs belong to {@link FusedCpuTensorOps}
 * (OpenBLAS). Same {@link Kernels} as the fused CPU backend; checked against the same golden dumps.
 */
public final class JavaTensorOps implements TensorOps {

    /** A row-major view of {@code rows × cols} floats of {@code data} starting at {@code offset}. */
    public record JavaTensor(float[] data, int offset, int rows, int cols) implements Tensor {
    }

    private float[] scratch = new float[0];

    private static JavaTensor t(Tensor t) {
        return (JavaTensor) t;
    }

    private float[] scratch(int n) {
        if (scratch.length < n) scratch = new float[n];
        return scratch;
    }

    @Override
    public String describe() {
        return "plain Java (heap arrays, unblocked GEMM)";
    }

    @Override
    public Tensor zeros(int rows, int cols) {
        return new JavaTensor(new float[Math.multiplyExact(rows, cols)], 0, rows, cols);
    }

    @Override
    public Tensor view(Tensor flat, long offset, int rows, int cols) {
        JavaTensor f = t(flat);
        TensorOps.checkView(f.size(), offset, rows, cols);
        return new JavaTensor(f.data(), f.offset() + (int) offset, rows, cols);
    }

    @Override
    public void upload(float[] src, Tensor dst) {
        JavaTensor d = t(dst);
        if (src.length != d.size()) {
            throw new IllegalArgumentException("upload of " + src.length + " values into a tensor of " + d.size());
        }
        System.arraycopy(src, 0, d.data(), d.offset(), src.length);
    }

    @Override
    public void download(Tensor src, float[] dst) {
        JavaTensor s = t(src);
        System.arraycopy(s.data(), s.offset(), dst, 0, (int) s.size());
    }

    @Override
    public void fill(Tensor dst, float value) {
        JavaTensor d = t(dst);
        java.util.Arrays.fill(d.data(), d.offset(), d.offset() + (int) d.size(), value);
    }

    @Override
    public void setColumn(Tensor dst, int col, float value) {
        JavaTensor d = t(dst);
        for (int r = 0; r < d.rows(); r++) {
            d.data()[d.offset() + r * d.cols() + col] = value;
        }
    }

    @Override
    public void addDividedToColumns(Tensor dst, int firstCol, Tensor src, float divisor) {
        JavaTensor d = t(dst);
        JavaTensor s = t(src);
        for (int r = 0; r < s.rows(); r++) {
            int di = d.offset() + r * d.cols() + firstCol;
            int si = s.offset() + r * s.cols();
            for (int j = 0; j < s.cols(); j++) {
                d.data()[di + j] += s.data()[si + j] / divisor;
            }
        }
    }

    @Override
    public void copyColumns(Tensor src, int srcCol, Tensor dst, int dstCol, int width, boolean clip) {
        LossKernels.checkColumns(src, srcCol, dst, dstCol, width);
        JavaTensor s = t(src);
        JavaTensor d = t(dst);
        for (int r = 0; r < s.rows(); r++) {
            int si = s.offset() + r * s.cols() + srcCol;
            int di = d.offset() + r * d.cols() + dstCol;
            for (int j = 0; j < width; j++) {
                float v = s.data()[si + j];
                d.data()[di + j] = clip ? Math.max(-1f, Math.min(1f, v)) : v;
            }
        }
    }

    @Override
    public void copy(Tensor src, Tensor dst) {
        JavaTensor s = t(src);
        JavaTensor d = t(dst);
        System.arraycopy(s.data(), s.offset(), d.data(), d.offset(), (int) s.size());
    }

    @Override
    public void gemm(Tensor a, boolean transposeA, Tensor b, boolean transposeB, Tensor c, float beta) {
        JavaTensor x = t(a);
        JavaTensor y = t(b);
        JavaTensor z = t(c);
        int m = transposeA ? x.cols() : x.rows();
        int k = transposeA ? x.rows() : x.cols();
        int kb = transposeB ? y.cols() : y.rows();
        int n = transposeB ? y.rows() : y.cols();
        if (k != kb || z.rows() != m || z.cols() != n) {
            throw new IllegalArgumentException("gemm shapes do not agree: op(a) " + m + "x" + k + ", op(b) " + kb + "x" + n
                    + ", c " + z.rows() + "x" + z.cols());
        }
        float[] A = x.data();
        float[] B = y.data();
        float[] C = z.data();
        int ao = x.offset();
        int bo = y.offset();
        int co = z.offset();
        if (beta == 0f) {
            java.util.Arrays.fill(C, co, co + m * n, 0f);
        } else if (beta != 1f) {
            for (int i = 0; i < m * n; i++) C[co + i] *= beta;
        }
        if (!transposeB) {
            // C[i, :] += A[i, p] · B[p, :]: the inner loop is a contiguous axpy that C2 vectorises
            for (int i = 0; i < m; i++) {
                int ci = co + i * n;
                for (int p = 0; p < k; p++) {
                    float aip = transposeA ? A[ao + p * m + i] : A[ao + i * k + p];
                    int bp = bo + p * n;
                    for (int j = 0; j < n; j++) {
                        C[ci + j] += aip * B[bp + j];
                    }
                }
            }
        } else {
            // C[i, j] += dot(op(A)[i, :], B[j, :]); op(A)'s row is gathered once per i
            float[] row = scratch(k);
            for (int i = 0; i < m; i++) {
                for (int p = 0; p < k; p++) {
                    row[p] = transposeA ? A[ao + p * m + i] : A[ao + i * k + p];
                }
                int ci = co + i * n;
                for (int j = 0; j < n; j++) {
                    int bj = bo + j * k;
                    float s0 = 0, s1 = 0, s2 = 0, s3 = 0;
                    int p = 0;
                    for (; p + 3 < k; p += 4) {
                        s0 += row[p] * B[bj + p];
                        s1 += row[p + 1] * B[bj + p + 1];
                        s2 += row[p + 2] * B[bj + p + 2];
                        s3 += row[p + 3] * B[bj + p + 3];
                    }
                    for (; p < k; p++) {
                        s0 += row[p] * B[bj + p];
                    }
                    C[ci + j] += (s0 + s1) + (s2 + s3);
                }
            }
        }
    }

    @Override
    public void biasGelu(Tensor z, Tensor bias, Tensor out) {
        JavaTensor x = t(z);
        JavaTensor b = t(bias);
        JavaTensor y = t(out);
        Kernels.addRowVector(x.data(), x.offset(), b.data(), b.offset(), x.rows(), x.cols());
        Kernels.gelu(x.data(), x.offset(), y.data(), y.offset(), (int) x.size());
    }

    @Override
    public void addBias(Tensor z, Tensor bias) {
        JavaTensor x = t(z);
        JavaTensor b = t(bias);
        Kernels.addRowVector(x.data(), x.offset(), b.data(), b.offset(), x.rows(), x.cols());
    }

    @Override
    public void geluBackward(Tensor grad, Tensor z) {
        JavaTensor g = t(grad);
        JavaTensor x = t(z);
        int n = (int) x.size();
        Kernels.geluBackward(g.data(), g.offset(), x.data(), x.offset(), scratch(n), n);
    }

    @Override
    public void layerNorm(Tensor x, Tensor scale, Tensor bias, float eps, Tensor xhat, Tensor invStd, Tensor out) {
        JavaTensor in = t(x);
        JavaTensor xh = t(xhat);
        copy(in, xh);   // the kernel normalises in place; x itself stays untouched
        JavaTensor s = t(scale);
        JavaTensor b = t(bias);
        JavaTensor o = t(out);
        JavaTensor inv = t(invStd);
        Kernels.layerNorm(xh.data(), xh.offset(), s.data(), s.offset(), b.data(), b.offset(), eps, o.data(), o.offset(),
                inv.data(), inv.offset(), scratch(in.cols()), in.rows(), in.cols());
    }

    @Override
    public void layerNormBackward(Tensor gradOut, Tensor xhat, Tensor invStd, Tensor scale,
                                  Tensor gradIn, Tensor gradScale, Tensor gradBias) {
        JavaTensor gi = t(gradIn);
        copy(gradOut, gi);
        JavaTensor xh = t(xhat);
        JavaTensor inv = t(invStd);
        JavaTensor s = t(scale);
        JavaTensor gs = gradScale == null ? null : t(gradScale);
        JavaTensor gb = gradBias == null ? null : t(gradBias);
        Kernels.layerNormBackward(gi.data(), gi.offset(), xh.data(), xh.offset(), inv.data(), inv.offset(), s.data(), s.offset(),
                gs == null ? null : gs.data(), gs == null ? 0 : gs.offset(), gb == null ? null : gb.data(), gb == null ? 0 : gb.offset(),
                scratch(2 * gi.cols()), gi.rows(), gi.cols());
    }

    @Override
    public void columnSums(Tensor x, Tensor out, boolean accumulate) {
        JavaTensor in = t(x);
        JavaTensor o = t(out);
        Kernels.columnSums(in.data(), in.offset(), o.data(), o.offset(), in.rows(), in.cols(), accumulate);
    }

    @Override
    public void adam(Tensor params, Tensor grads, Tensor m, Tensor v, double lr, double beta1, double beta2, double eps, long step) {
        JavaTensor p = t(params);
        JavaTensor g = t(grads);
        JavaTensor mm = t(m);
        JavaTensor vv = t(v);
        Kernels.adam(p.data(), p.offset(), g.data(), g.offset(), mm.data(), mm.offset(), vv.data(), vv.offset(), (int) p.size(),
                lr, beta1, beta2, eps, step);
    }

    @Override
    public void polyak(Tensor target, Tensor source, double tau) {
        JavaTensor tt = t(target);
        JavaTensor s = t(source);
        Kernels.polyak(tt.data(), tt.offset(), s.data(), s.offset(), (int) tt.size(), tau);
    }

    @Override
    public double sumOfSquares(Tensor x) {
        JavaTensor xs = t(x);
        return Kernels.sumOfSquares(xs.data(), xs.offset(), (int) xs.size());
    }
}
