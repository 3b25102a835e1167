package dev.opnorm.robust.attack;

import dev.opnorm.nn.util.Rng;

/**
 * Exact uniform sampling from l_p balls of radius eps centred at 0, for p in {1, 2, inf}: the random
 * start of PGA (x_0 ~ U(B_eps^p(x))).
 *
 * <ul>
 *   <li>p = inf: every coordinate independently uniform in [-eps, eps].</li>
 *   <li>p = 2: a Gaussian vector g gives a uniform direction g / ||g||_2; the radius is eps U^(1/n)
 *       (U uniform in [0, 1)), because the volume inside radius r grows as r^n, so P(radius &lt;= r) = (r/eps)^n.</li>
 *   <li>p = 1: n + 1 independent Exp(1) draws E_0..E_n normalized by their sum are Dirichlet(1, ..., 1),
 *       i.e. uniform on the simplex; dropping E_0 leaves (E_1..E_n)/S uniform on the corner
 *       {y_i >= 0, sum y_i &lt;= 1} of the l1 ball. Independent random signs spread it uniformly over all
 *       2^n orthants.</li>
 * </ul>
 * Computation is in double; the point is rounded to float, so ||out||_p may exceed eps by a float rounding.
 * Draws come from the caller's {@link Rng} in a fixed order, so one seed gives one point on every platform.
 */
public final class BallSampling {
    private BallSampling() {
    }

    /**
     * out[off, off+n) = a uniform random point of the l_p ball of radius eps (overwritten).
     *
     * @throws IllegalArgumentException for p not in {1, 2, inf}, eps not positive and finite, or a bad slice
     */
    public static void uniform(double p, double eps, int n, Rng rng, float[] out, int off) {
        AttackChecks.checkP(p);
        AttackChecks.checkEps(eps);
        if (n <= 0 || off < 0 || off + n > out.length) {
            throw new IllegalArgumentException("ball sample slice [" + off + ", " + off + "+" + n
                    + ") out of range for length " + out.length);
        }
        if (p == Double.POSITIVE_INFINITY) {
            for (int i = 0; i < n; i++) {
                out[off + i] = (float) (eps * (2 * rng.nextDouble() - 1));
            }
        } else if (p == 2) {
            double[] g = new double[n];
            double s = 0;
            for (int i = 0; i < n; i++) {
                g[i] = rng.nextGaussian();
                s += g[i] * g[i];
            }
            double norm = Math.sqrt(s);
            // radius eps U^(1/n), U in (0, 1]; via exp/log so that large n does not lose U's precision
            double r = eps * Math.exp(Math.log(1 - rng.nextDouble()) / n);
            for (int i = 0; i < n; i++) {
                out[off + i] = (float) (g[i] / norm * r);
            }
        } else {
            double[] e = new double[n];
            double s = -Math.log(1 - rng.nextDouble()); // E_0: the slack coordinate, dropped
            for (int i = 0; i < n; i++) {
                e[i] = -Math.log(1 - rng.nextDouble());
                s += e[i];
            }
            for (int i = 0; i < n; i++) {
                double y = eps * e[i] / s;
                out[off + i] = (float) (rng.nextBoolean() ? y : -y);
            }
        }
    }
}
