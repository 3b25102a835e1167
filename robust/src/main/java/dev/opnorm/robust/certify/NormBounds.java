package dev.opnorm.robust.certify;

import dev.opnorm.linalg.Norms;
import dev.opnorm.linalg.Svd;
import dev.opnorm.nn.bounds.Outward;
import org.ejml.data.DMatrixRMaj;

/**
 * Sound bounds on ||A||_{p,q} = max_{||v||_p &lt;= 1} ||A v||_q of a dense rows x cols matrix held in
 * double (row-major), p, q in {1, 2, inf}: upper bounds rounded up, lower bounds rounded down, so the
 * true norm of the matrix as stored lies between them.
 *
 * <p>Per cell of Table 1 (k = rows, n = cols):
 * <ul>
 *   <li>p = 1 (max column q-norm) and q = inf (max row p*-norm): closed forms, bracket of zero width up
 *       to rounding.</li>
 *   <li>(2,2) in {@link #upper}: Gram iteration ({@link #gramUp}), no decomposition. {@link #spectralUp}
 *       (sigma_max for the bounds of other cells): sigma_max from the Gram matrix G of the smaller side,
 *       computed in double with an
 *       entrywise error bound E; lambda_max(G) &lt; t is proved by congruence: with V the eigenvectors
 *       EJML returns, if V^T (G - t I) V is negative definite by Gershgorin's theorem (with the rounding
 *       of that product bounded entrywise), so is G - t I (Sylvester's law of inertia; V is then
 *       invertible). Then sigma_max^2 &lt;= t + ||E||_F. If the proof fails (it has not been seen to),
 *       the fallbacks min(||A||_F, sqrt(||A||_1 ||A||_inf)) are used.</li>
 *   <li>(inf,1) and (2,1), NP-hard in general: exact by enumerating the 2^(d-1) sign vectors of the
 *       smaller side d &lt;= {@link #MAX_SIGNS} (for a network, d = the number of classes:
 *       ||A||_{p,1} = max_{s in {+-1}^k} ||A^T s||_{p*}, and ||A||_{inf,1} also over {+-1}^n). Larger:
 *       (inf,1) &lt;= sum |a_ij| (sum of row l1 norms), (2,1) &lt;= min(sum_i ||a_i||_2, sqrt(k) ||A||_2).</li>
 *   <li>(inf,2), NP-hard: exact by enumerating {+-1}^n when n &lt;= {@link #MAX_SIGNS}; otherwise
 *       min(sqrt(sum_i ||a_i||_1^2) (each |(A v)_i| &lt;= ||a_i||_1), sqrt(n) ||A||_2, ||A||_{inf,1});
 *       the gap to the lower bound is reported, not closed.</li>
 * </ul>
 * Rounding of sums: see {@link Outward}; a computed norm of a vector whose entries are each within e_j
 * of the true ones is widened by ||e||_q (triangle inequality).
 */
public final class NormBounds {
    private NormBounds() {
    }

    /** Largest dimension enumerated over sign vectors (2^(d-1) of them). */
    public static final int MAX_SIGNS = 16;

    /** A bound and how it was obtained. */
    public record Bound(double value, String method) {}

    /** A dense rows x cols matrix, row-major. */
    public record Dense(int rows, int cols, double[] a) {
        public Dense {
            if (rows <= 0 || cols <= 0 || a.length != (long) rows * cols) {
                throw new IllegalArgumentException("dense matrix " + rows + " x " + cols + " with " + a.length + " entries");
            }
            for (double v : a) {
                if (!Double.isFinite(v)) {
                    throw new IllegalArgumentException("dense " + rows + " x " + cols + " matrix has a non-finite entry " + v);
                }
            }
        }

        double at(int i, int j) {
            return a[i * cols + j];
        }
    }

    static void checkPq(double p, double q) {
        for (double v : new double[]{p, q}) {
            if (v != 1 && v != 2 && v != Double.POSITIVE_INFINITY) {
                throw new IllegalArgumentException("(p,q) = (" + Norms.format(p) + "," + Norms.format(q)
                        + "): certified bounds support p, q in {1, 2, inf}");
            }
        }
    }

    // ---- vector norms, rounded -------------------------------------------------------------------

    /** Upper bound of ||x||_q, q in {1, 2, inf}. */
    static double lpUp(double[] x, double q) {
        if (q == Double.POSITIVE_INFINITY) {
            double m = 0;
            for (double v : x) {
                m = Math.max(m, Math.abs(v));
            }
            return m;
        }
        double s = 0;
        for (double v : x) {
            s += q == 1 ? Math.abs(v) : v * v;
        }
        s = Math.nextUp(s * (1 + Outward.gamma(x.length + 1)));
        return q == 1 ? s : Outward.sqrtUp(s);
    }

    /** Lower bound of ||x||_q. */
    static double lpDown(double[] x, double q) {
        if (q == Double.POSITIVE_INFINITY) {
            return lpUp(x, q);
        }
        double s = 0;
        for (double v : x) {
            s += q == 1 ? Math.abs(v) : v * v;
        }
        s = Math.nextDown(s * (1 - Outward.gamma(x.length + 1)));
        return q == 1 ? Math.max(0, s) : Outward.sqrtDown(s);
    }

    // ---- upper bounds -----------------------------------------------------------------------------

    /** An upper bound on ||A||_{p,q}, the tightest of the sound ones listed in the class comment. */
    public static Bound upper(Dense a, double p, double q) {
        checkPq(p, q);
        if (p == 1) {
            return new Bound(maxColumn(a, q), "closed form: max column l" + Norms.format(q));
        }
        if (q == Double.POSITIVE_INFINITY) {
            return new Bound(maxRow(a, Norms.conjugate(p)), "closed form: max row l" + Norms.format(Norms.conjugate(p)));
        }
        if (p == 2 && q == 2) {
            return gramOrFallback(a);
        }
        if (q == 1 && enumDim(a, p, q) <= MAX_SIGNS) {
            return new Bound(signs(a, p, q)[1], "exact: " + signMethod(a, p, q));
        }
        if (p == Double.POSITIVE_INFINITY && q == 2 && a.cols <= MAX_SIGNS) {
            return new Bound(signs(a, p, q)[1], "exact: " + signMethod(a, p, q));
        }
        double spec = spectralUp(a).value();
        if (q == 1 && p == 2) {
            double rows = 0;
            for (int i = 0; i < a.rows; i++) {
                rows = Outward.addUp(rows, lpUp(row(a, i), 2));
            }
            double viaSpec = Outward.mulUp(Outward.sqrtUp(a.rows), spec);
            return rows <= viaSpec ? new Bound(rows, "sum of row l2 norms") : new Bound(viaSpec, "sqrt(rows) sigma_max");
        }
        double l1 = 0;
        for (int i = 0; i < a.rows; i++) {
            l1 = Outward.addUp(l1, lpUp(row(a, i), 1));
        }
        if (q == 1) { // p = inf
            return new Bound(l1, "sum of row l1 norms");
        }
        // (inf, 2)
        double sq = 0;
        for (int i = 0; i < a.rows; i++) {
            double r = lpUp(row(a, i), 1);
            sq = Outward.addUp(sq, Outward.mulUp(r, r));
        }
        double rowBound = Outward.sqrtUp(sq), viaSpec = Outward.mulUp(Outward.sqrtUp(a.cols), spec);
        Bound best = new Bound(rowBound, "l2 norm of the row l1 norms");
        if (viaSpec < best.value()) {
            best = new Bound(viaSpec, "sqrt(cols) sigma_max");
        }
        if (l1 < best.value()) {
            best = new Bound(l1, "||A||_{inf,1} >= ||A||_{inf,2}");
        }
        return best;
    }

    private static String signMethod(Dense a, double p, double q) {
        return "enumeration of 2^" + (enumDim(a, p, q) - 1) + " sign vectors";
    }

    private static double[] row(Dense a, int i) {
        double[] r = new double[a.cols];
        System.arraycopy(a.a, i * a.cols, r, 0, a.cols);
        return r;
    }

    private static double[] column(Dense a, int j) {
        double[] c = new double[a.rows];
        for (int i = 0; i < a.rows; i++) {
            c[i] = a.at(i, j);
        }
        return c;
    }

    static double maxColumn(Dense a, double q) {
        double m = 0;
        for (int j = 0; j < a.cols; j++) {
            m = Math.max(m, lpUp(column(a, j), q));
        }
        return m;
    }

    static double maxRow(Dense a, double r) {
        double m = 0;
        for (int i = 0; i < a.rows; i++) {
            m = Math.max(m, lpUp(row(a, i), r));
        }
        return m;
    }

    /** Which side sign enumeration runs over for q = 1 or p = inf: 0 = rows (A^T s), 1 = cols (A s). */
    private static int enumSide(Dense a, double p, double q) {
        if (q == 1 && p == Double.POSITIVE_INFINITY) {
            return a.rows <= a.cols ? 0 : 1;
        }
        return q == 1 ? 0 : 1;
    }

    private static int enumDim(Dense a, double p, double q) {
        return enumSide(a, p, q) == 0 ? a.rows : a.cols;
    }

    /**
     * {lower, upper} of max over sign vectors: ||A||_{p,1} = max_{s in {+-1}^k} ||A^T s||_{p*}
     * (rows side) or ||A||_{inf,q} = max_{s in {+-1}^n} ||A s||_q (columns side). Each product entry is
     * a sum of d terms +-a, within gamma_d sum |a| of the computed one; the vector of those errors
     * widens every computed norm by its own norm.
     */
    static double[] signs(Dense a, double p, double q) {
        boolean rowsSide = enumSide(a, p, q) == 0;
        int d = rowsSide ? a.rows : a.cols, m = rowsSide ? a.cols : a.rows;
        double r = rowsSide ? Norms.conjugate(p) : q;
        if (d > MAX_SIGNS) {
            throw new IllegalArgumentException("sign enumeration over " + d + " > " + MAX_SIGNS + " dimensions");
        }
        double[] err = new double[m];
        for (int t = 0; t < m; t++) {
            double s = 0;
            for (int u = 0; u < d; u++) {
                s += Math.abs(rowsSide ? a.at(u, t) : a.at(t, u));
            }
            err[t] = Outward.dotError(d, s);
        }
        double e = lpUp(err, r);
        double[] y = new double[m];
        double lo = 0, hi = 0;
        for (long code = 0; code < 1L << (d - 1); code++) {
            java.util.Arrays.fill(y, 0);
            for (int u = 0; u < d; u++) {
                double sign = (code >>> u & 1) == 0 ? 1 : -1; // s_{d-1} = +1: s and -s give the same value
                for (int t = 0; t < m; t++) {
                    y[t] += sign * (rowsSide ? a.at(u, t) : a.at(t, u));
                }
            }
            lo = Math.max(lo, Outward.addDown(lpDown(y, r), -e));
            hi = Math.max(hi, Outward.addUp(lpUp(y, r), e));
        }
        return new double[]{Math.max(0, lo), hi};
    }

    /** Gram iterations {@link #upper} runs for (2,2). */
    public static final int GRAM_ITERATIONS = 40;

    /** The (2,2) upper bound of {@link #upper}: Gram iteration, or the Frobenius / mixed bound where smaller. */
    private static Bound gramOrFallback(Dense a) {
        double fro = frobeniusUp(a.a), mixed = Outward.sqrtUp(Outward.mulUp(maxColumn(a, 1), maxRow(a, 1)));
        Bound best = fro <= mixed ? new Bound(fro, "Frobenius norm") : new Bound(mixed, "sqrt(||A||_1 ||A||_inf)");
        if (Math.min(a.rows, a.cols) <= MAX_GRAM) {
            Bound g = gramUp(a, GRAM_ITERATIONS);
            if (g.value() < best.value()) {
                best = g;
            }
        }
        return best;
    }

    /** Largest side of the Gram matrix {@link #upper} iterates on (each iteration costs d^3). */
    public static final int MAX_GRAM = 512;

    private static double frobeniusUp(double[] v) {
        double s = 0;
        for (double x : v) {
            s += x * x;
        }
        return Outward.sqrtUp(Math.nextUp(s * (1 + Outward.gamma(v.length + 1))));
    }

    /**
     * An upper bound on sigma_max(A) by Gram iteration, no eigen- or singular value decomposition: with
     * G_0 = A A^T (or A^T A, the smaller side d) and G_{k+1} = G_k^2, sigma_max^(2^(k+1)) = lambda_max(G_k)
     * &lt;= ||G_k||_F, so sigma_max &lt;= ||G_k||_F^(1/2^(k+1)), which falls to sigma_max (at most d^(1/2^(k+1))
     * above it). Each G_k is held as an interval matrix, centre and radius, the radius bounding every
     * rounding so far (products by {@link Outward#dotError}, |G| R + R |G| + R R for the radius carried
     * through a squaring, rounded up); before each squaring the matrix is scaled by a power of two (exact
     * but for subnormal entries, whose rounding joins the radius), the exponent kept as an integer. The
     * 2^(k+1)-th root is taken by repeated upward square roots and an upward power of two.
     *
     * @param iterations squarings (the best of the bounds after 0..iterations squarings is returned)
     */
    public static Bound gramUp(Dense a, int iterations) {
        if (iterations < 0 || iterations > 60) { // 60: the exponent of G_k (2^k times sigma's) stays a long
            throw new IllegalArgumentException("Gram iterations must be in [0, 60], got " + iterations);
        }
        boolean byRows = a.rows <= a.cols;
        int d = byRows ? a.rows : a.cols, m = byRows ? a.cols : a.rows;
        // A = 2^e0 A' with the largest |entry| of A' in [1, 2): A A^T cannot overflow; entries that the
        // scaling makes subnormal move by at most MIN_VALUE / 2, which changes each entry of A' A'^T by
        // less than 3 m MIN_VALUE (|A'| < 2), added to the radius
        double amax = 0;
        for (double v : a.a) {
            amax = Math.max(amax, Math.abs(v));
        }
        if (amax == 0) {
            return new Bound(0, "Gram iteration (zero matrix)");
        }
        int e0 = Math.getExponent(amax);
        double[] sa0 = new double[a.a.length];
        for (int t = 0; t < sa0.length; t++) {
            sa0[t] = Math.scalb(a.a[t], -e0);
        }
        Dense as = new Dense(a.rows, a.cols, sa0);
        double shift = Math.nextUp(3.0 * m * Double.MIN_VALUE);
        double[][] ge = gram(as, byRows);
        double[] g = ge[0], r = ge[1];
        for (int t = 0; t < r.length; t++) {
            r[t] = Outward.addUp(r[t], shift);
        }
        long scale = 2L * e0; // the true G_k lies in 2^scale [g - r, g + r]
        double best = Double.POSITIVE_INFINITY;
        int used = 0;
        for (int k = 0; ; k++) {
            double f = Outward.addUp(frobeniusUp(g), frobeniusUp(r));
            if (f == 0) {
                return new Bound(0, "Gram iteration (zero matrix)");
            }
            double bound = root(f, scale, k + 1);
            if (bound < best) {
                best = bound;
                used = k;
            }
            if (k == iterations || !Double.isFinite(f)) {
                break;
            }
            int e = Math.getExponent(f);
            scale += e;
            for (int t = 0; t < g.length; t++) { // divide by 2^e: exact unless the result is subnormal
                double gs = Math.scalb(g[t], -e), rs = Math.scalb(r[t], -e);
                if (Math.scalb(rs, e) < r[t]) {
                    rs = Math.nextUp(rs);
                }
                if (Math.scalb(gs, e) != g[t]) {
                    rs = Outward.addUp(rs, Double.MIN_VALUE); // a subnormal result is within MIN_VALUE / 2
                }
                g[t] = gs;
                r[t] = rs;
            }
            double[] g2 = new double[d * d], r2 = new double[d * d];
            double growth = 1 + Outward.gamma(3L * d + 2);
            for (int i = 0; i < d; i++) {
                for (int j = i; j < d; j++) {
                    double s = 0, sa = 0, sr = 0;
                    for (int t = 0; t < d; t++) {
                        double x = g[i * d + t], y = g[t * d + j], rx = r[i * d + t], ry = r[t * d + j];
                        s += x * y;
                        sa += Math.abs(x * y);
                        sr += Math.abs(x) * ry + rx * Math.abs(y) + rx * ry;
                    }
                    double rad = Outward.addUp(Math.nextUp(sr * growth + 3 * d * Double.MIN_VALUE),
                            Outward.dotError(d, sa));
                    g2[i * d + j] = s;
                    g2[j * d + i] = s;
                    r2[i * d + j] = rad;
                    r2[j * d + i] = rad;
                }
            }
            g = g2;
            r = r2;
            scale *= 2;
        }
        return new Bound(best, "Gram iteration, " + used + " squarings");
    }

    /** An upper bound of (2^scale f)^(1 / 2^t), f &gt; 0. */
    static double root(double f, long scale, int t) {
        double v = f;
        for (int i = 0; i < t; i++) {
            v = Outward.sqrtUp(v);
        }
        long q = Math.floorDiv(scale, 1L << t), rem = scale - q * (1L << t); // 2^scale = 2^(q 2^t) 2^rem
        // 2^(rem / 2^t) with rem / 2^t in [0, 1) exact; Math.pow is within 1 ulp, two steps up cover it
        double frac = Math.nextUp(Math.nextUp(Math.pow(2, (double) rem / (double) (1L << t))));
        double out = Math.scalb(Outward.mulUp(v, frac), (int) Math.max(-4096, Math.min(4096, q)));
        return out < Double.MIN_NORMAL ? Math.nextUp(out) : out; // a subnormal result is rounded to nearest
    }

    /**
     * {G, E}: G = A A^T (byRows) or A^T A, d x d row-major, exactly symmetric by construction (each pair summed
     * once), and E_ij &gt;= |G_ij - exact| (the dot product's rounding error, {@link Outward#dotError}).
     */
    private static double[][] gram(Dense a, boolean byRows) {
        int d = byRows ? a.rows : a.cols, m = byRows ? a.cols : a.rows;
        double[] g = new double[d * d], e = new double[d * d];
        for (int i = 0; i < d; i++) {
            for (int j = i; j < d; j++) {
                double s = 0, sa = 0;
                for (int t = 0; t < m; t++) {
                    double x = byRows ? a.at(i, t) : a.at(t, i), y = byRows ? a.at(j, t) : a.at(t, j);
                    s += x * y;
                    sa += Math.abs(x * y);
                }
                g[i * d + j] = s;
                g[j * d + i] = s;
                e[i * d + j] = Outward.dotError(m, sa);
                e[j * d + i] = e[i * d + j];
            }
        }
        return new double[][]{g, e};
    }

    /** A sound upper bound on sigma_max(A) (see the class comment). */
    public static Bound spectralUp(Dense a) {
        double fro = 0, n1 = maxColumn(a, 1), nInf = maxRow(a, 1);
        for (double v : a.a) {
            fro += v * v;
        }
        fro = Outward.sqrtUp(Math.nextUp(fro * (1 + Outward.gamma(a.a.length + 1))));
        double mixed = Outward.sqrtUp(Outward.mulUp(n1, nInf));
        Bound fallback = fro <= mixed ? new Bound(fro, "Frobenius norm") : new Bound(mixed, "sqrt(||A||_1 ||A||_inf)");
        boolean byRows = a.rows <= a.cols;
        int d = byRows ? a.rows : a.cols;
        if (d > 2000) {
            return fallback;
        }
        double[][] ge = gram(a, byRows);
        double[] g = ge[0], err = ge[1];
        double efro = 0;
        for (int i = 0; i < d; i++) {
            for (int j = i; j < d; j++) {
                double e = err[i * d + j];
                efro = Outward.addUp(efro, Outward.mulUp(i == j ? 1 : 2, Outward.mulUp(e, e)));
            }
        }
        efro = Outward.sqrtUp(efro);
        DMatrixRMaj gm = new DMatrixRMaj(d, d, true, g);
        Svd.Result svd;
        try {
            svd = Svd.of(gm);
        } catch (RuntimeException ex) {
            return fallback;
        }
        double theta = svd.singularValues()[0];
        double[] v = svd.u().data; // d x d, columns: eigenvectors of the PSD matrix G
        for (double slack : new double[]{1e-13, 1e-10, 1e-7, 1e-4}) {
            double t = Math.nextUp(theta + slack * theta + Double.MIN_NORMAL);
            if (negativeDefiniteByCongruence(g, v, d, t)) {
                double up = Outward.sqrtUp(Outward.addUp(t, efro));
                return up <= fallback.value() ? new Bound(up, "sigma_max from the Gram matrix, proved by congruence") : fallback;
            }
        }
        return fallback;
    }

    /**
     * Whether V^T (G - t I) V is provably negative definite: its computed entries B, with
     * |B - exact| &lt;= err entrywise, satisfy B_ii + err_ii + sum_{j != i} (|B_ij| + err_ij) &lt; 0 for
     * every i (Gershgorin). err covers the rounding of G - tI (u per diagonal entry) and of the two
     * d-term products: 3 gamma_{d+2} (|V|^T |H| |V|), widened by 1% for its own rounding.
     */
    static boolean negativeDefiniteByCongruence(double[] g, double[] v, int d, double t) {
        double[] h = g.clone(), ha = new double[d * d];
        for (int i = 0; i < d; i++) {
            h[i * d + i] = g[i * d + i] - t;
        }
        for (int k = 0; k < h.length; k++) {
            ha[k] = Math.abs(h[k]);
        }
        double[] w = new double[d * d], wa = new double[d * d];
        for (int i = 0; i < d; i++) {
            for (int j = 0; j < d; j++) {
                double s = 0, sa = 0;
                for (int k = 0; k < d; k++) {
                    s += h[i * d + k] * v[k * d + j];
                    sa += ha[i * d + k] * Math.abs(v[k * d + j]);
                }
                w[i * d + j] = s;
                wa[i * d + j] = sa;
            }
        }
        double factor = 1.01 * 3 * Outward.gamma(d + 2);
        for (int i = 0; i < d; i++) {
            double sum = 0;
            for (int j = 0; j < d; j++) {
                double s = 0, sa = 0;
                for (int k = 0; k < d; k++) {
                    s += v[k * d + i] * w[k * d + j];
                    sa += Math.abs(v[k * d + i]) * wa[k * d + j];
                }
                double err = Math.nextUp(factor * sa + 3 * d * Double.MIN_VALUE);
                sum = Outward.addUp(sum, Outward.addUp(i == j ? s : Math.abs(s), err));
            }
            if (!(sum < 0)) {
                return false;
            }
        }
        return true;
    }

    // ---- lower bounds -----------------------------------------------------------------------------

    /**
     * A lower bound ||A v||_q / ||v||_p (rounded down) attained by the vector v (cols entries): any
     * v != 0 gives one. Each (A v)_i is within gamma_n sum_j |a_ij v_j| of the computed one.
     */
    public static double attained(Dense a, double[] v, double p, double q) {
        if (v.length != a.cols) {
            throw new IllegalArgumentException("vector of length " + v.length + " for a " + a.rows + " x " + a.cols + " matrix");
        }
        double[] y = new double[a.rows], err = new double[a.rows];
        for (int i = 0; i < a.rows; i++) {
            double s = 0, sa = 0;
            for (int j = 0; j < a.cols; j++) {
                double x = a.at(i, j) * v[j];
                s += x;
                sa += Math.abs(x);
            }
            y[i] = s;
            err[i] = Outward.dotError(a.cols, sa);
        }
        double num = Outward.addDown(lpDown(y, q), -lpUp(err, q)), den = lpUp(v, p);
        return num <= 0 || den == 0 ? 0 : Math.nextDown(num / den);
    }

    /**
     * A lower bound on ||A||_{p,q}: exact cells as above (rounded down); (2,2) from the top eigenvector u
     * of the Gram matrix, ||A^T u||_2 / ||u||_2 (or ||A u|| on the columns side); (inf,2) with more than
     * {@link #MAX_SIGNS} columns from the given vector {@code hint} (e.g. a power-iteration maximizer; may
     * be null) and the sign vector of the largest row of A.
     */
    public static Bound lower(Dense a, double p, double q, double[] hint) {
        checkPq(p, q);
        if (p == 1) {
            double best = 0;
            for (int j = 0; j < a.cols; j++) {
                best = Math.max(best, lpDown(column(a, j), q));
            }
            return new Bound(best, "closed form");
        }
        if (q == Double.POSITIVE_INFINITY) {
            double best = 0;
            for (int i = 0; i < a.rows; i++) {
                best = Math.max(best, lpDown(row(a, i), Norms.conjugate(p)));
            }
            return new Bound(best, "closed form");
        }
        if ((q == 1 && enumDim(a, p, q) <= MAX_SIGNS) || (p == Double.POSITIVE_INFINITY && q == 2 && a.cols <= MAX_SIGNS)) {
            return new Bound(signs(a, p, q)[0], "exact: " + signMethod(a, p, q));
        }
        double best = 0;
        String how = "none";
        if (hint != null) {
            best = attained(a, hint, p, q);
            how = "value at the power-iteration vector";
        }
        if (p == 2 && q == 2) {
            double s = spectralLower(a);
            if (s > best) {
                best = s;
                how = "top eigenvector of the Gram matrix";
            }
        }
        double[] sign = new double[a.cols];
        for (int i = 0; i < a.rows; i++) { // sign pattern of each row: ||A sign(a_i)||_q >= ||a_i||_1
            for (int j = 0; j < a.cols; j++) {
                sign[j] = a.at(i, j) >= 0 ? 1 : -1;
            }
            double s = attained(a, sign, p, q);
            if (s > best) {
                best = s;
                how = "sign vector of row " + i;
            }
        }
        return new Bound(best, how);
    }

    private static double spectralLower(Dense a) {
        boolean byRows = a.rows <= a.cols;
        int d = byRows ? a.rows : a.cols;
        if (d > 2000) {
            return 0;
        }
        double[] g = new double[d * d];
        int m = byRows ? a.cols : a.rows;
        for (int i = 0; i < d; i++) {
            for (int j = 0; j < d; j++) {
                double s = 0;
                for (int t = 0; t < m; t++) {
                    s += (byRows ? a.at(i, t) : a.at(t, i)) * (byRows ? a.at(j, t) : a.at(t, j));
                }
                g[i * d + j] = s;
            }
        }
        Svd.Result svd = Svd.of(new DMatrixRMaj(d, d, true, g));
        double[] u = new double[d];
        for (int i = 0; i < d; i++) {
            u[i] = svd.u().get(i, 0);
        }
        if (byRows) { // ||A||_2 = ||A^T||_2 >= ||A^T u|| / ||u||
            double[] t = new double[a.rows * a.cols];
            for (int i = 0; i < a.rows; i++) {
                for (int j = 0; j < a.cols; j++) {
                    t[j * a.rows + i] = a.at(i, j);
                }
            }
            return attained(new Dense(a.cols, a.rows, t), u, 2, 2);
        }
        return attained(a, u, 2, 2);
    }
}
