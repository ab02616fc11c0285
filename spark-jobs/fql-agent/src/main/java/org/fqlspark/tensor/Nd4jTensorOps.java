package org.fqlspark.tensor;

import java.nio.FloatBuffer;
import java.util.HashMap;
import java.util.Map;

import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.api.ops.impl.broadcast.BroadcastMulOp;
import org.nd4j.linalg.api.ops.impl.transforms.pairwise.arithmetic.MulOp;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.indexing.NDArrayIndex;
import org.nd4j.linalg.ops.transforms.Transforms;

/**
 * {@link TensorOps} on ND4J: GEMM through {@code Nd4j.gemm} (OpenBLAS on the CPU backend, cuBLAS on the CUDA
 * backend) and the element-wise work composed from ND4J's own ops, so the same code runs on either backend.
 *
 * <p>Not thread-safe: it keeps scratch matrices per shape to avoid allocating in the hot loop (JavaCPP's
 * deallocator stalls allocation-heavy loops, see docs/platform-notes.md). Use one instance per training thread.
 */
public class Nd4jTensorOps implements TensorOps {

    static final double SQRT_2_OVER_PI = Math.sqrt(2.0 / Math.PI);
    static final double GELU_CUBIC = 0.044715;

    /**
     * A tensor backed by a c-ordered 2-D ND4J array (possibly a view into a flat parameter vector). Keeps the host
     * view of its memory and its native address once asked for, so the fused kernels' per-call cost stays small.
     */
    public static final class Nd4jTensor implements Tensor {
        private final INDArray array;
        private final int rows;
        private final int cols;
        private FloatBuffer host;
        private INDArray stacked;        // the last 3-D view asked for: [count, rows / count, cols], or shared
        private int stackedCount;
        private boolean stackedShared;

        public Nd4jTensor(INDArray array) {
            if (array.rank() != 2 || array.ordering() != 'c') {
                throw new IllegalArgumentException("expected a c-ordered rank-2 array, got " + array.shapeInfoToString());
            }
            this.array = array;
            this.rows = (int) array.size(0);
            this.cols = (int) array.size(1);
        }

        public INDArray array() {
            return array;
        }

        @Override
        public int rows() {
            return rows;
        }

        @Override
        public int cols() {
            return cols;
        }

        /** The whole underlying buffer as floats (absolute indexing; this tensor starts at {@link #offset()}). */
        FloatBuffer host() {
            if (host == null) {
                host = array.data().asNioFloat();
            }
            return host;
        }

        int offset() {
            return (int) array.offset();
        }

        /**
         * This matrix as {@code count} members of a stack, {@code [count, rows / count, cols]} (a view), or, when
         * {@code shared}, the whole matrix repeated {@code count} times through a zero stride (no copy).
         */
        INDArray stacked(int count, boolean shared) {
            if (stacked == null || stackedCount != count || stackedShared != shared) {
                if (!shared && rows % count != 0) {
                    throw new IllegalArgumentException(rows + " rows do not split into " + count + " members");
                }
                long r = shared ? rows : rows / count;
                stacked = Nd4j.create(array.data(), new long[] {count, r, cols}, new long[] {shared ? 0 : r * cols, cols, 1},
                        array.offset(), 'c');
                stackedCount = count;
                stackedShared = shared;
            }
            return stacked;
        }

        /** The native address of the first element (CPU backend). */
        long address() {
            return array.data().address() + 4L * array.offset();
        }
    }

    private final Map<Long, INDArray[]> scratch = new HashMap<>();

    public Nd4jTensorOps() {
        BackendGuard.checkSupported();
        Nd4j.setDefaultDataTypes(DataType.FLOAT, DataType.FLOAT);
    }

    @Override
    public String describe() {
        return "ND4J " + Nd4j.getBackend().getClass().getSimpleName() + " (" + Nd4j.getBackend().buildInfo().split("\n")[0] + ")";
    }

    protected static INDArray arr(Tensor t) {
        return ((Nd4jTensor) t).array();
    }

    /** Scratch arrays of one shape, reused across calls; index chooses among several live at once. */
    protected INDArray scratch(long rows, long cols, int index) {
        INDArray[] slots = scratch.computeIfAbsent(rows * 1_000_003L + cols, k -> new INDArray[6]);
        if (slots[index] == null) {
            slots[index] = Nd4j.create(DataType.FLOAT, rows, cols);
        }
        return slots[index];
    }

    @Override
    public Tensor zeros(int rows, int cols) {
        return new Nd4jTensor(Nd4j.create(DataType.FLOAT, new long[] {rows, cols}, 'c'));
    }

    @Override
    public Tensor view(Tensor flat, long offset, int rows, int cols) {
        INDArray base = arr(flat);
        TensorOps.checkView(base.length(), offset, rows, cols);
        INDArray v = Nd4j.create(base.data(), new long[] {rows, cols}, new long[] {cols, 1}, base.offset() + offset, 'c');
        return new Nd4jTensor(v);
    }

    @Override
    public void upload(float[] src, Tensor dst) {
        INDArray d = arr(dst);
        if (src.length != d.length()) {
            throw new IllegalArgumentException("upload of " + src.length + " values into a tensor of " + d.length());
        }
        d.assign(Nd4j.createFromArray(src).reshape('c', d.size(0), d.size(1)));
    }

    @Override
    public void download(Tensor src, float[] dst) {
        INDArray s = arr(src);
        float[] values = s.dup('c').data().asFloat();
        System.arraycopy(values, 0, dst, 0, (int) s.length());
    }

    @Override
    public void fill(Tensor dst, float value) {
        arr(dst).assign(value);
    }

    @Override
    public void setColumn(Tensor dst, int col, float value) {
        arr(dst).getColumn(col).assign(value);
    }

    @Override
    public void addDividedToColumns(Tensor dst, int firstCol, Tensor src, float divisor) {
        INDArray s = arr(src);
        arr(dst).get(NDArrayIndex.all(), NDArrayIndex.interval(firstCol, firstCol + s.size(1))).addi(s.div(divisor));
    }

    @Override
    public void copy(Tensor src, Tensor dst) {
        arr(dst).assign(arr(src));
    }

    @Override
    public void gemm(Tensor a, boolean transposeA, Tensor b, boolean transposeB, Tensor c, float beta) {
        Nd4j.gemm(arr(a), arr(b), arr(c), transposeA, transposeB, 1.0, beta);
    }

    /** {@code t} as {@code count} stacked members, {@code [count, rows / count, cols]} (a view). */
    protected static INDArray stacked(Tensor t, int count) {
        return ((Nd4jTensor) t).stacked(count, false);
    }

    /**
     * One batched product for all members ({@code matmul} on 3-D views; a shared {@code a} is repeated through a
     * zero stride): one ND4J op where the per-member loop runs {@code count}.
     */
    @Override
    public void gemmStacked(int count, Tensor a, boolean sharedA, boolean transposeA, Tensor b, boolean transposeB, Tensor c) {
        Nd4j.matmul(((Nd4jTensor) a).stacked(count, sharedA), stacked(b, count), stacked(c, count), transposeA, transposeB, false);
    }

    /** Nine ND4J ops (each a kernel launch on a GPU); results are written in place or straight into their target. */
    @Override
    public void biasGelu(Tensor z, Tensor bias, Tensor out) {
        arr(z).addiRowVector(arr(bias));
        gelu(arr(z), arr(out));
    }

    /** {@link #biasGelu} for all members at once: the per-member bias is one broadcast add over a 3-D view. */
    @Override
    public void biasGeluStacked(int count, Tensor z, Tensor bias, Tensor out) {
        stacked(z, count).addi(stacked(bias, count));
        gelu(arr(z), arr(out));
    }

    @Override
    public void addBiasStacked(int count, Tensor z, Tensor bias) {
        stacked(z, count).addi(stacked(bias, count));
    }

    @Override
    public void biasGeluLayerNormStacked(int count, Tensor z, Tensor bias, Tensor scale, Tensor lnBias, float eps,
                                         Tensor gelu, Tensor xhat, Tensor invStd, Tensor out) {
        biasGeluStacked(count, z, bias, gelu);
        normalizeRows(arr(gelu), eps, arr(xhat), arr(invStd));
        Nd4j.exec(new MulOp(stacked(xhat, count), stacked(scale, count), stacked(out, count)));
        stacked(out, count).addi(stacked(lnBias, count));
    }

    @Override
    public void layerNormGeluBackwardStacked(int count, Tensor gradOut, Tensor xhat, Tensor invStd, Tensor scale, Tensor z,
                                             Tensor gradIn, Tensor gradScale, Tensor gradBias) {
        INDArray dOut = arr(gradOut);
        INDArray xh = arr(xhat);
        if (gradScale != null) {
            INDArray prod = dOut.mul(xh, scratch(dOut.size(0), dOut.size(1), 0));
            arr(gradScale).addi(sumMembers(prod, count));
        }
        if (gradBias != null) {
            arr(gradBias).addi(sumMembers(dOut, count));
        }
        INDArray dXhat = scratch(dOut.size(0), dOut.size(1), 1);
        Nd4j.exec(new MulOp(stacked(gradOut, count), stacked(scale, count), dXhat.reshape('c', count, dOut.size(0) / count, dOut.size(1))));
        normalizedBackwardRows(dXhat, xh, arr(invStd), arr(gradIn));
        geluBackward(gradIn, z);
    }

    @Override
    public void columnSumsStacked(int count, Tensor x, Tensor out) {
        stacked(x, count).sum(arr(out), 1);
    }

    /** {@code [count, cols]}: the column sums of each member's rows of a stacked {@code [count · B, cols]} array. */
    private static INDArray sumMembers(INDArray x, int count) {
        return x.reshape('c', count, x.size(0) / count, x.size(1)).sum(1);
    }

    /** GELU (tanh form) of {@code x} into {@code out}: eight ND4J ops. */
    private void gelu(INDArray x, INDArray out) {
        INDArray u = scratch(x.size(0), x.size(1), 0);
        // u = tanh(sqrt(2/pi) · x · (1 + 0.044715 x²)); out = x · (0.5 + 0.5 u)
        x.mul(x, u).muli(SQRT_2_OVER_PI * GELU_CUBIC).addi(SQRT_2_OVER_PI).muli(x);
        Transforms.tanh(u, false);
        u.muli(0.5).addi(0.5);
        x.mul(u, out);
    }

    @Override
    public void addBias(Tensor z, Tensor bias) {
        arr(z).addiRowVector(arr(bias));
    }

    /** Fifteen ND4J ops. */
    @Override
    public void geluBackward(Tensor grad, Tensor z) {
        INDArray x = arr(z);
        INDArray x2 = x.mul(x, scratch(x.size(0), x.size(1), 0));
        INDArray t = x2.mul(SQRT_2_OVER_PI * GELU_CUBIC, scratch(x.size(0), x.size(1), 1)).addi(SQRT_2_OVER_PI).muli(x);
        Transforms.tanh(t, false);
        // d/dx [0.5 x (1 + t)] = 0.5 (1 + t) + 0.5 x (1 − t²) · sqrt(2/pi) (1 + 3·0.044715 x²)
        INDArray inner = x2.muli(SQRT_2_OVER_PI * 0.5 * 3 * GELU_CUBIC).addi(SQRT_2_OVER_PI * 0.5).muli(x);
        INDArray sech2 = t.mul(t, scratch(x.size(0), x.size(1), 2)).rsubi(1.0).muli(inner);
        arr(grad).muli(sech2.addi(t.muli(0.5).addi(0.5)));
    }

    /** Eleven ND4J ops. */
    @Override
    public void layerNorm(Tensor x, Tensor scale, Tensor bias, float eps, Tensor xhat, Tensor invStd, Tensor out) {
        normalizeRows(arr(x), eps, arr(xhat), arr(invStd));
        Nd4j.getExecutioner().exec(new BroadcastMulOp(arr(xhat), arr(scale), arr(out), 1));
        arr(out).addiRowVector(arr(bias));
    }

    /** {@code xhat = (in − mean) / sqrt(var + eps)} per row, keeping {@code invStd}: seven ND4J ops. */
    private void normalizeRows(INDArray in, float eps, INDArray xhat, INDArray invStd) {
        INDArray mean = in.mean(true, 1);
        INDArray centered = xhat.assign(in).subiColumnVector(mean);
        INDArray variance = centered.mul(centered, scratch(in.size(0), in.size(1), 0)).mean(true, 1);
        INDArray inv = invStd.assign(Transforms.pow(variance.addi(eps), -0.5, false));
        centered.muliColumnVector(inv);
    }

    @Override
    public void layerNormBackward(Tensor gradOut, Tensor xhat, Tensor invStd, Tensor scale,
                                  Tensor gradIn, Tensor gradScale, Tensor gradBias) {
        INDArray dOut = arr(gradOut);
        INDArray xh = arr(xhat);
        if (gradScale != null) {
            arr(gradScale).addi(dOut.mul(xh, scratch(dOut.size(0), dOut.size(1), 0)).sum(true, 0));
        }
        if (gradBias != null) {
            arr(gradBias).addi(dOut.sum(true, 0));
        }
        INDArray dXhat = scratch(dOut.size(0), dOut.size(1), 1);
        Nd4j.getExecutioner().exec(new BroadcastMulOp(dOut, arr(scale), dXhat, 1));
        normalizedBackwardRows(dXhat, xh, arr(invStd), arr(gradIn));
    }

    /** {@code dx = invStd · (dxhat − mean(dxhat) − xhat · mean(dxhat ⊙ xhat))} per row, from {@code dxhat = dOut ⊙ scale}. */
    private void normalizedBackwardRows(INDArray dXhat, INDArray xh, INDArray invStd, INDArray result) {
        INDArray meanD = dXhat.mean(true, 1);
        INDArray meanDX = dXhat.mul(xh, scratch(dXhat.size(0), dXhat.size(1), 2)).mean(true, 1);
        result.assign(xh).muliColumnVector(meanDX).rsubi(dXhat).subiColumnVector(meanD).muliColumnVector(invStd);
    }

    @Override
    public void columnSums(Tensor x, Tensor out, boolean accumulate) {
        INDArray s = arr(x).sum(true, 0);
        if (accumulate) {
            arr(out).addi(s);
        } else {
            arr(out).assign(s);
        }
    }

    @Override
    public void adam(Tensor params, Tensor grads, Tensor m, Tensor v,
                     double lr, double beta1, double beta2, double eps, long step) {
        INDArray g = arr(grads);
        INDArray mm = arr(m).muli(beta1).addi(g.mul(1.0 - beta1));
        INDArray g2 = g.mul(g).muli(1.0 - beta2);
        INDArray vv = arr(v).muli(beta2).addi(g2);
        double bc1 = 1.0 - Math.pow(beta1, step);
        double bc2 = 1.0 - Math.pow(beta2, step);
        INDArray denominator = Transforms.sqrt(g2.assign(vv).divi(bc2), false).addi(eps);
        INDArray update = mm.div(bc1).divi(denominator).muli(lr);
        arr(params).subi(update);
    }

    @Override
    public void polyak(Tensor target, Tensor source, double tau) {
        arr(target).muli(1.0 - tau).addi(arr(source).mul(tau));
    }

    @Override
    public double sumOfSquares(Tensor x) {
        INDArray a = arr(x);
        double norm = a.norm2Number().doubleValue();
        return norm * norm;
    }
}
