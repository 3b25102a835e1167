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
        float[] scale = new float[channels], shift = new float[channels];
        evalAffine(scale, shift);
        Tensor y = new Tensor(out);
        kernels.channelAffine(y.data, x.data, scale, shift, out.n(), channels, out.h() * out.w());
        return y;
    }

    /** EVAL mode as y = x * scale + shift: scale = gamma / sqrt(rv + eps), shift = beta - rm * scale. */
    private void evalAffine(float[] scale, float[] shift) {
        for (int c = 0; c < channels; c++) {
            float inv = (float) (1.0 / Math.sqrt((double) runningVar.value[c] + EPS));
            float g = weight == null ? 1f : weight.value[c];
            float b = bias == null ? 0f : bias.value[c];
            scale[c] = g * inv;
            shift[c] = b - runningMean.value[c] * scale[c];
        }
    }

    @Override
    protected Linearization linearizeImpl(Tensor x, BnMode mode, Shape out) {
        return mode == BnMode.EVAL ? new EvalLin(x, out) : new TrainLin(x, out);
    }

    /** Per-channel affine map with the running statistics. */
    private final class EvalLin extends AbstractLinearization {
        private final float[] scale;  // (c) gamma / sqrt(rv + eps)
        private final float[] x;      // (n, c, h, w) saved input, for the affine parameters' gradients
        private final float[] inv;    // (c) 1 / sqrt(rv + eps) at linearization time
        private final float[] invShift; // (c) -rm / sqrt(rv + eps) at linearization time
        private float[] xhat;         // (n, c, h, w) (x - rm) / sqrt(rv + eps), computed on first vjpParams
        private final Tensor y;
        private final int n;
        private final int hw;

        EvalLin(Tensor x, Shape out) {
            super(describe(), x.shape, out, BnMode.EVAL);
            n = out.n();
            hw = out.h() * out.w();
            this.x = x.data;
            scale = new float[channels];
            float[] shift = new float[channels];
            evalAffine(scale, shift);
            y = new Tensor(out);
            kernels.channelAffine(y.data, x.data, scale, shift, n, channels, hw);
            // the running statistics may change later (a TRAIN commit): keep what xhat needs now
            inv = new float[channels];
            invShift = new float[channels];
            for (int c = 0; c < channels; c++) {
                inv[c] = (float) (1.0 / Math.sqrt((double) runningVar.value[c] + EPS));
                invShift[c] = -runningMean.value[c] * inv[c];
            }
        }

        @Override
        public Tensor output() {
            return y;
        }

        @Override
        protected void jvpImpl(float[] dx, float[] dy) {
            kernels.channelAffine(dy, dx, scale, null, n, channels, hw);
        }

        /**
         * J = diag(gamma / s), s = sqrt(running_var + eps) at linearization time: d/dgamma_c {@code <g, J t>}
         * = sum over (n, h, w) of g * t / s_c; beta does not enter J. None without affine (no parameters).
         */
        @Override
        public TangentRule tangentRule() {
            if (weight == null) {
                return null;
            }
            return (t, g, grads) -> {
                float[] gGamma = grads.of(weight);
                for (int c = 0; c < channels; c++) {
                    double sum = 0; // double over the batch: the sum runs over n*h*w products
                    for (int b = 0; b < n; b++) {
                        int off = (b * channels + c) * hw;
                        for (int i = 0; i < hw; i++) {
                            sum += (double) g[off + i] * t[off + i];
                        }
                    }
                    gGamma[c] += (float) (sum * inv[c]);
                }
            };
        }

        @Override
        protected void vjpImpl(float[] gy, float[] gx, ParamGrads grads) {
            if (gx != null) {
                kernels.channelAffine(gx, gy, scale, null, n, channels, hw);
            }
            if (grads != null && weight != null) {
                kernels.channelSumsAccumulate(grads.of(bias), grads.of(weight), gy, normalized(), n, channels, hw);
            }
        }

        /** xhat, computed once and only when parameter gradients are asked for (norm computations never do). */
        private float[] normalized() {
            if (xhat == null) {
                float[] t = new float[inShape().size()];
                kernels.channelAffine(t, x, inv, invShift, n, channels, hw);
                xhat = t;
            }
            return xhat;
        }
    }

    /** Batch statistics; the Jacobian couples the examples. */
    private final class TrainLin extends AbstractLinearization {
        private final float[] mean;  // (c) batch mean
        private final float[] var;   // (c) batch variance, biased
        private final float[] coef;  // (c) gamma / sqrt(var + eps)
        private final float[] xhat;  // (n, c, h, w) normalized input
        private final Tensor y;
        private final int n;
        private final int hw;
        private boolean committed;

        TrainLin(Tensor x, Shape out) {
            super(describe(), x.shape, out, BnMode.TRAIN);
            n = out.n();
            hw = out.h() * out.w();
            if ((long) n * hw < 2) {
                throw error("TRAIN mode needs more than one value per channel (batch statistics), got input shape "
                        + out);
            }
            mean = new float[channels];
            var = new float[channels];
            kernels.channelMeanVar(mean, var, x.data, n, channels, hw);
            float[] inv = new float[channels], shift = new float[channels];
            coef = new float[channels];
            for (int c = 0; c < channels; c++) {
                inv[c] = (float) (1.0 / Math.sqrt((double) var[c] + EPS));
                shift[c] = -mean[c] * inv[c];
                coef[c] = (weight == null ? 1f : weight.value[c]) * inv[c];
            }
            xhat = new float[out.size()];
            kernels.channelAffine(xhat, x.data, inv, shift, n, channels, hw);
            if (weight != null) {
                y = new Tensor(out);
                kernels.channelAffine(y.data, xhat, weight.value, bias.value, n, channels, hw);
            } else {
                y = new Tensor(out, xhat); // without affine y is xhat; output() must not be modified anyway
            }
        }

        @Override
        public Tensor output() {
            return y;
        }

        @Override
        protected void jvpImpl(float[] dx, float[] dy) {
            // dy = gamma/sigma * (dx - mean(dx) - xhat * mean(dx * xhat)): the mean term (d mu) and the
            // variance term (d sigma) of the batch statistics, both per channel over (n, h, w)
            kernels.bnTrainJacobian(dy, dx, xhat, coef, n, channels, hw);
        }

        @Override
        protected void vjpImpl(float[] gy, float[] gx, ParamGrads grads) {
            if (gx != null) {
                // the Jacobian is symmetric: gx = gamma/sigma * (gy - mean(gy) - xhat * mean(gy * xhat))
                kernels.bnTrainJacobian(gx, gy, xhat, coef, n, channels, hw);
            }
            if (grads != null && weight != null) {
                kernels.channelSumsAccumulate(grads.of(bias), grads.of(weight), gy, xhat, n, channels, hw);
            }
        }

        @Override
        public void commit() {
            if (committed) {
                throw new IllegalStateException(owner() + ": commit() called twice on one TRAIN linearization");
            }
            committed = true;
            double count = (double) n * hw;
            double unbias = count / (count - 1);
            float[] rm = runningMean.value, rv = runningVar.value;
            for (int c = 0; c < channels; c++) {
                rm[c] = (float) ((1 - MOMENTUM) * rm[c] + MOMENTUM * mean[c]);
                rv[c] = (float) ((1 - MOMENTUM) * rv[c] + MOMENTUM * var[c] * unbias);
            }
        }
    }

    /** Interval rule for certification (see {@link Layer#bounds()}). */
    @Override
    public dev.opnorm.nn.bounds.BoundRule bounds() {
        return new BatchNormBounds(this);
    }
}
