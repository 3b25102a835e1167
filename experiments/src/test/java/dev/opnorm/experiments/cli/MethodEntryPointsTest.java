package dev.opnorm.experiments.cli;

import dev.opnorm.api.Methods;
import dev.opnorm.experiments.reproduce.Profile;
import dev.opnorm.experiments.reproduce.Reproduction;
import dev.opnorm.nn.Shape;
import dev.opnorm.nn.data.Domain;
import dev.opnorm.nn.layers.BnMode;
import dev.opnorm.nn.layers.Sequential;
import dev.opnorm.nn.models.Models;
import dev.opnorm.robust.attack.Pga;
import dev.opnorm.robust.reg.DdOperatorNorm;
import dev.opnorm.robust.reg.GlobalSpectralNorm;
import dev.opnorm.robust.train.MethodSpec;
import dev.opnorm.robust.train.MethodSpec.Kind;
import dev.opnorm.robust.train.Objective;
import dev.opnorm.robust.train.TrainingMethod;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import picocli.CommandLine;

import java.util.EnumMap;
import java.util.Map;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;

/**
 * Every entry point that builds a training method - the API ({@code dev.opnorm.api.Methods}), {@code opnorm train}'s
 * --method parsing with its defaults, and the reproduction - builds the same objective for the same method: equal
 * resolved {@link MethodSpec}s where the entry point has one, and equal {@link TrainingMethod#config()} (weights,
 * attack with its radius, iterations and step, attacked fraction, every regularizer's settings) otherwise.
 */
class MethodEntryPointsTest {
    private static final double INF = Double.POSITIVE_INFINITY;
    private static final Sequential MODEL = Models.create("cnn7-w0.0625", 1, 10, 1);
    private static final Shape INPUT = new Shape(2, 1, 32, 32);
    private static final int INPUTS = 32 * 32;

    /** opnorm train's method for these flags, as its run would build it. */
    private static MethodSpec cli(String... flags) {
        TrainCommand c = new TrainCommand();
        new CommandLine(c).parseArgs(flags);
        return c.methodSpec();
    }

    private static Map<String, Object> config(MethodSpec s) {
        return s.objective(MODEL, INPUT).config();
    }

    private static String s(double v) {
        return Double.toString(v);
    }

    @Test
    void defaults_theCliAndTheApiBuildTheSameObjective_forEveryMethod() {
        double sq = 0.02 / (1.75 * 1.75);
        Map<Kind, TrainingMethod> api = new EnumMap<>(Kind.class);
        api.put(Kind.STANDARD, Methods.standard());
        api.put(Kind.AT, Methods.adversarial(Pga.l2(1.75).iterations(10)));
        api.put(Kind.GLOBAL_SNR, Methods.globalSnr(MODEL, 3e-4));
        api.put(Kind.GLOBAL_CONV_NORM, Methods.globalConvNorm(MODEL, INPUT, 3e-4));
        api.put(Kind.DD_SNR, Methods.ddSpectralNorm(0.02));
        api.put(Kind.DD_SNR_SQ, Methods.ddSnr());
        api.put(Kind.DD_ONR, Methods.ddOnr(INF, 2, 1, 16.0 / 255));
        api.put(Kind.INPUT_GRAD, Methods.inputGradient(1));
        api.put(Kind.INTERP, Methods.interpolation(0.5, sq, 1.75));
        assertEquals(Set.of(Kind.values()), api.keySet());
        for (Kind k : Kind.values()) {
            MethodSpec flags = cli("--method", k.id());
            assertEquals(MethodSpec.defaults(k), flags, k.id());
            assertEquals(api.get(k).config(), config(flags), k.id());
        }
        // the API's shorter forms take the same defaults
        assertEquals(Methods.ddSnr(sq, 1.75).config(), Methods.ddSnr(sq).config());
        assertEquals(Methods.ddSnr().config(), config(cli("--method", "dd-snr-sq", "--eps", "1.75")));
    }

    @Test
    void adversarialFraction_isTheCataloguesInEveryEntryPoint_andAFlagStillChangesIt() {
        Profile p = Profile.PAPER;
        MethodSpec rep = Reproduction.methodSpec(p, "at", 0, 1.75, INPUTS);
        assertEquals(MethodSpec.DEFAULT_ADV_FRACTION, rep.adversarialFraction());
        assertEquals(MethodSpec.DEFAULT_ADV_FRACTION, cli("--method", "at").adversarialFraction());
        assertEquals(MethodSpec.DEFAULT_ADV_FRACTION, ((Objective) Methods.adversarial(Pga.l2(1.75))).fraction());
        assertEquals(MethodSpec.DEFAULT_ADV_FRACTION, Reproduction.interpolationSpec(p, 0.5, 0.02, 1.75)
                .adversarialFraction());
        assertEquals(MethodSpec.DEFAULT_ADV_FRACTION, cli("--method", "interp").adversarialFraction());
        assertEquals(rep, cli("--method", "at"));
        assertNotEquals(rep, cli("--method", "at", "--adv-fraction", "1"));
        assertEquals(1.0, cli("--method", "at", "--adv-fraction", "1").objective(null, null).fraction());
    }

    /**
     * Each method the reproduction trains, at its profile's sizes, a chosen eps_train and lambda: the CLI with the
     * same knobs as flags resolves the same spec (so no default differs), and the API builds the same objective
     * where its signature can express the profile (10 PGA and power iterations).
     */
    @ParameterizedTest
    @ValueSource(strings = {"smoke", "quick", "paper"})
    void reproduction_theCliAndTheApiBuildTheReproductionsMethods(String name) {
        Profile p = Profile.named(name);
        double eps = 1.5, epsLinf = eps / Math.sqrt(INPUTS), t = 0.25;
        String at = Integer.toString(p.atIterations()), dd = Integer.toString(p.ddIterations());
        boolean apiExpresses = p.atIterations() == 10 && p.ddIterations() == Methods.DD_ITERATIONS;

        assertEquals(Reproduction.methodSpec(p, "standard", 0, eps, INPUTS), cli("--method", "standard"));

        MethodSpec adv = Reproduction.methodSpec(p, "at", 0, eps, INPUTS);
        assertEquals(adv, cli("--method", "at", "--eps", s(eps), "--attack-iterations", at));
        assertEquals(Methods.adversarial(Pga.l2(eps).iterations(p.atIterations())).config(), config(adv));

        double lg = p.lambdaGlobal()[0];
        MethodSpec global = Reproduction.methodSpec(p, "global-snr", lg, eps, INPUTS);
        assertEquals(global, cli("--method", "global-snr", "--lambda", s(lg)));
        assertEquals(Methods.globalSnr(MODEL, lg).config(), config(global));

        double ls = p.lambdaDdSnr()[0];
        MethodSpec snr = Reproduction.methodSpec(p, "dd-snr", ls, eps, INPUTS);
        assertEquals(snr, cli("--method", "dd-snr-sq", "--lambda", s(ls), "--eps", s(eps), "--power-iterations", dd));

        double lo = p.lambdaDdOnr()[0];
        MethodSpec onr = Reproduction.methodSpec(p, "dd-onr", lo, eps, INPUTS);
        assertEquals(onr, cli("--method", "dd-onr", "--p", "inf", "--q", "2", "--lambda", s(lo), "--eps", s(epsLinf),
                "--power-iterations", dd));

        MethodSpec interp = Reproduction.interpolationSpec(p, t, ls, eps);
        assertEquals(interp, cli("--method", "interp", "--interp-t", s(t), "--lambda", s(ls), "--eps", s(eps),
                "--attack-iterations", at, "--power-iterations", dd));

        if (apiExpresses) {
            assertEquals(Methods.ddSnr(ls, eps).config(), config(snr));
            assertEquals(Methods.ddOnr(INF, 2, lo, epsLinf).config(), config(onr));
            assertEquals(Methods.interpolation(t, ls, eps).config(), config(interp));
        }
    }

    /**
     * The reproduction's objectives are the ones it composed by hand before the catalogue existed, so its results
     * do not change: AT and the interpolation attack 75 % of each batch, BatchNorm TRAIN in the finite-difference
     * passes.
     */
    @ParameterizedTest
    @ValueSource(strings = {"quick", "paper"})
    void reproduction_objectivesAreTheHandComposedOnes(String name) {
        Profile p = Profile.named(name);
        double eps = 1.25, l = 0.05, t = 0.5, epsLinf = eps / Math.sqrt(INPUTS);
        int at = p.atIterations(), dd = p.ddIterations();
        assertEquals(Objective.standard().config(), config(Reproduction.methodSpec(p, "standard", l, eps, INPUTS)));
        assertEquals(Objective.adversarial(Pga.l2(eps).iterations(at).domain(Domain.SYMMETRIC), 1, 1, 0.75).config(),
                config(Reproduction.methodSpec(p, "at", l, eps, INPUTS)));
        assertEquals(Objective.regularized(GlobalSpectralNorm.reshaped(MODEL, l)).config(),
                config(Reproduction.methodSpec(p, "global-snr", l, eps, INPUTS)));
        assertEquals(Objective.regularized(DdOperatorNorm.sumOfSquares(l, eps, dd, BnMode.TRAIN)).config(),
                config(Reproduction.methodSpec(p, "dd-snr", l, eps, INPUTS)));
        assertEquals(Objective.regularized(new DdOperatorNorm(INF, 2, l, epsLinf, dd, false, BnMode.TRAIN)).config(),
                config(Reproduction.methodSpec(p, "dd-onr", l, eps, INPUTS)));
        assertEquals(Objective.convex(t, Pga.l2(eps).iterations(at).domain(Domain.SYMMETRIC), 1, 0.75, l, eps, dd,
                BnMode.TRAIN).config(), config(Reproduction.interpolationSpec(p, t, l, eps)));
    }
}
