package dev.opnorm.robust.analysis;

import dev.opnorm.linalg.Jacobians;
import dev.opnorm.linalg.PowerMethod;
import dev.opnorm.linalg.Svd;
import dev.opnorm.nn.Shape;
import dev.opnorm.nn.Tensor;
import dev.opnorm.nn.kernels.VectorKernels;
import dev.opnorm.nn.layers.BnMode;
import dev.opnorm.nn.layers.Flatten;
import dev.opnorm.nn.layers.Linear;
import dev.opnorm.nn.layers.ReLU;
import dev.opnorm.nn.layers.Sequential;
import dev.opnorm.nn.models.Cnn7;
import org.junit.jupiter.api.Test;

import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class AnalysisTest {
    private static final VectorKernels K = new VectorKernels(1);

    private static Sequential mlp(boolean relu) {
        Sequential net = relu
                ? new Sequential("mlp", new Flatten("0", K), new Linear("1", 12, 20, true, K), new ReLU("2", K),
                new Linear("3", 20, 7, true, K))
                : new Sequential("lin", new Flatten("0", K), new Linear("1", 12, 20, true, K), new Linear("3", 20, 7, true, K));
        net.initParameters(new SplittableRandom(3));
        return net;
    }

    private static Tensor random(Shape s, long seed, double scale) {
        SplittableRandom r = new SplittableRandom(seed);
        Tensor x = new Tensor(s);
        for (int i = 0; i < x.data.length; i++) {
            x.data[i] = (float) (scale * (2 * r.nextDouble() - 1));
        }
        return x;
    }

    @Test
    void deviation_zeroForAffineNetwork_positiveAcrossReluKinks() {
        Tensor x = random(new Shape(3, 3, 2, 2), 1, 1), z = random(x.shape, 2, 2);
        for (double d : Linearity.deviation(mlp(false), null, x, z)) {
            assertEquals(0, d, 1e-5, "an affine network is its own linearization");
        }
        Sequential relu = mlp(true);
        double[] big = Linearity.deviation(relu, null, x, z);
        Tensor tiny = random(x.shape, 2, 1e-6);
        double[] small = Linearity.deviation(relu, null, x, tiny);
        for (int i = 0; i < 3; i++) {
            assertTrue(big[i] > 1e-2, "large steps cross ReLU kinks: " + big[i]);
            assertTrue(small[i] < 1e-5, "tiny steps stay in the cell: " + small[i]);
        }
        assertThrows(IllegalArgumentException.class, () -> Linearity.deviation(relu, null, x, x.slice(0, 1)));
    }

    @Test
    void sigmaMax_matchesSvdOfTheExtractedJacobian() {
        Sequential net = mlp(true);
        Tensor x = random(new Shape(2, 3, 2, 2), 4, 1);
        double[] s = Linearity.sigmaMax(net, null, x, PowerMethod.Options.defaults().withRelTol(1e-9));
        var lin = net.linearize(x, BnMode.EVAL);
        for (int i = 0; i < 2; i++) {
            double exact = Svd.values(Jacobians.extract(lin.asLinearMap(i)))[0];
            assertEquals(exact, s[i], 1e-4 * exact, "example " + i);
        }
    }

    @Test
    void spectra_cnnFeatures_matchPerExampleJacobian_andAlignmentIsACosine() {
        Sequential net = Cnn7.create(1.0 / 16, 1, 10, 5, K);
        Tensor x = random(new Shape(2, 1, 32, 32), 6, 1);
        Svd.Result r = Spectra.jacobianSvd(net, Cnn7.FEATURES, x, 1, 16);
        assertEquals(64, r.singularValues().length, "features (64) x input (1024): 64 singular values");
        var features = ((dev.opnorm.nn.layers.SequentialLinearization) net.linearize(x, BnMode.EVAL)).upTo(Cnn7.FEATURES);
        double[] ref = Svd.values(Jacobians.extract(features.asLinearMap(1)));
        for (int k = 0; k < ref.length; k++) {
            assertEquals(ref[k], r.singularValues()[k], 1e-4 * ref[0], "singular value " + k);
        }
        float[] top = new float[1024];
        for (int j = 0; j < 1024; j++) {
            top[j] = (float) r.v().get(j, 0);
        }
        double[] cos = Spectra.alignment(r, top);
        assertEquals(1, cos[0], 1e-5);
        double sq = 0;
        for (double c : cos) {
            sq += c * c;
        }
        assertEquals(1, sq, 1e-4, "orthonormal v_r: the squared cosines of a vector in their span sum to 1");
        assertThrows(IllegalArgumentException.class, () -> Spectra.alignment(r, new float[1024]));
        assertThrows(IllegalArgumentException.class, () -> Spectra.jacobianSvd(net, Cnn7.FEATURES, x, 2, 16));
    }

    @Test
    void sharedActivations_oneForTinyNoise_lessForLargeNoise_seeded() {
        Sequential net = Cnn7.create(1.0 / 16, 1, 10, 5, K);
        Tensor x = random(new Shape(2, 1, 32, 32), 7, 1);
        double[] tiny = SharedActivations.nearby(net, x, 1e-7, 2, 1);
        double[] large = SharedActivations.nearby(net, x, 0.5, 2, 1);
        for (int i = 0; i < 2; i++) {
            assertTrue(tiny[i] > 0.999, "tiny noise keeps almost every unit: " + tiny[i]);
            assertTrue(large[i] < 0.95 && large[i] > 0.3, "large noise flips units: " + large[i]);
        }
        assertArrayEquals(large, SharedActivations.nearby(net, x, 0.5, 2, 1));
    }
}
