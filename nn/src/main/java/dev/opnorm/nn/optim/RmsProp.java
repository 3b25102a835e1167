package dev.opnorm.nn.optim;

import dev.opnorm.nn.layers.Param;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * RMSprop as {@code torch.optim.RMSprop} (defaults alpha 0.99, eps 1e-8; eps is added OUTSIDE the square
 * root, unlike TensorFlow):
 * <pre>
 *   g = grad + weight_decay * p
 *   sq = alpha * sq + (1 - alpha) * g * g
 *   centered:  ga = alpha * ga + (1 - alpha) * g;  avg = sqrt(sq - ga * ga) + eps
 *   else:      avg = sqrt(sq) + eps
 *   momentum > 0:  buf = momentum * buf + g / avg;  p = p - lr * buf
 *   else:          p = p - lr * g / avg
 * </pre>
 * State per parameter: {@code square_avg}, plus {@code momentum_buffer} (momentum > 0) and {@code grad_avg}
 * (centered), all starting at zero. As in PyTorch, a centered variance that rounds below zero gives NaN.
 */
public final class RmsProp extends Optimizer {
    /**
     * @param lr          learning rate (>= 0)
     * @param alpha       smoothing constant in [0, 1)
     * @param eps         added to the denominator (> 0)
     * @param weightDecay L2 penalty (>= 0), added to the gradient
     * @param momentum    momentum factor in [0, 1)
     * @param centered    normalise by the estimated variance instead of the raw second moment
     */
    public record Config(double lr, double alpha, double eps, double weightDecay, double momentum, boolean centered) {
        public Config {
            requireRange("alpha", alpha, 0, true, 1, false, "rmsprop");
            requireRange("eps", eps, 0, false, Double.MAX_VALUE, true, "rmsprop");
            requireRange("weight decay", weightDecay, 0, true, Double.MAX_VALUE, true, "rmsprop");
            requireRange("momentum", momentum, 0, true, 1, false, "rmsprop");
        }

        /** PyTorch's defaults: alpha 0.99, eps 1e-8, no weight decay, no momentum, not centered. */
        public static Config of(double lr) {
            return new Config(lr, 0.99, 1e-8, 0, 0, false);
        }

        public Config withAlpha(double a) {
            return new Config(lr, a, eps, weightDecay, momentum, centered);
        }

        public Config withEps(double e) {
            return new Config(lr, alpha, e, weightDecay, momentum, centered);
        }

        public Config withWeightDecay(double wd) {
            return new Config(lr, alpha, eps, wd, momentum, centered);
        }

        public Config withMomentum(double m) {
            return new Config(lr, alpha, eps, weightDecay, m, centered);
        }

        public Config withCentered(boolean ctr) {
            return new Config(lr, alpha, eps, weightDecay, momentum, ctr);
        }
    }

    private final Config c;
    private final float[][] squareAvg;      // per param, null until its first step
    private final float[][] momentumBuffer; // per param, momentum > 0 only
    private final float[][] gradAvg;        // per param, centered only

    public RmsProp(List<Param> params, Config config) {
        super(params, config.lr());
        this.c = config;
        int n = this.params.size();
        squareAvg = new float[n][];
        momentumBuffer = new float[n][];
        gradAvg = new float[n][];
    }

    public Config config() {
        return c;
    }

    @Override
    public String kind() {
        return "rmsprop";
    }

    @Override
    protected void update(int i, float[] p, float[] grad) {
        if (squareAvg[i] == null) {
            squareAvg[i] = new float[p.length];
            momentumBuffer[i] = c.momentum() > 0 ? new float[p.length] : null;
            gradAvg[i] = c.centered() ? new float[p.length] : null;
        }
        float[] sq = squareAvg[i], buf = momentumBuffer[i], ga = gradAvg[i];
        float wd = (float) c.weightDecay();
        float alpha = (float) c.alpha();
        float w = (float) (1 - c.alpha());
        float eps = (float) c.eps();
        float mom = (float) c.momentum();
        float negLr = (float) -learningRate();
        // one line per libtorch op; its CPU kernels fuse add(x, alpha) and addcmul (fma), not addcdiv
        for (int j = 0; j < p.length; j++) {
            float g = grad[j];
            if (wd != 0) {
                g = Math.fma(wd, p[j], g);
            }
            sq[j] = Math.fma(w * g, g, sq[j] * alpha);
            float avg;
            if (ga != null) {
                ga[j] = Math.fma(w, g, ga[j] * alpha);
                avg = (float) Math.sqrt(Math.fma(-ga[j], ga[j], sq[j])) + eps;
            } else {
                avg = (float) Math.sqrt(sq[j]) + eps;
            }
            if (buf != null) {
                buf[j] = buf[j] * mom + g / avg;
                p[j] = Math.fma(negLr, buf[j], p[j]);
            } else {
                p[j] = p[j] + negLr * g / avg;
            }
        }
    }

    @Override
    protected List<String> bufferNames() {
        List<String> n = new ArrayList<>(List.of("square_avg"));
        if (c.momentum() > 0) {
            n.add("momentum_buffer");
        }
        if (c.centered()) {
            n.add("grad_avg");
        }
        return n;
    }

    @Override
    protected boolean hasState(int i) {
        return squareAvg[i] != null;
    }

    @Override
    protected float[] buffer(int i, String name) {
        switch (name) {
            case "square_avg":
                return squareAvg[i];
            case "momentum_buffer":
                return momentumBuffer[i];
            default:
                return gradAvg[i];
        }
    }

    @Override
    protected void install(int i, Map<String, float[]> buffers, Map<String, Long> counters) {
        squareAvg[i] = buffers.get("square_avg");
        momentumBuffer[i] = buffers.get("momentum_buffer");
        gradAvg[i] = buffers.get("grad_avg");
    }

    @Override
    protected void clear(int i) {
        squareAvg[i] = null;
        momentumBuffer[i] = null;
        gradAvg[i] = null;
    }

    @Override
    public String describe() {
        return String.format(Locale.ROOT, "rmsprop(lr=%s, alpha=%s, eps=%s, weight_decay=%s, momentum=%s, centered=%s)",
                learningRate(), c.alpha(), c.eps(), c.weightDecay(), c.momentum(), c.centered());
    }
}
