package dev.opnorm.api;

import java.util.Arrays;
import java.util.Locale;

/**
 * Singular values s_1 >= s_2 >= ... >= s_r >= 0 of a matrix (r = min(rows, cols)), e.g. of a Jacobian
 * (Fig. 1/4 of the paper compare such spectra across training methods). Immutable.
 */
public final class Spectrum {
    private final double[] s;

    /**
     * @param singularValues non-negative values in descending order (copied)
     * @throws IllegalArgumentException when empty, negative, NaN or not descending
     */
    public Spectrum(double[] singularValues) {
        if (singularValues == null || singularValues.length == 0) {
            throw new IllegalArgumentException("a spectrum needs at least one singular value");
        }
        for (int i = 0; i < singularValues.length; i++) {
            double v = singularValues[i];
            if (!(v >= 0)) {
                throw new IllegalArgumentException("singular value " + i + " is " + v + ", must be >= 0");
            }
            if (i > 0 && v > singularValues[i - 1]) {
                throw new IllegalArgumentException("singular values must be descending: s_" + i + " = " + v
                        + " > s_" + (i - 1) + " = " + singularValues[i - 1]);
            }
        }
        this.s = singularValues.clone();
    }

    /** Number of values r. */
    public int size() {
        return s.length;
    }

    /**
     * s_{i+1} (i = 0 is the largest).
     *
     * @param i index in [0, size())
     * @return the (i+1)-th largest singular value
     */
    public double get(int i) {
        return s[i];
    }

    /** All values, descending (a copy). */
    public double[] singularValues() {
        return s.clone();
    }

    /** s_1, the spectral norm ||A||_{2,2}. */
    public double sigmaMax() {
        return s[0];
    }

    /** s_r, the smallest of the r values. */
    public double sigmaMin() {
        return s[s.length - 1];
    }

    /** ||A||_F = sqrt(sum s_i^2). */
    public double frobeniusNorm() {
        double sum = 0;
        for (double v : s) {
            sum += v * v;
        }
        return Math.sqrt(sum);
    }

    /** Stable rank ||A||_F^2 / ||A||_2^2 in [1, r] (0 for the zero matrix). */
    public double stableRank() {
        if (s[0] == 0) {
            return 0;
        }
        double f = frobeniusNorm();
        return f * f / (s[0] * s[0]);
    }

    /**
     * Number of values above relTol * s_1 (numerical rank).
     *
     * @param relTol threshold relative to s_1, e.g. 1e-6
     * @return the count, in [0, size()]
     */
    public int rank(double relTol) {
        int k = 0;
        for (double v : s) {
            if (v > relTol * s[0]) {
                k++;
            }
        }
        return k;
    }

    /** s_1 / s_r (infinite when s_r = 0). */
    public double conditionNumber() {
        return s[0] / s[s.length - 1];
    }

    @Override
    public String toString() {
        StringBuilder b = new StringBuilder("Spectrum[");
        for (int i = 0; i < Math.min(s.length, 5); i++) {
            b.append(i == 0 ? "" : ", ").append(String.format(Locale.ROOT, "%.4g", s[i]));
        }
        return b.append(s.length > 5 ? ", ... (" + s.length + " values)]" : "]").toString();
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof Spectrum sp && Arrays.equals(sp.s, s);
    }

    @Override
    public int hashCode() {
        return Arrays.hashCode(s);
    }
}
