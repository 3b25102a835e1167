package dev.opnorm.gpu;

import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.util.Random;

/**
 * Shared test helpers: the JVM's one runtime (programs are built once per JVM, PoCL compiles slowly),
 * random data and element-wise comparisons that name the first mismatch.
 */
final class OpenClTesting {
    private OpenClTesting() {
    }

    /** The shared runtime; fails (not skips) with the install hint when OpenCL is missing. */
    static OpenCl runtime() {
        try {
            return OpenCl.shared();
        } catch (OpenClException e) {
            fail("these tests need an OpenCL device (CI installs PoCL): " + e.getMessage(), e);
            throw e;
        }
    }

    static float[] randn(Random rnd, int len) {
        float[] a = new float[len];
        for (int i = 0; i < len; i++) {
            a[i] = (float) rnd.nextGaussian();
        }
        return a;
    }

    /** Values bounded away from ReLU's kink (|v| >= 0.05), to compare masks between backends. */
    static float[] randnAwayFromZero(Random rnd, int len) {
        float[] a = randn(rnd, len);
        for (int i = 0; i < len; i++) {
            if (Math.abs(a[i]) < 0.05f) {
                a[i] = a[i] < 0 ? -0.05f - a[i] : 0.05f + a[i];
            }
        }
        return a;
    }

    /** |got - want| <= tol * (1 + |want|) * sqrt(terms) for i < len; tol 0 demands equal floats. */
    static void assertClose(float[] want, float[] got, int len, double tol, int terms, String what) {
        double scale = tol * Math.sqrt(Math.max(1, terms));
        for (int i = 0; i < len; i++) {
            double err = Math.abs((double) got[i] - want[i]);
            boolean ok = tol == 0 ? Float.compare(got[i] + 0f, want[i] + 0f) == 0 || got[i] == want[i]
                    : err <= scale * (1 + Math.abs(want[i]));
            if (!ok) {
                fail(what + ": element " + i + " of " + len + " is " + got[i] + ", expected " + want[i]
                        + " (error " + err + ", tolerance " + scale + " * (1 + |expected|))");
            }
        }
    }

    static void assertSame(int[] want, int[] got, int len, String what) {
        for (int i = 0; i < len; i++) {
            if (want[i] != got[i]) {
                fail(what + ": element " + i + " is " + got[i] + ", expected " + want[i]);
            }
        }
        assertTrue(len >= 0);
    }
}
