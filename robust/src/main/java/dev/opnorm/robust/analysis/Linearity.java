package dev.opnorm.robust.analysis;

import dev.opnorm.linalg.PowerMethod;
import dev.opnorm.nn.Tensor;
import dev.opnorm.nn.layers.Layer;
import dev.opnorm.nn.layers.Linearization;
import dev.opnorm.nn.layers.PlacedBatchOps;
import dev.opnorm.nn.layers.PlacedModel;

import java.util.List;

/**
 * Fig. 4 of the paper: how linear the features phi are around a point, and how large their Jacobian stays.
 *
 * <pre>
 *   deviation(x, z) = ||phi(x + z) - (phi(x) + J_phi(x) z)||_2      (0 while x + z stays in x's cell)
 *   sigmaMax(x)     = sigma_max(J_phi(x))                           (power method, batched)
 * </pre>
 *
 * phi is the network up to a named child (e.g. "features", the penultimate layer of the 7-layer CNN), or the
 * whole network for a null path. BatchNorm runs in EVAL mode. Inputs are not clamped to a domain: these
 * measure the function, not an attack. Per-example results, in double. The curves take z = t d along a unit
 * (l2) direction d per example (random or adversarial, see {@link Directions}) for a grid of norms t.
 */
public final class Linearity {
    private Linearity() {
    }

    /**
     * Per example ||phi(x + z) - phi(x) - J_phi(x) z||_2.
     *
     * @param upTo child path of phi (dotted for nested Sequentials) or null for the whole model
     * @param z    perturbations, same shape as x
     * @throws IllegalArgumentException on a shape mismatch or an unknown path
     */
    public static double[] deviation(Layer model, String upTo, Tensor x, Tensor z) {
        if (!x.shape.equals(z.shape)) {
            throw new IllegalArgumentException("perturbation shape " + z.shape + " differs from input shape " + x.shape);
        }
        Linearization lin = Features.linearize(model, upTo, x);
        Tensor xz = new Tensor(x.shape);
        for (int j = 0; j < xz.data.length; j++) {
            xz.data[j] = x.data[j] + z.data[j];
        }
        float[] moved = Features.forward(model, upTo, xz).data;
        float[] base = lin.output().data;
        float[] jz = new float[base.length];
        lin.jvp(z.data, jz);
        int n = x.shape.n(), m = base.length / n;
        double[] out = new double[n];
        for (int i = 0; i < n; i++) {
            double s = 0;
            for (int t = i * m; t < (i + 1) * m; t++) {
                double d = (double) moved[t] - base[t] - jz[t];
                s += d * d;
            }
            out[i] = Math.sqrt(s);
        }
        return out;
    }

    /** Per example sigma_max(J_phi(x)) by the batched power method (one JVP and one VJP per iteration). */
    public static double[] sigmaMax(Layer model, String upTo, Tensor x, PowerMethod.Options options) {
        List<PowerMethod.Result> r;
        try (PlacedModel<float[], int[]> m = PlacedModel.host(model)) { // the host's row operations of a network
            r = PowerMethod.sigmaMax(Features.linearize(model, upTo, x).asBatchLinearMap(), PlacedBatchOps.of(m), options,
                    null);
        }
        double[] out = new double[r.size()];
        for (int i = 0; i < out.length; i++) {
            out[i] = r.get(i).sigma();
        }
        return out;
    }

    /**
     * Fig. 4 left: per example i and norm t_k, ||phi(x_i + t_k d_i) - phi(x_i) - J_phi(x_i) t_k d_i||_2 with d_i
     * the unit (l2) direction of {@code directions}' example i, so ||z||_2 = t_k. One linearization at x, one
     * JVP, and one forward pass per norm, each for the whole batch.
     *
     * @param directions per-example directions (normalized here; see {@link Directions})
     * @param norms      the l2 norms t_k of z, each finite and >= 0
     * @return [example][k]
     * @throws IllegalArgumentException on a shape mismatch, a zero direction, or a bad norm
     */
    public static double[][] deviationCurve(Layer model, String upTo, Tensor x, Tensor directions, double[] norms) {
        Tensor d = checkCurve(x, directions, norms);
        Linearization lin = Features.linearize(model, upTo, x);
        float[] base = lin.output().data;
        float[] jd = new float[base.length];
        lin.jvp(d.data, jd);
        int n = x.shape.n(), m = base.length / n;
        double[][] out = new double[n][norms.length];
        Tensor xz = new Tensor(x.shape);
        for (int k = 0; k < norms.length; k++) {
            float t = (float) norms[k];
            for (int j = 0; j < xz.data.length; j++) {
                xz.data[j] = x.data[j] + t * d.data[j];
            }
            float[] moved = Features.forward(model, upTo, xz).data;
            for (int i = 0; i < n; i++) {
                double s = 0;
                for (int j = i * m; j < (i + 1) * m; j++) {
                    double e = (double) moved[j] - base[j] - (double) t * jd[j];
                    s += e * e;
                }
                out[i][k] = Math.sqrt(s);
            }
        }
        return out;
    }

    /**
     * Fig. 4 right: per example i and norm t_k, sigma_max(J_phi(x_i + t_k d_i)) with d_i the unit direction of
     * example i, by the batched power method. The first norm starts from {@code options}' Gaussian start
     * vectors (so at t = 0 the result equals {@link #sigmaMax} at x); each later norm starts from the previous
     * norm's right singular vector, which the small move barely changes.
     *
     * @return [example][k]
     * @throws IllegalArgumentException as {@link #deviationCurve}
     */
    public static double[][] sigmaMaxCurve(Layer model, String upTo, Tensor x, Tensor directions, double[] norms,
                                           PowerMethod.Options options) {
        return sigmaMaxCurve(model, upTo, x, directions, norms, options, null);
    }

    /**
     * {@link #sigmaMaxCurve(Layer, String, Tensor, Tensor, double[], PowerMethod.Options)} with given start vectors
     * for the first norm, e.g. the top right singular vectors of J_phi(x) from {@link Spectra#svds}, which make the
     * first point converge at once.
     *
     * @param start per-example start vectors (batch x input values, example-major; not modified), or null for
     *              {@code options}' Gaussian starts
     * @throws IllegalArgumentException as above, or for a start of the wrong length or with a zero example
     */
    public static double[][] sigmaMaxCurve(Layer model, String upTo, Tensor x, Tensor directions, double[] norms,
                                           PowerMethod.Options options, float[] start) {
        Tensor d = checkCurve(x, directions, norms);
        if (start != null && start.length != x.data.length) {
            throw new IllegalArgumentException("start vectors have " + start.length + " values, the inputs "
                    + x.data.length);
        }
        int n = x.shape.n();
        double[][] out = new double[n][norms.length];
        Tensor xz = new Tensor(x.shape);
        float[] from = start;   // the caller's array is only read (PowerMethod copies it)
        for (int k = 0; k < norms.length; k++) {
            float t = (float) norms[k];
            for (int j = 0; j < xz.data.length; j++) {
                xz.data[j] = x.data[j] + t * d.data[j];
            }
            var map = Features.linearize(model, upTo, xz).asBatchLinearMap();
            List<PowerMethod.Result> r;
            try (PlacedModel<float[], int[]> m = PlacedModel.host(model)) { // the host's row operations of a network
                r = PowerMethod.sigmaMax(map, PlacedBatchOps.of(m), options, from);
            }
            int in = map.inDim();
            from = new float[n * in];
            for (int i = 0; i < n; i++) {
                out[i][k] = r.get(i).sigma();
                System.arraycopy(r.get(i).v(), 0, from, i * in, in);
            }
        }
        return out;
    }

    private static Tensor checkCurve(Tensor x, Tensor directions, double[] norms) {
        if (!x.shape.equals(directions.shape)) {
            throw new IllegalArgumentException("direction shape " + directions.shape + " differs from input shape "
                    + x.shape);
        }
        if (norms.length == 0) {
            throw new IllegalArgumentException("no norms given");
        }
        for (double t : norms) {
            if (!(t >= 0) || !Double.isFinite(t)) {
                throw new IllegalArgumentException("norm of z = " + t + " must be finite and >= 0");
            }
        }
        double[] dn = Directions.norms(directions);
        for (int i = 0; i < dn.length; i++) {
            if (!(dn[i] > 0) || !Double.isFinite(dn[i])) {
                throw new IllegalArgumentException("example " + i + ": direction has l2 norm " + dn[i]);
            }
        }
        Tensor d = directions.copy();
        int per = x.shape.perExample();
        for (int i = 0; i < dn.length; i++) {
            for (int j = i * per; j < (i + 1) * per; j++) {
                d.data[j] = (float) (d.data[j] / dn[i]);
            }
        }
        return d;
    }
}
