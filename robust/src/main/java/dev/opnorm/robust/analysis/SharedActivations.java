package dev.opnorm.robust.analysis;

import dev.opnorm.linalg.StartVectors;
import dev.opnorm.nn.Tensor;
import dev.opnorm.nn.layers.Layer;
import dev.opnorm.nn.util.Rng;
import dev.opnorm.robust.attack.BallSampling;

/**
 * Fig. 5 of the paper: the fraction of ReLU units whose on/off state at x + z equals the state at x, for z
 * uniform noise in the l_inf ball of radius eps (averaged over samples). A large fraction means x lies deep in
 * a large activation cell. Noise is not clamped to an input domain (the function is measured, not attacked).
 * BatchNorm EVAL. Seeded: sample s of example i uses the stream
 * {@code StartVectors.restartSeed(StartVectors.exampleSeed(seed, i), s)}.
 */
public final class SharedActivations {
    private SharedActivations() {
    }

    /**
     * Per example, the mean over {@code samples} noise draws of the fraction of shared ReLU states.
     *
     * @throws IllegalArgumentException for samples &lt; 1, eps not positive and finite, or a model without ReLUs
     */
    public static double[] nearby(Layer model, Tensor x, double eps, int samples, long seed) {
        if (samples < 1) {
            throw new IllegalArgumentException("samples = " + samples + " must be >= 1");
        }
        ActivationPattern at = ActivationPattern.of(model, x);
        int n = x.shape.n(), per = x.shape.perExample();
        double[] mean = new double[n];
        Tensor xz = new Tensor(x.shape);
        for (int s = 0; s < samples; s++) {
            for (int i = 0; i < n; i++) {
                Rng rng = new Rng(StartVectors.restartSeed(StartVectors.exampleSeed(seed, i), s));
                BallSampling.uniform(Double.POSITIVE_INFINITY, eps, per, rng, xz.data, i * per);
            }
            for (int j = 0; j < xz.data.length; j++) {
                xz.data[j] += x.data[j];
            }
            double[] f = at.sharedReluFraction(ActivationPattern.of(model, xz));
            for (int i = 0; i < n; i++) {
                mean[i] += f[i] / samples;
            }
        }
        return mean;
    }
}
