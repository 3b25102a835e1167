package dev.opnorm.gpu;

/**
 * Java twins of batchnorm.cl: one call = one work-group (one channel) of the reductions, or one
 * work-item of channel_affine. x is viewed as (n, c, hw); the flattened reduction index e covers
 * (b, i) = (e / hw, e % hw). Used by tests, never for speed.
 */
public final class BatchNormTwins {
    private BatchNormTwins() {
    }

    private static int at(int e, int ch, int c, int hw) {
        return (e / hw * c + ch) * hw + e % hw;
    }

    public static void channelMeanVarAt(int ch, int wg, float[] mean, float[] var, float[] x, int n, int c, int hw) {
        double count = (double) n * hw;
        double[] buf = new double[wg];
        for (int t = 0; t < wg; t++) {
            double s = 0;
            for (int e = t; e < n * hw; e += wg) {
                s += x[at(e, ch, c, hw)];
            }
            buf[t] = s;
        }
        double mu = Reductions.tree(buf, wg) / count;
        for (int t = 0; t < wg; t++) {
            double ss = 0;
            for (int e = t; e < n * hw; e += wg) {
                double dv = x[at(e, ch, c, hw)] - mu;
                ss += dv * dv;
            }
            buf[t] = ss;
        }
        double ss = Reductions.tree(buf, wg);
        mean[ch] = (float) mu;
        var[ch] = (float) (ss / count);
    }

    public static void channelAffineAt(int j, float[] y, float[] x, float[] scale, float[] shift, int c, int hw) {
        int ch = j / hw % c;
        y[j] = x[j] * scale[ch] + (shift != null ? shift[ch] : 0f);
    }

    public static void bnTrainJacobianAt(int ch, int wg, float[] out, float[] in, float[] xhat, float[] coef,
                                         int n, int c, int hw) {
        double count = (double) n * hw;
        double[] buf1 = new double[wg], buf2 = new double[wg];
        for (int t = 0; t < wg; t++) {
            double s1 = 0, s2 = 0;
            for (int e = t; e < n * hw; e += wg) {
                int j = at(e, ch, c, hw);
                s1 += in[j];
                s2 += (double) in[j] * xhat[j];
            }
            buf1[t] = s1;
            buf2[t] = s2;
        }
        float m1 = (float) (Reductions.tree(buf1, wg) / count), m2 = (float) (Reductions.tree(buf2, wg) / count);
        float k = coef[ch];
        for (int e = 0; e < n * hw; e++) {
            int j = at(e, ch, c, hw);
            out[j] = k * (in[j] - m1 - xhat[j] * m2);
        }
    }

    public static void channelSumsAccumulateAt(int ch, int wg, float[] sumA, float[] sumAB, float[] a, float[] b,
                                               int n, int c, int hw) {
        double[] buf1 = new double[wg], buf2 = new double[wg];
        for (int t = 0; t < wg; t++) {
            double s1 = 0, s2 = 0;
            for (int e = t; e < n * hw; e += wg) {
                int j = at(e, ch, c, hw);
                s1 += a[j];
                if (b != null) {
                    s2 += (double) a[j] * b[j];
                }
            }
            buf1[t] = s1;
            buf2[t] = s2;
        }
        sumA[ch] += (float) Reductions.tree(buf1, wg);
        if (b != null) {
            sumAB[ch] += (float) Reductions.tree(buf2, wg);
        }
    }
}
