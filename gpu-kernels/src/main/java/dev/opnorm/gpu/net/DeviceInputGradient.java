package dev.opnorm.gpu.net;

import dev.opnorm.gpu.DeviceInts;
import dev.opnorm.gpu.DeviceTensor;
import dev.opnorm.gpu.OpenClOps;
import dev.opnorm.nn.Shape;
import dev.opnorm.nn.layers.BnMode;
import dev.opnorm.robust.reg.InputGradient;

/**
 * Input-gradient regularization on the device - the twin of {@code robust.reg.InputGradient} (same formulas,
 * BatchNorm EVAL): with s_i = softmax(f_i) - onehot(y_i) and g_i = J_i^T s_i,
 * <pre>
 *   penalty = (lambda / (2B)) sum_i ||g_i||_2^2
 *   grads  += d/d theta <(lambda/B) s, J(theta) g>            ({@link DeviceTangentGradient}, tangent g)
 *          +  J_theta^T (lambda/B) H (J g),  H_i = diag(p_i) - p_i p_i^T   ({@code softmaxHessianRows}, vjpParams)
 * </pre>
 * Transfers per call: one download of ||g_i||^2 (one float per example), made before any gradient is
 * enqueued so that, as on the host, a non-finite value (diverged logits) returns NaN and adds no gradient.
 */
public final class DeviceInputGradient implements DeviceObjective.Regularizer {
    private final double lambda;

    /** As {@code new InputGradient(lambda)} (validated there). */
    public DeviceInputGradient(double lambda) {
        this(new InputGradient(lambda));
    }

    /** The device twin of a host regularizer (its lambda is copied). */
    public DeviceInputGradient(InputGradient host) {
        if (host == null) {
            throw new IllegalArgumentException("DeviceInputGradient needs a host InputGradient");
        }
        this.lambda = host.lambda();
    }

    /** "input-grad", the host regularizer's name. */
    @Override
    public String name() {
        return "input-grad";
    }

    public double lambda() {
        return lambda;
    }

    /**
     * The penalty at batch x with labels[0, n) (the TRAIN linearization and the seed are not used); its
     * gradient is ACCUMULATED (+=) into grads.
     *
     * @return the penalty, or NaN (and no gradient) when some ||g_i||^2 is not finite
     * @throws IllegalArgumentException when labels or grads are null
     */
    @Override
    public double accumulate(DeviceModel model, DeviceTensor x, DeviceInts labels, long seed,
                             DeviceLinearization train, DeviceGrads grads) {
        if (labels == null) {
            throw new IllegalArgumentException("input-grad: the batch has no labels");
        }
        if (grads == null) {
            throw new IllegalArgumentException("input-grad: gradients must not be null");
        }
        OpenClOps ops = model.ops();
        DevicePool pool = model.pool();
        try (DeviceLinearization lin = model.linearize(x, BnMode.EVAL)) {
            Shape in = lin.inShape(), out = lin.outShape();
            int b = in.n(), k = out.perExample();
            DeviceTensor s = pool.tensor(out), cot = pool.tensor(out), w = pool.tensor(out), g = pool.tensor(in),
                    rows = pool.tensor(Shape.features(1, b)), correct = pool.tensor(Shape.features(1, b));
            try {
                // s = softmax - onehot: the mean loss's gradient times b, as the host
                ops.softmaxXentRows(cot, rows, correct, lin.output(), labels, b, k);
                ops.scale(s, (float) b, cot, out.size());
                lin.vjp(s, g);
                ops.dotRows(rows, 0, g, g, b, in.perExample());
                float[] sq = new float[b];
                rows.download(sq, 0, 0, b);
                double value = 0;
                for (float v : sq) {
                    value += v;
                }
                if (!Double.isFinite(value)) {
                    return Double.NaN; // a diverged model: the caller reports the non-finite loss
                }
                ops.scale(cot, (float) (lambda / b), s, out.size());
                DeviceTangentGradient.accumulate(lin, g, cot, grads);
                lin.jvp(g, w);
                ops.softmaxHessianRows(cot, s, w, labels, b, k, lambda / b);
                lin.vjpParams(cot, grads);
                return 0.5 * lambda * value / b;
            } finally {
                for (DeviceTensor t : new DeviceTensor[]{s, cot, w, g, rows, correct}) {
                    pool.give(t);
                }
            }
        }
    }
}
