package dev.opnorm.robust.analysis;

import dev.opnorm.linalg.Jacobians;
import dev.opnorm.linalg.PowerMethod;
import dev.opnorm.linalg.Svd;
import dev.opnorm.nn.Shape;
import dev.opnorm.nn.Tensor;
import dev.opnorm.nn.data.Domain;
import dev.opnorm.nn.kernels.VectorKernels;
import dev.opnorm.nn.layers.BnMode;
import dev.opnorm.nn.layers.Flatten;
import dev.opnorm.nn.layers.Linear;
import dev.opnorm.nn.layers.ReLU;
import dev.opnorm.nn.layers.Sequential;
import dev.opnorm.nn.models.Cnn7;
import org.ejml.data.DMatrixRMaj;
import org.junit.jupiter.api.Test;

import java.util.SplittableRandom;

import static dev.opnorm.robust.analysis.AnalysisTolerances.COSINE;
import static dev.opnorm.robust.analysis.AnalysisTolerances.IN_CELL_REL;
import static dev.opnorm.robust.analysis.AnalysisTolerances.JACOBIAN_REL;
import static dev.opnorm.robust.analysis.AnalysisTolerances.OFF_CELL_REL;
import static dev.opnorm.robust.analysis.AnalysisTolerances.SIGMA_REL;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The batched figure analyses against brute-force computations on small networks. */
class CurvesTest {
    private static final VectorKernels K = new VectorKernels(1);

    /** Flatten, Linear(12, 20), ReLU, Linear(20, 7), ReLU, Linear(7, 5): two ReLU layers. */
    private static Sequential mlp() {
        Sequential net = new Sequential("mlp", new Flatten("0", K), new Linear("1", 12, 20, true, K), new ReLU("2", K),
                new Linear("3", 20, 7, true, K), new ReLU("4", K), new Linear("5", 7, 5, true, K));
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

    private static double maxAbs(DMatrixRMaj m) {
        double a = 0;
        for (double v : m.data) {
            a = Math.max(a, Math.abs(v));
        }
        return a;
    }

    @Test
    void jacobians_batchOfDifferentPoints_matchPerExampleColumns_rowsAndColumnsPaths() {
        Sequential cnn = Cnn7.create(1.0 / 16, 1, 10, 5, K);
        Tensor x = random(new Shape(3, 1, 32, 32), 6, 1);
        DMatrixRMaj[] j = Spectra.jacobians(cnn, Cnn7.FEATURES, x);   // 64 x 1024: rows through the VJP
        for (int i = 0; i < 3; i++) {
            // the JVP path, example by example: x_i replicated 64 times, 64 columns per pass
            Tensor rep = new Tensor(x.shape.withBatch(64));
            for (int b = 0; b < 64; b++) {
                System.arraycopy(x.data, i * 1024, rep.data, b * 1024, 1024);
            }
            var features = ((dev.opnorm.nn.layers.SequentialLinearization) cnn.linearize(rep, BnMode.EVAL))
                    .upTo(Cnn7.FEATURES);
            DMatrixRMaj ref = Jacobians.byColumns(features.asBatchLinearMap());
            assertEquals(64, j[i].numRows);
            assertEquals(1024, j[i].numCols);
            double tol = JACOBIAN_REL * maxAbs(ref);
            for (int e = 0; e < ref.data.length; e++) {
                assertEquals(ref.data[e], j[i].data[e], tol, "example " + i + " entry " + e);
            }
        }
        Sequential net = mlp();   // up to the first ReLU: 20 outputs from 12 inputs, columns through the JVP
        Tensor y = random(new Shape(4, 3, 2, 2), 7, 1);
        DMatrixRMaj[] jm = Spectra.jacobians(net, "2", y);
        var lin = ((dev.opnorm.nn.layers.SequentialLinearization) net.linearize(y, BnMode.EVAL)).upTo("2");
        for (int i = 0; i < 4; i++) {
            DMatrixRMaj ref = Jacobians.byRows(lin.asLinearMap(i));
            for (int e = 0; e < ref.data.length; e++) {
                assertEquals(ref.data[e], jm[i].data[e], JACOBIAN_REL * maxAbs(ref), "mlp example " + i);
            }
        }
    }

    @Test
    void spectra_perPointValuesAndSvds_matchTheReplicaExtraction_alignmentsPerExample() {
        Sequential cnn = Cnn7.create(1.0 / 16, 1, 10, 8, K);
        Tensor x = random(new Shape(2, 1, 32, 32), 9, 1);
        double[][] values = Spectra.singularValues(cnn, Cnn7.FEATURES, x);
        Svd.Result[] svds = Spectra.svds(cnn, Cnn7.FEATURES, x);
        for (int i = 0; i < 2; i++) {
            double[] ref = Spectra.jacobianSvd(cnn, Cnn7.FEATURES, x, i, 16).singularValues();
            assertEquals(64, values[i].length);
            for (int r = 0; r < ref.length; r++) {
                assertEquals(ref[r], values[i][r], SIGMA_REL * ref[0], "example " + i + " rank " + r);
                assertEquals(ref[r], svds[i].singularValues()[r], SIGMA_REL * ref[0], "example " + i + " rank " + r);
            }
        }
        // delta_0 = v_3 of example 0, delta_1 = v_0 + v_1 of example 1
        Tensor delta = new Tensor(x.shape);
        for (int j = 0; j < 1024; j++) {
            delta.data[j] = (float) svds[0].v().get(j, 3);
            delta.data[1024 + j] = (float) (svds[1].v().get(j, 0) + svds[1].v().get(j, 1));
        }
        double[][] cos = Spectra.alignments(svds, delta);
        assertEquals(1, cos[0][3], COSINE);
        assertEquals(0, cos[0][0], COSINE);
        assertEquals(Math.sqrt(0.5), cos[1][0], COSINE);
        assertEquals(Math.sqrt(0.5), cos[1][1], COSINE);
        java.util.Arrays.fill(delta.data, 1024, 2048, 0f);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Spectra.alignments(svds, delta));
        assertTrue(e.getMessage().contains("example 1"), e.getMessage());
    }

    @Test
    void deviationCurve_zeroAtZero_zeroInsideTheCell_positiveAcrossKinks_matchesBruteForce() {
        Sequential net = mlp();
        Tensor x = random(new Shape(3, 3, 2, 2), 1, 1);
        Tensor d = Directions.randomUnit(x.shape, 11, 0);
        double[] norms = {0, 1e-4, 1e-3, 0.5, 2, 4};
        double[][] dev = Linearity.deviationCurve(net, null, x, d, norms);
        double[] sigma = Linearity.sigmaMax(net, null, x, PowerMethod.Options.defaults());
        ActivationPattern at = ActivationPattern.of(net, x);
        var lin = net.linearize(x, BnMode.EVAL);
        boolean sawKink = false;
        for (int i = 0; i < 3; i++) {
            assertEquals(0.0, dev[i][0], "z = 0: phi(x) - phi(x) - 0, exactly");
            DMatrixRMaj jd = Jacobians.byColumns(lin.asLinearMap(i));
            for (int k = 1; k < norms.length; k++) {
                Tensor xz = x.copy();
                for (int j = 0; j < 12; j++) {
                    xz.data[i * 12 + j] += (float) norms[k] * d.data[i * 12 + j];
                }
                // brute force in double: phi(x + z) - phi(x) - J z with J from the JVP columns
                float[] moved = net.forward(xz).data, base = lin.output().data;
                double s = 0;
                for (int r = 0; r < 5; r++) {
                    double jz = 0;
                    for (int j = 0; j < 12; j++) {
                        jz += jd.get(r, j) * (double) ((float) norms[k] * d.data[i * 12 + j]);
                    }
                    double e = (double) moved[i * 5 + r] - base[i * 5 + r] - jz;
                    s += e * e;
                }
                // round-off of phi(x + z) - phi(x) scales with |phi(x)|, that of J z with ||z|| sigma_max
                double phi = 0;
                for (int r = 0; r < 5; r++) {
                    phi += (double) base[i * 5 + r] * base[i * 5 + r];
                }
                double scale = norms[k] * sigma[i] + Math.sqrt(phi);
                assertEquals(Math.sqrt(s), dev[i][k], IN_CELL_REL * scale, "example " + i + " norm " + norms[k]);
                boolean inCell = at.differences(ActivationPattern.of(net, xz))[i] == 0;
                if (inCell) {
                    assertTrue(dev[i][k] <= IN_CELL_REL * scale, "inside the cell the network is affine: " + dev[i][k]);
                } else if (dev[i][k] > OFF_CELL_REL * norms[k] * sigma[i]) {
                    sawKink = true;
                }
            }
            assertTrue(at.differences(ActivationPattern.of(net, shifted(x, d, i, 1e-4)))[i] == 0,
                    "a 1e-4 step stays in the cell of a generic point");
        }
        assertTrue(sawKink, "steps of norm 2 and 4 cross ReLU kinks somewhere");
        assertThrows(IllegalArgumentException.class, () -> Linearity.deviationCurve(net, null, x, d, new double[] {-1}));
        assertThrows(IllegalArgumentException.class, () -> Linearity.sigmaMaxCurve(net, null, x, d, norms,
                PowerMethod.Options.defaults(), new float[5]));
        assertThrows(IllegalArgumentException.class, () -> Linearity.deviationCurve(net, null, x, new Tensor(x.shape), norms));
    }

    private static Tensor shifted(Tensor x, Tensor d, int example, double t) {
        Tensor xz = x.copy();
        int per = x.shape.perExample();
        for (int j = example * per; j < (example + 1) * per; j++) {
            xz.data[j] += (float) t * d.data[j];
        }
        return xz;
    }

    @Test
    void sigmaMaxCurve_atZeroEqualsThePowerMethodAtX_elsewhereTheSvdAtTheMovedPoint() {
        Sequential net = mlp();
        Tensor x = random(new Shape(3, 3, 2, 2), 2, 1);
        Tensor d = Directions.randomUnit(x.shape, 12, 0);
        PowerMethod.Options o = PowerMethod.Options.defaults().withRelTol(1e-9);
        double[] norms = {0, 0.3, 1.5};
        double[][] s = Linearity.sigmaMaxCurve(net, null, x, d, norms, o);
        double[] at = Linearity.sigmaMax(net, null, x, o);
        for (int i = 0; i < 3; i++) {
            assertEquals(at[i], s[i][0], "t = 0 is the power method at x, same start");
            for (int k = 1; k < norms.length; k++) {
                Tensor xz = shifted(x, d, i, norms[k]);
                double exact = Svd.values(Jacobians.extract(net.linearize(xz, BnMode.EVAL).asLinearMap(i)))[0];
                assertEquals(exact, s[i][k], SIGMA_REL * exact, "example " + i + " norm " + norms[k]);
            }
        }
    }

    @Test
    void sigmaMaxCurve_startedFromTheTopSingularVector_convergesAtOnceToSigma1() {
        Sequential cnn = Cnn7.create(1.0 / 16, 1, 10, 8, K);
        Tensor x = random(new Shape(2, 1, 32, 32), 9, 1);
        Svd.Result[] svds = Spectra.svds(cnn, Cnn7.FEATURES, x);
        Tensor d = Directions.randomUnit(x.shape, 3, 0);
        // two iterations only: from v_1 the power method needs no more
        PowerMethod.Options two = PowerMethod.Options.defaults().withMaxIterations(2);
        double[][] s = Linearity.sigmaMaxCurve(cnn, Cnn7.FEATURES, x, d, new double[] {0}, two,
                Spectra.topRightVectors(svds));
        for (int i = 0; i < 2; i++) {
            double exact = svds[i].sigmaMax();
            assertEquals(exact, s[i][0], SIGMA_REL * exact, "example " + i);
        }
    }

    @Test
    void sharedCurve_oneAtZero_decreasingOnAverage_seededPerExample_bothNoiseBalls() {
        Sequential cnn = Cnn7.create(1.0 / 16, 1, 10, 5, K);
        Tensor x = random(new Shape(3, 1, 32, 32), 7, 1);
        double[] eps = {0, 0.01, 0.1, 0.5};
        double[][] f = SharedActivations.curve(cnn, x, Double.POSITIVE_INFINITY, eps, 2, 4, 0);
        double[] m = columnMeans(f);
        for (int i = 0; i < 3; i++) {
            assertEquals(1.0, f[i][0], "z = 0 shares every unit");
        }
        for (int k = 1; k < eps.length; k++) {
            assertTrue(m[k] < m[k - 1], "mean shared fraction decreases with eps: " + m[k - 1] + " -> " + m[k]);
        }
        assertTrue(m[3] > 0.3, "half the box still shares a good part of the units: " + m[3]);
        // example 2 alone, with its global index: the same numbers
        double[][] alone = SharedActivations.curve(cnn, x.slice(2, 1), Double.POSITIVE_INFINITY, eps, 2, 4, 2);
        assertArrayEquals(f[2], alone[0]);
        // the l2 ball of the same radius holds far smaller perturbations than the box in 1024 dimensions
        double[][] l2 = SharedActivations.curve(cnn, x, 2, eps, 2, 4, 0);
        assertTrue(columnMeans(l2)[3] > m[3]);
        assertThrows(IllegalArgumentException.class, () -> SharedActivations.curve(cnn, x, 1, eps, 2, 4, 0));
        assertThrows(IllegalArgumentException.class, () -> SharedActivations.curve(cnn, x, 2, new double[] {-0.1}, 2, 4, 0));
    }

    @Test
    void randomInputs_inTheDomain_seeded_directionsUnit() {
        Tensor a = SharedActivations.randomInputs(new Shape(3, 1, 4, 4), Domain.SYMMETRIC, 5, 0);
        for (float v : a.data) {
            assertTrue(v >= -1 && v <= 1, "in [-1, 1]: " + v);
        }
        Tensor b = SharedActivations.randomInputs(new Shape(1, 1, 4, 4), Domain.SYMMETRIC, 5, 2);
        assertArrayEquals(a.slice(2, 1).data, b.data);
        Tensor d = Directions.randomUnit(new Shape(3, 1, 4, 4), 1, 0);
        for (double n : Directions.norms(d)) {
            assertEquals(1, n, 1e-6);
        }
        Tensor u = Directions.unitDifference(a, d);
        assertEquals(1, Directions.norms(u)[1], 1e-6);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Directions.unitDifference(a, a));
        assertTrue(e.getMessage().contains("example 0"), e.getMessage());
    }

    @Test
    void flushRoundOff_roundOffSingularValuesBecomeZero_inputUntouched() {
        double[] s = {2, 1e-3, 2e-6, 1e-6, 1e-20};
        assertArrayEquals(new double[] {2, 1e-3, 2e-6, 0, 0}, Spectra.flushRoundOff(s));
        assertEquals(1e-20, s[4]);
    }

    /** Per column, the mean over rows. */
    private static double[] columnMeans(double[][] t) {
        double[] m = new double[t[0].length];
        for (double[] row : t) {
            for (int k = 0; k < m.length; k++) {
                m[k] += row[k] / t.length;
            }
        }
        return m;
    }
}
