package org.fqlspark.agent;

import org.fqlspark.tensor.Tensor;
import org.fqlspark.tensor.TensorOps;

/**
 * The FQL MLP (docs/algorithm.md §1.1): for each hidden width {@code Dense → GELU(tanh) → [LayerNorm]}, then a final
 * Dense. Weights are views into a flat parameter vector, gradients views into a flat gradient vector, so Adam, Polyak,
 * averaging and checkpoints work on whole vectors. Forward and backward are written by hand over {@link TensorOps}.
 *
 * <p>An ensemble (the critic's members) runs as one stack: every member reads the same input, and each layer is one
 * stacked {@link TensorOps} call for all members ({@link TensorOps#gemmStacked} and friends), with activations,
 * outputs and input gradients stacked member after member ({@code [members · B, w]}). The stacked weights are the
 * layout's own {@code [members, in, out]} blocks, so the flat vectors are the same as for separate members.
 */
final class Mlp {

    private final TensorOps ops;
    final int[] dims;
    final boolean layerNorm;
    private final float layerNormEps;
    private final Tensor[] kernels;
    private final Tensor[] biases;
    private final Tensor[] lnScales;
    private final Tensor[] lnBiases;
    private final Tensor[] gradKernels;
    private final Tensor[] gradBiases;
    private final Tensor[] gradLnScales;
    private final Tensor[] gradLnBiases;
    private final String name;
    /** Networks in this stack: the ensemble size, or 1 for a single network (or one member bound alone). */
    final int members;
    private boolean gradientsWritten;

    /**
     * Binds one network to the flat vectors: one member of an ensemble when {@code member >= 0}, the whole ensemble
     * as one stack when {@code member < 0} and the module is an ensemble.
     *
     * @param grads the flat gradient vector laid out like {@code params}, or null for a network that is never
     *              trained through this instance (the target critic)
     */
    Mlp(TensorOps ops, ParameterLayout layout, ParameterLayout.ModuleDims module, String prefix, int member,
        Tensor params, Tensor grads, float layerNormEps) {
        this.ops = ops;
        this.name = member >= 0 ? prefix + "[" + member + "]" : prefix;
        this.members = member >= 0 ? 1 : Math.max(1, module.ensemble());
        this.dims = module.dims().clone();
        this.layerNorm = module.layerNorm();
        this.layerNormEps = layerNormEps;
        int layers = dims.length - 1;
        kernels = new Tensor[layers];
        biases = new Tensor[layers];
        lnScales = new Tensor[layers];
        lnBiases = new Tensor[layers];
        gradKernels = new Tensor[layers];
        gradBiases = new Tensor[layers];
        gradLnScales = new Tensor[layers];
        gradLnBiases = new Tensor[layers];
        for (int i = 0; i < layers; i++) {
            int in = dims[i];
            int out = dims[i + 1];
            kernels[i] = bind(layout, params, prefix + "/Dense_" + i + "/kernel", member, in, out);
            biases[i] = bind(layout, params, prefix + "/Dense_" + i + "/bias", member, 1, out);
            if (grads != null) {
                gradKernels[i] = bind(layout, grads, prefix + "/Dense_" + i + "/kernel", member, in, out);
                gradBiases[i] = bind(layout, grads, prefix + "/Dense_" + i + "/bias", member, 1, out);
            }
            if (layerNorm && i + 1 < layers) {
                lnScales[i] = bind(layout, params, prefix + "/LayerNorm_" + i + "/scale", member, 1, out);
                lnBiases[i] = bind(layout, params, prefix + "/LayerNorm_" + i + "/bias", member, 1, out);
                if (grads != null) {
                    gradLnScales[i] = bind(layout, grads, prefix + "/LayerNorm_" + i + "/scale", member, 1, out);
                    gradLnBiases[i] = bind(layout, grads, prefix + "/LayerNorm_" + i + "/bias", member, 1, out);
                }
            }
        }
    }

    private Tensor bind(ParameterLayout layout, Tensor flat, String name, int member, int rows, int cols) {
        ParameterLayout.Entry e = layout.entry(name);
        long offset = e.offset() + (member >= 0 ? (long) member * rows * cols : 0);
        return ops.view(flat, offset, members * rows, cols);
    }

    /**
     * Per-batch-size buffers of one forward/backward pass: activations kept for the backward pass and scratch. The
     * input is {@code [B, in]} (shared by the members of a stack); everything else is stacked, {@code [members · B, w]}.
     */
    final class Activations {
        final int batch;
        final Tensor input;
        final Tensor[] preActivations;   // Dense output + bias, before GELU
        final Tensor[] gelu;             // GELU output (the LayerNorm input; scratch of the fused layer op)
        final Tensor[] normalized;       // LayerNorm xhat
        final Tensor[] inverseStd;       // LayerNorm 1/sqrt(var + eps), [B, 1]
        final Tensor[] outputs;          // what the next layer reads
        final Tensor output;
        final Tensor[] gradOutputs;      // gradient w.r.t. each layer's output, backward scratch
        final Tensor[] gradGelu;         // gradient w.r.t. each LayerNorm input, backward scratch
        final Tensor gradInput;

        Activations(int batch) {
            this.batch = batch;
            int layers = dims.length - 1;
            input = ops.zeros(batch, dims[0]);
            int rows = members * batch;
            preActivations = new Tensor[layers];
            gelu = new Tensor[layers];
            normalized = new Tensor[layers];
            inverseStd = new Tensor[layers];
            outputs = new Tensor[layers];
            gradOutputs = new Tensor[layers];
            gradGelu = new Tensor[layers];
            for (int i = 0; i < layers; i++) {
                int w = dims[i + 1];
                preActivations[i] = ops.zeros(rows, w);
                gradOutputs[i] = ops.zeros(rows, w);
                if (i + 1 < layers) {
                    gelu[i] = ops.zeros(rows, w);
                    if (layerNorm) {
                        normalized[i] = ops.zeros(rows, w);
                        inverseStd[i] = ops.zeros(rows, 1);
                        outputs[i] = ops.zeros(rows, w);
                        gradGelu[i] = ops.zeros(rows, w);
                    } else {
                        outputs[i] = gelu[i];
                    }
                } else {
                    outputs[i] = preActivations[i];
                }
            }
            output = outputs[layers - 1];
            gradInput = ops.zeros(rows, dims[0]);
        }
    }

    Activations newActivations(int batch) {
        return new Activations(batch);
    }

    /** Forward pass on {@code a.input}; returns {@code a.output} ({@code [members · B, out]}). */
    Tensor forward(Activations a) {
        int layers = dims.length - 1;
        Tensor x = a.input;
        for (int i = 0; i < layers; i++) {
            Tensor z = a.preActivations[i];
            gemm(x, i == 0, false, kernels[i], false, z);
            if (i + 1 < layers) {
                if (layerNorm) {
                    if (members == 1) {
                        ops.biasGeluLayerNorm(z, biases[i], lnScales[i], lnBiases[i], layerNormEps, a.gelu[i],
                                a.normalized[i], a.inverseStd[i], a.outputs[i]);
                    } else {
                        ops.biasGeluLayerNormStacked(members, z, biases[i], lnScales[i], lnBiases[i], layerNormEps, a.gelu[i],
                                a.normalized[i], a.inverseStd[i], a.outputs[i]);
                    }
                } else if (members == 1) {
                    ops.biasGelu(z, biases[i], a.gelu[i]);
                } else {
                    ops.biasGeluStacked(members, z, biases[i], a.gelu[i]);
                }
            } else if (members == 1) {
                ops.addBias(z, biases[i]);
            } else {
                ops.addBiasStacked(members, z, biases[i]);
            }
            x = a.outputs[i];
        }
        return a.output;
    }

    /**
     * {@code c = op(a) · op(b)} for a single network, or per member of a stack ({@code a} is the shared input when
     * {@code aIsInput}, else stacked).
     */
    private void gemm(Tensor a, boolean aIsInput, boolean transposeA, Tensor b, boolean transposeB, Tensor c) {
        if (members == 1) {
            ops.gemm(a, transposeA, b, transposeB, c, 0f);
        } else {
            ops.gemmStacked(members, a, aIsInput, transposeA, b, transposeB, c);
        }
    }

    /**
     * Starts a gradient pass (one training step): from here until the next call, exactly one {@link #backward} may
     * write this network's parameter gradients. Backward passes overwrite the gradient views rather than add to
     * them, so a second one would silently discard the first's contribution; {@link #backward} refuses it and
     * {@link #requireGradientPass} reports a network that got none.
     */
    void startGradientPass() {
        gradientsWritten = false;
    }

    /** Throws unless a backward pass wrote this network's parameter gradients since {@link #startGradientPass}. */
    void requireGradientPass() {
        if (!gradientsWritten) {
            throw new IllegalStateException(name + ": no backward pass wrote its parameter gradients in this step"
                    + " (they would be left over from an earlier step)");
        }
    }

    /**
     * Backward pass from {@code gradOutput} ({@code [members · B, out]}) through the activations of the last
     * {@link #forward}. Writes the parameter gradients into the gradient views when {@code parameterGradients}
     * (overwriting: every parameter gets its gradient from exactly one backward pass per gradient pass, checked:
     * see {@link #startGradientPass}), and the input gradient into {@code a.gradInput} when {@code inputGradient}
     * (per member of a stack: {@code [members · B, in]}).
     * Activations are left intact, so one forward pass can be taken back more than once.
     */
    void backward(Activations a, Tensor gradOutput, boolean parameterGradients, boolean inputGradient) {
        if (parameterGradients && gradKernels[0] == null) {
            throw new IllegalStateException(name + " has no gradient buffers");
        }
        if (parameterGradients) {
            if (gradientsWritten) {
                throw new IllegalStateException(name + ": a second backward pass would overwrite the parameter gradients"
                        + " of the first in the same step (gradients are overwritten, not accumulated)");
            }
            gradientsWritten = true;
        }
        int layers = dims.length - 1;
        Tensor dz = a.gradOutputs[layers - 1];
        ops.copy(gradOutput, dz);
        for (int i = layers - 1; i >= 0; i--) {
            if (i + 1 < layers) {
                // dz currently holds dL/d(layer output); take it back through LayerNorm and GELU (one fused op).
                if (layerNorm) {
                    if (parameterGradients) {
                        ops.fill(gradLnScales[i], 0f);
                        ops.fill(gradLnBiases[i], 0f);
                    }
                    Tensor gradScale = parameterGradients ? gradLnScales[i] : null;
                    Tensor gradBias = parameterGradients ? gradLnBiases[i] : null;
                    if (members == 1) {
                        ops.layerNormGeluBackward(dz, a.normalized[i], a.inverseStd[i], lnScales[i], a.preActivations[i],
                                a.gradGelu[i], gradScale, gradBias);
                    } else {
                        ops.layerNormGeluBackwardStacked(members, dz, a.normalized[i], a.inverseStd[i], lnScales[i],
                                a.preActivations[i], a.gradGelu[i], gradScale, gradBias);
                    }
                    dz = a.gradGelu[i];
                } else {
                    ops.geluBackward(dz, a.preActivations[i]);   // element-wise: one call for a whole stack
                }
            }
            Tensor x = i == 0 ? a.input : a.outputs[i - 1];
            if (parameterGradients) {
                gemm(x, i == 0, true, dz, false, gradKernels[i]);
                if (members == 1) {
                    ops.columnSums(dz, gradBiases[i], false);
                } else {
                    ops.columnSumsStacked(members, dz, gradBiases[i]);
                }
            }
            if (i > 0) {
                Tensor dPrev = a.gradOutputs[i - 1];
                gemm(dz, false, false, kernels[i], true, dPrev);
                dz = dPrev;
            } else if (inputGradient) {
                gemm(dz, false, false, kernels[0], true, a.gradInput);
            }
        }
    }
}
