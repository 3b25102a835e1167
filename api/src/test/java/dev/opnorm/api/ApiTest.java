package dev.opnorm.api;

import dev.opnorm.linalg.OperatorNorm;
import dev.opnorm.linalg.StartVectors;
import dev.opnorm.nn.Shape;
import dev.opnorm.nn.Tensor;
import dev.opnorm.nn.layers.BnMode;
import dev.opnorm.nn.layers.ReLU;
import dev.opnorm.nn.layers.Sequential;
import dev.opnorm.robust.attack.AttackResult;
import dev.opnorm.robust.attack.Pga;
import org.ejml.data.DMatrixRMaj;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Path;
import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class ApiTest {
    @TempDir
    Path tmp;

    static Tensor inputs(int n, long seed) {
        SplittableRandom r = new SplittableRandom(seed);
        Tensor x = new Tensor(new Shape(n, 1, 32, 32));
        for (int i = 0; i < x.data.length; i++) {
            x.data[i] = (float) (2 * r.nextDouble() - 1);
        }
        return x;
    }

    @Test
    void operatorNorms_spectralNorm_matchesLargestSingularValueOfDenseJacobian() {
        Sequential model = Models.cnn7(0.0625);
        Tensor x = inputs(3, 1);
        NormResults r = OperatorNorms.of(model, x).iterations(500).tolerance(1e-9).compute();
        assertEquals(3, r.size());
        assertTrue(r.exact());
        for (int i = 0; i < 3; i++) {
            double sigma = Jacobians.of(model, x, i).spectrum().sigmaMax();
            assertEquals(sigma, r.value(i), ApiTolerances.POWER_VS_SVD * sigma, "example " + i);
        }
    }

    @Test
    void operatorNorms_twoInf_boundedByLargestRowNorm() {
        Sequential model = Models.cnn7(0.0625);
        Tensor x = inputs(2, 2);
        NormResults r = OperatorNorms.of(model, x).p(2).q(OperatorNorms.INF).restarts(3).compute();
        for (int i = 0; i < 2; i++) {
            DMatrixRMaj j = Jacobians.of(model, x, i).matrix();
            double maxRow = 0; // ||J||_{2,inf} = max_k ||row_k||_2 (Table 1)
            for (int k = 0; k < j.numRows; k++) {
                double s = 0;
                for (int c = 0; c < j.numCols; c++) {
                    s += j.get(k, c) * j.get(k, c);
                }
                maxRow = Math.max(maxRow, Math.sqrt(s));
            }
            assertTrue(r.value(i) > 0.5 * maxRow && r.value(i) <= maxRow * (1 + ApiTolerances.POWER_VS_SVD),
                    r.value(i) + " vs max row norm " + maxRow);
        }
        assertTrue(r.toString().startsWith("(2,inf) norms of the logits Jacobian, BN EVAL, 2 examples"), r.toString());
    }

    @Test
    void operatorNorms_batchedExample_bitIdenticalToSingleExampleRun() {
        Sequential model = Models.cnn7(0.0625);
        Tensor x = inputs(3, 3);
        NormResults batch = OperatorNorms.of(model, x).p(OperatorNorms.INF).q(2).iterations(20).seed(5).compute();
        NormResults one = OperatorNorms.of(model, x.slice(2, 1)).p(OperatorNorms.INF).q(2).iterations(20)
                .seed(StartVectors.exampleSeed(5, 2)).compute();
        assertEquals(batch.value(2), one.value(0));
        assertArrayEquals(batch.maximizer(2), one.maximizer(0));
    }

    @Test
    void operatorNorms_trainMode_usesSameStartVectorsAsEvalAndDiffersFromEval() {
        Sequential model = Models.cnn7(0.0625);
        Tensor x = inputs(4, 4);
        OperatorNorms base = OperatorNorms.of(model, x).iterations(30);
        NormResults eval = base.compute();
        NormResults train = base.bnMode(BnMode.TRAIN).compute();
        assertEquals(BnMode.TRAIN, train.bnMode());
        assertEquals(4, train.size());
        for (int i = 0; i < 4; i++) {
            assertTrue(train.value(i) > 0 && Double.isFinite(train.value(i)));
            // batch statistics differ from the initial running statistics (mean 0, var 1)
            assertNotEquals(eval.value(i), train.value(i));
        }
    }

    @Test
    void operatorNorms_penultimateTarget_equalsNamedFeaturesLayer() {
        Sequential model = Models.cnn7(0.0625);
        Tensor x = inputs(2, 5);
        NormResults pen = OperatorNorms.of(model, x).target(Target.penultimate()).iterations(10).compute();
        NormResults named = OperatorNorms.of(model, x).target(Target.layer("features")).iterations(10).compute();
        NormResults logits = OperatorNorms.of(model, x).iterations(10).compute();
        assertArrayEquals(named.values(), pen.values());
        assertEquals(1024, pen.maximizer(0).length); // inputs 1x32x32
        assertNotEquals(logits.value(0), pen.value(0));
        assertEquals(64, Jacobians.of(model, x, 0, Target.penultimate(), BnMode.EVAL).rows());
    }

    @Test
    void jacobian_fromReplicatedBatch_matchesColumnsOfOriginalBatchMap() {
        Sequential model = Models.cnn7(0.0625);
        Tensor x = inputs(3, 6);
        Jacobian j = Jacobians.of(model, x, 1);
        assertEquals(10, j.rows());
        assertEquals(1024, j.cols());
        DMatrixRMaj ref = dev.opnorm.linalg.Jacobians.byColumns(model.linearize(x, BnMode.EVAL).asLinearMap(1));
        double scale = 0;
        for (double v : ref.data) {
            scale = Math.max(scale, Math.abs(v));
        }
        for (int k = 0; k < ref.data.length; k++) {
            assertEquals(ref.data[k], j.matrix().data[k], ApiTolerances.JACOBIAN_ENTRY * scale, "entry " + k);
        }
        Spectrum s = j.spectrum();
        assertEquals(10, s.size());
        assertArrayEquals(s.singularValues(), j.svd().singularValues(), 1e-12 * s.sigmaMax());
        assertEquals(1024, j.svd().v().numRows);
        assertTrue(s.stableRank() >= 1 && s.stableRank() <= 10);
        assertEquals(s.frobeniusNorm(), org.ejml.dense.row.NormOps_DDRM.normF(ref), 1e-4 * s.frobeniusNorm());
    }

    @Test
    void jacobian_trainMode_isDiagonalBlockOfCoupledBatch() {
        Sequential model = Models.cnn7(0.0625);
        Tensor x = inputs(3, 7);
        Jacobian j = Jacobians.of(model, x, 2, Target.logits(), BnMode.TRAIN);
        DMatrixRMaj ref = dev.opnorm.linalg.Jacobians.byRows(model.linearize(x, BnMode.TRAIN).asLinearMap(2));
        assertArrayEquals(ref.data, j.matrix().data, 0);
        assertEquals(BnMode.TRAIN, j.bnMode());
    }

    @Test
    void checkpoints_roundTrip_restoresOutputsBitForBit() throws IOException {
        Sequential trained = Models.cnn7(0.0625, 1, 10, 42);
        Path file = tmp.resolve("model.safetensors");
        Checkpoints.save(trained, file);
        Sequential loaded = Checkpoints.load(file, "cnn7-w0.0625", 1, 10);
        Tensor x = inputs(2, 8);
        assertArrayEquals(trained.forward(x).data, loaded.forward(x).data);
        assertTrue(Checkpoints.load(file).modelTensors().containsKey("classifier.weight"));
        Sequential wider = Models.cnn7(0.125);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Checkpoints.loadInto(file, wider));
        assertTrue(e.getMessage().contains("wrong shape"), e.getMessage());
    }

    @Test
    void pga_fluentApi_isReachableWithFacadeModels() {
        Sequential model = Models.cnn7(0.0625);
        Tensor x = inputs(2, 9);
        AttackResult r = Pga.l2(0.5).iterations(3).attackPredicted(model, x);
        assertEquals(2, r.size());
        for (double n : r.perturbationNorm()) {
            assertTrue(n <= 0.5 + 1e-4, "perturbation " + n);
        }
    }

    @Test
    void badArguments_throwIllegalArgumentNamingTheProblem() {
        Sequential model = Models.cnn7(0.0625);
        Tensor x = inputs(2, 10);
        assertTrue(assertThrows(IllegalArgumentException.class, () -> OperatorNorms.of(model, x).p(0.5))
                .getMessage().contains("p"));
        assertThrows(IllegalArgumentException.class, () -> OperatorNorms.of(model, x).iterations(0));
        assertTrue(assertThrows(IllegalArgumentException.class, () -> Jacobians.of(model, x, 2))
                .getMessage().contains("outside the batch"));
        assertThrows(IllegalArgumentException.class,
                () -> OperatorNorms.of(new ReLU("relu"), x).target(Target.penultimate()).compute());
        assertThrows(IllegalArgumentException.class,
                () -> OperatorNorms.of(model, x).target(Target.layer("nope")).compute());
        assertThrows(IllegalArgumentException.class, () -> OperatorNorms.of(model, new Tensor(new Shape(1, 3, 32, 32))).compute());
        assertThrows(IllegalArgumentException.class, () -> new Spectrum(new double[]{1, 2}));
        assertThrows(IllegalArgumentException.class, () -> Models.wideResNet(11, 1));
        assertEquals(OperatorNorm.Options.defaults().alpha(), OperatorNorms.of(model, x).compute().options().alpha());
    }
}
