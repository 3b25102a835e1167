package dev.opnorm.nn.layers;

/**
 * One part's rule for the parameter gradient of a Jacobian-vector product: for a tangent t entering
 * the part and a cotangent g at its output (both fixed, batch-sized),
 * <pre>
 *   grads += d/d theta {@code <g, J(theta) t>}
 * </pre>
 * where J is the part's input Jacobian and theta its layer's parameters. Only parts whose J is linear
 * in a parameter give one (conv and linear: J = W, so the rule is the weight VJP with t in place of
 * the saved input; EVAL BatchNorm: J = diag(gamma / sqrt(running_var + eps))); biases and shifts do
 * not enter J. Chaining these rules along a network is robust.reg.TangentGradient's job.
 */
@FunctionalInterface
public interface TangentRule {
    /**
     * grads += d/d theta {@code <g, J(theta) t>}, summed over the batch.
     *
     * @param t     the tangent entering the part (its linearization's inShape().size() elements), not modified
     * @param g     the cotangent at the part's output (outShape().size() elements), not modified
     * @param grads accumulated (+=)
     */
    void accumulate(float[] t, float[] g, ParamGrads grads);
}
