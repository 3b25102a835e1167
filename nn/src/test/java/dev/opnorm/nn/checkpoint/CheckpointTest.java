package dev.opnorm.nn.checkpoint;

import dev.opnorm.nn.layers.Layer;
import dev.opnorm.nn.layers.Param;
import dev.opnorm.nn.models.Cnn7;
import dev.opnorm.nn.layers.ParamGrads;
import dev.opnorm.nn.optim.Adam;
import dev.opnorm.nn.optim.Optimizer;
import dev.opnorm.nn.optim.Sgd;
import dev.opnorm.nn.util.Rng;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.*;

class CheckpointTest {
    @TempDir
    Path dir;

    /** A small conv + BN + linear model's tensors, PyTorch-named, with values from a seed. */
    private static final class Model {
        final Param convW = new Param("features.0.weight", new float[4 * 3 * 3 * 3], 4, 3, 3, 3);
        final Param convB = new Param("features.0.bias", new float[4], 4);
        final Param bnW = new Param("features.1.weight", new float[4], 4);
        final Param fcW = new Param("classifier.weight", new float[10 * 4], 10, 4);
        final Param runMean = new Param("features.1.running_mean", new float[4], 4);
        final Param runVar = new Param("features.1.running_var", new float[4], 4);

        Model(long seed) {
            Rng r = new Rng(seed);
            for (Param p : all()) {
                r.fillGaussian(p.value, 0, 1);
            }
            for (int i = 0; i < runVar.value.length; i++) {
                runVar.value[i] = Math.abs(runVar.value[i]); // a variance: load refuses negative ones
            }
        }

        List<Param> params() {
            return List.of(convW, convB, bnW, fcW);
        }

        List<Param> buffers() {
            return List.of(runMean, runVar);
        }

        List<Param> all() {
            return List.of(convW, convB, bnW, fcW, runMean, runVar);
        }
    }

    private static void grads(Model m, ParamGrads g, Rng rng) {
        g.zero();
        for (Param p : m.params()) {
            float[] a = g.of(p);
            for (int i = 0; i < a.length; i++) {
                a[i] = rng.nextGaussianFloat();
            }
        }
    }

    @Test
    void saveLoad_roundTripsEverything() throws IOException {
        Model m = new Model(1);
        Adam adam = new Adam(m.params(), Adam.Config.adamW(1e-3));
        ParamGrads g = new ParamGrads();
        grads(m, g, new Rng(2));
        adam.step(g);
        Rng shuffle = new Rng(3).fork("shuffle");
        shuffle.nextLong();
        Map<String, long[]> rngs = new LinkedHashMap<>();
        rngs.put("shuffle", shuffle.state());
        String config = "{\"model\":\"cnn7\",\"width\":0.25,\"optimizer\":{\"kind\":\"adamw\",\"lr\":0.001}}";
        Path f = dir.resolve("run/ckpt-epoch1.safetensors");
        Checkpoint.of(m.params(), m.buffers()).withOptimizer(adam.exportState()).withTraining(new TrainingState(1, 7, rngs))
                .withConfig(config).withMetadata("git_commit", "abc123").save(f);

        Checkpoint c = Checkpoint.load(f);
        assertEquals(config, c.config().orElseThrow());
        assertEquals(Map.of("git_commit", "abc123"), c.metadata());
        TrainingState t = c.training().orElseThrow();
        assertEquals(1, t.epoch());
        assertEquals(7, t.step());
        assertArrayEquals(shuffle.state(), t.rngState("shuffle"));
        assertEquals("adamw", c.optimizer().orElseThrow().kind());
        assertEquals(adam.exportState().counters(), c.optimizer().get().counters());
        assertArrayEquals(adam.exportState().buffer("features.0.weight.exp_avg"),
                c.optimizer().get().buffer("features.0.weight.exp_avg"));

        Model fresh = new Model(99);
        c.loadInto(fresh.all());
        for (int i = 0; i < m.all().size(); i++) {
            assertArrayEquals(m.all().get(i).value, fresh.all().get(i).value, m.all().get(i).name());
        }
    }

    @Test
    void save_writesThePyTorchNamesShapesAndTypes() throws IOException {
        Model m = new Model(1);
        Sgd sgd = new Sgd(m.params(), Sgd.Config.of(0.1).withMomentum(0.9));
        Adam adam = new Adam(m.params(), Adam.Config.adam(0.1));
        ParamGrads g = new ParamGrads();
        grads(m, g, new Rng(2));
        sgd.step(g);
        adam.step(g);
        Path f = dir.resolve("c.safetensors");
        Checkpoint.of(m.params(), m.buffers()).withOptimizer(adam.exportState())
                .withTraining(new TrainingState(2, 9, Map.of("init", new Rng(1).state()))).save(f);
        SafeTensors.Contents raw = SafeTensors.read(f);
        Map<String, TensorEntry> t = raw.tensors();
        assertArrayEquals(new long[] {4, 3, 3, 3}, t.get("features.0.weight").shape());
        assertArrayEquals(new long[] {10, 4}, t.get("classifier.weight").shape());
        assertEquals(DType.F32, t.get("features.1.running_var").dtype());
        assertArrayEquals(new long[] {4, 3, 3, 3}, t.get("optim.features.0.weight.exp_avg_sq").shape());
        assertEquals(DType.I64, t.get("optim.features.0.weight.step").dtype());
        assertArrayEquals(new long[0], t.get("optim.features.0.weight.step").shape());
        assertArrayEquals(new long[] {1}, t.get("optim.features.0.weight.step").toLongs());
        assertArrayEquals(new long[] {2}, t.get("train.epoch").toLongs());
        assertArrayEquals(new long[] {9}, t.get("train.step").toLongs());
        assertArrayEquals(new long[] {4}, t.get("rng.init").shape());
        assertEquals(Map.of("format", "opnorm-checkpoint", "format_version", "1", "optim.kind", "adam"), raw.metadata());
        assertEquals(6 + 4 * 3 + 2 + 1, t.size()); // model, 4 x (exp_avg, exp_avg_sq, step), epoch + step, one RNG
    }

    @Test
    void resumeThroughFile_isBitIdenticalToUninterruptedRun() throws IOException {
        // uninterrupted: 6 steps of SGD with Nesterov momentum on gradients drawn from a saved RNG
        Model a = new Model(1);
        Optimizer oa = new Sgd(a.params(), Sgd.Config.of(0.05).withMomentum(0.9).withNesterov(true));
        ParamGrads ga = new ParamGrads();
        Rng ra = new Rng(4);
        for (int s = 0; s < 6; s++) {
            grads(a, ga, ra);
            oa.step(ga);
        }
        // 3 steps, checkpoint, then a new process: fresh model and optimizer from the file, 3 more steps
        Model b = new Model(1);
        Optimizer ob = new Sgd(b.params(), Sgd.Config.of(0.05).withMomentum(0.9).withNesterov(true));
        ParamGrads gb = new ParamGrads();
        Rng rb = new Rng(4);
        for (int s = 0; s < 3; s++) {
            grads(b, gb, rb);
            ob.step(gb);
        }
        Path f = dir.resolve("mid.safetensors");
        Checkpoint.of(b.params(), b.buffers()).withOptimizer(ob.exportState())
                .withTraining(TrainingState.of(0, 3, Map.of("grads", rb))).save(f);

        Checkpoint ck = Checkpoint.load(f);
        Model c = new Model(1234);
        ck.loadInto(c.all());
        Optimizer oc = new Sgd(c.params(), Sgd.Config.of(0.05).withMomentum(0.9).withNesterov(true));
        oc.importState(ck.optimizer().orElseThrow());
        Rng rc = ck.training().orElseThrow().restoreRng("grads");
        assertThrows(IllegalArgumentException.class, () -> ck.training().get().restoreRng("nope"));
        ParamGrads gc = new ParamGrads();
        for (long s = ck.training().get().step(); s < 6; s++) {
            grads(c, gc, rc);
            oc.step(gc);
        }
        for (int i = 0; i < a.all().size(); i++) {
            float[] x = a.all().get(i).value, y = c.all().get(i).value;
            for (int j = 0; j < x.length; j++) {
                assertEquals(Float.floatToRawIntBits(x[j]), Float.floatToRawIntBits(y[j]), a.all().get(i).name() + "[" + j + "]");
            }
        }
    }

    @Test
    void loadInto_reportsEveryMismatchAtOnce_andChangesNothing() throws IOException {
        Model m = new Model(1);
        Path f = dir.resolve("m.safetensors");
        Checkpoint.of(m.params(), m.buffers()).save(f);
        Checkpoint c = Checkpoint.load(f);

        Param wrongShape = new Param("features.0.weight", new float[4 * 3 * 5 * 5], 4, 3, 5, 5);
        Param sameCountWrongDims = new Param("classifier.weight", new float[40], 4, 10);
        Param extra = new Param("features.2.weight", new float[3], 3);
        Model target = new Model(2);
        float[] before = target.convB.value.clone();
        List<Param> model = List.of(wrongShape, target.convB, sameCountWrongDims, extra, target.runMean);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> c.loadInto(model));
        String msg = e.getMessage();
        for (String frag : new String[] {"5 problem(s)",
            "wrong shape: features.0.weight is [4, 3, 3, 3] in the checkpoint, [4, 3, 5, 5] in the model",
            "wrong shape: classifier.weight is [10, 4] in the checkpoint, [4, 10] in the model",
            "missing: features.2.weight [3]", "unexpected: features.1.weight", "unexpected: features.1.running_var"}) {
            assertTrue(msg.contains(frag), "'" + frag + "' not in:\n" + msg);
        }
        assertArrayEquals(before, target.convB.value); // nothing written on failure

        // non-strict ignores missing and unexpected, but not shape errors
        assertThrows(IllegalArgumentException.class, () -> c.loadInto(model, false));
        c.loadInto(List.of(target.convB, extra), false);
        assertArrayEquals(m.convB.value, target.convB.value);
    }

    @Test
    void cnn7_saveLoad_restoresEveryParameterAndBuffer_andRejectsAnotherWidth() throws IOException {
        Layer a = Cnn7.create(0.125, 1, 10, 1);
        a.buffers().get(0).value[0] = 0.25f; // a trained running mean
        Path f = dir.resolve("cnn7.safetensors");
        Checkpoint.of(a).save(f);
        Map<String, TensorEntry> raw = SafeTensors.read(f).tensors();
        assertTrue(raw.containsKey("features.0.weight"), raw.keySet().toString());
        assertEquals(a.params().size() + a.buffers().size(), raw.size());

        Layer b = Cnn7.create(0.125, 1, 10, 2);
        Checkpoint.load(f).loadInto(b);
        for (int i = 0; i < a.params().size(); i++) {
            assertArrayEquals(a.params().get(i).value, b.params().get(i).value, a.params().get(i).name());
        }
        for (int i = 0; i < a.buffers().size(); i++) {
            assertArrayEquals(a.buffers().get(i).value, b.buffers().get(i).value, a.buffers().get(i).name());
        }
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> Checkpoint.load(f).loadInto(Cnn7.create(0.25, 1, 10, 1)));
        assertTrue(e.getMessage().contains("wrong shape: features.0.weight"), e.getMessage());
    }

    @Test
    void load_plainStateDictWithoutMetadata_asModelTensors() throws IOException {
        Model m = new Model(1);
        Map<String, TensorEntry> t = new LinkedHashMap<>();
        for (Param p : m.all()) {
            long[] dims = new long[p.dims().length];
            for (int i = 0; i < dims.length; i++) {
                dims[i] = p.dims()[i];
            }
            t.put(p.name(), TensorEntry.f32(p.value, dims));
        }
        t.put("features.1.num_batches_tracked", TensorEntry.i64Scalar(100)); // as in a PyTorch BN state dict
        Path f = dir.resolve("torch.safetensors");
        SafeTensors.write(f, t, null);
        Checkpoint c = Checkpoint.load(f);
        assertTrue(c.optimizer().isEmpty());
        assertTrue(c.training().isEmpty());
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> c.loadInto(m.all()));
        assertTrue(e.getMessage().contains("unexpected: features.1.num_batches_tracked I64[]"), e.getMessage());
        Model fresh = new Model(5);
        c.loadInto(fresh.all(), false);
        assertArrayEquals(m.fcW.value, fresh.fcW.value);
    }

    @Test
    void load_rejectsForeignFormatsAndBrokenState() throws IOException {
        Map<String, TensorEntry> t = Map.of("w", TensorEntry.f32(new float[] {1}, 1));
        Path other = dir.resolve("other");
        SafeTensors.write(other, t, Map.of("format", "pt"));
        IOException e1 = assertThrows(IOException.class, () -> Checkpoint.load(other));
        assertTrue(e1.getMessage().contains(other.toString()) && e1.getMessage().contains("format 'pt'"), e1.getMessage());

        Path version = dir.resolve("v2");
        SafeTensors.write(version, t, Map.of("format", "opnorm-checkpoint", "format_version", "2"));
        assertTrue(assertThrows(IOException.class, () -> Checkpoint.load(version)).getMessage().contains("format_version '2'"));

        Path badConfig = dir.resolve("cfg");
        SafeTensors.write(badConfig, t, Map.of("format", "opnorm-checkpoint", "format_version", "1", "config", "{lr: 1}"));
        assertTrue(assertThrows(IOException.class, () -> Checkpoint.load(badConfig)).getMessage().contains("config"));

        Path orphan = dir.resolve("orphan");
        SafeTensors.write(orphan, Map.of("optim.w.momentum_buffer", TensorEntry.f32(new float[] {1}, 1)), null);
        assertTrue(assertThrows(IOException.class, () -> Checkpoint.load(orphan)).getMessage().contains("optim.kind"));

        Path halfTraining = dir.resolve("half");
        SafeTensors.write(halfTraining, Map.of("train.epoch", TensorEntry.i64Scalar(1)), null);
        assertTrue(assertThrows(IOException.class, () -> Checkpoint.load(halfTraining)).getMessage().contains("train.step"));

        Path floatEpoch = dir.resolve("fe");
        SafeTensors.write(floatEpoch, Map.of("train.epoch", TensorEntry.f32(new float[] {1}), "train.step",
                TensorEntry.i64Scalar(1)), null);
        assertTrue(assertThrows(IOException.class, () -> Checkpoint.load(floatEpoch)).getMessage().contains("'train.epoch'"));
    }

    @Test
    void builders_rejectInvalidInput() {
        Model m = new Model(1);
        Param reserved = new Param("optim.x", new float[1], 1);
        assertThrows(IllegalArgumentException.class, () -> Checkpoint.of(List.of(reserved)));
        assertThrows(IllegalArgumentException.class, () -> Checkpoint.of(List.of(m.convB, m.convB.renamed("features.0.bias"))));
        Checkpoint c = Checkpoint.of(m.params());
        assertThrows(IllegalArgumentException.class, () -> c.withConfig("{\"a\":}"));
        assertThrows(IllegalArgumentException.class, () -> c.withMetadata("format", "x"));
        Sgd other = new Sgd(List.of(new Param("elsewhere.w", new float[2], 2)), Sgd.Config.of(0.1).withMomentum(0.5));
        ParamGrads g = new ParamGrads();
        g.of(other.params().get(0))[0] = 1;
        other.step(g);
        assertThrows(IllegalArgumentException.class, () -> c.withOptimizer(other.exportState()));
    }

    /** A NaN / Inf anywhere in the weights, or a negative BatchNorm variance, is an error naming file and tensor. */
    @Test
    void load_refusesNonFiniteWeightsAndNegativeVariances_namingFileAndTensor() throws IOException {
        String[][] cases = {{"classifier.weight", "NaN"}, {"features.0.bias", "Infinity"},
                {"features.0.weight", "-Infinity"}, {"features.1.running_var", "-0.5"}};
        for (String[] c : cases) {
            Model m = new Model(3);
            Param target = m.all().stream().filter(p -> p.name().equals(c[0])).findFirst().orElseThrow();
            target.value[2] = Float.parseFloat(c[1]);
            Path f = dir.resolve("bad-" + c[0] + ".safetensors");
            Checkpoint.of(m.params(), m.buffers()).save(f);
            IOException e = assertThrows(IOException.class, () -> Checkpoint.load(f), c[0]);
            assertTrue(e.getMessage().startsWith(f.toString()) && e.getMessage().contains("'" + c[0] + "'")
                    && e.getMessage().contains("index 2"), e.getMessage());

            // a checkpoint built in memory is checked when loaded into a model, before anything is copied
            Model into = new Model(4);
            float before = into.fcW.value[0];
            IllegalArgumentException ie = assertThrows(IllegalArgumentException.class,
                    () -> Checkpoint.of(m.params(), m.buffers()).loadInto(into.all()));
            assertTrue(ie.getMessage().contains(c[0]), ie.getMessage());
            assertEquals(before, into.fcW.value[0]);
        }
        Model ok = new Model(5);
        ok.runVar.value[0] = 0; // a zero variance is valid (a constant channel)
        Path f = dir.resolve("ok.safetensors");
        Checkpoint.of(ok.params(), ok.buffers()).save(f);
        Checkpoint.load(f).loadInto(new Model(6).all());
    }

    @Test
    void load_missingFileOrFolder_saysSo() throws IOException {
        Path missing = dir.resolve("missing.safetensors");
        IOException e = assertThrows(IOException.class, () -> Checkpoint.load(missing));
        assertEquals(missing + ": no such file", e.getMessage());
        IOException d = assertThrows(IOException.class, () -> Checkpoint.load(dir));
        assertTrue(d.getMessage().startsWith(dir.toString()) && d.getMessage().contains("is a folder"), d.getMessage());
    }
}
