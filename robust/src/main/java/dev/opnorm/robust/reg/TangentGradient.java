package dev.opnorm.robust.reg;

import dev.opnorm.nn.Shape;
import dev.opnorm.nn.kernels.Ops;
import dev.opnorm.nn.layers.BnMode;
import dev.opnorm.nn.layers.BufferPool;
import dev.opnorm.nn.layers.Grads;
import dev.opnorm.nn.layers.Layer;
import dev.opnorm.nn.layers.Linearization;
import dev.opnorm.nn.layers.Linearized;
import dev.opnorm.nn.layers.ParamGrads;
import dev.opnorm.nn.layers.PlacedLinearization;
import dev.opnorm.nn.layers.PlacedModel;

import java.util.ArrayList;
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
        if (model == null || lin == null) {
            throw new IllegalArgumentException("TangentGradient needs a model and its linearization");
        }
        accumulate(PlacedModel.host(model).view(lin, null), tangent, cotangent, grads); // the one walk, on the host
    }

    /**
     * grads += d/d theta {@code <cotangent, J(theta) tangent>}, summed over the batch, for a placed model's
     * linearization (on a device: kernels only, no transfer): the walk below on the parts' own tangent rules
     * ({@link Linearized#tangentRule}); tangents in buffers of the model's pool, cotangents in two pooled
     * scratch buffers.
     *
     * @param tangent   lin.inShape().size() elements, not modified
     * @param cotangent lin.outShape().size() elements, not modified; not the tangent
     * @throws IllegalArgumentException for a TRAIN-mode linearization, null or short buffers, or a part with
     *                                  parameters and no rule (a residual block; its name is given), before
     *                                  anything is accumulated
     */
    public static <F> void accumulate(PlacedLinearization<F> lin, F tangent, F cotangent, Grads<F> grads) {
        if (lin.mode() != BnMode.EVAL) {
            throw new IllegalArgumentException("TangentGradient needs an EVAL-mode linearization (TRAIN-mode BatchNorm "
                    + "makes J depend on the parameters through the batch statistics)");
        }
        if (grads == null) {
            throw new IllegalArgumentException("TangentGradient needs gradient buffers");
        }
        Ops<F, ?> ops = lin.model().ops();
        check(ops, "tangent", tangent, lin.inShape());
        check(ops, "cotangent", cotangent, lin.outShape());
        if (tangent == cotangent) {
            throw new IllegalArgumentException("TangentGradient: tangent and cotangent must not be the same tensor");
        }
        PlacedChain<F> chain = new PlacedChain<>(lin.linearized().chain(), lin.model().pool());
        try {
            accumulate(chain, tangent, cotangent, grads);
        } finally {
            chain.releaseScratch();
        }
    }

    private static <F> void check(Ops<F, ?> ops, String name, F v, Shape shape) {
        if (v == null) {
            throw new IllegalArgumentException("TangentGradient: " + name + " must not be null");
        }
        if (ops.length(v) < shape.size()) {
            throw new IllegalArgumentException("TangentGradient: " + name + " " + v + " is shorter than shape "
                    + shape);
        }
    }

    /**
     * grads += d/d theta {@code <cotangent, J(theta) tangent>} along a chain on any backend (written once):
     * one tangent pass keeps each link's input tangent, then one cotangent pass applies each rule and stops
     * below the lowest link with parameters.
     *
     * @throws IllegalArgumentException for a link with parameters but no rule (named), before anything is
     *                                  accumulated
     */
    public static <V, G> void accumulate(TangentChain<V, G> chain, V tangent, V cotangent, G grads) {
        int k = chain.links(), lowest = -1;
        // every rule first, so that an unsupported layer fails before anything is accumulated
        for (int i = 0; i < k; i++) {
            if (!chain.hasParams(i)) {
                continue;
            }
            if (!chain.hasRule(i)) {
                throw new IllegalArgumentException("TangentGradient: layer " + chain.describe(i)
                        + " has parameters but no tangent-gradient rule");
            }
            if (lowest < 0) {
                lowest = i;
            }
        }
        if (lowest < 0) {
            return; // J does not depend on any parameter
        }
        List<V> ins = new ArrayList<>(k); // ins[i]: the tangent entering link i
        ins.add(tangent);
        try {
            for (int i = 0; i < k - 1; i++) {
                ins.add(chain.tangentOut(i));
                chain.jvp(i, ins.get(i), ins.get(i + 1));
            }
            V g = cotangent; // the cotangent at the output of link i
            for (int i = k - 1; i >= lowest; i--) {
                if (chain.hasParams(i)) {
                    chain.accumulate(i, ins.get(i), g, grads);
                }
                if (i > lowest) {
                    g = chain.cotangentBelow(i, g);
                }
            }
        } finally {
            for (int i = 1; i < ins.size(); i++) {
                chain.release(ins.get(i));
            }
        }
    }

    /**
     * A placed linearization's parts as a chain: their JVP, VJP and tangent rules on the backend's buffers;
     * tangents from the model's pool, each cotangent in one of two scratch buffers (ping-pong: a link's
     * cotangent below is never the one at its output).
     */
    private static final class PlacedChain<F> implements TangentChain<F, Grads<F>> {
        private final List<Linearized<F>> parts;
        private final BufferPool<F, ?> pool;
        private final Shape scratchShape; // the largest tensor of the chain
        private F ping;
        private F pong;

        PlacedChain(List<Linearized<F>> parts, BufferPool<F, ?> pool) {
            this.parts = parts;
            this.pool = pool;
            int max = parts.get(0).inShape().size();
            for (Linearized<F> l : parts) {
                max = Math.max(max, l.outShape().size());
            }
            this.scratchShape = Shape.features(1, max);
        }

        @Override
        public int links() {
            return parts.size();
        }

        @Override
        public boolean hasParams(int i) {
            return !parts.get(i).layer().params().isEmpty();
        }

        @Override
        public boolean hasRule(int i) {
            return parts.get(i).hasTangentRule();
        }

        @Override
        public String describe(int i) {
            Layer l = parts.get(i).layer();
            return "'" + l.qualifiedName() + "' (" + l.getClass().getSimpleName() + ")";
        }

        @Override
        public F tangentOut(int i) {
            return pool.tensor(parts.get(i).outShape());
        }

        @Override
        public void release(F v) {
            pool.give(v);
        }

        @Override
        public void jvp(int i, F in, F out) {
            parts.get(i).jvp(in, out);
        }

        @Override
        public F cotangentBelow(int i, F g) {
            if (ping == null) {
                ping = pool.tensor(scratchShape);
                pong = pool.tensor(scratchShape);
            }
            F below = (i & 1) == 0 ? ping : pong; // g is the other one or the caller's cotangent
            parts.get(i).vjp(g, below, null);
            return below;
        }

        @Override
        public void accumulate(int i, F t, F g, Grads<F> grads) {
            parts.get(i).tangentRule(t, g, grads);
        }

        void releaseScratch() {
            if (ping != null) {
                pool.give(ping);
                pool.give(pong);
                ping = pong = null;
            }
        }
    }
}
