package dev.opnorm.robust.reg;

import dev.opnorm.linalg.PowerMethod;
import dev.opnorm.nn.Shape;
import dev.opnorm.nn.layers.BnMode;
import dev.opnorm.nn.layers.Layer;
import dev.opnorm.nn.layers.Linearization;
import dev.opnorm.nn.layers.ParamGrads;
import dev.opnorm.nn.layers.PlacedModel;

import java.util.LinkedHashMap;
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
        return accumulate(RegEngine.onHost(PlacedModel.host(batch.model())), batch.x().data, batch.x().shape,
                batch.seed(), grads);
    }

    /**
     * The penalty for batch x on any engine: {@code iterations} power-method steps ({@code PowerMethod.sigmaMax},
     * relTol 0, Gaussian starts from {@code seed}) on the EVAL linearization at x, then
     * {@link #penalty(RegEngine, RegNetwork.Linearized, Object, Object, Object)} at its vectors; the gradient is
     * ACCUMULATED (+=) into grads.
     */
    public <V, S, L, G> double accumulate(RegEngine<V, S, L, G> e, V x, Shape shape, long seed, G grads) {
        try (RegNetwork.Linearized<V, G> eval = e.network().linearize(x, shape, BnMode.EVAL);
             PowerMethod.BatchResult<V> pm = PowerMethod.sigmaMax(eval.asBatchMap(), e.batchOps(),
                     new PowerMethod.Options(iterations, 0, seed), null, true)) {
            return penalty(e, eval, pm.u(), pm.v(), grads);
        }
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
        PlacedModel<float[], int[]> m = PlacedModel.host(model);
        return penalty(RegEngine.onHost(m), evalLin == null ? null : RegEngine.view(m.view(evalLin, null)), u, v,
                grads);
    }

    /**
     * The penalty with given vectors held fixed on any engine (as above). Data stays on the engine except
     * s (one read of B scalars) and the cotangent coefficients (lambda/B) s_i (B floats back).
     *
     * @throws IllegalArgumentException for a TRAIN linearization or null grads
     */
    public <V, S, L, G> double penalty(RegEngine<V, S, L, G> e, RegNetwork.Linearized<V, G> evalLin, V u, V v,
                                       G grads) {
        if (evalLin == null || evalLin.mode() != BnMode.EVAL) {
            throw new IllegalArgumentException("dd-snr: the penalty needs an EVAL-mode linearization");
        }
        if (grads == null) {
            throw new IllegalArgumentException("dd-snr: gradients must not be null");
        }
        RegOps<V, S, L> ops = e.ops();
        Shape out = evalLin.outputShape();
        int b = out.n(), m = out.perExample();
        V jv = null;
        S s = null;
        try {
            jv = ops.allocate(out);
            evalLin.asBatchMap().apply(v, jv);
            s = e.batchOps().scalars(b);
            ops.dotRows(s, u, jv, b, m);
            double[] sh = e.batchOps().read(s, b);
            double value = 0;
            float[] c = new float[b];
            for (int i = 0; i < b; i++) {
                value += sh[i] * sh[i];
                c[i] = (float) (lambda / b * sh[i]);
            }
            ops.scaleRows(jv, u, c, b, m); // the cotangent rows c_i u_i, in J v's buffer
            evalLin.tangentGradient(v, jv, grads);
            return 0.5 * lambda * value / b;
        } finally {
            ops.release(jv);
            if (s != null) {
                e.batchOps().releaseScalars(s);
            }
        }
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
