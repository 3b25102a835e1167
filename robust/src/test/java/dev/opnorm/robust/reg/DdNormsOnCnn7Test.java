package dev.opnorm.robust.reg;

import dev.opnorm.linalg.Jacobians;
import dev.opnorm.linalg.OperatorNorm;
import dev.opnorm.linalg.Svd;
import dev.opnorm.nn.Shape;
import dev.opnorm.nn.Tensor;
import dev.opnorm.nn.layers.BnMode;
import dev.opnorm.nn.layers.Linearization;
import dev.opnorm.nn.layers.ParamGrads;
import dev.opnorm.nn.layers.Sequential;
import dev.opnorm.nn.models.Cnn7;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The data-dependent regularizers measure the Jacobian of the LOGITS of the paper's CNN (width 1/16), BN in EVAL. */
class DdNormsOnCnn7Test {
    private static final int B = 2;

    private static Sequential net() {
        Sequential net = Cnn7.create(1.0 / 16, 1, 10, 3);
        RegTestSupport.calibrate(net, RegTestSupport.gaussian(new Shape(8, 1, 32, 32), 4));
        return net;
    }

    /** sigma_max of example i's logit Jacobian from the dense 10 x 1024 matrix (EJML SVD). */
    private static double denseSigma(Linearization lin, int i) {
        return Svd.values(Jacobians.extract(lin.asLinearMap(i)))[0];
    }

    @Test
    void ddSpectralNorm_value_isHalfLambdaMeanSquaredSigmaOfLogitJacobian() {
        Sequential net = net();
        Tensor x = RegTestSupport.gaussian(new Shape(B, 1, 32, 32), 5);
        double lambda = 0.3;
        double value = new DdSpectralNorm(lambda, 100).accumulate(new RegBatch(net, x, null, 1), new ParamGrads());
        Linearization lin = net.linearize(x, BnMode.EVAL);
        double expected = 0;
        for (int i = 0; i < B; i++) {
            double s = denseSigma(lin, i);
            expected += s * s;
        }
        expected *= lambda / 2 / B;
        assertEquals(expected, value, RegTestSupport.SIGMA_REL * expected);
    }

    @Test
    void sumOfSquares_directions_areTopRightSingularVectors_andValueIsEpsSquaredSigmaSquared() {
        Sequential net = net();
        Tensor x = RegTestSupport.gaussian(new Shape(B, 1, 32, 32), 6);
        double eps = 1e-3, lambda = 2;
        DdOperatorNorm sos = DdOperatorNorm.sumOfSquares(lambda, eps, 100, BnMode.EVAL);
        RegBatch batch = new RegBatch(net, x, null, 2);
        float[] v = sos.directions(batch);
        Linearization lin = net.linearize(x, BnMode.EVAL);
        double expected = 0;
        for (int i = 0; i < B; i++) {
            double s = denseSigma(lin, i);
            double[] vi = new double[1024];
            for (int j = 0; j < 1024; j++) {
                vi[j] = v[i * 1024 + j];
            }
            float[] jv = new float[10];
            lin.asLinearMap(i).apply(java.util.Arrays.copyOfRange(v, i * 1024, (i + 1) * 1024), jv);
            double n = dev.opnorm.linalg.Norms.lp(jv, 2);
            assertEquals(s, n, RegTestSupport.SIGMA_REL * s, "||J v|| of example " + i);
            expected += s * s;
        }
        double value = sos.penalty(batch, v, new ParamGrads());
        expected *= lambda * eps * eps / 2 / B;
        // f(x + eps v) - f(x) = eps J v inside the activation cell; float differences of f limit the agreement
        assertEquals(expected, value, RegTestSupport.FLOAT_DIFFERENCE_REL * expected);
    }

    @Test
    void operatorNorm_inf2_penaltyOverEps_isTheIterationsLowerBound() {
        Sequential net = net();
        Tensor x = RegTestSupport.gaussian(new Shape(B, 1, 32, 32), 7);
        double eps = 1e-3;
        DdOperatorNorm onr = new DdOperatorNorm(Double.POSITIVE_INFINITY, 2, 1, eps, 20, false, BnMode.EVAL);
        RegBatch batch = new RegBatch(net, x, null, 3);
        double value = onr.penalty(batch, onr.directions(batch), new ParamGrads());
        Linearization lin = net.linearize(x, BnMode.EVAL);
        double expected = 0;
        for (int i = 0; i < B; i++) {
            OperatorNorm.Result r = OperatorNorm.estimate(lin.asLinearMap(i), Double.POSITIVE_INFINITY, 2,
                    new OperatorNorm.Options(20, 0, Double.POSITIVE_INFINITY, 1,
                            dev.opnorm.linalg.StartVectors.exampleSeed(3, i)));
            expected += r.value();
            // a lower bound of ||J||_{inf,2}, which is at most sqrt(n) sigma_max
            assertTrue(r.value() <= Math.sqrt(1024) * denseSigma(lin, i) * (1 + RegTestSupport.BOUND_SLACK));
        }
        expected *= eps / B;
        assertEquals(expected, value, RegTestSupport.FLOAT_DIFFERENCE_REL * expected);
    }
}
