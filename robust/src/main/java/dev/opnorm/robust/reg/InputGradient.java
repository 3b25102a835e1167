package dev.opnorm.robust.reg;

import dev.opnorm.linalg.BatchMap;
import dev.opnorm.nn.Shape;
import dev.opnorm.nn.layers.BnMode;
import dev.opnorm.nn.layers.ParamGrads;
import dev.opnorm.nn.layers.PlacedModel;

import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Input-gradient regularization (double backpropagation, Drucker and LeCun 1992; Ross and Doshi-Velez
 * 2018), a baseline: with g_i = d CE(f(x_i), y_i) / d x_i, the gradient of example i's own loss,
 * <pre>
 *   penalty = (lambda / (2B)) sum_i ||g_i||_2^2
 * </pre>
 * BatchNorm in EVAL mode (so g_i depends on example i only). The parameter gradient needs a double
 * backward pass; for piecewise-linear networks it is computed EXACTLY (no finite differences): with
 * s_i = softmax(f_i) - onehot(y_i), g_i = J_i^T s_i, so for fixed g,
 * <pre>
 *   d/d theta &lt;g, g(theta)&gt; = d/d theta &lt;J(theta) g, s(f(theta))&gt;
 *                             = d/d theta &lt;s, J(theta) g&gt;|_{s fixed}      (the JVP's parameter gradient, {@link TangentGradient})
 *                               + J_theta^T H (J g)                        (through the logits; H_i = diag(p_i) - p_i p_i^T)
 * </pre>
 * and d penalty/d theta = (lambda / B) times that. The activation pattern is locally constant, so no
 * other terms exist almost everywhere.
 */
public final class InputGradient implements Regularizer {
    private final double lambda;

    /** @param lambda strength (>= 0) */
    public InputGradient(double lambda) {
        Checks.lambda("input-grad", lambda);
        this.lambda = lambda;
    }

    @Override
    public String name() {
        return "input-grad";
    }

    public double lambda() {
        return lambda;
    }

    /**
     * @return the penalty, or NaN (and no gradient) when the model's logits or the penalty are not finite
     * @throws IllegalArgumentException when the batch has no labels
     */
    @Override
    public double accumulate(RegBatch batch, ParamGrads grads) {
        return accumulate(RegEngine.onHost(PlacedModel.host(batch.model())), batch.x().data, batch.x().shape,
                batch.labels(), grads);
    }

    /**
     * The penalty for batch x with its labels on any engine (BatchNorm EVAL), the gradient ACCUMULATED (+=)
     * into grads. Data stays on the engine except ||g_i||_2 (one read of B scalars).
     *
     * @return the penalty, or NaN (and no gradient) when the model's logits or the penalty are not finite
     * @throws IllegalArgumentException when labels or grads are null
     */
    public <V, S, L, G> double accumulate(RegEngine<V, S, L, G> e, V x, Shape shape, L labels, G grads) {
        if (labels == null) {
            throw new IllegalArgumentException("input-grad: the batch has no labels");
        }
        if (grads == null) {
            throw new IllegalArgumentException("input-grad: gradients must not be null");
        }
        RegOps<V, S, L> ops = e.ops();
        int b = shape.n(), in = shape.perExample();
        V s = null, g = null, cot = null, w = null;
        S norms = null;
        try (RegNetwork.Linearized<V, G> lin = e.network().linearize(x, shape, BnMode.EVAL)) {
            Shape out = lin.outputShape();
            int k = out.perExample(), len = out.size();
            BatchMap<V> j = lin.asBatchMap();
            // s_i = softmax(f_i) - onehot(y_i): the per-example loss gradient in the logits (the mean loss's
            // gradient times b)
            s = ops.allocate(out);
            ops.softmaxGradRows(s, lin.output(), labels, b, k);
            g = ops.allocate(shape);
            j.applyTranspose(s, g);
            norms = e.batchOps().scalars(b);
            e.batchOps().rowNorms(norms, 0, g, b, in, 2);
            double value = 0;
            for (double n : e.batchOps().read(norms, b)) {
                value += n * n;
            }
            if (!Double.isFinite(value)) {
                return Double.NaN; // a diverged model: the caller reports the non-finite loss
            }
            // term 1: the JVP's parameter gradient, cotangent (lambda/B) s, tangent g
            cot = ops.allocate(out);
            ops.scale(cot, s, (float) (lambda / b), len);
            lin.tangentGradient(g, cot, grads);
            // term 2: through the logits, cotangent (lambda/B) H_i (J g)_i with H_i = diag(p_i) - p_i p_i^T
            w = ops.allocate(out);
            j.apply(g, w);
            ops.softmaxHessianRows(cot, s, w, labels, b, k, lambda / b);
            lin.vjpParams(cot, grads);
            return 0.5 * lambda * value / b;
        } finally {
            ops.release(s);
            ops.release(g);
            ops.release(cot);
            ops.release(w);
            if (norms != null) {
                e.batchOps().releaseScalars(norms);
            }
        }
    }

    @Override
    public Map<String, Object> config() {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("name", name());
        m.put("lambda", lambda);
        m.put("bn_mode", "EVAL");
        return m;
    }
}
