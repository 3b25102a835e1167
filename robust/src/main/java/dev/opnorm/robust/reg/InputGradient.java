package dev.opnorm.robust.reg;

import dev.opnorm.linalg.Norms;
import dev.opnorm.nn.Tensor;
import dev.opnorm.nn.loss.SoftmaxCrossEntropy;
import dev.opnorm.nn.layers.BnMode;
import dev.opnorm.nn.layers.Linearization;
import dev.opnorm.nn.layers.ParamGrads;

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
     * @return the penalty, or NaN (and no gradient) when the model's logits are not finite
     * @throws IllegalArgumentException when the batch has no labels
     */
    @Override
    public double accumulate(RegBatch batch, ParamGrads grads) {
        if (batch.labels() == null) {
            throw new IllegalArgumentException("input-grad: the batch has no labels");
        }
        Linearization lin = batch.model().linearize(batch.x(), BnMode.EVAL);
        int b = batch.n(), k = lin.outShape().perExample(), in = lin.inShape().perExample();
        Tensor logits = lin.output();
        if (logits.firstNonFinite() >= 0) {
            return Double.NaN; // a diverged model: the caller reports the non-finite loss
        }
        // s_i = softmax(f_i) - onehot(y_i): the per-example loss gradient in the logits (the mean loss's
        // gradient times b)
        float[] s = new float[logits.data.length];
        SoftmaxCrossEntropy.lossAndGradient(logits, batch.labels(), s);
        for (int j = 0; j < s.length; j++) {
            s[j] *= b;
        }
        float[] g = new float[lin.inShape().size()];
        lin.vjp(s, g);
        double value = 0;
        for (int i = 0; i < b; i++) {
            double n = Norms.lp(g, i * in, in, 2);
            value += n * n;
        }
        // term 1: the JVP's parameter gradient, cotangent (lambda/B) s, tangent g
        float scale = (float) (lambda / b);
        float[] cot = new float[s.length];
        for (int j = 0; j < s.length; j++) {
            cot[j] = scale * s[j];
        }
        TangentGradient.accumulate(batch.model(), lin, g, cot, grads);
        // term 2: through the logits, cotangent (lambda/B) H_i (J g)_i with H_i = diag(p_i) - p_i p_i^T
        float[] w = new float[s.length];
        lin.jvp(g, w);
        float[] h = new float[s.length];
        int[] y = batch.labels();
        for (int i = 0; i < b; i++) {
            int off = i * k;
            double pw = 0;
            for (int j = 0; j < k; j++) {
                pw += prob(s, y, i, j, k) * w[off + j];
            }
            for (int j = 0; j < k; j++) {
                h[off + j] = (float) (lambda / b * prob(s, y, i, j, k) * (w[off + j] - pw));
            }
        }
        lin.vjpParams(h, grads);
        return 0.5 * lambda * value / b;
    }

    /** softmax(f_i)_j recovered from s_i = softmax(f_i) - onehot(y_i). */
    private static double prob(float[] s, int[] y, int i, int j, int k) {
        return s[i * k + j] + (j == y[i] ? 1.0 : 0.0);
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
