package dev.opnorm.robust.train;

import dev.opnorm.nn.Tensor;
import dev.opnorm.nn.data.Dataset;
import dev.opnorm.nn.layers.BnMode;
import dev.opnorm.nn.layers.Linearization;
import dev.opnorm.nn.layers.Param;
import dev.opnorm.nn.layers.ParamGrads;
import dev.opnorm.nn.layers.Sequential;
import dev.opnorm.nn.loss.SoftmaxCrossEntropy;
import dev.opnorm.nn.util.Rng;
import dev.opnorm.robust.attack.Pga;
import dev.opnorm.robust.reg.DdOperatorNorm;
import dev.opnorm.robust.reg.InputGradient;
import dev.opnorm.robust.reg.RegBatch;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The objectives compute exactly the documented losses and gradients (checked against a by-hand composition). */
class ObjectiveTest {
    private static final Dataset DATA = TrainFixtures.data("synthetic", 8, 3);

    private static Sequential model(long seed) {
        Sequential m = TrainFixtures.model();
        m.initParameters(new SplittableRandom(seed));
        return m;
    }

    /** ga holds gradients of model a's parameters, gb of model b's (same architecture): equal bit for bit. */
    private static void assertSameGrads(Sequential a, ParamGrads ga, Sequential b, ParamGrads gb) {
        List<Param> pa = a.params(), pb = b.params();
        for (int i = 0; i < pa.size(); i++) {
            assertEquals(ga.has(pa.get(i)), gb.has(pb.get(i)), pa.get(i).name());
            if (ga.has(pa.get(i))) {
                assertArrayEquals(gb.of(pb.get(i)), ga.of(pa.get(i)), pa.get(i).name());
            }
        }
    }

    @Test
    void standard_isMeanCrossEntropyInTrainMode_andCommitsBatchNormOnce() {
        Sequential a = model(1), b = model(1);
        ParamGrads ga = new ParamGrads(), gb = new ParamGrads();
        StepResult r = Objective.standard().step(a, DATA.images(), DATA.labels(), new Rng(5), ga);
        Linearization lin = b.linearize(DATA.images(), BnMode.TRAIN);
        float[] gy = new float[lin.output().data.length];
        double loss = SoftmaxCrossEntropy.lossAndGradient(lin.output(), DATA.labels(), gy);
        lin.vjpParams(gy, gb);
        lin.commit();
        // the step's loss is the engine's float mean (Ops.meanAndCountPart), the reference's a double one
        assertEquals(loss, r.loss(), 1e-6 * loss);
        assertEquals(loss, r.cleanLoss(), 1e-6 * loss);
        assertEquals(8, r.counted());
        assertSameGrads(a, ga, b, gb);
        for (int i = 0; i < a.buffers().size(); i++) {
            assertArrayEquals(b.buffers().get(i).value, a.buffers().get(i).value, "running statistics");
        }
    }

    @Test
    void adversarial_isEq14OnTheAttackedFraction_withAttackInEvalModeAndOneTrainBatch() {
        Sequential a = model(2), b = model(2);
        Pga pga = Pga.l2(0.5).iterations(3);
        double lambda = 0.7, cleanWeight = 1;
        Objective at = Objective.adversarial(pga, cleanWeight, lambda, 0.75);
        ParamGrads ga = new ParamGrads(), gb = new ParamGrads();
        Rng rng = new Rng(9);
        StepResult r = at.step(a, DATA.images(), DATA.labels(), rng, ga);

        // by hand: PGA (EVAL mode) on the first 6 of 8 examples with the step's attack seed, then one TRAIN batch
        int k = 6;
        int[] yk = java.util.Arrays.copyOf(DATA.labels(), k);
        Tensor adv = pga.seed(rng.fork("attack").nextLong()).attack(b, DATA.images().slice(0, k), yk).adversarial();
        float[] both = new float[(8 + k) * 36];
        System.arraycopy(DATA.images().data, 0, both, 0, 8 * 36);
        System.arraycopy(adv.data, 0, both, 8 * 36, k * 36);
        Linearization lin = b.linearize(new Tensor(DATA.images().shape.withBatch(8 + k), both), BnMode.TRAIN);
        float[] gClean = new float[8 * 3], gAdv = new float[k * 3], gy = new float[(8 + k) * 3];
        double clean = SoftmaxCrossEntropy.lossAndGradient(lin.output().slice(0, 8), DATA.labels(), gClean);
        double advLoss = SoftmaxCrossEntropy.lossAndGradient(lin.output().slice(8, k), yk, gAdv);
        for (int j = 0; j < gClean.length; j++) {
            gy[j] += (float) cleanWeight * gClean[j];
        }
        for (int j = 0; j < gAdv.length; j++) {
            gy[8 * 3 + j] += (float) lambda * gAdv[j];
        }
        lin.vjpParams(gy, gb);
        assertEquals(clean + lambda * advLoss, r.loss(), 1e-6 * r.loss()); // float means, as above
        assertEquals(advLoss, r.adversarialLoss(), 1e-6 * advLoss);
        assertTrue(advLoss > r.cleanLoss() * 0.9, "the attack should not lower the loss much: " + advLoss);
        assertSameGrads(a, ga, b, gb);
    }

    @Test
    void adversarial_withoutCleanTerm_trainsOnAttackedExamplesOnly() {
        Sequential a = model(3);
        Objective madry = Objective.adversarial(Pga.linf(0.1).iterations(2), 0, 1, 1);
        StepResult r = madry.step(a, DATA.images(), DATA.labels(), new Rng(1), new ParamGrads());
        assertEquals(0, r.cleanLoss());
        assertEquals(r.adversarialLoss(), r.loss());
        assertEquals(8, r.counted());
    }

    @Test
    void regularized_addsPenaltyAndItsGradient_toCrossEntropy() {
        Sequential a = model(4), b = model(4);
        InputGradient reg = new InputGradient(0.3);
        ParamGrads ga = new ParamGrads(), gb = new ParamGrads();
        Rng rng = new Rng(2);
        StepResult r = Objective.regularized(reg).step(a, DATA.images(), DATA.labels(), rng, ga);
        Linearization lin = b.linearize(DATA.images(), BnMode.TRAIN);
        float[] gy = new float[lin.output().data.length];
        double ce = SoftmaxCrossEntropy.lossAndGradient(lin.output(), DATA.labels(), gy);
        lin.vjpParams(gy, gb);
        double pen = reg.accumulate(new RegBatch(b, DATA.images(), DATA.labels(), 0, lin), gb);
        assertEquals(ce + pen, r.loss(), 1e-6 * r.loss()); // the float mean cross-entropy, as above
        assertEquals(pen, r.penalties().get("input-grad"));
        assertSameGrads(a, ga, b, gb);
    }

    @Test
    void convex_endpoints_areAdversarialTrainingAndDdSnr() {
        Pga pga = Pga.l2(0.5).iterations(2);
        Objective atEnd = Objective.convex(1, pga, 1, 1, 0.5, 0.1, 3, BnMode.TRAIN);
        Objective snrEnd = Objective.convex(0, pga, 1, 1, 0.5, 0.1, 3, BnMode.TRAIN);
        StepResult r1 = atEnd.step(model(5), DATA.images(), DATA.labels(), new Rng(3), new ParamGrads());
        Sequential m0 = model(5), mSnr = model(5);
        ParamGrads g0 = new ParamGrads(), gSnr = new ParamGrads();
        StepResult r0 = snrEnd.step(m0, DATA.images(), DATA.labels(), new Rng(3), g0);
        StepResult rSnr = Objective.regularized(DdOperatorNorm.sumOfSquares(0.5, 0.1, 3, BnMode.TRAIN))
                .step(mSnr, DATA.images(), DATA.labels(), new Rng(3), gSnr);
        assertEquals(rSnr.loss(), r0.loss(), "t = 0 is d.d. SNR training, without an attack");
        assertEquals(0, r0.adversarialLoss());
        assertSameGrads(m0, g0, mSnr, gSnr);
        assertEquals(0, r1.penalties().get("dd-snr-sos"));
        assertEquals(r1.cleanLoss() + r1.adversarialLoss(), r1.loss(), 1e-12);
        assertTrue(r0.penalties().get("dd-snr-sos") > 0);
        assertEquals(r0.cleanLoss() + r0.penalties().get("dd-snr-sos"), r0.loss(), 1e-12);
        assertEquals(0.5, ((DdOperatorNorm) snrEnd.regularizers().get(0)).lambda());
    }

    @Test
    void factories_rejectBadSettings() {
        Pga pga = Pga.l2(0.5);
        assertThrows(IllegalArgumentException.class, () -> Objective.adversarial(pga, 1, 1, 0));
        assertThrows(IllegalArgumentException.class, () -> Objective.adversarial(pga, 1, 1, 1.5));
        assertThrows(IllegalArgumentException.class, () -> Objective.adversarial(pga, -1, 1, 1));
        assertThrows(IllegalArgumentException.class, () -> Objective.adversarial(null, 1, 1, 1));
        assertThrows(IllegalArgumentException.class, () -> Objective.convex(1.5, pga, 1, 1, 1, 0.1, 1, BnMode.EVAL));
        assertThrows(IllegalArgumentException.class, Objective::regularized);
        assertThrows(IllegalArgumentException.class, () -> Objective.of("x", 0, null, 0, 0, List.of()));
        assertThrows(IllegalArgumentException.class, () -> Objective.adversarial(pga, 0, 0, 1));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> Objective.standard().step(model(1), DATA.images(), new int[3], new Rng(1), new ParamGrads()));
        assertTrue(e.getMessage().contains("labels"), e.getMessage());
    }
}
