package dev.opnorm.robust.attack;

import dev.opnorm.linalg.Norms;
import dev.opnorm.nn.Tensor;
import dev.opnorm.nn.data.Dataset;
import dev.opnorm.nn.data.Domain;
import dev.opnorm.nn.kernels.VectorKernels;
import dev.opnorm.nn.layers.BnMode;
import dev.opnorm.nn.layers.Layer;
import dev.opnorm.nn.layers.Linearization;
import dev.opnorm.nn.layers.Sequential;
import dev.opnorm.nn.models.Cnn7;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;

import static dev.opnorm.robust.attack.AttackFixtures.inputs;
import static dev.opnorm.robust.attack.AttackFixtures.labels;
import static dev.opnorm.robust.attack.AttackFixtures.mlp;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class PgaTest {
    private static final double INF = Double.POSITIVE_INFINITY;

    /** The attack radius per norm: comparable balls for 16-dimensional inputs in [-1, 1]. */
    private static double eps(double p) {
        return p == 1 ? 1.0 : p == 2 ? 0.5 : 0.15;
    }

    private static double[] cleanLoss(Layer net, Tensor x, int[] y) {
        float[] logits = net.forward(x).data;
        int classes = logits.length / y.length;
        double[] out = new double[y.length];
        for (int i = 0; i < y.length; i++) {
            out[i] = AdversarialLoss.crossEntropy().value(logits, logits, i * classes, classes, y[i]);
        }
        return out;
    }

    @ParameterizedTest
    @ValueSource(doubles = {1, 2, INF})
    void pga_everyIterateInBallAndDomain_forEveryPAndStep(double p) {
        Sequential net = mlp(1);
        Tensor x = inputs(6, 2);
        double eps = eps(p);
        for (double alpha : new double[] {Double.NaN, 3 * eps, INF}) {
            Pga pga = Pga.lp(p, eps).iterations(6).restarts(2).seed(4);
            if (!Double.isNaN(alpha)) {
                pga = pga.alpha(alpha);
            }
            int[] checked = {0};
            pga.onIterate((r, k, xk) -> {
                assertFeasible(x, xk, p, eps, "restart " + r + " iterate " + k + " alpha " + alpha);
                checked[0]++;
            }).attack(net, x, labels(6, 3));
            assertEquals(2 * 7, checked[0], "iterates seen");
        }
    }

    private static void assertFeasible(Tensor x, Tensor xk, double p, double eps, String what) {
        int per = x.shape.perExample();
        for (int i = 0; i < x.shape.n(); i++) {
            double[] d = new double[per];
            for (int j = 0; j < per; j++) {
                float v = xk.data[i * per + j];
                assertTrue(v >= -1f && v <= 1f, what + ": outside the domain: " + v);
                d[j] = (double) v - x.data[i * per + j];
            }
            double norm = Norms.lp(d, p);
            assertTrue(norm <= eps * (1 + AttackTolerances.BALL), what + ": ||x_k - x||_p = " + norm + " > eps " + eps);
        }
    }

    // From x itself every step is a steepest-ascent step, so every example's loss must go up. With a random
    // start a single run may end below the clean loss (the start itself can lower it, notably for l1, whose
    // one-hot steps move one coordinate at a time), so there only the batch mean is required to rise.
    @ParameterizedTest
    @ValueSource(doubles = {1, 2, INF})
    void pga_increasesCrossEntropy_overCleanLoss(double p) {
        Sequential net = mlp(5);
        Tensor x = inputs(8, 6);
        int[] y = labels(8, 7);
        double[] clean = cleanLoss(net, x, y);
        AttackResult fromX = Pga.lp(p, eps(p)).randomStart(false).attack(net, x, y);
        AttackResult random = Pga.lp(p, eps(p)).seed(1).attack(net, x, y);
        double meanClean = 0;
        for (int i = 0; i < 8; i++) {
            assertTrue(fromX.loss()[i] > clean[i], "example " + i + ": adversarial loss " + fromX.loss()[i]
                    + " <= clean loss " + clean[i]);
            meanClean += clean[i] / 8;
        }
        assertTrue(random.meanLoss() > meanClean, "random start: mean loss " + random.meanLoss() + " <= clean " + meanClean);
        assertEquals(BnMode.EVAL, fromX.bnMode());
        assertTrue(fromX.attack().contains("bn=EVAL"), fromX.attack());
        assertFalse(fromX.targeted());
    }

    @ParameterizedTest
    @ValueSource(doubles = {2, INF})
    void pga_targeted_movesTowardTarget(double p) {
        Sequential net = mlp(5);
        Tensor x = inputs(8, 6);
        int[] clean = Pga.argmax(net.forward(x).data, 8, 10);
        int[] t = new int[8];
        for (int i = 0; i < 8; i++) {
            t[i] = (clean[i] + 1 + i % 9) % 10; // never the clean prediction
        }
        double[] before = cleanLoss(net, x, t);
        AttackResult r = Pga.lp(p, 2 * eps(p)).iterations(20).seed(2).attackTargeted(net, x, t);
        assertTrue(r.targeted());
        for (int i = 0; i < 8; i++) {
            assertTrue(r.loss()[i] < before[i], "example " + i + ": target loss " + r.loss()[i] + " not below "
                    + before[i]);
            assertEquals(r.success()[i], r.predictions()[i] == t[i]);
        }
        assertTrue(r.successes() > 0, "no example reached its target at a doubled radius");
    }

    @Test
    void pga_restarts_neverWorseThanOneRun() {
        Sequential net = mlp(9);
        Tensor x = inputs(10, 10);
        int[] y = labels(10, 11);
        AttackResult one = Pga.l2(0.3).seed(3).attack(net, x, y);
        AttackResult four = Pga.l2(0.3).seed(3).restarts(4).attack(net, x, y);
        boolean someLater = false;
        for (int i = 0; i < 10; i++) {
            assertTrue(four.success()[i] || !one.success()[i], "example " + i + " lost its success");
            if (four.success()[i] == one.success()[i]) {
                assertTrue(four.loss()[i] >= one.loss()[i], "example " + i + ": " + four.loss()[i] + " < " + one.loss()[i]);
            }
            someLater |= four.restart()[i] > 0;
        }
        assertTrue(someLater, "no later restart ever won: the restarts do not explore");
    }

    @Test
    void pgaL1_steepestCoordinateOnTheBoundary_stepsOnTheNextOne() {
        var k = AttackFixtures.KERNELS;
        dev.opnorm.nn.layers.Linear lin = new dev.opnorm.nn.layers.Linear("1", 16, 2, false, k);
        Sequential net = new Sequential("lin", new dev.opnorm.nn.layers.Flatten("0", k), lin);
        // label 1: the CE gradient is -(1 - p_1) W_1, largest at pixel 0 (which sits at +1), next at pixel 3
        lin.weight().value[16] = -5f;
        lin.weight().value[16 + 3] = -1f;
        Tensor x = new Tensor(new dev.opnorm.nn.Shape(1, 1, 4, 4));
        x.data[0] = 1f;
        AttackResult r = Pga.l1(0.5).randomStart(false).attack(net, x, new int[] {1});
        assertEquals(1f, r.adversarial().data[0], 0f, "the saturated pixel stays");
        assertEquals(0.5f, r.adversarial().data[3], 1e-6f, "the whole budget goes to the next-steepest pixel");
    }

    @Test
    void pga_sameSeed_bitIdentical_otherSeed_differs() {
        Sequential net = mlp(1);
        Tensor x = inputs(5, 2);
        int[] y = labels(5, 3);
        Pga pga = Pga.linf(0.1).restarts(2).seed(42);
        AttackResult a = pga.attack(net, x, y), b = pga.attack(net, x, y), c = pga.seed(43).attack(net, x, y);
        assertArrayEquals(a.adversarial().data, b.adversarial().data);
        assertArrayEquals(a.loss(), b.loss());
        assertFalse(Arrays.equals(a.adversarial().data, c.adversarial().data));
    }

    @Test
    void pga_batchSplit_givesSameResultAsWholeBatch() {
        Sequential net = mlp(1);
        Tensor x = inputs(6, 2);
        int[] y = labels(6, 3);
        Pga pga = Pga.l1(0.8).seed(8);
        AttackResult whole = pga.attack(net, x, y);
        AttackResult tail = pga.attack(net, x.slice(2, 4), Arrays.copyOfRange(y, 2, 6), 2);
        assertArrayEquals(Arrays.copyOfRange(whole.adversarial().data, 2 * 16, 6 * 16), tail.adversarial().data);
    }

    @Test
    void pga_oneVsTwoThreads_bitIdentical_onTheCnn() {
        List<AttackResult> results = new java.util.ArrayList<>();
        Tensor x = new Tensor(new dev.opnorm.nn.Shape(3, 1, 32, 32));
        SplittableRandom r = new SplittableRandom(4);
        for (int i = 0; i < x.data.length; i++) {
            x.data[i] = (float) (2 * r.nextDouble() - 1);
        }
        for (int threads : new int[] {1, 2}) {
            Sequential net = Cnn7.create(1.0 / 16, 1, 10, 7, new VectorKernels(threads));
            results.add(Pga.l2(1.0).iterations(3).restarts(2).seed(5).attack(net, x, new int[] {1, 2, 3}));
        }
        assertArrayEquals(results.get(0).adversarial().data, results.get(1).adversarial().data);
        assertArrayEquals(results.get(0).logits(), results.get(1).logits());
        assertArrayEquals(results.get(0).loss(), results.get(1).loss());
    }

    @Test
    void fgm_linf_stepsBySignOfGradient() {
        Sequential net = mlp(2);
        Tensor x = inputs(4, 3);
        int[] y = labels(4, 4);
        double eps = 0.05;
        AttackResult r = Fgm.linf(eps).attack(net, x, y);
        // the gradient of CE at x, by hand: softmax - onehot through one VJP
        Linearization lin = net.linearize(x, BnMode.EVAL);
        float[] gy = new float[40], g = new float[64];
        for (int i = 0; i < 4; i++) {
            AdversarialLoss.crossEntropy().gradient(lin.output().data, null, i * 10, 10, y[i], gy);
        }
        lin.vjp(gy, g);
        for (int j = 0; j < 64; j++) {
            float expect = Math.max(-1f, Math.min(1f, (float) (x.data[j] + eps * Math.signum(g[j]))));
            // x + (offset rounded to float): one rounding more than the expectation, so allow an ulp of 1
            assertEquals(expect, r.adversarial().data[j], Math.ulp(1f), "pixel " + j);
        }
        assertTrue(r.attack().startsWith("FGM"), r.attack());
    }

    @Test
    void logitLoss_alphaInf_landsOnTheSphere_andIncreasesLogitDistance() {
        Sequential net = mlp(2);
        Tensor x = inputs(4, 5);
        for (int j = 0; j < x.data.length; j++) {
            x.data[j] *= 0.5f; // away from the domain edges, so no clamping shortens the step
        }
        for (double q : new double[] {1, 2, INF}) {
            AttackResult r = Pga.l2(0.1).alpha(INF).iterations(3).loss(AdversarialLoss.logitLq(q)).attackPredicted(net, x);
            for (int i = 0; i < 4; i++) {
                assertEquals(0.1, r.perturbationNorm()[i], 1e-5, "alpha = inf puts x* on the sphere");
                assertTrue(r.loss()[i] > 0);
            }
        }
    }

    @Test
    void robustAccuracy_independentOfBatchSize_andNeverAboveClean() {
        Sequential net = mlp(3);
        Tensor x = inputs(11, 12);
        Dataset data = new Dataset("random", x, labels(11, 13), 10, Domain.SYMMETRIC);
        Pga pga = Pga.linf(0.1).seed(6);
        RobustAccuracy a = RobustAccuracy.of(net, data, pga, 4);
        RobustAccuracy b = RobustAccuracy.of(net, data, pga, 11);
        assertEquals(a, b);
        assertTrue(a.robustCorrect() <= a.cleanCorrect());
        List<RobustAccuracy> curve = RobustAccuracy.curve(net, data, Pga::linf, new double[] {0.01, 0.3}, 5);
        assertTrue(curve.get(1).robustCorrect() <= curve.get(0).robustCorrect());
        assertThrows(IllegalArgumentException.class,
                () -> RobustAccuracy.of(net, data, pga.domain(Domain.UNIT), 4));
    }

    @Test
    void crossEntropyGradient_matchesCentralDifference() {
        float[] logits = {0.3f, -1.2f, 2.0f, 0.1f};
        float[] gy = new float[4];
        AdversarialLoss ce = AdversarialLoss.crossEntropy();
        ce.gradient(logits, null, 0, 4, 2, gy);
        for (int j = 0; j < 4; j++) {
            float[] a = logits.clone(), b = logits.clone();
            a[j] += 1e-3f;
            b[j] -= 1e-3f;
            double fd = (ce.value(a, null, 0, 4, 2) - ce.value(b, null, 0, 4, 2)) / (a[j] - b[j]);
            assertEquals(fd, gy[j], 1e-3, "d CE / d logit " + j);
        }
    }

    @Test
    void crossEntropy_agreesWithNnSoftmaxCrossEntropy_perExample() {
        float[] logits = {0.3f, -1.2f, 2.0f, 0.1f, 5f, -3f, 0f, 1f};
        int[] y = {2, 1};
        float[] batchGrad = new float[8], gy = new float[8];
        double mean = dev.opnorm.nn.loss.SoftmaxCrossEntropy.lossAndGradient(Tensor.of(2, 4, 1, 1, logits), y, batchGrad);
        AdversarialLoss ce = AdversarialLoss.crossEntropy();
        double sum = 0;
        for (int i = 0; i < 2; i++) {
            sum += ce.value(logits, null, i * 4, 4, y[i]);
            ce.gradient(logits, null, i * 4, 4, y[i], gy);
        }
        assertEquals(mean, sum / 2, 1e-12);
        for (int j = 0; j < 8; j++) {
            assertEquals(batchGrad[j] * 2, gy[j], 1e-6, "gradient " + j + " (the batch mean divides by n)");
        }
    }

    @Test
    void badInputs_throwNamingTheProblem() {
        Sequential net = mlp(1);
        Tensor x = inputs(2, 2);
        int[] y = {0, 1};
        assertMessage(() -> Pga.l2(0), "eps");
        assertMessage(() -> Pga.l2(-1), "eps");
        assertMessage(() -> Pga.l2(Double.NaN), "eps");
        assertMessage(() -> Pga.lp(3, 0.1), "p = 3");
        assertMessage(() -> Fgm.lp(0.5, 0.1), "p = 0.5");
        assertMessage(() -> AdversarialLoss.logitLq(3), "q = 3");
        assertMessage(() -> Pga.l2(0.1).iterations(0), "iterations");
        assertMessage(() -> Pga.l2(0.1).restarts(0), "restarts");
        assertMessage(() -> Pga.l2(0.1).alpha(0), "alpha");
        assertMessage(() -> Pga.l2(0.1).alpha(Double.NaN), "alpha");
        Tensor nan = x.copy();
        nan.data[3] = Float.NaN;
        assertMessage(() -> Pga.l2(0.1).attack(net, nan, y), "NaN");
        Tensor outside = x.copy();
        outside.data[17] = 1.5f;
        assertMessage(() -> Pga.l2(0.1).attack(net, outside, y), "outside the input domain");
        assertMessage(() -> Pga.l2(0.1).domain(Domain.UNIT).attack(net, x, y), "outside the input domain");
        assertMessage(() -> Pga.l2(0.1).attack(net, x, new int[] {0}), "labels");
        assertMessage(() -> Pga.l2(0.1).attack(net, x, new int[] {0, 10}), "labels[1] = 10");
        assertMessage(() -> Pga.l2(0.1).attackTargeted(net, x, new int[] {0, -1}), "targets[1] = -1");
        assertMessage(() -> Pga.l2(0.1).loss(AdversarialLoss.logitLq(2)).attackTargeted(net, x, y), "targeted");
        assertMessage(() -> Pga.l2(0.1).startFrom(new float[32]).attack(net, inputs(3, 1), new int[] {0, 1, 2}), "start");
        float[] big = new float[32];
        big[0] = 0.2f;
        assertMessage(() -> Pga.l2(0.1).startFrom(big).attack(net, x, y), "start offset of example 0");
    }

    private static void assertMessage(org.junit.jupiter.api.function.Executable e, String part) {
        IllegalArgumentException ex = assertThrows(IllegalArgumentException.class, e);
        assertTrue(ex.getMessage().contains(part), "message '" + ex.getMessage() + "' does not mention '" + part + "'");
    }
}
