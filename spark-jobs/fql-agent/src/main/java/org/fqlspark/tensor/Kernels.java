package org.fqlspark.tensor;

/**
 * Element-wise kernels over float arrays, shared by the CPU implementations of {@link TensorOps}. Each array
 * argument comes with its offset, so the same code serves heap tensors and copies of ND4J memory.
 *
 * <p>Loops are written for C2's auto-vectoriser: int bounds, one store per loop, no float reductions in hot loops
 * (row sums use four independent partial sums). tanh is a float32 rational approximation, because
 * {@code Math.tanh} is not an intrinsic and would cost more than the GEMMs.
 *
 * <p>The hot loops have a zero-offset path: with offsets, C2 (JDK 17) cannot rule out that two arrays overlap at a
 * distance and does not vectorise the loop at all (measured: bias + GELU 7x and Adam 4x slower).
 */
final class Kernels {

    static final float SQRT_2_OVER_PI = (float) Math.sqrt(2.0 / Math.PI);
    static final float GELU_CUBIC = 0.044715f;

    private Kernels() {
    }

    /** tanh by the odd/even [13/6] minimax rational form used by Eigen and XLA for float32 (|error| < 2e-6). */
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

    /** {@code x[r, :] += row} for every row. */
    static void addRowVector(float[] x, int xo, float[] row, int ro, int rows, int cols) {
        for (int r = 0; r < rows; r++) {
            int base = xo + r * cols;
            for (int j = 0; j < cols; j++) {
                x[base + j] += row[ro + j];
            }
        }
    }

    /** {@code y = gelu_tanh(x)} over n elements. */
    static void gelu(float[] x, int xo, float[] y, int yo, int n) {
        if (xo == 0 && yo == 0) {
            gelu(x, y, n);
            return;
        }
        for (int i = 0; i < n; i++) {
            float v = x[xo + i];
            y[yo + i] = 0.5f * v * (1f + tanh(SQRT_2_OVER_PI * (v + GELU_CUBIC * v * v * v)));
        }
    }

    private static void gelu(float[] x, float[] y, int n) {
        for (int i = 0; i < n; i++) {
            float v = x[i];
            y[i] = 0.5f * v * (1f + tanh(SQRT_2_OVER_PI * (v + GELU_CUBIC * v * v * v)));
        }
    }

    /** {@code g *= gelu_tanh'(x)} over n elements; {@code tmp} holds n scratch values. */
    static void geluBackward(float[] g, int go, float[] x, int xo, float[] tmp, int n) {
        if (xo == 0) {
            geluDerivative(x, tmp, n);
        } else {
            for (int i = 0; i < n; i++) {
                float v = x[xo + i];
                float v2 = v * v;
                float t = tanh(SQRT_2_OVER_PI * v * (1f + GELU_CUBIC * v2));
                tmp[i] = 0.5f * (1f + t) + 0.5f * v * (1f - t * t) * SQRT_2_OVER_PI * (1f + 3f * GELU_CUBIC * v2);
            }
        }
        if (go == 0) {
            multiply(g, tmp, n);
        } else {
            for (int i = 0; i < n; i++) {
                g[go + i] *= tmp[i];
            }
        }
    }

    private static void geluDerivative(float[] x, float[] d, int n) {
        for (int i = 0; i < n; i++) {
            float v = x[i];
            float v2 = v * v;
            float t = tanh(SQRT_2_OVER_PI * v * (1f + GELU_CUBIC * v2));
            d[i] = 0.5f * (1f + t) + 0.5f * v * (1f - t * t) * SQRT_2_OVER_PI * (1f + 3f * GELU_CUBIC * v2);
        }
    }

    private static void multiply(float[] g, float[] d, int n) {
        for (int i = 0; i < n; i++) {
            g[i] *= d[i];
        }
    }

    /** Sum of {@code x[from, from + len)} with four partial sums (C2 does not vectorise a float reduction). */
    static float sum(float[] x, int from, int len) {
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

    /**
     * Row-wise LayerNorm of {@code in} (overwritten with xhat), {@code out = xhat · scale + bias}, {@code inv} = 1/std
     * per row. {@code tmp} holds {@code cols} scratch values.
     */
    static void layerNorm(float[] in, int io, float[] scale, int so, float[] bias, int bo, float eps,
                          float[] out, int oo, float[] inv, int vo, float[] tmp, int rows, int cols) {
        for (int r = 0; r < rows; r++) {
            int base = io + r * cols;
            float mean = sum(in, base, cols) / cols;
            for (int j = 0; j < cols; j++) {
                float centred = in[base + j] - mean;
                in[base + j] = centred;
                tmp[j] = centred * centred;
            }
            float is = (float) (1.0 / Math.sqrt(sum(tmp, 0, cols) / cols + eps));
            inv[vo + r] = is;
            for (int j = 0; j < cols; j++) {
                in[base + j] *= is;
            }
            int ob = oo + r * cols;
            for (int j = 0; j < cols; j++) {
                out[ob + j] = in[base + j] * scale[so + j] + bias[bo + j];
            }
        }
    }

    /**
     * LayerNorm backward: {@code dOut} is overwritten with the input gradient; {@code dScale}/{@code dBias} (nullable)
     * accumulate. {@code tmp} holds {@code 2 · cols} scratch values.
     */
    static void layerNormBackward(float[] dOut, int doo, float[] xh, int xo, float[] inv, int vo, float[] scale, int so,
                                  float[] dScale, int dso, float[] dBias, int dbo, float[] tmp, int rows, int cols) {
        for (int r = 0; r < rows; r++) {
            int base = doo + r * cols;
            int xb = xo + r * cols;
            for (int j = 0; j < cols; j++) {
                tmp[j] = dOut[base + j] * scale[so + j];
            }
            for (int j = 0; j < cols; j++) {
                tmp[cols + j] = tmp[j] * xh[xb + j];
            }
            float meanD = sum(tmp, 0, cols) / cols;
            float meanDX = sum(tmp, cols, cols) / cols;
            if (dScale != null) {
                for (int j = 0; j < cols; j++) {
                    dScale[dso + j] += dOut[base + j] * xh[xb + j];
                }
            }
            if (dBias != null) {
                for (int j = 0; j < cols; j++) {
                    dBias[dbo + j] += dOut[base + j];
                }
            }
            float is = inv[vo + r];
            // dx = invStd · (dxhat − mean(dxhat) − xhat · mean(dxhat ⊙ xhat))
            for (int j = 0; j < cols; j++) {
                dOut[base + j] = is * (tmp[j] - meanD - xh[xb + j] * meanDX);
            }
        }
    }

    // ------------------------------------------------------------------ block kernels (zero offsets)
    //
    // The kernels below work on one block of rows copied into zero-offset heap arrays. Loops either run over the
    // whole block with every array indexed alike ({@code x[i]}) or per row with one shared offset ({@code x[o + j]}):
    // both forms C2 vectorises. A loop that mixes a row offset with a zero-offset row vector ({@code x[o + j] +=
    // bias[j]}) is not vectorised (measured at 64 columns: 8.7 µs against 1.3 µs flat for 16K elements), so row
    // vectors come as tiles ({@link #tile}) the size of the block. The arithmetic, and the order of every sum, is
    // that of {@link #addRowVector}, {@link #gelu}, {@link #layerNorm}, {@link #layerNormBackward} and
    // {@link #geluBackward}, so the results are the same bits.

    /** {@code tile[r · cols + j] = row[ro + j]} for {@code rows} rows (doubling copies). */
    static void tile(float[] row, int ro, int cols, float[] tile, int rows) {
        int n = rows * cols;
        if (n == 0) return;
        System.arraycopy(row, ro, tile, 0, cols);
        for (int filled = cols; filled < n; filled *= 2) {
            System.arraycopy(tile, 0, tile, filled, Math.min(filled, n - filled));
        }
    }

    /** {@code x += biasTile; y = gelu_tanh(x)} over n elements (x keeps the pre-activation). */
    static void biasGelu(float[] x, float[] biasTile, float[] y, int n) {
        for (int i = 0; i < n; i++) {
            float v = x[i] + biasTile[i];
            x[i] = v;
            y[i] = 0.5f * v * (1f + tanh(SQRT_2_OVER_PI * (v + GELU_CUBIC * v * v * v)));
        }
    }

    /** {@code x += biasTile} over n elements. */
    static void add(float[] x, float[] tile, int n) {
        for (int i = 0; i < n; i++) {
            x[i] += tile[i];
        }
    }

    /**
     * One hidden layer after its GEMM, fused: {@code z += bias; g = gelu_tanh(z)}, then the row-wise LayerNorm of
     * {@code g}: {@code xh = (g − mean) · inv}, {@code y = xh · scale + lnBias}, {@code inv = 1/sqrt(var + eps)} per
     * row. Row vectors come as tiles of {@code rows · cols}; {@code sq} is scratch of that size.
     */
    static void biasGeluLayerNorm(float[] z, float[] biasTile, float[] scaleTile, float[] lnBiasTile, float eps,
                                  float[] xh, float[] y, float[] inv, float[] sq, int rows, int cols) {
        int n = rows * cols;
        biasGelu(z, biasTile, xh, n);
        for (int r = 0; r < rows; r++) {
            int o = r * cols;
            float mean = sum(xh, o, cols) / cols;
            for (int j = 0; j < cols; j++) {
                float centred = xh[o + j] - mean;
                xh[o + j] = centred;
                sq[o + j] = centred * centred;
            }
            inv[r] = (float) (1.0 / Math.sqrt(sum(sq, o, cols) / cols + eps));
        }
        for (int r = 0; r < rows; r++) {
            int o = r * cols;
            float is = inv[r];
            for (int j = 0; j < cols; j++) {
                xh[o + j] *= is;
            }
        }
        for (int i = 0; i < n; i++) {
            y[i] = xh[i] * scaleTile[i] + lnBiasTile[i];
        }
    }

    /**
     * Backward of {@link #biasGeluLayerNorm}: {@code d} holds dL/dy on entry and dL/dz (before the bias) on exit;
     * {@code dScale}/{@code dBias} (nullable, {@code cols}) accumulate the LayerNorm parameter gradients row by row.
     * {@code t1}, {@code t2} are scratch of {@code rows · cols}, {@code rowTmp} that of {@link #addColumnSums}. The GELU derivative is a loop of its own: folded
     * into the multiplication, its body grew past what C2 unrolls, and the loop ran unvectorised (12x slower).
     */
    static void layerNormGeluBackward(float[] d, float[] xh, float[] inv, float[] scaleTile, float[] z,
                                      float[] dScale, float[] dBias, float[] t1, float[] t2, float[][] rowTmp,
                                      int rows, int cols) {
        int n = rows * cols;
        if (dScale != null) {
            for (int i = 0; i < n; i++) {
                t2[i] = d[i] * xh[i];
            }
            addColumnSums(t2, dScale, rows, cols, rowTmp);
        }
        if (dBias != null) {
            addColumnSums(d, dBias, rows, cols, rowTmp);
        }
        for (int i = 0; i < n; i++) {
            t1[i] = d[i] * scaleTile[i];
        }
        for (int i = 0; i < n; i++) {
            t2[i] = t1[i] * xh[i];
        }
        for (int r = 0; r < rows; r++) {
            int o = r * cols;
            float meanD = sum(t1, o, cols) / cols;
            float meanDX = sum(t2, o, cols) / cols;
            float is = inv[r];
            for (int j = 0; j < cols; j++) {
                d[o + j] = is * (t1[o + j] - meanD - xh[o + j] * meanDX);
            }
        }
        geluDerivative(z, t1, n);
        multiply(d, t1, n);
    }

    /**
     * {@code sums += Σ_rows x} over a zero-offset block, adding the rows in order as {@link #columnSums} does (same
     * bits), four rows per pass: each row is first copied to a zero-offset array of {@code rowTmp} (four arrays of at
     * least {@code cols}) so that the loop vectorises (5.7 against 2.3 µs for 256 x 64).
     */
    static void addColumnSums(float[] x, float[] sums, int rows, int cols, float[][] rowTmp) {
        float[] a = rowTmp[0];
        float[] b = rowTmp[1];
        float[] c = rowTmp[2];
        float[] d = rowTmp[3];
        int r = 0;
        for (; r + 3 < rows; r += 4) {
            int o = r * cols;
            System.arraycopy(x, o, a, 0, cols);
            System.arraycopy(x, o + cols, b, 0, cols);
            System.arraycopy(x, o + 2 * cols, c, 0, cols);
            System.arraycopy(x, o + 3 * cols, d, 0, cols);
            for (int j = 0; j < cols; j++) {
                sums[j] = (((sums[j] + a[j]) + b[j]) + c[j]) + d[j];
            }
        }
        for (; r < rows; r++) {
            System.arraycopy(x, r * cols, a, 0, cols);
            for (int j = 0; j < cols; j++) {
                sums[j] += a[j];
            }
        }
    }

    /** {@code sums (+)= Σ_rows x}. */
    static void columnSums(float[] x, int xo, float[] sums, int so, int rows, int cols, boolean accumulate) {
        if (!accumulate) {
            java.util.Arrays.fill(sums, so, so + cols, 0f);
        }
        for (int r = 0; r < rows; r++) {
            int base = xo + r * cols;
            for (int j = 0; j < cols; j++) {
                sums[so + j] += x[base + j];
            }
        }
    }

    /**
     * Adam over n elements (optax semantics, ε outside the square root). The float32 constants are computed here once;
     * the loop runs in {@link #adamZeroOffsets} when every offset is 0, because C2 (JDK 17) vectorises that form only.
     */
    static void adam(float[] p, int po, float[] g, int go, float[] m, int mo, float[] v, int vo, int n,
                     double lr, double beta1, double beta2, double eps, long step) {
        float b1 = (float) beta1;
        float b2 = (float) beta2;
        float oneMinusB1 = (float) (1.0 - beta1);
        float oneMinusB2 = (float) (1.0 - beta2);
        float bc1 = (float) (1.0 - Math.pow(beta1, step));
        float bc2 = (float) (1.0 - Math.pow(beta2, step));
        float e = (float) eps;
        float rate = (float) lr;
        if (po == 0 && go == 0 && mo == 0 && vo == 0) {
            adamZeroOffsets(p, g, m, v, n, b1, b2, oneMinusB1, oneMinusB2, bc1, bc2, e, rate);
            return;
        }
        for (int i = 0; i < n; i++) {
            float gi = g[go + i];
            float mi = b1 * m[mo + i] + oneMinusB1 * gi;
            float vi = b2 * v[vo + i] + oneMinusB2 * (gi * gi);
            m[mo + i] = mi;
            v[vo + i] = vi;
            p[po + i] -= rate * (mi / bc1) / ((float) Math.sqrt(vi / bc2) + e);
        }
    }

    /** The loop of {@link #adam} without offsets, the same arithmetic in the same order. */
    private static void adamZeroOffsets(float[] p, float[] g, float[] m, float[] v, int n, float b1, float b2,
                                        float oneMinusB1, float oneMinusB2, float bc1, float bc2, float e, float rate) {
        for (int i = 0; i < n; i++) {
            float gi = g[i];
            float mi = b1 * m[i] + oneMinusB1 * gi;
            float vi = b2 * v[i] + oneMinusB2 * (gi * gi);
            m[i] = mi;
            v[i] = vi;
            p[i] -= rate * (mi / bc1) / ((float) Math.sqrt(vi / bc2) + e);
        }
    }

    /** {@code target = (1 − tau) · target + tau · source} over n elements. */
    static void polyak(float[] target, int to, float[] source, int so, int n, double tau) {
        float t = (float) tau;
        float keep = (float) (1.0 - tau);
        for (int i = 0; i < n; i++) {
            target[to + i] = keep * target[to + i] + t * source[so + i];
        }
    }

    /** Σ x² over n elements, in double across blocks (NaN and Inf propagate). */
    static double sumOfSquares(float[] x, int xo, int n) {
        double total = 0;
        for (int start = 0; start < n; start += 4096) {
            int len = Math.min(4096, n - start);
            float s0 = 0, s1 = 0;
            int i = xo + start;
            int end = i + len;
            for (; i + 1 < end; i += 2) {
                s0 += x[i] * x[i];
                s1 += x[i + 1] * x[i + 1];
            }
            for (; i < end; i++) {
                s0 += x[i] * x[i];
            }
            total += (double) s0 + s1;
        }
        return total;
    }
}
