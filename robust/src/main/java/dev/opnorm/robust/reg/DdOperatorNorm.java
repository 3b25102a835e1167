package dev.opnorm.robust.reg;

import dev.opnorm.linalg.DualMaps;
import dev.opnorm.linalg.Norms;
import dev.opnorm.linalg.OperatorNorm;
import dev.opnorm.nn.Tensor;
import dev.opnorm.nn.layers.BnMode;
import dev.opnorm.nn.layers.Linearization;
import dev.opnorm.nn.layers.ParamGrads;

import java.util.LinkedHashMap;
import java.util.List;
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
        Linearization lin = batch.model().linearize(batch.x(), BnMode.EVAL);
        int b = batch.n(), in = lin.inShape().perExample();
        List<OperatorNorm.Result> rs = OperatorNorm.estimate(lin.asBatchLinearMap(), p, q,
                new OperatorNorm.Options(iterations, 0, Double.POSITIVE_INFINITY, 1, batch.seed()));
        float[] v = new float[b * in];
        for (int i = 0; i < b; i++) {
            System.arraycopy(rs.get(i).v(), 0, v, i * in, in);
        }
        return v;
    }

    @Override
    public double accumulate(RegBatch batch, ParamGrads grads) {
        return penalty(batch, directions(batch), grads);
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
        float[] xe = new float[v.length];
        for (int j = 0; j < xe.length; j++) {
            xe[j] = x.data[j] + (float) eps * v[j];
        }
        Linearization lin0 = batch.linearization(penaltyMode);
        Linearization lin1 = batch.model().linearize(new Tensor(x.shape, xe), penaltyMode);
        float[] f0 = lin0.output().data, f1 = lin1.output().data;
        int b = batch.n(), m = lin0.outShape().perExample();
        float[] d = new float[f0.length];
        for (int j = 0; j < d.length; j++) {
            d[j] = f1[j] - f0[j];
        }
        float[] g = new float[d.length];
        double value = 0;
        for (int i = 0; i < b; i++) {
            int off = i * m;
            double nq = Norms.lp(d, off, m, q);
            if (qthPower) {
                value += StrictMath.pow(nq, q) / q;
                for (int j = off; j < off + m; j++) {
                    double a = d[j];
                    // d/dd (1/q)||d||_q^q = sign(d) |d|^(q-1)
                    g[j] = (float) (lambda / b * Math.signum(a) * (q == 2 ? Math.abs(a) : StrictMath.pow(Math.abs(a), q - 1)));
                }
            } else {
                value += nq;
                DualMaps.dual(d, off, m, q, g, off);
                for (int j = off; j < off + m; j++) {
                    g[j] = (float) (lambda / b * g[j]);
                }
            }
        }
        lin1.vjpParams(g, grads);
        for (int j = 0; j < g.length; j++) {
            g[j] = -g[j];
        }
        lin0.vjpParams(g, grads);
        return lambda * value / b;
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
