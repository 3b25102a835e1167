package dev.opnorm.linalg;

import java.util.Arrays;

/**
 * Euclidean projections onto l_p balls and l_p spheres of radius r (centred at 0, or at a point).
 *
 * <ul>
 *   <li>Ball, p = 2: rescale if outside. p = inf: clip each coordinate to [-r, r].
 *       p = 1: exact sort-and-threshold (Duchi, Shalev-Shwartz, Singer, Chandra, ICML 2008), O(n log n).
 *       Other p in (1, inf): the KKT conditions give x_i = sign(v_i) r t_i with
 *       t_i + mu t_i^(p-1) = |v_i| / r; mu >= 0 is found by bisection so that ||t||_p = 1 (each t_i by
 *       safeguarded Newton), to about 1e-12 relative in double; the returned point is on the feasible
 *       side. The l1 case works relative to max |v_i|, so a tiny radius next to huge entries stays
 *       accurate down to r / max|v_i| ~ 1e-16 (below that: r times the shared one-hot on argmax |v_i|,
 *       the limit of the projection as r -> 0).</li>
 *   <li>Sphere ||x||_p = r (a non-convex set, used by the finite-alpha (p,q) iteration, Eq. 11):
 *       from outside the ball it is the ball projection. From inside, p = 2: radial rescale;
 *       p = inf: clip, then move the largest |v_i| to +-r; p = 1: v + delta sign(v) with
 *       delta = (r - ||v||_1)/n (sign(0) taken as +). These three are exact nearest points. For other p
 *       the inside case uses the radial rescale v r/||v||_p, which lies on the sphere but is in general
 *       not the nearest point. The zero vector goes to a fixed point of the sphere: r e_0 for inf,
 *       r n^(-1/p) (1, ..., 1) otherwise.</li>
 * </ul>
 *
 * <p>Computation is in double; the result is rounded to float, so a ball projection may exceed r by a
 * float rounding (relative ~1e-7). Outputs are overwritten and may alias the input.
 */
public final class Projections {
    private Projections() {}

    /** out = Proj_{||x||_p &lt;= radius}(v). */
    public static void ontoBall(float[] v, double p, double radius, float[] out) {
        sameLength(v, out, "ontoBall");
        ontoBall(v, 0, v.length, p, radius, out, 0);
    }

    /** out = center + Proj_{||d||_p &lt;= radius}(x - center): the projection onto the ball around {@code center}. */
    public static void ontoBall(float[] x, float[] center, double p, double radius, float[] out) {
        sameLength(x, out, "ontoBall");
        sameLength(x, center, "ontoBall (center)");
        double[] d = new double[x.length];
        for (int i = 0; i < d.length; i++) d[i] = (double) x[i] - center[i];
        ballInPlace(d, p, radius);
        for (int i = 0; i < d.length; i++) out[i] = (float) (center[i] + d[i]);
    }

    /** out[oo, oo+len) = Proj_{||x||_p &lt;= radius}(v[vo, vo+len)). */
    public static void ontoBall(float[] v, int vo, int len, double p, double radius, float[] out, int oo) {
        double[] d = load(v, vo, len, p, radius, out, oo);
        ballInPlace(d, p, radius);
        store(d, out, oo);
    }

    /** out = a nearest point of the sphere ||x||_p = radius to v (see the class comment for general p). */
    public static void ontoSphere(float[] v, double p, double radius, float[] out) {
        sameLength(v, out, "ontoSphere");
        ontoSphere(v, 0, v.length, p, radius, out, 0);
    }

    /** out[oo, oo+len) = nearest point of the sphere ||x||_p = radius to v[vo, vo+len). */
    public static void ontoSphere(float[] v, int vo, int len, double p, double radius, float[] out, int oo) {
        if (!(radius > 0)) throw new IllegalArgumentException("sphere radius must be > 0, got " + radius);
        if (len == 0) throw new IllegalArgumentException("the sphere in R^0 is empty");
        double[] d = load(v, vo, len, p, radius, out, oo);
        sphereInPlace(d, p, radius);
        store(d, out, oo);
    }

    /** In-place projection of d onto the l_p ball of the given radius (double precision). */
    static void ballInPlace(double[] d, double p, double r) {
        double norm = Norms.lp(d, p);
        if (norm <= r) return;
        if (p == 2) {
            double s = r / norm;
            for (int i = 0; i < d.length; i++) d[i] *= s;
        } else if (p == Double.POSITIVE_INFINITY) {
            for (int i = 0; i < d.length; i++) d[i] = Math.max(-r, Math.min(r, d[i]));
        } else if (p == 1) {
            l1Ball(d, r);
        } else {
            generalBall(d, p, r, norm);
        }
    }

    static void sphereInPlace(double[] d, double p, double r) {
        double norm = Norms.lp(d, p);
        if (norm >= r && norm > 0) {
            ballInPlace(d, p, r);
            return;
        }
        int n = d.length;
        if (p == Double.POSITIVE_INFINITY) {
            int arg = 0;
            for (int i = 1; i < n; i++) if (Math.abs(d[i]) > Math.abs(d[arg])) arg = i;
            d[arg] = d[arg] < 0 ? -r : r;
        } else if (norm == 0) {
            Arrays.fill(d, r * Math.pow(n, -1 / p));
        } else if (p == 1) {
            // inside the cross-polytope: the nearest face point is on the hyperplane of v's own orthant
            double delta = (r - norm) / n;
            for (int i = 0; i < n; i++) d[i] += d[i] < 0 ? -delta : delta;
        } else {
            double s = r / norm;
            for (int i = 0; i < n; i++) d[i] *= s;
        }
    }

    private static void l1Ball(double[] d, double r) {
        int n = d.length;
        // work on |d| / max|d| so that a tiny radius next to huge entries keeps its relative precision
        double m = 0;
        for (double x : d) m = Math.max(m, Math.abs(x));
        double rs = r / m;
        double[] a = new double[n];
        for (int i = 0; i < n; i++) a[i] = Math.abs(d[i]) / m;
        double[] sorted = a.clone();
        Arrays.sort(sorted); // ascending; walk it from the top
        // support size k: the largest entry is always in it; the condition holds for a prefix of the order.
        // The running sum is compensated (Neumaier) so that cum - rs does not lose rs to rounding.
        double cum = 0, comp = 0, theta = sorted[n - 1] - rs;
        for (int j = 0; j < n; j++) {
            double u = sorted[n - 1 - j];
            double t = cum + u;
            comp += Math.abs(cum) >= Math.abs(u) ? (cum - t) + u : (u - t) + cum;
            cum = t;
            double th = ((cum - rs) + comp) / (j + 1);
            if (j == 0 || u - th > 0) theta = th; else break;
        }
        double sum = 0;
        for (int i = 0; i < n; i++) {
            a[i] = Math.max(a[i] - theta, 0);
            sum += a[i];
        }
        if (sum > 0) {
            // ||x||_1 = r up to rounding; only corrects the last ulps of theta
            double fix = rs / sum;
            for (int i = 0; i < n; i++) a[i] *= fix;
        } else {
            // theta rounded up to the maximum (rs below the precision of the entries): the limit r -> 0
            // of the projection, r times the one-hot on argmax |d| with ties sharing the mass
            int ties = 0;
            for (int i = 0; i < n; i++) if (Math.abs(d[i]) == m) ties++;
            for (int i = 0; i < n; i++) a[i] = Math.abs(d[i]) == m ? rs / ties : 0;
        }
        for (int i = 0; i < n; i++) {
            double x = a[i] * m;
            d[i] = d[i] < 0 ? -x : x;
        }
    }

    private static void generalBall(double[] d, double p, double r, double norm) {
        int n = d.length;
        // unit radius: b_i = |d_i| / r. Outside the ball max b_i >= n^(-1/p), and the multiplier satisfies
        // mu <= max b_i * n, so neither b, mu nor t under- or overflows; norms are taken with
        // Norms.lp, which rescales, so no t_i^p is ever formed
        double[] b = new double[n];
        for (int i = 0; i < n; i++) b[i] = Math.abs(d[i]) / r;
        double[] t = new double[n];
        double lo = 0, hi = 1;
        while (normAt(b, hi, p, t) > 1) {
            lo = hi;
            hi *= 2;
            if (hi > 1e300) break;
        }
        for (int it = 0; it < 200 && hi - lo > 1e-14 * hi; it++) {
            double mid = 0.5 * (lo + hi);
            if (normAt(b, mid, p, t) > 1) lo = mid; else hi = mid;
        }
        normAt(b, hi, p, t); // the feasible end of the bracket
        for (int i = 0; i < n; i++) {
            double x = t[i] * r;
            d[i] = d[i] < 0 ? -x : x;
        }
    }

    /** Fills t with the solutions of t_i + mu t_i^(p-1) = b_i and returns ||t||_p. */
    private static double normAt(double[] b, double mu, double p, double[] t) {
        for (int i = 0; i < b.length; i++) t[i] = solveScalar(b[i], mu, p);
        return Norms.lp(t, p);
    }

    /**
     * Root of g(t) = t + mu t^(p-1) - a on [0, a]. g is increasing; the root lies below both a and
     * (a/mu)^(1/(p-1)), which is also an accurate start when the mu term dominates. Newton steps are
     * kept inside the bracket; a step that would leave it is replaced by the geometric midpoint (the
     * bracket can span many orders of magnitude).
     */
    private static double solveScalar(double a, double mu, double p) {
        if (a == 0) return 0;
        double lo = 0, hi = Math.min(a, Math.pow(a / mu, 1 / (p - 1)));
        double t = hi;
        for (int it = 0; it < 200; it++) {
            double tp = Math.pow(t, p - 2);
            double g = t + mu * tp * t - a;
            if (g > 0) hi = t; else lo = t;
            if (g == 0 || hi - lo <= 1e-15 * hi) break;
            double next = t - g / (1 + mu * (p - 1) * tp);
            if (next > lo && next < hi) {
                t = next;
            } else {
                t = lo > 0 ? Math.sqrt(lo * hi) : 0.5 * hi;
            }
        }
        return t;
    }

    private static double[] load(float[] v, int vo, int len, double p, double radius, float[] out, int oo) {
        Norms.checkP(p, "p");
        if (!(radius >= 0)) throw new IllegalArgumentException("ball radius must be >= 0, got " + radius);
        Norms.checkSlice(v.length, vo, len);
        Norms.checkSlice(out.length, oo, len);
        double[] d = new double[len];
        for (int i = 0; i < len; i++) d[i] = v[vo + i];
        return d;
    }

    private static void store(double[] d, float[] out, int oo) {
        for (int i = 0; i < d.length; i++) out[oo + i] = (float) d[i];
    }

    private static void sameLength(float[] a, float[] b, String what) {
        if (a.length != b.length) {
            throw new IllegalArgumentException(what + ": lengths differ (" + a.length + " vs " + b.length + ")");
        }
    }
}
