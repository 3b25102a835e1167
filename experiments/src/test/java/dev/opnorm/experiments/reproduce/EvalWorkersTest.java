package dev.opnorm.experiments.reproduce;

import dev.opnorm.experiments.cli.ReproduceCommandTest;
import dev.opnorm.nn.Engine;
import dev.opnorm.nn.Shape;
import dev.opnorm.nn.Tensor;
import dev.opnorm.nn.data.Dataset;
import dev.opnorm.nn.data.Domain;
import dev.opnorm.nn.data.FashionMnist;
import dev.opnorm.nn.kernels.Kernels;
import dev.opnorm.nn.kernels.ScalarKernels;
import dev.opnorm.nn.kernels.VectorKernels;
import dev.opnorm.nn.layers.BatchNorm2d;
import dev.opnorm.nn.layers.Sequential;
import dev.opnorm.nn.models.Models;
import dev.opnorm.robust.attack.Pga;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.io.OutputStream;
import java.io.PrintStream;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicIntegerArray;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@link EvalWorkers}: batches spread over workers with single-threaded copies of the network give the bits of
 * the serial evaluation on the network itself; and {@link Reproduction#clean}'s remembered answers equal a fresh
 * evaluation.
 */
class EvalWorkersTest {
    @TempDir
    Path tmp;

    private static final String SPEC = "cnn7-w0.0625";

    /** A network whose BatchNorms hold non-default statistics (so a copy that drops them is caught). */
    private static Sequential net(Kernels k) {
        Sequential net = Models.create(SPEC, 1, 10, 3, k);
        Tensor x = new Tensor(new Shape(8, 1, 32, 32));
        java.util.SplittableRandom rnd = new java.util.SplittableRandom(5);
        for (int i = 0; i < x.data.length; i++) {
            x.data[i] = (float) (2 * rnd.nextDouble() - 1);
        }
        BatchNorm2d.calibrate(net, x, 3);
        return net;
    }

    private Dataset test(int images) throws IOException {
        Path data = ReproduceCommandTest.writeFashion(tmp.resolve("data"), 20, images);
        return FashionMnist.load(data, FashionMnist.Split.TEST, Domain.SYMMETRIC).padTo(32, 32);
    }

    @Test
    void workers_giveTheBitsOfTheSerialEvaluation_forwardsAndAttacks() throws IOException {
        Kernels k = new VectorKernels(2);
        Engine.setKernels(k);
        Sequential net = net(k);
        EvalWorkers w = EvalWorkers.of(k, 2, kk -> Models.create(SPEC, 1, 10, 99, kk));
        assertEquals(2, w.workers());
        Dataset d = test(170); // 4 batches of 50, the last one partial

        // logits of every batch, bit for bit
        int batches = 4;
        float[][] serial = new float[batches][], spread = new float[batches][];
        for (int b = 0; b < batches; b++) {
            int from = b * 50;
            serial[b] = net.forward(d.images().slice(from, Math.min(50, d.size() - from))).data;
        }
        w.run(net, batches, (copy, b) -> {
            assertTrue(copy != net, "a worker computes on its own copy");
            int from = b * 50;
            spread[b] = copy.forward(d.images().slice(from, Math.min(50, d.size() - from))).data;
        });
        for (int b = 0; b < batches; b++) {
            assertArrayEquals(serial[b], spread[b], "batch " + b);
        }

        // the evaluation's entry points: clean correctness and PGA robustness per image
        assertArrayEquals(Reproduction.correct(net, d), Reproduction.correct(w, net, d));
        Pga pga = Pga.l2(0.8).iterations(3).seed(5).domain(Domain.SYMMETRIC);
        boolean[] all = new boolean[d.size()];
        Arrays.fill(all, true);
        boolean[] robustSerial = Reproduction.robust(net, d, pga, all);
        assertArrayEquals(robustSerial, Reproduction.robust(w, net, d, pga, all));
        // a subset of the images: the batches are taken from the alive images, with their own start indices
        boolean[] some = new boolean[d.size()];
        for (int i = 0; i < some.length; i += 3) {
            some[i] = true;
        }
        assertArrayEquals(Reproduction.robust(net, d, pga, some), Reproduction.robust(w, net, d, pga, some));

        // the adversarial points themselves, batch by batch
        float[][] advSerial = new float[batches][], advSpread = new float[batches][];
        for (int b = 0; b < batches; b++) {
            Dataset s = d.slice(b * 50, Math.min(50, d.size() - b * 50));
            advSerial[b] = pga.attack(net, s.images(), s.labels(), b * 50).adversarial().data;
        }
        w.run(net, batches, (copy, b) -> {
            Dataset s = d.slice(b * 50, Math.min(50, d.size() - b * 50));
            advSpread[b] = pga.attack(copy, s.images(), s.labels(), b * 50).adversarial().data;
        });
        for (int b = 0; b < batches; b++) {
            assertArrayEquals(advSerial[b], advSpread[b], "adversarial points of batch " + b);
            float[] x = d.images().slice(b * 50, advSerial[b].length / d.images().shape.perExample()).data;
            assertFalse(Arrays.equals(x, advSerial[b]), "the attack moves the points of batch " + b);
        }
    }

    @Test
    void run_everyBatchExactlyOnce_failuresRethrown_otherKernelsSerial() {
        Kernels k = new VectorKernels(2);
        Sequential net = Models.create(SPEC, 1, 10, 3, k);
        EvalWorkers w = EvalWorkers.of(k, 2, kk -> Models.create(SPEC, 1, 10, 3, kk));
        AtomicIntegerArray seen = new AtomicIntegerArray(37);
        w.run(net, 37, (copy, b) -> seen.incrementAndGet(b));
        for (int b = 0; b < 37; b++) {
            assertEquals(1, seen.get(b), "batch " + b);
        }
        IllegalStateException e = assertThrows(IllegalStateException.class, () -> w.run(net, 9, (copy, b) -> {
            if (b == 6) {
                throw new IllegalStateException("batch six failed");
            }
        }));
        assertEquals("batch six failed", e.getMessage());

        // one thread, or kernels other than the vector ones: the given network, every batch on the caller
        for (EvalWorkers serial : new EvalWorkers[]{EvalWorkers.of(k, 1, null),
                EvalWorkers.of(new ScalarKernels(), 2, null)}) {
            assertSame(EvalWorkers.serial(), serial);
            Thread caller = Thread.currentThread();
            serial.run(net, 3, (copy, b) -> {
                assertSame(net, copy);
                assertSame(caller, Thread.currentThread());
            });
        }
        assertThrows(IllegalArgumentException.class, () -> EvalWorkers.of(k, 2, null));
    }

    /** A smoke-profile reproduction on 60 written training images and {@code test} test images, 2 threads. */
    private Reproduction smoke(int test, String out) throws IOException {
        Path data = ReproduceCommandTest.writeFashion(tmp.resolve("data"), 60, test);
        Kernels k = new VectorKernels(2);
        Engine.setKernels(k);
        return new Reproduction(Profile.SMOKE, tmp.resolve(out), data, 0, k, 2,
                new PrintStream(OutputStream.nullOutputStream()));
    }

    @Test
    void clean_remembersPerWeightsAndSplit_equalToAFreshEvaluation() throws IOException {
        Reproduction r = smoke(130, "out");
        r.stopAfter("data").run();
        Sequential a = r.newModel(1), b = r.newModel(2);
        Dataset curve = r.curveSet();
        boolean[] first = r.clean(a, curve);
        assertArrayEquals(Reproduction.correct(a, curve), first);
        first[0] = !first[0]; // a caller's change does not reach the remembered answer
        assertArrayEquals(Reproduction.correct(a, curve), r.clean(a, curve));
        assertArrayEquals(Reproduction.correct(a, curve), r.clean(r.newModel(1), curve), "same weights, new object");
        assertArrayEquals(Reproduction.correct(b, curve), r.clean(b, curve));
        assertArrayEquals(Reproduction.correct(a, r.tableSet()), r.clean(a, r.tableSet()));

        // the key follows the weights and the BatchNorm statistics
        String before = Reproduction.fingerprint(a);
        assertEquals(before, Reproduction.fingerprint(r.newModel(1)));
        assertNotEquals(before, Reproduction.fingerprint(b));
        a.params().get(0).value[0] += 1e-3f;
        assertNotEquals(before, Reproduction.fingerprint(a));
        Sequential c = r.newModel(1);
        c.buffers().get(0).value[0] += 1;
        assertNotEquals(before, Reproduction.fingerprint(c));
    }

    @Test
    void straightRun_table2ReusesTheTrainingPhasesAnswers_andStoresTheBitsOfAFreshEvaluation() throws IOException {
        Reproduction r = smoke(30, "straight");
        r.stopAfter("fig7").run();
        int before = r.cleanPasses();
        r.stopAfter("table2").run();
        // every trained network's table images were evaluated after its training: only the random one is new
        assertEquals(1, r.cleanPasses() - before);
        Map<String, String> v = r.store().values("table2");
        List<String> nets = new java.util.ArrayList<>(Reproduction.METHODS);
        for (double t : Profile.SMOKE.interpolation()) {
            nets.add(Reproduction.interpolationName(t));
        }
        nets.add(Reproduction.RANDOM);
        for (String net : nets) {
            assertEquals(Reproduction.bits(Reproduction.correct(r.model(net, 0), r.tableSet())), v.get("correct_" + net),
                    net);
        }
    }
}
