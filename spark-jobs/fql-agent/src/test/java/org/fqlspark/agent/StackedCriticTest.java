package org.fqlspark.agent;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.function.Supplier;

import org.fqlspark.tensor.FusedCpuTensorOps;
import org.fqlspark.tensor.JavaTensorOps;
import org.fqlspark.tensor.Nd4jTensorOps;
import org.fqlspark.tensor.Tensor;
import org.fqlspark.tensor.TensorOps;
import org.junit.jupiter.api.Test;

/**
 * The critic ensemble runs as one stack; a backend's stacked operations must give exactly what running each member
 * on its own gives. Here the same agent trains on a backend and on the same backend seen through a wrapper that only
 * passes the 2-D operations on (so the stacked calls fall back to the per-member defaults): the training state after
 * a few steps must be the same bits, with and without the critic's LayerNorm.
 */
class StackedCriticTest {

    /** Passes the 2-D operations on; the stacked ones are {@link TensorOps}' per-member defaults. */
    private record PerMember(TensorOps d) implements TensorOps {
        @Override public String describe() { return "per member: " + d.describe(); }
        @Override public Tensor zeros(int rows, int cols) { return d.zeros(rows, cols); }
        @Override public Tensor view(Tensor flat, long offset, int rows, int cols) { return d.view(flat, offset, rows, cols); }
        @Override public void upload(float[] src, Tensor dst) { d.upload(src, dst); }
        @Override public void download(Tensor src, float[] dst) { d.download(src, dst); }
        @Override public void fill(Tensor dst, float value) { d.fill(dst, value); }
        @Override public void setColumn(Tensor dst, int col, float value) { d.setColumn(dst, col, value); }
        @Override public void addDividedToColumns(Tensor dst, int firstCol, Tensor src, float divisor) { d.addDividedToColumns(dst, firstCol, src, divisor); }
        @Override public void copy(Tensor src, Tensor dst) { d.copy(src, dst); }
        @Override public void gemm(Tensor a, boolean ta, Tensor b, boolean tb, Tensor c, float beta) { d.gemm(a, ta, b, tb, c, beta); }
        @Override public void biasGelu(Tensor z, Tensor bias, Tensor out) { d.biasGelu(z, bias, out); }
        @Override public void addBias(Tensor z, Tensor bias) { d.addBias(z, bias); }
        @Override public void geluBackward(Tensor grad, Tensor z) { d.geluBackward(grad, z); }
        @Override public void layerNorm(Tensor x, Tensor s, Tensor b, float eps, Tensor xh, Tensor inv, Tensor out) { d.layerNorm(x, s, b, eps, xh, inv, out); }
        @Override public void layerNormBackward(Tensor g, Tensor xh, Tensor inv, Tensor s, Tensor gi, Tensor gs, Tensor gb) { d.layerNormBackward(g, xh, inv, s, gi, gs, gb); }
        @Override public void biasGeluLayerNorm(Tensor z, Tensor b, Tensor s, Tensor lb, float eps, Tensor g, Tensor xh, Tensor inv, Tensor out) { d.biasGeluLayerNorm(z, b, s, lb, eps, g, xh, inv, out); }
        @Override public void layerNormGeluBackward(Tensor g, Tensor xh, Tensor inv, Tensor s, Tensor z, Tensor gi, Tensor gs, Tensor gb) { d.layerNormGeluBackward(g, xh, inv, s, z, gi, gs, gb); }
        @Override public void columnSums(Tensor x, Tensor out, boolean acc) { d.columnSums(x, out, acc); }
        @Override public void adam(Tensor p, Tensor g, Tensor m, Tensor v, double lr, double b1, double b2, double eps, long step) { d.adam(p, g, m, v, lr, b1, b2, eps, step); }
        @Override public void polyak(Tensor target, Tensor source, double tau) { d.polyak(target, source, tau); }
        @Override public double sumOfSquares(Tensor x) { return d.sumOfSquares(x); }
    }

    private static FqlAgent.AgentState train(FqlConfig config, TensorOps ops) {
        FqlAgent agent = new FqlAgent(config, FqlAgentTest.OBS, FqlAgentTest.ACT, 3, ops);
        for (int s = 0; s < 3; s++) {
            agent.update(FqlAgentTest.batch(10 + s), FqlAgentTest.noise(20 + s));
        }
        return agent.state();
    }

    @Test
    void stackedCriticTrainsExactlyAsSeparateMembers() {
        @SuppressWarnings("unchecked")
        Supplier<TensorOps>[] backends = new Supplier[] {
            () -> new FusedCpuTensorOps(true, 1), () -> new FusedCpuTensorOps(false, 1), Nd4jTensorOps::new, JavaTensorOps::new};
        for (boolean layerNorm : new boolean[] {true, false}) {
            FqlConfig t = FqlAgentTest.tiny();
            FqlConfig config = t.with(FqlConfig.LAYER_NORM, layerNorm);
            for (Supplier<TensorOps> backend : backends) {
                FqlAgent.AgentState stacked = train(config, backend.get());
                FqlAgent.AgentState perMember = train(config, new PerMember(backend.get()));
                String what = backend.get().describe() + (layerNorm ? ", LayerNorm" : ", no LayerNorm");
                assertArrayEquals(perMember.parameters(), stacked.parameters(), what);
                assertArrayEquals(perMember.targetParameters(), stacked.targetParameters(), what);
                assertArrayEquals(perMember.adamM(), stacked.adamM(), what);
                assertArrayEquals(perMember.adamV(), stacked.adamV(), what);
                assertEquals(perMember.step(), stacked.step());
            }
        }
    }
}
