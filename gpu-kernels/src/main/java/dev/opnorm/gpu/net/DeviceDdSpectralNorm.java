package dev.opnorm.gpu.net;

import dev.opnorm.gpu.DeviceInts;
import dev.opnorm.gpu.DeviceTensor;
import dev.opnorm.gpu.OpenClOps;
import dev.opnorm.linalg.PowerMethod;
import dev.opnorm.nn.Shape;
import dev.opnorm.nn.layers.BnMode;
import dev.opnorm.robust.reg.DdSpectralNorm;

/**
 * Data-dependent spectral norm regularization in its sigma^2 form on the device - the twin of
 * {@code robust.reg.DdSpectralNorm} (same start vectors, iterations and formulas):
 * <pre>
 *   (u_i, v_i) = {@code PowerMethod.sigmaMax} on the device at x, vectors kept (BatchNorm EVAL, relTol 0,
 *                Gaussian starts from the seed), held fixed
 *   s_i        = u_i^T J_i v_i                              ({@code dotRows} of u and J v)
 *   penalty    = (lambda / (2B)) sum_i s_i^2
 *   grads     += d/d theta <c, J v>, c_i = (lambda / B) s_i u_i   ({@link DeviceTangentGradient})
 * </pre>
 * Transfers per call beyond the power method's (its start vectors, per-example norms, flags): one download
 * of s (one float per example) and one upload of the per-example coefficients (lambda/B) s_i.
 */
public final class DeviceDdSpectralNorm implements DeviceObjective.Regularizer {
    private final double lambda;
    private final int iterations;

    /** As {@code new DdSpectralNorm(lambda, iterations)} (validated there). */
    public DeviceDdSpectralNorm(double lambda, int iterations) {
        this(new DdSpectralNorm(lambda, iterations));
    }

    /** The device twin of a host regularizer (its configuration is copied). */
    public DeviceDdSpectralNorm(DdSpectralNorm host) {
        if (host == null) {
            throw new IllegalArgumentException("DeviceDdSpectralNorm needs a host DdSpectralNorm");
        }
        this.lambda = host.lambda();
        this.iterations = host.iterations();
    }

    /** "dd-snr", the host regularizer's name. */
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

    /**
     * Runs the power method at x (EVAL), then {@link #penalty} at its vectors; the gradient is ACCUMULATED
     * (+=) into grads. The labels and the TRAIN linearization are not used (the host ignores them too).
     *
     * @return the penalty value
     */
    @Override
    public double accumulate(DeviceModel model, DeviceTensor x, DeviceInts labels, long seed,
                             DeviceLinearization train, DeviceGrads grads) {
        return accumulate(model, x, seed, grads);
    }

    /** {@link #accumulate(DeviceModel, DeviceTensor, DeviceInts, long, DeviceLinearization, DeviceGrads)} without labels. */
    public double accumulate(DeviceModel model, DeviceTensor x, long seed, DeviceGrads grads) {
        try (DeviceLinearization eval = model.linearize(x, BnMode.EVAL);
             PowerMethod.BatchResult<DeviceTensor> pm = PowerMethod.sigmaMax(eval.asBatchMap(), model.batchOps(),
                     new PowerMethod.Options(iterations, 0, seed), null, true)) {
            return penalty(eval, pm.u(), pm.v(), grads);
        }
    }

    /**
     * The penalty at given vectors held fixed (as the host {@code DdSpectralNorm.penalty}): returns
     * (lambda/(2B)) sum_i s_i^2, s_i = u_i^T J_i v_i, and ACCUMULATES (lambda/B) sum_i s_i ds_i/d theta.
     *
     * @param evalLin an EVAL linearization at the batch
     * @param u       (B, logits), not modified
     * @param v       (B, input shape), not modified
     * @throws IllegalArgumentException for a TRAIN linearization, short vectors or a null grads
     */
    public double penalty(DeviceLinearization evalLin, DeviceTensor u, DeviceTensor v, DeviceGrads grads) {
        if (evalLin == null || evalLin.mode() != BnMode.EVAL) {
            throw new IllegalArgumentException("dd-snr: the penalty needs an EVAL-mode linearization");
        }
        Shape out = evalLin.outShape();
        int b = out.n(), m = out.perExample();
        if (u == null || u.length() < out.size()) {
            throw new IllegalArgumentException("dd-snr: left vectors " + u + " are shorter than the logits " + out);
        }
        if (grads == null) {
            throw new IllegalArgumentException("dd-snr: gradients must not be null");
        }
        DeviceModel model = evalLin.model();
        OpenClOps ops = model.ops();
        DevicePool pool = model.pool();
        DeviceTensor jv = pool.tensor(out), s = pool.tensor(Shape.features(1, b)),
                coef = pool.tensor(Shape.features(1, b));
        try {
            evalLin.jvp(v, jv);
            ops.dotRows(s, 0, u, jv, b, m);
            float[] sh = new float[b];
            s.download(sh, 0, 0, b);
            double value = 0;
            float[] c = new float[b];
            for (int i = 0; i < b; i++) {
                value += (double) sh[i] * sh[i];
                c[i] = (float) (lambda / b * sh[i]);
            }
            coef.upload(c, 0, 0, b);
            // cotangent rows c_i u_i: a per-"channel" scale with the examples as channels
            ops.channelAffine(jv, u, coef, null, 1, b, m);
            DeviceTangentGradient.accumulate(evalLin, v, jv, grads);
            return 0.5 * lambda * value / b;
        } finally {
            pool.give(jv);
            pool.give(s);
            pool.give(coef);
        }
    }
}
