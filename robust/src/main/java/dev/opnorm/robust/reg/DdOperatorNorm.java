package dev.opnorm.robust.reg;

import dev.opnorm.linalg.BatchOps;
import dev.opnorm.linalg.DualMaps;
import dev.opnorm.linalg.Norms;
import dev.opnorm.linalg.OperatorNorm;
import dev.opnorm.nn.Shape;
import dev.opnorm.nn.Tensor;
import dev.opnorm.nn.layers.BnMode;
import dev.opnorm.nn.layers.Grads;
import dev.opnorm.nn.layers.ParamGrads;
import dev.opnorm.nn.layers.PlacedModel;

import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Data-dependent (p,q) operator norm regularization through finite differences of the network, and its
 * (2,2) special case, the sum-of-squares form of d.d. spectral norm regularization that the paper
 * trained with:
 * <pre>
 *   v_i   = the (p,q) iteration's maximizer for J_f(x_i) (power-method limit, Eq. 12; ||v_i||_p = 1),
 *           BatchNorm in EVAL mode, start vectors from the batch seed; held CONSTANT
 *   d_i   = f(x_i + eps v_i) - f(x_i)                      (the logits, BatchNorm in {@link #penaltyMode})
 *   norm form:     penalty = (lambda / B) sum_i ||d_i||_q          ~ lambda eps ||J_f(x_i)||_{p,q}
 *   q-power form:  penalty = (lambda / (q B)) sum_i ||d_i||_q^q    ~ (lambda eps^q / q) ||J_f(x_i)||_{p,q}^q
 *   sum of squares = (p, q) = (2, 2), q-power form: (lambda / (2B)) sum_i ||d_i||_2^2 ~ (lambda eps^2/2) sigma^2
 * </pre>
 * so lambda here is the paper's prefactor of the finite-difference penalty (its lambda-tilde; the
 * prefactor of sigma^2 is lambda eps^2). The parameter gradient treats v as a constant and is exact
 * for the penalty as written: with g_i = the penalty's gradient in d_i ((lambda/B) D_q(d_i), or
 * (lambda/B) sign(d_i)|d_i|^(q-1) for the q-power form), grads += J_theta(x + eps v)^T g - J_theta(x)^T g,
 * two parameter VJPs. In TRAIN mode both passes use their own batch statistics (x + eps v is one batch,
 * x another), as adversarial training does with its adversarial batch. x + eps v is not clamped to the
 * input domain. Subgradient conventions are those of {@link DualMaps}: D_q(0) = 0.
 */
public final class DdOperatorNorm implements Regularizer {
    private final String name;
    private final double p;
    private final double q;
    private final double lambda;
    private final double eps;
    private final int iterations;
    private final boolean qthPower;
    private final BnMode penaltyMode;

    /**
     * @param p           input norm (>= 1, inf allowed)
     * @param q           output norm (>= 1, inf allowed)
     * @param lambda      strength (>= 0)
     * @param eps         finite-difference step (> 0), in input units
     * @param iterations  (p,q) iterations per batch (>= 1)
     * @param qthPower    penalize (1/q)||d||_q^q instead of ||d||_q (q must be finite)
     * @param penaltyMode BatchNorm mode of the two finite-difference passes
     */
    public DdOperatorNorm(double p, double q, double lambda, double eps, int iterations, boolean qthPower,
            BnMode penaltyMode) {
        this("dd-onr", p, q, lambda, eps, iterations, qthPower, penaltyMode);
    }

    private DdOperatorNorm(String name, double p, double q, double lambda, double eps, int iterations, boolean qthPower,
            BnMode penaltyMode) {
        Norms.checkP(p, name + ": p");
        Norms.checkP(q, name + ": q");
        Checks.lambda(name, lambda);
        if (!(eps > 0) || Double.isInfinite(eps)) {
            throw new IllegalArgumentException(name + ": eps must be finite and > 0, got " + eps);
        }
        Checks.atLeastOne(name, "iterations", iterations);
        if (qthPower && Double.isInfinite(q)) {
            throw new IllegalArgumentException(name + ": the q-th power form needs a finite q, got q = inf");
        }
        if (penaltyMode == null) {
            throw new IllegalArgumentException(name + ": penalty BatchNorm mode must not be null");
        }
        this.name = name;
        this.p = p;
        this.q = q;
        this.lambda = lambda;
        this.eps = eps;
        this.iterations = iterations;
        this.qthPower = qthPower;
        this.penaltyMode = penaltyMode;
    }

    /**
     * The sum-of-squares d.d. SNR the paper used: (lambda/(2B)) sum_i ||f(x_i + eps v_i) - f(x_i)||_2^2
     * with v_i from {@code iterations} power-method iterations.
     */
    public static DdOperatorNorm sumOfSquares(double lambda, double eps, int iterations, BnMode penaltyMode) {
        return new DdOperatorNorm("dd-snr-sos", 2, 2, lambda, eps, iterations, true, penaltyMode);
    }

    @Override
    public String name() {
        return name;
    }

    public double p() {
        return p;
    }

    public double q() {
        return q;
    }

    public double lambda() {
        return lambda;
    }

    public double eps() {
        return eps;
    }

    public BnMode penaltyMode() {
        return penaltyMode;
    }

    /** (p,q) iterations per batch. */
    public int iterations() {
        return iterations;
    }

    /** Whether the penalty is the q-th power form (1/q)||d||_q^q rather than ||d||_q. */
    public boolean qthPower() {
        return qthPower;
    }

    /**
     * The directions v_i for the batch: the (p,q) iteration on the EVAL-mode Jacobian of the logits,
     * (B, input per example), each of unit l_p norm.
     */
    public float[] directions(RegBatch batch) {
        var e = RegEngine.onHost(PlacedModel.host(batch.model()));
        try (OperatorNorm.BatchResult<float[]> r = directions(e, batch.x().data, batch.x().shape, batch.seed())) {
            return e.batchOps().download(r.v(), batch.n(), batch.x().shape.perExample());
        }
    }

    /**
     * The directions on any engine: {@code iterations} products of the (p,q) iteration ({@code OperatorNorm.estimate},
     * alpha = inf, relTol 0, one run) on the EVAL linearization at x, start vectors from {@code seed}. The
     * result's {@code v()} (B x input per example) lives in the engine's buffers until it is closed.
     */
    public <V, S, L, G> OperatorNorm.BatchResult<V> directions(RegEngine<V, S, L, G> e, V x, Shape shape, long seed) {
        try (RegNetwork.Linearized<V, G> eval = e.network().linearize(x, shape, BnMode.EVAL)) {
            return OperatorNorm.estimate(eval.asBatchMap(), e.batchOps(), p, q,
                    new OperatorNorm.Options(iterations, 0, Double.POSITIVE_INFINITY, 1, seed), null, false);
        }
    }

    @Override
    public double accumulate(RegBatch batch, ParamGrads grads) {
        PlacedModel<float[], int[]> m = PlacedModel.host(batch.model());
        return accumulate(RegEngine.onHost(m), batch.x().data, batch.x().shape, batch.seed(), train(m, batch), grads);
    }

    /** The batch's TRAIN linearization, if any, as the host engine sees it. */
    private static RegNetwork.Linearized<float[], Grads<float[]>> train(PlacedModel<float[], int[]> m, RegBatch batch) {
        return batch.train() == null ? null : RegEngine.train(m.view(batch.train(), batch.x().data), batch.x().data);
    }

    /**
     * The penalty for batch x on any engine (the {@link #accumulate(RegBatch, ParamGrads)} contract): the
     * directions at x, then {@link #penalty(RegEngine, Object, Shape, Object, RegNetwork.Linearized, Object)};
     * the parameter gradient is ACCUMULATED (+=) into grads.
     *
     * @param train the step's TRAIN linearization at exactly x, reused for f(x) in TRAIN penalty mode, or null
     */
    public <V, S, L, G> double accumulate(RegEngine<V, S, L, G> e, V x, Shape shape, long seed,
                                       RegNetwork.Linearized<V, G> train, G grads) {
        checkCall(train, grads); // before the iteration's work
        try (OperatorNorm.BatchResult<V> r = directions(e, x, shape, seed)) {
            return penalty(e, x, shape, r.v(), train, grads);
        }
    }

    /**
     * The penalty at given directions v (held fixed), its gradient accumulated into grads.
     *
     * @param v (B, input per example), not modified
     */
    public double penalty(RegBatch batch, float[] v, ParamGrads grads) {
        Tensor x = batch.x();
        if (v.length != x.shape.size()) {
            throw new IllegalArgumentException(name + ": directions have " + v.length + " elements, the batch "
                    + x.shape + " needs " + x.shape.size());
        }
        PlacedModel<float[], int[]> m = PlacedModel.host(batch.model());
        return penalty(RegEngine.onHost(m), x.data, x.shape, v, train(m, batch), grads);
    }

    /**
     * The penalty at given directions v (held fixed) on any engine, its gradient ACCUMULATED (+=) into grads.
     * Data stays on the engine except the per-example norms ||d_i||_q (one read of B scalars).
     *
     * @param v     (B, input per example) on the engine, not modified
     * @param train the TRAIN linearization at exactly x to reuse for f(x) in TRAIN penalty mode, or null
     * @throws IllegalArgumentException when train is not a TRAIN linearization, or grads is null
     */
    public <V, S, L, G> double penalty(RegEngine<V, S, L, G> e, V x, Shape shape, V v, RegNetwork.Linearized<V, G> train,
                                    G grads) {
        checkCall(train, grads);
        RegOps<V, S, L> ops = e.ops();
        BatchOps<V, S> bops = e.batchOps();
        int b = shape.n();
        V xe = null, d = null;
        S norms = null;
        RegNetwork.Linearized<V, G> own = null, lin1 = null;
        try {
            xe = ops.allocate(shape);
            ops.addScaled(xe, x, (float) eps, v, shape.size());
            RegNetwork.Linearized<V, G> lin0 = penaltyMode == BnMode.TRAIN && train != null ? train
                    : (own = e.network().linearize(x, shape, penaltyMode));
            lin1 = e.network().linearize(xe, shape, penaltyMode);
            Shape out = lin1.outputShape();
            int m = out.perExample(), len = out.size();
            d = ops.allocate(out);
            ops.addScaled(d, lin1.output(), -1f, lin0.output(), len); // f1 - f0, exactly
            norms = bops.scalars(b);
            bops.rowNorms(norms, 0, d, b, m, q);
            double coef = lambda / b;
            if (qthPower) {
                ops.qPowerGrad(d, d, coef, q, len);  // d/dd (1/q)||d||_q^q = sign(d) |d|^(q-1), scaled
            } else {
                bops.dualRows(d, d, b, m, q);
                ops.scaleDouble(d, d, coef, len);
            }
            lin1.vjpParams(d, grads);
            ops.scaleDouble(d, d, -1, len);
            lin0.vjpParams(d, grads);
            double[] nq = bops.read(norms, b);
            double value = 0;
            for (int i = 0; i < b; i++) {
                value += qthPower ? StrictMath.pow(nq[i], q) / q : nq[i];
            }
            return lambda * value / b;
        } finally {
            if (lin1 != null) {
                lin1.close();
            }
            if (own != null) {
                own.close();
            }
            ops.release(xe);
            ops.release(d);
            if (norms != null) {
                bops.releaseScalars(norms);
            }
        }
    }

    private void checkCall(RegNetwork.Linearized<?, ?> train, Object grads) {
        if (train != null && train.mode() != BnMode.TRAIN) {
            throw new IllegalArgumentException(name + ": the given linearization must be TRAIN-mode at x, got "
                    + train.mode());
        }
        if (grads == null) {
            throw new IllegalArgumentException(name + ": gradients must not be null");
        }
    }

    @Override
    public Map<String, Object> config() {
        Map<String, Object> c = new LinkedHashMap<>();
        c.put("name", name);
        c.put("p", Norms.format(p));
        c.put("q", Norms.format(q));
        c.put("lambda", lambda);
        c.put("eps", eps);
        c.put("iterations", (long) iterations);
        c.put("qth_power", qthPower);
        c.put("bn_mode_power_iteration", "EVAL");
        c.put("bn_mode_penalty", penaltyMode.name());
        return c;
    }
}
