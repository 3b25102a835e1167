package dev.opnorm.linalg;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * The exact bits of the batched power method and (p,q) iteration on fixed Gaussian maps: a digest of
 * every result (values, vectors, iteration counts, flags) against the digest the reference host code
 * produced. Any change of the host path's arithmetic - the order in which a norm's terms are summed,
 * a division turned into a multiplication by the inverse, a float rounding moved - changes a digest.
 * The engine promises the same bits on every CPU, so a change here must be deliberate.
 */
class IterationBitsTest {
    private static final double INF = Double.POSITIVE_INFINITY;

    /** Three 37 x 53 maps with different scales, as one batch. */
    private static BatchLinearMap batch() {
        List<LinearMap> maps = new ArrayList<>();
        for (int i = 0; i < 3; i++) {
            float[] a = StartVectors.gaussian(100 + i, 37 * 53);
            for (int j = 0; j < a.length; j++) a[j] *= (float) Math.pow(3, i - 1);
            maps.add(LinearMaps.ofRowMajor(a, 37, 53));
        }
        return BatchLinearMaps.of(maps);
    }

    private static long mix(long h, long x) {
        h ^= x;
        h *= 0x100000001B3L;
        return h ^ (h >>> 29);
    }

    private static long vector(long h, float[] v) {
        if (v == null) return mix(h, -7);
        for (float x : v) h = mix(h, Float.floatToRawIntBits(x));
        return h;
    }

    static long digestPower(List<PowerMethod.Result> rs) {
        long h = 17;
        for (PowerMethod.Result r : rs) {
            h = mix(h, Double.doubleToRawLongBits(r.sigma()));
            h = vector(vector(h, r.u()), r.v());
            h = mix(mix(h, r.iterations()), r.converged() ? 1 : 0);
        }
        return h;
    }

    static long digestPq(List<OperatorNorm.Result> rs) {
        long h = 17;
        for (OperatorNorm.Result r : rs) {
            h = mix(h, Double.doubleToRawLongBits(r.value()));
            h = vector(h, r.v());
            h = mix(mix(mix(h, r.iterations()), r.converged() ? 1 : 0), r.restart());
        }
        return h;
    }

    @Test
    void powerMethod_bitsArePinned() {
        BatchLinearMap a = batch();
        long converging = digestPower(PowerMethod.sigmaMax(a, new PowerMethod.Options(60, 1e-6, 5)));
        long capped = digestPower(PowerMethod.sigmaMax(a, new PowerMethod.Options(4, 0, 6)));
        assertEquals(POWER[0], converging, "relTol 1e-6, 60 iterations: digest " + converging);
        assertEquals(POWER[1], capped, "4 iterations: digest " + capped);
    }

    /** {p, q, alpha}: every kind of dual map, the limit step and the finite-alpha sphere step for p = 1, 2, inf
     * (exponents without Math.pow, whose last bit the JDK does not specify). */
    private static final double[][] CASES = {
            {2, 2, INF}, {INF, 2, INF}, {1, INF, INF}, {2, 1, INF}, {2, INF, INF}, {INF, 1, INF},
            {2, 2, 0.5}, {INF, 2, 0.05}, {1, 2, 0.5}, {2, 1, 0.5}};

    @Test
    void operatorNorm_bitsArePinned() {
        BatchLinearMap a = batch();
        StringBuilder got = new StringBuilder();
        long[] digests = new long[CASES.length];
        for (int c = 0; c < CASES.length; c++) {
            OperatorNorm.Options o = new OperatorNorm.Options(25, 1e-6, CASES[c][2], 2, 11);
            digests[c] = digestPq(OperatorNorm.estimate(a, CASES[c][0], CASES[c][1], o));
            got.append(digests[c]).append("L, ");
        }
        for (int c = 0; c < CASES.length; c++) {
            assertEquals(PQ[c], digests[c], "(p, q, alpha) = " + java.util.Arrays.toString(CASES[c]) + "; all: " + got);
        }
    }

    private static final long[] POWER = {857218734920279425L, 3858828011292201367L};
    private static final long[] PQ = {3847996882810583800L, 5931004104243179678L, 7835783650257136891L,
            5448353658728131710L, 6827677954095017802L, -8247977824137966610L, -1886627618476344356L,
            711306550016523622L, -890752779939613851L, -6749947656756030619L};
}
