package dev.opnorm.robust.analysis;

import dev.opnorm.linalg.StartVectors;
import dev.opnorm.nn.Shape;
import dev.opnorm.nn.Tensor;

/**
 * Per-example unit directions (l2) for the probes of Fig. 4: random directions, uniform on the sphere, and the
 * direction of a given perturbation such as an adversarial x* - x.
 */
public final class Directions {
    private Directions() {
    }

    /**
     * Per example i, a direction uniform on the unit l2 sphere: a standard normal vector from the stream
     * {@code StartVectors.exampleSeed(seed, firstExample + i)}, normalized. Batch splits do not change example i's
     * direction when firstExample is its global index.
     */
    public static Tensor randomUnit(Shape shape, long seed, int firstExample) {
        Tensor d = new Tensor(shape);
        int per = shape.perExample();
        for (int i = 0; i < shape.n(); i++) {
            StartVectors.gaussian(StartVectors.exampleSeed(seed, firstExample + i), d.data, i * per, per);
        }
        return normalize(d, "random direction");
    }

    /**
     * Per example, (b_i - a_i) / ||b_i - a_i||_2, e.g. the direction of an adversarial perturbation x* - x.
     *
     * @throws IllegalArgumentException when the shapes differ or some b_i = a_i (the example is named)
     */
    public static Tensor unitDifference(Tensor b, Tensor a) {
        if (!a.shape.equals(b.shape)) {
            throw new IllegalArgumentException("shapes differ: " + b.shape + " vs " + a.shape);
        }
        Tensor d = new Tensor(a.shape);
        for (int j = 0; j < d.data.length; j++) {
            d.data[j] = b.data[j] - a.data[j];
        }
        return normalize(d, "perturbation");
    }

    /** Per example ||x_i||_2, in double. */
    public static double[] norms(Tensor x) {
        int n = x.shape.n(), per = x.shape.perExample();
        double[] out = new double[n];
        for (int i = 0; i < n; i++) {
            double s = 0;
            for (int j = i * per; j < (i + 1) * per; j++) {
                s += (double) x.data[j] * x.data[j];
            }
            out[i] = Math.sqrt(s);
        }
        return out;
    }

    private static Tensor normalize(Tensor d, String what) {
        double[] norms = norms(d);
        int per = d.shape.perExample();
        for (int i = 0; i < norms.length; i++) {
            if (!(norms[i] > 0) || !Double.isFinite(norms[i])) {
                throw new IllegalArgumentException("example " + i + ": " + what + " has l2 norm " + norms[i]
                        + ", no direction");
            }
            for (int j = i * per; j < (i + 1) * per; j++) {
                d.data[j] = (float) (d.data[j] / norms[i]);
            }
        }
        return d;
    }
}
