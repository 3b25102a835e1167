package dev.opnorm.linalg;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;

/**
 * Property tests (jqwik) of the norm, dual-map and projection identities on generated vectors,
 * including jqwik's edge cases (zeros, ties, subnormal and huge floats). Seeds are fixed so a run is
 * reproducible; they found the l1 cancellation and general-p underflow cases pinned in ProjectionsTest.
 */
class NormPropertiesTest {

    @Provide
    Arbitrary<Double> exponents() {
        return Arbitraries.oneOf(Arbitraries.of(1.0, 2.0, Double.POSITIVE_INFINITY), Arbitraries.doubles().between(1.01, 12));
    }

    @Provide
    Arbitrary<float[]> vectors() {
        Arbitrary<Float> entries = Arbitraries.oneOf(
                Arbitraries.floats().between(-1e30f, 1e30f),
                Arbitraries.floats().between(-10, 10).ofScale(1), // many exact ties and zeros
                Arbitraries.of(0f, Float.MIN_VALUE, -Float.MIN_VALUE, 1e-30f, 3e38f, -3e38f));
        return entries.array(float[].class).ofMinSize(1).ofMaxSize(24);
    }

    @Property(tries = 400, seed = "20200601")
    void steepestAscent_attainsDualNorm_withUnitNorm(@ForAll("vectors") float[] z, @ForAll("exponents") double p) {
        float[] v = new float[z.length];
        DualMaps.steepestAscent(z, p, v);
        for (float x : v) assertTrue(Float.isFinite(x), "finite");
        double dual = Norms.lp(z, Norms.conjugate(p));
        if (dual == 0) {
            for (float x : v) assertEquals(0f, x);
            return;
        }
        assertEquals(dual, Norms.dot(v, z), 1e-5 * dual, "<N_p(z), z> = ||z||_p*");
        // entries below float's range round to 0, which only lowers the norm (they carry negligible mass)
        assertEquals(1, Norms.lp(v, p), 1e-5, "||N_p(z)||_p = 1");
    }

    @Property(tries = 400, seed = "20200602")
    void norm_isHomogeneous_andSubadditive(@ForAll("vectors") float[] x, @ForAll("exponents") double p) {
        float[] half = new float[x.length], rev = new float[x.length], sum = new float[x.length];
        for (int i = 0; i < x.length; i++) {
            half[i] = x[i] / 2; // exact unless subnormal
            rev[i] = x[x.length - 1 - i];
            sum[i] = (float) ((double) half[i] + rev[i] / 2.0); // halves: the float sum cannot overflow
        }
        double n = Norms.lp(x, p);
        assertTrue(n >= 0 && Double.isFinite(n));
        assertEquals(n / 2, Norms.lp(half, p), 1e-6 * n + 1e-44);
        assertEquals(n, Norms.lp(rev, p), 1e-12 * n, "permutation invariant");
        assertTrue(Norms.lp(sum, p) <= n * (1 + 1e-6) + 1e-44, "triangle inequality");
    }

    @Property(tries = 300, seed = "20200603")
    void ontoBall_isFeasibleAndIdempotent(@ForAll("vectors") float[] v, @ForAll("exponents") double p) {
        double r = 1 + Math.abs(v[0] % 7);
        float[] x = new float[v.length], xx = new float[v.length];
        Projections.ontoBall(v, p, r, x);
        assertTrue(Norms.lp(x, p) <= r * (1 + 1e-5), "feasible: " + Norms.lp(x, p) + " > " + r);
        Projections.ontoBall(x, p, r, xx);
        for (int i = 0; i < x.length; i++) assertEquals(x[i], xx[i], 1e-5 * r, "idempotent at " + i);
    }

    @Property(tries = 300, seed = "20200604")
    void ontoSphere_landsOnTheSphere(@ForAll("vectors") float[] v, @ForAll("exponents") double p) {
        float[] x = new float[v.length];
        Projections.ontoSphere(v, p, 1, x);
        assertEquals(1, Norms.lp(x, p), 1e-5);
    }
}
