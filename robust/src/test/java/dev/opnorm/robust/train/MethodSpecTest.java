package dev.opnorm.robust.train;

import dev.opnorm.nn.layers.BnMode;
import dev.opnorm.nn.layers.Sequential;
import dev.opnorm.robust.attack.Pga;
import dev.opnorm.robust.reg.DdOperatorNorm;
import dev.opnorm.robust.reg.DdSpectralNorm;
import dev.opnorm.robust.reg.GlobalSpectralNorm;
import dev.opnorm.robust.reg.InputGradient;
import dev.opnorm.robust.train.MethodSpec.Kind;
import org.junit.jupiter.api.Test;

import java.util.EnumMap;
import java.util.Map;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The method catalogue: its documented defaults, its checks, and that a spec becomes exactly the objective
 * composed by hand from {@link Objective} and the regularizers.
 */
class MethodSpecTest {
    private static final double INF = Double.POSITIVE_INFINITY;

    /** The objective of every method at its defaults, composed by hand with the documented default values. */
    private static Map<Kind, Objective> byHand(Sequential model) {
        double sq = 0.02 / (1.75 * 1.75);
        Map<Kind, Objective> m = new EnumMap<>(Kind.class);
        m.put(Kind.STANDARD, Objective.standard());
        m.put(Kind.AT, Objective.adversarial(Pga.l2(1.75).iterations(10), 1, 1, 0.75));
        m.put(Kind.GLOBAL_SNR, Objective.regularized(GlobalSpectralNorm.reshaped(model, 3e-4, 1)));
        m.put(Kind.GLOBAL_CONV_NORM, Objective.regularized(GlobalSpectralNorm.convolution(model,
                TrainFixtures.data("d", 2, 1).images().shape, 3e-4, 1)));
        m.put(Kind.DD_SNR, Objective.regularized(new DdSpectralNorm(0.02, 10)));
        m.put(Kind.DD_SNR_SQ, Objective.regularized(DdOperatorNorm.sumOfSquares(sq, 1.75, 10, BnMode.TRAIN)));
        m.put(Kind.DD_ONR, Objective.regularized(new DdOperatorNorm(INF, 2, 1, 16.0 / 255, 10, false, BnMode.TRAIN)));
        m.put(Kind.INPUT_GRAD, Objective.regularized(new InputGradient(1)));
        m.put(Kind.INTERP, Objective.convex(0.5, Pga.l2(1.75).iterations(10), 1, 0.75, sq, 1.75, 10, BnMode.TRAIN));
        return m;
    }

    @Test
    void defaults_buildTheDocumentedObjectiveOfEveryMethod() {
        Sequential model = TrainFixtures.model();
        Map<Kind, Objective> expected = byHand(model);
        assertEquals(Set.of(Kind.values()), expected.keySet());
        for (Kind k : Kind.values()) {
            Objective o = MethodSpec.defaults(k).objective(model, TrainFixtures.data("d", 2, 1).images().shape);
            assertEquals(expected.get(k).config(), o.config(), k.id());
            assertEquals(expected.get(k).name(), o.name(), k.id());
        }
    }

    @Test
    void defaults_adversarialFractionIsTheReferenceCodes_andTheL2AndLinfRadiiFollowP() {
        assertEquals(0.75, MethodSpec.DEFAULT_ADV_FRACTION);
        assertEquals(0.75, MethodSpec.defaults(Kind.AT).adversarialFraction());
        assertEquals(0.75, MethodSpec.defaults(Kind.INTERP).adversarialFraction());
        assertEquals(0.75, MethodSpec.defaults(Kind.AT).objective(null, null).fraction());
        assertEquals(16.0 / 255, MethodSpec.of(Kind.AT).p(INF).build().eps());
        assertEquals(1.75, MethodSpec.of(Kind.DD_ONR).p(2.0).build().eps());
        // the sum-of-squares strength follows a given step so the penalty stays ~ (0.02 / 2) sigma^2
        assertEquals(0.02 / 0.25, MethodSpec.of(Kind.DD_SNR_SQ).eps(0.5).build().lambda(), 1e-15);
        assertEquals(0.3, MethodSpec.of(Kind.DD_SNR_SQ).eps(0.5).lambda(0.3).build().lambda());
        assertEquals(1, MethodSpec.defaults(Kind.GLOBAL_CONV_NORM).powerIterations());
    }

    @Test
    void build_givenKnobsOverrideDefaults_andKnobsListsOnlyTheMethodsOwn() {
        MethodSpec s = MethodSpec.of(Kind.DD_ONR).p(2.0).q(1.0).qPower(true).lambda(0.1).eps(0.3).powerIterations(4)
                .penaltyMode(BnMode.EVAL).build();
        DdOperatorNorm r = (DdOperatorNorm) s.objective(null, null).regularizers().get(0);
        assertEquals(2, r.p());
        assertEquals(1, r.q());
        assertTrue(r.qthPower());
        assertEquals(0.1, r.lambda());
        assertEquals(0.3, r.eps());
        assertEquals(4, r.iterations());
        assertEquals(BnMode.EVAL, r.penaltyMode());
        assertEquals(Set.of("method", "lambda", "eps", "p", "q", "q-power", "power-iterations", "reg-bn"),
                s.knobs().keySet());
        assertEquals("eval", s.knobs().get("reg-bn"));
        assertEquals(Set.of("method"), MethodSpec.defaults(Kind.STANDARD).knobs().keySet());
        // null means "not given": the default
        assertEquals(MethodSpec.defaults(Kind.AT), MethodSpec.of(Kind.AT).eps(null).p(null).build());
    }

    @Test
    void build_rejectsKnobsTheMethodDoesNotUse_andBadValues_namingTheKnob() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> MethodSpec.of(Kind.STANDARD).knobPrefix("--").q(2.0).build());
        assertTrue(e.getMessage().startsWith("--q does not apply to --method standard"), e.getMessage());
        assertTrue(e.getMessage().contains("dd-onr"), e.getMessage());
        String[][] cases = {
                {"lambda", msg(() -> MethodSpec.of(Kind.DD_SNR).lambda(-1.0).build())},
                {"eps", msg(() -> MethodSpec.of(Kind.AT).eps(0.0).build())},
                {"eps", msg(() -> MethodSpec.of(Kind.AT).p(1.0).build())},          // no default radius for l_1
                {"p", msg(() -> MethodSpec.of(Kind.AT).p(3.0).build())},
                {"p", msg(() -> MethodSpec.of(Kind.DD_ONR).p(0.5).build())},
                {"q-power", msg(() -> MethodSpec.of(Kind.DD_ONR).q(INF).qPower(true).build())},
                {"attack-iterations", msg(() -> MethodSpec.of(Kind.AT).attackIterations(0).build())},
                {"power-iterations", msg(() -> MethodSpec.of(Kind.GLOBAL_SNR).powerIterations(0).build())},
                {"adv-fraction", msg(() -> MethodSpec.of(Kind.AT).adversarialFraction(1.5).build())},
                {"clean-weight", msg(() -> MethodSpec.of(Kind.AT).cleanWeight(-1.0).build())},
                {"interp-t", msg(() -> MethodSpec.of(Kind.INTERP).t(2.0).build())},
                {"eps", msg(() -> MethodSpec.of(Kind.INPUT_GRAD).eps(1.0).build())},
        };
        for (String[] c : cases) {
            assertTrue(c[1].startsWith(c[0] + " "), c[0] + ": " + c[1]);
        }
        assertTrue(msg(() -> Kind.parse("fgsm")).contains("dd-snr-sq"));
        assertEquals(Kind.DD_SNR_SQ, Kind.parse(" DD-SNR-SQ "));
    }

    private static String msg(Runnable r) {
        return assertThrows(IllegalArgumentException.class, r::run).getMessage();
    }

    @Test
    void canonicalConstructor_checksToo_andNeedsNeutralValuesForUnusedKnobs() {
        assertThrows(IllegalArgumentException.class, () -> new MethodSpec(Kind.STANDARD, 0.1, 0, 0, 0, false, 0, 0, 0, 0,
                0, 0, null));
        assertThrows(IllegalArgumentException.class, () -> new MethodSpec(Kind.INPUT_GRAD, -1, 0, 0, 0, false, 0, 0, 0, 0,
                0, 0, null));
        assertEquals(MethodSpec.of(Kind.INPUT_GRAD).lambda(0.5).build(), new MethodSpec(Kind.INPUT_GRAD, 0.5, 0, 0, 0,
                false, 0, 0, 0, 0, 0, 0, null));
    }

    @Test
    void objective_takesACallersAttackOnlyWhenItMatchesTheSpec_andNeedsTheModelForGlobalMethods() {
        Pga custom = Pga.linf(0.1).iterations(3).restarts(2);
        MethodSpec at = MethodSpec.of(Kind.AT).attackOf(custom).build();
        assertEquals(2, at.objective(null, null, custom).attack().restarts());
        assertThrows(IllegalArgumentException.class, () -> at.objective(null, null, Pga.linf(0.2).iterations(3)));
        assertThrows(IllegalArgumentException.class, () -> MethodSpec.defaults(Kind.STANDARD).objective(null, null,
                custom));
        assertThrows(IllegalArgumentException.class, () -> MethodSpec.defaults(Kind.GLOBAL_SNR).objective(null, null));
        assertThrows(IllegalArgumentException.class, () -> MethodSpec.defaults(Kind.GLOBAL_CONV_NORM)
                .objective(TrainFixtures.model(), null));
        assertThrows(IllegalStateException.class, () -> MethodSpec.defaults(Kind.DD_SNR).attack());
    }
}
