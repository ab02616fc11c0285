package org.fqlspark.bench;

import java.io.PrintStream;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;
import java.util.function.Supplier;

import org.fqlspark.tensor.Tensor;
import org.fqlspark.tensor.TensorOps;

/**
 * A {@link TensorOps} decorator that adds up the wall time and call count of each operation, to see where a training
 * step's time goes (GEMM, element-wise work, per-op overhead, host-side work in between). Synchronous backends only
 * (the CPU backend): on an asynchronous GPU backend the times would land on whichever op synchronises.
 */
public final class ProfilingTensorOps implements TensorOps {

    private final TensorOps delegate;
    private final Map<String, long[]> totals = new TreeMap<>();   // name -> {nanos, calls}

    private final boolean byShape = Boolean.getBoolean("fql.profile.gemmShapes");

    public ProfilingTensorOps(TensorOps delegate) {
        this.delegate = delegate;
    }

    private void time(String name, Runnable r) {
        long t0 = System.nanoTime();
        r.run();
        long[] t = totals.computeIfAbsent(name, k -> new long[2]);
        t[0] += System.nanoTime() - t0;
        t[1]++;
    }

    private <T> T timed(String name, Supplier<T> s) {
        long t0 = System.nanoTime();
        T v = s.get();
        long[] t = totals.computeIfAbsent(name, k -> new long[2]);
        t[0] += System.nanoTime() - t0;
        t[1]++;
        return v;
    }

    public void reset() {
        totals.clear();
    }

    /** Calls of all operations since the last {@link #reset}. */
    public long totalCalls() {
        return totals.values().stream().mapToLong(t -> t[1]).sum();
    }

    public long totalNanos() {
        return totals.values().stream().mapToLong(t -> t[0]).sum();
    }

    /** Prints per-op totals divided by {@code steps}, and the share of {@code wallNanos} spent outside the ops. */
    public void print(PrintStream out, int steps, long wallNanos) {
        out.printf(Locale.ROOT, "%-20s %10s %12s %10s%n", "op", "calls/step", "ms/step", "share");
        for (Map.Entry<String, long[]> e : totals.entrySet()) {
            out.printf(Locale.ROOT, "%-28s %10d %12.3f %9.1f%%%n", e.getKey(), e.getValue()[1] / steps,
                    e.getValue()[0] / 1e6 / steps, 100.0 * e.getValue()[0] / wallNanos);
        }
        long host = wallNanos - totalNanos();
        out.printf(Locale.ROOT, "%-20s %10s %12.3f %9.1f%%%n", "(host, between ops)", "", host / 1e6 / steps, 100.0 * host / wallNanos);
        out.printf(Locale.ROOT, "%-20s %10s %12.3f%n", "step total", "", wallNanos / 1e6 / steps);
    }

    @Override public String describe() { return "profiled " + delegate.describe(); }
    @Override public Tensor zeros(int rows, int cols) { return timed("zeros", () -> delegate.zeros(rows, cols)); }
    @Override public Tensor view(Tensor flat, long offset, int rows, int cols) { return delegate.view(flat, offset, rows, cols); }
    @Override public void upload(float[] src, Tensor dst) { time("upload", () -> delegate.upload(src, dst)); }
    @Override public void download(Tensor src, float[] dst) { time("download", () -> delegate.download(src, dst)); }
    @Override public void fill(Tensor dst, float value) { time("fill", () -> delegate.fill(dst, value)); }
    @Override public void copy(Tensor src, Tensor dst) { time("copy", () -> delegate.copy(src, dst)); }
    @Override public void setColumn(Tensor dst, int col, float value) { time("setColumn", () -> delegate.setColumn(dst, col, value)); }

    @Override
    public void addDividedToColumns(Tensor dst, int firstCol, Tensor src, float divisor) {
        time("addDividedToColumns", () -> delegate.addDividedToColumns(dst, firstCol, src, divisor));
    }

    @Override
    public void gemm(Tensor a, boolean ta, Tensor b, boolean tb, Tensor c, float beta) {
        String name = byShape
                ? "gemm " + (ta ? a.cols() + "x" + a.rows() + "ᵀ" : a.rows() + "x" + a.cols()) + "·" + (tb ? b.cols() + "x" + b.rows() + "ᵀ" : b.rows() + "x" + b.cols())
                : "gemm";
        time(name, () -> delegate.gemm(a, ta, b, tb, c, beta));
    }

    @Override public void biasGelu(Tensor z, Tensor bias, Tensor out) { time("biasGelu", () -> delegate.biasGelu(z, bias, out)); }
    @Override public void addBias(Tensor z, Tensor bias) { time("addBias", () -> delegate.addBias(z, bias)); }
    @Override public void geluBackward(Tensor grad, Tensor z) { time("geluBackward", () -> delegate.geluBackward(grad, z)); }

    @Override
    public void layerNorm(Tensor x, Tensor scale, Tensor bias, float eps, Tensor xhat, Tensor invStd, Tensor out) {
        time("layerNorm", () -> delegate.layerNorm(x, scale, bias, eps, xhat, invStd, out));
    }

    @Override
    public void layerNormBackward(Tensor gradOut, Tensor xhat, Tensor invStd, Tensor scale, Tensor gradIn, Tensor gradScale, Tensor gradBias) {
        time("layerNormBackward", () -> delegate.layerNormBackward(gradOut, xhat, invStd, scale, gradIn, gradScale, gradBias));
    }

    @Override
    public void biasGeluLayerNorm(Tensor z, Tensor bias, Tensor scale, Tensor lnBias, float eps, Tensor gelu, Tensor xhat,
                                  Tensor invStd, Tensor out) {
        time("biasGeluLayerNorm", () -> delegate.biasGeluLayerNorm(z, bias, scale, lnBias, eps, gelu, xhat, invStd, out));
    }

    @Override
    public void layerNormGeluBackward(Tensor gradOut, Tensor xhat, Tensor invStd, Tensor scale, Tensor z, Tensor gradIn,
                                      Tensor gradScale, Tensor gradBias) {
        time("layerNormGeluBackward", () -> delegate.layerNormGeluBackward(gradOut, xhat, invStd, scale, z, gradIn, gradScale, gradBias));
    }

    @Override public void columnSums(Tensor x, Tensor out, boolean acc) { time("columnSums", () -> delegate.columnSums(x, out, acc)); }

    @Override
    public void adam(Tensor p, Tensor g, Tensor m, Tensor v, double lr, double b1, double b2, double eps, long step) {
        time("adam", () -> delegate.adam(p, g, m, v, lr, b1, b2, eps, step));
    }

    @Override public void polyak(Tensor target, Tensor source, double tau) { time("polyak", () -> delegate.polyak(target, source, tau)); }
    @Override public double sumOfSquares(Tensor x) { return timed("sumOfSquares", () -> delegate.sumOfSquares(x)); }

    // stacked ensembles: one call each, whatever the delegate does inside (its per-member defaults are not counted twice)
    @Override public Tensor member(Tensor stacked, int j, int count) { return delegate.member(stacked, j, count); }

    @Override
    public void gemmStacked(int count, Tensor a, boolean sharedA, boolean ta, Tensor b, boolean tb, Tensor c) {
        String name = byShape
                ? "gemm " + count + "× " + (ta ? a.cols() + "x" + a.rows() + "ᵀ" : a.rows() + "x" + a.cols()) + "·" + (tb ? b.cols() + "x" + b.rows() + "ᵀ" : b.rows() + "x" + b.cols())
                : "gemm (stacked)";
        time(name, () -> delegate.gemmStacked(count, a, sharedA, ta, b, tb, c));
    }

    @Override
    public void biasGeluStacked(int count, Tensor z, Tensor bias, Tensor out) {
        time("biasGelu (stacked)", () -> delegate.biasGeluStacked(count, z, bias, out));
    }

    @Override
    public void addBiasStacked(int count, Tensor z, Tensor bias) {
        time("addBias (stacked)", () -> delegate.addBiasStacked(count, z, bias));
    }

    @Override
    public void biasGeluLayerNormStacked(int count, Tensor z, Tensor bias, Tensor scale, Tensor lnBias, float eps, Tensor gelu,
                                         Tensor xhat, Tensor invStd, Tensor out) {
        time("biasGeluLayerNorm (stacked)",
                () -> delegate.biasGeluLayerNormStacked(count, z, bias, scale, lnBias, eps, gelu, xhat, invStd, out));
    }

    @Override
    public void layerNormGeluBackwardStacked(int count, Tensor gradOut, Tensor xhat, Tensor invStd, Tensor scale, Tensor z,
                                             Tensor gradIn, Tensor gradScale, Tensor gradBias) {
        time("layerNormGeluBackward (stacked)",
                () -> delegate.layerNormGeluBackwardStacked(count, gradOut, xhat, invStd, scale, z, gradIn, gradScale, gradBias));
    }

    @Override
    public void columnSumsStacked(int count, Tensor x, Tensor out) {
        time("columnSums (stacked)", () -> delegate.columnSumsStacked(count, x, out));
    }

    // the loss stage: one call each (a delegate's host defaults are its own download and upload, not counted again)
    @Override
    public void copyColumns(Tensor src, int srcCol, Tensor dst, int dstCol, int width, boolean clip) {
        time("copyColumns", () -> delegate.copyColumns(src, srcCol, dst, dstCol, width, clip));
    }

    @Override
    public void tdTarget(int count, Tensor nextQs, boolean min, Tensor rewards, Tensor masks, double discount, Tensor nextQ, Tensor targetQ) {
        time("tdTarget", () -> delegate.tdTarget(count, nextQs, min, rewards, masks, discount, nextQ, targetQ));
    }

    @Override
    public void squaredErrorGradient(Tensor prediction, Tensor target, double weight, Tensor gradient, Tensor stats, int slot) {
        time("squaredErrorGradient", () -> delegate.squaredErrorGradient(prediction, target, weight, gradient, stats, slot));
    }

    @Override public void sumMaxMin(Tensor x, Tensor stats, int slot) { time("sumMaxMin", () -> delegate.sumMaxMin(x, stats, slot)); }

    @Override
    public void qLossGradient(int count, Tensor q, boolean normalize, double weight, Tensor gradQ, Tensor stats, int slot) {
        time("qLossGradient", () -> delegate.qLossGradient(count, q, normalize, weight, gradQ, stats, slot));
    }

    @Override
    public void actorActionGradient(int count, Tensor inputGradient, int firstCol, Tensor actions, Tensor teacher, double distillWeight,
                                    Tensor gradient, Tensor stats, int slot) {
        time("actorActionGradient",
                () -> delegate.actorActionGradient(count, inputGradient, firstCol, actions, teacher, distillWeight, gradient, stats, slot));
    }

    @Override
    public void sumOfSquares(Tensor x, Tensor stats, int slot) {
        time("sumOfSquares (to stats)", () -> delegate.sumOfSquares(x, stats, slot));
    }
}
