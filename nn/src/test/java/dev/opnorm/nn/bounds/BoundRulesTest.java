package dev.opnorm.nn.bounds;

import dev.opnorm.linalg.Jacobians;
import dev.opnorm.nn.Shape;
import dev.opnorm.nn.Tensor;
import dev.opnorm.nn.kernels.Kernels;
import dev.opnorm.nn.kernels.VectorKernels;
import dev.opnorm.nn.layers.AvgPool2d;
import dev.opnorm.nn.layers.BatchNorm2d;
import dev.opnorm.nn.layers.BnMode;
import dev.opnorm.nn.layers.Conv2d;
import dev.opnorm.nn.layers.Flatten;
import dev.opnorm.nn.layers.Layer;
import dev.opnorm.nn.layers.Linear;
import dev.opnorm.nn.layers.MaxPool2d;
import dev.opnorm.nn.layers.PreActBlock;
import dev.opnorm.nn.layers.ReLU;
import dev.opnorm.nn.layers.Sequential;
import org.ejml.data.DMatrixRMaj;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Every layer's interval rule against the layer itself: for random boxes, the layer's forward output at
 * points of the box lies in the output box, and its extracted Jacobian lies in the pulled-back identity
 * rows (1e-5 relative for the float layer's rounding). At a zero-width box both are tight.
 */
class BoundRulesTest {
    static final Kernels K = new VectorKernels(1);

    record Case(Layer layer, Shape in) {}

    static List<Case> cases() {
        SplittableRandom r = new SplittableRandom(3);
        BatchNorm2d bn = new BatchNorm2d("bn", 3, true, K);
        Layer[] ls = {
                new Conv2d("conv", 2, 3, 3, 3, 2, 1, true, K),
                new Conv2d("conv1x1", 2, 3, 1, 1, 1, 0, false, K),
                new Linear("lin", 8, 5, true, K),
                new ReLU("relu", K),
                bn,
                new MaxPool2d("pool", 3, 1, 1, K),
                new MaxPool2d("pool2", 2),
                new AvgPool2d("avg", 3, 2, 1, K),
                AvgPool2d.global("gap", K),
                new Flatten("flat", K),
                new PreActBlock("block", 3, 4, 2, K),
                new Sequential("seq", new Conv2d("0", 3, 2, 3, 3, 1, 1, true, K), new ReLU("1", K),
                        new MaxPool2d("2", 2), new Flatten("3", K), new Linear("4", 8, 3, true, K)),
        };
        Shape[] ins = {new Shape(1, 2, 5, 5), new Shape(1, 2, 4, 4), new Shape(1, 8, 1, 1), new Shape(1, 3, 4, 4),
                new Shape(1, 3, 4, 4), new Shape(1, 3, 4, 4), new Shape(1, 3, 4, 4), new Shape(1, 3, 5, 5),
                new Shape(1, 3, 4, 4), new Shape(1, 3, 2, 2), new Shape(1, 3, 4, 4), new Shape(1, 3, 4, 4)};
        List<Case> out = new java.util.ArrayList<>();
        for (int i = 0; i < ls.length; i++) {
            ls[i].initParameters(r);
            for (var b : ls[i].buffers()) {
                for (int j = 0; j < b.value.length; j++) {
                    b.value[j] = b.name().contains("var") ? (float) (0.3 + r.nextDouble()) : (float) r.nextGaussian();
                }
            }
            out.add(new Case(ls[i], ins[i]));
        }
        return out;
    }

    @Test
    void forwardAndJacobianAtPointsOfTheBoxLieInTheBounds() {
        SplittableRandom r = new SplittableRandom(5);
        for (Case c : cases()) {
            for (double width : new double[]{0, 0.05, 0.5}) {
                int n = c.in().size();
                float[] x = new float[n];
                double[] lo = new double[n], hi = new double[n];
                for (int j = 0; j < n; j++) {
                    x[j] = (float) (2 * r.nextDouble() - 1);
                    lo[j] = x[j] - width * r.nextDouble();
                    hi[j] = x[j] + width * r.nextDouble();
                }
                BoundStep step = c.layer().bounds().over(new Box(c.in(), lo, hi));
                int m = step.output().size();
                double[][] eye = new double[m][m];
                for (int i = 0; i < m; i++) {
                    eye[i][i] = 1;
                }
                IntervalRows jac = step.pullback(IntervalRows.exact(eye));
                assertEquals(n, jac.cols(), c.layer().name());
                for (int s = 0; s < (width == 0 ? 1 : 30); s++) {
                    float[] y = new float[n];
                    for (int j = 0; j < n; j++) {
                        y[j] = s == 0 ? x[j] : (float) (lo[j] + (hi[j] - lo[j]) * r.nextDouble());
                        y[j] = (float) Math.min(hi[j], Math.max(lo[j], y[j]));
                    }
                    String what = c.layer().name() + " width " + width + " sample " + s;
                    float[] f = c.layer().forward(new Tensor(c.in(), y)).data;
                    for (int i = 0; i < m; i++) {
                        double tol = 1e-5 * (1 + Math.abs(f[i]));
                        assertTrue(step.output().lo()[i] - tol <= f[i] && f[i] <= step.output().hi()[i] + tol,
                                what + " output " + i + ": " + f[i] + " not in [" + step.output().lo()[i] + ", "
                                        + step.output().hi()[i] + "]");
                    }
                    DMatrixRMaj j = Jacobians.extract(c.layer().linearize(new Tensor(c.in(), y), BnMode.EVAL).asLinearMap(0));
                    for (int i = 0; i < m; i++) {
                        for (int t = 0; t < n; t++) {
                            double v = j.get(i, t), tol = 1e-5 * (1 + Math.abs(v));
                            assertTrue(jac.lo(i, t) - tol <= v && v <= jac.hi(i, t) + tol,
                                    what + " J(" + i + "," + t + ") = " + v + " not in [" + jac.lo(i, t) + ", " + jac.hi(i, t) + "]");
                        }
                    }
                }
                if (width == 0) { // zero-width box: tight up to double rounding, except where ReLU sits at a kink
                    for (int i = 0; i < m; i++) {
                        assertTrue(step.output().hi()[i] - step.output().lo()[i] <= 1e-12 * (1 + Math.abs(step.output().hi()[i])),
                                c.layer().name() + " output width at a point");
                    }
                }
            }
        }
    }

    @Test
    void outwardRoundingBracketsTheExactValue() {
        // 0.1 + 0.2 is not a double: the bounds must straddle the exact sum, in rationals
        double lo = Outward.addDown(0.1, 0.2), hi = Outward.addUp(0.1, 0.2);
        java.math.BigDecimal exact = new java.math.BigDecimal(0.1).add(new java.math.BigDecimal(0.2));
        assertTrue(new java.math.BigDecimal(lo).compareTo(exact) < 0 && new java.math.BigDecimal(hi).compareTo(exact) > 0);
        double ml = Outward.mulLo(-0.1, 0.3, 0.7, 0.9), mh = Outward.mulHi(-0.1, 0.3, 0.7, 0.9);
        assertTrue(new java.math.BigDecimal(ml).compareTo(new java.math.BigDecimal(-0.1).multiply(new java.math.BigDecimal(0.9))) <= 0);
        assertTrue(new java.math.BigDecimal(mh).compareTo(new java.math.BigDecimal(0.3).multiply(new java.math.BigDecimal(0.9))) >= 0);
        double[] l = new double[1], h = new double[1];
        Outward.closeSum(1.0, 0.0, 1.0, 1, l, h, 0);
        assertTrue(l[0] < 1 && h[0] > 1 && h[0] - l[0] < 1e-14);
    }

    /**
     * Every rule pulls a batch of interval rows back as each row on its own, bit for bit: the convolutions'
     * batched form (rows innermost, input channels in parallel) against one row at a time, on rows with
     * entries zero outside a rectangle that differs per row (and one all-zero row), strides 1 and 2.
     */
    @Test
    void aBatchOfRowsPullsBackAsEachRowAlone() {
        SplittableRandom r = new SplittableRandom(9);
        for (Case c : cases()) {
            Box in = new Box(c.in(), new double[c.in().size()], new double[c.in().size()]);
            for (int j = 0; j < in.size(); j++) {
                in.lo()[j] = r.nextDouble() - 0.8;
                in.hi()[j] = in.lo()[j] + r.nextDouble();
            }
            BoundStep step = c.layer().bounds().over(in);
            Shape out = step.output().shape();
            int rows = 6, n = out.size();
            double[] lo = new double[rows * n], hi = new double[rows * n];
            for (int row = 0; row < rows - 1; row++) {
                int ch = r.nextInt(out.c()), y0 = r.nextInt(out.h()), x0 = r.nextInt(out.w());
                for (int k = ch; k < out.c(); k++) {
                    for (int y = y0; y < out.h(); y++) {
                        for (int x = x0; x < out.w(); x++) {
                            int q = row * n + (k * out.h() + y) * out.w() + x;
                            lo[q] = r.nextGaussian();
                            hi[q] = lo[q] + (r.nextBoolean() ? 0 : r.nextDouble());
                        }
                    }
                }
            }
            IntervalRows batch = step.pullback(new IntervalRows(rows, n, lo, hi));
            for (int row = 0; row < rows; row++) {
                IntervalRows one = step.pullback(new IntervalRows(1, n, java.util.Arrays.copyOfRange(lo, row * n, (row + 1) * n),
                        java.util.Arrays.copyOfRange(hi, row * n, (row + 1) * n)));
                int m = one.cols();
                assertTrue(java.util.Arrays.equals(one.lo(), java.util.Arrays.copyOfRange(batch.lo(), row * m, (row + 1) * m))
                        && java.util.Arrays.equals(one.hi(), java.util.Arrays.copyOfRange(batch.hi(), row * m, (row + 1) * m)),
                        c.layer().name() + " row " + row);
            }
        }
    }
}
