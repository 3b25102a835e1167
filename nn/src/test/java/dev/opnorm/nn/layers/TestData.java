package dev.opnorm.nn.layers;

import dev.opnorm.nn.Shape;
import dev.opnorm.nn.Tensor;

import java.util.Random;

/** Random data and double-precision helpers for the layer tests. */
public final class TestData {
    private TestData() {
    }

    /** Standard normal entries. */
    public static float[] randn(Random rnd, int n) {
        float[] a = new float[n];
        for (int i = 0; i < n; i++) {
            a[i] = (float) rnd.nextGaussian();
        }
        return a;
    }

    public static Tensor randn(Random rnd, Shape s) {
        return new Tensor(s, randn(rnd, s.size()));
    }

    /** Entries with |v| in [margin, margin + 1], random sign: away from the ReLU kink. */
    public static Tensor awayFromZero(Random rnd, Shape s, float margin) {
        float[] a = new float[s.size()];
        for (int i = 0; i < a.length; i++) {
            float v = margin + rnd.nextFloat();
            a[i] = rnd.nextBoolean() ? v : -v;
        }
        return new Tensor(s, a);
    }

    /**
     * A random permutation of the values gap * (i - size/2): distinct, so every pooling window has a
     * unique maximum that leads the runner-up by at least gap.
     */
    public static Tensor distinct(Random rnd, Shape s, float gap) {
        int n = s.size();
        float[] a = new float[n];
        for (int i = 0; i < n; i++) {
            a[i] = gap * (i - n / 2);
        }
        for (int i = n - 1; i > 0; i--) {
            int j = rnd.nextInt(i + 1);
            float t = a[i];
            a[i] = a[j];
            a[j] = t;
        }
        return new Tensor(s, a);
    }

    public static double dot(float[] a, float[] b, int n) {
        double s = 0;
        for (int i = 0; i < n; i++) {
            s += (double) a[i] * b[i];
        }
        return s;
    }

    /** sum |a_i b_i|: the scale of round-off in a dot product. */
    public static double absDot(float[] a, float[] b, int n) {
        double s = 0;
        for (int i = 0; i < n; i++) {
            s += Math.abs((double) a[i] * b[i]);
        }
        return s;
    }

    public static double norm(float[] a, int n) {
        return Math.sqrt(dot(a, a, n));
    }

    public static double maxAbs(float[] a) {
        double m = 0;
        for (float v : a) {
            m = Math.max(m, Math.abs(v));
        }
        return m;
    }

    /** ||a - b||_2 in double. */
    public static double distance(float[] a, float[] b, int n) {
        double s = 0;
        for (int i = 0; i < n; i++) {
            double d = (double) a[i] - b[i];
            s += d * d;
        }
        return Math.sqrt(s);
    }

    /** x + t d as a new tensor (float). */
    public static Tensor shifted(Tensor x, float[] d, double t) {
        float[] a = new float[x.data.length];
        for (int i = 0; i < a.length; i++) {
            a[i] = (float) (x.data[i] + t * d[i]);
        }
        return new Tensor(x.shape, a);
    }
}
