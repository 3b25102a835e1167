package dev.opnorm.robust.attack;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.opnorm.nn.Shape;
import dev.opnorm.nn.Tensor;
import dev.opnorm.nn.data.Dataset;
import dev.opnorm.nn.data.Domain;
import dev.opnorm.nn.layers.PlacedModel;
import dev.opnorm.nn.layers.Sequential;

import org.junit.jupiter.api.Test;

/**
 * The PGA through the {@link PgaOps} seam, on a host backend that counts what crosses it: what a device
 * backend transfers (each restart's start offsets up, nothing per iteration, the statistics down once),
 * that every buffer goes back, and that {@link Pga#run} on it is the host attack bit for bit.
 */
class PgaOpsContractTest {
    /** The host KernelPgaOps (on a host placed model's pool) with counters on the calls a device backend pays a transfer for. */
    static final class CountingOps implements PgaOps<float[], int[], float[]> {
        final PgaOps<float[], int[], float[]> host = PgaBackend.placed(PlacedModel.host(AttackFixtures.mlp(0))).ops();
        int uploads, labelUploads, downloads, views, reads, live, steps;

        @Override public float[] allocate(Shape shape) { live++; return host.allocate(shape); }
        @Override public void release(float[] v) { if (v != null) live--; }
        @Override public int[] labels(int n) { live++; return host.labels(n); }
        @Override public void releaseLabels(int[] l) { if (l != null) live--; }
        @Override public float[] stats(int n) { live++; return host.stats(n); }
        @Override public void releaseStats(float[] s) { if (s != null) live--; }
        @Override public void upload(float[] src, float[] dst, int len) { uploads++; host.upload(src, dst, len); }
        @Override public void uploadLabels(int[] l, int[] dst, int n) { labelUploads++; host.uploadLabels(l, dst, n); }
        @Override public float[] download(float[] src, int len) { downloads++; return host.download(src, len); }
        @Override public Tensor view(float[] v, Shape s) { views++; return host.view(v, s); }
        @Override public void copy(float[] dst, float[] src, int len) { host.copy(dst, src, len); }

        @Override
        public void initStats(float[] s, int[] ref, float[] clean, boolean usePredicted, int n, int k) {
            host.initStats(s, ref, clean, usePredicted, n, k);
        }

        @Override
        public void lossGrad(float[] gy, float[] z, float[] clean, int[] ref, AdversarialLoss loss, boolean targeted,
                             int n, int k) {
            host.lossGrad(gy, z, clean, ref, loss, targeted, n, k);
        }

        @Override public void start(float[] xk, float[] x, float[] off, Domain d, int len) { host.start(xk, x, off, d, len); }

        @Override
        public void step(float[] xk, float[] g, float[] x, double p, double alpha, double eps, Domain d, int n, int per) {
            steps++;
            host.step(xk, g, x, p, alpha, eps, d, n, per);
        }

        @Override
        public void keepBest(float[] s, float[] z, float[] clean, int[] ref, AdversarialLoss loss,
                             boolean targeted, int restart, int n, int k) {
            host.keepBest(s, z, clean, ref, loss, targeted, restart, n, k);
        }

        @Override
        public void copyRowsWhereBetter(float[] dst, float[] src, float[] s, int n, int len) {
            host.copyRowsWhereBetter(dst, src, s, n, len);
        }

        @Override public void norms(float[] s, float[] a, float[] b, double p, int n, int per) { host.norms(s, a, b, p, n, per); }

        @Override
        public Pga.Outcome read(float[] s, int n) {
            reads++;
            return host.read(s, n);
        }
    }

    private static PgaBackend.Engine<float[], int[], float[]> counting(Sequential net, CountingOps ops) {
        return new PgaBackend.Engine<>(PgaBackend.placed(PlacedModel.host(net)).network(), ops);
    }

    @Test
    void run_movesOnlyTheStartsAndOneRead_releasesEverything_andIsTheHostAttack() {
        Sequential net = AttackFixtures.mlp(41);
        Tensor x = AttackFixtures.inputs(4, 42);
        int[] labels = AttackFixtures.labels(4, 43);
        for (int iterations : new int[]{1, 5}) {
            Pga pga = Pga.l2(0.8).iterations(iterations).restarts(3).seed(44);
            CountingOps ops = new CountingOps();
            float[] xAdv = new float[x.data.length], logits = new float[4 * 10];
            Pga.Outcome o = pga.run(counting(net, ops), x.data.clone(), x.shape, labels.clone(), Pga.Target.LABELS,
                    6, xAdv, logits);
            assertEquals(3, ops.uploads, "one start upload per restart, nothing per iteration");
            assertEquals(0, ops.labelUploads + ops.downloads + ops.views, "nothing else crosses");
            assertEquals(1, ops.reads, "the statistics once");
            assertEquals(3 * iterations, ops.steps, "one step per iteration and restart");
            assertEquals(0, ops.live, "every buffer given back");
            AttackResult host = pga.attack(net, x, labels, 6);
            assertArrayEquals(host.adversarial().data, xAdv, "x* bit for bit");
            assertArrayEquals(host.logits(), logits, "f(x*) bit for bit");
            assertArrayEquals(host.loss(), o.loss(), "loss bit for bit");
            assertArrayEquals(host.perturbationNorm(), o.perturbationNorm(), "norm bit for bit");
            assertArrayEquals(host.restart(), o.restart());
            assertArrayEquals(host.predictions(), o.predictions());
            assertArrayEquals(host.success(), o.success());
        }
    }

    @Test
    void startAtX_uploadsNothing_andPredictedOverwritesTheLabelBuffer() {
        Sequential net = AttackFixtures.mlp(45);
        Tensor x = AttackFixtures.inputs(3, 46);
        CountingOps ops = new CountingOps();
        int[] ref = {-1, -1, -1};
        Pga.Outcome o = Pga.linf(0.1).iterations(2).randomStart(false)
                .run(counting(net, ops), x.data.clone(), x.shape, ref, Pga.Target.PREDICTED, 0, null, null);
        assertEquals(0, ops.uploads, "a start at x uploads nothing");
        assertEquals(1, ops.reads);
        assertEquals(0, ops.live, "every buffer given back");
        int[] clean = Pga.argmax(net.forward(x).data, 3, 10);
        assertArrayEquals(clean, ref, "the label buffer holds the clean predictions");
        assertArrayEquals(clean, o.labels());
        assertArrayEquals(clean, o.cleanPredictions());
    }

    @Test
    void hostEntryPoints_uploadXAndLabels_onTheGivenBackend() {
        Sequential net = AttackFixtures.mlp(47);
        Tensor x = AttackFixtures.inputs(2, 48);
        int[] labels = {1, 2};
        CountingOps ops = new CountingOps();
        PgaBackend counted = m -> counting((Sequential) m, ops);
        Pga pga = Pga.l1(1.0).iterations(2).restarts(2).seed(3);
        AttackResult r = pga.on(counted).attack(net, x, labels, 0);
        assertEquals(1 + 2, ops.uploads, "x and two starts");
        assertEquals(1, ops.labelUploads);
        assertEquals(2, ops.downloads, "x* and f(x*)");
        assertEquals(0, ops.live, "every buffer given back");
        assertEquals(PgaBitsTest.digest(pga.attack(net, x, labels, 0)), PgaBitsTest.digest(r));
        ops.uploads = ops.labelUploads = ops.downloads = 0;
        pga.outcome(counted, net, x, null, Pga.Target.PREDICTED, 0);
        assertEquals(1 + 2, ops.uploads, "x and two starts");
        assertEquals(0, ops.labelUploads + ops.downloads, "no labels for PREDICTED, no x* for an outcome");
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> pga.loss(AdversarialLoss.logitLq(2)).run(counting(net, ops), x.data, x.shape, labels.clone(),
                        Pga.Target.TARGETS, 0, null, null));
        assertTrue(e.getMessage().contains("targeted attack needs the cross-entropy"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> pga.run(counting(net, ops), x.data, x.shape,
                labels.clone(), Pga.Target.LABELS, 0, x.data, null));
        assertTrue(e.getMessage().contains("xAdv"), e.getMessage());
    }

    @Test
    void robustAccuracyOnABackend_countsOnlyOutcomes_andEqualsTheAttackCount() {
        Sequential net = AttackFixtures.mlp(49);
        Tensor x = AttackFixtures.inputs(7, 50);
        int[] labels = Pga.argmax(net.forward(x).data, 7, 10);
        labels[1] = (labels[1] + 1) % 10; // one clean mistake
        Dataset data = new Dataset("tiny", x, labels, 10, Domain.SYMMETRIC);
        Pga pga = Pga.l2(0.6).iterations(3).restarts(2).seed(5);
        CountingOps ops = new CountingOps();
        RobustAccuracy counted = RobustAccuracy.of(net, data, pga, m -> counting((Sequential) m, ops), 3);
        assertEquals(RobustAccuracy.of(net, data, pga, 4), counted);
        assertEquals(6, counted.cleanCorrect());
        assertEquals(3 * (1 + 2), ops.uploads, "three batches: x and two starts each");
        assertEquals(3, ops.labelUploads);
        assertEquals(3, ops.reads, "one read per batch");
        assertEquals(0, ops.downloads, "x* stays on the backend");
    }
}
