package dev.opnorm.nn.optim;

import dev.opnorm.nn.layers.Param;

import java.util.List;
import java.util.Locale;

/**
 * Adam ({@code torch.optim.Adam}) and, with decoupled weight decay, AdamW ({@code torch.optim.AdamW}),
 * without amsgrad:
 * <pre>
 *   t = t + 1                                           (per parameter)
 *   Adam:  g = grad + weight_decay * p       AdamW:  p = p * (1 - lr * weight_decay);  g = grad
 *   m = beta1 * m + (1 - beta1) * g                     (fma(1 - beta1, g, beta1 * m), as libtorch)
 *   v = beta2 * v + (1 - beta2) * g * g                 (fma((1 - beta2) * g, g, beta2 * v))
 *   step_size = lr / (1 - beta1^t)
 *   denom = sqrt(v) / sqrt(1 - beta2^t) + eps
 *   p = p - step_size * m / denom
 * </pre>
 * State per parameter: {@code exp_avg} (m), {@code exp_avg_sq} (v) and the counter {@code step} (t). The
 * scalars are computed here per parameter and step; the element-wise update is {@link UpdateOps#adam}.
 */
public final class Adam extends Optimizer {
    /**
     * @param lr          learning rate (>= 0)
     * @param beta1       first-moment decay in [0, 1)
     * @param beta2       second-moment decay in [0, 1)
     * @param eps         added to the denominator (> 0)
     * @param weightDecay L2 penalty (Adam) or decoupled decay rate (AdamW), >= 0
     * @param decoupled   AdamW: decay the weights directly instead of adding to the gradient
     */
    public record Config(double lr, double beta1, double beta2, double eps, double weightDecay, boolean decoupled) {
        public Config {
            String k = decoupled ? "adamw" : "adam";
            requireRange("beta1", beta1, 0, true, 1, false, k);
            requireRange("beta2", beta2, 0, true, 1, false, k);
            requireRange("eps", eps, 0, false, Double.MAX_VALUE, true, k);
            requireRange("weight decay", weightDecay, 0, true, Double.MAX_VALUE, true, k);
        }

        /** PyTorch's Adam defaults: betas (0.9, 0.999), eps 1e-8, no weight decay. */
        public static Config adam(double lr) {
            return new Config(lr, 0.9, 0.999, 1e-8, 0, false);
        }

        /** PyTorch's AdamW defaults: betas (0.9, 0.999), eps 1e-8, weight decay 0.01. */
        public static Config adamW(double lr) {
            return new Config(lr, 0.9, 0.999, 1e-8, 0.01, true);
        }

        public Config withBetas(double b1, double b2) {
            return new Config(lr, b1, b2, eps, weightDecay, decoupled);
        }

        public Config withEps(double e) {
            return new Config(lr, beta1, beta2, e, weightDecay, decoupled);
        }

        public Config withWeightDecay(double wd) {
            return new Config(lr, beta1, beta2, eps, wd, decoupled);
        }
    }

    /**
     * The scalars of one Adam step of one parameter (its step count t), each rounded to float from double.
     *
     * @param weightDecay L2 coefficient (Adam) or decay rate (AdamW); 0: off
     * @param decay       {@code 1 - lr * weight_decay} (AdamW)
     * @param decoupled   AdamW
     * @param w1          {@code 1 - beta1}
     * @param beta1       first-moment decay
     * @param w2          {@code 1 - beta2}
     * @param beta2       second-moment decay
     * @param negStep     {@code -lr / (1 - beta1^t)}
     * @param bc2Sqrt     {@code sqrt(1 - beta2^t)}
     * @param eps         added to the denominator
     */
    public record Scalars(float weightDecay, float decay, boolean decoupled, float w1, float beta1, float w2,
                          float beta2, float negStep, float bc2Sqrt, float eps) {
    }

    private final Config c;

    public Adam(List<Param> params, Config config) {
        super(params, config.lr());
        this.c = config;
    }

    public Config config() {
        return c;
    }

    @Override
    public String kind() {
        return c == null || !c.decoupled() ? "adam" : "adamw"; // c is null while the super constructor validates lr
    }

    @Override
    protected <B> void update(UpdateOps<B> ops, B value, B grad, List<B> state, boolean first, long t, int length) {
        double lr = learningRate();
        double bc1 = 1 - StrictMath.pow(c.beta1(), t);
        double bc2 = 1 - StrictMath.pow(c.beta2(), t);
        ops.adam(value, grad, state.get(0), state.get(1), new Scalars((float) c.weightDecay(),
                (float) (1 - lr * c.weightDecay()), c.decoupled(), (float) (1 - c.beta1()), (float) c.beta1(),
                (float) (1 - c.beta2()), (float) c.beta2(), (float) -(lr / bc1), (float) StrictMath.sqrt(bc2),
                (float) c.eps()), length);
    }

    @Override
    protected List<String> bufferNames() {
        return List.of("exp_avg", "exp_avg_sq");
    }

    @Override
    protected boolean countsSteps() {
        return true;
    }

    @Override
    public String describe() {
        return String.format(Locale.ROOT, "%s(lr=%s, betas=(%s, %s), eps=%s, weight_decay=%s)", kind(),
                learningRate(), c.beta1(), c.beta2(), c.eps(), c.weightDecay());
    }
}
