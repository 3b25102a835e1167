package dev.opnorm.nn.optim;

import dev.opnorm.nn.layers.Param;

import java.util.List;
import java.util.Locale;
import java.util.Map;

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
 * State per parameter: {@code exp_avg} (m), {@code exp_avg_sq} (v) and the counter {@code step} (t).
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

    private final Config c;
    private final float[][] expAvg;   // per param, null until its first step
    private final float[][] expAvgSq; // per param, null until its first step
    private final long[] step;        // per param: steps taken

    public Adam(List<Param> params, Config config) {
        super(params, config.lr());
        this.c = config;
        int n = this.params.size();
        expAvg = new float[n][];
        expAvgSq = new float[n][];
        step = new long[n];
    }

    public Config config() {
        return c;
    }

    @Override
    public String kind() {
        return c == null || !c.decoupled() ? "adam" : "adamw"; // c is null while the super constructor validates lr
    }

    @Override
    protected void update(int i, float[] p, float[] grad) {
        if (expAvg[i] == null) {
            expAvg[i] = new float[p.length];
            expAvgSq[i] = new float[p.length];
        }
        float[] m = expAvg[i], v = expAvgSq[i];
        long t = ++step[i];
        double lr = learningRate();
        float wd = (float) c.weightDecay();
        float decay = (float) (1 - lr * c.weightDecay());
        float w1 = (float) (1 - c.beta1());
        float b1 = (float) c.beta1();
        float b2 = (float) c.beta2();
        float w2 = (float) (1 - c.beta2());
        double bc1 = 1 - StrictMath.pow(c.beta1(), t);
        double bc2 = 1 - StrictMath.pow(c.beta2(), t);
        float negStep = (float) -(lr / bc1);
        float bc2Sqrt = (float) StrictMath.sqrt(bc2);
        float eps = (float) c.eps();
        boolean decoupled = c.decoupled();
        // one line per libtorch op; its CPU kernels fuse add(x, alpha) and addcmul (fma), not addcdiv
        for (int j = 0; j < p.length; j++) {
            float g = grad[j];
            if (wd != 0) {
                if (decoupled) {
                    p[j] = p[j] * decay;
                } else {
                    g = Math.fma(wd, p[j], g);
                }
            }
            m[j] = Math.fma(w1, g, m[j] * b1);
            v[j] = Math.fma(w2 * g, g, v[j] * b2);
            float denom = (float) Math.sqrt(v[j]) / bc2Sqrt + eps;
            p[j] = p[j] + negStep * m[j] / denom;
        }
    }

    @Override
    protected List<String> bufferNames() {
        return List.of("exp_avg", "exp_avg_sq");
    }

    @Override
    protected List<String> counterNames() {
        return List.of("step");
    }

    @Override
    protected boolean hasState(int i) {
        return expAvg[i] != null;
    }

    @Override
    protected float[] buffer(int i, String name) {
        return name.equals("exp_avg") ? expAvg[i] : expAvgSq[i];
    }

    @Override
    protected long counter(int i, String name) {
        return step[i];
    }

    @Override
    protected void install(int i, Map<String, float[]> buffers, Map<String, Long> counters) {
        expAvg[i] = buffers.get("exp_avg");
        expAvgSq[i] = buffers.get("exp_avg_sq");
        step[i] = counters.get("step");
    }

    @Override
    protected void clear(int i) {
        expAvg[i] = null;
        expAvgSq[i] = null;
        step[i] = 0;
    }

    @Override
    public String describe() {
        return String.format(Locale.ROOT, "%s(lr=%s, betas=(%s, %s), eps=%s, weight_decay=%s)", kind(),
                learningRate(), c.beta1(), c.beta2(), c.eps(), c.weightDecay());
    }
}
