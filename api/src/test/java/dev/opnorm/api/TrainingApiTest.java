package dev.opnorm.api;

import dev.opnorm.nn.Shape;
import dev.opnorm.nn.Tensor;
import dev.opnorm.nn.data.Dataset;
import dev.opnorm.nn.data.Domain;
import dev.opnorm.nn.layers.Param;
import dev.opnorm.nn.layers.Sequential;
import dev.opnorm.robust.attack.Pga;
import dev.opnorm.robust.train.Trainer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class TrainingApiTest {
    @TempDir
    Path tmp;

    static Dataset data(int n) {
        Tensor x = ApiTest.inputs(n, 21);
        int[] labels = new int[n];
        for (int i = 0; i < n; i++) {
            labels[i] = i % 10;
        }
        return new Dataset("random", x, labels, 10, Domain.SYMMETRIC);
    }

    static List<float[]> weights(Sequential m) {
        List<float[]> w = new ArrayList<>();
        for (Param p : m.params()) {
            w.add(p.value.clone());
        }
        for (Param p : m.buffers()) {
            w.add(p.value.clone());
        }
        return w;
    }

    @Test
    void training_ddSnr_changesWeights_sameSeedSameWeights_checkpointLoads() throws IOException {
        Dataset train = data(8);
        Sequential a = Models.cnn7(0.0625), b = Models.cnn7(0.0625);
        List<float[]> before = weights(a);
        Path file = tmp.resolve("a.safetensors");
        Training t = Training.of(a).method(Methods.ddSnr(0.01, 0.5)).data(train, null).batchSize(4).seed(3)
                .checkpointTo(file);
        Trainer.Result r = t.fit();
        assertEquals(2, r.steps());
        assertEquals(1, r.epochs().size());
        assertTrue(Files.exists(file));
        Training.of(b).method(Methods.ddSnr(0.01, 0.5)).data(train, null).batchSize(4).seed(3).fit();
        List<float[]> wa = weights(a), wb = weights(b);
        boolean changed = false;
        for (int i = 0; i < wa.size(); i++) {
            assertArrayEquals(wa.get(i), wb.get(i), "tensor " + i);
            changed |= !java.util.Arrays.equals(wa.get(i), before.get(i));
        }
        assertTrue(changed, "training must change the weights");
        Sequential loaded = Checkpoints.loadInto(file, Models.cnn7(0.0625));
        assertArrayEquals(a.forward(train.images()).data, loaded.forward(train.images()).data);
    }

    @Test
    void methods_buildThePapersObjectives() {
        assertEquals("standard", Methods.standard().name());
        assertEquals("at", Methods.adversarial(Pga.l2(0.5)).name());
        assertEquals("dd-snr-sos", Methods.ddSnr(0.02).name());
        assertEquals("dd-onr", Methods.ddOnr(OperatorNorms.INF, 2, 0.1, 0.01).name());
        assertFalse(Methods.globalSnr(Models.cnn7(0.0625), 3e-4).name().isEmpty());
        assertFalse(Methods.inputGradient(0.1).name().isEmpty());
        assertThrows(IllegalArgumentException.class, () -> Methods.ddSnr(-1));
        assertThrows(IllegalArgumentException.class, () -> Methods.adversarial(null));
    }

    @Test
    void training_badSettings_throwNamingTheProblem() {
        Sequential m = Models.cnn7(0.0625);
        assertTrue(assertThrows(IllegalStateException.class, () -> Training.of(m).fit()).getMessage().contains("data"));
        assertThrows(IllegalArgumentException.class, () -> Training.of(m).batchSize(1));
        assertThrows(IllegalArgumentException.class, () -> Training.of(m).epochs(0));
        assertThrows(IllegalArgumentException.class, () -> Training.of(m).data(data(3), null).batchSize(4).fit());
        Dataset wrongShape = new Dataset("3ch", new Tensor(new Shape(4, 3, 32, 32)), new int[4], 10, Domain.SYMMETRIC);
        assertThrows(IllegalArgumentException.class, () -> Training.of(m).data(wrongShape, null).batchSize(2).fit());
    }
}
