package dev.opnorm.tests;

import dev.opnorm.linalg.DualMaps;
import dev.opnorm.linalg.Norms;
import dev.opnorm.nn.Shape;
import dev.opnorm.nn.Tensor;
import dev.opnorm.nn.layers.BnMode;
import dev.opnorm.nn.layers.Linearization;
import dev.opnorm.nn.layers.Param;
import dev.opnorm.nn.layers.ParamGrads;
import dev.opnorm.nn.layers.Sequential;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.stream.Stream;

import static dev.opnorm.tests.Theorem1Support.INF;
import static dev.opnorm.tests.Theorem1Support.PgaRun;
import static dev.opnorm.tests.Theorem1Support.StepReport;
import static dev.opnorm.tests.Theorem1Support.cnn;
import static dev.opnorm.tests.Theorem1Support.compareSteps;
import static dev.opnorm.tests.Theorem1Support.differenceFloor;
import static dev.opnorm.tests.Theorem1Support.gap;
import static dev.opnorm.tests.Theorem1Support.mlp;
import static dev.opnorm.tests.Theorem1Support.pga;
import static dev.opnorm.tests.Theorem1Support.points;
import static dev.opnorm.tests.Theorem1Support.powerIterates;
import static dev.opnorm.tests.Theorem1Support.startVectors;
import static dev.opnorm.tests.Theorem1Support.storageFloor;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Theorem 1 of the paper, numerically: inside the activation cell of x (verified at every iterate), l_p PGA with
 * the l_q logit loss ||f(x*) - f(x)||_q and alpha -&gt; inf, started at x + eps v_0, produces the iterates
 * v_k = (x_k - x)/eps of the (p,q) power method v_k = N_p(J^T D_q(J v_{k-1})) started at v_0; and the parameter
 * gradient of the AT term lambda ||f(x*) - f(x)||_q (x* held fixed) equals that of the d.d. operator norm
 * regularizer lambda eps ||J v||_q (v held fixed), because f(x + eps v) - f(x) = eps J v in the cell.
 *
 * <p>Float32 limits what "equal" can mean: PGA sees a forward difference whose relative error eta is measured
 * and grows as eps shrinks, so the tolerances are multiples of the measured eta (see {@link Theorem1Tolerances}).
 * BatchNorm runs in EVAL mode throughout (the attack's mode).
 */
class Theorem1Test {
    private static final int ITERATIONS = 5;
    private static final double LAMBDA = 0.7;

    static Stream<Arguments> pairs() {
        return Stream.of(Arguments.of(2.0, 2.0), Arguments.of(INF, 2.0), Arguments.of(2.0, INF),
                Arguments.of(INF, INF), Arguments.of(2.0, 1.0), Arguments.of(1.0, 2.0));
    }

    private static void assertInCell(PgaRun run, String what) {
        for (int k = 0; k < run.cellDifferences().length; k++) {
            assertEquals(0, run.cellDifferences()[k], what + ": iterate " + k + " left the activation cell of x ("
                    + run.cellDifferences()[k] + " ReLU/pooling states differ): the theorem's premise fails, pick a smaller eps");
        }
    }

    /** MLP: every step AND the whole trajectory match OperatorNorm's, including every sign and one-hot choice. */
    @ParameterizedTest(name = "mlp p={0} q={1}")
    @MethodSource("pairs")
    void pgaIterates_equalPowerMethodIterates_onMlp(double p, double q) {
        Sequential net = mlp(1);
        Tensor x = points(new Shape(4, 1, 4, 4), 3);
        double eps = 3e-3;
        float[] v0 = startVectors(4, 16, p, 7);
        PgaRun run = pga(net, x, p, q, eps, v0, ITERATIONS);
        String what = "mlp (" + p + "," + q + ") eps " + eps;
        assertInCell(run, what);

        StepReport step = compareSteps(net, x, run, p, q, eps, Theorem1Tolerances.STEP, Theorem1Tolerances.TIE);
        assertTrue(step.worstRatio() <= 1, what + ": a PGA step differs from the power step: " + step);
        // no discrete choice is close to a tie here, so every sign and argmax is compared, none excused
        assertEquals(0, step.excusedSteps() + step.excusedCoords(), what + ": " + step);

        double[][] pm = powerIterates(net, x, p, q, v0, ITERATIONS);
        double noise = storageFloor(x, p, eps);
        for (Tensor xk : run.iterates()) {
            noise = Math.max(noise, differenceFloor(net, x, xk) + storageFloor(x, p, eps));
        }
        for (int k = 0; k <= ITERATIONS; k++) {
            double g = gap(run.v()[k], pm[k], 4, p);
            double tol = Theorem1Tolerances.TRAJECTORY * Math.max(1, k) * noise;
            // a flipped sign (p = inf) or a different one-hot (p = 1) would give a gap of 2, far above tol
            assertTrue(g <= tol, what + ": iterate " + k + ": ||v_pga - v_power||_p = " + g + " > " + tol);
        }
    }

    /**
     * Control: the same comparison must be able to fail. With the paper's finite step alpha = 2 eps / iterations
     * PGA is not the power method (its iterates move from the start by at most alpha per step), and the step
     * comparison reports gaps far above tolerance.
     */
    @Test
    void pgaWithFiniteStep_isNotThePowerMethod_control() {
        Sequential net = mlp(1);
        Tensor x = points(new Shape(4, 1, 4, 4), 3);
        double eps = 3e-3;
        float[] v0 = startVectors(4, 16, 2, 7);
        float[] delta = new float[v0.length];
        for (int j = 0; j < delta.length; j++) {
            delta[j] = (float) (eps * v0[j]);
        }
        List<Tensor> xs = new ArrayList<>();
        dev.opnorm.robust.attack.Pga.l2(eps).iterations(ITERATIONS).randomStart(false)
                .loss(dev.opnorm.robust.attack.AdversarialLoss.logitLq(2)).startFrom(delta)
                .onIterate((r, k, xk) -> xs.add(xk.copy())).attackPredicted(net, x);
        double[][] v = new double[xs.size()][];
        int[] cell = new int[xs.size()];
        for (int k = 0; k < xs.size(); k++) {
            v[k] = new double[x.data.length];
            for (int j = 0; j < v[k].length; j++) {
                v[k][j] = ((double) xs.get(k).data[j] - x.data[j]) / eps;
            }
        }
        StepReport step = compareSteps(net, x, new PgaRun(v, cell, xs), 2, 2, eps, Theorem1Tolerances.STEP,
                Theorem1Tolerances.TIE);
        assertTrue(step.worstRatio() > 100, "finite-step PGA matched the power method: " + step);
    }

    /**
     * CNN (width 1/16, BN EVAL): every PGA step equals the power step from the same iterate, on every sign and
     * argmax decided above the float noise. eps is chosen per p so that the perturbation has l2 length about
     * 3e-3 (for p = inf, eps = 3e-3 / sqrt(n)).
     */
    @ParameterizedTest(name = "cnn p={0} q={1}")
    @MethodSource("pairs")
    void pgaSteps_equalPowerSteps_onCnn(double p, double q) {
        Sequential net = cnn(2, 3);
        Tensor x = points(new Shape(2, 1, 32, 32), 3);
        int per = x.shape.perExample();
        double eps = p == INF ? 3e-3 / Math.sqrt(per) : 3e-3;
        PgaRun run = pga(net, x, p, q, eps, startVectors(2, per, p, 7), ITERATIONS);
        String what = "cnn (" + p + "," + q + ") eps " + eps;
        assertInCell(run, what);
        StepReport step = compareSteps(net, x, run, p, q, eps, Theorem1Tolerances.STEP, Theorem1Tolerances.TIE);
        System.out.println("Theorem 1, " + what + ": " + step);
        assertTrue(step.worstRatio() <= 1, what + ": a PGA step differs from the power step: " + step);
        // float32 decides most choices: at least half of the example-steps and coordinates are compared
        assertTrue(2 * step.excusedSteps() <= step.steps(), what + ": too few decided steps: " + step);
        assertTrue(2 * step.excusedCoords() <= step.coords() + step.excusedCoords(), what + ": too few decided signs: " + step);
    }

    static Stream<Arguments> gradientCases() {
        return Stream.concat(pairs().map(a -> Arguments.of("mlp", a.get()[0], a.get()[1])),
                Stream.of(Arguments.of("cnn", 2.0, 2.0), Arguments.of("cnn", 1.0, 2.0)));
    }

    /**
     * d/dtheta lambda ||f(x*) - f(x)||_q (x* fixed: the AT term's gradient) == d/dtheta lambda eps ||J v||_q
     * (v = (x* - x)/eps fixed: d.d. ONR with strength lambda eps). The left side is two ordinary parameter VJPs
     * at x* and x; the right side runs through {@link TangentNetwork} (the map v -&gt; J v as a bias-free
     * network with frozen masks), so the two never share a computation beyond the weights.
     */
    @ParameterizedTest(name = "{0} p={1} q={2}")
    @MethodSource("gradientCases")
    void atTermGradient_equalsOperatorNormRegularizerGradient(String which, double p, double q) {
        boolean isCnn = which.equals("cnn");
        Sequential net = isCnn ? cnn(2, 3) : mlp(1);
        Tensor x = isCnn ? points(new Shape(2, 1, 32, 32), 3) : points(new Shape(4, 1, 4, 4), 3);
        int n = x.shape.n(), per = x.shape.perExample();
        double eps = p == INF && isCnn ? 3e-3 / Math.sqrt(per) : 3e-3;
        PgaRun run = pga(net, x, p, q, eps, startVectors(n, per, p, 7), ITERATIONS);
        assertInCell(run, which);
        Tensor xStar = run.adversarial();

        // AT term: gy = lambda D_q(f(x*) - f(x)); grad = J_theta(x*)^T gy - J_theta(x)^T gy
        Linearization at = net.linearize(xStar, BnMode.EVAL), at0 = net.linearize(x, BnMode.EVAL);
        float[] f1 = at.output().data, f0 = at0.output().data;
        int m = f0.length / n;
        float[] diff = new float[f0.length], gy = new float[f0.length], gyNeg = new float[f0.length];
        for (int t = 0; t < diff.length; t++) {
            diff[t] = f1[t] - f0[t];
        }
        for (int i = 0; i < n; i++) {
            DualMaps.dual(diff, i * m, m, q, gy, i * m);
        }
        for (int t = 0; t < gy.length; t++) {
            gy[t] *= (float) LAMBDA;
            gyNeg[t] = -gy[t];
        }
        ParamGrads gAt = new ParamGrads();
        at.vjpParams(gy, gAt);
        at0.vjpParams(gyNeg, gAt);

        // ONR: v fixed; gy' = lambda eps D_q(J v); grad through the tangent network at x
        Tensor v = new Tensor(x.shape);
        for (int t = 0; t < v.data.length; t++) {
            v.data[t] = (float) run.v()[ITERATIONS][t];
        }
        Sequential tangent = TangentNetwork.of(net, x);
        Linearization tl = tangent.linearize(v, BnMode.EVAL);
        float[] jv = tl.output().data;
        float[] gyT = new float[jv.length];
        for (int i = 0; i < n; i++) {
            DualMaps.dual(jv, i * m, m, q, gyT, i * m);
        }
        for (int t = 0; t < gyT.length; t++) {
            gyT[t] *= (float) (LAMBDA * eps);
        }
        ParamGrads gOnr = new ParamGrads();
        tl.vjpParams(gyT, gOnr);

        double noise = differenceFloor(net, x, xStar) + storageFloor(x, p, eps);
        double tol = Theorem1Tolerances.GRADIENT * noise;
        List<Param> tangentParams = tangent.params();
        int weights = 0;
        for (Param prm : net.params()) {
            float[] a = gAt.of(prm);
            Param twin = tangentParams.stream().filter(t -> t.name().equals(prm.name())).findFirst().orElse(null);
            if (twin == null) {
                // a bias: J does not depend on it, so the ONR gradient is 0; the AT term's two VJPs cancel exactly
                double scale = Norms.lp(gy, 2) * Math.sqrt(n);
                assertTrue(Norms.lp(a, 2) <= tol * scale, which + ": bias " + prm.name() + " gradient "
                        + Norms.lp(a, 2) + " not ~0");
                continue;
            }
            float[] b = gOnr.of(twin);
            double num = 0;
            for (int t = 0; t < a.length; t++) {
                num += ((double) a[t] - b[t]) * ((double) a[t] - b[t]);
            }
            double rel = Math.sqrt(num) / Norms.lp(b, 2);
            assertTrue(rel <= tol, which + " (" + p + "," + q + "): " + prm.name() + " relative gap " + rel + " > " + tol);
            weights++;
        }
        assertEquals(isCnn ? 8 : 3, weights, "weight tensors compared");
    }

    /**
     * Where the equivalence stops: for growing eps, the cell condition, the measured noise, the worst one-step
     * gap relative to its tolerance and the trajectory gap to OperatorNorm. Prints a table and writes
     * target/theorem1-breakdown.csv. Asserts only the two ends: inside the cell (smallest eps) the steps match,
     * and at the largest eps the ball has left the cell.
     */
    @Test
    void equivalence_breaksOnceTheBallLeavesTheCell_table() throws IOException {
        record Row(String net, double p, double q, double eps, int cell, double eta, double stepRatio, double trajGap) {
        }
        List<Row> rows = new ArrayList<>();
        double[] mlpEps = {1e-3, 3e-3, 1e-2, 3e-2, 1e-1, 3e-1};
        double[] cnnEps = {1e-3, 3e-3, 1e-2, 3e-2, 1e-1};
        for (String which : new String[] {"mlp", "cnn"}) {
            boolean isCnn = which.equals("cnn");
            Sequential net = isCnn ? cnn(2, 3) : mlp(1);
            Tensor x = isCnn ? points(new Shape(2, 1, 32, 32), 3) : points(new Shape(4, 1, 4, 4), 3);
            int n = x.shape.n(), per = x.shape.perExample();
            for (double[] pq : isCnn ? new double[][] {{2, 2}} : new double[][] {{2, 2}, {INF, 2}}) {
                double p = pq[0], q = pq[1];
                float[] v0 = startVectors(n, per, p, 7);
                double[][] pm = powerIterates(net, x, p, q, v0, ITERATIONS);
                for (double eps : isCnn ? cnnEps : mlpEps) {
                    PgaRun run = pga(net, x, p, q, eps, v0, ITERATIONS);
                    int cell = 0;
                    for (int c : run.cellDifferences()) {
                        cell = Math.max(cell, c);
                    }
                    StepReport step = compareSteps(net, x, run, p, q, eps, Theorem1Tolerances.STEP, Theorem1Tolerances.TIE);
                    double eta = differenceFloor(net, x, run.adversarial());
                    rows.add(new Row(which, p, q, eps, cell, eta, step.worstRatio(),
                            gap(run.v()[ITERATIONS], pm[ITERATIONS], n, p)));
                }
            }
        }
        StringBuilder csv = new StringBuilder("network,p,q,eps,max_changed_states,eta,step_gap_over_tol,trajectory_gap\n");
        System.out.println("Theorem 1 breakdown (BN EVAL, " + ITERATIONS + " iterations, alpha = inf):");
        System.out.println(" net   p    q    eps      changed  eta       step/tol  traj.gap");
        for (Row r : rows) {
            csv.append(String.format(Locale.ROOT, "%s,%s,%s,%g,%d,%g,%g,%g%n", r.net(), Norms.format(r.p()),
                    Norms.format(r.q()), r.eps(), r.cell(), r.eta(), r.stepRatio(), r.trajGap()));
            System.out.printf(Locale.ROOT, " %-4s %4s %4s %8.1e %8d %9.2e %9.2e %9.2e%n", r.net(), Norms.format(r.p()),
                    Norms.format(r.q()), r.eps(), r.cell(), r.eta(), r.stepRatio(), r.trajGap());
        }
        Path out = Path.of("target", "theorem1-breakdown.csv");
        Files.createDirectories(out.getParent());
        Files.writeString(out, csv.toString());

        for (String which : new String[] {"mlp", "cnn"}) {
            List<Row> mine = rows.stream().filter(r -> r.net().equals(which)).toList();
            for (double p : new double[] {2, INF}) {
                List<Row> series = mine.stream().filter(r -> r.p() == p).toList();
                if (series.isEmpty()) {
                    continue;
                }
                Row first = series.get(0), last = series.get(series.size() - 1);
                assertEquals(0, first.cell(), which + " p=" + p + ": smallest eps should stay in the cell");
                assertTrue(first.stepRatio() <= 1, which + " p=" + p + ": steps differ inside the cell: " + first);
                assertTrue(last.cell() > 0, which + " p=" + p + ": the largest eps should leave the cell: " + last);
            }
        }
    }
}
