package dev.opnorm.robust.reg;

import dev.opnorm.nn.layers.BnMode;
import dev.opnorm.nn.layers.Layer;
import dev.opnorm.nn.layers.Linearization;
import dev.opnorm.nn.layers.ParamGrads;
import dev.opnorm.nn.layers.TangentRule;

import java.util.List;

/**
 * The parameter gradient of a Jacobian-vector product: grads += d/d theta of {@code <c, J(theta) t>}
 * for a fixed tangent t and cotangent c, where J is the input Jacobian of the model at x.
 *
 * <p>Why this is exact: for a network of conv, linear, ReLU, max/avg pooling, flatten and EVAL-mode
 * BatchNorm, J = J_L ... J_1 where every factor is either a weight matrix (conv, linear: J_l = W_l), a
 * diagonal scale (BN EVAL: gamma / sqrt(running_var + eps)) or a 0/1 selection fixed by the activation
 * pattern (ReLU masks, max-pool argmax), which does not change under an infinitesimal change of theta
 * (almost everywhere). Biases and BN shifts do not enter J. So, with t_l = J_l ... J_1 t (forward
 * tangents) and c_l = J_{l+1}^T ... J_L^T c (backward cotangents),
 * <pre>
 *   d/dW_l <c, J t> = c_l (x) t_{l-1}     (the layer's weight-gradient formula with t_{l-1} as its input)
 *   d/dgamma_l      = sum over (n, h, w) of c_l * t_{l-1} / sqrt(running_var + eps)   (affine BN)
 * </pre>
 * Equivalently {@code <c, J t>} = d/ds {@code <c, f(x + s t)>} at s = 0, so this is the parameter
 * gradient of a JVP, a mixed second derivative, computed with one tangent pass and one cotangent pass.
 * The per-layer formulas are the layers' own ({@link Linearization#tangentRule()}); this class walks
 * the model's chain ({@link Layer#chain()}) and composes them, so a new layer type with a rule needs
 * nothing here.
 *
 * <p>BatchNorm in TRAIN mode is rejected: there J depends on theta through the batch statistics and
 * the formula above would miss those terms.
 */
public final class TangentGradient {
    private TangentGradient() {
    }

    /**
     * grads += d/d theta {@code <cotangent, J(theta) tangent>}, summed over the batch.
     *
     * @param model     the model {@code lin} linearizes
     * @param lin       model.linearize(x, EVAL)
     * @param tangent   (batch, input per example), lin.inShape().size() elements, not modified
     * @param cotangent lin.outShape().size() elements, not modified
     * @param grads     accumulated (+=)
     * @throws IllegalArgumentException for a TRAIN-mode linearization, wrong array lengths, a linearization
     *                                  that is not of {@code model}, or a link of the model's chain with
     *                                  parameters but no {@link Linearization#tangentRule()} (a residual block;
     *                                  its name is given), before anything is accumulated
     */
    public static void accumulate(Layer model, Linearization lin, float[] tangent, float[] cotangent,
            ParamGrads grads) {
        if (lin.mode() != BnMode.EVAL) {
            throw new IllegalArgumentException("TangentGradient needs an EVAL-mode linearization (TRAIN-mode BatchNorm "
                    + "makes J depend on the parameters through the batch statistics)");
        }
        if (tangent.length < lin.inShape().size() || cotangent.length < lin.outShape().size()) {
            throw new IllegalArgumentException("TangentGradient: tangent has " + tangent.length + " elements for input "
                    + lin.inShape() + ", cotangent " + cotangent.length + " for output " + lin.outShape());
        }
        List<ModelWalk.LeafLin> leaves = ModelWalk.leafLinearizations(model, lin);
        int k = leaves.size();
        // every rule first, so that an unsupported layer fails before anything is accumulated
        TangentRule[] rules = new TangentRule[k];
        for (int i = 0; i < k; i++) {
            rules[i] = ruleOf(leaves.get(i));
        }
        // forward: ins[i] = tangent entering leaf i
        float[][] ins = new float[k][];
        ins[0] = tangent;
        for (int i = 0; i < k - 1; i++) {
            Linearization li = leaves.get(i).lin();
            ins[i + 1] = new float[li.outShape().size()];
            li.jvp(ins[i], ins[i + 1]);
        }
        // backward: g = cotangent at the output of leaf i
        float[] g = cotangent;
        for (int i = k - 1; i >= 0; i--) {
            ModelWalk.LeafLin l = leaves.get(i);
            if (rules[i] != null) {
                rules[i].accumulate(ins[i], g, grads);
            }
            if (i > 0 && needsCotangentBelow(leaves, i)) {
                float[] below = new float[l.lin().inShape().size()];
                l.lin().vjp(g, below);
                g = below;
            } else if (i > 0) {
                break; // no parameters further down
            }
        }
    }

    /** The link's rule; null for a layer without parameters (J does not depend on any). */
    private static TangentRule ruleOf(ModelWalk.LeafLin l) {
        if (l.layer().params().isEmpty()) {
            return null;
        }
        TangentRule r = l.lin().tangentRule();
        if (r == null) {
            throw new IllegalArgumentException("TangentGradient: layer '" + l.layer().qualifiedName() + "' ("
                    + l.layer().getClass().getSimpleName() + ") has parameters but no tangent-gradient rule");
        }
        return r;
    }

    private static boolean needsCotangentBelow(List<ModelWalk.LeafLin> leaves, int i) {
        for (int j = 0; j < i; j++) {
            if (!leaves.get(j).layer().params().isEmpty()) {
                return true;
            }
        }
        return false;
    }
}
