package dev.opnorm.robust.analysis;

import dev.opnorm.linalg.StartVectors;
import dev.opnorm.nn.Shape;
import dev.opnorm.nn.Tensor;
import dev.opnorm.nn.data.Domain;
import dev.opnorm.nn.layers.Layer;
import dev.opnorm.nn.util.Rng;
import dev.opnorm.robust.attack.BallSampling;

/**
 * Fig. 5 of the paper: the fraction of ReLU units whose on/off state at x + z equals the state at x, for z
 * uniform noise in an l_p ball of radius eps - the l_inf ball (a box, every coordinate uniform in [-eps, eps])
 * by default, or the l2 ball - averaged over noise samples. A large fraction means x lies deep inside a large
 * activation cell. Every ReLU of the network counts, including those inside residual blocks
 * ({@link ActivationPattern}). Noise is not clamped to an input domain (the function is measured, not
 * attacked). BatchNorm EVAL.
 *
 * <p>Seeded, common random numbers: sample s of example i is eps times a point u drawn uniformly from the unit
 * ball with a {@link Rng} seeded {@code StartVectors.restartSeed(StartVectors.exampleSeed(seed, firstExample + i),
 * s)}; the same u serves every eps of a curve, so the curve varies smoothly with eps and eps = 0 gives z = 0.
 */
public final class SharedActivations {
    private SharedActivations() {
    }

    /**
     * Per example, the mean over {@code samples} noise draws of the fraction of shared ReLU states, l_inf noise.
     *
     * @throws IllegalArgumentException for samples &lt; 1, eps not finite and &gt;= 0, or a model without ReLUs
     */
    public static double[] nearby(Layer model, Tensor x, double eps, int samples, long seed) {
        double[][] c = curve(model, x, Double.POSITIVE_INFINITY, new double[] {eps}, samples, seed, 0);
        double[] out = new double[c.length];
        for (int i = 0; i < c.length; i++) {
            out[i] = c[i][0];
        }
        return out;
    }

    /**
     * Per example i and radius eps_k, the mean over {@code samples} draws of the fraction of ReLU units that have
     * the same state at x_i + z as at x_i, z uniform in the l_p ball of radius eps_k (p = 2 or inf). Costs
     * 1 + eps.length * samples linearizations of the batch.
     *
     * @param firstExample global index of x's first example (for the per-example noise streams)
     * @return [example][k]
     * @throws IllegalArgumentException for p not 2 or inf, samples &lt; 1, a radius not finite and &gt;= 0, or a
     *                                  model without ReLUs
     */
    public static double[][] curve(Layer model, Tensor x, double p, double[] eps, int samples, long seed,
                                   int firstExample) {
        if (p != 2 && p != Double.POSITIVE_INFINITY) {
            throw new IllegalArgumentException("noise norm p = " + p + " must be 2 or inf");
        }
        if (samples < 1) {
            throw new IllegalArgumentException("samples = " + samples + " must be >= 1");
        }
        if (eps.length == 0) {
            throw new IllegalArgumentException("no noise radii given");
        }
        for (double e : eps) {
            if (!(e >= 0) || !Double.isFinite(e)) {
                throw new IllegalArgumentException("noise radius eps = " + e + " must be finite and >= 0");
            }
        }
        ActivationPattern at = ActivationPattern.of(model, x);
        if (at.reluUnitsPerExample() == 0) {
            throw new IllegalArgumentException("the network has no ReLU layers");
        }
        int n = x.shape.n(), per = x.shape.perExample();
        double[][] mean = new double[n][eps.length];
        float[] unit = new float[x.data.length];
        Tensor xz = new Tensor(x.shape);
        for (int s = 0; s < samples; s++) {
            for (int i = 0; i < n; i++) {
                Rng rng = new Rng(StartVectors.restartSeed(StartVectors.exampleSeed(seed, firstExample + i), s));
                BallSampling.uniform(p, 1, per, rng, unit, i * per);
            }
            for (int k = 0; k < eps.length; k++) {
                float e = (float) eps[k];
                for (int j = 0; j < xz.data.length; j++) {
                    xz.data[j] = x.data[j] + e * unit[j];
                }
                double[] f = at.sharedReluFraction(ActivationPattern.of(model, xz));
                for (int i = 0; i < n; i++) {
                    mean[i][k] += f[i] / samples;
                }
            }
        }
        return mean;
    }

    /**
     * n inputs uniform in the domain's box (the "random inputs" of Fig. 5), example i from the stream
     * {@code StartVectors.exampleSeed(seed, firstExample + i)}.
     */
    public static Tensor randomInputs(Shape shape, Domain domain, long seed, int firstExample) {
        Tensor x = new Tensor(shape);
        int per = shape.perExample();
        float lo = domain.low(), width = domain.high() - domain.low();
        for (int i = 0; i < shape.n(); i++) {
            Rng rng = new Rng(StartVectors.exampleSeed(seed, firstExample + i));
            for (int j = i * per; j < (i + 1) * per; j++) {
                x.data[j] = Math.min(domain.high(), lo + width * rng.nextFloat());
            }
        }
        return x;
    }
}
