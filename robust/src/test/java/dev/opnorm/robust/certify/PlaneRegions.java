package dev.opnorm.robust.certify;

import dev.opnorm.linalg.ExactNorms;
import dev.opnorm.nn.layers.Linear;
import dev.opnorm.nn.layers.Sequential;
import org.ejml.data.DMatrixRMaj;

import java.util.ArrayList;
import java.util.List;

/**
 * The exact supremum of ||J(x')||_{p,q} over a polygonal ball (l1 or l_inf) in the plane for a network
 * Linear(2->h) - ReLU - Linear(h->k): J = W2 diag(s) W1 on the open cell of activation pattern s, so
 * the supremum is the largest norm over the patterns whose cell meets the ball in a set of positive
 * area (the ReLU'(0) = 0 points on cell borders have the Jacobian of an adjacent cell: with lines in
 * general position every sign combination around a border point is a cell). Cells are found by
 * clipping the ball polygon with each of the 2^h patterns' half-planes (Sutherland-Hodgman).
 */
final class PlaneRegions {
    private final int h;
    private final int k;
    private final double[] w1;
    private final double[] b1;
    private final double[] w2;

    PlaneRegions(Sequential net) {
        Linear first = (Linear) net.chain().get(0), last = (Linear) net.chain().get(2);
        h = first.outFeatures();
        k = last.outFeatures();
        w1 = toDouble(first.weight().value);
        b1 = toDouble(first.bias().value);
        w2 = toDouble(last.weight().value);
    }

    private static double[] toDouble(float[] a) {
        double[] d = new double[a.length];
        for (int i = 0; i < a.length; i++) {
            d[i] = a[i];
        }
        return d;
    }

    double supremum(float[] x, double eps, double ballP, double p, double q) {
        List<double[]> ball = new ArrayList<>();
        double cx = x[0], cy = x[1];
        if (ballP == 1) {
            ball.add(new double[]{cx + eps, cy});
            ball.add(new double[]{cx, cy + eps});
            ball.add(new double[]{cx - eps, cy});
            ball.add(new double[]{cx, cy - eps});
        } else {
            ball.add(new double[]{cx - eps, cy - eps});
            ball.add(new double[]{cx + eps, cy - eps});
            ball.add(new double[]{cx + eps, cy + eps});
            ball.add(new double[]{cx - eps, cy + eps});
        }
        double best = -1;
        for (int s = 0; s < 1 << h; s++) {
            List<double[]> poly = ball;
            for (int i = 0; i < h && poly.size() >= 3; i++) {
                double sign = (s >>> i & 1) == 1 ? 1 : -1;
                poly = clip(poly, sign * w1[2 * i], sign * w1[2 * i + 1], sign * b1[i]);
            }
            if (poly.size() < 3 || area(poly) < 1e-14) {
                continue;
            }
            DMatrixRMaj j = new DMatrixRMaj(k, 2);
            for (int r = 0; r < k; r++) {
                for (int c = 0; c < 2; c++) {
                    double v = 0;
                    for (int i = 0; i < h; i++) {
                        if ((s >>> i & 1) == 1) {
                            v += w2[r * h + i] * w1[2 * i + c];
                        }
                    }
                    j.set(r, c, v);
                }
            }
            best = Math.max(best, ExactNorms.of(j, p, q).orElseThrow().value());
        }
        if (best < 0) {
            throw new IllegalStateException("no activation cell meets the ball");
        }
        return best;
    }

    /** The part of the polygon where a x + b y + c &gt;= 0. */
    private static List<double[]> clip(List<double[]> poly, double a, double b, double c) {
        List<double[]> out = new ArrayList<>();
        for (int i = 0; i < poly.size(); i++) {
            double[] u = poly.get(i), v = poly.get((i + 1) % poly.size());
            double fu = a * u[0] + b * u[1] + c, fv = a * v[0] + b * v[1] + c;
            if (fu >= 0) {
                out.add(u);
            }
            if ((fu >= 0) != (fv >= 0)) {
                double t = fu / (fu - fv);
                out.add(new double[]{u[0] + t * (v[0] - u[0]), u[1] + t * (v[1] - u[1])});
            }
        }
        return out;
    }

    private static double area(List<double[]> poly) {
        double s = 0;
        for (int i = 0; i < poly.size(); i++) {
            double[] u = poly.get(i), v = poly.get((i + 1) % poly.size());
            s += u[0] * v[1] - v[0] * u[1];
        }
        return Math.abs(s) / 2;
    }
}
