package dev.opnorm.nn.layers;

import dev.opnorm.linalg.BatchLinearMap;
import dev.opnorm.linalg.LinearMap;
import dev.opnorm.nn.Shape;
import dev.opnorm.nn.Tensor;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import java.util.Arrays;
import java.util.List;
import java.util.Random;

import static dev.opnorm.nn.layers.TestData.absDot;
import static dev.opnorm.nn.layers.TestData.distance;
import static dev.opnorm.nn.layers.TestData.dot;
import static dev.opnorm.nn.layers.TestData.maxAbs;
import static dev.opnorm.nn.layers.TestData.norm;
import static dev.opnorm.nn.layers.TestData.randn;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The contract every {@link Layer}'s linearization must meet, run in both BatchNorm modes: the
 * adjoint identity, the JVP against central differences, linearity, reusability, vjpAll = vjp +
 * vjpParams, parameter gradients against finite differences, and the per-example / batch LinearMap
 * views. Subclasses give a small layer (or network) and an input that keeps ReLUs away from their
 * kink and pooling windows away from ties.
 */
public abstract class LinearizationContractTest {

    /** A fresh layer, deterministic (same weights on every call). */
    protected abstract Layer layer();

    /** The input batch, deterministic. */
    protected abstract Tensor input();

    /** Relative tolerance of the JVP against central differences in float. */
    protected double fdTolerance() {
        return Tolerances.FD_LAYER;
    }

    /** Central-difference step along a unit-variance random direction. */
    protected double fdStep() {
        return Tolerances.FD_STEP;
    }

    /** How many entries of each parameter tensor the parameter-gradient test perturbs. */
    protected int paramSamples() {
        return 3;
    }

    /** Whether the layer's Jacobian is block diagonal in this mode (false only for TRAIN-mode BN). */
    protected boolean blockDiagonal(BnMode mode) {
        return mode == BnMode.EVAL || !hasBatchNorm();
    }

    /** Whether the layer contains BatchNorm (its TRAIN-mode Jacobian then couples the batch). */
    protected boolean hasBatchNorm() {
        return false;
    }

    private final Random rnd = new Random(20200612);

    private static float[] jvp(Linearization l, float[] dx) {
        float[] dy = new float[l.outShape().size()];
        l.jvp(dx, dy);
        return dy;
    }

    private static float[] vjp(Linearization l, float[] gy) {
        float[] gx = new float[l.inShape().size()];
        l.vjp(gy, gx);
        return gx;
    }

    @ParameterizedTest
    @EnumSource(BnMode.class)
    void adjointIdentity_holdsToRoundoff(BnMode mode) {
        Linearization l = layer().linearize(input(), mode);
        float[] dx = randn(rnd, l.inShape().size());
        float[] gy = randn(rnd, l.outShape().size());
        float[] jdx = jvp(l, dx);
        float[] jtgy = vjp(l, gy);
        double lhs = dot(jdx, gy, gy.length), rhs = dot(dx, jtgy, dx.length);
        double scale = Math.max(absDot(jdx, gy, gy.length), absDot(dx, jtgy, dx.length));
        assertTrue(scale > 0, "degenerate test: J is zero on the random vectors");
        assertEquals(lhs, rhs, Tolerances.ADJOINT * scale, "<J dx, gy> vs <dx, J^T gy>");
    }

    @ParameterizedTest
    @EnumSource(BnMode.class)
    void jvp_matchesCentralDifference(BnMode mode) {
        Layer layer = layer();
        Tensor x = input();
        Linearization l = layer.linearize(x, mode);
        float[] d = randn(rnd, x.data.length);
        double h = fdStep();
        Tensor xp = TestData.shifted(x, d, h), xm = TestData.shifted(x, d, -h);
        // the direction actually taken after rounding x +- h d to float
        float[] dEff = new float[d.length];
        for (int i = 0; i < d.length; i++) {
            dEff[i] = (float) (((double) xp.data[i] - xm.data[i]) / (2 * h));
        }
        float[] yp = layer.linearize(xp, mode).output().data, ym = layer.linearize(xm, mode).output().data;
        float[] fd = new float[yp.length];
        for (int i = 0; i < fd.length; i++) {
            fd[i] = (float) (((double) yp[i] - ym[i]) / (2 * h));
        }
        float[] jd = jvp(l, dEff);
        double err = distance(jd, fd, fd.length), ref = norm(jd, jd.length);
        assertTrue(ref > 0, "degenerate test: J d = 0");
        assertTrue(err <= fdTolerance() * ref, "||J d - FD|| / ||J d|| = " + err / ref + " > " + fdTolerance());
    }

    @ParameterizedTest
    @EnumSource(BnMode.class)
    void jvp_isLinear(BnMode mode) {
        Linearization l = layer().linearize(input(), mode);
        int n = l.inShape().size();
        float[] u = randn(rnd, n), v = randn(rnd, n), w = new float[n];
        float a = 0.75f, b = -1.5f;
        for (int i = 0; i < n; i++) {
            w[i] = a * u[i] + b * v[i];
        }
        float[] ju = jvp(l, u), jv = jvp(l, v), jw = jvp(l, w);
        float[] comb = new float[ju.length];
        for (int i = 0; i < comb.length; i++) {
            comb[i] = a * ju[i] + b * jv[i];
        }
        double scale = Math.abs(a) * norm(ju, ju.length) + Math.abs(b) * norm(jv, jv.length);
        assertTrue(distance(jw, comb, comb.length) <= Tolerances.LINEARITY * scale, "J(a u + b v) != a J u + b J v");
    }

    @ParameterizedTest
    @EnumSource(BnMode.class)
    void linearization_givesSameAnswerOnFirstAndFifthUse(BnMode mode) {
        Linearization l = layer().linearize(input(), mode);
        float[] dx = randn(rnd, l.inShape().size()), gy = randn(rnd, l.outShape().size());
        float[] dxCopy = dx.clone(), gyCopy = gy.clone();
        float[] out0 = l.output().data.clone();
        float[] first = jvp(l, dx), firstT = vjp(l, gy);
        for (int i = 0; i < 3; i++) {
            jvp(l, randn(rnd, dx.length));
            vjp(l, randn(rnd, gy.length));
            l.vjpParams(randn(rnd, gy.length), new ParamGrads());
        }
        assertArrayEquals(first, jvp(l, dx), "jvp changed between uses");
        assertArrayEquals(firstT, vjp(l, gy), "vjp changed between uses");
        assertArrayEquals(dxCopy, dx, "jvp modified its input");
        assertArrayEquals(gyCopy, gy, "vjp modified its input");
        assertArrayEquals(out0, l.output().data, "output changed");
    }

    @ParameterizedTest
    @EnumSource(BnMode.class)
    void jvp_overwritesGarbageInOutput(BnMode mode) {
        Linearization l = layer().linearize(input(), mode);
        float[] dx = randn(rnd, l.inShape().size()), gy = randn(rnd, l.outShape().size());
        float[] dy = new float[l.outShape().size()], gx = new float[l.inShape().size()];
        Arrays.fill(dy, Float.NaN);
        Arrays.fill(gx, Float.NaN);
        l.jvp(dx, dy);
        l.vjp(gy, gx);
        assertArrayEquals(jvp(l, dx), dy);
        assertArrayEquals(vjp(l, gy), gx);
    }

    @ParameterizedTest
    @EnumSource(BnMode.class)
    void vjpAll_equalsVjpAndVjpParams(BnMode mode) {
        Layer layer = layer();
        Linearization l = layer.linearize(input(), mode);
        float[] gy = randn(rnd, l.outShape().size());
        ParamGrads g1 = new ParamGrads(), g2 = new ParamGrads(), g3 = new ParamGrads();
        float[] gx = new float[l.inShape().size()];
        l.vjpAll(gy, gx, g1);
        l.vjpParams(gy, g2);
        l.vjpAll(gy, null, g3);
        assertArrayEquals(vjp(l, gy), gx, "vjpAll input gradient");
        for (Param p : layer.params()) {
            assertArrayEquals(g2.of(p), g1.of(p), "vjpAll vs vjpParams for " + p.name());
            assertArrayEquals(g2.of(p), g3.of(p), "vjpAll without gx for " + p.name());
        }
        // accumulation: a second call doubles the gradients (up to the kernels' blocked summation order)
        l.vjpParams(gy, g2);
        for (Param p : layer.params()) {
            float[] once = g1.of(p), twice = g2.of(p);
            double tol = Tolerances.ACCUMULATE * maxAbs(twice);
            for (int i = 0; i < once.length; i++) {
                assertEquals(2.0 * once[i], twice[i], tol, "vjpParams must accumulate: " + p.name() + "[" + i + "]");
            }
        }
    }

    @ParameterizedTest
    @EnumSource(BnMode.class)
    void jvp_matchesCentralDifferenceOfDoubleReference(BnMode mode) {
        Layer layer = layer();
        Tensor x = input();
        Linearization l = layer.linearize(x, mode);
        DoubleReference ref = new DoubleReference(layer);
        float[] d = randn(rnd, x.data.length);
        double h = Tolerances.FD_STEP_DOUBLE;
        double[] xp = new double[d.length], xm = new double[d.length];
        for (int i = 0; i < d.length; i++) {
            xp[i] = x.data[i] + h * d[i];
            xm[i] = x.data[i] - h * d[i];
        }
        double[] yp = ref.forward(layer, new DoubleReference.D(x.shape, xp), mode).data();
        double[] ym = ref.forward(layer, new DoubleReference.D(x.shape, xm), mode).data();
        float[] jd = jvp(l, d);
        double err = 0;
        for (int i = 0; i < jd.length; i++) {
            double e = jd[i] - (yp[i] - ym[i]) / (2 * h);
            err += e * e;
        }
        err = Math.sqrt(err);
        double refNorm = norm(jd, jd.length);
        assertTrue(refNorm > 0, "degenerate test: J d = 0");
        assertTrue(err <= Tolerances.FD_DOUBLE * refNorm,
                "||J d - FD_double|| / ||J d|| = " + err / refNorm + " > " + Tolerances.FD_DOUBLE);
    }

    @ParameterizedTest
    @EnumSource(BnMode.class)
    void output_matchesDoubleReference(BnMode mode) {
        Layer layer = layer();
        Tensor x = input();
        float[] y = layer.linearize(x, mode).output().data;
        double[] yd = new DoubleReference(layer).forward(layer, DoubleReference.D.of(x), mode).data();
        assertEquals(yd.length, y.length);
        double err = 0, scale = 0;
        for (int i = 0; i < y.length; i++) {
            err = Math.max(err, Math.abs(y[i] - yd[i]));
            scale = Math.max(scale, Math.abs(yd[i]));
        }
        assertTrue(err <= Tolerances.FORWARD_F32 * Math.max(scale, 1e-30),
                "max |f_float - f_double| = " + err + " for max |f| = " + scale);
    }

    @ParameterizedTest
    @EnumSource(BnMode.class)
    void vjpParams_matchesCentralDifferenceOfDoubleReference(BnMode mode) {
        Layer layer = layer();
        Tensor x = input();
        Linearization l = layer.linearize(x, mode);
        float[] gy = randn(rnd, l.outShape().size());
        ParamGrads grads = new ParamGrads();
        l.vjpParams(gy, grads);
        List<Param> params = layer.params();
        DoubleReference ref = new DoubleReference(layer);
        DoubleReference.D xd = DoubleReference.D.of(x);
        double largest = 0;
        for (Param p : params) {
            largest = Math.max(largest, maxAbs(grads.of(p)));
        }
        assertTrue(params.isEmpty() || largest > 0, "all parameter gradients are zero");
        double h = Tolerances.FD_STEP_DOUBLE;
        for (Param p : params) {
            float[] g = grads.of(p);
            // float round-off of a gradient that should be ~0 (a conv bias before TRAIN-mode BN) is
            // measured against the largest gradient of the network
            double tol = Tolerances.PARAM_FD * maxAbs(g) + Tolerances.PARAM_FD_FLOOR * largest;
            double[] pd = ref.param(p);
            for (int s = 0; s < paramSamples(); s++) {
                int i = rnd.nextInt(p.size());
                double old = pd[i];
                pd[i] = old + h;
                double lp = dotD(ref.forward(layer, xd, mode).data(), gy);
                pd[i] = old - h;
                double lm = dotD(ref.forward(layer, xd, mode).data(), gy);
                pd[i] = old;
                double fd = (lp - lm) / (2 * h);
                assertEquals(fd, g[i], tol, "dL/d " + p.name() + "[" + i + "] (max |grad| " + maxAbs(g) + ")");
            }
        }
    }

    private static double dotD(double[] a, float[] b) {
        double s = 0;
        for (int i = 0; i < a.length; i++) {
            s += a[i] * b[i];
        }
        return s;
    }

    @ParameterizedTest
    @EnumSource(BnMode.class)
    void asLinearMap_isTheExamplesBlock(BnMode mode) {
        Linearization l = layer().linearize(input(), mode);
        Shape in = l.inShape(), out = l.outShape();
        int ex = in.n() - 1;
        LinearMap m = l.asLinearMap(ex);
        assertEquals(in.perExample(), m.inDim());
        assertEquals(out.perExample(), m.outDim());
        float[] v = randn(rnd, m.inDim()), u = randn(rnd, m.outDim());
        float[] mv = new float[m.outDim()], mtu = new float[m.inDim()];
        m.apply(v, mv);
        m.applyTranspose(u, mtu);
        // against the batch map with a tangent that is zero outside the example
        float[] dx = new float[in.size()];
        System.arraycopy(v, 0, dx, ex * in.perExample(), v.length);
        float[] dy = jvp(l, dx);
        assertArrayEquals(Arrays.copyOfRange(dy, ex * out.perExample(), (ex + 1) * out.perExample()), mv);
        double lhs = dot(mv, u, u.length), rhs = dot(v, mtu, v.length);
        assertEquals(lhs, rhs, Tolerances.ADJOINT * Math.max(absDot(mv, u, u.length), absDot(v, mtu, v.length)));
        // a second use after the transpose gives the same answer (buffers are reset)
        float[] again = new float[m.outDim()];
        m.apply(v, again);
        assertArrayEquals(mv, again);
        if (blockDiagonal(mode)) {
            for (int i = 0; i < dy.length; i++) {
                if (i / out.perExample() != ex) {
                    assertEquals(0f, dy[i], "block diagonal: output of another example moved, index " + i);
                }
            }
        }
    }

    @ParameterizedTest
    @EnumSource(BnMode.class)
    void asBatchLinearMap_appliesJvpInEvalAndRefusesTrain(BnMode mode) {
        Linearization l = layer().linearize(input(), mode);
        if (mode == BnMode.TRAIN) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, l::asBatchLinearMap);
            assertTrue(e.getMessage().contains("EVAL"), e.getMessage());
            return;
        }
        BatchLinearMap b = l.asBatchLinearMap();
        assertEquals(l.inShape().n(), b.batch());
        float[] v = randn(rnd, l.inShape().size()), u = randn(rnd, l.outShape().size());
        float[] bv = new float[l.outShape().size()], btu = new float[l.inShape().size()];
        b.apply(v, bv);
        b.applyTranspose(u, btu);
        assertArrayEquals(jvp(l, v), bv);
        assertArrayEquals(vjp(l, u), btu);
    }

    @ParameterizedTest
    @EnumSource(BnMode.class)
    void output_matchesForward_inEvalMode(BnMode mode) {
        Layer layer = layer();
        Tensor x = input();
        Linearization l = layer.linearize(x, mode);
        assertEquals(layer.outputShape(x.shape), l.outShape());
        assertEquals(x.shape, l.inShape());
        assertEquals(mode, l.mode());
        if (mode == BnMode.EVAL) {
            assertArrayEquals(layer.forward(x).data, l.output().data, (float) (Tolerances.REORDERED_F32 * Math.max(1, maxAbs(l.output().data))));
        }
    }

    @ParameterizedTest
    @EnumSource(BnMode.class)
    void jvpAndVjp_rejectShortOrAliasedArrays(BnMode mode) {
        Linearization l = layer().linearize(input(), mode);
        float[] shortIn = new float[l.inShape().size() - 1], out = new float[l.outShape().size()];
        assertThrows(IllegalArgumentException.class, () -> l.jvp(shortIn, out));
        assertThrows(IllegalArgumentException.class, () -> l.vjp(out, shortIn));
        assertThrows(IllegalArgumentException.class, () -> l.jvp(null, out));
        if (l.inShape().size() == l.outShape().size()) {
            float[] same = new float[l.inShape().size()];
            assertThrows(IllegalArgumentException.class, () -> l.jvp(same, same));
        }
    }
}
