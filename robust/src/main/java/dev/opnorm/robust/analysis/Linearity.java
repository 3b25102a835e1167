package dev.opnorm.robust.analysis;

import dev.opnorm.linalg.PowerMethod;
import dev.opnorm.nn.Tensor;
import dev.opnorm.nn.layers.Layer;
import dev.opnorm.nn.layers.Linearization;

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
 * measure the function, not an attack. Per-example results, in double.
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
        List<PowerMethod.Result> r = PowerMethod.sigmaMax(Features.linearize(model, upTo, x).asBatchLinearMap(), options);
        double[] out = new double[r.size()];
        for (int i = 0; i < out.length; i++) {
            out[i] = r.get(i).sigma();
        }
        return out;
    }
}
