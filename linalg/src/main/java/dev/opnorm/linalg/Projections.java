package dev.opnorm.linalg;

import java.util.Arrays;

/**
 * Euclidean projections onto l_p balls and l_p spheres of radius r (centred at 0, or at a point).
 *
 * <ul>
 *   <li>Ball, p = 2: rescale if outside. p = inf: clip each coordinate to [-r, r].
 *       p = 1: exact sort-and-threshold (Duchi, Shalev-Shwartz, Singer, Chandra, ICML 2008), O(n log n).
 *       Other p in (1, inf): the KKT conditions give x_i = sign(v_i) t_i with t_i + mu t_i^(p-1) = |v_i|;
 *       mu >= 0 is found by bisection so that ||x||_p = r (each t_i by safeguarded Newton), to about
 *       1e-12 relative in double; the returned point is on the feasible side.</li>
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
        double[] a = new double[n];
        for (int i = 0; i < n; i++) a[i] = Math.abs(d[i]);
        Arrays.sort(a); // ascending; walk it from the top
        double cum = 0, theta = 0;
        for (int j = 0; j < n; j++) {
            double u = a[n - 1 - j];
            cum += u;
            double t = (cum - r) / (j + 1);
            if (u - t > 0) theta = t; else break; // the condition holds for a prefix of the sorted order
        }
        for (int i = 0; i < n; i++) {
            double m = Math.max(Math.abs(d[i]) - theta, 0);
            d[i] = d[i] < 0 ? -m : m;
        }
    }

    private static void generalBall(double[] d, double p, double r, double norm) {
        int n = d.length;
        double m = 0;
        for (double x : d) m = Math.max(m, Math.abs(x));
        // scaled problem: a_i = |d_i|/m in [0,1], radius rs = r/m; solve t + mu t^(p-1) = a
        double[] a = new double[n];
        for (int i = 0; i < n; i++) a[i] = Math.abs(d[i]) / m;
        double rs = r / m, target = Math.pow(rs, p);
        double[] t = new double[n];
        double lo = 0, hi = 1;
        while (sumPow(a, hi, p, t) > target) {
            lo = hi;
            hi *= 2;
            if (hi > 1e300) break;
        }
        for (int it = 0; it < 200 && hi - lo > 1e-14 * hi; it++) {
            double mid = 0.5 * (lo + hi);
            if (sumPow(a, mid, p, t) > target) lo = mid; else hi = mid;
        }
        sumPow(a, hi, p, t); // feasible side
        for (int i = 0; i < n; i++) {
            double x = t[i] * m;
            d[i] = d[i] < 0 ? -x : x;
        }
    }

    /** Fills t with the solutions of t_i + mu t_i^(p-1) = a_i and returns sum t_i^p. */
    private static double sumPow(double[] a, double mu, double p, double[] t) {
        double s = 0;
        for (int i = 0; i < a.length; i++) {
            t[i] = solveScalar(a[i], mu, p);
            s += Math.pow(t[i], p);
        }
        return s;
    }

    /** Root of g(t) = t + mu t^(p-1) - a on [0, a]; g is increasing, so Newton is safeguarded by a bracket. */
    private static double solveScalar(double a, double mu, double p) {
        if (a == 0) return 0;
        double lo = 0, hi = a, t = a / (1 + mu * Math.pow(a, p - 2));
        for (int it = 0; it < 100; it++) {
            double tp = Math.pow(t, p - 2);
            double g = t + mu * tp * t - a;
            if (g > 0) hi = t; else lo = t;
            if (g == 0 || hi - lo <= 1e-15 * a) break;
            double next = t - g / (1 + mu * (p - 1) * tp);
            t = (next > lo && next < hi) ? next : 0.5 * (lo + hi);
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
