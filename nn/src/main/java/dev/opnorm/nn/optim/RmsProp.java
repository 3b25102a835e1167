package dev.opnorm.nn.optim;

import dev.opnorm.nn.layers.Param;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

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
 * The element-wise update is {@link UpdateOps#rmsprop}.
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

    /**
     * The scalars of one RMSprop step, each rounded to float from the double configuration.
     *
     * @param weightDecay L2 coefficient added to the gradient (0: off)
     * @param alpha       smoothing constant
     * @param w           {@code 1 - alpha}
     * @param eps         added to the denominator
     * @param momentum    momentum factor
     * @param negLr       {@code -lr}
     */
    public record Scalars(float weightDecay, float alpha, float w, float eps, float momentum, float negLr) {
    }

    private final Config c;

    public RmsProp(List<Param> params, Config config) {
        super(params, config.lr());
        this.c = config;
    }

    public Config config() {
        return c;
    }

    @Override
    public String kind() {
        return "rmsprop";
    }

    @Override
    protected <B> void update(UpdateOps<B> ops, B value, B grad, List<B> state, boolean first, long step, int length) {
        boolean mom = c.momentum() > 0;
        ops.rmsprop(value, grad, state.get(0), c.centered() ? state.get(mom ? 2 : 1) : null, mom ? state.get(1) : null,
                new Scalars((float) c.weightDecay(), (float) c.alpha(), (float) (1 - c.alpha()), (float) c.eps(),
                        (float) c.momentum(), (float) -learningRate()), length);
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
    public String describe() {
        return String.format(Locale.ROOT, "rmsprop(lr=%s, alpha=%s, eps=%s, weight_decay=%s, momentum=%s, centered=%s)",
                learningRate(), c.alpha(), c.eps(), c.weightDecay(), c.momentum(), c.centered());
    }
}
