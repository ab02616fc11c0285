package org.fqlspark.tensor;

import java.nio.FloatBuffer;

import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * The CPU backend's {@link TensorOps}: ND4J holds the memory and runs GEMM (OpenBLAS), and the element-wise work
 * runs as fused Java loops over ND4J's host memory. Composed from ND4J ops, one bias + GELU is eight passes over
 * memory with ~15 µs of op set-up each; fused it is one pass, which matters most for small networks and for Adam
 * over millions of parameters. The arithmetic follows {@link Nd4jTensorOps} (same formulas, float32; row sums use four partial sums), checked against the same golden dumps.
 *
 * <p>tanh uses a rational approximation (the odd/even minimax form used by Eigen and XLA for float32, error below
 * 1e-6) because {@code Math.tanh} is not an intrinsic and would cost more than the GEMMs.
 */
public final class FusedCpuTensorOps extends Nd4jTensorOps {

    private float[] scratchA = new float[0];
    private float[] scratchB = new float[0];
    private float[] scratchC = new float[0];
    private float[] scratchD = new float[0];

    @Override
    public String describe() {
        return super.describe() + ", fused Java element-wise kernels";
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

    // ------------------------------------------------------------------ math

    /** tanh for float32 by a [13/6] rational approximation on [-7.9, 7.9] (saturated outside). */
    static float tanh(float x) {
        float y = Math.max(-7.90531110763549805f, Math.min(7.90531110763549805f, x));
        float y2 = y * y;
        float p = y2 * -2.76076847742355e-16f + 2.00018790482477e-13f;
        p = y2 * p + -8.60467152213735e-11f;
        p = y2 * p + 5.12229709037114e-08f;
        p = y2 * p + 1.48572235717979e-05f;
        p = y2 * p + 6.37261928875436e-04f;
        p = y2 * p + 4.89352455891786e-03f;
        p = y * p;
        float q = y2 * 1.19825839466702e-06f + 1.18534705686654e-04f;
        q = y2 * q + 2.26843463243900e-03f;
        q = y2 * q + 4.89352518554385e-03f;
        return p / q;
    }

    private static final float C = (float) SQRT_2_OVER_PI;
    private static final float K = (float) GELU_CUBIC;

    @Override
    public void biasGelu(Tensor z, Tensor bias, Tensor out) {
        int rows = z.rows();
        int cols = z.cols();
        int n = rows * cols;
        float[] x = read(z, a(n));
        addRowVector(x, read(bias, b(cols)), rows, cols);
        write(x, z);
        float[] y = c(n);
        // a separate flat loop with int bounds and one store: C2 vectorises it (about 8x faster than fused with the bias)
        for (int i = 0; i < n; i++) {
            float v = x[i];
            y[i] = 0.5f * v * (1f + tanh(C * (v + K * v * v * v)));
        }
        write(y, out);
    }

    private static void addRowVector(float[] x, float[] row, int rows, int cols) {
        for (int r = 0; r < rows; r++) {
            int base = r * cols;
            for (int j = 0; j < cols; j++) {
                x[base + j] += row[j];
            }
        }
    }

    @Override
    public void addBias(Tensor z, Tensor bias) {
        float[] x = read(z, a(z.size()));
        addRowVector(x, read(bias, b(z.cols())), z.rows(), z.cols());
        write(x, z);
    }

    @Override
    public void geluBackward(Tensor grad, Tensor z) {
        int n = Math.toIntExact(z.size());   // an int bound keeps this a counted (vectorisable) loop
        float[] g = read(grad, a(n));
        float[] x = read(z, b(n));
        float[] derivative = c(n);
        for (int i = 0; i < n; i++) {
            float v = x[i];
            float v2 = v * v;
            float t = tanh(C * v * (1f + K * v2));
            derivative[i] = 0.5f * (1f + t) + 0.5f * v * (1f - t * t) * C * (1f + 3f * K * v2);
        }
        for (int i = 0; i < n; i++) {
            g[i] *= derivative[i];
        }
        write(g, grad);
    }

    /** Sum of {@code x[from, from + len)} with four independent partial sums (C2 does not vectorise a float reduction). */
    private static float sum(float[] x, int from, int len) {
        float s0 = 0, s1 = 0, s2 = 0, s3 = 0;
        int i = from;
        int end = from + len;
        for (; i + 3 < end; i += 4) {
            s0 += x[i];
            s1 += x[i + 1];
            s2 += x[i + 2];
            s3 += x[i + 3];
        }
        for (; i < end; i++) {
            s0 += x[i];
        }
        return (s0 + s1) + (s2 + s3);
    }

    @Override
    public void layerNorm(Tensor x, Tensor scale, Tensor bias, float eps, Tensor xhat, Tensor invStd, Tensor out) {
        int rows = x.rows();
        int cols = x.cols();
        int n = rows * cols;
        float[] in = read(x, a(n));
        float[] s = read(scale, b(cols));
        float[] bv = read(bias, c(cols));
        float[] y = d(n);
        float[] inv = new float[rows];
        for (int r = 0; r < rows; r++) {
            int base = r * cols;
            float mean = sum(in, base, cols) / cols;
            for (int j = 0; j < cols; j++) {
                float centred = in[base + j] - mean;
                in[base + j] = centred;           // in now holds x − mean
                y[base + j] = centred * centred;  // y holds squares until the output pass
            }
            float variance = sum(y, base, cols) / cols;
            float is = (float) (1.0 / Math.sqrt(variance + eps));
            inv[r] = is;
            for (int j = 0; j < cols; j++) {
                in[base + j] *= is;
            }
            for (int j = 0; j < cols; j++) {
                y[base + j] = in[base + j] * s[j] + bv[j];
            }
        }
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
        float[] s = read(scale, c(cols));
        float[] inv = read(invStd, new float[rows]);
        float[] dx = d(n);
        float[] product = new float[cols];
        float[] dScale = gradScale == null ? null : read(gradScale, new float[cols]);
        float[] dBias = gradBias == null ? null : read(gradBias, new float[cols]);
        for (int r = 0; r < rows; r++) {
            int base = r * cols;
            for (int j = 0; j < cols; j++) {
                dx[base + j] = dOut[base + j] * s[j];
            }
            for (int j = 0; j < cols; j++) {
                product[j] = dx[base + j] * xh[base + j];
            }
            float meanD = sum(dx, base, cols) / cols;
            float meanDX = sum(product, 0, cols) / cols;
            float is = inv[r];
            if (dScale != null) {
                for (int j = 0; j < cols; j++) {
                    dScale[j] += dOut[base + j] * xh[base + j];
                }
            }
            if (dBias != null) {
                for (int j = 0; j < cols; j++) {
                    dBias[j] += dOut[base + j];
                }
            }
            // dx = invStd · (dxhat − mean(dxhat) − xhat · mean(dxhat ⊙ xhat)), written over dOut's copy
            for (int j = 0; j < cols; j++) {
                dOut[base + j] = is * (dx[base + j] - meanD - xh[base + j] * meanDX);
            }
        }
        write(dOut, gradIn);
        if (dScale != null) write(dScale, gradScale);
        if (dBias != null) write(dBias, gradBias);
    }

    @Override
    public void columnSums(Tensor x, Tensor out, boolean accumulate) {
        int rows = x.rows();
        int cols = x.cols();
        float[] in = read(x, a(x.size()));
        float[] sums = accumulate ? read(out, new float[cols]) : new float[cols];
        for (int r = 0; r < rows; r++) {
            int base = r * cols;
            for (int j = 0; j < cols; j++) {
                sums[j] += in[base + j];
            }
        }
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
        float b1 = (float) beta1;
        float b2 = (float) beta2;
        float oneMinusB1 = (float) (1.0 - beta1);
        float oneMinusB2 = (float) (1.0 - beta2);
        float bc1 = (float) (1.0 - Math.pow(beta1, step));
        float bc2 = (float) (1.0 - Math.pow(beta2, step));
        float e = (float) eps;
        float rate = (float) lr;
        int n = (int) pa.length();
        int chunk = 16_384;
        float[] p = a(chunk);
        float[] g = b(chunk);
        float[] mm = c(chunk);
        float[] vv = d(chunk);
        for (int start = 0; start < n; start += chunk) {
            int len = Math.min(chunk, n - start);
            pb.get((int) pa.offset() + start, p, 0, len);
            gb.get((int) ga.offset() + start, g, 0, len);
            mb.get((int) ma.offset() + start, mm, 0, len);
            vb.get((int) va.offset() + start, vv, 0, len);
            for (int i = 0; i < len; i++) {
                float gi = g[i];
                float mi = b1 * mm[i] + oneMinusB1 * gi;
                float vi = b2 * vv[i] + oneMinusB2 * (gi * gi);
                mm[i] = mi;
                vv[i] = vi;
                p[i] -= rate * (mi / bc1) / ((float) Math.sqrt(vi / bc2) + e);
            }
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
        float t = (float) tau;
        float keep = (float) (1.0 - tau);
        int n = (int) ta.length();
        int chunk = 16_384;
        float[] x = a(chunk);
        float[] y = b(chunk);
        for (int start = 0; start < n; start += chunk) {
            int len = Math.min(chunk, n - start);
            tb.get((int) ta.offset() + start, x, 0, len);
            sb.get((int) sa.offset() + start, y, 0, len);
            for (int i = 0; i < len; i++) {
                x[i] = keep * x[i] + t * y[i];
            }
            tb.put((int) ta.offset() + start, x, 0, len);
        }
    }

    @Override
    public double sumOfSquares(Tensor x) {
        INDArray xa = arr(x);
        FloatBuffer fb = buffer(xa);
        int n = (int) xa.length();
        int chunk = 16_384;
        float[] buf = a(chunk);
        double total = 0;
        for (int start = 0; start < n; start += chunk) {
            int len = Math.min(chunk, n - start);
            fb.get((int) xa.offset() + start, buf, 0, len);
            float partial = 0;
            for (int i = 0; i < len; i++) {
                partial += buf[i] * buf[i];
            }
            total += partial;
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
