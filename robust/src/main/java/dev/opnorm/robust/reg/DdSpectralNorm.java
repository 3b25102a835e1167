package dev.opnorm.robust.reg;

import dev.opnorm.linalg.Norms;
import dev.opnorm.linalg.PowerMethod;
import dev.opnorm.nn.layers.BnMode;
import dev.opnorm.nn.layers.Layer;
import dev.opnorm.nn.layers.Linearization;
import dev.opnorm.nn.layers.ParamGrads;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Data-dependent spectral norm regularization in its sigma^2 form (Eq. 7 of the paper):
 * <pre>
 *   penalty = (lambda / (2 B)) sum_i sigma(J_f(x_i))^2
 * </pre>
 * over the batch, where J_f is the Jacobian of the logits with BatchNorm in EVAL mode and sigma is found
 * by the batched power method (Eq. 6: u = J v/||J v||, v = J^T u/||J^T u||, one JVP and one VJP per
 * iteration for the whole batch, Gaussian starts from the batch seed). With u_i, v_i held fixed,
 * sigma_i = u_i^T J_i v_i and
 * <pre>
 *   d penalty / d theta = (lambda / B) sum_i sigma_i d(u_i^T J_i(theta) v_i)/d theta
 * </pre>
 * a mixed second derivative (the parameter gradient of a JVP), computed exactly for piecewise-linear
 * networks by {@link TangentGradient}. The paper trained with the sum-of-squares form
 * ({@link DdOperatorNorm#sumOfSquares}); this one is its exact counterpart.
 */
public final class DdSpectralNorm implements Regularizer {
    private final double lambda;
    private final int iterations;

    /**
     * @param lambda     strength (>= 0)
     * @param iterations power-method iterations per batch (the paper: 10)
     */
    public DdSpectralNorm(double lambda, int iterations) {
        Checks.lambda("dd-snr", lambda);
        Checks.atLeastOne("dd-snr", "power-method iterations", iterations);
        this.lambda = lambda;
        this.iterations = iterations;
    }

    @Override
    public String name() {
        return "dd-snr";
    }

    public double lambda() {
        return lambda;
    }

    public int iterations() {
        return iterations;
    }

    /** Runs the power method at the batch (EVAL mode), then returns {@link #penalty} at its vectors. */
    @Override
    public double accumulate(RegBatch batch, ParamGrads grads) {
        Linearization lin = batch.model().linearize(batch.x(), BnMode.EVAL);
        int b = batch.n(), in = lin.inShape().perExample(), out = lin.outShape().perExample();
        List<PowerMethod.Result> rs = PowerMethod.sigmaMax(lin.asBatchLinearMap(),
                new PowerMethod.Options(iterations, 0, batch.seed()));
        float[] u = new float[b * out], v = new float[b * in];
        for (int i = 0; i < b; i++) {
            System.arraycopy(rs.get(i).u(), 0, u, i * out, out);
            System.arraycopy(rs.get(i).v(), 0, v, i * in, in);
        }
        return penalty(batch.model(), lin, u, v, grads);
    }

    /**
     * The penalty with given vectors held fixed: with s_i = u_i^T J_i v_i (J from {@code evalLin}),
     * returns (lambda/(2B)) sum_i s_i^2 and accumulates (lambda/B) sum_i s_i d s_i/d theta into grads.
     *
     * @param evalLin model.linearize(x, EVAL)
     * @param u       (B, logits) left vectors, not modified
     * @param v       (B, input per example) right vectors, not modified
     */
    public double penalty(Layer model, Linearization evalLin, float[] u, float[] v, ParamGrads grads) {
        int b = evalLin.inShape().n(), out = evalLin.outShape().perExample();
        float[] jv = new float[evalLin.outShape().size()];
        evalLin.jvp(v, jv);
        float[] cot = new float[jv.length];
        double value = 0;
        for (int i = 0; i < b; i++) {
            double s = Norms.dot(u, i * out, jv, i * out, out);
            value += s * s;
            float c = (float) (lambda / b * s);
            for (int j = i * out; j < (i + 1) * out; j++) {
                cot[j] = c * u[j];
            }
        }
        TangentGradient.accumulate(model, evalLin, v, cot, grads);
        return 0.5 * lambda * value / b;
    }

    @Override
    public Map<String, Object> config() {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("name", name());
        m.put("lambda", lambda);
        m.put("iterations", (long) iterations);
        m.put("bn_mode_power_iteration", "EVAL");
        return m;
    }
}
