package dev.opnorm.tests;

import dev.opnorm.linalg.BatchLinearMap;
import dev.opnorm.linalg.DualMaps;
import dev.opnorm.linalg.Norms;
import dev.opnorm.linalg.OperatorNorm;
import dev.opnorm.linalg.StartVectors;
import dev.opnorm.nn.Shape;
import dev.opnorm.nn.Tensor;
import dev.opnorm.nn.kernels.VectorKernels;
import dev.opnorm.nn.layers.BnMode;
import dev.opnorm.nn.layers.Flatten;
import dev.opnorm.nn.layers.Layer;
import dev.opnorm.nn.layers.Linear;
import dev.opnorm.nn.layers.ReLU;
import dev.opnorm.nn.layers.Sequential;
import dev.opnorm.nn.models.Cnn7;
import dev.opnorm.robust.analysis.ActivationPattern;
import dev.opnorm.robust.attack.AdversarialLoss;
import dev.opnorm.robust.attack.Pga;

import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;

/** The two sides of Theorem 1 on a network at a batch of points, and the networks and points used. */
final class Theorem1Support {
    private Theorem1Support() {
    }

    static final double INF = Double.POSITIVE_INFINITY;

    /** Linear(16, 24)-ReLU-Linear(24, 24)-ReLU-Linear(24, 10) on (n, 1, 4, 4) inputs (flattened), no BatchNorm. */
    static Sequential mlp(long seed) {
        var k = new VectorKernels(1);
        Sequential net = new Sequential("mlp", new Flatten("0", k), new Linear("1", 16, 24, true, k),
                new ReLU("2", k), new Linear("3", 24, 24, true, k), new ReLU("4", k), new Linear("5", 24, 10, true, k));
        net.initParameters(new SplittableRandom(seed));
        return net;
    }

    /**
     * The 7-layer CNN at width 1/16 on (n, 1, 32, 32) inputs, BatchNorm in EVAL mode. Its running statistics
     * are first moved to the statistics of random inputs (TRAIN-mode commits, as training would); then every
     * channel's running mean is moved by {@code shift} running standard deviations, up or down at random, so
     * that most units sit well away from their kink (channels mostly on or mostly off, max-pool selections and
     * the remaining near-kink units still varying in space).
     *
     * <p>Why the shift: a freshly initialized CNN on noise inputs has thousands of ReLUs, a few of which are
     * within ~1e-4 (relative) of their kink, so its cells are tiny (measured: at eps = 3e-4 in l2, 1-2 units
     * already flip), while float32 forward differences f(x + eps v) - f(x) carry a relative error of
     * ~1e-6 / (eps/||x||) - at such eps about 1e-2, too coarse to compare iterates. With shift = 3 the ball
     * of l2 radius 3e-3 stays in the cell (verified at every iterate by the tests).
     */
    static Sequential cnn(long seed, double shift) {
        Sequential net = Cnn7.create(1.0 / 16, 1, 10, seed, new VectorKernels(1));
        Tensor calib = points(new Shape(16, 1, 32, 32), seed + 1);
        for (int i = 0; i < 30; i++) {
            net.linearize(calib, BnMode.TRAIN).commit();
        }
        SplittableRandom r = new SplittableRandom(seed + 2);
        for (var b : net.buffers()) {
            if (b.name().endsWith("running_mean")) {
                float[] var = net.buffers().stream().filter(v -> v.name().equals(b.name().replace("running_mean", "running_var")))
                        .findFirst().orElseThrow().value;
                for (int c = 0; c < b.value.length; c++) {
                    b.value[c] += (float) ((r.nextBoolean() ? shift : -shift) * Math.sqrt(var[c]));
                }
            }
        }
        return net;
    }

    /** Points uniform in [-0.5, 0.5]: inside the [-1, 1] domain with a margin, so PGA never clamps. */
    static Tensor points(Shape s, long seed) {
        SplittableRandom r = new SplittableRandom(seed);
        Tensor x = new Tensor(s);
        for (int i = 0; i < x.data.length; i++) {
            x.data[i] = (float) (r.nextDouble() - 0.5);
        }
        return x;
    }

    /** Per example a Gaussian start vector scaled to ||v_0||_p = 1 (the seeds of OperatorNorm's own starts). */
    static float[] startVectors(int n, int per, double p, long seed) {
        float[] v = new float[n * per];
        for (int i = 0; i < n; i++) {
            StartVectors.gaussian(StartVectors.exampleSeed(seed, i), v, i * per, per);
            double norm = Norms.lp(v, i * per, per, p);
            for (int j = i * per; j < (i + 1) * per; j++) {
                v[j] = (float) (v[j] / norm);
            }
        }
        return v;
    }

    /**
     * PGA's side: l_p PGA with the l_q logit loss, alpha = inf, started at x + eps v_0, and its iterates
     * v_k = (x_k - x) / eps (k = 0..iterations, in double), plus per iterate the largest number of ReLU/pooling
     * states (over the batch) that differ from x's pattern.
     */
    record PgaRun(double[][] v, int[] cellDifferences, List<Tensor> iterates) {
        Tensor adversarial() {
            return iterates.get(iterates.size() - 1);
        }
    }

    static PgaRun pga(Layer net, Tensor x, double p, double q, double eps, float[] v0, int iterations) {
        float[] delta = new float[v0.length];
        for (int j = 0; j < delta.length; j++) {
            delta[j] = (float) (eps * v0[j]);
        }
        List<Tensor> xs = new ArrayList<>();
        Pga.lp(p, eps).alpha(INF).iterations(iterations).randomStart(false).loss(AdversarialLoss.logitLq(q))
                .startFrom(delta).onIterate((r, k, xk) -> xs.add(xk.copy())).attackPredicted(net, x);
        ActivationPattern at = ActivationPattern.of(net, x);
        double[][] v = new double[xs.size()][];
        int[] cell = new int[xs.size()];
        for (int k = 0; k < xs.size(); k++) {
            float[] xk = xs.get(k).data;
            v[k] = new double[xk.length];
            for (int j = 0; j < xk.length; j++) {
                v[k][j] = ((double) xk[j] - x.data[j]) / eps;
            }
            for (int d : ActivationPattern.of(net, xs.get(k)).differences(at)) {
                cell[k] = Math.max(cell[k], d);
            }
        }
        return new PgaRun(v, cell, xs);
    }

    /**
     * The power method's side: the (p,q) iteration of {@link OperatorNorm} (alpha = inf, Eq. 12) on the
     * network's Jacobian at x (BatchNorm EVAL), from v_0. OperatorNorm reports the best iterate of a run; in the
     * alpha = inf limit the value ||J v_k||_q never decreases (||J v_k||_q >= &lt;u_k, J v_k&gt; = &lt;J^T u_k, v_k&gt;
     * >= &lt;J^T u_k, v_{k-1}&gt; = ||J v_{k-1}||_q), so a run capped at k + 1 products returns v_k. relTol 0: a
     * run stops early only at an exact fixed point, whose later iterates are the same vector.
     */
    static double[][] powerIterates(Layer net, Tensor x, double p, double q, float[] v0, int iterations) {
        BatchLinearMap j = net.linearize(x, BnMode.EVAL).asBatchLinearMap();
        int n = j.batch(), per = j.inDim();
        double[][] v = new double[iterations + 1][n * per];
        for (int i = 0; i < v0.length; i++) {
            v[0][i] = v0[i];
        }
        for (int k = 1; k <= iterations; k++) {
            var o = new OperatorNorm.Options(k + 1, 0, INF, 1, 0);
            List<OperatorNorm.Result> res = OperatorNorm.estimate(j, p, q, o, v0);
            for (int i = 0; i < n; i++) {
                float[] vi = res.get(i).v();
                for (int t = 0; t < per; t++) {
                    v[k][i * per + t] = vi[t];
                }
            }
        }
        return v;
    }

    /**
     * Outcome of comparing every PGA step with one step of the (p,q) power iteration from PGA's own previous
     * iterate: v'_k = N_p(J^T D_q(J v_{k-1})), J the Jacobian at x (BatchNorm EVAL), computed here with the
     * same {@link DualMaps} the iteration uses.
     *
     * @param maxGap        largest ||v_k - v'_k||_p over steps and examples (excused coordinates left out)
     * @param maxTolerance  largest tolerance applied
     * @param worstRatio    largest gap / tolerance (&lt;= 1 means every step matched to round-off)
     * @param excusedCoords coordinates left out because sign(z_j) is decided by less than the noise (p = inf)
     * @param excusedSteps  example-steps left out because a discrete choice (argmax for q = inf or p = 1, a
     *                      sign of J v for q = 1) is decided by less than the noise
     * @param coords        coordinates compared in all
     * @param steps         example-steps in all
     */
    record StepReport(double maxGap, double maxTolerance, double worstRatio, int excusedCoords, int excusedSteps,
                      long coords, int steps) {
    }

    /**
     * Compares every PGA step with the power step from PGA's previous iterate. Round-off model: PGA sees
     * a = f(x_{k-1}) - f(x), a float difference of two forward passes, instead of eps J v_{k-1}; its relative
     * error eta is measured ({@link #differenceFloor}); the stored iterate adds {@link #storageFloor}. A
     * continuous step must match to {@code tolFactor * (eta + floor)}. A discrete choice (sign or argmax) whose
     * deciding margin, relative to the largest entry, is below {@code tieFactor * eta} can flip under that
     * noise: such coordinates (p = inf) or example-steps (q in {1, inf}, p = 1) are counted, not compared.
     */
    static StepReport compareSteps(Layer net, Tensor x, PgaRun run, double p, double q, double eps,
                                   double tolFactor, double tieFactor) {
        BatchLinearMap j = net.linearize(x, BnMode.EVAL).asBatchLinearMap();
        int n = j.batch(), per = j.inDim(), m = j.outDim();
        double floor = storageFloor(x, p, eps);
        double maxGap = 0, maxTol = 0, worst = 0;
        int excusedCoords = 0, excusedSteps = 0, steps = 0;
        long coords = 0;
        float[] v = new float[n * per], w = new float[n * m], u = new float[n * m], z = new float[n * per],
                next = new float[n * per];
        for (int k = 1; k < run.v().length; k++) {
            double eta = differenceFloor(net, x, run.iterates().get(k - 1));
            double tol = tolFactor * (eta + floor);
            double tie = tieFactor * eta;
            maxTol = Math.max(maxTol, tol);
            for (int t = 0; t < v.length; t++) {
                v[t] = (float) run.v()[k - 1][t];
            }
            j.apply(v, w);
            for (int i = 0; i < n; i++) {
                DualMaps.dual(w, i * m, m, q, u, i * m);
            }
            j.applyTranspose(u, z);
            for (int i = 0; i < n; i++) {
                DualMaps.steepestAscent(z, i * per, per, p, next, i * per);
            }
            for (int i = 0; i < n; i++) {
                steps++;
                boolean ambiguous = (q == INF && relativeTopGap(w, i * m, m) < tie)
                        || (q == 1 && relativeMin(w, i * m, m) < tie)
                        || (p == 1 && relativeTopGap(z, i * per, per) < tie);
                if (ambiguous) {
                    excusedSteps++;
                    continue;
                }
                double zmax = Norms.lp(z, i * per, per, INF);
                double[] d = new double[per];
                for (int t = 0; t < per; t++) {
                    int at = i * per + t;
                    if (p == INF && Math.abs(z[at]) < tie * zmax) {
                        excusedCoords++;
                        continue;
                    }
                    coords++;
                    d[t] = run.v()[k][at] - next[at];
                }
                double gap = Norms.lp(d, p);
                maxGap = Math.max(maxGap, gap);
                worst = Math.max(worst, gap / tol);
            }
        }
        return new StepReport(maxGap, maxTol, worst, excusedCoords, excusedSteps, coords, steps);
    }

    /** (largest |a_i| - second largest |a_i|) / largest, over a slice. */
    private static double relativeTopGap(float[] a, int off, int len) {
        double first = 0, second = 0;
        for (int t = off; t < off + len; t++) {
            double v = Math.abs(a[t]);
            if (v > first) {
                second = first;
                first = v;
            } else if (v > second) {
                second = v;
            }
        }
        return first == 0 ? 0 : (first - second) / first;
    }

    /** smallest |a_i| / largest |a_i| over a slice. */
    private static double relativeMin(float[] a, int off, int len) {
        double min = INF, max = 0;
        for (int t = off; t < off + len; t++) {
            min = Math.min(min, Math.abs(a[t]));
            max = Math.max(max, Math.abs(a[t]));
        }
        return max == 0 ? 0 : min / max;
    }

    /** max over examples of ||a_i - b_i||_p (per-example l_p distance of two iterates). */
    static double gap(double[] a, double[] b, int n, double p) {
        int per = a.length / n;
        double worst = 0;
        for (int i = 0; i < n; i++) {
            double[] d = new double[per];
            for (int t = 0; t < per; t++) {
                d[t] = a[i * per + t] - b[i * per + t];
            }
            worst = Math.max(worst, Norms.lp(d, p));
        }
        return worst;
    }

    /**
     * The round-off floor of PGA's iterates: x_k = x + eps v_k is stored in float, so v_k = (x_k - x)/eps is
     * off by up to ulp(x_j)/(2 eps) per coordinate; this is the l_p norm of that bound for the worst example.
     */
    /** ||(f(x_k) - f(x)) - J (x_k - x)||_2 / ||J (x_k - x)||_2, worst example: the forward difference's round-off inside the cell. */
    static double differenceFloor(Layer net, Tensor x, Tensor xk) {
        var lin = net.linearize(x, BnMode.EVAL);
        float[] f0 = lin.output().data, f1 = net.linearize(xk, BnMode.EVAL).output().data;
        float[] dx = new float[x.data.length];
        for (int j = 0; j < dx.length; j++) {
            dx[j] = xk.data[j] - x.data[j];
        }
        float[] jd = new float[f0.length];
        lin.jvp(dx, jd);
        int n = x.shape.n(), m = f0.length / n;
        double worst = 0;
        for (int i = 0; i < n; i++) {
            double num = 0, den = 0;
            for (int t = i * m; t < (i + 1) * m; t++) {
                double d = (double) f1[t] - f0[t] - jd[t];
                num += d * d;
                den += (double) jd[t] * jd[t];
            }
            worst = Math.max(worst, Math.sqrt(num / den));
        }
        return worst;
    }

    static double storageFloor(Tensor x, double p, double eps) {
        int n = x.shape.n(), per = x.shape.perExample();
        double worst = 0;
        for (int i = 0; i < n; i++) {
            double[] d = new double[per];
            for (int t = 0; t < per; t++) {
                // |x_j| + eps bounds |x_j + eps v_j| (|v_j| <= 1 for every p)
                d[t] = Math.ulp(Math.abs(x.data[i * per + t]) + (float) eps) / (2 * eps);
            }
            worst = Math.max(worst, Norms.lp(d, p));
        }
        return worst;
    }
}
