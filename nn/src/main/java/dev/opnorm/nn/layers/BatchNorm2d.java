package dev.opnorm.nn.layers;

import dev.opnorm.nn.Engine;
import dev.opnorm.nn.Shape;
import dev.opnorm.nn.Tensor;
import dev.opnorm.nn.kernels.Kernels;

import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;

/**
 * Batch normalization over (n, h, w) per channel, PyTorch's {@code nn.BatchNorm2d(c, eps=1e-5,
 * momentum=0.1, affine)}: y = gamma * (x - mu) / sqrt(var + eps) + beta (gamma = 1, beta = 0 without
 * affine).
 * <ul>
 *   <li>EVAL: mu, var are the running statistics; y is a per-channel affine map of x, the Jacobian
 *       is diagonal (and per example).</li>
 *   <li>TRAIN: mu, var (biased) are the batch statistics, so the Jacobian couples the batch:
 *       dy = gamma/sigma * (dx - mean(dx) - xhat * mean(dx * xhat)), means per channel over (n, h, w),
 *       xhat = (x - mu) / sigma, sigma = sqrt(var + eps). The map is symmetric: the VJP has the same
 *       form in gy.</li>
 * </ul>
 * Parameter gradients in both modes: g_gamma += sum gy * xhat, g_beta += sum gy.
 * The running statistics are updated only by {@link Linearization#commit()} of a TRAIN linearization,
 * as PyTorch does in a training forward pass: running_mean = (1 - m) running_mean + m mu,
 * running_var = (1 - m) running_var + m var * N/(N-1) (unbiased), N = n*h*w, m = 0.1.
 * Parameters "weight", "bias" (when affine); buffers "running_mean", "running_var".
 */
public final class BatchNorm2d extends AbstractLayer {
    /** PyTorch's default eps. */
    public static final double EPS = 1e-5;
    /** PyTorch's default momentum (weight of the new batch statistics). */
    public static final double MOMENTUM = 0.1;

    /**
     * Sets the running statistics of every BatchNorm in {@code model} from the batch {@code x}: runs
     * {@code passes} TRAIN-mode forward passes and commits each, so with momentum 0.1 the running
     * statistics approach the batch's own (1 - 0.9^passes of the way; 40 passes leave 1.5%). An untrained
     * network evaluated with its initial statistics (mean 0, variance 1) is nearly constant, which makes
     * its Jacobian norms and attacks uninformative; this gives it the statistics a trained one would have.
     *
     * @return model, for chaining
     */
    public static <L extends Layer> L calibrate(L model, Tensor x, int passes) {
        if (passes < 1) {
            throw new IllegalArgumentException("BatchNorm calibration needs at least one pass, got " + passes);
        }
        for (int i = 0; i < passes; i++) {
            model.linearize(x, BnMode.TRAIN).commit();
        }
        return model;
    }

    private final int channels;
    private final Param weight;      // gamma (c) or null
    private final Param bias;        // beta (c) or null
    private final Param runningMean; // (c)
    private final Param runningVar;  // (c)

    public BatchNorm2d(String name, int channels, boolean affine) {
        this(name, channels, affine, Engine.kernels());
    }

    public BatchNorm2d(String name, int channels, boolean affine, Kernels kernels) {
        super(name, kernels);
        if (channels <= 0) {
            throw new IllegalArgumentException("BatchNorm2d '" + name + "': channels must be positive, got " + channels);
        }
        this.channels = channels;
        this.weight = affine ? new Param("weight", filled(channels, 1f), channels) : null;
        this.bias = affine ? new Param("bias", new float[channels], channels) : null;
        this.runningMean = new Param("running_mean", new float[channels], channels);
        this.runningVar = new Param("running_var", filled(channels, 1f), channels);
    }

    private static float[] filled(int n, float v) {
        float[] a = new float[n];
        Arrays.fill(a, v);
        return a;
    }

    public int channels() {
        return channels;
    }

    public boolean affine() {
        return weight != null;
    }

    /** gamma, or null without affine. */
    public Param weight() {
        return weight;
    }

    /** beta, or null without affine. */
    public Param bias() {
        return bias;
    }

    public Param runningMean() {
        return runningMean;
    }

    public Param runningVar() {
        return runningVar;
    }

    @Override
    public List<Param> params() {
        return weight == null ? List.of() : List.of(weight, bias);
    }

    @Override
    public List<Param> buffers() {
        return List.of(runningMean, runningVar);
    }

    @Override
    public void initParameters(SplittableRandom rnd) {
        if (weight != null) {
            Arrays.fill(weight.value, 1f);
            Arrays.fill(bias.value, 0f);
        }
        Arrays.fill(runningMean.value, 0f);
        Arrays.fill(runningVar.value, 1f);
    }

    @Override
    public Shape outputShape(Shape in) {
        if (in.c() != channels) {
            throw error("expects " + channels + " channels, got input shape " + in);
        }
        return in;
    }

    @Override
    protected Tensor forwardImpl(Tensor x, Shape out) {
        // EVAL mode as y = x * scale + shift: scale = gamma / sqrt(rv + eps), shift = beta - rm * scale
        float[] inv = new float[channels], invShift = new float[channels];
        float[] scale = new float[channels], shift = new float[channels];
        kernels.bnCoefs(inv, invShift, scale, shift, runningMean.value, runningVar.value,
                weight == null ? null : weight.value, bias == null ? null : bias.value, EPS, channels);
        Tensor y = new Tensor(out);
        kernels.channelAffine(y.data, x.data, scale, shift, out.n(), channels, out.h() * out.w());
        return y;
    }

    @Override
    protected <F, I> Linearized<F> linearizeImpl(Backend<F, I> b, F x, Shape in, BnMode mode, Shape out) {
        return mode == BnMode.EVAL ? new EvalLin<>(b, x, out) : new TrainLin<>(b, x, out);
    }

    @Override
    public boolean runsOn(Backend<?, ?> backend) {
        return true;
    }

    /** Per-channel affine map with the running statistics. */
    private final class EvalLin<F> extends Linearized<F> {
        private final F x;          // (n, c, h, w) saved input, for the affine parameters' gradients
        // (c) coefficients from the running statistics at linearization time (a TRAIN commit may change them later)
        private final F inv;        // 1 / sqrt(rv + eps)
        private final F invShift;   // -rm / sqrt(rv + eps)
        private final F scale;      // gamma / sqrt(rv + eps)
        private F xhat;             // (n, c, h, w) (x - rm) / sqrt(rv + eps), computed on first parameter gradient
        private final int n;
        private final int hw;

        EvalLin(Backend<F, ?> b, F x, Shape out) {
            super(BatchNorm2d.this, b, out, out, BnMode.EVAL);
            n = out.n();
            hw = out.h() * out.w();
            this.x = x;
            inv = vector(channels);
            invShift = vector(channels);
            scale = vector(channels);
            F shift = vector(channels);
            b.ops().bnCoefs(inv, invShift, scale, shift, b.param(runningMean), b.param(runningVar),
                    b.paramOrNull(weight), b.paramOrNull(bias), EPS, channels);
            F y = tensor(out);
            b.ops().channelAffine(y, x, scale, shift, n, channels, hw);
            setOutput(y);
        }

        @Override
        public void jvp(F dx, F dy) {
            backend.ops().channelAffine(dy, dx, scale, null, n, channels, hw);
        }

        /** None without affine (no parameters). */
        @Override
        public boolean hasTangentRule() {
            return weight != null;
        }

        /**
         * J = diag(gamma / s), s = sqrt(running_var + eps) at linearization time: d/dgamma_c {@code <g, J t>}
         * = sum over (n, h, w) of g * t / s_c; beta does not enter J.
         */
        @Override
        public void tangentRule(F t, F g, Grads<F> grads) {
            if (weight == null) {
                super.tangentRule(t, g, grads);
            }
            backend.ops().bnGammaTangent(grads.of(weight), g, t, inv, n, channels, hw);
        }

        @Override
        public void vjp(F gy, F gx, Grads<F> grads) {
            if (gx != null) {
                backend.ops().channelAffine(gx, gy, scale, null, n, channels, hw);
            }
            if (grads != null && weight != null) {
                backend.ops().channelSumsAccumulate(grads.of(bias), grads.of(weight), gy, normalized(), n, channels, hw);
            }
        }

        /** xhat, computed once and only when parameter gradients are asked for (norm computations never do). */
        private F normalized() {
            if (xhat == null) {
                F t = tensor(inShape());
                backend.ops().channelAffine(t, x, inv, invShift, n, channels, hw);
                xhat = t;
            }
            return xhat;
        }
    }

    /** Batch statistics; the Jacobian couples the examples. */
    private final class TrainLin<F> extends Linearized<F> {
        private final F mean;  // (c) batch mean
        private final F var;   // (c) batch variance, biased
        private final F coef;  // (c) gamma / sqrt(var + eps)
        private final F xhat;  // (n, c, h, w) normalized input
        private final int n;
        private final int hw;
        private boolean committed;

        TrainLin(Backend<F, ?> b, F x, Shape out) {
            super(BatchNorm2d.this, b, out, out, BnMode.TRAIN);
            n = out.n();
            hw = out.h() * out.w();
            if ((long) n * hw < 2) {
                throw error("TRAIN mode needs more than one value per channel (batch statistics), got input shape "
                        + out);
            }
            mean = vector(channels);
            var = vector(channels);
            b.ops().channelMeanVar(mean, var, x, n, channels, hw);
            F inv = vector(channels), shift = vector(channels), unusedShift = vector(channels);
            coef = vector(channels);
            F gamma = b.paramOrNull(weight);
            F beta = b.paramOrNull(bias);
            b.ops().bnCoefs(inv, shift, coef, unusedShift, mean, var, gamma, beta, EPS, channels);
            xhat = tensor(out);
            b.ops().channelAffine(xhat, x, inv, shift, n, channels, hw);
            if (gamma != null) {
                F y = tensor(out);
                b.ops().channelAffine(y, xhat, gamma, beta, n, channels, hw);
                setOutput(y);
            } else {
                setOutput(xhat); // without affine y is xhat; the output must not be modified anyway
            }
        }

        @Override
        public void jvp(F dx, F dy) {
            // dy = gamma/sigma * (dx - mean(dx) - xhat * mean(dx * xhat)): the mean term (d mu) and the
            // variance term (d sigma) of the batch statistics, both per channel over (n, h, w)
            backend.ops().bnTrainJacobian(dy, dx, xhat, coef, n, channels, hw);
        }

        @Override
        public void vjp(F gy, F gx, Grads<F> grads) {
            if (gx != null) {
                // the Jacobian is symmetric: gx = gamma/sigma * (gy - mean(gy) - xhat * mean(gy * xhat))
                backend.ops().bnTrainJacobian(gx, gy, xhat, coef, n, channels, hw);
            }
            if (grads != null && weight != null) {
                backend.ops().channelSumsAccumulate(grads.of(bias), grads.of(weight), gy, xhat, n, channels, hw);
            }
        }

        @Override
        public void commit() {
            if (committed) {
                throw new IllegalStateException(owner() + ": commit() called twice on one TRAIN linearization");
            }
            committed = true;
            double count = (double) n * hw;
            backend.ops().bnRunningUpdate(backend.param(runningMean), backend.param(runningVar), mean, var, MOMENTUM,
                    count / (count - 1), channels);
        }
    }

    /** Interval rule for certification (see {@link Layer#bounds()}). */
    @Override
    public dev.opnorm.nn.bounds.BoundRule bounds() {
        return new BatchNormBounds(this);
    }
}
