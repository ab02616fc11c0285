package org.fqlspark.tensor;

/**
 * The narrow set of tensor operations the hand-written FQL forward and backward passes need: GEMM, bias + GELU
 * (tanh form), LayerNorm, their backward passes, column sums, Adam and the Polyak blend.
 *
 * <p>The loss stage of a training step (TD targets, the losses and their gradients with respect to the networks'
 * outputs, clipping actions into the next network's input) is here too, with defaults that download, compute on the
 * host ({@link LossKernels}) and upload: a CPU backend keeps them, a GPU backend runs them as kernels so that a step
 * hands nothing to the host but its metrics. Concatenating the batch into the networks' inputs stays on the host
 * (the batch comes from there).
 *
 * <p>All matrices are row-major {@code [rows, cols]}; a bias, LayerNorm scale or column sum is a
 * {@code [1, cols]} tensor. Methods that accumulate say so; all others overwrite their output.
 */
public interface TensorOps {

    /** Human-readable backend description (library, device), used in logs and benchmark tables. */
    String describe();

    /**
     * The device's name as logs and {@code provenance.json} give it: the OpenCL device's own name
     * ({@code "NVIDIA H100 80GB HBM3"}) for a device backend, {@code "cpu"} for the host backends.
     */
    default String deviceName() {
        return "cpu";
    }

    /**
     * What a device backend counts of the host's work since it was created, by name: kernel launches, host-to-device
     * and device-to-host copies, blocking waits ({@code fql bench} prints them per training step). Empty for the host
     * backends, which have nothing of the kind.
     */
    default java.util.Map<String, Long> deviceCounters() {
        return java.util.Map.of();
    }

    /** A new zero-filled tensor. */
    Tensor zeros(int rows, int cols);

    /**
     * A view of {@code rows * cols} consecutive elements of {@code flat} (any tensor, read as its row-major values)
     * starting at {@code offset}, laid out row-major. Writes through the view change {@code flat} and vice versa.
     */
    Tensor view(Tensor flat, long offset, int rows, int cols);

    /**
     * The bounds check every {@link #view} makes: {@code rows * cols} elements from {@code offset} must lie inside a flat
     * tensor of {@code flatSize} elements.
     *
     * @return the view's number of elements
     */
    static long checkView(long flatSize, long offset, int rows, int cols) {
        long n = (long) rows * cols;
        if (offset < 0 || offset + n > flatSize) {
            throw new IndexOutOfBoundsException("view [" + offset + ", " + (offset + n) + ") outside a flat tensor of " + flatSize);
        }
        return n;
    }

    /** Copies {@code src} (row-major, exactly {@code dst.size()} values) into {@code dst}. */
    void upload(float[] src, Tensor dst);

    /** Copies {@code src} into {@code dst} (row-major, at least {@code src.size()} values). */
    void download(Tensor src, float[] dst);

    void fill(Tensor dst, float value);

    /** {@code dst[:, col] = value} (the time input of the flow network during Euler integration). */
    void setColumn(Tensor dst, int col, float value);

    /**
     * {@code dst[:, firstCol + j] += src[:, j] / divisor} for every column {@code j} of {@code src}: one Euler step
     * on the action columns of the flow network's input, in place (no copy to the host and back per step).
     */
    void addDividedToColumns(Tensor dst, int firstCol, Tensor src, float divisor);

    void copy(Tensor src, Tensor dst);

    /** {@code c = op(a) · op(b) + beta · c}, where {@code op} transposes when asked. */
    void gemm(Tensor a, boolean transposeA, Tensor b, boolean transposeB, Tensor c, float beta);

    /** {@code z += bias} (broadcast over rows), then {@code out = gelu_tanh(z)}. */
    void biasGelu(Tensor z, Tensor bias, Tensor out);

    /** {@code z += bias} (broadcast over rows). */
    void addBias(Tensor z, Tensor bias);

    /** {@code grad *= gelu_tanh'(z)}, in place. */
    void geluBackward(Tensor grad, Tensor z);

    /**
     * Row-wise LayerNorm: {@code xhat = (x − mean) / sqrt(var + eps)} with the biased variance, and
     * {@code out = xhat · scale + bias}. Keeps {@code xhat} and {@code invStd [rows, 1]} for the backward pass.
     */
    void layerNorm(Tensor x, Tensor scale, Tensor bias, float eps, Tensor xhat, Tensor invStd, Tensor out);

    /**
     * Backward of {@link #layerNorm}: writes {@code gradIn}; when {@code gradScale}/{@code gradBias} are non-null,
     * accumulates the parameter gradients into them.
     */
    void layerNormBackward(Tensor gradOut, Tensor xhat, Tensor invStd, Tensor scale,
                           Tensor gradIn, Tensor gradScale, Tensor gradBias);

    /**
     * One hidden layer after its GEMM, fused: {@link #biasGelu} into {@code gelu}, then {@link #layerNorm} of it into
     * {@code out}, keeping {@code z} (with the bias added), {@code xhat} and {@code invStd} for
     * {@link #layerNormGeluBackward}. {@code gelu} is scratch: a backend that fuses the two need not write it. The
     * default is the two operations in turn.
     */
    default void biasGeluLayerNorm(Tensor z, Tensor bias, Tensor scale, Tensor lnBias, float eps,
                                   Tensor gelu, Tensor xhat, Tensor invStd, Tensor out) {
        biasGelu(z, bias, gelu);
        layerNorm(gelu, scale, lnBias, eps, xhat, invStd, out);
    }

    /**
     * Backward of {@link #biasGeluLayerNorm} down to the pre-activation: {@link #layerNormBackward} into
     * {@code gradIn} (accumulating {@code gradScale}/{@code gradBias} when non-null), then {@link #geluBackward} of
     * {@code gradIn} at {@code z}. The default is the two operations in turn.
     */
    default void layerNormGeluBackward(Tensor gradOut, Tensor xhat, Tensor invStd, Tensor scale, Tensor z,
                                       Tensor gradIn, Tensor gradScale, Tensor gradBias) {
        layerNormBackward(gradOut, xhat, invStd, scale, gradIn, gradScale, gradBias);
        geluBackward(gradIn, z);
    }

    /** {@code out = Σ_rows x} ({@code out} is {@code [1, cols]}); adds to {@code out} when {@code accumulate}. */
    void columnSums(Tensor x, Tensor out, boolean accumulate);

    /**
     * One Adam step over flat tensors (optax semantics, ε outside the square root):
     * {@code m = b1·m + (1−b1)·g; v = b2·v + (1−b2)·g²; p −= lr · (m / (1−b1^t)) / (sqrt(v / (1−b2^t)) + ε)}.
     */
    void adam(Tensor params, Tensor grads, Tensor m, Tensor v,
              double lr, double beta1, double beta2, double eps, long step);

    /** {@code target = tau · source + (1 − tau) · target} (the Polyak update). */
    void polyak(Tensor target, Tensor source, double tau);

    /** {@code Σ x²} in double precision (gradient norms, finiteness checks: NaN/Inf propagate). */
    double sumOfSquares(Tensor x);

    // ------------------------------------------------------------------ stacked ensembles
    //
    // An ensemble of {@code count} networks of the same shape (the critic's members) runs as one stack: member j's
    // matrix is the j-th of {@code count} equal blocks of rows of a stacked tensor ({@code [count · rows, cols]}),
    // and a per-member row vector (bias, LayerNorm scale) is row j of a {@code [count, cols]} tensor. This is the
    // parameter layout's own order ({@code critic/Dense_0/kernel [count, in, out]}), so the stacked weights are views
    // of the flat parameter vector. Each method is one call for all members (on a GPU: one launch instead of
    // {@code count}); the defaults run the 2-D operation per member on views, which is what a CPU backend that
    // only cares about host work may keep.

    /** Member {@code j} of a tensor stacked from {@code count} equal blocks of rows (a view). */
    default Tensor member(Tensor stacked, int j, int count) {
        if (count <= 0 || stacked.rows() % count != 0 || j < 0 || j >= count) {
            throw new IllegalArgumentException("member " + j + " of " + count + " in a tensor of " + stacked.rows() + " rows");
        }
        int rows = stacked.rows() / count;
        return view(stacked, (long) j * rows * stacked.cols(), rows, stacked.cols());
    }

    /**
     * {@code c_j = op(a_j) · op(b_j)} for each member j (overwriting {@code c}): {@code b} and {@code c} are stacked,
     * {@code a} is stacked too unless {@code sharedA}, when one matrix serves every member (the critic's first layer
     * reads the same input in every member).
     */
    default void gemmStacked(int count, Tensor a, boolean sharedA, boolean transposeA, Tensor b, boolean transposeB, Tensor c) {
        for (int j = 0; j < count; j++) {
            gemm(sharedA ? a : member(a, j, count), transposeA, member(b, j, count), transposeB, member(c, j, count), 0f);
        }
    }

    /** {@link #biasGelu} per member: {@code bias} is {@code [count, cols]}. */
    default void biasGeluStacked(int count, Tensor z, Tensor bias, Tensor out) {
        for (int j = 0; j < count; j++) {
            biasGelu(member(z, j, count), member(bias, j, count), member(out, j, count));
        }
    }

    /** {@link #addBias} per member: {@code bias} is {@code [count, cols]}. */
    default void addBiasStacked(int count, Tensor z, Tensor bias) {
        for (int j = 0; j < count; j++) {
            addBias(member(z, j, count), member(bias, j, count));
        }
    }

    /** {@link #biasGeluLayerNorm} per member: {@code bias}, {@code scale} and {@code lnBias} are {@code [count, cols]}. */
    default void biasGeluLayerNormStacked(int count, Tensor z, Tensor bias, Tensor scale, Tensor lnBias, float eps,
                                          Tensor gelu, Tensor xhat, Tensor invStd, Tensor out) {
        for (int j = 0; j < count; j++) {
            biasGeluLayerNorm(member(z, j, count), member(bias, j, count), member(scale, j, count), member(lnBias, j, count),
                    eps, member(gelu, j, count), member(xhat, j, count), member(invStd, j, count), member(out, j, count));
        }
    }

    /**
     * {@link #layerNormGeluBackward} per member: {@code scale} is {@code [count, cols]}, and so are {@code gradScale}
     * and {@code gradBias} when non-null (accumulated into, as there).
     */
    default void layerNormGeluBackwardStacked(int count, Tensor gradOut, Tensor xhat, Tensor invStd, Tensor scale, Tensor z,
                                              Tensor gradIn, Tensor gradScale, Tensor gradBias) {
        for (int j = 0; j < count; j++) {
            layerNormGeluBackward(member(gradOut, j, count), member(xhat, j, count), member(invStd, j, count),
                    member(scale, j, count), member(z, j, count), member(gradIn, j, count),
                    gradScale == null ? null : member(gradScale, j, count), gradBias == null ? null : member(gradBias, j, count));
        }
    }

    /** {@link #columnSums} per member, overwriting: {@code out} row j is the sum of member j's rows. */
    default void columnSumsStacked(int count, Tensor x, Tensor out) {
        for (int j = 0; j < count; j++) {
            columnSums(member(x, j, count), member(out, j, count), false);
        }
    }

    // ------------------------------------------------------------------ the loss stage
    //
    // What FqlAgent computes between the network passes of a training step. Metrics go into slots of a {@code stats}
    // tensor ({@code [1, n]}, float32) that the agent reads once per step. The defaults are the host arithmetic the
    // agent always had (LossKernels: same order, same double-precision steps), through download and upload.

    /** {@code dst[:, dstCol + j] = src[:, srcCol + j]} for {@code j < width}, clipped to {@code [−1, 1]} when {@code clip}. */
    default void copyColumns(Tensor src, int srcCol, Tensor dst, int dstCol, int width, boolean clip) {
        LossKernels.checkColumns(src, srcCol, dst, dstCol, width);
        float[] s = LossKernels.read(this, src);
        float[] d = LossKernels.read(this, dst);
        LossKernels.copyColumns(s, src.cols(), srcCol, d, dst.cols(), dstCol, src.rows(), width, clip);
        upload(d, dst);
    }

    /**
     * The TD target (docs/algorithm.md §2.2): {@code nextQ[i]} = min or mean over the {@code count} members of
     * {@code nextQs} ({@code [count · B, 1]}, member after member), {@code targetQ[i] = rewards[i] + discount ·
     * masks[i] · nextQ[i]}; {@code rewards}, {@code masks}, {@code nextQ} and {@code targetQ} are {@code [B, 1]}.
     */
    default void tdTarget(int count, Tensor nextQs, boolean min, Tensor rewards, Tensor masks, double discount,
                          Tensor nextQ, Tensor targetQ) {
        int b = LossKernels.checkMembers(nextQs, count, targetQ.rows());
        float[] next = new float[b];
        float[] target = new float[b];
        LossKernels.tdTarget(count, LossKernels.read(this, nextQs), min, LossKernels.read(this, rewards), LossKernels.read(this, masks),
                discount, next, target);
        upload(next, nextQ);
        upload(target, targetQ);
    }

    /**
     * The gradient of {@code weight · mean((prediction − target)²)}: {@code gradient = weight · 2 · (prediction −
     * target) / n}, {@code n = prediction.size()}; {@code target} is as large as {@code prediction} or a whole
     * fraction of it, repeated (one TD target for every critic member). {@code stats[slot] = Σ (prediction − target)²}.
     */
    default void squaredErrorGradient(Tensor prediction, Tensor target, double weight, Tensor gradient, Tensor stats, int slot) {
        LossKernels.checkRepeated(prediction, target, gradient);
        float[] g = new float[Math.toIntExact(prediction.size())];
        double sum = LossKernels.squaredErrorGradient(LossKernels.read(this, prediction), LossKernels.read(this, target), weight, g);
        upload(g, gradient);
        LossKernels.put(this, stats, slot, sum);
    }

    /**
     * {@link #squaredErrorGradient} with one host weight per entry of {@code prediction} ({@code entryWeights}, as
     * long as it): {@code gradient = weight · 2 · w · (prediction − target) / n}, {@code stats[slot] = Σ w ·
     * (prediction − target)²}. Action chunking's masks (docs/algorithm.md §11); FQL itself never calls it. Every
     * backend runs this default (on a device backend: one download and one upload more than the unweighted kernel).
     */
    default void weightedSquaredErrorGradient(Tensor prediction, Tensor target, float[] entryWeights, double weight,
                                              Tensor gradient, Tensor stats, int slot) {
        LossKernels.checkRepeated(prediction, target, gradient);
        if (entryWeights.length != prediction.size()) {
            throw new IllegalArgumentException("weights for " + prediction.size() + " entries expected, got " + entryWeights.length);
        }
        float[] g = new float[Math.toIntExact(prediction.size())];
        double sum = LossKernels.weightedSquaredErrorGradient(LossKernels.read(this, prediction), LossKernels.read(this, target),
                entryWeights, weight, g);
        upload(g, gradient);
        LossKernels.put(this, stats, slot, sum);
    }

    /** {@code stats[slot] = Σ x}, {@code stats[slot + 1] = max x}, {@code stats[slot + 2] = min x}. */
    default void sumMaxMin(Tensor x, Tensor stats, int slot) {
        double[] smm = LossKernels.sumMaxMin(LossKernels.read(this, x));
        LossKernels.put(this, stats, slot, smm);
    }

    /**
     * The Q term of the one-step policy (docs/algorithm.md §2.4): with {@code qπ[i]} the mean over the {@code count}
     * members of {@code q} ({@code [count · B, 1]}) and {@code λ = normalize ? 1 / mean|qπ| : 1} (a constant), fills
     * {@code gradQ} ({@code [count · B, 1]}) with the gradient of {@code weight · (−λ · mean qπ)} with respect to each
     * member's output. {@code stats[slot] = −λ · mean qπ} (the Q loss), {@code stats[slot + 1] = mean qπ}.
     */
    default void qLossGradient(int count, Tensor q, boolean normalize, double weight, Tensor gradQ, Tensor stats, int slot) {
        LossKernels.checkMembers(q, count, q.rows() / Math.max(1, count));
        float[] g = new float[Math.toIntExact(gradQ.size())];
        double[] lossAndMean = LossKernels.qLossGradient(count, LossKernels.read(this, q), normalize, weight, g);
        upload(g, gradQ);
        LossKernels.put(this, stats, slot, lossAndMean);
    }

    /**
     * The gradient with respect to the one-step policy's actions {@code a} ({@code [B, d]}): the distillation term
     * {@code distillWeight · 2 · (a − teacher) / (B · d)} plus, where {@code −1 ≤ a ≤ 1} (the clip passes the
     * gradient), the sum over the {@code count} critic members of their input gradients' action columns
     * ({@code inputGradient} is {@code [count · B, w]}, columns {@code [firstCol, firstCol + d)}).
     * {@code stats[slot] = Σ (a − teacher)²}.
     */
    default void actorActionGradient(int count, Tensor inputGradient, int firstCol, Tensor actions, Tensor teacher,
                                     double distillWeight, Tensor gradient, Tensor stats, int slot) {
        LossKernels.checkActionGradient(count, inputGradient, firstCol, actions, teacher, gradient);
        float[] g = new float[Math.toIntExact(actions.size())];
        double sum = LossKernels.actorActionGradient(count, LossKernels.read(this, inputGradient), inputGradient.cols(), firstCol,
                LossKernels.read(this, actions), LossKernels.read(this, teacher), actions.rows(), actions.cols(), distillWeight, g);
        upload(g, gradient);
        LossKernels.put(this, stats, slot, sum);
    }

    /** {@code stats[slot] = Σ x²} ({@link #sumOfSquares(Tensor)} without handing the value to the host). */
    default void sumOfSquares(Tensor x, Tensor stats, int slot) {
        LossKernels.put(this, stats, slot, sumOfSquares(x));
    }
}
