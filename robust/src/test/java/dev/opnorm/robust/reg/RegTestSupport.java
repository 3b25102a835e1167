package dev.opnorm.robust.reg;

import dev.opnorm.nn.kernels.Kernels;
import dev.opnorm.nn.Shape;
import dev.opnorm.nn.Tensor;
import dev.opnorm.nn.layers.BatchNorm2d;
import dev.opnorm.nn.layers.BnMode;
import dev.opnorm.nn.layers.Conv2d;
import dev.opnorm.nn.layers.DoubleReference;
import dev.opnorm.nn.layers.Flatten;
import dev.opnorm.nn.layers.Layer;
import dev.opnorm.nn.layers.Linear;
import dev.opnorm.nn.layers.MaxPool2d;
import dev.opnorm.nn.layers.Param;
import dev.opnorm.nn.layers.ParamGrads;
import dev.opnorm.nn.layers.ReLU;
import dev.opnorm.nn.layers.Sequential;

import java.util.List;
import java.util.SplittableRandom;
import java.util.function.ToDoubleFunction;

import static org.junit.jupiter.api.Assertions.assertEquals;

/** Tiny models, data and a finite-difference gradient check for the regularizer tests. */
final class RegTestSupport {
    /** Relative float32 slack on inequalities (bounds) and on unit-norm checks. */
    static final double BOUND_SLACK = 1e-5;
    /** Relative agreement of a converged power iteration with EJML's SVD. */
    static final double SIGMA_REL = 1e-4;
    /**
     * Relative agreement of a float32 network difference f(x + eps v) - f(x) with eps J v (small eps: round-off
     * of the two forward passes dominates).
     */
    static final double FLOAT_DIFFERENCE_REL = 2e-2;
    /** Relative agreement of two float32 computations of the same penalty value by different routes. */
    static final double VALUE_ROUTES_REL = 1e-3;
    /** Relative l2 agreement of two float32 computations of the same gradient by different routes. */
    static final double GRADIENT_ROUTES_REL = 1e-2;
    /** Relative agreement of an analytic directional derivative with a central float32 difference. */
    static final double FD_REL = 2e-2;
    /** Parameter step of the float32 central differences (along a unit-norm direction in parameter space). */
    static final double FD_STEP = 1e-2;
    /**
     * Relative agreement of a float32 analytic directional derivative with a central difference of a
     * double-precision evaluation (the analytic side's float round-off dominates).
     */
    static final double FD_DOUBLE_REL = 2e-3;
    /** Parameter step of double-precision central differences of smooth-in-the-cell values. */
    static final double FD_DOUBLE_STEP = 1e-5;
    /** Parameter step of double-precision central differences of values that contain a JVP. */
    static final double FD_DOUBLE_STEP_JVP = 1e-5;
    /** Input step of the double-precision JVP (exact inside an activation cell of a piecewise-linear net). */
    static final double JVP_STEP = 1e-6;

    private RegTestSupport() {
    }

    /** (n, 2, 4, 4) -> conv3x3 -> BN(affine) -> ReLU -> maxpool2 -> conv3x3 -> ReLU -> flatten -> linear(24, 5). */
    static Sequential smallCnn(long seed) {
        Sequential net = new Sequential("cnn", new Sequential("features",
                new Conv2d("0", 2, 4, 3, 1, 1, true), new BatchNorm2d("1", 4, true), new ReLU("2"),
                new MaxPool2d("3", 2), new Conv2d("4", 4, 6, 3, 1, 1, true), new ReLU("5"), new Flatten("6")),
                new Linear("classifier", 24, 5, true));
        net.initParameters(new SplittableRandom(seed));
        // a BN with non-trivial gamma/beta and running statistics, so every term of the gradient is exercised
        BatchNorm2d bn = (BatchNorm2d) ((Sequential) net.child("features")).child("1");
        SplittableRandom r = new SplittableRandom(seed + 1);
        for (int c = 0; c < 4; c++) {
            bn.weight().value[c] = (float) (0.5 + r.nextDouble());
            bn.bias().value[c] = (float) (0.2 * r.nextGaussian());
            bn.runningMean().value[c] = (float) (0.1 * r.nextGaussian());
            bn.runningVar().value[c] = (float) (0.3 + r.nextDouble());
        }
        return net;
    }

    static Shape smallCnnInput(int n) {
        return new Shape(n, 2, 4, 4);
    }

    /** (n, 3, 2, 2) -> flatten -> linear(12, 16) -> ReLU -> linear(16, 5). */
    static Sequential mlp(long seed) {
        Sequential net = new Sequential("mlp", new Flatten("0"), new Linear("1", 12, 16, true), new ReLU("2"),
                new Linear("3", 16, 5, true));
        net.initParameters(new SplittableRandom(seed));
        return net;
    }

    static Tensor gaussian(Shape s, long seed) {
        SplittableRandom r = new SplittableRandom(seed);
        float[] a = new float[s.size()];
        for (int i = 0; i < a.length; i++) {
            a[i] = (float) r.nextGaussian();
        }
        return new Tensor(s, a);
    }

    static float[] gaussian(int n, long seed) {
        return gaussian(Shape.features(1, n), seed).data;
    }

    static int[] labels(int n, int classes, long seed) {
        SplittableRandom r = new SplittableRandom(seed);
        int[] y = new int[n];
        for (int i = 0; i < n; i++) {
            y[i] = r.nextInt(classes);
        }
        return y;
    }

    /**
     * Checks that the gradient the regularizer accumulated into {@code grads} matches central differences of
     * {@code value} (evaluated with the parameters moved) along {@code directions} random unit directions in
     * the space of all the model's parameters.
     */
    static void checkDirectionalDerivatives(Layer model, ParamGrads grads, ToDoubleFunction<Layer> value,
            int directions, long seed) {
        List<Param> ps = model.params();
        for (int k = 0; k < directions; k++) {
            SplittableRandom r = new SplittableRandom(seed + 31L * k);
            float[][] d = new float[ps.size()][];
            double norm = 0;
            for (int i = 0; i < ps.size(); i++) {
                d[i] = new float[ps.get(i).size()];
                for (int j = 0; j < d[i].length; j++) {
                    d[i][j] = (float) r.nextGaussian();
                    norm += (double) d[i][j] * d[i][j];
                }
            }
            double analytic = 0;
            for (int i = 0; i < ps.size(); i++) {
                float[] g = grads.has(ps.get(i)) ? grads.of(ps.get(i)) : new float[ps.get(i).size()];
                for (int j = 0; j < d[i].length; j++) {
                    d[i][j] = (float) (d[i][j] / Math.sqrt(norm));
                    analytic += (double) g[j] * d[i][j];
                }
            }
            float[][] saved = new float[ps.size()][];
            for (int i = 0; i < ps.size(); i++) {
                saved[i] = ps.get(i).value.clone();
            }
            move(ps, saved, d, FD_STEP);
            double plus = value.applyAsDouble(model);
            move(ps, saved, d, -FD_STEP);
            double minus = value.applyAsDouble(model);
            move(ps, saved, d, 0);
            double fd = (plus - minus) / (2 * FD_STEP);
            double scale = Math.max(Math.abs(fd), Math.abs(analytic));
            assertEquals(fd, analytic, FD_REL * scale + 1e-6,
                    "direction " + k + ": central difference " + fd + " vs analytic " + analytic);
        }
    }

    /**
     * As {@link #checkDirectionalDerivatives}, but the reference value is computed in double precision on
     * the double copies of the parameters held by a {@link DoubleReference} (the float model is not
     * touched), with step {@code h}. A double central difference with a tiny step is accurate to round-off
     * and almost never crosses a ReLU kink or a pooling tie, so it can check gradients of values that are
     * discontinuous in the parameters (values containing J, which jumps when the activation pattern changes).
     */
    static void checkAgainstDouble(Layer model, ParamGrads grads, ToDoubleFunction<DoubleReference> value,
            double h, int directions, long seed) {
        List<Param> ps = model.params();
        DoubleReference ref = new DoubleReference(model);
        for (int k = 0; k < directions; k++) {
            SplittableRandom r = new SplittableRandom(seed + 31L * k);
            double[][] d = new double[ps.size()][];
            double norm = 0;
            for (int i = 0; i < ps.size(); i++) {
                d[i] = new double[ps.get(i).size()];
                for (int j = 0; j < d[i].length; j++) {
                    d[i][j] = r.nextGaussian();
                    norm += d[i][j] * d[i][j];
                }
            }
            double analytic = 0;
            for (int i = 0; i < ps.size(); i++) {
                float[] g = grads.has(ps.get(i)) ? grads.of(ps.get(i)) : new float[ps.get(i).size()];
                for (int j = 0; j < d[i].length; j++) {
                    d[i][j] /= Math.sqrt(norm);
                    analytic += g[j] * d[i][j];
                }
            }
            moveDouble(ref, ps, d, h);
            double plus = value.applyAsDouble(ref);
            moveDouble(ref, ps, d, -h);
            double minus = value.applyAsDouble(ref);
            moveDouble(ref, ps, d, 0);
            double fd = (plus - minus) / (2 * h);
            double scale = Math.max(Math.abs(fd), Math.abs(analytic));
            assertEquals(fd, analytic, FD_DOUBLE_REL * scale + 1e-9,
                    "direction " + k + ": double central difference " + fd + " vs analytic " + analytic);
        }
    }

    private static void moveDouble(DoubleReference ref, List<Param> ps, double[][] d, double h) {
        for (int i = 0; i < ps.size(); i++) {
            double[] v = ref.param(ps.get(i));
            float[] base = ps.get(i).value;
            for (int j = 0; j < v.length; j++) {
                v[j] = base[j] + h * d[i][j];
            }
        }
    }

    /** f(x) in double. */
    static double[] forward(DoubleReference ref, Layer model, float[] x, Shape s, BnMode mode) {
        return ref.forward(model, new DoubleReference.D(s, toDouble(x)), mode).data();
    }

    /** J t in double by a central difference of f along t with step {@link #JVP_STEP} (exact inside a cell). */
    static double[] jvp(DoubleReference ref, Layer model, float[] x, Shape s, float[] t, BnMode mode) {
        double[] xp = new double[x.length], xm = new double[x.length];
        for (int i = 0; i < x.length; i++) {
            xp[i] = x[i] + JVP_STEP * t[i];
            xm[i] = x[i] - JVP_STEP * t[i];
        }
        double[] fp = ref.forward(model, new DoubleReference.D(s, xp), mode).data();
        double[] fm = ref.forward(model, new DoubleReference.D(s, xm), mode).data();
        double[] out = new double[fp.length];
        for (int i = 0; i < out.length; i++) {
            out[i] = (fp[i] - fm[i]) / (2 * JVP_STEP);
        }
        return out;
    }

    static double[] toDouble(float[] a) {
        double[] d = new double[a.length];
        for (int i = 0; i < a.length; i++) {
            d[i] = a[i];
        }
        return d;
    }

    static double dot(float[] a, int ao, double[] b, int bo, int len) {
        double s = 0;
        for (int i = 0; i < len; i++) {
            s += a[ao + i] * b[bo + i];
        }
        return s;
    }

    private static void move(List<Param> ps, float[][] saved, float[][] d, double h) {
        for (int i = 0; i < ps.size(); i++) {
            float[] v = ps.get(i).value;
            for (int j = 0; j < v.length; j++) {
                v[j] = (float) (saved[i][j] + h * d[i][j]);
            }
        }
    }

    /** Steps TRAIN-mode commits so the EVAL-mode network sees calibrated BN statistics. */
    static void calibrate(Layer net, Tensor x) {
        for (int i = 0; i < 20; i++) {
            net.linearize(x, BnMode.TRAIN).commit();
        }
    }

    /**
     * The fixed network of the regularizers' bit-pinning tests on kernels k (ScalarKernels and VectorKernels
     * give the same bits, at every vector width and thread count):
     * conv - BatchNorm (random affine and running statistics) - ReLU - max pool - conv - ReLU - flatten - linear.
     */
    static Sequential bitsNetwork(long seed, Kernels k) {
        Sequential net = new Sequential("cnn", new Sequential("features",
                new Conv2d("0", 2, 4, 3, 3, 1, 1, true, k), new BatchNorm2d("1", 4, true, k), new ReLU("2", k),
                new MaxPool2d("3", 2, 2, 0, k), new Conv2d("4", 4, 6, 3, 3, 1, 1, true, k), new ReLU("5", k),
                new Flatten("6", k)), new Linear("classifier", 24, 5, true, k));
        net.initParameters(new SplittableRandom(seed));
        BatchNorm2d bn = (BatchNorm2d) ((Sequential) net.child("features")).child("1");
        SplittableRandom r = new SplittableRandom(seed + 1);
        for (int c = 0; c < 4; c++) {
            bn.weight().value[c] = (float) (0.5 + r.nextDouble());
            bn.bias().value[c] = (float) (0.2 * r.nextGaussian());
            bn.runningMean().value[c] = (float) (0.1 * r.nextGaussian());
            bn.runningVar().value[c] = (float) (0.3 + r.nextDouble());
        }
        return net;
    }
}
