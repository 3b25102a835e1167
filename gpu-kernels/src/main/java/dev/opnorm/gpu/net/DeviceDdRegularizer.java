package dev.opnorm.gpu.net;

import dev.opnorm.gpu.DeviceTensor;
import dev.opnorm.gpu.OpenClOps;
import dev.opnorm.linalg.OperatorNorm;
import dev.opnorm.nn.Shape;
import dev.opnorm.nn.layers.BnMode;
import dev.opnorm.robust.reg.DdOperatorNorm;

/**
 * Data-dependent (p,q) operator norm regularization by finite differences on the device - the device
 * twin of {@code robust.reg.DdOperatorNorm} (same formulas, same start vectors, same BatchNorm modes), incl.
 * the sum-of-squares d.d. spectral norm regularization the paper trained with ({@link #sumOfSquares}):
 * <pre>
 *   v_i = the (p,q) iteration's maximizer for J_f(x_i) ({@code OperatorNorm.estimate} on the device, alpha = inf, relTol 0,
 *         {@code iterations} products, start vectors from the seed; BatchNorm EVAL), held constant
 *   d_i = f(x_i + eps v_i) - f(x_i)            (logits, BatchNorm in the penalty mode)
 *   norm form:    penalty = (lambda / B) sum_i ||d_i||_q,          g_i = (lambda / B) D_q(d_i)
 *   q-power form: penalty = (lambda / (q B)) sum_i ||d_i||_q^q,    g_i = (lambda / B) sign(d_i) |d_i|^(q-1)
 *   grads += J_theta(x + eps v)^T g - J_theta(x)^T g               (two parameter VJPs)
 * </pre>
 * In TRAIN penalty mode both passes use their own batch statistics; the pass at x is the training
 * step's own TRAIN linearization when one is given (as the host {@code RegBatch.train}). Nothing is
 * committed. x + eps v is not clamped to the input domain.
 *
 * <p>Everything stays on the device. Transfers per call: the start vectors (one upload of the batch's
 * input size: they are the host's {@code SplittableRandom} Gaussians), the (p,q) iteration's per-example
 * norms (one download of 2-3 floats per example per iteration, flag uploads of one int per example when
 * the improving set changes), and one download of ||d_i||_q (one float per example) for the value.
 * Norms on the device are float results of double sums, so values match the host to float rounding.
 */
public final class DeviceDdRegularizer {
    private final String name;
    private final double p;
    private final double q;
    private final double lambda;
    private final double eps;
    private final int iterations;
    private final boolean qthPower;
    private final BnMode penaltyMode;

    /**
     * As {@code new DdOperatorNorm(p, q, lambda, eps, iterations, qthPower, penaltyMode)}.
     *
     * @throws IllegalArgumentException for p, q &lt; 1, lambda &lt; 0, eps not finite and positive,
     *                                  iterations &lt; 1, the q-power form with q = inf, or a null mode
     */
    public DeviceDdRegularizer(double p, double q, double lambda, double eps, int iterations, boolean qthPower,
                               BnMode penaltyMode) {
        this(new DdOperatorNorm(p, q, lambda, eps, iterations, qthPower, penaltyMode));
    }

    /** The device twin of a host regularizer (its configuration, validated there, is copied). */
    public DeviceDdRegularizer(DdOperatorNorm host) {
        this.name = host.name();
        this.p = host.p();
        this.q = host.q();
        this.lambda = host.lambda();
        this.eps = host.eps();
        this.iterations = host.iterations();
        this.qthPower = host.qthPower();
        this.penaltyMode = host.penaltyMode();
    }

    /**
     * The sum-of-squares d.d. SNR (as {@code DdOperatorNorm.sumOfSquares}):
     * (lambda/(2B)) sum_i ||f(x_i + eps v_i) - f(x_i)||_2^2 with v_i from {@code iterations} power steps.
     */
    public static DeviceDdRegularizer sumOfSquares(double lambda, double eps, int iterations, BnMode penaltyMode) {
        return new DeviceDdRegularizer(DdOperatorNorm.sumOfSquares(lambda, eps, iterations, penaltyMode));
    }

    /** "dd-onr", or "dd-snr-sos" for {@link #sumOfSquares}: the host regularizer's name. */
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

    public int iterations() {
        return iterations;
    }

    public BnMode penaltyMode() {
        return penaltyMode;
    }

    /** {@link #accumulate(DeviceModel, DeviceTensor, long, DeviceLinearization, DeviceGrads)} without a TRAIN linearization. */
    public double accumulate(DeviceModel model, DeviceTensor x, long seed, DeviceGrads grads) {
        return accumulate(model, x, seed, null, grads);
    }

    /**
     * The penalty for batch x (the host {@code Regularizer.accumulate} contract): runs the (p,q) iteration
     * at x (EVAL), then {@link #penalty}; its parameter gradient is ACCUMULATED (+=) into grads.
     *
     * @param seed  the start vectors' seed (the host's {@code RegBatch.seed()})
     * @param train the step's TRAIN linearization at exactly x, reused for f(x) in TRAIN penalty mode, or null
     * @return the penalty value
     * @throws IllegalArgumentException when x does not fit the model or train is not a TRAIN linearization at x
     */
    public double accumulate(DeviceModel model, DeviceTensor x, long seed, DeviceLinearization train,
                             DeviceGrads grads) {
        OperatorNorm.Options o = new OperatorNorm.Options(iterations, 0, Double.POSITIVE_INFINITY, 1, seed);
        try (DeviceLinearization eval = model.linearize(x, BnMode.EVAL);
             OperatorNorm.BatchResult<DeviceTensor> r = OperatorNorm.estimate(eval.asBatchMap(), model.batchOps(), p, q,
                     o, null, false)) {
            return penalty(model, x, r.v(), train, grads);
        }
    }

    /**
     * This regularizer as a {@link DeviceLossTerm} of a training step with the given seed (the step's
     * TRAIN linearization is reused for f(x) in TRAIN penalty mode).
     */
    public DeviceLossTerm term(DeviceModel model, long seed) {
        return (train, x, grads) -> accumulate(model, x, seed, train, grads);
    }

    /**
     * The penalty at given directions v (held fixed), its gradient ACCUMULATED (+=) into grads.
     *
     * @param v     (B, input shape) on the device, not modified
     * @param train the TRAIN linearization at exactly x to reuse in TRAIN penalty mode, or null
     */
    public double penalty(DeviceModel model, DeviceTensor x, DeviceTensor v, DeviceLinearization train,
                          DeviceGrads grads) {
        Shape in = x.shape();
        if (v.length() < in.size()) {
            throw new IllegalArgumentException(name + ": directions " + v + " are shorter than the batch " + in);
        }
        if (train != null && (train.mode() != BnMode.TRAIN || train.input() != x)) {
            throw new IllegalArgumentException(name + ": the given linearization must be TRAIN-mode at x, got "
                    + train.mode() + " at " + train.inShape());
        }
        if (grads == null) {
            throw new IllegalArgumentException(name + ": gradients must not be null");
        }
        OpenClOps ops = model.ops();
        DevicePool pool = model.pool();
        int b = in.n();
        DeviceTensor xe = pool.tensor(in);
        DeviceTensor d = null, norms = null;
        DeviceLinearization own = null, lin1 = null;
        try {
            ops.copy(xe, x, in.size());
            ops.axpy(xe, (float) eps, v, in.size());           // x + (float) eps * v, as the host
            DeviceLinearization lin0 = penaltyMode == BnMode.TRAIN && train != null ? train
                    : (own = model.linearize(x, penaltyMode));
            lin1 = model.linearize(xe, penaltyMode);
            Shape out = lin1.outShape();
            int m = out.perExample();
            d = pool.tensor(out);
            norms = pool.tensor(Shape.features(1, b));
            ops.copy(d, lin1.output(), out.size());
            ops.axpy(d, -1f, lin0.output(), out.size());      // f1 + (-f0) == f1 - f0 exactly
            ops.rowNorms(norms, 0, d, b, m, q);
            double coef = lambda / b;
            if (qthPower) {
                ops.qPowerGrad(d, d, coef, q, out.size());     // g = (lambda/B) sign(d) |d|^(q-1), in place
            } else {
                ops.dualRows(d, d, b, m, q);
                ops.scaleDouble(d, coef, d, out.size());      // g = (lambda/B) D_q(d)
            }
            lin1.vjpParams(d, grads);
            ops.scale(d, -1f, d, out.size());
            lin0.vjpParams(d, grads);
            float[] nq = new float[b];
            norms.download(nq, 0, 0, b);                      // the call's last transfer: ||d_i||_q
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
            for (DeviceTensor t : new DeviceTensor[]{xe, d, norms}) {
                if (t != null) {
                    pool.give(t);
                }
            }
        }
    }
}
