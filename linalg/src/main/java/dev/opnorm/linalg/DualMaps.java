package dev.opnorm.linalg;

/**
 * The dual map D_q of the q-norm and the steepest-ascent map N_p of Lemma 1.
 *
 * <pre>
 *   D_q(a) = sign(a) |a|^(q-1) / ||a||_q^(q-1)        (the gradient of ||a||_q; &lt;D_q(a), a&gt; = ||a||_q, ||D_q(a)||_{q*} = 1)
 *            q = 1: sign(a)       q = 2: a / ||a||_2
 *            q = inf: |I|^-1 sign(a) 1_I, I = argmax_i |a_i|  (ties share the mass equally)
 *   N_p(z) = argmax_{||v||_p &lt;= 1} &lt;v, z&gt; = D_{p*}(z)      (&lt;N_p(z), z&gt; = ||z||_{p*}, ||N_p(z)||_p = 1)
 *            p = 2: z / ||z||_2   p = inf: sign(z)   p = 1: one-hot on argmax |z_i| (ties shared)
 * </pre>
 *
 * <p>Conventions: the zero vector maps to the zero vector (no NaN); sign(0) = 0. For general q the
 * vector is rescaled by its largest magnitude first, so no power overflows. Computation is in double,
 * the result is rounded to float. The output is overwritten and may alias the input (the norm is read
 * before anything is written). Ranged overloads act on one example of a batch.
 */
public final class DualMaps {
    private DualMaps() {}

    /** out = D_q(a); same length. */
    public static void dual(float[] a, double q, float[] out) {
        if (a.length != out.length) {
            throw new IllegalArgumentException("dual: input length " + a.length + " != output length " + out.length);
        }
        dual(a, 0, a.length, q, out, 0);
    }

    /** out[oo, oo+len) = D_q(a[ao, ao+len)). */
    public static void dual(float[] a, int ao, int len, double q, float[] out, int oo) {
        Norms.checkP(q, "q");
        Norms.checkSlice(a.length, ao, len);
        Norms.checkSlice(out.length, oo, len);
        if (q == 1) {
            for (int i = 0; i < len; i++) out[oo + i] = Math.signum(a[ao + i]);
            return;
        }
        double m = 0;
        for (int i = 0; i < len; i++) m = Math.max(m, Math.abs(a[ao + i]));
        if (m == 0) {
            java.util.Arrays.fill(out, oo, oo + len, 0f);
            return;
        }
        if (q == Double.POSITIVE_INFINITY) {
            int ties = 0;
            for (int i = 0; i < len; i++) if (Math.abs(a[ao + i]) == m) ties++;
            float share = (float) (1.0 / ties);
            for (int i = 0; i < len; i++) {
                float x = a[ao + i];
                out[oo + i] = Math.abs(x) == m ? Math.signum(x) * share : 0f;
            }
            return;
        }
        if (q == 2) {
            double n = Norms.lp(a, ao, len, 2);
            for (int i = 0; i < len; i++) out[oo + i] = (float) (a[ao + i] / n);
            return;
        }
        // |a_i|^(q-1) / ||a||_q^(q-1) = (|a_i| / ||a||_q)^(q-1), with ||a||_q = m * s to avoid overflow
        double s = 0;
        for (int i = 0; i < len; i++) s += Math.pow(Math.abs(a[ao + i]) / m, q);
        double norm = m * Math.pow(s, 1 / q);
        for (int i = 0; i < len; i++) {
            float x = a[ao + i];
            out[oo + i] = (float) (Math.signum(x) * Math.pow(Math.abs(x) / norm, q - 1));
        }
    }

    /** out = N_p(z), the unit-l_p vector of steepest ascent for the linear function &lt;., z&gt;. */
    public static void steepestAscent(float[] z, double p, float[] out) {
        Norms.checkP(p, "p");
        dual(z, Norms.conjugate(p), out);
    }

    /** out[oo, oo+len) = N_p(z[zo, zo+len)). */
    public static void steepestAscent(float[] z, int zo, int len, double p, float[] out, int oo) {
        Norms.checkP(p, "p");
        dual(z, zo, len, Norms.conjugate(p), out, oo);
    }
}
