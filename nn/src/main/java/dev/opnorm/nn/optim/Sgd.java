package dev.opnorm.nn.optim;

import dev.opnorm.nn.layers.Param;

import java.util.List;
import java.util.Locale;

/**
 * Stochastic gradient descent with optional momentum, dampening, Nesterov momentum and (L2, coupled)
 * weight decay, as {@code torch.optim.SGD}:
 * <pre>
 *   g = grad + weight_decay * p
 *   if momentum != 0:
 *       buf = g                                   on the parameter's first step
 *       buf = momentum * buf + (1 - dampening) * g  afterwards
 *       g = nesterov ? g + momentum * buf : buf
 *   p = p - lr * g
 * </pre>
 * State per parameter (momentum != 0 only): {@code momentum_buffer}. The element-wise update is
 * {@link UpdateOps#sgd} on the backend that holds the state.
 */
public final class Sgd extends Optimizer {
    /**
     * @param lr          learning rate (>= 0)
     * @param momentum    momentum factor in [0, 1)
     * @param dampening   dampening for momentum in [0, 1]
     * @param weightDecay L2 penalty coefficient (>= 0), added to the gradient
     * @param nesterov    Nesterov momentum (requires momentum > 0 and dampening 0, as PyTorch)
     */
    public record Config(double lr, double momentum, double dampening, double weightDecay, boolean nesterov) {
        public Config {
            requireRange("momentum", momentum, 0, true, 1, false, "sgd");
            requireRange("dampening", dampening, 0, true, 1, true, "sgd");
            requireRange("weight decay", weightDecay, 0, true, Double.MAX_VALUE, true, "sgd");
            if (nesterov && (momentum <= 0 || dampening != 0)) {
                throw new IllegalArgumentException("sgd: Nesterov momentum requires momentum > 0 and zero dampening");
            }
        }

        /** Plain SGD: no momentum, no weight decay. */
        public static Config of(double lr) {
            return new Config(lr, 0, 0, 0, false);
        }

        public Config withMomentum(double m) {
            return new Config(lr, m, dampening, weightDecay, nesterov);
        }

        public Config withDampening(double d) {
            return new Config(lr, momentum, d, weightDecay, nesterov);
        }

        public Config withWeightDecay(double wd) {
            return new Config(lr, momentum, dampening, wd, nesterov);
        }

        public Config withNesterov(boolean n) {
            return new Config(lr, momentum, dampening, weightDecay, n);
        }
    }

    /**
     * The scalars of one SGD step, each rounded to float from the double configuration.
     *
     * @param weightDecay L2 coefficient added to the gradient (0: off)
     * @param momentum    momentum factor
     * @param keep        {@code 1 - dampening}
     * @param negLr       {@code -lr}
     * @param first       the parameter's first step with a momentum buffer ({@code buf = g})
     * @param nesterov    Nesterov momentum
     */
    public record Scalars(float weightDecay, float momentum, float keep, float negLr, boolean first,
                          boolean nesterov) {
    }

    private final Config c;

    public Sgd(List<Param> params, Config config) {
        super(params, config.lr());
        this.c = config;
    }

    public Config config() {
        return c;
    }

    @Override
    public String kind() {
        return "sgd";
    }

    @Override
    protected <B> void update(UpdateOps<B> ops, B value, B grad, List<B> state, boolean first, long step, int length) {
        ops.sgd(value, grad, state.isEmpty() ? null : state.get(0), new Scalars((float) c.weightDecay(),
                (float) c.momentum(), (float) (1 - c.dampening()), (float) -learningRate(), first, c.nesterov()), length);
    }

    @Override
    protected List<String> bufferNames() {
        return c.momentum() != 0 ? List.of("momentum_buffer") : List.of();
    }

    @Override
    public String describe() {
        return String.format(Locale.ROOT, "sgd(lr=%s, momentum=%s, dampening=%s, weight_decay=%s, nesterov=%s)",
                learningRate(), c.momentum(), c.dampening(), c.weightDecay(), c.nesterov());
    }
}
