package dev.opnorm.nn.optim;

import dev.opnorm.nn.layers.Param;

import java.util.List;
import java.util.Locale;
import java.util.Map;

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
 * State per parameter (momentum != 0 only): {@code momentum_buffer}.
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

    private final Config c;
    private final float[][] momentumBuffer; // per param, null until its first step

    public Sgd(List<Param> params, Config config) {
        super(params, config.lr());
        this.c = config;
        this.momentumBuffer = new float[this.params.size()][];
    }

    public Config config() {
        return c;
    }

    @Override
    public String kind() {
        return "sgd";
    }

    @Override
    protected void update(int i, float[] p, float[] grad) {
        float wd = (float) c.weightDecay();
        float mom = (float) c.momentum();
        float keep = (float) (1 - c.dampening());
        float negLr = (float) -learningRate();
        boolean first = false;
        float[] buf = momentumBuffer[i];
        if (c.momentum() != 0 && buf == null) {
            buf = momentumBuffer[i] = new float[p.length];
            first = true;
        }
        // one line per libtorch op; its CPU kernels fuse add(x, alpha) and addcmul (fma), not addcdiv
        for (int j = 0; j < p.length; j++) {
            float g = grad[j];
            if (wd != 0) {
                g = Math.fma(wd, p[j], g);
            }
            if (buf != null) {
                float b = first ? g : Math.fma(keep, g, buf[j] * mom);
                buf[j] = b;
                g = c.nesterov() ? Math.fma(mom, b, g) : b;
            }
            p[j] = Math.fma(negLr, g, p[j]);
        }
    }

    @Override
    protected List<String> bufferNames() {
        return c.momentum() != 0 ? List.of("momentum_buffer") : List.of();
    }

    @Override
    protected boolean hasState(int i) {
        return momentumBuffer[i] != null;
    }

    @Override
    protected float[] buffer(int i, String name) {
        return momentumBuffer[i];
    }

    @Override
    protected void install(int i, Map<String, float[]> buffers, Map<String, Long> counters) {
        momentumBuffer[i] = buffers.get("momentum_buffer"); // null when momentum is off
    }

    @Override
    protected void clear(int i) {
        momentumBuffer[i] = null;
    }

    @Override
    public String describe() {
        return String.format(Locale.ROOT, "sgd(lr=%s, momentum=%s, dampening=%s, weight_decay=%s, nesterov=%s)",
                learningRate(), c.momentum(), c.dampening(), c.weightDecay(), c.nesterov());
    }
}
