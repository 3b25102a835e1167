package dev.opnorm.robust.reg;

import dev.opnorm.linalg.Norms;
import dev.opnorm.nn.Shape;
import dev.opnorm.nn.Tensor;
import dev.opnorm.nn.layers.BnMode;
import dev.opnorm.nn.layers.DoubleReference;
import dev.opnorm.nn.layers.Linearization;
import dev.opnorm.nn.layers.Param;
import dev.opnorm.nn.layers.ParamGrads;
import dev.opnorm.nn.layers.Sequential;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.EnumSource;
import org.junit.jupiter.api.Test;

import static dev.opnorm.robust.reg.RegTestSupport.checkAgainstDouble;
import static dev.opnorm.robust.reg.RegTestSupport.checkDirectionalDerivatives;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Every regularizer's parameter gradient against central differences of its value in the parameters,
 * with its internal vectors (u, v, directions) held fixed.
 */
class RegularizerGradientTest {
    private static final Shape IN = RegTestSupport.smallCnnInput(3);

    @Test
    void ddSpectralNorm_penaltyGradient_matchesCentralDifference_fixedVectors() {
        Sequential net = RegTestSupport.smallCnn(101);
        Tensor x = RegTestSupport.gaussian(IN, 102);
        Linearization lin = net.linearize(x, BnMode.EVAL);
        float[] u = RegTestSupport.gaussian(lin.outShape().size(), 103);
        float[] v = RegTestSupport.gaussian(lin.inShape().size(), 104);
        DdSpectralNorm reg = new DdSpectralNorm(0.7, 5);
        ParamGrads grads = new ParamGrads();
        double value = reg.penalty(net, lin, u, v, grads);
        assertTrue(value > 0);
        checkAgainstDouble(net, grads, ref -> {
            double[] jv = RegTestSupport.jvp(ref, net, x.data, x.shape, v, BnMode.EVAL);
            double sum = 0;
            for (int i = 0; i < 3; i++) {
                double s = RegTestSupport.dot(u, i * 5, jv, i * 5, 5);
                sum += s * s;
            }
            return 0.7 / 2 * sum / 3;
        }, RegTestSupport.FD_DOUBLE_STEP_JVP, 4, 105);
    }

    @ParameterizedTest
    @EnumSource(BnMode.class)
    void sumOfSquares_penaltyGradient_matchesCentralDifference_fixedDirections(BnMode mode) {
        Sequential net = RegTestSupport.smallCnn(111);
        Tensor x = RegTestSupport.gaussian(IN, 112);
        DdOperatorNorm reg = DdOperatorNorm.sumOfSquares(1.3, 0.5, 3, mode);
        RegBatch batch = new RegBatch(net, x, null, 7);
        float[] v = reg.directions(batch);
        ParamGrads grads = new ParamGrads();
        reg.penalty(batch, v, grads);
        checkAgainstDouble(net, grads, ref -> differencePenalty(ref, net, x, v, 0.5, 2, 2, true, 1.3, mode),
                RegTestSupport.FD_DOUBLE_STEP, 4, 113);
    }

    @ParameterizedTest
    @CsvSource({"2, 1, false", "inf, 2, false", "inf, 2, true", "2, inf, false", "1, 3, true"})
    void ddOperatorNorm_penaltyGradient_matchesCentralDifference_fixedDirections(String p, String q, boolean qth) {
        Sequential net = RegTestSupport.mlp(121);
        Tensor x = RegTestSupport.gaussian(new Shape(4, 3, 2, 2), 122);
        DdOperatorNorm reg = new DdOperatorNorm(Norms.parse(p), Norms.parse(q), 0.9, 0.3, 4, qth, BnMode.EVAL);
        RegBatch batch = new RegBatch(net, x, null, 9);
        float[] v = reg.directions(batch);
        for (int i = 0; i < 4; i++) {
            assertEquals(1.0, Norms.lp(v, i * 12, 12, Norms.parse(p)), RegTestSupport.BOUND_SLACK, "||v_i||_p");
        }
        ParamGrads grads = new ParamGrads();
        reg.penalty(batch, v, grads);
        checkAgainstDouble(net, grads,
                ref -> differencePenalty(ref, net, x, v, 0.3, Norms.parse(p), Norms.parse(q), qth, 0.9, BnMode.EVAL),
                RegTestSupport.FD_DOUBLE_STEP, 4, 123);
    }

    @Test
    void inputGradient_gradient_matchesCentralDifference_convBnPoolNet() {
        Sequential net = RegTestSupport.smallCnn(131);
        Tensor x = RegTestSupport.gaussian(IN, 132);
        int[] y = RegTestSupport.labels(3, 5, 133);
        InputGradient reg = new InputGradient(2.0);
        ParamGrads grads = new ParamGrads();
        double value = reg.accumulate(new RegBatch(net, x, y, 0), grads);
        assertTrue(value > 0);
        checkAgainstDouble(net, grads, ref -> {
            double sum = 0;
            for (int i = 0; i < 3; i++) {
                for (int j = 0; j < 32; j++) {
                    int k = i * 32 + j;
                    double[] xp = RegTestSupport.toDouble(x.data), xm = RegTestSupport.toDouble(x.data);
                    xp[k] += RegTestSupport.JVP_STEP;
                    xm[k] -= RegTestSupport.JVP_STEP;
                    double g = (ceDouble(ref, net, xp, x.shape, y, i) - ceDouble(ref, net, xm, x.shape, y, i))
                            / (2 * RegTestSupport.JVP_STEP);
                    sum += g * g;
                }
            }
            return 2.0 / 2 * sum / 3;
        }, RegTestSupport.FD_DOUBLE_STEP_JVP, 4, 134);
    }

    @Test
    void inputGradient_value_isHalfSquaredNormOfPerExampleInputGradient() {
        Sequential net = RegTestSupport.mlp(141);
        Tensor x = RegTestSupport.gaussian(new Shape(2, 3, 2, 2), 142);
        int[] y = {1, 3};
        double lambda = 0.4;
        double value = new InputGradient(lambda).accumulate(new RegBatch(net, x, y, 0), new ParamGrads());
        // reference: central differences of CE_i in each input coordinate
        double expected = 0;
        float h = 1e-2f;
        for (int i = 0; i < 2; i++) {
            for (int j = 0; j < 12; j++) {
                int k = i * 12 + j;
                float keep = x.data[k];
                x.data[k] = keep + h;
                double plus = ce(net, x, y, i);
                x.data[k] = keep - h;
                double minus = ce(net, x, y, i);
                x.data[k] = keep;
                double g = (plus - minus) / (2 * h);
                expected += g * g;
            }
        }
        expected *= lambda / 2 / 2;
        assertEquals(expected, value, RegTestSupport.FLOAT_DIFFERENCE_REL * expected);
    }

    /** CE of example i in double. */
    private static double ceDouble(DoubleReference ref, Sequential net, double[] x, Shape s, int[] y, int i) {
        double[] f = ref.forward(net, new DoubleReference.D(s, x), BnMode.EVAL).data();
        double m = Double.NEGATIVE_INFINITY;
        for (int j = 0; j < 5; j++) {
            m = Math.max(m, f[i * 5 + j]);
        }
        double z = 0;
        for (int j = 0; j < 5; j++) {
            z += Math.exp(f[i * 5 + j] - m);
        }
        return m + Math.log(z) - f[i * 5 + y[i]];
    }

    /** The finite-difference penalty of {@link DdOperatorNorm} in double, v fixed, x + eps v formed in float as the code does. */
    private static double differencePenalty(DoubleReference ref, Sequential net, Tensor x, float[] v, double eps,
            double p, double q, boolean qth, double lambda, BnMode mode) {
        float[] xe = new float[v.length];
        for (int j = 0; j < xe.length; j++) {
            xe[j] = x.data[j] + (float) eps * v[j];
        }
        double[] f0 = RegTestSupport.forward(ref, net, x.data, x.shape, mode);
        double[] f1 = RegTestSupport.forward(ref, net, xe, x.shape, mode);
        int b = x.shape.n(), m = f0.length / b;
        double sum = 0;
        for (int i = 0; i < b; i++) {
            double[] d = new double[m];
            for (int j = 0; j < m; j++) {
                d[j] = f1[i * m + j] - f0[i * m + j];
            }
            double n = Norms.lp(d, q);
            sum += qth ? Math.pow(n, q) / q : n;
        }
        return lambda * sum / b;
    }

    private static double ce(Sequential net, Tensor x, int[] y, int i) {
        Tensor f = net.forward(x).slice(i, 1);
        return dev.opnorm.nn.loss.SoftmaxCrossEntropy.loss(f, new int[] {y[i]});
    }

    @ParameterizedTest
    @EnumSource(GlobalSpectralNorm.Operator.class)
    void globalSpectralNorm_penaltyGradient_matchesCentralDifference_fixedVectors(GlobalSpectralNorm.Operator op) {
        Sequential net = RegTestSupport.smallCnn(151);
        GlobalSpectralNorm reg = op == GlobalSpectralNorm.Operator.RESHAPED_KERNEL
                ? GlobalSpectralNorm.reshaped(net, 0.8) : GlobalSpectralNorm.convolution(net, IN, 0.8, 1);
        assertEquals(3, reg.layers());
        for (int i = 0; i < reg.layers(); i++) {
            float[] u = reg.u(i), v = reg.v(i);
            System.arraycopy(RegTestSupport.gaussian(u.length, 152 + i), 0, u, 0, u.length);
            System.arraycopy(RegTestSupport.gaussian(v.length, 162 + i), 0, v, 0, v.length);
        }
        ParamGrads grads = new ParamGrads();
        reg.penalty(grads);
        checkDirectionalDerivatives(net, grads, m -> reg.penalty(new ParamGrads()), 4, 153);
        for (Param p : net.params()) {
            if (p.name().endsWith("bias")) {
                assertTrue(!grads.has(p), "bias " + p.name() + " must get no gradient");
            }
        }
    }

    @Test
    void sumOfSquares_overEpsSquared_matchesSigmaSquaredForm_smallEps() {
        // inside the activation cell f(x + eps v) - f(x) = eps J v exactly, so the sum-of-squares form with
        // lambda/eps^2 and the sigma^2 form give the same value and gradient (up to float round-off)
        Sequential net = RegTestSupport.smallCnn(171);
        Tensor x = RegTestSupport.gaussian(IN, 172);
        Linearization lin = net.linearize(x, BnMode.EVAL);
        float[] v = RegTestSupport.gaussian(lin.inShape().size(), 173);
        for (int i = 0; i < 3; i++) {
            double n = Norms.lp(v, i * 32, 32, 2);
            for (int j = i * 32; j < (i + 1) * 32; j++) {
                v[j] = (float) (v[j] / n);
            }
        }
        float[] jv = new float[lin.outShape().size()];
        lin.jvp(v, jv);
        float[] u = new float[jv.length];
        for (int i = 0; i < 3; i++) {
            double n = Norms.lp(jv, i * 5, 5, 2);
            for (int j = i * 5; j < (i + 1) * 5; j++) {
                u[j] = (float) (jv[j] / n);
            }
        }
        double eps = 1e-2, lambda = 0.5;
        ParamGrads gSigma = new ParamGrads(), gSos = new ParamGrads();
        double sigmaForm = new DdSpectralNorm(lambda, 1).penalty(net, lin, u, v, gSigma);
        double sos = DdOperatorNorm.sumOfSquares(lambda / (eps * eps), eps, 1, BnMode.EVAL)
                .penalty(new RegBatch(net, x, null, 0), v, gSos);
        assertEquals(sigmaForm, sos, RegTestSupport.VALUE_ROUTES_REL * sigmaForm);
        for (Param p : net.params()) {
            if (p.name().endsWith("bias") || !gSigma.has(p)) {
                continue;
            }
            float[] a = gSigma.of(p), b = gSos.of(p);
            double diff = 0, ref = 0;
            for (int j = 0; j < a.length; j++) {
                diff += (a[j] - b[j]) * (double) (a[j] - b[j]);
                ref += (double) a[j] * a[j];
            }
            assertTrue(Math.sqrt(diff) <= RegTestSupport.GRADIENT_ROUTES_REL * Math.sqrt(ref),
                    p.name() + ": gradients differ by " + Math.sqrt(diff) + " of " + Math.sqrt(ref));
        }
    }
}
