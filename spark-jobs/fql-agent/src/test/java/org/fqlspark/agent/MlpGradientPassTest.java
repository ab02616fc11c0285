package org.fqlspark.agent;

import static org.junit.jupiter.api.Assertions.assertDoesNotThrow;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;

import org.fqlspark.tensor.JavaTensorOps;
import org.fqlspark.tensor.Tensor;
import org.fqlspark.tensor.TensorOps;
import org.junit.jupiter.api.Test;

/** Mlp's rule: one overwriting backward pass per parameter per step, checked rather than documented. */
class MlpGradientPassTest {

    private final TensorOps ops = new JavaTensorOps();
    private final FqlConfig config = FqlConfig.defaults().withHiddenDims(4, 3);
    private final ParameterLayout layout = ParameterLayout.trainable(2, 1, config);
    private final List<ParameterLayout.ModuleDims> modules = ParameterLayout.trainableModules(2, 1, config);
    private final Tensor params = ops.zeros(1, (int) layout.size());
    private final Tensor grads = ops.zeros(1, (int) layout.size());

    private Mlp critic(int member) {
        return new Mlp(ops, layout, modules.get(0), ParameterLayout.CRITIC, member, params, grads, 1e-6f);
    }

    private Mlp.Activations forwardOnce(Mlp net) {
        Mlp.Activations a = net.newActivations(3);
        ops.upload(new float[] {0.1f, 0.2f, 0.3f, -0.1f, -0.2f, -0.3f, 1f, 0f, -1f}, a.input);
        net.forward(a);
        return a;
    }

    @Test
    void aSecondParameterBackwardPassInOneStepIsRefused() {
        Mlp net = critic(0);
        Mlp.Activations a = forwardOnce(net);
        Tensor g = ops.zeros(3, 1);
        ops.fill(g, 1f);
        net.startGradientPass();
        net.backward(a, g, true, false);
        IllegalStateException e = assertThrows(IllegalStateException.class, () -> net.backward(a, g, true, false));
        assertTrue(e.getMessage().contains("critic[0]"), e.getMessage());
        // input-gradient-only passes (the Q term through the critic) stay allowed
        assertDoesNotThrow(() -> net.backward(a, g, false, true));
        net.requireGradientPass();
        // the next step starts a new pass
        net.startGradientPass();
        assertDoesNotThrow(() -> net.backward(a, g, true, false));
    }

    @Test
    void theStackedCriticGetsOnePassForAllItsMembers() {
        Mlp net = critic(-1);   // the whole ensemble as one stack
        Mlp.Activations a = forwardOnce(net);
        Tensor g = ops.zeros(net.members * 3, 1);
        ops.fill(g, 1f);
        net.startGradientPass();
        net.backward(a, g, true, false);
        IllegalStateException e = assertThrows(IllegalStateException.class, () -> net.backward(a, g, true, false));
        assertTrue(e.getMessage().contains("critic"), e.getMessage());
        net.requireGradientPass();
    }

    @Test
    void aNetworkWithoutItsBackwardPassIsReported() {
        Mlp net = critic(1);
        Mlp.Activations a = forwardOnce(net);
        Tensor g = ops.zeros(3, 1);
        net.startGradientPass();
        net.backward(a, g, false, true);
        IllegalStateException e = assertThrows(IllegalStateException.class, net::requireGradientPass);
        assertTrue(e.getMessage().contains("critic[1]"), e.getMessage());
    }

    @Test
    void everyTrainingStepGivesEachNetworkExactlyOnePass() {
        FqlAgent agent = new FqlAgent(FqlAgentTest.tiny(), FqlAgentTest.OBS, FqlAgentTest.ACT, 3, new JavaTensorOps());
        assertDoesNotThrow(() -> agent.update(FqlAgentTest.batch(1), FqlAgentTest.noise(2)));
        assertDoesNotThrow(() -> agent.update(FqlAgentTest.batch(3), FqlAgentTest.noise(4)));
    }
}
