package dev.opnorm.robust.reg;

import dev.opnorm.linalg.Jacobians;
import dev.opnorm.linalg.LinearMap;
import dev.opnorm.linalg.Svd;
import dev.opnorm.nn.Shape;
import dev.opnorm.nn.Tensor;
import dev.opnorm.nn.layers.BnMode;
import dev.opnorm.nn.layers.Conv2d;
import dev.opnorm.nn.layers.Flatten;
import dev.opnorm.nn.layers.Linear;
import dev.opnorm.nn.layers.Param;
import dev.opnorm.nn.layers.ParamGrads;
import dev.opnorm.nn.layers.ReLU;
import dev.opnorm.nn.layers.Sequential;
import org.ejml.data.DMatrixRMaj;
import org.junit.jupiter.api.Test;

import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class GlobalSpectralNormTest {
    private static final double SIGMA_REL = RegTestSupport.SIGMA_REL;
    /** Relative gap allowed between the one-step-per-update running sigma and EJML's while the weights move. */
    private static final double TRACKING_REL = 1e-2;

    /** (n, 2, 5, 5) -> conv3x3 pad1 (3 ch) -> ReLU -> conv3x3 stride 2 pad 0 (4 ch) -> flatten -> linear(16, 3). */
    private static Sequential net(long seed) {
        Sequential net = new Sequential("net", new Conv2d("0", 2, 3, 3, 1, 1, true), new ReLU("1"),
                new Conv2d("2", 3, 4, 3, 2, 0, true), new Flatten("3"), new Linear("4", 16, 3, true));
        net.initParameters(new SplittableRandom(seed));
        return net;
    }

    private static final Shape IN = new Shape(1, 2, 5, 5);

    /** The reshaped (out x in*kh*kw) weight matrix of a conv or the matrix of a linear layer. */
    private static DMatrixRMaj reshaped(Param weight) {
        int[] d = weight.dims();
        int cols = weight.size() / d[0];
        DMatrixRMaj m = new DMatrixRMaj(d[0], cols);
        for (int i = 0; i < weight.size(); i++) {
            m.data[i] = weight.value[i];
        }
        return m;
    }

    /** The conv (without bias) on one example of shape in as a LinearMap, through the layer's own JVP/VJP. */
    private static LinearMap convMap(Conv2d conv, Shape in) {
        return conv.linearize(new Tensor(in), BnMode.EVAL).asLinearMap(0);
    }

    @Test
    void reshaped_sigmaConvergesToEjmlLargestSingularValue_withinSixtySteps() {
        Sequential net = net(1);
        GlobalSpectralNorm reg = GlobalSpectralNorm.reshaped(net, 1e-3);
        reg.initialize(5);
        for (int k = 0; k < 60; k++) {
            reg.powerStep();
        }
        Param[] weights = {((Conv2d) net.child("0")).weight(), ((Conv2d) net.child("2")).weight(),
                ((Linear) net.child("4")).weight()};
        for (int i = 0; i < 3; i++) {
            double exact = Svd.values(reshaped(weights[i]))[0];
            assertEquals(exact, reg.sigma(i), SIGMA_REL * exact, reg.layerName(i));
        }
    }

    @Test
    void reshaped_runningSigmaTracksEjml_duringGradientDescentWithOneStepPerUpdate() {
        Sequential net = net(2);
        double lambda = 0.1, lr = 0.02;
        GlobalSpectralNorm reg = GlobalSpectralNorm.reshaped(net, lambda);
        Param w = ((Conv2d) net.child("2")).weight();
        double first = Double.NaN, last = Double.NaN;
        for (int step = 0; step < 40; step++) {
            ParamGrads g = new ParamGrads();
            reg.accumulate(new RegBatch(net, new Tensor(IN), null, 99), g);
            double exact = Svd.values(reshaped(w))[0];
            if (step == 0) {
                first = exact;
            }
            if (step >= 10) {
                // sigma after the update's power step, from the weights of this step
                assertEquals(exact, reg.sigma(1), TRACKING_REL * exact, "step " + step);
            }
            last = exact;
            for (Param p : net.params()) {
                if (g.has(p)) {
                    float[] gp = g.of(p);
                    for (int j = 0; j < gp.length; j++) {
                        p.value[j] -= (float) (lr * gp[j]);
                    }
                }
            }
        }
        assertTrue(last < first, "the penalty must shrink sigma: " + first + " -> " + last);
    }

    @Test
    void convolution_normMatchesDenseOperatorSigmaMax_andIsBoundedByReshapedTimesSqrtKernelArea() {
        Sequential net = net(3);
        GlobalSpectralNorm conv = GlobalSpectralNorm.convolution(net, IN, 1e-3, 1);
        GlobalSpectralNorm flat = GlobalSpectralNorm.reshaped(net, 1e-3);
        conv.initialize(7);
        flat.initialize(7);
        for (int k = 0; k < 200; k++) {
            conv.powerStep();
            flat.powerStep();
        }
        Shape[] inShapes = {IN, new Shape(1, 3, 5, 5)};
        String[] names = {"0", "2"};
        for (int i = 0; i < 2; i++) {
            Conv2d c = (Conv2d) net.child(names[i]);
            double dense = Svd.values(Jacobians.extract(convMap(c, inShapes[i])))[0];
            assertEquals(dense, conv.sigma(i), SIGMA_REL * dense, "conv " + names[i] + " vs dense operator");
            double bound = Svd.values(reshaped(c.weight()))[0] * Math.sqrt(9);
            assertTrue(conv.sigma(i) <= bound * (1 + RegTestSupport.BOUND_SLACK), "conv " + names[i] + ": " + conv.sigma(i)
                    + " exceeds sqrt(kh*kw) * reshaped sigma = " + bound);
        }
        // the linear layer is the same matrix for both
        assertEquals(flat.sigma(2), conv.sigma(2), SIGMA_REL * flat.sigma(2));
    }

    @Test
    void accumulate_initializesFromBatchSeed_deterministically_andStateHoldsTheVectors() {
        Sequential a = net(4), b = net(4);
        GlobalSpectralNorm ra = GlobalSpectralNorm.reshaped(a, 0.1), rb = GlobalSpectralNorm.reshaped(b, 0.1);
        assertFalse(ra.initialized());
        double va = ra.accumulate(new RegBatch(a, new Tensor(IN), null, 42), new ParamGrads());
        double vb = rb.accumulate(new RegBatch(b, new Tensor(IN), null, 42), new ParamGrads());
        assertTrue(ra.initialized());
        assertEquals(va, vb);
        assertEquals(6, ra.state().size());
        assertEquals("reg.global-snr.2.v", ra.state().get(3).name());
        for (int i = 0; i < 6; i++) {
            assertArrayEquals(ra.state().get(i).value, rb.state().get(i).value);
        }
        // a different seed draws different vectors
        GlobalSpectralNorm rc = GlobalSpectralNorm.reshaped(net(4), 0.1);
        rc.initialize(43);
        ra.initialize(42);
        assertFalse(java.util.Arrays.equals(ra.v(0), rc.v(0)));
    }

    @Test
    void constructors_rejectBadSettings_withNamedMessages() {
        Sequential net = net(5);
        assertThrows(IllegalArgumentException.class, () -> GlobalSpectralNorm.reshaped(net, -1));
        assertThrows(IllegalArgumentException.class, () -> GlobalSpectralNorm.reshaped(net, 1, 0));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> GlobalSpectralNorm.reshaped(new Sequential("r", new ReLU("0")), 1));
        assertTrue(e.getMessage().contains("no Conv2d or Linear"), e.getMessage());
        assertThrows(IllegalArgumentException.class,
                () -> GlobalSpectralNorm.convolution(net, new Shape(1, 3, 5, 5), 1, 1));
    }
}
